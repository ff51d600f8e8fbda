/* json.c - strict JSON reader (see json.h). */
#include "json.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

typedef struct parser {
	json_doc *doc;
	const char *s;
	size_t n, pos;
	dai_err *e;
} parser;

static int perr(parser *p, const char *what)
{
	return dai_errf(p->e, "json: %s at byte %zu", what, p->pos);
}

static void skip_ws(parser *p)
{
	while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
	                         p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static int new_node(parser *p, json_type t)
{
	json_doc *d = p->doc;
	json_node *nn = grow_array(d->nodes, d->n, &d->cap, sizeof *nn, 32);
	if (!nn)
		return perr(p, "out of memory");
	d->nodes = nn;
	json_node *x = &d->nodes[d->n];
	memset(x, 0, sizeof *x);
	x->type = t;
	x->start = p->pos;
	x->next = x->first = -1;
	return (int)d->n++;
}

static int hex4(const char *s, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		*v = *v * 16 + d;
	}
	return 0;
}

static size_t unescaped(const json_doc *doc, int i, char *out, size_t cap);

/* 1 when string nodes a and b name the same key once unescaped ("\u00e9"
 * and "é" are one name), 0 when not, -1 out of memory. */
static int same_key(const json_doc *doc, int a, int b)
{
	const json_node *x = &doc->nodes[a], *y = &doc->nodes[b];
	if (!x->escaped && !y->escaped)
		return x->len == y->len &&
		       memcmp(doc->text + x->start, doc->text + y->start, x->len) == 0;
	/* unescaping never lengthens a string */
	char *u = malloc(x->len + 1), *v = malloc(y->len + 1);
	int rc = -1;
	if (u && v) {
		size_t nu = unescaped(doc, a, u, x->len + 1), nv = unescaped(doc, b, v, y->len + 1);
		rc = nu == nv && memcmp(u, v, nu) == 0;
	}
	free(u);
	free(v);
	return rc;
}

/* Decodes the escape at s[0] == '\\' (n bytes available): the code point
 * and the bytes used; surrogate pairs must be whole. */
static int unescape(const char *s, size_t n, unsigned *cp, size_t *used)
{
	if (n < 2)
		return -1;
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *f = memchr(from, s[1], 8);
	if (f && s[1]) {
		*cp = (unsigned char)to[f - from];
		*used = 2;
		return 0;
	}
	if (s[1] != 'u' || n < 6 || hex4(s + 2, cp) < 0)
		return -1;
	*used = 6;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return -1;
	if (*cp >= 0xd800 && *cp <= 0xdbff) {
		unsigned lo;
		if (n < 12 || s[6] != '\\' || s[7] != 'u' || hex4(s + 8, &lo) < 0 || lo < 0xdc00 ||
		    lo > 0xdfff)
			return -1;
		*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
		*used = 12;
	}
	return 0;
}

static int parse_string(parser *p, int *out)
{
	p->pos++; /* the opening quote */
	int i = new_node(p, JSON_STRING);
	if (i < 0)
		return -1;
	while (p->pos < p->n && p->s[p->pos] != '"') {
		unsigned char c = (unsigned char)p->s[p->pos];
		if (c < 0x20)
			return perr(p, "control character in a string");
		if (c == '\\') {
			unsigned cp;
			size_t used;
			if (unescape(p->s + p->pos, p->n - p->pos, &cp, &used) < 0)
				return perr(p, "bad escape in a string");
			p->doc->nodes[i].escaped = 1;
			p->pos += used;
		} else {
			p->pos++;
		}
	}
	if (p->pos >= p->n)
		return perr(p, "unterminated string");
	p->doc->nodes[i].len = p->pos - p->doc->nodes[i].start;
	p->pos++;
	*out = i;
	return 0;
}

static int parse_number(parser *p, int *out)
{
	int i = new_node(p, JSON_NUMBER);
	if (i < 0)
		return -1;
	const char *s = p->s;
	size_t k = p->pos;
	if (k < p->n && s[k] == '-')
		k++;
	if (k < p->n && s[k] == '0')
		k++;
	else if (k < p->n && s[k] >= '1' && s[k] <= '9')
		while (k < p->n && s[k] >= '0' && s[k] <= '9')
			k++;
	else
		return perr(p, "bad number");
	if (k < p->n && s[k] == '.') {
		k++;
		if (k >= p->n || s[k] < '0' || s[k] > '9')
			return perr(p, "bad number");
		while (k < p->n && s[k] >= '0' && s[k] <= '9')
			k++;
	}
	if (k < p->n && (s[k] == 'e' || s[k] == 'E')) {
		k++;
		if (k < p->n && (s[k] == '+' || s[k] == '-'))
			k++;
		if (k >= p->n || s[k] < '0' || s[k] > '9')
			return perr(p, "bad number");
		while (k < p->n && s[k] >= '0' && s[k] <= '9')
			k++;
	}
	p->doc->nodes[i].len = k - p->pos;
	p->pos = k;
	*out = i;
	return 0;
}

static int parse_value(parser *p, int depth, int *out);

/* Links child after *last among the children of node parent. */
static void append_child(json_doc *d, int parent, int *last, int child)
{
	if (*last < 0)
		d->nodes[parent].first = child;
	else
		d->nodes[*last].next = child;
	*last = child;
}

/* Arrays and objects: children linked in order. */
static int parse_container(parser *p, int depth, int is_obj, int *out)
{
	if (depth >= JSON_MAX_DEPTH)
		return perr(p, "nesting too deep");
	int i = new_node(p, is_obj ? JSON_OBJECT : JSON_ARRAY);
	if (i < 0)
		return -1;
	char close = is_obj ? '}' : ']';
	p->pos++;
	skip_ws(p);
	int last = -1;
	if (p->pos < p->n && p->s[p->pos] == close) {
		p->pos++;
		p->doc->nodes[i].len = p->pos - p->doc->nodes[i].start;
		*out = i;
		return 0;
	}
	for (;;) {
		int child;
		skip_ws(p);
		if (is_obj) {
			if (p->pos >= p->n || p->s[p->pos] != '"')
				return perr(p, "expected a member name");
			if (parse_string(p, &child) < 0)
				return -1;
			skip_ws(p);
			if (p->pos >= p->n || p->s[p->pos] != ':')
				return perr(p, "expected ':'");
			p->pos++;
			append_child(p->doc, i, &last, child);
			skip_ws(p);
		}
		if (parse_value(p, depth + 1, &child) < 0)
			return -1;
		append_child(p->doc, i, &last, child);
		skip_ws(p);
		if (p->pos < p->n && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->n && p->s[p->pos] == close) {
			p->pos++;
			break;
		}
		return perr(p, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
	p->doc->nodes[i].len = p->pos - p->doc->nodes[i].start;
	if (is_obj) /* duplicate keys make a lookup ambiguous */
		for (int k = p->doc->nodes[i].first; k >= 0;
		     k = p->doc->nodes[p->doc->nodes[k].next].next)
			for (int m = p->doc->nodes[p->doc->nodes[k].next].next; m >= 0;
			     m = p->doc->nodes[p->doc->nodes[m].next].next) {
				int same = same_key(p->doc, k, m);
				if (same < 0)
					return perr(p, "out of memory");
				if (same)
					return perr(p, "duplicate member name");
			}
	*out = i;
	return 0;
}

static int literal(parser *p, const char *word, json_type t, int *out)
{
	size_t l = strlen(word);
	if (p->n - p->pos < l || memcmp(p->s + p->pos, word, l) != 0)
		return perr(p, "unexpected character");
	int i = new_node(p, t);
	if (i < 0)
		return -1;
	p->doc->nodes[i].len = l;
	p->pos += l;
	*out = i;
	return 0;
}

static int parse_value(parser *p, int depth, int *out)
{
	skip_ws(p);
	if (p->pos >= p->n)
		return perr(p, "unexpected end");
	switch (p->s[p->pos]) {
	case '{':
		return parse_container(p, depth, 1, out);
	case '[':
		return parse_container(p, depth, 0, out);
	case '"':
		return parse_string(p, out);
	case 't':
		return literal(p, "true", JSON_BOOL, out);
	case 'f':
		return literal(p, "false", JSON_BOOL, out);
	case 'n':
		return literal(p, "null", JSON_NULL, out);
	default:
		return parse_number(p, out);
	}
}

int json_parse(json_doc *doc, const char *text, size_t len, dai_err *e)
{
	memset(doc, 0, sizeof *doc);
	doc->text = text;
	parser p = {doc, text, len, 0, e};
	int root;
	if (parse_value(&p, 0, &root) < 0) {
		json_free(doc);
		return -1;
	}
	skip_ws(&p);
	if (p.pos != len) {
		perr(&p, "trailing bytes");
		json_free(doc);
		return -1;
	}
	return 0;
}

void json_free(json_doc *doc)
{
	free(doc->nodes);
	doc->nodes = NULL;
	doc->n = doc->cap = 0;
}

/* Unescaped bytes of string node i into out (no NUL); the length, or
 * (size_t)-1 when out is too small. */
static size_t unescaped(const json_doc *doc, int i, char *out, size_t cap)
{
	const json_node *x = &doc->nodes[i];
	const char *s = doc->text + x->start;
	size_t k = 0;
	for (size_t j = 0; j < x->len;) {
		unsigned char buf[4];
		size_t nb;
		if (s[j] == '\\') {
			unsigned cp;
			size_t used;
			unescape(s + j, x->len - j, &cp, &used); /* checked by the parser */
			j += used;
			if (cp < 0x80)
				buf[0] = (unsigned char)cp, nb = 1;
			else if (cp < 0x800)
				buf[0] = (unsigned char)(0xc0 | cp >> 6),
				buf[1] = (unsigned char)(0x80 | (cp & 63)), nb = 2;
			else if (cp < 0x10000)
				buf[0] = (unsigned char)(0xe0 | cp >> 12),
				buf[1] = (unsigned char)(0x80 | ((cp >> 6) & 63)),
				buf[2] = (unsigned char)(0x80 | (cp & 63)), nb = 3;
			else
				buf[0] = (unsigned char)(0xf0 | cp >> 18),
				buf[1] = (unsigned char)(0x80 | ((cp >> 12) & 63)),
				buf[2] = (unsigned char)(0x80 | ((cp >> 6) & 63)),
				buf[3] = (unsigned char)(0x80 | (cp & 63)), nb = 4;
		} else {
			buf[0] = (unsigned char)s[j++];
			nb = 1;
		}
		if (cap - k < nb)
			return (size_t)-1;
		memcpy(out + k, buf, nb);
		k += nb;
	}
	return k;
}

int json_member(const json_doc *doc, int obj, const char *key)
{
	if (obj < 0 || (size_t)obj >= doc->n || doc->nodes[obj].type != JSON_OBJECT)
		return -1;
	for (int k = doc->nodes[obj].first; k >= 0; k = doc->nodes[doc->nodes[k].next].next)
		if (json_str_eq(doc, k, key))
			return doc->nodes[k].next;
	return -1;
}

int json_str_eq(const json_doc *doc, int i, const char *s)
{
	if (i < 0 || (size_t)i >= doc->n || doc->nodes[i].type != JSON_STRING)
		return 0;
	size_t n = strlen(s);
	const json_node *x = &doc->nodes[i];
	if (!x->escaped)
		return x->len == n && memcmp(doc->text + x->start, s, n) == 0;
	char tmp[256];
	size_t k = unescaped(doc, i, tmp, sizeof tmp);
	return k == n && memcmp(tmp, s, n) == 0;
}

int json_str(const json_doc *doc, int i, char *out, size_t cap, const char *what, dai_err *e)
{
	if (i < 0 || (size_t)i >= doc->n || doc->nodes[i].type != JSON_STRING)
		return dai_errf(e, "%s: not a string", what);
	size_t k = cap ? unescaped(doc, i, out, cap - 1) : (size_t)-1;
	if (k == (size_t)-1)
		return dai_errf(e, "%s: string too long", what);
	out[k] = 0;
	return 0;
}
