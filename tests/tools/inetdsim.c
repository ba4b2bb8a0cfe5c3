/* inetdsim - start a program the way inetd does, for tests (loopback only).
 *
 *   inetdsim -u 127.0.0.1:PORT PROG ARGS...   UDP "wait": the bound UDP socket
 *                                             is fd 0, 1 and 2 of PROG
 *   inetdsim -t 127.0.0.1:PORT PROG ARGS...   TCP "nowait": accept one
 *                                             connection, run PROG on it
 *   inetdsim -l 127.0.0.1:PORT PROG ARGS...   TCP "wait": the listening socket
 *
 * The socket is bound before PROG starts, so a test can send at once.
 * Exits with PROG's exit status (128+N for a signal), 71 on OS errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

static pid_t child;

static void
fwd(int sig)
{
	if (child > 0)
		kill(child, sig);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	char host[64];
	const char *colon;
	int mode, fd, one = 1, st;

	if (argc < 4 || argv[1][0] != '-' || !strchr("utl", argv[1][1]) || argv[1][2]) {
		fprintf(stderr, "usage: inetdsim -u|-t|-l 127.0.0.1:PORT PROG ARGS...\n");
		return EX_USAGE;
	}
	mode = argv[1][1];
	colon = strrchr(argv[2], ':');
	if (!colon || (size_t)(colon - argv[2]) >= sizeof host)
		return EX_USAGE;
	memcpy(host, argv[2], (size_t)(colon - argv[2]));
	host[colon - argv[2]] = '\0';
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "inetdsim: loopback IPv4 only\n");
		return EX_USAGE;
	}
	fd = socket(AF_INET, mode == 'u' ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0)
		return EX_OSERR;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    (mode != 'u' && listen(fd, 16) != 0)) {
		fprintf(stderr, "inetdsim: %s: %s\n", argv[2], strerror(errno));
		return EX_OSERR;
	}
	if (mode == 't') {
		int c = accept(fd, NULL, NULL);
		if (c < 0)
			return EX_OSERR;
		close(fd);
		fd = c;
	}
	signal(SIGTERM, fwd);
	signal(SIGINT, fwd);
	child = fork();
	if (child < 0)
		return EX_OSERR;
	if (child == 0) {
		if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(EX_OSERR);
		if (fd > 2)
			close(fd);
		execvp(argv[3], argv + 3);
		_exit(127);
	}
	close(fd);
	while (waitpid(child, &st, 0) < 0)
		if (errno != EINTR)
			return EX_OSERR;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
