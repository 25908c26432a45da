#!/usr/bin/env python3
"""Record llama.cpp's behaviour on the mixture-of-experts test models
(scripts/make-moe-model.py) as tests/data/models/moe-reference.json, in
the layout of reference.json so tests/check_reference.py --ref reads it:
per file its sha256 and size, per prompt the token ids (llama-tokenize)
and the greedy continuation of 32 tokens (llama-completion -fa off --temp 0,
two complete runs that agree, as make_real_refs.py does it), and the
perplexity of tinystory-eval.txt at context 128 (llama-perplexity -fa off).

    make_moe_refs.py --bin ~/.cache/ember/llama.cpp/build-0.3.36/bin \\
        [--data tests/data/models] [--out FILE] [FILE.gguf ...]
Needs the gguf package (make_real_refs.py's helpers).
"""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_real_refs as mr  # noqa: E402

MODELS = ["stories260K-moe-llama.gguf", "stories260K-qwen2moe.gguf", "stories260K-qwen3moe.gguf"]
PROMPTS = ["Once upon a time", "Lily and Tom went to the park. They", "The little dog"]
N_PREDICT = 32
# ember follows llama.cpp's non-flash-attention path
mr.GEN_ARGS = ["-n", str(N_PREDICT), "--temp", "0", "--top-k", "1", "-s", "42", "-t", "2",
               "-c", "256", "-no-cnv", "--no-warmup", "-fa", "off"]
mr.N_PREDICT = N_PREDICT


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="llama.cpp's bin/ (llama-completion, ...)")
    ap.add_argument("--data", default="tests/data/models")
    ap.add_argument("--out", default=None)
    ap.add_argument("models", nargs="*", default=MODELS)
    args = ap.parse_args()
    out = args.out or os.path.join(args.data, "moe-reference.json")
    eval_path = os.path.join(args.data, "tinystory-eval.txt")
    ref = {
        "llama_cpp": os.path.realpath(args.bin),
        "method": "greedy: llama-completion " + " ".join(mr.GEN_ARGS) + " --no-display-prompt "
                  "(two complete, agreeing runs); prompt_tokens: llama-tokenize --ids; "
                  "ppl_c128: llama-perplexity -f tinystory-eval.txt -c 128 -fa off -t 2",
        "models": {},
    }
    log = lambda s: print(s, file=sys.stderr)
    for name in args.models:
        path = os.path.join(args.data, name)
        log(f"{name}")
        m = {"sha256": mr.sha256(path), "size_bytes": os.path.getsize(path), "greedy": []}
        for p in PROMPTS:
            toks, _ = mr.tokenize(args.bin, path, p)
            g = mr.greedy(args.bin, path, (name, path), None, p, log)
            m["greedy"].append({"prompt": p, "prompt_tokens": toks, "n_predict": N_PREDICT,
                                "text": g["text"], "stopped_at_eos": g["stopped_at_eos"],
                                "session_tokens": g["session_tokens"], "command": g["command"]})
            log(f"  {p!r}: {g['text']!r}")
        cmd = [f"{args.bin}/llama-perplexity", "-m", path, "-f", eval_path, "-c", "128",
               "-fa", "off", "-t", "2"]
        for _ in range(5):  # its async log can drop the last lines
            so, se = mr.run(cmd)
            mm = re.search(r"Final estimate: PPL = ([0-9.]+)", se + so.decode())
            if mm:
                break
        else:
            raise SystemExit(f"{name}: no 'Final estimate' line in five runs")
        m["ppl_c128"] = float(mm.group(1))
        m["ppl_command"] = mr.show(cmd, args.bin, (name, path))
        log(f"  ppl_c128 {m['ppl_c128']}")
        ref["models"][name] = m
    with open(out, "w") as f:
        json.dump(ref, f, indent=1, ensure_ascii=False)
        f.write("\n")
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
