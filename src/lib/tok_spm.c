/*
 * tok_spm.c - SentencePiece encoding (tok_encode): special-token
 * fragments, the space prefix and escape, and the merge of neighbouring
 * symbols by piece score, as tok.h describes step by step. The fragments
 * between special tokens of a BPE vocabulary go to tok_bpe.c instead.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "tok.h"
#include "tok_impl.h"

/* Text larger than this is refused (symbol indices are ints). */
#define TOK_TEXT_MAX ((size_t)INT_MAX / 8)

int tok_idvec_push(tok_idvec *o, int32_t id, dai_err *e)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 64;
		int32_t *v = realloc(o->v, cap * sizeof *v);
		if (!v)
			return dai_errf(e, "tokenizer: out of memory");
		o->v = v;
		o->cap = cap;
	}
	o->v[o->n++] = id;
	return 0;
}

/* A run of UTF-8 characters, linked to its live neighbours. */
typedef struct {
	int prev, next;
	size_t start, n; /* bytes of the escaped text; n == 0 once merged away */
} symbol;

/* A candidate merge of symbols left and right (size bytes together). */
typedef struct {
	int left, right;
	float score;
	size_t size;
} bigram;

/* The merge order: higher score first, then the leftmost. */
static int before(const bigram *a, const bigram *b)
{
	return a->score > b->score || (a->score == b->score && a->left < b->left);
}

typedef struct {
	bigram *v;
	size_t n;
} heap;

static void heap_push(heap *h, bigram b)
{
	size_t i = h->n++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(&b, &h->v[p]))
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = b;
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

/* The length of the UTF-8 character at lead byte c, from its top 4 bits
 * alone (llama.cpp's unicode_len_utf8). */
static size_t utf8_len(unsigned char c)
{
	static const unsigned char len[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
	return len[c >> 4];
}

static void try_bigram(const dai_tok *t, const char *s, const symbol *sym, heap *h, int left,
                       int right)
{
	if (left < 0 || right < 0)
		return;
	size_t size = sym[left].n + sym[right].n;
	int32_t id = tok_find(t, s + sym[left].start, size);
	if (id < 0)
		return;
	heap_push(h, (bigram){left, right, t->score[id], size});
}

/* One escaped fragment s[0..len) to ids. */
static int spm_fragment(const dai_tok *t, const char *s, size_t len, tok_idvec *out, dai_err *e)
{
	if (len == 0)
		return 0;
	symbol *sym = malloc(len * sizeof *sym);
	heap h = {malloc(3 * len * sizeof *h.v), 0};
	int rc = -1;
	if (!sym || !h.v) {
		dai_errf(e, "tokenizer: out of memory");
		goto out;
	}
	int n = 0;
	for (size_t off = 0; off < len; n++) {
		size_t cl = utf8_len((unsigned char)s[off]);
		if (cl > len - off)
			cl = len - off;
		sym[n] = (symbol){n - 1, off + cl == len ? -1 : n + 1, off, cl};
		off += cl;
	}
	for (int i = 1; i < n; i++)
		try_bigram(t, s, sym, &h, i - 1, i);
	while (h.n > 0) {
		bigram b = heap_pop(&h);
		symbol *l = &sym[b.left], *r = &sym[b.right];
		/* a stale candidate: one side has been merged since (sizes only grow,
		 * so an unchanged total means both sides are unchanged) */
		if (l->n == 0 || r->n == 0 || l->n + r->n != b.size)
			continue;
		l->n += r->n;
		r->n = 0;
		l->next = r->next;
		if (r->next >= 0)
			sym[r->next].prev = b.left;
		try_bigram(t, s, sym, &h, l->prev, b.left);
		try_bigram(t, s, sym, &h, b.left, l->next);
	}
	/* Every merged symbol is a piece; a symbol left as it was cut is a piece
	 * or falls back to bytes. (llama.cpp also keeps a map to split such a
	 * symbol into earlier merges, but a symbol that was never merged cannot
	 * be in it: the map holds only pieces, and the lookup above finds them
	 * first.) */
	for (int i = 0; i != -1; i = sym[i].next) {
		const char *p = s + sym[i].start;
		int32_t id = tok_find(t, p, sym[i].n);
		if (id >= 0) {
			if (tok_idvec_push(out, id, e))
				goto out;
			continue;
		}
		for (size_t j = 0; j < sym[i].n; j++) {
			unsigned char c = (unsigned char)p[j];
			id = t->byte_tok[c] >= 0 ? t->byte_tok[c] : t->unk;
			if (id < 0) {
				dai_errf(e,
				         "tokenizer: no token for byte 0x%02X and no unknown token",
				         c);
				goto out;
			}
			if (tok_idvec_push(out, id, e))
				goto out;
		}
	}
	rc = 0;
out:
	free(sym);
	free(h.v);
	return rc;
}

/* A piece of the input: raw text (id < 0) or one special token. */
typedef struct {
	int32_t id;
	size_t off, len;
} fragment;

typedef struct {
	fragment *v;
	size_t n, cap;
} fragvec;

static int frag_push(fragvec *f, fragment x, dai_err *e)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		fragment *v = realloc(f->v, cap * sizeof *v);
		if (!v)
			return dai_errf(e, "tokenizer: out of memory");
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n++] = x;
	return 0;
}

/* The first occurrence of p[0..pl) in s[0..sl), or NULL. */
static const char *find(const char *s, size_t sl, const char *p, size_t pl)
{
	if (pl == 0 || pl > sl)
		return NULL;
	const char *end = s + (sl - pl) + 1;
	for (const char *q = s; q < end;) {
		q = memchr(q, p[0], (size_t)(end - q));
		if (!q)
			return NULL;
		if (memcmp(q, p, pl) == 0)
			return q;
		q++;
	}
	return NULL;
}

/* Splits the raw fragments of *f at every occurrence of each special piece
 * in turn (llama.cpp's tokenizer_st_partition without the lstrip/rstrip
 * attributes, which GGUF does not carry). */
static int partition(const dai_tok *t, const char *text, int flags, fragvec *f, dai_err *e)
{
	fragvec tmp = {0};
	for (size_t k = 0; k < t->n_special; k++) {
		int32_t id = t->special[k];
		if (t->type[id] != TOK_T_USER_DEFINED && !(flags & TOK_PARSE_SPECIAL))
			continue;
		const char *p = t->text + t->text_off[id];
		size_t pl = t->text_off[id + 1] - t->text_off[id];
		int hit = 0;
		for (size_t i = 0; i < f->n && !hit; i++)
			hit = f->v[i].id < 0 && find(text + f->v[i].off, f->v[i].len, p, pl);
		if (!hit)
			continue;
		tmp.n = 0;
		for (size_t i = 0; i < f->n; i++) {
			fragment x = f->v[i];
			if (x.id >= 0) {
				if (frag_push(&tmp, x, e))
					goto fail;
				continue;
			}
			size_t pos = x.off, end = x.off + x.len;
			const char *m;
			while ((m = find(text + pos, end - pos, p, pl))) {
				size_t at = (size_t)(m - text);
				if ((at > pos &&
				     frag_push(&tmp, (fragment){-1, pos, at - pos}, e)) ||
				    frag_push(&tmp, (fragment){id, at, pl}, e))
					goto fail;
				pos = at + pl;
			}
			if (pos < end && frag_push(&tmp, (fragment){-1, pos, end - pos}, e))
				goto fail;
		}
		fragvec sw = *f;
		*f = tmp;
		tmp = sw;
	}
	free(tmp.v);
	return 0;
fail:
	free(tmp.v);
	return -1;
}

/* " " -> U+2581, with an optional leading one, into a fresh buffer. */
static char *escape(const char *s, size_t len, int prefix, size_t *out_len)
{
	size_t spaces = prefix;
	for (size_t i = 0; i < len; i++)
		spaces += s[i] == ' ';
	char *buf = malloc(len + 2 * spaces + 3);
	if (!buf)
		return NULL;
	size_t o = 0;
	if (prefix) {
		memcpy(buf, "\xe2\x96\x81", 3);
		o = 3;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ') {
			memcpy(buf + o, "\xe2\x96\x81", 3);
			o += 3;
		} else {
			buf[o++] = s[i];
		}
	}
	*out_len = o;
	return buf;
}

int tok_encode(const dai_tok *t, const char *text, size_t len, int flags, int32_t **ids, size_t *n,
               dai_err *e)
{
	*ids = NULL;
	*n = 0;
	if (len > TOK_TEXT_MAX)
		return dai_errf(e, "tokenizer: text of %zu bytes is too long (at most %zu)", len,
		                TOK_TEXT_MAX);
	tok_idvec out = {0};
	fragvec f = {0};
	if ((flags & TOK_ADD_BOS) && t->bos < 0) {
		dai_errf(e, "tokenizer: the model has no BOS token");
		goto fail;
	}
	if ((flags & TOK_ADD_EOS) && t->eos < 0) {
		dai_errf(e, "tokenizer: the model has no EOS token");
		goto fail;
	}
	if ((flags & TOK_ADD_BOS) && tok_idvec_push(&out, t->bos, e))
		goto fail;
	if (len > 0 &&
	    (frag_push(&f, (fragment){-1, 0, len}, e) || partition(t, text, flags, &f, e)))
		goto fail;
	int prev_special = 1; /* the first fragment gets the space prefix too */
	for (size_t i = 0; i < f.n; i++) {
		if (f.v[i].id >= 0) {
			if (tok_idvec_push(&out, f.v[i].id, e))
				goto fail;
			prev_special = 1;
			continue;
		}
		if (t->bpe) {
			if (tok_bpe_fragment(t, text + f.v[i].off, f.v[i].len, &out, e))
				goto fail;
			continue;
		}
		size_t el;
		char *esc =
		    escape(text + f.v[i].off, f.v[i].len, t->add_space_prefix && prev_special, &el);
		if (!esc) {
			dai_errf(e, "tokenizer: out of memory");
			goto fail;
		}
		int rc = spm_fragment(t, esc, el, &out, e);
		free(esc);
		if (rc)
			goto fail;
		prev_special = 0;
	}
	if ((flags & TOK_ADD_EOS) && tok_idvec_push(&out, t->eos, e))
		goto fail;
	if (!out.v && !(out.v = malloc(sizeof *out.v))) {
		dai_errf(e, "tokenizer: out of memory");
		goto fail;
	}
	free(f.v);
	*ids = out.v;
	*n = out.n;
	return 0;
fail:
	free(out.v);
	free(f.v);
	return -1;
}
