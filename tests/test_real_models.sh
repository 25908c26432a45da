#!/usr/bin/env bash
# Real models from models-cache/ against llama.cpp's recorded greedy outputs;
# SKIP lines when the models have not been fetched (scripts/get-models.sh).
set -uo pipefail
python3 tests/check_real_models.py --ember "${EMBER:-./ember}"
