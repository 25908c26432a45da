#!/usr/bin/env bash
# stories260K in every GGUF type against llama.cpp's recorded tokens, greedy
# text and perplexity (tests/check_reference.py does the work).
set -uo pipefail
python3 tests/check_reference.py --ember "${EMBER:-./ember}"
