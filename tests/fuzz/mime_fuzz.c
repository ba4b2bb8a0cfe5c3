/* mime_fuzz.c - the MIME builder must turn any bytes into a well-formed
 * header that decodes back to the cleaned value; the readers (decode_text,
 * get_param, base64) and the msmtp output classifier and msmtprc check must
 * not crash on anything.  The first input byte picks what is fuzzed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "job.h"
#include "mime.h"
#include "submit.h"

static void
check(int cond)
{
	if (!cond)
		__builtin_trap();
}

/* Shape of a header the builder wrote; returns the unfolded value. */
static char *
shape(const char *h, size_t nl)
{
	size_t len = strlen(h), o = 0;
	char *u = malloc(len + 1);
	int first = 1;

	check(len > 0 && h[len - 1] == '\n');
	check(strchr(h, '\r') == NULL);
	for (const char *p = h; *p; ) {
		const char *e = strchr(p, '\n');
		check(e != NULL);
		check((size_t)(e - p) <= UMFAX_MIME_LINE);
		check(first || (p[0] == ' ' && e - p > 1));
		memcpy(u + o, p, (size_t)(e - p));
		o += (size_t)(e - p);
		first = 0;
		p = e + 1;
	}
	u[o] = '\0';
	memmove(u, u + nl + 1, o - nl);
	if (u[0] == ' ')
		memmove(u, u + 1, strlen(u));
	return u;
}

static char *
cleaned(const char *s)
{
	size_t n = strlen(s);
	char *c = malloc(n + 1);
	umfax_job_clean(c, n + 1, s, n);
	return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct umfax_mime m;
	char *s, *u, *want, *out;
	size_t n;
	int mode;

	if (size < 1 || size > 20000)
		return 0;
	mode = data[0] % 7;
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	n = size * 4 + 512;
	out = malloc(n);
	umfax_mime_init(&m);

	switch (mode) {
	case 0:             /* unstructured text round trip */
		check(umfax_mime_header_text(&m, "Subject", s) == 0);
		u = shape(m.buf, 7);
		want = cleaned(s);
		check(umfax_mime_decode_text(u, out, n) >= 0);
		check(strcmp(out, want) == 0);
		free(u);
		free(want);
		break;
	case 1: {           /* parameter round trip */
		check(umfax_mime_header_param(&m, "Content-Disposition", "attachment", NULL, "filename", s) == 0);
		u = shape(m.buf, 19);
		want = cleaned(s);
		if (strlen(want) > UMFAX_MIME_PARAM_MAX) {
			size_t k = UMFAX_MIME_PARAM_MAX;
			while (k > 0 && ((unsigned char)want[k] & 0xc0) == 0x80)
				k--;
			want[k] = '\0';
		}
		check(umfax_mime_get_param(u, "filename", out, n) >= 0);
		check(strcmp(out, want) == 0);
		free(u);
		free(want);
		break;
	}
	case 2: {           /* address header with a hostile display name */
		check(umfax_mime_header_addr(&m, "From", s, "fax@umfax.test") == 0);
		u = shape(m.buf, 4);
		char *lt = strrchr(u, '<');
		check(lt != NULL && strcmp(lt, "<fax@umfax.test>") == 0);
		free(u);
		/* and the string as an address: refused unless plain */
		struct umfax_mime m2;
		umfax_mime_init(&m2);
		if (umfax_mime_header_addr(&m2, "To", NULL, s) == 0) {
			check(umfax_mime_addr_valid(s));
			check(strchr(s, '\n') == NULL && strchr(s, ' ') == NULL && strchr(s, '>') == NULL);
		}
		umfax_mime_release(&m2);
		break;
	}
	case 3: {           /* msmtp's output classified */
		struct umfax_submit_result r;
		const char *log = "";
		char *sep = strchr(s, '|');
		if (sep != NULL) {
			*sep = '\0';
			log = sep + 1;
		}
		umfax_submit_classify(size > 1 ? (int)(unsigned char)data[1] - 2 : 0, s, log, &r);
		check(r.reason[0] != '\0');
		check(strchr(r.reason, '\n') == NULL && strchr(r.reply, '\n') == NULL);
		check(!r.permanent || (r.smtp >= 500 && r.smtp < 600));
		break;
	}
	case 4: {           /* msmtprc check */
		char err[512];
		unsigned mode_bits = size > 1 ? data[1] : 0;
		int rc = umfax_submit_check_text("rc", s, strlen(s), mode_bits, err, sizeof(err));
		check(rc == 0 || (rc == 78 && (mode_bits & 044)));
		break;
	}
	case 5:             /* readers on anything */
		umfax_mime_decode_text(s, out, n);
		umfax_mime_get_param(s, "filename", out, n);
		umfax_mime_base64_decode(s, strlen(s), (unsigned char *)out, n);
		break;
	default: {          /* bodies: base64 and QP of the raw bytes */
		long r;
		umfax_mime_base64(&m, data + 1, size - 1);
		r = umfax_mime_base64_decode(m.buf ? m.buf : "", m.len, (unsigned char *)out, n);
		check(r == (long)(size - 1) && memcmp(out, data + 1, size - 1) == 0);
		umfax_mime_release(&m);
		umfax_mime_init(&m);
		umfax_mime_qp(&m, (const char *)data + 1, size - 1);
		check(m.buf == NULL || strstr(m.buf, "=_") == NULL);
		for (const char *p = m.buf ? m.buf : ""; *p; ) {
			const char *e = strchr(p, '\n');
			check(e != NULL && e - p <= 76);
			p = e + 1;
		}
		break;
	}
	}
	umfax_mime_release(&m);
	free(out);
	free(s);
	return 0;
}
