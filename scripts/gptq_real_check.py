#!/usr/bin/env python3
"""Real-tool GPTQ cross-check (driven by scripts/gptq-real-check.sh).

Needs torch, transformers, gguf and (for `quantize`) gptqmodel from PyPI;
nothing here is part of `make test`. Subcommands:

  tohf GGUF OUTDIR
      A GGUF model as a float32 Hugging Face directory: transformers
      dequantizes the GGUF (AutoModelForCausalLM.from_pretrained(...,
      gguf_file=...)), the weights are copied into a plain model built from
      the same config (transformers refuses to save a "gguf-quantized"
      model) and saved with the GGUF's tokenizer.

  quantize HFDIR OUTDIR --bits B --group G [--desc-act] --calib FILE...
      GPTQModel (GPTQConfig, CPU) on calibration samples: the calibration
      files' text, tokenized with the model's tokenizer, cut into
      --nsamples windows of --seqlen tokens. Saved with GPTQModel's
      default checkpoint_format ("gptq", the AutoGPTQ layout).

  ids HFDIR OUT.txt PROMPT...
      The prompts' token ids by the HF tokenizer (BOS only where the
      tokenizer adds one), one line each: the input of build/gptq-logits.

  reference DIR IDS.txt OUT.npz [--ppl-text FILE -c N]
      transformers' logits (float32, CPU) at every position of each prompt,
      a 32-token greedy continuation (ids and decoded text), and perplexity
      by `ember perplexity`'s scheme (see ppl_llamacpp). A GPTQ directory
      is run through transformers, which hands it to GPTQModel's CPU
      kernel (device_map cpu).

  dequant GPTQDIR OUTDIR
      Independent reference: the GPTQ checkpoint dequantized in numpy from
      the AutoGPTQ layout (qweight [in/pf, out] int32 little nibbles first,
      qzeros [groups, out/pf] stored minus one for checkpoint_format gptq,
      scales [groups, out], g_idx [in]) into a float32 HF directory.

  fixture REF.npz OUT.json
      reference.json for a checkpoint kept in tests/data (test_gptq_real.c).

  compare EMBER.bin REF.npz [--texts FILE...] [--json OUT]
      Max abs logit error, top-1 agreement, greedy ids equal; with
      --texts, `ember run --temp 0 -n 32` outputs (one file per prompt)
      against the decoded reference continuations.
"""
import argparse
import json
import os
import shutil
import struct
import sys
import time

import numpy as np


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def cmd_tohf(a):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    d, f = os.path.dirname(os.path.abspath(a.gguf)), os.path.basename(a.gguf)
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    m = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32)
    cfg = m.config
    if hasattr(cfg, "quantization_config"):
        del cfg.quantization_config
    m2 = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    m2.load_state_dict(m.state_dict(), strict=True)
    m2.tie_weights()
    m2.save_pretrained(a.out)
    tok.save_pretrained(a.out)
    log("saved", a.out, type(m2).__name__)


def calib_samples(tok, files, nsamples, seqlen):
    text = "\n\n".join(open(f, encoding="utf-8").read() for f in files)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    if len(ids) < seqlen:
        raise SystemExit(f"calibration text has {len(ids)} tokens, fewer than {seqlen}")
    step = max(1, (len(ids) - seqlen) // max(1, nsamples - 1))
    out = []
    for i in range(nsamples):
        s = min(i * step, len(ids) - seqlen)
        w = ids[s:s + seqlen]
        out.append({"input_ids": w, "attention_mask": [1] * len(w)})
    log(f"calibration: {len(ids)} tokens, {len(out)} samples of {seqlen}, step {step}")
    return out


def cmd_quantize(a):
    import torch
    from gptqmodel import GPTQConfig, GPTQModel
    from transformers import AutoTokenizer
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(a.hfdir)
    samples = calib_samples(tok, a.calib, a.nsamples, a.seqlen)
    kw = dict(bits=a.bits, group_size=a.group, desc_act=a.desc_act, sym=True)
    if a.desc_act:
        kw["act_group_aware"] = False
    qc = GPTQConfig(**kw)
    log("GPTQConfig", qc)
    t = time.time()
    model = GPTQModel.load(a.hfdir, qc, device="cpu")
    model.quantize(samples, batch_size=1)
    log(f"quantized in {time.time() - t:.0f} s")
    model.save(a.out)
    log("saved", a.out)


def cmd_ids(a):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(a.hfdir)
    with open(a.out, "w") as f:
        for p in a.prompts:
            ids = tok(p)["input_ids"]  # BOS as the tokenizer adds it (ember run does the same)
            f.write(" ".join(map(str, ids)) + "\n")


def load_model(d):
    import torch
    from transformers import AutoModelForCausalLM
    cfg = json.load(open(os.path.join(d, "config.json")))
    qc = cfg.get("quantization_config")
    if qc:
        # transformers hands GPTQ checkpoints to optimum + GPTQModel. Its
        # automatic CPU choice (TorchCpuAvx512Linear) refuses in_features
        # that are not a multiple of group_size (SmolLM2's 576 with 128), so
        # the plain torch kernel is named: it dequantizes each layer
        # ((q - z) * s, in the scales' dtype, F16) and multiplies in float32.
        from transformers import GPTQConfig
        m = AutoModelForCausalLM.from_pretrained(
            d, device_map="cpu", dtype=torch.float32,
            quantization_config=GPTQConfig(bits=qc["bits"], backend="gptq_torch"))
        q = m.model.layers[0].self_attn.q_proj
        log(f"GPTQ layers run by {type(q).__module__}.{type(q).__name__}")
    else:
        m = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32)
    m.eval()
    return m


def ppl_llamacpp(m, tok, text, n_ctx):
    """`ember perplexity` / llama.cpp's scheme: the text tokenized as the
    tokenizer does by default (BOS only where it adds one), floor(n/c)
    chunks, each chunk's first token replaced by BOS when the tokenizer adds
    one, and the logits at positions [c/2, c-1) scored against the next
    token (c/2 - 1 tokens per chunk)."""
    import torch
    ids = tok(text)["input_ids"]
    bos = tok.bos_token_id
    add_bos = bos is not None and len(ids) > 0 and ids[0] == bos
    n_chunk = len(ids) // n_ctx
    first = n_ctx // 2
    nll, cnt = 0.0, 0
    for k in range(n_chunk):
        w = ids[k * n_ctx:(k + 1) * n_ctx]
        inp = ([bos] + w[1:]) if add_bos else w
        with torch.no_grad():
            lg = m(torch.tensor([inp])).logits[0].double()
        lp = torch.log_softmax(lg, dim=-1)
        for j in range(first, n_ctx - 1):
            nll -= lp[j, w[j + 1]].item()
            cnt += 1
        log(f"  chunk {k + 1}/{n_chunk}: ppl so far {np.exp(nll / cnt):.4f}")
    return float(np.exp(nll / cnt)), n_chunk, len(ids)


def run_text(m, tok, gen):
    """What `ember run --temp 0 -n N` prints for greedy ids gen: up to the
    first end-of-generation id, control tokens (<|im_end|>, ...) not
    printed (as llama.cpp)."""
    eos = {tok.eos_token_id}
    ge = getattr(getattr(m, "generation_config", None), "eos_token_id", None)
    eos |= set(ge if isinstance(ge, (list, tuple)) else [ge])
    eos.discard(None)
    for k, t in enumerate(gen):
        if t in eos:
            gen = gen[:k]
            break
    return tok.decode(gen, skip_special_tokens=True)


def cmd_reference(a):
    import torch
    from transformers import AutoTokenizer
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    m = load_model(a.dir)
    tok = AutoTokenizer.from_pretrained(a.dir)
    out = {}
    prompts = [list(map(int, l.split())) for l in open(a.ids) if l.strip()]
    for i, ids in enumerate(prompts):
        with torch.no_grad():
            lg = m(torch.tensor([ids])).logits[0].float().numpy()
            # greedy by hand (argmax, lowest id on ties as numpy), full
            # recompute with the KV cache of transformers' generate avoided
            seq = list(ids)
            gen = []
            past = None
            x = torch.tensor([ids])
            for _ in range(a.n_greedy):
                o = m(x, past_key_values=past, use_cache=True)
                past = o.past_key_values
                nxt = int(np.argmax(o.logits[0, -1].float().numpy()))
                gen.append(nxt)
                seq.append(nxt)
                x = torch.tensor([[nxt]])
        out[f"ids{i}"] = np.array(ids, dtype=np.int32)
        out[f"logits{i}"] = lg
        out[f"greedy{i}"] = np.array(gen, dtype=np.int32)
        out[f"text{i}"] = np.array(run_text(m, tok, gen))
        log(f"prompt {i}: {len(ids)} tokens, greedy: {tok.decode(gen)!r}")
    if a.ppl_text:
        t = time.time()
        ppl, nch, ntok = ppl_llamacpp(m, tok, open(a.ppl_text, encoding="utf-8").read(), a.c)
        out["ppl"] = np.array([ppl, nch, ntok, a.c])
        log(f"perplexity {ppl:.4f} ({nch} chunks of {a.c}, {ntok} tokens, {time.time() - t:.0f} s)")
    np.savez(a.out, **out)


def read_ember(path):
    res = []
    with open(path, "rb") as f:
        while True:
            h = f.read(8)
            if not h:
                break
            n, nv = struct.unpack("<ii", h)
            lg = np.frombuffer(f.read(4 * n * nv), dtype="<f4").reshape(n, nv)
            (ng,) = struct.unpack("<i", f.read(4))
            gen = np.frombuffer(f.read(4 * ng), dtype="<i4")
            res.append((lg, gen))
    return res


def cmd_compare(a):
    em = read_ember(a.ember)
    ref = np.load(a.ref)
    rows = []
    worst, agree, total, greedy_eq = 0.0, 0, 0, True
    for i, (lg, gen) in enumerate(em):
        r = ref[f"logits{i}"]
        if r.shape != lg.shape:
            raise SystemExit(f"prompt {i}: shapes {lg.shape} vs {r.shape}")
        d = float(np.max(np.abs(lg.astype(np.float64) - r)))
        scale = float(np.max(np.abs(r)))
        a1 = int(np.sum(np.argmax(lg, 1) == np.argmax(r, 1)))
        rg = ref[f"greedy{i}"]
        m = 0
        while m < len(gen) and m < len(rg) and gen[m] == rg[m]:
            m += 1
        eq = m == len(rg) == len(gen)
        worst, agree, total = max(worst, d), agree + a1, total + lg.shape[0]
        greedy_eq &= eq
        rows.append(dict(prompt=i, n=lg.shape[0], max_abs=d, max_ref=scale, top1=a1,
                         greedy_match=m, greedy_equal=eq))
        print(f"prompt {i}: {lg.shape[0]} positions, max |logit diff| {d:.3e} "
              f"(max |logit| {scale:.1f}), top-1 {a1}/{lg.shape[0]}, "
              f"greedy {m}/{len(rg)} ids equal")
    texts_eq = None
    if a.texts:
        texts_eq = True
        for i, f in enumerate(a.texts):
            got = open(f, encoding="utf-8", errors="replace").read()
            want = str(ref[f"text{i}"])
            eq = got == want
            texts_eq &= eq
            print(f"prompt {i}: ember run text {'==' if eq else '!='} transformers' "
                  f"({got[:60]!r}{' vs ' + repr(want[:60]) if not eq else ''})")
    summ = dict(texts_equal=texts_eq, max_abs=worst, top1_pct=100.0 * agree / total, positions=total,
                greedy_equal=bool(greedy_eq), prompts=rows)
    if "ppl" in ref:
        summ["ppl_ref"] = float(ref["ppl"][0])
    print(f"ALL: max |logit diff| {worst:.3e}, top-1 {100.0 * agree / total:.2f}% of {total}, "
          f"greedy ids equal: {greedy_eq}, texts equal: {texts_eq}")
    if a.json:
        json.dump(summ, open(a.json, "w"), indent=1)


def unpack_cols(q, bits):
    """int32 [r, c] packed along axis 0 -> [r*pf, c] (low bits first)."""
    pf = 32 // bits
    q = q.astype(np.uint32)
    sh = (np.arange(pf, dtype=np.uint32) * bits)[None, :, None]
    v = (q[:, None, :] >> sh) & ((1 << bits) - 1)
    return v.reshape(q.shape[0] * pf, q.shape[1])


def unpack_rows(q, bits):
    """int32 [r, c] packed along axis 1 -> [r, c*pf]."""
    pf = 32 // bits
    q = q.astype(np.uint32)
    sh = (np.arange(pf, dtype=np.uint32) * bits)[None, None, :]
    v = (q[:, :, None] >> sh) & ((1 << bits) - 1)
    return v.reshape(q.shape[0], q.shape[1] * pf)


def cmd_dequant(a):
    from safetensors.numpy import save_file
    from safetensors.torch import load_file  # numpy cannot read BF16
    cfg = json.load(open(os.path.join(a.gptq, "config.json")))
    qc = cfg["quantization_config"]
    bits = qc["bits"]
    zero_add = 1 if qc.get("checkpoint_format", "gptq") == "gptq" else 0
    files = [f for f in os.listdir(a.gptq) if f.endswith(".safetensors")]
    t = {}
    for f in files:
        for k, v in load_file(os.path.join(a.gptq, f)).items():
            t[k] = v.float().numpy() if v.is_floating_point() else v.numpy()
    out = {}
    bases = sorted({k[:-len(".qweight")] for k in t if k.endswith(".qweight")})
    for b in bases:
        qw, qz, sc = t[b + ".qweight"], t[b + ".qzeros"], t[b + ".scales"]
        w = unpack_cols(qw, bits).astype(np.float32)           # [in, out]
        z = unpack_rows(qz, bits)[:, :sc.shape[1]].astype(np.float32) + zero_add  # [groups, out] (words padded)
        g = t.get(b + ".g_idx")
        # qweight rows are padded to whole words (GPTQModel: in 172 -> 176
        # rows of 4-bit); g_idx has one entry per real input
        n_in = len(g) if g is not None else w.shape[0]
        w = w[:n_in]
        if g is None:
            gs = qc["group_size"] if qc["group_size"] > 0 else n_in
            g = np.arange(n_in) // gs
        g = g.astype(np.int64)
        deq = (w - z[g]) * sc[g]                                # [in, out]
        out[b + ".weight"] = np.ascontiguousarray(deq.T)
        if b + ".bias" in t:
            out[b + ".bias"] = t[b + ".bias"].astype(np.float32)
    for k, v in t.items():
        if k.rsplit(".", 1)[0] in bases or k.endswith((".qweight", ".qzeros", ".scales", ".g_idx")):
            continue
        out[k] = np.ascontiguousarray(v, dtype=np.float32)
    os.makedirs(a.out, exist_ok=True)
    save_file(out, os.path.join(a.out, "model.safetensors"), metadata={"format": "pt"})
    cfg.pop("quantization_config")
    cfg["dtype"] = "float32"
    cfg.pop("torch_dtype", None)
    json.dump(cfg, open(os.path.join(a.out, "config.json"), "w"), indent=2)
    for f in os.listdir(a.gptq):
        if f.startswith(("tokenizer", "special_tokens", "generation_config", "chat_template")):
            shutil.copy(os.path.join(a.gptq, f), a.out)
    log(f"dequantized {len(bases)} layers ({bits}-bit, zero_add {zero_add}) into {a.out}")


def cmd_fixture(a):
    """reference.json of a small checkpoint for tests/test_gptq_real.c:
    the prompts' ids, transformers' logits at every position (7
    significant digits) and 32 greedy ids, with the versions used."""
    import importlib.metadata as md
    ref = np.load(a.ref)
    vers = {p: md.version(p) for p in ("torch", "transformers", "optimum", "gptqmodel")}
    prompts = []
    i = 0
    while f"ids{i}" in ref:
        prompts.append(dict(ids=ref[f"ids{i}"].tolist(),
                            logits=[[float(f"{v:.7g}") for v in row] for row in ref[f"logits{i}"]],
                            greedy_ids=ref[f"greedy{i}"].tolist()))
        i += 1
    doc = dict(method="transformers AutoModelForCausalLM (float32, CPU) with "
               "GPTQConfig(backend='gptq_torch'): GPTQModel's torch kernel; logits of "
               "every position of each prompt in one forward, greedy ids by argmax "
               "with the KV cache (scripts/gptq_real_check.py reference)",
               versions=vers, prompts=prompts)
    with open(a.out, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    log(f"wrote {a.out}: {len(prompts)} prompts")


def main():
    ap = argparse.ArgumentParser()
    sp = ap.add_subparsers(dest="cmd", required=True)
    p = sp.add_parser("tohf"); p.add_argument("gguf"); p.add_argument("out")
    p = sp.add_parser("quantize"); p.add_argument("hfdir"); p.add_argument("out")
    p.add_argument("--bits", type=int, default=4); p.add_argument("--group", type=int, default=128)
    p.add_argument("--desc-act", action="store_true")
    p.add_argument("--calib", nargs="+", required=True)
    p.add_argument("--nsamples", type=int, default=32); p.add_argument("--seqlen", type=int, default=256)
    p = sp.add_parser("ids"); p.add_argument("hfdir"); p.add_argument("out"); p.add_argument("prompts", nargs="+")
    p = sp.add_parser("reference"); p.add_argument("dir"); p.add_argument("ids"); p.add_argument("out")
    p.add_argument("--ppl-text"); p.add_argument("-c", type=int, default=128)
    p.add_argument("--n-greedy", type=int, default=32); p.add_argument("--threads", type=int, default=1)
    p = sp.add_parser("dequant"); p.add_argument("gptq"); p.add_argument("out")
    p = sp.add_parser("fixture"); p.add_argument("ref"); p.add_argument("out")
    p = sp.add_parser("compare"); p.add_argument("ember"); p.add_argument("ref"); p.add_argument("--json")
    p.add_argument("--texts", nargs="*")
    a = ap.parse_args()
    globals()["cmd_" + a.cmd](a)


if __name__ == "__main__":
    main()
