/* faxmail - the last stage: mail each resolved fax job through msmtp
 *
 *   faxmail [options]            filter: jobs on stdin, sent jobs on stdout
 *   faxmail -q [-w]              run resolved/ and the due jobs of deferred/
 *   faxmail -j ID                one job (resolved/, deferred/ or failed/)
 *   faxmail -n                   dry run: print the mail instead of sending
 *   faxmail --list | --flush     the deferred and failed jobs; retry now */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "conf.h"
#include "exits.h"
#include "faxmail.h"
#include "log.h"
#include "stage.h"
#include "submit.h"

#define OPT_LIST  256
#define OPT_FLUSH 257

static const char usage[] =
	"usage: faxmail [-c config] [-d spool] [-v] [-n] [-q [-w] | -j ID]\n"
	"       faxmail [-c config] [-d spool] --list | --flush\n"
	"  (no mode)    read jobs on stdin, mail them, write the sent jobs to stdout\n"
	"  -q           mail every job in resolved/ and the due ones in deferred/\n"
	"  -w           with -q: keep running, woken by the trigger FIFO\n"
	"  -j ID        mail one job (from resolved/, deferred/ or failed/)\n"
	"  -n           dry run: write the mail to stdout, send nothing, change nothing\n"
	"  --list       list deferred and failed jobs, tab-separated\n"
	"  --flush      make every deferred faxmail job due now, then run the queue\n"
	"  -c FILE      umfax.conf (default " UMFAX_DEFAULT_CONFIG ")\n"
	"  -d DIR       the spool (default: spool_directory)\n"
	"  -v           more log lines; -h help; -V version\n";

static void
print_usage(FILE *fp)
{
	fputs(usage, fp);
	fprintf(fp, "PDF and preview (mail_attach, mail_preview): %s\n",
	    fm_have_faxtiff ? "built in" : "not built in (no faxtiff library)");
}

static const char *
msmtp_path(void)
{
	const char *e = getenv("UMFAX_MSMTP");
	return e != NULL && *e != '\0' ? e : umfax_conf_str("msmtp_path");
}

static int
send_message(const char *rcpt, const struct umfax_mime *m, struct umfax_submit_result *sr)
{
	struct umfax_submit s = {
		.msmtp = msmtp_path(),
		.config = umfax_conf_str("msmtp_config"),
		.account = umfax_conf_str("msmtp_account"),
		.from = umfax_conf_str("mail_from"),
		.timeout = (int)umfax_conf_int("msmtp_timeout"),
	};
	char err[512];

	if (umfax_submit_check_config(s.config, err, sizeof(err)) != 0) {
		memset(sr, 0, sizeof(*sr));
		sr->code = EX_CONFIG;
		sr->status = -2;
		snprintf(sr->reason, sizeof(sr->reason), "%s", err);
		return EX_CONFIG;
	}
	return umfax_submit_send(&s, rcpt, m->buf, m->len, sr);
}

/* Tell notice_address that JOB failed for good (never the fax sender). */
static void
notice(const struct umfax_job *job, const struct fm_fax *f, const char *reason)
{
	const char *to = umfax_conf_str("notice_address");
	struct umfax_mime m;
	struct umfax_submit_result sr;
	char q[600];

	if (to == NULL || *to == '\0')
		return;
	umfax_mime_init(&m);
	if (fm_compose_notice(job, f, to, reason, &m) != EX_OK) {
		umfax_log(LOG_ERR, f->id, NULL, "notice=not-sent error=\"notice_address or mail_from is not a plain address\"");
	} else if (send_message(to, &m, &sr) != EX_OK) {
		umfax_log(LOG_ERR, f->id, NULL, "notice=not-sent to=%s error=%s", to,
		    umfax_log_quote(q, sizeof(q), sr.reason));
	} else {
		umfax_log(LOG_INFO, f->id, NULL, "notice=sent to=%s", to);
	}
	umfax_mime_release(&m);
}

/* The stage's work on one job: build the mail, hand it to msmtp, say how
 * it went. */
static void
process(struct umfax_job *job, void *arg, struct umfax_result *r)
{
	struct fm_fax f;
	struct umfax_mime m;
	struct umfax_submit_result sr;
	char msgid[512], err[512], q[600];
	time_t now = time(NULL), first;

	(void)arg;
	if ((r->code = fm_fax_read(job, &f, err, sizeof(err))) != EX_OK) {
		snprintf(r->reason, sizeof(r->reason), "%s", err);
		if (umfax_exit_permanent(r->code))
			notice(job, &f, r->reason);
		return;
	}
	umfax_mime_init(&m);
	if ((r->code = fm_compose(job, &f, &m, msgid, sizeof(msgid), err, sizeof(err))) != EX_OK) {
		snprintf(r->reason, sizeof(r->reason), "%s", err);
		umfax_mime_release(&m);
		if (umfax_exit_permanent(r->code))
			notice(job, &f, r->reason);
		return;
	}
	send_message(f.rcpt, &m, &sr);
	umfax_mime_release(&m);
	r->code = sr.code;
	snprintf(r->reason, sizeof(r->reason), "%s", sr.reason);
	if (sr.reply[0])
		umfax_job_set(job, "Smtp-Reply", sr.reply);
	umfax_job_set(job, "Mail-Format", f.plain ? "plain" : "partner");
	if (sr.code == EX_OK) {
		umfax_job_set_time(job, "Sent-At", now);
		umfax_job_set(job, "Message-Id", msgid);
		umfax_log(LOG_INFO, f.id, umfax_job_get(job, "Call-Id"), "to=%s msgid=%s pages=%d status=%s format=%s reply=%s",
		    f.rcpt, msgid, f.pages, f.partner_status, f.plain ? "plain" : "partner",
		    umfax_log_quote(q, sizeof(q), sr.reply));
		return;
	}
	/* The stage files it in failed/ (permanent) or deferred/ (temporary,
	 * until queue_lifetime): notice the administrator of the first. */
	first = umfax_job_get_time(job, "First-Failure");
	if (umfax_exit_permanent(sr.code) ||
	    (first != 0 && now - first > umfax_conf_int("queue_lifetime")))
		notice(job, &f, sr.reason);
}

/* ---- -n: print the mail -------------------------------------------------- */

static int
dry_one(struct umfax_job *job)
{
	struct fm_fax f;
	struct umfax_mime m;
	char msgid[512], err[512];
	int rc;

	if ((rc = fm_fax_read(job, &f, err, sizeof(err))) == EX_OK) {
		umfax_mime_init(&m);
		rc = fm_compose(job, &f, &m, msgid, sizeof(msgid), err, sizeof(err));
		if (rc == EX_OK && fwrite(m.buf, 1, m.len, stdout) != m.len) {
			umfax_log(LOG_ERR, f.id, NULL, "file=stdout error=\"%s\"", strerror(errno));
			rc = EX_IOERR;
		}
		umfax_mime_release(&m);
	}
	if (rc != EX_OK && rc != EX_IOERR)
		umfax_log(LOG_ERR, umfax_job_id(job), NULL, "status=%d error=\"%s\"", rc, err);
	return rc;
}

static const char *
spool_path(const struct umfax_opts *o)
{
	const char *e = getenv("UMFAX_SPOOL");

	if (o->spool != NULL)
		return o->spool;
	if (e != NULL && *e != '\0')
		return e;
	return umfax_conf_str("spool_directory");
}

static int
open_spool(const struct umfax_opts *o, struct umfax_spool *sp)
{
	char err[512];

	if (umfax_spool_open(sp, spool_path(o), 1, err, sizeof(err)) < 0) {
		umfax_log(LOG_ERR, NULL, NULL, "spool=unusable error=\"%s\"", err);
		return -1;
	}
	return 0;
}

static int
dry_run(const struct umfax_opts *o)
{
	struct umfax_job job;
	char err[512];
	int rc, status = EX_OK;

	umfax_job_init(&job);
	if (o->mode == UMFAX_MODE_JOB) {
		static const int where[] = { UMFAX_RESOLVED, UMFAX_DEFERRED, UMFAX_FAILED, UMFAX_SENT };
		struct umfax_spool sp;
		if (open_spool(o, &sp) < 0)
			return EX_CANTCREAT;
		status = EX_NOINPUT;
		for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
			char path[PATH_MAX + 80];
			FILE *fp;
			snprintf(path, sizeof(path), "%s/%s/%s", sp.path, umfax_state_name(where[i]), o->jobid);
			if ((fp = fopen(path, "r")) == NULL)
				continue;
			rc = umfax_job_read(fp, &job, err, sizeof(err));
			fclose(fp);
			if (rc != 1) {
				umfax_log_file_error(path, "malformed job: %s", rc < 0 ? err : "empty");
				status = EX_DATAERR;
			} else {
				status = dry_one(&job);
			}
			break;
		}
		if (status == EX_NOINPUT)
			umfax_log(LOG_ERR, o->jobid, NULL, "error=\"no such job in resolved, deferred, failed or sent\"");
		umfax_spool_close(&sp);
	} else {
		while ((rc = umfax_job_read(stdin, &job, err, sizeof(err))) != 0) {
			if (rc < 0) {
				umfax_log(LOG_ERR, NULL, NULL, "file=stdin error=\"malformed job: %s\"", err);
				status = umfax_exit_worst(status, rc == -1 ? EX_DATAERR : EX_IOERR);
				if (rc == -2)
					break;
				continue;
			}
			if (umfax_job_id(&job) == NULL) {
				char id[UMFAX_JOB_ID_MAX + 1];
				umfax_job_set(&job, "Job-Id", umfax_job_new_id(id, sizeof(id)));
			}
			status = umfax_exit_worst(status, dry_one(&job));
		}
	}
	umfax_job_release(&job);
	if (fflush(stdout) != 0)
		status = umfax_exit_worst(status, EX_IOERR);
	return status;
}

/* ---- --list and --flush ------------------------------------------------------ */

/* Read the header block of SPOOL/STATE/ID (not the TIFF) into JOB. */
#define HEAD_MAX (UMFAX_JOB_MAX_FIELDS * (UMFAX_JOB_MAX_LINE + 1) + 64)

static int
read_head(struct umfax_spool *sp, int state, const char *id, struct umfax_job *job)
{
	char *buf, err[256], *e;
	size_t got = 0;
	ssize_t n;
	int fd = openat(sp->sfd[state], id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc;

	if (fd < 0 || (buf = malloc(HEAD_MAX + 1)) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Read until the blank line (the header block is bounded). */
	while (got < HEAD_MAX && (n = read(fd, buf + got, HEAD_MAX - got)) > 0) {
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\n\n") != NULL)
			break;
	}
	close(fd);
	buf[got] = '\0';
	if ((e = strstr(buf, "\n\n")) == NULL) {
		free(buf);
		return -1;
	}
	/* Parse the header alone: a zero-length body stands in for the TIFF. */
	{
		char *hl = strcasestr(buf, "\nContent-Length:");
		if (hl != NULL && hl < e) {
			char *le = strchr(hl + 1, '\n');
			memmove(hl + 1 + 17, le, strlen(le) + 1);
			memcpy(hl + 1, "Content-Length: 0", 17);
			e = strstr(buf, "\n\n");
		}
		e[2] = '\0';
	}
	rc = umfax_job_parse(buf, strlen(buf), job, err, sizeof(err));
	free(buf);
	return rc;
}

static const char *
orq(const char *s)
{
	return s != NULL && *s != '\0' ? s : "-";
}

static int
list(const struct umfax_opts *o)
{
	static const int states[] = { UMFAX_DEFERRED, UMFAX_FAILED };
	struct umfax_spool sp;

	if (open_spool(o, &sp) < 0)
		return EX_CANTCREAT;
	printf("#state\tjob\tstage\tattempts\tnext-attempt\trecipient\treason\n");
	for (size_t s = 0; s < 2; s++) {
		char **ids;
		int n = umfax_spool_list(&sp, states[s], &ids);
		for (int i = 0; i < n; i++) {
			struct umfax_job job;
			int def = states[s] == UMFAX_DEFERRED;
			umfax_job_init(&job);
			if (read_head(&sp, states[s], ids[i], &job) < 0) {
				printf("%s\t%s\t-\t-\t-\t-\tunreadable job file\n", umfax_state_name(states[s]), ids[i]);
			} else {
				const char *reason = def ? umfax_job_get(&job, "Deferred-Reason") :
				    umfax_job_get(&job, "Failed-Reason");
				if (reason == NULL)
					reason = umfax_job_get(&job, "Deny-Reason");
				printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", umfax_state_name(states[s]), ids[i],
				    orq(def ? umfax_job_get(&job, "Deferred-Stage") : umfax_job_get(&job, "Failed-Stage")),
				    orq(umfax_job_get(&job, "Attempts")),
				    def ? orq(umfax_job_get(&job, "Next-Attempt")) : "-",
				    orq(umfax_job_get(&job, "Recipient")), orq(reason));
			}
			umfax_job_release(&job);
		}
		if (n > 0)
			umfax_spool_free_list(ids, n);
	}
	umfax_spool_close(&sp);
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}

/* Every deferred job of faxmail becomes due now (its mtime). */
static int
flush(const struct umfax_opts *o)
{
	struct umfax_spool sp;
	char **ids;
	int n, made = 0;

	if (open_spool(o, &sp) < 0)
		return EX_CANTCREAT;
	n = umfax_spool_list(&sp, UMFAX_DEFERRED, &ids);
	for (int i = 0; i < n; i++) {
		struct umfax_job job;
		const char *rs;
		umfax_job_init(&job);
		if (read_head(&sp, UMFAX_DEFERRED, ids[i], &job) == 0 &&
		    (rs = umfax_job_get(&job, "Retry-State")) != NULL &&
		    umfax_state_from_name(rs) == UMFAX_RESOLVED) {
			if (utimensat(sp.sfd[UMFAX_DEFERRED], ids[i], NULL, 0) == 0)
				made++;
			else
				umfax_log(LOG_WARNING, ids[i], NULL, "error=\"cannot touch: %s\"", strerror(errno));
		}
		umfax_job_release(&job);
	}
	if (n > 0)
		umfax_spool_free_list(ids, n);
	umfax_spool_close(&sp);
	umfax_log(LOG_INFO, NULL, NULL, "flush=%d", made);
	return EX_OK;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		UMFAX_COMMON_LONGOPTS,
		{ "dry-run", no_argument, NULL, 'n' },
		{ "list",    no_argument, NULL, OPT_LIST },
		{ "flush",   no_argument, NULL, OPT_FLUSH },
		{ NULL, 0, NULL, 0 }
	};
	struct umfax_opts o = { 0 };
	struct umfax_stage st = { "faxmail", UMFAX_RESOLVED, UMFAX_SENT, process, NULL };
	int c, dry = 0, what = 0, rc;

	umfax_stage_init("faxmail");
	while ((c = getopt_long(argc, argv, UMFAX_COMMON_SHORTOPTS "n", longopts, NULL)) != -1) {
		if (c == 'h') {
			print_usage(stdout);
			return EX_OK;
		}
		if (umfax_opt_common(c, optarg, &o, usage))
			continue;
		switch (c) {
		case 'n': dry = 1; break;
		case OPT_LIST: case OPT_FLUSH: what = c; break;
		default:
			print_usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc || (what && (dry || o.mode != UMFAX_MODE_FILTER))) {
		print_usage(stderr);
		return EX_USAGE;
	}
	umfax_stage_config(&o);
	if (dry)
		return dry_run(&o);
	if (what == OPT_LIST)
		return list(&o);
	if (what == OPT_FLUSH) {
		if ((rc = flush(&o)) != EX_OK)
			return rc;
		o.mode = UMFAX_MODE_QUEUE;
	}
	return umfax_stage_run(&st, &o);
}
