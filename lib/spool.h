/* spool.h - the spool directory and its commit protocol
 *
 * SPOOL/<state>/<Job-Id>, one file per job.  A job moves between states only
 * through umfax_spool_commit():
 *   1. create tmp/ID with O_EXCL, write, check every write, fsync, close;
 *   2. rename into the target state, fsync that directory;
 *   3. only then remove the input file and fsync its directory;
 *   4. poke the target state's trigger FIFO without blocking.
 * Crash points (crash.h) are named spool-1-tmp-open, spool-1-tmp-written,
 * spool-2-renamed, spool-3-input-removed, spool-4-poked. */
#ifndef UMFAX_SPOOL_H
#define UMFAX_SPOOL_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include "job.h"

enum umfax_state {
	UMFAX_TMP = 0,
	UMFAX_RECEIVED,
	UMFAX_NORMALIZED,
	UMFAX_RESOLVED,
	UMFAX_DEFERRED,
	UMFAX_SENT,
	UMFAX_FAILED,
	UMFAX_NSTATES,
	UMFAX_NONE = -1
};

#define UMFAX_DEFAULT_SPOOL "/var/spool/umfax"

const char *umfax_state_name(int state);           /* "received", or "?" */
int umfax_state_from_name(const char *name);       /* state, or UMFAX_NONE */

struct umfax_spool {
	char path[PATH_MAX];
	int dirfd;
	int sfd[UMFAX_NSTATES];                   /* directory fds of the states */
	int trig[UMFAX_NSTATES];                  /* trigger FIFOs held open by a waiting runner */
};

/* Open SPOOL at PATH (NULL: $UMFAX_SPOOL, else the default).  With CREATE,
 * make missing state directories (mode 0750) and trigger FIFOs (0620), less
 * the umask: 0700 and 0600 under the programs' umask 077.
 * 0, or -1 with a one-line reason in ERR. */
int umfax_spool_open(struct umfax_spool *sp, const char *path, int create,
    char *err, size_t errlen);
void umfax_spool_close(struct umfax_spool *sp);

/* Commit JOB into state TO (its file name is its Job-Id).  FROM is the
 * state whose file of the same id is removed after the rename, or
 * UMFAX_NONE.  MTIME, if not 0, is set on the new file (deferred/: the time
 * of the next attempt).  0, or -1 with ERR (then nothing was moved and the
 * input is still there). */
int umfax_spool_commit(struct umfax_spool *sp, const struct umfax_job *job,
    int to, int from, time_t mtime, char *err, size_t errlen);

/* Remove SPOOL/STATE/ID and fsync the directory.  0 or -1. */
int umfax_spool_remove(struct umfax_spool *sp, int state, const char *id);

/* 1 if SPOOL/STATE/ID exists. */
int umfax_spool_exists(struct umfax_spool *sp, int state, const char *id);

/* A claimed job: the input file held open with a non-blocking exclusive lock. */
struct umfax_claim {
	int fd;
	int state;
	char id[UMFAX_JOB_ID_MAX + 1];
	time_t mtime;
};

/* Claim SPOOL/STATE/ID.  1 claimed (C filled), 0 not there any more or held
 * by another process, -1 error (ERR).  A claim is released with unclaim
 * (after commit, or to leave the job where it is). */
int umfax_spool_claim(struct umfax_spool *sp, int state, const char *id,
    struct umfax_claim *c, char *err, size_t errlen);
void umfax_spool_unclaim(struct umfax_claim *c);

/* Read and parse the claimed file.  0, or -1 with ERR (malformed job). */
int umfax_spool_load(struct umfax_claim *c, struct umfax_job *job,
    char *err, size_t errlen);

/* List the job ids in STATE, sorted (oldest Job-Id first).  Names starting
 * with '.' and invalid ids are skipped.  *IDS is a malloc'd array of malloc'd
 * strings; free with umfax_spool_free_list.  Count, or -1. */
int umfax_spool_list(struct umfax_spool *sp, int state, char ***ids);
void umfax_spool_free_list(char **ids, int n);

/* Remove files in tmp/ older than MAXAGE seconds.  Returns how many. */
int umfax_spool_clean_tmp(struct umfax_spool *sp, time_t maxage);

/* Wake a runner of STATE: write one byte to SPOOL/trigger/STATE without
 * blocking; failure is ignored. */
void umfax_spool_poke(struct umfax_spool *sp, int state);

/* Wait up to TIMEOUT_MS for a poke of STATE (-1 = forever).  1 poked,
 * 0 timeout, -1 error. */
int umfax_spool_wait(struct umfax_spool *sp, int state, int timeout_ms);

#endif
