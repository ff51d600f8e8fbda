/* kern_quant.c - see kern_quant.h: type info, table pairing, activations. */
#include "kern_quant.h"

#include <string.h>

static const kern_qinfo infos[KQ_COUNT] = {
    [KQ_Q4_0] = {KERN_Q4_0, "q4_0", 32, sizeof(kern_q4_0), KACT_Q8_0, 32, sizeof(kern_q8_0)},
    [KQ_Q4_1] = {KERN_Q4_1, "q4_1", 32, sizeof(kern_q4_1), KACT_Q8_1, 32, sizeof(kern_q8_1)},
    [KQ_Q5_0] = {KERN_Q5_0, "q5_0", 32, sizeof(kern_q5_0), KACT_Q8_0, 32, sizeof(kern_q8_0)},
    [KQ_Q5_1] = {KERN_Q5_1, "q5_1", 32, sizeof(kern_q5_1), KACT_Q8_1, 32, sizeof(kern_q8_1)},
    [KQ_Q4_K] = {KERN_Q4_K, "q4_K", 256, sizeof(kern_q4_k), KACT_Q8_K, 256, sizeof(kern_q8_k)},
    [KQ_Q5_K] = {KERN_Q5_K, "q5_K", 256, sizeof(kern_q5_k), KACT_Q8_K, 256, sizeof(kern_q8_k)},
    [KQ_Q6_K] = {KERN_Q6_K, "q6_K", 256, sizeof(kern_q6_k), KACT_Q8_K, 256, sizeof(kern_q8_k)},
    [KQ_BF16] = {KERN_BF16, "bf16", 1, 2, KACT_BF16, 1, sizeof(float)},
};

const kern_qinfo *kern_qinfo_at(enum kern_qtype q)
{
	return (unsigned)q < KQ_COUNT ? &infos[q] : NULL;
}

const kern_qinfo *kern_qinfo_of(enum kern_type t)
{
	for (int q = 0; q < KQ_COUNT; q++)
		if (infos[q].type == t)
			return &infos[q];
	return NULL;
}

const kern_qtable *kern_quant_for(const kern_table *k)
{
	/* by name: kern_avx2() asks CPUID, far too slow for every matmul task */
	if (!strcmp(k->name, "avx2") && kern_quant_avx2_table())
		return kern_quant_avx2_table();
	if (!strcmp(k->name, "avx512")) {
		if (kern_quant_avx512_table()) /* CPUID once, then a cached answer */
			return kern_quant_avx512_table();
		if (kern_quant_avx2_table())
			return kern_quant_avx2_table();
	}
	return kern_quant_ref();
}

void kern_quant_act_row(const kern_table *k, const kern_qinfo *qi, const float *x, int n, void *act)
{
	const kern_qtable *q = kern_quant_for(k);
	switch (qi->act) {
	case KACT_Q8_0:
		k->quantize_q8_0(x, act, n);
		break;
	case KACT_Q8_1:
		q->quantize_q8_1(x, act, n);
		break;
	case KACT_Q8_K:
		q->quantize_q8_k(x, act, n);
		break;
	case KACT_BF16:
		q->round_bf16(x, act, n);
		break;
	}
}
