/*
 * tok_impl.h - the inside of a dai_tok, shared by the loader and decoder
 * (tok.c) and the SentencePiece encoder (tok_spm.c). Not a public header.
 */
#ifndef DAI_TOK_IMPL_H
#define DAI_TOK_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "tok.h"

struct dai_tok {
	uint32_t n;            /* vocabulary size */
	char *text;            /* every piece, one after another */
	size_t *text_off;      /* piece i is text[text_off[i] .. text_off[i + 1]) */
	float *score;          /* n */
	uint8_t *type;         /* n, enum tok_type (after llama.cpp's overrides) */
	uint8_t *eog;          /* n, 1 for end-of-generation tokens */
	char *dec;             /* decoded pieces (control pieces included) */
	size_t *dec_off;       /* n + 1 */
	int32_t *slot;         /* hash table of piece -> id, -1 for empty slots */
	size_t mask;           /* slots - 1 (a power of two minus one) */
	int32_t byte_tok[256]; /* byte fallback id per byte, -1 if none */
	int32_t *special;      /* user-defined, control and unknown ids: longest piece first */
	size_t n_special;
	int32_t bos, eos, unk, pad, eot, eom; /* -1 when none */
	int add_bos, add_eos, add_space_prefix;
};

/* FNV-1a, 64 bits: the hash of the piece table. */
static inline uint64_t tok_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#endif
