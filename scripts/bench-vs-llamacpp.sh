#!/usr/bin/env bash
# bench-vs-llamacpp.sh — ember against llama.cpp (and optionally
# ik_llama.cpp) on the same files, threads and tests, in one run, as one
# side-by-side markdown table.
#
# Measures: memory read bandwidth (scripts/membw.c), then for each model
# llama.cpp's llama-bench, ik_llama.cpp's llama-bench if given (twice: -rtr 0
# and -rtr 1, run-time repacking off and on; the table shows the better of
# the two per test and, in brackets, which it was), and `ember bench` once
# per kernel set the machine supports other than scalar (EMBER_ISA=<set>,
# the sets from `ember info --cpu`; scalar only where there is no other),
# all back to back (so all see the same machine load): pp (prompt of P
# tokens in one batch) and tg (N tokens one at a time from an empty context),
# mean t/s over R runs after a warm-up.  One row per model, test and ember
# set; the llama.cpp and ik columns repeat on each set's row.
# For tg it also prints how close each runner gets to the bandwidth limit
# (pp is compute-bound, its % columns stay blank):
#     limit t/s = measured GB/s / weight bytes read per token
# where the weight bytes are the sum of all tensor bytes, minus token_embd
# when the file has a separate output.weight (only one embedding row is read
# per token; with tied embeddings token_embd is the output matrix and counts),
# read from the file's tensor table by the gguf Python package, or by
# `ember info -m` where gguf (or numpy) is not installed.
#
# With -g, one more row pairs different files: ember on a GPTQ 4-bit g128
# Hugging Face directory of TinyLlama's shape (GPTQ_MODEL=qwen2.5-0.5b for
# that shape; made by scripts/make-bench-model.py --types gptq4_g128 if
# missing) against llama.cpp on the same weights converted by `ember convert
# DIR OUT.gguf --type q4_0` (the tokenizer from --vocab: llama's SPM test
# vocabulary, or a qwen2 model in models-cache/), in the same run; its
# "weights read/token" shows both sides' bytes (ember's from the safetensors
# headers) and each side's % of the limit uses its own.
#
# Inputs: models (default: models-cache/bench/*.gguf, made by
# scripts/make-bench-model.py if missing, plus models-cache/*.gguf from
# scripts/get-models.sh). llama-bench comes from scripts/build-llamacpp.sh
# (built once, cached outside the repo; LLAMA_BENCH=PATH to use another);
# ik_llama.cpp's from IK_BENCH=PATH or -k PATH (scripts/build-ik-llamacpp.sh
# builds one; no ik columns without it); ember and membw are built here.
# Outputs: the table on stdout (header: machine, commit, date, commands,
# bandwidth); progress on stderr; raw JSON in build/bench-vs-llamacpp/.
#
#   scripts/bench-vs-llamacpp.sh [-t THREADS (2)] [-r REPS (3)] [-p P (512)]
#                                [-n N (128)] [-k IK_LLAMA_BENCH] [-g]
#                                [MODEL.gguf ...]
#
# Slow on small machines (minutes per model on 2 cores). Timings are only as
# good as the machine is quiet: the header records the load average.
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS=2 REPS=3 NP=512 NG=128
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }
IK_BENCH="${IK_BENCH:-}"
GPTQ=""
while getopts "t:r:p:n:k:gh" opt; do
    case "$opt" in
        t) THREADS=$OPTARG ;;
        r) REPS=$OPTARG ;;
        p) NP=$OPTARG ;;
        n) NG=$OPTARG ;;
        k) IK_BENCH=$OPTARG ;;
        g) GPTQ=1 ;;
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
    # only llama-bench is needed here: reuse any build that has it
    LLAMA_BIN=$(LLAMACPP_TARGETS="${LLAMACPP_TARGETS:-llama-bench}" scripts/build-llamacpp.sh | tail -n1)
    LLAMA_BENCH="$LLAMA_BIN/llama-bench"
fi
[[ -x "$LLAMA_BENCH" ]] || { log "no llama-bench at $LLAMA_BENCH"; exit 1; }
LLAMA_STAMP="$(cat "$(dirname "$LLAMA_BENCH")/../.ember-built" 2>/dev/null || echo unknown)"
IK_STAMP=""
if [[ -n "$IK_BENCH" ]]; then
    [[ -x "$IK_BENCH" ]] || { log "no ik_llama.cpp llama-bench at $IK_BENCH"; exit 1; }
    IK_STAMP="$(cat "$(dirname "$IK_BENCH")/../.ember-built" 2>/dev/null || echo unknown)"
fi
log "building ember and membw"
make -s ember >&2
${CC:-cc} -O3 -march=native -pthread -o "$OUT/membw" scripts/membw.c

# ember's kernel sets to bench: all the machine supports but scalar
read -r -a ISAS <<<"$(./ember info --cpu 2>/dev/null | sed -n 's/^supported sets: *//p')"
SETS=()
for s in "${ISAS[@]}"; do [[ "$s" == scalar ]] || SETS+=("$s"); done
[[ ${#SETS[@]} -gt 0 ]] || SETS=(scalar)

# ---- models -----------------------------------------------------------------
if [[ $# -gt 0 ]]; then
    MODELS=("$@")
elif [[ -n "$GPTQ" ]]; then
    MODELS=() # -g alone: the GPTQ row only
else
    if ! compgen -G "models-cache/bench/*.gguf" >/dev/null; then
        log "no bench models yet: running scripts/make-bench-model.py"
        python3 scripts/make-bench-model.py >&2
    fi
    shopt -s nullglob
    MODELS=(models-cache/bench/*.gguf models-cache/*.gguf)
    shopt -u nullglob
fi
[[ ${#MODELS[@]} -gt 0 || -n "$GPTQ" ]] || { log "no models"; exit 1; }
# ember reads EMBER_MODELS[i], llama.cpp MODELS[i]: the same file but for -g
EMBER_MODELS=("${MODELS[@]}")
CONVERT_CMD=""
if [[ -n "$GPTQ" ]]; then
    GM=${GPTQ_MODEL:-tinyllama-1.1b}
    GDIR=models-cache/bench/$GM-gptq4_g128 GGGUF=models-cache/bench/$GM-gptq4_g128-q4_0.gguf
    if [[ ! -f "$GDIR/model.safetensors" ]]; then
        log "making $GDIR (scripts/make-bench-model.py)"
        python3 scripts/make-bench-model.py --models "$GM" --types gptq4_g128 >&2
    fi
    case "$GM" in
        tinyllama*) VOCAB=tests/data/vocab/ggml-vocab-llama-spm.gguf ;;
        *) VOCAB=$(compgen -G "models-cache/qwen2*.gguf" | head -n1) ;;
    esac
    [[ -n "$VOCAB" ]] || { log "no qwen2 model in models-cache/ for the vocabulary (scripts/get-models.sh)"; exit 1; }
    CONVERT_CMD="ember convert $GDIR $GGGUF --type q4_0 --vocab $VOCAB"
    if [[ ! -f "$GGGUF" || "$GDIR/model.safetensors" -nt "$GGGUF" ]]; then
        log "$CONVERT_CMD"
        ./ember convert "$GDIR" "$GGGUF" --type q4_0 --vocab "$VOCAB" -t "$THREADS" >&2
    fi
    MODELS+=("$GGGUF")
    EMBER_MODELS+=("$GDIR")
fi

# ---- measure ----------------------------------------------------------------
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "membw (1..$THREADS threads)"
"$OUT/membw" -t "$THREADS" -r 5 >"$OUT/membw.txt"
BW=$(awk -v t="$THREADS" '$1 == t { print $2 }' "$OUT/membw.txt")

LLAMA_CMD="llama-bench -m MODEL -p $NP -n $NG -t $THREADS -r $REPS -o json"
IK_CMD="$LLAMA_CMD -rtr 0|1"
EMBER_CMD="EMBER_ISA=SET ember bench -m MODEL -p $NP -n $NG -t $THREADS -r $REPS -o json"
i=0
for m in "${MODELS[@]}"; do
    i=$((i + 1))
    log "[$i/${#MODELS[@]}] $(basename "$m"): llama.cpp"
    if ! "$LLAMA_BENCH" -m "$m" -p "$NP" -n "$NG" -t "$THREADS" -r "$REPS" -o json \
        >"$OUT/llama-$i.json" 2>"$OUT/llama-$i.log"; then
        log "  llama-bench failed (see $OUT/llama-$i.log)"
        echo "[]" >"$OUT/llama-$i.json"
    fi
    for rtr in 0 1; do
        [[ -n "$IK_BENCH" ]] || break
        f="$OUT/ik-$i-rtr$rtr"
        log "[$i/${#MODELS[@]}] $(basename "$m"): ik_llama.cpp -rtr $rtr"
        if ! "$IK_BENCH" -m "$m" -p "$NP" -n "$NG" -t "$THREADS" -r "$REPS" -rtr "$rtr" \
            -o json >"$f.json" 2>"$f.log"; then
            log "  ik llama-bench -rtr $rtr failed (see $f.log)"
            echo "[]" >"$f.json"
        fi
    done
    for s in "${SETS[@]}"; do
        f="$OUT/ember-$i-$s"
        em=${EMBER_MODELS[$((i - 1))]}
        log "[$i/${#MODELS[@]}] $(basename "$em"): ember ($s)"
        if ! EMBER_ISA="$s" ./ember bench -m "$em" -p "$NP" -n "$NG" -t "$THREADS" -r "$REPS" \
            -o json >"$f.json" 2>"$f.log"; then
            log "  ember bench ($s) failed: $(tail -n1 "$f.log")"
            echo "[]" >"$f.json"
        fi
    done
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

- machine: ${CPU:-unknown}, $(nproc) CPUs online, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); ember's default kernel set: ${ISA:-?}, benched: ${SETS[*]}
- ember commit: $COMMIT; llama.cpp: $LLAMA_STAMP${IK_STAMP:+; ik_llama.cpp: $IK_STAMP}
- date: $(date -u '+%Y-%m-%d %H:%M UTC')
- commands: \`$LLAMA_CMD\`${IK_STAMP:+, \`$IK_CMD\` for ik_llama.cpp (the better of the two),} and \`$EMBER_CMD\` for each benched SET${CONVERT_CMD:+; the GPTQ row: ember on the directory, llama.cpp on \`$CONVERT_CMD\`}
- read bandwidth (membw, $THREADS threads, best of 5): ${BW:-?} GB/s ($(grep -v '^#' "$OUT/membw.txt" | awk '{ printf "%s%s thr %s", sep, $1, $2; sep = ", " }'))
- load average before / after: $LOAD_BEFORE / $LOAD_AFTER (other processes share the CPUs when it is above 0)

EOF
PAIRS=()
for k in "${!MODELS[@]}"; do PAIRS+=("${MODELS[$k]}|${EMBER_MODELS[$k]}"); done
IK=${IK_BENCH:+1} python3 - "$OUT" "${BW:-0}" "${SETS[*]}" "${PAIRS[@]}" <<'PY'
import json, os, struct, subprocess, sys

out, bw, sets = sys.argv[1], float(sys.argv[2]), sys.argv[3].split()
pairs = [p.split("|", 1) for p in sys.argv[4:]]  # (llama.cpp's file, ember's file or directory)
ik = bool(os.environ.get("IK"))

def tensor_bytes(path):
    """{tensor name: bytes}: from the gguf package, or, where it (or numpy)
    is not installed, from the tensor table `ember info -m` prints."""
    try:
        from gguf import GGUFReader
    except ImportError:
        info = subprocess.run(["./ember", "info", "-m", path], check=True,
                              capture_output=True, text=True).stdout
        by = {}
        for line in info.split("\ntensors:", 1)[1].splitlines()[2:]:
            if not line.startswith("  "):  # the table ends at "total: ..."
                break
            f = line.split()
            by[f[0]] = int(f[-1])
        return by
    return {t.name: int(t.n_bytes) for t in GGUFReader(path).tensors}

def st_bytes(path):
    """{tensor name: bytes} of a Hugging Face directory's safetensors files,
    from their headers; GGUF-style names for the two the rule below needs."""
    by = {}
    for f in sorted(os.listdir(path)):
        if not f.endswith(".safetensors"):
            continue
        with open(os.path.join(path, f), "rb") as fh:
            n = struct.unpack("<Q", fh.read(8))[0]
            hdr = json.loads(fh.read(n))
        for name, e in hdr.items():
            if name != "__metadata__":
                name = {"lm_head.weight": "output.weight",
                        "model.embed_tokens.weight": "token_embd.weight"}.get(name, name)
                by[name] = e["data_offsets"][1] - e["data_offsets"][0]
    return by

def weight_bytes(path):
    """Bytes of weights one generated token reads (see the script header)."""
    by = st_bytes(path) if os.path.isdir(path) else tensor_bytes(path)
    total = sum(by.values())
    if "output.weight" in by:
        total -= by.get("token_embd.weight", 0)
    return total

def load(name):
    try:
        with open(os.path.join(out, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return []

def key(row):
    return ("pp%d" % row["n_prompt"]) if row["n_prompt"] else ("tg%d" % row["n_gen"])

def rows(name):
    return {key(r): r for r in load(name)}

def ts(row, note=""):
    return "%.2f ± %.2f%s" % (row["avg_ts"], row["stddev_ts"], note) if row else "n/a"

def ratio(a, b):
    return "%.2f" % (a["avg_ts"] / b["avg_ts"]) if a and b and b["avg_ts"] > 0 else "n/a"

cols = ["model", "weights read/token", "test", "ember set", "llama.cpp t/s"]
cols += ["ik_llama.cpp t/s (rtr)"] if ik else []
cols += ["ember t/s", "ember/llama.cpp"] + (["ember/ik"] if ik else [])
cols += ["llama.cpp % of BW limit"] + (["ik % of BW limit"] if ik else []) + ["ember % of BW limit"]
print("| " + " | ".join(cols) + " |")
print("| " + " | ".join("---" if c in ("model", "test", "ember set") else "---:" for c in cols) + " |")
for i, (m, em) in enumerate(pairs, 1):
    lr = rows("llama-%d.json" % i)
    # ik: the better of -rtr 0 and -rtr 1, per test
    ir, rtr = {}, {}
    if ik:
        for flag in (0, 1):
            for test, r in rows("ik-%d-rtr%d.json" % (i, flag)).items():
                if test not in ir or r["avg_ts"] > ir[test]["avg_ts"]:
                    ir[test], rtr[test] = r, flag
    er = {s: rows("ember-%d-%s.json" % (i, s)) for s in sets}
    wb = weight_bytes(m)
    ewb = wb if em == m else weight_bytes(em)
    name = os.path.basename(m) if em == m else "%s (ember) vs %s" % (os.path.basename(em), os.path.basename(m))
    wcell = "%.1f MiB" % (wb / 2**20) if em == m else "%.1f / %.1f MiB" % (ewb / 2**20, wb / 2**20)
    tests = set(lr) | set(ir)
    for s in sets:
        tests |= set(er[s])
    for test in sorted(tests, key=lambda k: (k[:2] != "pp", k)):
        l, k = lr.get(test), ir.get(test)
        for s in sets:
            e = er[s].get(test)
            pct = epct = lambda r: ""
            if test.startswith("tg") and bw > 0:
                pct = lambda r: "%.0f%%" % (100 * r["avg_ts"] * wb / (bw * 1e9)) if r else "n/a"
                epct = lambda r: "%.0f%%" % (100 * r["avg_ts"] * ewb / (bw * 1e9)) if r else "n/a"
            cells = [name, wcell, test, s, ts(l)]
            cells += [ts(k, " (%d)" % rtr[test] if k else "")] if ik else []
            cells += [ts(e), ratio(e, l)] + ([ratio(e, k)] if ik else [])
            cells += [pct(l)] + ([pct(k)] if ik else []) + [epct(e)]
            print("| " + " | ".join(cells) + " |")
PY
