/* SPDX-License-Identifier: MIT
 *
 * Lexer and parser: valid statements give the expected AST; invalid ones fail with
 * SILT_EPARSE at the exact line and column, saying what was expected and what was found. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "query/query_int.h"

typedef struct parsed {
    arena a;
    qstmt *st;
    silt_err err;
    int rc;
} parsed;

static void parse(parsed *p, const char *sql) {
    memset(p, 0, sizeof *p);
    arena_init(&p->a, 0);
    p->rc = query__parse(sql, strlen(sql), &p->a, &p->st, &p->err);
}

static void parse_n(parsed *p, const char *sql, size_t n) {
    memset(p, 0, sizeof *p);
    arena_init(&p->a, 0);
    p->rc = query__parse(sql, n, &p->a, &p->st, &p->err);
}

static void done(parsed *p) {
    arena_fini(&p->a);
}

/* sql must fail to parse with exactly msg */
static void assert_parse_error(const char *sql, const char *msg) {
    parsed p;
    parse(&p, sql);
    if (p.rc != SILT_EPARSE || strcmp(p.err.msg, msg) != 0)
        fail_msg("query: %s\n  rc %d, message: %s\n  expected:    %s", sql, p.rc, p.err.msg, msg);
    assert_null(p.st);
    done(&p);
}

static void assert_parses(const char *sql) {
    parsed p;
    parse(&p, sql);
    if (p.rc != SILT_OK) fail_msg("query: %s\n  rc %d: %s", sql, p.rc, p.err.msg);
    done(&p);
}

static void test_query_parse_select_star(void **state) {
    (void)state;
    parsed p;
    parse(&p, "SELECT * FROM cpu");
    assert_int_equal(p.rc, SILT_OK);
    assert_int_equal(p.st->kind, QS_SELECT);
    assert_string_equal(p.st->table, "cpu");
    assert_int_equal(p.st->n_items, 1);
    assert_int_equal(p.st->items[0].expr->kind, QX_STAR);
    assert_null(p.st->where);
    assert_int_equal(p.st->n_order, 0);
    assert_int_equal(p.st->limit, -1);
    assert_int_equal(p.st->offset, 0);
    done(&p);
}

static void test_query_parse_full_select(void **state) {
    (void)state;
    parsed p;
    parse(&p, "select host, usage AS u from cpu where host = 'a' order by time desc limit 10 "
              "offset 5;");
    assert_int_equal(p.rc, SILT_OK);
    qstmt *st = p.st;
    assert_int_equal(st->n_items, 2);
    assert_int_equal(st->items[0].expr->kind, QX_COLUMN);
    assert_string_equal(st->items[0].expr->u.col.name, "host");
    assert_null(st->items[0].alias);
    assert_string_equal(st->items[1].expr->u.col.name, "usage");
    assert_string_equal(st->items[1].alias, "u");
    assert_int_equal(st->where->kind, QX_CMP);
    assert_int_equal(st->where->u.bin.op, QOP_EQ);
    assert_int_equal(st->where->u.bin.r->kind, QX_LITERAL);
    assert_int_equal(st->where->u.bin.r->u.lit.type, QT_STRING);
    assert_int_equal(st->n_order, 1);
    assert_true(st->order[0].desc);
    assert_string_equal(st->order[0].expr->u.col.name, "time");
    assert_int_equal(st->limit, 10);
    assert_int_equal(st->offset, 5);
    done(&p);
}

static void test_query_parse_keywords_case_insensitive(void **state) {
    (void)state;
    assert_parses("SeLeCt * FrOm cpu WhErE a Is NoT nUlL oRdEr By time AsC LiMiT 1");
    assert_parses("show tables");
    assert_parses("SHOW COLUMNS IN cpu");
}

static void test_query_parse_identifier_folding(void **state) {
    (void)state;
    parsed p;
    parse(&p, "SELECT Usage, \"Usage\", \"we\"\"ird name\" FROM \"CPU\"");
    assert_int_equal(p.rc, SILT_OK);
    assert_string_equal(p.st->items[0].expr->u.col.name, "usage");
    assert_string_equal(p.st->items[1].expr->u.col.name, "Usage");
    assert_string_equal(p.st->items[2].expr->u.col.name, "we\"ird name");
    assert_string_equal(p.st->table, "CPU");
    done(&p);
    /* a reserved word is a name only when quoted */
    parse(&p, "SELECT \"from\" FROM \"select\"");
    assert_int_equal(p.rc, SILT_OK);
    assert_string_equal(p.st->items[0].expr->u.col.name, "from");
    assert_string_equal(p.st->table, "select");
    done(&p);
    /* non-reserved keywords are ordinary names */
    parse(&p, "SELECT tables, timestamp, interval FROM columns");
    assert_int_equal(p.rc, SILT_OK);
    assert_string_equal(p.st->items[1].expr->u.col.name, "timestamp");
    assert_string_equal(p.st->table, "columns");
    done(&p);
}

static void test_query_parse_string_literal_escapes(void **state) {
    (void)state;
    parsed p;
    parse(&p, "SELECT * FROM t WHERE a = 'it''s' OR b = ''");
    assert_int_equal(p.rc, SILT_OK);
    qexpr *w = p.st->where;
    assert_int_equal(w->kind, QX_OR);
    assert_int_equal(w->u.list.n, 2);
    str_view s = w->u.list.args[0]->u.bin.r->u.lit.v.s;
    assert_int_equal(s.n, 4);
    assert_memory_equal(s.p, "it's", 4);
    assert_int_equal(w->u.list.args[1]->u.bin.r->u.lit.v.s.n, 0);
    done(&p);
}

static void test_query_parse_comments(void **state) {
    (void)state;
    parsed p;
    parse(&p, "-- leading comment\nSELECT /* inline */ * FROM cpu -- trailing\n/* end */");
    assert_int_equal(p.rc, SILT_OK);
    assert_string_equal(p.st->table, "cpu");
    done(&p);
    assert_parse_error("SELECT * /* never closed",
                       "syntax error at line 1, column 10: unterminated /* comment");
}

static void test_query_parse_numeric_literals(void **state) {
    (void)state;
    parsed p;
    parse(&p, "SELECT * FROM t WHERE a = 42 OR a = 1.5 OR a = 2e3 OR a = .5 OR a = 1E-2 OR "
              "a = 18446744073709551615 OR a = 99999999999999999999 OR a = -7");
    assert_int_equal(p.rc, SILT_OK);
    qexpr **v = p.st->where->u.list.args;
    assert_int_equal(p.st->where->u.list.n, 8);
    assert_int_equal(v[0]->u.bin.r->u.lit.type, QT_INT);
    assert_int_equal(v[0]->u.bin.r->u.lit.v.i, 42);
    assert_int_equal(v[1]->u.bin.r->u.lit.type, QT_FLOAT);
    assert_true(v[1]->u.bin.r->u.lit.v.f == 1.5);
    assert_true(v[2]->u.bin.r->u.lit.v.f == 2000.0);
    assert_true(v[3]->u.bin.r->u.lit.v.f == 0.5);
    assert_true(v[4]->u.bin.r->u.lit.v.f == 0.01);
    assert_int_equal(v[5]->u.bin.r->u.lit.type, QT_UINT);
    assert_true(v[5]->u.bin.r->u.lit.v.u == UINT64_MAX);
    assert_int_equal(v[6]->u.bin.r->u.lit.type, QT_FLOAT); /* beyond uint64 */
    assert_int_equal(v[7]->u.bin.r->kind, QX_NEG);         /* folded by the planner */
    done(&p);
    assert_parse_error(
        "SELECT * FROM t WHERE a = 1e",
        "syntax error at line 1, column 27: invalid number: exponent without digits");
    assert_parse_error(
        "SELECT * FROM t WHERE a = 12abc",
        "syntax error at line 1, column 27: invalid number: letters after the digits");
    assert_parse_error("SELECT * FROM t WHERE a = 1e999",
                       "syntax error at line 1, column 27: number out of range");
}

static void test_query_parse_precedence(void **state) {
    (void)state;
    parsed p;
    /* OR < AND < NOT < comparison */
    parse(&p, "SELECT * FROM t WHERE NOT a = 1 AND b = 2 OR c = 3");
    assert_int_equal(p.rc, SILT_OK);
    qexpr *w = p.st->where;
    assert_int_equal(w->kind, QX_OR);
    assert_int_equal(w->u.list.n, 2);
    qexpr *and = w->u.list.args[0];
    assert_int_equal(and->kind, QX_AND);
    assert_int_equal(and->u.list.args[0]->kind, QX_NOT);
    assert_int_equal(and->u.list.args[0]->u.un.arg->kind, QX_CMP);
    assert_int_equal(w->u.list.args[1]->kind, QX_CMP);
    done(&p);
    /* parentheses override; chains become one n-ary node */
    parse(&p, "SELECT * FROM t WHERE a = 1 AND (b = 2 OR c = 3) AND d IS NOT NULL AND e IS NULL");
    assert_int_equal(p.rc, SILT_OK);
    w = p.st->where;
    assert_int_equal(w->kind, QX_AND);
    assert_int_equal(w->u.list.n, 4);
    assert_int_equal(w->u.list.args[1]->kind, QX_OR);
    assert_int_equal(w->u.list.args[2]->kind, QX_IS_NULL);
    assert_true(w->u.list.args[2]->u.un.negated);
    assert_false(w->u.list.args[3]->u.un.negated);
    done(&p);
}

static void test_query_parse_literal_on_left_and_functions(void **state) {
    (void)state;
    parsed p;
    parse(&p, "SELECT count(*) AS n, count(usage) FROM cpu WHERE '2016-01-01' <= time AND "
              "time > now() - INTERVAL '1 hour' AND time < TIMESTAMP '2030-01-01T00:00:00Z'");
    assert_int_equal(p.rc, SILT_OK);
    qexpr *c0 = p.st->items[0].expr;
    assert_int_equal(c0->kind, QX_FUNC);
    assert_string_equal(c0->u.func.name, "count");
    assert_int_equal(c0->u.func.n, 1);
    assert_int_equal(c0->u.func.args[0]->kind, QX_STAR);
    assert_string_equal(p.st->items[0].alias, "n");
    assert_int_equal(p.st->items[1].expr->u.func.args[0]->kind, QX_COLUMN);
    qexpr **v = p.st->where->u.list.args;
    assert_int_equal(v[0]->u.bin.l->kind, QX_LITERAL);
    assert_int_equal(v[1]->u.bin.r->kind, QX_ARITH);
    assert_int_equal(v[1]->u.bin.r->u.bin.op, QOP_SUB);
    assert_string_equal(v[1]->u.bin.r->u.bin.l->u.func.name, "now");
    assert_string_equal(v[1]->u.bin.r->u.bin.r->u.func.name, "interval");
    assert_string_equal(v[2]->u.bin.r->u.func.name, "timestamp");
    done(&p);
}

static void test_query_parse_show(void **state) {
    (void)state;
    parsed p;
    parse(&p, "SHOW TABLES;");
    assert_int_equal(p.rc, SILT_OK);
    assert_int_equal(p.st->kind, QS_SHOW_TABLES);
    done(&p);
    parse(&p, "show columns from \"My Table\"");
    assert_int_equal(p.rc, SILT_OK);
    assert_int_equal(p.st->kind, QS_SHOW_COLUMNS);
    assert_string_equal(p.st->table, "My Table");
    done(&p);
    assert_parse_error(
        "SHOW DATABASES",
        "syntax error at line 1, column 6: expected TABLES or COLUMNS, found 'DATABASES'");
    assert_parse_error("SHOW COLUMNS cpu",
                       "syntax error at line 1, column 14: expected FROM, found 'cpu'");
}

static void test_query_parse_error_positions(void **state) {
    (void)state;
    assert_parse_error("SELECT * FORM cpu",
                       "syntax error at line 1, column 10: expected FROM, found 'FORM'");
    assert_parse_error("SELECT usage FORM cpu",
                       "syntax error at line 1, column 14: expected FROM, found 'FORM'");
    assert_parse_error(
        "SELECT * FROM",
        "syntax error at line 1, column 14: expected a table name or '(', found end of input");
    assert_parse_error(
        "SELECT *\nFROM cpu\nWHERE host = ",
        "syntax error at line 3, column 14: expected an expression, found end of input");
    assert_parse_error("SELECT * FROM cpu WHERE host = 'a",
                       "syntax error at line 1, column 32: unterminated string literal");
    assert_parse_error("SELECT * FROM \"cpu",
                       "syntax error at line 1, column 15: unterminated quoted identifier");
    assert_parse_error("SELECT * FROM \"\"",
                       "syntax error at line 1, column 15: zero-length quoted identifier");
    assert_parse_error(
        "", "syntax error at line 1, column 1: expected SELECT, WITH or SHOW, found end of input");
    assert_parse_error(
        "  \n  ",
        "syntax error at line 2, column 3: expected SELECT, WITH or SHOW, found end of input");
    assert_parse_error(
        "DELETE FROM cpu",
        "syntax error at line 1, column 1: expected SELECT, WITH or SHOW, found 'DELETE'");
    assert_parse_error("SELECT FROM cpu", "syntax error at line 1, column 8: expected a column "
                                          "name, an expression or '*', found 'FROM'");
    assert_parse_error("SELECT from FROM cpu", "syntax error at line 1, column 8: expected a "
                                               "column name, an expression or '*', found 'from'");
    assert_parse_error("SELECT a, FROM cpu", "syntax error at line 1, column 11: expected a column "
                                             "name, an expression or '*', found 'FROM'");
    assert_parse_error(
        "SELECT * FROM cpu garbage more",
        "syntax error at line 1, column 27: expected WHERE, GROUP BY, HAVING, UNION ALL, ORDER BY, "
        "LIMIT, OFFSET or end of input, found 'more'");
    assert_parse_error("SELECT * FROM cpu WHERE a = 1 b",
                       "syntax error at line 1, column 31: expected GROUP BY, HAVING, UNION ALL, "
                       "ORDER BY, LIMIT, OFFSET or end "
                       "of input, found 'b'");
    assert_parse_error("SELECT * FROM cpu ORDER time",
                       "syntax error at line 1, column 25: expected BY, found 'time'");
    assert_parse_error(
        "SELECT * FROM cpu ORDER BY time LIMIT 1 x",
        "syntax error at line 1, column 41: expected OFFSET or end of input, found 'x'");
    assert_parse_error("SELECT * FROM cpu; SELECT 1",
                       "syntax error at line 1, column 20: expected end of input (one statement "
                       "per query), found 'SELECT'");
    assert_parse_error(
        "SELECT * FROM cpu LIMIT -1",
        "syntax error at line 1, column 25: expected a non-negative integer, found '-'");
    assert_parse_error(
        "SELECT * FROM cpu LIMIT 'x'",
        "syntax error at line 1, column 25: expected a non-negative integer, found string ''x''");
    assert_parse_error("SELECT * FROM cpu LIMIT 9223372036854775808",
                       "syntax error at line 1, column 25: integer out of range (the maximum is "
                       "9223372036854775807)");
    assert_parse_error("SELECT * FROM cpu WHERE a IS 5",
                       "syntax error at line 1, column 30: expected NOT or NULL, found '5'");
    assert_parse_error("SELECT * FROM cpu WHERE a IS NOT 5",
                       "syntax error at line 1, column 34: expected NULL, found '5'");
    assert_parse_error("SELECT * FROM cpu WHERE (a = 1",
                       "syntax error at line 1, column 31: expected ')', found end of input");
    assert_parse_error("SELECT * FROM cpu WHERE a = 1 = 2",
                       "syntax error at line 1, column 31: expected GROUP BY, HAVING, UNION ALL, "
                       "ORDER BY, LIMIT, OFFSET or end "
                       "of input, found '='");
    assert_parse_error("SELECT count(* FROM cpu",
                       "syntax error at line 1, column 16: expected ')', found 'FROM'");
    assert_parse_error("SELECT a AS FROM cpu",
                       "syntax error at line 1, column 13: expected an alias name, found 'FROM'");
    assert_parse_error("SELECT * FROM cpu WHERE a # 1",
                       "syntax error at line 1, column 27: unexpected character '#'");
    assert_parse_error("SELECT * FROM cpu WHERE a ! 1",
                       "syntax error at line 1, column 27: unexpected character '!'");
}

static void test_query_parse_subquery_with_union(void **state) {
    (void)state;
    parsed p;
    parse(&p, "SELECT s.a FROM (SELECT a FROM t WHERE a > 1) AS s WHERE s.a < 5");
    assert_int_equal(p.rc, SILT_OK);
    assert_int_equal(p.st->kind, QS_SELECT);
    assert_null(p.st->table);
    assert_string_equal(p.st->alias, "s");
    assert_non_null(p.st->from_sub);
    assert_string_equal(p.st->from_sub->table, "t");
    assert_non_null(p.st->from_sub->where);
    assert_string_equal(p.st->items[0].expr->u.col.qual, "s");
    assert_string_equal(p.st->items[0].expr->u.col.name, "a");
    done(&p);

    parse(&p, "SELECT a FROM t x"); /* alias without AS */
    assert_int_equal(p.rc, SILT_OK);
    assert_string_equal(p.st->table, "t");
    assert_string_equal(p.st->alias, "x");
    done(&p);

    parse(&p, "WITH x AS (SELECT a FROM t), \"Y\" AS (SELECT a FROM x) SELECT a FROM \"Y\"");
    assert_int_equal(p.rc, SILT_OK);
    assert_int_equal(p.st->n_ctes, 2);
    assert_string_equal(p.st->ctes[0].name, "x");
    assert_int_equal(p.st->ctes[0].pos, 5);
    assert_string_equal(p.st->ctes[1].name, "Y");
    assert_string_equal(p.st->ctes[1].query->table, "x");
    assert_string_equal(p.st->table, "Y");
    done(&p);

    /* ORDER BY / LIMIT after the last arm belong to the union, not to the arm */
    parse(&p, "SELECT a FROM t UNION ALL SELECT b FROM u WHERE b > 0 UNION ALL "
              "(SELECT c FROM v ORDER BY c LIMIT 1) ORDER BY a DESC LIMIT 3 OFFSET 1");
    assert_int_equal(p.rc, SILT_OK);
    assert_int_equal(p.st->kind, QS_UNION);
    assert_int_equal(p.st->n_arms, 3);
    assert_int_equal(p.st->n_order, 1);
    assert_true(p.st->order[0].desc);
    assert_int_equal(p.st->limit, 3);
    assert_int_equal(p.st->offset, 1);
    assert_int_equal(p.st->arms[1]->n_order, 0);
    assert_int_equal(p.st->arms[1]->limit, -1);
    assert_int_equal(p.st->arms[2]->n_order, 1);
    assert_int_equal(p.st->arms[2]->limit, 1);
    done(&p);

    /* a lone parenthesised query; WITH around a union; a union in FROM */
    assert_parses("(SELECT a FROM t)");
    assert_parses("(SELECT a FROM t) ORDER BY a");
    assert_parses("WITH x AS (SELECT a FROM t UNION ALL SELECT a FROM u) SELECT a FROM x "
                  "UNION ALL SELECT a FROM x;");
    assert_parses("SELECT * FROM (SELECT a FROM t UNION ALL SELECT a FROM u ORDER BY a) AS w");
    assert_parses("SELECT * FROM (WITH x AS (SELECT a FROM t) SELECT a FROM x)");
    assert_parses("SELECT * FROM ((SELECT a FROM t))");
}

static void test_query_parse_subquery_errors(void **state) {
    (void)state;
    assert_parse_error("SELECT a FROM (SELECT a FROM t",
                       "syntax error at line 1, column 31: expected WHERE, GROUP BY, HAVING, UNION "
                       "ALL, ORDER BY, LIMIT, OFFSET or ')', found end of input");
    assert_parse_error("SELECT a FROM (SELECT a FROM t LIMIT 1 WHERE",
                       "syntax error at line 1, column 40: expected OFFSET or ')', found 'WHERE'");
    assert_parse_error("SELECT a FROM (t)",
                       "syntax error at line 1, column 16: expected SELECT or WITH, found 't'");
    assert_parse_error("SELECT a FROM (SELECT a FROM t) AS",
                       "syntax error at line 1, column 35: expected an alias name, found end of "
                       "input");
    assert_parse_error("WITH x AS (SELECT a FROM t), x AS (SELECT b FROM t) SELECT a FROM x",
                       "syntax error at line 1, column 30: WITH query name specified more than "
                       "once");
    assert_parse_error("WITH x (SELECT a FROM t) SELECT a FROM x",
                       "syntax error at line 1, column 8: expected AS, found '('");
    assert_parse_error("WITH x AS SELECT a FROM t SELECT a FROM x",
                       "syntax error at line 1, column 11: expected '(', found 'SELECT'");
    assert_parse_error("WITH select AS (SELECT a FROM t) SELECT a FROM x",
                       "syntax error at line 1, column 6: expected a name for the WITH query, "
                       "found 'select'");
    assert_parse_error("WITH x AS (SELECT a FROM t)",
                       "syntax error at line 1, column 28: expected SELECT or '(', found end of "
                       "input");
    assert_parse_error("SELECT a FROM t UNION SELECT a FROM u",
                       "syntax error at line 1, column 23: expected ALL (UNION without ALL is not "
                       "supported), found 'SELECT'");
    assert_parse_error("SELECT a FROM t UNION ALL",
                       "syntax error at line 1, column 26: expected SELECT or '(', found end of "
                       "input");
    assert_parse_error("SELECT a FROM t ORDER BY a UNION ALL SELECT a FROM u",
                       "syntax error at line 1, column 28: expected LIMIT, OFFSET or end of "
                       "input, found 'UNION'");
    assert_parse_error("(SELECT a FROM t) x",
                       "syntax error at line 1, column 19: expected UNION ALL, ORDER BY, LIMIT, "
                       "OFFSET or end of input, found 'x'");
    assert_parse_error("SELECT t. FROM t",
                       "syntax error at line 1, column 11: expected a column name, found 'FROM'");
    /* queries nested in FROM count toward the depth limit */
    size_t n = QUERY_MAX_DEPTH + 1;
    char *deep = malloc(n * 16 + 64), *w = deep;
    for (size_t i = 0; i < n; i++) w += sprintf(w, "SELECT * FROM (");
    w += sprintf(w, "SELECT a FROM t");
    for (size_t i = 0; i < n; i++) *w++ = ')';
    *w = 0;
    parsed p;
    parse(&p, deep);
    assert_int_equal(p.rc, SILT_EPARSE);
    assert_non_null(strstr(p.err.msg, "nested too deeply"));
    done(&p);
    free(deep);
}

static void test_query_parse_error_column_counts_characters(void **state) {
    (void)state;
    /* 'é' is two bytes but one column */
    assert_parse_error("SELECT 'é' FORM t",
                       "syntax error at line 1, column 12: expected FROM, found 'FORM'");
    /* a long token is cut in the message */
    assert_parse_error(
        "SELECT * FROM cpu WHERE a = 1 abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
        "syntax error at line 1, column 31: expected GROUP BY, HAVING, UNION ALL, ORDER BY, LIMIT, "
        "OFFSET or end of input, "
        "found 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqr...'");
}

static void test_query_parse_rejects_nul_and_bad_utf8(void **state) {
    (void)state;
    parsed p;
    parse_n(&p, "SELECT * FROM \"a\0b\"", 19);
    assert_int_equal(p.rc, SILT_EPARSE);
    assert_string_equal(p.err.msg, "syntax error at line 1, column 17: unexpected NUL byte");
    done(&p);
    parse_n(&p, "SELECT * FROM cpu\0", 18);
    assert_int_equal(p.rc, SILT_EPARSE);
    assert_string_equal(p.err.msg, "syntax error at line 1, column 18: unexpected NUL byte");
    done(&p);
    assert_parse_error("SELECT * FROM \xff",
                       "syntax error at line 1, column 15: the query is not valid UTF-8");
}

/* "(" x n ... ")" x n around a comparison */
static char *nested(int n) {
    const char *head = "SELECT * FROM t WHERE ", *mid = "a = 1";
    size_t len = strlen(head) + (size_t)n * 2 + strlen(mid) + 1;
    char *s = malloc(len), *p = s;
    p += sprintf(p, "%s", head);
    for (int i = 0; i < n; i++) *p++ = '(';
    p += sprintf(p, "%s", mid);
    for (int i = 0; i < n; i++) *p++ = ')';
    *p = 0;
    return s;
}

static void test_query_parse_depth_limit(void **state) {
    (void)state;
    char *ok = nested(QUERY_MAX_DEPTH - 1);
    assert_parses(ok);
    free(ok);
    char *deep = nested(100000);
    parsed p;
    parse(&p, deep);
    assert_int_equal(p.rc, SILT_EPARSE);
    assert_non_null(strstr(p.err.msg, "expression nested too deeply (more than 256 levels)"));
    done(&p);
    free(deep);
    /* NOT NOT NOT ... and - - - ... are bounded the same way */
    size_t n = 200000;
    char *nots = malloc(n * 4 + 64);
    strcpy(nots, "SELECT * FROM t WHERE ");
    char *q = nots + strlen(nots);
    for (size_t i = 0; i < n; i++) memcpy(q + i * 4, "NOT ", 4);
    strcpy(q + n * 4, "a");
    parse(&p, nots);
    assert_int_equal(p.rc, SILT_EPARSE);
    assert_non_null(strstr(p.err.msg, "nested too deeply"));
    done(&p);
    for (size_t i = 0; i < n; i++) memcpy(q + i * 2, "- ", 2);
    strcpy(q + n * 2, "1 = a");
    parse(&p, nots);
    assert_int_equal(p.rc, SILT_EPARSE);
    assert_non_null(strstr(p.err.msg, "nested too deeply"));
    done(&p);
    /* a + 1 + 1 + ... builds a left-deep tree: bounded too */
    strcpy(q, "a = 1");
    for (size_t i = 0; i < 1000; i++) strcat(q, " + 1");
    parse(&p, nots);
    assert_int_equal(p.rc, SILT_EPARSE);
    assert_non_null(strstr(p.err.msg, "nested too deeply"));
    done(&p);
    free(nots);
}

static void test_query_parse_long_flat_chain(void **state) {
    (void)state;
    /* 50,000 ORs are one flat node: no depth problem */
    size_t n = 50000;
    char *s = malloc(n * 14 + 64), *p = s;
    p += sprintf(p, "SELECT * FROM t WHERE a = 1");
    for (size_t i = 1; i < n; i++) p += sprintf(p, " OR a = 1");
    parsed ps;
    parse(&ps, s);
    assert_int_equal(ps.rc, SILT_OK);
    assert_int_equal(ps.st->where->kind, QX_OR);
    assert_int_equal(ps.st->where->u.list.n, n);
    done(&ps);
    free(s);
}

static void test_query_parse_size_limit(void **state) {
    (void)state;
    size_t n = QUERY_MAX_SQL_BYTES + 1;
    char *s = malloc(n);
    memset(s, ' ', n);
    memcpy(s, "SHOW TABLES", 11);
    parsed p;
    parse_n(&p, s, n);
    assert_int_equal(p.rc, SILT_ELIMIT);
    done(&p);
    parse_n(&p, s, n - 1); /* exactly 1 MiB is fine */
    assert_int_equal(p.rc, SILT_OK);
    done(&p);
    free(s);
}

static void test_query_lex_tokens(void **state) {
    (void)state;
    arena a;
    arena_init(&a, 0);
    const char *src = "a<>b!=c<=d>=e<f>g=h,.;*+-/%()";
    sql_lexer lx;
    query__lex_init(&lx, src, strlen(src), &a);
    static const sql_tok_type want[] = {
        TK_IDENT, TK_NE,    TK_IDENT, TK_NE,    TK_IDENT,   TK_LE,     TK_IDENT,  TK_GE,  TK_IDENT,
        TK_LT,    TK_IDENT, TK_GT,    TK_IDENT, TK_EQ,      TK_IDENT,  TK_COMMA,  TK_DOT, TK_SEMI,
        TK_STAR,  TK_PLUS,  TK_MINUS, TK_SLASH, TK_PERCENT, TK_LPAREN, TK_RPAREN, TK_EOF};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        sql_tok t;
        query__lex_next(&lx, &t);
        if (t.type != want[i]) fail_msg("token %zu: type %d, want %d", i, t.type, want[i]);
    }
    arena_fini(&a);
}

static void test_query_parse_group_having_distinct_nulls(void **state) {
    (void)state;
    parsed p;
    parse(&p, "SELECT DISTINCT host, count(DISTINCT region) FROM cpu WHERE a > 1 GROUP BY host, 2 "
              "HAVING count(*) > 1 ORDER BY 1 DESC NULLS LAST, host NULLS FIRST LIMIT 3");
    assert_int_equal(p.rc, SILT_OK);
    qstmt *st = p.st;
    assert_true(st->distinct);
    assert_int_equal(st->n_group, 2);
    assert_int_equal(st->group[0]->kind, QX_COLUMN);
    assert_int_equal(st->group[1]->kind, QX_LITERAL);
    assert_true(st->items[1].expr->u.func.distinct);
    assert_non_null(st->having);
    assert_int_equal(st->n_order, 2);
    assert_true(st->order[0].desc);
    assert_int_equal(st->order[0].nulls, QNULLS_LAST);
    assert_int_equal(st->order[1].nulls, QNULLS_FIRST);
    done(&p);
    parse(&p, "SELECT first_value(x ORDER BY time DESC) FROM cpu");
    assert_int_equal(p.rc, SILT_OK);
    assert_non_null(p.st->items[0].expr->u.func.order);
    assert_true(p.st->items[0].expr->u.func.order_desc);
    done(&p);
}

static void test_query_parse_operators_and_precedence(void **state) {
    (void)state;
    parsed p;
    /* * binds tighter than +, :: tighter than both, || loosest of the arithmetic */
    parse(&p, "SELECT a + b * c::double || 'x' FROM t");
    assert_int_equal(p.rc, SILT_OK);
    qexpr *e = p.st->items[0].expr;
    assert_int_equal(e->kind, QX_ARITH);
    assert_int_equal(e->u.bin.op, QOP_CONCAT);
    qexpr *sum = e->u.bin.l;
    assert_int_equal(sum->u.bin.op, QOP_ADD);
    assert_int_equal(sum->u.bin.r->u.bin.op, QOP_MUL);
    assert_int_equal(sum->u.bin.r->u.bin.r->kind, QX_CAST);
    assert_int_equal(sum->u.bin.r->u.bin.r->u.cast.to, QT_FLOAT);
    done(&p);
    parse(&p, "SELECT * FROM t WHERE a NOT IN (1, 2) AND b NOT BETWEEN 1 AND 2 AND c NOT LIKE 'x' "
              "AND d !~* 'y' AND e ~ 'z' AND f ILIKE 'w'");
    assert_int_equal(p.rc, SILT_OK);
    qexpr *w = p.st->where;
    assert_int_equal(w->kind, QX_AND);
    assert_int_equal(w->u.list.n, 6);
    assert_int_equal(w->u.list.args[0]->kind, QX_IN);
    assert_true(w->u.list.args[0]->u.list.negated);
    assert_int_equal(w->u.list.args[0]->u.list.n, 3);
    assert_int_equal(w->u.list.args[1]->kind, QX_BETWEEN);
    assert_true(w->u.list.args[1]->u.list.negated);
    assert_int_equal(w->u.list.args[2]->u.list.like, QLIKE_LIKE);
    assert_true(w->u.list.args[2]->u.list.negated);
    assert_int_equal(w->u.list.args[3]->u.list.like, QLIKE_RE_I);
    assert_true(w->u.list.args[3]->u.list.negated);
    assert_int_equal(w->u.list.args[4]->u.list.like, QLIKE_RE);
    assert_false(w->u.list.args[4]->u.list.negated);
    assert_int_equal(w->u.list.args[5]->u.list.like, QLIKE_ILIKE);
    done(&p);
    parse(&p, "SELECT CASE x WHEN 1 THEN 'a' WHEN 2 THEN 'b' ELSE 'c' END, CASE WHEN y THEN 1 END, "
              "CAST(z AS double precision) FROM t");
    assert_int_equal(p.rc, SILT_OK);
    assert_int_equal(p.st->items[0].expr->kind, QX_CASE);
    assert_non_null(p.st->items[0].expr->u.cs.operand);
    assert_int_equal(p.st->items[0].expr->u.cs.n, 2);
    assert_non_null(p.st->items[0].expr->u.cs.els);
    assert_null(p.st->items[1].expr->u.cs.operand);
    assert_null(p.st->items[1].expr->u.cs.els);
    assert_int_equal(p.st->items[2].expr->u.cast.to, QT_FLOAT);
    done(&p);
}

static void test_query_parse_new_syntax_errors(void **state) {
    (void)state;
    assert_parse_error(
        "SELECT CASE WHEN a THEN 1 FROM t",
        "syntax error at line 1, column 27: expected WHEN, ELSE or END, found 'FROM'");
    assert_parse_error("SELECT CAST(a AS widget) FROM t",
                       "syntax error at line 1, column 18: expected a type name (bigint, double, "
                       "varchar, boolean or timestamp), found 'widget'");
    assert_parse_error(
        "SELECT a FROM t WHERE a NOT 5",
        "syntax error at line 1, column 25: expected GROUP BY, HAVING, UNION ALL, ORDER "
        "BY, LIMIT, OFFSET or end of input, found 'NOT'");
    assert_parse_error("SELECT a FROM t ORDER BY a NULLS 1",
                       "syntax error at line 1, column 34: expected FIRST or LAST, found '1'");
    assert_parse_error("SELECT a FROM t GROUP a",
                       "syntax error at line 1, column 23: expected BY, found 'a'");
    assert_parse_error("SELECT a FROM t WHERE a IN 1",
                       "syntax error at line 1, column 28: expected '(', found '1'");
    assert_parse_error("SELECT a : b FROM t", "syntax error at line 1, column 10: unexpected "
                                              "character ':'");
}

/* $name placeholders become literals of the bound values; one without a value is a parse
 * error naming it and its position; '$' inside an identifier stays part of it. */
static void test_query_parse_params(void **state) {
    (void)state;
    query_param pv[] = {{.name = "c", .type = QPARAM_STRING, .s = "it's"},
                        {.name = "n", .type = QPARAM_INT, .i = -7},
                        {.name = "f", .type = QPARAM_FLOAT, .f = 2.5},
                        {.name = "b", .type = QPARAM_BOOL, .b = true},
                        {.name = "z", .type = QPARAM_NULL}};
    const char *names[5] = {"$c", "$n", "$f", "$b", "$z"};
    const qexpr *lits[5];
    arena a;
    arena_init(&a, 0);
    for (int k = 0; k < 5; k++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT x FROM t WHERE v = %s", names[k]);
        qstmt *st = NULL;
        silt_err err = {0};
        assert_int_equal(query__parse_params(sql, strlen(sql), &a, pv, 5, &st, &err), SILT_OK);
        assert_int_equal(st->where->kind, QX_CMP);
        lits[k] = st->where->u.bin.r;
        assert_int_equal(lits[k]->kind, QX_LITERAL);
    }
    assert_int_equal(lits[0]->u.lit.type, QT_STRING);
    assert_true(sv_eq_cstr(lits[0]->u.lit.v.s, "it's"));
    assert_int_equal(lits[1]->u.lit.type, QT_INT);
    assert_int_equal(lits[1]->u.lit.v.i, -7);
    assert_int_equal(lits[2]->u.lit.type, QT_FLOAT);
    assert_true(lits[2]->u.lit.v.f == 2.5);
    assert_int_equal(lits[3]->u.lit.type, QT_BOOL);
    assert_true(lits[3]->u.lit.v.b);
    assert_int_equal(lits[4]->u.lit.type, QT_NULL);
    arena_fini(&a);
    assert_parse_error("SELECT x FROM t WHERE c = $c",
                       "no value for parameter $c at line 1, column 27");
    parsed p;
    parse(&p, "SELECT a$b FROM t");
    assert_int_equal(p.rc, SILT_OK);
    done(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_parse_select_star),
        cmocka_unit_test(test_query_parse_full_select),
        cmocka_unit_test(test_query_parse_keywords_case_insensitive),
        cmocka_unit_test(test_query_parse_group_having_distinct_nulls),
        cmocka_unit_test(test_query_parse_operators_and_precedence),
        cmocka_unit_test(test_query_parse_new_syntax_errors),
        cmocka_unit_test(test_query_parse_identifier_folding),
        cmocka_unit_test(test_query_parse_string_literal_escapes),
        cmocka_unit_test(test_query_parse_comments),
        cmocka_unit_test(test_query_parse_numeric_literals),
        cmocka_unit_test(test_query_parse_precedence),
        cmocka_unit_test(test_query_parse_literal_on_left_and_functions),
        cmocka_unit_test(test_query_parse_show),
        cmocka_unit_test(test_query_parse_error_positions),
        cmocka_unit_test(test_query_parse_error_column_counts_characters),
        cmocka_unit_test(test_query_parse_rejects_nul_and_bad_utf8),
        cmocka_unit_test(test_query_parse_depth_limit),
        cmocka_unit_test(test_query_parse_long_flat_chain),
        cmocka_unit_test(test_query_parse_size_limit),
        cmocka_unit_test(test_query_lex_tokens),
        cmocka_unit_test(test_query_parse_subquery_with_union),
        cmocka_unit_test(test_query_parse_subquery_errors),
        cmocka_unit_test(test_query_parse_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
