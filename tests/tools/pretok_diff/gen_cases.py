#!/usr/bin/env python3
"""gen_cases.py SEED OUT COUNT - writes COUNT random byte strings, each
four times (once per pre-tokenizer 0..3: default, llama-bpe, qwen2, gpt-2),
as records: u32 pre, u32 length, the bytes. The strings are made of pieces
that exercise every branch of the splits: white space of all kinds,
letters, digits, contractions, punctuation, symbols, other scripts, marks,
controls, unassigned code points and invalid UTF-8."""
import random
import struct
import sys

random.seed(int(sys.argv[1]))
atoms = [b' ', b'  ', b'\n', b'\r', b'\t', b'\r\n'] + [
    c.encode() for c in '\u3000 \u00a0 \u0085 \u2028'.split(' ')] + [
    b'a', b'Z', b'hello', b'World', b'0', b'7', b'12', b'12345', b"'", b"'s",
    b"'t", b"'re", b"'LL", b"'D", b"'M", b"'Ve", b's', b't', b'll', b'!', b',',
    b'.', b'$', b'+', b'`', b'~', b'<', b'|', b'^', b'_', b'#', b'{', b'(',
    b'-', b'@', b'?', b'"'] + [
    c.encode() for c in ['\u00e9', '\u0436', '\u4e2d', '\u00bd', '\u0663',
                         '\u0301', '\u20ac', '\U0001f600', '\u2030', '\u00ab',
                         '\u2014', '\u0378', '\ue000', '\U0002ebf0', '\u31ef']] + [
    b'\x00', b'\x01', b'\x1f', b'\x7f', b'\xff', b'\xc3', b'\x80', b'\xc0\x80',
    b'\xed\xa0\x80', b'\xe2\x82', b'\xf0\x9f\x98', b'\xf8']
with open(sys.argv[2], 'wb') as out:
    for i in range(int(sys.argv[3])):
        s = b''.join(random.choice(atoms) for _ in range(random.randint(0, 40)))
        for pre in range(4):
            out.write(struct.pack('<II', pre, len(s)) + s)
