/* udptl.c - UDPTL (ITU-T T.38 Annex A): packets and an ordering receiver */
#include <stdlib.h>
#include <string.h>

#include "udptl.h"

/* PER length determinant (octet aligned).  Fragmented lengths (>= 16384)
 * never occur in fax and are refused.  0 or -1. */
static int get_len(const uint8_t *buf, size_t len, size_t *pos, size_t *out)
{
	if (*pos >= len)
		return -1;
	uint8_t b = buf[(*pos)++];
	if (!(b & 0x80)) {
		*out = b;
		return 0;
	}
	if ((b & 0xc0) == 0x80) {
		if (*pos >= len)
			return -1;
		*out = (size_t) (b & 0x3f) << 8 | buf[(*pos)++];
		return 0;
	}
	return -1;
}

static int get_octets(const uint8_t *buf, size_t len, size_t *pos,
    const uint8_t **data, size_t *n)
{
	if (get_len(buf, len, pos, n) < 0 || *n > len - *pos || *n > UMFAX_UDPTL_MAX_IFP)
		return -1;
	*data = buf + *pos;
	*pos += *n;
	return 0;
}

int umfax_udptl_parse(const uint8_t *buf, size_t len, struct umfax_udptl_pkt *p)
{
	size_t pos = 2, n;

	memset(p, 0, sizeof(*p));
	if (!buf || len < 4)
		return -1;
	p->seq = (uint16_t) (buf[0] << 8 | buf[1]);
	if (get_octets(buf, len, &pos, &p->ifp, &p->ifp_len) < 0 || p->ifp_len == 0)
		return -1;
	if (pos >= len)
		return -1;
	uint8_t choice = buf[pos++];
	if (choice == 0x00) {
		if (get_len(buf, len, &pos, &n) < 0 || n > UMFAX_UDPTL_MAX_SEC)
			return -1;
		p->nsec = (int) n;
		for (int i = 0; i < p->nsec; i++)
			if (get_octets(buf, len, &pos, &p->sec[i], &p->sec_len[i]) < 0)
				return -1;      /* an empty copy is well-formed; the receiver skips it */
	} else if (choice == 0x80) {
		p->fec = 1;
		/* fec-npackets: INTEGER, a length octet then the value */
		size_t il;
		if (get_len(buf, len, &pos, &il) < 0 || il < 1 || il > 2 || il > len - pos)
			return -1;
		int span = 0;
		for (size_t i = 0; i < il; i++)
			span = span << 8 | buf[pos++];
		if (get_len(buf, len, &pos, &n) < 0 || n > UMFAX_UDPTL_MAX_SEC)
			return -1;
		p->fec_span = span;
		p->fec_n = (int) n;
		for (int i = 0; i < p->fec_n; i++)
			if (get_octets(buf, len, &pos, &p->fec_data[i], &p->fec_len[i]) < 0)
				return -1;
	} else {
		return -1;
	}
	return pos == len ? 0 : -1;
}

static int put_len(uint8_t *buf, size_t n, size_t *pos, size_t v)
{
	if (v < 128) {
		if (*pos + 1 > n)
			return -1;
		buf[(*pos)++] = (uint8_t) v;
		return 0;
	}
	if (v < 16384) {
		if (*pos + 2 > n)
			return -1;
		buf[(*pos)++] = (uint8_t) (0x80 | v >> 8);
		buf[(*pos)++] = (uint8_t) (v & 0xff);
		return 0;
	}
	return -1;
}

static int put_octets(uint8_t *buf, size_t n, size_t *pos, const uint8_t *d, size_t dl)
{
	if (dl > UMFAX_UDPTL_MAX_IFP || put_len(buf, n, pos, dl) < 0 || dl > n - *pos)
		return -1;
	if (dl)
		memcpy(buf + *pos, d, dl);
	*pos += dl;
	return 0;
}

long umfax_udptl_encode(uint8_t *buf, size_t n, const struct umfax_udptl_pkt *p)
{
	size_t pos = 0;
	if (n < 3 || !p->ifp || p->ifp_len == 0)
		return -1;
	buf[pos++] = (uint8_t) (p->seq >> 8);
	buf[pos++] = (uint8_t) (p->seq & 0xff);
	if (put_octets(buf, n, &pos, p->ifp, p->ifp_len) < 0 || pos >= n)
		return -1;
	if (!p->fec) {
		if (p->nsec < 0 || p->nsec > UMFAX_UDPTL_MAX_SEC)
			return -1;
		buf[pos++] = 0x00;
		if (put_len(buf, n, &pos, (size_t) p->nsec) < 0)
			return -1;
		for (int i = 0; i < p->nsec; i++)
			if (put_octets(buf, n, &pos, p->sec[i], p->sec_len[i]) < 0)
				return -1;
	} else {
		if (p->fec_n < 0 || p->fec_n > UMFAX_UDPTL_MAX_SEC || p->fec_span < 0 || p->fec_span > 0xffff)
			return -1;
		if (pos + 4 > n)
			return -1;
		buf[pos++] = 0x80;
		/* fec-npackets: one octet as every implementation writes it, two when it must */
		if (p->fec_span > 255) {
			buf[pos++] = 2;
			buf[pos++] = (uint8_t) (p->fec_span >> 8);
		} else {
			buf[pos++] = 1;
		}
		buf[pos++] = (uint8_t) (p->fec_span & 0xff);
		if (put_len(buf, n, &pos, (size_t) p->fec_n) < 0)
			return -1;
		for (int i = 0; i < p->fec_n; i++)
			if (put_octets(buf, n, &pos, p->fec_data[i], p->fec_len[i]) < 0)
				return -1;
	}
	return (long) pos;
}

/* ---- sender: FEC ---- */

int umfax_udptl_tx_init(struct umfax_udptl_tx *t, int span, int entries)
{
	memset(t, 0, sizeof(*t));
	if (span < 1 || span > 255 || entries < 1 || entries > UMFAX_UDPTL_MAX_SEC ||
	    span * entries >= UMFAX_UDPTL_TX_RING)
		return -1;
	t->span = span;
	t->entries = entries;
	return 0;
}

void umfax_udptl_tx_fec(struct umfax_udptl_tx *t, struct umfax_udptl_pkt *p, int entries)
{
	int span = t->span;

	p->fec = 1;
	p->nsec = 0;
	if (entries > t->entries)
		entries = t->entries;
	if (entries < 0)
		entries = 0;
	/* the first packets: only entries whose packets all exist */
	if (t->n < (int64_t) span * entries)
		entries = (int) (t->n / span);
	p->fec_span = entries > 0 ? span : 0;
	p->fec_n = entries;
	for (int m = 0; m < entries; m++) {
		uint8_t *x = t->par[m];
		size_t hi = 0;
		int64_t limit = t->n + m;
		for (int64_t k = limit - (int64_t) span * entries; k < limit; k += entries) {
			size_t l = t->len[k % UMFAX_UDPTL_TX_RING];
			const uint8_t *b = t->ifp[k % UMFAX_UDPTL_TX_RING];
			size_t j;
			for (j = 0; j < l && j < hi; j++)
				x[j] ^= b[j];
			for (; j < l; j++)
				x[j] = b[j];
			if (l > hi)
				hi = l;
		}
		p->fec_data[m] = x;
		p->fec_len[m] = hi;
	}
}

void umfax_udptl_tx_add(struct umfax_udptl_tx *t, const uint8_t *ifp, size_t len)
{
	size_t i = (size_t) (t->n % UMFAX_UDPTL_TX_RING);
	if (len > UMFAX_UDPTL_MAX_IFP)
		len = 0;                 /* never sent: counts as empty */
	if (len)
		memcpy(t->ifp[i], ifp, len);
	t->len[i] = len;
	t->n++;
}

/* ---- receiver ---- */

/* T.38 IFPPacket (ITU-T T.38 clause 7, PER as spandsp and the gateways
 * write it): octet 0 has data-field-present (0x80), the type-of-msg choice
 * (0x40) and the extension bit of its enumeration (0x20, then 2 octets);
 * the data field is a count and per field a field-type octet (data present
 * 0x80; version 0 has no extension bit and packs a field without data into
 * a half octet; later versions have the extension bit 0x40, then 2 octets)
 * and field-data as a 16-bit length-1 and the octets. */
/* MODE 0: version 0 with half octets, 1: version 0 a whole octet per field
 * type (as spandsp writes it), 2: versions 1..3. */
static size_t walk_ifp(const uint8_t *b, size_t max, int mode)
{
	size_t pos, count;
	int half = 0;

	if (max == 0)
		return 0;
	pos = b[0] & 0x20 ? 2 : 1;
	if (pos > max)
		return 0;
	if (b[0] & 0x80) {
		if (!(b[0] & 0x40) || pos >= max)     /* an indicator has no data field */
			return 0;
		count = b[pos++];
		if (count & 0x80) {
			if ((count & 0xc0) != 0x80 || pos >= max)
				return 0;
			count = (count & 0x3f) << 8 | b[pos++];
		}
		if (count == 0)
			return 0;
		for (size_t i = 0; i < count; i++) {
			int present;
			if (pos >= max)
				return 0;
			if (mode == 0) {
				if (half) {
					present = b[pos] & 0x08;
					pos++;
					half = 0;
				} else {
					present = b[pos] & 0x80;
					if (present)
						pos++;
					else
						half = 1;
				}
			} else if (mode == 1) {
				present = b[pos] & 0x80;
				pos++;
			} else {
				present = b[pos] & 0x80;
				pos += b[pos] & 0x40 ? 2 : 1;
			}
			if (present) {
				if (half || pos + 2 > max)
					return 0;
				size_t fl = ((size_t) b[pos] << 8 | b[pos + 1]) + 1;
				pos += 2;
				if (fl > max - pos)
					return 0;
				pos += fl;
			}
		}
		if (half)
			pos++;
		if (pos > max)
			return 0;
	}
	for (size_t j = pos; j < max; j++)
		if (b[j])
			return 0;
	return pos;
}

size_t umfax_udptl_ifp_len(const uint8_t *b, size_t max, int version)
{
	size_t l;
	if (version > 0)
		return walk_ifp(b, max, 2);
	/* half octets first: read as whole octets, the zero padding after a
	 * packed IFP would pass for one more field type */
	if ((l = walk_ifp(b, max, 0)) != 0)
		return l;
	return walk_ifp(b, max, 1);
}

/* The length of an IFP rebuilt from parity into B (FL octets). */
static size_t repaired_len(const struct umfax_udptl_rx *r, const uint8_t *b, size_t fl)
{
	size_t l;
	if (r->t38_version >= 0)
		l = umfax_udptl_ifp_len(b, fl, r->t38_version);
	else if (!(l = umfax_udptl_ifp_len(b, fl, 1)))
		l = umfax_udptl_ifp_len(b, fl, 0);
	if (l)
		return l;
	/* not an IFP we can walk: the parity without its zero tail */
	while (fl > 1 && b[fl - 1] == 0)
		fl--;
	return fl;
}

int umfax_udptl_rx_init(struct umfax_udptl_rx *r, int hold,
    umfax_udptl_deliver_fn *deliver, void *arg)
{
	memset(r, 0, sizeof(*r));
	if (hold < 0)
		hold = 0;
	if (hold > 64)
		hold = 64;
	r->hold = hold;
	r->t38_version = -1;
	r->deliver = deliver;
	r->arg = arg;
	r->ring = calloc(UMFAX_UDPTL_RING, sizeof(*r->ring));
	if (!r->ring)
		return -1;
	for (int i = 0; i < UMFAX_UDPTL_RING; i++)
		r->ring[i].seq = -1;
	return 0;
}

void umfax_udptl_rx_release(struct umfax_udptl_rx *r)
{
	if (r->ring)
		for (int i = 0; i < UMFAX_UDPTL_RING; i++)
			free(r->ring[i].fec);
	free(r->ring);
	r->ring = NULL;
}

static struct umfax_udptl_slot *slot(struct umfax_udptl_rx *r, int64_t seq)
{
	return &r->ring[(uint64_t) seq % UMFAX_UDPTL_RING];
}

/* The slot for SEQ, claimed (and cleared) if it held an older seq. */
static struct umfax_udptl_slot *claim(struct umfax_udptl_rx *r, int64_t seq)
{
	struct umfax_udptl_slot *s = slot(r, seq);
	if (s->seq != seq) {
		s->seq = seq;
		s->have = 0;
		s->len = 0;
		s->fec_n = 0;
		s->fec_span = 0;
	}
	return s;
}

static int have(struct umfax_udptl_rx *r, int64_t seq)
{
	struct umfax_udptl_slot *s = slot(r, seq);
	return s->seq == seq && s->have;
}

static void store(struct umfax_udptl_rx *r, int64_t seq, const uint8_t *ifp, size_t len)
{
	struct umfax_udptl_slot *s = claim(r, seq);
	if (s->have || len > UMFAX_UDPTL_MAX_IFP)
		return;
	memcpy(s->ifp, ifp, len);
	s->len = len;
	s->have = 1;
}

/* Repair what the FEC entries of the packets in the ring allow.  Returns how
 * many IFPs were rebuilt. */
static int fec_repair(struct umfax_udptl_rx *r)
{
	int fixed = 0;
	for (int64_t l = r->high; l >= r->next && l > r->high - UMFAX_UDPTL_RING / 2; l--) {
		struct umfax_udptl_slot *ls = slot(r, l);
		if (ls->seq != l || !ls->fec || ls->fec_n <= 0 || ls->fec_span <= 0)
			continue;
		for (int m = 0; m < ls->fec_n; m++) {
			int64_t limit = l + m, first = limit - (int64_t) ls->fec_span * ls->fec_n;
			int64_t which = -1;
			int missing = 0;
			if (first < 0 || limit - first > UMFAX_UDPTL_RING / 2)
				continue;
			for (int64_t k = first; k < limit; k += ls->fec_n)
				if (!have(r, k)) {
					missing++;
					which = k;
				}
			if (missing != 1 || which < r->next || ls->fec_len[m] == 0)
				continue;
			struct umfax_udptl_slot *w = claim(r, which);
			size_t fl = ls->fec_len[m];
			memcpy(w->ifp, ls->fec + (size_t) m * UMFAX_UDPTL_MAX_IFP, fl);
			for (int64_t k = first; k < limit; k += ls->fec_n) {
				if (k == which)
					continue;
				struct umfax_udptl_slot *ks = slot(r, k);
				for (size_t j = 0; j < fl && j < ks->len; j++)
					w->ifp[j] ^= ks->ifp[j];
			}
			/* the parity is as long as the longest packet it covers */
			w->len = repaired_len(r, w->ifp, fl);
			w->have = 1;
			r->from_fec++;
			fixed++;
		}
	}
	return fixed;
}

/* Hand out, in order, what is there; give up a missing one once HOLD newer
 * packets have arrived (or always when FORCE). */
static void drain(struct umfax_udptl_rx *r, int force)
{
	while (r->next <= r->high) {
		struct umfax_udptl_slot *s = slot(r, r->next);
		if (s->seq == r->next && s->have) {
			r->deliver(r->arg, (uint16_t) r->next, s->ifp, s->len, 0);
		} else if (force || r->high - r->next > r->hold) {
			r->lost++;
			r->deliver(r->arg, (uint16_t) r->next, NULL, 0, 1);
		} else {
			break;
		}
		r->next++;
	}
}

int umfax_udptl_rx_packet(struct umfax_udptl_rx *r, const uint8_t *buf, size_t len)
{
	struct umfax_udptl_pkt p;

	if (umfax_udptl_parse(buf, len, &p) < 0) {
		r->bad++;
		return -1;
	}
	r->packets++;
	int64_t seq;
	if (!r->started) {
		r->started = 1;
		seq = 0x10000 + p.seq;     /* room below for secondaries */
		r->high = seq;
		r->next = seq - (p.fec ? 0 : p.nsec);
	} else {
		int16_t d = (int16_t) (p.seq - (uint16_t) r->high);
		seq = r->high + d;
		if (d > 1000 || d < -1000 || seq < 0) {   /* a sequence restart */
			drain(r, 1);
			r->restarts++;
			seq = r->high + 0x10000 + p.seq;
			r->high = seq;
			r->next = seq;
		}
	}
	if (seq < r->next || have(r, seq)) {
		if (seq < r->next)
			r->late++;
		else
			r->dups++;
		return 0;
	}
	if (seq > r->high) {
		/* slots between the old high and seq belong to new numbers now */
		for (int64_t k = r->high + 1; k < seq && k > seq - UMFAX_UDPTL_RING; k++)
			claim(r, k);
		r->high = seq;
	}
	/* The ring must not be overrun by undelivered entries. */
	while (r->high - r->next >= UMFAX_UDPTL_RING / 2) {
		struct umfax_udptl_slot *s = slot(r, r->next);
		if (s->seq == r->next && s->have) {
			r->deliver(r->arg, (uint16_t) r->next, s->ifp, s->len, 0);
		} else {
			r->lost++;
			r->deliver(r->arg, (uint16_t) r->next, NULL, 0, 1);
		}
		r->next++;
	}
	store(r, seq, p.ifp, p.ifp_len);
	if (!p.fec) {
		for (int i = 0; i < p.nsec; i++) {
			int64_t k = seq - 1 - i;
			if (k < r->next || have(r, k) || p.sec_len[i] == 0)
				continue;
			store(r, k, p.sec[i], p.sec_len[i]);
			r->from_red++;
		}
	} else if (p.fec_n > 0 && p.fec_span > 0) {
		/* FEC repairs a loss only span*entries packets later: wait that long */
		int need = p.fec_span * p.fec_n + 1;
		if (need > r->hold)
			r->hold = need > 64 ? 64 : need;
		struct umfax_udptl_slot *s = slot(r, seq);
		if (!s->fec)
			s->fec = malloc((size_t) UMFAX_UDPTL_MAX_SEC * UMFAX_UDPTL_MAX_IFP);
		if (s->fec) {
			s->fec_span = p.fec_span;
			s->fec_n = p.fec_n;
			for (int i = 0; i < p.fec_n; i++) {
				s->fec_len[i] = p.fec_len[i];
				memcpy(s->fec + (size_t) i * UMFAX_UDPTL_MAX_IFP, p.fec_data[i], p.fec_len[i]);
			}
		}
		while (fec_repair(r) > 0)
			;
	}
	drain(r, 0);
	return 0;
}

void umfax_udptl_rx_flush(struct umfax_udptl_rx *r)
{
	if (r->started)
		drain(r, 1);
}
