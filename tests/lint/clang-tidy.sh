#!/usr/bin/env bash
# tests/lint/clang-tidy.sh FILE... — clang-tidy (checks in .clang-tidy, every
# finding an error) over the given C files, $JOBS at a time (default: CPUs),
# with ember's include paths ($LINT_INC, set by the Makefile) and every x86 ISA flag so the SIMD kernel files
# parse. Exit status non-zero on any finding. Used by `make lint`.
set -uo pipefail
cd "$(dirname "$0")/../.."
JOBS=${JOBS:-$(nproc)}
export LINT_INC
printf '%s\n' "$@" | xargs -P "$JOBS" -n 3 sh -c 'clang-tidy --quiet "$@" -- -std=c11 -D_GNU_SOURCE $LINT_INC \
    -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mavx512bf16 2>/dev/null' sh
