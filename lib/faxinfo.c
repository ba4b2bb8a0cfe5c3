/* faxinfo.c - reading the sender's DCS, shared by the T.38 decoders */
#include <stdint.h>
#include "faxinfo.h"
#include "job.h"

const char *
umfax_dcs_modem(const uint8_t *dcs, int len, int *rate)
{
	*rate = 0;
	if (len < 5)
		return "";
	switch (dcs[4] & 0x3c) {
	case 0x20: *rate = 14400; return "V.17";
	case 0x28: *rate = 12000; return "V.17";
	case 0x24: *rate = 9600; return "V.17";
	case 0x2c: *rate = 7200; return "V.17";
	case 0x04: *rate = 9600; return "V.29";
	case 0x0c: *rate = 7200; return "V.29";
	case 0x08: *rate = 4800; return "V.27ter";
	case 0x00: *rate = 2400; return "V.27ter";
	default: return "?";
	}
}

const char *
umfax_dcs_compression(const uint8_t *dcs, int len)
{
	if (len > 6 && (dcs[5] & 0x80) && (dcs[6] & 0x40))
		return "MMR";
	if (len > 4 && (dcs[4] & 0x80))
		return "MR";
	return "MH";
}

int
umfax_dcs_ecm(const uint8_t *dcs, int len)
{
	return len > 6 && (dcs[5] & 0x80) && (dcs[6] & 0x04);
}

const char *umfax_fax_status_name(int status)
{
	switch (status) {
	case UMFAX_FAX_COMPLETE: return "complete";
	case UMFAX_FAX_INCOMPLETE: return "incomplete";
	case UMFAX_FAX_NO_PAGES: return "no-pages";
	default: return "error";
	}
}

void umfax_faxinfo_to_job(struct umfax_job *job, const struct umfax_faxinfo *in)
{
	umfax_job_setf(job, "Pages", "%d", in->pages);
	if (in->pages > 0) {
		umfax_job_setf(job, "Resolution", "%dx%d", in->x_res, in->y_res);
		umfax_job_setf(job, "Width", "%d", in->width);
	}
	if (in->modem[0]) {
		umfax_job_setf(job, "Modem", "%s %d", in->modem, in->bit_rate);
		umfax_job_set(job, "ECM", in->ecm ? "yes" : "no");
	}
	umfax_job_set_if(job, "Compression", in->compression);
	umfax_job_setf(job, "Duration", "%.0f", in->duration);
	umfax_job_set(job, "Status", umfax_fax_status_name(in->status));
	if (in->bad_rows > 0)
		umfax_job_setf(job, "Bad-Rows", "%d", in->bad_rows);
	umfax_job_set_if(job, "T30-Result", in->t30_result);
}
