/* t38live.h - t38recv's live mode: the fax server a gateway calls
 *
 * One process, one epoll loop: a SIP user agent server on UDP and TCP
 * (requests parsed with libosip2 through lib/sipmsg), the media of every
 * call (UDPTL or RTP on a UDP socket of its own, T.38 over TCP/TPKT on one
 * listening port), and a 20 ms timerfd that drives spandsp's clock
 * (lib/faxsess) and SIP's retransmission timers.
 *
 * A call: INVITE offering T.38 (m=image udptl t38, or TCP/TPKT/T38) or
 * G.711 (PCMU/PCMA) -> 200 with our SDP (re-INVITEs from audio to T.38 are
 * followed) -> pages into SPOOL/tmp/ID.tif (created with O_EXCL when the
 * call is answered) -> at BYE or when T.30 ends, the job is committed to
 * received/: complete, incomplete, or Status: no-pages.  The recipient and
 * UM context come from the INVITE's Referred-By (msExchUMFaxRecipient,
 * msExchUMContext), else from the called number and the directory; a call
 * with neither is refused (404), so the transfer fails. */
#ifndef UMFAX_T38LIVE_H
#define UMFAX_T38LIVE_H

#include <stddef.h>
#include "spool.h"

struct umfax_t38live_cfg {
	const char *listen;       /* SIP: "ADDR:PORT" (UDP and TCP); NULL: setting t38live_listen */
	int tcp_port;             /* T.38 over TCP listening port (0: none); -1: setting */
	const char *spool;        /* spool path */
	int inetd;                /* fd 0 is a connected TCP socket: one T.38/TPKT session */
	int max_seconds;          /* stop after this long (tests); 0: run until a signal */
	int max_calls;            /* stop after this many calls ended (tests); 0: no limit */
};

/* Run the server.  Returns a sysexits code (EX_OK after SIGTERM/SIGINT or
 * the inetd session, EX_UNAVAILABLE when it cannot bind, EX_CONFIG for a
 * bad setting, EX_OSERR, EX_CANTCREAT for the spool). */
int umfax_t38live_run(const struct umfax_t38live_cfg *c);

/* Pieces of the Referred-By header (PROTOCOL.md 1), for tests: the value of
 * URI parameter NAME in HDR (case-insensitive name), %-decoded, into DST
 * (size N).  0, or -1 when absent. */
int umfax_t38live_param(const char *hdr, const char *name, char *dst, size_t n);

/* Does CALLED (NULL or "": none) fit a route_called LIST ("*" any, "NUMBER*"
 * a prefix, else the whole number, comma separated)?  An empty LIST fits
 * every call.  1 or 0. */
int umfax_t38live_called_match(const char *list, const char *called);

#endif
