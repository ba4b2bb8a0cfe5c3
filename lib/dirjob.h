/* dirjob.h - umresolve's work on one job: find the recipient in the directory
 * and apply the fax rule (directory.h), then fill the job's fields. */
#ifndef UMFAX_DIRJOB_H
#define UMFAX_DIRJOB_H

#include "directory.h"
#include "job.h"

/* Resolve JOB against D.  The recipient is the job's Recipient field when
 * present (t38recv fills it from Referred-By's msExchUMFaxRecipient; it must
 * then be a mailbox of the directory, by primary SMTP or SIP address), else
 * the Diversion, History-Info and Called fields, in that order.
 *
 * Allowed: sets Recipient (the primary SMTP address), Recipient-Name (display
 * name, when set), Policy, Dial-Plan, Extension (when the mailbox has one),
 * Fax-Message-Text (when the policy has one), removes Deny-Reason; returns
 * EX_OK.  Not allowed: sets Deny-Reason (names the object and field that said
 * no) and returns EX_NOUSER (no such mailbox) or EX_NOPERM (denied).  RES
 * (may be NULL) gets the details. */
int umfax_dir_job(const struct umfax_dir *d, struct umfax_job *job,
    struct umfax_dir_result *res);

#endif
