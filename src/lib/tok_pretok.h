/*
 * tok_pretok.h - the pre-tokenizers of byte-level BPE vocabularies: text
 * to code points, and code points cut into the words that BPE merges
 * within, as llama.cpp's unicode_regex_split does for each
 * tokenizer.ggml.pre (llama.cpp commit c392e509, unicode.cpp). Not a
 * public header: tok.h describes the behaviour.
 */
#ifndef DAI_TOK_PRETOK_H
#define DAI_TOK_PRETOK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum tok_pre {
	TOK_PRE_DEFAULT, /* "default" (and a missing key): four regexes in turn */
	TOK_PRE_LLAMA3,  /* "llama-bpe", "llama3", "llama-v3": Llama 3 */
	TOK_PRE_QWEN2,   /* "qwen2", "deepseek-r1-qwen": Llama 3's with single digits */
	TOK_PRE_GPT2,    /* "gpt-2": GPT-2's regex */
};

/* The pre-tokenizer named s[0..len), or -1 for an unknown name. */
int tok_pre_from_name(const char *s, size_t len);

/* Decodes s[0..n) into cp (room for n), as llama.cpp's
 * unicode_cpts_from_utf8: the lead byte gives the length, the following
 * bytes need only be 10xxxxxx (so overlong forms and surrogates pass), and
 * a byte that starts no such sequence becomes U+FFFD on its own. A
 * sequence above U+10FFFF is taken as invalid too (llama.cpp throws on
 * it). Returns the number of code points. */
size_t tok_utf8_decode(const char *s, size_t n, uint32_t *cp);

/* The UTF-8 form of cp (at most U+10FFFF) into out[0..4); returns its
 * length. */
size_t tok_utf8_encode(uint32_t cp, char *out);

/* Cuts cp[0..n) into words: *lens (malloc'd, free it) receives each
 * word's length in code points, in order, summing to n. */
int tok_pretok_split(int pre, const uint32_t *cp, size_t n, size_t **lens, size_t *n_words,
                     dai_err *e);

#endif
