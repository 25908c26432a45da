#!/usr/bin/env python3
"""gen-quant-vectors.py — reference vectors for tests/test_quant.c from the
`gguf` Python package (gguf.quants, ggml's reference rounding in numpy).

Produces, under tests/data/quant/ (about 200 KB in all):
  <type>.bin   one file per weight type ember implements (f32 f16 bf16 q4_0
               q4_1 q5_0 q5_1 q8_0 q2_k q3_k q4_k q5_k q6_k). Each holds cases:
               float input -> gguf.quants.quantize bytes -> gguf.quants.dequantize
               floats, or, where the package cannot quantize a type (the
               K-quants) or to reach codes quantize never emits, random block
               bytes (with finite f16 scales) -> dequantize floats.
  types.txt    "id name block_elems block_bytes" for every ggml type id < 40
               the package knows, for the name/row-size checks.
  SOURCES      where the data came from (package and numpy versions).

Binary layout (little-endian):
  file:  "EMQV" u32 version=1  u32 ggml_type  u32 n_cases  case*
  case:  u32 n_values  u32 flags (bit 0: input present, so quantize must
         reproduce the bytes)  [f32 input[n]]  u32 n_bytes  u8 bytes[n_bytes]
         f32 dequant[n]

Deterministic (fixed seeds). Run from anywhere:  python3 scripts/gen-quant-vectors.py
Needs: pip install gguf numpy. Rerun and commit the outputs when cases change.
"""
import os
import struct
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.quants import quantize, dequantize

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, "tests", "data", "quant")

# Offsets of the f16 scale fields inside each block: random block bytes get
# finite scales written there, so dequantized values stay finite.
SCALE_OFFSETS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2],
    T.Q6_K: [208],
}
LEGACY = [T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0]
KQUANTS = [T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K]
FLOATS = [T.F32, T.F16, T.BF16]


def f32(a):
    return np.asarray(a, dtype=np.float32)


def quiet_f32_nans(bits):
    """Set the quiet bit of every f32 NaN (numpy and F16C disagree on
    signalling NaN payloads when narrowing to f16; quiet ones agree)."""
    nan = ((bits & 0x7F800000) == 0x7F800000) & ((bits & 0x7FFFFF) != 0)
    return np.where(nan, bits | 0x400000, bits).astype(np.uint32)


def quiet_f16_nans(bits):
    nan = ((bits & 0x7C00) == 0x7C00) & ((bits & 0x3FF) != 0)
    return np.where(nan, bits | 0x200, bits).astype(np.uint16)


def random_scale(rng, size):
    """Finite f16 scales of either sign over four decades."""
    mag = 10.0 ** rng.uniform(-4, 0, size)
    sign = np.where(rng.random(size) < 0.5, -1.0, 1.0)
    return (sign * mag).astype(np.float16)


def random_blocks(rng, qtype, n_blocks, scales=None):
    """Random block bytes with finite f16 scales; `scales` (a list of f16
    values, one per block, used for every scale field) overrides them."""
    _, size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, (n_blocks, size), dtype=np.uint8)
    for off in SCALE_OFFSETS[qtype]:
        s = random_scale(rng, n_blocks) if scales is None else np.asarray(scales, np.float16)
        raw[:, off:off + 2] = s.view(np.uint8).reshape(n_blocks, 2)
    return raw.reshape(-1)


def float_cases(qtype, block):
    """Float inputs (name, array): seeds, scales and the edge cases."""
    g = lambda seed, n: np.random.default_rng(seed).standard_normal(n)
    cases = [
        ("gauss-s1", g(1, 5 * block)),
        ("gauss-s2-varied", g(2, 7 * block) * np.repeat(10.0 ** np.random.default_rng(20).uniform(-2, 2, 7), block)),
        ("gauss-s3-x10", g(3, 1 * block) * 10),
        ("zeros", np.zeros(3 * block)),
        ("large", np.random.default_rng(4).uniform(-6.0e4, 6.0e4, 3 * block)),
        ("negative-only", -np.abs(g(5, 3 * block)) * 3),
        ("positive-only", np.abs(g(6, 3 * block)) + 0.5),
        ("tiny", g(7, 3 * block) * 1e-6),
        ("outlier", g(8, 3 * block) * np.where(np.arange(3 * block) % 29 == 3, 1000.0, 1.0)),
    ]
    if block > 1:
        # ties: halves on a grid hit every rounding midpoint; a +a/-a pair
        # checks which extreme wins; 127 with halves makes Q8_0 see d = 1
        grid = (np.arange(block) - block / 2) * 0.5
        pm = np.linspace(-1, 1, block)
        pm[0], pm[5] = 2.0, -2.0
        q8 = np.arange(block) - 15.5
        q8[3] = 127.0
        cases.append(("ties", np.concatenate([grid, pm, q8])))
    return [(name, f32(x)) for name, x in cases]


def special_f32_bits():
    """Boundary values for the float formats, as f32 bit patterns."""
    vals = [0.0, -0.0, 1.0, -1.0, 65504.0, 65519.996, 65520.0, 65536.0, -65520.0,
            2.0 ** -24, 2.0 ** -25, 1.5 * 2.0 ** -25, 2.0 ** -25 * 1.0000001,
            2.0 ** -14, 2.0 ** -14 * (1 - 2.0 ** -11), 3 * 2.0 ** -26, 5 * 2.0 ** -26,
            1e-40, -1e-45, 3.4028235e38, -3.4028235e38, 1.0009765625, 1.00048828125,
            1.00146484375, 1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -9, np.inf, -np.inf]
    bits = list(f32(vals).view(np.uint32))
    bits += [0x7FC00000, 0xFFC00000, 0x7FC12345, 0xFFE00001]  # quiet NaNs
    return np.array(bits, dtype=np.uint32)


def write_file(path, qtype, cases):
    with open(path, "wb") as f:
        f.write(b"EMQV" + struct.pack("<III", 1, int(qtype), len(cases)))
        for inp, data, deq in cases:
            n = deq.size
            f.write(struct.pack("<II", n, 1 if inp is not None else 0))
            if inp is not None:
                assert inp.size == n
                f.write(f32(inp).tobytes())
            b = np.ascontiguousarray(data).view(np.uint8).tobytes()
            f.write(struct.pack("<I", len(b)) + b + f32(deq).tobytes())


def quant_case(qtype, x):
    data = np.ascontiguousarray(quantize(x.reshape(1, -1), qtype)).reshape(-1)
    raw = data.view(np.uint8)
    deq = dequantize(raw, qtype).reshape(-1)
    return (x, raw, deq)


def bytes_case(qtype, raw):
    return (None, raw, dequantize(raw, qtype).reshape(-1))


def gen_type(qtype):
    block, _ = gguf.GGML_QUANT_SIZES[qtype]
    cases = []
    if qtype in FLOATS:
        for _, x in float_cases(qtype, 37)[:3]:
            cases.append(quant_case(qtype, x))
        bits = special_f32_bits()
        rnd = np.random.default_rng(30).integers(0, 2 ** 32, 64, dtype=np.uint64).astype(np.uint32)
        bits = np.concatenate([bits, rnd])
        if qtype == T.F16:
            bits = quiet_f32_nans(bits)
        cases.append(quant_case(qtype, bits.view(np.float32)))
        # raw half/bfloat/float patterns, every exponent
        rng = np.random.default_rng(31)
        if qtype == T.F32:
            raw = rng.integers(0, 2 ** 32, 64, dtype=np.uint64).astype(np.uint32).view(np.uint8)
        else:
            h = rng.integers(0, 2 ** 16, 96, dtype=np.uint16)
            h[:4] = [0x0001, 0x83FF, 0x7C00, 0xFC00]
            if qtype == T.F16:
                h = quiet_f16_nans(h)
            raw = h.view(np.uint8)
        cases.append(bytes_case(qtype, raw))
    elif qtype in LEGACY:
        for _, x in float_cases(qtype, block):
            cases.append(quant_case(qtype, x))
        cases.append(bytes_case(qtype, random_blocks(np.random.default_rng(40), qtype, 5)))
    else:
        rng = np.random.default_rng(50 + int(qtype))
        cases.append(bytes_case(qtype, random_blocks(rng, qtype, 3)))
        cases.append(bytes_case(qtype, random_blocks(rng, qtype, 5)))
        # zero, subnormal and largest-finite scales
        edge = np.array([0.0, 2.0 ** -20, 65504.0], dtype=np.float16)
        cases.append(bytes_case(qtype, random_blocks(rng, qtype, 3, edge)))
        _, size = gguf.GGML_QUANT_SIZES[qtype]
        cases.append(bytes_case(qtype, np.zeros(size, dtype=np.uint8)))
        ones = np.full(size, 0xFF, dtype=np.uint8)  # every code at its maximum
        for off in SCALE_OFFSETS[qtype]:
            ones[off:off + 2] = np.array([0.5], np.float16).view(np.uint8)
        cases.append(bytes_case(qtype, ones))
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    total = 0
    for qtype in FLOATS + LEGACY + KQUANTS:
        path = os.path.join(OUT, qtype.name.lower() + ".bin")
        write_file(path, qtype, gen_type(qtype))
        total += os.path.getsize(path)
    with open(os.path.join(OUT, "types.txt"), "w") as f:
        f.write("# id name block_elems block_bytes, from gguf.GGML_QUANT_SIZES\n")
        for qtype in sorted(gguf.GGML_QUANT_SIZES, key=int):
            if int(qtype) >= 40:
                continue
            block, size = gguf.GGML_QUANT_SIZES[qtype]
            if qtype == T.Q8_1:
                # The package still lists the old f32 d/s layout (40 bytes);
                # ggml's block_q8_1 has been two halves + 32 codes = 36 bytes.
                size = 36
            f.write(f"{int(qtype)} {qtype.name} {block} {size}\n")
    with open(os.path.join(OUT, "SOURCES"), "w") as f:
        f.write("Generated by scripts/gen-quant-vectors.py from the gguf Python package\n"
                f"(gguf.quants quantize/dequantize), gguf {gguf_version()}, numpy {np.__version__}.\n"
                "types.txt: gguf.GGML_QUANT_SIZES, with Q8_1 corrected to ggml's 36 bytes.\n")
    print(f"wrote {OUT} ({total} bytes of vectors)", file=sys.stderr)


def gguf_version():
    try:
        from importlib.metadata import version
        return version("gguf")
    except Exception:
        return "unknown"


if __name__ == "__main__":
    main()
