#!/usr/bin/env python3
"""gen-template-refs.py - expected renders of real chat templates, by jinja2.

Renders every tests/data/templates/*.jinja (and the chat template inside
tests/data/vocab/ggml-vocab-phi-3.gguf) on each conversation of
tests/data/templates/conversations.json, with and without
add_generation_prompt, exactly as Hugging Face transformers'
apply_chat_template does: jinja2's ImmutableSandboxedEnvironment with
trim_blocks=True, lstrip_blocks=True, the loopcontrols extension and a
{% generation %} tag (transformers' AssistantTracker, inactive), the
globals raise_exception and strftime_now, and transformers' own tojson
filter (json.dumps with ensure_ascii=False, indent, separators, sort_keys);
render(messages=..., tools=... or None, documents=None,
add_generation_prompt=..., bos_token=..., eos_token=...). transformers
itself is not needed: this replicates its environment set-up
(src/transformers/utils/chat_template_utils.py, _compile_jinja_template and
render_jinja_template). strftime_now formats a fixed time, NOW (UTC), which
tests/test_templates.sh passes to ember as --now, so the expectations do not
depend on the day.

Writes tests/data/templates/expected.json: {case_id: {"template", "conv",
"gen", "bos", "eos", and "out" (the rendered text) or "error" (jinja2's
message)}}. Usage: python3 scripts/gen-template-refs.py [--check]
(--check renders again and exits 1 if expected.json differs). Needs jinja2
(pip install jinja2); deterministic.
"""
import datetime
import glob
import json
import os
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TDIR = os.path.join(ROOT, "tests", "data", "templates")
NOW = 1741948200  # 2025-03-14 10:30:00 UTC

# BOS/EOS token texts of each model family (from the models' tokenizer
# configs); the default is SentencePiece's.
TOKENS = {
    "Qwen": ("", "<|im_end|>"),
    "meta-llama": ("<|begin_of_text|>", "<|eot_id|>"),
    "NousResearch": ("<|begin_of_text|>", "<|im_end|>"),
    "google-gemma": ("<bos>", "<eos>"),
    "HuggingFaceTB": ("", "<|im_end|>"),
    "deepseek-ai": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    "microsoft": ("<s>", "<|endoftext|>"),
    "mistralai": ("<s>", "</s>"),
}


def tokens_for(name):
    for prefix, toks in TOKENS.items():
        if name.startswith(prefix):
            return toks
    return ("<s>", "</s>")


class Generation(jinja2.ext.Extension):
    """transformers' AssistantTracker, inactive as in apply_chat_template
    without return_assistant_tokens_mask: {% generation %} renders its body."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

    def _body(self, caller):
        return caller()


def environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def strftime_now(fmt):
        return datetime.datetime.fromtimestamp(NOW, datetime.timezone.utc).strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[Generation, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render(env, text, conv, gen, bos, eos):
    """The rendered text, or an "error" marker with jinja2's message."""
    try:
        t = env.from_string(text)
        return {"out": t.render(messages=conv["messages"], tools=conv.get("tools"), documents=None,
                                add_generation_prompt=gen, bos_token=bos, eos_token=eos)}
    except Exception as e:  # any failure is an expected failure for ember too
        return {"error": "%s: %s" % (type(e).__name__, e)}


def gguf_template(path):
    """(template text, bos text, eos text) of a GGUF file, or None."""
    import gguf
    r = gguf.GGUFReader(path)
    f = r.fields.get("tokenizer.chat_template")
    if not f:
        return None
    text = bytes(f.parts[f.data[0]]).decode()
    toks = r.fields["tokenizer.ggml.tokens"]

    def piece(key):
        g = r.fields.get(key)
        return bytes(toks.parts[toks.data[int(g.parts[g.data[0]][0])]]).decode() if g else ""
    return text, piece("tokenizer.ggml.bos_token_id"), piece("tokenizer.ggml.eos_token_id")


def sources():
    """(name, template text, bos, eos, how ember gets it) for every template."""
    out = []
    for path in sorted(glob.glob(os.path.join(TDIR, "*.jinja"))):
        name = os.path.basename(path)
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
        bos, eos = tokens_for(name)
        out.append((name, text, bos, eos, "file"))
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "data", "vocab", "*.gguf"))):
        t = gguf_template(path)
        if t:
            out.append((os.path.relpath(path, ROOT), t[0], t[1], t[2], "gguf"))
    return out


def all_cases():
    with open(os.path.join(TDIR, "conversations.json"), encoding="utf-8") as f:
        convs = json.load(f)
    env = environment()
    cases = {}
    for name, text, bos, eos, how in sources():
        for cname, conv in convs.items():
            for gen in (True, False):
                cid = "%s %s %s" % (name, cname, "gen" if gen else "nogen")
                c = {"template": name, "source": how, "conv": cname, "gen": gen, "bos": bos, "eos": eos}
                c.update(render(env, text, conv, gen, bos, eos))
                cases[cid] = c
    return cases


def main():
    cases = all_cases()
    path = os.path.join(TDIR, "expected.json")
    text = json.dumps(cases, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if "--check" in sys.argv:
        with open(path, encoding="utf-8") as f:
            same = f.read() == text
        print("expected.json is %s" % ("current" if same else "STALE"))
        return 0 if same else 1
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    errs = sum("error" in c for c in cases.values())
    print("%d cases (%d where jinja2 raises) written to %s" % (len(cases), errs, path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
