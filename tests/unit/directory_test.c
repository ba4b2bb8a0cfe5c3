/* directory_test.c - the directory: the fax rule's truth table, every number
 * format, every validation error, gateways, FaxServerURI, file edits and
 * concurrent writers. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "directory.h"
#include "dirfile.h"
#include "dirjob.h"
#include "job.h"
#include "t.h"

static int nwarn, lasterrline;
static char lastwarn[1024], errors[8192];

/* Collects every message of a load; errors must come in line order. */
static void count_diag(void *arg, const char *sev, const char *msg)
{
	(void)arg;
	if (strcmp(sev, "warning") == 0) {
		nwarn++;
		snprintf(lastwarn, sizeof lastwarn, "%s", msg);
	} else {
		int line = 0;
		sscanf(msg, "t:%d:", &line);
		if (line < lasterrline)
			snprintf(errors + strlen(errors), sizeof errors - strlen(errors), "OUT OF ORDER ");
		lasterrline = line;
		snprintf(errors + strlen(errors), sizeof errors - strlen(errors), "%s\n", msg);
	}
}

static int parse(struct umfax_dir *d, const char *text, char *err, size_t n)
{
	umfax_dir_init(d);
	d->diag = count_diag;
	errors[0] = '\0';
	lasterrline = 0;
	return umfax_dir_parse(d, "t", text, strlen(text), err, n);
}

/* ---- the truth table ------------------------------------------------------------ */

static void test_truth_table(void)
{
	/* Every combination of dial plan fax-enabled, policy allow-fax, mailbox
	 * fax-enabled, fax-server-uri present: allowed only when all four hold,
	 * and the verdict names the first that said no. */
	for (int row = 0; row < 16; row++) {
		int dpf = !!(row & 8), allow = !!(row & 4), mbf = !!(row & 2), uri = !!(row & 1);
		struct umfax_dialplan dp = { .name = "dp", .fax_enabled = dpf, .extension_digits = 4,
			.phone_context = "", .country_code = "", .gateways_text = "" };
		struct umfax_policy p = { .name = "pol", .dialplan = &dp, .allow_fax = allow,
			.fax_server_uri = uri ? "sip:f:5060;transport=tcp" : "",
			.fax_uri = uri ? "sip:f:5060;transport=tcp" : "", .fax_message_text = "" };
		struct umfax_mailbox m = { .alias = "mb", .smtp = "mb@x", .display_name = "",
			.policy = &p, .fax_enabled = mbf };
		struct umfax_dir_result r;
		enum umfax_dir_verdict want = !dpf ? UMFAX_DIR_DENY_DIALPLAN : !allow ? UMFAX_DIR_DENY_POLICY :
		    !mbf ? UMFAX_DIR_DENY_MAILBOX : !uri ? UMFAX_DIR_DENY_NO_URI : UMFAX_DIR_ALLOW;
		unsigned bits = (!dpf ? UMFAX_DIR_NO_DIALPLAN : 0) | (!allow ? UMFAX_DIR_NO_POLICY : 0) |
		    (!mbf ? UMFAX_DIR_NO_MAILBOX : 0) | (!uri ? UMFAX_DIR_NO_URI : 0);
		T_CHECK(umfax_dir_check(&m, &r) == want, "row %d: %s", row, umfax_dir_verdict_name(r.verdict));
		T_CHECK(r.denied == bits, "row %d: denied %#x want %#x", row, r.denied, bits);
		T_CHECK((strstr(r.reason, "dialplan dp: fax-enabled = false") != NULL) == !dpf, "row %d: %s", row, r.reason);
		T_CHECK((strstr(r.reason, "policy pol: allow-fax = false") != NULL) == !allow, "row %d: %s", row, r.reason);
		T_CHECK((strstr(r.reason, "mailbox mb: fax-enabled = false") != NULL) == !mbf, "row %d: %s", row, r.reason);
		T_CHECK((strstr(r.reason, "policy pol: fax-server-uri is not set") != NULL) == !uri, "row %d: %s", row, r.reason);
		T_CHECK(want != UMFAX_DIR_ALLOW || (r.reason[0] == '\0' && r.fax_uri && strcmp(r.fax_uri, p.fax_uri) == 0),
		    "row %d", row);
	}

	/* The same rows through a real file and umfax_dir_resolve.  allow-fax =
	 * true without a URI must not load at all (the "missing URI" row). */
	for (int row = 0; row < 16; row++) {
		int dpf = !!(row & 8), allow = !!(row & 4), mbf = !!(row & 2), uri = !!(row & 1);
		char text[1024], err[512];
		snprintf(text, sizeof text,
		    "dialplan dp\n  extension-digits = 4\n  fax-enabled = %s\n"
		    "policy pol\n  dialplan = dp\n  allow-fax = %s\n%s"
		    "mailbox mb\n  primary-smtp-address = mb@x.test\n  policy = pol\n  extensions = 1234\n  fax-enabled = %s\n",
		    dpf ? "true" : "false", allow ? "yes" : "no",
		    uri ? "  fax-server-uri = sip:fax.test:5060;transport=tcp\n" : "", mbf ? "on" : "off");
		struct umfax_dir d;
		int rc = parse(&d, text, err, sizeof err);
		if (allow && !uri) {
			T_CHECK(rc < 0 && strstr(err, "t:6: policy pol: allow-fax = true needs a fax-server-uri"),
			    "row %d: %s", row, err);
			continue;
		}
		T_CHECK(rc == 0, "row %d: %s", row, err);
		struct umfax_dir_query q = { .called = "1234" };
		struct umfax_dir_result r;
		enum umfax_dir_verdict want = !dpf ? UMFAX_DIR_DENY_DIALPLAN : !allow ? UMFAX_DIR_DENY_POLICY :
		    !mbf ? UMFAX_DIR_DENY_MAILBOX : !uri ? UMFAX_DIR_DENY_NO_URI : UMFAX_DIR_ALLOW;
		T_CHECK(umfax_dir_resolve(&d, &q, &r) == want, "row %d: %s %s", row,
		    umfax_dir_verdict_name(r.verdict), r.reason);
		T_CHECK(r.mailbox && strcmp(r.mailbox->alias, "mb") == 0, "row %d", row);
		umfax_dir_release(&d);
	}
}

/* ---- number formats ------------------------------------------------------------------ */

static const char dir_text[] =
	"# three dial plans, one of each uri-type\n"
	"dialplan tel\n"
	"    uri-type = telextn\n"
	"    extension-digits = 4\n"
	"    phone-context = tel.contoso.com\n"
	"    gateways = 127.0.0.1, 10.1.0.0/16, 192.0.2.10-192.0.2.20, ::1, 2001:db8::/32\n"
	"dialplan e164\n"
	"    uri-type = e164\n"
	"    extension-digits = 5\n"
	"    country-code = 44\n"
	"    gateways = 198.51.100.7\n"
	"dialplan sip\n"
	"    uri-type = sipname\n"
	"    extension-digits = 3\n"
	"policy fax\n"
	"    dialplan = tel\n"
	"    allow-fax = true\n"
	"    fax-server-uri = sip:fax.contoso.com:5060;transport=tcp\n"
	"    fax-message-text = \"A fax: \\\"see\\\" the attachment.\\nBye\"\n"
	"policy ukfax\n"
	"    dialplan = e164\n"
	"    allow-fax = true\n"
	"    fax-server-uri = sip:[2001:db8::5]:5061;transport=tls\n"
	"policy sipfax\n"
	"    dialplan = sip\n"
	"    allow-fax = true\n"
	"    fax-server-uri = sip:10.0.0.5:5060;transport=udp\n"
	"mailbox tony\n"
	"    primary-smtp-address = tony@contoso.com\n"
	"    display-name = Tony Smith\n"
	"    policy = fax\n"
	"    extensions = 1234, 5678\n"
	"    e164-addresses = +14255551234\n"
	"    sip-addresses = sip:tony@contoso.com, receiver@198.51.100.2\n"
	"mailbox ann\n"
	"    primary-smtp-address = ann@contoso.co.uk\n"
	"    policy = ukfax\n"
	"    extensions = 70001\n"
	"    e164-addresses = +442070001234\n"
	"mailbox sam\n"
	"    primary-smtp-address = sam@contoso.com\n"
	"    policy = sipfax\n"
	"    extensions = 100\n"
	"    sip-addresses = sam@sip.contoso.com\n"
	"mailbox sam2\n"
	"    primary-smtp-address = sam2@contoso.com\n"
	"    policy = sipfax\n"
	"    sip-addresses = sam@other.contoso.com\n";

static void test_numbers(void)
{
	static const struct { const char *in, *alias, *matched, *ext; } t[] = {
		{ "1234", "tony", "1234", "1234" },
		{ "5678", "tony", "5678", "5678" },
		{ "4255551234", "tony", "1234", "1234" },          /* telextn: last 4 digits */
		{ "+1 (425) 555-1234", "tony", "+14255551234", "1234" },
		{ "+1.425.555.5678", "tony", "5678", "5678" },    /* no such E.164: last 4 digits */
		{ "tel:+14255551234", "tony", "+14255551234", "1234" },
		{ "tel:+14255551234;phone-context=+1", "tony", "+14255551234", "1234" },
		{ "tel:1234;phone-context=tel.contoso.com", "tony", "1234", "1234" },
		{ "sip:1234@gw.contoso.com;user=phone", "tony", "1234", "1234" },
		{ "sip:+14255551234@gw.contoso.com:5060;user=phone", "tony", "+14255551234", "1234" },
		{ "sips:%2B14255551234@gw", "tony", "+14255551234", "1234" },
		{ "<sip:1234@10.1.2.3>", "tony", "1234", "1234" },
		{ "\"Tony S\" <sip:1234@10.1.2.3;user=phone>;tag=x", "tony", "1234", "1234" },
		{ "<sip:1234;phone-context=tel.contoso.com@gw;user=phone>", "tony", "1234", "1234" },
		{ "sip:tony@contoso.com", "tony", "tony@contoso.com", "1234" },
		{ "SIP:Tony@Contoso.COM", "tony", "Tony@Contoso.COM", "1234" },
		{ "<sip:receiver@198.51.100.2>", "tony", "receiver@198.51.100.2", "1234" },
		{ "receiver", "tony", "receiver", "1234" },         /* user part alone, unique */
		{ "tony@contoso.com", "tony", "tony@contoso.com", "1234" },
		{ "eum:1234;phone-context=tel.contoso.com", "tony", "1234", "1234" },
		{ "+442070001234", "ann", "+442070001234", "70001" },  /* e164 dial plan */
		{ "442070001234", "ann", "+442070001234", "70001" },   /* '+' added */
		{ "2070001234", "ann", "+442070001234", "70001" },     /* country code added */
		{ "sip:sam@sip.contoso.com", "sam", "sam@sip.contoso.com", "100" },
		{ "sip:sam@other.contoso.com", "sam2", "sam@other.contoso.com", "" },
		{ "sam", NULL, NULL, NULL },                      /* two mailboxes have user "sam" */
		{ "9999", NULL, NULL, NULL },
		{ "123", NULL, NULL, NULL },                        /* shorter than 4 digits */
		{ "", NULL, NULL, NULL },
		{ "<>", NULL, NULL, NULL },
		{ "sip:", NULL, NULL, NULL },
		{ "sip:@host", NULL, NULL, NULL },
		{ "+", NULL, NULL, NULL },
		{ "123456789012345678901234567890123456789", NULL, NULL, NULL },   /* too many digits */
		{ "nobody@contoso.com", NULL, NULL, NULL },
	};
	struct umfax_dir d;
	char err[512];
	T_CHECK(parse(&d, dir_text, err, sizeof err) == 0, "%s", err);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct umfax_dir_query q = { .called = t[i].in };
		struct umfax_dir_result r;
		umfax_dir_resolve(&d, &q, &r);
		if (!t[i].alias) {
			T_CHECK(r.verdict == UMFAX_DIR_NOT_FOUND && !r.mailbox, "\"%s\" found %s", t[i].in,
			    r.mailbox ? r.mailbox->alias : "-");
			T_CHECK(strncmp(r.reason, "directory: no mailbox for", 25) == 0, "%s", r.reason);
			continue;
		}
		T_CHECK(r.mailbox && strcmp(r.mailbox->alias, t[i].alias) == 0, "\"%s\" -> %s, want %s",
		    t[i].in, r.mailbox ? r.mailbox->alias : "none", t[i].alias);
		T_STREQ(r.matched, t[i].matched, "\"%s\"", t[i].in);
		T_STREQ(r.extension, t[i].ext, "\"%s\"", t[i].in);
		T_STREQ(r.source, "called", "\"%s\"", t[i].in);
		T_CHECK(r.verdict == UMFAX_DIR_ALLOW, "\"%s\": %s", t[i].in, r.reason);
	}
	/* the rest of the resolved objects */
	struct umfax_dir_query q = { .called = "1234" };
	struct umfax_dir_result r;
	umfax_dir_resolve(&d, &q, &r);
	T_STREQ(r.policy->name, "fax", "policy");
	T_STREQ(r.dialplan->name, "tel", "dialplan");
	T_STREQ(r.fax_uri, "sip:fax.contoso.com:5060;transport=tcp", "uri");
	T_STREQ(r.policy->fax_message_text, "A fax: \"see\" the attachment.\nBye", "quoted text");
	T_STREQ(r.mailbox->display_name, "Tony Smith", "display name");
	/* restricted to one dial plan */
	q.dialplan = "e164";
	T_CHECK(umfax_dir_resolve(&d, &q, &r) == UMFAX_DIR_NOT_FOUND, "1234 in e164");
	T_CHECK(strstr(r.reason, "(dialplan e164: e164, 5 digits)") != NULL, "%s", r.reason);
	q.dialplan = "nosuch";
	T_CHECK(umfax_dir_resolve(&d, &q, &r) == UMFAX_DIR_NOT_FOUND, "no dial plan");
	T_CHECK(umfax_dir_lookup(&d, "tel", "5678", NULL, 0) == umfax_dir_mailbox(&d, "tony"), "lookup");
	T_CHECK(umfax_dir_lookup(&d, "sip", "5678", NULL, 0) == NULL, "lookup in other plan");
	/* objects by name, case-insensitively */
	T_CHECK(umfax_dir_mailbox(&d, "TONY") != NULL, "alias case");
	T_CHECK(umfax_dir_mailbox_smtp(&d, "smtp:Tony@Contoso.com") == umfax_dir_mailbox(&d, "tony"), "smtp");
	T_CHECK(umfax_dir_mailbox_smtp(&d, "<tony@contoso.com>") != NULL, "smtp <>");
	T_CHECK(umfax_dir_policy(&d, "UKFAX") && umfax_dir_dialplan(&d, "Sip"), "names");
	T_STREQ(umfax_dir_policy(&d, "ukfax")->fax_uri, "sip:[2001:db8::5]:5061;transport=tls", "v6 uri");
	T_CHECK(umfax_dir_dialplan(&d, "tel")->ngateways == 5, "gateways");
	T_CHECK(d.ndialplans == 3 && d.npolicies == 3 && d.nmailboxes == 4, "counts");
	umfax_dir_release(&d);
}

/* ---- Diversion, History-Info, recipient ------------------------------------------ */

static void test_sources(void)
{
	static const struct { const char *rcpt, *div, *hi, *called, *alias, *source; } t[] = {
		{ NULL, "<sip:1234@gw;user=phone>;reason=no-answer;counter=1", NULL, "+18005550000", "tony", "diversion" },
		/* most recent diversion first; the first that names a mailbox wins */
		{ NULL, "<sip:9999@gw>;reason=unconditional, <tel:+442070001234>;reason=user-busy", NULL, NULL, "ann", "diversion" },
		{ NULL, "\"A, B\" <sip:5678@gw>;reason=\"a,b\"", NULL, NULL, "tony", "diversion" },
		{ NULL, "<sip:9999@gw>", NULL, "1234", "tony", "called" },
		{ NULL, NULL, "<sip:1234@gw>;index=1, <sip:pilot@um?Reason=SIP%3Bcause%3D302>;index=1.1", NULL, "tony", "history-info" },
		/* the last index that names a mailbox: 1.2 (ann) beats 1.1 (tony) */
		{ NULL, NULL, "<sip:1234@gw>;index=1.1, <sip:pilot@um>;index=1.3, <sip:+442070001234@gw>;index=1.2", NULL, "ann", "history-info" },
		{ NULL, NULL, "<sip:+442070001234@gw>;index=1.10, <sip:1234@gw>;index=1.9", NULL, "ann", "history-info" },
		{ "smtp:tony@contoso.com", NULL, NULL, "9999", "tony", "recipient" },
		{ "ann@contoso.co.uk", "<sip:1234@gw>", NULL, NULL, "ann", "recipient" },
		{ "sip:sam@sip.contoso.com", NULL, NULL, NULL, "sam", "recipient" },
		{ "smtp:nobody@contoso.com", NULL, NULL, "1234", "tony", "called" },
		{ NULL, "garbage,,,", "<<<>>>;index=", "", NULL, NULL },
	};
	struct umfax_dir d;
	char err[512];
	T_CHECK(parse(&d, dir_text, err, sizeof err) == 0, "%s", err);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct umfax_dir_query q = { .recipient = t[i].rcpt, .diversion = t[i].div,
			.history_info = t[i].hi, .called = t[i].called };
		struct umfax_dir_result r;
		umfax_dir_resolve(&d, &q, &r);
		if (!t[i].alias) {
			T_CHECK(!r.mailbox && r.verdict == UMFAX_DIR_NOT_FOUND, "row %zu", i);
			continue;
		}
		T_CHECK(r.mailbox && strcmp(r.mailbox->alias, t[i].alias) == 0, "row %zu: %s want %s", i,
		    r.mailbox ? r.mailbox->alias : "none", t[i].alias);
		T_STREQ(r.source, t[i].source, "row %zu", i);
	}
	umfax_dir_release(&d);
}

/* ---- jobs (what the pipeline stage does) -------------------------------------- */

static void test_job(void)
{
	struct umfax_dir d;
	struct umfax_job job;
	struct umfax_dir_result r;
	char err[512];
	T_CHECK(parse(&d, dir_text, err, sizeof err) == 0, "%s", err);

	umfax_job_init(&job);
	umfax_job_set(&job, "Job-Id", "j1");
	umfax_job_set(&job, "Called", "+1 425 555 1234");
	umfax_job_set(&job, "Deny-Reason", "old");
	T_CHECK(umfax_dir_job(&d, &job, &r) == EX_OK, "allowed");
	T_STREQ(umfax_job_get(&job, "Recipient"), "tony@contoso.com", "Recipient");
	T_STREQ(umfax_job_get(&job, "Recipient-Name"), "Tony Smith", "Recipient-Name");
	T_STREQ(umfax_job_get(&job, "Policy"), "fax", "Policy");
	T_STREQ(umfax_job_get(&job, "Dial-Plan"), "tel", "Dial-Plan");
	T_STREQ(umfax_job_get(&job, "Extension"), "1234", "Extension");
	T_CHECK(umfax_job_get(&job, "Fax-Message-Text") &&
	    strncmp(umfax_job_get(&job, "Fax-Message-Text"), "A fax: \"see\" the attachment. Bye", 32) == 0, "text");
	T_CHECK(umfax_job_get(&job, "Deny-Reason") == NULL, "old Deny-Reason removed");
	umfax_job_release(&job);

	/* Recipient from Referred-By: that one or nobody (Called is not used) */
	umfax_job_init(&job);
	umfax_job_set(&job, "Recipient", "smtp:nobody@contoso.com");
	umfax_job_set(&job, "Called", "1234");
	T_CHECK(umfax_dir_job(&d, &job, &r) == EX_NOUSER, "unknown recipient");
	T_CHECK(umfax_job_get(&job, "Deny-Reason") &&
	    strstr(umfax_job_get(&job, "Deny-Reason"), "recipient \"smtp:nobody@contoso.com\""), "%s",
	    umfax_job_get(&job, "Deny-Reason"));
	umfax_job_release(&job);

	umfax_job_init(&job);
	umfax_job_set(&job, "Recipient", "ANN@contoso.co.uk");
	T_CHECK(umfax_dir_job(&d, &job, &r) == EX_OK, "recipient");
	T_STREQ(umfax_job_get(&job, "Recipient"), "ann@contoso.co.uk", "primary address");
	T_CHECK(umfax_job_get(&job, "Recipient-Name") == NULL, "no display name");
	umfax_job_release(&job);
	umfax_dir_release(&d);

	/* denied: Deny-Reason names who said no */
	T_CHECK(parse(&d, "dialplan dp\n extension-digits = 4\n fax-enabled = false\n"
	    "policy p\n dialplan = dp\n allow-fax = true\n fax-server-uri = sip:h:1;transport=udp\n"
	    "mailbox m\n primary-smtp-address = m@x.y\n policy = p\n extensions = 1234\n", err, sizeof err) == 0, "%s", err);
	umfax_job_init(&job);
	umfax_job_set(&job, "Called", "1234");
	T_CHECK(umfax_dir_job(&d, &job, &r) == EX_NOPERM, "denied");
	T_STREQ(umfax_job_get(&job, "Deny-Reason"), "dialplan dp: fax-enabled = false", "reason");
	T_CHECK(umfax_job_get(&job, "Recipient") == NULL, "no Recipient when denied");
	umfax_job_release(&job);
	umfax_dir_release(&d);
}

/* ---- validation errors ------------------------------------------------------------ */

#define BASE "dialplan dp\n  extension-digits = 4\npolicy p\n  dialplan = dp\n"
#define MB "mailbox m\n  primary-smtp-address = m@x.test\n  policy = p\n"

static void test_validation(void)
{
	static const struct { const char *text, *err; } t[] = {
		{ "  extension-digits = 4\n", "t:1: indented line before the first dialplan" },
		{ "extension-digits = 4\n", "t:1: field \"extension-digits\" is not indented" },
		{ "dialplans dp\n", "t:1: expected \"dialplan NAME\", \"policy NAME\" or \"mailbox ALIAS\"" },
		{ "dialplan\n", "t:1: dialplan: \"\" is not a valid name" },
		{ "dialplan a b\n", "t:1: dialplan: \"a b\" is not a valid name" },
		{ "dialplan dp\n  extension-digits\n", "t:2: expected \"field = value\"" },
		{ "dialplan dp\n  colour = red\n", "t:2: dialplan dp: unknown field \"colour\"" },
		{ "dialplan dp\n", "t:1: dialplan dp: extension-digits is required" },
		{ "dialplan dp\n  extension-digits = 0\n", "t:2: dialplan dp: extension-digits \"0\" is not a number from 1 to 20" },
		{ "dialplan dp\n  extension-digits = 21\n", "t:2: dialplan dp: extension-digits \"21\"" },
		{ "dialplan dp\n  extension-digits = four\n", "t:2: dialplan dp: extension-digits \"four\"" },
		{ "dialplan dp\n  extension-digits = 4\n  extension-digits = 5\n", "t:3: dialplan dp: extension-digits given twice (first on line 2)" },
		{ "dialplan dp\n  extension-digits = 4\n  uri-type = tel\n", "t:3: dialplan dp: uri-type \"tel\" is not telextn, e164 or sipname" },
		{ "dialplan dp\n  extension-digits = 4\n  fax-enabled = maybe\n", "t:3: dialplan dp: fax-enabled \"maybe\" is not true or false" },
		{ "dialplan dp\n  extension-digits = 4\n  country-code = +1\n", "t:3: dialplan dp: country-code \"+1\" is not 1 to 4 digits" },
		{ "dialplan dp\n  extension-digits = 4\n  gateways = 10.0.0.1, gw.example.com\n", "t:3: dialplan dp: gateways: \"gw.example.com\" is not an IP address" },
		{ "dialplan dp\n  extension-digits = 4\n  gateways = 10.0.0.9-10.0.0.1\n", "t:3: dialplan dp: gateways: \"10.0.0.9-10.0.0.1\"" },
		{ "dialplan dp\n  extension-digits = 4\n  gateways = 10.0.0.0/33\n", "t:3: dialplan dp: gateways: \"10.0.0.0/33\"" },
		{ "dialplan dp\n  extension-digits = 4\n  gateways = 10.0.0.1-::1\n", "t:3: dialplan dp: gateways: \"10.0.0.1-::1\"" },
		{ BASE "dialplan DP\n  extension-digits = 4\n", "t:5: dialplan DP: defined twice (first on line 1)" },
		{ BASE "  allow-fax = true\n", "t:5: policy p: allow-fax = true needs a fax-server-uri" },
		{ BASE "  allow-fax = sure\n", "t:5: policy p: allow-fax \"sure\" is not true or false" },
		{ BASE "  fax-server-uri = fax.contoso.com:5060;transport=tcp\n", "t:5: policy p: fax-server-uri \"fax.contoso.com:5060;transport=tcp\" does not start with sip:" },
		{ BASE "  fax-server-uri = sip:fax.contoso.com:5060\n", "t:5: policy p: fax-server-uri \"sip:fax.contoso.com:5060\" has no ;transport" },
		{ BASE "  fax-server-uri = sip:fax.contoso.com;transport=tcp\n", "t:5: policy p: fax-server-uri \"sip:fax.contoso.com;transport=tcp\" has no port" },
		{ BASE "  fax-server-uri = sip:fax.contoso.com:70000;transport=tcp\n", "t:5: policy p: fax-server-uri \"sip:fax.contoso.com:70000;transport=tcp\": bad port" },
		{ BASE "  fax-server-uri = sip:fax.contoso.com:0;transport=tcp\n", "bad port" },
		{ BASE "  fax-server-uri = sip:fax.contoso.com:5060;transport=sctp\n", "t:5: policy p: fax-server-uri \"sip:fax.contoso.com:5060;transport=sctp\": transport must be udp, tcp or tls" },
		{ BASE "  fax-server-uri = sip:fax.contoso.com:5060;maddr=x\n", "expected ;transport=udp|tcp|tls after the port" },
		{ BASE "  fax-server-uri = sip:user@fax.contoso.com:5060;transport=tcp\n", "must have no user part" },
		{ BASE "  fax-server-uri = sip:fax_contoso:5060;transport=tcp\n", "bad host \"fax_contoso\"" },
		{ BASE "  fax-server-uri = sip:fax:5060;transport=tcpx\n", "transport must be udp, tcp or tls" },
		{ BASE "  fax-message-text = \"unterminated\n", "t:5: policy p: fax-message-text: unterminated quoted value" },
		{ BASE "  fax-message-text = \"a\" b\n", "t:5: policy p: fax-message-text: text after the closing quote" },
		{ "policy p\n  allow-fax = false\n", "t:1: policy p: dialplan is required" },
		{ "policy p\n  dialplan = nope\n", "t:2: policy p: dialplan \"nope\" is not defined" },
		{ BASE "policy P\n  dialplan = dp\n", "t:5: policy P: defined twice (first on line 3)" },
		{ BASE "mailbox m\n  policy = p\n", "t:5: mailbox m: primary-smtp-address is required" },
		{ BASE "mailbox m\n  primary-smtp-address = m@x.test\n", "t:5: mailbox m: policy is required" },
		{ BASE MB "  policy = q\n", "t:8: mailbox m: policy given twice (first on line 7)" },
		{ BASE "mailbox m\n  primary-smtp-address = m@x.test\n  policy = q\n", "t:7: mailbox m: policy \"q\" is not defined" },
		{ BASE "mailbox m\n  primary-smtp-address = m\n  policy = p\n", "t:6: mailbox m: primary-smtp-address \"m\" is not local@domain" },
		{ BASE "mailbox m\n  primary-smtp-address = m@x@y\n  policy = p\n", "is not local@domain" },
		{ BASE MB "  extensions = 12a4\n", "t:8: mailbox m: extensions: \"12a4\" is not 1 to 20 digits" },
		{ BASE MB "  extensions = 12345\n", "t:8: mailbox m: extension 12345 has 5 digits, dialplan dp has 4-digit extensions" },
		{ BASE MB "  extensions = 123\n", "t:8: mailbox m: extension 123 has 3 digits" },
		{ BASE MB "  extensions = 1234\n" "mailbox n\n  primary-smtp-address = n@x.test\n  policy = p\n  extensions = 1234\n",
		  "t:12: mailbox n: extension 1234 is also mailbox m's in dialplan dp (line 5)" },
		{ BASE MB "  e164-addresses = 14255551234\n", "t:8: mailbox m: e164-addresses: \"14255551234\" is not + and 1 to 15 digits" },
		{ BASE MB "  e164-addresses = +1425555123412345\n", "is not + and 1 to 15 digits" },
		{ BASE MB "  e164-addresses = +1\n" "mailbox n\n  primary-smtp-address = n@x.test\n  policy = p\n  e164-addresses = +1\n",
		  "t:12: mailbox n: e164 address +1 is also mailbox m's (line 5)" },
		{ BASE MB "  sip-addresses = tony\n", "t:8: mailbox m: sip-addresses: \"tony\" is not user@host" },
		{ BASE MB "  sip-addresses = a@b\n" "mailbox n\n  primary-smtp-address = n@x.test\n  policy = p\n  sip-addresses = sip:A@B\n",
		  "t:12: mailbox n: sip address A@B is also mailbox m's (line 5)" },
		{ BASE MB "mailbox n\n  primary-smtp-address = M@x.test\n  policy = p\n",
		  "t:9: mailbox n: primary-smtp-address M@x.test is also mailbox m's (line 5)" },
		{ BASE MB "mailbox M\n  primary-smtp-address = n@x.test\n  policy = p\n", "t:8: mailbox M: defined twice (first on line 5)" },
		{ BASE MB "  fax-enabled = 2\n", "t:8: mailbox m: fax-enabled \"2\" is not true or false" },
		{ BASE "\x01\n", "t:5: control character 0x01" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct umfax_dir d;
		char err[512] = "";
		int rc = parse(&d, t[i].text, err, sizeof err);
		T_CHECK(rc < 0 && errno == EINVAL, "case %zu loaded: %s", i, t[i].text);
		/* the expected error is among those reported, ERR is the first of them */
		T_CHECK(strstr(errors, t[i].err) != NULL, "case %zu: got \"%s\", want \"%s\"", i, errors, t[i].err);
		T_CHECK(err[0] && strncmp(errors, err, strlen(err)) == 0, "case %zu: ERR \"%s\" is not the first of \"%s\"", i, err, errors);
		T_CHECK(strstr(errors, "OUT OF ORDER") == NULL, "case %zu: %s", i, errors);
		T_CHECK(d.nmailboxes == 0 && d.ndialplans == 0, "case %zu: left empty", i);
	}
	/* the NUL case with its real length */
	{
		struct umfax_dir d;
		char err[256];
		umfax_dir_init(&d);
		T_CHECK(umfax_dir_parse(&d, "t", "dialplan dp\n\0x", 14, err, sizeof err) < 0 &&
		    strstr(err, "NUL byte"), "%s", err);
	}
	/* fax-message-text: 1024 characters are fine (UTF-8 counts characters), 1025 are not */
	{
		char text[8192], err[512];
		struct umfax_dir d;
		for (int n = 1024; n <= 1025; n++) {
			int o = snprintf(text, sizeof text, BASE "  fax-message-text = ");
			for (int k = 0; k < n; k++)
				o += snprintf(text + o, sizeof text - (size_t)o, "%s", k % 2 ? "\xc3\xa9" : "e");
			snprintf(text + o, sizeof text - (size_t)o, "\n");
			int rc = parse(&d, text, err, sizeof err);
			if (n == 1024)
				T_CHECK(rc == 0, "1024 chars: %s", err);
			else
				T_CHECK(rc < 0 && strstr(err, "t:5: policy p: fax-message-text has 1025 characters, at most 1024"), "%s", err);
			umfax_dir_release(&d);
		}
	}
	/* several errors: all reported to diag, the first in ERR */
	{
		struct umfax_dir d;
		char err[512];
		T_CHECK(parse(&d, "dialplan b\n  extension-digits = 4\n  x = 1\ndialplan a\n  y = 2\n  extension-digits = 99\n", err, sizeof err) < 0, "errors");
		T_CHECK(strstr(err, "t:3: dialplan b: unknown field \"x\"") != NULL, "first by line: %s", err);
		T_CHECK(strcmp(errors, "t:3: dialplan b: unknown field \"x\"\n"
		    "t:5: dialplan a: unknown field \"y\"\nt:6: dialplan a: extension-digits \"99\" is not a number from 1 to 20\n") == 0,
		    "all, in line order: %s", errors);
	}
	/* warnings: several URIs, only the first used */
	{
		struct umfax_dir d;
		char err[512];
		nwarn = 0;
		T_CHECK(parse(&d, BASE "  allow-fax = true\n  fax-server-uri = sip:a.test:5060;transport=tcp;sip:b.test:5060;transport=tcp\n",
		    err, sizeof err) == 0, "%s", err);
		T_CHECK(nwarn == 1 && d.nwarnings == 1, "warned %d", nwarn);
		T_CHECK(strstr(lastwarn, "t:6: policy p: fax-server-uri") && strstr(lastwarn, "only the first (sip:a.test:5060;transport=tcp) is used"),
		    "%s", lastwarn);
		T_STREQ(umfax_dir_policy(&d, "p")->fax_uri, "sip:a.test:5060;transport=tcp", "first used");
		umfax_dir_release(&d);
	}
	/* what is accepted: comments, CRLF, tabs, quoted spaces, $true */
	{
		struct umfax_dir d;
		char err[512];
		T_CHECK(parse(&d, "# c\r\ndialplan dp\r\n\textension-digits=4\r\n  # indented comment\r\n\r\n"
		    "policy p\n  dialplan = dp\n  allow-fax = $true\n  fax-server-uri =   sip:h.test:1;transport=UDP   \n"
		    "  fax-message-text = \"  spaced # not a comment \"\n", err, sizeof err) == 0, "%s", err);
		T_STREQ(umfax_dir_policy(&d, "p")->fax_message_text, "  spaced # not a comment ", "quoted");
		T_STREQ(umfax_dir_policy(&d, "p")->fax_server_uri, "sip:h.test:1;transport=UDP", "trimmed");
		T_CHECK(umfax_dir_policy(&d, "p")->allow_fax == 1, "$true");
		T_CHECK(umfax_dir_dialplan(&d, "dp")->fax_enabled == 1 &&
		    umfax_dir_dialplan(&d, "dp")->uri_type == UMFAX_URI_TELEXTN, "defaults");
		T_CHECK(umfax_dir_dialplan(&d, "dp")->line == 2, "line");
		umfax_dir_release(&d);
	}
	/* the empty file is a valid, empty directory */
	{
		struct umfax_dir d;
		char err[64];
		T_CHECK(parse(&d, "", err, sizeof err) == 0 && d.nmailboxes == 0, "empty");
		struct umfax_dir_query q = { .called = "1234" };
		struct umfax_dir_result r;
		T_CHECK(umfax_dir_resolve(&d, &q, &r) == UMFAX_DIR_NOT_FOUND, "empty lookup");
		umfax_dir_release(&d);
	}
}

/* ---- FaxServerURI -------------------------------------------------------------------- */

static void test_faxuri(void)
{
	static const struct { const char *in; int rc; const char *first; } t[] = {
		{ "sip:faxserver.abc.com:5060;transport=tcp", 0, "sip:faxserver.abc.com:5060;transport=tcp" },
		{ "SIP:10.0.0.1:5090;TRANSPORT=udp", 0, "SIP:10.0.0.1:5090;TRANSPORT=udp" },
		{ "sip:[::1]:5061;transport=tls", 0, "sip:[::1]:5061;transport=tls" },
		{ "sip:a:1;transport=tcp;sip:b:2;transport=udp", 1, "sip:a:1;transport=tcp" },
		{ "sip:a:1;transport=tcp;", 1, "sip:a:1;transport=tcp" },
		{ "sip:a:1;transport=tcp x", -1, "" },
		{ "sip:[::1:1;transport=tls", -1, "" },
		{ "sip:[zz]:1;transport=tls", -1, "" },
		{ "sip::1;transport=tls", -1, "" },
		{ "sip:a:;transport=tls", -1, "" },
		{ "sip:a:-1;transport=tls", -1, "" },
		{ "", -1, "" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char first[128], why[256];
		int rc = umfax_dir_faxuri_check(t[i].in, first, sizeof first, why, sizeof why);
		T_CHECK(rc == t[i].rc, "\"%s\": %d (%s)", t[i].in, rc, why);
		if (rc >= 0)
			T_STREQ(first, t[i].first, "\"%s\"", t[i].in);
	}
}

/* ---- gateways ---------------------------------------------------------------------- */

static socklen_t mkaddr(const char *s, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *b = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, s, &a->sin_addr) == 1) {
		a->sin_family = AF_INET;
		return sizeof *a;
	}
	if (inet_pton(AF_INET6, s, &b->sin6_addr) == 1) {
		b->sin6_family = AF_INET6;
		return sizeof *b;
	}
	return 0;
}

static void test_gateways(void)
{
	static const struct { const char *range, *addr; int ok; } t[] = {
		{ "127.0.0.1", "127.0.0.1", 1 },
		{ "127.0.0.1", "127.0.0.2", 0 },
		{ "127.0.0.1", "::ffff:127.0.0.1", 1 },     /* v4-mapped */
		{ "127.0.0.1", "::1", 0 },
		{ "::1", "::1", 1 },
		{ "[::1]", "::1", 1 },
		{ "::1", "127.0.0.1", 0 },
		{ "10.0.0.0/8", "10.255.255.255", 1 },
		{ "10.0.0.0/8", "11.0.0.0", 0 },
		{ "10.1.2.3/8", "10.200.0.1", 1 },           /* host bits ignored */
		{ "0.0.0.0/0", "203.0.113.9", 1 },
		{ "192.0.2.10/32", "192.0.2.10", 1 },
		{ "192.0.2.10/31", "192.0.2.11", 1 },
		{ "192.0.2.10/31", "192.0.2.12", 0 },
		{ "192.0.2.10-192.0.2.20", "192.0.2.10", 1 },
		{ "192.0.2.10-192.0.2.20", "192.0.2.20", 1 },
		{ "192.0.2.10-192.0.2.20", "192.0.2.21", 0 },
		{ "192.0.2.10-192.0.2.20", "192.0.2.9", 0 },
		{ " 192.0.2.10 - 192.0.2.20 ", "192.0.2.15", 1 },
		{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
		{ "2001:db8::/32", "2001:db9::1", 0 },
		{ "2001:db8::/127", "2001:db8::1", 1 },
		{ "2001:db8::/127", "2001:db8::2", 0 },
		{ "2001:db8::1-2001:db8::ff", "2001:db8::80", 1 },
		{ "2001:db8::1-2001:db8::ff", "2001:db8::100", 0 },
		{ "::/0", "2001:db8::1", 1 },
		{ "::/0", "192.0.2.1", 0 },
	};
	static const char *const bad[] = { "", "x", "1.2.3", "1.2.3.4/", "1.2.3.4/x", "1.2.3.4/33",
		"::1/129", "1.2.3.4-", "-1.2.3.4", "1.2.3.5-1.2.3.4", "1.2.3.4-::1", "1.2.3.4/8-1.2.3.5",
		"1.2.3.4/8/8", "[1.2.3.4", "1.2.3.4/ 8 x" };
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct umfax_iprange r;
		struct sockaddr_storage ss;
		socklen_t l = mkaddr(t[i].addr, &ss);
		T_CHECK(umfax_iprange_parse(t[i].range, &r) == 0, "parse %s", t[i].range);
		T_CHECK(umfax_iprange_match(&r, (struct sockaddr *)&ss, l) == t[i].ok, "%s in %s", t[i].addr, t[i].range);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct umfax_iprange r;
		T_CHECK(umfax_iprange_parse(bad[i], &r) < 0, "\"%s\" accepted", bad[i]);
	}
	/* through the directory: umfax_dir_gateway and the gateway in a query */
	struct umfax_dir d;
	char err[256];
	struct sockaddr_storage ss;
	socklen_t l;
	T_CHECK(parse(&d, dir_text, err, sizeof err) == 0, "%s", err);
	l = mkaddr("192.0.2.15", &ss);
	T_CHECK(umfax_dir_gateway(&d, (struct sockaddr *)&ss, l) == umfax_dir_dialplan(&d, "tel"), "tel gw");
	l = mkaddr("198.51.100.7", &ss);
	T_CHECK(umfax_dir_gateway(&d, (struct sockaddr *)&ss, l) == umfax_dir_dialplan(&d, "e164"), "e164 gw");
	l = mkaddr("203.0.113.1", &ss);
	T_CHECK(umfax_dir_gateway(&d, (struct sockaddr *)&ss, l) == NULL, "unknown gw");
	T_CHECK(umfax_dir_gateway(&d, NULL, 0) == NULL, "null");
	struct umfax_dir_query q = { .called = "1234", .gateway = (struct sockaddr *)&ss, .gateway_len = l };
	struct umfax_dir_result r;
	T_CHECK(umfax_dir_resolve(&d, &q, &r) == UMFAX_DIR_DENY_GATEWAY, "%s", r.reason);
	T_STREQ(r.reason, "dialplan tel: gateways does not list 203.0.113.1", "gw reason");
	T_CHECK(r.denied == UMFAX_DIR_NO_GATEWAY, "bits");
	l = mkaddr("2001:db8::7", &ss);
	q.gateway_len = l;
	T_CHECK(umfax_dir_resolve(&d, &q, &r) == UMFAX_DIR_ALLOW, "%s", r.reason);
	/* the same extension in two dial plans: the gateway's dial plan wins */
	{
		struct umfax_dir d2;
		char e2[256];
		struct sockaddr_storage s2;
		T_CHECK(parse(&d2, "dialplan a\n extension-digits = 4\n gateways = 10.0.0.1\n phone-context = a.example\n"
		    "dialplan b\n extension-digits = 4\n gateways = 10.0.0.2\n phone-context = b.example\n"
		    "policy pa\n dialplan = a\n allow-fax = true\n fax-server-uri = sip:fa:1;transport=udp\n"
		    "policy pb\n dialplan = b\n allow-fax = true\n fax-server-uri = sip:fb:1;transport=udp\n"
		    "mailbox ma\n primary-smtp-address = ma@x.y\n policy = pa\n extensions = 1234\n"
		    "mailbox mb\n primary-smtp-address = mb@x.y\n policy = pb\n extensions = 1234\n", e2, sizeof e2) == 0, "%s", e2);
		struct umfax_dir_query q2 = { .called = "1234" };
		T_CHECK(umfax_dir_resolve(&d2, &q2, &r) == UMFAX_DIR_ALLOW && strcmp(r.mailbox->alias, "ma") == 0, "file order");
		q2.gateway = (struct sockaddr *)&s2;
		q2.gateway_len = mkaddr("10.0.0.2", &s2);
		T_CHECK(umfax_dir_resolve(&d2, &q2, &r) == UMFAX_DIR_ALLOW && strcmp(r.mailbox->alias, "mb") == 0, "gateway's plan");
		T_STREQ(r.fax_uri, "sip:fb:1;transport=udp", "b's uri");
		q2.gateway_len = mkaddr("10.0.0.1", &s2);
		T_CHECK(umfax_dir_resolve(&d2, &q2, &r) == UMFAX_DIR_ALLOW && strcmp(r.mailbox->alias, "ma") == 0, "a's gateway");
		q2.gateway_len = mkaddr("10.0.0.3", &s2);
		T_CHECK(umfax_dir_resolve(&d2, &q2, &r) == UMFAX_DIR_DENY_GATEWAY, "unknown gateway: %s", r.reason);
		/* a phone-context names the dial plan */
		struct umfax_dir_query q3 = { .called = "tel:1234;phone-context=B.example" };
		T_CHECK(umfax_dir_resolve(&d2, &q3, &r) == UMFAX_DIR_ALLOW && strcmp(r.mailbox->alias, "mb") == 0, "context b");
		q3.called = "<sip:1234;phone-context=a.example@gw;user=phone>";
		T_CHECK(umfax_dir_resolve(&d2, &q3, &r) == UMFAX_DIR_ALLOW && strcmp(r.mailbox->alias, "ma") == 0, "context a");
		q3.called = "tel:1234;phone-context=+1";
		T_CHECK(umfax_dir_resolve(&d2, &q3, &r) == UMFAX_DIR_ALLOW && strcmp(r.mailbox->alias, "ma") == 0, "unknown context");
		umfax_dir_release(&d2);
	}
	/* a dial plan without gateways accepts calls from none */
	q.called = "sip:sam@sip.contoso.com";
	T_CHECK(umfax_dir_resolve(&d, &q, &r) == UMFAX_DIR_DENY_GATEWAY, "%s", r.reason);
	umfax_dir_release(&d);
}

/* ---- editing the file ------------------------------------------------------------------ */

static const char edit_text[] =
	"# header comment\n"
	"\n"
	"dialplan dp\n"
	"\textension-digits = 4\n"
	"\t# keep me\n"
	"\tfax-enabled = true\n"
	"\n"
	"# the fax policy\n"
	"policy p\n"
	"\tdialplan = dp\n"
	"\tallow-fax = true\n"
	"\tfax-server-uri = sip:f.test:5060;transport=tcp\n"
	"\n"
	"# tony's mailbox\n"
	"mailbox tony\n"
	"\tprimary-smtp-address = tony@x.test\n"
	"\tpolicy = p\n"
	"\textensions = 1234\n"
	"\n"
	"# trailing comment\n";

static char *edit(const char *in, const struct umfax_dirchange *ch, size_t n, int *rc, char *err, size_t errlen)
{
	char *out = NULL;
	size_t len;
	*rc = umfax_dirfile_edit(in, strlen(in), ch, n, &out, &len, err, errlen);
	if (*rc == 0) {
		struct umfax_dir d;
		char perr[512];
		if (parse(&d, out, perr, sizeof perr) < 0) {
			*rc = -1;
			snprintf(err, errlen, "%s", perr);
		}
		umfax_dir_release(&d);
	}
	return out;
}

static void test_edit(void)
{
	char err[512];
	int rc;
	const char *f1[] = { "fax-enabled=false" };
	struct umfax_dirchange c1 = { UMFAX_DIROP_SET, UMFAX_DIRKIND_DIALPLAN, "DP", f1, 1 };
	char *out = edit(edit_text, &c1, 1, &rc, err, sizeof err);
	T_CHECK(rc == 0, "%s", err);
	T_CHECK(out && strstr(out, "\textension-digits = 4\n\t# keep me\n\tfax-enabled = false\n\n# the fax policy\n"), "%s", out);
	T_CHECK(out && strlen(out) == strlen(edit_text) + 1, "only one line changed");
	free(out);

	/* a new field goes after the last field, with the block's indentation; quoting */
	const char *f2[] = { "display-name= \"T\" Tony\tSmith ", "fax-enabled = no" };
	struct umfax_dirchange c2 = { UMFAX_DIROP_SET, UMFAX_DIRKIND_MAILBOX, "tony", f2, 2 };
	out = edit(edit_text, &c2, 1, &rc, err, sizeof err);
	T_CHECK(rc == 0, "%s", err);
	T_CHECK(out && strstr(out, "\textensions = 1234\n\tdisplay-name = \"\\\"T\\\" Tony\\tSmith\"\n\tfax-enabled = no\n\n# trailing comment\n"),
	    "%s", out);
	{
		struct umfax_dir d;
		T_CHECK(out && parse(&d, out, err, sizeof err) == 0, "%s", err);
		T_STREQ(umfax_dir_mailbox(&d, "tony")->display_name, "\"T\" Tony\tSmith", "round trip");
		T_CHECK(umfax_dir_mailbox(&d, "tony")->fax_enabled == 0, "fax off");
		umfax_dir_release(&d);
	}
	free(out);

	/* an empty value removes the line (back to the default) */
	const char *f3[] = { "fax-enabled=" };
	struct umfax_dirchange c3 = { UMFAX_DIROP_SET, UMFAX_DIRKIND_DIALPLAN, "dp", f3, 1 };
	out = edit(edit_text, &c3, 1, &rc, err, sizeof err);
	T_CHECK(rc == 0 && out && !strstr(out, "fax-enabled") && strstr(out, "\t# keep me\n\n# the fax policy"), "%s", out);
	free(out);

	/* new: appended after a blank line; remove: its comment goes, others stay */
	const char *f4[] = { "primary-smtp-address=ann@x.test", "policy=p", "extensions=1235" };
	struct umfax_dirchange c4[] = {
		{ UMFAX_DIROP_NEW, UMFAX_DIRKIND_MAILBOX, "ann", f4, 3 },
		{ UMFAX_DIROP_REMOVE, UMFAX_DIRKIND_MAILBOX, "tony", NULL, 0 },
	};
	out = edit(edit_text, c4, 2, &rc, err, sizeof err);
	T_CHECK(rc == 0, "%s", err);
	T_CHECK(out && !strstr(out, "tony") && strstr(out, "# trailing comment\n\nmailbox ann\n    primary-smtp-address = ann@x.test\n"
	    "    policy = p\n    extensions = 1235\n") && strstr(out, "# the fax policy\npolicy p\n"), "%s", out);
	T_CHECK(out && strncmp(out, "# header comment\n\ndialplan dp\n", 30) == 0, "%s", out);
	free(out);

	/* upsert */
	const char *f5[] = { "extensions=4321" };
	struct umfax_dirchange c5[] = {
		{ UMFAX_DIROP_UPSERT, UMFAX_DIRKIND_MAILBOX, "tony", f5, 1 },
	};
	out = edit(edit_text, c5, 1, &rc, err, sizeof err);
	T_CHECK(rc == 0 && out && strstr(out, "\textensions = 4321\n") && !strstr(out, "1234"), "%s", out);
	free(out);

	/* errors of form */
	const struct { struct umfax_dirchange c; int rc; const char *err; } bad[] = {
		{ { UMFAX_DIROP_SET, UMFAX_DIRKIND_MAILBOX, "nobody", f5, 1 }, EX_NOINPUT, "no mailbox nobody" },
		{ { UMFAX_DIROP_REMOVE, UMFAX_DIRKIND_POLICY, "nope", NULL, 0 }, EX_NOINPUT, "no policy nope" },
		{ { UMFAX_DIROP_NEW, UMFAX_DIRKIND_MAILBOX, "TONY", f5, 1 }, EX_DATAERR, "mailbox TONY already exists" },
		{ { UMFAX_DIROP_SET, UMFAX_DIRKIND_MAILBOX, "tony", NULL, 0 }, EX_USAGE, "nothing to set" },
		{ { UMFAX_DIROP_SET, UMFAX_DIRKIND_MAILBOX, "tony", (const char *[]){ "colour=red" }, 1 }, EX_DATAERR,
		  "mailbox tony: unknown field \"colour\" (known: primary-smtp-address," },
		{ { UMFAX_DIROP_SET, UMFAX_DIRKIND_MAILBOX, "tony", (const char *[]){ "fax-enabled" }, 1 }, EX_DATAERR,
		  "\"fax-enabled\" is not field=value" },
		{ { UMFAX_DIROP_NEW, UMFAX_DIRKIND_MAILBOX, "a b", NULL, 0 }, EX_DATAERR, "not a valid name" },
		{ { UMFAX_DIROP_NEW, UMFAX_DIRKIND_MAILBOX, "", NULL, 0 }, EX_USAGE, "a name is required" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		out = edit(edit_text, &bad[i].c, 1, &rc, err, sizeof err);
		T_CHECK(rc == bad[i].rc && strstr(err, bad[i].err), "bad %zu: %d %s", i, rc, err);
		free(out);
	}
	/* valid in form, rejected by validation (checked in apply) */
	const char *f6[] = { "allow-fax=true", "fax-server-uri=" };
	struct umfax_dirchange c6 = { UMFAX_DIROP_SET, UMFAX_DIRKIND_POLICY, "p", f6, 2 };
	out = edit(edit_text, &c6, 1, &rc, err, sizeof err);
	T_CHECK(rc == -1 && strstr(err, "policy p: allow-fax = true needs a fax-server-uri"), "%d %s", rc, err);
	free(out);
}

/* ---- the file on disk: atomic, locked, untouched on rejection ------------------- */

static char *readfile(const char *path)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return NULL;
	char *buf = calloc(1, 1 << 20);
	size_t n = buf ? fread(buf, 1, (1 << 20) - 1, fp) : 0;
	(void)n;
	fclose(fp);
	return buf;
}

static void test_apply(void)
{
	char dir[] = "/tmp/dirtestXXXXXX", path[256], err[600];
	T_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof path, "%s/directory.conf", dir);
	FILE *fp = fopen(path, "w");
	T_CHECK(fp && fputs(edit_text, fp) >= 0 && fclose(fp) == 0, "write");
	chmod(path, 0644);
	struct stat st0, st1;
	stat(path, &st0);

	/* rejected: the file is byte for byte and inode for inode the same */
	const char *bad[] = { "extensions=99999" };
	struct umfax_dirchange c = { UMFAX_DIROP_SET, UMFAX_DIRKIND_MAILBOX, "tony", bad, 1 };
	int rc = umfax_dirfile_apply(path, &c, 1, 5, err, sizeof err);
	T_CHECK(rc == EX_DATAERR && strstr(err, "change rejected") && strstr(err, "extension 99999 has 5 digits"), "%d %s", rc, err);
	char *now = readfile(path);
	T_CHECK(now && strcmp(now, edit_text) == 0, "untouched");
	free(now);
	stat(path, &st1);
	T_CHECK(st0.st_ino == st1.st_ino, "same inode");

	/* accepted: new inode, same mode, no temp files left */
	const char *good[] = { "extensions=4321" };
	c.fields = good;
	rc = umfax_dirfile_apply(path, &c, 1, 5, err, sizeof err);
	T_CHECK(rc == 0, "%s", err);
	stat(path, &st1);
	T_CHECK(st0.st_ino != st1.st_ino && (st1.st_mode & 0777) == 0644, "replaced, mode %o", st1.st_mode & 0777);
	now = readfile(path);
	T_CHECK(now && strstr(now, "\textensions = 4321\n# ") == NULL && strstr(now, "\textensions = 4321\n"), "%s", now);
	free(now);
	char tmp[300];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	T_CHECK(access(tmp, F_OK) != 0, "no temp file");

	/* a missing file is created */
	char path2[300];
	snprintf(path2, sizeof path2, "%s/new.conf", dir);
	const char *dpf[] = { "extension-digits=5" };
	struct umfax_dirchange c2 = { UMFAX_DIROP_NEW, UMFAX_DIRKIND_DIALPLAN, "dp", dpf, 1 };
	T_CHECK(umfax_dirfile_apply(path2, &c2, 1, 5, err, sizeof err) == 0, "%s", err);
	now = readfile(path2);
	T_CHECK(now && strcmp(now, "dialplan dp\n    extension-digits = 5\n") == 0, "%s", now);
	free(now);

	/* a symbolic link to the directory stays a link; its target changes */
	{
		char link[300], target[300];
		snprintf(target, sizeof target, "%s/real.conf", dir);
		snprintf(link, sizeof link, "%s/link.conf", dir);
		fp = fopen(target, "w");
		T_CHECK(fp && fputs("dialplan dp\n  extension-digits = 4\n", fp) >= 0 && fclose(fp) == 0, "target");
		T_CHECK(symlink("real.conf", link) == 0, "symlink");
		const char *ff[] = { "fax-enabled=false" };
		struct umfax_dirchange cl = { UMFAX_DIROP_SET, UMFAX_DIRKIND_DIALPLAN, "dp", ff, 1 };
		T_CHECK(umfax_dirfile_apply(link, &cl, 1, 5, err, sizeof err) == 0, "%s", err);
		struct stat ls;
		T_CHECK(lstat(link, &ls) == 0 && S_ISLNK(ls.st_mode), "still a link");
		now = readfile(target);
		T_CHECK(now && strstr(now, "fax-enabled = false"), "target changed: %s", now);
		free(now);
	}

	/* concurrent writers: 6 processes x 15 new mailboxes, nothing lost */
	enum { NPROC = 6, NEACH = 15 };
	pid_t pids[NPROC];
	for (int p = 0; p < NPROC; p++) {
		if ((pids[p] = fork()) == 0) {
			int fails = 0;
			for (int k = 0; k < NEACH; k++) {
				char alias[32], smtp[64], ext[64], e2[600];
				snprintf(alias, sizeof alias, "u%d_%d", p, k);
				snprintf(smtp, sizeof smtp, "primary-smtp-address=u%d_%d@x.test", p, k);
				snprintf(ext, sizeof ext, "extensions=%d%03d", 5 + p / 10, p * 100 + k);
				const char *fl[] = { smtp, "policy=p", ext };
				struct umfax_dirchange cc = { UMFAX_DIROP_NEW, UMFAX_DIRKIND_MAILBOX, alias, fl, 3 };
				if (umfax_dirfile_apply(path, &cc, 1, 30, e2, sizeof e2) != 0) {
					fprintf(stderr, "child %d: %s\n", p, e2);
					fails++;
				}
			}
			_exit(fails ? 1 : 0);
		}
	}
	int allok = 1;
	for (int p = 0; p < NPROC; p++) {
		int status;
		if (pids[p] < 0 || waitpid(pids[p], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			allok = 0;
	}
	T_CHECK(allok, "children");
	struct umfax_dir d;
	umfax_dir_init(&d);
	T_CHECK(umfax_dir_load(&d, path, err, sizeof err) == 0, "%s", err);
	T_CHECK(d.nmailboxes == 1 + NPROC * NEACH, "%zu mailboxes", d.nmailboxes);
	T_CHECK(umfax_dir_mailbox(&d, "u5_14") && umfax_dir_lookup(&d, NULL, "5514", NULL, 0) == umfax_dir_mailbox(&d, "u5_14"),
	    "last one");
	now = readfile(path);
	T_CHECK(now && strncmp(now, "# header comment\n", 17) == 0 && strstr(now, "\t# keep me\n"), "comments kept");
	free(now);

	/* reload picks up a change, keeps the old directory on a bad file */
	T_CHECK(umfax_dir_reload(&d, err, sizeof err) == 0, "unchanged: %s", err);
	const char *off[] = { "fax-enabled=false" };
	struct umfax_dirchange c3 = { UMFAX_DIROP_SET, UMFAX_DIRKIND_MAILBOX, "tony", off, 1 };
	T_CHECK(umfax_dirfile_apply(path, &c3, 1, 5, err, sizeof err) == 0, "%s", err);
	T_CHECK(umfax_dir_reload(&d, err, sizeof err) == 1, "reloaded: %s", err);
	T_CHECK(umfax_dir_mailbox(&d, "tony")->fax_enabled == 0, "new value");
	/* the index of the reloaded directory (extensions check the dial plan
	 * through the mailbox arrays) */
	T_CHECK(umfax_dir_lookup(&d, NULL, "4321", NULL, 0) == umfax_dir_mailbox(&d, "tony"), "ext after reload");
	T_CHECK(umfax_dir_lookup(&d, "dp", "14255515514", NULL, 0) == umfax_dir_mailbox(&d, "u5_14"), "ext after reload");
	fp = fopen(path, "a");
	T_CHECK(fp && fputs("garbage\n", fp) >= 0 && fclose(fp) == 0, "break it");
	T_CHECK(umfax_dir_reload(&d, err, sizeof err) == -1 && strstr(err, "garbage"), "%s", err);
	T_CHECK(umfax_dir_mailbox(&d, "tony") != NULL && d.nmailboxes == 1 + NPROC * NEACH, "old kept");
	umfax_dir_release(&d);

	/* load errors name the file */
	T_CHECK(umfax_dir_load(&d, "/nonexistent/dir.conf", err, sizeof err) < 0 && errno == ENOENT &&
	    strstr(err, "/nonexistent/dir.conf: No such file"), "%s", err);
	T_CHECK(umfax_dir_load(&d, dir, err, sizeof err) < 0 && strstr(err, "not a regular file"), "%s", err);

	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	T_CHECK(system(cmd) == 0, "cleanup");
}

int main(void)
{
	setenv("UMFAX_LOG_SYSLOG", "0", 1);
	test_truth_table();
	test_numbers();
	test_sources();
	test_job();
	test_validation();
	test_faxuri();
	test_gateways();
	test_edit();
	test_apply();
	return T_DONE();
}
