/*
 * cpu_features_x86.c — feature detection on x86-64 (built only there):
 * cpuid for what the core implements, xgetbv for what the OS saves on a
 * context switch (AVX-512 state is useless if the kernel does not save it).
 */
#include <cpuid.h>
#include <stdint.h>

#include "cpu_features.h"

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

void cpu_detect(struct cpu_features *f) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    bool osxsave = c & (1u << 27), avx = c & (1u << 28);
    f->fma = c & (1u << 12);
    f->f16c = c & (1u << 29);
    uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    bool os_avx = (xcr0 & 0x6) == 0x6;
    f->os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    f->avx2 = avx && os_avx && (b & (1u << 5));
    f->avx512f = b & (1u << 16);
    f->avx512bw = b & (1u << 30);
    f->avx512vl = b & (1u << 31);
    f->avx512vnni = c & (1u << 11);
    if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) f->avx512bf16 = a & (1u << 5);
    if (!os_avx) f->fma = f->f16c = false;
}
