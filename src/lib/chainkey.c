/* chainkey.c - the secp256k1 chain key of a dai identity (see chainkey.h). */
#include "chainkey.h"

#include <sodium.h>
#include <string.h>

#include "ethkey.h"

int chainkey_derive(const dai_key *k, unsigned char *sk, unsigned char addr[20], dai_err *e)
{
	static const char domain[] = "dai chain secp256k1 v1";
	unsigned char msg[33];
	memcpy(msg, k->sk, 32); /* the Ed25519 seed */
	for (unsigned ctr = 0; ctr < 256; ctr++) {
		msg[32] = (unsigned char)ctr;
		crypto_generichash(sk, 32, msg, sizeof msg, (const unsigned char *)domain,
		                   sizeof domain - 1);
		if (ethkey_address(addr, sk, NULL) == 0) {
			sodium_memzero(msg, sizeof msg);
			return 0;
		}
	}
	sodium_memzero(msg, sizeof msg);
	sodium_memzero(sk, 32);
	return dai_errf(e, "chain key: no valid secp256k1 secret derived");
}
