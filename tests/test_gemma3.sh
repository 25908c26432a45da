#!/usr/bin/env bash
# Gemma 3 on the command line, against llama.cpp: ember perplexity on the
# random-weight fixture tests/data/models/gemma3-tiny-swa.gguf (two local
# layers, window 4, logits soft-capped at 30; scripts/make-gemma3-fixture.py)
# at -c 64, where every scored position reaches past the window, within
# 0.1% of llama-perplexity's recorded figure (gemma3-tiny-swa.json: 183993;
# llama.cpp gives 189606 for the same file with a window wider than the
# context and 385652 without the soft-capping, so the check sees both);
# the same figure with layers offloaded to the test device cpu-dev (-ngl 1,
# 99); and ember info on the fixture.
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib.sh
G=tests/data/models/gemma3-tiny-swa.gguf
want=$(sed -n 's/^ *"ppl": \([0-9.]*\).*/\1/p' tests/data/models/gemma3-tiny-swa.json)
got=$("$E" perplexity -m "$G" -f tests/data/models/tinystory-eval.txt -c 64 -t 2 2>/dev/null |
      sed -n 's/.*PPL = \([0-9.]*\).*/\1/p')
if [ -n "$got" ] && [ -n "$want" ] && awk -v a="$got" -v b="$want" 'BEGIN { d = (a - b) / b; exit !(d < 0.001 && d > -0.001) }'; then
    ok "gemma3 fixture perplexity -c 64: $got, llama.cpp $want (within 0.1%)"
else
    bad "gemma3 fixture perplexity -c 64: got '$got', llama.cpp '$want'"
fi
# the same through the CPU backend's test device (EMBER_TEST_DEVICE): the
# second layer (-ngl 1), or both and the output layer (-ngl 99), offloaded
for ngl in 1 99; do
    dev=$(EMBER_TEST_DEVICE=1000000000 "$E" perplexity -m "$G" -f tests/data/models/tinystory-eval.txt -c 64 -t 2 \
          -ngl $ngl 2>"$T/err" | sed -n 's/.*PPL = \([0-9.]*\).*/\1/p')
    [ -n "$got" ] && [ "$dev" = "$got" ] && grep -q "offloaded" "$T/err" \
        && ok "gemma3 fixture perplexity with -ngl $ngl on cpu-dev: $dev, the CPU's" \
        || bad "gemma3 fixture -ngl $ngl: '$dev', CPU '$got' ($(head -c 200 "$T/err"))"
done
"$E" info -m "$G" >"$T/info" 2>&1 && grep -q gemma3 "$T/info" \
    && ok "ember info names the gemma3 fixture's architecture" || bad "info: $(head -c 300 "$T/info")"
