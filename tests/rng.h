/*
 * rng.h — the tests' deterministic random numbers (splitmix64), so a
 * failure reproduces. Header-only; a test seeds rng_state or keeps 0.
 */
#ifndef EMBER_TEST_RNG_H
#define EMBER_TEST_RNG_H

#include <math.h>
#include <stdint.h>

static uint64_t rng_state;

static inline uint64_t rng_next(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static inline double rng_uniform(void) { return (double)(rng_next() >> 11) * 0x1p-53; }

/* Standard normal (Box-Muller). */
static inline float rng_gauss(void) {
    double u = rng_uniform(), v = rng_uniform();
    return (float)(sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v));
}

#endif
