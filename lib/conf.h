/* conf.h - umfax.conf: "name = value" lines, every setting with a compiled-in default
 *
 * The settings of all programs are in one table (conf.c), so that every
 * program accepts the whole file and an administrator can ask what is set
 * (umfax_conf_print, as postconf -n / -d do). */
#ifndef UMFAX_CONF_H
#define UMFAX_CONF_H

#include <stdio.h>

#define UMFAX_DEFAULT_CONFIG "/etc/umfax/umfax.conf"

enum umfax_conf_type { UMFAX_CONF_STRING, UMFAX_CONF_INT, UMFAX_CONF_BOOL, UMFAX_CONF_ENUM };

/* Where a setting may stand: before the first [route NAME] section only
 * (S() in settings/PROG.def), there or in a route (R()), or in a route only
 * (RO(): what chooses the route). */
enum umfax_conf_scope { UMFAX_CONF_GLOBAL, UMFAX_CONF_ROUTE, UMFAX_CONF_ROUTE_ONLY };

#define UMFAX_CONF_MAX_ROUTES     64
#define UMFAX_CONF_ROUTE_NAME_MAX 63

struct umfax_setting {
	const char *name;
	enum umfax_conf_type type;
	const char *def;          /* compiled-in default, as text */
	long min, max;            /* INT: range */
	const char *choices;      /* ENUM: "a|b|c" */
	const char *help;         /* one line for umfax.conf(5) and --help */
	int secret;               /* value not printed; file must not be readable by others */
	enum umfax_conf_scope scope;
};

/* Load PATH (NULL: $UMFAX_CONFIG, else the default).  A missing file is not
 * an error when PATH was not given explicitly (MUST_EXIST == 0).  Errors name
 * the file and line: "umfax.conf:12: unknown setting \"foo\"".  Unknown
 * settings are errors; bad values are errors.  0, or -1 with ERR. */
int umfax_conf_load(const char *path, int must_exist, char *err, size_t errlen);

/* Parse a whole file in memory (fuzz target, tests).  NAME is used in errors. */
int umfax_conf_parse(const char *name, const char *buf, size_t len,
    char *err, size_t errlen);

/* Set one value as if read from a file ("-o name=value"). 0 or -1 with ERR. */
int umfax_conf_set(const char *name, const char *value, char *err, size_t errlen);

/* Current values.  Asking for an unknown name is a programming error: it
 * aborts. */
const char *umfax_conf_str(const char *name);
long umfax_conf_int(const char *name);
int umfax_conf_bool(const char *name);

/* Routes: "[route NAME]" sections after the global settings, in file order.
 * R is 0 .. umfax_conf_nroutes()-1, or -1 for the global values.  A route's
 * value of a setting it does not set is the global one.  Asking a route for
 * a setting that cannot be per route is a programming error: it aborts. */
int umfax_conf_nroutes(void);
const char *umfax_conf_route_name(int r);
const char *umfax_conf_rstr(int r, const char *name);
long umfax_conf_rint(int r, const char *name);
int umfax_conf_rbool(int r, const char *name);
int umfax_conf_route_isset(int r, const char *name);

/* The path that was loaded, or NULL. */
const char *umfax_conf_path(void);

/* Back to compiled-in defaults (tests). */
void umfax_conf_reset(void);

/* Print "name = value" lines: MODE 'n' only non-default, 'd' the defaults,
 * 'a' all current values.  Secrets print as "(hidden)". */
void umfax_conf_print(FILE *fp, int mode);

/* The table, terminated by a NULL name. */
extern const struct umfax_setting umfax_settings[];

#endif
