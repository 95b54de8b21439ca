/* SPDX-License-Identifier: MIT
 *
 * The executor: runs a plan chain as a push pipeline of stages over the leaf's batches
 * (a table scan or a constant table; nothing else in this file knows which).
 *
 *   leaf batch -> filter (qpred kernels, then general boolean expressions) -> project
 *     (one vectorized expression per output column) -> aggregate / distinct (hash
 *     aggregation, query_agg.c) -> sort (columnar buffer; top-N with LIMIT) -> limit
 *     (offset, limit; QUERY_SCAN_STOP ends the scan early) -> formatter
 *
 * Aggregate, distinct and sort are blocking: they keep their input and, when it ends, emit
 * their result in batches of QUERY_BATCH_ROWS to the next stage (query__exec drains them
 * in pipeline order). Predicates of the fast path are evaluated a column at a time
 * (query__pred_eval): each leaf runs one tight loop of one (type, operator) kernel over the
 * current selection vector and writes the rows that pass into the next one; AND narrows the
 * vector child by child, OR evaluates each child on the rows no earlier child selected and
 * merges in row order (invariant 3). No row is ever interpreted against the AST. The
 * per-batch arena holds the vectors and is reset between batches.
 *
 * Sorting is stable: keys compare in order, then arrival sequence, so rows with equal keys
 * keep the source order in both directions. With LIMIT the buffer is cut to the best
 * offset+limit rows whenever it holds twice that many (top-N in O(n log k) time and O(k)
 * memory); the result equals the full sort's (tested on random data).
 */
#include "query_int.h"

#include "../util/hmap.h"

#include <stdlib.h>

/* ------------------------------------------------------------------ predicate kernels */

/* sv_cmp (util.h) answers exactly -1/0/1: query__op_holds reads 2 as unordered */

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
                r = r < 0 ? -1 : r > 0; /* memcmp may return any magnitude; 2 means NaN */
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

/* Rows kept for ORDER BY: every column of the sort's input (visible and hidden), columnar,
 * with string bytes copied into the buffer's arena. */
typedef struct sortbuf {
    const qout_col *cols;
    size_t n_cols; /* visible + hidden */
    const qsort_key *keys;
    size_t n_keys;
    size_t n, cap;
    void **data;     /* per column: values, element size by type */
    uint8_t **valid; /* per column */
    uint64_t *seq;   /* arrival order, for stability */
    uint64_t next_seq;
    arena strings;      /* bytes of string values */
    size_t raw_bytes;   /* value bytes held, for the memory guards */
    size_t arena_bytes; /* string bytes ever copied into `strings` (live or replaced) */
    size_t keep;        /* top-N: rows worth keeping (SIZE_MAX: all) */
    uint32_t *heap;     /* top-N heap mode: slots ordered as a max-heap, worst row at [0] */
    /* partitioned top-N (a per-series LIMIT): at most part_keep rows per distinct value of
     * the first part_n keys; pslot[pid * part_keep + j] are partition pid's slots */
    size_t part_n, part_keep;
    hmap parts;
    arena part_keys;
    uint32_t *pslot, *pcount;
    size_t n_parts, cap_parts;
    buf pkey, last_pkey;
    uint32_t last_pid;
} sortbuf;

/* Top-N up to this many rows keeps a bounded heap (one comparison rejects a row that cannot
 * make the result, nothing is copied); larger LIMITs cut the buffer to the best rows
 * whenever it doubles. */
#define SORT_HEAP_MAX_ROWS 65536
/* A per-partition limit up to this many rows scans the partition's slots for its worst row;
 * larger ones sort everything. */
#define SORT_PART_MAX_ROWS 64

static void sb_init(sortbuf *sb, const qplan *p, size_t keep) {
    memset(sb, 0, sizeof *sb);
    sb->cols = p->cols;
    sb->n_cols = p->n_cols + p->n_hidden;
    sb->keys = p->u.sort.keys;
    sb->n_keys = p->u.sort.n_keys;
    sb->keep = keep;
    sb->data = xcalloc(sb->n_cols ? sb->n_cols : 1, sizeof *sb->data);
    sb->valid = xcalloc(sb->n_cols ? sb->n_cols : 1, sizeof *sb->valid);
    arena_init(&sb->strings, 64 * 1024);
}

static void sb_fini(sortbuf *sb) {
    for (size_t c = 0; c < sb->n_cols; c++) {
        free(sb->data[c]);
        free(sb->valid[c]);
    }
    free(sb->data);
    free(sb->valid);
    free(sb->seq);
    free(sb->heap);
    arena_fini(&sb->strings);
    if (sb->part_n) {
        hmap_free(&sb->parts);
        arena_fini(&sb->part_keys);
        free(sb->pslot);
        free(sb->pcount);
        buf_free(&sb->pkey);
        buf_free(&sb->last_pkey);
    }
    memset(sb, 0, sizeof *sb);
}

static void sb_reserve(sortbuf *sb, size_t need) {
    if (need <= sb->cap) return;
    size_t cap = sb->cap ? sb->cap : 1024;
    while (cap < need) cap *= 2;
    for (size_t c = 0; c < sb->n_cols; c++) {
        sb->data[c] = xrealloc(sb->data[c], cap * query__value_size(sb->cols[c].type));
        sb->valid[c] = xrealloc(sb->valid[c], cap);
    }
    sb->seq = xrealloc(sb->seq, cap * sizeof *sb->seq);
    sb->cap = cap;
}

/* Copy rows sel[0..n) of v (column c) into slots at..at+n. Returns the value bytes copied. */
static size_t sb_put_rows(sortbuf *sb, size_t c, size_t at, const query_vec *v, const uint32_t *sel,
                          size_t n) {
    qtype t = sb->cols[c].type;
    const void *src = vec_data(v, t);
    uint8_t *valid = sb->valid[c] + at;
    for (size_t k = 0; k < n; k++) valid[k] = src && (!v->valid || v->valid[sel[k]]);
    if (!src) return 0;
    size_t bytes = 0;
    switch (t) {
        case QT_BOOL: {
            uint8_t *d = (uint8_t *)sb->data[c] + at;
            for (size_t k = 0; k < n; k++) d[k] = v->b[sel[k]] != 0;
            return n;
        }
        case QT_STRING: {
            str_view *d = (str_view *)sb->data[c] + at;
            for (size_t k = 0; k < n; k++) {
                str_view s = {"", 0};
                if (valid[k] && v->str[sel[k]].n) {
                    s.n = v->str[sel[k]].n;
                    s.p = arena_strndup(&sb->strings, v->str[sel[k]].p, s.n);
                    sb->arena_bytes += s.n;
                }
                d[k] = s;
                bytes += s.n + sizeof(str_view);
            }
            return bytes;
        }
        default: {
            const int64_t *x = src;
            int64_t *d = (int64_t *)sb->data[c] + at;
            for (size_t k = 0; k < n; k++) d[k] = x[sel[k]];
            return 8 * n;
        }
    }
}

/* Non-NULL values a[i] and b[j] of an array of type t (as vec_data gives it): -1, 0 or 1.
 * Booleans compare as 0/1 whatever their byte; NaN sorts above every number (PostgreSQL). */
static int value_cmp(qtype t, const void *a, size_t i, const void *b, size_t j) {
    switch (t) {
        case QT_BOOL:
            return (int)(((const uint8_t *)a)[i] != 0) - (int)(((const uint8_t *)b)[j] != 0);
        case QT_UINT: {
            uint64_t x = ((const uint64_t *)a)[i], y = ((const uint64_t *)b)[j];
            return x < y ? -1 : x > y;
        }
        case QT_FLOAT: {
            double x = ((const double *)a)[i], y = ((const double *)b)[j];
            bool nx = x != x, ny = y != y;
            return nx || ny ? (int)nx - (int)ny : x < y ? -1 : x > y;
        }
        case QT_STRING:
            return sv_cmp(((const str_view *)a)[i], ((const str_view *)b)[j]);
        default: {
            int64_t x = ((const int64_t *)a)[i], y = ((const int64_t *)b)[j];
            return x < y ? -1 : x > y;
        }
    }
}

/* Row at slot x before (-1) or after (1) the row at slot y in the output order. */
static int slot_cmp(const sortbuf *sb, uint32_t x, uint32_t y) {
    for (size_t k = 0; k < sb->n_keys; k++) {
        const qsort_key *key = &sb->keys[k];
        uint32_t c = key->col;
        bool vx = sb->valid[c][x], vy = sb->valid[c][y];
        if (!vx || !vy) {
            if (vx == vy) continue;
            return !vx ? (key->nulls_first ? -1 : 1) : (key->nulls_first ? 1 : -1);
        }
        int r = value_cmp(sb->cols[c].type, sb->data[c], x, sb->data[c], y);
        if (r) return key->desc ? -r : r;
    }
    return sb->seq[x] < sb->seq[y] ? -1 : sb->seq[x] > sb->seq[y];
}

static int sb_cmp(const void *pa, const void *pb, void *ctx) {
    return slot_cmp(ctx, *(const uint32_t *)pa, *(const uint32_t *)pb);
}

/* ------------------------------------------------------------------ top-N heap */

static void heap_sift_down(sortbuf *sb, size_t i) {
    uint32_t *h = sb->heap;
    size_t n = sb->n;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && slot_cmp(sb, h[l], h[m]) > 0) m = l;
        if (r < n && slot_cmp(sb, h[r], h[m]) > 0) m = r;
        if (m == i) return;
        uint32_t t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heap_build(sortbuf *sb) {
    for (size_t i = 0; i < sb->n; i++) sb->heap[i] = (uint32_t)i;
    for (size_t i = sb->n / 2; i-- > 0;) heap_sift_down(sb, i);
}

/* Value bytes of slot r, as sb_put_rows counted them. */
static size_t slot_bytes(const sortbuf *sb, size_t r) {
    size_t bytes = 0;
    for (size_t c = 0; c < sb->n_cols; c++) {
        qtype t = sb->cols[c].type;
        if (t == QT_BOOL)
            bytes += 1;
        else if (t == QT_STRING)
            bytes += ((const str_view *)sb->data[c])[r].n + sizeof(str_view);
        else
            bytes += 8;
    }
    return bytes;
}

/* Row i of column vector v into slot `at` without copying string bytes: the candidate slot
 * of the heap, compared at once and never read after the batch. */
static void sb_put_view(sortbuf *sb, size_t c, size_t at, const query_vec *v, uint32_t i) {
    qtype t = sb->cols[c].type;
    const void *src = vec_data(v, t);
    bool ok = src && (!v->valid || v->valid[i]);
    sb->valid[c][at] = ok;
    if (!ok) return;
    switch (t) {
        case QT_BOOL:
            ((uint8_t *)sb->data[c])[at] = v->b[i] != 0;
            break;
        case QT_STRING:
            ((str_view *)sb->data[c])[at] = v->str[i];
            break;
        default:
            ((int64_t *)sb->data[c])[at] = ((const int64_t *)src)[i];
            break;
    }
}

/* The row indices in output order (malloc'd; sb->n entries). */
static uint32_t *sb_sorted(sortbuf *sb) {
    uint32_t *idx = xmalloc((sb->n ? sb->n : 1) * sizeof *idx);
    for (size_t i = 0; i < sb->n; i++) idx[i] = (uint32_t)i;
    qsort_r(idx, sb->n, sizeof *idx, sb_cmp, sb);
    return idx;
}

/* A view of the buffer's column c as a vector (indexed by slot). */
static void sb_vec(const sortbuf *sb, size_t c, query_vec *v) {
    memset(v, 0, sizeof *v);
    v->valid = sb->valid[c];
    switch (sb->cols[c].type) {
        case QT_BOOL:
            v->b = sb->data[c];
            break;
        case QT_UINT:
            v->u64 = sb->data[c];
            break;
        case QT_FLOAT:
            v->f64 = sb->data[c];
            break;
        case QT_STRING:
            v->str = sb->data[c];
            break;
        default:
            v->i64 = sb->data[c];
            break;
    }
}

/* Top-N: keep only the best sb->keep rows, rebuilt in sorted order with fresh storage. */
static void sb_compact(sortbuf *sb) {
    uint32_t *idx = sb_sorted(sb);
    size_t keep = sb->keep < sb->n ? sb->keep : sb->n;
    sortbuf nb = *sb;
    nb.data = xcalloc(sb->n_cols ? sb->n_cols : 1, sizeof *nb.data);
    nb.valid = xcalloc(sb->n_cols ? sb->n_cols : 1, sizeof *nb.valid);
    nb.seq = NULL;
    nb.n = nb.cap = 0;
    nb.raw_bytes = 0;
    nb.arena_bytes = 0;
    sb->heap = NULL; /* moves to nb */
    arena_init(&nb.strings, 64 * 1024);
    sb_reserve(&nb, keep ? keep : 1);
    for (size_t c = 0; c < sb->n_cols; c++) {
        query_vec v;
        sb_vec(sb, c, &v);
        nb.raw_bytes += sb_put_rows(&nb, c, 0, &v, idx, keep);
    }
    for (size_t r = 0; r < keep; r++) nb.seq[r] = sb->seq[idx[r]];
    nb.n = keep;
    free(idx);
    sb_fini(sb);
    *sb = nb;
    if (sb->heap) heap_build(sb);
}

/* ------------------------------------------------------------------ pipeline
 *
 * The plan chain above the leaf (scan or values) becomes an array of stages, leaf-most
 * first. Batches are pushed through the stages; a blocking stage (aggregate, distinct,
 * sort) keeps what it is given and, once its input is exhausted, emits its result in
 * batches of QUERY_BATCH_ROWS to the stage after it. The last stage feeds the formatter.
 * Nothing but the leaf knows where batches come from, so a sub-plan can later be a leaf.
 */

typedef struct stage {
    const qplan *p;
    qhagg *h;   /* QPL_AGGREGATE, QPL_DISTINCT */
    sortbuf sb; /* QPL_SORT */
    bool sb_init;
    int64_t skip;      /* QPL_LIMIT: offset rows still to drop */
    int64_t remaining; /* QPL_LIMIT: rows still to emit; -1: no limit */
} stage;

typedef struct qrun {
    qctx *q;
    qfmt *f;
    const qplan *root;
    stage *st;
    size_t n_st;
    arena batch;       /* per-batch scratch, reset between scan batches */
    arena emit;        /* per-chunk scratch of blocking stages' output */
    size_t sort_guard; /* sort buffer bytes that prove the result is too big */
    uint32_t *ident;   /* 0, 1, 2, ...: every scan batch's selection (stages never write it) */
    size_t n_ident;
    struct qrun *lane_of; /* a second lane: the run it aggregates for, and its aggregate */
    size_t lane_stage;
    int rc;
} qrun;

static int push(qrun *r, size_t si, const query_batch *b, const uint32_t *sel, size_t n, arena *a);

static int limit_stage(qrun *r, size_t si, const query_batch *b, const uint32_t *sel, size_t n,
                       arena *a) {
    stage *s = &r->st[si];
    if (s->skip > 0) {
        size_t d = (uint64_t)s->skip < n ? (size_t)s->skip : n;
        sel += d;
        n -= d;
        s->skip -= (int64_t)d;
    }
    if (s->remaining >= 0 && (uint64_t)s->remaining < n) n = (size_t)s->remaining;
    if (n) {
        int rc = push(r, si + 1, b, sel, n, a);
        if (rc < 0) return rc;
        if (s->remaining >= 0) s->remaining -= (int64_t)n;
        if (rc == QUERY_SCAN_STOP) return rc;
    }
    return s->remaining == 0 ? QUERY_SCAN_STOP : QUERY_SCAN_CONTINUE;
}

/* Top-N with a bounded heap of sb->keep rows: fill, then each row either loses against the
 * worst kept row (one comparison of its key columns, nothing copied) or replaces it. */
static void sort_heap_rows(sortbuf *sb, const query_batch *b, const uint32_t *sel, size_t n) {
    size_t cand = sb->keep; /* the scratch slot after the kept rows */
    for (size_t k = 0; k < n; k++) {
        uint32_t i = sel[k];
        if (sb->n < sb->keep) {
            sb_reserve(sb, sb->n + 2);
            for (size_t c = 0; c < sb->n_cols; c++)
                sb->raw_bytes += sb_put_rows(sb, c, sb->n, &b->cols[c], &i, 1);
            sb->seq[sb->n] = sb->next_seq++;
            sb->n++;
            if (sb->n == sb->keep) heap_build(sb);
            continue;
        }
        for (size_t j = 0; j < sb->n_keys; j++) {
            uint32_t c = sb->keys[j].col;
            sb_put_view(sb, c, cand, &b->cols[c], i);
        }
        sb->seq[cand] = sb->next_seq++;
        uint32_t root = sb->heap[0];
        if (slot_cmp(sb, (uint32_t)cand, root) >= 0) continue; /* not better than the worst */
        size_t old = slot_bytes(sb, root);
        sb->raw_bytes = sb->raw_bytes > old ? sb->raw_bytes - old : 0;
        for (size_t c = 0; c < sb->n_cols; c++)
            sb->raw_bytes += sb_put_rows(sb, c, root, &b->cols[c], &i, 1);
        sb->seq[root] = sb->seq[cand];
        heap_sift_down(sb, 0);
    }
    /* replaced strings stay in the arena until the buffer is rebuilt */
    if (sb->arena_bytes > 2 * sb->raw_bytes + ((size_t)1 << 20)) sb_compact(sb);
}

/* Overwrite slot `at` with row i of the batch, copying a string only when it differs from
 * the slot's (rows of one series share their tags, so replacing a series' row copies none). */
static void sb_overwrite(sortbuf *sb, size_t at, const query_batch *b, uint32_t i) {
    for (size_t c = 0; c < sb->n_cols; c++) {
        const query_vec *v = &b->cols[c];
        if (sb->cols[c].type == QT_STRING && sb->valid[c][at] && vec_data(v, QT_STRING) &&
            (!v->valid || v->valid[i])) {
            if (sv_eq(((const str_view *)sb->data[c])[at], v->str[i])) continue;
        }
        size_t was = sb->cols[c].type == QT_STRING
                         ? ((const str_view *)sb->data[c])[at].n + sizeof(str_view)
                         : 0;
        sb->raw_bytes = sb->raw_bytes > was ? sb->raw_bytes - was : 0;
        size_t now = sb_put_rows(sb, c, at, v, &i, 1);
        if (sb->cols[c].type == QT_STRING) sb->raw_bytes += now;
    }
}

/* Copy the live strings into a fresh arena (slots keep their places), dropping the bytes of
 * replaced values. */
static void sb_restring(sortbuf *sb) {
    arena fresh;
    arena_init(&fresh, 64 * 1024);
    sb->arena_bytes = 0;
    for (size_t c = 0; c < sb->n_cols; c++) {
        if (sb->cols[c].type != QT_STRING) continue;
        str_view *d = sb->data[c];
        for (size_t k = 0; k < sb->n; k++)
            if (sb->valid[c][k] && d[k].n) {
                d[k].p = arena_strndup(&fresh, d[k].p, d[k].n);
                sb->arena_bytes += d[k].n;
            }
    }
    arena_fini(&sb->strings);
    sb->strings = fresh;
}

/* Row i before (-1) or after (1) row j of the batch in the sort order, 0 if the keys tie. */
static int batch_cmp(const sortbuf *sb, const query_batch *b, uint32_t i, uint32_t j) {
    for (size_t k = 0; k < sb->n_keys; k++) {
        const qsort_key *key = &sb->keys[k];
        const query_vec *v = &b->cols[key->col];
        qtype t = sb->cols[key->col].type;
        const void *src = vec_data(v, t);
        bool vi = src && (!v->valid || v->valid[i]), vj = src && (!v->valid || v->valid[j]);
        if (!vi || !vj) {
            if (vi == vj) continue;
            return !vi ? (key->nulls_first ? -1 : 1) : (key->nulls_first ? 1 : -1);
        }
        int r = value_cmp(t, src, i, src, j);
        if (r) return key->desc ? -r : r;
    }
    return 0;
}

/* The partition of row i (its id: order of first appearance). */
static uint32_t part_id(sortbuf *sb, const query_batch *b, uint32_t i) {
    buf_reset(&sb->pkey);
    for (size_t j = 0; j < sb->part_n; j++) {
        uint32_t c = sb->keys[j].col;
        const query_vec *v = &b->cols[c];
        qtype t = sb->cols[c].type;
        const void *src = vec_data(v, t);
        bool ok = src && (!v->valid || v->valid[i]);
        buf_putc(&sb->pkey, ok);
        if (!ok) continue;
        if (t == QT_STRING) {
            buf_put_varint(&sb->pkey, v->str[i].n);
            buf_append(&sb->pkey, v->str[i].p, v->str[i].n);
        } else if (t == QT_BOOL) {
            buf_putc(&sb->pkey, v->b[i] != 0);
        } else {
            buf_append(&sb->pkey, (const int64_t *)src + i, 8);
        }
    }
    uint32_t pid;
    if (sb->n_parts && sb->pkey.len == sb->last_pkey.len &&
        !memcmp(sb->pkey.p, sb->last_pkey.p, sb->pkey.len)) {
        pid = sb->last_pid; /* input sorted by series: mostly the previous partition */
    } else {
        uint64_t h = hmap_hash(sb->pkey.p, sb->pkey.len), got;
        if (hmap_get(&sb->parts, sb->pkey.p, sb->pkey.len, h, &got)) {
            pid = (uint32_t)got;
        } else {
            if (sb->n_parts == sb->cap_parts) {
                sb->cap_parts = sb->cap_parts ? 2 * sb->cap_parts : 64;
                sb->pslot = xrealloc(sb->pslot, sb->cap_parts * sb->part_keep * sizeof *sb->pslot);
                sb->pcount = xrealloc(sb->pcount, sb->cap_parts * sizeof *sb->pcount);
            }
            pid = (uint32_t)sb->n_parts++;
            sb->pcount[pid] = 0;
            char *kc = arena_alloc(&sb->part_keys, sb->pkey.len ? sb->pkey.len : 1);
            memcpy(kc, sb->pkey.p, sb->pkey.len);
            hmap_put(&sb->parts, kc, sb->pkey.len, h, pid);
        }
        buf_reset(&sb->last_pkey);
        buf_append(&sb->last_pkey, sb->pkey.p, sb->pkey.len);
        sb->last_pid = pid;
    }
    return pid;
}

/* Offer row i to its partition's slots. */
static void sort_part_row(sortbuf *sb, const query_batch *b, uint32_t i) {
    size_t keep = sb->part_keep;
    uint32_t pid = part_id(sb, b, i);
    uint32_t *slots = sb->pslot + (size_t)pid * keep;
    sb_reserve(sb, sb->n + 1);
    if (sb->pcount[pid] < keep) {
        for (size_t c = 0; c < sb->n_cols; c++)
            sb->raw_bytes += sb_put_rows(sb, c, sb->n, &b->cols[c], &i, 1);
        sb->seq[sb->n] = sb->next_seq++;
        slots[sb->pcount[pid]++] = (uint32_t)sb->n++;
        return;
    }
    size_t cand = sb->n; /* scratch slot past the kept rows */
    for (size_t j = 0; j < sb->n_keys; j++) {
        uint32_t c = sb->keys[j].col;
        sb_put_view(sb, c, cand, &b->cols[c], i);
    }
    sb->seq[cand] = sb->next_seq++;
    uint32_t worst = slots[0];
    for (size_t j = 1; j < keep; j++)
        if (slot_cmp(sb, slots[j], worst) > 0) worst = slots[j];
    if (slot_cmp(sb, (uint32_t)cand, worst) >= 0) return;
    uint64_t seq = sb->seq[cand];
    sb_overwrite(sb, worst, b, i);
    sb->seq[worst] = seq;
}

/* Partitioned top-N: each row joins its partition's part_keep slots while there is room,
 * else replaces the partition's worst row if it sorts before it. Input arrives grouped by
 * series, so rows come in runs of one partition: with part_keep == 1 only the best row of a
 * run (the first of equals, for stability) is offered. */
static void sort_part_rows(sortbuf *sb, const query_batch *b, const uint32_t *sel, size_t n) {
    for (size_t k = 0; k < n;) {
        size_t e = k + 1;
        uint32_t best = sel[k];
        for (; e < n; e++) {
            bool same = true;
            for (size_t j = 0; j < sb->part_n && same; j++) {
                uint32_t c = sb->keys[j].col;
                same = query__rows_same(&b->cols[c], sb->cols[c].type, sel[k], sel[e]);
            }
            if (!same) break;
            if (sb->part_keep == 1 && batch_cmp(sb, b, sel[e], best) < 0) best = sel[e];
        }
        if (sb->part_keep == 1)
            sort_part_row(sb, b, best);
        else
            for (size_t j = k; j < e; j++) sort_part_row(sb, b, sel[j]);
        k = e;
    }
    if (sb->arena_bytes > 2 * sb->raw_bytes + ((size_t)1 << 20)) sb_restring(sb);
}

static int sort_stage(qrun *r, stage *s, const query_batch *b, const uint32_t *sel, size_t n) {
    sortbuf *sb = &s->sb;
    if (sb->part_n) {
        sort_part_rows(sb, b, sel, n);
    } else if (sb->heap) {
        sort_heap_rows(sb, b, sel, n);
    } else {
        if (sb->n + n > UINT32_MAX)
            return SILT_FAIL(r->q->err, SILT_ELIMIT, "ORDER BY input of more than 4294967295 rows");
        sb_reserve(sb, sb->n + n);
        for (size_t k = 0; k < n; k++) sb->seq[sb->n + k] = sb->next_seq++;
        for (size_t c = 0; c < sb->n_cols; c++)
            sb->raw_bytes += sb_put_rows(sb, c, sb->n, &b->cols[c], sel, n);
        sb->n += n;
        /* top-N: once the buffer holds twice what LIMIT can use, keep only the best rows */
        if (sb->keep != SIZE_MAX && sb->n >= 256 && sb->n / 2 >= sb->keep) sb_compact(sb);
    }
    if (r->sort_guard && sb->raw_bytes > r->sort_guard)
        return SILT_FAIL(r->q->err, SILT_ELIMIT,
                         "ORDER BY needs more than 4 x max_result_bytes (%zu bytes) of memory; "
                         "add a LIMIT or a narrower WHERE clause",
                         r->f->max_bytes);
    size_t max_mem = r->q->max_memory_bytes ? r->q->max_memory_bytes : QUERY_DEFAULT_MEMORY_BYTES;
    if (sb->raw_bytes + sb->cap * (sb->n_cols + 8) > max_mem)
        return SILT_FAIL(r->q->err, SILT_ELIMIT, "query exceeds the memory limit of %zu bytes",
                         max_mem);
    return QUERY_SCAN_CONTINUE;
}

static int agg_stage(qrun *r, stage *s, const query_batch *b, const uint32_t *sel, size_t n,
                     arena *a) {
    const qplan *p = s->p;
    qeval ev = {.a = a, .sql = r->q->sql, .err = r->q->err};
    size_t nk = p->u.agg.n_keys, na = p->kind == QPL_AGGREGATE ? p->u.agg.n_aggs : 0;
    query_vec *keys = arena_alloc(a, (nk ? nk : 1) * sizeof *keys);
    query_vec *args = arena_alloc(a, (na ? na : 1) * sizeof *args);
    query_vec *okeys = arena_alloc(a, (na ? na : 1) * sizeof *okeys);
    for (size_t k = 0; k < nk; k++) {
        int rc = query__expr_eval(&ev, p->u.agg.keys[k], b, sel, n, &keys[k]);
        if (rc < 0) return rc;
    }
    for (size_t i = 0; i < na; i++) {
        const qagg *g = &p->u.agg.aggs[i];
        memset(&args[i], 0, sizeof args[i]);
        memset(&okeys[i], 0, sizeof okeys[i]);
        if (g->arg) {
            int rc = query__expr_eval(&ev, g->arg, b, sel, n, &args[i]);
            if (rc < 0) return rc;
        }
        if (g->key) {
            int rc = query__expr_eval(&ev, g->key, b, sel, n, &okeys[i]);
            if (rc < 0) return rc;
        }
    }
    int rc = query__hagg_add(s->h, keys, args, okeys, b->n_rows, sel, n, r->q->err);
    return rc < 0 ? rc : QUERY_SCAN_CONTINUE;
}

static int push(qrun *r, size_t si, const query_batch *b, const uint32_t *sel, size_t n, arena *a) {
    if (n == 0) return QUERY_SCAN_CONTINUE;
    if (si == r->n_st) {
        const query_vec **vecs =
            arena_alloc(a, (r->root->n_cols ? r->root->n_cols : 1) * sizeof *vecs);
        for (size_t c = 0; c < r->root->n_cols; c++) vecs[c] = &b->cols[c];
        int rc = query__fmt_rows(r->f, vecs, sel, n, r->q->err);
        return rc < 0 ? rc : QUERY_SCAN_CONTINUE;
    }
    stage *s = &r->st[si];
    const qplan *p = s->p;
    switch (p->kind) {
        case QPL_FILTER: {
            uint32_t *out = arena_alloc(a, n * sizeof *out);
            size_t m = n;
            if (p->u.filter.pred) {
                m = query__pred_eval(p->u.filter.pred, b, sel, n, out, a);
            } else {
                memcpy(out, sel, n * sizeof *out);
            }
            qeval ev = {.a = a, .sql = r->q->sql, .err = r->q->err};
            for (size_t i = 0; i < p->u.filter.n_exprs && m; i++) {
                int rc = query__expr_filter(&ev, p->u.filter.exprs[i], b, out, m, out, &m);
                if (rc < 0) return rc;
            }
            return push(r, si + 1, b, out, m, a);
        }
        case QPL_PROJECT: {
            size_t nc = p->n_cols + p->n_hidden;
            query_vec *cols = arena_alloc(a, (nc ? nc : 1) * sizeof *cols);
            qeval ev = {.a = a, .sql = r->q->sql, .err = r->q->err};
            for (size_t c = 0; c < nc; c++) {
                int rc = query__expr_eval(&ev, p->cols[c].expr, b, sel, n, &cols[c]);
                if (rc < 0) return rc;
            }
            query_batch ob = {.n_rows = b->n_rows, .cols = cols};
            return push(r, si + 1, &ob, sel, n, a);
        }
        case QPL_AGGREGATE:
        case QPL_DISTINCT:
            return agg_stage(r, s, b, sel, n, a);
        case QPL_SORT:
            return sort_stage(r, s, b, sel, n);
        case QPL_LIMIT:
            return limit_stage(r, si, b, sel, n, a);
        default:
            return SILT_FAIL(r->q->err, SILT_EINVAL, "internal error: unexpected plan node");
    }
}

/* Between batches: has the query passed its deadline, or does the caller want it stopped
 * (query_opts.deadline_ns, .interrupt)? Returns SILT_OK or the error that ends the query. */
static int check_stop(qctx *q) {
    if (!q->deadline_ns && !q->interrupt) return SILT_OK;
    int64_t now = time_mono_ns();
    if (q->deadline_ns && now >= q->deadline_ns)
        return SILT_FAIL(q->err, SILT_ETIMEDOUT, "query timeout");
    if (q->interrupt && now >= q->next_poll_ns) {
        q->next_poll_ns = now + QUERY_INTERRUPT_POLL_NS;
        int rc = q->interrupt(q->interrupt_arg, q->err);
        if (rc < 0) return rc;
    }
    return SILT_OK;
}

static int on_batch(void *arg, const query_batch *b) {
    qrun *r = arg;
    int stop = check_stop(r->q);
    if (stop < 0) return r->rc = stop;
    if (b->n_rows == 0) return QUERY_SCAN_CONTINUE;
    if (b->n_rows > UINT32_MAX) {
        r->rc = SILT_FAIL(r->q->err, SILT_EINVAL, "scan batch of %zu rows is too large", b->n_rows);
        return r->rc;
    }
    arena_reset(&r->batch);
    size_t n = b->n_rows;
    if (n > r->n_ident) {
        r->ident = xrealloc(r->ident, n * sizeof *r->ident);
        for (size_t i = r->n_ident; i < n; i++) r->ident[i] = (uint32_t)i;
        r->n_ident = n;
    }
    int rc = push(r, 0, b, r->ident, n, &r->batch);
    if (rc < 0) r->rc = rc;
    return rc;
}

/* Drain the blocking stage si into the stages after it. */
static int drain(qrun *r, size_t si) {
    stage *s = &r->st[si];
    uint32_t *sel = xmalloc(QUERY_BATCH_ROWS * sizeof *sel);
    int rc = QUERY_SCAN_CONTINUE;
    if (s->h) {
        size_t ng = query__hagg_groups(s->h);
        size_t nc = s->p->n_cols + s->p->n_hidden;
        if (s->p->kind == QPL_DISTINCT) nc = s->p->u.agg.n_keys;
        for (size_t k = 0; k < QUERY_BATCH_ROWS; k++) sel[k] = (uint32_t)k;
        for (size_t from = 0; from < ng && rc == QUERY_SCAN_CONTINUE; from += QUERY_BATCH_ROWS) {
            if ((rc = check_stop(r->q)) < 0) break;
            size_t n = ng - from < QUERY_BATCH_ROWS ? ng - from : QUERY_BATCH_ROWS;
            arena_reset(&r->emit);
            query_vec *cols = arena_alloc(&r->emit, (nc ? nc : 1) * sizeof *cols);
            rc = query__hagg_emit(s->h, from, n, cols, &r->emit, r->q->err);
            if (rc < 0) break;
            query_batch b = {.n_rows = n, .cols = cols};
            rc = push(r, si + 1, &b, sel, n, &r->emit);
        }
    } else if (s->sb_init) {
        sortbuf *sb = &s->sb;
        uint32_t *idx = sb_sorted(sb);
        size_t nc = sb->n_cols;
        query_vec *cols = xcalloc(nc ? nc : 1, sizeof *cols);
        for (size_t c = 0; c < nc; c++) sb_vec(sb, c, &cols[c]);
        query_batch b = {.n_rows = sb->n, .cols = cols};
        for (size_t from = 0; from < sb->n && rc == QUERY_SCAN_CONTINUE; from += QUERY_BATCH_ROWS) {
            if ((rc = check_stop(r->q)) < 0) break;
            size_t n = sb->n - from < QUERY_BATCH_ROWS ? sb->n - from : QUERY_BATCH_ROWS;
            arena_reset(&r->emit);
            rc = push(r, si + 1, &b, idx + from, n, &r->emit);
        }
        free(cols);
        free(idx);
    }
    free(sel);
    return rc < 0 ? rc : SILT_OK;
}

/* A Values leaf (SHOW, system tables) as batches of at most QUERY_BATCH_ROWS selected rows
 * of its one column set, so a large system table flows like a scan (and LIMIT stops it). */
static int run_leaf_values(qrun *r, const qplan *v) {
    size_t n = v->u.values.n_rows;
    if (n == 0) return SILT_OK;
    if (n > UINT32_MAX) return SILT_FAIL(r->q->err, SILT_ELIMIT, "too many rows");
    uint32_t *sel = arena_alloc(&r->q->arena, n * sizeof *sel);
    for (size_t i = 0; i < n; i++) sel[i] = (uint32_t)i;
    query_batch b = {.n_rows = n, .cols = v->u.values.vecs};
    int rc = QUERY_SCAN_CONTINUE;
    for (size_t from = 0; from < n && rc == QUERY_SCAN_CONTINUE; from += QUERY_BATCH_ROWS) {
        arena_reset(&r->batch);
        rc = push(r, 0, &b, sel + from, n - from < QUERY_BATCH_ROWS ? n - from : QUERY_BATCH_ROWS,
                  &r->batch);
    }
    return rc < 0 ? rc : SILT_OK;
}

/* A tag filter of the scan request: one conjunct of the filter's predicate whose leaves all
 * read one tag column, evaluated on a one-row batch holding the value. */
typedef struct tag_match {
    const qpred *p;
    uint32_t pos; /* scan position of the tag */
    query_vec *vecs;
    arena scratch;
} tag_match;

static bool tag_match_fn(const void *arg, const str_view *v) {
    tag_match *m = (tag_match *)(uintptr_t)arg; /* ours, on the scanning thread */
    static const uint8_t null_row = 0;
    static const str_view empty = {"", 0};
    query_vec *c = &m->vecs[m->pos];
    memset(c, 0, sizeof *c);
    c->str = v ? v : &empty;
    c->valid = v ? NULL : &null_row;
    query_batch b = {1, m->vecs};
    uint32_t in = 0, out;
    arena_reset(&m->scratch);
    return query__pred_eval(m->p, &b, &in, 1, &out, &m->scratch) == 1;
}

/* The scan position every leaf of p reads, if it is one tag column. */
static bool one_tag(const qplan *scan, const qpred *p, int64_t *pos) {
    switch (p->kind) {
        case QP_CMP:
            if (p->kernel != QK_STR) return false;
            /* fallthrough */
        case QP_NOT_NULL:
        case QP_IS_NULL:
            if (scan->u.scan.tbl->cols[scan->u.scan.col_idx[p->col]].kind != QCOL_TAG) return false;
            if (*pos >= 0 && *pos != (int64_t)p->col) return false;
            *pos = p->col;
            return true;
        case QP_AND:
        case QP_OR:
            for (size_t k = 0; k < p->n_kids; k++)
                if (!one_tag(scan, p->kids[k], pos)) return false;
            return true;
        default:
            return false;
    }
}

static size_t tag_filters(qctx *q, const qplan *scan, query_tag_filter **out, tag_match **ms) {
    const qpred *p = scan->u.scan.prune;
    *out = NULL;
    *ms = NULL;
    if (!p) return 0;
    const qpred *const *conj = &p;
    size_t n_conj = 1;
    if (p->kind == QP_AND) conj = (const qpred *const *)p->kids, n_conj = p->n_kids;
    query_tag_filter *f = arena_alloc(&q->arena, n_conj * sizeof *f);
    tag_match *m = arena_alloc(&q->arena, n_conj * sizeof *m);
    size_t n = 0;
    for (size_t i = 0; i < n_conj; i++) {
        int64_t pos = -1;
        if (!one_tag(scan, conj[i], &pos) || pos < 0) continue;
        const qpred *c = conj[i];
        m[n] = (tag_match){.p = c, .pos = (uint32_t)pos};
        m[n].vecs = arena_alloc(&q->arena, scan->u.scan.n_cols * sizeof *m[n].vecs);
        arena_init(&m[n].scratch, 4096);
        f[n] = (query_tag_filter){
            .col = scan->u.scan.col_idx[pos], .match = tag_match_fn, .arg = &m[n]};
        /* an IN list when the conjunct is tag = 'a' [OR tag = 'b' ...] */
        const qpred *const *eq = &c;
        size_t n_eq = 1;
        if (c->kind == QP_OR) eq = (const qpred *const *)c->kids, n_eq = c->n_kids;
        bool all_eq = true;
        for (size_t k = 0; k < n_eq && all_eq; k++)
            all_eq = eq[k]->kind == QP_CMP && eq[k]->op == QOP_EQ;
        if (all_eq) {
            str_view *in = arena_alloc(&q->arena, n_eq * sizeof *in);
            for (size_t k = 0; k < n_eq; k++) in[k] = eq[k]->c.s;
            f[n].in = in;
            f[n].n_in = n_eq;
        }
        n++;
    }
    *out = f;
    *ms = m;
    return n;
}

/* query_scan_req.lane2_start: the first lane's table gets its half of the memory bound. */
static void lane2_start(void *arg) {
    qrun *r2 = arg;
    size_t ai = r2->lane_stage;
    size_t max = r2->q->max_memory_bytes ? r2->q->max_memory_bytes : QUERY_DEFAULT_MEMORY_BYTES;
    query__hagg_set_max_memory(r2->lane_of->st[ai].h, max / 2);
}

static int run_leaf_scan(qrun *r, const qplan *scan) {
    qctx *q = r->q;
    if (scan->u.scan.t_min > scan->u.scan.t_max) return SILT_OK;
    query_scan_req req = {
        .db = q->db,
        .table = scan->u.scan.table,
        .schema = scan->u.scan.tbl,
        .col_idx = scan->u.scan.col_idx,
        .n_cols = scan->u.scan.n_cols,
        .t_min = scan->u.scan.t_min,
        .t_max = scan->u.scan.t_max,
        .count_only = scan->u.scan.count_only,
        .topk = scan->u.scan.topk,
    };
    query_tag_filter *filters;
    tag_match *ms;
    req.n_filters = tag_filters(q, scan, &filters, &ms);
    req.filters = filters;
    /* Partial aggregation on a second lane: when every stage up to a hash aggregate is a
     * filter or a projection, a source may feed part of the rows to a copy of those stages
     * with its own hash table, on another thread; the copy is folded into the first after
     * the scan. Once the second lane starts, each table has half the memory bound. */
    size_t ai = 0;
    while (ai < r->n_st && (r->st[ai].p->kind == QPL_FILTER || r->st[ai].p->kind == QPL_PROJECT))
        ai++;
    bool lanes = ai < r->n_st && r->st[ai].p->kind == QPL_AGGREGATE && r->st[ai].h;
    qctx q2;
    qrun r2;
    silt_err e2 = {0};
    size_t max_mem = q->max_memory_bytes ? q->max_memory_bytes : QUERY_DEFAULT_MEMORY_BYTES;
    if (lanes) {
        q2 = *q;
        memset(&q2.arena, 0, sizeof q2.arena); /* never allocated from on the lane */
        q2.err = &e2;
        q2.interrupt = NULL; /* the first lane polls the client; both check the deadline */
        r2 = (qrun){.q = &q2, .root = r->root, .n_st = ai + 1};
        r2.st = xcalloc(ai + 1, sizeof *r2.st);
        memcpy(r2.st, r->st, ai * sizeof *r2.st);
        r2.st[ai].p = r->st[ai].p;
        r2.st[ai].h = query__hagg_create(r->st[ai].p, max_mem);
        query__hagg_set_max_memory(r2.st[ai].h, max_mem / 2);
        r2.lane_of = r;
        r2.lane_stage = ai;
        arena_init(&r2.batch, 64 * 1024);
        req.lane2 = on_batch;
        req.lane2_arg = &r2;
        req.lane2_start = lane2_start;
    }
    silt_err serr = {0};
    int rc = q->src->scan(q->src, &req, on_batch, r, &serr);
    for (size_t i = 0; i < req.n_filters; i++) arena_fini(&ms[i].scratch);
    if (lanes) {
        query__hagg_set_max_memory(r->st[ai].h, max_mem);
        if (r->rc >= 0 && r2.rc < 0) {
            r->rc = r2.rc;
            if (q->err) *q->err = e2;
        }
        if (r->rc >= 0 && rc >= 0) {
            int mr = query__hagg_merge(r->st[ai].h, r2.st[ai].h, q->err);
            if (mr < 0) r->rc = mr;
        }
        query__hagg_destroy(r2.st[ai].h);
        free(r2.st);
        arena_fini(&r2.batch);
        free(r2.ident);
    }
    if (r->rc < 0) return r->rc; /* ours: q->err already says why */
    if (rc < 0) {
        if (q->err) *q->err = serr;
        if (rc == SILT_ENOTFOUND)
            rc = SILT_FAIL(q->err, SILT_ENOTFOUND, "table '%s' not found", req.table);
        return rc;
    }
    return SILT_OK;
}

int query__exec(qctx *q, const qplan *root, qfmt *f) {
    qrun r = {.q = q, .f = f, .root = root};
    const qplan *leaf = root;
    size_t n_st = 0;
    while (leaf->input) leaf = leaf->input, n_st++;
    if (leaf->kind != QPL_SCAN && leaf->kind != QPL_VALUES)
        return SILT_FAIL(q->err, SILT_EINVAL, "internal error: malformed plan");
    r.n_st = n_st;
    r.st = arena_alloc(&q->arena, (n_st ? n_st : 1) * sizeof *r.st);
    memset(r.st, 0, (n_st ? n_st : 1) * sizeof *r.st);
    size_t i = n_st;
    bool nothing_wanted = false;
    for (const qplan *p = root; p != leaf; p = p->input) r.st[--i].p = p;
    if (f->max_bytes) r.sort_guard = f->max_bytes > SIZE_MAX / 4 ? SIZE_MAX : f->max_bytes * 4;
    for (i = 0; i < n_st; i++) {
        stage *s = &r.st[i];
        const qplan *p = s->p;
        if (p->kind == QPL_AGGREGATE || p->kind == QPL_DISTINCT) {
            s->h = query__hagg_create(p, q->max_memory_bytes);
        } else if (p->kind == QPL_LIMIT) {
            s->remaining = p->u.limit.limit;
            s->skip = p->u.limit.offset;
            if (s->remaining == 0) nothing_wanted = true;
        } else if (p->kind == QPL_SORT) {
            size_t keep = SIZE_MAX;
            /* top-N when a LIMIT follows directly */
            const qplan *up = NULL;
            for (const qplan *x = root; x != p; x = x->input)
                if (x->input == p) up = x;
            if (up && up->kind == QPL_LIMIT && up->u.limit.limit >= 0) {
                uint64_t k = (uint64_t)up->u.limit.limit + (uint64_t)up->u.limit.offset;
                keep = k < SIZE_MAX / 4 ? (size_t)k : SIZE_MAX;
            }
            sb_init(&s->sb, p, keep);
            if (keep >= 1 && keep <= SORT_HEAP_MAX_ROWS) {
                s->sb.heap = xmalloc(keep * sizeof *s->sb.heap);
            } else if (keep == SIZE_MAX && p->u.sort.n_part_keys && p->u.sort.part_limit > 0 &&
                       p->u.sort.part_limit <= SORT_PART_MAX_ROWS) {
                s->sb.part_n = p->u.sort.n_part_keys;
                s->sb.part_keep = (size_t)p->u.sort.part_limit;
                arena_init(&s->sb.part_keys, 16 * 1024);
            }
            s->sb_init = true;
        }
    }
    arena_init(&r.batch, 64 * 1024);
    arena_init(&r.emit, 64 * 1024);
    int rc = query__fmt_begin(f, q->err);
    if (rc == SILT_OK && !nothing_wanted) {
        rc = leaf->kind == QPL_VALUES ? run_leaf_values(&r, leaf) : run_leaf_scan(&r, leaf);
        for (i = 0; i < n_st && rc == SILT_OK; i++) {
            if (r.st[i].h || r.st[i].sb_init) rc = drain(&r, i);
        }
    }
    for (i = 0; i < n_st; i++) {
        query__hagg_destroy(r.st[i].h);
        if (r.st[i].sb_init) sb_fini(&r.st[i].sb);
    }
    arena_fini(&r.batch);
    free(r.ident);
    arena_fini(&r.emit);
    if (rc < 0) return rc;
    return query__fmt_end(f, q->err);
}
