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

#include "timefmt.h"

static const char *prog = "dai";

void cli_init(const char *progname)
{
	const char *slash = strrchr(progname, '/');
	prog = slash ? slash + 1 : progname;
	if (sodium_init() < 0)
		cli_die(EXIT_BAD, "cannot initialise libsodium");
	dai_err e;
	if (time_now_check(&e))
		cli_die(EXIT_USAGE, "%s", e.msg);
}

const char *cli_name(void)
{
	return prog;
}

/* "prog: message" on stderr */
static void vwarn(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void cli_die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(code);
}

void cli_fail(const dai_err *e)
{
	cli_die(EXIT_BAD, "%s", e->msg);
}

void cli_help(const char *usage)
{
	fputs(usage, stdout);
	exit(0);
}

void cli_usage(const char *usage)
{
	fputs(usage, stderr);
	exit(EXIT_USAGE);
}

long long cli_int_arg(const char *opt, const char *s, long long lo, long long hi)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		cli_die(EXIT_USAGE, "%s: expected an integer in [%lld, %lld], got '%s'", opt, lo,
		        hi, s);
	return v;
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

void cli_open_reader(dai_reader *r, const char *path)
{
	const char *name;
	int fd = cli_open_input(path, &name);
	dai_err e;
	if (reader_init(r, fd, name, &e))
		cli_fail(&e);
}

int cli_next_doc(dai_reader *r, dai_doc *d)
{
	dai_err e;
	int st = reader_next(r, d, &e);
	if (st == DOC_EOF)
		return 0;
	if (st != DOC_OK)
		cli_fail(&e);
	return 1;
}
