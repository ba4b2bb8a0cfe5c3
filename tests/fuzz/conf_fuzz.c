/* conf_fuzz.c - the umfax.conf parser */
#include <stdint.h>
#include <stdio.h>
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];

	umfax_conf_parse("fuzz.conf", (const char *)data, size, err, sizeof(err));
	umfax_conf_reset();
	return 0;
}
