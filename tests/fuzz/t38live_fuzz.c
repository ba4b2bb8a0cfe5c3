/* t38live_fuzz - live mode's SIP request parser, responses and Referred-By
 * parameters on arbitrary bytes */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "t38live.h"
#include "t38live_sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct umfax_lsip m;
	char err[256], out[8192], tag[17], v[512];
	int ans;

	if (umfax_lsip_parse(&m, (const char *) data, size, &ans, err, sizeof err) == 0 || ans) {
		umfax_lsip_totag(&m, 1, tag);
		int n = umfax_lsip_response(out, sizeof out, &m, 200, tag, "Supported: timer\r\n", "v=0\r\n");
		if (n >= (int) sizeof out)
			__builtin_trap();
	}
	umfax_lsip_release(&m);
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	umfax_t38live_param(s, "msExchUMFaxRecipient", v, sizeof v);
	umfax_t38live_param(s, "msExchUMContext", v, sizeof v);
	free(s);
	return 0;
}
