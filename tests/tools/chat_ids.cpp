// chat_ids.cpp - the token ids llama.cpp feeds for one chat turn: the
// model's tokenizer.chat_template recognised and applied by
// llama_chat_apply_template (an optional system message, the user message,
// the assistant's turn opened), then llama_tokenize with the tokenizer's
// special tokens added and the markers parsed as special tokens. Prints
// the ids on one line. Reference data for tests/cli/t_chat.sh.
//
// Build against a llama.cpp build tree LL (libllama C API):
//   g++ -O2 -std=c++17 chat_ids.cpp -I$LL/include -I$LL/ggml/include \
//       -L$LL/build/bin -lllama -lggml -lggml-base -Wl,-rpath,$LL/build/bin -o chat_ids
// Run: chat_ids MODEL USER [SYSTEM]
#include "llama.h"
#include <cstdio>
#include <string>
#include <vector>

static void quiet(enum ggml_log_level level, const char *text, void *)
{
	if (level >= GGML_LOG_LEVEL_ERROR)
		fputs(text, stderr);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s MODEL USER [SYSTEM]\n", argv[0]);
		return 2;
	}
	llama_log_set(quiet, nullptr);
	llama_backend_init();
	llama_model_params mp = llama_model_default_params();
	mp.vocab_only = true;
	llama_model *model = llama_model_load_from_file(argv[1], mp);
	if (!model)
		return 1;
	const llama_vocab *vocab = llama_model_get_vocab(model);
	const char *tmpl = llama_model_chat_template(model, nullptr);
	if (!tmpl) {
		fprintf(stderr, "no chat template\n");
		return 1;
	}
	std::vector<llama_chat_message> msgs;
	if (argc > 3)
		msgs.push_back({"system", argv[3]});
	msgs.push_back({"user", argv[2]});
	std::vector<char> buf(4096);
	int n = llama_chat_apply_template(tmpl, msgs.data(), msgs.size(), true, buf.data(),
	                                  (int)buf.size());
	if (n < 0 || n > (int)buf.size()) {
		fprintf(stderr, "template not applied (%d)\n", n);
		return 1;
	}
	std::string text(buf.data(), n);
	std::vector<llama_token> ids(text.size() + 8);
	int k = llama_tokenize(vocab, text.c_str(), (int)text.size(), ids.data(), (int)ids.size(),
	                       true, true);
	if (k < 0)
		return 1;
	for (int i = 0; i < k; i++)
		printf("%s%d", i ? " " : "", ids[i]);
	printf("\n");
	llama_model_free(model);
	return 0;
}
