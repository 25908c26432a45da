#!/usr/bin/env bash
# test_chat.sh — `ember chat` and `ember run --chat`: piped conversations
# (one message per line, """ blocks, commands), prefix reuse between turns,
# /save and /load across processes, and, in a real terminal driven by
# tmux, the line editor, history, Ctrl-C and Ctrl-D with the terminal
# restored. The bundled stories260K has no chat template, so it runs with
# the ChatML fallback; a real chat model from scripts/get-models.sh is used
# where cached (the Ctrl-C check needs one: the tiny model answers faster
# than a key press).
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
CHAT="$E chat -m $M --temp 0 -n 24 --no-history"

# --------------------------------------------------------------- piped
printf 'Once upon a time\n/stats\nThe little dog\n/stats\n' | $CHAT >"$T/out" 2>"$T/err"
rc=$?
lines=$(grep -c . "$T/out")
[ "$rc" -eq 0 ] && [ "$lines" -ge 2 ] && grep -q 'using ChatML' "$T/err" &&
    ok "piped chat: two replies on stdout ($lines lines), the ChatML fallback said on stderr" ||
    bad "piped chat: exit $rc, stdout: $(head -c 300 "$T/out"), stderr: $(head -c 300 "$T/err")"
# turn 2 prefills only what is new: fewer tokens than the context held
read -r held pre2 < <(awk '/^context:/ {c[++n]=$2} /^last turn:/ {p[++m]=$4} END {print c[1], p[2]}' "$T/err")
[ -n "$held" ] && [ -n "$pre2" ] && [ "$pre2" -gt 0 ] && [ "$pre2" -lt "$held" ] &&
    ok "turn 2 prefilled $pre2 tokens, less than the $held the cache held after turn 1" ||
    bad "prefix reuse: held '$held', turn 2 prefilled '$pre2': $(cat "$T/err")"
! grep -q 'context:' "$T/out" && ok "command output stays off stdout" || bad "command output on stdout"

# --chat: one templated turn, the same reply as the chat's first
first=$(printf 'Once upon a time\n' | $CHAT 2>/dev/null)
once=$($E run -m $M --chat -p 'Once upon a time' --temp 0 -n 24 2>/dev/null)
[ -n "$once" ] && [ "$once" = "$first" ] && ok "run --chat -p gives the chat's first reply" ||
    bad "run --chat: '$once' vs chat '$first'"
# -cnv with -p and stdin not a terminal: one turn too
cnv=$(echo | $E run -m $M -cnv -p 'Once upon a time' --temp 0 -n 24 2>/dev/null)
[ "$cnv" = "$first" ] && ok "run -cnv -p from a pipe: one turn" || bad "run -cnv -p: '$cnv'"

# a """ block is one message
printf '"""\nOnce upon\na time\n"""\n/stats\n' | $CHAT >"$T/out" 2>"$T/err"
[ "$(grep -c '^last turn:' "$T/err")" -eq 1 ] && ok '""" block: one message, one reply' ||
    bad "\"\"\" block: $(cat "$T/err")"

# /retry answers the same message again: greedy, the same text
printf 'Once upon a time\n/retry\n/stats\n' | $CHAT >"$T/out" 2>"$T/err"
a=$(sed -n 1p "$T/out")
[ -n "$a" ] && [ "$(grep -cxF "$a" "$T/out")" -eq 2 ] && grep -q 'prefilled 1 tokens' "$T/err" &&
    ok "/retry: the same greedy reply, only 1 token recomputed" || bad "/retry: $(cat "$T/out" "$T/err")"

# /retry keeps the replaced reply as a branch: a second KV sequence sharing
# the prompt's blocks (only the replaced reply's blocks, and a copy of the
# block where the two part, are its own). /undo brings it back with nothing
# recomputed, and the conversation then goes on exactly as if there had been
# no /retry. Sampling at temperature 0.8, so the two replies differ; blocks
# of 4 positions, so the prompt spans several shared blocks.
RS="$E chat -m $M --temp 0.8 -s 3 -n 24 --no-history --kv-block 4"
printf 'Once upon a time\n/stats\n/retry\n/stats\n/undo\n/stats\n/set seed 7\nThe little dog\n/stats\n' |
    $RS >"$T/out" 2>"$T/err"
printf 'Once upon a time\n/set seed 7\nThe little dog\n/stats\n' | $RS >"$T/plain" 2>"$T/err2"
a=$(sed -n 1p "$T/out") b=$(sed -n 2p "$T/out") back=$(sed -n 3p "$T/out")
[ -n "$a" ] && [ "$a" != "$b" ] && [ "$back" = "$a" ] &&
    ok "/retry gives another reply, /undo brings the first back" || bad "/retry + /undo: $(cat "$T/out")"
read -r c1 b1 c2 b2 c3 b3 c4 b4 < <(awk '/^context:/ {printf "%s %s ", $2, $8}' "$T/err")
read -r p1 p2 p3 p4 < <(awk '/^last turn:/ {printf "%s ", $4}' "$T/err")
read -r kn kb ks kl < <(awk '/^kept for/ {print $4, $7, $9, $NF; exit}' "$T/err")
[ "${p2:-x}" = 1 ] && [ "${kn:-0}" = "$c1" ] && [ "${kb:-0}" = "$b1" ] && [ "${ks:-0}" -gt 2 ] &&
    [ "$b2" -eq $((kl + kb - ks)) ] && [ "$b2" -lt $((kl + kb)) ] &&
    ok "/retry prefilled $p2 token and kept the old branch ($kn tokens, $kb blocks), $ks blocks shared: $b2 in use, not $((kl + kb))" ||
    bad "/retry's branch: prefilled '$p2', kept '$kn $kb $ks $kl', blocks after turn 1 '$b1', after /retry '$b2': $(cat "$T/err")"
[ "${p3:-x}" = 0 ] && [ "$c3" = "$c1" ] && [ "$b3" = "$b2" ] &&
    ok "/undo restores the $c3 cached tokens, prefilling $p3" || bad "/undo: context '$c3' of '$c1', prefilled '$p3'"
want=$(sed -n 2p "$T/plain") pw=$(awk '/^last turn:/ {print $4}' "$T/err2") bw=$(awk '/^context:/ {print $8}' "$T/err2")
[ -n "$want" ] && [ "$(sed -n 4p "$T/out")" = "$want" ] && [ "$p4" = "$pw" ] && [ "$b4" = "$bw" ] &&
    [ "$(grep -c '^kept for' "$T/err")" = 2 ] &&
    ok "after /undo the next turn is the unbroken session's (prefilled $p4 tokens as it did, the branch let go: $b4 blocks)" ||
    bad "turn after /undo: '$(sed -n 4p "$T/out")' vs '$want', prefilled $p4 vs $pw, blocks $b4 vs $bw"
printf 'Once upon a time\n/undo\n' | $RS >"$T/out" 2>"$T/err"
grep -q '^/undo: there is no reply' "$T/err" && [ "$(grep -c . "$T/out")" = 1 ] &&
    ok "/undo without a /retry says so" || bad "/undo alone: $(cat "$T/out" "$T/err")"

# /save, then a fresh process /loads and continues as the unbroken session
printf 'Once upon a time\n/save %s\nThe little dog\n' "$T/s.chat" | $CHAT >"$T/whole" 2>"$T/err"
printf '/load %s\n/stats\nThe little dog\n/stats\n' "$T/s.chat" | $CHAT >"$T/loaded" 2>"$T/err2"
whole=$(cat "$T/whole")
want=$(printf '%s' "${whole#"$first"}" | grep .) # the whole session's second reply
got=$(grep . "$T/loaded")
[ -n "$want" ] && [ "$got" = "$want" ] && ok "/load in a new process continues exactly as the saved session" ||
    bad "/load: '$got' vs '$want' ($(cat "$T/err2"))"
pre=$(awk '/^last turn:/ {p=$4} END {print p}' "$T/err2")
held=$(awk '/^context:/ {print $2; exit}' "$T/err2")
[ "${held:-0}" -gt 0 ] && [ "${pre:-0}" -lt "$held" ] &&
    ok "/load restores the KV cache ($held positions; the next turn prefilled $pre)" ||
    bad "/load KV: held '$held', prefilled '$pre'"
# another cache layout, another model, a damaged file, a missing one: an error, the chat goes on
printf '/load %s\nOnce upon a time\n' "$T/s.chat" | $CHAT -ctk f32 >"$T/out" 2>"$T/err"
grep -q 'another KV cache layout' "$T/err" && [ -s "$T/out" ] &&
    ok "/load with another KV layout: $(grep 'ember: error' "$T/err")" || bad "/load layout: $(cat "$T/err")"
printf '/load %s\n' "$T/s.chat" | $E chat -m tests/data/models/stories260K-Q8_0.gguf --no-history >"$T/out" 2>"$T/err"
grep -q 'saved with another model' "$T/err" && ok "/load of another model's file: $(grep 'ember: error' "$T/err")" ||
    bad "/load another model: $(cat "$T/err")"
head -c 300 "$T/s.chat" >"$T/cut.chat"
printf '/load %s\nOnce upon a time\n' "$T/cut.chat" | $CHAT >"$T/out" 2>"$T/err"
grep -q 'truncated or damaged\|cannot read' "$T/err" && [ -s "$T/out" ] &&
    ok "/load of a truncated file: $(grep 'ember: error' "$T/err")" || bad "/load truncated: $(cat "$T/err")"

# usage
EXPECT_TIMEOUT=20
expect 2 "--chat-template neither a name nor a file" $E run -m $M --chat -p hi --chat-template /nonexistent/x.jinja
expect 2 "too many -r" $E run -m $M -p hi -r a -r b -r c -r d -r e -r f -r g -r h -r i

# -r stops ember run at a stop string (kept in the output)
out=$($E run -m $M -p 'Once upon a time' --temp 0 -n 60 -r 'Lily' 2>/dev/null)
[ "${out%Lily}" != "$out" ] && ok "-r: output stops right after the stop string" || bad "-r: '$out'"

# ------------------------------------------------------------ terminal
if ! command -v tmux >/dev/null; then
    echo "SKIP chat in a terminal: tmux is not installed (apt: tmux)"
    exit 0
fi
S=ember-test-$$
trap 'tmux kill-session -t "$S" 2>/dev/null; rm -rf "$T"' EXIT
screen() { tmux capture-pane -t "$S" -p; }
# wait_for TEXT [SECONDS]: until the screen shows TEXT
wait_for() {
    for _ in $(seq 1 $((${2:-10} * 10))); do screen | grep -qF -- "$1" && return 0; sleep 0.1; done
    return 1
}
mkdir -p "$T/home"
tmux new-session -d -s "$S" -x 120 -y 40 \
    "HOME=$T/home $E chat -m $M --temp 0 -n 24; stty -a >$T/stty; echo EXITED; sleep 60"
if wait_for 'Ctrl-D quits'; then ok "tmux: the chat starts"; else bad "tmux: no start: $(screen)"; fi
tmux send-keys -t "$S" 'Once upon a time' Enter
sleep 1
tmux send-keys -t "$S" 'The little dog' Enter
sleep 1
tmux send-keys -t "$S" '/stats' Enter
if wait_for 'last turn:'; then
    pre=$(screen | awk '/^last turn:/ {print $4}' | tail -1)
    held=$(screen | awk '/^context:/ {print $2}' | tail -1)
    [ "${pre:-0}" -gt 0 ] && [ "${pre:-0}" -lt "${held:-0}" ] &&
        ok "tmux: turn 2 prefilled $pre of the $held positions held" || bad "tmux /stats: $(screen)"
else
    bad "tmux: /stats printed nothing: $(screen)"
fi
# editing: type, move, delete a word, recall history
tmux send-keys -t "$S" 'abc def' C-w 'xyz' Left Left 'Q' Home 'S'
sleep 0.5
screen | grep -q '^> Sabc xQyz$' && ok "tmux: line editing (Ctrl-W, Left, Home)" || bad "tmux editing: $(screen | tail -3)"
tmux send-keys -t "$S" C-u Up Up
sleep 0.5
screen | grep -q '^> The little dog$' && ok "tmux: Up recalls the history" || bad "tmux history: $(screen | tail -3)"
tmux send-keys -t "$S" C-u C-d
if wait_for EXITED; then
    grep -q ' icanon' "$T/stty" && grep -q ' echo ' "$T/stty" &&
        ok "tmux: Ctrl-D on an empty line quits; the terminal is back in canonical mode with echo" ||
        bad "tmux: terminal not restored: $(cat "$T/stty")"
else
    bad "tmux: Ctrl-D did not quit: $(screen | tail -3)"
fi
grep -qx 'The little dog' "$T/home/.ember_history" && ok "history saved in ~/.ember_history" ||
    bad "history file: $(cat "$T/home/.ember_history" 2>&1)"
tmux kill-session -t "$S" 2>/dev/null

# Ctrl-C mid-reply needs a model slower than a key press
REAL=$(ls models-cache/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf models-cache/smollm2-135m-instruct-q4_1.gguf 2>/dev/null | head -1)
if [ -z "$REAL" ]; then
    echo "SKIP tmux Ctrl-C mid-reply: no chat model in models-cache/ (stories260K replies in milliseconds; run scripts/get-models.sh)"
    exit 0
fi
tmux new-session -d -s "$S" -x 120 -y 40 "HOME=$T/home $E chat -m $REAL --temp 0 --ignore-eos -n 400 -c 1024 --no-history; echo EXITED; sleep 60"
wait_for 'Ctrl-D quits' 30
tmux send-keys -t "$S" 'Write a long story about a dragon' Enter
sleep 2
tmux send-keys -t "$S" C-c
if wait_for '(stopped)' 10; then
    tmux send-keys -t "$S" '/stats' Enter
    wait_for 'last turn:' 10
    gen=$(screen | awk '/^last turn:/ {print $9}' | tail -1)
    [ "${gen:-400}" -lt 400 ] && ok "tmux: Ctrl-C stops the reply after $gen of 400 tokens" ||
        bad "tmux Ctrl-C: $(screen | tail -5)"
    tmux send-keys -t "$S" C-l 'Thanks' Enter
    sleep 3
    tmux send-keys -t "$S" C-c
    wait_for '(stopped)' 10 && screen | grep -q '^> Thanks' && ok "tmux: a further turn after Ctrl-C works" ||
        bad "tmux turn after Ctrl-C: $(screen | tail -5)"
else
    bad "tmux: Ctrl-C did not stop the reply: $(screen | tail -5)"
fi
tmux send-keys -t "$S" C-c
wait_for EXITED 10 && ok "tmux: Ctrl-C on an empty line quits" || bad "tmux: Ctrl-C at the prompt: $(screen | tail -3)"
