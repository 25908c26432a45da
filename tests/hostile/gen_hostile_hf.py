#!/usr/bin/env python3
"""gen_hostile_hf.py - hostile Hugging Face model directories.

Writes one directory per case under OUTDIR, each a tiny llama (hidden 8,
1 layer, vocab 16, F32) with one thing broken: the safetensors file
(truncated, overlapping offsets, an unknown dtype, a shape that disagrees
with its byte range, a header length of 2^63, a header that is not JSON,
an empty file), the shard index (a path outside the directory, a tensor
not where it says, a tensor in two shards), config.json (not JSON, an
unknown architecture, unsupported rope_scaling, a GPTQ quantization_config,
another activation, untied embeddings without lm_head, a vocab_size that
disagrees) or the tensors (GPTQ parts, integer weights, 3-D weights).
tests/test_hostile_hf.sh runs `ember run -m DIR -p hi -n 1` on each: exit 1
with one "ember: error:" line that contains the case's expected words.

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


def st_bytes(ts, mutate=None):
    """A safetensors file of ts; mutate(header dict) may damage the header."""
    header, off = {"__metadata__": {"format": "pt"}}, 0
    for name, dt, shape in ts:
        n = numel(shape) * SIZES[dt]
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + n]}
        off += n
    if mutate:
        mutate(header)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + bytes(i % 251 for i in range(off))


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
    case("gptq_config", "GPTQ", "quantization_config (gptq)", good,
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

    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(cases) + "\n")


if __name__ == "__main__":
    main()
