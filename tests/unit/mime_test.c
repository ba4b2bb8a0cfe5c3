/* mime_test.c - the MIME builder: every header it writes is parsed back and
 * must give the (cleaned) value, whatever bytes went in. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "job.h"
#include "mime.h"
#include "t.h"

/* Check the shape of one header written by the builder: the first line
 * starts with "NAME:", every other line is a continuation (starts with a
 * space), no CR, no empty line, lines at most MAXLINE, and it ends in LF.
 * Returns the unfolded value (after "NAME:" and one space) in OUT. */
static int
check_header(const char *name, const char *h, size_t maxline, char *out, size_t n, const char *what)
{
	size_t nl = strlen(name), o = 0;
	const char *p = h;
	int lines = 0, ok = 1;

	if (strncmp(h, name, nl) != 0 || h[nl] != ':') {
		T_CHECK(0, "%s: header does not start with %s:", what, name);
		return -1;
	}
	if (strchr(h, '\r') != NULL) {
		T_CHECK(0, "%s: a CR in the header", what);
		ok = 0;
	}
	if (h[0] == '\0' || h[strlen(h) - 1] != '\n') {
		T_CHECK(0, "%s: header does not end with LF", what);
		return -1;
	}
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t l = (size_t)(e - p);
		if (l > maxline) {
			T_CHECK(0, "%s: line %d is %zu bytes long", what, lines + 1, l);
			ok = 0;
		}
		if (lines > 0 && p[0] != ' ') {
			T_CHECK(0, "%s: line %d is not a continuation: %.40s", what, lines + 1, p);
			ok = 0;
		}
		if (l == 0 || (lines > 0 && l == 1)) {
			T_CHECK(0, "%s: empty line %d", what, lines + 1);
			ok = 0;
		}
		if (o + l + 1 >= n)
			return -1;
		memcpy(out + o, p, l);
		o += l;
		lines++;
		p = e + 1;
	}
	out[o] = '\0';
	/* strip "NAME:" and the one space after it */
	memmove(out, out + nl + 1, o - nl);
	if (out[0] == ' ')
		memmove(out, out + 1, strlen(out));
	if (ok)
		t_pass++;
	return lines;
}

static char *
cleaned(const char *in)
{
	size_t n = strlen(in);
	char *c = malloc(n + 1);
	umfax_job_clean(c, n + 1, in, n);
	return c;
}

/* Write VALUE as an unstructured header, read it back. */
static void
text_roundtrip(const char *what, const char *value)
{
	struct umfax_mime m;
	size_t n = strlen(value) * 4 + 256;
	char *unf = malloc(n), *dec = malloc(n), *want = cleaned(value);

	umfax_mime_init(&m);
	T_CHECK(umfax_mime_header_text(&m, "Subject", value) == 0, "%s: header_text failed", what);
	if (check_header("Subject", m.buf, UMFAX_MIME_LINE, unf, n, what) > 0) {
		int d = umfax_mime_decode_text(unf, dec, n);
		T_CHECK(d >= 0, "%s: decode failed on %.80s", what, unf);
		if (d >= 0)
			T_CHECK(strcmp(dec, want) == 0, "%s: round trip gave \"%.120s\" want \"%.120s\"", what, dec, want);
	}
	/* Nothing but our header: a hostile value never starts a line of its own. */
	for (const char *p = m.buf; (p = strchr(p, '\n')) != NULL && p[1]; p++)
		T_CHECK(p[1] == ' ', "%s: a line after LF does not start with a space: %.30s", what, p + 1);
	/* every encoded-word is at most 75 bytes */
	for (const char *p = m.buf; (p = strstr(p, "=?")) != NULL; ) {
		const char *e = strstr(p + 2, "?=");
		const char *q1 = strchr(p + 2, '?');
		if (e == NULL)
			break;
		/* skip "?B?" to the real end */
		if (q1 && q1[1] && q1[2] == '?')
			e = strstr(q1 + 3, "?=");
		if (e == NULL)
			break;
		T_CHECK((size_t)(e + 2 - p) <= UMFAX_MIME_WORD, "%s: encoded-word of %zu bytes", what, (size_t)(e + 2 - p));
		p = e + 2;
	}
	umfax_mime_release(&m);
	free(unf);
	free(dec);
	free(want);
}

static void
test_text(void)
{
	static const struct { const char *what, *v; } t[] = {
		{ "ascii", "Fax (3 pages)" },
		{ "empty", "" },
		{ "spaces only", "   " },
		{ "latin1 in utf-8", "Fax from M\xc3\xbcller GmbH, K\xc3\xb6ln" },
		{ "cjk", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x95\xe3\x82\xa1\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9" },
		{ "emoji", "Fax \xf0\x9f\x93\xa0 from \xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80" },
		{ "crlf injection", "Evil\r\nBcc: victim@example.com\r\n\r\nbody" },
		{ "lf injection", "Evil\nContent-Type: text/html" },
		{ "bare cr", "a\rb\rc" },
		{ "tabs and controls", "a\tb\001c\x7f d\x1b[31m" },
		{ "invalid utf-8", "caf\xe9 \xff\xfe \xc3 end" },
		{ "c1 controls", "x\xc2\x85y\xc2\x9bz" },
		{ "looks encoded", "=?UTF-8?B?SGFja2Vk?= is not decoded" },
		{ "looks encoded 2", "a =?iso-8859-1?q?=E9?= b" },
		{ "question marks", "?= =? ?? =?=" },
		{ "one long word", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
		{ "boundary text", "--=_umfax_0123456789abcdef-- and --frontier" },
		{ "mixed runs", "Caller \xc3\x84rger und \xc3\x9c\xc3\x9c Sohn plain \xe2\x82\xac end" },
		{ "quotes", "\"quoted\" 'single' (paren) <angle> ; , : @ \\" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		text_roundtrip(t[i].what, t[i].v);
}

static void
test_long(void)
{
	size_t n = 10 * 1024;
	char *a = malloc(n + 1), *b = malloc(n + 1), *c = malloc(n + 1), *d = malloc(n + 1);

	/* 10 kB of words */
	for (size_t i = 0; i < n; i++)
		a[i] = (i % 7 == 6) ? ' ' : (char)('a' + i % 26);
	a[n] = '\0';
	text_roundtrip("10 kB of words", a);
	/* 10 kB without a space */
	memset(b, 'x', n);
	b[n] = '\0';
	text_roundtrip("10 kB one word", b);
	/* 10 kB of two-byte characters with CRLFs every so often */
	for (size_t i = 0; i + 2 <= n; i += 2) {
		c[i] = (char)0xc3;
		c[i + 1] = (char)(0xa4 + (i / 2) % 8);
	}
	for (size_t i = 100; i + 2 < n; i += 1000)
		c[i] = '\r', c[i + 1] = '\n';
	c[n] = '\0';
	text_roundtrip("10 kB umlauts with CRLF", c);
	/* 10 kB of random bytes */
	srand(7);
	for (size_t i = 0; i < n; i++)
		d[i] = (char)(1 + rand() % 255);
	d[n] = '\0';
	text_roundtrip("10 kB random bytes", d);
	free(a);
	free(b);
	free(c);
	free(d);
}

static void
test_addr(void)
{
	static const struct { const char *a; int ok; } t[] = {
		{ "tony@contoso.com", 1 }, { "first.last+fax@sub.example.org", 1 },
		{ "a@b", 1 }, { "", 0 }, { "nobody", 0 }, { "@example.com", 0 },
		{ "a@", 0 }, { "a b@example.com", 0 }, { "a@exa mple.com", 0 },
		{ "a@example.com\r\nBcc: x@y", 0 }, { "a@example.com>", 0 },
		{ "<a@example.com>", 0 }, { "a..b@example.com", 0 }, { ".a@example.com", 0 },
		{ "a.@example.com", 0 }, { "a@example..com", 0 }, { "a@example.com.", 0 },
		{ "\"q\"@example.com", 0 }, { "a@[127.0.0.1]", 0 }, { "a@b@c", 0 },
		{ "x@-", 1 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		T_CHECK(umfax_mime_addr_valid(t[i].a) == t[i].ok, "addr_valid(%s) != %d", t[i].a, t[i].ok);

	static const struct { const char *disp, *addr, *want; } h[] = {
		{ NULL, "tony@fax.test", "To: <tony@fax.test>\n" },
		{ "", "tony@fax.test", "To: <tony@fax.test>\n" },
		{ "Tony Smith", "tony@fax.test", "To: Tony Smith <tony@fax.test>\n" },
		{ "Smith, Tony", "tony@fax.test", "To: =?UTF-8?B?U21pdGgs?= Tony <tony@fax.test>\n" },
	};
	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		struct umfax_mime m;
		umfax_mime_init(&m);
		T_CHECK(umfax_mime_header_addr(&m, "To", h[i].disp, h[i].addr) == 0, "header_addr %zu", i);
		T_STREQ(m.buf, h[i].want, "header_addr %zu", i);
		umfax_mime_release(&m);
	}
	/* hostile display names decode back to the cleaned text */
	static const char *const disp[] = {
		"Evil\r\nBcc: x@y", "\"Q\" <fake@evil.example>", "M\xc3\xbcller, Hans (Fax)",
		"a;b:c@d", "=?UTF-8?B?QQ==?=",
	};
	for (size_t i = 0; i < sizeof(disp) / sizeof(disp[0]); i++) {
		struct umfax_mime m;
		char unf[1024], dec[1024], *want = cleaned(disp[i]), *lt;
		umfax_mime_init(&m);
		T_CHECK(umfax_mime_header_addr(&m, "From", disp[i], "fax@umfax.test") == 0, "addr %zu", i);
		if (check_header("From", m.buf, UMFAX_MIME_LINE, unf, sizeof(unf), "display") > 0) {
			/* the address is the last <...>; everything before is the phrase */
			lt = strrchr(unf, '<');
			T_CHECK(lt != NULL && strcmp(lt, "<fax@umfax.test>") == 0, "address kept: %s", unf);
			if (lt) {
				lt[lt > unf ? -1 : 0] = '\0';
				T_CHECK(umfax_mime_decode_text(unf, dec, sizeof(dec)) >= 0, "decode %s", unf);
				T_STREQ(dec, want, "display %zu", i);
				/* no unencoded specials in the phrase */
				for (const char *p = unf; *p; p++)
					if (strchr("<>\",;:@()", *p)) {
						T_CHECK(0, "special %c left plain in phrase %s", *p, unf);
						break;
					}
			}
		}
		free(want);
		umfax_mime_release(&m);
	}
	struct umfax_mime m;
	umfax_mime_init(&m);
	T_CHECK(umfax_mime_header_addr(&m, "To", "x", "bad address") < 0 && m.failed, "bad address refused");
	T_CHECK(umfax_mime_header_text(&m, "Subject", "x") < 0, "writes after a failure are refused");
	umfax_mime_release(&m);
}

static void
test_token(void)
{
	struct umfax_mime m;
	char big[1000];

	umfax_mime_init(&m);
	T_CHECK(umfax_mime_header_token(&m, "X-MS-Exchange-UM-PartnerContext", "Q2FsbElkPTEyMzQ=") == 0, "token ok");
	T_STREQ(m.buf, "X-MS-Exchange-UM-PartnerContext: Q2FsbElkPTEyMzQ=\n", "token line");
	umfax_mime_release(&m);
	static const char *const bad[] = { "", "a b", "a\r\nX: y", "a\n", "\xc3\xa4", "a\tb" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		umfax_mime_init(&m);
		T_CHECK(umfax_mime_header_token(&m, "X-T", bad[i]) < 0, "token %zu refused", i);
		umfax_mime_release(&m);
	}
	memset(big, 'Q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	umfax_mime_init(&m);
	T_CHECK(umfax_mime_header_token(&m, "X-T", big) < 0, "999-byte token refused");
	umfax_mime_release(&m);
	umfax_mime_init(&m);
	T_CHECK(umfax_mime_header_text(&m, "Bad Name", "x") < 0, "header name with a space refused");
	umfax_mime_release(&m);
	umfax_mime_init(&m);
	T_CHECK(umfax_mime_header_text(&m, "Bad:\nName", "x") < 0, "header name with LF refused");
	umfax_mime_release(&m);
}

static void
param_roundtrip(const char *what, const char *v, int want_plain)
{
	struct umfax_mime m;
	size_t n = strlen(v) * 4 + 512;
	char *unf = malloc(n), *dec = malloc(n), *want = cleaned(v);

	if (strlen(want) > UMFAX_MIME_PARAM_MAX) {
		size_t k = UMFAX_MIME_PARAM_MAX;
		while (k > 0 && ((unsigned char)want[k] & 0xc0) == 0x80)
			k--;
		want[k] = '\0';
	}
	umfax_mime_init(&m);
	T_CHECK(umfax_mime_header_param(&m, "Content-Disposition", "attachment", NULL, "filename", v) == 0,
	    "%s: header_param", what);
	if (check_header("Content-Disposition", m.buf, UMFAX_MIME_LINE, unf, n, what) > 0) {
		T_CHECK(strncmp(unf, "attachment;", 11) == 0, "%s: value first: %.40s", what, unf);
		T_CHECK(umfax_mime_get_param(unf, "filename", dec, n) >= 0, "%s: get_param", what);
		T_STREQ(dec, want, "%s: filename round trip", what);
		/* plain only for short safe ASCII; otherwise RFC 2231 only */
		const char *q = strstr(unf, "filename=\"");
		if (want_plain)
			T_CHECK(q != NULL && strstr(unf, "filename*") == NULL, "%s: plain filename= only: %s", what, unf);
		else
			T_CHECK(q == NULL && strstr(unf, "filename*0*=UTF-8''") != NULL, "%s: RFC 2231 only: %.80s", what, unf);
		/* segments are attribute-chars and %XX only */
		for (const char *p = strstr(unf, "filename*"); p && !want_plain && *p; p++)
			if (!isalnum((unsigned char)*p) && !strchr("!#$&+-.^_`|~%*='; ", *p)) {
				T_CHECK(0, "%s: byte %02x in a segment", what, (unsigned char)*p);
				break;
			}
	}
	umfax_mime_release(&m);
	free(unf);
	free(dec);
	free(want);
}

static void
test_param(void)
{
	struct umfax_mime m;
	char big[10 * 1024 + 1];

	umfax_mime_init(&m);
	umfax_mime_header_param(&m, "Content-Type", "image/tiff", NULL, "name", "Contoso (3 pages) Fax Message.tif");
	T_STREQ(m.buf, "Content-Type: image/tiff; name=\"Contoso (3 pages) Fax Message.tif\"\n", "plain param");
	umfax_mime_release(&m);
	umfax_mime_init(&m);
	umfax_mime_header_param(&m, "Content-Type", "text/plain", "charset=UTF-8", "name", "a.txt");
	T_STREQ(m.buf, "Content-Type: text/plain; charset=UTF-8; name=\"a.txt\"\n", "param with extra");
	umfax_mime_release(&m);
	umfax_mime_init(&m);
	T_CHECK(umfax_mime_header_param(&m, "Content-Type", "image/tiff\r\nX: y", NULL, "name", "a") < 0, "bad value refused");
	umfax_mime_release(&m);
	umfax_mime_init(&m);
	T_CHECK(umfax_mime_header_param(&m, "Content-Type", "a/b", "x=1;y", "name", "a") < 0, "bad extra refused");
	umfax_mime_release(&m);

	param_roundtrip("ascii", "Contoso (3 pages) Fax Message.tif", 1);
	param_roundtrip("umlaut", "M\xc3\xbcller (2 pages) Fax Message.tif", 0);
	param_roundtrip("quote and backslash", "a\"b\\c.tif", 0);
	param_roundtrip("crlf", "evil\r\nContent-Type: text/html\r\n\r\n.tif", 1);
	param_roundtrip("crlf and quote", "evil\"\r\nContent-Type: text/html\r\n\r\n.tif", 0);
	param_roundtrip("percent", "100% sure's.tif", 1);
	param_roundtrip("cjk", "\xe6\x97\xa5\xe6\x9c\xac (1 pages) Fax Message.tif", 0);
	param_roundtrip("long ascii", "A very long caller name that goes on and on and on and on and on (3 pages) Fax Message.tif", 0);
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	param_roundtrip("10 kB", big, 0);
	for (size_t i = 0; i + 3 < sizeof(big); i += 3) {
		big[i] = (char)0xe2;
		big[i + 1] = (char)0x82;
		big[i + 2] = (char)0xac;
	}
	big[sizeof(big) - 1 - (sizeof(big) - 1) % 3] = '\0';
	param_roundtrip("10 kB euro signs", big, 0);
}

/* A small quoted-printable decoder for the check. */
static size_t
qp_decode(const char *in, char *out)
{
	size_t o = 0;
	for (const char *p = in; *p; p++) {
		if (*p == '=' && p[1] == '\n') {
			p++;
			continue;
		}
		if (*p == '=' && p[1] && p[2]) {
			unsigned v;
			sscanf(p + 1, "%2x", &v);
			out[o++] = (char)v;
			p += 2;
			continue;
		}
		out[o++] = *p;
	}
	out[o] = '\0';
	return o;
}

static void
test_bodies(void)
{
	unsigned char data[1024], back[1024];
	struct umfax_mime m;

	srand(11);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)rand();
	static const size_t lens[] = { 0, 1, 2, 3, 4, 56, 57, 58, 100, 1023 };
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		long r;
		int long_line = 0;
		umfax_mime_init(&m);
		umfax_mime_base64(&m, data, lens[k]);
		for (const char *p = m.buf ? m.buf : ""; *p; ) {
			const char *e = strchr(p, '\n');
			if (e == NULL || e - p > 76)
				long_line = 1;
			p = e ? e + 1 : p + strlen(p);
		}
		T_CHECK(!long_line, "base64 %zu: lines of at most 76", lens[k]);
		r = umfax_mime_base64_decode(m.buf ? m.buf : "", m.len, back, sizeof(back));
		T_CHECK(r == (long)lens[k] && memcmp(back, data, lens[k]) == 0, "base64 %zu round trip (%ld)", lens[k], r);
		umfax_mime_release(&m);
	}
	T_CHECK(umfax_mime_base64_decode("QQ=A", 4, back, sizeof(back)) < 0, "data after padding refused");
	T_CHECK(umfax_mime_base64_decode("Q!==", 4, back, sizeof(back)) < 0, "bad base64 refused");

	static const char *const texts[] = {
		"Hello\nworld\n",
		"Bitte senden Sie Faxe an M\xc3\xbcller.\n",
		"trailing space \nand tab\t\n",
		"From the start\nFrom here\n.\n.dot\n",
		"a=b =3D =\n",
		"no newline at the end",
		"CRLF\r\nlines\r\n",
		"a very long line aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa end\n",
		"--=_umfax_deadbeef\n--=_umfax_deadbeef--\n",
	};
	for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
		char out[2048], want[2048];
		size_t o = 0;
		int bad = 0;
		umfax_mime_init(&m);
		umfax_mime_qp(&m, texts[k], strlen(texts[k]));
		for (const char *p = m.buf; *p; ) {
			const char *e = strchr(p, '\n');
			if (e == NULL || e - p > 76)
				bad = 1;
			if (strncmp(p, "From ", 5) == 0 || p[0] == '.')
				bad = 1;
			if (e && e > p && (e[-1] == ' ' || e[-1] == '\t'))
				bad = 1;
			p = e ? e + 1 : p + strlen(p);
		}
		T_CHECK(!bad, "qp %zu: line rules", k);
		T_CHECK(strstr(m.buf, "=_") == NULL, "qp %zu: never produces =_", k);
		qp_decode(m.buf, out);
		for (const char *p = texts[k]; *p; p++)
			if (*p != '\r')
				want[o++] = *p;
		want[o] = '\0';
		T_STREQ(out, want, "qp %zu round trip", k);
		umfax_mime_release(&m);
	}
}

static void
test_boundary_date(void)
{
	char a[UMFAX_MIME_BOUNDARY], b[UMFAX_MIME_BOUNDARY], d[64], sep[80];
	struct umfax_mime m;

	umfax_mime_boundary(a, sizeof(a), "job1");
	umfax_mime_boundary(b, sizeof(b), "job1");
	T_CHECK(strncmp(a, "=_umfax_", 8) == 0 && strlen(a) > 20, "boundary form %s", a);
	T_CHECK(strcmp(a, b) != 0, "two boundaries differ");
	/* A body that contains the boundary text cannot contain it after base64. */
	snprintf(sep, sizeof(sep), "\n--%s\n", a);
	umfax_mime_init(&m);
	for (int i = 0; i < 50; i++)
		umfax_mime_base64(&m, sep, strlen(sep) - (size_t)(i % 3));
	T_CHECK(strstr(m.buf, a) == NULL && strstr(m.buf, "=_") == NULL, "boundary absent from base64");
	umfax_mime_release(&m);

	T_STREQ(umfax_mime_date(d, sizeof(d), 1795549260), "Tue, 24 Nov 2026 19:41:00 +0000", "date");
	T_STREQ(umfax_mime_date(d, sizeof(d), 0), "Thu, 1 Jan 1970 00:00:00 +0000", "epoch");
}

static void
test_decode(void)
{
	char out[256];

	T_CHECK(umfax_mime_decode_text("=?utf-8?q?M=C3=BCller_x?=", out, sizeof(out)) >= 0, "q decode");
	T_STREQ(out, "M\xc3\xbcller x", "q word");
	T_CHECK(umfax_mime_decode_text("a =?UTF-8?B?w6Q=?= =?UTF-8?B?w7Y=?= b", out, sizeof(out)) >= 0, "b decode");
	T_STREQ(out, "a \xc3\xa4\xc3\xb6 b", "space between encoded-words dropped, others kept");
	T_CHECK(umfax_mime_decode_text("=?koi8-r?B?QQ==?=", out, sizeof(out)) < 0, "unknown charset refused");
	T_CHECK(umfax_mime_decode_text("=?UTF-8?Q?=ZZ?=", out, sizeof(out)) < 0, "bad Q refused");
	T_CHECK(umfax_mime_get_param("attachment; filename*0*=UTF-8''%C3%A4; filename*1*=b; filename=\"x\"",
	    "filename", out, sizeof(out)) == 3, "continuations joined");
	T_STREQ(out, "\xc3\xa4" "b", "param value");
	T_CHECK(umfax_mime_get_param("attachment; name=\"a\\\"b\"", "name", out, sizeof(out)) == 3, "quoted pair");
	T_STREQ(out, "a\"b", "quoted");
	T_CHECK(umfax_mime_get_param("attachment", "name", out, sizeof(out)) < 0, "absent param");
}

int
main(void)
{
	test_text();
	test_long();
	test_addr();
	test_token();
	test_param();
	test_bodies();
	test_boundary_date();
	test_decode();
	return T_DONE();
}
