/* t38recv - receive faxes; offline: decode the fax calls of a capture
 *
 *   t38recv -r call.pcap [-v] [--keep-empty] [--host A] [--port N] [--call-id ID]
 *
 * One job per fax on stdout (filter mode), or committed to received/ (-q). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "conf.h"
#include "exits.h"
#include "job.h"
#include "live.h"
#include "log.h"
#include "pcapsrc.h"
#include "spool.h"
#include "stage.h"
#include "t38replay.h"

static const char usage[] =
"usage: t38recv -r FILE [-qv] [-c CONF] [-d SPOOL] [--host ADDR] [--port N]\n"
"               [--call-id ID] [--keep-empty] [--t38-version N]\n"
"       t38recv --live | -l ADDR:PORT | --inetd ...   (the fax server: t38recv --live -h)\n"
"Decode the fax calls (T.38 over UDPTL or TCP, G.711) in a pcap/pcapng\n"
"capture; one job per fax on stdout, or into the spool's received/ with -q.\n"
"  -r FILE           the capture to read\n"
"  --host ADDR       only streams to or from ADDR\n"
"  --port N          only streams with port N\n"
"  --call-id ID      only the call with this SIP Call-ID\n"
"  --keep-empty      also emit a job (Status: no-pages) for a fax call without a page\n"
"  --t38-version N   decode T.38 as version N (0..3) whatever SDP says\n"
"  -q                commit the jobs to SPOOL/received instead of writing them out\n"
"  -v                explain each fax as T.30 frames on stderr (-vv: spandsp's log)\n"
"  -c CONF, -d SPOOL, -h, -V as in every umfax program\n";

enum { OPT_HOST = 256, OPT_PORT, OPT_CALLID, OPT_KEEP_EMPTY, OPT_T38_VERSION };

struct ctx {
	const struct umfax_stage *st;
	const struct umfax_opts *o;
	const char *file;
	int status;
	int jobs;
};

static int one_fax(void *arg, const struct umfax_replay_fax *fx)
{
	struct ctx *x = arg;
	struct umfax_job job;
	const struct umfax_faxinfo *in = &fx->info;

	umfax_job_init(&job);
	umfax_job_set_if(&job, "Call-Id", fx->call_id);
	umfax_job_set_if(&job, "Caller", fx->caller);
	umfax_job_set_if(&job, "Caller-Name", fx->caller_name);
	umfax_job_set_if(&job, "Called", fx->called);
	umfax_job_set_if(&job, "Recipient", fx->recipient);
	umfax_job_set_if(&job, "Um-Context", fx->um_context);
	umfax_job_set_if(&job, "Remote-Ident", in->remote_ident);
	umfax_job_set(&job, "Transport", fx->transport);
	umfax_faxinfo_to_job(&job, in);
	if (fx->t38_version >= 0)
		umfax_job_setf(&job, "T38-Version", "%d", fx->t38_version);
	umfax_job_set_if(&job, "Fax-Sender", fx->sender);
	umfax_job_set_if(&job, "Fax-Receiver", fx->receiver);
	umfax_job_set_time(&job, "Received-At", (time_t) fx->start);

	if (fx->tiff_path) {
		if (umfax_job_body_from_file(&job, fx->tiff_path) < 0) {
			umfax_log(LOG_ERR, NULL, fx->call_id[0] ? fx->call_id : NULL,
			    "file=%s error=\"cannot read the received TIFF: %s\"", fx->tiff_path, strerror(errno));
			umfax_job_release(&job);
			x->status = umfax_exit_worst(x->status, EX_IOERR);
			return 0;
		}
	}
	int rc = umfax_stage_emit(x->st, x->o, NULL, &job);
	char q[128];
	umfax_log(LOG_INFO, umfax_job_id(&job), fx->call_id[0] ? fx->call_id : NULL,
	    "capture=%s transport=%s pages=%d status=%s t30=%s remote=%s",
	    x->file, fx->transport, in->pages, umfax_fax_status_name(in->status),
	    umfax_log_quote(q, sizeof(q), in->t30_result), in->remote_ident[0] ? "known" : "none");
	x->status = umfax_exit_worst(x->status, rc);
	x->jobs++;
	umfax_job_release(&job);
	return rc == EX_IOERR ? rc : 0;   /* stdout gone: stop */
}

static void frame_log(void *arg, const char *line)
{
	(void) arg;
	fprintf(stderr, "%s\n", line);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		UMFAX_COMMON_LONGOPTS,
		{ "read",        required_argument, NULL, 'r' },
		{ "host",        required_argument, NULL, OPT_HOST },
		{ "port",        required_argument, NULL, OPT_PORT },
		{ "call-id",     required_argument, NULL, OPT_CALLID },
		{ "keep-empty",  no_argument,       NULL, OPT_KEEP_EMPTY },
		{ "t38-version", required_argument, NULL, OPT_T38_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	struct umfax_opts o = { 0 };
	struct umfax_replay_opts ro = { .t38_version = -1 };
	const char *file = NULL;
	int c, keep_empty_opt = 0;

	if (t38recv_live_requested(argc, argv))
		return t38recv_live_main(argc, argv);
	umfax_stage_init("t38recv");
	while ((c = getopt_long(argc, argv, UMFAX_COMMON_SHORTOPTS "r:", longopts, NULL)) != -1) {
		if (umfax_opt_common(c, optarg, &o, usage))
			continue;
		switch (c) {
		case 'r': file = optarg; break;
		case OPT_HOST: {
			uint8_t a[16];
			if (!umfax_pcapsrc_parse_addr(optarg, a)) {
				fprintf(stderr, "t38recv: --host: not an IPv4 or IPv6 address: %s\n", optarg);
				return EX_USAGE;
			}
			ro.host = optarg;
			break;
		}
		case OPT_PORT: ro.port = (int) umfax_opt_number(optarg, 1, 65535, "--port"); break;
		case OPT_CALLID: ro.call_id = optarg; break;
		case OPT_KEEP_EMPTY: keep_empty_opt = 1; break;
		case OPT_T38_VERSION: ro.t38_version = (int) umfax_opt_number(optarg, 0, 3, "--t38-version"); break;
		default:
			fputs(usage, stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc || !file || o.mode == UMFAX_MODE_JOB) {
		fprintf(stderr, "t38recv: %s\n", o.mode == UMFAX_MODE_JOB
		    ? "-j does not apply: t38recv makes jobs, it takes none"
		    : !file ? "-r FILE is required offline (--live to receive calls)"
		    : "unexpected argument");
		fputs(usage, stderr);
		return EX_USAGE;
	}
	umfax_stage_config(&o);
	ro.keep_empty = keep_empty_opt || umfax_conf_bool("t38recv_keep_empty");
	ro.local_ident = umfax_conf_str("local_ident");
	ro.frames = o.verbose > 0;
	ro.frame_log = frame_log;

	struct umfax_stage st = {
		.prog = "t38recv", .in = UMFAX_NONE, .out = UMFAX_RECEIVED,
	};
	struct ctx x = { .st = &st, .o = &o, .file = file, .status = EX_OK };
	char err[512];
	if (umfax_replay_file(file, &ro, one_fax, &x, err, sizeof(err)) < 0 && x.jobs == 0) {
		umfax_log_file_error(file, "%s", err);
		FILE *fp = fopen(file, "rb");
		if (!fp)
			return errno == EACCES ? EX_NOPERM : EX_NOINPUT;
		fclose(fp);
		return EX_DATAERR;
	}
	if (o.mode == UMFAX_MODE_FILTER && fflush(stdout) == EOF) {
		umfax_log(LOG_ERR, NULL, NULL, "file=stdout error=\"%s\"", strerror(errno));
		return EX_IOERR;
	}
	umfax_log(LOG_INFO, NULL, NULL, "capture=%s faxes=%d", file, x.jobs);
	return x.status;
}
