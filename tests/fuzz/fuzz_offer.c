/* libFuzzer harness for offer streams and the decimal parser: every
 * document of the input is checked as an offer, ranked and, for a valid
 * offer, turned into a job; the first line is also parsed as a decimal in
 * thousandths, which must print back to a value equal to it.
 *
 * Seeds (tests/fuzz/seeds/fuzz_offer/): offers written by `dai-offer make`
 * (one and two models), and milli-offer: the line "0.125" then an offer. */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market.h"

static dai_key buyer;

static void check_milli(const uint8_t *data, size_t size)
{
	char s[32];
	uint64_t v, w;
	size_t n = 0;
	while (n < size && n < sizeof s - 1 && data[n] != '\n')
		n++;
	memcpy(s, data, n);
	s[n] = 0;
	if (milli_parse(s, UINT64_MAX, &v))
		return;
	char back[48];
	snprintf(back, sizeof back, "%llu.%03llu", (unsigned long long)(v / 1000),
	         (unsigned long long)(v % 1000));
	if (milli_parse(back, UINT64_MAX, &w) || w != v)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dai_err e;
	if (!buyer.sk) {
		if (sodium_init() < 0 || key_generate(&buyer, &e))
			abort();
	}
	check_milli(data, size);
	offer_pick picks[8];
	dai_doc docs[8];
	size_t n = 0, off = 0;
	/* Split into documents at "sig " lines, as the stream reader frames. */
	while (off < size && n < 8) {
		size_t end = off;
		while (end < size) {
			const uint8_t *nl = memchr(data + end, '\n', size - end);
			if (!nl) {
				end = size; /* an unframed tail: parsed, and refused */
				break;
			}
			int sig = size - end >= 4 && memcmp(data + end, "sig ", 4) == 0;
			end = (size_t)(nl - data) + 1;
			if (sig)
				break;
		}
		if (doc_parse(&docs[n], (const char *)data + off, end - off, "fuzz", 1, &e) == 0) {
			if (offer_check(&docs[n], 0, &e) == 0 &&
			    offer_pick_fill(&picks[n], &docs[n], NULL, &e) == 0) {
				dai_doc job;
				job_spec js = {.prompt = (const unsigned char *)"x",
				               .prompt_len = 1,
				               .top_p_milli = 1000,
				               .expires = 1};
				if (job_make(&docs[n], &buyer, &js, 0, &job, &e) == 0)
					doc_free(&job);
				n++;
			} else {
				doc_free(&docs[n]);
			}
		}
		off = end;
	}
	offer_rank(picks, n);
	for (size_t i = 0; i + 1 < n; i++)
		if (picks[i].price > picks[i + 1].price)
			abort();
	for (size_t i = 0; i < n; i++)
		doc_free(&docs[i]);
	return 0;
}
