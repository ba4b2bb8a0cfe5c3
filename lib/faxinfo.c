/* faxinfo.c - reading the sender's DCS, shared by the T.38 decoders */
#include <stdint.h>
#include "faxinfo.h"

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
