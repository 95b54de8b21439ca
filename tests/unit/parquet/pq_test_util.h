/* SPDX-License-Identifier: MIT
 *
 * Helpers for the parquet unit tests (header-only: every test_*.c is its own binary):
 * building column tables, writing them, verifying what the reader returns against them cell by
 * cell (doubles bit for bit), and running ../shared/tools/pqcheck on every file written.
 *
 * pqcheck is looked up in $SILT_PQCHECK, then ../shared/tools/pqcheck,
 * ../shared/tools/pqtools/pqcheck and the same under /work/shared (the first executable one).
 * A test that writes a file fails when pqcheck cannot be found, unless SILT_SKIP_PQCHECK=1. */
#ifndef SILT_PQ_TEST_UTIL_H
#define SILT_PQ_TEST_UTIL_H

#include "parquet/parquet.h"

#define PQT_FN static __attribute__((unused))

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------ a tiny PRNG */

static uint64_t pqt_rng = 0x9e3779b97f4a7c15ULL;
PQT_FN inline uint64_t pqt_rand(void) {
    uint64_t z = (pqt_rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
PQT_FN inline double pqt_unit(void) {
    return (double)(pqt_rand() >> 11) * 0x1.0p-53;
}

/* ------------------------------------------------------------------ tables */

typedef struct pqt_table {
    size_t n_cols, n;
    pq_column_def defs[32];
    pq_vec vecs[32];
    void *owned[4096];
    size_t n_owned;
    char *slab; /* pqt_str storage */
    size_t slab_left;
} pqt_table;

PQT_FN void *pqt_alloc(pqt_table *t, size_t bytes) {
    void *p = calloc(1, bytes ? bytes : 1);
    assert_non_null(p);
    assert_true(t->n_owned < 4096);
    t->owned[t->n_owned++] = p;
    return p;
}

PQT_FN void pqt_table_free(pqt_table *t) {
    for (size_t i = 0; i < t->n_owned; i++) free(t->owned[i]);
    memset(t, 0, sizeof *t);
}

/* Add a column; returns its index. Arrays are allocated for t->n rows (zeroed). */
PQT_FN size_t pqt_add(pqt_table *t, const char *name, pq_type type, bool optional, bool dict) {
    size_t c = t->n_cols++;
    assert_true(c < 32);
    t->defs[c] = (pq_column_def){name, type, optional, dict};
    pq_vec *v = &t->vecs[c];
    memset(v, 0, sizeof *v);
    switch (type) {
        case PQ_STRING:
            v->str = pqt_alloc(t, t->n * sizeof(str_view));
            break;
        case PQ_DOUBLE:
            v->f64 = pqt_alloc(t, t->n * 8);
            break;
        case PQ_INT64:
        case PQ_TIMESTAMP_NS:
            v->i64 = pqt_alloc(t, t->n * 8);
            break;
        case PQ_UINT64:
            v->u64 = pqt_alloc(t, t->n * 8);
            break;
        case PQ_BOOL:
            v->b = pqt_alloc(t, t->n);
            break;
    }
    if (optional) {
        uint8_t *valid = pqt_alloc(t, t->n);
        memset(valid, 1, t->n);
        v->valid = valid;
    }
    return c;
}

#define PQT_I64(t, c)   ((int64_t *)(t)->vecs[c].i64)
#define PQT_U64(t, c)   ((uint64_t *)(t)->vecs[c].u64)
#define PQT_F64(t, c)   ((double *)(t)->vecs[c].f64)
#define PQT_B(t, c)     ((uint8_t *)(t)->vecs[c].b)
#define PQT_STR(t, c)   ((str_view *)(t)->vecs[c].str)
#define PQT_VALID(t, c) ((uint8_t *)(t)->vecs[c].valid)

/* A string owned by the table. */
static str_view pqt_str(pqt_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
PQT_FN str_view pqt_str(pqt_table *t, const char *fmt, ...) {
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof tmp);
    /* strings are many: pack them into 64 KiB slabs */
    if (t->slab_left < (size_t)n + 1) {
        size_t sz = (size_t)n + 1 > 65536 ? (size_t)n + 1 : 65536;
        t->slab = pqt_alloc(t, sz);
        t->slab_left = sz;
    }
    char *p = t->slab;
    memcpy(p, tmp, (size_t)n + 1);
    t->slab += n + 1;
    t->slab_left -= (size_t)n + 1;
    return (str_view){p, (size_t)n};
}

/* ------------------------------------------------------------------ writing */

PQT_FN void pqt_write_table(const pqt_table *t, const pq_writer_opts *o, size_t batch, buf *out) {
    pq_writer *w;
    silt_err err = {0};
    int rc = pq_writer_open(t->defs, t->n_cols, o, &w, &err);
    if (rc) fail_msg("pq_writer_open: %s", err.msg);
    if (!batch) batch = t->n ? t->n : 1;
    for (size_t at = 0; at < t->n; at += batch) {
        size_t k = t->n - at < batch ? t->n - at : batch;
        pq_vec v[32];
        for (size_t c = 0; c < t->n_cols; c++) {
            v[c] = t->vecs[c];
            if (v[c].i64) v[c].i64 += at;
            if (v[c].u64) v[c].u64 += at;
            if (v[c].f64) v[c].f64 += at;
            if (v[c].b) v[c].b += at;
            if (v[c].str) v[c].str += at;
            if (v[c].valid) v[c].valid += at;
        }
        rc = pq_writer_write(w, v, k, &err);
        if (rc) fail_msg("pq_writer_write: %s", err.msg);
    }
    rc = pq_writer_finish(w, out, &err);
    if (rc) fail_msg("pq_writer_finish: %s", err.msg);
}

/* ------------------------------------------------------------------ verifying */

PQT_FN bool pqt_cell_eq(const pqt_table *t, size_t c, size_t row, const pq_colbuf *cb, size_t k) {
    const pq_vec *v = &t->vecs[c];
    bool want_null = v->valid && !v->valid[row];
    bool got_null = cb->valid && !cb->valid[k];
    if (want_null || got_null) return want_null == got_null;
    switch (t->defs[c].type) {
        case PQ_STRING:
            return sv_eq(cb->str[k], v->str[row]);
        case PQ_DOUBLE:
            return memcmp(&cb->f64[k], &v->f64[row], 8) == 0;
        case PQ_INT64:
        case PQ_TIMESTAMP_NS:
            return cb->i64[k] == v->i64[row];
        case PQ_UINT64:
            return cb->u64[k] == v->u64[row];
        case PQ_BOOL:
            return cb->b[k] == (v->b[row] != 0);
    }
    return false;
}

/* Read rows [lo, hi) of row group rg (whose first row is base) and compare. */
PQT_FN void pqt_check_range(pq_reader *r, const pqt_table *t, size_t rg, uint64_t base, uint64_t lo,
                            uint64_t hi, pq_colbuf *cb) {
    silt_err err = {0};
    for (size_t c = 0; c < t->n_cols; c++) {
        int rc = pq_read_column(r, rg, c, lo, hi, cb, &err);
        if (rc)
            fail_msg("pq_read_column(rg %zu, col %zu, [%llu, %llu)): %s", rg, c,
                     (unsigned long long)lo, (unsigned long long)hi, err.msg);
        assert_int_equal(cb->n, hi - lo);
        bool any_null = false;
        for (uint64_t k = 0; k < hi - lo; k++) {
            size_t row = (size_t)(base + lo + k);
            if (!pqt_cell_eq(t, c, row, cb, (size_t)k))
                fail_msg("column %s row %zu (rg %zu, k %llu) differs", t->defs[c].name, row, rg,
                         (unsigned long long)k);
            if (t->vecs[c].valid && !t->vecs[c].valid[row]) any_null = true;
        }
        /* valid is NULL exactly when the range has no NULL */
        assert_true((cb->valid != NULL) == any_null);
        if (cb->dict) {
            for (uint64_t k = 0; k < hi - lo; k++)
                if (!cb->valid || cb->valid[k]) {
                    assert_true(cb->dict_idx[k] < cb->n_dict);
                    assert_true(sv_eq(cb->dict[cb->dict_idx[k]], cb->str[k]));
                }
        }
    }
}

/* Open the file, check the schema, read everything and some random ranges. */
PQT_FN void pqt_verify(const uint8_t *p, size_t len, const pqt_table *t) {
    pq_reader *r;
    silt_err err = {0};
    int rc = pq_reader_open(p, len, &r, &err);
    if (rc) fail_msg("pq_reader_open: %s", err.msg);
    assert_int_equal(pq_reader_num_columns(r), t->n_cols);
    assert_int_equal(pq_reader_num_rows(r), t->n);
    for (size_t c = 0; c < t->n_cols; c++) {
        const pq_column_info *ci = pq_reader_column(r, c);
        assert_string_equal(ci->name, t->defs[c].name);
        assert_int_equal(ci->type, t->defs[c].type);
        assert_int_equal(ci->optional, t->defs[c].optional);
        assert_int_equal(pq_reader_find_column(r, t->defs[c].name), (int)c);
    }
    pq_colbuf cb;
    pq_colbuf_init(&cb);
    uint64_t base = 0;
    for (size_t g = 0; g < pq_reader_num_row_groups(r); g++) {
        uint64_t rows = pq_reader_row_group_rows(r, g);
        pqt_check_range(r, t, g, base, 0, rows, &cb);
        for (int k = 0; k < 4 && rows > 0; k++) {
            uint64_t a = pqt_rand() % rows, b = pqt_rand() % (rows + 1);
            if (a > b) {
                uint64_t x = a;
                a = b;
                b = x;
            }
            pqt_check_range(r, t, g, base, a, b, &cb);
        }
        base += rows;
    }
    assert_int_equal(base, t->n);
    pq_colbuf_fini(&cb);
    pq_reader_close(r);
}

/* ------------------------------------------------------------------ files and pqcheck */

static char pqt_dir_path[64];

/* At exit: the directory is removed when every file in it passed (failures stay for a look). */
static void pqt_dir_cleanup(void) {
    if (pqt_dir_path[0]) rmdir(pqt_dir_path);
}

PQT_FN const char *pqt_dir(void) {
    if (!pqt_dir_path[0]) {
        snprintf(pqt_dir_path, sizeof pqt_dir_path, "/tmp/silt-pqtest-XXXXXX");
        if (!mkdtemp(pqt_dir_path)) fail_msg("mkdtemp: %s", strerror(errno));
        atexit(pqt_dir_cleanup);
    }
    return pqt_dir_path;
}

PQT_FN void pqt_save(const char *path, const uint8_t *p, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

PQT_FN uint8_t *pqt_load(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(sz > 0 ? (size_t)sz : 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    *n = (size_t)sz;
    return p;
}

PQT_FN const char *pqt_pqcheck(void) {
    static const char *found;
    if (found) return found;
    const char *env = getenv("SILT_PQCHECK");
    const char *cands[] = {env, "../shared/tools/pqcheck", "../shared/tools/pqtools/pqcheck",
                           "/work/shared/tools/pqcheck", "/work/shared/tools/pqtools/pqcheck"};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        struct stat st;
        if (cands[i] && stat(cands[i], &st) == 0 && S_ISREG(st.st_mode) &&
            access(cands[i], X_OK) == 0)
            return found = cands[i];
    }
    return NULL;
}

/* Save the file as <dir>/<name> and require pqcheck to pass on it. */
PQT_FN void pqt_pqcheck_file(const uint8_t *p, size_t n, const char *name) {
    char path[256], log[300], cmd[1024];
    snprintf(path, sizeof path, "%s/%s", pqt_dir(), name);
    pqt_save(path, p, n);
    const char *skip = getenv("SILT_SKIP_PQCHECK");
    if (skip && strcmp(skip, "1") == 0) {
        unlink(path);
        return;
    }
    const char *tool = pqt_pqcheck();
    if (!tool) fail_msg("pqcheck not found (set SILT_PQCHECK or SILT_SKIP_PQCHECK=1)");
    snprintf(log, sizeof log, "%s.pqcheck.log", path);
    snprintf(cmd, sizeof cmd, "'%s' --quiet '%s' > '%s' 2>&1", tool, path, log);
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(cmd, sizeof cmd, "tail -30 '%s' >&2", log);
        if (system(cmd) == -1) fprintf(stderr, "(could not show %s)\n", log);
        fail_msg("pqcheck failed on %s (status %d), log %s", path, st, log);
    }
    unlink(log);
    unlink(path);
}

#endif
