/* prove_check.c - see prove.h: checking a dai-fraud document. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "codec.h"
#include "doc_schema.h"
#include "prove_impl.h"
#include "session.h"

/* An embedded document: its base64 lines parsed, and its id checked
 * against the one the fraud names. */
static int embedded(const dai_doc *fraud, const char *key, const char *id_key, dai_doc *d,
                    dai_err *e)
{
	unsigned char *raw;
	size_t n;
	char id[DAI_ID_LEN + 1];
	if (prove_get_b64_lines(fraud, key, DAI_DOC_MAX, &raw, &n, e))
		return -1;
	int rc = doc_parse(d, (const char *)raw, n, key, 1, e);
	free(raw);
	if (rc)
		return -1;
	doc_id(d, id);
	if (strcmp(id, doc_get(fraud, id_key)) != 0) {
		doc_free(d);
		return dai_errf(e, "dai-fraud: %s is not the document %s %s", key, id_key,
		                doc_get(fraud, id_key));
	}
	return 0;
}

/* Reading the decompressed proof. */
typedef struct rd {
	const unsigned char *p;
	size_t len, off;
} rd;

static const unsigned char *take(rd *r, size_t n)
{
	if (r->len - r->off < n)
		return NULL;
	const unsigned char *p = r->p + r->off;
	r->off += n;
	return p;
}

/* A leaf or vector hash with its path, checked under the receipt's root. */
static int leaf_under_root(rd *r, const unsigned char leaf[MERKLE_HASH], uint64_t index,
                           const prove_seq *q)
{
	const unsigned char *len = take(r, 1);
	if (!len || *len > MERKLE_PATH_MAX)
		return -1;
	const unsigned char *path = take(r, (size_t)*len * MERKLE_HASH);
	if (!path)
		return -1;
	return merkle_check(leaf, index, q->n_leaves, (const unsigned char(*)[MERKLE_HASH])path,
	                    *len, q->root);
}

/* The proof's bytes, decompressed: at most what (t, j) can need. */
static int inflate_proof(const dai_doc *fraud, size_t max, unsigned char **out, size_t *n,
                         dai_err *e)
{
	unsigned char *z;
	size_t zn;
	if (prove_get_b64_lines(fraud, "proof", DAI_DOC_MAX, &z, &zn, e))
		return -1;
	uLongf len = max;
	unsigned char *p = malloc(max ? max : 1);
	if (!p) {
		free(z);
		return dai_errf(e, "out of memory");
	}
	int zr = uncompress(p, &len, z, zn);
	free(z);
	if (zr != Z_OK) {
		free(p);
		return dai_errf(e, "dai-fraud: the proof does not inflate (zlib error %d)", zr);
	}
	*out = p;
	*n = len;
	return 0;
}

/* Recomputes step (t, j) from the proof and compares with the worker's
 * leaf. r->ok = 0 when the worker's leaf (or its claimed token) is wrong. */
static int check_step(const engine *en, const dai_doc *fraud, const prove_seq *q, uint64_t t,
                      uint32_t j, const prove_opts *o, prove_report *r, dai_err *e)
{
	const model *m = &en->model;
	uint32_t L = (uint32_t)m->n_layers;
	size_t dim = (size_t)m->dim, path_bytes = 1 + MERKLE_PATH_MAX * MERKLE_HASH;
	uint64_t n_in = j == 0 ? 0 : j == L + 1 ? 1 : t + 1;
	size_t max = MERKLE_HASH + path_bytes + n_in * (dim * sizeof(float) + path_bytes);
	unsigned char *raw = NULL, mine[MERKLE_HASH];
	float *in = NULL, *outv = NULL;
	session *s = NULL;
	size_t len;
	int rc = -1;

	if (inflate_proof(fraud, max, &raw, &len, e))
		return -1;
	rd p = {raw, len, 0};
	const unsigned char *leaf = take(&p, MERKLE_HASH);
	if (!leaf || leaf_under_root(&p, leaf, t * q->steps + j, q)) {
		prove_fail(r, "step",
		           "the worker's leaf (%llu, %u) is not under the receipt's root",
		           (unsigned long long)t, j);
		r->ok = 1;
		rc = 0;
		goto out;
	}
	in = malloc((n_in ? n_in : 1) * dim * sizeof(float));
	outv = malloc((n_in ? n_in : 1) * dim * sizeof(float));
	if (!in || !outv) {
		dai_errf(e, "out of memory");
		goto out;
	}
	for (uint64_t i = 0; i < n_in; i++) {
		uint64_t pos = j == L + 1 ? t : i;
		const unsigned char *v = take(&p, dim * sizeof(float));
		unsigned char h[MERKLE_HASH];
		if (v) {
			memcpy(in + i * dim, v, dim * sizeof(float));
			trace_hash_vector(in + i * dim, (uint32_t)dim, h);
		}
		if (!v || leaf_under_root(&p, h, pos * q->steps + j - 1, q)) {
			prove_fail(r, "step", "input (%llu, %u) is not under the receipt's root",
			           (unsigned long long)pos, j - 1);
			r->ok = 1;
			rc = 0;
			goto out;
		}
	}
	if (p.off != p.len) {
		prove_fail(r, "step", "the proof has %zu bytes too many", p.len - p.off);
		r->ok = 1;
		rc = 0;
		goto out;
	}

	session_params sp = {.n_ctx = (int)(t + 1),
	                     .n_threads = o ? o->n_threads : 0,
	                     .n_batch = o && o->n_batch ? o->n_batch : PROVE_DEFAULT_BATCH};
	s = session_new(m, &sp, e);
	if (!s)
		goto out;
	int32_t token = -1;
	if (j == 0) {
		if (session_embed(s, q->seq[t], outv, e))
			goto out;
		trace_hash_vector(outv, (uint32_t)dim, mine);
	} else if (j <= L) {
		if (session_layer_last(s, (int)j - 1, in, (int)(t + 1), outv, e))
			goto out;
		trace_hash_vector(outv, (uint32_t)dim, mine);
	} else {
		float *logits = malloc((size_t)m->n_vocab * sizeof(float));
		void *scratch = malloc(sample_scratch_size(m->n_vocab));
		if (!logits || !scratch) {
			free(logits);
			free(scratch);
			dai_errf(e, "out of memory");
			goto out;
		}
		session_head(s, in, logits);
		token = t + 1 < q->n_prompt ? q->seq[t + 1]
		                            : sample_token(&q->sp, logits, m->n_vocab,
		                                           t + 1 - q->n_prompt, scratch);
		free(logits);
		free(scratch);
		trace_hash_token(token, mine);
	}
	r->ok = memcmp(mine, leaf, MERKLE_HASH) == 0;
	if (!r->ok) {
		prove_fail(r, "step", "the worker's leaf (%llu, %u) is not what the step computes",
		           (unsigned long long)t, j);
	} else if (j == L + 1 && q->seq[t + 1] != token) {
		prove_fail(
		    r, "step", "output token %llu is %d in the receipt, the sampler draws %d",
		    (unsigned long long)(t + 1 - q->n_prompt), (int)q->seq[t + 1], (int)token);
	} else {
		snprintf(r->reason, sizeof r->reason,
		         "step (%llu, %u) recomputes to the worker's leaf", (unsigned long long)t,
		         j);
	}
	rc = 0;
out:
	session_free(s);
	free(in);
	free(outv);
	free(raw);
	return rc;
}

static uint64_t get_u64(const dai_doc *d, const char *key, int *have)
{
	unsigned long long v = 0;
	const char *s = doc_get(d, key);
	*have = s != NULL;
	if (s)
		value_uint(s, strlen(s), &v);
	return v;
}

int prove_check(const engine *en, const dai_doc *fraud, const prove_opts *o, prove_report *r,
                dai_err *e)
{
	dai_doc receipt, job;
	prove_seq q;
	int rc = -1;
	memset(r, 0, sizeof *r);
	r->ok = 1;
	if (strcmp(fraud->kind, "fraud") != 0)
		return dai_errf(e, "a dai-%s is no dai-fraud", fraud->kind);
	if (strcmp(doc_get(fraud, "model"), en->model_id) != 0)
		return dai_errf(e, "the fraud is about model %s, not this pack's %s",
		                doc_get(fraud, "model"), en->model_id[0] ? en->model_id : "(none)");
	if (embedded(fraud, "receipt-doc", "receipt", &receipt, e))
		return -1;
	if (embedded(fraud, "job-doc", "job", &job, e)) {
		doc_free(&receipt);
		return -1;
	}
	if (strcmp(doc_get(&receipt, "worker"), doc_get(fraud, "worker")) != 0 ||
	    strcmp(doc_get(&receipt, "model"), doc_get(fraud, "model")) != 0) {
		dai_errf(e, "dai-fraud: its worker and model are not the receipt's");
		goto out_docs;
	}
	if (prove_seq_load(en, &receipt, &job, &q, e))
		goto out_docs;

	const char *kind = doc_get(fraud, "kind");
	int have_t, have_j;
	uint64_t t = get_u64(fraud, "position", &have_t), j = get_u64(fraud, "step", &have_j);
	if (strcmp(kind, "signature") == 0) {
		prove_signature(&receipt, r);
		rc = 0;
	} else if (strcmp(kind, "receipt") == 0) {
		rc = prove_terms(en, &receipt, &q, r, e) < 0 ? -1 : 0;
	} else if (strcmp(kind, "replay") == 0) {
		rc = prove_verify(en, &receipt, &job, NULL, o, r, e);
	} else if (strcmp(kind, "step") == 0) {
		rc = 0;
		if (!have_t || !have_j)
			dai_errf(e, "dai-fraud: a step proof needs position and step"), rc = -1;
		else if (prove_signature(&receipt, r))
			r->ok = 1, snprintf(r->reason, sizeof r->reason,
			                    "the receipt is not its worker's: prove that instead");
		else if (!q.ids_ok || q.n_leaves != q.P * q.steps)
			snprintf(r->reason, sizeof r->reason,
			         "the receipt's token counts do not fit its trace: prove that "
			         "instead");
		else if (t >= q.P || j >= q.steps)
			snprintf(r->reason, sizeof r->reason,
			         "leaf (%llu, %llu) is outside the trace", (unsigned long long)t,
			         (unsigned long long)j);
		else
			rc = check_step(en, fraud, &q, t, (uint32_t)j, o, r, e);
	} else {
		dai_errf(e, "dai-fraud: unknown kind '%s'", kind);
	}
	snprintf(r->kind, sizeof r->kind, "%s", kind);
	if (have_t && have_j && strcmp(kind, "step") == 0) {
		r->has_leaf = 1;
		r->position = t;
		r->step = (uint32_t)j;
	}
	prove_seq_free(&q);
out_docs:
	doc_free(&receipt);
	doc_free(&job);
	return rc;
}
