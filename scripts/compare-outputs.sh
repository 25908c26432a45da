#!/usr/bin/env bash
# compare-outputs.sh OLD_EMBER NEW_EMBER [OLD_AARCH64 NEW_AARCH64]
#
# Proves a refactor changed no behaviour: runs the same cases with both
# binaries and compares their stdout byte for byte (and their exit status).
# Prints one "ok CASE" / "DIFF CASE" line per case, then "N identical, M differ";
# exits 1 when any case differs (2 on usage errors).
#
# x86 (host) cases, for every tests/data/models/stories260K*.gguf:
#   greedy   run -p P -n 48 --temp 0 -t T       P in reference.json's prompts + 1 extra,
#                                               T in 1 2, ISA in every set `info --cpu` supports
#   sampled  run -p P -n 64 --temp 0.8 -s 42 -t T   (each ISA, T in 1 2)
#   norepack greedy with EMBER_REPACK=0, and with EMBER_REPACK_CACHE=0 (best ISA)
#   ppl      perplexity -f tinystory-eval.txt -c 128 -t T   (each ISA, T in 1 2)
#   tok      tokenize -p P (and --pieces)
# aarch64 cases (when the two aarch64 binaries are given; need qemu-aarch64):
#   greedy (3 reference prompts) under qemu -cpu max and -cpu neoverse-n1 with
#   EMBER_ISA=neon -t 1 2, and EMBER_ISA=scalar (-cpu max -t 1; A64_FULL=1: both
#   CPUs and -t 1 2), sampled (neon, -t 2) and perplexity --chunks 2 (neon, -t 2)
#   under both CPUs.
#
# Only env vars (EMBER_ISA, EMBER_CACHE_DIR, EMBER_REPACK, EMBER_REPACK_CACHE) and
# the documented CLI flags are used. Each binary gets its own fresh EMBER_CACHE_DIR
# (binaries older than issue [10] write a repack cache on a model's first run
# and map it later; newer ones ignore these variables but EMBER_REPACK).
# Environment: JOBS (parallel cases, default 2), DATA (model dir, default
# tests/data/models of this checkout), KEEP=1 keeps the work dir (outputs of DIFF cases
# are always kept and their paths printed).
set -uo pipefail

if [[ $# -ne 2 && $# -ne 4 ]]; then
    echo "usage: $0 OLD_EMBER NEW_EMBER [OLD_AARCH64 NEW_AARCH64]" >&2; exit 2
fi
abspath() { [[ $1 = /* ]] && echo "$1" || echo "$PWD/$1"; }
OLD=$(abspath "$1"); NEW=$(abspath "$2")
OLDA=""; NEWA=""
if [[ $# -eq 4 ]]; then OLDA=$(abspath "$3"); NEWA=$(abspath "$4"); fi
for b in "$OLD" "$NEW" ${OLDA:+"$OLDA"} ${NEWA:+"$NEWA"}; do
    [[ -x $b ]] || { echo "not executable: $b" >&2; exit 2; }
done
DATA=${DATA:-$(cd "$(dirname "$0")/.." && pwd)/tests/data/models}
[[ -f $DATA/reference.json ]] || { echo "no $DATA/reference.json" >&2; exit 2; }
JOBS=${JOBS:-2}
QEMU=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
if [[ -n $OLDA && -z $QEMU ]]; then echo "aarch64 binaries given but no qemu-aarch64" >&2; exit 2; fi

W=$(mktemp -d)
mkdir -p "$W/cache/old" "$W/cache/new" "$W/cache/olda" "$W/cache/newa" "$W/out" "$W/res"
cleanup() { [[ -n ${KEEP:-} || -s $W/keep ]] || rm -rf "$W"; }
trap cleanup EXIT

# Models and prompts from reference.json (one per line: model<TAB>prompt).
mapfile -t MODELS < <(cd "$DATA" && ls stories260K*.gguf)
mapfile -t PROMPTS < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
seen = []
for m in r["models"].values():
    for g in m["greedy"]:
        if g["prompt"] not in seen: seen.append(g["prompt"])
print("\n".join(seen))' "$DATA/reference.json")
PROMPTS+=("Tom and Sue found a box. Inside the box")
TOKTEXT=("${PROMPTS[@]}" "  Héllo wörld 123 4567 !!  ¿qué? 日本 🙂 <s></s> tab	end")
EVAL=$DATA/tinystory-eval.txt

# x86 kernel sets: what OLD says it supports (scalar avx2 avx512 on this CPU).
read -r -a ISAS < <("$OLD" info --cpu | sed -n 's/^supported sets: //p')
[[ ${#ISAS[@]} -gt 0 ]] || ISAS=(scalar)
BEST=${ISAS[-1]}

# ---------------------------------------------------------------- cases
# One case per line in $W/cases, fields split by \x1f (not a tab: IFS would merge
# empty fields): label, env (space separated k=v), arch, args (printf %q)
CASES=$W/cases; : >"$CASES"
add() {   # add LABEL ENV ARCH ARGS...
    local label=$1 envs=$2 arch=$3; shift 3
    printf '%s\x1f%s\x1f%s\x1f%s\n' "$label" "$envs" "$arch" "$(printf '%q ' "$@")" >>"$CASES"
}
for m in "${MODELS[@]}"; do
    M=$DATA/$m
    for isa in "${ISAS[@]}"; do
        for t in 1 2; do
            for i in "${!PROMPTS[@]}"; do
                add "x86 $isa t$t greedy $m p$i" "EMBER_ISA=$isa" x86 run -m "$M" -p "${PROMPTS[$i]}" -n 48 --temp 0 -t $t
            done
            add "x86 $isa t$t sampled $m" "EMBER_ISA=$isa" x86 run -m "$M" -p "${PROMPTS[0]}" -n 64 --temp 0.8 -s 42 -t $t
            add "x86 $isa t$t ppl $m" "EMBER_ISA=$isa" x86 perplexity -m "$M" -f "$EVAL" -c 128 -t $t
        done
    done
    add "x86 $BEST t2 greedy EMBER_REPACK=0 $m" "EMBER_ISA=$BEST EMBER_REPACK=0" x86 run -m "$M" -p "${PROMPTS[1]}" -n 48 --temp 0 -t 2
    add "x86 $BEST t2 greedy EMBER_REPACK_CACHE=0 $m" "EMBER_ISA=$BEST EMBER_REPACK_CACHE=0" x86 run -m "$M" -p "${PROMPTS[1]}" -n 48 --temp 0 -t 2
    for i in "${!TOKTEXT[@]}"; do
        add "x86 tokenize $m t$i" "" x86 tokenize -m "$M" -p "${TOKTEXT[$i]}"
        add "x86 tokenize --pieces $m t$i" "" x86 tokenize -m "$M" -p "${TOKTEXT[$i]}" --pieces
    done
done
if [[ -n $OLDA ]]; then
    for m in "${MODELS[@]}"; do
        M=$DATA/$m
        for cpu in max neoverse-n1; do
            for isa in neon scalar; do
                for t in 1 2; do
                    # scalar kernels do not depend on the CPU model: -cpu max, -t 1 only
                    # (A64_FULL=1 runs every combination)
                    if [[ $isa == scalar && -z ${A64_FULL:-} ]] && [[ $cpu != max || $t != 1 ]]; then continue; fi
                    for i in 0 1 2; do
                        add "aarch64 $cpu $isa t$t greedy $m p$i" "EMBER_ISA=$isa" "$cpu" run -m "$M" -p "${PROMPTS[$i]}" -n 48 --temp 0 -t $t
                    done
                done
            done
            add "aarch64 $cpu neon t2 sampled $m" "EMBER_ISA=neon" "$cpu" run -m "$M" -p "${PROMPTS[0]}" -n 64 --temp 0.8 -s 42 -t 2
            add "aarch64 $cpu neon t2 ppl(2 chunks) $m" "EMBER_ISA=neon" "$cpu" perplexity -m "$M" -f "$EVAL" -c 128 --chunks 2 -t 2
        done
    done
fi

# ---------------------------------------------------------------- worker
# Runs case number $1 with both binaries; writes res/N: "ok"/"DIFF" + detail.
worker() {
    local n=$1 line label envs arch args
    line=$(sed -n "${n}p" "$CASES")
    IFS=$'\x1f' read -r label envs arch args <<<"$line"
    eval "set -- $args"
    local -a envv=(); [[ -n $envs ]] && read -r -a envv <<<"$envs"
    local who bin pre=() rc_old rc_new
    for who in old new; do
        if [[ $arch == x86 ]]; then
            [[ $who == old ]] && bin=$OLD || bin=$NEW
            pre=()
        else
            [[ $who == old ]] && bin=$OLDA || bin=$NEWA
            pre=("$QEMU" -cpu "$arch")
        fi
        local cdir=$W/cache/$who; [[ $arch != x86 ]] && cdir=$W/cache/${who}a
        env -u EMBER_ISA -u EMBER_REPACK -u EMBER_REPACK_CACHE EMBER_CACHE_DIR="$cdir" \
            ${envv[@]+"${envv[@]}"} timeout 600 ${pre[@]+"${pre[@]}"} "$bin" "$@" \
            >"$W/out/$n.$who" 2>"$W/out/$n.$who.err" </dev/null
        printf -v "rc_$who" '%s' $?
    done
    if [[ $rc_old == 126 || $rc_old == 127 || $rc_new == 126 || $rc_new == 127 ]]; then
        echo "DIFF $label: could not run (exit old $rc_old new $rc_new): $(head -c 200 "$W/out/$n.old.err")" >"$W/res/$n"
        echo 1 >"$W/keep"
    elif [[ $rc_old == "$rc_new" ]] && cmp -s "$W/out/$n.old" "$W/out/$n.new"; then
        local note=""; [[ $rc_old != 0 ]] && note=" (both exit $rc_old)"
        echo "ok $label$note" >"$W/res/$n"
        rm -f "$W/out/$n".*
    else
        {
            echo "DIFF $label (exit old $rc_old new $rc_new; env $envs; args $args)"
            echo "   old: $(head -c 200 "$W/out/$n.old" | tr '\n' ' ')"
            echo "   new: $(head -c 200 "$W/out/$n.new" | tr '\n' ' ')"
            echo "   full outputs: $W/out/$n.{old,new}{,.err}"
        } >"$W/res/$n"
        echo 1 >"$W/keep"
    fi
}
export -f worker
export W CASES OLD NEW OLDA NEWA QEMU

N=$(wc -l <"$CASES")
echo "compare-outputs: $N cases, x86 sets: ${ISAS[*]}${OLDA:+, aarch64 under $QEMU}; old=$OLD new=$NEW${OLDA:+ old_a64=$OLDA new_a64=$NEWA}"
seq 1 "$N" | xargs -P "$JOBS" -I{} bash -c 'worker {}'

ok=0; bad=0; both_fail=$(grep -l '(both exit' "$W"/res/* 2>/dev/null | wc -l)
for n in $(seq 1 "$N"); do
    if [[ ! -f $W/res/$n ]]; then echo "DIFF case $n: no result (worker crashed)"; bad=$((bad+1)); continue; fi
    cat "$W/res/$n"
    if head -c 3 "$W/res/$n" | grep -q '^ok '; then ok=$((ok+1)); else bad=$((bad+1)); fi
done
[[ $both_fail -gt 0 ]] && echo "note: $both_fail identical cases exited non-zero in both binaries (see '(both exit' above)"
echo "$ok identical, $bad differ"
[[ $bad -eq 0 ]]
