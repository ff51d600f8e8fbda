# dai-offer: making, listing and matching offers (expired, badly signed,
# unfunded and too dear ones dropped; cheapest and best record first), and
# the buyer's job.
. "$(dirname "$0")/lib.sh"
export DAI_LEDGER="$TMPDIR/ledger" DAI_NOW=2026-01-01T00:00:00Z
M=b2:0000000000000000000000000000000000000000000000000000000000000007
M2=b2:0000000000000000000000000000000000000000000000000000000000000008
for k in op buyer w1 w2 w3; do dai-keygen -n -o $k >/dev/null 2>&1; done
dai-settle init -k op.key --window 1h --alloc buyer.pub=1000 --alloc w1.pub=100 \
	--alloc w2.pub=100 --alloc w3.pub=100 >/dev/null
dai-settle stake -k w1.key 20 >/dev/null
dai-settle stake -k w2.key 20 >/dev/null

t "make" dai-offer make -k w1.key -m $M -m $M2 --price 30 --stake 20 --max-tokens 64
cp .out o1
dai-keygen -V o1 >.v && pass "offer is signed" || fail "offer is signed"
grep -qx "worker $(dai-keygen -p w1.key)" o1 && pass "offer names its worker" || fail "offer names its worker"
[ "$(grep -c '^model ' o1)" = 2 ] && pass "offer lists both models" || fail "offer lists both models"
grep -qx 'expires 2026-01-02T00:00:00Z' o1 && pass "default expiry one day" || fail "default expiry one day"
dai-offer make -k w2.key -m $M --price 20 --stake 20 >o2
dai-offer make -k w3.key -m $M --price 10 --stake 20 >o3_unfunded
dai-offer make -k w2.key -m $M --price 5 --stake 20 --expires 1m >o4_expiring
sed 's/^price 5$/price 4/' o4_expiring >o5_tampered
tfail "make without a price" dai-offer make -k w1.key -m $M
tfail "make with a bad pack id" dai-offer make -k w1.key -m nope --price 1

cat o1 o2 o3_unfunded o4_expiring o5_tampered >all
t "ls" dai-offer ls all
[ "$(grep -c '^b2:' .out)" = 5 ] && pass "ls lists every offer" || fail "ls lists every offer" "$(cat .out)"
grep -q 'BAD-SIG' .out && pass "ls flags the bad signature" || fail "ls flags the bad signature"

export DAI_NOW=2026-01-01T00:02:00Z
t "match" dai-offer match -m $M all
cmp -s .out o2 && pass "match picks the cheapest valid funded offer" || fail "match picks the cheapest valid funded offer" "$(head -3 .out)"
grep -q expired .err && grep -q unfunded .err && grep -q signature .err \
	&& pass "match says what it dropped" || fail "match says what it dropped" "$(cat .err)"
cat o1 o2 >o12
t "match with a price cap" dai-offer match -m $M --max-price 25 o12
cmp -s .out o2 && pass "cap keeps the cheaper" || fail "cap keeps the cheaper"
tfail "nothing under the cap" dai-offer match -m $M --max-price 15 o12
grep -q "no valid, funded offer" .err && pass "says nothing is left" || fail "says nothing is left" "$(cat .err)"
t "match the second model" dai-offer match -m $M2 all
cmp -s .out o1 && pass "only w1 offers M2" || fail "only w1 offers M2"
tfail "match for a model nobody offers" dai-offer match -m b2:0000000000000000000000000000000000000000000000000000000000000009 all

# Ranking by record: two offers at one price, the worker with a finalized
# job first, whatever the input order.
dai-offer make -k w1.key -m $M --price 20 --stake 20 >o1b
cat o1b o2 >tie
t "tie without records" dai-offer match -m $M tie
cp .out tie_first
cat o2 o1b >tie2
dai-offer match -m $M tie2 >.out2 2>/dev/null
cmp -s .out2 tie_first && pass "tie broken the same in any order" || fail "tie broken the same in any order"

# The job.
t "job" dai-offer job -k buyer.key -m $M -p "hello" -n 16 -s 42 --temp 0.8 --top-k 40 --top-p 0.95 o2
cp .out job
grep -c '^dai-' job | grep -qx 2 && pass "job prints the offer then the job" || fail "job prints the offer then the job"
for kv in "temp-milli 800" "top-k 40" "top-p-milli 950" "seed 42" "max-tokens 16" "price 20" \
	"prompt aGVsbG8=" "expires 2026-01-01T01:02:00Z" "buyer $(dai-keygen -p buyer.key)" \
	"worker $(dai-keygen -p w2.key)" "model $M"; do
	grep -qx "$kv" job && pass "job has $kv" || fail "job has $kv" "$(cat job)"
done
# 20 per 1000 x (5 prompt bytes + 16 slack + 16) = 0.74 -> 1
grep -qx 'max-price 1' job && pass "job derives its max price" || fail "job derives its max price"
dai-offer job -k buyer.key -m $M -p "hello" o2 >job2 2>/dev/null
[ "$(grep '^nonce' job)" != "$(grep '^nonce' job2)" ] && pass "fresh nonce per job" || fail "fresh nonce per job"
t "job with one model needs no -m" dai-offer job -k buyer.key -p hi o2
for kv in "temp-milli 800" "top-k 40" "top-p-milli 950"; do
	grep -qx "$kv" .out && pass "default $kv as dai-infer" || fail "default $kv as dai-infer"
done
s1=$(grep '^seed ' .out)
dai-offer job -k buyer.key -p hi o2 | grep '^seed ' >seed2
[ "$s1" != "$(cat seed2)" ] && pass "a random seed by default" || fail "a random seed by default"
tfail "seed of 2^63 refused" dai-offer job -k buyer.key -p hi -s 9223372036854775808 o2
tfail "job with two models needs -m" dai-offer job -k buyer.key -p hi o1
tfail "job from several offers" dai-offer job -k buyer.key -p hi all
tfail "job over the offer's max tokens" dai-offer job -k buyer.key -m $M -p hi -n 65 o1
tfail "temp with four decimals" dai-offer job -k buyer.key -p hi --temp 0.8125 o2
tfail "top-p over 1" dai-offer job -k buyer.key -p hi --top-p 1.5 o2
tfail "job on an expired offer" dai-offer job -k buyer.key -p hi o4_expiring
printf 'file prompt' >prompt.txt
t "job from a file" dai-offer job -k buyer.key -f prompt.txt o2
grep -qx 'prompt ZmlsZSBwcm9tcHQ=' .out && pass "file prompt encoded" || fail "file prompt encoded"
tfail "job with both -p and -f" dai-offer job -k buyer.key -p x -f prompt.txt o2
