/* SPDX-License-Identifier: MIT
 *
 * query_merge_scan: one table out of several parts (Parquet files, oldest first, then buffer
 * generations), with last-write-wins merge of rows of one series and time, field by field.
 *
 * Parts are grouped by overlapping time ranges (a sweep over the ranges sorted by start).
 * A part that overlaps no other cannot share a (series, time) with another part, so its
 * batches pass through untouched — the common case: in-order data persisted in successive
 * snapshots. Overlapping parts are merged in memory: every row is keyed by all of the table's
 * tag values and its time; a later part's non-NULL fields overwrite an earlier part's.
 *
 * Invariants:
 *  (1) parts are given oldest first; within a merge group they are scanned in that order, so
 *      "later" always means "newer write";
 *  (2) a part never holds two rows of one series and time (the buffer merges on arrival, a
 *      file is written from one buffer chunk), so single-part groups need no merge;
 *  (3) QUERY_SCAN_STOP from the consumer ends the whole scan, not just the current part.
 */
#include "query_int.h"

#include "../util/hmap.h"

#include <stdlib.h>

#define MERGE_BATCH_ROWS 4096

typedef struct stop_wrap {
    query_batch_fn fn;
    void *arg;
    bool stopped;
} stop_wrap;

static int wrap_fn(void *a, const query_batch *b) {
    stop_wrap *w = a;
    int r = w->fn(w->arg, b);
    if (r == QUERY_SCAN_STOP) w->stopped = true;
    return r;
}

/* Columnar rows of a merge group: one growable array per needed column. */
typedef struct mcol {
    query_column def;
    bool is_req;   /* part of the request (else only needed for the key) */
    uint8_t *vals; /* 8 bytes per row (or str_view) */
    uint8_t *valid;
} mcol;

typedef struct merger {
    const query_table *t;
    size_t n_need;
    size_t *need; /* col idx into t->cols */
    mcol *cols;   /* per need entry */
    size_t rows, cap;
    hmap keys; /* key bytes -> row */
    arena mem; /* keys and string values */
    buf key;
    size_t *tag_pos; /* positions in need[] of the tag columns */
    size_t n_tags;
    size_t time_pos;
} merger;

static size_t vsize(const query_column *c) {
    return (c->kind == QCOL_TAG || c->type == LP_STRING) ? sizeof(str_view) : 8;
}

static void grow(merger *m) {
    if (m->rows < m->cap) return;
    size_t nc = m->cap ? m->cap * 2 : 4096;
    for (size_t i = 0; i < m->n_need; i++) {
        m->cols[i].vals = xrealloc(m->cols[i].vals, nc * vsize(&m->cols[i].def));
        m->cols[i].valid = xrealloc(m->cols[i].valid, nc);
    }
    m->cap = nc;
}

static void put_value(merger *m, size_t c, size_t row, const query_vec *v, size_t r) {
    mcol *mc = &m->cols[c];
    bool ok = !v->valid || v->valid[r];
    mc->valid[row] = ok;
    if (!ok) return;
    const query_column *d = &mc->def;
    uint8_t *dst = mc->vals + row * vsize(d);
    if (d->kind == QCOL_TAG || d->type == LP_STRING) {
        str_view s = v->str[r];
        str_view copy = {arena_strndup(&m->mem, s.p, s.n), s.n};
        memcpy(dst, &copy, sizeof copy);
    } else if (d->kind == QCOL_TIME || d->type == LP_INT) {
        memcpy(dst, &v->i64[r], 8);
    } else if (d->type == LP_UINT) {
        memcpy(dst, &v->u64[r], 8);
    } else if (d->type == LP_FLOAT) {
        memcpy(dst, &v->f64[r], 8);
    } else {
        uint64_t b = v->b[r];
        memcpy(dst, &b, 8);
    }
}

static int merge_batch(void *arg, const query_batch *b) {
    merger *m = arg;
    for (size_t r = 0; r < b->n_rows; r++) {
        buf_reset(&m->key);
        for (size_t k = 0; k < m->n_tags; k++) {
            const query_vec *v = &b->cols[m->tag_pos[k]];
            bool ok = !v->valid || v->valid[r];
            buf_putc(&m->key, ok ? 1 : 0);
            if (ok) {
                buf_put_varint(&m->key, v->str[r].n);
                buf_append(&m->key, v->str[r].p, v->str[r].n);
            }
        }
        buf_append(&m->key, &b->cols[m->time_pos].i64[r], 8);
        uint64_t h = hmap_hash(m->key.p, m->key.len), row;
        if (hmap_get(&m->keys, m->key.p, m->key.len, h, &row)) {
            /* invariant (1): this part is newer; its non-NULL fields win */
            for (size_t c = 0; c < m->n_need; c++) {
                const query_column *d = &m->cols[c].def;
                if (d->kind != QCOL_FIELD) continue;
                const query_vec *v = &b->cols[c];
                if (v->valid && !v->valid[r]) continue;
                put_value(m, c, row, v, r);
            }
            continue;
        }
        grow(m);
        row = m->rows++;
        for (size_t c = 0; c < m->n_need; c++) put_value(m, c, row, &b->cols[c], r);
        char *k = arena_alloc(&m->mem, m->key.len);
        memcpy(k, m->key.p, m->key.len);
        hmap_put(&m->keys, k, m->key.len, h, row);
    }
    return QUERY_SCAN_CONTINUE;
}

static int merge_group(query_part **grp, size_t n, const query_table *t, const query_scan_req *req,
                       stop_wrap *out, silt_err *err) {
    merger m = {.t = t};
    arena_init(&m.mem, 256 * 1024);
    /* needed columns: the request's, then every tag and time (the merge key) */
    m.need = xmalloc((req->n_cols + t->n_cols + 1) * sizeof *m.need);
    for (size_t i = 0; i < req->n_cols; i++) m.need[m.n_need++] = req->col_idx[i];
    for (size_t c = 0; c < t->n_cols; c++) {
        if (t->cols[c].kind != QCOL_TAG && t->cols[c].kind != QCOL_TIME) continue;
        bool have = false;
        for (size_t i = 0; i < m.n_need && !have; i++) have = m.need[i] == c;
        if (!have) m.need[m.n_need++] = c;
    }
    m.cols = xcalloc(m.n_need, sizeof *m.cols);
    m.tag_pos = xmalloc(m.n_need * sizeof *m.tag_pos);
    for (size_t i = 0; i < m.n_need; i++) {
        m.cols[i].def = t->cols[m.need[i]];
        m.cols[i].is_req = i < req->n_cols;
        if (m.cols[i].def.kind == QCOL_TAG) m.tag_pos[m.n_tags++] = i;
        if (m.cols[i].def.kind == QCOL_TIME) m.time_pos = i;
    }
    int rc = SILT_OK;
    /* tag filters select whole series, so every part may apply them before the merge */
    query_scan_req preq = *req;
    preq.col_idx = m.need;
    preq.n_cols = m.n_need;
    preq.count_only = NULL; /* the merge reads tag and time values */
    preq.topk = NULL;       /* and the rows that a later part overwrites */
    preq.lane2 = NULL;      /* merge_batch is one consumer */
    preq.lane2_start = NULL;
    for (size_t p = 0; p < n && !rc; p++) rc = grp[p]->scan(grp[p], t, &preq, merge_batch, &m, err);
    /* emit in batches, request columns only */
    query_vec *vecs = xcalloc(req->n_cols ? req->n_cols : 1, sizeof *vecs);
    for (size_t start = 0; !rc && start < m.rows && !out->stopped; start += MERGE_BATCH_ROWS) {
        size_t nr = m.rows - start < MERGE_BATCH_ROWS ? m.rows - start : MERGE_BATCH_ROWS;
        for (size_t i = 0; i < req->n_cols; i++) {
            const mcol *mc = &m.cols[i];
            query_vec *v = &vecs[i];
            memset(v, 0, sizeof *v);
            v->valid = mc->valid + start;
            const uint8_t *base = mc->vals + start * vsize(&mc->def);
            const query_column *d = &mc->def;
            if (d->kind == QCOL_TAG || d->type == LP_STRING)
                v->str = (const str_view *)(const void *)base;
            else if (d->kind == QCOL_TIME) {
                v->i64 = (const int64_t *)(const void *)base;
                v->valid = NULL;
            } else if (d->type == LP_INT)
                v->i64 = (const int64_t *)(const void *)base;
            else if (d->type == LP_UINT)
                v->u64 = (const uint64_t *)(const void *)base;
            else if (d->type == LP_FLOAT)
                v->f64 = (const double *)(const void *)base;
            else {
                /* booleans were stored widened to 8 bytes: narrow them for the batch */
                uint8_t *bb = arena_alloc(&m.mem, nr);
                for (size_t r = 0; r < nr; r++) bb[r] = base[r * 8] != 0;
                v->b = bb;
            }
        }
        query_batch qb = {nr, vecs};
        int r = wrap_fn(out, &qb);
        if (r < 0) rc = r;
    }
    free(vecs);
    for (size_t i = 0; i < m.n_need; i++) {
        free(m.cols[i].vals);
        free(m.cols[i].valid);
    }
    free(m.cols);
    free(m.need);
    free(m.tag_pos);
    hmap_free(&m.keys);
    buf_free(&m.key);
    arena_fini(&m.mem);
    return rc;
}

typedef struct span {
    int64_t lo, hi;
    size_t idx;
} span;

static int cmp_span(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmp_partptr(const void *a, const void *b) {
    const query_part *x = *(query_part *const *)a, *y = *(query_part *const *)b;
    return x < y ? -1 : x > y; /* parts live in one array: address order = given order */
}

int query_merge_scan(query_part *parts, size_t n, const query_table *t, const query_scan_req *req,
                     query_batch_fn fn, void *arg, silt_err *err) {
    span *sp = xmalloc((n ? n : 1) * sizeof *sp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].max_time < req->t_min || parts[i].min_time > req->t_max) continue;
        sp[m++] = (span){parts[i].min_time, parts[i].max_time, i};
    }
    qsort(sp, m, sizeof *sp, cmp_span);
    stop_wrap w = {fn, arg, false};
    query_part **grp = xmalloc((m ? m : 1) * sizeof *grp);
    int rc = SILT_OK;
    for (size_t i = 0; i < m && !rc && !w.stopped;) {
        size_t j = i + 1;
        int64_t hi = sp[i].hi;
        while (j < m && sp[j].lo <= hi) {
            if (sp[j].hi > hi) hi = sp[j].hi;
            j++;
        }
        if (j == i + 1) {
            query_part *p = &parts[sp[i].idx];
            rc = p->scan(p, t, req, wrap_fn, &w, err);
        } else {
            size_t g = 0;
            for (size_t k = i; k < j; k++) grp[g++] = &parts[sp[k].idx];
            qsort(grp, g, sizeof *grp, cmp_partptr); /* invariant (1): oldest first */
            rc = merge_group(grp, g, t, req, &w, err);
        }
        i = j;
    }
    free(grp);
    free(sp);
    return rc < 0 ? rc : SILT_OK;
}
