/*
 * cli.h - what every dai-* main shares: its name in messages, failing with
 * one line on stderr, usage text and integer options, and opening an input
 * stream or a document reader on it.
 *
 * Exit codes: 0 success, 1 failure (bad input, a check that did not pass,
 * an I/O error), 2 usage error.
 */
#ifndef DAI_CLI_H
#define DAI_CLI_H

#include "docio.h"
#include "err.h"

enum { EXIT_BAD = 1, EXIT_USAGE = 2 };

/* Sets the program name for messages and initialises libsodium. */
void cli_init(const char *progname);

const char *cli_name(void);

/* Prints "prog: message" and exits with code. */
_Noreturn void cli_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "prog: <e->msg>" and exits 1. */
_Noreturn void cli_fail(const dai_err *e);

/* Prints "prog: message" (a warning or a note) and returns. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints usage on stdout and exits 0 (for -h). */
_Noreturn void cli_help(const char *usage);

/* Prints usage on stderr and exits EXIT_USAGE (for a bad command line). */
_Noreturn void cli_usage(const char *usage);

/* The decimal integer s given to option opt, in [lo, hi]; anything else
 * dies with EXIT_USAGE naming opt and the range. */
long long cli_int_arg(const char *opt, const char *s, long long lo, long long hi);

/* Opens path for reading ("-" or NULL: stdin); sets *name for messages. */
int cli_open_input(const char *path, const char **name);

/* Opens path as cli_open_input does and starts a document reader on it
 * (free it with reader_free); dies with one line on failure. */
void cli_open_reader(dai_reader *r, const char *path);

/* The next document of r into d (free it with doc_free): 1, or 0 at the end
 * of the stream; an invalid document or a read error dies with one line. */
int cli_next_doc(dai_reader *r, dai_doc *d);

#endif
