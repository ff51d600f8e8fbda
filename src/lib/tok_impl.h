/*
 * tok_impl.h - the inside of a dai_tok, shared by the loader and decoder
 * (tok.c), the SentencePiece encoder (tok_spm.c) and the byte-level BPE
 * vocabulary (tok_bpe.c). Not a public header.
 */
#ifndef DAI_TOK_IMPL_H
#define DAI_TOK_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "tok.h"

/* One BPE merge: the pair merge_text[off .. off+llen) and
 * merge_text[off+llen .. off+llen+rlen); its rank is its index. */
typedef struct {
	size_t off;
	uint32_t llen, rlen;
} tok_merge;

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

	/* byte-level BPE (tokenizer.ggml.model "gpt2") only */
	int bpe;           /* 1 for a BPE vocabulary */
	int pre;           /* enum tok_pre (tok_pretok.h) */
	int ignore_merges; /* a word that is a piece is that piece (Llama 3) */
	int clean_spaces;  /* tok_decode drops spaces before ?!., and some 's */
	char *merge_text;  /* the merge pairs, one after another */
	tok_merge *merges; /* n_merges, in rank order */
	uint32_t n_merges;
	int32_t *merge_slot; /* hash table of pair -> rank, -1 for empty slots */
	size_t merge_mask;
};

/* A growable id list. */
typedef struct {
	int32_t *v;
	size_t n, cap;
} tok_idvec;

int tok_idvec_push(tok_idvec *o, int32_t id, dai_err *e);

/* tok_bpe.c: reads tokenizer.ggml.pre and tokenizer.ggml.merges (after the
 * pieces are loaded, before the special ids); fills the BPE fields. */
int tok_bpe_load(dai_tok *t, const gguf_file *g, dai_err *e);

/* tok_bpe.c: the decoded pieces (dec, dec_off) of a BPE vocabulary. */
int tok_bpe_build_dec(dai_tok *t, dai_err *e);

/* tok_bpe.c: appends the ids of text[0..len), a fragment free of special
 * tokens: pre-tokenizer words, byte-to-unicode mapping, merges. */
int tok_bpe_fragment(const dai_tok *t, const char *text, size_t len, tok_idvec *out, dai_err *e);

/* tok_bpe.c: llama.cpp's clean_up_tokenization_spaces on buf[0..n) in
 * place; returns the new length. */
size_t tok_bpe_clean_spaces(char *buf, size_t n);

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
