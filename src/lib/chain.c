/* chain.c - transactions and calls over JSON-RPC (see chain.h). */
#include "chain.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "abi.h"
#include "codec.h"
#include "ethaddr.h"
#include "ethtx.h"

/* Appends "0x" and the lowercase hex of data. */
static void put_hex(bytebuf *b, const unsigned char *data, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	bytebuf_puts(b, "0x");
	if (bytebuf_reserve(b, 2 * n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		b->p[b->len++] = (unsigned char)digits[data[i] >> 4];
		b->p[b->len++] = (unsigned char)digits[data[i] & 15];
	}
}

static void put_quantity(bytebuf *b, const u256 *v)
{
	char h[U256_HEX_MAX];
	u256_format_hex(h, v);
	bytebuf_puts(b, h);
}

static void put_addr(bytebuf *b, const unsigned char a[20])
{
	put_hex(b, a, 20);
}

/* The NUL-terminated text of a params buffer, or NULL when it ran out of memory. */
static const char *text_of(bytebuf *b)
{
	bytebuf_putc(b, 0);
	return b->oom ? NULL : (const char *)b->p;
}

int chain_hex_data(bytebuf *out, const char *s, size_t n, const char *what, dai_err *e)
{
	if (n < 2 || s[0] != '0' || s[1] != 'x' || n % 2)
		return dai_errf(e, "%s: not 0x and whole bytes of hex", what);
	size_t k = (n - 2) / 2;
	if (bytebuf_reserve(out, k) < 0)
		return dai_errf(e, "%s: out of memory", what);
	for (size_t i = 0; i < k; i++) {
		/* hex_decode is strict lowercase; node replies may use either case */
		char lo[2];
		for (int j = 0; j < 2; j++) {
			char ch = s[2 + 2 * i + j];
			lo[j] = ch >= 'A' && ch <= 'F' ? (char)(ch - 'A' + 'a') : ch;
		}
		if (hex_decode(out->p + out->len + i, 1, lo, 2) < 0)
			return dai_errf(e, "%s: bad hex digit", what);
	}
	out->len += k;
	return 0;
}

/* A quantity member ("0x1a") of object node obj. */
static int member_u256(const rpc_reply *rep, int obj, const char *key, u256 *v, dai_err *e)
{
	char s[80];
	if (json_str(&rep->doc, json_member(&rep->doc, obj, key), s, sizeof s, key, e) < 0)
		return -1;
	return u256_parse_hex(v, s, strlen(s), 1, key, e);
}

static int member_u64(const rpc_reply *rep, int obj, const char *key, uint64_t *v, dai_err *e)
{
	u256 u;
	if (member_u256(rep, obj, key, &u, e) < 0)
		return -1;
	if (!u256_to_u64(&u, v))
		return dai_errf(e, "%s: value does not fit 64 bits", key);
	return 0;
}

static int result_u256(const rpc_reply *rep, u256 *v, const char *what, dai_err *e)
{
	char s[80];
	if (rpc_result_str(rep, s, sizeof s, what, e) < 0)
		return -1;
	return u256_parse_hex(v, s, strlen(s), 1, what, e);
}

static int call_u256(chain *c, const char *method, const char *params, u256 *v, dai_err *e)
{
	rpc_reply rep;
	if (rpc_call_ok(&c->rpc, method, params, &rep, e) < 0)
		return -1;
	int rc = result_u256(&rep, v, method, e);
	rpc_reply_free(&rep);
	return rc;
}

int chain_open(chain *c, const char *url, uint64_t want_chain_id, dai_err *e)
{
	memset(c, 0, sizeof *c);
	c->wait_ms = 60000;
	if (rpc_open(&c->rpc, url, e) < 0)
		return -1;
	u256 id;
	uint64_t id64;
	if (call_u256(c, "eth_chainId", "[]", &id, e) < 0) {
		rpc_close(&c->rpc);
		return -1;
	}
	if (!u256_to_u64(&id, &id64)) {
		rpc_close(&c->rpc);
		return dai_errf(e, "eth_chainId: chain id does not fit 64 bits");
	}
	if (want_chain_id && id64 != want_chain_id) {
		rpc_close(&c->rpc);
		return dai_errf(e, "%s: node is on chain %llu, not %llu: nothing sent", url,
		                (unsigned long long)id64, (unsigned long long)want_chain_id);
	}
	c->chain_id = id64;
	return 0;
}

void chain_close(chain *c)
{
	rpc_close(&c->rpc);
}

/* Revert reason from an RPC error: its revert data when given, else its
 * message. 1 when the error is a revert, 0 when it is something else. */
static int revert_of_error(const rpc_reply *rep, char *reason, size_t cap)
{
	int d = json_member(&rep->doc, rep->error, "data");
	char hex[4096];
	if (d >= 0 && json_str(&rep->doc, d, hex, sizeof hex, "data", NULL) == 0) {
		bytebuf b = {0};
		if (chain_hex_data(&b, hex, strlen(hex), "data", NULL) == 0) {
			abi_revert_reason(reason, cap, b.p, b.len);
			bytebuf_free(&b);
			return 1;
		}
		bytebuf_free(&b);
	}
	const char *m = rep->error_msg;
	const char *prefix = "execution reverted";
	if (rep->error_code == 3 || strstr(m, "revert")) {
		if (strncmp(m, prefix, strlen(prefix)) == 0) {
			m += strlen(prefix);
			m += strspn(m, ": ");
		}
		snprintf(reason, cap, "%s", *m ? m : "no reason given");
		return 1;
	}
	return 0;
}

/* Fails with the call's RPC error: "reverted: REASON" for a revert. */
static int error_reply(rpc_reply *rep, const char *method, chain_receipt *rc, dai_err *e)
{
	char reason[256];
	int rev = revert_of_error(rep, reason, sizeof reason);
	if (rev) {
		if (rc)
			snprintf(rc->reason, sizeof rc->reason, "%s", reason);
		dai_errf(e, "reverted: %s", reason);
	} else {
		dai_errf(e, "%s: node error %ld: %s", method, rep->error_code, rep->error_msg);
	}
	rpc_reply_free(rep);
	return -1;
}

/* {"from":..,"to":..,"value":..,"data":..[,"gas":..]} */
static void put_call_object(bytebuf *b, const unsigned char *from, const chain_tx *tx, int gas)
{
	bytebuf_puts(b, "{");
	if (from) {
		bytebuf_puts(b, "\"from\":\"");
		put_addr(b, from);
		bytebuf_puts(b, "\",");
	}
	if (tx->to) {
		bytebuf_puts(b, "\"to\":\"");
		put_addr(b, tx->to);
		bytebuf_puts(b, "\",");
	}
	bytebuf_puts(b, "\"value\":\"");
	put_quantity(b, &tx->value);
	bytebuf_puts(b, "\",\"data\":\"");
	put_hex(b, tx->data, tx->data_len);
	bytebuf_puts(b, "\"");
	if (gas) {
		u256 g = u256_from_u64(tx->gas);
		bytebuf_puts(b, ",\"gas\":\"");
		put_quantity(b, &g);
		bytebuf_puts(b, "\"");
	}
	bytebuf_puts(b, "}");
}

static int estimate_gas(chain *c, const unsigned char *from, const chain_tx *tx, uint64_t *gas,
                        chain_receipt *rc, dai_err *e)
{
	bytebuf p = {0};
	bytebuf_puts(&p, "[");
	put_call_object(&p, from, tx, 0);
	bytebuf_puts(&p, "]");
	const char *params = text_of(&p);
	rpc_reply rep;
	int ret = -1;
	if (!params)
		dai_errf(e, "eth_estimateGas: out of memory");
	else if (rpc_call(&c->rpc, "eth_estimateGas", params, &rep, e) == 0) {
		if (rep.error >= 0) {
			error_reply(&rep, "eth_estimateGas", rc, e);
		} else {
			u256 g;
			uint64_t g64;
			if (result_u256(&rep, &g, "eth_estimateGas", e) == 0) {
				if (!u256_to_u64(&g, &g64) || g64 > (1ULL << 40))
					dai_errf(e, "eth_estimateGas: absurd estimate");
				else {
					*gas = g64 + g64 / 5;
					ret = 0;
				}
			}
			rpc_reply_free(&rep);
		}
	}
	bytebuf_free(&p);
	return ret;
}

/* maxPriorityFeePerGas from the node (1 gwei when it has no opinion) and
 * maxFeePerGas = twice the latest base fee plus that tip. */
static int fees(chain *c, u256 *tip, u256 *max_fee, dai_err *e)
{
	rpc_reply rep;
	if (rpc_call(&c->rpc, "eth_maxPriorityFeePerGas", "[]", &rep, e) < 0)
		return -1;
	if (rep.error >= 0 || result_u256(&rep, tip, "eth_maxPriorityFeePerGas", NULL) < 0)
		*tip = u256_from_u64(1000000000);
	rpc_reply_free(&rep);
	if (rpc_call_ok(&c->rpc, "eth_getBlockByNumber", "[\"latest\",false]", &rep, e) < 0)
		return -1;
	u256 base = u256_from_u64(0);
	if (json_member(&rep.doc, rep.result, "baseFeePerGas") >= 0 &&
	    member_u256(&rep, rep.result, "baseFeePerGas", &base, e) < 0) {
		rpc_reply_free(&rep);
		return dai_err_prefix(e, "eth_getBlockByNumber");
	}
	rpc_reply_free(&rep);
	if (u256_mul_u64(max_fee, &base, 2) < 0 || u256_add(max_fee, max_fee, tip) < 0)
		return dai_errf(e, "fees: base fee out of range");
	return 0;
}

static int nonce_of(chain *c, const unsigned char addr[20], uint64_t *nonce, dai_err *e)
{
	bytebuf p = {0};
	bytebuf_puts(&p, "[\"");
	put_addr(&p, addr);
	bytebuf_puts(&p, "\",\"pending\"]");
	u256 n;
	const char *params = text_of(&p);
	int rc = params ? call_u256(c, "eth_getTransactionCount", params, &n, e)
	                : dai_errf(e, "out of memory");
	bytebuf_free(&p);
	if (rc < 0)
		return -1;
	if (!u256_to_u64(&n, nonce))
		return dai_errf(e, "eth_getTransactionCount: nonce does not fit 64 bits");
	return 0;
}

/* Sends the transaction and gives its hash (checked against ours when we signed). */
static int submit(chain *c, const chain_account *from, const chain_tx *tx, chain_receipt *rc,
                  dai_err *e)
{
	bytebuf p = {0}, raw = {0};
	unsigned char local_hash[32];
	const char *method;
	int ret = -1;
	if (from->sk) {
		eth_tx t = {.chain_id = c->chain_id, .gas = tx->gas, .value = tx->value};
		t.has_to = tx->to != NULL;
		if (tx->to)
			memcpy(t.to, tx->to, 20);
		t.data = tx->data;
		t.data_len = tx->data_len;
		if (nonce_of(c, from->addr, &t.nonce, e) < 0 ||
		    fees(c, &t.max_priority_fee, &t.max_fee, e) < 0 ||
		    ethtx_sign(&t, from->sk, &raw, local_hash, e) < 0)
			goto out;
		method = "eth_sendRawTransaction";
		bytebuf_puts(&p, "[\"");
		put_hex(&p, raw.p, raw.len);
		bytebuf_puts(&p, "\"]");
	} else {
		method = "eth_sendTransaction";
		bytebuf_puts(&p, "[");
		put_call_object(&p, from->addr, tx, 1);
		bytebuf_puts(&p, "]");
	}
	const char *params = text_of(&p);
	if (!params) {
		dai_errf(e, "%s: out of memory", method);
		goto out;
	}
	rpc_reply rep;
	if (rpc_call(&c->rpc, method, params, &rep, e) < 0)
		goto out;
	if (rep.error >= 0) {
		error_reply(&rep, method, rc, e);
		goto out;
	}
	char h[80];
	bytebuf hb = {0};
	if (rpc_result_str(&rep, h, sizeof h, method, e) == 0 &&
	    chain_hex_data(&hb, h, strlen(h), method, e) == 0) {
		if (hb.len != 32)
			dai_errf(e, "%s: transaction hash is not 32 bytes", method);
		else if (from->sk && memcmp(hb.p, local_hash, 32) != 0)
			dai_errf(e,
			         "%s: node reports hash %s, not the hash of the signed transaction",
			         method, h);
		else {
			memcpy(rc->hash, hb.p, 32);
			ret = 0;
		}
	}
	bytebuf_free(&hb);
	rpc_reply_free(&rep);
out:
	bytebuf_free(&p);
	bytebuf_free(&raw);
	return ret;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Polls eth_getTransactionReceipt until the transaction is mined. */
static int wait_receipt(chain *c, chain_receipt *rc, dai_err *e)
{
	bytebuf p = {0};
	bytebuf_puts(&p, "[\"");
	put_hex(&p, rc->hash, 32);
	bytebuf_puts(&p, "\"]");
	const char *params = text_of(&p);
	if (!params) {
		bytebuf_free(&p);
		return dai_errf(e, "out of memory");
	}
	unsigned waited = 0, step = 10;
	int ret = -1;
	for (;;) {
		rpc_reply rep;
		if (rpc_call_ok(&c->rpc, "eth_getTransactionReceipt", params, &rep, e) < 0)
			break;
		if (rep.doc.nodes[rep.result].type == JSON_OBJECT) {
			u256 st;
			int r = rep.result;
			if (member_u256(&rep, r, "status", &st, e) < 0 ||
			    member_u64(&rep, r, "gasUsed", &rc->gas_used, e) < 0 ||
			    member_u64(&rep, r, "blockNumber", &rc->block, e) < 0) {
				dai_err_prefix(e, "eth_getTransactionReceipt");
			} else {
				rc->mined = 1;
				rc->status = u256_is_zero(&st) ? 0 : 1;
				char a[64];
				int ca = json_member(&rep.doc, r, "contractAddress");
				if (ca >= 0 && rep.doc.nodes[ca].type == JSON_STRING &&
				    json_str(&rep.doc, ca, a, sizeof a, "contractAddress", e) ==
				        0 &&
				    eth_address_parse(rc->contract, a, strlen(a), "contractAddress",
				                      e) == 0)
					rc->has_contract = 1;
				ret = 0;
			}
			rpc_reply_free(&rep);
			break;
		}
		rpc_reply_free(&rep);
		if (waited >= c->wait_ms) {
			char h[65];
			hex_encode(h, rc->hash, 32);
			dai_errf(e, "transaction 0x%s: not mined after %u ms", h, waited);
			break;
		}
		sleep_ms(step);
		waited += step;
		if (step < 500)
			step *= 2;
	}
	bytebuf_free(&p);
	return ret;
}

/* The reason a mined transaction reverted: the same call replayed on the
 * state of its block. */
static void replay_reason(chain *c, const chain_account *from, const chain_tx *tx,
                          chain_receipt *rc)
{
	bytebuf p = {0};
	u256 blk = u256_from_u64(rc->block);
	bytebuf_puts(&p, "[");
	put_call_object(&p, from->addr, tx, 1);
	bytebuf_puts(&p, ",\"");
	put_quantity(&p, &blk);
	bytebuf_puts(&p, "\"]");
	const char *params = text_of(&p);
	rpc_reply rep;
	snprintf(rc->reason, sizeof rc->reason, "no reason given");
	if (params && rpc_call(&c->rpc, "eth_call", params, &rep, NULL) == 0) {
		if (rep.error >= 0)
			revert_of_error(&rep, rc->reason, sizeof rc->reason);
		else if (tx->gas)
			snprintf(rc->reason, sizeof rc->reason, "out of gas or reverted (gas %llu)",
			         (unsigned long long)tx->gas);
		rpc_reply_free(&rep);
	}
	bytebuf_free(&p);
}

int chain_send(chain *c, const chain_account *from, const chain_tx *tx_in, chain_receipt *rc,
               dai_err *e)
{
	memset(rc, 0, sizeof *rc);
	chain_tx tx = *tx_in;
	if (!tx.gas && estimate_gas(c, from->addr, &tx, &tx.gas, rc, e) < 0)
		return -1;
	if (submit(c, from, &tx, rc, e) < 0 || wait_receipt(c, rc, e) < 0)
		return -1;
	if (!rc->status) {
		replay_reason(c, from, &tx, rc);
		return dai_errf(e, "reverted: %s", rc->reason);
	}
	return 0;
}

int chain_call(chain *c, const unsigned char to[20], const unsigned char *data, size_t n,
               bytebuf *out, dai_err *e)
{
	chain_tx tx = {.to = to, .data = data, .data_len = n};
	bytebuf p = {0};
	bytebuf_puts(&p, "[");
	put_call_object(&p, NULL, &tx, 0);
	bytebuf_puts(&p, ",\"latest\"]");
	const char *params = text_of(&p);
	rpc_reply rep;
	int ret = -1;
	if (!params)
		dai_errf(e, "eth_call: out of memory");
	else if (rpc_call(&c->rpc, "eth_call", params, &rep, e) == 0) {
		if (rep.error >= 0)
			error_reply(&rep, "eth_call", NULL, e);
		else {
			const char *h;
			int r = rep.result;
			if (rep.doc.nodes[r].type == JSON_STRING && !rep.doc.nodes[r].escaped) {
				h = rep.doc.text + rep.doc.nodes[r].start;
				ret = chain_hex_data(out, h, rep.doc.nodes[r].len, "eth_call", e);
			} else
				dai_errf(e, "eth_call: result is not hex data");
			rpc_reply_free(&rep);
		}
	}
	bytebuf_free(&p);
	return ret;
}

int chain_balance(chain *c, const unsigned char addr[20], u256 *wei, dai_err *e)
{
	bytebuf p = {0};
	bytebuf_puts(&p, "[\"");
	put_addr(&p, addr);
	bytebuf_puts(&p, "\",\"latest\"]");
	const char *params = text_of(&p);
	int rc =
	    params ? call_u256(c, "eth_getBalance", params, wei, e) : dai_errf(e, "out of memory");
	bytebuf_free(&p);
	return rc;
}

int chain_dev_advance(chain *c, uint64_t seconds, dai_err *e)
{
	char params[64];
	rpc_reply rep;
	snprintf(params, sizeof params, "[%llu]", (unsigned long long)seconds);
	if (rpc_call_ok(&c->rpc, "evm_increaseTime", params, &rep, e) < 0)
		return -1;
	rpc_reply_free(&rep);
	if (rpc_call_ok(&c->rpc, "evm_mine", "[]", &rep, e) < 0)
		return -1;
	rpc_reply_free(&rep);
	return 0;
}
