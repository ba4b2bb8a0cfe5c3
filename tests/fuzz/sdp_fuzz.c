/* sdp_fuzz - SDP bodies, SIP messages and the SIP header helpers */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sdp.h"
#include "sipcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct umfax_sdp sdp;
	struct umfax_sipmsg m;
	char b[2048];

	umfax_sdp_parse((const char *) data, size, &sdp);
	long used = umfax_sip_parse((const char *) data, size, &m);
	if (used > (long) size)
		__builtin_trap();
	if (used > 0) {
		if (m.body_len)
			umfax_sdp_parse(m.body, m.body_len, &sdp);
		umfax_sip_uri_user(b, sizeof(b), m.from);
		umfax_sip_display_name(b, sizeof(b), m.from);
		umfax_sip_uri_param(b, sizeof(b), m.referred_by, "msExchUMFaxRecipient");
		umfax_sip_uri_param(b, sizeof(b), m.referred_by, "msExchUMContext");
	}
	/* the helpers on the raw input as a NUL-terminated string */
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	umfax_sip_uri_user(b, sizeof(b), s);
	umfax_sip_display_name(b, sizeof(b), s);
	umfax_sip_uri_param(b, sizeof(b), s, "x");
	umfax_sip_unescape(b, sizeof(b), s);
	free(s);
	return 0;
}
