/*
 * membw - measures the machine's memory read bandwidth the way a decode step
 * reads model weights: one sequential pass over a buffer far larger than the
 * last-level cache, split into contiguous slices, one per thread, with wide
 * (AVX2 where the CPU has it) loads into independent integer accumulators, so
 * the loads, not the adds, set the pace. Each thread count gets the best of
 * several passes; the pages are touched beforehand, so page faults stay out.
 *
 * Usage: membw [-s MiB] [-r passes] [-t max_threads]
 *   measures 1..max_threads threads (default 2) over a 1024 MiB buffer, best
 *   of 5 passes, and prints one line:
 *   membw buffer_mib=1024 passes=5 read_gbps_t1=18.52 read_gbps_t2=24.10
 *   (GB = 10^9 bytes).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { MAX_THREADS = 256, CHUNK = 128 /* bytes summed per loop step */ };

typedef uint64_t v4u64 __attribute__((vector_size(32)));

/* The same loop twice: compiled for AVX2 (32-byte loads) and for the
 * baseline instruction set; main picks one from CPUID. */
#define SUM_BODY                                                                                   \
	v4u64 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};                                              \
	for (const unsigned char *q = p; q < p + n; q += CHUNK) {                                  \
		v4u64 x0, x1, x2, x3;                                                              \
		memcpy(&x0, q, 32);                                                                \
		memcpy(&x1, q + 32, 32);                                                           \
		memcpy(&x2, q + 64, 32);                                                           \
		memcpy(&x3, q + 96, 32);                                                           \
		a0 += x0, a1 += x1, a2 += x2, a3 += x3;                                            \
	}                                                                                          \
	a0 += a1 + a2 + a3;                                                                        \
	return a0[0] ^ a0[1] ^ a0[2] ^ a0[3];

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static uint64_t sum_avx2(const unsigned char *p, size_t n)
{
	SUM_BODY
}
#endif

static uint64_t sum_base(const unsigned char *p, size_t n)
{
	SUM_BODY
}

static uint64_t (*sum_fn)(const unsigned char *, size_t) = sum_base;

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

struct slice {
	const unsigned char *p;
	size_t n;
	pthread_barrier_t *start;
	uint64_t sum;
	int fill; /* touch (write) the slice instead of reading it */
};

static void *run_slice(void *arg)
{
	struct slice *s = arg;
	pthread_barrier_wait(s->start);
	if (s->fill)
		memset((void *)s->p, 0x5a, s->n);
	else
		s->sum = sum_fn(s->p, s->n);
	return NULL;
}

/* One pass with nt threads over buf[0..n); returns seconds from the common
 * start until the last thread is done, or a negative value on failure. */
static double pass(unsigned char *buf, size_t n, int nt, int fill, uint64_t *sink)
{
	pthread_t th[MAX_THREADS];
	struct slice sl[MAX_THREADS];
	pthread_barrier_t start;
	size_t chunks = n / CHUNK;
	if (pthread_barrier_init(&start, NULL, (unsigned)nt + 1))
		return -1;
	int made = 0;
	for (; made < nt; made++) {
		size_t lo = chunks * (size_t)made / (size_t)nt * CHUNK;
		size_t hi = chunks * (size_t)(made + 1) / (size_t)nt * CHUNK;
		sl[made] = (struct slice){buf + lo, hi - lo, &start, 0, fill};
		if (pthread_create(&th[made], NULL, run_slice, &sl[made]))
			break;
	}
	if (made < nt) {
		/* cannot release the barrier without every party: give up */
		fprintf(stderr, "membw: cannot start %d threads\n", nt);
		exit(1);
	}
	pthread_barrier_wait(&start);
	double t0 = now_s();
	for (int i = 0; i < nt; i++) {
		pthread_join(th[i], NULL);
		*sink ^= sl[i].sum;
	}
	double dt = now_s() - t0;
	pthread_barrier_destroy(&start);
	return dt;
}

static long parse_pos(const char *s, const char *what, long max)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 1 || v > max) {
		fprintf(stderr, "membw: %s must be an integer in 1..%ld, not '%s'\n", what, max, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	long mib = 1024, passes = 5, max_threads = 2;
	int c;
	while ((c = getopt(argc, argv, "s:r:t:")) != -1) {
		switch (c) {
		case 's':
			mib = parse_pos(optarg, "-s (MiB)", 1 << 20);
			break;
		case 'r':
			passes = parse_pos(optarg, "-r (passes)", 1000);
			break;
		case 't':
			max_threads = parse_pos(optarg, "-t (threads)", MAX_THREADS);
			break;
		default:
			fprintf(stderr, "usage: membw [-s MiB] [-r passes] [-t max_threads]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: membw [-s MiB] [-r passes] [-t max_threads]\n");
		return 2;
	}
#if defined(__x86_64__) && defined(__GNUC__)
	if (__builtin_cpu_supports("avx2"))
		sum_fn = sum_avx2;
#endif
	size_t n = (size_t)mib << 20;
	unsigned char *buf = aligned_alloc(4096, n);
	if (!buf) {
		fprintf(stderr, "membw: cannot allocate %ld MiB\n", mib);
		return 1;
	}
	uint64_t sink = 0;
	/* every thread first touches its own slice (page placement, no faults later) */
	if (pass(buf, n, (int)max_threads, 1, &sink) < 0) {
		fprintf(stderr, "membw: cannot start threads\n");
		return 1;
	}
	printf("membw buffer_mib=%ld passes=%ld", mib, passes);
	for (int nt = 1; nt <= max_threads; nt++) {
		double best = 1e30;
		for (long r = 0; r < passes; r++) {
			double dt = pass(buf, n, nt, 0, &sink);
			if (dt < 0) {
				fprintf(stderr, "membw: cannot start threads\n");
				return 1;
			}
			best = dt < best ? dt : best;
		}
		printf(" read_gbps_t%d=%.2f", nt, (double)n / best * 1e-9);
	}
	printf("\n");
	/* the sums must be used, or the reads could be optimised away */
	if (sink == 0x123456789abcdefULL)
		fprintf(stderr, "membw: (unlikely sum)\n");
	free(buf);
	return 0;
}
