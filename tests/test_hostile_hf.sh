#!/usr/bin/env bash
# Hostile Hugging Face directories: tests/hostile/gen_hostile_hf.py writes
# ~30 tiny llama directories, each with one thing broken (safetensors
# header, shard index, config.json, tensors); `ember run -m DIR` on each
# must exit 1 with one "ember: error:" line holding the case's expected
# words (a clear error, never a crash or a hang), and so must `ember
# convert DIR OUT.gguf`, leaving neither OUT.gguf nor OUT.gguf.tmp. The
# valid tiny GPTQ checkpoint the GPTQ cases break (gptq_ok) must run and
# convert; converting it into a missing directory, or converting a path
# that is no directory, fails the same clean way.
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib.sh
if ! command -v python3 >/dev/null; then echo "SKIP hostile hf: needs python3"; exit 0; fi
if ! python3 tests/hostile/gen_hostile_hf.py "$T" 2>"$T/gen.log"; then
    bad "hostile hf: generator failed: $(tail -3 "$T/gen.log")"
    exit 1
fi
while IFS='|' read -r name words what; do
    [ -n "$name" ] || continue
    expect 1 "hostile hf $name ($what)" "$E" run -m "$T/$name" -p hi -n 1
    # the words must be in the message, not in the case's path
    if ! sed "s|$T/$name||g" "$T/err" | grep -qF -- "$words"; then
        bad "hostile hf $name: the error does not say '$words': $(head -c 300 "$T/err")"
    fi
    expect 1 "hostile hf convert $name" "$E" convert "$T/$name" "$T/out.gguf"
    if ! sed "s|$T/$name||g" "$T/err" | grep -qF -- "$words"; then
        bad "hostile hf convert $name: the error does not say '$words': $(head -c 300 "$T/err")"
    fi
    if [ -e "$T/out.gguf" ] || [ -e "$T/out.gguf.tmp" ]; then
        bad "hostile hf convert $name left a file behind"; rm -f "$T/out.gguf" "$T/out.gguf.tmp"
    fi
done <"$T/cases.txt"
# convert's own: the output's directory missing, the input no directory
if [ -d "$T/gptq_ok" ]; then
    "$E" convert "$T/gptq_ok" "$T/ok.gguf" 2>"$T/err" && "$E" run -m "$T/ok.gguf" -p abc -n 2 --temp 0 >/dev/null 2>&1 \
        && ok "hostile hf convert gptq_ok (the cases' valid base) converts and runs" \
        || bad "hostile hf convert gptq_ok: $(head -c 300 "$T/err")"
    expect 1 "convert into a missing directory" "$E" convert "$T/gptq_ok" "$T/nodir/out.gguf"
    grep -q 'No such file' "$T/err" && [ ! -e "$T/nodir" ] && ok "the error says why, nothing created" \
        || bad "convert into a missing directory: $(cat "$T/err")"
fi
expect 1 "convert a missing directory" "$E" convert "$T/none" "$T/out.gguf"
grep -q 'no such directory' "$T/err" || bad "convert a missing directory: $(cat "$T/err")"
expect 1 "convert a file, not a directory" "$E" convert "$M" "$T/out.gguf"
grep -q 'not a directory' "$T/err" || bad "convert a file: $(cat "$T/err")"
[ ! -e "$T/out.gguf" ] && [ ! -e "$T/out.gguf.tmp" ] && ok "convert's failures left no output" \
    || bad "convert's failures left $(ls "$T"/out.gguf*)"
# the GPTQ cases' unbroken base must run, or they could fail for another reason
if [ -d "$T/gptq_ok" ]; then
    "$E" bench -m "$T/gptq_ok" -p 4 -n 2 -r 1 >"$T/ok.log" 2>&1 && grep -q 'tg2' "$T/ok.log" \
        && ok "hostile hf gptq_ok (the GPTQ cases' valid base) runs" \
        || bad "hostile hf gptq_ok does not run: $(tail -c 300 "$T/ok.log")"
else
    bad "hostile hf: the generator wrote no gptq_ok"
fi
