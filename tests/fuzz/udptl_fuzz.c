/* udptl_fuzz - UDPTL parsing and the ordering receiver.  The input is a
 * series of datagrams, each prefixed by one length octet. */
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
	uint8_t out[4096];

	if (umfax_udptl_parse(data, size, &p) == 0) {
		long n = umfax_udptl_encode(out, sizeof(out), &p);
		struct umfax_udptl_pkt q;
		if (n < 0 || umfax_udptl_parse(out, (size_t) n, &q) < 0 || q.seq != p.seq ||
		    q.ifp_len != p.ifp_len || memcmp(q.ifp, p.ifp, p.ifp_len))
			__builtin_trap();   /* what parses must encode back the same */
	}
	if (umfax_udptl_rx_init(&rx, data && size ? data[0] % 20 : 2, deliver, NULL) < 0)
		return 0;
	size_t pos = size ? 1 : 0;
	while (pos < size) {
		size_t l = data[pos++];
		if (l > size - pos)
			l = size - pos;
		umfax_udptl_rx_packet(&rx, data + pos, l);
		pos += l;
	}
	umfax_udptl_rx_flush(&rx);
	umfax_udptl_rx_release(&rx);
	return 0;
}
