#!/bin/sh
# Runs each libFuzzer harness for SECONDS from its seed corpus
# (tests/fuzz/seeds/NAME/, copied so the committed seeds stay untouched).
# Usage: tests/fuzz/run.sh SECONDS FUZZER...
set -eu
secs=$1
shift
failed=0
for f in "$@"; do
	name=$(basename "$f")
	corpus=build/fuzz/corpus-$name
	mkdir -p "$corpus"
	if [ -d "tests/fuzz/seeds/$name" ]; then cp -n tests/fuzz/seeds/$name/* "$corpus/" 2>/dev/null || true; fi
	echo "fuzz: $name for ${secs}s"
	log=build/fuzz/$name.log
	rc=0
	"$f" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix=build/fuzz/"$name"- "$corpus" \
		>"$log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		# a crash, a leak or a failed invariant: show it and fail
		tail -n 40 "$log"
		echo "fuzz: $name failed (exit $rc); the input is in build/fuzz/$name-*"
		failed=$((failed + 1))
	else
		tail -n 3 "$log"
	fi
done
[ "$failed" -eq 0 ]
