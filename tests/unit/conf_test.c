/* conf_test.c - umfax.conf parsing, defaults, printing, secret checks; the exits table */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "conf.h"
#include "exits.h"
#include "t.h"

static void
test_parse(void)
{
	static const struct {
		const char *in;
		int ok;
		const char *errpart;
	} t[] = {
		{ "", 1, NULL },
		{ "# comment\n\n  retry_min = 10\n", 1, NULL },
		{ "retry_min=10", 1, NULL },
		{ "retry_min = 0\n", 0, "t.conf:1: retry_min must be from 1" },
		{ "retry_min = ten\n", 0, "t.conf:1: retry_min must be a whole number" },
		{ "\n\nno_such = 1\n", 0, "t.conf:3: unknown setting \"no_such\"" },
		{ "just words\n", 0, "t.conf:1: expected \"name = value\"" },
		{ "syslog_facility = local3\n", 1, NULL },
		{ "syslog_facility = kern\n", 0, "must be one of" },
		{ "mail_from = \" spaced \"\n", 1, NULL },
		{ "retry_min = 99999999999999999999\n", 0, "whole number" },
		/* routes */
		{ "t38live_ecm = no\n[route east]\nt38live_ecm = yes\nroute_called = 44*\n", 1, NULL },
		{ "[route a]\n[route b]\n", 1, NULL },
		{ "[ route  a-1.x_2 ]\n", 1, NULL },
		{ "[route east]\nretry_min = 10\n", 0, "t.conf:2: retry_min cannot be set per route" },
		{ "route_called = 44*\n", 0, "t.conf:1: route_called belongs in a [route NAME]" },
		{ "[route a]\n[route a]\n", 0, "t.conf:2: route \"a\" is defined twice" },
		{ "[route a b]\n", 0, "t.conf:1: route name must be" },
		{ "[route]\n", 0, "t.conf:1: unknown section" },
		{ "[routes a]\n", 0, "t.conf:1: unknown section" },
		{ "[mailbox a]\n", 0, "unknown section" },
		{ "[route a\n", 0, "t.conf:1: section header must end" },
		{ "[route a]\nt38live_fastest_modem = 2400\n", 0, "t.conf:2: t38live_fastest_modem must be one of" },
		{ "[route a]\nno_such = 1\n", 0, "t.conf:2: unknown setting" },
	};
	char err[512];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc;
		umfax_conf_reset();
		err[0] = '\0';
		rc = umfax_conf_parse("t.conf", t[i].in, strlen(t[i].in), err, sizeof(err));
		T_CHECK((rc == 0) == t[i].ok, "case %zu: rc %d err %s", i, rc, err);
		if (t[i].errpart != NULL)
			T_CHECK(strstr(err, t[i].errpart) != NULL, "case %zu: error \"%s\" lacks \"%s\"", i, err, t[i].errpart);
	}
}

static void
test_values(void)
{
	char err[512];
	const char *f = "retry_min = 42\nmail_from = \" x@y \"\n";
	char *out = NULL;
	size_t len = 0;
	FILE *fp;

	umfax_conf_reset();
	T_CHECK(umfax_conf_int("retry_min") == 300, "default %ld", umfax_conf_int("retry_min"));
	T_CHECK(umfax_conf_parse("t.conf", f, strlen(f), err, sizeof(err)) == 0, "parse: %s", err);
	T_CHECK(umfax_conf_int("retry_min") == 42, "set value");
	T_STREQ(umfax_conf_str("mail_from"), " x@y ", "quotes keep spaces");
	/* a bad file changes nothing */
	T_CHECK(umfax_conf_parse("t.conf", "retry_min = 7\nbogus = 1\n", 24, err, sizeof(err)) == -1, "bad file");
	T_CHECK(umfax_conf_int("retry_min") == 42, "all or nothing: %ld", umfax_conf_int("retry_min"));
	fp = open_memstream(&out, &len);
	umfax_conf_print(fp, 'n');
	fclose(fp);
	T_CHECK(strstr(out, "retry_min = 42\n") != NULL && strstr(out, "retry_max") == NULL, "-n prints only changes: %s", out);
	free(out);
	fp = open_memstream(&out, &len);
	umfax_conf_print(fp, 'd');
	fclose(fp);
	T_CHECK(strstr(out, "retry_min = 300\n") != NULL && strstr(out, "retry_max = ") != NULL, "-d prints defaults");
	free(out);
	T_CHECK(umfax_conf_set("retry_max", "5", err, sizeof(err)) == 0 && umfax_conf_int("retry_max") == 5, "set");
	T_CHECK(umfax_conf_set("nope", "5", err, sizeof(err)) == -1, "set unknown");
	umfax_conf_reset();
}

static void
test_routes(void)
{
	char err[512], buf[4096];
	const char *f =
	    "local_ident = +1 555 0100\n"
	    "t38live_ecm = no\n"
	    "[route east]\n"
	    "route_called = 4420*\n"
	    "t38live_ecm = yes\n"
	    "local_ident = \"+44 20 7946 0000\"\n"
	    "[route west]\n"
	    "t38live_fastest_modem = 9600\n";
	char *out = NULL;
	size_t len = 0, n = 0;
	FILE *fp;

	umfax_conf_reset();
	T_CHECK(umfax_conf_nroutes() == 0, "no routes by default");
	T_CHECK(umfax_conf_parse("t.conf", f, strlen(f), err, sizeof(err)) == 0, "parse: %s", err);
	T_CHECK(umfax_conf_nroutes() == 2, "two routes: %d", umfax_conf_nroutes());
	T_STREQ(umfax_conf_route_name(0), "east", "file order");
	T_STREQ(umfax_conf_route_name(1), "west", "file order");
	T_CHECK(umfax_conf_route_name(2) == NULL && umfax_conf_route_name(-1) == NULL, "no such route");
	/* a route's own value, else the global one, else the default */
	T_CHECK(umfax_conf_rbool(0, "t38live_ecm") == 1, "east sets ECM on");
	T_CHECK(umfax_conf_rbool(1, "t38live_ecm") == 0, "west takes the global ECM");
	T_CHECK(umfax_conf_rbool(-1, "t38live_ecm") == 0 && umfax_conf_bool("t38live_ecm") == 0, "global ECM");
	T_STREQ(umfax_conf_rstr(0, "local_ident"), "+44 20 7946 0000", "east CSI");
	T_STREQ(umfax_conf_rstr(1, "local_ident"), "+1 555 0100", "west CSI is the global one");
	T_STREQ(umfax_conf_rstr(1, "t38live_fastest_modem"), "9600", "west modem");
	T_STREQ(umfax_conf_rstr(0, "t38live_fastest_modem"), "14400", "east modem: default");
	T_CHECK(umfax_conf_rint(-1, "t38live_redundancy") == 3, "default redundancy");
	T_STREQ(umfax_conf_rstr(0, "route_called"), "4420*", "route-only setting");
	T_STREQ(umfax_conf_rstr(1, "route_called"), "", "unset route-only setting: empty");
	T_CHECK(umfax_conf_route_isset(0, "t38live_ecm") && !umfax_conf_route_isset(1, "t38live_ecm"), "isset");
	/* -n prints the routes after the global settings */
	fp = open_memstream(&out, &len);
	umfax_conf_print(fp, 'n');
	fclose(fp);
	snprintf(buf, sizeof(buf), "%s", out);
	T_CHECK(strstr(buf, "t38live_ecm = no\n") != NULL && strstr(buf, "[route east]\n") != NULL &&
	    strstr(buf, "route_called = 4420*\n") > strstr(buf, "[route east]\n") &&
	    strstr(buf, "[route west]\nt38live_fastest_modem = 9600\n") != NULL &&
	    strstr(buf, "t38live_ecm = no\n") < strstr(buf, "[route east]"), "print -n: %s", buf);
	free(out);
	/* what was printed reads back the same */
	fp = open_memstream(&out, &len);
	umfax_conf_print(fp, 'a');
	fclose(fp);
	umfax_conf_reset();
	T_CHECK(umfax_conf_parse("t.conf", out, strlen(out), err, sizeof(err)) == 0, "print -a reads back: %s", err);
	T_CHECK(umfax_conf_nroutes() == 2 && umfax_conf_rbool(0, "t38live_ecm") == 1 &&
	    strcmp(umfax_conf_rstr(1, "t38live_fastest_modem"), "9600") == 0, "same routes after reading back");
	free(out);
	/* a bad file keeps the old routes; a good one without routes removes them */
	T_CHECK(umfax_conf_parse("t.conf", "[route x]\nretry_min = 1\n", 24, err, sizeof(err)) == -1, "bad");
	T_CHECK(umfax_conf_nroutes() == 2, "old routes kept");
	T_CHECK(umfax_conf_parse("t.conf", "retry_min = 9\n", 14, err, sizeof(err)) == 0 && umfax_conf_nroutes() == 0,
	    "routes replaced");
	/* the limit */
	umfax_conf_reset();
	n = 0;
	for (int i = 0; i <= UMFAX_CONF_MAX_ROUTES; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "[route r%d]\n", i);
	T_CHECK(umfax_conf_parse("t.conf", buf, n, err, sizeof(err)) == -1 && strstr(err, "more than 64 routes"),
	    "route limit: %s", err);
	umfax_conf_reset();
}

static void
test_files(void)
{
	char dir[] = "/tmp/umfax-conf-test.XXXXXX", path[300], err[512];
	FILE *fp;

	umfax_conf_reset();
	if (mkdtemp(dir) == NULL)
		return;
	snprintf(path, sizeof(path), "%s/umfax.conf", dir);
	T_CHECK(umfax_conf_load(path, 0, err, sizeof(err)) == 0, "missing optional file is fine");
	T_CHECK(umfax_conf_load(path, 1, err, sizeof(err)) == -1 && strstr(err, path) != NULL, "missing -c file names it: %s", err);
	fp = fopen(path, "w");
	fputs("retry_min = 11\n", fp);
	fclose(fp);
	T_CHECK(umfax_conf_load(path, 1, err, sizeof(err)) == 0 && umfax_conf_int("retry_min") == 11, "load");
	T_STREQ(umfax_conf_path(), path, "path remembered");
	unlink(path);
	rmdir(dir);
	umfax_conf_reset();
}

static void
test_exits(void)
{
	static const struct { int code; int temp, perm; } t[] = {
		{ EX_OK, 0, 0 }, { EX_USAGE, 0, 1 }, { EX_DATAERR, 0, 1 }, { EX_NOINPUT, 0, 1 },
		{ EX_NOUSER, 0, 1 }, { EX_NOPERM, 0, 1 }, { EX_UNAVAILABLE, 1, 0 }, { EX_SOFTWARE, 1, 0 },
		{ EX_OSERR, 1, 0 }, { EX_CANTCREAT, 1, 0 }, { EX_IOERR, 1, 0 }, { EX_TEMPFAIL, 1, 0 },
		{ EX_PROTOCOL, 1, 0 }, { EX_CONFIG, 1, 0 }, { 1, 1, 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		T_CHECK(umfax_exit_temporary(t[i].code) == t[i].temp, "%d temporary", t[i].code);
		T_CHECK(umfax_exit_permanent(t[i].code) == t[i].perm, "%d permanent", t[i].code);
	}
	T_STREQ(umfax_exit_name(EX_DATAERR), "EX_DATAERR", "name");
	T_CHECK(umfax_exit_worst(EX_OK, EX_TEMPFAIL) == EX_TEMPFAIL, "temp over ok");
	T_CHECK(umfax_exit_worst(EX_TEMPFAIL, EX_DATAERR) == EX_DATAERR, "perm over temp");
	T_CHECK(umfax_exit_worst(EX_DATAERR, EX_TEMPFAIL) == EX_DATAERR, "perm stays");
	T_CHECK(umfax_exit_worst(EX_DATAERR, EX_NOUSER) == EX_DATAERR, "first of a class kept");
}

int
main(void)
{
	test_parse();
	test_values();
	test_routes();
	test_files();
	test_exits();
	return T_DONE();
}
