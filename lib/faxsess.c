/* faxsess.c - one live fax session on spandsp (see faxsess.h) */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <spandsp.h>

#include "faxinfo.h"
#include "faxsess.h"
#include "job.h"
#include "log.h"
#include "rtp.h"
#include "t30setup.h"
#include "t38dec.h"
#include "tpkt.h"
#include "udptl.h"

#define CHUNK       160                 /* samples per tick: 20 ms */
#define MAX_RED     8
#define PLAY_MAX    8000                /* playout ring: 1 s */
#define PLAY_PRIME  480                 /* 60 ms before playing */
#define PLAY_HIGH   1600                /* more than 200 ms queued: drop to PRIME */
#define TCP_MAX     65536

struct umfax_faxsess {
	struct umfax_faxsess_conf c;
	char *tiff;
	char ident[24];
	umfax_faxsess_out_fn *out;
	void *arg;
	umfax_faxsess_log_fn *logfn;
	void *logarg;
	t38_terminal_state_t *term;
	t38_core_state_t *core;
	fax_state_t *fax;
	t30_state_t *t30;
	int done, completion, pages, dcs_seen;
	long ticks;
	double t_dcs, t_end;
	/* what the DCS said */
	char modem[16];
	int bit_rate, ecm;
	char compression[8];
	/* UDPTL */
	uint16_t tx_seq;
	uint8_t hist[MAX_RED][UMFAX_UDPTL_MAX_IFP];
	size_t hist_len[MAX_RED];
	int nhist;
	struct umfax_udptl_tx *ftx;         /* FEC instead of redundancy */
	struct umfax_udptl_rx urx;
	int urx_ok;
	/* TCP */
	uint8_t *sbuf;
	size_t slen;
	uint16_t tcp_seq;
	/* G.711 */
	struct umfax_rtp_rx rrx;
	int16_t play[PLAY_MAX];
	uint8_t lost[PLAY_MAX];
	size_t phead, plen;
	int primed;
	uint16_t rtp_seq;
	uint32_t rtp_ts;
	struct umfax_faxsess_stats st;
};

const char *umfax_faxsess_kind_name(int kind)
{
	switch (kind) {
	case UMFAX_FAXSESS_UDPTL: return "t38-udptl";
	case UMFAX_FAXSESS_TCP: return "t38-tcp";
	case UMFAX_FAXSESS_ULAW: return "g711-ulaw";
	case UMFAX_FAXSESS_ALAW: return "g711-alaw";
	default: return "?";
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static void slog(struct umfax_faxsess *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void slog(struct umfax_faxsess *s, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	if (!s->logfn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	s->logfn(s->logarg, line);
}

/* ---- T.38 transmit ---- */

static void send_udptl(struct umfax_faxsess *s, const uint8_t *buf, size_t len, int count)
{
	struct umfax_udptl_pkt p;
	uint8_t pkt[1500];
	long n;
	int i, nsec;

	if (len > UMFAX_UDPTL_MAX_IFP)
		return;
	memset(&p, 0, sizeof p);
	p.seq = s->tx_seq++;
	p.ifp = buf;
	p.ifp_len = len;
	if (s->ftx) {
		/* FEC: fewer entries while the datagram is too big */
		int e = s->ftx->entries;
		for (;;) {
			umfax_udptl_tx_fec(s->ftx, &p, e);
			n = umfax_udptl_encode(pkt, sizeof pkt, &p);
			if (n > 0 && (s->c.max_datagram <= 0 || n <= s->c.max_datagram || p.fec_n == 0))
				break;
			if (p.fec_n == 0)
				break;
			e = p.fec_n - 1;
		}
		umfax_udptl_tx_add(s->ftx, buf, len);
		if (n <= 0)
			return;
		goto send;
	}
	nsec = s->nhist < s->c.redundancy ? s->nhist : s->c.redundancy;
	for (;;) {
		p.nsec = nsec;
		for (i = 0; i < nsec; i++) {
			p.sec[i] = s->hist[i];
			p.sec_len[i] = s->hist_len[i];
		}
		n = umfax_udptl_encode(pkt, sizeof pkt, &p);
		if (n > 0 && (s->c.max_datagram <= 0 || n <= s->c.max_datagram || nsec == 0))
			break;
		if (nsec == 0)
			return;
		nsec--;
	}
	/* remember this IFP as the newest secondary */
	memmove(&s->hist[1], &s->hist[0], sizeof s->hist[0] * (MAX_RED - 1));
	memmove(&s->hist_len[1], &s->hist_len[0], sizeof s->hist_len[0] * (MAX_RED - 1));
	memcpy(s->hist[0], buf, len);
	s->hist_len[0] = len;
	if (s->nhist < MAX_RED)
		s->nhist++;
send:
	if (count < 1)
		count = 1;
	if (count > 5)
		count = 5;
	for (i = 0; i < count; i++) {
		s->out(s->arg, pkt, (size_t) n);
		s->st.tx_packets++;
	}
}

static int t38_tx(t38_core_state_t *core, void *user, const uint8_t *buf, int len, int count)
{
	struct umfax_faxsess *s = user;
	(void) core;
	if (len <= 0)
		return 0;
	if (s->c.kind == UMFAX_FAXSESS_UDPTL) {
		send_udptl(s, buf, (size_t) len, count);
	} else {
		uint8_t fr[4 + UMFAX_UDPTL_MAX_IFP];
		if (len > UMFAX_UDPTL_MAX_IFP)
			return 0;
		fr[0] = 3;
		fr[1] = 0;
		fr[2] = (uint8_t) ((len + 4) >> 8);
		fr[3] = (uint8_t) (len + 4);
		memcpy(fr + 4, buf, (size_t) len);
		s->out(s->arg, fr, (size_t) len + 4);
		s->st.tx_packets++;
	}
	return 0;
}

static void udptl_deliver(void *arg, uint16_t seq, const uint8_t *ifp, size_t len, int lost)
{
	struct umfax_faxsess *s = arg;
	if (lost) {
		s->st.lost++;
		return;
	}
	if (t38_core_rx_ifp_packet(s->core, ifp, (int) len, seq) < 0)
		s->st.rx_bad++;
}

/* ---- G.711 receive: RTP timeline into the playout ring ---- */

static void play_push(struct umfax_faxsess *s, int16_t v, int lost)
{
	size_t i;
	if (s->plen == PLAY_MAX) {           /* full: drop the oldest */
		s->phead = (s->phead + 1) % PLAY_MAX;
		s->plen--;
	}
	i = (s->phead + s->plen) % PLAY_MAX;
	s->play[i] = v;
	s->lost[i] = (uint8_t) lost;
	s->plen++;
}

static void rtp_audio(void *arg, int pt, const uint8_t *data, size_t n)
{
	struct umfax_faxsess *s = arg;
	size_t i;
	if (n > PLAY_MAX)
		n = PLAY_MAX;
	for (i = 0; i < n; i++) {
		if (data)
			play_push(s, pt == UMFAX_RTP_PT_PCMA ? alaw_to_linear(data[i]) : ulaw_to_linear(data[i]), 0);
		else
			play_push(s, 0, pt == UMFAX_RTP_LOST);
	}
}

/* Play 160 samples into the modem: received audio, fill-in for what was lost
 * or has not arrived. */
static void play_tick(struct umfax_faxsess *s)
{
	int16_t amp[CHUNK];
	int n = 0, run_lost = -1;

	if (!s->primed) {
		if (s->plen < PLAY_PRIME) {
			memset(amp, 0, sizeof amp);
			fax_rx(s->fax, amp, CHUNK);
			return;
		}
		s->primed = 1;
	}
	while (s->plen > PLAY_HIGH) {
		s->phead = (s->phead + 1) % PLAY_MAX;
		s->plen--;
	}
	while (n < CHUNK) {
		int lost = s->plen ? s->lost[s->phead] : 1;
		if (run_lost >= 0 && lost != run_lost)
			break;
		run_lost = lost;
		if (s->plen) {
			amp[n] = s->play[s->phead];
			s->phead = (s->phead + 1) % PLAY_MAX;
			s->plen--;
		}
		n++;
		if (!s->plen && !lost)
			break;
	}
	if (run_lost == 1) {
		fax_rx_fillin(s->fax, n);
		s->st.concealed_ms += n / 8;
	} else {
		fax_rx(s->fax, amp, n);
	}
	if (n < CHUNK) {          /* the rest of the tick: next run */
		int rest = CHUNK - n;
		if (!s->plen) {
			fax_rx_fillin(s->fax, rest);
			s->st.concealed_ms += rest / 8;
			return;
		}
		while (rest > 0) {
			int m = 0, l = s->plen ? s->lost[s->phead] : 1;
			while (m < rest && s->plen && s->lost[s->phead] == l) {
				amp[m++] = s->play[s->phead];
				s->phead = (s->phead + 1) % PLAY_MAX;
				s->plen--;
			}
			if (m == 0) {
				fax_rx_fillin(s->fax, rest);
				s->st.concealed_ms += rest / 8;
				break;
			}
			if (l)
				fax_rx_fillin(s->fax, m);
			else
				fax_rx(s->fax, amp, m);
			rest -= m;
		}
	}
}

static void g711_tx_tick(struct umfax_faxsess *s)
{
	int16_t amp[CHUNK];
	uint8_t pkt[12 + CHUNK];
	int n, i, pt = s->c.kind == UMFAX_FAXSESS_ALAW ? UMFAX_RTP_PT_PCMA : UMFAX_RTP_PT_PCMU;

	n = fax_tx(s->fax, amp, CHUNK);
	for (i = n; i < CHUNK; i++)
		amp[i] = 0;
	pkt[0] = 0x80;
	pkt[1] = (uint8_t) pt;
	pkt[2] = (uint8_t) (s->rtp_seq >> 8);
	pkt[3] = (uint8_t) s->rtp_seq;
	pkt[4] = (uint8_t) (s->rtp_ts >> 24);
	pkt[5] = (uint8_t) (s->rtp_ts >> 16);
	pkt[6] = (uint8_t) (s->rtp_ts >> 8);
	pkt[7] = (uint8_t) s->rtp_ts;
	pkt[8] = (uint8_t) (s->c.ssrc >> 24);
	pkt[9] = (uint8_t) (s->c.ssrc >> 16);
	pkt[10] = (uint8_t) (s->c.ssrc >> 8);
	pkt[11] = (uint8_t) s->c.ssrc;
	for (i = 0; i < CHUNK; i++)
		pkt[12 + i] = pt == UMFAX_RTP_PT_PCMA ? linear_to_alaw(amp[i]) : linear_to_ulaw(amp[i]);
	s->rtp_seq++;
	s->rtp_ts += CHUNK;
	s->out(s->arg, pkt, sizeof pkt);
	s->st.tx_packets++;
}

/* ---- T.30 handlers ---- */

static void frame_handler(t30_state_t *t, void *user, int direction, const uint8_t msg[], int len)
{
	struct umfax_faxsess *s = user;
	(void) t;
	if (len < 3)
		return;
	int fcf = msg[2] & 0xfe;
	if (fcf == T30_DCS) {
		snprintf(s->modem, sizeof s->modem, "%s", umfax_dcs_modem(msg, len, &s->bit_rate));
		s->ecm = umfax_dcs_ecm(msg, len);
		snprintf(s->compression, sizeof s->compression, "%s", umfax_dcs_compression(msg, len));
	}
	slog(s, "t=%.2f %s %s", s->ticks * 0.02, direction ? "send" : "recv", t30_frametype(msg[2]));
}

static int phase_b(t30_state_t *t, void *user, int result)
{
	struct umfax_faxsess *s = user;
	(void) t; (void) result;
	if (!s->dcs_seen)
		s->t_dcs = s->ticks * 0.02;
	s->dcs_seen = 1;
	return T30_ERR_OK;
}

static int phase_d(t30_state_t *t, void *user, int result)
{
	struct umfax_faxsess *s = user;
	t30_stats_t st;
	(void) result;
	t30_get_transfer_statistics(t, &st);
	s->pages = s->c.calling ? st.pages_tx : st.pages_rx;
	return T30_ERR_OK;
}

static void phase_e(t30_state_t *t, void *user, int code)
{
	struct umfax_faxsess *s = user;
	t30_stats_t st;
	const char *id;
	t30_get_transfer_statistics(t, &st);
	s->pages = s->c.calling ? st.pages_tx : st.pages_rx;
	s->completion = code;
	s->done = 1;
	s->t_end = s->ticks * 0.02;
	id = t30_get_rx_ident(t);
	if (id)
		umfax_job_clean(s->ident, sizeof s->ident, id, strlen(id));
	slog(s, "t=%.2f end %s pages=%d", s->t_end, t30_completion_code_to_str(code), s->pages);
}

static void setup_log(logging_state_t *ls)
{
	if (!ls)
		return;
	if (umfax_log_get_verbose() > 1) {
		span_log_set_level(ls, SPAN_LOG_FLOW | SPAN_LOG_SHOW_TAG);
		span_log_set_message_handler(ls, umfax_log_spandsp);
	} else {
		span_log_set_level(ls, SPAN_LOG_NONE);
	}
}

static void setup_t30(struct umfax_faxsess *s)
{
	struct umfax_t30_conf tc = {
		.calling = s->c.calling, .tiff = s->tiff, .local_ident = s->c.local_ident,
		.ecm = s->c.ecm, .fastest = s->c.fastest,
		.phase_b = phase_b, .phase_d = phase_d, .phase_e = phase_e, .frame = frame_handler,
		.user = s,
	};
	umfax_t30_setup(s->t30, &tc);
	setup_log(t30_get_logging_state(s->t30));
}

struct umfax_faxsess *umfax_faxsess_new(const struct umfax_faxsess_conf *c,
    umfax_faxsess_out_fn *out, void *arg, char *err, size_t errlen)
{
	struct umfax_faxsess *s = calloc(1, sizeof *s);
	if (!s || !(s->tiff = strdup(c->tiff ? c->tiff : ""))) {
		free(s);
		snprintf(err, errlen, "no memory");
		return NULL;
	}
	s->c = *c;
	if (s->c.redundancy < 0)
		s->c.redundancy = 0;
	if (s->c.redundancy > MAX_RED)
		s->c.redundancy = MAX_RED;
	if (s->c.fastest <= 0)
		s->c.fastest = 14400;
	s->out = out;
	s->arg = arg;
	s->completion = -1;
	if (c->kind == UMFAX_FAXSESS_UDPTL || c->kind == UMFAX_FAXSESS_TCP) {
		s->term = t38_terminal_init(NULL, c->calling ? TRUE : FALSE, t38_tx, s);
		if (!s->term)
			goto spandsp;
		s->core = t38_terminal_get_t38_core_state(s->term);
		s->t30 = t38_terminal_get_t30_state(s->term);
		t38_set_t38_version(s->core, c->t38_version < 0 ? 0 : c->t38_version > 3 ? 3 : c->t38_version);
		if (c->kind == UMFAX_FAXSESS_TCP) {
			t38_set_data_transport_protocol(s->core, T38_TRANSPORT_TCP);
			t38_terminal_set_config(s->term, T38_TERMINAL_OPTION_NO_PACING | T38_TERMINAL_OPTION_NO_INDICATORS);
			if (!(s->sbuf = malloc(TCP_MAX)))
				goto nomem;
		} else {
			t38_set_data_transport_protocol(s->core, T38_TRANSPORT_UDPTL);
			t38_terminal_set_config(s->term, 0);
			if (umfax_udptl_rx_init(&s->urx, c->hold > 0 ? c->hold : 3, udptl_deliver, s) < 0)
				goto nomem;
			s->urx_ok = 1;
			s->urx.t38_version = c->t38_version < 0 ? 0 : c->t38_version > 3 ? 3 : c->t38_version;
			if (c->fec_entries > 0 && umfax_faxsess_set_fec(s, c->fec_span, c->fec_entries) < 0) {
				snprintf(err, errlen, "UDPTL FEC span %d entries %d not possible", c->fec_span, c->fec_entries);
				umfax_faxsess_free(s);
				return NULL;
			}
		}
		if (c->max_datagram > 0)
			t38_set_max_datagram_size(s->core, c->max_datagram);
		t38_set_data_rate_management_method(s->core, c->rate_tcf == 1 ? 1 : 2);
		t38_set_fastest_image_data_rate(s->core, s->c.fastest);
		t38_terminal_set_tep_mode(s->term, FALSE);
		t38_terminal_set_fill_bit_removal(s->term, c->fill_bit_removal ? TRUE : FALSE);
		t38_set_sequence_number_handling(s->core, c->kind == UMFAX_FAXSESS_UDPTL ? TRUE : FALSE);
		setup_log(t38_terminal_get_logging_state(s->term));
		setup_log(t38_core_get_logging_state(s->core));
	} else {
		s->fax = fax_init(NULL, c->calling ? TRUE : FALSE);
		if (!s->fax)
			goto spandsp;
		s->t30 = fax_get_t30_state(s->fax);
		fax_set_transmit_on_idle(s->fax, TRUE);
		fax_set_tep_mode(s->fax, FALSE);
		umfax_rtp_rx_init(&s->rrx, rtp_audio, s);
		setup_log(fax_get_logging_state(s->fax));
	}
	setup_t30(s);
	return s;
nomem:
	snprintf(err, errlen, "no memory");
	umfax_faxsess_free(s);
	return NULL;
spandsp:
	snprintf(err, errlen, "spandsp could not start a %s session", umfax_faxsess_kind_name(c->kind));
	free(s->tiff);
	free(s);
	return NULL;
}

void umfax_faxsess_set_log(struct umfax_faxsess *s, umfax_faxsess_log_fn *fn, void *arg)
{
	s->logfn = fn;
	s->logarg = arg;
}

int umfax_faxsess_set_fec(struct umfax_faxsess *s, int span, int entries)
{
	struct umfax_udptl_tx *t;
	if (s->c.kind != UMFAX_FAXSESS_UDPTL)
		return -1;
	if (entries <= 0) {
		free(s->ftx);
		s->ftx = NULL;
		return 0;
	}
	if (s->ftx && s->ftx->span == span && s->ftx->entries == entries)
		return 0;
	if (!(t = malloc(sizeof *t)))
		return -1;
	if (umfax_udptl_tx_init(t, span, entries) < 0) {
		free(t);
		return -1;
	}
	/* start counting at the next sequence number: no entry reaches back
	 * before it, as at the start of a stream */
	free(s->ftx);
	s->ftx = t;
	return 0;
}

int umfax_faxsess_rx(struct umfax_faxsess *s, const uint8_t *buf, size_t len)
{
	s->st.rx_packets++;
	if (s->done)
		return 0;
	switch (s->c.kind) {
	case UMFAX_FAXSESS_UDPTL:
		if (umfax_udptl_rx_packet(&s->urx, buf, len) < 0) {
			s->st.rx_bad++;
			return -1;
		}
		return 0;
	case UMFAX_FAXSESS_TCP: {
		size_t off = 0;
		if (len > TCP_MAX - s->slen) {
			s->st.rx_bad++;
			return -1;
		}
		memcpy(s->sbuf + s->slen, buf, len);
		s->slen += len;
		for (;;) {
			const uint8_t *pl;
			size_t plen, used;
			int r = umfax_tpkt_frame(s->sbuf + off, s->slen - off, &pl, &plen, &used);
			if (r == 0)
				break;
			if (r < 0) {
				s->st.rx_bad++;
				s->slen = 0;
				return -1;
			}
			if (plen > 0 && t38_core_rx_ifp_packet(s->core, pl, (int) plen, s->tcp_seq) < 0)
				s->st.rx_bad++;
			s->tcp_seq++;
			off += used;
			if (s->done)
				break;
		}
		memmove(s->sbuf, s->sbuf + off, s->slen - off);
		s->slen -= off;
		return 0;
	}
	default:
		if (umfax_rtp_rx_packet(&s->rrx, now_s(), buf, len) < 0) {
			s->st.rx_bad++;
			return -1;
		}
		return 0;
	}
}

int umfax_faxsess_tick(struct umfax_faxsess *s)
{
	if (s->done)
		return 1;
	s->ticks++;
	if (s->term) {
		if (t38_terminal_send_timeout(s->term, CHUNK))
			s->done = 1;
	} else {
		play_tick(s);
		g711_tx_tick(s);
	}
	return s->done;
}

int umfax_faxsess_done(const struct umfax_faxsess *s)
{
	return s->done;
}

int umfax_faxsess_pages(const struct umfax_faxsess *s)
{
	return s->pages;
}

int umfax_faxsess_finish(struct umfax_faxsess *s, struct umfax_faxinfo *info)
{
	memset(info, 0, sizeof *info);
	if (s->urx_ok)
		umfax_udptl_rx_flush(&s->urx);
	if (s->t30 && !s->done) {
		t30_terminate(s->t30);
		s->done = 1;
	}
	/* release closes the TIFF */
	if (s->term) {
		t38_terminal_free(s->term);
		s->term = NULL;
	}
	if (s->fax) {
		fax_free(s->fax);
		s->fax = NULL;
	}
	s->t30 = NULL;
	snprintf(info->remote_ident, sizeof info->remote_ident, "%s", s->ident);
	snprintf(info->modem, sizeof info->modem, "%s", s->modem);
	snprintf(info->compression, sizeof info->compression, "%s", s->compression);
	info->bit_rate = s->bit_rate;
	info->ecm = s->ecm;
	info->t30_code = s->completion;
	snprintf(info->t30_result, sizeof info->t30_result, "%s",
	    s->completion < 0 ? "call ended before T.30 did" : t30_completion_code_to_str(s->completion));
	info->duration = (s->t_end > 0 ? s->t_end : s->ticks * 0.02) - s->t_dcs;
	if (info->duration < 0)
		info->duration = 0;
	if (s->c.calling) {
		info->pages = s->pages;
		info->status = s->completion == T30_ERR_OK ? UMFAX_FAX_COMPLETE
		    : s->pages ? UMFAX_FAX_INCOMPLETE : UMFAX_FAX_NO_PAGES;
		return 0;
	}
	if (!s->dcs_seen) {
		info->status = UMFAX_FAX_NO_PAGES;
		return 0;
	}
	struct umfax_faxinfo ti;
	if (umfax_t38dec_tiff_info(s->tiff, &ti) < 0) {
		info->status = UMFAX_FAX_NO_PAGES;
		return 0;
	}
	info->pages = ti.pages;
	info->width = ti.width;
	info->length = ti.length;
	info->x_res = ti.x_res;
	info->y_res = ti.y_res;
	info->bad_rows = ti.bad_rows;
	if (info->pages == 0)
		info->status = UMFAX_FAX_NO_PAGES;
	else if (s->completion == T30_ERR_OK && info->pages >= s->pages)
		info->status = UMFAX_FAX_COMPLETE;
	else
		info->status = UMFAX_FAX_INCOMPLETE;
	return 0;
}

void umfax_faxsess_stats(const struct umfax_faxsess *s, struct umfax_faxsess_stats *st)
{
	*st = s->st;
	if (s->urx_ok) {
		st->recovered = s->urx.from_red + s->urx.from_fec;
		st->lost = s->urx.lost;
	}
	if (s->c.kind == UMFAX_FAXSESS_ULAW || s->c.kind == UMFAX_FAXSESS_ALAW)
		st->lost = (long) s->rrx.st.lost;
}

void umfax_faxsess_free(struct umfax_faxsess *s)
{
	if (!s)
		return;
	if (s->term) {
		t38_terminal_free(s->term);
	}
	if (s->fax) {
		fax_free(s->fax);
	}
	if (s->urx_ok)
		umfax_udptl_rx_release(&s->urx);
	free(s->ftx);
	free(s->sbuf);
	free(s->tiff);
	free(s);
}
