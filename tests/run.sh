#!/bin/sh
# Runs the unit tests (one Criterion binary) and every CLI test script, then
# prints the closing line "N passed, N failed".
# Usage: tests/run.sh UNIT-BINARY|- BIN-DIR
unit=$1
bindir=$(cd "$2" && pwd)
passed=0
failed=0

if [ "$unit" != "-" ]; then
	out=$(mktemp)
	"$unit" -j2 2>&1 | tee "$out"
	rc=$?
	# [====] Synthesis: Tested: 12 | Passing: 12 | Failing: 0 | Crashing: 0
	syn=$(grep 'Synthesis:' "$out" | tail -n 1)
	rm -f "$out"
	if [ -z "$syn" ]; then
		echo "unit tests: no summary from $unit (exit $rc)"
		failed=$((failed + 1))
	else
		p=$(echo "$syn" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
		f=$(echo "$syn" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
		c=$(echo "$syn" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
		passed=$((passed + p))
		failed=$((failed + f + c))
	fi
fi

for t in tests/cli/t_*.sh; do
	[ -f "$t" ] || continue
	work=$(mktemp -d)
	log="$work/.log"
	PATH="$bindir:$PATH" DAI_MKGGUF="${DAI_MKGGUF:+$(cd "$(dirname "$DAI_MKGGUF")" && pwd)/$(basename "$DAI_MKGGUF")}" DAI_TESTDATA="$(pwd)/tests/data" TMPDIR="$work" HOME="$work" \
		DAI_PASSPHRASE= sh "$t" >"$log" 2>&1 </dev/null
	rc=$?
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $t exited $rc" >>"$log"
	fi
	if [ "$f" -ne 0 ]; then
		echo "--- $t"
		cat "$log"
	else
		echo "$t: $p passed"
		grep '^# skip' "$log"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	rm -rf "$work"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
