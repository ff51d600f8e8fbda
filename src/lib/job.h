/*
 * job.h - running dai-job documents: a job's terms read and checked, the one
 * conversion of its integer sampling parameters, its prompt's tokens, and
 * the signed dai-receipt a worker gives for it (with the trace, trace.h).
 *
 * Sampling parameters travel as integers (doc_schema.c). Worker and
 * verifier turn them into the sampler's floats in exactly one way,
 * job_sample_params:
 *
 *   temp  = (float)temp_milli / 1000.0f      (0: greedy)
 *   top_p = (float)top_p_milli / 1000.0f     (1..1000 allowed; 1000: off)
 *   top_k = top_k                            (0: off; at most INT32_MAX)
 *   seed  = seed
 *
 * one IEEE division each, correctly rounded, so every machine gets the same
 * floats.
 *
 * The prompt is the job's UTF-8 text tokenized with the model's default
 * flags (tok_default_flags: a BOS when the model asks for one). Generation
 * runs for at most max-tokens tokens and stops after an end-of-generation
 * token (generate.h). The receipt's output is the text dai-infer prints for
 * the output tokens: the streaming decoder's bytes (tok_stream, flags 0),
 * flushed (absent when empty); output-ids is the output tokens as int32
 * little-endian (absent when there are none).
 */
#ifndef DAI_JOB_H
#define DAI_JOB_H

#include <stdint.h>

#include "doc.h"
#include "engine.h"
#include "key.h"
#include "sample.h"
#include "trace.h"

#define JOB_MAX_TOKENS 8192 /* most output tokens a receipt can carry */

typedef struct job_terms {
	char id[DAI_ID_LEN + 1];
	char worker[DAI_DID_MAX], buyer[DAI_DID_MAX];
	char model[DAI_ID_LEN + 1];
	unsigned char *prompt; /* owned, prompt_len bytes */
	size_t prompt_len;
	uint64_t max_tokens, seed, temp_milli, top_k, top_p_milli;
	long long expires;
} job_terms;

/* Reads a dai-job: checks that it is one, signed by its buyer, with
 * sampling parameters in range and max-tokens at most JOB_MAX_TOKENS. */
int job_terms_read(const dai_doc *job, job_terms *j, dai_err *e);
void job_terms_free(job_terms *j);

/* 0 when the sampling integers are in range (see the top), else why not. */
int job_sampling_check(uint64_t temp_milli, uint64_t top_k, uint64_t top_p_milli, dai_err *e);

/* The conversion at the top (the integers must have passed the check). */
void job_sample_params(uint64_t seed, uint64_t temp_milli, uint64_t top_k, uint64_t top_p_milli,
                       dai_sample_params *p);

/* The prompt's tokens (malloc'd). */
int job_prompt_ids(const engine *en, const job_terms *j, int32_t **ids, size_t *n, dai_err *e);

/* The output text of ids[0..n) (malloc'd, may hold no bytes). */
int job_output_text(const dai_tok *tok, const int32_t *ids, size_t n, char **text, size_t *len,
                    dai_err *e);

/* 0 when the job is for this worker and this model and not expired at now;
 * -1 with the reason otherwise. */
int job_addressed(const job_terms *j, const char *worker, const char *model_id, long long now,
                  dai_err *e);

typedef struct job_run_opts {
	int n_threads; /* 0: every CPU */
	int n_batch;   /* 0: the session's default */
} job_run_opts;

/* Runs the job on en (a pack: en->model_id set) as worker k: generates,
 * fills trace (freed by the caller with trace_free) and signs the receipt.
 * The job must have passed job_addressed. */
int job_run(const engine *en, const dai_key *k, const dai_doc *job, const job_run_opts *o,
            dai_doc *receipt, dai_trace *trace, dai_err *e);

#endif
