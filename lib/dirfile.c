/* dirfile.c - edit the directory file, keeping comments and order, and
 * replace it atomically under a lock (dirfile.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "crash.h"
#include "directory.h"
#include "dirfile.h"

struct line {
	const char *s;             /* not NUL-terminated */
	size_t n;
	char *own;                 /* malloc'd text when changed */
};

struct block {
	int kind;                  /* -1: text before the first object */
	const char *name;          /* points into the buffer or own copy */
	size_t namelen;
	int deleted;
	struct line *l;
	size_t nl, capl;
};

struct doc {
	struct block *b;
	size_t nb, capb;
	size_t *ht;                /* hash: block index + 1, 0 empty */
	size_t htcap;
	char **owned;              /* strings to free */
	size_t nowned, capowned;
};

static const char *const kinds[] = { "dialplan", "policy", "mailbox" };

const char *umfax_dirkind_name(enum umfax_dirkind k)
{
	return (unsigned)k < 3 ? kinds[k] : "?";
}

static int is_blank(const struct line *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (!isspace((unsigned char)l->s[i]))
			return 0;
	return 1;
}

static int is_comment(const struct line *l)
{
	size_t i = 0;
	while (i < l->n && isspace((unsigned char)l->s[i]))
		i++;
	return i < l->n && l->s[i] == '#';
}

static int is_field(const struct line *l)
{
	return l->n && (l->s[0] == ' ' || l->s[0] == '\t') && !is_blank(l) && !is_comment(l);
}

/* The field name of a field line into [*fs, *fs + *fn). */
static int field_name(const struct line *l, const char **fs, size_t *fn)
{
	size_t i = 0;
	while (i < l->n && isspace((unsigned char)l->s[i]))
		i++;
	const char *eq = memchr(l->s + i, '=', l->n - i);
	if (!eq)
		return -1;
	const char *e = eq;
	while (e > l->s + i && isspace((unsigned char)e[-1]))
		e--;
	*fs = l->s + i;
	*fn = (size_t)(e - *fs);
	return 0;
}

static uint64_t hname(int kind, const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)(kind + 7);
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)tolower((unsigned char)s[i]);
		h *= 1099511628211ULL;
	}
	return h;
}

static int ht_add(struct doc *d, size_t bi);

static int ht_grow(struct doc *d)
{
	size_t cap = d->htcap ? d->htcap * 2 : 1024;
	free(d->ht);
	d->ht = calloc(cap, sizeof *d->ht);
	if (!d->ht)
		return -1;
	d->htcap = cap;
	for (size_t i = 0; i < d->nb; i++)
		if (d->b[i].kind >= 0)
			ht_add(d, i);
	return 0;
}

static int ht_add(struct doc *d, size_t bi)
{
	if (d->nb * 2 >= d->htcap && d->htcap < d->nb * 4)
		if (ht_grow(d) < 0)
			return -1;
	const struct block *b = &d->b[bi];
	size_t mask = d->htcap - 1;
	for (size_t i = hname(b->kind, b->name, b->namelen) & mask;; i = (i + 1) & mask) {
		if (d->ht[i] == bi + 1)
			return 0;
		if (!d->ht[i]) {
			d->ht[i] = bi + 1;
			return 0;
		}
	}
}

/* The live block KIND NAME, or -1. */
static long find(const struct doc *d, int kind, const char *name)
{
	size_t n = strlen(name);
	if (!d->htcap)
		return -1;
	size_t mask = d->htcap - 1;
	for (size_t i = hname(kind, name, n) & mask; d->ht[i]; i = (i + 1) & mask) {
		const struct block *b = &d->b[d->ht[i] - 1];
		if (!b->deleted && b->kind == kind && b->namelen == n && strncasecmp(b->name, name, n) == 0)
			return (long)(d->ht[i] - 1);
	}
	return -1;
}

static char *keep(struct doc *d, char *s)
{
	if (!s)
		return NULL;
	if (d->nowned == d->capowned) {
		size_t nc = d->capowned ? d->capowned * 2 : 64;
		char **np = realloc(d->owned, nc * sizeof *np);
		if (!np) {
			free(s);
			return NULL;
		}
		d->owned = np;
		d->capowned = nc;
	}
	d->owned[d->nowned++] = s;
	return s;
}

static struct block *new_block(struct doc *d, int kind, const char *name, size_t namelen)
{
	if (d->nb == d->capb) {
		size_t nc = d->capb ? d->capb * 2 : 64;
		struct block *nb = realloc(d->b, nc * sizeof *nb);
		if (!nb)
			return NULL;
		d->b = nb;
		d->capb = nc;
	}
	struct block *b = &d->b[d->nb++];
	memset(b, 0, sizeof *b);
	b->kind = kind;
	b->name = name;
	b->namelen = namelen;
	if (kind >= 0 && ht_add(d, d->nb - 1) < 0)
		return NULL;
	return b;
}

static int add_line(struct block *b, const char *s, size_t n, char *own)
{
	if (b->nl == b->capl) {
		size_t nc = b->capl ? b->capl * 2 : 8;
		struct line *nl = realloc(b->l, nc * sizeof *nl);
		if (!nl)
			return -1;
		b->l = nl;
		b->capl = nc;
	}
	b->l[b->nl].s = s;
	b->l[b->nl].n = n;
	b->l[b->nl].own = own;
	b->nl++;
	return 0;
}

static int insert_line(struct block *b, size_t at, char *own)
{
	if (add_line(b, own, strlen(own), own) < 0)
		return -1;
	struct line tmp = b->l[b->nl - 1];
	memmove(&b->l[at + 1], &b->l[at], (b->nl - 1 - at) * sizeof *b->l);
	b->l[at] = tmp;
	return 0;
}

static void doc_free(struct doc *d)
{
	for (size_t i = 0; i < d->nb; i++) {
		for (size_t k = 0; k < d->b[i].nl; k++)
			free(d->b[i].l[k].own);
		free(d->b[i].l);
	}
	for (size_t i = 0; i < d->nowned; i++)
		free(d->owned[i]);
	free(d->owned);
	free(d->b);
	free(d->ht);
	memset(d, 0, sizeof *d);
}

static int doc_parse(struct doc *d, const char *buf, size_t len)
{
	struct block *cur = new_block(d, -1, "", 0);
	const char *p = buf, *end = buf + len;
	if (!cur)
		return -1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		struct line l = { p, (size_t)(le - p), NULL };
		if (l.n && l.s[l.n - 1] == '\r')
			l.n--;
		p = nl ? nl + 1 : end;
		if (l.n && !isspace((unsigned char)l.s[0]) && !is_comment(&l)) {
			size_t kl = 0;
			while (kl < l.n && !isspace((unsigned char)l.s[kl]))
				kl++;
			int kind = -1;
			for (int k = 0; k < 3; k++)
				if (strlen(kinds[k]) == kl && strncasecmp(l.s, kinds[k], kl) == 0)
					kind = k;
			size_t ns = kl;
			while (ns < l.n && isspace((unsigned char)l.s[ns]))
				ns++;
			size_t ne = l.n;
			while (ne > ns && isspace((unsigned char)l.s[ne - 1]))
				ne--;
			/* an unknown header line stays with the block before it */
			if (kind >= 0 && !(cur = new_block(d, kind, l.s + ns, ne - ns)))
				return -1;
		}
		if (add_line(cur, l.s, l.n, NULL) < 0)
			return -1;
	}
	return 0;
}

/* Index of the last field line of B (0, the header, when none). */
static size_t last_field(const struct block *b)
{
	size_t last = 0;
	for (size_t i = 1; i < b->nl; i++)
		if (is_field(&b->l[i]))
			last = i;
	return last;
}

static int known_field(int kind, const char *f, size_t n)
{
	const char *const *t = umfax_dir_fields(kinds[kind]);
	for (int i = 0; t && t[i]; i++)
		if (strlen(t[i]) == n && strncasecmp(t[i], f, n) == 0)
			return i;
	return -1;
}

/* "    name = value", quoting the value when it needs it. */
static char *format_field(const char *indent, size_t il, const char *name, const char *v)
{
	int quote = *v == '"' || isspace((unsigned char)*v) ||
	    (*v && isspace((unsigned char)v[strlen(v) - 1]));
	for (const char *q = v; *q && !quote; q++)
		if ((unsigned char)*q < ' ' || *q == 0x7f)
			quote = 1;
	size_t cap = il + strlen(name) + 8 + 2 * strlen(v);
	char *s = malloc(cap), *o;
	if (!s)
		return NULL;
	o = s + snprintf(s, cap, "%.*s%s = ", (int)il, indent, name);
	if (!quote) {
		strcpy(o, v);
		return s;
	}
	*o++ = '"';
	for (; *v; v++) {
		if (*v == '"' || *v == '\\') {
			*o++ = '\\';
			*o++ = *v;
		} else if (*v == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else if (*v == '\t') {
			*o++ = '\\';
			*o++ = 't';
		} else if ((unsigned char)*v >= ' ' && *v != 0x7f) {
			*o++ = *v;
		}
	}
	*o++ = '"';
	*o = '\0';
	return s;
}

static int set_fields(struct doc *d, struct block *b, const struct umfax_dirchange *ch,
    char *err, size_t errlen)
{
	(void)d;
	for (size_t i = 0; i < ch->nfields; i++) {
		const char *fv = ch->fields[i];
		const char *eq = strchr(fv, '=');
		if (!eq) {
			snprintf(err, errlen, "%s %s: \"%s\" is not field=value", kinds[b->kind], ch->name, fv);
			return EX_DATAERR;
		}
		const char *fe = eq, *fs = fv;
		while (fs < fe && isspace((unsigned char)*fs))
			fs++;
		while (fe > fs && isspace((unsigned char)fe[-1]))
			fe--;
		int f = known_field(b->kind, fs, (size_t)(fe - fs));
		if (f < 0) {
			const char *const *t = umfax_dir_fields(kinds[b->kind]);
			char list[400] = "";
			for (int k = 0; t[k]; k++)
				snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "", t[k]);
			snprintf(err, errlen, "%s %s: unknown field \"%.*s\" (known: %s)", kinds[b->kind],
			    ch->name, (int)(fe - fs), fs, list);
			return EX_DATAERR;
		}
		const char *fname = umfax_dir_fields(kinds[b->kind])[f];
		/* the value is trimmed, as the parser trims an unquoted value */
		char vbuf[8192];
		const char *v = eq + 1;
		while (isspace((unsigned char)*v))
			v++;
		size_t vl = strlen(v);
		while (vl && isspace((unsigned char)v[vl - 1]))
			vl--;
		if (vl >= sizeof vbuf) {
			snprintf(err, errlen, "%s %s: %s: value too long", kinds[b->kind], ch->name, fname);
			return EX_DATAERR;
		}
		memcpy(vbuf, v, vl);
		vbuf[vl] = '\0';
		v = vbuf;
		/* find the line */
		size_t at = 0;
		for (size_t k = 1; k < b->nl; k++) {
			const char *n;
			size_t nn;
			if (is_field(&b->l[k]) && field_name(&b->l[k], &n, &nn) == 0 &&
			    nn == strlen(fname) && strncasecmp(n, fname, nn) == 0) {
				at = k;
				break;
			}
		}
		if (!*v) {
			/* empty: back to the default, the line goes */
			if (at) {
				free(b->l[at].own);
				memmove(&b->l[at], &b->l[at + 1], (b->nl - at - 1) * sizeof *b->l);
				b->nl--;
			}
			continue;
		}
		const char *indent = "    ";
		size_t il = 4;
		for (size_t k = 1; k < b->nl; k++) {
			if (is_field(&b->l[k])) {
				indent = b->l[k].s;
				il = strspn(indent, " \t");
				if (il > b->l[k].n)
					il = b->l[k].n;
				break;
			}
		}
		char *line = format_field(indent, il, fname, v);
		if (!line) {
			snprintf(err, errlen, "out of memory");
			return EX_OSERR;
		}
		if (at) {
			free(b->l[at].own);
			b->l[at].own = line;
			b->l[at].s = line;
			b->l[at].n = strlen(line);
		} else if (insert_line(b, last_field(b) + 1, line) < 0) {
			free(line);
			snprintf(err, errlen, "out of memory");
			return EX_OSERR;
		}
	}
	return 0;
}

static void remove_block(struct doc *d, size_t bi)
{
	struct block *b = &d->b[bi];
	b->deleted = 1;
	/* comment lines directly above the header describe it: they go too */
	struct block *prev = NULL;
	for (size_t i = bi; i-- > 0;)
		if (!d->b[i].deleted) {
			prev = &d->b[i];
			break;
		}
	int last_live = 1;
	for (size_t i = bi + 1; i < d->nb; i++)
		if (!d->b[i].deleted)
			last_live = 0;
	if (prev) {
		size_t min = prev->kind >= 0 ? last_field(prev) + 1 : 0;
		if (prev->kind >= 0 && min < 1)
			min = 1;
		while (prev->nl > min && is_comment(&prev->l[prev->nl - 1])) {
			free(prev->l[prev->nl - 1].own);
			prev->nl--;
		}
	}
	/* what follows the last field (comments about later objects) stays */
	size_t lf = last_field(b) + 1, k = lf;
	int only_blank = 1;
	for (size_t i = lf; i < b->nl; i++)
		if (!is_blank(&b->l[i]))
			only_blank = 0;
	if (only_blank)
		k = b->nl;
	else if (prev && prev->nl && is_blank(&prev->l[prev->nl - 1]) && k < b->nl && is_blank(&b->l[k]))
		k++;
	/* the last object gone: the blank line that separated it goes too */
	if (last_live && k == b->nl && prev && prev->nl > 1 && is_blank(&prev->l[prev->nl - 1])) {
		free(prev->l[prev->nl - 1].own);
		prev->nl--;
	}
	/* the lines kept move to the end of the block before (the text before
	 * the first object, block 0, is never removed, so there is one) */
	for (size_t i = 0; i < b->nl; i++) {
		if (i >= k && prev && add_line(prev, b->l[i].s, b->l[i].n, b->l[i].own) == 0)
			continue;
		free(b->l[i].own);
	}
	b->nl = 0;
}

static int apply_one(struct doc *d, const struct umfax_dirchange *ch, char *err, size_t errlen)
{
	int kind = (int)ch->kind;
	if (kind < 0 || kind > 2 || !ch->name || !*ch->name) {
		snprintf(err, errlen, "a name is required");
		return EX_USAGE;
	}
	for (const char *p = ch->name; *p; p++) {
		if (isspace((unsigned char)*p) || (unsigned char)*p < ' ') {
			snprintf(err, errlen, "%s: \"%s\" is not a valid name", kinds[kind], ch->name);
			return EX_DATAERR;
		}
	}
	long bi = find(d, kind, ch->name);
	enum umfax_dirop op = ch->op;
	if (op == UMFAX_DIROP_UPSERT)
		op = bi >= 0 ? UMFAX_DIROP_SET : UMFAX_DIROP_NEW;
	switch (op) {
	case UMFAX_DIROP_NEW: {
		if (bi >= 0) {
			snprintf(err, errlen, "%s %s already exists", kinds[kind], ch->name);
			return EX_DATAERR;
		}
		/* a blank line before the new object unless the text ends with one */
		struct block *last = NULL;
		for (size_t i = d->nb; i-- > 0;)
			if (!d->b[i].deleted) {
				last = &d->b[i];
				break;
			}
		if (last && last->nl && !is_blank(&last->l[last->nl - 1]) &&
		    add_line(last, "", 0, NULL) < 0) {
			snprintf(err, errlen, "out of memory");
			return EX_OSERR;
		}
		size_t hl = strlen(kinds[kind]) + 2 + strlen(ch->name);
		char *hdr = malloc(hl);
		if (!hdr) {
			snprintf(err, errlen, "out of memory");
			return EX_OSERR;
		}
		snprintf(hdr, hl, "%s %s", kinds[kind], ch->name);
		const char *nm = keep(d, strdup(ch->name));
		struct block *b = nm ? new_block(d, kind, nm, strlen(nm)) : NULL;
		if (!b || add_line(b, hdr, strlen(hdr), hdr) < 0) {
			free(hdr);
			snprintf(err, errlen, "out of memory");
			return EX_OSERR;
		}
		return set_fields(d, b, ch, err, errlen);
	}
	case UMFAX_DIROP_SET:
		if (bi < 0) {
			snprintf(err, errlen, "no %s %s", kinds[kind], ch->name);
			return EX_NOINPUT;
		}
		if (ch->nfields == 0) {
			snprintf(err, errlen, "set-%s %s: nothing to set (give field=value)", kinds[kind], ch->name);
			return EX_USAGE;
		}
		return set_fields(d, &d->b[bi], ch, err, errlen);
	case UMFAX_DIROP_REMOVE:
		if (bi < 0) {
			snprintf(err, errlen, "no %s %s", kinds[kind], ch->name);
			return EX_NOINPUT;
		}
		remove_block(d, (size_t)bi);
		return 0;
	default:
		snprintf(err, errlen, "bad operation");
		return EX_SOFTWARE;
	}
}

static char *doc_text(const struct doc *d, size_t *lenp)
{
	size_t len = 0;
	for (size_t i = 0; i < d->nb; i++)
		for (size_t k = 0; !d->b[i].deleted && k < d->b[i].nl; k++)
			len += d->b[i].l[k].n + 1;
	char *out = malloc(len + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < d->nb; i++) {
		for (size_t k = 0; !d->b[i].deleted && k < d->b[i].nl; k++) {
			memcpy(o, d->b[i].l[k].s, d->b[i].l[k].n);
			o += d->b[i].l[k].n;
			*o++ = '\n';
		}
	}
	*o = '\0';
	*lenp = (size_t)(o - out);
	return out;
}

int umfax_dirfile_edit(const char *buf, size_t len, const struct umfax_dirchange *ch,
    size_t n, char **out, size_t *outlen, char *err, size_t errlen)
{
	struct doc d;
	int rc = 0;
	memset(&d, 0, sizeof d);
	*out = NULL;
	*outlen = 0;
	if (doc_parse(&d, buf, len) < 0) {
		snprintf(err, errlen, "out of memory");
		rc = EX_OSERR;
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = apply_one(&d, &ch[i], err, errlen);
	if (rc == 0 && !(*out = doc_text(&d, outlen))) {
		snprintf(err, errlen, "out of memory");
		rc = EX_OSERR;
	}
	doc_free(&d);
	return rc;
}

/* ---- on disk ----------------------------------------------------------------- */

static int lock_file(const char *path, int timeout, char *err, size_t errlen)
{
	char lp[4200];
	snprintf(lp, sizeof lp, "%s.lock", path);
	int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", lp, strerror(errno));
		return -EX_CANTCREAT;
	}
	struct timespec t0, now, nap = { 0, 10 * 1000 * 1000 };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			snprintf(err, errlen, "%s: lock: %s", lp, strerror(errno));
			close(fd);
			return -EX_IOERR;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= timeout) {
			snprintf(err, errlen, "%s: still locked by another writer after %d s", lp, timeout);
			close(fd);
			return -EX_TEMPFAIL;
		}
		nanosleep(&nap, NULL);
	}
}

static int read_all(const char *path, char **bufp, size_t *lenp, struct stat *st,
    char *err, size_t errlen)
{
	*bufp = NULL;
	*lenp = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			memset(st, 0, sizeof *st);
			st->st_mode = 0640;
			st->st_uid = (uid_t)-1;
			*bufp = strdup("");
			return *bufp ? 0 : -EX_OSERR;
		}
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return errno == EACCES ? -EX_NOPERM : -EX_NOINPUT;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -EX_DATAERR;
	}
	size_t cap = (size_t)st->st_size + 1, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -EX_OSERR;
	}
	for (;;) {
		if (len == cap) {
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				free(buf);
				close(fd);
				snprintf(err, errlen, "out of memory");
				return -EX_OSERR;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return -EX_IOERR;
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

/* Remove PATH.tmp.* left by a writer that died (we hold the lock, so no
 * other writer is at work). */
static void remove_stale_tmp(const char *path)
{
	char dirbuf[4200], basebuf[4200], prefix[4300];
	snprintf(dirbuf, sizeof dirbuf, "%s", path);
	snprintf(basebuf, sizeof basebuf, "%s", path);
	const char *dir = dirname(dirbuf), *base = basename(basebuf);
	snprintf(prefix, sizeof prefix, "%s.tmp.", base);
	size_t pl = strlen(prefix);
	DIR *dp = opendir(dir);
	if (!dp)
		return;
	struct dirent *de;
	while ((de = readdir(dp)) != NULL) {
		if (strncmp(de->d_name, prefix, pl) == 0 && de->d_name[pl] &&
		    strspn(de->d_name + pl, "0123456789") == strlen(de->d_name + pl))
			unlinkat(dirfd(dp), de->d_name, 0);
	}
	closedir(dp);
}

static int write_replace(const char *path, const char *text, size_t len, const struct stat *st,
    char *err, size_t errlen)
{
	char tmp[4200], dirbuf[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	remove_stale_tmp(path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return EX_CANTCREAT;
	}
	if (st->st_uid != (uid_t)-1 && geteuid() == 0 && fchown(fd, st->st_uid, st->st_gid) < 0) {
		/* keep going: the mode below still protects the file */
	}
	if (fchmod(fd, st->st_mode & 07777) < 0) {
		snprintf(err, errlen, "%s: chmod: %s", tmp, strerror(errno));
		goto fail;
	}
	for (size_t o = 0; o < len;) {
		ssize_t w = write(fd, text + o, len - o);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "%s: write: %s", tmp, w < 0 ? strerror(errno) : "short write");
			goto fail;
		}
		o += (size_t)w;
	}
	if (fsync(fd) < 0) {
		snprintf(err, errlen, "%s: fsync: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		snprintf(err, errlen, "%s: close: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	umfax_crashpoint("dirfile-tmp-written");
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "rename %s to %s: %s", tmp, path, strerror(errno));
		goto fail;
	}
	umfax_crashpoint("dirfile-renamed");
	snprintf(dirbuf, sizeof dirbuf, "%s", path);
	int dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		snprintf(err, errlen, "%s: fsync of the directory: %s", path, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return EX_IOERR;
	}
	close(dfd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return EX_IOERR;
}

int umfax_dirfile_apply(const char *path, const struct umfax_dirchange *ch, size_t n,
    int lock_timeout, char *err, size_t errlen)
{
	char *buf = NULL, *out = NULL;
	size_t len, outlen;
	struct stat st;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	/* a symbolic link stays one: the file it points to is replaced */
	char real[PATH_MAX];
	struct stat lst;
	if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
		if (!realpath(path, real)) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return EX_NOINPUT;
		}
		path = real;
	}
	int lfd = lock_file(path, lock_timeout, err, errlen);
	if (lfd < 0)
		return -lfd;
	umfax_crashpoint("dirfile-locked");
	if ((rc = -read_all(path, &buf, &len, &st, err, errlen)) != 0)
		goto done;
	if ((rc = umfax_dirfile_edit(buf, len, ch, n, &out, &outlen, err, errlen)) != 0)
		goto done;
	{
		struct umfax_dir d;
		char perr[600];
		umfax_dir_init(&d);
		d.diag = NULL;
		if (umfax_dir_parse(&d, path, out, outlen, perr, sizeof perr) < 0) {
			snprintf(err, errlen, "change rejected, %s is unchanged: %s", path, perr);
			rc = EX_DATAERR;
			goto done;
		}
		umfax_dir_release(&d);
	}
	rc = write_replace(path, out, outlen, &st, err, errlen);
done:
	free(buf);
	free(out);
	close(lfd);      /* releases the lock */
	return rc;
}
