#!/usr/bin/env python3
"""Record the references for the qwen3, phi3 and sliding-window test files
(scripts/make-bench-model.py --tiny) as tests/data/models/dense-reference.json,
in reference.json's shape (tests/check_reference.py --ref reads it):

  * qwen3, phi3, phi3-Q8_0 (made here when absent: llama-quantize
    --tensor-type ffn_down=f16 stories260K-phi3.gguf ... Q8_0 2, so the row
    views are exercised on a block type): llama.cpp's prompt tokens (llama-tokenize), greedy
    text (llama-completion -fa off --temp 0 -n 32 -c CTX --no-display-prompt,
    run until two complete runs agree: its async log can cut stdout short) and
    perplexity (llama-perplexity -fa off -c CTX) on tinystory-eval.txt. phi3 at
    -c 256 (rope_factors_short) and -c 512 (above original_context_length 256:
    rope_factors_long).
  * swa32 (llama with attention.sliding_window 32): llama.cpp 0.3.36 ignores
    that key for the llama architecture, so the reference is transformers'
    MistralForCausalLM (eager attention, sliding_window 32, float32) on the
    same weights, read from the GGUF (q/k rows un-permuted to Hugging Face's
    order). Greedy by full recomputation each step (no cache); perplexity the
    way llama-perplexity computes it (chunks of CTX tokens of the text
    tokenized with BOS by llama-tokenize, each chunk's first token set to BOS,
    the NLL of tokens CTX/2+1 .. CTX-1). The same code without the window must
    give llama.cpp's text and perplexity; the script checks that too.

    python3 scripts/make_dense_refs.py --bin LLAMA_CPP_BIN_DIR [--models DIR]

Needs numpy, gguf, torch and transformers. Takes a minute.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
from gguf import GGUFReader

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPTS = ["Once upon a time", "Lily and Tom went to the park. They", "The little dog"]
N_PREDICT = 32
FILES = {  # file: (greedy contexts, perplexity contexts)
    "stories260K-qwen3.gguf": ([256], [128]),
    "stories260K-phi3.gguf": ([256, 512], [128, 512]),
    "stories260K-phi3-Q8_0.gguf": ([256], [128]),
}
SWA_FILE, SWA = "stories260K-swa32.gguf", 32


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def tokenize(bin_dir, model, prompt=None, path=None):
    src = ["-p", prompt] if prompt is not None else ["-f", path]
    r = run([os.path.join(bin_dir, "llama-tokenize"), "-m", model, *src, "--ids", "--log-disable"])
    return json.loads(r.stdout.strip().splitlines()[-1])


def greedy(bin_dir, model, prompt, ctx):
    cmd = [os.path.join(bin_dir, "llama-completion"), "-m", model, "-p", prompt, "-n", str(N_PREDICT),
           "--temp", "0", "-c", str(ctx), "-fa", "off", "-t", "2", "-no-cnv", "--no-warmup",
           "--no-display-prompt"]
    seen = []
    for _ in range(10):
        out = run(cmd).stdout
        if out.endswith("\n\n"):
            seen.append(out[:-2])
            if seen.count(seen[-1]) >= 2:
                return seen[-1], " ".join(cmd)
    sys.exit(f"make_dense_refs: no two complete runs agree for {model} {prompt!r}")


def perplexity(bin_dir, model, text, ctx):
    for _ in range(5):  # the async log may drop the last line: try again
        r = run([os.path.join(bin_dir, "llama-perplexity"), "-m", model, "-f", text, "-c", str(ctx),
                 "-fa", "off", "-t", "2"])
        for line in r.stdout.splitlines() + r.stderr.splitlines():
            if "Final estimate: PPL = " in line:
                return float(line.split("PPL = ")[1].split()[0])
    sys.exit(f"make_dense_refs: no perplexity for {model}: {r.stderr[-300:]}")


# ---- transformers' Mistral on the GGUF's weights -----------------------------

def mistral_from_gguf(path, window):
    import torch
    torch.set_num_threads(1)
    from transformers import MistralConfig, MistralForCausalLM
    r = GGUFReader(path)
    ts = {t.name: np.array(t.data, dtype=np.float32).reshape([int(x) for x in reversed(t.shape)])
          for t in r.tensors}
    e, ff = ts["token_embd.weight"].shape[1], ts["blk.0.ffn_up.weight"].shape[0]
    nl = 1 + max(int(n.split(".")[1]) for n in ts if n.startswith("blk."))
    nh, nkv, hd = 8, 4, 8  # stories260K's (the file's metadata says the same)

    def unpermute(w, n):
        return w.reshape(n, hd // 2, 2, -1).swapaxes(1, 2).reshape(w.shape)

    cfg = MistralConfig(vocab_size=ts["token_embd.weight"].shape[0], hidden_size=e,
                        intermediate_size=ff, num_hidden_layers=nl, num_attention_heads=nh,
                        num_key_value_heads=nkv, head_dim=hd, rms_norm_eps=1e-5,
                        rope_theta=10000.0, max_position_embeddings=2048,
                        sliding_window=window, tie_word_embeddings=False,
                        attn_implementation="eager", torch_dtype="float32")
    m = MistralForCausalLM(cfg).eval()
    sd = {"model.embed_tokens.weight": ts["token_embd.weight"],
          "model.norm.weight": ts["output_norm.weight"], "lm_head.weight": ts["output.weight"]}
    for i in range(nl):
        g, h = f"blk.{i}.", f"model.layers.{i}."
        sd.update({h + "input_layernorm.weight": ts[g + "attn_norm.weight"],
                   h + "post_attention_layernorm.weight": ts[g + "ffn_norm.weight"],
                   h + "self_attn.q_proj.weight": unpermute(ts[g + "attn_q.weight"], nh),
                   h + "self_attn.k_proj.weight": unpermute(ts[g + "attn_k.weight"], nkv),
                   h + "self_attn.v_proj.weight": ts[g + "attn_v.weight"],
                   h + "self_attn.o_proj.weight": ts[g + "attn_output.weight"],
                   h + "mlp.gate_proj.weight": ts[g + "ffn_gate.weight"],
                   h + "mlp.up_proj.weight": ts[g + "ffn_up.weight"],
                   h + "mlp.down_proj.weight": ts[g + "ffn_down.weight"]})
    missing, unexpected = m.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in sd.items()},
                                            strict=False)
    if [k for k in missing if "rotary" not in k] or unexpected:
        sys.exit(f"make_dense_refs: state dict mismatch {missing} {unexpected}")
    return m, r


def pieces(r):
    f = r.fields["tokenizer.ggml.tokens"]
    return [bytes(f.parts[i]) for i in f.data]


def detok(vocab, ids):
    """SPM pieces as llama.cpp prints generated tokens: U+2581 is a space,
    <0xXX> a byte."""
    out = b""
    for t in ids:
        p = vocab[t]
        if len(p) == 6 and p.startswith(b"<0x") and p.endswith(b">"):
            out += bytes([int(p[3:5], 16)])
        else:
            out += p.replace("\u2581".encode(), b" ")
    return out.decode("utf-8", "replace")


def hf_greedy(m, ids):
    import torch
    ids = list(ids)
    out, gaps = [], []
    with torch.no_grad():
        for _ in range(N_PREDICT):
            logits = m(torch.tensor([ids])).logits[0, -1]
            top = torch.topk(logits, 2)
            out.append(int(top.indices[0]))
            gaps.append(float(top.values[0] - top.values[1]))
            ids.append(out[-1])
    return out, gaps


def hf_ppl(m, toks, ctx, bos):
    import torch
    nll, cnt = 0.0, 0
    with torch.no_grad():
        for c in range(len(toks) // ctx):
            chunk = list(toks[c * ctx:(c + 1) * ctx])
            chunk[0] = bos
            lp = torch.log_softmax(m(torch.tensor([chunk])).logits[0].double(), -1)
            for j in range(ctx // 2, ctx - 1):
                nll -= float(lp[j, chunk[j + 1]])
                cnt += 1
    return float(np.exp(nll / cnt))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="llama.cpp's bin/ (llama-completion, ...)")
    ap.add_argument("--models", default=os.path.join(ROOT, "tests/data/models"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests/data/models/dense-reference.json"))
    a = ap.parse_args()
    text = os.path.join(a.models, "tinystory-eval.txt")
    q8 = os.path.join(a.models, "stories260K-phi3-Q8_0.gguf")
    if not os.path.exists(q8):  # ffn_down's 172-wide rows fit no Q8_0 block: F16
        r = run([os.path.join(a.bin, "llama-quantize"), "--tensor-type", "ffn_down=f16",
                 os.path.join(a.models, "stories260K-phi3.gguf"), q8, "Q8_0", "2"])
        if r.returncode:
            sys.exit(f"make_dense_refs: llama-quantize failed: {r.stderr[-300:]}")
    ref = {"method": __doc__.split("\n\n")[0], "n_predict": N_PREDICT, "models": {}}
    for name, (gctx, pctx) in FILES.items():
        path = os.path.join(a.models, name)
        m = {"source": "llama.cpp 0.3.36 (llama-cpp-python's vendored source)", "greedy": []}
        for ctx in gctx:
            for p in PROMPTS:
                t, cmd = greedy(a.bin, path, p, ctx)
                m["greedy"].append({"prompt": p, "prompt_tokens": tokenize(a.bin, path, p),
                                    "n_predict": N_PREDICT, "ctx": ctx, "text": t, "command": cmd})
        for ctx in pctx:
            m[f"ppl_c{ctx}"] = perplexity(a.bin, path, text, ctx)
        ref["models"][name] = m
        print(name, {k: v for k, v in m.items() if k.startswith("ppl")}, file=sys.stderr)

    path = os.path.join(a.models, SWA_FILE)
    toks = tokenize(a.bin, path, path=text)
    m = {"source": f"transformers MistralForCausalLM, eager attention, sliding_window {SWA}, "
                   "float32, weights from the GGUF (llama.cpp 0.3.36 ignores the window for "
                   "llama)", "greedy": []}
    for window in (None, SWA):
        hf, r = mistral_from_gguf(path, window)
        vocab = pieces(r)
        for p in PROMPTS:
            ids = tokenize(a.bin, path, p)
            out, gaps = hf_greedy(hf, ids)
            t = detok(vocab, out)
            if window is None:  # the code itself against llama.cpp, which has no window
                want, _ = greedy(a.bin, path, p, 256)
                if t != want:
                    sys.exit(f"make_dense_refs: transformers without a window {t!r} != llama.cpp {want!r}")
                continue
            m["greedy"].append({"prompt": p, "prompt_tokens": ids, "n_predict": N_PREDICT, "ctx": 256,
                                "text": t, "ids": out, "min_top2_gap": round(min(gaps), 4)})
        ppl = hf_ppl(hf, toks, 128, toks[0])
        if window is None:
            want = perplexity(a.bin, path, text, 128)
            print(f"no window: transformers {ppl:.4f}, llama.cpp {want}", file=sys.stderr)
            if abs(ppl - want) / want > 0.001:
                sys.exit("make_dense_refs: transformers without a window disagrees with llama.cpp")
            m["ppl_c128_no_window"] = round(ppl, 4)
        else:
            m["ppl_c128"] = round(ppl, 4)
    ref["models"][SWA_FILE] = m
    print(SWA_FILE, m["ppl_c128"], file=sys.stderr)
    with open(a.out, "w") as f:
        json.dump(ref, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
