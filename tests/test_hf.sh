#!/usr/bin/env bash
# The command line on a Hugging Face directory: stories260K from the
# workplace's shared fixtures ($EMBER_SHARED, default ../shared; skipped,
# saying so, without it). ember run's greedy text and ember tokenize's ids
# equal the numpy reference's; perplexity is the GGUF's (to 0.02%); info
# lists both names of a tensor; the directory without tokenizer.json asks
# for --vocab and with it runs the same; the same weights in two shards,
# and in F16 and BF16, run (the shards give the same text); a chat
# template in tokenizer_config.json, or in chat_template.jinja (transformers
# 5), reaches ember template; rope_theta and the rope type inside
# transformers 5's rope_parameters are read; the GPTQ
# checkpoints print their reference's greedy text; ember perplexity
# --score-all matches ppl.json within 0.5% for the F32 and GPTQ directories.
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib.sh
S=${EMBER_SHARED:-../shared}/models/hf
D=$S/stories260K
if [ ! -d "$D" ]; then echo "SKIP hf cli: $D is missing (set EMBER_SHARED): 20 checks not run"; exit 0; fi
if ! command -v python3 >/dev/null; then echo "SKIP hf cli: needs python3"; exit 0; fi

# reference: per prompt "text|ids|greedy_text"
python3 - "$S/stories260K-reference.json" >"$T/ref" <<'PY'
import json, sys
for p in json.load(open(sys.argv[1]))["prompts"]:
    print(p["text"] + "|" + " ".join(map(str, p["ids"])) + "|" + p["greedy_text"])
PY
while IFS='|' read -r text ids greedy; do
    got=$("$E" tokenize -m "$D" -p "$text" 2>&1)
    [ "$got" = "$ids" ] && ok "tokenize -m DIR '$text' -> $got" || bad "tokenize '$text': got '$got', want '$ids'"
    out=$("$E" run -m "$D" -p "$text" -n 32 --temp 0 2>"$T/err")
    [ "$text$out" = "$greedy" ] && ok "run -m DIR '$text': the reference's 32 greedy tokens" \
        || bad "run '$text': got '$text$out' want '$greedy' ($(head -c 200 "$T/err"))"
done <"$T/ref"
first=$(head -1 "$T/ref" | cut -d'|' -f1)
want=$(head -1 "$T/ref" | cut -d'|' -f3)

ppl() { "$E" perplexity -m "$1" -f tests/data/models/tinystory-eval.txt -c 128 2>&1 | grep -o 'PPL = [0-9.]*'; }
a=$(ppl "$D"); b=$(ppl tests/data/models/stories260K.gguf)
# the same weights, rope by halves instead of pairs: equal to float rounding
if [ -n "$a" ] && [ -n "$b" ] && awk -v a="${a#PPL = }" -v b="${b#PPL = }" 'BEGIN { d = a - b; exit !(d * d < (b * 2e-4) ^ 2) }'; then
    ok "perplexity -m DIR: $a, the GGUF's $b (within 0.02%)"
else
    bad "perplexity: DIR '$a', GGUF '$b'"
fi

"$E" info -m "$D" >"$T/info" 2>&1
grep -q 'blk.0.attn_q.weight *model.layers.0.self_attn.q_proj.weight' "$T/info" && grep -q 'llama.rope.freq_base *= 10000' "$T/info" \
    && ok "info -m DIR: GGUF and HF names, translated metadata" || bad "info -m DIR: $(head -c 300 "$T/info")"
"$E" bench -m "$D" -p 8 -n 4 -r 1 >"$T/bench" 2>&1 && grep -q 'tg4' "$T/bench" \
    && ok "bench -m DIR runs" || bad "bench -m DIR: $(tail -c 300 "$T/bench")"

# without tokenizer.json: --vocab
mkdir "$T/notok"
ln -s "$(cd "$D" && pwd)"/{config.json,model.safetensors} "$T/notok/"
expect 1 "run -m DIR without tokenizer.json" "$E" run -m "$T/notok" -p "$first" -n 4
grep -q -- '--vocab' "$T/err" || bad "the error does not mention --vocab"
out=$("$E" run -m "$T/notok" --vocab tests/data/models/stories260K.gguf -p "$first" -n 32 --temp 0 2>&1)
[ "$first$out" = "$want" ] && ok "run --vocab FILE.gguf: the same greedy text" || bad "--vocab: got '$out'"

# the same weights in two shards, and converted to F16 / BF16
python3 - "$D/model.safetensors" "$T" <<'PY'
import json, os, struct, sys
src, out = sys.argv[1], sys.argv[2]
b = open(src, "rb").read()
n = struct.unpack("<Q", b[:8])[0]
hdr = json.loads(b[8:8 + n]); data = b[8 + n:]
hdr.pop("__metadata__", None)
names = sorted(hdr)
def write(path, items, conv=None):
    h, blobs, off = {}, [], 0
    for name in items:
        e = hdr[name]; raw = data[e["data_offsets"][0]:e["data_offsets"][1]]
        dt = e["dtype"]
        if conv:
            f = struct.unpack("<%df" % (len(raw) // 4), raw)
            if conv == "F16":
                raw = struct.pack("<%de" % len(f), *f)
            else:  # BF16, round to nearest even
                w = struct.unpack("<%dI" % len(f), struct.pack("<%df" % len(f), *f))
                raw = struct.pack("<%dH" % len(w), *[((x + 0x7FFF + ((x >> 16) & 1)) >> 16) & 0xFFFF for x in w])
            dt = conv
        h[name] = {"dtype": dt, "shape": e["shape"], "data_offsets": [off, off + len(raw)]}
        blobs.append(raw); off += len(raw)
    j = json.dumps(h).encode(); j += b" " * (-len(j) % 8)
    open(path, "wb").write(struct.pack("<Q", len(j)) + j + b"".join(blobs))
for d in ("shards", "f16", "bf16"):
    os.mkdir(os.path.join(out, d))
half = len(names) // 2
write(os.path.join(out, "shards", "model-00001-of-00002.safetensors"), names[:half])
write(os.path.join(out, "shards", "model-00002-of-00002.safetensors"), names[half:])
wm = {k: "model-0000%d-of-00002.safetensors" % (1 if i < half else 2) for i, k in enumerate(names)}
json.dump({"metadata": {}, "weight_map": wm}, open(os.path.join(out, "shards", "model.safetensors.index.json"), "w"))
write(os.path.join(out, "f16", "model.safetensors"), names, "F16")
write(os.path.join(out, "bf16", "model.safetensors"), names, "BF16")
PY
for d in shards f16 bf16; do
    for f in config.json tokenizer.json tokenizer_config.json generation_config.json; do ln -s "$(cd "$D" && pwd)/$f" "$T/$d/$f"; done
done
out=$("$E" run -m "$T/shards" -p "$first" -n 32 --temp 0 2>&1)
[ "$first$out" = "$want" ] && ok "two shards (model.safetensors.index.json): the same greedy text" || bad "shards: got '$out'"
for d in f16 bf16; do
    out=$("$E" run -m "$T/$d" -p "$first" -n 32 --temp 0 2>&1); rc=$?
    n=$(printf '%s' "$first$out" | cut -c1-30)
    [ $rc -eq 0 ] && [ "$n" = "$(printf '%s' "$want" | cut -c1-30)" ] \
        && ok "$d weights (1-D tensors converted to F32): runs, text starts as the F32 one ('$n')" \
        || bad "$d: exit $rc, '$out'"
done

# chat template from tokenizer_config.json
mkdir "$T/chat"
for f in config.json model.safetensors tokenizer.json generation_config.json; do ln -s "$(cd "$D" && pwd)/$f" "$T/chat/$f"; done
python3 -c '
import json, sys
c = json.load(open(sys.argv[1])); c["chat_template"] = "{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}{{ eos_token }}"
json.dump(c, open(sys.argv[2], "w"))' "$D/tokenizer_config.json" "$T/chat/tokenizer_config.json"
printf '[{"role": "user", "content": "hi"}]' >"$T/msgs.json"
got=$("$E" template -m "$T/chat" --messages "$T/msgs.json" --no-generation-prompt 2>&1)
[ "$got" = "[user]hi</s>" ] && ok "template -m DIR: tokenizer_config.json's chat_template and eos_token" \
    || bad "template -m DIR: got '$got'"

# transformers 5 saves the template as chat_template.jinja instead
mkdir "$T/chatj"
for f in config.json model.safetensors tokenizer.json tokenizer_config.json generation_config.json; do ln -s "$(cd "$D" && pwd)/$f" "$T/chatj/$f"; done
printf '%s' '{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}' >"$T/chatj/chat_template.jinja"
got=$("$E" template -m "$T/chatj" --messages "$T/msgs.json" --no-generation-prompt 2>&1)
[ "$got" = "<user>hi" ] && ok "template -m DIR: chat_template.jinja (transformers 5)" || bad "chat_template.jinja: got '$got'"

# transformers 5's config.json: rope_theta (and the rope_scaling members)
# inside "rope_parameters" instead of at the top level. With the same base
# the text is the F32 one; another base and a linear type are read from it.
for v in rp rp5 rplin; do
    mkdir "$T/$v"
    for f in model.safetensors tokenizer.json tokenizer_config.json generation_config.json; do ln -s "$(cd "$D" && pwd)/$f" "$T/$v/$f"; done
done
python3 -c '
import json, sys
for out, rp in ((sys.argv[2], {"rope_theta": 10000.0, "rope_type": "default"}),
                (sys.argv[3], {"rope_theta": 500000.0, "rope_type": "default"}),
                (sys.argv[4], {"rope_theta": 10000.0, "rope_type": "linear", "factor": 2.0})):
    c = json.load(open(sys.argv[1])); c.pop("rope_theta", None); c.pop("rope_scaling", None)
    c["rope_parameters"] = rp; json.dump(c, open(out, "w"))' "$D/config.json" "$T/rp/config.json" "$T/rp5/config.json" "$T/rplin/config.json"
out=$("$E" run -m "$T/rp" -p "$first" -n 32 --temp 0 2>&1)
[ "$first$out" = "$want" ] && ok "rope_parameters (transformers 5 config): the same greedy text" || bad "rope_parameters: got '$first$out'"
"$E" info -m "$T/rp5" 2>&1 | grep -q 'llama.rope.freq_base *= 500000$' \
    && ok "rope_parameters.rope_theta 500000 -> llama.rope.freq_base" || bad "rope_parameters.rope_theta not read: $("$E" info -m "$T/rp5" 2>&1 | grep rope)"
"$E" info -m "$T/rplin" >"$T/info" 2>&1
grep -q 'llama.rope.scaling.type *= linear' "$T/info" && grep -q 'llama.rope.scaling.factor *= 2$' "$T/info" \
    && ok "rope_parameters with rope_type linear: scaling type and factor" || bad "rope_parameters linear: $(grep rope "$T/info")"

# GPTQ checkpoints (test_gptq.c checks their logits and perplexity): ember
# run prints each reference.json's greedy text, on every kernel set this
# CPU has; the 4-bit one with its quantization_config only in
# quantize_config.json runs the same; read as gptq_v2 (zeros as stored,
# not plus one) its text changes (a negative control)
for g in "$S"/stories260K-gptq-*; do
    [ -d "$g" ] || continue
    n=$(basename "$g")
    want_g=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["prompts"][0]["greedy_text"])' "$g/reference.json")
    isas=$("$E" info --cpu 2>/dev/null | sed -n 's/^supported sets: *//p')
    [ -n "$isas" ] || bad "ember info --cpu lists no kernel sets"
    for isa in $isas; do
        out=$("$E" run --cpu-isa "$isa" -m "$g" -p "$first" -n 32 --temp 0 2>"$T/err")
        [ "$first$out" = "$want_g" ] && ok "GPTQ $n ($isa): the reference's 32 greedy tokens" \
            || bad "GPTQ $n ($isa): got '$first$out' want '$want_g' ($(head -c 200 "$T/err"))"
    done
done
G4=$S/stories260K-gptq-4bit-g32
if [ -d "$G4" ]; then
    want_g=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["prompts"][0]["greedy_text"])' "$G4/reference.json")
    for v in qcfg v2; do
        mkdir "$T/$v"
        for f in model.safetensors tokenizer.json tokenizer_config.json quantize_config.json; do ln -s "$(cd "$G4" && pwd)/$f" "$T/$v/$f"; done
    done
    python3 -c '
import json, sys
c = json.load(open(sys.argv[1])); c.pop("quantization_config"); json.dump(c, open(sys.argv[2], "w"))
c = json.load(open(sys.argv[1])); c["quantization_config"]["checkpoint_format"] = "gptq_v2"; json.dump(c, open(sys.argv[3], "w"))' \
        "$G4/config.json" "$T/qcfg/config.json" "$T/v2/config.json"
    out=$("$E" run -m "$T/qcfg" -p "$first" -n 32 --temp 0 2>&1)
    [ "$first$out" = "$want_g" ] && ok "GPTQ with quantize_config.json only: the same greedy text" \
        || bad "GPTQ quantize_config.json: got '$first$out'"
    out=$("$E" run -m "$T/v2" -p "$first" -n 32 --temp 0 2>&1)
    [ -n "$out" ] && [ "$first$out" != "$want_g" ] && ok "GPTQ read as gptq_v2 (zeros off by one): other text" \
        || bad "GPTQ as gptq_v2: got '$first$out', the reference's text or nothing"
fi

# ember perplexity --score-all (ppl.json's windows: BOS + 255 eval ids,
# every id scored once) on eval.txt: within 0.5% of ppl.json's table for the
# F32 directory and each GPTQ checkpoint (best kernel set, f16 KV cache)
if [ -f "$S/ppl.json" ] && [ -f "$S/eval.txt" ]; then
    while IFS='|' read -r dir want; do
        [ -d "$S/$dir" ] || continue
        got=$("$E" perplexity -m "$S/$dir" -f "$S/eval.txt" -c 256 --score-all 2>/dev/null | sed -n 's/.*PPL = \([0-9.]*\).*/\1/p')
        if [ -n "$got" ] && awk -v a="$got" -v b="$want" 'BEGIN { d = (a - b) / b; exit !(d * d < 0.005 ^ 2) }'; then
            ok "perplexity --score-all $dir: $got, ppl.json $want (within 0.5%)"
        else
            bad "perplexity --score-all $dir: '$got', ppl.json $want"
        fi
    done < <(python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["ppl"]
for d, k in (("stories260K", "F32 (unquantized)"), ("stories260K-gptq-4bit-g32", "GPTQ 4-bit g32"),
             ("stories260K-gptq-4bit-g32-actorder", "GPTQ 4-bit g32 act-order"), ("stories260K-gptq-8bit-g64", "GPTQ 8-bit g64")):
    print("%s|%.6f" % (d, p[k]))' "$S/ppl.json")
else
    echo "SKIP hf perplexity --score-all: ppl.json or eval.txt missing from $S"
fi
