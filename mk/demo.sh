#!/bin/sh
# demo.sh - a whole market round on one machine, told as a story: keys, a
# model pack, a ledger, an offer, a job paid into escrow, the work, a
# receipt, its verification and payment; then a worker who pads its bill,
# a challenge with a fraud proof, and the slash. mk/demo_chain.sh tells the
# same story settled on a local EVM node.
#
# Usage: mk/demo.sh BIN-DIR MKGGUF      (make demo; MODEL=path.gguf uses a real model)
set -eu
. "$(dirname "$0")/demo_lib.sh"
demo_init "$1" "$2"

balances() {
	for who in buyer worker validator; do
		dai-settle balance "$(dai-keygen -p $who.key)" |
			awk -v w="$who" '{ printf "   %-9s balance %5d  stake %4d  jobs paid %d, slashed %d\n", w, $2, $3, $4, $5 }'
	done
}

now 2026-12-01T09:00:00Z
say "Five people: a model publisher, a ledger operator, a buyer, a worker, a validator"
make_keys publisher operator buyer worker validator
for who in publisher operator buyer worker validator; do
	printf '   %-9s %s\n' $who "$(dai-keygen -p $who.key)"
done
echo "   (keys without passphrases, for the demo only)"

say "The publisher packs a model"
pack_model

say "The operator opens a ledger: money for everyone, a one-hour challenge window, a bond of 20"
run dai-settle init -k operator.key --window 1h --bond 20 --alloc buyer.pub=1000 \
	--alloc worker.pub=300 --alloc validator.pub=100 >/dev/null
run dai-settle stake -k worker.key 200 >/dev/null
balances

say "The worker offers compute: 1 per token, backed by its stake"
run dai-offer make -k worker.key -m "$PACK" --price 1000 --stake 200 >offers
dai-offer ls offers | sed 's/^/   /'

say "The buyer picks the offer, writes a job and pays into escrow"
echo '$ dai-offer match -m $PACK < offers | dai-offer job -k buyer.key -p "Once upon a time" -n 40 -s 42 \'
echo '    | dai-settle escrow -k buyer.key > job'
dai-offer match -m "$PACK" <offers 2>/dev/null |
	dai-offer job -k buyer.key -m "$PACK" -p "Once upon a time" -n 40 -s 42 --max-price 100 |
	dai-settle escrow -k buyer.key >job
show_job job
balances

say "The worker runs the job and claims payment with a signed receipt"
echo '$ dai-infer -k worker.key -m model.dai.tar -T traces < job | dai-settle claim -k worker.key > claimed'
mkdir traces
dai-infer -k worker.key -m model.dai.tar -T traces <job 2>/dev/null | dai-settle claim -k worker.key >claimed
show_receipt claimed

say "The validator replays the job (one batched pass) and checks the receipt"
validate_honest claimed

say "Two hours later, the cron job pays every claim whose window has passed"
now 2026-12-01T11:00:00Z
run dai-settle finalize -k operator.key --all
balances

say "A second job, and a lazy worker: it computes 24 tokens and makes up the last 16"
now 2026-12-01T12:00:00Z
dai-offer match -m "$PACK" <offers 2>/dev/null |
	dai-offer job -k buyer.key -m "$PACK" -p "The cat sat" -n 40 -s 7 --max-price 100 |
	dai-settle escrow -k buyer.key >job2
lazy_claim job2
run dai-settle claim -k worker.key claim2 >/dev/null

say "The validator checks it, finds the lie and posts a fraud proof with a bond"
catch_lie
run dai-settle challenge -k validator.key fraud.doc >/dev/null
echo "   the ledger ran the proof check itself: proven"

say "The end: the buyer paid for honest work only, the cheat lost its stake"
balances
run dai-settle verify
