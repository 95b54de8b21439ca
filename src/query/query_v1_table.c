/* SPDX-License-Identifier: MIT
 *
 * InfluxQL results in InfluxDB 3's table shape (see v1_table in query_v1.h): the v1 writer in
 * table mode hands every series here; at the end the table is written by query_format.c, the
 * writer of /api/v3/query_sql, so the five formats come out exactly as SQL results do.
 *
 * Storage, row-major because columns keep appearing as series arrive: a series records its
 * name, its tags and, per column of its own, the table column it lands in; a row records its
 * series and where its cells start in one flat cell array (one cell per column of the
 * series). Strings are copied into the table's arena. Writing resolves each column's type
 * from the value types its cells carried, orders the columns, maps every table column to its
 * source in each series, then converts the rows batch by batch into typed column vectors.
 */
#include "query_int.h"
#include "query_v1.h"

#include <stdlib.h>
#include <string.h>

#define MEASUREMENT_COL "iox::measurement"

typedef struct tcol {
    const char *name;
    uint32_t kinds;   /* bit (1 << v1_type) per non-NULL value type seen */
    bool is_tag;      /* named by a GROUP BY tag of some series */
    bool is_value;    /* a column of some series */
    bool first;       /* the first column of some series (time) */
    uint8_t src_kind; /* qout_col.src_kind, if all of n_series that have the column agree */
    uint32_t n_series, n_kinds; /* series with this column; of them, those that said src_kind */
} tcol;

typedef struct tseries {
    const char *name; /* NULL: no measurement */
    uint32_t n_tags;
    uint32_t *tag_col;    /* table column of tag k (UINT32_MAX: shadowed by a value column) */
    const char **tag_val; /* NULL: the series lacks the tag */
    uint32_t n_cols;
    uint32_t *col; /* table column of the series' column k */
} tseries;

typedef struct tcell {
    uint8_t type; /* v1_type; V1_NULL for NULL */
    union {
        int64_t i;
        uint64_t u;
        double f;
        str_view s;
    } v;
} tcell;

typedef struct trow {
    uint32_t series;
    size_t first_cell;
} trow;

struct v1_table {
    arena a; /* names, tags and string values */
    tcol *cols;
    size_t n_cols, cap_cols;
    tseries *series;
    size_t n_series, cap_series;
    trow *rows;
    size_t n_rows, cap_rows;
    tcell *cells;
    size_t n_cells, cap_cells;
    bool any_name;     /* some series has a measurement */
    size_t max_bytes;  /* 0: no bound */
    size_t held_bytes; /* the values held, counted as the Parquet writer counts them */
    bool full;
};

v1_table *query_v1_table_create(size_t max_bytes) {
    v1_table *t = xcalloc(1, sizeof *t);
    arena_init(&t->a, 16 * 1024);
    t->max_bytes = max_bytes;
    return t;
}

void query_v1_table_destroy(v1_table *t) {
    if (!t) return;
    arena_fini(&t->a);
    free(t->cols);
    free(t->series);
    free(t->rows);
    free(t->cells);
    free(t);
}

bool query_v1_table_full(const v1_table *t) {
    return t->full;
}

#define GROW(p, n, cap)                                                                            \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            (cap) = (cap) ? (cap)*2 : 64;                                                          \
            (p) = xrealloc((p), (cap) * sizeof *(p));                                              \
        }                                                                                          \
    } while (0)

/* The table column named name (created at the end if new). */
static uint32_t col_for(v1_table *t, str_view name) {
    for (size_t c = 0; c < t->n_cols; c++)
        if (strlen(t->cols[c].name) == name.n && !memcmp(t->cols[c].name, name.p, name.n))
            return (uint32_t)c;
    GROW(t->cols, t->n_cols, t->cap_cols);
    t->cols[t->n_cols] = (tcol){.name = arena_strndup(&t->a, name.p, name.n)};
    return (uint32_t)t->n_cols++;
}

static bool sv_eq_n(str_view a, str_view b) {
    return a.n == b.n && !memcmp(a.p, b.p, a.n);
}

void query__v1t_series(v1_table *t, str_view name, const str_view *tag_keys,
                       const str_view *tag_values, size_t n_tags, const str_view *cols,
                       size_t n_cols) {
    GROW(t->series, t->n_series, t->cap_series);
    tseries *s = &t->series[t->n_series++];
    *s = (tseries){.name = name.p ? arena_strndup(&t->a, name.p, name.n) : NULL};
    if (name.p) t->any_name = true;
    if (!tag_keys) n_tags = 0;
    s->n_cols = (uint32_t)n_cols;
    s->col = arena_alloc(&t->a, (n_cols + 1) * sizeof *s->col);
    /* column order of first appearance: the series' first column, its tags, the rest */
    if (n_cols) {
        s->col[0] = col_for(t, cols[0]);
        t->cols[s->col[0]].first = t->cols[s->col[0]].is_value = true;
    }
    s->n_tags = (uint32_t)n_tags;
    s->tag_col = arena_alloc(&t->a, (n_tags + 1) * sizeof *s->tag_col);
    s->tag_val = arena_alloc(&t->a, (n_tags + 1) * sizeof *s->tag_val);
    for (size_t k = 0; k < n_tags; k++) {
        bool shadowed = sv_eq_n(tag_keys[k], sv_from(MEASUREMENT_COL));
        for (size_t c = 0; c < n_cols && !shadowed; c++) shadowed = sv_eq_n(tag_keys[k], cols[c]);
        s->tag_col[k] = UINT32_MAX;
        s->tag_val[k] = tag_values[k].n ? arena_strndup(&t->a, tag_values[k].p, tag_values[k].n)
                                        : NULL; /* a series without the tag */
        if (shadowed) continue;                 /* the column of the same name says it */
        s->tag_col[k] = col_for(t, tag_keys[k]);
        t->cols[s->tag_col[k]].is_tag = true;
    }
    for (size_t c = 1; c < n_cols; c++) {
        s->col[c] = col_for(t, cols[c]);
        t->cols[s->col[c]].is_value = true;
    }
    for (size_t c = 0; c < n_cols; c++) t->cols[s->col[c]].n_series++;
}

void query__v1t_series_src_kinds(v1_table *t, const uint8_t *kinds, size_t n) {
    if (!t->n_series) return;
    const tseries *s = &t->series[t->n_series - 1];
    for (size_t c = 0; c < s->n_cols && c < n; c++) {
        tcol *tc = &t->cols[s->col[c]];
        if (tc->n_kinds++ == 0)
            tc->src_kind = kinds[c];
        else if (tc->src_kind != kinds[c])
            tc->src_kind = 0;
    }
}

static void account(v1_table *t, size_t bytes) {
    t->held_bytes += bytes;
    if (t->max_bytes && t->held_bytes > t->max_bytes) t->full = true;
}

void query__v1t_row(v1_table *t, const query_vec *const *vecs, const v1_type *types, size_t n,
                    uint32_t i) {
    if (t->full || !t->n_series) return; /* the query fails: keep no more */
    const tseries *s = &t->series[t->n_series - 1];
    size_t nc = s->n_cols;
    GROW(t->rows, t->n_rows, t->cap_rows);
    t->rows[t->n_rows++] = (trow){.series = (uint32_t)(t->n_series - 1), .first_cell = t->n_cells};
    size_t bytes = s->name ? strlen(s->name) : 0;
    for (size_t k = 0; k < s->n_tags; k++) bytes += s->tag_val[k] ? strlen(s->tag_val[k]) : 0;
    for (size_t c = 0; c < nc; c++) {
        GROW(t->cells, t->n_cells, t->cap_cells);
        tcell *cell = &t->cells[t->n_cells++];
        cell->type = V1_NULL;
        const query_vec *v = c < n ? vecs[c] : NULL;
        v1_type ty = c < n ? types[c] : V1_NULL;
        if (!v || ty == V1_NULL || (v->valid && !v->valid[i])) continue;
        switch (ty) {
            case V1_BOOL:
                if (v->b) cell->v.i = v->b[i] != 0, cell->type = V1_BOOL;
                break;
            case V1_INT:
            case V1_TIME:
                if (v->i64) cell->v.i = v->i64[i], cell->type = (uint8_t)ty;
                break;
            case V1_UINT:
                if (v->u64) cell->v.u = v->u64[i], cell->type = V1_UINT;
                break;
            case V1_FLOAT:
                if (v->f64) cell->v.f = v->f64[i], cell->type = V1_FLOAT;
                break;
            case V1_STRING:
                if (v->str) {
                    str_view x = v->str[i];
                    cell->v.s = (str_view){arena_strndup(&t->a, x.p ? x.p : "", x.n), x.n};
                    cell->type = V1_STRING;
                    bytes += x.n;
                }
                break;
            default:
                break;
        }
        if (cell->type != V1_NULL) {
            t->cols[s->col[c]].kinds |= 1u << cell->type;
            if (cell->type != V1_STRING) bytes += 8;
        }
    }
    account(t, bytes);
}

/* A mark packs the counts of series and rows (both below 2^32 in any answer that fits the
 * result limits). */
size_t query__v1t_mark(const v1_table *t) {
    return (size_t)((uint64_t)t->n_series << 32 | (uint64_t)t->n_rows);
}

void query__v1t_truncate(v1_table *t, size_t mark) {
    size_t n_series = (size_t)((uint64_t)mark >> 32), n_rows = (size_t)(mark & 0xffffffffu);
    if (n_rows < t->n_rows) {
        t->n_cells = t->rows[n_rows].first_cell;
        t->n_rows = n_rows;
    }
    if (n_series < t->n_series) t->n_series = n_series;
    /* columns the dropped series added stay, typed by what they saw: harmless, since the
     * caller fails the statement and so the request */
}

/* ------------------------------------------------------------------ writing */

static qtype resolve_type(uint32_t kinds) {
    const uint32_t num = 1u << V1_INT | 1u << V1_UINT | 1u << V1_FLOAT;
    if (kinds == 1u << V1_TIME) return QT_TIME;
    if (kinds == 1u << V1_BOOL) return QT_BOOL;
    if (kinds == 1u << V1_INT) return QT_INT;
    if (kinds == 1u << V1_UINT) return QT_UINT;
    if (kinds && !(kinds & ~num)) return QT_FLOAT;
    return QT_STRING; /* strings, mixed kinds, or NULL throughout */
}

/* Sort idx[0..n) by column name (insertion sort: a handful of tags). */
static void sort_by_name(uint32_t *idx, size_t n, const tcol *cols) {
    for (size_t x = 1; x < n; x++)
        for (size_t y = x; y > 0 && strcmp(cols[idx[y - 1]].name, cols[idx[y]].name) > 0; y--) {
            uint32_t tmp = idx[y];
            idx[y] = idx[y - 1];
            idx[y - 1] = tmp;
        }
}

/* Where output column j of series s takes its value from. */
enum { SRC_NULL = -1, SRC_MEASUREMENT = -2 }; /* then -3 - k: tag k; >= 0: cell k of the row */

/* Cell value as text, for a string column holding other types. */
static str_view cell_text(const tcell *c, arena *a) {
    buf b = {0};
    switch (c->type) {
        case V1_BOOL:
            buf_puts(&b, c->v.i ? "true" : "false");
            break;
        case V1_INT:
            buf_put_i64(&b, c->v.i);
            break;
        case V1_UINT:
            buf_put_u64(&b, c->v.u);
            break;
        case V1_FLOAT:
            buf_put_double(&b, c->v.f);
            break;
        case V1_TIME: {
            char tmp[48];
            size_t n = time_format_rfc3339(tmp, c->v.i, false);
            buf_append(&b, tmp, n);
            break;
        }
        default:
            break;
    }
    str_view s = {arena_strndup(a, b.p ? (const char *)b.p : "", b.len), b.len};
    buf_free(&b);
    return s;
}

#define BATCH_ROWS 1024

int query_v1_table_write(v1_table *t, query_format fmt, buf *out, size_t max_result_bytes,
                         silt_err *err) {
    size_t nc = (t->any_name ? 1 : 0) + t->n_cols;
    if (t->n_series == 0 || nc == 0) {
        /* nothing to name the columns by: arrow writes a result without batches so */
        if (fmt == QUERY_FMT_JSON) buf_puts(out, "[]");
        if (fmt == QUERY_FMT_PRETTY) buf_puts(out, "++\n++");
        if (fmt == QUERY_FMT_ARROW) { /* a stream needs its schema: one without fields */
            qfmt f;
            query__fmt_init(&f, fmt, out, max_result_bytes, NULL, 0, NULL);
            int rc = query__fmt_begin(&f, err);
            if (rc >= 0) rc = query__fmt_end(&f, err);
            query__fmt_fini(&f);
            return rc;
        }
        return SILT_OK;
    }
    arena a; /* per write: the column list and the per-series maps */
    arena_init(&a, 16 * 1024);
    /* order: iox::measurement, first columns, tag-only columns by name, the rest */
    uint32_t *order = arena_alloc(&a, (t->n_cols + 1) * sizeof *order);
    size_t no = 0;
    for (size_t c = 0; c < t->n_cols; c++)
        if (t->cols[c].first) order[no++] = (uint32_t)c;
    size_t tags_from = no;
    for (size_t c = 0; c < t->n_cols; c++)
        if (!t->cols[c].first && t->cols[c].is_tag && !t->cols[c].is_value)
            order[no++] = (uint32_t)c;
    sort_by_name(order + tags_from, no - tags_from, t->cols);
    for (size_t c = 0; c < t->n_cols; c++)
        if (!t->cols[c].first && t->cols[c].is_value) order[no++] = (uint32_t)c;
    nc = (t->any_name ? 1 : 0) + no;
    qout_col *cols = arena_alloc(&a, nc * sizeof *cols);
    int32_t *pos = arena_alloc(&a, (t->n_cols + 1) * sizeof *pos); /* table col -> output */
    for (size_t c = 0; c < t->n_cols; c++) pos[c] = -1;
    size_t j0 = 0;
    if (t->any_name) cols[j0++] = (qout_col){.name = MEASUREMENT_COL, .type = QT_STRING};
    for (size_t k = 0; k < no; k++) {
        const tcol *tc = &t->cols[order[k]];
        qtype ty = resolve_type(tc->kinds);
        if (tc->is_tag) ty = QT_STRING; /* tag values (and whatever else it holds, as text) */
        /* Arrow's iox::column::type: a tag-only column is a tag; a value column says what
         * every series' plan passed on (query_arrow.c checks it against the type) */
        uint8_t kind = tc->n_kinds == tc->n_series ? tc->src_kind : 0;
        if (tc->is_tag) kind = !tc->is_value || kind == QCOL_TAG ? QCOL_TAG : 0;
        cols[j0 + k] = (qout_col){.name = tc->name, .type = ty, .src_kind = kind};
        pos[order[k]] = (int32_t)(j0 + k);
    }
    /* per series, the source of each output column */
    int32_t *src = arena_alloc(&a, t->n_series * nc * sizeof *src);
    for (size_t si = 0; si < t->n_series; si++) {
        const tseries *s = &t->series[si];
        int32_t *m = src + si * nc;
        for (size_t j = 0; j < nc; j++) m[j] = SRC_NULL;
        if (t->any_name && s->name) m[0] = SRC_MEASUREMENT;
        for (uint32_t k = 0; k < s->n_tags; k++)
            if (s->tag_col[k] != UINT32_MAX && pos[s->tag_col[k]] >= 0)
                m[pos[s->tag_col[k]]] = -3 - (int32_t)k;
        for (uint32_t c = 0; c < s->n_cols; c++)
            if (pos[s->col[c]] >= 0) m[pos[s->col[c]]] = (int32_t)c;
    }
    size_t start = out->len;
    qfmt f;
    query__fmt_init(&f, fmt, out, max_result_bytes, cols, nc, &a);
    int rc = query__fmt_begin(&f, err);
    /* the batch's column vectors */
    query_vec *vec = xcalloc(nc, sizeof *vec);
    const query_vec **vp = xcalloc(nc, sizeof *vp);
    int64_t *i64 = xmalloc(nc * BATCH_ROWS * sizeof *i64);
    str_view *str = xmalloc(nc * BATCH_ROWS * sizeof *str);
    uint8_t *valid = xmalloc(nc * BATCH_ROWS);
    uint32_t *sel = xmalloc(BATCH_ROWS * sizeof *sel);
    for (uint32_t k = 0; k < BATCH_ROWS; k++) sel[k] = k;
    arena text; /* one batch's values converted to text */
    arena_init(&text, 16 * 1024);
    for (size_t r0 = 0; rc >= 0 && r0 < t->n_rows; r0 += BATCH_ROWS) {
        size_t n = t->n_rows - r0 < BATCH_ROWS ? t->n_rows - r0 : BATCH_ROWS;
        arena_reset(&text);
        for (size_t j = 0; j < nc; j++) {
            int64_t *vi = i64 + j * BATCH_ROWS;
            str_view *vs = str + j * BATCH_ROWS;
            uint8_t *vv = valid + j * BATCH_ROWS;
            qtype ty = cols[j].type;
            for (size_t k = 0; k < n; k++) {
                const trow *row = &t->rows[r0 + k];
                const tseries *s = &t->series[row->series];
                int32_t from = src[row->series * nc + j];
                vv[k] = 0;
                if (from == SRC_NULL) continue;
                if (from == SRC_MEASUREMENT) {
                    vs[k] = sv_from(s->name);
                    vv[k] = 1;
                    continue;
                }
                if (from < 0) { /* a tag */
                    const char *tv = s->tag_val[-3 - from];
                    if (tv) vs[k] = sv_from(tv), vv[k] = 1;
                    continue;
                }
                const tcell *cell = &t->cells[row->first_cell + (size_t)from];
                if (cell->type == V1_NULL) continue;
                vv[k] = 1;
                switch (ty) {
                    case QT_STRING:
                        vs[k] = cell->type == V1_STRING ? cell->v.s : cell_text(cell, &text);
                        break;
                    case QT_FLOAT: {
                        double d = cell->type == V1_FLOAT  ? cell->v.f
                                   : cell->type == V1_UINT ? (double)cell->v.u
                                                           : (double)cell->v.i;
                        memcpy(&vi[k], &d, sizeof d);
                        break;
                    }
                    case QT_BOOL:
                        ((uint8_t *)vi)[k] = (uint8_t)cell->v.i;
                        break;
                    default: /* int, uint, time: the same 8 bytes */
                        vi[k] = cell->v.i;
                        break;
                }
            }
            vec[j] = (query_vec){.valid = vv};
            switch (ty) {
                case QT_STRING:
                    vec[j].str = vs;
                    break;
                case QT_FLOAT:
                    vec[j].f64 = (const double *)vi;
                    break;
                case QT_UINT:
                    vec[j].u64 = (const uint64_t *)vi;
                    break;
                case QT_BOOL:
                    vec[j].b = (const uint8_t *)vi;
                    break;
                default:
                    vec[j].i64 = vi;
                    break;
            }
            vp[j] = &vec[j];
        }
        rc = query__fmt_rows(&f, vp, sel, n, err);
    }
    if (rc >= 0) rc = query__fmt_end(&f, err);
    query__fmt_fini(&f);
    arena_fini(&text);
    free(vec);
    free(vp);
    free(i64);
    free(str);
    free(valid);
    free(sel);
    arena_fini(&a);
    if (rc < 0) out->len = start; /* no partial result */
    return rc;
}
