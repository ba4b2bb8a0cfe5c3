/* t38live.c - t38recv's live mode: SIP UAS + T.38/G.711 media in one epoll loop */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <osipparser2/osip_parser.h>

#include "conf.h"
#include "directory.h"
#include "faxsess.h"
#include "job.h"
#include "log.h"
#include "sdp.h"
#include "sipcap.h"
#include "sipmsg.h"
#include "spool.h"
#include "t38live.h"
#include "tls.h"

#define TICK_MS       20
#define T1_MS         500
#define T2_MS         4000
#define SIPBUF        65536
#define BYE_WAIT_MS   2000        /* after T.30 ends, wait this long for the far end's BYE */
#define TCP_IDLE_MS   60000
#define MIN_SE        90          /* RFC 4028: the smallest Session-Expires we take */
#define MIN_SE_TEXT   "90"
#define MAX_ALLOW     32
#define MAX_CONNS     1024        /* SIP TCP connections at once */

enum ev_type { EV_SIPUDP = 1, EV_SIPTCPL, EV_SIPTLSL, EV_SIPTCP, EV_T38TCPL, EV_T38TCP, EV_MEDIA, EV_TIMER, EV_SIGNAL };

struct ev {
	int type;
	int fd;
	void *p;
};

struct conn {                     /* a SIP TCP or TLS connection */
	struct ev ev;
	struct conn *next;
	struct umfax_tls_conn *tls;       /* NULL: plain TCP */
	int handshaking;                  /* TLS: until the handshake is done */
	char buf[SIPBUF + 1];
	size_t len;
	long last_ms;
	int dead;
};

struct route {                    /* where SIP messages of a call go */
	int tcp;
	int fd;                   /* UDP socket */
	struct conn *conn;        /* TCP */
	struct sockaddr_storage peer;
	socklen_t plen;
};

enum call_state { CS_ANSWERED = 1, CS_CONFIRMED, CS_BYE_SENT, CS_GONE };

struct call {
	struct call *next;
	int sip;                  /* 0: an unsignalled T.38/TCP session */
	int state;
	char call_id[256];
	char from_tag[128];
	char our_tag[17];
	struct route rt;
	struct sockaddr_storage local;      /* our address towards the peer (SDP) */
	char local_ip[INET6_ADDRSTRLEN];
	/* INVITE server transaction: the 2xx, retransmitted until the ACK */
	unsigned long inv_cseq;
	char inv_branch[128];
	char resp[4096];
	size_t resp_len;
	long rtx_at, rtx_iv, rtx_end;
	/* dialog, for our BYE */
	char remote_target[UMFAX_SIP_MAX_URI];
	char their_from[1024];    /* their From header value (our To) */
	char their_to[1024];      /* their To header value (our From), with our tag */
	unsigned long our_cseq;
	char bye[2048];
	size_t bye_len;
	long bye_at, bye_iv, bye_end;
	long session_expires;     /* seconds, 0: no session timer */
	/* our re-INVITE from G.711 to T.38 (t38live_reinvite) */
	int rv_state;             /* 0 not yet, 1 sent, 2 answered */
	unsigned long rv_cseq;
	char rv_branch[40];
	char rv[4096];
	size_t rv_len;
	long rv_at, rv_iv, rv_end;
	long refresh_deadline;
	/* SDP */
	unsigned long sdp_version;
	int kind;                 /* enum umfax_faxsess_kind, -1 before media */
	int t38_version, max_datagram, rate_tcf, fill_bit_removal;
	int pt;                   /* G.711 payload type */
	/* media */
	struct umfax_faxsess *fs;
	struct ev media;          /* UDP socket (UDPTL or RTP) */
	int media_port;
	struct sockaddr_storage mpeer;
	socklen_t mplen;
	struct ev *tconn;         /* T.38 TCP connection (EV_T38TCP) */
	/* the job */
	char job_id[UMFAX_JOB_ID_MAX + 1];
	char tiff[PATH_MAX];
	char caller[128], caller_name[128], called[128], recipient[320], context[2048];
	char peer_text[80];
	long start_ms, done_ms, deadline_ms;
	time_t start_wall;
	int committed;
	long foreign;             /* media datagrams from other addresses, dropped */
	const struct froute *ro;  /* the umfax.conf route the call took */
};

/* A [route NAME] of umfax.conf, resolved at start; the last one of srv's
 * table holds the global settings and takes every call no route took. */
struct froute {
	const char *name;         /* "default" for the global settings */
	char called[1100];        /* route_called ("" any) */
	struct umfax_iprange source[MAX_ALLOW], allow[MAX_ALLOW];
	int nsource, nallow;
	int prefer_g711, reinvite, ecm, redundancy, t38_version, fec_span, fec_entries;
	char fastest[8];          /* t38live_fastest_modem, as written in SDP */
	char ident[24];           /* local_ident (CSI) */
};

struct srv {
	int ep;
	struct umfax_spool sp;
	struct umfax_dir dir;
	int have_dir;
	struct conn *conns;
	int nconns;
	struct call *calls;
	int ncalls;
	int ndone;
	int stop;
	int udpfd;
	unsigned long long salt;
	struct froute *routes;    /* umfax.conf's routes, then the global settings */
	struct umfax_tls *tls;    /* SIP over TLS, or NULL */
	int nroutes;
	const struct umfax_t38live_cfg *cfg;
	int tcp_port;
	char media_addr[INET6_ADDRSTRLEN];
	int worst;
};

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static const char *addr_text(char *dst, size_t n, const struct sockaddr_storage *ss)
{
	char h[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *) ss;
		inet_ntop(AF_INET, &a->sin_addr, h, sizeof h);
		port = ntohs(a->sin_port);
		snprintf(dst, n, "%s:%d", h, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *) ss;
		inet_ntop(AF_INET6, &a->sin6_addr, h, sizeof h);
		port = ntohs(a->sin6_port);
		snprintf(dst, n, "[%s]:%d", h, port);
	} else {
		snprintf(dst, n, "?");
	}
	return dst;
}

static void ip_only(char *dst, size_t n, const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) (const void *) ss)->sin6_addr, dst, (socklen_t) n);
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *) (const void *) ss)->sin_addr, dst, (socklen_t) n);
}

static int same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	char x[INET6_ADDRSTRLEN], y[INET6_ADDRSTRLEN];
	ip_only(x, sizeof x, a);
	ip_only(y, sizeof y, b);
	return strcmp(x, y) == 0;
}

/* "ADDR:PORT", "[V6]:PORT", "PORT" */
static int parse_hostport(const char *spec, int defport, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256];
	const char *port = NULL;
	memset(ss, 0, sizeof *ss);
	if (spec[0] == '[') {
		const char *e = strchr(spec, ']');
		if (!e || (size_t) (e - spec - 1) >= sizeof host)
			return -1;
		memcpy(host, spec + 1, (size_t) (e - spec - 1));
		host[e - spec - 1] = 0;
		if (e[1] == ':')
			port = e + 2;
		else if (e[1])
			return -1;
	} else {
		const char *c = strrchr(spec, ':');
		if (!c && strspn(spec, "0123456789") == strlen(spec) && *spec) {
			snprintf(host, sizeof host, "0.0.0.0");
			port = spec;
		} else {
			size_t hl = c ? (size_t) (c - spec) : strlen(spec);
			if (hl >= sizeof host)
				return -1;
			memcpy(host, spec, hl);
			host[hl] = 0;
			port = c ? c + 1 : NULL;
		}
	}
	long p = defport;
	if (port) {
		char *e;
		p = strtol(port, &e, 10);
		if (*e || p < 0 || p > 65535 || e == port)
			return -1;
	}
	struct sockaddr_in *a4 = (void *) ss;
	struct sockaddr_in6 *a6 = (void *) ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t) p);
		*len = sizeof *a4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t) p);
		*len = sizeof *a6;
		return 0;
	}
	return -1;
}

static void set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *) (void *) ss)->sin6_port = htons((uint16_t) port);
	else
		((struct sockaddr_in *) (void *) ss)->sin_port = htons((uint16_t) port);
}

static int get_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *) (const void *) ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *) (const void *) ss)->sin_port);
}

static socklen_t ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static int ep_add(struct srv *s, struct ev *e, uint32_t events)
{
	struct epoll_event ee = { .events = events, .data.ptr = e };
	return epoll_ctl(s->ep, EPOLL_CTL_ADD, e->fd, &ee);
}

static void ev_close(struct srv *s, struct ev *e)
{
	if (e->fd >= 0) {
		epoll_ctl(s->ep, EPOLL_CTL_DEL, e->fd, NULL);
		close(e->fd);
		e->fd = -1;
	}
}


/* ---------------------------------------------------------------- SIP output */

/* "udp", "tcp" or "tls" for Contact; UPPER for Via. */
static const char *rt_transport(const struct route *rt, int upper)
{
	if (!rt->tcp)
		return upper ? "UDP" : "udp";
	if (rt->conn && rt->conn->tls)
		return upper ? "TLS" : "tls";
	return upper ? "TCP" : "tcp";
}

static void sip_send(struct srv *s, const struct route *rt, const char *buf, size_t len)
{
	if (rt->tcp) {
		if (!rt->conn || rt->conn->dead)
			return;
		size_t off = 0;
		while (off < len) {
			ssize_t w = rt->conn->tls ? umfax_tls_write(rt->conn->tls, buf + off, len - off) :
			    send(rt->conn->ev.fd, buf + off, len - off, MSG_NOSIGNAL);
			if (w < 0 && !rt->conn->tls && errno == EINTR)
				continue;
			if (w <= 0) {
				rt->conn->dead = 1;
				return;
			}
			off += (size_t) w;
		}
	} else {
		if (sendto(rt->fd, buf, len, 0, (const struct sockaddr *) &rt->peer, rt->plen) < 0)
			umfax_log(LOG_DEBUG, NULL, NULL, "event=sip-send error=\"%s\"", strerror(errno));
	}
	(void) s;
}

/* A response to M, with extra header lines and a body (SDP) or none. */
static int respond(struct srv *s, const struct route *rt, const struct umfax_sip_msg *m,
    int code, const char *totag, const char *extra, const char *body, char *keep, size_t keepn)
{
	char out[8192], ex[2048];
	if (body) {
		if ((size_t) snprintf(ex, sizeof ex, "%sContent-Type: application/sdp\r\n", extra ? extra : "") >= sizeof ex)
			return -1;
		extra = ex;
	}
	int n = umfax_sip_response_body(out, sizeof out, m, code, NULL, totag, extra, body);
	if (n < 0)
		return -1;
	sip_send(s, rt, out, (size_t) n);
	if (keep && keepn > (size_t) n) {
		memcpy(keep, out, (size_t) n);
		keep[n] = 0;
	}
	return n;
}

/* ---------------------------------------------------------------- the job */

/* End of the fax part of a call: finish spandsp, commit the job, log. */
static void commit_call(struct srv *s, struct call *c, const char *why)
{
	struct umfax_faxinfo info;
	struct umfax_faxsess_stats fst = { 0 };
	struct umfax_job job;
	char err[512], q[128], qr[128];
	int rc = EX_OK;

	if (c->committed)
		return;
	c->committed = 1;
	memset(&info, 0, sizeof info);
	info.status = UMFAX_FAX_NO_PAGES;
	snprintf(info.t30_result, sizeof info.t30_result, "no fax session");
	if (c->fs) {
		umfax_faxsess_stats(c->fs, &fst);
		umfax_faxsess_finish(c->fs, &info);
		umfax_faxsess_free(c->fs);
		c->fs = NULL;
	}
	umfax_job_init(&job);
	umfax_job_set(&job, "Job-Id", c->job_id);
	umfax_job_set_if(&job, "Call-Id", c->call_id);
	umfax_job_set_if(&job, "Caller", c->caller);
	umfax_job_set_if(&job, "Caller-Name", c->caller_name);
	umfax_job_set_if(&job, "Called", c->called);
	umfax_job_set_if(&job, "Recipient", c->recipient);
	umfax_job_set_if(&job, "Um-Context", c->context);
	umfax_job_set_if(&job, "Remote-Ident", info.remote_ident);
	umfax_job_set(&job, "Transport", c->kind >= 0 ? umfax_faxsess_kind_name(c->kind) : "none");
	if (c->ro)
		umfax_job_set(&job, "Route", c->ro->name);
	umfax_faxinfo_to_job(&job, &info);
	if (c->kind == UMFAX_FAXSESS_UDPTL || c->kind == UMFAX_FAXSESS_TCP)
		umfax_job_setf(&job, "T38-Version", "%d", c->t38_version);
	umfax_job_set_if(&job, "Fax-Sender", c->peer_text);
	umfax_job_set_time(&job, "Received-At", c->start_wall);
	if (info.pages > 0) {
		if (umfax_job_body_from_file(&job, c->tiff) < 0) {
			umfax_log(LOG_ERR, c->job_id, c->call_id, "file=%s error=\"cannot read the received TIFF: %s\"",
			    c->tiff, strerror(errno));
			umfax_job_set(&job, "Status", "error");
			rc = EX_IOERR;
		}
	}
	if (umfax_spool_commit(&s->sp, &job, UMFAX_RECEIVED, UMFAX_NONE, 0, err, sizeof err) < 0) {
		umfax_log(LOG_ERR, c->job_id, c->call_id, "error=%s tiff=%s",
		    umfax_log_quote(q, sizeof q, err), c->tiff); /* cannot commit */
		rc = EX_CANTCREAT;
	} else {
		unlink(c->tiff);
	}
	umfax_log(LOG_INFO, c->job_id, c->call_id[0] ? c->call_id : NULL,
	    "result=%s pages=%d transport=%s peer=%s remote=%s t30=%s end=%s recovered=%ld lost=%ld concealed_ms=%ld foreign=%ld duration=%.0f",
	    umfax_fax_status_name(info.status), info.pages, c->kind >= 0 ? umfax_faxsess_kind_name(c->kind) : "none",
	    c->peer_text, umfax_log_quote(qr, sizeof qr, info.remote_ident),
	    umfax_log_quote(q, sizeof q, info.t30_result), why, fst.recovered, fst.lost,
	    fst.concealed_ms, c->foreign, info.duration);
	if (rc != EX_OK)
		s->worst = rc;
	umfax_job_release(&job);
	s->ndone++;
}

static void media_close(struct srv *s, struct call *c)
{
	ev_close(s, &c->media);
	if (c->tconn)
		ev_close(s, c->tconn);   /* freed with the call: events of this batch may still name it */
}

static void call_free(struct srv *s, struct call *c)
{
	struct call **pp;
	for (pp = &s->calls; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	media_close(s, c);
	free(c->tconn);
	if (c->fs)
		umfax_faxsess_free(c->fs);
	unlink(c->tiff);          /* committed or refused: the job file holds the pages */
	s->ncalls--;
	free(c);
}

/* Send our BYE (UDP: retransmitted until answered or 32 s). */
static void send_bye(struct srv *s, struct call *c)
{
	char branch[40], via_host[INET6_ADDRSTRLEN + 8];
	struct sockaddr_storage me;
	socklen_t ml = sizeof me;
	int port = 5060;

	if (c->rt.tcp && c->rt.conn && getsockname(c->rt.conn->ev.fd, (struct sockaddr *) &me, &ml) == 0)
		port = get_port(&me);
	else if (!c->rt.tcp && getsockname(c->rt.fd, (struct sockaddr *) &me, &ml) == 0)
		port = get_port(&me);
	snprintf(via_host, sizeof via_host, c->local.ss_family == AF_INET6 ? "[%s]" : "%s", c->local_ip);
	snprintf(branch, sizeof branch, "z9hG4bK%08lx%08lx", (unsigned long) random(), (unsigned long) now_ms());
	c->our_cseq++;
	int n = snprintf(c->bye, sizeof c->bye,
	    "BYE %s SIP/2.0\r\n"
	    "Via: SIP/2.0/%s %s:%d;branch=%s;rport\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: %s\r\n"
	    "To: %s\r\n"
	    "Call-ID: %s\r\n"
	    "CSeq: %lu BYE\r\n"
	    "User-Agent: umfax-t38recv\r\n"
	    "Content-Length: 0\r\n\r\n",
	    c->remote_target, rt_transport(&c->rt, 1), via_host, port, branch,
	    c->their_to, c->their_from, c->call_id, c->our_cseq);
	if (n < 0 || (size_t) n >= sizeof c->bye) {
		c->state = CS_GONE;
		return;
	}
	c->bye_len = (size_t) n;
	sip_send(s, &c->rt, c->bye, c->bye_len);
	c->state = CS_BYE_SENT;
	c->bye_iv = T1_MS;
	c->bye_at = now_ms() + T1_MS;
	c->bye_end = now_ms() + 64 * T1_MS;
}

/* The call is over on our side: commit, and hang up if the far end has not. */
static void end_call(struct srv *s, struct call *c, const char *why, int send_our_bye)
{
	media_close(s, c);
	commit_call(s, c, why);
	if (c->sip && send_our_bye && c->state != CS_GONE && c->state != CS_BYE_SENT)
		send_bye(s, c);
	else if (c->state != CS_BYE_SENT)
		c->state = CS_GONE;
}

/* ---------------------------------------------------------------- media */

static void media_out(void *arg, const uint8_t *buf, size_t len)
{
	struct call *c = arg;
	if (c->kind == UMFAX_FAXSESS_TCP) {
		if (!c->tconn || c->tconn->fd < 0)
			return;
		size_t off = 0;
		while (off < len) {
			ssize_t w = send(c->tconn->fd, buf + off, len - off, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return;
			off += (size_t) w;
		}
		return;
	}
	if (c->media.fd < 0 || c->mplen == 0)
		return;
	sendto(c->media.fd, buf, len, 0, (const struct sockaddr *) &c->mpeer, c->mplen);
}

static void frame_log(void *arg, const char *line)
{
	struct call *c = arg;
	umfax_log(LOG_DEBUG, c->job_id, c->call_id[0] ? c->call_id : NULL, "t30=\"%s\"", line);
}

static int start_session(struct srv *s, struct call *c, char *err, size_t errlen)
{
	struct umfax_faxsess_conf fc = { 0 };
	fc.kind = c->kind;
	fc.calling = 0;
	fc.tiff = c->tiff;
	fc.local_ident = c->ro->ident;
	fc.ecm = c->ro->ecm;
	fc.fastest = atoi(c->ro->fastest);
	fc.t38_version = c->t38_version;
	fc.max_datagram = c->max_datagram;
	fc.rate_tcf = c->rate_tcf;
	fc.fill_bit_removal = 0;
	fc.redundancy = c->ro->redundancy;
	fc.hold = 4;
	fc.ssrc = (uint32_t) random();
	if (c->fs)
		umfax_faxsess_free(c->fs);
	c->fs = umfax_faxsess_new(&fc, media_out, c, err, errlen);
	if (!c->fs)
		return -1;
	umfax_faxsess_set_log(c->fs, frame_log, c);
	(void) s;
	return 0;
}

static int open_media_udp(struct srv *s, struct call *c)
{
	struct sockaddr_storage a = c->local;
	int fd;
	if (c->media.fd >= 0)
		return 0;
	set_port(&a, 0);
	fd = socket(a.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *) &a, ss_len(&a)) < 0) {
		close(fd);
		return -1;
	}
	socklen_t l = sizeof a;
	getsockname(fd, (struct sockaddr *) &a, &l);
	c->media_port = get_port(&a);
	c->media.type = EV_MEDIA;
	c->media.fd = fd;
	c->media.p = c;
	if (ep_add(s, &c->media, EPOLLIN) < 0) {
		close(fd);
		c->media.fd = -1;
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- SDP */

static int attr_value(const char *body, size_t len, const char *name, char *dst, size_t n)
{
	size_t nl = strlen(name);
	const char *p = body, *end = body + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t) (end - p));
		if (!eol)
			eol = end;
		if ((size_t) (eol - p) > nl + 2 && strncasecmp(p, "a=", 2) == 0 && strncasecmp(p + 2, name, nl) == 0
		    && p[2 + nl] == ':') {
			size_t vl = (size_t) (eol - p) - nl - 3;
			while (vl && (p[3 + nl + vl - 1] == '\r' || p[3 + nl + vl - 1] == ' '))
				vl--;
			if (vl >= n)
				vl = n - 1;
			memcpy(dst, p + 3 + nl, vl);
			dst[vl] = 0;
			return 0;
		}
		p = eol + 1;
	}
	return -1;
}

/* Pick the media of an offer.  Returns the index in SDP, -1 none acceptable. */
static int choose_media(struct srv *s, const struct froute *ro, const struct umfax_sdp *sdp)
{
	int i;
	if (!ro->prefer_g711) {
		for (i = 0; i < sdp->nmedia; i++)
			if (sdp->m[i].kind == UMFAX_SDP_T38_UDPTL && sdp->m[i].port > 0)
				return i;
		if (s->tcp_port > 0)
			for (i = 0; i < sdp->nmedia; i++)
				if (sdp->m[i].kind == UMFAX_SDP_T38_TCP && sdp->m[i].port > 0)
					return i;
	}
	for (i = 0; i < sdp->nmedia; i++)
		if (sdp->m[i].kind == UMFAX_SDP_AUDIO && sdp->m[i].port > 0 &&
		    (sdp->m[i].has_pcmu || sdp->m[i].has_pcma))
			return i;
	return -1;
}

/* Set up the call's media from offer SDP (BODY) and write the answer into ANS.
 * 0, or a SIP error code. */
static int negotiate(struct srv *s, struct call *c, const char *body, size_t blen,
    char *ans, size_t an, char *why, size_t wn)
{
	struct umfax_sdp sdp;
	char v[64];
	int sel, i, kind, o = 0;

	if (!body || umfax_sdp_parse(body, blen, &sdp) < 0) {
		snprintf(why, wn, "no SDP offer");
		return 488;
	}
	sel = choose_media(s, c->ro, &sdp);
	if (sel < 0) {
		snprintf(why, wn, "no acceptable media offered (%s)", c->ro->prefer_g711 ? "G.711 only" : "T.38 or G.711");
		return 488;
	}
	const struct umfax_sdp_media *m = &sdp.m[sel];
	kind = m->kind == UMFAX_SDP_T38_UDPTL ? UMFAX_FAXSESS_UDPTL : m->kind == UMFAX_SDP_T38_TCP
	    ? UMFAX_FAXSESS_TCP : UMFAX_FAXSESS_ULAW;
	if (kind == UMFAX_FAXSESS_ULAW) {
		int k;
		c->pt = -1;
		for (k = 0; k < m->nfmt && c->pt < 0; k++)
			if ((m->fmt[k] == 0 && m->has_pcmu) || (m->fmt[k] == 8 && m->has_pcma))
				c->pt = m->fmt[k];
		if (c->pt < 0)
			c->pt = m->has_pcmu ? 0 : 8;
		if (c->pt == 8)
			kind = UMFAX_FAXSESS_ALAW;
	} else {
		int maxv = c->ro->t38_version;
		c->t38_version = m->t38_version < 0 ? 0 : m->t38_version > maxv ? maxv : m->t38_version;
		c->max_datagram = m->t38_max_datagram;
		c->rate_tcf = 2;
		/* the rate management attribute of this media section */
		const char *sec = strstr(body, "m=image");
		if (sec && attr_value(sec, blen - (size_t) (sec - body), "T38FaxRateManagement", v, sizeof v) == 0
		    && strcasecmp(v, "localTCF") == 0)
			c->rate_tcf = 1;
	}
	/* media transport */
	struct sockaddr_storage peer;
	socklen_t pl;
	const char *maddr = m->addr[0] ? m->addr : sdp.addr;
	if (kind != UMFAX_FAXSESS_TCP) {
		if (parse_hostport(maddr, m->port, &peer, &pl) < 0) {
			snprintf(why, wn, "SDP connection address not understood");
			return 488;
		}
	}
	int changed = c->kind != kind || !c->fs;
	if (changed) {
		if (c->fs && kind != c->kind)
			umfax_log(LOG_INFO, c->job_id, c->call_id, "event=media-change from=%s to=%s",
			    umfax_faxsess_kind_name(c->kind), umfax_faxsess_kind_name(kind));
		media_close(s, c);
		c->kind = kind;
		if (kind != UMFAX_FAXSESS_TCP && open_media_udp(s, c) < 0) {
			snprintf(why, wn, "cannot open a media socket: %s", strerror(errno));
			return 500;
		}
		char err[256];
		if (start_session(s, c, err, sizeof err) < 0) {
			snprintf(why, wn, "%s", err);
			return 500;
		}
		c->sdp_version++;
	}
	if (kind != UMFAX_FAXSESS_TCP) {
		c->mpeer = peer;
		c->mplen = pl;
	}
	/* UDPTL error recovery we send: FEC when offered, redundancy otherwise */
	int fec = kind == UMFAX_FAXSESS_UDPTL && m->t38_udp_ec == UMFAX_SDP_EC_FEC;
	if (kind == UMFAX_FAXSESS_UDPTL && umfax_faxsess_set_fec(c->fs,
	    c->ro->fec_span, fec ? c->ro->fec_entries : 0) < 0) {
		snprintf(why, wn, "cannot set up UDPTL FEC");
		return 500;
	}
	/* the answer */
	const char *fam = c->local.ss_family == AF_INET6 ? "IP6" : "IP4";
	o += snprintf(ans + o, an - (size_t) o, "v=0\r\no=umfax %lu %lu IN %s %s\r\ns=umfax\r\nc=IN %s %s\r\nt=0 0\r\n",
	    (unsigned long) (c->start_ms & 0xffffff), c->sdp_version, fam, c->local_ip, fam, c->local_ip);
	for (i = 0; i < sdp.nmedia && o < (int) an - 512; i++) {
		const struct umfax_sdp_media *x = &sdp.m[i];
		if (i != sel) {
			o += snprintf(ans + o, an - (size_t) o, "m=%s 0 %s %s\r\n", x->media, x->proto,
			    x->kind == UMFAX_SDP_AUDIO && x->nfmt > 0 ? "0" : "t38");
			continue;
		}
		if (kind == UMFAX_FAXSESS_ULAW || kind == UMFAX_FAXSESS_ALAW) {
			o += snprintf(ans + o, an - (size_t) o,
			    "m=audio %d RTP/AVP %d\r\na=rtpmap:%d %s/8000\r\na=ptime:20\r\na=sendrecv\r\n",
			    c->media_port, c->pt, c->pt, c->pt == 8 ? "PCMA" : "PCMU");
			continue;
		}
		if (kind == UMFAX_FAXSESS_TCP)
			o += snprintf(ans + o, an - (size_t) o, "m=image %d %s t38\r\na=setup:passive\r\na=connection:new\r\n",
			    s->tcp_port, x->proto);
		else
			o += snprintf(ans + o, an - (size_t) o, "m=image %d udptl t38\r\n", c->media_port);
		o += snprintf(ans + o, an - (size_t) o,
		    "a=T38FaxVersion:%d\r\na=T38MaxBitRate:%s\r\na=T38FaxRateManagement:%s\r\n"
		    "a=T38FaxMaxBuffer:2000\r\na=T38FaxMaxDatagram:%d\r\n",
		    c->t38_version, c->ro->fastest,
		    c->rate_tcf == 1 ? "localTCF" : "transferredTCF", 1400);
		if (kind == UMFAX_FAXSESS_UDPTL)
			o += snprintf(ans + o, an - (size_t) o, "a=T38FaxUdpEC:%s\r\n", fec ? "t38UDPFEC" : "t38UDPRedundancy");
	}
	if (o >= (int) an) {
		snprintf(why, wn, "SDP answer too long");
		return 500;
	}
	return 0;
}

/* ---------------------------------------------------------------- calls */

static struct call *find_call(struct srv *s, const char *call_id, const char *from_tag)
{
	struct call *c;
	for (c = s->calls; c; c = c->next)
		if (c->sip && strcmp(c->call_id, call_id) == 0 && strcmp(c->from_tag, from_tag) == 0)
			return c;
	return NULL;
}

static int in_ranges(const struct umfax_iprange *r, int n, const struct sockaddr_storage *peer)
{
	int i;
	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (umfax_iprange_match(&r[i], (const struct sockaddr *) peer, ss_len(peer)))
			return 1;
	return 0;
}

/* CALLED against a route_called list: "*" any, "NUMBER*" a prefix, else the
 * whole number.  An empty list matches any number, even none. */
int umfax_t38live_called_match(const char *list, const char *called)
{
	const char *p = list;
	size_t n;
	if (!list[0])
		return 1;
	while (*p) {
		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n > 0 && called && called[0]) {
			if (p[n - 1] == '*' ? strncmp(p, called, n - 1) == 0 :
			    strlen(called) == n && strncmp(p, called, n) == 0)
				return 1;
		}
		p += n;
	}
	return 0;
}

/* The first route whose called numbers and source addresses both fit; the
 * global settings when none does.  CALLED is NULL for T.38 TCP sessions no
 * SIP call announced: only routes without route_called take those. */
static const struct froute *route_for(struct srv *s, const char *called, const struct sockaddr_storage *peer)
{
	int i;
	for (i = 0; i < s->nroutes - 1; i++) {
		const struct froute *ro = &s->routes[i];
		if (called == NULL && ro->called[0])
			continue;
		if (umfax_t38live_called_match(ro->called, called) && in_ranges(ro->source, ro->nsource, peer))
			return ro;
	}
	return &s->routes[s->nroutes - 1];
}

static int allowed(const struct froute *ro, const struct sockaddr_storage *peer)
{
	return in_ranges(ro->allow, ro->nallow, peer);
}

static struct call *call_new(struct srv *s, const struct sockaddr_storage *peer)
{
	struct call *c = calloc(1, sizeof *c);
	char path[PATH_MAX];
	int fd;
	if (!c)
		return NULL;
	c->kind = -1;
	c->media.fd = -1;
	c->start_ms = now_ms();
	c->start_wall = time(NULL);
	c->deadline_ms = c->start_ms + umfax_conf_int("t38live_call_timeout") * 1000L;
	umfax_job_new_id(c->job_id, sizeof c->job_id);
	addr_text(c->peer_text, sizeof c->peer_text, peer);
	/* the job's file, created before the first page can arrive */
	if ((size_t) snprintf(path, sizeof path, "%.3900s/tmp/%s.tif", s->sp.path, c->job_id) >= sizeof path) {
		free(c);
		return NULL;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		umfax_log(LOG_ERR, c->job_id, NULL, "file=%s error=\"cannot create: %s\"", path, strerror(errno));
		free(c);
		return NULL;
	}
	close(fd);
	snprintf(c->tiff, sizeof c->tiff, "%s", path);
	c->next = s->calls;
	s->calls = c;
	s->ncalls++;
	return c;
}

static void local_addr_towards(struct srv *s, const struct sockaddr_storage *peer, struct sockaddr_storage *out,
    int sipfd)
{
	socklen_t l = sizeof *out;
	if (s->media_addr[0] && parse_hostport(s->media_addr, 0, out, &l) == 0)
		return;
	/* the address the SIP socket is bound to, unless it is a wildcard */
	if (getsockname(sipfd, (struct sockaddr *) out, &l) == 0) {
		char ip[INET6_ADDRSTRLEN];
		ip_only(ip, sizeof ip, out);
		if (strcmp(ip, "0.0.0.0") != 0 && strcmp(ip, "::") != 0)
			return;
	}
	int fd = socket(peer->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	l = sizeof *out;
	if (fd >= 0 && connect(fd, (const struct sockaddr *) peer, ss_len(peer)) == 0 &&
	    getsockname(fd, (struct sockaddr *) out, &l) == 0) {
		close(fd);
		return;
	}
	if (fd >= 0)
		close(fd);
	memset(out, 0, sizeof *out);
	out->ss_family = AF_INET;
	((struct sockaddr_in *) (void *) out)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static const char *hdr_value(osip_message_t *om, const char *name, const char *compact)
{
	osip_header_t *h = NULL;
	if (osip_message_header_get_byname(om, name, 0, &h) >= 0 && h && h->hvalue)
		return h->hvalue;
	if (compact && osip_message_header_get_byname(om, compact, 0, &h) >= 0 && h && h->hvalue)
		return h->hvalue;
	return NULL;
}

/* Whether the Supported headers (full or compact name) list option TAG. */
static int supports(osip_message_t *om, const char *tag)
{
	static const char *const names[] = { "supported", "k" };
	size_t tl = strlen(tag);
	for (int n = 0; n < 2; n++)
		for (int pos = 0; pos < 64; pos++) {
			osip_header_t *h = NULL;
			pos = osip_message_header_get_byname(om, names[n], pos, &h);
			if (pos < 0 || !h)
				break;
			for (const char *p = h->hvalue; p && *p;) {
				p += strspn(p, " \t,");
				size_t l = strcspn(p, " \t,");
				if (l == tl && strncasecmp(p, tag, tl) == 0)
					return 1;
				p += l;
			}
		}
	return 0;
}

static int get_body(osip_message_t *om, const char **body, size_t *len)
{
	osip_body_t *b = NULL;
	*body = NULL;
	*len = 0;
	if (osip_message_get_body(om, 0, &b) >= 0 && b && b->body) {
		*body = b->body;
		*len = b->length;
		return 0;
	}
	return -1;
}

static void new_invite(struct srv *s, const struct route *rt, struct umfax_sip_msg *m, int sipfd)
{
	osip_message_t *om = m->osip;
	char totag[17], why[256], q[300], extra[512], ans[2048];
	const char *rb, *body;
	size_t blen;
	int code;

	char called[128];
	const struct froute *ro;

	umfax_sip_totag(m, s->salt, totag);
	{
		const char *u = m->ruri_user[0] ? m->ruri_user : m->to_user;
		umfax_job_clean(called, sizeof called, u, strlen(u));
	}
	ro = route_for(s, called, &rt->peer);
	if (!allowed(ro, &rt->peer)) {
		respond(s, rt, m, 403, totag, "Warning: 399 umfax \"caller address not allowed\"\r\n", NULL, NULL, 0);
		umfax_log(LOG_NOTICE, NULL, m->call_id, "result=refused code=403 peer=%s called=%s route=%s reason=\"address not allowed\"",
		    addr_text(q, sizeof q, &rt->peer), called[0] ? called : "none", ro->name);
		return;
	}
	if (s->ncalls >= umfax_conf_int("t38live_max_calls")) {
		respond(s, rt, m, 503, totag, "Retry-After: 30\r\n", NULL, NULL, 0);
		umfax_log(LOG_WARNING, NULL, m->call_id, "result=refused code=503 reason=\"too many calls\"");
		return;
	}
	struct call *c = call_new(s, &rt->peer);
	if (!c) {
		respond(s, rt, m, 500, totag, NULL, NULL, NULL, 0);
		return;
	}
	c->sip = 1;
	c->rt = *rt;
	c->ro = ro;
	snprintf(c->call_id, sizeof c->call_id, "%s", m->call_id);
	snprintf(c->from_tag, sizeof c->from_tag, "%s", m->from_tag);
	memcpy(c->our_tag, totag, sizeof totag);
	c->inv_cseq = m->cseq;
	snprintf(c->inv_branch, sizeof c->inv_branch, "%s", m->branch);
	umfax_log_context(c->job_id, c->call_id);
	/* who and for whom */
	umfax_job_clean(c->caller, sizeof c->caller, m->from_user, strlen(m->from_user));
	umfax_job_clean(c->caller_name, sizeof c->caller_name, m->from_name, strlen(m->from_name));
	snprintf(c->called, sizeof c->called, "%s", called);
	rb = hdr_value(om, "referred-by", "b");
	if (rb) {
		char v[2048];
		if (umfax_sip_uri_param(v, sizeof v, rb, "msExchUMFaxRecipient")) {
			const char *a = strncasecmp(v, "smtp:", 5) == 0 ? v + 5 : v;
			umfax_job_clean(c->recipient, sizeof c->recipient, a, strlen(a));
		}
		if (umfax_sip_uri_param(v, sizeof v, rb, "msExchUMContext"))
			umfax_job_clean(c->context, sizeof c->context, v, strlen(v));
	}
	if (!c->recipient[0]) {
		const struct umfax_mailbox *mb = NULL;
		if (s->have_dir && c->called[0]) {
			struct umfax_dir_query dq = { 0 };
			struct umfax_dir_result dr;
			dq.called = c->called;
			umfax_dir_resolve(&s->dir, &dq, &dr);
			mb = dr.mailbox;
		}
		if (!mb) {
			snprintf(extra, sizeof extra, "Warning: 399 umfax \"no recipient in Referred-By and called number %s is not in the directory\"\r\n",
			    c->called[0] ? c->called : "(none)");
			respond(s, rt, m, 404, totag, extra, NULL, NULL, 0);
			umfax_log(LOG_NOTICE, NULL, c->call_id, "result=refused code=404 peer=%s called=%s reason=\"no recipient\"",
			    c->peer_text, c->called[0] ? c->called : "none");
			unlink(c->tiff);
			c->committed = 1;
			call_free(s, c);
			return;
		}
		snprintf(c->recipient, sizeof c->recipient, "%s", mb->smtp);
	}
	/* dialog state for our BYE */
	{
		char *str = NULL;
		osip_contact_t *ct = NULL;
		if (osip_message_get_contact(om, 0, &ct) >= 0 && ct && ct->url && osip_uri_to_str(ct->url, &str) == 0 && str) {
			snprintf(c->remote_target, sizeof c->remote_target, "%s", str);
			osip_free(str);
		} else {
			snprintf(c->remote_target, sizeof c->remote_target, "%s", m->from_uri);
		}
		str = NULL;
		if (osip_from_to_str(om->from, &str) == 0 && str) {
			snprintf(c->their_from, sizeof c->their_from, "%s", str);
			osip_free(str);
		}
		str = NULL;
		if (osip_to_to_str(om->to, &str) == 0 && str) {
			snprintf(c->their_to, sizeof c->their_to, "%s;tag=%s", str, totag);
			osip_free(str);
		}
	}
	local_addr_towards(s, &rt->peer, &c->local, sipfd);
	ip_only(c->local_ip, sizeof c->local_ip, &c->local);
	/* session timer (RFC 4028): when the caller supports it and does not ask
	 * us to refresh, we take what is asked if it is at least MIN_SE (422
	 * with Min-SE otherwise) and the caller refreshes; otherwise (we would
	 * have to refresh) the 200 has no Session-Expires: no session timer */
	{
		const char *se = hdr_value(om, "session-expires", "x");
		extra[0] = 0;
		if (se) {
			char *e;
			long v = strtol(se, &e, 10);
			if (e == se || v < 1) {
				/* not a delta-seconds: no session timer */
			} else if (!supports(om, "timer") || strcasestr(e, "refresher=uas")) {
				umfax_log(LOG_INFO, c->job_id, c->call_id, "event=no-session-timer reason=\"%s\"",
				    supports(om, "timer") ? "refresher=uas asked" : "caller does not support timer");
			} else if (v < MIN_SE) {
				respond(s, rt, m, 422, totag, "Min-SE: " MIN_SE_TEXT "\r\n", NULL, NULL, 0);
				umfax_log(LOG_NOTICE, c->job_id, c->call_id,
				    "result=refused code=422 peer=%s reason=\"Session-Expires %ld below Min-SE " MIN_SE_TEXT "\"",
				    c->peer_text, v);
				unlink(c->tiff);
				c->committed = 1;
				call_free(s, c);
				return;
			} else {
				c->session_expires = v;
				c->refresh_deadline = now_ms() + v * 1000L;
				snprintf(extra, sizeof extra, "Session-Expires: %ld;refresher=uac\r\nRequire: timer\r\n", v);
			}
		}
	}
	get_body(om, &body, &blen);
	code = negotiate(s, c, body, blen, ans, sizeof ans, why, sizeof why);
	if (code) {
		char ex2[400];
		snprintf(ex2, sizeof ex2, "Warning: 399 umfax \"%s\"\r\n", why);
		respond(s, rt, m, code, totag, ex2, NULL, NULL, 0);
		umfax_log(LOG_NOTICE, c->job_id, c->call_id, "result=refused code=%d peer=%s reason=%s",
		    code, c->peer_text, umfax_log_quote(q, sizeof q, why));
		c->committed = 1;
		call_free(s, c);
		return;
	}
	{
		char ex[1024];
		char me[INET6_ADDRSTRLEN + 8];
		struct sockaddr_storage ss;
		socklen_t l = sizeof ss;
		int port = 5060;
		if (getsockname(rt->tcp ? rt->conn->ev.fd : rt->fd, (struct sockaddr *) &ss, &l) == 0)
			port = get_port(&ss);
		snprintf(me, sizeof me, c->local.ss_family == AF_INET6 ? "[%s]" : "%s", c->local_ip);
		snprintf(ex, sizeof ex, "Contact: <sip:%s:%d;transport=%s>\r\nAllow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE\r\n"
		    "Supported: timer\r\n%s", me, port, rt_transport(rt, 0), extra);
		respond(s, rt, m, 100, NULL, NULL, NULL, NULL, 0);
		int n = respond(s, rt, m, 200, totag, ex, ans, c->resp, sizeof c->resp);
		c->resp_len = n > 0 ? (size_t) n : 0;
	}
	c->state = CS_ANSWERED;
	c->rtx_iv = T1_MS;
	c->rtx_at = now_ms() + T1_MS;
	c->rtx_end = now_ms() + 64 * T1_MS;
	umfax_log(LOG_INFO, c->job_id, c->call_id, "event=answer peer=%s transport=%s caller=%s called=%s recipient=%s route=%s",
	    c->peer_text, umfax_faxsess_kind_name(c->kind), c->caller[0] ? c->caller : "none",
	    c->called[0] ? c->called : "none", c->recipient, ro->name);
}

static void reinvite(struct srv *s, struct call *c, const struct route *rt, struct umfax_sip_msg *m)
{
	char ans[2048], why[256], ex[600];
	const char *body;
	size_t blen;
	int code;

	get_body(m->osip, &body, &blen);
	code = negotiate(s, c, body, blen, ans, sizeof ans, why, sizeof why);
	if (code) {
		snprintf(ex, sizeof ex, "Warning: 399 umfax \"%s\"\r\n", why);
		respond(s, rt, m, code, c->our_tag, ex, NULL, NULL, 0);
		return;
	}
	c->inv_cseq = m->cseq;
	snprintf(c->inv_branch, sizeof c->inv_branch, "%s", m->branch);
	ex[0] = 0;
	if (c->session_expires) {
		c->refresh_deadline = now_ms() + c->session_expires * 1000L;
		snprintf(ex, sizeof ex, "Session-Expires: %ld;refresher=uac\r\nRequire: timer\r\n", c->session_expires);
	}
	int n = respond(s, rt, m, 200, c->our_tag, ex, ans, c->resp, sizeof c->resp);
	c->resp_len = n > 0 ? (size_t) n : 0;
	c->rt = *rt;
	c->state = CS_ANSWERED;
	c->rtx_iv = T1_MS;
	c->rtx_at = now_ms() + T1_MS;
	c->rtx_end = now_ms() + 64 * T1_MS;
}

/* Offer T.38 on a G.711 call (RFC 3261 14.1): the same media port, UDPTL. */
static void send_reinvite(struct srv *s, struct call *c)
{
	char sdp[1024], via_host[INET6_ADDRSTRLEN + 8];
	struct sockaddr_storage me;
	socklen_t ml = sizeof me;
	int port = 5060;
	const char *fam = c->local.ss_family == AF_INET6 ? "IP6" : "IP4";

	if (c->rt.tcp && c->rt.conn && getsockname(c->rt.conn->ev.fd, (struct sockaddr *) &me, &ml) == 0)
		port = get_port(&me);
	else if (!c->rt.tcp && getsockname(c->rt.fd, (struct sockaddr *) &me, &ml) == 0)
		port = get_port(&me);
	snprintf(via_host, sizeof via_host, c->local.ss_family == AF_INET6 ? "[%s]" : "%s", c->local_ip);
	snprintf(c->rv_branch, sizeof c->rv_branch, "z9hG4bKr%08lx%08lx", (unsigned long) random(), (unsigned long) now_ms());
	c->sdp_version++;
	int sl = snprintf(sdp, sizeof sdp,
	    "v=0\r\no=umfax %lu %lu IN %s %s\r\ns=umfax\r\nc=IN %s %s\r\nt=0 0\r\n"
	    "m=image %d udptl t38\r\na=T38FaxVersion:%ld\r\na=T38MaxBitRate:%s\r\n"
	    "a=T38FaxRateManagement:transferredTCF\r\na=T38FaxMaxBuffer:2000\r\na=T38FaxMaxDatagram:1400\r\n"
	    "a=T38FaxUdpEC:t38UDPRedundancy\r\n",
	    (unsigned long) (c->start_ms & 0xffffff), c->sdp_version, fam, c->local_ip, fam, c->local_ip,
	    c->media_port, (long) c->ro->t38_version, c->ro->fastest);
	c->rv_cseq = ++c->our_cseq;
	int n = snprintf(c->rv, sizeof c->rv,
	    "INVITE %s SIP/2.0\r\n"
	    "Via: SIP/2.0/%s %s:%d;branch=%s;rport\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: %s\r\n"
	    "To: %s\r\n"
	    "Call-ID: %s\r\n"
	    "CSeq: %lu INVITE\r\n"
	    "Contact: <sip:%s:%d;transport=%s>\r\n"
	    "User-Agent: umfax-t38recv\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: %d\r\n\r\n%s",
	    c->remote_target, rt_transport(&c->rt, 1), via_host, port, c->rv_branch,
	    c->their_to, c->their_from, c->call_id, c->rv_cseq, via_host, port, rt_transport(&c->rt, 0), sl, sdp);
	if (n < 0 || (size_t) n >= sizeof c->rv)
		return;
	c->rv_len = (size_t) n;
	sip_send(s, &c->rt, c->rv, c->rv_len);
	c->rv_state = 1;
	c->rv_iv = T1_MS;
	c->rv_at = now_ms() + T1_MS;
	c->rv_end = now_ms() + 64 * T1_MS;
	umfax_log(LOG_INFO, c->job_id, c->call_id, "event=reinvite offer=t38-udptl");
}

/* The answer to our re-INVITE: ACK it; a 2xx with T.38 moves the call. */
static void reinvite_answered(struct srv *s, struct call *c, osip_message_t *om)
{
	char ack[4096], via_host[INET6_ADDRSTRLEN + 8], *to = NULL;
	int code = om->status_code, first = c->rv_state == 1;
	c->rv_state = 2;
	snprintf(via_host, sizeof via_host, c->local.ss_family == AF_INET6 ? "[%s]" : "%s", c->local_ip);
	if (!om->to || osip_to_to_str(om->to, &to) != 0 || !to)
		return;
	int n = snprintf(ack, sizeof ack,
	    "ACK %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=%s%s;rport\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\n"
	    "Call-ID: %s\r\nCSeq: %lu ACK\r\nContent-Length: 0\r\n\r\n",
	    c->remote_target, rt_transport(&c->rt, 1), via_host, c->rv_branch, code < 300 ? "a" : "",
	    c->their_to, to, c->call_id, c->rv_cseq);
	osip_free(to);
	if (n > 0 && (size_t) n < sizeof ack)
		sip_send(s, &c->rt, ack, (size_t) n);
	if (!first)
		return;
	if (code >= 300) {
		umfax_log(LOG_INFO, c->job_id, c->call_id, "event=reinvite-refused code=%d keep=%s", code,
		    umfax_faxsess_kind_name(c->kind));
		return;
	}
	const char *body;
	size_t blen;
	struct umfax_sdp sdp;
	const struct umfax_sdp_media *m = NULL;
	struct sockaddr_storage peer;
	socklen_t pl;
	char err[256];
	if (get_body(om, &body, &blen) == 0 && umfax_sdp_parse(body, blen, &sdp) == 0)
		m = umfax_sdp_find(&sdp, UMFAX_SDP_T38_UDPTL);
	if (!m || parse_hostport(m->addr[0] ? m->addr : sdp.addr, m->port, &peer, &pl) < 0) {
		umfax_log(LOG_NOTICE, c->job_id, c->call_id, "event=reinvite-answer error=\"no T.38 in the answer\" keep=%s",
		    umfax_faxsess_kind_name(c->kind));
		return;
	}
	int maxv = (int) umfax_conf_int("t38live_t38_version");
	c->t38_version = m->t38_version < 0 ? 0 : m->t38_version > maxv ? maxv : m->t38_version;
	c->max_datagram = m->t38_max_datagram;
	c->rate_tcf = 2;
	umfax_log(LOG_INFO, c->job_id, c->call_id, "event=media-change from=%s to=t38-udptl by=us",
	    umfax_faxsess_kind_name(c->kind));
	c->kind = UMFAX_FAXSESS_UDPTL;
	c->mpeer = peer;
	c->mplen = pl;
	if (start_session(s, c, err, sizeof err) < 0)
		end_call(s, c, "session-error", 1);
}

static void handle_response(struct srv *s, const char *buf, size_t len)
{
	osip_message_t *om = NULL;
	struct call *c;
	umfax_sip_init();
	if (osip_message_init(&om) != 0)
		return;
	if (osip_message_parse(om, buf, len) == 0 && om->call_id && om->call_id->number && om->cseq &&
	    om->cseq->number && om->cseq->method && strcasecmp(om->cseq->method, "INVITE") == 0 && om->status_code >= 100) {
		char cid[256];
		unsigned long n = strtoul(om->cseq->number, NULL, 10);
		if (om->call_id->host)
			snprintf(cid, sizeof cid, "%s@%s", om->call_id->number, om->call_id->host);
		else
			snprintf(cid, sizeof cid, "%s", om->call_id->number);
		for (c = s->calls; c; c = c->next)
			if (c->sip && c->rv_state >= 1 && c->rv_cseq == n && strcmp(c->call_id, cid) == 0) {
				if (om->status_code < 200)
					c->rv_at = c->rv_end;          /* provisional: stop retransmitting */
				else if (!c->committed)
					reinvite_answered(s, c, om);   /* first answer, or a retransmitted 2xx: ACK again */
				break;
			}
	} else if (om->call_id && om->call_id->number && om->cseq &&
	    om->cseq->method && strcasecmp(om->cseq->method, "BYE") == 0 && om->status_code >= 200) {
		char cid[256];
		if (om->call_id->host)
			snprintf(cid, sizeof cid, "%s@%s", om->call_id->number, om->call_id->host);
		else
			snprintf(cid, sizeof cid, "%s", om->call_id->number);
		for (c = s->calls; c; c = c->next)
			if (c->sip && c->state == CS_BYE_SENT && strcmp(c->call_id, cid) == 0) {
				c->state = CS_GONE;
				break;
			}
	}
	osip_message_free(om);
}

static void handle_sip(struct srv *s, const struct route *rt, const char *buf, size_t len, int sipfd)
{
	struct umfax_sip_msg m;
	char err[256], q[300], pa[96];
	int answerable = 0;
	struct call *c;

	if (umfax_sip_is_response(buf, len)) {
		handle_response(s, buf, len);
		return;
	}
	if (umfax_sip_msg_parse(&m, buf, len, &answerable, err, sizeof err) < 0) {
		char totag[17];
		umfax_log(LOG_NOTICE, NULL, m.call_id[0] ? m.call_id : NULL, "event=bad-request peer=%s error=%s",
		    addr_text(pa, sizeof pa, &rt->peer), umfax_log_quote(q, sizeof q, err));
		if (answerable && m.method && strcmp(m.method, "ACK") != 0) {
			umfax_sip_totag(&m, s->salt, totag);
			char ex[400];
			snprintf(ex, sizeof ex, "Warning: 399 umfax \"%s\"\r\n", err);
			respond(s, rt, &m, 400, totag, ex, NULL, NULL, 0);
		}
		umfax_sip_msg_release(&m);
		return;
	}
	c = find_call(s, m.call_id, m.from_tag);
	if (strcmp(m.method, "INVITE") == 0) {
		if (c && m.cseq == c->inv_cseq && strcmp(m.branch, c->inv_branch) == 0) {
			if (c->resp_len)   /* a retransmission */
				sip_send(s, rt, c->resp, c->resp_len);
		} else if (c && m.to_tag[0] && strcmp(m.to_tag, c->our_tag) == 0 && m.cseq > c->inv_cseq
		    && c->state != CS_GONE && c->state != CS_BYE_SENT && !c->committed) {
			reinvite(s, c, rt, &m);
		} else if (c || m.to_tag[0]) {
			respond(s, rt, &m, 481, NULL, NULL, NULL, NULL, 0);
		} else {
			new_invite(s, rt, &m, sipfd);
		}
	} else if (strcmp(m.method, "ACK") == 0) {
		if (c && c->state == CS_ANSWERED) {
			c->state = CS_CONFIRMED;
			if (c->rv_state == 0 && !c->ro->prefer_g711 && c->ro->reinvite &&
			    (c->kind == UMFAX_FAXSESS_ULAW || c->kind == UMFAX_FAXSESS_ALAW))
				send_reinvite(s, c);
		}
	} else if (strcmp(m.method, "BYE") == 0) {
		if (!c) {
			respond(s, rt, &m, 481, NULL, NULL, NULL, NULL, 0);
		} else {
			respond(s, rt, &m, 200, c->our_tag, NULL, NULL, NULL, 0);
			if (c->state == CS_BYE_SENT)
				c->state = CS_GONE;
			else {
				c->state = CS_GONE;
				end_call(s, c, "bye", 0);
			}
		}
	} else if (strcmp(m.method, "CANCEL") == 0) {
		/* the INVITE is answered at once, so there is nothing left to cancel */
		respond(s, rt, &m, c ? 200 : 481, c ? c->our_tag : NULL, NULL, NULL, NULL, 0);
	} else if (strcmp(m.method, "OPTIONS") == 0) {
		char totag[17];
		umfax_sip_totag(&m, s->salt, totag);
		respond(s, rt, &m, 200, totag,
		    "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE\r\nAccept: application/sdp\r\nSupported: timer\r\n",
		    NULL, NULL, 0);
	} else if (strcmp(m.method, "UPDATE") == 0) {
		if (!c) {
			respond(s, rt, &m, 481, NULL, NULL, NULL, NULL, 0);
		} else {
			char ex[200] = "";
			if (c->session_expires) {
				c->refresh_deadline = now_ms() + c->session_expires * 1000L;
				snprintf(ex, sizeof ex, "Session-Expires: %ld;refresher=uac\r\nRequire: timer\r\n",
				    c->session_expires);
			}
			respond(s, rt, &m, 200, c->our_tag, ex, NULL, NULL, 0);
		}
	} else {
		char totag[17];
		umfax_sip_totag(&m, s->salt, totag);
		respond(s, rt, &m, 405, totag, "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE\r\n", NULL, NULL, 0);
	}
	umfax_sip_msg_release(&m);
}

/* ---------------------------------------------------------------- sockets */

static int listen_sock(int type, const struct sockaddr_storage *ss, socklen_t len, char *err, size_t en)
{
	int one = 1, fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	char a[96];
	if (fd < 0) {
		snprintf(err, en, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *) ss, len) < 0 || (type == SOCK_STREAM && listen(fd, 128) < 0)) {
		snprintf(err, en, "cannot bind %s %s: %s", type == SOCK_STREAM ? "tcp" : "udp",
		    addr_text(a, sizeof a, ss), strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void conn_drop(struct srv *s, struct conn *cn)
{
	struct conn **pp;
	struct call *c;
	for (c = s->calls; c; c = c->next)
		if (c->rt.conn == cn)
			c->rt.conn = NULL;
	for (pp = &s->conns; *pp; pp = &(*pp)->next)
		if (*pp == cn) {
			*pp = cn->next;
			break;
		}
	if (cn->tls)
		umfax_tls_close(cn->tls);
	ev_close(s, &cn->ev);
	free(cn);
	s->nconns--;
}

/* TLS: go on with the handshake.  0 when it is done (now or before), 1 while
 * it waits for the client, -1 when it failed (the connection is dead). */
static int tls_handshake(struct conn *cn, const struct route *rt)
{
	char err[300], q[400], peer[80], who[256], qw[300];
	int h;
	if (!cn->handshaking)
		return 0;
	h = umfax_tls_handshake(cn->tls, err, sizeof err);
	if (h == UMFAX_TLS_WANT_READ || h == UMFAX_TLS_WANT_WRITE)
		return 1;
	if (h != 1) {
		umfax_log(LOG_NOTICE, NULL, NULL, "event=tls-refused peer=%s error=%s",
		    addr_text(peer, sizeof peer, &rt->peer), umfax_log_quote(q, sizeof q, err));
		cn->dead = 1;
		return -1;
	}
	cn->handshaking = 0;
	umfax_tls_peer(cn->tls, who, sizeof who);
	umfax_log(LOG_INFO, NULL, NULL, "event=tls peer=%s cipher=%s client=%s", addr_text(peer, sizeof peer, &rt->peer),
	    umfax_tls_cipher(cn->tls), who[0] ? umfax_log_quote(qw, sizeof qw, who) : "none");
	return 0;
}

static void sip_tcp_read(struct srv *s, struct conn *cn)
{
	struct route rt = { 0 };
	rt.tcp = 1;
	rt.conn = cn;
	socklen_t l = sizeof rt.peer;
	getpeername(cn->ev.fd, (struct sockaddr *) &rt.peer, &l);
	rt.plen = l;
	if (cn->tls && tls_handshake(cn, &rt) != 0) {
		if (cn->dead)
			conn_drop(s, cn);
		return;
	}
	for (;;) {
		ssize_t r;
		if (cn->tls) {
			r = umfax_tls_read(cn->tls, cn->buf + cn->len, SIPBUF - cn->len);
			if (r == UMFAX_TLS_WANT_READ || r == UMFAX_TLS_WANT_WRITE)
				break;
		} else {
			r = recv(cn->ev.fd, cn->buf + cn->len, SIPBUF - cn->len, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
		}
		if (r <= 0) {
			cn->dead = 1;
			break;
		}
		cn->len += (size_t) r;
		cn->last_ms = now_ms();
		/* take out whole messages */
		for (;;) {
			size_t skip = 0;
			while (skip < cn->len && (cn->buf[skip] == '\r' || cn->buf[skip] == '\n'))
				skip++;     /* keep-alive CRLFs */
			if (skip) {
				memmove(cn->buf, cn->buf + skip, cn->len - skip);
				cn->len -= skip;
			}
			cn->buf[cn->len] = 0;
			char *eoh = strstr(cn->buf, "\r\n\r\n");
			if (!eoh)
				break;
			size_t hl = (size_t) (eoh - cn->buf) + 4, cl = 0;
			const char *p = cn->buf;
			while (p < eoh) {
				const char *nl = strstr(p, "\r\n");
				if (strncasecmp(p, "Content-Length:", 15) == 0)
					cl = strtoul(p + 15, NULL, 10);
				else if (strncasecmp(p, "l:", 2) == 0)
					cl = strtoul(p + 2, NULL, 10);
				p = nl ? nl + 2 : eoh;
			}
			if (cl > SIPBUF || hl + cl > SIPBUF) {
				cn->dead = 1;
				break;
			}
			if (cn->len < hl + cl)
				break;
			handle_sip(s, &rt, cn->buf, hl + cl, cn->ev.fd);
			memmove(cn->buf, cn->buf + hl + cl, cn->len - hl - cl);
			cn->len -= hl + cl;
		}
		if (cn->dead || cn->len >= SIPBUF) {
			cn->dead = 1;
			break;
		}
	}
	if (cn->dead)
		conn_drop(s, cn);
}

static void sip_udp_read(struct srv *s, int fd)
{
	char buf[SIPBUF + 1];
	int i;
	for (i = 0; i < 64; i++) {
		struct route rt = { 0 };
		rt.fd = fd;
		rt.plen = sizeof rt.peer;
		ssize_t r = recvfrom(fd, buf, SIPBUF, 0, (struct sockaddr *) &rt.peer, &rt.plen);
		if (r < 0)
			return;
		if (r < 4)      /* keep-alive */
			continue;
		buf[r] = 0;
		handle_sip(s, &rt, buf, (size_t) r, fd);
	}
}

static struct call *tcp_session(struct srv *s, int fd, const struct sockaddr_storage *peer)
{
	struct call *c;
	char err[256];
	/* the oldest SIP call from this address that waits for its TCP connection */
	struct call *best = NULL;
	for (c = s->calls; c; c = c->next)
		if (c->sip && c->kind == UMFAX_FAXSESS_TCP && !c->tconn && !c->committed && same_ip(&c->rt.peer, peer))
			best = c;
	c = best;
	if (!c) {
		if (!s->cfg->inetd && !umfax_conf_bool("t38live_tcp_unsignalled"))
			return NULL;
		const struct froute *ro = route_for(s, NULL, peer);
		if (!allowed(ro, peer))
			return NULL;
		c = call_new(s, peer);
		if (!c)
			return NULL;
		c->ro = ro;
		c->kind = UMFAX_FAXSESS_TCP;
		c->t38_version = (int) umfax_conf_int("t38live_tcp_t38_version");
		c->rate_tcf = 2;
		if (start_session(s, c, err, sizeof err) < 0) {
			umfax_log(LOG_ERR, c->job_id, NULL, "error=\"%s\"", err);
			c->committed = 1;
			call_free(s, c);
			return NULL;
		}
		umfax_log(LOG_INFO, c->job_id, NULL, "event=answer peer=%s transport=t38-tcp signalled=no route=%s",
		    c->peer_text, ro->name);
	}
	c->tconn = calloc(1, sizeof *c->tconn);
	if (!c->tconn)
		return NULL;
	c->tconn->type = EV_T38TCP;
	c->tconn->fd = fd;
	c->tconn->p = c;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (ep_add(s, c->tconn, EPOLLIN) < 0) {
		free(c->tconn);
		c->tconn = NULL;
		return NULL;
	}
	return c;
}

static void t38_tcp_read(struct srv *s, struct call *c)
{
	uint8_t buf[8192];
	for (;;) {
		ssize_t r = recv(c->tconn->fd, buf, sizeof buf, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) {
			end_call(s, c, "tcp-closed", 1);
			return;
		}
		if (c->fs && umfax_faxsess_rx(c->fs, buf, (size_t) r) < 0) {
			umfax_log(LOG_NOTICE, c->job_id, c->call_id[0] ? c->call_id : NULL,
			    "event=bad-stream error=\"not TPKT framing\"");
			end_call(s, c, "bad-stream", 1);
			return;
		}
	}
}

static void media_read(struct srv *s, struct call *c)
{
	uint8_t buf[2048];
	int i;
	(void) s;
	for (i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		ssize_t r = recvfrom(c->media.fd, buf, sizeof buf, 0, (struct sockaddr *) &from, &fl);
		if (r < 0)
			return;
		if (c->mplen && !same_ip(&from, &c->mpeer)) {    /* only the far end of the call */
			c->foreign++;
			continue;
		}
		if (c->fs)
			umfax_faxsess_rx(c->fs, buf, (size_t) r);
	}
}

/* ---------------------------------------------------------------- timers */

static void on_tick(struct srv *s, uint64_t n)
{
	struct call *c, *next;
	long t = now_ms();
	if (n > 10)
		n = 10;         /* a stall: do not run spandsp's clock far ahead */
	for (c = s->calls; c; c = next) {
		next = c->next;
		if (c->fs && !c->committed) {
			uint64_t k;
			for (k = 0; k < n; k++)
				if (umfax_faxsess_tick(c->fs)) {
					if (!c->done_ms)
						c->done_ms = t;
					break;
				}
		}
		/* our 2xx until the ACK */
		if (c->sip && c->state == CS_ANSWERED && c->resp_len && t >= c->rtx_at) {
			if (t >= c->rtx_end) {        /* Timer H, UDP and TCP */
				umfax_log(LOG_NOTICE, c->job_id, c->call_id, "event=no-ack");
				c->state = CS_CONFIRMED;
				end_call(s, c, "no-ack", 1);
			} else if (c->rt.tcp) {
				c->rtx_at = c->rtx_end;   /* TCP: no retransmission, only the timeout */
			} else {
				sip_send(s, &c->rt, c->resp, c->resp_len);
				c->rtx_iv = c->rtx_iv * 2 > T2_MS ? T2_MS : c->rtx_iv * 2;
				c->rtx_at = t + c->rtx_iv;
			}
		}
		if (c->rv_state == 1 && !c->committed && !c->rt.tcp && t >= c->rv_at && t < c->rv_end) {
			sip_send(s, &c->rt, c->rv, c->rv_len);
			c->rv_iv = c->rv_iv * 2 > T2_MS ? T2_MS : c->rv_iv * 2;
			c->rv_at = t + c->rv_iv;
		}
		if (c->state == CS_BYE_SENT) {
			if (t >= c->bye_end)
				c->state = CS_GONE;
			else if (!c->rt.tcp && t >= c->bye_at) {
				sip_send(s, &c->rt, c->bye, c->bye_len);
				c->bye_iv = c->bye_iv * 2 > T2_MS ? T2_MS : c->bye_iv * 2;
				c->bye_at = t + c->bye_iv;
			}
		}
		if (!c->committed) {
			if (c->done_ms && t - c->done_ms >= BYE_WAIT_MS)
				end_call(s, c, "fax-done", 1);
			else if (t >= c->deadline_ms)
				end_call(s, c, "call-timeout", 1);
			else if (c->session_expires && t >= c->refresh_deadline -
			    (c->session_expires >= 96 ? 32000L : c->session_expires * 1000L / 3))
				/* RFC 4028 section 10: BYE min(32 s, SE/3) before the session expires */
				end_call(s, c, "session-expired", 1);
			else if (c->sip && c->kind == UMFAX_FAXSESS_TCP && !c->tconn && t - c->start_ms > 30000)
				end_call(s, c, "no-tcp-connection", 1);
		}
		if (c->committed && (c->state == CS_GONE || !c->sip))
			call_free(s, c);
	}
	struct conn *cn, *cnext;
	for (cn = s->conns; cn; cn = cnext) {
		cnext = cn->next;
		int used = 0;
		for (c = s->calls; c; c = c->next)
			if (c->rt.conn == cn)
				used = 1;
		if (!used && t - cn->last_ms > TCP_IDLE_MS)
			conn_drop(s, cn);
	}
}

static int drop_privileges(void)
{
	const char *user = umfax_conf_str("t38live_user");
	if (geteuid() != 0 || !user || !*user)
		return 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		umfax_log(LOG_ERR, NULL, NULL, "error=\"t38live_user %s: no such user\"", user);
		return -1;
	}
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		umfax_log(LOG_ERR, NULL, NULL, "error=\"cannot become %s: %s\"", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		umfax_log(LOG_ERR, NULL, NULL, "error=\"could regain root after dropping to %s\"", user);
		return -1;
	}
	umfax_log(LOG_INFO, NULL, NULL, "event=privileges user=%s uid=%ld", user, (long) pw->pw_uid);
	return 0;
}

/* "[route NAME] " for errors about a route's settings, "" for global ones. */
static const char *route_label(char *dst, size_t n, const char *rname)
{
	if (rname)
		snprintf(dst, n, "[route %s] ", rname);
	else
		dst[0] = 0;
	return dst;
}

static int parse_ranges(const char *what, const char *list, struct umfax_iprange *out, int *n,
    const char *rname, char *err, size_t en)
{
	char buf[2048], *save = NULL, *tok, lb[96];
	snprintf(buf, sizeof buf, "%s", list);
	*n = 0;
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (*n >= MAX_ALLOW) {
			snprintf(err, en, "%s%s: more than %d entries", route_label(lb, sizeof lb, rname), what, MAX_ALLOW);
			return -1;
		}
		if (umfax_iprange_parse(tok, &out[*n]) < 0) {
			snprintf(err, en, "%s%s: not an address, range or CIDR: %s", route_label(lb, sizeof lb, rname),
			    what, tok);
			return -1;
		}
		(*n)++;
	}
	return 0;
}

/* umfax.conf's routes in file order, then the global settings. */
static int load_routes(struct srv *s, char *err, size_t en)
{
	int nr = umfax_conf_nroutes(), i;
	s->routes = calloc((size_t) nr + 1, sizeof *s->routes);
	if (!s->routes) {
		snprintf(err, en, "out of memory");
		return -1;
	}
	s->nroutes = nr + 1;
	for (i = 0; i <= nr; i++) {
		struct froute *ro = &s->routes[i];
		int r = i < nr ? i : -1;
		const char *rname = r >= 0 ? umfax_conf_route_name(r) : NULL;
		ro->name = rname ? rname : "default";
		if (r >= 0) {
			snprintf(ro->called, sizeof ro->called, "%s", umfax_conf_rstr(r, "route_called"));
			if (parse_ranges("route_source", umfax_conf_rstr(r, "route_source"), ro->source, &ro->nsource,
			    rname, err, en) < 0)
				return -1;
		}
		if (parse_ranges("t38live_allow", umfax_conf_rstr(r, "t38live_allow"), ro->allow, &ro->nallow,
		    rname, err, en) < 0)
			return -1;
		ro->prefer_g711 = strcmp(umfax_conf_rstr(r, "t38live_media"), "g711") == 0;
		ro->reinvite = umfax_conf_rbool(r, "t38live_reinvite");
		ro->ecm = umfax_conf_rbool(r, "t38live_ecm");
		ro->redundancy = (int) umfax_conf_rint(r, "t38live_redundancy");
		ro->fec_span = (int) umfax_conf_rint(r, "t38live_fec_span");
		ro->fec_entries = (int) umfax_conf_rint(r, "t38live_fec_entries");
		ro->t38_version = (int) umfax_conf_rint(r, "t38live_t38_version");
		snprintf(ro->fastest, sizeof ro->fastest, "%s", umfax_conf_rstr(r, "t38live_fastest_modem"));
		snprintf(ro->ident, sizeof ro->ident, "%s", umfax_conf_rstr(r, "local_ident"));
		if (strlen(umfax_conf_rstr(r, "local_ident")) > 20) {
			char lb[96];
			snprintf(err, en, "%slocal_ident: longer than 20 characters", route_label(lb, sizeof lb, rname));
			return -1;
		}
	}
	return 0;
}

int umfax_t38live_run(const struct umfax_t38live_cfg *cfg)
{
	struct srv s;
	char err[512];
	struct sockaddr_storage ss;
	socklen_t sl;
	struct ev ev_udp = { EV_SIPUDP, -1, NULL }, ev_tcpl = { EV_SIPTCPL, -1, NULL },
	    ev_t38l = { EV_T38TCPL, -1, NULL }, ev_tlsl = { EV_SIPTLSL, -1, NULL }, ev_tim = { EV_TIMER, -1, NULL }, ev_sig = { EV_SIGNAL, -1, NULL };
	int rc = EX_OK, spool_ok = 0;

	memset(&s, 0, sizeof s);
	s.ep = -1;
	umfax_dir_init(&s.dir);
	s.cfg = cfg;
	s.udpfd = -1;
	s.tcp_port = cfg->tcp_port >= 0 ? cfg->tcp_port : (int) umfax_conf_int("t38live_tcp_port");
	snprintf(s.media_addr, sizeof s.media_addr, "%s", umfax_conf_str("t38live_media_address"));
	{
		FILE *fp = fopen("/dev/urandom", "rb");
		if (!fp || fread(&s.salt, sizeof s.salt, 1, fp) != 1)
			s.salt = (unsigned long long) time(NULL) ^ (unsigned long long) getpid() << 16;
		if (fp)
			fclose(fp);
		srandom((unsigned) s.salt);
	}
	if (load_routes(&s, err, sizeof err) < 0) {
		umfax_log(LOG_ERR, NULL, NULL, "file=%s error=\"%s\"", umfax_conf_path() ? umfax_conf_path() : "(defaults)", err);
		free(s.routes);
		umfax_dir_release(&s.dir);
		return EX_CONFIG;
	}
	umfax_sip_init();
	umfax_sip_set_server("umfax-t38recv");
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	if (s.ep < 0) {
		rc = EX_OSERR;
		goto out;
	}
	if (!cfg->inetd) {
		const char *listen = cfg->listen ? cfg->listen : umfax_conf_str("t38live_listen");
		if (parse_hostport(listen, 5060, &ss, &sl) < 0) {
			umfax_log(LOG_ERR, NULL, NULL, "error=\"listen address not understood: %s\"", listen);
			rc = EX_CONFIG;
			goto out;
		}
		if ((ev_udp.fd = listen_sock(SOCK_DGRAM, &ss, sl, err, sizeof err)) < 0 ||
		    (ev_tcpl.fd = listen_sock(SOCK_STREAM, &ss, sl, err, sizeof err)) < 0) {
			umfax_log(LOG_ERR, NULL, NULL, "error=\"%s\"", err);
			rc = EX_UNAVAILABLE;
			goto out;
		}
		s.udpfd = ev_udp.fd;
		ep_add(&s, &ev_udp, EPOLLIN);
		ep_add(&s, &ev_tcpl, EPOLLIN);
		if (s.tcp_port > 0) {
			set_port(&ss, s.tcp_port);
			if ((ev_t38l.fd = listen_sock(SOCK_STREAM, &ss, sl, err, sizeof err)) < 0) {
				umfax_log(LOG_ERR, NULL, NULL, "error=\"%s\"", err);
				rc = EX_UNAVAILABLE;
				goto out;
			}
			ep_add(&s, &ev_t38l, EPOLLIN);
		}
		/* SIP over TLS: the key is read here, before we drop root */
		const char *tl = umfax_conf_str("t38live_tls_listen");
		if (*tl) {
			struct umfax_tls_conf tc = {
				.cert = umfax_conf_str("t38live_tls_cert"),
				.key = umfax_conf_str("t38live_tls_key"),
				.client_ca = umfax_conf_str("t38live_tls_client_ca"),
				.client_names = umfax_conf_str("t38live_tls_client_names"),
			};
			struct sockaddr_storage ts;
			socklen_t tsl;
			if (parse_hostport(tl, 5061, &ts, &tsl) < 0) {
				umfax_log(LOG_ERR, NULL, NULL, "error=\"t38live_tls_listen not understood: %s\"", tl);
				rc = EX_CONFIG;
				goto out;
			}
			if ((s.tls = umfax_tls_server_new(&tc, err, sizeof err)) == NULL) {
				umfax_log(LOG_ERR, NULL, NULL, "error=\"TLS: %s\"", err);
				rc = EX_CONFIG;
				goto out;
			}
			if ((ev_tlsl.fd = listen_sock(SOCK_STREAM, &ts, tsl, err, sizeof err)) < 0) {
				umfax_log(LOG_ERR, NULL, NULL, "error=\"%s\"", err);
				rc = EX_UNAVAILABLE;
				goto out;
			}
			ep_add(&s, &ev_tlsl, EPOLLIN);
			umfax_log(LOG_INFO, NULL, NULL, "event=listening sip-tls=%s client-certificates=%s", tl,
			    *tc.client_ca ? "required" : "no");
		}
		umfax_log(LOG_INFO, NULL, NULL, "event=listening sip=%s t38tcp=%d media=%s routes=%d",
		    listen, s.tcp_port, s.routes[s.nroutes - 1].prefer_g711 ? "g711" : "t38", s.nroutes - 1);
	}
	if (drop_privileges() < 0) {
		rc = EX_NOPERM;
		goto out;
	}
	/* the spool and the directory as the user we now are */
	if (umfax_spool_open(&s.sp, cfg->spool, 1, err, sizeof err) < 0) {
		umfax_log(LOG_ERR, NULL, NULL, "error=\"%s\"", err);
		rc = EX_CANTCREAT;
		goto out;
	}
	spool_ok = 1;
	if (umfax_dir_load(&s.dir, umfax_conf_str("directory_file"), err, sizeof err) == 0)
		s.have_dir = 1;
	else
	{
		char qe[600];
		umfax_log(LOG_WARNING, NULL, NULL, "event=no-directory error=%s note=\"calls without Referred-By recipient are refused\"",
		    umfax_log_quote(qe, sizeof qe, err));
	}
	if (cfg->inetd) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof peer;
		int fd = dup(0);
		if (fd < 0 || getpeername(fd, (struct sockaddr *) &peer, &pl) < 0) {
			umfax_log(LOG_ERR, NULL, NULL, "error=\"inetd mode: fd 0 is not a connected socket\"");
			rc = EX_USAGE;
			goto out;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		if (!tcp_session(&s, fd, &peer)) {
			close(fd);
			rc = EX_UNAVAILABLE;
			goto out;
		}
	}
	{
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGHUP);
		sigprocmask(SIG_BLOCK, &set, NULL);
		signal(SIGPIPE, SIG_IGN);
		ev_sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
		ep_add(&s, &ev_sig, EPOLLIN);
		ev_tim.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		struct itimerspec its = { { 0, TICK_MS * 1000000L }, { 0, TICK_MS * 1000000L } };
		if (ev_tim.fd < 0 || timerfd_settime(ev_tim.fd, 0, &its, NULL) < 0) {
			rc = EX_OSERR;
			goto out;
		}
		ep_add(&s, &ev_tim, EPOLLIN);
	}
	long t_end = cfg->max_seconds > 0 ? now_ms() + cfg->max_seconds * 1000L : 0;
	while (!s.stop) {
		struct epoll_event evs[64];
		int i, n = epoll_wait(s.ep, evs, 64, 1000);
		if (n < 0 && errno != EINTR) {
			rc = EX_OSERR;
			break;
		}
		for (i = 0; i < n; i++) {
			struct ev *e = evs[i].data.ptr;
			switch (e->type) {
			case EV_SIPUDP:
				sip_udp_read(&s, e->fd);
				break;
			case EV_SIPTCPL:
			case EV_SIPTLSL:
			case EV_T38TCPL: {
				struct sockaddr_storage peer;
				socklen_t pl = sizeof peer;
				int fd = accept4(e->fd, (struct sockaddr *) &peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd < 0)
					break;
				if (e->type == EV_T38TCPL) {
					if (!tcp_session(&s, fd, &peer))
						close(fd);
					break;
				}
				struct conn *cn = s.nconns < MAX_CONNS ? calloc(1, sizeof *cn) : NULL;
				if (!cn) {
					close(fd);
					break;
				}
				cn->ev.type = EV_SIPTCP;
				cn->ev.fd = fd;
				cn->ev.p = cn;
				cn->last_ms = now_ms();
				if (e->type == EV_SIPTLSL) {
					cn->handshaking = 1;
					if ((cn->tls = umfax_tls_accept(s.tls, fd)) == NULL) {
						close(fd);
						free(cn);
						break;
					}
				}
				if (ep_add(&s, &cn->ev, EPOLLIN) < 0) {
					if (cn->tls)
						umfax_tls_close(cn->tls);
					close(fd);
					free(cn);
					break;
				}
				cn->next = s.conns;
				s.conns = cn;
				s.nconns++;
				break;
			}
			case EV_SIPTCP:
				sip_tcp_read(&s, e->p);
				break;
			case EV_T38TCP:
				if (e->fd >= 0)
					t38_tcp_read(&s, e->p);
				break;
			case EV_MEDIA:
				if (e->fd >= 0)
					media_read(&s, e->p);
				break;
			case EV_TIMER:      /* read after the batch: on_tick frees calls */
				break;
			case EV_SIGNAL: {
				struct signalfd_siginfo si;
				while (read(e->fd, &si, sizeof si) == sizeof si) {
					if (si.ssi_signo == SIGHUP) {
						char qe[600];
						if (s.have_dir && umfax_dir_reload(&s.dir, err, sizeof err) < 0)
							umfax_log(LOG_ERR, NULL, NULL, "event=directory-reload error=%s",
							    umfax_log_quote(qe, sizeof qe, err));
					} else {
						s.stop = 1;
					}
				}
				break;
			}
			}
			/* an event may have freed calls whose events are later in this batch */
			if (s.stop)
				break;
		}
		/* the timer after every batch, not only when epoll names it: with
		 * hundreds of busy media sockets it is often not among the 64
		 * events returned, and spandsp's clock would stop for seconds
		 * (the timerfd is non-blocking: a read before it is due fails) */
		{
			uint64_t x = 0;
			if (read(ev_tim.fd, &x, sizeof x) == sizeof x && x > 0)
				on_tick(&s, x);
		}
		if (cfg->inetd && !s.calls)
			break;
		if (t_end && now_ms() >= t_end)
			break;
		if (cfg->max_calls > 0 && s.ndone >= cfg->max_calls && !s.calls)
			break;
	}
	/* shutting down: every call in progress gets its job */
	while (s.calls) {
		struct call *c = s.calls;
		if (!c->committed)
			end_call(&s, c, "shutdown", 1);
		c->committed = 1;
		call_free(&s, c);
	}
	if (rc == EX_OK && s.worst)
		rc = s.worst;
out:
	while (s.conns)
		conn_drop(&s, s.conns);
	if (ev_udp.fd >= 0)
		close(ev_udp.fd);
	if (ev_tcpl.fd >= 0)
		close(ev_tcpl.fd);
	if (ev_t38l.fd >= 0)
		close(ev_t38l.fd);
	if (ev_tlsl.fd >= 0)
		close(ev_tlsl.fd);
	umfax_tls_free(s.tls);
	if (ev_tim.fd >= 0)
		close(ev_tim.fd);
	if (ev_sig.fd >= 0)
		close(ev_sig.fd);
	if (s.ep >= 0)
		close(s.ep);
	umfax_dir_release(&s.dir);
	free(s.routes);
	if (spool_ok)
		umfax_spool_close(&s.sp);
	return rc;
}
