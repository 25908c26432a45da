#!/usr/bin/env bash
# The hostile-file suite (tests/test_hostile.sh) on the mixture-of-experts
# test files: gen_hostile.py --fields-only derives their truncations (every
# 256th inside the header: test_hostile.sh covers the header's layout) and
# every integer field of header, metadata and tensor table set to extreme
# values (expert_count, expert_used_count, the 3-D experts' dims and types,
# ...), and run_hostile holds ember to one "ember: error:" line and exit 1
# (or a legitimate run), within 2 s and its memory budget, never a crash.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
E=${EMBER:-./ember}
R=${TEST_BIN:-build/tests}/run_hostile
if [ ! -x "$R" ]; then echo "not ok hostile moe: $R is not built (make tests)"; exit 1; fi
if ! command -v python3 >/dev/null; then echo "SKIP hostile moe: needs python3"; exit 0; fi
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
[ -n "${EMBER_SANITIZE:-}" ] && export HOSTILE_RSS_SLACK_MB=${HOSTILE_RSS_SLACK_MB:-64}
rc=0
for name in qwen2moe qwen3moe; do
    M=tests/data/models/stories260K-$name.gguf
    rm -rf "${T:?}"/*
    if ! python3 tests/hostile/gen_hostile.py "$M" "$T" --fields-only >"$T/gen.log" 2>&1; then
        echo "not ok hostile $name: generator failed: $(tail -3 "$T/gen.log")"
        rc=1
        continue
    fi
    "$R" "$E" "$M" "$T" --trunc-stride 256 || rc=1
done
exit $rc
