/* sdp.c - the parts of an SDP body a fax receiver needs */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sdp.h"

/* Copy the line [p, e) into DST (size N), NUL-terminated, cut if longer. */
static void cut(char *dst, size_t n, const char *p, const char *e)
{
	size_t l = (size_t) (e - p);
	if (l >= n)
		l = n - 1;
	memcpy(dst, p, l);
	dst[l] = '\0';
}

static long num(const char *s, long lo, long hi, long def)
{
	char *end;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!isdigit((unsigned char) *s))
		return def;
	long v = strtol(s, &end, 10);
	return v < lo || v > hi ? def : v;
}

/* "IN IP4 192.0.2.1" -> "192.0.2.1" */
static void conn(char *dst, size_t n, const char *line)
{
	char nettype[16], addrtype[16], addr[64];
	dst[0] = '\0';
	if (sscanf(line, "%15s %15s %63s", nettype, addrtype, addr) == 3 &&
	    !strcasecmp(nettype, "IN")) {
		char *slash = strchr(addr, '/');     /* multicast TTL */
		if (slash)
			*slash = '\0';
		cut(dst, n, addr, addr + strlen(addr));
	}
}

static void media_line(struct umfax_sdp_media *m, const char *line, const char *sess_addr)
{
	char media[16] = "", port[16] = "", proto[32] = "";
	int used = 0;
	memset(m, 0, sizeof(*m));
	m->t38_version = -1;
	m->t38_udp_ec = UMFAX_SDP_EC_UNSET;
	cut(m->addr, sizeof(m->addr), sess_addr, sess_addr + strlen(sess_addr));
	if (sscanf(line, "%15s %15s %31s %n", media, port, proto, &used) < 3)
		return;
	snprintf(m->media, sizeof(m->media), "%s", media);
	snprintf(m->proto, sizeof(m->proto), "%s", proto);
	m->port = (int) num(port, 0, 65535, 0);
	const char *f = line + used;
	while (*f && m->nfmt < UMFAX_SDP_MAX_FMT) {
		while (*f == ' ')
			f++;
		if (!*f)
			break;
		if (isdigit((unsigned char) *f)) {
			int pt = (int) num(f, 0, 127, -1);
			if (pt >= 0) {
				m->fmt[m->nfmt++] = pt;
				if (pt == 0)
					m->has_pcmu = 1;
				if (pt == 8)
					m->has_pcma = 1;
			}
		}
		while (*f && *f != ' ')
			f++;
	}
	if (!strcasecmp(media, "audio") && strstr(proto, "RTP"))
		m->kind = UMFAX_SDP_AUDIO;
	else if (!strcasecmp(media, "image") && !strcasecmp(proto, "udptl"))
		m->kind = UMFAX_SDP_T38_UDPTL;
	else if (!strcasecmp(media, "image") && (!strcasecmp(proto, "tcptl") ||
	    !strncasecmp(proto, "TCP", 3)))
		m->kind = UMFAX_SDP_T38_TCP;
	else if (!strcasecmp(media, "image") && !strcasecmp(proto, "UDP/udptl"))
		m->kind = UMFAX_SDP_T38_UDPTL;
	else
		m->kind = UMFAX_SDP_OTHER;
}

static void attribute(struct umfax_sdp_media *m, const char *a)
{
	const char *colon = strchr(a, ':');
	size_t nl = colon ? (size_t) (colon - a) : strlen(a);
	const char *v = colon ? colon + 1 : "";
#define IS(name) (nl == strlen(name) && !strncasecmp(a, name, nl))
	if (IS("T38FaxVersion"))
		m->t38_version = (int) num(v, 0, 255, -1);
	else if (IS("T38FaxMaxDatagram"))
		m->t38_max_datagram = (int) num(v, 0, 65535, 0);
	else if (IS("T38MaxBitRate"))
		m->t38_max_bit_rate = (int) num(v, 0, 1000000, 0);
	else if (IS("T38FaxUdpEC")) {
		while (*v == ' ')
			v++;
		if (!strncasecmp(v, "t38UDPRedundancy", 16))
			m->t38_udp_ec = UMFAX_SDP_EC_REDUNDANCY;
		else if (!strncasecmp(v, "t38UDPFEC", 9))
			m->t38_udp_ec = UMFAX_SDP_EC_FEC;
		else if (!strncasecmp(v, "t38UDPNoEC", 10))
			m->t38_udp_ec = UMFAX_SDP_EC_NONE;
	} else if (IS("T38FaxFillBitRemoval"))
		m->t38_fill_bit_removal = !colon || num(v, 0, 1, 1) == 1;
	else if (IS("inactive"))
		m->inactive = 1;
	else if (IS("rtpmap")) {
		int pt = (int) num(v, 0, 127, -1);
		const char *enc = v;
		while (*enc && *enc != ' ')
			enc++;
		while (*enc == ' ')
			enc++;
		if (pt >= 0) {
			if (!strncasecmp(enc, "PCMU/", 5))
				m->has_pcmu = 1;
			else if (!strncasecmp(enc, "PCMA/", 5))
				m->has_pcma = 1;
		}
	}
#undef IS
}

int umfax_sdp_parse(const char *buf, size_t len, struct umfax_sdp *sdp)
{
	const char *p = buf, *end = buf + len;
	int seen_v = 0;
	struct umfax_sdp_media *cur = NULL;

	memset(sdp, 0, sizeof(*sdp));
	if (!buf)
		return -1;
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t) (end - p));
		const char *next = e ? e + 1 : end;
		if (!e)
			e = end;
		if (e > p && e[-1] == '\r')
			e--;
		char line[1024];
		cut(line, sizeof(line), p, e);
		p = next;
		if (strlen(line) < 2 || line[1] != '=')
			continue;
		const char *v = line + 2;
		switch (line[0]) {
		case 'v':
			seen_v = 1;
			break;
		case 'c':
			if (cur)
				conn(cur->addr, sizeof(cur->addr), v);
			else
				conn(sdp->addr, sizeof(sdp->addr), v);
			break;
		case 'm':
			if (sdp->nmedia >= UMFAX_SDP_MAX_MEDIA) {
				cur = NULL;   /* attributes of extra media are ignored */
				break;
			}
			cur = &sdp->m[sdp->nmedia++];
			media_line(cur, v, sdp->addr);
			break;
		case 'a':
			if (cur)
				attribute(cur, v);
			break;
		default:
			break;
		}
	}
	/* media parsed before a later session-level c= get it too */
	for (int i = 0; i < sdp->nmedia; i++)
		if (!sdp->m[i].addr[0])
			cut(sdp->m[i].addr, sizeof(sdp->m[i].addr), sdp->addr, sdp->addr + strlen(sdp->addr));
	return seen_v && sdp->nmedia > 0 ? 0 : -1;
}

const struct umfax_sdp_media *umfax_sdp_find(const struct umfax_sdp *sdp, int kind)
{
	for (int i = 0; i < sdp->nmedia; i++)
		if (sdp->m[i].kind == kind && sdp->m[i].port > 0)
			return &sdp->m[i];
	return NULL;
}
