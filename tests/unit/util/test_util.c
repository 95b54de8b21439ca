/* SPDX-License-Identifier: MIT
 *
 * util tests: CRC32C, varints, time formatting and parsing, UTF-8 validation, the hash map,
 * JSON/CSV escaping, double formatting, arenas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/hmap.h"
#include "util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void test_util_crc32c_known_values(void **state) {
    (void)state;
    assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(crc32c(0, "", 0), 0);
    uint8_t zeros[32] = {0};
    assert_int_equal(crc32c(0, zeros, 32), 0x8A9136AAu); /* RFC 3720 B.4 */
    /* incremental == one shot, at every split point */
    const char *s = "The quick brown fox jumps over the lazy dog, twice over.";
    size_t n = strlen(s);
    uint32_t whole = crc32c(0, s, n);
    for (size_t k = 0; k <= n; k++) assert_int_equal(crc32c(crc32c(0, s, k), s + k, n - k), whole);
}

static void test_util_varint_roundtrip_and_overflow(void **state) {
    (void)state;
    uint64_t vals[] = {0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX, (uint64_t)1 << 63,
                       UINT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint8_t b[10];
        size_t n = varint_put(b, vals[i]);
        uint64_t v;
        assert_int_equal(varint_get(b, n, &v), n);
        assert_true(v == vals[i]);
        assert_int_equal(varint_get(b, n - 1, &v), 0); /* truncated */
    }
    uint8_t over[11] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    uint64_t v;
    assert_int_equal(varint_get(over, 10, &v), 0);
    assert_true(zigzag_dec(zigzag_enc(-5)) == -5);
    assert_true(zigzag_dec(zigzag_enc(INT64_MIN)) == INT64_MIN);
}

static void fmt(int64_t t, bool z, const char *expect) {
    char out[64];
    size_t n = time_format_rfc3339(out, t, z);
    out[n] = 0;
    assert_string_equal(out, expect);
}

static void test_util_time_format(void **state) {
    (void)state;
    fmt(0, true, "1970-01-01T00:00:00Z");
    fmt(1451606400000000000LL, true, "2016-01-01T00:00:00Z");
    fmt(1451606400123000000LL, true, "2016-01-01T00:00:00.123Z");
    fmt(1451606400123400000LL, false, "2016-01-01T00:00:00.123400");
    fmt(1451606400000000001LL, true, "2016-01-01T00:00:00.000000001Z");
    fmt(-1, true, "1969-12-31T23:59:59.999999999Z");
    fmt(951782400000000000LL, true, "2000-02-29T00:00:00Z");
    fmt(INT64_MAX, true, "2262-04-11T23:47:16.854775807Z");
    fmt(INT64_MIN, true, "1677-09-21T00:12:43.145224192Z");
}

static void test_util_time_parse(void **state) {
    (void)state;
    int64_t t;
    assert_int_equal(time_parse_rfc3339("2016-01-01T00:00:00Z", 20, &t), SILT_OK);
    assert_true(t == 1451606400000000000LL);
    assert_int_equal(time_parse_rfc3339("2016-01-01", 10, &t), SILT_OK);
    assert_true(t == 1451606400000000000LL);
    const char *s = "2016-01-01 01:00:00.5+01:00";
    assert_int_equal(time_parse_rfc3339(s, strlen(s), &t), SILT_OK);
    assert_true(t == 1451606400500000000LL);
    s = "2016-01-01T00:00:00.000000001Z";
    assert_int_equal(time_parse_rfc3339(s, strlen(s), &t), SILT_OK);
    assert_true(t == 1451606400000000001LL);
    const char *bad[] = {"2016-13-01", "2016-02-30", "2016-01-01T25:00:00Z", "2016-01-01T00:00",
                         "x", "2016-01-01T00:00:00.Z", "2016-01-01T00:00:00Zjunk", "3000-01-01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = time_parse_rfc3339(bad[i], strlen(bad[i]), &t);
        if (i == 3) assert_int_equal(rc, SILT_OK); /* seconds are optional */
        else assert_int_equal(rc, SILT_EPARSE);
    }
    /* format/parse round trip over a range */
    for (int64_t x = -5000000000000000000LL; x < 5000000000000000000LL; x += 123456789012345677LL) {
        char out[64];
        size_t n = time_format_rfc3339(out, x, true);
        int64_t y;
        assert_int_equal(time_parse_rfc3339(out, n, &y), SILT_OK);
        assert_true(x == y);
    }
}

static void test_util_utf8_validation(void **state) {
    (void)state;
    size_t off;
    assert_true(utf8_valid((const uint8_t *)"plain ascii, long enough for words", 34, &off));
    assert_true(utf8_valid((const uint8_t *)"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15, &off));
    assert_false(utf8_valid((const uint8_t *)"abc\xff", 4, &off));
    assert_int_equal(off, 3);
    assert_false(utf8_valid((const uint8_t *)"\xc0\xaf", 2, &off));           /* overlong */
    assert_false(utf8_valid((const uint8_t *)"\xed\xa0\x80", 3, &off));       /* surrogate */
    assert_false(utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4, &off));   /* > U+10FFFF */
    assert_false(utf8_valid((const uint8_t *)"12345678\xe2\x82", 10, &off));  /* truncated */
    assert_int_equal(off, 8);
}

static void test_util_hmap_many_keys(void **state) {
    (void)state;
    hmap m = {0};
    char (*keys)[16] = xmalloc(20000 * 16);
    for (int i = 0; i < 20000; i++) {
        snprintf(keys[i], 16, "k%d", i);
        hmap_put(&m, keys[i], strlen(keys[i]), hmap_hash(keys[i], strlen(keys[i])), (uint64_t)i);
    }
    assert_int_equal(m.n, 20000);
    for (int i = 0; i < 20000; i++) {
        uint64_t v;
        assert_true(hmap_get(&m, keys[i], strlen(keys[i]), hmap_hash(keys[i], strlen(keys[i])), &v));
        assert_int_equal(v, i);
    }
    uint64_t v;
    assert_false(hmap_get(&m, "nope", 4, hmap_hash("nope", 4), &v));
    hmap_put(&m, keys[5], strlen(keys[5]), hmap_hash(keys[5], strlen(keys[5])), 99);
    assert_true(hmap_get(&m, "k5", 2, hmap_hash("k5", 2), &v));
    assert_int_equal(v, 99);
    assert_int_equal(m.n, 20000);
    hmap_free(&m);
    free(keys);
}

static void test_util_json_csv_escaping(void **state) {
    (void)state;
    buf b = {0};
    buf_json_escape(&b, "a\"b\\c\n\x01", 7);
    assert_string_equal(buf_cstr(&b), "a\\\"b\\\\c\\n\\u0001");
    buf_reset(&b);
    buf_csv_field(&b, "plain", 5);
    buf_putc(&b, '|');
    buf_csv_field(&b, "a,\"b\"", 5);
    assert_string_equal(buf_cstr(&b), "plain|\"a,\"\"b\"\"\"");
    buf_free(&b);
}

static void test_util_double_format_roundtrips(void **state) {
    (void)state;
    buf b = {0};
    double vals[] = {0.1, 43.540319807574456, 1e300, -2.5, 5e-324, 1.0 / 3, 100, 123456789012345680.0};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        buf_reset(&b);
        buf_put_double(&b, vals[i]);
        assert_true(strtod(buf_cstr(&b), NULL) == vals[i]);
    }
    buf_reset(&b);
    buf_put_double(&b, 0.1);
    assert_string_equal(buf_cstr(&b), "0.1");
    buf_reset(&b);
    buf_put_double(&b, 100);
    assert_string_equal(buf_cstr(&b), "100");
    buf_reset(&b);
    buf_put_i64(&b, INT64_MIN);
    assert_string_equal(buf_cstr(&b), "-9223372036854775808");
    buf_free(&b);
}

/* printf's shortest round trip, the way buf_put_double printed every double before it had
 * its own digit generator: the reference it must match character for character. */
static void ref_double(char *out, size_t cap, double v) {
    if (v == 0) {
        snprintf(out, cap, signbit(v) ? "-0" : "0");
    } else if (fabs(v) < 1e15 && v == (double)(int64_t)v) {
        snprintf(out, cap, "%lld", (long long)v);
    } else {
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(out, cap, "%.*g", prec, v);
            if (prec == 17 || strtod(out, NULL) == v) break;
        }
    }
}

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint64_t rng(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void check_double(buf *b, double v) {
    char want[64];
    ref_double(want, sizeof want, v);
    buf_reset(b);
    buf_put_double(b, v);
    if (strcmp(buf_cstr(b), want) != 0) {
        fprintf(stderr, "%a: got %s, want %s\n", v, buf_cstr(b), want);
        fail();
    }
}

/* The digit generator against printf + strtod: random bit patterns, random decimals of 1 to
 * 17 digits (the values people write), neighbours of powers of ten and of halfway cases. */
static void test_util_double_format_matches_printf(void **state) {
    (void)state;
    buf b = {0};
    for (int i = 0; i < 300000; i++) {
        uint64_t u = rng();
        double v;
        memcpy(&v, &u, 8);
        if (isfinite(v)) check_double(&b, v);
        /* magnitudes where the fast path works: 1e-4 .. 1e17 */
        double x = pow(10, (double)(rng() % 2100) / 100.0 - 4) * (1 + (double)(rng() >> 11) * 0x1p-53);
        check_double(&b, x);
        check_double(&b, -x);
        char dec[64];
        int nd = 1 + (int)(rng() % 17);
        snprintf(dec, sizeof dec, "%.*e", nd - 1, x);
        check_double(&b, strtod(dec, NULL));
    }
    for (int e = -6; e <= 17; e++) {
        double p = pow(10, e);
        double v = p;
        for (int k = 0; k < 50; k++) v = nextafter(v, 0);
        for (int k = 0; k < 100; k++, v = nextafter(v, INFINITY)) check_double(&b, v);
        for (int k = 1; k < 1000; k++) check_double(&b, p * k / 8.0 + 0.5);
    }
    check_double(&b, 43.540319807574456);
    check_double(&b, 9007199254740991.5);
    check_double(&b, 0.001);
    check_double(&b, 0.0009999999999999998);
    buf_free(&b);
}

static void test_util_arena_alignment_and_reset(void **state) {
    (void)state;
    arena a;
    arena_init(&a, 1024);
    for (int i = 0; i < 1000; i++) {
        void *p = arena_alloc(&a, (size_t)(i % 50) + 1);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, 0xab, (size_t)(i % 50) + 1);
    }
    void *big = arena_alloc(&a, 100000);
    memset(big, 1, 100000);
    arena_reset(&a);
    assert_non_null(arena_alloc(&a, 10));
    arena_fini(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_util_crc32c_known_values),
        cmocka_unit_test(test_util_varint_roundtrip_and_overflow),
        cmocka_unit_test(test_util_time_format),
        cmocka_unit_test(test_util_double_format_matches_printf),
        cmocka_unit_test(test_util_time_parse),
        cmocka_unit_test(test_util_utf8_validation),
        cmocka_unit_test(test_util_hmap_many_keys),
        cmocka_unit_test(test_util_json_csv_escaping),
        cmocka_unit_test(test_util_double_format_roundtrips),
        cmocka_unit_test(test_util_arena_alignment_and_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
