/* submit.h - hand a message to msmtp and say what the server answered
 *
 *   msmtp -C CONFIG -a ACCOUNT -f FROM --logfile=- -- RCPT   < message
 *
 * msmtp exits 65, 69, 75 ... for many reasons and the same code for an SMTP
 * 4xx and 5xx, so the result is classified from the reply it prints on
 * stderr ("msmtp: server message: 550 5.1.1 ..."), the command it was
 * answering (recipient, envelope from, the mail data) and its exit code:
 *   - 4xx, connection refused, timeouts, TLS failures: temporary;
 *   - 5xx to RCPT TO or to the mail data with an enhanced status of class
 *     x.1 (address), x.2 (mailbox), x.3 (mail system) or x.6 (content),
 *     or without one: permanent, for this job only;
 *   - other 5xx (greeting, EHLO, STARTTLS, MAIL FROM, x.5 protocol, x.7
 *     security/policy): a problem of our own set-up (no TLS, client not
 *     allowed) that every job would hit: temporary, so that no fax is lost
 *     while an administrator fixes it (it still fails at queue_lifetime);
 *   - msmtp's own configuration errors (exit 78): temporary, EX_CONFIG. */
#ifndef UMFAX_SUBMIT_H
#define UMFAX_SUBMIT_H

#include <stddef.h>

struct umfax_submit {
	const char *msmtp;        /* program */
	const char *config;       /* -C file */
	const char *account;      /* -a account */
	const char *from;         /* -f envelope sender */
	int timeout;              /* seconds for the whole hand-off */
};

enum umfax_submit_phase {
	UMFAX_SUBMIT_NONE = 0,    /* no command named (connection, TLS, config) */
	UMFAX_SUBMIT_MAIL,        /* MAIL FROM refused */
	UMFAX_SUBMIT_RCPT,        /* RCPT TO refused */
	UMFAX_SUBMIT_DATA         /* the mail data refused */
};

struct umfax_submit_result {
	int code;                 /* EX_OK or a sysexits code (exits.h decides the class) */
	int permanent;            /* 1: the server refused this mail for good */
	int smtp;                 /* SMTP reply code (250, 451, 550), 0 if none */
	int phase;                /* enum umfax_submit_phase */
	int status;               /* msmtp's exit status, -1 killed/timeout, -2 not started */
	char reply[512];          /* the server's reply, one cleaned line ("" if none) */
	char reason[512];         /* one line for Failed-Reason / Deferred-Reason / logs */
};

/* Refuse an msmtprc that holds a secret (a password, passwordeval or
 * tls_key_file line) and is readable by group or others, or that cannot be
 * read.  Returns 0 or EX_CONFIG with a one-line reason in ERR. */
int umfax_submit_check_config(const char *path, char *err, size_t errlen);

/* Same check on the text of a file with mode MODE (fuzzing, tests). */
int umfax_submit_check_text(const char *name, const char *text, size_t len,
    unsigned mode, char *err, size_t errlen);

/* Run msmtp with MSG (LEN bytes) on stdin for recipient RCPT, bounded by
 * S->timeout.  Fills R; returns R->code. */
int umfax_submit_send(const struct umfax_submit *s, const char *rcpt,
    const void *msg, size_t len, struct umfax_submit_result *r);

/* Classify a finished msmtp run: exit STATUS (-1 killed), its stderr ERRTXT
 * and its stdout LOGTXT (the --logfile=- line).  Fills R. */
void umfax_submit_classify(int status, const char *errtxt, const char *logtxt,
    struct umfax_submit_result *r);

#endif
