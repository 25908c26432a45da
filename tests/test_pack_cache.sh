#!/usr/bin/env bash
# The repack cache (backends/cpu/pack_cache.h): the first load writes the packed
# matrices to a file, later loads map it and compute exactly what the
# in-memory repack computes (perplexity to all printed digits, greedy text);
# (and really are what the kernels read: altered bytes change the result);
# a cache that is truncated, has another header, or belongs to a changed
# model file is not used but rewritten; an unwritable cache folder or
# EMBER_REPACK_CACHE=0 leaves ember working as before, and no temporary
# file is ever left behind.
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib.sh
C="$T/cache"

cp tests/data/models/stories260K-Q4_0.gguf "$T/m.gguf"
cp tests/data/models/stories260K-Q8_0.gguf "$T/m8.gguf"
head -c 3000 tests/data/models/tinystory-eval.txt >"$T/eval.txt"

# run NAME: greedy text and perplexity with the cache in $C; sets $src to
# the -v "repacked weights" line's value and $out to text + perplexity
run() {
    local model=$1; shift
    env EMBER_CACHE_DIR="$C" "$@" $E run -m "$model" -p "Once upon a time" -n 40 --temp 0 -v \
        >"$T/text" 2>"$T/err" || { bad "run exited $?: $(tail -c 300 "$T/err")"; }
    src=$(sed -n 's/.*repacked weights: //p' "$T/err")
    env EMBER_CACHE_DIR="$C" "$@" $E perplexity -m "$model" -f "$T/eval.txt" -c 64 >"$T/ppl" 2>/dev/null
    out="$(cat "$T/text")|$(grep -o '\[[0-9]*\][0-9.]*' "$T/ppl" | tr '\n' ' ')"
}
n_files() { find "$C" -type f 2>/dev/null | wc -l; }

run "$T/m.gguf"
first="$out"
[ "$src" = "repacked, cache written" ] && [ "$(n_files)" -eq 1 ] && ok "first load repacks and writes one cache file" || bad "first load: '$src', $(n_files) files"
[ -n "$(cat "$T/text")" ] && grep -q '\[1\]' "$T/ppl" && ok "first load generates and scores text" || bad "no output: $(cat "$T/text")"
run "$T/m.gguf"
[ "$src" = "cache" ] && ok "second load maps the cache" || bad "second load: '$src'"
[ "$out" = "$first" ] && ok "mapped cache computes exactly what the repack does (text, perplexity)" || bad "cache differs: '$out' vs '$first'"

f=$(find "$C" -type f | head -n1)
truncate -s -1 "$f"
run "$T/m.gguf"
[ "$src" = "repacked, cache written" ] && [ "$out" = "$first" ] && ok "a truncated cache is not used, and is rewritten" || bad "truncated cache: '$src'"
run "$T/m.gguf"
[ "$src" = "cache" ] && ok "the rewritten cache is used" || bad "after rewrite: '$src'"

# the kernels really read the mapped bytes: alter some and the result moves
cp "$f" "$T/good"
head -c 2000 /dev/urandom | dd of="$f" bs=1 seek=5000 conv=notrunc status=none
run "$T/m.gguf"
[ "$src" = "cache" ] && [ "$out" != "$first" ] && ok "altered packed bytes in the cache change the result (they are what runs)" || bad "altered cache: '$src'"
cp "$T/good" "$f"

printf 'X' | dd of="$f" bs=1 seek=3 conv=notrunc status=none
run "$T/m.gguf"
[ "$src" = "repacked, cache written" ] && [ "$out" = "$first" ] && ok "a cache with another header is not used" || bad "bad header: '$src'"

touch -d '2001-01-01' "$T/m.gguf"
run "$T/m.gguf"
[ "$src" = "repacked, cache written" ] && [ "$(n_files)" -eq 1 ] && ok "a changed model file (mtime) invalidates its cache, replaced in place" || bad "changed model: '$src', $(n_files) files"

run "$T/m8.gguf"
[ "$src" = "repacked, cache written" ] && [ "$(n_files)" -eq 2 ] && ok "another model gets its own cache file" || bad "second model: '$src', $(n_files) files"
m8="$out"
run "$T/m8.gguf" EMBER_REPACK_CACHE=0
[ "$src" = "repacked" ] && [ "$out" = "$m8" ] && ok "EMBER_REPACK_CACHE=0: repacked in memory, same results" || bad "cache off: '$src'"

touch "$T/afile"
C="$T/afile/sub" run "$T/m.gguf"
[ "$src" = "repacked, cache not writable" ] && [ "$out" = "$first" ] && ok "unwritable cache folder: runs as before" || bad "unwritable: '$src' '$out'"
C="$T/cache"

mkdir -p "$T/small" && chmod 500 "$T/small"
if [ "$(id -u)" -ne 0 ]; then
    C="$T/small" run "$T/m.gguf"
    [ "$src" = "repacked, cache not writable" ] && ok "read-only cache folder: runs as before" || bad "read-only: '$src'"
    C="$T/cache"
fi
left=$(find "$T" -name '*.tmp.*' | wc -l)
[ "$left" -eq 0 ] && ok "no temporary files left behind" || bad "$left temporary files left"

# the flags (tools/tool_options.c) override the environment
flags() { # FLAGS...: the -v line's value of a greedy run with EMBER_CACHE_DIR=$C
    EMBER_CACHE_DIR="$C" $E run -m "$T/m8.gguf" -p "Once upon a time" -n 8 --temp 0 -v "$@" \
        2>&1 >/dev/null | sed -n 's/.*repacked weights: //p'
}
[ "$(flags --no-pack-cache)" = "repacked" ] && ok "--no-pack-cache: repacked in memory though EMBER_CACHE_DIR is set" || bad "--no-pack-cache: '$(flags --no-pack-cache)'"
[ "$(flags --cache-dir "$T/other")" = "repacked, cache written" ] && [ "$(find "$T/other" -type f | wc -l)" -eq 1 ] &&
    ok "--cache-dir DIR: the cache goes there, not to EMBER_CACHE_DIR" || bad "--cache-dir: $(find "$T/other" -type f 2>/dev/null | wc -l) files"
[ "$(flags --cpu-isa scalar)" = "none" ] && ok "--cpu-isa scalar: the reference kernels, nothing to repack" || bad "--cpu-isa scalar: '$(flags --cpu-isa scalar)'"
$E run -m "$T/m8.gguf" -p x -n 1 --cpu-isa bogus >/dev/null 2>"$T/err"; rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "expects one of scalar" "$T/err" &&
    ok "--cpu-isa bogus: one-line usage error, exit 2" || bad "--cpu-isa bogus: rc $rc, $(cat "$T/err")"
