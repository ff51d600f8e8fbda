/* ledger_snap.c - see ledger_snap.h. The snapshot is text:
 *
 *   dai-snapshot 2
 *   at <end> <head-offset> <line> <entries>
 *   head <id> <head-time>
 *   terms <window> <bond> <total>
 *   a <did> <balance> <stake> <finalized> <slashed> <open>      (per account)
 *   j <id> <buyer> <worker> <model> <max-tokens> <price> <locked> <expires>
 *     <status> <claimed-at> <receipt|-> <tokens-in> <tokens-out> <paid>
 *                                                              (per job, one line)
 *   sum <hex BLAKE2b-256 of every byte before this line>
 */
#include "ledger_snap.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsio.h"

#define SNAP_MAX (1u << 30)

static int snap_name(char *out, size_t cap, const char *ledger_path, const char *suffix)
{
	int n = snprintf(out, cap, "%s.snap%s", ledger_path, suffix);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int snap_save(const char *ledger_path, const ledger_state *st, const ledger_pos *pos, dai_err *e)
{
	char path[4096], tmp[4200], suffix[32];
	snprintf(suffix, sizeof suffix, ".%ld", (long)getpid());
	if (snap_name(path, sizeof path, ledger_path, "") ||
	    snap_name(tmp, sizeof tmp, ledger_path, suffix))
		return dai_errf(e, "%s: path too long", ledger_path);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return dai_errf(e, "out of memory");
	fprintf(f, "dai-snapshot 2\nat %" PRIu64 " %" PRIu64 " %lu %" PRIu64 "\n", pos->end,
	        pos->head_off, pos->line, st->entries);
	fprintf(f, "head %s %lld\nterms %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", st->head,
	        st->head_time, st->window, st->bond, st->total);
	for (size_t i = 0; i < st->nacc; i++) {
		const ledger_account *a = &st->acc[i];
		fprintf(f, "a %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		        a->did, a->balance, a->stake, a->finalized, a->slashed, a->open);
	}
	for (size_t i = 0; i < st->njobs; i++) {
		const ledger_job *j = &st->jobs[i];
		fprintf(f,
		        "j %s %" PRIu32 " %" PRIu32 " %s %" PRIu64 " %" PRIu64 " %" PRIu64
		        " %lld %d %lld %s %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		        j->id, j->buyer, j->worker, j->model, j->max_tokens, j->price, j->locked,
		        j->expires, (int)j->status, j->claimed_at, j->receipt[0] ? j->receipt : "-",
		        j->tokens_in, j->tokens_out, j->paid);
	}
	if (fclose(f) != 0 || !buf) {
		free(buf);
		return dai_errf(e, "out of memory");
	}
	unsigned char h[32];
	char hex[65], *all;
	crypto_generichash(h, sizeof h, (const unsigned char *)buf, len, NULL, 0);
	hex_encode(hex, h, sizeof h);
	size_t total = len + 4 + 64 + 1;
	if (!(all = realloc(buf, total + 1))) {
		free(buf);
		return dai_errf(e, "out of memory");
	}
	snprintf(all + len, total - len + 1, "sum %s\n", hex);
	int rc = 0;
	FILE *out = fopen(tmp, "w");
	if (!out || fwrite(all, 1, total, out) != total) {
		rc = dai_errf(e, "%s: cannot write", tmp);
		if (out)
			fclose(out);
		unlink(tmp);
	} else if (fclose(out) != 0 || rename(tmp, path) != 0) {
		rc = dai_errf(e, "%s: cannot write", path);
		unlink(tmp);
	}
	free(all);
	return rc;
}

/* Reads one snapshot line (NUL-terminated in place); NULL at the end. */
static char *next_line(char **p, char *end)
{
	if (*p >= end)
		return NULL;
	char *nl = memchr(*p, '\n', (size_t)(end - *p));
	if (!nl)
		return NULL;
	*nl = 0;
	char *line = *p;
	*p = nl + 1;
	return line;
}

static int parse_body(char *p, char *end, ledger_state *st, ledger_pos *pos)
{
	char *l, id[DAI_ID_LEN + 2], did[DAI_DID_MAX + 1], rcpt[DAI_ID_LEN + 2];
	char model[DAI_ID_LEN + 2];
	uint64_t end_off, head_off, entries;
	if (!(l = next_line(&p, end)) || strcmp(l, "dai-snapshot 2") != 0)
		return -1;
	if (!(l = next_line(&p, end)) || sscanf(l, "at %" SCNu64 " %" SCNu64 " %lu %" SCNu64,
	                                        &end_off, &head_off, &pos->line, &entries) != 4)
		return -1;
	pos->end = end_off;
	pos->head_off = head_off;
	if (!(l = next_line(&p, end)) || sscanf(l, "head %67s %lld", id, &st->head_time) != 2 ||
	    strlen(id) != DAI_ID_LEN)
		return -1;
	strcpy(st->head, id);
	if (!(l = next_line(&p, end)) || sscanf(l, "terms %" SCNu64 " %" SCNu64 " %" SCNu64,
	                                        &st->window, &st->bond, &st->total) != 3)
		return -1;
	st->entries = entries;
	st->started = 1;
	while ((l = next_line(&p, end))) {
		if (l[0] == 'a') {
			ledger_account a = {0};
			if (sscanf(l,
			           "a %71s %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
			           " %" SCNu64,
			           did, &a.balance, &a.stake, &a.finalized, &a.slashed,
			           &a.open) != 6 ||
			    strmap_get(&st->acc_ix, did) >= 0)
				return -1;
			strcpy(a.did, did);
			if (st->nacc == st->cap_acc) {
				size_t cap = st->cap_acc ? st->cap_acc * 2 : 16;
				ledger_account *n = realloc(st->acc, cap * sizeof *n);
				if (!n)
					return -1;
				st->acc = n;
				st->cap_acc = cap;
			}
			if (strmap_put(&st->acc_ix, did, (uint32_t)st->nacc))
				return -1;
			st->acc[st->nacc++] = a;
		} else if (l[0] == 'j') {
			ledger_job j = {0};
			int status;
			if (sscanf(l,
			           "j %67s %" SCNu32 " %" SCNu32 " %67s %" SCNu64 " %" SCNu64
			           " %" SCNu64 " %lld %d %lld %67s %" SCNu64 " %" SCNu64
			           " %" SCNu64,
			           id, &j.buyer, &j.worker, model, &j.max_tokens, &j.price,
			           &j.locked, &j.expires, &status, &j.claimed_at, rcpt,
			           &j.tokens_in, &j.tokens_out, &j.paid) != 14 ||
			    strlen(id) != DAI_ID_LEN || strlen(model) != DAI_ID_LEN ||
			    j.buyer >= st->nacc || j.worker >= st->nacc || status < JOB_ESCROWED ||
			    status > JOB_WITHDRAWN || strmap_get(&st->job_ix, id) >= 0)
				return -1;
			strcpy(j.id, id);
			strcpy(j.model, model);
			j.status = (enum ledger_job_status)status;
			if (strcmp(rcpt, "-") != 0) {
				if (strlen(rcpt) != DAI_ID_LEN)
					return -1;
				strcpy(j.receipt, rcpt);
			}
			if (st->njobs == st->cap_jobs) {
				size_t cap = st->cap_jobs ? st->cap_jobs * 2 : 16;
				ledger_job *n = realloc(st->jobs, cap * sizeof *n);
				if (!n)
					return -1;
				st->jobs = n;
				st->cap_jobs = cap;
			}
			if (strmap_put(&st->job_ix, id, (uint32_t)st->njobs))
				return -1;
			st->jobs[st->njobs++] = j;
		} else {
			return -1;
		}
	}
	return 0;
}

int snap_load(const char *ledger_path, const char *buf, size_t len, ledger_state *st,
              ledger_pos *pos)
{
	char path[4096], *snap;
	size_t n;
	dai_err e;
	if (snap_name(path, sizeof path, ledger_path, "") ||
	    file_read_all(path, SNAP_MAX, &snap, &n, &e))
		return -1;
	/* The checksum line: "sum <64 hex>\n" at the very end. */
	int ok = 0;
	if (n > 69 && memcmp(snap + n - 69, "sum ", 4) == 0 && snap[n - 1] == '\n') {
		unsigned char h[32], want[32];
		crypto_generichash(h, sizeof h, (const unsigned char *)snap, n - 69, NULL, 0);
		ok =
		    hex_decode(want, 32, snap + n - 65, 64) == 0 && sodium_memcmp(h, want, 32) == 0;
	}
	if (ok)
		ok = parse_body(snap, snap + n - 69, st, pos) == 0;
	free(snap);
	/* Keyed by the head: the ledger's bytes there must still be that entry. */
	if (ok && (pos->end > len || pos->head_off >= pos->end)) {
		ok = 0;
	} else if (ok) {
		char id[DAI_ID_LEN + 1];
		doc_id_bytes(buf + pos->head_off, (size_t)(pos->end - pos->head_off), id);
		ok = strcmp(id, st->head) == 0;
	}
	if (!ok) {
		state_free(st);
		state_init(st);
		*pos = (ledger_pos){0, 0, 1};
		return -1;
	}
	return 0;
}
