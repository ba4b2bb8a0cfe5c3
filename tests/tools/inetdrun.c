/* inetdrun - what inetd does for a "nowait" stream service, once:
 *
 *   inetdrun ADDR:PORT PROGRAM [ARG...]
 *
 * Listens on ADDR:PORT (IPv4), prints "ready" on stdout, accepts one
 * connection, makes it fds 0, 1 and 2, and executes PROGRAM with ARGs.
 * Exit 2 on errors before the exec. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char host[64];
	int port, one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET };

	if (argc < 3 || sscanf(argv[1], "%63[^:]:%d", host, &port) != 2 ||
	    inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		fprintf(stderr, "usage: inetdrun ADDR:PORT PROGRAM [ARG...]\n");
		return 2;
	}
	a.sin_port = htons((uint16_t) port);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (l < 0 || bind(l, (struct sockaddr *) &a, sizeof a) < 0 || listen(l, 1) < 0) {
		perror("inetdrun");
		return 2;
	}
	printf("ready\n");
	fflush(stdout);
	int c = accept(l, NULL, NULL);
	if (c < 0) {
		perror("inetdrun: accept");
		return 2;
	}
	close(l);
	if (dup2(c, 0) < 0 || dup2(c, 1) < 0 || dup2(c, 2) < 0)
		return 2;
	if (c > 2)
		close(c);
	execv(argv[2], argv + 2);
	return 2;
}
