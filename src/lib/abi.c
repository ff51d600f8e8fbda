/* abi.c - Solidity ABI encoding and decoding (see abi.h). */
#include "abi.h"

#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "keccak.h"

void abi_selector(unsigned char out[4], const char *signature)
{
	unsigned char h[32];
	keccak256(h, signature, strlen(signature));
	memcpy(out, h, 4);
}

void abi_enc_init(abi_enc *a, const char *signature, size_t n_args)
{
	memset(a, 0, sizeof *a);
	if (signature) {
		abi_selector(a->sel, signature);
		a->has_sel = 1;
	}
	a->n_slots = n_args;
}

static void word_u64(unsigned char w[32], uint64_t v)
{
	memset(w, 0, 32);
	for (int i = 0; i < 8; i++)
		w[31 - i] = (unsigned char)(v >> (8 * i));
}

void abi_word(abi_enc *a, const unsigned char w[32])
{
	a->next++;
	bytebuf_put(&a->head, w, 32);
}

void abi_u256(abi_enc *a, const u256 *v)
{
	unsigned char w[32];
	u256_to_be(w, v);
	abi_word(a, w);
}

void abi_u64(abi_enc *a, uint64_t v)
{
	unsigned char w[32];
	word_u64(w, v);
	abi_word(a, w);
}

void abi_address(abi_enc *a, const unsigned char addr[20])
{
	unsigned char w[32] = {0};
	memcpy(w + 12, addr, 20);
	abi_word(a, w);
}

void abi_bytes32(abi_enc *a, const unsigned char b[32])
{
	abi_word(a, b);
}

/* The length word, the bytes, and zero padding to a whole word. */
static void put_padded(bytebuf *t, const void *data, size_t n)
{
	unsigned char w[32];
	word_u64(w, n);
	bytebuf_put(t, w, 32);
	bytebuf_put(t, data, n);
	memset(w, 0, 32);
	bytebuf_put(t, w, (32 - n % 32) % 32);
}

/* Puts the offset of the tail's end (from the start of the arguments) in
 * the head: the dynamic value about to be appended starts there. */
static void put_offset(abi_enc *a)
{
	abi_u64(a, (uint64_t)(a->n_slots * 32 + a->tail.len));
}

void abi_bytes(abi_enc *a, const void *data, size_t n)
{
	put_offset(a);
	put_padded(&a->tail, data, n);
}

void abi_address_array(abi_enc *a, const unsigned char (*addrs)[20], size_t n)
{
	unsigned char w[32];
	put_offset(a);
	word_u64(w, n);
	bytebuf_put(&a->tail, w, 32);
	for (size_t i = 0; i < n; i++) {
		memset(w, 0, 12);
		memcpy(w + 12, addrs[i], 20);
		bytebuf_put(&a->tail, w, 32);
	}
}

/* bytes[]: the count, then one offset per item (from just after the count),
 * then the items, each with its length and padding. */
void abi_bytes_array(abi_enc *a, const unsigned char *const *items, const size_t *lens, size_t n)
{
	unsigned char w[32];
	put_offset(a);
	word_u64(w, n);
	bytebuf_put(&a->tail, w, 32);
	size_t off = n * 32;
	for (size_t i = 0; i < n; i++) {
		word_u64(w, off);
		bytebuf_put(&a->tail, w, 32);
		off += 32 + (lens[i] + 31) / 32 * 32;
	}
	for (size_t i = 0; i < n; i++)
		put_padded(&a->tail, items[i], lens[i]);
}

int abi_enc_finish(abi_enc *a, bytebuf *out, dai_err *e)
{
	int rc = 0;
	if (a->next != a->n_slots)
		rc = dai_errf(e, "abi: %zu arguments given for %zu", a->next, a->n_slots);
	else if (a->head.oom || a->tail.oom)
		rc = dai_errf(e, "abi: out of memory");
	else {
		if (a->has_sel)
			bytebuf_put(out, a->sel, 4);
		bytebuf_put(out, a->head.p, a->head.len);
		bytebuf_put(out, a->tail.p, a->tail.len);
		if (out->oom)
			rc = dai_errf(e, "abi: out of memory");
	}
	bytebuf_free(&a->head);
	bytebuf_free(&a->tail);
	return rc;
}

int abi_get_word(const unsigned char *data, size_t n, size_t i, unsigned char w[32], dai_err *e)
{
	if (i >= n / 32)
		return dai_errf(e, "abi: return data too short for word %zu", i);
	memcpy(w, data + 32 * i, 32);
	return 0;
}

int abi_get_u256(const unsigned char *data, size_t n, size_t i, u256 *v, dai_err *e)
{
	unsigned char w[32];
	if (abi_get_word(data, n, i, w, e) < 0)
		return -1;
	u256_from_be(v, w);
	return 0;
}

int abi_get_address(const unsigned char *data, size_t n, size_t i, unsigned char addr[20],
                    dai_err *e)
{
	static const unsigned char zero[12];
	unsigned char w[32];
	if (abi_get_word(data, n, i, w, e) < 0)
		return -1;
	if (memcmp(w, zero, 12) != 0)
		return dai_errf(e, "abi: word %zu is not an address", i);
	memcpy(addr, w + 12, 20);
	return 0;
}

/* A word that must be a small offset or length (below n). */
static int get_size(const unsigned char *data, size_t n, size_t byte_off, size_t *v, dai_err *e)
{
	u256 u;
	uint64_t x;
	if (byte_off > n || n - byte_off < 32)
		return dai_errf(e, "abi: dynamic value runs past the data");
	u256_from_be(&u, data + byte_off);
	if (!u256_to_u64(&u, &x) || x > n)
		return dai_errf(e, "abi: offset or length past the data");
	*v = (size_t)x;
	return 0;
}

int abi_get_bytes(const unsigned char *data, size_t n, size_t i, const unsigned char **p,
                  size_t *len, dai_err *e)
{
	size_t off = 0, l = 0;
	if (i >= n / 32)
		return dai_errf(e, "abi: return data too short for word %zu", i);
	if (get_size(data, n, 32 * i, &off, e) < 0 || get_size(data, n, off, &l, e) < 0)
		return -1;
	if (l > n - off - 32)
		return dai_errf(e, "abi: bytes run past the data");
	*p = data + off + 32;
	*len = l;
	return 0;
}

void abi_revert_reason(char *out, size_t cap, const unsigned char *data, size_t n)
{
	static const unsigned char error_sel[4] = {0x08, 0xc3, 0x79, 0xa0};
	static const unsigned char panic_sel[4] = {0x4e, 0x48, 0x7b, 0x71};
	if (cap == 0)
		return;
	if (n == 0) {
		snprintf(out, cap, "no reason given");
		return;
	}
	if (n >= 4 && memcmp(data, error_sel, 4) == 0) {
		const unsigned char *p;
		size_t len;
		if (abi_get_bytes(data + 4, n - 4, 0, &p, &len, NULL) == 0) {
			size_t k = 0;
			for (size_t j = 0; j < len && k + 1 < cap; j++)
				out[k++] = (p[j] >= 0x20 && p[j] < 0x7f) ? (char)p[j] : '?';
			out[k] = 0;
			return;
		}
	}
	if (n == 36 && memcmp(data, panic_sel, 4) == 0) {
		u256 code;
		char hex[U256_HEX_MAX];
		u256_from_be(&code, data + 4);
		u256_format_hex(hex, &code);
		snprintf(out, cap, "panic %s", hex);
		return;
	}
	size_t shown = n > 64 ? 64 : n;
	char hex[129];
	hex_encode(hex, data, shown);
	snprintf(out, cap, "revert data 0x%s%s", hex, shown < n ? "..." : "");
}
