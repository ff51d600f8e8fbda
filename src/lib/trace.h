/*
 * trace.h - the trace of a job: one leaf per (position, step) of the
 * forward pass, a Merkle root over them, and the trace file.
 *
 * A job evaluates the token sequence s[0..N) = prompt + output, one position
 * at a time or in batches; position t (0 <= t < P, P = N - 1 positions: the
 * last output token is sampled but never evaluated) has L + 2 leaves, for a
 * model of L layers:
 *
 *   step 0         BLAKE2b-256 of the embedding of s[t]   (dim float32, LE)
 *   step l, 1..L   BLAKE2b-256 of the residual after layer l - 1
 *   step L + 1     BLAKE2b-256 of s[t + 1] as int32 LE (the next token: the
 *                  next prompt token, or the token sampled from position t)
 *
 * Leaf (t, j) has index t * (L + 2) + j, so leaves are ordered by position,
 * then step; the root is merkle_root over all P * (L + 2) leaves.
 *
 * The trace file (little-endian) is a 112-byte header and the leaves:
 *
 *   "DAITRACE" u32 version (1) u32 n_layers u32 dim u32 reserved (0)
 *   u64 n_positions u64 n_leaves  job id (32 bytes)  model id (32 bytes)
 *   n_leaves x 32 bytes
 *
 * The ids are the raw BLAKE2b-256 digests of the dai-job document and of the
 * pack (its manifest), as in their "b2:" text form.
 */
#ifndef DAI_TRACE_H
#define DAI_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "merkle.h"

#define TRACE_MAGIC "DAITRACE"
#define TRACE_VERSION 1
#define TRACE_HEADER 112

typedef struct dai_trace {
	uint32_t n_layers, dim;
	uint64_t n_positions;    /* positions with room in leaves */
	unsigned char job[32];   /* job id digest (zero when unknown) */
	unsigned char model[32]; /* model id digest */
	unsigned char *leaves;   /* n_positions * (n_layers + 2) * 32 bytes */
} dai_trace;

/* Leaves per position. */
static inline uint64_t trace_steps(const dai_trace *t)
{
	return (uint64_t)t->n_layers + 2;
}

static inline uint64_t trace_n_leaves(const dai_trace *t)
{
	return t->n_positions * trace_steps(t);
}

/* Allocates room for n_positions positions (leaves zeroed). */
int trace_init(dai_trace *t, uint32_t n_layers, uint32_t dim, uint64_t n_positions, dai_err *e);
void trace_free(dai_trace *t);

/* The leaf hashes. */
void trace_hash_vector(const float *x, uint32_t dim, unsigned char out[MERKLE_HASH]);
void trace_hash_token(int32_t token, unsigned char out[MERKLE_HASH]);

/* Stores leaf (pos, step) for a vector (steps 0..L) or the next token
 * (step L + 1). pos and step must be in range (the caller's invariant). */
void trace_set_vector(dai_trace *t, uint64_t pos, uint32_t step, const float *x);
/* The leaves (pos0 + i, step) for i < n from x's n rows of dim floats: the
 * same as n trace_set_vector calls, hashed eight at a time. */
void trace_set_vectors(dai_trace *t, uint64_t pos0, uint64_t n, uint32_t step, const float *x);
/* A session hook (session.h) that sets the leaves of the trace ctx from
 * the residuals it is handed; positions past the trace are not part of it
 * (the last prompt token when nothing is generated, the last output
 * token). */
void trace_hook(void *ctx, int pos0, int n, int layer, const float *x, int dim);
void trace_set_token(dai_trace *t, uint64_t pos, int32_t next_token);

static inline unsigned char *trace_leaf(const dai_trace *t, uint64_t pos, uint32_t step)
{
	return t->leaves + (pos * trace_steps(t) + step) * MERKLE_HASH;
}

void trace_root(const dai_trace *t, unsigned char root[MERKLE_HASH]);

/* Writes the trace file atomically (temp file, fsync, rename). */
int trace_write(const dai_trace *t, const char *path, dai_err *e);

/* Reads and checks a trace file (header, sizes, version). */
int trace_read(dai_trace *t, const char *path, dai_err *e);

#endif
