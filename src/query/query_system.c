/* SPDX-License-Identifier: MIT
 *
 * System tables, as InfluxDB 3 (DataFusion's information schema plus its own `system`
 * schema) presents them. Catalog `public`; silt's tables are in schema `iox`:
 *
 *   information_schema.tables    table_catalog, table_schema, table_name, table_type
 *                                (iox and system tables 'BASE TABLE', information_schema
 *                                ones 'VIEW'; iox tables by name, then system, then
 *                                information_schema, as DataFusion lists them)
 *   information_schema.columns   table_catalog, table_schema, table_name, column_name,
 *                                ordinal_position (UInt64, 0-based like DataFusion),
 *                                column_default (always NULL), is_nullable ('YES'/'NO'),
 *                                data_type (the Arrow type name: Timestamp(Nanosecond, None),
 *                                Dictionary(Int32, Utf8) for tags, Float64, Int64, UInt64,
 *                                Utf8, Boolean); the columns of iox and system tables
 *   system.parquet_files         table_name, path (object key), size_bytes, row_count,
 *                                min_time, max_time (Int64 ns, as InfluxDB 3), created_at,
 *                                to_delete_at (timestamps; to_delete_at NULL while live):
 *                                every file the catalog lists until it is collected
 *
 * A table is built in full, in the query arena, when a statement names it (they are small:
 * one row per table, column or file), and the planner reads it through a Values leaf.
 */
#include "query_int.h"

#include <stdlib.h>

typedef struct sys_col {
    const char *name;
    query_col_kind kind;
    lp_type type; /* QCOL_FIELD only */
    bool nullable;
} sys_col;

#define S_STR(n)                                                                                   \
    { n, QCOL_FIELD, LP_STRING, false }
#define S_U64(n)                                                                                   \
    { n, QCOL_FIELD, LP_UINT, false }
#define S_I64(n)                                                                                   \
    { n, QCOL_FIELD, LP_INT, false }
#define S_TIME(n)                                                                                  \
    { n, QCOL_TIME, LP_INT, false }

static const sys_col tables_cols[] = {S_STR("table_catalog"), S_STR("table_schema"),
                                      S_STR("table_name"), S_STR("table_type")};

static const sys_col columns_cols[] = {
    S_STR("table_catalog"),    S_STR("table_schema"),
    S_STR("table_name"),       S_STR("column_name"),
    S_U64("ordinal_position"), {"column_default", QCOL_FIELD, LP_STRING, true},
    S_STR("is_nullable"),      S_STR("data_type"),
};

static const sys_col parquet_files_cols[] = {
    S_STR("table_name"),  S_STR("path"),
    S_U64("size_bytes"),  S_U64("row_count"),
    S_I64("min_time"),    S_I64("max_time"),
    S_TIME("created_at"), {"to_delete_at", QCOL_TIME, LP_INT, true},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

typedef struct sys_def {
    const char *schema, *name, *type;
    const sys_col *cols;
    size_t n_cols;
} sys_def;

#define SYS_MAX_COLS 16 /* the widest system table's columns, for stack arrays */
_Static_assert(N_OF(parquet_files_cols) <= SYS_MAX_COLS && N_OF(columns_cols) <= SYS_MAX_COLS,
               "SYS_MAX_COLS too small");

/* In the order information_schema.tables lists them. */
static const sys_def sys_tables[] = {
    {"system", "parquet_files", "BASE TABLE", parquet_files_cols, N_OF(parquet_files_cols)},
    {"information_schema", "tables", "VIEW", tables_cols, N_OF(tables_cols)},
    {"information_schema", "columns", "VIEW", columns_cols, N_OF(columns_cols)},
};

static const sys_def *find_sys(const char *schema, const char *table) {
    if (!schema) return NULL;
    for (size_t i = 0; i < N_OF(sys_tables); i++)
        if (strcmp(sys_tables[i].schema, schema) == 0 && strcmp(sys_tables[i].name, table) == 0)
            return &sys_tables[i];
    return NULL;
}

void query_files_free(query_file_info *f, size_t n) {
    for (size_t i = 0; i < n && f; i++) {
        free(f[i].table);
        free(f[i].path);
    }
    free(f);
}

/* ------------------------------------------------------------------ building */

/* Columns and empty vectors for n_rows rows. */
static void sys_init(qctx *q, const sys_col *cols, size_t n_cols, size_t n_rows, qsys_table *t) {
    arena *a = &q->arena;
    size_t cap = n_rows ? n_rows : 1;
    t->n_rows = n_rows;
    t->tbl = (query_table){0};
    t->tbl.n_cols = n_cols;
    t->tbl.cols = arena_alloc(a, n_cols * sizeof *t->tbl.cols);
    t->vecs = arena_alloc(a, n_cols * sizeof *t->vecs);
    for (size_t c = 0; c < n_cols; c++) {
        t->tbl.cols[c] = (query_column){cols[c].name, cols[c].kind, cols[c].type};
        query_vec *v = &t->vecs[c];
        memset(v, 0, sizeof *v);
        if (cols[c].kind == QCOL_TIME || cols[c].type == LP_INT)
            v->i64 = arena_alloc(a, cap * sizeof *v->i64);
        else if (cols[c].type == LP_UINT)
            v->u64 = arena_alloc(a, cap * sizeof *v->u64);
        else
            v->str = arena_alloc(a, cap * sizeof *v->str);
        if (cols[c].nullable) {
            uint8_t *valid = arena_alloc(a, cap);
            memset(valid, 1, cap);
            v->valid = valid;
        }
    }
}

/* Set a string cell (copied into the arena; NULL for a SQL NULL in a nullable column). */
static void set_str(qctx *q, qsys_table *t, size_t c, size_t row, const char *s) {
    query_vec *v = &t->vecs[c];
    if (!s) {
        ((uint8_t *)v->valid)[row] = 0;
        ((str_view *)v->str)[row] = (str_view){"", 0};
        return;
    }
    size_t n = strlen(s);
    ((str_view *)v->str)[row] = (str_view){arena_strndup(&q->arena, s, n), n};
}

static void set_i64(qsys_table *t, size_t c, size_t row, int64_t x, bool null) {
    query_vec *v = &t->vecs[c];
    ((int64_t *)v->i64)[row] = null ? 0 : x;
    if (null) ((uint8_t *)v->valid)[row] = 0;
}

static void set_u64(qsys_table *t, size_t c, size_t row, uint64_t x) {
    ((uint64_t *)t->vecs[c].u64)[row] = x;
}

/* Arrow type names as InfluxDB 3 shows them in information_schema. */
static const char *arrow_type_name(const query_column *c) {
    if (c->kind == QCOL_TAG) return "Dictionary(Int32, Utf8)";
    if (c->kind == QCOL_TIME) return "Timestamp(Nanosecond, None)";
    switch (c->type) {
        case LP_FLOAT:
            return "Float64";
        case LP_INT:
            return "Int64";
        case LP_UINT:
            return "UInt64";
        case LP_STRING:
            return "Utf8";
        case LP_BOOL:
            return "Boolean";
    }
    return "Null";
}

static int source_fail(qctx *q, int rc, const silt_err *serr) {
    if (q->err) *q->err = *serr;
    return rc;
}

static int list_tables(qctx *q, char ***names, size_t *n) {
    silt_err serr = {0};
    *names = NULL;
    *n = 0;
    int rc = q->src->list_tables(q->src, q->db, names, n, &serr);
    return rc < 0 ? source_fail(q, rc, &serr) : SILT_OK;
}

static void free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

static int build_tables(qctx *q, qsys_table *t) {
    char **names;
    size_t n;
    int rc = list_tables(q, &names, &n);
    if (rc < 0) return rc;
    sys_init(q, tables_cols, N_OF(tables_cols), n + N_OF(sys_tables), t);
    size_t row = 0;
    for (size_t i = 0; i < n; i++, row++) {
        set_str(q, t, 0, row, "public");
        set_str(q, t, 1, row, "iox");
        set_str(q, t, 2, row, names[i]);
        set_str(q, t, 3, row, "BASE TABLE");
    }
    for (size_t i = 0; i < N_OF(sys_tables); i++, row++) {
        set_str(q, t, 0, row, "public");
        set_str(q, t, 1, row, sys_tables[i].schema);
        set_str(q, t, 2, row, sys_tables[i].name);
        set_str(q, t, 3, row, sys_tables[i].type);
    }
    free_names(names, n);
    return SILT_OK;
}

/* Append the column rows of one table, starting at *row. */
static void column_rows(qctx *q, qsys_table *t, size_t *row, const char *schema, const char *table,
                        const query_column *cols, size_t n_cols, const sys_col *sc) {
    for (size_t c = 0; c < n_cols; c++, (*row)++) {
        size_t r = *row;
        bool nullable = sc ? sc[c].nullable : cols[c].kind != QCOL_TIME;
        set_str(q, t, 0, r, "public");
        set_str(q, t, 1, r, schema);
        set_str(q, t, 2, r, table);
        set_str(q, t, 3, r, cols[c].name);
        set_u64(t, 4, r, c);
        set_str(q, t, 5, r, NULL);
        set_str(q, t, 6, r, nullable ? "YES" : "NO");
        set_str(q, t, 7, r, arrow_type_name(&cols[c]));
    }
}

static void sys_def_cols(const sys_def *d, query_column *out) {
    for (size_t c = 0; c < d->n_cols; c++)
        out[c] = (query_column){d->cols[c].name, d->cols[c].kind, d->cols[c].type};
}

static int build_columns(qctx *q, qsys_table *t) {
    char **names;
    size_t n;
    int rc = list_tables(q, &names, &n);
    if (rc < 0) return rc;
    query_table *tbls = xcalloc(n + 1, sizeof *tbls);
    bool *have = xcalloc(n + 1, sizeof *have);
    size_t n_rows = 0;
    for (size_t i = 0; i < n; i++) {
        silt_err serr = {0};
        rc = q->src->table_schema(q->src, q->db, names[i], &tbls[i], &serr);
        if (rc == SILT_ENOTFOUND) continue; /* dropped meanwhile */
        if (rc < 0) {
            rc = source_fail(q, rc, &serr);
            goto done;
        }
        have[i] = true;
        n_rows += tbls[i].n_cols;
    }
    for (size_t i = 0; i < N_OF(sys_tables); i++)
        if (strcmp(sys_tables[i].schema, "system") == 0) n_rows += sys_tables[i].n_cols;
    sys_init(q, columns_cols, N_OF(columns_cols), n_rows, t);
    size_t row = 0;
    for (size_t i = 0; i < n; i++)
        if (have[i]) column_rows(q, t, &row, "iox", names[i], tbls[i].cols, tbls[i].n_cols, NULL);
    for (size_t i = 0; i < N_OF(sys_tables); i++) {
        const sys_def *d = &sys_tables[i];
        if (strcmp(d->schema, "system") != 0) continue;
        query_column cols[SYS_MAX_COLS];
        sys_def_cols(d, cols);
        column_rows(q, t, &row, d->schema, d->name, cols, d->n_cols, d->cols);
    }
    rc = SILT_OK;
done:
    for (size_t i = 0; i < n; i++)
        if (have[i]) q->src->table_release(q->src, &tbls[i]);
    free(have);
    free(tbls);
    free_names(names, n);
    return rc;
}

static int build_parquet_files(qctx *q, qsys_table *t) {
    query_file_info *f = NULL;
    size_t n = 0;
    if (q->src->list_files) {
        silt_err serr = {0};
        int rc = q->src->list_files(q->src, q->db, &f, &n, &serr);
        if (rc < 0) return source_fail(q, rc, &serr);
    }
    sys_init(q, parquet_files_cols, N_OF(parquet_files_cols), n, t);
    for (size_t i = 0; i < n; i++) {
        set_str(q, t, 0, i, f[i].table);
        set_str(q, t, 1, i, f[i].path);
        set_u64(t, 2, i, f[i].size_bytes);
        set_u64(t, 3, i, f[i].row_count);
        set_i64(t, 4, i, f[i].min_time, false);
        set_i64(t, 5, i, f[i].max_time, false);
        set_i64(t, 6, i, f[i].created_at, false);
        set_i64(t, 7, i, f[i].to_delete_at, f[i].to_delete_at == 0);
    }
    query_files_free(f, n);
    return SILT_OK;
}

static int not_found(qctx *q, const char *schema, const char *table) {
    return SILT_FAIL(q->err, SILT_ENOTFOUND, "table '%.200s%s%.200s' not found",
                     schema ? schema : "", schema ? "." : "", table);
}

int query__system_table(qctx *q, const char *schema, const char *table, qsys_table *out) {
    const sys_def *d = find_sys(schema, table);
    if (!d) return not_found(q, schema, table);
    if (d->cols == tables_cols) return build_tables(q, out);
    if (d->cols == columns_cols) return build_columns(q, out);
    return build_parquet_files(q, out);
}

int query__system_columns_of(qctx *q, const char *schema, const char *table, qsys_table *out) {
    size_t row = 0;
    if (!schema || strcmp(schema, "iox") == 0) {
        query_table tb;
        silt_err serr = {0};
        int rc = q->src->table_schema(q->src, q->db, table, &tb, &serr);
        if (rc == SILT_ENOTFOUND) return not_found(q, NULL, table);
        if (rc < 0) return source_fail(q, rc, &serr);
        sys_init(q, columns_cols, N_OF(columns_cols), tb.n_cols, out);
        column_rows(q, out, &row, "iox", table, tb.cols, tb.n_cols, NULL);
        q->src->table_release(q->src, &tb);
        return SILT_OK;
    }
    const sys_def *d = find_sys(schema, table);
    if (!d) return not_found(q, schema, table);
    query_column cols[SYS_MAX_COLS];
    sys_def_cols(d, cols);
    sys_init(q, columns_cols, N_OF(columns_cols), d->n_cols, out);
    column_rows(q, out, &row, d->schema, d->name, cols, d->n_cols, d->cols);
    return SILT_OK;
}
