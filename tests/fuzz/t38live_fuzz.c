/* t38live_fuzz - live mode's SIP handling on arbitrary bytes: the request
 * parser it shares with sipredirect (sipmsg, fuzzed in sip_fuzz too), the
 * responses only live mode sends (a 200 with an SDP body, To tag added) and
 * its own Referred-By parameter reader */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sipmsg.h"
#include "t38live.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct umfax_sip_msg m;
	char err[256], out[8192], tag[17], v[512];
	int ans;

	if (umfax_sip_msg_parse(&m, (const char *) data, size, &ans, err, sizeof err) == 0 || ans) {
		umfax_sip_totag(&m, 1, tag);
		int n = umfax_sip_response_body(out, sizeof out, &m, 200, NULL, tag,
		    "Supported: timer\r\nContent-Type: application/sdp\r\n", "v=0\r\n");
		if (n >= (int) sizeof out || (n > 0 && (size_t) n != strlen(out)))
			__builtin_trap();
	}
	umfax_sip_msg_release(&m);
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
