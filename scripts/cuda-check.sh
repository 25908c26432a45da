#!/usr/bin/env bash
# scripts/cuda-check.sh — the checks the CUDA backend needs a GPU for, in
# one go, for a session on a machine with an NVIDIA GPU (CI has none: it
# only compiles, scripts/ci-cuda.sh). Steps, each printed as it runs:
#   1. make CUDA=1 for this GPU's compute capability (CUDA_ARCH, default
#      from nvidia-smi) and the op tests: tests/test_cuda (every op against
#      the CPU) and tests/test_backend_ops where it exists (the generic one);
#   2. whole models: greedy text of every stories260K type with -ngl 0, 2
#      and 99 against the CPU's (exact equality is not expected of a GPU:
#      a mismatch is reported with where it starts, not failed), and
#      perplexity with -ngl 99 against the CPU's (must agree within 1%);
#   3. speed: ember bench -ngl 99 against llama.cpp's llama-bench -ngl 99
#      (scripts/build-llamacpp.sh with LLAMACPP_CUDA=1, cached outside the
#      repo) on random-weight TinyLlama-1.1B files (scripts/make-bench-model.py)
#      of TYPES, pp P and tg N, as one table with the ratio.
# Exit status non-zero when a build, an op test or the perplexity check fails.
#
#   scripts/cuda-check.sh [-t TYPES (q4_0,q4_k_m,q8_0,f16)] [-p P (512)] [-n N (128)]
#                         [--no-bench]
set -euo pipefail
cd "$(dirname "$0")/.."
TYPES=q4_0,q4_k_m,q8_0,f16 P=512 N=128 BENCH=1
while [ $# -gt 0 ]; do
    case $1 in
    -t) TYPES=$2; shift 2 ;;
    -p) P=$2; shift 2 ;;
    -n) N=$2; shift 2 ;;
    --no-bench) BENCH=0; shift ;;
    *) echo "usage: $0 [-t TYPES] [-p P] [-n N] [--no-bench]" >&2; exit 2 ;;
    esac
done
log() { echo "cuda-check: $*" >&2; }
command -v nvidia-smi >/dev/null || { log "no nvidia-smi: this needs a machine with an NVIDIA GPU"; exit 1; }
nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv,noheader >&2
ARCH=${CUDA_ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n1 | tr -d '.')}
fail=0

# ------------------------------------------------------ 1. build, op tests
log "make CUDA=1 CUDA_ARCH=$ARCH"
make -j"$(nproc)" ember >/dev/null
make -j"$(nproc)" CUDA=1 CUDA_ARCH="$ARCH" build-cuda/ember tests >/dev/null
E=build-cuda/ember
$E info --devices
for t in test_cuda test_backend_ops; do
    [ -x build-cuda/tests/$t ] || continue
    log "$t"
    out=$(build-cuda/tests/$t) || fail=1
    echo "$out"
    grep -q '^not ok' <<<"$out" && fail=1
    grep -q '^SKIP.*cuda' <<<"$out" && { log "$t skipped CUDA: no usable device?"; fail=1; }
done

# ------------------------------------------------------- 2. whole models
PROMPT="Once upon a time"
for m in tests/data/models/stories260K*.gguf; do
    want=$(./ember run -m "$m" -p "$PROMPT" -n 64 --temp 0 2>/dev/null)
    for ngl in 0 2 99; do
        got=$($E run -m "$m" -p "$PROMPT" -n 64 --temp 0 -ngl $ngl 2>/tmp/cuda-check.err) || {
            log "$(basename "$m") -ngl $ngl failed: $(cat /tmp/cuda-check.err)"; fail=1; continue; }
        if [ "$got" = "$want" ]; then
            echo "$(basename "$m") -ngl $ngl: same 64 greedy tokens as the CPU"
        else
            i=0; while [ $i -lt ${#got} ] && [ "${got:$i:1}" = "${want:$i:1}" ]; do i=$((i + 1)); done
            echo "$(basename "$m") -ngl $ngl: differs from the CPU from character $i: '${got:$i:40}' vs '${want:$i:40}'"
        fi
        [ $ngl = 99 ] && grep -m1 '^ember: offloaded' /tmp/cuda-check.err
    done
done
ppl() { "$1" perplexity -m tests/data/models/stories260K.gguf -f tests/data/models/tinystory-eval.txt \
            -c 128 --chunks 4 "${@:2}" 2>/dev/null | grep -o 'PPL = [0-9.]*' | tail -1 | cut -d' ' -f3; }
a=$(ppl ./ember) b=$(ppl $E -ngl 99)
if [ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" 'BEGIN { d = (a - b) / a; exit !(d < 0.01 && d > -0.01) }'; then
    echo "perplexity: CPU $a, -ngl 99 $b (within 1%)"
else
    echo "perplexity: CPU '$a', -ngl 99 '$b': NOT within 1%"; fail=1
fi

# ------------------------------------------------------------- 3. speed
if [ $BENCH = 1 ]; then
    python3 scripts/make-bench-model.py --models tinyllama-1.1b --types "$TYPES" >&2
    LLAMA_BIN=$(LLAMACPP_CUDA=1 CUDA_ARCH="$ARCH" LLAMACPP_TARGETS=llama-bench scripts/build-llamacpp.sh | tail -n1)
    echo "| model | test | ember t/s | llama.cpp t/s | ratio |"
    echo "| --- | --- | ---: | ---: | ---: |"
    for t in ${TYPES//,/ }; do
        m=models-cache/bench/tinyllama-1.1b-$t.gguf
        [ -f "$m" ] || { log "no $m"; continue; }
        ej=$($E bench -m "$m" -ngl 99 -p "$P" -n "$N" -r 3 -o json 2>/dev/null)
        lj=$("$LLAMA_BIN/llama-bench" -m "$m" -ngl 99 -p "$P" -n "$N" -r 3 -o json 2>/dev/null)
        python3 - "$t" "$P" "$N" <<PY
import json, sys
t, p, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def rows(text):
    text = text.strip()
    data = json.loads(text) if text.startswith("[") else [json.loads(l) for l in text.splitlines() if l.strip()]
    out = {}
    for r in data:
        key = "pp%d" % r["n_prompt"] if r.get("n_prompt") else "tg%d" % r["n_gen"]
        out[key] = r["avg_ts"]
    return out
e, l = rows('''$ej'''), rows('''$lj''')
for k in ("pp%d" % p, "tg%d" % n):
    if k in e and k in l:
        print("| tinyllama-1.1b-%s | %s | %.1f | %.1f | %.2f |" % (t, k, e[k], l[k], e[k] / l[k]))
PY
    done
fi
exit $fail
