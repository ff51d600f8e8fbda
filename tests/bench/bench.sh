#!/bin/sh
# make bench: generates the benchmark models with mkgguf (once, in
# build/bench/) and prints a table of prompt processing (128 tokens) and
# generation (64 tokens) speed at 1 and 2 threads, replay speed, time to
# first token, decode bandwidth against the measured read bandwidth, and
# peak RSS, and (for runs on a loaded machine) tokens per CPU second, which
# at one thread estimate the speed of an idle machine. With LLAMA_BENCH naming a llama-bench binary, runs it on the
# same files and prints our/llama.cpp ratios.
# Usage: tests/bench/bench.sh BUILD_DIR   (holding mkgguf and modelbench)
set -eu
B=$1
D=build/bench
mkdir -p "$D"

gen() { # name, mkgguf arguments...
	f=$D/$1.gguf
	shift
	[ -f "$f" ] || "$B/mkgguf" "$@" --seed 1 "$f"
}
gen m110-f32 --dim 768 --layers 12 --heads 12 --ffn 2048 --vocab 32000 --ctx 1024 --type f32
gen m110-q8_0 --dim 768 --layers 12 --heads 12 --ffn 2048 --vocab 32000 --ctx 1024 --type q8_0
gen m110-q4_0 --dim 768 --layers 12 --heads 12 --ffn 2048 --vocab 32000 --ctx 1024 --type q4_0
gen m110-q4_k --dim 768 --layers 12 --heads 12 --ffn 2048 --vocab 32000 --ctx 1024 --type q4_k
gen tinyllama-q8_0 --dim 2048 --layers 22 --heads 32 --kv-heads 4 --ffn 5632 --vocab 32000 \
	--ctx 2048 --type q8_0

field() { # line, key
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

llama() { # file, threads -> "pp tg" tok/s from llama-bench
	"$LLAMA_BENCH" -m "$1" -p 128 -n 64 -t "$2" -o csv 2>/dev/null | awk -F, '
		NR == 1 { for (i = 1; i <= NF; i++) { gsub(/"/, "", $i); col[$i] = i } next }
		{ gsub(/"/, "") ; if ($col["n_prompt"] > 0) pp = $col["avg_ts"]; else tg = $col["avg_ts"] }
		END { print pp, tg }'
}

uptime
printf '%-16s %3s %9s %9s %9s %7s %8s %15s %8s %8s %10s %10s\n' model thr 'pp t/s' 'tg t/s' \
	'replay' 'ttft' 'tg GB/s' 'of read GB/s' 'RSS MiB' 'file' 'pp t/cpu-s' 'tg t/cpu-s'
for m in m110-f32 m110-q8_0 m110-q4_0 m110-q4_k tinyllama-q8_0; do
	for t in 1 2; do
		l=$("$B/modelbench" "$D/$m.gguf" "$t" 128 64)
		printf '%-16s %3s %9s %9s %8sx %5sms %8s %7s of %5s %8s %8s %10s %10s\n' "$m" "$t" \
			"$(field "$l" prompt_tps)" "$(field "$l" gen_tps)" \
			"$(field "$l" replay_speedup)" "$(field "$l" ttft_ms)" \
			"$(field "$l" decode_gbs)" "$(field "$l" roofline)" \
			"$(field "$l" read_gbs)" "$(field "$l" rss_mib)" "$(field "$l" file_mib)" \
			"$(field "$l" prompt_tpcs)" "$(field "$l" gen_tpcs)"
		if [ -n "${LLAMA_BENCH:-}" ]; then
			set -- $(llama "$D/$m.gguf" "$t")
			awk -v pp="$(field "$l" prompt_tps)" -v tg="$(field "$l" gen_tps)" \
				-v lpp="${1:-0}" -v ltg="${2:-0}" 'BEGIN {
				printf "%-20s llama.cpp pp %.1f tg %.2f; ours/llama.cpp pp %.2fx tg %.2fx\n",
					"", lpp, ltg, lpp ? pp / lpp : 0, ltg ? tg / ltg : 0 }'
		fi
	done
done
