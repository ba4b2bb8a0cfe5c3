/* faxsess.h - one live fax session on spandsp: a T.38 terminal (UDPTL or
 * TCP/TPKT) or a G.711 fax modem (RTP), answering (receiving a TIFF) or
 * calling (sending one), driven by a real-time clock.
 *
 * The owner feeds what the network brings (umfax_faxsess_rx) and calls
 * umfax_faxsess_tick every 20 ms of real time; the session hands the
 * datagrams or stream bytes to send to an output callback:
 *   UDPTL  one UDPTL packet per call, with redundancy (the last N IFPs as
 *          secondaries) or FEC (parity entries, fec_entries > 0), repeated
 *          as spandsp asks (indicators 3x);
 *   TCP    one TPKT frame (03 00 len16 IFP) per call;
 *   G.711  one RTP packet (PT 0 or 8, 160 samples) per tick.
 * Received G.711 goes through the RTP timeline (lib/rtp: reorder, drop
 * duplicates) into a playout buffer of 60 ms; each tick plays 160 samples
 * into fax_rx, and fax_rx_fillin bridges what was lost or is late. */
#ifndef UMFAX_FAXSESS_H
#define UMFAX_FAXSESS_H

#include <stddef.h>
#include <stdint.h>
#include "faxinfo.h"

enum umfax_faxsess_kind {
	UMFAX_FAXSESS_UDPTL = 0,
	UMFAX_FAXSESS_TCP,
	UMFAX_FAXSESS_ULAW,
	UMFAX_FAXSESS_ALAW
};

struct umfax_faxsess_conf {
	int kind;                 /* enum umfax_faxsess_kind */
	int calling;              /* 1: send TIFF (tests), 0: receive into TIFF */
	const char *tiff;         /* file to receive into, or to send */
	const char *local_ident;  /* CSI / TSI, may be NULL */
	int ecm;                  /* offer / use ECM */
	int fastest;              /* fastest modem: 14400 (V.17), 9600 (V.29), 4800 (V.27ter) */
	int t38_version;          /* 0..3 */
	int max_datagram;         /* far end's T38FaxMaxDatagram, 0 = not given */
	int rate_tcf;             /* 1 localTCF, 2 transferredTCF (default) */
	int fill_bit_removal;
	int redundancy;           /* UDPTL: secondary IFPs per packet (0..8, default 3) */
	int fec_span, fec_entries; /* UDPTL: send FEC instead (entries > 0), see udptl.h */
	int hold;                 /* UDPTL receive: packets to wait for a missing one */
	uint32_t ssrc;            /* G.711: our RTP SSRC */
};

/* One chunk to send: a datagram (UDPTL, RTP) or stream bytes (TPKT frame). */
typedef void umfax_faxsess_out_fn(void *arg, const uint8_t *buf, size_t len);
/* One line about a T.30 frame or event (for -v and tests); may be NULL. */
typedef void umfax_faxsess_log_fn(void *arg, const char *line);

struct umfax_faxsess;

/* New session.  NULL on no memory or when spandsp refused (ERR says). */
struct umfax_faxsess *umfax_faxsess_new(const struct umfax_faxsess_conf *c,
    umfax_faxsess_out_fn *out, void *arg, char *err, size_t errlen);
void umfax_faxsess_set_log(struct umfax_faxsess *s, umfax_faxsess_log_fn *fn, void *arg);

/* UDPTL: from now on send FEC with ENTRIES parity entries over SPAN packets
 * each (ENTRIES 0: redundancy again).  0, or -1 when the shape is out of
 * range (umfax_udptl_tx_init) or there is no memory; nothing changes then. */
int umfax_faxsess_set_fec(struct umfax_faxsess *s, int span, int entries);

/* Bytes from the network: one datagram (UDPTL, RTP), or any amount of a
 * TCP stream (TPKT frames are cut out; partial frames kept).  0, or -1 when
 * the input was not understood (counted; a TCP stream that is not TPKT
 * should then be closed). */
int umfax_faxsess_rx(struct umfax_faxsess *s, const uint8_t *buf, size_t len);

/* 20 ms of real time passed.  Returns 1 once T.30 has ended. */
int umfax_faxsess_tick(struct umfax_faxsess *s);

/* Whether T.30 has ended, and whether any page has started to arrive
 * (DCS seen by the receiver). */
int umfax_faxsess_done(const struct umfax_faxsess *s);
int umfax_faxsess_pages(const struct umfax_faxsess *s);   /* pages confirmed so far */

/* End the session now (BYE, connection closed): T.30 is terminated, the
 * TIFF closed.  Then fill INFO (pages counted in the TIFF; receiving only).
 * 0, or -1 if the TIFF could not be read back. */
int umfax_faxsess_finish(struct umfax_faxsess *s, struct umfax_faxinfo *info);

/* Counters for the call's log line. */
struct umfax_faxsess_stats {
	long rx_packets, rx_bad, tx_packets, recovered, lost, concealed_ms;
};
void umfax_faxsess_stats(const struct umfax_faxsess *s, struct umfax_faxsess_stats *st);

void umfax_faxsess_free(struct umfax_faxsess *s);

/* "t38-udptl", "t38-tcp", "g711-ulaw", "g711-alaw". */
const char *umfax_faxsess_kind_name(int kind);

#endif
