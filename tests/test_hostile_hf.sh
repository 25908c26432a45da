#!/usr/bin/env bash
# Hostile Hugging Face directories: tests/hostile/gen_hostile_hf.py writes
# ~30 tiny llama directories, each with one thing broken (safetensors
# header, shard index, config.json, tensors); `ember run -m DIR` on each
# must exit 1 with one "ember: error:" line holding the case's expected
# words (a clear error, never a crash or a hang). The valid tiny GPTQ
# checkpoint the GPTQ cases break (gptq_ok) must run.
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
done <"$T/cases.txt"
# the GPTQ cases' unbroken base must run, or they could fail for another reason
if [ -d "$T/gptq_ok" ]; then
    "$E" bench -m "$T/gptq_ok" -p 4 -n 2 -r 1 >"$T/ok.log" 2>&1 && grep -q 'tg2' "$T/ok.log" \
        && ok "hostile hf gptq_ok (the GPTQ cases' valid base) runs" \
        || bad "hostile hf gptq_ok does not run: $(tail -c 300 "$T/ok.log")"
else
    bad "hostile hf: the generator wrote no gptq_ok"
fi
