/*
 * engine.h - a model ready to run: the opened model file, the model and its
 * tokenizer, loaded together and checked against each other.
 *
 * The file is a model pack (pack.h: verified, the GGUF member mapped in
 * place) or a plain GGUF file, mapped read-only and used in place (no
 * weight is copied). A pack gives the model its id, the pack id; a plain
 * GGUF file has none. The tokenizer must have exactly as many tokens as
 * the model's output has rows.
 */
#ifndef DAI_ENGINE_H
#define DAI_ENGINE_H

#include "doc.h"
#include "model.h"
#include "pack.h"
#include "tok.h"

typedef struct engine {
	pack_model pack;
	model model;
	dai_tok *tok;
	/* The pack id ("b2:..."), or "" for a plain GGUF file. */
	char model_id[DAI_ID_LEN + 1];
} engine;

/* Opens path (a pack or a GGUF file) and loads the model and the tokenizer.
 * On failure nothing is left open. The engine must not be moved while
 * open (the model points into it). */
int engine_open(engine *en, const char *path, dai_err *e);
void engine_close(engine *en);

#endif
