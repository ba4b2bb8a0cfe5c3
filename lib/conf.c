/* conf.c - umfax.conf: one table of settings, each with a compiled-in default */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "conf.h"

#define S(n, t, d, lo, hi, ch, h) { n, t, d, lo, hi, ch, h, 0, UMFAX_CONF_GLOBAL },
#define R(n, t, d, lo, hi, ch, h) { n, t, d, lo, hi, ch, h, 0, UMFAX_CONF_ROUTE },
#define RO(n, t, d, lo, hi, ch, h) { n, t, d, lo, hi, ch, h, 0, UMFAX_CONF_ROUTE_ONLY },
#define SECRET(n, d, h) { n, UMFAX_CONF_STRING, d, 0, 0, NULL, h, 1, UMFAX_CONF_GLOBAL },
const struct umfax_setting umfax_settings[] = {
#include "settings/common.def"
#include "settings/t38recv.def"
#include "settings/faxtiff.def"
#include "settings/umresolve.def"
#include "settings/faxmail.def"
#include "settings/sipredirect.def"
#include "settings/t38live.def"
	{ NULL, UMFAX_CONF_STRING, NULL, 0, 0, NULL, NULL, 0, UMFAX_CONF_GLOBAL }
};
#undef S
#undef R
#undef RO
#undef SECRET

#define NSET (sizeof(umfax_settings) / sizeof(umfax_settings[0]) - 1)
#define MAX_VALUE 1024

static char *values[NSET];          /* NULL: the default */
static char loaded_path[4096];

/* [route NAME] sections: each sets some UMFAX_CONF_ROUTE settings (NULL: the
 * global value) and the UMFAX_CONF_ROUTE_ONLY ones that choose it. */
struct route {
	char name[UMFAX_CONF_ROUTE_NAME_MAX + 1];
	char *values[NSET];
};
static struct route routes[UMFAX_CONF_MAX_ROUTES];
static int nroutes;

static void
routes_free(struct route *r, int n)
{
	for (int k = 0; k < n; k++)
		for (size_t i = 0; i < NSET; i++) {
			free(r[k].values[i]);
			r[k].values[i] = NULL;
		}
}

static int
lookup(const char *name)
{
	for (size_t i = 0; i < NSET; i++)
		if (strcmp(umfax_settings[i].name, name) == 0)
			return (int)i;
	return -1;
}

static const char *
current(size_t i)
{
	return values[i] != NULL ? values[i] : umfax_settings[i].def;
}

/* Parse a boolean the way administrators write them. */
static int
parse_bool(const char *v, int *out)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) { *out = 1; return 0; }
		if (strcasecmp(v, no[i]) == 0) { *out = 0; return 0; }
	}
	return -1;
}

static int
in_choices(const char *choices, const char *v)
{
	size_t n = strlen(v);
	const char *p = choices;

	while (p != NULL && *p) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && strncmp(p, v, n) == 0)
			return 1;
		p = bar ? bar + 1 : NULL;
	}
	return 0;
}

/* Check VALUE for setting I; 0 or -1 with WHY. */
static int
check_value(size_t i, const char *v, char *why, size_t whylen)
{
	const struct umfax_setting *s = &umfax_settings[i];
	int b;

	if (strlen(v) > MAX_VALUE) {
		snprintf(why, whylen, "value of %s is longer than %d bytes", s->name, MAX_VALUE);
		return -1;
	}
	switch (s->type) {
	case UMFAX_CONF_INT: {
		char *end;
		long n;
		errno = 0;
		n = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || errno != 0) {
			snprintf(why, whylen, "%s must be a whole number, not \"%s\"", s->name, v);
			return -1;
		}
		if (n < s->min || n > s->max) {
			snprintf(why, whylen, "%s must be from %ld to %ld, not %ld",
			    s->name, s->min, s->max, n);
			return -1;
		}
		break;
	}
	case UMFAX_CONF_BOOL:
		if (parse_bool(v, &b) < 0) {
			snprintf(why, whylen, "%s must be yes or no, not \"%s\"", s->name, v);
			return -1;
		}
		break;
	case UMFAX_CONF_ENUM:
		if (!in_choices(s->choices, v)) {
			snprintf(why, whylen, "%s must be one of %s, not \"%s\"", s->name, s->choices, v);
			return -1;
		}
		break;
	case UMFAX_CONF_STRING:
		for (const unsigned char *p = (const unsigned char *)v; *p; p++)
			if (*p < ' ' && *p != '\t') {
				snprintf(why, whylen, "%s has a control character", s->name);
				return -1;
			}
		break;
	}
	return 0;
}

static int
store(size_t i, const char *v, char *why, size_t whylen)
{
	char *copy;

	if (check_value(i, v, why, whylen) < 0)
		return -1;
	if ((copy = strdup(v)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	free(values[i]);
	values[i] = copy;
	return 0;
}

int
umfax_conf_set(const char *name, const char *value, char *err, size_t errlen)
{
	int i = lookup(name);

	if (i < 0) {
		snprintf(err, errlen, "unknown setting \"%s\"", name);
		return -1;
	}
	return store((size_t)i, value, err, errlen);
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* "[route NAME]": 1 with NAME copied, 0 when LINE is no section header,
 * -1 with WHY when it is a bad one. */
static int
section(char *line, char *name, size_t nn, char *why, size_t whylen)
{
	char *end, *n;
	size_t len;

	if (*line != '[')
		return 0;
	end = line + strlen(line) - 1;
	if (*end != ']') {
		snprintf(why, whylen, "section header must end with \"]\"");
		return -1;
	}
	*end = '\0';
	n = trim(line + 1);
	if (strncmp(n, "route", 5) != 0 || (n[5] != ' ' && n[5] != '\t')) {
		snprintf(why, whylen, "unknown section (only \"[route NAME]\" is known)");
		return -1;
	}
	n = trim(n + 5);
	len = strlen(n);
	if (len == 0 || len >= nn || strspn(n, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != len) {
		snprintf(why, whylen, "route name must be 1 to %zu letters, digits, \".\", \"_\" or \"-\"", nn - 1);
		return -1;
	}
	memcpy(name, n, len + 1);
	return 1;
}

int
umfax_conf_parse(const char *name, const char *buf, size_t len, char *err, size_t errlen)
{
	char *copy, *line, *next;
	char *newv[NSET];
	struct route *newr;
	int lineno = 0, rc = 0, nr = 0;

	/* All or nothing: parse into NEWV and NEWR, install only when the whole
	 * file is good. */
	memset(newv, 0, sizeof(newv));
	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: contains a NUL byte", name);
		return -1;
	}
	if ((copy = malloc(len + 1)) == NULL ||
	    (newr = calloc(UMFAX_CONF_MAX_ROUTES, sizeof(*newr))) == NULL) {
		free(copy);
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	memcpy(copy, buf, len);
	copy[len] = '\0';
	for (line = copy; line != NULL && rc == 0; line = next) {
		char *eq, *key, *val, why[300], rname[UMFAX_CONF_ROUTE_NAME_MAX + 1];
		char **slot;
		int i, k;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		if ((k = section(line, rname, sizeof(rname), why, sizeof(why))) != 0) {
			if (k < 0) {
				snprintf(err, errlen, "%s:%d: %s", name, lineno, why);
				rc = -1;
				break;
			}
			for (k = 0; k < nr; k++)
				if (strcmp(newr[k].name, rname) == 0)
					break;
			if (k < nr) {
				snprintf(err, errlen, "%s:%d: route \"%s\" is defined twice", name, lineno, rname);
				rc = -1;
				break;
			}
			if (nr >= UMFAX_CONF_MAX_ROUTES) {
				snprintf(err, errlen, "%s:%d: more than %d routes", name, lineno, UMFAX_CONF_MAX_ROUTES);
				rc = -1;
				break;
			}
			memcpy(newr[nr++].name, rname, sizeof(rname));
			continue;
		}
		if ((eq = strchr(line, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected \"name = value\"", name, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		key = trim(line);
		val = trim(eq + 1);
		/* Optional double quotes keep leading/trailing spaces. */
		if (strlen(val) >= 2 && val[0] == '"' && val[strlen(val) - 1] == '"') {
			val[strlen(val) - 1] = '\0';
			val++;
		}
		if ((i = lookup(key)) < 0) {
			char q[80];
			snprintf(q, sizeof(q), "%.60s", key);
			snprintf(err, errlen, "%s:%d: unknown setting \"%s\"", name, lineno, q);
			rc = -1;
			break;
		}
		if (nr > 0 && umfax_settings[i].scope == UMFAX_CONF_GLOBAL) {
			snprintf(err, errlen, "%s:%d: %s cannot be set per route (it is in [route %s]; "
			    "global settings go before the first route)", name, lineno, key, newr[nr - 1].name);
			rc = -1;
			break;
		}
		if (nr == 0 && umfax_settings[i].scope == UMFAX_CONF_ROUTE_ONLY) {
			snprintf(err, errlen, "%s:%d: %s belongs in a [route NAME] section", name, lineno, key);
			rc = -1;
			break;
		}
		if (check_value((size_t)i, val, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%d: %s", name, lineno, why);
			rc = -1;
			break;
		}
		slot = nr > 0 ? &newr[nr - 1].values[i] : &newv[i];
		free(*slot);
		if ((*slot = strdup(val)) == NULL) {
			snprintf(err, errlen, "%s:%d: out of memory", name, lineno);
			rc = -1;
		}
	}
	free(copy);
	for (size_t i = 0; i < NSET; i++) {
		if (rc == 0 && newv[i] != NULL) {
			free(values[i]);
			values[i] = newv[i];
		} else {
			free(newv[i]);
		}
	}
	if (rc == 0) {
		/* The file's routes replace the old ones, and a file without
		 * routes leaves none. */
		routes_free(routes, nroutes);
		memcpy(routes, newr, sizeof(*newr) * (size_t)nr);
		nroutes = nr;
	} else {
		routes_free(newr, nr);
	}
	free(newr);
	return rc;
}

static int
has_secret_set(void)
{
	for (size_t i = 0; i < NSET; i++)
		if (umfax_settings[i].secret && values[i] != NULL && *values[i] != '\0')
			return 1;
	return 0;
}

int
umfax_conf_load(const char *path, int must_exist, char *err, size_t errlen)
{
	FILE *fp;
	struct stat st;
	char *buf;
	size_t len;
	int rc;

	if (path == NULL) {
		path = getenv("UMFAX_CONFIG");
		if (path == NULL || *path == '\0')
			path = UMFAX_DEFAULT_CONFIG;
		else
			must_exist = 1;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 1024 * 1024) {
		snprintf(err, errlen, "%s: not a regular file of at most 1 MB", path);
		fclose(fp);
		return -1;
	}
	len = (size_t)st.st_size;
	if ((buf = malloc(len + 1)) == NULL || fread(buf, 1, len, fp) != len) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		free(buf);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	rc = umfax_conf_parse(path, buf, len, err, errlen);
	free(buf);
	if (rc == 0 && has_secret_set() && (st.st_mode & 077) != 0) {
		/* msmtp's check_secure(): a secret others can read is refused. */
		snprintf(err, errlen, "%s: holds a secret but is readable by others (mode %03o); chmod 600 it",
		    path, (unsigned)(st.st_mode & 0777));
		return -1;
	}
	if (rc == 0)
		snprintf(loaded_path, sizeof(loaded_path), "%s", path);
	return rc;
}

static size_t
must_lookup(const char *name, enum umfax_conf_type want)
{
	int i = lookup(name);

	if (i < 0 || (want != UMFAX_CONF_STRING && umfax_settings[i].type != want)) {
		fprintf(stderr, "umfax: internal error: no setting \"%s\" of that type\n", name);
		abort();
	}
	return (size_t)i;
}

const char *
umfax_conf_str(const char *name)
{
	return current(must_lookup(name, UMFAX_CONF_STRING));
}

long
umfax_conf_int(const char *name)
{
	return strtol(current(must_lookup(name, UMFAX_CONF_INT)), NULL, 10);
}

int
umfax_conf_bool(const char *name)
{
	int b = 0;

	(void)parse_bool(current(must_lookup(name, UMFAX_CONF_BOOL)), &b);
	return b;
}

int
umfax_conf_nroutes(void)
{
	return nroutes;
}

const char *
umfax_conf_route_name(int r)
{
	return r >= 0 && r < nroutes ? routes[r].name : NULL;
}

static const char *
route_current(int r, size_t i)
{
	if (r >= 0 && r < nroutes && routes[r].values[i] != NULL)
		return routes[r].values[i];
	if (r >= 0 && umfax_settings[i].scope == UMFAX_CONF_GLOBAL) {
		fprintf(stderr, "umfax: internal error: setting \"%s\" is not per route\n", umfax_settings[i].name);
		abort();
	}
	return current(i);
}

const char *
umfax_conf_rstr(int r, const char *name)
{
	return route_current(r, must_lookup(name, UMFAX_CONF_STRING));
}

long
umfax_conf_rint(int r, const char *name)
{
	return strtol(route_current(r, must_lookup(name, UMFAX_CONF_INT)), NULL, 10);
}

int
umfax_conf_rbool(int r, const char *name)
{
	int b = 0;

	(void)parse_bool(route_current(r, must_lookup(name, UMFAX_CONF_BOOL)), &b);
	return b;
}

int
umfax_conf_route_isset(int r, const char *name)
{
	return r >= 0 && r < nroutes && routes[r].values[must_lookup(name, UMFAX_CONF_STRING)] != NULL;
}

const char *
umfax_conf_path(void)
{
	return loaded_path[0] ? loaded_path : NULL;
}

void
umfax_conf_reset(void)
{
	for (size_t i = 0; i < NSET; i++) {
		free(values[i]);
		values[i] = NULL;
	}
	routes_free(routes, nroutes);
	nroutes = 0;
	loaded_path[0] = '\0';
}

/* "name = value", in quotes when the value begins or ends with a blank, so
 * that what is printed reads back the same. */
static void
print_line(FILE *fp, const char *prefix, const char *name, const char *v)
{
	size_t n = strlen(v);
	int q = n > 0 && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t' ||
	    (n >= 2 && v[0] == '"' && v[n - 1] == '"'));

	fprintf(fp, q ? "%s%s = \"%s\"\n" : "%s%s = %s\n", prefix, name, v);
}

void
umfax_conf_print(FILE *fp, int mode)
{
	for (size_t i = 0; i < NSET; i++) {
		const struct umfax_setting *s = &umfax_settings[i];
		const char *v;

		if (s->scope == UMFAX_CONF_ROUTE_ONLY)
			continue;
		if (mode == 'n' && (values[i] == NULL || strcmp(values[i], s->def) == 0))
			continue;
		v = mode == 'd' ? s->def : current(i);
		if (s->secret && mode != 'd' && *v != '\0')
			v = "(hidden)";
		print_line(fp, "", s->name, v);
	}
	if (mode == 'd')
		return;
	for (int r = 0; r < nroutes; r++) {
		fprintf(fp, "[route %s]\n", routes[r].name);
		for (size_t i = 0; i < NSET; i++) {
			const struct umfax_setting *s = &umfax_settings[i];

			if (s->scope == UMFAX_CONF_GLOBAL)
				continue;
			if (routes[r].values[i] != NULL)
				print_line(fp, "", s->name, routes[r].values[i]);
			else if (mode == 'a' && s->scope == UMFAX_CONF_ROUTE)
				print_line(fp, "# ", s->name, current(i));
		}
	}
}
