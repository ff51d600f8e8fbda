/* fraud_check.c - see fraud_check.h. */
#include "fraud_check.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "pack.h"
#include "prove.h"

/* The path of the pack whose id is id, into path; -1 when there is none. */
static int find_pack(const char *id, char *path, size_t cap, dai_err *e)
{
	const char *list = getenv("DAI_PACKS");
	while (list && *list) {
		const char *end = strchr(list, ':');
		size_t n = end ? (size_t)(end - list) : strlen(list);
		if (n && n < cap) {
			pack_manifest m;
			dai_err ignored;
			memcpy(path, list, n);
			path[n] = 0;
			if (pack_verify(path, PACK_MANIFEST_ONLY, &m, &ignored) == 0) {
				int same = strcmp(m.id, id) == 0;
				pack_manifest_free(&m);
				if (same)
					return 0;
			}
		}
		list = end ? end + 1 : NULL;
	}
	char dir[PATH_MAX];
	dai_err ignored;
	if (pack_cache_dir(dir, sizeof dir, &ignored) == 0 &&
	    (size_t)snprintf(path, cap, "%s/%s.dai.tar", dir, id + 3) < cap) {
		FILE *f = fopen(path, "rb");
		if (f) {
			fclose(f);
			return 0;
		}
	}
	return dai_errf(e, "the pack of model %s is not in DAI_PACKS or the pack cache", id);
}

int fraud_check(const char *fraud, size_t len, const fraud_claim *claim,
                enum fraud_verdict *verdict, dai_err *e)
{
	dai_doc d;
	char path[PATH_MAX], jid[DAI_ID_LEN + 1];
	engine en;
	prove_report r;
	int rc = -1;
	if (doc_parse(&d, fraud, len, "dai-fraud", 1, e))
		return -1;
	if (strcmp(d.kind, "fraud") != 0) {
		dai_errf(e, "a dai-%s is no dai-fraud", d.kind);
		goto out;
	}
	if (strcmp(doc_get(&d, "job"), claim->job) != 0 ||
	    strcmp(doc_get(&d, "receipt"), claim->receipt) != 0 ||
	    strcmp(doc_get(&d, "worker"), claim->worker) != 0) {
		dai_errf(e, "the dai-fraud is not about the claimed receipt %s of job %s",
		         claim->receipt, claim->job);
		goto out;
	}
	if (claim->job_doc) {
		doc_id_bytes(claim->job_doc, claim->job_doc_len, jid);
		if (strcmp(jid, claim->job) != 0) {
			dai_errf(e, "the escrowed job is not job %s", claim->job);
			goto out;
		}
	}
	if (find_pack(doc_get(&d, "model"), path, sizeof path, e))
		goto out;
	if (engine_open(&en, path, e))
		goto out;
	prove_opts o = {0};
	rc = prove_check(&en, &d, &o, &r, e);
	engine_close(&en);
	if (rc == 0)
		*verdict = r.ok ? FRAUD_NOT_PROVEN : FRAUD_PROVEN;
out:
	doc_free(&d);
	return rc;
}
