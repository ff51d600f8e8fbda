#!/bin/sh
# make bench-prove: on the 110M benchmark models (made once by mkgguf in
# build/bench/, as make bench makes them), what proofs cost: generation with
# and without the trace, verification against generation, one-step checks
# against the full replay, trace bytes per token and fraud proof sizes.
# Times are process CPU time (THREADS=1 by default: the work itself, robust
# on a shared machine); PROVEBENCH_WALL=1 gives wall-clock time.
# Usage: tests/bench/provebench.sh BUILD_DIR   (holding mkgguf and provebench)
set -eu
B=$1
. "$(dirname "$0")/models.sh"
gen_m110 f32
gen_m110 q8_0
for m in m110-f32 m110-q8_0; do
	"$B/provebench" "$D/$m.gguf" "${THREADS:-1}" "${GEN_TOKENS:-128}"
done
