/* dirjob.c - resolve a job's recipient against the directory (dirjob.h) */
#include <string.h>
#include <sysexits.h>

#include "dirjob.h"

int umfax_dir_job(const struct umfax_dir *d, struct umfax_job *job,
    struct umfax_dir_result *res)
{
	struct umfax_dir_result tmp;
	struct umfax_dir_query q;
	struct umfax_dir_result *r = res ? res : &tmp;
	const char *rcpt = umfax_job_get(job, "Recipient");

	memset(&q, 0, sizeof q);
	if (rcpt && *rcpt) {
		/* The UM side named the recipient: that one or nobody. */
		q.recipient = rcpt;
	} else {
		q.diversion = umfax_job_get(job, "Diversion");
		q.history_info = umfax_job_get(job, "History-Info");
		q.called = umfax_job_get(job, "Called");
	}
	umfax_dir_resolve(d, &q, r);
	if (r->verdict != UMFAX_DIR_ALLOW) {
		if (umfax_job_set(job, "Deny-Reason", r->reason) < 0)
			return EX_SOFTWARE;
		return r->verdict == UMFAX_DIR_NOT_FOUND ? EX_NOUSER : EX_NOPERM;
	}
	const struct umfax_mailbox *m = r->mailbox;
	if (umfax_job_set(job, "Recipient", m->smtp) < 0 ||
	    (m->display_name[0] && umfax_job_set(job, "Recipient-Name", m->display_name) < 0) ||
	    umfax_job_set(job, "Policy", r->policy->name) < 0 ||
	    umfax_job_set(job, "Dial-Plan", r->dialplan->name) < 0 ||
	    (r->extension[0] && umfax_job_set(job, "Extension", r->extension) < 0) ||
	    (r->policy->fax_message_text[0] &&
	     umfax_job_set(job, "Fax-Message-Text", r->policy->fax_message_text) < 0))
		return EX_SOFTWARE;
	umfax_job_del(job, "Deny-Reason");
	return EX_OK;
}
