/* stage.h - what every umfax program shares: options, the three modes, the job loop
 *
 * Modes (DESIGN.md):
 *   filter   read jobs on stdin, write jobs on stdout (the default);
 *   -q       queue runner: take every job of the input state (and the due
 *            jobs of deferred/ that belong to this stage) and commit each;
 *            with -w, keep running and wait on the trigger FIFO;
 *   -j ID    one job from the input state, deferred/ or failed/.
 * A job the stage fails permanently goes to failed/ (Failed-Stage,
 * Failed-Reason); a temporary failure to deferred/ (Retry-State, Attempts,
 * Next-Attempt), with the next attempt time as the file's mtime.  In filter
 * mode these go to the spool too, so a job is never dropped. */
#ifndef UMFAX_STAGE_H
#define UMFAX_STAGE_H

#include <getopt.h>
#include <stddef.h>
#include "job.h"
#include "spool.h"

enum umfax_mode { UMFAX_MODE_FILTER = 0, UMFAX_MODE_QUEUE, UMFAX_MODE_JOB };

struct umfax_opts {
	int mode;
	const char *spool;        /* -d */
	const char *config;       /* -c */
	const char *jobid;        /* -j */
	int wait;                 /* -w: queue runner keeps running */
	int verbose;              /* -v, repeatable */
};

/* The short options every program takes, and the long ones.  A program
 * appends its own to both (see bin/ * /main.c). */
#define UMFAX_COMMON_SHORTOPTS "c:d:hj:qvVw"
#define UMFAX_COMMON_LONGOPTS \
	{ "config",  required_argument, NULL, 'c' }, \
	{ "spool",   required_argument, NULL, 'd' }, \
	{ "help",    no_argument,       NULL, 'h' }, \
	{ "job",     required_argument, NULL, 'j' }, \
	{ "queue",   no_argument,       NULL, 'q' }, \
	{ "verbose", no_argument,       NULL, 'v' }, \
	{ "version", no_argument,       NULL, 'V' }, \
	{ "wait",    no_argument,       NULL, 'w' }

/* Handle one common option.  Returns 1 if C was one (and done), 0 if not.
 * 'h' and 'V' print USAGE or the version and exit 0. */
int umfax_opt_common(int c, const char *arg, struct umfax_opts *o, const char *usage);

/* An option's whole-number argument from LO to HI, or a one-line usage
 * error naming WHAT and exit 64. */
long umfax_opt_number(const char *arg, long lo, long hi, const char *what);

/* Start-up in the Postfix order: umask 077, fds 0-2 open, log, then (after
 * options) config.  Call umfax_stage_init first thing in main(). */
void umfax_stage_init(const char *prog);
/* Load the config (-c or default) and apply logging settings; exits 78 with a
 * one-line error when it is bad. */
void umfax_stage_config(const struct umfax_opts *o);

/* Result of processing one job. */
struct umfax_result {
	int code;                 /* EX_OK, or a sysexits code */
	char reason[512];         /* one line, for Failed-Reason / Deny-Reason / logs */
	int to;                   /* state to commit to on success (default: stage->out) */
	time_t retry_at;          /* temporary failure: when to try again (0: backoff) */
};

struct umfax_stage {
	const char *prog;
	int in;                   /* input state (UMFAX_NONE for t38recv) */
	int out;                  /* output state */
	/* Work on JOB in place; fill R.  Called with R->code = EX_OK, R->to = out. */
	void (*process)(struct umfax_job *job, void *arg, struct umfax_result *r);
	void *arg;
};

/* Run the stage in the mode of O.  Returns the exit status of the program
 * (umfax_exit_worst over all jobs). */
int umfax_stage_run(const struct umfax_stage *st, const struct umfax_opts *o);

/* Deliver a job that a source produced (t38recv): in filter mode write it to
 * stdout; in queue mode commit it to the stage's out state.  SP may be NULL
 * in filter mode.  Returns EX_OK or a sysexits code. */
int umfax_stage_emit(const struct umfax_stage *st, const struct umfax_opts *o,
    struct umfax_spool *sp, struct umfax_job *job);

/* The version string, "umfax 0.1". */
extern const char umfax_version[];

#endif
