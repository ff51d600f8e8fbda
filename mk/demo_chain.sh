#!/bin/sh
# demo_chain.sh - the story of mk/demo.sh settled on an EVM chain: a local
# anvil node started here (and stopped on exit), the DaiEscrow contract
# deployed on it, a job escrowed, claimed and paid after the challenge
# window (the node's clock moved on with evm_increaseTime), then a lazy
# worker challenged, the referees signing the outcome of the proof check,
# the challenge resolved, the cheat's bond slashed and everyone's credit
# withdrawn. Ends with the gas of every step and the time it all took.
#
# Usage: mk/demo_chain.sh BIN-DIR MKGGUF ANVIL   (make demo CHAIN=1; MODEL=path.gguf,
#        DAI_ANVIL=path overrides ANVIL)
set -eu
. "$(dirname "$0")/demo_lib.sh"
anvil=${DAI_ANVIL:-${3:-}}
if [ -z "$anvil" ] || [ ! -x "$anvil" ]; then
	echo "demo: no anvil${anvil:+ at $anvil}: run 'make npm-deps' to install the local EVM node" >&2
	exit 1
fi
if ! command -v curl >/dev/null 2>&1; then
	echo "demo: no curl: it moves the local node's clock (evm_increaseTime)" >&2
	exit 1
fi
anvil=$(cd "$(dirname "$anvil")" && pwd)/$(basename "$anvil")
started=$(date +%s%N)
demo_init "$1" "$2"

START=2026-12-01T09:00:00Z
UNIT=1000000000000000 # wei per unit of a job's price: 0.001 ETH
ETH=1000000000000000000
DEV=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 # anvil's first unlocked account

# eth WEI: the amount in ETH, six decimals (exact: the digits are moved, not divided).
eth() {
	w=$(printf '%019s' "$1" | tr ' ' 0)
	int=${w%??????????????????}
	frac=${w#"$int"}
	printf '%s.%s ETH' "$((int))" "$(printf %s "$frac" | cut -c1-6)"
}
# settle ARGS...: dai-settle on the node (and the contract, once deployed),
# shown; the gas of the transaction it sends goes to gas.log.
settle() {
	printf '$ dai-settle $ON_CHAIN %s\n' "$*" >&2
	settle_q "$@"
}
# settle_q ARGS...: the same, not shown.
settle_q() {
	t0=$(date +%s%N)
	if dai-settle --chain "$URL" --unit $UNIT ${ESCROW:+--contract $ESCROW} -v "$@" 2>settle.err; then
		grep ' tx 0x' settle.err >>gas.log || true
		grep -v ' tx 0x' settle.err | sed 's/^/   /' >&2 || true
		echo $(($(date +%s%N) - t0)) >>settle.ns # a file: some runs are in a pipeline's subshell
	else
		cat settle.err >&2
		return 1
	fi
}
# rpc METHOD PARAMS: one JSON-RPC call to the node (only to move its clock).
rpc() {
	curl -sS -H 'Content-Type: application/json' \
		--data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":[$2]}" "$URL" >/dev/null
}
addr() { eval "printf %s \"\$A_$1\""; }
balances() {
	for who in buyer worker validator; do
		settle_q balance "$(addr $who)" >bal 2>/dev/null
		printf '   %-9s wallet %s   credit in the contract %s\n' $who \
			"$(eth "$(cut -d' ' -f3 bal)")" "$(eth "$(cut -d' ' -f5 bal)")"
	done
}

say "A local chain: an anvil node on 127.0.0.1, its clock set to $START"
: >anvil.log
"$anvil" --host 127.0.0.1 --port 0 --timestamp "$(date -u -d "$START" +%s)" >anvil.log 2>&1 &
anvil_pid=$!
at_exit 'kill $anvil_pid 2>/dev/null'
i=0
while ! grep -q '^Listening on' anvil.log && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
grep -q '^Listening on' anvil.log || { cat anvil.log >&2; echo "demo: anvil did not start" >&2; exit 1; }
URL=http://$(sed -n 's/^Listening on //p' anvil.log)
node_up=$(date +%s%N)
echo "   listening on $URL (\$ON_CHAIN below: --chain $URL --unit $UNIT, then --contract)"
now $START

say "Eight people: a publisher, an operator, a buyer, a worker, a validator and three referees"
make_keys publisher operator buyer worker validator referee1 referee2 referee3
for who in operator buyer worker validator referee1 referee2 referee3; do
	eval "A_$who=\$(dai-keygen --chain -p $who.key)"
	printf '   %-9s %s  %s\n' $who "$(addr $who)" "$(dai-keygen -p $who.key)"
done
echo "   (one key file each: the chain address is derived from the identity; no passphrases, for the demo only)"

say "A faucet (the node's first development account) gives everyone 1 ETH"
for who in operator buyer worker validator; do
	settle_q --from $DEV transfer "$(addr $who)" $ETH >/dev/null
done
balances

say "The publisher packs a model"
pack_model

say "The operator deploys the escrow: 2 of 3 referees decide a challenge, a one-hour window, bonds of 20 units"
settle -k operator.key deploy --referee "$A_referee1" --referee "$A_referee2" \
	--referee "$A_referee3" --threshold 2 --window 1h --resolve-timeout 1d \
	--bond $((20 * UNIT)) --challenge-bond $((20 * UNIT)) >contract
ESCROW=$(cat contract)
echo "   DaiEscrow at $ESCROW (the operator has no power over it once deployed)"

say "The worker binds its identity to its address and offers compute at 1 unit per token"
run dai-settle --chain "$URL" -k worker.key bind >worker.bind
echo "   dai-bind: $(field did worker.bind) is $(field address worker.bind)"
run dai-offer make -k worker.key -m "$PACK" --price 1000 >offers
dai-offer ls offers | sed 's/^/   /'

say "The buyer writes a job for the offer and pays its max price into the contract"
echo '$ dai-offer job -k buyer.key -p "Once upon a time" -n 40 -s 42 < offers \'
echo '    | dai-settle $ON_CHAIN -k buyer.key escrow --worker-bind worker.bind > job'
dai-offer job -k buyer.key -m "$PACK" -p "Once upon a time" -n 40 -s 42 --max-price 100 <offers |
	settle_q -k buyer.key escrow --worker-bind worker.bind >job
show_job job
balances

say "The worker runs the job and claims payment with its receipt's id and a bond"
echo '$ dai-infer -k worker.key -m model.dai.tar -T traces < job | dai-settle $ON_CHAIN -k worker.key claim > claimed'
mkdir traces
dai-infer -k worker.key -m model.dai.tar -T traces <job 2>/dev/null |
	settle_q -k worker.key claim >claimed
show_receipt claimed

say "The validator replays the job (one batched pass) and checks the receipt"
validate_honest claimed

say "Two hours later (evm_increaseTime), anyone may finalize: the worker is paid"
rpc evm_increaseTime 7200
rpc evm_mine ""
now 2026-12-01T11:00:00Z
settle -k operator.key finalize "$(docs job job | docid /dev/stdin)"
balances

say "A second job, and a lazy worker: it computes 24 tokens and makes up the last 16"
dai-offer job -k buyer.key -m "$PACK" -p "The cat sat" -n 40 -s 7 --max-price 100 <offers |
	settle_q -k buyer.key escrow --worker-bind worker.bind >job2
lazy_claim job2
settle -k worker.key claim claim2 >/dev/null

say "The validator checks it, finds the lie and challenges with the fraud proof's id and a bond"
catch_lie
settle -k validator.key challenge fraud.doc >/dev/null
JOB2=$(docs job job2 | docid /dev/stdin)

say "The contract cannot rerun a transformer: the referees rerun the proof check and sign its outcome"
docs job job2 >job2.doc
for r in referee1 referee2; do
	echo "\$ dai-settle \$ON_CHAIN -k $r.key sign-resolution \$JOB2 fraud.doc job2.doc"
	settle_q -k $r.key sign-resolution "$JOB2" fraud.doc job2.doc >$r.sig
	echo "   $r signs: $(cut -c1-24 $r.sig)..."
done
echo '$ dai-settle $ON_CHAIN -k validator.key resolve $JOB2 proven $(cat referee1.sig) $(cat referee2.sig)'
settle_q -k validator.key resolve "$JOB2" proven "$(cat referee1.sig)" "$(cat referee2.sig)"
balances

say "Everyone takes their credit out of the contract"
for who in buyer worker validator; do
	settle -k $who.key withdraw
done

say "The end: the buyer paid 54 units for 54 honest tokens, the cheat lost its bond to the validator"
balances
echo "   (each wallet started with 1 ETH and also paid the gas of its transactions)"
echo "   the contract's log:"
settle_q log | sed 's/^/   /'

say "Gas per step (anvil, default fees) and time"
awk '{ for (i = 1; i < NF; i++) if ($i == "gas") g = $(i + 1)
	step = $2; if (!(step in n)) order[k++] = step
	n[step]++; if (!(step in lo) || g < lo[step]) lo[step] = g; if (g > hi[step]) hi[step] = g }
	END { for (i = 0; i < k; i++) { s = order[i]
		printf "   %-10s %d tx  gas %s\n", s, n[s], lo[s] == hi[s] ? lo[s] " each" : lo[s] " to " hi[s] } }' gas.log
ended=$(date +%s%N)
echo "   end to end $(((ended - started) / 1000000)) ms, of which starting the node $(((node_up - started) / 1000000)) ms"
awk '{ n++; t += $1 } END { printf "   and %d runs of dai-settle on the node %d ms\n", n, t / 1000000 }' settle.ns
