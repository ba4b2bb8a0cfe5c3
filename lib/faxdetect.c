/* faxdetect.c - CNG tone and RFC 4733 event 36 in RTP (see faxdetect.h) */
#include "faxdetect.h"

#include <string.h>
#include <strings.h>

#include <spandsp.h>

#include "rtp.h"

static void
tone_heard(void *arg, int code, int level, int delay)
{
	struct umfax_faxdetect *f = arg;

	(void)level;
	(void)delay;
	if (code == MODEM_CONNECT_TONES_FAX_CNG && f->how == UMFAX_FAXDETECT_NONE)
		f->how = UMFAX_FAXDETECT_CNG_TONE;
}

int
umfax_faxdetect_init(struct umfax_faxdetect *f, int te_pt)
{
	memset(f, 0, sizeof *f);
	f->te_pt = te_pt >= 96 && te_pt <= 127 ? te_pt : -1;
	f->cng = modem_connect_tones_rx_init(NULL, MODEM_CONNECT_TONES_FAX_CNG, tone_heard, f);
	return f->cng ? 0 : -1;
}

void
umfax_faxdetect_release(struct umfax_faxdetect *f)
{
	if (f->cng)
		modem_connect_tones_rx_free(f->cng);
	f->cng = NULL;
}

int
umfax_faxdetect_event(const uint8_t *p, size_t len, int *event, int *end, unsigned *duration)
{
	if (len < 4)
		return -1;
	*event = p[0];
	*end = (p[1] & 0x80) != 0;
	*duration = (unsigned)p[2] << 8 | p[3];
	return 0;
}

int
umfax_faxdetect_packet(struct umfax_faxdetect *f, const uint8_t *pkt, size_t len)
{
	struct umfax_rtp_hdr h;
	int16_t amp[160];
	size_t i, k;

	f->st.packets++;
	if (umfax_rtp_parse(pkt, len, &h) != 0) {
		f->st.not_rtp++;
		return -1;
	}
	if (f->how != UMFAX_FAXDETECT_NONE)
		return f->how;
	if (h.pt == UMFAX_RTP_PT_PCMU || h.pt == UMFAX_RTP_PT_PCMA) {
		f->st.audio++;
		if (!f->cng)
			return f->how;
		for (i = 0; i < h.payload_len; i += k) {
			for (k = 0; k < sizeof amp / sizeof amp[0] && i + k < h.payload_len; k++)
				amp[k] = h.pt == UMFAX_RTP_PT_PCMU ? ulaw_to_linear(h.payload[i + k]) :
				    alaw_to_linear(h.payload[i + k]);
			modem_connect_tones_rx(f->cng, amp, (int)k);
		}
	} else if (h.pt == f->te_pt) {
		int ev, end;
		unsigned dur;
		f->st.events++;
		if (umfax_faxdetect_event(h.payload, h.payload_len, &ev, &end, &dur) == 0 &&
		    ev == UMFAX_RTP_EVENT_CNG)
			f->how = UMFAX_FAXDETECT_CNG_EVENT;
	} else {
		f->st.other++;
	}
	return f->how;
}

/* Call FN for each line of SDP (without its line end); stop when it
 * returns nonzero and return that. */
static int
each_line(const char *s, size_t len, int (*fn)(const char *l, size_t n, void *a), void *a)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i, n;
		int r;
		while (j < len && s[j] != '\n' && s[j] != '\r')
			j++;
		n = j - i;
		if (n && (r = fn(s + i, n, a)) != 0)
			return r;
		while (j < len && (s[j] == '\n' || s[j] == '\r'))
			j++;
		i = j;
	}
	return 0;
}

static int
te_line(const char *l, size_t n, void *a)
{
	static const char pre[] = "a=rtpmap:";
	static const char enc[] = "telephone-event/8000";
	size_t i = sizeof pre - 1;
	int pt = 0, digits = 0;

	(void)a;
	if (n <= i || strncasecmp(l, pre, i) != 0)
		return 0;
	while (i < n && l[i] >= '0' && l[i] <= '9' && digits < 4) {
		pt = pt * 10 + (l[i++] - '0');
		digits++;
	}
	if (!digits || pt > 127 || i >= n || (l[i] != ' ' && l[i] != '\t'))
		return 0;
	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	if (n - i < sizeof enc - 1 || strncasecmp(l + i, enc, sizeof enc - 1) != 0)
		return 0;
	return pt + 1;
}

int
umfax_faxdetect_sdp_te_pt(const char *sdp, size_t len)
{
	return each_line(sdp, len, te_line, NULL) - 1;
}

struct faxattr {
	int audio, fax;
};

static int
is_attr(const char *l, size_t n, const char *a)
{
	size_t k = strlen(a);

	return n >= k && strncasecmp(l, a, k) == 0 && (n == k || l[k] == ':' || l[k] == ' ');
}

static int
fax_line(const char *l, size_t n, void *arg)
{
	struct faxattr *fa = arg;

	if (n > 8 && strncmp(l, "m=audio ", 8) == 0)
		fa->audio = 1;
	else if (n > 2 && l[0] == 'm' && l[1] == '=')
		fa->audio = 0;          /* attributes below belong to another stream */
	else if (fa->audio && (is_attr(l, n, "a=X-fax") || is_attr(l, n, "a=fax")))
		fa->fax = 1;
	else if (fa->audio && n >= 20 && strncasecmp(l, "a=silenceSupp:off", 17) == 0 &&
	    (l[17] == ' ' || l[17] == '\t'))
		fa->fax = 1;
	return 0;
}

int
umfax_faxdetect_sdp_g711_fax(const char *sdp, size_t len)
{
	struct faxattr fa = { 0, 0 };

	each_line(sdp, len, fax_line, &fa);
	return fa.fax;
}

const char *
umfax_faxdetect_name(int how)
{
	return how == UMFAX_FAXDETECT_CNG_TONE ? "cng-tone" :
	    how == UMFAX_FAXDETECT_CNG_EVENT ? "cng-event" : "none";
}
