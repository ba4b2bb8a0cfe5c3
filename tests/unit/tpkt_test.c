/* tpkt_test - TCP stream reassembly and TPKT framing */
#include <stdint.h>
#include <string.h>
#include "t.h"
#include "tpkt.h"

int main(void)
{
	const uint8_t *pl;
	size_t plen, used;
	static const uint8_t f1[] = { 3, 0, 0, 7, 0xaa, 0xbb, 0xcc, 3, 0, 0, 5, 0x11 };

	T_CHECK(umfax_tpkt_frame(f1, sizeof(f1), &pl, &plen, &used) == 1 && plen == 3 && used == 7 && pl[0] == 0xaa, "frame 1");
	T_CHECK(umfax_tpkt_frame(f1 + 7, 5, &pl, &plen, &used) == 1 && plen == 1 && pl[0] == 0x11, "frame 2");
	T_CHECK(umfax_tpkt_frame(f1, 6, &pl, &plen, &used) == 0, "incomplete frame waits");
	T_CHECK(umfax_tpkt_frame(f1, 2, &pl, &plen, &used) == 0, "incomplete header waits");
	static const uint8_t bad1[] = { 4, 0, 0, 7 }, bad2[] = { 3, 1, 0, 7 }, bad3[] = { 3, 0, 0, 4 };
	T_CHECK(umfax_tpkt_frame(bad1, 4, &pl, &plen, &used) < 0, "wrong version");
	T_CHECK(umfax_tpkt_frame(bad2, 4, &pl, &plen, &used) < 0, "reserved octet");
	T_CHECK(umfax_tpkt_frame(bad3, 4, &pl, &plen, &used) < 0, "empty IFP");
	T_CHECK(umfax_tpkt_looks_like(f1, sizeof(f1)) && !umfax_tpkt_looks_like(bad1, 4), "looks like");

	/* stream: SYN, then segments out of order, a retransmission, an overlap */
	struct umfax_tcpstream s;
	umfax_tcpstream_init(&s);
	const uint8_t *msg = (const uint8_t *) "abcdefghijklmnopqrstuvwxyz";
	umfax_tcpstream_add(&s, 1000, 0x02, NULL, 0);
	umfax_tcpstream_add(&s, 1001, 0x10, msg, 5);           /* abcde */
	umfax_tcpstream_add(&s, 1011, 0x10, msg + 10, 5);      /* klmno, early */
	T_CHECK(s.len == 5, "held out of order: %zu", s.len);
	umfax_tcpstream_add(&s, 1001, 0x10, msg, 5);           /* retransmission */
	umfax_tcpstream_add(&s, 1004, 0x10, msg + 3, 8);       /* defghijk: overlap */
	T_CHECK(s.len == 15 && !memcmp(s.buf, msg, 15), "reassembled: %zu", s.len);
	umfax_tcpstream_consume(&s, 10);
	T_CHECK(s.len == 5 && s.buf[0] == 'k', "consume");
	/* sequence wrap */
	umfax_tcpstream_release(&s);
	umfax_tcpstream_add(&s, 0xfffffffe, 0x10, msg, 4);
	umfax_tcpstream_add(&s, 2, 0x10, msg + 4, 2);
	T_CHECK(s.len == 6 && !memcmp(s.buf, msg, 6), "wrap: %zu", s.len);
	/* a hole that never fills is given up once too much is held */
	umfax_tcpstream_release(&s);
	umfax_tcpstream_add(&s, 100, 0x10, msg, 1);
	for (int i = 0; i < UMFAX_TCPSTREAM_MAX_OOO + 1; i++)
		umfax_tcpstream_add(&s, (uint32_t) (102 + i), 0x10, msg + 1, 1);
	T_CHECK(s.gaps == 1 && s.len > 1, "gap given up: gaps %ld len %zu", s.gaps, s.len);
	umfax_tcpstream_release(&s);
	return T_DONE();
}
