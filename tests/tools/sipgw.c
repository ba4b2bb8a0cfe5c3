/* sipgw - a scripted VoIP gateway for the refer-mode tests (loopback UDP).
 *
 *   sipgw -s 127.0.0.1:PORT -e EXT [-n] [-c CODE] [-t SECONDS]
 *
 * Sends a diverted call (INVITE with Diversion: EXT and G.711 SDP), ACKs the
 * 200, then re-INVITEs with T.38 SDP (unless -n) and ACKs that 200.  Then it
 * waits: a REFER is answered 202 and followed by a NOTIFY whose sipfrag says
 * CODE (default 200); a BYE is answered 200 and ends the script.  Every
 * message received is printed, followed by a line "----"; the steps are
 * printed as lines "sipgw: ...".  Exit: 0 the script ran to a BYE, 1
 * timeout, 2 the call was not answered with 200, 64 usage, 71 OS error. */
#include <arpa/inet.h>
#include <errno.h>
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

static int fd;
static struct sockaddr_in srv;
static char me[64], totag[128], callid[64];
static const char *ext;
static long deadline;
static int branchno;

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
	if (sendto(fd, b, strlen(b), 0, (struct sockaddr *)&srv, sizeof srv) < 0)
		fprintf(stderr, "sipgw: send: %s\n", strerror(errno));
}

/* Receive one message into B; 0 or -1 on timeout. */
static int
xrecv(char *b, size_t n)
{
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		long left = deadline - now_s();
		ssize_t r;
		if (left <= 0 || poll(&p, 1, (int)left * 1000) <= 0)
			return -1;
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
	    "Via: SIP/2.0/UDP %s;branch=z9hG4bKgw%d\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: \"Front Desk\" <sip:+14255550100@127.0.0.1>;tag=gw1\r\n"
	    "To: <sip:um@127.0.0.1>%s%s\r\n"
	    "Call-ID: %s\r\n"
	    "CSeq: %d %s\r\n"
	    "Contact: <sip:gw@%s>\r\n"
	    "%s%s%s%s"
	    "Content-Length: %zu\r\n\r\n%s",
	    method, inet_ntoa(srv.sin_addr), ntohs(srv.sin_port), me, branchno, totag[0] ? ";tag=" : "",
	    totag, callid, cseq, method, me, extra ? extra : "", ctype ? "Content-Type: " : "",
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
	request("ACK", cseq, NULL, NULL, NULL);
	printf("sipgw: INVITE %d answered 200 (%s), ACK sent\n", cseq,
	    strstr(b, "m=image ") ? "T.38" : "audio");
}

int
main(int argc, char **argv)
{
	const char *target = NULL;
	int c, nofax = 0, ncode = 200;
	long timeout = 20;
	struct sockaddr_in la;
	socklen_t ll = sizeof la;
	char b[65536], inv[512];

	while ((c = getopt(argc, argv, "s:e:nc:t:")) != -1) {
		switch (c) {
		case 's': target = optarg; break;
		case 'e': ext = optarg; break;
		case 'n': nofax = 1; break;
		case 'c': ncode = atoi(optarg); break;
		case 't': timeout = strtol(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
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
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&la, 0, sizeof la);
	la.sin_family = AF_INET;
	la.sin_addr.s_addr = htonl(0x7f000001);
	if (fd < 0 || bind(fd, (struct sockaddr *)&la, sizeof la) != 0 ||
	    getsockname(fd, (struct sockaddr *)&la, &ll) != 0)
		return EX_OSERR;
	snprintf(me, sizeof me, "127.0.0.1:%u", ntohs(la.sin_port));
	snprintf(callid, sizeof callid, "gw-%d-%s@127.0.0.1", (int)getpid(), ext);
	setvbuf(stdout, NULL, _IOLBF, 0);
	deadline = now_s() + timeout;

	snprintf(inv, sizeof inv, "v=0\r\no=gw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	    "m=audio 30000 RTP/AVP 0 8\r\n");
	invite(1, inv);
	if (!nofax) {
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
			printf("sipgw: BYE answered 200\n");
			return 0;
		} else if (strncmp(b, "SIP/2.0 ", 8) == 0) {
			continue;       /* the 200 to our NOTIFY, or a 200 retransmission */
		} else {
			respond(b, 200, "OK");
		}
	}
usage:
	fprintf(stderr, "usage: sipgw -s 127.0.0.1:PORT -e EXT [-n] [-c CODE] [-t SECONDS]\n");
	return EX_USAGE;
}
