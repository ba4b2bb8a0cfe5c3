/* crash.c - test-only crash points (see crash.h) */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "crash.h"
#include "log.h"

void
umfax_crashpoint(const char *name)
{
	const char *want = getenv("UMFAX_CRASHPOINT");
	const char *prog, *colon;

	if (want == NULL || *want == '\0')
		return;
	colon = strchr(want, ':');
	if (colon != NULL) {
		prog = umfax_log_prog();
		if (prog == NULL || strncmp(want, prog, (size_t)(colon - want)) != 0
		    || prog[colon - want] != '\0')
			return;
		want = colon + 1;
	}
	if (strcmp(want, name) == 0)
		kill(getpid(), SIGKILL);
}
