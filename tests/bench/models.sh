# models.sh - sourced by the benchmark scripts (bench.sh, provebench.sh):
# makes the benchmark models with mkgguf, once, in build/bench/ ($D), so
# that every benchmark measures the very same files. Needs B, the build
# directory holding mkgguf.
D=build/bench
mkdir -p "$D"

gen() { # name, mkgguf arguments...
	f=$D/$1.gguf
	shift
	[ -f "$f" ] || "$B/mkgguf" "$@" --seed 1 "$f"
}

gen_m110() { # type: the 110M model m110-TYPE
	gen "m110-$1" --dim 768 --layers 12 --heads 12 --ffn 2048 --vocab 32000 --ctx 1024 \
		--type "$1"
}
