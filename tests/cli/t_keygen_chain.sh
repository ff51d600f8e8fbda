# t_keygen_chain.sh - dai-keygen --chain: a key's chain address is the one
# dai-settle acts as and binds to; --export-chain-secret gives the secret of
# that address, to a file or a terminal only.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$DAI_TESTDATA/../.." && pwd)
export DAI_PASSPHRASE=
NODE_URL=http://127.0.0.1:1 # address and bind need no node

t "-o NAME --chain" dai-keygen -n -o plain --chain
sed -n 1p .out >did
sed -n 2p .out >addr
[ "$(wc -l <.out)" -eq 2 ] && [ "$(cat did)" = "$(dai-keygen -p plain.pub)" ] &&
	pass "prints the did, then the address" || fail "prints the did, then the address" "$(cat .out)"
A=$(cat addr)
echo "$A" | grep -qx '0x[0-9a-fA-F]\{40\}' && pass "an address: 0x and 40 hex digits" ||
	fail "an address: 0x and 40 hex digits" "$A"
t "-p KEY --chain" dai-keygen --chain -p plain.key
[ "$(cat .out)" = "$A" ] && pass "-p --chain gives the same address" || fail "-p --chain gives the same address" "$(cat .out)"
[ "$(dai-settle --chain $NODE_URL address -k plain.key)" = "$A" ] &&
	pass "dai-settle acts as that address" || fail "dai-settle acts as that address"
dai-settle --chain $NODE_URL -k plain.key bind >plain.bind
[ "$(field address plain.bind)" = "$(echo "$A" | tr 'A-F' 'a-f')" ] &&
	pass "the key's dai-bind names that address" || fail "the key's dai-bind names that address" "$(cat plain.bind)"
dai-keygen -n -o other >/dev/null 2>&1
[ "$(dai-keygen --chain -p other.key)" != "$A" ] && pass "another key, another address" ||
	fail "another key, another address"

# An encrypted key: the address needs the passphrase.
DAI_PASSPHRASE=open-sesame dai-keygen -o sealed --chain >.out 2>.err || fail "encrypted key made" "$(cat .err)"
SA=$(sed -n 2p .out)
[ "$(DAI_PASSPHRASE=open-sesame dai-keygen --chain -p sealed.key)" = "$SA" ] &&
	pass "encrypted key: the same address" || fail "encrypted key: the same address"
DAI_PASSPHRASE=wrong dai-keygen --chain -p sealed.key >.out 2>.err
[ $? -eq 1 ] && grep -q "wrong passphrase" .err && [ ! -s .out ] && pass "a wrong passphrase gives no address" ||
	fail "a wrong passphrase gives no address" "$(cat .err)"
tfail "--chain -p of a public key refused" dai-keygen --chain -p plain.pub
grep -q "comes from the secret key" .err && pass "says the address needs the secret key" ||
	fail "says the address needs the secret key" "$(cat .err)"
tfail "--chain -p of a did refused" dai-keygen --chain -p "$(cat did)"

# The secret, for a wallet.
t "export the chain secret to a file" dai-keygen --export-chain-secret plain.key plain.hex
grep -qx '[0-9a-f]\{64\}' plain.hex && pass "64 hex digits and a newline" || fail "64 hex digits and a newline" "$(cat plain.hex)"
[ "$(stat -c %a plain.hex)" = 600 ] && pass "the secret file is mode 0600" || fail "the secret file is mode 0600"
grep -q "WARNING: plain.hex holds the secret of chain account $A" .err && pass "warns, naming the account" ||
	fail "warns, naming the account" "$(cat .err)"
cp plain.hex before
tfail "an existing file is not overwritten" dai-keygen --export-chain-secret other.key plain.hex
cmp -s before plain.hex && pass "the file is left as it was" || fail "the file is left as it was"
dai-keygen --export-chain-secret plain.key >.out 2>.err </dev/null
[ $? -eq 2 ] && [ ! -s .out ] && grep -q "refusing to write a secret key to a pipe" .err &&
	pass "never to a pipe" || fail "never to a pipe" "$(cat .out .err)"
# To a terminal: script(1) gives the command one.
if command -v script >/dev/null 2>&1; then
	script -qec "dai-keygen --export-chain-secret plain.key" /dev/null </dev/null >tty.out 2>&1
	head -n 1 tty.out | tr -d '\r' >tty.hex
	cmp -s tty.hex plain.hex && grep -q "WARNING: that is the secret of chain account $A" tty.out &&
		pass "to a terminal, with the warning" || fail "to a terminal, with the warning" "$(cat tty.out)"
else
	echo "# skip: no script(1): export to a terminal not tested"
fi
DAI_PASSPHRASE=wrong dai-keygen --export-chain-secret sealed.key sealed.hex >.out 2>.err
[ $? -eq 1 ] && [ ! -e sealed.hex ] && pass "a wrong passphrase exports nothing" ||
	fail "a wrong passphrase exports nothing" "$(cat .err)"
# The exported secret is the address's key, checked by another implementation
# of secp256k1 and Keccak-256 (node's crypto and js-sha3, which solc brings).
MODS=$ROOT/build/npm/node_modules
if command -v node >/dev/null 2>&1 && [ -d "$MODS/js-sha3" ]; then
	got=$(NODE_PATH=$MODS node -e '
		const c = require("crypto"), keccak = require("js-sha3").keccak256;
		const e = c.createECDH("secp256k1");
		e.setPrivateKey(Buffer.from(require("fs").readFileSync(process.argv[1], "utf8").trim(), "hex"));
		const a = keccak(e.getPublicKey().subarray(1)).slice(-40), h = keccak(a);
		console.log("0x" + [...a].map((c, i) => parseInt(h[i], 16) >= 8 ? c.toUpperCase() : c).join(""));' plain.hex)
	[ "$got" = "$A" ] && pass "the secret is the address's key, EIP-55 checksummed" ||
		fail "the secret is the address's key, EIP-55 checksummed" "$got"
else
	echo "# skip: no node with js-sha3 (make npm-deps): exported secret not checked against its address"
fi

u() {
	name=$1
	shift
	"$@" >.out 2>.err </dev/null
	rc=$?
	if [ "$rc" -eq 2 ] && grep -q '^usage:' .err; then pass "usage: $name"; else fail "usage: $name" "exit $rc"; fi
}
u "--chain alone" dai-keygen --chain
u "--chain with -V" dai-keygen --chain -V plain.pub
u "--chain with -S" dai-keygen --chain -S -k plain.key
u "--export-chain-secret with -p" dai-keygen --export-chain-secret plain.key -p plain.key
u "--export-chain-secret with two files" dai-keygen --export-chain-secret plain.key a b
exit 0
