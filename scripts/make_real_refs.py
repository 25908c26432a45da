#!/usr/bin/env python3
"""Record llama.cpp's behaviour on the real models in models-cache/ as
tests/data/real-models-reference.json: prompt token ids, the greedy
continuation (text and token ids), generation speed, and, for qwen2 models,
whether llama.cpp's tokenizer reproduces llama.cpp's own qwen2 vocab test
cases (shared/vocab/no-gguf/ggml-vocab-qwen2.gguf.inp/.out).

Driven by scripts/make-real-refs.sh, which builds llama.cpp first:
    make_real_refs.py --bin DIR --out FILE [--vocab-dir DIR] MODEL.gguf...

Method (also written into the JSON):
  * text: llama-completion ... --no-display-prompt; stdout is exactly the
    generated pieces followed by "\\n\\n" (plus " [end of text]\\n" before it on
    EOS).  llama.cpp's logger is asynchronous and has been seen to drop the
    stdout tail at exit, so a run counts only if complete, and two runs must
    agree.
  * generated token ids: the same command with -n N+1 and --prompt-cache FILE
    --prompt-cache-all; the session file holds every token that was decoded
    (prompt + first N generated; the last sampled token is never decoded).
    The ids are checked by detokenizing them with the GGUF vocabulary and
    comparing with the text bytes.
"""
import argparse
import hashlib
import json
import os
import platform
import re
import shlex
import statistics
import struct
import subprocess
import sys
import tempfile
import time

from gguf import GGUFReader, GGUFValueType

PROMPTS = ["def fibonacci(n):", "The capital of France is", "Once upon a time"]
N_PREDICT = 32
THREADS = 2
GEN_ARGS = ["-n", str(N_PREDICT), "--temp", "0", "--top-k", "1", "-s", "42",
            "-t", str(THREADS), "-c", "256", "-no-cnv", "--no-warmup"]
ARCHS = ("llama", "qwen2", "gemma3")
# Per architecture: extra llama-completion flags (gemma3: the non-flash
# attention path, which ember follows) and the perplexity reference, if any:
# llama-perplexity on tests/data/models/tinystory-eval.txt with a context of
# ctx (gemma3: 1024, longer than its 512-position sliding window, so that the
# local layers' window is exercised on the scored second half of each chunk).
ARCH_GEN_ARGS = {"gemma3": ["-fa", "off"]}
ARCH_PPL_CTX = {"gemma3": 1024}
PPL_TEXT = "tests/data/models/tinystory-eval.txt"
SPEED_METHOD = ("speed.gen_tokens_per_s: median of 3 runs of speed.command, as "
    "llama-completion's own 'eval time' line reports it (common_perf_print: "
    "31 single-token decodes after the prompt, -t 2); speed.bench: "
    "llama-bench -t 2 -p 64 -n 32 -r 5. Measured once the 1-minute load "
    "average was below 0.8 (or after waiting 180 s): the machine has 2 "
    "cores and is shared with other work, so loadavg is recorded. "
    "'make-real-refs.sh --speed-only' re-measures just these and keeps the "
    "new entry only where llama-bench's tg32 is faster than the stored one "
    "(other work only ever slows a run down), unless EMBER_SPEED_REPLACE=1.")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Gguf:
    """The bits of a GGUF header the reference needs."""

    def __init__(self, path):
        r = GGUFReader(path)
        self.r = r
        self.arch = self.val("general.architecture")
        types = {}
        for t in r.tensors:
            types[t.tensor_type.name] = types.get(t.tensor_type.name, 0) + 1
        self.tensor_types = types
        self.per_role = {}
        for t in r.tensors:
            role = t.name.split(".", 2)[2] if t.name.startswith("blk.") else t.name
            d = self.per_role.setdefault(role, {})
            d[t.tensor_type.name] = d.get(t.tensor_type.name, 0) + 1
        self.n_params = sum(int(t.n_elements) for t in r.tensors)
        f = r.fields["tokenizer.ggml.tokens"]
        self.tokens = [bytes(f.parts[i]).decode("utf-8") for i in f.data]
        f = r.fields["tokenizer.ggml.token_type"]
        self.token_type = [int(f.parts[i][0]) for i in f.data]

    def val(self, key):
        f = self.r.fields.get(key)
        if f is None:
            return None
        t = f.types[0]
        if t == GGUFValueType.STRING:
            return bytes(f.parts[f.data[0]]).decode()
        if t == GGUFValueType.ARRAY:
            return len(f.data)
        v = f.parts[f.data[0]].tolist()[0]
        return float(v) if isinstance(v, float) else v

    def summary(self):
        a = self.arch
        keys = ["general.architecture", "general.name", "general.basename",
                "general.finetune", "general.size_label", "general.file_type",
                f"{a}.block_count", f"{a}.embedding_length",
                f"{a}.feed_forward_length", f"{a}.attention.head_count",
                f"{a}.attention.head_count_kv", f"{a}.context_length",
                f"{a}.rope.freq_base", f"{a}.attention.layer_norm_rms_epsilon",
                "tokenizer.ggml.model", "tokenizer.ggml.pre",
                "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                "tokenizer.ggml.add_bos_token"]
        meta = {k: self.val(k) for k in keys}
        meta["n_vocab"] = len(self.tokens)
        meta["has_output_weight"] = any(t.name == "output.weight" for t in self.r.tensors)
        meta["n_tensors"] = len(self.r.tensors)
        meta["n_params"] = self.n_params
        meta["tensor_types"] = self.tensor_types
        meta["tensor_types_per_role"] = self.per_role
        return meta

    def detokenize(self, ids):
        """llama.cpp's token_to_piece with special=false, for gpt2-style BPE
        and SentencePiece ('llama': U+2581 is a space, <0xXX> pieces of type
        6 are bytes; no leading space is dropped, as when generating)."""
        model = self.val("tokenizer.ggml.model")
        if model == "llama":
            out = bytearray()
            for i in ids:
                tt = self.token_type[i]
                s = self.tokens[i]
                if tt == 3:
                    continue
                if tt == 6:
                    out.append(int(s[3:-1], 16))
                elif tt == 4:
                    out += s.encode()
                else:
                    out += s.replace("\u2581", " ").encode()
            return bytes(out)
        if model != "gpt2":
            return None
        inv = {c: b for b, c in _bytes_to_unicode().items()}
        out = bytearray()
        for i in ids:
            tt = self.token_type[i]
            if tt == 3:          # control: rendered as nothing
                continue
            s = self.tokens[i]
            if tt == 4:          # user defined: verbatim
                out += s.encode()
            else:
                out += bytes(inv[c] for c in s)
        return bytes(out)


def _bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def run(cmd, stdin=None):
    p = subprocess.run(cmd, input=stdin, capture_output=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr.decode(errors="replace")[-3000:])
        raise SystemExit(f"failed ({p.returncode}): {shlex.join(cmd)}")
    return p.stdout, p.stderr.decode(errors="replace")


def show(cmd, bindir, model_rel):
    """The command as a user would type it (tool name, repo-relative model)."""
    out = []
    for a in cmd:
        if a.startswith(bindir + "/"):
            a = a[len(bindir) + 1:]
        out.append(a)
    s = shlex.join(out)
    return s.replace(shlex.quote(model_rel[1]), model_rel[0])


PERF = re.compile(r"(prompt eval|eval) time =\s*([\d.]+) ms /\s*(\d+) (?:tokens|runs)"
                  r".*?([\d.]+) tokens per second")


def parse_perf(stderr):
    res = {}
    for m in PERF.finditer(stderr):
        key = "prompt" if m.group(1) == "prompt eval" else "gen"
        res[key] = {"ms": float(m.group(2)), "n": int(m.group(3)),
                    "tokens_per_s": float(m.group(4))}
    return res


def tokenize(bindir, model, text, extra=()):
    cmd = [f"{bindir}/llama-tokenize", "-m", model, "--ids", "--log-disable", *extra]
    if "--stdin" in extra:
        out, _ = run(cmd, stdin=text.encode())
    else:
        out, _ = run(cmd + ["-p", text])
    line = out.decode().strip().splitlines()[-1]
    return json.loads(line), cmd


def read_session_tokens(path):
    with open(path, "rb") as f:
        magic, version, n = struct.unpack("<III", f.read(12))
        if magic != 0x6767736E:
            raise SystemExit(f"{path}: not a llama.cpp session file")
        return list(struct.unpack(f"<{n}i", f.read(4 * n)))


def gen_args(g):
    return GEN_ARGS + ARCH_GEN_ARGS.get(g.arch, [])


def greedy(bindir, model, model_rel, g, prompt, log):
    base = [f"{bindir}/llama-completion", "-m", model, "-p", prompt, *gen_args(g)]
    cmd = base + ["--no-display-prompt"]
    outs, perfs = [], []
    for attempt in range(8):
        out, err = run(cmd)
        if not out.endswith(b"\n\n"):
            log(f"    incomplete stdout (attempt {attempt}), retrying")
            continue
        outs.append(out)
        perfs.append(parse_perf(err))
        if len(outs) >= 2 and outs[-1] == outs[-2]:
            break
    else:
        raise SystemExit(f"no two complete, agreeing runs for {prompt!r}")
    stdout = outs[-1]
    body = stdout[:-2]
    eos = body.endswith(b" [end of text]\n")
    if eos:
        body = body[: -len(b" [end of text]\n")]
    text = body.decode("utf-8")

    # Same run echoing the prompt: must be prompt + text (BPE: no space prefix).
    out, _ = run(base)
    with_prompt = out.decode("utf-8", errors="replace")

    # Token ids through the session file of an N+1 run.
    with tempfile.TemporaryDirectory() as td:
        sess = os.path.join(td, "session.bin")
        idcmd = list(base)
        idcmd[idcmd.index("-n") + 1] = str(N_PREDICT + 1)
        idcmd += ["--no-display-prompt", "--prompt-cache", sess, "--prompt-cache-all"]
        run(idcmd)
        toks = read_session_tokens(sess)
    return {
        "stdout": stdout.decode("utf-8"), "text": text, "stopped_at_eos": eos,
        "stdout_with_prompt": with_prompt, "session_tokens": toks,
        "perf_runs": perfs, "command": show(cmd, bindir, model_rel),
        "ids_command": show(idcmd, bindir, model_rel).replace(sess, "SESSION.bin"),
    }


def vocab_test(bindir, model, inp, outp):
    raw = open(inp, "rb").read().decode("utf-8")
    sep = "\n__ggml_vocab_test__\n"
    cases, pos = [], 0
    while pos < len(raw):
        nxt = raw.find(sep, pos)
        if nxt < 0:
            cases.append(raw[pos:])
            break
        cases.append(raw[pos:nxt])
        pos = nxt + len(sep)
    expect = [[int(x) for x in line.split()] for line in
              open(outp, encoding="utf-8").read().split("\n")[: len(cases)]]
    # As llama.cpp's test-tokenizer-0: no BOS/special tokens added, special
    # token text not parsed; input bytes verbatim (no escape processing).
    extra = ("--stdin", "--no-escape", "--no-bos", "--no-parse-special")
    mismatches, cmd = [], None
    for i, (text, exp) in enumerate(zip(cases, expect)):
        got, cmd = tokenize(bindir, model, text, extra)
        if got != exp:
            mismatches.append({"case": i, "input": text, "expected": exp, "llama_cpp": got})
    return {"cases": len(cases), "match": len(cases) - len(mismatches),
            "mismatches": mismatches,
            "command": shlex.join(["llama-tokenize", "-m", "<model>", "--ids",
                                   "--log-disable", *extra]) + " < case-text"}


def wait_quiet(log, limit=None, max_wait=None):
    """The machine is shared: give other work a chance to finish first (until
    the 1-minute load is below EMBER_QUIET_LOAD, default 0.8, for at most
    EMBER_QUIET_WAIT seconds, default 180)."""
    if limit is None:
        limit = float(os.environ.get("EMBER_QUIET_LOAD", "0.8"))
    if max_wait is None:
        max_wait = int(os.environ.get("EMBER_QUIET_WAIT", "180"))
    t0 = time.time()
    while os.getloadavg()[0] > limit and time.time() - t0 < max_wait:
        time.sleep(5)
    waited = round(time.time() - t0)
    if waited:
        log(f"  waited {waited}s for load to drop (now {os.getloadavg()[0]:.2f})")
    return waited


def measure_speed(bindir, model, model_rel, log, extra=()):
    """llama.cpp's speed with 2 threads: llama-completion's own timing of the
    32-token greedy run (3 runs) and llama-bench, after waiting for a quiet
    machine."""
    waited = wait_quiet(log)
    load0 = round(os.getloadavg()[0], 2)
    cmd = [f"{bindir}/llama-completion", "-m", model, "-p", PROMPTS[-1], *GEN_ARGS, *extra,
           "--no-display-prompt"]
    gen, pp = [], []
    for _ in range(3):
        _, err = run(cmd)
        perf = parse_perf(err)
        gen.append(perf["gen"]["tokens_per_s"])
        pp.append(perf["prompt"]["tokens_per_s"])
    log("  llama-bench ...")
    res = {
        "gen_tokens_per_s": round(statistics.median(gen), 2),
        "gen_tokens_per_s_runs": gen,
        "prompt_tokens_per_s_runs": pp,
        "command": show(cmd, bindir, model_rel),
        "bench": bench(bindir, model, model_rel, extra),
        "waited_for_quiet_s": waited,
        "loadavg_before": load0,
        "loadavg_after": round(os.getloadavg()[0], 2),
        "measured_at": time.strftime("%Y-%m-%d %H:%M"),
    }
    log(f"  speed: gen {res['gen_tokens_per_s']} t/s, bench {res['bench']}, load {load0}")
    return res


PPL_RE = re.compile(r"Final estimate: PPL = ([\d.]+) \+/- ([\d.]+)")


def perplexity(bindir, model, model_rel, repo, ctx):
    """llama-perplexity's final estimate on PPL_TEXT with a context of ctx
    (-fa off, -b ctx so that each chunk is one batch, as ember decodes it)."""
    text = os.path.join(repo, PPL_TEXT)
    cmd = [f"{bindir}/llama-perplexity", "-m", model, "-f", text, "-c", str(ctx), "-b", str(ctx),
           "-t", str(THREADS), "-fa", "off"]
    out, err = run(cmd)
    m = PPL_RE.search(out.decode() + err)
    if not m:
        raise SystemExit("no 'Final estimate' in llama-perplexity's output")
    chunks = [float(x) for x in re.findall(r"\[\d+\]([\d.]+)", out.decode() + err)]
    return {"ctx": ctx, "text": PPL_TEXT, "ppl": float(m.group(1)), "stderr": float(m.group(2)),
            "running_ppl_per_chunk": chunks,
            "command": show(cmd, bindir, model_rel).replace(text, PPL_TEXT)}


def bench(bindir, model, model_rel, extra=()):
    cmd = [f"{bindir}/llama-bench", "-m", model, "-t", str(THREADS), "-p", "64",
           "-n", str(N_PREDICT), "-r", "5", *extra, "-o", "json"]
    out, _ = run(cmd)
    rows = json.loads(out.decode())
    res = {"command": show(cmd, bindir, model_rel)}
    for r in rows:
        key = f"pp{r['n_prompt']}" if r["n_prompt"] else f"tg{r['n_gen']}"
        res[key] = {"avg_ts": round(r["avg_ts"], 2), "stddev_ts": round(r["stddev_ts"], 2)}
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--vocab-dir", default=None)
    ap.add_argument("--llama-info", default="")
    ap.add_argument("--repo", default=os.getcwd())
    ap.add_argument("--speed-only", action="store_true",
                    help="re-measure only the speed of models already in --out")
    ap.add_argument("--add", action="store_true",
                    help="keep --out's other models; (re)record only the ones given")
    ap.add_argument("models", nargs="+")
    a = ap.parse_args()
    bindir = os.path.abspath(a.bin)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    version = subprocess.run([f"{bindir}/llama-completion", "--version"],
                             capture_output=True, text=True)
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    if a.speed_only:
        ref = json.load(open(a.out, encoding="utf-8"))
        for model in a.models:
            name = os.path.basename(model)
            if name not in ref["models"]:
                continue
            rel = os.path.relpath(os.path.abspath(model), a.repo)
            log(f"== {name}")
            old = ref["models"][name].get("speed", {})
            new = measure_speed(bindir, model, (rel, os.path.abspath(model)), log)
            for k in ("gen", "prompt"):
                key = f"greedy_runs_{k}_tokens_per_s_median"
                new[key] = old.get(key, old.get(f"{k}_tokens_per_s"))
            tg = f"tg{N_PREDICT}"
            old_tg = old.get("bench", {}).get(tg, {}).get("avg_ts", 0)
            if (new["bench"][tg]["avg_ts"] > old_tg or "measured_at" not in old
                    or os.environ.get("EMBER_SPEED_REPLACE") == "1"):
                ref["models"][name]["speed"] = new
                ref["method"]["speed"] = SPEED_METHOD
            else:
                log(f"  kept the stored speed (tg {old_tg} >= {new['bench'][tg]['avg_ts']})")
        with open(a.out, "w", encoding="utf-8") as f:
            json.dump(ref, f, indent=1, ensure_ascii=False)
            f.write("\n")
        log(f"updated speeds in {a.out}")
        return

    ref = {
        "llama_cpp": {
            "build": a.llama_info,
            "version_output": (version.stdout + version.stderr).strip(),
            "built_by": "scripts/build-llamacpp.sh (CPU only, Release, GGML_NATIVE=ON)",
        },
        "machine": {"cpu": cpu, "nproc": os.cpu_count(), "platform": platform.platform(),
                    "threads_used": THREADS},
        "method": {
            "prompt_tokens": "llama-tokenize -m <model> -p <prompt> --ids --log-disable "
                             "(BOS only if the model asks for it: none of these do)",
            "greedy": "llama-completion -m <model> -p <prompt> " + shlex.join(GEN_ARGS)
                      + " --no-display-prompt. 'stdout' is raw stdout (logs go to stderr); "
                      "llama-completion appends '\\n\\n' after generation (and ' [end of text]\\n' "
                      "before it on EOS), so 'text' = stdout minus those = the generated tokens "
                      "detokenized, without the prompt. Runs repeated until two complete "
                      "runs agree (the async logger can drop the stdout tail at exit). "
                      "'stdout_with_prompt' is the same run without --no-display-prompt.",
            "generated_tokens": "llama-completion prints no ids, so they come from a second "
                                "run ('ids_command': -n 33 --prompt-cache <file> --prompt-cache-all) "
                                "whose session file lists prompt + every decoded token, i.e. the "
                                "first 32 generated ids (the last sampled token is never decoded). "
                                "That run decodes the prompt as n-1 tokens then 1 token (to save "
                                "its state), which perturbs the first step's numerics slightly; "
                                "where its continuation equals 'text' byte for byte (checked with "
                                "the GGUF vocabulary) its ids are used (source 'session'); where "
                                "it diverges (a near-tie) the ids are llama-tokenize's tokenization "
                                "of 'text' (source 'retokenized_text') and 'split_prompt_run' keeps "
                                "the diverging continuation: an acceptable alternative, not an error.",
            "speed": SPEED_METHOD,
            "vocab_test": "qwen2 models only: every case of "
                          "shared/vocab/no-gguf/ggml-vocab-qwen2.gguf.inp tokenized by "
                          "llama-tokenize (no BOS, special text not parsed, bytes verbatim, as "
                          "test-tokenizer-0 does) and compared with the .out line.",
        },
        "models": {},
    }

    machine = None
    if a.add and os.path.exists(a.out):
        old = json.load(open(a.out, encoding="utf-8"))
        # the stored models were made by the stored method: keep its text,
        # add what is new
        ref["method"] = dict(ref["method"], **old["method"])
        ref["models"] = old["models"]
        ref["generated_at_per_model"] = old.get("generated_at_per_model", {})
        ref["generated_at"] = old.get("generated_at")
        # The same llama.cpp (version and commit; the build stamp's target
        # list may grow), or re-record them all. A different machine is
        # written into the added models' entries (their speed is its).
        commit = lambda b: re.search(r"llama\.cpp@\w+", b or "")
        same = (old["llama_cpp"]["version_output"] == ref["llama_cpp"]["version_output"]
                and bool(commit(old["llama_cpp"]["build"]))
                and commit(old["llama_cpp"]["build"]).group(0) == commit(a.llama_info).group(0))
        if not same:
            raise SystemExit(f"--add: llama.cpp differs from {a.out}'s; re-record all models")
        machine = ref["machine"] if ref["machine"] != old["machine"] else None
        ref["llama_cpp"], ref["machine"] = old["llama_cpp"], old["machine"]
    ref["method"]["greedy_per_arch"] = ("extra llama-completion flags per architecture, in each "
                                        "prompt's 'command': " + json.dumps(ARCH_GEN_ARGS))
    ref["method"]["perplexity"] = (f"llama-perplexity -f {PPL_TEXT} -c CTX -b CTX -t {THREADS} -fa off, "
                                   "for the architectures in ARCH_PPL_CTX (gemma3: CTX 1024, beyond "
                                   "the 512-position sliding window); 'ppl' is its final estimate")
    for model in a.models:
        g = Gguf(model)
        name = os.path.basename(model)
        if g.arch not in ARCHS:
            log(f"skip {name}: architecture {g.arch}")
            continue
        rel = os.path.relpath(os.path.abspath(model), a.repo)
        model_rel = (rel, os.path.abspath(model))
        log(f"== {name} ({g.arch})")
        entry = {"path": rel, "sha256": sha256(model), "size_bytes": os.path.getsize(model),
                 "gguf": g.summary(), "greedy": []}
        if a.add and machine:
            entry["machine"] = machine
        gen_tps, prompt_tps = [], []
        for prompt in PROMPTS:
            log(f"  prompt {prompt!r}")
            ptoks, tcmd = tokenize(bindir, model, prompt)
            r = greedy(bindir, model, model_rel, g, prompt, log)
            sess = r.pop("session_tokens")
            if sess[: len(ptoks)] != ptoks:
                raise SystemExit(f"session prompt {sess[:len(ptoks)]} != llama-tokenize {ptoks}")
            # On EOS the end-of-generation token itself is sampled but never
            # decoded, so it is not in the list ('stopped_at_eos' says so).
            split_ids = sess[len(ptoks):][:N_PREDICT]
            split_text = g.detokenize(split_ids)
            retok, _ = tokenize(bindir, model, r["text"],
                                ("--stdin", "--no-escape", "--no-bos", "--no-parse-special"))
            if split_text == r["text"].encode():
                gen, source = split_ids, "session"
                if retok != split_ids:
                    log("    NOTE: retokenized text differs from the generated ids")
            else:
                # The id run decodes the prompt as n-1 tokens + 1 token (that is
                # how --prompt-cache saves its state), which changes the numerics
                # of the first step slightly; at a near-tie the continuation
                # differs.  Fall back to the tokenization of the text.
                gen, source = retok, "retokenized_text"
                log(f"    NOTE: split-prompt run diverged: {split_text!r}")
            ok = g.detokenize(gen) == r["text"].encode()
            for p in r["perf_runs"]:
                if "gen" in p:
                    gen_tps.append(p["gen"]["tokens_per_s"])
                if "prompt" in p:
                    prompt_tps.append(p["prompt"]["tokens_per_s"])
            entry["greedy"].append({
                "prompt": prompt, "prompt_tokens": ptoks,
                "prompt_tokens_command": show(tcmd + ["-p", prompt], bindir, model_rel),
                "n_predict": N_PREDICT, "text": r["text"], "generated_tokens": gen,
                "generated_tokens_source": source,
                "generated_tokens_match_text": ok,
                "retokenized_text_equals_generated_tokens": retok == gen,
                "split_prompt_run": {"tokens": split_ids,
                                     "text": split_text.decode("utf-8", errors="replace"),
                                     "same_as_reference": split_ids == gen},
                "stopped_at_eos": r["stopped_at_eos"],
                "stdout": r["stdout"], "stdout_with_prompt": r["stdout_with_prompt"],
                "stdout_with_prompt_is_prompt_plus_stdout":
                    r["stdout_with_prompt"] == prompt + r["stdout"],
                "command": r["command"], "ids_command": r["ids_command"],
                "gen_tokens_per_s_runs": [p.get("gen", {}).get("tokens_per_s") for p in r["perf_runs"]],
            })
            log(f"    {r['text']!r}")
        if g.arch in ARCH_PPL_CTX:
            log("  perplexity ...")
            entry["perplexity"] = perplexity(bindir, model, model_rel, a.repo, ARCH_PPL_CTX[g.arch])
            log(f"  perplexity: {entry['perplexity']['ppl']}")
        entry["speed"] = measure_speed(bindir, model, model_rel, log, ARCH_GEN_ARGS.get(g.arch, []))
        entry["speed"]["greedy_runs_gen_tokens_per_s_median"] = (
            round(statistics.median(gen_tps), 2) if gen_tps else None)
        entry["speed"]["greedy_runs_prompt_tokens_per_s_median"] = (
            round(statistics.median(prompt_tps), 2) if prompt_tps else None)
        if g.val("tokenizer.ggml.pre") == "qwen2" and a.vocab_dir:
            inp = os.path.join(a.vocab_dir, "ggml-vocab-qwen2.gguf.inp")
            if os.path.exists(inp):
                log("  qwen2 vocab test ...")
                vt = vocab_test(bindir, model, inp, inp[:-4] + ".out")
                vt["source"] = "shared/vocab/no-gguf/ggml-vocab-qwen2.gguf.inp/.out"
                entry["vocab_test_qwen2"] = vt
                log(f"  vocab test: {vt['match']}/{vt['cases']} match")
        ref["models"][name] = entry
        if a.add:
            ref["generated_at_per_model"][name] = time.strftime("%Y-%m-%d")

    if not a.add:
        ref["generated_at"] = time.strftime("%Y-%m-%d")
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(ref, f, indent=1, ensure_ascii=False)
        f.write("\n")
    log(f"wrote {a.out}")


if __name__ == "__main__":
    main()
