#!/bin/sh
# demo.sh - a whole market round on one machine, told as a story: keys, a
# model pack, a ledger, an offer, a job paid into escrow, the work, a
# receipt, its verification and payment; then a worker who pads its bill,
# a challenge with a fraud proof, and the slash.
#
# Usage: mk/demo.sh BIN-DIR MKGGUF      (make demo; MODEL=path.gguf uses a real model)
set -eu
bin=$(cd "$1" && pwd)
mkgguf=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
model=${MODEL:-}
[ -z "$model" ] || model=$(cd "$(dirname "$model")" && pwd)/$(basename "$model")
PATH="$bin:$PATH"
work=$(mktemp -d "${TMPDIR:-/tmp}/dai-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
export DAI_LEDGER="$work/ledger" HOME="$work" XDG_CACHE_HOME="$work/cache"
unset DAI_PASSPHRASE

say() { printf '\n== %s\n' "$*"; }
# run CMD...: show the command (on stderr, so redirections stay clean), run it.
run() { printf '$ %s\n' "$*" >&2; "$@"; }
field() { sed -n "s/^$1 //p" "$2" | head -n 1; }
# docs KIND FILE: the documents of one kind in a stream.
docs() { awk -v k="dai-$1 " 'index($0, k) == 1 { p = 1 } p { print } /^sig / { p = 0 }' "$2"; }
balances() {
	for who in buyer worker validator; do
		dai-settle balance "$(dai-keygen -p $who.key)" |
			awk -v w="$who" '{ printf "   %-9s balance %5d  stake %4d  jobs paid %d, slashed %d\n", w, $2, $3, $4, $5 }'
	done
}
now() { export DAI_NOW="$1"; }

now 2026-12-01T09:00:00Z
say "Five people: a model publisher, a ledger operator, a buyer, a worker, a validator"
for who in publisher operator buyer worker validator; do
	dai-keygen -n -o $who >/dev/null 2>&1
	printf '   %-9s %s\n' $who "$(dai-keygen -p $who.key)"
done
echo "   (keys without passphrases, for the demo only)"

say "The publisher packs a model"
if [ -n "$model" ]; then
	echo "   using $model"
	cp "$model" model.gguf
else
	run "$mkgguf" --dim 128 --layers 4 --heads 4 --kv-heads 2 --ffn 384 --vocab 512 --ctx 256 \
		--type q8_0 --seed 11 --name demo model.gguf >/dev/null
fi
run dai-pack create -k publisher.key -n demo -o model.dai.tar model.gguf >/dev/null
PACK=$(dai-pack id model.dai.tar)
echo "   pack id $PACK"
export DAI_PACKS="$work/model.dai.tar"

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
echo "   job $(docs job job | dai-keygen -V | cut -d' ' -f2), max price $(docs job job | field max-price /dev/stdin)"
balances

say "The worker runs the job and claims payment with a signed receipt"
echo '$ dai-infer -k worker.key -m model.dai.tar -T traces < job | dai-settle claim -k worker.key > claimed'
mkdir traces
dai-infer -k worker.key -m model.dai.tar -T traces <job 2>/dev/null | dai-settle claim -k worker.key >claimed
docs receipt claimed >receipt
echo "   receipt: $(field tokens-in receipt) tokens in, $(field tokens-out receipt) out, trace root $(field trace-root receipt | cut -c1-19)..."
printf '   text: %s\n' "$(field output receipt | base64 -d | tr '\n' ' ' | cut -c1-200)"

say "The validator replays the job (one batched pass) and checks the receipt"
JOB=$(field job receipt)
run dai-prove verify -k validator.key -m model.dai.tar -T "traces/${JOB#b2:}.trace" claimed >verified
echo "   verdict: $(docs verdict verified | field result /dev/stdin)"

say "Two hours later, the cron job pays every claim whose window has passed"
now 2026-12-01T11:00:00Z
run dai-settle finalize -k operator.key --all
balances

say "A second job, and a lazy worker: it computes 24 tokens and makes up the last 16"
now 2026-12-01T12:00:00Z
dai-offer match -m "$PACK" <offers 2>/dev/null |
	dai-offer job -k buyer.key -m "$PACK" -p "The cat sat" -n 40 -s 7 --max-price 100 |
	dai-settle escrow -k buyer.key >job2
dai-infer -k worker.key -m model.dai.tar -T traces <job2 2>/dev/null >ran2
docs receipt ran2 >honest2
ids=$(field output-ids honest2)
made_up=$({ printf %s "$ids" | base64 -d | head -c 96; head -c 64 /dev/zero; } | base64 -w0)
sed -e "s|^output-ids .*|output-ids $made_up|" \
	-e '/^sig /d' honest2 >lazy.txt
echo 'sig -' >>lazy.txt
dai-keygen -S -k worker.key lazy.txt >lazy
echo "   the worker signs a receipt for $(field tokens-out honest2) tokens, the last 16 made up"
docs job job2 >claim2
cat lazy >>claim2
run dai-settle claim -k worker.key claim2 >/dev/null

say "The validator checks it, finds the lie and posts a fraud proof with a bond"
if dai-prove verify -k validator.key -m model.dai.tar claim2 >verdict2 2>/dev/null; then
	echo "   (the lazy receipt verified: this should not happen)"
	exit 1
fi
echo "   verdict: $(docs verdict verdict2 | field result /dev/stdin): $(docs verdict verdict2 | field reason /dev/stdin)"
echo '$ dai-prove challenge -k validator.key -m model.dai.tar < claim2 | dai-settle challenge -k validator.key'
dai-prove challenge -k validator.key -m model.dai.tar claim2 2>/dev/null >fraud
docs fraud fraud >fraud.doc
echo "   fraud proof: kind $(field kind fraud.doc), $(wc -c <fraud.doc) bytes"
dai-settle challenge -k validator.key fraud.doc >/dev/null
echo "   the ledger ran the proof check itself: proven"

say "The end: the buyer paid for honest work only, the cheat lost its stake"
balances
run dai-settle verify
