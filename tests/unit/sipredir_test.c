/* sipredir_test.c - the answer to one request (decision path), the listen
 * parser and TCP framing, table-driven, in memory. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "directory.h"
#include "log.h"
#include "sipmsg.h"
#include "sipredir.h"
#include "sipsrv.h"
#include "t.h"

static const char dirtext[] =
    "dialplan dp\n    uri-type = telextn\n    extension-digits = 4\n"
    "    phone-context = dp.test\n    gateways = 127.0.0.1, 10.1.0.0/16, 192.0.2.1-192.0.2.9, ::1\n"
    "dialplan closed\n    uri-type = telextn\n    extension-digits = 5\n    fax-enabled = false\n"
    "    gateways = 127.0.0.1\n"
    "policy fax\n    dialplan = dp\n    allow-fax = true\n"
    "    fax-server-uri = sip:fax.test:5060;transport=tcp\n"
    "policy nofax\n    dialplan = dp\n"
    "policy cfax\n    dialplan = closed\n    allow-fax = true\n"
    "    fax-server-uri = sip:fax.test:5060;transport=udp\n"
    "mailbox tony\n    primary-smtp-address = tony@fax.test\n    policy = fax\n    extensions = 1234\n"
    "mailbox alice\n    primary-smtp-address = alice@fax.test\n    policy = fax\n    extensions = 1235\n"
    "    fax-enabled = false\n"
    "mailbox bob\n    primary-smtp-address = bob@fax.test\n    policy = nofax\n    extensions = 1236\n"
    "mailbox carol\n    primary-smtp-address = carol@fax.test\n    policy = cfax\n    extensions = 54321\n";

static char *
req(const char *method, const char *to, const char *extra)
{
	static char b[4096];

	snprintf(b, sizeof b,
	    "%s sip:um@127.0.0.1 SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bKt1\r\n"
	    "From: \"Desk\" <sip:+14255550100@10.1.2.3>;tag=ft\r\n"
	    "To: <%s>\r\nCall-ID: t1@h\r\nCSeq: 5 %s\r\n%sContent-Length: 0\r\n\r\n",
	    method, to, method, extra ? extra : "");
	return b;
}

static void
addr(struct sockaddr_storage *ss, socklen_t *len, const char *ip)
{
	memset(ss, 0, sizeof *ss);
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
		s->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &s->sin6_addr);
		s->sin6_port = htons(5060);
		*len = sizeof *s;
	} else {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;
		s->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &s->sin_addr);
		s->sin_port = htons(5060);
		*len = sizeof *s;
	}
}

static void
test_answers(struct umfax_sipredir *r)
{
	static const struct {
		const char *method, *peer, *to, *extra;
		int status;
		const char *want;
	} t[] = {
		{ "OPTIONS", "127.0.0.1", "sip:um@h", NULL, 200, "\r\nAllow: INVITE, ACK, CANCEL, OPTIONS, BYE\r\n" },
		{ "INVITE", "127.0.0.1", "sip:um@h", "Diversion: <sip:1234@gw;user=phone>;reason=no-answer\r\n", 302,
		  "\r\nContact: <sip:fax.test:5060;transport=tcp?Referred-By=%3Csip%3Aum1.test%3BmsExchUMFaxRecipient%3Dsmtp%3Atony%40fax.test%3BmsExchUMContext%3D" },
		{ "INVITE", "10.1.200.7", "sip:1234@h", NULL, 302, "smtp%3Atony%40fax.test" },
		{ "INVITE", "192.0.2.5", "sip:um@h", "History-Info: <sip:+1425551234@gw>;index=1, <sip:um@h>;index=1.1\r\n", 302, "tony%40fax.test" },
		{ "INVITE", "::1", "tel:1234", NULL, 302, "tony%40fax.test" },
		{ "INVITE", "127.0.0.1", "sip:1235@h", NULL, 603, "\r\nWarning: 399 um1.test \"fax not allowed: mailbox alice: fax-enabled = false\"\r\n" },
		{ "INVITE", "127.0.0.1", "sip:1236@h", NULL, 603, "policy nofax: allow-fax = false" },
		{ "INVITE", "127.0.0.1", "sip:54321@h", NULL, 603, "dialplan closed: fax-enabled = false" },
		{ "INVITE", "127.0.0.1", "sip:9999@h", NULL, 404, "\r\nWarning: 399 um1.test \"" },
		{ "INVITE", "192.0.2.10", "sip:1234@h", NULL, 403, "not a gateway" },
		{ "INVITE", "10.2.0.1", "sip:1234@h", NULL, 403, "not a gateway" },
		{ "INVITE", "::2", "sip:1234@h", NULL, 403, "not a gateway" },
		{ "OPTIONS", "192.0.2.10", "sip:um@h", NULL, 403, "not a gateway" },
		{ "CANCEL", "127.0.0.1", "sip:1234@h", NULL, 200, "CSeq: 5 CANCEL" },
		{ "BYE", "127.0.0.1", "sip:1234@h", NULL, 481, "CSeq: 5 BYE" },
		{ "REGISTER", "127.0.0.1", "sip:1234@h", NULL, 405, "\r\nAllow: " },
		{ "INVITE", "127.0.0.1", "sip:1234@h;tag=x", NULL, 302, "tony" },
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct sockaddr_storage ss;
		socklen_t sl;
		struct umfax_sipredir_info info;
		char out[8192], line[40];
		int n;

		addr(&ss, &sl, t[i].peer);
		const char *b = req(t[i].method, t[i].to, t[i].extra);
		n = umfax_sipredir_answer(r, b, strlen(b), (struct sockaddr *)&ss, sl, out, sizeof out, &info);
		snprintf(line, sizeof line, "SIP/2.0 %d ", t[i].status);
		T_CHECK(n > 0 && strncmp(out, line, strlen(line)) == 0 && info.status == t[i].status,
		    "%zu %s %s from %s: want %d got %.40s", i, t[i].method, t[i].to, t[i].peer, t[i].status, n > 0 ? out : "(none)");
		T_CHECK(n > 0 && strstr(out, t[i].want) != NULL, "%zu: want \"%s\" in\n%s", i, t[i].want, n > 0 ? out : "");
		T_CHECK(n > 0 && strstr(out, "\r\nCall-ID: t1@h\r\n") && strstr(out, ";tag="), "%zu: Call-ID and To tag", i);
	}
}

static void
test_quiet(struct umfax_sipredir *r)
{
	static const char *t[] = {
		"ACK sip:um@h SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKa\r\n\r\n",
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKa\r\n\r\n",
		"\r\n\r\n",
		"\x01\x02garbage",
		"INVITE sip:um@h SIP/2.0\r\nTo: <sip:1234@h>\r\n\r\n",
	};
	struct sockaddr_storage ss;
	socklen_t sl;
	size_t i;

	addr(&ss, &sl, "127.0.0.1");
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		char out[4096];
		int n = umfax_sipredir_answer(r, t[i], strlen(t[i]), (struct sockaddr *)&ss, sl, out, sizeof out, NULL);
		T_CHECK(n == 0, "%zu: no answer expected, got %d", i, n);
	}
	{
		char out[64];
		const char *b = req("INVITE", "sip:1234@h", NULL);
		T_CHECK(umfax_sipredir_answer(r, b, strlen(b), (struct sockaddr *)&ss, sl, out, sizeof out, NULL) < 0,
		    "a response that does not fit is refused");
	}
}

static void
test_listen(void)
{
	static const struct { const char *spec; int n; int first_type; const char *first; } t[] = {
		{ "0.0.0.0:5060", 2, SOCK_DGRAM, "0.0.0.0:5060" },
		{ "udp:127.0.0.1:5070", 1, SOCK_DGRAM, "127.0.0.1:5070" },
		{ "tcp:[::1]:5071, udp:127.0.0.1:5072", 2, SOCK_STREAM, "[::1]:5071" },
		{ "5060", 2, SOCK_DGRAM, "0.0.0.0:5060" },
		{ "127.0.0.1:0", -1, 0, NULL },
		{ "127.0.0.1:70000", -1, 0, NULL },
		{ "host.example:5060", -1, 0, NULL },
		{ "[::1:5060", -1, 0, NULL },
		{ "sctp:1.2.3.4:5060", -1, 0, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct umfax_sipsrv_listen l[UMFAX_SIPSRV_MAX_LISTEN];
		char err[200], a[80];
		int n = umfax_sipsrv_parse_listen(t[i].spec, l, 0, UMFAX_SIPSRV_MAX_LISTEN, err, sizeof err);
		T_CHECK(n == t[i].n, "%s: %d entries (%s)", t[i].spec, n, n < 0 ? err : "");
		if (n > 0 && t[i].first) {
			T_CHECK(l[0].type == t[i].first_type, "%s: type", t[i].spec);
			T_STREQ(umfax_sip_addr_str((struct sockaddr *)&l[0].ss, l[0].len, a, sizeof a), t[i].first, "%s", t[i].spec);
		}
	}
}

static void
test_frame(void)
{
	static const struct { const char *buf; long want; } t[] = {
		{ "OPTIONS sip:a SIP/2.0\r\nContent-Length: 0\r\n\r\n", 44 },
		{ "OPTIONS sip:a SIP/2.0\r\nl: 3\r\n\r\nabcNEXT", 34 },
		{ "OPTIONS sip:a SIP/2.0\r\nContent-Length: 10\r\n\r\nabc", 0 },
		{ "OPTIONS sip:a SIP/2.0\r\nContent-Length: 0\r\n", 0 },
		{ "OPTIONS sip:a SIP/2.0\r\nContent-Length: -1\r\n\r\n", -1 },
		{ "OPTIONS sip:a SIP/2.0\r\nContent-Length: 99999999\r\n\r\n", -1 },
		{ "OPTIONS sip:a SIP/2.0\r\nContent-Length: x\r\n\r\n", -1 },
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		long n = umfax_sipsrv_frame_len(t[i].buf, strlen(t[i].buf));
		T_CHECK(n == t[i].want, "%zu: frame %ld, want %ld", i, n, t[i].want);
	}
}

static void
test_fast_key(void)
{
	static const char *t[] = {
		"ACK sip:um@h SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4:5060;branch=z9hG4bKa1;rport\r\n"
		"Via: SIP/2.0/UDP 5.6.7.8;branch=z9hG4bKnot\r\nFrom: \"X\" <sip:a@b;tag=uri>;tag=ft1\r\n"
		"To: <sip:1234@h>;tag=tt\r\nCall-ID: abc@def\r\nCSeq: 0042 ACK\r\nContent-Length: 0\r\n\r\n",
		"ACK sip:um@h SIP/2.0\r\nv: SIP/2.0/TCP 1.2.3.4;BRANCH=z9hG4bKb2\r\nf: sip:a@b;tag=ft2\r\n"
		"t: <sip:1234@h>\r\ni:   cid-2  \r\nCSeq: 7 ACK\r\n\r\n",
		"ACK sip:um@h SIP/2.0\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKc3\nFrom: <sip:a@b>;tag=ft3\n"
		"To: <sip:1234@h>\nCall-ID: c3\nCSeq: 1 ACK\n\n",
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		char k1[512], k2[512], m[16];
		int r1 = umfax_sip_fast_key(t[i], strlen(t[i]), k1, sizeof k1);
		int r2 = umfax_sipredir_key(t[i], strlen(t[i]), m, sizeof m, k2, sizeof k2);
		T_CHECK(r1 == 0 && r2 == 0, "%zu: both keys (%d %d)", i, r1, r2);
		if (r1 == 0 && r2 == 0)
			T_STREQ(k1, k2, "%zu: fast key equals the parsed key", i);
	}
	T_CHECK(umfax_sip_fast_key("ACK sip:a SIP/2.0\r\nVia: x\r\n y\r\n\r\n", 30, (char[64]){0}, 64) < 0,
	    "folded header: fall back");
	T_CHECK(umfax_sip_fast_key("ACK sip:a SIP/2.0\r\nCall-ID: x\r\n\r\n", 34, (char[64]){0}, 64) < 0,
	    "no Via: fall back");
}

int
main(void)
{
	struct umfax_dir dir;
	struct umfax_sipredir r;
	char err[512];

	setenv("UMFAX_LOG_STDERR", "0", 1);
	setenv("UMFAX_LOG_SYSLOG", "0", 1);
	umfax_log_init("sipredir_test");
	T_CHECK(umfax_conf_set("sipredirect_host", "um1.test", err, sizeof err) == 0, "%s", err);
	umfax_sip_init();
	umfax_dir_init(&dir);
	T_CHECK(umfax_dir_parse(&dir, "test.conf", dirtext, sizeof dirtext - 1, err, sizeof err) == 0, "%s", err);
	umfax_sipredir_init(&r, &dir);
	test_answers(&r);
	test_quiet(&r);
	test_listen();
	test_frame();
	test_fast_key();
	T_CHECK(r.n_302 >= 4 && r.n_404 == 1 && r.n_deny == 3, "counters 302=%lu 404=%lu deny=%lu", r.n_302, r.n_404, r.n_deny);
	umfax_dir_release(&dir);
	return T_DONE();
}
