/* job.c - read and write the job format */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "job.h"

void
umfax_job_init(struct umfax_job *job)
{
	memset(job, 0, sizeof(*job));
}

void
umfax_job_release(struct umfax_job *job)
{
	for (size_t i = 0; i < job->nf; i++) {
		free(job->f[i].name);
		free(job->f[i].value);
	}
	free(job->f);
	free(job->body);
	umfax_job_init(job);
}

static int
name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > UMFAX_JOB_MAX_NAME)
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return 0;
	return 1;
}

static int
managed(const char *name)
{
	return strcasecmp(name, "Content-Length") == 0 || strcasecmp(name, "Umfax-Job") == 0;
}

const char *
umfax_job_get(const struct umfax_job *job, const char *name)
{
	for (size_t i = 0; i < job->nf; i++)
		if (strcasecmp(job->f[i].name, name) == 0)
			return job->f[i].value;
	return NULL;
}

const char *
umfax_job_id(const struct umfax_job *job)
{
	return umfax_job_get(job, "Job-Id");
}

/* Append or replace without the managed-name check (the reader uses it). */
static int
put(struct umfax_job *job, const char *name, const char *value, size_t vlen)
{
	char clean[UMFAX_JOB_MAX_VALUE + 1], *v;

	if (!name_valid(name))
		return -1;
	umfax_job_clean(clean, sizeof(clean), value, vlen);
	if ((v = strdup(clean)) == NULL)
		return -1;
	for (size_t i = 0; i < job->nf; i++) {
		if (strcasecmp(job->f[i].name, name) == 0) {
			free(job->f[i].value);
			job->f[i].value = v;
			return 0;
		}
	}
	if (job->nf >= UMFAX_JOB_MAX_FIELDS)
		goto fail;
	if (job->nf == job->capf) {
		size_t cap = job->capf ? job->capf * 2 : 16;
		struct umfax_field *f = realloc(job->f, cap * sizeof(*f));
		if (f == NULL)
			goto fail;
		job->f = f;
		job->capf = cap;
	}
	if ((job->f[job->nf].name = strdup(name)) == NULL)
		goto fail;
	job->f[job->nf++].value = v;
	return 0;
fail:
	free(v);
	return -1;
}

int
umfax_job_set(struct umfax_job *job, const char *name, const char *value)
{
	if (managed(name) || value == NULL)
		return -1;
	return put(job, name, value, strlen(value));
}

int
umfax_job_setf(struct umfax_job *job, const char *name, const char *fmt, ...)
{
	char buf[UMFAX_JOB_MAX_VALUE + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return umfax_job_set(job, name, buf);
}

int
umfax_job_del(struct umfax_job *job, const char *name)
{
	for (size_t i = 0; i < job->nf; i++) {
		if (strcasecmp(job->f[i].name, name) == 0) {
			free(job->f[i].name);
			free(job->f[i].value);
			memmove(&job->f[i], &job->f[i + 1], (job->nf - i - 1) * sizeof(job->f[0]));
			job->nf--;
			return 1;
		}
	}
	return 0;
}

void
umfax_job_take_body(struct umfax_job *job, unsigned char *body, size_t len)
{
	free(job->body);
	job->body = body;
	job->len = len;
}

int
umfax_job_set_body(struct umfax_job *job, const void *body, size_t len)
{
	unsigned char *copy = malloc(len ? len : 1);

	if (copy == NULL)
		return -1;
	if (len)
		memcpy(copy, body, len);
	umfax_job_take_body(job, copy, len);
	return 0;
}

/* Length of the valid UTF-8 sequence at P (at most N bytes), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t c;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, c = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff))
	    || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	/* C1 controls (U+0080..U+009F) are control characters: -2 says "drop". */
	if (c >= 0x80 && c <= 0x9f)
		return (size_t)-2;
	return len;
}

char *
umfax_job_clean(char *dst, size_t n, const char *src, size_t srclen)
{
	const unsigned char *p = (const unsigned char *)src, *end = p + srclen;
	size_t o = 0;
	int space = 1;            /* drop leading spaces */

	if (n == 0)
		return dst;
	while (p < end) {
		size_t l;
		if (*p == '\r' || *p == '\n' || *p == '\t' || *p == ' ') {
			if (!space && o + 1 < n)
				dst[o++] = ' ';
			space = 1;
			p++;
			continue;
		}
		if (*p < ' ' || *p == 0x7f) {
			p++;
			continue;
		}
		l = utf8_len(p, (size_t)(end - p));
		if (l == (size_t)-2) {
			p += 2;
			continue;
		}
		if (l == 0) {
			if (o + 1 >= n)
				break;
			dst[o++] = '?';
			p++;
		} else {
			if (o + l >= n)
				break;
			memcpy(dst + o, p, l);
			o += l;
			p += l;
		}
		space = 0;
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
	return dst;
}

int
umfax_job_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > UMFAX_JOB_ID_MAX || id[0] == '.')
		return 0;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return 0;
	return 1;
}

char *
umfax_job_new_id(char *buf, size_t n)
{
	static unsigned counter;
	struct tm tm;
	time_t now = time(NULL);
	char ts[32];

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(buf, n, "%s.%ld.%x", ts, (long)getpid(), ++counter);
	return buf;
}

#define TIME_FORMAT "%Y-%m-%dT%H:%M:%SZ"

time_t
umfax_job_get_time(const struct umfax_job *job, const char *name)
{
	const char *s = umfax_job_get(job, name), *end;
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (end = strptime(s, TIME_FORMAT, &tm)) == NULL || *end != '\0')
		return 0;
	return timegm(&tm);
}

int
umfax_job_set_time(struct umfax_job *job, const char *name, time_t t)
{
	char buf[32];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, sizeof(buf), TIME_FORMAT, &tm) == 0)
		return -1;
	return umfax_job_set(job, name, buf);
}

/* ---- reading ------------------------------------------------------------ */

struct src {
	/* Either a FILE or a buffer. */
	FILE *fp;
	const unsigned char *buf;
	size_t len, pos;
	size_t lstart;            /* buffers: where the last line began */
};

/* A line set aside while skipping a bad job: the "Umfax-Job:" line that
 * starts the next one.  One stream at a time reads jobs in these programs. */
static FILE *pend_fp;
static char pend_line[UMFAX_JOB_MAX_LINE + 2];

/* Read one line (without its LF, CR stripped) into LINE.  Returns its
 * length, -1 at EOF before any byte, -2 if longer than the limit (the rest
 * is consumed), -3 on a read error. */
static long
get_line(struct src *s, char *line, size_t size)
{
	size_t o = 0;
	int c, toolong = 0, any = 0;

	if (s->fp != NULL && pend_fp == s->fp && pend_line[0]) {
		snprintf(line, size, "%s", pend_line);
		pend_line[0] = '\0';
		pend_fp = NULL;
		return (long)strlen(line);
	}
	s->lstart = s->pos;
	for (;;) {
		if (s->fp != NULL) {
			c = getc(s->fp);
			if (c == EOF && ferror(s->fp))
				return -3;
		} else {
			c = s->pos < s->len ? s->buf[s->pos++] : EOF;
		}
		if (c == EOF)
			break;
		any = 1;
		if (c == '\n')
			break;
		if (o + 1 < size)
			line[o++] = (char)c;
		else
			toolong = 1;
	}
	if (!any)
		return -1;
	if (o > 0 && line[o - 1] == '\r')
		o--;
	line[o] = '\0';
	return toolong ? -2 : (long)o;
}

static int
is_job_start(const char *line)
{
	return strncasecmp(line, "Umfax-Job:", 10) == 0;
}

/* Skip to the next line that starts a job and set it aside. */
static void
resync(struct src *s)
{
	char line[UMFAX_JOB_MAX_LINE + 2];
	long n;

	while ((n = get_line(s, line, sizeof(line))) != -1 && n != -3) {
		if (n >= 0 && is_job_start(line)) {
			if (s->fp != NULL) {
				snprintf(pend_line, sizeof(pend_line), "%s", line);
				pend_fp = s->fp;
			} else {
				s->pos = s->lstart;   /* buffers: step back */
			}
			return;
		}
	}
}

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
read_job(struct src *s, struct umfax_job *job, char *err, size_t errlen)
{
	char line[UMFAX_JOB_MAX_LINE + 2];
	long n;
	int lineno = 0, have_len = 0, body_ok = 0;
	unsigned long long clen = 0;

	umfax_job_release(job);
	/* Blank lines between jobs are allowed. */
	do {
		n = get_line(s, line, sizeof(line));
		lineno++;
	} while (n == 0);
	if (n == -1)
		return 0;
	if (n == -3)
		return fail(err, errlen, "read error: %s", strerror(errno)) - 1;
	if (n == -2 || !is_job_start(line)) {
		fail(err, errlen, "line %d: not a job (expected \"Umfax-Job: 1\")", lineno);
		resync(s);
		return -1;
	}
	{
		const char *v = line + 10;
		while (*v == ' ' || *v == '\t')
			v++;
		if (strcmp(v, UMFAX_JOB_VERSION) != 0) {
			fail(err, errlen, "line %d: unsupported job version \"%.20s\"", lineno, v);
			resync(s);
			return -1;
		}
	}
	for (;;) {
		char *colon, *v;
		n = get_line(s, line, sizeof(line));
		lineno++;
		if (n == -1)
			return fail(err, errlen, "truncated job: end of input in the header block");
		if (n == -3)
			return fail(err, errlen, "read error: %s", strerror(errno)) - 1;
		if (n == -2) {
			fail(err, errlen, "line %d: header line longer than %d bytes",
			    lineno, UMFAX_JOB_MAX_LINE);
			goto bad;
		}
		if (n == 0)
			break;
		if (is_job_start(line)) {
			/* A new job begins before this one's header ended. */
			if (s->fp != NULL) {
				snprintf(pend_line, sizeof(pend_line), "%s", line);
				pend_fp = s->fp;
			} else {
				s->pos = s->lstart;
			}
			return fail(err, errlen, "line %d: header block not ended by a blank line", lineno);
		}
		if ((colon = strchr(line, ':')) == NULL) {
			fail(err, errlen, "line %d: expected \"Name: value\"", lineno);
			goto bad;
		}
		*colon = '\0';
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (!name_valid(line)) {
			fail(err, errlen, "line %d: bad field name", lineno);
			goto bad;
		}
		if (strcasecmp(line, "Content-Length") == 0) {
			char *end;
			if (have_len || !isdigit((unsigned char)*v)) {
				fail(err, errlen, "line %d: bad Content-Length", lineno);
				goto bad;
			}
			errno = 0;
			clen = strtoull(v, &end, 10);
			if (*end != '\0' || errno != 0 || clen > (unsigned long long)UMFAX_JOB_MAX_BODY) {
				fail(err, errlen, "line %d: bad Content-Length \"%.20s\"", lineno, v);
				goto bad;
			}
			have_len = 1;
			continue;
		}
		if (strcasecmp(line, "Umfax-Job") == 0)
			continue;
		if (put(job, line, v, strlen(v)) < 0) {
			fail(err, errlen, "line %d: more than %d fields", lineno, UMFAX_JOB_MAX_FIELDS);
			goto bad;
		}
	}
	if (!have_len) {
		fail(err, errlen, "no Content-Length field");
		goto bad;
	}
	body_ok = 1;
	{
		const char *id = umfax_job_id(job);
		if (id != NULL && !umfax_job_id_valid(id)) {
			fail(err, errlen, "bad Job-Id \"%.70s\"", id);
			goto skipbody;
		}
	}
	if ((job->body = malloc(clen ? (size_t)clen : 1)) == NULL)
		return fail(err, errlen, "out of memory for a %llu byte body", clen) - 1;
	job->len = (size_t)clen;
	if (s->fp != NULL) {
		size_t got = fread(job->body, 1, job->len, s->fp);
		if (got != job->len) {
			if (ferror(s->fp))
				return fail(err, errlen, "read error: %s", strerror(errno)) - 1;
			return fail(err, errlen, "truncated job: body has %zu of %zu bytes",
			    got, job->len);
		}
	} else {
		if (s->len - s->pos < job->len)
			return fail(err, errlen, "truncated job: body has %zu of %zu bytes",
			    s->len - s->pos, job->len);
		memcpy(job->body, s->buf + s->pos, job->len);
		s->pos += job->len;
	}
	return 1;

skipbody:
	/* The header block ended and the length is known: skip the body. */
	if (s->fp != NULL) {
		for (unsigned long long i = 0; i < clen; i++)
			if (getc(s->fp) == EOF)
				break;
	} else {
		s->pos += s->len - s->pos < clen ? s->len - s->pos : (size_t)clen;
	}
	umfax_job_release(job);
	return -1;
bad:
	(void)body_ok;
	umfax_job_release(job);
	resync(s);
	return -1;
}

int
umfax_job_read(FILE *fp, struct umfax_job *job, char *err, size_t errlen)
{
	struct src s = { fp, NULL, 0, 0, 0 };
	int rc = read_job(&s, job, err, errlen);

	if (rc < 0)
		umfax_job_release(job);
	return rc;
}

int
umfax_job_parse(const void *buf, size_t len, struct umfax_job *job, char *err, size_t errlen)
{
	struct src s = { NULL, buf, len, 0, 0 };
	int rc = read_job(&s, job, err, errlen);

	if (rc == 0)
		return fail(err, errlen, "empty file");
	if (rc < 0) {
		umfax_job_release(job);
		return -1;
	}
	while (s.pos < s.len && (s.buf[s.pos] == '\n' || s.buf[s.pos] == '\r'))
		s.pos++;
	if (s.pos != s.len) {
		umfax_job_release(job);
		return fail(err, errlen, "%zu bytes after the body", s.len - s.pos);
	}
	return 0;
}

/* ---- writing ------------------------------------------------------------- */

unsigned char *
umfax_job_format(const struct umfax_job *job, size_t *lenp)
{
	char *hdr = NULL;
	size_t hlen = 0;
	FILE *fp = open_memstream(&hdr, &hlen);
	const char *id = umfax_job_id(job);
	unsigned char *out;

	if (fp == NULL)
		return NULL;
	fprintf(fp, "Umfax-Job: %s\n", UMFAX_JOB_VERSION);
	if (id != NULL)
		fprintf(fp, "Job-Id: %s\n", id);
	fprintf(fp, "Content-Length: %zu\n", job->len);
	for (size_t i = 0; i < job->nf; i++)
		if (strcasecmp(job->f[i].name, "Job-Id") != 0)
			fprintf(fp, "%s: %s\n", job->f[i].name, job->f[i].value);
	fputc('\n', fp);
	if (fclose(fp) != 0) {
		free(hdr);
		return NULL;
	}
	if ((out = realloc(hdr, hlen + job->len + 1)) == NULL) {
		free(hdr);
		return NULL;
	}
	if (job->len)
		memcpy(out + hlen, job->body, job->len);
	*lenp = hlen + job->len;
	return out;
}

int
umfax_job_write(FILE *fp, const struct umfax_job *job)
{
	size_t len;
	unsigned char *buf = umfax_job_format(job, &len);
	int rc = 0;

	if (buf == NULL)
		return -1;
	if (fwrite(buf, 1, len, fp) != len || fflush(fp) != 0)
		rc = -1;
	free(buf);
	return rc;
}

int umfax_job_set_if(struct umfax_job *job, const char *name, const char *value)
{
	return value && *value ? umfax_job_set(job, name, value) : 0;
}

int umfax_job_body_from_file(struct umfax_job *job, const char *path)
{
	FILE *fp = fopen(path, "rbe");
	struct stat sb;
	unsigned char *buf;
	size_t len;
	int bad;

	if (!fp)
		return -1;
	if (fstat(fileno(fp), &sb) < 0 || sb.st_size < 0 || sb.st_size > UMFAX_JOB_MAX_BODY) {
		fclose(fp);
		errno = EFBIG;
		return -1;
	}
	if ((buf = malloc((size_t) sb.st_size + 1)) == NULL) {
		fclose(fp);
		return -1;
	}
	len = fread(buf, 1, (size_t) sb.st_size, fp);
	bad = ferror(fp) || len != (size_t) sb.st_size;
	fclose(fp);
	if (bad) {
		free(buf);
		errno = EIO;
		return -1;
	}
	umfax_job_take_body(job, buf, len);
	return 0;
}
