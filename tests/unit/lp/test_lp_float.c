/* SPDX-License-Identifier: MIT
 *
 * lp_parse_double against glibc strtod (which is correctly rounded): random decimal strings,
 * shortest and long renderings of random doubles, exact halfway points between neighbouring
 * doubles (and one digit either side), long mantissas, and the named edge cases. Equality is
 * bit-exact; an input strtod turns into infinity must be rejected. The PRNG seed comes from
 * LP_TEST_SEED or the clock and is printed on failure; LP_TEST_SCALE multiplies the counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lp/lp.h"

static uint64_t g_seed, g_state;
static double g_scale = 1.0;

static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (g_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static int rnd_range(int lo, int hi) {
    return lo + (int)(rnd() % (uint64_t)(hi - lo + 1));
}

static long count(long n) {
    return (long)((double)n * g_scale);
}

static uint64_t bits_of(double d) {
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

/* Compare one string; returns 0 if it agrees with strtod, else prints and returns 1. */
static int check_one(const char *s) {
    errno = 0;
    char *endp;
    double want = strtod(s, &endp);
    double got = 0;
    bool ok = lp_parse_double(s, strlen(s), &got);
    if (*endp != '\0') {
        print_error("test bug: strtod did not consume \"%s\"\n", s);
        return 1;
    }
    if (isinf(want)) {
        if (!ok) return 0;
        print_error("seed %llu: \"%s\": accepted as %.17g, strtod overflows\n",
                    (unsigned long long)g_seed, s, got);
        return 1;
    }
    if (!ok) {
        print_error("seed %llu: \"%s\": rejected, strtod gives %.17g\n", (unsigned long long)g_seed,
                    s, want);
        return 1;
    }
    if (bits_of(got) != bits_of(want)) {
        print_error("seed %llu: \"%s\": got %.17g (%016llx), strtod %.17g (%016llx)\n",
                    (unsigned long long)g_seed, s, got, (unsigned long long)bits_of(got), want,
                    (unsigned long long)bits_of(want));
        return 1;
    }
    return 0;
}

static int setup(void **state) {
    (void)state;
    const char *e = getenv("LP_TEST_SEED");
    g_seed = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
    g_state = g_seed;
    const char *sc = getenv("LP_TEST_SCALE");
    if (sc) g_scale = atof(sc);
    print_message("lp_float seed %llu (set LP_TEST_SEED to repeat)\n", (unsigned long long)g_seed);
    return 0;
}

/* Random digit strings: 1-25 digits, a random '.' position, optional exponent. */
static void test_lp_float_random_decimal_strings(void **state) {
    (void)state;
    char s[128];
    int fails = 0;
    for (long i = 0; i < count(1500000) && fails < 10; i++) {
        size_t n = 0;
        if (rnd() & 1) s[n++] = '-';
        int nd = rnd_range(1, 25);
        int dot = (rnd() % 3 == 0) ? 0 : rnd_range(1, nd); /* digits before '.' (0: none) */
        bool lead_zeros = rnd() % 4 == 0;
        for (int k = 0; k < nd; k++) {
            if (dot && k == dot) s[n++] = '.';
            int digit = (int)(rnd() % 10);
            if (k == 0 && lead_zeros) digit = 0;
            s[n++] = (char)('0' + digit);
        }
        if (rnd() % 4 != 0) {
            int e = rnd() % 8 == 0 ? rnd_range(-400, 400) : rnd_range(-330, 310);
            const char *sign = e < 0 ? "-" : (rnd() & 1) ? "+" : "";
            n += (size_t)snprintf(s + n, sizeof s - n, "%s%s%d", (rnd() & 1) ? "e" : "E", sign,
                                  e < 0 ? -e : e);
        }
        s[n] = '\0';
        fails += check_one(s);
    }
    if (fails) fail_msg("%d mismatches (seed %llu)", fails, (unsigned long long)g_seed);
}

static double random_double(void) {
    for (;;) {
        uint64_t b = rnd();
        if (rnd() % 4 == 0)
            b &= 0x800FFFFFFFFFFFFFULL | ((uint64_t)rnd_range(0, 60) << 52); /* tiny */
        double d;
        memcpy(&d, &b, 8);
        if (isfinite(d)) return d;
    }
}

/* Random doubles printed shortest-ish (%.Ng for N = 1..17) and with many digits. */
static void test_lp_float_random_doubles_round_trip(void **state) {
    (void)state;
    char s[1200];
    int fails = 0;
    for (long i = 0; i < count(1000000) && fails < 10; i++) {
        double d = random_double();
        int prec = rnd_range(1, 17);
        snprintf(s, sizeof s, (rnd() & 1) ? "%.*e" : "%.*g", prec, d);
        /* "%.0e" prints "5e+00" and %g never prints a bare trailing '.': both are LP syntax */
        fails += check_one(s);
        if (i % 16 == 0) { /* long forms: 20-40 significant digits */
            snprintf(s, sizeof s, "%.*e", rnd_range(19, 40), d);
            fails += check_one(s);
        }
    }
    if (fails) fail_msg("%d mismatches (seed %llu)", fails, (unsigned long long)g_seed);
}

/* Exact decimal of the midpoint between d and the next double up, then that string cut to
 * various lengths and nudged by one unit in the last digit. */
static void test_lp_float_halfway_points(void **state) {
    (void)state;
    char s[1200], t[1200];
    int fails = 0;
    for (long i = 0; i < count(60000) && fails < 10; i++) {
        double d = fabs(random_double());
        if (rnd() % 3 == 0) d = (double)(rnd() >> rnd_range(0, 40)); /* integers, 2^53 region */
        double up = nextafter(d, INFINITY);
        if (isinf(up)) continue;
        long double mid = ((long double)d + (long double)up) / 2; /* exact in x87 extended */
        int len = snprintf(s, sizeof s, "%.800Le", mid);
        if (len <= 0 || (size_t)len >= sizeof s) continue;
        /* trim trailing zeros of the mantissa */
        char *e = strchr(s, 'e');
        char *z = e;
        while (z[-1] == '0') z--;
        if (z[-1] == '.') z--;
        memmove(z, e, strlen(e) + 1);
        fails += check_one(s);
        /* cut to k significant digits, and bump the last one up/down */
        e = strchr(s, 'e');
        int sig = (int)(e - s) - 1;
        for (int pass = 0; pass < 3; pass++) {
            int k = rnd_range(1, sig > 1 ? sig : 1);
            size_t m = (size_t)k + (k > 1); /* include '.' */
            memcpy(t, s, m);
            if (t[m - 1] == '.') m--;
            int delta = pass == 0 ? 0 : pass == 1 ? 1 : -1;
            if (delta && t[m - 1] != (delta > 0 ? '9' : '0')) t[m - 1] = (char)(t[m - 1] + delta);
            strcpy(t + m, e);
            fails += check_one(t);
        }
    }
    if (fails) fail_msg("%d mismatches (seed %llu)", fails, (unsigned long long)g_seed);
}

/* Mantissas of 20..800 digits around random values (the >19-digit paths). */
static void test_lp_float_long_mantissas(void **state) {
    (void)state;
    char s[1000];
    int fails = 0;
    for (long i = 0; i < count(30000) && fails < 10; i++) {
        int nd = rnd() % 8 == 0 ? rnd_range(100, 800) : rnd_range(20, 60);
        size_t n = 0;
        int dot = rnd_range(1, nd);
        for (int k = 0; k < nd; k++) {
            if (k == dot && dot < nd) s[n++] = '.';
            int digit = (int)(rnd() % 10);
            if (k > 17 && rnd() % 2) digit = (rnd() & 1) ? 0 : 9; /* long runs of 0s or 9s */
            s[n++] = (char)('0' + digit);
        }
        n += (size_t)snprintf(s + n, sizeof s - n, "e%d", rnd_range(-340, 300));
        fails += check_one(s);
    }
    if (fails) fail_msg("%d mismatches (seed %llu)", fails, (unsigned long long)g_seed);
}

static void test_lp_float_edge_cases(void **state) {
    (void)state;
    static const char *const cases[] = {
        "0",
        "-0",
        "0.0",
        "-0.0",
        "00000",
        "0e0",
        "0e999999999999999999",
        "1",
        "-1",
        "10",
        "9007199254740991",
        "9007199254740992",
        "9007199254740993",
        "9007199254740994",
        "9007199254740995",
        "18014398509481985",
        "18014398509481987",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623159e308",
        "179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558"
        "632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245"
        "490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168"
        "738177180919299881250404026184124858368",
        "2.2250738585072014e-308",
        "2.2250738585072011e-308",
        "2.2250738585072012e-308",
        "4.9406564584124654e-324",
        "2.4703282292062327e-324",
        "2.4703282292062328e-324",
        "7.4109846876186982e-324",
        "1e-400",
        "1e-324",
        "3e-324",
        "1e400",
        "1e308",
        "1e309",
        "1e-99999999999999999999",
        "1e99999999999999999999",
        "-1e99999999999999999999",
        "0.1",
        "0.2",
        "0.3",
        "1.5e-3",
        "-1.234456e+78",
        "123456789012345678901234567890",
        "0.000000000000000000000000000000000000000000001",
        "1E5",
        "1e+5",
        "1e-5",
        "1e05",
        "43.540319807574456",
        "65.22154341585569",
        "3.782633169793981",
        "0.30000000000000004",
        "2.675",
        "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124",
        "1.00000000000000011102230246251565404236316680908203126",
        "8.988465674311579539e307",
        "4.4501477170144023e-308",
        "9.999999999999999e22",
        "1e22",
        "1e23",
        "8.98846567431158e307",
        "18446744073709551615",
        "18446744073709551616",
        "0.0000008",
        "5e-324",
        "-2.2250738585072014e-308",
    };
    int fails = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) fails += check_one(cases[i]);
    /* 1000-digit mantissa with a tie broken only by its last digit */
    char big[1100];
    memset(big, '0', sizeof big);
    memcpy(big, "9007199254740993", 16);
    big[1000] = '\0';
    fails += check_one(big);
    big[999] = '1';
    fails += check_one(big);
    assert_int_equal(fails, 0);

    double v = 1;
    assert_true(lp_parse_double("-0", 2, &v));
    assert_true(v == 0 && signbit(v));
    assert_true(lp_parse_double("1e-400", 6, &v));
    assert_true(v == 0 && !signbit(v));
    assert_false(lp_parse_double("1e309", 5, &v));
    assert_false(lp_parse_double("-1e309", 6, &v));
}

static void test_lp_float_rejects_non_lp_syntax(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",      "-",   "+1",   ".5",    "-.5",   "1.",       "1.e5", "1e", "1e+",      "1e-",
        "e5",    "NaN", "nan",  "inf",   "-Inf",  "Infinity", "1.5x", " 1", "1 ",       "0x10",
        "1_000", "--1", "1..2", "1.2.3", "1e5.5", "1,5",      "1i",   "1u", "\x31\x00",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = 42;
        size_t n = strlen(bad[i]);
        if (i == sizeof bad / sizeof bad[0] - 1) n = 2; /* "1\0" */
        if (lp_parse_double(bad[i], n, &v)) fail_msg("accepted \"%s\" as %g", bad[i], v);
    }
    double v;
    assert_false(lp_parse_double(NULL, 0, &v));
    /* Not NUL-terminated: the parser must stop at n. */
    assert_true(lp_parse_double("12345", 3, &v));
    assert_true(v == 123.0);
    assert_true(lp_parse_double("1.25e1x", 6, &v));
    assert_true(v == 12.5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lp_float_edge_cases),
        cmocka_unit_test(test_lp_float_rejects_non_lp_syntax),
        cmocka_unit_test(test_lp_float_random_decimal_strings),
        cmocka_unit_test(test_lp_float_random_doubles_round_trip),
        cmocka_unit_test(test_lp_float_halfway_points),
        cmocka_unit_test(test_lp_float_long_mantissas),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
