/* SPDX-License-Identifier: MIT
 *
 * fb: a minimal FlatBuffers builder, enough to write the metadata of Arrow IPC messages
 * (query_arrow.c). It writes the standard binary format, back to front as the reference
 * builders do, so every offset points forward:
 *   buffer   u32 offset of the root table (from byte 0), then the objects
 *   table    i32 soffset: table position minus its vtable's position; then the fields,
 *            each aligned to its size
 *   vtable   u16 vtable bytes, u16 table bytes, then one u16 per field id: the field's
 *            offset from the table start (0: absent, the reader takes the default)
 *   string   u32 byte length, the bytes, a NUL
 *   vector   u32 element count, then the elements (structs inline; tables and strings as
 *            u32 offsets, each relative to its own position)
 *   offsets  a u32 offset field holds target position minus the field's position (> 0)
 * Invariants:
 *   (1) Every scalar, struct and offset is aligned to its size (structs to `align`) relative
 *       to the start of the finished buffer, whose length is a multiple of 8: readers that
 *       verify alignment (arrow C++, arrow-rs) accept it.
 *   (2) An object is referred to by its position counted from the buffer's end (fb_ref),
 *       which does not change as more is prepended. Children are built before their parent,
 *       and one table at a time.
 * Memory is malloc'd (xmalloc: never fails); a builder is reused with fb_reset.
 */
#ifndef SILT_FB_H
#define SILT_FB_H

#include "util.h"

#define FB_MAX_FIELDS 16 /* field ids 0..15 per table */

typedef uint32_t fb_ref; /* an object's distance from the end of the buffer */

typedef struct fb_builder {
    uint8_t *p; /* the data is p[cap - len, cap) */
    size_t cap, len;
    size_t minalign; /* the largest alignment used: the finished size is a multiple */
    /* the table being built */
    bool in_table;
    size_t tbl_start;                 /* len when it started */
    uint32_t field_at[FB_MAX_FIELDS]; /* a field's distance from the end; 0: absent */
    int n_fields;                     /* highest id + 1 */
} fb_builder;

void fb_init(fb_builder *b);
void fb_reset(fb_builder *b);
void fb_fini(fb_builder *b);

/* Objects outside a table. */
fb_ref fb_string(fb_builder *b, const char *s, size_t n);
/* A vector of n structs of elem_size bytes each (already encoded, little-endian), aligned to
 * align (a power of two, at most 8). */
fb_ref fb_vec_structs(fb_builder *b, const void *elems, size_t n, size_t elem_size, size_t align);
/* A vector of n tables or strings. */
fb_ref fb_vec_refs(fb_builder *b, const fb_ref *refs, size_t n);

/* A table: start, add fields (ids below FB_MAX_FIELDS, each once), end. */
void fb_table_start(fb_builder *b);
void fb_add_u8(fb_builder *b, int id, uint8_t v); /* also bool and ubyte enums / union types */
void fb_add_i16(fb_builder *b, int id, int16_t v);
void fb_add_i32(fb_builder *b, int id, int32_t v);
void fb_add_i64(fb_builder *b, int id, int64_t v);
void fb_add_ref(fb_builder *b, int id, fb_ref r); /* a table, string or vector */
fb_ref fb_table_end(fb_builder *b);

/* Finish with root as the root table: the buffer is returned (valid until the next call on
 * b), its length in *len (a multiple of 8). */
const uint8_t *fb_finish(fb_builder *b, fb_ref root, size_t *len);

#endif
