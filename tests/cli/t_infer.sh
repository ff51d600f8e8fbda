# t_infer.sh - dai-infer: llama.cpp's greedy tokens, bitwise determinism
# across threads, batch splits, kernel tables and replay; bad input.
. "$(dirname "$0")/lib.sh"

P="Once upon a time, there was a cat."

# same NAME A B: the case passes when files A and B are byte-identical.
same() {
	if cmp -s "$2" "$3"; then pass "$1"; else fail "$1" "$2 and $3 differ"; fi
}

# Tokenizer and greedy generation end to end: llama.cpp's ids for the
# reference prompt, then its 32 greedy tokens (F32 cases must match all).
for c in a_f32 b_f32; do
	t "$c greedy from text" dai-infer -m "$DATA/$c.gguf" -p "$P" -n 32 --temp 0 -t 2 --ids $c.ids
	same "$c prompt and greedy ids are llama.cpp's" $c.ids "$DATA/$c.greedy.i32"
done
head -c 104 "$DATA/a_f32.greedy.i32" >prompt.i32
same "prompt tokenized as llama.cpp does" prompt.i32 "$DATA/a_f32.prompt.i32"

# Determinism, bit for bit, on every model type (sampled, not greedy, so the
# sampler is covered too).
for c in a_f32 a_f16 a_q8_0 b_q8_0; do
	M=$DATA/$c.gguf
	run() { dai-infer -m "$M" --prompt-ids prompt.i32 -n 20 -s 7 --temp 0.9 "$@"; }
	run -t 1 --ids $c.t1.ids --logits $c.t1.f32 >$c.t1.txt 2>/dev/null
	run -t 2 --ids $c.t2.ids --logits $c.t2.f32 >$c.t2.txt 2>/dev/null
	run -t 3 --logits $c.t3.f32 >/dev/null 2>&1
	same "$c logits 1 vs 2 threads" $c.t1.f32 $c.t2.f32
	same "$c logits 1 vs 3 threads" $c.t1.f32 $c.t3.f32
	same "$c ids 1 vs 2 threads" $c.t1.ids $c.t2.ids
	same "$c text 1 vs 2 threads" $c.t1.txt $c.t2.txt
	run --batch 1 --logits $c.b1.f32 >/dev/null 2>&1
	run --batch 7 --logits $c.b7.f32 >/dev/null 2>&1
	same "$c logits batch 1 vs whole prompt" $c.b1.f32 $c.t1.f32
	same "$c logits batch 7 vs whole prompt" $c.b7.f32 $c.t1.f32
	DAI_KERNELS=ref run --logits $c.ref.f32 >/dev/null 2>&1
	same "$c logits reference kernels vs SIMD" $c.ref.f32 $c.t1.f32
	# each SIMD table the CPU has, forced, in batches of 7 (a table it
	# lacks is a one-line error: the case is skipped, and says so)
	for k in avx2 avx512; do
		if DAI_KERNELS=$k run --batch 7 --logits $c.$k.f32 >/dev/null 2>$c.$k.err; then
			same "$c logits $k kernels vs reference" $c.$k.f32 $c.ref.f32
		elif grep -q "does not support" $c.$k.err; then
			pass "$c logits $k kernels # skip: $(head -n 1 $c.$k.err)"
		else
			fail "$c logits $k kernels" "$(head -n 1 $c.$k.err)"
		fi
	done
	# Teacher-forced replay of the generated sequence in one pass gives the
	# same logits for every position generation evaluated.
	dai-infer -m "$M" --prompt-ids $c.t1.ids -n 0 --logits $c.replay.f32 >/dev/null 2>&1
	n=$(wc -c <$c.t1.f32)
	if [ "$n" -gt 0 ] && cmp -s -n "$n" $c.t1.f32 $c.replay.f32; then
		pass "$c replay equals generation"
	else
		fail "$c replay equals generation"
	fi
done
run() { dai-infer -m "$DATA/a_f32.gguf" -p "$P" -n 16 "$@"; }
run -s 1 --ids s1.ids >/dev/null 2>&1
run -s 1 --ids s1b.ids >/dev/null 2>&1
run -s 2 --ids s2.ids >/dev/null 2>&1
same "same seed, same tokens" s1.ids s1b.ids
if cmp -s s1.ids s2.ids; then fail "another seed, other tokens"; else pass "another seed, other tokens"; fi
rows=$(($(wc -c <a_f32.t1.f32) / 2048))
if [ "$rows" -eq $((26 + 20 - 1)) ]; then pass "one logits row per evaluated position"; else fail "one logits row per evaluated position" "$rows rows"; fi

# Bad input: one line on stderr, exit 1 (2 for usage), no output file left.
tfail "missing model" dai-infer -m nonexistent.gguf -p x
printf 'GGUF\003\000\000\000' >trunc.gguf
tfail "truncated model" dai-infer -m trunc.gguf -p x
printf 'abc' >odd.i32
tfail "ids file of 3 bytes" dai-infer -m "$DATA/a_f32.gguf" --prompt-ids odd.i32
printf '\001\000\000\000\000\002\000\000' >big.i32
tfail "token id past the vocabulary" dai-infer -m "$DATA/a_f32.gguf" --prompt-ids big.i32
tfail "context overflow" dai-infer -m "$DATA/a_f32.gguf" -p "$P" -n 250 --logits never.f32
if [ -e never.f32 ]; then fail "no logits file after a failure"; else pass "no logits file after a failure"; fi
tfail "negative temperature" dai-infer -m "$DATA/a_f32.gguf" -p x --temp -1
dai-infer -m "$DATA/a_f32.gguf" >/dev/null 2>&1
if [ $? -eq 2 ]; then pass "no prompt is a usage error"; else fail "no prompt is a usage error"; fi
dai-infer -m "$DATA/a_f32.gguf" -p x -f y >/dev/null 2>&1
if [ $? -eq 2 ]; then pass "two prompts is a usage error"; else fail "two prompts is a usage error"; fi
t "-h prints usage" dai-infer -h
