/* sipsrv.c - sockets, the epoll loop and INVITE server transactions */
#include "sipsrv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "exits.h"
#include "job.h"
#include "log.h"

#define BATCH      32
#define RESP_MAX   16384
#define TCP_MAX    (UMFAX_SIP_MAX_MSG + 4096)

/* ---- listen specs ---------------------------------------------------- */

static int
parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256];
	const char *port;
	char *e;
	unsigned long p;

	memset(ss, 0, sizeof *ss);
	if (*s == '[') {
		const char *c = strchr(s, ']');
		if (!c || c[1] != ':' || (size_t)(c - s - 1) >= sizeof host)
			return -1;
		memcpy(host, s + 1, (size_t)(c - s - 1));
		host[c - s - 1] = '\0';
		port = c + 2;
	} else {
		const char *c = strrchr(s, ':');
		if (!c) {
			snprintf(host, sizeof host, "0.0.0.0");
			port = s;
		} else {
			if ((size_t)(c - s) >= sizeof host || strchr(s, ':') != c)
				return -1;
			memcpy(host, s, (size_t)(c - s));
			host[c - s] = '\0';
			port = c + 1;
		}
	}
	p = strtoul(port, &e, 10);
	if (!*port || *e || p == 0 || p > 65535)
		return -1;
	if (!host[0])
		snprintf(host, sizeof host, "0.0.0.0");
	{
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *b = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET, host, &a->sin_addr) == 1) {
			a->sin_family = AF_INET;
			a->sin_port = htons((uint16_t)p);
			*len = sizeof *a;
		} else if (inet_pton(AF_INET6, host, &b->sin6_addr) == 1) {
			b->sin6_family = AF_INET6;
			b->sin6_port = htons((uint16_t)p);
			*len = sizeof *b;
		} else {
			return -1;
		}
	}
	return 0;
}

int
umfax_sipsrv_parse_listen(const char *spec, struct umfax_sipsrv_listen *l,
    int n, int max, char *err, size_t errlen)
{
	const char *p = spec;

	while (*p) {
		char item[300];
		size_t k = strcspn(p, ", \t");
		int udp = 1, tcp = 1;
		const char *a = item;

		if (k == 0) {
			p++;
			continue;
		}
		if (k >= sizeof item) {
			snprintf(err, errlen, "listen address too long");
			return -1;
		}
		memcpy(item, p, k);
		item[k] = '\0';
		p += k;
		if (strncasecmp(a, "udp:", 4) == 0) {
			tcp = 0;
			a += 4;
		} else if (strncasecmp(a, "tcp:", 4) == 0) {
			udp = 0;
			a += 4;
		}
		if (n + udp + tcp > max) {
			snprintf(err, errlen, "more than %d listen sockets", max);
			return -1;
		}
		if (parse_addr(a, &l[n].ss, &l[n].len) != 0) {
			snprintf(err, errlen, "bad listen address \"%.200s\" (want [udp:|tcp:]ADDR:PORT)", item);
			return -1;
		}
		if (udp && tcp) {
			l[n + 1] = l[n];
			l[n].type = SOCK_DGRAM;
			l[n + 1].type = SOCK_STREAM;
			n += 2;
		} else {
			l[n].type = udp ? SOCK_DGRAM : SOCK_STREAM;
			n++;
		}
	}
	return n;
}

void
umfax_sipsrv_cfg_init(struct umfax_sipsrv_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->stateful = strcmp(umfax_conf_str("sipredirect_transactions"), "stateful") == 0;
	c->t1_ms = (int)umfax_conf_int("sipredirect_t1");
	c->t2_ms = (int)umfax_conf_int("sipredirect_t2");
	if (c->t2_ms < c->t1_ms)
		c->t2_ms = c->t1_ms;
	c->t4_ms = 5000;
	c->idle_s = (int)umfax_conf_int("sipredirect_idle_timeout");
	c->max_conns = (int)umfax_conf_int("sipredirect_max_connections");
}

int
umfax_sipsrv_fd0_is_socket(void)
{
	struct stat st;

	return fstat(0, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* ---- time -------------------------------------------------------------- */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- transactions ---------------------------------------------------- */

enum { TX_FREE = 0, TX_COMPLETED, TX_CONFIRMED };

struct txn {
	char *key;
	uint32_t hash;
	int next;                 /* bucket chain / free list */
	int state;
	unsigned gen;
	char *resp;
	size_t rlen;
	int fd;                   /* UDP socket to retransmit on, -1 for TCP */
	struct sockaddr_storage to;
	socklen_t tolen;
	uint64_t next_ms, end_ms;
	uint32_t interval;
	char call[96];
};

struct tevent {
	uint64_t when;
	int idx;
	unsigned gen;
};

struct conn {
	int fd;
	int used;
	char *buf;
	size_t len;
	char *wbuf;
	size_t wlen;
	uint64_t last;
	struct sockaddr_storage peer;
	socklen_t plen;
	unsigned gen;             /* tells a reused slot from the old connection */
};

struct srv {
	struct umfax_sipredir *r;
	const struct umfax_sipsrv_cfg *cfg;
	int ep, sfd;
	int udp[UMFAX_SIPSRV_MAX_LISTEN + 1], nudp;
	int tcpl[UMFAX_SIPSRV_MAX_LISTEN + 1], ntcpl;
	struct conn *conns;
	int nconns, capconns, liveconns;
	unsigned conn_gen;
	/* transactions */
	struct txn *tx;
	int ntx, captx, freetx, livetx;
	int *bucket;
	uint32_t nbucket;         /* power of two */
	struct tevent *heap;
	int nheap, capheap;
	uint64_t last_activity, last_idle_scan;
	int stop;
	int inetd_conn;           /* inetd nowait: the one connection's index, or -1 */
};

/* epoll tags: type in the top byte, index below */
enum { T_SIG = 1, T_UDP, T_TCPL, T_CONN, T_RTP };
#define TAG(t, i) (((uint64_t)(t) << 32) | (uint32_t)(i))

static uint32_t
hash_key(const char *k)
{
	uint32_t h = 2166136261u;

	for (; *k; k++) {
		h ^= (unsigned char)*k;
		h *= 16777619u;
	}
	return h;
}

static int
tx_find(struct srv *s, const char *key, uint32_t h)
{
	int i;

	if (!s->bucket)
		return -1;
	for (i = s->bucket[h & (s->nbucket - 1)]; i >= 0; i = s->tx[i].next)
		if (s->tx[i].hash == h && strcmp(s->tx[i].key, key) == 0)
			return i;
	return -1;
}

static int
tx_rehash(struct srv *s, uint32_t nb)
{
	int *b = malloc(nb * sizeof *b);
	int i;
	uint32_t k;

	if (!b)
		return -1;
	for (k = 0; k < nb; k++)
		b[k] = -1;
	for (i = 0; i < s->ntx; i++)
		if (s->tx[i].state != TX_FREE) {
			uint32_t j = s->tx[i].hash & (nb - 1);
			s->tx[i].next = b[j];
			b[j] = i;
		}
	free(s->bucket);
	s->bucket = b;
	s->nbucket = nb;
	return 0;
}

static void
heap_push(struct srv *s, uint64_t when, int idx)
{
	int i;

	if (s->nheap == s->capheap) {
		int nc = s->capheap ? s->capheap * 2 : 1024;
		struct tevent *h = realloc(s->heap, (size_t)nc * sizeof *h);
		if (!h)
			return;         /* the txn then lives until the next sweep */
		s->heap = h;
		s->capheap = nc;
	}
	i = s->nheap++;
	while (i > 0 && s->heap[(i - 1) / 2].when > when) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i].when = when;
	s->heap[i].idx = idx;
	s->heap[i].gen = s->tx[idx].gen;
}

static void
heap_pop(struct srv *s)
{
	struct tevent last = s->heap[--s->nheap];
	int i = 0;

	for (;;) {
		int c = 2 * i + 1;
		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap && s->heap[c + 1].when < s->heap[c].when)
			c++;
		if (s->heap[c].when >= last.when)
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->nheap > 0)
		s->heap[i] = last;
}

static void
tx_free(struct srv *s, int i)
{
	struct txn *t = &s->tx[i];
	int *pp = &s->bucket[t->hash & (s->nbucket - 1)];

	while (*pp >= 0 && *pp != i)
		pp = &s->tx[*pp].next;
	if (*pp == i)
		*pp = t->next;
	free(t->key);
	free(t->resp);
	t->key = t->resp = NULL;
	t->state = TX_FREE;
	t->gen++;
	t->next = s->freetx;
	s->freetx = i;
	s->livetx--;
}

static void
tx_add(struct srv *s, const char *key, const char *resp, size_t rlen, int udpfd,
    const struct sockaddr *to, socklen_t tolen, const char *call)
{
	uint64_t now = now_ms();
	uint32_t h = hash_key(key);
	struct txn *t;
	int i;

	if (s->freetx < 0 && s->ntx == s->captx) {
		int nc = s->captx ? s->captx * 2 : 1024;
		struct txn *nt = realloc(s->tx, (size_t)nc * sizeof *nt);
		if (!nt)
			return;         /* stateless for this one */
		s->tx = nt;
		s->captx = nc;
	}
	if ((uint32_t)(s->livetx + 1) * 2 > s->nbucket) {
		uint32_t nb = s->nbucket ? s->nbucket * 2 : 2048;
		if (tx_rehash(s, nb) != 0)
			return;
	}
	if (s->freetx >= 0) {
		i = s->freetx;
		s->freetx = s->tx[i].next;
	} else {
		i = s->ntx++;
		s->tx[i].gen = 0;
	}
	t = &s->tx[i];
	t->key = strdup(key);
	t->resp = malloc(rlen);
	if (!t->key || !t->resp) {
		free(t->key);
		free(t->resp);
		t->key = t->resp = NULL;
		t->state = TX_FREE;
		t->next = s->freetx;
		s->freetx = i;
		return;
	}
	memcpy(t->resp, resp, rlen);
	t->rlen = rlen;
	t->hash = h;
	t->state = TX_COMPLETED;
	t->fd = udpfd;
	memcpy(&t->to, to, tolen);
	t->tolen = tolen;
	snprintf(t->call, sizeof t->call, "%s", call);
	t->interval = (uint32_t)s->cfg->t1_ms;
	t->end_ms = now + 64 * (uint64_t)s->cfg->t1_ms;
	t->next_ms = udpfd >= 0 ? now + t->interval : t->end_ms;
	t->next = s->bucket[h & (s->nbucket - 1)];
	s->bucket[h & (s->nbucket - 1)] = i;
	s->livetx++;
	heap_push(s, t->next_ms, i);
}

static const char *
tx_lookup_cb(void *arg, const char *key, size_t *len)
{
	struct srv *s = arg;
	int i = tx_find(s, key, hash_key(key));

	if (i < 0)
		return NULL;
	*len = s->tx[i].rlen;
	return s->tx[i].resp;
}

static void
tx_ack(struct srv *s, const char *key)
{
	int i = tx_find(s, key, hash_key(key));
	struct txn *t;

	if (i < 0)
		return;
	t = &s->tx[i];
	if (t->state != TX_COMPLETED)
		return;
	t->state = TX_CONFIRMED;
	t->gen++;
	if (t->fd < 0) {            /* reliable transport: Timer I is 0 */
		tx_free(s, i);
		return;
	}
	t->next_ms = now_ms() + (uint64_t)s->cfg->t4_ms;
	heap_push(s, t->next_ms, i);
}

static void
tx_timers(struct srv *s, uint64_t now)
{
	while (s->nheap > 0 && s->heap[0].when <= now) {
		struct tevent e = s->heap[0];
		struct txn *t = &s->tx[e.idx];

		heap_pop(s);
		if (t->state == TX_FREE || t->gen != e.gen)
			continue;       /* stale */
		if (t->state == TX_CONFIRMED) {
			tx_free(s, e.idx);
			continue;
		}
		if (now >= t->end_ms) {
			umfax_log(LOG_NOTICE, NULL, t->call, "event=no-ack timer=H");
			tx_free(s, e.idx);
			continue;
		}
		if (t->fd >= 0 && sendto(t->fd, t->resp, t->rlen, MSG_DONTWAIT,
		    (struct sockaddr *)&t->to, t->tolen) < 0 && errno != EAGAIN)
			umfax_log(LOG_DEBUG, NULL, t->call, "event=retransmit error=\"%s\"",
			    strerror(errno));
		t->interval *= 2;
		if (t->interval > (uint32_t)s->cfg->t2_ms)
			t->interval = (uint32_t)s->cfg->t2_ms;
		t->next_ms = now + t->interval;
		if (t->next_ms > t->end_ms)
			t->next_ms = t->end_ms;
		heap_push(s, t->next_ms, e.idx);
	}
}

/* ---- one request -------------------------------------------------------- */

/* Answer BUF; returns the response length in OUT or 0.  UDPFD is the socket
 * for retransmissions (-1 on TCP). */
static int
handle(struct srv *s, const char *buf, size_t len, const struct sockaddr *src,
    socklen_t slen, char *out, size_t n, int udpfd)
{
	struct umfax_sipredir_info info;
	int rl;

	if (s->cfg->stateful && len > 4 && memcmp(buf, "ACK ", 4) == 0) {
		char m[16], key[512];
		if (umfax_sip_fast_key(buf, len, key, sizeof key) == 0 ||
		    umfax_sipredir_key(buf, len, m, sizeof m, key, sizeof key) == 0)
			tx_ack(s, key);
		return 0;
	}
	rl = umfax_sipredir_answer(s->r, buf, len, src, slen, out, n, &info);
	if (rl > 0 && s->cfg->stateful && info.status >= 300 &&
	    strcmp(info.method, "INVITE") == 0 && info.key[0]) {
		char call[96];
		size_t k = strcspn(info.key, "\n");
		umfax_job_clean(call, sizeof call, info.key, k);
		tx_add(s, info.key, out, (size_t)rl, udpfd, src, slen, call);
	}
	return rl > 0 ? rl : 0;
}

/* ---- UDP ------------------------------------------------------------------ */

static char (*rbufs)[UMFAX_SIP_MAX_MSG + 1];
static char (*sbufs)[RESP_MAX];

static void
udp_read(struct srv *s, int fd)
{
	struct mmsghdr rm[BATCH], sm[BATCH];
	struct iovec riov[BATCH], siov[BATCH];
	struct sockaddr_storage from[BATCH];
	int rounds, i, n, k;

	for (rounds = 0; rounds < 8; rounds++) {
		for (i = 0; i < BATCH; i++) {
			riov[i].iov_base = rbufs[i];
			riov[i].iov_len = UMFAX_SIP_MAX_MSG;
			memset(&rm[i].msg_hdr, 0, sizeof rm[i].msg_hdr);
			rm[i].msg_hdr.msg_iov = &riov[i];
			rm[i].msg_hdr.msg_iovlen = 1;
			rm[i].msg_hdr.msg_name = &from[i];
			rm[i].msg_hdr.msg_namelen = sizeof from[i];
		}
		n = recvmmsg(fd, rm, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				umfax_log(LOG_ERR, NULL, NULL, "event=recv error=\"%s\"", strerror(errno));
			return;
		}
		s->last_activity = now_ms();
		for (i = k = 0; i < n; i++) {
			size_t len = rm[i].msg_len;
			int rl;
			if (rm[i].msg_hdr.msg_flags & MSG_TRUNC) {
				char peer[64];
				umfax_log(LOG_NOTICE, NULL, NULL, "event=too-large peer=%s",
				    umfax_sip_addr_str((struct sockaddr *)&from[i],
				    rm[i].msg_hdr.msg_namelen, peer, sizeof peer));
				continue;
			}
			rbufs[i][len] = '\0';
			if (s->cfg->refer) {
				umfax_siprefer_input(s->cfg->refer, fd, rbufs[i], len,
				    (struct sockaddr *)&from[i], rm[i].msg_hdr.msg_namelen);
				continue;
			}
			rl = handle(s, rbufs[i], len, (struct sockaddr *)&from[i],
			    rm[i].msg_hdr.msg_namelen, sbufs[k], RESP_MAX, fd);
			if (rl <= 0)
				continue;
			siov[k].iov_base = sbufs[k];
			siov[k].iov_len = (size_t)rl;
			memset(&sm[k].msg_hdr, 0, sizeof sm[k].msg_hdr);
			sm[k].msg_hdr.msg_iov = &siov[k];
			sm[k].msg_hdr.msg_iovlen = 1;
			sm[k].msg_hdr.msg_name = &from[i];
			sm[k].msg_hdr.msg_namelen = rm[i].msg_hdr.msg_namelen;
			k++;
		}
		for (i = 0; i < k; ) {
			int w = sendmmsg(fd, sm + i, (unsigned)(k - i), MSG_DONTWAIT);
			if (w <= 0) {
				/* a full send buffer or an unreachable peer: the
				 * client retransmits, skip this one */
				if (w < 0 && errno != EAGAIN && errno != ECONNREFUSED)
					umfax_log(LOG_DEBUG, NULL, NULL, "event=send error=\"%s\"",
					    strerror(errno));
				i++;
			} else {
				i += w;
			}
		}
		if (n < BATCH)
			return;
	}
}

/* ---- TCP -------------------------------------------------------------------- */

static void
conn_close(struct srv *s, int ci)
{
	struct conn *c = &s->conns[ci];

	if (!c->used)
		return;
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	if (close(c->fd) != 0)
		umfax_log(LOG_DEBUG, NULL, NULL, "event=close error=\"%s\"", strerror(errno));
	free(c->buf);
	free(c->wbuf);
	memset(c, 0, sizeof *c);
	c->fd = -1;
	s->liveconns--;
	if (ci == s->inetd_conn)
		s->stop = 1;
}

static int
conn_add(struct srv *s, int fd, const struct sockaddr *peer, socklen_t plen)
{
	struct epoll_event ev;
	int i;

	for (i = 0; i < s->nconns; i++)
		if (!s->conns[i].used)
			break;
	if (i == s->nconns) {
		if (s->nconns == s->capconns) {
			int nc = s->capconns ? s->capconns * 2 : 64;
			struct conn *n = realloc(s->conns, (size_t)nc * sizeof *n);
			if (!n)
				return -1;
			s->conns = n;
			s->capconns = nc;
		}
		s->nconns++;
	}
	memset(&s->conns[i], 0, sizeof s->conns[i]);
	s->conns[i].fd = fd;
	s->conns[i].used = 1;
	s->conns[i].last = now_ms();
	s->conns[i].gen = ++s->conn_gen;
	if (plen <= sizeof s->conns[i].peer) {
		memcpy(&s->conns[i].peer, peer, plen);
		s->conns[i].plen = plen;
	}
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u64 = TAG(T_CONN, i);
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		s->conns[i].used = 0;
		return -1;
	}
	s->liveconns++;
	return i;
}

static void
conn_send(struct srv *s, int ci, const char *p, size_t len)
{
	struct conn *c = &s->conns[ci];

	if (c->wlen == 0) {
		ssize_t w = send(c->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			conn_close(s, ci);
			return;
		}
		if (w < 0)
			w = 0;
		p += w;
		len -= (size_t)w;
	}
	if (len > 0) {
		char *nb;
		struct epoll_event ev;
		if (c->wlen + len > 4 * TCP_MAX) {      /* peer does not read */
			conn_close(s, ci);
			return;
		}
		nb = realloc(c->wbuf, c->wlen + len);
		if (!nb) {
			conn_close(s, ci);
			return;
		}
		memcpy(nb + c->wlen, p, len);
		c->wbuf = nb;
		c->wlen += len;
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
		ev.data.u64 = TAG(T_CONN, ci);
		epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

static void
conn_flush(struct srv *s, int ci)
{
	struct conn *c = &s->conns[ci];
	ssize_t w;

	if (!c->wlen)
		return;
	w = send(c->fd, c->wbuf, c->wlen, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			conn_close(s, ci);
		return;
	}
	memmove(c->wbuf, c->wbuf + w, c->wlen - (size_t)w);
	c->wlen -= (size_t)w;
	if (c->wlen == 0) {
		struct epoll_event ev;
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.u64 = TAG(T_CONN, ci);
		epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

/* Length of the first complete message in BUF (header + Content-Length
 * body), 0 when more bytes are needed, -1 when the framing is bad. */
long
umfax_sipsrv_frame_len(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	const char *p;
	long cl = 0;

	if (!end)
		return len > UMFAX_SIP_MAX_MSG ? -1 : 0;
	for (p = buf; p < end; ) {
		const char *eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
		size_t ll = eol ? (size_t)(eol - p) : (size_t)(end - p);
		const char *v = NULL;
		if (ll > 15 && strncasecmp(p, "Content-Length", 14) == 0)
			v = p + 14;
		else if (ll > 2 && (p[0] == 'l' || p[0] == 'L') && (p[1] == ':' || p[1] == ' ' || p[1] == '\t'))
			v = p + 1;
		if (v) {
			while (v < p + ll && (*v == ' ' || *v == '\t'))
				v++;
			if (v < p + ll && *v == ':') {
				char *e;
				v++;
				while (v < p + ll && (*v == ' ' || *v == '\t'))
					v++;
				cl = strtol(v, &e, 10);
				if (e == v || cl < 0 || cl > UMFAX_SIP_MAX_MSG)
					return -1;
			}
		}
		if (!eol)
			break;
		p = eol + 2;
	}
	if ((size_t)(end - buf) + 4 + (size_t)cl > UMFAX_SIP_MAX_MSG)
		return -1;
	if ((size_t)(end - buf) + 4 + (size_t)cl > len)
		return 0;
	return (long)((end - buf) + 4 + cl);
}

static void
conn_read(struct srv *s, int ci)
{
	struct conn *c = &s->conns[ci];
	static char out[RESP_MAX];

	for (;;) {
		ssize_t r;
		long fl;

		if (!c->buf) {
			c->buf = malloc(TCP_MAX + 1);
			if (!c->buf) {
				conn_close(s, ci);
				return;
			}
		}
		r = recv(c->fd, c->buf + c->len, TCP_MAX - c->len, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			conn_close(s, ci);
			return;
		}
		if (r < 0)
			return;
		c->len += (size_t)r;
		c->last = s->last_activity = now_ms();
		for (;;) {
			size_t skip = 0;
			while (skip < c->len && (c->buf[skip] == '\r' || c->buf[skip] == '\n'))
				skip++;         /* keep-alive CRLFs */
			if (skip) {
				memmove(c->buf, c->buf + skip, c->len - skip);
				c->len -= skip;
			}
			fl = umfax_sipsrv_frame_len(c->buf, c->len);
			if (fl < 0) {
				char peer[64];
				umfax_log(LOG_NOTICE, NULL, NULL, "event=bad-framing peer=%s transport=tcp",
				    umfax_sip_addr_str((struct sockaddr *)&c->peer, c->plen, peer, sizeof peer));
				conn_close(s, ci);
				return;
			}
			if (fl == 0)
				break;
			if (s->cfg->refer) {
				/* the dialog layer answers through refer_send() */
				char save = c->buf[fl];
				c->buf[fl] = '\0';
				umfax_siprefer_input_tcp(s->cfg->refer, ci, c->gen, c->buf, (size_t)fl,
				    (struct sockaddr *)&c->peer, c->plen);
				if (!c->used)
					return;
				c->buf[fl] = save;
			} else {
				char save = c->buf[fl];
				int rl;
				c->buf[fl] = '\0';
				rl = handle(s, c->buf, (size_t)fl, (struct sockaddr *)&c->peer,
				    c->plen, out, sizeof out, -1);
				c->buf[fl] = save;
				if (rl > 0) {
					conn_send(s, ci, out, (size_t)rl);
					if (!c->used)
						return;
				}
			}
			memmove(c->buf, c->buf + fl, c->len - (size_t)fl);
			c->len -= (size_t)fl;
		}
		if (c->len == TCP_MAX) {
			conn_close(s, ci);
			return;
		}
	}
}

/* Refer mode's TCP sends: connection CI if it is still generation GEN. */
static int
refer_send(void *arg, int ci, unsigned gen, const char *b, size_t n)
{
	struct srv *s = arg;

	if (ci < 0 || ci >= s->nconns || !s->conns[ci].used || s->conns[ci].gen != gen)
		return -1;
	s->conns[ci].last = now_ms();
	conn_send(s, ci, b, n);
	return s->conns[ci].used ? 0 : -1;
}

static void
tcp_accept(struct srv *s, int lfd)
{
	int i;

	for (i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int one = 1;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				umfax_log(LOG_ERR, NULL, NULL, "event=accept error=\"%s\"", strerror(errno));
			return;
		}
		if (s->liveconns >= s->cfg->max_conns) {
			umfax_log(LOG_WARNING, NULL, NULL, "event=too-many-connections max=%d",
			    s->cfg->max_conns);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (conn_add(s, fd, (struct sockaddr *)&ss, sl) < 0)
			close(fd);
	}
}

/* ---- setup and loop ---------------------------------------------------- */

static int
add_fd(struct srv *s, int fd, int type, int idx)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.u64 = TAG(type, idx);
	return epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
}

static int
open_listen(struct srv *s, const struct umfax_sipsrv_listen *l)
{
	char a[80];
	int fd = socket(l->ss.ss_family, l->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	umfax_sip_addr_str((const struct sockaddr *)&l->ss, l->len, a, sizeof a);
	if (fd < 0) {
		umfax_log(LOG_ERR, NULL, NULL, "event=socket listen=%s error=\"%s\"", a, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (l->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (l->type == SOCK_DGRAM) {
		int sz = 4 << 20;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	}
	if (bind(fd, (const struct sockaddr *)&l->ss, l->len) != 0 ||
	    (l->type == SOCK_STREAM && listen(fd, 1024) != 0)) {
		umfax_log(LOG_ERR, NULL, NULL, "event=bind listen=%s/%s error=\"%s\"", a,
		    l->type == SOCK_DGRAM ? "udp" : "tcp", strerror(errno));
		close(fd);
		return -1;
	}
	umfax_log(LOG_INFO, NULL, NULL, "event=listen listen=%s transport=%s", a,
	    l->type == SOCK_DGRAM ? "udp" : "tcp");
	return fd;
}

static int
setup_inetd(struct srv *s)
{
	int type = 0, acc = 0;
	socklen_t sl = sizeof type;

	if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &sl) != 0) {
		umfax_log(LOG_ERR, NULL, NULL, "event=inetd error=\"fd 0 is not a socket\"");
		return -1;
	}
	sl = sizeof acc;
	getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &acc, &sl);
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	if (type == SOCK_DGRAM) {
		s->udp[s->nudp++] = 0;
		return add_fd(s, 0, T_UDP, 0);
	}
	if (type == SOCK_STREAM && acc) {
		s->tcpl[s->ntcpl++] = 0;
		return add_fd(s, 0, T_TCPL, 0);
	}
	if (type == SOCK_STREAM) {
		struct sockaddr_storage ss;
		socklen_t pl = sizeof ss;
		if (getpeername(0, (struct sockaddr *)&ss, &pl) != 0)
			return -1;
		s->inetd_conn = conn_add(s, 0, (struct sockaddr *)&ss, pl);
		return s->inetd_conn < 0 ? -1 : 0;
	}
	umfax_log(LOG_ERR, NULL, NULL, "event=inetd error=\"fd 0 is neither UDP nor TCP\"");
	return -1;
}

int
umfax_sipsrv_run(struct umfax_sipredir *r, const struct umfax_sipsrv_listen *l,
    int n, const struct umfax_sipsrv_cfg *cfg)
{
	struct srv s;
	sigset_t ss;
	int i, rc = EX_OK;

	memset(&s, 0, sizeof s);
	s.r = r;
	s.cfg = cfg;
	s.freetx = -1;
	s.inetd_conn = -1;
	s.sfd = -1;
	if (!rbufs)
		rbufs = malloc(BATCH * sizeof *rbufs);
	if (!sbufs)
		sbufs = malloc(BATCH * sizeof *sbufs);
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!rbufs || !sbufs || s.ep < 0) {
		umfax_log(LOG_ERR, NULL, NULL, "event=start error=\"%s\"", strerror(errno));
		return EX_OSERR;
	}
	if (cfg->stateful) {
		r->txn_lookup = tx_lookup_cb;
		r->txn_arg = &s;
	}
	sigemptyset(&ss);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	s.sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s.sfd < 0 || add_fd(&s, s.sfd, T_SIG, 0) != 0) {
		umfax_log(LOG_ERR, NULL, NULL, "event=start error=\"signalfd: %s\"", strerror(errno));
		return EX_OSERR;
	}
	if (cfg->inetd) {
		if (setup_inetd(&s) != 0)
			return EX_OSERR;
	} else {
		for (i = 0; i < n; i++) {
			int fd = open_listen(&s, &l[i]);
			if (fd < 0) {
				rc = EX_UNAVAILABLE;
				goto out;
			}
			if (l[i].type == SOCK_DGRAM) {
				s.udp[s.nudp] = fd;
				add_fd(&s, fd, T_UDP, s.nudp++);
			} else {
				s.tcpl[s.ntcpl] = fd;
				add_fd(&s, fd, T_TCPL, s.ntcpl++);
			}
		}
	}
	if (cfg->refer)
		umfax_siprefer_set_tcp(cfg->refer, refer_send, &s);
	if (cfg->refer) {
		/* the RTP socket, on the address of the first UDP listen
		 * address (or fd 0's under inetd) */
		struct sockaddr_storage ms;
		socklen_t ml = 0;
		int mfd;
		memset(&ms, 0, sizeof ms);
		if (cfg->inetd) {
			ml = sizeof ms;
			if (getsockname(0, (struct sockaddr *)&ms, &ml) != 0)
				ml = 0;
		} else {
			for (i = 0; i < n && !ml; i++)
				if (l[i].type == SOCK_DGRAM) {
					memcpy(&ms, &l[i].ss, l[i].len);
					ml = l[i].len;
				}
			if (!ml && n > 0) {
				memcpy(&ms, &l[0].ss, l[0].len);
				ml = l[0].len;
			}
		}
		mfd = umfax_siprefer_media_open(cfg->refer, ml ? (struct sockaddr *)&ms : NULL, ml);
		if (mfd >= 0 && add_fd(&s, mfd, T_RTP, 0) != 0) {
			umfax_log(LOG_ERR, NULL, NULL, "event=start error=\"epoll: %s\"", strerror(errno));
			rc = EX_OSERR;
			goto out;
		}
		if (mfd < 0 && !cfg->inetd) {
			rc = EX_UNAVAILABLE;
			goto out;
		}
		/* under inetd (e.g. TCP nowait: one process per connection)
		 * another process may hold the port: go on without RTP */
		if (mfd < 0)
			umfax_log(LOG_WARNING, NULL, NULL, "event=no-media detect=reinvite-only");
	}
	/* every socket is open: sipredirect drops root now */
	if (cfg->bound && (rc = cfg->bound(cfg->bound_arg)) != EX_OK)
		goto out;
	s.last_activity = now_ms();

	while (!s.stop) {
		struct epoll_event ev[64];
		uint64_t now = now_ms();
		int timeout = 1000, ne;

		if (s.nheap > 0) {
			uint64_t w = s.heap[0].when > now ? s.heap[0].when - now : 0;
			if (w < (uint64_t)timeout)
				timeout = (int)w;
		}
		if (cfg->refer) {
			int w = umfax_siprefer_timers(cfg->refer);
			if (w < timeout)
				timeout = w;
		}
		ne = epoll_wait(s.ep, ev, 64, timeout);
		if (ne < 0 && errno != EINTR) {
			umfax_log(LOG_ERR, NULL, NULL, "event=epoll error=\"%s\"", strerror(errno));
			rc = EX_OSERR;
			break;
		}
		for (i = 0; i < ne; i++) {
			int t = (int)(ev[i].data.u64 >> 32);
			int x = (int)(uint32_t)ev[i].data.u64;
			if (t == T_SIG) {
				struct signalfd_siginfo si;
				while (read(s.sfd, &si, sizeof si) == (ssize_t)sizeof si) {
					if (si.ssi_signo == SIGHUP) {
						if (cfg->reload)
							cfg->reload(cfg->reload_arg);
					} else {
						umfax_log(LOG_INFO, NULL, NULL, "event=stop signal=%u", si.ssi_signo);
						s.stop = 1;
					}
				}
			} else if (t == T_UDP) {
				udp_read(&s, s.udp[x]);
			} else if (t == T_RTP) {
				umfax_siprefer_media_read(cfg->refer);
			} else if (t == T_TCPL) {
				tcp_accept(&s, s.tcpl[x]);
			} else if (t == T_CONN && x < s.nconns && s.conns[x].used) {
				if (ev[i].events & EPOLLOUT)
					conn_flush(&s, x);
				if (s.conns[x].used && (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
					conn_read(&s, x);
			}
		}
		now = now_ms();
		tx_timers(&s, now);
		/* idle TCP connections, looked for once a second */
		if (s.liveconns > 0 && now - s.last_idle_scan >= 1000) {
			s.last_idle_scan = now;
			for (i = 0; i < s.nconns; i++)
				if (s.conns[i].used && now - s.conns[i].last > (uint64_t)cfg->idle_s * 1000)
					conn_close(&s, i);
		}
		/* inetd "wait": leave when idle and nothing is pending */
		if (cfg->inetd && s.inetd_conn < 0 && s.livetx == 0 && s.liveconns == 0 &&
		    (!cfg->refer || umfax_siprefer_active(cfg->refer) == 0) &&
		    now - s.last_activity > (uint64_t)cfg->idle_s * 1000)
			s.stop = 1;
	}
out:
	for (i = 0; i < s.nconns; i++)
		if (s.conns[i].used) {
			if (s.conns[i].wlen)
				conn_flush(&s, i);
			conn_close(&s, i);
		}
	for (i = 0; i < s.ntx; i++)
		if (s.tx[i].state != TX_FREE) {
			free(s.tx[i].key);
			free(s.tx[i].resp);
		}
	free(s.tx);
	free(s.bucket);
	free(s.heap);
	free(s.conns);
	for (i = 0; i < s.nudp; i++)
		if (s.udp[i] > 0)
			close(s.udp[i]);
	for (i = 0; i < s.ntcpl; i++)
		if (s.tcpl[i] > 0)
			close(s.tcpl[i]);
	close(s.sfd);
	close(s.ep);
	r->txn_lookup = NULL;
	if (cfg->refer)
		umfax_siprefer_set_tcp(cfg->refer, NULL, NULL);
	umfax_log(LOG_INFO, NULL, NULL,
	    "event=stats invite=%lu redirect=%lu forbidden=%lu not_found=%lu denied=%lu bad=%lu",
	    r->n_invite, r->n_302, r->n_403, r->n_404, r->n_deny, r->n_400);
	return rc;
}
