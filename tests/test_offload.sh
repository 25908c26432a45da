#!/usr/bin/env bash
# test_offload.sh — -ngl and --device (issue [7]) without a GPU: the CPU
# backend's test device cpu-dev (EMBER_TEST_DEVICE=BYTES: host memory that
# the framework reaches through the device calls, with that budget) runs
# the offloaded layers. Greedy text with -ngl 0, 2 and 99 equals the CPU's
# for every stories260K type (tests/data) and the Hugging Face fixtures
# (../shared, GPTQ included, skipped without them); perplexity with -ngl 99
# equals the CPU's (logits of many rows copied out of the device stage); a
# chat of two turns reuses its prefix with -ngl 99; /save and /load cross
# -ngl settings; --device nosuch is an error; -ngl without a device warns
# and runs on the CPU; a small budget offloads fewer layers and says so;
# info --devices and bench -ngl 0,99.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
DEV=1000000000 # a budget nothing here comes near
P='Once upon a time'

# --------------------------------------------------- greedy text, all types
HF=${EMBER_SHARED:-../shared}/models/hf
models=(tests/data/models/stories260K*.gguf)
for d in stories260K stories260K-gptq-4bit-g32 stories260K-gptq-4bit-g32-actorder stories260K-gptq-8bit-g64; do
    [ -d "$HF/$d" ] && models+=("$HF/$d")
done
[ -d "$HF/stories260K" ] || echo "SKIP offload on Hugging Face fixtures: $HF is missing"
for m in "${models[@]}"; do
    name=$(basename "$m")
    want=$($E run -m "$m" -p "$P" -n 32 --temp 0 2>"$T/err0")
    fails=""
    for ngl in 0 2 99; do
        got=$(EMBER_TEST_DEVICE=$DEV $E run -m "$m" -p "$P" -n 32 --temp 0 -ngl $ngl 2>"$T/err")
        [ -n "$want" ] && [ "$got" = "$want" ] || fails+=" -ngl $ngl: '$got' ($(head -c 200 "$T/err"))"
        case $ngl in
        2) grep -q '^ember: offloaded 2/5 layers to cpu-dev' "$T/err" || fails+=" -ngl 2 said: $(cat "$T/err")" ;;
        99) grep -q '^ember: offloaded 5/5 layers and the output layer to cpu-dev' "$T/err" ||
            fails+=" -ngl 99 said: $(cat "$T/err")" ;;
        esac
    done
    [ -z "$fails" ] && ok "$name: -ngl 0, 2, 99 on cpu-dev give the CPU's 32 greedy tokens" ||
        bad "$name: want '$want';$fails"
done

# ------------------------------------------- perplexity: many rows of logits
ppl() { $E perplexity -m "$M" -f tests/data/models/tinystory-eval.txt -c 64 --chunks 3 "$@" 2>/dev/null |
    grep -o 'PPL = [0-9.]*\|estimated PPL[^0-9]*[0-9.]*' | tail -1; }
a=$(ppl) b=$(EMBER_TEST_DEVICE=$DEV ppl -ngl 99) c=$(EMBER_TEST_DEVICE=$DEV ppl -ngl 3)
[ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" = "$c" ] && ok "perplexity with -ngl 99 and -ngl 3 is the CPU's ($a)" ||
    bad "perplexity: cpu '$a', -ngl 99 '$b', -ngl 3 '$c'"

# ---------------------------------------------- chat: two turns, prefix reuse
CHAT="$E chat -m $M --temp 0 -n 24 --no-history"
turns='Once upon a time\n/stats\nThe little dog\n/stats\n'
printf "$turns" | $CHAT >"$T/cpu" 2>/dev/null
printf "$turns" | EMBER_TEST_DEVICE=$DEV $CHAT -ngl 99 >"$T/dev" 2>"$T/err"
read -r held pre2 < <(awk '/^context:/ {c[++n]=$2} /^last turn:/ {p[++m]=$4} END {print c[1], p[2]}' "$T/err")
[ -s "$T/cpu" ] && cmp -s "$T/cpu" "$T/dev" && [ "${pre2:-0}" -gt 0 ] && [ "$pre2" -lt "${held:-0}" ] &&
    ok "chat -ngl 99: the CPU's two replies, turn 2 prefilled $pre2 of $held tokens" ||
    bad "chat -ngl 99: $(cat "$T/dev") vs $(cat "$T/cpu"); held '$held' prefilled '$pre2'"

# ------------------------------------------- /save and /load across -ngl
first=$(printf 'Once upon a time\n' | $CHAT 2>/dev/null)
for pair in "99 0" "0 99" "2 99"; do
    set -- $pair
    printf 'Once upon a time\n/save %s\nThe little dog\n' "$T/s.chat" |
        EMBER_TEST_DEVICE=$DEV $CHAT -ngl "$1" >"$T/whole" 2>/dev/null
    printf '/load %s\nThe little dog\n' "$T/s.chat" | EMBER_TEST_DEVICE=$DEV $CHAT -ngl "$2" >"$T/loaded" 2>"$T/err"
    whole=$(cat "$T/whole")
    want=$(printf '%s' "${whole#"$first"}" | grep .) got=$(grep . "$T/loaded")
    [ -n "$want" ] && [ "$got" = "$want" ] && ok "/save with -ngl $1, /load with -ngl $2: the same next reply" ||
        bad "/save -ngl $1 /load -ngl $2: '$got' vs '$want' ($(head -c 300 "$T/err"))"
done

# ------------------------------------------------ devices: errors, warnings
expect 1 "--device nosuch" $E run -m "$M" -p "$P" -n 4 -ngl 99 --device nosuch
expect 1 "--device cpu-dev without the test device" $E run -m "$M" -p "$P" -n 4 -ngl 99 --device cpu-dev
want=$($E run -m "$M" -p "$P" -n 32 --temp 0 2>/dev/null)
got=$($E run -m "$M" -p "$P" -n 32 --temp 0 -ngl 99 2>"$T/err")
[ "$got" = "$want" ] && [ "$(grep -c 'warning' "$T/err")" = 1 ] && grep -q 'running on the CPU' "$T/err" &&
    ok "-ngl 99 with no device: $(cat "$T/err"), the CPU's text" || bad "-ngl without a device: '$got', $(cat "$T/err")"
got=$(EMBER_TEST_DEVICE=$DEV $E run -m "$M" -p "$P" -n 32 --temp 0 --gpu-layers 99 --device cpu-dev 2>"$T/err")
[ "$got" = "$want" ] && grep -q 'offloaded 5/5' "$T/err" && ok "--gpu-layers 99 --device cpu-dev" ||
    bad "--device cpu-dev: $(cat "$T/err")"

# ------------------------------------------------ planning against a budget
# The smallest budget (in steps of 16 KiB) that takes 2 of the 5 layers:
# fewer than asked, said so, and the text is still the CPU's.
found=""
for kib in $(seq 16 16 4096); do
    EMBER_TEST_DEVICE=$((kib * 1024)) $E run -m "$M" -c 64 -p "$P" -n 1 --temp 0 -ngl 99 >/dev/null 2>"$T/err"
    if grep -q 'offloaded 2/5 layers' "$T/err"; then found=$kib; break; fi
    grep -q 'offloaded [3-5]/5' "$T/err" && break
done
if [ -n "$found" ]; then
    got=$(EMBER_TEST_DEVICE=$((found * 1024)) $E run -m "$M" -c 64 -p "$P" -n 32 --temp 0 -ngl 99 2>"$T/err")
    want=$($E run -m "$M" -c 64 -p "$P" -n 32 --temp 0 2>/dev/null)
    grep -q 'not enough for more' "$T/err" && [ "$got" = "$want" ] &&
        ok "a budget of $found KiB: $(head -1 "$T/err" | cut -c1-120); says why; the CPU's text" ||
        bad "budget $found KiB: '$got' vs '$want', $(cat "$T/err")"
    EMBER_TEST_DEVICE=$((found * 1024 - 16384)) $E run -m "$M" -c 64 -p "$P" -n 1 -ngl 99 >/dev/null 2>"$T/err"
    grep -q 'offloaded [01]/5 layers' "$T/err" && ok "16 KiB less takes fewer: $(head -1 "$T/err" | cut -c1-60)" ||
        bad "16 KiB less: $(cat "$T/err")"
else
    bad "no budget up to 4 MiB offloads exactly 2/5 layers: $(cat "$T/err")"
fi

# ------------------------------------------------------ info, bench
EMBER_TEST_DEVICE=$DEV $E info --devices >"$T/out" 2>&1
grep -q '^cpu  *cpu  *host CPU' "$T/out" && grep -q '^cpu  *cpu-dev .* 954 MiB$' "$T/out" &&
    ok "info --devices lists cpu and cpu-dev (954 MiB)" || bad "info --devices: $(cat "$T/out")"
$E info --devices | grep -q cpu-dev && bad "cpu-dev listed without EMBER_TEST_DEVICE" ||
    ok "cpu-dev only for tests"
EMBER_TEST_DEVICE=$DEV $E bench -m "$M" -p 8 -n 2 -t 1 -r 1 -ngl 0,99 >"$T/out" 2>/dev/null
head -n1 "$T/out" | grep -Eq '\| threads \| +ngl \| +test \|' && [ "$(grep -c '|  *0 |  *\(pp8\|tg2\) ' "$T/out")" = 2 ] &&
    [ "$(grep -c '|  *99 |  *\(pp8\|tg2\) ' "$T/out")" = 2 ] && ok "bench -ngl 0,99: an ngl column, 4 rows" ||
    bad "bench -ngl: $(cat "$T/out")"
