#!/usr/bin/env bash
# test_aarch64.sh — the AArch64 build under emulation. Cross-builds ember and
# the kernel test with aarch64-linux-gnu-gcc (static, into build-aarch64/ or
# $AARCH64_BUILD; the host's ./ember is untouched) and runs them under
# `qemu-aarch64 -cpu max`, which has NEON and the dot-product extension:
#   - tests/test_quant_isa (every installed kernel against the scalar refs)
#     twice: under -cpu max, which has i8mm (so the SMMLA products of
#     int8_i8mm.c are installed), and -cpu neoverse-n1, which has only the
#     dot product; until that test exists, a built-in check of the NEON
#     kernels instead,
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
# Kernel test lines are passed through with an "aarch64:" tag.
tag() { sed -E 's/^(ok|not ok|SKIP) /\1 aarch64: /'; }

if [ -f tests/test_quant_isa.c ]; then
    if make ARCH=aarch64 BUILD="$BUILD" -j"$JOBS" "$BUILD/tests/test_quant_isa" >"$log" 2>&1; then
        # -cpu max has i8mm (the Q4_0/Q8_0 batched products use SMMLA);
        # neoverse-n1 has only the dot product (they use the SDOT tiles)
        for cpu in max neoverse-n1; do
            "$QEMU" -cpu "$cpu" "$BUILD/tests/test_quant_isa" 2>&1 |
                sed -E "s/^(ok|not ok|SKIP) /\1 aarch64 ($cpu): /"
            rc=${PIPESTATUS[0]}
            [ "$rc" -eq 0 ] || { echo "not ok aarch64 ($cpu): test_quant_isa exited with status $rc"; fail=1; }
        done
        if "$QEMU" -cpu max "$BUILD/ember" info --cpu 2>&1 | grep -q '^detected:.* i8mm' &&
            ! "$QEMU" -cpu neoverse-n1 "$BUILD/ember" info --cpu 2>&1 | grep -q '^detected:.* i8mm'; then
            echo "ok aarch64: i8mm detected under -cpu max and not under -cpu neoverse-n1"
        else
            echo "not ok aarch64: i8mm detection (ember info --cpu under -cpu max / neoverse-n1)"
            fail=1
        fi
    else
        echo "not ok aarch64: build of test_quant_isa"
        tail -20 "$log"
        fail=1
    fi
else
    # Stand-in until tests/test_quant_isa.c lands: each NEON kernel against
    # the reference it replaced, quantizers and dequantizers bit for bit.
    src="$BUILD/neon_check.c"
    cat >"$src" <<'CEOF'
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "quant_impl.h"
#include "quant_isa.h"

enum { N = 1024, ROWS = 7, COLS = 6 };
static uint32_t seed = 12345;
static float frand(void) {
    seed = seed * 1664525u + 1013904223u;
    return (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
}
static int fails;
static void report(int ok, const char *what, const char *name, int trial) {
    printf("%s neon %s %s", ok ? "ok" : "not ok", what, name);
    if (trial >= 0) printf(" (input set %d)", trial);
    printf("\n");
    fails += !ok;
}
/* Input sets: plain, halves and ties, zeros and an all-zero block, tiny,
 * NaN/inf/huge/subnormal. */
static void fill(float *x, int set) {
    for (int i = 0; i < N; i++) {
        float v = frand() * (set == 3 ? 1e-3f : 3.0f);
        if (set == 1) v = (float)(int)(v * 100) * 0.5f;
        if (set == 2 && (i % 32 < 4 || (i >= 256 && i < 512))) v = 0.0f;
        x[i] = v;
    }
    if (set == 1) x[0] = 127.0f, x[1] = 2.5f, x[2] = -2.5f, x[3] = 0.5f;
    if (set == 4) {
        x[5] = NAN, x[40] = -NAN, x[70] = INFINITY, x[300] = -INFINITY;
        x[600] = 1e30f, x[601] = -1e-30f;
        for (int i = 700; i < 800; i++) x[i] = 1e-41f * (float)i;
    }
}
int main(void) {
    static struct quant_ops ref[EMBER_TYPE_COUNT];
    static float x[COLS][N], wf[N], da[N], db[N], mm[COLS * ROWS];
    static uint8_t wq[ROWS][N * 4], xq[COLS][N * 4], qa[N * 4], qb[N * 4];
    for (int t = 0; t < EMBER_TYPE_COUNT; t++)
        if (quant_ops_for(t)) ref[t] = *quant_ops_for(t);
    quant_install_neon();
    for (int t = 0; t < EMBER_TYPE_COUNT; t++) {
        const struct quant_ops *q = quant_ops_for(t);
        if (!q) continue;
        size_t rb = quant_row_bytes(t, N);
        for (int set = 0; set < 5; set++) {
            fill(x[0], set);
            if (q->quantize != ref[t].quantize) {
                memset(qa, 0, sizeof qa);
                memset(qb, 0, sizeof qb);
                ref[t].quantize(x[0], qa, N);
                q->quantize(x[0], qb, N);
                report(!memcmp(qa, qb, rb), "quantize bit-exact", q->name, set);
            }
            if (q->dequant != ref[t].dequant) {
                ref[t].quantize(x[0], qa, N);
                ref[t].dequant(qa, da, N);
                q->dequant(qa, db, N);
                report(!memcmp(da, db, sizeof da), "dequant bit-exact", q->name, set);
            }
        }
        if (!q->dot) continue;
        /* K-quant dots are exact by construction; others within 1e-5 of
         * sum |w*x| (float summation order). */
        int exact = q->block_elems == QK_K, ok = 1;
        for (int r = 0; r < ROWS; r++) {
            for (int i = 0; i < N; i++) wf[i] = frand();
            ref[t].quantize(wf, wq[r], N);
        }
        for (int c = 0; c < COLS; c++) {
            for (int i = 0; i < N; i++) x[c][i] = 2 * frand();
            ref[q->vec_type].quantize(x[c], xq[c], N);
        }
        for (int r = 0; r < ROWS; r++)
            for (int c = 0; c < COLS; c++)
                for (int n = q->block_elems; n <= N; n += n < 256 ? q->block_elems : 256) {
                    float a = ref[t].dot(wq[r], xq[c], n), b = q->dot(wq[r], xq[c], n);
                    if (exact ? a != b : fabs((double)a - b) > 1e-5 * n) ok = 0;
                }
        report(ok, exact ? "dot exact" : "dot", q->name, -1);
        if (!q->mul_mat) continue;
        ok = 1;
        for (int rows = 1; rows <= ROWS; rows += 3)
            for (int cols = 1; cols <= COLS; cols++) {
                q->mul_mat(N, wq, sizeof wq[0], rows, xq, sizeof xq[0], cols, mm, ROWS);
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < cols; c++)
                        if (fabs((double)ref[t].dot(wq[r], xq[c], N) - mm[c * ROWS + r]) > 1e-5 * N)
                            ok = 0;
            }
        report(ok, "mul_mat", q->name, -1);
    }
    return fails != 0;
}
CEOF
    if "$CROSS_CC" -std=c11 -O2 -Wall -Wextra -Iquant -Isrc -static -o "$BUILD/neon_check" "$src" \
        "$BUILD"/quant/*.o "$BUILD"/quant/arm/*.o -lm >"$log" 2>&1; then
        "$QEMU" -cpu max "$BUILD/neon_check" 2>&1 | tag
        rc=${PIPESTATUS[0]}
        [ "$rc" -eq 0 ] || fail=1
    else
        echo "not ok aarch64: build of the NEON kernel check"
        tail -20 "$log"
        fail=1
    fi
fi

# ------------------------------------------------------- greedy text
if ! command -v python3 >/dev/null; then
    echo "SKIP aarch64 greedy checks: no python3"
    exit "$fail"
fi
QEMU="$QEMU" EMBER_BIN="$BUILD/ember" JOBS="$JOBS" python3 - <<'PYEOF' || fail=1
import ast, concurrent.futures, json, os, subprocess, sys

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
           "-n", str(g["n_predict"]), "-t", "1"]
    r = subprocess.run(cmd, capture_output=True, timeout=300, env=dict(os.environ, EMBER_ISA=isa))
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")

failed = 0
with concurrent.futures.ThreadPoolExecutor(int(os.environ["JOBS"])) as ex:
    for (isa, name, g), (rc, out, err) in zip(jobs, ex.map(run, jobs)):
        what = f"aarch64 {isa} {name} greedy {g['prompt']!r}"
        if rc == 0 and out == g["text"]:
            print("ok " + what)
        elif rc == 0 and (name, g["prompt"]) in near:
            common = len(os.path.commonprefix([out, g["text"]]))
            print(f"SKIP {what}: known near-tie, texts agree for {common} bytes")
        else:
            failed += 1
            print(f"not ok {what}: rc {rc}\n   got  {out!r}\n   want {g['text']!r}\n   {err[:300]}")
        sys.stdout.flush()
sys.exit(1 if failed else 0)
PYEOF
exit "$fail"
