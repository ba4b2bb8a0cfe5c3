/* sipsend - send SIP messages from files to a loopback address and print
 * every datagram (or TCP bytes) received back within a wait time.
 *
 *   sipsend -s 127.0.0.1:PORT [-t] [-b 127.0.0.2] [-p LOCALPORT] [-w MS] FILE...
 *   sipsend -s [::1]:PORT ...          (IPv6 loopback)
 *
 * Each FILE is sent as is (LF line ends become CRLF unless -r), in one
 * datagram or over one TCP connection; then sipsend waits MS milliseconds
 * (default 500) after the last file, printing what arrives, each message
 * followed by a line "----".  Exit: 0 when anything was received, 1 when
 * nothing, 64 usage, 71 OS error. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

static long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int
loopback(const char *host, const char *port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1 || (ntohl(sa->sin_addr.s_addr) >> 24) != 127)
		return -1;
	sa->sin_port = htons((unsigned short)atoi(port ? port : "0"));
	return 0;
}

int
main(int argc, char **argv)
{
	const char *target = NULL, *bindaddr = "127.0.0.1";
	long wait = 500, lport = 0;
	int tcp = 0, raw = 0, c, fd, i, got = 0, v6 = 0;
	struct sockaddr_in ta, la;
	struct sockaddr_in6 ta6;

	while ((c = getopt(argc, argv, "s:tb:p:w:r")) != -1) {
		switch (c) {
		case 's': target = optarg; break;
		case 't': tcp = 1; break;
		case 'b': bindaddr = optarg; break;
		case 'p': lport = strtol(optarg, NULL, 10); break;
		case 'w': wait = strtol(optarg, NULL, 10); break;
		case 'r': raw = 1; break;
		default: goto usage;
		}
	}
	if (!target || optind >= argc || wait < 0 || wait > 60000 || lport < 0 || lport > 65535)
		goto usage;
	if (strncmp(target, "[::1]:", 6) == 0) {
		v6 = 1;
		memset(&ta6, 0, sizeof ta6);
		ta6.sin6_family = AF_INET6;
		ta6.sin6_addr = in6addr_loopback;
		ta6.sin6_port = htons((unsigned short)atoi(target + 6));
	} else {
		char host[64];
		const char *colon = strrchr(target, ':');
		if (!colon || (size_t)(colon - target) >= sizeof host)
			goto usage;
		memcpy(host, target, (size_t)(colon - target));
		host[colon - target] = '\0';
		if (loopback(host, colon + 1, &ta) != 0)
			goto usage;
	}
	if (loopback(bindaddr, NULL, &la) != 0)
		goto usage;
	la.sin_port = htons((unsigned short)lport);
	fd = socket(v6 ? AF_INET6 : AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (fd < 0 || (!v6 && bind(fd, (struct sockaddr *)&la, sizeof la) != 0) ||
	    (tcp && (v6 ? connect(fd, (struct sockaddr *)&ta6, sizeof ta6)
	    : connect(fd, (struct sockaddr *)&ta, sizeof ta)) != 0)) {
		fprintf(stderr, "sipsend: %s\n", strerror(errno));
		return EX_OSERR;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = optind; i < argc; i++) {
		static char in[70000], out[140000];
		FILE *fp = fopen(argv[i], "rb");
		size_t n, o = 0, k;
		if (!fp) {
			fprintf(stderr, "sipsend: %s: %s\n", argv[i], strerror(errno));
			return EX_NOINPUT;
		}
		n = fread(in, 1, sizeof in, fp);
		fclose(fp);
		for (k = 0; k < n; k++) {
			if (!raw && in[k] == '\n' && (k == 0 || in[k - 1] != '\r'))
				out[o++] = '\r';
			out[o++] = in[k];
		}
		if (tcp ? send(fd, out, o, MSG_NOSIGNAL) < 0
		    : (v6 ? sendto(fd, out, o, 0, (struct sockaddr *)&ta6, sizeof ta6)
		    : sendto(fd, out, o, 0, (struct sockaddr *)&ta, sizeof ta)) < 0)
			fprintf(stderr, "sipsend: send %s: %s\n", argv[i], strerror(errno));
	}
	{
		long end = ms_now() + wait;
		for (;;) {
			long left = end - ms_now();
			struct pollfd p = { fd, POLLIN, 0 };
			char buf[65536];
			ssize_t r;
			if (left <= 0 || poll(&p, 1, (int)left) <= 0)
				break;
			r = recv(fd, buf, sizeof buf - 1, 0);
			if (r <= 0)
				break;
			buf[r] = '\0';
			fwrite(buf, 1, (size_t)r, stdout);
			printf("----\n");
			got++;
		}
	}
	close(fd);
	return got ? 0 : 1;
usage:
	fprintf(stderr, "usage: sipsend -s 127.0.0.1:PORT|[::1]:PORT [-t] [-b 127.x.x.x] [-p LOCALPORT] [-w MS] [-r] FILE...\n");
	return EX_USAGE;
}
