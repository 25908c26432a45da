/*
 * cpu_features_x86.c — feature detection on x86-64 (built only there):
 * cpuid for what the core implements, xgetbv for what the OS saves on a
 * context switch (AVX-512 state is useless if the kernel does not save it).
 */
#include <cpuid.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cpu_features.h"

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* The brand string (leaves 0x80000002-4, blanks trimmed), the vendor
 * (leaf 0) and the family and model with their extended fields folded in
 * as the SDM and AMD's APM define them. */
static void cpu_name(struct cpu_features *f, unsigned leaf1_eax) {
    unsigned r[12] = {0}, v[4] = {0};
    char brand[49] = {0}, vendor[13] = {0};
    if (__get_cpuid(0x80000000, &r[0], &r[1], &r[2], &r[3]) && r[0] >= 0x80000004) {
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002 + i, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
        memcpy(brand, r, 48);
    }
    if (__get_cpuid(0, &v[0], &v[1], &v[2], &v[3])) {
        memcpy(vendor, &v[1], 4);
        memcpy(vendor + 4, &v[3], 4);
        memcpy(vendor + 8, &v[2], 4);
    }
    const char *b = brand;
    while (*b == ' ') b++;
    size_t n = strlen(b);
    while (n && b[n - 1] == ' ') n--;
    unsigned family = (leaf1_eax >> 8) & 0xf, model = (leaf1_eax >> 4) & 0xf;
    if (family == 0xf || family == 0x6) model |= ((leaf1_eax >> 16) & 0xf) << 4;
    if (family == 0xf) family += (leaf1_eax >> 20) & 0xff;
    snprintf(f->name, sizeof f->name, "%.*s (%s family %u model %u)", n ? (int)n : 3, n ? b : "x86",
             vendor[0] ? vendor : "unknown vendor", family, model);
}

void cpu_detect(struct cpu_features *f) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    cpu_name(f, a);
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
