/*
 * job_stream.h - a worker's pass over a stream of documents (dai-infer's job
 * mode): every document goes through to the output byte for byte; each
 * dai-job addressed to this worker and this model and not expired is run
 * (job.h) and its signed dai-receipt is written right after it. A job that
 * is refused (another worker or model, expired, badly signed, too long) is
 * passed through with the reason given to the note callback.
 *
 * Traces: with trace NULL none is written; when trace names a directory,
 * each job's trace goes to DIR/<job id hex>.trace; otherwise trace is one
 * file and only one job of the stream may be run (a second is refused).
 */
#ifndef DAI_JOB_STREAM_H
#define DAI_JOB_STREAM_H

#include <stdio.h>

#include "job.h"

typedef struct job_stream_opts {
	job_run_opts run;
	const char *trace;
	long long now; /* for expiry */
	void (*note)(void *ctx, const char *msg);
	void *ctx;
} job_stream_opts;

typedef struct job_stream_stats {
	unsigned long docs, run, refused, bad;
} job_stream_stats;

/* Reads fd (name for messages) to its end. Returns -1 when the stream
 * cannot be read or written on; refusals and bad documents are only
 * counted and noted. */
int job_stream(const engine *en, const dai_key *k, int fd, const char *name, FILE *out,
               const job_stream_opts *o, job_stream_stats *st, dai_err *e);

#endif
