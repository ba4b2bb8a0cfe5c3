/* log.h - one line per event, key=value, to stderr and syslog */
#ifndef UMFAX_LOG_H
#define UMFAX_LOG_H

#include <stddef.h>
#include <syslog.h>

/* Call once at start.  Opens syslog (facility LOG_MAIL unless changed with
 * umfax_log_facility).  Logging to stderr is off when fd 2 is a socket
 * (inetd) or when UMFAX_LOG_STDERR=0; syslog is off when UMFAX_LOG_SYSLOG=0. */
void umfax_log_init(const char *prog);
void umfax_log_facility(const char *name);   /* "mail", "local0".."local7", "daemon", "user" */
void umfax_log_verbose(int level);           /* LOG_DEBUG lines shown when level > 0 */
int  umfax_log_get_verbose(void);
const char *umfax_log_prog(void);

/* Emit one line: "PROG: LEVEL job=JOB call=CALL <fmt...>".  JOB and CALL may
 * be NULL (then left out).  FMT should produce key=value pairs; use
 * umfax_log_quote() for free text. */
void umfax_log(int prio, const char *job, const char *call, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Convenience: a one-line error about a file, "PROG: error file=F error=\"...\"". */
void umfax_log_file_error(const char *file, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Copy SRC into DST (size N) as a quoted, cleaned log value: control bytes
 * become '?', '"' and '\\' are escaped, at most N-1 bytes.  Returns DST. */
char *umfax_log_quote(char *dst, size_t n, const char *src);

/* spandsp's log handler, routed through umfax_log at LOG_DEBUG (signature of
 * span_log_set_message_handler in 0.0.6: void (*)(int level, const char *text)). */
void umfax_log_spandsp(int level, const char *text);

/* Job and call ids that umfax_log_spandsp attaches to its lines. */
void umfax_log_context(const char *job, const char *call);

#endif
