/* SPDX-License-Identifier: MIT
 *
 * 64-bit hashing for in-memory tables: XXH3 from libxxhash. */
#include "util.h"

#include <xxhash.h>

uint64_t hash64(const void *p, size_t n) { return XXH3_64bits(p, n); }
uint64_t hash64_seed(const void *p, size_t n, uint64_t seed) {
    return XXH3_64bits_withSeed(p, n, seed);
}
