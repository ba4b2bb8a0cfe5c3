/* siprefer.h - sipredirect's refer mode: behave as Exchange UM does
 * (PROTOCOL.md 1): answer the diverted call, wait for the gateway's T.38
 * re-INVITE, accept it, then REFER the call to the fax server of the user's
 * policy (Refer-To: the fax server URI, Referred-By: the UM context) and hang
 * up with BYE once the NOTIFY reports success.  A user who may not receive
 * faxes is hung up on (BYE) when the fax arrives; a failed REFER leaves a
 * missed-call job in the spool (received/, Status: no-pages).
 *
 * The SIP side only, over UDP: the 200 OK offers G.711 audio but no RTP is
 * received, so a fax is recognised only by the T.38 re-INVITE, not by CNG
 * in the audio or RFC 4733 events.  Dialogs are kept in a small table
 * (refer mode carries few concurrent calls; redirect mode is the fast one). */
#ifndef UMFAX_SIPREFER_H
#define UMFAX_SIPREFER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "sipredir.h"

struct umfax_siprefer_cfg {
	int t1_ms, t2_ms;
	int fax_wait_s;           /* after the answer, wait this long for T.38 */
	int media_port;           /* the audio port offered in the 200 OK */
	int max_dialogs;
	const char *spool;        /* for missed-call jobs; NULL: default */
};

struct umfax_siprefer;

/* Settings sipredirect_t1, _t2, _fax_wait, _media_port, _max_dialogs. */
void umfax_siprefer_cfg_init(struct umfax_siprefer_cfg *c);

struct umfax_siprefer *umfax_siprefer_new(struct umfax_sipredir *r,
    const struct umfax_siprefer_cfg *cfg);
void umfax_siprefer_free(struct umfax_siprefer *p);

/* One datagram (request or response) from SRC on UDP socket FD; answers and
 * new requests are sent on FD. */
void umfax_siprefer_input(struct umfax_siprefer *p, int fd, const char *buf,
    size_t len, const struct sockaddr *src, socklen_t srclen);

/* Run the timers that are due; returns the milliseconds until the next one
 * (at most 1000). */
int umfax_siprefer_timers(struct umfax_siprefer *p);

/* Dialogs in progress. */
int umfax_siprefer_active(const struct umfax_siprefer *p);

#endif
