/* SPDX-License-Identifier: MIT
 *
 * Output formats byte for byte: JSON (array of objects, NULLs omitted), JSONL, CSV (RFC 4180),
 * pretty (arrow's ASCII table), empty results, timestamps, floats, escaping, format names and
 * content types; Parquet read back with silt's reader, value by value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "parquet/parquet.h"
#include "query/query_int.h"
#include "query/mem_source.h"

static int setup(void **state) {
    mem_source *ms = malloc(sizeof *ms);
    mem_fixture(ms, 2);
    /* values that stress the formatters */
    mem_table *t = mem_table_add(ms, "db", "vals");
    mem_col(t, "f", QCOL_FIELD, LP_FLOAT);
    mem_col(t, "s", QCOL_FIELD, LP_STRING);
    mem_row(t, -1, "f=1e300|s=tab\there");
    mem_row(t, 0, "f=5e-324|s=\x01\x1f ctl");
    mem_row(t, 1, "f=-0.0|s=back\\slash");
    mem_row(t, 1500000000000, "f=123456789.125|s=caf\xc3\xa9 \xe2\x82\xac");
    mem_row(t, 1500000000000000, "f=0.30000000000000004|s=");
    mem_row(t, 1700000000123456000, "f=-1.5e-7|s= lead,trail ");
    /* line protocol cannot write these, but a source could hold them */
    mem_table *nf = mem_table_add(ms, "db", "nonfinite");
    mem_col(nf, "f", QCOL_FIELD, LP_FLOAT);
    mem_row(nf, 1, "f=nan");
    mem_row(nf, 2, "f=inf");
    mem_row(nf, 3, "f=-inf");
    *state = ms;
    return 0;
}

static int teardown(void **state) {
    mem_source_fini(*state);
    free(*state);
    return 0;
}

static void check(mem_source *ms, const char *sql, query_format fmt, const char *want) {
    buf b = {0};
    silt_err err = {0};
    int rc = mem_query(ms, "db", sql, fmt, 0, &b, &err);
    if (rc != SILT_OK) fail_msg("%s: rc %d: %s", sql, rc, err.msg);
    if (b.len != strlen(want) || memcmp(b.p, want, b.len) != 0)
        fail_msg("%s (format %d)\n  got  [%s]\n  want [%s]", sql, fmt, (char *)b.p, want);
    buf_free(&b);
}

#define ROWS_2_3_6                                                                                 \
    "SELECT id, host, region, usage, count, big, ok, msg, time FROM cpu WHERE id = '2' OR "        \
    "id = '3' OR id = '6'"

static void test_query_format_json_rows(void **state) {
    check(*state, ROWS_2_3_6, QUERY_FMT_JSON,
          "[{\"id\":\"2\",\"host\":\"b\",\"region\":\"eu\",\"usage\":-2.5,\"count\":-5,\"big\":0,"
          "\"ok\":false,\"msg\":\"a,b\",\"time\":\"1970-01-01T00:00:02\"},"
          "{\"id\":\"3\",\"host\":\"a\",\"region\":\"us\",\"count\":9007199254740993,"
          "\"big\":9223372036854775808,\"time\":\"1970-01-01T00:00:03\"},"
          "{\"id\":\"6\",\"host\":\"c\",\"region\":\"us\",\"usage\":9007199254740992,\"count\":3,"
          "\"big\":3,\"ok\":true,\"msg\":\"multi\\nline\",\"time\":\"1970-01-01T00:00:02\"}]");
}

static void test_query_format_jsonl_rows(void **state) {
    check(*state, ROWS_2_3_6, QUERY_FMT_JSONL,
          "{\"id\":\"2\",\"host\":\"b\",\"region\":\"eu\",\"usage\":-2.5,\"count\":-5,\"big\":0,"
          "\"ok\":false,\"msg\":\"a,b\",\"time\":\"1970-01-01T00:00:02\"}\n"
          "{\"id\":\"3\",\"host\":\"a\",\"region\":\"us\",\"count\":9007199254740993,"
          "\"big\":9223372036854775808,\"time\":\"1970-01-01T00:00:03\"}\n"
          "{\"id\":\"6\",\"host\":\"c\",\"region\":\"us\",\"usage\":9007199254740992,\"count\":3,"
          "\"big\":3,\"ok\":true,\"msg\":\"multi\\nline\",\"time\":\"1970-01-01T00:00:02\"}\n");
}

static void test_query_format_csv_rows(void **state) {
    check(*state, ROWS_2_3_6, QUERY_FMT_CSV,
          "id,host,region,usage,count,big,ok,msg,time\n"
          "2,b,eu,-2.5,-5,0,false,\"a,b\",1970-01-01T00:00:02\n"
          "3,a,us,,9007199254740993,9223372036854775808,,,1970-01-01T00:00:03\n"
          "6,c,us,9007199254740992,3,3,true,\"multi\nline\",1970-01-01T00:00:02\n");
    check(*state, "SELECT msg FROM cpu WHERE id = '4'", QUERY_FMT_CSV,
          "msg\n\"quote \"\"x\"\"\"\n");
}

static void test_query_format_null_only_row(void **state) {
    /* every selected value NULL: {} in JSON, an empty line in CSV */
    check(*state, "SELECT msg, big FROM cpu WHERE id = '5'", QUERY_FMT_JSON, "[{}]");
    check(*state, "SELECT msg, big FROM cpu WHERE id = '5'", QUERY_FMT_JSONL, "{}\n");
    check(*state, "SELECT msg, big FROM cpu WHERE id = '5'", QUERY_FMT_CSV, "msg,big\n,\n");
    check(*state, "SELECT msg FROM cpu WHERE id = '5'", QUERY_FMT_CSV, "msg\n\n");
}

static void test_query_format_empty_results(void **state) {
    const char *q = "SELECT host, usage FROM cpu WHERE host = 'nobody'";
    check(*state, q, QUERY_FMT_JSON, "[]");
    check(*state, q, QUERY_FMT_JSONL, "");
    check(*state, q, QUERY_FMT_CSV, "host,usage\n");
    check(*state, "SELECT * FROM information_schema.tables WHERE table_schema = 'iox'",
          QUERY_FMT_JSON,
          "[{\"table_catalog\":\"public\",\"table_schema\":\"iox\",\"table_name\":\"cpu\","
          "\"table_type\":\"BASE TABLE\"},{\"table_catalog\":\"public\",\"table_schema\":\"iox\","
          "\"table_name\":\"mem\",\"table_type\":\"BASE TABLE\"},{\"table_catalog\":\"public\","
          "\"table_schema\":\"iox\",\"table_name\":\"nonfinite\",\"table_type\":\"BASE TABLE\"},"
          "{\"table_catalog\":\"public\",\"table_schema\":\"iox\",\"table_name\":\"vals\","
          "\"table_type\":\"BASE TABLE\"}]");
}

static void test_query_format_timestamps(void **state) {
    check(*state, "SELECT time FROM vals", QUERY_FMT_CSV,
          "time\n"
          "1969-12-31T23:59:59.999999999\n"
          "1970-01-01T00:00:00\n"
          "1970-01-01T00:00:00.000000001\n"
          "1970-01-01T00:25:00\n"
          "1970-01-18T08:40:00\n"
          "2023-11-14T22:13:20.123456\n");
    check(*state, "SELECT time FROM cpu WHERE id = '5'", QUERY_FMT_JSON,
          "[{\"time\":\"2016-01-01T00:00:00.123\"}]");
}

static void test_query_format_floats(void **state) {
    check(*state, "SELECT f FROM vals", QUERY_FMT_JSONL,
          "{\"f\":1e+300}\n"
          "{\"f\":4.94065645841247e-324}\n" /* round-trips; util picks 15 digits */
          "{\"f\":-0}\n"
          "{\"f\":123456789.125}\n"
          "{\"f\":0.30000000000000004}\n"
          "{\"f\":-1.5e-07}\n");
}

static void test_query_format_non_finite_floats(void **state) {
    check(*state, "SELECT f FROM nonfinite", QUERY_FMT_JSON,
          "[{\"f\":null},{\"f\":null},{\"f\":null}]");
    check(*state, "SELECT f FROM nonfinite", QUERY_FMT_CSV, "f\nNaN\ninf\n-inf\n");
    /* NaN is unordered: only <> holds */
    check(*state, "SELECT time FROM nonfinite WHERE f <> 0", QUERY_FMT_CSV,
          "time\n1970-01-01T00:00:00.000000001\n1970-01-01T00:00:00.000000002\n"
          "1970-01-01T00:00:00.000000003\n");
    check(*state, "SELECT time FROM nonfinite WHERE f > 0 OR f = 0 OR f < 0", QUERY_FMT_CSV,
          "time\n1970-01-01T00:00:00.000000002\n1970-01-01T00:00:00.000000003\n");
}

static void test_query_format_string_escaping(void **state) {
    check(*state, "SELECT s FROM vals", QUERY_FMT_JSONL,
          "{\"s\":\"tab\\there\"}\n"
          "{\"s\":\"\\u0001\\u001f ctl\"}\n"
          "{\"s\":\"back\\\\slash\"}\n"
          "{\"s\":\"caf\xc3\xa9 \xe2\x82\xac\"}\n"
          "{\"s\":\"\"}\n"
          "{\"s\":\" lead,trail \"}\n");
    check(*state, "SELECT s FROM vals", QUERY_FMT_CSV,
          "s\n"
          "tab\there\n"
          "\x01\x1f ctl\n"
          "back\\slash\n"
          "caf\xc3\xa9 \xe2\x82\xac\n"
          "\n"
          "\" lead,trail \"\n");
}

static void test_query_format_column_names_escaped(void **state) {
    check(*state, "SELECT id AS \"a\"\"b,c\", host AS \"x\\y\" FROM cpu LIMIT 1", QUERY_FMT_JSON,
          "[{\"a\\\"b,c\":\"1\",\"x\\\\y\":\"a\"}]");
    check(*state, "SELECT id AS \"a\"\"b,c\", host AS \"x\\y\" FROM cpu LIMIT 1", QUERY_FMT_CSV,
          "\"a\"\"b,c\",x\\y\n1,a\n");
}

static void test_query_format_count_and_show(void **state) {
    check(*state, "SELECT count(*) FROM cpu", QUERY_FMT_CSV, "count(*)\n6\n");
    check(*state, "SELECT count(*) FROM cpu", QUERY_FMT_JSONL, "{\"count(*)\":6}\n");
    check(*state, "SELECT * FROM information_schema.tables WHERE table_type <> 'VIEW' LIMIT 4",
          QUERY_FMT_JSONL,
          "{\"table_catalog\":\"public\",\"table_schema\":\"iox\",\"table_name\":\"cpu\","
          "\"table_type\":\"BASE TABLE\"}\n"
          "{\"table_catalog\":\"public\",\"table_schema\":\"iox\",\"table_name\":\"mem\","
          "\"table_type\":\"BASE TABLE\"}\n"
          "{\"table_catalog\":\"public\",\"table_schema\":\"iox\",\"table_name\":\"nonfinite\","
          "\"table_type\":\"BASE TABLE\"}\n"
          "{\"table_catalog\":\"public\",\"table_schema\":\"iox\",\"table_name\":\"vals\","
          "\"table_type\":\"BASE TABLE\"}\n");
}

static void test_query_format_appends_to_existing_buffer(void **state) {
    buf b = {0};
    buf_puts(&b, "HEAD");
    silt_err err = {0};
    assert_int_equal(
        mem_query(*state, "db", "SELECT id FROM cpu LIMIT 1", QUERY_FMT_JSON, 12, &b, &err),
        SILT_OK);
    assert_string_equal(
        (char *)b.p, "HEAD[{\"id\":\"1\"}]"); /* 12 bytes of result: the limit counts only them */
    buf_free(&b);
}

static void test_query_format_names_and_content_types(void **state) {
    (void)state;
    query_format f = QUERY_FMT_CSV;
    assert_int_equal(query_format_parse(NULL, &f), SILT_OK);
    assert_int_equal(f, QUERY_FMT_JSON);
    f = QUERY_FMT_CSV;
    assert_int_equal(query_format_parse("", &f), SILT_OK);
    assert_int_equal(f, QUERY_FMT_JSON);
    assert_int_equal(query_format_parse("JSON", &f), SILT_OK);
    assert_int_equal(f, QUERY_FMT_JSON);
    assert_int_equal(query_format_parse("JsonL", &f), SILT_OK);
    assert_int_equal(f, QUERY_FMT_JSONL);
    assert_int_equal(query_format_parse("csv", &f), SILT_OK);
    assert_int_equal(f, QUERY_FMT_CSV);
    assert_int_equal(query_format_parse("Pretty", &f), SILT_OK);
    assert_int_equal(f, QUERY_FMT_PRETTY);
    assert_int_equal(query_format_parse("parquet", &f), SILT_OK);
    assert_int_equal(f, QUERY_FMT_PARQUET);
    assert_int_equal(query_format_parse("arrow", &f), SILT_OK); /* query_arrow.c */
    assert_int_equal(f, QUERY_FMT_ARROW);
    assert_int_equal(query_format_parse("feather", &f), SILT_EINVAL);
    assert_int_equal(query_format_parse("json ", &f), SILT_EINVAL);
    assert_string_equal(query_format_content_type(QUERY_FMT_PRETTY), "text/plain; charset=utf-8");
    assert_string_equal(query_format_content_type(QUERY_FMT_PARQUET),
                        "application/vnd.apache.parquet");
    assert_string_equal(query_format_content_type(QUERY_FMT_JSON), "application/json");
    assert_string_equal(query_format_content_type(QUERY_FMT_JSONL), "application/jsonl");
    assert_string_equal(query_format_content_type(QUERY_FMT_CSV), "text/csv");
}

/* ------------------------------------------------------------------ pretty */

static void test_query_format_pretty_table(void **state) {
    /* left-aligned cells padded to the widest, NULL empty, a line break spans two lines */
    check(*state, "SELECT id, usage, ok, msg FROM cpu WHERE id = '2' OR id = '3' OR id = '6'",
          QUERY_FMT_PRETTY,
          "+----+------------------+-------+-------+\n"
          "| id | usage            | ok    | msg   |\n"
          "+----+------------------+-------+-------+\n"
          "| 2  | -2.5             | false | a,b   |\n"
          "| 3  |                  |       |       |\n"
          "| 6  | 9007199254740992 | true  | multi |\n"
          "|    |                  |       | line  |\n"
          "+----+------------------+-------+-------+");
    /* widths count characters, not bytes; strings are not quoted; a long header widens */
    check(*state, "SELECT s AS a_long_name, s FROM vals WHERE f = 123456789.125", QUERY_FMT_PRETTY,
          "+-------------+--------+\n"
          "| a_long_name | s      |\n"
          "+-------------+--------+\n"
          "| caf\xc3\xa9 \xe2\x82\xac      | caf\xc3\xa9 \xe2\x82\xac |\n"
          "+-------------+--------+");
    check(*state, "SELECT msg FROM cpu WHERE id = '4'", QUERY_FMT_PRETTY,
          "+-----------+\n"
          "| msg       |\n"
          "+-----------+\n"
          "| quote \"x\" |\n"
          "+-----------+");
    check(*state, "SELECT time, count(*) FROM cpu GROUP BY time ORDER BY time LIMIT 2",
          QUERY_FMT_PRETTY,
          "+---------------------+----------+\n"
          "| time                | count(*) |\n"
          "+---------------------+----------+\n"
          "| 1970-01-01T00:00:01 | 1        |\n"
          "| 1970-01-01T00:00:02 | 2        |\n"
          "+---------------------+----------+");
}

static void test_query_format_pretty_empty_and_limit(void **state) {
    mem_source *ms = *state;
    check(ms, "SELECT host, usage FROM cpu WHERE host = 'nobody'", QUERY_FMT_PRETTY,
          "+------+-------+\n"
          "| host | usage |\n"
          "+------+-------+\n"
          "+------+-------+");
    buf b = {0};
    buf_puts(&b, "keep");
    silt_err err = {0};
    assert_int_equal(mem_query(ms, "db", "SELECT * FROM cpu", QUERY_FMT_PRETTY, 60, &b, &err),
                     SILT_ELIMIT);
    assert_non_null(strstr(err.msg, "max_result_bytes (60 bytes)"));
    assert_int_equal(b.len, 4); /* nothing appended, nothing leaked (ASan) */
    buf_free(&b);
}

/* ------------------------------------------------------------------ parquet */

static pq_reader *open_result(mem_source *ms, const char *sql, buf *b) {
    silt_err err = {0};
    buf_reset(b);
    int rc = mem_query(ms, "db", sql, QUERY_FMT_PARQUET, 0, b, &err);
    if (rc != SILT_OK) fail_msg("%s: rc %d: %s", sql, rc, err.msg);
    assert_true(b->len > 12);
    assert_memory_equal(b->p, "PAR1", 4);
    assert_memory_equal(b->p + b->len - 4, "PAR1", 4);
    pq_reader *r = NULL;
    rc = pq_reader_open(b->p, b->len, &r, &err);
    if (rc != SILT_OK) fail_msg("%s: the result does not open: %s", sql, err.msg);
    return r;
}

static void read_col(pq_reader *r, const char *name, pq_type type, pq_colbuf *cb) {
    int c = pq_reader_find_column(r, name);
    if (c < 0) fail_msg("no column %s", name);
    assert_int_equal(pq_reader_column(r, (size_t)c)->type, type);
    assert_true(pq_reader_column(r, (size_t)c)->optional);
    silt_err err = {0};
    if (pq_read_column(r, 0, (size_t)c, 0, pq_reader_num_rows(r), cb, &err) != SILT_OK)
        fail_msg("read %s: %s", name, err.msg);
}

#define IS_NULL(cb, i) ((cb).valid && !(cb).valid[i])

static void test_query_format_parquet_values(void **state) {
    mem_source *ms = *state;
    buf b = {0};
    pq_reader *r = open_result(ms, ROWS_2_3_6, &b);
    assert_int_equal(pq_reader_num_rows(r), 3);
    assert_int_equal(pq_reader_num_columns(r), 9);
    static const char *const order[] = {"id",  "host", "region", "usage", "count",
                                        "big", "ok",   "msg",    "time"};
    for (size_t c = 0; c < 9; c++) assert_string_equal(pq_reader_column(r, c)->name, order[c]);
    pq_colbuf cb;
    pq_colbuf_init(&cb);
    read_col(r, "id", PQ_STRING, &cb);
    assert_true(cb.str[0].n == 1 && cb.str[0].p[0] == '2' && cb.str[2].p[0] == '6');
    read_col(r, "usage", PQ_DOUBLE, &cb);
    assert_true(!IS_NULL(cb, 0) && IS_NULL(cb, 1) && !IS_NULL(cb, 2));
    assert_true(cb.f64[0] == -2.5 && cb.f64[2] == 9007199254740992.0);
    read_col(r, "count", PQ_INT64, &cb);
    assert_null(cb.valid);
    assert_true(cb.i64[0] == -5 && cb.i64[1] == 9007199254740993LL && cb.i64[2] == 3);
    read_col(r, "big", PQ_UINT64, &cb);
    assert_true(cb.u64[0] == 0 && cb.u64[1] == 9223372036854775808ULL && cb.u64[2] == 3);
    read_col(r, "ok", PQ_BOOL, &cb);
    assert_true(!IS_NULL(cb, 0) && IS_NULL(cb, 1) && !IS_NULL(cb, 2));
    assert_true(cb.b[0] == 0 && cb.b[2] == 1);
    read_col(r, "msg", PQ_STRING, &cb);
    assert_true(IS_NULL(cb, 1));
    assert_true(cb.str[0].n == 3 && memcmp(cb.str[0].p, "a,b", 3) == 0);
    assert_true(cb.str[2].n == 10 && memcmp(cb.str[2].p, "multi\nline", 10) == 0);
    read_col(r, "time", PQ_TIMESTAMP_NS, &cb);
    assert_true(cb.i64[0] == 2000000000 && cb.i64[1] == 3000000000 && cb.i64[2] == 2000000000);
    pq_colbuf_fini(&cb);
    pq_reader_close(r);

    /* aggregates and an empty result: a file with the schema and no rows */
    r = open_result(ms,
                    "SELECT host, count(*) AS n, avg(usage) AS a FROM cpu GROUP BY host "
                    "ORDER BY host",
                    &b);
    assert_int_equal(pq_reader_num_rows(r), 3);
    pq_colbuf_init(&cb);
    read_col(r, "n", PQ_INT64, &cb);
    assert_true(cb.i64[0] == 2 && cb.i64[1] == 2 && cb.i64[2] == 2);
    read_col(r, "host", PQ_STRING, &cb);
    assert_true(cb.str[0].p[0] == 'a' && cb.str[1].p[0] == 'b' && cb.str[2].p[0] == 'c');
    read_col(r, "a", PQ_DOUBLE, &cb);
    assert_true(cb.f64[0] == 1.5 && cb.f64[1] == (-2.5 + 0.1) / 2);
    pq_colbuf_fini(&cb);
    pq_reader_close(r);
    r = open_result(ms, "SELECT host, usage FROM cpu WHERE host = 'nobody'", &b);
    assert_int_equal(pq_reader_num_rows(r), 0);
    assert_int_equal(pq_reader_num_columns(r), 2);
    assert_int_equal(pq_reader_column(r, 1)->type, PQ_DOUBLE);
    pq_reader_close(r);
    buf_free(&b);
}

static void test_query_format_parquet_limit_and_errors(void **state) {
    mem_source *ms = *state;
    buf b = {0};
    buf_puts(&b, "keep");
    silt_err err = {0};
    assert_int_equal(mem_query(ms, "db", "SELECT * FROM cpu", QUERY_FMT_PARQUET, 40, &b, &err),
                     SILT_ELIMIT);
    assert_int_equal(b.len, 4);
    /* an error after the writer started leaves nothing behind (ASan checks the writer) */
    assert_int_equal(
        mem_query(ms, "db", "SELECT count / (count - 3) FROM cpu", QUERY_FMT_PARQUET, 0, &b, &err),
        SILT_EINVAL);
    assert_int_equal(b.len, 4);
    buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_format_json_rows),
        cmocka_unit_test(test_query_format_jsonl_rows),
        cmocka_unit_test(test_query_format_csv_rows),
        cmocka_unit_test(test_query_format_null_only_row),
        cmocka_unit_test(test_query_format_empty_results),
        cmocka_unit_test(test_query_format_timestamps),
        cmocka_unit_test(test_query_format_floats),
        cmocka_unit_test(test_query_format_non_finite_floats),
        cmocka_unit_test(test_query_format_string_escaping),
        cmocka_unit_test(test_query_format_column_names_escaped),
        cmocka_unit_test(test_query_format_count_and_show),
        cmocka_unit_test(test_query_format_appends_to_existing_buffer),
        cmocka_unit_test(test_query_format_names_and_content_types),
        cmocka_unit_test(test_query_format_pretty_table),
        cmocka_unit_test(test_query_format_pretty_empty_and_limit),
        cmocka_unit_test(test_query_format_parquet_values),
        cmocka_unit_test(test_query_format_parquet_limit_and_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
