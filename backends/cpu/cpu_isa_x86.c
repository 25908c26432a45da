/*
 * cpu_isa_x86.c — the x86-64 kernel sets, best first, and what each needs.
 */
#include "cpu_isa.h"
#include "cpu_kernels.h"

static bool has_avx2(const struct cpu_features *f) { return f->avx2 && f->fma && f->f16c; }

static bool has_avx512(const struct cpu_features *f) {
    return has_avx2(f) && f->os_avx512 && f->avx512f && f->avx512bw && f->avx512vl &&
           f->avx512vnni;
}

const struct cpu_isa_entry cpu_isa_table[] = {
    {CPU_ISA_AVX512, has_avx512, cpu_install_avx512, &vec_avx512},
    {CPU_ISA_AVX2, has_avx2, cpu_install_avx2, &vec_avx2},
};
const int cpu_isa_table_len = sizeof cpu_isa_table / sizeof cpu_isa_table[0];
