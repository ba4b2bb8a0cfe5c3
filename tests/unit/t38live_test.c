/* t38live_test - live mode's own SIP parsing: the Referred-By parameters
 * (raw and %-escaped).  Requests, responses with an SDP body and To tags are
 * sipmsg's (tests/unit/sipmsg_test.c). */
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "t38live.h"

int main(void)
{
	char v[256];

	/* Referred-By parameters */
	static const struct { const char *hdr, *name, *want; } p[] = {
		{ "<sip:um1;msExchUMFaxRecipient=smtp:tony@contoso.com;msExchUMContext=Q2Fs>", "msExchUMFaxRecipient", "smtp:tony@contoso.com" },
		{ "<sip:um1;msExchUMFaxRecipient=smtp%3Aann%40contoso.com;msExchUMContext=Q2Fs%3D%3D>", "msExchUMContext", "Q2Fs==" },
		{ "<sip:um1;msExchUMFaxRecipient=smtp%3Aann%40contoso.com>", "msexchumfaxrecipient", "smtp:ann@contoso.com" },
		{ "<sip:um1;msExchUMContext=abc>;other=1", "msExchUMContext", "abc" },
		{ "<sip:um1;a=%zz>", "a", "%zz" },          /* bad escape kept */
	};
	for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) {
		T_CHECK(umfax_t38live_param(p[i].hdr, p[i].name, v, sizeof v) == 0, "%s", p[i].hdr);
		T_STREQ(v, p[i].want, "param %s", p[i].name);
	}
	T_CHECK(umfax_t38live_param("<sip:um1;x=1>", "msExchUMContext", v, sizeof v) < 0, "absent");
	T_CHECK(umfax_t38live_param("<sip:um1;msExchUMContextX=1>", "msExchUMContext", v, sizeof v) < 0, "prefix only");
	/* cut to the buffer */
	T_CHECK(umfax_t38live_param("<sip:u;a=0123456789>", "a", v, 5) == 0 && strcmp(v, "0123") == 0, "cut: %s", v);

	return T_DONE();
}
