/* faxtiff.c - check, normalise, PDF and PNG preview of fax TIFFs in memory.
 *
 * One walker reads a TIFF from memory (TIFFClientOpenExt with our own
 * read/seek/map procedures), checks every directory for the lies a TIFF can
 * tell (strips past the end, impossible sizes and resolutions, no pages),
 * decodes every row and hands the rows to a consumer: nothing (check), a
 * second libtiff handle writing into memory (normalise), or the preview
 * scaler.  The PDF writer embeds the T.6 strips of a normalised TIFF as they
 * are. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <tiffio.h>
#include "faxtiff.h"

#define MAX_OUTPUT      (1024UL * 1024 * 1024)   /* a normalised TIFF or PDF */
#define MAX_ALLOC       (256L * 1024 * 1024)     /* one libtiff allocation */

/* ---- memory I/O for libtiff ------------------------------------------ */

struct mem {
	const unsigned char *rbuf;    /* reading: the caller's buffer */
	size_t rlen;
	unsigned char *wbuf;          /* writing: our growing buffer */
	size_t wlen, wcap;
	uint64_t pos;
	int writing;
	int failed;                   /* a write could not be done */
};

static tmsize_t mem_read(thandle_t h, void *data, tmsize_t size)
{
	struct mem *m = h;
	const unsigned char *b = m->writing ? m->wbuf : m->rbuf;
	size_t len = m->writing ? m->wlen : m->rlen;

	if (size <= 0 || m->pos >= len)
		return 0;
	size_t n = len - (size_t)m->pos;
	if ((uint64_t)size < n)
		n = (size_t)size;
	memcpy(data, b + m->pos, n);
	m->pos += n;
	return (tmsize_t)n;
}

static tmsize_t mem_write(thandle_t h, void *data, tmsize_t size)
{
	struct mem *m = h;

	if (!m->writing || size < 0) {
		m->failed = 1;
		return -1;
	}
	uint64_t end = m->pos + (uint64_t)size;
	if (end > MAX_OUTPUT) {
		m->failed = 1;
		return -1;
	}
	if (end > m->wcap) {
		size_t cap = m->wcap ? m->wcap : 65536;
		while (cap < end)
			cap *= 2;
		unsigned char *nb = realloc(m->wbuf, cap);
		if (!nb) {
			m->failed = 1;
			return -1;
		}
		m->wbuf = nb;
		m->wcap = cap;
	}
	if (m->pos > m->wlen)
		memset(m->wbuf + m->wlen, 0, (size_t)(m->pos - m->wlen));
	memcpy(m->wbuf + m->pos, data, (size_t)size);
	m->pos = end;
	if (end > m->wlen)
		m->wlen = (size_t)end;
	return size;
}

static toff_t mem_seek(thandle_t h, toff_t off, int whence)
{
	struct mem *m = h;
	uint64_t base;

	switch (whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = m->pos; break;
	case SEEK_END: base = m->writing ? m->wlen : m->rlen; break;
	default: return (toff_t)-1;
	}
	if (off > MAX_OUTPUT || base + off > MAX_OUTPUT)
		return (toff_t)-1;
	m->pos = base + off;
	return m->pos;
}

static int mem_close(thandle_t h)
{
	(void)h;
	return 0;
}

static toff_t mem_size(thandle_t h)
{
	struct mem *m = h;
	return m->writing ? m->wlen : m->rlen;
}

static int mem_map(thandle_t h, void **base, toff_t *size)
{
	struct mem *m = h;

	if (m->writing)
		return 0;
	*base = (void *)(uintptr_t)m->rbuf;
	*size = m->rlen;
	return 1;
}

static void mem_unmap(thandle_t h, void *base, toff_t size)
{
	(void)h; (void)base; (void)size;
}

/* ---- libtiff messages: kept, never printed ----------------------------- */

struct tmsg {
	int nerr;
	long nwarn;
	char err[200];
	char warn[160];
};

static int msg_error(TIFF *t, void *ud, const char *module, const char *fmt, va_list ap)
{
	struct tmsg *c = ud;
	(void)t; (void)module;
	if (c->nerr++ == 0)
		vsnprintf(c->err, sizeof c->err, fmt, ap);
	return 1;
}

static int msg_warning(TIFF *t, void *ud, const char *module, const char *fmt, va_list ap)
{
	struct tmsg *c = ud;
	(void)t; (void)module;
	if (c->nwarn++ == 0)
		vsnprintf(c->warn, sizeof c->warn, fmt, ap);
	return 1;
}

/* Messages libtiff gives without a TIFF handle would go to the global
 * handlers, which print on stderr: switch those off once. */
static void silence_libtiff(void)
{
	static int done;
	if (!done) {
		TIFFSetErrorHandler(NULL);
		TIFFSetWarningHandler(NULL);
		done = 1;
	}
}

static TIFF *open_mem(struct mem *m, struct tmsg *c, const char *mode)
{
	silence_libtiff();
	TIFFOpenOptions *op = TIFFOpenOptionsAlloc();
	if (!op)
		return NULL;
	TIFFOpenOptionsSetErrorHandlerExtR(op, msg_error, c);
	TIFFOpenOptionsSetWarningHandlerExtR(op, msg_warning, c);
	TIFFOpenOptionsSetMaxSingleMemAlloc(op, MAX_ALLOC);
	TIFF *t = TIFFClientOpenExt("memory", mode, (thandle_t)m, mem_read, mem_write,
	    mem_seek, mem_close, mem_size, mem_map, mem_unmap, op);
	TIFFOpenOptionsFree(op);
	return t;
}

/* Copy a libtiff message into a one-line reason. */
static const char *oneline(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return s;
}

/* ---- names, widths, resolutions ---------------------------------------- */

const char *umfax_tiff_comp_name(int comp)
{
	switch (comp) {
	case UMFAX_TIFF_MH: return "MH";
	case UMFAX_TIFF_MR: return "MR";
	case UMFAX_TIFF_MMR: return "MMR";
	default: return "other";
	}
}

int umfax_tiff_comp_from_name(const char *name)
{
	if (!name)
		return -1;
	if (!strcasecmp(name, "mh") || !strcasecmp(name, "g3"))
		return UMFAX_TIFF_MH;
	if (!strcasecmp(name, "mr") || !strcasecmp(name, "g3-2d"))
		return UMFAX_TIFF_MR;
	if (!strcasecmp(name, "mmr") || !strcasecmp(name, "g4"))
		return UMFAX_TIFF_MMR;
	return -1;
}

int umfax_tiff_fax_width(uint32_t width, int xdpi)
{
	static const struct { int dpi; uint32_t w[5]; } tab[] = {
		{ 100,  {  864, 1024, 1216, 0, 0 } },
		{ 102,  {  864, 1024, 1216, 0, 0 } },
		{ 200,  { 1728, 2048, 2432, 1216, 864 } },
		{ 204,  { 1728, 2048, 2432, 1216, 864 } },
		{ 300,  { 2592, 3072, 3648, 0, 0 } },
		{ 400,  { 3456, 4096, 4864, 0, 0 } },
		{ 408,  { 3456, 4096, 4864, 0, 0 } },
		{ 600,  { 5184, 6144, 7296, 0, 0 } },
		{ 1200, { 10368, 12288, 14592, 0, 0 } },
	};
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		if (tab[i].dpi != xdpi)
			continue;
		for (int j = 0; j < 5; j++)
			if (tab[i].w[j] && tab[i].w[j] == width)
				return 1;
	}
	return 0;
}

/* Snap DPI to the nearest fax value within 2 %, else round it. */
static int snap_dpi(double dpi, const int *tab, size_t n)
{
	int best = 0;
	double bestd = 0;
	for (size_t i = 0; i < n; i++) {
		double d = fabs(dpi - tab[i]);
		if (d <= tab[i] * 0.02 && (!best || d < bestd)) {
			best = tab[i];
			bestd = d;
		}
	}
	return best ? best : (int)lround(dpi);
}

static const int xdpis[] = { 100, 102, 200, 204, 300, 400, 408, 600, 1200 };
static const int ydpis[] = { 98, 100, 196, 200, 300, 391, 400, 600, 800, 1200 };

/* ---- info --------------------------------------------------------------- */

void umfax_tiff_info_init(struct umfax_tiff_info *info)
{
	memset(info, 0, sizeof *info);
}

void umfax_tiff_info_release(struct umfax_tiff_info *info)
{
	free(info->page);
	umfax_tiff_info_init(info);
}

static int is_fax_codec(uint16_t comp)
{
	return comp == COMPRESSION_CCITTFAX3 || comp == COMPRESSION_CCITTFAX4 ||
	    comp == COMPRESSION_CCITTRLE || comp == COMPRESSION_CCITTRLEW;
}

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		oneline(err);
	}
	return code;
}

/* What one page is, from its directory.  0 or EX_DATAERR with ERR. */
static int page_describe(TIFF *t, struct tmsg *c, size_t filelen, int pageno,
    struct umfax_tiff_page *p, uint16_t *photo, uint32_t *consec,
    uint16_t *clean, char *err, size_t errlen)
{
	uint32_t w = 0, l = 0, rps = 0, t4 = 0;
	uint16_t bps = 1, spp = 1, comp = COMPRESSION_NONE, unit = RESUNIT_INCH;
	float xr = 0, yr = 0;

	memset(p, 0, sizeof *p);
	if (!TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w) || !TIFFGetField(t, TIFFTAG_IMAGELENGTH, &l))
		return fail(err, errlen, EX_DATAERR, "page %d: no image width or length", pageno);
	if (w == 0 || l == 0 || w > UMFAX_TIFF_MAX_WIDTH || l > UMFAX_TIFF_MAX_LENGTH)
		return fail(err, errlen, EX_DATAERR, "page %d: impossible size %" PRIu32 "x%" PRIu32,
		    pageno, w, l);
	if ((uint64_t)w * l > UMFAX_TIFF_MAX_PIXELS)
		return fail(err, errlen, EX_DATAERR,
		    "page %d: impossible size %" PRIu32 "x%" PRIu32 " (more than %lu million pixels)",
		    pageno, w, l, UMFAX_TIFF_MAX_PIXELS / 1000000);
	p->width = w;
	p->length = l;
	TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bps);
	TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
	if (bps != 1 || spp != 1)
		return fail(err, errlen, EX_DATAERR,
		    "page %d: not a black and white page (%u bits per sample, %u samples per pixel)",
		    pageno, bps, spp);
	if (TIFFIsTiled(t))
		return fail(err, errlen, EX_DATAERR, "page %d: tiled image, not a fax page", pageno);
	TIFFGetFieldDefaulted(t, TIFFTAG_COMPRESSION, &comp);
	p->tiff_comp = comp;
	switch (comp) {
	case COMPRESSION_CCITTFAX3:
		TIFFGetFieldDefaulted(t, TIFFTAG_GROUP3OPTIONS, &t4);
		p->comp = (t4 & GROUP3OPT_2DENCODING) ? UMFAX_TIFF_MR : UMFAX_TIFF_MH;
		break;
	case COMPRESSION_CCITTRLE:
	case COMPRESSION_CCITTRLEW:
		p->comp = UMFAX_TIFF_MH;
		break;
	case COMPRESSION_CCITTFAX4:
		p->comp = UMFAX_TIFF_MMR;
		break;
	case COMPRESSION_NONE:
	case COMPRESSION_PACKBITS:
	case COMPRESSION_LZW:
	case COMPRESSION_ADOBE_DEFLATE:
	case COMPRESSION_DEFLATE:
	case COMPRESSION_JBIG:
		p->comp = UMFAX_TIFF_OTHER;
		break;
	default:
		return fail(err, errlen, EX_DATAERR,
		    "page %d: compression %u is not used for fax pages", pageno, comp);
	}
	if (!TIFFIsCODECConfigured(comp))
		return fail(err, errlen, EX_DATAERR,
		    "page %d: compression %u is not supported by this libtiff", pageno, comp);
	if (!TIFFGetField(t, TIFFTAG_PHOTOMETRIC, photo))
		*photo = PHOTOMETRIC_MINISWHITE;
	if (*photo != PHOTOMETRIC_MINISWHITE && *photo != PHOTOMETRIC_MINISBLACK)
		return fail(err, errlen, EX_DATAERR,
		    "page %d: photometric interpretation %u, not black and white", pageno, *photo);

	if (TIFFGetField(t, TIFFTAG_XRESOLUTION, &xr) && TIFFGetField(t, TIFFTAG_YRESOLUTION, &yr)) {
		double fx = xr, fy = yr;
		TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
		if (unit == RESUNIT_CENTIMETER) {
			fx *= 2.54;
			fy *= 2.54;
		}
		if (!isfinite(fx) || !isfinite(fy) || fx < 20 || fy < 20 || fx > 4800 || fy > 4800)
			return fail(err, errlen, EX_DATAERR,
			    "page %d: impossible resolution %gx%g %s", pageno, (double)xr, (double)yr,
			    unit == RESUNIT_CENTIMETER ? "per cm" : "dpi");
		p->xdpi = snap_dpi(fx, xdpis, sizeof xdpis / sizeof xdpis[0]);
		p->ydpi = snap_dpi(fy, ydpis, sizeof ydpis / sizeof ydpis[0]);
	} else {
		/* No resolution: a fax page.  Guess fine, or standard when the
		 * page is short for fine (an A4 page has ~1143 rows at 98 lpi). */
		p->xdpi = 204;
		p->ydpi = (w <= 2432 && l < 1500) ? 98 : 196;
		p->res_guessed = 1;
	}
	p->fax_width = umfax_tiff_fax_width(w, p->xdpi);

	uint32_t n = TIFFNumberOfStrips(t);
	if (n == 0)
		return fail(err, errlen, EX_DATAERR, "page %d: no image data (no strips)", pageno);
	TIFFGetFieldDefaulted(t, TIFFTAG_ROWSPERSTRIP, &rps);
	if (rps == 0)
		return fail(err, errlen, EX_DATAERR, "page %d: RowsPerStrip is 0", pageno);
	p->strips = (int)n;
	for (uint32_t i = 0; i < n; i++) {
		int bad = 0;
		uint64_t off = TIFFGetStrileOffsetWithErr(t, i, &bad);
		uint64_t cnt = bad ? 0 : TIFFGetStrileByteCountWithErr(t, i, &bad);
		if (bad)
			return fail(err, errlen, EX_DATAERR, "page %d: strip %u has no offset or size%s%s",
			    pageno, i + 1, c->nerr ? ": " : "", c->nerr ? c->err : "");
		if (cnt == 0)
			return fail(err, errlen, EX_DATAERR,
			    "page %d: strip %u of %u has no data (%llu bytes at offset %llu)",
			    pageno, i + 1, n, (unsigned long long)cnt, (unsigned long long)off);
		if (off > filelen || cnt > filelen - off)
			return fail(err, errlen, EX_DATAERR,
			    "page %d: strip %u (%llu bytes at offset %llu) runs past the end of the file (%zu bytes)",
			    pageno, i + 1, (unsigned long long)cnt, (unsigned long long)off, filelen);
	}

	*consec = 0;
	*clean = CLEANFAXDATA_CLEAN;
	if (is_fax_codec(comp)) {
		uint32_t badfax = 0;
		if (TIFFGetField(t, TIFFTAG_BADFAXLINES, &badfax))
			p->bad_rows = badfax > l ? l : badfax;
		TIFFGetField(t, TIFFTAG_CONSECUTIVEBADFAXLINES, consec);
		TIFFGetField(t, TIFFTAG_CLEANFAXDATA, clean);
	}
	return 0;
}

/* ---- the walker ---------------------------------------------------------- */

/* Decode rows 0..N-1 of the current page; how many failed. */
static uint32_t probe(TIFF *t, struct tmsg *c, uint32_t n, unsigned char *row)
{
	uint32_t bad = 0;
	for (uint32_t y = 0; y < n; y++) {
		long w0 = c->nwarn;
		int e0 = c->nerr;
		if (TIFFReadScanline(t, row, y, 0) < 0 || c->nwarn != w0 || c->nerr != e0)
			bad++;
	}
	return bad;
}

/* A fax page of which a quarter of the first rows do not decode may be
 * labelled wrongly: T.4 2-D data with Group3Options saying 1-D (or the
 * reverse), or the other bit order.  Try those on a second handle; return it when all
 * but a sixteenth of the first rows decode, else NULL. */
static TIFF *relabel(const void *buf, size_t len, int pg, struct umfax_tiff_page *p,
    uint32_t n, unsigned char *row, struct mem *m2, struct tmsg *c2)
{
	static const struct { int d2, fill; } v[] = { { 1, 0 }, { 0, 1 }, { 1, 1 } };
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		uint32_t t4 = 0;
		uint16_t fo = FILLORDER_MSB2LSB;
		if (v[i].d2 && p->tiff_comp != COMPRESSION_CCITTFAX3)
			continue;
		memset(m2, 0, sizeof *m2);
		m2->rbuf = buf;
		m2->rlen = len;
		memset(c2, 0, sizeof *c2);
		TIFF *alt = open_mem(m2, c2, "r");
		if (!alt)
			return NULL;
		if (!TIFFSetDirectory(alt, (tdir_t)pg)) {
			TIFFClose(alt);
			return NULL;
		}
		if (v[i].d2) {
			TIFFGetFieldDefaulted(alt, TIFFTAG_GROUP3OPTIONS, &t4);
			TIFFSetField(alt, TIFFTAG_GROUP3OPTIONS, t4 ^ GROUP3OPT_2DENCODING);
		}
		if (v[i].fill) {
			TIFFGetFieldDefaulted(alt, TIFFTAG_FILLORDER, &fo);
			TIFFSetField(alt, TIFFTAG_FILLORDER, fo == FILLORDER_LSB2MSB ?
			    FILLORDER_MSB2LSB : FILLORDER_LSB2MSB);
		}
		if (probe(alt, c2, n, row) <= n / 16) {
			const char *was = umfax_tiff_comp_name(p->comp);
			if (v[i].d2)
				p->comp = (t4 & GROUP3OPT_2DENCODING) ? UMFAX_TIFF_MH : UMFAX_TIFF_MR;
			snprintf(p->repair, sizeof p->repair, "read as %s%s%s%s",
			    umfax_tiff_comp_name(p->comp),
			    v[i].fill ? (fo == FILLORDER_LSB2MSB ? " MSB first" : " LSB first") : "",
			    v[i].d2 ? " although Group3Options say " : " although FillOrder says otherwise",
			    v[i].d2 ? was : "");
			return alt;
		}
		TIFFClose(alt);
	}
	return NULL;
}

struct sink {
	/* Each returns 0, or a sysexits code with ERR filled; may be NULL. */
	int (*begin)(void *arg, int pageno, int npages, const struct umfax_tiff_page *p,
	    uint32_t consec, uint16_t clean, char *err, size_t errlen);
	int (*row)(void *arg, uint32_t y, unsigned char *row, char *err, size_t errlen);
	int (*end)(void *arg, const struct umfax_tiff_page *p, char *err, size_t errlen);
	void *arg;
	int first_only;           /* stop after page 1 */
};

static int walk(const void *buf, size_t len, int max_pages, const struct sink *s,
    struct umfax_tiff_info *info, char *err, size_t errlen)
{
	struct umfax_tiff_info dummy;
	struct mem m = { .rbuf = buf, .rlen = len }, m2;
	struct tmsg c = { 0 }, c2;
	unsigned char *row = NULL;
	TIFF *alt = NULL;
	int rc = 0;

	if (!info) {
		umfax_tiff_info_init(&dummy);
		info = &dummy;
	}
	if (max_pages <= 0 || max_pages > UMFAX_TIFF_MAX_PAGES)
		max_pages = UMFAX_TIFF_MAX_PAGES;
	if (len == 0)
		return fail(err, errlen, EX_DATAERR, "no TIFF data (0 bytes)");
	if (len < 8)
		return fail(err, errlen, EX_DATAERR, "not a TIFF file (%zu bytes)", len);
	const unsigned char *b = buf;
	if (!((b[0] == 'I' && b[1] == 'I') || (b[0] == 'M' && b[1] == 'M')))
		return fail(err, errlen, EX_DATAERR, "not a TIFF file (no II/MM byte order mark)");

	TIFF *t = open_mem(&m, &c, "r");
	if (!t) {
		return fail(err, errlen, EX_DATAERR, "cannot read TIFF: %s",
		    c.nerr ? c.err : "no readable directory");
	}
	tdir_t ndirs = TIFFNumberOfDirectories(t);
	if (ndirs == 0) {
		rc = fail(err, errlen, EX_DATAERR, "TIFF has no pages%s%s",
		    c.nerr ? ": " : "", c.nerr ? c.err : "");
		goto out;
	}
	if (ndirs > (tdir_t)max_pages) {
		rc = fail(err, errlen, EX_DATAERR, "TIFF has %u pages, more than the limit of %d",
		    (unsigned)ndirs, max_pages);
		goto out;
	}
	/* TIFFNumberOfDirectories moved the current directory: back to the first. */
	if (!TIFFSetDirectory(t, 0)) {
		rc = fail(err, errlen, EX_DATAERR, "cannot read page 1: %s", c.nerr ? c.err : "?");
		goto out;
	}
	free(info->page);
	info->page = calloc(ndirs, sizeof *info->page);
	if (!info->page) {
		rc = fail(err, errlen, EX_OSERR, "out of memory");
		goto out;
	}
	info->pages = 0;
	int npages = s && s->first_only ? 1 : (int)ndirs;
	for (int pg = 0; pg < npages; pg++) {
		struct umfax_tiff_page *p = &info->page[pg];
		uint16_t photo, clean;
		uint32_t consec;

		if (pg > 0) {
			int e0 = c.nerr;
			if (TIFFLastDirectory(t) || !TIFFReadDirectory(t)) {
				rc = fail(err, errlen, EX_DATAERR, "cannot read page %d of %u%s%s", pg + 1,
				    (unsigned)ndirs, c.nerr > e0 ? ": " : "", c.nerr > e0 ? c.err : "");
				goto out;
			}
		}
		rc = page_describe(t, &c, len, pg + 1, p, &photo, &consec, &clean, err, errlen);
		if (rc)
			goto out;
		info->pages = pg + 1;

		tmsize_t sl = TIFFScanlineSize(t);
		size_t need = ((size_t)p->width + 7) / 8;
		if (sl <= 0 || (size_t)sl < need) {
			rc = fail(err, errlen, EX_DATAERR, "page %d: bad scan line size", pg + 1);
			goto out;
		}
		free(row);
		row = malloc((size_t)sl);
		if (!row) {
			rc = fail(err, errlen, EX_OSERR, "out of memory");
			goto out;
		}
		/* The rows come from T, or from a relabelled second handle. */
		TIFF *rd = t;
		struct tmsg *cm = &c;
		uint32_t n = p->length < 64 ? p->length : 64;
		if (is_fax_codec((uint16_t)p->tiff_comp) && probe(t, &c, n, row) >= (n + 3) / 4 &&
		    (alt = relabel(buf, len, pg, p, n, row, &m2, &c2)) != NULL) {
			rd = alt;
			cm = &c2;
		}
		if (s && s->begin && (rc = s->begin(s->arg, pg + 1, (int)ndirs, p, consec, clean,
		    err, errlen)) != 0)
			goto out;
		for (uint32_t y = 0; y < p->length; y++) {
			long w0 = cm->nwarn;
			int e0 = cm->nerr;
			if (TIFFReadScanline(rd, row, y, 0) < 0) {
				p->decode_errors++;
				memset(row, photo == PHOTOMETRIC_MINISWHITE ? 0x00 : 0xff, (size_t)sl);
			} else if (cm->nwarn != w0 || cm->nerr != e0) {
				p->decode_errors++;
			}
			if (photo == PHOTOMETRIC_MINISBLACK)
				for (size_t i = 0; i < need; i++)
					row[i] = (unsigned char)~row[i];
			/* Nothing decodes at all: not a damaged page but no page. */
			if (y == 999 && p->decode_errors == 1000) {
				rc = fail(err, errlen, EX_DATAERR,
				    "page %d: the image data does not decode%s%s", pg + 1,
				    cm->nerr ? ": " : "", cm->nerr ? cm->err : "");
				goto out;
			}
			if (s && s->row && (rc = s->row(s->arg, y, row, err, errlen)) != 0)
				goto out;
		}
		if (p->decode_errors == (long)p->length) {
			rc = fail(err, errlen, EX_DATAERR, "page %d: the image data does not decode%s%s",
			    pg + 1, cm->nerr ? ": " : "", cm->nerr ? cm->err : "");
			goto out;
		}
		if (alt) {
			TIFFClose(alt);
			alt = NULL;
		}
		p->bad_rows += p->decode_errors;
		if (p->bad_rows > (long)p->length)
			p->bad_rows = p->length;
		info->bad_rows += p->bad_rows;
		if (s && s->end && (rc = s->end(s->arg, p, err, errlen)) != 0)
			goto out;
	}
out:
	info->warnings = c.nwarn;
	if (c.nwarn)
		snprintf(info->warning, sizeof info->warning, "%s", oneline(c.warn));
	free(row);
	if (alt)
		TIFFClose(alt);
	TIFFClose(t);
	if (info == &dummy)
		umfax_tiff_info_release(&dummy);
	return rc;
}

int umfax_tiff_check(const void *buf, size_t len, int max_pages,
    struct umfax_tiff_info *info, char *err, size_t errlen)
{
	return walk(buf, len, max_pages, NULL, info, err, errlen);
}

/* ---- normalise ------------------------------------------------------------- */

struct norm {
	TIFF *o;
	struct mem m;
	struct tmsg c;
	const struct umfax_tiff_opts *opts;
	int comp;
};

/* HylaFAX's encoding of the session parameters (Class2Params::encode, version 1). */
static uint32_t recv_params(const struct umfax_tiff_page *p, const struct umfax_tiff_opts *o)
{
	static const int rates[] = { 2400, 4800, 7200, 9600, 12000, 14400, 16800, 19200,
		21600, 24000, 26400, 28800, 31200, 33600 };
	uint32_t vr = p->ydpi < 150 ? 0 : p->ydpi < 300 ? 1 : 2;
	uint32_t br = 5;
	for (uint32_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
		if (rates[i] == o->bit_rate)
			br = i;
	double mm = 25.4 * p->width / (p->xdpi > 0 ? p->xdpi : 204);
	uint32_t wd = mm > 280 ? 2 : mm > 235 ? 1 : 0;
	double lmm = 25.4 * p->length / (p->ydpi > 0 ? p->ydpi : 196);
	uint32_t ln = lmm <= 300 ? 0 : lmm <= 370 ? 1 : 2;
	uint32_t df = p->comp == UMFAX_TIFF_MMR ? 3 : p->comp == UMFAX_TIFF_MR ? 1 : 0;
	uint32_t ec = o->ecm ? 1 : 0;
	return (vr & 7) | (br & 15) << 3 | (wd & 7) << 9 | (ln & 3) << 12 | (df & 3) << 14 |
	    ec << 16 | 1u << 21;
}

static int norm_begin(void *arg, int pageno, int npages, const struct umfax_tiff_page *p,
    uint32_t consec, uint16_t clean, char *err, size_t errlen)
{
	struct norm *n = arg;
	TIFF *o = n->o;
	const struct umfax_tiff_opts *op = n->opts;
	int ok = 1;

	ok &= TIFFSetField(o, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
	ok &= TIFFSetField(o, TIFFTAG_IMAGEWIDTH, p->width);
	ok &= TIFFSetField(o, TIFFTAG_IMAGELENGTH, p->length);
	ok &= TIFFSetField(o, TIFFTAG_BITSPERSAMPLE, 1);
	ok &= TIFFSetField(o, TIFFTAG_SAMPLESPERPIXEL, 1);
	ok &= TIFFSetField(o, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
	ok &= TIFFSetField(o, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
	ok &= TIFFSetField(o, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB);
	ok &= TIFFSetField(o, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT);
	if (n->comp == UMFAX_TIFF_MMR) {
		ok &= TIFFSetField(o, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
		ok &= TIFFSetField(o, TIFFTAG_GROUP4OPTIONS, 0);
	} else {
		ok &= TIFFSetField(o, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX3);
		ok &= TIFFSetField(o, TIFFTAG_GROUP3OPTIONS, GROUP3OPT_FILLBITS |
		    (n->comp == UMFAX_TIFF_MR ? GROUP3OPT_2DENCODING : 0));
	}
	ok &= TIFFSetField(o, TIFFTAG_ROWSPERSTRIP, p->length);
	ok &= TIFFSetField(o, TIFFTAG_XRESOLUTION, (float)p->xdpi);
	ok &= TIFFSetField(o, TIFFTAG_YRESOLUTION, (float)p->ydpi);
	ok &= TIFFSetField(o, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
	ok &= TIFFSetField(o, TIFFTAG_PAGENUMBER, (uint16_t)(pageno - 1), (uint16_t)npages);
	ok &= TIFFSetField(o, TIFFTAG_SOFTWARE, op->software ? op->software : "umfax faxtiff");
	if (op->ident && *op->ident)
		ok &= TIFFSetField(o, TIFFTAG_IMAGEDESCRIPTION, op->ident);
	if (op->datetime && strlen(op->datetime) == 19)
		ok &= TIFFSetField(o, TIFFTAG_DATETIME, op->datetime);
	/* Fax tags.  The bad row count is finished in norm_end. */
	ok &= TIFFSetField(o, TIFFTAG_CONSECUTIVEBADFAXLINES, consec);
	if (op->subaddress && *op->subaddress)
		ok &= TIFFSetField(o, TIFFTAG_FAXSUBADDRESS, op->subaddress);
	if (op->recv_seconds >= 0)
		ok &= TIFFSetField(o, TIFFTAG_FAXRECVTIME, (uint32_t)op->recv_seconds);
	if (op->bit_rate > 0)
		ok &= TIFFSetField(o, TIFFTAG_FAXRECVPARAMS, recv_params(p, op));
	(void)clean;
	if (!ok)
		return fail(err, errlen, EX_SOFTWARE, "page %d: cannot set TIFF tags: %s", pageno,
		    n->c.nerr ? n->c.err : "?");
	return 0;
}

static int norm_row(void *arg, uint32_t y, unsigned char *row, char *err, size_t errlen)
{
	struct norm *n = arg;
	if (TIFFWriteScanline(n->o, row, y, 0) < 0)
		return fail(err, errlen, n->m.failed ? EX_OSERR : EX_SOFTWARE,
		    "cannot encode row %u: %s", y, n->m.failed ? "out of memory" :
		    n->c.nerr ? n->c.err : "?");
	return 0;
}

static int norm_end(void *arg, const struct umfax_tiff_page *p, char *err, size_t errlen)
{
	struct norm *n = arg;
	int ok = TIFFSetField(n->o, TIFFTAG_BADFAXLINES, (uint32_t)p->bad_rows);
	ok &= TIFFSetField(n->o, TIFFTAG_CLEANFAXDATA, (uint16_t)(p->decode_errors ?
	    CLEANFAXDATA_UNCLEAN : p->bad_rows ? CLEANFAXDATA_REGENERATED : CLEANFAXDATA_CLEAN));
	if (!ok || !TIFFWriteDirectory(n->o))
		return fail(err, errlen, n->m.failed ? EX_OSERR : EX_SOFTWARE,
		    "cannot write the TIFF directory: %s", n->m.failed ? "out of memory" :
		    n->c.nerr ? n->c.err : "?");
	return 0;
}

int umfax_tiff_normalize(const void *buf, size_t len,
    const struct umfax_tiff_opts *o, unsigned char **out, size_t *outlen,
    struct umfax_tiff_info *info, char *err, size_t errlen)
{
	static const struct umfax_tiff_opts defaults = { .comp = UMFAX_TIFF_MMR, .recv_seconds = -1 };
	struct norm n;

	*out = NULL;
	*outlen = 0;
	memset(&n, 0, sizeof n);
	n.opts = o ? o : &defaults;
	n.comp = n.opts->comp ? n.opts->comp : UMFAX_TIFF_MMR;
	if (n.comp != UMFAX_TIFF_MMR && n.comp != UMFAX_TIFF_MR && n.comp != UMFAX_TIFF_MH)
		return fail(err, errlen, EX_SOFTWARE, "bad output compression %d", n.comp);
	n.m.writing = 1;
	n.o = open_mem(&n.m, &n.c, "w");
	if (!n.o)
		return fail(err, errlen, EX_OSERR, "cannot start a TIFF in memory: %s",
		    n.c.nerr ? n.c.err : "out of memory");
	struct sink s = { norm_begin, norm_row, norm_end, &n, 0 };
	int rc = walk(buf, len, n.opts->max_pages, &s, info, err, errlen);
	TIFFClose(n.o);
	if (!rc && n.m.failed)
		rc = fail(err, errlen, EX_OSERR, "cannot write the TIFF: out of memory");
	if (rc) {
		free(n.m.wbuf);
		return rc;
	}
	*out = n.m.wbuf;
	*outlen = n.m.wlen;
	return 0;
}

/* ---- PDF ---------------------------------------------------------------- */

int umfax_tiff_is_normal_mmr(const void *buf, size_t len)
{
	struct mem m = { .rbuf = buf, .rlen = len };
	struct tmsg c = { 0 };
	int ok = 1;

	if (len < 8)
		return 0;
	TIFF *t = open_mem(&m, &c, "r");
	if (!t)
		return 0;
	do {
		uint16_t comp = 0, fill = 0, photo = 0, bps = 0;
		TIFFGetFieldDefaulted(t, TIFFTAG_COMPRESSION, &comp);
		TIFFGetFieldDefaulted(t, TIFFTAG_FILLORDER, &fill);
		TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bps);
		if (!TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo))
			photo = 99;
		if (comp != COMPRESSION_CCITTFAX4 || fill != FILLORDER_MSB2LSB || bps != 1 ||
		    photo != PHOTOMETRIC_MINISWHITE || TIFFIsTiled(t) || TIFFNumberOfStrips(t) != 1) {
			ok = 0;
			break;
		}
	} while (!TIFFLastDirectory(t) && TIFFReadDirectory(t));
	if (c.nerr)
		ok = 0;
	TIFFClose(t);
	return ok;
}

struct pdfbuf {
	char *b;
	size_t len, cap;
	int failed;
};

static void pdf_put(struct pdfbuf *p, const void *data, size_t n)
{
	if (p->failed)
		return;
	if (p->len + n > p->cap) {
		size_t cap = p->cap ? p->cap : 65536;
		while (cap < p->len + n)
			cap *= 2;
		if (cap > MAX_OUTPUT) {
			p->failed = 1;
			return;
		}
		char *nb = realloc(p->b, cap);
		if (!nb) {
			p->failed = 1;
			return;
		}
		p->b = nb;
		p->cap = cap;
	}
	memcpy(p->b + p->len, data, n);
	p->len += n;
}

static void pdf_printf(struct pdfbuf *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void pdf_printf(struct pdfbuf *p, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		p->failed = 1;
		return;
	}
	pdf_put(p, tmp, (size_t)n);
}

int umfax_tiff_to_pdf(const void *buf, size_t len, unsigned char **out,
    size_t *outlen, char *err, size_t errlen)
{
	unsigned char *norm = NULL;
	size_t normlen = 0;
	struct pdfbuf pb = { 0 };
	size_t *xref = NULL;
	unsigned char *raw = NULL;
	int rc = 0;
	TIFF *t = NULL;

	*out = NULL;
	*outlen = 0;
	if (!umfax_tiff_is_normal_mmr(buf, len)) {
		rc = umfax_tiff_normalize(buf, len, NULL, &norm, &normlen, NULL, err, errlen);
		if (rc)
			return rc;
		buf = norm;
		len = normlen;
	}
	struct mem m = { .rbuf = buf, .rlen = len };
	struct tmsg c = { 0 };
	t = open_mem(&m, &c, "r");
	if (!t) {
		rc = fail(err, errlen, EX_DATAERR, "cannot read TIFF: %s", c.nerr ? c.err : "out of memory");
		goto out;
	}
	tdir_t npages = TIFFNumberOfDirectories(t);
	if (npages == 0 || npages > UMFAX_TIFF_MAX_PAGES || !TIFFSetDirectory(t, 0)) {
		rc = fail(err, errlen, EX_DATAERR, "TIFF has %u pages", (unsigned)npages);
		goto out;
	}
	size_t nobj = 2 + 3 * (size_t)npages;
	xref = calloc(nobj + 1, sizeof *xref);
	if (!xref) {
		rc = fail(err, errlen, EX_OSERR, "out of memory");
		goto out;
	}
	pdf_printf(&pb, "%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n");
	xref[1] = pb.len;
	pdf_printf(&pb, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
	xref[2] = pb.len;
	pdf_printf(&pb, "2 0 obj\n<< /Type /Pages /Count %u /Kids [", (unsigned)npages);
	for (tdir_t i = 0; i < npages; i++)
		pdf_printf(&pb, "%s%u 0 R", i ? " " : "", (unsigned)(3 + 3 * i));
	pdf_printf(&pb, "] >>\nendobj\n");
	for (tdir_t i = 0; i < npages; i++) {
		uint32_t w = 0, l = 0;
		float xr = 204, yr = 196;
		uint16_t unit = RESUNIT_INCH;
		unsigned po = 3 + 3 * (unsigned)i;

		if (i > 0 && !TIFFReadDirectory(t)) {
			rc = fail(err, errlen, EX_DATAERR, "cannot read page %u", (unsigned)i + 1);
			goto out;
		}
		TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
		TIFFGetField(t, TIFFTAG_IMAGELENGTH, &l);
		TIFFGetField(t, TIFFTAG_XRESOLUTION, &xr);
		TIFFGetField(t, TIFFTAG_YRESOLUTION, &yr);
		TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
		if (unit == RESUNIT_CENTIMETER) {
			xr *= 2.54f;
			yr *= 2.54f;
		}
		if (w == 0 || l == 0 || !(xr >= 20 && xr <= 4800) || !(yr >= 20 && yr <= 4800)) {
			rc = fail(err, errlen, EX_DATAERR, "page %u: bad size or resolution", (unsigned)i + 1);
			goto out;
		}
		tmsize_t rsz = TIFFRawStripSize(t, 0);
		if (rsz <= 0) {
			rc = fail(err, errlen, EX_DATAERR, "page %u: no image data", (unsigned)i + 1);
			goto out;
		}
		free(raw);
		raw = malloc((size_t)rsz);
		if (!raw) {
			rc = fail(err, errlen, EX_OSERR, "out of memory");
			goto out;
		}
		tmsize_t got = TIFFReadRawStrip(t, 0, raw, rsz);
		if (got <= 0) {
			rc = fail(err, errlen, EX_DATAERR, "page %u: cannot read the image data: %s",
			    (unsigned)i + 1, c.nerr ? c.err : "?");
			goto out;
		}
		double pw = w * 72.0 / xr, ph = l * 72.0 / yr;
		char content[160];
		int cl = snprintf(content, sizeof content, "q %.4f 0 0 %.4f 0 0 cm /Im0 Do Q\n", pw, ph);
		xref[po] = pb.len;
		pdf_printf(&pb, "%u 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.4f %.4f]"
		    " /Resources << /XObject << /Im0 %u 0 R >> >> /Contents %u 0 R >>\nendobj\n",
		    po, pw, ph, po + 2, po + 1);
		xref[po + 1] = pb.len;
		pdf_printf(&pb, "%u 0 obj\n<< /Length %d >>\nstream\n", po + 1, cl);
		pdf_put(&pb, content, (size_t)cl);
		pdf_printf(&pb, "endstream\nendobj\n");
		xref[po + 2] = pb.len;
		pdf_printf(&pb, "%u 0 obj\n<< /Type /XObject /Subtype /Image /Width %" PRIu32
		    " /Height %" PRIu32 " /ColorSpace /DeviceGray /BitsPerComponent 1"
		    " /Filter /CCITTFaxDecode /DecodeParms << /K -1 /Columns %" PRIu32
		    " /Rows %" PRIu32 " /BlackIs1 false >> /Length %lld >>\nstream\n",
		    po + 2, w, l, w, l, (long long)got);
		pdf_put(&pb, raw, (size_t)got);
		pdf_printf(&pb, "\nendstream\nendobj\n");
	}
	size_t xoff = pb.len;
	pdf_printf(&pb, "xref\n0 %zu\n0000000000 65535 f \n", nobj + 1);
	for (size_t i = 1; i <= nobj; i++)
		pdf_printf(&pb, "%010zu 00000 n \n", xref[i]);
	pdf_printf(&pb, "trailer\n<< /Size %zu /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
	    nobj + 1, xoff);
	if (pb.failed) {
		rc = fail(err, errlen, EX_OSERR, "cannot build the PDF: out of memory");
		goto out;
	}
	*out = (unsigned char *)pb.b;
	*outlen = pb.len;
	pb.b = NULL;
out:
	if (t)
		TIFFClose(t);
	free(pb.b);
	free(xref);
	free(raw);
	free(norm);
	return rc;
}

/* ---- PNG preview ------------------------------------------------------------ */

struct prev {
	int want;                 /* requested width */
	uint32_t w, l, ow, oh;
	uint32_t *colmap;         /* page column -> preview column */
	uint32_t *colcnt;         /* page columns per preview column */
	uint32_t *acc;            /* black pixels per preview column, current row */
	uint32_t rows;            /* page rows in the current preview row */
	int64_t cur;              /* current preview row */
	int64_t done;             /* last preview row written */
	unsigned char *pix;       /* ow x oh grey */
};

static void prev_flush(struct prev *pv)
{
	if (pv->cur < 0 || pv->rows == 0)
		return;
	unsigned char *dst = pv->pix + (size_t)pv->cur * pv->ow;
	for (uint32_t x = 0; x < pv->ow; x++) {
		uint64_t total = (uint64_t)pv->colcnt[x] * pv->rows;
		dst[x] = (unsigned char)(255 - (pv->acc[x] * 255ULL + total / 2) / total);
		pv->acc[x] = 0;
	}
	/* Preview rows no page row fell into (a tiny page scaled up) repeat this one. */
	for (int64_t r = pv->done + 1; r < pv->cur; r++)
		memcpy(pv->pix + (size_t)r * pv->ow, dst, pv->ow);
	pv->done = pv->cur;
	pv->rows = 0;
}

static int prev_begin(void *arg, int pageno, int npages, const struct umfax_tiff_page *p,
    uint32_t consec, uint16_t clean, char *err, size_t errlen)
{
	struct prev *pv = arg;
	(void)pageno; (void)npages; (void)consec; (void)clean;

	pv->w = p->width;
	pv->l = p->length;
	pv->ow = (uint32_t)pv->want < p->width ? (uint32_t)pv->want : p->width;
	double inw = (double)p->width / p->xdpi, inl = (double)p->length / p->ydpi;
	double oh = pv->ow * inl / inw;
	if (!(oh >= 1))
		oh = 1;
	if (oh > 65536)
		oh = 65536;
	pv->oh = (uint32_t)lround(oh);
	if (pv->oh == 0)
		pv->oh = 1;
	pv->colmap = malloc(p->width * sizeof *pv->colmap);
	pv->colcnt = calloc(pv->ow, sizeof *pv->colcnt);
	pv->acc = calloc(pv->ow, sizeof *pv->acc);
	pv->pix = malloc((size_t)pv->ow * pv->oh);
	if (!pv->colmap || !pv->colcnt || !pv->acc || !pv->pix)
		return fail(err, errlen, EX_OSERR, "out of memory");
	for (uint32_t x = 0; x < p->width; x++) {
		pv->colmap[x] = (uint32_t)((uint64_t)x * pv->ow / p->width);
		pv->colcnt[pv->colmap[x]]++;
	}
	pv->cur = -1;
	pv->done = -1;
	pv->rows = 0;
	return 0;
}

static int prev_row(void *arg, uint32_t y, unsigned char *row, char *err, size_t errlen)
{
	struct prev *pv = arg;
	int64_t oy = (int64_t)((uint64_t)y * pv->oh / pv->l);
	(void)err; (void)errlen;

	if (oy != pv->cur) {
		prev_flush(pv);
		pv->cur = oy;
	}
	size_t nb = ((size_t)pv->w + 7) / 8;
	for (size_t i = 0; i < nb; i++) {
		unsigned v = row[i];
		if (!v)
			continue;
		for (int b = 0; b < 8; b++) {
			size_t x = i * 8 + (size_t)b;
			if ((v & (0x80u >> b)) && x < pv->w)
				pv->acc[pv->colmap[x]]++;
		}
	}
	pv->rows++;
	return 0;
}

static int prev_end(void *arg, const struct umfax_tiff_page *p, char *err, size_t errlen)
{
	struct prev *pv = arg;
	(void)p; (void)err; (void)errlen;
	prev_flush(pv);
	/* Rows after the last page row (rounding): repeat the last one. */
	for (int64_t r = pv->done + 1; r < (int64_t)pv->oh && pv->done >= 0; r++)
		memcpy(pv->pix + (size_t)r * pv->ow, pv->pix + (size_t)pv->done * pv->ow, pv->ow);
	return 0;
}

int umfax_tiff_preview_png(const void *buf, size_t len, int width,
    unsigned char **out, size_t *outlen, char *err, size_t errlen)
{
	struct prev pv;
	memset(&pv, 0, sizeof pv);
	pv.want = width > 0 ? width : 600;
	if (pv.want > 4096)
		pv.want = 4096;
	*out = NULL;
	*outlen = 0;
	struct sink s = { prev_begin, prev_row, prev_end, &pv, 1 };
	int rc = walk(buf, len, 0, &s, NULL, err, errlen);
	if (!rc) {
		*out = umfax_png_gray(pv.pix, pv.ow, pv.oh, outlen);
		if (!*out)
			rc = fail(err, errlen, EX_OSERR, "cannot build the PNG: out of memory");
	}
	free(pv.colmap);
	free(pv.colcnt);
	free(pv.acc);
	free(pv.pix);
	return rc;
}
