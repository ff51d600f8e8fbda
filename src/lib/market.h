/*
 * market.h - offers and jobs: a worker's signed dai-offer, the checks a
 * buyer makes before trusting one, their ranking, and the buyer's signed
 * dai-job for a chosen offer (doc_schema.c describes both kinds).
 */
#ifndef DAI_MARKET_H
#define DAI_MARKET_H

#include <stdint.h>

#include "key.h"
#include "ledger_state.h"

/* Tokens counted for the prompt when a job's max-price is derived: the
 * prompt's byte count (a token is at least one byte) plus this many for
 * the special tokens a chat template adds. */
#define JOB_PROMPT_SLACK 16

typedef struct offer_spec {
	const char *const *models; /* pack ids */
	size_t nmodels;
	uint64_t price; /* per 1000 tokens */
	uint64_t max_tokens;
	uint64_t stake;
	long long expires;
} offer_spec;

/* Builds and signs the worker's (k) offer, dated now. */
int offer_make(const dai_key *k, const offer_spec *s, long long now, dai_doc *out, dai_err *e);

/* Checks that d is a dai-offer signed by its worker and not expired at
 * now. The message says which. */
int offer_check(const dai_doc *d, long long now, dai_err *e);

/* 1 when the offer lists the model (a pack id). */
int offer_has_model(const dai_doc *d, const char *model);

/* One offer as match sees it. */
typedef struct offer_pick {
	const dai_doc *doc;
	char id[DAI_ID_LEN + 1];
	uint64_t price;
	uint64_t finalized, slashed; /* the worker's record on the ledger */
} offer_pick;

/* Reads an offer's price and its worker's record (st may be NULL). -1 when
 * st is given and the worker's stake on it is below the offer's stake. */
int offer_pick_fill(offer_pick *p, const dai_doc *d, const ledger_state *st, dai_err *e);

/* Orders picks best first: lower price, then fewer jobs slashed, then
 * more jobs finalized, then the smaller id (so the order is total). */
void offer_rank(offer_pick *p, size_t n);

/* Sampling defaults, the same as dai-infer's: temperature 0.8, top-k 40,
 * top-p 0.95; seeds are below 2^63. */
#define JOB_TEMP_MILLI 800
#define JOB_TOP_K 40
#define JOB_TOP_P_MILLI 950
#define JOB_SEED_LIMIT (1ULL << 63)

/* A random seed below JOB_SEED_LIMIT, for a job that names none (the job
 * records it, so the run can be repeated). */
uint64_t job_random_seed(void);

typedef struct job_spec {
	const char *model; /* NULL: the offer's only model */
	const unsigned char *prompt;
	size_t prompt_len;
	uint64_t max_tokens; /* 0: the offer's max-tokens */
	uint64_t seed;
	uint64_t temp_milli, top_k, top_p_milli;
	uint64_t max_price; /* 0: derived from the prompt and max_tokens */
	long long expires;
} job_spec;

/* The longest prompt a job holds: its base64 is one document line. */
#define JOB_PROMPT_MAX ((DAI_LINE_MAX - 7) / 4 * 3)

/* Builds the buyer's (k) signed job for a checked offer, with a fresh
 * nonce. */
int job_make(const dai_doc *offer, const dai_key *k, const job_spec *s, long long now, dai_doc *out,
             dai_err *e);

/* Parses a decimal such as "0.8", "1", "0.95" into thousandths (800, 1000,
 * 950), exactly: at most three decimals, at most max_milli. */
int milli_parse(const char *s, uint64_t max_milli, uint64_t *out);

#endif
