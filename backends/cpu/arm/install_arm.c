/*
 * install_arm.c — put the AArch64 NEON kernels (kernels_neon.h) into a
 * kernel table (cpu_kernels.h). The NEON set needs Advanced SIMD and the
 * dot-product extension (cpu_isa_arm.c checks both before calling this). Every dot
 * slot and every activation quantizer gets a NEON kernel; the weight
 * quantizers of the K-quants and Q4_1/Q5_x, and the dequantizers without a
 * NEON version, keep the scalar reference. Where the CPU also has the int8
 * matrix multiply (i8mm), the Q4_0 and Q8_0 batched products use it.
 * Built without ISA flags: it only stores pointers.
 */
#include "cpu_features.h"
#include "cpu_kernels.h"
#include "gptq_kernels.h"
#include "kernels_neon.h"

void cpu_install_neon(struct type_kernels *t) {
    cpu_set_dot(t, EMBER_TYPE_F32, f32_dot_neon, NULL);
    cpu_set_dot(t, EMBER_TYPE_F16, f16_dot_neon, NULL);
    cpu_set_dot(t, EMBER_TYPE_BF16, bf16_dot_neon, NULL);
    cpu_set_dot(t, EMBER_TYPE_Q4_0, q4_0_dot_neon, NULL);
    cpu_set_dot(t, EMBER_TYPE_Q4_1, q4_1_dot_neon, NULL);
    cpu_set_dot(t, EMBER_TYPE_Q5_0, q5_0_dot_neon, NULL);
    cpu_set_dot(t, EMBER_TYPE_Q5_1, q5_1_dot_neon, NULL);
    cpu_set_dot(t, EMBER_TYPE_Q8_0, q8_0_dot_neon, NULL);
    cpu_set_dot(t, EMBER_TYPE_Q2_K, q2_k_dot_neon, NULL);
    cpu_set_dot(t, EMBER_TYPE_Q3_K, q3_k_dot_neon, NULL);
    cpu_set_dot(t, EMBER_TYPE_Q4_K, q4_k_dot_neon, NULL);
    cpu_set_dot(t, EMBER_TYPE_Q5_K, q5_k_dot_neon, NULL);
    cpu_set_dot(t, EMBER_TYPE_Q6_K, q6_k_dot_neon, NULL);
    t[EMBER_TYPE_GPTQ4].mul_mat_gptq = t[EMBER_TYPE_GPTQ8].mul_mat_gptq = gptq_mul_mat_neon;

    struct type_kernels *q4 = &t[EMBER_TYPE_Q4_0], *q8 = &t[EMBER_TYPE_Q8_0];
    q4->mul_mat = q4_0_mul_mat_neon_4x4;
    q4->dequant = q4_0_dequant_neon;
    q8->mul_mat = q8_0_mul_mat_neon_4x4;
    q8->dequant = q8_0_dequant_neon;
    q8->quantize = q8_0_quantize_neon;
    if (cpu_features()->i8mm) {
        q4->mul_mat = q4_0_mul_mat_i8mm;
        q8->mul_mat = q8_0_mul_mat_i8mm;
    }
    t[EMBER_TYPE_Q8_1].quantize = q8_1_quantize_neon;
    t[EMBER_TYPE_Q8_K].quantize = q8_k_quantize_neon;
    t[EMBER_TYPE_F16].dequant = f16_dequant_neon;
    t[EMBER_TYPE_F16].quantize = f16_quantize_neon;
    t[EMBER_TYPE_BF16].dequant = bf16_dequant_neon;
    t[EMBER_TYPE_BF16].quantize = bf16_quantize_neon;
}
