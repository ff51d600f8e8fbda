/*
 * prove_stream.h - dai-prove's pass over a stream of documents: every
 * document goes through to the output byte for byte, and after each
 * dai-receipt (verify, challenge) or dai-fraud (check) comes what was made
 * of it: a dai-verdict, or a dai-fraud. The dai-job documents of the
 * stream are kept so that a receipt finds its job (which must come before
 * it, as it does in a pipeline that carries its history).
 */
#ifndef DAI_PROVE_STREAM_H
#define DAI_PROVE_STREAM_H

#include <stdio.h>

#include "prove.h"

enum prove_mode { PROVE_VERIFY, PROVE_CHALLENGE, PROVE_CHECK };

typedef struct prove_stream_opts {
	enum prove_mode mode;
	prove_opts run;
	const dai_key *key;     /* signs verdicts and frauds; NULL: verdicts unsigned */
	const dai_trace *trace; /* the worker's trace (verify, challenge); may be NULL */
	void (*note)(void *ctx, const char *msg);
	void *ctx;
} prove_stream_opts;

typedef struct prove_stream_stats {
	unsigned long subjects; /* receipts or frauds looked at */
	unsigned long failed;   /* invalid receipts, proven frauds, frauds built */
	unsigned long errors;   /* subjects that could not be handled */
} prove_stream_stats;

/* Reads fd to its end; -1 only when the stream cannot be read or written. */
int prove_stream(const engine *en, const prove_stream_opts *o, int fd, const char *name, FILE *out,
                 prove_stream_stats *st, dai_err *e);

#endif
