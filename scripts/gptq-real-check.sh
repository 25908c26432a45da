#!/usr/bin/env bash
# Real-tool GPTQ cross-check (issue 6): a small real model quantized by
# GPTQModel (PyPI, CPU), then ember against transformers (PyPI, CPU) on it:
# logits at every position of a few prompts (max abs error, top-1
# agreement), 32 greedy tokens (ids, and `ember run` text against the
# decoded continuation), and perplexity on an eval text (`ember perplexity
# -c N` against the same scheme in Python). Nothing here is part of
# `make test` (CI has no torch).
#
#   scripts/gptq-real-check.sh [-m MODEL.gguf] [-w WORKDIR] [-c N] [-e EVAL.txt]
#                              [--configs "4:128 4:128:act 8:128"] [--skip-quantize]
#
# Steps (each skipped when its output already exists in WORKDIR):
#   1. MODEL.gguf -> WORKDIR/<name>-f32 (transformers' GGUF loader, float32)
#   2. GPTQModel on it for each config BITS:GROUP[:act] ->
#      WORKDIR/<name>-gptq-<BITS>bit-g<GROUP>[-act]; calibration: 32 windows of
#      256 tokens of this repo's README.md and ARCHITECTURE.md
#   3. references, for the F32 directory (baseline) and each GPTQ one:
#      "transformers" (float32, CPU; GPTQ layers by GPTQModel's torch kernel
#      through optimum) and, for GPTQ, "numpy-dequant" (the checkpoint
#      dequantized in numpy from the AutoGPTQ layout, run by transformers as
#      a plain float32 model): logits of every position of three prompts, 32
#      greedy ids and their text, perplexity (-c N, ember's scheme)
#   4. ember on each kernel set in ISAS: logits and greedy ids
#      (build/gptq-logits, F32 KV cache), `ember run --temp 0 -n 32` text
#      (default f16 KV cache), `ember perplexity -c N`; compared with each
#      reference into WORKDIR/table.md
#
# Environment: PY (a python with torch, transformers, gguf, gptqmodel;
# default python3). Install, e.g.:
#   python3 -m venv ~/.cache/ember/venv && ~/.cache/ember/venv/bin/pip install \
#       torch transformers gguf gptqmodel
#   PY=~/.cache/ember/venv/bin/python scripts/gptq-real-check.sh
# On a machine with fewer than 4 CPUs GPTQModel 7.7 fails ("Virtual pool
# 'model_loader:cpu' requests 2 workers but parent 'cpu' only has 1"):
# GPTQMODEL_CPU_WORKERS=2 (set below) avoids it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODEL=models-cache/smollm2-135m-instruct-q4_1.gguf
WORK=${HOME}/.cache/ember/gptq-real
CTX=512
EVAL=../shared/models/tinystory-eval.txt
CONFIGS="4:128 4:128:act 8:128"
SKIPQ=0
while [ $# -gt 0 ]; do
    case $1 in
        -m) MODEL=$2; shift 2 ;;
        -w) WORK=$2; shift 2 ;;
        -c) CTX=$2; shift 2 ;;
        -e) EVAL=$2; shift 2 ;;
        --configs) CONFIGS=$2; shift 2 ;;
        --skip-quantize) SKIPQ=1; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
PY=${PY:-python3}
H="$ROOT/scripts/gptq_real_check.py"
# offline (the hub may be unreachable); torch.compile of GPTQModel's dequantizer
# off (minutes of compiling on CPU for no change in the numbers)
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GPTQMODEL_CPU_WORKERS=${GPTQMODEL_CPU_WORKERS:-2}
export TORCHDYNAMO_DISABLE=${TORCHDYNAMO_DISABLE:-1}
EVAL=$(cd "$(dirname "$EVAL")" && pwd)/$(basename "$EVAL")
mkdir -p "$WORK"
log() { echo "== $*" >&2; }

make -s ember gptq-logits
E=$ROOT/ember
GL=$ROOT/build/gptq-logits

name=$(basename "$MODEL" .gguf)
F32=$WORK/$name-f32
if [ ! -f "$F32/config.json" ]; then
    log "GGUF -> HF float32: $F32"
    "$PY" "$H" tohf "$MODEL" "$F32"
fi

dirs=("$F32")
for c in $CONFIGS; do
    IFS=: read -r bits group act <<<"$c"
    d=$WORK/$name-gptq-${bits}bit-g$group${act:+-act}
    if [ ! -f "$d/config.json" ] && [ $SKIPQ = 0 ]; then
        log "GPTQModel ${bits}-bit g$group ${act:+desc_act}: $d"
        "$PY" "$H" quantize "$F32" "$d" --bits "$bits" --group "$group" ${act:+--desc-act} \
            --calib "$ROOT/README.md" "$ROOT/ARCHITECTURE.md" 2>"$d.quantize.log" \
            || { log "quantize failed, see $d.quantize.log"; tail -5 "$d.quantize.log" >&2; continue; }
    fi
    [ -f "$d/config.json" ] && dirs+=("$d")
done

PROMPTS=("The capital of France is" "def fibonacci(n):"
         "Once upon a time, there was a little robot who wanted to learn how to paint. Every morning")
"$PY" "$H" ids "$F32" "$WORK/ids.txt" "${PROMPTS[@]}"

# kernel sets: ISAS="scalar avx2 avx512" (default: those this CPU runs, less
# scalar, whose perplexity takes minutes on a 135M model)
ISAS=${ISAS:-$("$E" info --cpu 2>/dev/null | sed -n 's/^supported sets: *//p' | sed 's/scalar *//')}
echo "| checkpoint | reference | ember kernels | max abs logit error | top-1 agree | greedy 32 ids equal | ember run text equal | PPL ember | PPL reference |" >"$WORK/table.md"
echo "|---|---|---|---|---|---|---|---|---|" >>"$WORK/table.md"
for d in "${dirs[@]}"; do
    n=$(basename "$d")
    refs=("transformers:$d")
    if [ "$d" != "$F32" ]; then
        [ -f "$d-dequant/config.json" ] || "$PY" "$H" dequant "$d" "$d-dequant"
        refs+=("numpy-dequant:$d-dequant")
    fi
    for r in "${refs[@]}"; do
        kind=${r%%:*}; rd=${r#*:}
        out=$WORK/$n.$kind.npz
        if [ ! -f "$out" ]; then
            log "$n: $kind reference"
            "$PY" "$H" reference "$rd" "$WORK/ids.txt" "$out" --ppl-text "$EVAL" -c "$CTX" 2>"$out.log" \
                || { log "$kind reference failed, see $out.log"; tail -5 "$out.log" >&2; }
        fi
    done
    for isa in $ISAS; do
        log "$n: ember ($isa)"
        pre=$WORK/$n.ember-$isa
        EMBER_ISA=$isa "$GL" "$d" "$WORK/ids.txt" "$pre.bin" 32 1
        texts=()
        for i in "${!PROMPTS[@]}"; do
            "$E" run --cpu-isa "$isa" -m "$d" -p "${PROMPTS[$i]}" -n 32 --temp 0 -t 1 >"$pre.text$i" 2>/dev/null
            texts+=("$pre.text$i")
        done
        [ -f "$pre.ppl" ] || "$E" perplexity --cpu-isa "$isa" -m "$d" -f "$EVAL" -c "$CTX" -t 1 2>/dev/null \
            | sed -n 's/.*PPL = \([0-9.]*\).*/\1/p' >"$pre.ppl"
        pe=$(cat "$pre.ppl")
        for r in "${refs[@]}"; do
            kind=${r%%:*}
            out=$WORK/$n.$kind.npz
            [ -f "$out" ] || continue
            "$PY" "$H" compare "$pre.bin" "$out" --texts "${texts[@]}" --json "$pre.$kind.json" \
                | tee "$pre.$kind.compare.txt"
            "$PY" - "$pre.$kind.json" "$n" "$kind" "$isa" "$pe" >>"$WORK/table.md" <<'PYEOF'
import json, sys
j = json.load(open(sys.argv[1]))
print(f"| {sys.argv[2]} | {sys.argv[3]} | {sys.argv[4]} | {j['max_abs']:.2e} | {j['top1_pct']:.1f}% of {j['positions']} | "
      f"{'yes' if j['greedy_equal'] else 'no'} | {'yes' if j['texts_equal'] else 'no'} | "
      f"{sys.argv[5]} | {j.get('ppl_ref', float('nan')):.4f} |")
PYEOF
        done
    done
done
cat "$WORK/table.md"
