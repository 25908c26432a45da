#!/usr/bin/env bash
# test_aarch64.sh — the AArch64 build under emulation. Cross-builds ember and
# the kernel test with aarch64-linux-gnu-gcc (static, into build-aarch64/ or
# $AARCH64_BUILD; the host's ./ember is untouched) and runs them under
# `qemu-aarch64 -cpu max`, which has NEON and the dot-product extension:
#   - tests/test_quant_isa (every installed kernel against the scalar refs)
#     twice: under -cpu max, which has i8mm (so the SMMLA products of
#     int8_i8mm.c are installed), and -cpu neoverse-n1, which has only the
#     dot product; tests/test_vec, tests/test_kv and tests/test_gptq_kernels
#     under -cpu max; then
#     what `ember info --cpu` detects under each,
#   - for every model and prompt in tests/data/models/reference.json,
#     `ember run --temp 0 -n N -p PROMPT` must print llama.cpp's greedy text,
#     with EMBER_ISA=neon and with EMBER_ISA=scalar (the near-ties that
#     tests/check_reference.py lists print SKIP, as there).
# Prints one "ok ..."/"not ok ..."/"SKIP ..." line per check (tests/run.sh
# counts them); prints a SKIP line and exits 0 when the cross compiler or
# qemu is missing (Debian: gcc-aarch64-linux-gnu qemu-user-static).
# Run: bash tests/test_aarch64.sh   (about a minute on 2 cores after a build)
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -n "${EMBER_SANITIZE:-}" ]; then
    echo "SKIP aarch64 under make sanitize: it cross-builds its own unsanitized binary (make test runs it)"; exit 0
fi

CROSS_CC=aarch64-linux-gnu-gcc
QEMU=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
if ! command -v "$CROSS_CC" >/dev/null || [ -z "$QEMU" ]; then
    echo "SKIP aarch64: needs $CROSS_CC and qemu-aarch64 (apt: gcc-aarch64-linux-gnu qemu-user-static)"
    exit 0
fi
BUILD=${AARCH64_BUILD:-build-aarch64}
JOBS=${JOBS:-2}
fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# ---------------------------------------------------------------- build
if make ARCH=aarch64 BUILD="$BUILD" -j"$JOBS" ember >"$log" 2>&1; then
    echo "ok aarch64 cross-build of ember"
else
    echo "not ok aarch64 cross-build of ember"
    tail -20 "$log"
    exit 1
fi

# ---------------------------------------------------------- kernel test
if make ARCH=aarch64 BUILD="$BUILD" -j"$JOBS" "$BUILD/tests/test_quant_isa" >"$log" 2>&1; then
    # -cpu max has i8mm (the Q4_0/Q8_0 batched products use SMMLA);
    # neoverse-n1 has only the dot product (they use the SDOT tiles)
    for cpu in max neoverse-n1; do
        "$QEMU" -cpu "$cpu" "$BUILD/tests/test_quant_isa" 2>&1 |
            sed -E "s/^(ok|not ok|SKIP) /\1 aarch64 ($cpu): /"
        rc=${PIPESTATUS[0]}
        [ "$rc" -eq 0 ] || { echo "not ok aarch64 ($cpu): test_quant_isa exited with status $rc"; fail=1; }
    done
else
    echo "not ok aarch64: build of test_quant_isa"
    tail -20 "$log"
    fail=1
fi
# the float vector kernels (attention's mad_rows/mad_rows_h among them),
# the paged KV cache's attention and the GPTQ matrix kernels, on NEON
for t in test_vec test_kv test_gptq_kernels; do
    if make ARCH=aarch64 BUILD="$BUILD" -j"$JOBS" "$BUILD/tests/$t" >"$log" 2>&1; then
        "$QEMU" -cpu max "$BUILD/tests/$t" 2>&1 | sed -E "s/^(ok|not ok|SKIP) /\1 aarch64 (max): /"
        rc=${PIPESTATUS[0]}
        [ "$rc" -eq 0 ] || { echo "not ok aarch64 (max): $t exited with status $rc"; fail=1; }
    else
        echo "not ok aarch64: build of $t"
        tail -20 "$log"
        fail=1
    fi
done
info_max=$("$QEMU" -cpu max "$BUILD/ember" info --cpu 2>&1)
info_n1=$("$QEMU" -cpu neoverse-n1 "$BUILD/ember" info --cpu 2>&1)
if grep -q '^detected:.* i8mm' <<<"$info_max" && ! grep -q '^detected:.* i8mm' <<<"$info_n1"; then
    echo "ok aarch64: i8mm detected under -cpu max and not under -cpu neoverse-n1"
else
    echo "not ok aarch64: i8mm detection (ember info --cpu under -cpu max / neoverse-n1)"
    fail=1
fi
# MIDR_EL1 of a Neoverse N1: implementer 0x41 (Arm), part 0xd0c (Arm's
# Neoverse N1 TRM, "Main ID Register")
if grep -q '^cpu: implementer 0x41 part 0xd0c$' <<<"$info_n1"; then
    echo "ok aarch64: ember info --cpu names the core under -cpu neoverse-n1 (MIDR)"
else
    echo "not ok aarch64: ember info --cpu under -cpu neoverse-n1: $(head -n1 <<<"$info_n1")"
    fail=1
fi

# ------------------------------------------------------- greedy text
if ! command -v python3 >/dev/null; then
    echo "SKIP aarch64 greedy checks: no python3"
    exit "$fail"
fi
QEMU="$QEMU" EMBER_BIN="$BUILD/ember" JOBS="$JOBS" python3 - <<'PYEOF' || fail=1
import ast, concurrent.futures, json, os, re, subprocess, sys

sys.path.insert(0, "tests")
from near_tie import gap_at, token_ids

data = "tests/data/models"
ref = json.load(open(os.path.join(data, "reference.json")))
# The near-ties tests/check_reference.py skips: read from there, one list.
near = set()
for node in ast.parse(open("tests/check_reference.py").read()).body:
    if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "NEAR_TIES" for t in node.targets):
        near = ast.literal_eval(node.value)

jobs = [(isa, name, g) for isa in ("neon", "scalar")
        for name, m in ref["models"].items() for g in m["greedy"]]

def run(job):
    isa, name, g = job
    cmd = [os.environ["QEMU"], "-cpu", "max", os.environ["EMBER_BIN"], "run",
           "-m", os.path.join(data, name), "-p", g["prompt"], "--temp", "0",
           "-n", str(g["n_predict"]), "-t", "1", "-v"]
    r = subprocess.run(cmd, capture_output=True, timeout=300, env=dict(os.environ, EMBER_ISA=isa))
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")

def tokenizer(name):
    """ember's tokenization (under qemu) by the file `name`, as near_tie wants it."""
    def ids(text):
        r = subprocess.run([os.environ["QEMU"], "-cpu", "max", os.environ["EMBER_BIN"], "tokenize", "-m",
                            os.path.join(data, name), "-p", text], capture_output=True, timeout=300)
        return token_ids(r.stdout)
    return ids

failed = 0
with concurrent.futures.ThreadPoolExecutor(int(os.environ["JOBS"])) as ex:
    for (isa, name, g), (rc, out, err) in zip(jobs, ex.map(run, jobs)):
        what = f"aarch64 {isa} {name} greedy {g['prompt']!r}"
        if rc == 0 and out == g["text"]:
            print("ok " + what)
        elif rc == 0 and (name, g["prompt"]) in near:
            common = len(os.path.commonprefix([out, g["text"]]))
            print(f"SKIP {what}: known near-tie, texts agree for {common} bytes, "
                  f"{gap_at(tokenizer(name), g['prompt'], out, g['text'], err)}")
        else:
            failed += 1
            print(f"not ok {what}: rc {rc}\n   got  {out!r}\n   want {g['text']!r}\n   {err[:300]}")
        sys.stdout.flush()
sys.exit(1 if failed else 0)
PYEOF
exit "$fail"
