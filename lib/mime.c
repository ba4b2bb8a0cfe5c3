/* mime.c - build an Internet message safely from any bytes (see mime.h) */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "job.h"
#include "mime.h"

#define PLAIN_MAX      70       /* longer words are encoded (so they can be split) */
#define PLAIN_PARAM    60       /* longer parameter values use RFC 2231 */
#define SEGMENT_MAX    76       /* an RFC 2231 segment with its ';' */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
umfax_mime_init(struct umfax_mime *m)
{
	memset(m, 0, sizeof(*m));
}

void
umfax_mime_release(struct umfax_mime *m)
{
	free(m->buf);
	umfax_mime_init(m);
}

static int
fail(struct umfax_mime *m)
{
	m->failed = 1;
	return -1;
}

int
umfax_mime_raw(struct umfax_mime *m, const void *p, size_t n)
{
	if (m->failed)
		return -1;
	if (m->len + n + 1 > m->cap) {
		size_t cap = m->cap ? m->cap : 4096;
		char *nb;
		while (cap < m->len + n + 1) {
			if (cap > SIZE_MAX / 2)
				return fail(m);
			cap *= 2;
		}
		if ((nb = realloc(m->buf, cap)) == NULL)
			return fail(m);
		m->buf = nb;
		m->cap = cap;
	}
	if (n)
		memcpy(m->buf + m->len, p, n);
	m->len += n;
	m->buf[m->len] = '\0';
	return 0;
}

static int
puts_(struct umfax_mime *m, const char *s)
{
	return umfax_mime_raw(m, s, strlen(s));
}

int
umfax_mime_printf(struct umfax_mime *m, const char *fmt, ...)
{
	va_list ap;
	char small[512], *big = NULL;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return fail(m);
	if ((size_t)n < sizeof(small))
		return umfax_mime_raw(m, small, (size_t)n);
	if ((big = malloc((size_t)n + 1)) == NULL)
		return fail(m);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rc = umfax_mime_raw(m, big, (size_t)n);
	free(big);
	return rc;
}

/* ---- header lines ---------------------------------------------------------- */

static int
name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 40)
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			return 0;
	return 1;
}

/* A header being folded: COL is the length of the current line. */
struct hdr {
	struct umfax_mime *m;
	size_t col;
};

static int
hdr_start(struct hdr *h, struct umfax_mime *m, const char *name)
{
	h->m = m;
	if (!name_ok(name))
		return fail(m);
	h->col = strlen(name) + 1;
	if (puts_(m, name) < 0 || puts_(m, ":") < 0)
		return -1;
	return 0;
}

/* Put one unbreakable atom, preceded by a space or, if it would not fit, by
 * a fold (LF + space).  Unfolding gives back exactly one space. */
static int
hdr_atom(struct hdr *h, const char *a, size_t n)
{
	if (h->col + 1 + n > UMFAX_MIME_LINE && h->col > 1) {
		if (puts_(h->m, "\n") < 0)
			return -1;
		h->col = 0;
	}
	if (puts_(h->m, " ") < 0 || umfax_mime_raw(h->m, a, n) < 0)
		return -1;
	h->col += 1 + n;
	return 0;
}

static int
hdr_end(struct hdr *h)
{
	return puts_(h->m, "\n");
}

/* Length of the UTF-8 character at P (valid UTF-8 after cleaning). */
static size_t
u8len(const unsigned char *p, size_t n)
{
	size_t l = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 1;
	return l > n ? n : l;
}

/* Write S (N bytes of clean UTF-8) as encoded-words, splitting on character
 * boundaries; each word fits the line it starts on (folding before it when
 * less than 20 columns are left). */
static int
hdr_encoded(struct hdr *h, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		char w[UMFAX_MIME_WORD + 1];
		size_t avail = UMFAX_MIME_LINE - h->col - 1, cap, take = 0, o;

		if (avail < 20 || h->col <= 1)
			avail = UMFAX_MIME_LINE - 1;
		if (avail > UMFAX_MIME_WORD)
			avail = UMFAX_MIME_WORD;
		cap = (avail - 12) / 4 * 3;        /* bytes that fit in the base64 */
		while (p + take < end) {
			size_t l = u8len(p + take, (size_t)(end - p - take));
			if (take + l > cap)
				break;
			take += l;
		}
		if (take == 0)
			take = u8len(p, (size_t)(end - p));
		memcpy(w, "=?UTF-8?B?", 10);
		o = 10;
		for (size_t i = 0; i < take; i += 3) {
			uint32_t v = (uint32_t)p[i] << 16;
			if (i + 1 < take)
				v |= (uint32_t)p[i + 1] << 8;
			if (i + 2 < take)
				v |= p[i + 2];
			w[o++] = b64[(v >> 18) & 63];
			w[o++] = b64[(v >> 12) & 63];
			w[o++] = i + 1 < take ? b64[(v >> 6) & 63] : '=';
			w[o++] = i + 2 < take ? b64[v & 63] : '=';
		}
		w[o++] = '?';
		w[o++] = '=';
		if (h->col + 1 + o > UMFAX_MIME_LINE && h->col > 1) {
			if (puts_(h->m, "\n") < 0)
				return -1;
			h->col = 0;
		}
		if (puts_(h->m, " ") < 0 || umfax_mime_raw(h->m, w, o) < 0)
			return -1;
		h->col += 1 + o;
		p += take;
	}
	return 0;
}

static int
is_atext(int c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Does word W (N bytes) need encoding?  PHRASE: only atext may stay plain. */
static int
needs_encoding(const char *w, size_t n, int phrase)
{
	if (n > PLAIN_MAX)
		return 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)w[i];
		if (c < 0x21 || c > 0x7e)
			return 1;
		if (c == '=' && i + 1 < n && w[i + 1] == '?')
			return 1;
		if (phrase && !is_atext(c))
			return 1;
	}
	return 0;
}

/* Clean VALUE into a new string (job.h rules). */
static char *
clean_dup(const char *value)
{
	size_t n = strlen(value);
	char *c = malloc(n + 1);

	if (c != NULL)
		umfax_job_clean(c, n + 1, value, n);
	return c;
}

/* The words of clean text S: runs that need encoding (with the spaces
 * between them) become encoded-words, the rest stays as it is. */
static int
hdr_words(struct hdr *h, const char *s, int phrase)
{
	const char *p = s;

	while (*p) {
		const char *we = strchr(p, ' ');
		size_t wl;
		if (we == NULL)
			we = p + strlen(p);
		wl = (size_t)(we - p);
		if (!needs_encoding(p, wl, phrase)) {
			if (hdr_atom(h, p, wl) < 0)
				return -1;
			p = *we ? we + 1 : we;
			continue;
		}
		/* Extend the run over following words that also need encoding. */
		const char *rs = p, *re = we;
		while (*re == ' ') {
			const char *ne = strchr(re + 1, ' ');
			if (ne == NULL)
				ne = re + 1 + strlen(re + 1);
			if (!needs_encoding(re + 1, (size_t)(ne - re - 1), phrase))
				break;
			re = ne;
		}
		if (hdr_encoded(h, rs, (size_t)(re - rs)) < 0)
			return -1;
		p = *re ? re + 1 : re;
	}
	return 0;
}

int
umfax_mime_header_text(struct umfax_mime *m, const char *name, const char *value)
{
	struct hdr h;
	char *c;
	int rc;

	if (m->failed || hdr_start(&h, m, name) < 0)
		return -1;
	if ((c = clean_dup(value ? value : "")) == NULL)
		return fail(m);
	rc = hdr_words(&h, c, 0);
	free(c);
	if (rc < 0)
		return -1;
	return hdr_end(&h);
}

int
umfax_mime_header_token(struct umfax_mime *m, const char *name, const char *value)
{
	size_t n = value ? strlen(value) : 0;

	if (m->failed)
		return -1;
	if (n == 0 || n > UMFAX_MIME_TOKEN_MAX || !name_ok(name))
		return fail(m);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)value[i] < 0x21 || (unsigned char)value[i] > 0x7e)
			return fail(m);
	return umfax_mime_printf(m, "%s: %s\n", name, value);
}

int
umfax_mime_addr_valid(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL, *p;
	size_t ll, dl;

	if (at == NULL || at == addr)
		return 0;
	ll = (size_t)(at - addr);
	dl = strlen(at + 1);
	if (ll > 64 || dl == 0 || dl > 253)
		return 0;
	/* dot-atom local part */
	if (addr[0] == '.' || at[-1] == '.')
		return 0;
	for (p = addr; p < at; p++) {
		if (*p == '.') {
			if (p[1] == '.')
				return 0;
		} else if (!is_atext((unsigned char)*p)) {
			return 0;
		}
	}
	/* domain: labels of letters, digits, '-' */
	for (p = at + 1; *p; p++) {
		if (*p == '.') {
			if (p == at + 1 || p[1] == '.' || p[1] == '\0')
				return 0;
		} else if (!isalnum((unsigned char)*p) && *p != '-') {
			return 0;
		}
	}
	return 1;
}

int
umfax_mime_header_addr(struct umfax_mime *m, const char *name, const char *display,
    const char *addr)
{
	struct hdr h;
	char a[320];

	if (m->failed)
		return -1;
	if (!umfax_mime_addr_valid(addr))
		return fail(m);
	if (hdr_start(&h, m, name) < 0)
		return -1;
	if (display != NULL && *display != '\0') {
		char *c = clean_dup(display);
		int rc;
		if (c == NULL)
			return fail(m);
		if (strlen(c) > 200)   /* a display name has no business being longer */
			c[200] = '\0', umfax_job_clean(c, 201, c, 200);
		rc = hdr_words(&h, c, 1);
		free(c);
		if (rc < 0)
			return -1;
	}
	snprintf(a, sizeof(a), "<%s>", addr);
	if (hdr_atom(&h, a, strlen(a)) < 0)
		return -1;
	return hdr_end(&h);
}

/* RFC 2231 attribute-char, minus the specials some readers stumble on. */
static int
attr_char(int c)
{
	return isalnum(c) || (c != 0 && strchr("!#$&+-.^_`|~", c) != NULL);
}

int
umfax_mime_header_param(struct umfax_mime *m, const char *name, const char *value,
    const char *extra, const char *param, const char *pvalue)
{
	struct hdr h;
	char *c, atom[SEGMENT_MAX + 64];
	size_t vl = value ? strlen(value) : 0, cl;
	int plain = 1;

	if (m->failed)
		return -1;
	if (vl == 0 || vl > 60 || !name_ok(param))
		return fail(m);
	for (size_t i = 0; i < vl; i++)
		if (!isalnum((unsigned char)value[i]) && !strchr("/.+-_", value[i]))
			return fail(m);
	if (extra != NULL) {
		if (strlen(extra) > 70)
			return fail(m);
		for (const char *p = extra; *p; p++)
			if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e || *p == ';')
				return fail(m);
	}
	if (hdr_start(&h, m, name) < 0)
		return -1;
	snprintf(atom, sizeof(atom), "%s;", value);
	if (hdr_atom(&h, atom, strlen(atom)) < 0)
		return -1;
	if (extra != NULL) {
		snprintf(atom, sizeof(atom), "%s;", extra);
		if (hdr_atom(&h, atom, strlen(atom)) < 0)
			return -1;
	}
	if ((c = clean_dup(pvalue ? pvalue : "")) == NULL)
		return fail(m);
	if (strlen(c) > UMFAX_MIME_PARAM_MAX) {     /* cut on a character boundary */
		size_t k = UMFAX_MIME_PARAM_MAX;
		while (k > 0 && ((unsigned char)c[k] & 0xc0) == 0x80)
			k--;
		c[k] = '\0';
	}
	cl = strlen(c);
	if (cl > PLAIN_PARAM)
		plain = 0;
	for (size_t i = 0; i < cl && plain; i++)
		if ((unsigned char)c[i] < 0x20 || (unsigned char)c[i] > 0x7e || c[i] == '"' || c[i] == '\\')
			plain = 0;
	if (plain) {
		snprintf(atom, sizeof(atom), "%s=\"%s\"", param, c);
		if (hdr_atom(&h, atom, strlen(atom)) < 0) {
			free(c);
			return -1;
		}
	} else {
		const unsigned char *p = (const unsigned char *)c, *end = p + cl;
		int seg = 0;
		while (p < end) {
			size_t o = (size_t)snprintf(atom, sizeof(atom), "%s*%d*=%s", param, seg,
			    seg == 0 ? "UTF-8''" : "");
			while (p < end) {
				size_t l = u8len(p, (size_t)(end - p)), need = 0;
				for (size_t i = 0; i < l; i++)
					need += attr_char(p[i]) ? 1 : 3;
				if (o + need + 1 > SEGMENT_MAX)
					break;
				for (size_t i = 0; i < l; i++) {
					if (attr_char(p[i]))
						atom[o++] = (char)p[i];
					else
						o += (size_t)sprintf(atom + o, "%%%02X", p[i]);
				}
				p += l;
			}
			if (p < end)
				atom[o++] = ';';
			atom[o] = '\0';
			if (hdr_atom(&h, atom, o) < 0) {
				free(c);
				return -1;
			}
			seg++;
		}
	}
	free(c);
	return hdr_end(&h);
}

/* ---- bodies ------------------------------------------------------------------ */

int
umfax_mime_base64(struct umfax_mime *m, const void *data, size_t len)
{
	const unsigned char *p = data;
	char line[80];
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		line[o++] = b64[(v >> 18) & 63];
		line[o++] = b64[(v >> 12) & 63];
		line[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		line[o++] = i + 2 < len ? b64[v & 63] : '=';
		if (o == 76) {
			line[o++] = '\n';
			if (umfax_mime_raw(m, line, o) < 0)
				return -1;
			o = 0;
		}
	}
	if (o > 0) {
		line[o++] = '\n';
		return umfax_mime_raw(m, line, o);
	}
	return m->failed ? -1 : 0;
}

int
umfax_mime_qp(struct umfax_mime *m, const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	char line[96];
	size_t o = 0;

	while (p < end) {
		unsigned char c = *p++;
		char enc[4];
		size_t el;

		if (c == '\r')
			continue;
		if (c == '\n') {
			line[o++] = '\n';
			if (umfax_mime_raw(m, line, o) < 0)
				return -1;
			o = 0;
			continue;
		}
		/* Literal: printable ASCII except '='; a space or tab only when
		 * not at the end of a line; "From " at a line start is protected. */
		if (((c >= 33 && c <= 126 && c != '=') ||
		     ((c == ' ' || c == '\t') && p < end && *p != '\n' && *p != '\r'))
		    && !(o == 0 && c == 'F' && end - p >= 4 && memcmp(p, "rom ", 4) == 0)
		    && !(o == 0 && c == '.')) {
			enc[0] = (char)c;
			el = 1;
		} else {
			snprintf(enc, sizeof(enc), "=%02X", c);
			el = 3;
		}
		if (o + el > 75) {
			line[o++] = '=';
			line[o++] = '\n';
			if (umfax_mime_raw(m, line, o) < 0)
				return -1;
			o = 0;
			if (el == 1 && (c == ' ' || c == '\t' || c == '.')) {
				snprintf(enc, sizeof(enc), "=%02X", c);
				el = 3;
			}
		}
		memcpy(line + o, enc, el);
		o += el;
	}
	if (o > 0) {
		/* The text did not end with a line break: end the line softly. */
		line[o++] = '=';
		line[o++] = '\n';
		return umfax_mime_raw(m, line, o);
	}
	return m->failed ? -1 : 0;
}

char *
umfax_mime_boundary(char *buf, size_t n, const char *seed)
{
	uint64_t h = 1469598103934665603ULL, r[2] = { 0, 0 };
	static unsigned counter;

	for (const char *p = seed ? seed : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		r[0] = (uint64_t)time(NULL) * 2654435761ULL;
		r[1] = ((uint64_t)getpid() << 32) ^ ++counter;
	}
	snprintf(buf, n, "=_umfax_%016llx%08llx",
	    (unsigned long long)(h ^ r[0]), (unsigned long long)(r[1] & 0xffffffffULL));
	return buf;
}

char *
umfax_mime_date(char *buf, size_t n, time_t t)
{
	static const char *const day[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, n, "%s, %d %s %04d %02d:%02d:%02d +0000", day[tm.tm_wday % 7], tm.tm_mday,
	    mon[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return buf;
}

/* ---- reading back ---------------------------------------------------------- */

static int
b64val(int c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

long
umfax_mime_base64_decode(const char *in, size_t len, unsigned char *out, size_t n)
{
	uint32_t acc = 0;
	int bits = 0, pad = 0;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)in[i], v;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad || (v = b64val(c)) < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= n)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (long)o;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode one encoded-word W (L bytes) into OUT at *O.  1 done, 0 not an
 * encoded-word, -1 malformed or no room. */
static int
decode_word(const char *w, size_t l, char *out, size_t n, size_t *o)
{
	const char *q1, *q2, *text;
	size_t tl;
	char cs[32];

	if (l < 8 || w[0] != '=' || w[1] != '?' || w[l - 2] != '?' || w[l - 1] != '=')
		return 0;
	q1 = memchr(w + 2, '?', l - 4);
	if (q1 == NULL || q1 + 2 >= w + l - 2 || q1[2] != '?')
		return 0;
	q2 = q1 + 2;
	text = q2 + 1;
	tl = (size_t)(w + l - 2 - text);
	if ((size_t)(q1 - w - 2) >= sizeof(cs))
		return -1;
	memcpy(cs, w + 2, (size_t)(q1 - w - 2));
	cs[q1 - w - 2] = '\0';
	if (strchr(cs, '*'))
		*strchr(cs, '*') = '\0';
	if (strcasecmp(cs, "utf-8") != 0 && strcasecmp(cs, "us-ascii") != 0)
		return -1;
	if (q1[1] == 'B' || q1[1] == 'b') {
		long r = umfax_mime_base64_decode(text, tl, (unsigned char *)out + *o, n - *o);
		if (r < 0)
			return -1;
		*o += (size_t)r;
		return 1;
	}
	if (q1[1] == 'Q' || q1[1] == 'q') {
		for (size_t i = 0; i < tl; i++) {
			int c = (unsigned char)text[i];
			if (c == '_') {
				c = ' ';
			} else if (c == '=') {
				int a, b;
				if (i + 2 >= tl || (a = hexval(text[i + 1])) < 0 || (b = hexval(text[i + 2])) < 0)
					return -1;
				c = a * 16 + b;
				i += 2;
			}
			if (*o >= n)
				return -1;
			out[(*o)++] = (char)c;
		}
		return 1;
	}
	return -1;
}

int
umfax_mime_decode_text(const char *in, char *out, size_t n)
{
	size_t il = strlen(in), o = 0, i = 0;
	char *u = malloc(il + 1);
	int prev_enc = 0;

	if (u == NULL || n == 0) {
		free(u);
		return -1;
	}
	/* Unfold: drop CR and LF (a fold is LF followed by white space). */
	for (size_t k = 0, j = 0; k <= il; k++)
		if (in[k] != '\r' && in[k] != '\n')
			u[j++] = in[k];
	il = strlen(u);
	while (i < il) {
		size_t ws = i, we, te;
		int r;
		while (i < il && (u[i] == ' ' || u[i] == '\t'))
			i++;
		we = i;
		while (i < il && u[i] != ' ' && u[i] != '\t')
			i++;
		te = i;
		if (te == we) {           /* trailing white space */
			if (o + (we - ws) >= n)
				goto toolong;
			memcpy(out + o, u + ws, we - ws);
			o += we - ws;
			break;
		}
		{
			size_t save = o;
			/* Tentatively decode after the white space; drop it if both
			 * neighbours are encoded-words. */
			if (!prev_enc) {
				if (o + (we - ws) >= n)
					goto toolong;
				memcpy(out + o, u + ws, we - ws);
				o += we - ws;
			}
			r = decode_word(u + we, te - we, out, n - 1, &o);
			if (r < 0) {
				free(u);
				return -1;
			}
			if (r == 0) {
				if (prev_enc) {       /* white space after an encoded-word stays */
					o = save;
					if (o + (we - ws) >= n)
						goto toolong;
					memcpy(out + o, u + ws, we - ws);
					o += we - ws;
				}
				if (o + (te - we) >= n)
					goto toolong;
				memcpy(out + o, u + we, te - we);
				o += te - we;
			}
			prev_enc = r == 1;
		}
	}
	free(u);
	out[o] = '\0';
	return (int)o;
toolong:
	free(u);
	return -1;
}

/* Parse "value; a=b; c*0*=..." and call back for each parameter. */
int
umfax_mime_get_param(const char *in, const char *param, char *out, size_t n)
{
	size_t il = strlen(in), pl = strlen(param), plain_len = 0;
	char *u = malloc(il + 1), *p, *plain = NULL;
	char *segs[100];
	int segenc[100], nsegs = 0, single = -1, rc = -1;

	if (u == NULL || n == 0) {
		free(u);
		return -1;
	}
	memset(segs, 0, sizeof(segs));
	for (size_t k = 0, j = 0; k <= il; k++)
		if (in[k] != '\r' && in[k] != '\n')
			u[j++] = in[k];
	p = strchr(u, ';');
	for (int more = p != NULL; more; ) {
		char *a, *ae, *v, *ve;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		a = p;
		while (*p && *p != '=' && *p != ';')
			p++;
		if (*p != '=') {
			more = *p == ';';
			continue;
		}
		ae = p++;
		while (ae > a && (ae[-1] == ' ' || ae[-1] == '\t'))
			ae--;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '"') {
			v = ++p;
			char *w = v;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				*w++ = *p++;
			}
			ve = w;
			if (*p == '"')
				p++;
		} else {
			v = p;
			while (*p && *p != ';' && *p != ' ' && *p != '\t')
				p++;
			ve = p;
		}
		while (*p && *p != ';')
			p++;
		more = *p == ';';     /* before the NULs: VE may be that ';' */
		*ve = '\0';
		*ae = '\0';
		if (strncasecmp(a, param, pl) != 0)
			continue;
		if (a[pl] == '\0') {
			plain = v;
			plain_len = (size_t)(ve - v);
		} else if (a[pl] == '*' && a[pl + 1] == '\0') {
			single = 0;
			segs[0] = v;
			segenc[0] = 1;
			nsegs = 1;
		} else if (a[pl] == '*' && isdigit((unsigned char)a[pl + 1])) {
			char *e;
			long k = strtol(a + pl + 1, &e, 10);
			if (k >= 0 && k < 100 && (*e == '\0' || (*e == '*' && e[1] == '\0'))) {
				segs[k] = v;
				segenc[k] = *e == '*';
				if (k + 1 > nsegs)
					nsegs = (int)k + 1;
			}
		}
	}
	(void)single;
	if (nsegs > 0 && segs[0] != NULL) {
		size_t o = 0;
		for (int k = 0; k < nsegs && segs[k] != NULL; k++) {
			const char *s = segs[k];
			if (k == 0 && segenc[0]) {      /* charset'lang'value */
				const char *q = strchr(s, '\'');
				if (q == NULL || (q = strchr(q + 1, '\'')) == NULL)
					goto out;
				s = q + 1;
			}
			for (; *s; s++) {
				int c = (unsigned char)*s, a, b;
				if (segenc[k] && c == '%') {
					if ((a = hexval(s[1])) < 0 || (b = hexval(s[2])) < 0)
						goto out;
					c = a * 16 + b;
					s += 2;
				}
				if (o + 1 >= n)
					goto out;
				out[o++] = (char)c;
			}
		}
		out[o] = '\0';
		rc = (int)o;
	} else if (plain != NULL) {
		if (plain_len + 1 > n)
			goto out;
		memcpy(out, plain, plain_len + 1);
		rc = (int)plain_len;
	}
out:
	free(u);
	return rc;
}
