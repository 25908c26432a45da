/*
 * emu.h (tests/cuda_emu) — what the CUDA backend's kernels need to compile
 * as host C++ and run on a CPU (make cuda-emu; nvcc-emu includes this first
 * in every .cu): thread and block indices, __shared__, __syncthreads, the
 * warp shuffles and the few intrinsics the kernels use.
 *
 * Each CUDA thread of a block is a fiber (emu.c); a block's fibers run
 * until they all return, switching at __syncthreads (all live threads of
 * the block) and at every shuffle (all live lanes of the warp), so a
 * barrier some threads never reach deadlocks and aborts, as it would hang
 * a GPU. Blocks run one after another and __shared__ is a static: right for
 * one block at a time. What it cannot show: races between threads (a fiber
 * runs until it blocks), a GPU's alignment faults, its exact libm (cosf,
 * expf) and fused multiply-adds (built with -ffp-contract=off).
 */
#ifndef EMBER_CUDA_EMU_H
#define EMBER_CUDA_EMU_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "cuda_fp16.h"
#include "cuda_runtime_api.h"

struct uint3 {
    unsigned x, y, z;
};
struct dim3 {
    unsigned x, y, z;
    dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};

extern "C" {
/* The running fiber's thread index, lane, and its warp's exchange slot. */
uint3 emu_thread_idx(void);
int emu_lane(void);
uint64_t *emu_warp_slot(int lane);
/* Blocks until every live thread of the block (warp) gets there. */
void emu_sync_block(void);
void emu_sync_warp(void);
/* Runs body(arg) as every thread of every block of the grid, to the end. */
void emu_launch_raw(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                    void (*body)(void *), void *arg);
extern unsigned emu_block_idx[3], emu_block_dim[3];
}

#define threadIdx (emu_thread_idx())
#define blockIdx (uint3{emu_block_idx[0], emu_block_idx[1], emu_block_idx[2]})
#define blockDim (uint3{emu_block_dim[0], emu_block_dim[1], emu_block_dim[2]})
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(x)

static inline void __syncthreads() { emu_sync_block(); }

template <class T> static T emu_shfl(T v, int src) {
    uint64_t raw = 0, got;
    memcpy(&raw, &v, sizeof v);
    *emu_warp_slot(emu_lane()) = raw;
    emu_sync_warp();
    got = *emu_warp_slot(src);
    emu_sync_warp(); /* no lane overwrites its slot before all have read */
    T out;
    memcpy(&out, &got, sizeof out);
    return out;
}
template <class T> static T __shfl_xor_sync(unsigned, T v, int o) {
    return emu_shfl(v, emu_lane() ^ o);
}
template <class T> static T __shfl_down_sync(unsigned, T v, int d) {
    int s = emu_lane() + d;
    return emu_shfl(v, s < 32 ? s : emu_lane());
}

/* Per-byte difference, and the signed 4 x int8 dot product added to c. */
static inline int __vsub4(int a, int b) {
    uint32_t r = 0;
    for (int i = 0; i < 4; i++)
        r |= (uint32_t)(uint8_t)((uint8_t)(a >> 8 * i) - (uint8_t)(b >> 8 * i)) << 8 * i;
    return (int)r;
}
static inline int __dp4a(int a, int b, int c) {
    for (int i = 0; i < 4; i++) c += (int8_t)(a >> 8 * i) * (int8_t)(b >> 8 * i);
    return c;
}
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }

/* What nvcc-emu turns k<<<g, b, shm, s>>>(args) into. */
template <class F> static void emu_launch(dim3 g, dim3 b, F f) {
    emu_launch_raw(g.x, g.y, g.z, b.x, b.y, b.z, [](void *p) { (*(F *)p)(); }, &f);
}
template <class F> static cudaError_t cudaFuncGetAttributes(cudaFuncAttributes *a, F) {
    a->maxThreadsPerBlock = 1024;
    return cudaSuccess;
}

#endif
