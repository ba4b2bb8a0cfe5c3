/* faxtiff.h - check a fax TIFF, normalise it to TIFF Class F, and make a PDF
 * and a PNG preview of it, all on memory buffers.
 *
 * Every function takes the TIFF as (BUF, LEN), never a file name: libtiff
 * reads it through TIFFClientOpen from memory.  libtiff's own warnings and
 * errors never reach stderr; the first error becomes the one-line reason in
 * ERR.  The functions return 0, or a sysexits code:
 *   EX_DATAERR (65)  the TIFF is unreadable or lies about itself (a
 *                    permanent failure: strip past the end, impossible size
 *                    or resolution, no pages, not a bilevel page ...);
 *   EX_OSERR (71)    out of memory;
 *   EX_SOFTWARE (70) libtiff failed to write what we gave it.
 * Output buffers (*OUT) are malloc'd; the caller frees them. */
#ifndef UMFAX_FAXTIFF_H
#define UMFAX_FAXTIFF_H

#include <stddef.h>
#include <stdint.h>

#define UMFAX_TIFF_MAX_PAGES    1000       /* hard limit; faxtiff_max_pages is lower */
#define UMFAX_TIFF_MAX_WIDTH    32768      /* pixels (the widest fax, 1200 dpi A3, is 14592) */
#define UMFAX_TIFF_MAX_LENGTH   262144     /* rows of one page */
#define UMFAX_TIFF_MAX_PIXELS   (512UL * 1024 * 1024)  /* of one page: 1200 dpi A3 is 91 M */

/* Page compression, as a fax names it. */
enum umfax_tiff_comp {
	UMFAX_TIFF_OTHER = 0,     /* a non-fax codec libtiff can decode (none, packbits, ...) */
	UMFAX_TIFF_MH,            /* T.4 1-D (Compression 3 without 2-D, or 2) */
	UMFAX_TIFF_MR,            /* T.4 2-D (Compression 3 with T4Options bit 0) */
	UMFAX_TIFF_MMR            /* T.6 (Compression 4) */
};

struct umfax_tiff_page {
	uint32_t width, length;   /* pixels, rows */
	int xdpi, ydpi;           /* resolution in dots per inch, snapped to the fax
	                           * values (204, 98/196/391, 200, 300, 400/408, 600,
	                           * 1200 ...) when within 2% of one */
	int res_guessed;          /* 1: the TIFF had no resolution, 204x196 or
	                           * 204x98 was assumed */
	int comp;                 /* enum umfax_tiff_comp */
	int tiff_comp;            /* the TIFF Compression tag value */
	int fax_width;            /* 1: WIDTH is a T.30 width for XDPI */
	long bad_rows;            /* rows the receiver marked bad (BadFaxLines) plus
	                           * rows that fail to decode now */
	long decode_errors;       /* of those, rows that fail to decode now */
	int strips;               /* strips in the input page */
	char repair[96];          /* "" or how a mislabelled page was read, e.g.
	                           * "read as MR although Group3Options say MH" */
};

struct umfax_tiff_info {
	int pages;
	struct umfax_tiff_page *page;     /* PAGES entries, malloc'd */
	long bad_rows;                    /* over all pages */
	long warnings;                    /* libtiff warnings seen */
	char warning[160];                /* the first one, for the log */
};

void umfax_tiff_info_init(struct umfax_tiff_info *info);
void umfax_tiff_info_release(struct umfax_tiff_info *info);

/* Names: "MH", "MR", "MMR", or "other"; umfax_tiff_comp_from_name takes
 * those (case-insensitive) and also "g3" (MH), "g3-2d" (MR), "g4" (MMR);
 * -1 if unknown. */
const char *umfax_tiff_comp_name(int comp);
int umfax_tiff_comp_from_name(const char *name);

/* 1 if WIDTH is a T.30 scan line width for horizontal resolution XDPI
 * (1728/2048/2432 at 200/204 dpi, 2592/3072/3648 at 300, 3456/4096/4864 at
 * 400/408, 5184/6144/7296 at 600, 10368/12288/14592 at 1200). */
int umfax_tiff_fax_width(uint32_t width, int xdpi);

/* Read every page and decode every row.  INFO (initialised by the caller)
 * is filled even on failure, as far as it got.  MAX_PAGES (0: the hard
 * limit) refuses longer documents. */
int umfax_tiff_check(const void *buf, size_t len, int max_pages,
    struct umfax_tiff_info *info, char *err, size_t errlen);

/* What goes into the fax tags of the normalised TIFF.  All optional. */
struct umfax_tiff_opts {
	int comp;                 /* UMFAX_TIFF_MMR (default when 0), _MR or _MH */
	int max_pages;            /* 0: UMFAX_TIFF_MAX_PAGES */
	const char *ident;        /* the sender's TSI: ImageDescription */
	const char *subaddress;   /* T.30 SUB: FaxSubAddress */
	const char *datetime;     /* "YYYY:MM:DD HH:MM:SS": DateTime */
	long recv_seconds;        /* FaxRecvTime, < 0 to leave it out */
	int bit_rate;             /* for FaxRecvParams: 2400..14400, 0 unknown */
	int ecm;                  /* for FaxRecvParams: 1 ECM was used */
	const char *software;     /* Software, NULL: "umfax faxtiff" */
};

/* Check BUF and write it again as TIFF Class F (RFC 2306): one strip per
 * page, MSB-first fill order, min-is-white, resolution in inches, PageNumber,
 * SubFileType page, compression O->comp, the fax tags.  Every row is decoded
 * and re-encoded, so the pixels stay identical.  O may be NULL (defaults).
 * INFO may be NULL; it describes the input. */
int umfax_tiff_normalize(const void *buf, size_t len,
    const struct umfax_tiff_opts *o, unsigned char **out, size_t *outlen,
    struct umfax_tiff_info *info, char *err, size_t errlen);

/* 1 if BUF is already what umfax_tiff_normalize writes with MMR: every page
 * one strip, Compression 4, FillOrder 1, min-is-white. */
int umfax_tiff_is_normal_mmr(const void *buf, size_t len);

/* A PDF with one page per TIFF page, each an image XObject that embeds the
 * T.6 data as it is (/CCITTFaxDecode, K -1), sized from the resolution.  A
 * TIFF that is not yet one-strip MMR is normalised in memory first. */
int umfax_tiff_to_pdf(const void *buf, size_t len, unsigned char **out,
    size_t *outlen, char *err, size_t errlen);

/* A greyscale PNG preview of page 1, WIDTH pixels wide (0: 600), the height
 * from the page's physical aspect ratio (a 98 lpi row counts double), each
 * pixel the average of the page pixels it covers.  Compressed with our own
 * small deflate encoder (fixed Huffman codes, LZ77), no zlib needed. */
int umfax_tiff_preview_png(const void *buf, size_t len, int width,
    unsigned char **out, size_t *outlen, char *err, size_t errlen);

/* The deflate encoder behind the PNG (also for tests): a zlib stream
 * (RFC 1950) of SRC.  Returns a malloc'd buffer, or NULL on no memory. */
unsigned char *umfax_zlib_compress(const unsigned char *src, size_t len,
    size_t *outlen);

/* A PNG (8-bit grey, no filter) of W x H pixels PIX, row by row.  Returns
 * a malloc'd buffer, or NULL (no memory, or W or H 0 or above 65536). */
unsigned char *umfax_png_gray(const unsigned char *pix, uint32_t w, uint32_t h,
    size_t *outlen);

/* CRC-32 as PNG and zip use it, and Adler-32 as zlib does. */
uint32_t umfax_crc32(uint32_t crc, const unsigned char *p, size_t n);
uint32_t umfax_adler32(uint32_t a, const unsigned char *p, size_t n);

#endif
