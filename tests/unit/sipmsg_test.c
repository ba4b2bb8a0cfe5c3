/* sipmsg_test.c - SIP request parsing, responses, escaping, the UM context */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipmsg.h"
#include "t.h"

#define INV_HEAD \
	"INVITE sip:um@127.0.0.1:5070 SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK776asdhds;rport\r\n" \
	"Via: SIP/2.0/TCP 10.0.0.9:5060;branch=z9hG4bKfirst\r\n" \
	"Max-Forwards: 70\r\n" \
	"To: <sip:1234@10.0.0.1>\r\n" \
	"From: \"Front Desk\" <sip:+14255550100@10.0.0.2>;tag=1928301774\r\n" \
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n" \
	"CSeq: 314159 INVITE\r\n"

static const char inv[] = INV_HEAD
	"Diversion: <sip:1234@10.0.0.2;user=phone>;reason=no-answer;counter=1, <sip:5555@gw>;reason=busy\r\n"
	"Diversion: <tel:+14255559999>;reason=unconditional\r\n"
	"History-Info: <sip:um@10.0.0.1?Reason=SIP%3Bcause%3D302>;index=1.1.1, <sip:1234@pbx>;index=1.1\r\n"
	"History-Info: <sip:+14255551234@pbx>;index=1\r\n"
	"Contact: <sip:alice@10.0.0.2>\r\n"
	"Content-Length: 0\r\n\r\n";

static void
test_parse(void)
{
	struct umfax_sip_msg m;
	char err[128], v[1024];
	int ans;

	T_CHECK(umfax_sip_msg_parse(&m, inv, sizeof inv - 1, &ans, err, sizeof err) == 0, "%s", err);
	T_STREQ(m.method, "INVITE", "method");
	T_STREQ(m.call_id, "a84b4c76e66710@pc33.example.com", "call-id");
	T_CHECK(m.cseq == 314159, "cseq %lu", m.cseq);
	T_STREQ(m.branch, "z9hG4bK776asdhds", "top branch");
	T_STREQ(m.from_tag, "1928301774", "from tag");
	T_STREQ(m.to_tag, "", "no to tag");
	T_STREQ(m.from_name, "Front Desk", "display name unquoted");
	T_STREQ(m.from_user, "+14255550100", "caller");
	T_STREQ(m.ruri_user, "um", "ruri user");
	T_CHECK(m.ndiv == 3, "ndiv %d", m.ndiv);
	T_STREQ(m.div[0], "sip:1234@10.0.0.2;user=phone", "div 0");
	T_STREQ(m.div[1], "sip:5555@gw", "div 1");
	T_STREQ(m.div[2], "tel:+14255559999", "div 2");
	T_CHECK(m.nhist == 3, "nhist %d", m.nhist);
	T_STREQ(m.hist[0], "sip:+14255551234@pbx", "hist sorted 0");
	T_STREQ(m.hist[1], "sip:1234@pbx", "hist sorted 1");
	T_STREQ(m.hist[2], "sip:um@10.0.0.1?Reason=SIP%3Bcause%3D302", "hist sorted 2");
	T_STREQ(m.hist_index[2], "1.1.1", "hist index");
	T_CHECK(umfax_sip_diversion_value(&m, v, sizeof v) > 0, "div value");
	T_STREQ(v, "<sip:1234@10.0.0.2;user=phone>, <sip:5555@gw>, <tel:+14255559999>", "div value");
	T_CHECK(umfax_sip_history_value(&m, v, sizeof v) > 0, "hist value");
	T_STREQ(v, "<sip:+14255551234@pbx>;index=1, <sip:1234@pbx>;index=1.1, "
	    "<sip:um@10.0.0.1?Reason=SIP%3Bcause%3D302>;index=1.1.1", "hist value");
	T_CHECK(umfax_sip_diversion_value(&m, v, 10) < 0, "small buffer refused");
	umfax_sip_msg_release(&m);
}

static void
test_history_cap(void)
{
	struct umfax_sip_msg m;
	char err[128];
	int ans;
	static const char many[] = INV_HEAD
	    "History-Info: <sip:1@a>;index=1, <sip:2@a>;index=1.1, <sip:3@a>;index=1.1.1, "
	    "<sip:4@a>;index=1.1.1.1, <sip:5@a>;index=1.1.1.1.1, <sip:6@a>;index=1.1.1.1.1.1, "
	    "<sip:7@a>;index=1.1.1.1.1.1.1, <sip:8@a>;index=1.1.1.1.1.1.1.1\r\n"
	    "Content-Length: 0\r\n\r\n";

	T_CHECK(umfax_sip_msg_parse(&m, many, sizeof many - 1, &ans, err, sizeof err) == 0, "%s", err);
	T_CHECK(m.nhist == UMFAX_SIP_MAX_HIST, "history capped at 6: %d", m.nhist);
	T_STREQ(m.hist[5], "sip:6@a", "sixth entry");
	umfax_sip_msg_release(&m);
}

static void
test_bad(void)
{
	static const struct { const char *msg; int ok; int answerable; const char *what; } t[] = {
		{ "", 0, 0, "empty" },
		{ "GARBAGE\r\n\r\n", 0, 0, "garbage" },
		{ "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n\r\n", 0, 0, "a response" },
		{ "INVITE sip:a@b SIP/2.0\r\nTo: <sip:a@b>\r\n\r\n", 0, 0, "no Via" },
		{ INV_HEAD "Content-Length: 0\r\n\r\n", 1, 1, "minimal" },
		{ "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx\r\n"
		  "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n"
		  "Content-Length: 0\r\n\r\n", 0, 1, "CSeq method mismatch -> 400" },
		{ "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx\r\n"
		  "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\nCSeq: x1 INVITE\r\n"
		  "Content-Length: 0\r\n\r\n", 0, 1, "bad CSeq -> 400" },
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct umfax_sip_msg m;
		char err[128] = "";
		int ans = -1;
		int rc = umfax_sip_msg_parse(&m, t[i].msg, strlen(t[i].msg), &ans, err, sizeof err);
		T_CHECK((rc == 0) == t[i].ok, "%s: rc %d err %s", t[i].what, rc, err);
		T_CHECK(ans == t[i].answerable, "%s: answerable %d", t[i].what, ans);
		if (rc != 0 && ans) {
			char out[2048];
			T_CHECK(umfax_sip_response(out, sizeof out, &m, 400, NULL, "abc", NULL) > 0,
			    "%s: 400 can be formatted", t[i].what);
			T_CHECK(strncmp(out, "SIP/2.0 400 Bad Request\r\n", 25) == 0, "%s: status line", t[i].what);
		}
		umfax_sip_msg_release(&m);
	}
}

static void
test_response(void)
{
	struct umfax_sip_msg m;
	char err[128], out[4096], tag1[17], tag2[17];
	int ans, l;

	T_CHECK(umfax_sip_msg_parse(&m, inv, sizeof inv - 1, &ans, err, sizeof err) == 0, "%s", err);
	umfax_sip_totag(&m, 42, tag1);
	umfax_sip_totag(&m, 42, tag2);
	T_STREQ(tag1, tag2, "to-tag stable for a retransmission");
	umfax_sip_totag(&m, 43, tag2);
	T_CHECK(strcmp(tag1, tag2) != 0, "to-tag depends on the salt");
	l = umfax_sip_response(out, sizeof out, &m, 302, NULL, tag1, "Contact: <sip:fax>\r\n");
	T_CHECK(l > 0 && (size_t)l == strlen(out), "length %d", l);
	T_CHECK(strncmp(out, "SIP/2.0 302 Moved Temporarily\r\n", 31) == 0, "status line");
	T_CHECK(strstr(out, "\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK776asdhds;rport\r\n"
	    "Via: SIP/2.0/TCP 10.0.0.9:5060;branch=z9hG4bKfirst\r\n") != NULL, "both Vias in order: %s", out);
	T_CHECK(strstr(out, "\r\nFrom: \"Front Desk\" <sip:+14255550100@10.0.0.2>;tag=1928301774\r\n") != NULL,
	    "From copied: %s", out);
	{
		char want[128];
		snprintf(want, sizeof want, "\r\nTo: <sip:1234@10.0.0.1>;tag=%s\r\n", tag1);
		T_CHECK(strstr(out, want) != NULL, "To with our tag: %s", out);
	}
	T_CHECK(strstr(out, "\r\nCall-ID: a84b4c76e66710@pc33.example.com\r\n") != NULL, "Call-ID");
	T_CHECK(strstr(out, "\r\nCSeq: 314159 INVITE\r\n") != NULL, "CSeq");
	T_CHECK(strstr(out, "\r\nContact: <sip:fax>\r\n") != NULL, "extra header");
	T_CHECK(strstr(out, "\r\nContent-Length: 0\r\n\r\n") != NULL, "ends with Content-Length 0");
	T_CHECK(umfax_sip_response(out, 100, &m, 302, NULL, tag1, NULL) < 0, "too small refused");
	umfax_sip_msg_release(&m);
}

/* What t38recv's live mode needs: the To user, an ACK carrying its INVITE's
 * CSeq method, a 200 with an SDP body under its own Server name. */
static void
test_live(void)
{
	static const char ack[] = "ACK sip:1234@fax SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\n"
	    "From: <sip:x@y>;tag=1\r\nTo: <sip:1234@fax>;tag=2\r\nCall-ID: c1\r\nCSeq: 5 INVITE\r\n\r\n";
	static const char ack_bye[] = "ACK sip:1234@fax SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\n"
	    "From: <sip:x@y>;tag=1\r\nTo: <sip:1234@fax>;tag=2\r\nCall-ID: c1\r\nCSeq: 5 BYE\r\n\r\n";
	struct umfax_sip_msg m;
	char err[128], out[4096], tag[17];
	int ans, n;

	T_CHECK(umfax_sip_msg_parse(&m, inv, sizeof inv - 1, &ans, err, sizeof err) == 0, "%s", err);
	T_STREQ(m.to_user, "1234", "to user");
	umfax_sip_totag(&m, 42, tag);
	umfax_sip_set_server("umfax-t38recv");
	n = umfax_sip_response_body(out, sizeof out, &m, 200, NULL, tag,
	    "Supported: timer\r\nContent-Type: application/sdp\r\n", "v=0\r\n");
	T_CHECK(n > 0 && (size_t)n == strlen(out), "response length %d", n);
	T_CHECK(strncmp(out, "SIP/2.0 200 OK\r\n", 16) == 0, "status line");
	T_CHECK(strstr(out, "\r\nSupported: timer\r\nContent-Type: application/sdp\r\n"
	    "Server: umfax-t38recv\r\nContent-Length: 5\r\n\r\nv=0\r\n") != NULL, "SDP body: %s", out);
	T_CHECK(out[n - 1] == '\n' && strstr(out, "v=0\r\n") == out + n - 5, "body last");
	n = umfax_sip_response_body(out, sizeof out, &m, 100, NULL, tag, NULL, NULL);
	T_CHECK(n > 0 && strstr(out, "\r\nTo: <sip:1234@10.0.0.1>\r\n"), "no To tag on 100: %s", out);
	T_CHECK(strstr(out, "\r\nContent-Length: 0\r\n\r\n") != NULL, "no body");
	T_CHECK(umfax_sip_response_body(out, 80, &m, 200, NULL, tag, NULL, "v=0\r\n") < 0, "too small");
	n = umfax_sip_response(out, sizeof out, &m, 487, NULL, tag, NULL);
	T_CHECK(n > 0 && strncmp(out, "SIP/2.0 487 Request Terminated\r\n", 32) == 0, "487: %.40s", out);
	umfax_sip_set_server("umfax-sipredirect");
	n = umfax_sip_response(out, sizeof out, &m, 200, NULL, tag, NULL);
	T_CHECK(n > 0 && strstr(out, "\r\nServer: umfax-sipredirect\r\n"), "server name back");
	umfax_sip_msg_release(&m);

	T_CHECK(umfax_sip_msg_parse(&m, ack, sizeof ack - 1, &ans, err, sizeof err) == 0, "ACK/INVITE: %s", err);
	T_STREQ(m.method, "ACK", "ACK");
	T_STREQ(m.cseq_method, "INVITE", "its CSeq method");
	T_STREQ(m.to_tag, "2", "to tag");
	umfax_sip_msg_release(&m);
	T_CHECK(umfax_sip_msg_parse(&m, ack_bye, sizeof ack_bye - 1, &ans, err, sizeof err) < 0 && ans,
	    "ACK with CSeq BYE refused");
	umfax_sip_msg_release(&m);
}

static void
test_uri_user(void)
{
	static const struct { const char *in, *out; } t[] = {
		{ "sip:1234@gw;user=phone", "1234" },
		{ "<sips:+14255551234;phone-context=x@gw>", "+14255551234" },
		{ "tel:+14255551234;phone-context=+1", "+14255551234" },
		{ "sip:alice:secret@host", "alice" },
		{ "sip:host.only", NULL },
		{ "mailto:a@b", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		char u[64];
		int rc = umfax_sip_uri_user(t[i].in, u, sizeof u);
		if (t[i].out)
			T_STREQ(rc == 0 ? u : NULL, t[i].out, "%s", t[i].in);
		else
			T_CHECK(rc < 0, "%s has no user", t[i].in);
	}
}

static void
test_context(void)
{
	char b[256], ctx[512], rb[1024], contact[4096];
	static const char *b64[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
	};
	size_t i;

	for (i = 0; i < 5; i++) {
		T_CHECK(umfax_sip_base64(b, sizeof b, b64[i][0], strlen(b64[i][0])) >= 0, "b64");
		T_STREQ(b, b64[i][1], "base64 of \"%s\"", b64[i][0]);
	}
	T_CHECK(umfax_sip_base64(b, 4, "foo", 3) < 0, "base64 needs room for NUL");

	T_CHECK(umfax_sip_escape(b, sizeof b, "<sip:a;b=c>", 0) > 0, "escape");
	T_STREQ(b, "%3Csip%3Aa%3Bb%3Dc%3E", "header value escape");
	T_CHECK(umfax_sip_escape(b, sizeof b, "ab+/=", 1) > 0, "escape param");
	T_STREQ(b, "ab+/%3D", "param escape keeps + and /");

	/* "CallId=c1@h&CallerId=+14255550100&Extension=1234&PhoneContext=dp.contoso&CallerIdDisplayName=Front Desk" */
	T_CHECK(umfax_sip_um_context(ctx, sizeof ctx, "c1@h", "+14255550100", "1234",
	    "dp.contoso", "Front Desk") > 0, "context");
	T_STREQ(ctx, "Q2FsbElkPWMxJTQwaCZDYWxsZXJJZD0lMkIxNDI1NTU1MDEwMCZFeHRlbnNpb249MTIzNCZQaG9uZUNvbnRleHQ9ZHAuY29udG9zbyZDYWxsZXJJZERpc3BsYXlOYW1lPUZyb250K0Rlc2s=",
	    "context is base64 of the form-encoded string");
	T_CHECK(umfax_sip_referred_by(rb, sizeof rb, "um1.contoso.com", "tony@contoso.com", "ab+/cd==") > 0, "rb");
	T_STREQ(rb, "<sip:um1.contoso.com;msExchUMFaxRecipient=smtp:tony@contoso.com;msExchUMContext=ab%2B%2Fcd%3D%3D>",
	    "Referred-By value");
	T_CHECK(umfax_sip_redirect_contact(contact, sizeof contact, "fax.example:5060;transport=tcp", rb) > 0, "contact");
	T_STREQ(contact, "<sip:fax.example:5060;transport=tcp?Referred-By=%3Csip%3Aum1.contoso.com%3BmsExchUMFaxRecipient%3Dsmtp%3Atony%40contoso.com%3BmsExchUMContext%3Dab%252B%252Fcd%253D%253D%3E>",
	    "escaped Referred-By in the Contact");
	T_CHECK(umfax_sip_redirect_contact(contact, 40, "sip:fax.example", rb) < 0, "contact too long refused");
}

static void
test_peek(void)
{
	char m[16];

	T_CHECK(umfax_sip_peek_method("ACK sip:a SIP/2.0\r\n", 19, m, sizeof m) == 0, "peek");
	T_STREQ(m, "ACK", "method");
	T_CHECK(umfax_sip_peek_method("ack sip:a", 9, m, sizeof m) < 0, "lower case is no method");
	T_CHECK(umfax_sip_peek_method("INVITE", 6, m, sizeof m) < 0, "no space");
	T_CHECK(umfax_sip_is_response("SIP/2.0 302 Moved", 17), "response");
	T_CHECK(!umfax_sip_is_response("SIP/2.", 6), "short");
}

static void
test_t38(void)
{
	static const struct { const char *sdp; int t38; } t[] = {
		{ "v=0\r\nc=IN IP4 1.2.3.4\r\nm=image 6044 udptl t38\r\na=T38FaxVersion:0\r\n", 1 },
		{ "v=0\nm=audio 4000 RTP/AVP 0\nm=image 6044 UDPTL T38\n", 1 },
		{ "m=image 6004 tcptl t38", 1 },
		{ "v=0\r\nm=image 0 udptl t38\r\n", 0 },
		{ "v=0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n", 0 },
		{ "m=image 6044 udptl", 0 },
		{ "m=image 99999 udptl t38", 0 },
		{ "", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		T_CHECK(umfax_sip_sdp_is_t38(t[i].sdp, strlen(t[i].sdp)) == t[i].t38, "%zu: %s", i, t[i].sdp);
}

static void
test_arena(void)
{
	struct umfax_sip_msg a, b;
	char err[128], out[4096];
	unsigned long na0, nf0, na, nf;
	int ans, i;

	T_CHECK(umfax_sip_arena_enable(1 << 20) == 0, "arena");
	umfax_sip_arena_stats(&na0, &nf0);
	for (i = 0; i < 1000; i++) {
		T_CHECK(umfax_sip_msg_parse(&a, inv, sizeof inv - 1, &ans, err, sizeof err) == 0, "%s", err);
		T_CHECK(umfax_sip_response(out, sizeof out, &a, 302, NULL, "t", NULL) > 0, "response");
		umfax_sip_msg_release(&a);
	}
	umfax_sip_arena_stats(&na, &nf);
	T_CHECK(na - na0 > 10000 && nf == nf0, "1000 parses from the arena: %lu blocks, %lu fallbacks", na - na0, nf - nf0);
	/* two messages alive at once stay intact */
	T_CHECK(umfax_sip_msg_parse(&a, inv, sizeof inv - 1, &ans, err, sizeof err) == 0, "a");
	T_CHECK(umfax_sip_msg_parse(&b, INV_HEAD "Content-Length: 0\r\n\r\n",
	    sizeof(INV_HEAD "Content-Length: 0\r\n\r\n") - 1, &ans, err, sizeof err) == 0, "b");
	umfax_sip_msg_release(&b);
	{
		static const char opt[] = "OPTIONS sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKzz\r\n"
		    "From: <sip:q@r>;tag=zz\r\nTo: <sip:x@y>\r\nCall-ID: zzzz\r\nCSeq: 9 OPTIONS\r\n\r\n";
		T_CHECK(umfax_sip_msg_parse(&b, opt, sizeof opt - 1, &ans, err, sizeof err) == 0, "b2: %s", err);
	}
	T_STREQ(a.branch, "z9hG4bK776asdhds", "a's branch survives b");
	T_STREQ(a.from_tag, "1928301774", "a's tag survives b");
	T_CHECK(umfax_sip_response(out, sizeof out, &a, 302, NULL, "t", NULL) > 0 &&
	    strstr(out, "Call-ID: a84b4c76e66710@pc33.example.com"), "a still formats");
	umfax_sip_msg_release(&b);
	umfax_sip_msg_release(&a);
	test_parse();
	test_response();
}

int
main(void)
{
	umfax_sip_init();
	test_parse();
	test_history_cap();
	test_bad();
	test_response();
	test_live();
	test_uri_user();
	test_context();
	test_peek();
	test_t38();
	test_arena();
	return T_DONE();
}
