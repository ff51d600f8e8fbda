/* doc_schema.c - see doc_schema.h. */
#include "doc_schema.h"

#include <sodium.h>
#include <string.h>

#include "codec.h"
#include "timefmt.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* dai-key: a public key, signed by itself. */
static const dai_schema_field key_fields[] = {
    {"did", V_DID, 0},
    {"comment", V_TEXT, F_OPT},
    {"time", V_TIME, 0},
};

/* dai-seckey: a secret key file. The seed is either sealed (kdf argon2id:
 * salt, nonce, box) or in the clear (kdf none: seed). Never signed. */
static const dai_schema_field seckey_fields[] = {
    {"did", V_DID, 0},           {"comment", V_TEXT, F_OPT},  {"kdf", V_WORD, 0},
    {"opslimit", V_UINT, F_OPT}, {"memlimit", V_UINT, F_OPT}, {"salt", V_B64, F_OPT},
    {"nonce", V_B64, F_OPT},     {"box", V_B64, F_OPT},       {"seed", V_B64_SECRET, F_OPT},
};

/* dai-receipt: a worker's signed account of one job it ran. The output
 * fields are absent when nothing was generated. Sampling parameters are
 * integers: temperature and top-p in thousandths (800 = 0.8). The trace root
 * is the Merkle root (merkle.h) of the job's trace leaves, written as an
 * id. */
static const dai_schema_field receipt_fields[] = {
    {"job", V_ID, 0},          {"model", V_ID, 0},           {"worker", V_DID, 0},
    {"buyer", V_DID, 0},       {"tokens-in", V_UINT, 0},     {"tokens-out", V_UINT, 0},
    {"output", V_B64, F_OPT},  {"output-ids", V_B64, F_OPT}, {"seed", V_UINT, 0},
    {"temp-milli", V_UINT, 0}, {"top-k", V_UINT, 0},         {"top-p-milli", V_UINT, 0},
    {"trace-root", V_ID, 0},   {"trace-leaves", V_UINT, 0},  {"time", V_TIME, 0},
};

/* dai-fraud: a challenger's proof that a receipt is dishonest (prove.h):
 * which receipt, of which job, model and worker; what kind of proof
 * (signature, receipt, step, replay) and, for a step, the leaf (position,
 * step) it is about; the receipt and the job themselves (base64, over
 * several lines when long) and, for a step, the zlib-compressed proof
 * (base64 over several lines). */
static const dai_schema_field fraud_fields[] = {
    {"job", V_ID, 0},
    {"receipt", V_ID, 0},
    {"model", V_ID, 0},
    {"worker", V_DID, 0},
    {"kind", V_WORD, 0},
    {"reason", V_TEXT, F_OPT},
    {"position", V_UINT, F_OPT},
    {"step", V_UINT, F_OPT},
    {"receipt-doc", V_B64, F_REPEAT},
    {"job-doc", V_B64, F_REPEAT},
    {"proof", V_B64, F_OPT | F_REPEAT},
    {"time", V_TIME, 0},
};

/* dai-verdict: what dai-prove found: for a receipt (verify) valid or
 * invalid, for a fraud document (check, which names it) proven or
 * not-proven; kind and reason say what failed, position and step the leaf
 * concerned. Signed by the validator, or unsigned. */
static const dai_schema_field verdict_fields[] = {
    {"job", V_ID, 0},        {"receipt", V_ID, 0},      {"fraud", V_ID, F_OPT},
    {"model", V_ID, 0},      {"worker", V_DID, 0},      {"result", V_WORD, 0},
    {"kind", V_WORD, F_OPT}, {"reason", V_TEXT, F_OPT}, {"position", V_UINT, F_OPT},
    {"step", V_UINT, F_OPT}, {"time", V_TIME, 0},
};

/* dai-manifest: a model pack's first member (pack.h). Each file line is
 * "<size> b2:<hex> <path>", checked by pack_manifest_parse; the first file
 * is the GGUF model. */
static const dai_schema_field manifest_fields[] = {
    {"name", V_TEXT, 0},       {"publisher", V_DID, 0},    {"arch", V_TEXT, 0},
    {"params", V_UINT, 0},     {"tensor-type", V_TEXT, 0}, {"context-length", V_UINT, 0},
    {"vocab-size", V_UINT, 0}, {"file", V_TEXT, F_REPEAT},
};

/* dai-offer: a worker's signed offer to run jobs on the listed packs (model
 * ids, repeated) at a price per 1000 tokens (prompt and generated tokens
 * together), for at most max-tokens generated tokens per job, backed by a
 * stake the worker holds on the ledger. Valid until expires. */
static const dai_schema_field offer_fields[] = {
    {"worker", V_DID, 0},      {"model", V_ID, F_REPEAT}, {"price", V_UINT, 0},
    {"max-tokens", V_UINT, 0}, {"stake", V_UINT, 0},      {"expires", V_TIME, 0},
    {"time", V_TIME, 0},
};

/* dai-job: a buyer's signed request to one worker for one offer: the prompt
 * (base64 of its UTF-8 bytes), the sampling parameters (integers, as in
 * dai-receipt), the offer's price and the most the buyer will pay
 * (max-price, the amount escrow locks). The nonce (32 lowercase hex digits)
 * makes every job, and so its id, unique. Escrow is refused after expires. */
static const dai_schema_field job_fields[] = {
    {"offer", V_ID, 0},         {"worker", V_DID, 0},      {"model", V_ID, 0},
    {"buyer", V_DID, 0},        {"prompt", V_B64, 0},      {"max-tokens", V_UINT, 0},
    {"seed", V_UINT, 0},        {"temp-milli", V_UINT, 0}, {"top-k", V_UINT, 0},
    {"top-p-milli", V_UINT, 0}, {"price", V_UINT, 0},      {"max-price", V_UINT, 0},
    {"nonce", V_WORD, 0},       {"expires", V_TIME, 0},    {"time", V_TIME, 0},
};

/* dai-entry: one entry of the ledger (ledger_entry.h), signed by its actor.
 * op names what it does; prev is the id of the entry before (absent only in
 * the genesis); which of the optional fields an op carries is fixed per op
 * (ledger_entry.c). alloc is "<did> <amount>"; doc holds an embedded
 * document (the signed dai-job of an escrow, the dai-fraud of a challenge)
 * as base64 over repeated lines, cut canonically (b64lines.h: every line
 * but the last holds exactly 36864 bytes). */
static const dai_schema_field entry_fields[] = {
    {"op", V_WORD, 0},
    {"prev", V_ID, F_OPT},
    {"window", V_UINT, F_OPT},
    {"bond", V_UINT, F_OPT},
    {"alloc", V_TEXT, F_OPT | F_REPEAT},
    {"to", V_DID, F_OPT},
    {"amount", V_UINT, F_OPT},
    {"job", V_ID, F_OPT},
    {"receipt", V_ID, F_OPT},
    {"tokens-in", V_UINT, F_OPT},
    {"tokens-out", V_UINT, F_OPT},
    {"doc", V_B64, F_OPT | F_REPEAT},
    {"time", V_TIME, 0},
};

/* dai-bind: binds an identity (did, which signs the document) to a chain
 * account (address: 0x and 40 lowercase hex digits), which signs too:
 * chain-sig is its EIP-191 signature (r, s, v) of the text
 * "dai-bind <did> <address>" (bind.h). */
static const dai_schema_field bind_fields[] = {
    {"did", V_DID, 0},
    {"address", V_WORD, 0},
    {"chain-sig", V_B64, 0},
    {"time", V_TIME, 0},
};

static const dai_schema schemas[] = {
    {"key", 1, key_fields, N(key_fields)},
    {"seckey", 1, seckey_fields, N(seckey_fields)},
    {"receipt", 1, receipt_fields, N(receipt_fields)},
    {"manifest", 1, manifest_fields, N(manifest_fields)},
    {"offer", 1, offer_fields, N(offer_fields)},
    {"job", 1, job_fields, N(job_fields)},
    {"entry", 1, entry_fields, N(entry_fields)},
    {"fraud", 1, fraud_fields, N(fraud_fields)},
    {"verdict", 1, verdict_fields, N(verdict_fields)},
    {"bind", 1, bind_fields, N(bind_fields)},
};

const dai_schema *schema_find(const char *kind)
{
	for (size_t i = 0; i < N(schemas); i++)
		if (strcmp(schemas[i].kind, kind) == 0)
			return &schemas[i];
	return NULL;
}

int value_uint(const char *v, size_t n, unsigned long long *out)
{
	unsigned long long x = 0;
	if (n == 0 || n > 20 || (n > 1 && v[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (__builtin_mul_overflow(x, 10ULL, &x) ||
		    __builtin_add_overflow(x, (unsigned long long)(v[i] - '0'), &x))
			return -1;
	}
	*out = x;
	return 0;
}

static int is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

const char *value_check(enum dai_vtype t, const char *v, size_t n)
{
	unsigned long long u;
	unsigned char buf[32];
	switch (t) {
	case V_TEXT:
		return NULL; /* the generic rules already hold for every value */
	case V_WORD:
		for (size_t i = 0; i < n; i++)
			if (!is_word_char(v[i]))
				return "expected a word of [a-z0-9._-]";
		return NULL;
	case V_UINT:
		return value_uint(v, n, &u) ? "expected an unsigned decimal integer" : NULL;
	case V_ID:
		if (n != 67 || memcmp(v, "b2:", 3) != 0 || hex_decode(buf, 32, v + 3, 64) != 0)
			return "expected an id b2:<64 lowercase hex digits>";
		return NULL;
	case V_DID:
		return ed25519_from_did(buf, v, n) ? "expected an Ed25519 did:key" : NULL;
	case V_B64:
	case V_B64_SECRET: {
		/* Decode in slices so any length is checked without a big buffer;
		 * every slice but the last is a whole number of groups. */
		unsigned char tmp[3 * 256];
		size_t got;
		if (n % 4)
			return "expected canonical base64";
		for (size_t off = 0; off < n; off += 1024) {
			size_t tn = n - off < 1024 ? n - off : 1024;
			if (off + tn < n && memchr(v + off, '=', tn))
				return "expected canonical base64";
			if ((t == V_B64 ? b64_decode : b64_decode_secret)(tmp, sizeof tmp, &got,
			                                                  v + off, tn) != 0)
				return "expected canonical base64";
		}
		if (t == V_B64_SECRET)
			sodium_memzero(tmp, sizeof tmp);
		return NULL;
	}
	case V_TIME: {
		long long ts;
		return time_parse(v, n, &ts) ? "expected a time YYYY-MM-DDTHH:MM:SSZ" : NULL;
	}
	}
	return "unknown value type";
}
