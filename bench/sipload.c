/* sipload - SIP INVITE -> 3xx -> ACK load generator (loopback only, bounded)
 *
 *   sipload -s 127.0.0.1:5070 [-n CALLS] [-w WINDOW] [-T SECONDS] [-u USER]
 *           [-e STATUS] [-m STRING] [-b BIND_ADDR] [-D DIVERSION_USER]
 *
 * Keeps WINDOW calls outstanding over one UDP socket until CALLS calls are
 * answered or SECONDS pass.  A call is ok when its first answer has STATUS
 * (default 302) and, with -m, contains STRING.  An INVITE unanswered for
 * 500 ms is retransmitted (counted), up to 6 times, then the call fails.
 * Prints one line: calls, ok, fail, retransmissions, calls/s, latency
 * percentiles (first INVITE sent to first answer received). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MSGMAX 4096

struct call {
	uint64_t first, last;     /* ns */
	uint32_t lat_us;
	uint8_t state;            /* 0 new, 1 sent, 2 ok, 3 failed */
	uint8_t tries;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static char lhost[64];
static unsigned lport;
static const char *user = "1234", *divuser = NULL;
static char thost[64];
static unsigned tport;
static unsigned pid;

static int
fmt_invite(char *b, long i)
{
	char div[160] = "";

	if (divuser)
		snprintf(div, sizeof div, "Diversion: <sip:%s@%s>;reason=no-answer;counter=1\r\n",
		    divuser, lhost);
	return snprintf(b, MSGMAX,
	    "INVITE sip:%s@%s:%u SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK%xL%ld\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: \"Load %ld\" <sip:+1425555%04ld@%s>;tag=f%ld\r\n"
	    "To: <sip:%s@%s>\r\n"
	    "Call-ID: L%x-%ld@sipload\r\n"
	    "CSeq: 1 INVITE\r\n"
	    "%s"
	    "Contact: <sip:load@%s:%u>\r\n"
	    "Content-Length: 0\r\n\r\n",
	    user, thost, tport, lhost, lport, pid, i, i, i % 10000, lhost, i,
	    user, thost, pid, i, div, lhost, lport);
}

/* The To header line of a response (with its tag), copied to DST. */
static int
to_line(const char *resp, char *dst, size_t n)
{
	const char *p = strstr(resp, "\r\nTo: ");
	const char *e;

	if (!p)
		p = strstr(resp, "\r\nt: ");
	if (!p)
		return -1;
	p += 2;
	e = strstr(p, "\r\n");
	if (!e || (size_t)(e - p) + 1 > n)
		return -1;
	memcpy(dst, p, (size_t)(e - p));
	dst[e - p] = '\0';
	return 0;
}

static int
fmt_ack(char *b, long i, const char *to)
{
	return snprintf(b, MSGMAX,
	    "ACK sip:%s@%s:%u SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK%xL%ld\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: \"Load %ld\" <sip:+1425555%04ld@%s>;tag=f%ld\r\n"
	    "%s\r\n"
	    "Call-ID: L%x-%ld@sipload\r\n"
	    "CSeq: 1 ACK\r\n"
	    "Content-Length: 0\r\n\r\n",
	    user, thost, tport, lhost, lport, pid, i, i, i % 10000, lhost, i,
	    to, pid, i);
}

static int
parse_hp(const char *s, char *host, size_t hn, unsigned *port)
{
	const char *c = strrchr(s, ':');
	struct in_addr a;

	if (!c || (size_t)(c - s) >= hn)
		return -1;
	memcpy(host, s, (size_t)(c - s));
	host[c - s] = '\0';
	*port = (unsigned)atoi(c + 1);
	if (inet_pton(AF_INET, host, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127 || *port == 0 || *port > 65535)
		return -1;
	return 0;
}

/* Send the first NS messages of SM (a failed send is lost: it shows up as a
 * retransmission). */
static void
send_batch(int fd, struct mmsghdr *sm, int ns)
{
	int off = 0;

	while (off < ns) {
		int w = sendmmsg(fd, sm + off, (unsigned)(ns - off), 0);
		if (w <= 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break;
		}
		off += w;
	}
}

int
main(int argc, char **argv)
{
	const char *target = NULL, *bindaddr = "127.0.0.1", *match = NULL;
	long ncalls = 10000, window = 200, maxsec = 20, expect = 302;
	struct sockaddr_in ta, la;
	socklen_t ll = sizeof la;
	struct call *calls;
	static char sbuf[BATCH][MSGMAX], rbuf[BATCH][MSGMAX + 1];
	struct mmsghdr sm[BATCH], rm[BATCH];
	struct iovec siov[BATCH], riov[BATCH];
	long next = 0, low = 0, inflight = 0, ok = 0, fail = 0, retrans = 0, dup = 0, unexpected = 0;
	uint64_t t0, tend, deadline, lastscan;
	int c, fd, i;
	uint32_t *lat;
	long nlat = 0;

	if (argc == 1) {
		/* make bench runs every bench/NAME.c without arguments: this one is
		 * the load generator that bench/sipredirect.sh drives */
		printf("sipload: the load generator of bench/sipredirect.sh, which runs it "
		    "against sipredirect and Kamailio; nothing to do alone\n");
		return 0;
	}
	while ((c = getopt(argc, argv, "s:n:w:T:u:e:m:b:D:")) != -1) {
		switch (c) {
		case 's': target = optarg; break;
		case 'n': ncalls = strtol(optarg, NULL, 10); break;
		case 'w': window = strtol(optarg, NULL, 10); break;
		case 'T': maxsec = strtol(optarg, NULL, 10); break;
		case 'u': user = optarg; break;
		case 'e': expect = strtol(optarg, NULL, 10); break;
		case 'm': match = optarg; break;
		case 'b': bindaddr = optarg; break;
		case 'D': divuser = optarg; break;
		default: goto usage;
		}
	}
	if (!target || ncalls < 1 || ncalls > 10000000 || window < 1 || window > 100000 ||
	    maxsec < 1 || maxsec > 600 || parse_hp(target, thost, sizeof thost, &tport) != 0)
		goto usage;
	pid = (unsigned)getpid();
	memset(&ta, 0, sizeof ta);
	ta.sin_family = AF_INET;
	ta.sin_port = htons((unsigned short)tport);
	inet_pton(AF_INET, thost, &ta.sin_addr);
	memset(&la, 0, sizeof la);
	la.sin_family = AF_INET;
	if (inet_pton(AF_INET, bindaddr, &la.sin_addr) != 1 || (ntohl(la.sin_addr.s_addr) >> 24) != 127)
		goto usage;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	{
		int sz = 8 << 20;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&la, sizeof la) != 0 ||
	    getsockname(fd, (struct sockaddr *)&la, &ll) != 0 ||
	    connect(fd, (struct sockaddr *)&ta, sizeof ta) != 0) {
		fprintf(stderr, "sipload: socket: %s\n", strerror(errno));
		return EX_OSERR;
	}
	inet_ntop(AF_INET, &la.sin_addr, lhost, sizeof lhost);
	lport = ntohs(la.sin_port);
	calls = calloc((size_t)ncalls, sizeof *calls);
	lat = calloc((size_t)ncalls, sizeof *lat);
	if (!calls || !lat)
		return EX_OSERR;
	for (i = 0; i < BATCH; i++) {
		riov[i].iov_base = rbuf[i];
		riov[i].iov_len = MSGMAX;
		memset(&rm[i], 0, sizeof rm[i]);
		rm[i].msg_hdr.msg_iov = &riov[i];
		rm[i].msg_hdr.msg_iovlen = 1;
		siov[i].iov_base = sbuf[i];
		memset(&sm[i], 0, sizeof sm[i]);
		sm[i].msg_hdr.msg_iov = &siov[i];
		sm[i].msg_hdr.msg_iovlen = 1;
	}

	t0 = lastscan = now_ns();
	deadline = t0 + (uint64_t)maxsec * 1000000000u;
	while ((ok + fail) < ncalls) {
		uint64_t now = now_ns();
		int ns = 0, nr;

		if (now > deadline)
			break;
		/* new calls */
		while (inflight < window && next < ncalls && ns < BATCH) {
			siov[ns].iov_len = (size_t)fmt_invite(sbuf[ns], next);
			calls[next].first = calls[next].last = now;
			calls[next].state = 1;
			calls[next].tries = 1;
			next++;
			inflight++;
			ns++;
		}
		/* retransmissions: every 50 ms look at the outstanding calls */
		if (now - lastscan > 50000000u) {
			long k;
			lastscan = now;
			while (low < next && calls[low].state >= 2)
				low++;
			for (k = low; k < next; k++) {
				struct call *cl = &calls[k];
				if (cl->state != 1 || now - cl->last < 500000000u)
					continue;
				if (cl->tries >= 7) {
					cl->state = 3;
					fail++;
					inflight--;
					continue;
				}
				if (ns == BATCH)
					break;
				siov[ns].iov_len = (size_t)fmt_invite(sbuf[ns], k);
				cl->last = now;
				cl->tries++;
				retrans++;
				ns++;
			}
		}
		send_batch(fd, sm, ns);
		nr = recvmmsg(fd, rm, BATCH, MSG_DONTWAIT, NULL);
		if (nr <= 0) {
			struct pollfd p = { fd, POLLIN, 0 };
			if (inflight >= window || next >= ncalls)
				poll(&p, 1, 5);
			continue;
		}
		now = now_ns();
		ns = 0;
		for (i = 0; i < nr; i++) {
			char *r = rbuf[i], *cid, to[1024];
			long idx, code;
			struct call *cl;

			r[rm[i].msg_len] = '\0';
			if (strncmp(r, "SIP/2.0 ", 8) != 0)
				continue;
			code = strtol(r + 8, NULL, 10);
			cid = strstr(r, "\r\nCall-ID: L");
			if (!cid || code < 200)
				continue;
			cid = strchr(cid + 11, '-');
			if (!cid)
				continue;
			idx = strtol(cid + 1, NULL, 10);
			if (idx < 0 || idx >= next)
				continue;
			cl = &calls[idx];
			if (cl->state == 1) {
				if (code == expect && (!match || strstr(r, match))) {
					cl->state = 2;
					ok++;
					lat[nlat++] = (uint32_t)((now - cl->first) / 1000);
				} else {
					cl->state = 3;
					fail++;
					if (unexpected++ < 3)
						fprintf(stderr, "sipload: unexpected answer to call %ld:\n%.600s\n", idx, r);
				}
				inflight--;
			} else {
				dup++;          /* a retransmitted answer: ACK it again */
			}
			if (to_line(r, to, sizeof to) == 0 && ns < BATCH) {
				siov[ns].iov_len = (size_t)fmt_ack(sbuf[ns], idx, to);
				ns++;
			}
		}
		send_batch(fd, sm, ns);
	}
	tend = now_ns();
	{
		double secs = (double)(tend - t0) / 1e9;
		uint32_t p50 = 0, p99 = 0, pmax = 0;
		if (nlat > 0) {
			qsort(lat, (size_t)nlat, sizeof *lat, cmp_u32);
			p50 = lat[nlat / 2];
			p99 = lat[(long)((double)nlat * 0.99) < nlat ? (long)((double)nlat * 0.99) : nlat - 1];
			pmax = lat[nlat - 1];
		}
		printf("target=%s calls=%ld ok=%ld fail=%ld unanswered=%ld retrans=%ld dup_answers=%ld "
		    "seconds=%.3f cps=%.0f p50_us=%u p99_us=%u max_us=%u\n",
		    target, ncalls, ok, fail, ncalls - ok - fail, retrans, dup, secs,
		    (double)ok / secs, p50, p99, pmax);
	}
	free(calls);
	free(lat);
	close(fd);
	return (ok == ncalls && retrans == 0) ? 0 : 1;
usage:
	fprintf(stderr, "usage: sipload -s 127.0.0.1:PORT [-n CALLS] [-w WINDOW] [-T SECONDS] [-u USER]\n"
	    "               [-e STATUS] [-m STRING] [-b 127.x.x.x] [-D DIVERSION_USER]\n");
	return EX_USAGE;
}
