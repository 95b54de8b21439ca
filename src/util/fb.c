/* SPDX-License-Identifier: MIT
 *
 * A minimal FlatBuffers builder; the format and its invariants are in fb.h.
 */
#include "fb.h"

#include <stdlib.h>

void fb_init(fb_builder *b) {
    memset(b, 0, sizeof *b);
    b->minalign = 8;
}

void fb_reset(fb_builder *b) {
    b->len = 0;
    b->minalign = 8;
    b->in_table = false;
}

void fb_fini(fb_builder *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* Room for n more bytes in front of the data (which stays at the end of p). */
static void grow(fb_builder *b, size_t n) {
    if (b->cap - b->len >= n) return;
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap - b->len < n) cap *= 2;
    uint8_t *p = xmalloc(cap);
    if (b->len) memcpy(p + cap - b->len, b->p + b->cap - b->len, b->len);
    free(b->p);
    b->p = p;
    b->cap = cap;
}

/* Prepend n bytes and return where they start. */
static uint8_t *claim(fb_builder *b, size_t n) {
    grow(b, n);
    b->len += n;
    return b->p + b->cap - b->len;
}

/* Zero padding so that, once `extra` more bytes are prepended, len is a multiple of align
 * (invariant 1: the finished size is a multiple of every alignment used). */
static void prealign(fb_builder *b, size_t extra, size_t align) {
    if (align > b->minalign) b->minalign = align;
    size_t pad = (align - (b->len + extra) % align) % align;
    if (pad) memset(claim(b, pad), 0, pad);
}

static void put_u32(fb_builder *b, uint32_t v) {
    prealign(b, 4, 4);
    le_put32(claim(b, 4), v);
}

fb_ref fb_string(fb_builder *b, const char *s, size_t n) {
    assert(!b->in_table);
    prealign(b, n + 1, 4);
    uint8_t *p = claim(b, n + 1);
    if (n) memcpy(p, s, n);
    p[n] = 0;
    put_u32(b, (uint32_t)n);
    return (fb_ref)b->len;
}

fb_ref fb_vec_structs(fb_builder *b, const void *elems, size_t n, size_t elem_size, size_t align) {
    assert(!b->in_table && align && align <= 8 && !(align & (align - 1)));
    prealign(b, n * elem_size, 4);
    prealign(b, n * elem_size, align);
    if (n) memcpy(claim(b, n * elem_size), elems, n * elem_size);
    put_u32(b, (uint32_t)n);
    return (fb_ref)b->len;
}

fb_ref fb_vec_refs(fb_builder *b, const fb_ref *refs, size_t n) {
    assert(!b->in_table);
    prealign(b, n * 4, 4);
    for (size_t i = n; i-- > 0;) {
        uint8_t *p = claim(b, 4);
        assert(refs[i] < b->len);
        le_put32(p, (uint32_t)(b->len - refs[i])); /* from this element forward to the object */
    }
    put_u32(b, (uint32_t)n);
    return (fb_ref)b->len;
}

void fb_table_start(fb_builder *b) {
    assert(!b->in_table);
    b->in_table = true;
    b->tbl_start = b->len;
    memset(b->field_at, 0, sizeof b->field_at);
    b->n_fields = 0;
}

static uint8_t *field(fb_builder *b, int id, size_t size) {
    assert(b->in_table && id >= 0 && id < FB_MAX_FIELDS && !b->field_at[id]);
    prealign(b, size, size);
    uint8_t *p = claim(b, size);
    b->field_at[id] = (uint32_t)b->len;
    if (id + 1 > b->n_fields) b->n_fields = id + 1;
    return p;
}

void fb_add_u8(fb_builder *b, int id, uint8_t v) {
    *field(b, id, 1) = v;
}

void fb_add_i16(fb_builder *b, int id, int16_t v) {
    le_put16(field(b, id, 2), (uint16_t)v);
}

void fb_add_i32(fb_builder *b, int id, int32_t v) {
    le_put32(field(b, id, 4), (uint32_t)v);
}

void fb_add_i64(fb_builder *b, int id, int64_t v) {
    le_put64(field(b, id, 8), (uint64_t)v);
}

void fb_add_ref(fb_builder *b, int id, fb_ref r) {
    uint8_t *p = field(b, id, 4);
    assert(r < b->len);
    le_put32(p, (uint32_t)(b->len - r)); /* forward from the field to the object */
}

fb_ref fb_table_end(fb_builder *b) {
    assert(b->in_table);
    put_u32(b, 0); /* the soffset to the vtable, set below */
    size_t tbl = b->len;
    size_t obj_size = tbl - b->tbl_start;
    assert(obj_size <= UINT16_MAX);
    for (int id = b->n_fields; id-- > 0;) {
        uint32_t at = b->field_at[id];
        le_put16(claim(b, 2), (uint16_t)(at ? tbl - at : 0));
    }
    le_put16(claim(b, 2), (uint16_t)obj_size);
    le_put16(claim(b, 2), (uint16_t)(4 + 2 * b->n_fields));
    /* the vtable sits just before the table: table position - vtable position > 0 */
    le_put32(b->p + b->cap - tbl, (uint32_t)(int32_t)(b->len - tbl));
    b->in_table = false;
    return (fb_ref)tbl;
}

const uint8_t *fb_finish(fb_builder *b, fb_ref root, size_t *len) {
    assert(!b->in_table);
    prealign(b, 4, b->minalign);
    uint8_t *p = claim(b, 4);
    le_put32(p, (uint32_t)(b->len - root));
    *len = b->len;
    return p;
}
