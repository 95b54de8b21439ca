/* SPDX-License-Identifier: MIT
 *
 * InfluxDB 1.x JSON results byte for byte: statements with and without series, errors, tags,
 * every value type and NULL, RFC 3339 times as Go prints them, every epoch unit, and the
 * chunked form (series cut into chunks, "partial" flags, one object per line). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/query_v1.h"

/* Three rows: time, a float with a NULL, a string, an int, a bool, a uint. */
static const int64_t T[] = {INT64_C(1451606400000000000), INT64_C(1451606400500000000),
                            INT64_C(1451606401000001000)};
static const double F[] = {1.5, 0, -2.25};
static const uint8_t FV[] = {1, 0, 1};
static const str_view S[] = {{"a\"b", 3}, {"", 0}, {"\xc3\xa9", 2}};
static const int64_t I[] = {-7, 0, INT64_MAX};
static const uint8_t B[] = {1, 0, 1};
static const uint64_t U[] = {0, 1, UINT64_MAX};

static void put_rows(v1_writer *w, size_t from, size_t to) {
    query_vec vt = {.i64 = T}, vf = {.f64 = F, .valid = FV}, vs = {.str = S}, vi = {.i64 = I},
              vb = {.b = B}, vu = {.u64 = U};
    const query_vec *vecs[] = {&vt, &vf, &vs, &vi, &vb, &vu};
    const v1_type types[] = {V1_TIME, V1_FLOAT, V1_STRING, V1_INT, V1_BOOL, V1_UINT};
    for (size_t i = from; i < to; i++) query_v1_row(w, vecs, types, 6, (uint32_t)i);
}

static const str_view COLS[] = {SV("time"), SV("f"), SV("s"), SV("i"), SV("b"), SV("u")};

static void test_v1_one_series_all_types(void **state) {
    (void)state;
    buf out = {0};
    v1_writer w;
    query_v1_init(&w, &out, V1_EPOCH_RFC3339, false, 0);
    query_v1_begin(&w);
    query_v1_stmt_begin(&w, 0);
    query_v1_series_begin(&w, SV("cpu"), NULL, NULL, 0, COLS, 6);
    put_rows(&w, 0, 3);
    query_v1_series_end(&w);
    query_v1_stmt_end(&w);
    query_v1_end(&w);
    buf_putc(&out, 0);
    assert_string_equal((const char *)out.p,
                        "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"cpu\","
                        "\"columns\":[\"time\",\"f\",\"s\",\"i\",\"b\",\"u\"],\"values\":["
                        "[\"2016-01-01T00:00:00Z\",1.5,\"a\\\"b\",-7,true,0],"
                        "[\"2016-01-01T00:00:00.5Z\",null,\"\",0,false,1],"
                        "[\"2016-01-01T00:00:01.000001Z\",-2.25,\"\xc3\xa9\",9223372036854775807,"
                        "true,18446744073709551615]]}]}]}\n");
    query_v1_fini(&w);
    buf_free(&out);
}

static void test_v1_statements_tags_errors_empty(void **state) {
    (void)state;
    buf out = {0};
    v1_writer w;
    query_v1_init(&w, &out, V1_EPOCH_S, false, 0);
    query_v1_begin(&w);
    query_v1_stmt_begin(&w, 0);
    const str_view keys[] = {SV("host"), SV("region")};
    const str_view a[] = {SV("h1"), SV("")}, b[] = {SV("h2"), SV("eu")};
    query_v1_series_begin(&w, SV("cpu"), keys, a, 2, COLS, 2);
    put_rows(&w, 0, 1);
    query_v1_series_end(&w);
    query_v1_series_begin(&w, SV("cpu"), keys, b, 2, COLS, 2);
    put_rows(&w, 1, 3);
    query_v1_series_end(&w);
    query_v1_stmt_end(&w);
    query_v1_stmt_error(&w, 1, "measurement \"x\" not found");
    query_v1_stmt_begin(&w, 2);
    query_v1_stmt_end(&w);
    query_v1_end(&w);
    buf_putc(&out, 0);
    /* put_rows writes 6 values even for 2 columns: the caller's n is what counts */
    const char *want =
        "{\"results\":[{\"statement_id\":0,\"series\":["
        "{\"name\":\"cpu\",\"tags\":{\"host\":\"h1\",\"region\":\"\"},\"columns\":[\"time\",\"f\"],"
        "\"values\":[[1451606400,1.5,\"a\\\"b\",-7,true,0]]},"
        "{\"name\":\"cpu\",\"tags\":{\"host\":\"h2\",\"region\":\"eu\"},\"columns\":[\"time\",\"f\"],"
        "\"values\":[[1451606400,null,\"\",0,false,1],[1451606401,-2.25,\"\xc3\xa9\","
        "9223372036854775807,true,18446744073709551615]]}]},"
        "{\"statement_id\":1,\"error\":\"measurement \\\"x\\\" not found\"},"
        "{\"statement_id\":2}]}\n";
    assert_string_equal((const char *)out.p, want);
    query_v1_fini(&w);
    buf_free(&out);
}

static void test_v1_epochs(void **state) {
    (void)state;
    static const struct {
        const char *name;
        const char *want;
    } cases[] = {
        {"", "\"2016-01-01T00:00:01.000001Z\""}, {"ns", "1451606401000001000"},
        {"n", "1451606401000001000"},            {"u", "1451606401000001"},
        {"us", "1451606401000001"},              {"\xc2\xb5", "1451606401000001"},
        {"ms", "1451606401000"},                 {"s", "1451606401"},
        {"m", "24193440"},                       {"h", "403224"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        v1_epoch e;
        assert_int_equal(query_v1_epoch_parse(cases[c].name, &e), SILT_OK);
        buf out = {0};
        v1_writer w;
        query_v1_init(&w, &out, e, false, 0);
        query_v1_series_begin(&w, SV("m"), NULL, NULL, 0, COLS, 1);
        put_rows(&w, 2, 3);
        buf_putc(&out, 0);
        char want[200];
        snprintf(want, sizeof want, "[%s,", cases[c].want);
        assert_non_null(strstr((const char *)out.p, want));
        query_v1_fini(&w);
        buf_free(&out);
    }
    v1_epoch e;
    assert_int_equal(query_v1_epoch_parse("x", &e), SILT_EINVAL);
    assert_int_equal(query_v1_epoch_parse("NS", &e), SILT_EINVAL);
    assert_int_equal(query_v1_epoch_parse(NULL, &e), SILT_OK);
    assert_int_equal(e, V1_EPOCH_RFC3339);
}

static void test_v1_time_format(void **state) {
    (void)state;
    static const struct {
        int64_t t;
        const char *want;
    } cases[] = {
        {0, "1970-01-01T00:00:00Z"},
        {1, "1970-01-01T00:00:00.000000001Z"},
        {-1, "1969-12-31T23:59:59.999999999Z"},
        {INT64_C(1451606400100000000), "2016-01-01T00:00:00.1Z"},
        {INT64_C(1451606400120000000), "2016-01-01T00:00:00.12Z"},
        {INT64_C(1451606400123400000), "2016-01-01T00:00:00.1234Z"},
        {INT64_C(1451606400000000010), "2016-01-01T00:00:00.00000001Z"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char tmp[64];
        size_t n = query_v1_format_time(tmp, cases[c].t);
        assert_int_equal(n, strlen(cases[c].want));
        assert_string_equal(tmp, cases[c].want);
    }
}

static void test_v1_chunked(void **state) {
    (void)state;
    buf out = {0};
    v1_writer w;
    query_v1_init(&w, &out, V1_EPOCH_NS, true, 2);
    query_v1_begin(&w);
    query_v1_stmt_begin(&w, 0);
    query_v1_series_begin(&w, SV("a"), NULL, NULL, 0, COLS, 1);
    put_rows(&w, 0, 3); /* 3 rows in chunks of 2: one partial chunk, then the rest */
    query_v1_series_end(&w);
    query_v1_series_begin(&w, SV("b"), NULL, NULL, 0, COLS, 1);
    put_rows(&w, 0, 1);
    query_v1_series_end(&w);
    query_v1_stmt_end(&w);
    query_v1_stmt_begin(&w, 1); /* no rows */
    query_v1_stmt_end(&w);
    query_v1_stmt_error(&w, 2, "boom");
    query_v1_end(&w);
    buf_putc(&out, 0);
    const char *want =
        "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"a\",\"columns\":[\"time\"],"
        "\"values\":[[1451606400000000000,1.5,\"a\\\"b\",-7,true,0],[1451606400500000000,null,"
        "\"\",0,false,1]],\"partial\":true}],\"partial\":true}]}\n"
        "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"a\",\"columns\":[\"time\"],"
        "\"values\":[[1451606401000001000,-2.25,\"\xc3\xa9\",9223372036854775807,true,"
        "18446744073709551615]]}],\"partial\":true}]}\n"
        "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"b\",\"columns\":[\"time\"],"
        "\"values\":[[1451606400000000000,1.5,\"a\\\"b\",-7,true,0]]}]}]}\n"
        "{\"results\":[{\"statement_id\":1}]}\n"
        "{\"results\":[{\"statement_id\":2,\"error\":\"boom\"}]}\n";
    assert_string_equal((const char *)out.p, want);
    query_v1_fini(&w);
    buf_free(&out);
}

static void test_v1_error_body_and_non_finite(void **state) {
    (void)state;
    buf out = {0};
    query_v1_error_body(&out, "error parsing query: found EOF, expected FROM at line 1, char 9");
    buf_putc(&out, 0);
    assert_string_equal(
        (const char *)out.p, "{\"error\":\"error parsing query: found EOF, expected FROM at line 1, char 9\"}\n");
    buf_reset(&out);
    const double nf[] = {1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0};
    query_vec v = {.f64 = nf}, none = {0};
    const query_vec *vecs[] = {&v, &none};
    const v1_type types[] = {V1_FLOAT, V1_NULL};
    v1_writer w;
    query_v1_init(&w, &out, V1_EPOCH_RFC3339, false, 0);
    for (uint32_t i = 0; i < 3; i++) query_v1_row(&w, vecs, types, 2, i);
    buf_putc(&out, 0);
    assert_string_equal((const char *)out.p, "[null,null],[null,null],[null,null]");
    query_v1_fini(&w);
    buf_free(&out);
}

static void test_v1_stmt_abort(void **state) {
    (void)state;
    for (int chunked = 0; chunked < 2; chunked++) {
        buf out = {0};
        v1_writer w;
        query_v1_init(&w, &out, V1_EPOCH_S, chunked, 0);
        query_v1_begin(&w);
        query_v1_stmt_begin(&w, 0);
        query_v1_stmt_end(&w);
        /* statement 1 fails after writing part of a series: its output is dropped */
        query_v1_stmt_begin(&w, 1);
        query_v1_series_begin(&w, SV("cpu"), NULL, NULL, 0, COLS, 1);
        put_rows(&w, 0, 1);
        query_v1_stmt_abort(&w);
        query_v1_stmt_error(&w, 1, "boom");
        query_v1_stmt_begin(&w, 2);
        query_v1_stmt_end(&w);
        query_v1_end(&w);
        buf_putc(&out, 0);
        assert_string_equal((const char *)out.p,
                            chunked ? "{\"results\":[{\"statement_id\":0}]}\n"
                                      "{\"results\":[{\"statement_id\":1,\"error\":\"boom\"}]}\n"
                                      "{\"results\":[{\"statement_id\":2}]}\n"
                                    : "{\"results\":[{\"statement_id\":0},{\"statement_id\":1,"
                                      "\"error\":\"boom\"},{\"statement_id\":2}]}\n");
        query_v1_fini(&w);
        buf_free(&out);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_one_series_all_types),
        cmocka_unit_test(test_v1_statements_tags_errors_empty),
        cmocka_unit_test(test_v1_epochs),
        cmocka_unit_test(test_v1_time_format),
        cmocka_unit_test(test_v1_chunked),
        cmocka_unit_test(test_v1_error_body_and_non_finite),
        cmocka_unit_test(test_v1_stmt_abort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
