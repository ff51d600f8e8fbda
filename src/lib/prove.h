/*
 * prove.h - checking a worker's receipt: verification by replay, fraud
 * proofs that pin a cheat to one step of the trace, and their check.
 *
 * A receipt (job.h) is honest when all of this holds; each check names
 * what a cheat breaks:
 *
 *   signature  the receipt is signed by the worker it names
 *   receipt    its terms are the job's: worker, buyer, model, seed,
 *              temp-milli, top-k, top-p-milli; tokens-in is the count of
 *              the job's prompt tokens; tokens-out the count of output-ids
 *              (each in the vocabulary), at most max-tokens, with no
 *              end-of-generation token before the last and, when fewer
 *              than max-tokens, one as the last; output is the text of
 *              the ids (job_output_text); trace-leaves is P x (L + 2) for
 *              the P = tokens-in + tokens-out - 1 evaluated positions
 *   replay     the sequence prompt + output replayed teacher-forced (in
 *              batched passes) gives the receipt's trace root, and every
 *              output token is the one the sampler draws from the replayed
 *              logits with the job's parameters (job_sample_params), step
 *              k for output token k
 *
 * Verification (prove_verify) runs all three. It needs the job document
 * (the receipt names it by id) and the model pack the receipt names.
 *
 * A challenge (prove_challenge) turns a failed verification into a
 * dai-fraud document that anyone holding the pack can check cheaply
 * (prove_check). Its kind says what it proves:
 *
 *   signature  the receipt is not validly signed by its worker
 *   receipt    its terms contradict the job (checked from the two
 *              documents and the tokenizer alone)
 *   step       one step of the worker's own trace is wrong: the first leaf
 *              (t, j) where the worker's trace (which must hash to the
 *              receipt's root) departs from the honest replay, or the
 *              next-token leaf of the first output token the sampler would
 *              not have drawn. The proof holds the worker's leaf (t, j)
 *              and the inputs of that step, agreed because they come
 *              earlier in the trace, each with its Merkle path to the
 *              receipt's root:
 *                j = 0       (embedding)  none: the token is s[t]
 *                1 <= j <= L (layer j-1)  the residuals (i, j-1), i <= t
 *                j = L + 1   (next token) the residual (t, L)
 *              The check recomputes that one step (session.h: the
 *              embedding; one layer for token t, after the keys and
 *              values of tokens 0..t-1 that its attention reads; or the
 *              output head and the sampler) and compares.
 *   replay     the worker's trace is missing or does not hash to its
 *              signed root, so nothing narrows the dispute down: the check
 *              replays the whole job
 *
 * The proof (key "proof", base64 over several lines) is zlib-compressed:
 *
 *   worker leaf (32 bytes)  u8 path length  path (32 bytes each)
 *   then per input: dim float32 LE  u8 path length  path
 *
 * The dai-fraud document embeds the receipt and the job (base64 over
 * several lines), so its check needs nothing else but the pack. Because
 * every step is deterministic on any machine, an honest receipt always
 * verifies and no challenge against it is ever proven.
 */
#ifndef DAI_PROVE_H
#define DAI_PROVE_H

#include <stdint.h>

#include "doc.h"
#include "engine.h"
#include "key.h"
#include "trace.h"

typedef struct prove_opts {
	int n_threads; /* 0: every CPU */
	int n_batch;   /* 0: PROVE_DEFAULT_BATCH */
	/* challenge only: with at_leaf set, build a step proof at leaf
	 * (at_position, at_step) whatever the replay says (to test a checker:
	 * against an honest receipt it is never proven); otherwise at the
	 * first differing leaf */
	int at_leaf;
	uint64_t at_position;
	uint32_t at_step;
} prove_opts;

#define PROVE_DEFAULT_BATCH 128

/* What verification or a check found. */
typedef struct prove_report {
	int ok;        /* verify: the receipt is honest; check: fraud is NOT proven */
	char kind[16]; /* verify: the check that failed; check: the fraud's kind */
	char reason[400];
	int has_leaf; /* the first differing leaf (t, j) is known */
	uint64_t position;
	uint32_t step;
} prove_report;

/*
 * Verifies receipt against job on en (whose pack must be the receipt's
 * model). With trace (the worker's trace file, may be NULL) a failed replay
 * also reports the first leaf where the trace departs from the replay.
 * Returns 0 with the finding in r, or -1 when it cannot verify at all (the
 * job is not the receipt's or not validly signed, another model, out of
 * memory).
 */
int prove_verify(const engine *en, const dai_doc *receipt, const dai_doc *job,
                 const dai_trace *trace, const prove_opts *o, prove_report *r, dai_err *e);

/*
 * Builds the dai-fraud document against receipt, signed by k (the
 * challenger). trace is the worker's trace file (NULL: none). Fails, with
 * "the receipt is valid", when there is nothing to prove. r gets what the
 * verification found.
 */
int prove_challenge(const engine *en, const dai_doc *receipt, const dai_doc *job,
                    const dai_trace *trace, const dai_key *k, const prove_opts *o, dai_doc *fraud,
                    prove_report *r, dai_err *e);

/*
 * Checks a dai-fraud document on en (the pack the fraud names). 0 with
 * r->ok = 0 when fraud is proven, r->ok = 1 when it is not (the reason
 * says why); -1 when the document cannot be checked (malformed, another
 * model, out of memory).
 */
int prove_check(const engine *en, const dai_doc *fraud, const prove_opts *o, prove_report *r,
                dai_err *e);

/* The model a fraud document names, for finding its pack: "b2:..." into
 * out; -1 when it is not a dai-fraud. */
int prove_fraud_model(const dai_doc *fraud, char out[DAI_ID_LEN + 1], dai_err *e);

/*
 * A dai-verdict on what verify (subject a dai-receipt) or check (subject a
 * dai-fraud) found, signed by k, or unsigned ("sig -") when k is NULL.
 */
int prove_verdict(const dai_doc *subject, const prove_report *r, const dai_key *k, dai_doc *out,
                  dai_err *e);

#endif
