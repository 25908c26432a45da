#!/usr/bin/env bash
# Real chat templates (tests/data/templates/*.jinja, and the one inside
# tests/data/vocab/ggml-vocab-phi-3.gguf) rendered by `ember template` on
# each conversation of conversations.json, with and without the generation
# prompt, compared byte for byte with what jinja2 renders with Hugging Face
# transformers' settings (scripts/gen-template-refs.py wrote expected.json).
# Where jinja2 raises, ember must fail too (exit 1, one error line). When
# jinja2 is importable, every case is also rendered live, so expected.json
# cannot drift from jinja2. Then the CLI's own behaviour: built-ins, errors.
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib.sh

python3 - "$E" "$T" <<'PY'
import json, os, subprocess, sys
ember, tmp = sys.argv[1], sys.argv[2]
D = "tests/data/templates"
cases = json.load(open(os.path.join(D, "expected.json"), encoding="utf-8"))
convs = json.load(open(os.path.join(D, "conversations.json"), encoding="utf-8"))
live = None
try:
    import importlib.util
    spec = importlib.util.spec_from_file_location("gen", "scripts/gen-template-refs.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    live = gen.all_cases()
except ImportError as e:
    print("SKIP live jinja2 re-render: %s (comparing with the stored expected.json only)" % e)
for name, conv in convs.items():
    with open(os.path.join(tmp, name + ".json"), "w", encoding="utf-8") as f:
        json.dump(conv, f, ensure_ascii=False)
ok = bad = 0
for cid in sorted(cases):
    c = cases[cid]
    if live is not None and live.get(cid) != c:
        print("not ok %s: expected.json differs from jinja2 now (run scripts/gen-template-refs.py)" % cid)
        bad += 1
        continue
    src = ["-m", c["template"]] if c["source"] == "gguf" else ["--chat-template", os.path.join(D, c["template"])]
    cmd = [ember, "template", *src, "--messages", os.path.join(tmp, c["conv"] + ".json"),
           "--bos", c["bos"], "--eos", c["eos"], "--now", str(gen.NOW if live is not None else 1741948200)]
    if not c["gen"]:
        cmd.append("--no-generation-prompt")
    r = subprocess.run(cmd, capture_output=True, timeout=20)
    err = r.stderr.decode(errors="replace").strip()
    if "error" in c:
        good = r.returncode == 1 and not r.stdout and err.startswith("ember: error:") and len(err.splitlines()) == 1
        why = "jinja2 raises (%s); ember: exit %d, %s" % (c["error"][:80], r.returncode, err[:120])
    else:
        want = c["out"].encode()
        good = r.returncode == 0 and r.stdout == want
        why = "exit %d, %s" % (r.returncode, err[:200])
        if r.returncode == 0 and not good:
            got = r.stdout
            i = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]), min(len(got), len(want)))
            why = "differs at byte %d: jinja2 %r, ember %r" % (i, want[max(0, i - 20):i + 40], got[max(0, i - 20):i + 40])
    print(("ok %s: %s" % (cid, "fails as jinja2 does" if "error" in c else "%d bytes identical" % len(c["out"])))
          if good else "not ok %s: %s" % (cid, why))
PY

# Every template llama.cpp keeps (about 70 models'), when its source is in
# the cache scripts/build-llamacpp.sh fills and jinja2 is here: rendered
# live by both on the same conversations, one line per template.
LT=$(ls -d "${EMBER_CACHE:-$HOME/.cache/ember}"/llama.cpp/src-*/vendor/llama.cpp/models/templates 2>/dev/null | tail -1)
if [ -z "$LT" ]; then
    echo "SKIP llama.cpp's template collection: no llama.cpp source under \${EMBER_CACHE:-~/.cache/ember} (scripts/build-llamacpp.sh fetches it)"
elif ! python3 -c 'import jinja2' 2>/dev/null; then
    echo "SKIP llama.cpp's template collection: jinja2 is not installed"
else
    python3 - "$E" "$T" "$LT" <<'PY'
import glob, importlib.util, json, os, subprocess, sys
ember, tmp, tdir = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("gen", "scripts/gen-template-refs.py")
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)
env = gen.environment()
convs = json.load(open("tests/data/templates/conversations.json", encoding="utf-8"))
for path in sorted(glob.glob(os.path.join(tdir, "*.jinja"))):
    text = open(path, encoding="utf-8", newline="").read()
    bad = None
    for cname, conv in convs.items():
        for g in (True, False):
            want = gen.render(env, text, conv, g, "<s>", "</s>")
            cmd = [ember, "template", "--chat-template", path, "--messages", os.path.join(tmp, cname + ".json"),
                   "--bos", "<s>", "--eos", "</s>", "--now", str(gen.NOW)] + ([] if g else ["--no-generation-prompt"])
            r = subprocess.run(cmd, capture_output=True, timeout=20)
            same = r.returncode == 1 if "error" in want else r.returncode == 0 and r.stdout == want["out"].encode()
            if not same and not bad:
                bad = "%s %s: jinja2 %s, ember exit %d %s" % (cname, "gen" if g else "nogen",
                      want.get("error", "renders")[:80], r.returncode, r.stderr.decode(errors="replace")[:120].strip())
    name = os.path.basename(path)
    print("ok llama.cpp template %s: %d renders as jinja2's" % (name, 2 * len(convs)) if not bad else "not ok llama.cpp template %s: %s" % (name, bad))
PY
fi

# the CLI around the engine
out=$($E template --chat-template chatml --no-generation-prompt 2>"$T/err")
want=$'<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\nHi there! How can I help you today?<|im_end|>\n<|im_start|>user\nTell me a joke.<|im_end|>'
[ "$out" = "$want" ] && ok "built-in chatml on the example conversation" || bad "built-in chatml: [$out] $(cat "$T/err")"
n=$($E template --list | wc -l)
all=1
for name in $($E template --list); do
    $E template --chat-template "$name" >/dev/null 2>"$T/err" || all=0
done
[ "$n" -ge 6 ] && [ "$all" = 1 ] && ok "--list names $n built-ins, each renders" || bad "built-ins: $n listed, all render: $all"
printf '[{"role":"user","content":"hi"}]' | $E template --chat-template llama3 --messages - --bos B >"$T/out"
printf 'B<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n' >"$T/want"
cmp -s "$T/out" "$T/want" &&
    ok "--messages - reads stdin, --bos is bos_token" || bad "stdin messages: $(cat "$T/out")"
$E template -m tests/data/vocab/ggml-vocab-phi-3.gguf >"$T/out" 2>"$T/err"
head -c 3 "$T/out" | grep -q '<s>' && grep -q '<|user|>' "$T/out" && ok "-m uses the GGUF's template and its BOS text" || bad "-m phi-3: $(head -c 200 "$T/out") $(cat "$T/err")"
printf '{{ strftime_now("%%Y-%%m-%%d") }}' >"$T/date.jinja"
[ "$($E template --chat-template "$T/date.jinja" --now 0)" = "1970-01-01" ] && ok "--now fixes strftime_now" || bad "--now"
# Gemma 3: the GGUF scripts/get-models.sh fetches is the base model, whose
# metadata has no chat template, and an architecture ember does not run; its
# vocabulary (262144 SentencePiece pieces) still gives bos_token, so the
# template the instruct models carry renders as jinja2 does with "<bos>".
G3=models-cache/gemma3-270m-q4_k_m.gguf
if [ -f "$G3" ]; then
    python3 - "$E" "$T" "$G3" <<'PY'
import json, subprocess, sys
ember, tmp, g3 = sys.argv[1:4]
c = json.load(open("tests/data/templates/expected.json", encoding="utf-8"))["google-gemma-3-1b-it.jinja parts gen"]
r = subprocess.run([ember, "template", "-m", g3, "--chat-template", "tests/data/templates/google-gemma-3-1b-it.jinja",
                    "--messages", tmp + "/parts.json", "--now", "1741948200"], capture_output=True, timeout=60)
good = r.returncode == 0 and r.stdout == c["out"].encode() and c["bos"] == "<bos>"
print("ok gemma3 GGUF: its vocabulary's <bos> and the Gemma 3 template render as jinja2's (%d bytes)" % len(r.stdout)
      if good else "not ok gemma3 GGUF: exit %d, %r" % (r.returncode, (r.stdout + r.stderr)[:300]))
PY
    expect 1 "gemma3 base model: no chat template in its metadata" $E template -m "$G3"
else
    echo "SKIP gemma3 GGUF: not in models-cache/ (scripts/get-models.sh gemma3-270m-q4_k_m)"
fi
expect 1 "model without a chat template" $E template -m "$M"
grep -q "no chat template" "$T/err" && ok "the missing template is named" || bad "missing template message: $(cat "$T/err")"
expect 2 "neither -m nor --chat-template" $E template
expect 2 "unknown flag" $E template --chat-template chatml --bogus
expect 2 "--now not a number" $E template --chat-template chatml --now soon
expect 1 "missing template file" $E template --chat-template "$T/nope.jinja"
printf '{%% for x in %%}' >"$T/bad.jinja"
expect 1 "syntax error in the template" $E template --chat-template "$T/bad.jinja"
grep -q "line 1" "$T/err" && ok "syntax errors name the line" || bad "syntax error: $(cat "$T/err")"
printf '{{ raise_exception("no way") }}' >"$T/raise.jinja"
expect 1 "raise_exception" $E template --chat-template "$T/raise.jinja"
grep -q "no way" "$T/err" && ok "raise_exception's message is shown" || bad "raise message: $(cat "$T/err")"
printf '[{"role":"user","content":"hi"},]' >"$T/m.json"
expect 1 "malformed messages JSON" $E template --chat-template chatml --messages "$T/m.json"
grep -q "byte 32" "$T/err" && ok "JSON errors give the byte offset" || bad "JSON error: $(cat "$T/err")"
printf '{"role":"user"}' >"$T/m.json"
expect 1 "messages not a list" $E template --chat-template chatml --messages "$T/m.json"
printf '{%% for i in range(99999) %%}{%% for j in range(99999) %%}{%% endfor %%}{%% endfor %%}' >"$T/loop.jinja"
expect 1 "a template that loops for ever stops" $E template --chat-template "$T/loop.jinja"
