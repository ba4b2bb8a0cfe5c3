/* tiffpixcmp A.tif B.tif - do two TIFFs hold the same pages, pixel for pixel?
 *
 * Compares page count, and per page width, length and the decoded rows
 * (whatever the compression, fill order or strip layout).  Photometric
 * MinIsWhite and MinIsBlack are both turned into "1 = black".
 * Exit 0 same, 1 different (a line says where), 2 error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

static void
quiet(const char *mod, const char *fmt, va_list ap)
{
	(void)mod; (void)fmt; (void)ap;
}

/* Read one page as 1 bit per pixel, 1 = black, rows packed MSB first. */
static unsigned char *
page(TIFF *t, uint32_t *w, uint32_t *h, size_t *rowbytes, const char *name)
{
	uint16_t bps = 1, spp = 1, photo = PHOTOMETRIC_MINISWHITE;
	unsigned char *buf, *row;
	tsize_t sl;

	TIFFGetField(t, TIFFTAG_IMAGEWIDTH, w);
	TIFFGetField(t, TIFFTAG_IMAGELENGTH, h);
	TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bps);
	TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
	TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo);
	if (bps != 1 || spp != 1) {
		fprintf(stderr, "tiffpixcmp: %s: not a bilevel image (%u bits, %u samples)\n",
		    name, bps, spp);
		return NULL;
	}
	*rowbytes = (*w + 7) / 8;
	sl = TIFFScanlineSize(t);
	if (sl <= 0 || (size_t)sl < *rowbytes || *h > 1000000) {
		fprintf(stderr, "tiffpixcmp: %s: bad geometry\n", name);
		return NULL;
	}
	buf = calloc((size_t)*h ? *h : 1, *rowbytes);
	row = malloc((size_t)sl);
	if (buf == NULL || row == NULL) {
		free(buf); free(row);
		return NULL;
	}
	for (uint32_t y = 0; y < *h; y++) {
		if (TIFFReadScanline(t, row, y, 0) < 0) {
			fprintf(stderr, "tiffpixcmp: %s: cannot decode row %u\n", name, y);
			free(buf); free(row);
			return NULL;
		}
		for (size_t i = 0; i < *rowbytes; i++)
			buf[(size_t)y * *rowbytes + i] = photo == PHOTOMETRIC_MINISBLACK ? (unsigned char)~row[i] : row[i];
		/* Bits past the width are padding: clear them. */
		if (*w % 8)
			buf[(size_t)y * *rowbytes + *rowbytes - 1] &= (unsigned char)(0xff << (8 - *w % 8));
	}
	free(row);
	return buf;
}

int
main(int argc, char **argv)
{
	TIFF *a, *b;
	int pa = 0, rc = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: tiffpixcmp A.tif B.tif\n");
		return 2;
	}
	TIFFSetWarningHandler(quiet);
	if ((a = TIFFOpen(argv[1], "r")) == NULL || (b = TIFFOpen(argv[2], "r")) == NULL) {
		fprintf(stderr, "tiffpixcmp: cannot open %s\n", a ? argv[2] : argv[1]);
		return 2;
	}
	for (;;) {
		uint32_t wa, ha, wb, hb;
		size_t ra, rb;
		unsigned char *ia, *ib;

		pa++;
		ia = page(a, &wa, &ha, &ra, argv[1]);
		ib = page(b, &wb, &hb, &rb, argv[2]);
		if (ia == NULL || ib == NULL) {
			free(ia); free(ib);
			return 2;
		}
		if (wa != wb || ha != hb) {
			printf("page %d: size %ux%u != %ux%u\n", pa, wa, ha, wb, hb);
			rc = 1;
		} else {
			long diffrows = 0, first = -1;
			for (uint32_t y = 0; y < ha; y++)
				if (memcmp(ia + (size_t)y * ra, ib + (size_t)y * rb, ra) != 0) {
					if (first < 0)
						first = y;
					diffrows++;
				}
			if (diffrows) {
				printf("page %d: %ld of %u rows differ, first row %ld\n", pa, diffrows, ha, first);
				rc = 1;
			}
		}
		free(ia);
		free(ib);
		{
			int na = TIFFReadDirectory(a), nb = TIFFReadDirectory(b);
			if (na != nb) {
				printf("page count differs: %s has %s pages than %s\n",
				    argv[1], na ? "more" : "fewer", argv[2]);
				rc = 1;
				break;
			}
			if (!na)
				break;
		}
	}
	TIFFClose(a);
	TIFFClose(b);
	if (rc == 0)
		printf("same: %d pages\n", pa);
	return rc;
}
