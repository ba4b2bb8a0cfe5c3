/* udptl.h - UDPTL (ITU-T T.38 Annex A): packets and an ordering receiver
 *
 * A UDPTL packet (ASN.1 PER, octet aligned) is a 16-bit sequence number,
 * the primary IFP, and error recovery: either copies of the previous IFPs
 * (redundancy, most recent first) or FEC parity entries over earlier
 * packets.  umfax_udptl_parse takes one apart and insists that it ends
 * exactly at the end of the datagram (RTP on the same port does not).
 *
 * The receiver puts IFPs back in sequence order, drops duplicates and late
 * copies, fills gaps from redundancy and FEC, and hands each IFP out once,
 * with its sequence number, to a callback. */
#ifndef UMFAX_UDPTL_H
#define UMFAX_UDPTL_H

#include <stddef.h>
#include <stdint.h>

#define UMFAX_UDPTL_MAX_IFP  1024   /* octets in one IFP */
#define UMFAX_UDPTL_MAX_SEC  16     /* secondary IFPs or FEC entries per packet */

struct umfax_udptl_pkt {
	uint16_t seq;
	const uint8_t *ifp;                          /* primary */
	size_t ifp_len;
	int fec;                                     /* 0 redundancy, 1 FEC */
	int nsec;                                    /* redundancy: sec[0] is seq-1 */
	const uint8_t *sec[UMFAX_UDPTL_MAX_SEC];
	size_t sec_len[UMFAX_UDPTL_MAX_SEC];
	int fec_span;                                /* FEC: packets per entry */
	int fec_n;                                   /* FEC: entries */
	const uint8_t *fec_data[UMFAX_UDPTL_MAX_SEC];
	size_t fec_len[UMFAX_UDPTL_MAX_SEC];
};

/* Take apart one datagram.  Pointers point into BUF.  0, or -1 when it is
 * not a well-formed UDPTL packet. */
int umfax_udptl_parse(const uint8_t *buf, size_t len, struct umfax_udptl_pkt *p);

/* Build a datagram from P into BUF (size N): for tests and test senders.
 * Returns its length, or -1 if it does not fit or P is not valid. */
long umfax_udptl_encode(uint8_t *buf, size_t n, const struct umfax_udptl_pkt *p);

/* ---- sender: FEC parity (T.38 Annex, fec-info) ----
 * Packet N's FEC entry m (m = 0..entries-1) is the XOR of the IFPs of the
 * packets N+m-span*entries, N+m-span*entries+entries, ... N+m-entries
 * (span of them, stride entries), as long as the longest of them; so every
 * earlier packet is covered by one entry of each of the next span packets
 * that carry a full set.  The first packets carry fewer entries (or none)
 * so that no entry covers a packet before the first. */
#define UMFAX_UDPTL_TX_RING 32      /* span * entries must stay below this */

struct umfax_udptl_tx {
	int span, entries;
	int64_t n;                                   /* IFPs added so far */
	size_t len[UMFAX_UDPTL_TX_RING];
	uint8_t ifp[UMFAX_UDPTL_TX_RING][UMFAX_UDPTL_MAX_IFP];
	uint8_t par[UMFAX_UDPTL_MAX_SEC][UMFAX_UDPTL_MAX_IFP];
};

/* SPAN 1..255 and ENTRIES 1..UMFAX_UDPTL_MAX_SEC, with span * entries below
 * UMFAX_UDPTL_TX_RING.  0, or -1 when they are out of range. */
int umfax_udptl_tx_init(struct umfax_udptl_tx *t, int span, int entries);
/* Fill P's error recovery with FEC for the next packet (the one after the
 * IFPs added so far): at most ENTRIES entries (fewer than configured makes
 * a smaller datagram).  The parity points into T, valid until the next add. */
void umfax_udptl_tx_fec(struct umfax_udptl_tx *t, struct umfax_udptl_pkt *p, int entries);
/* The IFP of the next packet, as sent (call once per sequence number). */
void umfax_udptl_tx_add(struct umfax_udptl_tx *t, const uint8_t *ifp, size_t len);

/* One IFP in order.  LOST is 1 (IFP NULL) for a sequence number that could
 * not be recovered. */
typedef void umfax_udptl_deliver_fn(void *arg, uint16_t seq, const uint8_t *ifp,
    size_t len, int lost);

#define UMFAX_UDPTL_RING 128

struct umfax_udptl_slot {
	int64_t seq;              /* extended sequence number, -1 empty */
	int have;                 /* IFP present (received or recovered) */
	size_t len;
	uint8_t ifp[UMFAX_UDPTL_MAX_IFP];
	int fec_span, fec_n;      /* the FEC carried by the packet of this seq */
	size_t fec_len[UMFAX_UDPTL_MAX_SEC];
	uint8_t *fec;             /* fec_n * UMFAX_UDPTL_MAX_IFP, malloc'd on need */
};

struct umfax_udptl_rx {
	umfax_udptl_deliver_fn *deliver;
	void *arg;
	int started;
	int64_t next;             /* next extended seq to hand out */
	int64_t high;             /* highest extended seq seen */
	int hold;                 /* packets to wait for a missing one (reorder) */
	int t38_version;          /* of the IFPs, for FEC repair; -1 (init) unknown */
	struct umfax_udptl_slot *ring;   /* UMFAX_UDPTL_RING slots */
	/* statistics */
	long packets, bad, dups, late, from_red, from_fec, lost, restarts;
};

/* HOLD: how many newer packets to wait for a missing one before giving it
 * up (0..64); FEC recovery needs span*entries, reordering 1 or 2. */
int umfax_udptl_rx_init(struct umfax_udptl_rx *r, int hold,
    umfax_udptl_deliver_fn *deliver, void *arg);
void umfax_udptl_rx_release(struct umfax_udptl_rx *r);
/* The length of the T.38 IFP at B, which may be followed by zeros up to MAX
 * octets (an IFP rebuilt from FEC parity is as long as the longest packet it
 * covers; the IFP itself does not say where it ends, its structure does):
 * walked as T.38 VERSION encodes it (version 0 has field types without an
 * extension bit, a whole octet each or, as its ASN.1 says, half an octet for
 * a field without data; 1..3 have the extension bit).  0 when B holds no
 * whole IFP followed only by zeros. */
size_t umfax_udptl_ifp_len(const uint8_t *b, size_t max, int version);
/* One datagram.  0, or -1 when it is not UDPTL (counted in bad, ignored). */
int umfax_udptl_rx_packet(struct umfax_udptl_rx *r, const uint8_t *buf, size_t len);
/* End of the stream: hand out everything still held. */
void umfax_udptl_rx_flush(struct umfax_udptl_rx *r);

#endif
