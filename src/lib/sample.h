/*
 * sample.h - choosing the next token from a row of logits: greedy,
 * temperature, top-k and top-p, with randomness that a verifier can
 * re-derive for any single step.
 *
 * There is no hidden state. The random number of step t comes from
 * (seed, t) alone, so a verifier holding the logits of one position
 * recomputes the token chosen there without replaying earlier steps. The
 * algorithm below is part of dai's determinism contract: every step is
 * IEEE binary32 arithmetic in the order written (compiled with
 * -ffp-contract=off, exp from dmath.h), so every machine picks the same
 * token from the same logits. Change it only with a new version of the
 * domain string.
 *
 * THE ALGORITHM, sample_token(P, x[0..n), t)
 *
 *   P = {temp, top_k, top_p, seed}, valid when temp is finite and >= 0,
 *   top_k >= 0 (0: off) and 0 < top_p <= 1 (1: off); sample_params_check
 *   says so.
 *
 *   1. Greedy. If temp == 0 or top_k == 1: return the lowest index i whose
 *      x[i] is the largest non-NaN value (0 when every x[i] is NaN).
 *   2. Order. The candidates are the indices with x[i] not NaN (none: return
 *      0), sorted by x[i] descending, then index ascending (values compare
 *      as IEEE numbers: -0 == +0). Call them s[0], s[1], ...
 *   3. Top-k. K = top_k if 0 < top_k < (number of candidates), else all
 *      of them; keep s[0 .. K).
 *   4. Temperature. y[j] = x[s[j]] / temp (one float division). If y[0] is
 *      not finite (inf, or -inf when all are), return s[0].
 *   5. Weights. e[j] = dm_expf(y[j] - y[0]); e[0] = 1.
 *   6. Cumulative weights, in that order: c[0] = e[0], c[j] = c[j-1] + e[j].
 *   7. Top-p. If top_p < 1: M = the smallest m >= 1 with
 *      c[m-1] >= top_p * c[K-1] (one float multiply); else M = K.
 *   8. Draw. u = sample_uniform(seed, t); r = u * c[M-1]. Return s[j] for
 *      the smallest j < M with r < c[j] (always exists: u < 1 and
 *      c[M-1] >= 1 make r < c[M-1]; were there none, s[0]).
 *
 *   sample_uniform(seed, t):
 *      key = BLAKE2b-256("dai.sample.v1" || le64(seed) || le64(t))
 *            (libsodium crypto_generichash, unkeyed, 13 + 8 + 8 bytes in)
 *      b   = the first 8 bytes of randombytes_buf_deterministic(key), the
 *            ChaCha20 (IETF) keystream under key and libsodium's fixed nonce
 *      u   = (le64(b) >> 40) * 2^-24, a float in [0, 1) with 24 random bits
 *
 * Temperature is applied before top-p (as in llama2.c and Hugging Face
 * transformers): top-p cuts the tempered distribution. A weight that
 * underflows to 0 can never be drawn. The implementation skips
 * candidates with y[j] - y[0] <= -104 (whose dm_expf is exactly 0) before
 * sorting, which changes no result.
 */
#ifndef DAI_SAMPLE_H
#define DAI_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SAMPLE_DOMAIN "dai.sample.v1"

typedef struct dai_sample_params {
	float temp;    /* 0: greedy */
	int32_t top_k; /* 0: off */
	float top_p;   /* 1: off */
	uint64_t seed;
} dai_sample_params;

/* Fails (one line naming the bad parameter) unless p is valid. */
int sample_params_check(const dai_sample_params *p, dai_err *e);

/* Bytes of scratch memory sample_token needs for a vocabulary of n_vocab. */
size_t sample_scratch_size(int n_vocab);

/* The token chosen at step t from logits[0..n_vocab), as the algorithm
 * above says. scratch holds sample_scratch_size(n_vocab) bytes (any
 * alignment suitable for malloc; its contents do not matter). Returns -1
 * only for invalid parameters or n_vocab < 1. Thread-safe with separate
 * scratch. */
int32_t sample_token(const dai_sample_params *p, const float *logits, int n_vocab, uint64_t t,
                     void *scratch);

/* The lowest index of the largest non-NaN logit (0 if all are NaN). */
int32_t sample_greedy(const float *logits, int n_vocab);

/* The uniform number of step t: see the top. */
float sample_uniform(uint64_t seed, uint64_t t);

#endif
