/* SPDX-License-Identifier: MIT
 *
 * InfluxQL front end: a table of valid queries with their canonical printed form, a table of
 * invalid ones with InfluxDB's exact error message and position, the parse -> print -> parse
 * round trip over every valid query, the AST of each statement kind (the benchmark queries
 * in detail), the nesting and size bounds, and the lexer and literal helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "query/influxql.h"

typedef struct parsed {
    arena a;
    iql_query q;
    silt_err err;
    int rc;
} parsed;

static void parse_n(parsed *p, const char *q, size_t n) {
    memset(p, 0, sizeof *p);
    arena_init(&p->a, 0);
    p->rc = influxql_parse(q, n, &p->a, &p->q, &p->err);
}

static void parse(parsed *p, const char *q) {
    parse_n(p, q, strlen(q));
}

static void done(parsed *p) {
    arena_fini(&p->a);
}

/* Parse q (must succeed) and return its printed form in *out (caller frees). */
static void print_of(const char *q, size_t n, buf *out) {
    parsed p;
    parse_n(&p, q, n);
    if (p.rc != SILT_OK) fail_msg("query: %.*s\n  rc %d: %s", (int)n, q, p.rc, p.err.msg);
    influxql_print_query(&p.q, out);
    done(&p);
}

static const iql_select *select_of(const parsed *p) {
    assert_int_equal(p->rc, SILT_OK);
    assert_int_equal(p->q.n_stmts, 1);
    assert_int_equal(p->q.stmts[0]->kind, IQL_STMT_SELECT);
    return p->q.stmts[0]->u.select;
}

static bool sv_is(str_view s, const char *c) {
    return sv_eq_cstr(s, c);
}

/* ------------------------------------------------------------------ the tables */

static const struct {
    const char *q, *printed;
} valid_cases[] = {
    {"SELECT max(usage_user) FROM cpu WHERE hostname='host_3' AND time >= '2016-01-01T00:00:00Z' "
     "AND time < '2016-01-01T12:00:00Z' GROUP BY time(1m)",
     "SELECT max(usage_user) FROM cpu WHERE hostname = 'host_3' AND time >= '2016-01-01T00:00:00Z' "
     "AND time < '2016-01-01T12:00:00Z' GROUP BY time(1m)"},
    {"SELECT mean(usage_user), mean(usage_system), mean(usage_idle) FROM cpu WHERE time >= "
     "'2016-01-01T00:00:00Z' AND time < '2016-01-02T00:00:00Z' GROUP BY time(1h), \"hostname\"",
     "SELECT mean(usage_user), mean(usage_system), mean(usage_idle) FROM cpu WHERE time >= "
     "'2016-01-01T00:00:00Z' AND time < '2016-01-02T00:00:00Z' GROUP BY time(1h), hostname"},
    {"SELECT * FROM cpu GROUP BY \"hostname\" ORDER BY time DESC LIMIT 1",
     "SELECT * FROM cpu GROUP BY hostname ORDER BY time DESC LIMIT 1"},
    {"SELECT count(*) FROM cpu", "SELECT count(*) FROM cpu"},
    {"select a from b", "SELECT a FROM b"},
    {"SeLeCt a FrOm b WhErE c = 1", "SELECT a FROM b WHERE c = 1"},
    {"SELECT a FROM b;", "SELECT a FROM b"},
    {";;SELECT a FROM b;;", "SELECT a FROM b"},
    {"select a from b; select c from d;;", "SELECT a FROM b; SELECT c FROM d"},
    {"SELECT a, b, c FROM m", "SELECT a, b, c FROM m"},
    {"SELECT a AS x, b AS \"y z\", c AS \"select\" FROM m",
     "SELECT a AS x, b AS \"y z\", c AS \"select\" FROM m"},
    {"SELECT * FROM \"my m\"", "SELECT * FROM \"my m\""},
    {"SELECT * FROM \"db\"..\"cpu\"", "SELECT * FROM db..cpu"},
    {"SELECT * FROM db.rp.cpu", "SELECT * FROM db.rp.cpu"},
    {"SELECT * FROM rp.cpu", "SELECT * FROM rp.cpu"},
    {"SELECT * FROM /cp.*/", "SELECT * FROM /cp.*/"},
    {"SELECT * FROM db../x\\/y/", "SELECT * FROM db../x\\/y/"},
    {"SELECT * FROM db.rp./^c/", "SELECT * FROM db.rp./^c/"},
    {"SELECT * FROM a, b, /c/", "SELECT * FROM a, b, /c/"},
    {"SELECT * FROM \"a.b\"", "SELECT * FROM \"a.b\""},
    {"SELECT * FROM \"1m\"", "SELECT * FROM \"1m\""},
    {"SELECT * FROM _private9", "SELECT * FROM _private9"},
    {"SELECT a + b * c - (d - e) / 2 % 3 FROM m", "SELECT a + b * c - (d - e) / 2 % 3 FROM m"},
    {"SELECT (a + b) * c FROM m", "SELECT (a + b) * c FROM m"},
    {"SELECT a * (b + c) FROM m", "SELECT a * (b + c) FROM m"},
    {"SELECT a - (b - c), (a - b) - c, a / (b / c), a / b / c FROM m",
     "SELECT a - (b - c), a - b - c, a / (b / c), a / b / c FROM m"},
    {"SELECT a & b | c ^ d, a | (b & c), (a | b) & c FROM m",
     "SELECT a & b | c ^ d, a | b & c, (a | b) & c FROM m"},
    {"SELECT (((a))) FROM m", "SELECT a FROM m"},
    {"SELECT -a FROM m", "SELECT -a FROM m"},
    {"SELECT -(a + b) FROM m", "SELECT -(a + b) FROM m"},
    {"SELECT - -5 FROM m", "SELECT 5 FROM m"},
    {"SELECT -5, -1.5, -10m FROM m", "SELECT -5, -1.5, -10m FROM m"},
    {"SELECT +5, +a FROM m", "SELECT 5, a FROM m"},
    {"SELECT a - -5 FROM m", "SELECT a - -5 FROM m"},
    {"SELECT a * -b FROM m", "SELECT a * -b FROM m"},
    {"SELECT -(-a) FROM m", "SELECT - -a FROM m"},
    {"SELECT -mean(x) FROM m", "SELECT -mean(x) FROM m"},
    {"SELECT 1h30m, 90m, 1500ms, 10u, 10µ, 7d, 14d, 10ns, 1000ns, 1000u, 60s, 24h, 0s FROM m",
     "SELECT 90m, 90m, 1500ms, 10u, 10u, 1w, 2w, 10ns, 1u, 1ms, 1m, 1d, 0s FROM m"},
    {"SELECT 1w2d FROM m", "SELECT 9d FROM m"},
    {"SELECT 3600000ms FROM m", "SELECT 1h FROM m"},
    {"SELECT 1.0, 0.5, .5, 100.25, 0.1, 0.000001 FROM m",
     "SELECT 1.0, 0.5, 0.5, 100.25, 0.1, 0.000001 FROM m"},
    {"SELECT 9223372036854775807, 9223372036854775808, -9223372036854775808 FROM m",
     "SELECT 9223372036854775807, 9223372036854775808, -9223372036854775808 FROM m"},
    {"SELECT 18446744073709551615 FROM m", "SELECT 18446744073709551615 FROM m"},
    {"SELECT 007 FROM m", "SELECT 7 FROM m"},
    {"SELECT 1.7976931348623157 FROM m", "SELECT 1.7976931348623157 FROM m"},
    {"SELECT true, false, TRUE, False FROM m", "SELECT true, false, true, false FROM m"},
    {"SELECT 'it\\'s', 'a\\\\b', 'line\\nnext', 'say \"hi\"', '' FROM m",
     "SELECT 'it\\'s', 'a\\\\b', 'line\\nnext', 'say \"hi\"', '' FROM m"},
    {"SELECT \"select\", \"a b\", \"a\\\"b\", \"a\\\\b\", \"from\", \"\" FROM \"from\"",
     "SELECT \"select\", \"a b\", \"a\\\"b\", \"a\\\\b\", \"from\", \"\" FROM \"from\""},
    {"SELECT \"tab\tin\", \"é\" FROM m", "SELECT \"tab\tin\", \"é\" FROM m"},
    {"SELECT x::float, y::integer, z::unsigned, s::string, b::boolean, t::tag, f::field FROM m",
     "SELECT x::float, y::integer, z::unsigned, s::string, b::boolean, t::tag, f::field FROM m"},
    {"SELECT X::FLOAT FROM m", "SELECT X::float FROM m"},
    {"SELECT *::field, *::tag FROM m", "SELECT *::field, *::tag FROM m"},
    {"SELECT a.b FROM m", "SELECT \"a.b\" FROM m"},
    {"SELECT \"a\".\"b\" FROM m", "SELECT \"a.b\" FROM m"},
    {"SELECT /usage/ FROM cpu", "SELECT /usage/ FROM cpu"},
    {"SELECT /usage/, host FROM cpu", "SELECT /usage/, host FROM cpu"},
    {"SELECT mean(/usage/) FROM cpu", "SELECT mean(/usage/) FROM cpu"},
    {"SELECT percentile(x, 95) FROM m", "SELECT percentile(x, 95) FROM m"},
    {"SELECT count(distinct(host)) FROM m", "SELECT count(distinct(host)) FROM m"},
    {"SELECT count(DISTINCT host) FROM m", "SELECT count(DISTINCT host) FROM m"},
    {"SELECT DISTINCT host FROM m", "SELECT DISTINCT host FROM m"},
    {"SELECT distinct(host) FROM m", "SELECT distinct(host) FROM m"},
    {"SELECT top(x, 3), bottom(x, host, 2) FROM m", "SELECT top(x, 3), bottom(x, host, 2) FROM m"},
    {"SELECT integral(x), integral(x, 1s) FROM m", "SELECT integral(x), integral(x, 1s) FROM m"},
    {"SELECT derivative(mean(x), 1s) FROM m GROUP BY time(1m)",
     "SELECT derivative(mean(x), 1s) FROM m GROUP BY time(1m)"},
    {"SELECT non_negative_derivative(max(x), 10s) FROM m GROUP BY time(1m)",
     "SELECT non_negative_derivative(max(x), 10s) FROM m GROUP BY time(1m)"},
    {"SELECT median(x), mode(x), spread(x), stddev(x), min(x), max(x), first(x), last(x), sum(x) "
     "FROM m",
     "SELECT median(x), mode(x), spread(x), stddev(x), min(x), max(x), first(x), last(x), sum(x) "
     "FROM m"},
    {"SELECT MEAN(x), Count(*) FROM m", "SELECT mean(x), count(*) FROM m"},
    {"SELECT moving_average(mean(x), 3) FROM m GROUP BY time(1m)",
     "SELECT moving_average(mean(x), 3) FROM m GROUP BY time(1m)"},
    {"SELECT now() FROM m", "SELECT now() FROM m"},
    {"SELECT f() FROM m", "SELECT f() FROM m"},
    {"SELECT \"my fn\"(x) FROM m", "SELECT \"my fn\"(x) FROM m"},
    {"SELECT a FROM m WHERE time >= now() - 1h", "SELECT a FROM m WHERE time >= now() - 1h"},
    {"SELECT a FROM m WHERE time > now() - 1h30m AND time < now()",
     "SELECT a FROM m WHERE time > now() - 90m AND time < now()"},
    {"SELECT a FROM m WHERE time > '2016-01-01T00:00:00Z'",
     "SELECT a FROM m WHERE time > '2016-01-01T00:00:00Z'"},
    {"SELECT a FROM m WHERE time < 1451606400000000000",
     "SELECT a FROM m WHERE time < 1451606400000000000"},
    {"SELECT a FROM m WHERE time > 1451606400s", "SELECT a FROM m WHERE time > 16801d"},
    {"SELECT a FROM m WHERE host = 'a' OR host = 'b'",
     "SELECT a FROM m WHERE host = 'a' OR host = 'b'"},
    {"SELECT a FROM m WHERE (host = 'a' OR host = 'b') AND x > 1",
     "SELECT a FROM m WHERE (host = 'a' OR host = 'b') AND x > 1"},
    {"SELECT a FROM m WHERE host = 'a' OR host = 'b' AND x > 1",
     "SELECT a FROM m WHERE host = 'a' OR host = 'b' AND x > 1"},
    {"SELECT a FROM m WHERE (a OR b) AND c OR (d AND e)",
     "SELECT a FROM m WHERE (a OR b) AND c OR d AND e"},
    {"SELECT a FROM m WHERE a AND (b AND c)", "SELECT a FROM m WHERE a AND b AND c"},
    {"SELECT a FROM m WHERE a OR (b OR c)", "SELECT a FROM m WHERE a OR b OR c"},
    {"SELECT a FROM m WHERE (a AND b) OR (c AND d)", "SELECT a FROM m WHERE a AND b OR c AND d"},
    {"SELECT a FROM m WHERE a AND (b OR c) AND d", "SELECT a FROM m WHERE a AND (b OR c) AND d"},
    {"SELECT a FROM m WHERE x =~ /fo\\/o/ AND y !~ /bar/",
     "SELECT a FROM m WHERE x =~ /fo\\/o/ AND y !~ /bar/"},
    {"SELECT a FROM m WHERE x =~ /a\\.b\\\\/", "SELECT a FROM m WHERE x =~ /a\\.b\\\\/"},
    {"SELECT a FROM m WHERE x =~ //", "SELECT a FROM m WHERE x =~ //"},
    {"SELECT a FROM m WHERE x =~ /a b/ AND y = 1", "SELECT a FROM m WHERE x =~ /a b/ AND y = 1"},
    {"SELECT a FROM m WHERE a = 1 = 2", "SELECT a FROM m WHERE a = 1 = 2"},
    {"SELECT a FROM m WHERE (a = 1) = 2", "SELECT a FROM m WHERE a = 1 = 2"},
    {"SELECT a FROM m WHERE a = (1 = 2)", "SELECT a FROM m WHERE a = (1 = 2)"},
    {"SELECT a FROM m WHERE a <> b AND a != c", "SELECT a FROM m WHERE a != b AND a != c"},
    {"SELECT a FROM m WHERE a < 1 AND a <= 2 AND a > 3 AND a >= 4",
     "SELECT a FROM m WHERE a < 1 AND a <= 2 AND a > 3 AND a >= 4"},
    {"SELECT a FROM m WHERE b = true", "SELECT a FROM m WHERE b = true"},
    {"SELECT a FROM m WHERE b", "SELECT a FROM m WHERE b"},
    {"SELECT a FROM m WHERE c = $param AND d = $\"my param\" AND e = $select",
     "SELECT a FROM m WHERE c = $param AND d = $\"my param\" AND e = $select"},
    {"SELECT a FROM m WHERE host = 'a' -- trailing comment", "SELECT a FROM m WHERE host = 'a'"},
    {"/* leading */ SELECT /* inner */ a FROM m", "SELECT a FROM m"},
    {"SELECT a FROM m -- one", "SELECT a FROM m"},
    {"SELECT mean(x) FROM cpu GROUP BY time(10m)", "SELECT mean(x) FROM cpu GROUP BY time(10m)"},
    {"SELECT mean(x) FROM cpu GROUP BY time(10m, 5m)",
     "SELECT mean(x) FROM cpu GROUP BY time(10m, 5m)"},
    {"SELECT mean(x) FROM cpu GROUP BY time(10m, -5m)",
     "SELECT mean(x) FROM cpu GROUP BY time(10m, -5m)"},
    {"SELECT mean(x) FROM cpu GROUP BY time(1h, 0s)",
     "SELECT mean(x) FROM cpu GROUP BY time(1h, 0s)"},
    {"SELECT mean(x) FROM cpu GROUP BY time(60m)", "SELECT mean(x) FROM cpu GROUP BY time(1h)"},
    {"SELECT mean(x) FROM cpu GROUP BY host, region",
     "SELECT mean(x) FROM cpu GROUP BY host, region"},
    {"SELECT mean(x) FROM cpu GROUP BY *", "SELECT mean(x) FROM cpu GROUP BY *"},
    {"SELECT mean(x) FROM cpu GROUP BY /ho/", "SELECT mean(x) FROM cpu GROUP BY /ho/"},
    {"SELECT mean(x) FROM cpu GROUP BY \"time zone\", time(1d)",
     "SELECT mean(x) FROM cpu GROUP BY \"time zone\", time(1d)"},
    {"SELECT mean(x) FROM cpu GROUP BY host::tag", "SELECT mean(x) FROM cpu GROUP BY host"},
    {"SELECT mean(x) FROM cpu GROUP BY time(10m) fill(null)",
     "SELECT mean(x) FROM cpu GROUP BY time(10m)"},
    {"SELECT mean(x) FROM cpu GROUP BY time(10m) fill(none)",
     "SELECT mean(x) FROM cpu GROUP BY time(10m) fill(none)"},
    {"SELECT mean(x) FROM cpu GROUP BY time(10m) fill(previous)",
     "SELECT mean(x) FROM cpu GROUP BY time(10m) fill(previous)"},
    {"SELECT mean(x) FROM cpu GROUP BY time(10m) fill(linear)",
     "SELECT mean(x) FROM cpu GROUP BY time(10m) fill(linear)"},
    {"SELECT mean(x) FROM cpu GROUP BY time(10m) fill(0)",
     "SELECT mean(x) FROM cpu GROUP BY time(10m) fill(0)"},
    {"SELECT mean(x) FROM cpu GROUP BY time(10m) fill(-1)",
     "SELECT mean(x) FROM cpu GROUP BY time(10m) fill(-1)"},
    {"SELECT mean(x) FROM cpu GROUP BY time(10m) fill(-1.5)",
     "SELECT mean(x) FROM cpu GROUP BY time(10m) fill(-1.5)"},
    {"SELECT mean(x) FROM cpu GROUP BY time(10m) fill(100.25)",
     "SELECT mean(x) FROM cpu GROUP BY time(10m) fill(100.25)"},
    {"SELECT a FROM b fill(1) LIMIT 2", "SELECT a FROM b fill(1) LIMIT 2"},
    {"SELECT a FROM b ORDER BY time", "SELECT a FROM b ORDER BY time ASC"},
    {"SELECT a FROM b ORDER BY time ASC", "SELECT a FROM b ORDER BY time ASC"},
    {"SELECT a FROM b ORDER BY time desc", "SELECT a FROM b ORDER BY time DESC"},
    {"SELECT a FROM b ORDER BY DESC", "SELECT a FROM b ORDER BY time DESC"},
    {"SELECT a FROM b ORDER BY \"time\" DESC", "SELECT a FROM b ORDER BY time DESC"},
    {"SELECT a FROM b LIMIT 10 OFFSET 5", "SELECT a FROM b LIMIT 10 OFFSET 5"},
    {"SELECT a FROM b SLIMIT 2 SOFFSET 1", "SELECT a FROM b SLIMIT 2 SOFFSET 1"},
    {"SELECT a FROM b LIMIT 0", "SELECT a FROM b"},
    {"SELECT a FROM b LIMIT 10 OFFSET 0", "SELECT a FROM b LIMIT 10"},
    {"SELECT a FROM b tz('America/Chicago')", "SELECT a FROM b tz('America/Chicago')"},
    {"SELECT a FROM b TZ('UTC')", "SELECT a FROM b tz('UTC')"},
    {"SELECT mean(/usage/) FROM cpu WHERE time > now() - 1d GROUP BY time(10m, -5m), *, /ho/ "
     "fill(previous) ORDER BY time ASC LIMIT 10 OFFSET 5 SLIMIT 2 SOFFSET 1 tz('America/Chicago')",
     "SELECT mean(/usage/) FROM cpu WHERE time > now() - 1d GROUP BY time(10m, -5m), *, /ho/ "
     "fill(previous) ORDER BY time ASC LIMIT 10 OFFSET 5 SLIMIT 2 SOFFSET 1 tz('America/Chicago')"},
    {"SELECT mean(x) FROM (SELECT max(y) AS x FROM cpu GROUP BY time(1m)) GROUP BY time(1h)",
     "SELECT mean(x) FROM (SELECT max(y) AS x FROM cpu GROUP BY time(1m)) GROUP BY time(1h)"},
    {"SELECT a FROM (SELECT a FROM (SELECT a FROM b))",
     "SELECT a FROM (SELECT a FROM (SELECT a FROM b))"},
    {"SELECT a FROM b, (SELECT c FROM d)", "SELECT a FROM b, (SELECT c FROM d)"},
    {"SHOW DATABASES", "SHOW DATABASES"},
    {"show databases", "SHOW DATABASES"},
    {"SHOW MEASUREMENTS", "SHOW MEASUREMENTS"},
    {"SHOW MEASUREMENTS ON db", "SHOW MEASUREMENTS ON db"},
    {"SHOW MEASUREMENTS ON db WITH MEASUREMENT =~ /cpu.*/ WHERE host = 'a' LIMIT 5 OFFSET 2",
     "SHOW MEASUREMENTS ON db WITH MEASUREMENT =~ /cpu.*/ WHERE host = 'a' LIMIT 5 OFFSET 2"},
    {"SHOW MEASUREMENTS WITH MEASUREMENT = cpu", "SHOW MEASUREMENTS WITH MEASUREMENT = cpu"},
    {"SHOW MEASUREMENTS WITH MEASUREMENT = \"my m\"",
     "SHOW MEASUREMENTS WITH MEASUREMENT = \"my m\""},
    {"SHOW MEASUREMENTS WITH MEASUREMENT = /x/", "SHOW MEASUREMENTS WITH MEASUREMENT =~ /x/"},
    {"SHOW TAG KEYS", "SHOW TAG KEYS"},
    {"SHOW TAG KEYS ON db FROM cpu WHERE a = 'b' LIMIT 1 OFFSET 2",
     "SHOW TAG KEYS ON db FROM cpu WHERE a = 'b' LIMIT 1 OFFSET 2"},
    {"SHOW TAG KEYS FROM cpu, /mem.*/", "SHOW TAG KEYS FROM cpu, /mem.*/"},
    {"SHOW TAG VALUES WITH KEY = host", "SHOW TAG VALUES WITH KEY = host"},
    {"SHOW TAG VALUES FROM cpu WITH KEY = host", "SHOW TAG VALUES FROM cpu WITH KEY = host"},
    {"SHOW TAG VALUES ON db FROM cpu WITH KEY IN (host, region) WHERE x = 'y' LIMIT 3 OFFSET 1",
     "SHOW TAG VALUES ON db FROM cpu WITH KEY IN (host, region) WHERE x = 'y' LIMIT 3 OFFSET 1"},
    {"SHOW TAG VALUES WITH KEY IN (\"host\")", "SHOW TAG VALUES WITH KEY IN (host)"},
    {"SHOW TAG VALUES WITH KEY =~ /h.*/", "SHOW TAG VALUES WITH KEY =~ /h.*/"},
    {"SHOW TAG VALUES WITH KEY !~ /h.*/", "SHOW TAG VALUES WITH KEY !~ /h.*/"},
    {"SHOW TAG VALUES WITH KEY != \"host\"", "SHOW TAG VALUES WITH KEY != host"},
    {"SHOW TAG VALUES WITH KEY = \"key\"", "SHOW TAG VALUES WITH KEY = \"key\""},
    {"SHOW FIELD KEYS", "SHOW FIELD KEYS"},
    {"SHOW FIELD KEYS ON db FROM cpu", "SHOW FIELD KEYS ON db FROM cpu"},
    {"SHOW FIELD KEYS FROM cpu LIMIT 5 OFFSET 1", "SHOW FIELD KEYS FROM cpu LIMIT 5 OFFSET 1"},
    {"SHOW SERIES", "SHOW SERIES"},
    {"SHOW SERIES ON db FROM cpu WHERE host = 'a' LIMIT 10 OFFSET 3",
     "SHOW SERIES ON db FROM cpu WHERE host = 'a' LIMIT 10 OFFSET 3"},
    {"SHOW RETENTION POLICIES", "SHOW RETENTION POLICIES"},
    {"SHOW RETENTION POLICIES ON \"my db\"", "SHOW RETENTION POLICIES ON \"my db\""},
    {"CREATE DATABASE foo", "CREATE DATABASE foo"},
    {"CREATE DATABASE \"my db\"", "CREATE DATABASE \"my db\""},
    {"CREATE DATABASE foo WITH DURATION 7d REPLICATION 1 SHARD DURATION 1h NAME myrp",
     "CREATE DATABASE foo WITH DURATION 1w REPLICATION 1 SHARD DURATION 1h NAME myrp"},
    {"CREATE DATABASE foo WITH DURATION INF", "CREATE DATABASE foo WITH DURATION INF"},
    {"CREATE DATABASE foo WITH DURATION 90m", "CREATE DATABASE foo WITH DURATION 90m"},
    {"CREATE DATABASE foo WITH REPLICATION 3", "CREATE DATABASE foo WITH REPLICATION 3"},
    {"CREATE DATABASE foo WITH SHARD DURATION 30m", "CREATE DATABASE foo WITH SHARD DURATION 30m"},
    {"CREATE DATABASE foo WITH SHARD DURATION INF NAME \"rp one\"",
     "CREATE DATABASE foo WITH SHARD DURATION INF NAME \"rp one\""},
    {"CREATE DATABASE foo WITH NAME rp", "CREATE DATABASE foo WITH NAME rp"},
    {"DROP DATABASE foo", "DROP DATABASE foo"},
    {"DROP DATABASE \"my db\"", "DROP DATABASE \"my db\""},
    {"DROP MEASUREMENT cpu", "DROP MEASUREMENT cpu"},
    {"DROP MEASUREMENT \"cpu load\"", "DROP MEASUREMENT \"cpu load\""},
    {"DROP SERIES FROM cpu", "DROP SERIES FROM cpu"},
    {"DROP SERIES WHERE host = 'a'", "DROP SERIES WHERE host = 'a'"},
    {"DROP SERIES FROM cpu, mem WHERE host = 'a'", "DROP SERIES FROM cpu, mem WHERE host = 'a'"},
    {"DELETE FROM cpu", "DELETE FROM cpu"},
    {"DELETE FROM cpu WHERE time < '2016-01-01'", "DELETE FROM cpu WHERE time < '2016-01-01'"},
    {"DELETE WHERE time < '2016-01-01'", "DELETE WHERE time < '2016-01-01'"},
    {"DELETE FROM /c.*/ WHERE host = 'x'", "DELETE FROM /c.*/ WHERE host = 'x'"},
    {"EXPLAIN SELECT a FROM b", "EXPLAIN SELECT a FROM b"},
    {"EXPLAIN ANALYZE SELECT count(*) FROM b", "EXPLAIN ANALYZE SELECT count(*) FROM b"},
    {"SHOW DATABASES; SHOW MEASUREMENTS; SELECT a FROM b",
     "SHOW DATABASES; SHOW MEASUREMENTS; SELECT a FROM b"},
    {"SELECT count(value) FROM \"telegraf\".\"autogen\".\"cpu\" WHERE \"host\" =~ /^(a|b)$/ AND "
     "time >= now() - 6h GROUP BY time(1m), \"host\" fill(null)",
     "SELECT count(value) FROM telegraf.autogen.cpu WHERE host =~ /^(a|b)$/ AND time >= now() - 6h "
     "GROUP BY time(1m), host"},

    /* the right side of =~ takes the tighter operators that follow the regex */
    {"SELECT a FROM m WHERE a =~ /x/ + 1 AND b !~ /y/ * 2",
     "SELECT a FROM m WHERE a =~ /x/ + 1 AND b !~ /y/ * 2"},
    {"SELECT - - - a, - -5, -(-5) FROM m", "SELECT - - -a, 5, 5 FROM m"},
    /* several lines; comments; empty queries */
    {"SELECT a\nFROM m\nWHERE b = 1", "SELECT a FROM m WHERE b = 1"},
    {"SELECT a -- the field\nFROM m /* the\nmeasurement */ LIMIT 1", "SELECT a FROM m LIMIT 1"},
    {"-- only a comment", ""},
    {"", ""},
    {" ;\n; ", ""},
};

static const struct {
    const char *q, *msg;
} error_cases[] = {
    {"SELECT FROM cpu", "found FROM, expected identifier, string, number, bool at line 1, char 8"},
    {"SELECT", "found EOF, expected identifier, string, number, bool at line 1, char 7"},
    {"SELECT a FROM", "found EOF, expected identifier at line 1, char 14"},
    {"SELECT a FROM b WHERE",
     "found EOF, expected identifier, string, number, bool at line 1, char 22"},
    {"SELECT a FROM b c", "found c, expected ; at line 1, char 17"},
    {"SELECT a FROM b; x",
     "found x, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN at line 1, char 18"},
    {"SELECT a FROM b INTO c", "found INTO, expected ; at line 1, char 17"},
    {"SELECT a INTO c FROM b", "SELECT INTO is not supported at line 1, char 10"},
    {"SELECT a b FROM c", "found b, expected FROM at line 1, char 10"},
    {"SELECT a, FROM b",
     "found FROM, expected identifier, string, number, bool at line 1, char 11"},
    {"SELECT a FROM b,", "found EOF, expected identifier at line 1, char 17"},
    {"SELECT a AS FROM b", "found FROM, expected identifier at line 1, char 13"},
    {"SELECT a AS 'x' FROM b", "found x, expected identifier at line 1, char 13"},
    {"SELECT a FROM 'b'", "found b, expected identifier at line 1, char 15"},
    {"SELECT a FROM b WHERE c =",
     "found EOF, expected identifier, string, number, bool at line 1, char 26"},
    {"SELECT a FROM b WHERE (c = 1", "found EOF, expected ) at line 1, char 29"},
    {"SELECT a FROM b WHERE c = 1)", "found ), expected ; at line 1, char 28"},
    {"SELECT a FROM b WHERE c =~ 'x'", "found x, expected regex at line 1, char 28"},
    {"SELECT a FROM b WHERE c !~ d", "found d, expected regex at line 1, char 28"},
    {"SELECT a FROM b WHERE c =~ /abc", "unterminated regex at line 1, char 28"},
    {"SELECT a FROM b WHERE c = /abc/",
     "found /, expected identifier, string, number, bool at line 1, char 27"},
    {"SELECT f(a FROM b", "found FROM, expected , or ) at line 1, char 12"},
    {"SELECT f(a,) FROM b",
     "found ), expected identifier, string, number, bool at line 1, char 12"},
    {"SELECT 'unterminated FROM b", "unterminated string at line 1, char 8"},
    {"SELECT \"unterminated FROM b", "unterminated identifier at line 1, char 8"},
    {"SELECT 'bad \\q' FROM b", "bad escape at line 1, char 13"},
    {"SELECT a FROM b /* unterminated", "unterminated comment at line 1, char 17"},
    {"SELECT 10x FROM b", "invalid duration at line 1, char 8"},
    {"SELECT 10us FROM b", "invalid duration at line 1, char 8"},
    {"SELECT 1h30 FROM b", "invalid duration at line 1, char 8"},
    {"SELECT 1e5 FROM m", "invalid duration at line 1, char 8"},
    {"SELECT 99999999999w FROM b",
     "overflowed duration 99999999999w: choose a smaller duration or INF at line 1, char 8"},
    {"SELECT 99999999999999999999 FROM b", "unable to parse integer at line 1, char 8"},
    {"SELECT -18446744073709551615 FROM b", "constant overflows int64 at line 1, char 8"},
    {"SELECT 1.5e5 FROM m", "found e5, expected FROM at line 1, char 11"},
    {"SELECT a FROM a.b.c.d", "too many segments in measurement name at line 1, char 15"},
    {"SELECT a FROM ..b", "found ., expected identifier at line 1, char 15"},
    {"SELECT a FROM b..", "found EOF, expected identifier at line 1, char 18"},
    {"SELECT a FROM b WHERE é = 1",
     "found é, expected identifier, string, number, bool at line 1, char 23"},
    {"SELECT a FROM b WHERE c ! d", "found !, expected ; at line 1, char 25"},
    {"SELECT a FROM b WHERE c = $",
     "found $, expected identifier, string, number, bool at line 1, char 27"},
    {"SELECT a::foo FROM b", "found foo, expected float, integer, unsigned, string, boolean, "
                             "field, tag at line 1, char 11"},
    {"SELECT a:: FROM b", "found FROM, expected float, integer, unsigned, string, boolean, field, "
                          "tag at line 1, char 12"},
    {"SELECT *::float FROM b", "found float, expected field, tag at line 1, char 11"},
    {"SELECT a: FROM b", "found :, expected FROM at line 1, char 9"},
    {"SELECT DISTINCT FROM b", "found FROM, expected (, identifier at line 1, char 17"},
    {"SELECT a FROM b LIMIT -1", "found -, expected integer at line 1, char 23"},
    {"SELECT a FROM b LIMIT x", "found x, expected integer at line 1, char 23"},
    {"SELECT a FROM b LIMIT 99999999999999999999", "unable to parse integer at line 1, char 23"},
    {"SELECT a FROM b OFFSET 1.5", "found 1.5, expected integer at line 1, char 24"},
    {"SELECT a FROM b tz(foo)", "found foo, expected string at line 1, char 20"},
    {"SELECT a FROM b tz('x'", "found EOF, expected ) at line 1, char 23"},
    {"SELECT a FROM b tz", "found EOF, expected ( at line 1, char 19"},
    {"SELECT a FROM b ORDER BY host",
     "only ORDER BY time supported at this time at line 1, char 26"},
    {"SELECT a FROM b ORDER BY time DESC, host",
     "only ORDER BY time supported at this time at line 1, char 35"},
    {"SELECT a FROM b ORDER time", "found time, expected BY at line 1, char 23"},
    {"SELECT a FROM b ORDER BY", "found EOF, expected identifier, ASC, DESC at line 1, char 25"},
    {"SELECT a FROM b GROUP time(1m)", "found time, expected BY at line 1, char 23"},
    {"SELECT a FROM b GROUP BY",
     "found EOF, expected identifier, string, number, bool at line 1, char 25"},
    {"SELECT a FROM b GROUP BY time(10m), time(1m)", "multiple time dimensions at line 1, char 37"},
    {"SELECT a FROM b GROUP BY time(10)",
     "time dimension must have duration argument at line 1, char 31"},
    {"SELECT a FROM b GROUP BY time()",
     "time dimension expected 1 or 2 arguments at line 1, char 26"},
    {"SELECT a FROM b GROUP BY time(1m, 1m, 1m)",
     "time dimension expected 1 or 2 arguments at line 1, char 26"},
    {"SELECT a FROM b GROUP BY time(10m, 1)",
     "time dimension offset must be duration at line 1, char 36"},
    {"SELECT a FROM b GROUP BY time(-10m)",
     "time dimension must have positive duration at line 1, char 31"},
    {"SELECT a FROM b GROUP BY time(0s)",
     "time dimension must have positive duration at line 1, char 31"},
    {"SELECT a FROM b GROUP BY a + b", "only time and tag dimensions allowed at line 1, char 26"},
    {"SELECT a FROM b GROUP BY 'host'", "only time and tag dimensions allowed at line 1, char 26"},
    {"SELECT a FROM b GROUP BY host::field",
     "only time and tag dimensions allowed at line 1, char 26"},
    {"SELECT a FROM b GROUP BY *::tag", "only time and tag dimensions allowed at line 1, char 26"},
    {"SELECT mean(x) FROM cpu GROUP BY time(10m) fill(foo)",
     "expected number argument in fill() at line 1, char 49"},
    {"SELECT mean(x) FROM cpu GROUP BY time(10m) fill()",
     "fill requires an argument, e.g.: 0, null, none, previous, linear at line 1, char 44"},
    {"SELECT mean(x) FROM cpu GROUP BY time(10m) fill(1, 2)",
     "fill requires an argument, e.g.: 0, null, none, previous, linear at line 1, char 44"},
    {"SELECT mean(x) FROM cpu GROUP BY time(10m) fill",
     "fill must be a function call at line 1, char 44"},
    {"SELECT mean(x) FROM cpu GROUP BY time(10m) fill(NULL)",
     "expected number argument in fill() at line 1, char 49"},
    {"SELECT mean(x) FROM cpu GROUP BY time(10m) fill('x')",
     "expected number argument in fill() at line 1, char 49"},
    {"SELECT a FROM (SHOW DATABASES)", "found SHOW, expected SELECT at line 1, char 16"},
    {"SELECT a FROM (SELECT b FROM c", "found EOF, expected ) at line 1, char 31"},
    {"SHOW", "found EOF, expected DATABASES, FIELD, MEASUREMENTS, RETENTION, SERIES, TAG at line "
             "1, char 5"},
    {"SHOW FOO", "found FOO, expected DATABASES, FIELD, MEASUREMENTS, RETENTION, SERIES, TAG at "
                 "line 1, char 6"},
    {"SHOW TAG", "found EOF, expected KEYS, VALUES at line 1, char 9"},
    {"SHOW TAG VALUES", "found EOF, expected WITH at line 1, char 16"},
    {"SHOW TAG VALUES FROM cpu", "found EOF, expected WITH at line 1, char 25"},
    {"SHOW TAG VALUES WITH host", "found host, expected KEY at line 1, char 22"},
    {"SHOW TAG VALUES WITH KEY host", "found host, expected =, !=, =~, !~, IN at line 1, char 26"},
    {"SHOW TAG VALUES WITH KEY = 'host'", "found host, expected identifier at line 1, char 28"},
    {"SHOW TAG VALUES WITH KEY =~ host", "found host, expected regex at line 1, char 29"},
    {"SHOW TAG VALUES WITH KEY IN host", "found host, expected ( at line 1, char 29"},
    {"SHOW TAG VALUES WITH KEY IN (host", "found EOF, expected ) at line 1, char 34"},
    {"SHOW TAG VALUES WITH KEY IN ()", "found ), expected identifier at line 1, char 30"},
    {"SHOW FIELD", "found EOF, expected KEYS at line 1, char 11"},
    {"SHOW FIELD KEYS WHERE a = 1", "found WHERE, expected ; at line 1, char 17"},
    {"SHOW MEASUREMENTS WITH", "found EOF, expected MEASUREMENT at line 1, char 23"},
    {"SHOW MEASUREMENTS WITH MEASUREMENT", "found EOF, expected =, =~ at line 1, char 35"},
    {"SHOW MEASUREMENTS WITH MEASUREMENT != cpu", "found !=, expected =, =~ at line 1, char 36"},
    {"SHOW MEASUREMENTS ON", "found EOF, expected identifier at line 1, char 21"},
    {"SHOW SERIES FROM (SELECT a FROM b)", "found (, expected identifier at line 1, char 18"},
    {"SHOW RETENTION", "found EOF, expected POLICIES at line 1, char 15"},
    {"SHOW RETENTION POLICIES ON", "found EOF, expected identifier at line 1, char 27"},
    {"SHOW DATABASES x", "found x, expected ; at line 1, char 16"},
    {"CREATE", "found EOF, expected DATABASE at line 1, char 7"},
    {"CREATE TABLE x", "found TABLE, expected DATABASE at line 1, char 8"},
    {"CREATE DATABASE", "found EOF, expected identifier at line 1, char 16"},
    {"CREATE DATABASE foo WITH",
     "found EOF, expected DURATION, REPLICATION, SHARD, NAME at line 1, char 25"},
    {"CREATE DATABASE foo WITH REPLICATION 0",
     "invalid value 0: must be 1 <= n <= 2147483647 at line 1, char 26"},
    {"CREATE DATABASE foo WITH DURATION", "found EOF, expected duration at line 1, char 34"},
    {"CREATE DATABASE foo WITH DURATION 10", "found 10, expected duration at line 1, char 35"},
    {"CREATE DATABASE foo WITH DURATION 10x", "invalid duration at line 1, char 35"},
    {"CREATE DATABASE foo WITH SHARD 1h", "found 1h, expected DURATION at line 1, char 32"},
    {"CREATE DATABASE foo WITH NAME", "found EOF, expected identifier at line 1, char 30"},
    {"CREATE DATABASE foo WITH NAME rp DURATION 1d",
     "found DURATION, expected ; at line 1, char 34"},
    {"DROP", "found EOF, expected DATABASE, MEASUREMENT, SERIES at line 1, char 5"},
    {"DROP TABLE x", "found TABLE, expected DATABASE, MEASUREMENT, SERIES at line 1, char 6"},
    {"DROP DATABASE", "found EOF, expected identifier at line 1, char 14"},
    {"DROP MEASUREMENT", "found EOF, expected identifier at line 1, char 17"},
    {"DROP SERIES", "found EOF, expected FROM, WHERE at line 1, char 12"},
    {"DROP SERIES LIMIT 1", "found LIMIT, expected FROM, WHERE at line 1, char 13"},
    {"DELETE", "found EOF, expected FROM, WHERE at line 1, char 7"},
    {"DELETE cpu", "found cpu, expected FROM, WHERE at line 1, char 8"},
    {"DELETE FROM", "found EOF, expected identifier at line 1, char 12"},
    {"EXPLAIN", "found EOF, expected SELECT at line 1, char 8"},
    {"EXPLAIN SHOW DATABASES", "found SHOW, expected SELECT at line 1, char 9"},
    {"EXPLAIN ANALYZE", "found EOF, expected SELECT at line 1, char 16"},
    {"FOO", "found FOO, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN at line 1, char 1"},
    {"42", "found 42, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN at line 1, char 1"},
    {"\"select\" a FROM b",
     "found select, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN at line 1, char 1"},
    {"SELECT 1 FROM b WHERE a = 1 AND",
     "found EOF, expected identifier, string, number, bool at line 1, char 32"},
    {"SELECT a FROM b WHERE a = 1 OR OR b = 2",
     "found OR, expected identifier, string, number, bool at line 1, char 32"},

    /* positions count lines and characters, not bytes */
    {"SELECT a\nFROM m\nWHERE",
     "found EOF, expected identifier, string, number, bool at line 3, char 6"},
    {"SELECT 'é', \"ü\" FROM m x", "found x, expected ; at line 1, char 24"},
    {"SELECT 'a\nb' FROM c", "unterminated string at line 1, char 8"},
    {"SELECT a FROM b\n  WHERE c = 1\n  LIMT 5", "found LIMT, expected ; at line 3, char 3"},
};

static void test_influxql_valid_queries_print_canonically(void **state) {
    (void)state;
    size_t n = sizeof valid_cases / sizeof valid_cases[0];
    for (size_t i = 0; i < n; i++) {
        buf b = {0};
        print_of(valid_cases[i].q, strlen(valid_cases[i].q), &b);
        const char *got = b.len ? buf_cstr(&b) : "";
        if (strcmp(got, valid_cases[i].printed) != 0)
            fail_msg("query: %s\n  printed:  %s\n  expected: %s", valid_cases[i].q, got,
                     valid_cases[i].printed);
        buf_free(&b);
    }
}

static void test_influxql_invalid_queries_fail_with_position(void **state) {
    (void)state;
    size_t n = sizeof error_cases / sizeof error_cases[0];
    for (size_t i = 0; i < n; i++) {
        parsed p;
        parse(&p, error_cases[i].q);
        if (p.rc != SILT_EPARSE || strcmp(p.err.msg, error_cases[i].msg) != 0)
            fail_msg("query: %s\n  rc %d, message: %s\n  expected:       %s", error_cases[i].q,
                     p.rc, p.err.msg, error_cases[i].msg);
        assert_int_equal(p.q.n_stmts, 0);
        assert_null(p.q.stmts);
        done(&p);
    }
}

/* parse(print(parse(q))) prints the same text, for every valid query of the table */
static void test_influxql_round_trip(void **state) {
    (void)state;
    size_t n = sizeof valid_cases / sizeof valid_cases[0];
    for (size_t i = 0; i < n; i++) {
        buf once = {0}, twice = {0};
        print_of(valid_cases[i].q, strlen(valid_cases[i].q), &once);
        print_of((const char *)once.p, once.len, &twice);
        if (once.len != twice.len || (once.len && memcmp(once.p, twice.p, once.len) != 0))
            fail_msg("query: %s\n  once:  %.*s\n  twice: %.*s", valid_cases[i].q, (int)once.len,
                     (const char *)once.p, (int)twice.len, (const char *)twice.p);
        buf_free(&once);
        buf_free(&twice);
    }
}

static void test_influxql_table_sizes(void **state) {
    (void)state;
    size_t n =
        sizeof valid_cases / sizeof valid_cases[0] + sizeof error_cases / sizeof error_cases[0];
    assert_true(n >= 150);
}

/* ------------------------------------------------------------------ ASTs */

static void test_influxql_benchmark_max_by_minute(void **state) {
    (void)state;
    parsed p;
    parse(&p, "SELECT max(usage_user) FROM cpu WHERE hostname='host_3' AND time >= "
              "'2016-01-01T00:00:00Z' AND time < '2016-01-01T12:00:00Z' GROUP BY time(1m)");
    const iql_select *s = select_of(&p);
    assert_int_equal(s->n_fields, 1);
    const iql_expr *f = s->fields[0].expr;
    assert_int_equal(f->kind, IQL_X_CALL);
    assert_true(sv_is(f->u.call.name, "max"));
    assert_int_equal(f->u.call.n_args, 1);
    assert_int_equal(f->u.call.args[0]->kind, IQL_X_VARREF);
    assert_true(sv_is(f->u.call.args[0]->u.ref.name, "usage_user"));
    assert_null(s->fields[0].alias.p);
    assert_int_equal(s->n_sources, 1);
    assert_int_equal(s->sources[0].kind, IQL_SRC_MEASUREMENT);
    assert_true(sv_is(s->sources[0].name, "cpu"));
    assert_int_equal(s->sources[0].db.n, 0);
    assert_int_equal(s->sources[0].rp.n, 0);
    /* WHERE: one flat AND of three comparisons */
    const iql_expr *w = s->where;
    assert_int_equal(w->kind, IQL_X_AND);
    assert_int_equal(w->u.list.n, 3);
    assert_int_equal(w->height, 3);
    const iql_expr *c0 = w->u.list.args[0];
    assert_int_equal(c0->kind, IQL_X_BINARY);
    assert_int_equal(c0->u.bin.op, IQL_OP_EQ);
    assert_true(sv_is(c0->u.bin.l->u.ref.name, "hostname"));
    assert_int_equal(c0->u.bin.r->kind, IQL_X_STRING);
    assert_true(sv_is(c0->u.bin.r->u.s, "host_3"));
    const iql_expr *c1 = w->u.list.args[1];
    assert_int_equal(c1->u.bin.op, IQL_OP_GTE);
    assert_true(sv_is(c1->u.bin.l->u.ref.name, "time"));
    int64_t t;
    assert_int_equal(influxql_time_literal(c1->u.bin.r->u.s, &t), SILT_OK);
    assert_int_equal(t, 1451606400LL * NS_PER_S);
    const iql_expr *c2 = w->u.list.args[2];
    assert_int_equal(c2->u.bin.op, IQL_OP_LT);
    assert_int_equal(influxql_time_literal(c2->u.bin.r->u.s, &t), SILT_OK);
    assert_int_equal(t, (1451606400LL + 12 * 3600) * NS_PER_S);
    /* GROUP BY time(1m) */
    assert_int_equal(s->n_dims, 1);
    assert_non_null(s->group_time);
    assert_ptr_equal(s->group_time, &s->dims[0]);
    assert_int_equal(s->group_time->kind, IQL_DIM_TIME);
    assert_int_equal(s->group_time->interval_ns, 60 * NS_PER_S);
    assert_false(s->group_time->has_offset);
    assert_int_equal(s->fill, IQL_FILL_NULL);
    assert_int_equal(s->order, IQL_ORDER_DEFAULT);
    assert_int_equal(s->limit, 0);
    assert_null(s->tz.p);
    /* positions are byte offsets */
    assert_int_equal(p.q.stmts[0]->pos, 0);
    assert_int_equal(f->pos, 7);
    assert_int_equal(s->sources[0].pos, 28);
    assert_int_equal(c0->pos, 38);
    done(&p);
}

static void test_influxql_benchmark_mean_by_hour_and_host(void **state) {
    (void)state;
    parsed p;
    parse(&p, "SELECT mean(usage_user), mean(usage_system), mean(usage_idle) FROM cpu WHERE "
              "time >= '2016-01-01T00:00:00Z' AND time < '2016-01-02T00:00:00Z' GROUP BY "
              "time(1h), \"hostname\"");
    const iql_select *s = select_of(&p);
    assert_int_equal(s->n_fields, 3);
    assert_true(sv_is(s->fields[2].expr->u.call.args[0]->u.ref.name, "usage_idle"));
    assert_int_equal(s->n_dims, 2);
    assert_int_equal(s->dims[0].kind, IQL_DIM_TIME);
    assert_int_equal(s->dims[0].interval_ns, 3600 * NS_PER_S);
    assert_ptr_equal(s->group_time, &s->dims[0]);
    assert_int_equal(s->dims[1].kind, IQL_DIM_TAG);
    assert_true(sv_is(s->dims[1].name, "hostname"));
    assert_int_equal(s->where->kind, IQL_X_AND);
    assert_int_equal(s->where->u.list.n, 2);
    done(&p);
}

static void test_influxql_benchmark_last_point_per_host(void **state) {
    (void)state;
    parsed p;
    parse(&p, "SELECT * FROM cpu GROUP BY \"hostname\" ORDER BY time DESC LIMIT 1");
    const iql_select *s = select_of(&p);
    assert_int_equal(s->n_fields, 1);
    assert_int_equal(s->fields[0].expr->kind, IQL_X_WILDCARD);
    assert_int_equal(s->fields[0].expr->u.wildcard, IQL_T_NONE);
    assert_null(s->where);
    assert_int_equal(s->n_dims, 1);
    assert_null(s->group_time);
    assert_int_equal(s->dims[0].kind, IQL_DIM_TAG);
    assert_int_equal(s->order, IQL_ORDER_DESC);
    assert_int_equal(s->limit, 1);
    assert_int_equal(s->offset, 0);
    done(&p);

    parse(&p, "SELECT count(*) FROM cpu");
    s = select_of(&p);
    const iql_expr *f = s->fields[0].expr;
    assert_true(sv_is(f->u.call.name, "count"));
    assert_int_equal(f->u.call.n_args, 1);
    assert_int_equal(f->u.call.args[0]->kind, IQL_X_WILDCARD);
    done(&p);
}

static void test_influxql_select_clauses(void **state) {
    (void)state;
    parsed p;
    parse(&p, "SELECT mean(\"value\") AS m, /usage/ FROM db.rp.cpu, \"db\"..mem, /^disk/, "
              "(SELECT max(x) AS value FROM y) WHERE host =~ /^a/ GROUP BY time(10m, -5m), *, "
              "/reg/ fill(-2.5) ORDER BY time ASC LIMIT 10 OFFSET 5 SLIMIT 2 SOFFSET 1 "
              "tz('Europe/Paris')");
    const iql_select *s = select_of(&p);
    assert_true(sv_is(s->fields[0].alias, "m"));
    assert_int_equal(s->fields[1].expr->kind, IQL_X_REGEX);
    assert_true(sv_is(s->fields[1].expr->u.s, "usage"));
    assert_int_equal(s->n_sources, 4);
    assert_true(sv_is(s->sources[0].db, "db"));
    assert_true(sv_is(s->sources[0].rp, "rp"));
    assert_true(sv_is(s->sources[0].name, "cpu"));
    assert_true(sv_is(s->sources[1].db, "db"));
    assert_int_equal(s->sources[1].rp.n, 0);
    assert_true(sv_is(s->sources[1].name, "mem"));
    assert_int_equal(s->sources[2].kind, IQL_SRC_REGEX);
    assert_true(sv_is(s->sources[2].name, "^disk"));
    assert_int_equal(s->sources[3].kind, IQL_SRC_SUBQUERY);
    assert_true(sv_is(s->sources[3].sub->fields[0].alias, "value"));
    assert_int_equal(s->where->u.bin.op, IQL_OP_EQREGEX);
    assert_int_equal(s->where->u.bin.r->kind, IQL_X_REGEX);
    assert_int_equal(s->n_dims, 3);
    assert_int_equal(s->group_time->interval_ns, 600 * NS_PER_S);
    assert_true(s->group_time->has_offset);
    assert_int_equal(s->group_time->offset_ns, -300 * NS_PER_S);
    assert_int_equal(s->dims[1].kind, IQL_DIM_WILDCARD);
    assert_int_equal(s->dims[2].kind, IQL_DIM_REGEX);
    assert_true(sv_is(s->dims[2].name, "reg"));
    assert_int_equal(s->fill, IQL_FILL_NUMBER);
    assert_int_equal(s->fill_value->kind, IQL_X_NUMBER);
    assert_true(s->fill_value->u.f == -2.5);
    assert_int_equal(s->order, IQL_ORDER_ASC);
    assert_int_equal(s->limit, 10);
    assert_int_equal(s->offset, 5);
    assert_int_equal(s->slimit, 2);
    assert_int_equal(s->soffset, 1);
    assert_true(sv_is(s->tz, "Europe/Paris"));
    done(&p);

    /* group_time stays valid when the dimension array grows */
    parse(&p, "SELECT a FROM b GROUP BY a, b, c, time(1s), d, e, f, g, h, i");
    s = select_of(&p);
    assert_int_equal(s->n_dims, 10);
    assert_ptr_equal(s->group_time, &s->dims[3]);
    assert_int_equal(s->group_time->interval_ns, NS_PER_S);
    done(&p);

    parse(&p, "SELECT a FROM b fill(none)");
    assert_int_equal(select_of(&p)->fill, IQL_FILL_NONE);
    done(&p);
    parse(&p, "SELECT a FROM b fill(previous)");
    assert_int_equal(select_of(&p)->fill, IQL_FILL_PREVIOUS);
    done(&p);
    parse(&p, "SELECT a FROM b fill(linear)");
    assert_int_equal(select_of(&p)->fill, IQL_FILL_LINEAR);
    done(&p);
    parse(&p, "SELECT a FROM b fill(7)");
    s = select_of(&p);
    assert_int_equal(s->fill, IQL_FILL_NUMBER);
    assert_int_equal(s->fill_value->kind, IQL_X_INTEGER);
    assert_int_equal(s->fill_value->u.i, 7);
    done(&p);
}

static void test_influxql_expression_nodes(void **state) {
    (void)state;
    parsed p;
    parse(&p, "SELECT a + b * c, -x, -5, -1.5, -10m, 1h30m, 10u, 10\xc2\xb5, x::float, *::tag, "
              "DISTINCT host, $p, true, 9223372036854775808, count(distinct(h)) FROM m");
    const iql_select *s = select_of(&p);
    const iql_expr *e = s->fields[0].expr;
    assert_int_equal(e->kind, IQL_X_BINARY);
    assert_int_equal(e->u.bin.op, IQL_OP_ADD);
    assert_int_equal(e->u.bin.r->u.bin.op, IQL_OP_MUL);
    assert_int_equal(e->height, 3);
    assert_int_equal(s->fields[1].expr->kind, IQL_X_NEG);
    assert_int_equal(s->fields[2].expr->kind, IQL_X_INTEGER);
    assert_int_equal(s->fields[2].expr->u.i, -5);
    assert_int_equal(s->fields[3].expr->kind, IQL_X_NUMBER);
    assert_true(s->fields[3].expr->u.f == -1.5);
    assert_int_equal(s->fields[4].expr->kind, IQL_X_DURATION);
    assert_int_equal(s->fields[4].expr->u.i, -600 * NS_PER_S);
    assert_int_equal(s->fields[5].expr->u.i, 5400 * NS_PER_S);
    assert_int_equal(s->fields[6].expr->u.i, 10 * NS_PER_US);
    assert_int_equal(s->fields[7].expr->u.i, 10 * NS_PER_US);
    assert_int_equal(s->fields[8].expr->u.ref.type, IQL_T_FLOAT);
    assert_int_equal(s->fields[9].expr->u.wildcard, IQL_T_TAG);
    assert_int_equal(s->fields[10].expr->kind, IQL_X_DISTINCT);
    assert_true(sv_is(s->fields[10].expr->u.s, "host"));
    assert_int_equal(s->fields[11].expr->kind, IQL_X_PARAM);
    assert_true(sv_is(s->fields[11].expr->u.s, "p"));
    assert_int_equal(s->fields[12].expr->kind, IQL_X_BOOLEAN);
    assert_true(s->fields[12].expr->u.b);
    assert_int_equal(s->fields[13].expr->kind, IQL_X_UNSIGNED);
    assert_true(s->fields[13].expr->u.u == 9223372036854775808ULL);
    e = s->fields[14].expr;
    assert_true(sv_is(e->u.call.name, "count"));
    assert_true(sv_is(e->u.call.args[0]->u.call.name, "distinct"));
    done(&p);

    /* OR binds looser than AND; chains are flat */
    parse(&p, "SELECT a FROM m WHERE a = 1 OR b = 2 AND c = 3 OR d = 4");
    e = select_of(&p)->where;
    assert_int_equal(e->kind, IQL_X_OR);
    assert_int_equal(e->u.list.n, 3);
    assert_int_equal(e->u.list.args[1]->kind, IQL_X_AND);
    assert_int_equal(e->u.list.args[1]->u.list.n, 2);
    done(&p);
}

static void test_influxql_show_statements(void **state) {
    (void)state;
    parsed p;
    parse(&p, "SHOW DATABASES; SHOW MEASUREMENTS ON d WITH MEASUREMENT =~ /c/ WHERE a = 'b' "
              "LIMIT 3 OFFSET 4; SHOW TAG KEYS ON d FROM cpu; SHOW TAG VALUES FROM cpu WITH KEY "
              "IN (a, \"b c\"); SHOW FIELD KEYS FROM /m/; SHOW SERIES FROM cpu WHERE h = 'x' "
              "LIMIT 2; SHOW RETENTION POLICIES ON d; SHOW TAG VALUES WITH KEY !~ /x/");
    assert_int_equal(p.rc, SILT_OK);
    assert_int_equal(p.q.n_stmts, 8);
    iql_stmt **st = p.q.stmts;
    assert_int_equal(st[0]->kind, IQL_STMT_SHOW_DATABASES);
    assert_int_equal(st[1]->kind, IQL_STMT_SHOW_MEASUREMENTS);
    const iql_show *sh = &st[1]->u.show;
    assert_true(sv_is(sh->db, "d"));
    assert_non_null(sh->with_measurement);
    assert_int_equal(sh->with_measurement->kind, IQL_SRC_REGEX);
    assert_true(sv_is(sh->with_measurement->name, "c"));
    assert_non_null(sh->where);
    assert_int_equal(sh->limit, 3);
    assert_int_equal(sh->offset, 4);
    assert_int_equal(st[1]->pos, 16);
    assert_int_equal(st[2]->kind, IQL_STMT_SHOW_TAG_KEYS);
    assert_true(sv_is(st[2]->u.show.db, "d"));
    assert_int_equal(st[2]->u.show.n_sources, 1);
    assert_int_equal(st[3]->kind, IQL_STMT_SHOW_TAG_VALUES);
    sh = &st[3]->u.show;
    assert_int_equal(sh->key_op, IQL_KEY_IN);
    assert_int_equal(sh->n_keys, 2);
    assert_true(sv_is(sh->keys[1], "b c"));
    assert_int_equal(st[4]->kind, IQL_STMT_SHOW_FIELD_KEYS);
    assert_int_equal(st[4]->u.show.sources[0].kind, IQL_SRC_REGEX);
    assert_int_equal(st[5]->kind, IQL_STMT_SHOW_SERIES);
    assert_int_equal(st[5]->u.show.limit, 2);
    assert_int_equal(st[6]->kind, IQL_STMT_SHOW_RETENTION_POLICIES);
    assert_true(sv_is(st[6]->u.show.db, "d"));
    assert_int_equal(st[7]->u.show.key_op, IQL_KEY_NEQREGEX);
    assert_true(sv_is(st[7]->u.show.key_regex, "x"));
    done(&p);
}

static void test_influxql_database_statements(void **state) {
    (void)state;
    parsed p;
    parse(&p, "CREATE DATABASE db1 WITH DURATION 30d REPLICATION 2 SHARD DURATION 1d NAME rp1; "
              "CREATE DATABASE db2; CREATE DATABASE db3 WITH DURATION INF; DROP DATABASE db1; "
              "DROP MEASUREMENT \"m 1\"; DROP SERIES FROM cpu WHERE host = 'a'; "
              "DELETE FROM cpu WHERE time < '2016-01-01'; EXPLAIN ANALYZE SELECT a FROM b");
    assert_int_equal(p.rc, SILT_OK);
    assert_int_equal(p.q.n_stmts, 8);
    iql_stmt **st = p.q.stmts;
    assert_int_equal(st[0]->kind, IQL_STMT_CREATE_DATABASE);
    const iql_create_db *c = &st[0]->u.create_db;
    assert_true(sv_is(c->name, "db1"));
    assert_true(c->with);
    assert_true(c->has_duration);
    assert_int_equal(c->duration_ns, 30 * NS_PER_DAY);
    assert_true(c->has_replication);
    assert_int_equal(c->replication, 2);
    assert_true(c->has_shard_duration);
    assert_int_equal(c->shard_duration_ns, NS_PER_DAY);
    assert_true(c->has_rp_name);
    assert_true(sv_is(c->rp_name, "rp1"));
    assert_false(st[1]->u.create_db.with);
    assert_true(st[2]->u.create_db.has_duration);
    assert_int_equal(st[2]->u.create_db.duration_ns, 0);
    assert_int_equal(st[3]->kind, IQL_STMT_DROP_DATABASE);
    assert_true(sv_is(st[3]->u.name, "db1"));
    assert_int_equal(st[4]->kind, IQL_STMT_DROP_MEASUREMENT);
    assert_true(sv_is(st[4]->u.name, "m 1"));
    assert_int_equal(st[5]->kind, IQL_STMT_DROP_SERIES);
    assert_int_equal(st[5]->u.show.n_sources, 1);
    assert_non_null(st[5]->u.show.where);
    assert_int_equal(st[6]->kind, IQL_STMT_DELETE);
    int64_t t;
    assert_int_equal(influxql_time_literal(st[6]->u.show.where->u.bin.r->u.s, &t), SILT_OK);
    assert_int_equal(t, 1451606400LL * NS_PER_S);
    assert_int_equal(st[7]->kind, IQL_STMT_EXPLAIN);
    assert_true(st[7]->u.explain.analyze);
    assert_int_equal(st[7]->u.explain.select->n_fields, 1);
    done(&p);
}

/* ------------------------------------------------------------------ bounds */

static char *repeat3(const char *pre, const char *unit, size_t n, const char *mid,
                     const char *unit2, const char *post) {
    size_t len = strlen(pre) + n * (strlen(unit) + strlen(unit2)) + strlen(mid) + strlen(post);
    char *s = malloc(len + 1), *w = s;
    w += sprintf(w, "%s", pre);
    for (size_t i = 0; i < n; i++) w += sprintf(w, "%s", unit);
    w += sprintf(w, "%s", mid);
    for (size_t i = 0; i < n; i++) w += sprintf(w, "%s", unit2);
    sprintf(w, "%s", post);
    return s;
}

static void assert_too_deep(const char *q) {
    parsed p;
    parse(&p, q);
    const char *want = "expression nested too deeply (more than 256 levels) at line 1, char ";
    if (p.rc != SILT_EPARSE || strncmp(p.err.msg, want, strlen(want)) != 0)
        fail_msg("rc %d: %s", p.rc, p.err.msg);
    done(&p);
}

static void assert_round_trips(const char *q) {
    buf once = {0}, twice = {0};
    print_of(q, strlen(q), &once);
    print_of((const char *)once.p, once.len, &twice);
    assert_int_equal(once.len, twice.len);
    assert_memory_equal(once.p, twice.p, once.len);
    buf_free(&once);
    buf_free(&twice);
}

static void test_influxql_depth_limit(void **state) {
    (void)state;
    /* 200 levels of anything parse (and print and re-parse) */
    char *q = repeat3("SELECT ", "(", 200, "a", ")", " FROM m");
    assert_round_trips(q);
    free(q);
    q = repeat3("SELECT ", "(a + ", 200, "a", ")", " FROM m");
    assert_round_trips(q);
    free(q);
    q = repeat3("SELECT ", "f(", 200, "a", ")", " FROM m");
    assert_round_trips(q);
    free(q);
    q = repeat3("SELECT a FROM ", "(SELECT a FROM ", 100, "m", ")", "");
    assert_round_trips(q);
    free(q);
    q = repeat3("SELECT ", "- ", 250, "a", "", " FROM m"); /* prints "- - -a", not "-(-(-a))" */
    assert_round_trips(q);
    free(q);
    /* beyond the bound: an error, not a stack overflow */
    q = repeat3("SELECT ", "(", 100000, "a", ")", " FROM m");
    assert_too_deep(q);
    free(q);
    q = repeat3("SELECT ", "- ", 100000, "a", "", " FROM m"); /* "--" would be a comment */
    assert_too_deep(q);
    free(q);
    q = repeat3("SELECT ", "f(", 300, "a", ")", " FROM m");
    assert_too_deep(q);
    free(q);
    q = repeat3("SELECT a FROM ", "(SELECT a FROM ", 300, "m", ")", "");
    assert_too_deep(q);
    free(q);
    q = repeat3("SELECT a FROM m WHERE ", "(a = 1 AND ", 300, "b", ")", "");
    assert_too_deep(q);
    free(q);
    /* a left-leaning chain is as high as it is long */
    q = repeat3("SELECT 1", " + 1", 300, "", "", " FROM m");
    assert_too_deep(q);
    free(q);
    q = repeat3("SELECT 1", " + 1", 250, "", "", " FROM m");
    assert_round_trips(q);
    free(q);
}

/* AND / OR chains are n-ary: a long list of conditions is wide, not deep */
static void test_influxql_long_flat_chain(void **state) {
    (void)state;
    char *q = repeat3("SELECT a FROM m WHERE a = 0", " OR host = 'h'", 50000, "", "", "");
    parsed p;
    parse(&p, q);
    const iql_select *s = select_of(&p);
    assert_int_equal(s->where->kind, IQL_X_OR);
    assert_int_equal(s->where->u.list.n, 50001);
    assert_int_equal(s->where->height, 3);
    done(&p);
    assert_round_trips(q);
    free(q);
}

static void test_influxql_size_limit(void **state) {
    (void)state;
    size_t n = IQL_MAX_QUERY_BYTES;
    char *q = malloc(n + 1);
    memset(q, ' ', n + 1);
    memcpy(q, "SELECT a FROM m", 15);
    parsed p;
    parse_n(&p, q, n);
    assert_int_equal(p.rc, SILT_OK);
    assert_int_equal(p.q.n_stmts, 1);
    done(&p);
    parse_n(&p, q, n + 1);
    assert_int_equal(p.rc, SILT_ELIMIT);
    assert_string_equal(p.err.msg, "query is 1048577 bytes; the limit is 1048576 bytes");
    assert_int_equal(p.q.n_stmts, 0);
    done(&p);
    free(q);
}

static void test_influxql_rejects_nul_and_bad_utf8(void **state) {
    (void)state;
    parsed p;
    parse_n(&p, "SELECT 'a\0b' FROM m", 19);
    assert_int_equal(p.rc, SILT_EPARSE);
    assert_string_equal(p.err.msg, "invalid NUL byte at line 1, char 10");
    done(&p);
    parse(&p, "SELECT \"\xff\" FROM m");
    assert_int_equal(p.rc, SILT_EPARSE);
    assert_string_equal(p.err.msg, "invalid UTF-8 at line 1, char 9");
    done(&p);
}

/* ------------------------------------------------------------------ lexer and helpers */

static void test_influxql_lex_tokens(void **state) {
    (void)state;
    arena a;
    arena_init(&a, 0);
    const char *src = "a<>b!=c<=d>=e<f>g=h=~i!~j+-*/%&|^,;().:: $p $\"q r\" 10m 1.5 .5 7 "
                      "'s' \"Q\" select FROM";
    iql_lexer lx;
    influxql__lex_init(&lx, src, strlen(src), &a);
    static const iql_tok_type want[] = {
        IQL_TK_IDENT,    IQL_TK_NEQ,     IQL_TK_IDENT,       IQL_TK_NEQ,     IQL_TK_IDENT,
        IQL_TK_LTE,      IQL_TK_IDENT,   IQL_TK_GTE,         IQL_TK_IDENT,   IQL_TK_LT,
        IQL_TK_IDENT,    IQL_TK_GT,      IQL_TK_IDENT,       IQL_TK_EQ,      IQL_TK_IDENT,
        IQL_TK_EQREGEX,  IQL_TK_IDENT,   IQL_TK_NEQREGEX,    IQL_TK_IDENT,   IQL_TK_ADD,
        IQL_TK_SUB,      IQL_TK_MUL,     IQL_TK_DIV,         IQL_TK_MOD,     IQL_TK_BITAND,
        IQL_TK_BITOR,    IQL_TK_BITXOR,  IQL_TK_COMMA,       IQL_TK_SEMI,    IQL_TK_LPAREN,
        IQL_TK_RPAREN,   IQL_TK_DOT,     IQL_TK_DOUBLECOLON, IQL_TK_PARAM,   IQL_TK_PARAM,
        IQL_TK_DURATION, IQL_TK_NUMBER,  IQL_TK_NUMBER,      IQL_TK_INTEGER, IQL_TK_STRING,
        IQL_TK_QIDENT,   IQL_TK_KEYWORD, IQL_TK_KEYWORD,     IQL_TK_EOF};
    iql_tok t;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        influxql__lex_next(&lx, &t);
        if (t.type != want[i]) fail_msg("token %zu: type %d, want %d", i, t.type, want[i]);
        if (t.type == IQL_TK_PARAM && i == 34) assert_true(sv_is(t.text, "q r"));
        if (t.type == IQL_TK_KEYWORD) assert_int_equal(t.kw, i == 41 ? IQL_KW_SELECT : IQL_KW_FROM);
    }
    /* a regex is scanned only on request, from the '/' */
    const char *re = "/a\\/b\\d/ x";
    influxql__lex_init(&lx, re, strlen(re), &a);
    influxql__lex_next(&lx, &t);
    assert_int_equal(t.type, IQL_TK_DIV);
    influxql__lex_regex(&lx, t.pos, &t);
    assert_int_equal(t.type, IQL_TK_REGEX);
    assert_true(sv_is(t.text, "a/b\\d"));
    influxql__lex_next(&lx, &t);
    assert_int_equal(t.type, IQL_TK_IDENT);
    arena_fini(&a);
}

static void test_influxql_keywords(void **state) {
    (void)state;
    static const char *const kws[] = {
#define KW_STR(k) #k,
        IQL_KEYWORDS(KW_STR)
#undef KW_STR
    };
    for (size_t i = 0; i < sizeof kws / sizeof kws[0]; i++) {
        /* the binary search needs the list in ASCII order */
        if (i) assert_true(strcmp(kws[i - 1], kws[i]) < 0);
        assert_int_equal(influxql__kw_lookup(kws[i], strlen(kws[i])), (iql_kw)(i + 1));
        assert_string_equal(influxql__kw_name((iql_kw)(i + 1)), kws[i]);
    }
    assert_int_equal(influxql__kw_lookup("select", 6), IQL_KW_SELECT);
    assert_int_equal(influxql__kw_lookup("SeLeCt", 6), IQL_KW_SELECT);
    assert_int_equal(influxql__kw_lookup("time", 4), IQL_KW_NONE);
    assert_int_equal(influxql__kw_lookup("fill", 4), IQL_KW_NONE);
    assert_int_equal(influxql__kw_lookup("subscriptionsx", 14), IQL_KW_NONE);
    assert_int_equal(influxql__kw_lookup("a", 1), IQL_KW_NONE);
}

static void test_influxql_print_helpers(void **state) {
    (void)state;
    static const struct {
        int64_t ns;
        const char *s;
    } durs[] = {{0, "0s"},
                {1, "1ns"},
                {1000, "1u"},
                {1500, "1500ns"},
                {NS_PER_MS, "1ms"},
                {NS_PER_S, "1s"},
                {90 * NS_PER_S, "90s"},
                {3600 * NS_PER_S, "1h"},
                {5400 * NS_PER_S, "90m"},
                {NS_PER_DAY, "1d"},
                {7 * NS_PER_DAY, "1w"},
                {8 * NS_PER_DAY, "8d"},
                {-300 * NS_PER_S, "-5m"},
                {INT64_MAX, "9223372036854775807ns"}};
    for (size_t i = 0; i < sizeof durs / sizeof durs[0]; i++) {
        buf b = {0};
        influxql_print_duration(&b, durs[i].ns);
        assert_string_equal(buf_cstr(&b), durs[i].s);
        buf_free(&b);
    }
    static const struct {
        str_view name;
        const char *s;
    } ids[] = {{{"cpu", 3}, "cpu"},
               {{"_a1", 3}, "_a1"},
               {{"1a", 2}, "\"1a\""},
               {{"select", 6}, "\"select\""},
               {{"Time", 4}, "Time"},
               {{"a b", 3}, "\"a b\""},
               {{"a\"b\\c\n", 6}, "\"a\\\"b\\\\c\\n\""},
               {{"", 0}, "\"\""},
               {{"é", 2}, "\"é\""}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        buf b = {0};
        influxql_print_ident(&b, ids[i].name);
        assert_string_equal(buf_cstr(&b), ids[i].s);
        buf_free(&b);
    }
    assert_int_equal(influxql_op_prec(IQL_OP_OR), 1);
    assert_int_equal(influxql_op_prec(IQL_OP_AND), 2);
    assert_int_equal(influxql_op_prec(IQL_OP_EQREGEX), 3);
    assert_int_equal(influxql_op_prec(IQL_OP_BITXOR), 4);
    assert_int_equal(influxql_op_prec(IQL_OP_BITAND), 5);
    assert_string_equal(influxql_op_str(IQL_OP_NEQREGEX), "!~");
    assert_string_equal(influxql_vtype_str(IQL_T_UNSIGNED), "unsigned");
}

static void test_influxql_numbers_print_exactly(void **state) {
    (void)state;
    static const char *const nums[] = {"0.1",
                                       "0.2",
                                       "1.5",
                                       "100.25",
                                       "0.000001",
                                       "3.0",
                                       "0.0",
                                       "12345678.9",
                                       "1.7976931348623157",
                                       "0.30000000000000004",
                                       "123456789012345680.0"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        char q[96];
        snprintf(q, sizeof q, "SELECT %s FROM m", nums[i]);
        buf b = {0};
        print_of(q, strlen(q), &b);
        assert_string_equal(buf_cstr(&b), q);
        buf_free(&b);
    }
    /* 1e22 and 1e-7 have no exponent form in InfluxQL: written out in full */
    buf b = {0};
    print_of("SELECT 10000000000000000000000.0, 0.0000001 FROM m", 50, &b);
    assert_string_equal(buf_cstr(&b), "SELECT 10000000000000000000000.0, 0.0000001 FROM m");
    buf_free(&b);
}

static void test_influxql_time_literals(void **state) {
    (void)state;
    static const struct {
        const char *s;
        int64_t ns;
    } ok[] = {{"2016-01-01T00:00:00Z", 1451606400LL * NS_PER_S},
              {"2016-01-01", 1451606400LL * NS_PER_S},
              {"2016-01-01 00:00:00", 1451606400LL * NS_PER_S},
              {"2016-01-01T00:00:00.5Z", 1451606400LL * NS_PER_S + 500 * NS_PER_MS},
              {"2016-01-01T00:00:00.000000001Z", 1451606400LL * NS_PER_S + 1},
              {"2016-01-01T02:00:00+02:00", 1451606400LL * NS_PER_S},
              {"1970-01-01T00:00:00Z", 0},
              {"1969-12-31T23:59:59Z", -NS_PER_S}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t t = 42;
        assert_int_equal(influxql_time_literal(sv_from(ok[i].s), &t), SILT_OK);
        assert_int_equal(t, ok[i].ns);
    }
    static const char *const bad[] = {"", "yesterday", "2016-13-01", "2016-01-01T25:00:00Z",
                                      "2016-01-01Tx"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t;
        assert_int_equal(influxql_time_literal(sv_from(bad[i]), &t), SILT_EPARSE);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_influxql_valid_queries_print_canonically),
        cmocka_unit_test(test_influxql_invalid_queries_fail_with_position),
        cmocka_unit_test(test_influxql_round_trip),
        cmocka_unit_test(test_influxql_table_sizes),
        cmocka_unit_test(test_influxql_benchmark_max_by_minute),
        cmocka_unit_test(test_influxql_benchmark_mean_by_hour_and_host),
        cmocka_unit_test(test_influxql_benchmark_last_point_per_host),
        cmocka_unit_test(test_influxql_select_clauses),
        cmocka_unit_test(test_influxql_expression_nodes),
        cmocka_unit_test(test_influxql_show_statements),
        cmocka_unit_test(test_influxql_database_statements),
        cmocka_unit_test(test_influxql_depth_limit),
        cmocka_unit_test(test_influxql_long_flat_chain),
        cmocka_unit_test(test_influxql_size_limit),
        cmocka_unit_test(test_influxql_rejects_nul_and_bad_utf8),
        cmocka_unit_test(test_influxql_lex_tokens),
        cmocka_unit_test(test_influxql_keywords),
        cmocka_unit_test(test_influxql_print_helpers),
        cmocka_unit_test(test_influxql_numbers_print_exactly),
        cmocka_unit_test(test_influxql_time_literals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
