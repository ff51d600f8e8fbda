/* rope.c - see rope.h: RoPE angles with frequency factors, normal and NEOX pairing. */
#include "rope.h"

#include "kern/dmath.h"

void rope_table(const model *m, int pos, float *cos, float *sin)
{
	int hd = m->head_dim;
	if (!m->rope_freqs) {
		dm_rope_table_scaled(pos, hd, m->rope_base, m->rope_freq_scale, cos, sin);
		return;
	}
	float theta_scale = dm_powf(m->rope_base, -2.0f / (float)hd);
	float theta = (float)pos;
	for (int i = 0; i < hd / 2; i++) {
		float t = m->rope_freq_scale * (theta / m->rope_freqs[i]);
		cos[i] = dm_cosf(t);
		sin[i] = dm_sinf(t);
		theta = theta * theta_scale;
	}
}

/* Pairs gathered per kernel call (the stack buffer holds twice as many floats). */
#define NEOX_CHUNK 64

void rope_apply(const kern_table *k, const model *m, float *x, int n_heads, const float *cos,
                const float *sin)
{
	int hd = m->head_dim, half = hd / 2;
	if (!m->rope_neox) {
		k->rope(x, cos, sin, hd, n_heads);
		return;
	}
	float buf[2 * NEOX_CHUNK];
	for (int h = 0; h < n_heads; h++) {
		float *v = x + (size_t)h * hd;
		for (int i0 = 0; i0 < half; i0 += NEOX_CHUNK) {
			int cnt = half - i0 < NEOX_CHUNK ? half - i0 : NEOX_CHUNK;
			for (int i = 0; i < cnt; i++) {
				buf[2 * i] = v[i0 + i];
				buf[2 * i + 1] = v[half + i0 + i];
			}
			/* one "head" of 2*cnt values: pair i turns by entry i0 + i */
			k->rope(buf, cos + i0, sin + i0, 2 * cnt, 1);
			for (int i = 0; i < cnt; i++) {
				v[i0 + i] = buf[2 * i];
				v[half + i0 + i] = buf[2 * i + 1];
			}
		}
	}
}
