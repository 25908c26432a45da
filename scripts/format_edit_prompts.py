#!/usr/bin/env python3
"""Turn the code-editing prompt set (scripts/data/edit-prompts.jsonl: id,
lang, instruction, code) into raw ChatML prompt files, one per prompt, for
scripts/bench-speculative.sh.

Why raw ChatML and not each tool's chat option: ember and llama.cpp must see
the same token sequence, and the simplest way to be sure of that is to give
both the same already-templated text (special tokens parsed, escapes off).
The text is what Qwen2.5(-Coder)'s own chat template renders for one user
message with the default system prompt and add_generation_prompt; with
--check-template GGUF that is verified by rendering the GGUF's
tokenizer.chat_template with jinja2 (needs the gguf and jinja2 packages).

    format_edit_prompts.py [--check-template MODEL.gguf] PROMPTS.jsonl OUTDIR

Writes OUTDIR/<id>.txt (the exact prompt bytes, ending in "assistant\\n")
and prints the ids in order, one per line. Stdlib only unless checking.
"""
import argparse
import json
import os
import sys

SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."


def user_message(p):
    """The user turn: the instruction, then the code in a fenced block."""
    return f"{p['instruction']}\n\n```{p['lang']}\n{p['code']}```"


def chatml(p):
    return (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n"
            f"<|im_start|>user\n{user_message(p)}<|im_end|>\n"
            f"<|im_start|>assistant\n")


def load(path):
    prompts = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            p = json.loads(line)
            for k in ("id", "lang", "instruction", "code"):
                if not isinstance(p.get(k), str) or not p[k]:
                    sys.exit(f"{path}:{n}: missing field {k!r}")
            if not p["id"].replace("-", "").isalnum():
                sys.exit(f"{path}:{n}: id {p['id']!r} is not [A-Za-z0-9-]")
            prompts.append(p)
    if len({p["id"] for p in prompts}) != len(prompts):
        sys.exit(f"{path}: duplicate ids")
    return prompts


def check_template(gguf_path, prompts):
    """Render the model's own chat template and compare with chatml()."""
    from gguf import GGUFReader
    import jinja2
    r = GGUFReader(gguf_path)
    f = r.fields["tokenizer.chat_template"]
    src = bytes(f.parts[f.data[0]]).decode()
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    tmpl = env.from_string(src)
    for p in prompts:
        want = tmpl.render(messages=[{"role": "user", "content": user_message(p)}],
                           add_generation_prompt=True, tools=None)
        if want != chatml(p):
            sys.exit(f"{p['id']}: raw ChatML differs from {gguf_path}'s chat template")
    print(f"chat template check: {len(prompts)} prompts equal {os.path.basename(gguf_path)}'s "
          "template rendering", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check-template", metavar="GGUF")
    ap.add_argument("prompts")
    ap.add_argument("outdir")
    a = ap.parse_args()
    prompts = load(a.prompts)
    if a.check_template:
        check_template(a.check_template, prompts)
    os.makedirs(a.outdir, exist_ok=True)
    for p in prompts:
        with open(os.path.join(a.outdir, p["id"] + ".txt"), "w", encoding="utf-8", newline="") as f:
            f.write(chatml(p))
        print(p["id"])


if __name__ == "__main__":
    main()
