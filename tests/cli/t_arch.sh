# t_arch.sh - dai-infer on the architectures beyond plain llama: llama.cpp's
# greedy ids for qwen2 (q_f32), llama with rope_freqs (r_f32), phi3 with
# and without a sliding window (p_f32, p_q8_0) and gemma (g_f32, g_q8_0),
# the same logits on every thread count, batch size and kernel table;
# another architecture refused.
. "$(dirname "$0")/lib.sh"

P="Once upon a time, there was a cat."
for c in q_f32 r_f32 p_f32 p_q8_0 g_f32 g_q8_0; do
	t "$c greedy from text" dai-infer -m "$DATA/$c.gguf" -p "$P" -n 32 --temp 0 --ids $c.ids
	if cmp -s $c.ids "$DATA/$c.greedy.i32"; then
		pass "$c prompt and greedy ids are llama.cpp's"
	else
		fail "$c prompt and greedy ids are llama.cpp's"
	fi
	dai-infer -m "$DATA/$c.gguf" --prompt-ids $c.ids -n 0 -t 1 --logits $c.1.f32 >/dev/null 2>&1
	dai-infer -m "$DATA/$c.gguf" --prompt-ids $c.ids -n 0 -t 3 --batch 5 --logits $c.3.f32 \
		>/dev/null 2>&1
	if [ -s $c.1.f32 ] && cmp -s $c.1.f32 $c.3.f32; then
		pass "$c logits: 1 thread vs 3 threads in batches of 5"
	else
		fail "$c logits: 1 thread vs 3 threads in batches of 5"
	fi
	DAI_KERNELS=ref dai-infer -m "$DATA/$c.gguf" --prompt-ids $c.ids -n 0 -t 2 --batch 7 \
		--logits $c.ref.f32 >/dev/null 2>&1
	if [ -s $c.ref.f32 ] && cmp -s $c.1.f32 $c.ref.f32; then
		pass "$c logits: DAI_KERNELS=ref vs auto"
	else
		fail "$c logits: DAI_KERNELS=ref vs auto"
	fi
done

# An architecture that is not supported: one line naming it, exit 1.
sed 's/qwen2/bloom/' "$DATA/q_f32.gguf" >bloom.gguf
dai-infer -m bloom.gguf -p x >/dev/null 2>arch.err
rc=$?
if [ $rc -eq 1 ] && grep -q "architecture 'bloom' is not supported" arch.err &&
	[ "$(wc -l <arch.err)" -eq 1 ]; then
	pass "unsupported architecture named"
else
	fail "unsupported architecture named" "exit $rc: $(cat arch.err)"
fi
