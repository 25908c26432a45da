#!/usr/bin/env bash
# Real models from models-cache/ against llama.cpp's recorded greedy outputs;
# SKIP lines when the models have not been fetched (scripts/get-models.sh).
set -uo pipefail
if [ -n "${EMBER_SANITIZE:-}" ] && [ -z "${EMBER_SANITIZE_REAL:-}" ]; then
    echo "SKIP real models under make sanitize: too slow with ASan (EMBER_SANITIZE_REAL=1 runs them)"; exit 0
fi
python3 tests/check_real_models.py --ember "${EMBER:-./ember}"
