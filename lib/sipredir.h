/* sipredir.h - sipredirect's answer to one SIP request, in memory
 *
 * umfax_sipredir_answer() takes the bytes of one request and the address it
 * came from and writes the response (if any): OPTIONS -> 200, INVITE -> 302
 * to the fax server of the called user's policy, or 403/404/deny code with a
 * Warning saying why, ACK -> nothing, CANCEL -> 200, BYE -> 481, other
 * methods -> 405, bad requests -> 400 (or nothing when they cannot be
 * answered).  No sockets, no timers: the server (sipsrv.h) and the fuzz
 * target call this. */
#ifndef UMFAX_SIPREDIR_H
#define UMFAX_SIPREDIR_H

#include <stddef.h>
#include <sys/socket.h>
#include "directory.h"
#include "sipmsg.h"

struct umfax_sipredir {
	const struct umfax_dir *dir;  /* the directory (swapped on reload) */
	char host[256];               /* our name: Referred-By host, Warning agent */
	int deny_code;                /* final answer when fax is not allowed */
	int log_calls;                /* one log line per answered INVITE */
	unsigned long long salt;      /* To-tag key */
	/* Stateful mode: the stored answer of the INVITE transaction KEY (a
	 * retransmission), or NULL for a new request. */
	const char *(*txn_lookup)(void *arg, const char *key, size_t *len);
	void *txn_arg;
	/* counters */
	unsigned long n_invite, n_302, n_403, n_404, n_deny, n_400, n_other, n_drop;
};

/* Fill defaults from the settings (sipredirect_host or the host name,
 * sipredirect_deny_code, sipredirect_log_calls) and a random salt. */
void umfax_sipredir_init(struct umfax_sipredir *r, const struct umfax_dir *dir);

/* What umfax_sipredir_answer found out, for the transaction layer. */
struct umfax_sipredir_info {
	char method[32];              /* "" when unparsable */
	int status;                   /* status sent, 0 when none, -1 for a
	                                 retransmission of a stored answer */
	char key[512];                /* transaction key: Call-ID, CSeq, From tag, branch */
};

/* Answer BUF (LEN bytes) received from SRC.  Writes the response to OUT
 * (size N) and returns its length, 0 when nothing is to be sent, -1 when the
 * response did not fit.  INFO may be NULL.  Logs what it does. */
int umfax_sipredir_answer(struct umfax_sipredir *r, const char *buf, size_t len,
    const struct sockaddr *src, socklen_t srclen, char *out, size_t n,
    struct umfax_sipredir_info *info);

/* The fax decision for INVITE M from SRC, without answering: code 302 when
 * the user may receive faxes (fax_uri and referred_by are set), else the
 * status to refuse with (404 unknown, 403 gateway, deny_code) and why (a
 * cleaned one-line text for a Warning).  Returns the code. */
struct umfax_sipredir_decision {
	int code;
	enum umfax_dir_verdict verdict;
	char why[600];
	char fax_uri[512];
	char referred_by[2560];
	char context[2048];           /* base64 UM context */
	char mailbox[64], recipient[256], source[32], matched[128];
	char extension[136], phone_context[256], caller[256], caller_name[256];
};
int umfax_sipredir_decide(struct umfax_sipredir *r, const struct umfax_sip_msg *m,
    const struct sockaddr *src, socklen_t srclen, struct umfax_sipredir_decision *d);

/* Only the transaction key of BUF (for an ACK), without answering: 0 or -1. */
int umfax_sipredir_key(const char *buf, size_t len, char *method, size_t mn,
    char *key, size_t kn);

/* "IP:PORT" ("[v6]:PORT") of SA into DST (size N). */
char *umfax_sip_addr_str(const struct sockaddr *sa, socklen_t len, char *dst, size_t n);

#endif
