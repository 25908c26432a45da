/*
 * cuda_fp16.h (tests/cuda_emu) — __half for the emulated kernels, through
 * quant/'s IEEE half conversions (round to nearest even, as the device's
 * __float2half).
 */
#ifndef EMBER_CUDA_EMU_FP16_H
#define EMBER_CUDA_EMU_FP16_H

#include <stdint.h>

extern "C" float quant_f16_to_f32(uint16_t h);
extern "C" uint16_t quant_f32_to_f16(float f);

struct __half {
    uint16_t x;
};
static inline __half __ushort_as_half(unsigned short u) { return __half{u}; }
static inline float __half2float(__half h) { return quant_f16_to_f32(h.x); }
static inline __half __float2half(float f) { return __half{quant_f32_to_f16(f)}; }

#endif
