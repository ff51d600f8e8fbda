# t_prove.sh - dai-infer job mode and dai-prove: the detection matrix. Each
# cheat by a worker is caught by verify, and the challenge built from its
# trace is proven by check; an honest receipt made with other threads, batch
# sizes or kernels always verifies, and no challenge against it is proven.
. "$(dirname "$0")/lib.sh"

for k in pub w buyer val other; do dai-keygen -n -o $k >/dev/null 2>&1; done
A=$DATA/a_f32.gguf
# Tensor data of a_f32.gguf starts at 12640 (dai-pack info lists offsets in it).
cp "$A" ulp.gguf
patch ulp.gguf $((12640 + 131072))  # blk.0.attn_norm.weight[0], 1 ulp
cp "$A" skip.gguf                    # blk.1 adds nothing: the layer is skipped
dd if=/dev/zero of=skip.gguf bs=1 seek=$((12640 + 361216)) count=16384 conv=notrunc 2>/dev/null
dd if=/dev/zero of=skip.gguf bs=1 seek=$((12640 + 427008)) count=49152 conv=notrunc 2>/dev/null
for p in a:"$A" ulp:ulp.gguf q8:"$DATA/a_q8_0.gguf" skip:skip.gguf; do
	dai-pack create -k pub.key -o ${p%%:*}.dai.tar "${p#*:}" >/dev/null 2>&1
done
X=$(dai-pack id a.dai.tar)
dai-offer make -k w.key -m $X -m $(dai-pack id ulp.dai.tar) -m $(dai-pack id q8.dai.tar) \
	-m $(dai-pack id skip.dai.tar) --price 10 --max-tokens 64 >offer
dai-offer job -k buyer.key -m $X -p "Once upon a time" -n 24 -s 5 --temp 0.8 --top-k 0 --top-p 1 offer >jobs
docs job jobs >job

# The honest worker.
t "job mode runs the job" dai-infer -k w.key -m a.dai.tar -T honest.trace -t 2 jobs
cp .out honest.out
docs receipt honest.out >honest
[ -s honest ] && pass "a receipt is appended" || fail "a receipt is appended"
head -c "$(wc -c <jobs)" honest.out | cmp -s - jobs && pass "documents pass through unchanged" \
	|| fail "documents pass through unchanged"
J=$(field job honest)
dai-keygen -V honest >/dev/null 2>&1 && [ "$(field worker honest)" = "$(dai-keygen -p w.key)" ] \
	&& pass "the receipt is signed by the worker" || fail "the receipt is signed by the worker"
[ "$(field model honest)" = "$X" ] && pass "the receipt names the pack" || fail "the receipt names the pack"
[ "$(wc -c <honest.trace)" = $((112 + $(field trace-leaves honest) * 32)) ] \
	&& pass "trace file size" || fail "trace file size"

# A job that ends at an end-of-text token (seed 13 draws one as the 24th
# token): fewer tokens than max-tokens, and still valid.
dai-offer job -k buyer.key -m $X -p "Once upon a time" -n 60 -s 13 --temp 50 --top-k 0 --top-p 1 offer >eogjobs
dai-infer -k w.key -m a.dai.tar -T eog.trace eogjobs 2>/dev/null | docs receipt /dev/stdin >eog
[ "$(field tokens-out eog)" = 24 ] && pass "generation stops at the end of text" \
	|| fail "generation stops at the end of text" "$(field tokens-out eog) tokens"
docs job eogjobs >eog.s && cat eog >>eog.s
t "a receipt ending at the end of text verifies" dai-prove verify -m a.dai.tar -T eog.trace eog.s

# Several jobs: one trace each in a directory; a trace file takes one job.
mkdir traces
cat jobs eogjobs >two
dai-infer -k w.key -m a.dai.tar -T traces two >two.out 2>/dev/null
[ "$(ls traces | wc -l)" = 2 ] && [ "$(grep -c '^dai-receipt' two.out)" = 2 ] \
	&& [ -f "traces/$(field job honest | cut -c4-).trace" ] \
	&& pass "a trace directory holds each job's trace" || fail "a trace directory holds each job's trace"
dai-infer -k w.key -m a.dai.tar -T one.trace two >two1.out 2>.e
[ "$(grep -c '^dai-receipt' two1.out)" = 1 ] && grep -q "give a directory" .e \
	&& pass "a trace file takes one job" || fail "a trace file takes one job" "$(cat .e)"

# Refusals: one line on stderr each, the documents still passed through.
dai-infer -k other.key -m a.dai.tar jobs >.o 2>.e
cmp -s .o jobs && grep -q "is for worker" .e && pass "a job for another worker is refused" \
	|| fail "a job for another worker is refused" "$(cat .e)"
dai-infer -k w.key -m q8.dai.tar jobs >.o 2>.e
cmp -s .o jobs && grep -q "is for model" .e && pass "a job for another model is refused" \
	|| fail "a job for another model is refused" "$(cat .e)"
DAI_NOW=2099-01-01T00:00:00Z dai-infer -k w.key -m a.dai.tar jobs >.o 2>.e
cmp -s .o jobs && grep -q "expired" .e && pass "an expired job is refused" \
	|| fail "an expired job is refused" "$(cat .e)"
tfail "job mode needs a pack" dai-infer -k w.key -m "$A" jobs

# cheat_job NAME PACK HIDE SED...: the worker runs a job that differs from
# the buyer's by the sed edits, on PACK, then relabels receipt and trace as
# the buyer's job on the honest pack (HIDE: one more sed edit to the
# receipt, to hide what it changed).
cheat_job() {
	n=$1 pk=$2 hide=${3:-s/^\$//}
	shift 3
	resign buyer.key job "$@" >$n.job
	dai-infer -k w.key -m $pk.dai.tar -T $n.trace $n.job >$n.out 2>/dev/null
	docs receipt $n.out >$n.r0
	resign w.key $n.r0 -e "s/^job .*/job $J/" -e "s/^model .*/model $X/" -e "$hide" >$n
	relabel $n.trace $J $X
}
cheat_job ulp ulp "" -e "s/^model .*/model $(dai-pack id ulp.dai.tar)/"
cheat_job quant q8 "" -e "s/^model .*/model $(dai-pack id q8.dai.tar)/"
cheat_job skip skip "" -e "s/^model .*/model $(dai-pack id skip.dai.tar)/"
cheat_job prompt a "" -e "s/^prompt .*/prompt $(printf 'Once upon a dime' | base64)/"
cheat_job seed a "s/^seed .*/seed 5/" -e "s/^seed .*/seed 6/"
cheat_job temp a "s/^temp-milli .*/temp-milli 800/" -e "s/^temp-milli .*/temp-milli 1500/"
cheat_job sampler a "s/^top-k .*/top-k 0/" -e "s/^top-k .*/top-k 3/"
cheat_job seedshown a "" -e "s/^seed .*/seed 6/"
cp honest.trace honest2.trace
ids=$(field output-ids honest)
resign w.key honest -e "s/^tokens-out .*/tokens-out 9/" \
	-e "s|^output-ids .*|output-ids $(printf %s "$ids" | cut -c1-48)|" >truncated
resign w.key honest -e "s/^tokens-out .*/tokens-out 27/" -e "s|^output-ids .*|output-ids ${ids}AQAAAAEAAAABAAAA|" >padded
resign w.key honest -e "s|^output-ids \(....\)|output-ids AQAA|" >edited
resign w.key honest -e "s/^trace-root .*/trace-root b2:$(printf %064d 7)/" >badroot
resign other.key honest -e "" >forged
for n in truncated padded edited badroot forged; do cp honest.trace $n.trace; done

printf '# %-34s %-8s %-10s %-9s %-8s %s\n' cheat verify fraud leaf check reason
for n in ulp:"weights, one tensor +1 ulp" quant:"another quantization" \
	prompt:"a changed prompt" skip:"a skipped layer" truncated:"a truncated output" \
	padded:"a padded output" seed:"another seed (hidden)" seedshown:"another seed (shown)" \
	temp:"another temperature (hidden)" sampler:"tokens not from the sampler" \
	edited:"an output token edited" badroot:"a trace not matching the root" \
	forged:"a forged signature"; do
	c=${n%%:*} what=${n#*:}
	cat job $c >$c.s
	dai-prove verify -m a.dai.tar -T $c.trace $c.s >$c.v 2>$c.ve
	vrc=$?
	dai-prove challenge -m a.dai.tar -k val.key -T $c.trace $c.s >$c.c 2>$c.ce
	crc=$?
	docs fraud $c.c >$c.f
	dai-prove check -m a.dai.tar $c.f >$c.k 2>$c.ke
	krc=$?
	vres=$(docs verdict $c.v | sed -n 's/^result //p')
	kind=$(field kind $c.f)
	leaf="-"
	[ -n "$(field position $c.f)" ] && leaf="($(field position $c.f),$(field step $c.f))"
	kres=$(docs verdict $c.k | sed -n 's/^result //p')
	printf '# %-34s %-8s %-10s %-9s %-8s %s\n' "$what" "${vres:-error}" "${kind:-none}" "$leaf" \
		"${kres:-error}" "$(field reason $c.f | cut -c1-60)"
	[ $vrc = 1 ] && [ "$vres" = invalid ] && pass "verify catches $what" \
		|| fail "verify catches $what" "rc $vrc $(cat $c.ve)"
	[ $crc = 0 ] && [ -s $c.f ] && pass "challenge of $what" || fail "challenge of $what" "$(cat $c.ce)"
	[ $krc = 1 ] && [ "$kres" = proven ] && pass "check proves $what" \
		|| fail "check proves $what" "rc $krc $(cat $c.ke) $(docs verdict $c.k | grep reason)"
done
[ "$(field kind ulp.f)" = step ] && [ "$(field step ulp.f)" = 1 ] \
	&& pass "1 ulp in layer 0 is pinned to layer 0" || fail "1 ulp in layer 0 is pinned to layer 0"
[ "$(field kind skip.f)" = step ] && [ "$(field step skip.f)" = 2 ] \
	&& pass "the skipped layer is pinned to layer 1" || fail "the skipped layer is pinned to layer 1"

# Honest receipts from other threads, batch sizes and kernels: each
# verifies, there is nothing to challenge, and chosen-leaf challenges
# (dishonest challengers) are never proven.
printf '# %-34s %-8s %-10s %s\n' "honest worker" verify challenge "chosen leaves proven"
for h in t1:"-t 1" t3:"-t 3" b1:"-t 2 --batch 1" b7:"-t 2 --batch 7" ref:"-t 2 ref-kernels"; do
	c=${h%%:*} opts=${h#*:}
	case $c in
	ref) DAI_KERNELS=ref dai-infer -k w.key -m a.dai.tar -T $c.trace -t 2 jobs >$c.out 2>/dev/null ;;
	*) dai-infer -k w.key -m a.dai.tar -T $c.trace $opts jobs >$c.out 2>/dev/null ;;
	esac
	docs receipt $c.out >$c.r
	cat job $c.r >$c.s
	dai-prove verify -m a.dai.tar -T $c.trace $c.s >$c.v 2>&1
	vrc=$?
	dai-prove challenge -m a.dai.tar -k val.key -T $c.trace $c.s >/dev/null 2>$c.ce
	crc=$?
	proven=0
	for leaf in 0:0 0:1 3:2 13:3 20:3 36:2 36:3; do
		dai-prove challenge -m a.dai.tar -k val.key -T $c.trace --leaf $leaf $c.s 2>/dev/null |
			docs fraud /dev/stdin >$c.lf
		dai-prove check -m a.dai.tar $c.lf >$c.lk 2>&1 || proven=$((proven + 1))
		grep -q '^result not-proven' $c.lk || proven=$((proven + 1))
	done
	for kind in signature receipt replay; do
		resign val.key $c.lf -e "s/^kind .*/kind $kind/" -e '/^position /d' -e '/^step /d' \
			-e '/^proof /d' >$c.kf
		dai-prove check -m a.dai.tar $c.kf >$c.lk 2>&1 || proven=$((proven + 1))
	done
	printf '# %-34s %-8s %-10s %s\n' "$opts" "$(docs verdict $c.v | sed -n 's/^result //p')" \
		"$([ $crc = 1 ] && echo refused || echo BUILT)" "$proven of 10"
	[ $vrc = 0 ] && grep -q '^result valid' $c.v && pass "honest $opts verifies" \
		|| fail "honest $opts verifies" "$(tail -3 $c.v)"
	[ $crc = 1 ] && grep -q "valid" $c.ce && pass "nothing to challenge in honest $opts" \
		|| fail "nothing to challenge in honest $opts"
	[ $proven = 0 ] && pass "no challenge of honest $opts is proven" \
		|| fail "no challenge of honest $opts is proven" "$proven proven"
done
[ "$(field trace-root t1.r)" = "$(field trace-root honest)" ] && \
	[ "$(field trace-root ref.r)" = "$(field trace-root b7.r)" ] \
	&& pass "same trace root on every thread count, batch and kernel" \
	|| fail "same trace root on every thread count, batch and kernel"

# A broken trace file does not turn an honest receipt into fraud.
cp honest.trace broken.trace
printf 'x' | dd of=broken.trace bs=1 seek=200 conv=notrunc 2>/dev/null
cat job honest >h.s
t "honest receipt with a broken trace still verifies" dai-prove verify -m a.dai.tar -T broken.trace h.s
tfail "challenge with a broken trace finds nothing" dai-prove challenge -m a.dai.tar -k val.key -T broken.trace h.s

# A tampered proof is not proven, a malformed fraud is refused.
sed 's/^step 1$/step 2/' ulp.f | sed '/^sig /d' >.t && echo 'sig -' >>.t && dai-keygen -S -k val.key .t >moved.f
dai-prove check -m a.dai.tar moved.f >.o 2>&1
grep -q '^result not-proven' .o && pass "a proof moved to another step is not proven" \
	|| fail "a proof moved to another step is not proven" "$(cat .o)"
sed '/^receipt-doc /d' ulp.f >nodoc.f
tfail "a fraud without the receipt is refused" dai-prove check -m a.dai.tar nodoc.f
tfail "check on another pack is refused" dai-prove check -m q8.dai.tar ulp.f
tfail "verify without the job is refused" dai-prove verify -m a.dai.tar honest
tfail "challenge needs a key" dai-prove challenge -m a.dai.tar h.s

# The ledger decides a challenge with the same check: a challenge of an
# honest receipt costs the challenger its bond; a proven one slashes the
# worker's stake to the challenger and refunds the buyer.
export DAI_LEDGER="$TMPDIR/ledger" DAI_NOW=2026-01-01T00:00:00Z DAI_PACKS="$TMPDIR/a.dai.tar"
dai-settle init -k pub.key --window 1h --bond 10 --alloc buyer.pub=1000 --alloc w.pub=100 \
	--alloc val.pub=60 >/dev/null 2>&1
dai-settle stake -k w.key 50 >/dev/null 2>&1
dai-offer make -k w.key -m $X -m $(dai-pack id ulp.dai.tar) --price 10 --stake 50 >offer2
for n in 1 2; do
	dai-offer job -k buyer.key -m $X -p "Once upon a time" -n 24 -s $n --temp 0.8 --top-k 0 --top-p 1 offer2 |
		dai-settle escrow -k buyer.key >esc$n 2>.err || fail "escrow $n" "$(cat .err)"
done
bal() { dai-settle balance "$1" | cut -d' ' -f2-3; }
dai-infer -k w.key -m a.dai.tar -T l2.trace esc2 | dai-settle claim -k w.key >l2.out 2>.err \
	|| fail "honest claim" "$(cat .err)"
docs job esc2 >l2.s && docs receipt l2.out >>l2.s
dai-prove challenge -m a.dai.tar -k val.key -T l2.trace --leaf 5:2 l2.s 2>/dev/null |
	dai-settle challenge -k val.key >/dev/null 2>.err
[ "$(bal val.pub)" = "50 0" ] && [ "$(bal w.pub)" = "60 50" ] \
	&& pass "a challenge of an honest receipt costs the bond" \
	|| fail "a challenge of an honest receipt costs the bond" "val $(bal val.pub) w $(bal w.pub) $(cat .err)"
docs job esc1 >job
J=$(dai-keygen -V job | awk '{print $2}')
cheat_job l1 ulp "" -e "s/^model .*/model $(dai-pack id ulp.dai.tar)/"
dai-settle claim -k w.key l1 >/dev/null 2>.err || fail "cheat claim" "$(cat .err)"
cat job l1 | dai-prove challenge -m a.dai.tar -k val.key -T l1.trace |
	dai-settle challenge -k val.key >/dev/null 2>.err
[ "$(bal val.pub)" = "100 0" ] && [ "$(bal w.pub)" = "60 0" ] \
	&& pass "a proven challenge slashes the worker" \
	|| fail "a proven challenge slashes the worker" "val $(bal val.pub) w $(bal w.pub) $(cat .err)"
DAI_PACKS= XDG_CACHE_HOME=$TMPDIR/nocache dai-settle verify >.o 2>.e
grep -q "not in DAI_PACKS" .e && pass "replaying a challenge needs the pack" \
	|| fail "replaying a challenge needs the pack" "$(cat .o .e)"
cp "$DAI_LEDGER" ledger.before
for cmd in balance log repair; do
	DAI_PACKS= XDG_CACHE_HOME=$TMPDIR/nocache dai-settle $cmd >.o 2>.e
	rc=$?
	[ $rc -ne 0 ] && grep -q "not in DAI_PACKS" .e && ! grep -q "damaged" .e \
		&& pass "without the pack, $cmd stops and calls nothing damaged" \
		|| fail "without the pack, $cmd stops and calls nothing damaged" "rc $rc $(cat .o .e)"
done
cmp -s ledger.before "$DAI_LEDGER" && pass "repair without the pack cuts nothing" \
	|| fail "repair without the pack cuts nothing"
t "the ledger replays with the pack" dai-settle verify
