#!/usr/bin/env bash
# `ember bench` on the bundled stories260K model: the markdown table, csv and
# json outputs parse and carry one row per model x threads x test, comma
# lists and -p 0 / -n 0 work, and bad flags are usage errors (exit 2).
# Functional only: no timing is asserted, so a loaded machine cannot fail it.
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib.sh
M2=tests/data/models/stories260K-Q4_0.gguf

# run NAME CMD...: exit 0 expected; stdout in $T/out, stderr in $T/err
run() {
    local name=$1; shift
    if timeout 120 "$@" >"$T/out" 2>"$T/err"; then ok "$name runs"; return 0; fi
    bad "$name: exit $?, stderr: $(head -c 300 "$T/err")"
    return 1
}

# Markdown: llama-bench's columns, one row per test, "mean ± sd".
if run "markdown" $E bench -m $M -p 16 -n 4 -r 2 -t 1; then
    head -n1 "$T/out" | grep -Eq '^\| model +\| +size \| +params \| isa +\| threads \| +test \| +t/s \|$' &&
        ok "markdown header" || bad "markdown header: $(head -n1 "$T/out")"
    [ "$(wc -l <"$T/out")" -eq 4 ] && ok "markdown has header, rule and 2 rows" ||
        bad "markdown lines: $(cat "$T/out")"
    # isa: the kernel set, with OpenBLAS's part in a BLAS=1 build ("avx512+openblas:Haswell")
    grep -Eq '^\| stories260K\.gguf +\| +[0-9.]+ MiB \| +[0-9.]+ K \| [^|]+ \| +1 \| +pp16 \| +[0-9.]+ ± [0-9.]+ \|$' "$T/out" &&
        ok "markdown pp16 row" || bad "markdown pp16 row: $(cat "$T/out")"
    grep -Eq '\| +tg4 \| +[0-9.]+ ± [0-9.]+ \|$' "$T/out" && ok "markdown tg4 row" || bad "markdown tg4 row"
    ! grep -q 'ember bench:' "$T/out" && ok "progress stays off stdout" || bad "progress on stdout"
fi

# CSV: header fields, one row per model x threads x test, r samples each.
if run "csv" $E bench -m $M -m $M2 -p 8,16 -n 0 -t 1,2 -r 3 -o csv; then
    python3 - "$T/out" <<'PY' && ok "csv parses: 2 models x 2 threads x 2 tests" || bad "csv content: $(head -c 400 "$T/out")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 8, len(rows)
want = ["model_filename", "model_name", "arch", "model_size", "model_n_params", "isa",
        "n_threads", "n_prompt", "n_gen", "n_depth", "test", "avg_ts", "stddev_ts", "samples_ts"]
assert list(rows[0].keys()) == want, list(rows[0].keys())
got = [(r["model_filename"].split("/")[-1], r["n_threads"], r["test"]) for r in rows]
exp = [(m, t, p) for m in ("stories260K.gguf", "stories260K-Q4_0.gguf")
       for t in ("1", "2") for p in ("pp8", "pp16")]
assert got == exp, got
for r in rows:
    assert r["n_gen"] == "0" and r["arch"] == "llama"
    assert float(r["avg_ts"]) > 0 and float(r["stddev_ts"]) >= 0
    assert len(r["samples_ts"].split(";")) == 3
    assert int(r["model_n_params"]) > 0 and int(r["model_size"]) > 0
PY
fi

# JSON: an array of objects with llama-bench's field names.
if run "json" $E bench -m $M -p 0 -n 3,5 -r 1 -t 1 -o json; then
    python3 - "$T/out" <<'PY' && ok "json parses: tg3, tg5, no pp" || bad "json content: $(head -c 400 "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert [r["test"] for r in d] == ["tg3", "tg5"], d
for r in d:
    assert r["n_prompt"] == 0 and r["n_gen"] in (3, 5) and r["n_threads"] == 1
    assert r["avg_ts"] > 0 and r["stddev_ts"] == 0 and len(r["samples_ts"]) == 1
    assert r["model_name"] == "llama" and r["model_filename"].endswith("stories260K.gguf")
PY
fi

# -d: each test at each depth, named as llama-bench names it.
if run "depth" $E bench -m $M -p 8 -n 2 -d 0,20 -r 1 -t 1 -o json; then
    python3 - "$T/out" <<'PY' && ok "-d 0,20: pp8, pp8 @ d20, tg2, tg2 @ d20" || bad "depth json: $(head -c 400 "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert [(r["test"], r["n_depth"]) for r in d] == [("pp8", 0), ("pp8 @ d20", 20), ("tg2", 0), ("tg2 @ d20", 20)], d
assert all(r["avg_ts"] > 0 for r in d)
PY
fi

# Usage errors: exit 2 and one "ember: error:" line (tests/lib.sh).
EXPECT_TIMEOUT=30
expect 2 "unknown flag" $E bench -m $M --bogus
expect 2 "no -m" $E bench -p 8
expect 2 "-p without value" $E bench -m $M -p
expect 2 "-p not a number" $E bench -m $M -p abc
expect 2 "-p empty list item" $E bench -m $M -p 8,,16
expect 2 "-p negative" $E bench -m $M -p -4
expect 2 "-n trailing comma" $E bench -m $M -n 8,
expect 2 "-t 0" $E bench -m $M -t 0
expect 2 "-r 0" $E bench -m $M -r 0
expect 2 "-o xml" $E bench -m $M -o xml
expect 2 "-d negative" $E bench -m $M -d -1
expect 2 "-ctk bogus" $E bench -m $M -ctk q4_0
expect 1 "-ctk q8_0 with head size 8" $E bench -m $M -ctk q8_0 -p 8 -n 0 -r 1
expect 2 "-p 0 -n 0 measures nothing" $E bench -m $M -p 0 -n 0
expect 1 "missing model file" $E bench -m "$T/nope.gguf" -p 8 -n 0 -r 1
$E bench --help >"$T/out" 2>&1 && grep -q 'usage: ember bench' "$T/out" && ok "--help" || bad "--help"
