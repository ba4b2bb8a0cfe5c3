/* exits.h - the one table of exit codes (sysexits), temporary or permanent */
#ifndef UMFAX_EXITS_H
#define UMFAX_EXITS_H

#include <sysexits.h>

/* 1 if CODE is a temporary failure (the job goes to deferred/), else 0.
 * EX_OK is neither: it returns 0. */
int umfax_exit_temporary(int code);

/* 1 if CODE is a permanent failure (the job goes to failed/). */
int umfax_exit_permanent(int code);

/* Short name of CODE ("EX_DATAERR"), or "EX_UNKNOWN". */
const char *umfax_exit_name(int code);

/* Human text for CODE ("data format error"). */
const char *umfax_exit_text(int code);

/* Combine the status of several jobs into the program's status: a permanent
 * failure outranks a temporary one, which outranks success; the first code
 * of the winning class is kept. */
int umfax_exit_worst(int sofar, int code);

#endif
