/* udptl_test - UDPTL packets and the ordering receiver */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "udptl.h"

/* IFP number K of a test stream: 1..40 octets, content derived from K. */
static size_t ifp_of(int k, uint8_t *buf)
{
	size_t n = (size_t) (k * 7 % 40) + 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t) (k * 31 + (int) i * 5 + 1);
	return n;
}

struct got {
	int n;
	uint16_t seq[400];
	int lost[400];
	int ok[400];
	int nz;           /* the stream's IFPs never end in 0 (ifp_nz) */
};

static void deliver(void *arg, uint16_t seq, const uint8_t *ifp, size_t len, int lost)
{
	struct got *g = arg;
	uint8_t want[64];
	if (g->n >= 400)
		return;
	g->seq[g->n] = seq;
	g->lost[g->n] = lost;
	size_t wl = ifp_of(seq, want);
	if (g->nz && want[wl - 1] == 0)
		want[wl - 1] = 0x5a;
	g->ok[g->n] = lost || (len == wl && !memcmp(ifp, want, len));
	g->n++;
}

/* Packet with seq S and NSEC secondaries (redundancy). */
static long make_red(uint8_t *out, size_t n, int s, int nsec)
{
	uint8_t p[64], sec[UMFAX_UDPTL_MAX_SEC][64];
	struct umfax_udptl_pkt pk;
	memset(&pk, 0, sizeof(pk));
	pk.seq = (uint16_t) s;
	pk.ifp = p;
	pk.ifp_len = ifp_of(s, p);
	for (int i = 0; i < nsec && s - 1 - i >= 0; i++) {
		pk.sec[i] = sec[i];
		pk.sec_len[i] = ifp_of(s - 1 - i, sec[i]);
		pk.nsec = i + 1;
	}
	return umfax_udptl_encode(out, n, &pk);
}

/* Packet with seq S carrying FEC: SPAN x ENTRIES over the packets before it. */
static long make_fec(uint8_t *out, size_t n, int s, int span, int entries)
{
	uint8_t p[64], fec[UMFAX_UDPTL_MAX_SEC][64];
	struct umfax_udptl_pkt pk;
	memset(&pk, 0, sizeof(pk));
	pk.seq = (uint16_t) s;
	pk.ifp = p;
	pk.ifp_len = ifp_of(s, p);
	pk.fec = 1;
	if (s >= span * entries) {
		pk.fec_span = span;
		pk.fec_n = entries;
		for (int m = 0; m < entries; m++) {
			size_t hl = 0;
			memset(fec[m], 0, 64);
			for (int k = s + m - span * entries; k < s + m; k += entries) {
				uint8_t b[64];
				size_t bl = ifp_of(k, b);
				for (size_t j = 0; j < bl; j++)
					fec[m][j] ^= b[j];
				if (bl > hl)
					hl = bl;
			}
			pk.fec_data[m] = fec[m];
			pk.fec_len[m] = hl;
		}
	}
	return umfax_udptl_encode(out, n, &pk);
}

/* A T.38 IFP as spandsp writes it for version V (0 or 1): K picks an
 * indicator (no-signal is the single octet 0x00) or V.17 data with an HDLC
 * data field ending in zeros, maybe followed by hdlc-fcs-OK without data. */
static size_t real_ifp(int k, int v, uint8_t *b)
{
	size_t n = 0;
	switch (k % 4) {
	case 0:
		b[n++] = 0x00;                           /* no-signal */
		break;
	case 1:
		b[n++] = (uint8_t) (7 << 1);             /* v17-14400 training */
		break;
	default: {
		size_t dl = (size_t) (k * 5 % 37) + 1;
		b[n++] = (uint8_t) (0x80 | 0x40 | 9 << 1);   /* data v17-14400 */
		b[n++] = k % 4 == 3 ? 2 : 1;                 /* fields */
		b[n++] = v == 0 ? 0x80 | 0 << 4 : 0x80 | 0 << 3;  /* hdlc-data, data present */
		b[n++] = (uint8_t) ((dl - 1) >> 8);
		b[n++] = (uint8_t) (dl - 1);
		for (size_t i = 0; i < dl; i++)
			b[n++] = i + 2 >= dl ? 0 : (uint8_t) (k + (int) i + 1);   /* ends in 00 00 */
		if (k % 4 == 3)
			b[n++] = v == 0 ? 2 << 4 : 2 << 3;   /* hdlc-fcs-OK, no data */
		break;
	}
	}
	return n;
}

struct rgot {
	int n, bad, lost, v;
};

static void rdeliver(void *arg, uint16_t seq, const uint8_t *ifp, size_t len, int lost)
{
	struct rgot *g = arg;
	uint8_t want[64];
	size_t wl = real_ifp(seq, g->v, want);
	g->n++;
	if (lost)
		g->lost++;
	else if (len != wl || memcmp(ifp, want, len))
		g->bad++;
}

/* A FEC stream of real IFPs of version V, one in 6 lost, into a receiver
 * that knows the version RV (-1 unknown).  Returns IFPs delivered wrong. */
static int real_fec_stream(int v, int rv, struct rgot *g, long *from_fec)
{
	static struct umfax_udptl_tx tx;
	struct umfax_udptl_rx rx;
	uint8_t buf[512];
	memset(g, 0, sizeof(*g));
	g->v = v;
	umfax_udptl_tx_init(&tx, 3, 3);
	umfax_udptl_rx_init(&rx, 2, rdeliver, g);
	rx.t38_version = rv;
	for (int s = 0; s < 240; s++) {
		uint8_t ifp[64];
		struct umfax_udptl_pkt pk;
		memset(&pk, 0, sizeof(pk));
		pk.seq = (uint16_t) s;
		pk.ifp = ifp;
		pk.ifp_len = real_ifp(s, v, ifp);
		umfax_udptl_tx_fec(&tx, &pk, 3);
		long n = umfax_udptl_encode(buf, sizeof(buf), &pk);
		umfax_udptl_tx_add(&tx, ifp, pk.ifp_len);
		if (s % 6 == 4 && s < 220)
			continue;
		umfax_udptl_rx_packet(&rx, buf, (size_t) n);
	}
	umfax_udptl_rx_flush(&rx);
	*from_fec = rx.from_fec;
	umfax_udptl_rx_release(&rx);
	return g->bad;
}

static int all_ok(const struct got *g, int from, int to, int *lost)
{
	int i = 0;
	*lost = 0;
	for (int s = from; s <= to; s++, i++) {
		if (i >= g->n || g->seq[i] != s || !g->ok[i])
			return 0;
		*lost += g->lost[i];
	}
	return i == g->n;
}

int main(void)
{
	uint8_t buf[2048];
	struct umfax_udptl_pkt p;
	struct umfax_udptl_rx rx;
	struct got g;
	int lost;

	/* 1. parse: a packet from the improcom capture form: seq 5, IFP 2 octets, 0 secondaries */
	static const uint8_t one[] = { 0x00, 0x05, 0x02, 0x00, 0x20, 0x00, 0x00 };
	T_CHECK(umfax_udptl_parse(one, sizeof(one), &p) == 0, "minimal packet");
	T_CHECK(p.seq == 5 && p.ifp_len == 2 && p.ifp[1] == 0x20 && p.nsec == 0 && !p.fec, "fields");
	T_CHECK(umfax_udptl_parse(one, sizeof(one) - 1, &p) < 0, "truncated");
	uint8_t longer[sizeof(one) + 1];
	memcpy(longer, one, sizeof(one));
	longer[sizeof(one)] = 0;
	T_CHECK(umfax_udptl_parse(longer, sizeof(longer), &p) < 0, "trailing byte refused (RTP on the port)");
	static const uint8_t rtp[] = { 0x80, 0x00, 0x12, 0x34, 0, 0, 0, 160, 1, 2, 3, 4, 0xff, 0xff };
	T_CHECK(umfax_udptl_parse(rtp, sizeof(rtp), &p) < 0, "an RTP header is not UDPTL");
	static const uint8_t badchoice[] = { 0x00, 0x05, 0x01, 0x00, 0x40 };
	T_CHECK(umfax_udptl_parse(badchoice, sizeof(badchoice), &p) < 0, "bad error-recovery choice");
	static const uint8_t frag[] = { 0x00, 0x05, 0xc1, 0x00 };
	T_CHECK(umfax_udptl_parse(frag, sizeof(frag), &p) < 0, "fragmented length refused");
	T_CHECK(umfax_udptl_parse(NULL, 0, &p) < 0, "empty");

	/* 2. encode/parse round trip, redundancy and FEC, 2-octet lengths */
	long n = make_red(buf, sizeof(buf), 10, 3);
	T_CHECK(n > 0 && umfax_udptl_parse(buf, (size_t) n, &p) == 0 && p.seq == 10 && p.nsec == 3, "red round trip");
	uint8_t big[300];
	memset(big, 0xab, sizeof(big));
	struct umfax_udptl_pkt bp = { .seq = 65535, .ifp = big, .ifp_len = sizeof(big) };
	n = umfax_udptl_encode(buf, sizeof(buf), &bp);
	T_CHECK(n == 2 + 2 + 300 + 2, "2-octet length: %ld", n);
	T_CHECK(umfax_udptl_parse(buf, (size_t) n, &p) == 0 && p.ifp_len == 300 && p.seq == 65535, "big IFP");
	T_CHECK(umfax_udptl_encode(buf, 10, &bp) < 0, "encode refuses a small buffer");
	n = make_fec(buf, sizeof(buf), 20, 3, 2);
	T_CHECK(n > 0 && umfax_udptl_parse(buf, (size_t) n, &p) == 0 && p.fec && p.fec_span == 3 && p.fec_n == 2, "fec round trip");

	/* 3. in order, every 5th lost, redundancy 2: all recovered */
	memset(&g, 0, sizeof(g));
	umfax_udptl_rx_init(&rx, 2, deliver, &g);
	for (int s = 0; s < 100; s++) {
		if (s % 5 == 3)
			continue;
		n = make_red(buf, sizeof(buf), s, 2);
		umfax_udptl_rx_packet(&rx, buf, (size_t) n);
	}
	umfax_udptl_rx_flush(&rx);
	T_CHECK(all_ok(&g, 0, 99, &lost) && lost == 0, "redundancy: %d delivered, %d lost", g.n, lost);
	T_CHECK(rx.from_red == 20, "from redundancy %ld", rx.from_red);
	umfax_udptl_rx_release(&rx);

	/* 4. reordered (swap pairs) and duplicated, no redundancy: hold puts them in order */
	memset(&g, 0, sizeof(g));
	umfax_udptl_rx_init(&rx, 2, deliver, &g);
	for (int s = 0; s < 60; s++) {
		int x = s % 10 == 4 ? s + 1 : s % 10 == 5 ? s - 1 : s;
		n = make_red(buf, sizeof(buf), x, 0);
		umfax_udptl_rx_packet(&rx, buf, (size_t) n);
		if (s % 7 == 0)
			umfax_udptl_rx_packet(&rx, buf, (size_t) n);
	}
	umfax_udptl_rx_flush(&rx);
	T_CHECK(all_ok(&g, 0, 59, &lost) && lost == 0, "reorder+dup: %d delivered, %d lost", g.n, lost);
	T_CHECK(rx.dups + rx.late == 9, "duplicates %ld + late %ld", rx.dups, rx.late);
	umfax_udptl_rx_release(&rx);

	/* 5. a real loss without redundancy is reported as lost, once */
	memset(&g, 0, sizeof(g));
	umfax_udptl_rx_init(&rx, 2, deliver, &g);
	for (int s = 0; s < 30; s++) {
		if (s == 17)
			continue;
		n = make_red(buf, sizeof(buf), s, 0);
		umfax_udptl_rx_packet(&rx, buf, (size_t) n);
	}
	umfax_udptl_rx_flush(&rx);
	T_CHECK(all_ok(&g, 0, 29, &lost) && lost == 1 && g.lost[17], "lost reported: %d", lost);
	umfax_udptl_rx_release(&rx);

	/* 6. FEC (span 3, 2 entries): one loss in 8 repaired */
	memset(&g, 0, sizeof(g));
	umfax_udptl_rx_init(&rx, 2, deliver, &g);   /* FEC raises the hold itself */
	for (int s = 0; s < 80; s++) {
		if (s % 8 == 5 && s > 8 && s < 70)
			continue;
		n = make_fec(buf, sizeof(buf), s, 3, 2);
		umfax_udptl_rx_packet(&rx, buf, (size_t) n);
	}
	umfax_udptl_rx_flush(&rx);
	T_CHECK(all_ok(&g, 0, 79, &lost) && lost == 0, "fec: %d delivered, %d lost, %ld repaired", g.n, lost, rx.from_fec);
	umfax_udptl_rx_release(&rx);

	/* 6b. our FEC sender (span 3, 3 entries): the encoded entries are the
	 * XOR of the right earlier IFPs, the first packets wind up, and the
	 * receiver repairs one packet in 7 lost from them */
	{
		static struct umfax_udptl_tx tx;
		T_CHECK(umfax_udptl_tx_init(&tx, 3, 11) < 0, "span*entries beyond the ring refused");
		T_CHECK(umfax_udptl_tx_init(&tx, 0, 3) < 0, "span 0 refused");
		T_CHECK(umfax_udptl_tx_init(&tx, 3, 3) == 0, "tx init");
		memset(&g, 0, sizeof(g));
		g.nz = 1;
		umfax_udptl_rx_init(&rx, 2, deliver, &g);
		int shape_ok = 1, parity_ok = 1, rt_ok = 1;
		for (int s = 0; s < 300; s++) {
			uint8_t ifp[64];
			struct umfax_udptl_pkt pk, q;
			memset(&pk, 0, sizeof(pk));
			pk.seq = (uint16_t) s;
			pk.ifp = ifp;
			pk.ifp_len = ifp_of(s, ifp);
			if (ifp[pk.ifp_len - 1] == 0)      /* not T.38 IFPs: a repaired one ends where the parity's zero tail begins */
				ifp[pk.ifp_len - 1] = 0x5a;
			umfax_udptl_tx_fec(&tx, &pk, 3);
			int want = s < 9 ? s / 3 : 3;
			if (pk.fec_n != want || (want && pk.fec_span != 3))
				shape_ok = 0;
			n = umfax_udptl_encode(buf, sizeof(buf), &pk);
			if (n <= 0 || umfax_udptl_parse(buf, (size_t) n, &q) < 0 || !q.fec || q.fec_n != pk.fec_n ||
			    q.fec_span != pk.fec_span || q.seq != s)
				rt_ok = 0;
			/* entry m: XOR of packets s+m-9, s+m-6, s+m-3 */
			for (int m = 0; rt_ok && m < q.fec_n; m++) {
				uint8_t x[64] = { 0 };
				size_t hl = 0;
				for (int k = s + m - 3 * q.fec_n; k < s + m; k += q.fec_n) {
					uint8_t b[64];
					size_t bl = ifp_of(k, b);
					if (b[bl - 1] == 0)
						b[bl - 1] = 0x5a;
					for (size_t j = 0; j < bl; j++)
						x[j] ^= b[j];
					if (bl > hl)
						hl = bl;
				}
				if (q.fec_len[m] != hl || memcmp(q.fec_data[m], x, hl))
					parity_ok = 0;
			}
			umfax_udptl_tx_add(&tx, ifp, pk.ifp_len);
			if (s % 7 == 3 && s < 280)
				continue;                           /* lost */
			umfax_udptl_rx_packet(&rx, buf, (size_t) n);
		}
		umfax_udptl_rx_flush(&rx);
		T_CHECK(shape_ok, "FEC winds up: 0, 1, 2 entries, then 3");
		T_CHECK(rt_ok, "FEC encode -> parse round trip");
		T_CHECK(parity_ok, "FEC entries are the XOR of the covered IFPs");
		T_CHECK(all_ok(&g, 0, 299, &lost) && lost == 0 && rx.from_fec == 40, "tx FEC -> rx: %d delivered, %d lost, %ld from FEC",
		    g.n, lost, rx.from_fec);
		umfax_udptl_rx_release(&rx);
	}

	/* 6c. the length of a repaired IFP comes from its structure, not from
	 * the parity's length or its zeros */
	{
		uint8_t b[80];
		size_t l;
		for (int v = 0; v <= 1; v++)
			for (int k = 0; k < 8; k++) {
				memset(b, 0, sizeof(b));
				l = real_ifp(k, v, b);
				T_CHECK(umfax_udptl_ifp_len(b, sizeof(b), v) == l, "IFP %d v%d: length %zu", k, v, l);
				T_CHECK(l < 2 || umfax_udptl_ifp_len(b, l - 1, v) == 0, "IFP %d v%d cut short: no length", k, v);
				b[sizeof(b) - 1] = 1;
				T_CHECK(umfax_udptl_ifp_len(b, sizeof(b), v) == 0, "IFP %d v%d with junk after it: no length", k, v);
			}
		static const uint8_t packed[] = { 0xc0 | 9 << 1, 2, 0x12, 0 };  /* v0: two fields without data in one octet */
		T_CHECK(umfax_udptl_ifp_len(packed, sizeof(packed), 0) == 3, "v0 half-octet field types");
		struct rgot rg;
		long ff;
		T_CHECK(real_fec_stream(1, 1, &rg, &ff) == 0 && rg.n == 240 && rg.lost == 0 && ff == 36,
		    "FEC repairs IFPs ending in zeros exactly (v1): %d wrong, %d lost, %ld from FEC", rg.bad, rg.lost, ff);
		T_CHECK(real_fec_stream(0, 0, &rg, &ff) == 0 && rg.n == 240 && rg.lost == 0 && ff == 36,
		    "the same for version 0: %d wrong, %d lost, %ld from FEC", rg.bad, rg.lost, ff);
		T_CHECK(real_fec_stream(1, -1, &rg, &ff) == 0 && rg.n == 240 && rg.lost == 0,
		    "version unknown: %d wrong, %d lost", rg.bad, rg.lost);
	}

	/* 7. sequence numbers wrap at 65535 */
	memset(&g, 0, sizeof(g));
	umfax_udptl_rx_init(&rx, 2, deliver, &g);
	for (int s = 65530; s < 65540; s++) {
		n = make_red(buf, sizeof(buf), s & 0xffff, 0);
		umfax_udptl_rx_packet(&rx, buf, (size_t) n);
	}
	umfax_udptl_rx_flush(&rx);
	T_CHECK(g.n == 10 && g.seq[9] == 3 && rx.restarts == 0, "wrap: %d delivered, last %u", g.n, g.seq[g.n ? g.n - 1 : 0]);
	umfax_udptl_rx_release(&rx);

	/* 8. garbage is counted, never delivered */
	memset(&g, 0, sizeof(g));
	umfax_udptl_rx_init(&rx, 2, deliver, &g);
	srand(7);
	for (int i = 0; i < 2000; i++) {
		size_t l = (size_t) (rand() % 64);
		for (size_t j = 0; j < l; j++)
			buf[j] = (uint8_t) rand();
		umfax_udptl_rx_packet(&rx, buf, l);
	}
	umfax_udptl_rx_flush(&rx);
	T_CHECK(rx.bad + rx.packets == 2000, "garbage counted");
	umfax_udptl_rx_release(&rx);
	return T_DONE();
}
