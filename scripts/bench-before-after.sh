#!/usr/bin/env bash
# bench-before-after.sh OLD_EMBER NEW_EMBER MODEL...
#
# What a "no behaviour change" refactor reports: the speed of the binary
# before and after, measured in the same sitting (build the old one from a
# clone: git clone -q . /tmp/old && make -C /tmp/old ember).
#
# For each model: one untimed warm-up run per binary (a binary older than
# issue [10] writes its repack cache there),
# then ALT alternations of OLD, NEW (OLD, NEW, OLD, NEW for ALT=2) of
#   ember bench -m MODEL -p P -n N -t T -r R -o json
# and a markdown table: model | test | old t/s | new t/s | new/old, where a t/s
# is the mean over the alternations of bench's avg_ts. Each binary gets its own
# fresh EMBER_CACHE_DIR (so an old binary never maps another's cache files); any EMBER_ISA /
# EMBER_REPACK* in the caller's environment is passed to both unchanged.
# Environment (defaults): P=512 N=128 T=2 R=3 ALT=2. Raw JSON stays in
# OUT (default: a new temporary folder), per-run values are printed
# under the table. Exit 1 if any bench run fails.
set -uo pipefail
if [[ $# -lt 3 ]]; then echo "usage: $0 OLD_EMBER NEW_EMBER MODEL..." >&2; exit 2; fi
abspath() { [[ $1 = /* ]] && echo "$1" || echo "$PWD/$1"; }
OLD=$(abspath "$1"); NEW=$(abspath "$2"); shift 2
for b in "$OLD" "$NEW"; do [[ -x $b ]] || { echo "not executable: $b" >&2; exit 2; }; done
for m in "$@"; do [[ -f $m ]] || { echo "no model file: $m" >&2; exit 2; }; done
P=${P:-512}; N=${N:-128}; T=${T:-2}; R=${R:-3}; ALT=${ALT:-2}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT/cache-old" "$OUT/cache-new"
echo "bench-before-after: -p $P -n $N -t $T -r $R, $ALT alternations; raw JSON in $OUT" >&2
echo "old=$OLD new=$NEW" >&2

bin_of() { [[ $1 == old ]] && echo "$OLD" || echo "$NEW"; }
fail=0
for m in "$@"; do
    b=$(basename "$m")
    for who in old new; do
        echo "[$b] warm-up $who (untimed)" >&2
        EMBER_CACHE_DIR="$OUT/cache-$who" "$(bin_of $who)" bench -m "$m" -p 16 -n 2 -t "$T" -r 1 -o json \
            >"$OUT/$b.warm.$who.json" 2>"$OUT/$b.warm.$who.err" ||
            { echo "warm-up of $who failed on $m: $(tail -c 300 "$OUT/$b.warm.$who.err")" >&2; fail=1; }
    done
    for a in $(seq 1 "$ALT"); do
        for who in old new; do
            echo "[$b] alternation $a: $who" >&2
            EMBER_CACHE_DIR="$OUT/cache-$who" "$(bin_of $who)" bench -m "$m" -p "$P" -n "$N" -t "$T" -r "$R" -o json \
                >"$OUT/$b.$a.$who.json" 2>"$OUT/$b.$a.$who.err" ||
                { echo "bench of $who failed on $m (alternation $a): $(tail -c 300 "$OUT/$b.$a.$who.err")" >&2; fail=1; }
        done
    done
done

python3 - "$OUT" "$ALT" "$@" <<'EOF'
import json, os, sys
out, alt, models = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
print("| model | test | old t/s | new t/s | new/old |")
print("|---|---|---:|---:|---:|")
raw = []
for m in models:
    b = os.path.basename(m)
    runs = {"old": {}, "new": {}}          # who -> test -> [avg_ts per alternation]
    tests = []
    isas = {}
    for a in range(1, alt + 1):
        for who in ("old", "new"):
            try:
                rows = json.load(open(os.path.join(out, f"{b}.{a}.{who}.json")))
            except (OSError, ValueError) as e:
                rows = []
                raw.append(f"{b} alternation {a} {who}: no JSON ({e})")
            for r in rows:
                key = f"{r['test']} t{r['n_threads']}" if "n_threads" in r else r["test"]
                if key not in tests: tests.append(key)
                runs[who].setdefault(key, []).append(r["avg_ts"])
                isas.setdefault(who, set()).add(r.get("isa"))
    if isas.get("old") != isas.get("new"):
        raw.append(f"WARNING {b}: kernel sets differ: old {isas.get('old')} new {isas.get('new')}")
    for t in tests:
        o, n = runs["old"].get(t, []), runs["new"].get(t, [])
        mo = sum(o) / len(o) if o else float("nan")
        mn = sum(n) / len(n) if n else float("nan")
        ratio = mn / mo if o and n and mo else float("nan")
        print(f"| {b} | {t} | {mo:.2f} | {mn:.2f} | {ratio:.3f} |")
        raw.append(f"{b} {t}: old {', '.join(f'{x:.2f}' for x in o)}; new {', '.join(f'{x:.2f}' for x in n)}")
print()
print("per-alternation avg_ts (t/s):")
for line in raw: print("  " + line)
EOF
# the repack caches are the size of the quantized weights: drop them (KEEP_CACHE=1 keeps)
[[ -n ${KEEP_CACHE:-} ]] || rm -rf "$OUT/cache-old" "$OUT/cache-new"
exit $fail
