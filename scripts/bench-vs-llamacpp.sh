#!/usr/bin/env bash
# bench-vs-llamacpp.sh — ember against llama.cpp on the same files, threads
# and tests, in one run, as one side-by-side markdown table.
#
# Measures: memory read bandwidth (scripts/membw.c), then for each model
# llama.cpp's llama-bench and `ember bench` back to back (so both see the
# same machine load): pp (prompt of P tokens in one batch) and tg (N tokens
# one at a time from an empty context), mean t/s over R runs after a warm-up.
# For tg it also prints how close each runner gets to the bandwidth limit:
#     limit t/s = measured GB/s / weight bytes read per token
# where the weight bytes are the sum of all tensor bytes, minus token_embd
# when the file has a separate output.weight (only one embedding row is read
# per token; with tied embeddings token_embd is the output matrix and counts).
#
# Inputs: models (default: models-cache/bench/*.gguf, made by
# scripts/make-bench-model.py if missing, plus models-cache/*.gguf from
# scripts/get-models.sh). llama-bench comes from scripts/build-llamacpp.sh
# (built once, cached outside the repo); ember and membw are built here.
# Outputs: the table on stdout (header: machine, commit, date, commands,
# bandwidth); progress on stderr; raw JSON in build/bench-vs-llamacpp/.
#
#   scripts/bench-vs-llamacpp.sh [-t THREADS (2)] [-r REPS (3)] [-p P (512)]
#                                [-n N (128)] [MODEL.gguf ...]
#
# Slow on small machines (minutes per model on 2 cores). Timings are only as
# good as the machine is quiet: the header records the load average.
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS=2 REPS=3 NP=512 NG=128
usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "t:r:p:n:h" opt; do
    case "$opt" in
        t) THREADS=$OPTARG ;;
        r) REPS=$OPTARG ;;
        p) NP=$OPTARG ;;
        n) NG=$OPTARG ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
for v in "$THREADS" "$REPS" "$NP" "$NG"; do
    [[ "$v" =~ ^[0-9]+$ ]] || { echo "bench-vs-llamacpp: '$v' is not a number" >&2; exit 2; }
done

OUT=build/bench-vs-llamacpp
mkdir -p "$OUT"
log() { echo "bench-vs-llamacpp: $*" >&2; }

# ---- tools ------------------------------------------------------------------
if [[ -z "${LLAMA_BENCH:-}" ]]; then
    LLAMA_BIN=$(scripts/build-llamacpp.sh | tail -n1)
    LLAMA_BENCH="$LLAMA_BIN/llama-bench"
fi
[[ -x "$LLAMA_BENCH" ]] || { log "no llama-bench at $LLAMA_BENCH"; exit 1; }
LLAMA_STAMP="$(cat "$(dirname "$LLAMA_BENCH")/../.ember-built" 2>/dev/null || echo unknown)"
log "building ember and membw"
make -s ember >&2
${CC:-cc} -O3 -march=native -pthread -o "$OUT/membw" scripts/membw.c

# ---- models -----------------------------------------------------------------
if [[ $# -gt 0 ]]; then
    MODELS=("$@")
else
    if ! compgen -G "models-cache/bench/*.gguf" >/dev/null; then
        log "no bench models yet: running scripts/make-bench-model.py"
        python3 scripts/make-bench-model.py >&2
    fi
    shopt -s nullglob
    MODELS=(models-cache/bench/*.gguf models-cache/*.gguf)
    shopt -u nullglob
fi
[[ ${#MODELS[@]} -gt 0 ]] || { log "no models"; exit 1; }

# ---- measure ----------------------------------------------------------------
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "membw (1..$THREADS threads)"
"$OUT/membw" -t "$THREADS" -r 5 >"$OUT/membw.txt"
BW=$(awk -v t="$THREADS" '$1 == t { print $2 }' "$OUT/membw.txt")

LLAMA_CMD="llama-bench -m MODEL -p $NP -n $NG -t $THREADS -r $REPS -o json"
EMBER_CMD="ember bench -m MODEL -p $NP -n $NG -t $THREADS -r $REPS -o json"
i=0
for m in "${MODELS[@]}"; do
    i=$((i + 1))
    log "[$i/${#MODELS[@]}] $(basename "$m"): llama.cpp"
    if ! "$LLAMA_BENCH" -m "$m" -p "$NP" -n "$NG" -t "$THREADS" -r "$REPS" -o json \
        >"$OUT/llama-$i.json" 2>"$OUT/llama-$i.log"; then
        log "  llama-bench failed (see $OUT/llama-$i.log)"
        echo "[]" >"$OUT/llama-$i.json"
    fi
    log "[$i/${#MODELS[@]}] $(basename "$m"): ember"
    if ! ./ember bench -m "$m" -p "$NP" -n "$NG" -t "$THREADS" -r "$REPS" -o json \
        >"$OUT/ember-$i.json" 2>"$OUT/ember-$i.log"; then
        log "  ember bench failed: $(tail -n1 "$OUT/ember-$i.log")"
        echo "[]" >"$OUT/ember-$i.json"
    fi
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report -----------------------------------------------------------------
# the core's family and model too: a brand string alone ("AMD EPYC") does
# not say which generation ran the numbers
CPU_INFO=$(./ember info --cpu 2>/dev/null || true)
CPU=$(sed -n 's/^cpu: //p' <<<"$CPU_INFO")
[[ -n "$CPU" && "$CPU" != unknown ]] || CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -n1)
ISA=$(sed -n 's/^chosen: //p' <<<"$CPU_INFO")
COMMIT="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- 2>/dev/null || echo '+dirty')"
cat <<EOF
## ember vs llama.cpp

- machine: ${CPU:-unknown}, $(nproc) CPUs online, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); ember's kernel set: ${ISA:-?}
- ember commit: $COMMIT; llama.cpp: $LLAMA_STAMP
- date: $(date -u '+%Y-%m-%d %H:%M UTC')
- commands: \`$LLAMA_CMD\` and \`$EMBER_CMD\`
- read bandwidth (membw, $THREADS threads, best of 5): ${BW:-?} GB/s ($(grep -v '^#' "$OUT/membw.txt" | awk '{ printf "%s%s thr %s", sep, $1, $2; sep = ", " }'))
- load average before / after: $LOAD_BEFORE / $LOAD_AFTER (other processes share the CPUs when it is above 0)

EOF
python3 - "$OUT" "${BW:-0}" "${MODELS[@]}" <<'PY'
import json, os, sys
from gguf import GGUFReader

out, bw, models = sys.argv[1], float(sys.argv[2]), sys.argv[3:]

def weight_bytes(path):
    """Bytes of weights one generated token reads (see the script header)."""
    r = GGUFReader(path)
    by = {t.name: int(t.n_bytes) for t in r.tensors}
    total = sum(by.values())
    if "output.weight" in by:
        total -= by.get("token_embd.weight", 0)
    return total

def load(p):
    try:
        with open(p) as f:
            return json.load(f)
    except (OSError, ValueError):
        return []

def key(row):
    return ("pp%d" % row["n_prompt"]) if row["n_prompt"] else ("tg%d" % row["n_gen"])

def ts(row):
    return "%.2f ± %.2f" % (row["avg_ts"], row["stddev_ts"]) if row else "n/a"

print("| model | weights read/token | test | llama.cpp t/s | ember t/s | ember/llama.cpp "
      "| llama.cpp % of BW limit | ember % of BW limit |")
print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
for i, m in enumerate(models, 1):
    lr = {key(r): r for r in load(os.path.join(out, "llama-%d.json" % i))}
    er = {key(r): r for r in load(os.path.join(out, "ember-%d.json" % i))}
    wb = weight_bytes(m)
    for test in sorted(set(lr) | set(er), key=lambda k: (k[:2] != "pp", k)):
        l, e = lr.get(test), er.get(test)
        ratio = "%.2f" % (e["avg_ts"] / l["avg_ts"]) if l and e and l["avg_ts"] > 0 else "n/a"
        bwl = bwe = ""
        if test.startswith("tg") and bw > 0:
            limit = bw * 1e9 / wb
            bwl = "%.0f%%" % (100 * l["avg_ts"] / limit) if l else "n/a"
            bwe = "%.0f%%" % (100 * e["avg_ts"] / limit) if e else "n/a"
        print("| %s | %.1f MiB | %s | %s | %s | %s | %s | %s |"
              % (os.path.basename(m), wb / 2**20, test, ts(l), ts(e), ratio, bwl, bwe))
PY
