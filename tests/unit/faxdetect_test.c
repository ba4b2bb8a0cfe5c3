/* faxdetect_test - the fax detector of refer mode: a real CNG cadence in
 * G.711 u-law and A-law is found, speech-like audio and other tones are not,
 * RFC 4733 event 36 is found only on the negotiated payload type, and the
 * SDP helpers (telephone-event PT, G.711 fax profile). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <spandsp.h>

#include "faxdetect.h"
#include "t.h"

#define RATE 8000
#define PKT 160

struct gen {
	uint16_t seq;
	uint32_t ts;
	int pt;
};

static void
rtp_hdr(uint8_t *b, struct gen *g, int pt, int marker)
{
	b[0] = 0x80;
	b[1] = (uint8_t)(pt | (marker ? 0x80 : 0));
	b[2] = (uint8_t)(g->seq >> 8);
	b[3] = (uint8_t)g->seq;
	b[4] = (uint8_t)(g->ts >> 24);
	b[5] = (uint8_t)(g->ts >> 16);
	b[6] = (uint8_t)(g->ts >> 8);
	b[7] = (uint8_t)g->ts;
	b[8] = 0x12; b[9] = 0x34; b[10] = 0x56; b[11] = 0x78;
	g->seq++;
}

/* Feed SECONDS of the signal FN(t) as G.711 packets; returns the first
 * detection and the time (s) it came at. */
static int
feed(struct umfax_faxdetect *f, struct gen *g, double seconds, double (*fn)(double), double *at)
{
	uint8_t b[12 + PKT];
	long n = (long)(seconds * RATE / PKT), i, k;

	for (i = 0; i < n; i++) {
		int r;
		rtp_hdr(b, g, g->pt, 0);
		for (k = 0; k < PKT; k++) {
			double t = (double)(g->ts + (uint32_t)k) / RATE;
			int v = (int)lrint(fn(t));
			b[12 + k] = g->pt == 0 ? linear_to_ulaw(v) : linear_to_alaw(v);
		}
		g->ts += PKT;
		r = umfax_faxdetect_packet(f, b, sizeof b);
		if (r > 0) {
			*at = (double)g->ts / RATE;
			return r;
		}
	}
	return 0;
}

#define CK(c) T_CHECK(c, "r=%d how=%d at=%.2f", r, f.how, at)
#define AMP 7000.0    /* about -10 dBm0 */

static double
cng(double t)
{
	double c = fmod(t, 3.5);
	return c < 0.5 ? AMP * sin(2 * M_PI * 1100 * t) : 0;
}

static double
cng_weak(double t)
{
	/* -25 dBm0: a weak line */
	double c = fmod(t, 3.5);
	return c < 0.5 ? 1280.0 * sin(2 * M_PI * 1100 * t) : 0;
}

static double
speech(double t)
{
	/* voiced speech: a 120-180 Hz pitch with formant-like harmonics,
	 * syllables of 0.2 s with short pauses */
	double f0 = 120 + 60 * sin(2 * M_PI * 0.7 * t), s = 0;
	int h;
	if (fmod(t, 0.25) > 0.2)
		return 0;
	for (h = 1; h <= 20; h++)
		s += sin(2 * M_PI * f0 * h * t + h) / (1 + fabs(h * f0 - 700) / 150 + fabs(h * f0 - 1200) / 300);
	return 2500 * s;
}

static double
tone1300(double t)
{
	return AMP * sin(2 * M_PI * 1300 * t);
}

static double
short1100(double t)
{
	/* 1100 Hz bursts of 0.15 s: too short for CNG */
	return fmod(t, 1.0) < 0.15 ? AMP * sin(2 * M_PI * 1100 * t) : 0;
}

static int
event_pkt(struct umfax_faxdetect *f, struct gen *g, int pt, int ev)
{
	uint8_t b[16];
	rtp_hdr(b, g, pt, 1);
	b[12] = (uint8_t)ev;
	b[13] = 10;
	b[14] = 0x03;
	b[15] = 0x20;
	return umfax_faxdetect_packet(f, b, sizeof b);
}

int
main(void)
{
	struct umfax_faxdetect f;
	struct gen g;
	double at = -1;
	int r = 0, e, end;
	unsigned dur;
	static const uint8_t ev36[] = { 36, 0x8a, 0x0f, 0xa0 };
	static const uint8_t junk[] = { 0x40, 0, 0, 0 };

	/* CNG in u-law: found within the first cadence (0.5 s on) */
	CK(umfax_faxdetect_init(&f, 101) == 0);
	memset(&g, 0, sizeof g);
	r = feed(&f, &g, 8, cng, &at);
	CK(r == UMFAX_FAXDETECT_CNG_TONE);
	CK(at > 0.3 && at < 1.0);
	T_STREQ(umfax_faxdetect_name(r), "cng-tone", "%s", "name");
	CK(f.st.audio > 0 && f.st.events == 0);
	umfax_faxdetect_release(&f);

	/* a weak CNG (-25 dBm0), and a stream that begins in the middle of a
	 * 3 s pause: found at the next tone */
	T_CHECK(umfax_faxdetect_init(&f, 101) == 0, "%s", "init");
	memset(&g, 0, sizeof g);
	g.ts = 8000;    /* t = 1 s: in the pause */
	r = feed(&f, &g, 6, cng_weak, &at);
	CK(r == UMFAX_FAXDETECT_CNG_TONE);
	CK(at > 3.8 && at < 4.5);
	umfax_faxdetect_release(&f);

	/* CNG in A-law, starting after 2 s of speech */
	CK(umfax_faxdetect_init(&f, -1) == 0);
	memset(&g, 0, sizeof g);
	g.pt = 8;
	CK(feed(&f, &g, 2, speech, &at) == 0);
	r = feed(&f, &g, 4, cng, &at);
	CK(r == UMFAX_FAXDETECT_CNG_TONE);
	umfax_faxdetect_release(&f);

	/* no fax: speech, a steady 1300 Hz tone, short 1100 Hz bursts */
	CK(umfax_faxdetect_init(&f, 101) == 0);
	memset(&g, 0, sizeof g);
	CK(feed(&f, &g, 10, speech, &at) == 0);
	CK(feed(&f, &g, 5, tone1300, &at) == 0);
	CK(feed(&f, &g, 5, short1100, &at) == 0);
	CK(f.how == UMFAX_FAXDETECT_NONE);
	CK(f.st.audio == 20 * RATE / PKT);
	/* a DTMF event (5) and event 36 on another payload type: nothing */
	CK(event_pkt(&f, &g, 101, 5) == 0);
	CK(event_pkt(&f, &g, 100, 36) == 0);
	CK(f.st.events == 1 && f.st.other == 1);
	/* event 36 on the telephone-event type: fax */
	CK(event_pkt(&f, &g, 101, 36) == UMFAX_FAXDETECT_CNG_EVENT);
	T_STREQ(umfax_faxdetect_name(f.how), "cng-event", "%s", "name");
	/* not RTP */
	CK(umfax_faxdetect_packet(&f, junk, sizeof junk) == -1);
	CK(f.st.not_rtp == 1);
	umfax_faxdetect_release(&f);

	/* without a telephone-event type, events are not looked at */
	CK(umfax_faxdetect_init(&f, -1) == 0);
	memset(&g, 0, sizeof g);
	CK(event_pkt(&f, &g, 101, 36) == 0);
	umfax_faxdetect_release(&f);

	/* the event payload */
	CK(umfax_faxdetect_event(ev36, 4, &e, &end, &dur) == 0);
	CK(e == 36 && end == 1 && dur == 4000);
	CK(umfax_faxdetect_event(ev36, 3, &e, &end, &dur) == -1);

	/* SDP helpers */
	{
		static const char s1[] = "v=0\r\nm=audio 4000 RTP/AVP 0 96\r\na=rtpmap:0 PCMU/8000\r\n"
		    "a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16\r\n";
		static const char s2[] = "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
		static const char s3[] = "v=0\nm=audio 4000 RTP/AVP 8\na=silenceSupp:off - - - -\n";
		static const char s4[] = "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=X-fax\r\n";
		static const char s5[] = "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=fax\r\n";
		static const char s6[] = "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=faxy\r\na=silenceSupp:on - - - -\r\n";
		static const char s7[] = "v=0\r\nm=image 4002 udptl t38\r\na=X-fax\r\n";
		static const char s8[] = "a=rtpmap:101 telephone-event/8000";
		CK(umfax_faxdetect_sdp_te_pt(s1, strlen(s1)) == 96);
		CK(umfax_faxdetect_sdp_te_pt(s2, strlen(s2)) == -1);
		CK(umfax_faxdetect_sdp_te_pt(s8, strlen(s8)) == 101);
		CK(umfax_faxdetect_sdp_te_pt(s8, strlen(s8) - 1) == -1);
		CK(umfax_faxdetect_sdp_g711_fax(s1, strlen(s1)) == 0);
		CK(umfax_faxdetect_sdp_g711_fax(s3, strlen(s3)) == 1);
		CK(umfax_faxdetect_sdp_g711_fax(s4, strlen(s4)) == 1);
		CK(umfax_faxdetect_sdp_g711_fax(s5, strlen(s5)) == 1);
		CK(umfax_faxdetect_sdp_g711_fax(s6, strlen(s6)) == 0);
		CK(umfax_faxdetect_sdp_g711_fax(s7, strlen(s7)) == 0);
	}
	return T_DONE();
}
