/* SPDX-License-Identifier: MIT
 *
 * The executor: runs a plan chain as a push pipeline over the source's batches.
 *
 *   scan batch -> filter (predicate -> selection vector) -> one sink:
 *     stream    project the selected rows straight into the formatter (offset, limit; the
 *               scan stops early with QUERY_SCAN_STOP once LIMIT rows are out)
 *     sort      copy the projected values of the selected rows plus the time key into a
 *               columnar sort buffer; with LIMIT it is cut to the best offset+limit rows
 *               whenever it doubles (top-N); sorted and formatted at the end
 *     count     add up selected rows (count(*)) or selected non-NULL values (count(col))
 *
 * Predicates are evaluated a column at a time (query__pred_eval): each leaf runs one tight
 * loop of one (type, operator) kernel over the current selection vector and writes the rows
 * that pass into the next one; AND narrows the vector child by child, OR evaluates each
 * child on the rows no earlier child selected and merges in row order (invariant 3). No row
 * is ever interpreted against the AST. The per-batch arena holds the vectors and is reset
 * between batches.
 *
 * Sorting is stable: the key is (time, arrival sequence), so rows with equal times keep the
 * source order in both directions.
 */
#include "query_int.h"

#include <stdlib.h>

/* ------------------------------------------------------------------ predicate kernels */

static inline int sv_cmp(str_view a, str_view b) {
    size_t n = a.n < b.n ? a.n : b.n;
    int c = n ? memcmp(a.p, b.p, n) : 0;
    if (c) return c < 0 ? -1 : 1; /* exactly -1/0/1: query__op_holds reads 2 as unordered */
    return a.n < b.n ? -1 : a.n > b.n;
}

/* One branch-free selection loop. Reads in[k] before writing out[n] (n <= k), so in and out
 * may be the same array. Values of NULL rows are read but never selected. */
#define SEL_LOOP(COND)                                                                             \
    do {                                                                                           \
        if (valid) {                                                                               \
            for (size_t k = 0; k < n_in; k++) {                                                    \
                uint32_t i = in[k];                                                                \
                out[n] = i;                                                                        \
                n += (size_t)((valid[i] != 0) & (COND));                                           \
            }                                                                                      \
        } else {                                                                                   \
            for (size_t k = 0; k < n_in; k++) {                                                    \
                uint32_t i = in[k];                                                                \
                out[n] = i;                                                                        \
                n += (size_t)(COND);                                                               \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* The six comparison operators over x[i] and constant c. */
#define SEL_OPS(X, C)                                                                              \
    do {                                                                                           \
        switch (p->op) {                                                                           \
            case QOP_EQ:                                                                           \
                SEL_LOOP((X) == (C));                                                              \
                break;                                                                             \
            case QOP_NE:                                                                           \
                SEL_LOOP((X) != (C));                                                              \
                break;                                                                             \
            case QOP_LT:                                                                           \
                SEL_LOOP((X) < (C));                                                               \
                break;                                                                             \
            case QOP_LE:                                                                           \
                SEL_LOOP((X) <= (C));                                                              \
                break;                                                                             \
            case QOP_GT:                                                                           \
                SEL_LOOP((X) > (C));                                                               \
                break;                                                                             \
            case QOP_GE:                                                                           \
                SEL_LOOP((X) >= (C));                                                              \
                break;                                                                             \
            default:                                                                               \
                break;                                                                             \
        }                                                                                          \
    } while (0)

static size_t eval_cmp(const qpred *p, const query_vec *v, const uint32_t *in, size_t n_in,
                       uint32_t *out) {
    const uint8_t *valid = v->valid;
    size_t n = 0;
    switch (p->kernel) {
        case QK_I64: {
            const int64_t *x = v->i64;
            const int64_t c = p->c.i;
            if (!x) return 0; /* no values: all NULL */
            SEL_OPS(x[i], c);
            break;
        }
        case QK_U64: {
            const uint64_t *x = v->u64;
            const uint64_t c = p->c.u;
            if (!x) return 0;
            SEL_OPS(x[i], c);
            break;
        }
        case QK_F64: {
            const double *x = v->f64;
            const double c = p->c.f;
            if (!x) return 0;
            SEL_OPS(x[i], c);
            break;
        }
        case QK_F64_I64: {
            const double *x = v->f64;
            if (!x) return 0;
            qop op = p->op;
            SEL_LOOP(query__op_holds(op, query__cmp_f64_i64(x[i], p->c.i)));
            break;
        }
        case QK_F64_U64: {
            const double *x = v->f64;
            if (!x) return 0;
            qop op = p->op;
            SEL_LOOP(query__op_holds(op, query__cmp_f64_u64(x[i], p->c.u)));
            break;
        }
        case QK_BOOL: {
            const uint8_t *x = v->b;
            const int c = (int)p->c.i;
            if (!x) return 0;
            SEL_OPS((int)(x[i] != 0), c);
            break;
        }
        case QK_STR: {
            /* views of NULL rows may be garbage: test validity before touching the bytes */
            const str_view *x = v->str;
            if (!x) return 0;
            str_view c = p->c.s;
            qop op = p->op;
            for (size_t k = 0; k < n_in; k++) {
                uint32_t i = in[k];
                if (valid && !valid[i]) continue;
                int r;
                if (op == QOP_EQ || op == QOP_NE)
                    r = (x[i].n == c.n && (c.n == 0 || memcmp(x[i].p, c.p, c.n) == 0)) ? 0 : 1;
                else
                    r = sv_cmp(x[i], c);
                if (query__op_holds(op, r)) out[n++] = i;
            }
            break;
        }
    }
    return n;
}

/* Which array of a vector holds the values of a column of type t (NULL if the source gave
 * none: the column is all NULL). */
static const void *vec_data(const query_vec *v, qtype t) {
    switch (t) {
        case QT_BOOL:
            return v->b;
        case QT_INT:
        case QT_TIME:
            return v->i64;
        case QT_UINT:
            return v->u64;
        case QT_FLOAT:
            return v->f64;
        case QT_STRING:
            return v->str;
        default:
            return NULL;
    }
}

static bool vec_has_data(const query_vec *v) {
    return v->i64 || v->u64 || v->f64 || v->b || v->str;
}

size_t query__pred_eval(const qpred *p, const query_batch *b, const uint32_t *in, size_t n_in,
                        uint32_t *out, arena *scratch) {
    if (n_in == 0) return 0;
    switch (p->kind) {
        case QP_ALL:
            if (out != in) memcpy(out, in, n_in * sizeof *out);
            return n_in;
        case QP_NONE:
            return 0;
        case QP_NOT_NULL:
        case QP_IS_NULL: {
            const query_vec *v = &b->cols[p->col];
            const uint8_t *valid = v->valid;
            bool want_null = p->kind == QP_IS_NULL;
            size_t n = 0;
            bool all_null = !vec_has_data(v); /* no values at all: every row is NULL */
            if (all_null || !valid) {
                if (want_null != all_null) return 0;
                if (out != in) memcpy(out, in, n_in * sizeof *out);
                return n_in;
            }
            for (size_t k = 0; k < n_in; k++) {
                uint32_t i = in[k];
                out[n] = i;
                n += (size_t)((valid[i] == 0) == want_null);
            }
            return n;
        }
        case QP_CMP:
            return eval_cmp(p, &b->cols[p->col], in, n_in, out);
        case QP_AND: {
            size_t n = query__pred_eval(p->kids[0], b, in, n_in, out, scratch);
            for (size_t k = 1; k < p->n_kids && n; k++)
                n = query__pred_eval(p->kids[k], b, out, n, out, scratch);
            return n;
        }
        case QP_OR: {
            /* rem: rows no child has selected yet; hit[row]: selected by some child */
            uint32_t *rem = arena_alloc(scratch, n_in * sizeof *rem);
            uint32_t *tmp = arena_alloc(scratch, n_in * sizeof *tmp);
            uint8_t *hit = arena_alloc(scratch, b->n_rows);
            memcpy(rem, in, n_in * sizeof *rem);
            for (size_t k = 0; k < n_in; k++) hit[in[k]] = 0;
            size_t n_rem = n_in;
            for (size_t c = 0; c < p->n_kids && n_rem; c++) {
                size_t m = query__pred_eval(p->kids[c], b, rem, n_rem, tmp, scratch);
                if (!m) continue;
                for (size_t k = 0; k < m; k++) hit[tmp[k]] = 1;
                size_t w = 0;
                for (size_t k = 0; k < n_rem; k++) {
                    rem[w] = rem[k];
                    w += !hit[rem[k]];
                }
                n_rem = w;
            }
            size_t n = 0;
            for (size_t k = 0; k < n_in; k++) { /* in order (invariant 3); in may alias out */
                uint32_t i = in[k];
                out[n] = i;
                n += hit[i];
            }
            return n;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ sort buffer */

typedef struct sort_key {
    int64_t t;
    uint64_t seq;
    uint32_t idx;
} sort_key;

typedef struct sortbuf {
    const qout_col *cols;
    size_t n_cols;
    size_t n, cap;
    void **data;     /* per column: values, element size by type */
    uint8_t **valid; /* per column */
    int64_t *key;    /* time of each row */
    uint64_t *seq;   /* arrival order, for stability */
    uint64_t next_seq;
    arena strings;    /* bytes of string values */
    size_t raw_bytes; /* value bytes held, for the memory guard */
    size_t keep;      /* top-N: rows worth keeping (SIZE_MAX: all) */
    bool desc;
} sortbuf;

static size_t type_size(qtype t) {
    switch (t) {
        case QT_BOOL:
            return 1;
        case QT_STRING:
            return sizeof(str_view);
        default:
            return 8;
    }
}

static void sb_init(sortbuf *sb, const qout_col *cols, size_t n_cols, size_t keep, bool desc) {
    memset(sb, 0, sizeof *sb);
    sb->cols = cols;
    sb->n_cols = n_cols;
    sb->keep = keep;
    sb->desc = desc;
    sb->data = xcalloc(n_cols ? n_cols : 1, sizeof *sb->data);
    sb->valid = xcalloc(n_cols ? n_cols : 1, sizeof *sb->valid);
    arena_init(&sb->strings, 64 * 1024);
}

static void sb_free_arrays(void **data, uint8_t **valid, size_t n_cols, int64_t *key,
                           uint64_t *seq) {
    for (size_t c = 0; c < n_cols; c++) {
        free(data[c]);
        free(valid[c]);
    }
    free(data);
    free(valid);
    free(key);
    free(seq);
}

static void sb_fini(sortbuf *sb) {
    sb_free_arrays(sb->data, sb->valid, sb->n_cols, sb->key, sb->seq);
    arena_fini(&sb->strings);
    memset(sb, 0, sizeof *sb);
}

static void sb_reserve(sortbuf *sb, size_t need) {
    if (need <= sb->cap) return;
    size_t cap = sb->cap ? sb->cap : 1024;
    while (cap < need) cap *= 2;
    for (size_t c = 0; c < sb->n_cols; c++) {
        sb->data[c] = xrealloc(sb->data[c], cap * type_size(sb->cols[c].type));
        sb->valid[c] = xrealloc(sb->valid[c], cap);
    }
    sb->key = xrealloc(sb->key, cap * sizeof *sb->key);
    sb->seq = xrealloc(sb->seq, cap * sizeof *sb->seq);
    sb->cap = cap;
}

/* Copy row i of vector v (column c's type) into slot r. Returns the value bytes copied. */
static size_t sb_put(sortbuf *sb, size_t c, size_t r, const query_vec *v, uint32_t i,
                     arena *strings) {
    qtype t = sb->cols[c].type;
    const void *src = vec_data(v, t);
    bool ok = src && (!v->valid || v->valid[i]);
    sb->valid[c][r] = ok;
    switch (t) {
        case QT_BOOL:
            ((uint8_t *)sb->data[c])[r] = ok ? (v->b[i] != 0) : 0;
            return ok;
        case QT_INT:
        case QT_TIME:
            ((int64_t *)sb->data[c])[r] = ok ? v->i64[i] : 0;
            return ok ? 8 : 0;
        case QT_UINT:
            ((uint64_t *)sb->data[c])[r] = ok ? v->u64[i] : 0;
            return ok ? 8 : 0;
        case QT_FLOAT:
            ((double *)sb->data[c])[r] = ok ? v->f64[i] : 0;
            return ok ? 8 : 0;
        case QT_STRING: {
            str_view s = {"", 0};
            if (ok && v->str[i].n)
                s.p = arena_strndup(strings, v->str[i].p, v->str[i].n), s.n = v->str[i].n;
            ((str_view *)sb->data[c])[r] = s;
            return s.n;
        }
        default:
            sb->valid[c][r] = 0;
            return 0;
    }
}

static int key_cmp_asc(const void *a, const void *b) {
    const sort_key *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int key_cmp_desc(const void *a, const void *b) {
    const sort_key *x = a, *y = b;
    if (x->t != y->t) return x->t > y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq; /* ties keep source order */
}

/* The rows in output order (malloc'd; n entries). */
static sort_key *sb_sorted(const sortbuf *sb) {
    sort_key *k = xmalloc((sb->n ? sb->n : 1) * sizeof *k);
    for (size_t i = 0; i < sb->n; i++) k[i] = (sort_key){sb->key[i], sb->seq[i], (uint32_t)i};
    qsort(k, sb->n, sizeof *k, sb->desc ? key_cmp_desc : key_cmp_asc);
    return k;
}

/* Top-N: keep only the best sb->keep rows, rebuilt in sorted order with fresh storage. */
static void sb_compact(sortbuf *sb) {
    sort_key *k = sb_sorted(sb);
    size_t keep = sb->keep < sb->n ? sb->keep : sb->n;
    sortbuf nb;
    sb_init(&nb, sb->cols, sb->n_cols, sb->keep, sb->desc);
    nb.next_seq = sb->next_seq;
    sb_reserve(&nb, keep ? keep : 1);
    for (size_t r = 0; r < keep; r++) {
        uint32_t from = k[r].idx;
        nb.key[r] = sb->key[from];
        nb.seq[r] = sb->seq[from];
        for (size_t c = 0; c < sb->n_cols; c++) {
            /* rebuild a one-row view of the old slot and copy it over */
            query_vec v = {0};
            uint8_t one = sb->valid[c][from];
            v.valid = &one;
            switch (sb->cols[c].type) {
                case QT_BOOL:
                    v.b = (const uint8_t *)sb->data[c] + from;
                    break;
                case QT_INT:
                case QT_TIME:
                    v.i64 = (const int64_t *)sb->data[c] + from;
                    break;
                case QT_UINT:
                    v.u64 = (const uint64_t *)sb->data[c] + from;
                    break;
                case QT_FLOAT:
                    v.f64 = (const double *)sb->data[c] + from;
                    break;
                case QT_STRING:
                    v.str = (const str_view *)sb->data[c] + from;
                    break;
                default:
                    break;
            }
            nb.raw_bytes += sb_put(&nb, c, r, &v, 0, &nb.strings);
        }
    }
    nb.n = keep;
    free(k);
    sb_fini(sb);
    *sb = nb;
}

/* ------------------------------------------------------------------ pipeline */

typedef struct qrun {
    qctx *q;
    qfmt *f;
    const qplan *scan, *filter, *proj, *agg, *sort, *limit;
    arena batch;            /* per-batch scratch, reset between batches */
    const query_vec **vecs; /* per output column, for the formatter */
    int64_t skip;           /* offset rows still to drop */
    int64_t remaining;      /* limit rows still to emit; -1: no limit */
    uint64_t *counts;       /* QPL_AGGREGATE: one per output column */
    sortbuf sb;
    size_t sort_guard; /* sort buffer value bytes that prove the result is too big */
    int rc;
} qrun;

static int limit_exceeded(qrun *r) {
    return SILT_FAIL(r->q->err, SILT_ELIMIT,
                     "query result exceeds max_result_bytes (%zu bytes); add a LIMIT or a "
                     "narrower WHERE clause",
                     r->f->max_bytes);
}

static int sink_stream(qrun *r, const query_batch *b, const uint32_t *sel, size_t n) {
    if (r->skip > 0) {
        size_t d = (uint64_t)r->skip < n ? (size_t)r->skip : n;
        sel += d;
        n -= d;
        r->skip -= (int64_t)d;
    }
    if (r->remaining >= 0 && (uint64_t)r->remaining < n) n = (size_t)r->remaining;
    if (n) {
        for (size_t c = 0; c < r->proj->n_cols; c++) r->vecs[c] = &b->cols[r->proj->cols[c].src];
        int rc = query__fmt_rows(r->f, r->vecs, sel, n, r->q->err);
        if (rc < 0) return rc;
        if (r->remaining >= 0) r->remaining -= (int64_t)n;
    }
    return r->remaining == 0 ? QUERY_SCAN_STOP : QUERY_SCAN_CONTINUE;
}

static int sink_sort(qrun *r, const query_batch *b, const uint32_t *sel, size_t n) {
    sortbuf *sb = &r->sb;
    if (sb->n + n > UINT32_MAX) return limit_exceeded(r);
    sb_reserve(sb, sb->n + n);
    const query_vec *kv = &b->cols[r->sort->u.sort.key];
    for (size_t k = 0; k < n; k++) {
        uint32_t i = sel[k];
        size_t row = sb->n + k;
        sb->key[row] = (kv->i64 && (!kv->valid || kv->valid[i])) ? kv->i64[i] : INT64_MIN;
        sb->seq[row] = sb->next_seq++;
    }
    for (size_t c = 0; c < sb->n_cols; c++) {
        const query_vec *v = &b->cols[sb->cols[c].src];
        for (size_t k = 0; k < n; k++)
            sb->raw_bytes += sb_put(sb, c, sb->n + k, v, sel[k], &sb->strings);
    }
    sb->n += n;
    /* top-N: once the buffer holds twice what LIMIT can use, keep only the best rows */
    if (sb->keep != SIZE_MAX && sb->n >= 256 && sb->n / 2 >= sb->keep) sb_compact(sb);
    if (r->sort_guard && sb->raw_bytes > r->sort_guard)
        return SILT_FAIL(r->q->err, SILT_ELIMIT,
                         "ORDER BY needs more than 4 x max_result_bytes (%zu bytes) of memory; "
                         "add a LIMIT or a narrower WHERE clause",
                         r->f->max_bytes);
    return QUERY_SCAN_CONTINUE;
}

static void sink_count(qrun *r, const query_batch *b, const uint32_t *sel, size_t n) {
    for (size_t c = 0; c < r->agg->n_cols; c++) {
        const qagg *g = &r->agg->u.agg.aggs[c];
        if (g->kind == QAGG_COUNT_STAR) {
            r->counts[c] += n;
            continue;
        }
        const query_vec *v = &b->cols[g->col];
        if (!vec_has_data(v)) continue;
        if (!v->valid) {
            r->counts[c] += n;
            continue;
        }
        uint64_t m = 0;
        for (size_t k = 0; k < n; k++) m += v->valid[sel[k]] != 0;
        r->counts[c] += m;
    }
}

static int on_batch(void *arg, const query_batch *b) {
    qrun *r = arg;
    if (b->n_rows == 0) return QUERY_SCAN_CONTINUE;
    if (b->n_rows > UINT32_MAX) {
        r->rc = SILT_FAIL(r->q->err, SILT_EINVAL, "scan batch of %zu rows is too large", b->n_rows);
        return r->rc;
    }
    arena_reset(&r->batch);
    size_t n = b->n_rows;
    uint32_t *sel = arena_alloc(&r->batch, n * sizeof *sel);
    for (size_t i = 0; i < n; i++) sel[i] = (uint32_t)i;
    if (r->filter) n = query__pred_eval(r->filter->u.filter.pred, b, sel, n, sel, &r->batch);
    if (n == 0) return QUERY_SCAN_CONTINUE;
    int rc = QUERY_SCAN_CONTINUE;
    if (r->agg)
        sink_count(r, b, sel, n);
    else if (r->sort)
        rc = sink_sort(r, b, sel, n);
    else
        rc = sink_stream(r, b, sel, n);
    if (rc < 0) r->rc = rc;
    return rc;
}

/* Emit the sort buffer: sorted, then OFFSET and LIMIT. */
static int emit_sorted(qrun *r) {
    sortbuf *sb = &r->sb;
    sort_key *k = sb_sorted(sb);
    uint32_t *sel = xmalloc((sb->n ? sb->n : 1) * sizeof *sel);
    size_t n = 0;
    for (size_t i = 0; i < sb->n; i++) sel[n++] = k[i].idx;
    free(k);
    size_t from = (uint64_t)r->skip < n ? (size_t)r->skip : n;
    size_t cnt = n - from;
    if (r->remaining >= 0 && (uint64_t)r->remaining < cnt) cnt = (size_t)r->remaining;
    query_vec *vecs = xcalloc(sb->n_cols ? sb->n_cols : 1, sizeof *vecs);
    for (size_t c = 0; c < sb->n_cols; c++) {
        vecs[c].valid = sb->valid[c];
        switch (sb->cols[c].type) {
            case QT_BOOL:
                vecs[c].b = sb->data[c];
                break;
            case QT_INT:
            case QT_TIME:
                vecs[c].i64 = sb->data[c];
                break;
            case QT_UINT:
                vecs[c].u64 = sb->data[c];
                break;
            case QT_FLOAT:
                vecs[c].f64 = sb->data[c];
                break;
            case QT_STRING:
                vecs[c].str = sb->data[c];
                break;
            default:
                break;
        }
        r->vecs[c] = &vecs[c];
    }
    int rc = cnt ? query__fmt_rows(r->f, r->vecs, sel + from, cnt, r->q->err) : SILT_OK;
    free(vecs);
    free(sel);
    return rc;
}

/* Emit the single row of an aggregate (subject to OFFSET / LIMIT like any row). */
static int emit_counts(qrun *r) {
    if (r->skip > 0 || r->remaining == 0) return SILT_OK;
    size_t nc = r->agg->n_cols;
    int64_t *vals = arena_alloc(&r->q->arena, (nc ? nc : 1) * sizeof *vals);
    query_vec *vecs = arena_alloc(&r->q->arena, (nc ? nc : 1) * sizeof *vecs);
    for (size_t c = 0; c < nc; c++) {
        vals[c] = r->counts[c] > INT64_MAX ? INT64_MAX : (int64_t)r->counts[c];
        memset(&vecs[c], 0, sizeof vecs[c]);
        vecs[c].i64 = &vals[c];
        r->vecs[c] = &vecs[c];
    }
    uint32_t zero = 0;
    return query__fmt_rows(r->f, r->vecs, &zero, 1, r->q->err);
}

static int emit_values(qrun *r, const qplan *v) {
    size_t n = v->u.values.n_rows;
    if (n == 0) return SILT_OK;
    if (n > UINT32_MAX) return SILT_FAIL(r->q->err, SILT_ELIMIT, "too many rows");
    uint32_t *sel = arena_alloc(&r->q->arena, n * sizeof *sel);
    for (size_t i = 0; i < n; i++) sel[i] = (uint32_t)i;
    for (size_t c = 0; c < v->n_cols; c++) r->vecs[c] = &v->u.values.vecs[c];
    return query__fmt_rows(r->f, r->vecs, sel, n, r->q->err);
}

int query__exec(qctx *q, const qplan *root, qfmt *f) {
    qrun r = {.q = q, .f = f, .remaining = -1};
    const qplan *values = NULL;
    for (const qplan *p = root; p; p = p->input) {
        switch (p->kind) {
            case QPL_SCAN:
                r.scan = p;
                break;
            case QPL_FILTER:
                r.filter = p;
                break;
            case QPL_PROJECT:
                r.proj = p;
                break;
            case QPL_AGGREGATE:
                r.agg = p;
                break;
            case QPL_SORT:
                r.sort = p;
                break;
            case QPL_LIMIT:
                r.limit = p;
                r.remaining = p->u.limit.limit;
                r.skip = p->u.limit.offset;
                break;
            case QPL_VALUES:
                values = p;
                break;
        }
    }
    r.vecs = arena_alloc(&q->arena, (root->n_cols ? root->n_cols : 1) * sizeof *r.vecs);
    int rc = query__fmt_begin(f, q->err);
    if (rc < 0) return rc;
    if (values) {
        rc = emit_values(&r, values);
        return rc < 0 ? rc : query__fmt_end(f, q->err);
    }
    if (!r.scan || (!r.proj && !r.agg))
        return SILT_FAIL(q->err, SILT_EINVAL, "internal error: malformed plan");

    if (r.agg) r.counts = arena_alloc(&q->arena, (r.agg->n_cols ? r.agg->n_cols : 1) * 8);
    if (r.agg) memset(r.counts, 0, (r.agg->n_cols ? r.agg->n_cols : 1) * 8);
    if (r.sort) {
        size_t keep = SIZE_MAX;
        if (r.remaining >= 0) {
            uint64_t k = (uint64_t)r.remaining + (uint64_t)r.skip; /* both <= INT64_MAX */
            keep = k < SIZE_MAX / 4 ? (size_t)k : SIZE_MAX;
        }
        sb_init(&r.sb, r.proj->cols, r.proj->n_cols, keep, r.sort->u.sort.desc);
        /* Memory bound of the sort buffer: 4x max_result_bytes of values. Every value formats
         * to at least a quarter of its in-memory size (an 8-byte number to a digit and a
         * separator), so without LIMIT a buffer that big can only make too big a result; with
         * LIMIT the buffer is cut to the best rows before the check. */
        if (f->max_bytes) r.sort_guard = f->max_bytes > SIZE_MAX / 4 ? SIZE_MAX : f->max_bytes * 4;
    }
    arena_init(&r.batch, 64 * 1024);

    bool empty_range = r.scan->u.scan.t_min > r.scan->u.scan.t_max;
    bool nothing_wanted = r.remaining == 0 || (r.agg && r.skip > 0);
    if (!empty_range && !nothing_wanted) {
        query_scan_req req = {
            .db = q->db,
            .table = r.scan->u.scan.table,
            .schema = r.scan->u.scan.tbl,
            .col_idx = r.scan->u.scan.col_idx,
            .n_cols = r.scan->u.scan.n_cols,
            .t_min = r.scan->u.scan.t_min,
            .t_max = r.scan->u.scan.t_max,
        };
        silt_err serr = {0};
        rc = q->src->scan(q->src, &req, on_batch, &r, &serr);
        if (r.rc < 0) {
            rc = r.rc; /* ours: q->err already says why */
        } else if (rc < 0) {
            if (q->err) *q->err = serr;
            if (rc == SILT_ENOTFOUND)
                rc = SILT_FAIL(q->err, SILT_ENOTFOUND, "table '%s' not found", req.table);
        } else {
            rc = SILT_OK;
        }
    } else {
        rc = SILT_OK;
    }
    if (rc == SILT_OK) {
        if (r.agg)
            rc = emit_counts(&r);
        else if (r.sort)
            rc = emit_sorted(&r);
    }
    if (r.sort) sb_fini(&r.sb);
    arena_fini(&r.batch);
    if (rc < 0) return rc;
    return query__fmt_end(f, q->err);
}
