/*
 * ledgerbench - ledger throughput: builds a ledger of N transfers (default
 * 100000) in memory and writes it, then times a full `verify` replay, an
 * open from the snapshot cache, and appends (each fsync'd) through one
 * open handle and with an open/close around each (as dai-settle does).
 *
 * Build by hand:
 *   make build/rel/libdai.a
 *   cc -std=c11 -O2 -D_DEFAULT_SOURCE -Isrc/lib tests/bench/ledgerbench.c \
 *      build/rel/libdai.a -lsodium -lm -pthread -o build/ledgerbench
 * Usage: ledgerbench [DIR] [N] [APPENDS]
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsio.h"
#include "key.h"
#include "ledger_file.h"
#include "settle.h"

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const dai_err *e)
{
	fprintf(stderr, "ledgerbench: %s\n", e->msg);
	exit(1);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	long n = argc > 2 ? atol(argv[2]) : 100000, appends = argc > 3 ? atol(argv[3]) : 200;
	char path[4096], snap[4200];
	dai_err e;
	dai_key a, b;
	if (sodium_init() < 0 || key_generate(&a, &e) || key_generate(&b, &e))
		return 1;
	snprintf(path, sizeof path, "%s/ledgerbench.%ld", dir, (long)getpid());
	snprintf(snap, sizeof snap, "%s.snap", path);
	setenv("DAI_NOW", "2026-01-01T00:00:00Z", 1);

	/* Build: every entry encoded, signed and applied, then one write. */
	double t0 = now_s();
	ledger_state st;
	state_init(&st);
	size_t cap = (size_t)n * 450 + 4096, len = 0;
	char *buf = malloc(cap);
	ledger_alloc al[2];
	strcpy(al[0].did, a.did);
	strcpy(al[1].did, b.did);
	al[0].amount = al[1].amount = 1000000000;
	for (long i = 0; i < n; i++) {
		ledger_entry req = {0}, en;
		const dai_key *k = i % 2 ? &b : &a;
		if (i == 0) {
			req.op = OP_GENESIS;
			req.window = 3600;
			req.alloc = al;
			req.nalloc = 2;
		} else {
			req.op = OP_TRANSFER;
			req.amount = 1;
			strcpy(req.to, i % 2 ? a.did : b.did);
		}
		strcpy(req.prev, st.head);
		req.time = 1767225600LL + i;
		if (entry_encode(&req, k->sk, &en, &e) || state_apply(&st, &en, &e))
			die(&e);
		if (len + en.raw.len > cap)
			buf = realloc(buf, cap *= 2);
		memcpy(buf + len, en.raw.raw, en.raw.len);
		len += en.raw.len;
		entry_free(&en);
	}
	if (file_write_atomic(path, buf, len, 0644, 0, &e))
		die(&e);
	double t1 = now_s();
	printf("build   %ld entries, %.1f MB: %.2f s (%.0f entries/s signed and applied)\n", n,
	       len / 1e6, t1 - t0, n / (t1 - t0));

	char later[32];
	snprintf(later, sizeof later, "%lld", 1767225600LL + n);
	setenv("DAI_NOW", later, 1);
	unlink(snap);

	ledger l;
	t0 = now_s();
	if (ledger_open(&l, path, LEDGER_VERIFY, &e))
		die(&e);
	t1 = now_s();
	if (l.damaged || l.st.entries != (uint64_t)n)
		return fprintf(stderr, "ledgerbench: verify failed: %s\n", l.damage.msg), 1;
	printf("verify  %ld entries: %.2f s (%.0f entries/s)\n", n, t1 - t0, n / (t1 - t0));
	ledger_close(&l);

	/* verify saved a snapshot; a plain open starts from it. */
	t0 = now_s();
	if (ledger_open(&l, path, LEDGER_READ, &e))
		die(&e);
	t1 = now_s();
	printf("open    from the snapshot: %.3f s (%s)\n", t1 - t0,
	       l.from_snapshot ? "used" : "NOT used");
	ledger_close(&l);

	/* Appends through one handle: each is fsync'd (file and directory). */
	if (ledger_open(&l, path, LEDGER_WRITE, &e))
		die(&e);
	t0 = now_s();
	for (long i = 0; i < appends; i++)
		if (settle_transfer(&l, &a, b.did, 1, NULL, &e))
			die(&e);
	t1 = now_s();
	ledger_close(&l);
	printf("append  %ld through one handle: %.0f appends/s\n", appends, appends / (t1 - t0));
	t0 = now_s();
	for (long i = 0; i < appends; i++) {
		if (ledger_open(&l, path, LEDGER_WRITE, &e) ||
		    settle_transfer(&l, &a, b.did, 1, NULL, &e))
			die(&e);
		ledger_close(&l);
	}
	t1 = now_s();
	printf("append  %ld with open/replay-from-snapshot/close each: %.0f appends/s\n", appends,
	       appends / (t1 - t0));
	unlink(path);
	unlink(snap);
	free(buf);
	state_free(&st);
	key_free(&a);
	key_free(&b);
	return 0;
}
