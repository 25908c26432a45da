#!/usr/bin/env python3
"""Write random-weight GGUF models with real architectures, for speed tests only.

What it produces: for TinyLlama-1.1B (llama: n_embd 2048, 22 layers, 32 heads,
4 KV heads, n_ff 5632, vocab 32000, SPM tokenizer) and Qwen2.5-0.5B (qwen2:
n_embd 896, 24 layers, 14 heads, 2 KV heads, n_ff 4864, vocab 151936, q/k/v
biases, tied embeddings, gpt2 tokenizer), one file per weight type:
    models-cache/bench/<model>-<type>.gguf     type in f16, q8_0, q4_0, q4_k_m
                                               (default), q5_k_m, q6_k (on request)
and, for type gptq4_g128, a Hugging Face GPTQ directory instead:
    models-cache/bench/<model>-gptq4_g128/     config.json (quantization_config:
                                               bits 4, group 128, desc_act false,
                                               asym, checkpoint_format gptq) and
                                               model.safetensors: every linear
                                               layer's qweight/scales/qzeros/g_idx,
                                               F16 embeddings, norms and lm_head
                                               (no tokenizer: for ember bench)
with the tensor names, shapes and hyper-parameter metadata of the real models
and the per-tensor type choices llama.cpp's quantizer makes for that file type
(output in Q6_K, the Q4_K_M/Q5_K_M attn_v/ffn_down Q6_K layer pattern, and the
Q5_0/Q5_1/Q8_0 fallbacks for rows that are not a multiple of 256). Weights are
random but valid blocks: random quant bits and f16 scales sized so every
weight has a standard deviation near 1/sqrt(n_in), which keeps activations
finite through the whole stack. The text these models produce is noise:
they exist to time ember against llama.cpp on real shapes.

Tokenizer metadata is copied from a real file: tests/data/vocab/ggml-vocab-
llama-spm.gguf for llama (or a synthetic 32000-piece SPM vocabulary if that
file is absent) and a qwen2 model in models-cache/ (run scripts/get-models.sh
first) for qwen2.

Inputs: the tokenizer files above. Outputs: the GGUF files (about 6.5 GB in
all; existing files are kept unless --force). Needs the `gguf` and `numpy`
packages. Takes a minute or two per file on a laptop.

    python3 scripts/make-bench-model.py                  # both models, default types
    python3 scripts/make-bench-model.py --models tinyllama-1.1b --types q4_0,f16
    python3 scripts/make-bench-model.py --models tinyllama-1.1b --types q6_k,q5_k_m
    python3 scripts/make-bench-model.py --models tinyllama-1.1b --types gptq4_g128

--tiny writes instead the small test files of the families llama.cpp runs
that no small real model on PyPI covers (issue [9]), each derived from the
trained stories260K (tests/data/models/stories260K.gguf, F32) so that its
logits are peaky and greedy decoding has few near ties:
    stories260K-qwen3.gguf   qwen3: NEOX rope (q/k rows un-permuted back to
                             Hugging Face's order, so the rotation is the
                             trained one), 16 heads of 8 (each trained head
                             twice, attn_output halved: n_head*hd = 128 !=
                             n_embd 64, head_dim from attention.key_length),
                             attn_q_norm/attn_k_norm weights, no biases
    stories260K-phi3.gguf    phi3: fused attn_qkv (q|k|v rows) and ffn_up
                             (gate|up rows), NEOX rope, rope_factors_long/
                             short with rope.scaling.original_context_length
                             256 and rope.scaling.attn_factor 1.05
    stories260K-swa32.gguf   llama with llama.attention.sliding_window = 32
                             (Mistral 7B v0.1's key), weights unchanged
Deterministic (numpy seed 9); about 1.2 MB each.

    python3 scripts/make-bench-model.py --tiny --out tests/data/models
"""
import json
import struct
import argparse
import glob
import os
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGUFReader, GGUFValueType, GGUFWriter
from gguf_tokenizer import copy_tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---- architectures ----------------------------------------------------------

ARCHS = {
    "tinyllama-1.1b": dict(
        arch="llama", name="TinyLlama 1.1B (random weights, bench)",
        n_embd=2048, n_layer=22, n_head=32, n_head_kv=4, n_ff=5632, n_vocab=32000,
        n_ctx=2048, rope_base=10000.0, eps=1e-5, bias=False, tied=False, tok="llama"),
    "qwen2.5-0.5b": dict(
        arch="qwen2", name="Qwen2.5 0.5B (random weights, bench)",
        n_embd=896, n_layer=24, n_head=14, n_head_kv=2, n_ff=4864, n_vocab=151936,
        n_ctx=32768, rope_base=1000000.0, eps=1e-6, bias=True, tied=True, tok="gpt2"),
}

# general.file_type values (llama_ftype)
FTYPES = {"f16": 1, "q4_0": 2, "q8_0": 7, "q4_k_m": 15, "q5_k_m": 17, "q6_k": 18}
DEFAULT_TYPES = "q4_0,q8_0,q4_k_m,f16"
GPTQ_TYPES = {"gptq4_g128": (4, 128)}

# the type of most weight matrices for each quantized file type
BASE_TYPE = {"q4_0": T.Q4_0, "q8_0": T.Q8_0, "q4_k_m": T.Q4_K, "q5_k_m": T.Q5_K,
             "q6_k": T.Q6_K}

# llama.cpp's fallback when a row (n_in) is not a multiple of the type's block
FALLBACK = {T.Q4_K: T.Q5_0, T.Q5_K: T.Q5_1, T.Q6_K: T.Q8_0}


def use_more_bits(i, n):
    """llama.cpp's Q4_K_M rule: first and last eighth of the layers, and every
    third layer in between, get the bigger type for attn_v and ffn_down."""
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def tensor_type(ftype, name, layer, n_layer, n_in, is_output):
    """The ggml type llama.cpp's quantizer would pick for a 2-D weight."""
    if ftype == "f16":
        return T.F16
    t = BASE_TYPE[ftype]
    if is_output:
        # output (or tied token_embd): Q8_0 stays, a row that does not fit the
        # base type's block is Q8_0, anything else is Q6_K.
        if t != T.Q8_0:
            t = T.Q8_0 if n_in % BLOCK[t][0] else T.Q6_K
    elif (ftype in ("q4_k_m", "q5_k_m") and ("attn_v" in name or "ffn_down" in name)
          and use_more_bits(layer, n_layer)):
        t = T.Q6_K
    # K-quant blocks hold 256 values: narrower rows fall back (llama.cpp does).
    if n_in % BLOCK[t][0] != 0:
        t = FALLBACK.get(t, t)
    return t


def tensor_list(a, ftype):
    """[(name, [n_in, n_out] or [n], ggml type)] in llama.cpp's order."""
    e, ff, hd = a["n_embd"], a["n_ff"], a["n_embd"] // a["n_head"]
    kv = hd * a["n_head_kv"]
    out = []

    def mat(name, n_in, n_out, layer=-1, is_output=False):
        out.append((name, [n_in, n_out],
                    tensor_type(ftype, name, layer, a["n_layer"], n_in, is_output)))

    # With tied embeddings, token_embd is the output matrix and gets its type.
    mat("token_embd.weight", e, a["n_vocab"], is_output=a["tied"])
    out.append(("output_norm.weight", [e], T.F32))
    if not a["tied"]:
        mat("output.weight", e, a["n_vocab"], is_output=True)
    for i in range(a["n_layer"]):
        p = f"blk.{i}."
        out.append((p + "attn_norm.weight", [e], T.F32))
        mat(p + "attn_q.weight", e, e, i)
        mat(p + "attn_k.weight", e, kv, i)
        mat(p + "attn_v.weight", e, kv, i)
        if a["bias"]:
            out.append((p + "attn_q.bias", [e], T.F32))
            out.append((p + "attn_k.bias", [kv], T.F32))
            out.append((p + "attn_v.bias", [kv], T.F32))
        mat(p + "attn_output.weight", e, e, i)
        out.append((p + "ffn_norm.weight", [e], T.F32))
        mat(p + "ffn_gate.weight", e, ff, i)
        mat(p + "ffn_up.weight", e, ff, i)
        mat(p + "ffn_down.weight", ff, e, i)
    return out

# ---- random valid blocks ----------------------------------------------------

# (values per block, bytes per block)
BLOCK = {T.Q4_0: (32, 18), T.Q5_0: (32, 22), T.Q5_1: (32, 24), T.Q8_0: (32, 34),
         T.Q4_K: (256, 144), T.Q5_K: (256, 176), T.Q6_K: (256, 210)}


def f16_col(rng, n, scale):
    """n f16 scales near `scale` (+-25%), as a (n, 2) byte array."""
    d = (scale * rng.uniform(0.75, 1.25, n)).astype(np.float16)
    return d.view(np.uint8).reshape(n, 2)


def random_tensor(rng, ggml_type, n_in, n_out, kind):
    """Data of one tensor as a flat numpy array ready for the file.

    Quantized types: random bits, with scales chosen so a weight's standard
    deviation is about 1/sqrt(n_in). Norm weights are 1, biases 0."""
    n = n_in * n_out
    if ggml_type == T.F32:
        return np.full(n, 1.0 if kind == "norm" else 0.0, dtype=np.float32)
    s = 1.0 / np.sqrt(n_in)
    if ggml_type == T.F16:
        return (rng.standard_normal(n, dtype=np.float32) * s).astype(np.float16)
    qk, bb = BLOCK[ggml_type]
    nb = n // qk
    blk = rng.integers(0, 256, size=(nb, bb), dtype=np.uint8)
    # std of the integer levels of each format, to size the f16 scale d
    if ggml_type == T.Q4_0:      # d, qs[16]: d * (q - 8), q in 0..15
        blk[:, 0:2] = f16_col(rng, nb, s / 4.61)
    elif ggml_type == T.Q5_0:    # d, qh[4], qs[16]: d * (q - 16), q in 0..31
        blk[:, 0:2] = f16_col(rng, nb, s / 9.23)
    elif ggml_type == T.Q5_1:    # d, m, qh[4], qs[16]: d * q + m, q in 0..31
        d = (s / 9.23 * rng.uniform(0.75, 1.25, nb)).astype(np.float16)
        blk[:, 0:2] = d.view(np.uint8).reshape(nb, 2)
        blk[:, 2:4] = (d.astype(np.float32) * -15.5).astype(np.float16).view(np.uint8).reshape(nb, 2)
    elif ggml_type == T.Q8_0:    # d, qs[32] int8
        blk[:, 0:2] = f16_col(rng, nb, s / 73.9)
    elif ggml_type == T.Q4_K:    # d, dmin, scales[12] (6-bit sc/m), qs[128]
        # w = d*sc*q - dmin*m with sc, m ~ U(0..63), q ~ U(0..15):
        # dmin = 7.5 d centres the weights, d*36.7*4.61 gives the spread.
        d = (s / 169.0 * rng.uniform(0.75, 1.25, nb)).astype(np.float16)
        blk[:, 0:2] = d.view(np.uint8).reshape(nb, 2)
        blk[:, 2:4] = (d.astype(np.float32) * 7.5).astype(np.float16).view(np.uint8).reshape(nb, 2)
    elif ggml_type == T.Q5_K:    # d, dmin, scales[12] (6-bit sc/m), qh[32], qs[128]
        # w = d*sc*q - dmin*m with sc, m ~ U(0..63), q ~ U(0..31): dmin =
        # 15.5 d centres the weights; the std of w/d is then
        # sqrt(E[sc^2] var(q) + 15.5^2 (var(sc) + var(m))) = ~527.
        d = (s / 527.0 * rng.uniform(0.75, 1.25, nb)).astype(np.float16)
        blk[:, 0:2] = d.view(np.uint8).reshape(nb, 2)
        blk[:, 2:4] = (d.astype(np.float32) * 15.5).astype(np.float16).view(np.uint8).reshape(nb, 2)
    elif ggml_type == T.Q6_K:    # ql[128], qh[64], scales[16] int8, d
        # w = d * sc * (q - 32), q ~ U(0..63); sub-scales kept in -16..15
        # so d stays a normal f16 number.
        blk[:, 192:208] = (rng.integers(-16, 16, size=(nb, 16)).astype(np.int8)
                           .view(np.uint8))
        blk[:, 208:210] = f16_col(rng, nb, s / (18.5 * 9.2))
    return blk.reshape(-1)

# ---- tokenizer metadata -----------------------------------------------------


def synthetic_spm(w, n_vocab):
    """A minimal valid SPM vocabulary: <unk> <s> </s>, 256 byte pieces, then
    distinct filler pieces. Enough for both loaders; useless for text."""
    toks = [b"<unk>", b"<s>", b"</s>"] + [b"<0x%02X>" % i for i in range(256)]
    types = [2, 3, 3] + [6] * 256
    while len(toks) < n_vocab:
        toks.append("\u2581t{}".format(len(toks)).encode())
        types.append(1)
    w.add_key_value("tokenizer.ggml.model", "llama", GGUFValueType.STRING)
    w.add_key_value("tokenizer.ggml.tokens", toks, GGUFValueType.ARRAY, GGUFValueType.STRING)
    w.add_key_value("tokenizer.ggml.scores", [-float(i) for i in range(n_vocab)],
                    GGUFValueType.ARRAY, GGUFValueType.FLOAT32)
    w.add_key_value("tokenizer.ggml.token_type", types, GGUFValueType.ARRAY, GGUFValueType.INT32)
    for k, v in (("bos", 1), ("eos", 2), ("unknown", 0)):
        w.add_uint32(f"tokenizer.ggml.{k}_token_id", v)


def add_tokenizer(w, a):
    if a["tok"] == "llama":
        src = os.path.join(ROOT, "tests/data/vocab/ggml-vocab-llama-spm.gguf")
        if os.path.exists(src):
            copy_tokenizer(w, src)
        else:
            synthetic_spm(w, a["n_vocab"])
        return
    cands = sorted(glob.glob(os.path.join(ROOT, "models-cache", "qwen2*.gguf")))
    if not cands:
        sys.exit("make-bench-model: no qwen2 model in models-cache/ to copy the tokenizer "
                 "from; run scripts/get-models.sh first")
    copy_tokenizer(w, cands[0])

# ---- writer -----------------------------------------------------------------


def write_model(key, ftype, path, seed):
    a = ARCHS[key]
    arch = a["arch"]
    w = GGUFWriter(None, arch)
    w.add_name(f'{a["name"]} {ftype.upper()}')
    w.add_uint32(f"{arch}.context_length", a["n_ctx"])
    w.add_uint32(f"{arch}.embedding_length", a["n_embd"])
    w.add_uint32(f"{arch}.block_count", a["n_layer"])
    w.add_uint32(f"{arch}.feed_forward_length", a["n_ff"])
    w.add_uint32(f"{arch}.attention.head_count", a["n_head"])
    w.add_uint32(f"{arch}.attention.head_count_kv", a["n_head_kv"])
    w.add_uint32(f"{arch}.rope.dimension_count", a["n_embd"] // a["n_head"])
    w.add_float32(f"{arch}.rope.freq_base", a["rope_base"])
    w.add_float32(f"{arch}.attention.layer_norm_rms_epsilon", a["eps"])
    w.add_uint32("general.file_type", FTYPES[ftype])
    w.add_uint32("general.quantization_version", 2)
    add_tokenizer(w, a)

    tensors = tensor_list(a, ftype)
    for name, shape, t in tensors:
        qk, bb = (1, 4) if t == T.F32 else (1, 2) if t == T.F16 else BLOCK[t]
        n_elem = int(np.prod(shape))
        nbytes = n_elem // qk * bb
        # add_tensor_info takes numpy order (outermost first)
        w.add_tensor_info(name, list(reversed(shape)), np.dtype(np.float32), nbytes, raw_dtype=t)

    tmp = path + ".tmp"
    w.write_header_to_file(path=tmp)
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    rng = np.random.default_rng(seed)
    total = 0
    for k, (name, shape, t) in enumerate(tensors):
        kind = "norm" if name.endswith("norm.weight") else "bias" if name.endswith(".bias") else "w"
        n_in = shape[0]
        n_out = shape[1] if len(shape) > 1 else 1
        data = random_tensor(rng, t, n_in, n_out, kind)
        w.write_tensor_data(data)
        total += data.nbytes
        if sys.stderr.isatty():
            print(f"\r  {os.path.basename(path)}: tensor {k + 1}/{len(tensors)}, "
                  f"{total / 2**30:.2f} GiB", end="", file=sys.stderr, flush=True)
    w.close()
    os.replace(tmp, path)
    print(f"\r  {os.path.basename(path)}: {len(tensors)} tensors, {total / 2**30:.2f} GiB",
          file=sys.stderr)


# ---- tiny family files derived from stories260K ---------------------------

def read_f32_model(path):
    """(metadata fields, {name: float32 array in numpy order [n_out, n_in]})."""
    r = GGUFReader(path)
    ts = {}
    for t in r.tensors:
        if t.tensor_type != T.F32:
            sys.exit(f"make-bench-model: {path}: {t.name} is {t.tensor_type.name}, want F32")
        ts[t.name] = np.array(t.data, dtype=np.float32).reshape([int(x) for x in reversed(t.shape)])
    return r, ts


def unpermute(w, n_head):
    """Undo llama.cpp's q/k row permutation for llama's rope: GGUF row
    2j+a of a head is Hugging Face row a*hd/2+j, which NEOX rope pairs."""
    hd = w.shape[0] // n_head
    return w.reshape(n_head, hd // 2, 2, -1).swapaxes(1, 2).reshape(w.shape)


def write_tiny(path, arch, name, hp, tensors, src):
    """A GGUF of F32 tensors with llama-family hyper-parameters hp."""
    w = GGUFWriter(path, arch)
    w.add_name(name)
    for k, v in hp.items():
        key = f"{arch}.{k}"
        if isinstance(v, float):
            w.add_float32(key, v)
        else:
            w.add_uint32(key, v)
    w.add_uint32("general.file_type", 0)
    copy_tokenizer(w, src)
    for n, a in tensors:
        w.add_tensor(n, np.ascontiguousarray(a, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"  {path}: {len(tensors)} tensors", file=sys.stderr)


def write_tiny_families(out, src, force):
    _, ts = read_f32_model(src)
    e, nh, nkv, nl, ff = 64, 8, 4, 5, 172
    hd = e // nh
    rng = np.random.default_rng(9)
    base = {"context_length": 2048, "embedding_length": e, "block_count": nl,
            "feed_forward_length": ff, "attention.head_count": nh,
            "attention.head_count_kv": nkv, "rope.dimension_count": hd,
            "rope.freq_base": 10000.0, "attention.layer_norm_rms_epsilon": 1e-5}
    top = [(n, ts[n]) for n in ("token_embd.weight", "output_norm.weight", "output.weight")]
    L = lambda i, n: ts[f"blk.{i}.{n}"]
    files = []

    # qwen3: each trained head twice (q rows repeated, attn_output columns
    # repeated at half weight), so n_head*hd = 2*n_embd; per-head q/k norms.
    t = list(top)
    for i in range(nl):
        p = f"blk.{i}."
        q = unpermute(L(i, "attn_q.weight"), nh).reshape(nh, 1, hd, e)
        q = np.repeat(q, 2, axis=1).reshape(2 * nh * hd, e)
        o = L(i, "attn_output.weight").reshape(e, nh, 1, hd)
        o = (0.5 * np.repeat(o, 2, axis=2)).reshape(e, 2 * nh * hd)
        t += [(p + "attn_norm.weight", L(i, "attn_norm.weight")), (p + "attn_q.weight", q),
              (p + "attn_k.weight", unpermute(L(i, "attn_k.weight"), nkv)),
              (p + "attn_v.weight", L(i, "attn_v.weight")), (p + "attn_output.weight", o),
              (p + "attn_q_norm.weight", 5.0 * rng.uniform(0.8, 1.2, hd)),
              (p + "attn_k_norm.weight", 5.0 * rng.uniform(0.8, 1.2, hd)),
              (p + "ffn_norm.weight", L(i, "ffn_norm.weight"))]
        t += [(p + n, L(i, n)) for n in ("ffn_gate.weight", "ffn_up.weight", "ffn_down.weight")]
    hp = dict(base, **{"attention.head_count": 2 * nh, "attention.key_length": hd,
                       "attention.value_length": hd})
    files.append(("stories260K-qwen3.gguf", "qwen3", hp, t))

    # phi3: fused q|k|v and gate|up, rope factors for short and long contexts.
    t = list(top)
    for i in range(nl):
        p = f"blk.{i}."
        qkv = np.concatenate([unpermute(L(i, "attn_q.weight"), nh),
                              unpermute(L(i, "attn_k.weight"), nkv), L(i, "attn_v.weight")])
        t += [(p + "attn_norm.weight", L(i, "attn_norm.weight")), (p + "attn_qkv.weight", qkv),
              (p + "attn_output.weight", L(i, "attn_output.weight")),
              (p + "ffn_norm.weight", L(i, "ffn_norm.weight")),
              (p + "ffn_up.weight", np.concatenate([L(i, "ffn_gate.weight"), L(i, "ffn_up.weight")])),
              (p + "ffn_down.weight", L(i, "ffn_down.weight"))]
    t += [("rope_factors_long.weight", np.linspace(1.0, 8.0, hd // 2)),
          ("rope_factors_short.weight", rng.uniform(1.0, 1.25, hd // 2))]
    hp = dict(base, **{"rope.scaling.original_context_length": 256,
                       "rope.scaling.attn_factor": 1.05, "attention.sliding_window": 0})
    files.append(("stories260K-phi3.gguf", "phi3", hp, t))

    # llama with a 32-position sliding window: the weights as they are.
    t = list(top)
    for i in range(nl):
        t += [(n, a) for n, a in ts.items() if n.startswith(f"blk.{i}.")]
    files.append(("stories260K-swa32.gguf", "llama", dict(base, **{"attention.sliding_window": 32}), t))

    os.makedirs(out, exist_ok=True)
    for fname, arch, hp, t in files:
        path = os.path.join(out, fname)
        if os.path.exists(path) and not force:
            print(f"  {path}: exists, kept", file=sys.stderr)
            continue
        # general.name must not say "phi3": llama.cpp then sets Phi-3 token
        # attributes by name, and "<|endoftext|>" is not in this vocabulary
        write_tiny(path, arch, f"stories260K derived test model ({len(t)} tensors)", hp, t, src)
        print(path)

# ---- GPTQ directories --------------------------------------------------------

def gptq_layer(rng, prefix, n_in, n_out, bits, gs):
    """A GPTQ layer's four tensors with random codes, zero 2^(bits-1) (stored
    minus one) and f16 scales for a weight std near 1/sqrt(n_in)."""
    pf = 32 // bits
    groups = (n_in + gs - 1) // gs
    qweight = rng.integers(0, 2**32, size=((n_in + pf - 1) // pf, n_out), dtype=np.uint32)
    zstored = (1 << (bits - 1)) - 1
    word = sum(zstored << (bits * j) for j in range(pf))
    qzeros = np.full((groups, (n_out + pf - 1) // pf), word, dtype=np.uint32)
    code_std = ((1 << bits) ** 2 - 1) ** 0.5 / 12 ** 0.5
    scales = (rng.uniform(0.75, 1.25, (groups, n_out)) / (code_std * n_in ** 0.5)).astype(np.float16)
    g_idx = (np.arange(n_in) // gs).astype(np.int32)
    return [(prefix + ".qweight", "I32", qweight.view(np.int32)),
            (prefix + ".qzeros", "I32", qzeros.view(np.int32)),
            (prefix + ".scales", "F16", scales), (prefix + ".g_idx", "I32", g_idx)]


def write_gptq_dir(key, ftype, path, seed):
    """The model as a Hugging Face GPTQ directory (see the docstring)."""
    a = ARCHS[key]
    bits, gs = GPTQ_TYPES[ftype]
    e, ff, hd = a["n_embd"], a["n_ff"], a["n_embd"] // a["n_head"]
    kv = hd * a["n_head_kv"]
    rng = np.random.default_rng(seed)
    norm = lambda n: (1 + 0.1 * rng.standard_normal(n)).astype(np.float16)
    t = [("model.embed_tokens.weight", "F16",
          (rng.standard_normal((a["n_vocab"], e)) * 0.02).astype(np.float16)),
         ("model.norm.weight", "F16", norm(e))]
    if not a["tied"]:
        t.append(("lm_head.weight", "F16",
                  (rng.standard_normal((a["n_vocab"], e)) / e ** 0.5).astype(np.float16)))
    for i in range(a["n_layer"]):
        p = f"model.layers.{i}."
        t += [(p + "input_layernorm.weight", "F16", norm(e)),
              (p + "post_attention_layernorm.weight", "F16", norm(e))]
        for name, n_in, n_out in (("self_attn.q_proj", e, e), ("self_attn.k_proj", e, kv),
                                  ("self_attn.v_proj", e, kv), ("self_attn.o_proj", e, e),
                                  ("mlp.gate_proj", e, ff), ("mlp.up_proj", e, ff),
                                  ("mlp.down_proj", ff, e)):
            t += gptq_layer(rng, p + name, n_in, n_out, bits, gs)
        if a["bias"]:
            for name, n in (("q_proj", e), ("k_proj", kv), ("v_proj", kv)):
                t.append((p + f"self_attn.{name}.bias", "F16",
                          (0.02 * rng.standard_normal(n)).astype(np.float16)))
    os.makedirs(path, exist_ok=True)
    header, off = {"__metadata__": {"format": "pt"}}, 0
    for name, dt, arr in t:
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + arr.nbytes]}
        off += arr.nbytes
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    tmp = os.path.join(path, "model.safetensors.tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for _, _, arr in t:
            f.write(np.ascontiguousarray(arr).tobytes())
    os.replace(tmp, os.path.join(path, "model.safetensors"))
    cls = {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM"}[a["arch"]]
    config = {"architectures": [cls], "model_type": a["arch"], "hidden_size": e,
              "intermediate_size": ff, "num_attention_heads": a["n_head"],
              "num_key_value_heads": a["n_head_kv"], "num_hidden_layers": a["n_layer"],
              "rms_norm_eps": a["eps"], "vocab_size": a["n_vocab"],
              "max_position_embeddings": a["n_ctx"], "rope_theta": a["rope_base"],
              "hidden_act": "silu", "tie_word_embeddings": a["tied"], "torch_dtype": "float16",
              "_name_or_path": f'{a["name"]} GPTQ {bits}-bit g{gs}',
              "quantization_config": {"quant_method": "gptq", "bits": bits, "group_size": gs,
                                      "desc_act": False, "sym": False,
                                      "checkpoint_format": "gptq"}}
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    print(f"  {os.path.basename(path)}: {len(t)} tensors, {off / 2**30:.2f} GiB", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "models-cache", "bench"))
    ap.add_argument("--models", default=",".join(ARCHS), help="comma list of " + ", ".join(ARCHS))
    ap.add_argument("--types", default=DEFAULT_TYPES,
                    help="comma list of " + ", ".join(list(FTYPES) + list(GPTQ_TYPES)) +
                    " (default " + DEFAULT_TYPES + ")")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--force", action="store_true", help="rewrite existing files")
    ap.add_argument("--tiny", action="store_true",
                    help="write the small qwen3/phi3/sliding-window test files instead")
    ap.add_argument("--from", dest="src",
                    default=os.path.join(ROOT, "tests/data/models/stories260K.gguf"),
                    help="the F32 llama --tiny derives its files from")
    args = ap.parse_args()
    if args.tiny:
        write_tiny_families(args.out, args.src, args.force)
        return
    models = args.models.split(",")
    types = args.types.split(",")
    for m in models:
        if m not in ARCHS:
            ap.error(f"unknown model {m!r}")
    for t in types:
        if t not in FTYPES and t not in GPTQ_TYPES:
            ap.error(f"unknown type {t!r}")
    os.makedirs(args.out, exist_ok=True)
    for m in models:
        for t in types:
            path = os.path.join(args.out, f"{m}-{t}" + ("" if t in GPTQ_TYPES else ".gguf"))
            if os.path.exists(path) and not args.force:
                print(f"  {path}: exists, kept", file=sys.stderr)
                continue
            (write_gptq_dir if t in GPTQ_TYPES else write_model)(m, t, path, args.seed)
            print(path)


if __name__ == "__main__":
    main()
