/* job_test.c - the job format: reading, writing, cleaning, framing */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "job.h"
#include "t.h"

/* Read every job of STREAM; write what happened as a compact trace:
 * "J<id>:<bodylen>" per job, "E" per malformed job, "X" for I/O error. */
static void
trace(const char *stream, size_t len, char *out, size_t outlen)
{
	FILE *fp = fmemopen((void *)stream, len, "r");
	struct umfax_job job;
	char err[256];
	int rc;

	out[0] = '\0';
	umfax_job_init(&job);
	while ((rc = umfax_job_read(fp, &job, err, sizeof(err))) != 0) {
		char one[128];
		if (rc == 1)
			snprintf(one, sizeof(one), "J%s:%zu ", umfax_job_id(&job) ? umfax_job_id(&job) : "-", job.len);
		else
			snprintf(one, sizeof(one), rc == -1 ? "E " : "X ");
		strncat(out, one, outlen - strlen(out) - 1);
		if (rc == -2)
			break;
	}
	umfax_job_release(&job);
	fclose(fp);
}

static void
test_streams(void)
{
	static const struct {
		const char *name, *in, *want;
	} t[] = {
		{ "one job", "Umfax-Job: 1\nJob-Id: a\nContent-Length: 3\n\nxyz", "Ja:3 " },
		{ "two jobs", "Umfax-Job: 1\nJob-Id: a\nContent-Length: 1\n\nxUmfax-Job: 1\nJob-Id: b\nContent-Length: 2\n\nyz", "Ja:1 Jb:2 " },
		{ "blank lines between", "Umfax-Job: 1\nJob-Id: a\nContent-Length: 0\n\n\n\nUmfax-Job: 1\nJob-Id: b\nContent-Length: 0\n\n", "Ja:0 Jb:0 " },
		{ "CRLF header", "Umfax-Job: 1\r\nJob-Id: a\r\nContent-Length: 2\r\n\r\nab", "Ja:2 " },
		{ "body holds a job header", "Umfax-Job: 1\nJob-Id: a\nContent-Length: 27\n\nUmfax-Job: 1\nJob-Id: evil\n\nUmfax-Job: 1\nJob-Id: b\nContent-Length: 0\n\n", "Ja:27 Jb:0 " },
		{ "no Content-Length, next survives", "Umfax-Job: 1\nJob-Id: a\n\nbody\nUmfax-Job: 1\nJob-Id: b\nContent-Length: 1\n\nq", "E Jb:1 " },
		{ "garbage first", "hello\nworld\nUmfax-Job: 1\nJob-Id: b\nContent-Length: 1\n\nq", "E Jb:1 " },
		{ "bad length", "Umfax-Job: 1\nJob-Id: a\nContent-Length: 12x\n\nUmfax-Job: 1\nJob-Id: b\nContent-Length: 0\n\n", "E Jb:0 " },
		{ "negative length", "Umfax-Job: 1\nJob-Id: a\nContent-Length: -1\n\nUmfax-Job: 1\nJob-Id: b\nContent-Length: 0\n\n", "E Jb:0 " },
		{ "huge length", "Umfax-Job: 1\nJob-Id: a\nContent-Length: 99999999999999999999\n\n", "E " },
		{ "truncated body", "Umfax-Job: 1\nJob-Id: a\nContent-Length: 10\n\nabc", "E " },
		{ "truncated header", "Umfax-Job: 1\nJob-Id: a\nContent-Len", "E " },
		{ "header cut by next job", "Umfax-Job: 1\nJob-Id: a\nUmfax-Job: 1\nJob-Id: b\nContent-Length: 1\n\nq", "E Jb:1 " },
		{ "wrong version", "Umfax-Job: 2\nJob-Id: a\nContent-Length: 0\n\nUmfax-Job: 1\nJob-Id: b\nContent-Length: 0\n\n", "E Jb:0 " },
		{ "bad Job-Id skips its body", "Umfax-Job: 1\nJob-Id: ../etc\nContent-Length: 5\n\nUmfaxUmfax-Job: 1\nJob-Id: b\nContent-Length: 0\n\n", "E Jb:0 " },
		{ "line without colon", "Umfax-Job: 1\nJob-Id a\nContent-Length: 0\n\nUmfax-Job: 1\nJob-Id: b\nContent-Length: 0\n\n", "E Jb:0 " },
		{ "empty input", "", "" },
		{ "job without id", "Umfax-Job: 1\nContent-Length: 1\n\nz", "J-:1 " },
	};
	char out[512];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		trace(t[i].in, strlen(t[i].in), out, sizeof(out));
		T_STREQ(out, t[i].want, "stream: %s", t[i].name);
	}
}

static void
test_long_line(void)
{
	size_t n = UMFAX_JOB_MAX_LINE + 100;
	char *s = malloc(n + 200), out[256];

	strcpy(s, "Umfax-Job: 1\nX-Long: ");
	memset(s + strlen(s), 'a', n);
	strcpy(s + 21 + n, "\nContent-Length: 0\n\nUmfax-Job: 1\nJob-Id: b\nContent-Length: 0\n\n");
	trace(s, strlen(s), out, sizeof(out));
	T_STREQ(out, "E Jb:0 ", "an over-long header line is an error and the next job survives");
	free(s);
}

static void
test_clean(void)
{
	static const struct {
		const char *in, *want;
		size_t n;
	} t[] = {
		{ "plain", "plain", 64 },
		{ "a\r\nBcc: x@y", "a Bcc: x@y", 64 },
		{ "  lead and trail  ", "lead and trail", 64 },
		{ "tab\there", "tab here", 64 },
		{ "nul\x01\x02\x7f" "del", "nuldel", 64 },
		{ "caf\xc3\xa9", "caf\xc3\xa9", 64 },
		{ "bad \xff\xfe utf8", "bad ?? utf8", 64 },
		{ "overlong \xc0\xaf", "overlong ??", 64 },
		{ "c1 \xc2\x85 control", "c1 control", 64 },
		{ "surrogate \xed\xa0\x80", "surrogate ???", 64 },
		{ "cut on char boundary \xc3\xa9", "cut on char boundary", 22 },
		{ "abcdef", "abc", 4 },
		{ "multiple   spaces", "multiple spaces", 64 },
	};
	char out[128];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		umfax_job_clean(out, t[i].n, t[i].in, strlen(t[i].in));
		T_STREQ(out, t[i].want, "clean case %zu", i);
	}
}

static void
test_ids(void)
{
	static const struct { const char *id; int ok; } t[] = {
		{ "20261122T134500Z.4711.a1", 1 }, { "a", 1 }, { "", 0 }, { ".hidden", 0 },
		{ "../x", 0 }, { "a/b", 0 }, { "a b", 0 },
		{ "0123456789012345678901234567890123456789012345678901234567890123", 1 },
		{ "01234567890123456789012345678901234567890123456789012345678901234", 0 },
	};
	char a[80], b[80];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		T_CHECK(umfax_job_id_valid(t[i].id) == t[i].ok, "id \"%s\"", t[i].id);
	umfax_job_new_id(a, sizeof(a));
	umfax_job_new_id(b, sizeof(b));
	T_CHECK(umfax_job_id_valid(a) && strcmp(a, b) != 0, "new ids valid and distinct: %s %s", a, b);
}

static void
test_roundtrip(void)
{
	struct umfax_job j, k;
	unsigned char body[300];
	size_t len;
	unsigned char *buf;
	char err[256];

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (unsigned char)i;          /* binary, with NUL and LF */
	umfax_job_init(&j);
	T_CHECK(umfax_job_set(&j, "Job-Id", "r1") == 0, "set id");
	T_CHECK(umfax_job_set(&j, "Caller-Name", "Evil\r\nBcc: victim@x") == 0, "set name");
	T_CHECK(umfax_job_set(&j, "Content-Length", "5") == -1, "Content-Length is managed");
	T_CHECK(umfax_job_set(&j, "Bad Name", "x") == -1, "field names are tokens");
	T_CHECK(umfax_job_set(&j, "X-Unknown", "kept") == 0, "unknown kept");
	T_CHECK(umfax_job_setf(&j, "Pages", "%d", 3) == 0, "setf");
	T_CHECK(umfax_job_set(&j, "pages", "4") == 0, "names are case-insensitive");
	T_CHECK(umfax_job_set_body(&j, body, sizeof(body)) == 0, "body");
	buf = umfax_job_format(&j, &len);
	T_CHECK(buf != NULL && memcmp(buf, "Umfax-Job: 1\nJob-Id: r1\nContent-Length: 300\n", 44) == 0,
	    "first lines in order");
	umfax_job_init(&k);
	T_CHECK(umfax_job_parse(buf, len, &k, err, sizeof(err)) == 0, "parse back: %s", err);
	T_STREQ(umfax_job_get(&k, "caller-name"), "Evil Bcc: victim@x", "no header injection");
	T_STREQ(umfax_job_get(&k, "PAGES"), "4", "replaced value");
	T_STREQ(umfax_job_get(&k, "X-Unknown"), "kept", "unknown field passed on");
	T_CHECK(k.len == sizeof(body) && memcmp(k.body, body, sizeof(body)) == 0, "body intact");
	T_CHECK(umfax_job_del(&k, "X-Unknown") == 1 && umfax_job_get(&k, "X-Unknown") == NULL, "del");
	T_CHECK(umfax_job_parse(buf, len - 1, &k, err, sizeof(err)) == -1, "truncated file rejected");
	T_CHECK(strstr(err, "truncated") != NULL, "error says truncated: %s", err);
	free(buf);
	umfax_job_release(&j);
	umfax_job_release(&k);
}

static void
test_limits(void)
{
	struct umfax_job j;
	char name[32];
	int ok = 0;

	umfax_job_init(&j);
	for (int i = 0; i < UMFAX_JOB_MAX_FIELDS + 5; i++) {
		snprintf(name, sizeof(name), "F%d", i);
		if (umfax_job_set(&j, name, "v") == 0)
			ok++;
	}
	T_CHECK(ok == UMFAX_JOB_MAX_FIELDS, "field count bounded: %d", ok);
	umfax_job_release(&j);
}

static void
test_times(void)
{
	static const struct { const char *in; long want; } t[] = {
		{ "2026-11-22T13:45:00Z", 1795355100L }, { "1970-01-01T00:00:00Z", 0 },
		{ "2026-11-22 13:45:00", 0 }, { "2026-11-22T13:45:00Zjunk", 0 }, { "", 0 },
	};
	struct umfax_job j;

	umfax_job_init(&j);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		umfax_job_set(&j, "When", t[i].in);
		T_CHECK((long)umfax_job_get_time(&j, "When") == t[i].want, "time \"%s\"", t[i].in);
	}
	T_CHECK(umfax_job_get_time(&j, "Absent") == 0, "absent time is 0");
	T_CHECK(umfax_job_set_time(&j, "Sent-At", 1795355100L) == 0, "set time");
	T_STREQ(umfax_job_get(&j, "Sent-At"), "2026-11-22T13:45:00Z", "formatted in UTC");
	umfax_job_release(&j);
}

/* umfax_job_set_if and umfax_job_body_from_file */
static void
test_helpers(void)
{
	struct umfax_job job;
	char path[] = "/tmp/umfax-job-test.XXXXXX";
	int fd;

	umfax_job_init(&job);
	T_CHECK(umfax_job_set_if(&job, "Caller", "") == 0 && umfax_job_get(&job, "Caller") == NULL, "empty: not set");
	T_CHECK(umfax_job_set_if(&job, "Caller", NULL) == 0 && umfax_job_get(&job, "Caller") == NULL, "NULL: not set");
	T_CHECK(umfax_job_set_if(&job, "Caller", "+1 555") == 0, "set");
	T_STREQ(umfax_job_get(&job, "Caller"), "+1 555", "value");
	fd = mkstemp(path);
	T_CHECK(fd >= 0 && write(fd, "II*\0body", 8) == 8, "temp file");
	if (fd >= 0)
		close(fd);
	T_CHECK(umfax_job_body_from_file(&job, path) == 0 && job.len == 8 && memcmp(job.body, "II*\0body", 8) == 0,
	    "body from file");
	unlink(path);
	T_CHECK(umfax_job_body_from_file(&job, path) == -1 && job.len == 8, "missing file: -1, old body kept");
	umfax_job_release(&job);
}

int
main(void)
{
	test_helpers();
	test_times();
	test_streams();
	test_long_line();
	test_clean();
	test_ids();
	test_roundtrip();
	test_limits();
	return T_DONE();
}
