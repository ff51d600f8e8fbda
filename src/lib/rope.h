/*
 * rope.h - rotary position embedding as each architecture applies it.
 *
 * rope_table gives the angles of one position, as llama.cpp's
 * ggml_rope_cache_init computes them (no YaRN, attention factor 1):
 *
 *   theta_scale = dm_powf(base, -2.0f / (float)head_dim)
 *   theta = (float)pos
 *   for i < head_dim/2:
 *       t = freq_scale * (freqs ? theta / freqs[i] : theta)   (float ops)
 *       cos[i] = dm_cosf(t); sin[i] = dm_sinf(t)
 *       theta = theta * theta_scale
 *
 * With no frequency factors this is dm_rope_table_scaled bit for bit.
 *
 * rope_apply rotates n_heads heads of head_dim values in place. Normal
 * mode is the kernel's rope (kern.h contract 5: pair i is (2i, 2i+1)).
 * NEOX mode (qwen2, phi3, gemma) pairs element i with element i + head_dim/2; it is done
 * by gathering each head's pairs into adjacent positions, calling the same
 * kernel and scattering the results back. Every output is computed from
 * the same two inputs with the same products and sum as the kernel's
 * formula, so NEOX mode is exactly
 *   x[i]' = x[i]*cos[i] - x[i+h]*sin[i];  x[i+h]' = x[i]*sin[i] + x[i+h]*cos[i]
 * (h = head_dim/2, each product rounded, then the sum), and the reference
 * and AVX2 tables agree on it as they agree on the kernel.
 */
#ifndef DAI_ROPE_H
#define DAI_ROPE_H

#include "kern/kern.h"
#include "model.h"

/* cos and sin of position pos for m (head_dim/2 floats each). */
void rope_table(const model *m, int pos, float *cos, float *sin);

/* Rotates x (n_heads heads of m->head_dim) in place with a table from rope_table. */
void rope_apply(const kern_table *k, const model *m, float *x, int n_heads, const float *cos,
                const float *sin);

#endif
