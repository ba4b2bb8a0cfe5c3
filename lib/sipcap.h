/* sipcap.h - SIP messages as they appear in a capture (UDP datagrams or a
 * TCP byte stream), read for what a fax receiver needs: the dialog (Call-ID,
 * CSeq), who calls whom (From, To, P-Asserted-Identity, Request-URI), the
 * Exchange UM hand-off in Referred-By (msExchUMFaxRecipient,
 * msExchUMContext, raw or %-escaped, PROTOCOL.md 1), and the SDP body.
 * Compact header names are understood.  Values are raw: clean them
 * (umfax_job_clean) before they reach a header or a log. */
#ifndef UMFAX_SIPCAP_H
#define UMFAX_SIPCAP_H

#include <stddef.h>

struct umfax_sipmsg {
	int request;              /* 1 request, 0 response */
	char method[16];          /* request method, or the CSeq method of a response */
	int status;               /* response code */
	char ruri[256];           /* Request-URI */
	char call_id[256];
	char from[512];
	char to[512];
	char pai[512];            /* P-Asserted-Identity */
	char referred_by[1024];
	char content_type[128];
	int cseq;
	const char *body;         /* points into the parsed buffer */
	size_t body_len;
};

/* Parse one message at the start of BUF.  Returns the bytes it takes
 * (> 0), 0 when BUF holds only the start of a message (more TCP data
 * needed), -1 when BUF does not start with a SIP message. */
long umfax_sip_parse(const char *buf, size_t len, struct umfax_sipmsg *m);

/* The first header FULL (or its one-letter COMPACT form, or NULL) of the
 * message in BUF into DST (size N), cut to fit.  0, or -1 when absent. */
int umfax_sip_header(const char *buf, size_t len, const char *full, const char *compact, char *dst, size_t n);

/* Whether BUF starts like a SIP message ("INVITE sip:", "SIP/2.0 200"). */
int umfax_sip_looks_like(const char *buf, size_t len);

/* The user part of the URI in a name-addr or addr-spec ("+14255550100" from
 * "\"Front\" <sip:+14255550100@gw;user=phone>", "tel:+1..." too). */
char *umfax_sipcap_uri_user(char *dst, size_t n, const char *hdr);
/* The display name of a name-addr, unquoted; "" when none. */
char *umfax_sip_display_name(char *dst, size_t n, const char *hdr);
/* The value of URI parameter NAME (case-insensitive) inside the URI of HDR,
 * %-decoded; NULL when absent. */
char *umfax_sip_uri_param(char *dst, size_t n, const char *hdr, const char *name);
/* %-decode SRC into DST (size N); invalid escapes are kept as they are. */
char *umfax_sip_unescape(char *dst, size_t n, const char *src);

#endif
