#!/usr/bin/env python3
"""Real GGUF models (fetched by scripts/get-models.sh into models-cache/)
against llama.cpp's recorded outputs in tests/data/real-models-reference.json
(made by scripts/make-real-refs.sh): prompt token ids, and greedy 32-token
continuations equal as text, generated with the scalar reference kernels;
where the reference has a perplexity (gemma3, -c 1024), ember's within 0.5%. A model that is not cached gets a visible SKIP
line. With -v, prints ember's generation speed (from `ember run -v`) next to
llama.cpp's recorded one.

Then the KV cache types: tests/data/real-models-kv-reference.json (made by
scripts/make_kv_refs.py) holds llama.cpp's greedy texts with -ctk/-ctv f16
(flash attention off and on) and q8_0 (on: llama.cpp needs it for a
quantized V cache), q8_0 both as llama.cpp runs it by default (rotating
queries, keys and values by a Walsh-Hadamard matrix, attn_rot "on") and
with LLAMA_ATTN_ROT_DISABLE=1 (attn_rot "off", the same arithmetic as
ember's). ember runs each prompt with the same cache type and must give the
same text as every unrotated run, or, for a run listed in KV_NEAR_TIES,
prints SKIP with the token position where the two part and ember's top-2
logit gap there (from `ember run -v`; test_greedy_follow bounds the margin). Against the rotated runs the position where
the texts part is printed, not checked: ember does not rotate.
"""
import argparse
import json
import os
import re
import subprocess
import sys

from near_tie import gap_at, parting, token_ids

ap = argparse.ArgumentParser()
ap.add_argument("--ember", default=os.environ.get("EMBER", "./ember"))
ap.add_argument("--ref", default="tests/data/real-models-reference.json")
ap.add_argument("--threads", default="2")
ap.add_argument("-v", action="store_true")
args = ap.parse_args()
ref = json.load(open(args.ref))

# Runs whose text parts from llama.cpp's default run at a near-tie that
# llama.cpp's own settings also flip: ember's text here equals llama.cpp's
# with flash attention off (smollm2 "Once upon a time") or with an F32 KV
# cache (smollm2 "def fibonacci"); which side of the tie a run lands on also
# moves with ember's kernel set. test_greedy_follow (EMBER_REAL_MODELS=1)
# bounds the margins. These print SKIP with the shared prefix; others must match.
NEAR_TIES = {
    ("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "The capital of France is"),
    ("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "The capital of France is"),
    ("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "Once upon a time"),
    # generated tokens 10-11: llama.cpp ' "Invalid', ember's scalar kernels
    # ' "Input' (top-2 gaps 0.098 and 0.022 there)
    ("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "def fibonacci(n):"),
    ("smollm2-135m-instruct-q4_1.gguf", "def fibonacci(n):"),
    ("smollm2-135m-instruct-q4_1.gguf", "The capital of France is"),
    ("smollm2-135m-instruct-q4_1.gguf", "Once upon a time"),
    # gemma3, teacher-forced on llama.cpp's ids (test_greedy_follow): one
    # near-tie each, every other step ember's argmax. "Once upon a time",
    # generated token 4: llama.cpp " man", ember's scalar kernels " time"
    # (llama.cpp's within 0.024 of it), AVX-512 " small" (within 0.054).
    # "The capital of France is", token 15: the scalar kernels part (0.014);
    # AVX-512 gives llama.cpp's text.
    ("gemma3-270m-q4_k_m.gguf", "The capital of France is"),
    ("gemma3-270m-q4_k_m.gguf", "Once upon a time"),
}
# (model, prompt, cache type, llama.cpp's -fa) whose texts part at a
# near-tie; test_greedy_follow (EMBER_REAL_MODELS=1) bounds their margins.
# Measured with the scalar kernels: where llama.cpp's own runs with -fa on
# and off part, ember's text follows one of them (qwen "capital", smollm2
# "Once upon a time": -fa off; qwen "Once upon a time": -fa on); the rest
# part later. The margins where they part (test_greedy_follow, teacher-
# forced on llama.cpp's ids): at most 0.35 with the scalar kernels, 0.19
# with AVX-512, below the test's bound of 0.6.
Q05, S135 = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "smollm2-135m-instruct-q4_1.gguf"
KV_NEAR_TIES = {
    (Q05, "The capital of France is", "f16", "on"),
    (Q05, "Once upon a time", "f16", "off"),
    (Q05, "Once upon a time", "q8_0", "on"),
    (S135, "def fibonacci(n):", "f16", "off"),
    (S135, "def fibonacci(n):", "f16", "on"),
    (S135, "def fibonacci(n):", "q8_0", "on"),
    (S135, "The capital of France is", "q8_0", "on"),
    (S135, "Once upon a time", "f16", "on"),
    (S135, "Once upon a time", "q8_0", "on"),
    # since Q8_1 keeps sum(q) exact (llama.cpp rounds s = d*sum(q) to f16),
    # the scalar kernels take the other side of these: " answer" at
    # generated token 5 (gap 0.04), " New" at token 4 (llama.cpp -fa off:
    # " Nova"; every kernel set and llama.cpp setting lands on either side)
    (S135, "The capital of France is", "f16", "off"),
    (S135, "The capital of France is", "f16", "on"),
    (S135, "Once upon a time", "f16", "off"),
}
failed = 0


def report(ok, msg, detail=""):
    global failed
    failed += not ok
    print(("ok " if ok else "not ok ") + msg + ("" if ok or not detail else ": " + detail))
    sys.stdout.flush()


def tokenizer(path):
    """ember's tokenization of text by the file at path, as near_tie wants it."""
    def ids(text):
        r = subprocess.run([args.ember, "tokenize", "-m", path, "-p", text], capture_output=True, timeout=600)
        return token_ids(r.stdout)
    return ids


for name, m in ref["models"].items():
    path = m["path"]
    if not os.path.exists(path) or os.path.getsize(path) != m["size_bytes"]:
        print(f"SKIP {name}: not in models-cache/ (run scripts/get-models.sh)")
        continue
    for g in m["greedy"]:
        p = g["prompt"]
        r = subprocess.run([args.ember, "tokenize", "-m", path, "-p", p], capture_output=True, timeout=600)
        ids = [int(x) for x in re.findall(rb"-?\d+", r.stdout.split(b"\n")[0])]
        report(ids == g["prompt_tokens"], f"{name} tokens of {p!r}", f"got {ids} want {g['prompt_tokens']}")
        cmd = [args.ember, "run", "-m", path, "-p", p, "--temp", "0", "-n", str(g["n_predict"]),
               "-t", args.threads, "-c", "256", "-v"]
        # The scalar kernels round the same way on every machine, so the
        # exact-text check does not depend on the CPU (or on kernel tuning).
        r = subprocess.run(cmd, capture_output=True, timeout=1800, env=dict(os.environ, EMBER_ISA="scalar"))
        out = r.stdout.decode("utf-8", "replace")
        if r.returncode == 0 and out != g["text"] and (name, p) in NEAR_TIES:
            common = len(os.path.commonprefix([out, g["text"]]))
            print(f"SKIP {name} greedy 32 {p!r}: known near-tie, texts agree for {common} of {len(g['text'])} bytes;"
                  f" {gap_at(tokenizer(path), p, out, g['text'], r.stderr)}")
        else:
            report(r.returncode == 0 and out == g["text"], f"{name} greedy 32 {p!r}",
                   f"\n   got  {out!r}\n   want {g['text']!r}\n   {r.stderr.decode()[-300:]}")
        if args.v:
            sp = re.search(rb"generation (\d+) tokens ([0-9.]+) t/s", r.stderr)
            pp = re.search(rb"prompt (\d+) tokens ([0-9.]+) t/s", r.stderr)
            print(f"   ember tg {sp.group(2).decode() if sp else '?'} t/s, pp {pp.group(2).decode() if pp else '?'} t/s;"
                  f" llama.cpp tg {m['speed']['gen_tokens_per_s']} t/s")
    if "perplexity" in m:
        # llama-perplexity's figure (gemma3: -c 1024, past the sliding
        # window); ember's own kernels (the tolerance covers their rounding)
        pr = m["perplexity"]
        cmd = [args.ember, "perplexity", "-m", path, "-f", pr["text"], "-c", str(pr["ctx"]), "-t", args.threads]
        r = subprocess.run(cmd, capture_output=True, timeout=3600)
        got = re.search(rb"PPL = ([0-9.]+)", r.stdout + r.stderr)
        got = float(got.group(1)) if got else float("nan")
        rel = abs(got - pr["ppl"]) / pr["ppl"]
        report(r.returncode == 0 and rel <= 0.005,
               f"{name} perplexity -c {pr['ctx']} {got:.4f} vs llama.cpp {pr['ppl']} ({100 * rel:.3f}%)",
               r.stderr.decode()[-300:])


kv_path = os.path.join(os.path.dirname(args.ref), "real-models-kv-reference.json")
kv_ref = json.load(open(kv_path)) if os.path.exists(kv_path) else {"models": {}}
for name, m in kv_ref["models"].items():
    path = m["path"]
    if not os.path.exists(path) or os.path.getsize(path) != m["size_bytes"]:
        print(f"SKIP {name} KV cache types: not in models-cache/ (run scripts/get-models.sh)")
        continue
    texts = {}
    for g in m["greedy"]:
        p, ct, fa, rot = g["prompt"], g["cache_type"], g["flash_attn"], g["attn_rot"]
        if (p, ct) not in texts:
            cmd = [args.ember, "run", "-m", path, "-p", p, "--temp", "0", "-n", "32", "-t", args.threads,
                   "-c", "256", "-ctk", ct, "-ctv", ct, "-v"]
            r = subprocess.run(cmd, capture_output=True, timeout=1800, env=dict(os.environ, EMBER_ISA="scalar"))
            texts[(p, ct)] = (r.stdout.decode("utf-8", "replace") if r.returncode == 0 else None, r.stderr)
        out, err = texts[(p, ct)]
        what = (f"{name} {ct} cache vs llama.cpp -ctk {ct} -ctv {ct} -fa {fa}"
                f"{' (Hadamard rotation)' if rot == 'on' else ''}, greedy 32 {p!r}")
        if out is not None and out != g["text"] and rot == "on":
            print(f"SKIP {what}: ember does not rotate; parts at generated token {parting(tokenizer(path), p, out, g['text'])}")
        elif out is not None and out != g["text"] and (name, p, ct, fa) in KV_NEAR_TIES:
            print(f"SKIP {what}: known near-tie, {gap_at(tokenizer(path), p, out, g['text'], err)}")
        else:
            report(out == g["text"], what, f"\n   got  {out!r}\n   want {g['text']!r}")
sys.exit(1 if failed else 0)
