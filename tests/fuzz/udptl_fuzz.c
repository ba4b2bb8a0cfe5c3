/* udptl_fuzz - UDPTL parsing, the ordering receiver, the IFP length walk
 * and the FEC sender.  The input is a series of datagrams, each prefixed by
 * one length octet; the receiver gets them as they are, the FEC sender
 * takes each as an IFP and what it encodes must parse back. */
#include <stdint.h>
#include <string.h>
#include "udptl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void deliver(void *arg, uint16_t seq, const uint8_t *ifp, size_t len, int lost)
{
	volatile uint8_t x = 0;
	(void) arg; (void) seq;
	if (!lost)
		for (size_t i = 0; i < len; i++)
			x ^= ifp[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct umfax_udptl_pkt p;
	struct umfax_udptl_rx rx;
	static struct umfax_udptl_tx tx;
	uint8_t out[4096];

	if (umfax_udptl_parse(data, size, &p) == 0) {
		long n = umfax_udptl_encode(out, sizeof(out), &p);
		struct umfax_udptl_pkt q;
		if (n < 0 || umfax_udptl_parse(out, (size_t) n, &q) < 0 || q.seq != p.seq ||
		    q.ifp_len != p.ifp_len || memcmp(q.ifp, p.ifp, p.ifp_len))
			__builtin_trap();   /* what parses must encode back the same */
	}
	for (int v = 0; v <= 1; v++)
		if (umfax_udptl_ifp_len(data, size, v) > size)
			__builtin_trap();
	if (umfax_udptl_rx_init(&rx, data && size ? data[0] % 20 : 2, deliver, NULL) < 0)
		return 0;
	if (size)
		rx.t38_version = data[0] % 5 - 1;
	int txok = size > 1 && umfax_udptl_tx_init(&tx, data[1] % 8 + 1, data[1] / 8 % 4 + 1) == 0;
	uint16_t seq = 0;
	size_t pos = size ? 1 : 0;
	while (pos < size) {
		size_t l = data[pos++];
		if (l > size - pos)
			l = size - pos;
		umfax_udptl_rx_packet(&rx, data + pos, l);
		if (txok && l > 0) {
			struct umfax_udptl_pkt tp, q;
			memset(&tp, 0, sizeof(tp));
			tp.seq = seq++;
			tp.ifp = data + pos;
			tp.ifp_len = l;
			umfax_udptl_tx_fec(&tx, &tp, data[pos] % 5);
			long n = umfax_udptl_encode(out, sizeof(out), &tp);
			if (n < 0 || umfax_udptl_parse(out, (size_t) n, &q) < 0 || !q.fec || q.fec_n != tp.fec_n ||
			    q.fec_span != tp.fec_span)
				__builtin_trap();   /* what the FEC sender builds must parse back */
			umfax_udptl_tx_add(&tx, data + pos, l);
		}
		pos += l;
	}
	umfax_udptl_rx_flush(&rx);
	umfax_udptl_rx_release(&rx);
	return 0;
}
