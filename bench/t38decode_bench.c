/* t38decode_bench [CAPTURE [RUNS]] - offline decode speed of t38recv's core
 *
 * Decodes CAPTURE (default: the 12-page, 279 s syn_t38udp_v0_ecm_12p_itutests
 * capture under $SHARED/data/captures) RUNS times (default 10) through the
 * same path as t38recv -r, and prints wall time per decode and the speed in
 * call-seconds per wall-second (call-seconds: the fax sessions' durations). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "log.h"
#include "t38replay.h"

struct acc {
	double call_seconds;
	int pages, faxes;
};

static int add(void *arg, const struct umfax_replay_fax *fx)
{
	struct acc *a = arg;
	a->call_seconds += fx->info.duration;
	a->pages += fx->info.pages;
	a->faxes++;
	return 0;
}

static double clk(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char def[1024], err[512];
	const char *shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
	snprintf(def, sizeof(def), "%s/data/captures/syn_t38udp_v0_ecm_12p_itutests.pcap", shared);
	const char *path = argc > 1 ? argv[1] : def;
	int runs = argc > 2 ? atoi(argv[2]) : 10;
	if (runs < 1 || runs > 10000)
		runs = 10;
	setenv("UMFAX_LOG_STDERR", "0", 1);
	setenv("UMFAX_LOG_SYSLOG", "0", 1);
	umfax_log_init("t38decode_bench");

	struct umfax_replay_opts o = { .t38_version = -1 };
	double best = 1e9, total = 0, cpu0 = clk(CLOCK_PROCESS_CPUTIME_ID);
	struct acc a = { 0 };
	for (int i = 0; i < runs; i++) {
		struct acc one = { 0 };
		double t0 = clk(CLOCK_MONOTONIC);
		if (umfax_replay_file(path, &o, add, &one, err, sizeof(err)) < 0) {
			fprintf(stderr, "t38decode_bench: %s\n", err);
			return 66;
		}
		double dt = clk(CLOCK_MONOTONIC) - t0;
		total += dt;
		if (dt < best)
			best = dt;
		a = one;
	}
	if (a.faxes == 0) {
		fprintf(stderr, "t38decode_bench: %s: no fax decoded\n", path);
		return 65;
	}
	printf("t38decode: %s: %d fax(es), %d pages, %.1f call-seconds\n", path, a.faxes, a.pages, a.call_seconds);
	double cpu = (clk(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / runs;
	printf("t38decode: %d runs, best %.4f s, mean %.4f s wall, %.4f s CPU per decode\n",
	    runs, best, total / runs, cpu);
	printf("t38decode: %.0f call-seconds per wall-second (mean), %.0f per CPU-second\n",
	    a.call_seconds / (total / runs), a.call_seconds / cpu);
	return 0;
}
