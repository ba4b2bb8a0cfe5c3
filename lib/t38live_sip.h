/* t38live_sip.h - SIP requests for t38recv's live mode: parsed with libosip2,
 * responses formatted by hand (RFC 3261 8.2.6), with an optional SDP body.
 *
 * Strings point into the osip message or the struct and live until
 * umfax_lsip_release().  Everything is raw: clean it before it reaches a
 * header, a log or a file name. */
#ifndef UMFAX_T38LIVE_SIP_H
#define UMFAX_T38LIVE_SIP_H

#include <stddef.h>

#define UMFAX_LSIP_MAX_MSG 65535
#define UMFAX_LSIP_MAX_URI 512

struct umfax_lsip {
	void *osip;               /* osip_message_t * */
	const char *method;
	char call_id[256];
	unsigned long cseq;
	const char *cseq_method;
	const char *branch;       /* top Via branch, "" if none */
	const char *from_tag, *to_tag;   /* "" if none */
	char from_name[128];      /* display name, unquoted */
	char from_user[128];      /* From URI user part */
	char from_uri[UMFAX_LSIP_MAX_URI];
	char to_uri[UMFAX_LSIP_MAX_URI];
	char to_user[128];
	char ruri_user[128];      /* Request-URI user part */
};

void umfax_lsip_init(void);      /* once per process */
int umfax_lsip_is_response(const char *buf, size_t len);

/* Parse one request.  0, or -1 with ERR; *ANSWERABLE is 1 when a 400 can be
 * sent (Via, From, To, Call-ID, CSeq were there). */
int umfax_lsip_parse(struct umfax_lsip *m, const char *buf, size_t len,
    int *answerable, char *err, size_t errlen);
void umfax_lsip_release(struct umfax_lsip *m);

/* Response to M: Via, From, To (+ TOTAG if the request had no tag and CODE
 * is not 100), Call-ID, CSeq, then EXTRA header lines, Server, and BODY as
 * application/sdp (or none).  Length, or -1 when OUT (size N) is too small. */
int umfax_lsip_response(char *out, size_t n, const struct umfax_lsip *m, int code,
    const char *totag, const char *extra, const char *body);

/* A To tag that is the same for every retransmission of M.  DST: 17 bytes. */
void umfax_lsip_totag(const struct umfax_lsip *m, unsigned long long salt, char dst[17]);

const char *umfax_lsip_reason(int code);

#endif
