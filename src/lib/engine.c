/* engine.c - see engine.h. */
#include "engine.h"

#include <string.h>

int engine_open(engine *en, const char *path, dai_err *e)
{
	memset(en, 0, sizeof *en);
	if (pack_open_model(&en->pack, path, e))
		return -1;
	if (en->pack.has_manifest)
		memcpy(en->model_id, en->pack.manifest.id, sizeof en->model_id);
	if (model_load(&en->model, &en->pack.gguf, e))
		goto fail;
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
