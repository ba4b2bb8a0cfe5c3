/* pcap_fuzz - the whole offline path: a capture from memory through pcapsrc,
 * SIP/SDP following, UDPTL/TPKT and the spandsp decoder. */
#include <stdint.h>
#include <stdlib.h>
#include "log.h"
#include "t38replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(void *arg, const struct umfax_replay_fax *fx)
{
	(*(int *) arg) += fx->info.pages >= 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		setenv("UMFAX_LOG_STDERR", "0", 1);
		setenv("UMFAX_LOG_SYSLOG", "0", 1);
		umfax_log_init("pcap_fuzz");
		init = 1;
	}
	struct umfax_replay_opts o = { .t38_version = -1, .keep_empty = 1 };
	char err[256];
	int n = 0;
	umfax_replay_mem(data, size, &o, count, &n, err, sizeof(err));
	return 0;
}
