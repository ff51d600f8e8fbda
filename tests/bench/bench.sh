#!/bin/sh
# bench.sh - the `make bench` driver: speed of dai's inference on generated
# Llama models, against the machine's read bandwidth and, when LLAMA_BENCH
# names a llama-bench binary, against llama.cpp on the same files.
#
# Usage: bench.sh [BUILD_DIR [BIN_DIR]]     (defaults build/rel, bin)
#
# For each model and thread count it measures prompt processing (PP tokens),
# generation (TG tokens after that prompt), time to first token, peak RSS,
# the decode bandwidth (weight bytes one step reads x generation tok/s) as a
# share of the read bandwidth membw measures with as many threads, and
# teacher-forced replay (the prompt and the generated ids given back as one
# prompt) against generation. Figures are the best of BENCH_REPS runs (peak RSS: the largest).
#
# The engine is dai-infer (BIN_DIR/dai-infer -v prints a stats line); while
# it is not built, modelbench (the same library, in-process) stands in, and
# without either only llama.cpp is measured. BENCH_ENGINE=dai-infer or
# modelbench picks one.
#
# Models are written by the project's generator (mkgguf) into BENCH_DIR and
# reused; one is made again when the generator is newer or its arguments
# changed.
#
# Environment (defaults from the directories above):
#   MKGGUF        model generator          DAI_INFER   the engine
#   MODELBENCH    in-process engine        MEMBW       bandwidth probe
#   MODELBYTES    GGUF byte counter        LLAMA_BENCH llama-bench binary (optional)
#   KERNBENCH     kernel benchmark (its batched Q8_0 table ends the report)
#   BENCH_DIR     model cache (build/bench)
#   BENCH_REPS    runs per figure (2)      BENCH_THREADS  thread counts ("1 2")
#   BENCH_MODELS  subset of: 110m-f32 110m-q8_0 110m-q4_0 110m-q4_k 1.1b-q8_0
set -u

B=${1:-build/rel}
BIN=${2:-bin}
MKGGUF=${MKGGUF:-$B/mkgguf}
DAI_INFER=${DAI_INFER:-$BIN/dai-infer}
MODELBENCH=${MODELBENCH:-$B/modelbench}
MEMBW=${MEMBW:-$B/membw}
MODELBYTES=${MODELBYTES:-$B/modelbytes}
KERNBENCH=${KERNBENCH:-$B/kernbench}
LLAMA_BENCH=${LLAMA_BENCH:-}
BENCH_ENGINE=${BENCH_ENGINE:-}
BENCH_DIR=${BENCH_DIR:-build/bench}
BENCH_REPS=${BENCH_REPS:-2}
BENCH_THREADS=${BENCH_THREADS:-1 2}
BENCH_MODELS=${BENCH_MODELS:-110m-f32 110m-q8_0 110m-q4_0 110m-q4_k 1.1b-q8_0}
PP=128
TG=64
SEED=1
VOCAB=32000 # every model below; the prompt ids stay under it

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
	say "$*"
	exit 1
}

case $BENCH_REPS in
'' | *[!0-9]* | 0) die "BENCH_REPS must be a positive integer, not '$BENCH_REPS'" ;;
esac
max_threads=0
for t in $BENCH_THREADS; do
	case $t in
	'' | *[!0-9]* | 0) die "BENCH_THREADS must list positive integers, not '$t'" ;;
	esac
	[ "$t" -gt "$max_threads" ] && max_threads=$t
done
[ "$max_threads" -gt 0 ] || die "BENCH_THREADS is empty"
for tool in "$MEMBW" "$MODELBYTES"; do
	[ -x "$tool" ] || die "$tool is missing (run it through 'make bench')"
done
mkdir -p "$BENCH_DIR" || die "cannot create $BENCH_DIR"
res=$BENCH_DIR/results.txt # one line per measurement, read back for the tables
: >"$res" || die "cannot write $res"
failed=0

# Generator arguments of a model name.
model_args() {
	case $1 in
	110m-f32) echo "--dim 768 --layers 12 --heads 12 --kv-heads 12 --ffn 2048 --vocab $VOCAB --ctx 1024 --type f32" ;;
	110m-q8_0) echo "--dim 768 --layers 12 --heads 12 --kv-heads 12 --ffn 2048 --vocab $VOCAB --ctx 1024 --type q8_0" ;;
	110m-q4_0) echo "--dim 768 --layers 12 --heads 12 --kv-heads 12 --ffn 2048 --vocab $VOCAB --ctx 1024 --type q4_0" ;;
	110m-q4_k) echo "--dim 768 --layers 12 --heads 12 --kv-heads 12 --ffn 2048 --vocab $VOCAB --ctx 1024 --type q4_k" ;;
	1.1b-q8_0) echo "--dim 2048 --layers 22 --heads 32 --kv-heads 4 --ffn 5632 --vocab $VOCAB --ctx 2048 --type q8_0" ;;
	*) return 1 ;;
	esac
}

# Makes (or reuses) BENCH_DIR/NAME.gguf; prints its path.
make_model() {
	name=$1
	out=$BENCH_DIR/$name.gguf
	args="$(model_args "$name") --seed $SEED"
	if [ -s "$out" ] && [ "$(cat "$out.args" 2>/dev/null)" = "$args" ] &&
		[ -z "$(find "$MKGGUF" -newer "$out" 2>/dev/null)" ]; then
		echo "$out"
		return 0
	fi
	if [ ! -x "$MKGGUF" ]; then
		say "no model generator at $MKGGUF (is tests/tools/mkgguf.c built?): skipping $name"
		return 1
	fi
	say "generating $out"
	rm -f "$out" "$out.args"
	# shellcheck disable=SC2086 # args is a list of options
	if ! "$MKGGUF" $args "$out.part" >&2; then
		rm -f "$out.part"
		say "$MKGGUF failed for $name"
		return 1
	fi
	mv "$out.part" "$out" && echo "$args" >"$out.args" && echo "$out"
}

# Writes N int32 little-endian token ids below VOCAB to FILE: BOS (1), then a
# fixed pseudo-random sequence (Park-Miller), the same on every machine.
write_ids() {
	n=$1 vocab=$2 file=$3
	fmt=$(awk -v n="$n" -v v="$vocab" 'BEGIN {
		x = 12345
		for (i = 0; i < n; i++) {
			if (i == 0)
				id = 1
			else {
				x = (x * 16807) % 2147483647
				id = 3 + x % (v - 3)
			}
			for (b = 0; b < 4; b++) {
				printf "\\%03o", id % 256
				id = int(id / 256)
			}
		}
	}')
	# shellcheck disable=SC2059 # the format is the data: octal escapes only
	printf "$fmt" >"$file.part" && mv "$file.part" "$file"
	[ "$(wc -c <"$file")" -eq $((n * 4)) ] || die "could not write $file"
}

# key=value lookup in a line of such pairs.
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }

# Larger or smaller of two decimal numbers (an empty one loses).
max() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "") print b; else if (b == "" || a + 0 >= b + 0) print a; else print b }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "") print b; else if (b == "" || a + 0 <= b + 0) print a; else print b }'; }

# Runs dai-infer once (seeded, so every run samples the same tokens), with
# any further options after the four; prints its stats line, or fails with a
# note.
dai_run() {
	model=$1 ids=$2 n=$3 t=$4
	shift 4
	err=$BENCH_DIR/dai-infer.err
	if ! "$DAI_INFER" -m "$model" --prompt-ids "$ids" -n "$n" -t "$t" -s "$SEED" -v "$@" \
		>/dev/null 2>"$err"; then
		say "dai-infer failed on $model (-n $n -t $t): $(tail -n 1 "$err")"
		return 1
	fi
	line=$(grep '^dai-infer: stats ' "$err" | tail -n 1)
	if [ -z "$line" ]; then
		say "dai-infer printed no stats line on $model (-n $n -t $t)"
		return 1
	fi
	printf '%s\n' "$line"
}

# Measures one model with the engine at thread count t; appends a 'dai' line.
bench_dai() {
	name=$1 model=$2 t=$3
	pp='' tg='' gtok='' ttft='' rss='' rp=''
	r=0
	while [ "$r" -lt "$BENCH_REPS" ]; do
		if [ "$engine" = modelbench ]; then
			# one run: prompt, greedy generation, replay of the whole sequence
			if ! s=$("$MODELBENCH" "$model" "$t" "$PP" "$TG" 2>"$BENCH_DIR/modelbench.err"); then
				say "modelbench failed on $model (-t $t): $(tail -n 1 "$BENCH_DIR/modelbench.err")"
				return 1
			fi
			pp=$(max "$pp" "$(field "$s" prompt_tps)")
			tg=$(max "$tg" "$(field "$s" gen_tps)")
			gtok=$TG
			ttft=$(min "$ttft" "$(awk -v ms="$(field "$s" ttft_ms)" 'BEGIN { print ms / 1000 }')")
			rss=$(max "$rss" "$(field "$s" rss_mib)")
			rp=$(max "$rp" "$(field "$s" replay_tps)")
		else
			s=$(dai_run "$model" "$BENCH_DIR/ids-$PP.bin" "$TG" "$t" \
				--ids "$BENCH_DIR/generated.bin") || return 1
			pp=$(max "$pp" "$(field "$s" prompt_tps)")
			tg=$(max "$tg" "$(field "$s" gen_tps)")
			gtok=$(min "$gtok" "$(field "$s" gen_tokens)")
			ttft=$(min "$ttft" "$(field "$s" ttft_s)")
			rss=$(max "$rss" "$(field "$s" peak_rss_mib)")
			# teacher-forced replay: prompt and generated ids as one prompt
			s=$(dai_run "$model" "$BENCH_DIR/generated.bin" 0 "$t") || return 1
			rp=$(max "$rp" "$(field "$s" prompt_tps)")
		fi
		r=$((r + 1))
	done
	for v in "$pp" "$tg" "$gtok" "$ttft" "$rss" "$rp"; do
		case $v in
		'' | *[!0-9.eE+-]*)
			say "$engine output not understood: $s"
			return 1
			;;
		esac
	done
	echo "dai $name $t $pp $tg $gtok $ttft $rss $rp" >>"$res"
}

# Runs llama-bench on a model at thread count t; appends a 'llama' line with
# the best repetition of the pp and tg tests.
bench_llama() {
	name=$1 model=$2 t=$3
	out=$BENCH_DIR/llama-bench.jsonl
	if ! "$LLAMA_BENCH" -m "$model" -p "$PP" -n "$TG" -t "$t" -r "$BENCH_REPS" -o jsonl \
		>"$out" 2>"$BENCH_DIR/llama-bench.err"; then
		say "llama-bench failed on $model: $(tail -n 1 "$BENCH_DIR/llama-bench.err")"
		return 1
	fi
	awk -v name="$name" -v pp="$PP" -v tg="$TG" '
	function num(key,   s) {
		if (!match($0, "\"" key "\": *[0-9.]+"))
			return ""
		s = substr($0, RSTART, RLENGTH)
		sub(/^[^:]*: */, "", s)
		return s
	}
	function best(   s, n, a, i, m) {
		if (!match($0, /"samples_ts": *\[[^]]*\]/))
			return num("avg_ts")
		s = substr($0, RSTART, RLENGTH)
		sub(/^[^[]*\[/, "", s)
		sub(/\]$/, "", s)
		n = split(s, a, ",")
		m = 0
		for (i = 1; i <= n; i++)
			if (a[i] + 0 > m)
				m = a[i] + 0
		return m
	}
	{
		t = num("n_threads")
		if (num("n_prompt") == pp && num("n_gen") == 0)
			p[t] = best()
		else if (num("n_prompt") == 0 && num("n_gen") == tg)
			g[t] = best()
		seen[t] = 1
	}
	END {
		for (t in seen)
			if (p[t] != "" && g[t] != "")
				print "llama", name, t, p[t], g[t]
	}' "$out" >>"$res"
}

# Other work on the machine skews every figure (multi-threaded runs most).
load=$(cut -d ' ' -f 1 /proc/loadavg 2>/dev/null)
if [ -n "$load" ] && awk -v l="$load" 'BEGIN { exit !(l >= 0.5) }'; then
	say "note: load average $load before starting; figures may be low"
fi

case $BENCH_ENGINE in
'')
	if [ -x "$DAI_INFER" ]; then
		engine=dai-infer
	elif [ -x "$MODELBENCH" ]; then
		engine=modelbench
		say "no $DAI_INFER yet: measuring the library with $MODELBENCH instead"
	else
		engine=
		say "neither $DAI_INFER nor $MODELBENCH is built: dai rows skipped"
	fi
	;;
dai-infer) engine=dai-infer tool=$DAI_INFER ;;
modelbench) engine=modelbench tool=$MODELBENCH ;;
*) die "BENCH_ENGINE must be dai-infer or modelbench, not '$BENCH_ENGINE'" ;;
esac
if [ -n "$BENCH_ENGINE" ] && [ ! -x "$tool" ]; then
	die "BENCH_ENGINE=$BENCH_ENGINE but $tool is not built"
fi
have_dai=0
[ -n "$engine" ] && have_dai=1
if [ -n "$LLAMA_BENCH" ] && [ ! -x "$LLAMA_BENCH" ]; then
	die "LLAMA_BENCH=$LLAMA_BENCH is not an executable"
fi
[ -n "$LLAMA_BENCH" ] || say "LLAMA_BENCH not set: no llama.cpp comparison"
[ "$have_dai" = 1 ] || [ -n "$LLAMA_BENCH" ] || die "nothing to measure"

# Read bandwidth: measured before each model, the best figure per thread
# count kept, so that a moment of other work does not set the roofline low.
bw=
measure_bw() {
	say "measuring read bandwidth (1..$max_threads threads)"
	now=$("$MEMBW" -t "$max_threads") || die "membw failed"
	echo "$now" >&2
	bw=$(printf '%s\n%s\n' "$bw" "$now" | awk '
		{ for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[2] + 0 > best[kv[1]] + 0) best[kv[1]] = kv[2] } }
		END { line = "membw"; for (t = 1; ("read_gbps_t" t) in best; t++) line = line " read_gbps_t" t "=" best["read_gbps_t" t]; print line }')
}

write_ids "$PP" "$VOCAB" "$BENCH_DIR/ids-$PP.bin"

for name in $BENCH_MODELS; do
	model_args "$name" >/dev/null || die "unknown model '$name' in BENCH_MODELS"
	model=$(make_model "$name") || {
		failed=1
		continue
	}
	mb=$("$MODELBYTES" "$model") || die "modelbytes failed on $model"
	echo "bytes $name $(field "$mb" file_bytes) $(field "$mb" decode_bytes) $(field "$mb" kv_f32_bytes)" >>"$res"
	cat "$model" >/dev/null # into the page cache, so no run pays for the disk
	measure_bw
	# the two engines take turns, so that both see much the same machine
	for t in $BENCH_THREADS; do
		if [ "$have_dai" = 1 ]; then
			say "$engine $name -t $t"
			bench_dai "$name" "$model" "$t" || failed=1
		fi
		if [ -n "$LLAMA_BENCH" ]; then
			say "llama-bench $name -t $t"
			bench_llama "$name" "$model" "$t" || failed=1
		fi
	done
done
load_end=$(cut -d ' ' -f 1 /proc/loadavg 2>/dev/null)

# The tables.
awk -v bw="$bw" -v pp="$PP" -v tg="$TG" -v have_dai="$have_dai" \
	-v have_llama="$([ -n "$LLAMA_BENCH" ] && echo 1 || echo 0)" -v engine="$engine" \
	-v load="${load:-?} ${load_end:-?} $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo "?")" '
function val(line, key,   n, a, i) {
	n = split(line, a, " ")
	for (i = 1; i <= n; i++)
		if (index(a[i], key "=") == 1)
			return substr(a[i], length(key) + 2)
	return ""
}
function roof(bytes, tps, t,   g) {
	g = val(bw, "read_gbps_t" t)
	return g > 0 ? sprintf("%.0f%%", 100 * bytes * tps / 1e9 / g) : "-"
}
$1 == "bytes" { file[$2] = $3; dec[$2] = $4; kv[$2] = $5; order[++nm] = $2 }
$1 == "dai"   { k = $2 " " $3; d_pp[k] = $4; d_tg[k] = $5; d_gt[k] = $6; d_ttft[k] = $7
                d_rss[k] = $8; d_rp[k] = $9; thr[$3] = 1 }
$1 == "llama" { k = $2 " " $3; l_pp[k] = $4; l_tg[k] = $5; thr[$3] = 1 }
END {
	split(load, la, " ")
	printf "\nload average (1 min): %s at the start, %s at the end, on %s cores\n", la[1], la[2], la[3]
	printf "(when other work competes, the figures come out low, multi-threaded ones most)\n"
	printf "read bandwidth (membw, best before each model, GB/s):"
	for (t = 1; val(bw, "read_gbps_t" t) != ""; t++)
		printf " %s at %d thread%s;", val(bw, "read_gbps_t" t), t, (t > 1 ? "s" : "")
	printf "\ndecode bytes = weights one generation step reads (the whole model but one\n"
	printf "embedding row); roofline = decode bytes x tok/s / read bandwidth at that thread count\n"
	if (have_dai) {
		printf "\ndai: %s (best of runs)\n", engine
		printf "%-10s %8s %3s %9s %8s %8s %8s %8s %8s %10s %7s\n", "model", "file MiB", "thr",
		       "pp" pp " t/s", "tg" tg " t/s", "roofline", "ttft ms", "rss MiB", "rss max",
		       "replay t/s", "rp/tg"
		for (i = 1; i <= nm; i++)
			for (t = 1; t <= 256; t++) {
				m = order[i]; k = m " " t
				if (!(k in d_tg))
					continue
				lim = (file[m] + kv[m]) / 1048576 + 64
				printf "%-10s %8.1f %3d %9.1f %7.2f%s %8s %8.1f %8.0f %7.0f%s %10.1f %6.1fx\n",
				       m, file[m] / 1048576, t, d_pp[k], d_tg[k], (d_gt[k] < tg ? "*" : " "),
				       roof(dec[m], d_tg[k], t), d_ttft[k] * 1000, d_rss[k], lim,
				       (d_rss[k] > lim ? "!" : " "), d_rp[k], d_rp[k] / d_tg[k]
			}
		printf "rss max = file + float32 KV cache for the whole context + 64 MiB (! = above it)\n"
		printf "replay = prompt and generated ids evaluated again as one prompt (teacher-forced);\n"
		printf "rp/tg = replay t/s / tg t/s\n"
		printf "* = generation stopped early (end of text) in at least one run\n"
	}
	if (have_llama) {
		printf "\nllama-bench (best of repetitions)%s\n", (have_dai ? " and dai/llama.cpp ratios" : "")
		printf "%-10s %3s %9s %8s %8s", "model", "thr", "pp" pp " t/s", "tg" tg " t/s", "roofline"
		if (have_dai)
			printf " %8s %8s", "pp ratio", "tg ratio"
		printf "\n"
		for (i = 1; i <= nm; i++)
			for (t = 1; t <= 256; t++) {
				m = order[i]; k = m " " t
				if (!(k in l_tg))
					continue
				printf "%-10s %3d %9.1f %8.2f %8s", m, t, l_pp[k], l_tg[k],
				       roof(dec[m], l_tg[k], t)
				if (have_dai && (k in d_tg))
					printf " %7.2fx %7.2fx", d_pp[k] / l_pp[k], d_tg[k] / l_tg[k]
				printf "\n"
			}
		if (have_dai)
			printf "targets: pp ratio >= 0.8, tg ratio >= 1.0, rp/tg >= 5\n"
	}
}' "$res"

# The batched Q8_0 matrix products of a 110M replay, per kernel table.
if [ -x "$KERNBENCH" ]; then
	for t in $BENCH_THREADS; do
		printf '\n'
		"$KERNBENCH" q8 "$t" || {
			say "kernbench q8 failed at $t thread(s)"
			failed=1
		}
	done
fi

# The batched products of the block types (Q4_K, Q6_K, Q4_0, ...) of a
# 110M replay, one thread.
KQUANTBENCH=${KQUANTBENCH:-$B/kquantbench}
if [ -x "$KQUANTBENCH" ]; then
	printf '\n'
	"$KQUANTBENCH" gemm || {
		say "kquantbench gemm failed"
		failed=1
	}
fi

[ "$failed" = 0 ] || die "some measurements failed (see the notes above)"
