/* sdp_test - SDP bodies: T.38 re-INVITE, audio, oddities; SIP helpers */
#include <string.h>
#include "t.h"
#include "sdp.h"
#include "sipcap.h"

int main(void)
{
	struct umfax_sdp s;
	const struct umfax_sdp_media *m;
	static const char t38[] =
	    "v=0\r\no=- 1 2 IN IP4 74.117.149.128\r\ns=-\r\nc=IN IP4 74.117.149.128\r\nt=0 0\r\n"
	    "m=image 4545 udptl t38\r\na=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\n"
	    "a=T38FaxRateManagement:transferredTCF\r\na=T38FaxMaxDatagram:397\r\n"
	    "a=T38FaxUdpEC:t38UDPRedundancy\r\n";
	T_CHECK(umfax_sdp_parse(t38, strlen(t38), &s) == 0, "t38 sdp");
	m = umfax_sdp_find(&s, UMFAX_SDP_T38_UDPTL);
	T_CHECK(m && m->port == 4545 && m->t38_version == 0 && m->t38_max_datagram == 397 &&
	    m->t38_udp_ec == UMFAX_SDP_EC_REDUNDANCY && m->t38_max_bit_rate == 14400, "t38 attributes");
	T_STREQ(m ? m->addr : NULL, "74.117.149.128", "session c= applies");

	static const char both[] =
	    "v=0\nc=IN IP6 2001:db8::1\nm=audio 30000 RTP/AVP 8 101\na=rtpmap:101 telephone-event/8000\n"
	    "m=image 40000 udptl t38\nc=IN IP4 192.0.2.9\na=T38FaxVersion:3\na=T38FaxUdpEC:t38UDPFEC\n"
	    "a=T38FaxFillBitRemoval\nm=image 6004 TCP/TPKT/T38\n";
	T_CHECK(umfax_sdp_parse(both, strlen(both), &s) == 0 && s.nmedia == 3, "three media, LF only");
	m = umfax_sdp_find(&s, UMFAX_SDP_AUDIO);
	T_CHECK(m && m->has_pcma && !m->has_pcmu && m->port == 30000, "audio PCMA");
	m = umfax_sdp_find(&s, UMFAX_SDP_T38_UDPTL);
	T_CHECK(m && m->t38_version == 3 && m->t38_udp_ec == UMFAX_SDP_EC_FEC && m->t38_fill_bit_removal, "v3 FEC");
	T_STREQ(m ? m->addr : NULL, "192.0.2.9", "media c= wins");
	T_CHECK(umfax_sdp_find(&s, UMFAX_SDP_T38_TCP) && umfax_sdp_find(&s, UMFAX_SDP_T38_TCP)->port == 6004, "tcp t38");

	static const char zero[] = "v=0\r\nm=image 0 udptl t38\r\n";
	T_CHECK(umfax_sdp_parse(zero, strlen(zero), &s) == 0 && !umfax_sdp_find(&s, UMFAX_SDP_T38_UDPTL), "port 0 refused stream");
	T_CHECK(umfax_sdp_parse("hello", 5, &s) < 0, "not sdp");
	T_CHECK(umfax_sdp_parse("v=0\r\n", 5, &s) < 0, "no media");
	static const char junk[] = "v=0\r\nm=image 99999999 udptl t38\r\na=T38FaxVersion:-5\r\na=T38FaxVersion\r\n";
	T_CHECK(umfax_sdp_parse(junk, sizeof(junk) - 1, &s) == 0 && s.m[0].port == 0 && s.m[0].t38_version == -1, "bad numbers ignored");

	/* SIP helpers */
	char b[1024];
	T_STREQ(umfax_sip_uri_user(b, sizeof(b), "\"Front Desk\" <sip:+14255550100@gw1;user=phone>;tag=1"), "+14255550100", "user");
	T_STREQ(umfax_sip_display_name(b, sizeof(b), "\"Front \\\"Desk\\\"\" <sip:1@x>"), "Front \"Desk\"", "quoted name");
	T_STREQ(umfax_sip_display_name(b, sizeof(b), "Contoso  <sip:1@x>"), "Contoso", "token name");
	T_STREQ(umfax_sip_uri_user(b, sizeof(b), "<tel:+14255551234;phone-context=x>"), "+14255551234", "tel uri");
	T_STREQ(umfax_sip_uri_user(b, sizeof(b), "sip:gw.example.com"), "", "no user part");
	const char *rb = "<sip:um1.contoso.com;msExchUMFaxRecipient=smtp:tony@contoso.com;msExchUMContext=Q2FsbElkPTE%3D>";
	T_STREQ(umfax_sip_uri_param(b, sizeof(b), rb, "msExchUMFaxRecipient"), "smtp:tony@contoso.com", "recipient raw");
	T_STREQ(umfax_sip_uri_param(b, sizeof(b), rb, "msexchumcontext"), "Q2FsbElkPTE=", "context %%-decoded");
	const char *rbe = "<sip:um1.contoso.com%3BmsExchUMFaxRecipient%3Dsmtp%3Atony%40contoso.com>";
	T_STREQ(umfax_sip_uri_param(b, sizeof(b), rbe, "msExchUMFaxRecipient"), "smtp:tony@contoso.com", "recipient escaped");
	T_CHECK(umfax_sip_uri_param(b, sizeof(b), rb, "nothere") == NULL, "absent param");

	struct umfax_sipmsg msg;
	static const char inv[] =
	    "INVITE sip:+14255551234@fax.contoso.com SIP/2.0\r\ni: abc@gw\r\nf: <sip:100@gw>;tag=1\r\n"
	    "t: <sip:+14255551234@um>\r\nb: <sip:um;msExchUMFaxRecipient=smtp:a@b.c>\r\nCSeq: 1 INVITE\r\n"
	    "c: application/sdp\r\nl: 5\r\n\r\nv=0\r\nNEXT";
	long used = umfax_sip_parse(inv, sizeof(inv) - 1, &msg);
	T_CHECK(used == (long) sizeof(inv) - 1 - 4, "compact headers, Content-Length frames: %ld", used);
	T_STREQ(msg.call_id, "abc@gw", "call id");
	T_STREQ(msg.method, "INVITE", "method");
	T_CHECK(msg.body_len == 5 && !memcmp(msg.body, "v=0\r\n", 5), "body");
	T_CHECK(umfax_sip_parse(inv, 60, &msg) == 0, "incomplete waits for more");
	T_CHECK(umfax_sip_parse("HTTP/1.1 200 OK\r\n\r\n", 19, &msg) < 0, "not SIP");
	static const char resp[] = "SIP/2.0 200 OK\r\nCall-ID: x\r\nCSeq: 2 INVITE\r\nContent-Length: 0\r\n\r\n";
	T_CHECK(umfax_sip_parse(resp, sizeof(resp) - 1, &msg) > 0 && msg.status == 200 && !strcmp(msg.method, "INVITE"), "response");
	static const char badcl[] = "SIP/2.0 200 OK\r\nContent-Length: -4\r\n\r\n";
	T_CHECK(umfax_sip_parse(badcl, sizeof(badcl) - 1, &msg) < 0, "negative Content-Length");
	return T_DONE();
}
