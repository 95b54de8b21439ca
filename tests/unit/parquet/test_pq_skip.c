/* SPDX-License-Identifier: MIT
 *
 * Statistics-driven skipping: a time predicate skips row groups by their chunk statistics and
 * pages by the ColumnIndex; pq_read_column with a row range decodes only the pages holding those
 * rows (counted by pq_reader_pages_decoded), with the OffsetIndex and, when a file has none, by
 * walking page headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parquet/pq_int.h"
#include "parquet/pq_test_util.h"

#define N_ROWS  60000
#define RG_ROWS 10000
#define T0      1451606400000000000LL
#define STEP    10000000000LL

/* One series: time every 10 s, a double and a tag. Row i has time T0 + i * STEP. */
static void make_series(pqt_table *t) {
    memset(t, 0, sizeof *t);
    t->n = N_ROWS;
    size_t host = pqt_add(t, "host", PQ_STRING, true, true);
    size_t tm = pqt_add(t, "time", PQ_TIMESTAMP_NS, false, false);
    size_t v = pqt_add(t, "value", PQ_DOUBLE, true, false);
    size_t c = pqt_add(t, "count", PQ_INT64, true, false);
    for (size_t i = 0; i < t->n; i++) {
        PQT_STR(t, host)[i] = SV("host_0");
        PQT_I64(t, tm)[i] = T0 + (int64_t)i * STEP;
        PQT_F64(t, v)[i] = (double)i * 0.5;
        PQT_I64(t, c)[i] = (int64_t)(i * i);
        PQT_VALID(t, v)[i] = i % 9 != 0;
    }
}

typedef struct plan {
    size_t rgs[16], n_rgs;
    uint64_t lo[16], hi[16]; /* row range per selected row group */
    size_t pages[16];        /* time pages overlapping */
} plan;

/* Row groups and row ranges whose time may fall in [t_lo, t_hi]: chunk statistics first, then
 * the ColumnIndex of the time column. */
static void plan_scan(pq_reader *r, int64_t t_lo, int64_t t_hi, plan *p) {
    memset(p, 0, sizeof *p);
    size_t tc = (size_t)pq_reader_find_column(r, "time");
    for (size_t g = 0; g < pq_reader_num_row_groups(r); g++) {
        pq_stat st;
        assert_int_equal(pq_reader_chunk_stats(r, g, tc, &st), SILT_OK);
        assert_true(st.has_min_max);
        if (st.max.i64 < t_lo || st.min.i64 > t_hi) continue; /* row group skipped */
        const pq_page_info *pg;
        size_t np;
        assert_true(pq_reader_pages(r, g, tc, &pg, &np));
        uint64_t lo = UINT64_MAX, hi = 0;
        size_t n = 0;
        for (size_t i = 0; i < np; i++) {
            assert_true(pg[i].stat.has_min_max);
            if (pg[i].stat.max.i64 < t_lo || pg[i].stat.min.i64 > t_hi) continue;
            if (pg[i].first_row < lo) lo = pg[i].first_row;
            hi = pg[i].first_row + pg[i].n_rows;
            n++;
        }
        if (!n) continue;
        p->rgs[p->n_rgs] = g;
        p->lo[p->n_rgs] = lo;
        p->hi[p->n_rgs] = hi;
        p->pages[p->n_rgs] = n;
        p->n_rgs++;
    }
}

/* Pages of (rg, col) that hold some row of [lo, hi). */
static size_t pages_in_range(pq_reader *r, size_t rg, size_t col, uint64_t lo, uint64_t hi) {
    const pq_page_info *pg;
    size_t np, n = 0;
    assert_true(pq_reader_pages(r, rg, col, &pg, &np));
    for (size_t i = 0; i < np; i++)
        if (pg[i].first_row < hi && pg[i].first_row + pg[i].n_rows > lo) n++;
    return n;
}

static void test_pq_skip_row_groups_and_pages_by_time(void **state) {
    (void)state;
    pqt_table t;
    make_series(&t);
    pq_writer_opts o;
    pq_writer_opts_init(&o);
    o.row_group_rows = RG_ROWS;
    o.page_bytes = 4096; /* ~500 rows per page */
    buf out = {0};
    pqt_write_table(&t, &o, 0, &out);
    pqt_pqcheck_file(out.p, out.len, "skip.parquet");
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
    assert_int_equal(pq_reader_num_row_groups(r), 6);

    /* rows 25000 .. 31999 (inclusive): row groups 2 and 3 */
    int64_t t_lo = T0 + 25000 * STEP, t_hi = T0 + 31999 * STEP;
    plan p;
    plan_scan(r, t_lo, t_hi, &p);
    assert_int_equal(p.n_rgs, 2);
    assert_int_equal(p.rgs[0], 2);
    assert_int_equal(p.rgs[1], 3);
    size_t tc = 1, vc = 2;
    const pq_page_info *pg;
    size_t np;
    assert_true(pq_reader_pages(r, 2, tc, &pg, &np));
    assert_true(np >= 15);
    /* pages of row group 2 before row 5000 (time < t_lo) are skipped */
    assert_int_equal(p.pages[0], pages_in_range(r, 2, tc, 5000, RG_ROWS));
    assert_true(p.pages[0] < np);
    assert_int_equal(p.pages[1], pages_in_range(r, 3, tc, 0, 2000));

    pq_colbuf cb;
    pq_colbuf_init(&cb);
    size_t matched = 0;
    for (size_t k = 0; k < p.n_rgs; k++) {
        size_t g = p.rgs[k];
        uint64_t before = pq_reader_pages_decoded(r);
        assert_int_equal(pq_read_column(r, g, tc, p.lo[k], p.hi[k], &cb, &err), SILT_OK);
        /* only the pages selected by the ColumnIndex were decoded */
        assert_int_equal(pq_reader_pages_decoded(r) - before, p.pages[k]);
        for (size_t i = 0; i < cb.n; i++) {
            int64_t x = cb.i64[i];
            assert_int_equal(x, T0 + (int64_t)(g * RG_ROWS + p.lo[k] + i) * STEP);
            matched += x >= t_lo && x <= t_hi;
        }
        /* another column, same rows: its own pages overlapping the range */
        before = pq_reader_pages_decoded(r);
        assert_int_equal(pq_read_column(r, g, vc, p.lo[k], p.hi[k], &cb, &err), SILT_OK);
        assert_int_equal(pq_reader_pages_decoded(r) - before,
                         pages_in_range(r, g, vc, p.lo[k], p.hi[k]));
        for (size_t i = 0; i < cb.n; i++) {
            size_t row = g * RG_ROWS + (size_t)p.lo[k] + i;
            if (row % 9 == 0)
                assert_true(cb.valid && !cb.valid[i]);
            else
                assert_true(cb.f64[i] == (double)row * 0.5);
        }
    }
    assert_int_equal(matched, 7000);

    /* a whole row group decodes every page once */
    uint64_t before = pq_reader_pages_decoded(r);
    assert_int_equal(pq_read_column(r, 4, tc, 0, RG_ROWS, &cb, &err), SILT_OK);
    assert_true(pq_reader_pages(r, 4, tc, &pg, &np));
    assert_int_equal(pq_reader_pages_decoded(r) - before, np);
    /* an empty range decodes nothing */
    before = pq_reader_pages_decoded(r);
    assert_int_equal(pq_read_column(r, 4, tc, 100, 100, &cb, &err), SILT_OK);
    assert_int_equal(cb.n, 0);
    assert_int_equal(pq_reader_pages_decoded(r), before);
    /* a single row decodes one page */
    assert_int_equal(pq_read_column(r, 5, vc, 7777, 7778, &cb, &err), SILT_OK);
    assert_int_equal(pq_reader_pages_decoded(r) - before, 1);
    assert_true(cb.f64[0] == (double)(5 * RG_ROWS + 7777) * 0.5);

    /* bad ranges */
    assert_int_equal(pq_read_column(r, 0, tc, 5, 4, &cb, &err), SILT_EINVAL);
    assert_int_equal(pq_read_column(r, 0, tc, 0, RG_ROWS + 1, &cb, &err), SILT_EINVAL);
    assert_int_equal(pq_read_column(r, 6, tc, 0, 1, &cb, &err), SILT_EINVAL);
    assert_int_equal(pq_read_column(r, 0, 4, 0, 1, &cb, &err), SILT_EINVAL);
    pq_colbuf_fini(&cb);
    pq_reader_close(r);
    buf_free(&out);
    pqt_table_free(&t);
}

/* Without an OffsetIndex the reader walks page headers and still decodes only the pages that
 * hold the rows (row counts come from the headers). */
static void test_pq_skip_pages_without_offset_index(void **state) {
    (void)state;
    pqt_table t;
    make_series(&t);
    pq_writer_opts o;
    pq_writer_opts_init(&o);
    o.row_group_rows = RG_ROWS;
    o.page_bytes = 4096;
    o.data_page_v2 = true;
    buf out = {0};
    pqt_write_table(&t, &o, 0, &out);
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
    size_t vc = 2;
    size_t want = pages_in_range(r, 1, vc, 3000, 3100);
    assert_true(want >= 1 && want <= 2);
    /* forget the page index of every chunk, as if the file had none */
    for (size_t i = 0; i < pq_reader_num_row_groups(r) * pq_reader_num_columns(r); i++) {
        r->idx[i].state = 2;
        r->fm.rgs[i / pq_reader_num_columns(r)]
            .cols[i % pq_reader_num_columns(r)]
            .has_offset_index = false;
    }
    const pq_page_info *pg;
    size_t np;
    assert_false(pq_reader_pages(r, 1, vc, &pg, &np));
    pq_colbuf cb;
    pq_colbuf_init(&cb);
    uint64_t before = pq_reader_pages_decoded(r);
    assert_int_equal(pq_read_column(r, 1, vc, 3000, 3100, &cb, &err), SILT_OK);
    assert_int_equal(pq_reader_pages_decoded(r) - before, want);
    for (size_t i = 0; i < cb.n; i++) {
        size_t row = RG_ROWS + 3000 + i;
        if (row % 9 == 0)
            assert_true(cb.valid && !cb.valid[i]);
        else
            assert_true(cb.f64[i] == (double)row * 0.5);
    }
    /* the rest of the file still reads */
    pqt_verify(out.p, out.len, &t);
    pq_colbuf_fini(&cb);
    pq_reader_close(r);
    buf_free(&out);
    pqt_table_free(&t);
}

/* Tag predicates: the dictionary of a chunk answers "which rows have host = X" with one
 * comparison per dictionary entry. */
static void test_pq_skip_tag_predicate_through_dictionary(void **state) {
    (void)state;
    pqt_table t;
    memset(&t, 0, sizeof t);
    t.n = 9000;
    size_t host = pqt_add(&t, "host", PQ_STRING, true, true);
    size_t tm = pqt_add(&t, "time", PQ_TIMESTAMP_NS, false, false);
    const char *hosts[] = {"a", "b", "c"};
    for (size_t i = 0; i < t.n; i++) {
        PQT_STR(&t, host)[i] = sv_from(hosts[i / 3000]);
        PQT_I64(&t, tm)[i] = T0 + (int64_t)(i % 3000) * STEP;
    }
    buf out = {0};
    pqt_write_table(&t, NULL, 0, &out);
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
    pq_stat st;
    pq_reader_chunk_stats(r, 0, host, &st);
    assert_true(sv_eq_cstr(st.min_str, "a") && sv_eq_cstr(st.max_str, "c"));
    pq_colbuf cb;
    pq_colbuf_init(&cb);
    assert_int_equal(pq_read_column(r, 0, host, 0, t.n, &cb, &err), SILT_OK);
    assert_int_equal(cb.n_dict, 3);
    int want = -1;
    for (size_t d = 0; d < cb.n_dict; d++)
        if (sv_eq_cstr(cb.dict[d], "b")) want = (int)d;
    assert_true(want >= 0);
    size_t hits = 0;
    for (size_t i = 0; i < cb.n; i++) hits += cb.dict_idx[i] == (uint32_t)want;
    assert_int_equal(hits, 3000);
    pq_colbuf_fini(&cb);
    pq_reader_close(r);
    buf_free(&out);
    pqt_table_free(&t);
}

/* page_rows cuts every column's pages at the same multiples of the limit (while page_bytes
 * is not reached first), so the pages of all columns align; page_rows 0 leaves only the byte
 * bound. */
static void test_pq_skip_page_rows_align_columns(void **state) {
    (void)state;
    pqt_table t;
    make_series(&t);
    for (size_t limit = 0; limit <= 1000; limit += 1000) {
        pq_writer_opts o;
        pq_writer_opts_init(&o);
        o.row_group_rows = RG_ROWS;
        o.page_rows = limit;
        buf out = {0};
        pqt_write_table(&t, &o, 0, &out);
        pq_reader *r;
        silt_err err;
        assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
        for (size_t col = 0; col < pq_reader_num_columns(r); col++) {
            const pq_page_info *pg;
            size_t np;
            assert_true(pq_reader_pages(r, 0, col, &pg, &np));
            if (limit) {
                assert_int_equal(np, RG_ROWS / limit);
                for (size_t i = 0; i < np; i++) {
                    assert_int_equal(pg[i].first_row, i * limit);
                    assert_int_equal(pg[i].n_rows, limit);
                }
            } else {
                assert_int_equal(np, 1); /* 10,000 rows are far below 1 MiB */
            }
        }
        pq_reader_close(r);
        buf_free(&out);
    }
    pqt_table_free(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pq_skip_page_rows_align_columns),
        cmocka_unit_test(test_pq_skip_row_groups_and_pages_by_time),
        cmocka_unit_test(test_pq_skip_pages_without_offset_index),
        cmocka_unit_test(test_pq_skip_tag_predicate_through_dictionary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
