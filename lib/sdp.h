/* sdp.h - the parts of an SDP body (RFC 4566) a fax receiver needs
 *
 * Connection addresses (session and media level), each m= line with its
 * port, protocol and formats, RTP payload types of a=rtpmap, and the T.38
 * attributes of audio/t38 (T38FaxVersion, T38FaxMaxDatagram, T38FaxUdpEC,
 * T38FaxFillBitRemoval, T38MaxBitRate).  Bounded, never reads past LEN. */
#ifndef UMFAX_SDP_H
#define UMFAX_SDP_H

#include <stddef.h>

#define UMFAX_SDP_MAX_MEDIA 8
#define UMFAX_SDP_MAX_FMT   16

enum umfax_sdp_kind { UMFAX_SDP_OTHER = 0, UMFAX_SDP_AUDIO, UMFAX_SDP_T38_UDPTL, UMFAX_SDP_T38_TCP };
enum umfax_sdp_ec { UMFAX_SDP_EC_UNSET = -1, UMFAX_SDP_EC_NONE = 0, UMFAX_SDP_EC_REDUNDANCY, UMFAX_SDP_EC_FEC };

struct umfax_sdp_media {
	int kind;                 /* enum umfax_sdp_kind */
	char media[16];           /* "audio", "image" */
	char proto[32];           /* "RTP/AVP", "udptl", "TCP/TPKT/T38" ... */
	int port;                 /* 0: the stream is refused or removed */
	char addr[64];            /* c= of the media, else of the session */
	int nfmt;
	int fmt[UMFAX_SDP_MAX_FMT];   /* RTP payload types (audio) */
	int has_pcmu, has_pcma;   /* PT 0 / 8 offered (static or by rtpmap) */
	int t38_version;          /* -1 when not given */
	int t38_max_datagram;     /* 0 when not given */
	int t38_udp_ec;           /* enum umfax_sdp_ec */
	int t38_fill_bit_removal;
	int t38_max_bit_rate;
	int inactive;             /* a=inactive */
};

struct umfax_sdp {
	char addr[64];            /* session-level c= */
	int nmedia;
	struct umfax_sdp_media m[UMFAX_SDP_MAX_MEDIA];
};

/* Parse BUF (LEN bytes, not NUL-terminated).  0, or -1 when it is not SDP
 * (no v= line, or no m= line at all). */
int umfax_sdp_parse(const char *buf, size_t len, struct umfax_sdp *sdp);

/* The first media of KIND with a port, or NULL. */
const struct umfax_sdp_media *umfax_sdp_find(const struct umfax_sdp *sdp, int kind);

#endif
