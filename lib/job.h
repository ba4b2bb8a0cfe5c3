/* job.h - the job format: header block, blank line, Content-Length bytes of TIFF
 *
 *   Umfax-Job: 1
 *   Job-Id: 20261122T134500Z.4711.a1
 *   Content-Length: 48213
 *   Name: value ...
 *   <blank line>
 *   <body>
 *
 * Field names are case-insensitive; values are one line of printable UTF-8.
 * Unknown fields are kept, in order. */
#ifndef UMFAX_JOB_H
#define UMFAX_JOB_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#define UMFAX_JOB_VERSION      "1"
#define UMFAX_JOB_MAX_FIELDS   128        /* header lines per job */
#define UMFAX_JOB_MAX_NAME     64         /* bytes in a field name */
#define UMFAX_JOB_MAX_VALUE    2048       /* bytes in a field value (after cleaning) */
#define UMFAX_JOB_MAX_LINE     (UMFAX_JOB_MAX_NAME + UMFAX_JOB_MAX_VALUE + 8)
#define UMFAX_JOB_MAX_BODY     (512L * 1024 * 1024)
#define UMFAX_JOB_ID_MAX       64

struct umfax_field {
	char *name;
	char *value;
};

struct umfax_job {
	struct umfax_field *f;
	size_t nf, capf;
	unsigned char *body;
	size_t len;
};

void umfax_job_init(struct umfax_job *job);
void umfax_job_release(struct umfax_job *job);    /* frees fields and body, re-inits */

/* Field access.  get returns NULL when absent.  set cleans VALUE
 * (umfax_job_clean) and replaces the first field of that name, or appends.
 * Content-Length and Umfax-Job are managed by the writer: set refuses them.
 * Returns 0, or -1 (bad name, too many fields, no memory). */
const char *umfax_job_get(const struct umfax_job *job, const char *name);
int umfax_job_set(struct umfax_job *job, const char *name, const char *value);
int umfax_job_setf(struct umfax_job *job, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int umfax_job_del(struct umfax_job *job, const char *name);   /* 1 if removed */
const char *umfax_job_id(const struct umfax_job *job);          /* Job-Id or NULL */

/* Set NAME only when VALUE is not NULL or empty.  0 or -1, as set. */
int umfax_job_set_if(struct umfax_job *job, const char *name, const char *value);

/* The whole file PATH (at most UMFAX_JOB_MAX_BODY bytes) as the body.  0, or
 * -1 with errno (EFBIG when it is too big); the old body stays then. */
int umfax_job_body_from_file(struct umfax_job *job, const char *path);

/* Take ownership of BODY (malloc'd, LEN bytes); frees any old body. */
void umfax_job_take_body(struct umfax_job *job, unsigned char *body, size_t len);
/* Copy LEN bytes into a new body.  0 or -1. */
int umfax_job_set_body(struct umfax_job *job, const void *body, size_t len);

/* Clean a value that came off the network into DST (size N, N >= 1): CR, LF,
 * TAB become a space, other control bytes and DEL are dropped, invalid UTF-8
 * bytes become '?', runs of spaces fold to one, leading/trailing spaces go, and
 * the result is cut (on a character boundary) to N-1 bytes.  Returns DST. */
char *umfax_job_clean(char *dst, size_t n, const char *src, size_t srclen);

/* 1 if ID is usable as a Job-Id and a file name: 1..64 of [A-Za-z0-9._-],
 * not starting with '.'. */
int umfax_job_id_valid(const char *id);

/* Time fields ("Received-At: 2026-11-22T13:45:00Z", always UTC).  get
 * returns 0 when the field is absent or not of that form; set returns 0/-1. */
time_t umfax_job_get_time(const struct umfax_job *job, const char *name);
int umfax_job_set_time(struct umfax_job *job, const char *name, time_t t);

/* Make a new unique Job-Id: 20261122T134500Z.PID.COUNTER in BUF (size N). */
char *umfax_job_new_id(char *buf, size_t n);

/* Read one job from FP.  SRC names the stream in errors ("stdin", a path).
 * Returns 1 with a job, 0 at a clean end of input, -1 for a malformed or
 * truncated job (ERR holds a one-line reason; the stream has been skipped to
 * the next "Umfax-Job:" line, so the caller may read on), -2 on a read error. */
int umfax_job_read(FILE *fp, struct umfax_job *job, char *err, size_t errlen);

/* Parse exactly one job from a buffer (a spool file).  0 or -1 with ERR. */
int umfax_job_parse(const void *buf, size_t len, struct umfax_job *job,
    char *err, size_t errlen);

/* Serialise: header block with Umfax-Job and Content-Length first. */
int umfax_job_write(FILE *fp, const struct umfax_job *job);     /* 0, or -1 (errno) */
/* Same into a malloc'd buffer; returns its length via LENP.  NULL on no memory. */
unsigned char *umfax_job_format(const struct umfax_job *job, size_t *lenp);

#endif
