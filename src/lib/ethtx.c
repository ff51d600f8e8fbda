/* ethtx.c - EIP-1559 transaction encoding and signing (see ethtx.h). */
#include "ethtx.h"

#include "keccak.h"
#include "rlp.h"

/* 0x02 then the list of fields; with sig, yParity, r and s close the list. */
static void encode(bytebuf *b, const eth_tx *tx, const eth_sig *sig)
{
	bytebuf_putc(b, 0x02);
	size_t l = rlp_list_begin(b);
	rlp_put_u64(b, tx->chain_id);
	rlp_put_u64(b, tx->nonce);
	rlp_put_u256(b, &tx->max_priority_fee);
	rlp_put_u256(b, &tx->max_fee);
	rlp_put_u64(b, tx->gas);
	rlp_put_bytes(b, tx->to, tx->has_to ? 20 : 0);
	rlp_put_u256(b, &tx->value);
	rlp_put_bytes(b, tx->data, tx->data_len);
	rlp_list_end(b, rlp_list_begin(b)); /* the empty access list */
	if (sig) {
		u256 r, s;
		u256_from_be(&r, sig->r);
		u256_from_be(&s, sig->s);
		rlp_put_u64(b, (uint64_t)sig->recid);
		rlp_put_u256(b, &r);
		rlp_put_u256(b, &s);
	}
	rlp_list_end(b, l);
}

int ethtx_digest(const eth_tx *tx, unsigned char digest[32], dai_err *e)
{
	bytebuf b = {0};
	encode(&b, tx, NULL);
	if (b.oom) {
		bytebuf_free(&b);
		return dai_errf(e, "transaction: out of memory");
	}
	keccak256(digest, b.p, b.len);
	bytebuf_free(&b);
	return 0;
}

int ethtx_sign(const eth_tx *tx, const unsigned char sk[32], bytebuf *raw, unsigned char hash[32],
               dai_err *e)
{
	unsigned char digest[32];
	eth_sig sig;
	if (ethtx_digest(tx, digest, e) < 0 || ethkey_sign(&sig, sk, digest, e) < 0)
		return -1;
	size_t start = raw->len;
	encode(raw, tx, &sig);
	if (raw->oom)
		return dai_errf(e, "transaction: out of memory");
	keccak256(hash, raw->p + start, raw->len - start);
	return 0;
}
