/*
 * prove_impl.h - what the prove_*.c files share (not part of libdai's
 * interface): a receipt's token sequence read against its job, the checks
 * of its terms, and the teacher-forced replay.
 */
#ifndef DAI_PROVE_IMPL_H
#define DAI_PROVE_IMPL_H

#include "b64lines.h"
#include "job.h"
#include "prove.h"

typedef struct prove_seq {
	job_terms job;
	char receipt_id[DAI_ID_LEN + 1];
	int32_t *seq; /* prompt then output: N tokens */
	size_t n_prompt, n_out, N;
	int ids_ok;             /* output-ids are whole int32 ids in the vocabulary */
	dai_sample_params sp;   /* the job's */
	unsigned char root[32]; /* the receipt's trace root */
	uint64_t n_leaves;      /* the receipt's trace-leaves */
	uint64_t P;             /* positions evaluated: N - 1 */
	uint32_t steps;         /* leaves per position: L + 2 */
} prove_seq;

/* Reads the job (which must be signed by its buyer and be the receipt's)
 * and the receipt's tokens; the model must be the receipt's. Malformed
 * output ids only clear ids_ok (prove_terms reports them). */
int prove_seq_load(const engine *en, const dai_doc *receipt, const dai_doc *job, prove_seq *q,
                   dai_err *e);
void prove_seq_free(prove_seq *q);

/* Sets r to a failure of kind with a reason. */
void prove_fail(prove_report *r, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* 1 (r filled, kind "signature") when the receipt is not validly signed by
 * its worker, else 0. */
int prove_signature(const dai_doc *receipt, prove_report *r);

/* 1 (r filled, kind "receipt") when the receipt's terms contradict the job
 * (prove.h lists them), else 0. -1 on an error (out of memory). */
int prove_terms(const engine *en, const dai_doc *receipt, const prove_seq *q, prove_report *r,
                dai_err *e);

/* Replays q's sequence teacher-forced into tr (made here: P positions;
 * trace_free it). *bad_k gets the first output index whose token is not
 * the sampler's, or -1. Needs ids_ok. */
int prove_replay(const engine *en, const prove_seq *q, const prove_opts *o, dai_trace *tr,
                 int64_t *bad_k, dai_err *e);

/* The first leaf index where a and b differ (both n leaves), or n. */
uint64_t prove_first_diff(const unsigned char *a, const unsigned char *b, uint64_t n);

/* 0 when the worker's trace file belongs to the receipt and hashes to its
 * root; else -1 with the reason in r (kind "replay"). */
int prove_trace_matches(const engine *en, const prove_seq *q, const dai_trace *t, prove_report *r);

/* Base64 over several lines of one key (b64lines.h), for values bigger
 * than a document line. */
#define PROVE_B64_CHUNK DAI_B64_CHUNK
void prove_add_b64_lines(dai_docb *b, const char *key, const void *data, size_t n);
int prove_get_b64_lines(const dai_doc *d, const char *key, size_t max, unsigned char **out,
                        size_t *n, dai_err *e);

#endif
