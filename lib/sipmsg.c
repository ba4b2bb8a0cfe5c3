/* sipmsg.c - SIP request parsing (libosip2) and hand-formatted responses */
#include "sipmsg.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osipparser2/osip_parser.h>

static int inited;
static char server_line[64] = "Server: umfax-sipredirect\r\n";

/* ---- the arena ---------------------------------------------------------- */

#define ARENA_ALIGN 16

static unsigned char *arena, *arena_end, *arena_top;
static unsigned long arena_live, arena_n, arena_fallback;

static int
in_arena(const void *p)
{
	return arena && (const unsigned char *)p >= arena && (const unsigned char *)p < arena_end;
}

static void *
arena_malloc(size_t n)
{
	size_t body = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	unsigned char *p;

	if (arena_live == 0)
		arena_top = arena;      /* everything was freed: start over */
	if (body < n || (size_t)(arena_end - arena_top) < body + ARENA_ALIGN) {
		arena_fallback++;
		return malloc(n ? n : 1);
	}
	/* a 16-byte header whose last word is the size, then the block */
	p = arena_top + ARENA_ALIGN;
	((size_t *)(void *)p)[-1] = n;
	arena_top = p + body;
	arena_live++;
	arena_n++;
	return p;
}

static void
arena_free(void *p)
{
	if (!p)
		return;
	if (in_arena(p)) {
		if (arena_live > 0)
			arena_live--;
		return;
	}
	free(p);
}

static void *
arena_realloc(void *p, size_t n)
{
	void *q;
	size_t old;

	if (!p)
		return arena_malloc(n);
	if (!in_arena(p))
		return realloc(p, n);
	old = ((size_t *)p)[-1];
	if (n <= old)
		return p;
	q = arena_malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, old);
	arena_free(p);
	return q;
}

int
umfax_sip_arena_enable(size_t size)
{
	if (arena)
		return 0;
	if (size < 4096)
		size = 4096;
	arena = malloc(size);
	if (!arena)
		return -1;
	arena_end = arena + size;
	arena_top = arena;
	osip_set_allocators(arena_malloc, arena_realloc, arena_free);
	return 0;
}

void
umfax_sip_arena_stats(unsigned long *a, unsigned long *f)
{
	*a = arena_n;
	*f = arena_fallback;
}

static void
osip_quiet(const char *fi, int li, osip_trace_level_t level, const char *chfr, va_list ap)
{
	(void)fi;
	(void)li;
	(void)level;
	(void)chfr;
	(void)ap;
}

void
umfax_sip_init(void)
{
	if (!inited) {
		int l;
		parser_init();
		/* libosip2 prints parse errors to stdout/stderr, which under
		 * inetd is the peer's socket: silence it, we log ourselves. */
		osip_trace_initialize_func(TRACE_LEVEL0, osip_quiet);
		for (l = TRACE_LEVEL0; l < END_TRACE_LEVEL; l++)
			osip_trace_disable_level((osip_trace_level_t)l);
		inited = 1;
	}
}

int
umfax_sip_is_response(const char *buf, size_t len)
{
	return len >= 8 && memcmp(buf, "SIP/2.0 ", 8) == 0;
}

int
umfax_sip_peek_method(const char *buf, size_t len, char *m, size_t n)
{
	size_t i;

	for (i = 0; i < len && i + 1 < n; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == ' ')
			break;
		if (!isupper(c) && c != '-' && c != '_')
			return -1;
		m[i] = (char)c;
	}
	if (i == 0 || i >= len || buf[i] != ' ')
		return -1;
	m[i] = '\0';
	return 0;
}

/* Copy at most n-1 bytes of s; returns s or "". */
static const char *
nz(const char *s)
{
	return s ? s : "";
}

static void
copy(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);
	if (l >= n)
		l = n - 1;
	memcpy(dst, src, l);
	dst[l] = '\0';
}

/* A bounded output buffer; bad is set when it overflowed. */
struct out {
	char *p;
	size_t n, len;
	int bad;
};

static void
put(struct out *o, const char *s, size_t l)
{
	if (o->bad || o->len + l >= o->n) {
		o->bad = 1;
		return;
	}
	memcpy(o->p + o->len, s, l);
	o->len += l;
	o->p[o->len] = '\0';
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Split a header value on commas that are outside <...> and "..." and put
 * the URI of each entry (what is inside <>, or the entry up to ';') in OUT.
 * For History-Info, KEY holds the index parameter of each entry.  Returns
 * the number of entries stored (at most MAX). */
static int
split_entries(const char *v, char out[][UMFAX_SIP_MAX_URI], char keys[][32],
    int have, int max)
{
	const char *p = v;
	int n = have;

	while (*p && n < max) {
		const char *start, *end, *uri, *uend;
		int inq = 0, ina = 0;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		start = p;
		for (; *p; p++) {
			if (*p == '"' && !ina)
				inq = !inq;
			else if (*p == '\\' && inq && p[1])
				p++;
			else if (*p == '<' && !inq)
				ina = 1;
			else if (*p == '>' && !inq)
				ina = 0;
			else if (*p == ',' && !inq && !ina)
				break;
		}
		end = p;
		uri = memchr(start, '<', (size_t)(end - start));
		if (uri) {
			uri++;
			uend = memchr(uri, '>', (size_t)(end - uri));
			if (!uend)
				continue;       /* unterminated: skip the entry */
		} else {
			uri = start;
			uend = memchr(start, ';', (size_t)(end - start));
			if (!uend)
				uend = end;
		}
		while (uend > uri && (uend[-1] == ' ' || uend[-1] == '\t'))
			uend--;
		if (uend == uri || (size_t)(uend - uri) >= UMFAX_SIP_MAX_URI)
			continue;
		memcpy(out[n], uri, (size_t)(uend - uri));
		out[n][uend - uri] = '\0';
		if (keys) {
			/* index=1.1.2 among the header parameters after the URI */
			const char *q = (uri != start) ? uend : start;
			const char *ix = NULL;
			keys[n][0] = '\0';
			for (; q + 6 <= end; q++)
				if (q > v && strncasecmp(q, "index=", 6) == 0 && (q[-1] == ';' || q[-1] == ' ')) {
					ix = q + 6;
					break;
				}
			if (ix) {
				size_t k = 0;
				while (ix < end && k + 1 < 32 && (isdigit((unsigned char)*ix) || *ix == '.'))
					keys[n][k++] = *ix++;
				keys[n][k] = '\0';
			}
		}
		n++;
	}
	return n;
}

/* Compare two History-Info indexes "1.1.2" number by number. */
static int
index_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		unsigned long x = strtoul(a, (char **)&a, 10);
		unsigned long y = strtoul(b, (char **)&b, 10);
		if (x != y)
			return x < y ? -1 : 1;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
		if (!*a && *b)
			return -1;
		if (*a && !*b)
			return 1;
		if (!isdigit((unsigned char)*a) && !isdigit((unsigned char)*b))
			break;
	}
	return 0;
}

static const char *
gparam(osip_list_t *l, const char *name)
{
	osip_generic_param_t *p = NULL;

	if (osip_generic_param_get_byname(l, (char *)name, &p) == 0 && p && p->gvalue)
		return p->gvalue;
	return "";
}

static void
uri_str(osip_uri_t *u, char *dst, size_t n)
{
	char *s = NULL;

	dst[0] = '\0';
	if (u && osip_uri_to_str(u, &s) == 0 && s) {
		copy(dst, n, s);
		osip_free(s);
	}
}

int
umfax_sip_msg_parse(struct umfax_sip_msg *m, const char *buf, size_t len,
    int *answerable, char *err, size_t errlen)
{
	osip_message_t *om = NULL;
	osip_via_t *via = NULL;
	osip_header_t *h = NULL;
	char (*keys)[32] = m->hist_index;
	int pos, i, j;

	memset(m, 0, offsetof(struct umfax_sip_msg, div));
	m->ndiv = m->nhist = 0;
	*answerable = 0;
	if (len == 0 || len > UMFAX_SIP_MAX_MSG) {
		snprintf(err, errlen, "message size %zu out of range", len);
		return -1;
	}
	if (umfax_sip_is_response(buf, len)) {
		snprintf(err, errlen, "a response, not a request");
		return -1;
	}
	umfax_sip_init();
	if (osip_message_init(&om) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->osip = om;
	if (osip_message_parse(om, buf, len) != 0) {
		snprintf(err, errlen, "unparsable SIP message");
		return -1;
	}
	if (!MSG_IS_REQUEST(om) || !om->sip_method || !om->req_uri) {
		snprintf(err, errlen, "not a request");
		return -1;
	}
	if (!om->sip_version || strcmp(om->sip_version, "SIP/2.0") != 0) {
		snprintf(err, errlen, "unsupported SIP version");
		return -1;
	}
	m->method = om->sip_method;
	if (osip_message_get_via(om, 0, &via) < 0 || !via || !om->from || !om->to ||
	    !om->call_id || !om->call_id->number || !om->cseq ||
	    !om->cseq->number || !om->cseq->method) {
		snprintf(err, errlen, "missing Via, From, To, Call-ID or CSeq");
		return -1;
	}
	/* From here on, a 400 can be sent. */
	*answerable = 1;
	m->from_tag = gparam(&om->from->gen_params, "tag");
	m->to_tag = gparam(&om->to->gen_params, "tag");
	m->cseq_method = om->cseq->method;
	{
		osip_generic_param_t *b = NULL;
		m->branch = "";
		if (osip_via_param_get_byname(via, "branch", &b) == 0 && b && b->gvalue)
			m->branch = b->gvalue;
	}
	if (om->call_id->host)
		snprintf(m->call_id, sizeof m->call_id, "%s@%s", om->call_id->number,
		    om->call_id->host);
	else
		copy(m->call_id, sizeof m->call_id, om->call_id->number);
	{
		char *e;
		const char *s = om->cseq->number;
		if (!isdigit((unsigned char)*s)) {
			snprintf(err, errlen, "bad CSeq number");
			return -1;
		}
		m->cseq = strtoul(s, &e, 10);
		if (*e || strlen(s) > 10) {
			snprintf(err, errlen, "bad CSeq number");
			return -1;
		}
	}
	/* an ACK that repeats its INVITE's CSeq method is taken (some gateways) */
	if (strcmp(m->cseq_method, m->method) != 0 &&
	    !(strcmp(m->method, "ACK") == 0 && strcmp(m->cseq_method, "INVITE") == 0)) {
		snprintf(err, errlen, "CSeq method does not match the request");
		return -1;
	}
	if (om->from->displayname) {
		const char *d = om->from->displayname;
		size_t l = strlen(d);
		if (l >= 2 && d[0] == '"' && d[l - 1] == '"') {
			d++;
			l -= 2;
		}
		if (l >= sizeof m->name_buf)
			l = sizeof m->name_buf - 1;
		memcpy(m->name_buf, d, l);
		m->name_buf[l] = '\0';
		m->from_name = m->name_buf;
	} else {
		m->from_name = "";
	}
	m->ruri_user = nz(om->req_uri->username);
	m->to_user = om->to->url ? nz(om->to->url->username) : "";
	uri_str(om->req_uri, m->ruri, sizeof m->ruri);
	uri_str(om->from->url, m->from_uri, sizeof m->from_uri);
	uri_str(om->to->url, m->to_uri, sizeof m->to_uri);
	if (!m->ruri[0]) {
		snprintf(err, errlen, "bad Request-URI");
		return -1;
	}
	if (om->from->url && om->from->url->username)
		copy(m->from_user, sizeof m->from_user, om->from->url->username);
	else if (om->from->url && om->from->url->scheme &&
	    strcasecmp(om->from->url->scheme, "tel") == 0)
		umfax_sip_uri_user(m->from_uri, m->from_user, sizeof m->from_user);

	for (pos = 0; m->ndiv < UMFAX_SIP_MAX_DIV; pos++) {
		pos = osip_message_header_get_byname(om, "diversion", pos, &h);
		if (pos < 0 || !h)
			break;
		if (h->hvalue)
			m->ndiv = split_entries(h->hvalue, m->div, NULL, m->ndiv,
			    UMFAX_SIP_MAX_DIV);
	}
	for (pos = 0; m->nhist < UMFAX_SIP_MAX_HIST; pos++) {
		pos = osip_message_header_get_byname(om, "history-info", pos, &h);
		if (pos < 0 || !h)
			break;
		if (h->hvalue)
			m->nhist = split_entries(h->hvalue, m->hist, keys, m->nhist,
			    UMFAX_SIP_MAX_HIST);
	}
	/* Sort History-Info by index (insertion sort, at most 6); entries
	 * without an index keep their header order. */
	for (i = 1; i < m->nhist; i++)
		for (j = i; j > 0 && keys[j][0] && keys[j - 1][0] &&
		    index_cmp(keys[j - 1], keys[j]) > 0; j--) {
			char tu[UMFAX_SIP_MAX_URI], tk[32];
			memcpy(tu, m->hist[j], sizeof tu);
			memcpy(m->hist[j], m->hist[j - 1], sizeof tu);
			memcpy(m->hist[j - 1], tu, sizeof tu);
			memcpy(tk, keys[j], sizeof tk);
			memcpy(keys[j], keys[j - 1], sizeof tk);
			memcpy(keys[j - 1], tk, sizeof tk);
		}
	return 0;
}

int
umfax_sip_diversion_value(const struct umfax_sip_msg *m, char *dst, size_t n)
{
	struct out o = { dst, n, 0, 0 };
	int i;

	if (n == 0)
		return -1;
	dst[0] = '\0';
	for (i = 0; i < m->ndiv; i++) {
		puts_(&o, i ? ", <" : "<");
		puts_(&o, m->div[i]);
		puts_(&o, ">");
	}
	return o.bad ? -1 : (int)o.len;
}

int
umfax_sip_history_value(const struct umfax_sip_msg *m, char *dst, size_t n)
{
	struct out o = { dst, n, 0, 0 };
	int i;

	if (n == 0)
		return -1;
	dst[0] = '\0';
	for (i = 0; i < m->nhist; i++) {
		puts_(&o, i ? ", <" : "<");
		puts_(&o, m->hist[i]);
		puts_(&o, ">");
		if (m->hist_index[i][0]) {
			puts_(&o, ";index=");
			puts_(&o, m->hist_index[i]);
		}
	}
	return o.bad ? -1 : (int)o.len;
}

void
umfax_sip_msg_release(struct umfax_sip_msg *m)
{
	if (m->osip)
		osip_message_free((osip_message_t *)m->osip);
	m->osip = NULL;
}

int
umfax_sip_uri_user(const char *uri, char *dst, size_t n)
{
	const char *p = uri, *e;
	size_t l;

	if (n == 0)
		return -1;
	dst[0] = '\0';
	while (*p == ' ' || *p == '<')
		p++;
	if (strncasecmp(p, "tel:", 4) == 0) {
		p += 4;
		e = p + strcspn(p, ";>? ");
	} else if (strncasecmp(p, "sip:", 4) == 0 || strncasecmp(p, "sips:", 5) == 0) {
		p += (p[3] == ':') ? 4 : 5;
		e = p + strcspn(p, "@>");
		if (*e != '@')
			return -1;
		/* user parameters (";phone-context=...") and a password go */
		{
			const char *s = memchr(p, ';', (size_t)(e - p));
			const char *c = memchr(p, ':', (size_t)(e - p));
			if (s)
				e = s;
			if (c && c < e)
				e = c;
		}
	} else {
		return -1;
	}
	l = (size_t)(e - p);
	if (l == 0 || l >= n)
		return -1;
	memcpy(dst, p, l);
	dst[l] = '\0';
	return 0;
}

int
umfax_sip_response(char *out, size_t n, const struct umfax_sip_msg *m,
    int code, const char *reason, const char *totag, const char *extra)
{
	return umfax_sip_response_body(out, n, m, code, reason, totag, extra, NULL);
}

int
umfax_sip_response_body(char *out, size_t n, const struct umfax_sip_msg *m,
    int code, const char *reason, const char *totag, const char *extra,
    const char *body)
{
	osip_message_t *om = m->osip;
	struct out o = { out, n, 0, 0 };
	char line[64];
	char *s = NULL;
	int pos;

	if (!om || !om->from || !om->to || !om->call_id || !om->cseq ||
	    !om->cseq->number || !om->cseq->method || !m->to_tag || n < 64)
		return -1;
	snprintf(line, sizeof line, "SIP/2.0 %03d ", code);
	puts_(&o, line);
	puts_(&o, reason ? reason : umfax_sip_reason(code));
	puts_(&o, "\r\n");
	for (pos = 0; !osip_list_eol(&om->vias, pos); pos++) {
		osip_via_t *v = osip_list_get(&om->vias, pos);
		if (osip_via_to_str(v, &s) != 0 || !s)
			return -1;
		puts_(&o, "Via: ");
		puts_(&o, s);
		puts_(&o, "\r\n");
		osip_free(s);
		s = NULL;
	}
	if (pos == 0)
		return -1;
	if (osip_from_to_str(om->from, &s) != 0 || !s)
		return -1;
	puts_(&o, "From: ");
	puts_(&o, s);
	puts_(&o, "\r\n");
	osip_free(s);
	s = NULL;
	if (osip_to_to_str(om->to, &s) != 0 || !s)
		return -1;
	puts_(&o, "To: ");
	puts_(&o, s);
	osip_free(s);
	s = NULL;
	if (!m->to_tag[0] && totag && totag[0] && code != 100) {
		puts_(&o, ";tag=");
		puts_(&o, totag);
	}
	puts_(&o, "\r\nCall-ID: ");
	puts_(&o, m->call_id);
	puts_(&o, "\r\nCSeq: ");
	puts_(&o, om->cseq->number);
	puts_(&o, " ");
	puts_(&o, om->cseq->method);
	puts_(&o, "\r\n");
	if (extra)
		puts_(&o, extra);
	puts_(&o, server_line);
	snprintf(line, sizeof line, "Content-Length: %zu\r\n\r\n", body ? strlen(body) : 0);
	puts_(&o, line);
	if (body)
		puts_(&o, body);
	return o.bad ? -1 : (int)o.len;
}

/* 64-bit FNV-1a, keyed by starting from the salt. */
static unsigned long long
fnv(unsigned long long h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	h ^= 0xff;
	h *= 1099511628211ULL;
	return h;
}

void
umfax_sip_totag(const struct umfax_sip_msg *m, unsigned long long salt, char dst[17])
{
	static const char hex[] = "0123456789abcdef";
	unsigned long long h = 14695981039346656037ULL ^ salt;
	int i;

	h = fnv(h, m->call_id);
	h = fnv(h, m->from_tag);
	h = fnv(h, m->branch);
	for (i = 0; i < 16; i++) {
		dst[i] = hex[h & 15];
		h >>= 4;
	}
	dst[16] = '\0';
}

int
umfax_sip_escape(char *dst, size_t n, const char *src, int param)
{
	static const char hex[] = "0123456789ABCDEF";
	/* unreserved = alphanum / mark; hnv-unreserved = [ ] / ? : + $;
	 * param-unreserved = [ ] / : & + $.  ':' is escaped in header values
	 * too, so that the result reads the same in every parser. */
	const char *keep = param ? "-_.!~*'()[]/:&+$" : "-_.!~*'()[]/?+$";
	size_t o = 0;

	for (; *src; src++) {
		unsigned char c = (unsigned char)*src;
		if (isalnum(c) || (c != ':' && strchr(keep, c) && c)) {
			if (o + 1 >= n)
				return -1;
			dst[o++] = (char)c;
		} else {
			if (o + 3 >= n)
				return -1;
			dst[o++] = '%';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	if (o >= n)
		return -1;
	dst[o] = '\0';
	return (int)o;
}

int
umfax_sip_base64(char *dst, size_t n, const void *src, size_t len)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = src;
	size_t need = (len + 2) / 3 * 4, i, o = 0;

	if (need + 1 > n)
		return -1;
	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
		dst[o++] = b64[v >> 18];
		dst[o++] = b64[(v >> 12) & 63];
		dst[o++] = b64[(v >> 6) & 63];
		dst[o++] = b64[v & 63];
	}
	if (i < len) {
		unsigned v = (unsigned)s[i] << 16 | (i + 1 < len ? (unsigned)s[i + 1] << 8 : 0);
		dst[o++] = b64[v >> 18];
		dst[o++] = b64[(v >> 12) & 63];
		dst[o++] = (i + 1 < len) ? b64[(v >> 6) & 63] : '=';
		dst[o++] = '=';
	}
	dst[o] = '\0';
	return (int)o;
}

/* application/x-www-form-urlencoded value */
static void
form_put(struct out *o, const char *key, const char *val, int first)
{
	static const char hex[] = "0123456789ABCDEF";

	if (!first)
		put(o, "&", 1);
	puts_(o, key);
	put(o, "=", 1);
	for (; *val; val++) {
		unsigned char c = (unsigned char)*val;
		char e[3];
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '*')
			put(o, (const char *)val, 1);
		else if (c == ' ')
			put(o, "+", 1);
		else {
			e[0] = '%';
			e[1] = hex[c >> 4];
			e[2] = hex[c & 15];
			put(o, e, 3);
		}
	}
}

int
umfax_sip_um_context(char *dst, size_t n, const char *call_id,
    const char *caller_id, const char *extension, const char *phone_context,
    const char *display_name)
{
	char form[2048];
	struct out o = { form, sizeof form, 0, 0 };

	form[0] = '\0';
	form_put(&o, "CallId", nz(call_id), 1);
	if (caller_id && *caller_id)
		form_put(&o, "CallerId", caller_id, 0);
	if (extension && *extension)
		form_put(&o, "Extension", extension, 0);
	if (phone_context && *phone_context)
		form_put(&o, "PhoneContext", phone_context, 0);
	if (display_name && *display_name)
		form_put(&o, "CallerIdDisplayName", display_name, 0);
	if (o.bad)
		return -1;
	return umfax_sip_base64(dst, n, form, o.len);
}

int
umfax_sip_referred_by(char *dst, size_t n, const char *host,
    const char *addr, const char *context_b64)
{
	char ctx[1536];
	int l;

	if (umfax_sip_escape(ctx, sizeof ctx, context_b64, 1) < 0)
		return -1;
	/* the context is base64: escape its '+', '/' and '=' as well */
	{
		char tmp[1536];
		size_t i, o = 0;
		for (i = 0; ctx[i]; i++) {
			const char *r = NULL;
			if (ctx[i] == '+')
				r = "%2B";
			else if (ctx[i] == '/')
				r = "%2F";
			if (r) {
				if (o + 4 > sizeof tmp)
					return -1;
				memcpy(tmp + o, r, 3);
				o += 3;
			} else {
				if (o + 2 > sizeof tmp)
					return -1;
				tmp[o++] = ctx[i];
			}
		}
		tmp[o] = '\0';
		memcpy(ctx, tmp, o + 1);
	}
	l = snprintf(dst, n, "<sip:%s;msExchUMFaxRecipient=smtp:%s;msExchUMContext=%s>",
	    host, addr, ctx);
	return (l < 0 || (size_t)l >= n) ? -1 : l;
}

int
umfax_sip_redirect_contact(char *dst, size_t n, const char *fax_uri,
    const char *referred_by)
{
	char esc[3072];
	const char *scheme = "";
	int l;

	if (umfax_sip_escape(esc, sizeof esc, referred_by, 0) < 0)
		return -1;
	if (strncasecmp(fax_uri, "sip:", 4) != 0 && strncasecmp(fax_uri, "sips:", 5) != 0)
		scheme = "sip:";
	l = snprintf(dst, n, "<%s%s?Referred-By=%s>", scheme, fax_uri, esc);
	return (l < 0 || (size_t)l >= n) ? -1 : l;
}

void
umfax_sip_set_server(const char *product)
{
	snprintf(server_line, sizeof server_line, "Server: %.40s\r\n", product);
}

const char *
umfax_sip_reason(int code)
{
	switch (code) {
	case 100: return "Trying";
	case 200: return "OK";
	case 302: return "Moved Temporarily";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "Version Not Supported";
	case 513: return "Message Too Large";
	case 603: return "Decline";
	case 606: return "Not Acceptable";
	default: return code < 300 ? "OK" : code < 400 ? "Redirect" :
	    code < 500 ? "Request Failure" : code < 600 ? "Server Error" : "Global Failure";
	}
}

/* Value of parameter NAME (";name=value") within [p, e), into DST. */
static int
raw_param(const char *p, const char *e, const char *name, char *dst, size_t n)
{
	size_t nl = strlen(name);

	for (; p + nl + 1 < e; p++) {
		if (*p == ';' && strncasecmp(p + 1, name, nl) == 0 && p[1 + nl] == '=') {
			const char *v = p + 2 + nl, *ve = v;
			while (ve < e && *ve != ';' && *ve != ',' && *ve != ' ' && *ve != '\t' &&
			    *ve != '>' && *ve != '?')
				ve++;
			if ((size_t)(ve - v) >= n)
				return -1;
			memcpy(dst, v, (size_t)(ve - v));
			dst[ve - v] = '\0';
			return 0;
		}
		if (*p == '<' && strcmp(name, "tag") == 0) {
			/* skip the URI: its parameters are not the header's */
			const char *gt = memchr(p, '>', (size_t)(e - p));
			if (!gt)
				return -1;
			p = gt;
		}
	}
	dst[0] = '\0';
	return 1;
}

int
umfax_sip_fast_key(const char *buf, size_t len, char *key, size_t kn)
{
	const char *p = memchr(buf, '\n', len), *end = buf + len;
	char callid[256] = "", branch[256] = "", ftag[256] = "";
	unsigned long cseq = 0;
	int have_via = 0, have_cseq = 0, have_from = 0, l;

	while (p && p + 1 < end) {
		const char *line = p + 1, *eol = memchr(line, '\n', (size_t)(end - line));
		const char *le, *colon, *v;
		size_t nl;

		if (!eol)
			return -1;
		le = (eol > line && eol[-1] == '\r') ? eol - 1 : eol;
		if (le == line)
			break;                  /* end of headers */
		if (*line == ' ' || *line == '\t')
			return -1;              /* folded header: let osip do it */
		colon = memchr(line, ':', (size_t)(le - line));
		if (!colon)
			return -1;
		nl = (size_t)(colon - line);
		while (nl > 0 && (line[nl - 1] == ' ' || line[nl - 1] == '\t'))
			nl--;
		v = colon + 1;
		while (v < le && (*v == ' ' || *v == '\t'))
			v++;
#define IS(s, c) ((nl == sizeof(s) - 1 && strncasecmp(line, s, nl) == 0) || \
		    (nl == 1 && (*line | 0x20) == (c)))
		if (IS("via", 'v') && !have_via) {
			if (raw_param(v, le, "branch", branch, sizeof branch) < 0)
				return -1;
			have_via = 1;
		} else if (IS("call-id", 'i')) {
			const char *ve = le;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (ve == v || (size_t)(ve - v) >= sizeof callid)
				return -1;
			memcpy(callid, v, (size_t)(ve - v));
			callid[ve - v] = '\0';
		} else if (IS("cseq", 0)) {
			char *e;
			if (v >= le || *v < '0' || *v > '9')
				return -1;
			cseq = strtoul(v, &e, 10);
			have_cseq = 1;
		} else if (IS("from", 'f')) {
			if (raw_param(v, le, "tag", ftag, sizeof ftag) < 0)
				return -1;
			have_from = 1;
		}
#undef IS
		p = eol;
	}
	if (!have_via || !have_cseq || !have_from || !callid[0])
		return -1;
	l = snprintf(key, kn, "%s\n%lu\n%s\n%s", callid, cseq, ftag, branch);
	return (l < 0 || (size_t)l >= kn) ? -1 : 0;
}

int
umfax_sip_sdp_is_t38(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		size_t ll = (size_t)(le - p);
		char line[256];

		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (ll > 8 && ll < sizeof line && strncmp(p, "m=image ", 8) == 0) {
			unsigned long port;
			char proto[32], fmt[32];
			memcpy(line, p, ll);
			line[ll] = '\0';
			if (sscanf(line + 8, "%lu %31s %31s", &port, proto, fmt) == 3 && port > 0 &&
			    port < 65536 && (strcasecmp(proto, "udptl") == 0 || strcasecmp(proto, "tcptl") == 0) &&
			    strcasecmp(fmt, "t38") == 0)
				return 1;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return 0;
}
