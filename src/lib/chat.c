/* chat.c - see chat.h: chat template detection by substrings and prompt formatting. */
#include "chat.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- detection */

/* Every name llama.cpp's LLM_CHAT_TEMPLATES knows; the formatted ones first. */
static const char *const formatted[] = {
    "chatml",           "llama2",     "llama2-sys", "llama2-sys-bos",
    "llama2-sys-strip", "mistral-v1", "mistral-v3", "mistral-v3-tekken",
    "mistral-v7",       "llama3",     "phi3",       "phi4",
    "zephyr",           "gemma",
};
static const char *const others[] = {
    "falcon3",   "monarch",    "orion",     "openchat", "vicuna",   "vicuna-orca", "deepseek",
    "deepseek2", "deepseek3",  "command-r", "chatglm3", "chatglm4", "glmedge",     "minicpm",
    "exaone3",   "rwkv-world", "granite",   "gigachat", "megrez",
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct text {
	const char *s;
	size_t n;
};

static int has(struct text t, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; k <= t.n && i <= t.n - k; i++)
		if (memcmp(t.s + i, needle, k) == 0)
			return 1;
	return 0;
}

static const char *known_name(struct text t)
{
	for (size_t i = 0; i < COUNT(formatted); i++)
		if (strlen(formatted[i]) == t.n && memcmp(formatted[i], t.s, t.n) == 0)
			return formatted[i];
	for (size_t i = 0; i < COUNT(others); i++)
		if (strlen(others[i]) == t.n && memcmp(others[i], t.s, t.n) == 0)
			return others[i];
	return NULL;
}

/* The order of the tests is llama.cpp's: earlier markers win. */
const char *chat_detect(const char *tmpl, size_t len)
{
	struct text t = {tmpl, len};
	const char *name = known_name(t);
	if (name)
		return name;
	if (has(t, "<|im_start|>"))
		return has(t, "<|im_sep|>") ? "phi4" : "chatml";
	if ((len >= 7 && memcmp(tmpl, "mistral", 7) == 0) || has(t, "[INST]")) {
		if (has(t, "[SYSTEM_PROMPT]"))
			return "mistral-v7";
		if (has(t, "' [INST] ' + system_message") || has(t, "[AVAILABLE_TOOLS]")) {
			if (has(t, " [INST]"))
				return "mistral-v1";
			if (has(t, "\"[INST]\""))
				return "mistral-v3-tekken";
			return "mistral-v3";
		}
		if (has(t, "content.strip()"))
			return "llama2-sys-strip";
		if (has(t, "bos_token + '[INST]"))
			return "llama2-sys-bos";
		if (has(t, "<<SYS>>"))
			return "llama2-sys";
		return "llama2";
	}
	if (has(t, "<|assistant|>") && has(t, "<|end|>"))
		return "phi3";
	if (has(t, "<|assistant|>") && has(t, "<|user|>"))
		return has(t, "</s>") ? "falcon3" : "glmedge";
	if (has(t, "<|user|>") && has(t, "<|endoftext|>"))
		return "zephyr";
	if (has(t, "bos_token + message['role']"))
		return "monarch";
	if (has(t, "<start_of_turn>"))
		return "gemma";
	if (has(t, "'\\n\\nAssistant: ' + eos_token"))
		return "orion";
	if (has(t, "GPT4 Correct "))
		return "openchat";
	if (has(t, "USER: ") && has(t, "ASSISTANT: "))
		return has(t, "SYSTEM: ") ? "vicuna-orca" : "vicuna";
	if (has(t, "### Instruction:") && has(t, "<|EOT|>"))
		return "deepseek";
	if (has(t, "<|START_OF_TURN_TOKEN|>") && has(t, "<|USER_TOKEN|>"))
		return "command-r";
	if (has(t, "<|start_header_id|>") && has(t, "<|end_header_id|>"))
		return "llama3";
	if (has(t, "[gMASK]sop"))
		return "chatglm3";
	if (has(t, "[gMASK]<sop>"))
		return "chatglm4";
	if (has(t, "<\xe7\x94\xa8\xe6\x88\xb7>")) /* <用户> */
		return "minicpm";
	if (has(t, "'Assistant: ' + message['content'] + eos_token"))
		return "deepseek2";
	if (has(t, "<\xef\xbd\x9c"
	           "Assistant\xef\xbd\x9c>") &&
	    has(t, "<\xef\xbd\x9c"
	           "User\xef\xbd\x9c>") &&
	    has(t, "<\xef\xbd\x9c"
	           "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"))
		return "deepseek3";
	if (has(t, "[|system|]") && has(t, "[|assistant|]") && has(t, "[|endofturn|]"))
		return "exaone3";
	if (has(t, "rwkv-world"))
		return "rwkv-world";
	if (has(t, "<|start_of_role|>"))
		return "granite";
	if (has(t, "message['role'] + additional_special_tokens[0] + message['content'] + "
	           "additional_special_tokens[1]"))
		return "gigachat";
	if (has(t, "<|role_start|>"))
		return "megrez";
	return NULL;
}

int chat_supported(const char *name)
{
	for (size_t i = 0; name && i < COUNT(formatted); i++)
		if (strcmp(name, formatted[i]) == 0)
			return 1;
	return 0;
}

/* ---------------------------------------------------------------- formatting */

struct buf {
	char *p;
	size_t len, cap;
	int oom;
};

static void putn(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p, b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void put(struct buf *b, const char *s)
{
	putn(b, s, strlen(s));
}

/* s without leading and trailing ASCII white space (C isspace), as llama.cpp's trim */
static void put_trimmed(struct buf *b, const char *s)
{
	size_t i = 0, j = strlen(s);
	while (i < j && strchr(" \t\n\v\f\r", s[i]))
		i++;
	while (j > i && strchr(" \t\n\v\f\r", s[j - 1]))
		j--;
	putn(b, s + i, j - i);
}

static int is(const char *role, const char *want)
{
	return strcmp(role, want) == 0;
}

static void llama2(struct buf *b, const char *name, const chat_msg *m, size_t n)
{
	int sys = strcmp(name, "llama2") != 0;
	int bos_inside = strcmp(name, "llama2-sys-bos") == 0;
	int strip = strcmp(name, "llama2-sys-strip") == 0;
	int inside = 1; /* the first turn is opened here, without a BOS */
	put(b, "[INST] ");
	for (size_t i = 0; i < n; i++) {
		if (!inside) {
			inside = 1;
			put(b, bos_inside ? "<s>[INST] " : "[INST] ");
		}
		void (*text)(struct buf *, const char *) = strip ? put_trimmed : put;
		if (is(m[i].role, "system")) {
			put(b, sys ? "<<SYS>>\n" : "");
			text(b, m[i].content);
			put(b, sys ? "\n<</SYS>>\n\n" : "\n");
		} else if (is(m[i].role, "user")) {
			text(b, m[i].content);
			put(b, " [/INST]");
		} else {
			text(b, m[i].content);
			put(b, "</s>");
			inside = 0;
		}
	}
}

static void mistral(struct buf *b, const char *name, const chat_msg *m, size_t n)
{
	if (strcmp(name, "mistral-v7") == 0) {
		for (size_t i = 0; i < n; i++) {
			if (is(m[i].role, "system")) {
				put(b, "[SYSTEM_PROMPT] ");
				put(b, m[i].content);
				put(b, "[/SYSTEM_PROMPT]");
			} else if (is(m[i].role, "user")) {
				put(b, "[INST] ");
				put(b, m[i].content);
				put(b, "[/INST]");
			} else {
				put(b, " ");
				put(b, m[i].content);
				put(b, "</s>");
			}
		}
		return;
	}
	const char *lead = strcmp(name, "mistral-v1") == 0 ? " " : "";
	const char *trail = strcmp(name, "mistral-v3-tekken") == 0 ? "" : " ";
	int trim_assistant = strcmp(name, "mistral-v3") == 0, inside = 0;
	for (size_t i = 0; i < n; i++) {
		if (!inside) {
			put(b, lead);
			put(b, "[INST]");
			put(b, trail);
			inside = 1;
		}
		if (is(m[i].role, "system")) {
			put(b, m[i].content);
			put(b, "\n\n");
		} else if (is(m[i].role, "user")) {
			put(b, m[i].content);
			put(b, lead);
			put(b, "[/INST]");
		} else {
			put(b, trail);
			(trim_assistant ? put_trimmed : put)(b, m[i].content);
			put(b, "</s>");
			inside = 0;
		}
	}
}

static void gemma(struct buf *b, const chat_msg *m, size_t n, int add_assistant)
{
	const char *system = NULL; /* merged into the next user turn */
	for (size_t i = 0; i < n; i++) {
		if (is(m[i].role, "system")) {
			system = m[i].content;
			continue;
		}
		int model = is(m[i].role, "assistant");
		put(b, "<start_of_turn>");
		put(b, model ? "model" : m[i].role);
		put(b, "\n");
		if (system && !model) {
			size_t mark = b->len;
			put_trimmed(b, system);
			if (b->len > mark) /* llama.cpp: an empty system prompt adds nothing */
				put(b, "\n\n");
			system = NULL;
		}
		put_trimmed(b, m[i].content);
		put(b, "<end_of_turn>\n");
	}
	if (add_assistant)
		put(b, "<start_of_turn>model\n");
}

int chat_format(const char *name, const chat_msg *m, size_t n, int add_assistant, char **out,
                size_t *len, dai_err *e)
{
	struct buf b = {0};
	put(&b, ""); /* an empty conversation is an empty string, not NULL */
	if (!chat_supported(name))
		return free(b.p), dai_errf(e, "chat format '%s' is not supported", name);
	if (is(name, "chatml") || is(name, "phi4")) {
		const char *sep = is(name, "phi4") ? "<|im_sep|>" : "\n";
		const char *end = is(name, "phi4") ? "<|im_end|>" : "<|im_end|>\n";
		for (size_t i = 0; i < n; i++) {
			put(&b, "<|im_start|>");
			put(&b, m[i].role);
			put(&b, sep);
			put(&b, m[i].content);
			put(&b, end);
		}
		if (add_assistant) {
			put(&b, "<|im_start|>assistant");
			put(&b, sep);
		}
	} else if (strncmp(name, "llama2", 6) == 0) {
		llama2(&b, name, m, n);
	} else if (strncmp(name, "mistral", 7) == 0) {
		mistral(&b, name, m, n);
	} else if (is(name, "llama3")) {
		for (size_t i = 0; i < n; i++) {
			put(&b, "<|start_header_id|>");
			put(&b, m[i].role);
			put(&b, "<|end_header_id|>\n\n");
			put_trimmed(&b, m[i].content);
			put(&b, "<|eot_id|>");
		}
		if (add_assistant)
			put(&b, "<|start_header_id|>assistant<|end_header_id|>\n\n");
	} else if (is(name, "phi3") || is(name, "zephyr")) {
		const char *end = is(name, "phi3") ? "<|end|>\n" : "<|endoftext|>\n";
		for (size_t i = 0; i < n; i++) {
			put(&b, "<|");
			put(&b, m[i].role);
			put(&b, "|>\n");
			put(&b, m[i].content);
			put(&b, end);
		}
		if (add_assistant)
			put(&b, "<|assistant|>\n");
	} else {
		gemma(&b, m, n, add_assistant);
	}
	if (b.oom)
		return free(b.p), dai_errf(e, "out of memory formatting a chat prompt");
	*out = b.p;
	*len = b.len;
	return 0;
}

/* ---------------------------------------------------------------- from a model */

int chat_prompt(const gguf_file *g, const char *system, const char *user, size_t user_len,
                char **out, size_t *len, dai_err *e)
{
	static const char key[] = "tokenizer.chat_template";
	gguf_str t;
	if (!gguf_find_key(g, key))
		return dai_errf(e,
		                "%s: key '%s' is missing: the model has no chat format (use --raw)",
		                g->name, key);
	if (gguf_get_str(g, key, &t, e))
		return -1;
	const char *name = chat_detect(t.s, (size_t)t.len);
	if (!name)
		return dai_errf(e,
		                "%s: key '%s': the chat template is not one of the known formats",
		                g->name, key);
	if (!chat_supported(name))
		return dai_errf(e, "%s: key '%s': chat format '%s' is not supported", g->name, key,
		                name);
	if (memchr(user, 0, user_len))
		return dai_errf(e, "the chat message holds a NUL byte");
	char *u = malloc(user_len + 1);
	if (!u)
		return dai_errf(e, "out of memory");
	memcpy(u, user, user_len);
	u[user_len] = 0;
	chat_msg msgs[2] = {{"system", system}, {"user", u}};
	int rc = system ? chat_format(name, msgs, 2, 1, out, len, e)
	                : chat_format(name, msgs + 1, 1, 1, out, len, e);
	free(u);
	return rc;
}
