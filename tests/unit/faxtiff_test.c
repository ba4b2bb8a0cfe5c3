/* faxtiff_test.c - lib/faxtiff: checking, lies, normalising, PDF, PNG, deflate.
 *
 * Test TIFFs are made here with libtiff (written to a file under /tmp and
 * read back into memory), then patched byte by byte to make them lie. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <tiffio.h>
#include <unistd.h>
#include "faxtiff.h"
#include "t.h"

static void quiet(const char *m, const char *f, va_list ap)
{
	(void)m; (void)f; (void)ap;
}

/* Pixel (x, y) of the test pattern: 1 = black. */
static int pattern(uint32_t x, uint32_t y, int page)
{
	return ((x / 8 + y / 3 + (uint32_t)page) % 7 == 0) || (x == y % 1728);
}

struct spec {
	uint32_t w, l;
	int pages;
	uint16_t comp;            /* COMPRESSION_* */
	uint32_t t4;              /* Group3Options */
	float xres, yres;         /* 0: no resolution tags */
	uint16_t unit;
	uint16_t fill;
	uint16_t photo;
	uint32_t rps;             /* rows per strip, 0: all */
};

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *b = NULL;
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	b = malloc(n > 0 ? (size_t)n : 1);
	if (b && fread(b, 1, (size_t)n, fp) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(fp);
	*len = (size_t)n;
	return b;
}

/* Make a TIFF of SPEC in memory. */
static unsigned char *make_tiff(const struct spec *s, size_t *len)
{
	char path[] = "/tmp/faxtiff_test.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	close(fd);
	TIFF *t = TIFFOpen(path, "w");
	if (!t)
		return NULL;
	size_t rb = (s->w + 7) / 8;
	unsigned char *row = malloc(rb);
	for (int p = 0; p < s->pages; p++) {
		TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
		TIFFSetField(t, TIFFTAG_IMAGEWIDTH, s->w);
		TIFFSetField(t, TIFFTAG_IMAGELENGTH, s->l);
		TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
		TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
		TIFFSetField(t, TIFFTAG_COMPRESSION, s->comp);
		if (s->comp == COMPRESSION_CCITTFAX3)
			TIFFSetField(t, TIFFTAG_GROUP3OPTIONS, s->t4);
		TIFFSetField(t, TIFFTAG_PHOTOMETRIC, s->photo);
		TIFFSetField(t, TIFFTAG_FILLORDER, s->fill ? s->fill : FILLORDER_MSB2LSB);
		TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, s->rps ? s->rps : s->l);
		if (s->xres > 0) {
			TIFFSetField(t, TIFFTAG_XRESOLUTION, s->xres);
			TIFFSetField(t, TIFFTAG_YRESOLUTION, s->yres);
			TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, s->unit ? s->unit : RESUNIT_INCH);
		}
		for (uint32_t y = 0; y < s->l; y++) {
			memset(row, 0, rb);
			for (uint32_t x = 0; x < s->w; x++) {
				int black = pattern(x, y, p);
				int bit = s->photo == PHOTOMETRIC_MINISBLACK ? !black : black;
				if (bit)
					row[x / 8] |= (unsigned char)(0x80 >> (x % 8));
			}
			TIFFWriteScanline(t, row, y, 0);
		}
		TIFFWriteDirectory(t);
	}
	TIFFClose(t);
	free(row);
	unsigned char *b = slurp(path, len);
	unlink(path);
	return b;
}

/* Decode BUF (through a file, with plain libtiff) and compare every pixel
 * with the pattern.  Returns the number of differing pixels, -1 on error. */
static long compare_pattern(const unsigned char *buf, size_t len, const struct spec *s)
{
	char path[] = "/tmp/faxtiff_test.XXXXXX";
	int fd = mkstemp(path);
	long diff = 0;
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return -1;
	close(fd);
	TIFF *t = TIFFOpen(path, "r");
	if (!t) {
		unlink(path);
		return -1;
	}
	int p = 0;
	do {
		uint32_t w = 0, l = 0;
		uint16_t photo = 0;
		TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
		TIFFGetField(t, TIFFTAG_IMAGELENGTH, &l);
		TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo);
		if (w != s->w || l != s->l) {
			diff = -1;
			break;
		}
		unsigned char *row = malloc((size_t)TIFFScanlineSize(t));
		for (uint32_t y = 0; y < l; y++) {
			if (TIFFReadScanline(t, row, y, 0) < 0) {
				diff = -1;
				break;
			}
			for (uint32_t x = 0; x < w; x++) {
				int bit = (row[x / 8] >> (7 - x % 8)) & 1;
				int black = photo == PHOTOMETRIC_MINISBLACK ? !bit : bit;
				diff += black != pattern(x, y, p);
			}
		}
		free(row);
		p++;
	} while (diff >= 0 && TIFFReadDirectory(t));
	TIFFClose(t);
	unlink(path);
	if (diff >= 0 && p != s->pages)
		return -1;
	return diff;
}

/* Little-endian classic TIFF: the value field of TAG in the first IFD. */
static unsigned char *tag_value(unsigned char *b, size_t len, uint16_t tag)
{
	if (len < 8 || b[0] != 'I')
		return NULL;
	uint32_t ifd = b[4] | b[5] << 8 | b[6] << 16 | (uint32_t)b[7] << 24;
	if (ifd + 2 > len)
		return NULL;
	unsigned n = b[ifd] | b[ifd + 1] << 8;
	for (unsigned i = 0; i < n && ifd + 2 + 12 * (i + 1) <= len; i++) {
		unsigned char *e = b + ifd + 2 + 12 * i;
		if ((e[0] | e[1] << 8) == tag)
			return e + 8;
	}
	return NULL;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static const struct spec fine_g3 = { 1728, 300, 1, COMPRESSION_CCITTFAX3, 0, 204, 196,
	RESUNIT_INCH, FILLORDER_LSB2MSB, PHOTOMETRIC_MINISWHITE, 0 };

static void test_names(void)
{
	T_STREQ(umfax_tiff_comp_name(UMFAX_TIFF_MMR), "MMR", "name");
	T_STREQ(umfax_tiff_comp_name(UMFAX_TIFF_MH), "MH", "name");
	T_CHECK(umfax_tiff_comp_from_name("G4") == UMFAX_TIFF_MMR, "g4");
	T_CHECK(umfax_tiff_comp_from_name("mr") == UMFAX_TIFF_MR, "mr");
	T_CHECK(umfax_tiff_comp_from_name("jpeg") == -1, "jpeg");
	static const struct { uint32_t w; int dpi, ok; } fw[] = {
		{ 1728, 204, 1 }, { 2048, 204, 1 }, { 2432, 200, 1 }, { 3456, 408, 1 },
		{ 4096, 400, 1 }, { 4864, 408, 1 }, { 2592, 300, 1 }, { 5184, 600, 1 },
		{ 14592, 1200, 1 }, { 1728, 408, 0 }, { 1729, 204, 0 }, { 3456, 204, 0 },
	};
	for (size_t i = 0; i < sizeof fw / sizeof fw[0]; i++)
		T_CHECK(umfax_tiff_fax_width(fw[i].w, fw[i].dpi) == fw[i].ok, "width %u at %d",
		    (unsigned)fw[i].w, fw[i].dpi);
}

static void test_check_good(void)
{
	static const struct {
		struct spec s;
		int xdpi, ydpi, comp, guessed;
	} t[] = {
		{ { 1728, 200, 1, COMPRESSION_CCITTFAX3, 0, 204, 98, 0, 0, 0, 0 }, 204, 98, UMFAX_TIFF_MH, 0 },
		{ { 1728, 200, 2, COMPRESSION_CCITTFAX3, GROUP3OPT_2DENCODING | GROUP3OPT_FILLBITS, 204, 196, 0, FILLORDER_LSB2MSB, 0, 0 }, 204, 196, UMFAX_TIFF_MR, 0 },
		{ { 2048, 150, 1, COMPRESSION_CCITTFAX4, 0, 204, 391, 0, 0, 0, 0 }, 204, 391, UMFAX_TIFF_MMR, 0 },
		/* metric: 8 pels/mm x 3.85 lines/mm */
		{ { 1728, 120, 1, COMPRESSION_CCITTFAX4, 0, 80.0f, 38.5f, RESUNIT_CENTIMETER, 0, 0, 0 }, 204, 98, UMFAX_TIFF_MMR, 0 },
		{ { 3456, 100, 1, COMPRESSION_CCITTFAX4, 0, 408, 391, 0, 0, 0, 0 }, 408, 391, UMFAX_TIFF_MMR, 0 },
		{ { 2592, 100, 1, COMPRESSION_NONE, 0, 300, 300, 0, 0, PHOTOMETRIC_MINISBLACK, 0 }, 300, 300, UMFAX_TIFF_OTHER, 0 },
		/* no resolution at all: a short page is taken as standard */
		{ { 1728, 80, 1, COMPRESSION_CCITTFAX3, 0, 0, 0, 0, 0, 0, 0 }, 204, 98, UMFAX_TIFF_MH, 1 },
		/* many strips */
		{ { 1728, 100, 1, COMPRESSION_CCITTFAX3, 0, 204, 196, 0, 0, 0, 7 }, 204, 196, UMFAX_TIFF_MH, 0 },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		size_t len;
		unsigned char *b = make_tiff(&t[i].s, &len);
		struct umfax_tiff_info info;
		char err[256] = "";
		T_CHECK(b != NULL, "make %zu", i);
		if (!b)
			continue;
		umfax_tiff_info_init(&info);
		int rc = umfax_tiff_check(b, len, 0, &info, err, sizeof err);
		T_CHECK(rc == 0, "check %zu: %s", i, err);
		T_CHECK(info.pages == t[i].s.pages, "pages %zu: %d", i, info.pages);
		if (info.pages > 0) {
			T_CHECK(info.page[0].width == t[i].s.w && info.page[0].length == t[i].s.l, "size %zu", i);
			T_CHECK(info.page[0].xdpi == t[i].xdpi && info.page[0].ydpi == t[i].ydpi,
			    "res %zu: %dx%d", i, info.page[0].xdpi, info.page[0].ydpi);
			T_CHECK(info.page[0].comp == t[i].comp, "comp %zu: %d", i, info.page[0].comp);
			T_CHECK(info.page[0].res_guessed == t[i].guessed, "guessed %zu", i);
			T_CHECK(info.bad_rows == 0, "bad rows %zu: %ld", i, info.bad_rows);
		}
		/* Normalise in all three codings: same pixels, one strip, Class F tags. */
		for (int c = UMFAX_TIFF_MH; c <= UMFAX_TIFF_MMR; c++) {
			struct umfax_tiff_opts o = { .comp = c, .recv_seconds = 73, .bit_rate = 14400,
				.ident = "+1 555 0100" };
			unsigned char *out = NULL;
			size_t outlen = 0;
			rc = umfax_tiff_normalize(b, len, &o, &out, &outlen, NULL, err, sizeof err);
			T_CHECK(rc == 0, "normalise %zu/%d: %s", i, c, err);
			if (rc)
				continue;
			T_CHECK(compare_pattern(out, outlen, &t[i].s) == 0, "pixels %zu/%d", i, c);
			T_CHECK(umfax_tiff_is_normal_mmr(out, outlen) == (c == UMFAX_TIFF_MMR), "normal %zu/%d", i, c);
			struct umfax_tiff_info o2;
			umfax_tiff_info_init(&o2);
			T_CHECK(umfax_tiff_check(out, outlen, 0, &o2, err, sizeof err) == 0, "recheck %zu", i);
			T_CHECK(o2.pages == t[i].s.pages && o2.page[0].comp == c && o2.page[0].strips == 1 &&
			    o2.page[0].xdpi == t[i].xdpi && o2.page[0].ydpi == t[i].ydpi && !o2.page[0].res_guessed,
			    "normalised form %zu/%d", i, c);
			umfax_tiff_info_release(&o2);
			free(out);
		}
		umfax_tiff_info_release(&info);
		free(b);
	}
	T_CHECK(umfax_tiff_is_normal_mmr("II*\0", 4) == 0, "short buffer is not normal");
}

/* Tags written by normalise. */
static void test_tags(void)
{
	size_t len, outlen;
	unsigned char *b = make_tiff(&fine_g3, &len), *out;
	struct umfax_tiff_opts o = { .comp = UMFAX_TIFF_MMR, .recv_seconds = 73, .bit_rate = 9600,
		.ecm = 1, .ident = "+1 555 0100", .subaddress = "42", .datetime = "2026:11:22 13:45:00" };
	char err[256], path[] = "/tmp/faxtiff_test.XXXXXX";
	T_CHECK(umfax_tiff_normalize(b, len, &o, &out, &outlen, NULL, err, sizeof err) == 0, "normalise: %s", err);
	int fd = mkstemp(path);
	T_CHECK(fd >= 0 && write(fd, out, outlen) == (ssize_t)outlen, "write");
	close(fd);
	TIFF *t = TIFFOpen(path, "r");
	T_CHECK(t != NULL, "open");
	if (t) {
		uint16_t u16 = 0, a = 9, z = 9;
		uint32_t u32 = 0;
		float f = 0;
		char *s = NULL;
		T_CHECK(TIFFGetField(t, TIFFTAG_COMPRESSION, &u16) && u16 == COMPRESSION_CCITTFAX4, "comp");
		T_CHECK(TIFFGetField(t, TIFFTAG_FILLORDER, &u16) && u16 == FILLORDER_MSB2LSB, "fill");
		T_CHECK(TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &u16) && u16 == PHOTOMETRIC_MINISWHITE, "photo");
		T_CHECK(TIFFGetField(t, TIFFTAG_RESOLUTIONUNIT, &u16) && u16 == RESUNIT_INCH, "unit");
		T_CHECK(TIFFGetField(t, TIFFTAG_XRESOLUTION, &f) && f == 204, "xres");
		T_CHECK(TIFFGetField(t, TIFFTAG_YRESOLUTION, &f) && f == 196, "yres");
		T_CHECK(TIFFGetField(t, TIFFTAG_PAGENUMBER, &a, &z) && a == 0 && z == 1, "page number");
		T_CHECK(TIFFGetField(t, TIFFTAG_SUBFILETYPE, &u32) && u32 == FILETYPE_PAGE, "subfile");
		T_CHECK(TIFFNumberOfStrips(t) == 1, "one strip");
		T_CHECK(TIFFGetField(t, TIFFTAG_IMAGEDESCRIPTION, &s) && !strcmp(s, "+1 555 0100"), "ident");
		T_CHECK(TIFFGetField(t, TIFFTAG_DATETIME, &s) && !strcmp(s, "2026:11:22 13:45:00"), "datetime");
		T_CHECK(TIFFGetField(t, TIFFTAG_FAXSUBADDRESS, &s) && !strcmp(s, "42"), "subaddress");
		T_CHECK(TIFFGetField(t, TIFFTAG_FAXRECVTIME, &u32) && u32 == 73, "recv time");
		/* HylaFAX encoding: vr fine 1, br 9600 index 3, df MMR 3, ec 1, version bit 21 */
		T_CHECK(TIFFGetField(t, TIFFTAG_FAXRECVPARAMS, &u32) &&
		    (u32 & 7) == 1 && (u32 >> 3 & 15) == 3 && (u32 >> 14 & 3) == 0 &&
		    (u32 >> 16 & 1) == 1 && (u32 >> 21) == 1, "recv params %#x", (unsigned)u32);
		T_CHECK(TIFFGetField(t, TIFFTAG_BADFAXLINES, &u32) && u32 == 0, "bad fax lines");
		TIFFClose(t);
	}
	unlink(path);
	free(out);
	free(b);
}

/* TIFFs that lie, or are not TIFFs: EX_DATAERR with the reason, no crash. */
static void test_lies(void)
{
	size_t len;
	char err[256];
	unsigned char *good = make_tiff(&fine_g3, &len);
	struct umfax_tiff_info info;
	unsigned char *b = malloc(len);

	T_CHECK(good != NULL && b != NULL, "make");
	if (!good || !b)
		return;
	static const struct {
		const char *name;
		uint16_t tag;
		uint32_t value;           /* 0xffffffff: special case below */
		const char *want;         /* in the reason */
	} t[] = {
		{ "strip past the end", TIFFTAG_STRIPOFFSETS, 0x7fff0000, "past the end" },
		{ "strip too long", TIFFTAG_STRIPBYTECOUNTS, 0x00ffffff, "past the end" },
		{ "width 0", TIFFTAG_IMAGEWIDTH, 0, "" },
		{ "width huge", TIFFTAG_IMAGEWIDTH, 60000, "impossible size" },
		{ "length huge", TIFFTAG_IMAGELENGTH, 300000, "impossible size" },
		{ "8 bits", TIFFTAG_BITSPERSAMPLE, 8, "" },
		{ "jpeg", TIFFTAG_COMPRESSION, 7, "" },
		{ "palette", TIFFTAG_PHOTOMETRIC, 3, "cannot read TIFF" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		memcpy(b, good, len);
		unsigned char *v = tag_value(b, len, t[i].tag);
		T_CHECK(v != NULL, "tag %u", t[i].tag);
		if (!v)
			continue;
		if (t[i].tag == TIFFTAG_STRIPOFFSETS || t[i].tag == TIFFTAG_STRIPBYTECOUNTS ||
		    t[i].tag == TIFFTAG_IMAGEWIDTH || t[i].tag == TIFFTAG_IMAGELENGTH) {
			put32(v, t[i].value);
			v[-6] = 4;              /* type LONG */
			v[-5] = 0;
		}
		else {
			v[0] = (unsigned char)t[i].value;
			v[1] = (unsigned char)(t[i].value >> 8);
		}
		umfax_tiff_info_init(&info);
		err[0] = '\0';
		int rc = umfax_tiff_check(b, len, 0, &info, err, sizeof err);
		T_CHECK(rc == EX_DATAERR, "%s: rc %d", t[i].name, rc);
		T_CHECK(err[0] && strstr(err, t[i].want) && !strchr(err, '\n'), "%s: reason \"%s\"",
		    t[i].name, err);
		unsigned char *out = NULL;
		size_t outlen;
		rc = umfax_tiff_normalize(b, len, NULL, &out, &outlen, NULL, err, sizeof err);
		T_CHECK(rc == EX_DATAERR && out == NULL, "%s: normalise rc %d", t[i].name, rc);
		umfax_tiff_info_release(&info);
	}
	/* 4096 x 200000: each within its limit, too many pixels together. */
	memcpy(b, good, len);
	unsigned char *vw = tag_value(b, len, TIFFTAG_IMAGEWIDTH), *vl = tag_value(b, len, TIFFTAG_IMAGELENGTH);
	put32(vw, 4096);
	vw[-6] = 4;
	put32(vl, 200000);
	vl[-6] = 4;
	T_CHECK(umfax_tiff_check(b, len, 0, NULL, err, sizeof err) == EX_DATAERR &&
	    strstr(err, "million pixels"), "too many pixels: %s", err);
	/* Not a TIFF, truncated, no pages, bad resolution. */
	static const char notiff[] = "%PDF-1.4 not a tiff at all";
	T_CHECK(umfax_tiff_check(notiff, sizeof notiff, 0, NULL, err, sizeof err) == EX_DATAERR &&
	    strstr(err, "not a TIFF"), "not a tiff: %s", err);
	T_CHECK(umfax_tiff_check(good, 0, 0, NULL, err, sizeof err) == EX_DATAERR, "empty");
	T_CHECK(umfax_tiff_check(good, len / 2, 0, NULL, err, sizeof err) == EX_DATAERR,
	    "truncated: %s", err);
	static const unsigned char nopages[] = { 'I', 'I', 42, 0, 0, 0, 0, 0 };
	T_CHECK(umfax_tiff_check(nopages, sizeof nopages, 0, NULL, err, sizeof err) == EX_DATAERR,
	    "no pages: %s", err);
	static const unsigned char emptyifd[] = { 'I', 'I', 42, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	T_CHECK(umfax_tiff_check(emptyifd, sizeof emptyifd, 0, NULL, err, sizeof err) == EX_DATAERR,
	    "empty directory: %s", err);
	struct spec s = fine_g3;
	s.xres = 0.001f;
	size_t l2;
	unsigned char *tiny = make_tiff(&s, &l2);
	T_CHECK(umfax_tiff_check(tiny, l2, 0, NULL, err, sizeof err) == EX_DATAERR &&
	    strstr(err, "resolution"), "impossible resolution: %s", err);
	free(tiny);
	/* Too many pages for the limit. */
	s = fine_g3;
	s.pages = 3;
	s.l = 20;
	tiny = make_tiff(&s, &l2);
	T_CHECK(umfax_tiff_check(tiny, l2, 2, NULL, err, sizeof err) == EX_DATAERR &&
	    strstr(err, "limit"), "page limit: %s", err);
	T_CHECK(umfax_tiff_check(tiny, l2, 3, NULL, err, sizeof err) == 0, "page limit ok: %s", err);
	free(tiny);
	/* Damaged rows: garbage in the middle of an MH strip is counted, not fatal. */
	memcpy(b, good, len);
	unsigned char *so = tag_value(b, len, TIFFTAG_STRIPOFFSETS);
	unsigned char *sc = tag_value(b, len, TIFFTAG_STRIPBYTECOUNTS);
	uint32_t off = so[0] | so[1] << 8 | so[2] << 16 | (uint32_t)so[3] << 24;
	uint32_t cnt = sc[0] | sc[1] << 8 | sc[2] << 16 | (uint32_t)sc[3] << 24;
	for (uint32_t k = cnt / 2; k < cnt / 2 + 40 && k < cnt; k++)
		b[off + k] = 0xff;
	umfax_tiff_info_init(&info);
	int rc = umfax_tiff_check(b, len, 0, &info, err, sizeof err);
	T_CHECK(rc == 0, "damaged: %s", err);
	T_CHECK(info.pages == 1 && info.page[0].decode_errors > 0 && info.bad_rows >= info.page[0].decode_errors,
	    "damaged rows counted: %ld", info.pages ? info.page[0].decode_errors : -1L);
	umfax_tiff_info_release(&info);
	free(b);
	free(good);
}

/* Pages labelled with the wrong coding or bit order are read the right way. */
static void test_relabel(void)
{
	static const struct {
		const char *name;
		struct spec s;
		uint16_t tag;
		uint16_t value;
		int comp;
		const char *want;
	} t[] = {
		{ "MR labelled MH", { 1728, 200, 1, COMPRESSION_CCITTFAX3, GROUP3OPT_2DENCODING, 204, 196, 0, 0, 0, 0 },
		  TIFFTAG_GROUP3OPTIONS, 0, UMFAX_TIFF_MR, "read as MR although Group3Options say MH" },
		{ "MH labelled MR", { 1728, 200, 1, COMPRESSION_CCITTFAX3, 0, 204, 196, 0, 0, 0, 0 },
		  TIFFTAG_GROUP3OPTIONS, GROUP3OPT_2DENCODING, UMFAX_TIFF_MH, "read as MH although" },
		{ "G4 with the wrong FillOrder", { 1728, 200, 1, COMPRESSION_CCITTFAX4, 0, 204, 196, 0, FILLORDER_MSB2LSB, 0, 0 },
		  TIFFTAG_FILLORDER, FILLORDER_LSB2MSB, UMFAX_TIFF_MMR, "MSB first" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		size_t len, outlen;
		char err[256] = "";
		unsigned char *b = make_tiff(&t[i].s, &len), *out = NULL, *v = b ? tag_value(b, len, t[i].tag) : NULL;
		struct umfax_tiff_info info;
		T_CHECK(v != NULL, "%s: tag", t[i].name);
		if (!v)
			continue;
		v[0] = (unsigned char)t[i].value;
		v[1] = (unsigned char)(t[i].value >> 8);
		umfax_tiff_info_init(&info);
		int rc = umfax_tiff_normalize(b, len, NULL, &out, &outlen, &info, err, sizeof err);
		T_CHECK(rc == 0, "%s: %s", t[i].name, err);
		if (!rc) {
			T_CHECK(info.page[0].comp == t[i].comp && strstr(info.page[0].repair, t[i].want),
			    "%s: comp %d, repair \"%s\"", t[i].name, info.page[0].comp, info.page[0].repair);
			T_CHECK(info.page[0].decode_errors == 0, "%s: %ld decode errors", t[i].name,
			    info.page[0].decode_errors);
			T_CHECK(compare_pattern(out, outlen, &t[i].s) == 0, "%s: pixels", t[i].name);
		}
		umfax_tiff_info_release(&info);
		free(out);
		free(b);
	}
	/* A correctly labelled page is not touched. */
	size_t len;
	unsigned char *b = make_tiff(&fine_g3, &len);
	struct umfax_tiff_info info;
	char err[256];
	umfax_tiff_info_init(&info);
	T_CHECK(umfax_tiff_check(b, len, 0, &info, err, sizeof err) == 0 && info.page[0].repair[0] == '\0',
	    "no repair of a good page");
	umfax_tiff_info_release(&info);
	free(b);
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static void test_pdf(void)
{
	struct spec s = fine_g3;
	s.pages = 2;
	s.yres = 98;
	size_t len, plen;
	unsigned char *b = make_tiff(&s, &len), *pdf = NULL;
	char err[256];
	int rc = umfax_tiff_to_pdf(b, len, &pdf, &plen, err, sizeof err);
	T_CHECK(rc == 0, "pdf: %s", err);
	if (rc) {
		free(b);
		return;
	}
	char *txt = malloc(plen + 1);
	memcpy(txt, pdf, plen);
	txt[plen] = '\0';
	T_CHECK(!memcmp(pdf, "%PDF-1.4\n", 9), "header");
	T_CHECK(plen > 6 && !memcmp(pdf + plen - 6, "%%EOF\n", 6), "trailer");
	T_CHECK(strstr(txt, "/Count 2") != NULL, "2 pages");
	T_CHECK(strstr(txt, "/K -1 /Columns 1728 /Rows 300") != NULL, "ccitt params");
	/* 1728 / 204 * 72 = 609.88 pt wide, 300 / 98 * 72 = 220.41 pt high */
	T_CHECK(strstr(txt, "/MediaBox [0 0 609.8824 220.4082]") != NULL, "page size");
	/* Every xref entry points at "N 0 obj". */
	char *x = NULL;
	for (char *p = txt; (p = memmem(p, plen - (size_t)(p - txt), "startxref\n", 10)) != NULL; p++)
		x = p;
	T_CHECK(x != NULL, "startxref");
	if (x) {
		size_t xo = strtoul(x + 10, NULL, 10);
		T_CHECK(xo < plen && !strncmp(txt + xo, "xref\n0 ", 7), "xref at %zu", xo);
		unsigned n = (unsigned)strtoul(txt + xo + 7, NULL, 10);
		T_CHECK(n == 2 + 3 * 2 + 1, "objects %u", n);
		const char *e = strchr(txt + xo + 7, '\n') + 1 + 20;
		for (unsigned i = 1; i < n; i++, e += 20) {
			size_t o = strtoul(e, NULL, 10);
			char want[32];
			snprintf(want, sizeof want, "%u 0 obj", i);
			T_CHECK(o < plen && !strncmp(txt + o, want, strlen(want)), "object %u at %zu", i, o);
		}
	}
	/* The stream of image 1 is the T.6 strip of the normalised TIFF, byte for byte. */
	unsigned char *norm;
	size_t nlen;
	T_CHECK(umfax_tiff_normalize(b, len, NULL, &norm, &nlen, NULL, err, sizeof err) == 0, "norm");
	unsigned char *so = tag_value(norm, nlen, TIFFTAG_STRIPOFFSETS);
	unsigned char *sc = tag_value(norm, nlen, TIFFTAG_STRIPBYTECOUNTS);
	if (so && sc) {
		uint32_t off = so[0] | so[1] << 8 | so[2] << 16 | (uint32_t)so[3] << 24;
		uint32_t cnt = sc[0] | sc[1] << 8 | sc[2] << 16 | (uint32_t)sc[3] << 24;
		T_CHECK(memmem(pdf, plen, norm + off, cnt) != NULL, "strip embedded as it is");
	}
	free(norm);
	free(txt);
	free(pdf);
	free(b);
}

static void test_png(void)
{
	/* A standard resolution page: rows count double. */
	struct spec s = fine_g3;
	s.l = 1143;
	s.yres = 98;
	size_t len, plen;
	unsigned char *b = make_tiff(&s, &len), *png = NULL;
	char err[256];
	int rc = umfax_tiff_preview_png(b, len, 600, &png, &plen, err, sizeof err);
	T_CHECK(rc == 0, "png: %s", err);
	if (!rc) {
		static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
		T_CHECK(plen > 57 && !memcmp(png, sig, 8), "signature");
		T_CHECK(!memcmp(png + 12, "IHDR", 4) && rd32(png + 8) == 13, "IHDR");
		uint32_t w = rd32(png + 16), h = rd32(png + 20);
		long want = lround(600.0 * (1143.0 / 98) / (1728.0 / 204));
		T_CHECK(w == 600 && h == (uint32_t)want, "size %ux%u, want 600x%ld", w, h, want);
		T_CHECK(rd32(png + 29) == umfax_crc32(0, png + 12, 17), "IHDR crc");
		T_CHECK(!memcmp(png + plen - 8, "IEND", 4), "IEND");
	}
	free(png);
	/* Narrower than asked: not scaled up. */
	rc = umfax_tiff_preview_png(b, len, 4000, &png, &plen, err, sizeof err);
	T_CHECK(rc == 0 && rd32(png + 16) == 1728, "no upscaling");
	free(png);
	free(b);
}

static void test_deflate(void)
{
	static const unsigned char nine[] = "123456789";
	T_CHECK(umfax_crc32(0, nine, 9) == 0xcbf43926u, "crc32");
	T_CHECK(umfax_adler32(1, (const unsigned char *)"Wikipedia", 9) == 0x11e60398u, "adler32");
	size_t n = 200000, zl = 0;
	unsigned char *src = calloc(n, 1);
	for (size_t i = 0; i < n; i++)
		src[i] = (i % 1000) < 900 ? 255 : (unsigned char)(i * 7);
	unsigned char *z = umfax_zlib_compress(src, n, &zl);
	T_CHECK(z != NULL && zl < n / 20, "compresses runs: %zu", zl);
	T_CHECK(z && z[0] == 0x78 && ((z[0] << 8) | z[1]) % 31 == 0, "zlib header");
	T_CHECK(z && rd32(z + zl - 4) == umfax_adler32(1, src, n), "adler trailer");
	free(z);
	z = umfax_zlib_compress(src, 0, &zl);
	T_CHECK(z != NULL && zl == 2 + 2 + 4, "empty input: %zu", zl);
	free(z);
	free(src);
}

int main(void)
{
	TIFFSetErrorHandler(quiet);
	TIFFSetWarningHandler(quiet);
	test_names();
	test_check_good();
	test_tags();
	test_lies();
	test_relabel();
	test_pdf();
	test_png();
	test_deflate();
	return T_DONE();
}
