# dai-settle under stress: two writers appending at once lose nothing, and
# writers killed with SIGKILL at random moments never leave a ledger that
# verify rejects after repair, nor lose an acknowledged entry.
. "$(dirname "$0")/lib.sh"
export DAI_LEDGER="$TMPDIR/ledger" DAI_NOW=2026-01-01T00:00:00Z
N=${DAI_STRESS_N:-500}
KILLS=${DAI_STRESS_KILLS:-100}
for k in op a b c; do dai-keygen -n -o $k >/dev/null 2>&1; done
dai-settle init -k op.key --window 1h --alloc a.pub=100000 --alloc b.pub=100000 >/dev/null

# Two writers, N appends each, at the same time.
writer() {
	i=0
	while [ $i -lt $N ]; do
		dai-settle transfer -k $1.key c.pub 1 >>acked.$1 2>>err.$1 || echo "failed $i" >>err.$1
		i=$((i + 1))
	done
}
writer a &
pa=$!
writer b &
pb=$!
wait $pa $pb
[ ! -s err.a ] && [ ! -s err.b ] && pass "$N + $N concurrent appends succeed" \
	|| fail "$N + $N concurrent appends succeed" "$(head -3 err.a err.b)"
t "verify after concurrent appends" dai-settle verify
grep -q "^ok $((2 * N + 1)) entries" .out && pass "no append lost" || fail "no append lost" "$(cat .out)"
dai-settle balance c.pub >.out
[ "$(cut -d' ' -f2 .out)" = $((2 * N)) ] && pass "every transfer counted" || fail "every transfer counted" "$(cat .out)"

# Killed writers: each kill lands somewhere between start and fsync.
i=0
bad=0
repairs=0
: >acked
while [ $i -lt $KILLS ]; do
	d=$(awk -v s=$i 'BEGIN { srand(s); printf "%.3f", rand() * 0.03 }')
	if timeout -s KILL "$d" dai-settle transfer -k a.key c.pub 1 >id 2>/dev/null; then
		cat id >>acked
	fi
	if ! dai-settle verify >/dev/null 2>&1; then
		dai-settle repair >/dev/null 2>&1
		repairs=$((repairs + 1))
		if ! dai-settle verify >/dev/null 2>.verr; then
			bad=$((bad + 1))
			[ -s first_bad ] || { cat .verr; dai-settle repair 2>&1; } >first_bad
		fi
	fi
	i=$((i + 1))
done
[ $bad = 0 ] && pass "$KILLS kills: verify passes after repair ($repairs repaired)" || fail "$KILLS kills: verify passes after repair" "$bad bad ($repairs repairs); the first: $(cat first_bad)"
dai-settle log | awk '{ print $4 }' >ids
lost=0
while read -r id; do grep -qx "$id" ids || lost=$((lost + 1)); done <acked
[ $lost = 0 ] && pass "no acknowledged entry lost ($(wc -l <acked) acknowledged)" \
	|| fail "no acknowledged entry lost" "$lost lost"
dai-settle balance >bal
awk '$1 ~ /^did:/ { s += $2 + $3 } $1 == "total" { t = $2 } END { exit !(s == 200000 && t == 200000) }' bal \
	&& pass "money conserved" || fail "money conserved" "$(cat bal)"
