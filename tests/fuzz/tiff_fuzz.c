/* tiff_fuzz.c - lib/faxtiff on hostile TIFFs: check, normalise, and what
 * faxmail does with a normalised TIFF (PDF, PNG preview).  Whatever the
 * input, no crash, no leak, nothing printed by libtiff; and what normalise
 * accepts must come out as a TIFF that checks clean with the same geometry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "faxtiff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct umfax_tiff_info in, again;
	struct umfax_tiff_opts o = { .comp = UMFAX_TIFF_MMR, .max_pages = 8, .recv_seconds = 5,
		.bit_rate = 9600, .ident = "fuzz" };
	unsigned char *out = NULL, *pdf = NULL, *png = NULL;
	size_t outlen = 0, pdflen = 0, pnglen = 0;
	char err[256];

	umfax_tiff_info_init(&in);
	int rc = umfax_tiff_check(data, size, 8, &in, err, sizeof err);
	if (rc && (!err[0] || strchr(err, '\n')))
		__builtin_trap();             /* a failure always has a one-line reason */
	umfax_tiff_info_release(&in);

	/* Vary the output coding with the input so all three get exercised. */
	o.comp = size % 3 == 0 ? UMFAX_TIFF_MMR : size % 3 == 1 ? UMFAX_TIFF_MR : UMFAX_TIFF_MH;
	umfax_tiff_info_init(&in);
	if (umfax_tiff_normalize(data, size, &o, &out, &outlen, &in, err, sizeof err) == 0) {
		umfax_tiff_info_init(&again);
		if (umfax_tiff_check(out, outlen, 8, &again, err, sizeof err) != 0 ||
		    again.pages != in.pages || again.page[0].width != in.page[0].width ||
		    again.page[0].length != in.page[0].length || again.page[0].strips != 1 ||
		    again.page[0].decode_errors != 0)
			__builtin_trap();
		umfax_tiff_info_release(&again);
		if (umfax_tiff_to_pdf(out, outlen, &pdf, &pdflen, err, sizeof err) != 0 || pdflen < 100)
			__builtin_trap();
		if (umfax_tiff_preview_png(out, outlen, 64, &png, &pnglen, err, sizeof err) != 0)
			__builtin_trap();
	}
	umfax_tiff_info_release(&in);
	free(out);
	free(pdf);
	free(png);
	return 0;
}
