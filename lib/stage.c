/* stage.c - the three modes every umfax program shares (see stage.h) */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "conf.h"
#include "crash.h"
#include "exits.h"
#include "log.h"
#include "stage.h"

const char umfax_version[] = "umfax 0.1";

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

int
umfax_opt_common(int c, const char *arg, struct umfax_opts *o, const char *usage)
{
	switch (c) {
	case 'c': o->config = arg; return 1;
	case 'd': o->spool = arg; return 1;
	case 'j': o->jobid = arg; o->mode = UMFAX_MODE_JOB; return 1;
	case 'q': o->mode = UMFAX_MODE_QUEUE; return 1;
	case 'w': o->wait = 1; return 1;
	case 'v': o->verbose++; umfax_log_verbose(o->verbose); return 1;
	case 'h': fputs(usage, stdout); exit(EX_OK);
	case 'V': printf("%s %s\n", umfax_log_prog(), umfax_version); exit(EX_OK);
	default: return 0;
	}
}

long
umfax_opt_number(const char *arg, long lo, long hi, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "%s: %s: not a number from %ld to %ld: %s\n",
		    umfax_log_prog(), what, lo, hi, arg);
		exit(EX_USAGE);
	}
	return v;
}

void
umfax_stage_init(const char *prog)
{
	struct sigaction sa;
	int fd;

	umask(077);
	/* fds 0-2 must be open, or a later open() lands on one of them. */
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
	umfax_log_init(prog);
	signal(SIGPIPE, SIG_IGN);       /* a closed pipe is a write error, reported */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;        /* no SA_RESTART: waits return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

void
umfax_stage_config(const struct umfax_opts *o)
{
	char err[512];

	if (umfax_conf_load(o->config, o->config != NULL, err, sizeof(err)) < 0) {
		umfax_log(LOG_ERR, NULL, NULL, "config=bad error=\"%s\"", err);
		exit(EX_CONFIG);
	}
	umfax_log_facility(umfax_conf_str("syslog_facility"));
	if (o->mode == UMFAX_MODE_JOB && !umfax_job_id_valid(o->jobid)) {
		umfax_log(LOG_ERR, NULL, NULL, "error=\"-j: not a job id: %.70s\"", o->jobid);
		exit(EX_USAGE);
	}
}

static const char *
spool_path(const struct umfax_opts *o)
{
	if (o->spool != NULL)
		return o->spool;
	if (getenv("UMFAX_SPOOL") != NULL && *getenv("UMFAX_SPOOL") != '\0')
		return getenv("UMFAX_SPOOL");
	return umfax_conf_str("spool_directory");
}

/* The spool, opened (and created) on first use. */
static struct umfax_spool *
get_spool(const struct umfax_opts *o)
{
	static struct umfax_spool sp;
	static int state;           /* 0 untried, 1 open, -1 failed */
	char err[512];

	if (state == 0) {
		state = umfax_spool_open(&sp, spool_path(o), 1, err, sizeof(err)) == 0 ? 1 : -1;
		if (state < 0)
			umfax_log(LOG_ERR, NULL, NULL, "spool=unusable error=\"%s\"", err);
	}
	return state > 0 ? &sp : NULL;
}

/* Where the job goes after R, and with what fields and mtime.  Returns the
 * state; *MTIME is the next-attempt time for deferred/. */
static int
route(const struct umfax_stage *st, struct umfax_job *job, struct umfax_result *r, time_t *mtime)
{
	time_t now = time(NULL), first, next, wait;
	long attempts;
	const char *a;

	*mtime = 0;
	if (r->code == EX_OK) {
		umfax_job_del(job, "Retry-State");
		umfax_job_del(job, "Next-Attempt");
		return r->to;
	}
	umfax_job_set(job, "Retry-State", umfax_state_name(st->in));
	if (umfax_exit_temporary(r->code)) {
		a = umfax_job_get(job, "Attempts");
		attempts = (a ? strtol(a, NULL, 10) : 0) + 1;
		if (attempts < 1)
			attempts = 1;
		umfax_job_setf(job, "Attempts", "%ld", attempts);
		if (umfax_job_get(job, "First-Failure") == NULL)
			umfax_job_set_time(job, "First-Failure", now);
		first = umfax_job_get_time(job, "First-Failure");
		if (first != 0 && now - first > umfax_conf_int("queue_lifetime")) {
			umfax_job_set(job, "Failed-Stage", st->prog);
			umfax_job_setf(job, "Failed-Reason", "queue lifetime exceeded after %ld attempts: %s",
			    attempts, r->reason);
			return UMFAX_FAILED;
		}
		wait = umfax_conf_int("retry_min");
		for (long i = 1; i < attempts && wait < umfax_conf_int("retry_max"); i++)
			wait *= 2;
		if (wait > umfax_conf_int("retry_max"))
			wait = umfax_conf_int("retry_max");
		next = r->retry_at > now ? r->retry_at : now + wait;
		umfax_job_set_time(job, "Next-Attempt", next);
		umfax_job_set(job, "Deferred-Stage", st->prog);
		umfax_job_set(job, "Deferred-Reason", r->reason);
		*mtime = next;
		return UMFAX_DEFERRED;
	}
	umfax_job_set(job, "Failed-Stage", st->prog);
	umfax_job_set(job, "Failed-Reason", r->reason);
	return UMFAX_FAILED;
}

static void
process(const struct umfax_stage *st, struct umfax_job *job, struct umfax_result *r)
{
	memset(r, 0, sizeof(*r));
	r->code = EX_OK;
	r->to = st->out;
	umfax_log_context(umfax_job_id(job), umfax_job_get(job, "Call-Id"));
	st->process(job, st->arg, r);
	umfax_crashpoint("stage-processed");
}

static void
log_result(const struct umfax_stage *st, const struct umfax_job *job, const struct umfax_result *r, int to)
{
	char q[600];

	umfax_log(r->code == EX_OK ? LOG_INFO : to == UMFAX_FAILED ? LOG_ERR : LOG_WARNING,
	    umfax_job_id(job), umfax_job_get(job, "Call-Id"), "to=%s status=%d%s%s",
	    umfax_state_name(to), r->code, r->reason[0] ? " reason=" : "",
	    r->reason[0] ? umfax_log_quote(q, sizeof(q), r->reason) : "");
}

/* ---- filter mode ---------------------------------------------------------- */

static int
run_filter(const struct umfax_stage *st, const struct umfax_opts *o)
{
	struct umfax_job job;
	struct umfax_result r;
	char err[512], id[UMFAX_JOB_ID_MAX + 1];
	int rc, status = EX_OK, n = 0;

	umfax_job_init(&job);
	while ((rc = umfax_job_read(stdin, &job, err, sizeof(err))) != 0) {
		time_t mtime;
		int to;

		n++;
		if (rc < 0) {
			umfax_log(LOG_ERR, NULL, NULL, "file=stdin job_number=%d error=\"malformed job: %s\"", n, err);
			status = umfax_exit_worst(status, rc == -1 ? EX_DATAERR : EX_IOERR);
			if (rc == -2)
				break;
			continue;
		}
		if (umfax_job_id(&job) == NULL)
			umfax_job_set(&job, "Job-Id", umfax_job_new_id(id, sizeof(id)));
		process(st, &job, &r);
		to = route(st, &job, &r, &mtime);
		log_result(st, &job, &r, to);
		if (to == st->out || r.code == EX_OK) {
			if (umfax_job_write(stdout, &job) < 0) {
				umfax_log(LOG_ERR, umfax_job_id(&job), NULL, "file=stdout error=\"%s\"", strerror(errno));
				status = umfax_exit_worst(status, EX_IOERR);
				break;
			}
		} else {
			/* Not passed on: it must land in the spool, never be dropped. */
			struct umfax_spool *sp = get_spool(o);
			if (sp == NULL || umfax_spool_commit(sp, &job, to, UMFAX_NONE, mtime, err, sizeof(err)) < 0) {
				umfax_log(LOG_ERR, umfax_job_id(&job), NULL, "error=\"cannot file the job in %s: %s\"",
				    umfax_state_name(to), sp ? err : "no spool");
				status = umfax_exit_worst(status, EX_CANTCREAT);
			}
			status = umfax_exit_worst(status, r.code);
		}
	}
	umfax_job_release(&job);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		umfax_log(LOG_ERR, NULL, NULL, "file=stdout error=\"%s\"", strerror(errno));
		status = umfax_exit_worst(status, EX_IOERR);
	}
	return status;
}

/* ---- queue and single-job modes ---------------------------------------- */

/* Position of a job file in the pipeline, to tell which of two copies of a
 * job (left by a crash between rename and removal) is the newer one.
 * deferred/ and failed/ sit just after the stage that put them there. */
static int
position(int state, int retry_state)
{
	switch (state) {
	case UMFAX_RECEIVED: return 2;
	case UMFAX_NORMALIZED: return 4;
	case UMFAX_RESOLVED: return 6;
	case UMFAX_SENT: return 8;
	case UMFAX_DEFERRED:
	case UMFAX_FAILED: return retry_state >= 0 ? position(retry_state, -1) + 1 : 7;
	default: return 0;
	}
}

/* Retry-State of a deferred or failed file, read from its header. */
static int
retry_state_of(struct umfax_spool *sp, int state, const char *id)
{
	char buf[8192], *p, *e;
	ssize_t n;
	int fd = openat(sp->sfd[state], id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return UMFAX_NONE;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return UMFAX_NONE;
	buf[n] = '\0';
	if ((e = strstr(buf, "\n\n")) != NULL)
		*e = '\0';
	for (p = buf; p != NULL; p = (p = strchr(p, '\n')) ? p + 1 : NULL) {
		if (strncasecmp(p, "Retry-State:", 12) == 0) {
			char name[32];
			if (sscanf(p + 12, " %31[a-z]", name) == 1)
				return umfax_state_from_name(name);
		}
	}
	return UMFAX_NONE;
}

/* 1 if a copy of ID further along the pipeline exists, so the claimed
 * file is a left-over of a crash after the rename and before the removal. */
static int
superseded(struct umfax_spool *sp, int state, int retry, const char *id)
{
	int mine = position(state, retry);

	for (int s = UMFAX_RECEIVED; s < UMFAX_NSTATES; s++) {
		if (s == state || !umfax_spool_exists(sp, s, id))
			continue;
		if (position(s, (s == UMFAX_DEFERRED || s == UMFAX_FAILED) ? retry_state_of(sp, s, id) : -1) > mine)
			return 1;
	}
	return 0;
}

/* Process the job SPOOL/STATE/ID.  Returns an exit status. */
static int
run_one(const struct umfax_stage *st, struct umfax_spool *sp, int state, const char *id, int force)
{
	struct umfax_claim c;
	struct umfax_job job;
	struct umfax_result r;
	char err[512];
	int rc, to, retry = UMFAX_NONE;
	time_t mtime;

	if ((rc = umfax_spool_claim(sp, state, id, &c, err, sizeof(err))) <= 0) {
		if (rc < 0)
			umfax_log(LOG_ERR, id, NULL, "error=\"%s\"", err);
		return rc < 0 ? EX_IOERR : EX_OK;
	}
	umfax_crashpoint("stage-claimed");
	if (state == UMFAX_DEFERRED || state == UMFAX_FAILED) {
		retry = retry_state_of(sp, state, id);
		if (!force && (retry != st->in || c.mtime > time(NULL))) {
			umfax_spool_unclaim(&c);
			return EX_OK;
		}
	}
	if (superseded(sp, state, retry, id)) {
		umfax_log(LOG_INFO, id, NULL, "from=%s action=remove-stale-copy", umfax_state_name(state));
		umfax_spool_remove(sp, state, id);
		umfax_spool_unclaim(&c);
		return EX_OK;
	}
	umfax_job_init(&job);
	if (umfax_spool_load(&c, &job, err, sizeof(err)) < 0) {
		/* A file we cannot read as a job: out of the way, as it is. */
		umfax_log(LOG_ERR, id, NULL, "file=%s/%s/%s error=\"malformed job: %s\" action=move-to-failed",
		    sp->path, umfax_state_name(state), id, err);
		if (state != UMFAX_FAILED && renameat(sp->sfd[state], id, sp->sfd[UMFAX_FAILED], id) == 0)
			fsync(sp->sfd[UMFAX_FAILED]);
		umfax_spool_unclaim(&c);
		return EX_DATAERR;
	}
	if (umfax_job_id(&job) == NULL || strcmp(umfax_job_id(&job), id) != 0)
		umfax_job_set(&job, "Job-Id", id);
	process(st, &job, &r);
	to = route(st, &job, &r, &mtime);
	if (umfax_spool_commit(sp, &job, to, state, mtime, err, sizeof(err)) < 0) {
		umfax_log(LOG_ERR, id, umfax_job_get(&job, "Call-Id"), "error=\"%s\"", err);
		rc = EX_CANTCREAT;
	} else {
		log_result(st, &job, &r, to);
		rc = r.code;
	}
	umfax_job_release(&job);
	umfax_spool_unclaim(&c);
	return rc;
}

static int
run_state(const struct umfax_stage *st, struct umfax_spool *sp, int state, int *status)
{
	char **ids;
	int n = umfax_spool_list(sp, state, &ids);

	if (n < 0) {
		umfax_log(LOG_ERR, NULL, NULL, "file=%s/%s error=\"cannot list: %s\"",
		    sp->path, umfax_state_name(state), strerror(errno));
		*status = umfax_exit_worst(*status, EX_IOERR);
		return 0;
	}
	for (int i = 0; i < n && !stopping; i++)
		*status = umfax_exit_worst(*status, run_one(st, sp, state, ids[i], 0));
	umfax_spool_free_list(ids, n);
	return n;
}

static int
run_queue(const struct umfax_stage *st, const struct umfax_opts *o)
{
	struct umfax_spool *sp = get_spool(o);
	int status = EX_OK;

	if (sp == NULL)
		return EX_CANTCREAT;
	do {
		umfax_spool_clean_tmp(sp, umfax_conf_int("tmp_max_age"));
		run_state(st, sp, st->in, &status);
		if (!stopping)
			run_state(st, sp, UMFAX_DEFERRED, &status);
		if (!o->wait || stopping)
			break;
		/* Jobs failing in a loop must not stop a long-running runner. */
		status = EX_OK;
		umfax_spool_wait(sp, st->in, (int)umfax_conf_int("wait_interval") * 1000);
	} while (!stopping);
	return status;
}

static int
run_jobid(const struct umfax_stage *st, const struct umfax_opts *o)
{
	static const int where[] = { 0, UMFAX_DEFERRED, UMFAX_FAILED };
	struct umfax_spool *sp = get_spool(o);

	if (sp == NULL)
		return EX_CANTCREAT;
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		int state = i == 0 ? st->in : where[i];
		if (state < 0 || !umfax_spool_exists(sp, state, o->jobid))
			continue;
		if (state != st->in && retry_state_of(sp, state, o->jobid) != st->in)
			continue;
		return run_one(st, sp, state, o->jobid, 1);
	}
	umfax_log(LOG_ERR, o->jobid, NULL, "error=\"no such job for %s in %s, deferred or failed\"",
	    st->prog, umfax_state_name(st->in));
	return EX_NOINPUT;
}

int
umfax_stage_run(const struct umfax_stage *st, const struct umfax_opts *o)
{
	switch (o->mode) {
	case UMFAX_MODE_QUEUE: return run_queue(st, o);
	case UMFAX_MODE_JOB: return run_jobid(st, o);
	default: return run_filter(st, o);
	}
}

int
umfax_stage_emit(const struct umfax_stage *st, const struct umfax_opts *o,
    struct umfax_spool *sp, struct umfax_job *job)
{
	char err[512], id[UMFAX_JOB_ID_MAX + 1];

	if (umfax_job_id(job) == NULL)
		umfax_job_set(job, "Job-Id", umfax_job_new_id(id, sizeof(id)));
	if (o->mode == UMFAX_MODE_FILTER) {
		if (umfax_job_write(stdout, job) < 0) {
			umfax_log(LOG_ERR, umfax_job_id(job), NULL, "file=stdout error=\"%s\"", strerror(errno));
			return EX_IOERR;
		}
		return EX_OK;
	}
	if (sp == NULL && (sp = get_spool(o)) == NULL)
		return EX_CANTCREAT;
	if (umfax_spool_commit(sp, job, st->out, UMFAX_NONE, 0, err, sizeof(err)) < 0) {
		umfax_log(LOG_ERR, umfax_job_id(job), umfax_job_get(job, "Call-Id"), "error=\"%s\"", err);
		return EX_CANTCREAT;
	}
	umfax_log(LOG_INFO, umfax_job_id(job), umfax_job_get(job, "Call-Id"), "to=%s",
	    umfax_state_name(st->out));
	return EX_OK;
}
