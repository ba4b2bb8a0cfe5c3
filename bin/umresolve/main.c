/* umresolve - find the recipient of a fax in the directory and apply the fax
 * policy (a pipeline stage), and the directory's cmdlet-like subcommands. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "dirjob.h"
#include "exits.h"
#include "log.h"
#include "stage.h"
#include "umresolve.h"

static const char usage[] =
"usage: umresolve [-qvw] [-c conf] [-d spool] [-j id] [--from normalized|received]\n"
"                 [-D directory.conf]                        (pipeline stage)\n"
"       umresolve [-D directory.conf] [--json] [-H] COMMAND [ARGS...]\n"
"commands:\n"
"  get-dialplan|get-policy|get-mailbox [NAME...]   list objects (tab-separated)\n"
"  new-dialplan NAME field=value...     new-policy NAME field=value...\n"
"  new-mailbox ALIAS field=value...     set-dialplan|set-policy|set-mailbox NAME field=value...\n"
"  remove-dialplan|remove-policy|remove-mailbox NAME\n"
"  import-mailboxes FILE.csv|-          add or update mailboxes from CSV (header row of fields)\n"
"  test-fax [NUMBER] [--diversion V] [--history-info V] [--recipient ADDR]\n"
"           [--dialplan NAME] [--gateway IP]   resolve and apply the fax rule\n"
"  check                                validate the directory file\n"
"  conf [-n | --defaults]               print umfax.conf settings (as postconf)\n"
"options:\n"
"  -c, --config FILE     umfax.conf           -d, --spool DIR      the spool\n"
"  -j, --job ID          one job              -q, --queue          queue runner\n"
"  -w, --wait            keep running (-q)    -v, --verbose        more log\n"
"  -D, --directory FILE  the directory file (default: directory_file setting)\n"
"      --from STATE      read normalized/ (default) or received/\n"
"      --json            JSON output           -H, --header        print a header row\n"
"  -n                    conf: only settings that differ from the default\n"
"      --defaults        conf: the compiled-in defaults\n"
"  -h, --help            this text            -V, --version        the version\n";

enum { OPT_FROM = 256, OPT_JSON, OPT_DEFAULTS, OPT_DIVERSION, OPT_HISTORY,
	OPT_RECIPIENT, OPT_DIALPLAN, OPT_GATEWAY };

static const struct option longopts[] = {
	UMFAX_COMMON_LONGOPTS,
	{ "directory",    required_argument, NULL, 'D' },
	{ "header",       no_argument,       NULL, 'H' },
	{ "from",         required_argument, NULL, OPT_FROM },
	{ "json",         no_argument,       NULL, OPT_JSON },
	{ "defaults",     no_argument,       NULL, OPT_DEFAULTS },
	{ "diversion",    required_argument, NULL, OPT_DIVERSION },
	{ "history-info", required_argument, NULL, OPT_HISTORY },
	{ "recipient",    required_argument, NULL, OPT_RECIPIENT },
	{ "dialplan",     required_argument, NULL, OPT_DIALPLAN },
	{ "gateway",      required_argument, NULL, OPT_GATEWAY },
	{ NULL, 0, NULL, 0 }
};

struct ctx {
	const char *path;          /* -D, or NULL for the setting */
	struct umfax_dir dir;
	int loaded;
};

/* The stage: load (or reload when it changed) the directory, resolve. */
static void resolve_job(struct umfax_job *job, void *arg, struct umfax_result *r)
{
	struct ctx *c = arg;
	char err[512];

	if (!c->loaded) {
		if (umfax_dir_load(&c->dir, c->path, err, sizeof err) < 0) {
			r->code = EX_CONFIG;     /* temporary: the job waits in deferred/ */
			snprintf(r->reason, sizeof r->reason, "directory: %.400s", err);
			return;
		}
		c->loaded = 1;
	} else if (umfax_dir_reload(&c->dir, err, sizeof err) < 0) {
		umfax_log(LOG_WARNING, NULL, NULL, "directory=unchanged error=\"%s\"", err);
	}
	struct umfax_dir_result res;
	r->code = umfax_dir_job(&c->dir, job, &res);
	if (r->code != EX_OK)
		snprintf(r->reason, sizeof r->reason, "%s", res.reason);
	else {
		char qm[300];
		umfax_log(LOG_INFO, umfax_job_id(job), umfax_job_get(job, "Call-Id"),
		    "recipient=%s mailbox=%s policy=%s source=%s matched=%s",
		    res.mailbox->smtp, res.mailbox->alias, res.policy->name, res.source,
		    umfax_log_quote(qm, sizeof qm, res.matched));
	}
}

int main(int argc, char **argv)
{
	struct umfax_opts o;
	struct umresolve_args a;
	struct ctx c;
	int ch, from = -1;

	umfax_stage_init("umresolve");
	memset(&o, 0, sizeof o);
	memset(&a, 0, sizeof a);
	memset(&c, 0, sizeof c);
	umfax_dir_init(&c.dir);
	while ((ch = getopt_long(argc, argv, UMFAX_COMMON_SHORTOPTS "D:Hn", longopts, NULL)) != -1) {
		if (umfax_opt_common(ch, optarg, &o, usage))
			continue;
		switch (ch) {
		case 'D': c.path = a.path = optarg; break;
		case 'H': a.header = 1; break;
		case 'n': a.conf_mode = 'n'; break;
		case OPT_DEFAULTS: a.conf_mode = 'd'; break;
		case OPT_JSON: a.json = 1; break;
		case OPT_DIVERSION: a.diversion = optarg; break;
		case OPT_HISTORY: a.history_info = optarg; break;
		case OPT_RECIPIENT: a.recipient = optarg; break;
		case OPT_DIALPLAN: a.dialplan = optarg; break;
		case OPT_GATEWAY: a.gateway = optarg; break;
		case OPT_FROM:
			from = umfax_state_from_name(optarg);
			if (from != UMFAX_NORMALIZED && from != UMFAX_RECEIVED) {
				fprintf(stderr, "umresolve: --from: \"%s\" is not normalized or received\n", optarg);
				return EX_USAGE;
			}
			break;
		default:
			fputs(usage, stderr);
			return EX_USAGE;
		}
	}
	umfax_stage_config(&o);
	if (!c.path && getenv("UMFAX_DIRECTORY") && *getenv("UMFAX_DIRECTORY"))
		c.path = getenv("UMFAX_DIRECTORY");
	if (optind < argc) {
		if (o.mode != UMFAX_MODE_FILTER) {
			fprintf(stderr, "umresolve: -q and -j do not go with a command\n");
			return EX_USAGE;
		}
		return umresolve_command(&a, argc - optind, argv + optind);
	}
	if (from < 0)
		from = umfax_state_from_name(umfax_conf_str("umresolve_input"));
	struct umfax_stage st = { "umresolve", from, UMFAX_RESOLVED, resolve_job, &c };
	int status = umfax_stage_run(&st, &o);
	umfax_dir_release(&c.dir);
	return status;
}
