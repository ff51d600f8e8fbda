# dai-settle: a whole market round on a ledger file, every rule broken once
# from the command line, torn tails and repair, money conserved.
. "$(dirname "$0")/lib.sh"
export DAI_LEDGER="$TMPDIR/market/ledger" DAI_NOW=2026-01-01T00:00:00Z
M=b2:0000000000000000000000000000000000000000000000000000000000000007
for k in op buyer worker val; do dai-keygen -n -o $k >/dev/null 2>&1; done
W=$(dai-keygen -p worker.key)
B=$(dai-keygen -p buyer.key)

# conserved: balances + stakes + escrow = the genesis total (1160).
conserved() {
	dai-settle balance >bal.txt 2>&1 || return 1
	awk '$1 ~ /^did:/ { s += $2 + $3 } $1 == "escrowed" { s += $2 } $1 == "total" { t = $2 }
	     END { exit !(s == 1160 && t == 1160) }' bal.txt
}
# unchanged CMD...: CMD fails with a message and the ledger file is as before.
unchanged() {
	name=$1
	shift
	cp "$DAI_LEDGER" before
	if "$@" >.out 2>.err; then fail "$name" "expected failure"
	elif [ ! -s .err ]; then fail "$name" "no message"
	elif ! cmp -s before "$DAI_LEDGER"; then fail "$name" "ledger changed"
	else pass "$name"; fi
}

t "init" dai-settle init -k op.key --window 1h --bond 10 --alloc buyer.pub=1000 \
	--alloc worker.pub=100 --alloc "$(dai-keygen -p val.key)=60"
tfail "second init refused" dai-settle init -k op.key --window 1h --alloc buyer.pub=1
t "verify after init" dai-settle verify
grep -q '^ok 1 entries head b2:' .out && pass "verify prints the head" || fail "verify prints the head"
t "worker stakes" dai-settle stake -k worker.key 50
conserved && pass "conserved after stake" || fail "conserved after stake" "$(cat bal.txt)"

# The market round: offer | match | job | escrow.
dai-offer make -k worker.key -m $M --price 200 --stake 50 >offer
if dai-offer match -m $M <offer | dai-offer job -k buyer.key -p "two words" -n 20 --max-price 40 \
	| dai-settle escrow -k buyer.key >escrowed 2>.err; then pass "offer | match | job | escrow"
else fail "offer | match | job | escrow" "$(cat .err)"; fi
grep -c '^dai-' escrowed | grep -qx 2 && pass "escrow passes offer and job through" \
	|| fail "escrow passes offer and job through"
dai-settle balance buyer.pub >.out
[ "$(cut -d' ' -f2 .out)" = 960 ] && pass "escrow locks the max-price" || fail "escrow locks the max-price" "$(cat .out)"
conserved && pass "conserved after escrow" || fail "conserved after escrow" "$(cat bal.txt)"
unchanged "same job twice refused" dai-settle escrow -k buyer.key escrowed
unchanged "escrow by another key refused" dai-settle escrow -k val.key escrowed

# A receipt written by hand and signed by the worker.
JOB=$(awk '/^dai-job/{j=1} j' escrowed | dai-keygen -V | awk '{print $2}')
cat >receipt.txt <<EOR
dai-receipt 1
job $JOB
model $M
worker $W
buyer $B
tokens-in 7
tokens-out 20
seed 0
temp-milli 0
top-k 0
top-p-milli 1000
trace-root $M
trace-leaves 1
time 2026-01-01T00:00:00Z
sig -
EOR
dai-keygen -S -k worker.key receipt.txt >receipt 2>.err || fail "sign receipt" "$(cat .err)"
dai-keygen -S -k val.key receipt.txt >receipt.val 2>/dev/null
unchanged "claim by a key not the worker refused" dai-settle claim -k val.key receipt
unchanged "claim with another's signature refused" dai-settle claim -k worker.key receipt.val
sed "s/^model .*/model b2:$(printf '%064d' 9)/" receipt.txt | dai-keygen -S -k worker.key >receipt.model
unchanged "claim for another model refused" dai-settle claim -k worker.key receipt.model
export DAI_NOW=2026-01-01T00:10:00Z
t "claim" dai-settle claim -k worker.key receipt
cmp -s .out receipt && pass "claim passes the receipt through" || fail "claim passes the receipt through"
unchanged "double claim refused" dai-settle claim -k worker.key receipt
unchanged "unstake during the window refused" dai-settle unstake -k worker.key 50
RID=$(dai-keygen -V receipt | awk '{print $2}')
printf 'dai-fraud 1\njob %s\nreceipt %s\nmodel %s\nworker %s\nkind replay\nreceipt-doc %s\njob-doc %s\ntime 2026-01-01T00:00:00Z\nsig -\n' \
	"$JOB" "$RID" "$M" "$W" "$(base64 -w0 receipt)" "$(awk '/^dai-job/{j=1} j' escrowed | base64 -w0)" |
	dai-keygen -S -k val.key >fraud
unchanged "challenge without the model's pack refused" dai-settle challenge -k val.key fraud
grep -q "is not in DAI_PACKS or the pack cache" .err && pass "challenge says why" \
	|| fail "challenge says why" "$(cat .err)"

# The window: 1h from the claim at 00:10.
export DAI_NOW=2026-01-01T01:09:59Z
t "finalize --all before the window" dai-settle finalize -k val.key --all
grep -qx 'finalized 0' .out && pass "nothing paid inside the window" || fail "nothing paid inside the window" "$(cat .out)"
unchanged "finalize inside the window refused" dai-settle finalize -k val.key receipt
export DAI_NOW=2026-01-01T01:10:00Z
cp "$DAI_LEDGER" saved
cat escrowed receipt >both
t "finalize a job and its receipt once" dai-settle finalize -k val.key both
cmp -s .out both && pass "finalize passes the stream through" || fail "finalize passes the stream through"
[ "$(dai-settle log | grep -c ' finalize ')" = 1 ] && pass "one finalize entry" || fail "one finalize entry"
cp saved "$DAI_LEDGER"
t "finalize --all after the window" dai-settle finalize -k val.key --all
grep -qx 'finalized 1' .out && pass "one claim paid" || fail "one claim paid" "$(cat .out)"
# 200 per 1000 tokens x 27 tokens = 5.4 -> 6; the buyer gets 40 - 6 back.
dai-settle balance worker.pub >.out
[ "$(cut -d' ' -f2-4 .out)" = "56 50 1" ] && pass "worker paid 6" || fail "worker paid 6" "$(cat .out)"
dai-settle balance buyer.pub >.out
[ "$(cut -d' ' -f2 .out)" = 994 ] && pass "buyer refunded 34" || fail "buyer refunded 34" "$(cat .out)"
conserved && pass "conserved after finalize" || fail "conserved after finalize" "$(cat bal.txt)"

# A job never claimed: the buyer takes the escrow back once the job's
# expiry plus one window has passed.
dai-offer job -k buyer.key -p "late" -n 4 --max-price 30 --expires 1m offer >job2 2>.err \
	|| fail "second job" "$(cat .err)"
t "escrow a job that is never claimed" dai-settle escrow -k buyer.key job2
export DAI_NOW=2026-01-01T02:10:59Z
unchanged "withdraw before expiry + window refused" dai-settle withdraw -k buyer.key job2
export DAI_NOW=2026-01-01T02:11:00Z
unchanged "withdraw by another key refused" dai-settle withdraw -k val.key job2
t "withdraw" dai-settle withdraw -k buyer.key job2
dai-settle balance buyer.pub >.out
[ "$(cut -d' ' -f2 .out)" = 994 ] && pass "withdraw refunds all" || fail "withdraw refunds all" "$(cat .out)"

# Other rules.
unchanged "overdraft refused" dai-settle transfer -k buyer.key worker.pub 995
t "transfer" dai-settle transfer -k buyer.key worker.pub 994
unchanged "nothing left to send" dai-settle transfer -k buyer.key worker.pub 1
t "unstake after the window" dai-settle unstake -k worker.key 50
conserved && pass "conserved at the end" || fail "conserved at the end" "$(cat bal.txt)"
t "log" dai-settle log
[ "$(wc -l <.out)" = 9 ] && pass "log has one line per entry" || fail "log has one line per entry" "$(cat .out)"
grep -q ' finalize .* paid=6 refund=34' .out && pass "log shows the payment" || fail "log shows the payment"

# A torn tail: appends refused until repair cuts it; never silent.
t "verify intact" dai-settle verify
cp "$DAI_LEDGER" good
head -c -20 good >"$DAI_LEDGER"
tfail "verify finds the torn tail" dai-settle verify
grep -q "incomplete entry" .err && pass "verify names the damage" || fail "verify names the damage" "$(cat .err)"
unchanged "append to a damaged ledger refused" dai-settle stake -k worker.key 1
t "repair" dai-settle repair
grep -q "cut .* bytes" .err && pass "repair says what it cut" || fail "repair says what it cut"
t "verify after repair" dai-settle verify
grep -q '^ok 8 entries' .out && pass "repair kept every whole entry" || fail "repair kept every whole entry" "$(cat .out)"
t "append after repair" dai-settle stake -k worker.key 1

# A corrupted middle entry.
sed 's/^amount 50$/amount 51/' good >"$DAI_LEDGER"
tfail "verify finds a corrupted middle entry" dai-settle verify
grep -q "line 1[0-9]" .err && pass "verify names the line" || fail "verify names the line" "$(cat .err)"

# Usage.
if dai-settle frobnicate >/dev/null 2>&1; then fail "unknown command"; else [ $? = 2 ] && pass "unknown command exits 2" || fail "unknown command exits 2"; fi
if dai-settle transfer -k buyer.key worker.pub 1x >/dev/null 2>&1; then fail "bad amount"; else [ $? = 2 ] && pass "bad amount exits 2" || fail "bad amount exits 2"; fi
