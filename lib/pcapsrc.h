/* pcapsrc.h - UDP and TCP payloads out of a pcap or pcapng capture
 *
 * Reads a capture with libpcap (pcap and pcapng), takes apart the link
 * layer (Ethernet with VLAN tags, Linux cooked v1/v2, raw IP, BSD loopback),
 * IPv4 and IPv6 (extension headers skipped), reassembles IP fragments, and
 * hands out one UDP datagram or TCP segment at a time.  Frames it cannot
 * use (other protocols, truncated snapshots, bad headers) are counted and
 * skipped; nothing in the file can make it read out of bounds. */
#ifndef UMFAX_PCAPSRC_H
#define UMFAX_PCAPSRC_H

#include <stddef.h>
#include <stdint.h>

#define UMFAX_PKT_UDP 17
#define UMFAX_PKT_TCP 6

/* TCP flags as in the header. */
#define UMFAX_TCP_FIN 0x01
#define UMFAX_TCP_SYN 0x02
#define UMFAX_TCP_RST 0x04

struct umfax_pkt {
	long frame;               /* frame number in the capture, from 1 */
	double t;                 /* capture time, seconds since the epoch */
	int ipver;                /* 4 or 6 */
	int proto;                /* UMFAX_PKT_UDP or UMFAX_PKT_TCP */
	uint8_t src[16], dst[16]; /* IPv4 addresses use the first 4 bytes */
	uint16_t sport, dport;
	uint32_t tcp_seq;         /* TCP only */
	uint8_t tcp_flags;        /* TCP only */
	const uint8_t *data;      /* payload; valid until the next call */
	size_t len;
};

struct umfax_pcapsrc;

/* Open a capture file.  NULL with a one-line reason in ERR. */
struct umfax_pcapsrc *umfax_pcapsrc_open(const char *path, char *err, size_t errlen);
/* Open a capture held in memory (fuzzing, tests); BUF must outlive the source. */
struct umfax_pcapsrc *umfax_pcapsrc_open_mem(const void *buf, size_t len,
    char *err, size_t errlen);

/* Next UDP or TCP packet: 1 with P filled, 0 at the end of the capture,
 * -1 when the file is damaged from here on (ERR says how; what came before
 * stays valid). */
int umfax_pcapsrc_next(struct umfax_pcapsrc *s, struct umfax_pkt *p,
    char *err, size_t errlen);

/* Frames read so far, and frames skipped because they were truncated or
 * malformed (not counting frames of other protocols). */
long umfax_pcapsrc_frames(const struct umfax_pcapsrc *s);
long umfax_pcapsrc_bad(const struct umfax_pcapsrc *s);

void umfax_pcapsrc_close(struct umfax_pcapsrc *s);

/* "192.0.2.1" or "2001:db8::1" for an address of version IPVER. */
char *umfax_pcapsrc_addr(char *dst, size_t n, int ipver, const uint8_t *addr);
/* Parse an address in text form into ADDR (16 bytes); returns 4, 6 or 0. */
int umfax_pcapsrc_parse_addr(const char *text, uint8_t *addr);

#endif
