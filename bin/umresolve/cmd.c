/* cmd.c - umresolve's cmdlet-like subcommands: get-*, new-*, set-*, remove-*,
 * import-mailboxes, test-fax, check, conf.  Output for scripts: one object per
 * line, tab-separated columns in a fixed order ("-" for an empty value; tab,
 * newline and backslash escaped as \t \n \\), or --json. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "conf.h"
#include "directory.h"
#include "dirfile.h"
#include "log.h"
#include "umresolve.h"

/* ---- output ---------------------------------------------------------------- */

static void tsv(const char *s, int last)
{
	if (!s || !*s) {
		fputs("-", stdout);
	} else {
		for (; *s; s++) {
			if (*s == '\t') fputs("\\t", stdout);
			else if (*s == '\n') fputs("\\n", stdout);
			else if (*s == '\\') fputs("\\\\", stdout);
			else if ((unsigned char)*s < ' ') continue;
			else putchar(*s);
		}
	}
	putchar(last ? '\n' : '\t');
}

static void tsv_list(const char *const *v, size_t n, int last)
{
	char buf[4096] = "";
	for (size_t i = 0; i < n; i++)
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? "," : "", v[i]);
	tsv(buf, last);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') printf("\\%c", c);
		else if (c == '\n') fputs("\\n", stdout);
		else if (c == '\t') fputs("\\t", stdout);
		else if (c < ' ') printf("\\u%04x", c);
		else putchar(c);
	}
	putchar('"');
}

static void json_kv(const char *k, const char *v, int first)
{
	printf("%s", first ? "" : ", ");
	json_str(k);
	fputs(": ", stdout);
	json_str(v);
}

static void json_kb(const char *k, int v)
{
	printf(", \"%s\": %s", k, v ? "true" : "false");
}

static void json_list(const char *k, const char *const *v, size_t n)
{
	printf(", \"%s\": [", k);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", stdout);
		json_str(v[i]);
	}
	putchar(']');
}

static const char *tf(int b)
{
	return b ? "true" : "false";
}

/* ---- loading -------------------------------------------------------------------- */

static const char *dir_path(const struct umresolve_args *a)
{
	const char *p = a->path ? a->path : getenv("UMFAX_DIRECTORY");
	if (!p || !*p)
		p = umfax_conf_str("directory_file");
	return p;
}

static void diag_stderr(void *arg, const char *sev, const char *msg)
{
	(void)arg;
	fprintf(stderr, "umresolve: %s: %s\n", sev, msg);
}

static int load(const struct umresolve_args *a, struct umfax_dir *d, int quiet_warnings)
{
	char err[600];
	umfax_dir_init(d);
	if (!quiet_warnings)
		d->diag = diag_stderr;
	else
		d->diag = NULL;
	if (umfax_dir_load(d, dir_path(a), err, sizeof err) < 0) {
		if (!quiet_warnings && errno == EINVAL)
			return EX_CONFIG;         /* every error already printed */
		fprintf(stderr, "umresolve: %s\n", err);
		return errno == EINVAL ? EX_CONFIG : EX_NOINPUT;
	}
	return 0;
}

/* ---- get-* ---------------------------------------------------------------------- */

static void print_dialplan(const struct umresolve_args *a, const struct umfax_dialplan *p, int first)
{
	char digits[16];
	snprintf(digits, sizeof digits, "%d", p->extension_digits);
	if (a->json) {
		printf("%s{", first ? "" : ",\n ");
		json_kv("name", p->name, 1);
		json_kv("uri-type", umfax_uri_type_name(p->uri_type), 0);
		printf(", \"extension-digits\": %d", p->extension_digits);
		json_kv("phone-context", p->phone_context, 0);
		json_kv("country-code", p->country_code, 0);
		json_kb("fax-enabled", p->fax_enabled);
		fputs(", \"gateways\": [", stdout);
		const char *s = p->gateways_text;
		for (int k = 0; *s; k++) {
			size_t l = strcspn(s, ",");
			char item[256];
			const char *x = s, *y = s + l;
			while (x < y && isspace((unsigned char)*x)) x++;
			while (y > x && isspace((unsigned char)y[-1])) y--;
			snprintf(item, sizeof item, "%.*s", (int)(y - x), x);
			if (k)
				fputs(", ", stdout);
			json_str(item);
			s += l + (s[l] == ',');
		}
		fputs("]}", stdout);
		return;
	}
	tsv(p->name, 0);
	tsv(umfax_uri_type_name(p->uri_type), 0);
	tsv(digits, 0);
	tsv(p->phone_context, 0);
	tsv(p->country_code, 0);
	tsv(tf(p->fax_enabled), 0);
	tsv(p->gateways_text, 1);
}

static void print_policy(const struct umresolve_args *a, const struct umfax_policy *p, int first)
{
	if (a->json) {
		printf("%s{", first ? "" : ",\n ");
		json_kv("name", p->name, 1);
		json_kv("dialplan", p->dialplan ? p->dialplan->name : "", 0);
		json_kb("allow-fax", p->allow_fax);
		json_kv("fax-server-uri", p->fax_server_uri, 0);
		json_kv("fax-uri-used", p->fax_uri, 0);
		json_kv("fax-message-text", p->fax_message_text, 0);
		putchar('}');
		return;
	}
	tsv(p->name, 0);
	tsv(p->dialplan ? p->dialplan->name : "", 0);
	tsv(tf(p->allow_fax), 0);
	tsv(p->fax_server_uri, 0);
	tsv(p->fax_message_text, 1);
}

static void print_mailbox(const struct umresolve_args *a, const struct umfax_mailbox *m, int first)
{
	const struct umfax_policy *p = m->policy;
	if (a->json) {
		printf("%s{", first ? "" : ",\n ");
		json_kv("alias", m->alias, 1);
		json_kv("primary-smtp-address", m->smtp, 0);
		json_kv("display-name", m->display_name, 0);
		json_kv("policy", p ? p->name : "", 0);
		json_kv("dialplan", p && p->dialplan ? p->dialplan->name : "", 0);
		json_kb("fax-enabled", m->fax_enabled);
		json_list("extensions", m->extensions, m->nextensions);
		json_list("e164-addresses", m->e164, m->ne164);
		json_list("sip-addresses", m->sip, m->nsip);
		putchar('}');
		return;
	}
	tsv(m->alias, 0);
	tsv(m->smtp, 0);
	tsv(m->display_name, 0);
	tsv(p ? p->name : "", 0);
	tsv(p && p->dialplan ? p->dialplan->name : "", 0);
	tsv(tf(m->fax_enabled), 0);
	tsv_list(m->extensions, m->nextensions, 0);
	tsv_list(m->e164, m->ne164, 0);
	tsv_list(m->sip, m->nsip, 1);
}

static const char *const dp_head = "name\turi-type\textension-digits\tphone-context\tcountry-code\tfax-enabled\tgateways";
static const char *const po_head = "name\tdialplan\tallow-fax\tfax-server-uri\tfax-message-text";
static const char *const mb_head = "alias\tprimary-smtp-address\tdisplay-name\tpolicy\tdialplan\tfax-enabled\textensions\te164-addresses\tsip-addresses";

static int cmd_get(const struct umresolve_args *a, int kind, int argc, char **argv)
{
	struct umfax_dir d;
	int rc = load(a, &d, 0), first = 1;
	if (rc)
		return rc;
	if (a->json)
		putchar('[');
	else if (a->header)
		puts(kind == UMFAX_DIRKIND_DIALPLAN ? dp_head : kind == UMFAX_DIRKIND_POLICY ? po_head : mb_head);
	size_t n = kind == UMFAX_DIRKIND_DIALPLAN ? d.ndialplans :
	    kind == UMFAX_DIRKIND_POLICY ? d.npolicies : d.nmailboxes;
	size_t count = argc > 1 ? (size_t)(argc - 1) : n;
	for (size_t i = 0; i < count; i++) {
		const void *o;
		if (argc > 1) {
			const char *name = argv[i + 1];
			o = kind == UMFAX_DIRKIND_DIALPLAN ? (const void *)umfax_dir_dialplan(&d, name) :
			    kind == UMFAX_DIRKIND_POLICY ? (const void *)umfax_dir_policy(&d, name) :
			    (const void *)umfax_dir_mailbox(&d, name);
			if (!o && kind == UMFAX_DIRKIND_MAILBOX)
				o = umfax_dir_mailbox_smtp(&d, name);
			if (!o) {
				fprintf(stderr, "umresolve: no %s %s\n", umfax_dirkind_name(kind), name);
				rc = EX_NOINPUT;
				continue;
			}
		} else {
			o = kind == UMFAX_DIRKIND_DIALPLAN ? (const void *)&d.dialplans[i] :
			    kind == UMFAX_DIRKIND_POLICY ? (const void *)&d.policies[i] :
			    (const void *)&d.mailboxes[i];
		}
		if (kind == UMFAX_DIRKIND_DIALPLAN)
			print_dialplan(a, o, first);
		else if (kind == UMFAX_DIRKIND_POLICY)
			print_policy(a, o, first);
		else
			print_mailbox(a, o, first);
		first = 0;
	}
	if (a->json)
		puts("]");
	umfax_dir_release(&d);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "umresolve: stdout: %s\n", strerror(errno));
		return EX_IOERR;
	}
	return rc;
}

/* ---- new-* / set-* / remove-* ------------------------------------------------- */

static int apply(const struct umresolve_args *a, const struct umfax_dirchange *ch, size_t n)
{
	char err[1024];
	int rc = umfax_dirfile_apply(dir_path(a), ch, n, (int)umfax_conf_int("umresolve_lock_timeout"),
	    err, sizeof err);
	if (rc)
		fprintf(stderr, "umresolve: %s\n", err);
	return rc;
}

static int cmd_change(const struct umresolve_args *a, enum umfax_dirop op, int kind,
    int argc, char **argv)
{
	struct umfax_dirchange ch;
	if (argc < 2) {
		fprintf(stderr, "umresolve: %s: which %s?\n", argv[0], umfax_dirkind_name(kind));
		return EX_USAGE;
	}
	if (op == UMFAX_DIROP_REMOVE && argc > 2) {
		fprintf(stderr, "umresolve: %s takes one name\n", argv[0]);
		return EX_USAGE;
	}
	memset(&ch, 0, sizeof ch);
	ch.op = op;
	ch.kind = kind;
	ch.name = argv[1];
	ch.fields = (const char *const *)argv + 2;
	ch.nfields = (size_t)(argc - 2);
	return apply(a, &ch, 1);
}

/* ---- import-mailboxes --------------------------------------------------------- */

/* Append CH to the cell *B (BL bytes, room for BC), growing it so that a NUL
 * still fits.  0, or -1 on no memory (*B is still the caller's to free). */
static int cell_add(char **b, size_t *bl, size_t *bc, char ch)
{
	if (*bl + 2 >= *bc) {
		char *nb = realloc(*b, *bc * 2);
		if (!nb)
			return -1;
		*b = nb;
		*bc *= 2;
	}
	(*b)[(*bl)++] = ch;
	return 0;
}

/* Split one CSV record (RFC 4180) from *P into malloc'd cells.  Returns the
 * number of cells, 0 at the end, -1 on a bad quote. */
static int csv_record(const char **p, char ***cellsp)
{
	const char *s = *p;
	if (!*s)
		return 0;
	size_t cap = 8, n = 0;
	char **cells = malloc(cap * sizeof *cells);
	if (!cells)
		return -1;
	for (;;) {
		size_t bl = 0, bc = 64;
		char *b = malloc(bc);
		if (!b)
			goto bad;
		if (*s == '"') {
			s++;
			for (;;) {
				if (!*s) {
					free(b);
					goto bad;
				}
				char ch;
				if (*s == '"' && s[1] == '"') {
					s += 2;
					ch = '"';
				} else if (*s == '"') {
					s++;
					break;
				} else {
					ch = *s++;
				}
				if (cell_add(&b, &bl, &bc, ch) < 0) {
					free(b);
					goto bad;
				}
			}
		} else {
			while (*s && *s != ',' && *s != '\n' && *s != '\r') {
				if (cell_add(&b, &bl, &bc, *s++) < 0) {
					free(b);
					goto bad;
				}
			}
		}
		b[bl] = '\0';
		if (n == cap) {
			char **nc = realloc(cells, (cap *= 2) * sizeof *nc);
			if (!nc) {
				free(b);
				goto bad;
			}
			cells = nc;
		}
		cells[n++] = b;
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s == '\r')
			s++;
		if (*s == '\n')
			s++;
		else if (*s) {
			goto bad;        /* text after a closing quote */
		}
		break;
	}
	*p = s;
	*cellsp = cells;
	return (int)n;
bad:
	while (n)
		free(cells[--n]);
	free(cells);
	return -1;
}

static char *slurp(const char *path)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!fp)
		return NULL;
	size_t cap = 65536, len = 0, r;
	char *buf = malloc(cap);
	while (buf && (r = fread(buf + len, 1, cap - len - 1, fp)) > 0) {
		len += r;
		if (len + 1 == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				buf = NULL;
			}
			buf = nb;
		}
	}
	if (buf && ferror(fp)) {
		free(buf);
		buf = NULL;
	}
	if (fp != stdin)
		fclose(fp);
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* The field a CSV column names: a field name ("primary-smtp-address"),
 * or the Exchange property of an export of Get-UMMailbox / Get-Mailbox
 * ("PrimarySmtpAddress", "UMMailboxPolicy"), any case, blanks ignored.
 * "alias" for the alias column; NULL when unknown. */
static const char *column_field(const char *col, const char *const *fields)
{
	static const char *const exch[][2] = {
		{ "alias", "alias" }, { "primarysmtpaddress", "primary-smtp-address" },
		{ "windowsemailaddress", "primary-smtp-address" }, { "ummailboxpolicy", "policy" },
		{ "mailboxpolicy", "policy" }, { "extension", "extensions" },
		{ "displayname", "display-name" }, { "faxenabled", "fax-enabled" },
		{ "sipresourceidentifier", "sip-addresses" }, { "sipaddress", "sip-addresses" },
		{ "e164address", "e164-addresses" }, { "phonenumber", "e164-addresses" },
	};
	char key[64];
	size_t o = 0;
	for (const char *p = col; *p && o + 1 < sizeof key; p++)
		if (isalnum((unsigned char)*p))
			key[o++] = (char)tolower((unsigned char)*p);
	key[o] = '\0';
	for (int k = 0; fields[k]; k++) {
		char fk[64];
		size_t q = 0;
		for (const char *p = fields[k]; *p && q + 1 < sizeof fk; p++)
			if (*p != '-')
				fk[q++] = *p;
		fk[q] = '\0';
		if (strcmp(key, fk) == 0)
			return fields[k];
	}
	for (size_t k = 0; k < sizeof exch / sizeof exch[0]; k++)
		if (strcmp(key, exch[k][0]) == 0)
			return exch[k][1];
	return NULL;
}

static int cmd_import(const struct umresolve_args *a, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "umresolve: import-mailboxes FILE.csv (or - for stdin)\n");
		return EX_USAGE;
	}
	char *text = slurp(argv[1]);
	if (!text) {
		fprintf(stderr, "umresolve: %s: %s\n", argv[1], strerror(errno));
		return EX_NOINPUT;
	}
	const char *p = text;
	char **head = NULL, **cells;
	if (strncmp(p, "\xef\xbb\xbf", 3) == 0)     /* a spreadsheet's UTF-8 BOM */
		p += 3;
	int nh = csv_record(&p, &head), rc = 0, line = 1, aliascol = -1;
	const char *const *fields = umfax_dir_fields("mailbox");
	struct umfax_dirchange *ch = NULL;
	size_t nch = 0, capch = 0;
	if (nh <= 0) {
		fprintf(stderr, "umresolve: %s: no header row (alias,primary-smtp-address,policy,...)\n", argv[1]);
		free(text);
		return EX_DATAERR;
	}
	for (int i = 0; i < nh; i++) {
		const char *f = column_field(head[i], fields);
		if (!f) {
			fprintf(stderr, "umresolve: %s:1: unknown column \"%s\"\n", argv[1], head[i]);
			rc = EX_DATAERR;
			continue;
		}
		if (strcmp(f, "alias") == 0)
			aliascol = i;
		char *nf = strdup(f);
		if (!nf) {
			rc = EX_OSERR;
			continue;
		}
		free(head[i]);
		head[i] = nf;
	}
	if (aliascol < 0) {
		fprintf(stderr, "umresolve: %s:1: no alias column\n", argv[1]);
		rc = EX_DATAERR;
	}
	int nc;
	while (rc == 0 && (nc = csv_record(&p, &cells)) != 0) {
		line++;
		if (nc < 0) {
			fprintf(stderr, "umresolve: %s:%d: bad CSV quoting\n", argv[1], line);
			rc = EX_DATAERR;
			break;
		}
		if (nc == 1 && !cells[0][0]) {       /* empty line */
			free(cells[0]);
			free(cells);
			continue;
		}
		if (nc != nh) {
			fprintf(stderr, "umresolve: %s:%d: %d cells, the header has %d\n", argv[1], line, nc, nh);
			rc = EX_DATAERR;
		} else if (!cells[aliascol][0]) {
			fprintf(stderr, "umresolve: %s:%d: empty alias\n", argv[1], line);
			rc = EX_DATAERR;
		} else if (nch == capch) {
			struct umfax_dirchange *nn = realloc(ch, (capch = capch ? capch * 2 : 64) * sizeof *nn);
			if (!nn)
				rc = EX_OSERR;
			else
				ch = nn;
		}
		if (rc == 0) {
			char **fv = calloc((size_t)nh, sizeof *fv);
			size_t k = 0;
			for (int i = 0; fv && i < nh; i++) {
				if (i == aliascol)
					continue;
				size_t l = strlen(head[i]) + strlen(cells[i]) + 2;
				if ((fv[k] = malloc(l)))
					snprintf(fv[k++], l, "%s=%s", head[i], cells[i]);
			}
			ch[nch].op = UMFAX_DIROP_UPSERT;
			ch[nch].kind = UMFAX_DIRKIND_MAILBOX;
			ch[nch].name = strdup(cells[aliascol]);
			ch[nch].fields = (const char *const *)fv;
			ch[nch].nfields = k;
			nch++;
			if (!fv || !ch[nch - 1].name)
				rc = EX_OSERR;
		}
		for (int i = 0; i < nc; i++)
			free(cells[i]);
		free(cells);
	}
	if (rc == 0 && nch)
		rc = apply(a, ch, nch);
	else if (rc == 0)
		fprintf(stderr, "umresolve: %s: no mailboxes\n", argv[1]);
	if (rc == 0)
		fprintf(stderr, "umresolve: imported %zu mailboxes\n", nch);
	for (size_t i = 0; i < nch; i++) {
		for (size_t k = 0; k < ch[i].nfields; k++)
			free((char *)ch[i].fields[k]);
		free((void *)ch[i].fields);
		free((char *)ch[i].name);
	}
	free(ch);
	for (int i = 0; i < nh; i++)
		free(head[i]);
	free(head);
	free(text);
	return rc;
}

/* ---- test-fax ------------------------------------------------------------------- */

static int cmd_test(const struct umresolve_args *a, int argc, char **argv)
{
	struct umfax_dir d;
	struct umfax_dir_query q;
	struct umfax_dir_result r;
	struct sockaddr_storage ss;
	int rc;

	if (argc > 2) {
		fprintf(stderr, "umresolve: test-fax [NUMBER] [--diversion V] [--history-info V] [--recipient ADDR]\n");
		return EX_USAGE;
	}
	memset(&q, 0, sizeof q);
	q.called = argc == 2 ? argv[1] : NULL;
	q.diversion = a->diversion;
	q.history_info = a->history_info;
	q.recipient = a->recipient;
	q.dialplan = a->dialplan;
	if (!q.called && !q.diversion && !q.history_info && !q.recipient) {
		fprintf(stderr, "umresolve: test-fax: give a NUMBER, --diversion, --history-info or --recipient\n");
		return EX_USAGE;
	}
	if (a->gateway) {
		memset(&ss, 0, sizeof ss);
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		if (inet_pton(AF_INET, a->gateway, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			q.gateway_len = sizeof *s4;
		} else if (inet_pton(AF_INET6, a->gateway, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			q.gateway_len = sizeof *s6;
		} else {
			fprintf(stderr, "umresolve: --gateway: \"%s\" is not an IP address\n", a->gateway);
			return EX_USAGE;
		}
		q.gateway = (struct sockaddr *)&ss;
	}
	if ((rc = load(a, &d, 0)))
		return rc;
	umfax_dir_resolve(&d, &q, &r);
	const struct umfax_mailbox *m = r.mailbox;
	if (a->json) {
		putchar('{');
		json_kv("verdict", umfax_dir_verdict_name(r.verdict), 1);
		json_kv("alias", m ? m->alias : "", 0);
		json_kv("primary-smtp-address", m ? m->smtp : "", 0);
		json_kv("display-name", m ? m->display_name : "", 0);
		json_kv("policy", r.policy ? r.policy->name : "", 0);
		json_kv("dialplan", r.dialplan ? r.dialplan->name : "", 0);
		json_kv("fax-server-uri", r.fax_uri ? r.fax_uri : "", 0);
		json_kv("source", r.source ? r.source : "", 0);
		json_kv("matched", r.matched, 0);
		json_kv("extension", r.extension, 0);
		json_kv("reason", r.reason, 0);
		puts("}");
	} else {
		if (a->header)
			puts("verdict\talias\tprimary-smtp-address\tpolicy\tdialplan\tfax-server-uri\tsource\tmatched\textension\treason");
		tsv(umfax_dir_verdict_name(r.verdict), 0);
		tsv(m ? m->alias : "", 0);
		tsv(m ? m->smtp : "", 0);
		tsv(r.policy ? r.policy->name : "", 0);
		tsv(r.dialplan ? r.dialplan->name : "", 0);
		tsv(r.fax_uri, 0);
		tsv(r.source, 0);
		tsv(r.matched, 0);
		tsv(r.extension, 0);
		tsv(r.reason, 1);
	}
	umfax_dir_release(&d);
	if (fflush(stdout) != 0 || ferror(stdout))
		return EX_IOERR;
	return r.verdict == UMFAX_DIR_ALLOW ? EX_OK : r.verdict == UMFAX_DIR_NOT_FOUND ? EX_NOUSER : EX_NOPERM;
}

/* ---- check, conf ----------------------------------------------------------------- */

static int cmd_check(const struct umresolve_args *a, int argc, char **argv)
{
	struct umfax_dir d;
	int rc;
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "umresolve: check takes no arguments (use -D FILE)\n");
		return EX_USAGE;
	}
	if ((rc = load(a, &d, 0)))
		return rc;
	printf("%s: ok: %zu dial plans, %zu policies, %zu mailboxes, %d warnings\n", d.path,
	    d.ndialplans, d.npolicies, d.nmailboxes, d.nwarnings);
	umfax_dir_release(&d);
	return EX_OK;
}

static int cmd_conf(const struct umresolve_args *a, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "umresolve: conf [-n | --defaults]\n");
		return EX_USAGE;
	}
	umfax_conf_print(stdout, a->conf_mode ? a->conf_mode : 'a');
	if (fflush(stdout) != 0 || ferror(stdout))
		return EX_IOERR;
	return EX_OK;
}

/* ---- dispatch ------------------------------------------------------------------ */

/* "Set-UMMailboxPolicy" -> "set-policy", "get-UMDialPlan" -> "get-dialplan". */
static void normalize(const char *in, char *out, size_t n)
{
	size_t o = 0;
	for (; *in && o + 1 < n; in++)
		out[o++] = (char)tolower((unsigned char)*in);
	out[o] = '\0';
	char *dash = strchr(out, '-');
	if (dash && strncmp(dash + 1, "um", 2) == 0 && strncmp(dash + 1, "umresolve", 9) != 0)
		memmove(dash + 1, dash + 3, strlen(dash + 3) + 1);
	if (dash && strcmp(dash + 1, "mailboxpolicy") == 0)
		strcpy(dash + 1, "policy");
}

int umresolve_command(const struct umresolve_args *a, int argc, char **argv)
{
	static const char *const kn[] = { "dialplan", "policy", "mailbox" };
	char cmd[64];
	normalize(argv[0], cmd, sizeof cmd);
	for (int k = 0; k < 3; k++) {
		char buf[64];
		snprintf(buf, sizeof buf, "get-%s", kn[k]);
		if (strcmp(cmd, buf) == 0)
			return cmd_get(a, k, argc, argv);
		snprintf(buf, sizeof buf, "new-%s", kn[k]);
		if (strcmp(cmd, buf) == 0)
			return cmd_change(a, UMFAX_DIROP_NEW, k, argc, argv);
		snprintf(buf, sizeof buf, "set-%s", kn[k]);
		if (strcmp(cmd, buf) == 0)
			return cmd_change(a, UMFAX_DIROP_SET, k, argc, argv);
		snprintf(buf, sizeof buf, "remove-%s", kn[k]);
		if (strcmp(cmd, buf) == 0)
			return cmd_change(a, UMFAX_DIROP_REMOVE, k, argc, argv);
	}
	if (strcmp(cmd, "import-mailboxes") == 0 || strcmp(cmd, "import-mailbox") == 0)
		return cmd_import(a, argc, argv);
	if (strcmp(cmd, "test-fax") == 0)
		return cmd_test(a, argc, argv);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(a, argc, argv);
	if (strcmp(cmd, "conf") == 0)
		return cmd_conf(a, argc, argv);
	fprintf(stderr, "umresolve: unknown command \"%s\" (see umresolve -h)\n", argv[0]);
	return EX_USAGE;
}
