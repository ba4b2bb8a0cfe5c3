/* tpkt_fuzz - TCP reassembly and TPKT framing.  Input: segments, each
 * [seq offset 2 octets][flags 1][len 1][bytes]. */
#include <stdint.h>
#include "tpkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct umfax_tcpstream s;
	umfax_tcpstream_init(&s);
	size_t pos = 0;
	while (pos + 4 <= size) {
		uint32_t seq = 1000u + (uint32_t) (data[pos] << 8 | data[pos + 1]);
		uint8_t flags = data[pos + 2];
		size_t l = data[pos + 3];
		pos += 4;
		if (l > size - pos)
			l = size - pos;
		umfax_tcpstream_add(&s, seq, flags, data + pos, l);
		pos += l;
		for (int guard = 0; guard < 10000 && s.len; guard++) {
			const uint8_t *pl;
			size_t plen, used;
			int k = umfax_tpkt_frame(s.buf, s.len, &pl, &plen, &used);
			if (k == 0)
				break;
			if (k < 0) {
				umfax_tcpstream_consume(&s, 1);
				continue;
			}
			if (used > s.len || pl + plen > s.buf + s.len)
				__builtin_trap();
			umfax_tcpstream_consume(&s, used);
		}
	}
	umfax_tcpstream_release(&s);
	return 0;
}
