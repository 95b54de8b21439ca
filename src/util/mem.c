/* SPDX-License-Identifier: MIT
 *
 * Checked allocation (abort with the call site on OOM) and the one-way arena. */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>

static _Noreturn void oom(size_t n, const char *file, int line) {
    fprintf(stderr, "silt: out of memory allocating %zu bytes at %s:%d\n", n, file, line);
    abort();
}

void *xmalloc_at(size_t n, const char *file, int line) {
    void *p = malloc(n ? n : 1);
    if (!p) oom(n, file, line);
    return p;
}

void *xcalloc_at(size_t n, size_t size, const char *file, int line) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size, file, line);
    return p;
}

void *xrealloc_at(void *p, size_t n, const char *file, int line) {
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n, file, line);
    return q;
}

char *xstrndup_at(const char *s, size_t n, const char *file, int line) {
    char *p = xmalloc_at(n + 1, file, line);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void xgrow_at(void **arr, size_t *cap, size_t need, size_t sz, const char *file, int line) {
    if (need <= *cap) return;
    size_t c = *cap ? *cap : 8;
    while (c < need) c *= 2;
    *arr = xrealloc_at(*arr, c * sz, file, line);
    *cap = c;
}

struct arena_block {
    arena_block *next;
    size_t used, size;
    _Alignas(16) uint8_t data[];
};

void arena_init(arena *a, size_t block_bytes) {
    a->head = NULL;
    a->block_bytes = block_bytes ? block_bytes : 64 * 1024;
}

void *arena_alloc(arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    arena_block *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t size = n > a->block_bytes ? n : a->block_bytes;
        b = xmalloc(sizeof *b + size);
        b->used = 0;
        b->size = size;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n) {
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void arena_reset(arena *a) {
    arena_block *b = a->head;
    if (!b) return;
    /* keep the oldest block (the last in the chain): it is the usual working size */
    while (b->next) {
        arena_block *n = b->next;
        free(b);
        b = n;
    }
    b->used = 0;
    a->head = b;
}

void arena_fini(arena *a) {
    arena_block *b = a->head;
    while (b) {
        arena_block *n = b->next;
        free(b);
        b = n;
    }
    a->head = NULL;
}
