/* cli.c - see cli.h. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *prog = "dai";

void cli_init(const char *progname)
{
	const char *slash = strrchr(progname, '/');
	prog = slash ? slash + 1 : progname;
	if (sodium_init() < 0)
		cli_die(EXIT_BAD, "cannot initialise libsodium");
}

const char *cli_name(void)
{
	return prog;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_die(int code, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

void cli_fail(const dai_err *e)
{
	cli_die(EXIT_BAD, "%s", e->msg);
}

int cli_open_input(const char *path, const char **name)
{
	if (!path || strcmp(path, "-") == 0) {
		*name = "<stdin>";
		return STDIN_FILENO;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		cli_die(EXIT_BAD, "%s: %s", path, strerror(errno));
	*name = path;
	return fd;
}
