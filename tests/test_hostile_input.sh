#!/usr/bin/env bash
# Bad input at run time (tests/test_cli.sh covers bad files and the basic
# flags): empty, invalid-UTF-8, NUL-laden and 1 MB prompts, prompts longer
# than -c with and without --truncate, absurd flag values, a context that
# needs more memory than allowed, a model file truncated while ember runs
# (SIGBUS guard), and closed or full output. Every failure must be exactly
# one "ember: error:" line on stderr and exit 1 (runtime) or 2 (usage).
set -uo pipefail
cd "$(dirname "$0")/.."
EXPECT_TIMEOUT=60
source tests/lib.sh

# runs NAME CMD...: exit 0, no error on stderr, some text on stdout
runs() {
    local name=$1; shift
    timeout 60 "$@" >"$T/out" 2>"$T/err"; local rc=$?
    if [ "$rc" -eq 0 ] && ! grep -q 'error' "$T/err" && [ -s "$T/out" ]; then
        ok "$name -> exit 0, $(wc -c <"$T/out") bytes"
    else
        bad "$name: exit $rc, stderr: $(head -c 300 "$T/err")"
    fi
}

# ------------------------------------------------------------ prompts
expect 1 "empty -p prompt" $E run -m $M -p ''
grep -q "empty" "$T/err" && ok "empty prompt message says so" || bad "empty prompt message: $(cat "$T/err")"
expect 1 "empty standard input" sh -c "$E run -m $M -n 4 </dev/null"
: >"$T/empty.txt"
expect 1 "empty -f file" $E run -m $M -f "$T/empty.txt"
expect 1 "-e prompt that unescapes to nothing" $E run -m $M -e -p ''
expect 1 "-f a directory" $E run -m $M -f tests/data
expect 1 "-f a missing file" $E run -m $M -f "$T/none.txt"
expect 1 "closed standard input" sh -c "$E run -m $M -n 4 <&-"

printf 'Once upon a \xff\xfe time \xc3( \xed\xa0\x80 \xf8\x88\x80\x80\x80' >"$T/utf8.txt"
runs "invalid UTF-8 prompt on stdin" sh -c "$E run -m $M -n 8 --temp 0 <'$T/utf8.txt'"
runs "invalid UTF-8 prompt with -p" $E run -m $M -n 8 --temp 0 -p "$(printf 'Once \xff\xc0\x80 upon')"
printf 'Once\0upon\0\0a time\0' >"$T/nul.txt"
runs "NUL bytes in the prompt (stdin)" sh -c "$E run -m $M -n 8 --temp 0 <'$T/nul.txt'"
runs "NUL bytes from -e '\\x00'" $E run -m $M -n 8 --temp 0 -e -p 'Once\x00upon\x00'
runs "only control bytes" $E run -m $M -n 4 --temp 0 -p "$(printf '\001\002\033[31m')"

head -c 786432 /dev/urandom | base64 -w 100 >"$T/1mb.txt"   # ~1 MB of text
s=$(date +%s%N)
expect 1 "1 MB prompt on stdin, longer than the context" sh -c "$E run -m $M -n 4 <'$T/1mb.txt'"
ms=$(( ($(date +%s%N) - s) / 1000000 ))
grep -Eq "the prompt is [0-9]+ tokens, longer than the context of 2048 tokens" "$T/err" \
    && ok "1 MB prompt: the error names both lengths (${ms} ms)" || bad "1 MB prompt message: $(cat "$T/err")"
runs "1 MB prompt with --truncate" sh -c "$E run -m $M -n 4 --temp 0 --truncate <'$T/1mb.txt'"
grep -Eq "prompt is [0-9]+ tokens; --truncate keeps its last 2044" "$T/err" \
    && ok "--truncate says what it kept on stderr" || bad "--truncate note: $(cat "$T/err")"
expect 1 "prompt longer than -c 16" $E run -m $M -c 16 -f tests/data/models/tinystory-eval.txt
grep -q "longer than the context of 16 tokens" "$T/err" && ok "prompt-length error names both lengths" \
    || bad "prompt-length message: $(cat "$T/err")"
a=$($E run -m $M -c 64 -n 8 --temp 0 --truncate -f tests/data/models/tinystory-eval.txt 2>/dev/null)
tail -c 600 tests/data/models/tinystory-eval.txt >"$T/tail.txt"
b=$($E run -m $M -c 64 -n 8 --temp 0 --truncate -f "$T/tail.txt" 2>/dev/null)
[ -n "$a" ] && [ "$a" = "$b" ] && ok "--truncate keeps the tail: same text as the prompt's last 600 bytes" \
    || bad "--truncate tail: [$a] vs [$b]"
expect 1 "--truncate cannot make room for -n beyond the context" $E run -m $M -c 16 -n 20 --truncate -p hi

# -------------------------------------------------------------- flags
expect 2 "-c 0" $E run -m $M -p hi -c 0
expect 2 "-c -1" $E run -m $M -p hi -c -1
expect 2 "-c 10000000000 (beyond 2^24)" $E run -m $M -p hi -c 10000000000
expect 2 "-n -5" $E run -m $M -p hi -n -5
expect 2 "-n 99999999999999999999" $E run -m $M -p hi -n 99999999999999999999
expect 2 "-t 0" $E run -m $M -p hi -t 0
expect 2 "-t 1000" $E run -m $M -p hi -t 1000
expect 2 "-t -3" $E run -m $M -p hi -t -3
expect 2 "-b 0" $E run -m $M -p hi -b 0
expect 2 "--top-p 2" $E run -m $M -p hi --top-p 2
expect 2 "--top-p -0.5" $E run -m $M -p hi --top-p -0.5
expect 2 "--min-p 1.5" $E run -m $M -p hi --min-p 1.5
expect 2 "--temp -1" $E run -m $M -p hi --temp -1
expect 2 "--temp nan" $E run -m $M -p hi --temp nan
expect 2 "--temp inf" $E run -m $M -p hi --temp inf
expect 2 "--temp 1e999" $E run -m $M -p hi --temp 1e999
expect 2 "--top-k -1" $E run -m $M -p hi --top-k -1
expect 2 "--repeat-penalty 0" $E run -m $M -p hi --repeat-penalty 0
expect 2 "--repeat-last-n -1" $E run -m $M -p hi --repeat-last-n -1
expect 2 "-s -1" $E run -m $M -p hi -s -1
expect 2 "-s 1x" $E run -m $M -p hi -s 1x
expect 2 "-n ''" $E run -m $M -p hi -n ''
expect 2 "-n ' 5'x" $E run -m $M -p hi -n ' 5x'
runs "-t 256 (more threads than CPUs) still runs" $E run -m $M -p "Once upon" -n 4 --temp 0 -t 256
runs "--top-k 1048576 (more than the vocabulary)" $E run -m $M -p "Once upon" -n 4 --top-k 1048576 -s 1

# ----------------------------------------- beyond the trained context
# stories260K was trained on 2048 tokens: a longer -c runs, with a warning
# that names both numbers and the rope scaling it would need.
$E run -m $M -p "Once upon" -n 2 --temp 0 -c 4096 >/dev/null 2>"$T/err"; rc=$?
[ "$rc" -eq 0 ] && grep -q "^ember: warning: a context of 4096 tokens is longer than the 2048 .*rope scaling by 2.00x" "$T/err" \
    && ok "-c 4096 over a 2048-token model: exit 0 with a warning: $(head -c 160 "$T/err")" \
    || bad "-c 4096 warning: exit $rc, stderr: $(cat "$T/err")"
$E run -m $M -p "Once upon" -n 2 --temp 0 -c 2048 >/dev/null 2>"$T/err"
[ ! -s "$T/err" ] && ok "-c 2048 (the trained context): no warning" || bad "-c 2048: $(cat "$T/err")"
$E perplexity -m $M -f tests/data/models/tinystory-eval.txt -c 3072 --chunks 1 >/dev/null 2>"$T/err"
grep -q "^ember: warning: a context of 3072 tokens is longer than the 2048" "$T/err" \
    && ok "perplexity -c 3072: the warning too" || bad "perplexity -c 3072: $(head -c 300 "$T/err")"

# ------------------------------------------------------------- memory
if [ -n "${EMBER_SANITIZE:-}" ]; then
    echo "SKIP -c 10000000 under ulimit -v: ASan needs unlimited address space"
else
    expect 1 "-c 10000000 with 4 GB of address space" sh -c "ulimit -v 4000000; exec $E run -m $M -p hi -n 1 -c 10000000"
    grep -Eq "context of 10000000 tokens needs [0-9.]+ MiB .*more than the [0-9.]+ MiB available" "$T/err" \
        && ok "memory error says what was asked and what is available" || bad "memory message: $(cat "$T/err")"
    expect 1 "-c 16000000 (10 GB of KV cache) with 8 GB of address space" sh -c "ulimit -v 8000000; exec $E run -m $M -p hi -n 1 -c 16000000"
fi

# ----------------------------------------- model truncated while mapped
cp $M "$T/copy.gguf"
# a ~6k-token prompt at -b 16 runs for many seconds; cut the file once the
# model is mapped (the -v seed line comes right after loading)
timeout 120 $E run -m "$T/copy.gguf" -f tests/data/models/tinystory-eval.txt -c 8192 -b 16 -n 1 -v >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 1000); do grep -q seed "$T/err" 2>/dev/null && break; sleep 0.01; done
sleep 0.1
truncate -s 16384 "$T/copy.gguf"
wait $pid; rc=$?
grep -v '^ember: \(seed\|warning\)' "$T/err" >"$T/err2"
if [ "$rc" -eq 1 ] && [ "$(cat "$T/err2")" = "ember: error: the model file changed or was truncated while in use" ]; then
    ok "model file truncated during a run -> exit 1: $(cat "$T/err2")"
else
    bad "model truncated during a run: exit $rc, stderr: $(head -c 300 "$T/err2")"
fi

# cut_during NAME SIZE CMD...: start CMD (whose -m is $T/copy.gguf), truncate
# the copy to SIZE (truncate's syntax, "-100" = 100 bytes shorter) once ember
# has it mapped, and expect exit 1 with an error that says the file changed.
cut_during() {
    local name=$1 size=$2; shift 2
    cp $M "$T/copy.gguf"
    "$@" >"$T/out" 2>"$T/err" &   # no timeout wrapper: $! must be ember
    local pid=$!
    for _ in $(seq 2000); do grep -q copy.gguf /proc/$pid/maps 2>/dev/null && break; sleep 0.005; done
    truncate -s "$size" "$T/copy.gguf"
    wait $pid; local rc=$?
    grep -v '^ember: \(seed\|chunk\)' "$T/err" | tr '\r' '\n' | grep 'ember: error' >"$T/err2"
    if [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/err2")" -eq 1 ] && grep -q "changed or was truncated" "$T/err2" &&
       ! grep -q "Final estimate" "$T/out"; then
        ok "$name -> exit 1: $(cat "$T/err2")"
    else
        bad "$name: exit $rc, stderr: $(tail -c 300 "$T/err")"
    fi
}
# Less than a page: the last page stays readable (zeros past the new end),
# no SIGBUS comes, and before the check at exit a wrong answer came with 0.
cut_during "model file 100 bytes shorter during perplexity" -100 \
    $E perplexity -m "$T/copy.gguf" -f tests/data/models/tinystory-eval.txt -c 2048 -t 1
cut_during "model file 100 bytes shorter during run" -100 \
    $E run -m "$T/copy.gguf" -f tests/data/models/tinystory-eval.txt -c 8192 -b 16 -n 1
cut_during "model file cut to 16 KiB during perplexity (SIGBUS)" 16384 \
    $E perplexity -m "$T/copy.gguf" -f tests/data/models/tinystory-eval.txt -c 2048 -t 1

# --------------------------------------------- files that are not files
# A FIFO used to hang in open() before the regular-file check.
mkfifo "$T/fifo"
expect 1 "-m a FIFO" $E run -m "$T/fifo" -p hi
grep -q "not a regular file" "$T/err" && ok "FIFO model: says not a regular file" || bad "FIFO message: $(cat "$T/err")"
expect 1 "--vocab a FIFO" $E run -m $M --vocab "$T/fifo" -p hi
expect 1 "info -m a FIFO" $E info -m "$T/fifo"
expect 1 "-m /dev/zero" $E run -m /dev/zero -p hi
mkdir "$T/hf" && printf '{}' >"$T/hf/config.json" && mkfifo "$T/hf/model.safetensors"
expect 1 "a FIFO as a Hugging Face directory's safetensors" $E run -m "$T/hf" -p hi
expect 1 "--prompt-cache a FIFO (fopen would wait for a writer)" $E run -m $M --prompt-cache "$T/fifo" -p hi -n 2
grep -q "not a regular file" "$T/err" && ok "FIFO prompt cache: says not a regular file" || bad "FIFO cache message: $(cat "$T/err")"
expect 1 "--prompt-cache a directory" $E run -m $M --prompt-cache "$T/hf" -p hi -n 2

# -------------------------------------------------------------- output
$E run -m $M -p "Once upon a time" -n 50 --echo 2>"$T/err" | true
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && [ ! -s "$T/err" ] && ok "pipe closed before the first write: quiet exit 0" \
    || bad "pipe closed early: exit $rc, stderr $(cat "$T/err")"
expect 1 "--echo into /dev/full" sh -c "$E run -m $M -p 'Once upon a time' -n 2 --echo >/dev/full"
grep -q "No space left" "$T/err" && ok "/dev/full error names the cause" || bad "/dev/full message: $(cat "$T/err")"
# Output printed without a check per write: the exit must still say so.
expect 1 "--help into /dev/full" sh -c "$E --help >/dev/full"
expect 1 "--version into /dev/full" sh -c "$E --version >/dev/full"
expect 1 "run --help into /dev/full" sh -c "$E run --help >/dev/full"
expect 1 "info into /dev/full" sh -c "$E info -m $M >/dev/full"
expect 1 "tokenize into /dev/full" sh -c "$E tokenize -m $M -p 'Once upon a time' >/dev/full"
expect 1 "template into /dev/full" sh -c "$E template --chat-template chatml >/dev/full"
grep -q "No space left" "$T/err" && ok "template /dev/full error names the cause" || bad "template /dev/full: $(cat "$T/err")"
$E --help 2>"$T/err" | head -c 1 >/dev/null
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && [ ! -s "$T/err" ] && ok "--help into a closed pipe: quiet exit 0" \
    || bad "--help closed pipe: exit $rc, stderr $(cat "$T/err")"
exit 0
