/* kern.c - see kern.h: table selection, activation preparation, threaded matmul. */
#include "kern.h"

#include <stdlib.h>
#include <string.h>

/* defined in kern_avx2.c; NULL when that file was built without AVX2 */
const kern_table *kern_avx2_table(void);

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

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
	unsigned xlo, xhi;
	__asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
	if ((xlo & 6u) != 6u)
		return 0;
	if (__get_cpuid_max(0, NULL) < 7)
		return 0;
	__cpuid_count(7, 0, a, b, c, d);
	return (b >> 5) & 1;
}
#else
static int cpu_has_avx2(void)
{
	return 0;
}
#endif

const kern_table *kern_avx2(void)
{
	return cpu_has_avx2() ? kern_avx2_table() : NULL;
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
	if (!strcmp(name, "auto") || !*name) {
		const kern_table *t = kern_avx2();
		return t ? t : kern_ref();
	}
	dai_errf(e, "DAI_KERNELS=%.64s: unknown kernel set (use ref, avx2 or auto)", name);
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
	if (t == KERN_Q8_0)
		return rows * (cols / KERN_QK8_0) * sizeof(kern_q8_0);
	return rows * cols * sizeof(float);
}

void kern_act_prep(const kern_table *k, enum kern_type t, const float *x, int ldx, int n, int batch,
                   void *act)
{
	for (int b = 0; b < batch; b++) {
		const float *xr = x + (size_t)b * ldx;
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
	switch (j->t) {
	case KERN_Q8_0: {
		int nb = j->n / KERN_QK8_0;
		j->k->matmul_q8_0(j->w, nb, j->act, nb, j->y, j->ldy, j->n, r0, r1, j->batch);
		break;
	}
	case KERN_F16:
		j->k->matmul_f16(j->w, j->n, j->act, j->n, j->y, j->ldy, j->n, r0, r1, j->batch);
		break;
	default:
		j->k->matmul_f32(j->w, j->n, j->act, j->n, j->y, j->ldy, j->n, r0, r1, j->batch);
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
	 * (the AVX2 matvec takes rows in pairs) and at least 16 rows so that a
	 * task is worth handing out. The split never changes a result.
	 */
	int nt = pool_threads(p);
	int chunk = (rows + 4 * nt - 1) / (4 * nt);
	chunk = chunk < 16 ? 16 : chunk + (chunk & 1);
	struct mm_job j = {k, t, w, act, y, ldy, n, rows, batch, chunk};
	pool_run(p, (rows + chunk - 1) / chunk, mm_task, &j);
}
