// llama_split.cpp - the reference side of the pre-tokenizer comparison:
// reads the records of gen_cases.py and prints, one line per record, the
// byte lengths of the words that llama.cpp's unicode_regex_split gives with
// the regexes of llama-vocab.cpp for each pre-tokenizer (default,
// llama-bpe, qwen2, gpt-2), or EXC where llama.cpp throws. Built against
// llama.cpp's src/unicode.cpp and src/unicode-data.cpp by run.sh.
#include "unicode.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char **argv) {
    const std::string gpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    const std::string llama3_head = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|";
    const std::string tail = "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    const std::vector<std::vector<std::string>> regexes = {
        {"[\\p{P}\\$\\+<=>\\^~\\|]+", gpt2, "\\p{N}+", "[0-9][0-9][0-9]"},
        {llama3_head + "\\p{N}{1,3}" + tail},
        {llama3_head + "\\p{N}" + tail},
        {gpt2},
    };
    FILE *f = argc > 1 ? fopen(argv[1], "rb") : nullptr;
    if (!f) {
        fprintf(stderr, "usage: llama_split CASES\n");
        return 2;
    }
    uint32_t pre, len;
    while (fread(&pre, 4, 1, f) == 1 && fread(&len, 4, 1, f) == 1 && pre < 4) {
        std::string s(len, 0);
        if (len && fread(&s[0], 1, len, f) != len)
            return 1;
        std::vector<std::string> words;
        try {
            words = unicode_regex_split(s, regexes[pre]);
        } catch (...) {
            printf("EXC\n");
            continue;
        }
        for (const auto &w : words)
            printf("%zu ", w.size());
        printf("\n");
    }
    return 0;
}
