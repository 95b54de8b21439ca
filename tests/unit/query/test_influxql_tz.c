/* SPDX-License-Identifier: MIT
 *
 * tz() of InfluxQL: TZif parsing (a file built here, and the system's Europe/Paris when the
 * tz database is installed), POSIX TZ footer rules (northern and southern hemisphere, years
 * past the table), InfluxDB 1.x's day buckets on the days clocks change, RFC 3339 with the
 * zone's offset, and the names load refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "query/influxql.h"

#define S INT64_C(1000000000)

static int64_t ts(int y, int mo, int d, int h, int mi, int s) {
    return (time_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s);
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, int64_t v) {
    put32(p, (uint32_t)((uint64_t)v >> 32));
    put32(p + 4, (uint32_t)v);
}

/* A version 2 TZif: an empty 32-bit block, then n transitions to the given offsets (types
 * 0 = off0, 1.. = offs[i]) and a footer. Returns its length. */
static size_t build_tzif(uint8_t *out, const int64_t *trans, const int32_t *offs, size_t n,
                         int32_t off0, const char *footer) {
    uint8_t *p = out;
    /* header 1: only one type and one designation byte */
    memcpy(p, "TZif2", 5);
    memset(p + 5, 0, 15);
    put32(p + 20, 0);
    put32(p + 24, 0);
    put32(p + 28, 0);
    put32(p + 32, 0);
    put32(p + 36, 1);
    put32(p + 40, 1);
    p += 44;
    memset(p, 0, 7); /* one ttinfo, one char */
    p += 7;
    /* header 2 */
    memcpy(p, "TZif2", 5);
    memset(p + 5, 0, 15);
    put32(p + 20, 0);
    put32(p + 24, 0);
    put32(p + 28, 0);
    put32(p + 32, (uint32_t)n);
    put32(p + 36, (uint32_t)(n + 1));
    put32(p + 40, 4);
    p += 44;
    for (size_t i = 0; i < n; i++, p += 8) put64(p, trans[i]);
    for (size_t i = 0; i < n; i++) *p++ = (uint8_t)(i + 1);
    put32(p, (uint32_t)off0);
    p[4] = 0;
    p[5] = 0;
    p += 6;
    for (size_t i = 0; i < n; i++, p += 6) {
        put32(p, (uint32_t)offs[i]);
        p[4] = 0;
        p[5] = 0;
    }
    memcpy(p, "LMT", 4);
    p += 4;
    *p++ = '\n';
    size_t fl = strlen(footer);
    memcpy(p, footer, fl);
    p += fl;
    *p++ = '\n';
    return (size_t)(p - out);
}

static void test_tz_table_and_footer(void **state) {
    (void)state;
    arena a;
    arena_init(&a, 0);
    uint8_t file[1024];
    /* LMT +00:09:21 until 1911, then UTC+1 standard; the rule after that */
    int64_t tr[] = {ts(1911, 3, 11, 0, 0, 0)};
    int32_t of[] = {3600};
    size_t n = build_tzif(file, tr, of, 1, 561, "CET-1CEST,M3.5.0,M10.5.0/3");
    iql_tz z;
    assert_int_equal(influxql_tz_parse(file, n, &a, &z), SILT_OK);
    assert_int_equal(influxql_tz_offset(&z, ts(1900, 1, 1, 0, 0, 0)), 561);
    /* 2016: DST from 2016-03-27 01:00Z to 2016-10-30 01:00Z (the footer's rule) */
    assert_int_equal(influxql_tz_offset(&z, ts(2016, 3, 27, 0, 59, 59)), 3600);
    assert_int_equal(influxql_tz_offset(&z, ts(2016, 3, 27, 1, 0, 0)), 7200);
    assert_int_equal(influxql_tz_offset(&z, ts(2016, 10, 30, 0, 59, 59)), 7200);
    assert_int_equal(influxql_tz_offset(&z, ts(2016, 10, 30, 1, 0, 0)), 3600);
    assert_int_equal(influxql_tz_offset(&z, ts(2100, 7, 1, 0, 0, 0)), 7200);
    assert_int_equal(influxql_tz_offset(&z, ts(2100, 1, 1, 0, 0, 0)), 3600);
    assert_true(influxql_tz_next(&z, ts(2016, 1, 1, 0, 0, 0)) == ts(2016, 3, 27, 1, 0, 0));
    assert_true(influxql_tz_next(&z, ts(2016, 3, 27, 1, 0, 0)) == ts(2016, 10, 30, 1, 0, 0));
    assert_true(influxql_tz_next(&z, ts(1900, 1, 1, 0, 0, 0)) == ts(1911, 3, 11, 0, 0, 0));

    /* southern hemisphere: DST across the new year; a fixed zone has no transitions */
    n = build_tzif(file, NULL, NULL, 0, 36000, "AEST-10AEDT,M10.1.0,M4.1.0/3");
    assert_int_equal(influxql_tz_parse(file, n, &a, &z), SILT_OK);
    assert_int_equal(influxql_tz_offset(&z, ts(2020, 1, 15, 0, 0, 0)), 39600);
    assert_int_equal(influxql_tz_offset(&z, ts(2020, 7, 15, 0, 0, 0)), 36000);
    /* 2020-04-05 03:00 AEDT = 2020-04-04 16:00Z */
    assert_int_equal(influxql_tz_offset(&z, ts(2020, 4, 4, 15, 59, 59)), 39600);
    assert_int_equal(influxql_tz_offset(&z, ts(2020, 4, 4, 16, 0, 0)), 36000);
    n = build_tzif(file, NULL, NULL, 0, 19800, "IST-5:30");
    assert_int_equal(influxql_tz_parse(file, n, &a, &z), SILT_OK);
    assert_int_equal(influxql_tz_offset(&z, ts(2024, 1, 1, 0, 0, 0)), 19800);
    assert_true(influxql_tz_next(&z, 0) == INT64_MAX);

    /* malformed */
    assert_int_equal(influxql_tz_parse((const uint8_t *)"TZif2", 5, &a, &z), SILT_EPARSE);
    file[0] = 'X';
    assert_int_equal(influxql_tz_parse(file, n, &a, &z), SILT_EPARSE);
    arena_fini(&a);
}

static void test_tz_buckets_and_format(void **state) {
    (void)state;
    arena a;
    arena_init(&a, 0);
    uint8_t file[1024];
    int64_t tr[] = {ts(1911, 3, 11, 0, 0, 0)};
    int32_t of[] = {3600};
    size_t n = build_tzif(file, tr, of, 1, 561, "CET-1CEST,M3.5.0,M10.5.0/3");
    iql_tz z;
    assert_int_equal(influxql_tz_parse(file, n, &a, &z), SILT_OK);
    const int64_t D = 86400 * S, H = 3600 * S;
    /* a 23-hour day: local midnight is 23:00Z before, 22:00Z after */
    int64_t b = influxql_tz_bucket(&z, ts(2016, 3, 27, 12, 0, 0) * S, D, 0);
    assert_true(b == ts(2016, 3, 26, 23, 0, 0) * S);
    assert_true(influxql_tz_bucket(&z, ts(2016, 3, 26, 23, 30, 0) * S, D, 0) == b);
    assert_true(influxql_tz_bucket_next(&z, b, D, 0) == ts(2016, 3, 27, 22, 0, 0) * S);
    /* a 25-hour day */
    b = influxql_tz_bucket(&z, ts(2016, 10, 30, 12, 0, 0) * S, D, 0);
    assert_true(b == ts(2016, 10, 29, 22, 0, 0) * S);
    assert_true(influxql_tz_bucket(&z, ts(2016, 10, 30, 22, 59, 0) * S, D, 0) == b);
    assert_true(influxql_tz_bucket_next(&z, b, D, 0) == ts(2016, 10, 30, 23, 0, 0) * S);
    /* hours stay hours; an offset moves the day */
    assert_true(influxql_tz_bucket(&z, ts(2016, 3, 27, 1, 30, 0) * S, H, 0) ==
                ts(2016, 3, 27, 1, 0, 0) * S);
    assert_true(influxql_tz_bucket(&z, ts(2016, 1, 5, 12, 0, 0) * S, D, 6 * H) ==
                ts(2016, 1, 5, 5, 0, 0) * S);

    char out[64];
    influxql_tz_format(&z, ts(2015, 12, 31, 23, 0, 0) * S, out);
    assert_string_equal(out, "2016-01-01T00:00:00+01:00");
    influxql_tz_format(&z, ts(2016, 7, 1, 10, 0, 0) * S + 500000000, out);
    assert_string_equal(out, "2016-07-01T12:00:00.5+02:00");
    n = build_tzif(file, NULL, NULL, 0, -18000, "EST5");
    assert_int_equal(influxql_tz_parse(file, n, &a, &z), SILT_OK);
    influxql_tz_format(&z, 0, out);
    assert_string_equal(out, "1969-12-31T19:00:00-05:00");
    n = build_tzif(file, NULL, NULL, 0, 19800, "IST-5:30");
    assert_int_equal(influxql_tz_parse(file, n, &a, &z), SILT_OK);
    influxql_tz_format(&z, 0, out);
    assert_string_equal(out, "1970-01-01T05:30:00+05:30");
    arena_fini(&a);
}

static void test_tz_load(void **state) {
    (void)state;
    arena a;
    arena_init(&a, 0);
    iql_tz z;
    silt_err err = {0};
    assert_int_equal(influxql_tz_load("UTC", &a, &z, &err), SILT_OK);
    char out[64];
    influxql_tz_format(&z, 0, out);
    assert_string_equal(out, "1970-01-01T00:00:00Z");
    const char *bad[] = {"Nowhere/Zone", "../../etc/passwd", "/etc/localtime", "", "Europe/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(influxql_tz_load(bad[i], &a, &z, &err), SILT_EINVAL);
        char want[128];
        snprintf(want, sizeof want, "unable to find time zone %s", bad[i]);
        assert_string_equal(err.msg, want);
    }
    if (access("/usr/share/zoneinfo/Europe/Paris", R_OK) == 0) { /* the system's tz database */
        assert_int_equal(influxql_tz_load("Europe/Paris", &a, &z, &err), SILT_OK);
        assert_int_equal(influxql_tz_offset(&z, ts(2016, 1, 1, 0, 0, 0)), 3600);
        assert_int_equal(influxql_tz_offset(&z, ts(2016, 7, 1, 0, 0, 0)), 7200);
        assert_int_equal(influxql_tz_offset(&z, ts(2016, 3, 27, 1, 0, 0)), 7200);
        assert_int_equal(influxql_tz_offset(&z, ts(2060, 12, 1, 0, 0, 0)), 3600);
        influxql_tz_format(&z, ts(2015, 12, 31, 23, 0, 0) * S, out);
        assert_string_equal(out, "2016-01-01T00:00:00+01:00");
    }
    arena_fini(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tz_table_and_footer),
        cmocka_unit_test(test_tz_buckets_and_format),
        cmocka_unit_test(test_tz_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
