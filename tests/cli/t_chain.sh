# t_chain.sh - dai-settle --chain: the market round settled on the DaiEscrow
# contract on a local anvil node: deploy, escrow, claim, finalize after the
# window, a proven challenge that slashes, a failed challenge that costs the
# challenger, double claims and early finalizes refused, chain id checked.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$DAI_TESTDATA/../.." && pwd)
ANVIL=${DAI_ANVIL:-$ROOT/build/npm/node_modules/.bin/anvil}
if [ ! -x "$ANVIL" ]; then
	echo "# skip: anvil not installed (make npm-deps): chain settlement not tested"
	exit 0
fi
unset DAI_NOW
"$ANVIL" --host 127.0.0.1 --port 0 >anvil.log 2>&1 &
APID=$!
trap 'kill $APID 2>/dev/null' EXIT
i=0
while ! grep -q '^Listening on' anvil.log && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
URL=http://$(sed -n 's/^Listening on //p' anvil.log)
DEV=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 # anvil's first unlocked account
M=b2:0000000000000000000000000000000000000000000000000000000000000007
S="dai-settle --chain $URL"
# tg NAME CMD...: t, keeping the gas line CMD -v writes on stderr
tg() {
	t "$@"
	cat .err >>gas.log
}

for k in op buyer worker val r1 r2 r3; do dai-keygen -n -o $k >/dev/null 2>&1; done
for k in op buyer worker val r1 r2 r3; do eval "A_$k=\$($S address -k $k.key)"; done
W=$(dai-keygen -p worker.key)
B=$(dai-keygen -p buyer.key)
for k in op buyer worker val; do
	eval "a=\$A_$k"
	$S --from $DEV transfer "$a" 100000000000000000000 || fail "fund $k"
done
t "a funded key's balance" $S balance "$A_buyer"
grep -q " balance 100000000000000000000 credit 0$" .out && pass "balance line" || fail "balance line" "$(cat .out)"

tfail "another chain id refused" $S --chain-id 1 -k op.key deploy --referee "$A_r1" --threshold 1 --window 1s
grep -q "node is on chain 31337, not 1" .err && pass "says which chain" || fail "says which chain" "$(cat .err)"
tfail "threshold above the referees refused" $S -k op.key deploy --referee "$A_r1" --threshold 2 --window 1s
tfail "mistyped address refused" $S -k op.key deploy --referee "$(echo "$A_r1" | tr 'a-f' 'A-F' | sed 's/^0X/0x/;s/.$/0/')1" --threshold 1 --window 1s
tg "deploy" $S -v -k op.key deploy --referee "$A_r1" --referee "$A_r2" --referee "$A_r3" \
	--threshold 2 --window 3s --resolve-timeout 3s --bond 1000 --challenge-bond 500
C=$(cat .out)
grep -q "deploy tx 0x[0-9a-f]* block [0-9]* gas [0-9]*" .err && pass "deploy reports its gas" || fail "deploy reports its gas" "$(cat .err)"
S="$S --contract $C"

# job N: a new job escrowed by the buyer (the job document on stdout).
job() {
	dai-offer make -k worker.key -m $M --price 200 --stake 50 >offer$1 &&
		dai-offer job -k buyer.key -p "two words" -n 20 --max-price 40 <offer$1 >job$1.all &&
		awk '/^dai-job/{j=1} j' job$1.all >job$1 &&
		$S -v -k buyer.key escrow --worker-bind worker.bind job$1 >/dev/null 2>>gas.log
}
# receipt N: the worker's signed receipt for job N: 27 tokens at 200 units
# per 1000 cost 5.4 units, 5400000000 wei at the default 1 gwei a unit (the
# contract rounds up to a wei, not to a unit).
receipt() {
	J=$(dai-keygen -V <job$1 | awk '{print $2}')
	printf 'dai-receipt 1\njob %s\nmodel %s\nworker %s\nbuyer %s\ntokens-in 7\ntokens-out 20\nseed 0\ntemp-milli 0\ntop-k 0\ntop-p-milli 1000\ntrace-root %s\ntrace-leaves 1\ntime 2026-01-01T00:00:00Z\nsig -\n' \
		"$J" $M "$W" "$B" $M | dai-keygen -S -k worker.key >receipt$1
}
jobid() { dai-keygen -V <job$1 | awk '{print $2}'; }
# fraud N [RECEIPT-FILE]: a dai-fraud by val against job N's receipt (or another).
fraud() {
	r=${2:-receipt$1}
	printf 'dai-fraud 1\njob %s\nreceipt %s\nmodel %s\nworker %s\nkind replay\nreceipt-doc %s\njob-doc %s\ntime 2026-01-01T00:00:00Z\nsig -\n' \
		"$(jobid $1)" "$(dai-keygen -V <$r | awk '{print $2}')" $M "$W" "$(base64 -w0 $r)" \
		"$(base64 -w0 job$1)" | dai-keygen -S -k val.key
}

# The worker binds its identity to its chain address.
t "bind" $S -k worker.key bind
cp .out worker.bind
grep -q "^address $(echo "$A_worker" | tr 'A-F' 'a-f')$" worker.bind && pass "bind names the key's address" || fail "bind names the key's address" "$(cat worker.bind)"
$S -k val.key bind >val.bind
A_val_lower=$(echo "$A_val" | tr 'A-F' 'a-f')
sed "s/^address .*/address $A_val_lower/" worker.bind >forged.bind
dai-offer make -k worker.key -m $M --price 200 --stake 50 >offer0
dai-offer job -k buyer.key -p "two words" -n 20 --max-price 40 <offer0 | awk '/^dai-job/{j=1} j' >job0
tfail "escrow for another identity's bind refused" $S -k buyer.key escrow --worker-bind val.bind job0
grep -q "but the dai-bind is" .err && pass "says whose bind" || fail "says whose bind" "$(cat .err)"
tfail "forged bind refused" $S -k buyer.key escrow --worker-bind forged.bind job0
tfail "escrow needs the worker's address" $S -k buyer.key escrow job0

job 1 2>.err && pass "offer | job | escrow on chain" || fail "offer | job | escrow on chain" "$(cat .err)"
J1=$(jobid 1)
t "job state" $S job "$J1"
grep -q "^$J1 escrowed .* amount=40000000000 " .out && pass "escrow locks max-price in wei" || fail "escrow locks max-price in wei" "$(cat .out)"
tfail "same job twice refused" $S -k buyer.key escrow --worker-address "$A_worker" job1
grep -q "reverted: job id already used" .err && pass "says the job id is used" || fail "says the job id is used" "$(cat .err)"
tfail "escrow by a key not the buyer refused" $S -k val.key escrow --worker-address "$A_worker" job1
receipt 1
tfail "claim by a key not the worker refused" $S -k val.key claim receipt1
tg "claim" $S -v -k worker.key claim receipt1
cmp -s .out receipt1 && pass "claim passes the receipt through" || fail "claim passes the receipt through"
tfail "double claim refused" $S -k worker.key claim receipt1
grep -q "reverted: job not open to a claim" .err && pass "double claim says why" || fail "double claim says why" "$(cat .err)"
tfail "finalize in the window refused" $S -k val.key finalize "$J1"
grep -q "reverted: challenge window still open" .err && pass "early finalize says why" || fail "early finalize says why" "$(cat .err)"
sleep 4
tg "finalize after the window" $S -v -k val.key finalize "$J1"
$S balance "$A_worker" >.out
grep -q " credit 5400001000$" .out && pass "worker credited price and bond" || fail "worker credited price and bond" "$(cat .out)"
$S balance "$A_buyer" >.out
grep -q " credit 34600000000$" .out && pass "buyer credited the rest" || fail "buyer credited the rest" "$(cat .out)"
tfail "second finalize refused" $S -k val.key finalize "$J1"

# A proven challenge: the buyer is refunded, the challenger takes both bonds.
job 2 && receipt 2 && $S -k worker.key claim receipt2 >/dev/null || fail "job 2 claimed"
J2=$(jobid 2)
fraud 2 >fraud2
fraud 2 receipt1 >fraud2.other
tfail "a fraud about another receipt refused" $S -k val.key challenge fraud2.other
grep -q "not the one the job was claimed with" .err && pass "says which receipt" || fail "says which receipt" "$(cat .err)"
tg "challenge" $S -v -k val.key challenge fraud2
S1=$($S -k r1.key sign-resolution "$J2" proven)
S3=$($S -k r3.key sign-resolution "$J2" proven)
SX=$($S -k val.key sign-resolution "$J2" proven)
tfail "a referee checks only the challenged fraud" $S -k r1.key sign-resolution "$J2" fraud2.other job2
grep -q "not the one the job was challenged with" .err && pass "says it is another fraud" || fail "says it is another fraud" "$(cat .err)"
tfail "a referee checks against the escrowed job" $S -k r1.key sign-resolution "$J2" fraud2 job1
grep -q "not the escrowed job" .err && pass "says it is another job" || fail "says it is another job" "$(cat .err)"
# The right documents reach the proof check (fraud_check.h): its verdict is
# signed, or it says why it could not check this hand-made fraud document.
if $S -k r1.key sign-resolution "$J2" fraud2 job2 >.out 2>.err; then
	grep -q "verdict: " .err && grep -qx "0x[0-9a-f]\{130\}" .out && pass "the check's verdict is signed" ||
		fail "the check's verdict is signed" "$(cat .out .err)"
else
	grep -q "^dai-settle: verdict: " .err && pass "the check says why it gives no verdict" ||
		fail "the check says why it gives no verdict" "$(cat .err)"
fi
tfail "one referee is not enough" $S -k val.key resolve "$J2" proven "$S1"
grep -q "too few referee signatures" .err && pass "says too few" || fail "says too few" "$(cat .err)"
tfail "a non-referee does not count" $S -k val.key resolve "$J2" proven "$S1" "$SX"
tfail "signatures of the other outcome refused" $S -k worker.key resolve "$J2" failed "$S1" "$S3"
tg "resolve proven" $S -v -k val.key resolve "$J2" proven "$S3" "$S1"
$S balance "$A_val" >.out
grep -q " credit 1500$" .out && pass "challenger takes both bonds" || fail "challenger takes both bonds" "$(cat .out)"
$S balance "$A_buyer" >.out
grep -q " credit 74600000000$" .out && pass "buyer refunded" || fail "buyer refunded" "$(cat .out)"

# A failed challenge: the worker is paid and takes the challenger's bond.
job 3 && receipt 3 && $S -k worker.key claim receipt3 >/dev/null || fail "job 3 claimed"
J3=$(jobid 3)
fraud 3 >fraud3
$S -k val.key challenge fraud3 >/dev/null || fail "challenge 3"
S1=$($S -k r1.key sign-resolution "$J3" failed)
S2=$($S -k r2.key sign-resolution "$J3" failed)
t "resolve failed" $S -k worker.key resolve "$J3" failed "$S1" "$S2"
$S balance "$A_worker" >.out
grep -q " credit 10800002500$" .out && pass "worker paid with the challenger's bond" || fail "worker paid with the challenger's bond" "$(cat .out)"

tg "withdraw" $S -v -k worker.key withdraw
$S balance "$A_worker" >.out
grep -q " credit 0$" .out && pass "credit withdrawn" || fail "credit withdrawn" "$(cat .out)"
tfail "nothing left to withdraw" $S -k worker.key withdraw
t "log" $S log
cp .out log.txt
grep -c " Escrowed job=b2:" .out | grep -qx 3 && pass "log: three escrows" || fail "log: three escrows" "$(cat .out)"
grep -q " Claimed job=$J1 receipt=b2:[0-9a-f]* tokens-in=7 tokens-out=20 price=5400000000$" .out && pass "log: the claim" || fail "log: the claim" "$(cat .out)"
grep -q " Resolved job=$J2 fraud-proven=yes$" .out && pass "log: the proven challenge" || fail "log: the proven challenge" "$(cat .out)"
grep -q " Resolved job=$J3 fraud-proven=no$" .out && pass "log: the failed challenge" || fail "log: the failed challenge"
grep -q " Withdrawn account=$A_worker amount=10800002500$" .out && pass "log: the withdrawal" || fail "log: the withdrawal" "$(cat .out)"
tfail "no chain options without --chain" dai-settle --contract "$C" balance
tfail "bad job id" $S job b2:xyz
tfail "unreachable node" dai-settle --chain http://127.0.0.1:1 balance "$A_op"
t "address and bind need no node" dai-settle --chain http://127.0.0.1:1 address -k op.key
[ "$(cat .out)" = "$A_op" ] && pass "the same address offline" || fail "the same address offline" "$(cat .out)"
# gas per step, for the record (DAI_GAS_LOG names a file to copy it to)
[ -n "${DAI_GAS_LOG:-}" ] && cp gas.log "$DAI_GAS_LOG"
exit 0
