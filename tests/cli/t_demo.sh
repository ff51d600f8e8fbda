# t_demo.sh - make demo's story runs to the end and the money comes out
# right: the honest job paid, the lazy worker slashed to the validator.
. "$(dirname "$0")/lib.sh"
repo=$(cd "$DATA/../.." && pwd)
if [ -z "${DAI_MKGGUF:-}" ] || [ ! -x "$DAI_MKGGUF" ]; then
	fail "demo" "DAI_MKGGUF does not name the model generator"
	exit 0
fi
bindir=$(dirname "$(command -v dai-infer)")
if sh "$repo/mk/demo.sh" "$bindir" "$DAI_MKGGUF" >demo.out 2>&1; then pass "demo runs"; else
	fail "demo runs" "$(tail -n 5 demo.out)"
fi
last() { grep "^   $1 " demo.out | tail -n 1 | tr -s ' '; }
[ "$(last buyer)" = " buyer balance 946 stake 0 jobs paid 0, slashed 0" ] && pass "buyer paid 54 for 54 tokens" \
	|| fail "buyer paid 54 for 54 tokens" "$(last buyer)"
[ "$(last worker)" = " worker balance 154 stake 0 jobs paid 1, slashed 1" ] && pass "worker paid once, slashed once" \
	|| fail "worker paid once, slashed once" "$(last worker)"
[ "$(last validator)" = " validator balance 300 stake 0 jobs paid 0, slashed 0" ] \
	&& pass "validator takes the stake" || fail "validator takes the stake" "$(last validator)"
grep -q '^   verdict: valid$' demo.out && pass "honest receipt valid" || fail "honest receipt valid"
grep -q '^ok 8 entries head b2:' demo.out && pass "ledger verifies" || fail "ledger verifies"
