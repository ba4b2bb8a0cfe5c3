/* sipmsg.h - SIP requests for sipredirect and t38recv's live mode: parse
 * (libosip2), pick out what the UM side needs, and format the responses of
 * RFC 3261 8.2.6 by hand.
 *
 * A struct umfax_sip_msg holds one parsed request.  Strings in it point into
 * the osip message or into the struct itself and live until
 * umfax_sip_msg_release().  Everything that came off the network stays raw
 * here; clean it (umfax_log_quote, umfax_job_clean) before logging it. */
#ifndef UMFAX_SIPMSG_H
#define UMFAX_SIPMSG_H

#include <stddef.h>

#define UMFAX_SIP_MAX_MSG      65535   /* bytes in one SIP message */
#define UMFAX_SIP_MAX_HIST     6       /* History-Info entries read */
#define UMFAX_SIP_MAX_DIV      8       /* Diversion entries read */
#define UMFAX_SIP_MAX_URI      512     /* bytes of a URI we keep */

struct umfax_sip_msg {
	void *osip;               /* osip_message_t * */
	const char *method;       /* "INVITE", ... */
	const char *ruri_user;    /* Request-URI user part or "" */
	const char *to_user;      /* To URI user part or "" */
	char call_id[256];        /* Call-ID value ("" if absent) */
	unsigned long cseq;
	const char *cseq_method;
	const char *branch;       /* top Via branch or "" */
	const char *from_tag;     /* "" if none */
	const char *to_tag;       /* "" if none */
	const char *from_name;    /* From display name, unquoted, or "" */
	char from_uri[UMFAX_SIP_MAX_URI];
	char from_user[128];      /* From URI user part (the caller id) or "" */
	char to_uri[UMFAX_SIP_MAX_URI];
	char ruri[UMFAX_SIP_MAX_URI];
	/* Diversion entries in header order (the top one is the latest diversion),
	 * History-Info entries sorted by their index parameter. */
	int ndiv, nhist;
	char div[UMFAX_SIP_MAX_DIV][UMFAX_SIP_MAX_URI];
	char hist[UMFAX_SIP_MAX_HIST][UMFAX_SIP_MAX_URI];
	char hist_index[UMFAX_SIP_MAX_HIST][32];   /* "1.1", "" when absent */
	char name_buf[128];
};

/* The Diversion entries as one header value "<u1>, <u2>" and the History-Info
 * entries as "<u1>;index=1, <u2>;index=1.1" (sorted, at most 6), for
 * umfax_dir_resolve.  Return the length, or -1 when DST is too small. */
int umfax_sip_diversion_value(const struct umfax_sip_msg *m, char *dst, size_t n);
int umfax_sip_history_value(const struct umfax_sip_msg *m, char *dst, size_t n);

/* Call once per process before any parse (libosip2's parser_init). */
void umfax_sip_init(void);

/* Let libosip2 allocate from a reusable arena instead of malloc: parsing a
 * request makes dozens of small allocations, all freed together.  The arena
 * (SIZE bytes) is reset whenever every block taken from it has been freed;
 * when it is full, allocations fall back to malloc.  For a process that
 * parses one message at a time (sipredirect).  0 or -1 (no memory). */
int umfax_sip_arena_enable(size_t size);
/* Allocations served from the arena and from malloc since enabling (tests). */
void umfax_sip_arena_stats(unsigned long *arena, unsigned long *fallback);

/* 1 if BUF starts with a response status line ("SIP/2.0 "). */
int umfax_sip_is_response(const char *buf, size_t len);
/* Method token at the start of a request line into M (size N); 0 or -1. */
int umfax_sip_peek_method(const char *buf, size_t len, char *m, size_t n);

/* Parse one request.  Returns 0, or -1 with a one-line reason in ERR when the
 * message is not a well-formed request with Via, From, To, Call-ID and CSeq
 * (whose method must be the request's; an ACK with "INVITE" there is taken).
 * When -1 is returned and answerable is set to 1, the message had enough
 * (Via, From, To, Call-ID, CSeq) to send a 400 with umfax_sip_response(). */
int umfax_sip_msg_parse(struct umfax_sip_msg *m, const char *buf, size_t len,
    int *answerable, char *err, size_t errlen);
void umfax_sip_msg_release(struct umfax_sip_msg *m);

/* The transaction key of a request without a full parse (for ACKs on the
 * hot path): "Call-ID\nCSeq-number\nFrom-tag\ntop-Via-branch", the same
 * string sipredir.c builds from a parsed request.  Scans the header lines
 * (compact forms too).  0, or -1 when a part is missing or odd (the caller
 * then falls back to a full parse). */
int umfax_sip_fast_key(const char *buf, size_t len, char *key, size_t kn);

/* Extract the number-ish identity of a SIP or tel URI (the user part of a
 * sip:/sips: URI without its parameters, or the number of a tel: URI) into
 * DST (size N).  Returns 0, or -1 when URI has none. */
int umfax_sip_uri_user(const char *uri, char *dst, size_t n);

/* Format a response to request M (RFC 3261 8.2.6: Via, From, To, Call-ID,
 * CSeq copied; a To tag added when the request had none).  EXTRA is a block
 * of complete header lines ("Name: value\r\n"...) or NULL.  Returns the length
 * written (without NUL), or -1 when OUT (size N) is too small or the request
 * lacks the headers. */
int umfax_sip_response(char *out, size_t n, const struct umfax_sip_msg *m,
    int code, const char *reason, const char *totag, const char *extra);

/* The same with a message body (BODY may be NULL; Content-Type goes in EXTRA). */
int umfax_sip_response_body(char *out, size_t n, const struct umfax_sip_msg *m,
    int code, const char *reason, const char *totag, const char *extra,
    const char *body);

/* 1 if the SDP in BUF (LEN bytes) offers T.38: an "m=image PORT udptl t38"
 * (or tcptl) line with a non-zero port. */
int umfax_sip_sdp_is_t38(const char *buf, size_t len);

/* A To tag for M that is the same for every retransmission of the request
 * (a keyed hash of Call-ID, From tag and top Via branch).  SALT is a per-process
 * random value.  DST needs 17 bytes. */
void umfax_sip_totag(const struct umfax_sip_msg *m, unsigned long long salt,
    char dst[17]);

/* %-escape SRC into DST (size N) for use inside a URI header value (RFC 3261
 * 19.1.1 hvalue): unreserved and "[]/?+$" stay, the rest becomes %XX.  When
 * PARAM is 1, the set is that of a URI parameter value (paramchar) instead.
 * Returns the length, or -1 when DST is too small. */
int umfax_sip_escape(char *dst, size_t n, const char *src, int param);

/* Standard base64 of LEN bytes of SRC into DST (size N, NUL-terminated).
 * Returns the length or -1. */
int umfax_sip_base64(char *dst, size_t n, const void *src, size_t len);

/* The UM context of PROTOCOL.md 1: form-encoded
 * CallId=...&CallerId=...&Extension=...&PhoneContext=...&CallerIdDisplayName=...
 * (empty values left out, CallId always present), base64'd, into DST.
 * Returns the length or -1. */
int umfax_sip_um_context(char *dst, size_t n, const char *call_id,
    const char *caller_id, const char *extension, const char *phone_context,
    const char *display_name);

/* The Referred-By value <sip:HOST;msExchUMFaxRecipient=smtp:ADDR;msExchUMContext=CTX>
 * with CTX %-escaped as a URI parameter.  Returns the length or -1. */
int umfax_sip_referred_by(char *dst, size_t n, const char *host,
    const char *addr, const char *context_b64);

/* Contact header value for a redirect: <FAXURI?Referred-By=ESCAPED>, where
 * FAXURI gets "sip:" prepended when it has no scheme.  Returns length or -1. */
int umfax_sip_redirect_contact(char *dst, size_t n, const char *fax_uri,
    const char *referred_by);

/* The product in the Server header of the responses ("umfax-t38recv"; at most
 * 40 bytes; "umfax-sipredirect" until set).  Once per process, before any
 * response. */
void umfax_sip_set_server(const char *product);

/* Standard reason phrase for CODE ("Moved Temporarily"). */
const char *umfax_sip_reason(int code);

#endif
