# dai-pack: create, verify, id, list, info, extract; damaged, truncated and
# hostile packs; gzip packs through the cache; plain GGUF files.
. "$(dirname "$0")/lib.sh"

dai-keygen -n -o pub >/dev/null 2>&1 || fail "keygen"
cp "$DATA/a_q8_0.gguf" model.gguf
printf 'Use freely.\n' >LICENSE

# flip FILE OFFSET: changes one byte in place.
flip() {
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $(((b + 1) % 256)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

t "create" dai-pack create -k pub.key -n "tiny q8" -o m.dai.tar model.gguf LICENSE
id=$(cat .out)
t "verify prints the pack id" sh -c "dai-pack verify m.dai.tar | grep -qx '$id'"
t "id prints the pack id" sh -c "test \"\$(dai-pack id m.dai.tar)\" = '$id'"
t "list" sh -c "dai-pack list m.dai.tar | awk '{print \$3}' | tr '\n' ' ' | grep -qx 'MANIFEST model.gguf LICENSE '"
t "list sizes" sh -c "dai-pack list m.dai.tar | grep -q \"^$(wc -c <model.gguf) b2:[0-9a-f]* model.gguf\$\""
dai-pack info m.dai.tar >info.txt 2>&1
t "info shows the manifest" grep -qx 'dai-manifest 1' info.txt
t "info shows the name" grep -qx 'name tiny q8' info.txt
t "info shows the model" grep -q '^  tensor-type q8_0$' info.txt
t "info lists tensors" grep -q '^tensor token_embd.weight' info.txt
t "tar reads the pack" sh -c "tar tf m.dai.tar | tr '\n' ' ' | grep -qx 'MANIFEST model.gguf LICENSE '"

# A key file under a passphrase from DAI_PASSPHRASE.
DAI_PASSPHRASE=sesame dai-keygen -o enc >/dev/null 2>&1
t "create with an encrypted key" env DAI_PASSPHRASE=sesame dai-pack create -k enc.key -o e.dai.tar model.gguf
tfail "wrong passphrase" env DAI_PASSPHRASE=wrong dai-pack create -k enc.key -o w.dai.tar model.gguf
t "no output after a failure" test ! -e w.dai.tar

# One changed byte, in every region: headers, manifest, signature, model, trailer.
size=$(wc -c <m.dai.tar)
mlen=$(tar xOf m.dai.tar MANIFEST | wc -c)
siglen=$(tar xOf m.dai.tar MANIFEST | tail -n 1 | wc -c)
for off in 0 100 148 257 $((512 + 10)) $((512 + mlen - siglen + 20)) $((512 + mlen - 3)) \
	$((512 + mlen)) 1024 1100 1600 $((1536 + 3000)) $((size / 2)) $((size - 1100)) \
	$((size - 1024)) $((size - 1)); do
	cp m.dai.tar bad.dai.tar
	flip bad.dai.tar "$off"
	tfail "changed byte at $off caught" dai-pack verify bad.dai.tar
done
cp m.dai.tar bad.dai.tar
flip bad.dai.tar $((512 + 10))
tfail "changed manifest: id refuses too" dai-pack id bad.dai.tar
for n in 0 100 512 1000 $((size / 2)) $((size - 512)) $((size - 1)); do
	head -c "$n" m.dai.tar >cut.dai.tar
	tfail "truncated to $n" dai-pack verify cut.dai.tar
done
head -c $((size - 512)) m.dai.tar >cut.dai.tar
t "truncation message" sh -c "dai-pack verify cut.dai.tar 2>&1 | grep -q 'truncated at offset'"
cat m.dai.tar LICENSE >long.dai.tar
tfail "data after the end" dai-pack verify long.dai.tar

# Wrong order, extra and missing members: rebuilt with tar (ustar).
mkdir parts && (cd parts && tar xf ../m.dai.tar)
(cd parts && tar --format=ustar -b1 -cf ../order.tar MANIFEST LICENSE model.gguf)
tfail "wrong member order" dai-pack verify order.tar
grep -q "out of order" .err && pass "order message" || fail "order message" "$(cat .err)"
(cd parts && cp LICENSE EXTRA && tar --format=ustar -b1 -cf ../extra.tar MANIFEST model.gguf LICENSE EXTRA)
tfail "extra member" dai-pack verify extra.tar
grep -q "extra member 'EXTRA'" .err && pass "extra message" || fail "extra message" "$(cat .err)"
(cd parts && tar --format=ustar -b1 -cf ../missing.tar MANIFEST model.gguf)
tfail "missing member" dai-pack verify missing.tar
grep -q "'LICENSE' listed in the manifest is missing" .err && pass "missing message" || fail "missing message" "$(cat .err)"

# Hostile members: never written, nothing outside the directory.
mkdir -p evil/in && (cd parts && ln -s /etc/passwd LICENSE.lnk && mv LICENSE.lnk LICENSE.x &&
	rm LICENSE && mv LICENSE.x LICENSE && tar --format=ustar -b1 -cf ../sym.tar MANIFEST model.gguf LICENSE)
tfail "symlink member" dai-pack extract sym.tar evil/in
grep -q "symbolic link" .err && pass "symlink message" || fail "symlink message" "$(cat .err)"
t "symlink: nothing written" sh -c 'test -z "$(ls -A evil/in)"'
mkdir -p trav/a/b && printf 'Use freely.\n' >trav/a/LICENSE && cp parts/MANIFEST parts/model.gguf trav/a/b/
(cd trav/a/b && tar --format=ustar -b1 -P -cf ../../../trav.tar MANIFEST model.gguf ../LICENSE)
tfail "path traversal member" dai-pack extract trav.tar evil/in
t "traversal: nothing written" sh -c 'test -z "$(ls -A evil/in)" && test ! -e evil/LICENSE'
(cd trav/a/b && tar --format=ustar -b1 -P -cf ../../../abs.tar MANIFEST model.gguf "$TMPDIR/LICENSE")
tfail "absolute path member" dai-pack extract abs.tar evil/in

# Extract.
mkdir out
t "extract" dai-pack extract m.dai.tar out
t "extracted model" cmp out/model.gguf model.gguf
t "extracted license" cmp out/LICENSE LICENSE
t "extracted manifest" sh -c "tar xOf m.dai.tar MANIFEST | cmp - out/MANIFEST"
tfail "extract refuses to overwrite" dai-pack extract m.dai.tar out
tfail "extract into a missing directory" dai-pack extract m.dai.tar nowhere

# gzip packs.
t "create -z" dai-pack create -k pub.key -n "tiny q8" -z -o m.dai.tgz model.gguf LICENSE
idz=$(cat .out)
t "gzip pack has the same id" test "$idz" = "$id"
t "gzip is gzip" sh -c "gzip -t m.dai.tgz"
t "verify gzip" sh -c "dai-pack verify m.dai.tgz | grep -qx '$id'"
t "info gzip" dai-pack info m.dai.tgz
t "unpacked into the cache" cmp "$HOME/.cache/dai/${id#b2:}.dai.tar" m.dai.tar
t "cache under XDG_CACHE_HOME" env XDG_CACHE_HOME="$TMPDIR/xdg" dai-pack info m.dai.tgz
t "XDG cache entry" test -f "$TMPDIR/xdg/dai/${id#b2:}.dai.tar"
head -c 2000 m.dai.tgz >cut.dai.tgz
tfail "truncated gzip" dai-pack verify cut.dai.tgz

# Plain GGUF files.
t "info on a plain GGUF" sh -c "dai-pack info model.gguf | grep -q 'plain GGUF file, without a manifest'"
tfail "verify on a plain GGUF" dai-pack verify model.gguf
grep -q "plain GGUF file, not a pack" .err && pass "plain GGUF message" || fail "plain GGUF message" "$(cat .err)"

# Bad input and usage.
tfail "create from a non-GGUF" dai-pack create -k pub.key -o x.dai.tar LICENSE
t "no partial output" test ! -e x.dai.tar
tfail "create into a missing directory" dai-pack create -k pub.key -o no/x.dai.tar model.gguf
tfail "verify a missing file" dai-pack verify absent.dai.tar
tfail "verify a non-pack" dai-pack verify LICENSE
dai-pack >/dev/null 2>&1
[ $? -eq 2 ] && pass "no arguments: usage, exit 2" || fail "no arguments: usage, exit 2"
dai-pack create -o x.dai.tar model.gguf >/dev/null 2>&1
[ $? -eq 2 ] && pass "create without a key: exit 2" || fail "create without a key: exit 2"
t "-h" sh -c "dai-pack -h | grep -q 'usage: dai-pack create'"
t "no stray files" sh -c "! ls -A | grep -q '\\.tmp\\.'"
