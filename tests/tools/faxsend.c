/* faxsend - a test fax sender: places one call to a SIP fax server over
 * loopback and sends a TIFF with spandsp in calling mode.
 *
 *   faxsend [-t udptl|tcp|ulaw|alaw] [-s ADDR:PORT] [--loss PCT] [--reorder PCT]
 *           [--to USER] [--referred-by VALUE] [--t38-version N] [--no-ecm]
 *           [--fec] [--modem 14400|9600|4800] [--session-expires S]
 *           [--expect-code N] [--timeout S] [--seed N] [-v] FILE.tif
 *
 * Its own minimal SIP over UDP: INVITE (SDP offer of T.38 UDPTL, T.38
 * TCP/TPKT, or G.711 PCMU/PCMA), ACK, BYE (and 200 to the server's BYE).
 * Media through lib/faxsess: T.38 terminal or fax modem, calling side.
 * --loss and --reorder drop and swap the UDPTL datagrams the sender sends
 * (deterministic with --seed).  --fec offers t38UDPFEC and, when the answer
 * takes it, sends UDPTL with FEC (span 3, 3 entries) instead of redundancy.
 * --modem caps the image modem (a slow fax).  --session-expires asks for a
 * session timer (RFC 4028, refresher=uac) that faxsend never refreshes: the
 * server is expected to end the call with BYE.  Exit 0 when T.30 ended OK with every page
 * sent (or, with --expect-code, when the INVITE got that final code);
 * 1 when the fax failed; 2 usage or network errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "faxinfo.h"
#include "faxsess.h"
#include "sdp.h"
#include "sipcap.h"
#include "udptl.h"

static int verbose;

struct st {
	int kind;
	int sipfd, mfd, tfd;
	struct sockaddr_in srv, mpeer;
	int loss, reorder;
	unsigned seed;
	uint8_t held[1600];
	size_t held_len;
	long sent, dropped, swapped;
	int fec;                  /* sending with FEC */
	long rx_fec;              /* received UDPTL packets that carry FEC entries */
};

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static unsigned rnd(struct st *s)
{
	s->seed = s->seed * 1103515245u + 12345u;
	return (s->seed >> 16) & 0x7fff;
}

static void out(void *arg, const uint8_t *buf, size_t len)
{
	struct st *s = arg;
	if (s->kind == UMFAX_FAXSESS_TCP) {
		size_t off = 0;
		while (off < len) {
			ssize_t w = send(s->tfd, buf + off, len - off, MSG_NOSIGNAL);
			if (w <= 0)
				return;
			off += (size_t) w;
		}
		return;
	}
	if (s->kind == UMFAX_FAXSESS_UDPTL && s->loss && (int) (rnd(s) % 1000) < s->loss * 10) {
		s->dropped++;
		return;
	}
	if (s->kind == UMFAX_FAXSESS_UDPTL && s->reorder && !s->held_len && len <= sizeof s->held &&
	    (int) (rnd(s) % 1000) < s->reorder * 10) {
		memcpy(s->held, buf, len);      /* goes out after the next one */
		s->held_len = len;
		s->swapped++;
		return;
	}
	sendto(s->mfd, buf, len, 0, (struct sockaddr *) &s->mpeer, sizeof s->mpeer);
	s->sent++;
	if (s->held_len) {
		sendto(s->mfd, s->held, s->held_len, 0, (struct sockaddr *) &s->mpeer, sizeof s->mpeer);
		s->held_len = 0;
	}
}

static void flush_held(struct st *s)
{
	if (s->held_len) {
		sendto(s->mfd, s->held, s->held_len, 0, (struct sockaddr *) &s->mpeer, sizeof s->mpeer);
		s->held_len = 0;
	}
}

static void logline(void *arg, const char *line)
{
	(void) arg;
	if (verbose)
		fprintf(stderr, "faxsend: %s\n", line);
}

/* A header's value in a SIP message (first match, full or compact name). */
static int header(const char *msg, const char *name, const char *compact, char *dst, size_t n)
{
	return umfax_sip_header(msg, strlen(msg), name, compact, dst, n);
}

/* The calling side's fax session for the media M the far end answered (or
 * offered, on its re-INVITE): the lower T.38 version of ours and theirs,
 * their max datagram, FEC when asked for (FEC) and answered.  NULL, with a
 * message, when spandsp refuses. */
static struct umfax_faxsess *open_session(struct st *s, const char *tiff, int ecm, int modem, int t38v,
    const struct umfax_sdp_media *m, int fec)
{
	struct umfax_faxsess_conf fc = { 0 };
	struct umfax_faxsess *fs;
	char err[256];

	fc.kind = s->kind;
	fc.calling = 1;
	fc.tiff = tiff;
	fc.local_ident = "+1 425 555 0100";
	fc.ecm = ecm;
	fc.fastest = modem;
	fc.t38_version = m->t38_version >= 0 && m->t38_version < t38v ? m->t38_version : t38v;
	fc.max_datagram = m->t38_max_datagram;
	fc.rate_tcf = 2;
	fc.redundancy = 3;
	if (fec && s->kind == UMFAX_FAXSESS_UDPTL && m->t38_udp_ec == UMFAX_SDP_EC_FEC) {
		fc.fec_span = 3;
		fc.fec_entries = 3;
		s->fec = 1;
	}
	fc.hold = 4;
	fc.ssrc = (uint32_t) random();
	if ((fs = umfax_faxsess_new(&fc, out, s, err, sizeof err)) == NULL) {
		fprintf(stderr, "faxsend: %s\n", err);
		return NULL;
	}
	umfax_faxsess_set_log(fs, logline, NULL);
	return fs;
}

/* T.38 over TCP straight to ADDR:PORT, no SIP (a server run by inetd). */
static int direct_tcp(struct st *s, const char *addr, const char *tiff, int t38v, int ecm, int timeout)
{
	char host[64], err[256];
	int port;
	struct umfax_faxinfo info = { 0 };
	if (sscanf(addr, "%63[^:]:%d", host, &port) != 2)
		return 2;
	memset(&s->mpeer, 0, sizeof s->mpeer);
	s->mpeer.sin_family = AF_INET;
	s->mpeer.sin_port = htons((uint16_t) port);
	if (inet_pton(AF_INET, host, &s->mpeer.sin_addr) != 1)
		return 2;
	s->kind = UMFAX_FAXSESS_TCP;
	s->tfd = socket(AF_INET, SOCK_STREAM, 0);
	if (s->tfd < 0 || connect(s->tfd, (struct sockaddr *) &s->mpeer, sizeof s->mpeer) < 0) {
		perror("faxsend: connect");
		return 2;
	}
	struct umfax_faxsess_conf fc = { 0 };
	fc.kind = UMFAX_FAXSESS_TCP;
	fc.calling = 1;
	fc.tiff = tiff;
	fc.local_ident = "+1 425 555 0100";
	fc.ecm = ecm;
	fc.fastest = 14400;
	fc.t38_version = t38v;
	fc.rate_tcf = 2;
	struct umfax_faxsess *fs = umfax_faxsess_new(&fc, out, s, err, sizeof err);
	if (!fs) {
		fprintf(stderr, "faxsend: %s\n", err);
		return 2;
	}
	umfax_faxsess_set_log(fs, logline, NULL);
	long start = now_ms(), tick = start + 20, done_at = 0;
	for (;;) {
		struct pollfd pf = { s->tfd, POLLIN, 0 };
		long w = tick - now_ms();
		if (poll(&pf, 1, w < 0 ? 0 : (int) w) > 0) {
			uint8_t buf[4096];
			ssize_t r = recv(s->tfd, buf, sizeof buf, 0);
			if (r <= 0)
				break;
			umfax_faxsess_rx(fs, buf, (size_t) r);
		}
		if (now_ms() >= tick) {
			tick += 20;
			if (umfax_faxsess_tick(fs) && !done_at)
				done_at = now_ms();
		}
		if ((done_at && now_ms() - done_at > 500) || now_ms() - start > timeout * 1000L)
			break;
	}
	umfax_faxsess_finish(fs, &info);
	umfax_faxsess_free(fs);
	close(s->tfd);
	printf("faxsend: transport=t38-tcp direct pages=%d result=\"%s\"\n", info.pages, info.t30_result);
	return info.status == UMFAX_FAX_COMPLETE && info.pages > 0 ? 0 : 1;
}

static void usage(void)
{
	fputs("usage: faxsend [-t udptl|tcp|ulaw|alaw] [-s ADDR:PORT] [--loss PCT] [--reorder PCT]\n"
	    "               [--to USER] [--referred-by VALUE] [--t38-version N] [--no-ecm]\n"
	    "               [--fec] [--modem 14400|9600|4800] [--session-expires S]\n"
	    "               [--expect-code N] [--timeout S] [--seed N] [-v] FILE.tif\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "transport", required_argument, NULL, 't' },
		{ "server", required_argument, NULL, 's' },
		{ "loss", required_argument, NULL, 'L' },
		{ "reorder", required_argument, NULL, 'R' },
		{ "to", required_argument, NULL, 'T' },
		{ "referred-by", required_argument, NULL, 'B' },
		{ "t38-version", required_argument, NULL, 'N' },
		{ "no-ecm", no_argument, NULL, 'E' },
		{ "expect-code", required_argument, NULL, 'X' },
		{ "timeout", required_argument, NULL, 'W' },
		{ "seed", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "direct", required_argument, NULL, 'D' },
		{ "reinvite", required_argument, NULL, 'I' },
		{ "accept-reinvite", no_argument, NULL, 'A' },
		{ "fec", no_argument, NULL, 'F' },
		{ "modem", required_argument, NULL, 'M' },
		{ "session-expires", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	struct st s;
	const char *server = "127.0.0.1:5060", *to = "fax", *rb = NULL, *direct = NULL;
	int c, t38v = 0, ecm = 1, expect = 0, timeout = 180, reinv_ms = 0, accept_reinv = 0;
	int fec = 0, modem = 14400, sexp = 0;
	char host[64];
	int port;

	memset(&s, 0, sizeof s);
	s.kind = UMFAX_FAXSESS_UDPTL;
	s.seed = 1;
	s.tfd = s.mfd = -1;
	while ((c = getopt_long(argc, argv, "t:s:v", lo, NULL)) != -1) {
		switch (c) {
		case 't':
			if (!strcmp(optarg, "udptl")) s.kind = UMFAX_FAXSESS_UDPTL;
			else if (!strcmp(optarg, "tcp")) s.kind = UMFAX_FAXSESS_TCP;
			else if (!strcmp(optarg, "ulaw")) s.kind = UMFAX_FAXSESS_ULAW;
			else if (!strcmp(optarg, "alaw")) s.kind = UMFAX_FAXSESS_ALAW;
			else usage();
			break;
		case 's': server = optarg; break;
		case 'L': s.loss = atoi(optarg); break;
		case 'R': s.reorder = atoi(optarg); break;
		case 'T': to = optarg; break;
		case 'B': rb = optarg; break;
		case 'N': t38v = atoi(optarg); break;
		case 'E': ecm = 0; break;
		case 'X': expect = atoi(optarg); break;
		case 'W': timeout = atoi(optarg); break;
		case 'S': s.seed = (unsigned) atoi(optarg); break;
		case 'v': verbose++; break;
		case 'D': direct = optarg; break;
		case 'I': reinv_ms = atoi(optarg); break;
		case 'A': accept_reinv = 1; break;
		case 'F': fec = 1; break;
		case 'M':
			modem = atoi(optarg);
			if (modem != 14400 && modem != 9600 && modem != 4800)
				usage();
			break;
		case 'P': sexp = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	const char *tiff = argv[optind];
	if (direct)
		return direct_tcp(&s, direct, tiff, t38v, ecm, timeout);
	if (sscanf(server, "%63[^:]:%d", host, &port) != 2)
		usage();
	memset(&s.srv, 0, sizeof s.srv);
	s.srv.sin_family = AF_INET;
	s.srv.sin_port = htons((uint16_t) port);
	if (inet_pton(AF_INET, host, &s.srv.sin_addr) != 1)
		usage();

	/* sockets: SIP and (UDP media) on loopback, ephemeral ports */
	struct sockaddr_in me = { .sin_family = AF_INET };
	socklen_t ml = sizeof me;
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s.sipfd = socket(AF_INET, SOCK_DGRAM, 0);
	s.mfd = socket(AF_INET, SOCK_DGRAM, 0);
	if (s.sipfd < 0 || s.mfd < 0 || bind(s.sipfd, (struct sockaddr *) &me, sizeof me) < 0 ||
	    bind(s.mfd, (struct sockaddr *) &me, sizeof me) < 0) {
		perror("faxsend: socket");
		return 2;
	}
	getsockname(s.sipfd, (struct sockaddr *) &me, &ml);
	int sip_port = ntohs(me.sin_port);
	ml = sizeof me;
	getsockname(s.mfd, (struct sockaddr *) &me, &ml);
	int mport = ntohs(me.sin_port);

	/* the INVITE */
	char sdp[1024], inv[4096], callid[64], tag[32], branch[48];
	srandom((unsigned) (getpid() ^ time(NULL)));
	snprintf(callid, sizeof callid, "fs%08lx%04x@127.0.0.1", (unsigned long) random(), (unsigned) getpid() & 0xffff);
	snprintf(tag, sizeof tag, "t%08lx", (unsigned long) random());
	snprintf(branch, sizeof branch, "z9hG4bKfs%08lx", (unsigned long) random());
	int sl;
	sl = snprintf(sdp, sizeof sdp, "v=0\r\no=faxsend 1 1 IN IP4 127.0.0.1\r\ns=faxsend\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n");
	if (s.kind == UMFAX_FAXSESS_UDPTL || s.kind == UMFAX_FAXSESS_TCP)
		sl += snprintf(sdp + sl, sizeof sdp - (size_t) sl,
		    "m=image %d %s t38\r\na=T38FaxVersion:%d\r\na=T38MaxBitRate:%d\r\n"
		    "a=T38FaxRateManagement:transferredTCF\r\na=T38FaxMaxBuffer:2000\r\na=T38FaxMaxDatagram:400\r\n%s",
		    s.kind == UMFAX_FAXSESS_TCP ? 9 : mport, s.kind == UMFAX_FAXSESS_TCP ? "TCP/TPKT/T38" : "udptl", t38v, modem,
		    s.kind == UMFAX_FAXSESS_TCP ? "a=setup:active\r\n"
		    : fec ? "a=T38FaxUdpEC:t38UDPFEC\r\n" : "a=T38FaxUdpEC:t38UDPRedundancy\r\n");
	else
		sl += snprintf(sdp + sl, sizeof sdp - (size_t) sl, "m=audio %d RTP/AVP %d\r\na=rtpmap:%d %s/8000\r\na=ptime:20\r\n",
		    mport, s.kind == UMFAX_FAXSESS_ALAW ? 8 : 0, s.kind == UMFAX_FAXSESS_ALAW ? 8 : 0,
		    s.kind == UMFAX_FAXSESS_ALAW ? "PCMA" : "PCMU");
	char rbh[1200] = "";
	if (rb)
		snprintf(rbh, sizeof rbh, "Referred-By: %s\r\n", rb);
	if (sexp > 0)
		snprintf(rbh + strlen(rbh), sizeof rbh - strlen(rbh), "Session-Expires: %d\r\nSupported: timer\r\n", sexp);
	int il = snprintf(inv, sizeof inv,
	    "INVITE sip:%s@%s:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport\r\nMax-Forwards: 70\r\n"
	    "From: \"Fax Sender\" <sip:+14255550100@127.0.0.1>;tag=%s\r\nTo: <sip:%s@%s:%d>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n"
	    "Contact: <sip:faxsend@127.0.0.1:%d>\r\n%sContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
	    to, host, port, sip_port, branch, tag, to, host, port, callid, sip_port, rbh, sl, sdp);
	sendto(s.sipfd, inv, (size_t) il, 0, (struct sockaddr *) &s.srv, sizeof s.srv);

	/* wait for the final response */
	char resp[8192], to_hdr[1024] = "", contact[512] = "";
	long t0 = now_ms(), next = t0 + 500, iv = 500;
	int code = 0, provisional = 0;
	while (!code) {
		struct pollfd pf = { s.sipfd, POLLIN, 0 };
		long wait = next - now_ms();
		if (now_ms() - t0 > 32000) {
			fprintf(stderr, "faxsend: no answer to the INVITE\n");
			return 2;
		}
		if (poll(&pf, 1, wait < 0 ? 0 : (int) wait) > 0) {
			ssize_t r = recv(s.sipfd, resp, sizeof resp - 1, 0);
			if (r <= 12)
				continue;
			resp[r] = 0;
			int k = atoi(resp + 8);
			if (k < 200) {
				provisional = 1;
				continue;
			}
			code = k;
		} else if (!provisional) {
			sendto(s.sipfd, inv, (size_t) il, 0, (struct sockaddr *) &s.srv, sizeof s.srv);
			iv = iv * 2 > 4000 ? 4000 : iv * 2;
			next = now_ms() + iv;
		} else {
			next = now_ms() + 500;
		}
	}
	header(resp, "To", "t", to_hdr, sizeof to_hdr);
	{
		char se[128];
		if (header(resp, "Session-Expires", "x", se, sizeof se) == 0)
			printf("faxsend: session-expires=\"%s\"\n", se);
		if (header(resp, "Min-SE", NULL, se, sizeof se) == 0)
			printf("faxsend: min-se=\"%s\"\n", se);
		fflush(stdout);
	}
	if (header(resp, "Contact", "m", contact, sizeof contact) == 0) {
		char *a = strchr(contact, '<'), *b = a ? strchr(a, '>') : NULL;
		if (a && b) {
			memmove(contact, a + 1, (size_t) (b - a - 1));
			contact[b - a - 1] = 0;
		}
	} else {
		snprintf(contact, sizeof contact, "sip:%s:%d", host, port);
	}
	char ack[8192];
	int al = snprintf(ack, sizeof ack,
	    "ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=%sa;rport\r\nMax-Forwards: 70\r\n"
	    "From: \"Fax Sender\" <sip:+14255550100@127.0.0.1>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
	    code < 300 ? contact : inv + 7, sip_port, branch, tag, to_hdr, callid);
	if (code >= 300) {
		/* ACK for a failure goes to the same URI with the INVITE's branch */
		char ruri[256];
		snprintf(ruri, sizeof ruri, "sip:%s@%s:%d", to, host, port);
		al = snprintf(ack, sizeof ack,
		    "ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport\r\nMax-Forwards: 70\r\n"
		    "From: \"Fax Sender\" <sip:+14255550100@127.0.0.1>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
		    ruri, sip_port, branch, tag, to_hdr, callid);
		sendto(s.sipfd, ack, (size_t) al, 0, (struct sockaddr *) &s.srv, sizeof s.srv);
		printf("faxsend: invite=%d\n", code);
		return expect ? (code == expect ? 0 : 1) : 1;
	}
	sendto(s.sipfd, ack, (size_t) al, 0, (struct sockaddr *) &s.srv, sizeof s.srv);
	if (expect) {
		printf("faxsend: invite=%d\n", code);
		/* hang up at once */
	}
	/* the answer's media */
	char *body = strstr(resp, "\r\n\r\n");
	struct umfax_sdp ans;
	const struct umfax_sdp_media *m = NULL;
	if (body && umfax_sdp_parse(body + 4, strlen(body + 4), &ans) == 0)
		m = umfax_sdp_find(&ans, s.kind == UMFAX_FAXSESS_UDPTL ? UMFAX_SDP_T38_UDPTL
		    : s.kind == UMFAX_FAXSESS_TCP ? UMFAX_SDP_T38_TCP : UMFAX_SDP_AUDIO);
	int ok = 0;
	struct umfax_faxsess *fs = NULL;
	if (!m) {
		fprintf(stderr, "faxsend: the answer has no usable media\n");
	} else if (!expect) {
		memset(&s.mpeer, 0, sizeof s.mpeer);
		s.mpeer.sin_family = AF_INET;
		s.mpeer.sin_port = htons((uint16_t) m->port);
		inet_pton(AF_INET, m->addr[0] ? m->addr : ans.addr, &s.mpeer.sin_addr);
		if (s.kind == UMFAX_FAXSESS_TCP) {
			s.tfd = socket(AF_INET, SOCK_STREAM, 0);
			int one = 1;
			setsockopt(s.tfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			if (connect(s.tfd, (struct sockaddr *) &s.mpeer, sizeof s.mpeer) < 0) {
				perror("faxsend: connect");
				return 2;
			}
		}
		if ((fs = open_session(&s, tiff, ecm, modem, t38v, m, fec)) == NULL)
			return 2;
	}
	/* the call */
	long start = now_ms(), tick = start + 20, done_at = 0;
	int server_bye = 0, reinv_state = 0;    /* 1 sent, 2 done */
	char reinv[4096];
	int rl = 0;
	long reinv_at = 0;
	if (reinv_ms > 0 && (s.kind == UMFAX_FAXSESS_ULAW || s.kind == UMFAX_FAXSESS_ALAW)) {
		char sdp2[1024];
		int l2 = snprintf(sdp2, sizeof sdp2, "v=0\r\no=faxsend 1 2 IN IP4 127.0.0.1\r\ns=faxsend\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		    "m=image %d udptl t38\r\na=T38FaxVersion:%d\r\na=T38MaxBitRate:14400\r\na=T38FaxRateManagement:transferredTCF\r\n"
		    "a=T38FaxMaxDatagram:400\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n", mport, t38v);
		rl = snprintf(reinv, sizeof reinv,
		    "INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=%sr;rport\r\nMax-Forwards: 70\r\n"
		    "From: \"Fax Sender\" <sip:+14255550100@127.0.0.1>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 2 INVITE\r\n"
		    "Contact: <sip:faxsend@127.0.0.1:%d>\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		    contact, sip_port, branch, tag, to_hdr, callid, sip_port, l2, sdp2);
		reinv_at = start + reinv_ms;
	}
	while (fs && !server_bye) {
		struct pollfd pf[3] = { { s.sipfd, POLLIN, 0 }, { s.kind == UMFAX_FAXSESS_TCP ? s.tfd : s.mfd, POLLIN, 0 } };
		long w = tick - now_ms();
		int n = poll(pf, 2, w < 0 ? 0 : (int) w);
		if (n > 0 && (pf[1].revents & (POLLIN | POLLHUP))) {
			uint8_t buf[4096];
			ssize_t r = recv(pf[1].fd, buf, sizeof buf, 0);
			struct umfax_udptl_pkt up;
			if (r > 0 && s.kind == UMFAX_FAXSESS_UDPTL && umfax_udptl_parse(buf, (size_t) r, &up) == 0 &&
			    up.fec && up.fec_n > 0)
				s.rx_fec++;
			if (r > 0)
				umfax_faxsess_rx(fs, buf, (size_t) r);
			else if (s.kind == UMFAX_FAXSESS_TCP && r == 0)
				break;
		}
		if (n > 0 && (pf[0].revents & POLLIN)) {
			char req[8192];
			struct sockaddr_in from;
			socklen_t fl = sizeof from;
			ssize_t r = recvfrom(s.sipfd, req, sizeof req - 1, 0, (struct sockaddr *) &from, &fl);
			if (r > 0) {
				req[r] = 0;
				if (strncmp(req, "BYE ", 4) == 0) {
					char via[512] = "", fr[512] = "", t[512] = "", cs[64] = "", ok200[4096];
					header(req, "Via", "v", via, sizeof via);
					header(req, "From", "f", fr, sizeof fr);
					header(req, "To", "t", t, sizeof t);
					header(req, "CSeq", NULL, cs, sizeof cs);
					int k = snprintf(ok200, sizeof ok200, "SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n",
					    via, fr, t, callid, cs);
					sendto(s.sipfd, ok200, (size_t) k, 0, (struct sockaddr *) &from, fl);
					server_bye = 1;
				} else if (strncmp(req, "INVITE ", 7) == 0) {
					/* the server's re-INVITE: T.38 (--accept-reinvite) or 488 */
					char via[512] = "", fr[512] = "", t[512] = "", cs[64] = "", rsp[8192], sdp3[1024] = "";
					struct umfax_sdp off;
					const struct umfax_sdp_media *mm = NULL;
					char *b3 = strstr(req, "\r\n\r\n");
					header(req, "Via", "v", via, sizeof via);
					header(req, "From", "f", fr, sizeof fr);
					header(req, "To", "t", t, sizeof t);
					header(req, "CSeq", NULL, cs, sizeof cs);
					if (b3 && umfax_sdp_parse(b3 + 4, strlen(b3 + 4), &off) == 0)
						mm = umfax_sdp_find(&off, UMFAX_SDP_T38_UDPTL);
					int ok3 = accept_reinv && mm && s.kind != UMFAX_FAXSESS_UDPTL;
					int l3 = 0;
					if (ok3)
						l3 = snprintf(sdp3, sizeof sdp3, "v=0\r\no=faxsend 1 3 IN IP4 127.0.0.1\r\ns=faxsend\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
						    "m=image %d udptl t38\r\na=T38FaxVersion:%d\r\na=T38MaxBitRate:14400\r\n"
						    "a=T38FaxRateManagement:transferredTCF\r\na=T38FaxMaxDatagram:400\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n",
						    mport, mm->t38_version >= 0 && mm->t38_version < t38v ? mm->t38_version : t38v);
					int k = snprintf(rsp, sizeof rsp, "SIP/2.0 %s\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
					    "Contact: <sip:faxsend@127.0.0.1:%d>\r\n%sContent-Length: %d\r\n\r\n%s",
					    ok3 ? "200 OK" : "488 Not Acceptable Here", via, fr, t, callid, cs, sip_port,
					    ok3 ? "Content-Type: application/sdp\r\n" : "", l3, sdp3);
					sendto(s.sipfd, rsp, (size_t) k, 0, (struct sockaddr *) &from, fl);
					if (ok3) {
						s.mpeer.sin_port = htons((uint16_t) mm->port);
						umfax_faxsess_free(fs);
						s.kind = UMFAX_FAXSESS_UDPTL;
						if ((fs = open_session(&s, tiff, ecm, modem, t38v, mm, 0)) == NULL)
							return 2;
						printf("faxsend: accepted the server's re-INVITE to T.38\n");
					} else {
						printf("faxsend: refused a re-INVITE (488)\n");
					}
				} else if (strncmp(req, "SIP/2.0 2", 9) == 0 && strstr(req, "CSeq: 2 INVITE")) {
					/* the answer to our re-INVITE: ACK it, move to T.38 */
					char ack2[8192];
					int a2 = snprintf(ack2, sizeof ack2,
					    "ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=%sra;rport\r\nMax-Forwards: 70\r\n"
					    "From: \"Fax Sender\" <sip:+14255550100@127.0.0.1>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 2 ACK\r\nContent-Length: 0\r\n\r\n",
					    contact, sip_port, branch, tag, to_hdr, callid);
					sendto(s.sipfd, ack2, (size_t) a2, 0, (struct sockaddr *) &s.srv, sizeof s.srv);
					if (reinv_state == 1) {
						char *b2 = strstr(req, "\r\n\r\n");
						struct umfax_sdp a;
						const struct umfax_sdp_media *mm = NULL;
						if (b2 && umfax_sdp_parse(b2 + 4, strlen(b2 + 4), &a) == 0)
							mm = umfax_sdp_find(&a, UMFAX_SDP_T38_UDPTL);
						reinv_state = 2;
						if (!mm) {
							fprintf(stderr, "faxsend: re-INVITE answer without T.38\n");
							break;
						}
						s.mpeer.sin_port = htons((uint16_t) mm->port);
						umfax_faxsess_free(fs);
						s.kind = UMFAX_FAXSESS_UDPTL;
						if ((fs = open_session(&s, tiff, ecm, modem, t38v, mm, 0)) == NULL)
							return 2;
						printf("faxsend: re-INVITE to T.38 accepted\n");
					}
				} else if (strncmp(req, "SIP/2.0 2", 9) == 0 && strstr(req, "INVITE")) {
					sendto(s.sipfd, ack, (size_t) al, 0, (struct sockaddr *) &s.srv, sizeof s.srv);
				}
			}
		}
		if (reinv_at && reinv_state == 0 && now_ms() >= reinv_at) {
			sendto(s.sipfd, reinv, (size_t) rl, 0, (struct sockaddr *) &s.srv, sizeof s.srv);
			reinv_state = 1;
		}
		if (now_ms() >= tick) {
			tick += 20;
			flush_held(&s);
			if (umfax_faxsess_tick(fs) && !done_at)
				done_at = now_ms();
		}
		if (done_at && now_ms() - done_at > 500)
			break;
		if (now_ms() - start > timeout * 1000L) {
			fprintf(stderr, "faxsend: timeout\n");
			break;
		}
	}
	struct umfax_faxinfo info = { 0 };
	if (fs) {
		umfax_faxsess_finish(fs, &info);
		umfax_faxsess_free(fs);
		ok = info.status == UMFAX_FAX_COMPLETE && info.pages > 0;
		printf("faxsend: transport=%s ec=%s pages=%d result=\"%s\" sent=%ld dropped=%ld swapped=%ld modem=\"%s %d\" ecm=%s csi=\"%s\""
		    " rx_fec=%ld bye=%s secs=%ld\n",
		    umfax_faxsess_kind_name(s.kind), s.kind != UMFAX_FAXSESS_UDPTL ? "none" : s.fec ? "fec" : "redundancy",
		    info.pages, info.t30_result, s.sent, s.dropped, s.swapped,
		    info.modem, info.bit_rate, info.ecm ? "yes" : "no", info.remote_ident,
		    s.rx_fec, server_bye ? "server" : "caller", (now_ms() - start) / 1000);
	}
	if (s.tfd >= 0)
		close(s.tfd);
	if (!server_bye) {
		char bye[8192];
		int bl = snprintf(bye, sizeof bye,
		    "BYE %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=%sb;rport\r\nMax-Forwards: 70\r\n"
		    "From: \"Fax Sender\" <sip:+14255550100@127.0.0.1>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
		    contact, sip_port, branch, tag, to_hdr, callid);
		long b0 = now_ms();
		int got = 0;
		while (!got && now_ms() - b0 < 8000) {
			sendto(s.sipfd, bye, (size_t) bl, 0, (struct sockaddr *) &s.srv, sizeof s.srv);
			struct pollfd pf = { s.sipfd, POLLIN, 0 };
			long until = now_ms() + 500;
			while (!got && now_ms() < until && poll(&pf, 1, (int) (until - now_ms())) > 0) {
				char r2[4096];
				ssize_t r = recv(s.sipfd, r2, sizeof r2 - 1, 0);
				if (r > 0) {
					r2[r] = 0;
					if (strncmp(r2, "SIP/2.0 ", 8) == 0 && strstr(r2, "BYE"))
						got = atoi(r2 + 8);
				}
			}
		}
		if (verbose)
			fprintf(stderr, "faxsend: bye answered %d\n", got);
	}
	if (expect)
		return code == expect ? 0 : 1;
	return ok ? 0 : 1;
}
