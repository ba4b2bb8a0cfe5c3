/* t38live_sip.c - SIP requests for t38recv's live mode (libosip2) */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osipparser2/osip_parser.h>

#include "t38live_sip.h"

static int inited;

static void quiet(const char *fi, int li, osip_trace_level_t level, const char *chfr, va_list ap)
{
	(void) fi; (void) li; (void) level; (void) chfr; (void) ap;
}

void umfax_lsip_init(void)
{
	if (!inited) {
		int l;
		parser_init();
		/* libosip2 prints parse errors on stdout/stderr: we log ourselves */
		osip_trace_initialize_func(TRACE_LEVEL0, quiet);
		for (l = TRACE_LEVEL0; l < END_TRACE_LEVEL; l++)
			osip_trace_disable_level((osip_trace_level_t) l);
		inited = 1;
	}
}

int umfax_lsip_is_response(const char *buf, size_t len)
{
	return len >= 8 && memcmp(buf, "SIP/2.0 ", 8) == 0;
}

static const char *gparam(osip_list_t *l, const char *name)
{
	int i;
	for (i = 0; !osip_list_eol(l, i); i++) {
		osip_generic_param_t *p = osip_list_get(l, i);
		if (p && p->gname && strcasecmp(p->gname, name) == 0)
			return p->gvalue ? p->gvalue : "";
	}
	return "";
}

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static void uri_str(char *dst, size_t n, osip_uri_t *u)
{
	char *s = NULL;
	dst[0] = 0;
	if (u && osip_uri_to_str(u, &s) == 0 && s) {
		copy(dst, n, s);
		osip_free(s);
	}
}

static void unquote(char *dst, size_t n, const char *s)
{
	size_t o = 0;
	if (!s)
		s = "";
	while (*s == ' ')
		s++;
	for (; *s && o + 1 < n; s++)
		if (*s != '"')
			dst[o++] = *s;
	dst[o] = 0;
}

int umfax_lsip_parse(struct umfax_lsip *m, const char *buf, size_t len,
    int *answerable, char *err, size_t errlen)
{
	osip_message_t *om = NULL;
	osip_via_t *via = NULL;

	memset(m, 0, sizeof *m);
	m->branch = m->from_tag = m->to_tag = "";
	*answerable = 0;
	if (len == 0 || len > UMFAX_LSIP_MAX_MSG) {
		snprintf(err, errlen, "message size %zu out of range", len);
		return -1;
	}
	umfax_lsip_init();
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
	    !om->call_id || !om->call_id->number || !om->cseq || !om->cseq->number || !om->cseq->method) {
		snprintf(err, errlen, "missing Via, From, To, Call-ID or CSeq");
		return -1;
	}
	*answerable = 1;
	m->from_tag = gparam(&om->from->gen_params, "tag");
	m->to_tag = gparam(&om->to->gen_params, "tag");
	m->cseq_method = om->cseq->method;
	{
		osip_generic_param_t *b = NULL;
		if (osip_via_param_get_byname(via, "branch", &b) == 0 && b && b->gvalue)
			m->branch = b->gvalue;
	}
	if (om->call_id->host)
		snprintf(m->call_id, sizeof m->call_id, "%s@%s", om->call_id->number, om->call_id->host);
	else
		copy(m->call_id, sizeof m->call_id, om->call_id->number);
	{
		const char *s = om->cseq->number;
		char *e;
		if (!isdigit((unsigned char) *s) || strlen(s) > 10) {
			snprintf(err, errlen, "bad CSeq number");
			return -1;
		}
		m->cseq = strtoul(s, &e, 10);
		if (*e) {
			snprintf(err, errlen, "bad CSeq number");
			return -1;
		}
	}
	if (strcmp(m->cseq_method, m->method) != 0 &&
	    !(strcmp(m->method, "ACK") == 0 && strcmp(m->cseq_method, "INVITE") == 0)) {
		snprintf(err, errlen, "CSeq method %s does not match %s", m->cseq_method, m->method);
		return -1;
	}
	unquote(m->from_name, sizeof m->from_name, om->from->displayname);
	uri_str(m->from_uri, sizeof m->from_uri, om->from->url);
	uri_str(m->to_uri, sizeof m->to_uri, om->to->url);
	if (om->from->url)
		copy(m->from_user, sizeof m->from_user, om->from->url->username);
	if (om->to->url)
		copy(m->to_user, sizeof m->to_user, om->to->url->username);
	copy(m->ruri_user, sizeof m->ruri_user, om->req_uri->username);
	return 0;
}

void umfax_lsip_release(struct umfax_lsip *m)
{
	if (m->osip)
		osip_message_free(m->osip);
	m->osip = NULL;
}

struct out {
	char *p;
	size_t n, len;
	int bad;
};

static void puts_(struct out *o, const char *s)
{
	size_t l = strlen(s);
	if (o->bad || o->len + l + 1 > o->n) {
		o->bad = 1;
		return;
	}
	memcpy(o->p + o->len, s, l + 1);
	o->len += l;
}

const char *umfax_lsip_reason(int code)
{
	switch (code) {
	case 100: return "Trying";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 481: return "Call/Transaction Does Not Exist";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 500: return "Server Internal Error";
	case 503: return "Service Unavailable";
	default: return code < 300 ? "OK" : code < 500 ? "Client Error" : "Server Error";
	}
}

int umfax_lsip_response(char *out, size_t n, const struct umfax_lsip *m, int code,
    const char *totag, const char *extra, const char *body)
{
	osip_message_t *om = m->osip;
	struct out o = { out, n, 0, 0 };
	char line[64];
	char *s = NULL;
	int pos;

	if (!om || !om->from || !om->to || !om->call_id || !om->cseq || !om->cseq->number ||
	    !om->cseq->method || n < 64)
		return -1;
	snprintf(line, sizeof line, "SIP/2.0 %03d ", code);
	puts_(&o, line);
	puts_(&o, umfax_lsip_reason(code));
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
	if (pos == 0 || osip_from_to_str(om->from, &s) != 0 || !s)
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
	puts_(&o, "Server: umfax-t38recv\r\n");
	if (body) {
		char cl[96];
		snprintf(cl, sizeof cl, "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n", strlen(body));
		puts_(&o, cl);
		puts_(&o, body);
	} else {
		puts_(&o, "Content-Length: 0\r\n\r\n");
	}
	return o.bad ? -1 : (int) o.len;
}

static unsigned long long fnv(unsigned long long h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char) *s;
		h *= 1099511628211ULL;
	}
	return h;
}

void umfax_lsip_totag(const struct umfax_lsip *m, unsigned long long salt, char dst[17])
{
	unsigned long long h = fnv(14695981039346656037ULL ^ salt, m->call_id);
	h = fnv(h, "|");
	h = fnv(h, m->from_tag);
	h = fnv(h, "|");
	h = fnv(h, m->branch);
	snprintf(dst, 17, "%016llx", h);
}
