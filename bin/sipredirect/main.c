/* sipredirect - the UM side of incoming fax: redirect each diverted call whose
 * user may receive faxes to the fax server of the user's mailbox policy.
 * See sipredirect(8).  The work is in lib/sipredir.c (the answer to one
 * request) and lib/sipsrv.c (sockets, loop, transactions). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "directory.h"
#include "exits.h"
#include "log.h"
#include "sipmsg.h"
#include "sipredir.h"
#include "sipsrv.h"
#include "stage.h"

static const char usage[] =
    "usage: sipredirect [-v] [-c CONFIG] [-d SPOOL] [-f DIRECTORY] [-l [udp:|tcp:]ADDR:PORT]...\n"
    "                   [-m redirect|refer] [--stateless | --stateful] [--inetd] [-n]\n"
    "Answer SIP INVITEs for diverted calls: 302 to the fax server of the called\n"
    "user's mailbox policy when the directory allows faxes, else a final answer\n"
    "whose Warning says why.  Default listen 0.0.0.0:5060 over UDP and TCP.\n"
    "  -c FILE        umfax.conf to read\n"
    "  -d DIR         spool directory (refer mode: missed-call jobs)\n"
    "  -f FILE        directory file (default: directory_file setting)\n"
    "  -l ADDR:PORT   listen there (repeatable); prefix udp: or tcp: for one transport\n"
    "  -m MODE        redirect (302, default: sipredirect_mode) or refer (answer,\n"
    "                 detect the fax: re-INVITE, CNG tone or event in the RTP;\n"
    "                 REFER to the fax server, BYE)\n"
    "  -n             check the configuration and the directory, then exit\n"
    "  --stateless    answer every request afresh (default: sipredirect_transactions)\n"
    "  --stateful     INVITE server transactions, retransmit the answer until the ACK\n"
    "  --inetd        serve the socket on fd 0 (automatic when fd 0 is a socket)\n"
    "  -v             more log lines;  -V version;  -h this help\n";

enum { OPT_STATELESS = 256, OPT_STATEFUL, OPT_INETD };

static struct umfax_dir dir;

static void
reload(void *arg)
{
	char err[600];
	int rc;

	(void)arg;
	rc = umfax_dir_reload(&dir, err, sizeof err);
	if (rc < 0)
		umfax_log(LOG_ERR, NULL, NULL, "event=reload status=kept-old file=%s error=\"%s\"",
		    dir.path, err);
	else
		umfax_log(LOG_INFO, NULL, NULL, "event=reload status=%s file=%s mailboxes=%zu",
		    rc ? "loaded" : "unchanged", dir.path, dir.nmailboxes);
}

/* The sockets are bound: if root, become sipredirect_user for good. */
static int
drop_root(void *arg)
{
	const char *user = arg;
	struct passwd *pw;

	if (geteuid() != 0)
		return EX_OK;
	if (user == NULL || *user == '\0') {
		umfax_log(LOG_WARNING, NULL, NULL, "event=start warning=\"running as root; set sipredirect_user\"");
		return EX_OK;
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		umfax_log(LOG_ERR, NULL, NULL, "config=bad setting=sipredirect_user error=\"no such user: %s\"", user);
		return EX_CONFIG;
	}
	if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		umfax_log(LOG_ERR, NULL, NULL, "event=drop-root user=%s error=\"%s\"", user, strerror(errno));
		return EX_OSERR;
	}
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		umfax_log(LOG_ERR, NULL, NULL, "event=drop-root user=%s error=\"root could be regained\"", user);
		return EX_OSERR;
	}
	umfax_log(LOG_INFO, NULL, NULL, "event=drop-root user=%s uid=%lu gid=%lu", user,
	    (unsigned long)pw->pw_uid, (unsigned long)pw->pw_gid);
	return EX_OK;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		UMFAX_COMMON_LONGOPTS,
		{ "directory", required_argument, NULL, 'f' },
		{ "listen",    required_argument, NULL, 'l' },
		{ "check",     no_argument,       NULL, 'n' },
		{ "mode",      required_argument, NULL, 'm' },
		{ "stateless", no_argument,       NULL, OPT_STATELESS },
		{ "stateful",  no_argument,       NULL, OPT_STATEFUL },
		{ "inetd",     no_argument,       NULL, OPT_INETD },
		{ NULL, 0, NULL, 0 }
	};
	struct umfax_opts o;
	struct umfax_sipsrv_listen ls[UMFAX_SIPSRV_MAX_LISTEN];
	struct umfax_sipsrv_cfg cfg;
	struct umfax_sipredir r;
	const char *dirfile = NULL, *listen_opt[UMFAX_SIPSRV_MAX_LISTEN], *mode = NULL;
	struct umfax_siprefer *refer = NULL;
	char err[600];
	int c, nl = 0, nls = 0, i, transactions = -1, inetd = 0, check = 0, rc;

	umfax_stage_init("sipredirect");
	memset(&o, 0, sizeof o);
	while ((c = getopt_long(argc, argv, UMFAX_COMMON_SHORTOPTS "f:l:m:n", longopts, NULL)) != -1) {
		if (c == 'q' || c == 'j' || c == 'w') {
			fprintf(stderr, "sipredirect: -%c makes no sense here: sipredirect answers SIP calls, it does not process jobs\n%s",
			    c, usage);
			return EX_USAGE;
		}
		if (umfax_opt_common(c, optarg, &o, usage))
			continue;
		switch (c) {
		case 'f': dirfile = optarg; break;
		case 'l':
			if (nl == UMFAX_SIPSRV_MAX_LISTEN) {
				fprintf(stderr, "sipredirect: too many -l options\n");
				return EX_USAGE;
			}
			listen_opt[nl++] = optarg;
			break;
		case 'n': check = 1; break;
		case 'm':
			if (strcmp(optarg, "redirect") != 0 && strcmp(optarg, "refer") != 0) {
				fprintf(stderr, "sipredirect: -m: redirect or refer, not \"%s\"\n", optarg);
				return EX_USAGE;
			}
			mode = optarg;
			break;
		case OPT_STATELESS: transactions = 0; break;
		case OPT_STATEFUL: transactions = 1; break;
		case OPT_INETD: inetd = 1; break;
		default:
			fputs(usage, stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "sipredirect: unexpected argument \"%s\"\n%s", argv[optind], usage);
		return EX_USAGE;
	}
	umfax_stage_config(&o);

	for (i = 0; i < nl; i++)
		if ((nls = umfax_sipsrv_parse_listen(listen_opt[i], ls, nls,
		    UMFAX_SIPSRV_MAX_LISTEN, err, sizeof err)) < 0) {
			fprintf(stderr, "sipredirect: -l: %s\n", err);
			return EX_USAGE;
		}
	if (nl == 0 && (nls = umfax_sipsrv_parse_listen(umfax_conf_str("sipredirect_listen"),
	    ls, 0, UMFAX_SIPSRV_MAX_LISTEN, err, sizeof err)) < 0) {
		umfax_log(LOG_ERR, NULL, NULL, "config=bad setting=sipredirect_listen error=\"%s\"", err);
		return EX_CONFIG;
	}

	umfax_dir_init(&dir);
	if (umfax_dir_load(&dir, dirfile, err, sizeof err) != 0) {
		int e = errno;
		umfax_log(LOG_ERR, NULL, NULL, "event=directory status=bad error=\"%s\"", err);
		return e == ENOENT ? EX_NOINPUT : EX_CONFIG;
	}
	umfax_log(LOG_DEBUG, NULL, NULL, "event=directory file=%s dialplans=%zu policies=%zu mailboxes=%zu",
	    dir.path, dir.ndialplans, dir.npolicies, dir.nmailboxes);
	if (check) {
		printf("directory %s: %zu dial plans, %zu policies, %zu mailboxes\n",
		    dir.path, dir.ndialplans, dir.npolicies, dir.nmailboxes);
		umfax_dir_release(&dir);
		return EX_OK;
	}

	/* osip's many small allocations per request come from one arena */
	if (umfax_sip_arena_enable(1 << 20) != 0) {
		umfax_log(LOG_ERR, NULL, NULL, "event=start error=\"out of memory\"");
		return EX_OSERR;
	}
	umfax_sip_init();
	umfax_sipredir_init(&r, &dir);
	umfax_sipsrv_cfg_init(&cfg);
	if (transactions >= 0)
		cfg.stateful = transactions;
	cfg.inetd = inetd || (nl == 0 && umfax_sipsrv_fd0_is_socket());
	cfg.reload = reload;
	cfg.bound = drop_root;
	cfg.bound_arg = (void *)umfax_conf_str("sipredirect_user");
	if (!mode)
		mode = umfax_conf_str("sipredirect_mode");
	if (strcmp(mode, "refer") == 0) {
		struct umfax_siprefer_cfg rc_;
		umfax_siprefer_cfg_init(&rc_);
		/* as the other programs: -d, else $UMFAX_SPOOL, else spool_directory */
		rc_.spool = o.spool;
		if (!rc_.spool && getenv("UMFAX_SPOOL") && *getenv("UMFAX_SPOOL"))
			rc_.spool = getenv("UMFAX_SPOOL");
		if (!rc_.spool)
			rc_.spool = umfax_conf_str("spool_directory");
		refer = umfax_siprefer_new(&r, &rc_);
		if (!refer) {
			umfax_log(LOG_ERR, NULL, NULL, "event=start error=\"out of memory\"");
			return EX_OSERR;
		}
		cfg.refer = refer;
	}
	rc = umfax_sipsrv_run(&r, ls, nls, &cfg);
	umfax_siprefer_free(refer);
	umfax_dir_release(&dir);
	return rc;
}
