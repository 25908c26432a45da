#!/usr/bin/env python3
"""Write tests/data/models/gemma3-tiny-swa.gguf: a random-weight Gemma 3 with
every layer local (a sliding window of 4 positions), small enough for make
test, and record llama.cpp's perplexity on it.

The file: architecture gemma3, n_embd 32, 2 layers, 2 heads of 16, 1 KV
head, n_ff 32, sliding_window 4 with sliding_window_pattern 0 (llama.cpp:
every layer local), final_logit_softcapping 30 (Gemma 2's; the released
Gemma 3 files have none), rope.freq_base 1e6 (global layers: none here) and the
local layers' default base 10000, F16 matrices, F32 norms near 1 (Gemma's
1 + w as the converter stores it), tied output, and the tokenizer of
tests/data/models/stories260K.gguf (512 SentencePiece pieces, MIT) so that
llama.cpp can read text with it. Weights from numpy's default_rng(seed).

tests/test_gemma3.c uses it for the window's exact reach: with two local
layers of window 4, the token at position 0 reaches positions 0..6 and no
further. With --ref, llama.cpp's llama-perplexity on
tests/data/models/tinystory-eval.txt at -c 64 (-fa off) is written to
tests/data/models/gemma3-tiny-swa.json, which test_gemma3.c checks ember's
perplexity against (an independent implementation of the window).

    /root/.cache/ember/venv/bin/python scripts/make-gemma3-fixture.py [--ref LLAMA_BIN_DIR]

Needs the gguf and numpy packages.
"""
import argparse
import json
import os
import re
import shlex
import subprocess

import numpy as np
from gguf import GGUFWriter
from gguf_tokenizer import copy_tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests/data/models/gemma3-tiny-swa.gguf")
REF = os.path.join(ROOT, "tests/data/models/gemma3-tiny-swa.json")
TOK = os.path.join(ROOT, "tests/data/models/stories260K.gguf")
EVAL = "tests/data/models/tinystory-eval.txt"
E, L, H, HKV, HD, FF, WINDOW, CTX = 32, 2, 2, 1, 16, 32, 4, 64
SOFTCAP = 30.0


def write(seed):
    rng = np.random.default_rng(seed)
    w = GGUFWriter(OUT, "gemma3")
    w.add_name("gemma3 tiny random (ember test fixture)")
    a = "gemma3"
    w.add_uint32(f"{a}.context_length", 2048)
    w.add_uint32(f"{a}.embedding_length", E)
    w.add_uint32(f"{a}.block_count", L)
    w.add_uint32(f"{a}.feed_forward_length", FF)
    w.add_uint32(f"{a}.attention.head_count", H)
    w.add_uint32(f"{a}.attention.head_count_kv", HKV)
    w.add_uint32(f"{a}.attention.key_length", HD)
    w.add_uint32(f"{a}.attention.value_length", HD)
    w.add_float32(f"{a}.attention.layer_norm_rms_epsilon", 1e-6)
    w.add_float32(f"{a}.rope.freq_base", 1e6)
    w.add_uint32(f"{a}.attention.sliding_window", WINDOW)
    w.add_uint32(f"{a}.attention.sliding_window_pattern", 0)
    w.add_float32(f"{a}.final_logit_softcapping", SOFTCAP)
    n_vocab = copy_tokenizer(w, TOK)

    def mat(name, n_in, n_out):
        w.add_tensor(name, (rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)).astype(np.float16))

    def norm(name, n):
        w.add_tensor(name, (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32))

    w.add_tensor("token_embd.weight", (0.5 * rng.standard_normal((n_vocab, E))).astype(np.float16))
    norm("output_norm.weight", E)
    for l in range(L):
        p = f"blk.{l}."
        norm(p + "attn_norm.weight", E)
        mat(p + "attn_q.weight", E, H * HD)
        mat(p + "attn_k.weight", E, HKV * HD)
        mat(p + "attn_v.weight", E, HKV * HD)
        norm(p + "attn_q_norm.weight", HD)
        norm(p + "attn_k_norm.weight", HD)
        mat(p + "attn_output.weight", H * HD, E)
        norm(p + "post_attention_norm.weight", E)
        norm(p + "ffn_norm.weight", E)
        mat(p + "ffn_gate.weight", E, FF)
        mat(p + "ffn_up.weight", E, FF)
        mat(p + "ffn_down.weight", FF, E)
        norm(p + "post_ffw_norm.weight", E)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def reference(bindir):
    cmd = [os.path.join(bindir, "llama-perplexity"), "-m", OUT, "-f", os.path.join(ROOT, EVAL),
           "-c", str(CTX), "-b", str(CTX), "-t", "2", "-fa", "off"]
    p = subprocess.run(cmd, capture_output=True, text=True, check=True)
    m = re.search(r"Final estimate: PPL = ([\d.]+)", p.stdout + p.stderr)
    shown = shlex.join(["llama-perplexity"] + cmd[1:]).replace(OUT, os.path.relpath(OUT, ROOT))
    shown = shown.replace(os.path.join(ROOT, EVAL), EVAL)
    ver = subprocess.run([os.path.join(bindir, "llama-completion"), "--version"],
                         capture_output=True, text=True)
    ref = {"model": os.path.relpath(OUT, ROOT), "text": EVAL, "ctx": CTX, "ppl": float(m.group(1)),
           "command": shown, "llama_cpp": (ver.stdout + ver.stderr).strip(),
           "llama_cpp_source": "llama-cpp-python 0.3.36 sdist (llama.cpp@0c1e57098), "
                               "built by scripts/build-llamacpp.sh"}
    with open(REF, "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print(f"llama.cpp perplexity {ref['ppl']}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--ref", metavar="LLAMA_BIN_DIR")
    args = ap.parse_args()
    write(args.seed)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")
    if args.ref:
        reference(args.ref)


if __name__ == "__main__":
    main()
