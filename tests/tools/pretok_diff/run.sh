#!/bin/sh
# Compares our BPE pre-tokenizer splits with llama.cpp's on random strings:
#
#   tests/tools/pretok_diff/run.sh LLAMA_CPP_SRC [SEED [COUNT]]
#
# LLAMA_CPP_SRC is llama.cpp's src/ directory (unicode.cpp, unicode.h,
# unicode-data.cpp, unicode-data.h; commit c392e509 is the one we follow).
# Run from the repository root after `make` (it links build/rel/libdai.a).
# Records where llama.cpp throws (code points above U+10FFFF, which we take
# as invalid) are skipped. Prints the differing records and a count; exits
# 1 if there is any.
set -eu
src=$1
seed=${2:-1}
count=${3:-20000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dir=$(dirname "$0")
c++ -O1 -std=c++17 -I"$src" -o "$tmp/llama_split" "$dir/llama_split.cpp" "$src/unicode.cpp" \
	"$src/unicode-data.cpp"
cc -O1 -std=c11 -Isrc/lib -o "$tmp/dai_split" "$dir/dai_split.c" build/rel/libdai.a \
	$(pkg-config --libs libsodium libarchive zlib) -lm
python3 "$dir/gen_cases.py" "$seed" "$tmp/cases" "$count"
"$tmp/llama_split" "$tmp/cases" > "$tmp/ref"
"$tmp/dai_split" "$tmp/cases" > "$tmp/ours"
paste -d'|' "$tmp/ref" "$tmp/ours" |
	awk -F'|' '$1 == "EXC" { skip++; next }
		$1 != $2 { bad++; if (bad <= 10) print "record " NR ": llama.cpp " $1 " ours " $2 }
		END { print NR " records, " skip + 0 " skipped, " bad + 0 " differ"; exit bad > 0 }'
