#!/usr/bin/env python3
"""Read what scripts/bench-speculative.sh left in OUTDIR (header,
manifest.tsv, logs/<rep>-<id>-<mode>.out/.err) and print the table:
per mode the total generated tokens / total generation time over all
prompts and repeats, the acceptance rate, ratios against plain decoding
and against llama.cpp's matching mode, and whether the generated text
agrees with ember-plain's.

Each tool's own clock, prompt processing excluded (see the .sh header):
  ember             stderr "generation N tokens X t/s"  -> N, N/X seconds
  llama-completion  "eval time = T ms / R runs"        -> R, T/1000
  llama-speculative[-simple], llama-lookup
                    "decoded N tokens in T seconds", "n_drafted = D",
                    "n_accept = A"
ember's acceptance: the -v line's "drafted D" and "accepted A" counts.

    bench_speculative_table.py OUTDIR [--per-prompt]

Stdlib only. A run that failed or whose timing line is missing is listed
and left out of the sums (the summary says how many).
"""
import argparse
import collections
import os
import re
import sys

EMBER_GEN = re.compile(r"generation (\d+) tokens ([\d.]+) t/s")
EMBER_DRAFTED = re.compile(r"drafted[\s:=]+(\d+)")
EMBER_ACCEPTED = re.compile(r"accepted[\s:=]+(\d+)")
LLAMA_EVAL = re.compile(r"(?<!prompt )eval time =\s*([\d.]+) ms /\s*(\d+) runs")
LLAMA_DECODED = re.compile(r"decoded\s+(\d+) tokens in\s+([\d.]+) seconds")
LLAMA_DRAFTED = re.compile(r"n_drafted\s*=\s*(\d+)")
LLAMA_ACCEPT = re.compile(r"n_accept\s*=\s*(\d+)")
ASSISTANT = "<|im_start|>assistant"


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def parse(mode, out, err):
    """(tokens, seconds, drafted, accepted, text) or None when no timing."""
    both = out + "\n" + err
    if mode.startswith("ember-"):
        m = EMBER_GEN.search(err)
        if not m or float(m.group(2)) <= 0:
            return None
        n, tps = int(m.group(1)), float(m.group(2))
        d, a = EMBER_DRAFTED.search(err), EMBER_ACCEPTED.search(err)
        return (n, n / tps, int(d.group(1)) if d else None, int(a.group(1)) if a else None, out)
    if mode == "llama-plain":
        m = LLAMA_EVAL.search(both)
        if not m:
            return None
        text = out.split(" [end of text]")[0]
        return (int(m.group(2)), float(m.group(1)) / 1000, None, None, text)
    m = LLAMA_DECODED.search(both)
    if not m:
        return None
    d, a = LLAMA_DRAFTED.search(both), LLAMA_ACCEPT.search(both)
    # stdout: the prompt's pieces (its final "\n" has been seen missing),
    # then the generated pieces
    i = out.rfind(ASSISTANT)
    text = out[i + len(ASSISTANT):] if i >= 0 else ""
    text = text[1:] if text.startswith("\n") else text
    return (int(m.group(1)), float(m.group(2)), int(d.group(1)) if d else None,
            int(a.group(1)) if a else None, text)


def agree(a, b):
    """Greedy texts of different lengths agree when the shorter is a prefix
    of the longer (trailing whitespace aside)."""
    a, b = a.rstrip(), b.rstrip()
    if not a or not b:
        return False
    s, l = (a, b) if len(a) <= len(b) else (b, a)
    return l.startswith(s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--per-prompt", action="store_true", help="also a t/s row per prompt")
    a = ap.parse_args()
    rows = []
    for line in read(os.path.join(a.outdir, "manifest.tsv")).splitlines():
        rep, pid, mode, rc, wall, load = line.split("\t")
        rows.append((rep, pid, mode, int(rc), float(wall), load))
    if not rows:
        sys.exit(f"{a.outdir}: no runs in manifest.tsv")

    modes = list(dict.fromkeys(r[2] for r in rows))
    # A prompt cut off by an interrupted run (not every mode in the
    # manifest) would bias the sums: leave it out.
    ran = collections.Counter((r[0], r[1]) for r in rows)
    cut = [k for k, c in ran.items() if c < len(modes)]
    rows = [r for r in rows if (r[0], r[1]) not in cut]
    res = {}
    bad = []
    for rep, pid, mode, rc, wall, load in rows:
        base = os.path.join(a.outdir, "logs", f"{rep}-{pid}-{mode}")
        p = parse(mode, read(base + ".out"), read(base + ".err")) if rc == 0 else None
        if p is None:
            bad.append(f"{rep}-{pid}-{mode} (exit {rc})")
        else:
            res[(rep, pid, mode)] = p

    tot = collections.defaultdict(lambda: [0, 0.0, 0, 0, 0, 0, 0])  # n, s, drafted, accepted, runs, same, cmp
    for (rep, pid, mode), (n, s, d, acc, text) in res.items():
        t = tot[mode]
        t[0] += n
        t[1] += s
        if d is not None and acc is not None:
            t[2] += d
            t[3] += acc
        t[4] += 1
        ref = res.get((rep, pid, "ember-plain"))
        if ref and mode != "ember-plain":
            t[6] += 1
            same = text == ref[4] if mode.startswith("ember-") else agree(text, ref[4])
            t[5] += same

    def tps(m):
        t = tot.get(m)
        return t[0] / t[1] if t and t[1] > 0 else None

    print(read(os.path.join(a.outdir, "header")).rstrip())
    loads = [float(r[5].split()[0]) for r in rows]
    print(f"load average (1 min) before each prompt: min {min(loads):.2f}, "
          f"mean {sum(loads) / len(loads):.2f}, max {max(loads):.2f}")
    print()
    print("| mode | runs | tokens | gen s | t/s | accept | vs ember-plain | vs llama-plain | vs llama same mode | text vs ember-plain |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for m in modes:
        t = tot.get(m)
        if not t:
            print(f"| {m} | 0 | | | | | | | | |")
            continue
        r = tps(m)
        acc = f"{100 * t[3] / t[2]:.1f}% ({t[3]}/{t[2]})" if t[2] else ""
        ep, lp = tps("ember-plain"), tps("llama-plain")
        twin = None
        if m.startswith("ember-"):
            twin = "llama-" + m[len("ember-"):]
        vs_twin = f"{r / tps(twin):.2f}x ({twin})" if twin and tps(twin) else ""
        if m == "ember-plain":
            same = "reference"
        elif m.startswith("ember-"):
            same = f"identical {t[5]}/{t[6]}"
        else:
            same = f"prefix-agree {t[5]}/{t[6]}"
        ratio = lambda ref: f"{r / ref:.2f}x" if ref else ""
        print(f"| {m} | {t[4]} | {t[0]} | {t[1]:.1f} | {r:.2f} | {acc} | {ratio(ep)} | {ratio(lp)} | "
              f"{vs_twin} | {same} |")
    if cut:
        print(f"\n{len(cut)} prompt(s) not run in every mode (interrupted), left out: "
              + ", ".join(f"{r}-{p}" for r, p in cut))
    if bad:
        print(f"\n{len(bad)} run(s) without a timing, left out: {', '.join(bad)}")

    if a.per_prompt:
        print()
        print("| rep | prompt | " + " | ".join(modes) + " |")
        print("|---|---|" + "---:|" * len(modes))
        for rep, pid in dict.fromkeys((r[0], r[1]) for r in rows):
            cells = []
            for m in modes:
                p = res.get((rep, pid, m))
                cells.append(f"{p[0] / p[1]:.2f}" if p else "-")
            print(f"| {rep} | {pid} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
