/* tpkt.h - one direction of a TCP connection put back together, and TPKT
 * framing (RFC 1006: 0x03 0x00 then a 16-bit length that counts the 4-byte
 * header) as T.38 over TCP uses it.
 *
 * The stream takes segments in capture order, keeps up to a bound of
 * out-of-order segments, drops retransmitted bytes, and appends in-order
 * bytes to a buffer the caller consumes from the front. */
#ifndef UMFAX_TPKT_H
#define UMFAX_TPKT_H

#include <stddef.h>
#include <stdint.h>

#define UMFAX_TCPSTREAM_MAX_OOO  64          /* out-of-order segments held */
#define UMFAX_TCPSTREAM_MAX_BUF  (1 << 20)   /* unconsumed bytes held */

struct umfax_tcpseg {
	uint32_t seq;
	size_t len;
	uint8_t *data;
};

struct umfax_tcpstream {
	int started;
	uint32_t next;            /* next sequence number expected */
	uint8_t *buf;             /* in-order bytes not yet consumed */
	size_t len, cap;
	struct umfax_tcpseg ooo[UMFAX_TCPSTREAM_MAX_OOO];
	int nooo;
	long gaps;                /* times bytes were given up as lost */
};

void umfax_tcpstream_init(struct umfax_tcpstream *s);
void umfax_tcpstream_release(struct umfax_tcpstream *s);
/* One segment (FLAGS as in the TCP header; SYN sets the start).  0, or -1
 * on no memory (the segment is dropped). */
int umfax_tcpstream_add(struct umfax_tcpstream *s, uint32_t seq, uint8_t flags,
    const uint8_t *data, size_t len);
/* Drop N consumed bytes from the front of the buffer. */
void umfax_tcpstream_consume(struct umfax_tcpstream *s, size_t n);

/* Look for a TPKT frame at the start of BUF.  Returns 1 with *PAYLOAD and
 * *PLEN set and *USED = the frame's size, 0 when more bytes are needed, -1
 * when BUF does not start with a TPKT header (the caller skips one byte to
 * find the next one). */
int umfax_tpkt_frame(const uint8_t *buf, size_t len, const uint8_t **payload,
    size_t *plen, size_t *used);

/* Whether the first bytes of a TCP payload look like TPKT framing. */
int umfax_tpkt_looks_like(const uint8_t *buf, size_t len);

#endif
