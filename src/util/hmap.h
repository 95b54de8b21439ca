/* SPDX-License-Identifier: MIT
 *
 * hmap: an open-addressing hash map from byte strings to 64-bit values (linear probing,
 * power-of-two capacity, load <= 1/2). The map stores the key pointer, not a copy: the
 * caller keeps key bytes alive and unchanged while they are in the map (usually they live in
 * an arena owned by the same object as the map). Not thread-safe: callers lock. */
#ifndef SILT_HMAP_H
#define SILT_HMAP_H

#include "util.h"

typedef struct hmap_slot {
    uint64_t hash; /* 0 = empty (hashes are forced non-zero) */
    const void *key;
    uint32_t klen;
    uint64_t val;
} hmap_slot;

typedef struct hmap {
    hmap_slot *slots;
    size_t cap, n;
} hmap;

static inline uint64_t hmap_hash(const void *key, size_t klen) {
    uint64_t h = hash64(key, klen);
    return h ? h : 1;
}

/* Look up key (h = hmap_hash(key, klen)); true and *val set if present. */
static inline bool hmap_get(const hmap *m, const void *key, size_t klen, uint64_t h,
                            uint64_t *val) {
    if (!m->cap) return false;
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const hmap_slot *s = &m->slots[i];
        if (!s->hash) return false;
        if (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0) {
            *val = s->val;
            return true;
        }
    }
}

/* Insert or replace. */
void hmap_put(hmap *m, const void *key, size_t klen, uint64_t h, uint64_t val);
void hmap_free(hmap *m);

#endif
