#!/usr/bin/env bash
# test_threadpool_tsan.sh — the thread pool under ThreadSanitizer. Builds
# tests/test_threadpool.c with src/core/threadpool.c and clang -fsanitize=thread
# (into build-tsan/), runs it a few times (the pool's hand-overs between
# jobs are where a race would hide), and fails on any report. The rest of
# ember is single-threaded around the pool, so this is where data races
# can live; `make sanitize` (ASan + UBSan) cannot see them.
# Prints "ok"/"not ok" lines for tests/run.sh; SKIP when clang or its TSan
# runtime is missing (Debian: clang libclang-rt-14-dev).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -n "${EMBER_SANITIZE:-}" ]; then
    echo "SKIP threadpool tsan under make sanitize: it builds its own binary (make test runs it)"; exit 0
fi
OUT=build-tsan
mkdir -p "$OUT"
if ! command -v clang >/dev/null ||
    ! clang -fsanitize=thread -g -O1 -std=c11 -D_GNU_SOURCE -Isrc/core -Itests \
        -o "$OUT/test_threadpool" tests/test_threadpool.c src/core/threadpool.c -lpthread 2>"$OUT/build.log"; then
    echo "SKIP threadpool tsan: needs clang with its ThreadSanitizer runtime (apt: clang libclang-rt-14-dev)"
    exit 0
fi
fail=0
for run in 1 2 3; do
    log="$OUT/run-$run.log"
    TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$OUT/test_threadpool" >"$log" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ] && ! grep -q 'ThreadSanitizer' "$log" && ! grep -q '^not ok' "$log"; then
        echo "ok threadpool under TSan, run $run: $(grep -c '^ok' "$log") checks, no race reported"
    else
        echo "not ok threadpool under TSan, run $run (exit $rc): $(grep -m1 -E 'WARNING|^not ok' "$log")"
        fail=1
    fi
done
exit "$fail"
