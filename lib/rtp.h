/* rtp.h - RTP (RFC 3550) parsing and a small receive timeline for G.711.
 *
 * umfax_rtp_parse() checks one datagram and finds its payload (CSRC list,
 * header extension and padding removed).  struct umfax_rtp_rx turns the
 * datagrams of one direction into a continuous G.711 timeline: packets are
 * put back in sequence order within a small window, duplicates and late
 * packets are dropped (a missing packet is waited for at most 8 packets or
 * 100 ms of capture time), timestamp gaps (VAD, comfort noise, loss) become
 * silence, comfort noise (PT 13) and dynamic payload types (96-127, e.g.
 * telephone-event) are skipped, and an SSRC change starts a new timeline
 * (the gap then measured with the capture clock). */
#ifndef UMFAX_RTP_H
#define UMFAX_RTP_H

#include <stddef.h>
#include <stdint.h>

#define UMFAX_RTP_PT_PCMU 0
#define UMFAX_RTP_PT_PCMA 8
#define UMFAX_RTP_PT_CN 13

struct umfax_rtp_hdr {
	int marker;
	int pt;                   /* payload type 0..127 */
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	int csrc_count;
	int has_extension;
	int padding;              /* padding octets removed */
	const uint8_t *payload;   /* points into the datagram */
	size_t payload_len;
};

/* Parse one datagram.  0, or -1 when it is not a well-formed RTP version 2
 * packet (too short, wrong version, CSRC/extension/padding overrunning). */
int umfax_rtp_parse(const uint8_t *pkt, size_t len, struct umfax_rtp_hdr *h);

/* Audio output of a timeline: N samples of G.711 (PT 0 or 8) in DATA, or,
 * when DATA is NULL, N samples that were not received: PT is then
 * UMFAX_RTP_SILENCE (a pause in the sending: VAD, comfort noise, a new
 * timeline) or UMFAX_RTP_LOST (packets lost in the network, which a
 * receiver should bridge, e.g. with a modem's fill-in). */
#define UMFAX_RTP_SILENCE (-1)
#define UMFAX_RTP_LOST (-2)
typedef void (*umfax_rtp_audio_fn)(void *arg, int pt, const uint8_t *data, size_t n);

#define UMFAX_RTP_WINDOW 8        /* packets held back for reordering */
#define UMFAX_RTP_MAX_PAYLOAD 1024 /* larger audio payloads are dropped */

struct umfax_rtp_slot {
	int used;
	uint16_t seq;
	uint32_t ts;
	double t;
	int pt;
	size_t len;
	uint8_t data[UMFAX_RTP_MAX_PAYLOAD];
};

struct umfax_rtp_stats {
	unsigned long packets;    /* datagrams given */
	unsigned long not_rtp;    /* rejected by the parser */
	unsigned long audio;      /* G.711 packets played */
	unsigned long skipped;    /* CN, telephone-event, other payload types */
	unsigned long dups;       /* duplicate or too late */
	unsigned long reordered;  /* arrived out of order and put back */
	unsigned long lost;       /* sequence numbers never seen */
	unsigned long ssrc_changes;
	unsigned long long samples;      /* samples emitted, audio + silence */
	unsigned long long silence;      /* of which silence fill */
	unsigned long long concealed;    /* of which lost packets */
};

struct umfax_rtp_rx {
	umfax_rtp_audio_fn out;
	void *arg;
	int started;              /* an SSRC is being followed */
	uint32_t ssrc;
	uint16_t next_seq;
	int have_ts;              /* next_ts is valid */
	uint32_t next_ts;         /* RTP timestamp the next audio should have */
	double t_first;           /* capture time of the first packet */
	double t_last;            /* capture time of the last packet played */
	int last_pt;              /* G.711 law last seen */
	size_t last_n;            /* samples in the last audio packet */
	unsigned long lost_pending;   /* sequence numbers skipped since it */
	int held;
	struct umfax_rtp_slot slot[UMFAX_RTP_WINDOW];
	struct umfax_rtp_stats st;
	double max_gap;           /* longest silence fill, seconds (default 60) */
	double max_wait;          /* longest a missing packet is waited for (0.1 s) */
};

void umfax_rtp_rx_init(struct umfax_rtp_rx *r, umfax_rtp_audio_fn out, void *arg);

/* One datagram captured at time T (seconds).  0, or -1 if not RTP. */
int umfax_rtp_rx_packet(struct umfax_rtp_rx *r, double t, const uint8_t *pkt, size_t len);

/* Play out what is held back (end of capture). */
void umfax_rtp_rx_flush(struct umfax_rtp_rx *r);

#endif
