/*
 * session.h - one inference stream over a loaded model: the forward pass
 * with a KV cache.
 *
 * A session owns its KV cache (F32, n_ctx positions of every layer) and
 * scratch, and uses a kernel table and optionally a thread pool; there is
 * no global state, so any number of sessions may share a model. A session
 * itself is used by one thread at a time.
 *
 * session_eval(s, tokens, n, ...) runs tokens at positions pos .. pos+n-1
 * (pos = session_pos), appends their keys and values to the cache and
 * advances pos by n. Internally the batch is cut into steps of at most
 * n_batch tokens; each step does every matrix product once for all its
 * tokens (batched kern_matmul, split by output rows over the pool) and
 * attention per (token, head) over the pool. Because every result is one
 * canonical dot (kern.h), the logits are identical bit for bit whatever
 * the thread count, n_batch, or the way tokens are split across calls, and
 * equal between kernel tables.
 *
 * The math is llama.cpp's LLM_ARCH_LLAMA (and LLM_ARCH_QWEN2, model.h):
 * x = token_embd[id]; per layer h = rmsnorm(x)*attn_norm, q/k/v = W h (plus
 * the bias, when the model has one), RoPE on q and k (rope.h: normal or
 * NEOX pairs, angles scaled by the frequency factors if any),
 * causal softmax(q.k * 1/sqrt(head_dim)) v with query head j reading kv head
 * j / (n_heads / n_kv_heads), x += Wo attn (+ bo), h = rmsnorm(x)*ffn_norm,
 * x += Wdown(silu(Wgate h) * Wup h); logits = Woutput(rmsnorm(x)*output_norm).
 * Before each matrix product the activation row is prepared for the
 * weight's type (F16: rounded to half; Q8_0: quantized), as llama.cpp does.
 */
#ifndef DAI_SESSION_H
#define DAI_SESSION_H

#include <stdint.h>

#include "err.h"
#include "kern/kern.h"
#include "model.h"
#include "pool.h"

typedef struct session session;

/*
 * Residual hook (for proofs): called with the residual vectors of n
 * consecutive tokens at positions pos0 .. pos0 + n - 1 (x: n rows of dim
 * floats, valid only during the call), after the embedding (layer 0) and
 * after each transformer block l (layer l+1, so layer runs 0 .. n_layers).
 *
 * Order of calls: step by step (a step is at most n_batch tokens of one
 * session_eval, in token order); within a step, layer by layer, every call
 * of a layer ending before the next layer starts. A layer's tokens come in
 * runs of at most SESSION_HOOK_RUN positions (a trace hashes that many
 * vectors at once), and the runs of one layer go to the session's thread
 * pool, concurrently and in any order: a hook must write only what belongs
 * to its own positions (and lock anything shared). So a single-token step
 * gives (pos, 1 token, 0), (pos, 1, 1), ..., (pos, 1, n_layers), and a step
 * of tokens p, p+1 gives (p, 2 tokens, 0), then (p, 2, 1), ... Callers
 * wanting (token, layer) order buffer the vectors of a step.
 */
typedef void (*session_hook)(void *ctx, int pos0, int n, int layer, const float *x, int dim);

#define SESSION_HOOK_RUN 8 /* most positions of one hook call */

typedef struct session_params {
	int n_ctx;              /* positions in the KV cache; 0: the model's context_length */
	int n_batch;            /* most tokens per step; 0: SESSION_DEFAULT_BATCH */
	int n_threads;          /* used when pool is NULL: 1 runs on the caller, 0 all CPUs,
	                           > 1 starts a pool owned by the session */
	pool *pool;             /* borrowed; shared with nothing else while eval runs */
	const kern_table *kern; /* NULL: kern_select() (DAI_KERNELS) */
} session_params;

#define SESSION_DEFAULT_BATCH 64

/* Which logits session_eval writes. */
enum session_logits {
	SESSION_LOGITS_NONE = 0, /* logits may be NULL */
	SESSION_LOGITS_LAST = 1, /* n_vocab floats: the last token's */
	SESSION_LOGITS_ALL = 2,  /* n x n_vocab floats, row i for tokens[i] */
};

/* Creates a session at position 0. p may be NULL (all defaults). */
session *session_new(const model *m, const session_params *p, dai_err *e);

/* Frees the session (and its pool, if it started one). NULL is a no-op. */
void session_free(session *s);

/*
 * Evaluates n >= 1 tokens at the current position (see the top comment).
 * Fails, before changing anything, when a token id is outside
 * [0, n_vocab) or pos + n would exceed n_ctx. Returns 0 or -1 with e set.
 */
int session_eval(session *s, const int32_t *tokens, int n, float *logits, enum session_logits which,
                 dai_err *e);

/* Tokens in the cache (the position of the next token). */
int session_pos(const session *s);

/* Capacity of the cache, and the model. */
int session_n_ctx(const session *s);
const model *session_model(const session *s);

/* The kernel table in use. */
const kern_table *session_kern(const session *s);

/*
 * Forgets the cache beyond the first pos tokens (0 <= pos <= session_pos),
 * so the next eval continues at pos: evaluating the same tokens again gives
 * the same logits. session_reset is session_rewind to 0.
 */
int session_rewind(session *s, int pos, dai_err *e);
void session_reset(session *s);

/* Sets (fn NULL: clears) the residual hook. */
void session_set_hook(session *s, session_hook fn, void *ctx);

/*
 * The pieces of the forward pass on their own, for checking one step of a
 * trace (prove.h) without running the rest. Each gives bit for bit what
 * session_eval computes at that point:
 *
 *   session_embed  x = the embedding of token id (dim floats)
 *   session_layer  runs transformer block l (0-based) on the residuals
 *                  x[0..n) (n rows of dim floats) of the tokens at
 *                  positions 0 .. n-1, writing the residuals after the
 *                  block to out (n rows); it uses the cache of layer l
 *                  only, so the session's position is not changed, but
 *                  the cache of that layer is overwritten
 *   session_layer_last  the same for the last token only: out gets its
 *                  residual after block l (dim floats); the tokens before
 *                  it only get their keys and values into the cache, which
 *                  is all its attention reads (about one token's work plus
 *                  two small products per earlier token)
 *   session_head   logits (n_vocab floats) = output(rmsnorm(x))
 *
 * session_layer needs n <= session_n_ctx and is split into steps of
 * n_batch tokens like session_eval.
 */
int session_embed(session *s, int32_t id, float *x, dai_err *e);
int session_layer(session *s, int l, const float *x, int n, float *out, dai_err *e);
int session_layer_last(session *s, int l, const float *x, int n, float *out, dai_err *e);
void session_head(session *s, const float *x, float *logits);

#endif
