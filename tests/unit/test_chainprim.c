/* Unit tests: the chain building blocks (Keccak-256, uint256, RLP, ABI,
 * secp256k1 keys and signatures, addresses, EIP-1559 transactions) against
 * published vectors. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "abi.h"
#include "bind.h"
#include "chainkey.h"
#include "chain.h"
#include "codec.h"
#include "ethaddr.h"
#include "ethkey.h"
#include "ethtx.h"
#include "keccak.h"
#include "rlp.h"
#include "u256.h"

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
}
TestSuite(chainprim, .init = setup);

/* Decodes lowercase hex (with or without 0x) into a static buffer. */
static const unsigned char *unhex(const char *h, size_t *n)
{
	static unsigned char buf[4][1024];
	static int turn;
	unsigned char *b = buf[turn++ % 4];
	if (h[0] == '0' && h[1] == 'x')
		h += 2;
	size_t len = strlen(h) / 2;
	cr_assert(len <= sizeof buf[0]);
	cr_assert_eq(hex_decode(b, len, h, 2 * len), 0, "bad hex in test: %s", h);
	if (n)
		*n = len;
	return b;
}

static void assert_hex(const unsigned char *got, size_t n, const char *want)
{
	char h[2049];
	cr_assert(n <= 1024);
	hex_encode(h, got, n);
	if (want[0] == '0' && want[1] == 'x')
		want += 2;
	cr_assert_str_eq(h, want);
}

/* "", "abc" and the fox: published Keccak-256 digests; the repeated 'a'
 * inputs straddle the 136-byte block (digests from the js-sha3 package). */
Test(chainprim, keccak256_vectors)
{
	static const struct {
		const char *in;
		size_t repeat_a;
		const char *out;
	} v[] = {
	    {"", 0, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
	    {"abc", 0, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"},
	    {"The quick brown fox jumps over the lazy dog", 0,
	     "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15"},
	    {NULL, 135, "34367dc248bbd832f4e3e69dfaac2f92638bd0bbd18f2912ba4ef454919cf446"},
	    {NULL, 136, "a6c4d403279fe3e0af03729caada8374b5ca54d8065329a3ebcaeb4b60aa386e"},
	    {NULL, 300, "5b7e0e47a96f32a88b4f14ca177982790807c40e1a105742ba0fc1babe1ef826"},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		char in[400];
		size_t n;
		if (v[i].in) {
			n = strlen(v[i].in);
			memcpy(in, v[i].in, n);
		} else {
			n = v[i].repeat_a;
			memset(in, 'a', n);
		}
		unsigned char d[32];
		keccak256(d, in, n);
		assert_hex(d, 32, v[i].out);
		/* the same fed one byte at a time */
		keccak_ctx c;
		keccak256_init(&c);
		for (size_t j = 0; j < n; j++)
			keccak256_update(&c, in + j, 1);
		keccak256_final(&c, d);
		assert_hex(d, 32, v[i].out);
	}
}

Test(chainprim, u256_text_and_arithmetic)
{
	const char *max =
	    "115792089237316195423570985008687907853269984665640564039457584007913129639935";
	u256 a, b, r;
	char dec[U256_DEC_MAX], hex[U256_HEX_MAX];
	cr_assert_eq(u256_parse_dec(&a, max, strlen(max), "x", NULL), 0);
	u256_format_dec(dec, &a);
	cr_assert_str_eq(dec, max);
	u256_format_hex(hex, &a);
	cr_assert_str_eq(hex, "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
	/* 2^256 does not fit */
	dai_err e;
	cr_assert_eq(
	    u256_parse_dec(
	        &b,
	        "115792089237316195423570985008687907853269984665640564039457584007913129639936",
	        78, "amount", &e),
	    -1);
	cr_assert(strstr(e.msg, "256 bits"));
	b = u256_from_u64(1);
	cr_assert_eq(u256_add(&r, &a, &b), -1, "overflow refused");
	cr_assert_eq(u256_sub(&r, &b, &a), -1, "negative refused");
	/* 10^30 wei: beyond 2^64 */
	cr_assert_eq(u256_parse_dec(&a, "1000000000000000000000000000000", 31, "x", NULL), 0);
	u256_format_hex(hex, &a);
	cr_assert_str_eq(hex, "0xc9f2c9cd04674edea40000000");
	cr_assert_eq(u256_parse_hex(&b, hex, strlen(hex), 0, "x", NULL), 0);
	cr_assert_eq(u256_cmp(&a, &b), 0);
	cr_assert_eq(u256_mul_u64(&r, &a, 3), 0);
	cr_assert_eq(u256_sub(&r, &r, &a), 0);
	cr_assert_eq(u256_sub(&r, &r, &a), 0);
	cr_assert_eq(u256_cmp(&r, &a), 0);
	u256_format_dec(dec, &r);
	cr_assert_str_eq(dec, "1000000000000000000000000000000");
	u256 z = u256_from_u64(0);
	u256_format_dec(dec, &z);
	cr_assert_str_eq(dec, "0");
	u256_format_hex(hex, &z);
	cr_assert_str_eq(hex, "0x0");
	/* strict text */
	cr_assert_eq(u256_parse_dec(&a, "012", 3, "x", NULL), -1);
	cr_assert_eq(u256_parse_dec(&a, "-1", 2, "x", NULL), -1);
	cr_assert_eq(u256_parse_dec(&a, "", 0, "x", NULL), -1);
	cr_assert_eq(u256_parse_hex(&a, "0x01", 4, 0, "x", NULL), -1);
	cr_assert_eq(u256_parse_hex(&a, "0x01", 4, 1, "x", NULL), 0);
	cr_assert_eq(u256_parse_hex(&a, "0x", 2, 1, "x", NULL), -1);
	cr_assert_eq(u256_parse_hex(&a, "0xg", 3, 1, "x", NULL), -1);
}

/* Vectors from the RLP specification (Ethereum wiki). */
Test(chainprim, rlp_vectors)
{
	bytebuf b = {0};
	rlp_put_bytes(&b, "dog", 3);
	assert_hex(b.p, b.len, "83646f67");
	b.len = 0;
	size_t l = rlp_list_begin(&b);
	rlp_put_bytes(&b, "cat", 3);
	rlp_put_bytes(&b, "dog", 3);
	rlp_list_end(&b, l);
	assert_hex(b.p, b.len, "c88363617483646f67");
	b.len = 0;
	rlp_put_bytes(&b, "", 0);
	rlp_put_u64(&b, 0);
	rlp_put_u64(&b, 15);
	rlp_put_u64(&b, 1024);
	rlp_put_bytes(&b, "\x00", 1);
	assert_hex(b.p, b.len, "80800f82040000");
	b.len = 0;
	/* [ [], [[]], [ [], [[]] ] ] */
	size_t o = rlp_list_begin(&b);
	rlp_list_end(&b, rlp_list_begin(&b));
	size_t x = rlp_list_begin(&b);
	rlp_list_end(&b, rlp_list_begin(&b));
	rlp_list_end(&b, x);
	size_t y = rlp_list_begin(&b);
	rlp_list_end(&b, rlp_list_begin(&b));
	size_t z = rlp_list_begin(&b);
	rlp_list_end(&b, rlp_list_begin(&b));
	rlp_list_end(&b, z);
	rlp_list_end(&b, y);
	rlp_list_end(&b, o);
	assert_hex(b.p, b.len, "c7c0c1c0c3c0c1c0");
	b.len = 0;
	const char *lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
	rlp_put_bytes(&b, lorem, strlen(lorem));
	cr_assert_eq(b.len, 2 + 56);
	cr_assert_eq(b.p[0], 0xb8);
	cr_assert_eq(b.p[1], 0x38);
	cr_assert(!b.oom);
	bytebuf_free(&b);
}

/* EIP-55's own examples, and a mistyped one refused. */
Test(chainprim, eip55_checksums)
{
	static const char *v[] = {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
	                          "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
	                          "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
	                          "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"};
	for (size_t i = 0; i < 4; i++) {
		unsigned char a[20];
		char t[ETH_ADDR_TEXT];
		cr_assert_eq(eth_address_parse(a, v[i], 42, "a", NULL), 0);
		eth_address_format(t, a);
		cr_assert_str_eq(t, v[i]);
	}
	unsigned char a[20];
	dai_err e;
	cr_assert_eq(
	    eth_address_parse(a, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", 42, "a", NULL), 0);
	cr_assert_eq(
	    eth_address_parse(a, "0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", 42, "a", NULL), 0);
	cr_assert_eq(
	    eth_address_parse(a, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", 42, "to", &e), -1);
	cr_assert(strstr(e.msg, "checksum"), "%s", e.msg);
	cr_assert_eq(
	    eth_address_parse(a, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea", 40, "a", NULL), -1);
}

/* Well-known keys: the first account of the anvil/hardhat development
 * mnemonic, and the key of the web3.js documentation (with its
 * accounts.sign example: "Some data"). */
Test(chainprim, keys_addresses_personal_sign)
{
	unsigned char a[20];
	char t[ETH_ADDR_TEXT];
	const unsigned char *sk =
	    unhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", NULL);
	cr_assert_eq(ethkey_address(a, sk, NULL), 0);
	eth_address_format(t, a);
	cr_assert_str_eq(t, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");

	sk = unhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318", NULL);
	cr_assert_eq(ethkey_address(a, sk, NULL), 0);
	eth_address_format(t, a);
	cr_assert_str_eq(t, "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23");

	unsigned char d[32], rsv[65], back[20];
	eth_personal_digest(d, "Some data", 9);
	assert_hex(d, 32, "1da44b586eb0729ff70a73c326926f6ed5a25f5b056e7f47fbc6e58d86871655");
	eth_sig sig;
	cr_assert_eq(ethkey_sign(&sig, sk, d, NULL), 0);
	eth_sig_to_rsv(rsv, &sig);
	assert_hex(
	    rsv, 65,
	    "b91467e570a6466aa9e9876cbcd013baba02900b8979d43fe208a4a4f339f5fd6007e74cd82e037b8"
	    "00186422fc2da167c747ef045e5d18a5f5d4300f8e1a0291c");
	cr_assert_eq(ethkey_recover(back, &sig, d, NULL), 0);
	cr_assert_eq(memcmp(back, a, 20), 0);
	/* another digest recovers another address */
	d[0] ^= 1;
	cr_assert_eq(ethkey_recover(back, &sig, d, NULL) == 0 && memcmp(back, a, 20) == 0, 0);

	unsigned char zero[32] = {0};
	dai_err e;
	cr_assert_eq(ethkey_address(a, zero, &e), -1);
	rsv[64] = 29;
	cr_assert_eq(eth_sig_from_rsv(&sig, rsv, &e), -1);
}

/* Signed type-2 transactions from the ethereumjs test vectors
 * (packages/tx/test/json/eip1559.json: chain 7822, key 0x8f2a...be63). */
Test(chainprim, eip1559_vectors)
{
	static const struct {
		uint64_t nonce, value, gas, tip, fee;
		const char *raw;
	} v[] = {
	    {819, 43203529, 35552, 75853, 121212,
	     "02f870821e8e8203338301284d8301d97c828ae094000000000000000000000000000000000000aaaa84"
	     "02933bc980c080a0d067f2167008c59219652f91cbf8788dbca5f771f6e91e2b7657e85b78b472e0a01d"
	     "305af9fe81fdba43f0dfcd400ed24dcace0a7e30d4e85701dcaaf484cd079e"},
	    {353, 61901619, 32593, 38850, 136295,
	     "02f86f821e8e8201618297c283021467827f5194000000000000000000000000000000000000aaaa8403"
	     "b08b3380c001a004205678f13fc1d7b10feea6513dfa76e24418b6e08097d95c6f93a3b64e536da01d45"
	     "ad61bfece43862de2cce7d2575a8c1d08c26c87f3cb5f26d7b0be54a91b2"},
	};
	const unsigned char *sk =
	    unhex("8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63", NULL);
	for (size_t i = 0; i < 2; i++) {
		eth_tx tx = {.chain_id = 7822, .nonce = v[i].nonce, .gas = v[i].gas, .has_to = 1};
		tx.max_priority_fee = u256_from_u64(v[i].tip);
		tx.max_fee = u256_from_u64(v[i].fee);
		tx.value = u256_from_u64(v[i].value);
		memcpy(tx.to, unhex("000000000000000000000000000000000000aaaa", NULL), 20);
		bytebuf raw = {0};
		unsigned char hash[32], want_hash[32];
		cr_assert_eq(ethtx_sign(&tx, sk, &raw, hash, NULL), 0);
		assert_hex(raw.p, raw.len, v[i].raw);
		size_t n;
		const unsigned char *r = unhex(v[i].raw, &n);
		keccak256(want_hash, r, n);
		cr_assert_eq(memcmp(hash, want_hash, 32), 0);
		bytebuf_free(&raw);
	}
}

/* The Solidity documentation's examples: baz(uint32,bool) selector and
 * arguments, and the Error(string) revert data of "Not enough Ether
 * provided." */
Test(chainprim, abi_encode_decode)
{
	unsigned char sel[4];
	abi_selector(sel, "baz(uint32,bool)");
	assert_hex(sel, 4, "cdcd77c0");
	abi_selector(sel, "transfer(address,uint256)");
	assert_hex(sel, 4, "a9059cbb");

	bytebuf out = {0};
	abi_enc a;
	abi_enc_init(&a, "baz(uint32,bool)", 2);
	abi_u64(&a, 69);
	abi_u64(&a, 1);
	cr_assert_eq(abi_enc_finish(&a, &out, NULL), 0);
	assert_hex(out.p, out.len,
	           "cdcd77c0"
	           "0000000000000000000000000000000000000000000000000000000000000045"
	           "0000000000000000000000000000000000000000000000000000000000000001");

	/* dynamic values decode back */
	out.len = 0;
	const unsigned char *items[2] = {(const unsigned char *)"hello", (const unsigned char *)""};
	size_t lens[2] = {5, 0};
	unsigned char w[32];
	memset(w, 7, 32);
	abi_enc_init(&a, NULL, 3);
	abi_bytes(&a, "0123456789012345678901234567890123", 34);
	abi_bytes32(&a, w);
	abi_bytes_array(&a, items, lens, 2);
	cr_assert_eq(abi_enc_finish(&a, &out, NULL), 0);
	const unsigned char *p;
	size_t n;
	cr_assert_eq(abi_get_bytes(out.p, out.len, 0, &p, &n, NULL), 0);
	cr_assert_eq(n, 34);
	cr_assert_eq(memcmp(p, "0123456789012345678901234567890123", 34), 0);
	cr_assert_eq(abi_get_word(out.p, out.len, 1, w, NULL), 0);
	cr_assert_eq(w[31], 7);
	/* bytes[]: at 0xc0 (3 head words, 34 bytes padded), count 2, item offsets 0x40 and 0x80 */
	assert_hex(out.p + 0xc0, 32 * 3,
	           "0000000000000000000000000000000000000000000000000000000000000002"
	           "0000000000000000000000000000000000000000000000000000000000000040"
	           "0000000000000000000000000000000000000000000000000000000000000080");
	cr_assert_eq(out.len, 0xc0 + 32 * 3 + 64 + 32);
	/* too few arguments */
	abi_enc_init(&a, "f(uint256,uint256)", 2);
	abi_u64(&a, 1);
	dai_err e;
	cr_assert_eq(abi_enc_finish(&a, &out, &e), -1);
	/* a length past the end */
	unsigned char bad[64] = {0};
	bad[31] = 32;
	bad[63] = 200;
	cr_assert_eq(abi_get_bytes(bad, 64, 0, &p, &n, &e), -1);
	bytebuf_free(&out);

	char reason[128];
	size_t rn;
	const unsigned char *rd =
	    unhex("08c379a0"
	          "0000000000000000000000000000000000000000000000000000000000000020"
	          "000000000000000000000000000000000000000000000000000000000000001a"
	          "4e6f7420656e6f7567682045746865722070726f76696465642e000000000000",
	          &rn);
	abi_revert_reason(reason, sizeof reason, rd, rn);
	cr_assert_str_eq(reason, "Not enough Ether provided.");
	abi_revert_reason(reason, sizeof reason, rd, 0);
	cr_assert_str_eq(reason, "no reason given");
	rd = unhex("4e487b71"
	           "0000000000000000000000000000000000000000000000000000000000000011",
	           &rn);
	abi_revert_reason(reason, sizeof reason, rd, rn);
	cr_assert_str_eq(reason, "panic 0x11");
}

/* The chain key of an identity: the same identity always gives the same
 * account, two identities give two, and the address is the key's. */
Test(chainprim, chain_key_of_an_identity)
{
	dai_key a, b;
	unsigned char *sk1 = sodium_malloc(32), *sk2 = sodium_malloc(32);
	unsigned char a1[20], a2[20], check[20];
	cr_assert(sk1 && sk2);
	cr_assert_eq(key_generate(&a, NULL), 0);
	cr_assert_eq(key_generate(&b, NULL), 0);
	cr_assert_eq(chainkey_derive(&a, sk1, a1, NULL), 0);
	cr_assert_eq(chainkey_derive(&a, sk2, a2, NULL), 0);
	cr_assert_eq(memcmp(sk1, sk2, 32), 0);
	cr_assert_eq(memcmp(a1, a2, 20), 0);
	cr_assert_eq(ethkey_address(check, sk1, NULL), 0);
	cr_assert_eq(memcmp(check, a1, 20), 0);
	cr_assert_eq(chainkey_derive(&b, sk2, a2, NULL), 0);
	cr_assert_neq(memcmp(a1, a2, 20), 0);
	cr_assert_neq(memcmp(sk1, a.sk, 32), 0, "not the Ed25519 seed itself");
	key_free(&a);
	key_free(&b);
	sodium_free(sk1);
	sodium_free(sk2);
}

/* A dai-bind checks with both signatures; an identity that re-signs a bind
 * naming someone else's address (without that account's signature) is
 * refused. */
Test(chainprim, bind_needs_both_keys)
{
	dai_key a, b;
	dai_doc da, db, forged;
	char did[DAI_DID_MAX];
	unsigned char addr[20], want[20], *sk = sodium_malloc(32);
	dai_err e;
	cr_assert(sk);
	cr_assert_eq(key_generate(&a, NULL), 0);
	cr_assert_eq(key_generate(&b, NULL), 0);
	cr_assert_eq(bind_make(&a, &da, &e), 0, "%s", e.msg);
	cr_assert_eq(bind_make(&b, &db, &e), 0, "%s", e.msg);
	cr_assert_eq(bind_check(&da, did, addr, &e), 0, "%s", e.msg);
	cr_assert_str_eq(did, a.did);
	cr_assert_eq(chainkey_derive(&a, sk, want, NULL), 0);
	cr_assert_eq(memcmp(addr, want, 20), 0);

	dai_docb bb;
	docb_init(&bb, "bind", 1);
	docb_add(&bb, "did", a.did);
	docb_add(&bb, "address", doc_get(&db, "address"));
	docb_add(&bb, "chain-sig", doc_get(&da, "chain-sig"));
	docb_add(&bb, "time", doc_get(&da, "time"));
	cr_assert_eq(docb_sign(&bb, &forged, a.sk, &e), 0, "%s", e.msg);
	cr_assert_eq(bind_check(&forged, did, addr, &e), -1);
	cr_assert(strstr(e.msg, "chain-sig is not the address's signature"), "%s", e.msg);
	doc_free(&forged);

	/* b's bind signed again by a: the did is not the signer */
	cr_assert_eq(doc_sign(&db, &forged, a.sk, &e), 0, "%s", e.msg);
	cr_assert_eq(bind_check(&forged, did, addr, &e), -1);
	cr_assert(strstr(e.msg, "not by its did"), "%s", e.msg);
	doc_free(&forged);
	doc_free(&da);
	doc_free(&db);
	key_free(&a);
	key_free(&b);
	sodium_free(sk);
}

/* Hex data from a node: either case, whole bytes, nothing else. */
Test(chainprim, node_hex_data)
{
	bytebuf b = {0};
	cr_assert_eq(chain_hex_data(&b, "0xAbCd", 6, "d", NULL), 0);
	cr_assert_eq(b.len, 2);
	cr_assert_eq(b.p[0], 0xab);
	cr_assert_eq(b.p[1], 0xcd);
	cr_assert_eq(chain_hex_data(&b, "0x", 2, "d", NULL), 0);
	cr_assert_eq(b.len, 2);
	cr_assert_eq(chain_hex_data(&b, "0x1", 3, "d", NULL), -1);
	cr_assert_eq(chain_hex_data(&b, "0x\x10\x10", 4, "d", NULL), -1);
	cr_assert_eq(chain_hex_data(&b, "0xgg", 4, "d", NULL), -1);
	cr_assert_eq(chain_hex_data(&b, "00ab", 4, "d", NULL), -1);
	bytebuf_free(&b);
}
