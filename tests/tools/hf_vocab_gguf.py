#!/usr/bin/env python3
"""hf_vocab_gguf.py - writes a vocabulary-only GGUF file from a Hugging Face
byte-level BPE tokenizer.json, the way llama.cpp's convert_hf_to_gguf.py
lays out the tokenizer keys (tokens by id, token types, merges, the
pre-tokenizer name, special ids). It makes the test vocabularies of
tests/data (see tests/data/README.md); nothing in the build needs it.

  hf_vocab_gguf.py tokenizer.json PRE BOS EOS out.gguf

PRE is the tokenizer.ggml.pre name (llama-bpe, qwen2, ...); BOS and EOS
are the texts of those tokens.
"""
import json
import struct
import sys

GGUF_UINT32, GGUF_INT32, GGUF_BOOL, GGUF_STRING, GGUF_ARRAY = 4, 5, 7, 8, 9
NORMAL, CONTROL, USER_DEFINED, UNUSED = 1, 3, 4, 5


def gstr(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def kv_str(k, v):
    return gstr(k) + struct.pack("<I", GGUF_STRING) + gstr(v)


def kv_u32(k, v):
    return gstr(k) + struct.pack("<II", GGUF_UINT32, v)


def kv_bool(k, v):
    return gstr(k) + struct.pack("<IB", GGUF_BOOL, 1 if v else 0)


def kv_arr_str(k, vs):
    return (gstr(k) + struct.pack("<IIQ", GGUF_ARRAY, GGUF_STRING, len(vs)) +
            b"".join(gstr(v) for v in vs))


def kv_arr_i32(k, vs):
    return (gstr(k) + struct.pack("<IIQ", GGUF_ARRAY, GGUF_INT32, len(vs)) +
            struct.pack("<%di" % len(vs), *vs))


def looks_special(tok):
    # convert_hf_to_gguf.py's does_token_look_special
    return (tok.startswith("<|") and tok.endswith("|>")) or tok in (
        "<pad>", "<mask>", "<2mass>", "[@BOS@]")


def main():
    src, pre, bos, eos, out = sys.argv[1:6]
    j = json.load(open(src, encoding="utf-8"))
    model = j["model"]
    assert model["type"] == "BPE"
    by_id = {i: t for t, i in model["vocab"].items()}
    added = {a["id"]: a for a in j.get("added_tokens", [])}
    for i, a in added.items():
        by_id[i] = a["content"]
    n = max(by_id) + 1
    tokens, types = [], []
    for i in range(n):
        if i not in by_id:
            tokens.append("[PAD%d]" % i)
            types.append(UNUSED)
        elif i in added:
            tokens.append(by_id[i])
            special = added[i]["special"] or looks_special(by_id[i])
            types.append(CONTROL if special else USER_DEFINED)
        else:
            tokens.append(by_id[i])
            types.append(NORMAL)
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    ids = {t: i for i, t in enumerate(tokens)}
    kvs = [
        kv_str("general.architecture", "llama"),
        kv_str("tokenizer.ggml.model", "gpt2"),
        kv_str("tokenizer.ggml.pre", pre),
        kv_arr_str("tokenizer.ggml.tokens", tokens),
        kv_arr_i32("tokenizer.ggml.token_type", types),
        kv_arr_str("tokenizer.ggml.merges", merges),
        kv_u32("tokenizer.ggml.bos_token_id", ids[bos]),
        kv_u32("tokenizer.ggml.eos_token_id", ids[eos]),
    ]
    with open(out, "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)))
        for kv in kvs:
            f.write(kv)


if __name__ == "__main__":
    main()
