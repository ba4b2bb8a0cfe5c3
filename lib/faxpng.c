/* faxpng.c - a small deflate encoder (RFC 1950/1951) and PNG writer, for the
 * preview of a fax page.  No zlib: fixed Huffman codes with greedy LZ77
 * matching on a hash chain compress a scaled fax page (long runs of white)
 * to a few tens of kilobytes, which is all a mail preview needs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "faxtiff.h"

uint32_t umfax_crc32(uint32_t crc, const unsigned char *p, size_t n)
{
	static uint32_t tab[256];
	static int ready;
	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
			tab[i] = c;
		}
		ready = 1;
	}
	crc = ~crc;
	while (n--)
		crc = tab[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint32_t umfax_adler32(uint32_t a, const unsigned char *p, size_t n)
{
	uint32_t s1 = a & 0xffff, s2 = a >> 16;
	while (n) {
		size_t k = n < 5552 ? n : 5552;   /* no overflow before the modulo */
		n -= k;
		while (k--) {
			s1 += *p++;
			s2 += s1;
		}
		s1 %= 65521;
		s2 %= 65521;
	}
	return s2 << 16 | s1;
}

/* ---- bit writer ----------------------------------------------------------- */

struct bits {
	unsigned char *b;
	size_t len, cap;
	uint64_t acc;
	int n;
	int failed;
};

static void put_byte(struct bits *w, unsigned char c)
{
	if (w->failed)
		return;
	if (w->len == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 4096;
		unsigned char *nb = realloc(w->b, cap);
		if (!nb) {
			w->failed = 1;
			return;
		}
		w->b = nb;
		w->cap = cap;
	}
	w->b[w->len++] = c;
}

/* Append the N low bits of V, least significant first (deflate bit order). */
static void put_bits(struct bits *w, uint32_t v, int n)
{
	w->acc |= (uint64_t)v << w->n;
	w->n += n;
	while (w->n >= 8) {
		put_byte(w, (unsigned char)w->acc);
		w->acc >>= 8;
		w->n -= 8;
	}
}

/* Huffman codes go most significant bit first. */
static void put_code(struct bits *w, uint32_t code, int n)
{
	uint32_t r = 0;
	for (int i = 0; i < n; i++)
		r |= ((code >> i) & 1) << (n - 1 - i);
	put_bits(w, r, n);
}

/* The fixed literal/length code of RFC 1951 3.2.6. */
static void put_litlen(struct bits *w, int sym)
{
	if (sym < 144)
		put_code(w, 0x30 + (uint32_t)sym, 8);
	else if (sym < 256)
		put_code(w, 0x190 + (uint32_t)(sym - 144), 9);
	else if (sym < 280)
		put_code(w, (uint32_t)(sym - 256), 7);
	else
		put_code(w, 0xc0 + (uint32_t)(sym - 280), 8);
}

static const uint16_t len_base[29] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23,
	27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258 };
static const uint8_t len_extra[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
	3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const uint16_t dist_base[30] = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97,
	129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289,
	16385, 24577 };
static const uint8_t dist_extra[30] = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
	7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };

static void put_match(struct bits *w, int len, int dist)
{
	int i = 28;
	while (len_base[i] > len)
		i--;
	put_litlen(w, 257 + i);
	if (len_extra[i])
		put_bits(w, (uint32_t)(len - len_base[i]), len_extra[i]);
	int d = 29;
	while (dist_base[d] > dist)
		d--;
	put_code(w, (uint32_t)d, 5);
	if (dist_extra[d])
		put_bits(w, (uint32_t)(dist - dist_base[d]), dist_extra[d]);
}

#define WBITS   15
#define WSIZE   (1 << WBITS)
#define HBITS   15
#define HSIZE   (1 << HBITS)
#define MAXCHAIN 48

unsigned char *umfax_zlib_compress(const unsigned char *src, size_t len, size_t *outlen)
{
	struct bits w = { 0 };
	int32_t *head = malloc(HSIZE * sizeof *head);
	int32_t *prev = malloc(WSIZE * sizeof *prev);

	if (!head || !prev) {
		free(head);
		free(prev);
		return NULL;
	}
	for (int i = 0; i < HSIZE; i++)
		head[i] = -1;
	put_byte(&w, 0x78);              /* deflate, 32 KiB window */
	put_byte(&w, 0x01);              /* fastest; (0x78 << 8 | 0x01) % 31 == 0 */
	put_bits(&w, 1, 1);              /* BFINAL: one block */
	put_bits(&w, 1, 2);              /* BTYPE 01: fixed Huffman codes */
	size_t i = 0;
	while (i < len) {
		int best = 0, bestd = 0;
		if (i + 3 <= len) {
			uint32_t h = ((uint32_t)src[i] << 10 ^ (uint32_t)src[i + 1] << 5 ^ src[i + 2]) & (HSIZE - 1);
			int32_t cand = head[h];
			int chain = MAXCHAIN;
			size_t maxlen = len - i < 258 ? len - i : 258;
			while (cand >= 0 && i - (size_t)cand <= WSIZE - 1 && chain--) {
				const unsigned char *a = src + cand, *b = src + i;
				if (a[best] == b[best]) {
					size_t k = 0;
					while (k < maxlen && a[k] == b[k])
						k++;
					if ((int)k > best) {
						best = (int)k;
						bestd = (int)(i - (size_t)cand);
						if (k == maxlen)
							break;
					}
				}
				cand = prev[cand & (WSIZE - 1)];
			}
			prev[i & (WSIZE - 1)] = head[h];
			head[h] = (int32_t)i;
		}
		if (best >= 3) {
			put_match(&w, best, bestd);
			/* Enter the skipped positions into the hash chains. */
			for (size_t k = i + 1; k < i + (size_t)best && k + 3 <= len; k++) {
				uint32_t h = ((uint32_t)src[k] << 10 ^ (uint32_t)src[k + 1] << 5 ^ src[k + 2]) & (HSIZE - 1);
				prev[k & (WSIZE - 1)] = head[h];
				head[h] = (int32_t)k;
			}
			i += (size_t)best;
		} else {
			put_litlen(&w, src[i]);
			i++;
		}
	}
	put_litlen(&w, 256);             /* end of block */
	if (w.n > 0)
		put_bits(&w, 0, 8 - w.n);
	uint32_t ad = umfax_adler32(1, src, len);
	put_byte(&w, (unsigned char)(ad >> 24));
	put_byte(&w, (unsigned char)(ad >> 16));
	put_byte(&w, (unsigned char)(ad >> 8));
	put_byte(&w, (unsigned char)ad);
	free(head);
	free(prev);
	if (w.failed) {
		free(w.b);
		return NULL;
	}
	*outlen = w.len;
	return w.b;
}

static void be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* One chunk: length, type, data, CRC over type and data. */
static unsigned char *chunk(unsigned char *p, const char *type, const unsigned char *data,
    size_t n)
{
	be32(p, (uint32_t)n);
	memcpy(p + 4, type, 4);
	if (n)
		memcpy(p + 8, data, n);
	be32(p + 8 + n, umfax_crc32(0, p + 4, n + 4));
	return p + 12 + n;
}

unsigned char *umfax_png_gray(const unsigned char *pix, uint32_t w, uint32_t h,
    size_t *outlen)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

	if (w == 0 || h == 0 || w > 65536 || h > 65536)
		return NULL;
	size_t rowlen = (size_t)w + 1;
	unsigned char *raw = malloc(rowlen * h);
	if (!raw)
		return NULL;
	for (uint32_t y = 0; y < h; y++) {
		raw[y * rowlen] = 0;                  /* filter: none */
		memcpy(raw + y * rowlen + 1, pix + (size_t)y * w, w);
	}
	size_t zlen = 0;
	unsigned char *z = umfax_zlib_compress(raw, rowlen * h, &zlen);
	free(raw);
	if (!z)
		return NULL;
	unsigned char *png = malloc(8 + 25 + 12 + zlen + 12);
	if (!png) {
		free(z);
		return NULL;
	}
	unsigned char ihdr[13];
	be32(ihdr, w);
	be32(ihdr + 4, h);
	ihdr[8] = 8;          /* bit depth */
	ihdr[9] = 0;          /* grey */
	ihdr[10] = 0;         /* deflate */
	ihdr[11] = 0;         /* filter method 0 */
	ihdr[12] = 0;         /* no interlace */
	memcpy(png, sig, 8);
	unsigned char *p = chunk(png + 8, "IHDR", ihdr, sizeof ihdr);
	p = chunk(p, "IDAT", z, zlen);
	p = chunk(p, "IEND", NULL, 0);
	free(z);
	*outlen = (size_t)(p - png);
	return png;
}
