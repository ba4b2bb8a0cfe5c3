/* sipcap.c - SIP messages as they appear in a capture */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sipcap.h"

#define MAX_HEADER_BLOCK 65536

static const char *const methods[] = {
	"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE",
	"NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE", NULL
};

int umfax_sip_looks_like(const char *buf, size_t len)
{
	if (len >= 8 && !memcmp(buf, "SIP/2.0 ", 8))
		return 1;
	for (int i = 0; methods[i]; i++) {
		size_t ml = strlen(methods[i]);
		if (len > ml && !memcmp(buf, methods[i], ml) && buf[ml] == ' ')
			return 1;
	}
	return 0;
}

static void copy(char *dst, size_t n, const char *p, size_t l)
{
	if (l >= n)
		l = n - 1;
	memcpy(dst, p, l);
	dst[l] = '\0';
}

/* Find the end of the header block: the offset just after CRLFCRLF (or
 * LFLF), or 0. */
static size_t header_end(const char *buf, size_t len)
{
	size_t lim = len < MAX_HEADER_BLOCK ? len : MAX_HEADER_BLOCK;
	for (size_t i = 0; i + 1 < lim; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < lim && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static int hdr_is(const char *name, size_t nl, const char *full, const char *compact)
{
	return (nl == strlen(full) && !strncasecmp(name, full, nl)) ||
	    (compact && nl == 1 && tolower((unsigned char) name[0]) == compact[0]);
}

/* The next "Name: value" line of a header block from *P up to END: its
 * name and value (blanks around the colon dropped, no CR), and *P moved
 * past it.  0 at the end.  Lines without a colon and folded continuation
 * lines (rare) are passed over. */
static int next_header(const char **pp, const char *end, const char **name, size_t *nl,
    const char **val, size_t *vl)
{
	const char *p = *pp;
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t) (end - p));
		if (!e)
			e = end;
		const char *ve = e;
		if (ve > p && ve[-1] == '\r')
			ve--;
		const char *colon = memchr(p, ':', (size_t) (ve - p));
		const char *line = p;
		p = e + 1;
		if (!colon || line[0] == ' ' || line[0] == '\t')
			continue;
		const char *ne = colon;
		while (ne > line && (ne[-1] == ' ' || ne[-1] == '\t'))
			ne--;
		const char *v = colon + 1;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		*name = line;
		*nl = (size_t) (ne - line);
		*val = v;
		*vl = (size_t) (ve - v);
		*pp = p;
		return 1;
	}
	*pp = p;
	return 0;
}

int umfax_sip_header(const char *buf, size_t len, const char *full, const char *compact, char *dst, size_t n)
{
	size_t hend = header_end(buf, len);
	const char *eol = memchr(buf, '\n', len), *p, *end, *name, *v;
	size_t nl, vl;

	if (n == 0 || !eol)
		return -1;
	p = eol + 1;
	end = buf + (hend ? hend : len);
	while (next_header(&p, end, &name, &nl, &v, &vl))
		if (hdr_is(name, nl, full, compact)) {
			copy(dst, n, v, vl);
			return 0;
		}
	return -1;
}

long umfax_sip_parse(const char *buf, size_t len, struct umfax_sipmsg *m)
{
	memset(m, 0, sizeof(*m));
	m->cseq = -1;
	if (!buf || !umfax_sip_looks_like(buf, len))
		return -1;
	size_t hend = header_end(buf, len);
	if (!hend)
		return len >= MAX_HEADER_BLOCK ? -1 : 0;

	/* start line */
	const char *eol = memchr(buf, '\n', hend);
	size_t sl = (size_t) (eol - buf);
	char start[512];
	copy(start, sizeof(start), buf, sl);
	start[strcspn(start, "\r")] = '\0';
	if (!strncmp(start, "SIP/2.0 ", 8)) {
		m->request = 0;
		m->status = atoi(start + 8);
		if (m->status < 100 || m->status > 699)
			return -1;
	} else {
		char method[16] = "", uri[256] = "", ver[16] = "";
		if (sscanf(start, "%15s %255s %15s", method, uri, ver) != 3 || strcmp(ver, "SIP/2.0"))
			return -1;
		m->request = 1;
		snprintf(m->method, sizeof(m->method), "%s", method);
		snprintf(m->ruri, sizeof(m->ruri), "%s", uri);
	}

	long clen = -1;
	const char *p = eol + 1, *end = buf + hend, *name, *v;
	size_t nl, vl;
	while (next_header(&p, end, &name, &nl, &v, &vl)) {
		if (hdr_is(name, nl, "Call-ID", "i"))
			copy(m->call_id, sizeof(m->call_id), v, vl);
		else if (hdr_is(name, nl, "From", "f"))
			copy(m->from, sizeof(m->from), v, vl);
		else if (hdr_is(name, nl, "To", "t"))
			copy(m->to, sizeof(m->to), v, vl);
		else if (hdr_is(name, nl, "P-Asserted-Identity", NULL) && !m->pai[0])
			copy(m->pai, sizeof(m->pai), v, vl);
		else if (hdr_is(name, nl, "Referred-By", "b"))
			copy(m->referred_by, sizeof(m->referred_by), v, vl);
		else if (hdr_is(name, nl, "Content-Type", "c"))
			copy(m->content_type, sizeof(m->content_type), v, vl);
		else if (hdr_is(name, nl, "Content-Length", "l")) {
			char tmp[16];
			copy(tmp, sizeof(tmp), v, vl);
			char *x;
			long cl = strtol(tmp, &x, 10);
			if (x == tmp || cl < 0 || cl > 1000000)
				return -1;
			clen = cl;
		} else if (hdr_is(name, nl, "CSeq", NULL)) {
			char tmp[64], meth[16] = "";
			int n = -1;
			copy(tmp, sizeof(tmp), v, vl);
			if (sscanf(tmp, "%d %15s", &n, meth) == 2) {
				m->cseq = n;
				if (!m->request)
					snprintf(m->method, sizeof(m->method), "%s", meth);
			}
		}
	}
	if (clen < 0)        /* UDP: the rest of the datagram is the body */
		clen = (long) (len - hend);
	if ((size_t) clen > len - hend)
		return 0;
	m->body = buf + hend;
	m->body_len = (size_t) clen;
	return (long) (hend + (size_t) clen);
}

/* The URI part of a header: inside <...> if there is one, else the value
 * up to the first ';' header parameter... but a bare addr-spec keeps its
 * URI parameters, which is what callers want. */
static void uri_of(char *dst, size_t n, const char *hdr)
{
	const char *lt = strchr(hdr, '<');
	if (lt) {
		const char *gt = strchr(lt + 1, '>');
		copy(dst, n, lt + 1, gt ? (size_t) (gt - lt - 1) : strlen(lt + 1));
	} else {
		copy(dst, n, hdr, strlen(hdr));
	}
}

char *umfax_sipcap_uri_user(char *dst, size_t n, const char *hdr)
{
	char uri[1024];
	dst[0] = '\0';
	uri_of(uri, sizeof(uri), hdr);
	const char *u = uri;
	while (*u == ' ')
		u++;
	if (!strncasecmp(u, "sips:", 5))
		u += 5;
	else if (!strncasecmp(u, "sip:", 4))
		u += 4;
	else if (!strncasecmp(u, "tel:", 4)) {
		u += 4;
		copy(dst, n, u, strcspn(u, ";> "));
		return dst;
	} else {
		return dst;
	}
	const char *at = strchr(u, '@');
	size_t stop = strcspn(u, ";>?");
	if (!at || (size_t) (at - u) > stop)
		return dst;        /* no user part */
	size_t l = (size_t) (at - u);
	const char *colon = memchr(u, ':', l);   /* user:password */
	if (colon)
		l = (size_t) (colon - u);
	char raw[512];
	copy(raw, sizeof(raw), u, l);
	return umfax_sip_unescape(dst, n, raw);
}

char *umfax_sip_display_name(char *dst, size_t n, const char *hdr)
{
	dst[0] = '\0';
	const char *p = hdr;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '"') {
		size_t k = 0;
		for (p++; *p && *p != '"' && k + 1 < n; p++) {
			if (*p == '\\' && p[1])
				p++;
			dst[k++] = *p;
		}
		dst[k] = '\0';
		return dst;
	}
	const char *lt = strchr(p, '<');
	if (!lt)
		return dst;
	const char *e = lt;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	copy(dst, n, p, (size_t) (e - p));
	return dst;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *umfax_sip_unescape(char *dst, size_t n, const char *src)
{
	size_t k = 0;
	for (const char *p = src; *p && k + 1 < n; p++) {
		int h, l;
		if (*p == '%' && (h = hexval((unsigned char) p[1])) >= 0 &&
		    (l = hexval((unsigned char) p[2])) >= 0) {
			dst[k++] = (char) (h << 4 | l);
			p += 2;
		} else {
			dst[k++] = *p;
		}
	}
	dst[k] = '\0';
	return dst;
}

char *umfax_sip_uri_param(char *dst, size_t n, const char *hdr, const char *name)
{
	char uri[1024];
	size_t nl = strlen(name);
	uri_of(uri, sizeof(uri), hdr);
	/* The parameter may itself arrive %-escaped (";" as %3B, "=" as %3D). */
	char dec[1024];
	if (!strchr(uri, ';') || strstr(uri, "%3B") || strstr(uri, "%3b"))
		umfax_sip_unescape(dec, sizeof(dec), uri);
	else
		snprintf(dec, sizeof(dec), "%s", uri);
	char *p = dec;
	while ((p = strchr(p, ';')) != NULL) {
		p++;
		if (!strncasecmp(p, name, nl) && p[nl] == '=') {
			const char *v = p + nl + 1;
			char raw[1024];
			copy(raw, sizeof(raw), v, strcspn(v, ";?>"));
			return umfax_sip_unescape(dst, n, raw);
		}
	}
	return NULL;
}
