/*
 * tok.h - the tokenizer of a GGUF model, SentencePiece ("llama") or
 * byte-level BPE ("gpt2"): encoding text to token ids, decoding ids to
 * bytes, and a streaming decoder that emits only valid UTF-8. Both follow
 * llama.cpp (llama-vocab.cpp and unicode.cpp at commit c392e509) step by
 * step.
 *
 * The vocabulary comes from the model's metadata:
 *
 *   tokenizer.ggml.model             "llama" or "gpt2" (required)
 *   tokenizer.ggml.tokens            string array, the pieces (required)
 *   tokenizer.ggml.scores            f32 array (optional, 0 when absent)
 *   tokenizer.ggml.token_type        i32 array (optional, all normal when absent):
 *                                    1 normal, 2 unknown, 3 control, 4 user-defined,
 *                                    5 unused, 6 byte; anything else is "undefined"
 *   tokenizer.ggml.merges            string array "left right", rank = index
 *                                    (required for "gpt2")
 *   tokenizer.ggml.pre               the BPE pre-tokenizer: "default" (also when
 *                                    absent), "llama-bpe" (or "llama3", "llama-v3"),
 *                                    "qwen2" (or "deepseek-r1-qwen"), "gpt-2";
 *                                    another name is an error naming it
 *   tokenizer.ggml.bos_token_id      integer, default 1 (BPE: 11; an id out of range,
 *                                    such as -1 or 0xffffffff, keeps the default; a
 *                                    default outside the vocabulary is "none")
 *   tokenizer.ggml.eos_token_id      integer, default 2 (BPE: 11)
 *   tokenizer.ggml.unknown_token_id  integer, default 0 (BPE: none)
 *   tokenizer.ggml.padding_token_id  integer, default none
 *   tokenizer.ggml.eot_token_id, eom_token_id   integer, default none
 *   tokenizer.ggml.add_bos_token     bool, default true (BPE: true for llama-bpe only)
 *   tokenizer.ggml.add_eos_token     bool, default false
 *   tokenizer.ggml.add_space_prefix  bool, default true (BPE: false)
 *
 * SentencePiece encoding (the "llama" vocab type):
 *
 *  1. The text is split into fragments at every occurrence of a
 *     user-defined token's text (and, with TOK_PARSE_SPECIAL, of control
 *     and unknown tokens' text), longest token text first, each occurrence
 *     becoming that token.
 *  2. Every other fragment gets a leading space if add_space_prefix is set
 *     and it starts the text or follows a token from step 1; every space
 *     becomes U+2581 ("\xe2\x96\x81").
 *  3. The fragment is cut into symbols of one UTF-8 character each (the
 *     length comes from the lead byte alone, as llama.cpp does, so invalid
 *     UTF-8 is cut the same way).
 *  4. Every pair of neighbouring symbols whose concatenation is a piece of
 *     the vocabulary is a candidate merge with that piece's score. The
 *     candidate with the highest score, and among equal scores the leftmost,
 *     is merged; the new neighbours become candidates; repeat until none
 *     is left.
 *  5. Each remaining symbol is its piece's id, or, when it is not a piece
 *     (a character not in the vocabulary), one byte token "<0xXX>" per byte
 *     (else the byte as a one-byte piece, else the unknown token: llama.cpp
 *     stops with an error in that last case).
 *  6. TOK_ADD_BOS puts the BOS id first, TOK_ADD_EOS the EOS id last.
 *
 * Byte-level BPE encoding (the "gpt2" vocab type):
 *
 *  1. Special-token fragments as step 1 above; no space prefix.
 *  2. Each other fragment is decoded to code points: a byte that starts no
 *     UTF-8 sequence (by the lead byte's length and 10xxxxxx continuation
 *     bytes; overlong forms and surrogates pass) becomes U+FFFD, and so
 *     does a sequence above U+10FFFF (where llama.cpp throws).
 *  3. The pre-tokenizer cuts the code points into words with the regexes of
 *     tokenizer.ggml.pre, hand-coded (tok_pretok.h): Llama 3's contractions,
 *     letter runs with one leading non-letter, numbers of up to 3 digits
 *     (Qwen2: 1), punctuation runs with trailing newlines, white space;
 *     GPT-2's; "default" runs four regexes in turn. Letters, numbers and
 *     so on are the Unicode general categories (unicode_tab.h, Unicode 15.0
 *     plus the 15.1 additions, as in llama.cpp).
 *  4. Each word, as UTF-8, has every byte replaced by GPT-2's
 *     byte-to-unicode character (printable Latin-1 bytes stand for
 *     themselves, the other 68 for U+0100 on).
 *  5. Llama 3 only: a word that is a piece as a whole is that piece.
 *     Otherwise the word is cut into characters, and the neighbouring pair
 *     with the lowest merge rank, among equal ranks the leftmost, is merged
 *     until no pair of the merge list is left.
 *  6. Each symbol is its piece's id; a symbol that is no piece becomes the
 *     one-byte pieces of its bytes, bytes without one being dropped (as in
 *     llama.cpp). TOK_ADD_BOS and TOK_ADD_EOS as above.
 *
 * Decoding a token gives its bytes as llama.cpp's token_to_piece does:
 * user-defined pieces as they are, control and unknown pieces as they are
 * only with TOK_UNPARSE_SPECIAL (else nothing), unused and undefined ones
 * nothing; SentencePiece normal pieces with U+2581 turned into a space,
 * byte tokens their byte; BPE normal pieces mapped back from GPT-2's
 * characters to bytes (a character that stands for no byte gives llama.cpp's
 * "[UNK_BYTE_0x...]" text), BPE byte tokens nothing. tok_decode is
 * llama_detokenize: with add_space_prefix, one leading space is dropped from
 * the first token's piece, unless TOK_REMOVE_SPECIAL removed a BOS in front
 * of it; for BPE vocabularies other than qwen2 it then does llama.cpp's
 * clean_up_tokenization_spaces (" ?", " !", " .", " ," and " 's", " 'm",
 * " 're", " 've" lose the space, " ' " becomes "'"), which TOK_KEEP_SPACES
 * skips.
 *
 * Not done (as llama.cpp does not for these vocabulary types either): Unicode
 * normalization (Qwen's tokenizer.json asks for NFC; llama.cpp and we do not),
 * the per-model lstrip/rstrip attributes, FIM tokens. Pieces must be unique
 * (llama.cpp asserts it) and SentencePiece byte tokens must read <0xXX>.
 *
 * A dai_tok is immutable after tok_load: threads may share one. Lookups go
 * through hash tables; encoding is O(n log n) in the text length (on one
 * core about 7 MB/s for SentencePiece, 3 to 5 MB/s for the Qwen2 and
 * Llama 3 BPE vocabularies, whose loading takes 0.2 to 0.4 s).
 */
#ifndef DAI_TOK_H
#define DAI_TOK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "gguf.h"

/* Token types, as GGUF stores them. */
enum tok_type {
	TOK_T_UNDEFINED = 0,
	TOK_T_NORMAL = 1,
	TOK_T_UNKNOWN = 2,
	TOK_T_CONTROL = 3,
	TOK_T_USER_DEFINED = 4,
	TOK_T_UNUSED = 5,
	TOK_T_BYTE = 6,
};

/* tok_encode flags */
#define TOK_ADD_BOS 1       /* BOS first */
#define TOK_ADD_EOS 2       /* EOS last */
#define TOK_PARSE_SPECIAL 4 /* control and unknown pieces in the text become their ids */

/* tok_decode, tok_piece and tok_stream flags */
#define TOK_REMOVE_SPECIAL                                                                         \
	1                     /* tok_decode: drop a leading BOS (if add_bos) and a final           \
	                         EOS (if add_eos) */
#define TOK_UNPARSE_SPECIAL 2 /* control and unknown tokens give their text */
#define TOK_STRIP_SPACE 4     /* tok_stream: drop one leading space from the first piece */
#define TOK_KEEP_SPACES 8     /* tok_decode: skip a BPE model's clean-up of spaces */

typedef struct dai_tok dai_tok;

/* Reads the vocabulary of g (which may be closed afterwards: everything is
 * copied). Errors name the file and the key. */
dai_tok *tok_load(const gguf_file *g, dai_err *e);
void tok_free(dai_tok *t);

int tok_n_vocab(const dai_tok *t);
int32_t tok_bos(const dai_tok *t); /* -1 when the model has none */
int32_t tok_eos(const dai_tok *t);
int32_t tok_unk(const dai_tok *t);
int32_t tok_pad(const dai_tok *t);
int tok_add_bos(const dai_tok *t); /* 0 or 1, from the metadata */
int tok_add_eos(const dai_tok *t);
int tok_add_space_prefix(const dai_tok *t);

/* TOK_ADD_BOS and TOK_ADD_EOS as the model's metadata asks for: what
 * llama.cpp's add_special = true does. */
int tok_default_flags(const dai_tok *t);

/* 1 for a token that ends generation: EOS, EOT, EOM, and the pieces
 * llama.cpp recognises by their text ("<|eot_id|>", "<|im_end|>", "<|end|>",
 * "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>"). */
int tok_is_eog(const dai_tok *t, int32_t id);

/* The vocabulary entry: its raw piece (not NUL-terminated; an empty piece
 * in the file reads "[EMPTY_<id>]", as in llama.cpp), score and type. id
 * must be in range. */
const char *tok_text(const dai_tok *t, int32_t id, size_t *len);
float tok_score(const dai_tok *t, int32_t id);
int tok_type(const dai_tok *t, int32_t id);

/* The id of a piece, -1 if none. */
int32_t tok_find(const dai_tok *t, const char *piece, size_t len);

/* Encodes text[0..len) (any bytes); flags are TOK_ADD_BOS, TOK_ADD_EOS,
 * TOK_PARSE_SPECIAL. *ids is malloc'd (free it), never NULL on success. */
int tok_encode(const dai_tok *t, const char *text, size_t len, int flags, int32_t **ids, size_t *n,
               dai_err *e);

/* The bytes token id decodes to (see the top), flags TOK_UNPARSE_SPECIAL.
 * Not NUL-terminated; valid as long as t. Returns NULL (len 0) for an id
 * out of range. */
const char *tok_piece(const dai_tok *t, int32_t id, int flags, size_t *len);

/* llama_detokenize: the pieces of ids[0..n) concatenated, the first
 * leading space dropped and (BPE) spaces cleaned up as described at the
 * top. flags TOK_REMOVE_SPECIAL, TOK_UNPARSE_SPECIAL, TOK_KEEP_SPACES. *out is malloc'd and
 * NUL-terminated (the bytes may hold NULs and invalid UTF-8; *len counts them). Fails on an id out
 * of range. */
int tok_decode(const dai_tok *t, const int32_t *ids, size_t n, int flags, char **out, size_t *len,
               dai_err *e);

/*
 * Streaming decoder for printing text as it is generated. Feed it token by
 * token; each call hands back the bytes that are ready, which are always
 * whole, valid UTF-8: an incomplete multi-byte sequence at the end is held
 * until the next token completes it, and bytes that can never form a valid
 * sequence are replaced by U+FFFD (one per maximal invalid subpart, as the
 * Unicode standard recommends). tok_stream_flush ends the stream, turning
 * a held incomplete sequence into U+FFFD. flags: TOK_UNPARSE_SPECIAL,
 * TOK_STRIP_SPACE.
 */
typedef struct tok_stream tok_stream;

tok_stream *tok_stream_new(const dai_tok *t, int flags, dai_err *e);
void tok_stream_free(tok_stream *s);

/* *out (not NUL-terminated) stays valid until the next call on s. Fails
 * only on an id out of range or out of memory. */
int tok_stream_put(tok_stream *s, int32_t id, const char **out, size_t *len, dai_err *e);
int tok_stream_flush(tok_stream *s, const char **out, size_t *len, dai_err *e);

/* The UTF-8 repair used by the stream, on its own: appends to out the valid
 * UTF-8 form of in[0..n) and returns how many input bytes it consumed;
 * with final = 0 an incomplete sequence at the end is left unconsumed.
 * out must hold 3 * n bytes; *out_len receives the bytes written. */
size_t tok_utf8_repair(const unsigned char *in, size_t n, int final, char *out, size_t *out_len);

#endif
