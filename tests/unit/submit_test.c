/* submit_test.c - how faxmail reads msmtp's outcome, and the msmtprc check.
 * The stderr texts are what msmtp 1.8 (Debian 12) prints against Postfix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "exits.h"
#include "submit.h"
#include "t.h"

static void
test_classify(void)
{
	static const struct {
		const char *what;
		int status;
		const char *err, *log;
		int code, permanent, smtp;
		const char *reply, *reason_has;
	} t[] = {
		{ "success", 0, "",
		  "Nov 24 19:48:49 host=127.0.0.1 tls=off auth=off from=a@b.test recipients=fax@fax.test mailsize=126 smtpstatus=250 smtpmsg='250 2.0.0 Ok: queued as EE3ECA72701' exitcode=EX_OK\n",
		  EX_OK, 0, 250, "250 2.0.0 Ok: queued as EE3ECA72701", "delivered" },
		{ "550 user unknown", 65,
		  "msmtp: recipient address nouser@fax.test not accepted by the server\n"
		  "msmtp: server message: 550 5.1.1 <nouser@fax.test>: Recipient address rejected: User unknown in virtual mailbox table\n"
		  "msmtp: could not send mail (account default from /tmp/rc)\n", "",
		  EX_NOUSER, 1, 550, "550 5.1.1 <nouser@fax.test>: Recipient address rejected: User unknown in virtual mailbox table", "recipient refused" },
		{ "451 at RCPT", 75,
		  "msmtp: recipient address t@fax.test not accepted by the server\n"
		  "msmtp: server message: 451 4.3.0 <t@fax.test>: Recipient address rejected: try again later\n"
		  "msmtp: could not send mail (account default from /tmp/rc)\n", "",
		  EX_TEMPFAIL, 0, 451, NULL, "temporary SMTP failure: 451 4.3.0" },
		{ "421 exit 69", 69, "msmtp: server message: 421 4.7.0 mx closing connection\n", "",
		  EX_TEMPFAIL, 0, 421, NULL, "421" },
		{ "530 STARTTLS required", 65,
		  "msmtp: envelope from address x@umfax.test not accepted by the server\n"
		  "msmtp: server message: 530 5.7.0 Must issue a STARTTLS command first\n"
		  "msmtp: could not send mail (account default from /tmp/rc)\n", "",
		  EX_UNAVAILABLE, 0, 530, "530 5.7.0 Must issue a STARTTLS command first", "check TLS" },
		{ "Exchange RequireTLS", 69,
		  "msmtp: envelope from address x@c.com not accepted by the server\n"
		  "msmtp: server message: 451 5.7.3 STARTTLS is required to send mail\n", "",
		  EX_TEMPFAIL, 0, 451, NULL, "451 5.7.3" },
		{ "554 client host rejected at RCPT", 65,
		  "msmtp: recipient address b@fax.test not accepted by the server\n"
		  "msmtp: server message: 554 5.7.1 <unknown[127.0.0.2]>: Client host rejected: Access denied\n", "",
		  EX_UNAVAILABLE, 0, 554, NULL, "server refused us" },
		{ "552 message too big at DATA", 65,
		  "msmtp: the server did not accept the mail\n"
		  "msmtp: server message: 552 5.3.4 Message size exceeds fixed limit\n", "",
		  EX_DATAERR, 1, 552, NULL, "mail refused" },
		{ "550 without enhanced code at RCPT", 65,
		  "msmtp: recipient address q@x not accepted by the server\n"
		  "msmtp: server message: 550 No such user here\n", "",
		  EX_NOUSER, 1, 550, NULL, "recipient refused" },
		{ "multi-line reply", 65,
		  "msmtp: recipient address q@x not accepted by the server\n"
		  "msmtp: server message: 550-5.1.1 The email account that you tried to reach does not exist.\n"
		  "msmtp: server message: 550 5.1.1 Please try again.\n", "",
		  EX_NOUSER, 1, 550, "550-5.1.1 The email account that you tried to reach does not exist. 550 5.1.1 Please try again.", NULL },
		{ "connection refused", 75,
		  "msmtp: cannot connect to 127.0.0.1, port 1: Connection refused\n"
		  "msmtp: could not send mail (account default from /tmp/rc)\n", "",
		  EX_TEMPFAIL, 0, 0, "", "cannot connect to 127.0.0.1, port 1: Connection refused" },
		{ "empty reply (no client cert)", 76, "msmtp: the server sent an empty reply\n", "",
		  EX_TEMPFAIL, 0, 0, "", "the server sent an empty reply" },
		{ "TLS failure", 69, "msmtp: TLS handshake failed: The TLS connection was non-properly terminated.\n", "",
		  EX_TEMPFAIL, 0, 0, "", "TLS handshake failed" },
		{ "msmtp config error", 78, "msmtp: account nosuch not found in /tmp/rc\n", "",
		  EX_CONFIG, 0, 0, "", "account nosuch not found" },
		{ "killed", -1, "", "", EX_TEMPFAIL, 0, 0, "", "killed" },
		{ "not found", 127, "", "", EX_CONFIG, 0, 0, "", "not found" },
		{ "garbage", 65, "\x01\x02 junk\r\nserver message: 5", "", EX_TEMPFAIL, 0, 0, NULL, NULL },
		{ "CR and LF in the reply", 65,
		  "msmtp: recipient address a not accepted by the server\nmsmtp: server message: 550 5.1.1 bad\r\x1b[31m\n", "",
		  EX_NOUSER, 1, 550, "550 5.1.1 bad [31m", NULL },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct umfax_submit_result r;
		umfax_submit_classify(t[i].status, t[i].err, t[i].log, &r);
		T_CHECK(r.code == t[i].code, "%s: code %d want %d (%s)", t[i].what, r.code, t[i].code, r.reason);
		T_CHECK(r.permanent == t[i].permanent, "%s: permanent %d", t[i].what, r.permanent);
		T_CHECK(r.smtp == t[i].smtp, "%s: smtp %d want %d", t[i].what, r.smtp, t[i].smtp);
		if (t[i].reply)
			T_STREQ(r.reply, t[i].reply, "%s: reply", t[i].what);
		if (t[i].reason_has)
			T_CHECK(strstr(r.reason, t[i].reason_has) != NULL, "%s: reason '%s' lacks '%s'", t[i].what, r.reason, t[i].reason_has);
		T_CHECK(r.reason[0] != '\0' && strchr(r.reason, '\n') == NULL && strchr(r.reason, '\r') == NULL,
		    "%s: reason is one line", t[i].what);
		/* the exits table agrees: permanent results are permanent codes */
		T_CHECK(r.code == EX_OK || umfax_exit_permanent(r.code) == r.permanent, "%s: exits class", t[i].what);
	}
}

static void
test_check_text(void)
{
	static const struct { const char *text; unsigned mode; int rc; } t[] = {
		{ "account default\nhost x\n", 0644, 0 },
		{ "account default\npassword secret\n", 0600, 0 },
		{ "account default\npassword secret\n", 0640, EX_CONFIG },
		{ "account default\npassword secret\n", 0604, EX_CONFIG },
		{ "account default\n  passwordeval gpg -d x\n", 0644, EX_CONFIG },
		{ "tls_key_file /etc/umfax/fax.key\n", 0644, EX_CONFIG },
		{ "tls_key_file /etc/umfax/fax.key\n", 0700, 0 },
		{ "tls_cert_file /etc/umfax/fax.pem\n", 0644, 0 },
		{ "# password in a comment\n", 0644, 0 },
		{ "passwords_are_not_a_keyword x\n", 0644, 0 },
		{ "\tpassword\n", 0660, EX_CONFIG },
		{ "", 0666, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char err[512] = "";
		int rc = umfax_submit_check_text("rc", t[i].text, strlen(t[i].text), t[i].mode, err, sizeof(err));
		T_CHECK(rc == t[i].rc, "check_text %zu: %d want %d (%s)", i, rc, t[i].rc, err);
		if (rc)
			T_CHECK(strstr(err, "rc:") == err && strstr(err, "chmod 600") != NULL, "error names file and fix: %s", err);
	}
	/* the file check: missing, unsafe, safe */
	char path[] = "/tmp/umfax-submit-test.XXXXXX", err[512];
	int fd = mkstemp(path);
	T_CHECK(fd >= 0, "mkstemp");
	T_CHECK(write(fd, "account default\npassword x\n", 27) == 27, "write");
	close(fd);
	chmod(path, 0644);
	T_CHECK(umfax_submit_check_config(path, err, sizeof(err)) == EX_CONFIG, "0644 file refused");
	T_CHECK(strstr(err, path) != NULL && strstr(err, ":2:") != NULL, "error names file and line: %s", err);
	chmod(path, 0600);
	T_CHECK(umfax_submit_check_config(path, err, sizeof(err)) == 0, "0600 file accepted");
	unlink(path);
	T_CHECK(umfax_submit_check_config(path, err, sizeof(err)) == EX_CONFIG, "missing file refused");
	T_CHECK(strstr(err, "No such file") != NULL, "missing: %s", err);
	T_CHECK(umfax_submit_check_config("/tmp", err, sizeof(err)) == EX_CONFIG, "directory refused");
}

int
main(void)
{
	test_classify();
	test_check_text();
	return T_DONE();
}
