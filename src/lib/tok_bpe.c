/*
 * tok_bpe.c - byte-level BPE vocabularies (tokenizer.ggml.model "gpt2"):
 * the merge table, GPT-2's byte-to-unicode mapping both ways, and the
 * encoding of a text fragment (pre-tokenizer words, then merges by rank),
 * as llama.cpp's llm_tokenizer_bpe does. tok.h describes the behaviour.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok_impl.h"
#include "tok_pretok.h"

#define K_PRE "tokenizer.ggml.pre"
#define K_MERGES "tokenizer.ggml.merges"

/* ------------------------------------------------------ byte <-> unicode */

/* GPT-2's mapping: the printable bytes of Latin-1 (! .. ~, ¡ .. ¬, ® .. ÿ)
 * stand for themselves, the other 68 bytes for U+0100 onwards in order. */
static uint32_t byte_to_cpt(unsigned b)
{
	if ((b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae)
		return b;
	if (b <= 0x20)
		return 256 + b;
	if (b <= 0xa0)
		return 256 + 33 + (b - 0x7f);
	return 256 + 67; /* 0xad */
}

/* The byte cp stands for, -1 if none. */
static int cpt_to_byte(uint32_t cp)
{
	if (cp < 256)
		return byte_to_cpt(cp) == cp ? (int)cp : -1;
	if (cp < 256 + 33)
		return (int)(cp - 256);
	if (cp < 256 + 67)
		return (int)(cp - 256 - 33 + 0x7f);
	return cp == 256 + 67 ? 0xad : -1;
}

/* Writes the mapped form of s[0..n) (UTF-8, each byte one code point) into
 * out (room for 2 n); returns its length. */
static size_t map_bytes(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		o += tok_utf8_encode(byte_to_cpt((unsigned char)s[i]), out + o);
	return o;
}

/* ---------------------------------------------------------------- merges */

static uint64_t pair_hash(const char *a, size_t al, const char *b, size_t bl)
{
	uint64_t h = tok_hash(a, al);
	h ^= 0xff; /* a byte no piece boundary can fake in UTF-8 text */
	h *= 0x100000001b3ull;
	for (size_t i = 0; i < bl; i++) {
		h ^= (unsigned char)b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The rank of the merge a + b, -1 if there is none. */
static int32_t merge_rank(const dai_tok *t, const char *a, size_t al, const char *b, size_t bl)
{
	for (size_t i = pair_hash(a, al, b, bl) & t->merge_mask;; i = (i + 1) & t->merge_mask) {
		int32_t r = t->merge_slot[i];
		if (r < 0)
			return -1;
		const tok_merge *m = &t->merges[r];
		const char *p = t->merge_text + m->off;
		if (m->llen == al && m->rlen == bl && memcmp(p, a, al) == 0 &&
		    memcmp(p + al, b, bl) == 0)
			return r;
	}
}

static int load_merges(dai_tok *t, const gguf_file *g, dai_err *e)
{
	gguf_str *m = NULL;
	size_t n = 0;
	if (!gguf_find_key(g, K_MERGES))
		return dai_errf(e, "%s: key %s: missing (a BPE vocabulary needs its merges)",
		                g->name, K_MERGES);
	if (gguf_get_arr_str(g, K_MERGES, &m, &n, e))
		return -1;
	if (n > INT32_MAX / 4) {
		free(m);
		return dai_errf(e, "%s: key %s: %zu merges", g->name, K_MERGES, n);
	}
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += m[i].len;
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	t->merge_text = malloc(total ? total : 1);
	t->merges = malloc((n ? n : 1) * sizeof *t->merges);
	t->merge_slot = malloc(cap * sizeof *t->merge_slot);
	if (!t->merge_text || !t->merges || !t->merge_slot) {
		free(m);
		return dai_errf(e, "tokenizer: out of memory");
	}
	memset(t->merge_slot, 0xff, cap * sizeof *t->merge_slot);
	t->merge_mask = cap - 1;
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		/* "left right", split at the first space after the first byte; a
		 * line without one is the pair ("", ""), which never applies */
		const char *s = m[i].s,
		           *sp = m[i].len > 1 ? memchr(s + 1, ' ', m[i].len - 1) : NULL;
		tok_merge x = {off, 0, 0};
		if (sp && m[i].len - 1 <= UINT32_MAX) {
			x.llen = (uint32_t)(sp - s);
			x.rlen = (uint32_t)(m[i].len - 1 - x.llen);
			memcpy(t->merge_text + off, s, x.llen);
			memcpy(t->merge_text + off + x.llen, sp + 1, x.rlen);
			off += x.llen + x.rlen;
		}
		t->merges[i] = x;
		t->n_merges = (uint32_t)i + 1;
		if (x.rlen == 0) /* an empty side never matches a symbol */
			continue;
		const char *a = t->merge_text + x.off;
		if (merge_rank(t, a, x.llen, a + x.llen, x.rlen) >= 0)
			continue; /* a repeated pair keeps its first (lowest) rank */
		size_t k = pair_hash(a, x.llen, a + x.llen, x.rlen) & t->merge_mask;
		while (t->merge_slot[k] >= 0)
			k = (k + 1) & t->merge_mask;
		t->merge_slot[k] = (int32_t)i;
	}
	free(m);
	return 0;
}

int tok_bpe_load(dai_tok *t, const gguf_file *g, dai_err *e)
{
	t->pre = TOK_PRE_DEFAULT;
	if (gguf_find_key(g, K_PRE)) {
		gguf_str s;
		if (gguf_get_str(g, K_PRE, &s, e))
			return -1;
		int pre = tok_pre_from_name(s.s, s.len);
		if (pre < 0) {
			char buf[64];
			size_t i;
			for (i = 0; i < s.len && i + 1 < sizeof buf; i++)
				buf[i] = s.s[i] >= 0x20 && s.s[i] < 0x7f ? s.s[i] : '?';
			buf[i] = 0;
			return dai_errf(e,
			                "%s: key %s: unsupported pre-tokenizer '%s' (known: "
			                "default, llama-bpe, qwen2, gpt-2)",
			                g->name, K_PRE, buf);
		}
		t->pre = pre;
	}
	/* llama.cpp's settings per pre-tokenizer */
	t->ignore_merges = t->pre == TOK_PRE_LLAMA3;
	t->clean_spaces = t->pre != TOK_PRE_QWEN2;
	return load_merges(t, g, e);
}

/* ------------------------------------------------------------- decoding */

/* llama_decode_text: each code point of a normal piece back to its byte;
 * one that stands for no byte becomes "[UNK_BYTE_0x<its UTF-8 in hex>
 * <the whole piece>]", as llama.cpp writes it. With out NULL, only counts. */
static size_t decode_piece(const char *s, size_t len, char *out)
{
	uint32_t cp[64], *cps = len <= 64 ? cp : malloc(len * sizeof *cps);
	if (!cps)
		return SIZE_MAX;
	size_t n = tok_utf8_decode(s, len, cps), o = 0;
	for (size_t i = 0; i < n; i++) {
		int b = cpt_to_byte(cps[i]);
		if (b >= 0) {
			if (out)
				out[o] = (char)b;
			o++;
			continue;
		}
		char u[4], hex[16];
		size_t ul = tok_utf8_encode(cps[i], u);
		size_t hl = 0;
		for (size_t j = 0; j < ul; j++)
			hl += (size_t)snprintf(hex + hl, sizeof hex - hl, "%02x",
			                       (unsigned char)u[j]);
		if (out) {
			memcpy(out + o, "[UNK_BYTE_0x", 12);
			memcpy(out + o + 12, hex, hl);
			memcpy(out + o + 12 + hl, s, len);
			out[o + 12 + hl + len] = ']';
		}
		o += 12 + hl + len + 1;
	}
	if (cps != cp)
		free(cps);
	return o;
}

/* The bytes of token id as llama.cpp's token_to_piece (special = true)
 * gives them for a BPE vocabulary; with out NULL, only counts. */
static size_t dec_token(const dai_tok *t, uint32_t id, char *out)
{
	const char *s = t->text + t->text_off[id];
	size_t len = t->text_off[id + 1] - t->text_off[id];
	switch (t->type[id]) {
	case TOK_T_NORMAL:
		return decode_piece(s, len, out);
	case TOK_T_UNKNOWN:
	case TOK_T_CONTROL:
	case TOK_T_USER_DEFINED:
		if (out)
			memcpy(out, s, len);
		return len;
	default: /* byte, unused and undefined tokens decode to nothing */
		return 0;
	}
}

int tok_bpe_build_dec(dai_tok *t, dai_err *e)
{
	size_t total = 0;
	for (uint32_t id = 0; id < t->n; id++) {
		size_t k = dec_token(t, id, NULL);
		if (k == SIZE_MAX)
			return dai_errf(e, "tokenizer: out of memory");
		total += k;
	}
	t->dec_off = malloc((t->n + 1) * sizeof *t->dec_off);
	t->dec = malloc(total ? total : 1);
	if (!t->dec || !t->dec_off)
		return dai_errf(e, "tokenizer: out of memory");
	size_t o = 0;
	for (uint32_t id = 0; id < t->n; id++) {
		t->dec_off[id] = o;
		size_t k = dec_token(t, id, t->dec + o);
		if (k == SIZE_MAX)
			return dai_errf(e, "tokenizer: out of memory");
		o += k;
	}
	t->dec_off[t->n] = o;
	return 0;
}

size_t tok_bpe_clean_spaces(char *text, size_t total)
{
	/* " ?", " !", " .", " ," lose their space */
	size_t n1 = total, k = total ? 1 : 0;
	for (size_t i = 1; i < n1; i++) {
		char x = text[i];
		if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ','))
			k--;
		text[k++] = x;
	}
	/* " ' " becomes "'" */
	size_t n2 = k;
	k = n2 ? 1 : 0;
	for (size_t i = 1; i < n2; i++) {
		char x = text[i];
		if (x == '\'' && i + 1 < n2 && text[i - 1] == ' ' && text[i + 1] == ' ') {
			k--;
			text[++i] = 0;
		}
		text[k++] = x;
	}
	/* " 's", " 'm", " 're", " 've" lose their space */
	size_t n3 = k;
	k = n3 ? 1 : 0;
	for (size_t i = 1; i < n3; i++) {
		char x = text[i];
		if (text[i - 1] == ' ' && x == '\'' && i + 1 < n3) {
			char x1 = text[i + 1];
			if (x1 == 's' || x1 == 'm')
				k--;
			else if (i + 2 < n3 && ((x1 == 'r' && text[i + 2] == 'e') ||
			                        (x1 == 'v' && text[i + 2] == 'e')))
				k--;
		}
		text[k++] = x;
	}
	return k;
}

/* ------------------------------------------------------------- encoding */

typedef struct {
	int prev, next;
	size_t start, n; /* bytes of the mapped word; n == 0 once merged away */
} symbol;

typedef struct {
	int left, right;
	int32_t rank;
	size_t ln, rn; /* the sizes the two symbols had: a changed one is stale */
} bigram;

/* The merge order: lower rank first, then the leftmost. */
static int before(const bigram *a, const bigram *b)
{
	return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

typedef struct {
	bigram *v;
	size_t n, cap;
} heap;

static int heap_push(heap *h, bigram b)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 64;
		bigram *v = realloc(h->v, cap * sizeof *v);
		if (!v)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	size_t i = h->n++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(&b, &h->v[p]))
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = b;
	return 0;
}

static bigram heap_pop(heap *h)
{
	bigram top = h->v[0], last = h->v[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(&h->v[c + 1], &h->v[c]))
			c++;
		if (!before(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n > 0)
		h->v[i] = last;
	return top;
}

static int try_bigram(const dai_tok *t, const char *w, const symbol *sym, heap *h, int l, int r)
{
	if (l < 0 || r < 0)
		return 0;
	int32_t rank = merge_rank(t, w + sym[l].start, sym[l].n, w + sym[r].start, sym[r].n);
	if (rank < 0)
		return 0;
	return heap_push(h, (bigram){l, r, rank, sym[l].n, sym[r].n});
}

/* The length of the UTF-8 character led by c, as llama.cpp's
 * unicode_len_utf8 reckons it. */
static size_t lead_len(unsigned char c)
{
	static const unsigned char len[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
	return len[c >> 4];
}

/* Merges one mapped word w[0..n) and appends its ids. */
static int bpe_word(const dai_tok *t, const char *w, size_t n, symbol *sym, heap *h, tok_idvec *out,
                    dai_err *e)
{
	if (t->ignore_merges) {
		int32_t id = tok_find(t, w, n);
		if (id >= 0)
			return tok_idvec_push(out, id, e);
	}
	int ns = 0;
	for (size_t off = 0; off < n; ns++) {
		size_t cl = lead_len((unsigned char)w[off]);
		if (cl > n - off)
			cl = n - off;
		sym[ns] = (symbol){ns - 1, off + cl == n ? -1 : ns + 1, off, cl};
		off += cl;
	}
	h->n = 0;
	for (int i = 1; i < ns; i++)
		if (try_bigram(t, w, sym, h, i - 1, i))
			return dai_errf(e, "tokenizer: out of memory");
	while (h->n > 0) {
		bigram b = heap_pop(h);
		symbol *l = &sym[b.left], *r = &sym[b.right];
		if (l->n == 0 || r->n == 0 || l->n != b.ln || r->n != b.rn)
			continue; /* stale: one side has changed since */
		l->n += r->n;
		r->n = 0;
		l->next = r->next;
		if (r->next >= 0)
			sym[r->next].prev = b.left;
		if (try_bigram(t, w, sym, h, l->prev, b.left) ||
		    try_bigram(t, w, sym, h, b.left, l->next))
			return dai_errf(e, "tokenizer: out of memory");
	}
	for (int i = 0; i < ns; i++) {
		if (sym[i].n == 0)
			continue;
		const char *s = w + sym[i].start;
		int32_t id = tok_find(t, s, sym[i].n);
		if (id >= 0) {
			if (tok_idvec_push(out, id, e))
				return -1;
			continue;
		}
		/* not a piece: each byte of the mapped text that is a piece on
		 * its own, the others dropped (llama.cpp's fallback) */
		for (size_t j = 0; j < sym[i].n; j++) {
			int32_t b = tok_find(t, s + j, 1);
			if (b >= 0 && tok_idvec_push(out, b, e))
				return -1;
		}
	}
	return 0;
}

int tok_bpe_fragment(const dai_tok *t, const char *text, size_t len, tok_idvec *out, dai_err *e)
{
	uint32_t *cp = malloc((len ? len : 1) * sizeof *cp);
	char *raw = NULL, *w = NULL;
	symbol *sym = NULL;
	size_t *lens = NULL, n_words = 0;
	heap h = {0};
	int rc = -1;
	if (!cp) {
		dai_errf(e, "tokenizer: out of memory");
		goto out;
	}
	size_t n = tok_utf8_decode(text, len, cp);
	if (tok_pretok_split(t->pre, cp, n, &lens, &n_words, e))
		goto out;
	/* a word of k code points is at most 4 k bytes, and each byte maps
	 * to a symbol of at most 2 bytes */
	size_t maxw = 0;
	for (size_t i = 0; i < n_words; i++)
		maxw = lens[i] > maxw ? lens[i] : maxw;
	raw = malloc(4 * maxw + 1);
	w = malloc(8 * maxw + 1);
	sym = malloc((4 * maxw + 1) * sizeof *sym);
	if (!raw || !w || !sym) {
		dai_errf(e, "tokenizer: out of memory");
		goto out;
	}
	size_t at = 0;
	for (size_t i = 0; i < n_words; i++) {
		size_t rl = 0;
		for (size_t j = at; j < at + lens[i]; j++)
			rl += tok_utf8_encode(cp[j], raw + rl);
		at += lens[i];
		size_t wl = map_bytes(raw, rl, w);
		if (bpe_word(t, w, wl, sym, &h, out, e))
			goto out;
	}
	rc = 0;
out:
	free(cp);
	free(raw);
	free(w);
	free(sym);
	free(lens);
	free(h.v);
	return rc;
}
