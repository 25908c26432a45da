#!/usr/bin/env python3
"""gen_hostile_hf.py - hostile Hugging Face model directories.

Writes one directory per case under OUTDIR, each a tiny llama (hidden 8,
1 layer, vocab 16, F32) with one thing broken: the safetensors file
(truncated, overlapping offsets, an unknown dtype, a shape that disagrees
with its byte range, a header length of 2^63, a header that is not JSON,
an empty file), the shard index (a path outside the directory, a tensor
not where it says, a tensor in two shards), config.json (not JSON, an
unknown architecture, unsupported rope_scaling, a GPTQ quantization_config
without group_size, another activation, untied embeddings without lm_head, a
vocab_size that disagrees) or the tensors (GPTQ parts without a
quantization_config, integer weights, 3-D weights), and a valid tiny GPTQ
INT4 checkpoint (gptq_ok, not a case: it must run, and with its tokenizer.json
convert) broken one way at a time
(bits, group_size, checkpoint_format, quant_method, desc_act, a missing
qzeros or g_idx, wrong shapes and dtypes, g_idx out of range).
tests/test_hostile_hf.sh runs `ember run -m DIR -p hi -n 1` and `ember
convert DIR OUT.gguf` on each: exit 1 with one "ember: error:" line that
contains the case's expected words (and no OUT.gguf left).

Usage: python3 tests/hostile/gen_hostile_hf.py OUTDIR
Writes OUTDIR/cases.txt, one case per line: "NAME|EXPECTED WORDS|DESCRIPTION".
Python 3 standard library only. Runs in well under a second.
"""
import json
import os
import struct
import sys

H, FF, V = 8, 16, 16
CONFIG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": H,
    "intermediate_size": FF, "num_attention_heads": 2, "num_key_value_heads": 1,
    "num_hidden_layers": 1, "rms_norm_eps": 1e-5, "vocab_size": V,
    "max_position_embeddings": 64, "rope_theta": 10000.0, "tie_word_embeddings": True,
    "hidden_act": "silu",
}
SIZES = {"F32": 4, "F16": 2, "BF16": 2, "I32": 4, "U8": 1}
# A SentencePiece-style tokenizer.json of V tokens (gptq_ok's, so that
# ember convert has a vocabulary to write).
_PIECES = ["<unk>", "<s>", "</s>", "\u2581"] + list("abcdefghijkl")
TOKENIZER = {
    "model": {"type": "BPE", "vocab": {p: i for i, p in enumerate(_PIECES)}, "merges": [],
              "unk_token": "<unk>"},
    "normalizer": {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "\u2581"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
    "added_tokens": [{"id": i, "content": p, "special": True} for i, p in enumerate(_PIECES[:3])],
}


def tensors():
    """The tiny model's tensors: (name, dtype, shape)."""
    kv = H // 2
    t = [("model.embed_tokens.weight", "F32", [V, H]), ("model.norm.weight", "F32", [H])]
    p = "model.layers.0."
    t += [(p + "input_layernorm.weight", "F32", [H]),
          (p + "post_attention_layernorm.weight", "F32", [H]),
          (p + "self_attn.q_proj.weight", "F32", [H, H]),
          (p + "self_attn.k_proj.weight", "F32", [kv, H]),
          (p + "self_attn.v_proj.weight", "F32", [kv, H]),
          (p + "self_attn.o_proj.weight", "F32", [H, H]),
          (p + "mlp.gate_proj.weight", "F32", [FF, H]),
          (p + "mlp.up_proj.weight", "F32", [FF, H]),
          (p + "mlp.down_proj.weight", "F32", [H, FF])]
    return t


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def st_bytes(ts, mutate=None, data=None):
    """A safetensors file of ts; mutate(header dict) may damage the header;
    data maps a tensor name to its bytes (others: a byte pattern)."""
    header, off = {"__metadata__": {"format": "pt"}}, 0
    for name, dt, shape in ts:
        n = numel(shape) * SIZES[dt]
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + n]}
        off += n
    if mutate:
        mutate(header)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    body = bytearray(i % 251 for i in range(off))
    for name, b in (data or {}).items():
        o = header[name]["data_offsets"][0]
        body[o:o + len(b)] = b
    return struct.pack("<Q", len(h)) + h + bytes(body)


GPTQ_QC = {"quant_method": "gptq", "bits": 4, "group_size": 8, "desc_act": False, "sym": True,
           "checkpoint_format": "gptq"}


def gptq_tensors(drop=None, change=None):
    """The tiny model with every linear layer as GPTQ INT4, group 8: (tensors,
    data). drop: a part name to leave out; change(name, dtype, shape) may
    return another (dtype, shape)."""
    t, data = [], {}
    for name, dt, shape in tensors():
        if not name.endswith("_proj.weight"):
            t.append((name, dt, shape))
            continue
        base, (out, inp) = name[:-len(".weight")], shape
        groups = (inp + 7) // 8
        parts = [("qweight", "I32", [(inp + 7) // 8, out]), ("scales", "F16", [groups, out]),
                 ("qzeros", "I32", [groups, (out + 7) // 8]), ("g_idx", "I32", [inp])]
        for p, pdt, pshape in parts:
            n = base + "." + p
            if n == drop:
                continue
            if change and change(n, pdt, pshape):
                pdt, pshape = change(n, pdt, pshape)
            t.append((n, pdt, pshape))
            if p == "g_idx":
                data[n] = struct.pack("<%di" % inp, *[i // 8 for i in range(inp)])
            if p == "scales":
                data[n] = struct.pack("<%de" % numel(pshape), *[0.01] * numel(pshape))
    return t, data


def write(out, name, files, expect, what, cases):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    for fn, data in files.items():
        with open(os.path.join(d, fn), "wb") as f:
            f.write(data if isinstance(data, bytes) else json.dumps(data).encode())
    cases.append(f"{name}|{expect}|{what}")


def main():
    out = sys.argv[1]
    cases = []
    good = st_bytes(tensors())
    hlen = struct.unpack("<Q", good[:8])[0]

    def case(name, expect, what, st=None, config=None, extra=None):
        files = {"config.json": config if config is not None else CONFIG}
        if st is not None:
            files["model.safetensors"] = st
        files.update(extra or {})
        write(out, name, files, expect, what, cases)

    # --- the safetensors file
    case("trunc_data", "past the end", "file cut inside the data", good[:len(good) - 100])
    case("trunc_header", "runs past the end", "file cut inside the header", good[:8 + hlen // 2])
    case("empty", "too short", "empty model.safetensors", b"")

    def overlap(h):
        h["model.norm.weight"]["data_offsets"] = [0, 4 * H]
    case("overlap", "overlap", "two tensors share bytes", st_bytes(tensors(), overlap))

    def bad_dtype(h):
        h["model.norm.weight"]["dtype"] = "F8_E4M3"
    case("bad_dtype", "dtype", "unknown dtype F8_E4M3", st_bytes(tensors(), bad_dtype))

    def bad_shape(h):
        h["model.norm.weight"]["shape"] = [H + 1]
    case("bad_shape", "by its shape", "shape x dtype size != byte range", st_bytes(tensors(), bad_shape))
    case("huge_header", "over the limit", "header length 2^63", struct.pack("<Q", 1 << 63) + good[8:])
    case("not_json", "header", "header is not JSON", good[:8] + b"{nope" + good[13:])
    case("no_weights", "neither model.safetensors", "no safetensors file at all")

    # --- shards
    half = len(tensors()) // 2
    s1, s2 = st_bytes(tensors()[:half]), st_bytes(tensors()[half:])
    wm = {n: ("a.safetensors" if i < half else "b.safetensors") for i, (n, _, _) in enumerate(tensors())}
    case("shard_escape", "plain name", "index maps a tensor to ../x.safetensors", extra={
        "a.safetensors": s1, "b.safetensors": s2,
        "model.safetensors.index.json": {"weight_map": dict(wm, **{"model.norm.weight": "../b.safetensors"})}})
    case("shard_wrong", "is not in", "index puts a tensor in the wrong shard", extra={
        "a.safetensors": s1, "b.safetensors": s2,
        "model.safetensors.index.json": {"weight_map": dict(wm, **{tensors()[-1][0]: "a.safetensors"})}})
    case("shard_dup", "more than one file", "a tensor in two shards", extra={
        "a.safetensors": st_bytes(tensors()[:half + 1]), "b.safetensors": s2,
        "model.safetensors.index.json": {"weight_map": wm}})
    case("shard_missing", "No such file", "index names a shard that is not there", extra={
        "a.safetensors": s1, "model.safetensors.index.json": {"weight_map": wm}})

    # --- config.json
    case("config_not_json", "config.json", "config.json is not JSON", good, config=b"{\"hidden_size\": 8,")
    case("config_missing_field", "num_hidden_layers", "config.json without num_hidden_layers", good,
         config={k: v for k, v in CONFIG.items() if k != "num_hidden_layers"})
    case("arch_unknown", "not supported", "architecture GPT2LMHeadModel", good,
         config=dict(CONFIG, architectures=["GPT2LMHeadModel"], model_type="gpt2"))
    case("rope_dynamic", "rope_scaling.type", "rope_scaling of type dynamic", good,
         config=dict(CONFIG, rope_scaling={"type": "dynamic", "factor": 2.0}))
    case("rope_llama3", "low_freq_factor", "llama3 rope_scaling with high_freq_factor <= low_freq_factor",
         good, config=dict(CONFIG, rope_scaling={"rope_type": "llama3", "factor": 8.0,
                                                 "low_freq_factor": 4.0, "high_freq_factor": 1.0}))
    case("gptq_config", "group_size", "quantization_config (gptq) without group_size", good,
         config=dict(CONFIG, quantization_config={"quant_method": "gptq", "bits": 4}))
    case("gelu", "hidden_act", "hidden_act gelu", good, config=dict(CONFIG, hidden_act="gelu"))
    case("attn_bias", "attention_bias", "llama with attention_bias", good,
         config=dict(CONFIG, attention_bias=True))
    case("untied", "lm_head", "tie_word_embeddings false without lm_head.weight", good,
         config=dict(CONFIG, tie_word_embeddings=False))
    case("vocab_size", "vocab_size", "vocab_size disagrees with the embedding", good,
         config=dict(CONFIG, vocab_size=V + 1))
    case("heads", "head_count", "num_key_value_heads does not divide num_attention_heads", good,
         config=dict(CONFIG, num_attention_heads=3, num_key_value_heads=2))
    case("no_config", "config.json", "no config.json", good, config=None)
    os.remove(os.path.join(out, "no_config", "config.json"))

    # --- tensors
    t = tensors() + [("model.layers.0.self_attn.q_proj.qweight", "I32", [1, H])]
    case("gptq_tensor", "GPTQ", "a GPTQ qweight tensor", st_bytes(t))
    t = [(n, "I32" if "q_proj" in n else d, s) for n, d, s in tensors()]
    case("int_weight", "dtype I32", "q_proj stored as I32", st_bytes(t))
    t = [(n, d, [1] + s if "q_proj" in n else s) for n, d, s in tensors()]
    case("three_dims", "dims", "q_proj with 3 dims", st_bytes(t))
    t = [(n, d, [H, H + 1] if "o_proj" in n else s) for n, d, s in tensors()]
    case("wrong_shape", "shape", "o_proj of the wrong shape for config.json", st_bytes(t))
    t = [x for x in tensors() if "down_proj" not in x[0]]
    case("missing_tensor", "missing tensor", "no down_proj", st_bytes(t))

    # --- GPTQ: a valid tiny INT4 checkpoint (gptq_ok, which runs) broken one
    # way at a time
    gt, gd = gptq_tensors()
    gcfg = dict(CONFIG, quantization_config=GPTQ_QC)
    gok = os.path.join(out, "gptq_ok")
    os.makedirs(gok, exist_ok=True)
    for fn, dat in (("config.json", json.dumps(gcfg).encode()), ("model.safetensors", st_bytes(gt, data=gd)),
                    ("tokenizer.json", json.dumps(TOKENIZER).encode())):
        with open(os.path.join(gok, fn), "wb") as f:
            f.write(dat)
    for name, key, val, what in (("gptq_bits3", "bits", 3, "bits 3"),
                                 ("gptq_group0", "group_size", 0, "group_size 0"),
                                 ("gptq_format", "checkpoint_format", "marlin", "checkpoint_format marlin"),
                                 ("gptq_awq", "quant_method", "awq", "quant_method awq"),
                                 ("gptq_desc_bool", "desc_act", "yes", "desc_act a string")):
        case(name, "'" + key + "'", "GPTQ " + what, st_bytes(gt, data=gd),
             config=dict(CONFIG, quantization_config=dict(GPTQ_QC, **{key: val})))
    q = "model.layers.0.self_attn.q_proj"
    t, d = gptq_tensors(drop=q + ".qzeros")
    case("gptq_no_qzeros", "no 'qzeros'", "GPTQ q_proj without qzeros", st_bytes(t, data=d), config=gcfg)
    t, d = gptq_tensors(drop=q + ".g_idx")
    case("gptq_desc_no_gidx", "desc_act", "GPTQ desc_act true without g_idx", st_bytes(t, data=d),
         config=dict(CONFIG, quantization_config=dict(GPTQ_QC, desc_act=True)))
    t, d = gptq_tensors(change=lambda n, dt, s: (dt, [s[0] + 1, s[1]]) if n == q + ".scales" else None)
    case("gptq_scales_shape", "scales' has the wrong shape", "GPTQ scales with a group too many",
         st_bytes(t, data=d), config=gcfg)
    wide = {"qweight": [1, 2 * H], "scales": [1, 2 * H], "qzeros": [1, 2]}
    t, d = gptq_tensors(change=lambda n, dt, s: (dt, wide[n.rsplit(".", 1)[1]])
                        if n.startswith(q + ".") and not n.endswith("g_idx") else None)
    case("gptq_layer_shape", "has shape [8, 16], expected [8, 8]",
         "GPTQ q_proj consistent in itself but wider than config.json's layer", st_bytes(t, data=d),
         config=gcfg)
    t, d = gptq_tensors(change=lambda n, dt, s: ("F32", s) if n == q + ".scales" else None)
    d.pop(q + ".scales")
    case("gptq_scales_f32", "dtype F32", "GPTQ scales stored as F32", st_bytes(t, data=d), config=gcfg)
    t, d = gptq_tensors()
    d[q + ".g_idx"] = struct.pack("<8i", 0, 0, 0, 5, 0, 0, 0, 0)
    case("gptq_gidx_range", "g_idx' has group 5", "GPTQ g_idx naming a group past the last",
         st_bytes(t, data=d), config=gcfg)
    d[q + ".g_idx"] = struct.pack("<8i", 0, 0, 0, -1, 0, 0, 0, 0)
    case("gptq_gidx_neg", "g_idx' has group -1", "GPTQ g_idx negative", st_bytes(t, data=d), config=gcfg)

    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(cases) + "\n")


if __name__ == "__main__":
    main()
