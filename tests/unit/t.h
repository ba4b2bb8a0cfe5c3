/* t.h - a tiny table-driven test harness.  Each test file ends with
 * T_DONE(), which prints "N passed, N failed" and returns the status. */
#ifndef UMFAX_T_H
#define UMFAX_T_H

#include <stdio.h>
#include <string.h>

static int t_pass, t_fail;

#define T_CHECK(cond, ...) do { \
	if (cond) { t_pass++; } else { t_fail++; \
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
} while (0)

#define T_STREQ(a, b, ...) do { \
	const char *t_a_ = (a), *t_b_ = (b); \
	if (t_a_ && t_b_ && strcmp(t_a_, t_b_) == 0) { t_pass++; } else { t_fail++; \
		fprintf(stderr, "FAIL %s:%d: \"%s\" != \"%s\": ", __FILE__, __LINE__, \
		    t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)"); \
		fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
} while (0)

#define T_DONE() (printf("%d passed, %d failed\n", t_pass, t_fail), t_fail ? 1 : 0)

#endif
