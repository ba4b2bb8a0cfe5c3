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
	int ecm;
	int modems;               /* T30_SUPPORT_* offered by the receiver */
	double damage_at;         /* seconds into the call, 0 = none */
	double damage_len;
	const char *must_see;     /* a T.30 frame the damage must cause */
	int noise;                /* damage: 0 replaces the signal by loud noise,
	                             N adds noise of peak N */
	int want_status;          /* what the decoder must say */
	int last_page;            /* of the chart to send, -1 all */
};

static const struct scenario scenarios[] = {
	{ "ECM V.17, clean line", "itu/itu1.tif", 1, T30_SUPPORT_V17 | T30_SUPPORT_V29 | T30_SUPPORT_V27TER, 0, 0, NULL, 0, UMFAX_FAX_COMPLETE, -1 },
	{ "ECM V.17, 0.4 s dropout mid-page: PPR and retransmission", "itu/itu1.tif", 1,
	  T30_SUPPORT_V17 | T30_SUPPORT_V29 | T30_SUPPORT_V27TER, 16.0, 0.4, "PPR", 0, UMFAX_FAX_COMPLETE, -1 },
	{ "ECM V.29, two dropouts", "itu/itu2.tif", 1, T30_SUPPORT_V29 | T30_SUPPORT_V27TER, 15.0, 0.3, "PPR", 0, UMFAX_FAX_COMPLETE, -1 },
	/* The receiver keeps the cut page and confirms it; rows were damaged,
	 * so the decoder calls the fax incomplete. */
	{ "non-ECM V.17, dropout: page cut short, kept by the receiver", "itu/itu1.tif", 0,
	  T30_SUPPORT_V17, 14.0, 3.0, NULL, 0, UMFAX_FAX_INCOMPLETE, -1 },
	{ "ECM V.17, 3 pages, dropout on page 2", "itu/itutests.tif", 1,
	  T30_SUPPORT_V17, 45.0, 0.5, "PPR", 0, UMFAX_FAX_COMPLETE, 2 },
	{ "non-ECM V.29, 2 pages", "itu/itutests.tif", 0, T30_SUPPORT_V29, 0, 0, NULL, 0, UMFAX_FAX_COMPLETE, 1 },
	{ "ECM V.17, superfine B4", "generated/R8_154_B4.tif", 1, T30_SUPPORT_V17, 0, 0, NULL, 0,
	  UMFAX_FAX_COMPLETE, -1 },
	{ "non-ECM V.17, R16 superfine A4", "generated/R16_154_A4.tif", 0, T30_SUPPORT_V17, 0, 0, NULL, 0,
	  UMFAX_FAX_COMPLETE, -1 },
	{ "ECM V.17, 300x300 A3", "generated/R300_300_A3.tif", 1, T30_SUPPORT_V17, 0, 0, NULL, 0,
	  UMFAX_FAX_COMPLETE, -1 },
	{ "non-ECM V.27ter, clean", "itu/itu3.tif", 0, T30_SUPPORT_V27TER, 0, 0, NULL, 0, UMFAX_FAX_COMPLETE, -1 },
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

static void packet(struct umfax_g711call *c, int dir, uint16_t seq, uint32_t ts, double t, const int16_t *amp)
{
	uint8_t pkt[12 + 160];
	int i;

	memset(pkt, 0, 12);
	pkt[0] = 0x80;
	pkt[1] = 8;
	pkt[2] = (uint8_t) (seq >> 8);
	pkt[3] = (uint8_t) seq;
	pkt[4] = (uint8_t) (ts >> 24);
	pkt[5] = (uint8_t) (ts >> 16);
	pkt[6] = (uint8_t) (ts >> 8);
	pkt[7] = (uint8_t) ts;
	pkt[11] = (uint8_t) (dir + 1);
	for (i = 0; i < 160; i++)
		pkt[12 + i] = linear_to_alaw(amp[i]);
	if (umfax_g711call_packet(c, dir, t, pkt, sizeof(pkt)) != 0)
		packet_errors++;
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
	int16_t a[160], b[160];
	int step, tail = -1, i;
	uint16_t seq = 0;

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
	t30_set_tx_file(ts, chart, sc->last_page >= 0 ? 0 : -1, sc->last_page);
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

	/* At most 400 s of call. */
	for (step = 0; step < 400 * 50; step++) {
		double t = step * 0.02;

		fax_tx(snd, a, 160);
		fax_tx(rcv, b, 160);
		if (sc->damage_at > 0 && ((t >= sc->damage_at && t < sc->damage_at + sc->damage_len)
		    || (sc->ecm && sc->modems == (T30_SUPPORT_V29 | T30_SUPPORT_V27TER)
		        && t >= sc->damage_at + 6.0 && t < sc->damage_at + 6.0 + sc->damage_len))) {
			for (i = 0; i < 160; i++) {
				int nz = (int) ((i * 7919u + (unsigned) step * 104729u) % 20001u) - 10000;

				if (sc->noise)
					a[i] = saturate(a[i] + nz * sc->noise / 10000);
				else
					a[i] = (int16_t) nz;
			}
		}
		/* Both the receiver and the recording hear the line through
		 * G.711 A-law. */
		for (i = 0; i < 160; i++) {
			a[i] = alaw_to_linear(linear_to_alaw(a[i]));
			b[i] = alaw_to_linear(linear_to_alaw(b[i]));
		}
		fax_rx(rcv, a, 160);
		fax_rx(snd, b, 160);
		packet(c, 0, seq, (uint32_t) step * 160, 1000.0 + t, a);
		packet(c, 1, seq, (uint32_t) step * 160, 1000.0 + t, b);
		seq++;
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
