/* engine.c - see engine.h. */
#include "engine.h"

#include <string.h>

int engine_open(engine *en, const char *path, dai_err *e)
{
	memset(en, 0, sizeof *en);
	if (gguf_open(&en->file, path, e))
		return -1;
	if (model_load(&en->model, &en->file, e))
		goto fail;
	en->tok = tok_load(&en->file, e);
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
	gguf_close(&en->file);
	memset(en, 0, sizeof *en);
}
