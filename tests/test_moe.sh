#!/usr/bin/env bash
# Mixture-of-experts families (llama with Mixtral-style experts, qwen2moe,
# qwen3moe) on the small files scripts/make-moe-model.py derives from
# stories260K (tests/data/models/stories260K-{moe-llama,qwen2moe,qwen3moe}.gguf)
# against llama.cpp's recorded tokens, greedy text and perplexity
# (tests/data/models/moe-reference.json, scripts/make_moe_refs.py), and
# `run -v`'s weights-read line: top-k of n experts chosen, fewer bytes
# than the file.
set -uo pipefail
EMBER=${EMBER:-./ember}
python3 tests/check_reference.py --ember "$EMBER" --ref moe-reference.json
rc=$?
for f in moe-llama:4:2 qwen2moe:4:2 qwen3moe:8:2; do
    IFS=: read -r name n k <<<"$f"
    path=tests/data/models/stories260K-$name.gguf
    line=$("$EMBER" run -m "$path" -p "Once upon a time" -n 16 --temp 0 -v 2>&1 >/dev/null | grep "weights read per generated token")
    # "... (dense D + experts E: A of N per layer, top-K) of the file's F MiB"
    if [[ $line =~ \(dense\ ([0-9.]+)\ \+\ experts\ ([0-9.]+):\ ([0-9.]+)\ of\ ([0-9]+)\ per\ layer,\ top-([0-9]+)\)\ of\ the\ file\'s\ ([0-9.]+) ]] &&
        [[ ${BASH_REMATCH[3]} == "$k.00" && ${BASH_REMATCH[4]} == "$n" && ${BASH_REMATCH[5]} == "$k" ]] &&
        python3 -c "import sys; d,e,f=map(float,sys.argv[1:]); sys.exit(0 if 0<e and d+e<f else 1)" \
            "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[6]}"; then
        echo "ok $name: run -v reads $k of $n experts a layer per token, less than the file: ${line#ember: }"
    else
        echo "not ok $name: run -v's weights-read line: '${line}'"
        rc=1
    fi
done
exit $rc
