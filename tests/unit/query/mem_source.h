/* SPDX-License-Identifier: MIT
 *
 * mem_source: an in-memory query_source for the query tests and the sql fuzz target
 * (header-only; every function is static). Tables are built column-first, then row by row:
 *
 *   mem_source ms;
 *   mem_source_init(&ms, 3);                          // 3 rows per batch
 *   mem_table *t = mem_table_add(&ms, "db", "cpu");
 *   mem_col(t, "host", QCOL_TAG, 0);                  // columns are kept sorted by name
 *   mem_col(t, "usage", QCOL_FIELD, LP_FLOAT);
 *   mem_row(t, 1000, "host=a|usage=1.5");             // missing columns are NULL
 *   ... query_sql(&ms.src, ...) ...
 *   mem_source_fini(&ms);
 *
 * Values in mem_row are parsed by the column's type: integers and unsigned in decimal, floats
 * with strtod, booleans true/false, strings as they are (up to the next '|'). The scan copies
 * each batch's strings into a scratch block it frees after the callback returns, so a query
 * that keeps a string view past its batch is caught by ASan. Columns without NULLs in a batch
 * get valid == NULL, so both paths of the executor run. Instrumentation (scans, batches,
 * the last request, STOP) lets tests check pruning and early termination.
 */
#ifndef SILT_TEST_MEM_SOURCE_H
#define SILT_TEST_MEM_SOURCE_H

#include "query/query.h"

#include <stdio.h>
#include <stdlib.h>

#define MEM_MAX_COLS   32
#define MEM_MAX_TABLES 16

typedef struct mem_table {
    char *db, *name;
    size_t n_cols;
    query_column cols[MEM_MAX_COLS];
    size_t n_rows, cap;
    int64_t *i64[MEM_MAX_COLS]; /* time, int */
    uint64_t *u64[MEM_MAX_COLS];
    double *f64[MEM_MAX_COLS];
    uint8_t *b[MEM_MAX_COLS];
    char **str[MEM_MAX_COLS]; /* malloc'd, NUL-terminated */
    uint8_t *valid[MEM_MAX_COLS];
} mem_table;

typedef struct mem_source {
    query_source src;
    mem_table tables[MEM_MAX_TABLES];
    size_t n_tables;
    char *extra_dbs[4]; /* databases without tables */
    size_t n_extra_dbs;
    size_t batch_rows;
    bool honor_time_range; /* skip rows outside [t_min, t_max] (else deliver them all) */
    /* instrumentation (counters are atomic; last_req and saw_stop are not kept when shared) */
    bool shared; /* scanned by several threads at once */
    int n_scans;
    size_t n_batches, n_rows_delivered;
    query_scan_req last_req;
    bool saw_stop;
    int fail_at_batch; /* > 0: the scan fails with SILT_EIO before batch n (1-based) */
    /* system.parquet_files rows (mem_file_add), per database */
    char **file_db;
    query_file_info *files;
    size_t n_files, cap_files;
} mem_source;

static inline mem_table *mem_find(const mem_source *ms, const char *db, const char *table) {
    for (size_t i = 0; i < ms->n_tables; i++)
        if (strcmp(ms->tables[i].db, db) == 0 && strcmp(ms->tables[i].name, table) == 0)
            return (mem_table *)&ms->tables[i];
    return NULL;
}

static inline int mem_db_exists(const query_source *s, const char *db) {
    const mem_source *ms = s->ctx;
    for (size_t i = 0; i < ms->n_tables; i++)
        if (strcmp(ms->tables[i].db, db) == 0) return SILT_OK;
    for (size_t i = 0; i < ms->n_extra_dbs; i++)
        if (strcmp(ms->extra_dbs[i], db) == 0) return SILT_OK;
    return SILT_ENOTFOUND;
}

static inline int mem_strcmp_p(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static inline int mem_list_tables(const query_source *s, const char *db, char ***names, size_t *n,
                                  silt_err *err) {
    const mem_source *ms = s->ctx;
    if (mem_db_exists(s, db) != SILT_OK)
        return SILT_FAIL(err, SILT_ENOTFOUND, "database '%s' not found", db);
    char **v = xcalloc(MEM_MAX_TABLES + 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < ms->n_tables; i++)
        if (strcmp(ms->tables[i].db, db) == 0) v[k++] = xstrdup(ms->tables[i].name);
    qsort(v, k, sizeof *v, mem_strcmp_p);
    *names = v;
    *n = k;
    return SILT_OK;
}

static inline int mem_table_schema(const query_source *s, const char *db, const char *table,
                                   query_table *out, silt_err *err) {
    const mem_table *t = mem_find(s->ctx, db, table);
    if (!t) return SILT_FAIL(err, SILT_ENOTFOUND, "mem: no table %s.%s", db, table);
    out->cols = xmalloc((t->n_cols ? t->n_cols : 1) * sizeof *out->cols);
    memcpy(out->cols, t->cols, t->n_cols * sizeof *out->cols);
    out->n_cols = t->n_cols;
    out->owner_data = NULL;
    return SILT_OK;
}

static inline void mem_table_release(const query_source *s, query_table *t) {
    (void)s;
    free(t->cols);
    t->cols = NULL;
    t->n_cols = 0;
}

static inline int mem_scan(const query_source *s, const query_scan_req *req, query_batch_fn fn,
                           void *arg, silt_err *err) {
    mem_source *ms = s->ctx;
    __atomic_fetch_add(&ms->n_scans, 1, __ATOMIC_RELAXED);
    if (!ms->shared) ms->last_req = *req;
    const mem_table *t = mem_find(ms, req->db, req->table);
    if (!t) return SILT_FAIL(err, SILT_ENOTFOUND, "mem: no table %s", req->table);
    for (size_t c = 0; c < req->n_cols; c++)
        if (req->col_idx[c] >= t->n_cols) return SILT_FAIL(err, SILT_EINVAL, "mem: bad column");
    size_t tcol = SIZE_MAX;
    for (size_t c = 0; c < t->n_cols; c++)
        if (t->cols[c].kind == QCOL_TIME) tcol = c;

    size_t nb = ms->batch_rows ? ms->batch_rows : 1;
    size_t nc = req->n_cols ? req->n_cols : 1;
    query_vec *vecs = xcalloc(nc, sizeof *vecs);
    uint32_t *rows = xmalloc(nb * sizeof *rows);
    int64_t *i64 = xmalloc(nc * nb * sizeof *i64);
    uint64_t *u64 = xmalloc(nc * nb * sizeof *u64);
    double *f64 = xmalloc(nc * nb * sizeof *f64);
    uint8_t *bb = xmalloc(nc * nb);
    str_view *sv = xmalloc(nc * nb * sizeof *sv);
    uint8_t *valid = xmalloc(nc * nb);
    int rc = SILT_OK;
    size_t r = 0;
    int batch_no = 0;
    while (r < t->n_rows) {
        size_t n = 0;
        while (r < t->n_rows && n < nb) {
            bool in = true;
            if (ms->honor_time_range && tcol != SIZE_MAX)
                in = t->i64[tcol][r] >= req->t_min && t->i64[tcol][r] <= req->t_max;
            if (in) rows[n++] = (uint32_t)r;
            r++;
        }
        if (n == 0) continue;
        batch_no++;
        if (ms->fail_at_batch && batch_no == ms->fail_at_batch) {
            rc = SILT_FAIL(err, SILT_EIO, "mem: injected read error in batch %d", batch_no);
            break;
        }
        /* strings of this batch live in one scratch block, freed after the callback */
        size_t str_bytes = 1;
        for (size_t c = 0; c < req->n_cols; c++) {
            size_t ci = req->col_idx[c];
            if (!t->str[ci]) continue;
            for (size_t k = 0; k < n; k++)
                if (t->valid[ci][rows[k]]) str_bytes += strlen(t->str[ci][rows[k]]);
        }
        char *scratch = xmalloc(str_bytes), *sp = scratch;
        for (size_t c = 0; c < req->n_cols; c++) {
            size_t ci = req->col_idx[c];
            query_vec *v = &vecs[c];
            memset(v, 0, sizeof *v);
            bool any_null = false;
            for (size_t k = 0; k < n; k++) {
                size_t row = rows[k];
                uint8_t ok = t->valid[ci][row];
                valid[c * nb + k] = ok;
                any_null |= !ok;
                if (t->i64[ci]) i64[c * nb + k] = ok ? t->i64[ci][row] : (int64_t)0x5a5a5a5a;
                if (t->u64[ci]) u64[c * nb + k] = ok ? t->u64[ci][row] : 0x5a5a5a5a;
                if (t->f64[ci]) f64[c * nb + k] = ok ? t->f64[ci][row] : 1e300;
                if (t->b[ci]) bb[c * nb + k] = ok ? t->b[ci][row] : 1;
                if (t->str[ci]) {
                    if (ok) {
                        size_t len = strlen(t->str[ci][row]);
                        memcpy(sp, t->str[ci][row], len);
                        sv[c * nb + k] = (str_view){sp, len};
                        sp += len;
                    } else {
                        sv[c * nb + k] = (str_view){NULL, 12345}; /* garbage: must not be read */
                    }
                }
            }
            if (t->i64[ci]) v->i64 = &i64[c * nb];
            if (t->u64[ci]) v->u64 = &u64[c * nb];
            if (t->f64[ci]) v->f64 = &f64[c * nb];
            if (t->b[ci]) v->b = &bb[c * nb];
            if (t->str[ci]) v->str = &sv[c * nb];
            v->valid = any_null ? &valid[c * nb] : NULL;
        }
        query_batch batch = {.n_rows = n, .cols = vecs};
        __atomic_fetch_add(&ms->n_batches, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&ms->n_rows_delivered, n, __ATOMIC_RELAXED);
        int frc = fn(arg, &batch);
        free(scratch);
        if (frc < 0) {
            rc = frc;
            break;
        }
        if (frc == QUERY_SCAN_STOP) {
            if (!ms->shared) ms->saw_stop = true;
            break;
        }
    }
    free(vecs);
    free(rows);
    free(i64);
    free(u64);
    free(f64);
    free(bb);
    free(sv);
    free(valid);
    return rc;
}

static inline int mem_list_files(const query_source *s, const char *db, query_file_info **out,
                                 size_t *n, silt_err *err) {
    const mem_source *ms = s->ctx;
    if (mem_db_exists(s, db) != SILT_OK)
        return SILT_FAIL(err, SILT_ENOTFOUND, "database '%s' not found", db);
    query_file_info *v = xcalloc(ms->n_files + 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < ms->n_files; i++) {
        if (strcmp(ms->file_db[i], db) != 0) continue;
        v[k] = ms->files[i];
        v[k].table = xstrdup(ms->files[i].table);
        v[k].path = xstrdup(ms->files[i].path);
        k++;
    }
    *out = v;
    *n = k;
    return SILT_OK;
}

static inline void mem_source_init(mem_source *ms, size_t batch_rows) {
    memset(ms, 0, sizeof *ms);
    ms->batch_rows = batch_rows;
    ms->src.ctx = ms;
    ms->src.db_exists = mem_db_exists;
    ms->src.list_tables = mem_list_tables;
    ms->src.table_schema = mem_table_schema;
    ms->src.table_release = mem_table_release;
    ms->src.scan = mem_scan;
    ms->src.list_files = mem_list_files;
}

/* A file row of db for system.parquet_files (to_delete_at 0: live). */
static inline void mem_file_add(mem_source *ms, const char *db, const char *table, const char *path,
                                uint64_t size, uint64_t rows, int64_t min_time, int64_t max_time,
                                int64_t created_at, int64_t to_delete_at) {
    if (ms->n_files == ms->cap_files) {
        ms->cap_files = ms->cap_files ? ms->cap_files * 2 : 8;
        ms->file_db = xrealloc(ms->file_db, ms->cap_files * sizeof *ms->file_db);
        ms->files = xrealloc(ms->files, ms->cap_files * sizeof *ms->files);
    }
    ms->file_db[ms->n_files] = xstrdup(db);
    ms->files[ms->n_files++] = (query_file_info){
        xstrdup(table), xstrdup(path), size, rows, min_time, max_time, created_at, to_delete_at};
}

static inline void mem_add_db(mem_source *ms, const char *db) {
    assert(ms->n_extra_dbs < 4);
    ms->extra_dbs[ms->n_extra_dbs++] = xstrdup(db);
}

/* A new table with a time column. */
static inline mem_table *mem_table_add(mem_source *ms, const char *db, const char *name) {
    assert(ms->n_tables < MEM_MAX_TABLES);
    mem_table *t = &ms->tables[ms->n_tables++];
    memset(t, 0, sizeof *t);
    t->db = xstrdup(db);
    t->name = xstrdup(name);
    t->cols[0] = (query_column){.name = "time", .kind = QCOL_TIME};
    t->n_cols = 1;
    return t;
}

/* Add a column (before any row), kept in name order. */
static inline void mem_col(mem_table *t, const char *name, query_col_kind kind, lp_type type) {
    assert(t->n_rows == 0 && t->n_cols < MEM_MAX_COLS);
    size_t at = t->n_cols;
    while (at > 0 && strcmp(t->cols[at - 1].name, name) > 0) {
        t->cols[at] = t->cols[at - 1];
        at--;
    }
    t->cols[at] = (query_column){.name = xstrdup(name), .kind = kind, .type = type};
    t->n_cols++;
}

static inline size_t mem_col_index(const mem_table *t, const char *name, size_t len) {
    for (size_t c = 0; c < t->n_cols; c++)
        if (strlen(t->cols[c].name) == len && memcmp(t->cols[c].name, name, len) == 0) return c;
    fprintf(stderr, "mem_row: no column %.*s\n", (int)len, name);
    abort();
}

static inline void mem_grow(mem_table *t) {
    if (t->n_rows < t->cap) return;
    size_t cap = t->cap ? t->cap * 2 : 16;
    for (size_t c = 0; c < t->n_cols; c++) {
        const query_column *col = &t->cols[c];
        t->valid[c] = xrealloc(t->valid[c], cap);
        if (col->kind == QCOL_TIME || (col->kind == QCOL_FIELD && col->type == LP_INT))
            t->i64[c] = xrealloc(t->i64[c], cap * sizeof(int64_t));
        else if (col->kind == QCOL_TAG || col->type == LP_STRING)
            t->str[c] = xrealloc(t->str[c], cap * sizeof(char *));
        else if (col->type == LP_UINT)
            t->u64[c] = xrealloc(t->u64[c], cap * sizeof(uint64_t));
        else if (col->type == LP_FLOAT)
            t->f64[c] = xrealloc(t->f64[c], cap * sizeof(double));
        else if (col->type == LP_BOOL)
            t->b[c] = xrealloc(t->b[c], cap);
    }
    t->cap = cap;
}

/* Add a row: "col=value|col=value"; columns not named are NULL. */
static inline void mem_row(mem_table *t, int64_t time_ns, const char *kv) {
    mem_grow(t);
    size_t r = t->n_rows++;
    for (size_t c = 0; c < t->n_cols; c++) {
        t->valid[c][r] = 0;
        if (t->str[c]) t->str[c][r] = NULL;
        if (t->cols[c].kind == QCOL_TIME) {
            t->valid[c][r] = 1;
            t->i64[c][r] = time_ns;
        }
    }
    const char *p = kv;
    while (p && *p) {
        const char *eq = strchr(p, '=');
        assert(eq);
        const char *end = strchr(eq + 1, '|');
        if (!end) end = eq + 1 + strlen(eq + 1);
        size_t c = mem_col_index(t, p, (size_t)(eq - p));
        char *val = xstrndup(eq + 1, (size_t)(end - eq - 1));
        const query_column *col = &t->cols[c];
        t->valid[c][r] = 1;
        if (t->str[c]) {
            t->str[c][r] = val;
            val = NULL;
        } else if (t->i64[c]) {
            t->i64[c][r] = strtoll(val, NULL, 10);
        } else if (t->u64[c]) {
            t->u64[c][r] = strtoull(val, NULL, 10);
        } else if (t->f64[c]) {
            t->f64[c][r] = strtod(val, NULL);
        } else if (t->b[c]) {
            t->b[c][r] = strcmp(val, "true") == 0;
        }
        (void)col;
        free(val);
        p = *end ? end + 1 : end;
    }
}

static inline void mem_source_fini(mem_source *ms) {
    for (size_t i = 0; i < ms->n_files; i++) {
        free(ms->file_db[i]);
        free(ms->files[i].table);
        free(ms->files[i].path);
    }
    free(ms->file_db);
    free(ms->files);
    for (size_t i = 0; i < ms->n_tables; i++) {
        mem_table *t = &ms->tables[i];
        for (size_t c = 0; c < t->n_cols; c++) {
            if (t->str[c])
                for (size_t r = 0; r < t->n_rows; r++) free(t->str[c][r]);
            free(t->i64[c]);
            free(t->u64[c]);
            free(t->f64[c]);
            free(t->b[c]);
            free(t->str[c]);
            free(t->valid[c]);
            if (t->cols[c].kind != QCOL_TIME) free((char *)t->cols[c].name);
        }
        free(t->db);
        free(t->name);
    }
    for (size_t i = 0; i < ms->n_extra_dbs; i++) free(ms->extra_dbs[i]);
    memset(ms, 0, sizeof *ms);
}

/* ------------------------------------------------------------------ the shared fixture */

/* db "db": table cpu (below), table mem (one row), and database "empty" without tables.
 * cpu columns, sorted: big (uint), count (int), host (tag), id (tag), msg (string),
 * ok (bool), region (tag), time, usage (float). Rows, in source order (id = row number):
 *   1  t=1s           host=a region=us usage=1.5  count=10   big=UINT64_MAX msg=hello ok=true
 *   2  t=2s           host=b region=eu usage=-2.5 count=-5   big=0     msg="a,b"     ok=false
 *   3  t=3s           host=a region=us usage=NULL count=2^53+1 big=2^63 msg=NULL    ok=NULL
 *   4  t=2016-01-01   host=c region=eu usage=100  count=0    big=5     msg=quote "x" ok=true
 *   5  t=2016-01-01T00:00:00.123 host=b usage=0.1 count=1 ok=false (region, msg, big NULL)
 *   6  t=2s (tie with 2) host=c region=us usage=2^53 count=3 big=3 msg="multi\nline" ok=true
 */
#define T2016 1451606400000000000LL

static inline void mem_fixture(mem_source *ms, size_t batch_rows) {
    mem_source_init(ms, batch_rows);
    mem_table *t = mem_table_add(ms, "db", "cpu");
    mem_col(t, "host", QCOL_TAG, 0);
    mem_col(t, "region", QCOL_TAG, 0);
    mem_col(t, "id", QCOL_TAG, 0);
    mem_col(t, "usage", QCOL_FIELD, LP_FLOAT);
    mem_col(t, "count", QCOL_FIELD, LP_INT);
    mem_col(t, "big", QCOL_FIELD, LP_UINT);
    mem_col(t, "msg", QCOL_FIELD, LP_STRING);
    mem_col(t, "ok", QCOL_FIELD, LP_BOOL);
    mem_row(t, 1000000000,
            "id=1|host=a|region=us|usage=1.5|count=10|big=18446744073709551615|msg=hello|ok=true");
    mem_row(t, 2000000000, "id=2|host=b|region=eu|usage=-2.5|count=-5|big=0|msg=a,b|ok=false");
    mem_row(t, 3000000000, "id=3|host=a|region=us|count=9007199254740993|big=9223372036854775808");
    mem_row(t, T2016, "id=4|host=c|region=eu|usage=100|count=0|big=5|msg=quote \"x\"|ok=true");
    mem_row(t, T2016 + 123000000, "id=5|host=b|usage=0.1|count=1|ok=false");
    mem_row(t, 2000000000,
            "id=6|host=c|region=us|usage=9007199254740992|count=3|big=3|msg=multi\nline|ok=true");
    mem_table *m = mem_table_add(ms, "db", "mem");
    mem_col(m, "free", QCOL_FIELD, LP_INT);
    mem_row(m, 5, "free=7");
    mem_add_db(ms, "empty");
}

/* Run sql against db with format fmt and max_result_bytes max; the output is appended to out
 * (NUL-terminated on return). now() is fixed at 2016-01-01T01:00:00Z. */
static inline int mem_query(mem_source *ms, const char *db, const char *sql, query_format fmt,
                            size_t max, buf *out, silt_err *err) {
    query_opts o = {.max_result_bytes = max, .now_ns = T2016 + 3600LL * NS_PER_S};
    int rc = query_sql(&ms->src, db, sql, strlen(sql), fmt, &o, out, err);
    buf_cstr(out);
    return rc;
}

#endif
