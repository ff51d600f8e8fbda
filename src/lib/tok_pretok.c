/*
 * tok_pretok.c - the BPE pre-tokenizer splits (tok_pretok.h): each
 * tokenizer.ggml.pre names a list of regexes that cut the text in turn,
 * every match and every stretch between matches becoming a word. The
 * regexes are hand-coded here as llama.cpp does for the GPT-2 and Llama 3
 * ones, including its corner cases; the rest (Qwen2's, the "default"
 * list) are simple enough to follow directly from the regex.
 */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "tok_pretok.h"
#include "unicode_tab.h"

/* A code point's flags: its class (unicode_tab.h) and whether it is \s. */
#define F_SPACE 0x100
#define F_L UNI_LETTER
#define F_N UNI_NUMBER

/* What a position outside the fragment reads as. */
#define OUT_OF_RANGE 0xffffffffu

static const struct {
	const char *name;
	int pre;
} pre_names[] = {
    {"default", TOK_PRE_DEFAULT}, {"llama-bpe", TOK_PRE_LLAMA3},
    {"llama3", TOK_PRE_LLAMA3},   {"llama-v3", TOK_PRE_LLAMA3},
    {"qwen2", TOK_PRE_QWEN2},     {"deepseek-r1-qwen", TOK_PRE_QWEN2},
    {"gpt-2", TOK_PRE_GPT2},
};

int tok_pre_from_name(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof pre_names / sizeof *pre_names; i++)
		if (strlen(pre_names[i].name) == len && memcmp(pre_names[i].name, s, len) == 0)
			return pre_names[i].pre;
	return -1;
}

size_t tok_utf8_decode(const char *str, size_t n, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t need;
		uint32_t v;
		if (c < 0x80) {
			cp[k++] = c;
			i++;
			continue;
		}
		if (c < 0xc0) /* a continuation byte leads nothing */
			need = 0, v = 0;
		else if (c < 0xe0)
			need = 1, v = c & 0x1f;
		else if (c < 0xf0)
			need = 2, v = c & 0x0f;
		else if (c < 0xf8)
			need = 3, v = c & 0x07;
		else
			need = 0, v = 0;
		int ok = need > 0 && n - i > need;
		for (size_t j = 1; ok && j <= need; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				ok = 0;
			else
				v = v << 6 | (s[i + j] & 0x3f);
		}
		if (ok && v <= 0x10ffff) {
			cp[k++] = v;
			i += need + 1;
		} else {
			cp[k++] = 0xfffd;
			i++;
		}
	}
	return k;
}

size_t tok_utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* ------------------------------------------------------------- words */

typedef struct {
	size_t *v;
	size_t n, cap;
	int oom;
} lenvec;

static void push_len(lenvec *o, size_t len)
{
	if (len == 0 || o->oom)
		return;
	size_t *v = grow_array(o->v, o->n, &o->cap, sizeof *v, 64);
	if (!v) {
		o->oom = 1;
		return;
	}
	o->v = v;
	o->v[o->n++] = len;
}

/* One fragment [lo, hi) of the text being cut, and the words found so far. */
typedef struct {
	const uint32_t *cp;
	const uint16_t *fl;
	size_t lo, hi;
	size_t prev; /* end of the last word */
	lenvec *out;
} frag;

static inline uint32_t cpt_at(const frag *f, size_t i)
{
	return i >= f->lo && i < f->hi ? f->cp[i] : OUT_OF_RANGE;
}

static inline unsigned flags_at(const frag *f, size_t i)
{
	return i >= f->lo && i < f->hi ? f->fl[i] : 0;
}

/* Ends a word at end; returns its length. */
static size_t add_word(frag *f, size_t end)
{
	size_t len = end - f->prev;
	push_len(f->out, len);
	f->prev = end;
	return len;
}

static uint32_t ascii_lower(uint32_t c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* 's|'t|'re|'ve|'m|'ll|'d at pos (case-folded when fold): its length or 0. */
static size_t contraction(const frag *f, size_t pos, int fold)
{
	if (cpt_at(f, pos) != '\'' || pos + 1 >= f->hi)
		return 0;
	uint32_t a = cpt_at(f, pos + 1);
	if (fold)
		a = ascii_lower(a);
	if (a == 's' || a == 't' || a == 'm' || a == 'd')
		return 2;
	if (pos + 2 >= f->hi)
		return 0;
	uint32_t b = cpt_at(f, pos + 2);
	if (fold)
		b = ascii_lower(b);
	if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
		return 3;
	return 0;
}

/* The end of the word at pos that the regexes' common tail \s+(?!\S)|\s+
 * (or, with no space there, any one character) takes, given the nws
 * spaces that start at pos: before a non-space, the last space goes with
 * what follows. */
static size_t space_tail(const frag *f, size_t pos, size_t nws)
{
	if (nws > 1 && cpt_at(f, pos + nws) != OUT_OF_RANGE)
		return pos + nws - 1;
	return pos + (nws > 0 ? nws : 1);
}

/* GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static void split_gpt2(frag *f)
{
	for (size_t pos = f->lo; pos < f->hi;) {
		uint32_t c = cpt_at(f, pos);
		size_t k = contraction(f, pos, 0);
		if (k) {
			pos += add_word(f, pos + k);
			continue;
		}
		unsigned f2 = c == ' ' ? flags_at(f, pos + 1) : flags_at(f, pos);
		if (f2 & F_L) {
			pos += c == ' ';
			while (f2 & F_L)
				f2 = flags_at(f, ++pos);
			add_word(f, pos);
			continue;
		}
		if (f2 & F_N) {
			pos += c == ' ';
			while (f2 & F_N)
				f2 = flags_at(f, ++pos);
			add_word(f, pos);
			continue;
		}
		if (!(f2 & (F_SPACE | F_L | F_N)) && f2) {
			pos += c == ' ';
			while (!(f2 & (F_SPACE | F_L | F_N)) && f2)
				f2 = flags_at(f, ++pos);
			add_word(f, pos);
			continue;
		}
		size_t nws = 0;
		while (flags_at(f, pos + nws) & F_SPACE)
			nws++;
		pos = space_tail(f, pos, nws);
		add_word(f, pos);
	}
}

/* Llama 3 (max_digits 3) and Qwen2 (max_digits 1):
 * (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max}|
 *  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static void split_llama3(frag *f, size_t max_digits)
{
	for (size_t pos = f->lo; pos < f->hi;) {
		uint32_t c = cpt_at(f, pos);
		unsigned fl = flags_at(f, pos);
		size_t k = contraction(f, pos, 1);
		if (k) {
			pos += add_word(f, pos + k);
			continue;
		}
		if (!(c == '\r' || c == '\n' || (fl & F_N)) &&
		    ((fl & F_L) || (flags_at(f, pos + 1) & F_L))) {
			pos++;
			while (flags_at(f, pos) & F_L)
				pos++;
			add_word(f, pos);
			continue;
		}
		if (fl & F_N) {
			size_t ini = pos;
			while (flags_at(f, pos) & F_N) {
				if (++pos - ini >= max_digits) {
					add_word(f, pos);
					ini = pos;
				}
			}
			add_word(f, pos);
			continue;
		}
		unsigned f2 = c == ' ' ? flags_at(f, pos + 1) : fl;
		if (!(f2 & (F_SPACE | F_L | F_N)) && fl) {
			pos += c == ' ';
			while (!(f2 & (F_SPACE | F_L | F_N)) && f2)
				f2 = flags_at(f, ++pos);
			uint32_t c2 = cpt_at(f, pos);
			while (c2 == '\r' || c2 == '\n')
				c2 = cpt_at(f, ++pos);
			add_word(f, pos);
			continue;
		}
		size_t nws = 0, last_nl = 0;
		while (flags_at(f, pos + nws) & F_SPACE) {
			uint32_t c2 = cpt_at(f, pos + nws);
			if (c2 == '\r' || c2 == '\n')
				last_nl = pos + nws + 1;
			nws++;
		}
		if (last_nl > 0) { /* \s*[\r\n]+ */
			pos = last_nl;
			add_word(f, pos);
			continue;
		}
		pos = space_tail(f, pos, nws);
		add_word(f, pos);
	}
}

/* [\p{P}\$\+<=>\^~\|]: llama.cpp runs it through std::regex on a text
 * whose non-ASCII code points stand for their class, so for ASCII it is
 * the listed characters, beyond it the class P. */
static int default_punct(uint32_t c, unsigned fl)
{
	if (c < 0x80)
		return c && strchr("!\"#%&'()*,-./:;?@[\\]_{}$+<=>^~|", (int)c) != NULL;
	return (fl & UNI_PUNCT) && !(fl & F_SPACE);
}

static int default_number(uint32_t c, unsigned fl)
{
	if (c < 0x80)
		return c >= '0' && c <= '9';
	return (fl & F_N) && !(fl & F_SPACE);
}

/* Every maximal run of code points with pred is a word, and so is every
 * stretch between them (std::regex_iterator over "[...]+"). */
static void split_runs(frag *f, int (*pred)(uint32_t, unsigned))
{
	size_t pos = f->lo;
	while (pos < f->hi) {
		size_t s = pos;
		while (s < f->hi && !pred(f->cp[s], f->fl[s]))
			s++;
		if (s == f->hi)
			break;
		size_t e = s;
		while (e < f->hi && pred(f->cp[e], f->fl[e]))
			e++;
		add_word(f, s);
		add_word(f, e);
		pos = e;
	}
	add_word(f, f->hi);
}

/* [0-9][0-9][0-9]: each leftmost group of three ASCII digits is a word. */
static void split_digit3(frag *f)
{
	size_t pos = f->lo;
	while (pos + 3 <= f->hi) {
		int d = 1;
		for (size_t j = 0; j < 3; j++)
			d &= f->cp[pos + j] >= '0' && f->cp[pos + j] <= '9';
		if (!d) {
			pos++;
			continue;
		}
		add_word(f, pos);
		add_word(f, pos + 3);
		pos += 3;
	}
	add_word(f, f->hi);
}

enum pass { P_GPT2, P_LLAMA3, P_QWEN2, P_PUNCT, P_NUMBER, P_DIGIT3 };

/* Cuts every word of *in further by one regex. */
static void run_pass(int pass, const uint32_t *cp, const uint16_t *fl, const lenvec *in,
                     lenvec *out)
{
	size_t start = 0;
	for (size_t i = 0; i < in->n; i++) {
		frag f = {cp, fl, start, start + in->v[i], start, out};
		switch (pass) {
		case P_GPT2:
			split_gpt2(&f);
			break;
		case P_LLAMA3:
			split_llama3(&f, 3);
			break;
		case P_QWEN2:
			split_llama3(&f, 1);
			break;
		case P_PUNCT:
			split_runs(&f, default_punct);
			break;
		case P_NUMBER:
			split_runs(&f, default_number);
			break;
		default:
			split_digit3(&f);
			break;
		}
		start += in->v[i];
	}
}

int tok_pretok_split(int pre, const uint32_t *cp, size_t n, size_t **lens, size_t *n_words,
                     dai_err *e)
{
	static const int passes_default[] = {P_PUNCT, P_GPT2, P_NUMBER, P_DIGIT3};
	static const int pass_llama3[] = {P_LLAMA3}, pass_qwen2[] = {P_QWEN2},
	                 pass_gpt2[] = {P_GPT2};
	const int *passes;
	size_t n_passes = 1;
	switch (pre) {
	case TOK_PRE_LLAMA3:
		passes = pass_llama3;
		break;
	case TOK_PRE_QWEN2:
		passes = pass_qwen2;
		break;
	case TOK_PRE_GPT2:
		passes = pass_gpt2;
		break;
	default:
		passes = passes_default;
		n_passes = 4;
		break;
	}
	*lens = NULL;
	*n_words = 0;
	uint16_t *fl = malloc((n ? n : 1) * sizeof *fl);
	lenvec a = {0}, b = {0};
	if (!fl)
		goto oom;
	for (size_t i = 0; i < n; i++)
		fl[i] = (uint16_t)(uni_class(cp[i]) | (uni_is_space(cp[i]) ? F_SPACE : 0));
	push_len(&a, n);
	for (size_t p = 0; p < n_passes && !a.oom; p++) {
		b.n = 0;
		run_pass(passes[p], cp, fl, &a, &b);
		lenvec t = a;
		a = b;
		b = t;
	}
	if (a.oom || b.oom)
		goto oom;
	free(fl);
	free(b.v);
	if (!a.v && !(a.v = malloc(sizeof *a.v)))
		return dai_errf(e, "tokenizer: out of memory");
	*lens = a.v;
	*n_words = a.n;
	return 0;
oom:
	free(fl);
	free(a.v);
	free(b.v);
	return dai_errf(e, "tokenizer: out of memory");
}
