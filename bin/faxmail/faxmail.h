/* faxmail.h - what faxmail's files share */
#ifndef FAXMAIL_H
#define FAXMAIL_H

#include <stddef.h>
#include "job.h"
#include "mime.h"

/* What a job says about its fax, read once. */
struct fm_fax {
	const char *id, *rcpt, *rcpt_name, *status;
	const char *caller, *caller_name, *ident, *called;
	const char *text;                 /* Fax-Message-Text */
	char context[1024];               /* Um-Context, %-decoded ("" if none or bad) */
	int pages;
	int plain;                        /* 1: plain format, 0: partner */
	int attach;                       /* 1: the TIFF goes into the mail */
	const char *partner_status;       /* 2.0.0, 2.6.0, 2.4.0, 5.0.0 */
	char who[160];                    /* the caller as shown to people */
	time_t received;
};

/* Read the fax facts from JOB.  EX_OK, or a sysexits code with ERR. */
int fm_fax_read(const struct umfax_job *job, struct fm_fax *f, char *err, size_t errlen);

/* Build the whole message for JOB into M.  EX_OK or a code with ERR. */
int fm_compose(const struct umfax_job *job, const struct fm_fax *f,
    struct umfax_mime *m, char *msgid, size_t msgidlen, char *err, size_t errlen);

/* A short notice for the administrator about a job that failed for good. */
int fm_compose_notice(const struct umfax_job *job, const struct fm_fax *f,
    const char *to, const char *reason, struct umfax_mime *m);

/* 1 if built with faxtiff's library (PDF, preview). */
extern const int fm_have_faxtiff;

/* Pages of a TIFF in memory (0 if it is no TIFF). */
int fm_tiff_pages(const void *buf, size_t len);

#endif
