#!/bin/sh
# Runs each libFuzzer harness for SECONDS from its seed corpus
# (tests/fuzz/seeds/NAME/, copied so the committed seeds stay untouched).
# Usage: tests/fuzz/run.sh SECONDS FUZZER...
set -eu
secs=$1
shift
for f in "$@"; do
	name=$(basename "$f")
	corpus=build/fuzz/corpus-$name
	mkdir -p "$corpus"
	if [ -d "tests/fuzz/seeds/$name" ]; then cp -n tests/fuzz/seeds/$name/* "$corpus/" 2>/dev/null || true; fi
	echo "fuzz: $name for ${secs}s"
	"$f" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix=build/fuzz/"$name"- "$corpus" 2>&1 | tail -n 3
done
