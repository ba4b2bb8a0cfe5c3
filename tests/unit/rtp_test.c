/* rtp_test - the RTP parser (table) and the receive timeline (reordering,
 * duplicates, loss, timestamp gaps, CN, telephone-event, SSRC change). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtp.h"
#include "t.h"

/* ---- parser table ---------------------------------------------------------- */

struct pcase {
	const char *name;
	const uint8_t *pkt;
	size_t len;
	int rc;
	int pt, marker;
	unsigned seq;
	uint32_t ts, ssrc;
	size_t off;        /* payload offset */
	size_t plen;
};

static const uint8_t p_min[] = { 0x80, 0x08, 0x12, 0x34, 0x01, 0x02, 0x03, 0x04, 0xDE, 0xAD, 0xBE, 0xEF, 0xD5, 0xD5 };
static const uint8_t p_marker_u[] = { 0x80, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 0xFF };
static const uint8_t p_v1[] = { 0x40, 0x08, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xD5 };
static const uint8_t p_short[] = { 0x80, 0x08, 0, 1, 0, 0, 0, 0, 0, 0, 0 };
static const uint8_t p_csrc2[] = { 0x82, 0x08, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
	1, 1, 1, 1, 2, 2, 2, 2, 0xAA, 0xBB };
static const uint8_t p_csrc_over[] = { 0x8F, 0x08, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1 };
static const uint8_t p_ext[] = { 0x90, 0x08, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
	0xBE, 0xDE, 0x00, 0x01, 9, 9, 9, 9, 0x55, 0x66, 0x77 };
static const uint8_t p_ext_over[] = { 0x90, 0x08, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
	0xBE, 0xDE, 0x00, 0x02, 9, 9, 9, 9 };
static const uint8_t p_ext_cut[] = { 0x90, 0x08, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xBE, 0xDE };
static const uint8_t p_pad[] = { 0xA0, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x11, 0x22, 0, 0, 0, 3 };
static const uint8_t p_pad0[] = { 0xA0, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x11, 0x00 };
static const uint8_t p_pad_over[] = { 0xA0, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x11, 9 };
static const uint8_t p_pad_all[] = { 0xA0, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2 };
static const uint8_t p_all[] = { 0xB1, 0x0D, 0, 7, 0, 0, 0, 9, 0, 0, 0, 2,
	5, 5, 5, 5, 0x10, 0x00, 0x00, 0x00, 0x42, 0x00, 0x02 };
static const uint8_t p_hdr_only[] = { 0x80, 0x65, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 };

static const struct pcase pcases[] = {
	{ "minimal A-law", p_min, sizeof(p_min), 0, 8, 0, 0x1234, 0x01020304, 0xDEADBEEF, 12, 2 },
	{ "marker, u-law, max values", p_marker_u, sizeof(p_marker_u), 0, 0, 1, 0xFFFF, 0xFFFFFFFF, 1, 12, 1 },
	{ "version 1", p_v1, sizeof(p_v1), -1, 0, 0, 0, 0, 0, 0, 0 },
	{ "11 octets", p_short, sizeof(p_short), -1, 0, 0, 0, 0, 0, 0, 0 },
	{ "two CSRCs", p_csrc2, sizeof(p_csrc2), 0, 8, 0, 1, 0, 1, 20, 2 },
	{ "15 CSRCs overrun", p_csrc_over, sizeof(p_csrc_over), -1, 0, 0, 0, 0, 0, 0, 0 },
	{ "extension, one word", p_ext, sizeof(p_ext), 0, 8, 0, 1, 0, 1, 20, 3 },
	{ "extension overrun", p_ext_over, sizeof(p_ext_over), -1, 0, 0, 0, 0, 0, 0, 0 },
	{ "extension header cut", p_ext_cut, sizeof(p_ext_cut), -1, 0, 0, 0, 0, 0, 0, 0 },
	{ "padding 3", p_pad, sizeof(p_pad), 0, 0, 0, 1, 0, 1, 12, 3 },
	{ "padding count 0", p_pad0, sizeof(p_pad0), -1, 0, 0, 0, 0, 0, 0, 0 },
	{ "padding overrun", p_pad_over, sizeof(p_pad_over), -1, 0, 0, 0, 0, 0, 0, 0 },
	{ "padding is the whole payload", p_pad_all, sizeof(p_pad_all), 0, 0, 0, 1, 0, 1, 12, 0 },
	{ "CN with CSRC, extension, padding", p_all, sizeof(p_all), 0, 13, 0, 7, 9, 2, 20, 1 },
	{ "header only, dynamic PT", p_hdr_only, sizeof(p_hdr_only), 0, 101, 0, 1, 0, 1, 12, 0 },
	{ "NULL", NULL, 0, -1, 0, 0, 0, 0, 0, 0, 0 },
};

static void test_parse(void)
{
	size_t i;

	for (i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
		const struct pcase *c = &pcases[i];
		struct umfax_rtp_hdr h;
		int rc = umfax_rtp_parse(c->pkt, c->len, &h);

		T_CHECK(rc == c->rc, "%s: rc %d", c->name, rc);
		if (rc != 0 || c->rc != 0)
			continue;
		T_CHECK(h.pt == c->pt, "%s: pt %d", c->name, h.pt);
		T_CHECK(h.marker == c->marker, "%s: marker %d", c->name, h.marker);
		T_CHECK(h.seq == c->seq, "%s: seq %u", c->name, h.seq);
		T_CHECK(h.ts == c->ts, "%s: ts %u", c->name, (unsigned) h.ts);
		T_CHECK(h.ssrc == c->ssrc, "%s: ssrc %x", c->name, (unsigned) h.ssrc);
		T_CHECK(h.payload == c->pkt + c->off, "%s: payload offset %td", c->name, h.payload - c->pkt);
		T_CHECK(h.payload_len == c->plen, "%s: payload length %zu", c->name, h.payload_len);
	}
}

/* ---- timeline ---------------------------------------------------------------- */

/* What the timeline played: a string like "A1 A2 S640 U3" (A-law packet
 * with fill byte 1, silence of 640, u-law packet 3), and sample counts. */
struct sink {
	char log[1024];
	size_t samples;
};

static void sink_out(void *arg, int pt, const uint8_t *data, size_t n)
{
	struct sink *s = arg;
	char item[32];

	if (data == NULL)
		snprintf(item, sizeof(item), "%c%zu ", pt == UMFAX_RTP_LOST ? 'L' : pt == UMFAX_RTP_SILENCE ? 'S' : '?', n);
	else
		snprintf(item, sizeof(item), "%c%u%s ", pt == 0 ? 'U' : 'A', data[0],
		    n != 160 ? "*" : "");
	if (strlen(s->log) + strlen(item) < sizeof(s->log))
		strcat(s->log, item);
	s->samples += n;
}

struct pk {
	double t;
	int pt;
	unsigned seq;
	uint32_t ts;
	uint32_t ssrc;
	int fill;          /* payload byte; payload is 160 octets */
};

struct tcase {
	const char *name;
	struct pk pkts[16];
	int npkts;
	const char *want;
	unsigned long dups, lost, skipped;
};

#define SS 0x11223344u

static const struct tcase tcases[] = {
	{ "in order", { { 0.00, 8, 1, 0, SS, 1 }, { 0.02, 8, 2, 160, SS, 2 }, { 0.04, 8, 3, 320, SS, 3 } }, 3,
	  "A1 A2 A3 ", 0, 0, 0 },
	{ "swapped pair", { { 0.00, 8, 1, 0, SS, 1 }, { 0.02, 8, 3, 320, SS, 3 }, { 0.04, 8, 2, 160, SS, 2 },
	  { 0.06, 8, 4, 480, SS, 4 } }, 4, "A1 A2 A3 A4 ", 0, 0, 0 },
	{ "duplicate and late", { { 0.00, 8, 1, 0, SS, 1 }, { 0.02, 8, 2, 160, SS, 2 }, { 0.03, 8, 2, 160, SS, 2 },
	  { 0.04, 8, 3, 320, SS, 3 }, { 0.05, 8, 1, 0, SS, 1 } }, 5, "A1 A2 A3 ", 2, 0, 0 },
	{ "timestamp gap (VAD)", { { 0.00, 8, 1, 0, SS, 1 }, { 0.10, 8, 2, 800, SS, 2 } }, 2,
	  "A1 S640 A2 ", 0, 0, 0 },
	{ "CN then audio after a second", { { 0.00, 8, 1, 0, SS, 1 }, { 0.02, 13, 2, 160, SS, 9 },
	  { 1.00, 8, 3, 8000, SS, 3 } }, 3, "A1 S7840 A3 ", 0, 0, 1 },
	{ "telephone-event skipped", { { 0.00, 0, 1, 0, SS, 1 }, { 0.01, 101, 2, 160, SS, 7 },
	  { 0.02, 0, 3, 160, SS, 3 } }, 3, "U1 U3 ", 0, 0, 1 },
	{ "SSRC change: gap from the capture clock", { { 0.00, 8, 1, 0, SS, 1 },
	  { 1.02, 8, 500, 123456, 0x99, 2 } }, 2, "A1 S8000 A2 ", 0, 0, 0 },
	{ "timestamp reset, same SSRC", { { 0.00, 8, 1, 100000, SS, 1 }, { 0.02, 8, 2, 0, SS, 2 },
	  { 0.04, 8, 3, 160, SS, 3 } }, 3, "A1 A2 A3 ", 0, 0, 0 },
	{ "huge timestamp jump bounded by the capture clock", { { 0.00, 8, 1, 0, SS, 1 },
	  { 0.02, 8, 2, 8000000, SS, 2 } }, 2, "A1 A2 ", 0, 0, 0 },
	{ "lost packet, window fills", { { 0.00, 8, 1, 0, SS, 1 }, { 0.04, 8, 3, 320, SS, 3 },
	  { 0.06, 8, 4, 480, SS, 4 }, { 0.08, 8, 5, 640, SS, 5 }, { 0.10, 8, 6, 800, SS, 6 },
	  { 0.12, 8, 7, 960, SS, 7 }, { 0.14, 8, 8, 1120, SS, 8 }, { 0.16, 8, 9, 1280, SS, 9 },
	  { 0.18, 8, 10, 1440, SS, 10 } }, 9, "A1 L160 A3 A4 A5 A6 A7 A8 A9 A10 ", 0, 1, 0 },
	{ "loss at the end: flush", { { 0.00, 8, 1, 0, SS, 1 }, { 0.04, 8, 3, 320, SS, 3 } }, 2,
	  "A1 L160 A3 ", 0, 1, 0 },
	{ "loss inside a pause: lost part, then silence", { { 0.00, 8, 1, 0, SS, 1 }, { 0.02, 8, 2, 160, SS, 2 },
	  { 1.00, 8, 4, 8000, SS, 4 } }, 3, "A1 A2 L160 S7520 A4 ", 0, 1, 0 },
	{ "SSRC change after a loss: the gap is a pause", { { 0.00, 8, 1, 0, SS, 1 }, { 0.04, 8, 3, 320, SS, 3 },
	  { 0.50, 8, 9, 77, 0x55, 9 } }, 3, "A1 L160 A3 S3520 A9 ", 0, 1, 0 },
	{ "sequence wrap", { { 0.00, 8, 65535, 0, SS, 1 }, { 0.02, 8, 0, 160, SS, 2 }, { 0.04, 8, 1, 320, SS, 3 } }, 3,
	  "A1 A2 A3 ", 0, 0, 0 },
	{ "overlapping timestamps trimmed", { { 0.00, 8, 1, 0, SS, 1 }, { 0.02, 8, 2, 80, SS, 2 } }, 2,
	  "A1 A2* ", 0, 0, 0 },
};

static void test_timeline(void)
{
	size_t i;
	int k;

	for (i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++) {
		const struct tcase *c = &tcases[i];
		struct umfax_rtp_rx *r = malloc(sizeof(*r));
		struct sink s;

		memset(&s, 0, sizeof(s));
		umfax_rtp_rx_init(r, sink_out, &s);
		for (k = 0; k < c->npkts; k++) {
			uint8_t pkt[12 + 160];
			const struct pk *p = &c->pkts[k];

			pkt[0] = 0x80;
			pkt[1] = (uint8_t) p->pt;
			pkt[2] = (uint8_t) (p->seq >> 8);
			pkt[3] = (uint8_t) p->seq;
			pkt[4] = (uint8_t) (p->ts >> 24);
			pkt[5] = (uint8_t) (p->ts >> 16);
			pkt[6] = (uint8_t) (p->ts >> 8);
			pkt[7] = (uint8_t) p->ts;
			pkt[8] = (uint8_t) (p->ssrc >> 24);
			pkt[9] = (uint8_t) (p->ssrc >> 16);
			pkt[10] = (uint8_t) (p->ssrc >> 8);
			pkt[11] = (uint8_t) p->ssrc;
			memset(pkt + 12, p->fill, 160);
			T_CHECK(umfax_rtp_rx_packet(r, p->t, pkt, sizeof(pkt)) == 0, "%s: packet %d", c->name, k);
		}
		umfax_rtp_rx_flush(r);
		T_STREQ(s.log, c->want, "%s", c->name);
		T_CHECK(r->st.dups == c->dups, "%s: dups %lu", c->name, r->st.dups);
		T_CHECK(r->st.lost == c->lost, "%s: lost %lu", c->name, r->st.lost);
		T_CHECK(r->st.skipped == c->skipped, "%s: skipped %lu", c->name, r->st.skipped);
		T_CHECK(r->st.samples == s.samples, "%s: samples %llu vs %zu", c->name, r->st.samples, s.samples);
		free(r);
	}
}

static void test_not_rtp(void)
{
	struct umfax_rtp_rx r;
	struct sink s;
	static const uint8_t junk[] = "INVITE sip:x SIP/2.0\r\n";

	memset(&s, 0, sizeof(s));
	umfax_rtp_rx_init(&r, sink_out, &s);
	T_CHECK(umfax_rtp_rx_packet(&r, 0.0, junk, sizeof(junk) - 1) == -1, "SIP text is not RTP");
	T_CHECK(umfax_rtp_rx_packet(&r, 0.0, p_v1, sizeof(p_v1)) == -1, "version 1 is not RTP");
	T_CHECK(r.st.not_rtp == 2 && s.samples == 0, "nothing played");
}

int main(void)
{
	test_parse();
	test_timeline();
	test_not_rtp();
	return T_DONE();
}
