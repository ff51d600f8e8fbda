/* fraud_check.c - see fraud_check.h. */
#include "fraud_check.h"

int fraud_check(const char *fraud, size_t len, const fraud_claim *claim,
                enum fraud_verdict *verdict, dai_err *e)
{
	(void)fraud;
	(void)len;
	(void)claim;
	(void)verdict;
	return dai_errf(e, "fraud proof checking is not available yet");
}
