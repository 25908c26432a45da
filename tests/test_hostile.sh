#!/usr/bin/env bash
# The hostile-file suite: tests/hostile/gen_hostile.py derives ~16k broken
# GGUF files from the bundled stories260K model (truncations, every integer
# field set to extreme values, structural damage, absurd hyper-parameters),
# and tests/hostile/run_hostile runs `ember run -m FILE -p hi -n 1` on each:
# exit 1 with one "ember: error:" line within 2 s and under 64 MB + the file
# size of RSS (see run_hostile.c). Under `make sanitize` (EMBER_SANITIZE=1)
# the RSS budget gets room for ASan's shadow memory.
set -uo pipefail
cd "$(dirname "$0")/.."
E=${EMBER:-./ember}
R=${TEST_BIN:-build/tests}/run_hostile
M=tests/data/models/stories260K.gguf
if [ ! -x "$R" ]; then echo "not ok hostile: $R is not built (make tests)"; exit 1; fi
if ! command -v python3 >/dev/null; then echo "SKIP hostile: needs python3"; exit 0; fi
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
if ! python3 tests/hostile/gen_hostile.py "$M" "$T" >"$T/gen.log" 2>&1; then
    echo "not ok hostile: generator failed: $(tail -3 "$T/gen.log")"
    exit 1
fi
args=${HOSTILE_ARGS:-}
if [ -n "${EMBER_SANITIZE:-}" ]; then
    # ASan maps its shadow lazily (a hostile case peaks near 13 MB), but give
    # it room; its ~20 ms start makes every 16th header truncation enough here
    # (test_gguf, also sanitized, cuts at every header offset in-process).
    export HOSTILE_RSS_SLACK_MB=${HOSTILE_RSS_SLACK_MB:-64}
    args=${HOSTILE_ARGS:---trunc-stride 16}
fi
"$R" "$E" "$M" "$T" $args
