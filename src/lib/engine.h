/*
 * engine.h - a model ready to run: the opened file, the model and its
 * tokenizer, loaded together and checked against each other.
 *
 * The file is a GGUF model, mapped read-only and used in place (no weight
 * is copied). The tokenizer must have exactly as many tokens as the model's
 * output has rows.
 */
#ifndef DAI_ENGINE_H
#define DAI_ENGINE_H

#include "gguf.h"
#include "model.h"
#include "tok.h"

typedef struct engine {
	gguf_file file;
	model model;
	dai_tok *tok;
} engine;

/* Opens path and loads the model and the tokenizer. On failure nothing is
 * left open. */
int engine_open(engine *en, const char *path, dai_err *e);
void engine_close(engine *en);

#endif
