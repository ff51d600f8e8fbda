/*
 * Unit tests: chat templates (chat.h). Detection and formatting against
 * llama.cpp's own test cases (chat_cases.inc): every case whose template
 * is recognised as a format we write must give llama.cpp's text exactly;
 * the others must be recognised as the format llama.cpp picks and refused.
 * Also the single-message texts of that test, and chat_prompt on a model.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "gguf.h"
#include "tok.h"
#include "tools/llama_gen.h"

TestSuite(chat);

static const struct {
	const char *model, *tmpl, *want;
} cases[] = {
#include "chat_cases.inc"
};

/* the conversation of llama.cpp's test */
static const chat_msg conversation[] = {
    {"system", "You are a helpful assistant"},
    {"user", "Hello"},
    {"assistant", "Hi there"},
    {"user", "Who are you"},
    {"assistant", "   I am an assistant   "},
    {"user", "Another question"},
};

/* what each case is recognised as (llama.cpp's llm_chat_detect_template) */
static const struct {
	const char *model_prefix, *name;
} detected[] = {
    {"teknium/OpenHermes", "chatml"},
    {"mistralai/Mistral-7B-Instruct-v0.2 (NOTE", "llama2"},
    {"TheBloke/FusionNet", "llama2-sys-bos"},
    {"bofenghuang/vigogne", "llama2-sys-strip"},
    {"mlabonne/AlphaMonarch", "monarch"},
    {"google/gemma-7b-it", "gemma"},
    {"OrionStarAI", "orion"},
    {"openchat", "openchat"},
    {"deepseek-ai/deepseek-coder", "deepseek"},
    {"eachadea/vicuna", "vicuna"},
    {"Orca-Vicuna", "vicuna-orca"},
    {"CohereForAI", "command-r"},
    {"Llama-3", "llama3"},
    {"Phi-3-", "phi3"},
    {"ChatGLM3", "chatglm3"},
    {"ChatGLM4", "chatglm4"},
    {"GLMEdge", "glmedge"},
    {"MiniCPM", "minicpm"},
    {"DeepSeek-V2", "deepseek2"},
    {"ibm-granite", "granite"},
    {"mistralai/Mistral-7B-Instruct-v0.2 (mistralai 'v1'", "mistral-v1"},
    {"Mistral-Large-Instruct-2407", "mistral-v3"},
    {"Mistral-Nemo", "mistral-v3-tekken"},
    {"mistralai/Mistral-Large-Instruct-2411", "mistral-v7"},
    {"ai-sage/GigaChat", "gigachat"},
    {"Infinigence/Megrez", "megrez"},
    {"phi-4", "phi4"},
};

Test(chat, llama_cpp_cases)
{
	size_t n_conv = sizeof conversation / sizeof conversation[0], formatted_count = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *want_name = NULL;
		for (size_t d = 0; d < sizeof detected / sizeof detected[0]; d++)
			if (!strncmp(cases[i].model, detected[d].model_prefix,
			             strlen(detected[d].model_prefix)))
				want_name = detected[d].name;
		cr_assert(want_name, "no expectation for %s", cases[i].model);
		const char *name = chat_detect(cases[i].tmpl, strlen(cases[i].tmpl));
		cr_expect(name && !strcmp(name, want_name), "%s: detected %s, expected %s",
		          cases[i].model, name ? name : "nothing", want_name);
		if (!name || !chat_supported(name))
			continue;
		char *out;
		size_t len;
		dai_err e;
		cr_assert_eq(chat_format(name, conversation, n_conv, 1, &out, &len, &e), 0, "%s",
		             e.msg);
		cr_expect(len == strlen(cases[i].want) && !strcmp(out, cases[i].want),
		          "%s (%s):\n got  '%s'\n want '%s'", cases[i].model, name, out,
		          cases[i].want);
		free(out);
		formatted_count++;
	}
	/* chatml, 2 x llama2, llama2-sys-*, gemma, llama3, 4 x phi3, 4 x mistral, phi4 */
	cr_expect_eq(formatted_count, 15);
}

/* llama.cpp's fmt_sys: a lone system message, no assistant turn */
Test(chat, system_message_alone)
{
	static const struct {
		const char *tmpl, *want;
	} t[] = {
	    {"chatml", "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n"},
	    {"mistral-v1", " [INST] You are a helpful assistant\n\n"},
	    {"mistral-v3", "[INST] You are a helpful assistant\n\n"},
	    {"mistral-v3-tekken", "[INST]You are a helpful assistant\n\n"},
	    {"mistral-v7", "[SYSTEM_PROMPT] You are a helpful assistant[/SYSTEM_PROMPT]"},
	    {"llama2", "[INST] You are a helpful assistant\n"},
	    {"llama2-sys", "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\n"},
	    {"mistral", "[INST] You are a helpful assistant\n"},
	    {"gemma", ""},
	    {"llama3", "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful "
	               "assistant<|eot_id|>"},
	};
	chat_msg sys = {"system", "You are a helpful assistant"};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		const char *name = chat_detect(t[i].tmpl, strlen(t[i].tmpl));
		cr_assert(name && chat_supported(name), "%s", t[i].tmpl);
		char *out;
		size_t len;
		dai_err e;
		cr_assert_eq(chat_format(name, &sys, 1, 0, &out, &len, &e), 0, "%s", e.msg);
		cr_expect(!strcmp(out, t[i].want), "%s: got '%s'", t[i].tmpl, out);
		free(out);
	}
}

Test(chat, unknown_and_unsupported)
{
	cr_expect_null(chat_detect("INVALID TEMPLATE", 16));
	cr_expect_null(chat_detect("", 0));
	cr_expect_str_eq(chat_detect("vicuna", 6), "vicuna");
	cr_expect(!chat_supported("vicuna") && !chat_supported(NULL));
	char *out;
	size_t len;
	dai_err e;
	cr_expect_eq(chat_format("vicuna", conversation, 1, 1, &out, &len, &e), -1);
	cr_expect(strstr(e.msg, "'vicuna' is not supported"), "%s", e.msg);
	/* a marker past the given length does not count */
	cr_expect_null(chat_detect("abc<|im_start|>", 3));
}

/* chat_prompt reads the model's template */
static const char *tmpl_value;
static void add_template(gguf_writer *w)
{
	if (tmpl_value)
		gguf_w_str(w, "tokenizer.chat_template", tmpl_value);
}

static int prompt_for(const char *tmpl, const char *system, const char *user, char **out,
                      dai_err *e)
{
	llama_gen p;
	llama_gen_defaults(&p);
	unsigned char *buf;
	size_t len, olen;
	gguf_file g;
	tmpl_value = tmpl;
	cr_assert_eq(llama_gen_mem(&p, add_template, &buf, &len, e), 0, "%s", e->msg);
	cr_assert_eq(gguf_open_mem(&g, buf, len, "chat.gguf", e), 0, "%s", e->msg);
	int rc = chat_prompt(&g, system, user, strlen(user), out, &olen, e);
	if (rc == 0)
		cr_expect_eq(olen, strlen(*out));
	gguf_close(&g);
	free(buf);
	return rc;
}

Test(chat, prompt_from_model)
{
	char *out;
	dai_err e;
	const char *llama3 = cases[12].tmpl;
	cr_assert_str_eq(cases[12].model, "Llama-3");
	cr_assert_eq(prompt_for(llama3, NULL, " Hi ", &out, &e), 0, "%s", e.msg);
	cr_expect_str_eq(out, "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
	                      "<|start_header_id|>assistant<|end_header_id|>\n\n");
	free(out);
	cr_assert_eq(prompt_for(cases[0].tmpl, "Be brief.", "Hi", &out, &e), 0, "%s", e.msg);
	cr_expect_str_eq(out, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi"
	                      "<|im_end|>\n<|im_start|>assistant\n");
	free(out);

	cr_expect_eq(prompt_for(NULL, NULL, "Hi", &out, &e), -1);
	cr_expect(strstr(e.msg, "chat.gguf") && strstr(e.msg, "no chat format"), "%s", e.msg);
	cr_expect_eq(prompt_for("{{ nothing known }}", NULL, "Hi", &out, &e), -1);
	cr_expect(strstr(e.msg, "not one of the known formats"), "%s", e.msg);
	cr_expect_eq(prompt_for(cases[10].tmpl, NULL, "Hi", &out, &e), -1);
	cr_expect(strstr(e.msg, "'vicuna-orca' is not supported"), "%s", e.msg);
}

/* The prompt dai-infer --chat encodes: BOS, then the markers as special
 * tokens when the vocabulary has them (here </s> in a user message of a
 * ChatML model), as llama.cpp encodes a formatted chat. */
Test(chat, encoded_with_special_tokens)
{
	llama_gen p;
	llama_gen_defaults(&p);
	unsigned char *buf;
	size_t len, tlen, n_sp, n_plain;
	gguf_file g;
	dai_err e;
	tmpl_value = cases[0].tmpl;
	cr_assert_eq(llama_gen_mem(&p, add_template, &buf, &len, &e), 0, "%s", e.msg);
	cr_assert_eq(gguf_open_mem(&g, buf, len, "chat.gguf", &e), 0, "%s", e.msg);
	dai_tok *t = tok_load(&g, &e);
	cr_assert(t, "%s", e.msg);
	char *text;
	cr_assert_eq(chat_prompt(&g, NULL, "a</s>b", 6, &text, &tlen, &e), 0, "%s", e.msg);
	int32_t *sp, *plain;
	int flags = tok_default_flags(t);
	cr_assert_eq(tok_encode(t, text, tlen, flags | TOK_PARSE_SPECIAL, &sp, &n_sp, &e), 0);
	cr_assert_eq(tok_encode(t, text, tlen, flags, &plain, &n_plain, &e), 0);
	int eos_sp = 0, eos_plain = 0;
	for (size_t i = 0; i < n_sp; i++)
		eos_sp += sp[i] == tok_eos(t);
	for (size_t i = 0; i < n_plain; i++)
		eos_plain += plain[i] == tok_eos(t);
	cr_expect(n_sp > 0 && sp[0] == tok_bos(t), "BOS first");
	cr_expect_eq(eos_sp, 1);
	cr_expect_eq(eos_plain, 0);
	free(sp);
	free(plain);
	free(text);
	tok_free(t);
	gguf_close(&g);
	free(buf);
}
