# t_demo_chain.sh - make demo CHAIN=1's story runs to the end on a local
# anvil node and the money comes out right: the honest job paid at its
# price, the lazy worker's bond slashed to the validator, every credit
# withdrawn; the gas of each step reported; the node stopped at the end.
. "$(dirname "$0")/lib.sh"
repo=$(cd "$DAI_TESTDATA/../.." && pwd)
ANVIL=${DAI_ANVIL:-$repo/build/npm/node_modules/.bin/anvil}
if [ -z "${DAI_MKGGUF:-}" ] || [ ! -x "$DAI_MKGGUF" ]; then
	fail "demo" "DAI_MKGGUF does not name the model generator"
	exit 0
fi
bindir=$(dirname "$(command -v dai-infer)")

# Without a node the demo says how to get one.
env -u DAI_ANVIL sh "$repo/mk/demo_chain.sh" "$bindir" "$DAI_MKGGUF" "$TMPDIR/no-anvil" >.out 2>.err
[ $? -ne 0 ] && grep -q "make npm-deps" .err && pass "no anvil: says to run make npm-deps" ||
	fail "no anvil: says to run make npm-deps" "$(cat .err)"

if [ ! -x "$ANVIL" ]; then
	echo "# skip: anvil not installed (make npm-deps): the demo on a chain not run"
	exit 0
fi
if sh "$repo/mk/demo_chain.sh" "$bindir" "$DAI_MKGGUF" "$ANVIL" >demo.out 2>&1; then pass "demo on a chain runs"; else
	fail "demo on a chain runs" "$(tail -n 5 demo.out)"
fi

# The balances after each settlement: lines "   WHO wallet X ETH   credit in the contract Y ETH".
credits() { grep "^   $1 *wallet " demo.out | sed 's/.*contract //' | tr '\n' ' '; }
[ "$(credits buyer)" = "0.000000 ETH 0.000000 ETH 0.046000 ETH 0.146000 ETH 0.000000 ETH " ] &&
	pass "buyer: 46 of 100 back after the honest job, all of the lazy one's escrow refunded" ||
	fail "buyer: 46 of 100 back after the honest job, all of the lazy one's escrow refunded" "$(credits buyer)"
[ "$(credits worker)" = "0.000000 ETH 0.000000 ETH 0.074000 ETH 0.074000 ETH 0.000000 ETH " ] &&
	pass "worker: paid 54 and its bond back once, the lazy claim's bond lost" ||
	fail "worker: paid 54 and its bond back once, the lazy claim's bond lost" "$(credits worker)"
[ "$(credits validator)" = "0.000000 ETH 0.000000 ETH 0.000000 ETH 0.040000 ETH 0.000000 ETH " ] &&
	pass "validator: both bonds of the proven challenge" ||
	fail "validator: both bonds of the proven challenge" "$(credits validator)"
# wallet WHO: the last wallet balance of WHO, in micro-ETH.
wallet() { grep "^   $1 *wallet " demo.out | tail -n 1 | sed 's/.*wallet \([0-9]*\)\.\([0-9]*\) ETH.*/\1\2/' | sed 's/^0*//'; }
# 1 ETH each, less what they paid in, plus what they withdrew, less gas (under 0.002 ETH each here)
w=$(wallet buyer)
[ "$w" -le 946000 ] && [ "$w" -gt 944000 ] && pass "buyer's wallet: 1 - 0.054 ETH, less gas" || fail "buyer's wallet" "$w"
w=$(wallet worker)
[ "$w" -le 1034000 ] && [ "$w" -gt 1032000 ] && pass "worker's wallet: 1 + 0.054 - 0.020 ETH, less gas" || fail "worker's wallet" "$w"
w=$(wallet validator)
[ "$w" -le 1020000 ] && [ "$w" -gt 1018000 ] && pass "validator's wallet: 1 + 0.020 ETH, less gas" || fail "validator's wallet" "$w"

addr() { grep "^   $1 *0x" demo.out | awk '{ print $2 }'; }
grep -q " Claimed job=b2:[0-9a-f]* receipt=b2:[0-9a-f]* tokens-in=14 tokens-out=40 price=54000000000000000$" demo.out &&
	pass "log: the honest claim, 54 tokens at 1 unit" || fail "log: the honest claim, 54 tokens at 1 unit"
grep -q " Finalized job=b2:[0-9a-f]* timed-out=no$" demo.out && pass "log: finalized after the window" ||
	fail "log: finalized after the window"
grep -q " Resolved job=b2:[0-9a-f]* fraud-proven=yes$" demo.out && pass "log: the challenge proven" ||
	fail "log: the challenge proven"
grep -q " Withdrawn account=$(addr buyer) amount=146000000000000000$" demo.out &&
	grep -q " Withdrawn account=$(addr worker) amount=74000000000000000$" demo.out &&
	grep -q " Withdrawn account=$(addr validator) amount=40000000000000000$" demo.out &&
	pass "log: everyone withdrew their credit" || fail "log: everyone withdrew their credit"
grep -q '^   verdict: valid$' demo.out && pass "honest receipt valid" || fail "honest receipt valid"
[ "$(grep -c '^   dai-settle: verdict: proven$' demo.out)" -eq 2 ] && pass "two referees rechecked: proven" ||
	fail "two referees rechecked: proven"
missing=
for step in deploy escrow claim finalize challenge resolve withdraw; do
	grep -q "^   $step  *[0-9]* tx  gas [1-9][0-9]* " demo.out || missing="$missing $step"
done
[ -z "$missing" ] && pass "gas of every step reported" || fail "gas of every step reported" "none for$missing"
grep -q "^   end to end [0-9]* ms, of which starting the node [0-9]* ms$" demo.out &&
	grep -q "^   and [0-9]* runs of dai-settle on the node [0-9]* ms$" demo.out && pass "end-to-end time reported" ||
	fail "end-to-end time reported"

# The node is gone once the demo is.
URL=$(sed -n 's/^   listening on \(http:[^ ]*\) .*/\1/p' demo.out)
if [ -z "$URL" ]; then fail "the node's address shown"; elif
	curl -s -m 2 -H 'Content-Type: application/json' \
		--data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$URL" >/dev/null 2>&1
then fail "the node is stopped on exit" "$URL still answers"; else pass "the node is stopped on exit"; fi
exit 0
