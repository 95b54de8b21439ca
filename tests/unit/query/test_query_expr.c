/* SPDX-License-Identifier: MIT
 *
 * General expressions, GROUP BY / aggregates, DISTINCT and ORDER BY over the in-memory source
 * (mem_source.h; the fixture is described there: six cpu rows with NULLs in most columns).
 * Batches hold 3 rows unless a test says otherwise, so every query crosses batch boundaries
 * and the aggregation hash table sees each group in several batches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "query/query_int.h"
#include "query/mem_source.h"

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

static char *run(mem_source *ms, const char *sql, query_format fmt) {
    buf b = {0};
    silt_err err = {0};
    int rc = mem_query(ms, "db", sql, fmt, 0, &b, &err);
    if (rc != SILT_OK) fail_msg("%s: rc %d: %s", sql, rc, err.msg);
    return (char *)b.p; /* caller frees */
}

#define ASSERT_JSON(sql, want)                                                                     \
    do {                                                                                           \
        char *got_ = run(ms, sql, QUERY_FMT_JSON);                                                 \
        if (strcmp(got_, want) != 0) fail_msg("%s\n  got  %s\n  want %s", sql, got_, want);        \
        free(got_);                                                                                \
    } while (0)

static void assert_error(mem_source *ms, const char *sql, int code, const char *msg) {
    buf b = {0};
    buf_puts(&b, "keep");
    silt_err err = {0};
    int rc = mem_query(ms, "db", sql, QUERY_FMT_JSON, 0, &b, &err);
    if (rc != code || (msg && strcmp(err.msg, msg) != 0))
        fail_msg("%s\n  rc %d: %s\n  want %d: %s", sql, rc, err.msg, code, msg ? msg : "");
    assert_int_equal(b.len, 4); /* no partial result */
    buf_free(&b);
}

/* ------------------------------------------------------------------ scalar expressions */

static void test_query_expr_arithmetic(void **state) {
    mem_source *ms = *state;
    ASSERT_JSON("SELECT usage * 2 + 1 AS x, count % 4 AS m, -count AS n FROM cpu WHERE id < '4'",
                "[{\"x\":4,\"m\":2,\"n\":-10},{\"x\":-4,\"m\":-1,\"n\":5},"
                "{\"m\":1,\"n\":-9007199254740993}]");
    /* integer division truncates; float division follows IEEE (inf is null in JSON) */
    ASSERT_JSON("SELECT count / 4 AS q, usage / 0 AS f, 7.0 / 2 AS h FROM cpu WHERE id = '1'",
                "[{\"q\":2,\"f\":null,\"h\":3.5}]");
    /* unsigned stays unsigned; mixed int and float is float */
    ASSERT_JSON("SELECT big + 1 AS b, count + 0.5 AS c FROM cpu WHERE id = '4'",
                "[{\"b\":6,\"c\":0.5}]");
    /* default names as DataFusion prints them */
    ASSERT_JSON("SELECT count % 4, -count, 1, 'x' FROM cpu WHERE id = '1'",
                "[{\"cpu.count % Int64(4)\":2,\"(- cpu.count)\":-10,\"Int64(1)\":1,"
                "\"Utf8(\\\"x\\\")\":\"x\"}]");
}

static void test_query_expr_overflow_and_division_errors(void **state) {
    mem_source *ms = *state;
    assert_error(ms, "SELECT count / 0 FROM cpu", SILT_EINVAL,
                 "division by zero at line 1, column 8");
    assert_error(ms, "SELECT id, count % (count - count) FROM cpu", SILT_EINVAL,
                 "division by zero at line 1, column 12");
    assert_error(ms, "SELECT count * 10000 FROM cpu", SILT_EINVAL,
                 "integer overflow at line 1, column 8");
    assert_error(ms, "SELECT big + big FROM cpu", SILT_EINVAL,
                 "integer overflow at line 1, column 8");
    assert_error(ms, "SELECT 9223372036854775807 + count FROM cpu WHERE id = '1'", SILT_EINVAL,
                 "integer overflow at line 1, column 8");
    assert_error(ms, "SELECT sum(big) FROM cpu", SILT_EINVAL, "integer overflow in sum()");
    /* constant expressions fail while binding */
    assert_error(ms, "SELECT 1 / 0 FROM cpu", SILT_EINVAL, "division by zero at line 1, column 8");
    /* CASE only evaluates a branch on the rows that reach it */
    ASSERT_JSON("SELECT id, CASE WHEN count = 0 THEN NULL ELSE 100 / count END AS d FROM cpu "
                "WHERE id IN ('2', '4')",
                "[{\"id\":\"2\",\"d\":-20},{\"id\":\"4\"}]");
}

static void test_query_expr_column_comparisons(void **state) {
    mem_source *ms = *state;
    ASSERT_JSON("SELECT id FROM cpu WHERE usage > count", "[{\"id\":\"2\"},{\"id\":\"4\"},{\"id\":\"6\"}]");
    /* int vs uint compares exactly: 9007199254740993 > 9007199254740992 though both round to
     * the same double; a uint above int64's range is above every int */
    ASSERT_JSON("SELECT id FROM cpu WHERE count >= big", "[{\"id\":\"6\"}]");
    ASSERT_JSON("SELECT id FROM cpu WHERE count > 9007199254740992::uint64", "[{\"id\":\"3\"}]");
    ASSERT_JSON("SELECT id FROM cpu WHERE count + 0 < big - 0 AND big >= 9223372036854775808",
                "[{\"id\":\"1\"},{\"id\":\"3\"}]");
    ASSERT_JSON("SELECT big - 1 AS b FROM cpu WHERE id = '1'", "[{\"b\":18446744073709551614}]");
    ASSERT_JSON("SELECT id FROM cpu WHERE usage * 2 >= count + 3 AND host <> region",
                "[{\"id\":\"4\"},{\"id\":\"6\"}]");
    ASSERT_JSON("SELECT id, usage = usage AS same FROM cpu WHERE id IN ('3', '5')",
                "[{\"id\":\"3\"},{\"id\":\"5\",\"same\":true}]");
    ASSERT_JSON("SELECT id FROM cpu WHERE time > '2015-01-01' AND msg IS NOT NULL OR "
                "usage::varchar = '0.1'",
                "[{\"id\":\"4\"},{\"id\":\"5\"}]");
}

static void test_query_expr_three_valued_logic(void **state) {
    mem_source *ms = *state;
    /* id 3: usage NULL, so usage > 1 is NULL; NULL OR TRUE is TRUE, NULL AND FALSE is FALSE */
    ASSERT_JSON("SELECT id, usage > 1 OR count > 5 AS o, usage > 1 AND count < 0 AS a, "
                "NOT (usage > 1) AS n FROM cpu WHERE id IN ('1', '3')",
                "[{\"id\":\"1\",\"o\":true,\"a\":false,\"n\":false},"
                "{\"id\":\"3\",\"o\":true,\"a\":false}]");
    ASSERT_JSON("SELECT id, usage IS NULL AS n, msg IS NOT NULL AS m FROM cpu WHERE id = '3'",
                "[{\"id\":\"3\",\"n\":true,\"m\":false}]");
    /* x IN (.., NULL) is NULL unless found; NOT IN with a NULL is never TRUE */
    ASSERT_JSON("SELECT id, host IN ('a', NULL) AS i, host NOT IN ('x', NULL) AS ni FROM cpu "
                "WHERE id IN ('1', '2')",
                "[{\"id\":\"1\",\"i\":true},{\"id\":\"2\"}]");
    /* NULL arithmetic is NULL */
    ASSERT_JSON("SELECT usage + 1 AS u, NULL + 1 AS n FROM cpu WHERE id = '3'", "[{}]");
}

static void test_query_expr_in_between_like_regex(void **state) {
    mem_source *ms = *state;
    ASSERT_JSON("SELECT id FROM cpu WHERE host IN ('a', 'c') AND usage BETWEEN 1 AND 200",
                "[{\"id\":\"1\"},{\"id\":\"4\"}]");
    ASSERT_JSON("SELECT id FROM cpu WHERE count NOT BETWEEN 0 AND 10", "[{\"id\":\"2\"},{\"id\":\"3\"}]");
    ASSERT_JSON("SELECT id FROM cpu WHERE count + 0 NOT BETWEEN 0 AND 10",
                "[{\"id\":\"2\"},{\"id\":\"3\"}]");
    ASSERT_JSON("SELECT id FROM cpu WHERE region NOT IN ('us', NULL) OR id IN ('1')",
                "[{\"id\":\"1\"}]");
    ASSERT_JSON("SELECT id FROM cpu WHERE time BETWEEN '1970-01-01T00:00:02Z' AND "
                "'1970-01-01T00:00:03Z'",
                "[{\"id\":\"2\"},{\"id\":\"3\"},{\"id\":\"6\"}]");
    ASSERT_JSON("SELECT id FROM cpu WHERE msg LIKE '%l%'", "[{\"id\":\"1\"},{\"id\":\"6\"}]");
    ASSERT_JSON("SELECT id FROM cpu WHERE msg LIKE 'h_llo' OR msg NOT LIKE '%l%'",
                "[{\"id\":\"1\"},{\"id\":\"2\"},{\"id\":\"4\"}]");
    ASSERT_JSON("SELECT id FROM cpu WHERE host NOT IN ('a') AND region ILIKE 'U%'", "[{\"id\":\"6\"}]");
    ASSERT_JSON("SELECT id FROM cpu WHERE msg ~ '^h'", "[{\"id\":\"1\"}]");
    ASSERT_JSON("SELECT id FROM cpu WHERE msg ~* '^HE' OR msg !~ 'l'",
                "[{\"id\":\"1\"},{\"id\":\"2\"},{\"id\":\"4\"}]");
    ASSERT_JSON("SELECT id FROM cpu WHERE msg !~* 'L'", "[{\"id\":\"2\"},{\"id\":\"4\"}]");
    assert_error(ms, "SELECT id FROM cpu WHERE msg ~ '('", SILT_EINVAL,
                 "invalid regular expression '(': Unmatched ( or \\( at line 1, column 32");
    assert_error(ms, "SELECT id FROM cpu WHERE msg ~ host", SILT_EINVAL,
                 "the pattern of a regular expression match must be a constant string at line 1, "
                 "column 26");
    assert_error(ms, "SELECT id FROM cpu WHERE usage LIKE 'a'", SILT_EINVAL,
                 "pattern matching needs strings, not float and string at line 1, column 26");
}

static void test_query_expr_case_and_cast(void **state) {
    mem_source *ms = *state;
    ASSERT_JSON("SELECT id, CASE WHEN usage > 1 THEN 'hi' WHEN usage IS NULL THEN 'null' ELSE "
                "'lo' END AS c FROM cpu",
                "[{\"id\":\"1\",\"c\":\"hi\"},{\"id\":\"2\",\"c\":\"lo\"},{\"id\":\"3\",\"c\":"
                "\"null\"},{\"id\":\"4\",\"c\":\"hi\"},{\"id\":\"5\",\"c\":\"lo\"},{\"id\":\"6\","
                "\"c\":\"hi\"}]");
    ASSERT_JSON("SELECT id, CASE host WHEN 'a' THEN 1 WHEN 'b' THEN 2.5 END AS k FROM cpu "
                "WHERE id < '4'",
                "[{\"id\":\"1\",\"k\":1},{\"id\":\"2\",\"k\":2.5},{\"id\":\"3\",\"k\":1}]");
    ASSERT_JSON("SELECT CAST(count AS double) AS d, usage::bigint AS ub, CAST(id AS bigint) + 1 "
                "AS n, ok::varchar AS s, CAST('1.5' AS double) AS f, '2016-01-01T00:00:00Z'::"
                "timestamp AS t, CAST(count AS boolean) AS b FROM cpu WHERE id = '4'",
                "[{\"d\":0,\"ub\":100,\"n\":5,\"s\":\"true\",\"f\":1.5,\"t\":\"2016-01-01T00:00:00\","
                "\"b\":false}]");
    ASSERT_JSON("SELECT CAST(time AS bigint) AS t, CAST(usage AS varchar) AS s FROM cpu WHERE "
                "id = '1'",
                "[{\"t\":1000000000,\"s\":\"1.5\"}]");
    assert_error(ms, "SELECT CAST(host AS bigint) FROM cpu", SILT_EINVAL,
                 "cannot cast string 'a' to integer at line 1, column 8");
    assert_error(ms, "SELECT big::bigint FROM cpu", SILT_EINVAL,
                 "integer overflow in cast to integer at line 1, column 8");
    assert_error(ms, "SELECT CASE WHEN ok THEN 1 ELSE 'x' END FROM cpu", SILT_EINVAL,
                 "CASE results must have one type, not integer and string at line 1, column 33");
}

static void test_query_expr_functions(void **state) {
    mem_source *ms = *state;
    ASSERT_JSON("SELECT abs(count) AS a, floor(usage) AS f, ceil(usage) AS c, round(usage) AS r, "
                "round(usage * 1.234, 2) AS r2, sqrt(usage) AS s, power(2, 10) AS p, "
                "ln(1) AS l, log10(1000) AS g FROM cpu WHERE id = '2'",
                "[{\"a\":5,\"f\":-3,\"c\":-2,\"r\":-3,\"r2\":-3.09,\"s\":null,\"p\":1024,\"l\":0,\"g\":3}]");
    ASSERT_JSON("SELECT upper(host) || '-' || lower('X') AS u, length(msg) AS l, "
                "concat(host, NULL, 1) AS c, substr(msg, 2, 3) AS s, substring(msg, 3) AS s2, "
                "coalesce(region, 'none') AS r, nullif(host, 'b') AS n FROM cpu WHERE id IN "
                "('1', '5')",
                "[{\"u\":\"A-x\",\"l\":5,\"c\":\"a1\",\"s\":\"ell\",\"s2\":\"llo\",\"r\":\"us\","
                "\"n\":\"a\"},{\"u\":\"B-x\",\"c\":\"b1\",\"r\":\"none\"}]");
    ASSERT_JSON("SELECT coalesce(usage, count, 0) AS c FROM cpu WHERE id = '3'",
                "[{\"c\":9007199254740992}]");
    ASSERT_JSON("SELECT char_length('héllo') AS n, substr('héllo', 2, 2) AS s FROM mem",
                "[{\"n\":5,\"s\":\"él\"}]");
    assert_error(ms, "SELECT nosuch(1) FROM cpu", SILT_EINVAL,
                 "unknown function 'nosuch' at line 1, column 8");
    assert_error(ms, "SELECT abs(1, 2) FROM cpu", SILT_EINVAL,
                 "abs() takes 1 argument at line 1, column 8");
    assert_error(ms, "SELECT lower(usage) FROM cpu", SILT_EINVAL,
                 "lower() does not accept float at line 1, column 8");
}

static void test_query_expr_time_functions(void **state) {
    mem_source *ms = *state;
    ASSERT_JSON("SELECT date_trunc('day', time) AS d, date_trunc('month', time) AS m, "
                "time + INTERVAL '1 day' AS t2, time - INTERVAL '90 minutes' AS t3 FROM cpu "
                "WHERE id = '4'",
                "[{\"d\":\"2016-01-01T00:00:00\",\"m\":\"2016-01-01T00:00:00\","
                "\"t2\":\"2016-01-02T00:00:00\",\"t3\":\"2015-12-31T22:30:00\"}]");
    ASSERT_JSON("SELECT date_trunc('week', TIMESTAMP '2016-01-01T10:00:00Z') AS w, "
                "date_trunc('year', TIMESTAMP '2016-03-01T10:00:00Z') AS y, "
                "date_trunc('minute', TIMESTAMP '2016-03-01T10:07:08.5Z') AS mi FROM mem",
                "[{\"w\":\"2015-12-28T00:00:00\",\"y\":\"2016-01-01T00:00:00\","
                "\"mi\":\"2016-03-01T10:07:00\"}]");
    ASSERT_JSON("SELECT date_bin(INTERVAL '15 minutes', time, TIMESTAMP '2016-01-01T00:05:00Z') "
                "AS b, date_bin(INTERVAL '1 hour', time) AS h FROM cpu WHERE id = '5'",
                "[{\"b\":\"2015-12-31T23:50:00\",\"h\":\"2016-01-01T00:00:00\"}]");
    ASSERT_JSON("SELECT id FROM cpu WHERE now() - time < INTERVAL '2 hours'",
                "[{\"id\":\"4\"},{\"id\":\"5\"}]");
    ASSERT_JSON("SELECT id FROM cpu WHERE date_bin(INTERVAL '1 day', time) = '2016-01-01T00:00:00Z'",
                "[{\"id\":\"4\"},{\"id\":\"5\"}]");
    assert_error(ms, "SELECT date_trunc('fortnight', time) FROM cpu", SILT_EINVAL,
                 "unsupported date_trunc unit 'fortnight' (second, minute, hour, day, week, month "
                 "or year) at line 1, column 19");
    assert_error(ms, "SELECT date_bin(5, time) FROM cpu", SILT_EINVAL,
                 "date_bin() needs an interval as its first argument, such as INTERVAL '1 hour' "
                 "at line 1, column 17");
}

/* ------------------------------------------------------------------ aggregation */

static void test_query_group_by_basic(void **state) {
    mem_source *ms = *state;
    ASSERT_JSON("SELECT host, count(*), sum(count), avg(usage), min(msg), max(usage) FROM cpu "
                "GROUP BY host ORDER BY host",
                "[{\"host\":\"a\",\"count(*)\":2,\"sum(cpu.count)\":9007199254741003,"
                "\"avg(cpu.usage)\":1.5,\"min(cpu.msg)\":\"hello\",\"max(cpu.usage)\":1.5},"
                "{\"host\":\"b\",\"count(*)\":2,\"sum(cpu.count)\":-4,\"avg(cpu.usage)\":-1.2,"
                "\"min(cpu.msg)\":\"a,b\",\"max(cpu.usage)\":0.1},"
                "{\"host\":\"c\",\"count(*)\":2,\"sum(cpu.count)\":3,"
                "\"avg(cpu.usage)\":4503599627370546,\"min(cpu.msg)\":\"multi\\nline\","
                "\"max(cpu.usage)\":9007199254740992}]");
    /* NULL keys form one group; several keys */
    ASSERT_JSON("SELECT host, region, count(*) AS n FROM cpu GROUP BY host, region ORDER BY "
                "host, region NULLS FIRST",
                "[{\"host\":\"a\",\"region\":\"us\",\"n\":2},{\"host\":\"b\",\"n\":1},"
                "{\"host\":\"b\",\"region\":\"eu\",\"n\":1},{\"host\":\"c\",\"region\":\"eu\","
                "\"n\":1},{\"host\":\"c\",\"region\":\"us\",\"n\":1}]");
    /* float keys: -0 and 0 are one group, and so are all NaNs (0 / 0.0) */
    ASSERT_JSON("SELECT usage * 0 AS z, count(*) AS n FROM cpu WHERE usage IS NOT NULL GROUP BY 1",
                "[{\"z\":0,\"n\":5}]");
    ASSERT_JSON("SELECT count(*) AS n FROM cpu GROUP BY usage / 0.0 ORDER BY n",
                "[{\"n\":1},{\"n\":1},{\"n\":4}]");
    /* unsigned and boolean keys */
    ASSERT_JSON("SELECT big, count(*) AS n FROM cpu GROUP BY big ORDER BY big NULLS FIRST",
                "[{\"n\":1},{\"big\":0,\"n\":1},{\"big\":3,\"n\":1},{\"big\":5,\"n\":1},"
                "{\"big\":9223372036854775808,\"n\":1},{\"big\":18446744073709551615,\"n\":1}]");
    ASSERT_JSON("SELECT ok, count(*) AS n, count(DISTINCT big) AS d FROM cpu GROUP BY ok ORDER BY ok",
                "[{\"ok\":false,\"n\":2,\"d\":1},{\"ok\":true,\"n\":3,\"d\":3},"
                "{\"n\":1,\"d\":1}]");
    /* ordinals and aliases */
    ASSERT_JSON("SELECT host AS h, count(*) AS n FROM cpu GROUP BY h ORDER BY n DESC, h LIMIT 2",
                "[{\"h\":\"a\",\"n\":2},{\"h\":\"b\",\"n\":2}]");
    ASSERT_JSON("SELECT date_bin(INTERVAL '1 hour', time) AS h, count(*) FROM cpu GROUP BY 1 "
                "ORDER BY 1",
                "[{\"h\":\"1970-01-01T00:00:00\",\"count(*)\":4},"
                "{\"h\":\"2016-01-01T00:00:00\",\"count(*)\":2}]");
    ASSERT_JSON("SELECT count(*) AS n FROM cpu GROUP BY date_bin(INTERVAL '1 hour', time) "
                "ORDER BY n",
                "[{\"n\":2},{\"n\":4}]");
    /* output types: sum(uint) is unsigned, sum(float) float, min/max keep the type */
    ASSERT_JSON("SELECT sum(big) AS s, min(ok) AS b, max(time) AS t, min(host) AS h FROM cpu "
                "WHERE id > '3'",
                "[{\"s\":8,\"b\":false,\"t\":\"2016-01-01T00:00:00.123\",\"h\":\"b\"}]");
}

static void test_query_aggregates_without_group_by(void **state) {
    mem_source *ms = *state;
    /* an empty input still gives one row: counts 0, the rest NULL */
    ASSERT_JSON("SELECT count(*), count(usage), sum(count), avg(usage), min(host), median(usage), "
                "stddev(count) FROM cpu WHERE 1 = 2",
                "[{\"count(*)\":0,\"count(cpu.usage)\":0}]");
    ASSERT_JSON("SELECT count(*) FROM cpu WHERE usage > 1e300", "[{\"count(*)\":0}]");
    /* but with GROUP BY an empty input has no groups */
    ASSERT_JSON("SELECT host, count(*) FROM cpu WHERE 1 = 2 GROUP BY host", "[]");
    ASSERT_JSON("SELECT median(count), approx_percentile_cont(usage, 0.25) AS p, stddev_pop(usage)"
                " AS sp, var(usage) AS v, stddev(count) AS sd FROM cpu WHERE id <> '6' AND "
                "id <> '3'",
                "[{\"median(cpu.count)\":0.5,\"p\":-0.5499999999999998,\"sp\":43.45488321236176,"
                "\"v\":2517.7691666666665,\"sd\":6.244997998398398}]");
    ASSERT_JSON("SELECT count(DISTINCT host) AS h, count(DISTINCT region) AS r, "
                "count(DISTINCT usage) AS u FROM cpu",
                "[{\"h\":3,\"r\":2,\"u\":5}]");
}

static void test_query_aggregate_expressions_and_having(void **state) {
    mem_source *ms = *state;
    ASSERT_JSON("SELECT max(usage) - min(usage), round(avg(usage), 2) FROM cpu WHERE id < '5'",
                "[{\"max(cpu.usage) - min(cpu.usage)\":102.5,"
                "\"round(avg(cpu.usage),Int64(2))\":33}]");
    ASSERT_JSON("SELECT host FROM cpu GROUP BY host HAVING count(*) > 1 AND min(usage) < 0",
                "[{\"host\":\"b\"}]");
    ASSERT_JSON("SELECT host, sum(count) * 2 AS s FROM cpu GROUP BY host HAVING sum(count) < 5 "
                "ORDER BY s",
                "[{\"host\":\"b\",\"s\":-8},{\"host\":\"c\",\"s\":6}]");
    ASSERT_JSON("SELECT upper(host) AS h, count(*) AS n FROM cpu GROUP BY host ORDER BY max(count) "
                "DESC",
                "[{\"h\":\"A\",\"n\":2},{\"h\":\"C\",\"n\":2},{\"h\":\"B\",\"n\":2}]");
    assert_error(ms, "SELECT host, count(*) FROM cpu", SILT_EINVAL,
                 "column 'host' must appear in the GROUP BY clause or be used in an aggregate "
                 "function at line 1, column 8");
    assert_error(ms, "SELECT host, usage FROM cpu GROUP BY host", SILT_EINVAL,
                 "column 'usage' must appear in the GROUP BY clause or be used in an aggregate "
                 "function at line 1, column 14");
    assert_error(ms, "SELECT sum(max(usage)) FROM cpu", SILT_EINVAL,
                 "aggregate function calls cannot be nested at line 1, column 12");
    assert_error(ms, "SELECT avg(host) FROM cpu", SILT_EINVAL,
                 "avg() needs a numeric argument, not string at line 1, column 8");
    assert_error(ms, "SELECT id FROM cpu WHERE sum(count) > 1", SILT_EINVAL,
                 "aggregate function sum() is not allowed here");
    assert_error(ms, "SELECT count(*) FROM cpu GROUP BY 3", SILT_EINVAL,
                 "GROUP BY position 3 is not in the select list at line 1, column 35");
    assert_error(ms, "SELECT approx_percentile_cont(usage, 2) FROM cpu", SILT_EINVAL,
                 "the percentile must be between 0 and 1 at line 1, column 38");
}

static void test_query_first_last_value(void **state) {
    mem_source *ms = *state;
    ASSERT_JSON("SELECT host, first_value(id ORDER BY time), last_value(id) AS l, "
                "first_value(id ORDER BY time DESC) AS fd FROM cpu GROUP BY host ORDER BY 1",
                "[{\"host\":\"a\",\"first_value(cpu.id) ORDER BY [cpu.time ASC NULLS LAST]\":\"1\","
                "\"l\":\"3\",\"fd\":\"3\"},{\"host\":\"b\",\"first_value(cpu.id) ORDER BY "
                "[cpu.time ASC NULLS LAST]\":\"2\",\"l\":\"5\",\"fd\":\"5\"},{\"host\":\"c\","
                "\"first_value(cpu.id) ORDER BY [cpu.time ASC NULLS LAST]\":\"6\",\"l\":\"4\","
                "\"fd\":\"4\"}]");
    /* the value at the last time, even when it is NULL (DataFusion respects NULLs) */
    ASSERT_JSON("SELECT last_value(usage) AS u, first_value(msg) AS m FROM cpu WHERE host = 'a'",
                "[{\"m\":\"hello\"}]");
}

static void test_query_selectors(void **state) {
    mem_source *ms = *state;
    /* InfluxDB 3's selector structs, as JSON objects {"value":..,"time":..} */
    ASSERT_JSON("SELECT host, selector_max(usage, time), selector_first(msg, time) AS f, "
                "selector_last(count, time) AS l FROM cpu WHERE host <> 'c' GROUP BY host "
                "ORDER BY host",
                "[{\"host\":\"a\",\"selector_max(cpu.usage,cpu.time)\":{\"value\":1.5,"
                "\"time\":\"1970-01-01T00:00:01\"},\"f\":{\"value\":\"hello\",\"time\":"
                "\"1970-01-01T00:00:01\"},\"l\":{\"value\":9007199254740993,\"time\":"
                "\"1970-01-01T00:00:03\"}},{\"host\":\"b\",\"selector_max(cpu.usage,cpu.time)\":"
                "{\"value\":0.1,\"time\":\"2016-01-01T00:00:00.123\"},\"f\":{\"value\":"
                "\"a,b\",\"time\":\"1970-01-01T00:00:02\"},\"l\":{\"value\":1,\"time\":"
                "\"2016-01-01T00:00:00.123\"}}]");
    /* ties keep the earliest time; NULL values are skipped; no rows: NULL */
    ASSERT_JSON("SELECT selector_min(big, time) AS m FROM cpu WHERE id IN ('4', '6')",
                "[{\"m\":{\"value\":3,\"time\":\"1970-01-01T00:00:02\"}}]");
    ASSERT_JSON("SELECT selector_last(usage, time) AS u FROM cpu WHERE host = 'a'",
                "[{\"u\":{\"value\":1.5,\"time\":\"1970-01-01T00:00:01\"}}]");
    ASSERT_JSON("SELECT selector_max(usage, time) AS m FROM cpu WHERE 1 = 2", "[{}]");
    char *csv = run(ms, "SELECT selector_min(usage, time) AS m FROM cpu", QUERY_FMT_CSV);
    assert_string_equal(csv, "m\n\"{\"\"value\"\":-2.5,\"\"time\"\":\"\"1970-01-01T00:00:02\"\"}\"\n");
    free(csv);
    assert_error(ms, "SELECT selector_max(usage, count) FROM cpu", SILT_EINVAL,
                 "the second argument of selector_max() must be the time column at line 1, "
                 "column 28");
    assert_error(ms, "SELECT selector_first(usage) FROM cpu", SILT_EINVAL,
                 "selector_first() takes two arguments (value, time) at line 1, column 8");
}

static void test_query_group_by_many_groups(void **state) {
    (void)state;
    mem_source ms;
    mem_source_init(&ms, 4096);
    mem_table *t = mem_table_add(&ms, "db", "t");
    mem_col(t, "k", QCOL_TAG, 0);
    mem_col(t, "n", QCOL_FIELD, LP_INT);
    mem_col(t, "v", QCOL_FIELD, LP_FLOAT);
    char kv[64];
    for (int rep = 0; rep < 2; rep++) {
        for (int i = 0; i < 100000; i++) {
            snprintf(kv, sizeof kv, "k=key%d|n=%d|v=%d.5", i, i % 1000, rep);
            mem_row(t, (int64_t)rep * 100000 + i, kv);
        }
    }
    buf b = {0};
    silt_err err = {0};
    /* 100k groups, two rows each */
    int rc = mem_query(&ms, "db",
                       "SELECT k, count(*) AS c, sum(v) AS s, max(n) AS m FROM t GROUP BY k "
                       "ORDER BY c DESC, k LIMIT 2",
                       QUERY_FMT_JSON, 0, &b, &err);
    if (rc) fail_msg("%s", err.msg);
    assert_string_equal((char *)b.p, "[{\"k\":\"key0\",\"c\":2,\"s\":2,\"m\":0},"
                                     "{\"k\":\"key1\",\"c\":2,\"s\":2,\"m\":1}]");
    buf_reset(&b);
    rc = mem_query(&ms, "db", "SELECT count(DISTINCT k) AS d, count(DISTINCT n) AS dn FROM t",
                   QUERY_FMT_JSON, 0, &b, &err);
    if (rc) fail_msg("%s", err.msg);
    assert_string_equal((char *)b.p, "[{\"d\":100000,\"dn\":1000}]");
    buf_reset(&b);
    rc = mem_query(&ms, "db", "SELECT n, count(*) AS c FROM t GROUP BY n HAVING count(*) <> 200",
                   QUERY_FMT_JSON, 0, &b, &err);
    if (rc) fail_msg("%s", err.msg);
    assert_string_equal((char *)b.p, "[]");
    buf_reset(&b);
    /* every group is emitted exactly once */
    rc = mem_query(&ms, "db", "SELECT k FROM t GROUP BY k", QUERY_FMT_CSV, 0, &b, &err);
    if (rc) fail_msg("%s", err.msg);
    size_t lines = 0;
    for (size_t i = 0; i < b.len; i++) lines += b.p[i] == '\n';
    assert_int_equal(lines, 100001);
    buf_free(&b);
    mem_source_fini(&ms);
}

static void test_query_memory_limit(void **state) {
    (void)state;
    mem_source ms;
    mem_source_init(&ms, 1000);
    mem_table *t = mem_table_add(&ms, "db", "t");
    mem_col(t, "k", QCOL_FIELD, LP_INT);
    char kv[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(kv, sizeof kv, "k=%d", i);
        mem_row(t, i, kv);
    }
    query_opts o = {.max_memory_bytes = 64 * 1024};
    buf b = {0};
    buf_puts(&b, "x");
    silt_err err = {0};
    const char *sql = "SELECT k, count(*) FROM t GROUP BY k";
    assert_int_equal(query_sql(&ms.src, "db", sql, strlen(sql), QUERY_FMT_JSON, &o, &b, &err),
                     SILT_ELIMIT);
    assert_string_equal(err.msg, "query exceeds the memory limit of 65536 bytes");
    assert_int_equal(b.len, 1);
    sql = "SELECT k FROM t ORDER BY k DESC";
    assert_int_equal(query_sql(&ms.src, "db", sql, strlen(sql), QUERY_FMT_JSON, &o, &b, &err),
                     SILT_ELIMIT);
    assert_string_equal(err.msg, "query exceeds the memory limit of 65536 bytes");
    sql = "SELECT median(k) FROM t";
    assert_int_equal(query_sql(&ms.src, "db", sql, strlen(sql), QUERY_FMT_JSON, &o, &b, &err),
                     SILT_ELIMIT);
    /* the same queries fit the default */
    o.max_memory_bytes = 0;
    sql = "SELECT k, count(*) FROM t GROUP BY k ORDER BY k DESC LIMIT 1";
    assert_int_equal(query_sql(&ms.src, "db", sql, strlen(sql), QUERY_FMT_JSON, &o, &b, &err),
                     SILT_OK);
    assert_string_equal(buf_cstr(&b) + 1, "[{\"k\":19999,\"count(*)\":1}]");
    buf_free(&b);
    mem_source_fini(&ms);
}

/* ------------------------------------------------------------------ DISTINCT, ORDER BY */

static void test_query_select_distinct(void **state) {
    mem_source *ms = *state;
    ASSERT_JSON("SELECT DISTINCT host FROM cpu ORDER BY host DESC",
                "[{\"host\":\"c\"},{\"host\":\"b\"},{\"host\":\"a\"}]");
    /* first-appearance order without ORDER BY; NULL is one value */
    ASSERT_JSON("SELECT DISTINCT host, region FROM cpu",
                "[{\"host\":\"a\",\"region\":\"us\"},{\"host\":\"b\",\"region\":\"eu\"},"
                "{\"host\":\"c\",\"region\":\"eu\"},{\"host\":\"b\"},{\"host\":\"c\","
                "\"region\":\"us\"}]");
    ASSERT_JSON("SELECT DISTINCT region IS NULL AS n FROM cpu", "[{\"n\":false},{\"n\":true}]");
    ASSERT_JSON("SELECT DISTINCT count(*) AS n FROM cpu GROUP BY host", "[{\"n\":2}]");
    assert_error(ms, "SELECT DISTINCT host FROM cpu ORDER BY usage", SILT_EINVAL,
                 "for SELECT DISTINCT, ORDER BY expressions must appear in the select list at "
                 "line 1, column 40");
}

static void test_query_order_by_expressions_and_nulls(void **state) {
    mem_source *ms = *state;
    /* ASC: NULLS LAST by default; DESC: NULLS FIRST (PostgreSQL) */
    ASSERT_JSON("SELECT id FROM cpu ORDER BY usage", "[{\"id\":\"2\"},{\"id\":\"5\"},{\"id\":\"1\"},"
                "{\"id\":\"4\"},{\"id\":\"6\"},{\"id\":\"3\"}]");
    ASSERT_JSON("SELECT id FROM cpu ORDER BY usage DESC", "[{\"id\":\"3\"},{\"id\":\"6\"},"
                "{\"id\":\"4\"},{\"id\":\"1\"},{\"id\":\"5\"},{\"id\":\"2\"}]");
    ASSERT_JSON("SELECT id FROM cpu ORDER BY usage NULLS FIRST", "[{\"id\":\"3\"},{\"id\":\"2\"},"
                "{\"id\":\"5\"},{\"id\":\"1\"},{\"id\":\"4\"},{\"id\":\"6\"}]");
    ASSERT_JSON("SELECT id FROM cpu ORDER BY usage DESC NULLS LAST", "[{\"id\":\"6\"},"
                "{\"id\":\"4\"},{\"id\":\"1\"},{\"id\":\"5\"},{\"id\":\"2\"},{\"id\":\"3\"}]");
    /* several keys, an expression, an alias, an ordinal */
    ASSERT_JSON("SELECT id, host AS h FROM cpu ORDER BY h DESC, count % 2, 1",
                "[{\"id\":\"4\",\"h\":\"c\"},{\"id\":\"6\",\"h\":\"c\"},{\"id\":\"2\",\"h\":\"b\"},"
                "{\"id\":\"5\",\"h\":\"b\"},{\"id\":\"1\",\"h\":\"a\"},{\"id\":\"3\",\"h\":\"a\"}]");
    ASSERT_JSON("SELECT id, time FROM cpu ORDER BY time DESC, id LIMIT 3 OFFSET 1",
                "[{\"id\":\"4\",\"time\":\"2016-01-01T00:00:00\"},{\"id\":\"3\",\"time\":"
                "\"1970-01-01T00:00:03\"},{\"id\":\"2\",\"time\":\"1970-01-01T00:00:02\"}]");
    ASSERT_JSON("SELECT id FROM cpu ORDER BY msg, ok DESC LIMIT 2", "[{\"id\":\"2\"},{\"id\":\"1\"}]");
    assert_error(ms, "SELECT id FROM cpu ORDER BY 5", SILT_EINVAL,
                 "ORDER BY position 5 is not in the select list at line 1, column 29");
}

/* Top-k (LIMIT: the bounded heap) and the full sort agree on random data with NULLs and
 * ties. */
static void test_query_top_k_matches_full_sort(void **state) {
    (void)state;
    uint64_t seed = 0x5eed1234u;
    for (int round = 0; round < 6; round++) {
        mem_source ms;
        mem_source_init(&ms, 97);
        mem_table *t = mem_table_add(&ms, "db", "t");
        mem_col(t, "a", QCOL_FIELD, LP_INT);
        mem_col(t, "f", QCOL_FIELD, LP_FLOAT);
        mem_col(t, "s", QCOL_TAG, 0);
        int n = 500 + round * 400;
        for (int i = 0; i < n; i++) {
            char kv[96];
            size_t w = 0;
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            unsigned r = (unsigned)(seed >> 33);
            if (r % 7) w += (size_t)snprintf(kv + w, sizeof kv - w, "a=%d|", (int)(r % 50) - 25);
            if (r % 5) w += (size_t)snprintf(kv + w, sizeof kv - w, "f=%d.25|", (int)(r % 13));
            snprintf(kv + w, sizeof kv - w, "s=s%u", (r >> 8) % 17);
            mem_row(t, i, kv);
        }
        static const char *const orders[] = {
            "a DESC, f, s", "f NULLS FIRST, a DESC NULLS LAST", "s DESC, time", "a + f, time DESC",
        };
        for (size_t o = 0; o < 4; o++) {
            for (int k = 1; k < 400; k *= 3) {
                char full_sql[200], top_sql[300];
                snprintf(full_sql, sizeof full_sql, "SELECT time, a, f, s FROM t ORDER BY %s",
                         orders[o]);
                snprintf(top_sql, sizeof top_sql, "%s LIMIT %d OFFSET %d", full_sql, k, k / 2);
                buf full = {0}, top = {0};
                silt_err err = {0};
                assert_int_equal(mem_query(&ms, "db", full_sql, QUERY_FMT_CSV, 0, &full, &err),
                                 SILT_OK);
                assert_int_equal(mem_query(&ms, "db", top_sql, QUERY_FMT_CSV, 0, &top, &err),
                                 SILT_OK);
                /* the expected slice: header, then lines k/2 .. k/2 + k of the full result */
                const char *p = (const char *)full.p;
                const char *hdr_end = strchr(p, '\n') + 1;
                const char *from = hdr_end;
                for (int l = 0; l < k / 2 && *from; l++) from = strchr(from, '\n') + 1;
                const char *to = from;
                for (int l = 0; l < k && *to; l++) to = strchr(to, '\n') + 1;
                size_t hl = (size_t)(hdr_end - p), bl = (size_t)(to - from);
                if (top.len != hl + bl || memcmp(top.p, p, hl) != 0 ||
                    memcmp(top.p + hl, from, bl) != 0)
                    fail_msg("round %d: %s\n-- top-k:\n%.300s\n-- full slice:\n%.300s", round,
                             top_sql, (char *)top.p + hl, from);
                buf_free(&full);
                buf_free(&top);
            }
        }
        mem_source_fini(&ms);
    }
}

static const char *explain(mem_source *ms, const char *sql) {
    static char out[1024];
    qctx q = {.src = &ms->src, .db = "db", .sql = sql, .sql_len = strlen(sql)};
    silt_err err = {0};
    q.err = &err;
    arena_init(&q.arena, 4096);
    qstmt *st;
    qplan *plan;
    int rc = query__parse(sql, strlen(sql), &q.arena, &st, &err);
    if (rc == SILT_OK) rc = query__plan(&q, st, &plan);
    buf b = {0};
    if (rc == SILT_OK)
        query__plan_explain(plan, &b);
    else
        buf_puts(&b, err.msg);
    snprintf(out, sizeof out, "%s", buf_cstr(&b));
    buf_free(&b);
    for (size_t i = 0; i < q.n_to_free; i++) query__expr_free(q.to_free[i]);
    if (q.have_tbl) ms->src.table_release(&ms->src, &q.tbl);
    arena_fini(&q.arena);
    return out;
}

/* A LIMIT above the heap's bound takes the other top-N path (cut the buffer when it doubles);
 * it must agree with the full sort too. */
static void test_query_top_k_large_limit(void **state) {
    (void)state;
    mem_source ms;
    mem_source_init(&ms, 4096);
    mem_table *t = mem_table_add(&ms, "db", "t");
    mem_col(t, "a", QCOL_FIELD, LP_INT);
    uint64_t seed = 42;
    for (int i = 0; i < 150000; i++) {
        char kv[32];
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        snprintf(kv, sizeof kv, "a=%u", (unsigned)(seed >> 40) % 5000);
        mem_row(t, i, kv);
    }
    buf full = {0}, top = {0};
    silt_err err = {0};
    assert_int_equal(mem_query(&ms, "db", "SELECT a, time FROM t ORDER BY a DESC", QUERY_FMT_CSV,
                               0, &full, &err),
                     SILT_OK);
    assert_int_equal(mem_query(&ms, "db",
                               "SELECT a, time FROM t ORDER BY a DESC LIMIT 70000 OFFSET 5000",
                               QUERY_FMT_CSV, 0, &top, &err),
                     SILT_OK);
    const char *p = (const char *)full.p, *hdr = strchr(p, '\n') + 1, *from = hdr;
    for (int l = 0; l < 5000; l++) from = strchr(from, '\n') + 1;
    const char *to = from;
    for (int l = 0; l < 70000; l++) to = strchr(to, '\n') + 1;
    size_t hl = (size_t)(hdr - p), bl = (size_t)(to - from);
    assert_int_equal(top.len, hl + bl);
    assert_memory_equal(top.p + hl, from, bl);
    buf_free(&full);
    buf_free(&top);
    mem_source_fini(&ms);
}

static void test_query_general_filter_plan(void **state) {
    mem_source *ms = *state;
    /* simple conjuncts keep the fast path and the time range; the rest is evaluated */
    qctx q = {.src = &ms->src, .db = "db", .now_ns = 0};
    const char *sql = "SELECT id FROM cpu WHERE time >= 5 AND usage > count AND host = 'a'";
    q.sql = sql;
    q.sql_len = strlen(sql);
    arena_init(&q.arena, 4096);
    silt_err err = {0};
    q.err = &err;
    qstmt *st;
    assert_int_equal(query__parse(sql, strlen(sql), &q.arena, &st, &err), SILT_OK);
    qplan *plan;
    int rc = query__plan(&q, st, &plan);
    if (rc) fail_msg("%s", err.msg);
    buf b = {0};
    query__plan_explain(plan, &b);
    assert_string_equal(buf_cstr(&b), "Projection: id\n"
                                      "  Filter: (time >= 5 AND host = 'a') AND cpu.usage > "
                                      "cpu.count\n"
                                      "    Scan: cpu [id, usage, count, time, host] "
                                      "time=[5, 9223372036854775807]\n");
    buf_free(&b);
    if (q.have_tbl) ms->src.table_release(&ms->src, &q.tbl);
    arena_fini(&q.arena);
    /* column IN / BETWEEN constants take the fast path: a time BETWEEN prunes the scan */
    assert_string_equal(explain(ms, "SELECT id FROM cpu WHERE time BETWEEN 5 AND 9 AND host "
                                    "NOT IN ('a', 'b')"),
                        "Projection: id\n"
                        "  Filter: (time >= 5 AND time <= 9 AND host <> 'a' AND host <> 'b')\n"
                        "    Scan: cpu [id, time, host] time=[5, 9]\n");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_query_expr_arithmetic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_expr_overflow_and_division_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_query_expr_column_comparisons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_expr_three_valued_logic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_expr_in_between_like_regex, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_expr_case_and_cast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_expr_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_expr_time_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_group_by_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_aggregates_without_group_by, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_aggregate_expressions_and_having, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_query_first_last_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_selectors, setup, teardown),
        cmocka_unit_test(test_query_group_by_many_groups),
        cmocka_unit_test(test_query_memory_limit),
        cmocka_unit_test_setup_teardown(test_query_select_distinct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_order_by_expressions_and_nulls, setup,
                                        teardown),
        cmocka_unit_test(test_query_top_k_matches_full_sort),
        cmocka_unit_test(test_query_top_k_large_limit),
        cmocka_unit_test_setup_teardown(test_query_general_filter_plan, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
