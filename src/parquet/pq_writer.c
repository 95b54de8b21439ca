/* SPDX-License-Identifier: MIT
 *
 * Parquet writer. Rows are buffered per row group (values copied; strings interned into a
 * per-row-group dictionary as they arrive), and a row group is encoded column by column when
 * it is full or at pq_writer_finish. The file is built in memory and handed over at the end.
 *
 * What one column chunk looks like (see README.md for why):
 *   [dictionary page, PLAIN]   strings that are dictionary-encoded
 *   data pages, cut when the PLAIN size of their rows reaches page_bytes or they hold
 *   page_rows rows (whichever comes first; rows cut on every column alike):
 *     v1: [u32 LE length + RLE definition levels]? values      (all compressed)
 *     v2: [RLE definition levels]? compressed(values)          (levels uncompressed)
 *   values:  INT64 / TIMESTAMP / UINT64  DELTA_BINARY_PACKED
 *            DOUBLE                      BYTE_STREAM_SPLIT or PLAIN (trial on the first page)
 *            BOOLEAN                     PLAIN (v1) or RLE (v2)
 *            STRING                      RLE_DICTIONARY, or PLAIN (no dictionary / fallback)
 *
 * Invariants:
 *   (1) every page starts at a row boundary and holds < 2^31 rows (num_values is an i32);
 *   (2) PageHeader.crc = zlib CRC-32 of the page bytes exactly as written after the header;
 *   (3) min_value/max_value are in the column's type order (signed INT64, unsigned for UINT64,
 *       unsigned bytes for strings, numeric for DOUBLE excluding NaN, -0.0 for a zero min and
 *       +0.0 for a zero max) and column_orders says TYPE_ORDER for every leaf; the deprecated
 *       min/max are written only for signed-order types (INT64, TIMESTAMP, DOUBLE, BOOLEAN);
 *   (4) a string bound longer than PQ_STAT_MAX_BYTES is truncated at a UTF-8 boundary (the max
 *       is rounded up by incrementing an ASCII byte) and flagged inexact;
 *   (5) a dictionary page holds at most dict_bytes of PLAIN entries; a tag column whose
 *       dictionary outgrows it switches to PLAIN for the remaining pages of the chunk;
 *   (6) the ColumnIndex and OffsetIndex of every chunk follow the last row group, before the
 *       footer, and ColumnChunk records their offsets and lengths.
 */
#include "pq_int.h"

#include "../util/hmap.h"

#include <math.h>
#include <stdlib.h>
#include <zstd.h>

#define PQ_DEFAULT_CREATED_BY "silt version 0.1.0 (build silt)"

/* ------------------------------------------------------------------ state */

typedef struct pq_wcol {
    pq_column_def def; /* name owned */
    size_t n, cap;     /* rows buffered in the current row group */
    uint8_t *valid;    /* optional columns: 1 per row */
    int64_t *v64;      /* INT64, TIMESTAMP, UINT64 and DOUBLE (bit patterns) */
    uint8_t *b;        /* BOOL */
    uint32_t *idx;     /* STRING: index into ent */
    /* STRING: values of the current row group in order of first appearance */
    hmap map;
    str_view *ent;
    size_t n_ent, cap_ent;
    arena strs;
    bool has_last;
    uint32_t last_idx;
    str_view last_in; /* caller's view of the last interned value (fast path for runs) */
} pq_wcol;

typedef struct wstat {
    size_t nonnull, nulls, nans;
    bool has; /* min/max hold a value */
    union {
        int64_t i;
        uint64_t u;
        double d;
        bool b;
    } mn, mx;
    str_view smn, smx;
} wstat;

/* Statistics as written: PLAIN bytes (owned). */
typedef struct wbounds {
    bool has;
    uint8_t *mn, *mx;
    size_t mn_len, mx_len;
    bool mn_exact, mx_exact;
} wbounds;

typedef struct wchunk {
    int phys;
    int enc_used[10]; /* data pages per encoding */
    bool dict_page, optional;
    int64_t num_values, tot_unc, tot_comp, data_off, dict_off;
    wstat st;
    wbounds bounds;
    buf ci, oi; /* serialized ColumnIndex / OffsetIndex */
    bool has_ci;
    int64_t ci_off, oi_off;
} wchunk;

typedef struct wrg {
    wchunk *cols;
    int64_t num_rows, tot_unc, tot_comp, file_offset;
} wrg;

struct pq_writer {
    pq_wcol *cols;
    size_t n_cols;
    pq_writer_opts o;
    char *created_by;
    pq_kv *kv;
    size_t n_kv;
    size_t rows; /* buffered in the current row group */
    uint64_t total_rows;
    buf body; /* the file so far */
    wrg *rgs;
    size_t n_rgs, cap_rgs;
    pq_codec_ctx *codec;
    size_t *fcuts; /* the current row group's series page cuts (rows, ascending) */
    size_t n_fcuts, cap_fcuts;
    /* scratch */
    buf vals, raw, comp, alt, hdr;
    int64_t *t64;
    uint32_t *t32;
    uint8_t *t8;
    size_t t_cap;
};

/* ------------------------------------------------------------------ options */

void pq_writer_opts_init(pq_writer_opts *o) {
    memset(o, 0, sizeof *o);
    o->codec = PQ_ZSTD;
    o->zstd_level = 3;
    o->row_group_rows = 1048576;
    o->page_bytes = 1u << 20;
    o->page_rows = 16384;
    o->dict_bytes = PQ_DICT_MAX_BYTES;
}

static bool is_fixed8(pq_type t) {
    return t == PQ_INT64 || t == PQ_UINT64 || t == PQ_TIMESTAMP_NS || t == PQ_DOUBLE;
}

static int phys_of(pq_type t) {
    switch (t) {
        case PQ_STRING:
            return PQT_BYTE_ARRAY;
        case PQ_DOUBLE:
            return PQT_DOUBLE;
        case PQ_BOOL:
            return PQT_BOOLEAN;
        default:
            return PQT_INT64;
    }
}

static void wcol_free(pq_wcol *c) {
    free((char *)c->def.name);
    free(c->valid);
    free(c->v64);
    free(c->b);
    free(c->idx);
    hmap_free(&c->map);
    free(c->ent);
    arena_fini(&c->strs);
}

static void wchunk_free(wchunk *ck) {
    free(ck->bounds.mn);
    free(ck->bounds.mx);
    buf_free(&ck->ci);
    buf_free(&ck->oi);
}

void pq_writer_abort(pq_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_cols; i++) wcol_free(&w->cols[i]);
    free(w->cols);
    for (size_t g = 0; g < w->n_rgs; g++) {
        for (size_t i = 0; i < w->n_cols; i++) wchunk_free(&w->rgs[g].cols[i]);
        free(w->rgs[g].cols);
    }
    free(w->rgs);
    free(w->fcuts);
    for (size_t i = 0; i < w->n_kv; i++) {
        free((char *)w->kv[i].key);
        free((char *)w->kv[i].value);
    }
    free(w->kv);
    free(w->created_by);
    pq__codec_destroy(w->codec);
    buf_free(&w->body);
    buf_free(&w->vals);
    buf_free(&w->raw);
    buf_free(&w->comp);
    buf_free(&w->alt);
    buf_free(&w->hdr);
    free(w->t64);
    free(w->t32);
    free(w->t8);
    free(w);
}

int pq_writer_open(const pq_column_def *cols, size_t n_cols, const pq_writer_opts *opts,
                   pq_writer **out, silt_err *err) {
    *out = NULL;
    pq_writer_opts o;
    if (opts) {
        o = *opts;
        if (!o.zstd_level) o.zstd_level = 3;
        if (!o.row_group_rows) o.row_group_rows = 1048576;
        if (!o.page_bytes) o.page_bytes = 1u << 20;
        if (!o.dict_bytes) o.dict_bytes = PQ_DICT_MAX_BYTES;
    } else {
        pq_writer_opts_init(&o);
    }
    if (n_cols == 0 || n_cols > 65535)
        return SILT_FAIL(err, SILT_EINVAL, "parquet: %zu columns (1..65535 allowed)", n_cols);
    if (o.codec != PQ_UNCOMPRESSED && o.codec != PQ_SNAPPY && o.codec != PQ_ZSTD)
        return SILT_FAIL(err, SILT_EINVAL, "parquet: unknown codec %d", (int)o.codec);
    if (o.zstd_level < ZSTD_minCLevel() || o.zstd_level > ZSTD_maxCLevel())
        return SILT_FAIL(err, SILT_EINVAL, "parquet: zstd level %d out of range", o.zstd_level);
    if (o.row_group_rows > INT32_MAX)
        return SILT_FAIL(err, SILT_EINVAL, "parquet: row_group_rows %zu too large",
                         o.row_group_rows);
    if (o.page_bytes > (1u << 30) || o.dict_bytes > (1u << 30))
        return SILT_FAIL(err, SILT_EINVAL, "parquet: page_bytes/dict_bytes above 1 GiB");
    for (size_t i = 0; i < n_cols; i++) {
        const pq_column_def *d = &cols[i];
        if (!d->name || !d->name[0])
            return SILT_FAIL(err, SILT_EINVAL, "parquet: column %zu has no name", i);
        if (d->type < PQ_STRING || d->type > PQ_TIMESTAMP_NS)
            return SILT_FAIL(err, SILT_EINVAL, "parquet: column %s: bad type %d", d->name,
                             (int)d->type);
        for (size_t j = 0; j < i; j++)
            if (strcmp(cols[j].name, d->name) == 0)
                return SILT_FAIL(err, SILT_EINVAL, "parquet: duplicate column name %s", d->name);
    }
    pq_writer *w = xcalloc(1, sizeof *w);
    w->o = o;
    w->created_by = xstrdup(o.created_by ? o.created_by : PQ_DEFAULT_CREATED_BY);
    w->o.created_by = NULL;
    w->n_kv = o.n_kv;
    w->kv = xcalloc(o.n_kv ? o.n_kv : 1, sizeof *w->kv);
    for (size_t i = 0; i < o.n_kv; i++) {
        w->kv[i].key = xstrdup(o.kv[i].key ? o.kv[i].key : "");
        w->kv[i].value = o.kv[i].value ? xstrdup(o.kv[i].value) : NULL;
    }
    w->o.kv = NULL;
    w->n_cols = n_cols;
    w->cols = xcalloc(n_cols, sizeof *w->cols);
    for (size_t i = 0; i < n_cols; i++) {
        w->cols[i].def = cols[i];
        w->cols[i].def.name = xstrdup(cols[i].name);
        arena_init(&w->cols[i].strs, 64 * 1024);
    }
    w->codec = pq__codec_create();
    buf_append(&w->body, PQ_MAGIC, 4);
    *out = w;
    return SILT_OK;
}

/* ------------------------------------------------------------------ buffering rows */

static bool is_ascii(const uint8_t *p, size_t n) {
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        acc |= w;
    }
    for (; i < n; i++) acc |= p[i];
    return (acc & 0x8080808080808080ULL) == 0;
}

static int check_vec(const pq_wcol *c, const pq_vec *v, size_t n, silt_err *err) {
    const pq_column_def *d = &c->def;
    const void *arr = NULL;
    switch (d->type) {
        case PQ_STRING:
            arr = v->str;
            break;
        case PQ_DOUBLE:
            arr = v->f64;
            break;
        case PQ_INT64:
        case PQ_TIMESTAMP_NS:
            arr = v->i64;
            break;
        case PQ_UINT64:
            arr = v->u64;
            break;
        case PQ_BOOL:
            arr = v->b;
            break;
    }
    if (!arr) return SILT_FAIL(err, SILT_EINVAL, "parquet: column %s: no values given", d->name);
    if (v->valid && !d->optional)
        for (size_t i = 0; i < n; i++)
            if (!v->valid[i])
                return SILT_FAIL(err, SILT_EINVAL,
                                 "parquet: column %s is required: NULL at row %zu", d->name, i);
    if (d->type == PQ_STRING) {
        const str_view *s = v->str;
        for (size_t i = 0; i < n; i++) {
            if (v->valid && !v->valid[i]) continue;
            if (s[i].n && !s[i].p)
                return SILT_FAIL(err, SILT_EINVAL, "parquet: column %s: NULL string pointer",
                                 d->name);
            if (s[i].n > INT32_MAX)
                return SILT_FAIL(err, SILT_EINVAL, "parquet: column %s: string too long", d->name);
            if (i > 0 && s[i].p == s[i - 1].p && s[i].n == s[i - 1].n) continue;
            if (is_ascii((const uint8_t *)s[i].p, s[i].n)) continue;
            size_t bad;
            if (!utf8_valid((const uint8_t *)s[i].p, s[i].n, &bad))
                return SILT_FAIL(err, SILT_EINVAL,
                                 "parquet: column %s, row %zu: invalid UTF-8 at byte %zu", d->name,
                                 i, bad);
        }
    }
    return SILT_OK;
}

static uint32_t intern(pq_wcol *c, str_view s) {
    if (c->has_last) {
        if (s.p == c->last_in.p && s.n == c->last_in.n) return c->last_idx;
        str_view e = c->ent[c->last_idx];
        if (e.n == s.n && (s.n == 0 || memcmp(e.p, s.p, s.n) == 0)) return c->last_idx;
    }
    const char *key = s.n ? s.p : "";
    uint64_t h = hmap_hash(key, s.n);
    uint64_t val;
    uint32_t ix;
    if (hmap_get(&c->map, key, s.n, h, &val)) {
        ix = (uint32_t)val;
    } else {
        char *copy = arena_alloc(&c->strs, s.n + 1);
        if (s.n) memcpy(copy, s.p, s.n);
        copy[s.n] = 0;
        XGROW(c->ent, c->cap_ent, c->n_ent + 1);
        ix = (uint32_t)c->n_ent;
        c->ent[c->n_ent++] = (str_view){copy, s.n};
        hmap_put(&c->map, copy, s.n, h, ix);
    }
    c->has_last = true;
    c->last_idx = ix;
    c->last_in = s;
    return ix;
}

static void append_rows(pq_wcol *c, const pq_vec *v, size_t from, size_t k) {
    size_t need = c->n + k;
    if (need > c->cap) {
        /* grow 4x: realloc may copy (heap chunks below glibc's dynamic mmap threshold), and
         * a persisted chunk is usually large, so few, big steps copy least */
        size_t cap = c->cap ? c->cap : 16384;
        while (cap < need) cap *= 4;
        if (c->def.optional) c->valid = xrealloc(c->valid, cap);
        if (is_fixed8(c->def.type)) c->v64 = xrealloc(c->v64, cap * sizeof *c->v64);
        if (c->def.type == PQ_BOOL) c->b = xrealloc(c->b, cap);
        if (c->def.type == PQ_STRING) c->idx = xrealloc(c->idx, cap * sizeof *c->idx);
        c->cap = cap;
    }
    if (c->def.optional) {
        if (v->valid)
            for (size_t i = 0; i < k; i++) c->valid[c->n + i] = v->valid[from + i] ? 1 : 0;
        else
            memset(c->valid + c->n, 1, k);
    }
    switch (c->def.type) {
        case PQ_INT64:
        case PQ_TIMESTAMP_NS:
            memcpy(c->v64 + c->n, v->i64 + from, k * 8);
            break;
        case PQ_UINT64:
            memcpy(c->v64 + c->n, v->u64 + from, k * 8);
            break;
        case PQ_DOUBLE:
            memcpy(c->v64 + c->n, v->f64 + from, k * 8);
            break;
        case PQ_BOOL:
            for (size_t i = 0; i < k; i++) c->b[c->n + i] = v->b[from + i] ? 1 : 0;
            break;
        case PQ_STRING:
            for (size_t i = 0; i < k; i++) {
                bool ok = !v->valid || v->valid[from + i];
                c->idx[c->n + i] = ok ? intern(c, v->str[from + i]) : 0;
            }
            break;
    }
    c->n += k;
}

static int flush_row_group(pq_writer *w, silt_err *err);

int pq_writer_write(pq_writer *w, const pq_vec *cols, size_t n, silt_err *err) {
    if (n == 0) return SILT_OK;
    if (!cols) return SILT_FAIL(err, SILT_EINVAL, "parquet: no column vectors");
    for (size_t c = 0; c < w->n_cols; c++) {
        int rc = check_vec(&w->cols[c], &cols[c], n, err);
        if (rc) return rc;
    }
    size_t done = 0;
    while (done < n) {
        size_t k = w->o.row_group_rows - w->rows;
        if (k > n - done) k = n - done;
        for (size_t c = 0; c < w->n_cols; c++) append_rows(&w->cols[c], &cols[c], done, k);
        w->rows += k;
        done += k;
        if (w->rows >= w->o.row_group_rows) {
            int rc = flush_row_group(w, err);
            if (rc) return rc;
        }
    }
    return SILT_OK;
}

/* ------------------------------------------------------------------ statistics */

static void page_stats(const pq_wcol *c, size_t lo, size_t hi, wstat *s) {
    memset(s, 0, sizeof *s);
    const uint8_t *valid = c->valid;
    for (size_t i = lo; i < hi; i++) {
        if (valid && !valid[i]) {
            s->nulls++;
            continue;
        }
        s->nonnull++;
        switch (c->def.type) {
            case PQ_INT64:
            case PQ_TIMESTAMP_NS: {
                int64_t x = c->v64[i];
                if (!s->has)
                    s->mn.i = s->mx.i = x, s->has = true;
                else if (x < s->mn.i)
                    s->mn.i = x;
                else if (x > s->mx.i)
                    s->mx.i = x;
                break;
            }
            case PQ_UINT64: {
                uint64_t x = (uint64_t)c->v64[i];
                if (!s->has)
                    s->mn.u = s->mx.u = x, s->has = true;
                else if (x < s->mn.u)
                    s->mn.u = x;
                else if (x > s->mx.u)
                    s->mx.u = x;
                break;
            }
            case PQ_DOUBLE: {
                double x;
                memcpy(&x, &c->v64[i], 8);
                if (isnan(x)) {
                    s->nans++;
                    break;
                }
                if (!s->has)
                    s->mn.d = s->mx.d = x, s->has = true;
                else if (x < s->mn.d)
                    s->mn.d = x;
                else if (x > s->mx.d)
                    s->mx.d = x;
                break;
            }
            case PQ_BOOL: {
                bool x = c->b[i];
                if (!s->has)
                    s->mn.b = s->mx.b = x, s->has = true;
                else
                    s->mn.b = s->mn.b && x, s->mx.b = s->mx.b || x;
                break;
            }
            case PQ_STRING: {
                /* compare only when the value changes: runs of a tag cost nothing */
                if (s->has && i > lo && (!valid || valid[i - 1]) && c->idx[i] == c->idx[i - 1])
                    break;
                str_view x = c->ent[c->idx[i]];
                if (!s->has)
                    s->smn = s->smx = x, s->has = true;
                else if (sv_cmp(x, s->smn) < 0)
                    s->smn = x;
                else if (sv_cmp(x, s->smx) > 0)
                    s->smx = x;
                break;
            }
        }
    }
    if (c->def.type == PQ_DOUBLE && s->has) {
        /* parquet.thrift ColumnOrder rules: a zero min is written -0.0, a zero max +0.0 */
        if (s->mn.d == 0) s->mn.d = -0.0;
        if (s->mx.d == 0) s->mx.d = 0.0;
    }
}

static void stat_merge(pq_type t, wstat *a, const wstat *b) {
    a->nonnull += b->nonnull;
    a->nulls += b->nulls;
    a->nans += b->nans;
    if (!b->has) return;
    if (!a->has) {
        a->has = true;
        a->mn = b->mn, a->mx = b->mx, a->smn = b->smn, a->smx = b->smx;
        return;
    }
    switch (t) {
        case PQ_INT64:
        case PQ_TIMESTAMP_NS:
            if (b->mn.i < a->mn.i) a->mn.i = b->mn.i;
            if (b->mx.i > a->mx.i) a->mx.i = b->mx.i;
            break;
        case PQ_UINT64:
            if (b->mn.u < a->mn.u) a->mn.u = b->mn.u;
            if (b->mx.u > a->mx.u) a->mx.u = b->mx.u;
            break;
        case PQ_DOUBLE:
            if (b->mn.d < a->mn.d) a->mn.d = b->mn.d;
            if (b->mx.d > a->mx.d) a->mx.d = b->mx.d;
            break;
        case PQ_BOOL:
            a->mn.b = a->mn.b && b->mn.b;
            a->mx.b = a->mx.b || b->mx.b;
            break;
        case PQ_STRING:
            if (sv_cmp(b->smn, a->smn) < 0) a->smn = b->smn;
            if (sv_cmp(b->smx, a->smx) > 0) a->smx = b->smx;
            break;
    }
}

/* Length of the longest prefix of s, at most max bytes, that ends on a UTF-8 boundary. */
static size_t utf8_cut(str_view s, size_t max) {
    size_t k = max < s.n ? max : s.n;
    while (k > 0 && k < s.n && ((uint8_t)s.p[k] & 0xc0) == 0x80) k--;
    return k;
}

/* Decode the code point starting at p[0] (valid UTF-8 assumed); *len gets its length. */
static uint32_t utf8_decode(const uint8_t *p, size_t *len) {
    if (p[0] < 0x80) return *len = 1, p[0];
    if (p[0] < 0xe0) return *len = 2, ((uint32_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
    if (p[0] < 0xf0)
        return *len = 3,
               ((uint32_t)(p[0] & 0x0f) << 12) | ((uint32_t)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
    return *len = 4, ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3f) << 12) |
                         ((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
}

static size_t utf8_encode(uint32_t cp, uint8_t *o) {
    if (cp < 0x80) return o[0] = (uint8_t)cp, 1;
    if (cp < 0x800)
        return o[0] = (uint8_t)(0xc0 | (cp >> 6)), o[1] = (uint8_t)(0x80 | (cp & 0x3f)), 2;
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xe0 | (cp >> 12));
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (uint8_t)(0xf0 | (cp >> 18));
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

/* invariant (4): a long min becomes its prefix; a long max becomes its prefix with the last
 * code point that can be incremented incremented (skipping the surrogate range), which is
 * greater than every string with that prefix. */
static void string_bounds(str_view mn, str_view mx, wbounds *b) {
    b->has = true;
    b->mn_exact = mn.n <= PQ_STAT_MAX_BYTES;
    b->mn_len = b->mn_exact ? mn.n : utf8_cut(mn, PQ_STAT_MAX_BYTES);
    b->mn = xmalloc(b->mn_len + 1);
    if (b->mn_len) memcpy(b->mn, mn.p, b->mn_len);
    if (mx.n > PQ_STAT_MAX_BYTES) {
        size_t k = utf8_cut(mx, PQ_STAT_MAX_BYTES);
        const uint8_t *p = (const uint8_t *)mx.p;
        /* start offsets of the code points of the prefix, walked from the end */
        while (k > 0) {
            size_t st = k - 1;
            while (st > 0 && (p[st] & 0xc0) == 0x80) st--;
            size_t len;
            uint32_t cp = utf8_decode(p + st, &len);
            if (cp < 0x10ffff) {
                cp = cp + 1 == 0xd800 ? 0xe000 : cp + 1;
                b->mx = xmalloc(st + 4);
                memcpy(b->mx, p, st);
                b->mx_len = st + utf8_encode(cp, b->mx + st);
                b->mx_exact = false;
                return;
            }
            k = st;
        }
    }
    b->mx_exact = true;
    b->mx_len = mx.n;
    b->mx = xmalloc(mx.n + 1);
    if (mx.n) memcpy(b->mx, mx.p, mx.n);
}

static void make_bounds(pq_type t, const wstat *s, wbounds *b) {
    memset(b, 0, sizeof *b);
    if (!s->has) return;
    if (t == PQ_STRING) {
        string_bounds(s->smn, s->smx, b);
        return;
    }
    b->has = true;
    b->mn_exact = b->mx_exact = true;
    b->mn = xmalloc(8);
    b->mx = xmalloc(8);
    if (t == PQ_BOOL) {
        b->mn[0] = s->mn.b, b->mx[0] = s->mx.b;
        b->mn_len = b->mx_len = 1;
        return;
    }
    uint64_t lo, hi;
    memcpy(&lo, &s->mn, 8);
    memcpy(&hi, &s->mx, 8);
    le_put64(b->mn, lo);
    le_put64(b->mx, hi);
    b->mn_len = b->mx_len = 8;
}

static void bounds_free(wbounds *b) {
    free(b->mn);
    free(b->mx);
    memset(b, 0, sizeof *b);
}

static void stats_out(pq_type t, const wstat *s, const wbounds *b, pq_stats_out *o) {
    memset(o, 0, sizeof *o);
    o->has_min_max = b->has;
    o->min = b->mn, o->min_len = b->mn_len, o->min_exact = b->mn_exact;
    o->max = b->mx, o->max_len = b->mx_len, o->max_exact = b->mx_exact;
    /* invariant (3): deprecated min/max only where signed order is the type order */
    o->legacy = t == PQ_INT64 || t == PQ_TIMESTAMP_NS || t == PQ_DOUBLE || t == PQ_BOOL;
    o->null_count = (int64_t)s->nulls;
    o->has_nan_count = t == PQ_DOUBLE;
    o->nan_count = (int64_t)s->nans;
}

/* ------------------------------------------------------------------ encoding pages */

static void ensure_tmp(pq_writer *w, size_t n) {
    if (n <= w->t_cap) return;
    size_t cap = w->t_cap ? w->t_cap : 4096;
    while (cap < n) cap *= 2;
    w->t64 = xrealloc(w->t64, cap * sizeof *w->t64);
    w->t32 = xrealloc(w->t32, cap * sizeof *w->t32);
    w->t8 = xrealloc(w->t8, cap);
    w->t_cap = cap;
}

/* Encode the non-null values of rows [lo, hi) with `enc` into out. */
static void encode_values(pq_writer *w, const pq_wcol *c, size_t lo, size_t hi, int enc,
                          size_t n_dict, buf *out) {
    const uint8_t *valid = c->valid;
    size_t n = 0;
    ensure_tmp(w, hi - lo);
    switch (c->def.type) {
        case PQ_STRING:
            if (enc == PQE_RLE_DICTIONARY) {
                for (size_t i = lo; i < hi; i++)
                    if (!valid || valid[i]) w->t32[n++] = c->idx[i];
                int width = pq__bit_width64(n_dict ? n_dict - 1 : 0);
                if (width < 1) width = 1;
                buf_putc(out, (char)width);
                pq__rle_encode_u32(out, w->t32, n, width);
            } else {
                for (size_t i = lo; i < hi; i++) {
                    if (valid && !valid[i]) continue;
                    str_view s = c->ent[c->idx[i]];
                    buf_reserve(out, 4 + s.n);
                    le_put32(out->p + out->len, (uint32_t)s.n);
                    if (s.n) memcpy(out->p + out->len + 4, s.p, s.n);
                    out->len += 4 + s.n;
                }
            }
            return;
        case PQ_BOOL: {
            for (size_t i = lo; i < hi; i++)
                if (!valid || valid[i]) w->t8[n++] = c->b[i];
            if (enc == PQE_RLE) {
                size_t at = out->len;
                buf_reserve(out, 4);
                out->len += 4;
                pq__rle_encode_u8(out, w->t8, n, 1);
                le_put32(out->p + at, (uint32_t)(out->len - at - 4));
            } else {
                size_t bytes = (n + 7) / 8;
                buf_reserve(out, bytes);
                memset(out->p + out->len, 0, bytes);
                for (size_t i = 0; i < n; i++)
                    if (w->t8[i]) out->p[out->len + i / 8] |= (uint8_t)(1u << (i % 8));
                out->len += bytes;
            }
            return;
        }
        default:
            break;
    }
    /* 8-byte types */
    for (size_t i = lo; i < hi; i++)
        if (!valid || valid[i]) w->t64[n++] = c->v64[i];
    switch (enc) {
        case PQE_DELTA_BINARY_PACKED:
            pq__delta_encode(out, w->t64, n);
            return;
        case PQE_BYTE_STREAM_SPLIT:
            buf_reserve(out, n * 8);
            for (size_t i = 0; i < n; i++) le_put64((uint8_t *)&w->t64[i], (uint64_t)w->t64[i]);
            pq__bss_encode(out->p + out->len, (const uint8_t *)w->t64, n, 8);
            out->len += n * 8;
            return;
        default:
            buf_reserve(out, n * 8);
            for (size_t i = 0; i < n; i++) le_put64(out->p + out->len + i * 8, (uint64_t)w->t64[i]);
            out->len += n * 8;
            return;
    }
}

/* Build the bytes that follow the page header into `body`: v1 levels (length-prefixed) and
 * values, compressed together; v2 levels uncompressed, then compressed values. */
static int build_body(pq_writer *w, const pq_wcol *c, size_t lo, size_t hi, int enc, size_t n_dict,
                      buf *body, size_t *unc, int32_t *def_len, silt_err *err) {
    int rc;
    buf_reset(body);
    if (!w->o.data_page_v2) {
        buf *raw = &w->raw;
        buf_reset(raw);
        if (c->def.optional) {
            buf_reserve(raw, 4);
            raw->len = 4;
            pq__rle_encode_u8(raw, c->valid + lo, hi - lo, 1);
            le_put32(raw->p, (uint32_t)(raw->len - 4));
        }
        encode_values(w, c, lo, hi, enc, n_dict, raw);
        *unc = raw->len;
        *def_len = 0;
        rc = pq__compress(w->codec, (int)w->o.codec, w->o.zstd_level, raw->p, raw->len, body, err);
    } else {
        if (c->def.optional) pq__rle_encode_u8(body, c->valid + lo, hi - lo, 1);
        *def_len = (int32_t)body->len;
        buf_reset(&w->vals);
        encode_values(w, c, lo, hi, enc, n_dict, &w->vals);
        *unc = body->len + w->vals.len;
        rc = pq__compress(w->codec, (int)w->o.codec, w->o.zstd_level, w->vals.p, w->vals.len, body,
                          err);
    }
    if (rc) return rc;
    if (*unc > INT32_MAX || body->len > INT32_MAX)
        return SILT_FAIL(err, SILT_ETOOBIG, "parquet: column %s: page larger than 2 GiB",
                         c->def.name);
    return SILT_OK;
}

typedef struct page_desc {
    int type; /* PQP_* */
    size_t unc;
    int32_t num_values, num_nulls, def_len;
    int enc;
    const pq_stats_out *stats;
} page_desc;

/* Append header + body to the file; returns the header length. invariant (2) */
static size_t emit_page(pq_writer *w, const page_desc *d, const buf *body) {
    buf_reset(&w->hdr);
    tc_writer t;
    tcw_init(&t, &w->hdr);
    tcw_begin(&t);
    tcw_i32(&t, 1, d->type);
    tcw_i32(&t, 2, (int32_t)d->unc);
    tcw_i32(&t, 3, (int32_t)body->len);
    tcw_i32(&t, 4, (int32_t)pq__crc32(body->p, body->len));
    if (d->type == PQP_DICTIONARY_PAGE) {
        tcw_struct(&t, 7);
        tcw_i32(&t, 1, d->num_values);
        tcw_i32(&t, 2, PQE_PLAIN);
        tcw_bool(&t, 3, false);
        tcw_end(&t);
    } else if (d->type == PQP_DATA_PAGE) {
        tcw_struct(&t, 5);
        tcw_i32(&t, 1, d->num_values);
        tcw_i32(&t, 2, d->enc);
        tcw_i32(&t, 3, PQE_RLE);
        tcw_i32(&t, 4, PQE_RLE);
        /* no statistics in page headers: the ColumnIndex has them for every page, and a
         * reader that prunes uses it; in each header they cost bytes and parse time */
        tcw_end(&t);
    } else {
        tcw_struct(&t, 8);
        tcw_i32(&t, 1, d->num_values);
        tcw_i32(&t, 2, d->num_nulls);
        tcw_i32(&t, 3, d->num_values);
        tcw_i32(&t, 4, d->enc);
        tcw_i32(&t, 5, d->def_len);
        tcw_i32(&t, 6, 0);
        tcw_bool(&t, 7, w->o.codec != PQ_UNCOMPRESSED);
        tcw_end(&t);
    }
    tcw_end(&t);
    buf_append(&w->body, w->hdr.p, w->hdr.len);
    buf_append(&w->body, body->p, body->len);
    return w->hdr.len;
}

/* Do rows i and j of the buffered row group belong to one series (equal in the first
 * series_cols columns)? Interned strings compare by index. */
static bool same_series(const pq_writer *w, size_t i, size_t j) {
    for (size_t k = 0; k < w->o.series_cols && k < w->n_cols; k++) {
        const pq_wcol *c = &w->cols[k];
        bool vi = !c->valid || c->valid[i], vj = !c->valid || c->valid[j];
        if (vi != vj) return false;
        if (!vi) continue;
        switch (c->def.type) {
            case PQ_STRING:
                if (c->idx[i] != c->idx[j]) return false;
                break;
            case PQ_BOOL:
                if (c->b[i] != c->b[j]) return false;
                break;
            default:
                if (c->v64[i] != c->v64[j]) return false;
        }
    }
    return true;
}

static void fcut_add(pq_writer *w, size_t row) {
    if (row == 0 || row >= w->rows || (w->n_fcuts && w->fcuts[w->n_fcuts - 1] >= row)) return;
    XGROW(w->fcuts, w->cap_fcuts, w->n_fcuts + 1);
    w->fcuts[w->n_fcuts++] = row;
}

/* The series page cuts of the buffered row group (pq_writer_opts.series_cols, tail_rows),
 * shared by every column. */
static void plan_series_cuts(pq_writer *w) {
    w->n_fcuts = 0;
    if (!w->o.series_cols || w->rows < 2) return;
    size_t tail = w->o.tail_rows, page_start = 0, s = 0;
    size_t min_rows = PQ_SERIES_PAGE_MIN_ROWS; /* smaller pages only when page_rows is small */
    if (w->o.page_rows && w->o.page_rows / 4 < min_rows) min_rows = w->o.page_rows / 4 + 1;
    while (s < w->rows) {
        size_t e = s + 1;
        while (e < w->rows && same_series(w, e - 1, e)) e++;
        /* series [s, e) */
        bool tailed = tail && e - s >= 2 * tail;
        if (s > page_start && s - page_start >= min_rows) {
            fcut_add(w, s);
            page_start = s;
        }
        if (tailed) {
            fcut_add(w, e - tail);
            fcut_add(w, e);
            page_start = e;
        }
        s = e;
    }
}

/* Row boundaries of the pages of a chunk: a page ends when the PLAIN size of its rows reaches
 * page_bytes, it holds page_rows rows, or at a series cut (invariant (1)). */
static size_t plan_pages(const pq_writer *w, const pq_wcol *c, size_t **cuts) {
    size_t n = c->n, cap = 16, k = 0, fi = 0;
    size_t *v = xmalloc(cap * sizeof *v);
    uint64_t limit = (uint64_t)w->o.page_bytes * 8, acc = 0;
    size_t start = 0;
    size_t max_rows = w->o.page_rows && w->o.page_rows < INT32_MAX ? w->o.page_rows : INT32_MAX;
    for (size_t i = 0; i < n; i++) {
        if (fi < w->n_fcuts && w->fcuts[fi] == i) {
            fi++;
            if (i > start) {
                if (k == cap) v = xrealloc(v, (cap *= 2) * sizeof *v);
                v[k++] = i;
                start = i;
                acc = 0;
            }
        }
        uint64_t bits = c->def.optional ? 1 : 0;
        if (!c->valid || c->valid[i]) {
            switch (c->def.type) {
                case PQ_BOOL:
                    bits += 1;
                    break;
                case PQ_STRING:
                    bits += (4 + (uint64_t)c->ent[c->idx[i]].n) * 8;
                    break;
                default:
                    bits += 64;
            }
        }
        acc += bits;
        if (acc >= limit || i + 1 - start >= max_rows) {
            if (k == cap) v = xrealloc(v, (cap *= 2) * sizeof *v);
            v[k++] = i + 1;
            start = i + 1;
            acc = 0;
        }
    }
    if (start < n || k == 0) {
        if (k == cap) v = xrealloc(v, (cap *= 2) * sizeof *v);
        v[k++] = n;
    }
    *cuts = v;
    return k;
}

static int cmp_bounds(pq_type t, const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    switch (t) {
        case PQ_INT64:
        case PQ_TIMESTAMP_NS: {
            int64_t x = (int64_t)le_get64(a), y = (int64_t)le_get64(b);
            return x < y ? -1 : x > y;
        }
        case PQ_UINT64: {
            uint64_t x = le_get64(a), y = le_get64(b);
            return x < y ? -1 : x > y;
        }
        case PQ_DOUBLE: {
            double x, y;
            uint64_t ux = le_get64(a), uy = le_get64(b);
            memcpy(&x, &ux, 8);
            memcpy(&y, &uy, 8);
            return x < y ? -1 : x > y;
        }
        case PQ_BOOL:
            return (int)a[0] - (int)b[0];
        case PQ_STRING:
            return sv_cmp((str_view){(const char *)a, an}, (str_view){(const char *)b, bn});
    }
    return 0;
}

/* Encode column c of the buffered row group as one chunk. */
static int write_chunk(pq_writer *w, pq_wcol *c, wchunk *ck, silt_err *err) {
    int rc = SILT_OK;
    pq_type t = c->def.type;
    bool v2 = w->o.data_page_v2;
    memset(ck, 0, sizeof *ck);
    ck->phys = phys_of(t);
    ck->optional = c->def.optional;
    ck->num_values = (int64_t)c->n;
    size_t *cuts = NULL;
    size_t n_pages = plan_pages(w, c, &cuts);
    wbounds *pb = xcalloc(n_pages, sizeof *pb);
    wstat *ps = xcalloc(n_pages, sizeof *ps);
    pq_page_location *locs = xcalloc(n_pages, sizeof *locs);

    /* dictionary plan, invariant (5) */
    size_t n_dict = 0, dict_rows = 0; /* pages ending at or before dict_rows use the dict */
    if (t == PQ_STRING && c->n_ent > 0) {
        size_t bytes = 0;
        while (n_dict < c->n_ent && bytes + 4 + c->ent[n_dict].n <= w->o.dict_bytes)
            bytes += 4 + c->ent[n_dict++].n;
        size_t nonnull = 0;
        for (size_t i = 0; i < c->n; i++) nonnull += !c->valid || c->valid[i];
        bool use;
        if (c->def.dictionary)
            use = n_dict > 0;
        else
            use = n_dict == c->n_ent && c->n_ent * 2 <= nonnull;
        if (use) {
            dict_rows = c->n;
            for (size_t i = 0; i < c->n; i++)
                if ((!c->valid || c->valid[i]) && c->idx[i] >= n_dict) {
                    dict_rows = i;
                    break;
                }
            if (cuts[0] > dict_rows) dict_rows = 0;
        }
        if (dict_rows == 0) n_dict = 0;
    }

    if (n_dict > 0) {
        buf_reset(&w->raw);
        for (size_t i = 0; i < n_dict; i++) {
            str_view s = c->ent[i];
            buf_reserve(&w->raw, 4 + s.n);
            le_put32(w->raw.p + w->raw.len, (uint32_t)s.n);
            if (s.n) memcpy(w->raw.p + w->raw.len + 4, s.p, s.n);
            w->raw.len += 4 + s.n;
        }
        buf_reset(&w->comp);
        rc = pq__compress(w->codec, (int)w->o.codec, w->o.zstd_level, w->raw.p, w->raw.len,
                          &w->comp, err);
        if (rc) goto fail;
        page_desc d = {
            .type = PQP_DICTIONARY_PAGE, .unc = w->raw.len, .num_values = (int32_t)n_dict};
        ck->dict_page = true;
        ck->dict_off = (int64_t)w->body.len;
        size_t hl = emit_page(w, &d, &w->comp);
        ck->tot_unc += (int64_t)(hl + w->raw.len);
        ck->tot_comp += (int64_t)(hl + w->comp.len);
    }

    int dbl_enc = -1; /* DOUBLE: chosen on the first page with values */
    size_t lo = 0;
    for (size_t p = 0; p < n_pages; p++) {
        size_t hi = cuts[p];
        page_stats(c, lo, hi, &ps[p]);
        stat_merge(t, &ck->st, &ps[p]);
        make_bounds(t, &ps[p], &pb[p]);
        int enc;
        switch (t) {
            case PQ_STRING:
                enc = hi <= dict_rows ? PQE_RLE_DICTIONARY : PQE_PLAIN;
                break;
            case PQ_BOOL:
                enc = v2 ? PQE_RLE : PQE_PLAIN;
                break;
            case PQ_DOUBLE:
                enc = dbl_enc >= 0 ? dbl_enc : PQE_PLAIN;
                break;
            default:
                enc = PQE_DELTA_BINARY_PACKED;
        }
        size_t unc;
        int32_t def_len;
        rc = build_body(w, c, lo, hi, enc, n_dict, &w->comp, &unc, &def_len, err);
        if (rc) goto fail;
        if (t == PQ_DOUBLE && dbl_enc < 0 && ps[p].nonnull > 0) {
            /* try BYTE_STREAM_SPLIT on the first page with values; keep the smaller */
            dbl_enc = PQE_PLAIN;
            if (w->o.codec != PQ_UNCOMPRESSED) {
                size_t unc2;
                int32_t def_len2;
                rc = build_body(w, c, lo, hi, PQE_BYTE_STREAM_SPLIT, 0, &w->alt, &unc2, &def_len2,
                                err);
                if (rc) goto fail;
                if (w->alt.len < w->comp.len) {
                    buf tmp = w->comp;
                    w->comp = w->alt;
                    w->alt = tmp;
                    unc = unc2;
                    def_len = def_len2;
                    enc = dbl_enc = PQE_BYTE_STREAM_SPLIT;
                }
            }
        }
        pq_stats_out so;
        stats_out(t, &ps[p], &pb[p], &so);
        page_desc d = {.type = v2 ? PQP_DATA_PAGE_V2 : PQP_DATA_PAGE,
                       .unc = unc,
                       .num_values = (int32_t)(hi - lo),
                       .num_nulls = (int32_t)ps[p].nulls,
                       .def_len = def_len,
                       .enc = enc,
                       .stats = &so};
        int64_t off = (int64_t)w->body.len;
        if (p == 0) ck->data_off = off;
        size_t hl = emit_page(w, &d, &w->comp);
        locs[p] = (pq_page_location){off, (int32_t)(hl + w->comp.len), (int64_t)lo};
        ck->tot_unc += (int64_t)(hl + unc);
        ck->tot_comp += (int64_t)(hl + w->comp.len);
        ck->enc_used[enc]++;
        lo = hi;
    }
    make_bounds(t, &ck->st, &ck->bounds);

    /* ColumnIndex: not written when a page's values are all NaN (TYPE_ORDER rule) */
    bool ci_ok = true;
    for (size_t p = 0; p < n_pages; p++)
        if (ps[p].nonnull > 0 && !pb[p].has) ci_ok = false;
    if (ci_ok) {
        int order_asc = 1, order_desc = 1;
        size_t prev = SIZE_MAX;
        for (size_t p = 0; p < n_pages; p++) {
            if (!pb[p].has) continue;
            if (prev != SIZE_MAX) {
                int cm = cmp_bounds(t, pb[p].mn, pb[p].mn_len, pb[prev].mn, pb[prev].mn_len);
                int cx = cmp_bounds(t, pb[p].mx, pb[p].mx_len, pb[prev].mx, pb[prev].mx_len);
                if (cm < 0 || cx < 0) order_asc = 0;
                if (cm > 0 || cx > 0) order_desc = 0;
            }
            prev = p;
        }
        tc_writer tw;
        tcw_init(&tw, &ck->ci);
        tcw_begin(&tw);
        tcw_list(&tw, 1, TC_TRUE, n_pages);
        for (size_t p = 0; p < n_pages; p++) tcw_elem_bool(&tw, !pb[p].has);
        tcw_list(&tw, 2, TC_BINARY, n_pages);
        for (size_t p = 0; p < n_pages; p++) tcw_elem_bin(&tw, pb[p].mn, pb[p].mn_len);
        tcw_list(&tw, 3, TC_BINARY, n_pages);
        for (size_t p = 0; p < n_pages; p++) tcw_elem_bin(&tw, pb[p].mx, pb[p].mx_len);
        tcw_i32(&tw, 4, order_asc ? PQB_ASCENDING : order_desc ? PQB_DESCENDING : PQB_UNORDERED);
        tcw_list(&tw, 5, TC_I64, n_pages);
        for (size_t p = 0; p < n_pages; p++) tcw_elem_i64(&tw, (int64_t)ps[p].nulls);
        tcw_end(&tw);
        ck->has_ci = true;
    }
    {
        tc_writer tw;
        tcw_init(&tw, &ck->oi);
        tcw_begin(&tw);
        tcw_list(&tw, 1, TC_STRUCT, n_pages);
        for (size_t p = 0; p < n_pages; p++) {
            tcw_begin(&tw);
            tcw_i64(&tw, 1, locs[p].offset);
            tcw_i32(&tw, 2, locs[p].compressed_page_size);
            tcw_i64(&tw, 3, locs[p].first_row_index);
            tcw_end(&tw);
        }
        tcw_end(&tw);
    }
fail:
    for (size_t p = 0; p < n_pages; p++) bounds_free(&pb[p]);
    free(pb);
    free(ps);
    free(locs);
    free(cuts);
    return rc;
}

static void wcol_reset(pq_wcol *c) {
    c->n = 0;
    if (c->def.type == PQ_STRING) {
        hmap_free(&c->map);
        memset(&c->map, 0, sizeof c->map);
        c->n_ent = 0;
        c->has_last = false;
        arena_reset(&c->strs);
    }
}

static int flush_row_group(pq_writer *w, silt_err *err) {
    if (w->rows == 0) return SILT_OK;
    if (w->n_rgs == w->cap_rgs) {
        w->cap_rgs = w->cap_rgs ? w->cap_rgs * 2 : 8;
        w->rgs = xrealloc(w->rgs, w->cap_rgs * sizeof *w->rgs);
    }
    wrg *g = &w->rgs[w->n_rgs];
    memset(g, 0, sizeof *g);
    g->cols = xcalloc(w->n_cols, sizeof *g->cols);
    g->num_rows = (int64_t)w->rows;
    g->file_offset = (int64_t)w->body.len;
    w->n_rgs++; /* counted now so pq_writer_abort frees the chunks */
    /* reserve the PLAIN size of the row group once: untouched reserved pages cost nothing,
     * and growing by doubling would copy the file several times */
    size_t est = 0;
    for (size_t c = 0; c < w->n_cols; c++) est += w->rows * 9 + 4096;
    if (est <= ((size_t)1 << 30)) buf_reserve(&w->body, est);
    plan_series_cuts(w);
    for (size_t c = 0; c < w->n_cols; c++) {
        int rc = write_chunk(w, &w->cols[c], &g->cols[c], err);
        if (rc) return rc;
        g->tot_unc += g->cols[c].tot_unc;
        g->tot_comp += g->cols[c].tot_comp;
        wcol_reset(&w->cols[c]);
    }
    w->total_rows += w->rows;
    w->rows = 0;
    return SILT_OK;
}

/* ------------------------------------------------------------------ footer */

static void write_schema_leaf(tc_writer *t, const pq_column_def *d) {
    tcw_begin(t);
    tcw_i32(t, 1, phys_of(d->type));
    tcw_i32(t, 3, d->optional ? PQR_OPTIONAL : PQR_REQUIRED);
    tcw_bin(t, 4, d->name, strlen(d->name));
    switch (d->type) {
        case PQ_STRING:
            tcw_i32(t, 6, PQCT_UTF8);
            tcw_struct(t, 10);
            tcw_struct(t, PQL_STRING);
            tcw_end(t);
            tcw_end(t);
            break;
        case PQ_UINT64:
            tcw_i32(t, 6, PQCT_UINT_64);
            tcw_struct(t, 10);
            tcw_struct(t, PQL_INTEGER);
            tcw_i8(t, 1, 64);
            tcw_bool(t, 2, false);
            tcw_end(t);
            tcw_end(t);
            break;
        case PQ_TIMESTAMP_NS:
            /* no ConvertedType exists for nanoseconds */
            tcw_struct(t, 10);
            tcw_struct(t, PQL_TIMESTAMP);
            tcw_bool(t, 1, false);
            tcw_struct(t, 2);
            tcw_struct(t, 3); /* NANOS */
            tcw_end(t);
            tcw_end(t);
            tcw_end(t);
            tcw_end(t);
            break;
        default:
            break;
    }
    tcw_end(t);
}

static void write_chunk_meta(tc_writer *t, const pq_writer *w, const pq_wcol *c, const wchunk *ck) {
    tcw_begin(t);
    tcw_i64(t, 2, 0); /* file_offset: no ColumnMetaData outside the footer */
    tcw_struct(t, 3);
    tcw_i32(t, 1, ck->phys);
    int encs[12], ne = 0;
    bool has[10] = {0};
    for (int e = 0; e < 10; e++) has[e] = ck->enc_used[e] > 0;
    if (ck->dict_page) has[PQE_PLAIN] = true;
    if (ck->optional) has[PQE_RLE] = true;
    for (int e = 0; e < 10; e++)
        if (has[e]) encs[ne++] = e;
    tcw_list(t, 2, TC_I32, (size_t)ne);
    for (int i = 0; i < ne; i++) tcw_elem_i32(t, encs[i]);
    tcw_list(t, 3, TC_BINARY, 1);
    tcw_elem_bin(t, c->def.name, strlen(c->def.name));
    tcw_i32(t, 4, (int)w->o.codec);
    tcw_i64(t, 5, ck->num_values);
    tcw_i64(t, 6, ck->tot_unc);
    tcw_i64(t, 7, ck->tot_comp);
    tcw_i64(t, 9, ck->data_off);
    if (ck->dict_page) tcw_i64(t, 11, ck->dict_off);
    pq_stats_out so;
    stats_out(c->def.type, &ck->st, &ck->bounds, &so);
    pq__write_stats(t, 12, &so);
    int n_es = (ck->dict_page ? 1 : 0);
    for (int e = 0; e < 10; e++) n_es += ck->enc_used[e] > 0;
    tcw_list(t, 13, TC_STRUCT, (size_t)n_es);
    if (ck->dict_page) {
        tcw_begin(t);
        tcw_i32(t, 1, PQP_DICTIONARY_PAGE);
        tcw_i32(t, 2, PQE_PLAIN);
        tcw_i32(t, 3, 1);
        tcw_end(t);
    }
    for (int e = 0; e < 10; e++) {
        if (!ck->enc_used[e]) continue;
        tcw_begin(t);
        tcw_i32(t, 1, w->o.data_page_v2 ? PQP_DATA_PAGE_V2 : PQP_DATA_PAGE);
        tcw_i32(t, 2, e);
        tcw_i32(t, 3, ck->enc_used[e]);
        tcw_end(t);
    }
    tcw_end(t); /* ColumnMetaData */
    tcw_i64(t, 4, ck->oi_off);
    tcw_i32(t, 5, (int32_t)ck->oi.len);
    if (ck->has_ci) {
        tcw_i64(t, 6, ck->ci_off);
        tcw_i32(t, 7, (int32_t)ck->ci.len);
    }
    tcw_end(t);
}

int pq_writer_finish(pq_writer *w, buf *out, silt_err *err) {
    int rc = flush_row_group(w, err);
    if (rc) goto fail;
    /* invariant (6): page indexes after the row groups */
    for (size_t g = 0; g < w->n_rgs; g++)
        for (size_t c = 0; c < w->n_cols; c++) {
            wchunk *ck = &w->rgs[g].cols[c];
            if (!ck->has_ci) continue;
            ck->ci_off = (int64_t)w->body.len;
            buf_append(&w->body, ck->ci.p, ck->ci.len);
        }
    for (size_t g = 0; g < w->n_rgs; g++)
        for (size_t c = 0; c < w->n_cols; c++) {
            wchunk *ck = &w->rgs[g].cols[c];
            ck->oi_off = (int64_t)w->body.len;
            buf_append(&w->body, ck->oi.p, ck->oi.len);
        }
    size_t footer_at = w->body.len;
    tc_writer t;
    tcw_init(&t, &w->body);
    tcw_begin(&t);
    tcw_i32(&t, 1, 1);
    tcw_list(&t, 2, TC_STRUCT, w->n_cols + 1);
    tcw_begin(&t);
    tcw_bin(&t, 4, "schema", 6);
    tcw_i32(&t, 5, (int32_t)w->n_cols);
    tcw_end(&t);
    for (size_t c = 0; c < w->n_cols; c++) write_schema_leaf(&t, &w->cols[c].def);
    tcw_i64(&t, 3, (int64_t)w->total_rows);
    tcw_list(&t, 4, TC_STRUCT, w->n_rgs);
    for (size_t g = 0; g < w->n_rgs; g++) {
        const wrg *rg = &w->rgs[g];
        tcw_begin(&t);
        tcw_list(&t, 1, TC_STRUCT, w->n_cols);
        for (size_t c = 0; c < w->n_cols; c++) write_chunk_meta(&t, w, &w->cols[c], &rg->cols[c]);
        tcw_i64(&t, 2, rg->tot_unc);
        tcw_i64(&t, 3, rg->num_rows);
        tcw_i64(&t, 5, rg->file_offset);
        tcw_i64(&t, 6, rg->tot_comp);
        if (g <= INT16_MAX) tcw_i16(&t, 7, (int16_t)g);
        tcw_end(&t);
    }
    if (w->n_kv) {
        tcw_list(&t, 5, TC_STRUCT, w->n_kv);
        for (size_t i = 0; i < w->n_kv; i++) {
            tcw_begin(&t);
            tcw_bin(&t, 1, w->kv[i].key, strlen(w->kv[i].key));
            if (w->kv[i].value) tcw_bin(&t, 2, w->kv[i].value, strlen(w->kv[i].value));
            tcw_end(&t);
        }
    }
    tcw_bin(&t, 6, w->created_by, strlen(w->created_by));
    tcw_list(&t, 7, TC_STRUCT, w->n_cols);
    for (size_t c = 0; c < w->n_cols; c++) {
        tcw_begin(&t);
        tcw_struct(&t, 1); /* TYPE_ORDER */
        tcw_end(&t);
        tcw_end(&t);
    }
    tcw_end(&t);
    size_t flen = w->body.len - footer_at;
    if (flen > UINT32_MAX) {
        rc = SILT_FAIL(err, SILT_ETOOBIG, "parquet: footer too large");
        goto fail;
    }
    uint8_t tail[8];
    le_put32(tail, (uint32_t)flen);
    memcpy(tail + 4, PQ_MAGIC, 4);
    buf_append(&w->body, tail, 8);
    if (out->len == 0 && out->cap <= w->body.cap) {
        buf tmp = *out;
        *out = w->body;
        w->body = tmp;
    } else {
        buf_append(out, w->body.p, w->body.len);
    }
fail:
    pq_writer_abort(w);
    return rc;
}
