#!/usr/bin/env bash
# bench-speculative.sh — speculative decoding in ember against plain decoding
# and against llama.cpp's speculative tools, on the code-editing prompt set
# (scripts/data/edit-prompts.jsonl), same machine, same threads, one run.
#
# For each prompt (greedy, N new tokens) every mode runs back to back, so
# all modes of a prompt see about the same machine load; -r R repeats the
# whole set. Modes (-m, space-separated; default all):
#   ember-plain     ember run
#   ember-d8/-d16   ember run --draft-model DRAFT --draft-max 8/16
#   ember-lookup    ember run --lookup --draft-max LOOKUP_MAX
#   llama-plain     llama-completion (-no-cnv)
#   llama-d8/-d16   llama-speculative -md DRAFT --spec-draft-n-max 8/16
#   llama-sd8       llama-speculative-simple -md DRAFT --spec-draft-n-max 8
#   llama-lookup    llama-lookup --spec-draft-n-max LOOKUP_MAX
# Every tool gets the same prompt text (raw ChatML from
# scripts/format_edit_prompts.py, special tokens parsed, escapes off, so the
# same token ids: checked with llama-tokenize and `ember tokenize` first),
# -t/-tb/-td THREADS, -c CTX, temperature 0; llama.cpp also -fa off and
# LLAMA_FLAGS (default --poll 0: on a shared, oversubscribed machine
# llama.cpp's default spin-wait (--poll 50) collapses, e.g. 0.34 t/s against
# 1.61 t/s with --poll 0 at load average 12 on 2 cores; LLAMA_FLAGS= for its
# default).
#
# Generation speed excludes prompt processing in every mode, each tool's own
# clock: ember -v's "generation N tokens X t/s" (after the prompt's decode,
# and for speculative modes after the draft model's prompt decode too);
# llama-completion's "eval time = T ms / R runs" (R/T); the speculative tools'
# "decoded N tokens in T seconds" (their t_dec, after both models' prompt
# decode). Acceptance = accepted / drafted tokens as each tool counts them.
# (ember-plain counts N tokens over N-1 one-token decodes, the first token
# coming from the prompt's logits, as the speculative tools do; llama-plain
# counts its N-1 decodes: ember-plain reads about 1/N, 1.6% at N=64, high.)
# The table (scripts/bench_speculative_table.py) sums tokens and seconds per
# mode over all prompts (total tokens / total time, not a mean of rates) and
# gives ratios; it also checks that ember's speculative output equals
# ember-plain's text, and llama.cpp's greedy text agrees with ember-plain's
# as far as both go.
#
#   scripts/bench-speculative.sh [-n N (128)] [-r REPEAT (1)] [-t THREADS (2)]
#       [-c CTX (2048)] [-m "MODES"] [-p "PROMPT-IDS"] [-o OUTDIR]
#   env: TARGET, DRAFT (models-cache/qwen2.5-coder-{1.5b,0.5b}-instruct-
#        q4_k_m.gguf), LOOKUP_MAX (8), EMBER (./ember, built if missing),
#        LLAMA_BIN (bin dir; default from scripts/build-llamacpp.sh),
#        EMBER_SPEC_FLAGS / LLAMA_SPEC_FLAGS (extra flags for spec modes),
#        LLAMA_FLAGS (extra flags for every llama.cpp mode; --poll 0)
#
# Outputs: the table on stdout; every command's stdout/stderr and a
# manifest in OUTDIR (default build/bench-speculative/<date>). Slow: about
# (prompt + N tokens) x modes per prompt; on 2 busy cores about an hour for
# the whole set. Timings are as good as the machine is quiet: the load
# average is recorded before every prompt.
set -euo pipefail
cd "$(dirname "$0")/.."

N=128 REPEAT=1 THREADS=2 CTX=2048
MODES="ember-plain ember-d8 ember-d16 ember-lookup llama-plain llama-d8 llama-d16 llama-lookup"
ONLY="" OUT=""
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "n:r:t:c:m:p:o:h" opt; do
    case "$opt" in
        n) N=$OPTARG ;;
        r) REPEAT=$OPTARG ;;
        t) THREADS=$OPTARG ;;
        c) CTX=$OPTARG ;;
        m) MODES=$OPTARG ;;
        p) ONLY=$OPTARG ;;
        o) OUT=$OPTARG ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
[[ $# -eq 0 ]] || usage

TARGET="${TARGET:-models-cache/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf}"
DRAFT="${DRAFT:-models-cache/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf}"
PROMPTS="${PROMPTS:-scripts/data/edit-prompts.jsonl}"
LOOKUP_MAX="${LOOKUP_MAX:-8}"
EMBER="${EMBER:-./ember}"
read -r -a ember_extra <<<"${EMBER_SPEC_FLAGS:-}"
read -r -a llama_extra <<<"${LLAMA_SPEC_FLAGS:-}"
read -r -a llama_flags <<<"${LLAMA_FLAGS---poll 0}"
OUT="${OUT:-build/bench-speculative/$(date -u +%Y%m%d-%H%M%S)}"

die() { echo "bench-speculative: $*" >&2; exit 1; }
for f in "$TARGET" "$DRAFT" "$PROMPTS"; do
    [[ -f $f ]] || die "$f not found (scripts/get-models.sh fetches the models)"
done
if [[ ! -x $EMBER ]]; then make -j2 ember >&2 || die "cannot build ember"; fi
if [[ -z ${LLAMA_BIN:-} ]]; then
    LLAMA_BIN="$(LLAMACPP_TARGETS="llama-completion llama-speculative llama-speculative-simple llama-lookup llama-tokenize" \
                 scripts/build-llamacpp.sh | tail -n1)"
fi
for t in llama-completion llama-speculative llama-speculative-simple llama-lookup llama-tokenize; do
    [[ -x $LLAMA_BIN/$t ]] || die "$LLAMA_BIN/$t missing (scripts/build-llamacpp.sh builds it)"
done

mkdir -p "$OUT/prompts" "$OUT/logs"
python3 scripts/format_edit_prompts.py "$PROMPTS" "$OUT/prompts" >"$OUT/ids"
read -r -a ids <<<"${ONLY:-$(tr '\n' ' ' <"$OUT/ids")}"
read -r -a modes <<<"$MODES"

# The prompt bytes exactly (a command substitution would drop the final
# newline of "<|im_start|>assistant\n").
prompt_of() { local s; s="$(cat "$OUT/prompts/$1.txt"; printf x)"; printf '%s' "${s%x}"; }

# 1. Same token ids on both sides.
for id in "${ids[@]}"; do
    [[ -f $OUT/prompts/$id.txt ]] || die "no prompt with id '$id' in $PROMPTS"
    a="$("$LLAMA_BIN/llama-tokenize" -m "$TARGET" --stdin --ids --no-escape --log-disable \
          <"$OUT/prompts/$id.txt" 2>/dev/null | tr -d '[],' | xargs)"
    b="$("$EMBER" tokenize -m "$TARGET" -f "$OUT/prompts/$id.txt" 2>/dev/null | xargs)"
    [[ -n $a && $a == "$b" ]] || die "$id: ember and llama.cpp tokenize the prompt differently"
    echo "$id $(wc -w <<<"$a")" >>"$OUT/prompt-tokens"
done

# 2. The runs. Each mode's command for prompt text $P.
run_mode() {
    local mode=$1 P=$2
    local common=(-m "$TARGET" -p "$P" --no-escape -n "$N" -t "$THREADS" -c "$CTX" --temp 0)
    local lcommon=("${common[@]}" -tb "$THREADS" -fa off "${llama_flags[@]}")
    case "$mode" in
        ember-plain)  "$EMBER" run "${common[@]}" -v ;;
        ember-d*)     "$EMBER" run "${common[@]}" -v --draft-model "$DRAFT" --draft-max "${mode#ember-d}" \
                          "${ember_extra[@]}" ;;
        ember-lookup) "$EMBER" run "${common[@]}" -v --lookup --draft-max "$LOOKUP_MAX" "${ember_extra[@]}" ;;
        llama-plain)  "$LLAMA_BIN/llama-completion" "${lcommon[@]}" -no-cnv --no-display-prompt ;;
        llama-sd*)    "$LLAMA_BIN/llama-speculative-simple" "${lcommon[@]}" -md "$DRAFT" -td "$THREADS" \
                          --spec-type draft-simple --spec-draft-n-max "${mode#llama-sd}" "${llama_extra[@]}" ;;
        llama-d*)     "$LLAMA_BIN/llama-speculative" "${lcommon[@]}" -md "$DRAFT" -td "$THREADS" \
                          --spec-draft-n-max "${mode#llama-d}" "${llama_extra[@]}" ;;
        llama-lookup) "$LLAMA_BIN/llama-lookup" "${lcommon[@]}" --spec-draft-n-max "$LOOKUP_MAX" \
                          "${llama_extra[@]}" ;;
        *) die "unknown mode $mode" ;;
    esac
}

{
    echo "date $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "host $(uname -n) $(nproc) cpus; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    echo "ember $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo '+dirty')"
    echo "llama.cpp $(cat "$LLAMA_BIN/../.ember-built" 2>/dev/null || echo '?')"
    echo "target $TARGET"
    echo "draft $DRAFT"
    echo "n $N threads $THREADS ctx $CTX lookup_max $LOOKUP_MAX repeat $REPEAT"
    echo "ember_spec_flags ${EMBER_SPEC_FLAGS:-}"
    echo "llama_spec_flags ${LLAMA_SPEC_FLAGS:-}"
    echo "llama_flags ${llama_flags[*]}"
} >"$OUT/header"
: >"$OUT/manifest.tsv"
total=$((REPEAT * ${#ids[@]} * ${#modes[@]})) k=0
for ((r = 1; r <= REPEAT; r++)); do
    for id in "${ids[@]}"; do
        P="$(prompt_of "$id")"
        load="$(cut -d' ' -f1-3 /proc/loadavg)"
        for mode in "${modes[@]}"; do
            k=$((k + 1))
            base="$OUT/logs/$r-$id-$mode"
            printf '[%d/%d] rep %d %-12s %-12s load %s\n' "$k" "$total" "$r" "$id" "$mode" "$load" >&2
            t0=$(date +%s.%N)
            rc=0
            run_mode "$mode" "$P" >"$base.out" 2>"$base.err" </dev/null || rc=$?
            t1=$(date +%s.%N)
            printf '%d\t%s\t%s\t%s\t%.2f\t%s\n' "$r" "$id" "$mode" "$rc" "$(awk "BEGIN { print $t1 - $t0 }")" "$load" \
                >>"$OUT/manifest.tsv"
            [[ $rc == 0 ]] || echo "bench-speculative: $mode on $id exited $rc (see $base.err)" >&2
        done
    done
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/header"
python3 scripts/bench_speculative_table.py "$OUT"
