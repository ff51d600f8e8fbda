/* libFuzzer harness for dai-fraud documents: the input is parsed as a
 * document and, when it is a dai-fraud, checked (prove_check) on the small
 * test model tests/data/a_f32.gguf (or $DAI_FUZZ_MODEL), the model id taken
 * from the document so that the check goes past it. A check may refuse the
 * document or give a verdict; it must never crash, hang or leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prove.h"

static engine en;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dai_err e;
	const char *path = getenv("DAI_FUZZ_MODEL");
	if (engine_open(&en, path ? path : "tests/data/a_f32.gguf", &e)) {
		fprintf(stderr, "fuzz_fraud: %s\n", e.msg);
		exit(1);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dai_err e;
	dai_doc d;
	prove_report r;
	if (doc_parse(&d, (const char *)data, size, "fuzz", 1, &e))
		return 0;
	const char *model = strcmp(d.kind, "fraud") == 0 ? doc_get(&d, "model") : NULL;
	if (model) {
		snprintf(en.model_id, sizeof en.model_id, "%s", model);
		prove_opts o = {.n_threads = 1};
		if (prove_check(&en, &d, &o, &r, &e) == 0 && r.ok != 0 && r.ok != 1)
			abort();
	}
	doc_free(&d);
	return 0;
}
