/* sipredir.c - the answer to one request: the UM side's fax decision */
#include "sipredir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "job.h"
#include "log.h"

void
umfax_sipredir_init(struct umfax_sipredir *r, const struct umfax_dir *dir)
{
	const char *h = umfax_conf_str("sipredirect_host");

	memset(r, 0, sizeof *r);
	r->dir = dir;
	if (h && *h)
		snprintf(r->host, sizeof r->host, "%s", h);
	else if (gethostname(r->host, sizeof r->host) != 0 || !r->host[0])
		snprintf(r->host, sizeof r->host, "localhost");
	r->host[sizeof r->host - 1] = '\0';
	r->deny_code = (int)umfax_conf_int("sipredirect_deny_code");
	r->log_calls = umfax_conf_bool("sipredirect_log_calls");
	if (getrandom(&r->salt, sizeof r->salt, GRND_NONBLOCK) != (ssize_t)sizeof r->salt)
		r->salt = (unsigned long long)time(NULL) * 2654435761ULL ^ (unsigned long long)getpid();
}

char *
umfax_sip_addr_str(const struct sockaddr *sa, socklen_t len, char *dst, size_t n)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa && sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
		snprintf(dst, n, "%s:%u", ip, ntohs(s->sin_port));
	} else if (sa && sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
		snprintf(dst, n, "[%s]:%u", ip, ntohs(s->sin6_port));
	} else {
		snprintf(dst, n, "-");
	}
	return dst;
}

/* Text for a Warning quoted-string: cleaned, no '"' or '\\'. */
static void
warn_text(char *dst, size_t n, const char *src)
{
	char *p;

	umfax_job_clean(dst, n, src, strlen(src));
	for (p = dst; *p; p++)
		if (*p == '"' || *p == '\\')
			*p = '\'';
}

static int
key_of(const struct umfax_sip_msg *m, char *key, size_t kn)
{
	int l = snprintf(key, kn, "%s\n%lu\n%s\n%s", m->call_id, m->cseq,
	    m->from_tag, m->branch);
	return (l < 0 || (size_t)l >= kn) ? -1 : 0;
}

int
umfax_sipredir_key(const char *buf, size_t len, char *method, size_t mn,
    char *key, size_t kn)
{
	struct umfax_sip_msg m;
	char err[128];
	int ans, rc = -1;

	if (umfax_sip_msg_parse(&m, buf, len, &ans, err, sizeof err) == 0 &&
	    key_of(&m, key, kn) == 0) {
		snprintf(method, mn, "%s", m.method);
		rc = 0;
	}
	umfax_sip_msg_release(&m);
	return rc;
}

/* At most 10 lines a second about peers that are not gateways. */
static int
stranger_log_ok(void)
{
	static time_t sec;
	static int n;
	time_t now = time(NULL);

	if (now != sec) {
		if (n > 10)
			umfax_log(LOG_WARNING, NULL, NULL,
			    "event=not-gateway suppressed=%d", n - 10);
		sec = now;
		n = 0;
	}
	return ++n <= 10;
}

int
umfax_sipredir_decide(struct umfax_sipredir *r, const struct umfax_sip_msg *m,
    const struct sockaddr *src, socklen_t srclen, struct umfax_sipredir_decision *d)
{
	struct umfax_dir_query q;
	struct umfax_dir_result res;
	char div[UMFAX_SIP_MAX_DIV * (UMFAX_SIP_MAX_URI + 4)];
	char hist[UMFAX_SIP_MAX_HIST * (UMFAX_SIP_MAX_URI + 48)];
	char why[600];

	memset(d, 0, sizeof *d);
	memset(&q, 0, sizeof q);
	if (m->ndiv && umfax_sip_diversion_value(m, div, sizeof div) > 0)
		q.diversion = div;
	if (m->nhist && umfax_sip_history_value(m, hist, sizeof hist) > 0)
		q.history_info = hist;
	q.called = m->to_uri[0] ? m->to_uri : m->ruri;
	q.gateway = src;
	q.gateway_len = srclen;
	memset(&res, 0, sizeof res);
	d->verdict = umfax_dir_resolve(r->dir, &q, &res);
	umfax_job_clean(d->matched, sizeof d->matched, res.matched, strlen(res.matched));
	snprintf(d->source, sizeof d->source, "%s", res.source ? res.source : "-");
	if (res.mailbox) {
		snprintf(d->mailbox, sizeof d->mailbox, "%s", res.mailbox->alias);
		snprintf(d->recipient, sizeof d->recipient, "%s", res.mailbox->smtp);
	}
	if (res.dialplan)
		snprintf(d->phone_context, sizeof d->phone_context, "%s", res.dialplan->phone_context);
	snprintf(d->extension, sizeof d->extension, "%s", res.extension[0] ? res.extension : d->matched);

	if (d->verdict == UMFAX_DIR_ALLOW && res.fax_uri && res.mailbox) {
		const char *caller = m->from_user[0] ? m->from_user : m->from_uri;
		char ccaller[256], cname[256];

		umfax_job_clean(ccaller, sizeof ccaller, caller, strlen(caller));
		umfax_job_clean(cname, sizeof cname, m->from_name, strlen(m->from_name));
		snprintf(d->caller, sizeof d->caller, "%s", ccaller);
		snprintf(d->caller_name, sizeof d->caller_name, "%s", cname);
		snprintf(d->fax_uri, sizeof d->fax_uri, "%s", res.fax_uri);
		if (umfax_sip_um_context(d->context, sizeof d->context, m->call_id, ccaller,
		    d->extension, d->phone_context, cname) < 0 ||
		    umfax_sip_referred_by(d->referred_by, sizeof d->referred_by, r->host,
		    res.mailbox->smtp, d->context) < 0) {
			d->code = 500;
			snprintf(d->why, sizeof d->why, "Referred-By too long");
			return d->code;
		}
		d->code = 302;
		return d->code;
	}
	switch (d->verdict) {
	case UMFAX_DIR_NOT_FOUND:
		d->code = 404;
		break;
	case UMFAX_DIR_DENY_GATEWAY:
		d->code = 403;
		break;
	default:
		d->code = r->deny_code;
		break;
	}
	if (d->verdict == UMFAX_DIR_ALLOW)       /* allowed but nothing to redirect to */
		snprintf(why, sizeof why, "no fax server URI");
	else if (d->verdict == UMFAX_DIR_NOT_FOUND)
		snprintf(why, sizeof why, "%s", res.reason[0] ? res.reason : "no mailbox");
	else
		snprintf(why, sizeof why, "fax not allowed: %s", res.reason);
	warn_text(d->why, sizeof d->why, why);
	return d->code;
}

static int
answer_invite(struct umfax_sipredir *r, struct umfax_sip_msg *m,
    const struct sockaddr *src, socklen_t srclen, const char *peer,
    const char *callid, char *out, size_t n, int *status)
{
	struct umfax_sipredir_decision d;
	char totag[17], extra[8192], contact[8192];
	int l;

	r->n_invite++;
	umfax_sip_totag(m, r->salt, totag);
	if (m->to_tag[0]) {
		/* a re-INVITE: we never make dialogs */
		*status = 481;
		return umfax_sip_response(out, n, m, 481, NULL, totag, NULL);
	}
	umfax_sipredir_decide(r, m, src, srclen, &d);
	if (d.code == 302) {
		if (umfax_sip_redirect_contact(contact, sizeof contact, d.fax_uri, d.referred_by) < 0 ||
		    (size_t)snprintf(extra, sizeof extra, "Contact: %s\r\n", contact) >= sizeof extra) {
			umfax_log(LOG_ERR, NULL, callid, "event=redirect-too-long peer=%s", peer);
			*status = 500;
			return umfax_sip_response(out, n, m, 500, NULL, totag, NULL);
		}
		r->n_302++;
		if (r->log_calls) {
			char qm[160];
			umfax_log(LOG_INFO, NULL, callid,
			    "event=redirect status=302 peer=%s mailbox=%s source=%s matched=%s fax_uri=%s",
			    peer, d.mailbox, d.source, umfax_log_quote(qm, sizeof qm, d.matched), d.fax_uri);
		}
		*status = 302;
		return umfax_sip_response(out, n, m, 302, NULL, totag, extra);
	}
	if (d.code == 404)
		r->n_404++;
	else if (d.code == 403)
		r->n_403++;
	else
		r->n_deny++;
	l = snprintf(extra, sizeof extra, "Warning: 399 %s \"%s\"\r\n", r->host, d.why);
	if (l < 0 || (size_t)l >= sizeof extra)
		extra[0] = '\0';
	if (r->log_calls || d.verdict != UMFAX_DIR_NOT_FOUND) {
		char qr[700];
		umfax_log(d.verdict == UMFAX_DIR_NOT_FOUND ? LOG_INFO : LOG_NOTICE, NULL, callid,
		    "event=%s status=%d peer=%s verdict=%s reason=%s",
		    d.verdict == UMFAX_DIR_NOT_FOUND ? "unknown-user" : "deny", d.code, peer,
		    umfax_dir_verdict_name(d.verdict), umfax_log_quote(qr, sizeof qr, d.why));
	}
	*status = d.code;
	return umfax_sip_response(out, n, m, d.code, NULL, totag, extra);
}

int
umfax_sipredir_answer(struct umfax_sipredir *r, const char *buf, size_t len,
    const struct sockaddr *src, socklen_t srclen, char *out, size_t n,
    struct umfax_sipredir_info *info)
{
	struct umfax_sip_msg m;
	struct umfax_sipredir_info dummy;
	char err[128], peer[64], callid[160], totag[17], extra[512];
	int ans, rc = 0, status = 0;

	if (!info)
		info = &dummy;
	info->method[0] = '\0';
	info->status = 0;
	info->key[0] = '\0';
	umfax_sip_addr_str(src, srclen, peer, sizeof peer);
	/* Keep-alives (CRLF) and responses are dropped quietly. */
	if (len <= 4 && strspn(buf, "\r\n") >= len)
		return 0;
	if (umfax_sip_is_response(buf, len)) {
		r->n_drop++;
		return 0;
	}
	if (umfax_sip_peek_method(buf, len, info->method, sizeof info->method) == 0 &&
	    strcmp(info->method, "ACK") == 0)
		return 0;               /* absorbed (the stateful layer matches it) */

	if (umfax_sip_msg_parse(&m, buf, len, &ans, err, sizeof err) != 0) {
		char q[160];
		r->n_400++;
		if (ans) {
			umfax_job_clean(callid, sizeof callid, m.call_id, strlen(m.call_id));
			umfax_log(LOG_NOTICE, NULL, callid, "event=bad-request status=400 peer=%s error=%s",
			    peer, umfax_log_quote(q, sizeof q, err));
			if (m.method && strcmp(m.method, "ACK") == 0)
				rc = 0;
			else {
				umfax_sip_totag(&m, r->salt, totag);
				snprintf(extra, sizeof extra, "Warning: 399 %s \"%s\"\r\n", r->host, err);
				rc = umfax_sip_response(out, n, &m, 400, NULL, totag, extra);
				status = 400;
			}
		} else {
			umfax_log(LOG_NOTICE, NULL, NULL, "event=bad-request status=none peer=%s len=%zu error=%s",
			    peer, len, umfax_log_quote(q, sizeof q, err));
		}
		umfax_sip_msg_release(&m);
		info->status = rc > 0 ? status : 0;
		return rc;
	}
	umfax_job_clean(callid, sizeof callid, m.call_id, strlen(m.call_id));
	snprintf(info->method, sizeof info->method, "%s", m.method);
	key_of(&m, info->key, sizeof info->key);
	if (r->txn_lookup && strcmp(m.method, "INVITE") == 0) {
		size_t sl = 0;
		const char *stored = r->txn_lookup(r->txn_arg, info->key, &sl);
		if (stored) {
			umfax_sip_msg_release(&m);
			if (sl >= n)
				return -1;
			memcpy(out, stored, sl);
			info->status = -1;
			return (int)sl;
		}
	}
	umfax_sip_totag(&m, r->salt, totag);

	if (!umfax_dir_gateway(r->dir, src, srclen)) {
		r->n_403++;
		if (stranger_log_ok()) {
			char qm[48];
			umfax_log(LOG_WARNING, NULL, callid,
			    "event=not-gateway status=403 peer=%s method=%s", peer,
			    umfax_log_quote(qm, sizeof qm, m.method));
		}
		snprintf(extra, sizeof extra,
		    "Warning: 399 %s \"peer is not a gateway of any dial plan\"\r\n", r->host);
		rc = umfax_sip_response(out, n, &m, 403, NULL, totag, extra);
		status = 403;
	} else if (strcmp(m.method, "INVITE") == 0) {
		rc = answer_invite(r, &m, src, srclen, peer, callid, out, n, &status);
	} else if (strcmp(m.method, "OPTIONS") == 0) {
		rc = umfax_sip_response(out, n, &m, 200, NULL, totag,
		    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE\r\n"
		    "Accept: application/sdp\r\n");
		status = 200;
	} else if (strcmp(m.method, "CANCEL") == 0) {
		/* the INVITE was answered at once: nothing left to cancel */
		rc = umfax_sip_response(out, n, &m, 200, NULL, totag, NULL);
		status = 200;
	} else if (strcmp(m.method, "BYE") == 0) {
		rc = umfax_sip_response(out, n, &m, 481, NULL, totag, NULL);
		status = 481;
	} else {
		r->n_other++;
		rc = umfax_sip_response(out, n, &m, 405, NULL, totag,
		    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE\r\n");
		status = 405;
	}
	if (rc < 0)
		umfax_log(LOG_ERR, NULL, callid, "event=response-too-long peer=%s status=%d", peer, status);
	umfax_sip_msg_release(&m);
	info->status = rc > 0 ? status : 0;
	return rc;
}
