#!/usr/bin/env bash
# ember's command line on good and bad input: every failure is one
# "ember: error:" line on stderr and exit 1 (runtime) or 2 (usage); stdout
# carries only generated text; pipes and full disks are handled.
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib.sh

expect 1 "missing model file" $E run -m "$T/nope.gguf" -p hi
expect 1 "directory as model" $E run -m tests/data -p hi
echo "just some text" >"$T/text.gguf"
expect 1 "non-GGUF file" $E run -m "$T/text.gguf" -p hi
head -c 5000 $M >"$T/trunc.gguf"
expect 1 "truncated model" $E run -m "$T/trunc.gguf" -p hi
python3 - "$M" "$T/arch.gguf" <<'PY'
import sys, struct
b = bytearray(open(sys.argv[1], "rb").read())
key = b"general.architecture"
i = b.index(key) + len(key)
assert struct.unpack_from("<IQ", b, i) == (8, 5) and b[i+12:i+17] == b"llama"
b[i+12:i+17] = b"mamba"
open(sys.argv[2], "wb").write(b)
PY
expect 1 "unknown architecture" $E run -m "$T/arch.gguf" -p hi
grep -q "mamba" "$T/err" && grep -q "llama, qwen2" "$T/err" && ok "unknown architecture is named with the supported list" || bad "architecture message: $(cat "$T/err")"
expect 2 "unknown flag" $E run -m $M --bogus
expect 2 "missing -m" $E run -p hi
expect 2 "-n negative" $E run -m $M -p hi -n -5
expect 2 "-n not a number" $E run -m $M -p hi -n five
expect 2 "-c 0" $E run -m $M -p hi -c 0
expect 2 "-t 0" $E run -m $M -p hi -t 0
expect 2 "--top-p 2" $E run -m $M -p hi --top-p 2
expect 2 "flag without value" $E run -m $M -p
expect 2 "unknown command" $E frobnicate
expect 1 "prompt longer than the context" $E run -m $M -c 8 -p "Once upon a time there was a little girl who liked to play"
grep -q "longer than the context of 8" "$T/err" && ok "prompt-length message names both lengths" || bad "prompt-length message: $(cat "$T/err")"
expect 1 "prompt plus -n beyond the context" $E run -m $M -c 16 -n 100 -p "Once upon a time"
expect 1 "write error on stdout (/dev/full)" sh -c "$E run -m $M -p 'Once upon a time' -n 8 --temp 0 >/dev/full"

# Output discipline.
$E run -m $M -p "Once upon a time" -n 400 --temp 0.8 -s 1 2>"$T/err" | head -c 20 >/dev/null
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && [ ! -s "$T/err" ] && ok "closed pipe (| head -c 20) exits quietly" || bad "closed pipe: exit $rc, stderr $(cat "$T/err")"
a=$($E run -m $M -p "Once upon a time" -n 24 --temp 0 2>/dev/null)
b=$(printf "Once upon a time" | $E run -m $M -n 24 --temp 0 2>/dev/null)
printf "Once upon a time" >"$T/prompt.txt"
c=$($E run -m $M -f "$T/prompt.txt" -n 24 --temp 0 2>/dev/null)
[ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" = "$c" ] && ok "prompt from -p, stdin and -f agree" || bad "prompt sources differ: [$a] [$b] [$c]"
e=$($E run -m $M -p "Once upon a time" -n 24 --temp 0 --echo 2>/dev/null)
[ "$e" = " Once upon a time$a" ] && ok "--echo prints the prompt first" || bad "--echo: [$e]"
s1=$($E run -m $M -p "Once upon a time" -n 32 -s 7 2>/dev/null)
s2=$($E run -m $M -p "Once upon a time" -n 32 -s 7 2>/dev/null)
s3=$($E run -m $M -p "Once upon a time" -n 32 -s 8 2>/dev/null)
[ "$s1" = "$s2" ] && [ "$s1" != "$s3" ] && ok "same seed reproduces, another seed differs" || bad "seeds: [$s1] [$s2] [$s3]"
$E run -m $M -p "Once upon a time" -n 8 -v >"$T/out" 2>"$T/err"
grep -q "seed" "$T/err" && grep -q "generation .* t/s" "$T/err" && ! grep -q "t/s" "$T/out" && ok "-v logs seed and timings to stderr only" || bad "-v: $(cat "$T/err")"
n=$($E run -m $M -p "Once upon a time" -n 5 --temp 0 2>/dev/null | wc -c)
$E tokenize -m $M -p "$($E run -m $M -p 'Once upon a time' -n 5 --temp 0 2>/dev/null)" >/dev/null 2>&1
[ "$n" -gt 0 ] && ok "-n 5 generates text ($n bytes)" || bad "-n 5 generated nothing"
$E info -m $M >"$T/out" 2>"$T/err"
grep -q "general.architecture" "$T/out" && grep -q "blk.0.attn_q.weight" "$T/out" && grep -q "^total:" "$T/out" && ok "info prints metadata, tensors and total" || bad "info output"
grep -q 'tokenizer.ggml.tokens .*\[str x 512\]' "$T/out" && ok "info summarises long arrays" || bad "info arrays: $(grep tokens "$T/out")"
# --cpu names the core as the kernel does (family and model from cpuid,
# folded as Linux's /proc/cpuinfo folds them: an independent reading)
if grep -q '^cpu family' /proc/cpuinfo 2>/dev/null; then
    fam=$(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo | head -n1)
    mod=$(sed -n 's/^model[[:space:]]*: //p' /proc/cpuinfo | head -n1)
    line=$($E info --cpu 2>&1 | head -n1)
    [[ "$line" == "cpu: "*" family $fam model $mod)" ]] && ok "info --cpu names the core: ${line#cpu: }" ||
        bad "info --cpu: '$line', /proc/cpuinfo says family $fam model $mod"
else
    echo "SKIP info --cpu core name: no x86 /proc/cpuinfo here"
fi
