/* directory.c - load and validate the directory, resolve a called party to a
 * mailbox, apply the fax rule, check gateways.  See directory.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "conf.h"
#include "directory.h"
#include "log.h"

#define MAX_DIR_FILE   (256L * 1024 * 1024)
#define MAX_ERRORS     50          /* errors reported to diag per load */
#define MAX_NUM        32          /* digits in a number */

/* ---- arena: all strings and arrays of one directory ---------------------- */

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct umfax_dir_arena {
	struct chunk *head;
	char *text;                /* the file image, parsed in place */
};

static void *arena_alloc(struct umfax_dir_arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (!a->head || a->head->cap - a->head->used < n) {
		size_t cap = n > 256 * 1024 ? n : 256 * 1024;
		struct chunk *c = malloc(sizeof *c + cap);
		if (!c)
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
	}
	void *p = (char *)a->head->data + a->head->used;
	a->head->used += n;
	return p;
}

static char *arena_strndup(struct umfax_dir_arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void arena_free(struct umfax_dir_arena *a)
{
	if (a) {
		free(a->text);
		a->text = NULL;
	}
	while (a && a->head) {
		struct chunk *c = a->head;
		a->head = c->next;
		free(c);
	}
}

/* Ask for huge pages for a big buffer (fewer page faults when it is first
 * written); a hint only. */
static void big_pages(void *p, size_t n)
{
	if (!p || n < (4u << 20))
		return;
	uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)4095;
	if (e > a)
		madvise((void *)a, e - a, MADV_HUGEPAGE);
}

/* ---- hash index ------------------------------------------------------------ */

enum { K_DIALPLAN = 1, K_POLICY, K_ALIAS, K_SMTP, K_EXT, K_E164, K_SIP, K_LOCAL };

#define AMBIGUOUS (-2)

/* 16 bytes an entry: the table of 100,000 mailboxes (600,000 keys) stays
 * small enough to build in a few ms.  KIND and DP are part of the hash; the
 * key string is compared, the kind is stored, and for K_EXT the dial plan is
 * checked through the mailbox. */
struct ent {
	uint32_t h;
	uint32_t kv;               /* kind << 24 | value (object index, or VAL_AMBIGUOUS) */
	const char *key;
};

#define VAL_MASK       0xFFFFFFu
#define VAL_AMBIGUOUS  0xFFFFFFu

struct umfax_dir_index {
	struct ent *t;
	size_t mask, n, bytes;
	const struct umfax_mailbox *mb;        /* the arrays do not move after loading */
	const struct umfax_dialplan *dp0;
};

static inline unsigned char lc(unsigned char c)
{
	return (unsigned char)((unsigned)c - 'A' < 26u ? c + 32 : c);
}

static uint32_t hkey(int kind, unsigned dp, const char *s, size_t n)
{
	uint32_t h = 2166136261u ^ (uint32_t)kind ^ ((uint32_t)dp << 8);
	for (size_t i = 0; i < n; i++) {
		h ^= lc((unsigned char)s[i]);
		h *= 16777619u;
	}
	h ^= h >> 15;
	h *= 0x2c1b3c6dU;
	h ^= h >> 12;
	return h;
}

static int keyeq(const char *key, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lc((unsigned char)key[i]) != lc((unsigned char)s[i]) || !key[i])
			return 0;
	return key[n] == '\0';
}

static int ix_init(struct umfax_dir_index *ix, size_t want)
{
	size_t cap = 64;
	while (cap < want + want / 2)
		cap <<= 1;
	/* A big table in huge pages where the kernel offers them: random
	 * inserts then miss the cache but not the TLB. */
	ix->bytes = cap * sizeof *ix->t;
	void *t = mmap(NULL, ix->bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED) {
		ix->t = NULL;
		return -1;
	}
	if (ix->bytes >= (2u << 20))
		madvise(t, ix->bytes, MADV_HUGEPAGE);
	ix->t = t;
	ix->mask = cap - 1;
	ix->n = 0;
	return 0;
}

/* Index of the dial plan of mailbox VAL (through its policy), or ~0. */
static unsigned mb_dp_index(const struct umfax_dir_index *ix, uint32_t val)
{
	const struct umfax_mailbox *m = &ix->mb[val];
	if (!m->policy || !m->policy->dialplan)
		return ~0u;
	return (unsigned)(m->policy->dialplan - ix->dp0);
}

static int ent_is(const struct umfax_dir_index *ix, const struct ent *e, uint32_t h, int kind,
    unsigned dp, const char *s, size_t n)
{
	if (e->h != h || (int)(e->kv >> 24) != kind || !keyeq(e->key, s, n))
		return 0;
	if (kind == K_EXT && (e->kv & VAL_MASK) != VAL_AMBIGUOUS && mb_dp_index(ix, e->kv & VAL_MASK) != dp)
		return 0;
	return 1;
}

static struct ent *ix_find(const struct umfax_dir_index *ix, int kind, unsigned dp,
    const char *s, size_t n)
{
	if (!ix || !ix->t)
		return NULL;
	uint32_t h = hkey(kind, dp, s, n);
	for (size_t i = h & ix->mask;; i = (i + 1) & ix->mask) {
		struct ent *e = &ix->t[i];
		if (!e->key)
			return NULL;
		if (ent_is(ix, e, h, kind, dp, s, n))
			return e;
	}
}

static int ent_val(const struct ent *e)
{
	uint32_t v = e->kv & VAL_MASK;
	return v == VAL_AMBIGUOUS ? AMBIGUOUS : (int)v;
}

/* Insert; returns the existing entry when the key is there (not replaced),
 * else NULL after inserting.  The table never fills (sized at 1.5x). */
static struct ent *ix_put_h(struct umfax_dir_index *ix, int kind, unsigned dp,
    const char *s, size_t n, uint32_t h, int val)
{
	for (size_t i = h & ix->mask;; i = (i + 1) & ix->mask) {
		struct ent *e = &ix->t[i];
		if (!e->key) {
			e->h = h;
			e->key = s;
			e->kv = (uint32_t)kind << 24 | ((uint32_t)val & VAL_MASK);
			ix->n++;
			return NULL;
		}
		if (ent_is(ix, e, h, kind, dp, s, n))
			return e;
	}
}

static struct ent *ix_put(struct umfax_dir_index *ix, int kind, unsigned dp,
    const char *s, int val)
{
	size_t n = strlen(s);
	return ix_put_h(ix, kind, dp, s, n, hkey(kind, dp, s, n), val);
}

static int ix_get(const struct umfax_dir *d, int kind, unsigned dp, const char *s)
{
	const struct ent *e = ix_find(d->ix, kind, dp, s, strlen(s));
	return e ? ent_val(e) : -1;
}

/* ---- small helpers ---------------------------------------------------------- */

static void cpy(char *dst, size_t n, const char *src)
{
	if (n == 0)
		return;
	size_t l = strlen(src);
	if (l >= n)
		l = n - 1;
	memcpy(dst, src, l);
	dst[l] = '\0';
}

static void appendf(char *dst, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void appendf(char *dst, size_t n, const char *fmt, ...)
{
	size_t l = strlen(dst);
	if (l + 1 >= n)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst + l, n - l, fmt, ap);
	va_end(ap);
}

const char *umfax_uri_type_name(enum umfax_uri_type t)
{
	switch (t) {
	case UMFAX_URI_TELEXTN: return "telextn";
	case UMFAX_URI_E164: return "e164";
	case UMFAX_URI_SIPNAME: return "sipname";
	}
	return "?";
}

const char *umfax_dir_verdict_name(enum umfax_dir_verdict v)
{
	switch (v) {
	case UMFAX_DIR_ALLOW: return "allow";
	case UMFAX_DIR_NOT_FOUND: return "not-found";
	case UMFAX_DIR_DENY_GATEWAY: return "deny-gateway";
	case UMFAX_DIR_DENY_DIALPLAN: return "deny-dialplan";
	case UMFAX_DIR_DENY_POLICY: return "deny-policy";
	case UMFAX_DIR_DENY_MAILBOX: return "deny-mailbox";
	case UMFAX_DIR_DENY_NO_URI: return "deny-no-uri";
	}
	return "?";
}

static int parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1", "$true", NULL };
	static const char *const no[] = { "false", "no", "off", "0", "$false", NULL };
	for (int i = 0; yes[i]; i++)
		if (strcasecmp(v, yes[i]) == 0)
			return *out = 1, 0;
	for (int i = 0; no[i]; i++)
		if (strcasecmp(v, no[i]) == 0)
			return *out = 0, 0;
	return -1;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* Character classes, by table: the loader looks at every byte. */
enum { C_NAME = 1, C_ADDRBAD = 2 };
static unsigned char cclass[256];

static void cclass_init(void)
{
	if (cclass['a'])
		return;
	for (int c = 0; c < 256; c++) {
		unsigned char v = 0;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (c && strchr("!#$%&'*+/=?^_`{|}~.@-", c)))
			v |= C_NAME;
		if (c <= ' ' || (c && strchr("<>,;\"()[]\\", c)))
			v |= C_ADDRBAD;
		cclass[c] = v;
	}
}

static int name_ok(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!(cclass[(unsigned char)s[n]] & C_NAME))
			return 0;
	return n > 0 && n <= UMFAX_DIR_NAME_MAX;
}

/* "local@domain" with no spaces or angle brackets. */
static int addr_ok(const char *s)
{
	const char *at = NULL;
	for (const char *p = s; *p; p++) {
		if (cclass[(unsigned char)*p] & C_ADDRBAD)
			return 0;
		if (*p == '@') {
			if (at)
				return 0;
			at = p;
		}
	}
	return at && at != s && at[1];
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* Copy SRC into DST (size N) for a message in double quotes: control
 * bytes become '?', '"' becomes '\'', cut at N-1 bytes. */
static void printable(char *dst, size_t n, const char *src)
{
	size_t o = 0;
	for (; *src && o + 1 < n; src++) {
		unsigned char c = (unsigned char)*src;
		dst[o++] = c < ' ' || c == 0x7f ? '?' : c == '"' ? '\'' : (char)c;
	}
	dst[o] = '\0';
}

/* ---- gateways ------------------------------------------------------------------ */

static int pton_any(const char *s, size_t n, int *fam, unsigned char out[16])
{
	char buf[INET6_ADDRSTRLEN + 4];
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']')
		s++, n -= 2;
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(out, 0, 16);
	if (inet_pton(AF_INET, buf, out) == 1)
		return *fam = AF_INET, 0;
	if (inet_pton(AF_INET6, buf, out) == 1)
		return *fam = AF_INET6, 0;
	return -1;
}

int umfax_iprange_parse(const char *text, struct umfax_iprange *r)
{
	const char *dash = strchr(text, '-'), *slash = strchr(text, '/');
	memset(r, 0, sizeof *r);
	if (dash && slash)
		return -1;
	if (dash) {
		int f2;
		unsigned char hi[16];
		if (pton_any(text, (size_t)(dash - text), &r->family, r->lo) < 0 ||
		    pton_any(dash + 1, strlen(dash + 1), &f2, hi) < 0 || f2 != r->family)
			return -1;
		memcpy(r->hi, hi, 16);
		size_t len = r->family == AF_INET ? 4 : 16;
		if (memcmp(r->lo, r->hi, len) > 0)
			return -1;
		return 0;
	}
	if (slash) {
		const char *p = slash + 1;
		while (isspace((unsigned char)*p))
			p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		char *end;
		long bits = strtol(p, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (*end || pton_any(text, (size_t)(slash - text), &r->family, r->lo) < 0)
			return -1;
		long maxb = r->family == AF_INET ? 32 : 128;
		if (bits < 0 || bits > maxb)
			return -1;
		size_t len = (size_t)maxb / 8;
		memcpy(r->hi, r->lo, 16);
		for (size_t i = 0; i < len; i++) {
			long keep = bits - (long)i * 8;
			unsigned char m = keep >= 8 ? 0xFF : keep <= 0 ? 0 : (unsigned char)(0xFF << (8 - keep));
			r->lo[i] &= m;
			r->hi[i] = (unsigned char)(r->lo[i] | (unsigned char)~m);
		}
		return 0;
	}
	if (pton_any(text, strlen(text), &r->family, r->lo) < 0)
		return -1;
	memcpy(r->hi, r->lo, 16);
	return 0;
}

int umfax_iprange_match(const struct umfax_iprange *r, const struct sockaddr *sa,
    socklen_t salen)
{
	const unsigned char *a;
	size_t len;
	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET && salen >= (socklen_t)sizeof(struct sockaddr_in)) {
		a = (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		len = 4;
		if (r->family != AF_INET)
			return 0;
	} else if (sa->sa_family == AF_INET6 && salen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		a = a6->s6_addr;
		len = 16;
		if (r->family == AF_INET) {
			static const unsigned char v4mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };
			if (memcmp(a, v4mapped, 12) != 0)
				return 0;
			a += 12;
			len = 4;
		}
	} else {
		return 0;
	}
	return memcmp(r->lo, a, len) <= 0 && memcmp(a, r->hi, len) <= 0;
}

int umfax_dialplan_gateway_ok(const struct umfax_dialplan *dp,
    const struct sockaddr *sa, socklen_t salen)
{
	for (size_t i = 0; dp && i < dp->ngateways; i++)
		if (umfax_iprange_match(&dp->gateways[i], sa, salen))
			return 1;
	return 0;
}

const struct umfax_dialplan *umfax_dir_gateway(const struct umfax_dir *d,
    const struct sockaddr *sa, socklen_t salen)
{
	for (size_t i = 0; i < d->ndialplans; i++)
		if (umfax_dialplan_gateway_ok(&d->dialplans[i], sa, salen))
			return &d->dialplans[i];
	return NULL;
}

/* ---- FaxServerURI ------------------------------------------------------------ */

static int host_ok(const char *h, size_t n)
{
	if (n == 0)
		return 0;
	if (h[0] == '[') {
		unsigned char tmp[16];
		int fam;
		return n > 2 && h[n - 1] == ']' && pton_any(h, n, &fam, tmp) == 0 && fam == AF_INET6;
	}
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '.' && h[i] != '-')
			return 0;
	return 1;
}

int umfax_dir_faxuri_check(const char *uri, char *first, size_t n, char *why, size_t wn)
{
	const char *p = uri;
	if (first && n)
		first[0] = '\0';
	while (isspace((unsigned char)*p))
		p++;
	if (strncasecmp(p, "sip:", 4) != 0) {
		snprintf(why, wn, "\"%s\" does not start with sip:", uri);
		return -1;
	}
	const char *h = p + 4;
	const char *end = strchr(h, ';');
	if (!end) {
		snprintf(why, wn, "\"%s\" has no ;transport=udp|tcp|tls", uri);
		return -1;
	}
	if (memchr(h, '@', (size_t)(end - h))) {
		snprintf(why, wn, "\"%s\" must have no user part (sip:host:port;transport=...)", uri);
		return -1;
	}
	/* host:port; the port is after the last ':' (after ']' for IPv6) */
	const char *colon = NULL;
	const char *rb = h[0] == '[' ? memchr(h, ']', (size_t)(end - h)) : NULL;
	for (const char *q = rb ? rb : h; q < end; q++)
		if (*q == ':')
			colon = q;
	if (!colon) {
		snprintf(why, wn, "\"%s\" has no port (sip:host:port;transport=...)", uri);
		return -1;
	}
	if (!host_ok(h, (size_t)(colon - h))) {
		snprintf(why, wn, "\"%s\": bad host \"%.*s\"", uri, (int)(colon - h), h);
		return -1;
	}
	long port = 0;
	const char *q = colon + 1;
	if (q == end) {
		snprintf(why, wn, "\"%s\": empty port", uri);
		return -1;
	}
	for (; q < end; q++) {
		if (!isdigit((unsigned char)*q) || (port = port * 10 + (*q - '0')) > 65535) {
			snprintf(why, wn, "\"%s\": bad port", uri);
			return -1;
		}
	}
	if (port < 1) {
		snprintf(why, wn, "\"%s\": bad port", uri);
		return -1;
	}
	const char *t = end + 1;
	if (strncasecmp(t, "transport=", 10) != 0) {
		snprintf(why, wn, "\"%s\": expected ;transport=udp|tcp|tls after the port", uri);
		return -1;
	}
	t += 10;
	size_t tl = strcspn(t, "; \t");
	if (!((tl == 3) && (strncasecmp(t, "udp", 3) == 0 || strncasecmp(t, "tcp", 3) == 0 ||
	    strncasecmp(t, "tls", 3) == 0))) {
		snprintf(why, wn, "\"%s\": transport must be udp, tcp or tls", uri);
		return -1;
	}
	const char *rest = t + tl;
	if (first && n) {
		size_t fl = (size_t)(rest - p);
		if (fl >= n)
			fl = n - 1;
		memcpy(first, p, fl);
		first[fl] = '\0';
	}
	while (isspace((unsigned char)*rest))
		rest++;
	if (*rest == '\0')
		return 0;
	if (*rest != ';') {
		snprintf(why, wn, "\"%s\": unexpected text after the transport", uri);
		return -1;
	}
	snprintf(why, wn, "\"%s\" has several ';'-separated entries; only the first (%.*s) is used",
	    uri, (int)(rest - p), p);
	return 1;
}

/* ---- addresses ---------------------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Copy [s, s+n) into DST (size DN), %-decoding; 0, or -1 if too long. */
static int pct_copy(char *dst, size_t dn, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
			i += 2;
		}
		if (c < ' ' || c == 0x7f)
			continue;
		if (o + 1 >= dn)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

/* If S is a phone number ("+1 (425) 555-1234", "1234"), write "+14255551234"
 * or "1234" into OUT (size >= MAX_NUM + 2) and return 1. */
static int as_number(const char *s, char *out)
{
	size_t o = 0, digits = 0;
	if (*s == '+')
		out[o++] = *s++;
	for (; *s; s++) {
		if (isdigit((unsigned char)*s)) {
			if (++digits > MAX_NUM)
				return 0;
			out[o++] = *s;
		} else if (!strchr(" -.()", *s)) {
			return 0;
		}
	}
	out[o] = '\0';
	return digits > 0;
}

int umfax_dir_addr_user(const char *addr, char *user, size_t n, char *userhost, size_t hn)
{
	const char *s = addr, *e;
	if (user && n)
		user[0] = '\0';
	if (userhost && hn)
		userhost[0] = '\0';
	if (!addr || !user || n < MAX_NUM + 2)
		return -1;
	const char *lt = strchr(s, '<');
	if (lt) {
		s = lt + 1;
		e = strchr(s, '>');
		if (!e)
			e = s + strlen(s);
	} else {
		while (isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
	}
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	/* scheme */
	static const char *const schemes[] = { "sips:", "sip:", "tel:", "smtp:", "eum:", NULL };
	for (int i = 0; schemes[i]; i++) {
		size_t l = strlen(schemes[i]);
		if ((size_t)(e - s) >= l && strncasecmp(s, schemes[i], l) == 0) {
			s += l;
			break;
		}
	}
	/* URI headers */
	const char *qm = memchr(s, '?', (size_t)(e - s));
	if (qm)
		e = qm;
	const char *at = memchr(s, '@', (size_t)(e - s));
	const char *ue = at ? at : e;
	/* user parameters ("1234;phone-context=...") or URI parameters when there is no host */
	const char *semi = memchr(s, ';', (size_t)(ue - s));
	const char *uend = semi ? semi : ue;
	if (!at) {
		/* "1234:5060"? a bare host:port has no user; keep as is */
	}
	if (uend == s)
		return -1;
	char tmp[256];
	if (pct_copy(tmp, sizeof tmp, s, (size_t)(uend - s)) < 0 || !tmp[0])
		return -1;
	char num[MAX_NUM + 2];
	if (as_number(tmp, num))
		cpy(user, n, num);
	else
		cpy(user, n, tmp);
	if (at && userhost && hn) {
		const char *h = at + 1, *he = h;
		if (*h == '[') {
			const char *rb = memchr(h, ']', (size_t)(e - h));
			he = rb ? rb + 1 : e;
		} else {
			while (he < e && *he != ';' && *he != ':' && *he != '>')
				he++;
		}
		if (he > h)
			snprintf(userhost, hn, "%s@%.*s", tmp, (int)(he - h), h);
	}
	return 0;
}

/* ---- lookup ------------------------------------------------------------------- */

static const struct umfax_dialplan *mb_dialplan(const struct umfax_mailbox *m)
{
	return m && m->policy ? m->policy->dialplan : NULL;
}

static int in_plan(const struct umfax_dir *d, int idx, const struct umfax_dialplan *only)
{
	return idx >= 0 && (!only || mb_dialplan(&d->mailboxes[idx]) == only);
}

static void mb_extension(const struct umfax_mailbox *m, char *ext, size_t n)
{
	if (ext && n)
		cpy(ext, n, m->nextensions ? m->extensions[0] : "");
}

static const struct umfax_mailbox *lookup(const struct umfax_dir *d,
    const struct umfax_dialplan *only, const char *addr, char *ext, size_t extn,
    char *matched, size_t mn)
{
	char user[256], uh[512], e164[MAX_NUM + 16];
	int idx;
	if (umfax_dir_addr_user(addr, user, sizeof user, uh, sizeof uh) < 0)
		return NULL;
	/* "tel:1234;phone-context=dp.contoso.com" names its dial plan (an EUM
	 * address); a context no dial plan has (a global "+1") changes nothing */
	if (!only && d->ndialplans > 1) {
		const char *pc = strcasestr(addr, ";phone-context=");
		if (pc) {
			pc += 15;
			size_t pl = strcspn(pc, ";>@?, \t");
			for (size_t i = 0; pl && i < d->ndialplans; i++) {
				const char *ctx = d->dialplans[i].phone_context;
				if (strlen(ctx) == pl && strncasecmp(ctx, pc, pl) == 0) {
					only = &d->dialplans[i];
					break;
				}
			}
		}
	}
	if (matched && mn)
		cpy(matched, mn, user);
	char num[MAX_NUM + 2];
	if (as_number(user, num)) {
		const char *digits = num[0] == '+' ? num + 1 : num;
		size_t nd = strlen(digits);
		/* exact matches first: a '+' number among all E.164 addresses, then
		 * the E.164 form of the number in each e164 dial plan ... */
		if (num[0] == '+' && in_plan(d, idx = ix_get(d, K_E164, 0, num), only)) {
			cpy(e164, sizeof e164, num);
			goto found_e164;
		}
		for (size_t i = 0; i < d->ndialplans; i++) {
			const struct umfax_dialplan *dp = &d->dialplans[i];
			if ((only && dp != only) || dp->uri_type != UMFAX_URI_E164)
				continue;
			snprintf(e164, sizeof e164, "+%s", digits);
			idx = ix_get(d, K_E164, 0, e164);
			if (idx >= 0 && mb_dialplan(&d->mailboxes[idx]) == dp)
				goto found_e164;
			if (num[0] != '+' && dp->country_code[0]) {
				snprintf(e164, sizeof e164, "+%s%s", dp->country_code, digits);
				idx = ix_get(d, K_E164, 0, e164);
				if (idx >= 0 && mb_dialplan(&d->mailboxes[idx]) == dp)
					goto found_e164;
			}
		}
		/* ... then the last N digits in each telextn dial plan */
		for (size_t i = 0; i < d->ndialplans; i++) {
			const struct umfax_dialplan *dp = &d->dialplans[i];
			if ((only && dp != only) || dp->uri_type != UMFAX_URI_TELEXTN)
				continue;
			size_t k = (size_t)dp->extension_digits;
			if (nd < k)
				continue;
			const struct ent *en = ix_find(d->ix, K_EXT, (unsigned)i, digits + nd - k, k);
			if (en && ent_val(en) >= 0) {
				if (ext && extn > k) {
					memcpy(ext, digits + nd - k, k);
					ext[k] = '\0';
				}
				if (matched && mn > k) {
					memcpy(matched, digits + nd - k, k);
					matched[k] = '\0';
				}
				return &d->mailboxes[ent_val(en)];
			}
		}
	}
	if (0) {
found_e164:
		if (matched && mn)
			cpy(matched, mn, e164);
		goto found;
	}
	/* names (and numbers of sipname dial plans): SIP addresses */
	if (uh[0] && in_plan(d, idx = ix_get(d, K_SIP, 0, uh), only)) {
		if (matched && mn)
			cpy(matched, mn, uh);
		goto found;
	}
	if (in_plan(d, idx = ix_get(d, K_LOCAL, 0, user), only))
		goto found;
	return NULL;
found:
	mb_extension(&d->mailboxes[idx], ext, extn);
	return &d->mailboxes[idx];
}

const struct umfax_mailbox *umfax_dir_lookup(const struct umfax_dir *d,
    const char *dialplan, const char *addr, char *ext, size_t n)
{
	const struct umfax_dialplan *only = NULL;
	if (dialplan && !(only = umfax_dir_dialplan(d, dialplan)))
		return NULL;
	return lookup(d, only, addr, ext, n, NULL, 0);
}

const struct umfax_dialplan *umfax_dir_dialplan(const struct umfax_dir *d, const char *name)
{
	int i = name ? ix_get(d, K_DIALPLAN, 0, name) : -1;
	return i >= 0 ? &d->dialplans[i] : NULL;
}

const struct umfax_policy *umfax_dir_policy(const struct umfax_dir *d, const char *name)
{
	int i = name ? ix_get(d, K_POLICY, 0, name) : -1;
	return i >= 0 ? &d->policies[i] : NULL;
}

const struct umfax_mailbox *umfax_dir_mailbox(const struct umfax_dir *d, const char *alias)
{
	int i = alias ? ix_get(d, K_ALIAS, 0, alias) : -1;
	return i >= 0 ? &d->mailboxes[i] : NULL;
}

const struct umfax_mailbox *umfax_dir_mailbox_smtp(const struct umfax_dir *d, const char *addr)
{
	if (!addr)
		return NULL;
	while (isspace((unsigned char)*addr))
		addr++;
	if (*addr == '<')
		addr++;
	if (strncasecmp(addr, "smtp:", 5) == 0)
		addr += 5;
	size_t l = strcspn(addr, "> \t");
	const struct ent *e = ix_find(d->ix, K_SMTP, 0, addr, l);
	return e && ent_val(e) >= 0 ? &d->mailboxes[ent_val(e)] : NULL;
}

/* ---- the rule ------------------------------------------------------------------- */

static enum umfax_dir_verdict check(const struct umfax_mailbox *m,
    const struct sockaddr *gw, socklen_t gwlen, struct umfax_dir_result *r)
{
	const struct umfax_policy *p = m->policy;
	const struct umfax_dialplan *dp = p ? p->dialplan : NULL;
	r->mailbox = m;
	r->policy = p;
	r->dialplan = dp;
	r->fax_uri = p && p->fax_uri && p->fax_uri[0] ? p->fax_uri : NULL;
	r->denied = 0;
	r->reason[0] = '\0';
	r->verdict = UMFAX_DIR_ALLOW;
	if (gw && !umfax_dialplan_gateway_ok(dp, gw, gwlen)) {
		char host[INET6_ADDRSTRLEN] = "?";
		if (gw->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)gw)->sin_addr, host, sizeof host);
		else if (gw->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)gw)->sin6_addr, host, sizeof host);
		r->denied |= UMFAX_DIR_NO_GATEWAY;
		appendf(r->reason, sizeof r->reason, "%sdialplan %s: gateways does not list %s",
		    r->reason[0] ? "; " : "", dp ? dp->name : "?", host);
	}
	if (!dp || !dp->fax_enabled) {
		r->denied |= UMFAX_DIR_NO_DIALPLAN;
		appendf(r->reason, sizeof r->reason, "%sdialplan %s: fax-enabled = false",
		    r->reason[0] ? "; " : "", dp ? dp->name : "?");
	}
	if (!p || !p->allow_fax) {
		r->denied |= UMFAX_DIR_NO_POLICY;
		appendf(r->reason, sizeof r->reason, "%spolicy %s: allow-fax = false",
		    r->reason[0] ? "; " : "", p ? p->name : "?");
	}
	if (!m->fax_enabled) {
		r->denied |= UMFAX_DIR_NO_MAILBOX;
		appendf(r->reason, sizeof r->reason, "%smailbox %s: fax-enabled = false",
		    r->reason[0] ? "; " : "", m->alias);
	}
	if (!r->fax_uri) {
		r->denied |= UMFAX_DIR_NO_URI;
		appendf(r->reason, sizeof r->reason, "%spolicy %s: fax-server-uri is not set",
		    r->reason[0] ? "; " : "", p ? p->name : "?");
	}
	if (r->denied & UMFAX_DIR_NO_GATEWAY)
		r->verdict = UMFAX_DIR_DENY_GATEWAY;
	else if (r->denied & UMFAX_DIR_NO_DIALPLAN)
		r->verdict = UMFAX_DIR_DENY_DIALPLAN;
	else if (r->denied & UMFAX_DIR_NO_POLICY)
		r->verdict = UMFAX_DIR_DENY_POLICY;
	else if (r->denied & UMFAX_DIR_NO_MAILBOX)
		r->verdict = UMFAX_DIR_DENY_MAILBOX;
	else if (r->denied & UMFAX_DIR_NO_URI)
		r->verdict = UMFAX_DIR_DENY_NO_URI;
	return r->verdict;
}

enum umfax_dir_verdict umfax_dir_check(const struct umfax_mailbox *m,
    struct umfax_dir_result *r)
{
	return check(m, NULL, 0, r);
}

/* Split a header value into entries at commas outside <> and quotes. */
static size_t split_entries(const char *s, const char **start, size_t *len, size_t max)
{
	size_t n = 0;
	int inq = 0, inb = 0;
	const char *b = s;
	for (const char *p = s;; p++) {
		if (*p == '\0' || (*p == ',' && !inq && !inb)) {
			const char *x = b, *y = p;
			while (x < y && isspace((unsigned char)*x))
				x++;
			while (y > x && isspace((unsigned char)y[-1]))
				y--;
			if (y > x && n < max) {
				start[n] = x;
				len[n] = (size_t)(y - x);
				n++;
			}
			if (*p == '\0')
				break;
			b = p + 1;
		} else if (*p == '"' && !inb) {
			inq = !inq;
		} else if (*p == '<' && !inq) {
			inb = 1;
		} else if (*p == '>' && !inq) {
			inb = 0;
		}
	}
	return n;
}

/* Compare History-Info index values "1.1.2" numerically, component-wise. */
static int hi_index_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	const char *ae = a + al, *be = b + bl;
	while (a < ae || b < be) {
		long x = 0, y = 0;
		while (a < ae && isdigit((unsigned char)*a) && x < 100000)
			x = x * 10 + (*a++ - '0');
		while (b < be && isdigit((unsigned char)*b) && y < 100000)
			y = y * 10 + (*b++ - '0');
		if (x != y)
			return x < y ? -1 : 1;
		while (a < ae && !isdigit((unsigned char)*a))
			a++;
		while (b < be && !isdigit((unsigned char)*b))
			b++;
	}
	return 0;
}

static void hi_index(const char *e, size_t l, const char **ip, size_t *il)
{
	*ip = "";
	*il = 0;
	const char *gt = memchr(e, '>', l);
	const char *p = gt ? gt : e;
	const char *end = e + l;
	for (; p + 6 <= end; p++) {
		if (*p == ';' && strncasecmp(p + 1, "index=", 6) == 0) {
			*ip = p + 7;
			*il = strcspn(*ip, ";, \t");
			if (*ip + *il > end)
				*il = (size_t)(end - *ip);
			return;
		}
	}
}

#define MAX_ENTRIES 32

static int try_one(const struct umfax_dir *d, const struct umfax_dialplan *only,
    const char *src, const char *entry, size_t len, struct umfax_dir_result *r,
    const struct umfax_mailbox **mp)
{
	char buf[1024];
	if (len >= sizeof buf)
		len = sizeof buf - 1;
	memcpy(buf, entry, len);
	buf[len] = '\0';
	const struct umfax_mailbox *m = lookup(d, only, buf, r->extension,
	    sizeof r->extension, r->matched, sizeof r->matched);
	if (!m)
		return 0;
	r->source = src;
	*mp = m;
	return 1;
}

/* The mailbox Q names in dial plan ONLY (or any): the sources in order. */
static const struct umfax_mailbox *find(const struct umfax_dir *d,
    const struct umfax_dialplan *only, const struct umfax_dir_query *q,
    struct umfax_dir_result *r)
{
	const struct umfax_mailbox *m = NULL;
	const char *st[MAX_ENTRIES];
	size_t ln[MAX_ENTRIES], n;
	if (q->recipient && *q->recipient) {
		m = umfax_dir_mailbox_smtp(d, q->recipient);
		if (m && only && mb_dialplan(m) != only)
			m = NULL;
		if (m) {
			r->source = "recipient";
			cpy(r->matched, sizeof r->matched, m->smtp);
			mb_extension(m, r->extension, sizeof r->extension);
		} else {
			try_one(d, only, "recipient", q->recipient, strlen(q->recipient), r, &m);
		}
	}
	if (!m && q->diversion && *q->diversion) {
		n = split_entries(q->diversion, st, ln, MAX_ENTRIES);
		for (size_t i = 0; !m && i < n; i++)
			try_one(d, only, "diversion", st[i], ln[i], r, &m);
	}
	if (!m && q->history_info && *q->history_info) {
		n = split_entries(q->history_info, st, ln, MAX_ENTRIES);
		int used[MAX_ENTRIES] = { 0 };
		for (size_t k = 0; !m && k < n; k++) {
			/* the unused entry with the highest index (last in text on ties) */
			size_t best = n;
			const char *bi = "", *ci;
			size_t bl = 0, cl;
			for (size_t i = 0; i < n; i++) {
				if (used[i])
					continue;
				hi_index(st[i], ln[i], &ci, &cl);
				if (best == n || hi_index_cmp(ci, cl, bi, bl) >= 0) {
					best = i;
					bi = ci;
					bl = cl;
				}
			}
			used[best] = 1;
			try_one(d, only, "history-info", st[best], ln[best], r, &m);
		}
	}
	if (!m && q->called && *q->called)
		try_one(d, only, "called", q->called, strlen(q->called), r, &m);
	return m;
}

enum umfax_dir_verdict umfax_dir_resolve(const struct umfax_dir *d,
    const struct umfax_dir_query *q, struct umfax_dir_result *r)
{
	const struct umfax_mailbox *m = NULL;
	const struct umfax_dialplan *only = NULL;
	/* not a memset of the whole result: the strings need only their NUL */
	r->verdict = UMFAX_DIR_NOT_FOUND;
	r->denied = 0;
	r->mailbox = NULL;
	r->policy = NULL;
	r->dialplan = NULL;
	r->fax_uri = NULL;
	r->source = NULL;
	r->matched[0] = r->extension[0] = r->reason[0] = '\0';
	if (q->dialplan && !(only = umfax_dir_dialplan(d, q->dialplan))) {
		r->verdict = UMFAX_DIR_NOT_FOUND;
		snprintf(r->reason, sizeof r->reason, "no dialplan %s", q->dialplan);
		return r->verdict;
	}
	/* A call from a gateway belongs first to the dial plans that list it
	 * (the same extension may exist in two dial plans); then to any, which
	 * the rule then denies by its gateways. */
	if (!only && q->gateway) {
		for (size_t i = 0; !m && i < d->ndialplans; i++)
			if (umfax_dialplan_gateway_ok(&d->dialplans[i], q->gateway, q->gateway_len))
				m = find(d, &d->dialplans[i], q, r);
	}
	if (!m)
		m = find(d, only, q, r);
	if (!m) {
		r->verdict = UMFAX_DIR_NOT_FOUND;
		r->matched[0] = r->extension[0] = '\0';
		r->source = NULL;
		snprintf(r->reason, sizeof r->reason, "directory: no mailbox for");
		int any = 0;
		const char *names[4] = { "recipient", "diversion", "history-info", "called" };
		const char *vals[4] = { q->recipient, q->diversion, q->history_info, q->called };
		for (int i = 0; i < 4; i++) {
			if (vals[i] && *vals[i]) {
				char qv[160];
				printable(qv, sizeof qv, vals[i]);
				appendf(r->reason, sizeof r->reason, "%s %s \"%s\"", any ? "," : "", names[i], qv);
				any = 1;
			}
		}
		if (!any)
			appendf(r->reason, sizeof r->reason, " an empty address");
		size_t k = 0;
		for (size_t i = 0; i < d->ndialplans && k < 3; i++) {
			const struct umfax_dialplan *dp = &d->dialplans[i];
			if (only && dp != only)
				continue;
			appendf(r->reason, sizeof r->reason, "%sdialplan %s: %s, %d digits",
			    k ? "; " : " (", dp->name, umfax_uri_type_name(dp->uri_type), dp->extension_digits);
			k++;
		}
		if (k)
			appendf(r->reason, sizeof r->reason, "%s)", k < (only ? 1 : d->ndialplans) ? "; ..." : "");
		return r->verdict;
	}
	return check(m, q->gateway, q->gateway_len, r);
}

/* ---- parser --------------------------------------------------------------------- */

enum { O_NONE = 0, O_DIALPLAN, O_POLICY, O_MAILBOX };

/* field numbers per object kind */
enum { DP_URITYPE, DP_DIGITS, DP_CONTEXT, DP_CC, DP_FAX, DP_GW, DP_N };
enum { PO_DIALPLAN, PO_ALLOW, PO_URI, PO_TEXT, PO_N };
enum { MB_SMTP, MB_POLICY, MB_EXT, MB_E164, MB_SIP, MB_FAX, MB_NAME, MB_N };
#define MAXF 8

static const char *const dp_fields[] = { "uri-type", "extension-digits", "phone-context",
	"country-code", "fax-enabled", "gateways", NULL };
static const char *const po_fields[] = { "dialplan", "allow-fax", "fax-server-uri",
	"fax-message-text", NULL };
static const char *const mb_fields[] = { "primary-smtp-address", "policy", "extensions",
	"e164-addresses", "sip-addresses", "fax-enabled", "display-name", NULL };

const char *const *umfax_dir_fields(const char *kind)
{
	if (!kind)
		return NULL;
	if (strcasecmp(kind, "dialplan") == 0)
		return dp_fields;
	if (strcasecmp(kind, "policy") == 0)
		return po_fields;
	if (strcasecmp(kind, "mailbox") == 0)
		return mb_fields;
	return NULL;
}

struct pobj {
	int line[MAXF];            /* line of each field, 0 = not given */
	const char *link;          /* policy: dial plan name; mailbox: policy name */
};

/* Messages are kept and given out sorted by line at the end of a load, so
 * that an administrator reads them in file order. */
struct dmsg {
	int line, error, seq;
	char *msg;
};

#define MAX_KEPT (MAX_ERRORS + 50)

struct pctx {
	struct umfax_dir *d;
	const char *name;
	char *err;
	size_t errlen;
	int nerr, errline;
	struct dmsg kept[MAX_KEPT];
	int nkept, dropped;
	int ctl;                   /* the text has control bytes: check each line */
	size_t capd, capp, capm;
	struct pobj *pd, *pp, *pm;
};


static void diag(struct pctx *c, int error, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void diag(struct pctx *c, int error, int line, const char *fmt, ...)
{
	char msg[1024];
	int o = line > 0 ? snprintf(msg, sizeof msg, "%s:%d: ", c->name, line)
	    : snprintf(msg, sizeof msg, "%s: ", c->name);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + o, sizeof msg - (size_t)o, fmt, ap);
	va_end(ap);
	if (error) {
		/* ERR: the error of the lowest line */
		if ((c->nerr == 0 || line < c->errline) && c->err && c->errlen) {
			cpy(c->err, c->errlen, msg);
			c->errline = line;
		}
		c->nerr++;
	} else {
		c->d->nwarnings++;
	}
	if (c->nkept < MAX_KEPT) {
		char *m = strdup(msg);
		if (m) {
			c->kept[c->nkept].line = line;
			c->kept[c->nkept].error = error;
			c->kept[c->nkept].seq = c->nkept;
			c->kept[c->nkept].msg = m;
			c->nkept++;
		}
	} else {
		c->dropped++;
	}
}

static int dmsg_cmp(const void *a, const void *b)
{
	const struct dmsg *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Give the kept messages out in line order: to d->diag, or warnings to the
 * log when there is none. */
static void diag_flush(struct pctx *c)
{
	struct umfax_dir *d = c->d;
	qsort(c->kept, c->nkept, sizeof c->kept[0], dmsg_cmp);
	for (int i = 0; i < c->nkept; i++) {
		const struct dmsg *m = &c->kept[i];
		if (d->diag) {
			d->diag(d->diag_arg, m->error ? "error" : "warning", m->msg);
		} else if (!m->error) {
			char qv[1100];
			umfax_log(LOG_WARNING, NULL, NULL, "directory=warning warning=%s",
			    umfax_log_quote(qv, sizeof qv, m->msg));
		}
		free(m->msg);
	}
	if (c->dropped && d->diag) {
		char msg[200];
		snprintf(msg, sizeof msg, "%s: %d more errors and warnings not shown", c->name, c->dropped);
		d->diag(d->diag_arg, "error", msg);
	}
	c->nkept = 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 16;
	while (nc < need)
		nc *= 2;
	void *np = realloc(*p, nc * elem);
	if (!np)
		return -1;
	memset((char *)np + *cap * elem, 0, (nc - *cap) * elem);
	*p = np;
	*cap = nc;
	return 0;
}

/* Unquote a value: "..." with \" \\ \n \t.  Returns arena string or NULL (WHY). */
/* The value [V, V+N) of a line, made a string in place (the file image is
 * ours): "..." is unquoted with \" \\ \n \t.  NULL with WHY when bad. */
static char *value_dup(struct pctx *c, char *v, size_t n, const char **why)
{
	(void)c;
	*why = NULL;
	if (n >= 1 && v[0] == '"') {
		char *out = v;
		size_t o = 0, i = 1;
		for (; i < n && v[i] != '"'; i++) {
			if (v[i] == '\\' && i + 1 < n) {
				i++;
				out[o++] = v[i] == 'n' ? '\n' : v[i] == 't' ? '\t' : v[i];
			} else {
				out[o++] = v[i];
			}
		}
		if (i >= n)
			return *why = "unterminated quoted value", NULL;
		for (i++; i < n; i++)
			if (!isspace((unsigned char)v[i]))
				return *why = "text after the closing quote", NULL;
		out[o] = '\0';
		return out;
	}
	v[n] = '\0';
	return v;
}

/* Split the comma list V in place into an arena array of its items. */
static int list_dup(struct pctx *c, char *v, const char *const **arr, size_t *cnt)
{
	const char *comma = strchr(v, ',');
	if (!comma) {
		/* one item (trimmed again: a quoted value keeps its blanks) */
		const char **one = arena_alloc(c->d->arena, sizeof *one);
		if (!one)
			return -1;
		while (isspace((unsigned char)*v))
			v++;
		for (size_t l = strlen(v); l && isspace((unsigned char)v[l - 1]); l--)
			v[l - 1] = '\0';
		one[0] = v;
		*arr = one;
		*cnt = *v != '\0';
		return 0;
	}
	size_t n = 1;
	for (const char *p = comma; *p; p++)
		n += *p == ',';
	const char **out = arena_alloc(c->d->arena, n * sizeof *out);
	if (!out)
		return -1;
	size_t k = 0;
	for (char *p = v;;) {
		char *e = p;
		while (*e && *e != ',')
			e++;
		int last = *e == '\0';
		char *x = p, *y = e;
		while (x < y && isspace((unsigned char)*x))
			x++;
		while (y > x && isspace((unsigned char)y[-1]))
			y--;
		if (y > x) {
			*y = '\0';
			out[k++] = x;
		}
		if (last)
			break;
		p = e + 1;
	}
	*arr = out;
	*cnt = k;
	return 0;
}

static void set_field(struct pctx *c, int kind, size_t idx, int f, int line, char *v)
{
	struct umfax_dir *d = c->d;
	char first[512];
	if (kind == O_DIALPLAN) {
		struct umfax_dialplan *dp = &d->dialplans[idx];
		switch (f) {
		case DP_URITYPE:
			if (strcasecmp(v, "telextn") == 0) dp->uri_type = UMFAX_URI_TELEXTN;
			else if (strcasecmp(v, "e164") == 0) dp->uri_type = UMFAX_URI_E164;
			else if (strcasecmp(v, "sipname") == 0) dp->uri_type = UMFAX_URI_SIPNAME;
			else diag(c, 1, line, "dialplan %s: uri-type \"%s\" is not telextn, e164 or sipname", dp->name, v);
			break;
		case DP_DIGITS: {
			char *end;
			long n = strtol(v, &end, 10);
			if (!all_digits(v) || *end || n < 1 || n > 20)
				diag(c, 1, line, "dialplan %s: extension-digits \"%s\" is not a number from 1 to 20", dp->name, v);
			else
				dp->extension_digits = (int)n;
			break;
		}
		case DP_CONTEXT:
			dp->phone_context = v;
			break;
		case DP_CC:
			if (*v && (!all_digits(v) || strlen(v) > 4))
				diag(c, 1, line, "dialplan %s: country-code \"%s\" is not 1 to 4 digits", dp->name, v);
			else
				dp->country_code = v;
			break;
		case DP_FAX:
			if (parse_bool(v, &dp->fax_enabled) < 0)
				diag(c, 1, line, "dialplan %s: fax-enabled \"%s\" is not true or false", dp->name, v);
			break;
		case DP_GW: {
			const char *const *items;
			size_t n;
			const char *text = arena_strndup(d->arena, v, strlen(v));
			if (!text || list_dup(c, v, &items, &n) < 0)
				break;
			struct umfax_iprange *r = arena_alloc(d->arena, (n ? n : 1) * sizeof *r);
			if (!r)
				break;
			size_t k = 0;
			for (size_t i = 0; i < n; i++) {
				if (umfax_iprange_parse(items[i], &r[k]) < 0)
					diag(c, 1, line, "dialplan %s: gateways: \"%s\" is not an IP address, a-b range or CIDR", dp->name, items[i]);
				else
					k++;
			}
			dp->gateways = r;
			dp->ngateways = k;
			dp->gateways_text = text;
			break;
		}
		}
	} else if (kind == O_POLICY) {
		struct umfax_policy *p = &d->policies[idx];
		switch (f) {
		case PO_DIALPLAN:
			c->pp[idx].link = v;
			break;
		case PO_ALLOW:
			if (parse_bool(v, &p->allow_fax) < 0)
				diag(c, 1, line, "policy %s: allow-fax \"%s\" is not true or false", p->name, v);
			break;
		case PO_URI: {
			char why2[600];
			p->fax_server_uri = v;
			if (!*v)
				break;
			int rc = umfax_dir_faxuri_check(v, first, sizeof first, why2, sizeof why2);
			if (rc < 0) {
				diag(c, 1, line, "policy %s: fax-server-uri %s", p->name, why2);
			} else {
				if (rc == 1)
					diag(c, 0, line, "policy %s: fax-server-uri %s", p->name, why2);
				p->fax_uri = arena_strndup(d->arena, first, strlen(first));
				if (!p->fax_uri)
					p->fax_uri = "";
			}
			break;
		}
		case PO_TEXT:
			if (utf8_chars(v) > UMFAX_DIR_FAXTEXT_MAX)
				diag(c, 1, line, "policy %s: fax-message-text has %zu characters, at most %d are allowed",
				    p->name, utf8_chars(v), UMFAX_DIR_FAXTEXT_MAX);
			p->fax_message_text = v;
			break;
		}
	} else {
		struct umfax_mailbox *m = &d->mailboxes[idx];
		switch (f) {
		case MB_SMTP:
			if (strncasecmp(v, "smtp:", 5) == 0)
				v += 5;
			if (!addr_ok(v))
				diag(c, 1, line, "mailbox %s: primary-smtp-address \"%s\" is not local@domain", m->alias, v);
			m->smtp = v;
			break;
		case MB_POLICY:
			c->pm[idx].link = v;
			break;
		case MB_EXT:
			if (list_dup(c, v, &m->extensions, &m->nextensions) < 0)
				break;
			for (size_t i = 0; i < m->nextensions; i++)
				if (!all_digits(m->extensions[i]) || strlen(m->extensions[i]) > 20)
					diag(c, 1, line, "mailbox %s: extensions: \"%s\" is not 1 to 20 digits", m->alias, m->extensions[i]);
			break;
		case MB_E164:
			if (list_dup(c, v, &m->e164, &m->ne164) < 0)
				break;
			for (size_t i = 0; i < m->ne164; i++) {
				const char *e = m->e164[i];
				if (e[0] != '+' || !all_digits(e + 1) || strlen(e + 1) > 15)
					diag(c, 1, line, "mailbox %s: e164-addresses: \"%s\" is not + and 1 to 15 digits", m->alias, e);
			}
			break;
		case MB_SIP:
			if (list_dup(c, v, &m->sip, &m->nsip) < 0)
				break;
			for (size_t i = 0; i < m->nsip; i++) {
				const char *s = m->sip[i];
				if (strncasecmp(s, "sip:", 4) == 0)
					((const char **)m->sip)[i] = s += 4;
				if (!addr_ok(s))
					diag(c, 1, line, "mailbox %s: sip-addresses: \"%s\" is not user@host", m->alias, s);
			}
			break;
		case MB_FAX:
			if (parse_bool(v, &m->fax_enabled) < 0)
				diag(c, 1, line, "mailbox %s: fax-enabled \"%s\" is not true or false", m->alias, v);
			break;
		case MB_NAME:
			m->display_name = v;
			break;
		}
	}
}

/* Growing the object arrays and their parse side-arrays together. */
static int add_obj(struct pctx *c, int kind, const char *name, int line, size_t *idx)
{
	struct umfax_dir *d = c->d;
	size_t *n, *cap, esz;
	void **arr;
	struct pobj **side;
	if (kind == O_DIALPLAN) {
		n = &d->ndialplans; cap = &c->capd; arr = (void **)&d->dialplans; esz = sizeof *d->dialplans; side = &c->pd;
	} else if (kind == O_POLICY) {
		n = &d->npolicies; cap = &c->capp; arr = (void **)&d->policies; esz = sizeof *d->policies; side = &c->pp;
	} else {
		n = &d->nmailboxes; cap = &c->capm; arr = (void **)&d->mailboxes; esz = sizeof *d->mailboxes; side = &c->pm;
	}
	if (*n + 1 > *cap) {
		size_t oc = *cap, nc = oc;
		if (grow(arr, &nc, *n + 1, esz) < 0)
			return -1;
		size_t sc = oc;
		if (grow((void **)side, &sc, nc, sizeof **side) < 0)
			return -1;
		*cap = nc;
	}
	*idx = (*n)++;
	memset((*side) + *idx, 0, sizeof **side);
	if (kind == O_DIALPLAN) {
		struct umfax_dialplan *dp = &d->dialplans[*idx];
		memset(dp, 0, sizeof *dp);
		dp->name = name;
		dp->uri_type = UMFAX_URI_TELEXTN;
		dp->phone_context = dp->country_code = dp->gateways_text = "";
		dp->fax_enabled = 1;
		dp->line = line;
	} else if (kind == O_POLICY) {
		struct umfax_policy *p = &d->policies[*idx];
		memset(p, 0, sizeof *p);
		p->name = name;
		p->fax_server_uri = p->fax_uri = p->fax_message_text = "";
		p->line = line;
	} else {
		struct umfax_mailbox *m = &d->mailboxes[*idx];
		memset(m, 0, sizeof *m);
		m->alias = name;
		m->smtp = m->display_name = "";
		m->fax_enabled = 1;
		m->line = line;
	}
	return 0;
}

/* A (N bytes) equals the lower-case word B (at least N bytes), any case. */
static int eqi(const char *a, const char *b, size_t n)
{
	return memcmp(a, b, n) == 0 || strncasecmp(a, b, n) == 0;
}

static int field_index(int kind, const char *name, size_t n)
{
	const char *const *t = kind == O_DIALPLAN ? dp_fields : kind == O_POLICY ? po_fields : mb_fields;
	for (int i = 0; t[i]; i++)
		if (n && lc((unsigned char)t[i][0]) == lc((unsigned char)name[0]) &&
		    strlen(t[i]) == n && eqi(name, t[i], n))
			return i;
	return -1;
}

static const char *kind_name(int kind)
{
	return kind == O_DIALPLAN ? "dialplan" : kind == O_POLICY ? "policy" : "mailbox";
}

/* Bytes from S before LE or before one of STOP (the buffer is not
 * NUL-terminated). */
static size_t span_until(const char *s, const char *le, const char *stop)
{
	const char *p = s;
	while (p < le && !strchr(stop, *p))
		p++;
	return (size_t)(p - s);
}

static void parse_lines(struct pctx *c, char *buf, size_t len)
{
	int line = 0, kind = O_NONE;
	size_t idx = 0;
	char *p = buf, *end = buf + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *le = nl ? nl : end;
		char *next = nl ? nl + 1 : end;
		line++;
		if (le > p && le[-1] == '\r')
			le--;
		char *s = p;
		p = next;
		int indented = s < le && (*s == ' ' || *s == '\t');
		while (s < le && (*s == ' ' || *s == '\t'))
			s++;
		if (s == le || *s == '#')
			continue;
		for (const char *q = s; c->ctl && q < le; q++) {
			if ((unsigned char)*q < ' ' && *q != '\t') {
				diag(c, 1, line, "control character 0x%02x in line", (unsigned char)*q);
				goto nextline;
			}
		}
		if (!indented) {
			/* object header: "dialplan NAME" */
			size_t kl = span_until(s, le, " \t");
			int k = O_NONE;
			if (kl == 8 && eqi(s, "dialplan", 8)) k = O_DIALPLAN;
			else if (kl == 6 && eqi(s, "policy", 6)) k = O_POLICY;
			else if (kl == 7 && eqi(s, "mailbox", 7)) k = O_MAILBOX;
			if (k == O_NONE) {
				if (memchr(s, '=', (size_t)(le - s)))
					diag(c, 1, line, "field \"%.*s\" is not indented under a dialplan, policy or mailbox line",
					    (int)span_until(s, le > s + 40 ? s + 40 : le, " \t="), s);
				else
					diag(c, 1, line, "expected \"dialplan NAME\", \"policy NAME\" or \"mailbox ALIAS\", not \"%.*s\"",
					    (int)(kl > 40 ? 40 : kl), s);
				kind = O_NONE;
				continue;
			}
			char *nm = s + kl;
			while (nm < le && (*nm == ' ' || *nm == '\t'))
				nm++;
			char *ne = le;
			while (ne > nm && (ne[-1] == ' ' || ne[-1] == '\t'))
				ne--;
			*ne = '\0';           /* in place: the line has been read */
			char *name = nm;
			if (!name_ok(name)) {
				diag(c, 1, line, "%s: \"%s\" is not a valid name (1 to %d letters, digits or . _ - @ +)",
				    kind_name(k), name, UMFAX_DIR_NAME_MAX);
				kind = O_NONE;
				continue;
			}
			if (add_obj(c, k, name, line, &idx) < 0) {
				diag(c, 1, line, "out of memory");
				return;
			}
			kind = k;
			continue;
		}
		/* field line: "name = value" */
		if (kind == O_NONE) {
			if (c->d->ndialplans + c->d->npolicies + c->d->nmailboxes == 0)
				diag(c, 1, line, "indented line before the first dialplan, policy or mailbox line");
			/* else the header was bad and already reported */
			continue;
		}
		{
			char *eq = memchr(s, '=', (size_t)(le - s));
			if (!eq) {
				diag(c, 1, line, "expected \"field = value\"");
				continue;
			}
			const char *fe = eq;
			while (fe > s && (fe[-1] == ' ' || fe[-1] == '\t'))
				fe--;
			const char *objname = kind == O_DIALPLAN ? c->d->dialplans[idx].name :
			    kind == O_POLICY ? c->d->policies[idx].name : c->d->mailboxes[idx].alias;
			int f = field_index(kind, s, (size_t)(fe - s));
			if (f < 0) {
				diag(c, 1, line, "%s %s: unknown field \"%.*s\"", kind_name(kind), objname,
				    (int)((fe - s) > 40 ? 40 : (fe - s)), s);
				continue;
			}
			struct pobj *po = kind == O_DIALPLAN ? &c->pd[idx] : kind == O_POLICY ? &c->pp[idx] : &c->pm[idx];
			if (po->line[f]) {
				diag(c, 1, line, "%s %s: %.*s given twice (first on line %d)", kind_name(kind), objname,
				    (int)(fe - s), s, po->line[f]);
				continue;
			}
			po->line[f] = line;
			char *v = eq + 1, *ve = le;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			const char *why;
			char *val = value_dup(c, v, (size_t)(ve - v), &why);
			if (!val) {
				diag(c, 1, line, "%s %s: %.*s: %s", kind_name(kind), objname, (int)(fe - s), s, why);
				continue;
			}
			set_field(c, kind, idx, f, line, val);
		}
nextline:;
	}
}

/* The hashes of one mailbox's keys, computed once for the prefetch and
 * used again for the insert, in the same order. */
struct hcache {
	uint32_t h[16];
	unsigned n, k;
};

static void ix_prefetch(const struct umfax_dir_index *ix, struct hcache *hc, int kind,
    unsigned dp, const char *key, size_t n)
{
	uint32_t h = hkey(kind, dp, key, n);
	if (hc->n < 16)
		hc->h[hc->n++] = h;
	const struct ent *e = &ix->t[h & ix->mask];
#if defined(__x86_64__) || defined(__i386__)
	/* GCC drops a __builtin_prefetch whose result nothing uses */
	__asm__ volatile("prefetcht0 %0" : : "m"(*e));
#else
	__builtin_prefetch(e, 0);
#endif
}

/* The next key's hash from HC (or computed), and the insert. */
static struct ent *hc_put(struct umfax_dir_index *ix, struct hcache *hc, int kind,
    unsigned dp, const char *s, size_t n, int val)
{
	uint32_t h = hc->k < hc->n ? hc->h[hc->k] : hkey(kind, dp, s, n);
	hc->k++;
	return ix_put_h(ix, kind, dp, s, n, h, val);
}

static void hc_skip(struct hcache *hc)
{
	hc->k++;
}

static void prefetch_mailbox(const struct umfax_dir *d, const struct umfax_mailbox *m,
    struct hcache *hc)
{
	const struct umfax_dir_index *ix = d->ix;
	const struct umfax_dialplan *dp = mb_dialplan(m);
	hc->n = hc->k = 0;
	ix_prefetch(ix, hc, K_ALIAS, 0, m->alias, strlen(m->alias));
	ix_prefetch(ix, hc, K_SMTP, 0, m->smtp, strlen(m->smtp));
	for (size_t k = 0; dp && k < m->nextensions; k++)
		ix_prefetch(ix, hc, K_EXT, (unsigned)(dp - d->dialplans), m->extensions[k], strlen(m->extensions[k]));
	for (size_t k = 0; k < m->ne164; k++)
		ix_prefetch(ix, hc, K_E164, 0, m->e164[k], strlen(m->e164[k]));
	for (size_t k = 0; k < m->nsip; k++) {
		const char *at = strchr(m->sip[k], '@');
		ix_prefetch(ix, hc, K_SIP, 0, m->sip[k], strlen(m->sip[k]));
		if (at)
			ix_prefetch(ix, hc, K_LOCAL, 0, m->sip[k], (size_t)(at - m->sip[k]));
	}
}

/* Index mailbox I (its policy is linked already) and check its keys; HC
 * holds the hashes prefetch_mailbox computed, in the same order. */
static void link_mailbox(struct pctx *c, size_t i, struct hcache *hc)
{
	struct umfax_dir *d = c->d;
	struct umfax_dir_index *ix = d->ix;
	struct umfax_mailbox *m = &d->mailboxes[i];
	const struct pobj *po = &c->pm[i];
	const struct ent *o = hc_put(ix, hc, K_ALIAS, 0, m->alias, strlen(m->alias), (int)i);
	if (o)
		diag(c, 1, m->line, "mailbox %s: defined twice (first on line %d)", m->alias, d->mailboxes[ent_val(o)].line);
	if (!m->smtp[0]) {
		hc_skip(hc);
		diag(c, 1, m->line, "mailbox %s: primary-smtp-address is required", m->alias);
	} else if ((o = hc_put(ix, hc, K_SMTP, 0, m->smtp, strlen(m->smtp), (int)i))) {
		diag(c, 1, po->line[MB_SMTP], "mailbox %s: primary-smtp-address %s is also mailbox %s's (line %d)",
		    m->alias, m->smtp, d->mailboxes[ent_val(o)].alias, d->mailboxes[ent_val(o)].line);
	}
	const struct umfax_dialplan *dp = mb_dialplan(m);
	if (dp) {
		unsigned dpi = (unsigned)(dp - d->dialplans);
		for (size_t k = 0; k < m->nextensions; k++) {
			const char *e = m->extensions[k];
			size_t el = strlen(e);
			if (dp->extension_digits && el != (size_t)dp->extension_digits) {
				hc_skip(hc);
				diag(c, 1, po->line[MB_EXT], "mailbox %s: extension %s has %zu digits, dialplan %s has %d-digit extensions",
				    m->alias, e, el, dp->name, dp->extension_digits);
			} else if ((o = hc_put(ix, hc, K_EXT, dpi, e, el, (int)i))) {
				diag(c, 1, po->line[MB_EXT], "mailbox %s: extension %s is also mailbox %s's in dialplan %s (line %d)",
				    m->alias, e, d->mailboxes[ent_val(o)].alias, dp->name, d->mailboxes[ent_val(o)].line);
			}
		}
	}
	for (size_t k = 0; k < m->ne164; k++)
		if ((o = hc_put(ix, hc, K_E164, 0, m->e164[k], strlen(m->e164[k]), (int)i)) && ent_val(o) != (int)i)
			diag(c, 1, po->line[MB_E164], "mailbox %s: e164 address %s is also mailbox %s's (line %d)",
			    m->alias, m->e164[k], d->mailboxes[ent_val(o)].alias, d->mailboxes[ent_val(o)].line);
	for (size_t k = 0; k < m->nsip; k++) {
		const char *s = m->sip[k];
		if ((o = hc_put(ix, hc, K_SIP, 0, s, strlen(s), (int)i)) && ent_val(o) != (int)i)
			diag(c, 1, po->line[MB_SIP], "mailbox %s: sip address %s is also mailbox %s's (line %d)",
			    m->alias, s, d->mailboxes[ent_val(o)].alias, d->mailboxes[ent_val(o)].line);
		const char *at = strchr(s, '@');
		if (!at)
			continue;
		char *local = arena_strndup(d->arena, s, (size_t)(at - s));
		if (!local) {
			hc_skip(hc);
			continue;
		}
		struct ent *le = hc_put(ix, hc, K_LOCAL, 0, local, (size_t)(at - s), (int)i);
		if (le && ent_val(le) != (int)i && ent_val(le) != AMBIGUOUS)
			le->kv = (le->kv & ~VAL_MASK) | VAL_AMBIGUOUS;
	}
}

/* Cross-object checks, links and the index. */
static void link_all(struct pctx *c)
{
	struct umfax_dir *d = c->d;
	size_t want = d->ndialplans + d->npolicies;
	for (size_t i = 0; i < d->nmailboxes; i++) {
		const struct umfax_mailbox *m = &d->mailboxes[i];
		want += 2 + m->nextensions + m->ne164 + 2 * m->nsip;
	}
	if (ix_init(d->ix, want) < 0) {
		diag(c, 1, 0, "out of memory");
		return;
	}
	d->ix->mb = d->mailboxes;
	d->ix->dp0 = d->dialplans;
	for (size_t i = 0; i < d->ndialplans; i++) {
		struct umfax_dialplan *dp = &d->dialplans[i];
		const struct ent *o = ix_put(d->ix, K_DIALPLAN, 0, dp->name, (int)i);
		if (o)
			diag(c, 1, dp->line, "dialplan %s: defined twice (first on line %d)", dp->name, d->dialplans[ent_val(o)].line);
		if (!c->pd[i].line[DP_DIGITS])
			diag(c, 1, dp->line, "dialplan %s: extension-digits is required (1 to 20)", dp->name);
		if (d->ndialplans > 65535)
			diag(c, 1, dp->line, "too many dial plans");
	}
	for (size_t i = 0; i < d->npolicies; i++) {
		struct umfax_policy *p = &d->policies[i];
		const struct pobj *po = &c->pp[i];
		const struct ent *o = ix_put(d->ix, K_POLICY, 0, p->name, (int)i);
		if (o)
			diag(c, 1, p->line, "policy %s: defined twice (first on line %d)", p->name, d->policies[ent_val(o)].line);
		if (!po->link || !*po->link)
			diag(c, 1, p->line, "policy %s: dialplan is required", p->name);
		else if (!(p->dialplan = umfax_dir_dialplan(d, po->link)))
			diag(c, 1, po->line[PO_DIALPLAN], "policy %s: dialplan \"%s\" is not defined", p->name, po->link);
		if (p->allow_fax && !p->fax_server_uri[0])
			diag(c, 1, po->line[PO_ALLOW] ? po->line[PO_ALLOW] : p->line,
			    "policy %s: allow-fax = true needs a fax-server-uri", p->name);
	}
	/* policies first (a few hot entries), then the keys of the mailboxes,
	 * a window at a time: the table slots of the next window are
	 * prefetched, so the cache misses of a big directory overlap. */
	for (size_t i = 0; i < d->nmailboxes; i++) {
		struct umfax_mailbox *m = &d->mailboxes[i];
		const struct pobj *po = &c->pm[i];
		if (!po->link || !*po->link)
			diag(c, 1, m->line, "mailbox %s: policy is required", m->alias);
		else if (i > 0 && d->mailboxes[i - 1].policy && strcmp(po->link, c->pm[i - 1].link) == 0)
			m->policy = d->mailboxes[i - 1].policy;
		else if (!(m->policy = umfax_dir_policy(d, po->link)))
			diag(c, 1, po->line[MB_POLICY], "mailbox %s: policy \"%s\" is not defined", m->alias, po->link);
	}
	enum { WIN = 32 };
	for (size_t base = 0; base < d->nmailboxes; base += WIN) {
		size_t end = base + WIN < d->nmailboxes ? base + WIN : d->nmailboxes;
		struct hcache hc[WIN];
		for (size_t i = base; i < end; i++)
			prefetch_mailbox(d, &d->mailboxes[i], &hc[i - base]);
		for (size_t i = base; i < end; i++)
			link_mailbox(c, i, &hc[i - base]);
	}
}

static void dir_clear(struct umfax_dir *d)
{
	void (*dg)(void *, const char *, const char *) = d->diag;
	void *da = d->diag_arg;
	memset(d, 0, sizeof *d);
	d->diag = dg;
	d->diag_arg = da;
}

void umfax_dir_init(struct umfax_dir *d)
{
	memset(d, 0, sizeof *d);
}

void umfax_dir_release(struct umfax_dir *d)
{
	if (d->ix) {
		if (d->ix->t)
			munmap(d->ix->t, d->ix->bytes);
		free(d->ix);
	}
	if (d->arena) {
		arena_free(d->arena);
		free(d->arena);
	}
	free(d->dialplans);
	free(d->policies);
	free(d->mailboxes);
	dir_clear(d);
}

/* 1 if BUF has a byte < 0x20 other than TAB and LF (then every line is
 * checked).  16 bytes at a time where SSE2 is there: it reads every byte of
 * a big directory. */
static int has_control(const char *buf, size_t len)
{
	size_t i = 0;
#ifdef __SSE2__
	const __m128i lim = _mm_set1_epi8(0x1f), tab = _mm_set1_epi8('\t'), lf = _mm_set1_epi8('\n');
	for (; i + 16 <= len; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(buf + i));
		__m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, lim), v);
		__m128i ok = _mm_or_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(v, lf));
		if (_mm_movemask_epi8(_mm_andnot_si128(ok, ctl)))
			return 1;
	}
#endif
	for (; i < len; i++) {
		unsigned char ch = (unsigned char)buf[i];
		if (ch < 0x20 && ch != '\t' && ch != '\n')
			return 1;
	}
	return 0;
}

/* Parse TEXT (LEN bytes, malloc'd, TEXT[LEN] writable), which D then owns. */
static int parse_owned(struct umfax_dir *d, const char *name, char *text, size_t len,
    char *err, size_t errlen)
{
	struct pctx c;
	umfax_dir_release(d);
	memset(&c, 0, sizeof c);
	c.d = d;
	c.name = name ? name : "directory";
	c.err = err;
	c.errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
	d->arena = calloc(1, sizeof *d->arena);
	d->ix = calloc(1, sizeof *d->ix);
	if (!d->arena || !d->ix) {
		free(text);
		umfax_dir_release(d);
		snprintf(err, errlen, "%s: out of memory", c.name);
		errno = ENOMEM;
		return -1;
	}
	d->arena->text = text;
	text[len] = '\0';
	cclass_init();
	if (memchr(text, '\0', len)) {
		diag(&c, 1, 0, "file contains a NUL byte");
	} else {
		/* size the mailbox array once, from the file size (a mailbox
		 * takes at least ~60 bytes); pages never used are never touched */
		size_t nmb = len / 48 + 16;
		if (nmb > 64) {
			d->mailboxes = malloc(nmb * sizeof *d->mailboxes);
			c.pm = malloc(nmb * sizeof *c.pm);
			big_pages(d->mailboxes, nmb * sizeof *d->mailboxes);
			big_pages(c.pm, nmb * sizeof *c.pm);
			if (d->mailboxes && c.pm) {
				c.capm = nmb;
			} else {
				free(c.pm);
				c.pm = NULL;
				free(d->mailboxes);
				d->mailboxes = NULL;
			}
		}
		c.ctl = has_control(text, len);
		parse_lines(&c, text, len);
		link_all(&c);
	}
	free(c.pd);
	free(c.pp);
	free(c.pm);
	diag_flush(&c);
	if (c.nerr) {
		umfax_dir_release(d);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int umfax_dir_parse(struct umfax_dir *d, const char *name, const char *buf, size_t len,
    char *err, size_t errlen)
{
	char *text = malloc(len + 1);
	if (!text) {
		umfax_dir_release(d);
		snprintf(err, errlen, "%s: out of memory", name ? name : "directory");
		errno = ENOMEM;
		return -1;
	}
	memcpy(text, buf, len);
	return parse_owned(d, name, text, len, err, errlen);
}

static int read_file(const char *path, char **bufp, size_t *lenp, struct stat *st,
    char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || st->st_size > MAX_DIR_FILE) {
		int e = S_ISREG(st->st_mode) ? (errno ? errno : EFBIG) : EINVAL;
		snprintf(err, errlen, "%s: %s", path, !S_ISREG(st->st_mode) ? "not a regular file" :
		    st->st_size > MAX_DIR_FILE ? "file too large" : strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	size_t cap = (size_t)st->st_size + 1, len = 0;
	char *buf = malloc(cap);
	big_pages(buf, cap);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		errno = ENOMEM;
		return -1;
	}
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > (size_t)MAX_DIR_FILE) {
				free(buf);
				close(fd);
				snprintf(err, errlen, "%s: file too large", path);
				errno = EFBIG;
				return -1;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				close(fd);
				snprintf(err, errlen, "%s: out of memory", path);
				errno = ENOMEM;
				return -1;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - 1 - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			close(fd);
			snprintf(err, errlen, "%s: read: %s", path, strerror(e));
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

int umfax_dir_load(struct umfax_dir *d, const char *path, char *err, size_t errlen)
{
	char *buf;
	size_t len;
	struct stat st;
	if (!path)
		path = umfax_conf_str("directory_file");
	if (!path || !*path)
		path = UMFAX_DEFAULT_DIRECTORY;
	umfax_dir_release(d);
	if (read_file(path, &buf, &len, &st, err, errlen) < 0)
		return -1;
	int rc = parse_owned(d, path, buf, len, err, errlen);
	if (rc < 0)
		return -1;
	cpy(d->path, sizeof d->path, path);
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	d->size = st.st_size;
	d->mtime = st.st_mtim;
	return 0;
}

int umfax_dir_reload(struct umfax_dir *d, char *err, size_t errlen)
{
	struct stat st;
	if (!d->path[0]) {
		snprintf(err, errlen, "directory: nothing loaded from a file");
		return -1;
	}
	if (stat(d->path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", d->path, strerror(errno));
		return -1;
	}
	if (st.st_dev == d->dev && st.st_ino == d->ino && st.st_size == d->size &&
	    st.st_mtim.tv_sec == d->mtime.tv_sec && st.st_mtim.tv_nsec == d->mtime.tv_nsec)
		return 0;
	struct umfax_dir nd;
	umfax_dir_init(&nd);
	nd.diag = d->diag;
	nd.diag_arg = d->diag_arg;
	char path[sizeof d->path];
	cpy(path, sizeof path, d->path);
	if (umfax_dir_load(&nd, path, err, errlen) < 0)
		return -1;
	umfax_dir_release(d);
	*d = nd;
	return 1;
}
