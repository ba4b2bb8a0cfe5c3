/* t38dec.c - decode one recorded T.38 fax session with spandsp */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>
/* The private structures are needed for one thing: spandsp 0.0.6's
 * t30_release() does not free what it allocated for received NSF/NSS/NSC
 * and internet address frames, so umfax_t38dec_free does. */
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#include <spandsp.h>

#include "faxinfo.h"
#include "job.h"
#include "log.h"
#include "t30setup.h"
#include "t38dec.h"

#define CHUNK 160                 /* samples per clock step (20 ms) */
#define TAIL_SECONDS 60           /* clock run after the end of the capture */

struct umfax_t38dec {
	t38_terminal_state_t *term;
	t30_state_t *t30;
	t38_core_state_t *core;
	char *tiff_path;
	int started;
	double t0, now;           /* session start and the clock, capture time */
	double frac;              /* samples owed to the clock, < CHUNK */
	int done;
	int completion;           /* T30_ERR_* from phase E, -1 before */
	int bad_rows;             /* summed over pages */
	int pages_d;              /* phase D calls that confirmed a page */
	long ifps, bad_ifps;
	int ecm_frames;           /* ECM frames since the last PPS (for -v) */
	uint8_t dcs[32];          /* the sender's last DCS */
	int dcs_len;
	double t_end;             /* time of phase E */
	umfax_t38dec_frame_fn *frame_fn;
	void *frame_arg;
};

/* The terminal's answers go nowhere; it must not think they failed. */
static int tx_nowhere(t38_core_state_t *s, void *user, const uint8_t *buf, int len, int count)
{
	(void) s; (void) user; (void) buf; (void) len; (void) count;
	return 0;
}

static int phase_b(t30_state_t *s, void *user, int result)
{
	(void) s; (void) user; (void) result;
	return T30_ERR_OK;
}

static int phase_d(t30_state_t *s, void *user, int result)
{
	struct umfax_t38dec *d = user;
	t30_stats_t st;
	(void) result;
	t30_get_transfer_statistics(s, &st);
	d->bad_rows += st.bad_rows;
	d->pages_d++;
	return T30_ERR_OK;
}

static void phase_e(t30_state_t *s, void *user, int code)
{
	struct umfax_t38dec *d = user;
	(void) s;
	d->completion = code;
	d->t_end = d->now;
}

static void ident(char *dst, size_t n, const uint8_t *msg, int len)
{
	/* T.30 idents are sent last character first, padded with spaces */
	char raw[24];
	int k = 0;
	for (int i = len - 1; i >= 3 && k < 20; i--)
		raw[k++] = (char) msg[i];
	raw[k] = '\0';
	umfax_job_clean(dst, n, raw, (size_t) k);
}

char *umfax_t38dec_describe(char *dst, size_t n, const uint8_t *msg, int len)
{
	char id[24];
	if (len < 3) {
		snprintf(dst, n, "short frame (%d octets)", len);
		return dst;
	}
	uint8_t fcf = msg[2], fx = msg[2] & 0xfe;
	const char *name = t30_frametype(fcf);
	const char *what = "";
	if (fcf == T30_CSI || fcf == T30_CIG || fx == T30_TSI) {
		ident(id, sizeof(id), msg, len);
		snprintf(dst, n, "%s \"%s\" (%s's fax ident)", name, id,
		    fcf == T30_CSI ? "receiver" : "sender");
		return dst;
	}
	if (fx == T30_DCS) {
		int rate;
		const char *m = umfax_dcs_modem(msg, len, &rate);
		const char *res = "standard 204x98";
		if (len > 8 && (msg[5] & 0x80) && (msg[6] & 0x80) && (msg[7] & 0x80) && (msg[8] & 0x01))
			res = "superfine 204x391";
		else if (len > 4 && (msg[4] & 0x40))
			res = "fine 204x196";
		int w = len > 5 ? msg[5] & 0x03 : 0;
		snprintf(dst, n, "%s: sender chooses %s %d bit/s, %s, width %s, %s, %s", name, m, rate,
		    res, w == 1 ? "2048" : w == 2 ? "2432" : "1728", umfax_dcs_compression(msg, len),
		    umfax_dcs_ecm(msg, len) ? "ECM" : "no ECM");
		return dst;
	}
	if (fcf == T30_DIS)
		what = ": receiver announces what it can receive";
	else if (fcf == T30_NSF)
		what = ": receiver's vendor-specific facilities";
	else if (fx == T30_NSS)
		what = ": sender's vendor-specific set-up";
	else if (fx == T30_CFR)
		what = ": training good, ready to receive";
	else if (fx == T30_FTT)
		what = ": training failed, sender retrains";
	else if (fx == T30_MPS)
		what = ": page sent, more pages follow";
	else if (fx == T30_EOP)
		what = ": page sent, it was the last one";
	else if (fx == T30_EOM)
		what = ": page sent, new document follows";
	else if (fx == T30_PPS)
		what = ": ECM block sent";
	else if (fx == T30_PPR)
		what = ": ECM frames received damaged, asked again";
	else if (fx == T30_MCF)
		what = ": page received good";
	else if (fx == T30_RTP)
		what = ": page received, retrain";
	else if (fx == T30_RTN)
		what = ": page received damaged, retrain";
	else if (fx == T30_CTC)
		what = ": continue to correct";
	else if (fx == T30_RR)
		what = ": receiver ready?";
	else if (fx == T30_CRP)
		what = ": command repeat requested";
	else if (fx == T30_DCN)
		what = ": disconnect, end of the fax call";
	snprintf(dst, n, "%s%s", name, what);
	return dst;
}

static void frame_handler(t30_state_t *s, void *user, int direction, const uint8_t msg[], int len)
{
	struct umfax_t38dec *d = user;
	(void) s;
	if (direction && len >= 3 && ((msg[2] & 0xfe) == T30_NSF || (msg[2] & 0xfe) == T30_NSS)) {
		/* spandsp 0.0.6 overwrites its copy of a repeated NSF/NSS/NSC without
		 * freeing the old one; this handler runs just before it stores it. */
		t30_exchanged_info_t *ri = &d->t30->rx_info;
		free(ri->nsf);
		free(ri->nss);
		free(ri->nsc);
		ri->nsf = ri->nss = ri->nsc = NULL;
		ri->nsf_len = ri->nss_len = ri->nsc_len = 0;
	}
	if (direction && len >= 3 && (msg[2] & 0xfe) == 0x82 && len <= (int) sizeof(d->dcs)) {
		memcpy(d->dcs, msg, (size_t) len);
		d->dcs_len = len;
	}
	if (d->frame_fn) {
		char text[256], line[300];
		uint8_t fx = len >= 3 ? msg[2] & 0xfe : 0;
		char phase = 'B';
		if (fx == T30_MPS || fx == T30_EOP || fx == T30_EOM || fx == T30_PPS || fx == T30_PPR ||
		    fx == T30_MCF || fx == T30_RTP || fx == T30_RTN || fx == T30_CTC || fx == T30_RR ||
		    fx == (T30_PRI_EOP & 0xfe) || fx == (T30_PRI_MPS & 0xfe) || fx == (T30_PRI_EOM & 0xfe))
			phase = 'D';
		else if (fx == T30_DCN)
			phase = 'E';
		if (fx == (T4_FCD & 0xfe) || fx == (T4_RCP & 0xfe)) {
			if (direction)
				d->ecm_frames++;     /* ECM image frames: counted, shown at PPS */
			return;
		}
		umfax_t38dec_describe(text, sizeof(text), msg, len);
		if (fx == T30_PPS && direction) {
			size_t tl = strlen(text);
			snprintf(text + tl, sizeof(text) - tl, " (%d frames)", d->ecm_frames);
			d->ecm_frames = 0;
		}
		snprintf(line, sizeof(line), "phase %c  %s", phase, text);
		d->frame_fn(d->frame_arg, d->now - d->t0, direction ? 1 : 0, line);
		if (direction == 0 && fx == T30_CFR) {
			int rate;
			const char *m = umfax_dcs_modem(d->dcs, d->dcs_len, &rate);
			snprintf(line, sizeof(line), "phase C  page data follows (%s %d bit/s%s)", m, rate,
			    umfax_dcs_ecm(d->dcs, d->dcs_len) ? ", ECM blocks" : "");
			d->frame_fn(d->frame_arg, d->now - d->t0, 1, line);
		}
	}
}

static void setup_log(logging_state_t *ls)
{
	if (!ls)
		return;
	span_log_set_level(ls, umfax_log_get_verbose() > 1
	    ? SPAN_LOG_FLOW | SPAN_LOG_SHOW_TAG | SPAN_LOG_SHOW_PROTOCOL
	    : SPAN_LOG_WARNING | SPAN_LOG_SHOW_PROTOCOL);
	span_log_set_message_handler(ls, umfax_log_spandsp);
}

struct umfax_t38dec *umfax_t38dec_new(const char *tiff_path, const struct umfax_t38dec_conf *c)
{
	struct umfax_t38dec *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->completion = -1;
	if (!(d->tiff_path = strdup(tiff_path))) {
		free(d);
		return NULL;
	}
	d->term = t38_terminal_init(NULL, FALSE, tx_nowhere, d);
	if (!d->term) {
		free(d->tiff_path);
		free(d);
		return NULL;
	}
	d->core = t38_terminal_get_t38_core_state(d->term);
	d->t30 = t38_terminal_get_t30_state(d->term);
	t38_set_t38_version(d->core, c->version < 0 ? 0 : c->version > 3 ? 3 : c->version);
	if (c->transport == UMFAX_T38_TCP) {
		t38_set_data_transport_protocol(d->core, T38_TRANSPORT_TCP);
		t38_terminal_set_config(d->term, T38_TERMINAL_OPTION_NO_PACING | T38_TERMINAL_OPTION_NO_INDICATORS);
	} else {
		t38_set_data_transport_protocol(d->core, T38_TRANSPORT_UDPTL);
		t38_terminal_set_config(d->term, 0);
	}
	if (c->max_datagram > 0)
		t38_set_max_datagram_size(d->core, c->max_datagram);
	t38_terminal_set_tep_mode(d->term, FALSE);
	t38_terminal_set_fill_bit_removal(d->term, c->fill_bit_removal ? TRUE : FALSE);
	t38_set_sequence_number_handling(d->core, TRUE);

	struct umfax_t30_conf tc = {
		.calling = 0, .tiff = d->tiff_path, .local_ident = c->local_ident,
		.ecm = 1, .fastest = 14400,
		.phase_b = phase_b, .phase_d = phase_d, .phase_e = phase_e, .frame = frame_handler,
		.user = d,
	};
	umfax_t30_setup(d->t30, &tc);
	setup_log(t38_terminal_get_logging_state(d->term));
	setup_log(t38_core_get_logging_state(d->core));
	setup_log(t30_get_logging_state(d->t30));
	return d;
}

void umfax_t38dec_set_frame_log(struct umfax_t38dec *d, umfax_t38dec_frame_fn *fn, void *arg)
{
	d->frame_fn = fn;
	d->frame_arg = arg;
}

static void advance(struct umfax_t38dec *d, double samples)
{
	d->frac += samples;
	while (d->frac >= CHUNK) {
		d->frac -= CHUNK;
		if (t38_terminal_send_timeout(d->term, CHUNK))
			d->done = 1;
	}
}

void umfax_t38dec_clock(struct umfax_t38dec *d, double t)
{
	if (!d->started) {
		d->started = 1;
		d->t0 = d->now = t;
		return;
	}
	if (!(t > d->now) || !isfinite(t))
		return;
	double dt = t - d->now;
	d->now = t;
	if (dt > 3600)            /* a clock jump in the capture: do not spin for hours */
		dt = 3600;
	advance(d, dt * 8000.0);
}

int umfax_t38dec_ifp(struct umfax_t38dec *d, const uint8_t *ifp, size_t len, uint16_t seq)
{
	d->ifps++;
	if (len == 0 || len > 65535) {
		d->bad_ifps++;
		return -1;
	}
	if (t38_core_rx_ifp_packet(d->core, ifp, (int) len, seq) < 0) {
		d->bad_ifps++;
		return -1;
	}
	return 0;
}

int umfax_t38dec_done(const struct umfax_t38dec *d)
{
	return d->done || d->completion >= 0;
}

long umfax_t38dec_ifps(const struct umfax_t38dec *d) { return d->ifps; }
long umfax_t38dec_bad_ifps(const struct umfax_t38dec *d) { return d->bad_ifps; }

int umfax_t38dec_tiff_info(const char *path, struct umfax_faxinfo *info)
{
	TIFFErrorHandler oe = TIFFSetErrorHandler(NULL), ow = TIFFSetWarningHandler(NULL);
	TIFF *tif = TIFFOpen(path, "r");
	int rc = -1;
	info->pages = 0;
	if (tif) {
		uint32_t w = 0, h = 0;
		float xr = 0, yr = 0;
		uint16_t unit = RESUNIT_INCH;
		TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
		TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
		TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xr);
		TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yr);
		TIFFGetField(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
		if (unit == RESUNIT_CENTIMETER) {
			xr *= 2.54f;
			yr *= 2.54f;
		}
		info->width = (int) w;
		info->length = (int) h;
		info->x_res = (int) lrintf(xr);
		info->y_res = (int) lrintf(yr);
		int n = 0;
		do
			n++;
		while (n < 100000 && TIFFReadDirectory(tif));
		info->pages = n;
		TIFFClose(tif);
		rc = 0;
	}
	TIFFSetErrorHandler(oe);
	TIFFSetWarningHandler(ow);
	return rc;
}

int umfax_t38dec_finish(struct umfax_t38dec *d, struct umfax_faxinfo *info)
{
	memset(info, 0, sizeof(*info));
	/* Let the T.30 timers run out as they would have live. */
	for (int i = 0; i < TAIL_SECONDS * 50 && !umfax_t38dec_done(d) && t30_call_active(d->t30); i++) {
		d->now += (double) CHUNK / 8000.0;
		advance(d, CHUNK);
	}
	if (d->completion < 0)
		t30_terminate(d->t30);       /* closes the TIFF */

	t30_stats_t st;
	t30_get_transfer_statistics(d->t30, &st);
	int rate;
	const char *m = umfax_dcs_modem(d->dcs, d->dcs_len, &rate);
	snprintf(info->modem, sizeof(info->modem), "%s", m);
	info->bit_rate = rate ? rate : st.bit_rate;
	info->ecm = d->dcs_len ? umfax_dcs_ecm(d->dcs, d->dcs_len) : st.error_correcting_mode != 0;
	snprintf(info->compression, sizeof(info->compression), "%s",
	    d->dcs_len ? umfax_dcs_compression(d->dcs, d->dcs_len) : "");
	const char *tsi = t30_get_rx_ident(d->t30);
	if (tsi)
		umfax_job_clean(info->remote_ident, sizeof(info->remote_ident), tsi, strlen(tsi));
	const char *csi = t30_get_tx_ident(d->t30);
	if (csi)
		umfax_job_clean(info->local_ident, sizeof(info->local_ident), csi, strlen(csi));
	info->t30_code = d->completion >= 0 ? d->completion : T30_ERR_CALLDROPPED;
	snprintf(info->t30_result, sizeof(info->t30_result), "%s",
	    t30_completion_code_to_str(info->t30_code));
	info->bad_rows = d->bad_rows;
	info->duration = (d->completion >= 0 ? d->t_end : d->now) - d->t0;
	if (info->duration < 0)
		info->duration = 0;

	FILE *fp = fopen(d->tiff_path, "rb");
	int have_file = fp != NULL;
	if (fp)
		fclose(fp);
	if (have_file && umfax_t38dec_tiff_info(d->tiff_path, info) < 0) {
		info->status = UMFAX_FAX_ERROR;
		return -1;
	}
	if (info->pages == 0)
		info->status = UMFAX_FAX_NO_PAGES;
	else if (d->completion == T30_ERR_OK && d->bad_rows == 0)
		info->status = UMFAX_FAX_COMPLETE;
	else
		info->status = UMFAX_FAX_INCOMPLETE;
	return 0;
}

void umfax_t38dec_free(struct umfax_t38dec *d)
{
	if (!d)
		return;
	t30_exchanged_info_t *ri = &d->t30->rx_info;
	free(ri->nsf);
	free(ri->nss);
	free(ri->nsc);
	free(ri->tsa);
	free(ri->ira);
	free(ri->cia);
	free(ri->isp);
	free(ri->csa);
	memset(ri, 0, sizeof(*ri));
	t38_terminal_free(d->term);
	free(d->tiff_path);
	free(d);
}
