#!/usr/bin/env bash
# Runs every test (C binaries in $TEST_BIN, then tests/test_*.sh) and counts
# their "ok" / "not ok" / "SKIP" lines. A test that exits non-zero without a
# "not ok" line counts as one failure; each test's line ends with its
# seconds (CI has 40 minutes for every stage). Last line: "N passed, N failed".
# ONLY="test_blas test_bench.sh ...": just the tests of those file names.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${EMBER:=./ember}" "${TEST_BIN:=build/tests}"
export EMBER TEST_BIN
pass=0 fail=0 skip=0
wanted() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }
run_one() {
    local name=$1; shift
    local out rc t0=$SECONDS
    out=$("$@" 2>&1); rc=$?
    local p f s
    p=$(grep -c '^ok ' <<<"$out"); f=$(grep -c '^not ok ' <<<"$out"); s=$(grep -c '^SKIP ' <<<"$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; out+=$'\n'"not ok $name exited with status $rc"; fi
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
    printf '%-28s %4d passed %4d failed %3d skipped %5d s\n' "$name" "$p" "$f" "$s" $((SECONDS - t0))
    grep -E '^(not ok|SKIP) ' <<<"$out" | head -40 | sed 's/^/    /'
    if [ "$rc" -ne 0 ] && [ "$f" -gt 0 ] && [ -n "${VERBOSE:-}" ]; then printf '%s\n' "$out" | tail -20; fi
}
for t in "$TEST_BIN"/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *.d) continue ;; esac
    wanted "$(basename "$t")" || continue
    run_one "$(basename "$t")" "$t"
done
for t in tests/test_*.sh; do
    [ -f "$t" ] || continue
    wanted "$(basename "$t")" || continue
    run_one "$(basename "$t")" bash "$t"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
