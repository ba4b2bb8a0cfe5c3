/* umresolve.h - the subcommands of umresolve (cmd.c) */
#ifndef UMRESOLVE_H
#define UMRESOLVE_H

struct umresolve_args {
	const char *path;            /* -D: the directory file, or NULL */
	int json, header, conf_mode;
	const char *diversion, *history_info, *recipient, *dialplan, *gateway;
};

/* Run subcommand ARGV[0].  Returns the exit status. */
int umresolve_command(const struct umresolve_args *a, int argc, char **argv);

#endif
