/* t38replay.h - find the fax calls in a capture and decode each one
 *
 * Reads the whole capture (pcapsrc), follows SIP over UDP and TCP (sipcap,
 * sdp) to learn the calls, their T.38 (UDPTL or TCP) and G.711 media and the
 * T.38 parameters, including re-INVITEs and media that comes from another
 * address than the SDP says (NAT: matched by port).  Streams no SIP
 * explains are recognised by their content (UDPTL, TPKT, RTP PT 0/8).
 * Each fax session is decoded on its own with the capture's clock (t38dec,
 * or the passive G.711 decoder), and handed to a callback, in order of time.
 * Damaged input is reported (umfax_log) and skipped, never fatal. */
#ifndef UMFAX_T38REPLAY_H
#define UMFAX_T38REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include "faxinfo.h"

struct umfax_replay_opts {
	int keep_empty;           /* also report fax calls without a page */
	int t38_version;          /* -1: from SDP, else detect; 0..3: force */
	const char *host;         /* only streams to or from this address */
	int port;                 /* only streams with this port (0: any) */
	const char *call_id;      /* only this call */
	const char *local_ident;  /* our CSI for the simulated receiver */
	int frames;               /* log T.30 frames (t38recv -v) */
	void (*frame_log)(void *arg, const char *line);   /* where they go */
	void *frame_arg;
};

/* What the capture told about one fax. */
struct umfax_replay_fax {
	struct umfax_faxinfo info;
	const char *tiff_path;    /* the pages; NULL or unreadable when no page */
	const char *transport;    /* "t38-udptl", "t38-tcp", "g711-ulaw", "g711-alaw" */
	double start;             /* capture time the fax session began */
	int t38_version;          /* -1 for G.711 */
	const char *version_from; /* "sdp", "option", "detected" */
	/* From SIP (empty strings when the capture has none). */
	char call_id[256];
	char caller[128], caller_name[128], called[128];
	char recipient[320], um_context[1024];
	char sender[80], receiver[80];   /* "addr:port" of the fax sender / receiver */
};

typedef int umfax_replay_fn(void *arg, const struct umfax_replay_fax *fx);

/* Decode every fax in the capture PATH (or BUF/LEN for _mem) and call FN
 * for each (the TIFF file is removed after FN returns).  A non-zero return
 * of FN stops the replay and is returned.  Returns 0, or -1 with ERR when
 * the capture cannot be read at all. */
int umfax_replay_file(const char *path, const struct umfax_replay_opts *o,
    umfax_replay_fn *fn, void *arg, char *err, size_t errlen);
int umfax_replay_mem(const void *buf, size_t len, const struct umfax_replay_opts *o,
    umfax_replay_fn *fn, void *arg, char *err, size_t errlen);

#endif
