/*
 * kern_gelu.h - GELU (tanh form) as llama.cpp's CPU backend computes it,
 * and the GELU-gated product of Gemma's feed-forward block.
 *
 * Contract (an addition to kern.h's row helpers, same rules: n >= 0, y may
 * be an input):
 *
 *   gelu(x) = 0                       if x <= -10
 *           = x                       if x >= 10
 *           = f32(T[f16(x)])          otherwise (NaN: T of its half)
 *   geglu:  y[i] = gelu(g[i]) * u[i]
 *
 * f16 rounds to nearest even (f16.h). T is the table of 65536 halves that
 * ggml builds at start-up (GGML_GELU_FP16, ggml_table_gelu_f16):
 *
 *   T[h] = f16(0.5f*v*(1.0f + tanh(0.7978845608f*v*fma(0.044715f*v, v, 1.0f))))
 *
 * for v = f32(h), every operation a float operation in that order (the
 * fused multiply-add is what the compiler makes of ggml's
 * 1.0f + GELU_COEF_A*x*x in its x86 builds; without it one entry, at
 * v = -1.99902, differs), and tanh the float nearest to the exact tanh of
 * its float argument. Here
 * tanh is computed in double from basic operations only (a reduced
 * exponential and its Taylor polynomial, kern_gelu.c), then rounded to
 * float, so T is the same on every machine; the tests check it against
 * the table of libggml (llama.cpp commit c392e50) entry for entry.
 *
 * The reference and AVX2 versions both look the value up in T (the AVX2
 * one converts with F16C and gathers), so they agree bit for bit.
 */
#ifndef DAI_KERN_GELU_H
#define DAI_KERN_GELU_H

#include <stdint.h>

#include "kern.h"

/* The 65536 halves of T (built once, thread-safe). */
const uint16_t *kern_gelu_table(void);

/* gelu(x) of the contract. */
float kern_gelu(float x);

/* y[i] = gelu(g[i]) * u[i] with table k's version (kern_ref() or kern_avx2()). */
void kern_geglu(const kern_table *k, const float *g, const float *u, float *y, int n);

/* The two versions, for the tests. */
void kern_geglu_ref(const float *g, const float *u, float *y, int n);
void kern_geglu_avx2(const float *g, const float *u, float *y, int n);

#endif
