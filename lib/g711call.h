/* g711call.h - passive decoding of a recorded G.711 fax call.
 *
 * A recorded call has both directions in it, so the decoder listens: it
 * runs V.21 HDLC receivers on both directions to follow T.30 (DIS, DCS,
 * MCF, PPR ...), starts the fast modem the DCS names on the sender's
 * direction, assembles the page data (non-ECM, or ECM frames with their
 * PPR retransmissions) and writes the pages to a TIFF.  It never answers:
 * the recorded receiver's answers are in the capture.
 *
 * The caller hands it RTP packets (whole RTP datagrams) of the two
 * directions with their capture times, in capture order.  The decoder does
 * the RTP work (payload type 0/8, sequence order, timestamp gaps filled
 * with silence, comfort noise and telephone-event skipped, SSRC changes). */
#ifndef UMFAX_G711CALL_H
#define UMFAX_G711CALL_H

#include <stddef.h>
#include <stdint.h>
#include "faxinfo.h"

struct umfax_g711call;

/* New decoder writing pages to TIFF_PATH (created at the first page). */
struct umfax_g711call *umfax_g711call_new(const char *tiff_path);

/* One RTP datagram of direction DIR (0 or 1; which one sends the pages is
 * found out from the T.30 frames), captured at time T (seconds). 0, or -1
 * when the datagram is not RTP (it is ignored). */
int umfax_g711call_packet(struct umfax_g711call *c, int dir, double t,
    const uint8_t *pkt, size_t len);

/* Whether the call looked like a fax so far (V.21 HDLC frames or fax tones
 * were heard). */
int umfax_g711call_is_fax(const struct umfax_g711call *c);

/* End of the capture: close the last page, fill INFO.  0, or -1. */
int umfax_g711call_finish(struct umfax_g711call *c, struct umfax_faxinfo *info);

/* One line per T.30 frame, for t38recv -v: called as frames are decoded. */
void umfax_g711call_set_frame_log(struct umfax_g711call *c,
    void (*fn)(void *arg, int dir, double t, const char *text), void *arg);

void umfax_g711call_free(struct umfax_g711call *c);

#endif
