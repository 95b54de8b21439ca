/* SPDX-License-Identifier: MIT
 *
 * Queries inside queries: subqueries in FROM, WITH (common table expressions) and UNION ALL,
 * and InfluxDB 3's date_bin_gapfill with locf() / interpolate(), which is built from the same
 * parts (see its section below).
 * query__run() is the driver between the parser and the plan: a statement that uses none of
 * them is planned and executed as before, straight against the source (the Scan leaf and its
 * pruning are untouched). Otherwise every inner query (a CTE, a FROM subquery, a UNION ALL
 * arm) is planned and executed on its own, with its own qctx, and its result is materialized
 * into an in-memory columnar table (qmat). The enclosing query then runs against a scope
 * source: a query_source that serves the qmats visible at that level by name and hands every
 * other name to the real source. So the planner and executor see a materialized result as
 * one more table whose columns are the inner query's output columns, in its order.
 *
 * Scoping (PostgreSQL / DataFusion): a CTE is visible to the CTEs after it and to the body of
 * its WITH, including queries nested inside them; it shadows a table of the same name. The
 * FROM subquery of a level is visible to that level only. Names are looked up innermost
 * first. A CTE is not recursive: a CTE body naming itself reads the table of that name.
 *
 * Materialized column types: time -> a time column (QCOL_TIME), strings -> string fields,
 * integers, unsigned, floats and booleans -> fields of that type; a selector's JSON object
 * stays one when an outer query passes it on unchanged. UNION ALL arms must have
 * the same number of columns; each column takes the first arm's name and the common type of
 * the arms (equal types; integer, unsigned and float mix as float); any other mix is an error
 * naming the column and both types.
 *
 * Memory: the rows of all qmats alive at one time are counted against max_memory_bytes
 * (SILT_ELIMIT "query exceeds the memory limit of N bytes", as aggregation and sort say it);
 * a qmat is freed when the query level that uses it ends.
 *
 * Invariants:
 *   (1) A qmat's column arrays hold n_rows values; its string views point into its own arena
 *       and stay valid until the qmat is freed.
 *   (2) An inner query runs to completion before the level that reads it is planned, so a
 *       scan of the scope source never re-enters the driver.
 */
#include "query_int.h"

#include <stdio.h>
#include <stdlib.h>

/* A name in a message: at most 100 bytes of it, cut at a character boundary. */
static int plen(const char *s) {
    size_t n = strlen(s);
    if (n <= 100) return (int)n;
    n = 100;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    return (int)n;
}
#define PNAME(s) plen(s), (s)

/* ------------------------------------------------------------------ materialized tables */

typedef struct qmat qmat;
struct qmat {
    const char *name; /* as the FROM clause names it (arena of the statement) */
    query_table tbl;  /* owner_data == this qmat */
    qtype *types;
    size_t n_cols, n_rows, cap;
    uint64_t **w;      /* per column: int64 / uint64 / double / time values (8 bytes each) */
    uint8_t **b;       /* per column: booleans */
    str_view **s;      /* per column: strings, in `strs` */
    uint8_t **valid;   /* per column: 1 = not NULL */
    bool *has_null;    /* per column */
    bool *json;        /* per column: a selector's {"value":..,"time":..} object (qout_col.json) */
    uint8_t *src_kind; /* per column: qout_col.src_kind of the inner query (0 when arms
                        * of a UNION ALL differ) */
    arena strs;
    size_t bytes; /* counted against the scope's memory bound */
    qmat *next;   /* the next outer visible name */
};

/* Everything the levels of one statement share. */
typedef struct qscope {
    const query_source *base;
    query_source src; /* ctx = this scope */
    qmat *top;        /* visible materialized tables, innermost first */
    size_t mem_bytes, max_bytes;
} qscope;

static void mat_free(qscope *sc, qmat *m) {
    if (!m) return;
    for (size_t c = 0; c < m->n_cols; c++) {
        free(m->w[c]);
        free(m->b[c]);
        free(m->s[c]);
        free(m->valid[c]);
    }
    free(m->w);
    free(m->b);
    free(m->s);
    free(m->valid);
    free(m->has_null);
    free(m->json);
    free(m->src_kind);
    free(m->types);
    free(m->tbl.cols);
    arena_fini(&m->strs);
    sc->mem_bytes -= m->bytes;
    free(m);
}

static int mat_count(qscope *sc, qmat *m, size_t add, silt_err *err) {
    if (add > sc->max_bytes || sc->mem_bytes > sc->max_bytes - add)
        return SILT_FAIL(err, SILT_ELIMIT, "query exceeds the memory limit of %zu bytes",
                         sc->max_bytes);
    sc->mem_bytes += add;
    m->bytes += add;
    return SILT_OK;
}

static size_t width_of(qtype t) {
    if (t == QT_BOOL) return 1;
    if (t == QT_STRING) return sizeof(str_view);
    return 8;
}

static void mat_set_col(qmat *m, size_t c, const char *name, qtype t) {
    m->types[c] = t;
    query_column *qc = &m->tbl.cols[c];
    qc->name = name;
    qc->kind = QCOL_FIELD;
    switch (t) {
        case QT_TIME:
            qc->kind = QCOL_TIME;
            qc->type = LP_INT;
            break;
        case QT_BOOL:
            qc->type = LP_BOOL;
            break;
        case QT_UINT:
            qc->type = LP_UINT;
            break;
        case QT_FLOAT:
            qc->type = LP_FLOAT;
            break;
        case QT_STRING:
            qc->type = LP_STRING;
            break;
        default:
            qc->type = LP_INT;
            break;
    }
}

/* A new, empty table with the columns of a plan's output (visible columns only). */
static qmat *mat_new(const char *name, const qout_col *cols, size_t n_cols) {
    qmat *m = xcalloc(1, sizeof *m);
    m->name = name;
    m->n_cols = n_cols;
    size_t n = n_cols ? n_cols : 1;
    m->types = xcalloc(n, sizeof *m->types);
    m->tbl.cols = xcalloc(n, sizeof *m->tbl.cols);
    m->tbl.n_cols = n_cols;
    m->tbl.owner_data = m;
    m->w = xcalloc(n, sizeof *m->w);
    m->b = xcalloc(n, sizeof *m->b);
    m->s = xcalloc(n, sizeof *m->s);
    m->valid = xcalloc(n, sizeof *m->valid);
    m->has_null = xcalloc(n, sizeof *m->has_null);
    m->json = xcalloc(n, sizeof *m->json);
    m->src_kind = xcalloc(n, sizeof *m->src_kind);
    arena_init(&m->strs, 16 * 1024);
    for (size_t c = 0; c < n_cols; c++) { /* names outlive the plan that made them */
        size_t len = strlen(cols[c].name);
        char *name_copy = arena_alloc(&m->strs, len + 1);
        memcpy(name_copy, cols[c].name, len + 1);
        mat_set_col(m, c, name_copy, cols[c].type);
        m->json[c] = cols[c].json;
        m->src_kind[c] = cols[c].src_kind;
    }
    return m;
}

/* Room for `more` rows. */
static int mat_reserve(qscope *sc, qmat *m, size_t more, silt_err *err) {
    if (m->cap - m->n_rows >= more) return SILT_OK;
    size_t cap = m->cap ? m->cap : 256;
    while (cap - m->n_rows < more) cap *= 2;
    size_t row_bytes = 0;
    for (size_t c = 0; c < m->n_cols; c++) row_bytes += width_of(m->types[c]) + 1;
    int rc = mat_count(sc, m, (cap - m->cap) * (row_bytes ? row_bytes : 1), err);
    if (rc < 0) return rc;
    for (size_t c = 0; c < m->n_cols; c++) {
        qtype t = m->types[c];
        if (t == QT_BOOL)
            m->b[c] = xrealloc(m->b[c], cap);
        else if (t == QT_STRING)
            m->s[c] = xrealloc(m->s[c], cap * sizeof(str_view));
        else
            m->w[c] = xrealloc(m->w[c], cap * sizeof(uint64_t));
        m->valid[c] = xrealloc(m->valid[c], cap);
    }
    m->cap = cap;
    return SILT_OK;
}

/* Widen column c from an integer type to float, converting the rows it holds (UNION ALL). */
static void mat_widen_to_float(qmat *m, size_t c) {
    qtype t = m->types[c];
    uint64_t *w = m->w[c];
    for (size_t r = 0; r < m->n_rows; r++) {
        double d = t == QT_UINT ? (double)w[r] : (double)(int64_t)w[r];
        memcpy(&w[r], &d, sizeof d);
    }
    mat_set_col(m, c, m->tbl.cols[c].name, QT_FLOAT);
}

static bool is_numeric(qtype t) {
    return t == QT_INT || t == QT_UINT || t == QT_FLOAT;
}

/* Append rows sel[0..n) of vecs (types `types`, one per column) to m, converting integers to
 * float where the column is float. */
static int mat_append(qscope *sc, qmat *m, const qtype *types, const query_vec *const *vecs,
                      const uint32_t *sel, size_t n, silt_err *err) {
    int rc = mat_reserve(sc, m, n, err);
    if (rc < 0) return rc;
    size_t str_bytes = 0;
    for (size_t c = 0; c < m->n_cols; c++) {
        const query_vec *v = vecs[c];
        qtype from = types[c], to = m->types[c];
        uint8_t *valid = m->valid[c] + m->n_rows;
        for (size_t k = 0; k < n; k++) {
            uint32_t i = sel[k];
            valid[k] = !v->valid || v->valid[i];
            if (!valid[k]) m->has_null[c] = true;
        }
        if (to == QT_BOOL) {
            uint8_t *d = m->b[c] + m->n_rows;
            for (size_t k = 0; k < n; k++) d[k] = valid[k] ? v->b[sel[k]] : 0;
        } else if (to == QT_STRING) {
            str_view *d = m->s[c] + m->n_rows;
            for (size_t k = 0; k < n; k++) {
                if (!valid[k]) {
                    d[k] = (str_view){"", 0};
                    continue;
                }
                str_view sv = v->str[sel[k]];
                char *p = arena_alloc(&m->strs, sv.n ? sv.n : 1);
                if (sv.n) memcpy(p, sv.p, sv.n);
                d[k] = (str_view){p, sv.n};
                str_bytes += sv.n;
            }
        } else {
            uint64_t *d = m->w[c] + m->n_rows;
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                if (!valid[k]) {
                    d[k] = 0;
                } else if (to == QT_FLOAT && from != QT_FLOAT) {
                    double x = from == QT_UINT ? (double)v->u64[i] : (double)v->i64[i];
                    memcpy(&d[k], &x, sizeof x);
                } else if (from == QT_FLOAT) {
                    memcpy(&d[k], &v->f64[i], sizeof d[k]);
                } else if (from == QT_UINT) {
                    d[k] = v->u64[i];
                } else {
                    d[k] = (uint64_t)v->i64[i];
                }
            }
        }
    }
    m->n_rows += n;
    return str_bytes ? mat_count(sc, m, str_bytes, err) : SILT_OK;
}

/* ------------------------------------------------------------------ the scope source */

static qmat *scope_find(const qscope *sc, const char *name) {
    for (qmat *m = sc->top; m; m = m->next)
        if (strcmp(m->name, name) == 0) return m;
    return NULL;
}

static int scope_db_exists(const query_source *s, const char *db) {
    const qscope *sc = s->ctx;
    return sc->base->db_exists(sc->base, db);
}

static int scope_list_tables(const query_source *s, const char *db, char ***names, size_t *n,
                             silt_err *err) {
    const qscope *sc = s->ctx;
    return sc->base->list_tables(sc->base, db, names, n, err);
}

static int scope_list_dbs(const query_source *s, char ***names, size_t *n, silt_err *err) {
    const qscope *sc = s->ctx;
    if (!sc->base->list_dbs) return SILT_FAIL(err, SILT_EINVAL, "no database list");
    return sc->base->list_dbs(sc->base, names, n, err);
}

static int scope_list_files(const query_source *s, const char *db, query_file_info **out,
                            size_t *n, silt_err *err) {
    const qscope *sc = s->ctx;
    if (!sc->base->list_files) {
        *out = NULL;
        *n = 0;
        return SILT_OK;
    }
    return sc->base->list_files(sc->base, db, out, n, err);
}

static int scope_table_schema(const query_source *s, const char *db, const char *table,
                              query_table *out, silt_err *err) {
    const qscope *sc = s->ctx;
    qmat *m = scope_find(sc, table);
    if (!m) return sc->base->table_schema(sc->base, db, table, out, err);
    *out = m->tbl; /* borrowed: the qmat outlives the level that reads it */
    return SILT_OK;
}

static bool is_mat(const qscope *sc, const query_table *t) {
    if (!t) return false;
    for (const qmat *m = sc->top; m; m = m->next)
        if (t->owner_data == m) return true;
    return false;
}

static int scope_scan(const query_source *s, const query_scan_req *req, query_batch_fn fn,
                      void *arg, silt_err *err);

const uint8_t *query__mat_src_kinds(const qctx *q, const query_table *t) {
    if (q->src->scan != scope_scan || !is_mat(q->src->ctx, t)) return NULL;
    const qmat *m = t->owner_data;
    return m->src_kind;
}

static void scope_table_release(const query_source *s, query_table *t) {
    const qscope *sc = s->ctx;
    if (is_mat(sc, t)) {
        memset(t, 0, sizeof *t);
        return;
    }
    sc->base->table_release(sc->base, t);
}

/* A materialized table scans in batches of QUERY_BATCH_ROWS; it has no time index, so the
 * request's time range is not applied (the executor's filter does it, as query.h allows). */
static int scope_scan(const query_source *s, const query_scan_req *req, query_batch_fn fn,
                      void *arg, silt_err *err) {
    const qscope *sc = s->ctx;
    if (!is_mat(sc, req->schema)) return sc->base->scan(sc->base, req, fn, arg, err);
    const qmat *m = req->schema->owner_data;
    query_vec *vecs = xcalloc(req->n_cols ? req->n_cols : 1, sizeof *vecs);
    int rc = SILT_OK;
    for (size_t off = 0; off < m->n_rows; off += QUERY_BATCH_ROWS) {
        size_t n = m->n_rows - off < QUERY_BATCH_ROWS ? m->n_rows - off : QUERY_BATCH_ROWS;
        for (size_t k = 0; k < req->n_cols; k++) {
            size_t c = req->col_idx[k];
            query_vec *v = &vecs[k];
            memset(v, 0, sizeof *v);
            v->valid = m->has_null[c] ? m->valid[c] + off : NULL;
            switch (m->types[c]) {
                case QT_BOOL:
                    v->b = m->b[c] + off;
                    break;
                case QT_STRING:
                    v->str = m->s[c] + off;
                    break;
                case QT_UINT:
                    v->u64 = m->w[c] + off;
                    break;
                case QT_FLOAT:
                    v->f64 = (const double *)(m->w[c] + off);
                    break;
                default:
                    v->i64 = (const int64_t *)(m->w[c] + off);
                    break;
            }
        }
        query_batch b = {.n_rows = n, .cols = vecs};
        rc = fn(arg, &b);
        if (rc == QUERY_SCAN_STOP) {
            rc = SILT_OK;
            break;
        }
        if (rc < 0) break;
        rc = SILT_OK;
    }
    free(vecs);
    return rc;
}

/* ------------------------------------------------------------------ qualified names */

static int qual_fail(qctx *q, const qexpr *e) {
    uint32_t line, col;
    text_line_col(q->sql, e->pos, &line, &col);
    return SILT_FAIL(q->err, SILT_EINVAL,
                     "table or alias '%.*s' in '%.*s.%.*s' is not in the FROM clause at line "
                     "%u, column %u",
                     PNAME(e->u.col.qual), PNAME(e->u.col.qual), PNAME(e->u.col.name), line, col);
}

/* Every qualified column of e names `from` (the FROM table or its alias). Bounded recursion:
 * invariant (1) of query_int.h. */
static int check_quals(qctx *q, const qexpr *e, const char *from) {
    if (!e) return SILT_OK;
    int rc = SILT_OK;
    switch (e->kind) {
        case QX_COLUMN:
            if (e->u.col.qual && (!from || strcmp(e->u.col.qual, from) != 0))
                return qual_fail(q, e);
            return SILT_OK;
        case QX_LITERAL:
        case QX_STAR:
            return SILT_OK;
        case QX_CMP:
        case QX_ARITH:
            rc = check_quals(q, e->u.bin.l, from);
            return rc < 0 ? rc : check_quals(q, e->u.bin.r, from);
        case QX_NEG:
        case QX_NOT:
        case QX_IS_NULL:
            return check_quals(q, e->u.un.arg, from);
        case QX_AND:
        case QX_OR:
        case QX_IN:
        case QX_BETWEEN:
        case QX_LIKE:
            for (size_t i = 0; i < e->u.list.n && rc == SILT_OK; i++)
                rc = check_quals(q, e->u.list.args[i], from);
            return rc;
        case QX_FUNC:
            for (size_t i = 0; i < e->u.func.n && rc == SILT_OK; i++)
                rc = check_quals(q, e->u.func.args[i], from);
            return rc < 0 ? rc : check_quals(q, e->u.func.order, from);
        case QX_CASE:
            rc = check_quals(q, e->u.cs.operand, from);
            for (size_t i = 0; i < e->u.cs.n && rc == SILT_OK; i++) {
                rc = check_quals(q, e->u.cs.whens[i], from);
                if (rc == SILT_OK) rc = check_quals(q, e->u.cs.thens[i], from);
            }
            return rc < 0 ? rc : check_quals(q, e->u.cs.els, from);
        case QX_CAST:
            return check_quals(q, e->u.cast.arg, from);
    }
    return SILT_OK;
}

static int check_stmt_quals(qctx *q, const qstmt *st, const char *from) {
    int rc = SILT_OK;
    for (size_t i = 0; i < st->n_items && rc == SILT_OK; i++)
        rc = check_quals(q, st->items[i].expr, from);
    if (rc == SILT_OK) rc = check_quals(q, st->where, from);
    for (size_t i = 0; i < st->n_group && rc == SILT_OK; i++)
        rc = check_quals(q, st->group[i], from);
    if (rc == SILT_OK) rc = check_quals(q, st->having, from);
    for (size_t i = 0; i < st->n_order && rc == SILT_OK; i++)
        rc = check_quals(q, st->order[i].expr, from);
    return rc;
}

/* ------------------------------------------------------------------ the driver */

typedef struct gapfill gapfill; /* date_bin_gapfill's parameters (below) */

/* Where one level's result goes: `ready` sees the plan before execution (it sets up the
 * formatter or the qmat), then rows go to the formatter f (sink or output). */
typedef struct qdest {
    int (*ready)(struct qdest *d, qctx *q, const qplan *plan, qfmt *f);
    qscope *sc;
    /* top level */
    query_format fmt;
    buf *out;
    size_t max_result_bytes;
    /* materializing */
    qmat *mat;
    size_t arm;       /* UNION ALL: 0-based arm number */
    qtype *arm_types; /* the types of the current arm's columns */
    const char *name; /* the qmat's name */
    gapfill *gf;      /* date_bin_gapfill: the plan's buckets and time range go here */
} qdest;

static int run_query(qscope *sc, qctx *parent, const qstmt *st, qdest *d);
static int gapfill_inspect(gapfill *gf, qctx *q, const qplan *plan);

static int top_ready(qdest *d, qctx *q, const qplan *plan, qfmt *f) {
    query__fmt_init(f, d->fmt, d->out, d->max_result_bytes, plan->cols, plan->n_cols, &q->arena);
    return SILT_OK;
}

static int mat_sink(void *arg, const query_vec *const *vecs, const uint32_t *sel, size_t n,
                    silt_err *err) {
    qdest *d = arg;
    return mat_append(d->sc, d->mat, d->arm_types, vecs, sel, n, err);
}

/* The plan of a materialized query (or of the next UNION ALL arm) is known: create the qmat,
 * or check the arm against it and widen its columns. */
static int mat_ready(qdest *d, qctx *q, const qplan *plan, qfmt *f) {
    if (d->gf) {
        int rc = gapfill_inspect(d->gf, q, plan);
        if (rc < 0) return rc;
    }
    query__fmt_init(f, QUERY_FMT_JSON, NULL, 0, plan->cols, plan->n_cols, &q->arena);
    f->sink = mat_sink;
    f->sink_arg = d;
    d->arm_types = arena_alloc(&q->arena, (plan->n_cols ? plan->n_cols : 1) * sizeof(qtype));
    for (size_t c = 0; c < plan->n_cols; c++) d->arm_types[c] = plan->cols[c].type;
    if (!d->mat) {
        d->mat = mat_new(d->name, plan->cols, plan->n_cols);
        return SILT_OK;
    }
    qmat *m = d->mat;
    if (plan->n_cols != m->n_cols)
        return SILT_FAIL(q->err, SILT_EINVAL,
                         "UNION ALL arms must have the same number of columns: the first has "
                         "%zu, arm %zu has %zu",
                         m->n_cols, d->arm + 1, plan->n_cols);
    for (size_t c = 0; c < m->n_cols; c++) {
        qtype a = m->types[c], b = plan->cols[c].type;
        m->json[c] = m->json[c] && plan->cols[c].json;
        if (m->src_kind[c] != plan->cols[c].src_kind) m->src_kind[c] = 0;
        if (a == b) continue;
        if (is_numeric(a) && is_numeric(b)) {
            if (a != QT_FLOAT) mat_widen_to_float(m, c);
            m->src_kind[c] = 0; /* no longer the stored column's type */
            continue;
        }
        return SILT_FAIL(q->err, SILT_EINVAL,
                         "UNION ALL column %zu ('%.*s') is %s in the first arm but %s in arm %zu; "
                         "CAST one of them",
                         c + 1, PNAME(m->tbl.cols[c].name), query__type_name(a),
                         query__type_name(b), d->arm + 1);
    }
    return SILT_OK;
}

static void child_init(qctx *c, const qctx *parent, const query_source *src) {
    memset(c, 0, sizeof *c);
    c->src = src;
    c->db = parent->db;
    c->sql = parent->sql;
    c->sql_len = parent->sql_len;
    c->now_ns = parent->now_ns;
    c->max_memory_bytes = parent->max_memory_bytes;
    c->deadline_ns = parent->deadline_ns;
    c->interrupt = parent->interrupt;
    c->interrupt_arg = parent->interrupt_arg;
    c->err = parent->err;
    arena_init(&c->arena, 16 * 1024);
}

static void child_fini(qctx *c) {
    for (size_t i = 0; i < c->n_to_free; i++) query__expr_free(c->to_free[i]);
    if (c->have_tbl) c->src->table_release(c->src, &c->tbl);
    arena_fini(&c->arena);
}

/* A column that only passes on a materialized selector object ({"value":..,"time":..}) is
 * written as that object again, not as a string: mark it json in the projection (which the
 * nodes above share). Aggregating plans are left alone. */
static void keep_json(const qctx *q, const qplan *root) {
    if (q->src->scan != scope_scan) return; /* no materialized tables in scope */
    const qscope *sc = q->src->ctx;
    const qplan *pr = NULL, *leaf = root;
    for (; leaf->input; leaf = leaf->input) {
        if (leaf->kind == QPL_AGGREGATE) return;
        if (leaf->kind == QPL_PROJECT && !pr) pr = leaf;
    }
    if (!pr || leaf->kind != QPL_SCAN || !is_mat(sc, leaf->u.scan.tbl)) return;
    const qmat *m = leaf->u.scan.tbl->owner_data;
    for (size_t c = 0; c < pr->n_cols + pr->n_hidden; c++) {
        const qbx *x = pr->cols[c].expr;
        if (!x || x->kind != QB_COL || x->col >= leaf->u.scan.n_cols) continue;
        size_t ci = leaf->u.scan.col_idx[x->col];
        if (ci < m->n_cols && m->json[ci]) pr->cols[c].json = true;
    }
}

/* Plan and execute one SELECT (or SHOW) over q's source, rows to d. */
static int plan_exec(qctx *q, const qstmt *st, qdest *d) {
    if (st->kind == QS_SELECT) {
        int rc = check_stmt_quals(q, st, st->alias ? st->alias : st->table);
        if (rc < 0) return rc;
    }
    qplan *plan;
    int rc = query__plan(q, st, &plan);
    if (rc < 0) return rc;
    keep_json(q, plan);
    qfmt f = {0};
    rc = d->ready(d, q, plan, &f);
    if (rc == SILT_OK) rc = query__exec(q, plan, &f);
    query__fmt_fini(&f);
    return rc;
}

/* Run st (SELECT or UNION ALL) and materialize its rows as a table called name into *out
 * (not yet visible). gf: NULL, or where a date_bin_gapfill query reports its plan. */
static int materialize_to(qscope *sc, qctx *parent, const qstmt *st, const char *name, gapfill *gf,
                          qmat **out) {
    qdest d = {.ready = mat_ready, .sc = sc, .name = name, .gf = gf};
    int rc = SILT_OK;
    *out = NULL;
    if (st->kind == QS_UNION && !st->n_ctes && !st->n_order && st->limit < 0 && !st->offset) {
        /* a bare UNION ALL: its arms append to one table */
        for (size_t i = 0; i < st->n_arms && rc == SILT_OK; i++) {
            d.arm = i;
            rc = run_query(sc, parent, st->arms[i], &d);
        }
    } else {
        rc = run_query(sc, parent, st, &d);
    }
    if (rc < 0) {
        mat_free(sc, d.mat);
        return rc;
    }
    *out = d.mat;
    return SILT_OK;
}

static void scope_push(qscope *sc, qmat *m) {
    m->next = sc->top;
    sc->top = m;
}

/* Materialize st as a table called name, visible (innermost) in sc. */
static int materialize(qscope *sc, qctx *parent, const qstmt *st, const char *name) {
    qmat *m;
    int rc = materialize_to(sc, parent, st, name, NULL, &m);
    if (rc < 0) return rc;
    scope_push(sc, m);
    return SILT_OK;
}

/* Drop the scope entries pushed since `mark`. */
static void scope_pop(qscope *sc, qmat *mark) {
    while (sc->top && sc->top != mark) {
        qmat *m = sc->top;
        sc->top = m->next;
        mat_free(sc, m);
    }
}

/* ------------------------------------------------------------------ date_bin_gapfill */

/* SELECT date_bin_gapfill(stride, time[, origin]) AS t, key.., locf(agg) | interpolate(agg)
 * | agg .. FROM .. WHERE time >= lo AND time < hi GROUP BY t, key.. [ORDER BY ..] [LIMIT ..]
 *
 * runs as InfluxDB 3 documents it, in three steps:
 *   1. the statement with date_bin for date_bin_gapfill, the bare aggregates for locf() and
 *      interpolate(), every GROUP BY key as an extra hidden column, and without ORDER BY /
 *      LIMIT / OFFSET, is materialized (M). Its plan gives the stride, the origin and the
 *      time range the WHERE clause bounds (both bounds are required);
 *   2. M's rows are sorted by group (the non-aggregate columns) and time; each group gets
 *      one row per bucket from date_bin(lo) to date_bin(hi): its row, or a new row with
 *      the group's values and NULL aggregates. Then locf() carries the last non-NULL value
 *      of a group forward, interpolate() fills NULLs between two non-NULL values linearly
 *      in time (integers: truncated toward zero);
 *   3. the visible columns of that table (G) are selected with the statement's ORDER BY /
 *      LIMIT / OFFSET; without ORDER BY rows come by group, then time. */

struct gapfill {
    size_t key_idx; /* GROUP BY position of date_bin_gapfill */
    uint32_t pos;   /* of the date_bin_gapfill call */
    int64_t stride, origin, t_min, t_max;
};

enum { GF_KEY = 0, GF_TIME, GF_VALUE, GF_LOCF, GF_INTERPOLATE };

static bool is_call(const qexpr *e, const char *name) {
    return e && e->kind == QX_FUNC && strcmp(e->u.func.name, name) == 0;
}

/* The first call of any of names[0..3) in e, or NULL. Bounded recursion (invariant 1). */
static const qexpr *find_call(const qexpr *e, const char *const *names) {
    if (!e) return NULL;
    const qexpr *r = NULL;
    switch (e->kind) {
        case QX_FUNC:
            for (size_t i = 0; i < 3; i++)
                if (names[i] && strcmp(e->u.func.name, names[i]) == 0) return e;
            for (size_t i = 0; i < e->u.func.n && !r; i++) r = find_call(e->u.func.args[i], names);
            return r ? r : find_call(e->u.func.order, names);
        case QX_CMP:
        case QX_ARITH:
            r = find_call(e->u.bin.l, names);
            return r ? r : find_call(e->u.bin.r, names);
        case QX_NEG:
        case QX_NOT:
        case QX_IS_NULL:
            return find_call(e->u.un.arg, names);
        case QX_AND:
        case QX_OR:
        case QX_IN:
        case QX_BETWEEN:
        case QX_LIKE:
            for (size_t i = 0; i < e->u.list.n && !r; i++) r = find_call(e->u.list.args[i], names);
            return r;
        case QX_CASE:
            r = find_call(e->u.cs.operand, names);
            for (size_t i = 0; i < e->u.cs.n && !r; i++) {
                r = find_call(e->u.cs.whens[i], names);
                if (!r) r = find_call(e->u.cs.thens[i], names);
            }
            return r ? r : find_call(e->u.cs.els, names);
        case QX_CAST:
            return find_call(e->u.cast.arg, names);
        default:
            return NULL;
    }
}

static const char *const gf_names[3] = {"date_bin_gapfill", "locf", "interpolate"};

/* Does the statement use date_bin_gapfill, locf or interpolate (so it needs run_gapfill)? */
static bool gapfill_used(const qstmt *st) {
    if (st->kind != QS_SELECT) return false;
    for (size_t i = 0; i < st->n_items; i++)
        if (find_call(st->items[i].expr, gf_names)) return true;
    for (size_t i = 0; i < st->n_group; i++)
        if (find_call(st->group[i], gf_names)) return true;
    return false;
}

static int gf_fail(qctx *q, uint32_t pos, const char *msg) {
    uint32_t line, col;
    text_line_col(q->sql, pos, &line, &col);
    return SILT_FAIL(q->err, SILT_EINVAL, "%s at line %u, column %u", msg, line, col);
}

/* A GROUP BY key as the planner resolves it: an ordinal or a select alias is the item (an
 * alias of an aggregate is left alone: the planner rejects it). */
static const qexpr *gf_resolve(const qstmt *st, const qexpr *g) {
    if (g->kind == QX_LITERAL && g->u.lit.type == QT_INT && g->u.lit.v.i >= 1 &&
        (uint64_t)g->u.lit.v.i <= st->n_items)
        return st->items[g->u.lit.v.i - 1].expr;
    if (g->kind == QX_COLUMN && !g->u.col.qual)
        for (size_t i = 0; i < st->n_items; i++)
            if (st->items[i].alias && strcmp(st->items[i].alias, g->u.col.name) == 0 &&
                !query__has_agg(st->items[i].expr))
                return st->items[i].expr;
    return g;
}

/* date_bin_gapfill(...) -> date_bin(...) (a copy; the statement's AST is not changed). */
static qexpr *gf_as_date_bin(qctx *q, const qexpr *e) {
    qexpr *c = arena_alloc(&q->arena, sizeof *c);
    *c = *e;
    c->u.func.name = "date_bin";
    return c;
}

/* Step 1's plan: the stride and origin of the date_bin key, and the scan's time range. */
static int gapfill_inspect(gapfill *gf, qctx *q, const qplan *plan) {
    const qplan *agg = plan, *leaf = plan;
    while (agg && agg->kind != QPL_AGGREGATE) agg = agg->input;
    while (leaf->input) leaf = leaf->input;
    if (!agg || gf->key_idx >= agg->u.agg.n_keys || leaf->kind != QPL_SCAN)
        return gf_fail(q, gf->pos, "date_bin_gapfill() needs an aggregate query over a table");
    const qbx *k = agg->u.agg.keys[gf->key_idx];
    if (k->kind != QB_FUNC || k->op != QF_DATE_BIN || k->n_args != 3 ||
        k->args[0]->kind != QB_CONST || k->args[2]->kind != QB_CONST ||
        k->args[0]->c.type == QT_NULL || k->args[2]->c.type == QT_NULL)
        return gf_fail(q, gf->pos, "date_bin_gapfill() needs a constant interval and origin");
    gf->stride = k->args[0]->c.v.i;
    gf->origin = k->args[2]->c.v.i;
    gf->t_min = leaf->u.scan.t_min;
    gf->t_max = leaf->u.scan.t_max;
    bool lo = gf->t_min != INT64_MIN, hi = gf->t_max != INT64_MAX;
    if (!lo || !hi)
        return gf_fail(q, gf->pos,
                       !lo && !hi ? "date_bin_gapfill() needs lower and upper time bounds in "
                                    "WHERE (such as time >= '...' AND time < '...')"
                       : !lo      ? "date_bin_gapfill() needs a lower time bound in WHERE "
                                    "(such as time >= '...')"
                                  : "date_bin_gapfill() needs an upper time bound in WHERE "
                                    "(such as time < '...')");
    return SILT_OK;
}

/* Sort context for M's rows: group columns in order, then time. */
typedef struct gf_sort {
    const qmat *m;
    const uint8_t *role;
    size_t tcol;
} gf_sort;

static int gf_cmp_col(const qmat *m, size_t c, size_t a, size_t b) {
    bool va = m->valid[c][a], vb = m->valid[c][b];
    if (!va || !vb) return va == vb ? 0 : va ? -1 : 1; /* NULLs last */
    switch (m->types[c]) {
        case QT_BOOL:
            return (int)m->b[c][a] - (int)m->b[c][b];
        case QT_STRING: {
            str_view x = m->s[c][a], y = m->s[c][b];
            size_t n = x.n < y.n ? x.n : y.n;
            int r = n ? memcmp(x.p, y.p, n) : 0;
            return r ? r : (x.n > y.n) - (x.n < y.n);
        }
        case QT_UINT:
            return (m->w[c][a] > m->w[c][b]) - (m->w[c][a] < m->w[c][b]);
        case QT_FLOAT: {
            double x, y;
            memcpy(&x, &m->w[c][a], sizeof x);
            memcpy(&y, &m->w[c][b], sizeof y);
            if (x != x || y != y) return (x != x) - (y != y); /* NaN after numbers */
            return (x > y) - (x < y);
        }
        default: {
            int64_t x = (int64_t)m->w[c][a], y = (int64_t)m->w[c][b];
            return (x > y) - (x < y);
        }
    }
}

static int gf_cmp_rows(const void *pa, const void *pb, void *arg) {
    const gf_sort *g = arg;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    for (size_t c = 0; c < g->m->n_cols; c++) {
        if (g->role[c] != GF_KEY) continue;
        int r = gf_cmp_col(g->m, c, a, b);
        if (r) return r;
    }
    return gf_cmp_col(g->m, g->tcol, a, b);
}

static bool gf_same_group(const gf_sort *g, size_t a, size_t b) {
    for (size_t c = 0; c < g->m->n_cols; c++)
        if (g->role[c] == GF_KEY && gf_cmp_col(g->m, c, a, b) != 0) return false;
    return true;
}

/* Append row r of m to g (same columns). String views keep pointing into m's arena: m
 * stays in the scope as long as g does. */
static int gf_push_row(qscope *sc, qmat *g, const qmat *m, size_t r, silt_err *err) {
    int rc = mat_reserve(sc, g, 1, err);
    if (rc < 0) return rc;
    size_t i = g->n_rows;
    for (size_t c = 0; c < m->n_cols; c++) {
        g->valid[c][i] = m->valid[c][r];
        if (!m->valid[c][r]) g->has_null[c] = true;
        if (m->types[c] == QT_BOOL)
            g->b[c][i] = m->b[c][r];
        else if (m->types[c] == QT_STRING)
            g->s[c][i] = m->s[c][r];
        else
            g->w[c][i] = m->w[c][r];
    }
    g->n_rows++;
    return SILT_OK;
}

static void gf_copy_value(qmat *g, size_t c, size_t to, size_t from) {
    if (g->types[c] == QT_BOOL)
        g->b[c][to] = g->b[c][from];
    else if (g->types[c] == QT_STRING)
        g->s[c][to] = g->s[c][from];
    else
        g->w[c][to] = g->w[c][from];
    g->valid[c][to] = 1;
}

/* interpolate(): rows (from, to) of column c lie between two non-NULL rows from and to.
 * Integers: v0 + (v1 - v0) * (t - t0) / (t1 - t0) exactly in 128 bits, truncated toward zero
 * (in long double if the product would not fit). */
static void gf_interpolate(qmat *g, size_t c, size_t tcol, size_t from, size_t to) {
    __int128 t0 = (int64_t)g->w[tcol][from], t1 = (int64_t)g->w[tcol][to];
    for (size_t r = from + 1; r < to; r++) {
        __int128 dt = (__int128)(int64_t)g->w[tcol][r] - t0;
        if (g->types[c] == QT_FLOAT) {
            double v0, v1;
            memcpy(&v0, &g->w[c][from], sizeof v0);
            memcpy(&v1, &g->w[c][to], sizeof v1);
            double v = v0 + (v1 - v0) * ((double)dt / (double)(t1 - t0));
            memcpy(&g->w[c][r], &v, sizeof v);
        } else {
            bool u = g->types[c] == QT_UINT;
            __int128 v0 = u ? (__int128)g->w[c][from] : (__int128)(int64_t)g->w[c][from];
            __int128 v1 = u ? (__int128)g->w[c][to] : (__int128)(int64_t)g->w[c][to];
            __int128 prod, v;
            if (!__builtin_mul_overflow(v1 - v0, dt, &prod))
                v = v0 + prod / (t1 - t0);
            else
                v = v0 +
                    (__int128)((long double)(v1 - v0) * ((long double)dt / (long double)(t1 - t0)));
            g->w[c][r] = (uint64_t)v; /* between v0 and v1: fits the column's type */
        }
        g->valid[c][r] = 1;
    }
}

static int64_t gf_bin(const gapfill *gf, int64_t t) {
    __int128 d = (__int128)t - gf->origin;
    __int128 q = d / gf->stride;
    if (d % gf->stride < 0) q--;
    __int128 b = (__int128)gf->origin + q * gf->stride;
    return b < INT64_MIN ? INT64_MIN : b > INT64_MAX ? INT64_MAX : (int64_t)b;
}

/* Step 2: G from M (roles per column). */
static int gf_fill(qscope *sc, qctx *q, const gapfill *gf, const qmat *m, const uint8_t *role,
                   size_t tcol, qmat *g) {
    int rc = SILT_OK;
    size_t n = m->n_rows;
    if (n == 0 || gf->t_min > gf->t_max) return SILT_OK;
    size_t *idx = xmalloc(n * sizeof *idx);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    gf_sort gs = {.m = m, .role = role, .tcol = tcol};
    qsort_r(idx, n, sizeof *idx, gf_cmp_rows, &gs);
    int64_t first = gf_bin(gf, gf->t_min), last = gf_bin(gf, gf->t_max);
    for (size_t s = 0; s < n && rc == SILT_OK;) {
        size_t e = s + 1;
        while (e < n && gf_same_group(&gs, idx[s], idx[e])) e++;
        size_t g0 = g->n_rows, j = s;
        for (int64_t b = first;; b += gf->stride) {
            while (j < e && (int64_t)m->w[tcol][idx[j]] < b) j++;
            if (j < e && (int64_t)m->w[tcol][idx[j]] == b) {
                rc = gf_push_row(sc, g, m, idx[j++], q->err);
            } else {
                rc = gf_push_row(sc, g, m, idx[s], q->err);
                if (rc == SILT_OK) {
                    size_t r = g->n_rows - 1;
                    g->w[tcol][r] = (uint64_t)b;
                    g->valid[tcol][r] = 1;
                    for (size_t c = 0; c < g->n_cols; c++) {
                        if (role[c] < GF_VALUE) continue;
                        g->valid[c][r] = 0;
                        g->has_null[c] = true;
                    }
                }
            }
            if (rc < 0 || (uint64_t)last - (uint64_t)b < (uint64_t)gf->stride) break;
        }
        for (size_t c = 0; c < g->n_cols && rc == SILT_OK; c++) {
            size_t prev = SIZE_MAX;
            for (size_t r = g0; r < g->n_rows; r++) {
                if (!g->valid[c][r]) {
                    if (role[c] == GF_LOCF && prev != SIZE_MAX) gf_copy_value(g, c, r, prev);
                    continue;
                }
                if (role[c] == GF_INTERPOLATE && prev != SIZE_MAX && r - prev > 1)
                    gf_interpolate(g, c, tcol, prev, r);
                prev = r;
            }
        }
        s = e;
    }
    free(idx);
    return rc;
}

/* Run a SELECT that uses date_bin_gapfill (see the section comment), rows to d. */
static int run_gapfill(qscope *sc, qctx *q, const qstmt *st, qdest *d) {
    gapfill gf = {.key_idx = SIZE_MAX};
    const qexpr *gkey = NULL;
    qexpr **group = arena_alloc(&q->arena, (st->n_group ? st->n_group : 1) * sizeof *group);
    for (size_t i = 0; i < st->n_group; i++) {
        const qexpr *r = gf_resolve(st, st->group[i]);
        group[i] = (qexpr *)r; /* the hidden key columns below are the same expressions */
        if (!is_call(r, "date_bin_gapfill")) continue;
        if (gkey) return gf_fail(q, r->pos, "only one date_bin_gapfill() per query");
        gkey = r;
        gf.key_idx = i;
        gf.pos = r->pos;
        group[i] = gf_as_date_bin(q, r);
    }
    for (size_t i = 0; i < st->n_group; i++) {
        const qexpr *bad = find_call(i == gf.key_idx ? NULL : st->group[i], gf_names);
        if (bad) return gf_fail(q, bad->pos, "date_bin_gapfill() must be a GROUP BY key by itself");
    }
    size_t n_vis = st->n_items, n_items = 0;
    qselect_item *items = arena_alloc(&q->arena, (n_vis + st->n_group + 1) * sizeof *items);
    uint8_t *role = arena_alloc(&q->arena, n_vis + st->n_group + 1);
    size_t tcol = SIZE_MAX;
    for (size_t i = 0; i < n_vis; i++) {
        const qexpr *e = st->items[i].expr;
        role[i] = GF_KEY;
        if (is_call(e, "locf") || is_call(e, "interpolate")) {
            bool locf = is_call(e, "locf");
            if (!gkey)
                return gf_fail(q, e->pos,
                               locf ? "locf() needs GROUP BY date_bin_gapfill(...)"
                                    : "interpolate() needs GROUP BY date_bin_gapfill(...)");
            if (e->u.func.n != 1 || e->u.func.distinct || e->u.func.order ||
                !query__has_agg(e->u.func.args[0]))
                return gf_fail(q, e->pos,
                               locf ? "locf() takes one aggregate, such as locf(avg(x))"
                                    : "interpolate() takes one aggregate, such as "
                                      "interpolate(avg(x))");
            role[i] = locf ? GF_LOCF : GF_INTERPOLATE;
            e = e->u.func.args[0];
        } else if (is_call(e, "date_bin_gapfill")) {
            if (!gkey) return gf_fail(q, e->pos, "date_bin_gapfill() must be a GROUP BY key");
            if (!query__ast_equal(e, gkey))
                return gf_fail(q, e->pos,
                               "date_bin_gapfill() in the select list must be the "
                               "GROUP BY key");
            role[i] = GF_TIME;
            tcol = i;
            e = gf_as_date_bin(q, e);
        } else if (query__has_agg(e)) {
            role[i] = GF_VALUE;
        }
        const qexpr *bad = find_call(e, gf_names);
        if (bad)
            return gf_fail(q, bad->pos,
                           !gkey ? "date_bin_gapfill() must be a GROUP BY key"
                                 : "date_bin_gapfill(), locf() and interpolate() must be the "
                                   "outermost function of a select item");
        items[n_items++] = (qselect_item){.expr = (qexpr *)e, .alias = st->items[i].alias};
    }
    if (!gkey) return gf_fail(q, st->table_pos, "date_bin_gapfill() must be a GROUP BY key");
    const qexpr *bad = find_call(st->where, gf_names);
    if (!bad) bad = find_call(st->having, gf_names);
    for (size_t i = 0; i < st->n_order && !bad; i++) bad = find_call(st->order[i].expr, gf_names);
    if (bad)
        return gf_fail(q, bad->pos,
                       "date_bin_gapfill(), locf() and interpolate() are allowed "
                       "only in the select list and GROUP BY");
    if (tcol == SIZE_MAX) { /* the bucket, hidden */
        role[n_items] = GF_TIME;
        tcol = n_items;
        items[n_items++] = (qselect_item){.expr = group[gf.key_idx], .alias = "#gapfill_time"};
    }
    for (size_t i = 0; i < st->n_group; i++) { /* every other key, hidden: the group */
        if (i == gf.key_idx) continue;
        char *alias = arena_alloc(&q->arena, 40);
        snprintf(alias, 40, "#gapfill_key_%zu", i + 1);
        role[n_items] = GF_KEY;
        items[n_items++] =
            (qselect_item){.expr = (qexpr *)gf_resolve(st, st->group[i]), .alias = alias};
    }
    qstmt inner = *st;
    inner.items = items;
    inner.n_items = n_items;
    inner.group = group;
    inner.order = NULL;
    inner.n_order = 0;
    inner.limit = -1;
    inner.offset = 0;
    inner.n_ctes = 0;
    inner.from_sub = NULL;

    qmat *m, *g;
    int rc = materialize_to(sc, q, &inner, "#gapfill_in", &gf, &m);
    if (rc < 0) return rc;
    scope_push(sc, m);
    for (size_t c = 0; c < n_vis; c++) {
        if (role[c] == GF_INTERPOLATE && !is_numeric(m->types[c]))
            return gf_fail(q, st->items[c].expr->pos,
                           "interpolate() needs a numeric aggregate; use locf() for other types");
        /* unaliased: date_bin_gapfill(...) keeps its name; a filled aggregate is named after
         * the aggregate, as InfluxDB 3 shows it (avg(home.temp), not locf(...)) */
        const char *name = m->tbl.cols[c].name;
        if (st->items[c].alias || role[c] != GF_TIME || strncmp(name, "date_bin(", 9) != 0)
            continue;
        size_t len = strlen(name) + 16;
        char *nn = arena_alloc(&m->strs, len);
        snprintf(nn, len, "date_bin_gapfill%s", name + 8);
        m->tbl.cols[c].name = nn;
    }
    qout_col *cols = arena_alloc(&q->arena, m->n_cols * sizeof *cols);
    for (size_t c = 0; c < m->n_cols; c++)
        cols[c] = (qout_col){.name = m->tbl.cols[c].name,
                             .type = m->types[c],
                             .json = m->json[c],
                             .src_kind = m->src_kind[c]};
    g = mat_new("#gapfill", cols, m->n_cols);
    scope_push(sc, g);
    rc = gf_fill(sc, q, &gf, m, role, tcol, g);
    if (rc < 0) return rc;

    /* step 3: the visible columns, ordered and limited as the statement says */
    qstmt outer = {.kind = QS_SELECT, .table = "#gapfill", .table_pos = st->table_pos};
    qselect_item *vis = arena_alloc(&q->arena, n_vis * sizeof *vis);
    for (size_t c = 0; c < n_vis; c++) {
        qexpr *e = arena_alloc(&q->arena, sizeof *e);
        memset(e, 0, sizeof *e);
        e->kind = QX_COLUMN;
        e->pos = st->items[c].expr->pos;
        e->u.col.name = g->tbl.cols[c].name;
        vis[c] = (qselect_item){.expr = e, .alias = NULL};
    }
    outer.items = vis;
    outer.n_items = n_vis;
    outer.order = st->order;
    outer.n_order = st->n_order;
    outer.limit = st->limit;
    outer.offset = st->offset;
    qctx c;
    child_init(&c, q, &sc->src);
    rc = plan_exec(&c, &outer, d);
    child_fini(&c);
    return rc;
}

/* One query level: its CTEs, its FROM subquery or UNION ALL arms (materialized), then the
 * level itself against the scope. */
static int run_query(qscope *sc, qctx *parent, const qstmt *st, qdest *d) {
    qmat *mark = sc->top;
    int rc = SILT_OK;
    for (size_t i = 0; i < st->n_ctes && rc == SILT_OK; i++)
        rc = materialize(sc, parent, st->ctes[i].query, st->ctes[i].name);
    qstmt outer;
    const qstmt *run = st;
    if (rc == SILT_OK && st->kind == QS_UNION) {
        /* SELECT * FROM (arms) ORDER BY .. LIMIT .. OFFSET .. */
        qstmt body = *st;
        body.n_ctes = 0;
        body.n_order = 0;
        body.limit = -1;
        body.offset = 0;
        rc = materialize(sc, parent, &body, "union");
        memset(&outer, 0, sizeof outer);
        outer.kind = QS_SELECT;
        outer.table = "union";
        outer.table_pos = st->table_pos;
        qselect_item *star = arena_alloc(&parent->arena, sizeof *star);
        qexpr *e = arena_alloc(&parent->arena, sizeof *e);
        memset(e, 0, sizeof *e);
        e->kind = QX_STAR;
        e->pos = st->table_pos;
        star->expr = e;
        star->alias = NULL;
        outer.items = star;
        outer.n_items = 1;
        outer.order = st->order;
        outer.n_order = st->n_order;
        outer.limit = st->limit;
        outer.offset = st->offset;
        run = &outer;
    } else if (rc == SILT_OK && st->from_sub) {
        const char *name = st->alias ? st->alias : "subquery";
        rc = materialize(sc, parent, st->from_sub, name);
        outer = *st;
        outer.from_sub = NULL;
        outer.n_ctes = 0;
        outer.table = name;
        run = &outer;
    }
    if (rc == SILT_OK && gapfill_used(run)) {
        rc = run_gapfill(sc, parent, run, d);
    } else if (rc == SILT_OK) {
        qctx c;
        child_init(&c, parent, &sc->src);
        rc = plan_exec(&c, run, d);
        child_fini(&c);
    }
    scope_pop(sc, mark);
    return rc;
}

int query__run(qctx *q, const qstmt *st, query_format fmt, buf *out, size_t max_result_bytes) {
    qdest d = {.ready = top_ready, .fmt = fmt, .out = out, .max_result_bytes = max_result_bytes};
    if (st->kind != QS_UNION && !st->n_ctes && !st->from_sub && !gapfill_used(st))
        return plan_exec(q, st, &d);
    qscope sc = {.base = q->src, .max_bytes = q->max_memory_bytes};
    sc.src = (query_source){
        .ctx = &sc,
        .db_exists = scope_db_exists,
        .list_tables = scope_list_tables,
        .table_schema = scope_table_schema,
        .table_release = scope_table_release,
        .scan = scope_scan,
        .list_dbs = scope_list_dbs,
        .list_files = scope_list_files,
    };
    d.sc = &sc;
    int rc = run_query(&sc, q, st, &d);
    assert(sc.top == NULL && sc.mem_bytes == 0);
    return rc;
}
