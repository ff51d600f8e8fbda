/*
 * err.h - error reporting for libdai.
 *
 * Every fallible library call takes a dai_err and, on failure, fills it with
 * one line that names the place and the problem ("model.gguf: tensor
 * blk.3.attn_q.weight: data runs past end of file") and returns -1 (or NULL).
 * The library never prints and never exits; a main prints the line prefixed
 * with its own name and chooses the exit code. Secrets never go in a message.
 */
#ifndef DAI_ERR_H
#define DAI_ERR_H

#include <stddef.h>

typedef struct dai_err {
	char msg[512];
} dai_err;

/* Formats the message into e (if e is not NULL) and returns -1. */
int dai_errf(dai_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes an existing message with "prefix: " (for example a file name). */
int dai_err_prefix(dai_err *e, const char *prefix);

#endif
