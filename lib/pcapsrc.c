/* pcapsrc.c - UDP and TCP payloads out of a pcap or pcapng capture */
#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcapsrc.h"

#define FRAG_SLOTS    32          /* IP datagrams being reassembled at once */
#define FRAG_MAX      65535       /* largest reassembled datagram */
#define FRAG_TIMEOUT  30.0        /* seconds (capture time) a partial one is kept */

/* Link types not every libpcap names. */
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

struct frag {
	int used;
	int ipver;
	uint8_t src[16], dst[16];
	uint32_t id;
	int proto;
	double t;                 /* first fragment seen */
	size_t total;             /* known when the last fragment arrived, else 0 */
	uint8_t *buf;             /* FRAG_MAX bytes */
	uint8_t have[FRAG_MAX / 8 / 8 + 1];   /* one bit per 8-byte block */
};

struct umfax_pcapsrc {
	pcap_t *pc;
	FILE *memfp;              /* fmemopen'd, owned by pc once opened */
	int dlt;
	long frames, bad;
	struct frag frag[FRAG_SLOTS];
	uint8_t *dgram;           /* the last reassembled datagram, FRAG_MAX */
};

static uint16_t be16(const uint8_t *p) { return (uint16_t) (p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static struct umfax_pcapsrc *finish_open(pcap_t *pc, FILE *memfp, const char *name,
    char *err, size_t errlen)
{
	struct umfax_pcapsrc *s = calloc(1, sizeof(*s));
	if (!s || !(s->dgram = malloc(FRAG_MAX))) {
		free(s);
		pcap_close(pc);
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	s->pc = pc;
	s->memfp = memfp;
	s->dlt = pcap_datalink(pc);
	switch (s->dlt) {
	case DLT_EN10MB: case DLT_LINUX_SLL: case DLT_LINUX_SLL2: case DLT_RAW:
	case DLT_IPV4: case DLT_IPV6: case DLT_NULL: case DLT_LOOP:
		break;
	default:
		snprintf(err, errlen, "%s: link type %d (%s) is not supported", name,
		    s->dlt, pcap_datalink_val_to_name(s->dlt) ? pcap_datalink_val_to_name(s->dlt) : "?");
		umfax_pcapsrc_close(s);
		return NULL;
	}
	return s;
}

struct umfax_pcapsrc *umfax_pcapsrc_open(const char *path, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	pcap_t *pc = pcap_fopen_offline(fp, perr);
	if (!pc) {
		fclose(fp);
		snprintf(err, errlen, "%s: not a pcap or pcapng capture (%s)", path, perr);
		return NULL;
	}
	return finish_open(pc, NULL, path, err, errlen);
}

struct umfax_pcapsrc *umfax_pcapsrc_open_mem(const void *buf, size_t len,
    char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	if (len == 0) {
		snprintf(err, errlen, "(memory): empty capture");
		return NULL;
	}
	FILE *fp = fmemopen((void *) buf, len, "rb");
	if (!fp) {
		snprintf(err, errlen, "(memory): %s", strerror(errno));
		return NULL;
	}
	pcap_t *pc = pcap_fopen_offline(fp, perr);
	if (!pc) {
		fclose(fp);
		snprintf(err, errlen, "(memory): not a pcap or pcapng capture (%s)", perr);
		return NULL;
	}
	return finish_open(pc, fp, "(memory)", err, errlen);
}

void umfax_pcapsrc_close(struct umfax_pcapsrc *s)
{
	if (!s)
		return;
	if (s->pc)
		pcap_close(s->pc);  /* closes the FILE too */
	for (int i = 0; i < FRAG_SLOTS; i++)
		free(s->frag[i].buf);
	free(s->dgram);
	free(s);
}

long umfax_pcapsrc_frames(const struct umfax_pcapsrc *s) { return s->frames; }
long umfax_pcapsrc_bad(const struct umfax_pcapsrc *s) { return s->bad; }

char *umfax_pcapsrc_addr(char *dst, size_t n, int ipver, const uint8_t *addr)
{
	if (!inet_ntop(ipver == 6 ? AF_INET6 : AF_INET, addr, dst, (socklen_t) n))
		snprintf(dst, n, "?");
	return dst;
}

int umfax_pcapsrc_parse_addr(const char *text, uint8_t *addr)
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, text, addr) == 1)
		return 6;
	return 0;
}

/* ---- IP fragment reassembly ---- */

static int frag_bit(const struct frag *f, size_t blk) { return f->have[blk / 8] >> (blk % 8) & 1; }

/* Add one fragment.  Returns the length of the whole datagram (copied into
 * s->dgram) when it is complete, 0 when more is needed, -1 when the
 * fragment is unusable. */
static long frag_add(struct umfax_pcapsrc *s, double t, int ipver, const uint8_t *src,
    const uint8_t *dst, uint32_t id, int proto, size_t off, int more,
    const uint8_t *data, size_t len)
{
	int alen = ipver == 6 ? 16 : 4;
	struct frag *f = NULL, *freeslot = NULL, *oldest = NULL;

	if (off + len > FRAG_MAX || (more && len % 8) || len == 0)
		return -1;
	for (int i = 0; i < FRAG_SLOTS; i++) {
		struct frag *g = &s->frag[i];
		if (g->used && t - g->t > FRAG_TIMEOUT)
			g->used = 0;
		if (!g->used) {
			if (!freeslot)
				freeslot = g;
			continue;
		}
		if (g->ipver == ipver && g->id == id && g->proto == proto &&
		    !memcmp(g->src, src, alen) && !memcmp(g->dst, dst, alen)) {
			f = g;
			break;
		}
		if (!oldest || g->t < oldest->t)
			oldest = g;
	}
	if (!f) {
		f = freeslot ? freeslot : oldest;
		if (!f->buf && !(f->buf = malloc(FRAG_MAX)))
			return -1;
		f->used = 1;
		f->ipver = ipver;
		memset(f->src, 0, 16);
		memset(f->dst, 0, 16);
		memcpy(f->src, src, alen);
		memcpy(f->dst, dst, alen);
		f->id = id;
		f->proto = proto;
		f->t = t;
		f->total = 0;
		memset(f->have, 0, sizeof(f->have));
	}
	memcpy(f->buf + off, data, len);
	for (size_t b = off / 8; b < (off + len + 7) / 8; b++)
		f->have[b / 8] |= (uint8_t) (1u << (b % 8));
	if (!more)
		f->total = off + len;
	if (!f->total)
		return 0;
	for (size_t b = 0; b < (f->total + 7) / 8; b++)
		if (!frag_bit(f, b))
			return 0;
	memcpy(s->dgram, f->buf, f->total);
	f->used = 0;
	return (long) f->total;
}

/* ---- transport ---- */

/* Fill P from a transport header of protocol PROTO in BUF.  1 used, 0 not
 * UDP/TCP, -1 malformed. */
static int transport(struct umfax_pkt *p, int proto, const uint8_t *buf, size_t len)
{
	if (proto == UMFAX_PKT_UDP) {
		if (len < 8)
			return -1;
		size_t ulen = be16(buf + 4);
		if (ulen == 0)              /* jumbogram or lazy stack: trust the IP length */
			ulen = len;
		if (ulen < 8 || ulen > len)
			return -1;
		p->proto = UMFAX_PKT_UDP;
		p->sport = be16(buf);
		p->dport = be16(buf + 2);
		p->data = buf + 8;
		p->len = ulen - 8;
		return 1;
	}
	if (proto == UMFAX_PKT_TCP) {
		if (len < 20)
			return -1;
		size_t hl = (size_t) (buf[12] >> 4) * 4;
		if (hl < 20 || hl > len)
			return -1;
		p->proto = UMFAX_PKT_TCP;
		p->sport = be16(buf);
		p->dport = be16(buf + 2);
		p->tcp_seq = be32(buf + 4);
		p->tcp_flags = buf[13];
		p->data = buf + hl;
		p->len = len - hl;
		return 1;
	}
	return 0;
}

static int ipv4(struct umfax_pcapsrc *s, struct umfax_pkt *p, const uint8_t *buf, size_t len)
{
	if (len < 20 || buf[0] >> 4 != 4)
		return -1;
	size_t hl = (size_t) (buf[0] & 15) * 4;
	size_t tl = be16(buf + 2);
	if (hl < 20 || tl < hl)
		return -1;
	if (tl > len)
		return -1;          /* truncated snapshot */
	int proto = buf[9];
	if (proto != UMFAX_PKT_UDP && proto != UMFAX_PKT_TCP)
		return 0;
	p->ipver = 4;
	memset(p->src, 0, 16);
	memset(p->dst, 0, 16);
	memcpy(p->src, buf + 12, 4);
	memcpy(p->dst, buf + 16, 4);
	uint16_t fo = be16(buf + 6);
	int more = fo & 0x2000;
	size_t off = (size_t) (fo & 0x1fff) * 8;
	if (more || off) {
		long n = frag_add(s, p->t, 4, p->src, p->dst, be16(buf + 4), proto, off,
		    more != 0, buf + hl, tl - hl);
		if (n <= 0)
			return n < 0 ? -1 : 0;
		return transport(p, proto, s->dgram, (size_t) n);
	}
	return transport(p, proto, buf + hl, tl - hl);
}

static int ipv6(struct umfax_pcapsrc *s, struct umfax_pkt *p, const uint8_t *buf, size_t len)
{
	if (len < 40 || buf[0] >> 4 != 6)
		return -1;
	size_t pl = be16(buf + 4);
	if (40 + pl > len)
		return -1;
	p->ipver = 6;
	memcpy(p->src, buf + 8, 16);
	memcpy(p->dst, buf + 24, 16);
	int nh = buf[6];
	const uint8_t *q = buf + 40;
	size_t rest = pl;
	for (int hops = 0; hops < 16; hops++) {
		if (nh == UMFAX_PKT_UDP || nh == UMFAX_PKT_TCP)
			return transport(p, nh, q, rest);
		if (nh == 0 || nh == 43 || nh == 60 || nh == 51) {
			if (rest < 8)
				return -1;
			size_t el = nh == 51 ? ((size_t) q[1] + 2) * 4 : ((size_t) q[1] + 1) * 8;
			if (el > rest)
				return -1;
			nh = q[0];
			q += el;
			rest -= el;
			continue;
		}
		if (nh == 44) {      /* fragment header */
			if (rest < 8)
				return -1;
			int inner = q[0];
			uint16_t fo = be16(q + 2);
			size_t off = (size_t) (fo >> 3) * 8;
			int more = fo & 1;
			if (inner != UMFAX_PKT_UDP && inner != UMFAX_PKT_TCP)
				return 0;    /* extension headers after a fragment header: not ours */
			if (!more && off == 0)
				return transport(p, inner, q + 8, rest - 8);
			long n = frag_add(s, p->t, 6, p->src, p->dst, be32(q + 4), inner, off,
			    more, q + 8, rest - 8);
			if (n <= 0)
				return n < 0 ? -1 : 0;
			return transport(p, inner, s->dgram, (size_t) n);
		}
		return 0;
	}
	return -1;
}

/* Link layer: find the IP header. */
static int frame(struct umfax_pcapsrc *s, struct umfax_pkt *p, const uint8_t *buf, size_t len)
{
	unsigned type = 0;
	size_t off = 0;

	switch (s->dlt) {
	case DLT_EN10MB:
		if (len < 14)
			return -1;
		type = be16(buf + 12);
		off = 14;
		for (int tags = 0; tags < 4 && (type == 0x8100 || type == 0x88a8 || type == 0x9100); tags++) {
			if (len < off + 4)
				return -1;
			type = be16(buf + off + 2);
			off += 4;
		}
		break;
	case DLT_LINUX_SLL:
		if (len < 16)
			return -1;
		type = be16(buf + 14);
		off = 16;
		break;
	case DLT_LINUX_SLL2:
		if (len < 20)
			return -1;
		type = be16(buf);
		off = 20;
		break;
	case DLT_NULL: case DLT_LOOP: {
		if (len < 4)
			return -1;
		uint32_t af = s->dlt == DLT_LOOP ? be32(buf)
		    : (uint32_t) buf[0] | (uint32_t) buf[1] << 8 | (uint32_t) buf[2] << 16 | (uint32_t) buf[3] << 24;
		if (af > 0xffff)   /* written on the other byte order */
			af = be32(buf);
		type = af == 2 ? 0x0800 : (af == 24 || af == 28 || af == 30) ? 0x86dd : 0;
		off = 4;
		break;
	}
	default:   /* raw IP */
		if (len < 1)
			return -1;
		type = buf[0] >> 4 == 4 ? 0x0800 : buf[0] >> 4 == 6 ? 0x86dd : 0;
		break;
	}
	if (type == 0x0800)
		return ipv4(s, p, buf + off, len - off);
	if (type == 0x86dd)
		return ipv6(s, p, buf + off, len - off);
	return 0;
}

int umfax_pcapsrc_next(struct umfax_pcapsrc *s, struct umfax_pkt *p,
    char *err, size_t errlen)
{
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int rc = pcap_next_ex(s->pc, &h, &data);
		if (rc == PCAP_ERROR_BREAK)
			return 0;
		if (rc != 1) {
			snprintf(err, errlen, "after frame %ld: %s", s->frames,
			    rc == PCAP_ERROR ? pcap_geterr(s->pc) : "read error");
			return -1;
		}
		s->frames++;
		memset(p, 0, sizeof(*p));
		p->frame = s->frames;
		p->t = (double) h->ts.tv_sec + (double) h->ts.tv_usec / 1e6;
		size_t len = h->caplen;
		int r = frame(s, p, data, len);
		if (r == 1)
			return 1;
		if (r < 0)
			s->bad++;
	}
}
