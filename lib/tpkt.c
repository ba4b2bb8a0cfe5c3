/* tpkt.c - TCP stream reassembly and TPKT framing */
#include <stdlib.h>
#include <string.h>

#include "tpkt.h"

void umfax_tcpstream_init(struct umfax_tcpstream *s)
{
	memset(s, 0, sizeof(*s));
}

void umfax_tcpstream_release(struct umfax_tcpstream *s)
{
	for (int i = 0; i < s->nooo; i++)
		free(s->ooo[i].data);
	free(s->buf);
	umfax_tcpstream_init(s);
}

static int append(struct umfax_tcpstream *s, const uint8_t *d, size_t n)
{
	if (!n)
		return 0;
	if (s->len + n > UMFAX_TCPSTREAM_MAX_BUF)
		return -1;          /* the reader is not consuming: refuse */
	if (s->len + n > s->cap) {
		size_t nc = s->cap ? s->cap : 4096;
		while (nc < s->len + n)
			nc *= 2;
		uint8_t *nb = realloc(s->buf, nc);
		if (!nb)
			return -1;
		s->buf = nb;
		s->cap = nc;
	}
	memcpy(s->buf + s->len, d, n);
	s->len += n;
	return 0;
}

/* Append the in-order part of [seq, seq+len). */
static int take(struct umfax_tcpstream *s, uint32_t seq, const uint8_t *d, size_t n)
{
	int32_t off = (int32_t) (s->next - seq);     /* bytes already had */
	if (off > 0) {
		if ((size_t) off >= n)
			return 0;
		d += off;
		n -= (size_t) off;
	}
	if (append(s, d, n) < 0)
		return -1;
	s->next += (uint32_t) n;
	return 0;
}

static void pull_ooo(struct umfax_tcpstream *s)
{
	int progress = 1;
	while (progress) {
		progress = 0;
		for (int i = 0; i < s->nooo; i++) {
			struct umfax_tcpseg *g = &s->ooo[i];
			if ((int32_t) (g->seq - s->next) > 0)
				continue;
			take(s, g->seq, g->data, g->len);
			free(g->data);
			s->ooo[i] = s->ooo[--s->nooo];
			progress = 1;
			break;
		}
	}
}

int umfax_tcpstream_add(struct umfax_tcpstream *s, uint32_t seq, uint8_t flags,
    const uint8_t *data, size_t len)
{
	if (flags & 0x02) {          /* SYN */
		if (!s->started) {
			s->started = 1;
			s->next = seq + 1;
		}
		seq++;
	}
	if (!len)
		return 0;
	if (!s->started) {
		s->started = 1;
		s->next = seq;
	}
	int32_t ahead = (int32_t) (seq - s->next);
	if (ahead <= 0) {
		if (take(s, seq, data, len) < 0)
			return -1;
		pull_ooo(s);
		return 0;
	}
	if (s->nooo >= UMFAX_TCPSTREAM_MAX_OOO) {
		/* The hole is not being filled: give it up, go on from the oldest held. */
		int lo = 0;
		for (int i = 1; i < s->nooo; i++)
			if ((int32_t) (s->ooo[i].seq - s->ooo[lo].seq) < 0)
				lo = i;
		s->next = s->ooo[lo].seq;
		s->gaps++;
		pull_ooo(s);
		if ((int32_t) (seq - s->next) <= 0) {
			if (take(s, seq, data, len) < 0)
				return -1;
			pull_ooo(s);
			return 0;
		}
		if (s->nooo >= UMFAX_TCPSTREAM_MAX_OOO)
			return -1;
	}
	uint8_t *copy = malloc(len);
	if (!copy)
		return -1;
	memcpy(copy, data, len);
	s->ooo[s->nooo].seq = seq;
	s->ooo[s->nooo].len = len;
	s->ooo[s->nooo].data = copy;
	s->nooo++;
	return 0;
}

void umfax_tcpstream_consume(struct umfax_tcpstream *s, size_t n)
{
	if (n >= s->len) {
		s->len = 0;
		return;
	}
	memmove(s->buf, s->buf + n, s->len - n);
	s->len -= n;
}

int umfax_tpkt_frame(const uint8_t *buf, size_t len, const uint8_t **payload,
    size_t *plen, size_t *used)
{
	if (len < 1)
		return 0;
	if (buf[0] != 3)
		return -1;
	if (len < 2)
		return 0;
	if (buf[1] != 0)
		return -1;
	if (len < 4)
		return 0;
	size_t fl = (size_t) buf[2] << 8 | buf[3];
	if (fl < 5)
		return -1;          /* a header and at least one octet of IFP */
	if (len < fl)
		return 0;
	*payload = buf + 4;
	*plen = fl - 4;
	*used = fl;
	return 1;
}

int umfax_tpkt_looks_like(const uint8_t *buf, size_t len)
{
	return len >= 5 && buf[0] == 3 && buf[1] == 0 && ((size_t) buf[2] << 8 | buf[3]) >= 5;
}
