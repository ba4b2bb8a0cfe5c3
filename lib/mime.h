/* mime.h - build an Internet message (RFC 5322, MIME) safely from any bytes
 *
 * A message is built into a growing buffer with LF line ends (msmtp turns
 * them into CRLF on the wire).  Every header writer takes values that may
 * have come off the network (caller names, TSIs) and guarantees:
 *   - no CR or LF reaches the message except as a fold or line end;
 *   - header lines are at most UMFAX_MIME_LINE (78) bytes, except a token
 *     header (umfax_mime_header_token), which cannot be folded and is at
 *     most 998;
 *   - non-ASCII text becomes RFC 2047 encoded-words (UTF-8, B), each at
 *     most 75 bytes and never splitting a character; parameters become
 *     RFC 2231 (filename*0*=UTF-8''...);
 *   - the result is valid UTF-8 when decoded: invalid bytes become '?'.
 * Text values are cleaned first: control characters (CR, LF, TAB, ...)
 * become a space, runs of spaces become one, leading and trailing spaces go.
 * Errors (no memory, a value that is not allowed) make the writer return -1
 * and set m->failed; later writes are then no-ops, so a caller may check
 * once at the end. */
#ifndef UMFAX_MIME_H
#define UMFAX_MIME_H

#include <stddef.h>
#include <time.h>

#define UMFAX_MIME_LINE       78      /* longest header line we write */
#define UMFAX_MIME_WORD       75      /* longest encoded-word (RFC 2047) */
#define UMFAX_MIME_TOKEN_MAX  900     /* longest unfoldable token value */
#define UMFAX_MIME_BOUNDARY   64      /* buffer size for a boundary */
#define UMFAX_MIME_PARAM_MAX  1024    /* bytes of a parameter value kept */

struct umfax_mime {
	char *buf;
	size_t len, cap;
	int failed;
};

void umfax_mime_init(struct umfax_mime *m);
void umfax_mime_release(struct umfax_mime *m);

/* Append bytes or formatted text as they are (the caller's own structure:
 * blank lines, boundaries).  0 or -1. */
int umfax_mime_raw(struct umfax_mime *m, const void *p, size_t n);
int umfax_mime_printf(struct umfax_mime *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Header NAME (letters, digits, '-') with unstructured text VALUE (Subject,
 * X- headers): cleaned, encoded where needed, folded.  0 or -1. */
int umfax_mime_header_text(struct umfax_mime *m, const char *name, const char *value);

/* Header NAME with a single token VALUE of printable ASCII without spaces
 * (Message-ID, a count, a base64 context), written on one line; -1 if VALUE
 * is empty, longer than UMFAX_MIME_TOKEN_MAX or has any other byte. */
int umfax_mime_header_token(struct umfax_mime *m, const char *name, const char *value);

/* Address header: "NAME: DISPLAY <ADDR>" (DISPLAY NULL or empty: "<ADDR>").
 * DISPLAY is encoded as a phrase; ADDR must pass umfax_mime_addr_valid. */
int umfax_mime_header_addr(struct umfax_mime *m, const char *name,
    const char *display, const char *addr);

/* Header "NAME: VALUE; PARAM=..." (Content-Type, Content-Disposition).
 * VALUE is a token like "image/tiff" or "attachment".  PVALUE is any text:
 * short printable ASCII without '"' and '\\' is written PARAM="...";
 * anything else as RFC 2231 continuations PARAM*0*=UTF-8''%..; PARAM*1*=...
 * only (no ASCII stand-in: readers that know RFC 2231 prefer the plain
 * form when both are present).
 * EXTRA, if not NULL, is one more "attr=value" parameter written as is
 * (e.g. "charset=UTF-8"); it must be printable ASCII.  PVALUE is cut (on a
 * character boundary) to UMFAX_MIME_PARAM_MAX bytes after cleaning. */
int umfax_mime_header_param(struct umfax_mime *m, const char *name, const char *value,
    const char *extra, const char *param, const char *pvalue);

/* Body writers. */
int umfax_mime_base64(struct umfax_mime *m, const void *data, size_t len);  /* 76-char lines */
int umfax_mime_qp(struct umfax_mime *m, const char *text, size_t len);      /* quoted-printable */

/* 1 if ADDR is a plain addr-spec we will write: dot-atom local part (at
 * most 64), '@', a domain of letters, digits, '-' and dots (at most 253). */
int umfax_mime_addr_valid(const char *addr);

/* A multipart boundary "=_umfax_" + hex that cannot occur in base64 or
 * quoted-printable text (both never produce "=_").  SEED mixes into it. */
char *umfax_mime_boundary(char *buf, size_t n, const char *seed);

/* RFC 5322 date of T in UTC ("Tue, 24 Nov 2026 19:41:06 +0000"), in the C
 * locale whatever the process locale is. */
char *umfax_mime_date(char *buf, size_t n, time_t t);

/* ---- reading our own output back (tests, fuzzing, self-checks) ---------- */

/* Unfold header text IN (remove LF/CRLF before a space) and decode RFC 2047
 * encoded-words (B and Q, UTF-8 and US-ASCII) into OUT (size N), dropping
 * the white space between adjacent encoded-words.  Returns the length, or -1
 * if OUT is too small or an encoded-word is malformed. */
int umfax_mime_decode_text(const char *in, char *out, size_t n);

/* From the (unfolded or not) header value IN, get parameter PARAM, joining
 * RFC 2231 continuations and %-decoding; a plain PARAM="..." is used only
 * when there is no PARAM*.  Length, or -1 if absent or OUT too small. */
int umfax_mime_get_param(const char *in, const char *param, char *out, size_t n);

/* Decode base64 (whitespace ignored).  Returns the length written, or -1 on
 * a bad character or if OUT (size N) is too small. */
long umfax_mime_base64_decode(const char *in, size_t len, unsigned char *out, size_t n);

#endif
