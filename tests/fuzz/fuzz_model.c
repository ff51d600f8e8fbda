/* libFuzzer harness for the model loader: parse the input as a GGUF file
 * and load it as a Llama model; when it loads, evaluate two tokens with a
 * small context and check the session's bounds. Any crash, leak or
 * sanitizer report is a bug; load errors are expected. Seeds
 * (tests/fuzz/seeds/fuzz_model/) are tiny models made by mkgguf:
 *   mkgguf --dim 32 --layers 1 --heads 2 --kv-heads 1 --ffn 32 --vocab 259 --ctx 16 f32.gguf
 *   mkgguf ... the same ... --type f16 --tied f16-tied.gguf
 *   mkgguf --dim 32 --layers 2 --heads 1 --ffn 64 --vocab 259 --ctx 16 --type q8_0 \
 *          --rope-linear 2 q8_0.gguf
 *   mkgguf --dim 32 --layers 1 --heads 2 --kv-heads 1 --ffn 32 --vocab 259 --ctx 16 \
 *          --arch qwen2 --biases --tied qwen2-tied.gguf
 *   mkgguf ... the f32 shape ... --biases --rope-freqs rope-freqs.gguf
 *   mkgguf ... the f32 shape ... --arch phi3 --swa 1 phi3-swa.gguf
 *   mkgguf ... the f32 shape ... --head-dim 8 --arch gemma gemma.gguf
 */
#include <stdint.h>
#include <stdlib.h>

#include "gguf.h"
#include "model.h"
#include "session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gguf_file g;
	model m;
	dai_err e;
	if (gguf_open_mem(&g, data, size, "fuzz.gguf", &e))
		return 0;
	if (model_load(&m, &g, &e) == 0) {
		session_params sp = {.n_ctx = 3, .n_batch = 2, .n_threads = 1};
		session *s = session_new(&m, &sp, &e);
		if (s) {
			float *logits = malloc(sizeof(float) * (size_t)m.n_vocab);
			int32_t ids[3] = {0, m.n_vocab - 1, m.n_vocab};
			if (!logits || session_eval(s, ids, 2, logits, SESSION_LOGITS_LAST, &e) ||
			    session_pos(s) != 2)
				abort();
			/* out of range id, then overflow: both refused, position kept */
			if (session_eval(s, ids + 2, 1, logits, SESSION_LOGITS_LAST, &e) == 0 ||
			    session_eval(s, ids, 2, logits, SESSION_LOGITS_LAST, &e) == 0 ||
			    session_pos(s) != 2)
				abort();
			free(logits);
			session_free(s);
		}
		model_free(&m);
	}
	gguf_close(&g);
	return 0;
}
