# t_keygen.sh - dai-keygen: key files, signing, verifying, passphrases.
. "$(dirname "$0")/lib.sh"

# Every encrypted operation names its passphrase, so no case ever waits on a
# terminal.
export DAI_PASSPHRASE=
unset DAI_NEW_PASSPHRASE

# hexof FILE: the file's bytes as one line of lowercase hex.
hexof() { od -An -v -tx1 "$1" | tr -d ' \n'; }

# flip FILE OFFSET MASK: FILE with the byte at OFFSET xor MASK, on stdout.
flip() {
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	head -c "$2" "$1"
	printf "\\$(printf %o $((b ^ $3)))"
	tail -c +$(($2 + 2)) "$1"
}

# flip_all NAME FILE MASK [STEP]: every STEP-th byte of the signed FILE,
# flipped one at a time, must make dai-keygen -V fail with exit 1 (a check
# that did not pass, never a crash) and a BAD line or a message.
flip_all() {
	n=$(wc -c <"$2")
	step=${4:-1}
	i=0
	bad=""
	tried=0
	while [ "$i" -lt "$n" ]; do
		flip "$2" "$i" "$3" >flipped
		dai-keygen -V <flipped >.vout 2>.verr
		rc=$?
		if [ "$rc" -ne 1 ] || { ! grep -q 'BAD' .vout && [ ! -s .verr ]; }; then
			bad="$bad $i(rc=$rc)"
		fi
		tried=$((tried + 1))
		i=$((i + step))
	done
	if [ -z "$bad" ] && [ "$tried" -gt 0 ]; then pass "$1 ($tried flips)"; else fail "$1" "accepted or crashed at offsets:$bad"; fi
}

# ---- creating keys ----
t "create an encrypted key" env DAI_PASSPHRASE=pw-alice dai-keygen -o alice -C "alice test key"
alice=$(cat .out)
case $alice in did:key:z6Mk*) pass "create prints the did" ;; *) fail "create prints the did" "got '$alice'" ;; esac
if [ "$(stat -c %a alice.key)" = 600 ]; then pass "secret key file is mode 0600"; else fail "secret key file is mode 0600" "$(stat -c %a alice.key)"; fi
if [ "$(stat -c %a alice.pub)" = 644 ]; then pass "public key file is mode 0644"; else fail "public key file is mode 0644"; fi
if head -n 1 alice.key | grep -qx 'dai-seckey 1' && grep -qx 'kdf argon2id' alice.key && ! grep -q '^seed ' alice.key; then
	pass "secret key file is sealed with argon2id"
else
	fail "secret key file is sealed with argon2id"
fi
if grep -qx 'comment alice test key' alice.pub && grep -qx "did $alice" alice.pub; then pass "public key names did and comment"; else fail "public key names did and comment"; fi
t "DAI_NOW fixes the time of a new public key" env DAI_NOW=2026-01-02T03:04:05Z dai-keygen -n -o clock
if grep -qx 'time 2026-01-02T03:04:05Z' clock.pub; then pass "the public key carries DAI_NOW"; else fail "the public key carries DAI_NOW" "$(cat clock.pub)"; fi
DAI_PASSPHRASE=pw-bob dai-keygen -o bob >/dev/null 2>&1
bob=$(dai-keygen -p bob.pub)

# ---- -p ----
for what in alice.pub alice.key "$alice"; do
	if [ "$(dai-keygen -p "$what" 2>/dev/null)" = "$alice" ]; then pass "-p $what prints the did"; else fail "-p $what prints the did"; fi
done
tfail "-p of a file that is not a key" dai-keygen -p /dev/null
printf 'dai-note 1\ntext x\nsig -\n' >note.unsigned
tfail "-p of a document that is not a key" dai-keygen -p note.unsigned
# A .pub whose self-signature is broken is not a key.
sed 's/^comment alice test key$/comment mallory key/' alice.pub >forged.pub
tfail "-p refuses a public key with a bad self-signature" dai-keygen -p forged.pub

# ---- refusing to overwrite ----
cp alice.key alice.key.orig
cp alice.pub alice.pub.orig
tfail "create refuses to overwrite" env DAI_PASSPHRASE=other dai-keygen -o alice
if grep -q 'already exists' .err && cmp -s alice.key alice.key.orig && cmp -s alice.pub alice.pub.orig; then
	pass "existing key files are left untouched"
else
	fail "existing key files are left untouched" "$(cat .err)"
fi
echo keep >half.pub
tfail "create refuses when only NAME.pub exists" env DAI_PASSPHRASE=other dai-keygen -o half
if [ ! -e half.key ] && [ "$(cat half.pub)" = keep ]; then pass "no half pair is made"; else fail "no half pair is made"; fi

# ---- sign and verify ----
printf 'dai-note 1\ntext hello world\nn 42\nsig -\n' >note.unsigned
t "sign an unsigned document" env DAI_PASSPHRASE=pw-alice sh -c 'dai-keygen -S -k alice.key <note.unsigned >note.doc'
signer=$(tail -n 1 note.doc | cut -d' ' -f2)
if [ "did:key:$signer" = "$alice" ] && [ "$(head -n 3 note.doc)" = "$(head -n 3 note.unsigned)" ]; then
	pass "signing keeps the body and names the signer"
else
	fail "signing keeps the body and names the signer"
fi
t "sign a file named as operand" env DAI_PASSPHRASE=pw-alice dai-keygen -S -k alice.key note.unsigned
if cmp -s .out note.doc; then pass "signing is deterministic"; else fail "signing is deterministic"; fi
t "verify a signed document" dai-keygen -V note.doc
id=$(cat note.doc | b2sum -l 256 | cut -d' ' -f1)
if [ "$(cat .out)" = "dai-note b2:$id $alice ok" ]; then pass "verify prints kind, id, signer, ok"; else fail "verify prints kind, id, signer, ok" "$(cat .out)"; fi
t "verify from stdin" sh -c 'dai-keygen -V <note.doc'
t "verify -P PUB with the right signer" dai-keygen -V -P alice.pub note.doc
t "verify -P DID with the right signer" dai-keygen -V -P "$alice" note.doc
t "verify -P KEY (no passphrase needed)" dai-keygen -V -P alice.key note.doc
tfail "verify -P PUB with the wrong signer" dai-keygen -V -P bob.pub note.doc
if grep -q 'BAD' .out; then pass "wrong signer is reported BAD"; else fail "wrong signer is reported BAD" "$(cat .out)"; fi
t "verify a public key file" dai-keygen -V alice.pub
tfail "verify an unsigned document" dai-keygen -V note.unsigned
if grep -q 'BAD: unsigned' .out; then pass "unsigned is reported BAD"; else fail "unsigned is reported BAD" "$(cat .out)"; fi

# ---- streams ----
cat alice.pub note.doc >two.docs
t "two documents in one stream" sh -c 'dai-keygen -V <two.docs'
if [ "$(wc -l <.out)" -eq 2 ] && [ "$(grep -c ' ok$' .out)" -eq 2 ] && head -n 1 .out | grep -q '^dai-key ' &&
	tail -n 1 .out | grep -q '^dai-note '; then
	pass "both documents verified, one line each, in order"
else
	fail "both documents verified, one line each, in order" "$(cat .out)"
fi
flip note.doc 20 1 >note.bad
cat alice.pub note.bad bob.pub >three.docs
tfail "a bad document in the middle of a stream fails the stream" sh -c 'dai-keygen -V <three.docs'
if [ "$(wc -l <.out)" -eq 3 ] && [ "$(sed -n 2p .out | grep -c 'BAD')" -eq 1 ] && [ "$(grep -c ' ok$' .out)" -eq 2 ]; then
	pass "the documents around a bad one are still verified"
else
	fail "the documents around a bad one are still verified" "$(cat .out)"
fi
printf 'dai-note 1\r\ntext x\r\nsig -\r\n' >crlf.doc
tfail "CRLF document is rejected" dai-keygen -V crlf.doc
printf 'not a document\n' >junk
tfail "junk is rejected" dai-keygen -V junk
head -c 100 note.doc >cut.doc
tfail "a truncated stream is rejected" dai-keygen -V cut.doc
if grep -q 'input ends inside a document' .err; then pass "truncation is named"; else fail "truncation is named" "$(cat .err)"; fi
: >empty
tfail "an empty stream is an error" dai-keygen -V empty
tfail "a missing input file is an error" dai-keygen -V no-such-file

# ---- every byte matters ----
flip_all "flip any byte of a signed note: rejected" note.doc 1
flip_all "flip any byte of a public key: rejected" alice.pub 1
flip_all "flip the high bit of every 3rd byte: rejected" alice.pub 128 3
flip_all "flip bit 5 of every 5th byte: rejected" note.doc 32 5
cat alice.pub note.doc >pair
flip_all "flip every 4th byte of a two-document stream: rejected" pair 2 4

# ---- passing documents through ----
printf 'dai-thing 3\nsome-key some value\nsig -\n' >thing.unsigned
DAI_PASSPHRASE=pw-bob dai-keygen -S -k bob.key <thing.unsigned >thing.doc 2>/dev/null
cat thing.doc note.unsigned >mixed
t "sign a mixed stream" env DAI_PASSPHRASE=pw-alice sh -c 'dai-keygen -S -k alice.key <mixed >mixed.out'
n1=$(wc -c <thing.doc)
if head -c "$n1" mixed.out | cmp -s - thing.doc; then pass "signed documents of unknown kinds pass through byte for byte"; else fail "signed documents of unknown kinds pass through byte for byte"; fi
dai-keygen -V mixed.out >.out 2>&1
if [ "$(cut -d' ' -f1,3,4 .out | tr '\n' ' ')" = "dai-thing $bob ok dai-note $alice ok " ]; then
	pass "unsigned documents are signed, signed ones keep their signer"
else
	fail "unsigned documents are signed, signed ones keep their signer" "$(cat .out)"
fi
tfail "refuses to sign a secret key file" env DAI_PASSPHRASE=pw-alice sh -c 'dai-keygen -S -k alice.key <bob.key >leak.out'
if [ ! -s leak.out ]; then pass "a secret key file is not echoed when signing"; else fail "a secret key file is not echoed when signing"; fi

# ---- passphrases ----
tfail "wrong passphrase" env DAI_PASSPHRASE=not-alice dai-keygen -S -k alice.key note.unsigned
if grep -q 'alice.key: wrong passphrase' .err && [ "$(wc -l <.err)" -eq 1 ] && ! grep -q 'not-alice' .err; then
	pass "wrong passphrase is one clear line without the secret"
else
	fail "wrong passphrase is one clear line without the secret" "$(cat .err)"
fi
if [ ! -s .out ]; then pass "nothing is signed with a wrong passphrase"; else fail "nothing is signed with a wrong passphrase"; fi
t "change the passphrase" env DAI_PASSPHRASE=pw-alice DAI_NEW_PASSPHRASE=pw-alice-2 dai-keygen -c alice.key
tfail "the old passphrase no longer opens the key" env DAI_PASSPHRASE=pw-alice dai-keygen -S -k alice.key note.unsigned
t "the new passphrase opens the key" env DAI_PASSPHRASE=pw-alice-2 dai-keygen -S -k alice.key note.unsigned
if [ "$(dai-keygen -p alice.key)" = "$alice" ] && [ "$(stat -c %a alice.key)" = 600 ] &&
	grep -qx 'comment alice test key' alice.key; then
	pass "change keeps the did, the comment and mode 0600"
else
	fail "change keeps the did, the comment and mode 0600"
fi
tfail "change needs the new passphrase" env DAI_PASSPHRASE=pw-alice-2 setsid -w dai-keygen -c alice.key
if grep -q 'DAI_NEW_PASSPHRASE' .err; then pass "missing new passphrase is named"; else fail "missing new passphrase is named" "$(cat .err)"; fi
tfail "no passphrase and no terminal" setsid -w dai-keygen -o nopass
if grep -q 'DAI_PASSPHRASE' .err && [ ! -e nopass.key ] && [ ! -e nopass.pub ]; then
	pass "no key files are left when the passphrase is missing"
else
	fail "no key files are left when the passphrase is missing" "$(cat .err)"
fi

# ---- the seed never appears in a sealed file ----
t "create an unencrypted key with -n" dai-keygen -n -o plain
if grep -q 'NOT be encrypted' .err; then pass "-n warns loudly"; else fail "-n warns loudly" "$(cat .err)"; fi
if [ "$(stat -c %a plain.key)" = 600 ]; then pass "unencrypted key file is mode 0600 too"; else fail "unencrypted key file is mode 0600 too"; fi
seed64=$(sed -n 's/^seed //p' plain.key)
printf '%s' "$seed64" | base64 -d >seed.bin 2>/dev/null
if [ "$(wc -c <seed.bin)" -eq 32 ]; then pass "an unencrypted key holds a 32-byte seed"; else fail "an unencrypted key holds a 32-byte seed"; fi
plain_did=$(dai-keygen -p plain.key)
t "seal an unencrypted key with -c" env DAI_NEW_PASSPHRASE=pw-plain dai-keygen -c plain.key
seedhex=$(hexof seed.bin)
if grep -q 'kdf argon2id' plain.key && ! grep -q '^seed ' plain.key && ! grep -qF "$seed64" plain.key &&
	! hexof plain.key | grep -q "$seedhex" && ! grep -qi "$seedhex" plain.key; then
	pass "the sealed file holds neither the seed nor its base64 or hex"
else
	fail "the sealed file holds neither the seed nor its base64 or hex"
fi
if [ "$(dai-keygen -p plain.key)" = "$plain_did" ]; then pass "sealing keeps the did"; else fail "sealing keeps the did"; fi
t "unseal with -c -n" env DAI_PASSPHRASE=pw-plain dai-keygen -c plain.key -n
if [ "$(sed -n 's/^seed //p' plain.key)" = "$seed64" ]; then pass "the sealed seed was the same seed"; else fail "the sealed seed was the same seed"; fi
# The seed bytes of an encrypted key never show up either: unseal a copy
# to learn them, then look for them in the original.
cp alice.key alice2.key
DAI_PASSPHRASE=pw-alice-2 dai-keygen -c alice2.key -n 2>/dev/null
aseed=$(sed -n 's/^seed //p' alice2.key)
printf '%s' "$aseed" | base64 -d >aseed.bin 2>/dev/null
if [ -n "$aseed" ] && ! grep -qF "$aseed" alice.key && ! hexof alice.key | grep -q "$(hexof aseed.bin)"; then
	pass "alice.key holds neither its seed nor its base64"
else
	fail "alice.key holds neither its seed nor its base64"
fi
# A sealed file whose fields were changed does not open.
sed 's/^opslimit 2$/opslimit 3/' alice.key >tampered.key
tfail "a tampered key file does not open" env DAI_PASSPHRASE=pw-alice-2 dai-keygen -S -k tampered.key note.unsigned

# ---- usage ----
u() {
	name=$1
	shift
	"$@" >.out 2>.err </dev/null
	rc=$?
	if [ "$rc" -eq 2 ] && grep -q '^usage:' .err; then pass "usage: $name"; else fail "usage: $name" "exit $rc"; fi
}
u "no mode" dai-keygen
u "two modes" dai-keygen -S -V
u "-S without -k" dai-keygen -S
u "-k without -S" dai-keygen -V -k alice.key
u "-P without -V" dai-keygen -p alice.pub -P bob.pub
u "-n with -p" dai-keygen -p alice.pub -n
u "-C without -o" dai-keygen -V -C hi
u "unknown flag" dai-keygen -x
u "operand to -o" dai-keygen -o zzz extra
u "two inputs to -V" dai-keygen -V a b
u "missing option argument" dai-keygen -o
if [ ! -e zzz.key ]; then pass "a usage error creates nothing"; else fail "a usage error creates nothing"; fi
t "-h prints usage" dai-keygen -h
if grep -q '^usage:' .out; then pass "-h usage goes to stdout"; else fail "-h usage goes to stdout"; fi

# A clock override that is not a time is an error, never the real clock.
DAI_NOW=yesterday dai-keygen -n -o badclock >.out 2>.err
[ $? -eq 2 ] && grep -q "DAI_NOW" .err && [ ! -e badclock.key ] && pass "a bad DAI_NOW is refused" \
	|| fail "a bad DAI_NOW is refused" "$(cat .err)"
