/* t38route_test - which route of umfax.conf a live call's called number
 * takes (route_called patterns). */
#include <string.h>
#include "t.h"
#include "t38live.h"

int main(void)
{
	static const struct {
		const char *list, *called;
		int want;
	} t[] = {
		{ "", "4420794600", 1 },          /* no route_called: every call */
		{ "", "", 1 },
		{ "", NULL, 1 },
		{ "*", "1234", 1 },
		{ "*", "", 0 },                   /* "*" wants some number */
		{ "4420*", "4420794600", 1 },
		{ "4420*", "4421794600", 0 },
		{ "4420*", "4420", 1 },           /* the prefix itself */
		{ "4420*", "442", 0 },
		{ "1234", "1234", 1 },            /* a whole number */
		{ "1234", "12345", 0 },
		{ "1234", "123", 0 },
		{ "100, 200*,300", "300", 1 },
		{ "100, 200*,300", "2001", 1 },
		{ "100, 200*,300", "101", 0 },
		{ " ,\t100 , ", "100", 1 },       /* blanks and empty entries */
		{ "+4420*", "+44207946", 1 },
		{ "+4420*", "4420", 0 },          /* a + is part of the number */
		{ "fax*", "fax-sales", 1 },       /* SIP user names too */
		{ "1234", NULL, 0 },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		T_CHECK(umfax_t38live_called_match(t[i].list, t[i].called) == t[i].want, "case %zu: \"%s\" ~ \"%s\"",
		    i, t[i].list, t[i].called ? t[i].called : "(null)");
	return T_DONE();
}
