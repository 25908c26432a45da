#!/usr/bin/env python3
"""gen_hostile.py - hostile GGUF files made from one real model.

Produces the cases tests/hostile/run_hostile.c feeds to `ember run`: the
source file truncated at every byte offset before its tensor data and at 200
offsets inside the data; every integer field of the header, metadata and
tensor table set to 0, 1, 2^31, 2^32, 2^63, 2^64-1 (the values that fit the
field's width); string lengths past the end; nested, deeply nested and
over-long arrays; wrong array element types; tensor dims whose product
overflows, n_dims 0 and 5, unknown type ids, offsets past the end, misaligned
or overlapping; duplicate and missing tensors; shapes wrong for the
architecture; a vocabulary that does not match the embedding; invalid UTF-8
in keys, names and strings; and absurd hyper-parameters.

Usage: python3 tests/hostile/gen_hostile.py SOURCE.gguf OUTDIR [--fields-only]
(--fields-only: the truncations and integer fields alone, for a source of
another layout than stories260K's: the structural cases name its tensors)
Writes OUTDIR/cases.txt, one case per line, "EXPECT KIND ARG DESCRIPTION":
  EXPECT  fail: ember must exit 1 with one "ember: error:" line;
          any:  the mutation leaves a file ember may legitimately run (a
                special-token id, a weight type with the right shape), so
                exit 0 is accepted too - but never a crash, hang or report.
  KIND    the runner builds each file from SOURCE, so 16k cases take ~15 MB:
          trunc  ARG = N: the first N bytes of SOURCE;
          patch  ARG = OFF:WIDTH:VALUE: SOURCE with the WIDTH-byte
                 little-endian integer at OFF set to VALUE;
          file   ARG = NAME:TAIL: the bytes of OUTDIR/NAME, then (TAIL > 0)
                 SOURCE from offset TAIL to its end.
Python 3 standard library only, so CI needs no pip. Runs in about a second.
"""
import os
import struct
import sys

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i",
          F32: "<f", BOOL: "<B", U64: "<Q", I64: "<q", F64: "<d"}
# ggml type id -> (block elements, block bytes), for the types we rebuild
TYPE_SIZE = {0: (1, 4), 1: (1, 2), 30: (1, 2), 8: (32, 34), 2: (32, 18)}
ALIGN = 32


# --------------------------------------------------------------- parsing

class Reader:
    def __init__(self, b):
        self.b, self.pos = b, 0
        self.fields = []  # (offset, width, label) of every integer field

    def int(self, width, label):
        fmt = "<I" if width == 4 else "<Q"
        v = struct.unpack_from(fmt, self.b, self.pos)[0]
        self.fields.append((self.pos, width, label))
        self.pos += width
        return v

    def raw(self, n):
        v = self.b[self.pos:self.pos + n]
        self.pos += n
        return v

    def str(self, label):
        n = self.int(8, label + " length")
        return self.raw(n)


def parse(b):
    """The source model: kvs [(key, type, payload bytes)], tensors
    [{name, dims, type, offset}], data offset, integer fields."""
    r = Reader(b)
    assert r.raw(4) == b"GGUF"
    version = r.int(4, "header version")
    n_t = r.int(8, "header n_tensors")
    n_kv = r.int(8, "header n_kv")
    kvs = []
    for _ in range(n_kv):
        key = r.str("key")
        label = key.decode()
        t = r.int(4, label + " value type")
        start = r.pos
        if t == STR:
            r.str(label + " string")
        elif t == ARR:
            et = r.int(4, label + " array element type")
            n = r.int(8, label + " array length")
            if et == STR:
                for j in range(n):
                    # every token's length would be 3000 fields; keep a few
                    lab = label + "[%d]" % j if j in (0, 1, n // 2, n - 1) else None
                    ln = struct.unpack_from("<Q", b, r.pos)[0]
                    if lab:
                        r.fields.append((r.pos, 8, lab + " length"))
                    r.pos += 8 + ln
            else:
                r.pos += n * struct.calcsize(SCALAR[et])
        else:
            off = r.pos
            r.pos += struct.calcsize(SCALAR[t])
            if t in (U32, I32, U64, I64):
                r.fields.append((off, struct.calcsize(SCALAR[t]), label + " value"))
        kvs.append((key, t, bytes(b[start:r.pos])))
    tensors = []
    for _ in range(n_t):
        name = r.str("tensor name")
        lab = "tensor " + name.decode()
        nd = r.int(4, lab + " n_dims")
        dims = [r.int(8, lab + " dim%d" % d) for d in range(nd)]
        t = r.int(4, lab + " type")
        off = r.int(8, lab + " offset")
        tensors.append({"name": name, "dims": dims, "type": t, "offset": off})
    # the relabelled tensor name field of each entry
    data_off = (r.pos + ALIGN - 1) // ALIGN * ALIGN
    for t in tensors:
        be, bb = TYPE_SIZE[t["type"]]
        n = 1
        for d in t["dims"]:
            n *= d
        t["data"] = bytes(b[data_off + t["offset"]:data_off + t["offset"] + n // be * bb])
    return version, kvs, tensors, data_off, r.fields


# ------------------------------------------------------------ serialising

def enc_str(s):
    return struct.pack("<Q", len(s)) + s


def enc_kv(key, t, payload):
    return enc_str(key) + struct.pack("<I", t) + payload


def build(kvs, tensors, version=3, n_tensors=None, n_kv=None, align=ALIGN):
    """A GGUF file from kvs and tensors. A tensor may carry "offset" (kept as
    given, else laid out in order), "n_dims" (written instead of len(dims))
    and "data"."""
    out = bytearray(b"GGUF")
    out += struct.pack("<IQQ", version, len(tensors) if n_tensors is None else n_tensors,
                       len(kvs) if n_kv is None else n_kv)
    for k in kvs:
        out += enc_kv(*k)
    pos, offs = 0, []
    for t in tensors:
        if t.get("fixed_offset") is not None:
            offs.append(t["fixed_offset"])
        else:
            offs.append(pos)
        pos = (pos + len(t.get("data", b"")) + align - 1) // align * align
    for t, off in zip(tensors, offs):
        dims = t["dims"]
        out += enc_str(t["name"]) + struct.pack("<I", t.get("n_dims", len(dims)))
        for d in dims:
            out += struct.pack("<Q", d)
        out += struct.pack("<IQ", t["type"], off)
    out += b"\0" * ((-len(out)) % align)
    for t in tensors:
        out += t.get("data", b"")
        out += b"\0" * ((-len(out)) % align)
    return bytes(out)


def kv_u32(key, v):
    return (key, U32, struct.pack("<I", v))


def kv_str(key, s):
    return (key, STR, enc_str(s))


def kv_arr(key, et, items):
    if et == STR:
        body = b"".join(enc_str(s) for s in items)
    else:
        body = b"".join(struct.pack(SCALAR[et], v) for v in items)
    return (key, ARR, struct.pack("<IQ", et, len(items)) + body)


# ------------------------------------------------------------------ cases

class Cases:
    """Writes each case as compactly as the runner can rebuild it."""

    def __init__(self, outdir, src, data_off):
        self.outdir, self.lines, self.n = outdir, [], 0
        self.src, self.data = src, src[data_off:]
        self.data_off = data_off

    def trunc(self, n, desc):
        self.lines.append("fail trunc %d %s" % (n, desc))

    def patch(self, off, width, value, desc, expect="fail"):
        self.lines.append("%s patch %d:%d:%d %s" % (expect, off, width, value, desc))

    def file(self, data, desc, expect="fail"):
        """A rebuilt file; when it ends with the source's tensor data, only
        its head is written and the runner appends the source's tail."""
        self.n += 1
        name = "h%05d" % self.n
        tail = 0
        if len(data) > len(self.data) and data.endswith(self.data):
            data, tail = data[:-len(self.data)], self.data_off
        with open(os.path.join(self.outdir, name), "wb") as f:
            f.write(data)
        self.lines.append("%s file %s:%d %s" % (expect, name, tail, desc))

    def write(self):
        with open(os.path.join(self.outdir, "cases.txt"), "w") as f:
            f.write("\n".join(self.lines) + "\n")


# Field values: the brief's list, as far as the field's width holds them.
VALUES = {4: [0, 1, 2**31, 2**32 - 1], 8: [0, 1, 2**31, 2**32, 2**63, 2**64 - 1]}

# Scalar metadata whose new value ember may accept: a special-token id still
# inside the 512-token vocabulary or 2^32-1 (u32 -1, "none"; any other id
# outside is refused, naming the key), and one layer (block_count 1) of a five-layer file is a smaller
# valid model.
def value_expect(label, v, fields_only=False):
    if "token_id" in label:
        return "any" if v < 512 or v == 2**32 - 1 else "fail"
    if label.endswith(".block_count value") and v == 1:
        return "any"
    # mixture-of-experts sources (--fields-only): one expert a token is a
    # model; the file type is a label; feed_forward_length is only a default
    # where expert_feed_forward_length is given
    if label.endswith(".expert_used_count value") and v == 1:
        return "any"
    if label == "general.file_type value" or (fields_only and label.endswith(".feed_forward_length value")):
        return "any"
    return "fail"


def field_cases(c, src, fields, tensors, fields_only=False):
    weight_types = {}
    for t in tensors:
        # qwen2moe's shared-expert gate is 1-D but multiplied as a matrix
        weight_types["tensor " + t["name"].decode() + " type"] = \
            len(t["dims"]) == 2 or b"gate_inp_shexp" in t["name"]
    for off, width, label in fields:
        orig = int.from_bytes(src[off:off + width], "little")
        for v in VALUES[width]:
            if v == orig:
                continue
            expect = "fail"
            if label.endswith(" value"):
                expect = value_expect(label, v, fields_only)
            elif label in weight_types and weight_types[label] and v == 1:
                expect = "any"  # F32 -> F16 matrix: right shape, other weights
            c.patch(off, width, v, "%s = %d (was %d)" % (label, v, orig), expect)


def replace_kv(kvs, key, new):
    """kvs with key's entry replaced by new (or removed when new is None)."""
    out = []
    for k in kvs:
        if k[0] == key:
            if new is not None:
                out.append(new)
        else:
            out.append(k)
    return out


def get_kv(kvs, key):
    for k in kvs:
        if k[0] == key:
            return k
    raise KeyError(key)


def str_array_items(payload):
    et, n = struct.unpack_from("<IQ", payload, 0)
    pos, items = 12, []
    for _ in range(n):
        ln = struct.unpack_from("<Q", payload, pos)[0]
        items.append(payload[pos + 8:pos + 8 + ln])
        pos += 8 + ln
    return items


def scalar_array_items(payload):
    et, n = struct.unpack_from("<IQ", payload, 0)
    fmt = SCALAR[et]
    return et, list(struct.unpack_from("<%d%s" % (n, fmt[1]), payload, 12))


def structural_cases(c, src, kvs, tensors, data_off):
    T = lambda: [dict(t) for t in tensors]  # a fresh copy to edit
    good = build(kvs, tensors)
    size = len(good)

    # string lengths past the end, of a key, a string value, a token, a name
    for what, needle in [("key general.architecture", b"general.architecture"),
                         ("string tokenizer.ggml.model", b"llama"),
                         ("token <0x00>", b"<0x00>"),
                         ("tensor name output.weight", b"output.weight")]:
        i = good.index(enc_str(needle))
        rest = len(good) - (i + 8)
        for v in [rest + 1, rest + 4096, 2**63 - 1, 2**64 - 9, 2**64 - 1]:
            b = bytearray(good)
            b[i:i + 8] = struct.pack("<Q", v)
            c.file(bytes(b), "%s length %d (%d bytes left)" % (what, v, rest))

    # arrays: nested, deeply nested, over-long, wrong element types
    tok = get_kv(kvs, b"tokenizer.ggml.tokens")
    scores = get_kv(kvs, b"tokenizer.ggml.scores")
    types = get_kv(kvs, b"tokenizer.ggml.token_type")
    toks = str_array_items(tok[2])
    _, score_v = scalar_array_items(scores[2])
    _, type_v = scalar_array_items(types[2])
    inner = struct.pack("<IQ", U8, 2) + b"\1\2"
    nested = (b"x.nested", ARR, struct.pack("<IQ", ARR, 2) + inner + inner)
    c.file(build(kvs + [nested], tensors), "array of arrays")
    deep = struct.pack("<IQ", U8, 1) + b"\0"
    for _ in range(2000):
        deep = struct.pack("<IQ", ARR, 1) + deep
    c.file(build(kvs + [(b"x.deep", ARR, deep)], tensors), "arrays nested 2000 deep")
    for key, et in [(b"tokenizer.ggml.tokens", STR), (b"tokenizer.ggml.scores", F32),
                    (b"tokenizer.ggml.token_type", I32)]:
        p = get_kv(kvs, key)[2]
        n = struct.unpack_from("<Q", p, 4)[0]
        for v in [n + 1, 2**32, 2**61, 2**62, 2**62 + 1, 2**63, 2**64 - 1]:
            q = bytearray(p)
            q[4:12] = struct.pack("<Q", v)
            c.file(build(replace_kv(kvs, key, (key, ARR, bytes(q))), tensors),
                   "%s array length %d (really %d)" % (key.decode(), v, n))
        for bad_et in [ARR, 13, 255, 2**31, 2**32 - 1]:
            q = bytearray(p)
            q[0:4] = struct.pack("<I", bad_et)
            c.file(build(replace_kv(kvs, key, (key, ARR, bytes(q))), tensors),
                   "%s element type %d" % (key.decode(), bad_et))
    # well-formed arrays of the wrong element type for known keys
    c.file(build(replace_kv(kvs, scores[0], kv_arr(scores[0], U8, [0] * len(score_v))), tensors),
           "scores declared as u8")
    c.file(build(replace_kv(kvs, types[0], kv_arr(types[0], STR, [b"1"] * len(type_v))), tensors),
           "token types declared as strings")
    c.file(build(replace_kv(kvs, tok[0], kv_arr(tok[0], I32, list(range(len(toks))))), tensors),
           "tokens declared as i32")
    c.file(build(replace_kv(kvs, tok[0], (tok[0], U32, struct.pack("<I", 5))), tensors),
           "tokens as a scalar")
    c.file(build(replace_kv(kvs, scores[0], kv_arr(scores[0], F32, score_v[:10])), tensors),
           "10 scores for 512 tokens")
    c.file(build(replace_kv(kvs, types[0], kv_arr(types[0], I32, type_v + [1])), tensors),
           "513 token types for 512 tokens")
    c.file(build(replace_kv(kvs, types[0], kv_arr(types[0], I32, [2**31 - 1] * len(type_v))), tensors),
           "token types all 2^31-1")
    c.file(build(replace_kv(kvs, types[0], kv_arr(types[0], I32, [-1] * len(type_v))), tensors),
           "token types all -1")
    c.file(build(replace_kv(kvs, scores[0], kv_arr(scores[0], F32, [float("nan")] * len(score_v))), tensors),
           "scores all NaN")
    c.file(build(replace_kv(kvs, scores[0], kv_arr(scores[0], F32, [float("inf")] * len(score_v))), tensors),
           "scores all +inf")

    # one bad entry: a token type outside llama.cpp's 0-6, a non-finite score
    for i, v in [(300, 7), (3, -1), (511, 99)]:
        tv = list(type_v)
        tv[i] = v
        c.file(build(replace_kv(kvs, types[0], kv_arr(types[0], I32, tv)), tensors),
               "token %d has type %d" % (i, v))
    for i, v in [(300, float("nan")), (511, float("-inf"))]:
        sv = list(score_v)
        sv[i] = v
        c.file(build(replace_kv(kvs, scores[0], kv_arr(scores[0], F32, sv)), tensors),
               "token %d has score %r" % (i, v))

    # the vocabulary against its label: this SentencePiece vocabulary (byte
    # tokens, U+2581) called WordPiece or byte-level BPE, and a vocabulary
    # that spells nothing
    model = b"tokenizer.ggml.model"
    c.file(build(replace_kv(kvs, model, kv_str(model, b"bert")), tensors),
           "a llama vocabulary labelled bert")
    c.file(build(replace_kv(kvs, model, kv_str(model, b"gpt2")) + [kv_arr(b"tokenizer.ggml.merges", STR, [b"a b"])],
                 tensors), "a llama vocabulary labelled gpt2, with merges")
    c.file(build(replace_kv(kvs, tok[0], kv_arr(tok[0], STR, [b""] * len(toks))), tensors),
           "every token text empty")
    gpt2ish = [b"g%d" % i for i in range(len(toks))]
    c.file(build(replace_kv(kvs, tok[0], kv_arr(tok[0], STR, gpt2ish)), tensors),
           "no byte tokens and no U+2581 under a llama label")

    # vocabulary size against the embedding
    c.file(build(replace_kv(replace_kv(replace_kv(kvs, tok[0], kv_arr(tok[0], STR, toks[:511])),
                                       scores[0], kv_arr(scores[0], F32, score_v[:511])),
                            types[0], kv_arr(types[0], I32, type_v[:511])), tensors),
           "511 tokens for a 512-row embedding")
    c.file(build(replace_kv(replace_kv(replace_kv(kvs, tok[0], kv_arr(tok[0], STR, toks + [b"extra"])),
                                       scores[0], kv_arr(scores[0], F32, score_v + [0.0])),
                            types[0], kv_arr(types[0], I32, type_v + [1])), tensors),
           "513 tokens for a 512-row embedding")
    c.file(build(replace_kv(kvs, tok[0], kv_arr(tok[0], STR, [])), tensors), "no tokens")
    c.file(build(replace_kv(kvs, tok[0], None), tensors), "tokens missing")
    dup = list(toks)
    dup[300] = dup[301]
    c.file(build(replace_kv(kvs, tok[0], kv_arr(tok[0], STR, dup)), tensors), "two tokens with the same text")

    # token texts: invalid UTF-8, broken byte tokens, empty, huge
    for desc, edit in [("invalid UTF-8 tokens", {300: b"\xff\xfe", 301: b"\xc3", 302: b"\xed\xa0\x80", 303: b"\xf8\x88\x80\x80\x80"}),
                       ("byte tokens <0x-1> <0xZZ> <0x>", {3: b"<0x-1>", 4: b"<0xZZ>", 5: b"<0x>", 6: b"<0x100>"}),
                       ("empty token texts", {300: b"", 301: b""}),
                       ("a 64 KiB token", {300: b"a" * 65536}),
                       ("tokens with NUL bytes", {300: b"a\0b", 301: b"\0"})]:
        t2 = list(toks)
        for k, v in edit.items():
            t2[k] = v
        c.file(build(replace_kv(kvs, tok[0], kv_arr(tok[0], STR, t2)), tensors), desc, "any")

    # strings elsewhere: invalid UTF-8 in keys, names, architecture
    c.file(build(replace_kv(kvs, b"general.name", kv_str(b"general.name", b"\xff\xfe\xc3")), tensors),
           "invalid UTF-8 in general.name", "any")
    c.file(build(kvs + [kv_str(b"x.\xff\xfe", b"v")], tensors), "invalid UTF-8 in a key", "any")
    for v in [b"\xff\xfe", b"", b"llama\0", b"LLAMA", b"llama" * 1000, b"mamba"]:
        c.file(build(replace_kv(kvs, b"general.architecture", kv_str(b"general.architecture", v)), tensors),
               "general.architecture %r" % v[:12])
    c.file(build(replace_kv(kvs, b"general.architecture", kv_u32(b"general.architecture", 1)), tensors),
           "general.architecture is a u32")
    c.file(build(replace_kv(kvs, b"general.architecture", None), tensors), "general.architecture missing")
    for v in [b"\xff", b"", b"bogus"]:
        c.file(build(replace_kv(kvs, b"tokenizer.ggml.model", kv_str(b"tokenizer.ggml.model", v)), tensors),
               "tokenizer.ggml.model %r" % v)
    c.file(build(replace_kv(kvs, b"tokenizer.ggml.model", None), tensors), "tokenizer.ggml.model missing")
    t2 = T()
    t2[5]["name"] = b"blk.0.attn_\xff.weight"
    c.file(build(kvs, t2), "invalid UTF-8 in a tensor name")
    t2 = T()
    t2[5]["name"] = b""
    c.file(build(kvs, t2), "empty tensor name")
    t2 = T()
    t2[5]["name"] = b"n" * 64
    c.file(build(kvs, t2), "64-byte tensor name")
    c.file(build(kvs + [kvs[4]], tensors), "duplicate metadata key")

    # general.alignment
    for v in [0, 3, 24, 2**30, 2**31]:
        c.file(build(kvs + [kv_u32(b"general.alignment", v)], tensors), "general.alignment %d" % v)
    c.file(build(kvs + [(b"general.alignment", U64, struct.pack("<Q", 32))], tensors),
           "general.alignment as u64", "any")
    c.file(build(kvs + [kv_str(b"general.alignment", b"32")], tensors), "general.alignment as a string")

    # tensor table
    names = [t["name"] for t in tensors]
    idx = {n: i for i, n in enumerate(names)}
    q = idx[b"blk.0.attn_q.weight"]
    norm = idx[b"blk.0.attn_norm.weight"]
    for dims, desc in [([2**32, 2**32], "dims 2^32 x 2^32 (product overflows)"),
                       ([2**62, 4], "dims 2^62 x 4"), ([2**63 - 1, 2], "dims (2^63-1) x 2"),
                       ([64, 64, 2**61], "dims 64 x 64 x 2^61 (bytes overflow)"),
                       ([3, 5, 7, 11], "4 dims, wrong shape"), ([64, 64, 1, 1], "4 dims, trailing ones"),
                       ([2**63, 1], "dim 2^63"), ([64, 0], "a zero dim")]:
        t2 = T()
        t2[q]["dims"] = dims
        c.file(build(kvs, t2), "attn_q " + desc)
    for nd in [0, 5, 2**31, 2**32 - 1]:
        t2 = T()
        t2[q]["n_dims"] = nd
        c.file(build(kvs, t2), "attn_q n_dims %d" % nd)
    for ty in [4, 5, 31, 39, 100, 2**31, 2**32 - 1]:
        t2 = T()
        t2[q]["type"] = ty
        c.file(build(kvs, t2), "attn_q type id %d" % ty)
    t2 = T()
    t2[norm]["type"] = 1
    c.file(build(kvs, t2), "a norm vector stored as F16")
    t2 = T()
    t2[q]["type"] = 8  # Q8_0: 64 elements per row -> 2 blocks, fits inside the F32 bytes
    c.file(build(kvs, t2), "attn_q declared Q8_0 over F32 bytes", "any")
    for off, desc in [(size, "at the end of the file"), (size * 4, "past the end"),
                      (2**64 - 32, "2^64-32 (offset + size overflows)"), (2**63, "2^63"),
                      (tensors[q]["offset"] + 1, "misaligned by 1"), (tensors[q]["offset"] + 16, "misaligned by 16"),
                      (0, "overlapping token_embd")]:
        t2 = T()
        for t, o in zip(t2, [t["offset"] for t in tensors]):
            t["fixed_offset"] = o
        t2[q]["fixed_offset"] = off
        c.file(build(kvs, t2), "attn_q offset " + desc)
    # the last tensor ends one byte past the file
    bb = bytearray(good)
    c.file(bytes(bb[:-1]), "file one byte short of the last tensor")
    for i, n in [(q, names[q]), (norm, names[norm]), (idx[b"token_embd.weight"], b"token_embd.weight"),
                 (idx[b"output_norm.weight"], b"output_norm.weight"),
                 (idx[b"blk.4.ffn_down.weight"], b"blk.4.ffn_down.weight")]:
        t2 = T()
        del t2[i]
        c.file(build(kvs, t2), "missing tensor " + n.decode())
    t2 = T()
    t2[idx[b"blk.0.attn_k.weight"]]["name"] = b"blk.0.attn_q.weight"
    c.file(build(kvs, t2), "duplicate tensor name blk.0.attn_q.weight")
    t2 = T() + [dict(tensors[q])]
    c.file(build(kvs, t2), "a tensor listed twice")
    # shapes wrong for the architecture (same byte size, other shape)
    for name, dims in [(b"blk.0.attn_q.weight", [32, 128]), (b"blk.0.attn_k.weight", [32, 64]),
                       (b"blk.0.ffn_gate.weight", [172, 64]), (b"token_embd.weight", [512, 64]),
                       (b"output.weight", [128, 256]), (b"blk.2.attn_norm.weight", [32, 2]),
                       (b"blk.3.ffn_down.weight", [64, 172])]:
        t2 = T()
        t2[idx[name]]["dims"] = dims
        c.file(build(kvs, t2), "%s shape %s" % (name.decode(), dims))
    t2 = T()
    emb = t2[idx[b"token_embd.weight"]]
    emb["dims"] = [64, 511]
    emb["data"] = emb["data"][:64 * 511 * 4]
    out = t2[idx[b"output.weight"]]
    out["dims"] = [64, 511]
    out["data"] = out["data"][:64 * 511 * 4]
    c.file(build(kvs, t2), "embedding of 511 rows for 512 tokens")
    c.file(build(kvs, []), "no tensors at all")
    c.file(build(kvs, tensors, n_tensors=2**40), "n_tensors 2^40")
    c.file(build([], tensors), "no metadata at all")

    # hyper-parameters: absurd, inconsistent, not dividing
    hp = [(b"llama.block_count", [0, 6, 4097, 2**31]),
          (b"llama.attention.head_count", [0, 3, 7, 16, 65, 4096]),
          (b"llama.attention.head_count_kv", [0, 3, 5, 16, 2**31]),
          (b"llama.rope.dimension_count", [0, 1, 7, 16, 64, 2**31]),
          (b"llama.embedding_length", [0, 63, 65, 128, 2**20, 2**31]),
          (b"llama.feed_forward_length", [0, 171, 173, 2**31]),
          (b"llama.context_length", [0, 1, 2, 2**31])]
    for key, vals in hp:
        for v in vals:
            c.file(build(replace_kv(kvs, key, kv_u32(key, v)), tensors), "%s = %d" % (key.decode(), v))
        c.file(build(replace_kv(kvs, key, kv_str(key, b"8")), tensors), "%s as a string" % key.decode())
        c.file(build(replace_kv(kvs, key, (key, I32, struct.pack("<i", -8))), tensors),
               "%s = -8 (i32)" % key.decode())
        c.file(build(replace_kv(kvs, key, (key, F32, struct.pack("<f", 8.0))), tensors),
               "%s as f32" % key.decode())
        if key not in (b"llama.attention.head_count_kv", b"llama.rope.dimension_count",
                       b"llama.context_length"):
            c.file(build(replace_kv(kvs, key, None), tensors), "%s missing" % key.decode())
    for key in [b"llama.attention.key_length", b"llama.attention.value_length"]:
        for v in [0, 4, 16, 2**31]:
            c.file(build(kvs + [kv_u32(key, v)], tensors), "%s = %d" % (key.decode(), v))
    eps = b"llama.attention.layer_norm_rms_epsilon"
    for v in [float("nan"), float("inf"), -1.0, 0.0]:
        c.file(build(replace_kv(kvs, eps, (eps, F32, struct.pack("<f", v))), tensors),
               "rms epsilon %r" % v)
    for key in [b"llama.rope.freq_base", b"llama.rope.scaling.factor"]:
        for v in [float("nan"), float("-inf"), 0.0, -1.0]:
            c.file(build(kvs + [(key, F32, struct.pack("<f", v))], tensors), "%s %r" % (key.decode(), v))
    for v in [b"bogus", b"\xff", b""]:
        c.file(build(kvs + [kv_str(b"llama.rope.scaling.type", v)], tensors), "rope scaling type %r" % v)
    # special-token ids out of range or of the wrong type
    for key in [b"tokenizer.ggml.bos_token_id", b"tokenizer.ggml.eos_token_id",
                b"tokenizer.ggml.unknown_token_id"]:
        c.file(build(replace_kv(kvs, key, kv_u32(key, 512)), tensors), "%s = n_vocab" % key.decode())
        c.file(build(replace_kv(kvs, key, (key, I32, struct.pack("<i", -5))), tensors),
               "%s = -5" % key.decode())
        c.file(build(replace_kv(kvs, key, kv_str(key, b"1")), tensors), "%s as a string" % key.decode())
    for key in [b"tokenizer.ggml.eot_token_id", b"tokenizer.ggml.padding_token_id"]:
        present = any(k[0] == key for k in kvs)  # stories260K has pad = 2^32-1 ("none")
        new = replace_kv(kvs, key, kv_u32(key, 512)) if present else kvs + [kv_u32(key, 512)]
        c.file(build(new, tensors), "%s = n_vocab" % key.decode())
    c.file(build(kvs + [(b"tokenizer.ggml.add_bos_token", U32, struct.pack("<I", 1))], tensors),
           "add_bos_token as u32")
    # header
    for v in [0, 1, 2, 4, 2**31]:
        c.file(build(kvs, tensors, version=v), "version %d" % v, "any" if v == 2 else "fail")
    c.file(build(kvs, tensors, n_kv=len(kvs) + 1), "one more kv than present")
    c.file(build(kvs, tensors, n_tensors=len(tensors) + 1), "one more tensor than present")
    c.file(b"GGUF", "magic only")
    c.file(b"GGUF" + b"\0" * 20, "header of zeros")
    c.file(b"GGUF\3\0\0\0" + b"\xff" * 16, "counts all ones")


def main():
    fields_only = sys.argv[3:] == ["--fields-only"]
    if len(sys.argv) != 3 and not fields_only:
        sys.exit("usage: gen_hostile.py SOURCE.gguf OUTDIR [--fields-only]")
    src = open(sys.argv[1], "rb").read()
    os.makedirs(sys.argv[2], exist_ok=True)
    version, kvs, tensors, data_off, fields = parse(src)
    assert build(kvs, tensors, version=version) == src, "rebuild differs from the source"
    c = Cases(sys.argv[2], src, data_off)
    for n in range(data_off):
        c.trunc(n, "truncated at %d of %d header bytes" % (n, data_off))
    span = len(src) - data_off
    for k in range(200):
        n = data_off + span * k // 200 + (k % 7)
        c.trunc(min(n, len(src) - 1), "truncated in the data at %d of %d" % (n, len(src)))
    field_cases(c, src, fields, tensors, fields_only)
    if not fields_only:
        structural_cases(c, src, kvs, tensors, data_off)
    c.write()
    print("%d cases (%d files) in %s" % (len(c.lines), c.n, sys.argv[2]))


if __name__ == "__main__":
    main()
