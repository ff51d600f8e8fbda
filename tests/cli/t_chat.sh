# t_chat.sh - dai-infer --chat, --system, --raw: flags and errors (the
# formats themselves are tested in tests/unit/test_chat.c).
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
