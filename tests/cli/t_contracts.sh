# t_contracts.sh - the committed contract bytecode and ABI are what solc
# (the npm package that make npm-deps installs) makes of the source.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$DAI_TESTDATA/../.." && pwd)
SOLC=${DAI_NPM_DIR:-$ROOT/build/npm}/node_modules
if ! command -v node >/dev/null 2>&1 || [ ! -d "$SOLC/solc" ]; then
	echo "# skip: solc not installed (make npm-deps): committed bytecode not rechecked"
	exit 0
fi
mkdir out
if (cd "$ROOT" && node mk/solc.js "$SOLC" "$TMPDIR/out" "$TMPDIR/out") 2>.err; then
	t "committed bytecode matches solc" cmp out/DaiEscrow.bin "$ROOT/contracts/DaiEscrow.bin"
	t "committed ABI matches solc" cmp out/DaiEscrow.abi "$ROOT/contracts/DaiEscrow.abi"
	t "embedded bytecode matches solc" cmp out/escrow_code.c "$ROOT/src/lib/escrow_code.c"
else
	fail "contract compiles" "$(head -c 300 .err)"
fi
