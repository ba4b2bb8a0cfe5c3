/* crash.h - test-only crash points.
 *
 * umfax_crashpoint("name") kills the process with SIGKILL when the
 * environment variable UMFAX_CRASHPOINT equals "name" (or "PROG:name").
 * The crash tests use it to stop a stage at every step of its work. */
#ifndef UMFAX_CRASH_H
#define UMFAX_CRASH_H

void umfax_crashpoint(const char *name);

#endif
