/* SPDX-License-Identifier: MIT
 *
 * parquet writer -> reader round trips: every type, NULLs (some, all, none), empty and unicode
 * strings, extreme values, v1 and v2 pages, ZSTD / SNAPPY / UNCOMPRESSED, several row groups
 * and pages, dictionary fallback, BYTE_STREAM_SPLIT chosen and not chosen, statistics,
 * key/value metadata, describe, and input validation. Every file written here also goes
 * through pqcheck (DuckDB, arrow-rs and hyparquet must agree on it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parquet/pq_int.h"
#include "parquet/pq_test_util.h"

#include <float.h>
#include <math.h>

/* ------------------------------------------------------------------ data */

static const char *HOSTS[] = {"host_0", "héllo-wörld", "日本語ホスト", "emoji-😀🚀", "",
                              "host_9", "zz"};
static const char *REGIONS[] = {"us-east-1", "eu-west-1", "ap-south-1"};

/* A table with tags, time and every field type, sorted by host then time as the persister
 * writes them. null_pct: chance (0-100) of NULL in each optional field. */
static void fill_all_types(pqt_table *t, size_t n, int null_pct, uint64_t seed) {
    memset(t, 0, sizeof *t);
    t->n = n;
    pqt_rng = seed;
    size_t host = pqt_add(t, "host", PQ_STRING, true, true);
    size_t region = pqt_add(t, "region", PQ_STRING, true, true);
    size_t tm = pqt_add(t, "time", PQ_TIMESTAMP_NS, false, false);
    size_t f = pqt_add(t, "usage", PQ_DOUBLE, true, false);
    size_t iv = pqt_add(t, "count", PQ_INT64, true, false);
    size_t u = pqt_add(t, "bytes", PQ_UINT64, true, false);
    size_t b = pqt_add(t, "up", PQ_BOOL, true, false);
    size_t s = pqt_add(t, "msg", PQ_STRING, true, false);
    size_t n_hosts = sizeof HOSTS / sizeof HOSTS[0];
    double walk = 50;
    for (size_t i = 0; i < n; i++) {
        size_t h = i * n_hosts / (n ? n : 1);
        PQT_STR(t, host)[i] = sv_from(HOSTS[h]);
        PQT_STR(t, region)[i] = sv_from(REGIONS[h % 3]);
        PQT_I64(t, tm)[i] = 1451606400000000000LL + (int64_t)(i - h * n / n_hosts) * 10000000000LL;
        walk += pqt_unit() - 0.5;
        PQT_F64(t, f)[i] = walk;
        PQT_I64(t, iv)[i] = (int64_t)(pqt_rand() % 2000000) - 1000000;
        PQT_U64(t, u)[i] = pqt_rand() >> (pqt_rand() % 64);
        PQT_B(t, b)[i] = pqt_rand() & 1;
        switch (pqt_rand() % 5) {
            case 0:
                PQT_STR(t, s)[i] = sv_from("");
                break;
            case 1:
                PQT_STR(t, s)[i] = pqt_str(t, "ünïcode %llu ✓", (unsigned long long)(i % 97));
                break;
            case 2:
                PQT_STR(t, s)[i] = pqt_str(t, "emoji %llu 😀", (unsigned long long)pqt_rand());
                break;
            default:
                PQT_STR(t, s)[i] = pqt_str(t, "line %zu", i);
                break;
        }
        for (size_t c = 0; c < t->n_cols; c++)
            if (t->vecs[c].valid && c != host && c != region)
                PQT_VALID(t, c)[i] = (int)(pqt_rand() % 100) >= null_pct;
    }
}

static void roundtrip(const pqt_table *t, const pq_writer_opts *o, size_t batch, const char *name,
                      buf *keep) {
    buf out = {0};
    pqt_write_table(t, o, batch, &out);
    pqt_verify(out.p, out.len, t);
    pqt_pqcheck_file(out.p, out.len, name);
    if (keep)
        *keep = out;
    else
        buf_free(&out);
}

static pq_writer_opts opts(pq_codec codec, bool v2, size_t rg_rows, size_t page_bytes) {
    pq_writer_opts o;
    pq_writer_opts_init(&o);
    o.codec = codec;
    o.data_page_v2 = v2;
    if (rg_rows) o.row_group_rows = rg_rows;
    if (page_bytes) o.page_bytes = page_bytes;
    return o;
}

/* Data page encodings used by chunk (rg, col), as a bit set, from the footer. */
static unsigned page_encodings(const uint8_t *p, size_t n, size_t rg, size_t col, int *pages) {
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(p, n, &r, &err), SILT_OK);
    const pq_chunk_meta *m = &r->fm.rgs[rg].cols[col];
    assert_true(m->has_enc_stats);
    unsigned set = 0;
    int cnt = 0;
    for (size_t i = 0; i < m->n_enc_stats; i++) {
        if (m->enc_stats[i].page_type == PQP_DICTIONARY_PAGE) continue;
        set |= 1u << m->enc_stats[i].encoding;
        cnt += m->enc_stats[i].count;
    }
    if (pages) *pages = cnt;
    pq_reader_close(r);
    return set;
}

/* ------------------------------------------------------------------ tests */

static void test_pq_roundtrip_all_types_v1_zstd(void **state) {
    (void)state;
    pqt_table t;
    fill_all_types(&t, 20000, 10, 1);
    pq_writer_opts o = opts(PQ_ZSTD, false, 7000, 16 * 1024);
    buf out = {0};
    roundtrip(&t, &o, 3333, "all_v1_zstd.parquet", &out);
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
    assert_int_equal(pq_reader_num_row_groups(r), 3);
    assert_int_equal(pq_reader_row_group_rows(r, 2), 6000);
    for (size_t g = 0; g < 3; g++)
        for (size_t c = 0; c < t.n_cols; c++)
            assert_int_equal(r->fm.rgs[g].cols[c].codec, PQC_ZSTD);
    pq_reader_close(r);
    /* time: DELTA; tags: dictionary; doubles (a random walk): BYTE_STREAM_SPLIT; ints DELTA */
    assert_int_equal(page_encodings(out.p, out.len, 0, 2, NULL), 1u << PQE_DELTA_BINARY_PACKED);
    assert_int_equal(page_encodings(out.p, out.len, 0, 0, NULL), 1u << PQE_RLE_DICTIONARY);
    assert_int_equal(page_encodings(out.p, out.len, 0, 3, NULL), 1u << PQE_BYTE_STREAM_SPLIT);
    assert_int_equal(page_encodings(out.p, out.len, 1, 4, NULL), 1u << PQE_DELTA_BINARY_PACKED);
    assert_int_equal(page_encodings(out.p, out.len, 1, 6, NULL), 1u << PQE_PLAIN);
    int pages;
    page_encodings(out.p, out.len, 0, 3, &pages);
    assert_true(pages >= 3); /* 7000 doubles, 16 KiB pages */
    buf_free(&out);
    pqt_table_free(&t);
}

static void test_pq_roundtrip_all_types_v2_snappy(void **state) {
    (void)state;
    pqt_table t;
    fill_all_types(&t, 15000, 30, 2);
    pq_writer_opts o = opts(PQ_SNAPPY, true, 4096, 8 * 1024);
    buf out = {0};
    roundtrip(&t, &o, 1000, "all_v2_snappy.parquet", &out);
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
    assert_int_equal(pq_reader_num_row_groups(r), 4);
    assert_int_equal(r->fm.rgs[0].cols[0].codec, PQC_SNAPPY);
    pq_reader_close(r);
    /* booleans are RLE in v2 pages */
    assert_int_equal(page_encodings(out.p, out.len, 0, 6, NULL), 1u << PQE_RLE);
    buf_free(&out);
    pqt_table_free(&t);
}

static void test_pq_roundtrip_uncompressed_v1_and_v2(void **state) {
    (void)state;
    pqt_table t;
    fill_all_types(&t, 3000, 20, 3);
    pq_writer_opts o = opts(PQ_UNCOMPRESSED, false, 0, 4096);
    buf out = {0};
    roundtrip(&t, &o, 0, "all_v1_none.parquet", &out);
    /* BYTE_STREAM_SPLIT does not pay without compression */
    assert_int_equal(page_encodings(out.p, out.len, 0, 3, NULL), 1u << PQE_PLAIN);
    buf_free(&out);
    o.data_page_v2 = true;
    roundtrip(&t, &o, 0, "all_v2_none.parquet", NULL);
    pqt_table_free(&t);
}

static void test_pq_roundtrip_zstd_levels(void **state) {
    (void)state;
    pqt_table t;
    fill_all_types(&t, 4000, 5, 4);
    int levels[] = {1, 9, 19};
    for (size_t i = 0; i < 3; i++) {
        pq_writer_opts o = opts(PQ_ZSTD, i == 1, 0, 0);
        o.zstd_level = levels[i];
        buf out = {0};
        pqt_write_table(&t, &o, 0, &out);
        pqt_verify(out.p, out.len, &t);
        buf_free(&out);
    }
    pqt_table_free(&t);
}

static void test_pq_roundtrip_all_null_and_no_null_columns(void **state) {
    (void)state;
    pqt_table t;
    memset(&t, 0, sizeof t);
    t.n = 5000;
    pq_type types[] = {PQ_STRING, PQ_DOUBLE, PQ_INT64, PQ_UINT64, PQ_BOOL, PQ_TIMESTAMP_NS};
    const char *names_null[] = {"s_null", "f_null", "i_null", "u_null", "b_null", "t_null"};
    const char *names_full[] = {"s_full", "f_full", "i_full", "u_full", "b_full", "t_full"};
    const char *names_req[] = {"s_req", "f_req", "i_req", "u_req", "b_req", "t_req"};
    for (size_t k = 0; k < 6; k++) {
        size_t a = pqt_add(&t, names_null[k], types[k], true, k == 0);
        memset(PQT_VALID(&t, a), 0, t.n); /* all NULL */
        size_t b = pqt_add(&t, names_full[k], types[k], true, false);
        t.vecs[b].valid = NULL; /* optional column, no NULL given */
        pqt_add(&t, names_req[k], types[k], false, false);
    }
    for (size_t c = 0; c < t.n_cols; c++)
        for (size_t i = 0; i < t.n; i++) switch (t.defs[c].type) {
                case PQ_STRING:
                    PQT_STR(&t, c)[i] = pqt_str(&t, "%zu", i % 13);
                    break;
                case PQ_DOUBLE:
                    PQT_F64(&t, c)[i] = (double)i / 3;
                    break;
                case PQ_UINT64:
                    PQT_U64(&t, c)[i] = i * 7;
                    break;
                case PQ_BOOL:
                    PQT_B(&t, c)[i] = i % 2;
                    break;
                default:
                    PQT_I64(&t, c)[i] = (int64_t)i * 1000 - 7;
                    break;
            }
    for (int v2 = 0; v2 <= 1; v2++) {
        pq_writer_opts o = opts(PQ_ZSTD, v2, 2048, 4096);
        buf out = {0};
        roundtrip(&t, &o, 0, v2 ? "nulls_v2.parquet" : "nulls_v1.parquet", &out);
        pq_reader *r;
        silt_err err;
        assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
        for (size_t c = 0; c < t.n_cols; c++) {
            pq_stat st;
            assert_int_equal(pq_reader_chunk_stats(r, 0, c, &st), SILT_OK);
            assert_true(st.has_null_count);
            if (c % 3 == 0) {
                assert_int_equal(st.null_count, 2048);
                assert_false(st.has_min_max);
            } else {
                assert_int_equal(st.null_count, 0);
                assert_true(st.has_min_max);
            }
            /* an all-NULL page is a null page in the ColumnIndex */
            const pq_page_info *pg;
            size_t np;
            assert_true(pq_reader_pages(r, 0, c, &pg, &np));
            for (size_t i = 0; i < np; i++) assert_int_equal(pg[i].stat.has_min_max, c % 3 != 0);
        }
        pq_reader_close(r);
        buf_free(&out);
    }
    pqt_table_free(&t);
}

/* series_cols / tail_rows: pages end where the series (the leading key columns) changes once
 * they hold PQ_SERIES_PAGE_MIN_ROWS rows, and the last tail_rows rows of every long enough
 * series are a page of their own, on every column alike; the data reads back unchanged. */
static void test_pq_series_aligned_pages(void **state) {
    (void)state;
    /* series of 3000, 5000, 100 x 11 (short: they share a page), 2200 rows; key (host, rack):
     * the last series has the host of the one before it, in another rack */
    size_t lens[14] = {3000, 5000};
    for (int i = 2; i < 13; i++) lens[i] = 100;
    lens[13] = 2200;
    pqt_table t;
    memset(&t, 0, sizeof t);
    for (int i = 0; i < 14; i++) t.n += lens[i];
    size_t host = pqt_add(&t, "host", PQ_STRING, true, true);
    size_t rack = pqt_add(&t, "rack", PQ_STRING, true, true);
    size_t v = pqt_add(&t, "v", PQ_DOUBLE, true, false);
    size_t ts = pqt_add(&t, "time", PQ_TIMESTAMP_NS, false, false);
    size_t row = 0;
    for (int s = 0; s < 14; s++)
        for (size_t i = 0; i < lens[s]; i++, row++) {
            char name[16];
            snprintf(name, sizeof name, "h%02d", s < 13 ? s : 12);
            PQT_STR(&t, host)[row] = pqt_str(&t, "%s", name);
            PQT_STR(&t, rack)[row] = pqt_str(&t, "%s", s == 13 ? "r2" : "r1");
            PQT_F64(&t, v)[row] = (double)row * 0.5;
            PQT_I64(&t, ts)[row] = (int64_t)i * 1000;
        }
    pq_writer_opts o = opts(PQ_ZSTD, false, 0, 0);
    o.page_rows = 4096;
    o.series_cols = 2;
    o.tail_rows = 256;
    buf out = {0};
    roundtrip(&t, &o, 700, "series_pages.parquet", &out);
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
    /* 0-2744 | 2744-3000 tail | 3000-7096 (page_rows) | 7096-7744 | 7744-8000 tail |
     * the short series in one page 8000-9100 | 9100-11044 | 11044-11300 tail */
    const uint64_t want[] = {0, 2744, 3000, 7096, 7744, 8000, 9100, 11044, 11300};
    for (size_t c = 0; c < t.n_cols; c++) {
        const pq_page_info *pg;
        size_t np;
        assert_true(pq_reader_pages(r, 0, c, &pg, &np));
        assert_int_equal(np, 8);
        for (size_t i = 0; i < np; i++) {
            assert_int_equal(pg[i].first_row, want[i]);
            assert_int_equal(pg[i].n_rows, want[i + 1] - want[i]);
        }
        if (c == host) { /* one host per page but in the shared one */
            for (size_t i = 0; i < np; i++)
                assert_int_equal(sv_eq(pg[i].stat.min_str, pg[i].stat.max_str), i != 5);
        }
    }
    pq_reader_close(r);
    buf_free(&out);
    pqt_table_free(&t);
}

static void test_pq_roundtrip_extreme_values(void **state) {
    (void)state;
    pqt_table t;
    memset(&t, 0, sizeof t);
    t.n = 64;
    size_t i64 = pqt_add(&t, "i64", PQ_INT64, false, false);
    size_t u64 = pqt_add(&t, "u64", PQ_UINT64, false, false);
    size_t f64 = pqt_add(&t, "f64", PQ_DOUBLE, false, false);
    size_t ts = pqt_add(&t, "ts", PQ_TIMESTAMP_NS, false, false);
    int64_t iv[] = {INT64_MIN, INT64_MAX, 0, -1, 1, INT64_MIN + 1, INT64_MAX - 1};
    uint64_t uv[] = {UINT64_MAX, 0, 1, (uint64_t)1 << 63, ((uint64_t)1 << 63) - 1, UINT64_MAX - 1};
    double fv[] = {-0.0,     0.0,       DBL_MAX,
                   -DBL_MAX, DBL_MIN,   -DBL_MIN,
                   4.9e-324, -4.9e-324, 2.2250738585072009e-308,
                   INFINITY, -INFINITY, 1e-300,
                   123.456};
    for (size_t i = 0; i < t.n; i++) {
        PQT_I64(&t, i64)[i] = iv[i % 7];
        PQT_U64(&t, u64)[i] = uv[i % 6];
        PQT_F64(&t, f64)[i] = fv[i % 13];
        PQT_I64(&t, ts)[i] = iv[(i + 3) % 7] / 4; /* within what readers can show */
    }
    buf out = {0};
    pq_writer_opts o = opts(PQ_ZSTD, false, 0, 0);
    roundtrip(&t, &o, 0, "extremes.parquet", &out);
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
    pq_stat st;
    pq_reader_chunk_stats(r, 0, i64, &st);
    assert_true(st.has_min_max);
    assert_true(st.min.i64 == INT64_MIN && st.max.i64 == INT64_MAX);
    pq_reader_chunk_stats(r, 0, u64, &st);
    assert_true(st.min.u64 == 0 && st.max.u64 == UINT64_MAX); /* unsigned order */
    pq_reader_chunk_stats(r, 0, f64, &st);
    assert_true(st.min.f64 == -INFINITY && st.max.f64 == INFINITY);
    pq_reader_close(r);
    buf_free(&out);

    /* -0.0 and +0.0 as bounds: a zero min is -0.0, a zero max +0.0 */
    for (size_t i = 0; i < t.n; i++) PQT_F64(&t, f64)[i] = i % 2 ? 0.0 : -0.0;
    pqt_write_table(&t, &o, 0, &out);
    pqt_verify(out.p, out.len, &t);
    assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
    pq_reader_chunk_stats(r, 0, f64, &st);
    assert_true(st.has_min_max);
    assert_true(st.min.f64 == 0 && signbit(st.min.f64));
    assert_true(st.max.f64 == 0 && !signbit(st.max.f64));
    pq_reader_close(r);
    pqt_pqcheck_file(out.p, out.len, "zeros.parquet");
    buf_free(&out);

    /* NaN: excluded from min/max, counted in nan_count */
    for (size_t i = 0; i < t.n; i++) PQT_F64(&t, f64)[i] = i % 3 ? NAN : (double)i;
    pqt_write_table(&t, &o, 0, &out);
    pqt_verify(out.p, out.len, &t);
    assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
    pq_reader_chunk_stats(r, 0, f64, &st);
    assert_true(st.has_min_max && st.min.f64 == 0 && st.max.f64 == 63);
    assert_int_equal(r->fm.rgs[0].cols[f64].stats.nan_count, 42);
    pq_reader_close(r);
    pqt_pqcheck_file(out.p, out.len, "nan.parquet");
    buf_free(&out);
    pqt_table_free(&t);
}

static void test_pq_roundtrip_strings_empty_unicode_long(void **state) {
    (void)state;
    pqt_table t;
    memset(&t, 0, sizeof t);
    t.n = 3000;
    size_t tag = pqt_add(&t, "tag", PQ_STRING, true, true);
    size_t s = pqt_add(&t, "s", PQ_STRING, false, false);
    size_t l = pqt_add(&t, "long", PQ_STRING, true, false);
    static const char *uni[] = {"",
                                "ä",
                                "€uro",
                                "中文字符",
                                "😀",
                                "👩‍👩‍👧‍👦 family",
                                "\xc3\xa9t\xc3\xa9",
                                "A",
                                "\x7f",
                                "tab\there",
                                "nul-free"};
    for (size_t i = 0; i < t.n; i++) {
        PQT_STR(&t, tag)[i] = sv_from(uni[(i / 300) % 11]);
        PQT_STR(&t, s)[i] = sv_from(uni[i % 11]);
        /* > 64 bytes: statistics are truncated at a UTF-8 boundary */
        PQT_STR(&t, l)[i] = pqt_str(&t, "%s-%0100zu-😀-%s", uni[i % 11], i, uni[(i * 7) % 11]);
        PQT_VALID(&t, l)[i] = i % 17 != 0;
    }
    PQT_STR(&t, l)[5] = pqt_str(&t, "%s", "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀");
    for (int v2 = 0; v2 <= 1; v2++) {
        buf out = {0};
        pq_writer_opts o = opts(v2 ? PQ_SNAPPY : PQ_ZSTD, v2, 1000, 2048);
        roundtrip(&t, &o, 777, v2 ? "strings_v2.parquet" : "strings_v1.parquet", &out);
        pq_reader *r;
        silt_err err;
        assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
        pq_stat st;
        pq_reader_chunk_stats(r, 0, l, &st);
        assert_true(st.has_min_max);
        assert_true(st.min_str.n <= PQ_STAT_MAX_BYTES && st.max_str.n <= PQ_STAT_MAX_BYTES + 3);
        assert_true(utf8_valid((const uint8_t *)st.min_str.p, st.min_str.n, NULL));
        assert_true(utf8_valid((const uint8_t *)st.max_str.p, st.max_str.n, NULL));
        /* the bounds still bound every value */
        pq_colbuf cb;
        pq_colbuf_init(&cb);
        assert_int_equal(pq_read_column(r, 0, l, 0, 1000, &cb, &err), SILT_OK);
        for (size_t k = 0; k < 1000; k++) {
            if (cb.valid && !cb.valid[k]) continue;
            str_view v = cb.str[k];
            size_t m = v.n < st.min_str.n ? v.n : st.min_str.n;
            int c1 = memcmp(st.min_str.p, v.p, m);
            assert_true(c1 < 0 || (c1 == 0 && st.min_str.n <= v.n));
            m = v.n < st.max_str.n ? v.n : st.max_str.n;
            int c2 = memcmp(v.p, st.max_str.p, m);
            assert_true(c2 < 0 || (c2 == 0 && v.n <= st.max_str.n));
        }
        pq_colbuf_fini(&cb);
        pq_reader_close(r);
        buf_free(&out);
    }
    pqt_table_free(&t);
}

static void test_pq_roundtrip_many_row_groups_pages_and_batches(void **state) {
    (void)state;
    pqt_table t;
    fill_all_types(&t, 30001, 15, 5);
    pq_writer_opts o = opts(PQ_ZSTD, false, 999, 1024);
    buf out = {0};
    roundtrip(&t, &o, 101, "many_rg.parquet", &out);
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
    assert_int_equal(pq_reader_num_row_groups(r), 31);
    assert_int_equal(pq_reader_row_group_rows(r, 30), 30001 - 30 * 999);
    const pq_page_info *pg;
    size_t np;
    assert_true(pq_reader_pages(r, 3, 3, &pg, &np));
    assert_true(np >= 7); /* 999 doubles in 1 KiB pages */
    uint64_t rows = 0;
    for (size_t i = 0; i < np; i++) {
        assert_int_equal(pg[i].first_row, rows);
        rows += pg[i].n_rows;
    }
    assert_int_equal(rows, 999);
    pq_reader_close(r);
    buf_free(&out);
    pqt_table_free(&t);
}

static void test_pq_dictionary_fallback_to_plain(void **state) {
    (void)state;
    pqt_table t;
    memset(&t, 0, sizeof t);
    t.n = 6000;
    size_t tag = pqt_add(&t, "tag", PQ_STRING, true, true);
    for (size_t i = 0; i < t.n; i++) {
        PQT_STR(&t, tag)[i] = pqt_str(&t, "series-%05zu-%s", i / 2, i % 3 ? "ü" : "x");
        PQT_VALID(&t, tag)[i] = i % 50 != 7;
    }
    pq_writer_opts o = opts(PQ_ZSTD, false, 0, 4096);
    o.dict_bytes = 16 * 1024; /* fills after ~800 entries */
    buf out = {0};
    roundtrip(&t, &o, 0, "dict_fallback.parquet", &out);
    int pages;
    unsigned enc = page_encodings(out.p, out.len, 0, 0, &pages);
    assert_int_equal(enc, (1u << PQE_RLE_DICTIONARY) | (1u << PQE_PLAIN));
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
    assert_true(r->fm.rgs[0].cols[0].has_dict_offset);
    /* rows of the first page come from the dictionary; the whole chunk does not */
    const pq_page_info *pg;
    size_t np;
    assert_true(pq_reader_pages(r, 0, 0, &pg, &np));
    pq_colbuf cb;
    pq_colbuf_init(&cb);
    assert_int_equal(pq_read_column(r, 0, 0, 0, pg[0].n_rows, &cb, &err), SILT_OK);
    assert_non_null(cb.dict);
    assert_true(cb.n_dict > 0);
    assert_int_equal(pq_read_column(r, 0, 0, 0, t.n, &cb, &err), SILT_OK);
    assert_null(cb.dict);
    pq_colbuf_fini(&cb);
    pq_reader_close(r);
    buf_free(&out);
    pqt_table_free(&t);
}

static void test_pq_string_dictionary_only_where_it_pays(void **state) {
    (void)state;
    pqt_table t;
    memset(&t, 0, sizeof t);
    t.n = 4000;
    size_t low = pqt_add(&t, "low", PQ_STRING, false, false);
    size_t high = pqt_add(&t, "high", PQ_STRING, false, false);
    size_t tag = pqt_add(&t, "tag_unique", PQ_STRING, false, true);
    for (size_t i = 0; i < t.n; i++) {
        PQT_STR(&t, low)[i] = pqt_str(&t, "status-%zu", i % 5);
        PQT_STR(&t, high)[i] = pqt_str(&t, "id-%zu", i);
        PQT_STR(&t, tag)[i] = pqt_str(&t, "tag-%zu", i);
    }
    buf out = {0};
    pq_writer_opts o = opts(PQ_ZSTD, false, 0, 0);
    roundtrip(&t, &o, 0, "dict_pays.parquet", &out);
    assert_int_equal(page_encodings(out.p, out.len, 0, low, NULL), 1u << PQE_RLE_DICTIONARY);
    assert_int_equal(page_encodings(out.p, out.len, 0, high, NULL), 1u << PQE_PLAIN);
    /* a tag column is always dictionary-encoded while the dictionary fits */
    assert_int_equal(page_encodings(out.p, out.len, 0, tag, NULL), 1u << PQE_RLE_DICTIONARY);
    /* dictionary access for a dictionary-encoded chunk */
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
    pq_colbuf cb;
    pq_colbuf_init(&cb);
    assert_int_equal(pq_read_column(r, 0, low, 10, 3000, &cb, &err), SILT_OK);
    assert_int_equal(cb.n_dict, 5);
    for (size_t k = 0; k < cb.n; k++) assert_true(sv_eq(cb.dict[cb.dict_idx[k]], cb.str[k]));
    assert_int_equal(pq_read_column(r, 0, high, 0, 10, &cb, &err), SILT_OK);
    assert_null(cb.dict);
    pq_colbuf_fini(&cb);
    pq_reader_close(r);
    buf_free(&out);
    pqt_table_free(&t);
}

static void test_pq_byte_stream_split_chosen_and_not_chosen(void **state) {
    (void)state;
    pqt_table t;
    memset(&t, 0, sizeof t);
    t.n = 20000;
    size_t walk = pqt_add(&t, "walk", PQ_DOUBLE, false, false);
    size_t runs = pqt_add(&t, "runs", PQ_DOUBLE, true, false);
    double w = 50, v = 0;
    pqt_rng = 77;
    for (size_t i = 0; i < t.n; i++) {
        w += pqt_unit() - 0.5;
        PQT_F64(&t, walk)[i] = w;
        if (i % 50 == 0) v = pqt_unit() * 1000;
        PQT_F64(&t, runs)[i] = v; /* runs of one value: PLAIN compresses better */
        PQT_VALID(&t, runs)[i] = i % 1000 != 3;
    }
    for (int v2 = 0; v2 <= 1; v2++) {
        buf out = {0};
        pq_writer_opts o = opts(PQ_ZSTD, v2, 0, 0);
        roundtrip(&t, &o, 0, v2 ? "bss_v2.parquet" : "bss_v1.parquet", &out);
        assert_int_equal(page_encodings(out.p, out.len, 0, walk, NULL),
                         1u << PQE_BYTE_STREAM_SPLIT);
        assert_int_equal(page_encodings(out.p, out.len, 0, runs, NULL), 1u << PQE_PLAIN);
        buf_free(&out);
    }
    pqt_table_free(&t);
}

static void test_pq_statistics_per_chunk_and_page(void **state) {
    (void)state;
    pqt_table t;
    fill_all_types(&t, 9000, 20, 6);
    buf out = {0};
    pq_writer_opts o = opts(PQ_ZSTD, false, 4000, 4096);
    pqt_write_table(&t, &o, 0, &out);
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
    uint64_t base = 0;
    for (size_t g = 0; g < pq_reader_num_row_groups(r); g++) {
        uint64_t rows = pq_reader_row_group_rows(r, g);
        for (size_t c = 0; c < t.n_cols; c++) {
            pq_stat st;
            assert_int_equal(pq_reader_chunk_stats(r, g, c, &st), SILT_OK);
            assert_true(st.has_min_max);
            assert_true(st.has_null_count);
            /* recompute from the source rows */
            uint64_t nulls = 0;
            bool first = true;
            pq_stat want;
            memset(&want, 0, sizeof want);
            for (uint64_t k = 0; k < rows; k++) {
                size_t row = (size_t)(base + k);
                if (t.vecs[c].valid && !t.vecs[c].valid[row]) {
                    nulls++;
                    continue;
                }
                switch (t.defs[c].type) {
                    case PQ_STRING: {
                        str_view s = t.vecs[c].str[row];
                        if (first ||
                            memcmp(s.p, want.min_str.p,
                                   s.n < want.min_str.n ? s.n : want.min_str.n) < 0 ||
                            (memcmp(s.p, want.min_str.p,
                                    s.n < want.min_str.n ? s.n : want.min_str.n) == 0 &&
                             s.n < want.min_str.n))
                            want.min_str = s;
                        if (first ||
                            memcmp(s.p, want.max_str.p,
                                   s.n < want.max_str.n ? s.n : want.max_str.n) > 0 ||
                            (memcmp(s.p, want.max_str.p,
                                    s.n < want.max_str.n ? s.n : want.max_str.n) == 0 &&
                             s.n > want.max_str.n))
                            want.max_str = s;
                        break;
                    }
                    case PQ_DOUBLE: {
                        double x = t.vecs[c].f64[row];
                        if (first || x < want.min.f64) want.min.f64 = x;
                        if (first || x > want.max.f64) want.max.f64 = x;
                        break;
                    }
                    case PQ_UINT64: {
                        uint64_t x = t.vecs[c].u64[row];
                        if (first || x < want.min.u64) want.min.u64 = x;
                        if (first || x > want.max.u64) want.max.u64 = x;
                        break;
                    }
                    case PQ_BOOL: {
                        bool x = t.vecs[c].b[row];
                        if (first) want.min.b = want.max.b = x;
                        want.min.b = want.min.b && x;
                        want.max.b = want.max.b || x;
                        break;
                    }
                    default: {
                        int64_t x = t.vecs[c].i64[row];
                        if (first || x < want.min.i64) want.min.i64 = x;
                        if (first || x > want.max.i64) want.max.i64 = x;
                        break;
                    }
                }
                first = false;
            }
            assert_int_equal(st.null_count, nulls);
            switch (t.defs[c].type) {
                case PQ_STRING:
                    assert_true(sv_eq(st.min_str, want.min_str));
                    assert_true(sv_eq(st.max_str, want.max_str));
                    break;
                case PQ_DOUBLE:
                    assert_true(st.min.f64 == want.min.f64 && st.max.f64 == want.max.f64);
                    break;
                case PQ_UINT64:
                    assert_true(st.min.u64 == want.min.u64 && st.max.u64 == want.max.u64);
                    break;
                case PQ_BOOL:
                    assert_true(st.min.b == want.min.b && st.max.b == want.max.b);
                    break;
                default:
                    assert_true(st.min.i64 == want.min.i64 && st.max.i64 == want.max.i64);
            }
            /* page bounds lie within the chunk bounds and cover the rows */
            const pq_page_info *pg;
            size_t np;
            assert_true(pq_reader_pages(r, g, c, &pg, &np));
            uint64_t covered = 0, page_nulls = 0;
            for (size_t i = 0; i < np; i++) {
                covered += pg[i].n_rows;
                assert_true(pg[i].stat.has_null_count);
                page_nulls += pg[i].stat.null_count;
                if (!pg[i].stat.has_min_max) continue;
                if (t.defs[c].type == PQ_INT64 || t.defs[c].type == PQ_TIMESTAMP_NS)
                    assert_true(pg[i].stat.min.i64 >= st.min.i64 &&
                                pg[i].stat.max.i64 <= st.max.i64);
                if (t.defs[c].type == PQ_UINT64)
                    assert_true(pg[i].stat.min.u64 >= st.min.u64 &&
                                pg[i].stat.max.u64 <= st.max.u64);
            }
            assert_int_equal(covered, rows);
            assert_int_equal(page_nulls, nulls);
        }
        base += rows;
    }
    pq_reader_close(r);
    buf_free(&out);
    pqt_table_free(&t);
}

static void test_pq_kv_created_by_and_describe(void **state) {
    (void)state;
    pqt_table t;
    fill_all_types(&t, 500, 10, 7);
    pq_kv kv[] = {
        {"silt.schema", "{\"table\":\"cpu\",\"columns\":8}"}, {"empty", ""}, {"novalue", NULL}};
    pq_writer_opts o = opts(PQ_ZSTD, false, 0, 0);
    o.kv = kv;
    o.n_kv = 3;
    o.created_by = "silt version 9.9.9 (build test)";
    buf out = {0};
    roundtrip(&t, &o, 0, "kv.parquet", &out);
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
    assert_true(sv_eq_cstr(pq_reader_kv(r, "silt.schema"), "{\"table\":\"cpu\",\"columns\":8}"));
    str_view e = pq_reader_kv(r, "empty");
    assert_non_null(e.p);
    assert_int_equal(e.n, 0);
    assert_null(pq_reader_kv(r, "missing").p);
    assert_string_equal(pq_reader_created_by(r), "silt version 9.9.9 (build test)");
    assert_int_equal(pq_reader_find_column(r, "nope"), -1);
    pq_reader_close(r);
    buf d = {0};
    assert_int_equal(pq_describe(out.p, out.len, &d, &err), SILT_OK);
    const char *s = buf_cstr(&d);
    const char *want[] = {"rows: 500 in 1 row group",
                          "\"host\": BYTE_ARRAY STRING",
                          "TIMESTAMP(NANOS,utc=false)",
                          "INTEGER(64,unsigned)",
                          "RLE_DICTIONARY",
                          "DELTA_BINARY_PACKED",
                          "ZSTD",
                          "silt.schema",
                          "9.9.9",
                          "page index",
                          "max \"日本語ホスト\"",
                          "nulls"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(s, want[i])) fail_msg("describe lacks %s:\n%s", want[i], s);
    buf_free(&d);
    buf_free(&out);
    pqt_table_free(&t);
}

static void test_pq_empty_file_and_single_row(void **state) {
    (void)state;
    pqt_table t;
    fill_all_types(&t, 0, 0, 8);
    roundtrip(&t, NULL, 0, "empty.parquet", NULL);
    pqt_table_free(&t);
    fill_all_types(&t, 1, 0, 9);
    roundtrip(&t, NULL, 0, "one.parquet", NULL);
    pqt_table_free(&t);
}

static void test_pq_writer_rejects_bad_input(void **state) {
    (void)state;
    pq_writer *w;
    silt_err err;
    pq_column_def ok[] = {{"a", PQ_STRING, false, false}, {"b", PQ_INT64, true, false}};
    pq_column_def dup[] = {{"a", PQ_STRING, false, false}, {"a", PQ_INT64, true, false}};
    pq_column_def bad_type[] = {{"a", (pq_type)42, false, false}};
    pq_column_def no_name[] = {{"", PQ_INT64, false, false}};
    assert_int_equal(pq_writer_open(dup, 2, NULL, &w, &err), SILT_EINVAL);
    assert_int_equal(pq_writer_open(bad_type, 1, NULL, &w, &err), SILT_EINVAL);
    assert_int_equal(pq_writer_open(no_name, 1, NULL, &w, &err), SILT_EINVAL);
    assert_int_equal(pq_writer_open(ok, 0, NULL, &w, &err), SILT_EINVAL);
    pq_writer_opts o = opts(PQ_ZSTD, false, 0, 0);
    o.zstd_level = 99;
    assert_int_equal(pq_writer_open(ok, 2, &o, &w, &err), SILT_EINVAL);
    o = opts((pq_codec)3, false, 0, 0);
    assert_int_equal(pq_writer_open(ok, 2, &o, &w, &err), SILT_EINVAL);

    assert_int_equal(pq_writer_open(ok, 2, NULL, &w, &err), SILT_OK);
    str_view s[3] = {SV("x"), SV("y"), SV("z")};
    int64_t iv[3] = {1, 2, 3};
    uint8_t valid_bad[3] = {1, 0, 1};
    pq_vec v[2] = {{.str = s, .valid = valid_bad}, {.i64 = iv}};
    assert_int_equal(pq_writer_write(w, v, 3, &err), SILT_EINVAL); /* NULL in a required column */
    v[0].valid = NULL;
    str_view bad_utf8[3] = {SV("ok"), {"\xff\xfe", 2}, SV("ok")};
    v[0].str = bad_utf8;
    assert_int_equal(pq_writer_write(w, v, 3, &err), SILT_EINVAL);
    assert_non_null(strstr(err.msg, "UTF-8"));
    v[0].str = s;
    v[1].i64 = NULL;
    assert_int_equal(pq_writer_write(w, v, 3, &err), SILT_EINVAL); /* no values */
    v[1].i64 = iv;
    assert_int_equal(pq_writer_write(w, v, 3, &err), SILT_OK); /* rejected batches left no rows */
    buf out = {0};
    assert_int_equal(pq_writer_finish(w, &out, &err), SILT_OK);
    pq_reader *r;
    assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
    assert_int_equal(pq_reader_num_rows(r), 3);
    pq_reader_close(r);
    buf_free(&out);
    /* abort frees everything */
    assert_int_equal(pq_writer_open(ok, 2, NULL, &w, &err), SILT_OK);
    assert_int_equal(pq_writer_write(w, v, 3, &err), SILT_OK);
    pq_writer_abort(w);
}

static void test_pq_finish_appends_to_existing_buffer(void **state) {
    (void)state;
    pqt_table t;
    fill_all_types(&t, 100, 10, 10);
    buf out = {0};
    buf_append(&out, "prefix", 6);
    pqt_write_table(&t, NULL, 0, &out);
    assert_memory_equal(out.p, "prefix", 6);
    pqt_verify(out.p + 6, out.len - 6, &t);
    buf_free(&out);
    pqt_table_free(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pq_roundtrip_all_types_v1_zstd),
        cmocka_unit_test(test_pq_roundtrip_all_types_v2_snappy),
        cmocka_unit_test(test_pq_roundtrip_uncompressed_v1_and_v2),
        cmocka_unit_test(test_pq_roundtrip_zstd_levels),
        cmocka_unit_test(test_pq_roundtrip_all_null_and_no_null_columns),
        cmocka_unit_test(test_pq_roundtrip_extreme_values),
        cmocka_unit_test(test_pq_roundtrip_strings_empty_unicode_long),
        cmocka_unit_test(test_pq_roundtrip_many_row_groups_pages_and_batches),
        cmocka_unit_test(test_pq_dictionary_fallback_to_plain),
        cmocka_unit_test(test_pq_string_dictionary_only_where_it_pays),
        cmocka_unit_test(test_pq_byte_stream_split_chosen_and_not_chosen),
        cmocka_unit_test(test_pq_statistics_per_chunk_and_page),
        cmocka_unit_test(test_pq_series_aligned_pages),
        cmocka_unit_test(test_pq_kv_created_by_and_describe),
        cmocka_unit_test(test_pq_empty_file_and_single_row),
        cmocka_unit_test(test_pq_writer_rejects_bad_input),
        cmocka_unit_test(test_pq_finish_appends_to_existing_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
