/* rtp.c - RTP parsing and a reordering G.711 receive timeline. */
#include "rtp.h"

#include <string.h>

#define RATE 8000.0

int umfax_rtp_parse(const uint8_t *pkt, size_t len, struct umfax_rtp_hdr *h)
{
	size_t off, end;

	memset(h, 0, sizeof(*h));
	if (pkt == NULL || len < 12)
		return -1;
	if ((pkt[0] >> 6) != 2)
		return -1;
	h->csrc_count = pkt[0] & 0x0F;
	h->has_extension = (pkt[0] >> 4) & 1;
	h->marker = pkt[1] >> 7;
	h->pt = pkt[1] & 0x7F;
	h->seq = (uint16_t) ((pkt[2] << 8) | pkt[3]);
	h->ts = ((uint32_t) pkt[4] << 24) | ((uint32_t) pkt[5] << 16) | ((uint32_t) pkt[6] << 8) | pkt[7];
	h->ssrc = ((uint32_t) pkt[8] << 24) | ((uint32_t) pkt[9] << 16) | ((uint32_t) pkt[10] << 8) | pkt[11];
	off = 12 + 4 * (size_t) h->csrc_count;
	if (off > len)
		return -1;
	if (h->has_extension) {
		size_t words;

		if (off + 4 > len)
			return -1;
		words = ((size_t) pkt[off + 2] << 8) | pkt[off + 3];
		off += 4 + 4 * words;
		if (off > len)
			return -1;
	}
	end = len;
	if (pkt[0] & 0x20) {
		size_t pad = pkt[len - 1];

		/* The count includes itself, so 0 is invalid. */
		if (pad == 0 || pad > end - off)
			return -1;
		end -= pad;
		h->padding = (int) pad;
	}
	h->payload = pkt + off;
	h->payload_len = end - off;
	return 0;
}

void umfax_rtp_rx_init(struct umfax_rtp_rx *r, umfax_rtp_audio_fn out, void *arg)
{
	memset(r, 0, sizeof(*r));
	r->out = out;
	r->arg = arg;
	r->max_gap = 60.0;
	r->max_wait = 0.1;
}

/* SAMPLES not received before the next packet: what the lost packets
 * (if any) would have held is reported as lost, the rest as silence. */
static void emit_gap(struct umfax_rtp_rx *r, double samples)
{
	size_t n, lost = 0;

	if (samples < 1.0)
		return;
	if (samples > r->max_gap * RATE)
		samples = r->max_gap * RATE;
	n = (size_t) samples;
	if (r->lost_pending > 0) {
		lost = r->lost_pending * (r->last_n ? r->last_n : 160);
		if (lost > n)
			lost = n;
	}
	r->st.samples += n;
	if (lost > 0) {
		r->st.concealed += lost;
		r->out(r->arg, UMFAX_RTP_LOST, NULL, lost);
	}
	if (n > lost) {
		r->st.silence += n - lost;
		r->out(r->arg, UMFAX_RTP_SILENCE, NULL, n - lost);
	}
}

/* Put one packet on the timeline. */
static void play(struct umfax_rtp_rx *r, uint32_t ts, double t, int pt, const uint8_t *data, size_t n)
{
	double wall;

	if (pt != UMFAX_RTP_PT_PCMU && pt != UMFAX_RTP_PT_PCMA) {
		r->st.skipped++;
		return;
	}
	if (n == 0)
		return;
	/* Samples the capture clock allows between the last packet and this
	 * one; bounds what a timestamp jump may claim. */
	wall = (t - r->t_last) * RATE - (double) n;
	/* A timestamp jumping back by more than a second (some gateways
	 * restart it, same SSRC) starts a new timeline. */
	if (r->have_ts && (int32_t) (ts - r->next_ts) < -(int32_t) RATE)
		r->have_ts = 0;
	if (!r->have_ts) {
		r->lost_pending = 0;   /* a new timeline: the gap is a pause */
		if (r->st.samples > 0 && wall > 0)
			emit_gap(r, wall);
	} else {
		int32_t d = (int32_t) (ts - r->next_ts);

		if (d > 0) {
			if ((double) d > wall + RATE)
				emit_gap(r, wall);
			else
				emit_gap(r, (double) d);
		} else if (d < 0) {
			size_t over = (size_t) (-(int64_t) d);

			if (over >= n) {
				r->st.dups++;
				return;
			}
			data += over;
			n -= over;
			ts += (uint32_t) over;
		}
	}
	r->lost_pending = 0;
	r->last_n = n;
	r->st.audio++;
	r->st.samples += n;
	r->have_ts = 1;
	r->next_ts = ts + (uint32_t) n;
	r->t_last = t;
	r->last_pt = pt;
	r->out(r->arg, pt, data, n);
}

static void play_slot(struct umfax_rtp_rx *r, struct umfax_rtp_slot *s)
{
	r->st.reordered++;
	s->used = 0;
	r->held--;
	r->next_seq = (uint16_t) (s->seq + 1);
	play(r, s->ts, s->t, s->pt, s->data, s->len);
}

/* Play held packets that follow on without a gap. */
static void drain(struct umfax_rtp_rx *r)
{
	int i, found = 1;

	while (found && r->held > 0) {
		found = 0;
		for (i = 0; i < UMFAX_RTP_WINDOW; i++) {
			if (r->slot[i].used && r->slot[i].seq == r->next_seq) {
				play_slot(r, &r->slot[i]);
				found = 1;
				break;
			}
		}
	}
}

/* Give up waiting for next_seq: jump to the oldest held packet. */
static void skip_to_oldest(struct umfax_rtp_rx *r)
{
	int i, best = -1;
	uint16_t bestd = 0;

	for (i = 0; i < UMFAX_RTP_WINDOW; i++) {
		if (r->slot[i].used) {
			uint16_t d = (uint16_t) (r->slot[i].seq - r->next_seq);

			if (best < 0 || d < bestd) {
				best = i;
				bestd = d;
			}
		}
	}
	if (best < 0)
		return;
	r->st.lost += bestd;
	r->lost_pending += bestd;
	r->next_seq = r->slot[best].seq;
	drain(r);
}

void umfax_rtp_rx_flush(struct umfax_rtp_rx *r)
{
	while (r->held > 0)
		skip_to_oldest(r);
}

int umfax_rtp_rx_packet(struct umfax_rtp_rx *r, double t, const uint8_t *pkt, size_t len)
{
	struct umfax_rtp_hdr h;
	int16_t d;
	int i;

	r->st.packets++;
	if (umfax_rtp_parse(pkt, len, &h) < 0) {
		r->st.not_rtp++;
		return -1;
	}
	if (!r->started || h.ssrc != r->ssrc) {
		if (r->started) {
			umfax_rtp_rx_flush(r);
			r->st.ssrc_changes++;
		} else {
			r->t_first = t;
			r->t_last = t;
		}
		r->started = 1;
		r->ssrc = h.ssrc;
		r->next_seq = h.seq;
		r->have_ts = 0;
	}
	d = (int16_t) (uint16_t) (h.seq - r->next_seq);
	if (d < -1000 || d > 1000) {
		/* A sequence restart without an SSRC change: follow it, keep
		 * the timestamps (the timeline goes on). */
		umfax_rtp_rx_flush(r);
		r->next_seq = h.seq;
		d = 0;
	}
	if (d < 0) {
		r->st.dups++;
		return 0;
	}
	if (d == 0) {
		r->next_seq = (uint16_t) (h.seq + 1);
		play(r, h.ts, t, h.pt, h.payload, h.payload_len);
		drain(r);
		return 0;
	}
	for (i = 0; i < UMFAX_RTP_WINDOW; i++) {
		if (r->slot[i].used && r->slot[i].seq == h.seq) {
			r->st.dups++;
			return 0;
		}
	}
	for (i = 0; i < UMFAX_RTP_WINDOW; i++) {
		if (!r->slot[i].used) {
			struct umfax_rtp_slot *s = &r->slot[i];

			s->used = 1;
			s->seq = h.seq;
			s->ts = h.ts;
			s->t = t;
			s->pt = h.pt;
			if (h.payload_len <= sizeof(s->data)) {
				memcpy(s->data, h.payload, h.payload_len);
				s->len = h.payload_len;
			} else {
				s->pt = -1;   /* too big: keeps its place, plays nothing */
				s->len = 0;
			}
			r->held++;
			break;
		}
	}
	if (r->held >= UMFAX_RTP_WINDOW)
		skip_to_oldest(r);
	/* Do not hold this direction back long for a packet that may never
	 * come: the other direction's timeline runs on meanwhile. */
	while (r->held > 0) {
		double oldest = t;

		for (i = 0; i < UMFAX_RTP_WINDOW; i++)
			if (r->slot[i].used && r->slot[i].t < oldest)
				oldest = r->slot[i].t;
		if (t - oldest <= r->max_wait)
			break;
		skip_to_oldest(r);
	}
	return 0;
}
