/* log.c - key=value log lines to stderr and syslog */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include "log.h"

static const char *progname = "umfax";
static int to_stderr = 1, to_syslog = 1, verbose;
static int facility = LOG_MAIL;
static char ctx_job[80], ctx_call[160];

static const struct { const char *name; int fac; } facs[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

static int
env_off(const char *name)
{
	const char *v = getenv(name);
	return v != NULL && strcmp(v, "0") == 0;
}

void
umfax_log_init(const char *prog)
{
	struct stat st;

	progname = prog;
	/* Under inetd fd 2 is the socket: never write log lines to a peer. */
	if (fstat(2, &st) == 0 && S_ISSOCK(st.st_mode))
		to_stderr = 0;
	if (env_off("UMFAX_LOG_STDERR"))
		to_stderr = 0;
	if (env_off("UMFAX_LOG_SYSLOG"))
		to_syslog = 0;
	if (to_syslog)
		openlog(progname, LOG_PID | LOG_NDELAY, facility);
}

void
umfax_log_facility(const char *name)
{
	for (size_t i = 0; i < sizeof(facs) / sizeof(facs[0]); i++) {
		if (strcmp(facs[i].name, name) == 0 && facs[i].fac != facility) {
			facility = facs[i].fac;
			if (to_syslog) {
				closelog();
				openlog(progname, LOG_PID | LOG_NDELAY, facility);
			}
		}
	}
}

void umfax_log_verbose(int level) { verbose = level; }
int umfax_log_get_verbose(void) { return verbose; }
const char *umfax_log_prog(void) { return progname; }

static const char *
level_name(int prio)
{
	switch (prio) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: return "fatal";
	case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE: case LOG_INFO: return "info";
	default: return "debug";
	}
}

static void
vlog(int prio, const char *job, const char *call, const char *fmt, va_list ap)
{
	char msg[2048], line[2300];
	size_t n = 0;

	if (prio == LOG_DEBUG && verbose <= 0)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* A log line is one line whatever the caller passed. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (job != NULL && *job != '\0')
		n += (size_t)snprintf(line + n, sizeof(line) - n, "job=%s ", job);
	if (call != NULL && *call != '\0' && n < sizeof(line)) {
		char q[200];
		n += (size_t)snprintf(line + n, sizeof(line) - n, "call=%s ",
		    umfax_log_quote(q, sizeof(q), call));
	}
	if (n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, "%s", msg);
	if (to_stderr)
		fprintf(stderr, "%s: %s %s\n", progname, level_name(prio), line);
	if (to_syslog)
		syslog(prio, "%s %s", level_name(prio), line);
}

void
umfax_log(int prio, const char *job, const char *call, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(prio, job, call, fmt, ap);
	va_end(ap);
}

void
umfax_log_file_error(const char *file, const char *fmt, ...)
{
	char msg[1024], q1[600], q2[1100];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	umfax_log(LOG_ERR, NULL, NULL, "file=%s error=%s",
	    umfax_log_quote(q1, sizeof(q1), file), umfax_log_quote(q2, sizeof(q2), msg));
}

char *
umfax_log_quote(char *dst, size_t n, const char *src)
{
	size_t o = 0;
	int plain = *src != '\0';

	if (n == 0)
		return dst;
	for (const unsigned char *p = (const unsigned char *)src; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '\\' || *p == '=' || *p >= 0x7f)
			plain = 0;
	if (plain) {
		snprintf(dst, n, "%s", src);
		return dst;
	}
	if (o + 1 < n)
		dst[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)src; *p && o + 3 < n; p++) {
		if (*p == '"' || *p == '\\') {
			dst[o++] = '\\';
			dst[o++] = (char)*p;
		} else if (*p < ' ' || *p == 0x7f) {
			dst[o++] = '?';
		} else {
			dst[o++] = (char)*p;
		}
	}
	if (o + 1 < n)
		dst[o++] = '"';
	dst[o] = '\0';
	return dst;
}

void
umfax_log_context(const char *job, const char *call)
{
	snprintf(ctx_job, sizeof(ctx_job), "%s", job ? job : "");
	snprintf(ctx_call, sizeof(ctx_call), "%s", call ? call : "");
}

void
umfax_log_spandsp(int level, const char *text)
{
	char q[1024];
	char buf[1024];
	size_t n;

	(void)level;
	snprintf(buf, sizeof(buf), "%s", text);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	umfax_log(LOG_DEBUG, ctx_job, ctx_call, "spandsp=%s", umfax_log_quote(q, sizeof(q), buf));
}
