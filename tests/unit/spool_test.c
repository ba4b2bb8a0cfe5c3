/* spool_test.c - the commit protocol, claims, deferred/failed routing, crash points */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "conf.h"
#include "exits.h"
#include "log.h"
#include "spool.h"
#include "stage.h"
#include "t.h"

static char root[256];

static void
mkjob(struct umfax_job *j, const char *id, const char *body)
{
	umfax_job_init(j);
	umfax_job_set(j, "Job-Id", id);
	umfax_job_set(j, "Call-Id", "c1@test");
	umfax_job_set_body(j, body, strlen(body));
}

/* Which states hold ID: a string like "received,normalized". */
static void
where(struct umfax_spool *sp, const char *id, char *out, size_t n)
{
	out[0] = '\0';
	for (int s = UMFAX_TMP; s < UMFAX_NSTATES; s++)
		if (umfax_spool_exists(sp, s, id)) {
			if (out[0])
				strncat(out, ",", n - strlen(out) - 1);
			strncat(out, umfax_state_name(s), n - strlen(out) - 1);
		}
}

static void
fresh(struct umfax_spool *sp, const char *name)
{
	char path[512], err[256], cmd[600];

	snprintf(path, sizeof(path), "%s/%s", root, name);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		exit(2);
	if (umfax_spool_open(sp, path, 1, err, sizeof(err)) < 0) {
		fprintf(stderr, "spool: %s\n", err);
		exit(2);
	}
}

static void
test_commit(void)
{
	struct umfax_spool sp;
	struct umfax_job j, k;
	struct umfax_claim c, c2;
	char err[256], w[128], **ids;
	struct stat st;
	int n;

	fresh(&sp, "commit");
	mkjob(&j, "j1", "TIFFDATA");
	T_CHECK(umfax_spool_commit(&sp, &j, UMFAX_RECEIVED, UMFAX_NONE, 0, err, sizeof(err)) == 0, "commit: %s", err);
	where(&sp, "j1", w, sizeof(w));
	T_STREQ(w, "received", "in received only");
	T_CHECK(umfax_spool_claim(&sp, UMFAX_RECEIVED, "j1", &c, err, sizeof(err)) == 1, "claim");
	T_CHECK(umfax_spool_claim(&sp, UMFAX_RECEIVED, "j1", &c2, err, sizeof(err)) == 0, "second claim refused while held");
	umfax_job_init(&k);
	T_CHECK(umfax_spool_load(&c, &k, err, sizeof(err)) == 0, "load: %s", err);
	T_CHECK(k.len == 8 && memcmp(k.body, "TIFFDATA", 8) == 0, "body back");
	T_CHECK(umfax_spool_commit(&sp, &k, UMFAX_NORMALIZED, UMFAX_RECEIVED, 0, err, sizeof(err)) == 0, "move: %s", err);
	umfax_spool_unclaim(&c);
	where(&sp, "j1", w, sizeof(w));
	T_STREQ(w, "normalized", "moved, input gone");
	T_CHECK(umfax_spool_claim(&sp, UMFAX_RECEIVED, "j1", &c, err, sizeof(err)) == 0, "gone job cannot be claimed");
	/* deferred: the mtime is the next attempt */
	T_CHECK(umfax_spool_commit(&sp, &k, UMFAX_DEFERRED, UMFAX_NORMALIZED, 2000000000, err, sizeof(err)) == 0, "defer");
	T_CHECK(fstatat(sp.sfd[UMFAX_DEFERRED], "j1", &st, 0) == 0 && st.st_mtime == 2000000000, "mtime set");
	/* a stale tmp file of the same job does not block the commit */
	close(openat(sp.sfd[UMFAX_TMP], "j1", O_CREAT | O_WRONLY, 0600));
	T_CHECK(umfax_spool_commit(&sp, &k, UMFAX_FAILED, UMFAX_DEFERRED, 0, err, sizeof(err)) == 0, "commit over stale tmp: %s", err);
	where(&sp, "j1", w, sizeof(w));
	T_STREQ(w, "failed", "only failed");
	/* listing is sorted and skips dot files and bad names */
	umfax_job_release(&j);
	mkjob(&j, "b", "x"); umfax_spool_commit(&sp, &j, UMFAX_RESOLVED, UMFAX_NONE, 0, err, sizeof(err));
	umfax_job_release(&j);
	mkjob(&j, "a", "x"); umfax_spool_commit(&sp, &j, UMFAX_RESOLVED, UMFAX_NONE, 0, err, sizeof(err));
	close(openat(sp.sfd[UMFAX_RESOLVED], ".hidden", O_CREAT | O_WRONLY, 0600));
	n = umfax_spool_list(&sp, UMFAX_RESOLVED, &ids);
	T_CHECK(n == 2 && strcmp(ids[0], "a") == 0 && strcmp(ids[1], "b") == 0, "list sorted, %d", n);
	umfax_spool_free_list(ids, n);
	/* no Job-Id, bad Job-Id: refused, nothing written */
	umfax_job_release(&j);
	umfax_job_init(&j);
	T_CHECK(umfax_spool_commit(&sp, &j, UMFAX_RESOLVED, UMFAX_NONE, 0, err, sizeof(err)) == -1, "no id refused");
	/* stale tmp cleanup */
	{
		struct timespec old[2] = { { time(NULL) - 7200, 0 }, { time(NULL) - 7200, 0 } };
		int fd = openat(sp.sfd[UMFAX_TMP], "old", O_CREAT | O_WRONLY, 0600);
		futimens(fd, old);
		close(fd);
		close(openat(sp.sfd[UMFAX_TMP], "new", O_CREAT | O_WRONLY, 0600));
		T_CHECK(umfax_spool_clean_tmp(&sp, 3600) == 1, "one stale tmp file removed");
		T_CHECK(umfax_spool_exists(&sp, UMFAX_TMP, "new") && !umfax_spool_exists(&sp, UMFAX_TMP, "old"), "the right one");
	}
	/* poke and wait */
	T_CHECK(umfax_spool_wait(&sp, UMFAX_RESOLVED, 0) == 0, "no poke yet");
	umfax_spool_poke(&sp, UMFAX_RESOLVED);
	T_CHECK(umfax_spool_wait(&sp, UMFAX_RESOLVED, 1000) == 1, "poke seen by a waiting runner");
	T_CHECK(umfax_spool_wait(&sp, UMFAX_RESOLVED, 0) == 0, "poke consumed");
	umfax_job_release(&j);
	umfax_job_release(&k);
	umfax_spool_close(&sp);
}

/* Kill a child at each crash point of a commit received -> normalized and
 * check the job is in exactly the states the protocol promises. */
static void
test_crashpoints(void)
{
	static const struct { const char *point, *want; } t[] = {
		{ "spool-1-tmp-open", "tmp,received" },
		{ "spool-1-tmp-written", "tmp,received" },
		{ "spool-2-renamed", "received,normalized" },
		{ "spool-3-input-removed", "normalized" },
		{ "spool-4-poked", "normalized" },
		{ "none", "normalized" },
	};
	struct umfax_spool sp;
	char err[256], w[128];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct umfax_job j;
		pid_t pid;
		int status;

		fresh(&sp, "crash");
		mkjob(&j, "c1", "PAGEDATA");
		umfax_spool_commit(&sp, &j, UMFAX_RECEIVED, UMFAX_NONE, 0, err, sizeof(err));
		fflush(NULL);
		if ((pid = fork()) == 0) {
			setenv("UMFAX_CRASHPOINT", t[i].point, 1);
			umfax_spool_commit(&sp, &j, UMFAX_NORMALIZED, UMFAX_RECEIVED, 0, err, sizeof(err));
			_exit(0);
		}
		waitpid(pid, &status, 0);
		T_CHECK(strcmp(t[i].point, "none") == 0 ? WIFEXITED(status)
		    : WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "killed at %s", t[i].point);
		where(&sp, "c1", w, sizeof(w));
		T_STREQ(w, t[i].want, "after a kill at %s", t[i].point);
		umfax_job_release(&j);
		umfax_spool_close(&sp);
	}
}

/* ---- the stage driver in queue mode ------------------------------------ */

static void
proc(struct umfax_job *job, void *arg, struct umfax_result *r)
{
	const char *b = (const char *)job->body;
	(void)arg;
	if (job->len >= 4 && memcmp(b, "PERM", 4) == 0) {
		r->code = EX_DATAERR;
		snprintf(r->reason, sizeof(r->reason), "bad data");
	} else if (job->len >= 4 && memcmp(b, "TEMP", 4) == 0) {
		r->code = EX_TEMPFAIL;
		snprintf(r->reason, sizeof(r->reason), "try later");
	} else {
		umfax_job_set(job, "Seen", "yes");
	}
}

static void
test_stage(void)
{
	struct umfax_spool sp;
	struct umfax_job j;
	struct umfax_claim c;
	struct umfax_opts o;
	struct umfax_stage st = { "unit", UMFAX_RECEIVED, UMFAX_NORMALIZED, proc, NULL };
	char err[256], w[128], path[512];
	int rc;

	fresh(&sp, "stage");
	snprintf(path, sizeof(path), "%s/stage", root);
	mkjob(&j, "ok1", "GOOD"); umfax_spool_commit(&sp, &j, UMFAX_RECEIVED, UMFAX_NONE, 0, err, sizeof(err)); umfax_job_release(&j);
	mkjob(&j, "perm1", "PERM"); umfax_spool_commit(&sp, &j, UMFAX_RECEIVED, UMFAX_NONE, 0, err, sizeof(err)); umfax_job_release(&j);
	mkjob(&j, "temp1", "TEMP"); umfax_spool_commit(&sp, &j, UMFAX_RECEIVED, UMFAX_NONE, 0, err, sizeof(err)); umfax_job_release(&j);
	/* a malformed file in the input state */
	{
		int fd = openat(sp.sfd[UMFAX_RECEIVED], "junk1", O_CREAT | O_WRONLY, 0600);
		T_CHECK(write(fd, "not a job\n", 10) == 10, "write junk");
		close(fd);
	}
	/* a stale copy: the job is already in normalized/ (crash after rename) */
	mkjob(&j, "dup1", "GOOD");
	umfax_spool_commit(&sp, &j, UMFAX_RECEIVED, UMFAX_NONE, 0, err, sizeof(err));
	umfax_spool_commit(&sp, &j, UMFAX_NORMALIZED, UMFAX_NONE, 0, err, sizeof(err));
	umfax_job_release(&j);

	memset(&o, 0, sizeof(o));
	o.mode = UMFAX_MODE_QUEUE;
	o.spool = path;
	rc = umfax_stage_run(&st, &o);
	T_CHECK(rc == EX_DATAERR, "permanent outranks temporary: %d", rc);
	where(&sp, "ok1", w, sizeof(w)); T_STREQ(w, "normalized", "good job moved on");
	where(&sp, "perm1", w, sizeof(w)); T_STREQ(w, "failed", "permanent failure in failed/");
	where(&sp, "temp1", w, sizeof(w)); T_STREQ(w, "deferred", "temporary failure in deferred/");
	where(&sp, "junk1", w, sizeof(w)); T_STREQ(w, "failed", "malformed file moved to failed/");
	where(&sp, "dup1", w, sizeof(w)); T_STREQ(w, "normalized", "stale input copy removed, not redone");

	umfax_job_init(&j);
	T_CHECK(umfax_spool_claim(&sp, UMFAX_FAILED, "perm1", &c, err, sizeof(err)) == 1
	    && umfax_spool_load(&c, &j, err, sizeof(err)) == 0, "load failed job");
	T_STREQ(umfax_job_get(&j, "Failed-Reason"), "bad data", "reason recorded");
	T_STREQ(umfax_job_get(&j, "Failed-Stage"), "unit", "stage recorded");
	T_STREQ(umfax_job_get(&j, "Retry-State"), "received", "retry state recorded");
	umfax_spool_unclaim(&c);
	umfax_job_release(&j);
	T_CHECK(umfax_spool_claim(&sp, UMFAX_DEFERRED, "temp1", &c, err, sizeof(err)) == 1
	    && umfax_spool_load(&c, &j, err, sizeof(err)) == 0, "load deferred job");
	T_STREQ(umfax_job_get(&j, "Attempts"), "1", "first attempt counted");
	T_CHECK(c.mtime >= time(NULL) + umfax_conf_int("retry_min") - 5, "next attempt in the future");
	umfax_spool_unclaim(&c);
	umfax_job_release(&j);

	/* not due yet: a second run leaves it alone */
	rc = umfax_stage_run(&st, &o);
	where(&sp, "temp1", w, sizeof(w)); T_STREQ(w, "deferred", "not retried before its time");
	/* -j retries it now; still failing: attempts 2 */
	o.mode = UMFAX_MODE_JOB;
	o.jobid = "temp1";
	rc = umfax_stage_run(&st, &o);
	T_CHECK(rc == EX_TEMPFAIL, "-j result %d", rc);
	T_CHECK(umfax_spool_claim(&sp, UMFAX_DEFERRED, "temp1", &c, err, sizeof(err)) == 1
	    && umfax_spool_load(&c, &j, err, sizeof(err)) == 0, "load deferred job again");
	T_STREQ(umfax_job_get(&j, "Attempts"), "2", "second attempt counted");
	umfax_spool_unclaim(&c);
	umfax_job_release(&j);
	/* a job from another stage in deferred/ is not ours */
	o.jobid = "nosuch";
	T_CHECK(umfax_stage_run(&st, &o) == EX_NOINPUT, "-j of a missing job: EX_NOINPUT");
	umfax_spool_close(&sp);
}

int
main(void)
{
	char tmpl[] = "/tmp/umfax-spool-test.XXXXXX";
	char cmd[300];

	setenv("UMFAX_LOG_SYSLOG", "0", 1);
	setenv("UMFAX_LOG_STDERR", "0", 1);
	umfax_log_init("spool_test");
	if (mkdtemp(tmpl) == NULL)
		return 2;
	snprintf(root, sizeof(root), "%s", tmpl);
	test_commit();
	test_crashpoints();
	test_stage();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		return 2;
	return T_DONE();
}
