/*
 * install_basic.c — installs the x86 kernels of the basic types (F32, F16,
 * BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) and of their activation formats (F16,
 * BF16, Q8_0, Q8_1 conversions) into a kernel table (cpu_kernels.h). Built without ISA
 * flags: it only stores pointers; install_x86.c calls it after the CPU
 * check, and the AVX-512 set runs on top of the AVX2 one.
 */
#include "basic_kernels.h"
#include "cpu_features.h"
#include "cpu_kernels.h"

void cpu_install_avx2_basic(struct type_kernels *t);
void cpu_install_avx512_basic(struct type_kernels *t);

void cpu_install_avx2_basic(struct type_kernels *t) {
    cpu_set_dot(t, EMBER_TYPE_F32, f32_dot_avx2, f32_mul_mat_avx2);
    cpu_set_dot(t, EMBER_TYPE_F16, f16_dot_avx2, f16_mul_mat_avx2);
    cpu_set_dot(t, EMBER_TYPE_BF16, bf16_dot_avx2, bf16_mul_mat_avx2);
    cpu_set_dot(t, EMBER_TYPE_Q4_0, q4_0_dot_avx2, q4_0_mul_mat_avx2);
    cpu_set_dot(t, EMBER_TYPE_Q4_1, q4_1_dot_avx2, q4_1_mul_mat_avx2);
    cpu_set_dot(t, EMBER_TYPE_Q5_0, q5_0_dot_avx2, q5_0_mul_mat_avx2);
    cpu_set_dot(t, EMBER_TYPE_Q5_1, q5_1_dot_avx2, q5_1_mul_mat_avx2);
    cpu_set_dot(t, EMBER_TYPE_Q8_0, q8_0_dot_avx2, q8_0_mul_mat_avx2);

    /* the widths from make bench-kernels COLS on a Zen 4 core (packing
     * each band, against mul_mat): Q4_0 wins from 8 columns; Q8_0, whose
     * packed AVX2 product gains little over its panel GEMM, only from
     * about 256 (57.6 against 59.8 GMAC/s there, 57.2 against 54.9 at 64) */
    cpu_set_packed(t, EMBER_TYPE_Q4_0, 8, q4_0x8_pack_bytes, q4_0x8_pack, q4_0_mul_mat_packed_avx2);
    cpu_set_packed(t, EMBER_TYPE_Q8_0, 256, q8_0x8_pack_bytes, q8_0x8_pack, q8_0_mul_mat_packed_avx2);

    t[EMBER_TYPE_F16].quantize = f16_quantize_avx2;
    t[EMBER_TYPE_F16].dequant = f16_dequant_avx2;
    t[EMBER_TYPE_BF16].quantize = bf16_quantize_avx2;
    t[EMBER_TYPE_BF16].dequant = bf16_dequant_avx2;
    t[EMBER_TYPE_Q8_0].quantize = q8_0_quantize_avx2;
    t[EMBER_TYPE_Q8_0].dequant = q8_0_dequant_avx2;
    t[EMBER_TYPE_Q8_1].quantize = q8_1_quantize_avx2;
}

/* On top of the AVX2 kernels: VNNI for the int8 blocks, bigger register
 * tiles for F32/F16, and VDPBF16PS for BF16 where the CPU has it (the set
 * itself does not require AVX512_BF16: Ice Lake and Cascade Lake lack it).
 * Dots of F32/F16 keep AVX2: decode is memory-bound and 256-bit FMAs
 * already outrun memory. */
void cpu_install_avx512_basic(struct type_kernels *t) {
    cpu_set_dot(t, EMBER_TYPE_F32, NULL, f32_mul_mat_avx512);
    cpu_set_dot(t, EMBER_TYPE_F16, NULL, f16_mul_mat_avx512);
    if (cpu_features()->avx512bf16)
        cpu_set_dot(t, EMBER_TYPE_BF16, bf16_dot_avx512bf16, bf16_mul_mat_avx512bf16);
    cpu_set_dot(t, EMBER_TYPE_Q4_0, q4_0_dot_avx512, q4_0_mul_mat_avx512);
    cpu_set_dot(t, EMBER_TYPE_Q4_1, q4_1_dot_avx512, q4_1_mul_mat_avx512);
    cpu_set_dot(t, EMBER_TYPE_Q5_0, q5_0_dot_avx512, q5_0_mul_mat_avx512);
    cpu_set_dot(t, EMBER_TYPE_Q5_1, q5_1_dot_avx512, q5_1_mul_mat_avx512);
    cpu_set_dot(t, EMBER_TYPE_Q8_0, q8_0_dot_avx512, q8_0_mul_mat_avx512);
    /* Q8_0's 16-row VNNI product beats its panel GEMM from 32 columns
     * (94.8 against 91.2 GMAC/s; 66.1 against 73.1 at 16) */
    cpu_set_packed(t, EMBER_TYPE_Q4_0, 8, q4_0x8_pack_bytes, q4_0x8_pack, q4_0_mul_mat_packed_avx512);
    cpu_set_packed(t, EMBER_TYPE_Q8_0, 32, q8_0x8_pack_bytes, q8_0x8_pack_biased,
                   q8_0_mul_mat_packed_avx512);
    /* Q5_0 values are Q8_0 codes: packed as Q8_0 for its 16-row product,
     * which wins from 8 columns (59 against 46 GMAC/s; 141 against 91 at
     * 128, Xeon) */
    cpu_set_packed(t, EMBER_TYPE_Q5_0, 8, q8_0x8_pack_bytes, q5_0_x8_pack_biased_avx512,
                   q8_0_mul_mat_packed_avx512);
}
