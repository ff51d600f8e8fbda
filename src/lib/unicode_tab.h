/*
 * unicode_tab.h - the Unicode general-category class of a code point (the
 * first letter of its category: letter, number, punctuation...) and the
 * white-space set, as the byte-level BPE pre-tokenizers need them.
 *
 * The classes come from a range table generated from the Unicode Character
 * Database (unicode_tab.c, made by mk/gen_unicode.awk; `make unicode-tab`
 * remakes it). The values are those of llama.cpp's unicode_cpt_flags, so
 * that its pre-tokenizer splits can be followed to the letter.
 */
#ifndef DAI_UNICODE_TAB_H
#define DAI_UNICODE_TAB_H

#include <stdint.h>

enum uni_class {
	UNI_UNASSIGNED = 0x01, /* Cn, and anything above U+10FFFF */
	UNI_NUMBER = 0x02,     /* \p{N} */
	UNI_LETTER = 0x04,     /* \p{L} */
	UNI_SEPARATOR = 0x08,  /* \p{Z} */
	UNI_MARK = 0x10,       /* \p{M} */
	UNI_PUNCT = 0x20,      /* \p{P} */
	UNI_SYMBOL = 0x40,     /* \p{S} */
	UNI_CONTROL = 0x80,    /* \p{C} other than Cn */
};

typedef struct {
	uint32_t start; /* the range runs to the next range's start */
	uint8_t cls;    /* enum uni_class */
} uni_range;

extern const char uni_version[];
extern const uni_range uni_ranges[]; /* sorted, the first starts at 0 */
extern const unsigned uni_n_ranges;

static inline int uni_class(uint32_t cp)
{
	if (cp > 0x10ffff)
		return UNI_UNASSIGNED;
	unsigned lo = 0, hi = uni_n_ranges; /* the answer is in [lo, hi) */
	while (hi - lo > 1) {
		unsigned mid = lo + (hi - lo) / 2;
		if (uni_ranges[mid].start <= cp)
			lo = mid;
		else
			hi = mid;
	}
	return uni_ranges[lo].cls;
}

/* White space as the pre-tokenizers' \s (Python's and Rust's): the
 * separators Z and the controls TAB..CR and NEL. */
static inline int uni_is_space(uint32_t cp)
{
	return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 || cp == 0xa0 ||
	       cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

#endif
