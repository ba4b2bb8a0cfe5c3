/* t38live_bench - simultaneous live fax calls against t38recv --live
 *
 *   t38live_bench -s 127.0.0.1:5060 -P SERVER_PID [-n CALLS] [-t udptl|tcp|ulaw|alaw]
 *                 [-x FAXSEND] [-l LOSS] FILE.tif
 *
 * Starts CALLS faxsend processes at once (loopback only, at most 500), each
 * sending FILE over the given transport, waits for all (bounded by their own
 * timeout), and prints one line: calls, ok, failed, wall seconds, and the
 * server's CPU time (user+system from /proc/PID/stat) over the run, per call
 * and as a share of one core.  Exit 0 when every call succeeded. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* utime + stime of PID in seconds, or -1. */
static double cpu_of(long pid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	unsigned long ut = 0, st = 0;
	/* fields after the comm: state(3) ... utime(14) stime(15) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
}

static void usage(void)
{
	fprintf(stderr, "usage: t38live_bench -s ADDR:PORT -P SERVER_PID [-n CALLS] [-t udptl|tcp|ulaw|alaw]\n"
	    "                     [-x FAXSEND] [-l LOSS] FILE.tif\n");
	exit(64);
}

int main(int argc, char **argv)
{
	const char *server = NULL, *transport = "udptl", *faxsend = "build/tools/faxsend", *loss = "0";
	long spid = 0;
	int n = 10, c;
	while ((c = getopt(argc, argv, "s:P:n:t:x:l:")) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 'P': spid = strtol(optarg, NULL, 10); break;
		case 'n': n = atoi(optarg); break;
		case 't': transport = optarg; break;
		case 'x': faxsend = optarg; break;
		case 'l': loss = optarg; break;
		default: usage();
		}
	}
	if (!server || optind != argc - 1 || n < 1 || n > 500 || strncmp(server, "127.", 4) != 0)
		usage();
	const char *file = argv[optind];
	pid_t *kids = calloc((size_t) n, sizeof *kids);
	if (!kids)
		return 71;
	double cpu0 = spid ? cpu_of(spid) : -1, t0 = now();
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p < 0) {
			perror("t38live_bench: fork");
			n = i;
			break;
		}
		if (p == 0) {
			char seed[16];
			snprintf(seed, sizeof seed, "%d", i + 1);
			freopen("/dev/null", "w", stdout);
			execl(faxsend, "faxsend", "-t", transport, "-s", server, "--loss", loss, "--seed", seed,
			    "--timeout", "240", "--referred-by",
			    "<sip:um1;msExchUMFaxRecipient=smtp:bench@contoso.com;msExchUMContext=Q2FsbElkPWJlbmNo>",
			    file, (char *) NULL);
			_exit(127);
		}
		kids[i] = p;
	}
	int ok = 0, bad = 0;
	for (int i = 0; i < n; i++) {
		int st;
		if (waitpid(kids[i], &st, 0) == kids[i] && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
		else
			bad++;
	}
	double wall = now() - t0, cpu1 = spid ? cpu_of(spid) : -1;
	printf("t38live_bench: transport=%s calls=%d ok=%d failed=%d wall=%.1fs", transport, n, ok, bad, wall);
	if (cpu0 >= 0 && cpu1 >= 0)
		printf(" server_cpu=%.2fs per_call=%.3fs core_share=%.1f%%", cpu1 - cpu0,
		    (cpu1 - cpu0) / n, 100.0 * (cpu1 - cpu0) / wall);
	printf("\n");
	free(kids);
	return bad ? 1 : 0;
}
