# lib.sh - helpers for the CLI tests. Each test script sources this file,
# runs in its own empty TMPDIR with the built tools first on PATH, and reports
# one line per case: "ok - NAME" or "not ok - NAME".
set -u
cd "$TMPDIR" || exit 1
DATA=$DAI_TESTDATA

# pass NAME / fail NAME [WHY]
pass() { echo "ok - $1"; }
fail() { echo "not ok - $1${2:+: $2}"; }

# t NAME CMD...: the case passes when CMD exits 0.
t() {
	name=$1
	shift
	if "$@" >.out 2>.err; then pass "$name"; else fail "$name" "$(head -c 300 .err)"; fi
}

# tfail NAME CMD...: the case passes when CMD exits non-zero and says why on stderr.
tfail() {
	name=$1
	shift
	if "$@" >.out 2>.err; then
		fail "$name" "expected failure, got exit 0"
	elif [ ! -s .err ]; then
		fail "$name" "failed without a message on stderr"
	else
		pass "$name"
	fi
}

# Documents and traces, for the proof and ledger tests.
# docs KIND FILE: the documents of one kind in a stream.
docs() { awk -v k="dai-$1 " 'index($0, k) == 1 { p = 1 } p { print } /^sig / { p = 0 }' "$2"; }
# field KEY FILE: a field's value in the first document of FILE.
field() { sed -n "s/^$1 //p" "$2" | head -n 1; }
# resign KEY FILE SED...: FILE with the sed edits applied, its signature
# dropped and made again with KEY.
resign() {
	k=$1 f=$2
	shift 2
	sed "$@" -e '/^sig /d' "$f" >.rs && echo 'sig -' >>.rs && dai-keygen -S -k "$k" .rs
}
# hex2bin HEX: the bytes.
hex2bin() {
	h=$1 s=
	while [ -n "$h" ]; do
		b=${h%"${h#??}"}
		h=${h#??}
		s="$s$(printf '\\%03o' "0x$b")"
	done
	printf "$s"
}
# relabel TRACE JOBID MODELID: a trace file's header naming another job and model.
relabel() { hex2bin "${2#b2:}${3#b2:}" | dd of="$1" bs=1 seek=40 conv=notrunc 2>/dev/null; }
# patch FILE OFFSET: flip the lowest bit of the byte at OFFSET (1 ulp of a
# little-endian float starting there).
patch() {
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	hex2bin "$(printf '%02x' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
