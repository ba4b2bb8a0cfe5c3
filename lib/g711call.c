/* g711call.c - passive decoding of a recorded G.711 fax call.
 *
 * Each direction has an RTP timeline (rtp.c) feeding a V.21 channel 2 FSK
 * receiver with an HDLC receiver (T.30 control frames) and a CNG/CED tone
 * detector.  The direction that sends DCS is the sender: its fast modem
 * (V.27ter, V.29 or V.17, as the DCS says) runs from then on.  Its first
 * trained burst after a DCS is TCF; bursts after CFR (or a second burst) are
 * page data, given bit by bit to a T.4 receiver (non-ECM) or to an HDLC
 * receiver collecting the ECM frames of a block, which goes to the T.4
 * receiver when the receiving side confirms the block (MCF after PPS), or
 * when the next PPS shows the sender moved on.  Nothing is ever sent: the
 * recorded receiver's answers (CFR, MCF, PPR, RTN) are listened to and
 * followed, so the TIFF holds the pages the receiver kept.
 *
 * Real recordings need some care: a frame heard on one direction shortly
 * after the same frame on the other is line echo and is ignored; a failed
 * fast-modem training (often on such an echo) restarts the modem at once;
 * lost packets are bridged with the modems' fill-in, pauses (VAD) with
 * silence; a recording with both sides mixed into one direction works too. */
#include "g711call.h"
#include "rtp.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <spandsp.h>

#define RATE 8000
#define CHUNK 160
#define FAST_STEP 40              /* samples per fast-modem call */
#define SILENCE_FED (2 * RATE)     /* of a long silence, this much is fed */
#define ECM_MAX_FRAMES 256
#define ECM_MAX_OCTETS 256
#define ECHO_FRAMES 8
#define ECHO_BYTES 48
#define ECHO_WINDOW 1.0           /* seconds an echo may lag its original */

enum fast { FAST_NONE, FAST_V27TER, FAST_V29, FAST_V17 };
enum phase { PH_IDLE, PH_TCF, PH_IMAGE };

struct umfax_g711call;

struct ecm_block {
	uint8_t data[ECM_MAX_FRAMES][ECM_MAX_OCTETS];
	int16_t len[ECM_MAX_FRAMES];   /* -1: not received */
	int frames;               /* frames received */
	int pps;                  /* a PPS for this block was heard */
	int fcf2, page, block, count;
};

struct dir {
	struct umfax_g711call *c;
	int dir;
	struct umfax_rtp_rx rtp;
	fsk_rx_state_t *fsk;
	hdlc_rx_state_t *v21;
	modem_connect_tones_rx_state_t *cng, *ced;
	int fast;                 /* enum fast running on this direction */
	v27ter_rx_state_t *v27;
	v29_rx_state_t *v29;
	v17_rx_state_t *v17;
	hdlc_rx_state_t *ecm;
	int trained;              /* fast modem trained, burst in progress */
	int rate;                 /* of the fast modem */
	int retrain;              /* training failed: restart the modem */
	int v17_can_short;        /* V.17 trained since the DCS: short train possible */
	int v17_short;            /* the V.17 receiver expects a short train */
	int burst_is_tcf;
	double t;                 /* capture time of the packet being played */
	unsigned long long samples;
	/* Recent frames, to recognise their echo on the other direction. */
	struct {
		double t;
		int len;
		uint8_t msg[ECHO_BYTES];
	} recent[ECHO_FRAMES];
	int recent_next;
	int frames;               /* T.30 frames heard on this direction */
};

struct umfax_g711call {
	char *path;
	struct dir d[2];
	void (*log_fn)(void *arg, int dir, double t, const char *text);
	void *log_arg;

	int is_fax;
	int tones;                /* CNG heard */
	int ced;                  /* 2100 Hz heard */
	int frames;               /* good T.30 frames */
	double t_start, t_end;

	/* From the DCS. */
	int sender;               /* direction sending the pages, -1 unknown */
	int have_dcs;
	int fast;
	int bit_rate;
	int ecm;
	int encoding;             /* T4_COMPRESSION_ITU_* */
	int width;
	int x_ppm, y_ppm;
	char dcs_text[96];

	int phase;
	int bursts_since_dcs;

	/* T.4 output. */
	t4_rx_state_t *t4;
	int t4_failed;
	int page_open;
	int page_data_done;       /* non-ECM: page data ended (RTC or carrier) */
	int page_cut;             /* non-ECM: ended without RTC */
	int pages_rejected;       /* non-ECM pages answered with RTN/PIN */
	int page_broken;          /* T.6 data lost: rest of the page dropped */
	int pages;
	int first_width, first_length;
	int bad_rows;
	int pages_cut;            /* pages that ended without RTC / incomplete block */

	/* ECM: the block being collected, and one put aside when a PPS went
	 * unanswered (as far as we heard) and frames came again: those may be
	 * a retransmission or the next block, which the next PPS tells. */
	struct ecm_block cur, prev;
	int have_prev;
	int ppr_heard;            /* PPR after the pending PPS */
	int committed, last_page, last_block;   /* the last block given to T.4 */

	/* Post-page state. */
	int last_post;            /* last post-page message (FCF without X), 0 none */
	int confirmed_last;       /* MCF seen after an EOP (or PPS-EOP) */
	int dcn;
	int finished;             /* umfax_g711call_finish was called */

	char tsi[24];
	char csi[24];
};

/* ---- small helpers ------------------------------------------------------ */

static void logf_(struct umfax_g711call *c, int dir, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void logf_(struct umfax_g711call *c, int dir, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	double t = (dir >= 0 && dir < 2) ? c->d[dir].t : 0.0;

	if (c->log_fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->log_fn(c->log_arg, dir, t, buf);
}

static uint8_t bitrev8(uint8_t x)
{
	x = (uint8_t) (((x & 0xF0) >> 4) | ((x & 0x0F) << 4));
	x = (uint8_t) (((x & 0xCC) >> 2) | ((x & 0x33) << 2));
	x = (uint8_t) (((x & 0xAA) >> 1) | ((x & 0x55) << 1));
	return x;
}

/* T.30 identities are sent last character first. */
static void decode_ident(char *dst, size_t n, const uint8_t *msg, int len)
{
	char tmp[24];
	int i, k = 0, end;

	for (i = len - 1; i >= 3 && k < 20; i--) {
		int ch = msg[i];

		tmp[k++] = (ch >= 0x20 && ch < 0x7F && ch != '"' && ch != '\\') ? (char) ch : '?';
	}
	tmp[k] = '\0';
	for (i = 0; tmp[i] == ' '; i++)
		;
	end = k;
	while (end > i && tmp[end - 1] == ' ')
		end--;
	tmp[end] = '\0';
	snprintf(dst, n, "%s", tmp + i);
}

static int ppm_to_dpi(int ppm)
{
	return (int) floor(ppm * 0.0254 + 0.5);
}

static const char *fast_name(int f)
{
	switch (f) {
	case FAST_V27TER: return "V.27ter";
	case FAST_V29: return "V.29";
	case FAST_V17: return "V.17";
	}
	return "none";
}

static const char *enc_name(int e)
{
	switch (e) {
	case T4_COMPRESSION_ITU_T4_1D: return "MH";
	case T4_COMPRESSION_ITU_T4_2D: return "MR";
	case T4_COMPRESSION_ITU_T6: return "MMR";
	}
	return "?";
}

/* The modem and bit rate named by bits 11-14 of a DCS or CTC. */
static int dcs_modem(uint8_t octet2, int *rate)
{
	switch (octet2 & 0x3C) {
	case 0x00: *rate = 2400; return FAST_V27TER;
	case 0x08: *rate = 4800; return FAST_V27TER;
	case 0x04: *rate = 9600; return FAST_V29;
	case 0x0C: *rate = 7200; return FAST_V29;
	case 0x20: *rate = 14400; return FAST_V17;
	case 0x28: *rate = 12000; return FAST_V17;
	case 0x24: *rate = 9600; return FAST_V17;
	case 0x2C: *rate = 7200; return FAST_V17;
	}
	*rate = 0;
	return FAST_NONE;
}

/* ---- T.4 pages ------------------------------------------------------------ */

static int page_start(struct umfax_g711call *c)
{
	if (c->page_open)
		return 0;
	if (c->t4 == NULL) {
		if (c->t4_failed)
			return -1;
		/* spandsp 0.0.6's t4_rx_init leaks its state when it cannot
		 * create the file: find that out first. */
		int fd = open(c->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
		c->t4 = fd < 0 ? NULL : t4_rx_init(NULL, c->path, T4_COMPRESSION_ITU_T4_2D);
		if (c->t4 == NULL) {
			c->t4_failed = 1;
			logf_(c, c->sender, "cannot create %s", c->path);
			return -1;
		}
	}
	t4_rx_set_rx_encoding(c->t4, c->encoding);
	t4_rx_set_x_resolution(c->t4, c->x_ppm);
	t4_rx_set_y_resolution(c->t4, c->y_ppm);
	t4_rx_set_image_width(c->t4, c->width);
	t4_rx_set_dcs(c->t4, c->dcs_text);
	if (c->tsi[0])
		t4_rx_set_far_ident(c->t4, c->tsi);
	if (t4_rx_start_page(c->t4) < 0)
		return -1;
	c->page_open = 1;
	c->page_broken = 0;
	return 0;
}

static void page_end(struct umfax_g711call *c, int cut)
{
	t4_stats_t st;

	if (!c->page_open)
		return;
	c->page_open = 0;
	t4_rx_end_page(c->t4);
	memset(&st, 0, sizeof(st));
	t4_rx_get_transfer_statistics(c->t4, &st);
	if (st.length <= 0) {
		logf_(c, c->sender, "page without rows dropped");
		return;
	}
	c->pages++;
	if (c->pages == 1) {
		c->first_width = st.width;
		c->first_length = st.length;
	}
	c->bad_rows += st.bad_rows;
	if (cut)
		c->pages_cut++;
	c->t_end = c->d[c->sender >= 0 ? c->sender : 0].t;
	logf_(c, c->sender, "page %d %dx%d, %d bad rows%s", c->pages, st.width, st.length,
	    st.bad_rows, cut ? ", cut short" : "");
}

/* A non-ECM page begins.  The page before it ends here if no answer to
 * it was heard; the page is kept: it was received. */
static void nonecm_page_begin(struct umfax_g711call *c)
{
	if (c->page_open)
		page_end(c, c->page_cut);
	if (page_start(c) == 0) {
		c->page_data_done = 0;
		c->page_cut = 0;
	}
}

/* The data of a non-ECM page ended; it is written when the receiver
 * answers MCF/RTP, or dropped when it answers RTN (the sender then
 * retrains and may send it again), as the recorded receiver did. */
static void nonecm_data_end(struct umfax_g711call *c, int cut)
{
	if (!c->page_open || c->page_data_done)
		return;
	c->page_data_done = 1;
	c->page_cut = cut;
}

/* ---- ECM blocks ----------------------------------------------------------- */

static void block_reset(struct ecm_block *b)
{
	int i;

	for (i = 0; i < ECM_MAX_FRAMES; i++)
		b->len[i] = -1;
	b->frames = 0;
	b->pps = 0;
}

static int block_missing(const struct ecm_block *b, int count)
{
	int i, miss = 0;

	for (i = 0; i < count && i < ECM_MAX_FRAMES; i++)
		if (b->len[i] < 0)
			miss++;
	return miss;
}

static int is_end_of_page(int fcf2)
{
	switch (fcf2 & 0xFE) {
	case T30_MPS: case T30_EOP: case T30_EOM:
	case T30_PRI_MPS: case T30_PRI_EOP: case T30_PRI_EOM:
		return 1;
	}
	return 0;
}

/* Give block B to the T.4 receiver, end the page if its PPS said so, and
 * empty it. */
static void block_commit(struct umfax_g711call *c, struct ecm_block *b)
{
	int i, n, miss;

	n = b->pps ? b->count : 0;
	if (!b->pps) {
		/* No PPS heard: take every frame we have. */
		for (i = 0; i < ECM_MAX_FRAMES; i++)
			if (b->len[i] >= 0)
				n = i + 1;
	}
	if (n == 0) {
		block_reset(b);
		return;
	}
	miss = block_missing(b, n);
	if (b->pps) {
		c->committed = 1;
		c->last_page = b->page;
		c->last_block = b->block;
	}
	if (page_start(c) == 0) {
		for (i = 0; i < n && !c->page_broken; i++) {
			if (b->len[i] > 0)
				t4_rx_put_chunk(c->t4, b->data[i], b->len[i]);
			/* T.6 has no line sync: after a gap the rest of the
			 * page would decode to noise, so it is left out. */
			else if (b->len[i] < 0 && c->encoding == T4_COMPRESSION_ITU_T6)
				c->page_broken = 1;
		}
		logf_(c, c->sender, "block %d frames, %d missing", n, miss);
		if (miss)
			c->pages_cut++;
		if (!b->pps || is_end_of_page(b->fcf2))
			page_end(c, 0);
	}
	block_reset(b);
}

/* The receiver confirmed the pending block (or we decided it did). */
static void ecm_commit(struct umfax_g711call *c)
{
	if (c->have_prev) {
		block_commit(c, &c->prev);
		c->have_prev = 0;
	}
	block_commit(c, &c->cur);
	c->ppr_heard = 0;
}

/* A fast burst of ECM frames begins. */
static void ecm_burst(struct umfax_g711call *c)
{
	if (!c->cur.pps)
		return;              /* still the same block */
	if (c->ppr_heard)
		return;              /* a retransmission the receiver asked for */
	if (block_missing(&c->cur, c->cur.count) == 0) {
		/* Complete here, nobody heard asking for more: confirmed. */
		ecm_commit(c);
		return;
	}
	/* Incomplete and no answer heard: keep it aside until the next PPS
	 * says whether these frames are its retransmission. */
	if (c->have_prev)
		block_commit(c, &c->prev);
	memcpy(&c->prev, &c->cur, sizeof(c->prev));
	c->have_prev = 1;
	block_reset(&c->cur);
}

/* A PPS: returns 0 if it is a repeat for a block already given to T.4. */
static int ecm_pps(struct umfax_g711call *c, int fcf2, int page, int block, int count)
{
	int i;

	if (c->committed && c->last_page == page && c->last_block == block) {
		/* The sender missed the confirmation and repeats itself; any
		 * frames it sent again belong to that block. */
		block_reset(&c->cur);
		return 0;
	}
	/* After a retransmission the frame count is that of the burst, not
	 * of the block: the block has as many frames as its first PPS said. */
	if (c->cur.pps && c->cur.page == page && c->cur.block == block && c->cur.count > count)
		count = c->cur.count;
	if (c->have_prev) {
		if (c->prev.page == page && c->prev.block == block) {
			if (c->prev.count > count)
				count = c->prev.count;
			/* The frames since were a retransmission: merge. */
			for (i = 0; i < ECM_MAX_FRAMES; i++) {
				if (c->cur.len[i] < 0 && c->prev.len[i] >= 0) {
					memcpy(c->cur.data[i], c->prev.data[i], (size_t) c->prev.len[i]);
					c->cur.len[i] = c->prev.len[i];
					c->cur.frames++;
				}
			}
		} else {
			block_commit(c, &c->prev);
		}
		c->have_prev = 0;
	}
	c->cur.pps = 1;
	c->cur.fcf2 = fcf2;
	c->cur.page = page;
	c->cur.block = block;
	c->cur.count = count;
	c->ppr_heard = 0;
	return 1;
}

static void ecm_frame(void *user, const uint8_t *msg, int len, int ok)
{
	struct dir *d = user;
	struct umfax_g711call *c = d->c;
	int fno;

	if (len < 0 || !ok || !d->trained || d->burst_is_tcf)
		return;
	if (len < 3 || msg[0] != 0xFF)
		return;
	if ((msg[2] & 0xFE) == T4_FCD && len >= 4 && len - 4 <= ECM_MAX_OCTETS) {
		fno = msg[3];
		if (c->cur.len[fno] < 0)
			c->cur.frames++;
		memcpy(c->cur.data[fno], msg + 4, (size_t) (len - 4));
		c->cur.len[fno] = (int16_t) (len - 4);
	}
}

/* ---- fast modems ---------------------------------------------------------- */

static void burst_start(struct dir *d)
{
	struct umfax_g711call *c = d->c;

	d->trained = 1;
	c->bursts_since_dcs++;
	if (c->phase == PH_TCF && c->bursts_since_dcs == 1) {
		d->burst_is_tcf = 1;
		logf_(c, d->dir, "training %s %d ok (TCF)", fast_name(d->fast), c->bit_rate);
		return;
	}
	d->burst_is_tcf = 0;
	c->phase = PH_IMAGE;
	logf_(c, d->dir, "training %s %d ok (image data)", fast_name(d->fast), c->bit_rate);
	if (c->ecm) {
		ecm_burst(c);
		if (d->ecm == NULL)
			d->ecm = hdlc_rx_init(NULL, FALSE, TRUE, 5, ecm_frame, d);
		else
			hdlc_rx_restart(d->ecm);
	} else {
		nonecm_page_begin(c);
	}
}

static void burst_end(struct dir *d)
{
	struct umfax_g711call *c = d->c;

	if (!d->trained)
		return;
	d->trained = 0;
	if (!c->ecm && !d->burst_is_tcf)
		nonecm_data_end(c, 1);
	d->burst_is_tcf = 0;
}

static void fast_put_bit(void *user, int bit)
{
	struct dir *d = user;
	struct umfax_g711call *c = d->c;

	if (bit < 0) {
		switch (bit) {
		case SIG_STATUS_TRAINING_SUCCEEDED:
			if (d->fast == FAST_V17)
				d->v17_can_short = 1;
			burst_start(d);
			break;
		case SIG_STATUS_TRAINING_FAILED:
			/* Often an echo of the other side's V.21 in front of the
			 * training: try again at once rather than waiting for
			 * the carrier to drop, which may not happen before the
			 * real training has gone by. */
			d->retrain = 1;
			break;
		case SIG_STATUS_CARRIER_DOWN:
			burst_end(d);
			break;
		}
		if (d->ecm != NULL && (bit == SIG_STATUS_CARRIER_DOWN))
			hdlc_rx_put_bit(d->ecm, bit);
		return;
	}
	if (!d->trained || d->burst_is_tcf)
		return;
	if (c->ecm) {
		if (d->ecm != NULL)
			hdlc_rx_put_bit(d->ecm, bit);
	} else if (c->page_open && !c->page_data_done) {
		if (t4_rx_put_bit(c->t4, bit))
			nonecm_data_end(c, 0);
	}
}

static void fast_start(struct dir *d, int fast, int rate)
{
	d->trained = 0;
	d->burst_is_tcf = 0;
	d->fast = fast;
	d->rate = rate;
	d->retrain = 0;
	d->v17_can_short = 0;
	d->v17_short = 0;
	switch (fast) {
	case FAST_V27TER:
		if (d->v27 == NULL)
			d->v27 = v27ter_rx_init(NULL, rate, fast_put_bit, d);
		else
			v27ter_rx_restart(d->v27, rate, FALSE);
		break;
	case FAST_V29:
		if (d->v29 == NULL)
			d->v29 = v29_rx_init(NULL, rate, fast_put_bit, d);
		else
			v29_rx_restart(d->v29, rate, FALSE);
		break;
	case FAST_V17:
		if (d->v17 == NULL)
			d->v17 = v17_rx_init(NULL, rate, fast_put_bit, d);
		else
			v17_rx_restart(d->v17, rate, FALSE);
		break;
	}
}

/* Restart the fast receiver after a failed training (V.17: with a short
 * train once it has trained since the DCS). */
static void fast_retrain(struct dir *d)
{
	d->retrain = 0;
	switch (d->fast) {
	case FAST_V27TER:
		v27ter_rx_restart(d->v27, d->rate, FALSE);
		break;
	case FAST_V29:
		v29_rx_restart(d->v29, d->rate, FALSE);
		break;
	case FAST_V17:
		d->v17_short = d->v17_can_short;
		v17_rx_restart(d->v17, d->rate, d->v17_short);
		break;
	}
}

/* ---- T.30 frames ------------------------------------------------------------ */

static void decode_dcs(struct umfax_g711call *c, int dir, const uint8_t *msg, int len)
{
	static const int w_r8[4] = { 1728, 2048, 2432, 1728 };
	static const int w_r16[4] = { 3456, 4096, 4864, 3456 };
	static const int w_300[4] = { 2592, 3072, 3648, 2592 };
	uint8_t f[24];
	int i, rate, fast, n, wi;
	size_t k;

	memset(f, 0, sizeof(f));
	n = len - 3;
	if (n > (int) sizeof(f) - 1)
		n = (int) sizeof(f) - 1;
	memcpy(f + 1, msg + 3, (size_t) n);   /* f[i] = FIF octet i (1-based) */
	fast = dcs_modem(f[2], &rate);
	c->have_dcs = 1;
	c->sender = dir;
	c->fast = fast;
	c->bit_rate = rate;
	c->ecm = (f[4] & 0x04) != 0;
	if (f[4] & 0x40)
		c->encoding = T4_COMPRESSION_ITU_T6;
	else if (f[2] & 0x80)
		c->encoding = T4_COMPRESSION_ITU_T4_2D;
	else
		c->encoding = T4_COMPRESSION_ITU_T4_1D;
	wi = f[3] & 0x03;
	c->x_ppm = T4_X_RESOLUTION_R8;
	c->width = w_r8[wi];
	if (f[6] & 0x02) {
		c->x_ppm = T4_X_RESOLUTION_300;
		c->y_ppm = T4_Y_RESOLUTION_300;
		c->width = w_300[wi];
	} else if (f[6] & 0x04) {
		c->x_ppm = T4_X_RESOLUTION_R16;
		c->y_ppm = T4_Y_RESOLUTION_SUPERFINE;
		c->width = w_r16[wi];
	} else if (f[6] & 0x01) {
		c->y_ppm = T4_Y_RESOLUTION_SUPERFINE;
	} else if (f[2] & 0x40) {
		c->y_ppm = T4_Y_RESOLUTION_FINE;
	} else {
		c->y_ppm = T4_Y_RESOLUTION_STANDARD;
	}
	/* FaxDcs as spandsp writes it: FIF octets, bit 1 first. */
	c->dcs_text[0] = '\0';
	for (i = 0, k = 0; i < n && k + 4 < sizeof(c->dcs_text); i++)
		k += (size_t) snprintf(c->dcs_text + k, sizeof(c->dcs_text) - k, "%s%02X",
		    i ? " " : "", bitrev8(f[i + 1]));
}

static void post_page_response(struct umfax_g711call *c, int dir, int fcf)
{
	if (c->cur.pps) {
		int eop = (c->cur.fcf2 & 0xFE) == T30_EOP || (c->cur.fcf2 & 0xFE) == T30_PRI_EOP;

		ecm_commit(c);
		if (fcf == T30_MCF && eop)
			c->confirmed_last = 1;
		return;
	}
	if (c->page_open && !c->ecm)
		page_end(c, c->page_cut);
	if (fcf == T30_MCF && (c->last_post == T30_EOP || c->last_post == T30_PRI_EOP))
		c->confirmed_last = 1;
}

static void process_frame(struct umfax_g711call *c, int dir, const uint8_t *msg, int len)
{
	int fcf, raw, i, rate, fast, answer_ok;
	char extra[160];

	if (len < 3 || msg[0] != 0xFF || (msg[1] != 0x03 && msg[1] != 0x13))
		return;
	raw = msg[2];
	/* The initial identification frames have no X bit. */
	switch (raw) {
	case T30_DIS: case T30_DTC: case T30_CSI: case T30_CIG: case T30_NSF: case T30_NSC:
	case T30_PWD: case T30_SEP: case T30_PSA: case T30_CIA: case T30_ISP:
		fcf = raw;
		break;
	default:
		fcf = raw & 0xFE;
		break;
	}
	c->d[dir].frames++;
	/* The receiver's answers normally come on the other direction; with
	 * both sides mixed into one (a mono recording) they come on this one. */
	answer_ok = c->have_dcs && (dir != c->sender || c->d[!dir].frames == 0);
	if (!c->is_fax)
		c->t_start = c->d[dir].t;
	c->is_fax = 1;
	c->frames++;
	c->t_end = c->d[dir].t;
	extra[0] = '\0';

	switch (fcf) {
	case T30_DIS:
	case T30_DTC: {
		uint8_t o2 = len > 4 ? msg[4] : 0;
		uint8_t o4 = len > 6 ? msg[6] : 0;

		snprintf(extra, sizeof(extra), "%s%s%s%s%s",
		    (o2 & 0x08) ? " V.27ter" : "", (o2 & 0x04) ? " V.29" : "",
		    (o2 & 0x20) ? " V.17" : "", (o4 & 0x04) ? " ECM" : "",
		    (o4 & 0x40) ? " T.6" : "");
		break;
	}
	case T30_CSI:
		decode_ident(c->csi, sizeof(c->csi), msg, len);
		snprintf(extra, sizeof(extra), " \"%s\"", c->csi);
		break;
	case T30_TSI:
		decode_ident(c->tsi, sizeof(c->tsi), msg, len);
		snprintf(extra, sizeof(extra), " \"%s\"", c->tsi);
		break;
	case T30_CIG:
	case T30_SID: {
		char id[24];

		decode_ident(id, sizeof(id), msg, len);
		snprintf(extra, sizeof(extra), " \"%s\"", id);
		break;
	}
	case T30_DCS:
		if (c->page_open && !c->ecm)
			page_end(c, c->page_cut);
		decode_dcs(c, dir, msg, len);
		c->phase = PH_TCF;
		c->bursts_since_dcs = 0;
		fast_start(&c->d[dir], c->fast, c->bit_rate);
		snprintf(extra, sizeof(extra), " %s %d%s %s %dx%d %s", fast_name(c->fast), c->bit_rate,
		    c->ecm ? " ECM" : "",
		    c->y_ppm == T4_Y_RESOLUTION_STANDARD ? "standard" :
		    c->y_ppm == T4_Y_RESOLUTION_FINE ? "fine" :
		    c->y_ppm == T4_Y_RESOLUTION_SUPERFINE ? "superfine" : "high",
		    ppm_to_dpi(c->x_ppm), ppm_to_dpi(c->y_ppm), enc_name(c->encoding));
		break;
	case T30_CTC:
		if (len > 4 && c->sender == dir) {
			fast = dcs_modem(msg[4], &rate);
			if (fast != FAST_NONE) {
				c->fast = fast;
				c->bit_rate = rate;
				c->phase = PH_IMAGE;
				c->bursts_since_dcs = 1;
				fast_start(&c->d[dir], fast, rate);
				snprintf(extra, sizeof(extra), " %s %d", fast_name(fast), rate);
			}
		}
		break;
	case T30_CFR:
		if (answer_ok)
			c->phase = PH_IMAGE;
		break;
	case T30_FTT:
		c->phase = PH_TCF;
		break;
	case T30_MPS: case T30_EOP: case T30_EOM:
	case T30_PRI_MPS: case T30_PRI_EOP: case T30_PRI_EOM:
		if (!c->ecm)
			nonecm_data_end(c, 1);
		c->last_post = fcf;
		c->confirmed_last = 0;
		break;
	case T30_PPS:
		if (len >= 7) {
			int fcf2 = msg[3] & 0xFE;

			if (!ecm_pps(c, fcf2, msg[4], msg[5], msg[6] + 1)) {
				snprintf(extra, sizeof(extra), "-%s page %d block %d (repeat)",
				    fcf2 ? t30_frametype((uint8_t) fcf2) : "NULL", msg[4], msg[5]);
				break;
			}
			c->last_post = fcf2 ? fcf2 : T30_PPS;
			c->confirmed_last = 0;
			snprintf(extra, sizeof(extra), "-%s page %d block %d frames %d, %d missing here",
			    fcf2 ? t30_frametype((uint8_t) fcf2) : "NULL", c->cur.page, c->cur.block,
			    c->cur.count, block_missing(&c->cur, c->cur.count));
		}
		break;
	case T30_EOR:
		/* The sender gives up on the rest of this block. */
		if (len >= 4 && c->cur.pps)
			c->cur.fcf2 = msg[3] & 0xFE;
		c->last_post = T30_EOR;
		break;
	case T30_MCF:
	case T30_RTP:
	case T30_PIP:
		if (answer_ok)
			post_page_response(c, dir, fcf);
		break;
	case T30_ERR:
		if (answer_ok && c->cur.pps)
			ecm_commit(c);
		break;
	case T30_RTN:
	case T30_PIN:
		if (answer_ok && c->page_open && !c->ecm) {
			/* The next t4_rx_start_page drops its rows. */
			c->page_open = 0;
			c->pages_rejected++;
			snprintf(extra, sizeof(extra), " (page rejected by the receiver, not kept)");
		}
		break;
	case T30_PPR: {
		int miss = 0;

		/* Bit map of the 256 frames, 1 = send again; count those of
		 * this block. */
		for (i = 0; i < 256 && 3 + i / 8 < len; i++)
			if (i < (c->cur.pps ? c->cur.count : 256) && (msg[3 + i / 8] >> (i % 8)) & 1)
				miss++;
		if (answer_ok)
			c->ppr_heard = 1;
		snprintf(extra, sizeof(extra), " %d frames to resend", miss);
		break;
	}
	case T30_DCN:
		c->dcn = 1;
		break;
	}
	logf_(c, dir, "%s%s", t30_frametype((uint8_t) raw), extra);
}

/* A line echo of the other side's frame: same bytes, heard shortly after
 * on this direction.  Such frames are not the far end speaking. */
static int is_echo(struct dir *d, const uint8_t *msg, int len)
{
	struct dir *o = &d->c->d[!d->dir];
	int i, n = len < ECHO_BYTES ? len : ECHO_BYTES;

	for (i = 0; i < ECHO_FRAMES; i++) {
		double lag = d->t - o->recent[i].t;

		if (o->recent[i].len == len && lag >= -0.1 && lag <= ECHO_WINDOW
		    && memcmp(o->recent[i].msg, msg, (size_t) n) == 0)
			return 1;
	}
	return 0;
}

static void v21_frame(void *user, const uint8_t *msg, int len, int ok)
{
	struct dir *d = user;
	int k;

	if (len < 0 || !ok)
		return;
	if (is_echo(d, msg, len))
		return;
	k = d->recent_next;
	d->recent_next = (k + 1) % ECHO_FRAMES;
	d->recent[k].t = d->t;
	d->recent[k].len = len;
	memcpy(d->recent[k].msg, msg, (size_t) (len < ECHO_BYTES ? len : ECHO_BYTES));
	if (d->trained) {
		/* The fast modem "trained" on this V.21 signal: not a burst. */
		if (d->c->bursts_since_dcs > 0)
			d->c->bursts_since_dcs--;
		d->burst_is_tcf = 1;      /* nothing more goes to T.4 */
		burst_end(d);
		d->retrain = 1;
	}
	process_frame(d->c, d->dir, msg, len);
}

static void v21_put_bit(void *user, int bit)
{
	struct dir *d = user;

	/* Always listened to: the CRC keeps noise out, and a V.21 frame
	 * heard while the fast modem claims to be trained shows that its
	 * training was false. */
	hdlc_rx_put_bit(d->v21, bit);
}

static void tone_heard(void *user, int tone, int level, int delay)
{
	struct dir *d = user;
	struct umfax_g711call *c = d->c;

	(void) level;
	(void) delay;
	if (tone != MODEM_CONNECT_TONES_FAX_CNG && tone != MODEM_CONNECT_TONES_FAX_CED)
		return;
	/* 2100 Hz (CED) is also the answer tone of data modems (V.25 ANS),
	 * so only CNG makes a call a fax call by itself. */
	if (tone == MODEM_CONNECT_TONES_FAX_CNG) {
		if (!c->tones)
			logf_(c, d->dir, "tone CNG");
		c->tones = 1;
	} else if (!c->ced) {
		logf_(c, d->dir, "tone CED (2100 Hz)");
		c->ced = 1;
	}
}

/* ---- audio ---------------------------------------------------------------- */

static void feed(struct dir *d, const int16_t *amp, int n)
{
	struct umfax_g711call *c = d->c;

	fsk_rx(d->fsk, amp, n);
	if (!c->is_fax && !c->tones && d->samples < 120ULL * RATE) {
		modem_connect_tones_rx(d->cng, amp, n);
		modem_connect_tones_rx(d->ced, amp, n);
	}
	if (d->fast != FAST_NONE) {
		int off, k;

		/* In small steps, so a restart after a failed training loses
		 * little of what follows. */
		for (off = 0; off < n; off += k) {
			k = n - off < FAST_STEP ? n - off : FAST_STEP;
			switch (d->fast) {
			case FAST_V27TER: v27ter_rx(d->v27, amp + off, k); break;
			case FAST_V29: v29_rx(d->v29, amp + off, k); break;
			case FAST_V17: v17_rx(d->v17, amp + off, k); break;
			}
			if (d->retrain)
				fast_retrain(d);
		}
	}
	d->samples += (unsigned long long) n;
}

static void audio(void *arg, int pt, const uint8_t *data, size_t n)
{
	struct dir *d = arg;
	int16_t amp[CHUNK];
	size_t done = 0, fed = 0;

	while (done < n) {
		size_t k = n - done, i;

		if (k > CHUNK)
			k = CHUNK;
		if (data == NULL && pt == UMFAX_RTP_LOST) {
			/* Lost packets: let the modems coast over the gap. */
			fsk_rx_fillin(d->fsk, (int) k);
			switch (d->fast) {
			case FAST_V27TER: v27ter_rx_fillin(d->v27, (int) k); break;
			case FAST_V29: v29_rx_fillin(d->v29, (int) k); break;
			case FAST_V17: v17_rx_fillin(d->v17, (int) k); break;
			}
			d->samples += (unsigned long long) k;
			done += k;
			continue;
		}
		if (data == NULL) {
			if (fed >= SILENCE_FED) {
				/* The receivers are idle by now; just move the clock. */
				d->samples += (unsigned long long) (n - done);
				return;
			}
			memset(amp, 0, sizeof(amp));
			fed += k;
		} else if (pt == UMFAX_RTP_PT_PCMU) {
			for (i = 0; i < k; i++)
				amp[i] = ulaw_to_linear(data[done + i]);
		} else {
			for (i = 0; i < k; i++)
				amp[i] = alaw_to_linear(data[done + i]);
		}
		feed(d, amp, (int) k);
		done += k;
	}
}

/* ---- API -------------------------------------------------------------------- */

struct umfax_g711call *umfax_g711call_new(const char *tiff_path)
{
	struct umfax_g711call *c;
	int i, k;

	if (tiff_path == NULL)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->path = strdup(tiff_path);
	if (c->path == NULL) {
		free(c);
		return NULL;
	}
	c->sender = -1;
	c->encoding = T4_COMPRESSION_ITU_T4_1D;
	c->width = 1728;
	c->x_ppm = T4_X_RESOLUTION_R8;
	c->y_ppm = T4_Y_RESOLUTION_STANDARD;
	block_reset(&c->cur);
	block_reset(&c->prev);
	for (i = 0; i < 2; i++) {
		struct dir *d = &c->d[i];

		d->c = c;
		d->dir = i;
		for (k = 0; k < ECHO_FRAMES; k++)
			d->recent[k].t = -1e30;
		umfax_rtp_rx_init(&d->rtp, audio, d);
		d->v21 = hdlc_rx_init(NULL, FALSE, TRUE, 5, v21_frame, d);
		d->fsk = fsk_rx_init(NULL, &preset_fsk_specs[FSK_V21CH2], TRUE, v21_put_bit, d);
		d->cng = modem_connect_tones_rx_init(NULL, MODEM_CONNECT_TONES_FAX_CNG, tone_heard, d);
		d->ced = modem_connect_tones_rx_init(NULL, MODEM_CONNECT_TONES_FAX_CED, tone_heard, d);
		if (d->v21 == NULL || d->fsk == NULL || d->cng == NULL || d->ced == NULL) {
			umfax_g711call_free(c);
			return NULL;
		}
		fsk_rx_signal_cutoff(d->fsk, -45.5f);
	}
	return c;
}

int umfax_g711call_packet(struct umfax_g711call *c, int dir, double t,
    const uint8_t *pkt, size_t len)
{
	if (c == NULL || c->finished || dir < 0 || dir > 1 || pkt == NULL)
		return -1;
	if (!isfinite(t))
		t = c->d[dir].t;
	c->d[dir].t = t;
	return umfax_rtp_rx_packet(&c->d[dir].rtp, t, pkt, len);
}

int umfax_g711call_is_fax(const struct umfax_g711call *c)
{
	return c != NULL && (c->is_fax || c->tones);
}

void umfax_g711call_set_frame_log(struct umfax_g711call *c,
    void (*fn)(void *arg, int dir, double t, const char *text), void *arg)
{
	if (c == NULL)
		return;
	c->log_fn = fn;
	c->log_arg = arg;
}

int umfax_g711call_finish(struct umfax_g711call *c, struct umfax_faxinfo *info)
{
	int i, rc = 0;

	if (c == NULL || info == NULL)
		return -1;
	c->finished = 1;
	for (i = 0; i < 2; i++) {
		struct dir *d = &c->d[i];

		umfax_rtp_rx_flush(&d->rtp);
		/* Let the receivers see the end of the signal. */
		audio(d, UMFAX_RTP_SILENCE, NULL, RATE / 2);
		burst_end(d);
	}
	if (c->ecm && (c->cur.frames > 0 || c->cur.pps || c->have_prev))
		ecm_commit(c);
	if (c->page_open)
		page_end(c, c->ecm ? 1 : c->page_cut);
	if (c->t4 != NULL) {
		if (t4_rx_free(c->t4) < 0)
			rc = -1;
		c->t4 = NULL;
	}

	memset(info, 0, sizeof(*info));
	info->pages = c->pages;
	info->width = c->first_width;
	info->length = c->first_length;
	info->x_res = c->have_dcs ? ppm_to_dpi(c->x_ppm) : 0;
	info->y_res = c->have_dcs ? ppm_to_dpi(c->y_ppm) : 0;
	info->bit_rate = c->bit_rate;
	snprintf(info->modem, sizeof(info->modem), "%s", c->have_dcs ? fast_name(c->fast) : "");
	info->ecm = c->ecm;
	snprintf(info->compression, sizeof(info->compression), "%s",
	    c->have_dcs ? enc_name(c->encoding) : "");
	info->bad_rows = c->bad_rows;
	snprintf(info->remote_ident, sizeof(info->remote_ident), "%s", c->tsi);
	snprintf(info->local_ident, sizeof(info->local_ident), "%s", c->csi);
	info->duration = c->is_fax && c->t_end > c->t_start ? c->t_end - c->t_start : 0.0;

	if (c->t4_failed) {
		info->status = UMFAX_FAX_ERROR;
		info->t30_code = T30_ERR_FILEERROR;
		snprintf(info->t30_result, sizeof(info->t30_result), "cannot create the TIFF file");
		return -1;
	}
	if (c->pages == 0) {
		info->status = umfax_g711call_is_fax(c) ? UMFAX_FAX_NO_PAGES : UMFAX_FAX_ERROR;
		info->t30_code = c->have_dcs ? T30_ERR_RX_NOFAX : T30_ERR_T0_EXPIRED;
		snprintf(info->t30_result, sizeof(info->t30_result), "%s",
		    !umfax_g711call_is_fax(c) ? "no fax signals heard" :
		    c->have_dcs ? "no page received" : "fax call without a page (no DCS)");
		return rc;
	}
	if (c->confirmed_last && c->bad_rows == 0 && c->pages_cut == 0) {
		info->status = UMFAX_FAX_COMPLETE;
		info->t30_code = T30_ERR_OK;
		snprintf(info->t30_result, sizeof(info->t30_result), "OK");
	} else {
		info->status = UMFAX_FAX_INCOMPLETE;
		if (!c->confirmed_last) {
			info->t30_code = c->dcn ? T30_ERR_RX_DCNFAX : T30_ERR_CALLDROPPED;
			snprintf(info->t30_result, sizeof(info->t30_result), "%s",
			    c->last_post == T30_EOP || c->last_post == T30_PRI_EOP ?
			    "the last page was not confirmed" : "the call ended before the last page");
		} else {
			info->t30_code = T30_ERR_OK;
			if (c->bad_rows > 0)
				snprintf(info->t30_result, sizeof(info->t30_result),
				    "confirmed by the receiver, but %d rows damaged here", c->bad_rows);
			else
				snprintf(info->t30_result, sizeof(info->t30_result),
				    "confirmed by the receiver, but page data is missing here");
		}
	}
	return rc;
}

void umfax_g711call_free(struct umfax_g711call *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < 2; i++) {
		struct dir *d = &c->d[i];

		if (d->fsk)
			fsk_rx_free(d->fsk);
		if (d->v21)
			hdlc_rx_free(d->v21);
		if (d->ecm)
			hdlc_rx_free(d->ecm);
		if (d->cng)
			modem_connect_tones_rx_free(d->cng);
		if (d->ced)
			modem_connect_tones_rx_free(d->ced);
		if (d->v27)
			v27ter_rx_free(d->v27);
		if (d->v29)
			v29_rx_free(d->v29);
		if (d->v17)
			v17_rx_free(d->v17);
	}
	if (c->t4 != NULL)
		t4_rx_free(c->t4);
	free(c->path);
	free(c);
}
