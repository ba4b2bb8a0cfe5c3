/* t38live_test - the Referred-By parameters live mode takes the recipient
 * and UM context from (raw and %-escaped), read with sipcap's
 * umfax_sip_uri_param as the offline decoder reads them.  Requests,
 * responses with an SDP body and To tags are sipmsg's
 * (tests/unit/sipmsg_test.c). */
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "sipcap.h"

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
		{ "<sip:um1%3BmsExchUMContext%3DQ2Fs>", "msExchUMContext", "Q2Fs" },   /* escaped ";" and "=" */
	};
	for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) {
		T_CHECK(umfax_sip_uri_param(v, sizeof v, p[i].hdr, p[i].name) != NULL, "%s", p[i].hdr);
		T_STREQ(v, p[i].want, "param %s", p[i].name);
	}
	T_CHECK(umfax_sip_uri_param(v, sizeof v, "<sip:um1;x=1>", "msExchUMContext") == NULL, "absent");
	T_CHECK(umfax_sip_uri_param(v, sizeof v, "<sip:um1;msExchUMContextX=1>", "msExchUMContext") == NULL, "prefix only");
	/* cut to the buffer */
	T_CHECK(umfax_sip_uri_param(v, 5, "<sip:u;a=0123456789>", "a") != NULL && strcmp(v, "0123") == 0, "cut: %s", v);

	/* header values, as the test senders read the server's messages */
	static const char msg[] = "SIP/2.0 200 OK\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo : <sip:a@b>;tag=x1\r\n"
	    "Call-ID:abc\r\nContact: <sip:1.2.3.4:5060>\r\n\r\nv=0\r\nContact: body\r\n";
	T_CHECK(umfax_sip_header(msg, strlen(msg), "Via", "v", v, sizeof v) == 0 && strcmp(v, "SIP/2.0/UDP h;branch=z9hG4bK1") == 0,
	    "compact Via: %s", v);
	T_CHECK(umfax_sip_header(msg, strlen(msg), "To", "t", v, sizeof v) == 0 && strcmp(v, "<sip:a@b>;tag=x1") == 0,
	    "blank before the colon: %s", v);
	T_CHECK(umfax_sip_header(msg, strlen(msg), "call-id", "i", v, sizeof v) == 0 && strcmp(v, "abc") == 0, "no blank: %s", v);
	T_CHECK(umfax_sip_header(msg, strlen(msg), "Session-Expires", "x", v, sizeof v) < 0, "absent");
	T_CHECK(umfax_sip_header(msg, strlen(msg), "Contact", "m", v, 8) == 0 && strcmp(v, "<sip:1.") == 0, "cut: %s", v);
	T_CHECK(umfax_sip_header("garbage", 7, "To", "t", v, sizeof v) < 0, "no header block");

	return T_DONE();
}
