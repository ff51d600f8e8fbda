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
