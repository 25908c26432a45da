/*
 * emu.c (tests/cuda_emu) — a stand-in CUDA runtime and a SIMT emulator, so
 * that `make cuda-emu` runs the CUDA backend's kernels on a CPU: CI has no
 * GPU, and this is how its kernels meet test_backend_ops, test_cuda and
 * whole models there. Linked as build-cuda-emu's libcudart_static.a.
 *
 * A launch runs its blocks one after another; a block's threads are
 * fibers (ucontext) switched only where CUDA threads wait for each other
 * (emu.h: __syncthreads for the block, shuffles for the warp). The runtime
 * half: device memory is host memory, every call succeeds at once.
 * Slow (a fiber switch per shuffle) and only for checking.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "cuda_runtime_api.h"

/* ------------------------------------------------------------ the fibers */

enum { MAX_THREADS = 1024, STACK_BYTES = 128 << 10 };
enum { RUNNING, AT_BLOCK, AT_WARP, DONE };

struct uint3 { unsigned x, y, z; };
struct fiber {
    ucontext_t ctx;
    struct uint3 tid;
    int state;
};

unsigned emu_block_idx[3], emu_block_dim[3];
static struct fiber fibers[MAX_THREADS];
static char *stacks[MAX_THREADS];
static int cur, n_threads;
static ucontext_t sched;
static void (*body_fn)(void *);
static void *body_arg;
static uint64_t slots[MAX_THREADS / 32][32];

struct uint3 emu_thread_idx(void) { return fibers[cur].tid; }
int emu_lane(void) { return cur % 32; }
uint64_t *emu_warp_slot(int lane) { return &slots[cur / 32][lane]; }

static void wait_in(int state) {
    fibers[cur].state = state;
    swapcontext(&fibers[cur].ctx, &sched);
}
void emu_sync_block(void) { wait_in(AT_BLOCK); }
void emu_sync_warp(void) { wait_in(AT_WARP); }

static void fiber_main(void) {
    body_fn(body_arg);
    fibers[cur].state = DONE;
    swapcontext(&fibers[cur].ctx, &sched);
}

/* Lets waiting threads go where a whole warp (or block) waits; false when
 * none can: a barrier not every live thread reaches. */
static int release(void) {
    int live = 0, at_block = 0, freed = 0;
    for (int i = 0; i < n_threads; i++)
        if (fibers[i].state != DONE) live++, at_block += fibers[i].state == AT_BLOCK;
    for (int w = 0; w * 32 < n_threads; w++) {
        int all = 1, some = 0, end = w * 32 + 32 < n_threads ? w * 32 + 32 : n_threads;
        for (int i = w * 32; i < end; i++)
            if (fibers[i].state != DONE) some = 1, all &= fibers[i].state == AT_WARP;
        for (int i = w * 32; some && all && i < end; i++)
            if (fibers[i].state != DONE) fibers[i].state = RUNNING, freed = 1;
    }
    if (!freed && live && at_block == live)
        for (int i = 0; i < n_threads; i++)
            if (fibers[i].state != DONE) fibers[i].state = RUNNING, freed = 1;
    return freed || !live;
}

static void run_block(void) {
    for (;;) {
        int ran = 0, live = 0;
        for (int i = 0; i < n_threads; i++) {
            if (fibers[i].state == RUNNING) {
                cur = i;
                swapcontext(&sched, &fibers[i].ctx);
                ran = 1;
            }
            live += fibers[i].state != DONE;
        }
        if (!live) return;
        if (!ran && !release()) {
            fprintf(stderr, "cuda-emu: deadlock: a barrier that not every thread reaches\n");
            abort();
        }
    }
}

void emu_launch_raw(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                    void (*body)(void *), void *arg) {
    n_threads = (int)(bx * by * bz);
    if (n_threads < 1 || n_threads > MAX_THREADS) {
        fprintf(stderr, "cuda-emu: a block of %d threads\n", n_threads);
        abort();
    }
    for (int i = 0; i < n_threads; i++)
        if (!stacks[i] && !(stacks[i] = malloc(STACK_BYTES))) abort();
    body_fn = body, body_arg = arg;
    emu_block_dim[0] = bx, emu_block_dim[1] = by, emu_block_dim[2] = bz;
    for (unsigned z = 0; z < gz; z++)
        for (unsigned y = 0; y < gy; y++)
            for (unsigned x = 0; x < gx; x++) {
                emu_block_idx[0] = x, emu_block_idx[1] = y, emu_block_idx[2] = z;
                for (int i = 0; i < n_threads; i++) {
                    struct fiber *f = &fibers[i];
                    getcontext(&f->ctx);
                    f->ctx.uc_stack.ss_sp = stacks[i];
                    f->ctx.uc_stack.ss_size = STACK_BYTES;
                    f->ctx.uc_link = &sched;
                    makecontext(&f->ctx, fiber_main, 0);
                    f->tid = (struct uint3){(unsigned)i % bx, (unsigned)i / bx % by,
                                            (unsigned)i / (bx * by)};
                    f->state = RUNNING;
                }
                run_block();
            }
}

/* ----------------------------------------------------------- the runtime */

static int no_device(void) { return getenv("EMU_NODEV") != NULL; }

cudaError_t cudaGetDeviceCount(int *n) {
    *n = no_device() ? 0 : 1;
    return no_device() ? cudaErrorNoDevice : cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *p, int dev) {
    (void)dev;
    snprintf(p->name, sizeof p->name, "emulated GPU");
    p->totalGlobalMem = 1ull << 30;
    p->major = 8, p->minor = 9;
    return cudaSuccess;
}
cudaError_t cudaSetDevice(int dev) { return dev == 0 ? cudaSuccess : cudaErrorInvalidValue; }
cudaError_t cudaMalloc(void **p, size_t n) {
    *p = aligned_alloc(256, (n + 255) / 256 * 256);
    if (*p) memset(*p, 0xcd, n);
    return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaFree(void *p) { free(p); return cudaSuccess; }
cudaError_t cudaMallocHost(void **p, size_t n) {
    *p = malloc(n);
    return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaFreeHost(void *p) { free(p); return cudaSuccess; }
cudaError_t cudaMemcpy(void *d, const void *s, size_t n, enum cudaMemcpyKind k) {
    (void)k;
    memmove(d, s, n);
    return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, enum cudaMemcpyKind k,
                            cudaStream_t st) {
    (void)st;
    return cudaMemcpy(d, s, n, k);
}
cudaError_t cudaMemsetAsync(void *d, int v, size_t n, cudaStream_t st) {
    (void)st;
    memset(d, v, n);
    return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t *s) {
    *s = malloc(1);
    return *s ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaStreamDestroy(cudaStream_t s) { free(s); return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t s) { (void)s; return cudaSuccess; }
cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }
cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total) {
    *free_bytes = 1ull << 29, *total = 1ull << 30;
    return cudaSuccess;
}
cudaError_t cudaGetLastError(void) { return cudaSuccess; }
const char *cudaGetErrorString(cudaError_t e) {
    return e == cudaErrorNoDevice ? "no CUDA-capable device is detected (emulated)" : "emulated error";
}
