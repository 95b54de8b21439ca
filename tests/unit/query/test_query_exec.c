/* SPDX-License-Identifier: MIT
 *
 * Executor tests over the in-memory source (mem_source.h, fixture described there): filters
 * with every operator and type pairing, three-valued logic, precedence, time literals,
 * ORDER BY, LIMIT/OFFSET with and without ORDER BY (early stop, top-N), count(), SHOW, and
 * the errors for unknown names and mismatched types. Batches hold 3 rows unless a test says
 * otherwise, so every query crosses batch boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "query/query_int.h"
#include "query/mem_source.h"
#include "query/query_v1.h"

static int setup(void **state) {
    mem_source *ms = malloc(sizeof *ms);
    mem_fixture(ms, 3);
    *state = ms;
    return 0;
}

static int teardown(void **state) {
    mem_source_fini(*state);
    free(*state);
    return 0;
}

/* The ids (comma-separated, in output order) of `SELECT id FROM cpu <tail>`. */
static const char *ids(mem_source *ms, const char *tail) {
    static char out[256];
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT id FROM cpu %s", tail);
    buf b = {0};
    silt_err err = {0};
    int rc = mem_query(ms, "db", sql, QUERY_FMT_CSV, 0, &b, &err);
    if (rc != SILT_OK) fail_msg("%s: rc %d: %s", sql, rc, err.msg);
    /* "id\n1\n2\n" -> "1,2" */
    const char *p = (const char *)b.p;
    assert_memory_equal(p, "id\n", 3);
    size_t k = 0;
    for (p += 3; *p; p++) out[k++] = *p == '\n' ? ',' : *p;
    if (k) k--;
    out[k] = 0;
    buf_free(&b);
    return out;
}

static const char *where(mem_source *ms, const char *cond) {
    char tail[400];
    snprintf(tail, sizeof tail, "WHERE %s", cond);
    return ids(ms, tail);
}

#define ASSERT_WHERE(cond, want)                                                                   \
    do {                                                                                           \
        const char *got_ = where(ms, cond);                                                        \
        if (strcmp(got_, want) != 0) fail_msg("WHERE %s: got '%s', want '%s'", cond, got_, want);  \
    } while (0)

/* sql fails with code and exactly msg; out stays empty */
static void assert_query_error(mem_source *ms, const char *db, const char *sql, int code,
                               const char *msg) {
    buf b = {0};
    buf_puts(&b, "keep");
    silt_err err = {0};
    int rc = mem_query(ms, db, sql, QUERY_FMT_JSON, 0, &b, &err);
    if (rc != code || (msg && strcmp(err.msg, msg) != 0))
        fail_msg("%s\n  rc %d: %s\n  want %d: %s", sql, rc, err.msg, code, msg ? msg : "");
    assert_int_equal(b.len, 4); /* no partial result appended */
    buf_free(&b);
}

static char *json(mem_source *ms, const char *sql) {
    buf b = {0};
    silt_err err = {0};
    int rc = mem_query(ms, "db", sql, QUERY_FMT_JSON, 0, &b, &err);
    if (rc != SILT_OK) fail_msg("%s: rc %d: %s", sql, rc, err.msg);
    return (char *)b.p; /* caller frees */
}

#define ASSERT_JSON(sql, want)                                                                     \
    do {                                                                                           \
        char *got_ = json(ms, sql);                                                                \
        if (strcmp(got_, want) != 0) fail_msg("%s\n  got  %s\n  want %s", sql, got_, want);        \
        free(got_);                                                                                \
    } while (0)

/* ------------------------------------------------------------------ filters */

static void test_query_filter_float_all_operators(void **state) {
    mem_source *ms = *state;
    ASSERT_WHERE("usage = 1.5", "1");
    ASSERT_WHERE("usage <> 1.5", "2,4,5,6");
    ASSERT_WHERE("usage != 1.5", "2,4,5,6");
    ASSERT_WHERE("usage < 0", "2");
    ASSERT_WHERE("usage <= 1.5", "1,2,5");
    ASSERT_WHERE("usage > 100", "6");
    ASSERT_WHERE("usage >= 100", "4,6");
    ASSERT_WHERE("usage = -2.5", "2");
    ASSERT_WHERE("usage > -1e1", "1,2,4,5,6");
    ASSERT_WHERE("1.5 = usage", "1");
    ASSERT_WHERE("0 > usage", "2"); /* literal on the left flips the operator */
    ASSERT_WHERE("100 <= usage", "4,6");
}

static void test_query_filter_float_vs_integer_exact(void **state) {
    mem_source *ms = *state;
    /* row 6 holds 2^53 as a double; 2^53+1 is not a double, so a naive conversion of the
     * literal would make them equal */
    ASSERT_WHERE("usage = 9007199254740993", "");
    ASSERT_WHERE("usage < 9007199254740993", "1,2,4,5,6");
    ASSERT_WHERE("usage >= 9007199254740993", "");
    ASSERT_WHERE("usage = 9007199254740992", "6");
    ASSERT_WHERE("usage < 9223372036854775807", "1,2,4,5,6");
    ASSERT_WHERE("usage > -9223372036854775808", "1,2,4,5,6");
    ASSERT_WHERE("usage < 18446744073709551615", "1,2,4,5,6");
    ASSERT_WHERE("usage > 18446744073709551615", "");
    ASSERT_WHERE("usage = 100", "4");
}

static void test_query_filter_int_all_operators(void **state) {
    mem_source *ms = *state;
    /* count: 10, -5, 2^53+1, 0, 1, 3 */
    ASSERT_WHERE("count = 10", "1");
    ASSERT_WHERE("count <> 10", "2,3,4,5,6");
    ASSERT_WHERE("count < 0", "2");
    ASSERT_WHERE("count <= 1", "2,4,5");
    ASSERT_WHERE("count > 3", "1,3");
    ASSERT_WHERE("count >= 3", "1,3,6");
    ASSERT_WHERE("count = -5", "2");
    ASSERT_WHERE("count = 9007199254740993", "3");
}

static void test_query_filter_int_vs_float_exact(void **state) {
    mem_source *ms = *state;
    ASSERT_WHERE("count > 1.5", "1,3,6");
    ASSERT_WHERE("count < 1.5", "2,4,5");
    ASSERT_WHERE("count >= 1.5", "1,3,6");
    ASSERT_WHERE("count <= 1.5", "2,4,5");
    ASSERT_WHERE("count = 1.5", "");
    ASSERT_WHERE("count <> 1.5", "1,2,3,4,5,6");
    ASSERT_WHERE("count = 1.0", "5");
    ASSERT_WHERE("count > -4.5", "1,3,4,5,6");
    /* 2^53 as a double: row 3 holds 2^53+1 exactly, which is greater */
    ASSERT_WHERE("count = 9007199254740992.0", "");
    ASSERT_WHERE("count > 9007199254740992.0", "3");
    ASSERT_WHERE("count < 1e300", "1,2,3,4,5,6");
    ASSERT_WHERE("count > 1e19", "");
    ASSERT_WHERE("count > -1e19", "1,2,3,4,5,6");
    ASSERT_WHERE("count < -9.3e18", "");
}

static void test_query_filter_int_vs_uint_literal(void **state) {
    mem_source *ms = *state;
    ASSERT_WHERE("count < 18446744073709551615", "1,2,3,4,5,6");
    ASSERT_WHERE("count = 18446744073709551615", "");
    ASSERT_WHERE("count <> 18446744073709551615", "1,2,3,4,5,6");
    ASSERT_WHERE("count > 9223372036854775808", "");
    ASSERT_WHERE("count >= -9223372036854775808", "1,2,3,4,5,6");
}

static void test_query_filter_uint_all_operators(void **state) {
    mem_source *ms = *state;
    /* big: UINT64_MAX, 0, 2^63, 5, NULL, 3 */
    ASSERT_WHERE("big = 18446744073709551615", "1");
    ASSERT_WHERE("big <> 0", "1,3,4,6");
    ASSERT_WHERE("big < 5", "2,6");
    ASSERT_WHERE("big <= 5", "2,4,6");
    ASSERT_WHERE("big > 9223372036854775807", "1,3");
    ASSERT_WHERE("big >= 9223372036854775808", "1,3");
    ASSERT_WHERE("big = 3", "6");
}

static void test_query_filter_uint_vs_negative_and_float(void **state) {
    mem_source *ms = *state;
    ASSERT_WHERE("big > -1", "1,2,3,4,6");
    ASSERT_WHERE("big >= -1", "1,2,3,4,6");
    ASSERT_WHERE("big = -1", "");
    ASSERT_WHERE("big < -1", "");
    ASSERT_WHERE("big <> -1", "1,2,3,4,6");
    ASSERT_WHERE("big > -9223372036854775808", "1,2,3,4,6");
    ASSERT_WHERE("big < 4.5", "2,6");
    ASSERT_WHERE("big > 4.5", "1,3,4");
    ASSERT_WHERE("big = 5.0", "4");
    ASSERT_WHERE("big = 5.5", "");
    ASSERT_WHERE("big < -0.5", "");
    ASSERT_WHERE("big < 1.8446744073709552e19", "1,2,3,4,6"); /* 2^64 */
    ASSERT_WHERE("big >= 1.8446744073709552e19", "");
}

static void test_query_filter_strings_and_tags(void **state) {
    mem_source *ms = *state;
    /* memcmp's result may be any magnitude: '5' > '3' must not read as unordered (2) */
    ASSERT_WHERE("id > '3'", "4,5,6");
    ASSERT_WHERE("id < '5' AND id >= '2'", "2,3,4");
    ASSERT_WHERE("host = 'a'", "1,3");
    ASSERT_WHERE("host <> 'a'", "2,4,5,6");
    ASSERT_WHERE("host < 'b'", "1,3");
    ASSERT_WHERE("host <= 'b'", "1,2,3,5");
    ASSERT_WHERE("host > 'b'", "4,6");
    ASSERT_WHERE("host >= 'b'", "2,4,5,6");
    ASSERT_WHERE("'b' > host", "1,3");
    ASSERT_WHERE("region = 'us'", "1,3,6"); /* row 5 has no region */
    ASSERT_WHERE("region <> 'us'", "2,4");
    ASSERT_WHERE("msg = 'a,b'", "2");
    ASSERT_WHERE("msg = 'quote \"x\"'", "4");
    ASSERT_WHERE("msg > 'hello'", "4,6");
    ASSERT_WHERE("msg < 'hello!'", "1,2"); /* prefix sorts first */
    ASSERT_WHERE("host = ''", "");
    ASSERT_WHERE("host > ''", "1,2,3,4,5,6");
    ASSERT_WHERE("host = 'A'", ""); /* byte comparison, case-sensitive */
}

static void test_query_filter_booleans(void **state) {
    mem_source *ms = *state;
    ASSERT_WHERE("ok = true", "1,4,6");
    ASSERT_WHERE("ok = false", "2,5");
    ASSERT_WHERE("ok <> true", "2,5");
    ASSERT_WHERE("ok", "1,4,6");
    ASSERT_WHERE("NOT ok", "2,5");
    ASSERT_WHERE("ok > false", "1,4,6");
    ASSERT_WHERE("ok IS NULL", "3");
    ASSERT_WHERE("TRUE = ok", "1,4,6");
}

static void test_query_filter_null_three_valued_logic(void **state) {
    mem_source *ms = *state;
    ASSERT_WHERE("usage IS NULL", "3");
    ASSERT_WHERE("usage IS NOT NULL", "1,2,4,5,6");
    ASSERT_WHERE("NOT usage IS NULL", "1,2,4,5,6");
    ASSERT_WHERE("NOT (usage IS NOT NULL)", "3");
    /* NULL compares unknown; NOT unknown is unknown */
    ASSERT_WHERE("NOT (usage > 2)", "1,2,5");
    ASSERT_WHERE("NOT (NOT (usage > 2))", "4,6");
    ASSERT_WHERE("usage = NULL", "");
    ASSERT_WHERE("NOT (usage = NULL)", "");
    ASSERT_WHERE("NULL", "");
    ASSERT_WHERE("NOT NULL IS NULL", "");
    ASSERT_WHERE("NULL IS NULL", "1,2,3,4,5,6");
    /* unknown OR true is true; unknown AND false is false, and NOT of that is true */
    ASSERT_WHERE("usage > 2 OR host = 'a'", "1,3,4,6");
    ASSERT_WHERE("NOT (usage > 2 AND host = 'b')", "1,2,3,4,5,6");
    ASSERT_WHERE("NOT (usage > 2 AND host = 'a')", "1,2,4,5,6");
    ASSERT_WHERE("NOT (usage > 2 OR host = 'c')", "1,2,5");
    ASSERT_WHERE("NOT (ok OR host = 'x')", "2,5"); /* row 3: NULL OR false = unknown */
    ASSERT_WHERE("big IS NULL OR region IS NULL", "5");
}

static void test_query_filter_and_or_not_precedence(void **state) {
    mem_source *ms = *state;
    ASSERT_WHERE("host = 'a' OR host = 'b' AND ok", "1,3");
    ASSERT_WHERE("(host = 'a' OR host = 'b') AND ok", "1");
    ASSERT_WHERE("NOT host = 'a' AND ok", "4,6");
    ASSERT_WHERE("NOT (host = 'a' AND ok)", "2,4,5,6");
    ASSERT_WHERE("host = 'c' OR host = 'a' OR count = 1", "1,3,4,5,6");
    ASSERT_WHERE("host = 'a' AND count > 5 OR host = 'c' AND usage > 50", "1,3,4,6");
    ASSERT_WHERE("(host = 'a' OR host = 'c') AND (count > 5 OR usage > 50)", "1,3,4,6");
    ASSERT_WHERE("NOT (host = 'a' OR host = 'c') AND NOT ok", "2,5");
    ASSERT_WHERE("((((host = 'b'))))", "2,5");
}

static void test_query_filter_constant_conditions(void **state) {
    mem_source *ms = *state;
    ASSERT_WHERE("1 = 1", "1,2,3,4,5,6");
    ASSERT_WHERE("1 = 2", "");
    ASSERT_WHERE("true", "1,2,3,4,5,6");
    ASSERT_WHERE("NOT false AND host = 'a'", "1,3");
    ASSERT_WHERE("1 = 1.0 AND 'a' < 'b'", "1,2,3,4,5,6");
    ASSERT_WHERE("18446744073709551615 > -1", "1,2,3,4,5,6");
    ASSERT_WHERE("host = 'a' OR 1 = 1", "1,2,3,4,5,6");
    ASSERT_WHERE("host = 'a' AND 1 = 2", "");
    ASSERT_WHERE("count = 2 + 1", "6");
    ASSERT_WHERE("count = -(-5) - 10", "2");
    ASSERT_WHERE("1.5 < 2.5 AND 18446744073709551615 = 18446744073709551615", "1,2,3,4,5,6");
    ASSERT_WHERE("-1 < 18446744073709551615 AND 18446744073709551614 < 18446744073709551615",
                 "1,2,3,4,5,6");
    ASSERT_WHERE("9223372036854775807 < 9223372036854775808", "1,2,3,4,5,6");
    ASSERT_WHERE("TIMESTAMP '2016-01-01' = '2016-01-01T00:00:00Z'", "1,2,3,4,5,6");
    ASSERT_WHERE("now() > TIMESTAMP '2016-01-01' AND INTERVAL '1h' = INTERVAL '60 minutes'",
                 "1,2,3,4,5,6");
    ASSERT_WHERE("1.5 = NULL OR NOT (NULL = 1)", "");
}

static void test_query_filter_time_literals(void **state) {
    mem_source *ms = *state;
    ASSERT_WHERE("time >= '2016-01-01T00:00:00Z'", "4,5");
    ASSERT_WHERE("time > '2016-01-01'", "5");
    ASSERT_WHERE("time = '2016-01-01T00:00:00.123Z'", "5");
    ASSERT_WHERE("time = '2016-01-01 02:00:00.123+02:00'", "5");
    ASSERT_WHERE("time < '1970-01-01T00:00:02Z'", "1");
    ASSERT_WHERE("'1970-01-01T00:00:02Z' = time", "2,6");
    ASSERT_WHERE("time = 1000000000", "1");
    ASSERT_WHERE("time <= 2000000000", "1,2,6");
    ASSERT_WHERE("time > 3000000000 AND time < '2016-01-01T00:00:00.1Z'", "4");
    ASSERT_WHERE("time > -9223372036854775808", "1,2,3,4,5,6");
    ASSERT_WHERE("time < 18446744073709551615", "1,2,3,4,5,6");
    ASSERT_WHERE("time = TIMESTAMP '2016-01-01T00:00:00Z'", "4");
    /* now() is 2016-01-01T01:00:00Z in these tests */
    ASSERT_WHERE("time > now() - INTERVAL '1 hour'", "5");
    ASSERT_WHERE("time > now() - INTERVAL '59 minutes 59 seconds'", "");
    ASSERT_WHERE("time >= now() - interval '1h'", "4,5");
    ASSERT_WHERE("time < now() - INTERVAL '1 week'", "1,2,3,6");
}

static void test_query_filter_invalid_time_literal(void **state) {
    mem_source *ms = *state;
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE time > 'yesterday'", SILT_EINVAL,
                       "invalid timestamp 'yesterday' compared with column 'time': expected an "
                       "RFC 3339 date-time such as '2024-01-01T00:00:00Z'");
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE time > 1.5", SILT_EINVAL,
                       "cannot compare column 'time' (timestamp) with float 1.5");
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE time > INTERVAL '3 months'", SILT_EINVAL,
                       "interval '3 months': months and years are not supported (they have no "
                       "fixed length)");
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE time > now() - INTERVAL 'soon'",
                       SILT_EINVAL,
                       "invalid interval 'soon': expected a number and a unit such as '1 hour' "
                       "or '30 minutes'");
}

static void test_query_type_mismatch_errors(void **state) {
    mem_source *ms = *state;
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE usage = 'abc'", SILT_EINVAL,
                       "cannot compare column 'usage' (float) with string 'abc'");
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE 'abc' < count", SILT_EINVAL,
                       "cannot compare column 'count' (integer) with string 'abc'");
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE big = '1'", SILT_EINVAL,
                       "cannot compare column 'big' (unsigned) with string '1'");
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE host = 5", SILT_EINVAL,
                       "cannot compare column 'host' (tag) with integer 5");
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE msg > 1.5", SILT_EINVAL,
                       "cannot compare column 'msg' (string) with float 1.5");
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE ok = 1", SILT_EINVAL,
                       "cannot compare column 'ok' (boolean) with integer 1");
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE usage = true", SILT_EINVAL,
                       "cannot compare column 'usage' (float) with boolean true");
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE 'a' = 1", SILT_EINVAL,
                       "cannot compare string 'a' with integer 1");
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE usage", SILT_EINVAL,
                       "a condition must be boolean; column 'usage' is float");
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE 5", SILT_EINVAL,
                       "a condition must be boolean, not integer 5");
    /* general expressions: type errors name the position */
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE usage = host", SILT_EINVAL,
                       "cannot compare float with string at line 1, column 25");
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE usage + host > 2", SILT_EINVAL,
                       "operator '+' is not defined for float and string at line 1, column 25");
    /* every name is checked, even behind a branch that is constant-false */
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE 1 = 2 AND nope = 1", SILT_EINVAL,
                       "column 'nope' not found in table 'cpu'");
}

/* ------------------------------------------------------------------ names and errors */

static void test_query_unknown_table_database_column(void **state) {
    mem_source *ms = *state;
    assert_query_error(ms, "db", "SELECT * FROM nope", SILT_ENOTFOUND, "table 'nope' not found");
    assert_query_error(ms, "nodb", "SELECT * FROM cpu", SILT_ENOTFOUND,
                       "database 'nodb' not found");
    assert_query_error(ms, "nodb", "SHOW TABLES", SILT_ENOTFOUND, "database 'nodb' not found");
    assert_query_error(ms, "db", "SELECT nope FROM cpu", SILT_EINVAL,
                       "column 'nope' not found in table 'cpu'");
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE nope = 1", SILT_EINVAL,
                       "column 'nope' not found in table 'cpu'");
    assert_query_error(ms, "db", "SELECT \"Host\" FROM cpu", SILT_EINVAL,
                       "column 'Host' not found in table 'cpu'");
    assert_query_error(ms, "db", "SELECT * FROM \"CPU\"", SILT_ENOTFOUND, "table 'CPU' not found");
    assert_query_error(ms, "db", "SHOW COLUMNS FROM nope", SILT_ENOTFOUND,
                       "table 'nope' not found");
    assert_query_error(ms, "db", "SELECT * FORM cpu", SILT_EPARSE,
                       "syntax error at line 1, column 10: expected FROM, found 'FORM'");
}

static void test_query_unquoted_names_fold_to_lower_case(void **state) {
    mem_source *ms = *state;
    ASSERT_JSON("SELECT HOST, Id FROM CPU WHERE ID = '1'", "[{\"host\":\"a\",\"id\":\"1\"}]");
}

static void test_query_unsupported_select_items(void **state) {
    mem_source *ms = *state;
    assert_query_error(ms, "db", "SELECT count(*), host FROM cpu", SILT_EINVAL,
                       "column 'host' must appear in the GROUP BY clause or be used in an "
                       "aggregate function at line 1, column 18");
    assert_query_error(ms, "db", "SELECT host, host FROM cpu", SILT_EINVAL,
                       "duplicate output column name 'host'; use AS to rename one");
    assert_query_error(ms, "db", "SELECT nosuch(usage) FROM cpu", SILT_EINVAL,
                       "unknown function 'nosuch' at line 1, column 8");
    assert_query_error(ms, "db", "SELECT count(*) FROM cpu ORDER BY time", SILT_EINVAL,
                       "column 'time' must appear in the GROUP BY clause or be used in an "
                       "aggregate function at line 1, column 35");
    assert_query_error(ms, "db", "SELECT * FROM cpu WHERE count(*) > 1", SILT_EINVAL,
                       "aggregate function count() is not allowed here");
}

/* ------------------------------------------------------------------ projection, order, limit */

static void test_query_select_star_in_table_order(void **state) {
    mem_source *ms = *state;
    ASSERT_JSON("SELECT * FROM cpu WHERE id = '1'",
                "[{\"big\":18446744073709551615,\"count\":10,\"host\":\"a\",\"id\":\"1\","
                "\"msg\":\"hello\",\"ok\":true,\"region\":\"us\",\"time\":\"1970-01-01T00:00:01\","
                "\"usage\":1.5}]");
    ASSERT_JSON("SELECT * FROM cpu WHERE id = '5'",
                "[{\"count\":1,\"host\":\"b\",\"id\":\"5\",\"ok\":false,"
                "\"time\":\"2016-01-01T00:00:00.123\",\"usage\":0.1}]");
}

static void test_query_select_columns_and_aliases(void **state) {
    mem_source *ms = *state;
    ASSERT_JSON("SELECT usage AS u, host, time AS t FROM cpu WHERE id = '2'",
                "[{\"u\":-2.5,\"host\":\"b\",\"t\":\"1970-01-01T00:00:02\"}]");
    ASSERT_JSON("SELECT free AS f, * FROM mem",
                "[{\"f\":7,\"free\":7,\"time\":\"1970-01-01T00:00:00.000000005\"}]");
}

static void test_query_order_by_time_both_directions_stable(void **state) {
    mem_source *ms = *state;
    /* rows 2 and 6 share a time: both directions keep their source order */
    assert_string_equal(ids(ms, "ORDER BY time"), "1,2,6,3,4,5");
    assert_string_equal(ids(ms, "ORDER BY time ASC"), "1,2,6,3,4,5");
    assert_string_equal(ids(ms, "ORDER BY time DESC"), "5,4,3,2,6,1");
    assert_string_equal(ids(ms, "WHERE host <> 'a' ORDER BY time DESC"), "5,4,2,6");
    /* by an alias of time, and by time when it is not selected */
    assert_string_equal(ids(ms, "ORDER BY \"time\" DESC LIMIT 2"), "5,4");
    ASSERT_JSON("SELECT time AS t FROM cpu ORDER BY t DESC LIMIT 1",
                "[{\"t\":\"2016-01-01T00:00:00.123\"}]");
}

static void test_query_order_by_all_types(void **state) {
    mem_source *ms = *state;
    ASSERT_JSON("SELECT id, big, ok, usage, count, msg FROM cpu ORDER BY time DESC LIMIT 4",
                "[{\"id\":\"5\",\"ok\":false,\"usage\":0.1,\"count\":1},"
                "{\"id\":\"4\",\"big\":5,\"ok\":true,\"usage\":100,\"count\":0,"
                "\"msg\":\"quote \\\"x\\\"\"},"
                "{\"id\":\"3\",\"big\":9223372036854775808,\"count\":9007199254740993},"
                "{\"id\":\"2\",\"big\":0,\"ok\":false,\"usage\":-2.5,\"count\":-5,"
                "\"msg\":\"a,b\"}]");
}

static void test_query_limit_without_order_stops_scan(void **state) {
    mem_source *ms = *state;
    ms->n_batches = 0;
    ms->saw_stop = false;
    assert_string_equal(ids(ms, "LIMIT 2"), "1,2");
    assert_true(ms->saw_stop);
    assert_int_equal(ms->n_batches, 1); /* 3 rows per batch: the first is enough */
    ms->n_batches = 0;
    assert_string_equal(ids(ms, "LIMIT 3"), "1,2,3");
    assert_int_equal(ms->n_batches, 1);
    ms->n_batches = 0;
    assert_string_equal(ids(ms, "WHERE host <> 'a' LIMIT 3"), "2,4,5");
    assert_int_equal(ms->n_batches, 2);
    assert_string_equal(ids(ms, "LIMIT 100"), "1,2,3,4,5,6");
    assert_string_equal(ids(ms, "LIMIT 9223372036854775807"), "1,2,3,4,5,6");
    /* LIMIT 0: nothing to scan */
    int scans = ms->n_scans;
    assert_string_equal(ids(ms, "LIMIT 0"), "");
    assert_int_equal(ms->n_scans, scans);
}

static void test_query_limit_offset(void **state) {
    mem_source *ms = *state;
    assert_string_equal(ids(ms, "LIMIT 2 OFFSET 1"), "2,3");
    assert_string_equal(ids(ms, "LIMIT 2 OFFSET 3"), "4,5");
    assert_string_equal(ids(ms, "OFFSET 4"), "5,6");
    assert_string_equal(ids(ms, "OFFSET 40"), "");
    assert_string_equal(ids(ms, "ORDER BY time LIMIT 2 OFFSET 1"), "2,6");
    assert_string_equal(ids(ms, "ORDER BY time DESC LIMIT 2 OFFSET 1"), "4,3");
    assert_string_equal(ids(ms, "ORDER BY time DESC OFFSET 5"), "1");
    assert_string_equal(
        ids(ms, "ORDER BY time DESC LIMIT 9223372036854775807 OFFSET 9223372036854775807"), "");
}

static void test_query_order_limit_top_n_large(void **state) {
    (void)state;
    /* 5000 rows with shuffled times and duplicates: top-N compaction must give the same
     * answer as a full stable sort */
    mem_source ms;
    mem_source_init(&ms, 700);
    mem_table *t = mem_table_add(&ms, "db", "big");
    mem_col(t, "n", QCOL_FIELD, LP_INT);
    mem_col(t, "s", QCOL_FIELD, LP_STRING);
    mem_col(t, "f", QCOL_FIELD, LP_FLOAT);
    mem_col(t, "u", QCOL_FIELD, LP_UINT);
    mem_col(t, "b", QCOL_FIELD, LP_BOOL);
    mem_col(t, "tag", QCOL_TAG, 0);
    for (int i = 0; i < 5000; i++) {
        char kv[160];
        if (i % 7 == 3) /* some rows with NULLs in every field but n */
            snprintf(kv, sizeof kv, "n=%d", i);
        else
            snprintf(kv, sizeof kv, "n=%d|s=row%d|f=%d.25|u=%llu|b=%s|tag=t%d", i, i, i,
                     18446744073709551615ULL - (unsigned long long)i, i % 2 ? "true" : "false",
                     i % 13);
        mem_row(t, (int64_t)((i * 7919) % 1000), kv); /* times 0..999, 5 rows each */
    }
    buf a = {0}, b = {0};
    silt_err err = {0};
    for (int desc = 0; desc < 2; desc++) {
        for (int lim = 1; lim <= 2100; lim = lim * 3 + 1) {
            char q1[160], q2[160];
            snprintf(q1, sizeof q1, "SELECT * FROM big ORDER BY time %s LIMIT %d OFFSET 7",
                     desc ? "DESC" : "ASC", lim);
            snprintf(q2, sizeof q2, "SELECT * FROM big ORDER BY time %s", desc ? "DESC" : "ASC");
            buf_reset(&a);
            buf_reset(&b);
            assert_int_equal(mem_query(&ms, "db", q1, QUERY_FMT_JSONL, 0, &a, &err), SILT_OK);
            assert_int_equal(mem_query(&ms, "db", q2, QUERY_FMT_JSONL, 0, &b, &err), SILT_OK);
            /* a must be lines 8 .. 7+lim of b */
            const char *p = (const char *)b.p;
            for (int skip = 0; skip < 7; skip++) p = strchr(p, '\n') + 1;
            const char *e = p;
            for (int k = 0; k < lim && *e; k++) e = strchr(e, '\n') + 1;
            if ((size_t)(e - p) != a.len || memcmp(p, a.p, a.len) != 0)
                fail_msg("%s differs from the full sort", q1);
        }
    }
    /* ties keep source order: time 0 is n = 0, 1000, ...; time 999 is n = 321, 1321, ... */
    buf_reset(&a);
    assert_int_equal(
        mem_query(&ms, "db", "SELECT n FROM big ORDER BY time LIMIT 5", QUERY_FMT_CSV, 0, &a, &err),
        SILT_OK);
    assert_string_equal((char *)a.p, "n\n0\n1000\n2000\n3000\n4000\n");
    buf_reset(&a);
    assert_int_equal(mem_query(&ms, "db", "SELECT n FROM big ORDER BY time DESC LIMIT 5",
                               QUERY_FMT_CSV, 0, &a, &err),
                     SILT_OK);
    assert_string_equal((char *)a.p, "n\n321\n1321\n2321\n3321\n4321\n");
    buf_free(&a);
    buf_free(&b);
    mem_source_fini(&ms);
}

/* ------------------------------------------------------------------ count */

static void test_query_count_star(void **state) {
    mem_source *ms = *state;
    ASSERT_JSON("SELECT count(*) FROM cpu", "[{\"count(*)\":6}]");
    ASSERT_JSON("SELECT COUNT(*) FROM cpu WHERE host = 'a'", "[{\"count(*)\":2}]");
    ASSERT_JSON("SELECT count(*) AS n FROM cpu WHERE usage > 1", "[{\"n\":3}]");
    ASSERT_JSON("SELECT count(*) FROM cpu WHERE time > '2030-01-01'", "[{\"count(*)\":0}]");
    ASSERT_JSON("SELECT count(*) FROM cpu WHERE 1 = 2", "[{\"count(*)\":0}]");
    ASSERT_JSON("SELECT count(*) FROM cpu LIMIT 0", "[]");
    ASSERT_JSON("SELECT count(*) FROM cpu OFFSET 1", "[]");
}

static void test_query_count_column_skips_nulls(void **state) {
    mem_source *ms = *state;
    ASSERT_JSON("SELECT count(usage), count(region), count(*) FROM cpu",
                "[{\"count(cpu.usage)\":5,\"count(cpu.region)\":5,\"count(*)\":6}]");
    ASSERT_JSON("SELECT count(msg) AS m FROM cpu WHERE host <> 'a'", "[{\"m\":3}]");
}

/* ------------------------------------------------------------------ subqueries, WITH, UNION ALL */

static char *csv(mem_source *ms, const char *sql) {
    buf b = {0};
    silt_err err = {0};
    int rc = mem_query(ms, "db", sql, QUERY_FMT_CSV, 0, &b, &err);
    if (rc != SILT_OK) fail_msg("%s: rc %d: %s", sql, rc, err.msg);
    return (char *)b.p; /* caller frees */
}

#define ASSERT_CSV(sql, want)                                                                      \
    do {                                                                                           \
        char *got_ = csv(ms, sql);                                                                 \
        if (strcmp(got_, want) != 0) fail_msg("%s\n  got  %s\n  want %s", sql, got_, want);        \
        free(got_);                                                                                \
    } while (0)

static void test_query_subquery_in_from(void **state) {
    mem_source *ms = *state;
    /* the outer WHERE / ORDER BY / LIMIT over the inner select's output names */
    ASSERT_CSV("SELECT h, u FROM (SELECT host AS h, usage * 2 AS u FROM cpu) AS s "
               "WHERE u > 0 ORDER BY u DESC LIMIT 2",
               "h,u\nc,18014398509481984\nc,200\n");
    /* alias optional, AS optional; alias.col accepted */
    ASSERT_CSV("SELECT s.id FROM (SELECT id, host FROM cpu WHERE host = 'a') s ORDER BY s.id",
               "id\n1\n3\n");
    ASSERT_CSV("SELECT id FROM (SELECT id FROM cpu WHERE count < 2) ORDER BY id", "id\n2\n4\n5\n");
    /* SELECT * keeps the inner order of columns; types survive (time, float, uint, bool) */
    ASSERT_JSON("SELECT * FROM (SELECT ok, big, time, usage FROM cpu WHERE id = '1')",
                "[{\"ok\":true,\"big\":18446744073709551615,\"time\":\"1970-01-01T00:00:01\","
                "\"usage\":1.5}]");
    /* an aggregate over an aggregate */
    ASSERT_CSV("SELECT max(n) AS most, count(*) AS groups FROM "
               "(SELECT host, count(*) AS n FROM cpu GROUP BY host)",
               "most,groups\n2,3\n");
    /* GROUP BY in the outer query, over the inner output */
    ASSERT_CSV("SELECT r, sum(c) AS total FROM (SELECT region AS r, count AS c FROM cpu) "
               "WHERE r IS NOT NULL GROUP BY r ORDER BY r",
               "r,total\neu,-5\nus,9007199254741006\n");
    /* nested three levels; the time column keeps working as time */
    ASSERT_CSV("SELECT id FROM (SELECT * FROM (SELECT id, time FROM (SELECT * FROM cpu) AS a) "
               "AS b WHERE time >= '2016-01-01') AS c ORDER BY id",
               "id\n4\n5\n");
    /* an inner ORDER BY / LIMIT applies before the outer query */
    ASSERT_CSV("SELECT id FROM (SELECT id, time FROM cpu ORDER BY time DESC LIMIT 2) ORDER BY id",
               "id\n4\n5\n");
    /* a selector's object stays an object when passed through (not when computed on) */
    ASSERT_JSON("SELECT * FROM (SELECT selector_max(usage, time) AS x FROM cpu) UNION ALL "
                "SELECT x FROM (SELECT selector_min(usage, time) AS x FROM cpu) ORDER BY 1",
                "[{\"x\":{\"value\":-2.5,\"time\":\"1970-01-01T00:00:02\"}},"
                "{\"x\":{\"value\":9007199254740992,\"time\":\"1970-01-01T00:00:02\"}}]");
    ASSERT_JSON("SELECT length(x) AS n FROM (SELECT selector_max(usage, time) AS x FROM cpu)",
                "[{\"n\":55}]");
    /* the subquery alias shadows the table of that name */
    ASSERT_CSV("SELECT count(*) AS n FROM (SELECT id FROM cpu WHERE host = 'b') AS cpu", "n\n2\n");
}

static void test_query_subquery_scan_still_pruned(void **state) {
    mem_source *ms = *state;
    /* the inner query's time range reaches the source, as for a plain SELECT */
    ASSERT_CSV("SELECT id FROM (SELECT id, time FROM cpu WHERE time >= '2016-01-01') AS s "
               "ORDER BY id",
               "id\n4\n5\n");
    assert_int_equal(ms->last_req.t_min, T2016);
    assert_int_equal(ms->last_req.t_max, INT64_MAX);
    ASSERT_CSV("WITH a AS (SELECT id, time FROM cpu WHERE time < 2000000000) SELECT id FROM a",
               "id\n1\n");
    assert_int_equal(ms->last_req.t_min, INT64_MIN);
    assert_int_equal(ms->last_req.t_max, 1999999999);
}

static void test_query_subquery_deep_nesting_runs(void **state) {
    mem_source *ms = *state;
    /* QUERY_MAX_DEPTH - 1 nested subqueries plan and run (each level materialized) */
    size_t n = QUERY_MAX_DEPTH - 1;
    char *sql = malloc(n * 32 + 64), *w = sql;
    for (size_t i = 0; i < n; i++) w += sprintf(w, "SELECT v + 1 AS v FROM (");
    w += sprintf(w, "SELECT free AS v FROM mem");
    for (size_t i = 0; i < n; i++) *w++ = ')';
    *w = 0;
    char want[32];
    snprintf(want, sizeof want, "v\n%zu\n", 7 + n);
    char *got = csv(ms, sql);
    assert_string_equal(got, want);
    free(got);
    free(sql);
}

static void test_query_subquery_errors(void **state) {
    mem_source *ms = *state;
    assert_query_error(ms, "db", "SELECT usage FROM (SELECT host FROM cpu) AS s", SILT_EINVAL,
                       "column 'usage' not found in table 's'");
    assert_query_error(ms, "db", "SELECT x.host FROM (SELECT host FROM cpu) AS s", SILT_EINVAL,
                       "table or alias 'x' in 'x.host' is not in the FROM clause at line 1, "
                       "column 8");
    assert_query_error(ms, "db", "SELECT cpu.host FROM cpu AS c", SILT_EINVAL,
                       "table or alias 'cpu' in 'cpu.host' is not in the FROM clause at line 1, "
                       "column 8");
    assert_query_error(ms, "db", "SELECT h FROM (SELECT host AS h FROM nope)", SILT_ENOTFOUND,
                       "table 'nope' not found");
    /* qualified by the table name without an alias is fine */
    ASSERT_CSV("SELECT cpu.id FROM cpu WHERE cpu.host = 'c' ORDER BY cpu.id", "id\n4\n6\n");
}

static void test_query_with_ctes_scoping(void **state) {
    mem_source *ms = *state;
    ASSERT_CSV("WITH a AS (SELECT id, usage FROM cpu WHERE usage IS NOT NULL), "
               "b AS (SELECT id, usage FROM a WHERE usage > 1) "
               "SELECT count(*) AS n FROM (SELECT * FROM b WHERE id <> '6')",
               "n\n2\n");
    /* a CTE shadows a table; a CTE body naming itself reads the table (not recursive) */
    ASSERT_CSV("WITH cpu AS (SELECT id FROM cpu WHERE host = 'a') SELECT id FROM cpu ORDER BY id",
               "id\n1\n3\n");
    /* WITH inside a subquery */
    ASSERT_CSV("SELECT n FROM (WITH m AS (SELECT free FROM mem) SELECT free + 1 AS n FROM m)",
               "n\n8\n");
    /* an unused CTE is harmless; a CTE is not visible outside its WITH */
    ASSERT_CSV("WITH unused AS (SELECT free FROM mem) SELECT free FROM mem", "free\n7\n");
    assert_query_error(ms, "db",
                       "SELECT * FROM (WITH m AS (SELECT free FROM mem) SELECT free FROM m) AS x, "
                       "m",
                       SILT_EPARSE, NULL);
    assert_query_error(ms, "db",
                       "SELECT n FROM (WITH m AS (SELECT free FROM mem) SELECT free AS n FROM m) "
                       "WHERE n IN (SELECT 1 FROM m)",
                       SILT_EPARSE, NULL);
    assert_query_error(ms, "db",
                       "SELECT * FROM (SELECT * FROM (WITH m AS (SELECT free FROM mem) "
                       "SELECT free FROM m) AS x) AS y WHERE free > 0 UNION ALL SELECT free FROM m",
                       SILT_ENOTFOUND, "table 'm' not found");
}

static void test_query_union_all(void **state) {
    mem_source *ms = *state;
    /* arms in order, without ORDER BY; the first arm names the columns */
    ASSERT_CSV("SELECT id AS x FROM cpu WHERE host = 'a' UNION ALL SELECT host FROM cpu WHERE "
               "id = '4' UNION ALL SELECT id FROM cpu WHERE id = '1'",
               "x\n1\n3\nc\n1\n");
    /* ORDER BY / LIMIT / OFFSET after the last arm apply to the whole union */
    ASSERT_CSV("SELECT id, count AS v FROM cpu WHERE host = 'a' UNION ALL "
               "SELECT id, count FROM cpu WHERE host = 'b' ORDER BY v DESC LIMIT 3",
               "id,v\n3,9007199254740993\n1,10\n5,1\n");
    ASSERT_CSV("SELECT id FROM cpu UNION ALL SELECT id FROM cpu ORDER BY 1 LIMIT 2 OFFSET 3",
               "id\n2\n3\n");
    /* integer, unsigned and float arms mix as float */
    ASSERT_JSON("SELECT count AS v FROM cpu WHERE id = '2' UNION ALL SELECT usage FROM cpu "
                "WHERE id = '1' UNION ALL SELECT big FROM cpu WHERE id = '4'",
                "[{\"v\":-5},{\"v\":1.5},{\"v\":5}]");
    /* parenthesised arms keep their own ORDER BY / LIMIT */
    ASSERT_CSV("(SELECT id FROM cpu ORDER BY id DESC LIMIT 1) UNION ALL "
               "(SELECT id FROM cpu ORDER BY id LIMIT 1)",
               "id\n6\n1\n");
    /* a union as a subquery and in a CTE; an empty arm */
    ASSERT_CSV("WITH u AS (SELECT host FROM cpu WHERE id = '1' UNION ALL SELECT host FROM cpu "
               "WHERE 1 = 2 UNION ALL SELECT host FROM cpu WHERE id = '2') "
               "SELECT count(*) AS n, min(host) AS lo FROM (SELECT * FROM u UNION ALL "
               "SELECT host FROM u)",
               "n,lo\n4,a\n");
    /* NULLs survive */
    ASSERT_CSV("SELECT region FROM cpu WHERE id = '5' UNION ALL SELECT region FROM cpu WHERE "
               "id = '1'",
               "region\n\nus\n");
}

static void test_query_union_all_errors(void **state) {
    mem_source *ms = *state;
    assert_query_error(ms, "db", "SELECT id, host FROM cpu UNION ALL SELECT id FROM cpu",
                       SILT_EINVAL,
                       "UNION ALL arms must have the same number of columns: the first has 2, "
                       "arm 2 has 1");
    assert_query_error(ms, "db",
                       "SELECT id FROM cpu UNION ALL SELECT host FROM cpu UNION ALL SELECT "
                       "usage FROM cpu",
                       SILT_EINVAL,
                       "UNION ALL column 1 ('id') is string in the first arm but float in arm "
                       "3; CAST one of them");
    assert_query_error(ms, "db", "SELECT id FROM cpu UNION SELECT id FROM cpu", SILT_EPARSE,
                       "syntax error at line 1, column 26: expected ALL (UNION without ALL is "
                       "not supported), found 'SELECT'");
}

static void test_query_materialized_memory_limit(void **state) {
    mem_source *ms = *state;
    const char *sql = "SELECT count(*) AS n FROM (SELECT msg FROM cpu UNION ALL SELECT msg FROM "
                      "cpu)";
    buf b = {0};
    silt_err err = {0};
    query_opts o = {.now_ns = 1, .max_memory_bytes = 100};
    assert_int_equal(query_sql(&ms->src, "db", sql, strlen(sql), QUERY_FMT_CSV, &o, &b, &err),
                     SILT_ELIMIT);
    assert_string_equal(err.msg, "query exceeds the memory limit of 100 bytes");
    assert_int_equal(b.len, 0);
    o.max_memory_bytes = 1 << 20;
    assert_int_equal(query_sql(&ms->src, "db", sql, strlen(sql), QUERY_FMT_CSV, &o, &b, &err),
                     SILT_OK);
    buf_cstr(&b);
    assert_string_equal((char *)b.p, "n\n12\n");
    buf_free(&b);
}

static void test_query_materialized_large_and_stop(void **state) {
    (void)state;
    /* more rows than one batch of the materialized scan; LIMIT stops it early */
    mem_source ms;
    mem_source_init(&ms, 1000);
    mem_table *t = mem_table_add(&ms, "db", "big");
    mem_col(t, "v", QCOL_FIELD, LP_INT);
    char row[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(row, sizeof row, "v=%d", i);
        mem_row(t, (int64_t)i * 1000, row);
    }
    buf b = {0};
    silt_err err = {0};
    const char *sql = "WITH x AS (SELECT v, time FROM big) SELECT count(*) AS n, sum(v) AS s, "
                      "max(time) AS t FROM x";
    assert_int_equal(mem_query(&ms, "db", sql, QUERY_FMT_CSV, 0, &b, &err), SILT_OK);
    assert_string_equal((char *)b.p, "n,s,t\n10000,49995000,1970-01-01T00:00:00.009999\n");
    buf_reset(&b);
    sql = "SELECT v FROM (SELECT v FROM big) WHERE v >= 9000 LIMIT 2";
    assert_int_equal(mem_query(&ms, "db", sql, QUERY_FMT_CSV, 0, &b, &err), SILT_OK);
    assert_string_equal((char *)b.p, "v\n9000\n9001\n");
    buf_free(&b);
    mem_source_fini(&ms);
}

/* ------------------------------------------------------------------ date_bin_gapfill */

#define T8     1641024000000000000LL /* 2022-01-01T08:00:00Z */
#define MIN_NS (60LL * 1000000000LL)

static void gapfill_fixture(mem_source *ms) {
    mem_source_init(ms, 2);
    mem_table *t = mem_table_add(ms, "db", "home");
    mem_col(t, "room", QCOL_TAG, 0);
    mem_col(t, "temp", QCOL_FIELD, LP_FLOAT);
    mem_col(t, "hum", QCOL_FIELD, LP_INT);
    mem_col(t, "note", QCOL_FIELD, LP_STRING);
    mem_row(t, T8 - 60 * MIN_NS, "room=Kitchen|temp=99|hum=1"); /* before the range */
    mem_row(t, T8, "room=Kitchen|temp=21|hum=35|note=a");
    mem_row(t, T8 + 10 * MIN_NS, "room=Living|temp=20|hum=30");
    mem_row(t, T8 + 20 * MIN_NS, "room=Kitchen|temp=23|hum=36");
    mem_row(t, T8 + 90 * MIN_NS, "room=Kitchen|temp=23.5|hum=80|note=b");
    mem_row(t, T8 + 120 * MIN_NS, "room=Living|temp=22|hum=50");
}

#define GF_WHERE " WHERE time >= '2022-01-01T08:00:00Z' AND time <= '2022-01-01T10:00:00Z' "

static void test_query_gapfill_locf_interpolate(void **state) {
    (void)state;
    mem_source m, *ms = &m;
    gapfill_fixture(ms);
    ASSERT_CSV("SELECT date_bin_gapfill(INTERVAL '30 minutes', time) AS _time, room, avg(temp) AS "
               "t, locf(avg(temp)) AS l, interpolate(avg(temp)) AS i, interpolate(sum(hum)) AS h "
               "FROM home" GF_WHERE "GROUP BY _time, room",
               "_time,room,t,l,i,h\n"
               "2022-01-01T08:00:00,Kitchen,22,22,22,71\n"
               "2022-01-01T08:30:00,Kitchen,,22,22.5,74\n"
               "2022-01-01T09:00:00,Kitchen,,22,23,77\n"
               "2022-01-01T09:30:00,Kitchen,23.5,23.5,23.5,80\n"
               "2022-01-01T10:00:00,Kitchen,,23.5,,\n"
               "2022-01-01T08:00:00,Living,20,20,20,30\n"
               "2022-01-01T08:30:00,Living,,20,20.5,35\n"
               "2022-01-01T09:00:00,Living,,20,21,40\n"
               "2022-01-01T09:30:00,Living,,20,21.5,45\n"
               "2022-01-01T10:00:00,Living,22,22,22,50\n");
    /* ORDER BY and LIMIT apply after filling; GROUP BY ordinals; locf of a string */
    ASSERT_CSV("SELECT room, date_bin_gapfill(INTERVAL '30 minutes', time) AS t, "
               "locf(max(note)) AS n FROM home" GF_WHERE
               "GROUP BY 1, 2 ORDER BY room, t DESC LIMIT 3",
               "room,t,n\nKitchen,2022-01-01T10:00:00,b\nKitchen,2022-01-01T09:30:00,b\n"
               "Kitchen,2022-01-01T09:00:00,a\n");
    /* no other key: one group; an exclusive upper bound; count is NULL in a gap */
    ASSERT_CSV("SELECT date_bin_gapfill(INTERVAL '1 hour', time) AS h, count(*) AS n FROM home "
               "WHERE time >= '2022-01-01T08:00:00Z' AND time < '2022-01-01T12:00:00Z' GROUP BY h",
               "h,n\n2022-01-01T08:00:00,3\n2022-01-01T09:00:00,1\n2022-01-01T10:00:00,1\n"
               "2022-01-01T11:00:00,\n");
    /* a key that is not selected still separates the groups; the bucket may be unselected */
    ASSERT_CSV("SELECT locf(min(hum)) AS v FROM home" GF_WHERE
               "GROUP BY date_bin_gapfill(INTERVAL '1 hour', time), room",
               "v\n35\n80\n80\n30\n30\n50\n");
    /* a key by its alias */
    ASSERT_CSV("SELECT date_bin_gapfill(INTERVAL '1 hour', time) AS t, room AS r, "
               "locf(sum(hum)) AS s FROM home" GF_WHERE "GROUP BY t, r ORDER BY r DESC, t",
               "t,r,s\n2022-01-01T08:00:00,Living,30\n2022-01-01T09:00:00,Living,30\n"
               "2022-01-01T10:00:00,Living,50\n2022-01-01T08:00:00,Kitchen,71\n"
               "2022-01-01T09:00:00,Kitchen,80\n2022-01-01T10:00:00,Kitchen,80\n");
    /* names when unaliased (a filled aggregate keeps the aggregate's name, as in InfluxDB 3's
     * documentation); an origin */
    ASSERT_JSON(
        "SELECT date_bin_gapfill(INTERVAL '1 hour', time, '2022-01-01T00:30:00Z'), "
        "locf(max(hum)) FROM home WHERE time >= '2022-01-01T08:00:00Z' AND time < "
        "'2022-01-01T09:00:00Z' GROUP BY 1",
        "[{\"date_bin_gapfill(INTERVAL '1 hour',home.time,Utf8(\\\"2022-01-01T00:30:00Z\\\"))\":"
        "\"2022-01-01T07:30:00\",\"max(home.hum)\":36},"
        "{\"date_bin_gapfill(INTERVAL '1 hour',home.time,Utf8(\\\"2022-01-01T00:30:00Z\\\"))\":"
        "\"2022-01-01T08:30:00\",\"max(home.hum)\":36}]");
    /* a selector's object survives filling */
    ASSERT_JSON("SELECT date_bin_gapfill(INTERVAL '1 hour', time) AS t, "
                "locf(selector_max(temp, time)) AS s FROM home" GF_WHERE
                "AND room = 'Kitchen' GROUP BY t",
                "[{\"t\":\"2022-01-01T08:00:00\",\"s\":{\"value\":23,\"time\":"
                "\"2022-01-01T08:20:00\"}},{\"t\":\"2022-01-01T09:00:00\",\"s\":{\"value\":"
                "23.5,\"time\":\"2022-01-01T09:30:00\"}},{\"t\":\"2022-01-01T10:00:00\",\"s\":"
                "{\"value\":23.5,\"time\":\"2022-01-01T09:30:00\"}}]");
    /* over a CTE and as a subquery */
    ASSERT_CSV("WITH g AS (SELECT date_bin_gapfill(INTERVAL '30 minutes', time) AS t, room, "
               "locf(avg(temp)) AS v FROM home" GF_WHERE "GROUP BY t, room) "
               "SELECT count(*) AS n, count(v) AS nv, sum(v) AS s FROM g",
               "n,nv,s\n10,10,215\n");
    /* a range with no rows: nothing to fill */
    ASSERT_CSV("SELECT date_bin_gapfill(INTERVAL '1 hour', time) AS h, avg(temp) AS a FROM home "
               "WHERE time >= '2030-01-01T00:00:00Z' AND time < '2030-01-02T00:00:00Z' GROUP BY h",
               "h,a\n");
    mem_source_fini(ms);
}

static void test_query_gapfill_errors(void **state) {
    (void)state;
    mem_source m, *ms = &m;
    gapfill_fixture(ms);
    assert_query_error(ms, "db",
                       "SELECT date_bin_gapfill(INTERVAL '1 hour', time) AS h, avg(temp) FROM home "
                       "GROUP BY h",
                       SILT_EINVAL,
                       "date_bin_gapfill() needs lower and upper time bounds in WHERE (such as "
                       "time >= '...' AND time < '...') at line 1, column 8");
    assert_query_error(ms, "db",
                       "SELECT date_bin_gapfill(INTERVAL '1 hour', time) AS h, avg(temp) FROM home "
                       "WHERE time >= '2022-01-01T08:00:00Z' GROUP BY h",
                       SILT_EINVAL,
                       "date_bin_gapfill() needs an upper time bound in WHERE (such as time < "
                       "'...') at line 1, column 8");
    assert_query_error(ms, "db",
                       "SELECT date_bin_gapfill(INTERVAL '1 hour', time) AS h, avg(temp) FROM home "
                       "WHERE time < '2022-01-01T08:00:00Z' OR temp > 1 GROUP BY h",
                       SILT_EINVAL,
                       "date_bin_gapfill() needs lower and upper time bounds in WHERE (such as "
                       "time >= '...' AND time < '...') at line 1, column 8");
    assert_query_error(ms, "db", "SELECT room, locf(avg(temp)) FROM home GROUP BY room",
                       SILT_EINVAL,
                       "locf() needs GROUP BY date_bin_gapfill(...) at line 1, column 14");
    assert_query_error(
        ms, "db", "SELECT date_bin_gapfill(INTERVAL '1 hour', time) AS h FROM home" GF_WHERE,
        SILT_EINVAL, "date_bin_gapfill() must be a GROUP BY key at line 1, column 8");
    assert_query_error(ms, "db",
                       "SELECT date_bin_gapfill(INTERVAL '1 hour', time) AS h, "
                       "locf(avg(temp)) + 1 FROM home" GF_WHERE "GROUP BY h",
                       SILT_EINVAL,
                       "date_bin_gapfill(), locf() and interpolate() must be the outermost "
                       "function of a select item at line 1, column 56");
    assert_query_error(ms, "db",
                       "SELECT date_bin_gapfill(INTERVAL '1 hour', time) AS h, locf(temp) "
                       "FROM home" GF_WHERE "GROUP BY h",
                       SILT_EINVAL,
                       "locf() takes one aggregate, such as locf(avg(x)) at line 1, column 56");
    assert_query_error(ms, "db",
                       "SELECT date_bin_gapfill(INTERVAL '1 hour', time) AS h, "
                       "interpolate(max(note)) FROM home" GF_WHERE "GROUP BY h",
                       SILT_EINVAL,
                       "interpolate() needs a numeric aggregate; use locf() for other types at "
                       "line 1, column 56");
    assert_query_error(
        ms, "db",
        "SELECT date_bin_gapfill(INTERVAL '1 hour', time) AS h, "
        "date_bin_gapfill(INTERVAL '2 hour', time) AS h2, count(*) FROM home" GF_WHERE
        "GROUP BY h, h2",
        SILT_EINVAL, "only one date_bin_gapfill() per query at line 1, column 56");
    /* the bucket count is bounded by the memory limit */
    const char *sql = "SELECT date_bin_gapfill(INTERVAL '1 second', time) AS s, count(*) AS n "
                      "FROM home WHERE time >= '2022-01-01T00:00:00Z' AND time < "
                      "'2023-01-01T00:00:00Z' GROUP BY s";
    buf b = {0};
    silt_err err = {0};
    query_opts o = {.now_ns = 1, .max_memory_bytes = 1 << 20};
    assert_int_equal(query_sql(&ms->src, "db", sql, strlen(sql), QUERY_FMT_CSV, &o, &b, &err),
                     SILT_ELIMIT);
    assert_string_equal(err.msg, "query exceeds the memory limit of 1048576 bytes");
    assert_int_equal(b.len, 0);
    buf_free(&b);
    mem_source_fini(ms);
}

/* ------------------------------------------------------------------ SHOW */

static void test_query_show_tables(void **state) {
    mem_source *ms = *state;
    buf b = {0};
    silt_err err = {0};
    assert_int_equal(mem_query(ms, "db", "SHOW TABLES", QUERY_FMT_CSV, 0, &b, &err), SILT_OK);
    assert_string_equal((char *)b.p, "table_catalog,table_schema,table_name,table_type\n"
                                     "public,iox,cpu,BASE TABLE\n"
                                     "public,iox,mem,BASE TABLE\n"
                                     "public,system,parquet_files,BASE TABLE\n"
                                     "public,information_schema,tables,VIEW\n"
                                     "public,information_schema,columns,VIEW\n");
    buf_reset(&b);
    assert_int_equal(mem_query(ms, "empty", "SHOW TABLES", QUERY_FMT_CSV, 0, &b, &err), SILT_OK);
    assert_string_equal((char *)b.p, "table_catalog,table_schema,table_name,table_type\n"
                                     "public,system,parquet_files,BASE TABLE\n"
                                     "public,information_schema,tables,VIEW\n"
                                     "public,information_schema,columns,VIEW\n");
    buf_free(&b);
}

/* information_schema.tables / .columns are ordinary tables to WHERE, ORDER BY, GROUP BY. */
static void test_query_information_schema(void **state) {
    mem_source *ms = *state;
    ASSERT_JSON("SELECT table_name FROM information_schema.tables WHERE table_schema = 'iox' "
                "ORDER BY table_name DESC",
                "[{\"table_name\":\"mem\"},{\"table_name\":\"cpu\"}]");
    ASSERT_JSON("SELECT table_schema, count(*) AS n FROM information_schema.tables GROUP BY 1 "
                "ORDER BY n DESC, table_schema",
                "[{\"table_schema\":\"information_schema\",\"n\":2},"
                "{\"table_schema\":\"iox\",\"n\":2},{\"table_schema\":\"system\",\"n\":1}]");
    ASSERT_JSON("SELECT column_name, ordinal_position, data_type, is_nullable, column_default "
                "FROM information_schema.columns WHERE table_name = 'mem'",
                "[{\"column_name\":\"free\",\"ordinal_position\":0,\"data_type\":\"Int64\","
                "\"is_nullable\":\"YES\"},{\"column_name\":\"time\",\"ordinal_position\":1,"
                "\"data_type\":\"Timestamp(Nanosecond, None)\",\"is_nullable\":\"NO\"}]");
    ASSERT_JSON("SELECT count(*) FROM information_schema.columns WHERE column_default IS NULL "
                "AND table_schema = 'system'",
                "[{\"count(*)\":8}]");
    ASSERT_JSON("SELECT column_name, data_type FROM information_schema.columns WHERE "
                "table_name = 'parquet_files' AND data_type LIKE 'Timestamp%'",
                "[{\"column_name\":\"created_at\",\"data_type\":\"Timestamp(Nanosecond, "
                "None)\"},{\"column_name\":\"to_delete_at\",\"data_type\":"
                "\"Timestamp(Nanosecond, None)\"}]");
    /* iox.cpu and public.iox.cpu are cpu */
    ASSERT_JSON("SELECT count(*) FROM iox.cpu", "[{\"count(*)\":6}]");
    ASSERT_JSON("SELECT count(*) FROM public.iox.cpu", "[{\"count(*)\":6}]");
    ASSERT_JSON("SELECT count(*) FROM public.information_schema.tables", "[{\"count(*)\":5}]");
    assert_query_error(ms, "db", "SELECT * FROM other.iox.cpu", SILT_ENOTFOUND,
                       "table 'other.iox.cpu' not found");
    assert_query_error(ms, "db", "SHOW COLUMNS FROM other.iox.cpu", SILT_ENOTFOUND,
                       "table 'other.iox.cpu' not found");
    assert_query_error(ms, "db", "SELECT * FROM a.b.c.d", SILT_EPARSE, NULL);
    assert_query_error(ms, "db", "SELECT * FROM information_schema.nope", SILT_ENOTFOUND,
                       "table 'information_schema.nope' not found");
    assert_query_error(ms, "db", "SELECT * FROM other.cpu", SILT_ENOTFOUND,
                       "table 'other.cpu' not found");
    assert_query_error(ms, "db", "SELECT nope FROM information_schema.tables", SILT_EINVAL,
                       "column 'nope' not found in table 'information_schema.tables'");
    /* output names carry the table as written, as DataFusion's do */
    ASSERT_JSON("SELECT count(usage) FROM iox.cpu", "[{\"count(iox.cpu.usage)\":5}]");
    ASSERT_JSON("SELECT max(free) FROM public.iox.mem", "[{\"max(public.iox.mem.free)\":7}]");
    assert_query_error(ms, "db", "SELECT * FROM information_schema.", SILT_EPARSE,
                       "syntax error at line 1, column 34: expected a table name after '.', "
                       "found end of input");
}

static void test_query_system_parquet_files(void **state) {
    mem_source *ms = *state;
    ASSERT_JSON("SELECT * FROM system.parquet_files", "[]");
    mem_file_add(ms, "db", "cpu", "db/1/cpu/a.parquet", 1000, 10, 5, 9, 1000000000, 0);
    mem_file_add(ms, "db", "cpu", "db/1/cpu/b.parquet", 3000, 30, 10, 20, 2000000000, 3000000000);
    mem_file_add(ms, "db", "mem", "db/1/mem/c.parquet", 500, 5, 1, 2, 1500000000, 0);
    mem_file_add(ms, "other", "x", "other/x.parquet", 1, 1, 1, 1, 1, 0);
    ASSERT_JSON("SELECT * FROM system.parquet_files WHERE table_name = 'cpu' LIMIT 1",
                "[{\"table_name\":\"cpu\",\"path\":\"db/1/cpu/a.parquet\",\"size_bytes\":1000,"
                "\"row_count\":10,\"min_time\":5,\"max_time\":9,\"created_at\":"
                "\"1970-01-01T00:00:01\"}]");
    ASSERT_JSON("SELECT path, to_delete_at FROM system.parquet_files WHERE to_delete_at IS NOT "
                "NULL",
                "[{\"path\":\"db/1/cpu/b.parquet\",\"to_delete_at\":\"1970-01-01T00:00:03\"}]");
    ASSERT_JSON("SELECT table_name, sum(size_bytes) AS bytes, sum(row_count) AS rows_, "
                "max(max_time) AS t FROM system.parquet_files GROUP BY table_name ORDER BY bytes "
                "DESC",
                "[{\"table_name\":\"cpu\",\"bytes\":4000,\"rows_\":40,\"t\":20},"
                "{\"table_name\":\"mem\",\"bytes\":500,\"rows_\":5,\"t\":2}]");
    ASSERT_JSON("SELECT path FROM system.parquet_files WHERE size_bytes > 600 AND "
                "created_at >= '1970-01-01T00:00:01.5Z' ORDER BY path",
                "[{\"path\":\"db/1/cpu/b.parquet\"}]");
    /* more rows than one batch (QUERY_BATCH_ROWS): the Values leaf feeds them in batches,
     * aggregates and sorts see them all, LIMIT stops early */
    for (int i = 0; i < 2 * QUERY_BATCH_ROWS + 10; i++) {
        char path[64];
        snprintf(path, sizeof path, "big/%05d.parquet", i);
        mem_file_add(ms, "big", "t", path, (uint64_t)i, 1, i, i, 1, 0);
    }
    mem_add_db(ms, "big");
    buf b = {0};
    silt_err err = {0};
    assert_int_equal(mem_query(ms, "big",
                               "SELECT count(*), sum(size_bytes), max(path) FROM "
                               "system.parquet_files",
                               QUERY_FMT_CSV, 0, &b, &err),
                     SILT_OK);
    assert_string_equal((char *)b.p,
                        "count(*),sum(system.parquet_files.size_bytes),"
                        "max(system.parquet_files.path)\n8202,33632301,big/08201.parquet\n");
    buf_reset(&b);
    assert_int_equal(mem_query(ms, "big",
                               "SELECT path FROM system.parquet_files WHERE size_bytes % 1000 = 1 "
                               "ORDER BY size_bytes DESC LIMIT 2 OFFSET 1",
                               QUERY_FMT_CSV, 0, &b, &err),
                     SILT_OK);
    assert_string_equal((char *)b.p, "path\nbig/07001.parquet\nbig/06001.parquet\n");
    buf_reset(&b);
    assert_int_equal(mem_query(ms, "big",
                               "SELECT path FROM system.parquet_files LIMIT 1 OFFSET 5000",
                               QUERY_FMT_CSV, 0, &b, &err),
                     SILT_OK);
    assert_string_equal((char *)b.p, "path\nbig/05000.parquet\n");
    buf_free(&b);
    char *got = json(ms, "SHOW COLUMNS FROM system.parquet_files");
    assert_non_null(strstr(got, "{\"table_catalog\":\"public\",\"table_schema\":\"system\","
                                "\"table_name\":\"parquet_files\",\"column_name\":\"to_delete_at\","
                                "\"data_type\":\"Timestamp(Nanosecond, None)\",\"is_nullable\":"
                                "\"YES\"}]"));
    free(got);
}

static void test_query_show_columns(void **state) {
    mem_source *ms = *state;
    buf b = {0};
    silt_err err = {0};
    assert_int_equal(mem_query(ms, "db", "SHOW COLUMNS FROM cpu", QUERY_FMT_CSV, 0, &b, &err),
                     SILT_OK);
    assert_string_equal((char *)b.p,
                        "table_catalog,table_schema,table_name,column_name,data_type,is_nullable\n"
                        "public,iox,cpu,big,UInt64,YES\n"
                        "public,iox,cpu,count,Int64,YES\n"
                        "public,iox,cpu,host,\"Dictionary(Int32, Utf8)\",YES\n"
                        "public,iox,cpu,id,\"Dictionary(Int32, Utf8)\",YES\n"
                        "public,iox,cpu,msg,Utf8,YES\n"
                        "public,iox,cpu,ok,Boolean,YES\n"
                        "public,iox,cpu,region,\"Dictionary(Int32, Utf8)\",YES\n"
                        "public,iox,cpu,time,\"Timestamp(Nanosecond, None)\",NO\n"
                        "public,iox,cpu,usage,Float64,YES\n");
    buf_free(&b);
    char *a = json(ms, "SHOW COLUMNS FROM mem"), *b2 = json(ms, "SHOW COLUMNS IN iox.mem");
    assert_string_equal(a, b2);
    free(a);
    free(b2);
    ASSERT_JSON("SHOW COLUMNS FROM mem",
                "[{\"table_catalog\":\"public\",\"table_schema\":\"iox\",\"table_name\":\"mem\","
                "\"column_name\":\"free\",\"data_type\":\"Int64\",\"is_nullable\":\"YES\"},"
                "{\"table_catalog\":\"public\",\"table_schema\":\"iox\",\"table_name\":\"mem\","
                "\"column_name\":\"time\",\"data_type\":\"Timestamp(Nanosecond, None)\","
                "\"is_nullable\":\"NO\"}]");
}

/* ------------------------------------------------------------------ scan requests */

static void test_query_time_predicates_prune_scan(void **state) {
    mem_source *ms = *state;
    where(ms, "time >= 1000 AND time < 2000 AND host = 'a'");
    assert_int_equal(ms->last_req.t_min, 1000);
    assert_int_equal(ms->last_req.t_max, 1999);
    where(ms, "time > 10 OR time = 5");
    assert_int_equal(ms->last_req.t_min, 5);
    assert_int_equal(ms->last_req.t_max, INT64_MAX);
    where(ms, "NOT (time < '2016-01-01T00:00:00Z')");
    assert_int_equal(ms->last_req.t_min, T2016);
    assert_int_equal(ms->last_req.t_max, INT64_MAX);
    where(ms, "host = 'a' OR time < 5");
    assert_int_equal(ms->last_req.t_min, INT64_MIN);
    assert_int_equal(ms->last_req.t_max, INT64_MAX);
    /* an empty range scans nothing */
    int scans = ms->n_scans;
    assert_string_equal(where(ms, "time > 5 AND time < 3"), "");
    assert_string_equal(where(ms, "time < -9223372036854775808"), "");
    assert_int_equal(ms->n_scans, scans);
    /* only the needed columns are requested */
    where(ms, "usage > 1");
    assert_int_equal(ms->last_req.n_cols, 2); /* id, usage */
}

static void test_query_source_honouring_time_range(void **state) {
    mem_source *ms = *state;
    ms->honor_time_range = true;
    ASSERT_WHERE("time >= '1970-01-01T00:00:02Z' AND time <= 3000000000", "2,3,6");
    assert_string_equal(ids(ms, "WHERE time > 1000000000 ORDER BY time DESC LIMIT 2"), "5,4");
    ms->honor_time_range = false;
}

static void test_query_storage_error_propagates(void **state) {
    mem_source *ms = *state;
    ms->fail_at_batch = 2;
    assert_query_error(ms, "db", "SELECT * FROM cpu", SILT_EIO,
                       "mem: injected read error in batch 2");
    assert_query_error(ms, "db", "SELECT count(*) FROM cpu", SILT_EIO, NULL);
    ms->fail_at_batch = 0;
}

static void test_query_result_size_limit(void **state) {
    mem_source *ms = *state;
    const char *sql = "SELECT id, host FROM cpu";
    buf b = {0};
    silt_err err = {0};
    assert_int_equal(mem_query(ms, "db", sql, QUERY_FMT_JSON, 0, &b, &err), SILT_OK);
    size_t full = b.len;
    /* exactly the size passes; one byte less fails, and nothing is left in out */
    buf_reset(&b);
    assert_int_equal(mem_query(ms, "db", sql, QUERY_FMT_JSON, full, &b, &err), SILT_OK);
    assert_int_equal(b.len, full);
    buf_reset(&b);
    buf_puts(&b, "prefix");
    assert_int_equal(mem_query(ms, "db", sql, QUERY_FMT_JSON, full - 1, &b, &err), SILT_ELIMIT);
    assert_int_equal(b.len, 6);
    char want[200];
    snprintf(want, sizeof want,
             "query result exceeds max_result_bytes (%zu bytes); add a LIMIT or a narrower "
             "WHERE clause",
             full - 1);
    assert_string_equal(err.msg, want);
    /* with ORDER BY, and with a tiny limit that the header alone breaks */
    buf_reset(&b);
    assert_int_equal(mem_query(ms, "db", "SELECT id, host FROM cpu ORDER BY time", QUERY_FMT_JSON,
                               full - 1, &b, &err),
                     SILT_ELIMIT);
    assert_int_equal(b.len, 0);
    assert_int_equal(mem_query(ms, "db", sql, QUERY_FMT_CSV, 3, &b, &err), SILT_ELIMIT);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_query_sort_buffer_guard(void **state) {
    (void)state;
    /* without LIMIT the sort buffer is bounded by the result limit: a big table with a small
     * max_result_bytes fails during the scan, before buffering everything */
    mem_source ms;
    mem_source_init(&ms, 100);
    mem_table *t = mem_table_add(&ms, "db", "t");
    mem_col(t, "s", QCOL_FIELD, LP_STRING);
    char kv[1100] = "s=";
    memset(kv + 2, 'x', 1000);
    kv[1002] = 0;
    for (int i = 0; i < 2000; i++) mem_row(t, i, kv);
    buf b = {0};
    silt_err err = {0};
    size_t max = 100 * 1024;
    assert_int_equal(
        mem_query(&ms, "db", "SELECT s FROM t ORDER BY time DESC", QUERY_FMT_CSV, max, &b, &err),
        SILT_ELIMIT);
    assert_true(ms.n_rows_delivered < 2000);
    assert_int_equal(b.len, 0);
    /* with a LIMIT that fits, the same table works: top-N keeps the buffer small */
    assert_int_equal(mem_query(&ms, "db", "SELECT s FROM t ORDER BY time DESC LIMIT 10",
                               QUERY_FMT_CSV, max, &b, &err),
                     SILT_OK);
    buf_free(&b);
    mem_source_fini(&ms);
}

static void test_query_strings_copied_out_of_batches(void **state) {
    mem_source *ms = *state;
    /* the source frees each batch's strings after the callback: the sort buffer must own
     * copies (ASan would catch a dangling view) */
    ASSERT_JSON("SELECT msg FROM cpu WHERE msg IS NOT NULL ORDER BY time DESC",
                "[{\"msg\":\"quote \\\"x\\\"\"},{\"msg\":\"a,b\"},{\"msg\":\"multi\\nline\"},"
                "{\"msg\":\"hello\"}]");
}

static void test_query_one_row_batches(void **state) {
    (void)state;
    mem_source ms;
    mem_fixture(&ms, 1);
    assert_string_equal(where(&ms, "host = 'a' OR usage > 50"), "1,3,4,6");
    assert_string_equal(ids(&ms, "ORDER BY time DESC LIMIT 3"), "5,4,3");
    mem_source_fini(&ms);
}

/* ------------------------------------------------------------------ threads */

static const char *const concurrent_queries[] = {
    "SELECT * FROM cpu WHERE host = 'a' OR usage > 50",
    "SELECT id, usage FROM cpu ORDER BY time DESC LIMIT 4",
    "SELECT count(*), count(msg) FROM cpu WHERE NOT ok",
    "SHOW COLUMNS FROM cpu",
    "SELECT * FROM cpu WHERE time >= '2016-01-01' LIMIT 1",
    "SELECT * FROM cpu WHERE usage = 'x'",
    "SELECT * FROM cpu WHERE",
};
#define N_CONCURRENT (sizeof concurrent_queries / sizeof concurrent_queries[0])

typedef struct conc_arg {
    mem_source *ms;
    buf *want; /* per query and format */
    int mismatches;
} conc_arg;

static void *conc_worker(void *p) {
    conc_arg *a = p;
    for (int rep = 0; rep < 50; rep++) {
        for (size_t i = 0; i < N_CONCURRENT; i++) {
            query_format fmt = (query_format)((i + (size_t)rep) % 3);
            buf b = {0};
            silt_err err = {0};
            int rc = mem_query(a->ms, "db", concurrent_queries[i], fmt, 0, &b, &err);
            if (rc != SILT_OK) buf_printf(&b, "error %d: %s", rc, err.msg);
            const buf *w = &a->want[i * 3 + fmt];
            if (b.len != w->len || memcmp(b.p, w->p, b.len) != 0) a->mismatches++;
            buf_free(&b);
        }
    }
    return NULL;
}

static void test_query_concurrent_queries_agree(void **state) {
    mem_source *ms = *state;
    buf want[N_CONCURRENT * 3];
    memset(want, 0, sizeof want);
    for (size_t i = 0; i < N_CONCURRENT; i++) {
        for (int f = 0; f < 3; f++) {
            silt_err err = {0};
            int rc = mem_query(ms, "db", concurrent_queries[i], (query_format)f, 0,
                               &want[i * 3 + f], &err);
            if (rc != SILT_OK) buf_printf(&want[i * 3 + f], "error %d: %s", rc, err.msg);
        }
    }
    ms->shared = true;
    pthread_t th[4];
    conc_arg args[4];
    for (int t = 0; t < 4; t++) {
        args[t] = (conc_arg){.ms = ms, .want = want};
        assert_int_equal(pthread_create(&th[t], NULL, conc_worker, &args[t]), 0);
    }
    for (int t = 0; t < 4; t++) pthread_join(th[t], NULL);
    ms->shared = false;
    for (int t = 0; t < 4; t++) assert_int_equal(args[t].mismatches, 0);
    for (size_t i = 0; i < N_CONCURRENT * 3; i++) buf_free(&want[i]);
}

typedef struct intr_arg {
    int calls;
    int fail_at; /* the call that stops the query (0: never) */
} intr_arg;

static int test_interrupt(void *arg, silt_err *err) {
    intr_arg *a = arg;
    if (++a->calls == a->fail_at)
        return SILT_FAIL(err, SILT_EIO, "stopped by the test at call %d", a->calls);
    return SILT_OK;
}

/* query_opts.deadline_ns and .interrupt: a passed deadline fails with SILT_ETIMEDOUT "query
 * timeout" and no partial result, for a plain scan, a GROUP BY and an ORDER BY; the interrupt
 * is called at the first batch and its error ends the query; a future deadline and an
 * interrupt that never fires change nothing. InfluxQL: the statement that times out is
 * "query-timeout limit exceeded" and the statements after it are not run; an interrupt fails
 * the whole request with its code. */
static void test_query_deadline_and_interrupt(void **state) {
    mem_source *ms = *state;
    const char *sqls[] = {"SELECT * FROM cpu", "SELECT host, count(*) FROM cpu GROUP BY host",
                          "SELECT id FROM cpu ORDER BY usage LIMIT 2"};
    for (size_t i = 0; i < sizeof sqls / sizeof sqls[0]; i++) {
        buf want = {0}, b = {0};
        silt_err err = {0};
        assert_int_equal(mem_query(ms, "db", sqls[i], QUERY_FMT_JSON, 0, &want, &err), SILT_OK);
        /* deadline passed */
        query_opts o = {.now_ns = T2016 + 3600LL * NS_PER_S, .deadline_ns = time_mono_ns() - 1};
        buf_puts(&b, "keep");
        int rc = query_sql(&ms->src, "db", sqls[i], strlen(sqls[i]), QUERY_FMT_JSON, &o, &b, &err);
        assert_int_equal(rc, SILT_ETIMEDOUT);
        assert_string_equal(err.msg, "query timeout");
        assert_int_equal(b.len, 4);
        /* deadline in an hour: the same answer */
        o.deadline_ns = time_mono_ns() + 3600LL * NS_PER_S;
        intr_arg ia = {0};
        o.interrupt = test_interrupt;
        o.interrupt_arg = &ia;
        buf_reset(&b);
        rc = query_sql(&ms->src, "db", sqls[i], strlen(sqls[i]), QUERY_FMT_JSON, &o, &b, &err);
        assert_int_equal(rc, SILT_OK);
        assert_true(ia.calls >= 1);
        assert_int_equal(b.len, want.len);
        assert_memory_equal(b.p, want.p, want.len);
        /* the interrupt fires at its first call */
        ia = (intr_arg){.fail_at = 1};
        buf_reset(&b);
        buf_puts(&b, "keep");
        rc = query_sql(&ms->src, "db", sqls[i], strlen(sqls[i]), QUERY_FMT_JSON, &o, &b, &err);
        assert_int_equal(rc, SILT_EIO);
        assert_string_equal(err.msg, "stopped by the test at call 1");
        assert_int_equal(ia.calls, 1);
        assert_int_equal(b.len, 4);
        buf_free(&want);
        buf_free(&b);
    }

    /* InfluxQL */
    const char *iq = "SELECT usage FROM cpu; SELECT count(usage) FROM cpu";
    query_influxql_opts io = {.now_ns = T2016, .deadline_ns = time_mono_ns() - 1};
    buf b = {0};
    silt_err err = {0};
    assert_int_equal(query_influxql_v1(&ms->src, "db", iq, strlen(iq), &io, &b, &err), SILT_OK);
    buf_cstr(&b);
    assert_string_equal((const char *)b.p,
                        "{\"results\":[{\"statement_id\":0,\"error\":\"query-timeout limit "
                        "exceeded\"}]}\n");
    assert_int_equal(err.code, SILT_ETIMEDOUT);
    intr_arg ia = {.fail_at = 1};
    io = (query_influxql_opts){.now_ns = T2016, .interrupt = test_interrupt, .interrupt_arg = &ia};
    buf_reset(&b);
    err = (silt_err){0};
    assert_int_equal(query_influxql_v1(&ms->src, "db", iq, strlen(iq), &io, &b, &err), SILT_EIO);
    assert_string_equal(err.msg, "stopped by the test at call 1");
    /* neither fires: both statements answer */
    ia = (intr_arg){0};
    io.deadline_ns = time_mono_ns() + 3600LL * NS_PER_S;
    buf_reset(&b);
    err = (silt_err){0};
    assert_int_equal(query_influxql_v1(&ms->src, "db", iq, strlen(iq), &io, &b, &err), SILT_OK);
    buf_cstr(&b);
    assert_non_null(strstr((const char *)b.p, "\"statement_id\":1,\"series\""));
    assert_int_equal(err.code, 0);
    buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_subquery_in_from),
        cmocka_unit_test(test_query_subquery_errors),
        cmocka_unit_test(test_query_subquery_scan_still_pruned),
        cmocka_unit_test(test_query_subquery_deep_nesting_runs),
        cmocka_unit_test(test_query_with_ctes_scoping),
        cmocka_unit_test(test_query_union_all),
        cmocka_unit_test(test_query_union_all_errors),
        cmocka_unit_test(test_query_materialized_memory_limit),
        cmocka_unit_test(test_query_materialized_large_and_stop),
        cmocka_unit_test(test_query_gapfill_locf_interpolate),
        cmocka_unit_test(test_query_gapfill_errors),
        cmocka_unit_test(test_query_filter_float_all_operators),
        cmocka_unit_test(test_query_filter_float_vs_integer_exact),
        cmocka_unit_test(test_query_filter_int_all_operators),
        cmocka_unit_test(test_query_filter_int_vs_float_exact),
        cmocka_unit_test(test_query_filter_int_vs_uint_literal),
        cmocka_unit_test(test_query_filter_uint_all_operators),
        cmocka_unit_test(test_query_filter_uint_vs_negative_and_float),
        cmocka_unit_test(test_query_filter_strings_and_tags),
        cmocka_unit_test(test_query_filter_booleans),
        cmocka_unit_test(test_query_filter_null_three_valued_logic),
        cmocka_unit_test(test_query_filter_and_or_not_precedence),
        cmocka_unit_test(test_query_filter_constant_conditions),
        cmocka_unit_test(test_query_filter_time_literals),
        cmocka_unit_test(test_query_filter_invalid_time_literal),
        cmocka_unit_test(test_query_type_mismatch_errors),
        cmocka_unit_test(test_query_unknown_table_database_column),
        cmocka_unit_test(test_query_unquoted_names_fold_to_lower_case),
        cmocka_unit_test(test_query_unsupported_select_items),
        cmocka_unit_test(test_query_select_star_in_table_order),
        cmocka_unit_test(test_query_select_columns_and_aliases),
        cmocka_unit_test(test_query_order_by_time_both_directions_stable),
        cmocka_unit_test(test_query_order_by_all_types),
        cmocka_unit_test(test_query_limit_without_order_stops_scan),
        cmocka_unit_test(test_query_limit_offset),
        cmocka_unit_test(test_query_order_limit_top_n_large),
        cmocka_unit_test(test_query_count_star),
        cmocka_unit_test(test_query_count_column_skips_nulls),
        cmocka_unit_test(test_query_show_tables),
        cmocka_unit_test(test_query_show_columns),
        cmocka_unit_test(test_query_information_schema),
        cmocka_unit_test(test_query_system_parquet_files),
        cmocka_unit_test(test_query_time_predicates_prune_scan),
        cmocka_unit_test(test_query_source_honouring_time_range),
        cmocka_unit_test(test_query_storage_error_propagates),
        cmocka_unit_test(test_query_result_size_limit),
        cmocka_unit_test(test_query_sort_buffer_guard),
        cmocka_unit_test(test_query_strings_copied_out_of_batches),
        cmocka_unit_test(test_query_one_row_batches),
        cmocka_unit_test(test_query_concurrent_queries_agree),
        cmocka_unit_test(test_query_deadline_and_interrupt),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
