/* SPDX-License-Identifier: MIT
 *
 * Reading files written by other writers: DuckDB 1.5 (v1 and v2 pages, PLAIN_DICTIONARY,
 * DELTA_*, BYTE_STREAM_SPLIT, ZSTD/SNAPPY/none, INT32/UINT32/FLOAT/TIMESTAMP(MICROS|MILLIS)
 * conversions) and arrow-rs through parquet-wasm (dictionary pages for every type, page index,
 * v2 pages with DELTA_LENGTH_BYTE_ARRAY / DELTA_BYTE_ARRAY / RLE booleans, GZIP, LZ4_RAW).
 * The checked-in fixtures (tests/unit/parquet/fixtures, made by make_fixtures.mjs) hold rows
 * defined by a formula, evaluated again here. A last test regenerates the fixtures with node
 * and checks the fresh files the same way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parquet/pq_int.h"
#include "parquet/pq_test_util.h"

#include <limits.h>
#include <math.h>

static char fixture_dir[512];

static const char *fixture(const char *name) {
    static char path[700];
    snprintf(path, sizeof path, "%s/%s", fixture_dir, name);
    return path;
}

/* ------------------------------------------------------------------ expected rows */

static const char *NAMES[] = {"alpha", "bravo", "çharlie", "δelta", "emoji😀"};

typedef struct exp_row {
    str_view host;
    int64_t time;
    bool f_null, n_null, u_null, b_null, s_null;
    double f;
    int64_t n;
    uint64_t u;
    bool b;
    char s[32];
} exp_row;

static void expected(uint64_t i, uint64_t n_rows, exp_row *e) {
    e->host = sv_from(NAMES[i * 5 / n_rows]);
    e->time = 1700000000000000000LL + (int64_t)i * 1000000007LL;
    e->f_null = i % 7 == 3;
    e->f = (double)i * 0.25 - 100;
    e->n_null = i % 5 == 2;
    e->n = ((int64_t)(i * i) - 500) * 1000003;
    e->u_null = i % 6 == 4;
    e->u = i * 12345678901ULL + (i % 2 ? (uint64_t)1 << 63 : 0);
    e->b_null = i % 8 == 5;
    e->b = i % 3 == 0;
    e->s_null = i % 4 == 1;
    snprintf(e->s, sizeof e->s, "ü%llu%s", (unsigned long long)(i % 50), i % 3 == 0 ? "😀" : "");
}

static int col(pq_reader *r, const char *name, pq_type type) {
    int c = pq_reader_find_column(r, name);
    if (c < 0) fail_msg("no column %s", name);
    assert_int_equal(pq_reader_column(r, (size_t)c)->type, type);
    return c;
}

static bool is_null(const pq_colbuf *cb, uint64_t k) {
    return cb->valid && !cb->valid[k];
}

/* Read the file at path (n_rows rows of the formula) and compare every cell. */
static void check_standard_file(const char *path, uint64_t n_rows) {
    size_t len;
    uint8_t *p = pqt_load(path, &len);
    if (!p) fail_msg("cannot read %s", path);
    pq_reader *r;
    silt_err err = {0};
    if (pq_reader_open(p, len, &r, &err)) fail_msg("%s: %s", path, err.msg);
    assert_int_equal(pq_reader_num_rows(r), n_rows);
    int c_host = col(r, "host", PQ_STRING), c_time = col(r, "time", PQ_TIMESTAMP_NS);
    int c_f = col(r, "f", PQ_DOUBLE), c_n = col(r, "n", PQ_INT64), c_u = col(r, "u", PQ_UINT64);
    int c_b = col(r, "b", PQ_BOOL), c_s = col(r, "s", PQ_STRING);
    pq_colbuf cb;
    pq_colbuf_init(&cb);
    uint64_t base = 0;
    for (size_t g = 0; g < pq_reader_num_row_groups(r); g++) {
        uint64_t rows = pq_reader_row_group_rows(r, g);
        /* full range, then a few partial ones (page skipping inside the chunk) */
        uint64_t ranges[4][2] = {
            {0, rows}, {rows / 3, rows / 3 + rows / 4}, {rows - 1, rows}, {7, 9}};
        for (size_t q = 0; q < 4; q++) {
            uint64_t lo = ranges[q][0], hi = ranges[q][1];
            if (hi > rows || lo > hi) continue;
            int cols[] = {c_host, c_time, c_f, c_n, c_u, c_b, c_s};
            for (size_t ci = 0; ci < 7; ci++) {
                if (pq_read_column(r, g, (size_t)cols[ci], lo, hi, &cb, &err))
                    fail_msg("%s: rg %zu col %d: %s", path, g, cols[ci], err.msg);
                for (uint64_t k = 0; k < hi - lo; k++) {
                    exp_row e;
                    uint64_t i = base + lo + k;
                    expected(i, n_rows, &e);
                    bool ok;
                    switch (ci) {
                        case 0:
                            ok = !is_null(&cb, k) && sv_eq(cb.str[k], e.host);
                            break;
                        case 1:
                            ok = !is_null(&cb, k) && cb.i64[k] == e.time;
                            break;
                        case 2:
                            ok = e.f_null ? is_null(&cb, k) : !is_null(&cb, k) && cb.f64[k] == e.f;
                            break;
                        case 3:
                            ok = e.n_null ? is_null(&cb, k) : !is_null(&cb, k) && cb.i64[k] == e.n;
                            break;
                        case 4:
                            ok = e.u_null ? is_null(&cb, k) : !is_null(&cb, k) && cb.u64[k] == e.u;
                            break;
                        case 5:
                            ok = e.b_null ? is_null(&cb, k) : !is_null(&cb, k) && cb.b[k] == e.b;
                            break;
                        default:
                            ok = e.s_null ? is_null(&cb, k)
                                          : !is_null(&cb, k) && sv_eq_cstr(cb.str[k], e.s);
                    }
                    if (!ok)
                        fail_msg("%s: row %llu column %zu differs", path, (unsigned long long)i,
                                 ci);
                }
            }
        }
        /* statistics, when the writer gave them, must bound the values */
        pq_stat st;
        assert_int_equal(pq_reader_chunk_stats(r, g, (size_t)c_time, &st), SILT_OK);
        assert_true(st.has_min_max);
        exp_row lo_e, hi_e;
        expected(base, n_rows, &lo_e);
        expected(base + rows - 1, n_rows, &hi_e);
        assert_true(st.min.i64 == lo_e.time && st.max.i64 == hi_e.time);
        assert_int_equal(pq_reader_chunk_stats(r, g, (size_t)c_u, &st), SILT_OK);
        if (st.has_min_max) {
            uint64_t mn = UINT64_MAX, mx = 0;
            for (uint64_t i = base; i < base + rows; i++) {
                exp_row e;
                expected(i, n_rows, &e);
                if (e.u_null) continue;
                if (e.u < mn) mn = e.u;
                if (e.u > mx) mx = e.u;
            }
            assert_true(st.min.u64 == mn && st.max.u64 == mx); /* unsigned order */
        }
        assert_int_equal(pq_reader_chunk_stats(r, g, (size_t)c_s, &st), SILT_OK);
        if (st.has_null_count) {
            uint64_t nulls = 0;
            for (uint64_t i = base; i < base + rows; i++) nulls += i % 4 == 1;
            assert_int_equal(st.null_count, nulls);
        }
        base += rows;
    }
    assert_int_equal(base, n_rows);
    pq_colbuf_fini(&cb);
    buf d = {0};
    assert_int_equal(pq_describe(p, len, &d, &err), SILT_OK);
    assert_non_null(strstr(buf_cstr(&d), "\"host\""));
    buf_free(&d);
    pq_reader_close(r);
    free(p);
}

static void check_types_file(const char *path) {
    size_t len;
    uint8_t *p = pqt_load(path, &len);
    if (!p) fail_msg("cannot read %s", path);
    pq_reader *r;
    silt_err err = {0};
    if (pq_reader_open(p, len, &r, &err)) fail_msg("%s: %s", path, err.msg);
    int c_i32 = col(r, "i32", PQ_INT64), c_u32 = col(r, "u32", PQ_UINT64);
    int c_f32 = col(r, "f32", PQ_DOUBLE), c_us = col(r, "ts_us", PQ_TIMESTAMP_NS);
    int c_ms = col(r, "ts_ms", PQ_TIMESTAMP_NS);
    pq_colbuf cb;
    pq_colbuf_init(&cb);
    uint64_t base = 0;
    for (size_t g = 0; g < pq_reader_num_row_groups(r); g++) {
        uint64_t rows = pq_reader_row_group_rows(r, g);
        int cols[] = {c_i32, c_u32, c_f32, c_us, c_ms};
        for (size_t ci = 0; ci < 5; ci++) {
            assert_int_equal(pq_read_column(r, g, (size_t)cols[ci], 0, rows, &cb, &err), SILT_OK);
            for (uint64_t k = 0; k < rows; k++) {
                int64_t i = (int64_t)(base + k);
                bool ok;
                switch (ci) {
                    case 0:
                        ok = cb.i64[k] == i * 7 - 3000;
                        break;
                    case 1:
                        ok = cb.u64[k] == (uint64_t)i * 2000001;
                        break;
                    case 2:
                        ok = cb.f64[k] == (double)i * 0.5;
                        break;
                    case 3:
                        ok = cb.i64[k] == (1700000000000000LL + i * 1000001) * 1000;
                        break;
                    default:
                        ok = cb.i64[k] == (1700000000000LL + i * 1001) * 1000000;
                        break;
                }
                if (!ok) fail_msg("%s: row %lld column %zu differs", path, (long long)i, ci);
            }
        }
        pq_stat st;
        pq_reader_chunk_stats(r, g, (size_t)c_us, &st);
        if (st.has_min_max)
            assert_true(st.min.i64 == (1700000000000000LL + (int64_t)base * 1000001) * 1000);
        pq_reader_chunk_stats(r, g, (size_t)c_i32, &st);
        if (st.has_min_max) assert_true(st.min.i64 == (int64_t)base * 7 - 3000);
        base += rows;
    }
    assert_int_equal(base, 400);
    pq_colbuf_fini(&cb);
    pq_reader_close(r);
    free(p);
}

/* ------------------------------------------------------------------ tests */

static void test_pq_foreign_duckdb_v1_zstd(void **state) {
    (void)state;
    check_standard_file(fixture("duck_v1_zstd.parquet"), 400);
}

static void test_pq_foreign_duckdb_v2_snappy(void **state) {
    (void)state;
    check_standard_file(fixture("duck_v2_snappy.parquet"), 400);
}

static void test_pq_foreign_duckdb_uncompressed(void **state) {
    (void)state;
    check_standard_file(fixture("duck_uncompressed.parquet"), 200);
}

static void test_pq_foreign_duckdb_int32_float_timestamp_units(void **state) {
    (void)state;
    check_types_file(fixture("duck_types.parquet"));
}

static void test_pq_foreign_arrow_rs_v1_zstd_page_index(void **state) {
    (void)state;
    const char *path = fixture("pw_v1_zstd_pageindex.parquet");
    check_standard_file(path, 400);
    /* arrow-rs writes a ColumnIndex/OffsetIndex: pages and their bounds are visible */
    size_t len;
    uint8_t *p = pqt_load(path, &len);
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(p, len, &r, &err), SILT_OK);
    int c_time = pq_reader_find_column(r, "time");
    const pq_page_info *pg;
    size_t np;
    assert_true(pq_reader_pages(r, 1, (size_t)c_time, &pg, &np));
    uint64_t rows = 0;
    for (size_t i = 0; i < np; i++) {
        assert_int_equal(pg[i].first_row, rows);
        assert_true(pg[i].stat.has_min_max);
        rows += pg[i].n_rows;
    }
    assert_int_equal(rows, pq_reader_row_group_rows(r, 1));
    pq_reader_close(r);
    free(p);
}

static void test_pq_foreign_arrow_rs_v2_delta_encodings(void **state) {
    (void)state;
    const char *path = fixture("pw_v2_delta_snappy.parquet");
    check_standard_file(path, 400);
    size_t len;
    uint8_t *p = pqt_load(path, &len);
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(p, len, &r, &err), SILT_OK);
    /* the file really uses the encodings this test is about */
    unsigned seen = 0;
    for (size_t c = 0; c < pq_reader_num_columns(r); c++) {
        const pq_chunk_meta *m = &r->fm.rgs[0].cols[c];
        for (size_t e = 0; e < m->n_encodings; e++) seen |= 1u << m->encodings[e];
    }
    unsigned want = (1u << PQE_DELTA_LENGTH_BYTE_ARRAY) | (1u << PQE_DELTA_BYTE_ARRAY) |
                    (1u << PQE_DELTA_BINARY_PACKED) | (1u << PQE_BYTE_STREAM_SPLIT) |
                    (1u << PQE_RLE);
    assert_int_equal(seen & want, want);
    pq_reader_close(r);
    free(p);
}

static void test_pq_foreign_arrow_rs_gzip_and_lz4_raw(void **state) {
    (void)state;
    check_standard_file(fixture("pw_gzip.parquet"), 400);
    check_standard_file(fixture("pw_lz4raw.parquet"), 400);
}

/* Regenerate every fixture with the pinned DuckDB / parquet-wasm and read the fresh files: the
 * checked-in ones cannot drift from what those writers produce. Needs node and pqtools. */
static void test_pq_foreign_regenerated_with_node(void **state) {
    (void)state;
    if (system("node --version > /dev/null 2>&1") != 0) {
        if (getenv("SILT_SKIP_PQCHECK")) return;
        fail_msg("node not found (SILT_SKIP_PQCHECK=1 to skip)");
    }
    const char *tool = pqt_pqcheck();
    if (!tool) {
        if (getenv("SILT_SKIP_PQCHECK")) return;
        fail_msg("pqtools not found");
    }
    /* pqtools' folder: the pqcheck script sits in it; running it once installs its packages (the
     * path is taken after the cd, as an absolute one: the tool path may be relative) */
    char dir[256], out[256], cmd[4096];
    snprintf(dir, sizeof dir, "%s", tool);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    snprintf(out, sizeof out, "%s/fixtures", pqt_dir());
    snprintf(cmd, sizeof cmd,
             "cd '%s' && d=$(pwd -P) && if [ -d pqtools ]; then d=\"$d/pqtools\"; fi && "
             "\"$d/pqcheck\" --help > /dev/null 2>&1; "
             "PQTOOLS_DIR=\"$d\" node '%s/make_fixtures.mjs' '%s' > '%s.log' 2>&1",
             dir, fixture_dir, out, out);
    int st = system(cmd);
    if (st != 0) {
        snprintf(cmd, sizeof cmd, "cat '%s.log' >&2", out);
        if (system(cmd) == -1) fprintf(stderr, "(no log)\n");
        fail_msg("make_fixtures.mjs failed (%d)", st);
    }
    char saved[512];
    snprintf(saved, sizeof saved, "%s", fixture_dir);
    snprintf(fixture_dir, sizeof fixture_dir, "%s", out);
    check_standard_file(fixture("duck_v1_zstd.parquet"), 400);
    check_standard_file(fixture("duck_v2_snappy.parquet"), 400);
    check_standard_file(fixture("duck_uncompressed.parquet"), 200);
    check_types_file(fixture("duck_types.parquet"));
    check_standard_file(fixture("pw_v1_zstd_pageindex.parquet"), 400);
    check_standard_file(fixture("pw_v2_delta_snappy.parquet"), 400);
    check_standard_file(fixture("pw_gzip.parquet"), 400);
    check_standard_file(fixture("pw_lz4raw.parquet"), 400);
    snprintf(fixture_dir, sizeof fixture_dir, "%s", saved);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.log'", out, out);
    if (system(cmd) == -1) fprintf(stderr, "(rm failed)\n");
}

int main(void) {
    /* fixtures live next to this source file (tests run from the repository root) */
    snprintf(fixture_dir, sizeof fixture_dir, "%s", __FILE__);
    char *slash = strrchr(fixture_dir, '/');
    if (slash)
        snprintf(slash, sizeof fixture_dir - (size_t)(slash - fixture_dir), "/fixtures");
    else
        snprintf(fixture_dir, sizeof fixture_dir, "fixtures");
    char abs[PATH_MAX];
    if (realpath(fixture_dir, abs) && strlen(abs) < sizeof fixture_dir)
        memcpy(fixture_dir, abs, strlen(abs) + 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pq_foreign_duckdb_v1_zstd),
        cmocka_unit_test(test_pq_foreign_duckdb_v2_snappy),
        cmocka_unit_test(test_pq_foreign_duckdb_uncompressed),
        cmocka_unit_test(test_pq_foreign_duckdb_int32_float_timestamp_units),
        cmocka_unit_test(test_pq_foreign_arrow_rs_v1_zstd_page_index),
        cmocka_unit_test(test_pq_foreign_arrow_rs_v2_delta_encodings),
        cmocka_unit_test(test_pq_foreign_arrow_rs_gzip_and_lz4_raw),
        cmocka_unit_test(test_pq_foreign_regenerated_with_node),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
