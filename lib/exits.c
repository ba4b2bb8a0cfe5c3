/* exits.c - the one table of exit codes */
#include <stddef.h>
#include "exits.h"

static const struct {
	int code;
	const char *name;
	const char *text;
	char kind;                /* 'o' ok, 'p' permanent, 't' temporary */
} tab[] = {
	{ EX_OK,          "EX_OK",          "success",                      'o' },
	{ EX_USAGE,       "EX_USAGE",       "command line usage error",     'p' },
	{ EX_DATAERR,     "EX_DATAERR",     "data format error",            'p' },
	{ EX_NOINPUT,     "EX_NOINPUT",     "cannot open input",            'p' },
	{ EX_NOUSER,      "EX_NOUSER",      "addressee unknown",            'p' },
	{ EX_NOHOST,      "EX_NOHOST",      "host name unknown",            'p' },
	{ EX_UNAVAILABLE, "EX_UNAVAILABLE", "service unavailable",          't' },
	{ EX_SOFTWARE,    "EX_SOFTWARE",    "internal software error",      't' },
	{ EX_OSERR,       "EX_OSERR",       "system error",                 't' },
	{ EX_OSFILE,      "EX_OSFILE",      "critical OS file missing",     't' },
	{ EX_CANTCREAT,   "EX_CANTCREAT",   "cannot create output file",    't' },
	{ EX_IOERR,       "EX_IOERR",       "input/output error",           't' },
	{ EX_TEMPFAIL,    "EX_TEMPFAIL",    "temporary failure",            't' },
	{ EX_PROTOCOL,    "EX_PROTOCOL",    "remote error in protocol",     't' },
	{ EX_NOPERM,      "EX_NOPERM",      "permission denied",            'p' },
	{ EX_CONFIG,      "EX_CONFIG",      "configuration error",          't' },
};

static int
find(int code)
{
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].code == code)
			return (int)i;
	return -1;
}

int
umfax_exit_temporary(int code)
{
	int i = find(code);
	/* An unknown non-zero code is treated as temporary: never lose a job
	 * because of a code we did not expect. */
	return i < 0 ? code != 0 : tab[i].kind == 't';
}

int
umfax_exit_permanent(int code)
{
	int i = find(code);
	return i >= 0 && tab[i].kind == 'p';
}

const char *
umfax_exit_name(int code)
{
	int i = find(code);
	return i < 0 ? "EX_UNKNOWN" : tab[i].name;
}

const char *
umfax_exit_text(int code)
{
	int i = find(code);
	return i < 0 ? "unknown error" : tab[i].text;
}

static int
rank(int code)
{
	if (code == EX_OK)
		return 0;
	return umfax_exit_permanent(code) ? 2 : 1;
}

int
umfax_exit_worst(int sofar, int code)
{
	return rank(code) > rank(sofar) ? code : sofar;
}
