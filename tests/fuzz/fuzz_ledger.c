/* libFuzzer harness for ledger files: the input is a ledger file's bytes.
 * Replays it, then checks what must hold for any input: the valid prefix
 * ends inside the input, replaying just that prefix succeeds and gives the
 * same head and entry count, and the money adds up to the genesis total.
 *
 * Seeds (tests/fuzz/seeds/fuzz_ledger/): round.ledger, a ledger written by
 * dai-settle with every op but challenge (genesis, stake, transfer, escrow,
 * claim, finalize, unstake, escrow, withdraw); torn.ledger, its first 2000
 * bytes; multiline.ledger, a genesis, a stake and the escrow of a job with a
 * 40000-byte prompt, whose doc runs over two lines. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ledger_state st, again;
	uint64_t end, end2, sum;
	dai_err e;
	state_init(&st);
	int rc = ledger_scan((const char *)data, size, "fuzz", &st, &end, NULL, NULL, &e);
	if (end > size || (rc == 0) != (end == size))
		abort();
	state_init(&again);
	if (ledger_scan((const char *)data, (size_t)end, "fuzz", &again, &end2, NULL, NULL, &e) ||
	    end2 != end || again.entries != st.entries || strcmp(again.head, st.head) != 0)
		abort();
	if (st.started && (state_sum(&st, &sum) || sum != st.total))
		abort();
	state_free(&st);
	state_free(&again);
	return 0;
}
