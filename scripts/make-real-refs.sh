#!/usr/bin/env bash
# Records llama.cpp's reference behaviour on the real llama/qwen2 models in
# models-cache/ (fetched by scripts/get-models.sh) into
# tests/data/real-models-reference.json: prompt token ids, greedy (--temp 0)
# continuations of 32 tokens as text and token ids, llama.cpp's generation
# speed with 2 threads, the exact commands, the llama.cpp version, and for
# qwen2 models how many of llama.cpp's qwen2 tokenizer test cases
# (shared/vocab/no-gguf/ggml-vocab-qwen2.gguf.*) its own tokenizer reproduces.
# Builds llama.cpp with scripts/build-llamacpp.sh if needed (outside the repo).
#
#   scripts/make-real-refs.sh [--speed-only | --add] [MODEL.gguf...]
#       default: models-cache/*.gguf; --speed-only re-measures only the speed
#       entries of an existing JSON (best done on an otherwise idle machine);
#       --add records the models given and keeps the JSON's other models
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
OUT="${OUT:-tests/data/real-models-reference.json}"
VOCAB_DIR="${VOCAB_DIR:-$REPO/../shared/vocab/no-gguf}"

BIN="$(scripts/build-llamacpp.sh | tail -n1)"
STAMP="$BIN/../.ember-built"
INFO="$(cat "$STAMP" 2>/dev/null || echo unknown)"
INFO="$INFO; $(gcc --version | head -n1)"

EXTRA=()
if [[ "${1:-}" == "--speed-only" || "${1:-}" == "--add" ]]; then
    EXTRA=("$1")
    shift
fi
if [[ $# -eq 0 ]]; then
    shopt -s nullglob
    set -- models-cache/*.gguf
    if [[ $# -eq 0 ]]; then
        echo "no models in models-cache/: run scripts/get-models.sh first" >&2
        exit 1
    fi
fi

mkdir -p "$(dirname "$OUT")"
python3 scripts/make_real_refs.py --bin "$BIN" --out "$OUT" \
    --vocab-dir "$VOCAB_DIR" --llama-info "$INFO" --repo "$REPO" "${EXTRA[@]}" "$@"
