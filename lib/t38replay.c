/* t38replay.c - find the fax calls in a capture and decode each one */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "job.h"
#include "log.h"
#include "pcapsrc.h"
#include "sdp.h"
#include "sipcap.h"
#include "t38dec.h"
#include "t38replay.h"
#include "tpkt.h"
#include "udptl.h"

#include "g711call.h"

#define MAX_RECORDS   5000000
#define MAX_DATA      ((size_t) 1 << 30)
#define WINDOW_SLACK  2.0       /* seconds around a SIP-given media window */
#define AFTER_DONE    5.0       /* seconds of capture to keep feeding after T.30 ended */

enum skind { S_T38_UDP = 1, S_T38_TCP, S_G711 };

struct rec {
	double t;
	int flow;                 /* index into flows */
	uint8_t tcp_flags;
	uint32_t tcp_seq;
	size_t off;               /* into cap.data */
	uint32_t len;
};

struct flow {
	int proto, ipver;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	long npkt, nudptl, nrtp, ntpkt, nsip;
	long ifp_bytes;
	int rtp_pt;               /* 0 or 8, the last seen */
	double first, last;
	int claimed;
	int rev;                  /* the flow the other way, or -1 */
};

struct sdpev {
	double t;
	int call;
	int bye;                  /* a BYE, not an SDP */
	struct umfax_sdp sdp;
};

struct call {
	char call_id[256];
	char caller[128], caller_name[128], called[128];
	char recipient[320], um_context[1024];
	int have_invite;
};

struct session {
	int kind;
	int call;                 /* or -1 */
	double wstart, wend;      /* window, capture time */
	int ports[8], nports;
	int version;              /* from SDP, -1 unknown */
	int max_datagram, fill_bit_removal;
	int flows[4], nflows;
	int sender;               /* flow index */
	double start;             /* first packet */
};

struct result {
	struct umfax_replay_fax fx;
	char tiff[256];
	int have_tiff;
	int session;
	int is_fax;
};

struct cap {
	struct rec *r;
	size_t n, cap;
	uint8_t *data;
	size_t dlen, dcap;
	struct flow *f;
	int nf, capf;
	int *hash;                /* open addressing, -1 empty */
	size_t hcap;
	struct sdpev *ev;
	int nev, capev;
	struct call *calls;
	int ncalls, capcalls;
	struct session *s;
	int ns, caps;
	struct result *res;
	int nres, capres;
	const struct umfax_replay_opts *o;
	const char *name;
	char tmpdir[200];
	int ntmp;
};

/* ---- growing arrays ---- */

static int grow(void **p, int *cap, int need, size_t elem)
{
	if (need <= *cap)
		return 0;
	int nc = *cap ? *cap * 2 : 16;
	while (nc < need)
		nc *= 2;
	void *np = realloc(*p, (size_t) nc * elem);
	if (!np)
		return -1;
	*p = np;
	*cap = nc;
	return 0;
}

/* ---- flows ---- */

static uint64_t flow_hash(int proto, const uint8_t *src, const uint8_t *dst, uint16_t sp, uint16_t dp)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t) proto;
	for (int i = 0; i < 16; i++) {
		h = (h ^ src[i]) * 1099511628211ull;
		h = (h ^ dst[i]) * 1099511628211ull;
	}
	h = (h ^ sp) * 1099511628211ull;
	h = (h ^ dp) * 1099511628211ull;
	return h;
}

static int flow_same(const struct flow *f, int proto, const uint8_t *src, const uint8_t *dst,
    uint16_t sp, uint16_t dp)
{
	return f->proto == proto && f->sport == sp && f->dport == dp &&
	    !memcmp(f->src, src, 16) && !memcmp(f->dst, dst, 16);
}

static int rehash(struct cap *c, size_t ncap)
{
	int *nh = malloc(ncap * sizeof(int));
	if (!nh)
		return -1;
	for (size_t i = 0; i < ncap; i++)
		nh[i] = -1;
	for (int k = 0; k < c->nf; k++) {
		struct flow *f = &c->f[k];
		size_t h = (size_t) flow_hash(f->proto, f->src, f->dst, f->sport, f->dport) & (ncap - 1);
		while (nh[h] >= 0)
			h = (h + 1) & (ncap - 1);
		nh[h] = k;
	}
	free(c->hash);
	c->hash = nh;
	c->hcap = ncap;
	return 0;
}

static int flow_find(struct cap *c, int proto, const uint8_t *src, const uint8_t *dst,
    uint16_t sp, uint16_t dp, int create, int ipver)
{
	if (!c->hash && rehash(c, 1024) < 0)
		return -1;
	size_t h = (size_t) flow_hash(proto, src, dst, sp, dp) & (c->hcap - 1);
	while (c->hash[h] >= 0) {
		if (flow_same(&c->f[c->hash[h]], proto, src, dst, sp, dp))
			return c->hash[h];
		h = (h + 1) & (c->hcap - 1);
	}
	if (!create)
		return -1;
	if (grow((void **) &c->f, &c->capf, c->nf + 1, sizeof(struct flow)) < 0)
		return -1;
	struct flow *f = &c->f[c->nf];
	memset(f, 0, sizeof(*f));
	f->proto = proto;
	f->ipver = ipver;
	memcpy(f->src, src, 16);
	memcpy(f->dst, dst, 16);
	f->sport = sp;
	f->dport = dp;
	f->rev = -1;
	f->rtp_pt = -1;
	c->hash[h] = c->nf;
	c->nf++;
	if ((size_t) c->nf * 2 > c->hcap && rehash(c, c->hcap * 2) < 0)
		return -1;
	return c->nf - 1;
}

static void endpoint(char *dst, size_t n, int ipver, const uint8_t *a, int port)
{
	char as[64];
	umfax_pcapsrc_addr(as, sizeof(as), ipver, a);
	if (ipver == 6)
		snprintf(dst, n, "[%s]:%d", as, port);
	else
		snprintf(dst, n, "%s:%d", as, port);
}

/* ---- content ---- */

static int is_rtp_g711(const uint8_t *d, size_t len)
{
	return len >= 12 + 40 && (d[0] & 0xc0) == 0x80 && ((d[1] & 0x7f) == 0 || (d[1] & 0x7f) == 8);
}

static void classify(struct cap *c, struct flow *f, const uint8_t *d, size_t len)
{
	struct umfax_udptl_pkt up;
	f->npkt++;
	if (f->proto == UMFAX_PKT_UDP) {
		if (umfax_sip_looks_like((const char *) d, len))
			f->nsip++;
		else if (umfax_udptl_parse(d, len, &up) == 0) {
			f->nudptl++;
			f->ifp_bytes += (long) up.ifp_len;
		} else if (is_rtp_g711(d, len)) {
			f->nrtp++;
			f->rtp_pt = d[1] & 0x7f;
		}
	} else if (len) {
		if (umfax_sip_looks_like((const char *) d, len))
			f->nsip++;
		else if (umfax_tpkt_looks_like(d, len)) {
			f->ntpkt++;
			f->ifp_bytes += (long) len;
		}
	}
	(void) c;
}

/* ---- loading ---- */

static int load(struct cap *c, struct umfax_pcapsrc *src)
{
	struct umfax_pkt p;
	char err[512];
	int rc;

	while ((rc = umfax_pcapsrc_next(src, &p, err, sizeof(err))) == 1) {
		if (c->n >= MAX_RECORDS || c->dlen + p.len > MAX_DATA) {
			umfax_log(LOG_WARNING, NULL, NULL, "file=%s warning=\"capture too large, rest ignored\"", c->name);
			break;
		}
		if (p.proto == UMFAX_PKT_TCP && p.len == 0 && !(p.tcp_flags & UMFAX_TCP_SYN))
			continue;
		int fi = flow_find(c, p.proto, p.src, p.dst, p.sport, p.dport, 1, p.ipver);
		if (fi < 0)
			return -1;
		if (c->n >= c->cap) {
			size_t nc = c->cap ? c->cap * 2 : 4096;
			struct rec *nr = realloc(c->r, nc * sizeof(*nr));
			if (!nr)
				return -1;
			c->r = nr;
			c->cap = nc;
		}
		if (c->dlen + p.len > c->dcap) {
			size_t nc = c->dcap ? c->dcap : 65536;
			while (nc < c->dlen + p.len)
				nc *= 2;
			uint8_t *nd = realloc(c->data, nc);
			if (!nd)
				return -1;
			c->data = nd;
			c->dcap = nc;
		}
		struct rec *r = &c->r[c->n++];
		r->t = p.t;
		r->flow = fi;
		r->tcp_flags = p.tcp_flags;
		r->tcp_seq = p.tcp_seq;
		r->off = c->dlen;
		r->len = (uint32_t) p.len;
		if (p.len)
			memcpy(c->data + c->dlen, p.data, p.len);
		c->dlen += p.len;
		struct flow *f = &c->f[fi];
		if (f->npkt == 0)
			f->first = p.t;
		f->last = p.t;
		classify(c, f, p.data, p.len);
	}
	if (rc < 0)
		umfax_log(LOG_WARNING, NULL, NULL, "file=%s warning=\"damaged capture %s; using the frames before\"",
		    c->name, err);
	if (umfax_pcapsrc_bad(src) > 0)
		umfax_log(LOG_INFO, NULL, NULL, "file=%s skipped_frames=%ld reason=\"truncated or malformed\"",
		    c->name, umfax_pcapsrc_bad(src));
	for (int i = 0; i < c->nf; i++) {
		struct flow *f = &c->f[i];
		f->rev = flow_find(c, f->proto, f->dst, f->src, f->dport, f->sport, 0, f->ipver);
	}
	return 0;
}

/* ---- SIP ---- */

static int call_find(struct cap *c, const char *id)
{
	for (int i = 0; i < c->ncalls; i++)
		if (!strcmp(c->calls[i].call_id, id))
			return i;
	if (grow((void **) &c->calls, &c->capcalls, c->ncalls + 1, sizeof(struct call)) < 0)
		return -1;
	struct call *k = &c->calls[c->ncalls];
	memset(k, 0, sizeof(*k));
	snprintf(k->call_id, sizeof(k->call_id), "%s", id);
	return c->ncalls++;
}

static void clean_copy(char *dst, size_t n, const char *src)
{
	umfax_job_clean(dst, n, src, strlen(src));
}

static void sip_message(struct cap *c, double t, const struct umfax_sipmsg *m)
{
	if (!m->call_id[0])
		return;
	int ci = call_find(c, m->call_id);
	if (ci < 0)
		return;
	struct call *k = &c->calls[ci];
	if (m->request && !strcasecmp(m->method, "INVITE") && !k->have_invite) {
		char tmp[1024];
		k->have_invite = 1;
		const char *who = m->pai[0] ? m->pai : m->from;
		clean_copy(k->caller, sizeof(k->caller), umfax_sip_uri_user(tmp, sizeof(tmp), who));
		umfax_sip_display_name(tmp, sizeof(tmp), m->from);
		if (!tmp[0] && m->pai[0])
			umfax_sip_display_name(tmp, sizeof(tmp), m->pai);
		clean_copy(k->caller_name, sizeof(k->caller_name), tmp);
		umfax_sip_uri_user(tmp, sizeof(tmp), m->to);
		if (!tmp[0])
			umfax_sip_uri_user(tmp, sizeof(tmp), m->ruri);
		clean_copy(k->called, sizeof(k->called), tmp);
	}
	if (m->request && !strcasecmp(m->method, "INVITE") && m->referred_by[0] && !k->recipient[0]) {
		char tmp[1024];
		if (umfax_sip_uri_param(tmp, sizeof(tmp), m->referred_by, "msExchUMFaxRecipient")) {
			const char *a = tmp;
			if (!strncasecmp(a, "smtp:", 5))
				a += 5;
			clean_copy(k->recipient, sizeof(k->recipient), a);
		}
		if (umfax_sip_uri_param(tmp, sizeof(tmp), m->referred_by, "msExchUMContext"))
			clean_copy(k->um_context, sizeof(k->um_context), tmp);
	}
	int bye = m->request && !strcasecmp(m->method, "BYE");
	struct umfax_sdp sdp;
	int have_sdp = m->body_len > 0 && (!m->content_type[0] || strstr(m->content_type, "sdp") ||
	    strstr(m->content_type, "SDP")) && umfax_sdp_parse(m->body, m->body_len, &sdp) == 0;
	if (!bye && !have_sdp)
		return;
	if (grow((void **) &c->ev, &c->capev, c->nev + 1, sizeof(struct sdpev)) < 0)
		return;
	struct sdpev *e = &c->ev[c->nev++];
	memset(e, 0, sizeof(*e));
	e->t = t;
	e->call = ci;
	e->bye = bye;
	if (have_sdp)
		e->sdp = sdp;
}

static void follow_sip(struct cap *c)
{
	struct umfax_sipmsg m;
	/* UDP */
	for (size_t i = 0; i < c->n; i++) {
		struct rec *r = &c->r[i];
		struct flow *f = &c->f[r->flow];
		if (f->proto != UMFAX_PKT_UDP || !f->nsip)
			continue;
		const char *d = (const char *) c->data + r->off;
		if (umfax_sip_looks_like(d, r->len) && umfax_sip_parse(d, r->len, &m) > 0)
			sip_message(c, r->t, &m);
	}
	/* TCP: one stream per flow that carries SIP */
	for (int fi = 0; fi < c->nf; fi++) {
		struct flow *f = &c->f[fi];
		if (f->proto != UMFAX_PKT_TCP || !f->nsip)
			continue;
		struct umfax_tcpstream ts;
		umfax_tcpstream_init(&ts);
		for (size_t i = 0; i < c->n; i++) {
			struct rec *r = &c->r[i];
			if (r->flow != fi)
				continue;
			if (umfax_tcpstream_add(&ts, r->tcp_seq, r->tcp_flags, c->data + r->off, r->len) < 0) {
				umfax_tcpstream_consume(&ts, ts.len);
				continue;
			}
			for (int guard = 0; guard < 1000 && ts.len; guard++) {
				long used = umfax_sip_parse((const char *) ts.buf, ts.len, &m);
				if (used == 0)
					break;
				if (used < 0) {
					/* not at a message start: skip to the next line */
					uint8_t *nl = memchr(ts.buf, '\n', ts.len);
					umfax_tcpstream_consume(&ts, nl ? (size_t) (nl - ts.buf) + 1 : ts.len);
					continue;
				}
				sip_message(c, r->t, &m);
				umfax_tcpstream_consume(&ts, (size_t) used);
			}
		}
		umfax_tcpstream_release(&ts);
	}
}

/* ---- sessions ---- */

static struct session *new_session(struct cap *c, int kind, int call, double ws, double we)
{
	if (grow((void **) &c->s, &c->caps, c->ns + 1, sizeof(struct session)) < 0)
		return NULL;
	struct session *s = &c->s[c->ns++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->call = call;
	s->wstart = ws;
	s->wend = we;
	s->version = -1;
	s->sender = -1;
	return s;
}

static void add_port(struct session *s, int port)
{
	for (int i = 0; i < s->nports; i++)
		if (s->ports[i] == port)
			return;
	if (s->nports < 8 && port > 0)
		s->ports[s->nports++] = port;
}

static int media_kind_of(const struct umfax_sdp *sdp, int want)
{
	if (want == S_T38_UDP)
		return umfax_sdp_find(sdp, UMFAX_SDP_T38_UDPTL) != NULL;
	if (want == S_T38_TCP)
		return umfax_sdp_find(sdp, UMFAX_SDP_T38_TCP) != NULL;
	const struct umfax_sdp_media *m = umfax_sdp_find(sdp, UMFAX_SDP_AUDIO);
	return m && (m->has_pcma || m->has_pcmu);
}

/* From the SDP timeline of each call, the windows in which it had T.38 or
 * G.711 media, and their ports and parameters. */
static void sip_sessions(struct cap *c)
{
	static const int kinds[] = { S_T38_UDP, S_T38_TCP, S_G711 };
	for (int ci = 0; ci < c->ncalls; ci++) {
		for (int kk = 0; kk < 3; kk++) {
			int kind = kinds[kk];
			struct session *cur = NULL;
			for (int i = 0; i < c->nev; i++) {
				struct sdpev *e = &c->ev[i];
				if (e->call != ci)
					continue;
				if (e->bye || !media_kind_of(&e->sdp, kind)) {
					if (cur && (e->bye || e->sdp.nmedia > 0)) {
						cur->wend = e->t;
						cur = NULL;
					}
					continue;
				}
				if (!cur && !(cur = new_session(c, kind, ci, e->t, INFINITY)))
					return;
				const struct umfax_sdp_media *m = umfax_sdp_find(&e->sdp,
				    kind == S_T38_UDP ? UMFAX_SDP_T38_UDPTL :
				    kind == S_T38_TCP ? UMFAX_SDP_T38_TCP : UMFAX_SDP_AUDIO);
				add_port(cur, m->port);
				if (m->t38_version >= 0 && (cur->version < 0 || m->t38_version < cur->version))
					cur->version = m->t38_version > 3 ? 3 : m->t38_version;
				if (m->t38_max_datagram > 0)
					cur->max_datagram = m->t38_max_datagram;
				if (m->t38_fill_bit_removal)
					cur->fill_bit_removal = 1;
			}
		}
	}
}

static int host_ok(const struct cap *c, const struct flow *f)
{
	if (!c->o->host)
		return 1;
	uint8_t a[16];
	int v = umfax_pcapsrc_parse_addr(c->o->host, a);
	return v == f->ipver && (!memcmp(a, f->src, 16) || !memcmp(a, f->dst, 16));
}

static int port_ok(const struct cap *c, const struct flow *f)
{
	return !c->o->port || f->sport == c->o->port || f->dport == c->o->port;
}

static int flow_fits(int kind, const struct flow *f)
{
	if (kind == S_T38_UDP)
		return f->proto == UMFAX_PKT_UDP && f->nudptl > 0;
	if (kind == S_T38_TCP)
		return f->proto == UMFAX_PKT_TCP && f->ntpkt > 0;
	return f->proto == UMFAX_PKT_UDP && f->nrtp > 0;
}

/* Attach the flows a SIP session's ports name (by port, whatever the
 * address: NAT rewrites addresses, not the port the far end listens on). */
static void attach_flows(struct cap *c, struct session *s)
{
	for (int fi = 0; fi < c->nf && s->nflows < 4; fi++) {
		struct flow *f = &c->f[fi];
		if (!flow_fits(s->kind, f))
			continue;
		if (f->last < s->wstart - WINDOW_SLACK || f->first > s->wend + WINDOW_SLACK)
			continue;
		int hit = 0;
		for (int i = 0; i < s->nports; i++)
			if (f->dport == s->ports[i] || f->sport == s->ports[i])
				hit = 1;
		if (!hit)
			continue;
		/* Two SIP legs of one call (gateway and PBX side) can name the same
		 * media: the first session that claimed a flow for this time keeps it. */
		int taken = 0;
		for (int k = 0; k < c->ns; k++) {
			struct session *o = &c->s[k];
			if (o == s || o->kind != s->kind || o->wend < s->wstart || o->wstart > s->wend)
				continue;
			for (int j = 0; j < o->nflows; j++)
				if (o->flows[j] == fi)
					taken = 1;
		}
		if (taken)
			continue;
		s->flows[s->nflows++] = fi;
		f->claimed = 1;
	}
}

/* Streams no SIP explained, recognised by what they carry. */
static void content_sessions(struct cap *c)
{
	for (int fi = 0; fi < c->nf; fi++) {
		struct flow *f = &c->f[fi];
		if (f->claimed)
			continue;
		int kind = 0;
		if (f->proto == UMFAX_PKT_UDP && f->nudptl >= 8 && f->nudptl * 4 >= f->npkt)
			kind = S_T38_UDP;
		else if (f->proto == UMFAX_PKT_TCP && f->ntpkt >= 4 && f->ntpkt * 2 >= f->npkt - f->nsip)
			kind = S_T38_TCP;
		else if (f->proto == UMFAX_PKT_UDP && f->nrtp >= 50 && f->nrtp * 2 >= f->npkt)
			kind = S_G711;
		if (!kind)
			continue;
		struct flow *rv = f->rev >= 0 ? &c->f[f->rev] : NULL;
		/* A SIP session of this kind that found no stream at its ports, at
		 * the same time: the media went elsewhere (port-changing NAT, a far
		 * end that kept the old port); give the stream that call. */
		int call = -1, sv = -1, smd = 0, sfb = 0;
		int nsess = c->ns;
		for (int k = 0; k < nsess; k++) {
			struct session *o = &c->s[k];
			if (o->kind == kind && o->call >= 0 && o->nflows == 0 &&
			    o->wstart - WINDOW_SLACK <= f->last && o->wend + WINDOW_SLACK >= f->first) {
				call = o->call;
				sv = o->version;
				smd = o->max_datagram;
				sfb = o->fill_bit_removal;
				break;
			}
		}
		struct session *s = new_session(c, kind, call, f->first, f->last);
		if (!s)
			return;
		s->version = sv;
		s->max_datagram = smd;
		s->fill_bit_removal = sfb;
		s->flows[s->nflows++] = fi;
		f->claimed = 1;
		if (rv && !rv->claimed && flow_fits(kind, rv)) {
			s->flows[s->nflows++] = f->rev;
			rv->claimed = 1;
			if (rv->first < s->wstart)
				s->wstart = rv->first;
			if (rv->last > s->wend)
				s->wend = rv->last;
		}
	}
}

static int session_selected(struct cap *c, struct session *s)
{
	if (c->o->call_id && (s->call < 0 || strcmp(c->calls[s->call].call_id, c->o->call_id)))
		return 0;
	int ok = 0;
	for (int i = 0; i < s->nflows; i++)
		if (host_ok(c, &c->f[s->flows[i]]) && port_ok(c, &c->f[s->flows[i]]))
			ok = 1;
	return ok;
}

static int in_window(const struct session *s, double t)
{
	return t >= s->wstart - (s->call >= 0 ? WINDOW_SLACK : 0) && t <= s->wend + (s->call >= 0 ? WINDOW_SLACK : 0);
}

/* The sender is the direction that carries the most T.38 payload in the window. */
static void pick_sender(struct cap *c, struct session *s)
{
	long best = -1;
	long bytes[4] = { 0 };
	s->start = INFINITY;
	for (size_t i = 0; i < c->n; i++) {
		struct rec *r = &c->r[i];
		if (!in_window(s, r->t))
			continue;
		for (int k = 0; k < s->nflows; k++) {
			if (r->flow != s->flows[k])
				continue;
			bytes[k] += r->len;
			if (r->t < s->start)
				s->start = r->t;
		}
	}
	for (int k = 0; k < s->nflows; k++)
		if (bytes[k] > best) {
			best = bytes[k];
			s->sender = s->flows[k];
		}
}

/* ---- decoding ---- */

struct feed {
	struct umfax_t38dec *dec;
};

static void deliver_ifp(void *arg, uint16_t seq, const uint8_t *ifp, size_t len, int lost)
{
	struct feed *fd = arg;
	if (!lost)
		umfax_t38dec_ifp(fd->dec, ifp, len, seq);
}

struct framectx {
	struct cap *c;
	char who[2][80];
	double t0;                /* G.711: the decoder reports capture times */
};

static void frame_line(void *arg, double t, int from_sender, const char *text)
{
	struct framectx *fc = arg;
	char line[512];
	snprintf(line, sizeof(line), "%8.3f %s %s", t, from_sender ? "sender  " : "receiver", text);
	if (fc->c->o->frame_log)
		fc->c->o->frame_log(fc->c->o->frame_arg, line);
}

/* A name for a TIFF in the replay's private directory (mode 0700, made
 * with mkdtemp in $TMPDIR or /tmp); spandsp creates the file itself. */
static int make_tmp(struct cap *c, char *path, size_t n)
{
	if (!c->tmpdir[0]) {
		const char *dir = getenv("TMPDIR");
		if (!dir || !*dir)
			dir = "/tmp";
		snprintf(c->tmpdir, sizeof(c->tmpdir), "%s/t38recv.XXXXXX", dir);
		if (!mkdtemp(c->tmpdir)) {
			c->tmpdir[0] = '\0';
			return -1;
		}
	}
	snprintf(path, n, "%s/%d.tif", c->tmpdir, ++c->ntmp);
	return 0;
}

/* Decode session S as T.38 of VERSION into TIFF; fill INFO. */
static int decode_t38(struct cap *c, struct session *s, int version, const char *tiff,
    struct umfax_faxinfo *info, int log_frames)
{
	struct umfax_t38dec_conf conf = {
		.version = version,
		.transport = s->kind == S_T38_TCP ? UMFAX_T38_TCP : UMFAX_T38_UDPTL,
		.max_datagram = s->max_datagram,
		.fill_bit_removal = s->fill_bit_removal,
		.local_ident = c->o->local_ident,
	};
	struct umfax_t38dec *dec = umfax_t38dec_new(tiff, &conf);
	if (!dec)
		return -1;
	struct framectx fc = { .c = c };
	if (log_frames) {
		umfax_t38dec_set_frame_log(dec, frame_line, &fc);
		if (c->o->frame_log && s->sender >= 0) {
			char a[80], b[80], line[512];
			struct flow *f = &c->f[s->sender];
			endpoint(a, sizeof(a), f->ipver, f->src, f->sport);
			endpoint(b, sizeof(b), f->ipver, f->dst, f->dport);
			snprintf(line, sizeof(line), "fax session: T.38 version %d over %s, sender %s -> receiver %s%s%s",
			    version, s->kind == S_T38_TCP ? "TCP/TPKT" : "UDPTL", a, b,
			    s->call >= 0 ? ", call " : "", s->call >= 0 ? c->calls[s->call].call_id : "");
			c->o->frame_log(c->o->frame_arg, line);
		}
	}
	struct feed fd = { dec };
	struct umfax_udptl_rx rx;
	struct umfax_tcpstream ts;
	umfax_tcpstream_init(&ts);
	if (umfax_udptl_rx_init(&rx, 2, deliver_ifp, &fd) < 0) {
		umfax_t38dec_free(dec);
		return -1;
	}
	uint16_t tcpseq = 0;
	double done_at = -1;
	for (size_t i = 0; i < c->n; i++) {
		struct rec *r = &c->r[i];
		if (r->t < s->start)
			continue;
		if (r->t > s->wend + (s->call >= 0 ? WINDOW_SLACK : 0))
			break;
		umfax_t38dec_clock(dec, r->t);
		if (umfax_t38dec_done(dec)) {
			if (done_at < 0)
				done_at = r->t;
			else if (r->t - done_at > AFTER_DONE)
				break;
		}
		if (r->flow != s->sender)
			continue;
		const uint8_t *d = c->data + r->off;
		if (s->kind == S_T38_UDP) {
			umfax_udptl_rx_packet(&rx, d, r->len);
			continue;
		}
		if (umfax_tcpstream_add(&ts, r->tcp_seq, r->tcp_flags, d, r->len) < 0)
			continue;
		for (int guard = 0; guard < 100000 && ts.len; guard++) {
			const uint8_t *pl;
			size_t plen, used;
			int k = umfax_tpkt_frame(ts.buf, ts.len, &pl, &plen, &used);
			if (k == 0)
				break;
			if (k < 0) {
				umfax_tcpstream_consume(&ts, 1);
				continue;
			}
			umfax_t38dec_ifp(dec, pl, plen, tcpseq++);
			umfax_tcpstream_consume(&ts, used);
		}
	}
	umfax_udptl_rx_flush(&rx);
	if (s->kind == S_T38_UDP && (rx.bad || rx.lost || rx.from_fec))
		umfax_log(log_frames ? LOG_INFO : LOG_DEBUG, NULL, s->call >= 0 ? c->calls[s->call].call_id : NULL,
		    "udptl_packets=%ld not_udptl=%ld duplicates=%ld late=%ld from_redundancy=%ld from_fec=%ld lost=%ld",
		    rx.packets, rx.bad, rx.dups, rx.late, rx.from_red, rx.from_fec, rx.lost);
	int rc = umfax_t38dec_finish(dec, info);
	umfax_udptl_rx_release(&rx);
	umfax_tcpstream_release(&ts);
	umfax_t38dec_free(dec);
	return rc;
}

static int better(const struct umfax_faxinfo *a, const struct umfax_faxinfo *b)
{
	if (a->pages != b->pages)
		return a->pages > b->pages;
	if ((a->status == UMFAX_FAX_COMPLETE) != (b->status == UMFAX_FAX_COMPLETE))
		return a->status == UMFAX_FAX_COMPLETE;
	return a->bad_rows < b->bad_rows;
}

static void fill_common(struct cap *c, struct session *s, struct result *res)
{
	struct umfax_replay_fax *fx = &res->fx;
	fx->start = s->start;
	if (s->call >= 0) {
		struct call *k = &c->calls[s->call];
		clean_copy(fx->call_id, sizeof(fx->call_id), k->call_id);
		snprintf(fx->caller, sizeof(fx->caller), "%s", k->caller);
		snprintf(fx->caller_name, sizeof(fx->caller_name), "%s", k->caller_name);
		snprintf(fx->called, sizeof(fx->called), "%s", k->called);
		snprintf(fx->recipient, sizeof(fx->recipient), "%s", k->recipient);
		snprintf(fx->um_context, sizeof(fx->um_context), "%s", k->um_context);
	}
	if (s->sender >= 0 && s->kind != S_G711) {   /* G.711: both directions, sender unknown here */
		struct flow *f = &c->f[s->sender];
		endpoint(fx->sender, sizeof(fx->sender), f->ipver, f->src, f->sport);
		endpoint(fx->receiver, sizeof(fx->receiver), f->ipver, f->dst, f->dport);
	}
}

static struct result *new_result(struct cap *c, int si)
{
	if (grow((void **) &c->res, &c->capres, c->nres + 1, sizeof(struct result)) < 0)
		return NULL;
	struct result *res = &c->res[c->nres++];
	memset(res, 0, sizeof(*res));
	res->session = si;
	return res;
}

static void decode_session_t38(struct cap *c, int si)
{
	struct session *s = &c->s[si];
	struct result *res = new_result(c, si);
	if (!res)
		return;
	fill_common(c, s, res);
	res->is_fax = 1;
	res->fx.transport = s->kind == S_T38_TCP ? "t38-tcp" : "t38-udptl";
	if (make_tmp(c, res->tiff, sizeof(res->tiff)) < 0) {
		umfax_log(LOG_ERR, NULL, NULL, "error=\"cannot make a temporary file: %s\"", strerror(errno));
		res->fx.info.status = UMFAX_FAX_ERROR;
		return;
	}
	res->have_tiff = 1;
	int version = s->version;
	res->fx.version_from = "sdp";
	if (c->o->t38_version >= 0) {
		version = c->o->t38_version;
		res->fx.version_from = "option";
	}
	if (version >= 0) {
		decode_t38(c, s, version, res->tiff, &res->fx.info, c->o->frames);
		res->fx.t38_version = version;
		return;
	}
	/* No SDP said: try the versions, keep the best (their IFP encodings differ). */
	static const int tries[] = { 0, 2, 3 };
	struct umfax_faxinfo best;
	int best_v = -1;
	char alt[256];
	res->fx.version_from = "detected";
	for (int k = 0; k < 3; k++) {
		struct umfax_faxinfo info;
		const char *path = best_v < 0 ? res->tiff : alt;
		if (best_v >= 0 && make_tmp(c, alt, sizeof(alt)) < 0)
			break;
		decode_t38(c, s, tries[k], path, &info, 0);
		if (best_v < 0 || better(&info, &best)) {
			if (best_v >= 0 && rename(alt, res->tiff) < 0)
				unlink(res->tiff);
			best = info;
			best_v = tries[k];
		} else if (best_v >= 0 && path == alt) {
			unlink(alt);
		}
		if (best.status == UMFAX_FAX_COMPLETE)
			break;
	}
	res->fx.info = best;
	res->fx.t38_version = best_v;
	if (c->o->frames) {
		/* run the chosen version once more, to show its frames */
		char again[256];
		struct umfax_faxinfo info;
		if (make_tmp(c, again, sizeof(again)) == 0) {
			decode_t38(c, s, best_v, again, &info, 1);
			unlink(again);
		}
	}
}

static void g711_frame(void *arg, int dir, double t, const char *text)
{
	struct framectx *fc = arg;
	char line[512];
	snprintf(line, sizeof(line), "%8.3f %s  %s", t - fc->t0, fc->who[dir & 1], text);
	if (fc->c->o->frame_log)
		fc->c->o->frame_log(fc->c->o->frame_arg, line);
}

static void decode_session_g711(struct cap *c, int si)
{
	struct session *s = &c->s[si];
	struct result *res = new_result(c, si);
	if (!res)
		return;
	fill_common(c, s, res);
	res->fx.t38_version = -1;
	res->fx.transport = s->sender >= 0 && c->f[s->sender].rtp_pt == 0 ? "g711-ulaw" : "g711-alaw";
	if (make_tmp(c, res->tiff, sizeof(res->tiff)) < 0) {
		res->fx.info.status = UMFAX_FAX_ERROR;
		return;
	}
	res->have_tiff = 1;
	struct umfax_g711call *g = umfax_g711call_new(res->tiff);
	if (!g) {
		res->fx.info.status = UMFAX_FAX_ERROR;
		return;
	}
	struct framectx fc = { .c = c, .t0 = s->start };
	if (c->o->frames) {
		char line[512];
		for (int k = 0; k < 2; k++) {
			if (k < s->nflows) {
				struct flow *f = &c->f[s->flows[k]];
				endpoint(fc.who[k], sizeof(fc.who[k]), f->ipver, f->src, f->sport);
			} else {
				snprintf(fc.who[k], sizeof(fc.who[k]), "-");
			}
		}
		snprintf(line, sizeof(line), "fax session: G.711 (%s), %s <-> %s%s%s", res->fx.transport,
		    fc.who[0], fc.who[1], s->call >= 0 ? ", call " : "", s->call >= 0 ? c->calls[s->call].call_id : "");
		c->o->frame_log(c->o->frame_arg, line);
		umfax_g711call_set_frame_log(g, g711_frame, &fc);
	}
	for (size_t i = 0; i < c->n; i++) {
		struct rec *r = &c->r[i];
		if (!in_window(s, r->t))
			continue;
		for (int k = 0; k < s->nflows && k < 2; k++)
			if (r->flow == s->flows[k])
				umfax_g711call_packet(g, k, r->t, c->data + r->off, r->len);
	}
	res->is_fax = umfax_g711call_is_fax(g);
	if (umfax_g711call_finish(g, &res->fx.info) < 0)
		res->fx.info.status = UMFAX_FAX_ERROR;
	umfax_g711call_free(g);
}

static int cmp_start(const void *a, const void *b)
{
	const struct result *x = a, *y = b;
	if (x->fx.start < y->fx.start)
		return -1;
	if (x->fx.start > y->fx.start)
		return 1;
	return x->session - y->session;
}

/* Which results become jobs: per call, the faxes with pages; a call without
 * any page gives one no-pages job when asked for (and only if it was a fax). */
static int report(struct cap *c, umfax_replay_fn *fn, void *arg)
{
	if (c->nres > 1)
		qsort(c->res, (size_t) c->nres, sizeof(*c->res), cmp_start);
	int rc = 0;
	for (int i = 0; i < c->nres && !rc; i++) {
		struct result *res = &c->res[i];
		struct session *s = &c->s[res->session];
		if (res->fx.info.pages <= 0) {
			if (!c->o->keep_empty || !res->is_fax)
				continue;
			if (res->fx.info.status != UMFAX_FAX_ERROR)
				res->fx.info.status = UMFAX_FAX_NO_PAGES;
			/* a call that has a fax with pages, or an earlier empty report, gets no other */
			int skip = 0;
			for (int j = 0; j < c->nres; j++) {
				struct session *o = &c->s[c->res[j].session];
				if (j == i || s->call < 0 || o->call != s->call)
					continue;
				int i_audio = s->kind == S_G711, j_audio = o->kind == S_G711;
				if (c->res[j].fx.info.pages > 0)
					skip = 1;            /* the call has a fax with pages */
				else if (c->res[j].is_fax && (i_audio && !j_audio))
					skip = 1;            /* its T.38 part says more than its audio */
				else if (c->res[j].is_fax && i_audio == j_audio && j < i)
					skip = 1;            /* one empty report per call */
			}
			if (skip)
				continue;
		}
		res->fx.tiff_path = res->fx.info.pages > 0 ? res->tiff : NULL;
		rc = fn(arg, &res->fx);
	}
	return rc;
}

static void cap_free(struct cap *c)
{
	for (int i = 0; i < c->nres; i++)
		if (c->res[i].have_tiff)
			unlink(c->res[i].tiff);
	if (c->tmpdir[0]) {
		for (int i = 1; i <= c->ntmp; i++) {
			char p[256];
			snprintf(p, sizeof(p), "%s/%d.tif", c->tmpdir, i);
			unlink(p);
		}
		rmdir(c->tmpdir);
	}
	free(c->r);
	free(c->data);
	free(c->f);
	free(c->hash);
	free(c->ev);
	free(c->calls);
	free(c->s);
	free(c->res);
}

static int replay(struct umfax_pcapsrc *src, const char *name, const struct umfax_replay_opts *o,
    umfax_replay_fn *fn, void *arg, char *err, size_t errlen)
{
	struct cap c;
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.name = name;
	if (load(&c, src) < 0) {
		snprintf(err, errlen, "%s: out of memory", name);
		cap_free(&c);
		return -1;
	}
	follow_sip(&c);
	sip_sessions(&c);
	for (int i = 0; i < c.ns; i++)
		attach_flows(&c, &c.s[i]);
	content_sessions(&c);
	for (int i = 0; i < c.ns; i++) {
		struct session *s = &c.s[i];
		if (s->nflows == 0 || !session_selected(&c, s))
			continue;
		pick_sender(&c, s);
		if (s->sender < 0 || !isfinite(s->start))
			continue;
		if (s->kind == S_G711)
			decode_session_g711(&c, i);
		else
			decode_session_t38(&c, i);
	}
	int rc = report(&c, fn, arg);
	cap_free(&c);
	return rc;
}

int umfax_replay_file(const char *path, const struct umfax_replay_opts *o,
    umfax_replay_fn *fn, void *arg, char *err, size_t errlen)
{
	struct umfax_pcapsrc *src = umfax_pcapsrc_open(path, err, errlen);
	if (!src)
		return -1;
	int rc = replay(src, path, o, fn, arg, err, errlen);
	umfax_pcapsrc_close(src);
	return rc;
}

int umfax_replay_mem(const void *buf, size_t len, const struct umfax_replay_opts *o,
    umfax_replay_fn *fn, void *arg, char *err, size_t errlen)
{
	struct umfax_pcapsrc *src = umfax_pcapsrc_open_mem(buf, len, err, errlen);
	if (!src)
		return -1;
	int rc = replay(src, "(memory)", o, fn, arg, err, errlen);
	umfax_pcapsrc_close(src);
	return rc;
}
