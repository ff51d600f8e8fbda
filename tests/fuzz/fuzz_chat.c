/* libFuzzer harness for chat.h: detect the format of the input taken as a
 * chat template; when it is one chat_format writes, format a conversation
 * with the input (NUL-terminated copy) as every message's content. Any
 * crash, leak or sanitizer report is a bug. Seeds
 * (tests/fuzz/seeds/fuzz_chat/) are templates of llama.cpp's chat test
 * cases (tests/unit/chat_cases.inc). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *name = chat_detect((const char *)data, size);
	if (!chat_supported(name))
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	chat_msg msgs[4] = {{"system", text}, {"user", text}, {"assistant", text}, {"user", ""}};
	char *out;
	size_t len;
	dai_err e;
	if (chat_format(name, msgs, 4, 1, &out, &len, &e) == 0) {
		if (strlen(out) > len)
			abort(); /* the length covers the text */
		free(out);
	}
	free(text);
	return 0;
}
