/* message.c - the mail faxmail builds from a job: partner or plain format */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <tiffio.h>
#include "conf.h"
#include "faxmail.h"
#include "log.h"
/* PDF and the preview come from faxtiff's library when it is built in. */
#if defined(__has_include)
#if __has_include("faxtiff.h")
#include "faxtiff.h"
#define HAVE_FAXTIFF 1
#endif
#endif
#ifndef HAVE_FAXTIFF
#define HAVE_FAXTIFF 0
#endif

const int fm_have_faxtiff = HAVE_FAXTIFF;

/* ---- pages of a TIFF in memory --------------------------------------------- */

struct membuf {
	const unsigned char *p;
	toff_t len, off;
};

static tmsize_t
mread(thandle_t h, void *buf, tmsize_t n)
{
	struct membuf *m = (struct membuf *)h;
	toff_t left = m->off < m->len ? m->len - m->off : 0;

	if (n < 0)
		return -1;
	if ((toff_t)n > left)
		n = (tmsize_t)left;
	memcpy(buf, m->p + m->off, (size_t)n);
	m->off += (toff_t)n;
	return n;
}

static tmsize_t
mwrite(thandle_t h, void *buf, tmsize_t n)
{
	(void)h; (void)buf; (void)n;
	return -1;
}

static toff_t
mseek(thandle_t h, toff_t off, int whence)
{
	struct membuf *m = (struct membuf *)h;
	toff_t base = whence == SEEK_CUR ? m->off : whence == SEEK_END ? m->len : 0;

	m->off = base + off;
	return m->off;
}

static int
mclose(thandle_t h)
{
	(void)h;
	return 0;
}

static toff_t
msize(thandle_t h)
{
	return ((struct membuf *)h)->len;
}

static int
mmap_(thandle_t h, void **base, toff_t *size)
{
	(void)h; (void)base; (void)size;
	return 0;
}

static void
munmap_(thandle_t h, void *base, toff_t size)
{
	(void)h; (void)base; (void)size;
}

int
fm_tiff_pages(const void *buf, size_t len)
{
	struct membuf m = { buf, len, 0 };
	TIFF *t;
	int n;

	if (len < 8)
		return 0;
	TIFFSetWarningHandler(NULL);
	TIFFSetErrorHandler(NULL);
	t = TIFFClientOpen("job", "rm", (thandle_t)&m, mread, mwrite, mseek, mclose, msize,
	    mmap_, munmap_);
	if (t == NULL)
		return 0;
	n = (int)TIFFNumberOfDirectories(t);
	TIFFClose(t);
	return n;
}

/* ---- reading the job ---------------------------------------------------------- */

static const char *
get(const struct umfax_job *job, const char *name)
{
	const char *v = umfax_job_get(job, name);
	return v != NULL && *v != '\0' ? v : NULL;
}

static int
hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Um-Context, %-decoded once.  It is base64 text: anything that is not one
 * printable token (no spaces) is not a context we pass on. */
static void
decode_context(const char *in, char *out, size_t n)
{
	size_t o = 0;

	out[0] = '\0';
	if (in == NULL)
		return;
	for (const char *p = in; *p; p++) {
		int c = (unsigned char)*p, a, b;
		if (c == '%' && (a = hexv(p[1])) >= 0 && (b = hexv(p[2])) >= 0) {
			c = a * 16 + b;
			p += 2;
		}
		if (c < 0x21 || c > 0x7e || o + 1 >= n || o + 1 > UMFAX_MIME_TOKEN_MAX) {
			out[0] = '\0';
			return;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
}

static time_t
parse_utc(const char *s)
{
	struct tm tm;
	const char *e;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return 0;
	return timegm(&tm);
}

int
fm_fax_read(const struct umfax_job *job, struct fm_fax *f, char *err, size_t errlen)
{
	const char *v, *fmt;
	int counted = 0;

	memset(f, 0, sizeof(*f));
	f->partner_status = "5.0.0";
	snprintf(f->who, sizeof(f->who), "unknown caller");
	f->id = umfax_job_id(job);
	f->rcpt = get(job, "Recipient");
	f->rcpt_name = get(job, "Recipient-Name");
	f->status = get(job, "Status");
	f->caller = get(job, "Caller");
	f->caller_name = get(job, "Caller-Name");
	f->ident = get(job, "Remote-Ident");
	f->called = get(job, "Called");
	f->text = get(job, "Fax-Message-Text");
	if (f->id == NULL || !umfax_job_id_valid(f->id)) {
		snprintf(err, errlen, "job has no valid Job-Id");
		return EX_DATAERR;
	}
	if (f->rcpt == NULL) {
		snprintf(err, errlen, "job has no Recipient (was it resolved by umresolve?)");
		return EX_DATAERR;
	}
	if (!umfax_mime_addr_valid(f->rcpt)) {
		char q[300];
		snprintf(err, errlen, "Recipient %s is not a mail address faxmail can send to",
		    umfax_log_quote(q, sizeof(q), f->rcpt));
		return EX_DATAERR;
	}
	decode_context(get(job, "Um-Context"), f->context, sizeof(f->context));
	if (get(job, "Um-Context") != NULL && f->context[0] == '\0')
		umfax_log(LOG_WARNING, f->id, get(job, "Call-Id"),
		    "warning=\"Um-Context is not a printable token; X-MS-Exchange-UM-PartnerContext left out\"");

	fmt = get(job, "Mail-Format");
	if (fmt != NULL && strcasecmp(fmt, "plain") != 0 && strcasecmp(fmt, "partner") != 0) {
		umfax_log(LOG_WARNING, f->id, NULL, "warning=\"unknown Mail-Format, using mail_format\"");
		fmt = NULL;
	}
	if (fmt == NULL)
		fmt = umfax_conf_str("mail_format");
	f->plain = strcasecmp(fmt, "plain") == 0;

	if ((v = get(job, "Pages")) != NULL) {
		char *e;
		long n = strtol(v, &e, 10);
		f->pages = (*e == '\0' && n >= 0 && n <= 100000) ? (int)n : 0;
	}
	if (job->len > 0) {
		counted = fm_tiff_pages(job->body, job->len);
		if (counted > 0 && counted != f->pages) {
			if (f->pages != 0)
				umfax_log(LOG_WARNING, f->id, NULL, "warning=\"Pages says %d, the TIFF has %d; using %d\"",
				    f->pages, counted, counted);
			f->pages = counted;
		}
	}
	if (job->len > 0 && counted == 0) {
		/* Neither mail garbage nor drop it: failed/ keeps it for a person. */
		snprintf(err, errlen, "the job's body (%zu bytes) is not a readable TIFF", job->len);
		return EX_DATAERR;
	}
	f->attach = counted > 0;
	if (!f->attach)
		f->pages = 0;

	/* PartnerStatus: from Status, but pages are never thrown away. */
	if (f->status && strcasecmp(f->status, "error") == 0)
		f->partner_status = "5.0.0";
	else if (!f->attach)
		f->partner_status = "2.4.0";
	else if (f->status && (strcasecmp(f->status, "incomplete") == 0 || strcasecmp(f->status, "no-pages") == 0))
		f->partner_status = "2.6.0";
	else
		f->partner_status = "2.0.0";

	if (f->caller_name && f->caller)
		snprintf(f->who, sizeof(f->who), "%.80s (%.40s)", f->caller_name, f->caller);
	else if (f->caller_name || f->caller)
		snprintf(f->who, sizeof(f->who), "%.120s", f->caller_name ? f->caller_name : f->caller);
	else if (f->ident)
		snprintf(f->who, sizeof(f->who), "%.60s", f->ident);
	else
		snprintf(f->who, sizeof(f->who), "unknown caller");
	f->received = parse_utc(get(job, "Received-At"));
	return EX_OK;
}

/* ---- building the message ----------------------------------------------------- */

static void
add(struct umfax_mime *m, const char *s)
{
	umfax_mime_raw(m, s, strlen(s));
}

static void
msgid_domain(char *buf, size_t n)
{
	const char *d = umfax_conf_str("message_id_domain");
	char host[256];
	int ok = 1;

	if (d != NULL && *d != '\0') {
		snprintf(buf, n, "%s", d);
	} else {
		if (gethostname(host, sizeof(host)) < 0)
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
		snprintf(buf, n, "umfax.%s", host[0] ? host : "localhost");
	}
	for (const char *p = buf; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
			ok = 0;
	if (!ok || buf[strlen(buf) - 1] == '.')
		snprintf(buf, n, "umfax.localhost");
}

/* The caller as part of a file name: no path or shell specials, at most 64
 * bytes, cut on a character boundary. */
static void
file_caller(const struct fm_fax *f, char *out, size_t n)
{
	const char *src = f->caller_name ? f->caller_name : f->caller ? f->caller :
	    f->ident ? f->ident : "Unknown caller";
	size_t o = 0, max = n - 1 < 64 ? n - 1 : 64;

	for (const unsigned char *p = (const unsigned char *)src; *p; ) {
		size_t l = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
		if (o + l > max)
			break;
		for (size_t i = 0; i < l && p[i]; i++)
			out[o++] = (l == 1 && strchr("/\\:*?\"<>|", *p)) ? '_' : (char)p[i];
		p += l;
	}
	out[o] = '\0';
	if (o == 0)
		snprintf(out, n, "Unknown caller");
}

static int
common_headers(struct umfax_mime *m, const struct fm_fax *f, const char *subject,
    const char *msgid, char *err, size_t errlen)
{
	char date[64];
	const char *from = umfax_conf_str("mail_from");

	if (!umfax_mime_addr_valid(from)) {
		snprintf(err, errlen, "mail_from \"%.100s\" is not a plain mail address", from);
		return EX_CONFIG;
	}
	umfax_mime_header_addr(m, "From", umfax_conf_str("mail_from_name"), from);
	umfax_mime_header_addr(m, "To", f->rcpt_name, f->rcpt);
	umfax_mime_header_text(m, "Subject", subject);
	umfax_mime_printf(m, "Date: %s\n", umfax_mime_date(date, sizeof(date),
	    f->received ? f->received : time(NULL)));
	umfax_mime_header_token(m, "Message-ID", msgid);
	add(m, "MIME-Version: 1.0\n");
	return EX_OK;
}

static void
add_line(struct umfax_mime *t, const char *label, const char *value)
{
	if (value != NULL && *value != '\0')
		umfax_mime_printf(t, "%-11s %s\n", label, value);
}

/* The readable text of a fax mail (plain format, and notices). */
static void
body_text(struct umfax_mime *t, const struct fm_fax *f)
{
	char pages[64], date[64];

	/* The policy's text speaks of the fax it comes with: not in a notice. */
	if (f->text != NULL && f->attach)
		umfax_mime_printf(t, "%s\n\n", f->text);
	if (!f->attach)
		umfax_mime_printf(t, "%s\n\n", strcmp(f->partner_status, "5.0.0") == 0 ?
		    "A fax call could not be received." :
		    "A fax call reached you, but no page was received.");
	else if (strcmp(f->partner_status, "2.0.0") != 0)
		umfax_mime_printf(t, "The fax is incomplete: the call ended after %d page%s.\n\n",
		    f->pages, f->pages == 1 ? "" : "s");
	snprintf(pages, sizeof(pages), "%d%s", f->pages,
	    strcmp(f->partner_status, "2.0.0") == 0 ? "" : f->attach ? " (incomplete)" : "");
	add_line(t, "From:", f->caller_name);
	add_line(t, "Number:", f->caller);
	add_line(t, "Sender ID:", f->ident);
	add_line(t, "Called:", f->called);
	add_line(t, "Pages:", pages);
	add_line(t, "Received:", umfax_mime_date(date, sizeof(date), f->received ? f->received : time(NULL)));
	add_line(t, "Fax job:", f->id);
}

/* One part: its headers and body, without the boundary line. */
static void
part_text(struct umfax_mime *p, const struct umfax_mime *text)
{
	add(p, "Content-Type: text/plain; charset=UTF-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n");
	umfax_mime_qp(p, text->buf ? text->buf : "", text->len);
}


/* A base64 part of TYPE named NAME; INLINE: shown in the text. */
static void
part_blob(struct umfax_mime *p, const char *type, const char *name, int inl,
    const void *data, size_t len)
{
	umfax_mime_header_param(p, "Content-Type", type, NULL, "name", name);
	add(p, "Content-Transfer-Encoding: base64\n");
	umfax_mime_header_param(p, "Content-Disposition", inl ? "inline" : "attachment", NULL, "filename", name);
	add(p, "\n");
	umfax_mime_base64(p, data, len);
}

/* The plain format's image parts: preview, PDF and/or TIFF, as set.  The
 * TIFF is attached whenever the PDF cannot be made. */
static int
plain_images(struct umfax_mime *parts, int np, const struct umfax_job *job, const struct fm_fax *f)
{
	const char *att = umfax_conf_str("mail_attach");
	int want_pdf = strcmp(att, "tiff") != 0, want_tiff = strcmp(att, "pdf") != 0;
	char caller[80], name[160];

	file_caller(f, caller, sizeof(caller));
#if HAVE_FAXTIFF
	unsigned char *out = NULL;
	size_t outlen = 0;
	char err[256];

	if (umfax_conf_bool("mail_preview")) {
		if (umfax_tiff_preview_png(job->body, job->len, 0, &out, &outlen, err, sizeof(err)) == 0) {
			part_blob(&parts[np++], "image/png", "Fax page 1 preview.png", 1, out, outlen);
		} else {
			umfax_log(LOG_WARNING, f->id, NULL, "warning=\"no preview: %s\"", err);
		}
		free(out);
		out = NULL;
	}
	if (want_pdf) {
		if (umfax_tiff_to_pdf(job->body, job->len, &out, &outlen, err, sizeof(err)) == 0) {
			snprintf(name, sizeof(name), "%s (%d pages) Fax Message.pdf", caller, f->pages);
			part_blob(&parts[np++], "application/pdf", name, 0, out, outlen);
		} else {
			umfax_log(LOG_WARNING, f->id, NULL, "warning=\"no PDF, attaching the TIFF: %s\"", err);
			want_tiff = 1;
		}
		free(out);
	}
#else
	if (want_pdf || umfax_conf_bool("mail_preview")) {
		static int said;
		if (!said++)
			umfax_log(LOG_WARNING, f->id, NULL, "warning=\"mail_attach=pdf/both and mail_preview need "
			    "faxmail built with the faxtiff library; attaching the TIFF only\"");
		want_tiff = 1;
	}
#endif
	if (want_tiff) {
		snprintf(name, sizeof(name), "%s (%d pages) Fax Message.tif", caller, f->pages);
		part_blob(&parts[np++], "image/tiff", name, 0, job->body, job->len);
	}
	return np;
}

/* Join PARTS under a boundary that none of them contains. */
static int
assemble(struct umfax_mime *m, struct umfax_mime *parts, int n, const char *seed)
{
	char b[UMFAX_MIME_BOUNDARY], sep[UMFAX_MIME_BOUNDARY + 4];
	int tries = 0, clash;

	do {
		umfax_mime_boundary(b, sizeof(b), seed);
		snprintf(sep, sizeof(sep), "--%s", b);
		clash = 0;
		for (int i = 0; i < n; i++)
			if (parts[i].buf && memmem(parts[i].buf, parts[i].len, sep, strlen(sep)))
				clash = 1;
	} while (clash && ++tries < 8);
	if (clash)
		return -1;
	umfax_mime_printf(m, "Content-Type: multipart/mixed;\n boundary=\"%s\"\n\n"
	    "This is a fax message in MIME format.\n", b);
	for (int i = 0; i < n; i++) {
		umfax_mime_printf(m, "\n--%s\n", b);
		umfax_mime_raw(m, parts[i].buf, parts[i].len);
	}
	umfax_mime_printf(m, "\n--%s--\n", b);
	return m->failed ? -1 : 0;
}

int
fm_compose(const struct umfax_job *job, const struct fm_fax *f, struct umfax_mime *m,
    char *msgid, size_t msgidlen, char *err, size_t errlen)
{
	struct umfax_mime parts[4], text;
	char subject[400], dom[300];
	int np = 0, rc;
	int incomplete = strcmp(f->partner_status, "2.0.0") != 0;

	msgid_domain(dom, sizeof(dom));
	snprintf(msgid, msgidlen, "<%s@%s>", f->id, dom);
	if (!f->attach)
		snprintf(subject, sizeof(subject), "%s fax from %s",
		    strcmp(f->partner_status, "5.0.0") == 0 ? "Failed" : "Missed", f->who);
	else if (!f->plain)
		snprintf(subject, sizeof(subject), "Fax (%d pages%s)", f->pages,
		    incomplete ? " - Incomplete" : "");
	else
		snprintf(subject, sizeof(subject), "Fax from %s%s%s%s, %d page%s%s", f->who,
		    f->ident ? ", sender ID \"" : "", f->ident ? f->ident : "", f->ident ? "\"" : "",
		    f->pages, f->pages == 1 ? "" : "s", incomplete ? " - Incomplete" : "");
	if ((rc = common_headers(m, f, subject, msgid, err, errlen)) != EX_OK)
		return rc;
	if (!f->plain) {
		add(m, "Content-Class: MS-Exchange-UM-Partner\n");
		umfax_mime_header_token(m, "X-MS-Exchange-UM-PartnerContent", "fax");
		if (f->context[0])
			umfax_mime_header_token(m, "X-MS-Exchange-UM-PartnerContext", f->context);
		umfax_mime_header_token(m, "X-MS-Exchange-UM-PartnerStatus", f->partner_status);
		umfax_mime_printf(m, "X-FaxNumberOfPages: %d\n", f->pages);
		umfax_mime_header_token(m, "X-MS-Exchange-UM-PartnerAssignedID", f->id);
	} else {
		umfax_mime_printf(m, "X-FaxNumberOfPages: %d\n", f->pages);
	}

	umfax_mime_init(&text);
	for (int i = 0; i < 4; i++)
		umfax_mime_init(&parts[i]);
	if (!f->attach) {
		/* No image: one text part, no attachment (X-FaxNumberOfPages 0). */
		body_text(&text, f);
		part_text(m, &text);
	} else {
		char caller[80], name[160];
		if (f->plain) {
			body_text(&text, f);
			part_text(&parts[np++], &text);
			np = plain_images(parts, np, job, f);
		} else {
			/* Partner: exactly one attachment, the TIFF. */
			file_caller(f, caller, sizeof(caller));
			snprintf(name, sizeof(name), "%s (%d pages) Fax Message.tif", caller, f->pages);
			part_blob(&parts[np++], "image/tiff", name, 0, job->body, job->len);
		}
		for (int i = 0; i < np; i++)
			if (parts[i].failed)
				m->failed = 1;
		if (!m->failed && assemble(m, parts, np, f->id) < 0)
			m->failed = 1;
	}
	umfax_mime_release(&text);
	for (int i = 0; i < 4; i++)
		umfax_mime_release(&parts[i]);
	if (m->failed) {
		snprintf(err, errlen, "cannot build the message (out of memory or a bad value)");
		return EX_SOFTWARE;
	}
	return EX_OK;
}

int
fm_compose_notice(const struct umfax_job *job, const struct fm_fax *f, const char *to,
    const char *reason, struct umfax_mime *m)
{
	struct umfax_mime text;
	char subject[400], dom[300], msgid[400], date[64];
	const char *from = umfax_conf_str("mail_from");

	(void)job;
	const char *id = f->id && umfax_job_id_valid(f->id) ? f->id : "unknown";
	const char *rcpt = f->rcpt ? f->rcpt : "(no recipient)";

	if (!umfax_mime_addr_valid(to) || !umfax_mime_addr_valid(from))
		return EX_CONFIG;
	msgid_domain(dom, sizeof(dom));
	snprintf(msgid, sizeof(msgid), "<%s.notice.%ld@%s>", id, (long)time(NULL), dom);
	snprintf(subject, sizeof(subject), "umfax: fax %s to %.200s could not be delivered", id, rcpt);
	umfax_mime_header_addr(m, "From", umfax_conf_str("mail_from_name"), from);
	umfax_mime_header_addr(m, "To", NULL, to);
	umfax_mime_header_text(m, "Subject", subject);
	umfax_mime_printf(m, "Date: %s\n", umfax_mime_date(date, sizeof(date), time(NULL)));
	umfax_mime_header_token(m, "Message-ID", msgid);
	add(m, "MIME-Version: 1.0\nAuto-Submitted: auto-generated\n");
	umfax_mime_init(&text);
	umfax_mime_printf(&text, "faxmail gave up on a fax mail.\n\n");
	add_line(&text, "Recipient:", rcpt);
	add_line(&text, "Reason:", reason);
	umfax_mime_printf(&text, "\n");
	if (f->id != NULL)
		body_text(&text, f);
	umfax_mime_printf(&text, "\nThe job is in the spool's failed/ directory; "
	    "\"faxmail -j %s\" sends it again.\n", id);
	part_text(m, &text);
	if (text.failed)
		m->failed = 1;
	umfax_mime_release(&text);
	return m->failed ? EX_SOFTWARE : EX_OK;
}
