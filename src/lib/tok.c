/*
 * tok.c - loading a vocabulary from GGUF metadata, piece lookup, and
 * decoding (whole sequences and streamed). The encoder is in tok_spm.c,
 * what is particular to byte-level BPE in tok_bpe.c; tok.h describes the
 * behaviour.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok.h"
#include "tok_impl.h"
#include "tok_pretok.h"

#define K_MODEL "tokenizer.ggml.model"
#define K_TOKENS "tokenizer.ggml.tokens"
#define K_SCORES "tokenizer.ggml.scores"
#define K_TYPES "tokenizer.ggml.token_type"

/* Pieces that llama.cpp turns into control tokens ending generation,
 * recognised by their text. */
static const char *const eog_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>",
};

/* Pieces llama.cpp takes as the EOT token when the model names none. */
static const char *const eot_texts[] = {
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<EOT>",
    "<\xef\xbd\x9c"
    "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
};

/* Copies s into buf for a message: at most cap - 1 bytes, anything but
 * printable ASCII as '?'. */
static const char *printable(const char *s, size_t len, char *buf, size_t cap)
{
	size_t i;
	for (i = 0; i < len && i + 1 < cap; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = 0;
	return buf;
}

int32_t tok_find(const dai_tok *t, const char *piece, size_t len)
{
	uint64_t h = tok_hash(piece, len);
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		int32_t id = t->slot[i];
		if (id < 0)
			return -1;
		size_t off = t->text_off[id], n = t->text_off[id + 1] - off;
		if (n == len && memcmp(t->text + off, piece, len) == 0)
			return id;
	}
}

/* Reads an optional token id (any integer type); an id out of range, such
 * as the 0xffffffff or -1 some converters write for "none", keeps the
 * default, as in llama.cpp. */
static int opt_id(const gguf_file *g, const char *key, int32_t *id, uint32_t n, dai_err *e)
{
	if (*id >= 0 && (uint32_t)*id >= n)
		*id = -1;
	if (!gguf_find_key(g, key))
		return 0;
	int64_t v;
	uint64_t u;
	if (gguf_get_i64(g, key, &v, NULL) == 0) {
		if (v >= 0 && v < (int64_t)n)
			*id = (int32_t)v;
		return 0;
	}
	if (gguf_get_u64(g, key, &u, e)) /* not an integer: the error names the key */
		return -1;
	return 0; /* a u64 above INT64_MAX: out of range */
}

static int opt_bool(const gguf_file *g, const char *key, int *flag, dai_err *e)
{
	if (!gguf_find_key(g, key))
		return 0;
	bool b;
	if (gguf_get_bool(g, key, &b, e))
		return -1;
	*flag = b;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The byte of a "<0xXX>" piece, -1 if the piece is not one. */
static int byte_piece(const char *s, size_t len)
{
	if (len != 6 || s[0] != '<' || s[1] != '0' || s[2] != 'x' || s[5] != '>')
		return -1;
	int hi = hexval(s[3]), lo = hexval(s[4]);
	return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/* A special token and its piece length, for sorting. */
typedef struct {
	size_t len;
	int32_t id;
} special_key;

/* Longest piece first, then lower id (llama.cpp's order, with the ties
 * that its std::sort leaves open broken by id). */
static int cmp_special(const void *a, const void *b)
{
	const special_key *x = a, *y = b;
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

static int build_text(dai_tok *t, const gguf_str *toks, dai_err *e)
{
	size_t total = 0;
	char tmp[32];
	for (uint32_t i = 0; i < t->n; i++)
		total +=
		    toks[i].len ? toks[i].len : (size_t)snprintf(tmp, sizeof tmp, "[EMPTY_%u]", i);
	t->text = malloc(total ? total : 1);
	t->text_off = malloc((t->n + 1) * sizeof *t->text_off);
	if (!t->text || !t->text_off)
		return dai_errf(e, "tokenizer: out of memory");
	size_t off = 0;
	for (uint32_t i = 0; i < t->n; i++) {
		t->text_off[i] = off;
		if (toks[i].len) {
			memcpy(t->text + off, toks[i].s, toks[i].len);
			off += toks[i].len;
		} else {
			/* llama.cpp renames empty pieces so that every piece is unique */
			int k = snprintf(tmp, sizeof tmp, "[EMPTY_%u]", i);
			memcpy(t->text + off, tmp, (size_t)k);
			off += (size_t)k;
		}
	}
	t->text_off[t->n] = off;
	return 0;
}

static int build_hash(dai_tok *t, const char *file, dai_err *e)
{
	size_t cap = 16;
	while (cap < 2 * (size_t)t->n)
		cap *= 2;
	t->slot = malloc(cap * sizeof *t->slot);
	if (!t->slot)
		return dai_errf(e, "tokenizer: out of memory");
	memset(t->slot, 0xff, cap * sizeof *t->slot);
	t->mask = cap - 1;
	for (uint32_t id = 0; id < t->n; id++) {
		const char *s = t->text + t->text_off[id];
		size_t len = t->text_off[id + 1] - t->text_off[id];
		int32_t dup = tok_find(t, s, len);
		if (dup >= 0) {
			char buf[64];
			return dai_errf(e, "%s: key %s: piece '%s' appears twice (ids %d and %u)",
			                file, K_TOKENS, printable(s, len, buf, sizeof buf), dup,
			                id);
		}
		size_t i = tok_hash(s, len) & t->mask;
		while (t->slot[i] >= 0)
			i = (i + 1) & t->mask;
		t->slot[i] = (int32_t)id;
	}
	return 0;
}

/* llama.cpp's overrides by piece text: end-of-generation pieces become
 * control tokens; an EOT piece is found by its text when no id is given. */
static void mark_eog(dai_tok *t, int have_eot_key)
{
	for (size_t k = 0; k < sizeof eog_texts / sizeof *eog_texts; k++) {
		int32_t id = tok_find(t, eog_texts[k], strlen(eog_texts[k]));
		if (id >= 0) {
			t->eog[id] = 1;
			t->type[id] = TOK_T_CONTROL;
		}
	}
	if (!have_eot_key && t->eot < 0) {
		for (size_t k = 0; k < sizeof eot_texts / sizeof *eot_texts && t->eot < 0; k++) {
			int32_t id = tok_find(t, eot_texts[k], strlen(eot_texts[k]));
			if (id >= 0) {
				t->eot = id;
				t->type[id] = TOK_T_CONTROL;
			}
		}
	}
	int32_t ids[3] = {t->eos, t->eot, t->eom};
	for (int k = 0; k < 3; k++)
		if (ids[k] >= 0)
			t->eog[ids[k]] = 1;
}

/* The decoded bytes of every token, as llama.cpp's token-to-piece cache
 * (special = true) holds them. */
static int build_dec(dai_tok *t, const char *file, dai_err *e)
{
	if (t->bpe)
		return tok_bpe_build_dec(t, e);
	t->dec_off = malloc((t->n + 1) * sizeof *t->dec_off);
	t->dec = malloc(t->text_off[t->n] ? t->text_off[t->n] : 1);
	if (!t->dec || !t->dec_off)
		return dai_errf(e, "tokenizer: out of memory");
	size_t o = 0;
	for (uint32_t id = 0; id < t->n; id++) {
		const char *s = t->text + t->text_off[id];
		size_t len = t->text_off[id + 1] - t->text_off[id];
		t->dec_off[id] = o;
		switch (t->type[id]) {
		case TOK_T_NORMAL:
			for (size_t i = 0; i < len; i++) {
				if (i + 2 < len && memcmp(s + i, "\xe2\x96\x81", 3) == 0) {
					t->dec[o++] = ' ';
					i += 2;
				} else {
					t->dec[o++] = s[i];
				}
			}
			break;
		case TOK_T_UNKNOWN:
		case TOK_T_CONTROL:
		case TOK_T_USER_DEFINED:
			memcpy(t->dec + o, s, len);
			o += len;
			break;
		case TOK_T_BYTE: {
			int b = byte_piece(s, len);
			if (b < 0) {
				char buf[64];
				return dai_errf(e, "%s: key %s: byte token %u is '%s', not <0xXX>",
				                file, K_TYPES, id,
				                printable(s, len, buf, sizeof buf));
			}
			t->dec[o++] = (char)b;
			break;
		}
		default: /* unused and undefined tokens decode to nothing */
			break;
		}
	}
	t->dec_off[t->n] = o;
	return 0;
}

/* 0 for SentencePiece ("llama"), 1 for byte-level BPE ("gpt2"), else -1. */
static int check_model(const gguf_file *g, dai_err *e)
{
	gguf_str model;
	if (gguf_get_str(g, K_MODEL, &model, e))
		return -1;
	if (model.len == 5 && memcmp(model.s, "llama", 5) == 0)
		return 0;
	if (model.len == 4 && memcmp(model.s, "gpt2", 4) == 0)
		return 1;
	char buf[64];
	return dai_errf(e, "%s: key %s: unsupported tokenizer '%s' (only 'llama' and 'gpt2' are)",
	                g->name, K_MODEL, printable(model.s, model.len, buf, sizeof buf));
}

static int load_arrays(dai_tok *t, const gguf_file *g, dai_err *e)
{
	gguf_str *toks = NULL;
	float *scores = NULL;
	int32_t *types = NULL;
	size_t n = 0, ns = 0, nt = 0;
	int rc = -1;
	if (gguf_get_arr_str(g, K_TOKENS, &toks, &n, e))
		goto out;
	if (n == 0 || n > INT32_MAX / 2) {
		dai_errf(e, "%s: key %s: %zu tokens", g->name, K_TOKENS, n);
		goto out;
	}
	t->n = (uint32_t)n;
	if (gguf_find_key(g, K_SCORES)) {
		if (gguf_get_arr_f32(g, K_SCORES, &scores, &ns, e))
			goto out;
		if (ns != n) {
			dai_errf(e, "%s: key %s: %zu scores for %zu tokens", g->name, K_SCORES, ns,
			         n);
			goto out;
		}
	}
	if (gguf_find_key(g, K_TYPES)) {
		if (gguf_get_arr_i32(g, K_TYPES, &types, &nt, e))
			goto out;
		if (nt != n) {
			dai_errf(e, "%s: key %s: %zu types for %zu tokens", g->name, K_TYPES, nt,
			         n);
			goto out;
		}
	}
	t->score = calloc(n, sizeof *t->score);
	t->type = malloc(n);
	t->eog = calloc(n, 1);
	if (!t->score || !t->type || !t->eog) {
		dai_errf(e, "tokenizer: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (scores)
			t->score[i] = scores[i];
		int32_t ty = types ? types[i] : TOK_T_NORMAL;
		t->type[i] = ty >= TOK_T_NORMAL && ty <= TOK_T_BYTE ? (uint8_t)ty : TOK_T_UNDEFINED;
	}
	rc = build_text(t, toks, e);
out:
	free(toks);
	free(scores);
	free(types);
	return rc;
}

static int load_specials(dai_tok *t, const gguf_file *g, dai_err *e)
{
	t->bos = 1, t->eos = 2, t->unk = 0, t->pad = -1, t->eot = -1, t->eom = -1;
	t->add_bos = 1, t->add_eos = 0, t->add_space_prefix = 1;
	if (t->bpe) { /* llama.cpp's defaults for BPE, and Llama 3's BOS */
		t->bos = 11, t->eos = 11, t->unk = -1;
		t->add_bos = t->pre == TOK_PRE_LLAMA3, t->add_space_prefix = 0;
	}
	if (opt_id(g, "tokenizer.ggml.bos_token_id", &t->bos, t->n, e) ||
	    opt_id(g, "tokenizer.ggml.eos_token_id", &t->eos, t->n, e) ||
	    opt_id(g, "tokenizer.ggml.unknown_token_id", &t->unk, t->n, e) ||
	    opt_id(g, "tokenizer.ggml.padding_token_id", &t->pad, t->n, e) ||
	    opt_id(g, "tokenizer.ggml.eot_token_id", &t->eot, t->n, e) ||
	    opt_id(g, "tokenizer.ggml.eom_token_id", &t->eom, t->n, e) ||
	    opt_bool(g, "tokenizer.ggml.add_bos_token", &t->add_bos, e) ||
	    opt_bool(g, "tokenizer.ggml.add_eos_token", &t->add_eos, e) ||
	    opt_bool(g, "tokenizer.ggml.add_space_prefix", &t->add_space_prefix, e))
		return -1;
	mark_eog(t, gguf_find_key(g, "tokenizer.ggml.eot_token_id") != NULL);

	for (int b = 0; b < 256; b++) {
		char hex[7];
		snprintf(hex, sizeof hex, "<0x%02X>", b);
		int32_t id = tok_find(t, hex, 6);
		if (id < 0) {
			char c = (char)b;
			id = tok_find(t, &c, 1);
		}
		t->byte_tok[b] = id;
	}

	size_t n_special = 0;
	for (uint32_t id = 0; id < t->n; id++)
		n_special += t->type[id] == TOK_T_CONTROL || t->type[id] == TOK_T_USER_DEFINED ||
		             t->type[id] == TOK_T_UNKNOWN;
	special_key *keys = malloc((n_special ? n_special : 1) * sizeof *keys);
	t->special = malloc((n_special ? n_special : 1) * sizeof *t->special);
	if (!keys || !t->special) {
		free(keys);
		return dai_errf(e, "tokenizer: out of memory");
	}
	for (uint32_t id = 0; id < t->n; id++)
		if (t->type[id] == TOK_T_CONTROL || t->type[id] == TOK_T_USER_DEFINED ||
		    t->type[id] == TOK_T_UNKNOWN)
			keys[t->n_special++] =
			    (special_key){t->text_off[id + 1] - t->text_off[id], (int32_t)id};
	qsort(keys, t->n_special, sizeof *keys, cmp_special);
	for (size_t i = 0; i < t->n_special; i++)
		t->special[i] = keys[i].id;
	free(keys);
	return 0;
}

dai_tok *tok_load(const gguf_file *g, dai_err *e)
{
	int bpe = check_model(g, e);
	if (bpe < 0)
		return NULL;
	dai_tok *t = calloc(1, sizeof *t);
	if (!t) {
		dai_errf(e, "tokenizer: out of memory");
		return NULL;
	}
	t->bpe = bpe;
	if (load_arrays(t, g, e) || build_hash(t, g->name, e) ||
	    (t->bpe && tok_bpe_load(t, g, e)) || load_specials(t, g, e) ||
	    build_dec(t, g->name, e)) {
		tok_free(t);
		return NULL;
	}
	return t;
}

void tok_free(dai_tok *t)
{
	if (!t)
		return;
	free(t->text);
	free(t->text_off);
	free(t->score);
	free(t->type);
	free(t->eog);
	free(t->dec);
	free(t->dec_off);
	free(t->slot);
	free(t->special);
	free(t->merge_text);
	free(t->merges);
	free(t->merge_slot);
	free(t);
}

int tok_n_vocab(const dai_tok *t)
{
	return (int)t->n;
}

int32_t tok_bos(const dai_tok *t)
{
	return t->bos;
}

int32_t tok_eos(const dai_tok *t)
{
	return t->eos;
}

int32_t tok_unk(const dai_tok *t)
{
	return t->unk;
}

int32_t tok_pad(const dai_tok *t)
{
	return t->pad;
}

int tok_add_bos(const dai_tok *t)
{
	return t->add_bos;
}

int tok_add_eos(const dai_tok *t)
{
	return t->add_eos;
}

int tok_add_space_prefix(const dai_tok *t)
{
	return t->add_space_prefix;
}

int tok_default_flags(const dai_tok *t)
{
	return (t->add_bos ? TOK_ADD_BOS : 0) | (t->add_eos ? TOK_ADD_EOS : 0);
}

int tok_is_eog(const dai_tok *t, int32_t id)
{
	return id >= 0 && (uint32_t)id < t->n && t->eog[id];
}

const char *tok_text(const dai_tok *t, int32_t id, size_t *len)
{
	*len = t->text_off[id + 1] - t->text_off[id];
	return t->text + t->text_off[id];
}

float tok_score(const dai_tok *t, int32_t id)
{
	return t->score[id];
}

int tok_type(const dai_tok *t, int32_t id)
{
	return t->type[id];
}

const char *tok_piece(const dai_tok *t, int32_t id, int flags, size_t *len)
{
	if (id < 0 || (uint32_t)id >= t->n) {
		*len = 0;
		return NULL;
	}
	int ty = t->type[id];
	if (!(flags & TOK_UNPARSE_SPECIAL) && (ty == TOK_T_CONTROL || ty == TOK_T_UNKNOWN)) {
		*len = 0;
		return t->dec + t->dec_off[id];
	}
	*len = t->dec_off[id + 1] - t->dec_off[id];
	return t->dec + t->dec_off[id];
}

int tok_decode(const dai_tok *t, const int32_t *ids, size_t n, int flags, char **out, size_t *len,
               dai_err *e)
{
	*out = NULL;
	*len = 0;
	int strip = t->add_space_prefix;
	if ((flags & TOK_REMOVE_SPECIAL) && t->add_bos && n > 0 && ids[0] == t->bos) {
		strip = 0;
		ids++, n--;
	}
	if ((flags & TOK_REMOVE_SPECIAL) && t->add_eos && n > 0 && ids[n - 1] == t->eos)
		n--;
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		size_t pl;
		if (!tok_piece(t, ids[i], flags, &pl))
			return dai_errf(e, "tokenizer: token %zu: id %d out of range [0, %u)", i,
			                ids[i], t->n);
		total += pl;
	}
	char *buf = malloc(total + 1);
	if (!buf)
		return dai_errf(e, "tokenizer: out of memory");
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		size_t pl;
		const char *p = tok_piece(t, ids[i], flags, &pl);
		if (i == 0 && strip && pl > 0 && p[0] == ' ')
			p++, pl--;
		memcpy(buf + o, p, pl);
		o += pl;
	}
	if (t->clean_spaces && !(flags & TOK_KEEP_SPACES))
		o = tok_bpe_clean_spaces(buf, o);
	buf[o] = 0;
	*out = buf;
	*len = o;
	return 0;
}

/* ------------------------------------------------------------ UTF-8 stream */

static size_t put_fffd(char *out, size_t o)
{
	memcpy(out + o, "\xef\xbf\xbd", 3);
	return o + 3;
}

size_t tok_utf8_repair(const unsigned char *in, size_t n, int final, char *out, size_t *out_len)
{
	size_t i = 0, o = 0;
	while (i < n) {
		unsigned c = in[i];
		if (c < 0x80) {
			out[o++] = (char)c;
			i++;
			continue;
		}
		/* Unicode table 3-7: the lead byte fixes the length and the range
		 * of the second byte; later bytes are 80..BF. */
		size_t need;
		unsigned lo = 0x80, hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			need = 1;
		else if (c == 0xe0)
			need = 2, lo = 0xa0;
		else if (c == 0xed)
			need = 2, hi = 0x9f;
		else if (c >= 0xe1 && c <= 0xef)
			need = 2;
		else if (c == 0xf0)
			need = 3, lo = 0x90;
		else if (c == 0xf4)
			need = 3, hi = 0x8f;
		else if (c >= 0xf1 && c <= 0xf3)
			need = 3;
		else {
			o = put_fffd(out, o);
			i++;
			continue;
		}
		size_t j = 1;
		while (j <= need && i + j < n && in[i + j] >= lo && in[i + j] <= hi) {
			lo = 0x80, hi = 0xbf;
			j++;
		}
		if (j > need) {
			memcpy(out + o, in + i, need + 1);
			o += need + 1;
			i += need + 1;
		} else if (i + j == n && !final) {
			break; /* a valid but incomplete sequence: wait for more */
		} else {
			o = put_fffd(out, o); /* the maximal invalid subpart in[i .. i+j) */
			i += j;
		}
	}
	*out_len = o;
	return i;
}

struct tok_stream {
	const dai_tok *t;
	int flags;
	int first;
	unsigned char held[4]; /* an incomplete UTF-8 sequence (at most 3 bytes) */
	size_t n_held;
	unsigned char *in;
	char *out;
	size_t cap; /* bytes of in; out holds 3 * cap */
};

tok_stream *tok_stream_new(const dai_tok *t, int flags, dai_err *e)
{
	tok_stream *s = calloc(1, sizeof *s);
	if (!s) {
		dai_errf(e, "tokenizer: out of memory");
		return NULL;
	}
	s->t = t;
	s->flags = flags;
	s->first = 1;
	return s;
}

void tok_stream_free(tok_stream *s)
{
	if (!s)
		return;
	free(s->in);
	free(s->out);
	free(s);
}

static int stream_reserve(tok_stream *s, size_t n, dai_err *e)
{
	if (n <= s->cap)
		return 0;
	size_t cap = s->cap ? s->cap : 64;
	while (cap < n)
		cap *= 2;
	unsigned char *in = realloc(s->in, cap);
	if (!in)
		return dai_errf(e, "tokenizer: out of memory");
	s->in = in;
	char *out = realloc(s->out, 3 * cap);
	if (!out)
		return dai_errf(e, "tokenizer: out of memory");
	s->out = out;
	s->cap = cap;
	return 0;
}

/* Repairs held bytes + p[0..pl) into s->out, keeping a new incomplete tail. */
static int stream_emit(tok_stream *s, const char *p, size_t pl, int final, const char **out,
                       size_t *len, dai_err *e)
{
	size_t n = s->n_held + pl;
	if (stream_reserve(s, n + 1, e))
		return -1;
	memcpy(s->in, s->held, s->n_held);
	if (pl)
		memcpy(s->in + s->n_held, p, pl);
	size_t used = tok_utf8_repair(s->in, n, final, s->out, len);
	s->n_held = n - used;
	memcpy(s->held, s->in + used, s->n_held);
	*out = s->out;
	return 0;
}

int tok_stream_put(tok_stream *s, int32_t id, const char **out, size_t *len, dai_err *e)
{
	size_t pl;
	const char *p = tok_piece(s->t, id, s->flags, &pl);
	*out = "";
	*len = 0;
	if (!p)
		return dai_errf(e, "tokenizer: id %d out of range [0, %u)", id, s->t->n);
	if (s->first && (s->flags & TOK_STRIP_SPACE) && pl > 0 && p[0] == ' ')
		p++, pl--;
	s->first = 0;
	return stream_emit(s, p, pl, 0, out, len, e);
}

int tok_stream_flush(tok_stream *s, const char **out, size_t *len, dai_err *e)
{
	return stream_emit(s, NULL, 0, 1, out, len, e);
}
