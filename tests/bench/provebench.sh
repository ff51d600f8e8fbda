#!/bin/sh
# make bench-prove: on the 110M benchmark models (made once by mkgguf in
# build/bench/, as make bench makes them), what proofs cost: generation with
# and without the trace, verification against generation, one-step checks
# against the full replay, trace bytes per token and fraud proof sizes.
# Times are process CPU time (THREADS=1 by default: the work itself, robust
# on a shared machine); PROVEBENCH_WALL=1 gives wall-clock time.
# PROVE_MODELS picks among m110-f32 m110-q8_0 m110-q4_0 m110-q4_k (all by
# default).
# Usage: tests/bench/provebench.sh BUILD_DIR   (holding mkgguf and provebench)
set -eu
B=$1
D=build/bench
mkdir -p "$D"
gen() { # name, mkgguf arguments...
	f=$D/$1.gguf
	shift
	[ -f "$f" ] || "$B/mkgguf" "$@" --seed 1 "$f"
}
for m in ${PROVE_MODELS:-m110-f32 m110-q8_0 m110-q4_0 m110-q4_k}; do
	gen "$m" --dim 768 --layers 12 --heads 12 --ffn 2048 --vocab 32000 --ctx 1024 \
		--type "${m#m110-}"
	"$B/provebench" "$D/$m.gguf" "${THREADS:-1}" "${GEN_TOKENS:-128}"
done
