/* faxtiff_bench - pages per second of faxtiff's normalise, PDF and PNG, next
 * to libtiff's own tools on the same pages, with the ratios, in one run.
 *
 *   faxtiff_bench [-t SECONDS] [FILE.tif ...]
 *
 * Three columns per task:
 *   lib      the library call in this process, on a buffer in memory;
 *   process  `faxtiff convert|pdf|png IN OUT` run as a program (file in,
 *            file out, process start included), which is what a fair
 *            comparison with a tool needs;
 *   tool     the libtiff (or netpbm) tool doing the same job:
 *            normalise: tiffcp -c g4 IN OUT
 *            PDF:       tiff2pdf -o OUT IN  (on the normalised G4 TIFF, so it
 *                       may pass the G4 data through as we do)
 *            PNG:       tifftopnm | pamscale -width 600 | pnmtopng (page 1)
 * ratio = process / tool (above 1: faxtiff is faster).
 * Default files: the ITU charts (12 pages, MH), the 12-page synthetic
 * capture (MR) and the Asterisk G4 page.  Never part of make check. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "faxtiff.h"

struct input {
	const char *path;
	unsigned char *buf, *norm;
	size_t len, normlen;
	int pages;
	char normpath[PATH_MAX];
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	struct stat st;
	if (fstat(fileno(fp), &st) < 0 || st.st_size <= 0) {
		fclose(fp);
		return NULL;
	}
	unsigned char *b = malloc((size_t)st.st_size);
	if (b && fread(b, 1, (size_t)st.st_size, fp) != (size_t)st.st_size) {
		free(b);
		b = NULL;
	}
	fclose(fp);
	*len = (size_t)st.st_size;
	return b;
}

static int spill(const char *path, const unsigned char *b, size_t n)
{
	FILE *fp = fopen(path, "wb");
	if (!fp)
		return -1;
	int ok = fwrite(b, 1, n, fp) == n;
	return fclose(fp) == 0 && ok ? 0 : -1;
}

/* Run a shell command quietly; 0 if it exited 0. */
static int run(const char *cmd)
{
	pid_t p = fork();
	if (p < 0)
		return -1;
	if (p == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(p, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

enum task { NORMALISE, PDF, PNG };

/* Pages per second of TASK done by the library, over all inputs, for at
 * least SECS seconds. */
static double lib_rate(enum task t, struct input *in, int n, double secs)
{
	double t0 = now(), t1;
	long pages = 0;
	do {
		for (int i = 0; i < n; i++) {
			unsigned char *out = NULL;
			size_t outlen;
			char err[256];
			int rc;
			switch (t) {
			case NORMALISE:
				rc = umfax_tiff_normalize(in[i].buf, in[i].len, NULL, &out, &outlen, NULL, err, sizeof err);
				pages += in[i].pages;
				break;
			case PDF:
				rc = umfax_tiff_to_pdf(in[i].norm, in[i].normlen, &out, &outlen, err, sizeof err);
				pages += in[i].pages;
				break;
			default:
				rc = umfax_tiff_preview_png(in[i].norm, in[i].normlen, 600, &out, &outlen, err, sizeof err);
				pages += 1;
				break;
			}
			free(out);
			if (rc) {
				fprintf(stderr, "faxtiff_bench: %s: %s\n", in[i].path, err);
				exit(1);
			}
		}
		t1 = now();
	} while (t1 - t0 < secs);
	return pages / (t1 - t0);
}

/* Replace each "{in}" and "{out}" of TEMPLATE. */
static void expand(char *dst, size_t n, const char *tpl, const char *in, const char *out)
{
	size_t o = 0;
	while (*tpl && o + 1 < n) {
		const char *v = NULL;
		if (!strncmp(tpl, "{in}", 4))
			v = in;
		else if (!strncmp(tpl, "{out}", 5))
			v = out;
		if (v) {
			size_t l = strlen(v);
			if (o + l >= n)
				break;
			memcpy(dst + o, v, l);
			o += l;
			tpl += v == in ? 4 : 5;
		} else {
			dst[o++] = *tpl++;
		}
	}
	dst[o] = '\0';
}

/* Pages per second of the command TPL run once per input. */
static double cmd_rate(const char *tpl, int use_norm, int first_page_only, struct input *in,
    int n, const char *dir, double secs)
{
	double t0 = now(), t1;
	long pages = 0;
	char cmd[4 * PATH_MAX], out[PATH_MAX];
	snprintf(out, sizeof out, "%s/out", dir);
	do {
		for (int i = 0; i < n; i++) {
			expand(cmd, sizeof cmd, tpl, use_norm ? in[i].normpath : in[i].path, out);
			if (run(cmd) != 0) {
				fprintf(stderr, "faxtiff_bench: failed: %s\n", cmd);
				return 0;
			}
			pages += first_page_only ? 1 : in[i].pages;
		}
		t1 = now();
	} while (t1 - t0 < secs);
	return pages / (t1 - t0);
}

int main(int argc, char **argv)
{
	static const char *defaults[] = {
		"tiff/itu/itutests.tif",
		"captures/expected/syn_t38udp_v0_ecm_12p_itutests.tif",
		"tiff/asterisk-testsuite/send.tiff",
	};
	double secs = 2;
	int c;
	while ((c = getopt(argc, argv, "t:")) != -1) {
		if (c == 't')
			secs = atof(optarg);
		else {
			fprintf(stderr, "usage: faxtiff_bench [-t seconds] [file.tif ...]\n");
			return 64;
		}
	}
	char self[PATH_MAX], faxtiff[PATH_MAX + 32], dir[] = "/tmp/faxtiff_bench.XXXXXX";
	ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
	if (k <= 0)
		return 71;
	self[k] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(faxtiff, sizeof faxtiff, "%s/../bin/faxtiff", self);
	if (access(faxtiff, X_OK) != 0) {
		fprintf(stderr, "faxtiff_bench: no %s: build it first\n", faxtiff);
		return 69;
	}
	if (!mkdtemp(dir))
		return 73;
	const char *shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
	int n = optind < argc ? argc - optind : 3;
	struct input *in = calloc((size_t)n, sizeof *in);
	char (*paths)[PATH_MAX] = calloc((size_t)n, PATH_MAX);
	long total = 0;
	for (int i = 0; i < n; i++) {
		if (optind < argc)
			snprintf(paths[i], PATH_MAX, "%s", argv[optind + i]);
		else
			snprintf(paths[i], PATH_MAX, "%s/data/%s", shared, defaults[i]);
		in[i].path = paths[i];
		in[i].buf = slurp(in[i].path, &in[i].len);
		struct umfax_tiff_info info;
		char err[256];
		umfax_tiff_info_init(&info);
		if (!in[i].buf || umfax_tiff_normalize(in[i].buf, in[i].len, NULL, &in[i].norm,
		    &in[i].normlen, &info, err, sizeof err) != 0) {
			fprintf(stderr, "faxtiff_bench: %s: cannot use it\n", in[i].path);
			return 66;
		}
		in[i].pages = info.pages;
		total += info.pages;
		umfax_tiff_info_release(&info);
		snprintf(in[i].normpath, sizeof in[i].normpath, "%s/norm%d.tif", dir, i);
		if (spill(in[i].normpath, in[i].norm, in[i].normlen) != 0)
			return 73;
	}
	printf("faxtiff_bench: %d files, %ld pages, >= %.1f s per measurement\n", n, total, secs);
	printf("%-10s %12s %12s %12s %8s  tool\n", "task", "lib p/s", "process p/s", "tool p/s", "ratio");

	struct {
		const char *name;
		enum task t;
		const char *verb, *tool, *toolname;
		int norm_in, first_only;
	} row[] = {
		{ "normalise", NORMALISE, "convert '{in}' '{out}.tif'",
		  "tiffcp -c g4 '{in}' '{out}.tif' 2>/dev/null", "tiffcp -c g4", 0, 0 },
		{ "pdf", PDF, "pdf '{in}' '{out}.pdf'",
		  "tiff2pdf -o '{out}.pdf' '{in}' 2>/dev/null", "tiff2pdf", 1, 0 },
		{ "png", PNG, "png '{in}' '{out}.png'",
		  "tifftopnm '{in}' 2>/dev/null | pamscale -width 600 2>/dev/null | pnmtopng >'{out}.png' 2>/dev/null",
		  "tifftopnm|pamscale|pnmtopng", 1, 1 },
	};
	char conf[PATH_MAX];
	snprintf(conf, sizeof conf, "%s/umfax.conf", dir);
	if (spill(conf, (const unsigned char *)"", 0) != 0)
		return 73;
	for (size_t r = 0; r < sizeof row / sizeof row[0]; r++) {
		char ours[3 * PATH_MAX];
		snprintf(ours, sizeof ours, "UMFAX_LOG_SYSLOG=0 UMFAX_CONFIG='%s' '%s' %s", conf, faxtiff,
		    row[r].verb);
		double lib = lib_rate(row[r].t, in, n, secs);
		double proc = cmd_rate(ours, row[r].norm_in, row[r].first_only, in, n, dir, secs);
		double tool = cmd_rate(row[r].tool, row[r].norm_in, row[r].first_only, in, n, dir, secs);
		printf("%-10s %12.1f %12.1f %12.1f %8.2f  %s\n", row[r].name, lib, proc, tool,
		    tool > 0 ? proc / tool : 0, row[r].toolname);
		fflush(stdout);
	}
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	run(cmd);
	for (int i = 0; i < n; i++) {
		free(in[i].buf);
		free(in[i].norm);
	}
	free(in);
	free(paths);
	return 0;
}
