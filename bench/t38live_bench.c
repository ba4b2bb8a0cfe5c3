/* t38live_bench - many simultaneous live fax calls from ONE process against
 * t38recv --live (the sender side of bench/t38live.sh)
 *
 *   t38live_bench -s 127.0.0.1:PORT [-P SERVER_PID] [-n CALLS] [-t udptl|tcp|ulaw|alaw]
 *                 [-l LOSS] [-S SEED] [-r RAMP_MS] [-T TIMEOUT_S] [-p PAGES]
 *                 [-b REFERRED_BY] [-v] FILE.tif
 *
 * One epoll loop and a 20 ms timerfd drive CALLS calls at once, each a
 * minimal SIP UAC over UDP (one SIP socket for all calls, like a gateway):
 * INVITE with an SDP offer (T.38 UDPTL, T.38 TCP/TPKT, or G.711 PCMU/PCMA),
 * 100/200, ACK; media through lib/faxsess in calling mode (what
 * tests/tools/faxsend uses), one UDP socket per call; 500 ms after T.30
 * ended we send BYE (the server's own BYE, if it comes first, gets 200; a
 * re-INVITE to T.38 gets 488).  Call starts are spread evenly over RAMP_MS
 * (default 2000).  -l drops that percentage of the UDPTL datagrams we send
 * (deterministic from -S and the call's number).  -T bounds the whole run
 * (default 240 s); at most 2000 calls.
 *
 * A call is ok when the INVITE got 2xx with usable media and T.30 ended OK
 * with PAGES pages sent (default: the TIFF's page count).  Prints a line
 *   transport loss calls ok failed wall sender_cpu late_ticks
 *   [server_cpu per_call core_share server_rss0 server_hwm hwm_growth_per_call]
 * (server figures from /proc/SERVER_PID: utime+stime over the run; VmRSS at
 * the start and VmHWM at the end), a line about the sender itself (longest
 * tick, SIP batch and loop iteration, time in media reads, session set-up),
 * and, if any call failed, a line of failure counts by reason.  late_ticks:
 * 20 ms ticks this process ran late (more than one timer expiry at once),
 * i.e. when the sender itself fell behind; the timer is read after every
 * event, so a burst of heavy events (many calls starting their page at
 * once: spandsp reads the TIFF, 2-5 ms each) does not stop the clock.
 * Exit 0 when every call was ok, 1 otherwise, 2 on usage or setup errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <tiffio.h>
#include <unistd.h>

#include "faxinfo.h"
#include "faxsess.h"
#include "sdp.h"
#include "sipcap.h"

#define MAX_CALLS   2000
#define TICK_MS     20
#define T1_MS       500
#define INVITE_MS   32000      /* Timer B */
#define BYE_MS      8000
#define AFTER_T30   500        /* hang up this long after T.30 ended */

enum { ST_WAIT = 0, ST_INVITE, ST_MEDIA, ST_BYE, ST_DONE };
enum { F_NONE = 0, F_NOANSWER, F_REFUSED, F_NOMEDIA, F_SESSION, F_FAX, F_PAGES, F_TIMEOUT, F_NFAIL };
static const char *const fail_name[F_NFAIL] = {
	"ok", "no-answer", "refused", "no-media", "session", "t30-failed", "wrong-pages", "timeout"
};

struct bench;

struct call {
	const struct bench *b;
	int idx, state, fail, code, provisional;
	int fd;                       /* media: UDP socket, or TCP for T.38/TPKT */
	struct sockaddr_in mpeer;
	int mport;
	struct umfax_faxsess *fs;
	unsigned seed;
	long sent, dropped;
	char callid[64], tag[24], branch[40];
	char to_hdr[512], contact[256];
	long start_at, inv_t0, rtx_at, rtx_iv, done_at, bye_t0, bye_at, bye_iv;
	int server_bye, bye_answered, pages;
	char t30[128];
};

struct bench {
	int kind, sipfd, ep, loss, verbose, want_pages;
	int sip_port;
	struct sockaddr_in srv;
	char host[64];
	int port;
	const char *tiff, *rb;
	struct call *calls;
	int n, ndone;
	long late_ticks;
	double media_ms, media_max, new_ms, new_max, tick_max, loop_max, sip_max, loop_max_cpu;
	int loop_max_n;   /* session set-up, tick and loop times */
	long nnew, media_slow;
};

static double now_ms_f(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static double cpu_ms_f(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double) ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* utime + stime of PID in seconds, or -1. */
static double cpu_of(long pid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	unsigned long ut = 0, st = 0;
	/* fields after the comm: state(3) ... utime(14) stime(15) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
}

/* A "Vm...:" figure of /proc/PID/status in kB, or -1. */
static long vm_of(long pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	size_t kl = strlen(key);
	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return -1;
	while (fgets(line, sizeof line, fp))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(fp);
	return v;
}

static unsigned rnd(struct call *c)
{
	c->seed = c->seed * 1103515245u + 12345u;
	return (c->seed >> 16) & 0x7fff;
}

/* ------------------------------------------------------------------ SIP */

/* A header's value in a SIP message (first match, full or compact name). */
static int header(const char *msg, const char *name, const char *compact, char *dst, size_t n)
{
	return umfax_sip_header(msg, strlen(msg), name, compact, dst, n);
}

static void sip_out(struct bench *b, const char *msg, int len)
{
	if (len > 0)
		sendto(b->sipfd, msg, (size_t) len, 0, (struct sockaddr *) &b->srv, sizeof b->srv);
}

static void send_invite(struct bench *b, struct call *c)
{
	char sdp[1024], inv[4096], rbh[1200] = "";
	int sl = snprintf(sdp, sizeof sdp, "v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=bench\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n");
	if (b->kind == UMFAX_FAXSESS_UDPTL || b->kind == UMFAX_FAXSESS_TCP)
		sl += snprintf(sdp + sl, sizeof sdp - (size_t) sl,
		    "m=image %d %s t38\r\na=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\n"
		    "a=T38FaxRateManagement:transferredTCF\r\na=T38FaxMaxBuffer:2000\r\na=T38FaxMaxDatagram:400\r\n%s",
		    b->kind == UMFAX_FAXSESS_TCP ? 9 : c->mport, b->kind == UMFAX_FAXSESS_TCP ? "TCP/TPKT/T38" : "udptl",
		    b->kind == UMFAX_FAXSESS_TCP ? "a=setup:active\r\n" : "a=T38FaxUdpEC:t38UDPRedundancy\r\n");
	else
		sl += snprintf(sdp + sl, sizeof sdp - (size_t) sl, "m=audio %d RTP/AVP %d\r\na=rtpmap:%d %s/8000\r\na=ptime:20\r\n",
		    c->mport, b->kind == UMFAX_FAXSESS_ALAW ? 8 : 0, b->kind == UMFAX_FAXSESS_ALAW ? 8 : 0,
		    b->kind == UMFAX_FAXSESS_ALAW ? "PCMA" : "PCMU");
	if (b->rb)
		snprintf(rbh, sizeof rbh, "Referred-By: %s\r\n", b->rb);
	int il = snprintf(inv, sizeof inv,
	    "INVITE sip:fax@%s:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport\r\nMax-Forwards: 70\r\n"
	    "From: \"Bench %d\" <sip:+1425555%04d@127.0.0.1>;tag=%s\r\nTo: <sip:fax@%s:%d>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n"
	    "Contact: <sip:bench@127.0.0.1:%d>\r\n%sContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
	    b->host, b->port, b->sip_port, c->branch, c->idx, c->idx % 10000, c->tag, b->host, b->port, c->callid,
	    b->sip_port, rbh, sl, sdp);
	sip_out(b, inv, il);
}

static void send_ack(struct bench *b, struct call *c, int failure)
{
	char ack[2048];
	int al;
	if (failure)      /* ACK of a non-2xx: the INVITE's Request-URI and branch */
		al = snprintf(ack, sizeof ack,
		    "ACK sip:fax@%s:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport\r\nMax-Forwards: 70\r\n"
		    "From: <sip:+1425555%04d@127.0.0.1>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
		    b->host, b->port, b->sip_port, c->branch, c->idx % 10000, c->tag, c->to_hdr, c->callid);
	else
		al = snprintf(ack, sizeof ack,
		    "ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=%sa;rport\r\nMax-Forwards: 70\r\n"
		    "From: <sip:+1425555%04d@127.0.0.1>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
		    c->contact, b->sip_port, c->branch, c->idx % 10000, c->tag, c->to_hdr, c->callid);
	sip_out(b, ack, al);
}

static void send_bye(struct bench *b, struct call *c)
{
	char bye[2048];
	int bl = snprintf(bye, sizeof bye,
	    "BYE %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=%sb;rport\r\nMax-Forwards: 70\r\n"
	    "From: <sip:+1425555%04d@127.0.0.1>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
	    c->contact, b->sip_port, c->branch, c->idx % 10000, c->tag, c->to_hdr, c->callid);
	sip_out(b, bye, bl);
}

/* Answer a request of the server (BYE: 200, anything else: 488). */
static void answer(struct bench *b, const char *req, const struct sockaddr_in *from, int code)
{
	char via[512] = "", fr[512] = "", to[512] = "", cid[256] = "", cs[64] = "", out[2048];
	header(req, "Via", "v", via, sizeof via);
	header(req, "From", "f", fr, sizeof fr);
	header(req, "To", "t", to, sizeof to);
	header(req, "Call-ID", "i", cid, sizeof cid);
	header(req, "CSeq", NULL, cs, sizeof cs);
	int k = snprintf(out, sizeof out, "SIP/2.0 %s\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
	    "Content-Length: 0\r\n\r\n", code == 200 ? "200 OK" : "488 Not Acceptable Here", via, fr, to, cid, cs);
	if (k > 0 && (size_t) k < sizeof out)
		sendto(b->sipfd, out, (size_t) k, 0, (const struct sockaddr *) from, sizeof *from);
}

/* ---------------------------------------------------------------- media */

static void media_out(void *arg, const uint8_t *buf, size_t len)
{
	struct call *c = arg;
	const struct bench *b = c->b;
	if (b->kind == UMFAX_FAXSESS_TCP) {
		size_t off = 0;
		while (off < len) {
			ssize_t w = send(c->fd, buf + off, len - off, MSG_NOSIGNAL);
			if (w <= 0)
				return;
			off += (size_t) w;
		}
		return;
	}
	if (b->kind == UMFAX_FAXSESS_UDPTL && b->loss && (int) (rnd(c) % 1000) < b->loss * 10) {
		c->dropped++;
		return;
	}
	sendto(c->fd, buf, len, 0, (struct sockaddr *) &c->mpeer, sizeof c->mpeer);
	c->sent++;
}

static void logline(void *arg, const char *line)
{
	struct call *c = arg;
	fprintf(stderr, "t38live_bench: call %d: %s\n", c->idx, line);
}

static void call_done(struct bench *b, struct call *c, int fail)
{
	if (c->state == ST_DONE)
		return;
	if (!c->fail)
		c->fail = fail;
	if (c->fd >= 0) {
		epoll_ctl(b->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	c->state = ST_DONE;
	b->ndone++;
}

/* T.30 is over (or the server hung up, or time ran out): read the result. */
static void media_finish(struct bench *b, struct call *c)
{
	struct umfax_faxinfo info;
	if (!c->fs)
		return;
	umfax_faxsess_finish(c->fs, &info);
	umfax_faxsess_free(c->fs);
	c->fs = NULL;
	c->pages = info.pages;
	snprintf(c->t30, sizeof c->t30, "%s", info.t30_result);
	if (info.status != UMFAX_FAX_COMPLETE)
		c->fail = F_FAX;
	else if (info.pages != b->want_pages)
		c->fail = F_PAGES;
	if (c->fd >= 0 && b->kind == UMFAX_FAXSESS_TCP) {
		epoll_ctl(b->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
}

static void hang_up(struct bench *b, struct call *c)
{
	media_finish(b, c);
	send_bye(b, c);
	c->state = ST_BYE;
	c->bye_t0 = now_ms();
	c->bye_iv = T1_MS;
	c->bye_at = c->bye_t0 + T1_MS;
}

static int start_call(struct bench *b, struct call *c)
{
	if (b->kind != UMFAX_FAXSESS_TCP) {
		struct sockaddr_in me = { .sin_family = AF_INET };
		socklen_t ml = sizeof me;
		me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0 || bind(c->fd, (struct sockaddr *) &me, sizeof me) < 0 ||
		    getsockname(c->fd, (struct sockaddr *) &me, &ml) < 0) {
			fprintf(stderr, "t38live_bench: call %d: media socket: %s\n", c->idx, strerror(errno));
			return -1;
		}
		c->mport = ntohs(me.sin_port);
		struct epoll_event ee = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(b->ep, EPOLL_CTL_ADD, c->fd, &ee) < 0)
			return -1;
	}
	c->state = ST_INVITE;
	c->inv_t0 = now_ms();
	c->rtx_iv = T1_MS;
	c->rtx_at = c->inv_t0 + T1_MS;
	send_invite(b, c);
	return 0;
}

/* The 2xx to our INVITE: ACK, then media as the answer says. */
static void answered(struct bench *b, struct call *c, const char *resp)
{
	char err[256];
	header(resp, "To", "t", c->to_hdr, sizeof c->to_hdr);
	if (header(resp, "Contact", "m", c->contact, sizeof c->contact) == 0) {
		char *a = strchr(c->contact, '<'), *e = a ? strchr(a, '>') : NULL;
		if (a && e) {
			memmove(c->contact, a + 1, (size_t) (e - a - 1));
			c->contact[e - a - 1] = 0;
		}
	} else {
		snprintf(c->contact, sizeof c->contact, "sip:%s:%d", b->host, b->port);
	}
	send_ack(b, c, 0);
	const char *body = strstr(resp, "\r\n\r\n");
	struct umfax_sdp ans;
	const struct umfax_sdp_media *m = NULL;
	if (body && umfax_sdp_parse(body + 4, strlen(body + 4), &ans) == 0)
		m = umfax_sdp_find(&ans, b->kind == UMFAX_FAXSESS_UDPTL ? UMFAX_SDP_T38_UDPTL
		    : b->kind == UMFAX_FAXSESS_TCP ? UMFAX_SDP_T38_TCP : UMFAX_SDP_AUDIO);
	if (!m) {
		c->fail = F_NOMEDIA;
		hang_up(b, c);
		return;
	}
	memset(&c->mpeer, 0, sizeof c->mpeer);
	c->mpeer.sin_family = AF_INET;
	c->mpeer.sin_port = htons((uint16_t) m->port);
	if (inet_pton(AF_INET, m->addr[0] ? m->addr : ans.addr, &c->mpeer.sin_addr) != 1) {
		c->fail = F_NOMEDIA;
		hang_up(b, c);
		return;
	}
	if (b->kind == UMFAX_FAXSESS_TCP) {
		int one = 1;
		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd >= 0)
			setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct epoll_event ee = { .events = EPOLLIN, .data.ptr = c };
		if (c->fd < 0 || connect(c->fd, (struct sockaddr *) &c->mpeer, sizeof c->mpeer) < 0 ||
		    epoll_ctl(b->ep, EPOLL_CTL_ADD, c->fd, &ee) < 0) {
			c->fail = F_NOMEDIA;
			hang_up(b, c);
			return;
		}
	}
	struct umfax_faxsess_conf fc = { 0 };
	fc.kind = b->kind;
	fc.calling = 1;
	fc.tiff = b->tiff;
	fc.local_ident = "+1 425 555 0100";
	fc.ecm = 1;
	fc.fastest = 14400;
	fc.t38_version = m->t38_version >= 0 ? m->t38_version : 0;
	fc.max_datagram = m->t38_max_datagram;
	fc.rate_tcf = 2;
	fc.redundancy = 3;
	fc.hold = 4;
	fc.ssrc = 0x5eed0000u + (uint32_t) c->idx;
	double n0 = now_ms_f();
	c->fs = umfax_faxsess_new(&fc, media_out, c, err, sizeof err);
	n0 = now_ms_f() - n0;
	b->new_ms += n0;
	b->nnew++;
	if (n0 > b->new_max)
		b->new_max = n0;
	if (!c->fs) {
		fprintf(stderr, "t38live_bench: call %d: %s\n", c->idx, err);
		c->fail = F_SESSION;
		hang_up(b, c);
		return;
	}
	if (b->verbose > 1)
		umfax_faxsess_set_log(c->fs, logline, c);
	c->state = ST_MEDIA;
}

static struct call *call_of(struct bench *b, const char *msg)
{
	char cid[256];
	int idx;
	if (header(msg, "Call-ID", "i", cid, sizeof cid) < 0)
		return NULL;
	if (sscanf(cid, "tlb%*d-%d@", &idx) != 1 || idx < 0 || idx >= b->n)
		return NULL;
	if (strcmp(b->calls[idx].callid, cid) != 0)
		return NULL;
	return &b->calls[idx];
}

static void sip_read(struct bench *b)
{
	char msg[8192];
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t r = recvfrom(b->sipfd, msg, sizeof msg - 1, 0, (struct sockaddr *) &from, &fl);
		if (r < 0)
			return;
		if (r < 12)
			continue;
		msg[r] = 0;
		struct call *c = call_of(b, msg);
		if (strncmp(msg, "SIP/2.0 ", 8) != 0) {        /* a request */
			if (!c)
				continue;
			if (strncmp(msg, "BYE ", 4) == 0) {
				answer(b, msg, &from, 200);
				c->server_bye = 1;
				if (c->state == ST_MEDIA)
					media_finish(b, c);
				if (c->state == ST_MEDIA || c->state == ST_BYE)
					call_done(b, c, F_NONE);
			} else if (strncmp(msg, "INVITE ", 7) == 0) {
				answer(b, msg, &from, 488);     /* stay with what we offered */
			}
			continue;
		}
		if (!c)
			continue;
		int code = atoi(msg + 8);
		char cs[64] = "";
		header(msg, "CSeq", NULL, cs, sizeof cs);
		if (strstr(cs, "INVITE")) {
			if (code < 200) {
				c->provisional = 1;
			} else if (c->state == ST_INVITE) {
				c->code = code;
				if (code >= 300) {
					header(msg, "To", "t", c->to_hdr, sizeof c->to_hdr);
					send_ack(b, c, 1);
					call_done(b, c, F_REFUSED);
				} else {
					answered(b, c, msg);
				}
			} else if (code < 300 && c->contact[0]) {
				send_ack(b, c, 0);      /* the 2xx again: our ACK was lost */
			}
		} else if (strstr(cs, "BYE") && c->state == ST_BYE) {
			c->bye_answered = 1;
			call_done(b, c, F_NONE);
		}
	}
}

static void media_read(struct bench *b, struct call *c)
{
	uint8_t buf[4096];
	for (int i = 0; i < 64 && c->fd >= 0; i++) {
		ssize_t r = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
		if (r > 0 && c->fs)
			umfax_faxsess_rx(c->fs, buf, (size_t) r);
		else if (r == 0 && b->kind == UMFAX_FAXSESS_TCP) {
			if (c->state == ST_MEDIA)
				hang_up(b, c);
			return;
		} else if (r < 0)
			return;
	}
}

static void on_tick(struct bench *b, uint64_t k, long t0, long t_end)
{
	long t = now_ms();
	if (k > 1)
		b->late_ticks += (long) (k - 1);
	if (k > 5)
		k = 5;
	for (int i = 0; i < b->n; i++) {
		struct call *c = &b->calls[i];
		switch (c->state) {
		case ST_WAIT:
			if (t >= t0 + c->start_at && start_call(b, c) < 0)
				call_done(b, c, F_SESSION);
			break;
		case ST_INVITE:
			if (t - c->inv_t0 >= INVITE_MS) {
				call_done(b, c, F_NOANSWER);
			} else if (t >= c->rtx_at) {
				if (!c->provisional) {
					send_invite(b, c);
					c->rtx_iv = c->rtx_iv * 2 > 4000 ? 4000 : c->rtx_iv * 2;
				}
				c->rtx_at = t + c->rtx_iv;
			}
			break;
		case ST_MEDIA:
			for (uint64_t j = 0; j < k && !c->done_at; j++)
				if (umfax_faxsess_tick(c->fs))
					c->done_at = t;
			if (c->done_at && t - c->done_at >= AFTER_T30)
				hang_up(b, c);
			break;
		case ST_BYE:
			if (t - c->bye_t0 >= BYE_MS) {
				call_done(b, c, F_NONE);
			} else if (t >= c->bye_at) {
				send_bye(b, c);
				c->bye_iv = c->bye_iv * 2 > 4000 ? 4000 : c->bye_iv * 2;
				c->bye_at = t + c->bye_iv;
			}
			break;
		default:
			break;
		}
		if (t >= t_end && c->state != ST_DONE) {
			if (c->state == ST_MEDIA)
				media_finish(b, c);
			if (c->state == ST_MEDIA || c->state == ST_BYE)
				send_bye(b, c);
			c->fail = F_TIMEOUT;
			call_done(b, c, F_TIMEOUT);
		}
	}
}

static void tick_if_due(struct bench *b, int tfd, long t0, long t_end)
{
	uint64_t x = 0;
	if (read(tfd, &x, sizeof x) == sizeof x && x > 0) {
		double k0 = now_ms_f();
		on_tick(b, x, t0, t_end);
		k0 = now_ms_f() - k0;
		if (k0 > b->tick_max)
			b->tick_max = k0;
	}
}

static int tiff_pages(const char *path)
{
	TIFF *t = TIFFOpen(path, "r");
	if (!t)
		return -1;
	int n = TIFFNumberOfDirectories(t);
	TIFFClose(t);
	return n;
}

static void usage(void)
{
	fprintf(stderr, "usage: t38live_bench -s 127.0.0.1:PORT [-P SERVER_PID] [-n CALLS] [-t udptl|tcp|ulaw|alaw]\n"
	    "                     [-l LOSS] [-S SEED] [-r RAMP_MS] [-T TIMEOUT_S] [-p PAGES]\n"
	    "                     [-b REFERRED_BY] [-v] FILE.tif\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct bench b;
	const char *server = NULL, *tname = "udptl";
	long spid = 0;
	int c, ramp = 2000, timeout = 240;
	unsigned seed = 1;

	b.kind = UMFAX_FAXSESS_UDPTL;
	b.n = 10;
	b.rb = "<sip:um1;msExchUMFaxRecipient=smtp:bench@contoso.com;msExchUMContext=Q2FsbElkPWJlbmNo>";
	while ((c = getopt(argc, argv, "s:P:n:t:l:S:r:T:p:b:v")) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 'P': spid = strtol(optarg, NULL, 10); break;
		case 'n': b.n = atoi(optarg); break;
		case 't':
			tname = optarg;
			if (!strcmp(optarg, "udptl")) b.kind = UMFAX_FAXSESS_UDPTL;
			else if (!strcmp(optarg, "tcp")) b.kind = UMFAX_FAXSESS_TCP;
			else if (!strcmp(optarg, "ulaw")) b.kind = UMFAX_FAXSESS_ULAW;
			else if (!strcmp(optarg, "alaw")) b.kind = UMFAX_FAXSESS_ALAW;
			else usage();
			break;
		case 'l': b.loss = atoi(optarg); break;
		case 'S': seed = (unsigned) strtoul(optarg, NULL, 10); break;
		case 'r': ramp = atoi(optarg); break;
		case 'T': timeout = atoi(optarg); break;
		case 'p': b.want_pages = atoi(optarg); break;
		case 'b': b.rb = *optarg ? optarg : NULL; break;
		case 'v': b.verbose++; break;
		default: usage();
		}
	}
	if (!server || optind != argc - 1 || b.n < 1 || b.n > MAX_CALLS || b.loss < 0 || b.loss > 50 ||
	    ramp < 0 || ramp > 60000 || timeout < 10 || timeout > 3600)
		usage();
	if (sscanf(server, "%63[^:]:%d", b.host, &b.port) != 2 || strncmp(b.host, "127.", 4) != 0)
		usage();         /* loopback only */
	b.srv.sin_family = AF_INET;
	b.srv.sin_port = htons((uint16_t) b.port);
	if (inet_pton(AF_INET, b.host, &b.srv.sin_addr) != 1)
		usage();
	b.tiff = argv[optind];
	TIFFSetWarningHandler(NULL);
	int np = tiff_pages(b.tiff);
	if (np < 1) {
		fprintf(stderr, "t38live_bench: %s: not a readable TIFF\n", b.tiff);
		return 2;
	}
	if (!b.want_pages)
		b.want_pages = np;

	/* each call holds a media socket and the open TIFF: raise the fd limit */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t) (3 * b.n + 16))
		fprintf(stderr, "t38live_bench: warning: open-file limit %lu is low for %d calls\n",
		    (unsigned long) rl.rlim_cur, b.n);

	b.ep = epoll_create1(EPOLL_CLOEXEC);
	b.sipfd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in me = { .sin_family = AF_INET };
	socklen_t ml = sizeof me;
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int big = 4 << 20;
	if (b.ep < 0 || b.sipfd < 0 || bind(b.sipfd, (struct sockaddr *) &me, sizeof me) < 0 ||
	    getsockname(b.sipfd, (struct sockaddr *) &me, &ml) < 0) {
		perror("t38live_bench: socket");
		return 2;
	}
	setsockopt(b.sipfd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	b.sip_port = ntohs(me.sin_port);
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct itimerspec its = { { 0, TICK_MS * 1000000L }, { 0, TICK_MS * 1000000L } };
	struct epoll_event ee = { .events = EPOLLIN, .data.ptr = NULL };
	if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0 || epoll_ctl(b.ep, EPOLL_CTL_ADD, tfd, &ee) < 0) {
		perror("t38live_bench: timer");
		return 2;
	}
	ee.data.ptr = &b;
	epoll_ctl(b.ep, EPOLL_CTL_ADD, b.sipfd, &ee);

	b.calls = calloc((size_t) b.n, sizeof *b.calls);
	if (!b.calls)
		return 2;
	for (int i = 0; i < b.n; i++) {
		struct call *k = &b.calls[i];
		k->b = &b;
		k->idx = i;
		k->fd = -1;
		k->seed = seed * 7919u + (unsigned) i + 1;
		k->start_at = (long) ramp * i / b.n;
		snprintf(k->callid, sizeof k->callid, "tlb%d-%d@127.0.0.1", (int) getpid(), i);
		snprintf(k->tag, sizeof k->tag, "b%x%x", (unsigned) getpid(), (unsigned) i);
		snprintf(k->branch, sizeof k->branch, "z9hG4bKtlb%x-%d", (unsigned) getpid(), i);
	}

	double cpu0 = spid ? cpu_of(spid) : -1;
	long rss0 = spid ? vm_of(spid, "VmRSS") : -1;
	long t0 = now_ms(), t_end = t0 + timeout * 1000L;
	while (b.ndone < b.n) {
		struct epoll_event evs[256];
		int n = epoll_wait(b.ep, evs, 256, 100);
		double l0 = now_ms_f(), c0 = cpu_ms_f();
		if (n < 0 && errno != EINTR) {
			perror("t38live_bench: epoll_wait");
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &b) {
				double s0 = now_ms_f();
				sip_read(&b);
				s0 = now_ms_f() - s0;
				if (s0 > b.sip_max)
					b.sip_max = s0;
			}
			else if (evs[i].data.ptr) {
				double m0 = now_ms_f();
				media_read(&b, evs[i].data.ptr);
				m0 = now_ms_f() - m0;
				b.media_ms += m0;
				if (m0 > 2)
					b.media_slow++;
				if (m0 > b.media_max)
					b.media_max = m0;
			}
			/* the timer after every event, not only when epoll names it:
			 * with hundreds of busy sockets it may not be among the events
			 * returned, and a batch in which many calls start their page
			 * (spandsp reads the TIFF: 2-5 ms each) takes 100s of ms */
			tick_if_due(&b, tfd, t0, t_end);
		}
		if (n <= 0)
			tick_if_due(&b, tfd, t0, t_end);
		l0 = now_ms_f() - l0;
		if (l0 > b.loop_max) {
			b.loop_max = l0;
			b.loop_max_cpu = cpu_ms_f() - c0;
			b.loop_max_n = n;
		}
	}
	long t1 = now_ms();
	/* the server answers BYE before it commits: give it a moment */
	usleep(200000);
	double cpu1 = spid ? cpu_of(spid) : -1;
	long hwm = spid ? vm_of(spid, "VmHWM") : -1;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double scpu = (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double) ru.ru_stime.tv_sec +
	    ru.ru_stime.tv_usec / 1e6;
	double wall = (double) (t1 - t0) / 1000.0;

	int nf[F_NFAIL] = { 0 }, ok = 0, first_bad = -1, bye_lost = 0;
	long sent = 0, dropped = 0;
	for (int i = 0; i < b.n; i++) {
		struct call *k = &b.calls[i];
		nf[k->fail]++;
		if (k->fail == F_NONE) {
			ok++;
		} else {
			if (first_bad < 0)
				first_bad = i;
			if (b.verbose)
				fprintf(stderr, "t38live_bench: call %d: %s code=%d pages=%d t30=\"%s\"\n", i,
				    fail_name[k->fail], k->code, k->pages, k->t30);
		}
		if (k->state == ST_DONE && !k->server_bye && !k->bye_answered && k->fail == F_NONE)
			bye_lost++;
		sent += k->sent;
		dropped += k->dropped;
	}
	printf("t38live_bench: transport=%s loss=%d%% calls=%d ok=%d failed=%d wall=%.1fs sender_cpu=%.1fs (%.0f%% of a core) late_ticks=%ld",
	    tname, b.loss, b.n, ok, b.n - ok, wall, scpu, 100.0 * scpu / wall, b.late_ticks);
	if (cpu0 >= 0 && cpu1 >= 0)
		printf(" server_cpu=%.2fs per_call=%.4fs core_share=%.1f%%", cpu1 - cpu0,
		    (cpu1 - cpu0) / b.n, 100.0 * (cpu1 - cpu0) / wall);
	if (rss0 > 0 && hwm > 0)
		printf(" server_rss0=%ldkB server_hwm=%ldkB hwm_growth_per_call=%.0fkB", rss0, hwm,
		    (double) (hwm - rss0) / b.n);
	printf("\n");
	printf("t38live_bench: sender: max_tick=%.0fms max_sip_batch=%.0fms max_loop=%.0fms (cpu %.0fms, %d events)"
	    " media_rx=%.0fms (max %.1fms, %ld over 2ms) session_new=%.2fms (max %.0fms)",
	    b.tick_max, b.sip_max, b.loop_max, b.loop_max_cpu, b.loop_max_n, b.media_ms, b.media_max, b.media_slow,
	    b.nnew ? b.new_ms / (double) b.nnew : 0.0, b.new_max);
	if (b.kind == UMFAX_FAXSESS_UDPTL)
		printf(" udptl_sent=%ld dropped=%ld", sent, dropped);
	printf("\n");
	if (ok < b.n) {
		printf("t38live_bench: failures:");
		for (int f = 1; f < F_NFAIL; f++)
			if (nf[f])
				printf(" %s=%d", fail_name[f], nf[f]);
		if (first_bad >= 0) {
			struct call *k = &b.calls[first_bad];
			printf("; first: call %d %s code=%d pages=%d t30=\"%s\"", k->idx, fail_name[k->fail], k->code,
			    k->pages, k->t30);
		}
		printf("\n");
	}
	if (bye_lost)
		printf("t38live_bench: %d BYEs unanswered (the jobs are still checked)\n", bye_lost);
	fflush(stdout);
	close(tfd);
	close(b.sipfd);
	close(b.ep);
	free(b.calls);
	return ok == b.n ? 0 : 1;
}
