"""near_tie.py: where two greedy texts part, and how close ember's top two
logits were there, for the reference checks (check_reference.py,
check_real_models.py, test_aarch64.sh) that print a known near-tie as SKIP
with its numbers. `tokenize(text)` is the caller's way of running `ember
tokenize` (native or under qemu) and returning the ids; `stderr` is that of
the `ember run -v` whose text is `ours` (its "top-2 logit gaps:" line)."""
import re


def token_ids(stdout):
    """The ids on the first line of `ember tokenize`'s output (bytes)."""
    return [int(x) for x in re.findall(rb"-?\d+", stdout.split(b"\n")[0])]


def parting(tokenize, prompt, ours, theirs):
    """The generated token where the two texts part, both retokenized after
    the prompt (BPE: the prompt ends at a word edge); None when equal."""
    a, b, n = tokenize(prompt + ours), tokenize(prompt + theirs), len(tokenize(prompt))
    if a == b:
        return None
    k = n
    while k < min(len(a), len(b)) and a[k] == b[k]:
        k += 1
    return k - n


def gap_at(tokenize, prompt, ours, theirs, stderr):
    """Where the texts part and ember's top-2 logit gap there: the size of
    the near-tie, as one phrase."""
    k = parting(tokenize, prompt, ours, theirs)
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    m = re.search(r"top-2 logit gaps:([0-9. ]*)", text)
    gaps = [float(x) for x in m.group(1).split()] if m else []
    gap = f"{gaps[k]:.4f}" if k is not None and 0 <= k < len(gaps) else "?"
    return f"parts at generated token {k}, top-2 logit gap there {gap}"
