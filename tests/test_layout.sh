#!/usr/bin/env bash
# The floors of ARCHITECTURE.md (scripts/check-layout.sh, also run by make
# lint): includes run only downward, getenv only in tools/.
set -uo pipefail
cd "$(dirname "$0")/.."
if out=$(bash scripts/check-layout.sh 2>&1); then
    echo "ok layout: ${out#check-layout: }"
else
    printf '%s\n' "$out" | sed 's/^/# /'
    echo "not ok layout: an include runs upward or getenv is read below tools/"
fi
