/* job_fuzz.c - the job reader, as a stream (many jobs) and as one spool file */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct umfax_job job;
	char err[256];
	FILE *fp;
	int rc, n = 0;

	umfax_job_init(&job);
	if (umfax_job_parse(data, size, &job, err, sizeof(err)) == 0) {
		/* what parses must write back and parse to the same thing */
		size_t len;
		unsigned char *buf = umfax_job_format(&job, &len);
		struct umfax_job again;
		umfax_job_init(&again);
		if (buf == NULL || umfax_job_parse(buf, len, &again, err, sizeof(err)) != 0
		    || again.len != job.len || again.nf != job.nf)
			__builtin_trap();
		free(buf);
		umfax_job_release(&again);
	}
	umfax_job_release(&job);
	if (size == 0)
		return 0;
	if ((fp = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	while ((rc = umfax_job_read(fp, &job, err, sizeof(err))) != 0 && n++ < 10000)
		if (rc == -2)
			break;
	umfax_job_release(&job);
	fclose(fp);
	return 0;
}
