/* log_test.c - log lines: quoting of wire text, one line per event, key=value,
 * job= and call=, and silence on stderr when it is a socket (inetd). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "log.h"
#include "t.h"

static void
test_quote(void)
{
	static const struct { const char *in, *want; size_t n; } t[] = {
		{ "plain", "plain", 64 },
		{ "two words", "\"two words\"", 64 },
		{ "a=b", "\"a=b\"", 64 },
		{ "say \"hi\"", "\"say \\\"hi\\\"\"", 64 },
		{ "back\\slash", "\"back\\\\slash\"", 64 },
		{ "cr\r\nlf", "\"cr??lf\"", 64 },
		{ "", "\"\"", 64 },
		{ "long string here", "\"long\"", 8 },
	};
	char out[64];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		T_STREQ(umfax_log_quote(out, t[i].n, t[i].in), t[i].want, "quote case %zu", i);
}

/* Run FN in a child whose stderr is a pipe (or a socket) and return what it wrote. */
static char *
capture(int use_socket, void (*fn)(void))
{
	int fds[2];
	static char buf[4096];
	ssize_t n, got = 0;
	pid_t pid;

	if (use_socket ? socketpair(AF_UNIX, SOCK_STREAM, 0, fds) : pipe(fds))
		exit(2);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		setenv("UMFAX_LOG_SYSLOG", "0", 1);
		unsetenv("UMFAX_LOG_STDERR");
		fn();
		_exit(0);
	}
	close(fds[1]);
	while ((n = read(fds[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	buf[got] = '\0';
	close(fds[0]);
	waitpid(pid, NULL, 0);
	return buf;
}

static void
emit(void)
{
	umfax_log_init("logtest");
	umfax_log(LOG_WARNING, "J1", "call 1@gw", "event=%s pages=%d", "x\ny", 3);
	umfax_log(LOG_DEBUG, "J1", NULL, "hidden=1");
	umfax_log_verbose(1);
	umfax_log(LOG_DEBUG, NULL, NULL, "shown=1");
	umfax_log_file_error("/tmp/a b.tif", "not a TIFF");
}

static void
test_lines(void)
{
	char *out = capture(0, emit);

	T_CHECK(strstr(out, "logtest: warning job=J1 call=\"call 1@gw\" event=x y pages=3\n") != NULL,
	    "key=value line with job and call, newline folded: [%s]", out);
	T_CHECK(strstr(out, "hidden=1") == NULL, "debug hidden without -v");
	T_CHECK(strstr(out, "logtest: debug shown=1\n") != NULL, "debug shown with -v");
	T_CHECK(strstr(out, "logtest: error file=\"/tmp/a b.tif\" error=\"not a TIFF\"\n") != NULL,
	    "file error names the file: [%s]", out);
	out = capture(1, emit);
	T_STREQ(out, "", "nothing on stderr when it is a socket (inetd)");
}

int
main(void)
{
	test_quote();
	test_lines();
	return T_DONE();
}
