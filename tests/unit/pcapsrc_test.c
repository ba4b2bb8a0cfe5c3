/* pcapsrc_test - link layers, IPv4/IPv6, fragments, truncation, from memory */
#include <stdint.h>
#include <string.h>
#include "t.h"
#include "pcapsrc.h"

static uint8_t cap[65536];
static size_t clen;

static void put32le(uint32_t v) { for (int i = 0; i < 4; i++) cap[clen++] = (uint8_t) (v >> (8 * i)); }
static void put16le(uint16_t v) { cap[clen++] = (uint8_t) v; cap[clen++] = (uint8_t) (v >> 8); }

static void header(uint32_t linktype)
{
	clen = 0;
	put32le(0xa1b2c3d4); put16le(2); put16le(4); put32le(0); put32le(0); put32le(65535); put32le(linktype);
}

static void record(const uint8_t *f, size_t caplen, size_t origlen, uint32_t sec)
{
	put32le(sec); put32le(500000); put32le((uint32_t) caplen); put32le((uint32_t) origlen);
	memcpy(cap + clen, f, caplen);
	clen += caplen;
}

/* IPv4 header + UDP at P; returns length.  FRAG: offset in 8-octet units | MF<<13 */
static size_t ipv4_udp(uint8_t *p, uint16_t fragfield, const uint8_t *pl, size_t plen, int with_udp, size_t udp_total)
{
	size_t hl = 20, l = (with_udp ? 8 : 0) + plen;
	memset(p, 0, hl);
	p[0] = 0x45; p[2] = (uint8_t) ((hl + l) >> 8); p[3] = (uint8_t) (hl + l);
	p[4] = 0x12; p[5] = 0x34; p[6] = (uint8_t) (fragfield >> 8); p[7] = (uint8_t) fragfield;
	p[8] = 64; p[9] = 17;
	p[12] = 192; p[13] = 0; p[14] = 2; p[15] = 1; p[16] = 198; p[17] = 51; p[18] = 100; p[19] = 2;
	size_t o = hl;
	if (with_udp) {
		p[o] = 0x75; p[o + 1] = 0x30; p[o + 2] = 0x9c; p[o + 3] = 0x40;    /* 30000 -> 40000 */
		p[o + 4] = (uint8_t) (udp_total >> 8); p[o + 5] = (uint8_t) udp_total; p[o + 6] = 0; p[o + 7] = 0;
		o += 8;
	}
	memcpy(p + o, pl, plen);
	return o + plen;
}

int main(void)
{
	uint8_t f[4096], pl[1000];
	struct umfax_pkt p;
	char err[256], a[64];
	for (int i = 0; i < 1000; i++)
		pl[i] = (uint8_t) i;

	/* Ethernet with a VLAN tag, IPv4/UDP; a truncated snapshot; an ARP frame */
	header(1);
	memset(f, 0, 18);
	f[12] = 0x81; f[13] = 0x00; f[16] = 0x08; f[17] = 0x00;
	size_t n = 18 + ipv4_udp(f + 18, 0, pl, 10, 1, 18);
	record(f, n, n, 100);
	record(f, n - 4, n, 101);          /* caplen < len: skipped */
	uint8_t arp[42] = { 0 };
	arp[12] = 0x08; arp[13] = 0x06;
	record(arp, sizeof(arp), sizeof(arp), 102);
	struct umfax_pcapsrc *s = umfax_pcapsrc_open_mem(cap, clen, err, sizeof(err));
	T_CHECK(s != NULL, "open: %s", err);
	if (s) {
		T_CHECK(umfax_pcapsrc_next(s, &p, err, sizeof(err)) == 1, "vlan packet");
		T_CHECK(p.proto == UMFAX_PKT_UDP && p.sport == 30000 && p.dport == 40000 && p.len == 10 &&
		    p.data[9] == 9 && p.ipver == 4 && p.t > 100.4 && p.t < 100.6, "vlan udp fields");
		T_STREQ(umfax_pcapsrc_addr(a, sizeof(a), 4, p.src), "192.0.2.1", "src addr");
		T_CHECK(umfax_pcapsrc_next(s, &p, err, sizeof(err)) == 0, "truncated and ARP skipped, end");
		T_CHECK(umfax_pcapsrc_bad(s) == 1 && umfax_pcapsrc_frames(s) == 3, "counted: bad %ld frames %ld",
		    umfax_pcapsrc_bad(s), umfax_pcapsrc_frames(s));
		umfax_pcapsrc_close(s);
	}

	/* raw IP, IPv4 fragments out of order: 3 fragments of a 600-octet UDP payload */
	header(101);
	size_t total = 8 + 600;
	uint8_t whole[700];
	whole[0] = 0x75; whole[1] = 0x30; whole[2] = 0x9c; whole[3] = 0x40;
	whole[4] = (uint8_t) (total >> 8); whole[5] = (uint8_t) total; whole[6] = 0; whole[7] = 0;
	memcpy(whole + 8, pl, 600);
	n = ipv4_udp(f, (uint16_t) (256 / 8), whole + 256, 256, 0, 0);        /* middle, MF */
	f[6] |= 0x20;
	record(f, n, n, 200);
	n = ipv4_udp(f, (uint16_t) (512 / 8), whole + 512, total - 512, 0, 0); /* last */
	record(f, n, n, 200);
	n = ipv4_udp(f, 0x2000, whole, 256, 0, 0);                              /* first, MF */
	record(f, n, n, 200);
	s = umfax_pcapsrc_open_mem(cap, clen, err, sizeof(err));
	T_CHECK(s != NULL, "open raw: %s", err);
	if (s) {
		T_CHECK(umfax_pcapsrc_next(s, &p, err, sizeof(err)) == 1 && p.len == 600 && !memcmp(p.data, pl, 600),
		    "reassembled: %zu", p.len);
		umfax_pcapsrc_close(s);
	}

	/* Linux cooked, IPv6 with a destination-options header, then UDP */
	header(113);
	memset(f, 0, 16);
	f[14] = 0x86; f[15] = 0xdd;
	uint8_t *ip6 = f + 16;
	memset(ip6, 0, 40);
	ip6[0] = 0x60; ip6[4] = 0; ip6[5] = 8 + 8 + 4; ip6[6] = 60; ip6[7] = 64;
	ip6[8] = 0x20; ip6[9] = 0x01; ip6[10] = 0x0d; ip6[11] = 0xb8; ip6[23] = 1;
	ip6[24] = 0x20; ip6[25] = 0x01; ip6[26] = 0x0d; ip6[27] = 0xb8; ip6[39] = 2;
	uint8_t *ext = ip6 + 40;
	memset(ext, 0, 8);
	ext[0] = 17;
	uint8_t *udp = ext + 8;
	udp[0] = 0x13; udp[1] = 0xc4; udp[2] = 0x13; udp[3] = 0xc4; udp[4] = 0; udp[5] = 12; udp[6] = 0; udp[7] = 0;
	memcpy(udp + 8, "SIP/", 4);
	n = 16 + 40 + 8 + 12;
	record(f, n, n, 300);
	s = umfax_pcapsrc_open_mem(cap, clen, err, sizeof(err));
	T_CHECK(s != NULL, "open sll: %s", err);
	if (s) {
		T_CHECK(umfax_pcapsrc_next(s, &p, err, sizeof(err)) == 1 && p.ipver == 6 && p.sport == 5060 &&
		    p.len == 4 && !memcmp(p.data, "SIP/", 4), "ipv6 ext hdr udp");
		T_STREQ(umfax_pcapsrc_addr(a, sizeof(a), 6, p.dst), "2001:db8::2", "v6 addr");
		umfax_pcapsrc_close(s);
	}

	/* a capture cut inside a record: what came before is kept, then an error */
	header(101);
	n = ipv4_udp(f, 0, pl, 10, 1, 18);
	record(f, n, n, 400);
	record(f, n, n, 401);
	clen -= 5;
	s = umfax_pcapsrc_open_mem(cap, clen, err, sizeof(err));
	if (s) {
		T_CHECK(umfax_pcapsrc_next(s, &p, err, sizeof(err)) == 1, "first record kept");
		T_CHECK(umfax_pcapsrc_next(s, &p, err, sizeof(err)) == -1 && err[0], "cut record: error");
		umfax_pcapsrc_close(s);
	}
	T_CHECK(umfax_pcapsrc_open_mem("garbage garbage garbage", 23, err, sizeof(err)) == NULL && err[0], "garbage refused");
	T_CHECK(umfax_pcapsrc_open("/nonexistent/x.pcap", err, sizeof(err)) == NULL, "missing file");
	uint8_t addr[16];
	T_CHECK(umfax_pcapsrc_parse_addr("2001:db8::1", addr) == 6 && umfax_pcapsrc_parse_addr("1.2.3.4", addr) == 4 &&
	    umfax_pcapsrc_parse_addr("x", addr) == 0, "parse addr");
	return T_DONE();
}
