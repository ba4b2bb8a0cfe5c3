/* conf_fuzz.c - the umfax.conf parser, with its [route NAME] sections: any
 * input is taken or refused without harm, and a file that is taken prints
 * (umfax_conf_print, as "umresolve conf" does) as a file that reads back
 * to the same settings. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
print_all(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	if (fp == NULL)
		abort();
	umfax_conf_print(fp, 'a');
	fclose(fp);
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];

	umfax_conf_reset();
	if (umfax_conf_parse("fuzz.conf", (const char *)data, size, err, sizeof(err)) == 0) {
		char *a = print_all(), *b;
		int n = umfax_conf_nroutes();

		for (int r = -1; r < n; r++)
			(void)umfax_conf_rstr(r, "t38live_allow");
		umfax_conf_reset();
		if (umfax_conf_parse("printed.conf", a, strlen(a), err, sizeof(err)) != 0) {
			fprintf(stderr, "printed settings do not read back: %s\n", err);
			abort();
		}
		b = print_all();
		if (strcmp(a, b) != 0 || umfax_conf_nroutes() != n) {
			fprintf(stderr, "printed settings read back differently\n");
			abort();
		}
		free(a);
		free(b);
	}
	umfax_conf_reset();
	return 0;
}
