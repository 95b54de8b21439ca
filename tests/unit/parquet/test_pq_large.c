/* SPDX-License-Identifier: MIT
 *
 * The large file: 1,100,000 rows in several row groups, tags (with multi-byte UTF-8 and emoji
 * values), time and all five field types with NULLs, written with the default options and
 * checked by silt's reader and by pqcheck (DuckDB, arrow-rs, hyparquet agree on every cell,
 * statistics and page indexes hold). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parquet/pq_int.h"
#include "parquet/pq_test_util.h"

#define ROWS  1100000
#define HOSTS 50

static void test_pq_large_million_rows_all_types_pass_pqcheck(void **state) {
    (void)state;
    static const char *names[] = {"srv-ümlaut", "节点", "🚀-rocket", "plain", "Ωmega"};
    static const char *regions[] = {"us-east-1", "eu-west-1", "ap-南", "sa-east-1"};
    pqt_table t;
    memset(&t, 0, sizeof t);
    t.n = ROWS;
    size_t host = pqt_add(&t, "host", PQ_STRING, true, true);
    size_t region = pqt_add(&t, "region", PQ_STRING, true, true);
    size_t tm = pqt_add(&t, "time", PQ_TIMESTAMP_NS, false, false);
    size_t usage = pqt_add(&t, "usage", PQ_DOUBLE, true, false);
    size_t count = pqt_add(&t, "count", PQ_INT64, true, false);
    size_t bytes = pqt_add(&t, "bytes", PQ_UINT64, true, false);
    size_t up = pqt_add(&t, "up", PQ_BOOL, true, false);
    size_t msg = pqt_add(&t, "msg", PQ_STRING, true, false);
    str_view host_names[HOSTS];
    for (size_t h = 0; h < HOSTS; h++) host_names[h] = pqt_str(&t, "%s-%02zu", names[h % 5], h);
    str_view msgs[16];
    for (size_t k = 0; k < 16; k++) msgs[k] = pqt_str(&t, "status %zu — ok ✓", k);
    pqt_rng = 2024;
    size_t per_host = ROWS / HOSTS;
    double walk = 50;
    for (size_t i = 0; i < ROWS; i++) {
        size_t h = i / per_host;
        size_t k = i % per_host;
        PQT_STR(&t, host)[i] = host_names[h];
        PQT_STR(&t, region)[i] = sv_from(regions[h % 4]);
        PQT_VALID(&t, region)[i] = h % 7 != 3; /* some series have no region tag */
        PQT_I64(&t, tm)[i] = 1451606400000000000LL + (int64_t)k * 10000000000LL;
        if (k == 0) walk = pqt_unit() * 100;
        walk += pqt_unit() - 0.5;
        PQT_F64(&t, usage)[i] = walk;
        PQT_I64(&t, count)[i] = (int64_t)(k * k) - 1000000;
        PQT_U64(&t, bytes)[i] = k == 17 ? UINT64_MAX : (uint64_t)k * 4096;
        PQT_B(&t, up)[i] = (k / 100) % 2;
        PQT_STR(&t, msg)[i] = msgs[(k / 1000) % 16];
        PQT_VALID(&t, usage)[i] = k % 97 != 5;
        PQT_VALID(&t, count)[i] = k % 31 != 2;
        PQT_VALID(&t, bytes)[i] = k % 53 != 1;
        PQT_VALID(&t, up)[i] = k % 11 != 9;
        PQT_VALID(&t, msg)[i] = k % 5 != 0;
    }
    pq_writer_opts o;
    pq_writer_opts_init(&o);
    o.row_group_rows = 300000;
    buf out = {0};
    pqt_write_table(&t, &o, 65536, &out);
    print_message("1.1M rows: %zu bytes\n", out.len);
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
    assert_int_equal(pq_reader_num_row_groups(r), 4);
    assert_int_equal(pq_reader_num_rows(r), ROWS);
    pq_reader_close(r);
    pqt_verify(out.p, out.len, &t);
    pqt_pqcheck_file(out.p, out.len, "large_1m.parquet");
    buf_free(&out);
    pqt_table_free(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pq_large_million_rows_all_types_pass_pqcheck),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
