#!/usr/bin/env bash
# ember convert on the shared Hugging Face fixtures ($EMBER_SHARED, default
# ../shared; skipped, saying so, without them). stories260K (the same model
# as tests/data/models/stories260K.gguf, in HF's layout) converted to F32 and
# F16, and each GPTQ checkpoint converted to F32: ember's greedy text on the
# GGUF equals its text on the directory (and, for the plain model, the
# bundled GGUF's); the F32 file holds the bundled GGUF's tensors bit for bit
# (q/k rows permuted back), no output.weight (tied), the same vocabulary;
# --type Q4_K_M gives the tensors `ember quantize` gives from the F32 file;
# a qwen2 directory made here (stories260K's weights, q/k/v biases, linear
# rope scaling) keeps HF's q/k order and runs the same; a directory without
# tokenizer.json converts with --vocab; a byte-level BPE vocabulary made
# here is written as gpt2 with its merges. With llama.cpp's llama-completion
# (scripts/build-llamacpp.sh's cache; skipped, saying so, without it), every
# converted file gives llama.cpp the same greedy text as ember.
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib.sh
S=${EMBER_SHARED:-../shared}/models/hf
D=$S/stories260K
if [ ! -d "$D" ]; then echo "SKIP convert: $D is missing (set EMBER_SHARED)"; exit 0; fi
if ! python3 -c 'import gguf, numpy' 2>/dev/null; then echo "SKIP convert: needs python3 with gguf and numpy"; exit 0; fi
LL=$(ls "${EMBER_CACHE:-$HOME/.cache/ember}"/llama.cpp/build-*/bin/llama-completion 2>/dev/null | tail -1)
[ -n "$LL" ] || echo "SKIP convert vs llama.cpp: no llama-completion under \${EMBER_CACHE:-~/.cache/ember}/llama.cpp (scripts/build-llamacpp.sh builds it)"
P="Once upon a time"
gen() { "$E" run -m "$1" -p "$P" -n 32 --temp 0 2>/dev/null; }
lgen() {
    "$LL" -m "$1" -p "$P" -n 32 --temp 0 -no-cnv --no-display-prompt --simple-io --no-warmup -t 1 2>"$T/lerr" </dev/null \
        | sed 's/ \[end of text\]$//'
}
# convert NAME DIR OUT [args]: exit 0 and OUT there
convert() {
    local name=$1; shift
    if "$E" convert "$@" 2>"$T/conv.err" && [ -s "$2" ]; then ok "convert $name"
    else bad "convert $name: $(head -c 300 "$T/conv.err")"; fi
}
# same_text NAME DIR GGUF [WANT]: ember on GGUF = ember on DIR (= WANT), and llama.cpp on GGUF the same
same_text() {
    local name=$1 dir=$2 g=$3 want=${4:-} a b c also=""
    a=$(gen "$dir"); b=$(gen "$g")
    [ -z "$want" ] || also=" and the expected text"
    if [ -n "$a" ] && [ "$a" = "$b" ] && { [ -z "$want" ] || [ "$a" = "$want" ]; }; then
        ok "$name: ember's greedy text on the GGUF is the input's$also ('${b:0:40}...')"
    else
        bad "$name: ember on the input '$a', on the GGUF '$b', expected '$want'"
    fi
    [ -n "$LL" ] || return 0
    # llama-completion prints through its asynchronous log thread, and on a
    # loaded machine it now and then exits before the last tokens are out
    # (exit 0, text cut short): up to five tries, and a text that is still
    # a cut-short prefix of ember's (40 characters or more: a wrong model
    # would not follow ember's text that far) passes, saying so
    local try rc
    for try in 1 2 3 4 5; do
        c=$(lgen "$g"); rc=$?
        [ "$c" != "$b" ] || break
    done
    if [ "$c" = "$b" ]; then
        ok "$name: llama.cpp loads it and gives ember's greedy text"
    elif [ ${#c} -ge 40 ] && [ "${b#"$c"}" != "$b" ]; then
        ok "$name: llama.cpp loads it and its text (${#c} of ${#b} characters, cut short by its log thread five times) is ember's"
    else
        bad "$name: llama.cpp (exit $rc) '$c', ember '$b' ($(grep -v '^0\.0' "$T/lerr" | tail -c 300; tail -2 "$T/lerr"))"
    fi
}

want=$(gen tests/data/models/stories260K.gguf)
convert "stories260K --type f32" "$D" "$T/f32.gguf" --type f32
convert "stories260K (default f16)" "$D" "$T/f16.gguf"
same_text "stories260K F32" "$D" "$T/f32.gguf" "$want"
same_text "stories260K F16" "$D" "$T/f16.gguf" "$want"

# the F32 file against the bundled GGUF llama.cpp converted from llama2.c,
# tensor by tensor; the F16 file: its matrices are the F32 ones rounded
python3 - "$T/f32.gguf" "$T/f16.gguf" tests/data/models/stories260K.gguf <<'PY'
import sys
import numpy as np
from gguf import GGUFReader
a, h, b = (GGUFReader(p) for p in sys.argv[1:4])
ta = {t.name: t for t in a.tensors}; th = {t.name: t for t in h.tensors}; tb = {t.name: t for t in b.tensors}
def field(r, k):
    f = r.fields.get(k)
    return None if f is None else f.contents()
bad = []
if set(tb) - {"output.weight"} != set(ta): bad.append("names differ: %s" % sorted(set(ta) ^ set(tb)))
bad += ["%s differs" % n for n in ta if n in tb and not np.array_equal(np.asarray(ta[n].data), np.asarray(tb[n].data))]
print("ok F32 file: %d tensors, each equal to the bundled GGUF's bit for bit (q/k rows interleaved again), no output.weight (tied)" % len(ta)
      if not bad else "not ok F32 tensors: %s" % bad[:5])
bad = []
for n, t in th.items():
    x = np.asarray(ta[n].data)
    if len(t.shape) == 1 and t.tensor_type.name != "F32": bad.append("%s is %s" % (n, t.tensor_type.name))
    if len(t.shape) == 2 and (t.tensor_type.name != "F16" or not np.array_equal(np.asarray(t.data), x.astype(np.float16))):
        bad.append("%s is not the F32 one in F16" % n)
print("ok F16 file: matrices F16 (the F32 values rounded), norms F32" if not bad else "not ok F16 file: %s" % bad[:5])
keys = ["general.architecture", "llama.context_length", "llama.embedding_length", "llama.feed_forward_length",
        "llama.attention.head_count", "llama.attention.head_count_kv", "llama.block_count", "llama.rope.dimension_count",
        "llama.attention.layer_norm_rms_epsilon", "tokenizer.ggml.model", "tokenizer.ggml.tokens",
        "tokenizer.ggml.token_type", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
        "tokenizer.ggml.unknown_token_id"]
bad = [k for k in keys if field(a, k) != field(b, k)]
bad += ["general.file_type %s/%s" % (field(a, "general.file_type"), field(h, "general.file_type"))] \
    if (field(a, "general.file_type"), field(h, "general.file_type")) != (0, 1) else []
bad += ["add_bos_token"] if field(a, "tokenizer.ggml.add_bos_token") is not True else []
print("ok metadata: hparams, vocabulary, token types and special ids as the bundled GGUF's; file types 0 and 1; add_bos_token"
      if not bad else "not ok metadata: %s" % bad)
PY

# the mixes: ember quantize's tensors from the F32 file, through the same code
convert "stories260K --type q4_k_m" "$D" "$T/q4km.gguf" --type q4_k_m
"$E" quantize "$T/f32.gguf" "$T/q4km-ref.gguf" Q4_K_M 2>/dev/null
python3 - "$T/q4km.gguf" "$T/q4km-ref.gguf" <<'PY'
import sys
import numpy as np
from gguf import GGUFReader
a, b = GGUFReader(sys.argv[1]), GGUFReader(sys.argv[2])
ta = {t.name: t for t in a.tensors}; tb = {t.name: t for t in b.tensors}
bad = [n for n in tb if n not in ta or ta[n].tensor_type != tb[n].tensor_type
       or not np.array_equal(np.asarray(ta[n].data), np.asarray(tb[n].data))]
types = sorted({t.tensor_type.name for t in a.tensors})
print("ok --type q4_k_m: every tensor's type and bytes as ember quantize F32->Q4_K_M gives (%s)" % ",".join(types)
      if not bad and len(ta) == len(tb) else "not ok --type q4_k_m differs from ember quantize: %s" % bad[:5])
PY
same_text "stories260K Q4_K_M" "$T/q4km.gguf" "$T/q4km.gguf"

# GPTQ: dequantized, then written as --type says
for g in "$S"/stories260K-gptq-*; do
    [ -d "$g" ] || continue
    n=$(basename "$g")
    want_g=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["prompts"][0]["greedy_text"])' "$g/reference.json")
    convert "$n --type f32" "$g" "$T/$n.gguf" --type f32
    same_text "$n F32" "$g" "$T/$n.gguf" "${want_g#"$P"}"
done
G4=$S/stories260K-gptq-4bit-g32
if [ -d "$G4" ]; then
    convert "GPTQ 4-bit --type q8_0" "$G4" "$T/g4-q8.gguf" --type q8_0
    python3 - "$T/g4-q8.gguf" <<'PY'
import sys
from gguf import GGUFReader
t = {x.name: x.tensor_type.name for x in GGUFReader(sys.argv[1]).tensors}
# ffn_down's rows (172) are not whole Q8_0 blocks: F16, as llama-quantize falls back
bad = {n: ty for n, ty in t.items() if ty != ("F32" if "norm" in n else "F16" if "ffn_down" in n else "Q8_0")}
print("ok GPTQ --type q8_0: matrices Q8_0 (ffn_down F16), norms F32" if not bad else "not ok GPTQ q8_0 types: %s" % bad)
PY
    same_text "GPTQ 4-bit Q8_0" "$T/g4-q8.gguf" "$T/g4-q8.gguf"
fi

# qwen2: stories260K's weights with q/k/v biases and linear rope scaling;
# GGUF runs qwen2 with neox rope (HF's rotate-half), so q/k stay as stored
mkdir "$T/qwen2"
python3 - "$D" "$T/qwen2" <<'PY'
import json, os, struct, sys
src, out = sys.argv[1], sys.argv[2]
b = open(os.path.join(src, "model.safetensors"), "rb").read()
n = struct.unpack("<Q", b[:8])[0]
hdr = json.loads(b[8:8 + n]); data = b[8 + n:]
hdr.pop("__metadata__", None)
blobs = {k: data[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in hdr.items()}
shapes = {k: v["shape"] for k, v in hdr.items()}
for l in range(5):
    for p, rows in (("q", 64), ("k", 32), ("v", 32)):
        name = "model.layers.%d.self_attn.%s_proj.bias" % (l, p)
        blobs[name] = struct.pack("<%df" % rows, *[0.02 * ((i * 7 + l * 3) % 11 - 5) for i in range(rows)])
        shapes[name] = [rows]
h, off, parts = {}, 0, []
for k in sorted(blobs):
    h[k] = {"dtype": "F32", "shape": shapes[k], "data_offsets": [off, off + len(blobs[k])]}
    off += len(blobs[k]); parts.append(blobs[k])
j = json.dumps(h).encode(); j += b" " * (-len(j) % 8)
open(os.path.join(out, "model.safetensors"), "wb").write(struct.pack("<Q", len(j)) + j + b"".join(parts))
c = json.load(open(os.path.join(src, "config.json")))
c.update(architectures=["Qwen2ForCausalLM"], model_type="qwen2", rope_scaling={"type": "linear", "factor": 2.0},
         pad_token_id=2)
for k in ("attention_bias", "mlp_bias", "head_dim"): c.pop(k)
json.dump(c, open(os.path.join(out, "config.json"), "w"))
for f in ("tokenizer.json", "tokenizer_config.json"):
    os.symlink(os.path.abspath(os.path.join(src, f)), os.path.join(out, f))
PY
convert "qwen2 --type f32" "$T/qwen2" "$T/qwen2.gguf" --type f32
same_text "qwen2 F32" "$T/qwen2" "$T/qwen2.gguf"
python3 - "$T/qwen2.gguf" tests/data/models/stories260K.gguf "$D/model.safetensors" <<'PY'
import json, struct, sys
import numpy as np
from gguf import GGUFReader
q, ref = GGUFReader(sys.argv[1]), GGUFReader(sys.argv[2])
tq = {t.name: np.asarray(t.data) for t in q.tensors}; tr = {t.name: np.asarray(t.data) for t in ref.tensors}
b = open(sys.argv[3], "rb").read(); n = struct.unpack("<Q", b[:8])[0]; hdr = json.loads(b[8:8 + n])
e = hdr["model.layers.0.self_attn.q_proj.weight"]; o = 8 + n + e["data_offsets"][0]
hf_q = np.frombuffer(b[o:o + 64 * 64 * 4], dtype="<f4").reshape(64, 64)
f = lambda k: q.fields[k].contents() if k in q.fields else None
bad = []
if not np.array_equal(tq["blk.0.attn_q.weight"], hf_q): bad.append("attn_q is not HF's rows as stored")
if np.array_equal(tq["blk.0.attn_q.weight"], tr["blk.0.attn_q.weight"]): bad.append("attn_q was permuted")
if tq.get("blk.4.attn_v.bias") is None or tq["blk.4.attn_v.bias"].shape != (32,): bad.append("no attn_v.bias")
if f("general.architecture") != "qwen2" or f("qwen2.rope.scaling.type") != "linear" or f("qwen2.rope.scaling.factor") != 2.0 \
        or f("qwen2.rope.dimension_count") != 8 or f("tokenizer.ggml.padding_token_id") != 2:
    bad.append("metadata: %s" % [(k, f(k)) for k in ("general.architecture", "qwen2.rope.scaling.type", "qwen2.rope.scaling.factor",
                                                      "qwen2.rope.dimension_count", "tokenizer.ggml.padding_token_id")])
print("ok qwen2: q/k rows kept in HF's order (neox rope), q/k/v biases, rope.scaling.type linear factor 2, rope.dimension_count 8, "
      "padding id 2 (config.json's pad_token_id)"
      if not bad else "not ok qwen2: %s" % bad)
PY

# a byte-level BPE vocabulary (GPT-2's pre-tokenizer; 255 merges learnt here
# from the eval text, <|endoftext|> as BOS/EOS, no BOS added) on
# stories260K's weights: tokenizer.ggml.model gpt2, pre gpt-2, merges
mkdir "$T/bpe"
python3 - "$D" "$T/bpe" tests/data/models/tinystory-eval.txt <<'PY'
import json, os, re, sys
from collections import Counter
src, out, text = sys.argv[1], sys.argv[2], open(sys.argv[3]).read()
bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
cs, n = bs[:], 0
for b in range(256):
    if b not in bs: bs.append(b); cs.append(256 + n); n += 1
b2u = dict(zip(bs, map(chr, cs)))
words = Counter(tuple(b2u[b] for b in w.encode()) for w in re.findall(r" ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+", text))
vocab, merges, have = [b2u[i] for i in range(256)], [], set()
while len(vocab) < 511:
    pairs = Counter()
    for w, c in words.items():
        for p in zip(w, w[1:]): pairs[p] += c
    (a, b), _ = pairs.most_common(1)[0]
    merges.append(a + " " + b)
    if a + b not in have: have.add(a + b); vocab.append(a + b)
    nw = Counter()
    for w, c in words.items():
        o, i = [], 0
        while i < len(w):
            if i + 1 < len(w) and w[i] == a and w[i + 1] == b: o.append(a + b); i += 2
            else: o.append(w[i]); i += 1
        nw[tuple(o)] += c
    words = nw
tok = {"model": {"type": "BPE", "vocab": {t: i for i, t in enumerate(vocab)}, "merges": merges},
       "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
       "decoder": {"type": "ByteLevel"},
       "added_tokens": [{"id": 511, "content": "<|endoftext|>", "special": True}]}
json.dump(tok, open(os.path.join(out, "tokenizer.json"), "w"))
json.dump({"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "add_bos_token": False},
          open(os.path.join(out, "tokenizer_config.json"), "w"))
c = json.load(open(os.path.join(src, "config.json")))
c.update(bos_token_id=511, eos_token_id=511)
json.dump(c, open(os.path.join(out, "config.json"), "w"))
os.symlink(os.path.abspath(os.path.join(src, "model.safetensors")), os.path.join(out, "model.safetensors"))
PY
convert "byte-level BPE vocabulary --type f32" "$T/bpe" "$T/bpe.gguf" --type f32
same_text "byte-level BPE" "$T/bpe" "$T/bpe.gguf"
python3 - "$T/bpe.gguf" <<'PY'
import sys
from gguf import GGUFReader
r = GGUFReader(sys.argv[1])
f = lambda k: r.fields[k].contents() if k in r.fields else None
got = (f("tokenizer.ggml.model"), f("tokenizer.ggml.pre"), len(f("tokenizer.ggml.merges") or []),
       f("tokenizer.ggml.eos_token_id"), f("tokenizer.ggml.padding_token_id"), f("tokenizer.ggml.add_bos_token"),
       f("tokenizer.ggml.token_type")[511], "tokenizer.ggml.scores" in r.fields)
print("ok byte-level BPE metadata (model, pre, merges, eos, pad by its text, add_bos, types, no scores): %s" % (got,)
      if got == ("gpt2", "gpt-2", 255, 511, 511, False, 3, False)
      else "not ok byte-level BPE metadata: %s" % (got,))
PY

# a directory without tokenizer.json: --vocab's tokenizer.* keys
mkdir "$T/notok"
ln -s "$(cd "$D" && pwd)"/{config.json,model.safetensors} "$T/notok/"
convert "without tokenizer.json, --vocab FILE.gguf" "$T/notok" "$T/notok.gguf" --vocab tests/data/models/stories260K.gguf
out=$(gen "$T/notok.gguf")
[ "$out" = "$want" ] && ok "--vocab: the bundled GGUF's greedy text" || bad "--vocab: got '$out', want '$want'"
expect 1 "convert without tokenizer.json nor --vocab" "$E" convert "$T/notok" "$T/none.gguf"
grep -q -- '--vocab' "$T/err" && [ ! -e "$T/none.gguf" ] && [ ! -e "$T/none.gguf.tmp" ] \
    && ok "the error names --vocab, no file left" || bad "no tokenizer.json: $(cat "$T/err"); $(ls "$T"/none* 2>&1)"
expect 2 "convert --type q9" "$E" convert "$D" "$T/x.gguf" --type q9
expect 2 "convert with one argument" "$E" convert "$D"
