#!/usr/bin/env bash
# check-layout.sh [--arrows] — the floors of ARCHITECTURE.md, checked:
#
#   tools/ -> models/ -> backends/ -> src/ -> quant/
#
# A file may include headers of its own floor and of the floors below it,
# never above. Each `#include "x.h"` is resolved the way the compiler does
# (the including file's folder first, then the Makefile's INC folders in
# order) and its floor compared with the file's. Also fails when:
#   - getenv appears in a library floor (models, backends, src, quant):
#     only tools/ reads the environment (tests/ and scripts/ are programs
#     of their own, not floors);
#   - a header name is defined in two INC folders (includes are by name, so
#     the second would be silently shadowed);
#   - an include names no header of the tree, which the resolution above
#     would otherwise skip (but NAME.spv.h: shaders compiled at build time).
# --arrows also prints how many includes run from each floor to each other.
# Exit status 1 on any violation; one line per violation on stdout.
set -uo pipefail
cd "$(dirname "$0")/.."

FLOORS="tools models backends src quant"
# The Makefile's INC, in its order (kept in one place: read it from there).
INC=$(sed -n '/^INC *:=/,/[^\\]$/p' Makefile | tr -d '\\\n' | sed 's/^INC *:= *//')
[ -n "$INC" ] || { echo "check-layout: cannot read INC from the Makefile"; exit 1; }
DIRS=$(printf '%s\n' $INC | sed -n 's/^-I//p')

rank() {
    local i=0
    for f in $FLOORS; do
        [ "$f" = "$1" ] && { echo $((4 - i)); return; }
        i=$((i + 1))
    done
    echo -1
}

bad=0
declare -A arrows=()

# Header names defined twice across the INC folders.
dups=$(for d in $DIRS; do ls "$d"/*.h 2>/dev/null | xargs -rn1 basename; done | sort | uniq -d)
for h in $dups; do
    echo "duplicate header name: $h in $(for d in $DIRS; do [ -f "$d/$h" ] && printf '%s ' "$d"; done)"
    bad=1
done

# shellcheck disable=SC2086
files=$(git ls-files -co --exclude-standard -- $FLOORS | grep -E '\.[ch]$' |
        while read -r f; do [ -f "$f" ] && echo "$f"; done)
for f in $files; do
    from=${f%%/*}
    rf=$(rank "$from")
    while IFS= read -r inc; do
        [ -n "$inc" ] || continue
        # SPIR-V that glslc writes into the build dir (make VULKAN=1): no
        # header of the tree, and no floor's
        case $inc in *.spv.h) continue ;; esac
        target=
        if [ -f "$(dirname "$f")/$inc" ]; then
            target="$(dirname "$f")/$inc"
        else
            for d in $DIRS; do
                [ -f "$d/$inc" ] && { target="$d/$inc"; break; }
            done
        fi
        if [ -z "$target" ]; then
            echo "$f: includes \"$inc\", which is no header of the tree"
            bad=1
            continue
        fi
        to=${target%%/*}
        rt=$(rank "$to")
        [ "$from" != "$to" ] && arrows["$from -> $to"]=$((${arrows["$from -> $to"]:-0} + 1))
        if [ "$rt" -gt "$rf" ]; then
            echo "$f: includes $target: $from/ is below $to/, includes must run downward"
            bad=1
        fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
    case "$from" in
    tools) ;;
    *)
        if grep -n 'getenv' "$f" | grep -v '^\s*[0-9]*:\s*/\?\*' >/dev/null; then
            grep -n 'getenv' "$f" | sed "s|^|$f:|; s|$|  (getenv outside tools/)|"
            bad=1
        fi
        ;;
    esac
done

if [ "${1:-}" = "--arrows" ]; then
    for k in "${!arrows[@]}"; do printf '%4d  %s\n' "${arrows[$k]}" "$k"; done | sort -k2
fi
if [ "$bad" -ne 0 ]; then
    echo "check-layout: violations above (see ARCHITECTURE.md)"
    exit 1
fi
echo "check-layout: $(echo "$files" | wc -l) files, includes run downward, getenv only in tools/"
