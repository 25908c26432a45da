#!/usr/bin/env python3
"""launch_syntax.py (tests/cuda_emu) — prints a .cu file with each kernel
launch `name<...><<<grid, block[, shmem, stream]>>>(args);` rewritten as
`emu_launch(dim3(grid), dim3(block), [=]() { name<...>(args); });` (emu.h),
so g++ can compile the kernels for make cuda-emu. Usage: launch_syntax.py FILE.cu"""
import sys
src = open(sys.argv[1]).read()
out = []
i = 0
while True:
    j = src.find("<<<", i)
    if j < 0:
        out.append(src[i:]); break
    # walk back over template args and the name
    k = j
    if src[k - 1] == ">":
        depth = 0
        k -= 1
        while True:
            if src[k] == ">": depth += 1
            elif src[k] == "<":
                depth -= 1
                if depth == 0: break
            k -= 1
    while src[k - 1].isalnum() or src[k - 1] == "_": k -= 1
    name = src[k:j]
    e = src.find(">>>", j)
    conf = src[j + 3:e]
    parts, depth, cur = [], 0, ""
    for ch in conf:
        if ch in "([": depth += 1
        if ch in ")]": depth -= 1
        if ch == "," and depth == 0: parts.append(cur); cur = ""
        else: cur += ch
    parts.append(cur)
    p = e + 3
    assert src[p] == "("
    depth, q = 0, p
    while True:
        if src[q] == "(": depth += 1
        if src[q] == ")":
            depth -= 1
            if depth == 0: break
        q += 1
    args = src[p + 1:q]
    assert src[q + 1] == ";"
    out.append(src[i:k])
    out.append("emu_launch(dim3(%s), dim3(%s), [=]() { %s(%s); });" % (parts[0], parts[1], name, args))
    i = q + 2
print("".join(out))
