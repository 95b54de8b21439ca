/* SPDX-License-Identifier: MIT
 *
 * The canonical InfluxQL printer: AST -> text that parses back to the same AST (and so
 * prints the same again; the unit tests and the fuzz target check that property). Used by
 * the tests and by EXPLAIN. Canonical means: keywords upper case; function names, fill()
 * and tz() lower case; identifiers quoted only when they must be; strings in single quotes
 * with \' \\ \n escapes; durations in their largest exact unit as InfluxDB's FormatDuration
 * writes them; numbers as the shortest decimal that reads back exactly, always with a '.';
 * parentheses only where precedence needs them; AND / OR chains flat.
 *
 * The text never contains "--" or "/" "*" outside literals: binary operators are written
 * with spaces around them and a minus before another minus gets a space, so no printed text
 * turns into a comment. The printed text never nests deeper than the parsed one (it only
 * drops parentheses), so whatever parsed re-parses. Recursion is bounded by invariant (1)
 * of influxql.h.
 */
#include "influxql.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int influxql_op_prec(iql_op op) {
    switch (op) {
        case IQL_OP_OR:
            return 1;
        case IQL_OP_AND:
            return 2;
        case IQL_OP_EQ:
        case IQL_OP_NEQ:
        case IQL_OP_LT:
        case IQL_OP_LTE:
        case IQL_OP_GT:
        case IQL_OP_GTE:
        case IQL_OP_EQREGEX:
        case IQL_OP_NEQREGEX:
            return 3;
        case IQL_OP_ADD:
        case IQL_OP_SUB:
        case IQL_OP_BITOR:
        case IQL_OP_BITXOR:
            return 4;
        case IQL_OP_MUL:
        case IQL_OP_DIV:
        case IQL_OP_MOD:
        case IQL_OP_BITAND:
            return 5;
    }
    return 0;
}

const char *influxql_op_str(iql_op op) {
    static const char *const names[] = {
        [IQL_OP_ADD] = "+",       [IQL_OP_SUB] = "-",    [IQL_OP_MUL] = "*",
        [IQL_OP_DIV] = "/",       [IQL_OP_MOD] = "%",    [IQL_OP_BITAND] = "&",
        [IQL_OP_BITOR] = "|",     [IQL_OP_BITXOR] = "^", [IQL_OP_EQ] = "=",
        [IQL_OP_NEQ] = "!=",      [IQL_OP_LT] = "<",     [IQL_OP_LTE] = "<=",
        [IQL_OP_GT] = ">",        [IQL_OP_GTE] = ">=",   [IQL_OP_EQREGEX] = "=~",
        [IQL_OP_NEQREGEX] = "!~", [IQL_OP_AND] = "AND",  [IQL_OP_OR] = "OR",
    };
    if ((size_t)op >= sizeof names / sizeof names[0]) return "?";
    return names[op];
}

const char *influxql_vtype_str(iql_vtype t) {
    switch (t) {
        case IQL_T_NONE:
            return "";
        case IQL_T_FLOAT:
            return "float";
        case IQL_T_INTEGER:
            return "integer";
        case IQL_T_UNSIGNED:
            return "unsigned";
        case IQL_T_STRING:
            return "string";
        case IQL_T_BOOLEAN:
            return "boolean";
        case IQL_T_FIELD:
            return "field";
        case IQL_T_TAG:
            return "tag";
    }
    return "?";
}

/* ------------------------------------------------------------------ literals */

static bool plain_ident(str_view s) {
    if (s.n == 0) return false;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

/* Body of a quoted string or identifier: \ q and newline escaped. */
static void put_quoted(buf *b, str_view s, char q) {
    buf_putc(b, q);
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (c == '\\' || c == q) {
            buf_putc(b, '\\');
            buf_putc(b, c);
        } else if (c == '\n') {
            buf_puts(b, "\\n");
        } else {
            buf_putc(b, c);
        }
    }
    buf_putc(b, q);
}

void influxql_print_ident(buf *b, str_view name) {
    if (plain_ident(name) && influxql__kw_lookup(name.p, name.n) == IQL_KW_NONE)
        buf_append(b, name.p, name.n);
    else
        put_quoted(b, name, '"');
}

static void put_string(buf *b, str_view s) {
    put_quoted(b, s, '\'');
}

static void put_regex(buf *b, str_view re) {
    buf_putc(b, '/');
    for (size_t i = 0; i < re.n; i++) {
        char c = re.p[i];
        if (c == '/') {
            buf_puts(b, "\\/");
        } else if (c == '\\' && i + 1 < re.n) {
            buf_putc(b, c); /* a backslash pair as written (never \/, which became /) */
            buf_putc(b, re.p[++i]);
        } else {
            buf_putc(b, c);
        }
    }
    buf_putc(b, '/');
}

void influxql_print_duration(buf *b, int64_t ns) {
    static const struct {
        int64_t unit;
        const char *suffix;
    } units[] = {{7 * NS_PER_DAY, "w"}, {NS_PER_DAY, "d"}, {3600 * NS_PER_S, "h"},
                 {60 * NS_PER_S, "m"},  {NS_PER_S, "s"},   {NS_PER_MS, "ms"},
                 {NS_PER_US, "u"}};
    if (ns == 0) {
        buf_puts(b, "0s");
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ns % units[i].unit == 0) {
            buf_printf(b, "%lld%s", (long long)(ns / units[i].unit), units[i].suffix);
            return;
        }
    }
    buf_printf(b, "%lldns", (long long)ns);
}

/* A finite double as the shortest decimal that reads back exactly, in fixed notation
 * (InfluxQL has no exponents) and always with a '.'. */
static void put_number(buf *b, double v) {
    char e[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, v);
        if (strtod(e, NULL) == v) break;
    }
    /* e is "[-]d[.ddd]e[+-]xx": collect the digits and the exponent */
    const char *s = e;
    if (*s == '-') {
        buf_putc(b, '-');
        s++;
    }
    char dig[20];
    int nd = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9') dig[nd++] = *s;
    int exp10 = *s == 'e' ? atoi(s + 1) : 0;
    while (nd > 1 && dig[nd - 1] == '0') nd--;
    if (exp10 < 0) {
        buf_puts(b, "0.");
        for (int i = 0; i < -exp10 - 1; i++) buf_putc(b, '0');
        buf_append(b, dig, (size_t)nd);
        return;
    }
    for (int i = 0; i <= exp10; i++) buf_putc(b, i < nd ? dig[i] : '0');
    buf_putc(b, '.');
    if (nd > exp10 + 1)
        buf_append(b, dig + exp10 + 1, (size_t)(nd - exp10 - 1));
    else
        buf_putc(b, '0');
}

/* ------------------------------------------------------------------ expressions */

static int expr_prec(const iql_expr *e) {
    switch (e->kind) {
        case IQL_X_BINARY:
            return influxql_op_prec(e->u.bin.op);
        case IQL_X_AND:
            return 2;
        case IQL_X_OR:
            return 1;
        default:
            return 6;
    }
}

static bool negative_literal(const iql_expr *e) {
    switch (e->kind) {
        case IQL_X_INTEGER:
        case IQL_X_DURATION:
            return e->u.i < 0;
        case IQL_X_NUMBER:
            return signbit(e->u.f) != 0;
        default:
            return false;
    }
}

static void put_expr(buf *b, const iql_expr *e);

static void put_child(buf *b, const iql_expr *e, bool parens) {
    if (parens) buf_putc(b, '(');
    put_expr(b, e);
    if (parens) buf_putc(b, ')');
}

static void put_expr(buf *b, const iql_expr *e) {
    switch (e->kind) {
        case IQL_X_VARREF:
            influxql_print_ident(b, e->u.ref.name);
            if (e->u.ref.type != IQL_T_NONE) {
                buf_puts(b, "::");
                buf_puts(b, influxql_vtype_str(e->u.ref.type));
            }
            return;
        case IQL_X_INTEGER:
            buf_printf(b, "%lld", (long long)e->u.i);
            return;
        case IQL_X_UNSIGNED:
            buf_printf(b, "%llu", (unsigned long long)e->u.u);
            return;
        case IQL_X_NUMBER:
            put_number(b, e->u.f);
            return;
        case IQL_X_STRING:
            put_string(b, e->u.s);
            return;
        case IQL_X_BOOLEAN:
            buf_puts(b, e->u.b ? "true" : "false");
            return;
        case IQL_X_DURATION:
            influxql_print_duration(b, e->u.i);
            return;
        case IQL_X_REGEX:
            put_regex(b, e->u.s);
            return;
        case IQL_X_PARAM:
            buf_putc(b, '$');
            if (plain_ident(e->u.s))
                buf_append(b, e->u.s.p, e->u.s.n);
            else
                put_quoted(b, e->u.s, '"');
            return;
        case IQL_X_WILDCARD:
            buf_putc(b, '*');
            if (e->u.wildcard != IQL_T_NONE) {
                buf_puts(b, "::");
                buf_puts(b, influxql_vtype_str(e->u.wildcard));
            }
            return;
        case IQL_X_DISTINCT:
            buf_puts(b, "DISTINCT ");
            influxql_print_ident(b, e->u.s);
            return;
        case IQL_X_CALL:
            if (sv_eq_cstr(e->u.call.name, "distinct"))
                buf_puts(b, "distinct"); /* a keyword, yet a call when '(' follows */
            else
                influxql_print_ident(b, e->u.call.name);
            buf_putc(b, '(');
            for (size_t i = 0; i < e->u.call.n_args; i++) {
                if (i) buf_puts(b, ", ");
                put_expr(b, e->u.call.args[i]);
            }
            buf_putc(b, ')');
            return;
        case IQL_X_BINARY: {
            int prec = influxql_op_prec(e->u.bin.op);
            put_child(b, e->u.bin.l, expr_prec(e->u.bin.l) < prec);
            buf_putc(b, ' ');
            buf_puts(b, influxql_op_str(e->u.bin.op));
            buf_putc(b, ' ');
            put_child(b, e->u.bin.r, expr_prec(e->u.bin.r) <= prec);
            return;
        }
        case IQL_X_AND:
        case IQL_X_OR: {
            int prec = expr_prec(e);
            for (size_t i = 0; i < e->u.list.n; i++) {
                if (i) buf_puts(b, e->kind == IQL_X_AND ? " AND " : " OR ");
                put_child(b, e->u.list.args[i], expr_prec(e->u.list.args[i]) <= prec);
            }
            return;
        }
        case IQL_X_NEG: {
            const iql_expr *a = e->u.arg;
            /* "- -x", not "--x" (a comment) nor "-(-x)" (one more nesting level) */
            buf_puts(b, a->kind == IQL_X_NEG || negative_literal(a) ? "- " : "-");
            put_child(b, a, expr_prec(a) < 6);
            return;
        }
    }
}

void influxql_print_expr(const iql_expr *e, buf *b) {
    put_expr(b, e);
}

/* ------------------------------------------------------------------ statements */

static void put_source(buf *b, const iql_source *s);

static void put_select(buf *b, const iql_select *s) {
    buf_puts(b, "SELECT ");
    for (size_t i = 0; i < s->n_fields; i++) {
        if (i) buf_puts(b, ", ");
        put_expr(b, s->fields[i].expr);
        if (s->fields[i].alias.p) {
            buf_puts(b, " AS ");
            influxql_print_ident(b, s->fields[i].alias);
        }
    }
    buf_puts(b, " FROM ");
    for (size_t i = 0; i < s->n_sources; i++) {
        if (i) buf_puts(b, ", ");
        put_source(b, &s->sources[i]);
    }
    if (s->where) {
        buf_puts(b, " WHERE ");
        put_expr(b, s->where);
    }
    for (size_t i = 0; i < s->n_dims; i++) {
        const iql_dim *d = &s->dims[i];
        buf_puts(b, i ? ", " : " GROUP BY ");
        switch (d->kind) {
            case IQL_DIM_TIME:
                buf_puts(b, "time(");
                influxql_print_duration(b, d->interval_ns);
                if (d->has_offset) {
                    buf_puts(b, ", ");
                    influxql_print_duration(b, d->offset_ns);
                }
                buf_putc(b, ')');
                break;
            case IQL_DIM_TAG:
                influxql_print_ident(b, d->name);
                break;
            case IQL_DIM_WILDCARD:
                buf_putc(b, '*');
                break;
            case IQL_DIM_REGEX:
                put_regex(b, d->name);
                break;
        }
    }
    switch (s->fill) {
        case IQL_FILL_NULL:
            break;
        case IQL_FILL_NONE:
            buf_puts(b, " fill(none)");
            break;
        case IQL_FILL_PREVIOUS:
            buf_puts(b, " fill(previous)");
            break;
        case IQL_FILL_LINEAR:
            buf_puts(b, " fill(linear)");
            break;
        case IQL_FILL_NUMBER:
            buf_puts(b, " fill(");
            put_expr(b, s->fill_value);
            buf_putc(b, ')');
            break;
    }
    if (s->order == IQL_ORDER_ASC) buf_puts(b, " ORDER BY time ASC");
    if (s->order == IQL_ORDER_DESC) buf_puts(b, " ORDER BY time DESC");
    if (s->limit > 0) buf_printf(b, " LIMIT %lld", (long long)s->limit);
    if (s->offset > 0) buf_printf(b, " OFFSET %lld", (long long)s->offset);
    if (s->slimit > 0) buf_printf(b, " SLIMIT %lld", (long long)s->slimit);
    if (s->soffset > 0) buf_printf(b, " SOFFSET %lld", (long long)s->soffset);
    if (s->tz.p) {
        buf_puts(b, " tz(");
        put_string(b, s->tz);
        buf_putc(b, ')');
    }
}

static void put_source(buf *b, const iql_source *s) {
    if (s->kind == IQL_SRC_SUBQUERY) {
        buf_putc(b, '(');
        put_select(b, s->sub);
        buf_putc(b, ')');
        return;
    }
    if (s->db.n) {
        influxql_print_ident(b, s->db);
        buf_putc(b, '.');
    }
    if (s->rp.n) influxql_print_ident(b, s->rp);
    if (s->db.n || s->rp.n) buf_putc(b, '.');
    if (s->kind == IQL_SRC_REGEX)
        put_regex(b, s->name);
    else
        influxql_print_ident(b, s->name);
}

static void put_on(buf *b, const iql_show *sh) {
    if (sh->db.n) {
        buf_puts(b, " ON ");
        influxql_print_ident(b, sh->db);
    }
}

static void put_from(buf *b, const iql_show *sh) {
    for (size_t i = 0; i < sh->n_sources; i++) {
        buf_puts(b, i ? ", " : " FROM ");
        put_source(b, &sh->sources[i]);
    }
}

static void put_where_limits(buf *b, const iql_show *sh) {
    if (sh->where) {
        buf_puts(b, " WHERE ");
        put_expr(b, sh->where);
    }
    if (sh->limit > 0) buf_printf(b, " LIMIT %lld", (long long)sh->limit);
    if (sh->offset > 0) buf_printf(b, " OFFSET %lld", (long long)sh->offset);
}

void influxql_print(const iql_stmt *st, buf *b) {
    const iql_show *sh = &st->u.show;
    switch (st->kind) {
        case IQL_STMT_SELECT:
            put_select(b, st->u.select);
            return;
        case IQL_STMT_EXPLAIN:
            buf_puts(b, st->u.explain.analyze ? "EXPLAIN ANALYZE " : "EXPLAIN ");
            put_select(b, st->u.explain.select);
            return;
        case IQL_STMT_SHOW_DATABASES:
            buf_puts(b, "SHOW DATABASES");
            return;
        case IQL_STMT_SHOW_MEASUREMENTS:
            buf_puts(b, "SHOW MEASUREMENTS");
            put_on(b, sh);
            if (sh->with_measurement) {
                const iql_source *m = sh->with_measurement;
                buf_puts(b, m->kind == IQL_SRC_REGEX && !m->db.n && !m->rp.n
                                ? " WITH MEASUREMENT =~ "
                                : " WITH MEASUREMENT = ");
                put_source(b, m);
            }
            put_where_limits(b, sh);
            return;
        case IQL_STMT_SHOW_TAG_KEYS:
            buf_puts(b, "SHOW TAG KEYS");
            put_on(b, sh);
            put_from(b, sh);
            put_where_limits(b, sh);
            return;
        case IQL_STMT_SHOW_TAG_VALUES:
            buf_puts(b, "SHOW TAG VALUES");
            put_on(b, sh);
            put_from(b, sh);
            buf_puts(b, " WITH KEY ");
            switch (sh->key_op) {
                case IQL_KEY_EQ:
                case IQL_KEY_NEQ:
                    buf_puts(b, sh->key_op == IQL_KEY_EQ ? "= " : "!= ");
                    influxql_print_ident(b, sh->keys[0]);
                    break;
                case IQL_KEY_EQREGEX:
                case IQL_KEY_NEQREGEX:
                    buf_puts(b, sh->key_op == IQL_KEY_EQREGEX ? "=~ " : "!~ ");
                    put_regex(b, sh->key_regex);
                    break;
                case IQL_KEY_IN:
                    buf_puts(b, "IN (");
                    for (size_t i = 0; i < sh->n_keys; i++) {
                        if (i) buf_puts(b, ", ");
                        influxql_print_ident(b, sh->keys[i]);
                    }
                    buf_putc(b, ')');
                    break;
            }
            put_where_limits(b, sh);
            return;
        case IQL_STMT_SHOW_FIELD_KEYS:
            buf_puts(b, "SHOW FIELD KEYS");
            put_on(b, sh);
            put_from(b, sh);
            put_where_limits(b, sh);
            return;
        case IQL_STMT_SHOW_SERIES:
            buf_puts(b, "SHOW SERIES");
            put_on(b, sh);
            put_from(b, sh);
            put_where_limits(b, sh);
            return;
        case IQL_STMT_SHOW_RETENTION_POLICIES:
            buf_puts(b, "SHOW RETENTION POLICIES");
            put_on(b, sh);
            return;
        case IQL_STMT_CREATE_DATABASE: {
            const iql_create_db *c = &st->u.create_db;
            buf_puts(b, "CREATE DATABASE ");
            influxql_print_ident(b, c->name);
            if (!c->with) return;
            buf_puts(b, " WITH");
            if (c->has_duration) {
                buf_puts(b, " DURATION ");
                if (c->duration_ns == 0)
                    buf_puts(b, "INF");
                else
                    influxql_print_duration(b, c->duration_ns);
            }
            if (c->has_replication) buf_printf(b, " REPLICATION %lld", (long long)c->replication);
            if (c->has_shard_duration) {
                buf_puts(b, " SHARD DURATION ");
                if (c->shard_duration_ns == 0)
                    buf_puts(b, "INF");
                else
                    influxql_print_duration(b, c->shard_duration_ns);
            }
            if (c->has_rp_name) {
                buf_puts(b, " NAME ");
                influxql_print_ident(b, c->rp_name);
            }
            return;
        }
        case IQL_STMT_DROP_DATABASE:
            buf_puts(b, "DROP DATABASE ");
            influxql_print_ident(b, st->u.name);
            return;
        case IQL_STMT_DROP_MEASUREMENT:
            buf_puts(b, "DROP MEASUREMENT ");
            influxql_print_ident(b, st->u.name);
            return;
        case IQL_STMT_DROP_SERIES:
        case IQL_STMT_DELETE:
            buf_puts(b, st->kind == IQL_STMT_DELETE ? "DELETE" : "DROP SERIES");
            put_from(b, sh);
            put_where_limits(b, sh);
            return;
    }
}

void influxql_print_query(const iql_query *q, buf *b) {
    for (size_t i = 0; i < q->n_stmts; i++) {
        if (i) buf_puts(b, "; ");
        influxql_print(q->stmts[i], b);
    }
}
