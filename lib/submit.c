/* submit.c - hand a message to msmtp and classify what happened (see submit.h) */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "job.h"
#include "submit.h"

#define CAPTURE_MAX  (64 * 1024)      /* bytes of msmtp's stdout / stderr kept */
#define CONFIG_MAX   (1024 * 1024)

/* ---- the msmtprc check -------------------------------------------------- */

int
umfax_submit_check_text(const char *name, const char *text, size_t len,
    unsigned mode, char *err, size_t errlen)
{
	const char *p = text, *end = text + len;
	int line = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end, *w;
		size_t wl;
		line++;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		w = p;
		while (p < e && !isspace((unsigned char)*p))
			p++;
		wl = (size_t)(p - w);
		if ((wl == 8 && memcmp(w, "password", 8) == 0) ||
		    (wl == 12 && memcmp(w, "passwordeval", 12) == 0) ||
		    (wl == 12 && memcmp(w, "tls_key_file", 12) == 0)) {
			if (mode & 044) {
				snprintf(err, errlen, "%s:%d: holds a secret (%.*s) but is readable by "
				    "group or others (mode %04o): chmod 600 it", name, line, (int)wl, w,
				    mode & 07777);
				return EX_CONFIG;
			}
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

int
umfax_submit_check_config(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		snprintf(err, errlen, "msmtp_config %s: %s", path, strerror(errno));
		return EX_CONFIG;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "msmtp_config %s: not a regular file", path);
		close(fd);
		return EX_CONFIG;
	}
	if ((buf = malloc(CONFIG_MAX)) == NULL) {
		close(fd);
		snprintf(err, errlen, "msmtp_config %s: out of memory", path);
		return EX_CONFIG;
	}
	while (got < CONFIG_MAX && (n = read(fd, buf + got, CONFIG_MAX - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "msmtp_config %s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return EX_CONFIG;
		}
		got += (size_t)n;
	}
	close(fd);
	rc = umfax_submit_check_text(path, buf, got, (unsigned)st.st_mode, err, errlen);
	free(buf);
	return rc;
}

/* ---- classification ------------------------------------------------------ */

static void set_reason(struct umfax_submit_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
set_reason(struct umfax_submit_result *r, const char *fmt, ...)
{
	char tmp[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	umfax_job_clean(r->reason, sizeof(r->reason), tmp, strlen(tmp));
}

/* Find "KEY='...'" in the msmtp log line and copy the value. */
static int
log_value(const char *log, const char *key, char *out, size_t n)
{
	char pat[32];
	const char *p, *e;

	snprintf(pat, sizeof(pat), " %s=", key);
	if (log == NULL || (p = strstr(log, pat)) == NULL)
		return -1;
	p += strlen(pat);
	if (*p == '\'') {
		p++;
		/* the value ends at "' " before the next key, or at the line end */
		e = strstr(p, "' ");
		if (e == NULL && (e = strrchr(p, '\'')) == NULL)
			return -1;
	} else {
		e = p + strcspn(p, " \n");
	}
	umfax_job_clean(out, n, p, (size_t)(e - p));
	return 0;
}

void
umfax_submit_classify(int status, const char *errtxt, const char *logtxt,
    struct umfax_submit_result *r)
{
	char reply[1024] = "", what[512] = "", enh[16] = "";
	const char *p;
	size_t rl = 0;

	r->status = status;
	r->smtp = 0;
	r->permanent = 0;
	r->phase = UMFAX_SUBMIT_NONE;
	r->reply[0] = r->reason[0] = '\0';
	errtxt = errtxt ? errtxt : "";

	/* Walk msmtp's stderr lines. */
	for (p = errtxt; *p; ) {
		const char *nl = strchr(p, '\n'), *e = nl ? nl : p + strlen(p), *t = p;
		size_t l;
		if (strncmp(t, "msmtp: ", 7) == 0)
			t += 7;
		l = (size_t)(e - t);
		if (l > 16 && strncmp(t, "server message: ", 16) == 0) {
			t += 16;
			l -= 16;
			if (rl + l + 2 < sizeof(reply)) {
				if (rl)
					reply[rl++] = ' ';
				memcpy(reply + rl, t, l);
				rl += l;
				reply[rl] = '\0';
			}
		} else if (l > 0 && strncmp(t, "could not send mail", 19) != 0 && what[0] == '\0') {
			umfax_job_clean(what, sizeof(what), t, l);
		}
		if (memmem(t, l, "not accepted by the server", 26) != NULL) {
			if (strncmp(t, "recipient address", 17) == 0)
				r->phase = UMFAX_SUBMIT_RCPT;
			else if (strncmp(t, "envelope from address", 21) == 0)
				r->phase = UMFAX_SUBMIT_MAIL;
		} else if (strncmp(t, "the server did not accept the mail", 34) == 0) {
			r->phase = UMFAX_SUBMIT_DATA;
		}
		p = nl ? nl + 1 : e;
	}
	umfax_job_clean(r->reply, sizeof(r->reply), reply, rl);
	if (r->reply[0] && isdigit((unsigned char)r->reply[0]) && isdigit((unsigned char)r->reply[1])
	    && isdigit((unsigned char)r->reply[2])) {
		r->smtp = (r->reply[0] - '0') * 100 + (r->reply[1] - '0') * 10 + (r->reply[2] - '0');
		/* enhanced status "d.ddd.ddd" after the code */
		if (r->reply[3] == ' ' || r->reply[3] == '-') {
			const char *q = r->reply + 4;
			size_t k = 0;
			while (k + 1 < sizeof(enh) && (isdigit((unsigned char)q[k]) || q[k] == '.'))
				k++;
			if (k >= 5 && q[1] == '.') {
				memcpy(enh, q, k);
				enh[k] = '\0';
			}
		}
	}

	if (status == 0) {
		r->code = EX_OK;
		if (log_value(logtxt, "smtpmsg", r->reply, sizeof(r->reply)) == 0 && r->reply[0])
			r->smtp = atoi(r->reply);
		set_reason(r, "delivered: %s", r->reply[0] ? r->reply : "ok");
		return;
	}
	if (status == -1) {
		r->code = EX_TEMPFAIL;
		set_reason(r, "msmtp did not finish in time and was killed");
		return;
	}
	if (status == -2) {
		r->code = EX_OSERR;
		set_reason(r, "cannot run msmtp: %s", what[0] ? what : "fork or pipe failed");
		return;
	}
	if (status == 127 || status == 126) {
		r->code = EX_CONFIG;
		set_reason(r, "cannot run msmtp (exit %s)", status == 127 ? "127, not found" : "126, not executable");
		return;
	}
	if (r->smtp >= 400 && r->smtp < 500) {
		r->code = EX_TEMPFAIL;
		set_reason(r, "temporary SMTP failure: %s", r->reply);
		return;
	}
	if (r->smtp >= 500 && r->smtp < 600) {
		int cls = enh[0] ? atoi(enh + 2) : -1;
		if ((r->phase == UMFAX_SUBMIT_RCPT || r->phase == UMFAX_SUBMIT_DATA) &&
		    (cls < 0 || cls == 1 || cls == 2 || cls == 3 || cls == 6)) {
			r->permanent = 1;
			r->code = r->phase == UMFAX_SUBMIT_RCPT && (cls < 0 || cls == 1 || cls == 2)
			    ? EX_NOUSER : EX_DATAERR;
			set_reason(r, "%s: %s", r->phase == UMFAX_SUBMIT_RCPT ? "recipient refused" :
			    "mail refused", r->reply);
			return;
		}
		r->code = EX_UNAVAILABLE;
		set_reason(r, "server refused us (check TLS and client settings): %s", r->reply);
		return;
	}
	/* No SMTP reply: connection, TLS, or msmtp's own trouble. */
	if (status == EX_CONFIG) {
		r->code = EX_CONFIG;
		set_reason(r, "msmtp configuration: %s", what[0] ? what : "error");
		return;
	}
	r->code = EX_TEMPFAIL;
	set_reason(r, "%s (msmtp exit %d)", what[0] ? what : "msmtp failed", status);
}

/* ---- running msmtp ----------------------------------------------------------- */

static long
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
grab(int *fd, char *buf, size_t *len)
{
	char tmp[4096];
	ssize_t n = read(*fd, tmp, sizeof(tmp));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	if (*len + (size_t)n > CAPTURE_MAX)
		n = (ssize_t)(CAPTURE_MAX - *len);
	memcpy(buf + *len, tmp, (size_t)n);
	*len += (size_t)n;
	buf[*len] = '\0';
}

int
umfax_submit_send(const struct umfax_submit *s, const char *rcpt,
    const void *msg, size_t len, struct umfax_submit_result *r)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, st = 0;
	char *obuf = NULL, *ebuf = NULL;
	size_t olen = 0, elen = 0, off = 0;
	long deadline = now_ms() + (long)(s->timeout > 0 ? s->timeout : 300) * 1000;
	pid_t pid = -1, w;
	int status;

	memset(r, 0, sizeof(*r));
	obuf = malloc(CAPTURE_MAX + 1);
	ebuf = malloc(CAPTURE_MAX + 1);
	if (obuf == NULL || ebuf == NULL || pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0
	    || pipe2(err, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		char why[200];
		snprintf(why, sizeof(why), "%s", strerror(errno));
		for (int i = 0; i < 2; i++) {
			if (in[i] >= 0) close(in[i]);
			if (out[i] >= 0) close(out[i]);
			if (err[i] >= 0) close(err[i]);
		}
		free(obuf);
		free(ebuf);
		umfax_submit_classify(-2, why, NULL, r);
		return r->code;
	}
	obuf[0] = ebuf[0] = '\0';
	if (pid == 0) {
		char from[1100];
		const char *argv[] = { s->msmtp, "-C", s->config, "-a", s->account, "-f", from,
		    "--logfile=-", "--", rcpt, NULL };
		snprintf(from, sizeof(from), "%s", s->from);
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
			_exit(126);
		signal(SIGPIPE, SIG_DFL);
		execv(s->msmtp, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	if (len == 0) {
		close(in[1]);
		in[1] = -1;
	}
	while (out[0] >= 0 || err[0] >= 0 || in[1] >= 0) {
		struct pollfd pf[3];
		int np = 0, left = (int)(deadline - now_ms());
		if (left <= 0)
			break;
		if (in[1] >= 0)
			pf[np++] = (struct pollfd){ .fd = in[1], .events = POLLOUT };
		if (out[0] >= 0)
			pf[np++] = (struct pollfd){ .fd = out[0], .events = POLLIN };
		if (err[0] >= 0)
			pf[np++] = (struct pollfd){ .fd = err[0], .events = POLLIN };
		if (poll(pf, (nfds_t)np, left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < np; i++) {
			if (!pf[i].revents)
				continue;
			if (pf[i].fd == in[1]) {
				ssize_t n = write(in[1], (const char *)msg + off, len - off);
				if (n > 0)
					off += (size_t)n;
				if ((n < 0 && errno != EAGAIN && errno != EINTR) || off == len
				    || (pf[i].revents & (POLLERR | POLLHUP))) {
					close(in[1]);    /* msmtp stopped reading: it tells why */
					in[1] = -1;
				}
			} else if (pf[i].fd == out[0]) {
				grab(&out[0], obuf, &olen);
			} else if (pf[i].fd == err[0]) {
				grab(&err[0], ebuf, &elen);
			}
		}
	}
	/* Reap it, within the deadline; then kill the child we started. */
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
		usleep(5000);
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		st = -1;
	} else if (w < 0) {
		st = -2;
	} else {
		st = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	}
	if (in[1] >= 0)
		close(in[1]);
	if (out[0] >= 0)
		close(out[0]);
	if (err[0] >= 0)
		close(err[0]);
	umfax_submit_classify(st, ebuf, obuf, r);
	if (st == 0 && off != len) {
		/* It said yes to a message it did not read: not believed. */
		r->code = EX_IOERR;
		snprintf(r->reason, sizeof(r->reason), "msmtp exited 0 but read only %zu of %zu bytes of the message",
		    off, len);
	}
	free(obuf);
	free(ebuf);
	return r->code;
}
