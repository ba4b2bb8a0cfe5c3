/* t38live_test - live mode's SIP pieces: Referred-By parameters (raw and
 * %-escaped), request parsing with libosip2, responses with and without an
 * SDP body, stable To tags. */
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "t38live.h"
#include "t38live_sip.h"

static const char *inv =
	"INVITE sip:1234@fax.example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc;rport\r\n"
	"Via: SIP/2.0/TCP 192.0.2.9:5060;branch=z9hG4bKxyz\r\n"
	"Max-Forwards: 69\r\n"
	"From: \"Front Desk\" <sip:+14255550100@gw.example.com>;tag=f1\r\n"
	"To: <sip:1234@fax.example.com>\r\n"
	"Call-ID: abc123@gw.example.com\r\n"
	"CSeq: 7 INVITE\r\n"
	"Contact: <sip:gw@192.0.2.1:5060>\r\n"
	"Referred-By: <sip:um1.contoso.com;msExchUMFaxRecipient=smtp:tony@contoso.com;msExchUMContext=Q2FsbElkPTE%3D>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 10\r\n"
	"\r\n"
	"v=0\r\nm=x\r\n";

int main(void)
{
	char v[256], out[4096], tag1[17], tag2[17], err[256];
	struct umfax_lsip m;
	int ans;

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

	/* a request */
	T_CHECK(umfax_lsip_parse(&m, inv, strlen(inv), &ans, err, sizeof err) == 0, "parse: %s", err);
	T_STREQ(m.method, "INVITE", "method");
	T_STREQ(m.call_id, "abc123@gw.example.com", "call-id");
	T_CHECK(m.cseq == 7, "cseq %lu", m.cseq);
	T_STREQ(m.branch, "z9hG4bKabc", "top branch");
	T_STREQ(m.from_tag, "f1", "from tag");
	T_STREQ(m.to_tag, "", "no to tag");
	T_STREQ(m.from_user, "+14255550100", "caller");
	T_STREQ(m.from_name, "Front Desk", "display name");
	T_STREQ(m.ruri_user, "1234", "called");
	umfax_lsip_totag(&m, 42, tag1);
	umfax_lsip_totag(&m, 42, tag2);
	T_STREQ(tag1, tag2, "same tag for a retransmission");
	umfax_lsip_totag(&m, 43, tag2);
	T_CHECK(strcmp(tag1, tag2) != 0, "salt changes the tag");
	int n = umfax_lsip_response(out, sizeof out, &m, 200, tag1, "Supported: timer\r\n", "v=0\r\n");
	T_CHECK(n > 0 && (size_t) n == strlen(out), "response length %d", n);
	T_CHECK(strncmp(out, "SIP/2.0 200 OK\r\n", 16) == 0, "status line");
	T_CHECK(strstr(out, "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc;rport\r\nVia: SIP/2.0/TCP") != NULL, "both Vias in order");
	T_CHECK(strstr(out, ";tag=") && strstr(out, tag1), "To tag added");
	T_CHECK(strstr(out, "CSeq: 7 INVITE\r\n") != NULL, "CSeq copied");
	T_CHECK(strstr(out, "Content-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n") != NULL, "body");
	n = umfax_lsip_response(out, sizeof out, &m, 100, tag1, NULL, NULL);
	T_CHECK(n > 0 && strstr(out, "\r\nTo: <sip:1234@fax.example.com>\r\n"), "no To tag on 100");
	T_CHECK(strstr(out, "Content-Length: 0\r\n\r\n") != NULL, "empty body");
	T_CHECK(umfax_lsip_response(out, 80, &m, 200, tag1, NULL, "v=0\r\n") < 0, "too small");
	umfax_lsip_release(&m);

	/* broken requests */
	static const char *badreq[] = {
		"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: one INVITE\r\n\r\n",
		"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 BYE\r\n\r\n",
		"INVITE sip:a@b SIP/2.0\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 INVITE\r\n\r\n",
		"SIP/2.0 200 OK\r\n\r\n",
		"garbage",
		"",
	};
	int answerable_want[] = { 1, 1, 0, 0, 0, 0 };
	for (size_t i = 0; i < sizeof badreq / sizeof badreq[0]; i++) {
		int a = -1;
		T_CHECK(umfax_lsip_parse(&m, badreq[i], strlen(badreq[i]), &a, err, sizeof err) < 0, "bad %zu", i);
		T_CHECK(a == answerable_want[i], "answerable %zu: %d (%s)", i, a, err);
		umfax_lsip_release(&m);
	}
	T_CHECK(umfax_lsip_is_response("SIP/2.0 200 OK\r\n", 16), "response");
	T_CHECK(!umfax_lsip_is_response("INVITE sip:", 11), "request");
	return T_DONE();
}
