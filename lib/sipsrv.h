/* sipsrv.h - sipredirect's server: sockets, one epoll loop, transactions
 *
 * One process, non-blocking sockets: UDP (recvmmsg/sendmmsg batches) and TCP
 * (Content-Length framing, one buffer per connection).  Stateless mode
 * answers every request with umfax_sipredir_answer(); stateful mode keeps an
 * INVITE server transaction per call (RFC 3261 17.2.1): a retransmitted
 * INVITE gets the stored answer, the final answer is retransmitted over UDP
 * (T1, doubling up to T2) until the ACK or Timer H (64*T1), and ACKs are
 * absorbed for T4 after that.  Under inetd, fd 0 is the socket: a UDP socket
 * ("wait": serve until idle), a connected TCP socket ("nowait": serve that
 * connection), or a listening TCP socket ("wait"). */
#ifndef UMFAX_SIPSRV_H
#define UMFAX_SIPSRV_H

#include <stddef.h>
#include <sys/socket.h>
#include "sipredir.h"
#include "siprefer.h"

#define UMFAX_SIPSRV_MAX_LISTEN 16

struct umfax_sipsrv_listen {
	int type;                         /* SOCK_DGRAM or SOCK_STREAM */
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Parse a listen list "[udp:|tcp:]ADDR:PORT, ..." (IPv6 as [ADDR]:PORT, a
 * bare port means 0.0.0.0) and append to L (N entries used, MAX room).
 * Without a prefix an address gives a UDP and a TCP entry.  Returns the new
 * count, or -1 with ERR. */
int umfax_sipsrv_parse_listen(const char *spec, struct umfax_sipsrv_listen *l,
    int n, int max, char *err, size_t errlen);

struct umfax_sipsrv_cfg {
	int stateful;
	int t1_ms, t2_ms, t4_ms;
	int idle_s;                       /* TCP idle close; inetd UDP exit */
	int max_conns;
	int inetd;                        /* serve fd 0 instead of listening */
	/* Refer mode: UDP and TCP messages go to this dialog layer instead,
	 * and its RTP socket joins the loop.  NULL in redirect mode. */
	struct umfax_siprefer *refer;
	/* Called on SIGHUP (reload the directory). */
	void (*reload)(void *arg);
	void *reload_arg;
	/* Called once, after the sockets are bound (or fd 0 is taken) and
	 * before the first message is read: sipredirect drops root here.  A
	 * non-zero return stops the server with that exit status. */
	int (*bound)(void *arg);
	void *bound_arg;
};

/* TCP framing: the length of the first complete SIP message in BUF (LEN
 * bytes: headers, blank line, Content-Length body), 0 when more bytes are
 * needed, -1 when the framing is bad (no end of headers within the size
 * limit, a bad Content-Length). */
long umfax_sipsrv_frame_len(const char *buf, size_t len);

/* Defaults from the settings (sipredirect_*). */
void umfax_sipsrv_cfg_init(struct umfax_sipsrv_cfg *c);

/* 1 if fd 0 is a socket (started by inetd), else 0. */
int umfax_sipsrv_fd0_is_socket(void);

/* Bind L (N entries) or serve fd 0 (cfg->inetd), and run until SIGTERM or
 * SIGINT (or, under inetd, until the work is done).  Returns a sysexits code:
 * EX_OK, EX_OSERR (socket errors), EX_UNAVAILABLE (cannot bind). */
int umfax_sipsrv_run(struct umfax_sipredir *r, const struct umfax_sipsrv_listen *l,
    int n, const struct umfax_sipsrv_cfg *cfg);

#endif
