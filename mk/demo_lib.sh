# demo_lib.sh - what the demo stories share (mk/demo.sh on the embedded
# ledger, mk/demo_chain.sh on a local EVM node): the scratch directory, the
# way commands are shown, the people, the model pack, the jobs and the lazy
# worker's made-up receipt. Sourced by a script that has set -eu.

# demo_init BIN-DIR MKGGUF: the tools first on PATH, a scratch directory as
# the working and home directory (removed on exit), MODEL=path.gguf honoured.
demo_init() {
	bin=$(cd "$1" && pwd)
	mkgguf=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
	model=${MODEL:-}
	[ -z "$model" ] || model=$(cd "$(dirname "$model")" && pwd)/$(basename "$model")
	PATH="$bin:$PATH"
	work=$(mktemp -d "${TMPDIR:-/tmp}/dai-demo.XXXXXX")
	at_exit 'rm -rf "$work"'
	trap 'exit 130' INT TERM # so that the exit actions run on ^C too
	cd "$work"
	export DAI_LEDGER="$work/ledger" HOME="$work" XDG_CACHE_HOME="$work/cache"
	unset DAI_PASSPHRASE
}

# at_exit CMD: run CMD when the script ends (the latest first).
at_exit() {
	demo_exit_cmds="$1${demo_exit_cmds:+; $demo_exit_cmds}"
	# shellcheck disable=SC2064 # expanded now, on purpose
	trap "$demo_exit_cmds" EXIT
}

say() { printf '\n== %s\n' "$*"; }
# run CMD...: show the command (on stderr, so redirections stay clean), run it.
run() { printf '$ %s\n' "$*" >&2; "$@"; }
field() { sed -n "s/^$1 //p" "$2" | head -n 1; }
# docs KIND FILE: the documents of one kind in a stream.
docs() { awk -v k="dai-$1 " 'index($0, k) == 1 { p = 1 } p { print } /^sig / { p = 0 }' "$2"; }
now() { export DAI_NOW="$1"; }
# docid FILE: the id of the first document of FILE.
docid() { dai-keygen -V "$1" | head -n 1 | cut -d' ' -f2; }

# make_keys WHO...: a key without passphrase for each (WHO.key, WHO.pub).
make_keys() {
	for who in "$@"; do
		dai-keygen -n -o "$who" >/dev/null 2>&1
	done
}

# pack_model: the publisher packs MODEL or a small random one; sets PACK and
# DAI_PACKS (where the proof checks find the model).
pack_model() {
	if [ -n "$model" ]; then
		echo "   using $model"
		cp "$model" model.gguf
	else
		run "$mkgguf" --dim 128 --layers 4 --heads 4 --kv-heads 2 --ffn 384 --vocab 512 \
			--ctx 256 --type q8_0 --seed 11 --name demo model.gguf >/dev/null
	fi
	run dai-pack create -k publisher.key -n demo -o model.dai.tar model.gguf >/dev/null
	PACK=$(dai-pack id model.dai.tar)
	echo "   pack id $PACK"
	export DAI_PACKS="$work/model.dai.tar"
}

# show_job FILE: a job's id and max price.
show_job() {
	echo "   job $(docs job "$1" | dai-keygen -V | cut -d' ' -f2), max price $(docs job "$1" | field max-price /dev/stdin)"
}

# show_receipt FILE: what the receipt of a claim says.
show_receipt() {
	docs receipt "$1" >receipt
	echo "   receipt: $(field tokens-in receipt) tokens in, $(field tokens-out receipt) out, trace root $(field trace-root receipt | cut -c1-19)..."
	printf '   text: %s\n' "$(field output receipt | base64 -d | tr '\n' ' ' | cut -c1-200)"
}

# validate_honest CLAIMED: the validator replays the job and checks the receipt.
validate_honest() {
	JOB=$(field job receipt)
	run dai-prove verify -k validator.key -m model.dai.tar -T "traces/${JOB#b2:}.trace" "$1" >verified
	echo "   verdict: $(docs verdict verified | field result /dev/stdin)"
}

# lazy_claim JOB-FILE: the worker runs the job but signs a receipt whose last
# 16 tokens are made up; writes claim2 (the job, then the lazy receipt).
lazy_claim() {
	dai-infer -k worker.key -m model.dai.tar -T traces <"$1" 2>/dev/null >ran2
	docs receipt ran2 >honest2
	ids=$(field output-ids honest2)
	made_up=$({ printf %s "$ids" | base64 -d | head -c 96; head -c 64 /dev/zero; } | base64 -w0)
	sed -e "s|^output-ids .*|output-ids $made_up|" \
		-e '/^sig /d' honest2 >lazy.txt
	echo 'sig -' >>lazy.txt
	dai-keygen -S -k worker.key lazy.txt >lazy
	echo "   the worker signs a receipt for $(field tokens-out honest2) tokens, the last 16 made up"
	docs job "$1" >claim2
	cat lazy >>claim2
}

# catch_lie: the validator finds the lie in claim2 and makes the fraud proof
# (fraud.doc).
catch_lie() {
	if dai-prove verify -k validator.key -m model.dai.tar claim2 >verdict2 2>/dev/null; then
		echo "   (the lazy receipt verified: this should not happen)"
		exit 1
	fi
	echo "   verdict: $(docs verdict verdict2 | field result /dev/stdin): $(docs verdict verdict2 | field reason /dev/stdin)"
	echo '$ dai-prove challenge -k validator.key -m model.dai.tar < claim2 > fraud'
	dai-prove challenge -k validator.key -m model.dai.tar claim2 2>/dev/null >fraud
	docs fraud fraud >fraud.doc
	echo "   fraud proof: kind $(field kind fraud.doc), $(wc -c <fraud.doc) bytes"
}
