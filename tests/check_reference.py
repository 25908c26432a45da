#!/usr/bin/env python3
"""Acceptance checks of ember against llama.cpp's recorded outputs.

Reads tests/data/models/reference.json (made by llama.cpp at the commit it
names), or with --ref dense-reference.json the qwen3/phi3/sliding-window
files' (scripts/make_dense_refs.py: llama.cpp 0.3.36, and transformers'
Mistral for the sliding window, which llama.cpp ignores for llama), and, for
every model file and prompt, checks that
  - `ember tokenize` gives llama.cpp's prompt_tokens,
  - `ember run --temp 0 -n 48` with the scalar reference kernels
    (EMBER_ISA=scalar: the same float rounding on every machine) prints
    exactly llama.cpp's greedy text, at each thread count given by --threads,
  - with the best kernel set, the text does not depend on the thread count
    (test_greedy_follow bounds how it may differ from the scalar text),
  - `ember perplexity -c 128` is within 0.5% of llama.cpp's ppl_c128.
Prints one "ok ..." / "not ok ..." line per check (tests/run.sh counts them).
"""
import argparse
import json
import os
import re
import subprocess
import sys

from near_tie import gap_at, token_ids

ap = argparse.ArgumentParser()
ap.add_argument("--ember", default=os.environ.get("EMBER", "./ember"))
ap.add_argument("--data", default="tests/data/models")
ap.add_argument("--ref", default="reference.json",
                help="in --data: reference.json (stories260K), dense-reference.json "
                     "(qwen3, phi3, sliding window; greedy entries may name a context "
                     "'ctx', perplexities are ppl_c<CTX>) or moe-reference.json")
ap.add_argument("--threads", default="1,2")
ap.add_argument("--skip-ppl", action="store_true")
args = ap.parse_args()

ref = json.load(open(os.path.join(args.data, args.ref)))

# Greedy runs (scalar kernels) where llama.cpp and ember part at a single
# near-tie (top-2 logits within 0.07): llama.cpp keeps K/V in F16 and
# accumulates attention in F16, ember in F32, and their kernels round
# differently. Teacher-forced,
# every other token is ember's argmax (asserted by test_greedy_follow). These
# exact-text checks print SKIP with the reason; all others must match exactly.
NEAR_TIES = {
    ("stories260K-Q4_0.gguf", "Lily and Tom went to the park. They"),
    ("stories260K-Q4_0.gguf", "The little dog"),
    ("stories260K-Q4_1.gguf", "The little dog"),
    # since Q8_1 keeps sum(q) exact (llama.cpp rounds s = d*sum(q) to f16):
    # " toys" over " friends" at generated token 23, top-2 gap 0.070
    ("stories260K-Q4_1.gguf", "Once upon a time"),
    ("stories260K-Q5_0.gguf", "The little dog"),
    ("stories260K-Q5_1.gguf", "Once upon a time"),
    # moe-reference.json: the scalar kernels part from llama.cpp (and from
    # the SIMD sets, which follow llama.cpp exactly) at a near-tie
    ("stories260K-qwen3moe.gguf", "Lily and Tom went to the park. They"),
}
failed = 0


def tokenizer(path):
    """ember's tokenization of text by the file at path, as near_tie wants it."""
    return lambda text: token_ids(ember("tokenize", "-m", path, "-p", text).stdout)


def report(ok, msg, detail=""):
    global failed
    if ok:
        print("ok " + msg)
    else:
        failed += 1
        print("not ok " + msg + (": " + detail if detail else ""))
    sys.stdout.flush()


def ember(*a, isa=None):
    env = dict(os.environ)
    env.pop("EMBER_ISA", None)
    if isa:
        env["EMBER_ISA"] = isa
    return subprocess.run([args.ember, *a], capture_output=True, timeout=600, env=env)


for name, m in ref["models"].items():
    path = os.path.join(args.data, name)
    for g in m["greedy"]:
        p = g["prompt"]
        r = ember("tokenize", "-m", path, "-p", p)
        ids = [int(x) for x in re.findall(rb"-?\d+", r.stdout.split(b"\n")[0])]
        report(r.returncode == 0 and ids == g["prompt_tokens"], f"{name} tokens of {p!r}",
               f"got {ids} want {g['prompt_tokens']} {r.stderr.decode()[:200]}")
        ctx = ["-c", str(g["ctx"])] if "ctx" in g else []
        tag = f" -c {g['ctx']}" if ctx else ""
        best = set()
        for t in args.threads.split(","):
            r = ember("run", "-m", path, "-p", p, "--temp", "0", "-n", str(g["n_predict"]), "-t", t, *ctx)
            best.add(r.stdout)
        report(len(best) == 1, f"{name} best kernel set: same text for -t {args.threads}{tag} {p!r}")
        for t in args.threads.split(","):
            r = ember("run", "-m", path, "-p", p, "--temp", "0", "-n", str(g["n_predict"]), "-t", t, "-v",
                      *ctx, isa="scalar")
            out = r.stdout.decode("utf-8", "replace")
            if r.returncode == 0 and out != g["text"] and (name, p) in NEAR_TIES:
                common = len(os.path.commonprefix([out, g["text"]]))
                print(f"SKIP {name} greedy (scalar) -t {t} {p!r}: known near-tie, texts agree for {common} bytes,"
                      f" {gap_at(tokenizer(path), p, out, g['text'], r.stderr)} (test_greedy_follow bounds it)")
                continue
            report(r.returncode == 0 and out == g["text"], f"{name} greedy (scalar) -t {t}{tag} {p!r}",
                   f"rc {r.returncode}\n   got  {out!r}\n   want {g['text']!r}\n   {r.stderr.decode()[:300]}")
    if args.skip_ppl:
        continue
    for key in sorted(k for k in m if re.fullmatch(r"ppl_c\d+", k)):
        c = key[5:]
        r = ember("perplexity", "-m", path, "-f", os.path.join(args.data, "tinystory-eval.txt"), "-c", c)
        mm = re.search(rb"PPL = ([0-9.]+)", r.stdout)
        want = m[key]
        got = float(mm.group(1)) if mm else float("nan")
        rel = abs(got - want) / want if mm else float("inf")
        src = "transformers" if "transformers" in m.get("source", "") else "llama.cpp"
        report(r.returncode == 0 and rel <= 0.005,
               f"{name} perplexity c{c} {got:.4f} vs {src} {want} ({100*rel:.3f}%)", r.stderr.decode()[-300:])

sys.exit(1 if failed else 0)
