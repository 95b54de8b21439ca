/* SPDX-License-Identifier: MIT
 *
 * Planner: plan shape (Scan -> Filter -> Project/Aggregate -> Sort -> Limit), NOT push-down,
 * exact rewrites of mixed numeric comparisons, constant folding, time-range extraction and
 * the scan column list, checked through query__plan_explain. Also the exact numeric
 * comparison helpers the kernels use. */
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

/* Plan sql and compare its explain text with want. */
static void check_plan(mem_source *ms, const char *sql, const char *want) {
    silt_err err = {0};
    qctx q = {.src = &ms->src,
              .db = "db",
              .sql = sql,
              .sql_len = strlen(sql),
              .err = &err,
              .now_ns = T2016 + 3600LL * NS_PER_S};
    arena_init(&q.arena, 0);
    qstmt *st;
    qplan *plan;
    int rc = query__parse(sql, strlen(sql), &q.arena, &st, &err);
    if (rc == SILT_OK) rc = query__plan(&q, st, &plan);
    buf b = {0};
    if (rc == SILT_OK) query__plan_explain(plan, &b);
    buf_cstr(&b);
    if (q.have_tbl) ms->src.table_release(&ms->src, &q.tbl);
    arena_fini(&q.arena);
    if (rc != SILT_OK) fail_msg("%s: rc %d: %s", sql, rc, err.msg);
    if (strcmp((char *)b.p, want) != 0)
        fail_msg("%s\n--- got\n%s--- want\n%s", sql, (char *)b.p, want);
    buf_free(&b);
}

static void test_query_plan_shape(void **state) {
    check_plan(*state, "SELECT host FROM cpu WHERE usage > 1.5 ORDER BY time DESC LIMIT 5 OFFSET 2",
               "Limit: 5 offset 2\n"
               "  Sort: time DESC\n"
               "    Projection: host\n"
               "      Filter: usage > 1.5\n"
               "        Scan: cpu [host, usage, time]\n");
    check_plan(*state, "SELECT * FROM mem",
               "Projection: free, time\n"
               "  Scan: mem [free, time]\n");
    check_plan(*state, "SELECT count(*) FROM cpu",
               "Aggregate: count(*)\n"
               "  Scan: cpu [time]\n");
    check_plan(*state, "SELECT count(usage) AS n FROM cpu LIMIT 1",
               "Limit: 1 offset 0\n"
               "  Aggregate: n\n"
               "    Scan: cpu [usage]\n");
    check_plan(*state, "SHOW TABLES",
               "Values: 5 rows: table_catalog, table_schema, table_name, table_type\n");
    check_plan(*state,
               "SELECT table_name FROM information_schema.tables WHERE table_schema = 'iox'",
               "Projection: table_name\n"
               "  Filter: table_schema = 'iox'\n"
               "    Values: 5 rows: table_name, table_schema\n");
}

static void test_query_plan_not_pushed_to_leaves(void **state) {
    check_plan(*state, "SELECT id FROM cpu WHERE NOT (host = 'a' OR usage > 1)",
               "Projection: id\n"
               "  Filter: (host <> 'a' AND usage <= 1)\n"
               "    Scan: cpu [id, host, usage]\n");
    check_plan(*state, "SELECT id FROM cpu WHERE NOT (host = 'a' AND NOT ok AND usage IS NULL)",
               "Projection: id\n"
               "  Filter: (host <> 'a' OR ok = true OR usage IS NOT NULL)\n"
               "    Scan: cpu [id, host, ok, usage]\n");
    check_plan(*state, "SELECT id FROM cpu WHERE NOT NOT (count < 3)",
               "Projection: id\n"
               "  Filter: count < 3\n"
               "    Scan: cpu [id, count]\n");
}

static void test_query_plan_flattens_and_simplifies(void **state) {
    check_plan(*state,
               "SELECT id FROM cpu WHERE host = 'a' AND (count = 1 AND (usage = 2 AND 1 = 1))",
               "Projection: id\n"
               "  Filter: (host = 'a' AND count = 1 AND usage = 2)\n"
               "    Scan: cpu [id, host, count, usage]\n");
    check_plan(*state, "SELECT id FROM cpu WHERE 1 = 1",
               "Projection: id\n"
               "  Scan: cpu [id]\n");
    check_plan(*state, "SELECT id FROM cpu WHERE host = 'a' OR TRUE",
               "Projection: id\n"
               "  Scan: cpu [id, host]\n");
    /* a false predicate scans nothing: its time range is empty */
    check_plan(*state, "SELECT id FROM cpu WHERE host = 'a' AND 1 = 2",
               "Projection: id\n"
               "  Filter: false\n"
               "    Scan: cpu [id, host] time=[9223372036854775807, -9223372036854775808]\n");
    check_plan(*state, "SELECT id FROM cpu WHERE usage = NULL OR host = 'a'",
               "Projection: id\n"
               "  Filter: host = 'a'\n"
               "    Scan: cpu [id, host]\n");
}

static void test_query_plan_exact_numeric_rewrites(void **state) {
    mem_source *ms = *state;
    static const struct {
        const char *cond, *filter;
    } cases[] = {
        {"count > 1.5", "count > 1"},
        {"count >= 1.5", "count >= 2"},
        {"count < 1.5", "count < 2"},
        {"count <= 1.5", "count <= 1"},
        {"count <= -1.5", "count <= -2"},
        {"count > -1.5", "count > -2"},
        {"count = 2.0", "count = 2"},
        {"count = 1.5", "false"},
        {"count <> 1.5", "count IS NOT NULL"},
        {"count < 1e19", "count IS NOT NULL"},
        {"count > 18446744073709551615", "false"},
        {"big > -1", "big IS NOT NULL"},
        {"big < -1", "false"},
        {"big <= 2.5", "big <= 2"},
        {"big = 3", "big = 3"},
        {"usage = 2", "usage = 2"},
        {"usage < 9007199254740993", "usage < 9007199254740993"},
        {"time > '2016-01-01T00:00:00Z'", "time > 1451606400000000000"},
        {"time > now() - INTERVAL '1 hour'", "time > 1451606400000000000"},
        {"time >= TIMESTAMP '2016-01-01T01:00:00+01:00'", "time >= 1451606400000000000"},
        {"time < 18446744073709551615", "time IS NOT NULL"},
        {"count = -9223372036854775808", "count = -9223372036854775808"},
        {"count = - - 3", "count = 3"},
        {"count = 9223372036854775807 + 1 - 1", "count = 9223372036854775807"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT id FROM cpu WHERE %s", cases[i].cond);
        silt_err err = {0};
        qctx q = {.src = &ms->src,
                  .db = "db",
                  .sql = sql,
                  .sql_len = strlen(sql),
                  .err = &err,
                  .now_ns = T2016 + 3600LL * NS_PER_S};
        arena_init(&q.arena, 0);
        qstmt *st;
        qplan *plan;
        assert_int_equal(query__parse(sql, strlen(sql), &q.arena, &st, &err), SILT_OK);
        int rc = query__plan(&q, st, &plan);
        if (rc != SILT_OK) fail_msg("%s: %s", sql, err.msg);
        buf b = {0};
        query__plan_explain(plan, &b);
        char want[200];
        snprintf(want, sizeof want, "Filter: %s\n", cases[i].filter);
        buf_cstr(&b);
        if (!strstr((char *)b.p, want)) fail_msg("%s\n%s--- want %s", sql, (char *)b.p, want);
        buf_free(&b);
        ms->src.table_release(&ms->src, &q.tbl);
        arena_fini(&q.arena);
    }
}

static void test_query_plan_time_range_extraction(void **state) {
    check_plan(*state, "SELECT id FROM cpu WHERE time >= 10 AND time < 20",
               "Projection: id\n"
               "  Filter: (time >= 10 AND time < 20)\n"
               "    Scan: cpu [id, time] time=[10, 19]\n");
    check_plan(*state, "SELECT id FROM cpu WHERE (time > 10 AND time <= 20) OR time = 50",
               "Projection: id\n"
               "  Filter: ((time > 10 AND time <= 20) OR time = 50)\n"
               "    Scan: cpu [id, time] time=[11, 50]\n");
    check_plan(*state, "SELECT id FROM cpu WHERE NOT (time < 100) AND host = 'a'",
               "Projection: id\n"
               "  Filter: (time >= 100 AND host = 'a')\n"
               "    Scan: cpu [id, time, host] time=[100, 9223372036854775807]\n");
    check_plan(*state, "SELECT id FROM cpu WHERE time > 100 OR host = 'a'",
               "Projection: id\n"
               "  Filter: (time > 100 OR host = 'a')\n"
               "    Scan: cpu [id, time, host]\n");
    check_plan(*state, "SELECT id FROM cpu WHERE time > 9223372036854775807",
               "Projection: id\n"
               "  Filter: time > 9223372036854775807\n"
               "    Scan: cpu [id, time] time=[9223372036854775807, -9223372036854775808]\n");
}

static void test_query_num_cmp_exact(void **state) {
    (void)state;
    qval i = {.type = QT_INT}, u = {.type = QT_UINT}, f = {.type = QT_FLOAT};
    i.v.i = -1;
    u.v.u = UINT64_MAX;
    assert_int_equal(query__num_cmp(&i, &u), -1);
    assert_int_equal(query__num_cmp(&u, &i), 1);
    i.v.i = INT64_MAX;
    f.v.f = 0x1p63;
    assert_int_equal(query__num_cmp(&i, &f), -1); /* 2^63-1 < 2^63, though (double)i == 2^63 */
    assert_int_equal(query__num_cmp(&f, &i), 1);
    u.v.u = UINT64_MAX;
    f.v.f = 0x1p64;
    assert_int_equal(query__num_cmp(&u, &f), -1);
    i.v.i = 9007199254740993LL;
    f.v.f = 9007199254740992.0;
    assert_int_equal(query__num_cmp(&i, &f), 1);
    f.v.f = -0.5;
    i.v.i = 0;
    assert_int_equal(query__num_cmp(&f, &i), -1);
    f.v.f = 0.0 / 0.0;
    assert_int_equal(query__num_cmp(&f, &i), 2);
    assert_int_equal(query__cmp_f64_i64(-1.5, -1), -1);
    assert_int_equal(query__cmp_f64_i64(-0x1p63, INT64_MIN), 0);
    assert_int_equal(query__cmp_f64_i64(-0x1p64, INT64_MIN), -1);
    assert_int_equal(query__cmp_f64_u64(1.5, 1), 1);
    assert_int_equal(query__cmp_f64_u64(-0.0, 0), 0);
    assert_int_equal(query__cmp_f64_u64(0x1p64, UINT64_MAX), 1);
}

static void test_query_plan_aggregate_shape(void **state) {
    /* GROUP BY keys (an ordinal resolved to date_bin), HAVING as a filter above the
     * aggregate, an aggregate only HAVING needs, ORDER BY an alias, top-N with LIMIT */
    check_plan(*state,
               "SELECT date_bin(INTERVAL '1 hour', time) AS h, host, avg(usage) FROM cpu WHERE "
               "host = 'a' GROUP BY 1, 2 HAVING count(*) > 1 ORDER BY 1 DESC LIMIT 3",
               "Limit: 3 offset 0\n"
               "  Sort: h DESC\n"
               "    Projection: h, host, avg(cpu.usage)\n"
               "      Filter: count(*) > Int64(1)\n"
               "        Aggregate: date_bin(INTERVAL '1 hour',cpu.time), host, avg(cpu.usage), "
               "count(*) group by [date_bin(INTERVAL '1 hour',cpu.time), host]\n"
               "          Filter: host = 'a'\n"
               "            Scan: cpu [time, host, usage]\n");
    check_plan(*state, "SELECT DISTINCT host FROM cpu ORDER BY host",
               "Sort: host ASC\n"
               "  Distinct: host\n"
               "    Projection: host\n"
               "      Scan: cpu [host]\n");
    /* a projection that only renames the aggregate's columns is left out */
    check_plan(*state, "SELECT host AS h, max(usage) AS m FROM cpu GROUP BY host",
               "Aggregate: h, m group by [h]\n"
               "  Scan: cpu [host, usage]\n");
    /* an ORDER BY key that is not selected is a hidden column of the projection */
    check_plan(*state,
               "SELECT upper(host) AS u FROM cpu GROUP BY host ORDER BY max(count) NULLS FIRST",
               "Sort: max(cpu.count) ASC NULLS FIRST\n"
               "  Projection: u\n"
               "    Aggregate: host, max(cpu.count) group by [host]\n"
               "      Scan: cpu [host, count]\n");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_plan_shape),
        cmocka_unit_test(test_query_plan_aggregate_shape),
        cmocka_unit_test(test_query_plan_not_pushed_to_leaves),
        cmocka_unit_test(test_query_plan_flattens_and_simplifies),
        cmocka_unit_test(test_query_plan_exact_numeric_rewrites),
        cmocka_unit_test(test_query_plan_time_range_extraction),
        cmocka_unit_test(test_query_num_cmp_exact),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
