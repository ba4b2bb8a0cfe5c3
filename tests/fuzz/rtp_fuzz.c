/* rtp_fuzz - arbitrary bytes as RTP: the parser on the whole input, then the
 * input cut into datagrams (2-octet length prefix, 1-octet time step in
 * 10 ms) through the reordering timeline.  Checks the parser's payload
 * stays inside the datagram and the timeline's sample count adds up. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtp.h"

static unsigned long long played;

static void out(void *arg, int pt, const uint8_t *data, size_t n)
{
	(void) arg;
	if (data != NULL) {
		volatile uint8_t x = 0;
		size_t i;

		if (pt != UMFAX_RTP_PT_PCMU && pt != UMFAX_RTP_PT_PCMA)
			abort();
		for (i = 0; i < n; i++)
			x ^= data[i];   /* touch every byte: ASan checks the range */
		(void) x;
	}
	played += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct umfax_rtp_hdr h;
	static struct umfax_rtp_rx r;
	size_t off = 0;
	double t = 0.0;

	if (umfax_rtp_parse(buf, len, &h) == 0) {
		if (h.payload < buf || h.payload + h.payload_len > buf + len)
			abort();
	}
	played = 0;
	umfax_rtp_rx_init(&r, out, NULL);
	while (off + 3 <= len) {
		size_t n = (size_t) buf[off] << 8 | buf[off + 1];
		uint8_t *copy;

		t += buf[off + 2] * 0.01;
		off += 3;
		if (n > len - off)
			n = len - off;
		/* An exact-size copy, so reads past the datagram are caught. */
		copy = malloc(n ? n : 1);
		if (copy == NULL)
			return 0;
		memcpy(copy, buf + off, n);
		umfax_rtp_rx_packet(&r, t, copy, n);
		free(copy);
		off += n;
	}
	umfax_rtp_rx_flush(&r);
	if (played != r.st.samples)
		abort();
	return 0;
}
