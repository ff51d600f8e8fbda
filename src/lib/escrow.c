/* escrow.c - DaiEscrow calls and transactions (see escrow.h). */
#include "escrow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "codec.h"
#include "escrow_code.h"
#include "ethaddr.h"
#include "ethkey.h"
#include "keccak.h"

/* Sends finished call data (or a deployment when to is NULL). */
static int send_data(chain *c, const chain_account *from, const unsigned char *to,
                     const u256 *value, bytebuf *data, chain_receipt *rc, dai_err *e)
{
	chain_tx tx = {.to = to, .data = data->p, .data_len = data->len};
	tx.value = value ? *value : u256_from_u64(0);
	int ret = chain_send(c, from, &tx, rc, e);
	bytebuf_free(data);
	return ret;
}

static int finish_send(abi_enc *a, chain *c, const chain_account *from,
                       const unsigned char contract[20], const u256 *value, chain_receipt *rc,
                       dai_err *e)
{
	bytebuf data = {0};
	if (abi_enc_finish(a, &data, e) < 0) {
		bytebuf_free(&data);
		return -1;
	}
	return send_data(c, from, contract, value, &data, rc, e);
}

int escrow_deploy(chain *c, const chain_account *from, const escrow_terms *t,
                  unsigned char addr[20], chain_receipt *rc, dai_err *e)
{
	bytebuf data = {0};
	size_t hn = strlen(escrow_bytecode_hex);
	if (bytebuf_reserve(&data, hn / 2) < 0 ||
	    hex_decode(data.p, hn / 2, escrow_bytecode_hex, hn) < 0) {
		bytebuf_free(&data);
		return dai_errf(e, "deploy: embedded bytecode unusable");
	}
	data.len = hn / 2;
	abi_enc a;
	abi_enc_init(&a, NULL, 6); /* constructor arguments follow the code */
	abi_address_array(&a, t->referees, t->n_referees);
	abi_u64(&a, t->threshold);
	abi_u64(&a, t->window);
	abi_u64(&a, t->resolve_timeout);
	abi_u256(&a, &t->worker_bond);
	abi_u256(&a, &t->challenge_bond);
	if (abi_enc_finish(&a, &data, e) < 0) {
		bytebuf_free(&data);
		return -1;
	}
	if (send_data(c, from, NULL, NULL, &data, rc, e) < 0)
		return dai_err_prefix(e, "deploy");
	if (!rc->has_contract)
		return dai_errf(e, "deploy: receipt names no contract address");
	memcpy(addr, rc->contract, 20);
	return 0;
}

int escrow_escrow(chain *c, const chain_account *from, const unsigned char contract[20],
                  const unsigned char job[32], const unsigned char worker[20], uint64_t expiry,
                  const u256 *rate, const u256 *amount, chain_receipt *rc, dai_err *e)
{
	abi_enc a;
	abi_enc_init(&a, "escrow(bytes32,address,uint64,uint256)", 4);
	abi_bytes32(&a, job);
	abi_address(&a, worker);
	abi_u64(&a, expiry);
	abi_u256(&a, rate);
	return finish_send(&a, c, from, contract, amount, rc, e) < 0 ? dai_err_prefix(e, "escrow")
	                                                             : 0;
}

int escrow_claim(chain *c, const chain_account *from, const unsigned char contract[20],
                 const unsigned char job[32], const unsigned char receipt[32], uint64_t tokens_in,
                 uint64_t tokens_out, const u256 *bond, chain_receipt *rc, dai_err *e)
{
	abi_enc a;
	abi_enc_init(&a, "claim(bytes32,bytes32,uint64,uint64)", 4);
	abi_bytes32(&a, job);
	abi_bytes32(&a, receipt);
	abi_u64(&a, tokens_in);
	abi_u64(&a, tokens_out);
	return finish_send(&a, c, from, contract, bond, rc, e) < 0 ? dai_err_prefix(e, "claim") : 0;
}

int escrow_challenge(chain *c, const chain_account *from, const unsigned char contract[20],
                     const unsigned char job[32], const unsigned char fraud[32], const u256 *bond,
                     chain_receipt *rc, dai_err *e)
{
	abi_enc a;
	abi_enc_init(&a, "challenge(bytes32,bytes32)", 2);
	abi_bytes32(&a, job);
	abi_bytes32(&a, fraud);
	return finish_send(&a, c, from, contract, bond, rc, e) < 0 ? dai_err_prefix(e, "challenge")
	                                                           : 0;
}

/* The signer of a resolution signature, for sorting. */
typedef struct signed_by {
	unsigned char addr[20];
	const unsigned char *sig;
} signed_by;

static int by_addr(const void *x, const void *y)
{
	return memcmp(((const signed_by *)x)->addr, ((const signed_by *)y)->addr, 20);
}

int escrow_resolve(chain *c, const chain_account *from, const unsigned char contract[20],
                   const unsigned char job[32], int fraud_proven, const unsigned char (*sigs)[65],
                   size_t n, chain_receipt *rc, dai_err *e)
{
	escrow_job j;
	unsigned char res[32], digest[32];
	if (escrow_get_job(c, contract, job, &j, e) < 0 ||
	    escrow_resolution(c->chain_id, contract, job, j.receipt, j.fraud, fraud_proven, res,
	                      e) < 0)
		return dai_err_prefix(e, "resolve");
	eth_personal_digest(digest, res, 32);
	signed_by *s = calloc(n ? n : 1, sizeof *s);
	const unsigned char **items = calloc(n ? n : 1, sizeof *items);
	size_t *lens = calloc(n ? n : 1, sizeof *lens);
	int ret = -1;
	if (!s || !items || !lens) {
		dai_errf(e, "resolve: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		eth_sig sg;
		if (eth_sig_from_rsv(&sg, sigs[i], e) < 0 ||
		    ethkey_recover(s[i].addr, &sg, digest, e) < 0) {
			dai_err_prefix(e, "resolve: a referee signature");
			goto out;
		}
		s[i].sig = sigs[i];
	}
	qsort(s, n, sizeof *s, by_addr);
	for (size_t i = 0; i < n; i++) {
		items[i] = s[i].sig;
		lens[i] = 65;
	}
	abi_enc a;
	abi_enc_init(&a, "resolve(bytes32,bool,bytes[])", 3);
	abi_bytes32(&a, job);
	abi_u64(&a, fraud_proven ? 1 : 0);
	abi_bytes_array(&a, items, lens, n);
	ret =
	    finish_send(&a, c, from, contract, NULL, rc, e) < 0 ? dai_err_prefix(e, "resolve") : 0;
out:
	free(s);
	free(items);
	free(lens);
	return ret;
}

static int job_step(chain *c, const chain_account *from, const unsigned char contract[20],
                    const char *sig, const char *name, const unsigned char job[32],
                    chain_receipt *rc, dai_err *e)
{
	abi_enc a;
	abi_enc_init(&a, sig, job ? 1 : 0);
	if (job)
		abi_bytes32(&a, job);
	return finish_send(&a, c, from, contract, NULL, rc, e) < 0 ? dai_err_prefix(e, name) : 0;
}

int escrow_finalize(chain *c, const chain_account *from, const unsigned char contract[20],
                    const unsigned char job[32], chain_receipt *rc, dai_err *e)
{
	return job_step(c, from, contract, "finalize(bytes32)", "finalize", job, rc, e);
}

int escrow_refund(chain *c, const chain_account *from, const unsigned char contract[20],
                  const unsigned char job[32], chain_receipt *rc, dai_err *e)
{
	return job_step(c, from, contract, "refund(bytes32)", "refund", job, rc, e);
}

int escrow_withdraw(chain *c, const chain_account *from, const unsigned char contract[20],
                    chain_receipt *rc, dai_err *e)
{
	return job_step(c, from, contract, "withdraw()", "withdraw", NULL, rc, e);
}

/* eth_call of finished call data; the return data in out. */
static int view(chain *c, const unsigned char contract[20], abi_enc *a, bytebuf *out, dai_err *e)
{
	bytebuf data = {0};
	int rc = abi_enc_finish(a, &data, e);
	if (rc == 0)
		rc = chain_call(c, contract, data.p, data.len, out, e);
	bytebuf_free(&data);
	return rc;
}

static int get_u64(const bytebuf *b, size_t i, uint64_t *v, dai_err *e)
{
	u256 u;
	if (abi_get_u256(b->p, b->len, i, &u, e) < 0)
		return -1;
	if (!u256_to_u64(&u, v))
		return dai_errf(e, "abi: word %zu does not fit 64 bits", i);
	return 0;
}

int escrow_get_job(chain *c, const unsigned char contract[20], const unsigned char job[32],
                   escrow_job *j, dai_err *e)
{
	abi_enc a;
	bytebuf out = {0};
	uint64_t state;
	abi_enc_init(&a, "jobs(bytes32)", 1);
	abi_bytes32(&a, job);
	memset(j, 0, sizeof *j);
	/* buyer, expiry, state, worker, deadline, challenger, amount, rate, price, receipt, fraud
	 */
	int rc = view(c, contract, &a, &out, e);
	if (rc == 0)
		rc = (abi_get_address(out.p, out.len, 0, j->buyer, e) < 0 ||
		      get_u64(&out, 1, &j->expiry, e) < 0 || get_u64(&out, 2, &state, e) < 0 ||
		      abi_get_address(out.p, out.len, 3, j->worker, e) < 0 ||
		      get_u64(&out, 4, &j->deadline, e) < 0 ||
		      abi_get_address(out.p, out.len, 5, j->challenger, e) < 0 ||
		      abi_get_u256(out.p, out.len, 6, &j->amount, e) < 0 ||
		      abi_get_u256(out.p, out.len, 7, &j->rate, e) < 0 ||
		      abi_get_u256(out.p, out.len, 8, &j->price, e) < 0 ||
		      abi_get_word(out.p, out.len, 9, j->receipt, e) < 0 ||
		      abi_get_word(out.p, out.len, 10, j->fraud, e) < 0)
		         ? -1
		         : 0;
	if (rc == 0 && state > ESCROW_DONE)
		rc = dai_errf(e, "jobs: unknown state %llu", (unsigned long long)state);
	j->state = (int)state;
	bytebuf_free(&out);
	return rc < 0 ? dai_err_prefix(e, "jobs") : 0;
}

int escrow_get_credit(chain *c, const unsigned char contract[20], const unsigned char who[20],
                      u256 *wei, dai_err *e)
{
	abi_enc a;
	bytebuf out = {0};
	abi_enc_init(&a, "credit(address)", 1);
	abi_address(&a, who);
	int rc = view(c, contract, &a, &out, e);
	if (rc == 0)
		rc = abi_get_u256(out.p, out.len, 0, wei, e);
	bytebuf_free(&out);
	return rc < 0 ? dai_err_prefix(e, "credit") : 0;
}

int escrow_get_param(chain *c, const unsigned char contract[20], const char *name, u256 *v,
                     dai_err *e)
{
	char sig[64];
	abi_enc a;
	bytebuf out = {0};
	if (strlen(name) > 40)
		return dai_errf(e, "%s: no such parameter", name);
	strcpy(sig, name);
	strcat(sig, "()");
	abi_enc_init(&a, sig, 0);
	int rc = view(c, contract, &a, &out, e);
	if (rc == 0)
		rc = abi_get_u256(out.p, out.len, 0, v, e);
	bytebuf_free(&out);
	return rc < 0 ? dai_err_prefix(e, name) : 0;
}

int escrow_resolution(uint64_t chain_id, const unsigned char contract[20],
                      const unsigned char job[32], const unsigned char receipt[32],
                      const unsigned char fraud[32], int fraud_proven, unsigned char out[32],
                      dai_err *e)
{
	abi_enc a;
	bytebuf b = {0};
	abi_enc_init(&a, NULL, 7);
	abi_bytes(&a, "dai-resolve", 11);
	abi_u64(&a, chain_id);
	abi_address(&a, contract);
	abi_bytes32(&a, job);
	abi_bytes32(&a, receipt);
	abi_bytes32(&a, fraud);
	abi_u64(&a, fraud_proven ? 1 : 0);
	if (abi_enc_finish(&a, &b, e) < 0) {
		bytebuf_free(&b);
		return -1;
	}
	keccak256(out, b.p, b.len);
	bytebuf_free(&b);
	return 0;
}

int escrow_sign_resolution(const unsigned char sk[32], const unsigned char resolution[32],
                           unsigned char sig[65], dai_err *e)
{
	unsigned char digest[32];
	eth_sig s;
	eth_personal_digest(digest, resolution, 32);
	if (ethkey_sign(&s, sk, digest, e) < 0)
		return -1;
	eth_sig_to_rsv(sig, &s);
	return 0;
}

/* The events: signature, and what each indexed topic and data word is. */
typedef struct event_kind {
	const char *name, *sig;
	const char *topics[3]; /* after topic 0: "job", "buyer", ... ("" for none) */
	const char *words[4];  /* data words, named with a type prefix: b=id, u=uint, o=bool */
} event_kind;

static const event_kind events[] = {
    {"Escrowed",
     "Escrowed(bytes32,address,address,uint256)",
     {"job", "buyer", "worker"},
     {"uamount"}},
    {"Claimed",
     "Claimed(bytes32,bytes32,uint64,uint64,uint256)",
     {"job"},
     {"breceipt", "utokens-in", "utokens-out", "uprice"}},
    {"Challenged", "Challenged(bytes32,address,bytes32)", {"job", "challenger"}, {"bfraud"}},
    {"Resolved", "Resolved(bytes32,bool)", {"job"}, {"ofraud-proven"}},
    {"Finalized", "Finalized(bytes32,bool)", {"job"}, {"otimed-out"}},
    {"Refunded", "Refunded(bytes32)", {"job"}, {NULL}},
    {"Withdrawn", "Withdrawn(address,uint256)", {"account"}, {"uamount"}},
};

/* Appends " name=value" for a 32-byte word: ids as b2:hex, addresses as
 * EIP-55, amounts in decimal, booleans as yes/no. */
static void put_word(bytebuf *b, const char *name, char type, const unsigned char w[32])
{
	char v[80];
	if (type == 'b' || !strcmp(name, "job")) {
		v[0] = 'b', v[1] = '2', v[2] = ':';
		hex_encode(v + 3, w, 32);
	} else if (type == 'u') {
		u256 u;
		u256_from_be(&u, w);
		u256_format_dec(v, &u);
	} else if (type == 'o') {
		snprintf(v, sizeof v, "%s", w[31] ? "yes" : "no");
	} else {
		eth_address_format(v, w + 12);
	}
	bytebuf_putc(b, ' ');
	bytebuf_puts(b, name);
	bytebuf_putc(b, '=');
	bytebuf_puts(b, v);
}

static int log_line(const json_doc *d, int lg, escrow_log_fn fn, void *arg, dai_err *e)
{
	char hex[2048], txh[80];
	unsigned char topics[4][32];
	int nt = 0;
	uint64_t block;
	u256 blk;
	bytebuf data = {0}, line = {0};
	int t = json_member(d, lg, "topics");
	if (t < 0 || d->nodes[t].type != JSON_ARRAY)
		return dai_errf(e, "eth_getLogs: a log without topics");
	for (int i = d->nodes[t].first; i >= 0; i = d->nodes[i].next) {
		bytebuf tb = {0};
		if (nt == 4 || json_str(d, i, hex, sizeof hex, "topic", e) < 0 ||
		    chain_hex_data(&tb, hex, strlen(hex), "topic", e) < 0 || tb.len != 32) {
			bytebuf_free(&tb);
			return dai_errf(e, "eth_getLogs: malformed topics");
		}
		memcpy(topics[nt++], tb.p, 32);
		bytebuf_free(&tb);
	}
	if (json_str(d, json_member(d, lg, "data"), hex, sizeof hex, "data", e) < 0 ||
	    chain_hex_data(&data, hex, strlen(hex), "data", e) < 0 ||
	    json_str(d, json_member(d, lg, "blockNumber"), txh, sizeof txh, "blockNumber", e) < 0 ||
	    u256_parse_hex(&blk, txh, strlen(txh), 1, "blockNumber", e) < 0 ||
	    !u256_to_u64(&blk, &block) ||
	    json_str(d, json_member(d, lg, "transactionHash"), txh, sizeof txh, "transactionHash",
	             e) < 0) {
		bytebuf_free(&data);
		return dai_errf(e, "eth_getLogs: malformed log");
	}
	const event_kind *k = NULL;
	for (size_t i = 0; nt > 0 && i < sizeof events / sizeof events[0]; i++) {
		unsigned char h[32];
		keccak256(h, events[i].sig, strlen(events[i].sig));
		if (memcmp(h, topics[0], 32) == 0)
			k = &events[i];
	}
	int rc = 0;
	if (!k) {
		rc = dai_errf(e, "eth_getLogs: an event the contract does not have");
		goto out;
	}
	char head[128];
	snprintf(head, sizeof head, "%llu %s %s", (unsigned long long)block, txh, k->name);
	bytebuf_puts(&line, head);
	int want = 1;
	while (want < 4 && k->topics[want - 1])
		want++;
	if (nt != want) {
		rc = dai_errf(e, "eth_getLogs: %s with %d topics", k->name, nt);
		goto out;
	}
	for (int i = 1; i < nt; i++)
		put_word(&line, k->topics[i - 1], 'a', topics[i]);
	for (size_t i = 0; i < 4 && k->words[i]; i++) {
		if (data.len < 32 * (i + 1)) {
			rc = dai_errf(e, "eth_getLogs: %s data too short", k->name);
			goto out;
		}
		put_word(&line, k->words[i] + 1, k->words[i][0], data.p + 32 * i);
	}
	bytebuf_putc(&line, 0);
	if (line.oom)
		rc = dai_errf(e, "eth_getLogs: out of memory");
	else
		fn(arg, (const char *)line.p);
out:
	bytebuf_free(&data);
	bytebuf_free(&line);
	return rc;
}

int escrow_log(chain *c, const unsigned char contract[20], escrow_log_fn fn, void *arg, dai_err *e)
{
	char params[160], a[41];
	rpc_reply rep;
	hex_encode(a, contract, 20);
	snprintf(params, sizeof params,
	         "[{\"address\":\"0x%s\",\"fromBlock\":\"0x0\",\"toBlock\":\"latest\"}]", a);
	if (rpc_call_ok(&c->rpc, "eth_getLogs", params, &rep, e) < 0)
		return -1;
	int rc = 0, r = rep.result;
	if (rep.doc.nodes[r].type != JSON_ARRAY)
		rc = dai_errf(e, "eth_getLogs: result is not a list");
	for (int i = rep.doc.nodes[r].first; rc == 0 && i >= 0; i = rep.doc.nodes[i].next)
		rc = log_line(&rep.doc, i, fn, arg, e);
	rpc_reply_free(&rep);
	return rc;
}
