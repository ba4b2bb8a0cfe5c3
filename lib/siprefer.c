/* siprefer.c - refer mode: answer, wait for T.38, REFER, BYE (see siprefer.h) */
#include "siprefer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <osipparser2/osip_parser.h>

#include "conf.h"
#include "faxdetect.h"
#include "job.h"
#include "log.h"
#include "sdp.h"
#include "sipmsg.h"
#include "spool.h"

/* Where a message came from and answers go: a UDP socket, or a TCP
 * connection of the server (index and generation, see siprefer.h). */
struct xp {
	int fd;
	int tcp;
	int conn;
	unsigned gen;
};

enum dstate {
	D_FREE = 0,
	D_ANSWERED,     /* 200 to the INVITE sent, waiting for the ACK */
	D_WAITFAX,      /* confirmed, waiting for a T.38 re-INVITE */
	D_REINVITED,    /* 200 to a re-INVITE sent, waiting for its ACK */
	D_REFER,        /* REFER sent, waiting for its answer */
	D_NOTIFY,       /* REFER accepted, waiting for the NOTIFY with the result */
	D_BYE,          /* BYE sent */
	D_DONE          /* over; kept a while to absorb retransmissions */
};

static const char *state_name[] = {
	"free", "answered", "wait-fax", "reinvited", "refer", "notify", "bye", "done"
};

struct dlg {
	enum dstate state;
	int fax;                        /* T.38 offered */
	int outcome_logged;
	char call_id[256], local_tag[17], remote_tag[128];
	char from_hdr[700];             /* our From: their To plus our tag */
	char to_hdr[700];               /* our To: their From */
	char target[UMFAX_SIP_MAX_URI]; /* their Contact */
	char me[300];                   /* host:port for Via and Contact */
	char callog[96];
	struct sockaddr_storage peer;
	socklen_t plen;
	struct xp x;
	struct umfax_siprefer *owner;
	unsigned long inv_cseq;         /* CSeq of their last INVITE */
	unsigned long cseq;             /* ours */
	char resp[4096];                /* our last 2xx to an INVITE (until ACK) */
	size_t rlen;
	char req[6144];                 /* our pending REFER or BYE */
	size_t qlen;
	char req_method[8];
	int req_answered;               /* a provisional or final answer came */
	uint64_t retx_at, retx_end, deadline;
	uint32_t interval;
	struct umfax_sipredir_decision d;
	/* media: the fax detector on the gateway's RTP */
	struct umfax_faxdetect det;
	int det_on;
	int te_pt;                      /* telephone-event PT of the offer (or 101) */
	struct sockaddr_storage rtp_peer;   /* from the gateway's SDP */
	socklen_t rtp_plen;
	int rtp_latched;                /* RTP from it has been seen */
};

struct umfax_siprefer {
	struct umfax_sipredir *r;
	struct umfax_siprefer_cfg cfg;
	struct dlg *d;
	int nd;
	struct umfax_spool spool;
	int spool_open;
	int mfd;                        /* the RTP socket, -1 */
	umfax_siprefer_tcp_send_fn tcp_send;
	void *tcp_arg;
	char media_host[64];            /* offered in the SDP when set */
	unsigned long rtp_unmatched;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
det_stop(struct dlg *d)
{
	if (d->det_on)
		umfax_faxdetect_release(&d->det);
	d->det_on = 0;
}

static void
dlg_clear(struct dlg *d)
{
	det_stop(d);
	memset(d, 0, sizeof *d);
}

void
umfax_siprefer_cfg_init(struct umfax_siprefer_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->t1_ms = (int)umfax_conf_int("sipredirect_t1");
	c->t2_ms = (int)umfax_conf_int("sipredirect_t2");
	c->fax_wait_s = (int)umfax_conf_int("sipredirect_fax_wait");
	c->media_port = (int)umfax_conf_int("sipredirect_media_port");
	c->media_addr = umfax_conf_str("sipredirect_media_address");
	c->max_dialogs = (int)umfax_conf_int("sipredirect_max_dialogs");
}

struct umfax_siprefer *
umfax_siprefer_new(struct umfax_sipredir *r, const struct umfax_siprefer_cfg *cfg)
{
	struct umfax_siprefer *p = calloc(1, sizeof *p);

	if (!p)
		return NULL;
	p->r = r;
	p->cfg = *cfg;
	if (p->cfg.max_dialogs < 1)
		p->cfg.max_dialogs = 1;
	p->d = calloc((size_t)p->cfg.max_dialogs, sizeof *p->d);
	if (!p->d) {
		free(p);
		return NULL;
	}
	p->nd = p->cfg.max_dialogs;
	p->mfd = -1;
	return p;
}

void
umfax_siprefer_free(struct umfax_siprefer *p)
{
	int i;

	if (!p)
		return;
	if (p->spool_open)
		umfax_spool_close(&p->spool);
	for (i = 0; i < p->nd; i++)
		det_stop(&p->d[i]);
	if (p->mfd >= 0) {
		umfax_log(LOG_INFO, NULL, NULL, "event=media-stats unmatched_rtp=%lu", p->rtp_unmatched);
		close(p->mfd);
	}
	free(p->d);
	free(p);
}

int
umfax_siprefer_active(const struct umfax_siprefer *p)
{
	int i, n = 0;

	for (i = 0; i < p->nd; i++)
		if (p->d[i].state != D_FREE && p->d[i].state != D_DONE)
			n++;
	return n;
}

static int
xsend(struct umfax_siprefer *p, const struct xp *x, const struct sockaddr *to, socklen_t tl,
    const char *b, size_t n)
{
	if (x->tcp)
		return p->tcp_send ? p->tcp_send(p->tcp_arg, x->conn, x->gen, b, n) : -1;
	if (sendto(x->fd, b, n, MSG_DONTWAIT, to, tl) < 0)
		return -1;
	return 0;
}

static void
send_to(struct dlg *d, const char *b, size_t n)
{
	if (xsend(d->owner, &d->x, (struct sockaddr *)&d->peer, d->plen, b, n) != 0)
		umfax_log(LOG_DEBUG, NULL, d->callog, "event=send transport=%s error=\"%s\"",
		    d->x.tcp ? "tcp" : "udp", d->x.tcp ? "connection closed" : strerror(errno));
}

static void
hex16(char dst[17])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[8];
	int i;

	if (getrandom(b, sizeof b, GRND_NONBLOCK) != (ssize_t)sizeof b) {
		uint64_t v = now_ms() * 6364136223846793005ULL;
		memcpy(b, &v, sizeof b);
	}
	for (i = 0; i < 8; i++) {
		dst[2 * i] = hex[b[i] >> 4];
		dst[2 * i + 1] = hex[b[i] & 15];
	}
	dst[16] = '\0';
}

/* ---- our requests (REFER, BYE): a non-INVITE client transaction ------- */

static void
send_request(struct umfax_siprefer *p, struct dlg *d, const char *method,
    const char *extra)
{
	char branch[17];
	int l;

	hex16(branch);
	d->cseq++;
	l = snprintf(d->req, sizeof d->req,
	    "%s %s SIP/2.0\r\n"
	    "Via: SIP/2.0/%s %s;branch=z9hG4bK%s;rport\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: %s\r\n"
	    "To: %s\r\n"
	    "Call-ID: %s\r\n"
	    "CSeq: %lu %s\r\n"
	    "Contact: <sip:%s%s>\r\n"
	    "%s"
	    "User-Agent: umfax-sipredirect\r\n"
	    "Content-Length: 0\r\n\r\n",
	    method, d->target, d->x.tcp ? "TCP" : "UDP", d->me, branch, d->from_hdr, d->to_hdr,
	    d->call_id, d->cseq, method, d->me, d->x.tcp ? ";transport=tcp" : "", extra ? extra : "");
	if (l < 0 || (size_t)l >= sizeof d->req) {
		umfax_log(LOG_ERR, NULL, d->callog, "event=request-too-long method=%s", method);
		d->state = D_DONE;
		d->deadline = now_ms() + 32000;
		return;
	}
	d->qlen = (size_t)l;
	snprintf(d->req_method, sizeof d->req_method, "%s", method);
	d->req_answered = 0;
	d->interval = (uint32_t)p->cfg.t1_ms;
	d->retx_at = now_ms() + d->interval;
	d->retx_end = now_ms() + 64 * (uint64_t)p->cfg.t1_ms;
	send_to(d, d->req, d->qlen);
}

static void
send_bye(struct umfax_siprefer *p, struct dlg *d, const char *why)
{
	umfax_log(LOG_INFO, NULL, d->callog, "event=bye reason=\"%s\"", why);
	det_stop(d);
	d->rlen = 0;
	d->state = D_BYE;
	send_request(p, d, "BYE", NULL);
}

static void
missed_call(struct umfax_siprefer *p, struct dlg *d, const char *why)
{
	struct umfax_job job;
	char err[512], id[UMFAX_JOB_ID_MAX + 1];
	time_t t = time(NULL);

	if (d->outcome_logged)
		return;
	d->outcome_logged = 1;
	if (!p->spool_open) {
		if (umfax_spool_open(&p->spool, p->cfg.spool, 1, err, sizeof err) != 0) {
			umfax_log(LOG_ERR, NULL, d->callog, "event=missed-call error=\"%s\"", err);
			return;
		}
		p->spool_open = 1;
	}
	umfax_job_init(&job);
	umfax_job_new_id(id, sizeof id);
	if (umfax_job_set(&job, "Job-Id", id) != 0 ||
	    umfax_job_set(&job, "Call-Id", d->call_id) != 0 ||
	    (d->d.caller[0] && umfax_job_set(&job, "Caller", d->d.caller) != 0) ||
	    (d->d.caller_name[0] && umfax_job_set(&job, "Caller-Name", d->d.caller_name) != 0) ||
	    (d->d.extension[0] && umfax_job_set(&job, "Called", d->d.extension) != 0) ||
	    (d->d.recipient[0] && umfax_job_set(&job, "Recipient", d->d.recipient) != 0) ||
	    (d->d.context[0] && umfax_job_set(&job, "Um-Context", d->d.context) != 0) ||
	    umfax_job_set(&job, "Transport", "t38-udptl") != 0 ||
	    umfax_job_set(&job, "Pages", "0") != 0 ||
	    umfax_job_set(&job, "Status", "no-pages") != 0 ||
	    umfax_job_set(&job, "Missed-Call", why) != 0 ||
	    umfax_job_set_time(&job, "Received-At", t) != 0 ||
	    umfax_spool_commit(&p->spool, &job, UMFAX_RECEIVED, UMFAX_NONE, 0, err, sizeof err) != 0) {
		umfax_log(LOG_ERR, NULL, d->callog, "event=missed-call error=\"could not write the job\"");
	} else {
		umfax_log(LOG_NOTICE, id, d->callog, "event=missed-call state=received reason=\"%s\"", why);
		umfax_spool_poke(&p->spool, UMFAX_RECEIVED);
	}
	umfax_job_release(&job);
}

/* ---- the fax is here -------------------------------------------------- */

static void
fax_arrived(struct umfax_siprefer *p, struct dlg *d)
{
	char extra[4096];

	det_stop(d);
	if (d->d.code != 302) {
		/* UM plays a prompt and hangs up: no SIP error on an answered call */
		umfax_log(LOG_NOTICE, NULL, d->callog, "event=deny status=bye reason=\"%s\"", d->d.why);
		d->outcome_logged = 1;
		send_bye(p, d, "fax not allowed");
		return;
	}
	if ((size_t)snprintf(extra, sizeof extra,
	    "Refer-To: <%s%s>\r\nReferred-By: %s\r\n",
	    strncasecmp(d->d.fax_uri, "sip", 3) == 0 ? "" : "sip:", d->d.fax_uri,
	    d->d.referred_by) >= sizeof extra) {
		missed_call(p, d, "Referred-By too long");
		send_bye(p, d, "REFER too long");
		return;
	}
	umfax_log(LOG_INFO, NULL, d->callog, "event=refer mailbox=%s fax_uri=%s", d->d.mailbox, d->d.fax_uri);
	d->state = D_REFER;
	send_request(p, d, "REFER", extra);
}

/* ---- requests from the gateway ----------------------------------------- */

static struct dlg *
find(struct umfax_siprefer *p, const char *call_id, const char *remote_tag)
{
	int i;

	for (i = 0; i < p->nd; i++)
		if (p->d[i].state != D_FREE && strcmp(p->d[i].call_id, call_id) == 0 &&
		    strcmp(p->d[i].remote_tag, remote_tag) == 0)
			return &p->d[i];
	return NULL;
}

static struct dlg *
slot(struct umfax_siprefer *p)
{
	int i;
	uint64_t now = now_ms();

	for (i = 0; i < p->nd; i++)
		if (p->d[i].state == D_FREE)
			return &p->d[i];
	for (i = 0; i < p->nd; i++)     /* reuse a finished one early */
		if (p->d[i].state == D_DONE && p->d[i].deadline <= now + 32000) {
			dlg_clear(&p->d[i]);
			return &p->d[i];
		}
	return NULL;
}

static void
reply(struct umfax_siprefer *p, const struct xp *x, const struct sockaddr *src, socklen_t sl,
    const struct umfax_sip_msg *m, int code, const char *totag, const char *extra, const char *body)
{
	char out[8192];
	int n = umfax_sip_response_body(out, sizeof out, m, code, NULL, totag, extra, body);

	if (n > 0 && xsend(p, x, src, sl, out, (size_t)n) != 0)
		umfax_log(LOG_DEBUG, NULL, NULL, "event=send error=\"%s\"", strerror(errno));
}

static void
sdp(struct umfax_siprefer *p, struct dlg *d, int t38, char *b, size_t n)
{
	char host[sizeof d->me];
	const char *colon;

	if (p->media_host[0])
		snprintf(host, sizeof host, "%s", p->media_host);
	else
		snprintf(host, sizeof host, "%s", d->me);
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		if ((colon = strchr(host, ']')))
			host[colon - host] = '\0';
	} else if ((colon = strrchr(host, ':'))) {
		host[colon - host] = '\0';
	}
	if (t38)
		snprintf(b, n,
		    "v=0\r\no=umfax 1 2 IN %s %s\r\ns=umfax\r\nc=IN %s %s\r\nt=0 0\r\n"
		    "m=image %d udptl t38\r\na=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\n"
		    "a=T38FaxRateManagement:transferredTCF\r\na=T38FaxMaxBuffer:262\r\n"
		    "a=T38FaxMaxDatagram:176\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n",
		    strchr(host, ':') ? "IP6" : "IP4", host, strchr(host, ':') ? "IP6" : "IP4", host,
		    p->cfg.media_port + 2);
	else
		snprintf(b, n,
		    "v=0\r\no=umfax 1 1 IN %s %s\r\ns=umfax\r\nc=IN %s %s\r\nt=0 0\r\n"
		    "m=audio %d RTP/AVP 0 8 %d\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
		    "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16,36\r\na=sendrecv\r\n",
		    strchr(host, ':') ? "IP6" : "IP4", host, strchr(host, ':') ? "IP6" : "IP4", host,
		    p->cfg.media_port, d->te_pt, d->te_pt, d->te_pt);
}

static void
answer_2xx(struct umfax_siprefer *p, struct dlg *d, const struct umfax_sip_msg *m, int t38)
{
	char extra[600], body[1024];
	int n;

	sdp(p, d, t38, body, sizeof body);
	snprintf(extra, sizeof extra, "Contact: <sip:%s%s>\r\nContent-Type: application/sdp\r\n", d->me,
	    d->x.tcp ? ";transport=tcp" : "");
	n = umfax_sip_response_body(d->resp, sizeof d->resp, m, 200, NULL, d->local_tag, extra, body);
	d->rlen = n > 0 ? (size_t)n : 0;
	d->inv_cseq = m->cseq;
	d->interval = (uint32_t)p->cfg.t1_ms;
	d->retx_at = now_ms() + d->interval;
	d->retx_end = now_ms() + 64 * (uint64_t)p->cfg.t1_ms;
	if (d->rlen)
		send_to(d, d->resp, d->rlen);
}

static int
osip_hdr(char *dst, size_t n, int (*fn)(const osip_from_t *, char **), const osip_from_t *h)
{
	char *s = NULL;

	if (!h || fn(h, &s) != 0 || !s)
		return -1;
	snprintf(dst, n, "%s", s);
	osip_free(s);
	return strlen(dst) + 1 < n ? 0 : -1;
}

/* The gateway's RTP address and telephone-event type from the INVITE's
 * SDP, and a fax detector for the call (when the RTP socket is open). */
static void
media_setup(struct umfax_siprefer *p, struct dlg *d, const struct umfax_sip_msg *m)
{
	osip_body_t *b = NULL;
	struct umfax_sdp sdp;
	const struct umfax_sdp_media *am;

	d->te_pt = 101;
	if (osip_message_get_body((osip_message_t *)m->osip, 0, &b) >= 0 && b && b->body) {
		int te = umfax_faxdetect_sdp_te_pt(b->body, b->length);
		if (te >= 96)
			d->te_pt = te;
		if (umfax_sdp_parse(b->body, b->length, &sdp) == 0 &&
		    (am = umfax_sdp_find(&sdp, UMFAX_SDP_AUDIO)) != NULL) {
			struct sockaddr_in *a4 = (struct sockaddr_in *)&d->rtp_peer;
			struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&d->rtp_peer;
			if (inet_pton(AF_INET, am->addr, &a4->sin_addr) == 1) {
				a4->sin_family = AF_INET;
				a4->sin_port = htons((uint16_t)am->port);
				d->rtp_plen = sizeof *a4;
			} else if (inet_pton(AF_INET6, am->addr, &a6->sin6_addr) == 1) {
				a6->sin6_family = AF_INET6;
				a6->sin6_port = htons((uint16_t)am->port);
				d->rtp_plen = sizeof *a6;
			}
		}
	}
	if (p->mfd >= 0 || p->cfg.detect_always) {
		if (umfax_faxdetect_init(&d->det, d->te_pt) == 0)
			d->det_on = 1;
		else
			umfax_log(LOG_ERR, NULL, d->callog, "event=fax-detector error=\"out of memory\"");
	}
}

static void
new_call(struct umfax_siprefer *p, const struct xp *x, const struct umfax_sip_msg *m,
    const struct sockaddr *src, socklen_t sl, const char *peer)
{
	osip_message_t *om = m->osip;
	struct umfax_sipredir_decision dec;
	struct dlg *d;
	osip_contact_t *ct = NULL;
	char totag[17], extra[1000];

	umfax_sip_totag(m, p->r->salt, totag);
	p->r->n_invite++;
	umfax_sipredir_decide(p->r, m, src, sl, &dec);
	if (dec.code == 404 || dec.code == 403 || dec.code == 500) {
		/* not a call for a user of ours: refuse it as redirect mode does */
		if (dec.code == 404)
			p->r->n_404++;
		else
			p->r->n_403++;
		snprintf(extra, sizeof extra, "Warning: 399 %s \"%s\"\r\n", p->r->host, dec.why);
		umfax_log(LOG_INFO, NULL, NULL, "event=refuse status=%d peer=%s reason=\"%s\"",
		    dec.code, peer, dec.why);
		reply(p, x, src, sl, m, dec.code, totag, extra, NULL);
		return;
	}
	d = slot(p);
	if (!d) {
		umfax_log(LOG_WARNING, NULL, NULL, "event=busy peer=%s max_dialogs=%d", peer, p->cfg.max_dialogs);
		reply(p, x, src, sl, m, 486, totag, "Retry-After: 10\r\n", NULL);
		return;
	}
	memset(d, 0, sizeof *d);
	d->d = dec;
	snprintf(d->call_id, sizeof d->call_id, "%s", m->call_id);
	snprintf(d->remote_tag, sizeof d->remote_tag, "%s", m->from_tag);
	memcpy(d->local_tag, totag, sizeof d->local_tag);
	umfax_job_clean(d->callog, sizeof d->callog, m->call_id, strlen(m->call_id));
	if (osip_hdr(d->to_hdr, sizeof d->to_hdr, osip_from_to_str, om->from) != 0 ||
	    osip_hdr(d->from_hdr, sizeof d->from_hdr, osip_to_to_str, om->to) != 0) {
		reply(p, x, src, sl, m, 400, totag, NULL, NULL);
		return;
	}
	{
		size_t l = strlen(d->from_hdr);
		snprintf(d->from_hdr + l, sizeof d->from_hdr - l, ";tag=%s", d->local_tag);
	}
	if (osip_message_get_contact(om, 0, &ct) >= 0 && ct && ct->url) {
		char *s = NULL;
		if (osip_uri_to_str(ct->url, &s) == 0 && s) {
			snprintf(d->target, sizeof d->target, "%s", s);
			osip_free(s);
		}
	}
	if (!d->target[0])
		snprintf(d->target, sizeof d->target, "%s", m->from_uri);
	if (om->req_uri && om->req_uri->host)
		snprintf(d->me, sizeof d->me, strchr(om->req_uri->host, ':') &&
		    om->req_uri->host[0] != '[' ? "[%s]:%s" : "%s:%s",
		    om->req_uri->host, om->req_uri->port ? om->req_uri->port : "5060");
	else
		snprintf(d->me, sizeof d->me, "%s", p->r->host);
	memcpy(&d->peer, src, sl);
	d->plen = sl;
	d->x = *x;
	d->owner = p;
	d->state = D_ANSWERED;
	media_setup(p, d, m);
	umfax_log(LOG_INFO, NULL, d->callog, "event=answer peer=%s mailbox=%s fax=%s",
	    peer, dec.mailbox[0] ? dec.mailbox : "-", dec.code == 302 ? "allowed" : "denied");
	answer_2xx(p, d, m, 0);
}

static void
on_request(struct umfax_siprefer *p, const struct xp *x, const char *buf, size_t len,
    const struct sockaddr *src, socklen_t sl)
{
	struct umfax_sip_msg m;
	char err[128], peer[64], totag[17];
	struct dlg *d;
	int ans;

	umfax_sip_addr_str(src, sl, peer, sizeof peer);
	if (umfax_sip_msg_parse(&m, buf, len, &ans, err, sizeof err) != 0) {
		umfax_log(LOG_NOTICE, NULL, NULL, "event=bad-request peer=%s error=\"%s\"", peer, err);
		p->r->n_400++;
		if (ans && m.method && strcmp(m.method, "ACK") != 0) {
			umfax_sip_totag(&m, p->r->salt, totag);
			reply(p, x, src, sl, &m, 400, totag, NULL, NULL);
		}
		umfax_sip_msg_release(&m);
		return;
	}
	umfax_sip_totag(&m, p->r->salt, totag);
	if (!umfax_dir_gateway(p->r->dir, src, sl)) {
		p->r->n_403++;
		if (umfax_sipredir_stranger_log_ok())
			umfax_log(LOG_WARNING, NULL, NULL, "event=not-gateway status=403 peer=%s", peer);
		if (strcmp(m.method, "ACK") != 0)
			reply(p, x, src, sl, &m, 403, totag, NULL, NULL);
		umfax_sip_msg_release(&m);
		return;
	}
	d = find(p, m.call_id, m.from_tag);
	if (d && x->tcp && d->x.tcp && (d->x.conn != x->conn || d->x.gen != x->gen))
		d->x = *x;      /* the gateway's newest connection for the dialog */
	if (strcmp(m.method, "INVITE") == 0 && !m.to_tag[0]) {
		if (d && d->rlen && m.cseq == d->inv_cseq)
			send_to(d, d->resp, d->rlen);           /* retransmission */
		else if (!d)
			new_call(p, x, &m, src, sl, peer);
	} else if (strcmp(m.method, "OPTIONS") == 0) {
		reply(p, x, src, sl, &m, 200, totag,
		    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, NOTIFY\r\nAccept: application/sdp\r\n", NULL);
	} else if (!d || (m.to_tag[0] && strcmp(m.to_tag, d->local_tag) != 0)) {
		if (strcmp(m.method, "ACK") != 0)
			reply(p, x, src, sl, &m, 481, totag, NULL, NULL);
	} else if (strcmp(m.method, "ACK") == 0) {
		if (m.cseq == d->inv_cseq && d->rlen) {
			d->rlen = 0;
			if ((d->state == D_ANSWERED || d->state == D_REINVITED) && d->fax) {
				fax_arrived(p, d);
			} else if (d->state == D_ANSWERED || d->state == D_REINVITED) {
				if (d->state == D_ANSWERED)
					d->deadline = now_ms() + (uint64_t)p->cfg.fax_wait_s * 1000;
				d->state = D_WAITFAX;
			}
		}
	} else if (strcmp(m.method, "INVITE") == 0) {
		osip_body_t *b = NULL;
		int body = osip_message_get_body((osip_message_t *)m.osip, 0, &b) >= 0 && b && b->body;
		int t38 = body && umfax_sip_sdp_is_t38(b->body, b->length);
		int g711fax = body && !t38 && umfax_faxdetect_sdp_g711_fax(b->body, b->length);
		if (m.cseq == d->inv_cseq && d->rlen) {
			send_to(d, d->resp, d->rlen);
		} else if (d->state == D_WAITFAX || d->state == D_ANSWERED) {
			if ((t38 || g711fax) && !d->fax) {
				d->fax = 1;
				umfax_log(LOG_INFO, NULL, d->callog, "event=fax-detected how=%s",
				    t38 ? "t38-reinvite" : "g711-fax-reinvite");
			}
			d->state = D_REINVITED;
			answer_2xx(p, d, &m, t38);
		} else {
			reply(p, x, src, sl, &m, 491, d->local_tag, NULL, NULL);
		}
	} else if (strcmp(m.method, "NOTIFY") == 0) {
		osip_body_t *b = NULL;
		int code = 0;
		reply(p, x, src, sl, &m, 200, d->local_tag, NULL, NULL);
		if (osip_message_get_body((osip_message_t *)m.osip, 0, &b) >= 0 && b && b->body &&
		    b->length > 12 && strncmp(b->body, "SIP/2.0 ", 8) == 0)
			code = atoi(b->body + 8);
		if ((d->state == D_REFER || d->state == D_NOTIFY) && code >= 200) {
			if (code < 300) {
				umfax_log(LOG_INFO, NULL, d->callog, "event=refer-done status=%d", code);
				d->outcome_logged = 1;
				send_bye(p, d, "transferred to the fax server");
			} else {
				char why[64];
				snprintf(why, sizeof why, "transfer failed: %d", code);
				missed_call(p, d, why);
				send_bye(p, d, why);
			}
		}
	} else if (strcmp(m.method, "BYE") == 0) {
		reply(p, x, src, sl, &m, 200, d->local_tag, NULL, NULL);
		umfax_log(LOG_INFO, NULL, d->callog, "event=bye-received state=%s", state_name[d->state]);
		if (d->state == D_REFER)
			missed_call(p, d, "caller hung up before the transfer");
		det_stop(d);
		d->state = D_DONE;
		d->rlen = d->qlen = 0;
		d->deadline = now_ms() + 32000;
	} else if (strcmp(m.method, "CANCEL") == 0) {
		reply(p, x, src, sl, &m, 200, totag, NULL, NULL);
	} else {
		reply(p, x, src, sl, &m, 405, d->local_tag,
		    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, NOTIFY\r\n", NULL);
	}
	umfax_sip_msg_release(&m);
}

/* ---- answers to our requests ------------------------------------------ */

static void
on_response(struct umfax_siprefer *p, const char *buf, size_t len)
{
	osip_message_t *om = NULL;
	osip_generic_param_t *tag = NULL;
	char cid[256];
	struct dlg *d = NULL;
	int code, i;

	umfax_sip_init();
	if (osip_message_init(&om) != 0)
		return;
	if (osip_message_parse(om, buf, len) != 0 || !MSG_IS_RESPONSE(om) || !om->call_id ||
	    !om->call_id->number || !om->cseq || !om->cseq->number || !om->cseq->method || !om->to)
		goto out;
	if (om->call_id->host)
		snprintf(cid, sizeof cid, "%s@%s", om->call_id->number, om->call_id->host);
	else
		snprintf(cid, sizeof cid, "%s", om->call_id->number);
	osip_to_get_tag(om->to, &tag);
	for (i = 0; i < p->nd; i++)
		if (p->d[i].state != D_FREE && strcmp(p->d[i].call_id, cid) == 0 &&
		    tag && tag->gvalue && strcmp(p->d[i].remote_tag, tag->gvalue) == 0) {
			d = &p->d[i];
			break;
		}
	if (!d || !d->qlen || strtoul(om->cseq->number, NULL, 10) != d->cseq ||
	    strcmp(om->cseq->method, d->req_method) != 0)
		goto out;
	code = om->status_code;
	d->req_answered = 1;
	if (code < 200)
		goto out;
	d->qlen = 0;
	if (strcmp(d->req_method, "REFER") == 0) {
		if (code < 300) {
			if (d->state == D_REFER) {
				d->state = D_NOTIFY;
				d->deadline = now_ms() + 32000;
			}
		} else {
			char why[64];
			snprintf(why, sizeof why, "REFER refused: %d", code);
			umfax_log(LOG_NOTICE, NULL, d->callog, "event=refer-failed status=%d", code);
			missed_call(p, d, why);
			send_bye(p, d, why);
		}
	} else {
		d->state = D_DONE;
		d->deadline = now_ms() + 32000;
	}
out:
	osip_message_free(om);
}

void
umfax_siprefer_input(struct umfax_siprefer *p, int fd, const char *buf,
    size_t len, const struct sockaddr *src, socklen_t srclen)
{
	if (len <= 4 && strspn(buf, "\r\n") >= len)
		return;
	if (umfax_sip_is_response(buf, len))
		on_response(p, buf, len);
	else {
		struct xp x = { fd, 0, -1, 0 };
		on_request(p, &x, buf, len, src, srclen);
	}
}

void
umfax_siprefer_set_tcp(struct umfax_siprefer *p, umfax_siprefer_tcp_send_fn fn, void *arg)
{
	p->tcp_send = fn;
	p->tcp_arg = arg;
}

void
umfax_siprefer_input_tcp(struct umfax_siprefer *p, int conn, unsigned gen, const char *buf,
    size_t len, const struct sockaddr *src, socklen_t srclen)
{
	if (umfax_sip_is_response(buf, len))
		on_response(p, buf, len);
	else {
		struct xp x = { -1, 1, conn, gen };
		on_request(p, &x, buf, len, src, srclen);
	}
}

int
umfax_siprefer_timers(struct umfax_siprefer *p)
{
	uint64_t now = now_ms(), next = now + 1000;
	int i;

	for (i = 0; i < p->nd; i++) {
		struct dlg *d = &p->d[i];

		if (d->state == D_FREE)
			continue;
		if (d->state == D_DONE) {
			if (now >= d->deadline)
				dlg_clear(d);
			continue;
		}
		/* our 2xx to an INVITE, until its ACK */
		if (d->rlen && now >= d->retx_at) {
			if (now >= d->retx_end) {
				umfax_log(LOG_NOTICE, NULL, d->callog, "event=no-ack state=%s", state_name[d->state]);
				d->rlen = 0;
				if (d->state == D_REINVITED && d->fax)
					missed_call(p, d, "no ACK for the T.38 answer");
				send_bye(p, d, "no ACK");
				continue;
			}
			send_to(d, d->resp, d->rlen);
			d->interval = d->interval * 2 > (uint32_t)p->cfg.t2_ms ? (uint32_t)p->cfg.t2_ms : d->interval * 2;
			d->retx_at = now + d->interval;
		}
		/* our REFER or BYE, until an answer */
		if (d->qlen && now >= d->retx_at) {
			if (now >= d->retx_end) {
				umfax_log(LOG_NOTICE, NULL, d->callog, "event=timeout request=%s", d->req_method);
				d->qlen = 0;
				if (d->state == D_REFER) {
					missed_call(p, d, "no answer to REFER");
					send_bye(p, d, "no answer to REFER");
				} else {
					d->state = D_DONE;
					d->deadline = now + 32000;
				}
				continue;
			}
			if (!d->req_answered && !d->x.tcp)     /* Timer E: UDP only */
				send_to(d, d->req, d->qlen);
			d->interval = d->interval * 2 > (uint32_t)p->cfg.t2_ms ? (uint32_t)p->cfg.t2_ms : d->interval * 2;
			d->retx_at = now + d->interval;
		}
		if ((d->state == D_WAITFAX || d->state == D_NOTIFY) && d->deadline && now >= d->deadline) {
			if (d->state == D_WAITFAX) {
				umfax_log(LOG_INFO, NULL, d->callog,
				    "event=no-fax wait=%ds rtp=%lu audio=%lu events=%lu", p->cfg.fax_wait_s,
				    d->det.st.packets, d->det.st.audio, d->det.st.events);
				send_bye(p, d, "no fax detected");
			} else {
				missed_call(p, d, "no NOTIFY with the transfer result");
				send_bye(p, d, "no NOTIFY");
			}
			continue;
		}
		if ((d->rlen || d->qlen) && d->retx_at < next)
			next = d->retx_at;
		if ((d->state == D_WAITFAX || d->state == D_NOTIFY) && d->deadline < next)
			next = d->deadline;
	}
	return next > now ? (int)(next - now) : 0;
}

/* ---- media: RTP from the gateways ------------------------------------- */

int
umfax_siprefer_media_open(struct umfax_siprefer *p, const struct sockaddr *sip_local,
    socklen_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	char a[80];
	int fd, one = 1;

	memset(&ss, 0, sizeof ss);
	if (p->cfg.media_addr && p->cfg.media_addr[0]) {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
		if (inet_pton(AF_INET, p->cfg.media_addr, &a4->sin_addr) == 1) {
			a4->sin_family = AF_INET;
			sl = sizeof *a4;
		} else if (inet_pton(AF_INET6, p->cfg.media_addr, &a6->sin6_addr) == 1) {
			a6->sin6_family = AF_INET6;
			sl = sizeof *a6;
		} else {
			umfax_log(LOG_ERR, NULL, NULL, "config=bad setting=sipredirect_media_address "
			    "error=\"not an IPv4 or IPv6 address\"");
			return -1;
		}
		snprintf(p->media_host, sizeof p->media_host, "%s", p->cfg.media_addr);
	} else if (sip_local && len <= sizeof ss &&
	    (sip_local->sa_family == AF_INET || sip_local->sa_family == AF_INET6)) {
		memcpy(&ss, sip_local, len);
		sl = len;
	} else {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		sl = sizeof(struct sockaddr_in);
	}
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)p->cfg.media_port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)p->cfg.media_port);
	umfax_sip_addr_str((struct sockaddr *)&ss, sl, a, sizeof a);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		umfax_log(LOG_ERR, NULL, NULL, "event=socket media=%s error=\"%s\"", a, strerror(errno));
		return -1;
	}
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
		umfax_log(LOG_ERR, NULL, NULL, "event=bind media=%s/udp error=\"%s\"", a, strerror(errno));
		close(fd);
		return -1;
	}
	umfax_log(LOG_INFO, NULL, NULL, "event=listen media=%s transport=rtp", a);
	p->mfd = fd;
	return fd;
}

static int
same_host(const struct sockaddr_storage *a, const struct sockaddr *b, int port_too)
{
	if (a->ss_family != b->sa_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;
		return x->sin_addr.s_addr == y->sin_addr.s_addr && (!port_too || x->sin_port == y->sin_port);
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;
		return memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0 &&
		    (!port_too || x->sin6_port == y->sin6_port);
	}
	return 0;
}

static void
fax_detected(struct umfax_siprefer *p, struct dlg *d, int how)
{
	umfax_log(LOG_INFO, NULL, d->callog, "event=fax-detected how=%s packets=%lu",
	    umfax_faxdetect_name(how), d->det.st.packets);
	det_stop(d);
	d->fax = 1;
	if (d->state == D_WAITFAX)
		fax_arrived(p, d);
	/* D_ANSWERED, D_REINVITED: the REFER follows the ACK */
}

void
umfax_siprefer_media_input(struct umfax_siprefer *p, const uint8_t *buf, size_t len,
    const struct sockaddr *src, socklen_t srclen)
{
	struct dlg *d = NULL;
	int i, r;

	for (i = 0; i < p->nd && !d; i++)
		if (p->d[i].det_on && p->d[i].rtp_plen && same_host(&p->d[i].rtp_peer, src, 1))
			d = &p->d[i];
	/* a gateway sending from another port than its SDP says (NAT, a
	 * symmetric RTP port): the first call from that host still unmatched */
	for (i = 0; i < p->nd && !d; i++)
		if (p->d[i].det_on && !p->d[i].rtp_latched &&
		    (p->d[i].rtp_plen ? same_host(&p->d[i].rtp_peer, src, 0) :
		    umfax_dir_gateway(p->r->dir, src, srclen) != NULL)) {
			d = &p->d[i];
			if (srclen <= sizeof d->rtp_peer) {
				memcpy(&d->rtp_peer, src, srclen);
				d->rtp_plen = srclen;
			}
		}
	if (!d) {
		p->rtp_unmatched++;
		return;
	}
	d->rtp_latched = 1;
	r = umfax_faxdetect_packet(&d->det, buf, len);
	if (r > 0 && d->fax == 0)
		fax_detected(p, d, r);
}

void
umfax_siprefer_media_read(struct umfax_siprefer *p)
{
	uint8_t buf[2048];
	int i;

	for (i = 0; i < 256 && p->mfd >= 0; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		ssize_t n = recvfrom(p->mfd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNREFUSED)
				umfax_log(LOG_ERR, NULL, NULL, "event=recv media error=\"%s\"", strerror(errno));
			return;
		}
		umfax_siprefer_media_input(p, buf, (size_t)n, (struct sockaddr *)&ss, sl);
	}
}
