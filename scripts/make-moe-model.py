#!/usr/bin/env python3
"""Write small mixture-of-experts GGUF models derived from a trained model,
for checking ember's MoE families against llama.cpp.

What it produces (tests/data/models/ by default, each under 2 MB):
    stories260K-moe-llama.gguf     `llama` with llama.expert_count 4, top-2
                                   (Mixtral's layout: ffn_gate_inp, 3-D
                                   ffn_{gate,up,down}_exps; Q8_0 experts of
                                   160, feed_forward_length 160)
    stories260K-qwen2moe.gguf      `qwen2moe`: 4 experts of 128 (F16), top-2,
                                   softmax weights not renormalized, a shared
                                   expert (F16, 172) gated by
                                   sigmoid(ffn_gate_inp_shexp . x), q/k/v biases
    stories260K-qwen3moe.gguf      `qwen3moe`: 8 experts of 160 (Q8_0), top-2
                                   renormalized, per-head q/k RMS norms
Every file is stories260K (../shared/models: dim 64, 5 layers, 8 heads / 4
KV heads, vocabulary 512, trained on TinyStories; MIT) with its attention,
norms, embeddings, output and tokenizer kept, and each layer's dense SwiGLU
FFN (172 hidden units) turned into experts: expert e keeps a random subset
of the hidden units (its rows of gate/up, its columns of down, the down
columns scaled by 172/n_ff_exp so an expert estimates the whole FFN) with
10% multiplicative noise, so the experts differ, routing matters, and the
text is still the trained model's, peaky enough that greedy decoding has
no near-ties. The routers are random (seeded) F32 matrices whose logits
spread over a few units. For the qwen families, which rotate NEOX pairs
(i, i+4) where stories260K was trained on adjacent pairs (2i, 2i+1), the
q/k rows of each head are permuted so the attention scores are unchanged.
qwen3moe's q/k rows are scaled down so a head's mean square is about
RHO (MOE_RHO, default 0.3) times the norm's epsilon, and the q/k norm
weights scale them back: the per-head division then changes the scores by
several percent (perplexity 6.5 with RHO 0.01, 9.6 with 0.3), so a wrong
norm shows, while the text stays the trained model's (stories260K's own
per-head magnitudes, which a plain RMS norm would erase, survive).

Inputs: stories260K.gguf (--src). Needs the `gguf` and `numpy` packages.
Deterministic (each config has its seed). Takes a second.

    python3 scripts/make-moe-model.py                   # all three
    python3 scripts/make-moe-model.py --only qwen3moe --out /tmp
"""
import argparse
import os
import sys

import numpy as np
import gguf.quants as quants
from gguf import GGMLQuantizationType as T
from gguf import GGUFReader, GGUFWriter
from gguf_tokenizer import copy_tokenizer

RHO = float(os.environ.get("MOE_RHO", "0.3"))

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> config. seed: picked (of 300..330) for the largest smallest top-2
# logit gap over the greedy references' 3 prompts x 32 tokens. n_ff: <arch>.feed_forward_length; ff_exp: expert width;
# shexp: shared expert width (0: none); exp_type: the experts' ggml type.
CONFIGS = {
    "llama": dict(file="stories260K-moe-llama.gguf", arch="llama", seed=301, n_expert=4, n_used=2,
                  n_ff=160, ff_exp=160, shexp=0, exp_type=T.Q8_0, neox=False, bias=False,
                  qk_norm=False),
    "qwen2moe": dict(file="stories260K-qwen2moe.gguf", arch="qwen2moe", seed=317, n_expert=4, n_used=2,
                     n_ff=172, ff_exp=128, shexp=172, exp_type=T.F16, neox=True, bias=True,
                     qk_norm=False),
    "qwen3moe": dict(file="stories260K-qwen3moe.gguf", arch="qwen3moe", seed=303, n_expert=8, n_used=2,
                     n_ff=172, ff_exp=160, shexp=0, exp_type=T.Q8_0, neox=True, bias=False,
                     qk_norm=True),
}


def neox_rows(m, hd):
    """Rows of each head reordered so NEOX's pair (i, i+hd/2) is the trained
    pair (2i, 2i+1): new row i = old 2i, new row i+hd/2 = old 2i+1."""
    idx = []
    for h in range(m.shape[0] // hd):
        b = h * hd
        idx += [b + 2 * i for i in range(hd // 2)] + [b + 2 * i + 1 for i in range(hd // 2)]
    return m[idx]


def head_rms(wm, norm_w, hd):
    """Typical RMS of a head of W x for x = rmsnorm(v) * norm_w, v isotropic:
    sqrt(mean over rows of |row * norm_w|^2)."""
    return float(np.sqrt(np.mean(np.sum((wm * norm_w[None, :]) ** 2, axis=1))))


def experts_from(rng, gate, up, down, n_expert, ff_exp):
    """n_expert experts made from a dense FFN (gate/up [ff, e], down [e, ff]):
    a random subset of hidden units each, down scaled by ff/ff_exp, 10% noise.
    Returns numpy arrays [n_expert, ff_exp, e] x2 and [n_expert, e, ff_exp]."""
    ff = gate.shape[0]
    g, u, d = [], [], []
    for _ in range(n_expert):
        s = np.sort(rng.choice(ff, ff_exp, replace=False))
        noise = lambda a: a * (1 + 0.1 * rng.standard_normal(a.shape)).astype(np.float32)
        g.append(noise(gate[s]))
        u.append(noise(up[s]))
        d.append(noise(down[:, s]) * np.float32(ff / ff_exp))
    return np.stack(g), np.stack(u), np.stack(d)


def add(w, name, a, t):
    """Tensor `name` from float array a (numpy order, outermost first) as type t."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    if t == T.F32:
        w.add_tensor(name, a)
    elif t == T.F16:
        w.add_tensor(name, a.astype(np.float16))
    else:
        w.add_tensor(name, quants.quantize(a, t), raw_dtype=t)  # byte shape: the writer converts


def write(cfg, src, out, seed):
    r = GGUFReader(src)
    ts = {t.name: np.array(t.data, dtype=np.float32) for t in r.tensors}
    meta = lambda k: r.fields[k].parts[r.fields[k].data[0]][0].item()
    e, n_layer = meta("llama.embedding_length"), meta("llama.block_count")
    n_head, n_head_kv = meta("llama.attention.head_count"), meta("llama.attention.head_count_kv")
    hd = e // n_head
    rng = np.random.default_rng(seed)
    a = cfg["arch"]
    w = GGUFWriter(out, a)
    w.add_name(f"stories260K {a} MoE (derived, test)")
    w.add_uint32(f"{a}.context_length", meta("llama.context_length"))
    w.add_uint32(f"{a}.embedding_length", e)
    w.add_uint32(f"{a}.block_count", n_layer)
    w.add_uint32(f"{a}.feed_forward_length", cfg["n_ff"])
    w.add_uint32(f"{a}.attention.head_count", n_head)
    w.add_uint32(f"{a}.attention.head_count_kv", n_head_kv)
    w.add_uint32(f"{a}.rope.dimension_count", hd)
    w.add_float32(f"{a}.rope.freq_base", 10000.0)
    w.add_float32(f"{a}.attention.layer_norm_rms_epsilon", meta("llama.attention.layer_norm_rms_epsilon"))
    w.add_uint32(f"{a}.expert_count", cfg["n_expert"])
    w.add_uint32(f"{a}.expert_used_count", cfg["n_used"])
    if a != "llama":
        w.add_uint32(f"{a}.expert_feed_forward_length", cfg["ff_exp"])
    if cfg["shexp"]:
        w.add_uint32(f"{a}.expert_shared_feed_forward_length", cfg["shexp"])
    w.add_uint32("general.file_type", 1 if cfg["exp_type"] == T.F16 else 7)
    copy_tokenizer(w, r)

    add(w, "token_embd.weight", ts["token_embd.weight"], T.F32)
    add(w, "output_norm.weight", ts["output_norm.weight"], T.F32)
    add(w, "output.weight", ts["output.weight"], T.F32)
    for l in range(n_layer):
        p = f"blk.{l}."
        wq, wk = ts[p + "attn_q.weight"], ts[p + "attn_k.weight"]
        attn_norm, ffn_norm = ts[p + "attn_norm.weight"], ts[p + "ffn_norm.weight"]
        add(w, p + "attn_norm.weight", attn_norm, T.F32)
        if cfg["neox"]:
            wq, wk = neox_rows(wq, hd), neox_rows(wk, hd)
        if cfg["qk_norm"]:
            # q and k scaled down so a head's mean square is about RHO * eps,
            # and the norm's weight scales them back: the norm then keeps
            # most of the magnitude the trained model relies on while its
            # per-head division still moves the result by several percent
            eps = meta("llama.attention.layer_norm_rms_epsilon")
            sq = np.sqrt(RHO * eps) / head_rms(wq, attn_norm, hd)
            sk = np.sqrt(RHO * eps) / head_rms(wk, attn_norm, hd)
            wq, wk = wq * sq, wk * sk
            qn, kn = np.sqrt(eps * (1 + RHO)) / sq, np.sqrt(eps * (1 + RHO)) / sk
        add(w, p + "attn_q.weight", wq, T.F32)
        add(w, p + "attn_k.weight", wk, T.F32)
        add(w, p + "attn_v.weight", ts[p + "attn_v.weight"], T.F32)
        if cfg["bias"]:
            for nm, n in (("q", e), ("k", hd * n_head_kv), ("v", hd * n_head_kv)):
                add(w, p + f"attn_{nm}.bias", 0.02 * rng.standard_normal(n), T.F32)
        add(w, p + "attn_output.weight", ts[p + "attn_output.weight"], T.F32)
        if cfg["qk_norm"]:
            add(w, p + "attn_q_norm.weight", np.full(hd, qn), T.F32)
            add(w, p + "attn_k_norm.weight", np.full(hd, kn), T.F32)
        add(w, p + "ffn_norm.weight", ffn_norm, T.F32)
        # the router: logits of a few units' spread for a normed input
        sd = 1.5 / (np.sqrt(e) * float(np.sqrt(np.mean(ffn_norm ** 2))))
        add(w, p + "ffn_gate_inp.weight", sd * rng.standard_normal((cfg["n_expert"], e)), T.F32)
        gate, up, down = ts[p + "ffn_gate.weight"], ts[p + "ffn_up.weight"], ts[p + "ffn_down.weight"]
        g, u, d = experts_from(rng, gate, up, down, cfg["n_expert"], cfg["ff_exp"])
        add(w, p + "ffn_gate_exps.weight", g, cfg["exp_type"])
        add(w, p + "ffn_down_exps.weight", d, cfg["exp_type"])
        add(w, p + "ffn_up_exps.weight", u, cfg["exp_type"])
        if cfg["shexp"]:
            add(w, p + "ffn_gate_inp_shexp.weight", sd * rng.standard_normal(e), T.F32)
            add(w, p + "ffn_gate_shexp.weight", gate, T.F16)
            add(w, p + "ffn_down_shexp.weight", down, T.F16)
            add(w, p + "ffn_up_shexp.weight", up, T.F16)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default=os.path.join(ROOT, "tests", "data", "models", "stories260K.gguf"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "models"))
    ap.add_argument("--only", default=",".join(CONFIGS), help="comma list of " + ", ".join(CONFIGS))
    ap.add_argument("--seed", type=int, default=None, help="instead of each config's own")
    args = ap.parse_args()
    for k in args.only.split(","):
        if k not in CONFIGS:
            sys.exit(f"make-moe-model: unknown config {k!r} (have {', '.join(CONFIGS)})")
        path = os.path.join(args.out, CONFIGS[k]["file"])
        write(CONFIGS[k], args.src, path, CONFIGS[k]["seed"] if args.seed is None else args.seed)
        print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
