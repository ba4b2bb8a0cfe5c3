/* siprefer.h - sipredirect's refer mode: behave as Exchange UM does
 * (PROTOCOL.md 1): answer the diverted call, wait for the gateway's T.38
 * re-INVITE, accept it, then REFER the call to the fax server of the user's
 * policy (Refer-To: the fax server URI, Referred-By: the UM context) and hang
 * up with BYE once the NOTIFY reports success.  A user who may not receive
 * faxes is hung up on (BYE) when the fax arrives; a failed REFER leaves a
 * missed-call job in the spool (received/, Status: no-pages).
 *
 * A fax is recognised in the three ways UM knows: a re-INVITE offering T.38
 * or a G.711 fax profile (a=X-fax, a=fax, a=silenceSupp:off), an RFC 4733
 * telephone-event 36 in the RTP the gateway sends, or the CNG tone heard in
 * its G.711 audio (faxdetect.h).  All calls share one RTP socket, the port
 * the 200 OK offers (sipredirect_media_port); packets are matched to a call
 * by the address and port of the gateway's SDP (or, when the gateway sends
 * from another port, the first call from that host not yet matched; when
 * the SDP named no usable address, the first such call, from a gateway).
 * Refer mode works over UDP and TCP (a dialog's messages on the connection
 * its INVITE came on).  Dialogs are kept in a small table (refer mode carries few concurrent
 * calls; redirect mode is the fast one). */
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
	const char *media_addr;   /* bind and offer this address; "" or NULL:
	                             the SIP socket's */
	int max_dialogs;
	int detect_always;        /* run fax detectors without an RTP socket
	                             (fuzzing: umfax_siprefer_media_input) */
	const char *spool;        /* for missed-call jobs; NULL: default */
};

struct umfax_siprefer;

/* Settings sipredirect_t1, _t2, _fax_wait, _media_port, _media_address,
 * _max_dialogs. */
void umfax_siprefer_cfg_init(struct umfax_siprefer_cfg *c);

struct umfax_siprefer *umfax_siprefer_new(struct umfax_sipredir *r,
    const struct umfax_siprefer_cfg *cfg);
void umfax_siprefer_free(struct umfax_siprefer *p);

/* One datagram (request or response) from SRC on UDP socket FD; answers and
 * new requests are sent on FD. */
void umfax_siprefer_input(struct umfax_siprefer *p, int fd, const char *buf,
    size_t len, const struct sockaddr *src, socklen_t srclen);

/* Open the RTP socket: cfg media_addr, else the address of SIP_LOCAL (the
 * SIP listen address), port cfg media_port.  Returns the socket (non-
 * blocking; the caller polls it and calls umfax_siprefer_media_read), or
 * -1 with the reason logged. */
int umfax_siprefer_media_open(struct umfax_siprefer *p, const struct sockaddr *sip_local,
    socklen_t len);

/* Read what is waiting on the RTP socket and run the fax detectors. */
void umfax_siprefer_media_read(struct umfax_siprefer *p);

/* One RTP datagram from SRC (what media_read does per packet). */
void umfax_siprefer_media_input(struct umfax_siprefer *p, const uint8_t *buf, size_t len,
    const struct sockaddr *src, socklen_t srclen);

/* TCP: the server's send function for connection CONN of generation GEN
 * (0, or -1 when that connection is gone), and the input of one framed
 * message from such a connection.  A dialog's requests and answers go on
 * the connection its INVITE came on, or the newest one a request of the
 * dialog came on; over TCP REFER and BYE are not retransmitted. */
typedef int (*umfax_siprefer_tcp_send_fn)(void *arg, int conn, unsigned gen,
    const char *buf, size_t len);
void umfax_siprefer_set_tcp(struct umfax_siprefer *p, umfax_siprefer_tcp_send_fn fn, void *arg);
void umfax_siprefer_input_tcp(struct umfax_siprefer *p, int conn, unsigned gen, const char *buf,
    size_t len, const struct sockaddr *src, socklen_t srclen);

/* Run the timers that are due; returns the milliseconds until the next one
 * (at most 1000). */
int umfax_siprefer_timers(struct umfax_siprefer *p);

/* Dialogs in progress. */
int umfax_siprefer_active(const struct umfax_siprefer *p);

#endif
