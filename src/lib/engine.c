/* engine.c - see engine.h. */
#include "engine.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * Maps every page of the model now, in one call, instead of one page fault
 * at a time during the first evaluation (which would count against the
 * prompt; llama.cpp maps with MAP_POPULATE for the same reason). Best
 * effort: a kernel without MADV_POPULATE_READ (Linux < 5.14) faults the
 * pages in as they are used, as before.
 */
static void prefault(const gguf_file *g)
{
#ifdef MADV_POPULATE_READ
	long page = sysconf(_SC_PAGESIZE);
	if (!g->base || !g->size || page <= 0)
		return;
	uintptr_t start = (uintptr_t)g->base & ~((uintptr_t)page - 1);
	uintptr_t end = (uintptr_t)g->base + g->size;
	(void)madvise((void *)start, end - start, MADV_POPULATE_READ);
#else
	(void)g;
#endif
}

int engine_open(engine *en, const char *path, dai_err *e)
{
	memset(en, 0, sizeof *en);
	if (pack_open_model(&en->pack, path, e))
		return -1;
	if (en->pack.has_manifest)
		memcpy(en->model_id, en->pack.manifest.id, sizeof en->model_id);
	if (model_load(&en->model, &en->pack.gguf, e))
		goto fail;
	prefault(&en->pack.gguf);
	en->tok = tok_load(&en->pack.gguf, e);
	if (!en->tok)
		goto fail;
	if (tok_n_vocab(en->tok) != en->model.n_vocab) {
		dai_errf(e, "%s: the tokenizer has %d tokens but the model's output has %d rows",
		         path, tok_n_vocab(en->tok), en->model.n_vocab);
		goto fail;
	}
	return 0;
fail:
	engine_close(en);
	return -1;
}

void engine_close(engine *en)
{
	tok_free(en->tok);
	model_free(&en->model);
	pack_close_model(&en->pack);
	memset(en, 0, sizeof *en);
}
