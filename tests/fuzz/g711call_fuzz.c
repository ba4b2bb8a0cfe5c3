/* g711call_fuzz - arbitrary bytes as the RTP datagrams of a G.711 call given
 * to the passive decoder.  Input: records of [flags][len hi][len lo][bytes];
 * flags bit 0 is the direction, bits 1-7 the time step in 10 ms.  Pages go
 * to a TIFF under /tmp that is removed after each run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "g711call.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	char path[64];
	struct umfax_g711call *c;
	struct umfax_faxinfo info;
	size_t off = 0;
	double t = 1000.0;

	snprintf(path, sizeof(path), "/tmp/g711call_fuzz.%ld.tif", (long) getpid());
	c = umfax_g711call_new(path);
	if (c == NULL)
		return 0;
	while (off + 3 <= len) {
		int dir = buf[off] & 1;
		size_t n = (size_t) buf[off + 1] << 8 | buf[off + 2];
		uint8_t *copy;

		t += (buf[off] >> 1) * 0.01;
		off += 3;
		if (n > len - off)
			n = len - off;
		copy = malloc(n ? n : 1);
		if (copy == NULL)
			break;
		memcpy(copy, buf + off, n);
		umfax_g711call_packet(c, dir, t, copy, n);
		free(copy);
		off += n;
	}
	umfax_g711call_finish(c, &info);
	if (info.pages < 0 || (info.pages > 0 && info.status == UMFAX_FAX_NO_PAGES))
		abort();
	(void) umfax_g711call_is_fax(c);
	umfax_g711call_free(c);
	unlink(path);
	return 0;
}
