/* SPDX-License-Identifier: MIT
 *
 * The v1 writer's table mode (query_v1_table.c): series collected into InfluxDB 3's table
 * shape -- iox::measurement, the first column, the GROUP BY tags sorted, the other columns in
 * order of appearance, unioned over the series -- with each column's type resolved from its
 * values, statements aborted, the size bound, and the empty table in every format; and
 * query_influxql_table() over the in-memory source: InfluxDB 3's rules for statements and
 * databases, and its errors leaving nothing in the output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/mem_source.h"
#include "query/query_v1.h"

static const int64_t T[] = {INT64_C(1451606400000000000), INT64_C(1451606460000000000),
                            INT64_C(1451606520000000000)};

/* One row of a (time, value) series: v typed ty at index i of its arrays. */
static void row2(v1_writer *w, const query_vec *v, v1_type ty, uint32_t i) {
    query_vec vt = {.i64 = T};
    const query_vec *vecs[] = {&vt, v};
    const v1_type types[] = {V1_TIME, ty};
    query_v1_row(w, vecs, types, 2, i);
}

/* The table written as fmt, NUL-terminated (caller frees). */
static char *write_table(v1_table *t, query_format fmt, size_t max, int *rc) {
    buf out = {0};
    buf_puts(&out, "");
    *rc = query_v1_table_write(t, fmt, &out, max, NULL);
    buf_putc(&out, 0);
    return (char *)out.p;
}

static void test_v1_table_union_of_columns_in_influxdb3_order(void **state) {
    (void)state;
    v1_table *t = query_v1_table_create(0);
    v1_writer w;
    query_v1_init_table(&w, t);
    query_v1_begin(&w);
    query_v1_stmt_begin(&w, 0);
    /* GROUP BY region, host as the sink lists them: the table sorts them */
    const str_view keys[] = {SV("region"), SV("host")};
    const str_view a[] = {SV("eu"), SV("h1")}, b[] = {SV(""), SV("h2")};
    const str_view cpu_cols[] = {SV("time"), SV("usage")}, mem_cols[] = {SV("time"), SV("free")};
    const double F[] = {1.5, 2.5, 3.5};
    const int64_t I[] = {100, 200, 300};
    query_vec vf = {.f64 = F}, vi = {.i64 = I};
    query_v1_series_begin(&w, SV("cpu"), keys, a, 2, cpu_cols, 2);
    row2(&w, &vf, V1_FLOAT, 0);
    row2(&w, &vf, V1_FLOAT, 1);
    query_v1_series_end(&w);
    query_v1_series_begin(&w, SV("mem"), keys, b, 2, mem_cols, 2); /* no region: NULL */
    row2(&w, &vi, V1_INT, 2);
    query_v1_series_end(&w);
    query_v1_stmt_end(&w);
    query_v1_end(&w);
    int rc;
    char *s = write_table(t, QUERY_FMT_CSV, 0, &rc);
    assert_int_equal(rc, SILT_OK);
    assert_string_equal(s, "iox::measurement,time,host,region,usage,free\n"
                           "cpu,2016-01-01T00:00:00,h1,eu,1.5,\n"
                           "cpu,2016-01-01T00:01:00,h1,eu,2.5,\n"
                           "mem,2016-01-01T00:02:00,h2,,,300\n");
    free(s);
    s = write_table(t, QUERY_FMT_JSON, 0, &rc);
    assert_int_equal(rc, SILT_OK);
    assert_string_equal(s, "[{\"iox::measurement\":\"cpu\",\"time\":\"2016-01-01T00:00:00\","
                           "\"host\":\"h1\",\"region\":\"eu\",\"usage\":1.5},"
                           "{\"iox::measurement\":\"cpu\",\"time\":\"2016-01-01T00:01:00\","
                           "\"host\":\"h1\",\"region\":\"eu\",\"usage\":2.5},"
                           "{\"iox::measurement\":\"mem\",\"time\":\"2016-01-01T00:02:00\","
                           "\"host\":\"h2\",\"free\":300}]");
    free(s);
    query_v1_fini(&w);
    query_v1_table_destroy(t);
}

static void test_v1_table_column_types_resolved_from_values(void **state) {
    (void)state;
    v1_table *t = query_v1_table_create(0);
    v1_writer w;
    query_v1_init_table(&w, t);
    query_v1_stmt_begin(&w, 0);
    /* x: an integer, then a float (fill or another measurement): float;
     * y: a string, then an integer: string, the integer as text;
     * z: NULL throughout; b: bool; u: unsigned */
    const str_view cols[] = {SV("time"), SV("x"), SV("y"), SV("z"), SV("b"), SV("u")};
    const int64_t I[] = {7, 8};
    const double F[] = {0.5, 2.25};
    const str_view S[] = {SV("s\"1"), SV("x")};
    const uint8_t B[] = {1, 0}, NONE[] = {0, 0};
    const uint64_t U[] = {UINT64_MAX, 1};
    query_vec vt = {.i64 = T}, vi = {.i64 = I}, vf = {.f64 = F}, vs = {.str = S},
              vn = {.f64 = F, .valid = NONE}, vb = {.b = B}, vu = {.u64 = U};
    query_v1_series_begin(&w, SV("m"), NULL, NULL, 0, cols, 6);
    const query_vec *r0[] = {&vt, &vi, &vs, &vn, &vb, &vu};
    const v1_type t0[] = {V1_TIME, V1_INT, V1_STRING, V1_FLOAT, V1_BOOL, V1_UINT};
    query_v1_row(&w, r0, t0, 6, 0);
    const query_vec *r1[] = {&vt, &vf, &vi, &vn, &vb, &vu};
    const v1_type t1[] = {V1_TIME, V1_FLOAT, V1_INT, V1_NULL, V1_BOOL, V1_UINT};
    query_v1_row(&w, r1, t1, 6, 1);
    query_v1_series_end(&w);
    query_v1_stmt_end(&w);
    int rc;
    char *s = write_table(t, QUERY_FMT_JSON, 0, &rc);
    assert_int_equal(rc, SILT_OK);
    assert_string_equal(s, "[{\"iox::measurement\":\"m\",\"time\":\"2016-01-01T00:00:00\",\"x\":7,"
                           "\"y\":\"s\\\"1\",\"b\":true,\"u\":18446744073709551615},"
                           "{\"iox::measurement\":\"m\",\"time\":\"2016-01-01T00:01:00\","
                           "\"x\":2.25,\"y\":\"8\",\"b\":false,\"u\":1}]");
    free(s);
    s = write_table(t, QUERY_FMT_PRETTY, 0, &rc);
    assert_int_equal(rc, SILT_OK);
    assert_string_equal(s, "+------------------+---------------------+------+-----+---+-------+"
                           "----------------------+\n"
                           "| iox::measurement | time                | x    | y   | z | b     | "
                           "u                    |\n"
                           "+------------------+---------------------+------+-----+---+-------+"
                           "----------------------+\n"
                           "| m                | 2016-01-01T00:00:00 | 7    | s\"1 |   | true  | "
                           "18446744073709551615 |\n"
                           "| m                | 2016-01-01T00:01:00 | 2.25 | 8   |   | false | "
                           "1                    |\n"
                           "+------------------+---------------------+------+-----+---+-------+"
                           "----------------------+");
    free(s);
    query_v1_fini(&w);
    query_v1_table_destroy(t);
}

static void test_v1_table_selected_tag_and_unnamed_series(void **state) {
    (void)state;
    /* SELECT host, v ... GROUP BY host: the column holds it, no second host column */
    v1_table *t = query_v1_table_create(0);
    v1_writer w;
    query_v1_init_table(&w, t);
    query_v1_stmt_begin(&w, 0);
    const str_view keys[] = {SV("host")}, vals[] = {SV("h1")};
    const str_view cols[] = {SV("time"), SV("host"), SV("v")};
    const str_view H[] = {SV("h1")};
    const int64_t V[] = {5};
    query_vec vt = {.i64 = T}, vh = {.str = H}, vv = {.i64 = V};
    const query_vec *r[] = {&vt, &vh, &vv};
    const v1_type ty[] = {V1_TIME, V1_STRING, V1_INT};
    query_v1_series_begin(&w, SV("m"), keys, vals, 1, cols, 3);
    query_v1_row(&w, r, ty, 3, 0);
    query_v1_series_end(&w);
    int rc;
    char *s = write_table(t, QUERY_FMT_CSV, 0, &rc);
    assert_int_equal(rc, SILT_OK);
    assert_string_equal(s, "iox::measurement,time,host,v\nm,2016-01-01T00:00:00,h1,5\n");
    free(s);
    query_v1_fini(&w);
    query_v1_table_destroy(t);

    /* series without a name (SHOW SERIES): no iox::measurement column */
    t = query_v1_table_create(0);
    query_v1_init_table(&w, t);
    query_v1_stmt_begin(&w, 0);
    const str_view kc[] = {SV("key")}, K[] = {SV("cpu,host=a"), SV("mem")};
    query_vec vk = {.str = K};
    const query_vec *rk[] = {&vk};
    const v1_type tk[] = {V1_STRING};
    query_v1_series_begin(&w, (str_view){NULL, 0}, NULL, NULL, 0, kc, 1);
    query_v1_row(&w, rk, tk, 1, 0);
    query_v1_row(&w, rk, tk, 1, 1);
    query_v1_series_end(&w);
    s = write_table(t, QUERY_FMT_JSONL, 0, &rc);
    assert_int_equal(rc, SILT_OK);
    assert_string_equal(s, "{\"key\":\"cpu,host=a\"}\n{\"key\":\"mem\"}\n");
    free(s);
    query_v1_fini(&w);
    query_v1_table_destroy(t);
}

static void test_v1_table_empty_in_every_format(void **state) {
    (void)state;
    static const struct {
        query_format f;
        const char *want;
    } cases[] = {{QUERY_FMT_JSON, "[]"},
                 {QUERY_FMT_JSONL, ""},
                 {QUERY_FMT_CSV, ""},
                 {QUERY_FMT_PRETTY, "++\n++"},
                 {QUERY_FMT_PARQUET, ""}};
    v1_table *t = query_v1_table_create(0);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int rc;
        char *s = write_table(t, cases[k].f, 0, &rc);
        assert_int_equal(rc, SILT_OK);
        assert_string_equal(s, cases[k].want);
        free(s);
    }
    query_v1_table_destroy(t);
}

static void test_v1_table_abort_drops_the_statement(void **state) {
    (void)state;
    v1_table *t = query_v1_table_create(0);
    v1_writer w;
    query_v1_init_table(&w, t);
    query_v1_stmt_begin(&w, 0);
    const str_view cols[] = {SV("time"), SV("v")};
    const double F[] = {1, 2, 3};
    query_vec vf = {.f64 = F};
    query_v1_series_begin(&w, SV("a"), NULL, NULL, 0, cols, 2);
    row2(&w, &vf, V1_FLOAT, 0);
    query_v1_series_end(&w);
    query_v1_stmt_end(&w);
    query_v1_stmt_begin(&w, 1);
    query_v1_series_begin(&w, SV("b"), NULL, NULL, 0, cols, 2);
    row2(&w, &vf, V1_FLOAT, 1);
    row2(&w, &vf, V1_FLOAT, 2);
    query_v1_stmt_abort(&w);
    query_v1_stmt_error(&w, 1, "ignored in table mode");
    int rc;
    char *s = write_table(t, QUERY_FMT_CSV, 0, &rc);
    assert_int_equal(rc, SILT_OK);
    assert_string_equal(s, "iox::measurement,time,v\na,2016-01-01T00:00:00,1\n");
    free(s);
    query_v1_fini(&w);
    query_v1_table_destroy(t);
}

static void test_v1_table_bounded_by_max_bytes(void **state) {
    (void)state;
    /* each row holds 1 (name) + 8 + 8 bytes: the fourth passes 64 */
    v1_table *t = query_v1_table_create(64);
    v1_writer w;
    query_v1_init_table(&w, t);
    query_v1_stmt_begin(&w, 0);
    const str_view cols[] = {SV("time"), SV("v")};
    const double F[] = {1, 2, 3};
    query_vec vf = {.f64 = F};
    query_v1_series_begin(&w, SV("a"), NULL, NULL, 0, cols, 2);
    for (int k = 0; k < 3; k++) row2(&w, &vf, V1_FLOAT, (uint32_t)k);
    assert_false(query_v1_table_full(t));
    row2(&w, &vf, V1_FLOAT, 0);
    assert_true(query_v1_table_full(t));
    /* the written result is bounded too, and nothing of it is left in out */
    buf out = {0};
    buf_puts(&out, "keep");
    assert_int_equal(query_v1_table_write(t, QUERY_FMT_JSON, &out, 40, NULL), SILT_ELIMIT);
    assert_int_equal(out.len, 4);
    buf_free(&out);
    query_v1_fini(&w);
    query_v1_table_destroy(t);
}

/* query_influxql_table against mem_fixture's "db" (cpu, mem; and the database "empty"). */
static int iql_table(mem_source *ms, const char *db, const char *q, query_format fmt, size_t max,
                     buf *out, silt_err *err) {
    query_influxql_opts o = {.max_result_bytes = max, .now_ns = T2016};
    int rc = query_influxql_table(&ms->src, db, q, strlen(q), fmt, &o, out, err);
    buf_cstr(out);
    return rc;
}

static void test_influxql_table_select_and_show(void **state) {
    (void)state;
    mem_source ms;
    mem_fixture(&ms, 2);
    buf out = {0};
    silt_err err = {0};
    assert_int_equal(iql_table(&ms, "db", "SELECT sum(count) FROM cpu GROUP BY region",
                               QUERY_FMT_CSV, 0, &out, &err),
                     SILT_OK);
    /* the series without region first (its tag is NULL), as the v1 answer orders them */
    assert_string_equal((const char *)out.p, "iox::measurement,time,region,sum\n"
                                             "cpu,1970-01-01T00:00:00,,1\n"
                                             "cpu,1970-01-01T00:00:00,eu,-5\n"
                                             "cpu,1970-01-01T00:00:00,us,9007199254741006\n");
    buf_reset(&out);
    /* the database named in the query, no ?db= */
    assert_int_equal(
        iql_table(&ms, NULL, "SHOW TAG KEYS ON db FROM cpu", QUERY_FMT_JSONL, 0, &out, &err),
        SILT_OK);
    assert_string_equal((const char *)out.p,
                        "{\"iox::measurement\":\"cpu\",\"tagKey\":\"host\"}\n"
                        "{\"iox::measurement\":\"cpu\",\"tagKey\":\"id\"}\n"
                        "{\"iox::measurement\":\"cpu\",\"tagKey\":\"region\"}\n");
    buf_reset(&out);
    assert_int_equal(iql_table(&ms, "db", "SHOW RETENTION POLICIES", QUERY_FMT_CSV, 0, &out, &err),
                     SILT_OK);
    assert_string_equal((const char *)out.p, "iox::database,name,duration\ndb,autogen,\n");
    buf_free(&out);
    mem_source_fini(&ms);
}

static void test_influxql_table_errors_leave_no_output(void **state) {
    (void)state;
    mem_source ms;
    mem_fixture(&ms, 2);
    static const struct {
        const char *db, *q;
        int rc;
        const char *msg;
    } cases[] = {
        {"db", "SELECT usage FROM cpu; SELECT free FROM mem", SILT_EINVAL,
         "must provide only one InfluxQl statement per query"},
        {"db", "SELECT FROM cpu", SILT_EPARSE,
         "found FROM, expected identifier, string, number, bool at line 1, char 8"},
        {"nope", "SELECT usage FROM cpu", SILT_ENOTFOUND, "database not found: nope"},
        {NULL, "SELECT usage FROM cpu", SILT_EINVAL,
         "must specify a 'db' parameter, or provide the database in the InfluxQL query"},
        {"empty", "SELECT usage FROM db.autogen.cpu", SILT_EINVAL,
         "provided a database in both the parameters (empty) and query string (db) that do not "
         "match, if providing a query that specifies the database, you can omit the 'database' "
         "parameter from your request"},
        {NULL, "SHOW RETENTION POLICIES ON nope", SILT_ENOTFOUND, "database not found: nope"},
        {"db", "SELECT * FROM cpu", SILT_ELIMIT, NULL}, /* past max_result_bytes (64) */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        buf out = {0};
        buf_puts(&out, "before");
        silt_err err = {0};
        assert_int_equal(iql_table(&ms, cases[k].db, cases[k].q, QUERY_FMT_JSON, 64, &out, &err),
                         cases[k].rc);
        assert_int_equal(err.code, cases[k].rc);
        if (cases[k].msg) assert_string_equal(err.msg, cases[k].msg);
        assert_string_equal((const char *)out.p, "before");
        buf_free(&out);
    }
    mem_source_fini(&ms);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_table_union_of_columns_in_influxdb3_order),
        cmocka_unit_test(test_v1_table_column_types_resolved_from_values),
        cmocka_unit_test(test_v1_table_selected_tag_and_unnamed_series),
        cmocka_unit_test(test_v1_table_empty_in_every_format),
        cmocka_unit_test(test_v1_table_abort_drops_the_statement),
        cmocka_unit_test(test_v1_table_bounded_by_max_bytes),
        cmocka_unit_test(test_influxql_table_select_and_show),
        cmocka_unit_test(test_influxql_table_errors_leave_no_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
