/* sipsink - a fax server stand-in for tests: listen on a loopback UDP port,
 * print every SIP request received (to stdout, separated by a line "----"),
 * answer INVITEs with CODE (default 603 Decline) and other requests with 200,
 * absorb ACKs.  Exits after COUNT INVITEs or TIMEOUT seconds.
 *
 *   sipsink -l 127.0.0.1:5091 [-n COUNT] [-t TIMEOUT] [-c CODE]
 * Exit status: 0 when COUNT INVITEs arrived, 1 on timeout, 64 usage, 71 OS. */
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

/* Copy the header lines named NAME (or compact C) from REQ into OUT. */
static size_t
copy_headers(const char *req, const char *name, const char *compact, char *out,
    size_t o, size_t n)
{
	const char *p = strstr(req, "\r\n");

	while (p && p[2] != '\r' && p[2] != '\0') {
		const char *line = p + 2, *eol = strstr(line, "\r\n");
		size_t ll, nl = strlen(name);
		if (!eol)
			break;
		ll = (size_t)(eol - line);
		if ((ll > nl && strncasecmp(line, name, nl) == 0 && (line[nl] == ':' || line[nl] == ' ')) ||
		    (compact && ll > 1 && strncasecmp(line, compact, 1) == 0 && (line[1] == ':' || line[1] == ' '))) {
			if (o + ll + 3 < n) {
				memcpy(out + o, line, ll);
				memcpy(out + o + ll, "\r\n", 3);
				o += ll + 2;
			}
		}
		p = eol;
	}
	return o;
}

int
main(int argc, char **argv)
{
	const char *listen = NULL;
	long count = 1, timeout = 10, code = 603;
	struct sockaddr_in sa;
	int c, fd, ninv = 0;
	time_t end;

	while ((c = getopt(argc, argv, "l:n:t:c:")) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 't': timeout = strtol(optarg, NULL, 10); break;
		case 'c': code = strtol(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: sipsink -l 127.0.0.1:PORT [-n COUNT] [-t TIMEOUT] [-c CODE]\n");
			return EX_USAGE;
		}
	}
	if (!listen || !strchr(listen, ':') || count < 1 || timeout < 1 || timeout > 600 ||
	    code < 200 || code > 699) {
		fprintf(stderr, "usage: sipsink -l 127.0.0.1:PORT [-n COUNT] [-t TIMEOUT] [-c CODE]\n");
		return EX_USAGE;
	}
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	{
		char host[64];
		const char *colon = strrchr(listen, ':');
		size_t hl = (size_t)(colon - listen);
		if (hl >= sizeof host)
			return EX_USAGE;
		memcpy(host, listen, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
		    (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
			fprintf(stderr, "sipsink: loopback IPv4 addresses only\n");
			return EX_USAGE;
		}
		sa.sin_port = htons((unsigned short)atoi(colon + 1));
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		fprintf(stderr, "sipsink: %s: %s\n", listen, strerror(errno));
		return EX_OSERR;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	end = time(NULL) + timeout;
	while (time(NULL) < end) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		char buf[65536], out[70000];
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		ssize_t r;
		size_t o;

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		r = recvfrom(fd, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &fl);
		if (r <= 0)
			continue;
		buf[r] = '\0';
		if (strncmp(buf, "SIP/2.0 ", 8) == 0)
			continue;
		fwrite(buf, 1, (size_t)r, stdout);
		printf("\n----\n");
		if (strncmp(buf, "ACK ", 4) == 0)
			continue;
		o = (size_t)snprintf(out, sizeof out, "SIP/2.0 %ld %s\r\n", strncmp(buf, "INVITE ", 7) == 0 ? code : 200L,
		    strncmp(buf, "INVITE ", 7) == 0 ? "Sink Answer" : "OK");
		o = copy_headers(buf, "Via", "v", out, o, sizeof out);
		o = copy_headers(buf, "From", "f", out, o, sizeof out);
		{
			size_t before = o;
			o = copy_headers(buf, "To", "t", out, o, sizeof out);
			if (o > before && !strstr(out + before, "tag=") && o + 16 < sizeof out) {
				memcpy(out + o - 2, ";tag=sink1\r\n", 13);
				o += 10;
			}
		}
		o = copy_headers(buf, "Call-ID", "i", out, o, sizeof out);
		o = copy_headers(buf, "CSeq", NULL, out, o, sizeof out);
		o += (size_t)snprintf(out + o, sizeof out - o, "Content-Length: 0\r\n\r\n");
		if (sendto(fd, out, o, 0, (struct sockaddr *)&from, fl) < 0)
			fprintf(stderr, "sipsink: send: %s\n", strerror(errno));
		if (strncmp(buf, "INVITE ", 7) == 0 && ++ninv >= count)
			return 0;
	}
	fprintf(stderr, "sipsink: timeout after %ld s, %d INVITEs\n", timeout, ninv);
	return 1;
}
