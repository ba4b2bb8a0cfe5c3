/* faxtiff - check and normalise the TIFF of a fax job; make PDFs and PNG
 * previews of fax TIFFs.
 *
 *   faxtiff [-q | -j ID] [-C mh|mr|mmr] [-n]     the pipeline stage
 *   faxtiff info FILE...                         pages, sizes, resolution (TSV)
 *   faxtiff check FILE...                        exit 0 if every file is sound
 *   faxtiff convert [-C COMP] IN OUT             TIFF Class F
 *   faxtiff pdf IN OUT                           a PDF of all pages
 *   faxtiff png [-W WIDTH] IN OUT                a PNG preview of page 1
 *
 * The work is in lib/faxtiff.c; this file is options and I/O. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "conf.h"
#include "exits.h"
#include "faxtiff.h"
#include "job.h"
#include "log.h"
#include "stage.h"

static const char usage[] =
"usage: faxtiff [-nqvw] [-C mh|mr|mmr] [-c config] [-d spool] [-j id]\n"
"       faxtiff info file ...\n"
"       faxtiff check file ...\n"
"       faxtiff convert [-C mh|mr|mmr] in.tif out.tif\n"
"       faxtiff pdf in.tif out.pdf\n"
"       faxtiff png [-W width] in.tif out.png\n"
"Checks and normalises the TIFF of each fax job (stdin to stdout, -q the\n"
"queue, -j one job).  A file argument may be a TIFF or a job file; - is\n"
"stdin or stdout.\n"
"  -C, --compression=C  mmr (T.6, default), mr or mh (T.4) for the new TIFF\n"
"  -n, --check-only     check the TIFF and set the job fields, keep it as it is\n"
"  -W, --width=N        width of the PNG preview in pixels (default 600)\n"
"  -c, --config=FILE    umfax.conf to read\n"
"  -d, --spool=DIR      the spool directory\n"
"  -j, --job=ID         process one job of the spool\n"
"  -q, --queue          process every job in received/\n"
"  -w, --wait           with -q: keep running, wait for new jobs\n"
"  -v, --verbose        more log lines (repeatable)\n"
"  -V, --version        print the version\n"
"  -h, --help           print this help\n";

struct settings {
	int comp;                 /* UMFAX_TIFF_* */
	int normalize;
	int max_pages;
	int preview_width;
};

/* ---- the pipeline stage ------------------------------------------------ */

static long field_long(const struct umfax_job *job, const char *name, long def)
{
	const char *v = umfax_job_get(job, name);
	char *end;
	if (!v || !*v)
		return def;
	errno = 0;
	double d = strtod(v, &end);
	if (errno || end == v || d < 0 || d > 1e9)
		return def;
	return (long)(d + 0.5);
}

static int field_yes(const struct umfax_job *job, const char *name)
{
	const char *v = umfax_job_get(job, name);
	return v && (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
	    !strcasecmp(v, "on"));
}

/* TIFF ASCII tags are 7-bit: copy V with every other byte as '?'. */
static const char *ascii(char *dst, size_t n, const char *v)
{
	size_t i = 0;
	if (!v)
		return NULL;
	for (; v[i] && i + 1 < n; i++)
		dst[i] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
	dst[i] = '\0';
	return dst;
}

static void process(struct umfax_job *job, void *arg, struct umfax_result *r)
{
	const struct settings *cf = arg;
	struct umfax_tiff_info info;
	struct umfax_tiff_opts o;
	char datetime[20] = "", q[200], ident[128], sub[128];
	unsigned char *out = NULL;
	size_t outlen = 0;
	const char *id = umfax_job_id(job), *call = umfax_job_get(job, "Call-Id");
	const char *ra = umfax_job_get(job, "Received-At");
	int rc;

	memset(&o, 0, sizeof o);
	o.comp = cf->comp;
	o.max_pages = cf->max_pages;
	o.ident = ascii(ident, sizeof ident, umfax_job_get(job, "Remote-Ident"));
	o.subaddress = ascii(sub, sizeof sub, umfax_job_get(job, "Sub-Address"));
	o.recv_seconds = field_long(job, "Duration", -1);
	/* t38recv writes "Modem: V.17 14400"; a Bit-Rate field wins. */
	o.bit_rate = (int)field_long(job, "Bit-Rate", 0);
	const char *modem = umfax_job_get(job, "Modem");
	if (!o.bit_rate && modem && strrchr(modem, ' '))
		o.bit_rate = atoi(strrchr(modem, ' ') + 1);
	o.ecm = field_yes(job, "Ecm");
	/* Received-At 2026-11-22T13:45:00Z -> DateTime "2026:11:22 13:45:00" */
	if (ra && strlen(ra) >= 19 && ra[4] == '-' && ra[7] == '-' && ra[10] == 'T') {
		snprintf(datetime, sizeof datetime, "%.4s:%.2s:%.2s %.8s", ra, ra + 5, ra + 8, ra + 11);
		o.datetime = datetime;
	}

	umfax_tiff_info_init(&info);
	if (job->len == 0) {
		/* A fax call without a page (t38recv --keep-empty): nothing to
		 * check, but faxmail tells the recipient.  A job that claims
		 * pages and has no TIFF is broken. */
		const char *st = umfax_job_get(job, "Status");
		if (st && (!strcasecmp(st, "no-pages") || !strcasecmp(st, "error"))) {
			if (umfax_job_set(job, "Pages", "0") < 0) {
				snprintf(r->reason, sizeof r->reason, "cannot set the job fields");
				r->code = EX_DATAERR;
				return;
			}
			umfax_log(LOG_INFO, id, call, "pages=0 status=%s action=pass-on", st);
			return;
		}
		snprintf(r->reason, sizeof r->reason, "job has no TIFF (0 bytes%s%s)",
		    st ? ", Status: " : "", st ? st : "");
		r->code = EX_DATAERR;
		return;
	}
	if (cf->normalize)
		rc = umfax_tiff_normalize(job->body, job->len, &o, &out, &outlen, &info,
		    r->reason, sizeof r->reason);
	else
		rc = umfax_tiff_check(job->body, job->len, cf->max_pages, &info,
		    r->reason, sizeof r->reason);
	if (info.warnings)
		umfax_log(LOG_DEBUG, id, call, "libtiff_warnings=%ld first=%s", info.warnings,
		    umfax_log_quote(q, sizeof q, info.warning));
	if (rc) {
		r->code = rc;
		umfax_tiff_info_release(&info);
		return;
	}
	const struct umfax_tiff_page *p = &info.page[0];
	for (int i = 0; i < info.pages; i++) {
		const struct umfax_tiff_page *pi = &info.page[i];
		if (!pi->fax_width)
			umfax_log(LOG_WARNING, id, call, "page=%d width=%u xres=%d warning=\"not a fax page width\"",
			    i + 1, (unsigned)pi->width, pi->xdpi);
		if (pi->repair[0])
			umfax_log(LOG_WARNING, id, call, "page=%d warning=\"mislabelled page %s\"",
			    i + 1, pi->repair);
		if (pi->res_guessed)
			umfax_log(LOG_WARNING, id, call, "page=%d warning=\"no resolution in the TIFF, %dx%d assumed\"",
			    i + 1, pi->xdpi, pi->ydpi);
		if (pi->bad_rows)
			umfax_log(LOG_NOTICE, id, call, "page=%d bad_rows=%ld decode_errors=%ld",
			    i + 1, pi->bad_rows, pi->decode_errors);
	}
	int ok = umfax_job_setf(job, "Pages", "%d", info.pages) == 0;
	ok &= umfax_job_setf(job, "Width", "%u", (unsigned)p->width) == 0;
	ok &= umfax_job_setf(job, "Length", "%u", (unsigned)p->length) == 0;
	ok &= umfax_job_setf(job, "Resolution", "%dx%d", p->xdpi, p->ydpi) == 0;
	/* The receiver may know of more bad rows than its TIFF says. */
	long bad = field_long(job, "Bad-Rows", 0);
	ok &= umfax_job_setf(job, "Bad-Rows", "%ld", bad > info.bad_rows ? bad : info.bad_rows) == 0;
	const char *comp = umfax_tiff_comp_name(cf->normalize ? (cf->comp ? cf->comp : UMFAX_TIFF_MMR) : p->comp);
	const char *old = umfax_job_get(job, "Compression");
	if (old && strcasecmp(old, comp) && !umfax_job_get(job, "Received-Compression"))
		ok &= umfax_job_set(job, "Received-Compression", old) == 0;
	ok &= umfax_job_set(job, "Compression", comp) == 0;
	/* Pages of another size or resolution than page 1: every page, in order. */
	int differ = 0;
	for (int i = 1; i < info.pages; i++) {
		const struct umfax_tiff_page *pi = &info.page[i];
		differ |= pi->width != p->width || pi->length != p->length ||
		    pi->xdpi != p->xdpi || pi->ydpi != p->ydpi;
	}
	if (differ) {
		char geo[UMFAX_JOB_MAX_VALUE - 64];
		size_t gl = 0;
		for (int i = 0; i < info.pages; i++) {
			const struct umfax_tiff_page *pi = &info.page[i];
			char one[64];
			int k = snprintf(one, sizeof one, "%s%ux%u@%dx%d", i ? " " : "",
			    (unsigned)pi->width, (unsigned)pi->length, pi->xdpi, pi->ydpi);
			if (gl + (size_t)k + 5 >= sizeof geo) {
				memcpy(geo + gl, " ...", 5);
				gl += 4;
				break;
			}
			memcpy(geo + gl, one, (size_t)k + 1);
			gl += (size_t)k;
		}
		ok &= umfax_job_set(job, "Page-Geometry", geo) == 0;
	} else {
		umfax_job_del(job, "Page-Geometry");
	}
	if (!ok) {
		free(out);
		umfax_tiff_info_release(&info);
		snprintf(r->reason, sizeof r->reason, "cannot set the job fields (too many fields)");
		r->code = EX_DATAERR;
		return;
	}
	if (out)
		umfax_job_take_body(job, out, outlen);
	umfax_log(LOG_INFO, id, call, "pages=%d width=%u length=%u resolution=%dx%d compression=%s"
	    " bad_rows=%ld bytes=%zu", info.pages, (unsigned)p->width, (unsigned)p->length,
	    p->xdpi, p->ydpi, comp, info.bad_rows, job->len);
	umfax_tiff_info_release(&info);
}

/* ---- plain files --------------------------------------------------------- */

/* Read all of PATH ("-": stdin).  A job file gives its body.  0 or a code. */
static int read_input(const char *path, unsigned char **buf, size_t *len)
{
	FILE *fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	unsigned char *b = NULL;
	size_t n = 0, cap = 0;

	*buf = NULL;
	*len = 0;
	if (!fp) {
		umfax_log_file_error(path, "cannot open: %s", strerror(errno));
		return errno == ENOENT ? EX_NOINPUT : errno == EACCES ? EX_NOPERM : EX_IOERR;
	}
	for (;;) {
		if (n == cap) {
			if (cap >= (size_t)UMFAX_JOB_MAX_BODY + 65536) {
				umfax_log_file_error(path, "file too large");
				free(b);
				if (fp != stdin)
					fclose(fp);
				return EX_DATAERR;
			}
			cap = cap ? cap * 2 : 65536;
			unsigned char *nb = realloc(b, cap);
			if (!nb) {
				free(b);
				if (fp != stdin)
					fclose(fp);
				umfax_log_file_error(path, "out of memory");
				return EX_OSERR;
			}
			b = nb;
		}
		size_t k = fread(b + n, 1, cap - n, fp);
		n += k;
		if (k == 0)
			break;
	}
	int bad = ferror(fp);
	if (fp != stdin)
		fclose(fp);
	if (bad) {
		free(b);
		umfax_log_file_error(path, "read error");
		return EX_IOERR;
	}
	if (n >= 10 && !strncasecmp((char *)b, "Umfax-Job:", 10)) {
		struct umfax_job job;
		char err[256];
		umfax_job_init(&job);
		if (umfax_job_parse(b, n, &job, err, sizeof err) < 0) {
			free(b);
			umfax_log_file_error(path, "malformed job: %s", err);
			return EX_DATAERR;
		}
		free(b);
		*buf = job.body;
		*len = job.len;
		job.body = NULL;
		job.len = 0;
		umfax_job_release(&job);
		return 0;
	}
	*buf = b;
	*len = n;
	return 0;
}

/* Write BUF to PATH through a temporary file and rename ("-": stdout). */
static int write_output(const char *path, const unsigned char *buf, size_t len)
{
	if (!strcmp(path, "-")) {
		if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
			umfax_log_file_error("stdout", "write error: %s", strerror(errno));
			return EX_IOERR;
		}
		return 0;
	}
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof tmp) {
		umfax_log_file_error(path, "name too long");
		return EX_USAGE;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		umfax_log_file_error(tmp, "cannot create: %s", strerror(errno));
		return EX_CANTCREAT;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t k = write(fd, buf + off, len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			umfax_log_file_error(tmp, "write error: %s", strerror(errno));
			close(fd);
			unlink(tmp);
			return EX_IOERR;
		}
		off += (size_t)k;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		umfax_log_file_error(tmp, "write error: %s", strerror(errno));
		unlink(tmp);
		return EX_IOERR;
	}
	if (rename(tmp, path) < 0) {
		umfax_log_file_error(path, "cannot rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return EX_CANTCREAT;
	}
	return 0;
}

static int cmd_info(char **files, int n, int quiet, const struct settings *cf)
{
	int status = EX_OK;
	if (!quiet)
		printf("#file\tpage\tpages\twidth\tlength\txdpi\tydpi\tcompression\tbad_rows\tfax_width\n");
	for (int i = 0; i < n; i++) {
		unsigned char *buf;
		size_t len;
		char err[512];
		struct umfax_tiff_info info;
		int rc = read_input(files[i], &buf, &len);
		if (rc) {
			status = umfax_exit_worst(status, rc);
			continue;
		}
		umfax_tiff_info_init(&info);
		rc = umfax_tiff_check(buf, len, cf->max_pages, &info, err, sizeof err);
		free(buf);
		if (rc) {
			umfax_log_file_error(files[i], "%s", err);
			status = umfax_exit_worst(status, rc);
		} else {
			for (int p = 0; p < info.pages; p++)
				if (info.page[p].repair[0])
					umfax_log(LOG_WARNING, NULL, NULL, "file=%s page=%d warning=\"mislabelled page %s\"",
					    files[i], p + 1, info.page[p].repair);
		}
		if (!rc && !quiet) {
			for (int p = 0; p < info.pages; p++) {
				const struct umfax_tiff_page *pg = &info.page[p];
				printf("%s\t%d\t%d\t%u\t%u\t%d\t%d\t%s\t%ld\t%s\n", files[i], p + 1,
				    info.pages, (unsigned)pg->width, (unsigned)pg->length, pg->xdpi,
				    pg->ydpi, umfax_tiff_comp_name(pg->comp), pg->bad_rows,
				    pg->fax_width ? "yes" : "no");
			}
		}
		umfax_tiff_info_release(&info);
	}
	if (fflush(stdout) != 0) {
		umfax_log_file_error("stdout", "write error: %s", strerror(errno));
		status = umfax_exit_worst(status, EX_IOERR);
	}
	return status;
}

static int cmd_convert(const char *cmd, const char *in, const char *outpath,
    const struct settings *cf)
{
	unsigned char *buf, *out = NULL;
	size_t len, outlen = 0;
	char err[512];
	int rc = read_input(in, &buf, &len);
	if (rc)
		return rc;
	if (!strcmp(cmd, "pdf")) {
		rc = umfax_tiff_to_pdf(buf, len, &out, &outlen, err, sizeof err);
	} else if (!strcmp(cmd, "png")) {
		rc = umfax_tiff_preview_png(buf, len, cf->preview_width, &out, &outlen, err, sizeof err);
	} else {
		struct umfax_tiff_opts o;
		struct umfax_tiff_info info;
		memset(&o, 0, sizeof o);
		o.comp = cf->comp;
		o.max_pages = cf->max_pages;
		o.recv_seconds = -1;
		umfax_tiff_info_init(&info);
		rc = umfax_tiff_normalize(buf, len, &o, &out, &outlen, &info, err, sizeof err);
		for (int p = 0; !rc && p < info.pages; p++)
			if (info.page[p].repair[0])
				umfax_log(LOG_WARNING, NULL, NULL, "file=%s page=%d warning=\"mislabelled page %s\"",
				    in, p + 1, info.page[p].repair);
		umfax_tiff_info_release(&info);
	}
	free(buf);
	if (rc) {
		umfax_log_file_error(in, "%s", err);
		return rc;
	}
	rc = write_output(outpath, out, outlen);
	free(out);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		UMFAX_COMMON_LONGOPTS,
		{ "compression", required_argument, NULL, 'C' },
		{ "check-only",  no_argument,       NULL, 'n' },
		{ "width",       required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 }
	};
	struct umfax_opts o;
	struct settings cf;
	const char *comp_opt = NULL;
	int check_only = 0;
	long width_opt = 0;
	int c;

	umfax_stage_init("faxtiff");
	memset(&o, 0, sizeof o);
	while ((c = getopt_long(argc, argv, UMFAX_COMMON_SHORTOPTS "C:nW:", longopts, NULL)) != -1) {
		if (umfax_opt_common(c, optarg, &o, usage))
			continue;
		switch (c) {
		case 'C':
			comp_opt = optarg;
			if (umfax_tiff_comp_from_name(optarg) < 0) {
				umfax_log(LOG_ERR, NULL, NULL, "error=\"-C: unknown compression (mh, mr, mmr)\"");
				return EX_USAGE;
			}
			break;
		case 'n':
			check_only = 1;
			break;
		case 'W':
			width_opt = umfax_opt_number(optarg, 16, 4096, "-W (preview width)");
			break;
		default:
			fputs(usage, stderr);
			return EX_USAGE;
		}
	}
	umfax_stage_config(&o);
	cf.comp = umfax_tiff_comp_from_name(comp_opt ? comp_opt : umfax_conf_str("faxtiff_compression"));
	if (cf.comp < 0)
		cf.comp = UMFAX_TIFF_MMR;
	cf.normalize = check_only ? 0 : umfax_conf_bool("faxtiff_normalize");
	cf.max_pages = (int)umfax_conf_int("faxtiff_max_pages");
	cf.preview_width = width_opt ? (int)width_opt : (int)umfax_conf_int("faxtiff_preview_width");

	if (optind < argc) {
		const char *cmd = argv[optind];
		int nargs = argc - optind - 1;
		char **args = argv + optind + 1;
		if (o.mode != UMFAX_MODE_FILTER) {
			umfax_log(LOG_ERR, NULL, NULL, "error=\"-q and -j do not go with a command\"");
			return EX_USAGE;
		}
		if ((!strcmp(cmd, "info") || !strcmp(cmd, "check")) && nargs >= 1)
			return cmd_info(args, nargs, !strcmp(cmd, "check"), &cf);
		if ((!strcmp(cmd, "convert") || !strcmp(cmd, "pdf") || !strcmp(cmd, "png")) && nargs == 2)
			return cmd_convert(cmd, args[0], args[1], &cf);
		umfax_log(LOG_ERR, NULL, NULL, "error=\"%s\"", strcmp(cmd, "info") && strcmp(cmd, "check") &&
		    strcmp(cmd, "convert") && strcmp(cmd, "pdf") && strcmp(cmd, "png") ?
		    "unknown command (info, check, convert, pdf, png)" : "wrong number of files for the command");
		fputs(usage, stderr);
		return EX_USAGE;
	}
	struct umfax_stage st = { "faxtiff", UMFAX_RECEIVED, UMFAX_NORMALIZED, process, &cf };
	return umfax_stage_run(&st, &o);
}
