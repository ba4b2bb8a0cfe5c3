/* t38dec.h - decode one recorded T.38 fax session with spandsp
 *
 * A spandsp T.38 terminal in answering mode is fed the IFPs of the fax
 * sender's direction, in order, with the capture's clock: before each
 * packet the caller moves the clock to the packet's capture time (count
 * every packet of the capture, not only this session's, so T.30 timers run
 * as they did live).  The terminal answers into nothing; the pages it
 * receives go to a TIFF file (created at the first DCS).  At the end
 * umfax_t38dec_finish fills a struct umfax_faxinfo. */
#ifndef UMFAX_T38DEC_H
#define UMFAX_T38DEC_H

#include <stddef.h>
#include <stdint.h>
#include "faxinfo.h"

struct umfax_t38dec;

#define UMFAX_T38_UDPTL 0
#define UMFAX_T38_TCP   1

struct umfax_t38dec_conf {
	int version;              /* T38FaxVersion 0..3 */
	int transport;            /* UMFAX_T38_UDPTL or UMFAX_T38_TCP */
	int max_datagram;         /* T38FaxMaxDatagram, 0 = default */
	int fill_bit_removal;     /* T38FaxFillBitRemoval */
	const char *local_ident;  /* our CSI, may be NULL */
};

/* New decoder writing to TIFF_PATH.  NULL on no memory. */
struct umfax_t38dec *umfax_t38dec_new(const char *tiff_path, const struct umfax_t38dec_conf *c);

/* One line per T.30 frame (for -v): T is seconds since the session began,
 * FROM_SENDER 1 for the sender's frames, 0 for the answers. */
typedef void umfax_t38dec_frame_fn(void *arg, double t, int from_sender, const char *text);
void umfax_t38dec_set_frame_log(struct umfax_t38dec *d, umfax_t38dec_frame_fn *fn, void *arg);

/* Move the clock to capture time T (seconds).  Time never runs back. */
void umfax_t38dec_clock(struct umfax_t38dec *d, double t);

/* One IFP of the sender.  SEQ is the UDPTL sequence number (TCP: count them).
 * 0, or -1 when spandsp refused the IFP as malformed. */
int umfax_t38dec_ifp(struct umfax_t38dec *d, const uint8_t *ifp, size_t len, uint16_t seq);

/* Whether T.30 has ended (DCN seen or given up). */
int umfax_t38dec_done(const struct umfax_t38dec *d);

/* IFPs received so far, and those spandsp refused. */
long umfax_t38dec_ifps(const struct umfax_t38dec *d);
long umfax_t38dec_bad_ifps(const struct umfax_t38dec *d);

/* End of the session: let T.30 time out as it would live (at most 60 s of
 * clock), close the TIFF, fill INFO (pages counted in the TIFF itself).
 * 0, or -1 when the TIFF could not be read back. */
int umfax_t38dec_finish(struct umfax_t38dec *d, struct umfax_faxinfo *info);

void umfax_t38dec_free(struct umfax_t38dec *d);

/* Look at a TIFF: pages, first page width/rows and resolution, sum of
 * bad rows if recorded.  0, or -1 when it cannot be read. */
int umfax_t38dec_tiff_info(const char *path, struct umfax_faxinfo *info);

/* A readable line for one T.30 frame (MSG starts at the address octet). */
char *umfax_t38dec_describe(char *dst, size_t n, const uint8_t *msg, int len);

#endif
