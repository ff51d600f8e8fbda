# t_settle_proof.sh - a step fraud proof too big for one document line goes
# through the ledger: a worker cheats with a model one ulp off in its last
# layer, the validator's dai-prove challenge builds a kind=step fraud whose
# proof holds some sixty residuals of a dim-256 model, dai-settle challenge
# embeds it over several doc lines, runs the check, slashes the worker and
# pays the challenger; the ledger then replays it.
. "$(dirname "$0")/lib.sh"
if [ -z "${DAI_MKGGUF:-}" ] || [ ! -x "$DAI_MKGGUF" ]; then
	fail "settle a step proof" "DAI_MKGGUF does not name the model generator"
	exit 0
fi

bal() { dai-settle balance "$1" | cut -d' ' -f2-3; }

for k in pub op w buyer val; do dai-keygen -n -o $k >/dev/null 2>&1; done
"$DAI_MKGGUF" --dim 256 --layers 2 --heads 4 --kv-heads 4 --ffn 512 --vocab 512 --ctx 128 \
	--type f32 --seed 5 --name proof m.gguf >/dev/null || fail "model generated"
# Tensor data starts at 12640; blk.1.attn_norm.weight at 3147776 in it.
cp m.gguf ulp.gguf
patch ulp.gguf $((12640 + 3147776)) # blk.1.attn_norm.weight[0], 1 ulp
dai-keygen -p w.key >/dev/null
for p in m ulp; do dai-pack create -k pub.key -o $p.dai.tar $p.gguf >/dev/null 2>&1; done
X=$(dai-pack id m.dai.tar)
U=$(dai-pack id ulp.dai.tar)

export DAI_LEDGER="$TMPDIR/ledger" DAI_NOW=2026-01-01T00:00:00Z DAI_PACKS="$TMPDIR/m.dai.tar"
dai-settle init -k op.key --window 1h --bond 10 --alloc buyer.pub=1000 --alloc w.pub=100 \
	--alloc val.pub=60 >/dev/null 2>&1
dai-settle stake -k w.key 50 >/dev/null 2>&1
dai-offer make -k w.key -m $X -m $U --price 10 --stake 50 >offer
dai-offer job -k buyer.key -m $X -p "Once upon a time" -n 80 -s 3 --temp 0.8 --top-k 0 --top-p 1 \
	--max-price 1000 offer | dai-settle escrow -k buyer.key >esc 2>.err || fail "escrow" "$(cat .err)"
docs job esc >job
J=$(dai-keygen -V job | awk '{print $2}')

# The worker runs the job on the ulp model and passes receipt and trace
# off as the honest model's.
resign buyer.key job -e "s/^model .*/model $U/" >cheat.job
dai-infer -k w.key -m ulp.dai.tar -T cheat.trace cheat.job 2>.err | docs receipt /dev/stdin >r0 \
	|| fail "the cheat runs" "$(cat .err)"
resign w.key r0 -e "s/^job .*/job $J/" -e "s/^model .*/model $X/" >cheat
relabel cheat.trace $J $X
t "the cheat claims payment" dai-settle claim -k w.key cheat
P=$(($(field tokens-in cheat) + $(field tokens-out cheat) - 1))
[ "$P" -ge 70 ] && pass "the job evaluates 70+ positions" || fail "the job evaluates 70+ positions" "$P"

# Any wrong leaf makes a proof; the last layer of a late position needs
# every earlier residual of that layer's input, so its proof is big.
T=$((P - 1))
cat job cheat >cheat.s
dai-prove challenge -m m.dai.tar -k val.key -T cheat.trace --leaf $T:2 cheat.s 2>.err |
	docs fraud /dev/stdin >fraud
[ "$(field kind fraud)" = step ] && pass "a step fraud is built" \
	|| fail "a step fraud is built" "$(cat .err)"
proof=$(sed -n 's/^proof //p' fraud | tr -d '\n' | base64 -d | wc -c)
[ "$proof" -gt 49152 ] && pass "the step proof is over 48 KiB" \
	|| fail "the step proof is over 48 KiB" "$proof bytes"
echo "# step proof: $proof bytes compressed, fraud document $(wc -c <fraud) bytes, leaf $T:2"
dai-prove check -m m.dai.tar fraud >.o 2>.e
[ $? = 1 ] && [ "$(docs verdict .o | field result /dev/stdin)" = proven ] \
	&& pass "dai-prove check proves it" || fail "dai-prove check proves it" "$(cat .e)"

start=$(date +%s%N)
t "dai-settle challenge takes it" dai-settle challenge -k val.key fraud
end=$(date +%s%N)
echo "# dai-settle challenge: $(((end - start) / 1000000)) ms"
lines=$(awk '/^dai-entry 1/ { n = 0 } /^doc / { n++ } /^op challenge/ { c = 1 } /^sig / && c { print n; c = 0 }' "$DAI_LEDGER")
[ "$lines" -ge 3 ] && pass "the challenge entry holds the fraud over several doc lines" \
	|| fail "the challenge entry holds the fraud over several doc lines" "$lines lines"
[ "$(bal val.pub)" = "110 0" ] && [ "$(bal w.pub)" = "50 0" ] \
	&& pass "the worker is slashed, the challenger paid" \
	|| fail "the worker is slashed, the challenger paid" "val $(bal val.pub) w $(bal w.pub)"
[ "$(bal buyer.pub)" = "1000 0" ] && pass "the buyer is refunded" \
	|| fail "the buyer is refunded" "$(bal buyer.pub)"
t "the ledger replays the challenge" dai-settle verify
DAI_PACKS= XDG_CACHE_HOME=$TMPDIR/nocache dai-settle verify >.o 2>.e
grep -q "not in DAI_PACKS" .e && pass "replaying it needs the pack" \
	|| fail "replaying it needs the pack" "$(cat .o .e)"

# The same entry with its doc lines cut another way (signed again) is no
# entry: the ledger's tail from there on is damaged.
cp "$DAI_LEDGER" good
n=$(grep -n '^dai-entry 1' good | tail -n 1 | cut -d: -f1)
head -n $((n - 1)) good >head
tail -n +$n good | awk '/^doc / && !done { v = substr($0, 5); print "doc " substr(v, 1, 4);
	print "doc " substr(v, 5); done = 1; next } { print }' >recut
resign val.key recut -e '' >>head
cp head "$DAI_LEDGER"
dai-settle verify >.o 2>.e && fail "a recut doc line is refused" "verify passed" \
	|| { grep -q "not a whole chunk" .e && pass "a recut doc line is refused" \
		|| fail "a recut doc line is refused" "$(cat .e)"; }
cp good "$DAI_LEDGER"
t "the ledger is whole again" dai-settle verify
