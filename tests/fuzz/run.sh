#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS HARNESS... — run each built libFuzzer harness
# ($FUZZ_BUILD/fuzz/fuzz_<name>, from `make fuzz-build`) for SECONDS on a
# corpus seeded by make_seeds.py and tests/fuzz/regressions/<name>/, with its
# dictionary, FUZZ_JOBS harnesses at a time (default 2). Prints one line per
# harness: executions, coverage (edges) and features reached, corpus size.
# A crash, leak, timeout (> 10 s per input) or memory blow-up (> 2 GB) fails
# the run; the input is left in $FUZZ_BUILD/artifacts/<name>/ — fix the bug,
# then copy the input into tests/fuzz/regressions/<name>/ so make test
# replays it. The corpus persists in $FUZZ_BUILD/corpus/ between runs.
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${1:?usage: run.sh SECONDS HARNESS...}; shift
B=${FUZZ_BUILD:-build-fuzz}
JOBS=${FUZZ_JOBS:-2}
python3 tests/fuzz/make_seeds.py "$B/seeds" >/dev/null || exit 1

run_one() {
    local h=$1 dict=
    case $h in gguf|model) dict=-dict=tests/fuzz/gguf.dict ;;
               tokenizer) dict=-dict=tests/fuzz/tokenizer.dict ;;
               args) dict=-dict=tests/fuzz/args.dict ;;
               json) dict=-dict=tests/fuzz/json.dict ;;
               template) dict=-dict=tests/fuzz/template.dict ;;
               safetensors) dict=-dict=tests/fuzz/safetensors.dict ;;
               hf) dict=-dict=tests/fuzz/hf.dict ;; esac
    mkdir -p "$B/corpus/$h" "$B/artifacts/$h" "tests/fuzz/regressions/$h"
    "$B/fuzz/fuzz_$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=2000000 \
        -close_fd_mask=3 -print_final_stats=1 -artifact_prefix="$B/artifacts/$h/" $dict \
        "$B/corpus/$h" "$B/seeds/$h" "tests/fuzz/regressions/$h" >"$B/fuzz-$h.log" 2>&1
    echo $? >"$B/fuzz-$h.rc"
}

pids=()
for h in "$@"; do
    run_one "$h" &
    pids+=($!)
    if [ "${#pids[@]}" -ge "$JOBS" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
wait

fail=0
for h in "$@"; do
    log=$B/fuzz-$h.log rc=$(cat "$B/fuzz-$h.rc" 2>/dev/null || echo 99)
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1)
    if [ "$rc" -eq 0 ]; then
        echo "ok fuzz $h: ${execs:-?} executions in ${secs} s, ${cov:-no coverage line} (edges, features, corpus)"
    else
        fail=1
        echo "not ok fuzz $h: exit $rc after ${execs:-?} executions; input saved in $B/artifacts/$h/:"
        ls "$B/artifacts/$h/" | sed 's/^/    /'
        grep -E 'ERROR|SUMMARY|fuzz check|#[0-9]+ in ' "$log" | head -30 | sed 's/^/    /'
    fi
done
exit $fail
