#!/usr/bin/env bash
# The dense relatives of llama (issue [9]) on small files derived from the
# trained stories260K (scripts/make-bench-model.py --tiny, in tests/data/models):
# qwen3 (per-head q/k norms, n_head*head_dim != n_embd), phi3 (fused qkv and
# gate|up as row views, F32 and Q8_0, rope_factors short at -c 256 and long at
# -c 512) and llama with a 32-position sliding window. Greedy text and
# perplexity against tests/data/models/dense-reference.json: llama.cpp 0.3.36
# for qwen3/phi3, transformers' MistralForCausalLM for the window (llama.cpp
# ignores it for llama). tests/check_reference.py does the work.
# Then the window from a Hugging Face directory: shared/'s stories260K with
# its config.json made a MistralForCausalLM with sliding_window 32 must give
# the same greedy text (SKIP without ../shared).
set -uo pipefail
EMBER=${EMBER:-./ember}
python3 tests/check_reference.py --ember "$EMBER" --ref dense-reference.json
rc=$?

# Broken relatives: one clear error line each, exit 1 (gen_hostile's GGUF
# reader and writer, standard library only).
H=$(mktemp -d) && trap 'rm -rf "$H" "${T:-}"' EXIT
python3 - "$H" <<'PY' || rc=1
import os, struct, sys
sys.path.insert(0, "tests/hostile")
import gen_hostile as g
out = sys.argv[1]
def load(name):
    _, kvs, ts, _, _ = g.parse(open("tests/data/models/" + name, "rb").read())
    return kvs, ts
def write(case, kvs, ts):
    open(os.path.join(out, case + ".gguf"), "wb").write(g.build(kvs, ts))
kvs, ts = load("stories260K-phi3.gguf")
write("phi3-one-rope-factor", kvs, [t for t in ts if t["name"] != b"rope_factors_short.weight"])
bad = [dict(t) for t in ts]
for t in bad:
    if t["name"] == b"blk.0.attn_qkv.weight":
        t["dims"] = [64, 120]
        t["data"] = t["data"][:64 * 120 * 4]
write("phi3-qkv-rows", kvs, bad)
kvs, ts = load("stories260K-qwen3.gguf")
write("qwen3-no-q-norm", kvs, [t for t in ts if t["name"] != b"blk.3.attn_q_norm.weight"])
write("qwen3-key-length-0", g.replace_kv(kvs, b"qwen3.attention.key_length", g.kv_u32(b"qwen3.attention.key_length", 0)), ts)
kvs, ts = load("stories260K-swa32.gguf")
write("llama-window-huge", g.replace_kv(kvs, b"llama.attention.sliding_window",
                                        g.kv_u32(b"llama.attention.sliding_window", 1 << 31)), ts)
PY
for c in "phi3-one-rope-factor:only one of rope_factors" "phi3-qkv-rows:attn_qkv.weight' has shape" \
         "qwen3-no-q-norm:missing tensor 'blk.3.attn_q_norm.weight'" "qwen3-key-length-0:key_length" \
         "llama-window-huge:sliding_window"; do
    f=${c%%:*} want=${c#*:}
    "$EMBER" run -m "$H/$f.gguf" -p hi -n 1 >/dev/null 2>"$H/err"; st=$?
    if [ "$st" -eq 1 ] && [ "$(grep -c '^ember: error:' "$H/err")" -eq 1 ] && grep -q "$want" "$H/err"; then
        echo "ok broken $f: $(head -c 160 "$H/err")"
    else
        echo "not ok broken $f: status $st, $(head -c 300 "$H/err")"; rc=1
    fi
done

HF=../shared/models/hf/stories260K
if [ ! -f "$HF/model.safetensors" ]; then
    echo "SKIP Mistral config.json sliding_window (no $HF: shared/ is not beside this clone)"
    exit $rc
fi
T=$(mktemp -d)
for f in model.safetensors tokenizer.json tokenizer_config.json generation_config.json; do
    [ -f "$HF/$f" ] && ln -s "$(cd "$HF" && pwd)/$f" "$T/$f"
done
python3 - "$HF/config.json" "$T/config.json" <<'PY' || exit 1
import json, sys
c = json.load(open(sys.argv[1]))
c.update(architectures=["MistralForCausalLM"], model_type="mistral", sliding_window=32)
json.dump(c, open(sys.argv[2], "w"))
PY
python3 - "$EMBER" "$T" <<'PY' || rc=1
import json, subprocess, sys
ember, d = sys.argv[1:]
ref = json.load(open("tests/data/models/dense-reference.json"))["models"]["stories260K-swa32.gguf"]
bad = 0
for g in ref["greedy"]:
    r = subprocess.run([ember, "run", "-m", d, "-p", g["prompt"], "--temp", "0", "-n", str(g["n_predict"]),
                        "-c", str(g["ctx"])], capture_output=True, env={"EMBER_ISA": "scalar"})
    out = r.stdout.decode("utf-8", "replace")
    ok = r.returncode == 0 and out == g["text"]
    bad += not ok
    print(("ok" if ok else "not ok") + f" Mistral config.json sliding_window 32 greedy {g['prompt']!r}"
          + ("" if ok else f": got {out!r} want {g['text']!r} {r.stderr.decode()[-200:]}"))
sys.exit(1 if bad else 0)
PY
exit $rc
