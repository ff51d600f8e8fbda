/* dai_split.c - our side of the pre-tokenizer comparison: reads the records
 * of gen_cases.py and prints, one line per record, the byte lengths of the
 * words of tok_pretok_split after GPT-2's byte-to-unicode mapping (the form
 * in which llama.cpp's unicode_regex_split hands them back). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tok_pretok.h"

/* UTF-8 length of a byte's GPT-2 character: one for printable ASCII */
static size_t mapped_len(unsigned b)
{
	return b >= 0x21 && b <= 0x7e ? 1 : 2;
}

int main(int argc, char **argv)
{
	static const int pres[4] = {TOK_PRE_DEFAULT, TOK_PRE_LLAMA3, TOK_PRE_QWEN2, TOK_PRE_GPT2};
	FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
	if (!f) {
		fprintf(stderr, "usage: dai_split CASES\n");
		return 2;
	}
	uint32_t pre, len;
	while (fread(&pre, 4, 1, f) == 1 && fread(&len, 4, 1, f) == 1 && pre < 4) {
		char *s = malloc(len + 1);
		uint32_t *cp = malloc((len + 1) * sizeof *cp);
		if (!s || !cp || (len && fread(s, 1, len, f) != len))
			return 1;
		size_t n = tok_utf8_decode(s, len, cp), *lens, nw, at = 0;
		dai_err e;
		if (tok_pretok_split(pres[pre], cp, n, &lens, &nw, &e)) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
		for (size_t i = 0; i < nw; i++) {
			size_t m = 0;
			for (size_t j = at; j < at + lens[i]; j++) {
				char u[4];
				size_t k = tok_utf8_encode(cp[j], u);
				for (size_t q = 0; q < k; q++)
					m += mapped_len((unsigned char)u[q]);
			}
			at += lens[i];
			printf("%zu ", m);
		}
		printf("\n");
		free(s);
		free(cp);
		free(lens);
	}
	return 0;
}
