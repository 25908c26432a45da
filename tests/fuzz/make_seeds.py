#!/usr/bin/env python3
"""make_seeds.py - seed corpora for the libFuzzer harnesses in tests/fuzz/.

Usage: python3 tests/fuzz/make_seeds.py OUTDIR
Writes OUTDIR/<harness>/ for gguf, model, tokenizer and args:
  gguf, model  tiny valid models made here (llama F32 with an SPM vocab,
               qwen2 F16 with q/k/v biases and a byte-level BPE vocab, llama
               Q8_0, llama Q4_K with tied embeddings, YaRN rope and rope
               factors) - small, so mutations reach every field fast - plus
               three quantized stories260K files from tests/data (model gets
               the smallest);
  tokenizer    each case of tests/data/vocab/*.inp behind the two bytes
               fuzz_tokenizer.c reads (vocabulary index, flags);
  args         typical `ember run` command lines, NUL-separated;
  json         the JSON files of tests/data/templates and small edge cases;
  template     each real template of tests/data/templates behind the flag
               byte fuzz_template.c reads;
  safetensors  tiny valid files (gen_hostile_hf.py's llama, one per dtype)
               and a few broken ones;
  hf           config.json variants and small tokenizer.json files (both
               shapes), behind the byte fuzz_hf.c reads (odd: config).
Python 3 standard library only; deterministic (fixed random seed).
"""
import os
import random
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "hostile"))
from gen_hostile import (ARR, F32, I32, STR, U32, build, kv_arr, kv_str,  # noqa: E402
                         kv_u32)
import gen_hostile_hf  # noqa: E402
import json  # noqa: E402

RNG = random.Random(1234)
# ggml type ids and (block elements, block bytes)
T_F32, T_F16, T_Q8_0, T_Q4_K = 0, 1, 8, 12
BLOCK = {T_F32: (1, 4), T_F16: (1, 2), T_Q8_0: (32, 34), T_Q4_K: (256, 144)}


def tensor_data(ty, n):
    if ty == T_F32:
        return struct.pack("<%df" % n, *[RNG.uniform(-1, 1) for _ in range(n)])
    if ty == T_F16:
        return struct.pack("<%de" % n, *[RNG.uniform(-1, 1) for _ in range(n)])
    be, bb = BLOCK[ty]
    out = bytearray()
    for _ in range(n // be):
        blk = bytearray(RNG.getrandbits(8) for _ in range(bb))
        blk[0:2] = struct.pack("<e", 0.01)  # a sane first scale
        out += blk
    return bytes(out)


def spm_vocab():
    toks = [b"<unk>", b"<s>", b"</s>"] + [b"<0x%02X>" % i for i in (0x0A, 0x20, 0xC3, 0xA9)]
    toks += [b"\xe2\x96\x81", b"a", b"b", b"\xe2\x96\x81a", b"\xe2\x96\x81b", b"ab", b"\xe2\x96\x81ab",
             b"c", b"\xe2\x96\x81c", b"h", b"i", b"hi", b"\xe2\x96\x81hi", b"<|im_end|>"]
    types = [2, 3, 3] + [6] * 4 + [1] * (len(toks) - 8) + [3]
    scores = [0.0] * 7 + [-float(i) for i in range(len(toks) - 7)]
    return [kv_str(b"tokenizer.ggml.model", b"llama"),
            kv_arr(b"tokenizer.ggml.tokens", STR, toks),
            kv_arr(b"tokenizer.ggml.scores", F32, scores),
            kv_arr(b"tokenizer.ggml.token_type", I32, types),
            kv_u32(b"tokenizer.ggml.bos_token_id", 1),
            kv_u32(b"tokenizer.ggml.eos_token_id", 2),
            kv_u32(b"tokenizer.ggml.unknown_token_id", 0)], len(toks)


def bpe_vocab():
    toks = [bytes([c]) for c in b"abchi !?."] + [b"\xc4\xa0", b"ab", b"hi", b"\xc4\xa0a",
                                                  b"\xc4\xa0hi", b"<|endoftext|>", b"<|im_start|>"]
    merges = [b"a b", b"h i", b"\xc4\xa0 a", b"\xc4\xa0 hi"]
    types = [1] * (len(toks) - 2) + [3, 3]
    return [kv_str(b"tokenizer.ggml.model", b"gpt2"),
            kv_str(b"tokenizer.ggml.pre", b"qwen2"),
            kv_arr(b"tokenizer.ggml.tokens", STR, toks),
            kv_arr(b"tokenizer.ggml.token_type", I32, types),
            kv_arr(b"tokenizer.ggml.merges", STR, merges),
            kv_u32(b"tokenizer.ggml.eos_token_id", len(toks) - 2)], len(toks)


def model(arch, vocab, n_embd, n_ff, wtype, n_layer=2, n_head=2, n_head_kv=1,
          bias=False, tied=False, extra_kvs=(), rope_freqs=False):
    tok_kvs, n_vocab = vocab
    a = arch.encode()
    head_dim = n_embd // n_head
    kvs = [kv_str(b"general.architecture", a), kv_str(b"general.name", b"tiny")] + tok_kvs + [
        kv_u32(a + b".context_length", 64), kv_u32(a + b".embedding_length", n_embd),
        kv_u32(a + b".feed_forward_length", n_ff), kv_u32(a + b".block_count", n_layer),
        kv_u32(a + b".attention.head_count", n_head),
        kv_u32(a + b".attention.head_count_kv", n_head_kv),
        kv_u32(a + b".rope.dimension_count", head_dim),
        (a + b".attention.layer_norm_rms_epsilon", 6, struct.pack("<f", 1e-5))] + list(extra_kvs)
    tensors = []

    def add(name, dims, ty):
        n = 1
        for d in dims:
            n *= d
        tensors.append({"name": name, "dims": dims, "type": ty, "data": tensor_data(ty, n)})
    kvd = n_head_kv * head_dim
    add(b"token_embd.weight", [n_embd, n_vocab], wtype)
    add(b"output_norm.weight", [n_embd], T_F32)
    if not tied:
        add(b"output.weight", [n_embd, n_vocab], wtype)
    if rope_freqs:
        add(b"rope_freqs.weight", [head_dim // 2], T_F32)
    for l in range(n_layer):
        p = b"blk.%d." % l
        add(p + b"attn_norm.weight", [n_embd], T_F32)
        add(p + b"attn_q.weight", [n_embd, n_embd], wtype)
        add(p + b"attn_k.weight", [n_embd, kvd], wtype)
        add(p + b"attn_v.weight", [n_embd, kvd], wtype)
        add(p + b"attn_output.weight", [n_embd, n_embd], wtype)
        if bias:
            add(p + b"attn_q.bias", [n_embd], T_F32)
            add(p + b"attn_k.bias", [kvd], T_F32)
            add(p + b"attn_v.bias", [kvd], T_F32)
        add(p + b"ffn_norm.weight", [n_embd], T_F32)
        add(p + b"ffn_gate.weight", [n_embd, n_ff], wtype)
        add(p + b"ffn_up.weight", [n_embd, n_ff], wtype)
        add(p + b"ffn_down.weight", [n_ff, n_embd], wtype)
    return build(kvs, tensors)


def tiny_models():
    yarn = [kv_str(b"llama.rope.scaling.type", b"yarn"),
            (b"llama.rope.scaling.factor", 6, struct.pack("<f", 4.0)),
            kv_u32(b"llama.rope.scaling.original_context_length", 32)]
    return {
        "tiny-llama-f32.gguf": model("llama", spm_vocab(), 8, 16, T_F32),
        "tiny-qwen2-f16.gguf": model("qwen2", bpe_vocab(), 8, 16, T_F16, bias=True, n_head_kv=2),
        "tiny-llama-q8_0.gguf": model("llama", spm_vocab(), 32, 64, T_Q8_0, n_head=4, n_head_kv=2),
        "tiny-llama-q4_k-tied-yarn.gguf": model("llama", spm_vocab(), 256, 256, T_Q4_K, n_layer=1,
                                                n_head=8, n_head_kv=4, tied=True,
                                                extra_kvs=yarn, rope_freqs=True),
    }


TOKENIZER_VOCABS = ["llama-spm", "gpt-2", "bert-bge", "deepseek-coder", "phi-3", "mpt", "starcoder"]

ARGS = [
    ["-m", "m.gguf", "-p", "Once upon a time", "-n", "16"],
    ["-m", "m.gguf", "--temp", "0", "-c", "128", "-t", "2", "-b", "32"],
    ["-m", "m.gguf", "--temp", "0.7", "--top-k", "40", "--top-p", "0.9", "--min-p", "0.05", "-s", "42"],
    ["-m", "m.gguf", "--repeat-penalty", "1.1", "--repeat-last-n", "64", "--frequency-penalty", "0.5",
     "--presence-penalty", "-0.5", "--temp", "1.5"],
    ["-m", "m.gguf", "-f", "prompt.txt", "-e", "--echo", "-v", "--truncate"],
    ["--model", "m.gguf", "--prompt", "x", "--n-predict", "0", "--ctx-size", "1", "--threads", "1",
     "--batch-size", "1", "--seed", "18446744073709551615", "--escape", "--verbose"],
    ["-m", "m.gguf", "--top-k", "1", "--temp", "100", "--top-p", "0", "--min-p", "1"],
    ["-h"],
]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_seeds.py OUTDIR")
    out = sys.argv[1]
    data = os.path.join(ROOT, "tests", "data")
    for h in ("gguf", "model", "tokenizer", "args", "json", "template", "safetensors", "hf"):
        os.makedirs(os.path.join(out, h), exist_ok=True)
    for name, b in tiny_models().items():
        for h in ("gguf", "model"):
            with open(os.path.join(out, h, name), "wb") as f:
                f.write(b)
    # the smaller real files (the 1-2 MB vocabularies slow each execution
    # tenfold; fuzz_tokenizer loads them whole instead)
    for name in ("stories260K-Q4_0.gguf", "stories260K-Q4_K_M.gguf", "stories260K-Q8_0.gguf"):
        shutil.copy(os.path.join(data, "models", name), os.path.join(out, "gguf", name))
    shutil.copy(os.path.join(data, "models", "stories260K-Q4_0.gguf"), os.path.join(out, "model"))
    n = 0
    for vi, v in enumerate(TOKENIZER_VOCABS):
        path = os.path.join(data, "vocab", "ggml-vocab-%s.gguf.inp" % v)
        if not os.path.exists(path):
            continue
        cases = open(path, "rb").read().split(b"\n__ggml_vocab_test__\n")
        for i, c in enumerate(cases):
            with open(os.path.join(out, "tokenizer", "%s-%03d" % (v, i)), "wb") as f:
                f.write(bytes([vi, 7 if i % 2 else 2]) + c)
            n += 1
    with open(os.path.join(out, "tokenizer", "stories-special"), "wb") as f:
        f.write(bytes([7, 3]) + b"<s>Once upon a time</s> \xe2\x96\x81 <0x0A>")
    for i, a in enumerate(ARGS):
        with open(os.path.join(out, "args", "argv-%02d" % i), "wb") as f:
            f.write(b"\0".join(s.encode() for s in a))
    tdir = os.path.join(data, "templates")
    jsons = ['[{"role": "user", "content": "hi \\ud83e\\udd99"}]', '{"a": [1, -2.5e3, true, null, {}]}',
             '"\\u00e9\\n"', "[[[[[[[[]]]]]]]]"]
    for name in sorted(os.listdir(tdir)):
        path = os.path.join(tdir, name)
        if name.endswith(".json"):
            shutil.copy(path, os.path.join(out, "json", name))
        elif name.endswith(".jinja"):
            with open(path, "rb") as f, open(os.path.join(out, "template", name), "wb") as g:
                g.write(b"\x01" + f.read())
    for i, j in enumerate(jsons):
        with open(os.path.join(out, "json", "small-%d" % i), "w") as f:
            f.write(j)
    hf_seeds(out)
    print("seeds in %s: %d tokenizer cases, %d tiny models, %d command lines, JSON and templates"
          % (out, n + 1, len(tiny_models()), len(ARGS)))


def hf_seeds(out):
    """Seeds of fuzz_safetensors and fuzz_hf."""
    ts = gen_hostile_hf.tensors()
    st = {"llama-f32": gen_hostile_hf.st_bytes(ts),
          "llama-bf16": gen_hostile_hf.st_bytes([(n, "BF16", s) for n, _, s in ts]),
          "mixed": gen_hostile_hf.st_bytes([("a", "F16", [2, 3]), ("b", "I32", []), ("c", "U8", [0, 4])]),
          "empty": gen_hostile_hf.st_bytes([])}
    for name, b in st.items():
        with open(os.path.join(out, "safetensors", name), "wb") as f:
            f.write(b)
    cfg = gen_hostile_hf.CONFIG
    configs = [cfg, dict(cfg, head_dim=4, rope_scaling={"type": "linear", "factor": 2.0}),
               dict(cfg, architectures=["Qwen2ForCausalLM"], model_type="qwen2"),
               dict(cfg, rope_scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32})]
    for i, c in enumerate(configs):
        with open(os.path.join(out, "hf", "config-%d" % i), "wb") as f:
            f.write(b"\x01" + json.dumps(c).encode())
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, "<0x41>": 3, "\u2581": 4, "a": 5, "b": 6, "\u2581a": 7, "ab": 8}
    spm = {"added_tokens": [{"id": 1, "content": "<s>", "special": True}],
           "normalizer": {"type": "Sequence", "normalizers": [
               {"type": "Prepend", "prepend": "\u2581"},
               {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
           "pre_tokenizer": None,
           "post_processor": {"type": "TemplateProcessing", "single": [
               {"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]},
           "model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": True, "vocab": vocab,
                     "merges": ["\u2581 a", "a b"]}}
    meta = dict(spm, normalizer=None, pre_tokenizer={"type": "Metaspace", "replacement": "\u2581",
                                                     "prepend_scheme": "first", "split": False})
    bl = {"added_tokens": [{"id": 4, "content": "<|endoftext|>", "special": True}],
          "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
          "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "\u0120": 2, "ab": 3}, "merges": [["a", "b"]]}}
    for name, t in (("spm", spm), ("metaspace", meta), ("bytelevel", bl)):
        with open(os.path.join(out, "hf", "tokenizer-" + name), "wb") as f:
            f.write(b"\x00" + json.dumps(t).encode())


if __name__ == "__main__":
    main()
