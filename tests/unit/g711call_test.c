/* g711call_test - the passive G.711 decoder against calls made here: two
 * spandsp fax terminals talk back to back in memory (a sender with an ITU
 * test chart, a receiver writing a TIFF), their audio is cut into RTP
 * packets and given to umfax_g711call as a recording of the call.  The
 * line can be damaged for a while (the receiver then asks for the ECM
 * frames again with PPR, or a non-ECM page is cut short): the decoder must
 * end with the very pages the receiver kept, pixel for pixel. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <spandsp.h>
#include <tiffio.h>

#include "g711call.h"
#include "t.h"

struct scenario {
	const char *name;
	const char *chart;        /* under data/tiff */
	int last_page;            /* of the chart to send; 0 = all */
	int ecm;
	int modems;               /* T30_SUPPORT_* offered by the receiver */
	double damage_at;         /* seconds into the call, 0 = none */
	double damage_len;
	int damage_twice;         /* a second dropout 6 s later */
	const char *must_see;     /* a T.30 frame the damage must cause */
	int want_status;          /* what the decoder must say */
	/* How the call was recorded. */
	int ulaw;                 /* PT 0 instead of 8 */
	int ptime;                /* samples per packet, default 160 */
	int vad;                  /* silence sent as sparse CN packets */
	int jitter;               /* packets swapped and duplicated */
	int echo;                 /* each side hears the other at -10 dB, 100 ms late */
};

#define ALL3 (T30_SUPPORT_V17 | T30_SUPPORT_V29 | T30_SUPPORT_V27TER)

static const struct scenario scenarios[] = {
	{ .name = "ECM V.17, clean line", .chart = "itu/itu1.tif", .ecm = 1, .modems = ALL3 },
	{ .name = "ECM V.17, 0.4 s dropout mid-page: PPR and retransmission", .chart = "itu/itu1.tif",
	  .ecm = 1, .modems = ALL3, .damage_at = 16.0, .damage_len = 0.4, .must_see = "PPR" },
	{ .name = "ECM V.29, two dropouts", .chart = "itu/itu2.tif", .ecm = 1,
	  .modems = T30_SUPPORT_V29 | T30_SUPPORT_V27TER, .damage_at = 15.0, .damage_len = 0.3,
	  .damage_twice = 1, .must_see = "PPR" },
	/* The receiver keeps the cut page and confirms it; rows were damaged,
	 * so the decoder calls the fax incomplete. */
	{ .name = "non-ECM V.17, dropout: page cut short, kept by the receiver", .chart = "itu/itu1.tif",
	  .modems = T30_SUPPORT_V17, .damage_at = 14.0, .damage_len = 3.0,
	  .want_status = UMFAX_FAX_INCOMPLETE },
	{ .name = "ECM V.17, 3 pages, dropout on page 2", .chart = "itu/itutests.tif", .last_page = 3,
	  .ecm = 1, .modems = T30_SUPPORT_V17, .damage_at = 45.0, .damage_len = 0.5, .must_see = "PPR" },
	{ .name = "non-ECM V.29, 2 pages", .chart = "itu/itutests.tif", .last_page = 2,
	  .modems = T30_SUPPORT_V29 },
	{ .name = "ECM V.17, superfine B4", .chart = "generated/R8_154_B4.tif", .ecm = 1,
	  .modems = T30_SUPPORT_V17 },
	{ .name = "non-ECM V.17, R16 superfine A4", .chart = "generated/R16_154_A4.tif",
	  .modems = T30_SUPPORT_V17 },
	{ .name = "ECM V.17, 300x300 A3", .chart = "generated/R300_300_A3.tif", .ecm = 1,
	  .modems = T30_SUPPORT_V17 },
	{ .name = "non-ECM V.27ter, clean", .chart = "itu/itu3.tif", .modems = T30_SUPPORT_V27TER },
	{ .name = "non-ECM V.17, 2 pages, u-law, ptime 10 ms, VAD with CN", .chart = "itu/itutests.tif",
	  .last_page = 2, .modems = ALL3, .ulaw = 1, .ptime = 80, .vad = 1 },
	{ .name = "ECM V.29, ptime 30 ms, reordered and duplicated packets, echo", .chart = "itu/itu4.tif",
	  .ecm = 1, .modems = T30_SUPPORT_V29, .ptime = 240, .jitter = 1, .echo = 1 },
	{ .name = "ECM V.17, PPR, with echo and VAD", .chart = "itu/itu1.tif", .ecm = 1, .modems = ALL3,
	  .damage_at = 16.0, .damage_len = 0.4, .must_see = "PPR", .echo = 1, .vad = 1 },
	{ .name = "non-ECM V.17, 2 pages, echo", .chart = "itu/itutests.tif", .last_page = 2,
	  .modems = ALL3, .echo = 1 },
};

struct logcount {
	char want[8];
	int seen;
	int lines;
};

static void frame_log(void *arg, int dir, double t, const char *text)
{
	struct logcount *lc = arg;
	size_t n = strlen(lc->want);

	(void) dir;
	(void) t;
	lc->lines++;
	if (n > 0 && strncmp(text, lc->want, n) == 0)
		lc->seen++;
	if (getenv("G711CALL_TEST_VERBOSE"))
		printf("  %.2f dir=%d %s\n", t, dir, text);
}

/* Same number of pages, same size, same decoded pixels. */
static int same_pixels(const char *a, const char *b, char *why, size_t n)
{
	TIFF *ta = TIFFOpen(a, "r"), *tb = TIFFOpen(b, "r");
	int ok = 0, page = 0;

	if (ta == NULL || tb == NULL) {
		snprintf(why, n, "cannot open %s", ta == NULL ? a : b);
		goto out;
	}
	for (;;) {
		uint32_t wa = 0, wb = 0, la = 0, lb = 0, row;
		tsize_t sl;
		tdata_t ba, bb;

		page++;
		TIFFGetField(ta, TIFFTAG_IMAGEWIDTH, &wa);
		TIFFGetField(tb, TIFFTAG_IMAGEWIDTH, &wb);
		TIFFGetField(ta, TIFFTAG_IMAGELENGTH, &la);
		TIFFGetField(tb, TIFFTAG_IMAGELENGTH, &lb);
		if (wa != wb || la != lb) {
			snprintf(why, n, "page %d: %ux%u vs %ux%u", page, wa, la, wb, lb);
			goto out;
		}
		sl = TIFFScanlineSize(ta);
		ba = _TIFFmalloc(sl);
		bb = _TIFFmalloc(sl);
		for (row = 0; row < la; row++) {
			if (TIFFReadScanline(ta, ba, row, 0) < 0 || TIFFReadScanline(tb, bb, row, 0) < 0
			    || memcmp(ba, bb, (size_t) sl) != 0) {
				snprintf(why, n, "page %d row %u differs", page, row);
				_TIFFfree(ba);
				_TIFFfree(bb);
				goto out;
			}
		}
		_TIFFfree(ba);
		_TIFFfree(bb);
		{
			int na = TIFFReadDirectory(ta), nb = TIFFReadDirectory(tb);

			if (na != nb) {
				snprintf(why, n, "page count differs after page %d", page);
				goto out;
			}
			if (!na)
				break;
		}
	}
	ok = 1;
out:
	if (ta)
		TIFFClose(ta);
	if (tb)
		TIFFClose(tb);
	return ok;
}

static int packet_errors;

/* Cuts one direction of the call into RTP packets, as a gateway would. */
struct recorder {
	struct umfax_g711call *c;
	const struct scenario *sc;
	int dir;
	int16_t buf[240];
	int fill;
	uint16_t seq;
	uint32_t ts;
	int count;                /* packets made */
	int quiet;                /* silent packets in a row */
	uint8_t held[12 + 240];
	size_t held_len;
	double held_t;
	int have_held;
};

static void rec_send(struct recorder *r, const uint8_t *pkt, size_t len, double t)
{
	if (umfax_g711call_packet(r->c, r->dir, t, pkt, len) != 0)
		packet_errors++;
}

static void rec_emit(struct recorder *r, double t)
{
	uint8_t pkt[12 + 240];
	size_t len;
	int i, n = r->fill, silent = 1;

	for (i = 0; i < n; i++)
		if (r->buf[i] > 64 || r->buf[i] < -64)
			silent = 0;
	r->fill = 0;
	memset(pkt, 0, 12);
	pkt[0] = 0x80;
	pkt[8] = 0x5A;
	pkt[11] = (uint8_t) (r->dir + 1);
	if (r->sc->vad && silent) {
		/* Silence: one CN packet now and then, nothing else. */
		if (r->quiet++ % 10 != 0) {
			r->ts += (uint32_t) n;
			return;
		}
		pkt[1] = 13;
		pkt[12] = 0x50;
		len = 13;
	} else {
		r->quiet = 0;
		pkt[1] = (uint8_t) (r->sc->ulaw ? 0 : 8);
		for (i = 0; i < n; i++)
			pkt[12 + i] = r->sc->ulaw ? linear_to_ulaw(r->buf[i]) : linear_to_alaw(r->buf[i]);
		len = 12 + (size_t) n;
	}
	pkt[2] = (uint8_t) (r->seq >> 8);
	pkt[3] = (uint8_t) r->seq;
	pkt[4] = (uint8_t) (r->ts >> 24);
	pkt[5] = (uint8_t) (r->ts >> 16);
	pkt[6] = (uint8_t) (r->ts >> 8);
	pkt[7] = (uint8_t) r->ts;
	r->seq++;
	r->ts += (uint32_t) n;
	r->count++;
	if (r->sc->jitter && r->count % 25 == 0 && !r->have_held) {
		memcpy(r->held, pkt, len);
		r->held_len = len;
		r->held_t = t;
		r->have_held = 1;
		return;
	}
	rec_send(r, pkt, len, t);
	if (r->sc->jitter && r->count % 40 == 0)
		rec_send(r, pkt, len, t + 0.001);
	if (r->have_held) {
		rec_send(r, r->held, r->held_len, t + 0.002);
		r->have_held = 0;
	}
}

static void rec_put(struct recorder *r, const int16_t *amp, int n, double t)
{
	int ptime = r->sc->ptime ? r->sc->ptime : 160, i;

	for (i = 0; i < n; i++) {
		r->buf[r->fill++] = amp[i];
		if (r->fill == ptime)
			rec_emit(r, t + (double) (i + 1) / 8000.0);
	}
}

static int end_code;

static void phase_e(t30_state_t *s, void *user, int code)
{
	(void) s;
	(void) user;
	end_code = code;
}

static void run(const struct scenario *sc, const char *shared)
{
	char chart[512], rxpath[128], ours[128], why[300];
	fax_state_t *snd, *rcv;
	t30_state_t *ts, *tr;
	struct umfax_g711call *c;
	struct umfax_faxinfo info;
	struct logcount lc;
	t30_stats_t st;
	int16_t a[160], b[160], ra[160], rb[160];
	static int16_t hist_a[800], hist_b[800];   /* 100 ms of each side, for echo */
	struct recorder rec[2];
	int step, tail = -1, i, hp = 0;

	snprintf(chart, sizeof(chart), "%s/data/tiff/%s", shared, sc->chart);
	snprintf(rxpath, sizeof(rxpath), "/tmp/g711call_test.%ld.rx.tif", (long) getpid());
	snprintf(ours, sizeof(ours), "/tmp/g711call_test.%ld.ours.tif", (long) getpid());
	if (access(chart, R_OK) != 0) {
		T_CHECK(0, "%s: test chart %s missing", sc->name, chart);
		return;
	}
	snd = fax_init(NULL, TRUE);
	rcv = fax_init(NULL, FALSE);
	ts = fax_get_t30_state(snd);
	tr = fax_get_t30_state(rcv);
	fax_set_transmit_on_idle(snd, TRUE);
	fax_set_transmit_on_idle(rcv, TRUE);
	t30_set_tx_ident(ts, "+1 555 0100");
	t30_set_tx_ident(tr, "+1 555 0199");
	t30_set_tx_file(ts, chart, sc->last_page > 0 ? 0 : -1, sc->last_page > 0 ? sc->last_page - 1 : -1);
	t30_set_rx_file(tr, rxpath, -1);
	t30_set_ecm_capability(ts, sc->ecm);
	t30_set_ecm_capability(tr, sc->ecm);
	t30_set_supported_modems(tr, sc->modems);
	for (i = 0; i < 2; i++) {
		t30_state_t *t30 = i ? tr : ts;

		t30_set_supported_resolutions(t30, T30_SUPPORT_STANDARD_RESOLUTION | T30_SUPPORT_FINE_RESOLUTION
		    | T30_SUPPORT_SUPERFINE_RESOLUTION | T30_SUPPORT_R8_RESOLUTION | T30_SUPPORT_R16_RESOLUTION
		    | T30_SUPPORT_300_300_RESOLUTION);
		t30_set_supported_image_sizes(t30, T30_SUPPORT_US_LETTER_LENGTH | T30_SUPPORT_US_LEGAL_LENGTH
		    | T30_SUPPORT_UNLIMITED_LENGTH | T30_SUPPORT_215MM_WIDTH | T30_SUPPORT_255MM_WIDTH
		    | T30_SUPPORT_303MM_WIDTH);
	}
	if (sc->ecm)
		t30_set_supported_compressions(tr, T30_SUPPORT_T4_1D_COMPRESSION
		    | T30_SUPPORT_T4_2D_COMPRESSION | T30_SUPPORT_T6_COMPRESSION);
	end_code = -1;
	t30_set_phase_e_handler(tr, phase_e, NULL);

	c = umfax_g711call_new(ours);
	memset(&lc, 0, sizeof(lc));
	snprintf(lc.want, sizeof(lc.want), "%s", sc->must_see ? sc->must_see : "");
	umfax_g711call_set_frame_log(c, frame_log, &lc);
	memset(rec, 0, sizeof(rec));
	memset(hist_a, 0, sizeof(hist_a));
	memset(hist_b, 0, sizeof(hist_b));
	for (i = 0; i < 2; i++) {
		rec[i].c = c;
		rec[i].sc = sc;
		rec[i].dir = i;
		rec[i].seq = (uint16_t) (1000 * i + 65000);   /* wraps during the call */
		rec[i].ts = 12345u * (unsigned) (i + 1);
	}

	/* At most 400 s of call. */
	for (step = 0; step < 400 * 50; step++) {
		double t = step * 0.02;

		fax_tx(snd, a, 160);
		fax_tx(rcv, b, 160);
		if (sc->damage_at > 0 && ((t >= sc->damage_at && t < sc->damage_at + sc->damage_len)
		    || (sc->damage_twice && t >= sc->damage_at + 6.0 && t < sc->damage_at + 6.0 + sc->damage_len))) {
			for (i = 0; i < 160; i++) {
				int nz = (int) ((i * 7919u + (unsigned) step * 104729u) % 20001u) - 10000;

				a[i] = (int16_t) nz;
			}
		}
		/* Both the receiver and the recording hear the line through
		 * G.711 A-law. */
		for (i = 0; i < 160; i++) {
			if (sc->ulaw) {
				a[i] = ulaw_to_linear(linear_to_ulaw(a[i]));
				b[i] = ulaw_to_linear(linear_to_ulaw(b[i]));
			} else {
				a[i] = alaw_to_linear(linear_to_alaw(a[i]));
				b[i] = alaw_to_linear(linear_to_alaw(b[i]));
			}
		}
		fax_rx(rcv, a, 160);
		fax_rx(snd, b, 160);
		/* The recording: with echo, each side also carries the other,
		 * weaker and later, as a 4-wire/2-wire hybrid does. */
		for (i = 0; i < 160; i++) {
			ra[i] = a[i];
			rb[i] = b[i];
			if (sc->echo) {
				ra[i] = saturate(a[i] + hist_b[(hp + i) % 800] * 3 / 10);
				rb[i] = saturate(b[i] + hist_a[(hp + i) % 800] * 3 / 10);
			}
			hist_a[(hp + i) % 800] = a[i];
			hist_b[(hp + i) % 800] = b[i];
		}
		hp = (hp + 160) % 800;
		rec_put(&rec[0], ra, 160, 1000.0 + t);
		rec_put(&rec[1], rb, 160, 1000.0 + t);
		if (tail < 0 && !t30_call_active(ts) && !t30_call_active(tr))
			tail = 50;
		if (tail >= 0 && tail-- == 0)
			break;
	}
	t30_get_transfer_statistics(tr, &st);
	T_CHECK(packet_errors == 0, "%s: %d packets refused", sc->name, packet_errors);
	packet_errors = 0;
	T_CHECK(umfax_g711call_finish(c, &info) == 0, "%s: finish", sc->name);
	fax_release(snd);
	fax_release(rcv);
	free(snd);
	free(rcv);

	T_CHECK(end_code == T30_ERR_OK, "%s: the receiver ended with %d", sc->name, end_code);
	T_CHECK(st.pages_rx >= 1, "%s: the receiver got %d pages", sc->name, st.pages_rx);
	T_CHECK(info.pages == st.pages_rx, "%s: %d pages, the receiver kept %d", sc->name, info.pages, st.pages_rx);
	T_CHECK(info.status == sc->want_status, "%s: status %d (%s)", sc->name, info.status, info.t30_result);
	T_CHECK(info.ecm == sc->ecm, "%s: ecm %d", sc->name, info.ecm);
	T_STREQ(info.remote_ident, "+1 555 0100", "%s: TSI", sc->name);
	T_STREQ(info.local_ident, "+1 555 0199", "%s: CSI", sc->name);
	if (sc->must_see)
		T_CHECK(lc.seen > 0, "%s: no %s heard: the damage did not do what the test is for", sc->name, sc->must_see);
	T_CHECK(same_pixels(ours, rxpath, why, sizeof(why)), "%s: %s", sc->name, why);
	printf("ok %s: %d pages, %s %d, %d log lines\n", sc->name, info.pages, info.modem, info.bit_rate, lc.lines);
	umfax_g711call_free(c);
	unlink(rxpath);
	unlink(ours);
}

int main(void)
{
	const char *shared = getenv("SHARED");
	size_t i;

	if (shared == NULL || *shared == '\0')
		shared = "../shared";
	TIFFSetWarningHandler(NULL);
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		run(&scenarios[i], shared);
	return T_DONE();
}
