/*
 * chat.h - chat prompts in the model's own format.
 *
 * A chat model expects its turns wrapped in the markers it was trained
 * with. GGUF files carry the format as a Jinja template
 * (tokenizer.chat_template); like llama.cpp's llm_chat_detect_template we
 * do not run Jinja but recognise the common templates by substrings, then
 * write the turns the way llama.cpp's llm_chat_apply_template does:
 *
 *   chatml (ChatML, Qwen), llama2, llama2-sys, llama2-sys-bos,
 *   llama2-sys-strip, mistral-v1, mistral-v3, mistral-v3-tekken,
 *   mistral-v7, llama3, phi3, phi4, zephyr, gemma
 *
 * The text holds the markers as text ("<|im_start|>", "[INST]"); encode it
 * with TOK_PARSE_SPECIAL so that they become their special tokens, and with
 * the tokenizer's default flags for the BOS (no template here writes one).
 * A template that is recognised as another format, or not at all, is an
 * error naming it.
 */
#ifndef DAI_CHAT_H
#define DAI_CHAT_H

#include <stddef.h>

#include "err.h"
#include "gguf.h"

typedef struct chat_msg {
	const char *role; /* "system", "user", "assistant" */
	const char *content;
} chat_msg;

/*
 * The format llama.cpp detects for a template of len bytes: a format name
 * as above, another name llama.cpp knows ("vicuna", "command-r", ...: not
 * formatted here), or NULL when nothing matches. A template that is itself
 * a name ("chatml") is that name.
 */
const char *chat_detect(const char *tmpl, size_t len);

/* 1 if chat_format writes the format of that name. */
int chat_supported(const char *name);

/*
 * The n messages in format name, then the opening of the assistant's turn
 * when add_assistant. *out is malloc'd and NUL-terminated (free it).
 */
int chat_format(const char *name, const chat_msg *msgs, size_t n, int add_assistant, char **out,
                size_t *len, dai_err *e);

/*
 * A prompt for one user turn (user_len bytes), after an optional system
 * message (NULL: none), in the format of g's tokenizer.chat_template, with
 * the assistant's turn opened.
 */
int chat_prompt(const gguf_file *g, const char *system, const char *user, size_t user_len,
                char **out, size_t *len, dai_err *e);

#endif
