/* faxinfo.h - what a decoder learned about one received fax.
 *
 * Filled by the T.38 decoder (t38dec) and the passive G.711 decoder
 * (g711call); t38recv turns it into job headers. */
#ifndef UMFAX_FAXINFO_H
#define UMFAX_FAXINFO_H

enum umfax_fax_status {
	UMFAX_FAX_COMPLETE = 0,   /* every page confirmed, T.30 ended normally */
	UMFAX_FAX_INCOMPLETE,     /* some pages (or damaged pages), call broke off */
	UMFAX_FAX_NO_PAGES,       /* a fax call, but no page arrived */
	UMFAX_FAX_ERROR           /* could not decode */
};

struct umfax_faxinfo {
	int status;               /* enum umfax_fax_status */
	int pages;                /* pages written to the TIFF */
	int width;                /* pixels, of the first page */
	int length;               /* rows, of the first page */
	int x_res, y_res;         /* dpi and lpi (204, 98/196/391, 300, 400, ...) */
	int bit_rate;             /* 2400 .. 14400 */
	char modem[16];           /* "V.27ter", "V.29", "V.17" */
	int ecm;                  /* 1 if ECM was used */
	char compression[8];      /* "MH", "MR", "MMR" (what the sender used) */
	int bad_rows;             /* damaged rows over all pages */
	char remote_ident[24];    /* the sender's TSI, cleaned */
	char local_ident[24];     /* the receiver's CSI, if known */
	double duration;          /* seconds, start to end of the fax session */
	char t30_result[96];      /* T.30 completion text, e.g. "OK" */
	int t30_code;             /* T30_ERR_* */
};

#include <stdint.h>

struct umfax_job;

/* "complete", "incomplete", "no-pages" or "error", as the Status field says. */
const char *umfax_fax_status_name(int status);

/* The job fields of a received fax, in this order: Pages, Resolution and
 * Width (with pages), Modem and ECM (when the DCS was seen), Compression,
 * Duration, Status, Bad-Rows (when any), T30-Result. */
void umfax_faxinfo_to_job(struct umfax_job *job, const struct umfax_faxinfo *in);

/* What a DCS frame (T.30 FCF 0x83, the octets as received: address,
 * control, FCF, then the FIF) says: the fast modem and its bit rate in
 * *RATE ("V.17", "V.29", "V.27ter"; "" for a short frame, "?" for a code
 * it does not name), the compression ("MH", "MR", "MMR"), and whether ECM
 * is on (1 or 0). */
const char *umfax_dcs_modem(const uint8_t *dcs, int len, int *rate);
const char *umfax_dcs_compression(const uint8_t *dcs, int len);
int umfax_dcs_ecm(const uint8_t *dcs, int len);

#endif
