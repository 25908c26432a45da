#!/usr/bin/env python3
"""Record llama.cpp's greedy continuations of the real models in models-cache/
with each KV cache type, as tests/data/real-models-kv-reference.json, so that
ember's -ctk/-ctv caches are checked against llama.cpp's own (by
tests/check_real_models.py as text, by tests/test_greedy_follow.c token by
token with EMBER_REAL_MODELS=1) on machines without llama.cpp.

    scripts/make_kv_refs.py --bin DIR [--out FILE] MODEL.gguf...
    (DIR: llama.cpp's bin folder, from scripts/build-llamacpp.sh with
    LLAMACPP_TARGETS="llama-completion llama-tokenize")

Per model, prompt and cache setting of CONFIGS: llama-completion with the
same arguments scripts/make_real_refs.py uses (greedy, 32 tokens, -c 256,
-t 2) plus -ctk T -ctv T -fa on|off (llama.cpp needs flash attention for a
quantized V cache, so q8_0 runs with -fa on; f16 is recorded both ways).
For a quantized cache llama.cpp (this version) also rotates each head's
query, keys and values by a 64-wide Walsh-Hadamard matrix before they are
stored ("attn_rot", llama-kv-cache.cpp), which spreads the outliers of
models like Qwen2.5 over the whole row before Q8_0 rounds it; ember stores
rows as they are. So q8_0 is recorded both with llama.cpp's rotation (its
default, attn_rot "on") and without it (LLAMA_ATTN_ROT_DISABLE=1, attn_rot
"off": the same arithmetic as ember's q8_0 cache). Entries already in --out
are kept (the runs take minutes); delete the file to record all again.
Text and token ids are taken as make_real_refs.py takes them (its greedy():
two complete, agreeing runs; ids from the session file of an -n 33 run,
checked against the text, else llama-tokenize's tokenization of the text).
Keys of each entry come in the order the C test's JSON reader walks them:
prompt, cache_type, flash_attn, attn_rot, text, generated_tokens.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_real_refs as mr  # noqa: E402  (its helpers: one method for both files)

# (cache type, -fa, llama.cpp's Hadamard rotation): f16 is never rotated.
ENTRY_KEYS = ["prompt", "cache_type", "flash_attn", "attn_rot", "text", "generated_tokens",
              "generated_tokens_source", "stopped_at_eos", "command", "ids_command"]
CONFIGS = [("f16", "off", "off"), ("f16", "on", "off"), ("q8_0", "on", "on"), ("q8_0", "on", "off")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out", default="tests/data/real-models-kv-reference.json")
    ap.add_argument("--repo", default=os.getcwd())
    ap.add_argument("models", nargs="+")
    a = ap.parse_args()
    bindir = os.path.abspath(a.bin)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    version = mr.subprocess.run([f"{bindir}/llama-completion", "--version"], capture_output=True, text=True)
    ref = {
        "llama_cpp": {"version_output": (version.stdout + version.stderr).strip(),
                      "built_by": "scripts/build-llamacpp.sh (CPU only, Release, GGML_NATIVE=ON)"},
        "method": "llama-completion -m <model> -p <prompt> " + " ".join(mr.GEN_ARGS)
                  + " -ctk <cache_type> -ctv <cache_type> -fa <flash_attn> --no-display-prompt, with "
                  "LLAMA_ATTN_ROT_DISABLE=1 where attn_rot is off for a quantized cache (llama.cpp "
                  "otherwise rotates Q, K and V by a Walsh-Hadamard matrix for a quantized cache); "
                  "text and generated_tokens as in real-models-reference.json (see its 'method')",
        "models": {},
    }
    base_args = list(mr.GEN_ARGS)
    old = {}
    if os.path.exists(a.out):
        for name, m in json.load(open(a.out, encoding="utf-8"))["models"].items():
            for e in m["greedy"]:
                old[(name, e["prompt"], e["cache_type"], e["flash_attn"],
                     e.get("attn_rot", "off" if e["cache_type"] == "f16" else "on"))] = e
    for model in a.models:
        name = os.path.basename(model)
        g = mr.Gguf(model)
        rel = os.path.relpath(os.path.abspath(model), a.repo)
        entries = []
        for prompt in mr.PROMPTS:
            for ctype, fa, rot in CONFIGS:
                key = (name, prompt, ctype, fa, rot if ctype != "f16" else "off")
                if key in old:
                    old[key]["attn_rot"] = key[4]
                    entries.append({k: old[key][k] for k in ENTRY_KEYS if k in old[key]})
                    continue
                log(f"== {name} {prompt!r} {ctype} fa {fa} attn_rot {rot}")
                mr.GEN_ARGS = base_args + ["-ctk", ctype, "-ctv", ctype, "-fa", fa]
                if rot == "off" and ctype != "f16":
                    os.environ["LLAMA_ATTN_ROT_DISABLE"] = "1"
                else:
                    os.environ.pop("LLAMA_ATTN_ROT_DISABLE", None)
                r = mr.greedy(bindir, model, (rel, os.path.abspath(model)), g, prompt, log)
                prompt_ids, _ = mr.tokenize(bindir, model, prompt)
                sess = r["session_tokens"][len(prompt_ids):][:mr.N_PREDICT]
                det = g.detokenize(sess)
                if det is not None and det == r["text"].encode("utf-8"):
                    ids, source = sess, "session"
                else:
                    ids, _ = mr.tokenize(bindir, model, r["text"])
                    source = "retokenized_text"
                cmd = r["command"] if rot == "on" or ctype == "f16" else "LLAMA_ATTN_ROT_DISABLE=1 " + r["command"]
                entries.append({"prompt": prompt, "cache_type": ctype, "flash_attn": fa, "attn_rot": key[4],
                                "text": r["text"], "generated_tokens": ids,
                                "generated_tokens_source": source, "stopped_at_eos": r["stopped_at_eos"],
                                "command": cmd, "ids_command": r["ids_command"]})
        ref["models"][name] = {"path": rel, "size_bytes": os.path.getsize(model), "greedy": entries}
    mr.GEN_ARGS = base_args
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(ref, f, indent=1, ensure_ascii=False)
        f.write("\n")
    log(f"wrote {a.out}")


if __name__ == "__main__":
    main()
