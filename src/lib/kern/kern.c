/* kern.c - see kern.h: table selection, activation preparation, threaded matmul. */
#include "kern.h"

#include <stdlib.h>
#include <string.h>

#include "kern_quant.h"

/* defined in kern_avx2.c and kern_avx512.c; NULL when that file was built
 * without its instruction set */
const kern_table *kern_avx2_table(void);
const kern_table *kern_avx512_table(void);

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* XCR0, the state components the OS saves (needs OSXSAVE, checked first) */
static unsigned xcr0(void)
{
	unsigned xlo, xhi;
	__asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
	return xlo;
}

/*
 * AVX2, FMA and F16C from CPUID, and the OS saving YMM state (OSXSAVE and
 * XCR0 bits 1-2). Done by hand because not every compiler's
 * __builtin_cpu_supports knows "f16c".
 */
static int cpu_has_avx2(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, f16c = (c >> 29) & 1;
	if (!fma || !osxsave || !f16c)
		return 0;
	if ((xcr0() & 6u) != 6u)
		return 0;
	if (__get_cpuid_max(0, NULL) < 7)
		return 0;
	__cpuid_count(7, 0, a, b, c, d);
	return (b >> 5) & 1;
}

/*
 * On top of AVX2: AVX-512 F, DQ, BW, VL (CPUID 7 EBX bits 16, 17, 30, 31)
 * and VNNI (ECX bit 11), and the OS saving the opmask and ZMM state too
 * (XCR0 bits 5-7).
 */
static int cpu_has_avx512(void)
{
	if (!cpu_has_avx2() || (xcr0() & 0xe6u) != 0xe6u)
		return 0;
	unsigned a, b, c, d;
	__cpuid_count(7, 0, a, b, c, d);
	unsigned need = 1u << 16 | 1u << 17 | 1u << 30 | 1u << 31;
	return (b & need) == need && ((c >> 11) & 1);
}
#else
static int cpu_has_avx2(void)
{
	return 0;
}

static int cpu_has_avx512(void)
{
	return 0;
}
#endif

const kern_table *kern_avx2(void)
{
	return cpu_has_avx2() ? kern_avx2_table() : NULL;
}

const kern_table *kern_avx512(void)
{
	return cpu_has_avx512() ? kern_avx512_table() : NULL;
}

const kern_table *kern_by_name(const char *name, dai_err *e)
{
	if (!strcmp(name, "ref"))
		return kern_ref();
	if (!strcmp(name, "avx2")) {
		const kern_table *t = kern_avx2();
		if (!t)
			dai_errf(e,
			         "DAI_KERNELS=avx2: this CPU does not support AVX2, FMA and F16C");
		return t;
	}
	if (!strcmp(name, "avx512")) {
		const kern_table *t = kern_avx512();
		if (!t)
			dai_errf(e, "DAI_KERNELS=avx512: this CPU does not support AVX-512 "
			            "F, BW, VL, DQ and VNNI");
		return t;
	}
	if (!strcmp(name, "auto") || !*name) {
		const kern_table *t = kern_avx512();
		if (!t)
			t = kern_avx2();
		return t ? t : kern_ref();
	}
	dai_errf(e, "DAI_KERNELS=%.64s: unknown kernel set (use ref, avx2, avx512 or auto)", name);
	return NULL;
}

const kern_table *kern_select(dai_err *e)
{
	const char *s = getenv("DAI_KERNELS");
	return kern_by_name(s ? s : "auto", e);
}

size_t kern_act_bytes(enum kern_type t, int n, int batch)
{
	size_t rows = batch > 0 ? (size_t)batch : 0;
	size_t cols = n > 0 ? (size_t)n : 0;
	const kern_qinfo *qi = kern_qinfo_of(t);
	if (qi)
		return rows * (cols / (size_t)qi->act_block) * qi->act_bytes;
	if (t == KERN_Q8_0)
		return rows * (cols / KERN_QK8_0) * sizeof(kern_q8_0);
	return rows * cols * sizeof(float);
}

void kern_act_prep(const kern_table *k, enum kern_type t, const float *x, int ldx, int n, int batch,
                   void *act)
{
	const kern_qinfo *qi = kern_qinfo_of(t);
	size_t row_bytes = kern_act_bytes(t, n, 1);
	for (int b = 0; b < batch; b++) {
		const float *xr = x + (size_t)b * ldx;
		if (qi) {
			kern_quant_act_row(k, qi, xr, n, (char *)act + (size_t)b * row_bytes);
			continue;
		}
		switch (t) {
		case KERN_Q8_0:
			k->quantize_q8_0(xr, (kern_q8_0 *)act + (size_t)b * (n / KERN_QK8_0), n);
			break;
		case KERN_F16:
			k->round_f16(xr, (float *)act + (size_t)b * n, n);
			break;
		default:
			memcpy((float *)act + (size_t)b * n, xr, (size_t)n * sizeof(float));
			break;
		}
	}
}

struct mm_job {
	const kern_table *k;
	enum kern_type t;
	const void *w;
	const void *act;
	float *y;
	int ldy, n, rows, batch, chunk;
};

static void mm_task(void *ctx, int task, int worker)
{
	(void)worker;
	const struct mm_job *j = ctx;
	int r0 = task * j->chunk;
	int r1 = r0 + j->chunk < j->rows ? r0 + j->chunk : j->rows;
	kern_matmul_rows(j->k, j->t, j->w, j->act, j->y, j->ldy, j->n, r0, r1, j->batch);
}

void kern_matmul_rows(const kern_table *k, enum kern_type t, const void *w, const void *act,
                      float *y, int ldy, int n, int row0, int row1, int batch)
{
	const kern_qinfo *qi = kern_qinfo_of(t);
	if (qi) {
		int ldw = n / qi->block, ldx = n / qi->act_block;
		kern_quant_for(k)->matmul[qi - kern_qinfo_at(0)](w, ldw, act, ldx, y, ldy, n, row0,
		                                                 row1, batch);
		return;
	}
	switch (t) {
	case KERN_Q8_0: {
		int nb = n / KERN_QK8_0;
		k->matmul_q8_0(w, nb, act, nb, y, ldy, n, row0, row1, batch);
		break;
	}
	case KERN_F16:
		k->matmul_f16(w, n, act, n, y, ldy, n, row0, row1, batch);
		break;
	default:
		k->matmul_f32(w, n, act, n, y, ldy, n, row0, row1, batch);
		break;
	}
}

void kern_matmul(const kern_table *k, pool *p, enum kern_type t, const void *w, const void *act,
                 float *y, int ldy, int n, int rows, int batch)
{
	if (rows <= 0 || batch <= 0)
		return;
	/*
	 * About four tasks per thread evens out uneven cores; chunks are even
	 * (the kernels' row tiles are 2 or 4 rows) and at least 16 rows so
	 * that a task is worth handing out. The split never changes a result.
	 */
	int nt = pool_threads(p);
	int chunk = (rows + 4 * nt - 1) / (4 * nt);
	chunk = chunk < 16 ? 16 : chunk + (chunk & 1);
	struct mm_job j = {k, t, w, act, y, ldy, n, rows, batch, chunk};
	pool_run(p, (rows + chunk - 1) / chunk, mm_task, &j);
}

size_t kern_row_bytes(enum kern_type t, int n)
{
	const kern_qinfo *qi = kern_qinfo_of(t);
	size_t cols = n > 0 ? (size_t)n : 0;
	if (qi)
		return cols / (size_t)qi->block * qi->bytes;
	if (t == KERN_Q8_0)
		return cols / KERN_QK8_0 * sizeof(kern_q8_0);
	return cols * (t == KERN_F16 ? 2 : 4);
}

int kern_type_block(enum kern_type t)
{
	const kern_qinfo *qi = kern_qinfo_of(t);
	if (qi)
		return qi->block;
	return t == KERN_Q8_0 ? KERN_QK8_0 : 1;
}

void kern_dequant_row(const kern_table *k, enum kern_type t, const void *w, int row, int n,
                      float *y)
{
	const char *r = (const char *)w + (size_t)row * kern_row_bytes(t, n);
	const kern_qinfo *qi = kern_qinfo_of(t);
	if (qi)
		kern_quant_for(k)->dequant[qi - kern_qinfo_at(0)](r, y, n);
	else if (t == KERN_Q8_0)
		k->dequant_q8_0((const kern_q8_0 *)r, y, n);
	else if (t == KERN_F16)
		k->f16_to_f32((const uint16_t *)r, y, n);
	else
		memcpy(y, r, (size_t)n * sizeof(float));
}
