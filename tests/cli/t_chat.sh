# t_chat.sh - dai-infer --chat, --system, --raw: the ids a chat turn feeds
# for two real templates (ChatML, Llama 3) against llama.cpp's, flags and
# errors (the formats themselves are tested in tests/unit/test_chat.c).
. "$(dirname "$0")/lib.sh"

M=$DATA/a_f32.gguf

# --raw is the default: the same ids with and without it.
t "raw prompt" dai-infer -m "$M" -p "Once upon a time" -n 0 --ids raw.ids
t "--raw prompt" dai-infer -m "$M" -p "Once upon a time" -n 0 --raw --ids raw2.ids
if cmp -s raw.ids raw2.ids; then pass "--raw is the default"; else fail "--raw is the default"; fi
t "--chat then --raw: the last wins" dai-infer -m "$M" -p x -n 0 --chat --raw

# A model without tokenizer.chat_template: one line naming the key, exit 1.
dai-infer -m "$M" -p "Hi" -n 0 --chat >/dev/null 2>chat.err
rc=$?
if [ $rc -eq 1 ] && grep -q "tokenizer.chat_template" chat.err && [ "$(wc -l <chat.err)" -eq 1 ]; then
	pass "--chat without a template fails with one line"
else
	fail "--chat without a template fails with one line" "exit $rc: $(cat chat.err)"
fi

# Usage errors (exit 2).
printf '\001\000\000\000' >one.i32
dai-infer -m "$M" -p "Hi" --system "Be brief" >/dev/null 2>&1
if [ $? -eq 2 ]; then pass "--system without --chat is a usage error"; else fail "--system without --chat is a usage error"; fi
dai-infer -m "$M" --prompt-ids one.i32 --chat >/dev/null 2>&1
if [ $? -eq 2 ]; then pass "--chat with --prompt-ids is a usage error"; else fail "--chat with --prompt-ids is a usage error"; fi

# A chat turn in the model's format. mkgguf --chat writes a model with the
# template and its control tokens (tests/tools/llama_gen.h); the ids are
# those llama.cpp feeds for the same turn (tests/tools/chat_ids.cpp, see
# tests/data/README.md).
# i32 "ID ...": the ids as int32 little-endian (ids below 65536).
i32() {
	for i in $1; do
		printf "\\$(printf %03o $((i % 256)))\\$(printf %03o $((i / 256)))\\000\\000"
	done
}
if [ -z "${DAI_MKGGUF:-}" ] || [ ! -x "$DAI_MKGGUF" ]; then
	fail "chat formats" "DAI_MKGGUF does not name the model generator"
	exit 0
fi
U="Hi there, cat!" S="Be brief."
CHATML_S="510 435 347 341 342 327 335 13 292 327 418 340 331 327 328 272 511 447 13 510 437 341 327 340 13 298 331 436 330 327 340 327 270 419 487 259 511 447 13 510 484 341 331 341 342 475 342 13"
CHATML="510 437 341 327 340 13 298 331 436 330 327 340 327 270 419 487 259 511 447 13 510 484 341 331 341 342 475 342 13"
LLAMA3_S="507 509 435 347 341 342 327 335 510 447 13 13 292 327 418 340 331 327 328 272 511 509 437 341 327 340 510 447 13 13 298 331 436 330 327 340 327 270 419 487 259 511 509 484 341 331 341 342 475 342 510 447 13 13"
LLAMA3="507 509 437 341 327 340 510 447 13 13 298 331 436 330 327 340 327 270 419 487 259 511 509 484 341 331 341 342 475 342 510 447 13 13"
for f in chatml llama3; do
	"$DAI_MKGGUF" --vocab 512 --chat $f --name $f $f.gguf
	case $f in
	chatml) with=$CHATML_S without=$CHATML ;;
	llama3) with=$LLAMA3_S without=$LLAMA3 ;;
	esac
	i32 "$with" >$f.s.want
	i32 "$without" >$f.want
	t "$f: --chat --system" dai-infer -m $f.gguf --chat --system "$S" -p "$U" -n 0 --ids $f.s.got
	if cmp -s $f.s.got $f.s.want; then
		pass "$f: --chat --system feeds llama.cpp's ids"
	else
		fail "$f: --chat --system feeds llama.cpp's ids" "$(od -An -td4 $f.s.got | tr -s ' \n' ' ')"
	fi
	t "$f: --chat" dai-infer -m $f.gguf --chat -p "$U" -n 0 --ids $f.got
	if cmp -s $f.got $f.want; then
		pass "$f: --chat without --system feeds llama.cpp's ids"
	else
		fail "$f: --chat without --system feeds llama.cpp's ids" "$(od -An -td4 $f.got | tr -s ' \n' ' ')"
	fi
	# the same turn as hand-made ids: the same generation
	dai-infer -m $f.gguf --chat --system "$S" -p "$U" -n 4 --temp 0 --ids $f.gen1 >/dev/null 2>&1
	dai-infer -m $f.gguf --prompt-ids $f.s.want -n 4 --temp 0 --ids $f.gen2 >/dev/null 2>&1
	if [ -s $f.gen1 ] && cmp -s $f.gen1 $f.gen2 && [ "$(wc -c <$f.gen1)" -eq $(($(wc -c <$f.s.want) + 16)) ]; then
		pass "$f: --chat generates as --prompt-ids of the turn's ids"
	else
		fail "$f: --chat generates as --prompt-ids of the turn's ids"
	fi
	# --raw: a marker in the text is plain text, not its control token
	case $f in
	chatml) mark="<|im_start|>" id=510 ;;
	llama3) mark="<|start_header_id|>" id=509 ;;
	esac
	dai-infer -m $f.gguf --raw -p "${mark}user" -n 0 --ids $f.raw >/dev/null 2>&1
	if [ -s $f.raw ] && ! od -An -td4 -v $f.raw | tr -s ' \n' '\n\n' | grep -qx "$id"; then
		pass "$f: --raw does not apply the template"
	else
		fail "$f: --raw does not apply the template"
	fi
done
