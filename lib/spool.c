/* spool.c - the spool directory and its commit protocol (see spool.h) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include "crash.h"
#include "spool.h"

static const char *const names[UMFAX_NSTATES] = {
	"tmp", "received", "normalized", "resolved", "deferred", "sent", "failed"
};

const char *
umfax_state_name(int state)
{
	return state >= 0 && state < UMFAX_NSTATES ? names[state] : "?";
}

int
umfax_state_from_name(const char *name)
{
	for (int i = 0; i < UMFAX_NSTATES; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return UMFAX_NONE;
}

static int
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int
umfax_spool_open(struct umfax_spool *sp, const char *path, int create, char *err, size_t errlen)
{
	int i, tfd;

	memset(sp, 0, sizeof(*sp));
	sp->dirfd = -1;
	for (i = 0; i < UMFAX_NSTATES; i++)
		sp->sfd[i] = sp->trig[i] = -1;
	if (path == NULL || *path == '\0') {
		path = getenv("UMFAX_SPOOL");
		if (path == NULL || *path == '\0')
			path = UMFAX_DEFAULT_SPOOL;
	}
	if (strlen(path) >= sizeof(sp->path))
		return seterr(err, errlen, "spool path too long");
	snprintf(sp->path, sizeof(sp->path), "%s", path);
	if (create && mkdir(path, 0750) < 0 && errno != EEXIST)
		return seterr(err, errlen, "%s: cannot create spool: %s", path, strerror(errno));
	if ((sp->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return seterr(err, errlen, "%s: cannot open spool: %s", path, strerror(errno));
	for (i = 0; i < UMFAX_NSTATES; i++) {
		if (create && mkdirat(sp->dirfd, names[i], 0750) < 0 && errno != EEXIST)
			goto fail;
		if ((sp->sfd[i] = openat(sp->dirfd, names[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			goto fail;
	}
	if (create) {
		if (mkdirat(sp->dirfd, "trigger", 0750) < 0 && errno != EEXIST)
			goto failt;
		if ((tfd = openat(sp->dirfd, "trigger", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			goto failt;
		for (i = 1; i < UMFAX_NSTATES; i++)
			if (mkfifoat(tfd, names[i], 0620) < 0 && errno != EEXIST) {
				close(tfd);
				goto failt;
			}
		close(tfd);
	}
	return 0;
fail:
	seterr(err, errlen, "%s/%s: %s", path, names[i], strerror(errno));
	umfax_spool_close(sp);
	return -1;
failt:
	seterr(err, errlen, "%s/trigger: %s", path, strerror(errno));
	umfax_spool_close(sp);
	return -1;
}

void
umfax_spool_close(struct umfax_spool *sp)
{
	for (int i = 0; i < UMFAX_NSTATES; i++) {
		if (sp->sfd[i] >= 0)
			close(sp->sfd[i]);
		if (sp->trig[i] >= 0)
			close(sp->trig[i]);
		sp->sfd[i] = sp->trig[i] = -1;
	}
	if (sp->dirfd >= 0)
		close(sp->dirfd);
	sp->dirfd = -1;
}

static int
write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
umfax_spool_commit(struct umfax_spool *sp, const struct umfax_job *job, int to, int from,
    time_t mtime, char *err, size_t errlen)
{
	const char *id = umfax_job_id(job);
	unsigned char *buf;
	size_t len;
	int fd, tries = 0, e;

	if (id == NULL || !umfax_job_id_valid(id))
		return seterr(err, errlen, "job has no valid Job-Id");
	if (to <= UMFAX_TMP || to >= UMFAX_NSTATES)
		return seterr(err, errlen, "bad target state %d", to);
	if ((buf = umfax_job_format(job, &len)) == NULL)
		return seterr(err, errlen, "out of memory");
	/* 1. tmp/ID, exclusively.  A file left there by a crashed attempt of
	 * this same job (we hold its claim) is removed and the create retried. */
	while ((fd = openat(sp->sfd[UMFAX_TMP], id, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0) {
		if (errno == EEXIST && tries++ == 0 && unlinkat(sp->sfd[UMFAX_TMP], id, 0) == 0)
			continue;
		e = errno;
		free(buf);
		return seterr(err, errlen, "%s/tmp/%s: cannot create: %s", sp->path, id, strerror(e));
	}
	umfax_crashpoint("spool-1-tmp-open");
	if (write_all(fd, buf, len) < 0 || fsync(fd) < 0) {
		e = errno;
		goto failfd;
	}
	if (mtime != 0) {
		struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
		if (futimens(fd, ts) < 0) {
			e = errno;
			goto failfd;
		}
	}
	if (close(fd) < 0) {
		e = errno;
		fd = -1;
		goto failfd;
	}
	free(buf);
	umfax_crashpoint("spool-1-tmp-written");
	/* 2. into place, and make the rename durable. */
	if (renameat(sp->sfd[UMFAX_TMP], id, sp->sfd[to], id) < 0 || fsync(sp->sfd[to]) < 0) {
		e = errno;
		unlinkat(sp->sfd[UMFAX_TMP], id, 0);
		return seterr(err, errlen, "%s/%s/%s: cannot commit: %s", sp->path, names[to], id, strerror(e));
	}
	umfax_crashpoint("spool-2-renamed");
	/* 3. only now the input goes. */
	if (from > UMFAX_TMP && from < UMFAX_NSTATES && from != to) {
		if (unlinkat(sp->sfd[from], id, 0) < 0 && errno != ENOENT)
			return seterr(err, errlen, "%s/%s/%s: committed, but cannot remove the input: %s",
			    sp->path, names[from], id, strerror(errno));
		if (fsync(sp->sfd[from]) < 0)
			return seterr(err, errlen, "%s/%s: fsync: %s", sp->path, names[from], strerror(errno));
	}
	umfax_crashpoint("spool-3-input-removed");
	/* 4. wake the next stage. */
	umfax_spool_poke(sp, to);
	umfax_crashpoint("spool-4-poked");
	return 0;

failfd:
	if (fd >= 0)
		close(fd);
	free(buf);
	unlinkat(sp->sfd[UMFAX_TMP], id, 0);
	return seterr(err, errlen, "%s/tmp/%s: cannot write: %s", sp->path, id, strerror(e));
}

int
umfax_spool_remove(struct umfax_spool *sp, int state, const char *id)
{
	if (unlinkat(sp->sfd[state], id, 0) < 0 && errno != ENOENT)
		return -1;
	return fsync(sp->sfd[state]);
}

int
umfax_spool_exists(struct umfax_spool *sp, int state, const char *id)
{
	struct stat st;

	return fstatat(sp->sfd[state], id, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int
umfax_spool_claim(struct umfax_spool *sp, int state, const char *id, struct umfax_claim *c,
    char *err, size_t errlen)
{
	struct stat a, b;
	int fd;

	c->fd = -1;
	if (!umfax_job_id_valid(id))
		return seterr(err, errlen, "bad job id \"%.70s\"", id);
	if ((fd = openat(sp->sfd[state], id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		return seterr(err, errlen, "%s/%s/%s: %s", sp->path, names[state], id, strerror(errno));
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return 0;
		return seterr(err, errlen, "%s/%s/%s: lock: %s", sp->path, names[state], id, strerror(e));
	}
	/* The file may have been committed onward (removed) between our open
	 * and our lock: then what we hold is no longer the job. */
	if (fstat(fd, &a) < 0 || a.st_nlink == 0
	    || fstatat(sp->sfd[state], id, &b, AT_SYMLINK_NOFOLLOW) < 0
	    || a.st_ino != b.st_ino || a.st_dev != b.st_dev || !S_ISREG(a.st_mode)) {
		close(fd);
		return 0;
	}
	c->fd = fd;
	c->state = state;
	c->mtime = a.st_mtime;
	snprintf(c->id, sizeof(c->id), "%s", id);
	return 1;
}

void
umfax_spool_unclaim(struct umfax_claim *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int
umfax_spool_load(struct umfax_claim *c, struct umfax_job *job, char *err, size_t errlen)
{
	struct stat st;
	unsigned char *buf;
	size_t got = 0;
	int rc;

	if (fstat(c->fd, &st) < 0)
		return seterr(err, errlen, "%s: %s", c->id, strerror(errno));
	if (st.st_size > UMFAX_JOB_MAX_BODY + 1024 * 1024)
		return seterr(err, errlen, "%s: file too large", c->id);
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		return seterr(err, errlen, "%s: out of memory", c->id);
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(c->fd, buf + got, (size_t)st.st_size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return seterr(err, errlen, "%s: read: %s", c->id, n < 0 ? strerror(errno) : "short file");
		}
		got += (size_t)n;
	}
	rc = umfax_job_parse(buf, got, job, err, errlen);
	free(buf);
	return rc;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
umfax_spool_free_list(char **ids, int n)
{
	for (int i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

int
umfax_spool_list(struct umfax_spool *sp, int state, char ***idsp)
{
	DIR *d;
	struct dirent *de;
	char **ids = NULL;
	int n = 0, cap = 0, fd;

	*idsp = NULL;
	if ((fd = dup(sp->sfd[state])) < 0)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !umfax_job_id_valid(de->d_name))
			continue;
		if (n == cap) {
			char **x = realloc(ids, (size_t)(cap = cap ? cap * 2 : 64) * sizeof(*ids));
			if (x == NULL)
				goto fail;
			ids = x;
		}
		if ((ids[n] = strdup(de->d_name)) == NULL)
			goto fail;
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(ids, (size_t)n, sizeof(*ids), cmp);
	*idsp = ids;
	return n;
fail:
	closedir(d);
	umfax_spool_free_list(ids, n);
	return -1;
}

int
umfax_spool_clean_tmp(struct umfax_spool *sp, time_t maxage)
{
	char **ids;
	int n = umfax_spool_list(sp, UMFAX_TMP, &ids), removed = 0;
	time_t now = time(NULL);

	for (int i = 0; i < n; i++) {
		struct stat st;
		if (fstatat(sp->sfd[UMFAX_TMP], ids[i], &st, AT_SYMLINK_NOFOLLOW) == 0
		    && now - st.st_mtime > maxage && unlinkat(sp->sfd[UMFAX_TMP], ids[i], 0) == 0)
			removed++;
	}
	if (n > 0)
		umfax_spool_free_list(ids, n);
	return removed;
}

static int
open_trigger(struct umfax_spool *sp, int state, int flags)
{
	char path[64];

	if (state <= UMFAX_TMP || state >= UMFAX_NSTATES)
		return -1;
	snprintf(path, sizeof(path), "trigger/%s", names[state]);
	return openat(sp->dirfd, path, flags | O_NONBLOCK | O_CLOEXEC);
}

void
umfax_spool_poke(struct umfax_spool *sp, int state)
{
	/* ENXIO (no reader) and EAGAIN (full) both mean nothing to do. */
	int fd = open_trigger(sp, state, O_WRONLY);

	if (fd >= 0) {
		if (write(fd, "", 1) < 0) {
			/* ignored on purpose */
		}
		close(fd);
	}
}

int
umfax_spool_wait(struct umfax_spool *sp, int state, int timeout_ms)
{
	struct pollfd p;
	char buf[64];
	int rc;

	/* The FIFO stays open (O_RDWR: an idle FIFO then never reads EOF), so a
	 * poke that comes while the runner works is not lost. */
	if (state > UMFAX_TMP && state < UMFAX_NSTATES && sp->trig[state] < 0)
		sp->trig[state] = open_trigger(sp, state, O_RDWR);
	if (state <= UMFAX_TMP || state >= UMFAX_NSTATES || sp->trig[state] < 0) {
		if (timeout_ms > 0)
			poll(NULL, 0, timeout_ms);
		return 0;
	}
	p.fd = sp->trig[state];
	p.events = POLLIN;
	rc = poll(&p, 1, timeout_ms);
	if (rc > 0)
		while (read(p.fd, buf, sizeof(buf)) > 0)
			;
	return rc < 0 ? (errno == EINTR ? 0 : -1) : rc > 0;
}
