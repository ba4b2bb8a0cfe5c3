/* faxdetect.h - recognise a calling fax in the RTP a gateway sends (refer
 * mode, PROTOCOL.md 1): the CNG tone (1100 Hz, 0.5 s on / 3 s off) heard in
 * G.711 audio (PT 0 or 8) with spandsp's modem connect tone detector, or an
 * RFC 4733 telephone-event 36 (CNG) packet of the payload type the SDP maps
 * to telephone-event/8000.  Packets are parsed with umfax_rtp_parse(); the
 * audio is fed in arrival order (a lost or late packet only delays the
 * detection).  One state per call. */
#ifndef UMFAX_FAXDETECT_H
#define UMFAX_FAXDETECT_H

#include <stddef.h>
#include <stdint.h>

enum umfax_faxdetect_how {
	UMFAX_FAXDETECT_NONE = 0,
	UMFAX_FAXDETECT_CNG_TONE,     /* CNG heard in G.711 audio */
	UMFAX_FAXDETECT_CNG_EVENT     /* RFC 4733 event 36 */
};

#define UMFAX_RTP_EVENT_CNG 36

struct umfax_faxdetect_stats {
	unsigned long packets, not_rtp, audio, events, other;
};

struct umfax_faxdetect {
	void *cng;                    /* spandsp modem_connect_tones_rx_state_t */
	int te_pt;                    /* telephone-event payload type, -1: none */
	int how;                      /* enum umfax_faxdetect_how, once found */
	struct umfax_faxdetect_stats st;
};

/* TE_PT: the telephone-event payload type (-1: events are not looked for).
 * 0, or -1 when spandsp cannot allocate the detector. */
int umfax_faxdetect_init(struct umfax_faxdetect *f, int te_pt);
void umfax_faxdetect_release(struct umfax_faxdetect *f);

/* One RTP datagram.  Returns the detection (enum umfax_faxdetect_how, also
 * kept in f->how; it stays set), UMFAX_FAXDETECT_NONE, or -1 when the
 * datagram is not RTP. */
int umfax_faxdetect_packet(struct umfax_faxdetect *f, const uint8_t *pkt, size_t len);

/* An RFC 4733 telephone-event payload: 0 with the event code, end bit and
 * duration (timestamp units), or -1 when it is shorter than 4 octets. */
int umfax_faxdetect_event(const uint8_t *p, size_t len, int *event, int *end,
    unsigned *duration);

/* The payload type an SDP body maps to telephone-event/8000
 * (a=rtpmap:N telephone-event/8000), or -1.  Bounded by LEN. */
int umfax_faxdetect_sdp_te_pt(const char *sdp, size_t len);

/* 1 when an SDP body offers a G.711 fax profile: audio with a=X-fax, a=fax
 * or a=silenceSupp:off (a gateway switching a call to fax passthrough). */
int umfax_faxdetect_sdp_g711_fax(const char *sdp, size_t len);

/* "cng-tone", "cng-event", "none". */
const char *umfax_faxdetect_name(int how);

#endif
