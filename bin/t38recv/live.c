/* live.c - t38recv as the fax server: options of live mode, then lib/t38live
 *
 *   t38recv --live [-l ADDR:PORT] [--tcp-port N] [-c CONF] [-d SPOOL] [-v]
 *   t38recv --inetd            (inetd "nowait" on the T.38 TCP port) */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "conf.h"
#include "exits.h"
#include "live.h"
#include "log.h"
#include "stage.h"
#include "t38live.h"

static const char usage[] =
"usage: t38recv --live [-v] [-c CONF] [-d SPOOL] [-l ADDR:PORT] [--tcp-port N]\n"
"       t38recv --inetd [-v] [-c CONF] [-d SPOOL]\n"
"Receive faxes live: a SIP server for T.38 (UDPTL, TCP/TPKT) and G.711 calls;\n"
"each call becomes a job in SPOOL/received.\n"
"  --live            run the fax server (implied by -l and --inetd)\n"
"  -l, --listen ADDR:PORT  SIP on UDP and TCP (default: setting t38live_listen)\n"
"  --tcp-port N      T.38 over TCP port, 0 for none (default: t38live_tcp_port)\n"
"  --inetd           fd 0 is a T.38/TPKT connection accepted by inetd (nowait)\n"
"  --max-calls N     exit after N calls have ended (tests)\n"
"  --max-seconds N   exit after N seconds (tests)\n"
"  -v                log each T.30 frame (-vv: spandsp's own log)\n"
"  -c CONF, -d SPOOL, -h, -V as in every umfax program\n";

enum { OPT_LIVE = 300, OPT_TCP_PORT, OPT_INETD, OPT_MAX_CALLS, OPT_MAX_SECONDS };

int t38recv_live_requested(int argc, char **argv)
{
	int i;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--live") == 0 || strcmp(argv[i], "--inetd") == 0 ||
		    strcmp(argv[i], "-l") == 0 || strncmp(argv[i], "--listen", 8) == 0 ||
		    (strncmp(argv[i], "-l", 2) == 0 && argv[i][2] != '-'))
			return 1;
	}
	return 0;
}

/* Each call holds a media socket and its open TIFF (T.38/TCP: the
 * connection too): raise the soft open-file limit to the hard one, since
 * the usual soft 1024 stops a server near 500 calls. */
static void raise_nofile(void)
{
	struct rlimit rl;
	long need = 3 * umfax_conf_int("t38live_max_calls") + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && (long) rl.rlim_cur < need)
		umfax_log(LOG_WARNING, NULL, NULL, "event=fd-limit limit=%lu want=%ld note=\"fewer calls than t38live_max_calls may fit\"",
		    (unsigned long) rl.rlim_cur, need);
}

int t38recv_live_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		UMFAX_COMMON_LONGOPTS,
		{ "live",        no_argument,       NULL, OPT_LIVE },
		{ "listen",      required_argument, NULL, 'l' },
		{ "tcp-port",    required_argument, NULL, OPT_TCP_PORT },
		{ "inetd",       no_argument,       NULL, OPT_INETD },
		{ "max-calls",   required_argument, NULL, OPT_MAX_CALLS },
		{ "max-seconds", required_argument, NULL, OPT_MAX_SECONDS },
		{ NULL, 0, NULL, 0 }
	};
	struct umfax_opts o = { 0 };
	struct umfax_t38live_cfg cfg = { .tcp_port = -1 };
	int c;

	umfax_stage_init("t38recv");
	while ((c = getopt_long(argc, argv, UMFAX_COMMON_SHORTOPTS "l:", longopts, NULL)) != -1) {
		if (umfax_opt_common(c, optarg, &o, usage))
			continue;
		switch (c) {
		case OPT_LIVE: break;
		case 'l': cfg.listen = optarg; break;
		case OPT_TCP_PORT: cfg.tcp_port = (int) umfax_opt_number(optarg, 0, 65535, "--tcp-port"); break;
		case OPT_INETD: cfg.inetd = 1; break;
		case OPT_MAX_CALLS: cfg.max_calls = (int) umfax_opt_number(optarg, 1, 1000000, "--max-calls"); break;
		case OPT_MAX_SECONDS: cfg.max_seconds = (int) umfax_opt_number(optarg, 1, 31536000, "--max-seconds"); break;
		default:
			fputs(usage, stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc || o.mode != UMFAX_MODE_FILTER) {
		fprintf(stderr, "t38recv: %s\n", optind < argc ? "unexpected argument"
		    : "-q, -j and -w do not apply to live mode: its jobs always go to SPOOL/received");
		fputs(usage, stderr);
		return EX_USAGE;
	}
	umfax_stage_config(&o);
	raise_nofile();
	if (o.spool)
		cfg.spool = o.spool;
	else if (getenv("UMFAX_SPOOL") && *getenv("UMFAX_SPOOL"))
		cfg.spool = getenv("UMFAX_SPOOL");
	else
		cfg.spool = umfax_conf_str("spool_directory");
	return umfax_t38live_run(&cfg);
}
