/* SPDX-License-Identifier: MIT
 *
 * hmap: see hmap.h. */
#include "hmap.h"

#include <stdlib.h>

static void insert_slot(hmap_slot *slots, size_t cap, const hmap_slot *src) {
    size_t mask = cap - 1;
    for (size_t i = src->hash & mask;; i = (i + 1) & mask) {
        if (!slots[i].hash) {
            slots[i] = *src;
            return;
        }
    }
}

void hmap_put(hmap *m, const void *key, size_t klen, uint64_t h, uint64_t val) {
    if (m->cap) {
        size_t mask = m->cap - 1;
        for (size_t i = h & mask;; i = (i + 1) & mask) {
            hmap_slot *s = &m->slots[i];
            if (!s->hash) break;
            if (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0) {
                s->val = val;
                return;
            }
        }
    }
    if ((m->n + 1) * 2 > m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 16;
        hmap_slot *ns = xcalloc(nc, sizeof *ns);
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].hash) insert_slot(ns, nc, &m->slots[i]);
        free(m->slots);
        m->slots = ns;
        m->cap = nc;
    }
    hmap_slot s = {h, key, (uint32_t)klen, val};
    insert_slot(m->slots, m->cap, &s);
    m->n++;
}

void hmap_free(hmap *m) {
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}
