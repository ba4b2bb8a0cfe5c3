/* sipgw - a scripted VoIP gateway for the refer-mode tests (loopback UDP).
 *
 *   sipgw -s 127.0.0.1:PORT -e EXT [-T] [-n | -g | -r cng|event|speech [-p PCAP] [-x N]]
 *         [-c CODE] [-t SECONDS]
 *
 * Sends a diverted call (INVITE with Diversion: EXT and G.711 SDP offering
 * telephone-event as PT 96), ACKs the 200, then re-INVITEs with T.38 SDP
 * (default), with a G.711 fax profile (-g: audio with a=silenceSupp:off and
 * a=X-fax), or not at all (-n, -r), and ACKs that 200.  With -r it sends RTP
 * every 20 ms to the address of the 200's SDP from the port its own SDP
 * offered, until the BYE: "cng" G.711 u-law audio with the CNG cadence (1100
 * Hz at about -10 dBm0, 0.5 s on, 3 s off), "event" RFC 4733 telephone-event
 * 36 packets (on the PT of the 200's a=rtpmap, 0.5 s on, 3 s off, u-law
 * silence between), "speech" speech-like audio (a voiced pitch with
 * harmonics in syllables), or with -p the first 10 s of the G.711 payload of
 * the first RTP stream of PCAP (looped); -x N sends N times faster than
 * real time (the detector does not look at the clock).  -T: SIP over one
 * TCP connection instead of UDP (RTP stays UDP).  Then it waits: a REFER is answered 202 and followed by a NOTIFY whose sipfrag says
 * CODE (default 200); a BYE is answered 200 and ends the script.  Every
 * message received is printed, followed by a line "----"; the steps are
 * printed as lines "sipgw: ...", the RTP sent as "sipgw: RTP MODE N packets".  Exit: 0 the script ran to a BYE, 1
 * timeout, 2 the call was not answered with 200, 64 usage, 71 OS error. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "pcapsrc.h"
#include "rtp.h"
#include "sipsrv.h"
#include <spandsp.h>

static int fd;
static struct sockaddr_in srv;
static char me[64], totag[128], callid[64];
static const char *ext;
static long deadline;
static int branchno;
static int tcp;                       /* -T: one TCP connection */
static char tbuf[131072];
static size_t tlen;
/* RTP */
static int rfd = -1, rmode;           /* 0 none, 'c' cng, 'e' event, 's' speech */
static struct sockaddr_in rdst;
static int rte_pt = 101;
static uint16_t rseq;
static uint32_t rts;
static unsigned long rsent;
static int rspeed = 1;                /* -x: send N times faster than real time */
static uint8_t *pcm;                  /* -p: u-law payload */
static size_t npcm;

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void
xsend(const char *b)
{
	if (tcp) {
		if (send(fd, b, strlen(b), MSG_NOSIGNAL) != (ssize_t)strlen(b))
			fprintf(stderr, "sipgw: send: %s\n", strerror(errno));
		return;
	}
	if (sendto(fd, b, strlen(b), 0, (struct sockaddr *)&srv, sizeof srv) < 0)
		fprintf(stderr, "sipgw: send: %s\n", strerror(errno));
}

#define AMP 7000.0                      /* about -10 dBm0 */

static double
speech(double t)
{
	double f0 = 120 + 60 * sin(2 * M_PI * 0.7 * t), v = 0;
	int h;
	if (fmod(t, 0.25) > 0.2)
		return 0;
	for (h = 1; h <= 20; h++)
		v += sin(2 * M_PI * f0 * h * t + h) / (1 + fabs(h * f0 - 700) / 150 + fabs(h * f0 - 1200) / 300);
	return 2500 * v;
}

/* One 20 ms RTP packet of the mode. */
static void
rtp_send(void)
{
	uint8_t b[12 + 160];
	size_t len = sizeof b;
	int pt = 0, marker = 0, k;
	double t0 = (double)rts / 8000, c = fmod(t0, 3.5);

	if (rmode == 'e' && c < 0.56) {
		/* an event of 0.5 s, sent every 20 ms; the last 3 with E set */
		uint32_t start = rts - (uint32_t)lrint(c * 8000);
		unsigned dur = (unsigned)lrint(c * 8000) + 160;
		int end = c >= 0.5;
		if (dur > 4000)
			dur = 4000;
		pt = rte_pt;
		marker = c < 0.01;
		b[12] = 36;
		b[13] = (uint8_t)((end ? 0x80 : 0) | 10);
		b[14] = (uint8_t)(dur >> 8);
		b[15] = (uint8_t)dur;
		len = 16;
		b[4] = (uint8_t)(start >> 24); b[5] = (uint8_t)(start >> 16);
		b[6] = (uint8_t)(start >> 8); b[7] = (uint8_t)start;
	} else {
		for (k = 0; k < 160; k++) {
			double t = (double)(rts + (uint32_t)k) / 8000, v = 0;
			if (rmode == 'c')
				v = fmod(t, 3.5) < 0.5 ? AMP * sin(2 * M_PI * 1100 * t) : 0;
			else if (rmode == 's' && pcm)
				v = ulaw_to_linear(pcm[((size_t)rts + (size_t)k) % npcm]);
			else if (rmode == 's')
				v = speech(t);
			b[12 + k] = linear_to_ulaw((int)lrint(v));
		}
		b[4] = (uint8_t)(rts >> 24); b[5] = (uint8_t)(rts >> 16);
		b[6] = (uint8_t)(rts >> 8); b[7] = (uint8_t)rts;
	}
	b[0] = 0x80;
	b[1] = (uint8_t)(pt | (marker ? 0x80 : 0));
	b[2] = (uint8_t)(rseq >> 8);
	b[3] = (uint8_t)rseq;
	b[8] = 0x5a; b[9] = 0x5a; b[10] = 0x00; b[11] = 0x01;
	rseq++;
	rts += 160;
	if (sendto(rfd, b, len, 0, (struct sockaddr *)&rdst, sizeof rdst) == (ssize_t)len)
		rsent++;
}

/* Send the RTP packets that are due; LEFT (ms) is lowered to the time
 * until the next.  Returns 0. */
static long rtp_start;

static int
rtp_due(long *left)
{
	long now, due;

	if (!rmode || !rtp_start)
		return 0;
	now = now_ms();
	while ((due = rtp_start + (long)(rts / 8) / rspeed) <= now)
		rtp_send();
	if (due - now < *left)
		*left = due - now;
	return 0;
}

/* The u-law payload of the first 10 s of the first G.711 RTP stream in a
 * capture (A-law converted). */
static int
load_pcap(const char *path)
{
	char err[256];
	struct umfax_pcapsrc *ps = umfax_pcapsrc_open(path, err, sizeof err);
	struct umfax_pkt pk;
	struct umfax_rtp_hdr h;
	uint32_t ssrc = 0;
	int have = 0;

	if (!ps) {
		fprintf(stderr, "sipgw: %s\n", err);
		return -1;
	}
	pcm = malloc(80000);
	while (pcm && npcm < 80000 && umfax_pcapsrc_next(ps, &pk, err, sizeof err) == 1) {
		size_t i;
		if (pk.proto != UMFAX_PKT_UDP || umfax_rtp_parse(pk.data, pk.len, &h) != 0 ||
		    (h.pt != 0 && h.pt != 8) || h.payload_len < 80 || (have && h.ssrc != ssrc))
			continue;
		ssrc = h.ssrc;
		have = 1;
		for (i = 0; i < h.payload_len && npcm < 80000; i++)
			pcm[npcm++] = h.pt == 0 ? h.payload[i] : linear_to_ulaw(alaw_to_linear(h.payload[i]));
	}
	umfax_pcapsrc_close(ps);
	if (npcm < 8000) {
		fprintf(stderr, "sipgw: %s: less than 1 s of G.711 RTP\n", path);
		return -1;
	}
	printf("sipgw: %zu samples of G.711 from %s (SSRC %08x)\n", npcm, path, (unsigned)ssrc);
	return 0;
}

/* The RTP destination and telephone-event PT of an SDP answer. */
static void
sdp_dest(const char *msg)
{
	const char *c = strstr(msg, "\r\nc=IN IP4 "), *m = strstr(msg, "\r\nm=audio "), *te;
	char host[64];
	size_t n = 0;

	memset(&rdst, 0, sizeof rdst);
	rdst.sin_family = AF_INET;
	if (c) {
		c += strlen("\r\nc=IN IP4 ");
		while (n + 1 < sizeof host && c[n] && c[n] != '\r')
			host[n] = c[n], n++;
		host[n] = '\0';
		inet_pton(AF_INET, host, &rdst.sin_addr);
	}
	if (m)
		rdst.sin_port = htons((unsigned short)atoi(m + 10));
	te = strstr(msg, " telephone-event/8000");
	if (te) {
		while (te > msg && te[-1] >= '0' && te[-1] <= '9')
			te--;
		rte_pt = atoi(te);
	}
}

/* Receive one message into B; 0 or -1 on timeout. */
static int
xrecv(char *b, size_t n)
{
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		long left = (deadline - now_s()) * 1000;
		ssize_t r;
		int pr;
		if (tcp) {
			long fl = umfax_sipsrv_frame_len(tbuf, tlen);
			if (fl < 0) {
				printf("sipgw: bad TCP framing\n");
				return -1;
			}
			if (fl > 0 && (size_t)fl < n) {
				memcpy(b, tbuf, (size_t)fl);
				b[fl] = '\0';
				memmove(tbuf, tbuf + fl, tlen - (size_t)fl);
				tlen -= (size_t)fl;
				printf("%s----\n", b);
				return 0;
			}
		}
		if (rtp_due(&left) != 0)
			continue;
		if (left <= 0)
			return -1;
		pr = poll(&p, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0 || (pr == 0 && deadline <= now_s()))
			return -1;
		if (pr == 0)
			continue;
		if (tcp) {
			r = recv(fd, tbuf + tlen, sizeof tbuf - 1 - tlen, 0);
			if (r <= 0) {
				printf("sipgw: TCP connection closed\n");
				return -1;
			}
			tlen += (size_t)r;
			continue;
		}
		r = recv(fd, b, n - 1, 0);
		if (r <= 0)
			continue;
		b[r] = '\0';
		printf("%s----\n", b);
		return 0;
	}
}

static void
header(const char *msg, const char *name, char *dst, size_t n)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof pat, "\r\n%s: ", name);
	dst[0] = '\0';
	p = strstr(msg, pat);
	if (!p)
		return;
	p += strlen(pat);
	e = strstr(p, "\r\n");
	if (!e || (size_t)(e - p) >= n)
		return;
	memcpy(dst, p, (size_t)(e - p));
	dst[e - p] = '\0';
}

static void
respond(const char *req, int code, const char *reason)
{
	char out[8192], via[1024], from[1024], to[1024], cid[256], cseq[64];

	header(req, "Via", via, sizeof via);
	header(req, "From", from, sizeof from);
	header(req, "To", to, sizeof to);
	header(req, "Call-ID", cid, sizeof cid);
	header(req, "CSeq", cseq, sizeof cseq);
	snprintf(out, sizeof out, "SIP/2.0 %d %s\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\n"
	    "CSeq: %s\r\nContent-Length: 0\r\n\r\n", code, reason, via, from, to, cid, cseq);
	xsend(out);
}

static void
request(const char *method, int cseq, const char *extra, const char *ctype, const char *body)
{
	char out[8192];

	snprintf(out, sizeof out,
	    "%s sip:um@%s:%u SIP/2.0\r\n"
	    "Via: SIP/2.0/%s %s;branch=z9hG4bKgw%d\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: \"Front Desk\" <sip:+14255550100@127.0.0.1>;tag=gw1\r\n"
	    "To: <sip:um@127.0.0.1>%s%s\r\n"
	    "Call-ID: %s\r\n"
	    "CSeq: %d %s\r\n"
	    "Contact: <sip:gw@%s%s>\r\n"
	    "%s%s%s%s"
	    "Content-Length: %zu\r\n\r\n%s",
	    method, inet_ntoa(srv.sin_addr), ntohs(srv.sin_port), tcp ? "TCP" : "UDP", me, branchno,
	    totag[0] ? ";tag=" : "", totag, callid, cseq, method, me, tcp ? ";transport=tcp" : "", extra ? extra : "", ctype ? "Content-Type: " : "",
	    ctype ? ctype : "", ctype ? "\r\n" : "", body ? strlen(body) : 0, body ? body : "");
	xsend(out);
}

/* Send an INVITE (or re-INVITE) and ACK its 200.  0 or exit. */
static void
invite(int cseq, const char *body)
{
	char b[65536], div[160];
	int code;

	branchno++;
	snprintf(div, sizeof div, "Diversion: <sip:%s@127.0.0.1;user=phone>;reason=no-answer;counter=1\r\n", ext);
	request("INVITE", cseq, cseq == 1 ? div : NULL, "application/sdp", body);
	for (;;) {
		if (xrecv(b, sizeof b) != 0) {
			printf("sipgw: timeout waiting for the answer to INVITE %d\n", cseq);
			exit(1);
		}
		if (strncmp(b, "SIP/2.0 ", 8) != 0)
			continue;
		code = atoi(b + 8);
		if (code < 200)
			continue;
		break;
	}
	if (!totag[0]) {
		char to[1024];
		const char *t;
		header(b, "To", to, sizeof to);
		if ((t = strstr(to, ";tag=")))
			snprintf(totag, sizeof totag, "%s", t + 5);
	}
	if (code != 200) {
		printf("sipgw: INVITE %d answered %d\n", cseq, code);
		exit(2);
	}
	if (cseq == 1)
		sdp_dest(b);
	request("ACK", cseq, NULL, NULL, NULL);
	printf("sipgw: INVITE %d answered 200 (%s), ACK sent\n", cseq,
	    strstr(b, "m=image ") ? "T.38" : "audio");
}

int
main(int argc, char **argv)
{
	const char *target = NULL;
	int c, nofax = 0, ncode = 200, g711fax = 0;
	const char *pcap = NULL;
	unsigned short rport = 30000;
	long timeout = 20;
	struct sockaddr_in la;
	socklen_t ll = sizeof la;
	char b[65536], inv[512];

	while ((c = getopt(argc, argv, "s:e:nc:t:gr:p:x:T")) != -1) {
		switch (c) {
		case 'g': g711fax = 1; break;
		case 'x': rspeed = atoi(optarg); break;
		case 'T': tcp = 1; break;
		case 'p': pcap = optarg; break;
		case 'r':
			if (strcmp(optarg, "cng") == 0) rmode = 'c';
			else if (strcmp(optarg, "event") == 0) rmode = 'e';
			else if (strcmp(optarg, "speech") == 0) rmode = 's';
			else goto usage;
			break;
		case 's': target = optarg; break;
		case 'e': ext = optarg; break;
		case 'n': nofax = 1; break;
		case 'c': ncode = atoi(optarg); break;
		case 't': timeout = strtol(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (rspeed < 1 || rspeed > 20)
		goto usage;
	if (!target || !ext || strlen(ext) > 20 || !strchr(target, ':') || timeout < 1 || timeout > 300)
		goto usage;
	memset(&srv, 0, sizeof srv);
	srv.sin_family = AF_INET;
	{
		char host[64];
		const char *colon = strrchr(target, ':');
		if ((size_t)(colon - target) >= sizeof host)
			goto usage;
		memcpy(host, target, (size_t)(colon - target));
		host[colon - target] = '\0';
		if (inet_pton(AF_INET, host, &srv.sin_addr) != 1 || (ntohl(srv.sin_addr.s_addr) >> 24) != 127)
			goto usage;
		srv.sin_port = htons((unsigned short)atoi(colon + 1));
	}
	fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	memset(&la, 0, sizeof la);
	la.sin_family = AF_INET;
	la.sin_addr.s_addr = htonl(0x7f000001);
	if (fd < 0 || bind(fd, (struct sockaddr *)&la, sizeof la) != 0 ||
	    getsockname(fd, (struct sockaddr *)&la, &ll) != 0)
		return EX_OSERR;
	if (tcp && connect(fd, (struct sockaddr *)&srv, sizeof srv) != 0) {
		printf("sipgw: connect: %s\n", strerror(errno));
		return EX_OSERR;
	}
	snprintf(me, sizeof me, "127.0.0.1:%u", ntohs(la.sin_port));
	if (pcap && (rmode != 's' || load_pcap(pcap) != 0))
		goto usage;
	if (rmode) {
		ll = sizeof la;
		la.sin_port = 0;
		rfd = socket(AF_INET, SOCK_DGRAM, 0);
		if (rfd < 0 || bind(rfd, (struct sockaddr *)&la, sizeof la) != 0 ||
		    getsockname(rfd, (struct sockaddr *)&la, &ll) != 0)
			return EX_OSERR;
		rport = ntohs(la.sin_port);
		nofax = 1;
	}
	snprintf(callid, sizeof callid, "gw-%d-%s@127.0.0.1", (int)getpid(), ext);
	setvbuf(stdout, NULL, _IOLBF, 0);
	deadline = now_s() + timeout;

	snprintf(inv, sizeof inv, "v=0\r\no=gw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	    "m=audio %u RTP/AVP 0 8 96\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
	    "a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16,36\r\n", rport);
	invite(1, inv);
	if (rmode) {
		rtp_start = now_ms();
		printf("sipgw: RTP %s to %s:%u from port %u, telephone-event PT %d\n",
		    rmode == 'c' ? "cng" : rmode == 'e' ? "event" : pcap ? "pcap" : "speech",
		    inet_ntoa(rdst.sin_addr), ntohs(rdst.sin_port), rport, rte_pt);
	} else if (g711fax) {
		usleep(100000);
		snprintf(inv, sizeof inv, "v=0\r\no=gw 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		    "m=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=silenceSupp:off - - - -\r\n"
		    "a=X-fax\r\n", rport);
		invite(2, inv);
	} else if (!nofax) {
		usleep(100000);
		invite(2, "v=0\r\no=gw 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		    "m=image 30002 udptl t38\r\na=T38FaxVersion:0\r\na=T38FaxRateManagement:transferredTCF\r\n"
		    "a=T38FaxUdpEC:t38UDPRedundancy\r\n");
	}
	for (;;) {
		if (xrecv(b, sizeof b) != 0) {
			printf("sipgw: timeout\n");
			return 1;
		}
		if (strncmp(b, "REFER ", 6) == 0) {
			char frag[64];
			respond(b, 202, "Accepted");
			printf("sipgw: REFER answered 202, NOTIFY %d sent\n", ncode);
			snprintf(frag, sizeof frag, "SIP/2.0 %d Result\r\n", ncode);
			branchno++;
			request("NOTIFY", 3, "Event: refer\r\nSubscription-State: terminated;reason=noresource\r\n",
			    "message/sipfrag", frag);
		} else if (strncmp(b, "BYE ", 4) == 0) {
			respond(b, 200, "OK");
			if (rmode)
				printf("sipgw: RTP %lu packets\n", rsent);
			printf("sipgw: BYE answered 200\n");
			return 0;
		} else if (strncmp(b, "SIP/2.0 ", 8) == 0) {
			continue;       /* the 200 to our NOTIFY, or a 200 retransmission */
		} else {
			respond(b, 200, "OK");
		}
	}
usage:
	fprintf(stderr, "usage: sipgw -s 127.0.0.1:PORT -e EXT [-T] [-n | -g | -r cng|event|speech [-p PCAP] [-x N]]\n"
	    "             [-c CODE] [-t SECONDS]\n");
	return EX_USAGE;
}
