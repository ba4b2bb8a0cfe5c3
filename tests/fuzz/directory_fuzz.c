/* directory_fuzz.c - the directory parser, the resolver on what it loaded,
 * the address, gateway and FaxServerURI parsers, and the file editor. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "directory.h"
#include "dirfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(void *arg, const char *sev, const char *msg)
{
	(void)arg; (void)sev; (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct umfax_dir d;
	char err[512], user[128], uh[256], first[256], why[256];
	struct umfax_iprange r;

	/* the first line as a lone value for the small parsers */
	size_t l = 0;
	while (l < size && l < 300 && data[l] != '\n')
		l++;
	char *line = malloc(l + 1);
	if (!line)
		return 0;
	memcpy(line, data, l);
	line[l] = '\0';
	umfax_dir_addr_user(line, user, sizeof user, uh, sizeof uh);
	umfax_iprange_parse(line, &r);
	umfax_dir_faxuri_check(line, first, sizeof first, why, sizeof why);

	umfax_dir_init(&d);
	d.diag = quiet;
	if (umfax_dir_parse(&d, "fuzz", (const char *)data, size, err, sizeof err) == 0) {
		struct umfax_dir_query q = { .called = line, .diversion = line, .history_info = line };
		struct umfax_dir_result res;
		umfax_dir_resolve(&d, &q, &res);
		q.recipient = line;
		umfax_dir_resolve(&d, &q, &res);
		for (size_t i = 0; i < d.nmailboxes && i < 50; i++) {
			const struct umfax_mailbox *m = &d.mailboxes[i];
			int telextn = m->policy && m->policy->dialplan &&
			    m->policy->dialplan->uri_type == UMFAX_URI_TELEXTN;
			for (size_t k = 0; k < m->nextensions; k++) {
				struct umfax_dir_query q2 = { .called = m->extensions[k] };
				umfax_dir_resolve(&d, &q2, &res);
				/* an extension in a telextn dial plan finds a mailbox
				 * (maybe an exact E.164 match or a shorter extension of
				 * an earlier dial plan, never nothing); e164 and sipname
				 * dial plans do not look numbers up as extensions */
				if (telextn && !res.mailbox)
					abort();
			}
			umfax_dir_check(m, &res);
			if (umfax_dir_mailbox(&d, m->alias) == NULL)
				abort();
		}
		/* an edit that keeps the file valid must give a valid file */
		if (d.nmailboxes > 0) {
			const char *f[] = { "display-name=Fuzz Name" };
			struct umfax_dirchange ch = { UMFAX_DIROP_SET, UMFAX_DIRKIND_MAILBOX,
				d.mailboxes[0].alias, f, 1 };
			char *out;
			size_t outlen;
			if (umfax_dirfile_edit((const char *)data, size, &ch, 1, &out, &outlen, err, sizeof err) == 0) {
				struct umfax_dir d2;
				umfax_dir_init(&d2);
				d2.diag = quiet;
				if (umfax_dir_parse(&d2, "edit", out, outlen, err, sizeof err) != 0)
					abort();
				if (d2.nmailboxes != d.nmailboxes)
					abort();
				umfax_dir_release(&d2);
				free(out);
			}
		}
	}
	umfax_dir_release(&d);

	/* the editor on any text */
	{
		const char *f[] = { "fax-enabled=false", "gateways=10.0.0.0/8" };
		struct umfax_dirchange ch[] = {
			{ UMFAX_DIROP_SET, UMFAX_DIRKIND_DIALPLAN, "dp", f, 1 },
			{ UMFAX_DIROP_UPSERT, UMFAX_DIRKIND_DIALPLAN, "x", f + 1, 1 },
			{ UMFAX_DIROP_REMOVE, UMFAX_DIRKIND_MAILBOX, "tony", NULL, 0 },
		};
		char *out;
		size_t outlen;
		for (int i = 0; i < 3; i++)
			if (umfax_dirfile_edit((const char *)data, size, &ch[i], 1, &out, &outlen, err, sizeof err) == 0)
				free(out);
	}
	free(line);
	return 0;
}
