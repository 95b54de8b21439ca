/* SPDX-License-Identifier: MIT
 *
 * InfluxQL on the engine: each statement of an InfluxQL query is translated into the SQL
 * front end's AST (qstmt), planned and run by the same planner and executor, and its rows are
 * shaped into InfluxDB 1.x results (query_v1.c) by a sink that splits them into series.
 *
 * SELECT translation, per measurement of FROM (a regex names every matching table):
 *   SELECT <group tags>, <time>, <fields> FROM m WHERE <where>
 *          [GROUP BY <group tags>, <time bucket>] ORDER BY <group tags>, time [DESC]
 *   - group tags: GROUP BY tag list, `*` (every tag) or /regex/; they come first so that the
 *     rows of one series are adjacent, and the sink cuts a series where they change.
 *   - raw queries (no function call): time is the time column; `*` expands to every field
 *     and every tag not grouped by, sorted by name (as InfluxDB lists them).
 *   - aggregates: mean -> avg, spread -> max - min, first/last -> first_value/last_value
 *     ordered by time (rows without the field have no order key), count(*) and f(*) -> one
 *     column per field (count_<field>); GROUP BY time(i[, offset]) -> date_bin(i, time,
 *     origin offset) as the time column (with tz(): a CASE over the zone's offset changes in
 *     the WHERE range, one date_bin per constant offset); without it the time of every row
 *     is the start of the WHERE time range (0 when it has none), as InfluxDB reports it, but
 *     for one selector alone (first, last, min, max), whose row has its point's time (read
 *     from a hidden selector_<fn>(f, time) column).
 *   - mode(), distinct(), integral(): the raw points of each series go, in time order, to a
 *     reducer here that hands its rows to the same series sink (see "mode, distinct,
 *     integral" below).
 *   - WHERE: InfluxQL operators map one to one; =~ and !~ are POSIX regex matches; a string
 *     compared with time is a time literal (RFC 3339 or a date), an integer compared with
 *     time is nanoseconds; tag = '' matches rows without the tag.
 * The sink applies what SQL cannot say per series: fill(null|none|number|previous|linear) of
 * the empty time buckets of a series, LIMIT / OFFSET per series, SLIMIT / SOFFSET over
 * series, and tz()'s times (RFC 3339 with the zone's offset, influxql_tz.c). Column names
 * follow InfluxDB: a field's name, a function's name (max, mean), an expression's variable
 * names joined by '_', the alias; repeated names get _1, _2.
 */
#include "influxql.h"
#include "query_int.h"
#include "query_v1.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ AST construction */

typedef struct tctx {
    qctx *q;
    arena *a;
    const query_table *tbl;
    const char *src_text; /* the InfluxQL query, for messages */
    const iql_tz *tz;     /* tz(): time literals without an offset are local times */
    const query_influxql_opts *opts; /* params: values of $name placeholders */
    silt_err *err;
    int rc;
} tctx;

static qexpr *nx(tctx *c, qexpr_kind k) {
    qexpr *e = arena_alloc(c->a, sizeof *e);
    memset(e, 0, sizeof *e);
    e->kind = k;
    return e;
}

static qexpr *col_ref(tctx *c, const char *name) {
    qexpr *e = nx(c, QX_COLUMN);
    e->u.col.name = name;
    return e;
}

static qexpr *lit_int(tctx *c, int64_t v, qtype t) {
    qexpr *e = nx(c, QX_LITERAL);
    e->u.lit.type = t;
    e->u.lit.v.i = v;
    return e;
}

static qexpr *func(tctx *c, const char *name, qexpr **args, size_t n) {
    qexpr *e = nx(c, QX_FUNC);
    e->u.func.name = name;
    e->u.func.args = arena_alloc(c->a, (n ? n : 1) * sizeof *args);
    memcpy(e->u.func.args, args, n * sizeof *args);
    e->u.func.n = n;
    return e;
}

static qexpr *func1(tctx *c, const char *name, qexpr *arg) {
    return func(c, name, &arg, 1);
}

/* a AND b; a NULL side is left out. */
static qexpr *and2(tctx *c, qexpr *a, qexpr *b) {
    if (!a || !b) return a ? a : b;
    qexpr *e = nx(c, QX_AND);
    e->u.list.args = arena_alloc(c->a, 2 * sizeof(qexpr *));
    e->u.list.args[0] = a;
    e->u.list.args[1] = b;
    e->u.list.n = 2;
    return e;
}

static qexpr *binary(tctx *c, qexpr_kind k, qop op, qexpr *l, qexpr *r) {
    qexpr *e = nx(c, k);
    e->u.bin.op = op;
    e->u.bin.l = l;
    e->u.bin.r = r;
    return e;
}

static const char *cstr(tctx *c, str_view s) {
    return arena_strndup(c->a, s.p, s.n);
}

__attribute__((format(printf, 3, 4))) static int fail(tctx *c, int code, const char *fmt, ...) {
    if (!c->rc) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        c->rc = SILT_FAIL(c->err, code, "%s", msg);
    }
    return c->rc;
}

/* Column kind of name in the table: QCOL_TAG, QCOL_FIELD, QCOL_TIME, or 0 if unknown. */
static int col_kind(const query_table *t, const char *name, lp_type *type) {
    for (size_t i = 0; i < t->n_cols; i++)
        if (!strcmp(t->cols[i].name, name)) {
            if (type) *type = t->cols[i].type;
            return (int)t->cols[i].kind;
        }
    return 0;
}

/* ------------------------------------------------------------------ expressions */

static qexpr *tr_expr(tctx *c, const iql_expr *e);

static bool is_time_ref(const iql_expr *e) {
    return e->kind == IQL_X_VARREF && e->u.ref.name.n == 4 && !memcmp(e->u.ref.name.p, "time", 4);
}

/* A time literal; with tz() one without a zone ('2016-01-01 00:00:00', '2016-01-01') is a
 * local time of that zone, as InfluxDB 1.x parses it (Go's time.ParseInLocation). */
static int time_literal_in(const iql_tz *tz, str_view s, int64_t *t) {
    int rc = influxql_time_literal(s, t);
    if (rc != SILT_OK || !tz) return rc;
    const char *tp = memchr(s.p, 'T', s.n);
    if (!tp) tp = memchr(s.p, ' ', s.n);
    bool zoned = s.n && (s.p[s.n - 1] == 'Z' || s.p[s.n - 1] == 'z');
    for (const char *q = tp; q && q < s.p + s.n && !zoned; q++) zoned = *q == '+' || *q == '-';
    if (zoned) return SILT_OK;
    const int64_t S = INT64_C(1000000000);
    int64_t guess = *t - (int64_t)influxql_tz_offset(tz, *t / S) * S;
    *t -= (int64_t)influxql_tz_offset(tz, guess / S) * S;
    return SILT_OK;
}

/* A constant of durations and integers (ns) joined by + and -: Grafana's time filter
 * `time >= 1451606400000ms` compares time with a duration, which InfluxDB 1.x reads as that
 * long after the epoch. */
static bool const_duration(const iql_expr *e, int64_t *ns) {
    switch (e->kind) {
        case IQL_X_DURATION:
        case IQL_X_INTEGER:
            *ns = e->u.i;
            return true;
        case IQL_X_BINARY: {
            int64_t a, b;
            if ((e->u.bin.op != IQL_OP_ADD && e->u.bin.op != IQL_OP_SUB) ||
                !const_duration(e->u.bin.l, &a) || !const_duration(e->u.bin.r, &b))
                return false;
            bool dur = e->u.bin.l->kind != IQL_X_INTEGER || e->u.bin.r->kind != IQL_X_INTEGER;
            if (!dur) return false; /* integer arithmetic: not ours */
            return e->u.bin.op == IQL_OP_ADD ? !__builtin_add_overflow(a, b, ns)
                                             : !__builtin_sub_overflow(a, b, ns);
        }
        default:
            return false;
    }
}

/* The value of a $name placeholder (InfluxDB 3's params); fails the statement without one. */
static const query_param *find_param(tctx *c, str_view name) {
    for (size_t i = 0; c->opts && i < c->opts->n_params; i++)
        if (sv_eq_cstr(name, c->opts->params[i].name)) return &c->opts->params[i];
    fail(c, SILT_EINVAL, "no value for parameter $%s", cstr(c, name));
    return NULL;
}

static qexpr *tr_literal_for_time(tctx *c, const iql_expr *e) {
    if (e->kind == IQL_X_PARAM) { /* a string is a time literal, an integer nanoseconds */
        const query_param *pv = find_param(c, e->u.s);
        if (!pv) return NULL;
        if (pv->type == QPARAM_STRING) {
            int64_t t;
            if (time_literal_in(c->tz, sv_from(pv->s), &t) != SILT_OK) {
                fail(c, SILT_EINVAL, "invalid time literal '%s'", pv->s);
                return NULL;
            }
            return lit_int(c, t, QT_TIME);
        }
        if (pv->type == QPARAM_INT) return lit_int(c, pv->i, QT_TIME);
    }
    int64_t ns;
    if (e->kind != IQL_X_INTEGER && const_duration(e, &ns)) return lit_int(c, ns, QT_TIME);
    if (e->kind == IQL_X_STRING) {
        int64_t t;
        if (time_literal_in(c->tz, e->u.s, &t) != SILT_OK) {
            fail(c, SILT_EINVAL, "invalid time literal '%s'", cstr(c, e->u.s));
            return NULL;
        }
        return lit_int(c, t, QT_TIME);
    }
    if (e->kind == IQL_X_INTEGER) return lit_int(c, e->u.i, QT_TIME);
    return tr_expr(c, e);
}

static qexpr *tr_compare(tctx *c, const iql_expr *e, qop op) {
    const iql_expr *l = e->u.bin.l, *r = e->u.bin.r;
    qexpr *ql, *qr;
    if (is_time_ref(l)) {
        ql = col_ref(c, "time");
        qr = tr_literal_for_time(c, r);
    } else if (is_time_ref(r)) {
        ql = tr_literal_for_time(c, l);
        qr = col_ref(c, "time");
    } else {
        ql = tr_expr(c, l);
        qr = tr_expr(c, r);
    }
    if (!ql || !qr) return NULL;
    /* tag = '' is true where the tag is absent (InfluxDB stores no empty tag values) */
    const iql_expr *ref = l->kind == IQL_X_VARREF ? l : r->kind == IQL_X_VARREF ? r : NULL;
    const iql_expr *lit = ref == l ? r : l;
    if (ref && lit->kind == IQL_X_STRING && lit->u.s.n == 0 && (op == QOP_EQ || op == QOP_NE) &&
        col_kind(c->tbl, cstr(c, ref->u.ref.name), NULL) == QCOL_TAG) {
        qexpr *isn = nx(c, QX_IS_NULL);
        isn->u.un.arg = col_ref(c, cstr(c, ref->u.ref.name));
        isn->u.un.negated = op == QOP_NE;
        return isn;
    }
    return binary(c, QX_CMP, op, ql, qr);
}

static qexpr *tr_regex(tctx *c, const iql_expr *e, bool negated) {
    if (e->u.bin.r->kind != IQL_X_REGEX) {
        fail(c, SILT_EINVAL, "%s", "the right side of =~ and !~ must be a regular expression");
        return NULL;
    }
    qexpr *x = nx(c, QX_LIKE);
    qexpr *l = tr_expr(c, e->u.bin.l);
    if (!l) return NULL;
    qexpr *pat = nx(c, QX_LITERAL);
    pat->u.lit.type = QT_STRING;
    pat->u.lit.v.s = (str_view){cstr(c, e->u.bin.r->u.s), e->u.bin.r->u.s.n};
    x->u.list.args = arena_alloc(c->a, 2 * sizeof(qexpr *));
    x->u.list.args[0] = l;
    x->u.list.args[1] = pat;
    x->u.list.n = 2;
    x->u.list.negated = negated;
    x->u.list.like = QLIKE_RE;
    return x;
}

static qexpr *tr_expr(tctx *c, const iql_expr *e) {
    if (c->rc) return NULL;
    switch (e->kind) {
        case IQL_X_VARREF: {
            const char *name = cstr(c, e->u.ref.name);
            if (strcmp(name, "time") && !col_kind(c->tbl, name, NULL)) {
                /* a name the measurement lacks is NULL (InfluxDB: no value) */
                qexpr *x = nx(c, QX_LITERAL);
                x->u.lit.type = QT_NULL;
                return x;
            }
            qexpr *r = col_ref(c, name);
            static const qtype cast_to[] = {[IQL_T_FLOAT] = QT_FLOAT,
                                            [IQL_T_INTEGER] = QT_INT,
                                            [IQL_T_UNSIGNED] = QT_UINT,
                                            [IQL_T_STRING] = QT_STRING,
                                            [IQL_T_BOOLEAN] = QT_BOOL};
            if (e->u.ref.type >= IQL_T_FLOAT && e->u.ref.type <= IQL_T_BOOLEAN) {
                qexpr *cst = nx(c, QX_CAST);
                cst->u.cast.arg = r;
                cst->u.cast.to = cast_to[e->u.ref.type];
                return cst;
            }
            return r;
        }
        case IQL_X_INTEGER:
            return lit_int(c, e->u.i, QT_INT);
        case IQL_X_UNSIGNED: {
            qexpr *x = nx(c, QX_LITERAL);
            x->u.lit.type = QT_UINT;
            x->u.lit.v.u = e->u.u;
            return x;
        }
        case IQL_X_NUMBER: {
            qexpr *x = nx(c, QX_LITERAL);
            x->u.lit.type = QT_FLOAT;
            x->u.lit.v.f = e->u.f;
            return x;
        }
        case IQL_X_STRING: {
            qexpr *x = nx(c, QX_LITERAL);
            x->u.lit.type = QT_STRING;
            x->u.lit.v.s = (str_view){cstr(c, e->u.s), e->u.s.n};
            return x;
        }
        case IQL_X_BOOLEAN: {
            qexpr *x = nx(c, QX_LITERAL);
            x->u.lit.type = QT_BOOL;
            x->u.lit.v.b = e->u.b;
            return x;
        }
        case IQL_X_DURATION:
            return lit_int(c, e->u.i, QT_INTERVAL);
        case IQL_X_CALL: {
            if (e->u.call.name.n == 3 && !memcmp(e->u.call.name.p, "now", 3) && !e->u.call.n_args)
                return func(c, "now", NULL, 0);
            fail(c, SILT_EINVAL, "function %s() is not allowed here", cstr(c, e->u.call.name));
            return NULL;
        }
        case IQL_X_BINARY: {
            iql_op op = e->u.bin.op;
            switch (op) {
                case IQL_OP_EQ:
                    return tr_compare(c, e, QOP_EQ);
                case IQL_OP_NEQ:
                    return tr_compare(c, e, QOP_NE);
                case IQL_OP_LT:
                    return tr_compare(c, e, QOP_LT);
                case IQL_OP_LTE:
                    return tr_compare(c, e, QOP_LE);
                case IQL_OP_GT:
                    return tr_compare(c, e, QOP_GT);
                case IQL_OP_GTE:
                    return tr_compare(c, e, QOP_GE);
                case IQL_OP_EQREGEX:
                    return tr_regex(c, e, false);
                case IQL_OP_NEQREGEX:
                    return tr_regex(c, e, true);
                default:
                    break;
            }
            static const qop arith[] = {[IQL_OP_ADD] = QOP_ADD,
                                        [IQL_OP_SUB] = QOP_SUB,
                                        [IQL_OP_MUL] = QOP_MUL,
                                        [IQL_OP_DIV] = QOP_DIV,
                                        [IQL_OP_MOD] = QOP_MOD};
            if (op > IQL_OP_MOD) {
                fail(c, SILT_EINVAL, "operator %s is not supported", influxql_op_str(op));
                return NULL;
            }
            qexpr *l = tr_expr(c, e->u.bin.l), *r = tr_expr(c, e->u.bin.r);
            if (!l || !r) return NULL;
            /* InfluxQL divides as floats: 5 / 2 is 2.5 */
            if (op == IQL_OP_DIV) {
                qexpr *cst = nx(c, QX_CAST);
                cst->u.cast.arg = l;
                cst->u.cast.to = QT_FLOAT;
                l = cst;
            }
            return binary(c, QX_ARITH, arith[op], l, r);
        }
        case IQL_X_AND:
        case IQL_X_OR: {
            qexpr *x = nx(c, e->kind == IQL_X_AND ? QX_AND : QX_OR);
            x->u.list.args = arena_alloc(c->a, e->u.list.n * sizeof(qexpr *));
            for (size_t i = 0; i < e->u.list.n; i++)
                if (!(x->u.list.args[i] = tr_expr(c, e->u.list.args[i]))) return NULL;
            x->u.list.n = e->u.list.n;
            return x;
        }
        case IQL_X_NEG: {
            qexpr *x = nx(c, QX_NEG);
            if (!(x->u.un.arg = tr_expr(c, e->u.arg))) return NULL;
            return x;
        }
        case IQL_X_REGEX:
            fail(c, SILT_EINVAL, "%s", "a regular expression is only allowed after =~ or !~");
            return NULL;
        case IQL_X_PARAM: {
            const query_param *pv = find_param(c, e->u.s);
            if (!pv) return NULL;
            qexpr *x = nx(c, QX_LITERAL);
            x->u.lit = query__param_value(pv);
            return x;
        }
        default:
            fail(c, SILT_EINVAL, "%s", "unsupported expression");
            return NULL;
    }
}

/* ------------------------------------------------------------------ SELECT fields */

/* One output column of a SELECT: its expression (over the table) and its name. */
typedef struct ofield {
    qexpr *expr;
    const char *name;
} ofield;

typedef struct fields {
    ofield *v;
    size_t n, cap;
} fields;

static void fields_add(tctx *c, fields *f, qexpr *e, const char *name) {
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        ofield *nv = arena_alloc(c->a, cap * sizeof *nv);
        if (f->n) memcpy(nv, f->v, f->n * sizeof *nv);
        f->v = nv;
        f->cap = cap;
    }
    f->v[f->n++] = (ofield){e, name};
}

static bool has_call(const iql_expr *e) {
    switch (e->kind) {
        case IQL_X_CALL:
            return !(e->u.call.name.n == 3 && !memcmp(e->u.call.name.p, "now", 3));
        case IQL_X_BINARY:
            return has_call(e->u.bin.l) || has_call(e->u.bin.r);
        case IQL_X_NEG:
            return has_call(e->u.arg);
        default:
            return false;
    }
}

/* InfluxDB's name of an unaliased field: a variable's name, a call's function name, the
 * names of a binary expression's sides joined by '_'. */
static void expr_name(const iql_expr *e, buf *b) {
    switch (e->kind) {
        case IQL_X_VARREF:
            if (b->len) buf_putc(b, '_');
            buf_append(b, e->u.ref.name.p, e->u.ref.name.n);
            break;
        case IQL_X_CALL:
            if (b->len) buf_putc(b, '_');
            buf_append(b, e->u.call.name.p, e->u.call.name.n);
            break;
        case IQL_X_BINARY:
            expr_name(e->u.bin.l, b);
            expr_name(e->u.bin.r, b);
            break;
        case IQL_X_NEG:
            expr_name(e->u.arg, b);
            break;
        default:
            break;
    }
}

static bool numeric(lp_type t) {
    return t == LP_FLOAT || t == LP_INT || t == LP_UINT;
}

/* Does name match the pattern of a regex argument / wildcard? */
static bool name_matches(tctx *c, const iql_expr *pat, const char *name) {
    if (pat->kind == IQL_X_WILDCARD) return true;
    regex_t re;
    const char *p = cstr(c, pat->u.s);
    if (regcomp(&re, p, REG_EXTENDED | REG_NOSUB)) {
        fail(c, SILT_EINVAL, "invalid regular expression /%s/", p);
        return false;
    }
    bool m = regexec(&re, name, 0, NULL, 0) == 0;
    regfree(&re);
    return m;
}

/* The SQL aggregate of an InfluxQL call on argument `arg` (already translated). */
static qexpr *agg_call(tctx *c, const char *fn, const iql_expr *call, qexpr *arg) {
    lp_type ft;
    bool numeric_only = !strcmp(fn, "mean") || !strcmp(fn, "sum") || !strcmp(fn, "median") ||
                        !strcmp(fn, "stddev") || !strcmp(fn, "spread") || !strcmp(fn, "percentile");
    if (numeric_only && arg->kind == QX_COLUMN && c->tbl &&
        col_kind(c->tbl, arg->u.col.name, &ft) == QCOL_FIELD && !numeric(ft)) {
        /* said in InfluxQL's words (the SQL below would name avg() and a position) */
        fail(c, SILT_EINVAL, "%s() needs a numeric field: %s is a %s field", fn, arg->u.col.name,
             ft == LP_STRING ? "string" : "boolean");
        return NULL;
    }
    if (!strcmp(fn, "mean")) return func1(c, "avg", arg);
    if (!strcmp(fn, "count") || !strcmp(fn, "sum") || !strcmp(fn, "min") || !strcmp(fn, "max") ||
        !strcmp(fn, "median") || !strcmp(fn, "stddev"))
        return func1(c, fn, arg);
    if (!strcmp(fn, "spread"))
        return binary(c, QX_ARITH, QOP_SUB, func1(c, "max", arg), func1(c, "min", arg));
    if (!strcmp(fn, "first") || !strcmp(fn, "last")) {
        /* the first / last point that has the field (InfluxDB skips NULLs): a row without
         * it has no order key, so it is no candidate */
        qexpr *f = func1(c, fn[0] == 'f' ? "first_value" : "last_value", arg);
        qexpr *isn = nx(c, QX_IS_NULL);
        isn->u.un.arg = arg;
        qexpr *cs = nx(c, QX_CASE);
        cs->u.cs.whens = arena_alloc(c->a, sizeof(qexpr *));
        cs->u.cs.thens = arena_alloc(c->a, sizeof(qexpr *));
        cs->u.cs.whens[0] = isn;
        cs->u.cs.thens[0] = nx(c, QX_LITERAL); /* NULL */
        cs->u.cs.thens[0]->u.lit.type = QT_NULL;
        cs->u.cs.n = 1;
        cs->u.cs.els = col_ref(c, "time");
        f->u.func.order = cs;
        return f;
    }
    if (!strcmp(fn, "percentile")) {
        if (call->u.call.n_args != 2 || (call->u.call.args[1]->kind != IQL_X_INTEGER &&
                                         call->u.call.args[1]->kind != IQL_X_NUMBER)) {
            fail(c, SILT_EINVAL, "%s", "percentile() takes a field and a number");
            return NULL;
        }
        const iql_expr *n = call->u.call.args[1];
        double p = (n->kind == IQL_X_INTEGER ? (double)n->u.i : n->u.f) / 100.0;
        qexpr *pl = nx(c, QX_LITERAL);
        pl->u.lit.type = QT_FLOAT;
        pl->u.lit.v.f = p;
        qexpr *args[2] = {arg, pl};
        return func(c, "approx_percentile_cont", args, 2);
    }
    if (!strcmp(fn, "mode") || !strcmp(fn, "distinct") || !strcmp(fn, "integral"))
        fail(c, SILT_EINVAL, "%s() cannot be used in an expression or with other functions yet",
             fn);
    else
        fail(c, SILT_EINVAL, "function %s() is not supported yet", fn);
    return NULL;
}

/* Translate an aggregate field expression (calls anywhere in arithmetic). */
static qexpr *tr_agg_expr(tctx *c, const iql_expr *e) {
    if (c->rc) return NULL;
    if (e->kind == IQL_X_CALL && has_call(e)) {
        const char *fn = cstr(c, e->u.call.name);
        if (e->u.call.n_args < 1) {
            fail(c, SILT_EINVAL, "function %s() needs an argument", fn);
            return NULL;
        }
        const iql_expr *a0 = e->u.call.args[0];
        /* count(distinct(x)) and count(DISTINCT x) */
        if (!strcmp(fn, "count") &&
            (a0->kind == IQL_X_DISTINCT ||
             (a0->kind == IQL_X_CALL && a0->u.call.name.n == 8 &&
              !memcmp(a0->u.call.name.p, "distinct", 8) && a0->u.call.n_args == 1 &&
              a0->u.call.args[0]->kind == IQL_X_VARREF))) {
            str_view nm = a0->kind == IQL_X_DISTINCT ? a0->u.s : a0->u.call.args[0]->u.ref.name;
            qexpr *f = func1(c, "count", col_ref(c, cstr(c, nm)));
            f->u.func.distinct = true;
            return f;
        }
        if (a0->kind != IQL_X_VARREF) {
            fail(c, SILT_EINVAL, "expected field argument in %s()", fn);
            return NULL;
        }
        qexpr *arg = tr_expr(c, a0);
        return arg ? agg_call(c, fn, e, arg) : NULL;
    }
    if (e->kind == IQL_X_BINARY && e->u.bin.op <= IQL_OP_MOD) {
        qexpr *l = tr_agg_expr(c, e->u.bin.l), *r = tr_agg_expr(c, e->u.bin.r);
        if (!l || !r) return NULL;
        static const qop arith[] = {[IQL_OP_ADD] = QOP_ADD,
                                    [IQL_OP_SUB] = QOP_SUB,
                                    [IQL_OP_MUL] = QOP_MUL,
                                    [IQL_OP_DIV] = QOP_DIV,
                                    [IQL_OP_MOD] = QOP_MOD};
        if (e->u.bin.op == IQL_OP_DIV) {
            qexpr *cst = nx(c, QX_CAST);
            cst->u.cast.arg = l;
            cst->u.cast.to = QT_FLOAT;
            l = cst;
        }
        return binary(c, QX_ARITH, arith[e->u.bin.op], l, r);
    }
    if (e->kind == IQL_X_NEG) {
        qexpr *x = nx(c, QX_NEG);
        return (x->u.un.arg = tr_agg_expr(c, e->u.arg)) ? x : NULL;
    }
    if (e->kind == IQL_X_VARREF) {
        fail(c, SILT_EINVAL, "%s", "mixing aggregate and non-aggregate queries is not supported");
        return NULL;
    }
    return tr_expr(c, e);
}

static void dedupe_names(tctx *c, fields *out);

static int cmp_cstr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Expand the SELECT list into output fields. grouped[i]: table column i is a group tag. */
static void build_fields(tctx *c, const iql_select *s, const bool *grouped, bool agg, fields *out) {
    const query_table *t = c->tbl;
    buf nb = {0};
    for (size_t i = 0; i < s->n_fields && !c->rc; i++) {
        const iql_field *f = &s->fields[i];
        const iql_expr *e = f->expr;
        bool aliased = f->alias.p != NULL;
        if (!agg && (e->kind == IQL_X_WILDCARD || e->kind == IQL_X_REGEX)) {
            /* *, *::field, *::tag, /re/: fields and ungrouped tags, by name */
            const char **names = arena_alloc(c->a, (t->n_cols + 1) * sizeof *names);
            size_t n = 0;
            for (size_t k = 0; k < t->n_cols; k++) {
                const query_column *col = &t->cols[k];
                if (col->kind == QCOL_TIME || grouped[k]) continue;
                if (e->kind == IQL_X_WILDCARD && e->u.wildcard == IQL_T_FIELD &&
                    col->kind != QCOL_FIELD)
                    continue;
                if (e->kind == IQL_X_WILDCARD && e->u.wildcard == IQL_T_TAG &&
                    col->kind != QCOL_TAG)
                    continue;
                if (e->kind == IQL_X_REGEX && !name_matches(c, e, col->name)) continue;
                names[n++] = col->name;
            }
            qsort(names, n, sizeof *names, cmp_cstr);
            for (size_t k = 0; k < n; k++) fields_add(c, out, col_ref(c, names[k]), names[k]);
            continue;
        }
        if (agg && e->kind == IQL_X_CALL && e->u.call.n_args >= 1 &&
            (e->u.call.args[0]->kind == IQL_X_WILDCARD || e->u.call.args[0]->kind == IQL_X_REGEX)) {
            /* f(*), f(/re/): one column per matching field, named f_field */
            const char *fn = cstr(c, e->u.call.name);
            bool num_only = strcmp(fn, "count") && strcmp(fn, "first") && strcmp(fn, "last");
            const char **names = arena_alloc(c->a, (t->n_cols + 1) * sizeof *names);
            size_t n = 0;
            for (size_t k = 0; k < t->n_cols; k++) {
                const query_column *col = &t->cols[k];
                if (col->kind != QCOL_FIELD || (num_only && !numeric(col->type))) continue;
                if (!name_matches(c, e->u.call.args[0], col->name)) continue;
                names[n++] = col->name;
            }
            qsort(names, n, sizeof *names, cmp_cstr);
            for (size_t k = 0; k < n; k++) {
                qexpr *x = agg_call(c, fn, e, col_ref(c, names[k]));
                if (!x) break;
                buf_reset(&nb);
                buf_printf(&nb, "%s_%s", aliased ? cstr(c, f->alias) : fn, names[k]);
                fields_add(c, out, x, arena_strndup(c->a, (const char *)nb.p, nb.len));
            }
            continue;
        }
        qexpr *x = agg ? tr_agg_expr(c, e) : tr_expr(c, e);
        if (!x) break;
        buf_reset(&nb);
        if (aliased)
            buf_append(&nb, f->alias.p, f->alias.n);
        else
            expr_name(e, &nb);
        if (!nb.len) buf_puts(&nb, "expr");
        fields_add(c, out, x, arena_strndup(c->a, (const char *)nb.p, nb.len));
    }
    buf_free(&nb);
    dedupe_names(c, out);
}

/* Repeated output names get _1, _2, ... (InfluxDB). */
static void dedupe_names(tctx *c, fields *out) {
    const char **orig = arena_alloc(c->a, (out->n + 1) * sizeof *orig);
    for (size_t i = 0; i < out->n; i++) orig[i] = out->v[i].name;
    for (size_t i = 1; i < out->n; i++) {
        int k = 0;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(orig[j], orig[i])) k++;
        if (k) {
            char tmp[32];
            snprintf(tmp, sizeof tmp, "_%d", k);
            size_t ln = strlen(out->v[i].name), lt = strlen(tmp);
            char *nn = arena_alloc(c->a, ln + lt + 1);
            memcpy(nn, out->v[i].name, ln);
            memcpy(nn + ln, tmp, lt + 1);
            out->v[i].name = nn;
        }
    }
}

/* ------------------------------------------------------------------ the series sink */

/* Rows arrive sorted by the group tags, then time; columns: n_tags tags, then (if has_time)
 * time, then the n_out output columns. */
typedef struct series_sink {
    v1_writer *w;
    const char *measurement;
    const qout_col *cols;
    size_t n_cols, n_tags, n_out;
    bool has_time;      /* a time column from the plan (raw rows or GROUP BY time) */
    bool sel_time;      /* a lone selector: the row's time is its point's, from the hidden
                         * selector_<fn>(f, time) column after the outputs */
    int64_t const_time; /* !has_time: every row's time */
    const char **tag_keys;
    bool tags_in_output; /* the statement groups by tags: series carry "tags" */
    /* per series limits */
    int64_t limit, offset, slimit, soffset;
    /* fill (GROUP BY time only) */
    bool fill_on;
    iql_fill fill;
    double fill_f;
    int64_t fill_i;
    bool fill_is_int;
    const bool *count_col;    /* per output: a count() call, which fill(null) fills with 0 (as
                               * InfluxDB 1.x does: an empty interval has a count of 0) */
    int64_t interval, origin; /* bucket = origin + k * interval (tz: influxql_tz_bucket) */
    const iql_tz *tz;         /* tz(): buckets in that zone, times printed in it; NULL: UTC */
    bool tz_print;            /* tz and RFC 3339 output: the time column is a string */
    int64_t first_bucket, last_bucket; /* of the WHERE range; INT64_MIN / MAX: unbounded */
    bool desc;
    /* state */
    bool in_series, series_open, series_skipped;
    int64_t series_index, rows_in_series;
    buf cur_tags;        /* the current series' tag values, each as u32 length + bytes */
    int64_t next_bucket; /* the next bucket the current series must show */
    bool have_next;
    /* fill(previous): the last row's output values */
    query_vec *prev;
    uint8_t *prev_valid;
    double *prev_f;
    int64_t *prev_i;
    uint64_t *prev_u;
    uint8_t *prev_b;
    str_view *prev_s;
    size_t *prev_off;
    buf prev_str;
    bool have_prev;
    int64_t prev_t; /* fill(linear): the time of the remembered row */
    /* fill(linear): the real row that ends the gap being filled (NULL at a series' end) */
    const query_vec *const *lin_next;
    uint32_t lin_i;
    int64_t lin_t;
    v1_type *types; /* time, then the outputs */
    str_view *col_names;
    uint8_t *src_kinds; /* per series column: qout_col.src_kind (time, then the outputs) */
    silt_err *err;
} series_sink;

static v1_type v1_of(qtype t) {
    switch (t) {
        case QT_BOOL:
            return V1_BOOL;
        case QT_INT:
            return V1_INT;
        case QT_UINT:
            return V1_UINT;
        case QT_FLOAT:
            return V1_FLOAT;
        case QT_STRING:
            return V1_STRING;
        case QT_TIME:
            return V1_TIME;
        case QT_INTERVAL:
            return V1_INT;
        default:
            return V1_NULL;
    }
}

static int64_t floor_bucket(int64_t t, int64_t interval, int64_t origin) {
    /* origin + floor((t - origin) / interval) * interval, without overflow for sane inputs */
    __int128 d = (__int128)t - origin;
    __int128 q = d / interval;
    if (d % interval < 0) q--;
    __int128 b = (__int128)origin + q * interval;
    if (b < INT64_MIN) return INT64_MIN;
    if (b > INT64_MAX) return INT64_MAX;
    return (int64_t)b;
}

/* The bucket holding t, the one after and the one before bucket b. */
static int64_t ss_bucket(const series_sink *s, int64_t t) {
    return s->tz ? influxql_tz_bucket(s->tz, t, s->interval, s->origin)
                 : floor_bucket(t, s->interval, s->origin);
}

static int64_t ss_next_bucket(const series_sink *s, int64_t b) {
    if (b > INT64_MAX - 2 * s->interval) return INT64_MAX;
    return s->tz ? influxql_tz_bucket_next(s->tz, b, s->interval, s->origin) : b + s->interval;
}

static int64_t ss_prev_bucket(const series_sink *s, int64_t b) {
    if (b < INT64_MIN + 2 * s->interval) return INT64_MIN;
    return s->tz ? ss_bucket(s, b - 1) : b - s->interval;
}

/* fill(linear) of output c at time t between the remembered row and s->lin_next: the value
 * on the line through both (integers truncated toward zero, as InfluxDB's linearInteger);
 * false when either side has no numeric value. */
static bool ss_linear(series_sink *s, size_t c, int64_t t, v1_type ft, query_vec *o, double *f,
                      int64_t *i, uint64_t *u) {
    if (!s->have_prev || !s->lin_next || !s->prev_valid[c] || s->lin_t == s->prev_t) return false;
    const query_vec *nv = s->lin_next[c];
    uint32_t ni = s->lin_i;
    if (nv->valid && !nv->valid[ni]) return false;
    double x = (double)(t - s->prev_t), dt = (double)(s->lin_t - s->prev_t);
    switch (ft) {
        case V1_FLOAT:
            if (!nv->f64) return false;
            *f = (nv->f64[ni] - s->prev_f[c]) / dt * x + s->prev_f[c];
            o->f64 = f;
            return true;
        case V1_INT:
            if (!nv->i64) return false;
            *i = (int64_t)((double)(nv->i64[ni] - s->prev_i[c]) / dt * x + (double)s->prev_i[c]);
            o->i64 = i;
            return true;
        case V1_UINT:
            if (!nv->u64) return false;
            *u = (uint64_t)(((double)nv->u64[ni] - (double)s->prev_u[c]) / dt * x +
                            (double)s->prev_u[c]);
            o->u64 = u;
            return true;
        default:
            return false;
    }
}

static void ss_open_series(series_sink *s) {
    if (s->series_open) return;
    str_view vals[64];
    size_t nt = s->n_tags < 64 ? s->n_tags : 64;
    const uint8_t *p = s->cur_tags.p;
    for (size_t i = 0; i < nt; i++) {
        uint32_t len;
        memcpy(&len, p, 4);
        vals[i] = (str_view){(const char *)p + 4, len};
        p += 4 + len;
    }
    str_view keys[64];
    for (size_t i = 0; i < nt; i++) keys[i] = (str_view){s->tag_keys[i], strlen(s->tag_keys[i])};
    query_v1_series_begin(s->w, (str_view){s->measurement, strlen(s->measurement)},
                          s->tags_in_output ? keys : NULL, vals, nt, s->col_names, s->n_out + 1);
    query_v1_series_src_kinds(s->w, s->src_kinds, s->n_out + 1);
    s->series_open = true;
}

/* Emit one output row (time t, values outs[c] at row i; outs NULL: a fill row), through
 * the per-series OFFSET / LIMIT. */
static void ss_emit(series_sink *s, int64_t t, const query_vec *const *outs, uint32_t i) {
    if (s->series_skipped) return;
    int64_t idx = s->rows_in_series++;
    bool keep_prev =
        outs && s->fill_on && (s->fill == IQL_FILL_PREVIOUS || s->fill == IQL_FILL_LINEAR);
    bool shown = idx >= s->offset && !(s->limit > 0 && idx >= s->offset + s->limit);
    if (!shown && !keep_prev) return;
    enum { MAXC = 1024 };
    double lin_f[MAXC];
    int64_t lin_i[MAXC];
    uint64_t lin_u[MAXC];
    size_t n = s->n_out < MAXC ? s->n_out : MAXC;
    static const uint8_t yes = 1, no = 0;
    query_vec one[MAXC];
    const query_vec *vecs[1 + MAXC];
    query_vec tv = {.i64 = &t};
    vecs[0] = &tv;
    v1_type ft[1 + MAXC];
    memcpy(ft, s->types, (n + 1) * sizeof *ft);
    char tbuf[64];
    str_view tstr;
    if (s->tz_print) { /* tz(): RFC 3339 with the zone's offset, as a string */
        tstr = (str_view){tbuf, influxql_tz_format(s->tz, t, tbuf)};
        tv.str = &tstr;
        ft[0] = V1_STRING;
    }
    for (size_t c = 0; c < n; c++) {
        query_vec o = {0};
        if (outs) { /* row i of the batch, as a one-row vector */
            const query_vec *v = outs[c];
            o.valid = !v->valid || v->valid[i] ? &yes : &no;
            if (v->i64) o.i64 = v->i64 + i;
            if (v->u64) o.u64 = v->u64 + i;
            if (v->f64) o.f64 = v->f64 + i;
            if (v->b) o.b = v->b + i;
            if (v->str) o.str = v->str + i;
        } else if (s->fill == IQL_FILL_NUMBER) {
            if (ft[1 + c] == V1_INT || ft[1 + c] == V1_UINT) {
                o.i64 = &s->fill_i;
                ft[1 + c] = V1_INT;
            } else {
                o.f64 = &s->fill_f;
                ft[1 + c] = V1_FLOAT;
            }
        } else if (s->fill == IQL_FILL_LINEAR) {
            if (!ss_linear(s, c, t, ft[1 + c], &o, &lin_f[c], &lin_i[c], &lin_u[c])) o.valid = &no;
        } else if (s->fill == IQL_FILL_PREVIOUS && s->have_prev) {
            o.valid = s->prev_valid[c] ? &yes : &no;
            o.f64 = &s->prev_f[c];
            o.i64 = &s->prev_i[c];
            o.u64 = &s->prev_u[c];
            o.b = &s->prev_b[c];
            o.str = &s->prev_s[c];
        } else if (s->fill == IQL_FILL_NULL && s->count_col && s->count_col[c]) {
            static const int64_t zero = 0;
            o.i64 = &zero;
            ft[1 + c] = V1_INT;
        } else {
            o.valid = &no;
        }
        one[c] = o;
        vecs[1 + c] = &one[c];
    }
    if (shown) {
        ss_open_series(s);
        query_v1_row(s->w, vecs, ft, n + 1, 0);
    }
    /* fill(previous) and fill(linear) remember the last real row */
    if (keep_prev) {
        s->prev_t = t;
        buf_reset(&s->prev_str);
        size_t *off = s->prev_off;
        for (size_t c = 0; c < n; c++) {
            s->prev_valid[c] = (uint8_t)(one[c].valid[0] && s->types[1 + c] != V1_NULL);
            if (one[c].f64) s->prev_f[c] = one[c].f64[0];
            if (one[c].i64) s->prev_i[c] = one[c].i64[0];
            if (one[c].u64) s->prev_u[c] = one[c].u64[0];
            if (one[c].b) s->prev_b[c] = one[c].b[0];
            off[c] = s->prev_str.len;
            s->prev_s[c].n = 0;
            if (one[c].str && s->prev_valid[c]) {
                s->prev_s[c].n = one[c].str[0].n;
                buf_append(&s->prev_str, one[c].str[0].p, one[c].str[0].n);
            }
        }
        for (size_t c = 0; c < n; c++) s->prev_s[c].p = (const char *)s->prev_str.p + off[c];
        s->have_prev = true;
    }
}

/* Fill the buckets of the current series from next_bucket up to (not including) `to`
 * (descending: down to, not including). */
static void ss_fill_to(series_sink *s, int64_t to) {
    if (!s->fill_on || s->fill == IQL_FILL_NONE || !s->have_next) return;
    for (int64_t b = s->next_bucket; s->desc ? b > to : b < to;) {
        ss_emit(s, b, NULL, 0);
        int64_t nb = s->desc ? ss_prev_bucket(s, b) : ss_next_bucket(s, b);
        if (nb == INT64_MIN || nb == INT64_MAX || nb == b) break;
        b = nb;
    }
}

static void ss_end_series(series_sink *s) {
    if (!s->in_series) return;
    if (s->fill_on && s->have_next) {
        int64_t end = s->desc ? s->first_bucket : s->last_bucket;
        bool bounded = s->desc ? s->first_bucket != INT64_MIN : s->last_bucket != INT64_MAX;
        s->lin_next = NULL; /* no extrapolation past the last row */
        if (bounded) ss_fill_to(s, s->desc ? ss_prev_bucket(s, end) : ss_next_bucket(s, end));
    }
    if (s->series_open) query_v1_series_end(s->w);
    s->in_series = s->series_open = false;
}

static bool tags_same(const buf *b, const query_vec *const *vecs, size_t n, uint32_t i);

static bool same_tags(series_sink *s, const query_vec *const *vecs, uint32_t i) {
    return tags_same(&s->cur_tags, vecs, s->n_tags, i);
}

static void ss_begin_series(series_sink *s, const query_vec *const *vecs, uint32_t i) {
    buf_reset(&s->cur_tags);
    for (size_t t = 0; t < s->n_tags; t++) {
        str_view v = {"", 0};
        if (vecs[t]->str && (!vecs[t]->valid || vecs[t]->valid[i])) v = vecs[t]->str[i];
        uint32_t len = (uint32_t)v.n;
        buf_append(&s->cur_tags, &len, 4);
        buf_append(&s->cur_tags, v.p, v.n);
    }
    int64_t idx = s->series_index++;
    s->series_skipped = idx < s->soffset || (s->slimit > 0 && idx >= s->soffset + s->slimit);
    s->in_series = true;
    s->series_open = false;
    s->rows_in_series = 0;
    s->have_prev = false;
    s->have_next = false;
    if (s->fill_on) {
        int64_t start = s->desc ? s->last_bucket : s->first_bucket;
        if (start != (s->desc ? INT64_MAX : INT64_MIN)) {
            s->next_bucket = start;
            s->have_next = true;
        }
    }
}

/* The time of a selector's {"value":...,"time":"2016-01-01T00:00:00.5"}: its last member. */
static int64_t selector_time(str_view js, int64_t dflt) {
    static const char key[] = "\"time\":\"";
    size_t kl = sizeof key - 1;
    if (js.n < kl + 2) return dflt;
    for (size_t at = js.n - 2 - kl + 1; at-- > 0;)
        if (!memcmp(js.p + at, key, kl)) {
            int64_t t;
            size_t b = at + kl, e = js.n - 2; /* before the closing "} */
            return e > b && time_parse_rfc3339(js.p + b, e - b, &t) == SILT_OK ? t : dflt;
        }
    return dflt;
}

static int ss_rows(void *arg, const query_vec *const *vecs, const uint32_t *sel, size_t n,
                   silt_err *err) {
    series_sink *s = arg;
    (void)err;
    const query_vec *const *outs = vecs + s->n_tags + (s->has_time ? 1 : 0);
    for (size_t k = 0; k < n; k++) {
        uint32_t i = sel[k];
        if (!s->in_series || !same_tags(s, vecs, i)) {
            ss_end_series(s);
            ss_begin_series(s, vecs, i);
        }
        int64_t t = s->const_time;
        if (s->has_time) {
            const query_vec *tv = vecs[s->n_tags];
            t = tv->i64 ? tv->i64[i] : 0;
        } else if (s->sel_time) {
            const query_vec *sv = outs[s->n_out];
            if (sv->str && (!sv->valid || sv->valid[i])) t = selector_time(sv->str[i], t);
        }
        if (s->fill_on) {
            if (!s->have_next) {
                s->next_bucket = t;
                s->have_next = true;
            }
            s->lin_next = outs;
            s->lin_i = i;
            s->lin_t = t;
            ss_fill_to(s, t);
            s->lin_next = NULL;
            s->next_bucket = s->desc ? ss_prev_bucket(s, t) : ss_next_bucket(s, t);
        }
        ss_emit(s, t, outs, i);
    }
    return SILT_OK;
}

/* ------------------------------------------------------------------ running a statement */

typedef struct irun {
    const query_source *src;
    const char *db;
    const query_influxql_opts *opts;
    v1_writer *w;
    int64_t now_ns;
    silt_err *err;
    bool interrupted; /* opts->interrupt stopped a statement */
} irun;

/* Plan and run st (built in q's arena) with the rows going to fn(arg); ready(arg, plan), if
 * given, sees the plan (its output types, the scan's time range) before any row arrives. */
typedef int (*rows_fn)(void *arg, const query_vec *const *vecs, const uint32_t *sel, size_t n,
                       silt_err *err);
typedef void (*ready_fn)(void *arg, const qplan *plan);

static int run_stmt(qctx *q, const qstmt *st, rows_fn fn, ready_fn ready, void *arg) {
    qplan *plan;
    int rc = query__plan(q, st, &plan);
    if (rc < 0) return rc;
    if (ready) ready(arg, plan);
    qfmt f;
    buf unused = {0}; /* the sink takes the rows: nothing is formatted */
    query__fmt_init(&f, QUERY_FMT_JSON, &unused, 0, plan->cols, plan->n_cols, &q->arena);
    f.sink = fn;
    f.sink_arg = arg;
    rc = query__exec(q, plan, &f);
    buf_free(&unused);
    return rc;
}

/* The caller's interrupt, remembering that it fired: the whole request then fails. */
static int irun_interrupt(void *arg, silt_err *err) {
    irun *r = arg;
    int rc = r->opts->interrupt(r->opts->interrupt_arg, err);
    if (rc < 0) r->interrupted = true;
    return rc;
}

static void qctx_init(irun *r, qctx *q, silt_err *err) {
    memset(q, 0, sizeof *q);
    q->src = r->src;
    q->db = r->db;
    q->sql = "";
    q->sql_len = 0;
    q->now_ns = r->now_ns;
    q->max_memory_bytes = r->opts && r->opts->max_memory_bytes ? r->opts->max_memory_bytes
                                                               : QUERY_DEFAULT_MEMORY_BYTES;
    if (r->opts) {
        q->deadline_ns = r->opts->deadline_ns;
        if (r->opts->interrupt) {
            q->interrupt = irun_interrupt;
            q->interrupt_arg = r;
        }
    }
    q->err = err;
    arena_init(&q->arena, 16 * 1024);
}

static void qctx_fini(irun *r, qctx *q) {
    for (size_t i = 0; i < q->n_to_free; i++) query__expr_free(q->to_free[i]);
    if (q->have_tbl) r->src->table_release(r->src, &q->tbl);
    q->have_tbl = false;
    arena_fini(&q->arena);
}

static qselect_item item(qexpr *e, const char *alias) {
    return (qselect_item){e, alias};
}

/* The n items of a SELECT list copied into room for one more. */
static qselect_item *arena_realloc_items(tctx *c, qselect_item *items, size_t n) {
    qselect_item *ni = arena_alloc(c->a, (n + 1) * sizeof *ni);
    memcpy(ni, items, n * sizeof *ni);
    return ni;
}

static qexpr *ordinal(tctx *c, size_t k) {
    return lit_int(c, (int64_t)k, QT_INT);
}

/* The scan node of a plan (the leaf), for its time range. */
static const qplan *plan_scan(const qplan *p) {
    while (p && p->kind != QPL_SCAN) p = p->input;
    return p;
}

static void sink_ready(void *arg, const qplan *plan) {
    series_sink *s = arg;
    size_t first_out = s->n_tags + (s->has_time ? 1 : 0);
    s->types[0] = V1_TIME;
    for (size_t k = 0; k < s->n_out; k++) {
        s->types[1 + k] = v1_of(plan->cols[first_out + k].type);
        s->src_kinds[1 + k] = plan->cols[first_out + k].src_kind; /* raw field selections */
    }
    const qplan *scan = plan_scan(plan);
    int64_t t_min = scan ? scan->u.scan.t_min : INT64_MIN;
    int64_t t_max = scan ? scan->u.scan.t_max : INT64_MAX;
    if (!s->has_time) s->const_time = t_min == INT64_MIN ? 0 : t_min;
    if (s->fill_on) {
        s->first_bucket = t_min == INT64_MIN ? INT64_MIN : ss_bucket(s, t_min);
        s->last_bucket = t_max == INT64_MAX ? INT64_MAX : ss_bucket(s, t_max);
    }
}

/* Append to list the field columns an expression reads. */
static void field_refs(const query_table *t, const qexpr *e, const char **list, size_t *n,
                       size_t cap) {
    if (!e) return;
    switch (e->kind) {
        case QX_COLUMN:
            if (col_kind(t, e->u.col.name, NULL) == QCOL_FIELD && *n < cap) {
                for (size_t i = 0; i < *n; i++)
                    if (!strcmp(list[i], e->u.col.name)) return;
                list[(*n)++] = e->u.col.name;
            }
            break;
        case QX_ARITH:
        case QX_CMP:
            field_refs(t, e->u.bin.l, list, n, cap);
            field_refs(t, e->u.bin.r, list, n, cap);
            break;
        case QX_NEG:
            field_refs(t, e->u.un.arg, list, n, cap);
            break;
        case QX_CAST:
            field_refs(t, e->u.cast.arg, list, n, cap);
            break;
        case QX_FUNC:
            for (size_t i = 0; i < e->u.func.n; i++) field_refs(t, e->u.func.args[i], list, n, cap);
            break;
        default:
            break;
    }
}

/* ------------------------------------------------------------------ tz() buckets */

/* The time range [*lo, *hi] that the top-level AND of a WHERE clause bounds (time compared
 * with a time literal, an integer or now() [+|- duration]); untouched where it says nothing. */
static void where_time_range(const irun *r, const iql_tz *tz, const iql_expr *e, int64_t *lo,
                             int64_t *hi) {
    if (!e) return;
    if (e->kind == IQL_X_AND) {
        for (size_t i = 0; i < e->u.list.n; i++) where_time_range(r, tz, e->u.list.args[i], lo, hi);
        return;
    }
    if (e->kind != IQL_X_BINARY || e->u.bin.op < IQL_OP_EQ || e->u.bin.op > IQL_OP_GTE) return;
    const iql_expr *l = e->u.bin.l, *v = e->u.bin.r;
    iql_op op = e->u.bin.op;
    if (!is_time_ref(l)) {
        if (!is_time_ref(v)) return;
        const iql_expr *t = l;
        l = v;
        v = t;
        op = op == IQL_OP_LT    ? IQL_OP_GT
             : op == IQL_OP_GT  ? IQL_OP_LT
             : op == IQL_OP_LTE ? IQL_OP_GTE
             : op == IQL_OP_GTE ? IQL_OP_LTE
                                : op;
    }
    int64_t t, d = 0;
    if (v->kind == IQL_X_BINARY && (v->u.bin.op == IQL_OP_ADD || v->u.bin.op == IQL_OP_SUB) &&
        v->u.bin.r->kind == IQL_X_DURATION) {
        d = v->u.bin.op == IQL_OP_ADD ? v->u.bin.r->u.i : -v->u.bin.r->u.i;
        v = v->u.bin.l;
    }
    if (v->kind == IQL_X_STRING) {
        if (time_literal_in(tz, v->u.s, &t) != SILT_OK) return;
    } else if (v->kind == IQL_X_INTEGER) {
        t = v->u.i;
    } else if (v->kind == IQL_X_CALL && v->u.call.name.n == 3 &&
               !memcmp(v->u.call.name.p, "now", 3)) {
        t = r->now_ns;
    } else {
        return;
    }
    t += d;
    if ((op == IQL_OP_GT || op == IQL_OP_GTE || op == IQL_OP_EQ) && t > *lo) *lo = t;
    if ((op == IQL_OP_LT || op == IQL_OP_LTE || op == IQL_OP_EQ) && t < *hi) *hi = t;
}

typedef struct tzseg {
    int64_t from_ns; /* the segment's first instant (shifted by the GROUP BY offset) */
    int64_t zone_ns; /* the zone's offset in it */
} tzseg;

/* The bucket expression of segments [a, b] (a balanced CASE on time). In segment k the zone's
 * offset is constant: the bucket is date_bin(interval, time, offset - zone), moved by the
 * offset change when it starts before the segment (a day bucket starting at local midnight
 * before a DST change), as InfluxDB's Window() does. */
static qexpr *tz_case(tctx *c, const tzseg *sg, size_t a, size_t b, int64_t interval,
                      int64_t offset) {
    if (a == b) {
        qexpr *args[3] = {lit_int(c, interval, QT_INTERVAL), col_ref(c, "time"),
                          lit_int(c, offset - sg[a].zone_ns, QT_TIME)};
        qexpr *db = func(c, "date_bin", args, 3);
        int64_t dz = a ? sg[a].zone_ns - sg[a - 1].zone_ns : 0;
        if (!dz || (dz < 0 ? -dz : dz) >= interval) return db;
        qexpr *cs = nx(c, QX_CASE);
        cs->u.cs.whens = arena_alloc(c->a, sizeof(qexpr *));
        cs->u.cs.thens = arena_alloc(c->a, sizeof(qexpr *));
        cs->u.cs.whens[0] = binary(c, QX_CMP, QOP_LT, db, lit_int(c, sg[a].from_ns, QT_TIME));
        cs->u.cs.thens[0] = binary(c, QX_ARITH, QOP_ADD, db, lit_int(c, dz, QT_INTERVAL));
        cs->u.cs.n = 1;
        cs->u.cs.els = db;
        return cs;
    }
    size_t mid = a + (b - a + 1) / 2;
    qexpr *cs = nx(c, QX_CASE);
    cs->u.cs.whens = arena_alloc(c->a, sizeof(qexpr *));
    cs->u.cs.thens = arena_alloc(c->a, sizeof(qexpr *));
    cs->u.cs.whens[0] =
        binary(c, QX_CMP, QOP_LT, col_ref(c, "time"), lit_int(c, sg[mid].from_ns, QT_TIME));
    cs->u.cs.thens[0] = tz_case(c, sg, a, mid - 1, interval, offset);
    cs->u.cs.n = 1;
    cs->u.cs.els = tz_case(c, sg, mid, b, interval, offset);
    return cs;
}

/* GROUP BY time(interval, offset) in zone tz over the WHERE range [lo, hi]. */
static qexpr *tz_bucket_expr(tctx *c, const iql_tz *tz, int64_t interval, int64_t offset,
                             int64_t lo, int64_t hi) {
    const int64_t S = INT64_C(1000000000);
    /* without bounds: 1900 to 2200 (the CASE stays a few hundred segments deep at most) */
    int64_t lo_s = lo == INT64_MIN ? INT64_C(-2208988800) : lo / S - 1;
    int64_t hi_s = hi == INT64_MAX ? INT64_C(7258118400) : hi / S + 1;
    int64_t pad = interval / S + 2 + (offset < 0 ? -offset : offset) / S; /* whole buckets */
    lo_s = lo_s > INT64_MIN / 2 + pad ? lo_s - pad : lo_s;
    hi_s = hi_s < INT64_MAX / 2 - pad ? hi_s + pad : hi_s;
    size_t cap = 64, n = 0;
    tzseg *sg = arena_alloc(c->a, cap * sizeof *sg);
    sg[n++] = (tzseg){INT64_MIN, (int64_t)influxql_tz_offset(tz, lo_s) * S};
    for (int64_t t = influxql_tz_next(tz, lo_s); t != INT64_MAX && t <= hi_s && n < 4096;
         t = influxql_tz_next(tz, t)) {
        if (n == cap) {
            tzseg *ns = arena_alloc(c->a, 2 * cap * sizeof *ns);
            memcpy(ns, sg, n * sizeof *sg);
            sg = ns;
            cap *= 2;
        }
        int64_t z = (int64_t)influxql_tz_offset(tz, t) * S;
        if (z == sg[n - 1].zone_ns) continue;
        sg[n++] = (tzseg){t * S + offset, z};
    }
    return tz_case(c, sg, 0, n - 1, interval, offset);
}

/* The series sink of a SELECT on measurement m with output fields f (names; a count() field
 * is filled with 0 by fill(null)). LIMIT and OFFSET are the caller's. */
static void sink_setup(tctx *c, irun *r, series_sink *s, const iql_select *sel, const char *m,
                       const char **gtags, size_t n_gtags, bool tags_in_output, const fields *f,
                       bool has_time, bool fill_on, bool desc, const iql_tz *tz) {
    s->w = r->w;
    s->measurement = m;
    s->n_tags = n_gtags;
    s->tag_keys = gtags;
    s->tags_in_output = tags_in_output;
    s->n_out = f->n;
    s->has_time = has_time;
    s->slimit = sel->slimit;
    s->soffset = sel->soffset;
    s->desc = desc;
    s->err = r->err;
    s->tz = tz;
    s->tz_print = tz && r->w->epoch == V1_EPOCH_RFC3339;
    if (fill_on) {
        s->fill_on = true;
        s->fill = sel->fill;
        s->interval = sel->group_time->interval_ns;
        s->origin = sel->group_time->offset_ns;
        if (sel->fill == IQL_FILL_NUMBER && sel->fill_value) {
            s->fill_is_int = sel->fill_value->kind == IQL_X_INTEGER;
            s->fill_i = s->fill_is_int ? sel->fill_value->u.i : (int64_t)sel->fill_value->u.f;
            s->fill_f = s->fill_is_int ? (double)sel->fill_value->u.i : sel->fill_value->u.f;
        }
        bool *cc = arena_alloc(c->a, f->n + 1);
        for (size_t k = 0; k < f->n; k++)
            cc[k] = f->v[k].expr->kind == QX_FUNC && !strcmp(f->v[k].expr->u.func.name, "count");
        s->count_col = cc;
    }
    s->col_names = arena_alloc(c->a, (f->n + 1) * sizeof *s->col_names);
    s->col_names[0] = (str_view){"time", 4};
    for (size_t k = 0; k < f->n; k++)
        s->col_names[1 + k] = (str_view){f->v[k].name, strlen(f->v[k].name)};
    s->types = arena_alloc(c->a, (f->n + 1) * sizeof *s->types);
    s->src_kinds = arena_alloc(c->a, f->n + 1); /* computed, until the plan says otherwise */
    memset(s->src_kinds, 0, f->n + 1);
    s->src_kinds[0] = QCOL_TIME; /* a series' time column is the timestamp */
    s->prev_valid = arena_alloc(c->a, f->n + 1);
    s->prev_f = arena_alloc(c->a, (f->n + 1) * sizeof(double));
    s->prev_i = arena_alloc(c->a, (f->n + 1) * sizeof(int64_t));
    s->prev_u = arena_alloc(c->a, (f->n + 1) * sizeof(uint64_t));
    s->prev_b = arena_alloc(c->a, f->n + 1);
    s->prev_s = arena_alloc(c->a, (f->n + 1) * sizeof(str_view));
    s->prev_off = arena_alloc(c->a, (f->n + 1) * sizeof(size_t));
    memset(s->prev_s, 0, (f->n + 1) * sizeof(str_view));
}

/* ------------------------------------------------------------------ mode, distinct, integral */

/* These three are computed here, over the raw points of each series in time order, rather than
 * by SQL aggregates: integral() needs each point's neighbours (InfluxDB 1.x carries the curve
 * across bucket boundaries), distinct() answers several rows per bucket and mode() breaks ties
 * by time. The SQL statement reads SELECT <group tags>, time, <fields> ... ORDER BY <group
 * tags>, time; a reducer cuts series and buckets and hands its rows to the series sink, which
 * applies fill, LIMIT / OFFSET and SLIMIT / SOFFSET as for every other query.
 *
 *   mode(f)       the most frequent value of the bucket; a tie goes to the value that occurs
 *                 first (InfluxDB's documented rule), then to the smaller value
 *   distinct(f)   one row per distinct value, in the order of first occurrence (then by
 *                 value), column "distinct"; alone in its SELECT, as InfluxDB requires
 *   integral(f[, unit])  the trapezoid area between consecutive points per unit (1s): with
 *                 GROUP BY time a bucket's area runs to its end, the value there interpolated
 *                 toward the next point, and the next bucket starts from that value (InfluxDB
 *                 1.x's IntegralReducer); a point at the time of the previous one replaces it.
 *                 Without GROUP BY time the time is 0, as InfluxDB answers it. fill() does not
 *                 apply to integral() (InfluxDB 1.x does not fill it either). ORDER BY time
 *                 DESC lists the buckets computed in ascending time, last first. */

typedef enum rfn { RF_MODE, RF_DISTINCT, RF_INTEGRAL } rfn;

typedef struct rpt { /* a point kept for the current bucket */
    int64_t t;
    union {
        double f;
        int64_t i;
        uint64_t u;
    } v;
    uint32_t soff, slen; /* strings: bytes in reducer.bstr */
} rpt;

typedef struct rcol {
    rfn fn;
    size_t in;   /* input column (0-based among the fields read) */
    qtype type;  /* of the input */
    double unit; /* integral: ns per unit */
    rpt *pts;    /* mode / distinct: the bucket's points */
    size_t n, cap;
    /* integral state */
    bool have_prev;
    int64_t prev_t, ws, we;
    double prev_v, sum;
} rcol;

typedef struct rout { /* one output value: bucket time, column */
    int64_t t;
    uint32_t col, seq;
    uint8_t valid;
    rpt v;
} rout;

typedef struct reducer {
    series_sink *s;
    rcol *cols;
    size_t n_cols, n_in;
    qtype *in_types;
    bool distinct; /* the one column is distinct(): one row per value */
    const iql_dim *gt;
    int64_t time0;  /* the time of every row without GROUP BY time */
    bool time_zero; /* integral without GROUP BY time: time 0 */
    bool in_series, have_bucket;
    int64_t bucket;
    buf tags, bstr, ostr;
    rout *outs;
    size_t n_outs, cap_outs;
    size_t mem, max_mem;
    silt_err *err;
    int rc;
} reducer;

static int rd_mem(reducer *R, size_t add) {
    R->mem += add;
    if (R->mem > R->max_mem)
        return R->rc = SILT_FAIL(R->err, SILT_ELIMIT, "query exceeds the memory limit of %zu bytes",
                                 R->max_mem);
    return SILT_OK;
}

static void tags_encode(buf *b, const query_vec *const *vecs, size_t n, uint32_t i) {
    buf_reset(b);
    for (size_t t = 0; t < n; t++) {
        str_view v = {"", 0};
        if (vecs[t]->str && (!vecs[t]->valid || vecs[t]->valid[i])) v = vecs[t]->str[i];
        uint32_t len = (uint32_t)v.n;
        buf_append(b, &len, 4);
        buf_append(b, v.p, v.n);
    }
}

static bool tags_same(const buf *b, const query_vec *const *vecs, size_t n, uint32_t i) {
    const uint8_t *p = b->p;
    for (size_t t = 0; t < n; t++) {
        str_view v = {"", 0};
        if (vecs[t]->str && (!vecs[t]->valid || vecs[t]->valid[i])) v = vecs[t]->str[i];
        uint32_t len;
        memcpy(&len, p, 4);
        if (len != v.n || (len && memcmp(p + 4, v.p, len))) return false;
        p += 4 + len;
    }
    return true;
}

static int rd_out(reducer *R, int64_t t, size_t col, bool valid, const rpt *v, const buf *strs) {
    if (R->n_outs == R->cap_outs) {
        size_t cap = R->cap_outs ? R->cap_outs * 2 : 64;
        if (rd_mem(R, (cap - R->cap_outs) * sizeof(rout)) < 0) return R->rc;
        R->outs = xrealloc(R->outs, cap * sizeof *R->outs);
        R->cap_outs = cap;
    }
    rout *o = &R->outs[R->n_outs];
    *o = (rout){.t = t, .col = (uint32_t)col, .seq = (uint32_t)R->n_outs, .valid = valid};
    if (v) {
        o->v = *v;
        if (R->cols[col].type == QT_STRING && strs) { /* copy the bytes into ostr */
            o->v.soff = (uint32_t)R->ostr.len;
            buf_append(&R->ostr, strs->p + v->soff, v->slen);
            if (rd_mem(R, v->slen) < 0) return R->rc;
        }
    }
    R->n_outs++;
    return SILT_OK;
}

static int rpt_cmp_val(qtype t, const rpt *a, const rpt *b, const uint8_t *sb) {
    switch (t) {
        case QT_FLOAT:
            if (a->v.f < b->v.f) return -1;
            if (a->v.f > b->v.f) return 1;
            if (isnan(a->v.f) != isnan(b->v.f)) return isnan(a->v.f) ? 1 : -1;
            return 0;
        case QT_UINT:
            return a->v.u < b->v.u ? -1 : a->v.u > b->v.u;
        case QT_STRING: {
            uint32_t n = a->slen < b->slen ? a->slen : b->slen;
            int c = n ? memcmp(sb + a->soff, sb + b->soff, n) : 0;
            return c ? c : a->slen < b->slen ? -1 : a->slen > b->slen;
        }
        default: /* int, bool */
            return a->v.i < b->v.i ? -1 : a->v.i > b->v.i;
    }
}

typedef struct rsort_ctx {
    qtype t;
    const uint8_t *sb;
} rsort_ctx;

static int rpt_cmp_val_time(const void *x, const void *y, void *arg) {
    const rsort_ctx *k = arg;
    const rpt *a = x, *b = y;
    int c = rpt_cmp_val(k->t, a, b, k->sb);
    return c ? c : a->t < b->t ? -1 : a->t > b->t;
}

static int rpt_cmp_time_val(const void *x, const void *y, void *arg) {
    const rsort_ctx *k = arg;
    const rpt *a = x, *b = y;
    if (a->t != b->t) return a->t < b->t ? -1 : 1;
    return rpt_cmp_val(k->t, a, b, k->sb);
}

/* The end of a bucket: mode and distinct answer from its points. */
static int rd_bucket_end(reducer *R) {
    if (!R->have_bucket) return SILT_OK;
    int64_t t = R->gt ? R->bucket : R->time0;
    for (size_t k = 0; k < R->n_cols && !R->rc; k++) {
        rcol *c = &R->cols[k];
        if (c->fn == RF_INTEGRAL || !c->n) continue;
        rsort_ctx ctx = {c->type, R->bstr.p};
        qsort_r(c->pts, c->n, sizeof *c->pts, rpt_cmp_val_time, &ctx);
        if (c->fn == RF_MODE) {
            /* runs of equal values, each sorted by time: its first point is its earliest */
            size_t best = 0, best_n = 0;
            for (size_t i = 0; i < c->n;) {
                size_t j = i + 1;
                while (j < c->n && !rpt_cmp_val(c->type, &c->pts[i], &c->pts[j], R->bstr.p)) j++;
                size_t cnt = j - i;
                if (cnt > best_n || (cnt == best_n && c->pts[i].t < c->pts[best].t)) {
                    best = i;
                    best_n = cnt;
                }
                i = j;
            }
            rd_out(R, t, k, true, &c->pts[best], &R->bstr);
        } else { /* distinct: the earliest point of each value, by time then value */
            size_t u = 0;
            for (size_t i = 0; i < c->n; i++)
                if (!u || rpt_cmp_val(c->type, &c->pts[u - 1], &c->pts[i], R->bstr.p))
                    c->pts[u++] = c->pts[i];
            qsort_r(c->pts, u, sizeof *c->pts, rpt_cmp_time_val, &ctx);
            for (size_t i = 0; i < u && !R->rc; i++) rd_out(R, t, k, true, &c->pts[i], &R->bstr);
        }
        c->n = 0;
    }
    buf_reset(&R->bstr);
    R->have_bucket = false;
    return R->rc;
}

static int64_t rd_window(reducer *R, int64_t t, int64_t *end) {
    series_sink *s = R->s;
    int64_t b = ss_bucket(s, t);
    *end = ss_next_bucket(s, b);
    return b;
}

/* InfluxDB 1.x's FloatIntegralReducer.AggregateFloat. */
static void rd_integral(reducer *R, size_t k, int64_t t, double v) {
    rcol *c = &R->cols[k];
    if (!c->have_prev) {
        c->have_prev = true;
        c->prev_t = t;
        c->prev_v = v;
        c->sum = 0;
        c->ws = c->we = 0;
        if (R->gt) c->ws = rd_window(R, t, &c->we);
        return;
    }
    if (c->prev_t == t) {
        c->prev_v = v;
        return;
    }
    if (R->gt && t >= c->we) {
        if (c->prev_t != c->we) { /* the area up to the bucket's end, toward this point */
            double val =
                (v - c->prev_v) / (double)(t - c->prev_t) * (double)(c->we - c->prev_t) + c->prev_v;
            c->sum += 0.5 * (val + c->prev_v) * ((double)(c->we - c->prev_t) / c->unit);
            c->prev_v = val;
            c->prev_t = c->we;
        }
        rpt o = {.v.f = c->sum};
        rd_out(R, c->ws, k, true, &o, NULL);
        c->ws = rd_window(R, t, &c->we);
        c->sum = 0;
    }
    c->sum += 0.5 * (v + c->prev_v) * ((double)(t - c->prev_t) / c->unit);
    c->prev_t = t;
    c->prev_v = v;
}

/* One output row of the current series into the series sink. */
static void rd_emit_row(reducer *R, const rout *from, size_t n) {
    series_sink *s = R->s;
    enum { MAXC = 1024 };
    size_t nt = s->n_tags < 64 ? s->n_tags : 64;
    str_view tv[64];
    query_vec tvec[64];
    const query_vec *vecs[64 + 1 + MAXC];
    const uint8_t *p = R->tags.p;
    for (size_t i = 0; i < nt; i++) {
        uint32_t len;
        memcpy(&len, p, 4);
        tv[i] = (str_view){(const char *)p + 4, len};
        p += 4 + len;
        tvec[i] = (query_vec){.str = &tv[i]};
        vecs[i] = &tvec[i];
    }
    int64_t t = R->gt ? from[0].t : R->time_zero ? 0 : R->time0;
    query_vec timev = {.i64 = &t};
    vecs[nt] = &timev;
    static const uint8_t yes = 1, no = 0;
    size_t nc = R->n_cols < MAXC ? R->n_cols : MAXC;
    query_vec ov[MAXC];
    str_view sv[MAXC];
    uint8_t bv[MAXC];
    for (size_t k = 0; k < nc; k++) {
        ov[k] = (query_vec){.valid = &no};
        vecs[nt + 1 + k] = &ov[k];
    }
    for (size_t j = 0; j < n; j++) {
        const rout *o = &from[j];
        if (o->col >= nc || !o->valid) continue;
        query_vec *v = &ov[o->col];
        v->valid = &yes;
        switch (R->cols[o->col].fn == RF_INTEGRAL ? QT_FLOAT : R->cols[o->col].type) {
            case QT_FLOAT:
                v->f64 = &o->v.v.f;
                break;
            case QT_UINT:
                v->u64 = &o->v.v.u;
                break;
            case QT_BOOL:
                bv[o->col] = (uint8_t)(o->v.v.i != 0);
                v->b = &bv[o->col];
                break;
            case QT_STRING:
                sv[o->col] = (str_view){(const char *)R->ostr.p + o->v.soff, o->v.slen};
                v->str = &sv[o->col];
                break;
            default:
                v->i64 = &o->v.v.i;
        }
    }
    static const uint32_t sel0 = 0;
    ss_rows(s, vecs, &sel0, 1, R->err);
}

static int rout_cmp(const void *x, const void *y) {
    const rout *a = x, *b = y;
    if (a->t != b->t) return a->t < b->t ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The end of a series: integral's last bucket, then its rows, ascending or descending. */
static int rd_series_end(reducer *R) {
    if (!R->in_series) return SILT_OK;
    if (rd_bucket_end(R) < 0) return R->rc;
    for (size_t k = 0; k < R->n_cols; k++) {
        rcol *c = &R->cols[k];
        if (c->fn != RF_INTEGRAL || !c->have_prev) continue;
        if (c->prev_t != c->ws) { /* InfluxDB's Close(): no area after a bucket's start */
            rpt o = {.v.f = c->sum};
            rd_out(R, c->ws, k, true, &o, NULL);
        }
        c->have_prev = false;
    }
    if (R->rc) return R->rc;
    qsort(R->outs, R->n_outs, sizeof *R->outs, rout_cmp);
    /* rows: the values of one bucket (distinct: each value its own row) */
    size_t nrows = 0;
    size_t *start = R->n_outs ? xmalloc((R->n_outs + 1) * sizeof *start) : NULL;
    for (size_t i = 0; i < R->n_outs; i++)
        if (R->distinct || !i || R->outs[i].t != R->outs[i - 1].t) start[nrows++] = i;
    if (start) start[nrows] = R->n_outs;
    /* descending: the buckets from the last, the rows of one bucket in their order */
    for (size_t x = 0; x < nrows;) {
        size_t g = x; /* [g, e): the rows of one bucket, counted from the end when desc */
        size_t e = x + 1;
        if (R->s->desc) {
            size_t last = nrows - 1 - x;
            int64_t bt = R->outs[start[last]].t;
            size_t first = last;
            while (first > 0 && R->outs[start[first - 1]].t == bt) first--;
            g = first;
            e = last + 1;
        }
        for (size_t y = g; y < e; y++) rd_emit_row(R, &R->outs[start[y]], start[y + 1] - start[y]);
        x += e - g;
    }
    free(start);
    R->n_outs = 0;
    buf_reset(&R->ostr);
    R->in_series = false;
    return SILT_OK;
}

static int rd_rows(void *arg, const query_vec *const *vecs, const uint32_t *sel, size_t n,
                   silt_err *err) {
    (void)err;
    reducer *R = arg;
    size_t nt = R->s->n_tags;
    const query_vec *tv = vecs[nt];
    const query_vec *const *in = vecs + nt + 1;
    for (size_t k = 0; k < n && !R->rc; k++) {
        uint32_t i = sel[k];
        if (!R->in_series || !tags_same(&R->tags, vecs, nt, i)) {
            if (rd_series_end(R) < 0) break;
            tags_encode(&R->tags, vecs, nt, i);
            R->in_series = true;
        }
        int64_t t = tv->i64 ? tv->i64[i] : 0;
        int64_t b = R->gt ? ss_bucket(R->s, t) : 0;
        if (R->have_bucket && b != R->bucket && rd_bucket_end(R) < 0) break;
        R->have_bucket = true;
        R->bucket = b;
        for (size_t c = 0; c < R->n_cols; c++) {
            rcol *col = &R->cols[c];
            const query_vec *v = in[col->in];
            if (v->valid && !v->valid[i]) continue;
            rpt p = {.t = t};
            switch (col->type) {
                case QT_FLOAT:
                    p.v.f = v->f64[i];
                    break;
                case QT_UINT:
                    p.v.u = v->u64[i];
                    break;
                case QT_BOOL:
                    p.v.i = v->b[i] ? 1 : 0;
                    break;
                case QT_STRING:
                    p.soff = (uint32_t)R->bstr.len;
                    p.slen = (uint32_t)v->str[i].n;
                    buf_append(&R->bstr, v->str[i].p, v->str[i].n);
                    if (rd_mem(R, v->str[i].n) < 0) return R->rc;
                    break;
                default:
                    p.v.i = v->i64[i];
            }
            if (col->fn == RF_INTEGRAL) {
                rd_integral(R, c, t,
                            col->type == QT_FLOAT  ? p.v.f
                            : col->type == QT_UINT ? (double)p.v.u
                                                   : (double)p.v.i);
                continue;
            }
            if (col->n == col->cap) {
                size_t cap = col->cap ? col->cap * 2 : 64;
                if (rd_mem(R, (cap - col->cap) * sizeof(rpt)) < 0) return R->rc;
                col->pts = xrealloc(col->pts, cap * sizeof *col->pts);
                col->cap = cap;
            }
            col->pts[col->n++] = p;
        }
    }
    return R->rc;
}

static void rd_ready(void *arg, const qplan *plan) {
    reducer *R = arg;
    series_sink *s = R->s;
    const qplan *scan = plan_scan(plan);
    int64_t t_min = scan ? scan->u.scan.t_min : INT64_MIN;
    int64_t t_max = scan ? scan->u.scan.t_max : INT64_MAX;
    R->time0 = t_min == INT64_MIN ? 0 : t_min;
    for (size_t k = 0; k < R->n_in; k++) R->in_types[k] = plan->cols[s->n_tags + 1 + k].type;
    for (size_t k = 0; k < R->n_cols; k++) R->cols[k].type = R->in_types[R->cols[k].in];
    s->types[0] = V1_TIME;
    for (size_t k = 0; k < R->n_cols; k++)
        s->types[1 + k] = R->cols[k].fn == RF_INTEGRAL ? V1_FLOAT : v1_of(R->cols[k].type);
    if (s->fill_on) {
        s->first_bucket = t_min == INT64_MIN ? INT64_MIN : ss_bucket(s, t_min);
        s->last_bucket = t_max == INT64_MAX ? INT64_MAX : ss_bucket(s, t_max);
    }
}

static bool is_reduce_call(const iql_expr *e, rfn *fn) {
    if (e->kind == IQL_X_DISTINCT) {
        *fn = RF_DISTINCT;
        return true;
    }
    if (e->kind != IQL_X_CALL) return false;
    str_view n = e->u.call.name;
    if (n.n == 4 && !memcmp(n.p, "mode", 4))
        *fn = RF_MODE;
    else if (n.n == 8 && !memcmp(n.p, "distinct", 8))
        *fn = RF_DISTINCT;
    else if (n.n == 8 && !memcmp(n.p, "integral", 8))
        *fn = RF_INTEGRAL;
    else
        return false;
    return true;
}

/* Does the SELECT list call mode(), distinct() or integral() at its top level? */
static bool needs_reducer(const iql_select *sel) {
    rfn fn;
    for (size_t i = 0; i < sel->n_fields; i++)
        if (is_reduce_call(sel->fields[i].expr, &fn)) return true;
    return false;
}

/* A SELECT of mode / distinct / integral on one measurement (see above). */
static int select_reduce(irun *r, tctx *c, qctx *q, const iql_select *sel, const char *m,
                         const char **gtags, size_t n_gtags, bool tags_in_output, series_sink *s,
                         const iql_tz *tz) {
    const query_table *tbl = c->tbl;
    size_t cap = tbl->n_cols + sel->n_fields + 1;
    rcol *cols = arena_alloc(c->a, cap * sizeof *cols);
    const char **in_names = arena_alloc(c->a, (tbl->n_cols + 1) * sizeof *in_names);
    fields f = {0};
    size_t n_cols = 0, n_in = 0;
    bool distinct = false, integral = false;
    buf nb = {0};
    for (size_t i = 0; i < sel->n_fields; i++) {
        const iql_expr *e = sel->fields[i].expr;
        rfn fn;
        if (!is_reduce_call(e, &fn)) {
            buf_free(&nb);
            return SILT_FAIL(r->err, SILT_EINVAL,
                             "mode(), distinct() and integral() cannot be combined with other "
                             "functions or fields yet");
        }
        const char *fname = fn == RF_MODE ? "mode" : fn == RF_DISTINCT ? "distinct" : "integral";
        const iql_expr *a0 = e->kind == IQL_X_DISTINCT ? NULL
                             : e->u.call.n_args        ? e->u.call.args[0]
                                                       : NULL;
        if (fn == RF_DISTINCT) {
            distinct = true;
            if (sel->n_fields != 1) {
                buf_free(&nb);
                return SILT_FAIL(r->err, SILT_EINVAL,
                                 "aggregate function distinct() cannot be combined with other "
                                 "functions or fields");
            }
            if (e->kind == IQL_X_CALL && (e->u.call.n_args != 1 || a0->kind != IQL_X_VARREF)) {
                buf_free(&nb);
                return SILT_FAIL(r->err, SILT_EINVAL,
                                 "distinct function requires at least one argument");
            }
        } else if (!a0 || (e->u.call.n_args > (fn == RF_INTEGRAL ? 2u : 1u))) {
            buf_free(&nb);
            return SILT_FAIL(r->err, SILT_EINVAL, "invalid number of arguments for %s, expected %s",
                             fname, fn == RF_INTEGRAL ? "1 or 2" : "1");
        }
        double unit = 1e9;
        if (fn == RF_INTEGRAL) {
            integral = true;
            if (e->u.call.n_args == 2) {
                const iql_expr *u = e->u.call.args[1];
                if (u->kind != IQL_X_DURATION || u->u.i <= 0) {
                    buf_free(&nb);
                    return SILT_FAIL(r->err, SILT_EINVAL, "second argument must be a duration");
                }
                unit = (double)u->u.i;
            }
        }
        /* the fields it reads: one name, or every field matching * or /re/ */
        const char *names[1];
        const char **list = names;
        size_t nl = 0;
        bool expand = a0 && (a0->kind == IQL_X_WILDCARD || a0->kind == IQL_X_REGEX);
        if (!a0 || a0->kind == IQL_X_VARREF) {
            str_view nm = a0 ? a0->u.ref.name : e->u.s;
            names[0] = cstr(c, nm);
            nl = 1;
        } else if (expand) {
            list = arena_alloc(c->a, (tbl->n_cols + 1) * sizeof *list);
            for (size_t k = 0; k < tbl->n_cols; k++) {
                const query_column *col = &tbl->cols[k];
                if (col->kind != QCOL_FIELD) continue;
                if (fn == RF_INTEGRAL && !numeric(col->type)) continue;
                if (!name_matches(c, a0, col->name)) continue;
                list[nl++] = col->name;
            }
            qsort(list, nl, sizeof *list, cmp_cstr);
        } else {
            buf_free(&nb);
            return SILT_FAIL(r->err, SILT_EINVAL, "expected field argument in %s()", fname);
        }
        for (size_t k = 0; k < nl; k++) {
            lp_type ft;
            int kind = col_kind(tbl, list[k], &ft);
            if (kind != QCOL_FIELD) continue; /* no such field: no values */
            if (fn == RF_INTEGRAL && !numeric(ft)) {
                buf_free(&nb);
                return SILT_FAIL(r->err, SILT_EINVAL,
                                 "integral() needs a numeric field: %s is a %s field", list[k],
                                 ft == LP_STRING ? "string" : "boolean");
            }
            size_t in = 0;
            while (in < n_in && strcmp(in_names[in], list[k])) in++;
            if (in == n_in) in_names[n_in++] = list[k];
            cols[n_cols] = (rcol){.fn = fn, .in = in, .unit = unit};
            buf_reset(&nb);
            if (expand)
                buf_printf(&nb, "%s_%s",
                           sel->fields[i].alias.p ? cstr(c, sel->fields[i].alias) : fname, list[k]);
            else if (sel->fields[i].alias.p)
                buf_append(&nb, sel->fields[i].alias.p, sel->fields[i].alias.n);
            else
                buf_puts(&nb, fname);
            fields_add(c, &f, col_ref(c, list[k]), arena_strndup(c->a, (const char *)nb.p, nb.len));
            n_cols++;
        }
    }
    buf_free(&nb);
    if (!n_cols || c->rc) return c->rc; /* no such field: no series */
    dedupe_names(c, &f);

    /* SELECT <group tags>, time, <fields> FROM m WHERE where AND (f IS NOT NULL OR ...)
     * ORDER BY <group tags>, time */
    qstmt st = {.kind = QS_SELECT, .table = m, .limit = -1};
    st.items = arena_alloc(c->a, (n_gtags + 1 + n_in) * sizeof *st.items);
    size_t ni = 0;
    for (size_t k = 0; k < n_gtags; k++) st.items[ni++] = item(col_ref(c, gtags[k]), gtags[k]);
    st.items[ni++] = item(col_ref(c, "time"), "time");
    for (size_t k = 0; k < n_in; k++) {
        char *al = arena_alloc(c->a, 32);
        snprintf(al, 32, "__iql_%zu", k);
        st.items[ni++] = item(col_ref(c, in_names[k]), al);
    }
    st.n_items = ni;
    if (sel->where && !(st.where = tr_expr(c, sel->where))) return c->rc;
    qexpr *any = nx(c, QX_OR);
    any->u.list.args = arena_alloc(c->a, n_in * sizeof(qexpr *));
    for (size_t k = 0; k < n_in; k++) {
        qexpr *nn = nx(c, QX_IS_NULL);
        nn->u.un.arg = col_ref(c, in_names[k]);
        nn->u.un.negated = true;
        any->u.list.args[k] = nn;
    }
    any->u.list.n = n_in;
    st.where = and2(c, st.where, n_in == 1 ? any->u.list.args[0] : any);
    st.order = arena_alloc(c->a, (n_gtags + 1) * sizeof *st.order);
    for (size_t k = 0; k <= n_gtags; k++)
        st.order[k] = (qorder_item){.expr = ordinal(c, k + 1),
                                    .nulls = k < n_gtags ? QNULLS_FIRST : QNULLS_DEFAULT};
    st.n_order = n_gtags + 1;

    bool desc = sel->order == IQL_ORDER_DESC;
    bool fill_on = sel->group_time && sel->fill != IQL_FILL_NONE && !integral;
    sink_setup(c, r, s, sel, m, gtags, n_gtags, tags_in_output, &f, true, fill_on, desc, tz);
    s->limit = sel->limit;
    s->offset = sel->offset;
    if (sel->group_time && !fill_on) { /* the reducer's buckets even without fill */
        s->interval = sel->group_time->interval_ns;
        s->origin = sel->group_time->offset_ns;
    }

    reducer R = {.s = s,
                 .cols = cols,
                 .n_cols = n_cols,
                 .n_in = n_in,
                 .distinct = distinct,
                 .gt = sel->group_time,
                 .time_zero = integral,
                 .max_mem = q->max_memory_bytes,
                 .err = r->err};
    R.in_types = arena_alloc(c->a, (n_in + 1) * sizeof *R.in_types);
    int rc = run_stmt(q, &st, rd_rows, rd_ready, &R);
    if (rc >= 0 && rd_series_end(&R) < 0) rc = R.rc;
    if (rc >= 0) ss_end_series(s);
    for (size_t k = 0; k < n_cols; k++) free(cols[k].pts);
    free(R.outs);
    buf_free(&R.tags);
    buf_free(&R.bstr);
    buf_free(&R.ostr);
    return rc;
}

/* One SELECT on one measurement. */
static int select_measurement(irun *r, const iql_select *sel, const char *m, const iql_tz *tz) {
    qctx q;
    qctx_init(r, &q, r->err);
    tctx c = {.q = &q, .a = &q.arena, .err = r->err, .tz = tz, .opts = r->opts};
    query_table tbl = {0};
    bool have_tbl = false;
    series_sink s = {0};
    int rc = r->src->table_schema(r->src, r->db, m, &tbl, r->err);
    if (rc == SILT_ENOTFOUND) { /* no such measurement: no series */
        rc = SILT_OK;
        goto out;
    }
    if (rc < 0) goto out;
    have_tbl = true;
    c.tbl = &tbl;

    /* GROUP BY */
    bool *grouped = arena_alloc(c.a, (tbl.n_cols + 1) * sizeof *grouped);
    memset(grouped, 0, (tbl.n_cols + 1) * sizeof *grouped);
    bool tags_in_output = false;
    for (size_t d = 0; d < sel->n_dims; d++) {
        const iql_dim *dim = &sel->dims[d];
        if (dim->kind == IQL_DIM_TIME) continue;
        tags_in_output = true;
        for (size_t k = 0; k < tbl.n_cols; k++) {
            if (tbl.cols[k].kind != QCOL_TAG) continue;
            bool m2 = false;
            if (dim->kind == IQL_DIM_WILDCARD)
                m2 = true;
            else if (dim->kind == IQL_DIM_TAG)
                m2 = strlen(tbl.cols[k].name) == dim->name.n &&
                     !memcmp(tbl.cols[k].name, dim->name.p, dim->name.n);
            else {
                iql_expr pat = {.kind = IQL_X_REGEX, .u.s = dim->name};
                m2 = name_matches(&c, &pat, tbl.cols[k].name);
            }
            if (m2) grouped[k] = true;
        }
    }
    /* InfluxDB lists every tag named in GROUP BY, even one the measurement lacks: such a
     * tag is "" in every series; silt groups by the tags that exist */
    const char **gtags = arena_alloc(c.a, (tbl.n_cols + 1) * sizeof *gtags);
    size_t n_gtags = 0;
    for (size_t k = 0; k < tbl.n_cols; k++)
        if (grouped[k]) gtags[n_gtags++] = tbl.cols[k].name;
    qsort(gtags, n_gtags, sizeof *gtags, cmp_cstr);

    if (needs_reducer(sel)) {
        rc = select_reduce(r, &c, &q, sel, m, gtags, n_gtags, tags_in_output, &s, tz);
        goto out;
    }
    bool agg = false;
    for (size_t i = 0; i < sel->n_fields; i++) agg |= has_call(sel->fields[i].expr);
    if (sel->group_time && !agg) {
        rc = SILT_FAIL(r->err, SILT_EINVAL, "GROUP BY requires at least one aggregate function");
        goto out;
    }
    fields f = {0};
    build_fields(&c, sel, grouped, agg, &f);
    if (c.rc) {
        rc = c.rc;
        goto out;
    }
    if (!f.n) { /* e.g. SELECT /nomatch/: no columns, no series */
        rc = SILT_OK;
        goto out;
    }

    /* the SQL statement */
    qstmt st = {.kind = QS_SELECT, .table = m, .limit = -1};
    size_t n_items = n_gtags + 1 + f.n;
    st.items = arena_alloc(c.a, n_items * sizeof *st.items);
    size_t ni = 0;
    for (size_t k = 0; k < n_gtags; k++) st.items[ni++] = item(col_ref(&c, gtags[k]), gtags[k]);
    bool has_time = !agg || sel->group_time;
    if (!agg)
        st.items[ni++] = item(col_ref(&c, "time"), "time");
    else if (sel->group_time) {
        qexpr *args[3] = {lit_int(&c, sel->group_time->interval_ns, QT_INTERVAL),
                          col_ref(&c, "time"), lit_int(&c, sel->group_time->offset_ns, QT_TIME)};
        qexpr *bucket = func(&c, "date_bin", args, 3);
        if (tz) {
            int64_t lo = INT64_MIN, hi = INT64_MAX;
            where_time_range(r, tz, sel->where, &lo, &hi);
            bucket = tz_bucket_expr(&c, tz, sel->group_time->interval_ns,
                                    sel->group_time->offset_ns, lo, hi);
        }
        st.items[ni++] = item(bucket, "time");
    }
    for (size_t k = 0; k < f.n; k++) {
        /* unique internal aliases: the output names may repeat tag names or "time" */
        char *al = arena_alloc(c.a, 32);
        snprintf(al, 32, "__iql_%zu", k);
        st.items[ni++] = item(f.v[k].expr, al);
    }
    /* one selector alone (first, last, min, max of a field), without GROUP BY time: InfluxDB
     * 1.x answers the selected point's time, read from a hidden selector_<fn>(f, time) */
    bool sel_time = false;
    lp_type sft = LP_FLOAT;
    if (agg && !sel->group_time && sel->n_fields == 1 && f.n == 1) {
        const iql_expr *e = sel->fields[0].expr;
        static const char *const sels[] = {"first", "last", "min", "max"};
        for (size_t k = 0; k < 4 && e->kind == IQL_X_CALL && !sel_time; k++)
            if (e->u.call.name.n == strlen(sels[k]) &&
                !memcmp(e->u.call.name.p, sels[k], e->u.call.name.n) && e->u.call.n_args == 1 &&
                e->u.call.args[0]->kind == IQL_X_VARREF &&
                col_kind(&tbl, cstr(&c, e->u.call.args[0]->u.ref.name), &sft) == QCOL_FIELD &&
                (k < 2 || numeric(sft))) {
                char fn[32];
                snprintf(fn, sizeof fn, "selector_%s", sels[k]);
                qexpr *args[2] = {col_ref(&c, cstr(&c, e->u.call.args[0]->u.ref.name)),
                                  col_ref(&c, "time")};
                st.items = arena_realloc_items(&c, st.items, ni);
                st.items[ni++] =
                    item(func(&c, arena_strndup(c.a, fn, strlen(fn)), args, 2), "__iql_time");
                sel_time = true;
            }
    }
    st.n_items = ni;
    if (sel->where && !(st.where = tr_expr(&c, sel->where))) {
        rc = c.rc;
        goto out;
    }
    if (!agg) {
        /* raw rows: only the points that have at least one of the selected fields (InfluxDB
         * returns no row for a point without them); none of them in this measurement: no
         * series */
        const char **refs = arena_alloc(c.a, (tbl.n_cols + 1) * sizeof *refs);
        size_t nr = 0;
        for (size_t k = 0; k < f.n; k++) field_refs(&tbl, f.v[k].expr, refs, &nr, tbl.n_cols);
        if (!nr) {
            rc = SILT_OK;
            goto out;
        }
        qexpr *any = nx(&c, QX_OR);
        any->u.list.args = arena_alloc(c.a, nr * sizeof(qexpr *));
        for (size_t k = 0; k < nr; k++) {
            qexpr *nn = nx(&c, QX_IS_NULL);
            nn->u.un.arg = col_ref(&c, refs[k]);
            nn->u.un.negated = true;
            any->u.list.args[k] = nn;
        }
        any->u.list.n = nr;
        st.where = and2(&c, st.where, nr == 1 ? any->u.list.args[0] : any);
    }
    if (agg) {
        /* InfluxDB 1.x answers no series for a measurement that has none of the aggregated
         * fields, and without GROUP BY time none when none of them has a point in the range
         * (SQL would give a row of NULLs and zero counts): HAVING count(f) > 0 OR ... */
        const char **refs = arena_alloc(c.a, (tbl.n_cols + 1) * sizeof *refs);
        size_t nr = 0;
        for (size_t k = 0; k < f.n; k++) field_refs(&tbl, f.v[k].expr, refs, &nr, tbl.n_cols);
        if (!nr) {
            rc = SILT_OK;
            goto out;
        }
        if (!sel->group_time) {
            qexpr *any = nx(&c, QX_OR);
            any->u.list.args = arena_alloc(c.a, nr * sizeof(qexpr *));
            for (size_t k = 0; k < nr; k++)
                any->u.list.args[k] =
                    binary(&c, QX_CMP, QOP_GT, func1(&c, "count", col_ref(&c, refs[k])),
                           lit_int(&c, 0, QT_INT));
            any->u.list.n = nr;
            st.having = nr == 1 ? any->u.list.args[0] : any;
        }
    }
    size_t n_keys = n_gtags + (has_time ? 1 : 0);
    if (agg && n_keys) {
        st.group = arena_alloc(c.a, n_keys * sizeof *st.group);
        for (size_t k = 0; k < n_keys; k++) st.group[k] = ordinal(&c, k + 1);
        st.n_group = n_keys;
    }
    bool desc = sel->order == IQL_ORDER_DESC;
    if (n_keys) {
        st.order = arena_alloc(c.a, n_keys * sizeof *st.order);
        for (size_t k = 0; k < n_keys; k++)
            /* a series without the tag ("" in InfluxDB 1.x) sorts first, as "" does */
            st.order[k] = (qorder_item){.expr = ordinal(&c, k + 1),
                                        .desc = has_time && k == n_gtags && desc,
                                        .nulls = k < n_gtags ? QNULLS_FIRST : QNULLS_DEFAULT};
        st.n_order = n_keys;
    }
    bool fill_on = agg && sel->group_time && sel->fill != IQL_FILL_NONE;
    if (!n_gtags && !fill_on) { /* one series: LIMIT and OFFSET are SQL's */
        st.limit = sel->limit > 0 ? sel->limit : -1;
        st.offset = sel->offset;
    } else if (!fill_on && has_time && sel->limit > 0 && sel->offset >= 0 &&
               sel->limit <= INT64_MAX - sel->offset) {
        /* per-series LIMIT: the sort keeps the first offset + limit rows of each series */
        st.n_part_keys = n_gtags;
        st.part_limit = sel->offset + sel->limit;
    }

    sink_setup(&c, r, &s, sel, m, gtags, n_gtags, tags_in_output, &f, has_time, fill_on, desc, tz);
    s.sel_time = sel_time;
    s.limit = n_gtags || fill_on ? sel->limit : 0;
    s.offset = n_gtags || fill_on ? sel->offset : 0;

    rc = run_stmt(&q, &st, ss_rows, sink_ready, &s);
    if (rc >= 0) ss_end_series(&s);
out:
    buf_free(&s.cur_tags);
    buf_free(&s.prev_str);
    if (have_tbl) r->src->table_release(r->src, &tbl);
    qctx_fini(r, &q);
    return rc;
}

/* ------------------------------------------------------------------ SHOW statements */

static void row_strs(v1_writer *w, const char *const *vals, size_t n) {
    str_view sv[8];
    query_vec v[8];
    const query_vec *vp[8];
    v1_type t[8];
    for (size_t i = 0; i < n && i < 8; i++) {
        sv[i] = (str_view){vals[i], strlen(vals[i])};
        v[i] = (query_vec){.str = &sv[i]};
        vp[i] = &v[i];
        t[i] = V1_STRING;
    }
    query_v1_row(w, vp, t, n < 8 ? n : 8, 0);
}

static void series_strs(v1_writer *w, const char *name, const char *const *cols, size_t n_cols) {
    str_view cs[8];
    for (size_t i = 0; i < n_cols && i < 8; i++) cs[i] = (str_view){cols[i], strlen(cols[i])};
    query_v1_series_begin(w, name ? (str_view){name, strlen(name)} : (str_view){NULL, 0}, NULL,
                          NULL, 0, cs, n_cols);
}

/* The measurements a statement names: FROM sources (names and regexes) or, without FROM,
 * every table of the database; sorted. */
static int measurements(irun *r, arena *a, const iql_source *srcs, size_t n_srcs,
                        const iql_source *with, const char ***out, size_t *n_out) {
    char **names = NULL;
    size_t n = 0;
    int rc = r->src->list_tables(r->src, r->db, &names, &n, r->err);
    if (rc < 0) return rc;
    const char **res = arena_alloc(a, (n + 1) * sizeof *res);
    size_t k = 0;
    tctx c = {.a = a, .err = r->err, .opts = r->opts};
    for (size_t i = 0; i < n; i++) {
        bool keep = n_srcs == 0;
        for (size_t s = 0; s < n_srcs && !keep; s++) {
            if (srcs[s].kind == IQL_SRC_MEASUREMENT)
                keep = strlen(names[i]) == srcs[s].name.n &&
                       !memcmp(names[i], srcs[s].name.p, srcs[s].name.n);
            else if (srcs[s].kind == IQL_SRC_REGEX) {
                iql_expr pat = {.kind = IQL_X_REGEX, .u.s = srcs[s].name};
                keep = name_matches(&c, &pat, names[i]);
            }
        }
        if (keep && with) {
            if (with->kind == IQL_SRC_REGEX) {
                iql_expr pat = {.kind = IQL_X_REGEX, .u.s = with->name};
                keep = name_matches(&c, &pat, names[i]);
            } else {
                keep = strlen(names[i]) == with->name.n &&
                       !memcmp(names[i], with->name.p, with->name.n);
            }
        }
        if (keep) res[k++] = arena_strndup(a, names[i], strlen(names[i]));
        free(names[i]);
    }
    free(names);
    if (c.rc) return c.rc;
    qsort(res, k, sizeof *res, cmp_cstr);
    *out = res;
    *n_out = k;
    return SILT_OK;
}

/* Collects the rows of string columns (DISTINCT tag values, tag sets). */
typedef struct str_rows {
    arena *a;
    size_t n_cols;
    const char **v; /* n_rows * n_cols; NULL for NULL */
    size_t n_rows, cap;
} str_rows;

static int collect_rows(void *arg, const query_vec *const *vecs, const uint32_t *sel, size_t n,
                        silt_err *err) {
    (void)err;
    str_rows *s = arg;
    for (size_t k = 0; k < n; k++) {
        if (s->n_rows == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 256;
            const char **nv = arena_alloc(s->a, cap * s->n_cols * sizeof *nv);
            if (s->n_rows) memcpy(nv, s->v, s->n_rows * s->n_cols * sizeof *nv);
            s->v = nv;
            s->cap = cap;
        }
        for (size_t c = 0; c < s->n_cols; c++) {
            const query_vec *v = vecs[c];
            uint32_t i = sel[k];
            s->v[s->n_rows * s->n_cols + c] = v->str && (!v->valid || v->valid[i])
                                                  ? arena_strndup(s->a, v->str[i].p, v->str[i].n)
                                                  : NULL;
        }
        s->n_rows++;
    }
    return SILT_OK;
}

/* SELECT DISTINCT cols FROM m [WHERE where] ORDER BY cols, rows into *rows. */
static int distinct_rows(irun *r, const char *m, const char *const *cols, size_t n_cols,
                         const iql_expr *where, bool not_null, arena *out_arena, str_rows *rows) {
    qctx q;
    qctx_init(r, &q, r->err);
    tctx c = {.q = &q, .a = &q.arena, .err = r->err, .opts = r->opts};
    query_table tbl = {0};
    int rc = r->src->table_schema(r->src, r->db, m, &tbl, r->err);
    if (rc < 0) {
        qctx_fini(r, &q);
        return rc == SILT_ENOTFOUND ? SILT_OK : rc;
    }
    c.tbl = &tbl;
    qstmt st = {.kind = QS_SELECT, .table = m, .limit = -1, .distinct = true};
    st.items = arena_alloc(c.a, n_cols * sizeof *st.items);
    st.order = arena_alloc(c.a, n_cols * sizeof *st.order);
    for (size_t k = 0; k < n_cols; k++) {
        st.items[k] = item(col_ref(&c, cols[k]), cols[k]);
        st.order[k] = (qorder_item){.expr = ordinal(&c, k + 1)};
    }
    st.n_items = st.n_order = n_cols;
    qexpr *w = where ? tr_expr(&c, where) : NULL;
    if (c.rc) {
        rc = c.rc;
        goto out;
    }
    if (not_null) {
        qexpr *nn = nx(&c, QX_IS_NULL);
        nn->u.un.arg = col_ref(&c, cols[0]);
        nn->u.un.negated = true;
        w = and2(&c, nn, w);
    }
    st.where = w;
    rows->a = out_arena;
    rows->n_cols = n_cols;
    rc = run_stmt(&q, &st, collect_rows, NULL, rows);
out:
    r->src->table_release(r->src, &tbl);
    qctx_fini(r, &q);
    return rc;
}

/* Line-protocol escaping of a series key part (SHOW SERIES). */
static void key_escape(buf *b, const char *s, bool measurement) {
    for (; *s; s++) {
        if (*s == ',' || *s == ' ' || (!measurement && *s == '=') || *s == '\\') buf_putc(b, '\\');
        buf_putc(b, *s);
    }
}

static int run_show(irun *r, const iql_stmt *st, arena *a) {
    const iql_show *sh = &st->u.show;
    v1_writer *w = r->w;
    int64_t limit = sh->limit, offset = sh->offset;
    const char **ms;
    size_t nm;
    int rc;
    switch (st->kind) {
        case IQL_STMT_SHOW_RETENTION_POLICIES: {
            const char *cols[] = {"name", "duration", "shardGroupDuration", "replicaN", "default"};
            series_strs(w, NULL, cols, 5);
            str_view sv[3] = {{"autogen", 7}, {"0s", 2}, {"168h0m0s", 8}};
            int64_t one = 1;
            uint8_t yes = 1;
            query_vec v[5] = {
                {.str = &sv[0]}, {.str = &sv[1]}, {.str = &sv[2]}, {.i64 = &one}, {.b = &yes}};
            const query_vec *vp[5] = {&v[0], &v[1], &v[2], &v[3], &v[4]};
            const v1_type t[5] = {V1_STRING, V1_STRING, V1_STRING, V1_INT, V1_BOOL};
            query_v1_row(w, vp, t, 5, 0);
            query_v1_series_end(w);
            return SILT_OK;
        }
        case IQL_STMT_SHOW_MEASUREMENTS: {
            if (sh->where)
                return SILT_FAIL(r->err, SILT_EINVAL,
                                 "SHOW MEASUREMENTS WHERE is not supported yet");
            if ((rc = measurements(r, a, NULL, 0, sh->with_measurement, &ms, &nm)) < 0) return rc;
            bool open = false;
            for (size_t i = 0; i < nm; i++) {
                if ((int64_t)i < offset || (limit > 0 && (int64_t)i >= offset + limit)) continue;
                if (!open) {
                    const char *cols[] = {"name"};
                    series_strs(w, "measurements", cols, 1);
                    open = true;
                }
                row_strs(w, &ms[i], 1);
            }
            if (open) query_v1_series_end(w);
            return SILT_OK;
        }
        case IQL_STMT_SHOW_TAG_KEYS:
        case IQL_STMT_SHOW_FIELD_KEYS: {
            bool tags = st->kind == IQL_STMT_SHOW_TAG_KEYS;
            if ((rc = measurements(r, a, sh->sources, sh->n_sources, NULL, &ms, &nm)) < 0)
                return rc;
            for (size_t i = 0; i < nm; i++) {
                query_table t = {0};
                if ((rc = r->src->table_schema(r->src, r->db, ms[i], &t, r->err)) < 0) {
                    if (rc == SILT_ENOTFOUND) continue;
                    return rc;
                }
                const char **names = arena_alloc(a, (t.n_cols + 1) * sizeof *names);
                lp_type *types = arena_alloc(a, (t.n_cols + 1) * sizeof *types);
                size_t n = 0;
                for (size_t k = 0; k < t.n_cols; k++)
                    if (t.cols[k].kind == (tags ? QCOL_TAG : QCOL_FIELD)) {
                        names[n] = arena_strndup(a, t.cols[k].name, strlen(t.cols[k].name));
                        types[n++] = t.cols[k].type;
                    }
                r->src->table_release(r->src, &t);
                /* sort names, types along */
                for (size_t x = 1; x < n; x++)
                    for (size_t y = x; y > 0 && strcmp(names[y - 1], names[y]) > 0; y--) {
                        const char *tn = names[y];
                        names[y] = names[y - 1];
                        names[y - 1] = tn;
                        lp_type tt = types[y];
                        types[y] = types[y - 1];
                        types[y - 1] = tt;
                    }
                bool open = false;
                for (size_t k = 0; k < n; k++) {
                    if ((int64_t)k < offset || (limit > 0 && (int64_t)k >= offset + limit))
                        continue;
                    if (!open) {
                        const char *cols[] = {tags ? "tagKey" : "fieldKey", "fieldType"};
                        series_strs(w, ms[i], cols, tags ? 1 : 2);
                        open = true;
                    }
                    const char *vals[2] = {names[k], lp_type_name(types[k])};
                    row_strs(w, vals, tags ? 1 : 2);
                }
                if (open) query_v1_series_end(w);
            }
            return SILT_OK;
        }
        case IQL_STMT_SHOW_TAG_VALUES: {
            if ((rc = measurements(r, a, sh->sources, sh->n_sources, NULL, &ms, &nm)) < 0)
                return rc;
            tctx c = {.a = a, .err = r->err, .opts = r->opts};
            for (size_t i = 0; i < nm; i++) {
                query_table t = {0};
                if ((rc = r->src->table_schema(r->src, r->db, ms[i], &t, r->err)) < 0) {
                    if (rc == SILT_ENOTFOUND) continue;
                    return rc;
                }
                const char **keys = arena_alloc(a, (t.n_cols + 1) * sizeof *keys);
                size_t nk = 0;
                for (size_t k = 0; k < t.n_cols; k++) {
                    if (t.cols[k].kind != QCOL_TAG) continue;
                    const char *name = t.cols[k].name;
                    bool keep = false;
                    switch (sh->key_op) {
                        case IQL_KEY_EQ:
                        case IQL_KEY_NEQ: {
                            bool eq = sh->n_keys && strlen(name) == sh->keys[0].n &&
                                      !memcmp(name, sh->keys[0].p, sh->keys[0].n);
                            keep = sh->key_op == IQL_KEY_EQ ? eq : !eq;
                            break;
                        }
                        case IQL_KEY_IN:
                            for (size_t x = 0; x < sh->n_keys; x++)
                                keep |= strlen(name) == sh->keys[x].n &&
                                        !memcmp(name, sh->keys[x].p, sh->keys[x].n);
                            break;
                        case IQL_KEY_EQREGEX:
                        case IQL_KEY_NEQREGEX: {
                            iql_expr pat = {.kind = IQL_X_REGEX, .u.s = sh->key_regex};
                            bool mm = name_matches(&c, &pat, name);
                            keep = sh->key_op == IQL_KEY_EQREGEX ? mm : !mm;
                            break;
                        }
                    }
                    if (keep) keys[nk++] = arena_strndup(a, name, strlen(name));
                }
                r->src->table_release(r->src, &t);
                if (c.rc) return c.rc;
                qsort(keys, nk, sizeof *keys, cmp_cstr);
                bool open = false;
                int64_t idx = 0;
                for (size_t k = 0; k < nk; k++) {
                    str_rows rows = {0};
                    if ((rc = distinct_rows(r, ms[i], &keys[k], 1, sh->where, true, a, &rows)) < 0)
                        return rc;
                    for (size_t x = 0; x < rows.n_rows; x++, idx++) {
                        if (idx < offset || (limit > 0 && idx >= offset + limit)) continue;
                        if (!open) {
                            const char *cols[] = {"key", "value"};
                            series_strs(w, ms[i], cols, 2);
                            open = true;
                        }
                        const char *vals[2] = {keys[k], rows.v[x]};
                        row_strs(w, vals, 2);
                    }
                }
                if (open) query_v1_series_end(w);
            }
            return SILT_OK;
        }
        case IQL_STMT_SHOW_SERIES: {
            if ((rc = measurements(r, a, sh->sources, sh->n_sources, NULL, &ms, &nm)) < 0)
                return rc;
            bool open = false;
            int64_t idx = 0;
            buf key = {0};
            for (size_t i = 0; i < nm && rc >= 0; i++) {
                query_table t = {0};
                if ((rc = r->src->table_schema(r->src, r->db, ms[i], &t, r->err)) < 0) {
                    if (rc == SILT_ENOTFOUND) {
                        rc = SILT_OK;
                        continue;
                    }
                    break;
                }
                const char **tags = arena_alloc(a, (t.n_cols + 1) * sizeof *tags);
                size_t nt = 0;
                for (size_t k = 0; k < t.n_cols; k++)
                    if (t.cols[k].kind == QCOL_TAG)
                        tags[nt++] = arena_strndup(a, t.cols[k].name, strlen(t.cols[k].name));
                r->src->table_release(r->src, &t);
                qsort(tags, nt, sizeof *tags, cmp_cstr);
                str_rows rows = {0};
                if (nt && (rc = distinct_rows(r, ms[i], tags, nt, sh->where, false, a, &rows)) < 0)
                    break;
                if (!nt) rows.n_rows = 1; /* a measurement without tags: one series */
                for (size_t x = 0; x < rows.n_rows; x++, idx++) {
                    if (idx < offset || (limit > 0 && idx >= offset + limit)) continue;
                    buf_reset(&key);
                    key_escape(&key, ms[i], true);
                    for (size_t k = 0; k < nt; k++) {
                        const char *v = rows.v[x * nt + k];
                        if (!v) continue;
                        buf_putc(&key, ',');
                        key_escape(&key, tags[k], false);
                        buf_putc(&key, '=');
                        key_escape(&key, v, false);
                    }
                    buf_putc(&key, 0);
                    if (!open) {
                        const char *cols[] = {"key"};
                        series_strs(w, NULL, cols, 1);
                        open = true;
                    }
                    const char *kv = (const char *)key.p;
                    row_strs(w, &kv, 1);
                }
            }
            buf_free(&key);
            if (open) query_v1_series_end(w);
            return rc < 0 ? rc : SILT_OK;
        }
        default:
            return SILT_FAIL(r->err, SILT_EINVAL, "statement not supported");
    }
}

/* ------------------------------------------------------------------ statements */

static int run_select(irun *r, const iql_select *sel, arena *a) {
    iql_tz tzv, *tz = NULL;
    if (sel->tz.p) {
        int trc = influxql_tz_load(arena_strndup(a, sel->tz.p, sel->tz.n), a, &tzv, r->err);
        if (trc < 0) return trc;
        tz = &tzv;
    }
    const char **ms = arena_alloc(a, sizeof *ms);
    size_t nm = 0;
    for (size_t i = 0; i < sel->n_sources; i++)
        if (sel->sources[i].kind == IQL_SRC_SUBQUERY)
            return SILT_FAIL(r->err, SILT_EINVAL, "subqueries are not supported yet");
    bool only_names = true;
    for (size_t i = 0; i < sel->n_sources; i++)
        only_names &= sel->sources[i].kind == IQL_SRC_MEASUREMENT;
    int rc;
    if (only_names) {
        ms = arena_alloc(a, (sel->n_sources + 1) * sizeof *ms);
        for (size_t i = 0; i < sel->n_sources; i++)
            ms[nm++] = arena_strndup(a, sel->sources[i].name.p, sel->sources[i].name.n);
        qsort(ms, nm, sizeof *ms, cmp_cstr);
    } else if ((rc = measurements(r, a, sel->sources, sel->n_sources, NULL, &ms, &nm)) < 0) {
        return rc;
    }
    for (size_t i = 0; i < nm; i++) {
        if (i && !strcmp(ms[i], ms[i - 1])) continue;
        if ((rc = select_measurement(r, sel, ms[i], tz)) < 0) return rc;
    }
    return SILT_OK;
}

/* Does the statement need a database? */
static bool needs_db(const iql_stmt *st) {
    switch (st->kind) {
        case IQL_STMT_SHOW_DATABASES:
        case IQL_STMT_CREATE_DATABASE:
        case IQL_STMT_DROP_DATABASE:
        case IQL_STMT_SHOW_RETENTION_POLICIES:
            return false;
        default:
            return true;
    }
}

/* CREATE DATABASE, DROP DATABASE, DROP MEASUREMENT through the source's hooks. Answers as
 * InfluxDB 1.x: an empty result; CREATE of an existing database and DROP DATABASE of a
 * missing one are no-ops, DROP MEASUREMENT of a missing one is "measurement not found". */
static int run_ddl(irun *r, const iql_stmt *st, arena *a) {
    const query_source *src = r->src;
    if (st->kind == IQL_STMT_CREATE_DATABASE) {
        const iql_create_db *cd = &st->u.create_db;
        if (!src->create_db)
            return SILT_FAIL(r->err, SILT_EINVAL, "CREATE DATABASE is not available");
        /* silt keeps data until it is dropped: a finite retention would be a promise it does
         * not keep yet. REPLICATION, SHARD DURATION and NAME have no meaning in silt. */
        if (cd->has_duration && cd->duration_ns != 0)
            return SILT_FAIL(r->err, SILT_EINVAL,
                             "retention policies are not supported yet: use CREATE DATABASE "
                             "without DURATION (or DURATION INF); data is kept until dropped");
        char *db = arena_strndup(a, cd->name.p, cd->name.n);
        bool created = false;
        return src->create_db(src->admin, db, &created, r->err);
    }
    char *name = arena_strndup(a, st->u.name.p, st->u.name.n);
    if (st->kind == IQL_STMT_DROP_DATABASE) {
        if (!src->drop_db) return SILT_FAIL(r->err, SILT_EINVAL, "DROP DATABASE is not available");
        int rc = src->drop_db(src->admin, name, r->err);
        if (rc == SILT_ENOTFOUND) {
            *r->err = (silt_err){0};
            rc = SILT_OK;
        }
        return rc;
    }
    if (!src->drop_table)
        return SILT_FAIL(r->err, SILT_EINVAL, "DROP MEASUREMENT is not available");
    return src->drop_table(src->admin, r->db, name, r->err);
}

static int run_stmt_one(irun *r, const iql_stmt *st, arena *a) {
    switch (st->kind) {
        case IQL_STMT_SELECT:
            return run_select(r, st->u.select, a);
        case IQL_STMT_SHOW_DATABASES: {
            if (!r->src->list_dbs)
                return SILT_FAIL(r->err, SILT_EINVAL, "SHOW DATABASES is not available");
            char **names = NULL;
            size_t n = 0;
            int rc = r->src->list_dbs(r->src, &names, &n, r->err);
            if (rc < 0) return rc;
            const char *cols[] = {"name"};
            series_strs(r->w, "databases", cols, 1);
            for (size_t i = 0; i < n; i++) {
                row_strs(r->w, (const char *const *)&names[i], 1);
                free(names[i]);
            }
            free(names);
            query_v1_series_end(r->w);
            return SILT_OK;
        }
        case IQL_STMT_SHOW_MEASUREMENTS:
        case IQL_STMT_SHOW_TAG_KEYS:
        case IQL_STMT_SHOW_TAG_VALUES:
        case IQL_STMT_SHOW_FIELD_KEYS:
        case IQL_STMT_SHOW_SERIES:
        case IQL_STMT_SHOW_RETENTION_POLICIES:
            return run_show(r, st, a);
        case IQL_STMT_EXPLAIN:
            return SILT_FAIL(r->err, SILT_EINVAL, "EXPLAIN is not supported yet");
        case IQL_STMT_CREATE_DATABASE:
        case IQL_STMT_DROP_DATABASE:
        case IQL_STMT_DROP_MEASUREMENT:
            return run_ddl(r, st, a);
        default:
            return SILT_FAIL(r->err, SILT_EINVAL, "this statement is not supported yet");
    }
}

int query_influxql_v1(const query_source *src, const char *db, const char *qtext, size_t n,
                      const query_influxql_opts *opts, buf *out, silt_err *err) {
    arena a;
    arena_init(&a, 16 * 1024);
    iql_query parsed;
    int rc = influxql_parse(qtext ? qtext : "", n, &a, &parsed, err);
    if (rc < 0) {
        arena_fini(&a);
        return rc;
    }
    v1_writer w;
    query_influxql_opts o = opts ? *opts : (query_influxql_opts){0};
    query_v1_init(&w, out, o.epoch, o.chunked, o.chunk_size);
    irun r = {
        .src = src, .opts = &o, .w = &w, .now_ns = o.now_ns ? o.now_ns : time_now_ns(), .err = err};
    query_v1_begin(&w);
    for (size_t i = 0; i < parsed.n_stmts; i++) {
        const iql_stmt *st = parsed.stmts[i];
        /* the database: ON db of SHOW statements, db of the first FROM source, or ?db= */
        const char *sdb = db && *db ? db : NULL;
        if (st->kind >= IQL_STMT_SHOW_MEASUREMENTS && st->kind <= IQL_STMT_DELETE &&
            st->kind != IQL_STMT_CREATE_DATABASE && st->kind != IQL_STMT_DROP_DATABASE &&
            st->kind != IQL_STMT_DROP_MEASUREMENT && st->u.show.db.n) /* u.show only */
            sdb = arena_strndup(&a, st->u.show.db.p, st->u.show.db.n);
        if (st->kind == IQL_STMT_SELECT && st->u.select->n_sources && st->u.select->sources[0].db.n)
            sdb = arena_strndup(&a, st->u.select->sources[0].db.p, st->u.select->sources[0].db.n);
        r.db = sdb;
        silt_err serr = {0};
        r.err = &serr;
        int src_rc = SILT_OK;
        if (needs_db(st)) {
            if (!sdb)
                src_rc = SILT_FAIL(&serr, SILT_EINVAL, "database name required");
            else if (src->db_exists(src, sdb) != SILT_OK)
                src_rc = SILT_FAIL(&serr, SILT_ENOTFOUND, "database not found: %s", sdb);
        }
        if (src_rc == SILT_OK) {
            query_v1_stmt_begin(&w, (int)i);
            src_rc = run_stmt_one(&r, st, &a);
            if (src_rc >= 0)
                query_v1_stmt_end(&w);
            else
                query_v1_stmt_abort(&w); /* the error object takes its place */
        }
        if (r.interrupted) {
            if (err) *err = serr;
            rc = src_rc < 0 ? src_rc : SILT_EIO;
            break;
        }
        if (src_rc == SILT_ETIMEDOUT) {
            /* InfluxDB 1.x's words; the statements after it are not run */
            query_v1_stmt_error(&w, (int)i, "query-timeout limit exceeded");
            if (err) *err = serr; /* the caller may count it (the answer is still SILT_OK) */
            break;
        }
        if (src_rc < 0) query_v1_stmt_error(&w, (int)i, serr.msg);
        if (o.max_result_bytes && out->len > o.max_result_bytes) {
            rc = SILT_FAIL(err, SILT_ELIMIT, "the result is larger than %zu bytes",
                           o.max_result_bytes);
            break;
        }
    }
    if (rc >= 0) {
        query_v1_end(&w);
        rc = SILT_OK;
    }
    query_v1_fini(&w);
    arena_fini(&a);
    return rc;
}

/* ------------------------------------------------------------------ InfluxDB 3's table shape */

/* The database a statement names: ON db of SHOW statements, or that of its first FROM
 * source; NULL when it names none. */
static const char *stmt_db(const iql_stmt *st, arena *a) {
    bool show = st->kind >= IQL_STMT_SHOW_MEASUREMENTS && st->kind <= IQL_STMT_DELETE &&
                st->kind != IQL_STMT_CREATE_DATABASE && st->kind != IQL_STMT_DROP_DATABASE &&
                st->kind != IQL_STMT_DROP_MEASUREMENT; /* those hold no u.show */
    if (show && st->u.show.db.n) return arena_strndup(a, st->u.show.db.p, st->u.show.db.n);
    if (st->kind == IQL_STMT_SELECT && st->u.select->n_sources && st->u.select->sources[0].db.n)
        return arena_strndup(a, st->u.select->sources[0].db.p, st->u.select->sources[0].db.n);
    return NULL;
}

/* SHOW DATABASES and SHOW RETENTION POLICIES, as InfluxDB 3 answers them: a table of
 * iox::database (and name, duration: every database has the one policy autogen, without a
 * duration) for db, or for every database when db is NULL. */
static int show_dbs_table(irun *r, const iql_stmt *st, const char *db) {
    bool rp = st->kind == IQL_STMT_SHOW_RETENTION_POLICIES;
    char **names = NULL;
    size_t n = 0;
    if (rp && db) {
        if (r->src->db_exists(r->src, db) != SILT_OK)
            return SILT_FAIL(r->err, SILT_ENOTFOUND, "database not found: %s", db);
    } else {
        if (!r->src->list_dbs)
            return SILT_FAIL(r->err, SILT_EINVAL, "SHOW DATABASES is not available");
        int rc = r->src->list_dbs(r->src, &names, &n, r->err);
        if (rc < 0) return rc;
    }
    const char *cols[] = {"iox::database", "name", "duration"};
    series_strs(r->w, NULL, cols, rp ? 3 : 1);
    for (size_t i = 0; i < (rp && db ? 1 : n); i++) {
        const char *name = rp && db ? db : names[i];
        str_view sv[2] = {{name, strlen(name)}, {"autogen", 7}};
        query_vec v[3] = {{.str = &sv[0]}, {.str = &sv[1]}, {0}};
        const query_vec *vp[3] = {&v[0], &v[1], &v[2]};
        const v1_type t[3] = {V1_STRING, V1_STRING, V1_NULL};
        query_v1_row(r->w, vp, t, rp ? 3 : 1, 0);
    }
    query_v1_series_end(r->w);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return SILT_OK;
}

/* The interrupt of a statement collected into a table: stop once the table is full (the
 * executor polls it between batches, so a query that asks for too much stops early instead
 * of running to its end), else ask the caller's. */
typedef struct table_run {
    v1_table *t;
    const query_influxql_opts *caller;
} table_run;

static int table_interrupt(void *arg, silt_err *err) {
    table_run *x = arg;
    if (query_v1_table_full(x->t))
        return SILT_FAIL(err, SILT_ELIMIT,
                         "query result exceeds max_result_bytes (%zu bytes); add a LIMIT or a "
                         "narrower WHERE clause",
                         x->caller->max_result_bytes);
    return x->caller->interrupt ? x->caller->interrupt(x->caller->interrupt_arg, err) : SILT_OK;
}

int query_influxql_table(const query_source *src, const char *db, const char *qtext, size_t n,
                         query_format fmt, const query_influxql_opts *opts, buf *out,
                         silt_err *err) {
    arena a;
    arena_init(&a, 16 * 1024);
    query_influxql_opts caller = opts ? *opts : (query_influxql_opts){0}, o = caller;
    v1_table *t = query_v1_table_create(o.max_result_bytes);
    table_run tr = {.t = t, .caller = &caller};
    if (o.max_result_bytes) {
        o.interrupt = table_interrupt;
        o.interrupt_arg = &tr;
    }
    v1_writer w;
    query_v1_init_table(&w, t);
    irun r = {
        .src = src, .opts = &o, .w = &w, .now_ns = o.now_ns ? o.now_ns : time_now_ns(), .err = err};
    iql_query parsed;
    int rc = influxql_parse(qtext ? qtext : "", n, &a, &parsed, err);
    if (rc < 0) goto done;
    if (parsed.n_stmts != 1) { /* InfluxDB 3's rule and words */
        rc = SILT_FAIL(err, SILT_EINVAL, "must provide only one InfluxQl statement per query");
        goto done;
    }
    const iql_stmt *st = parsed.stmts[0];
    const char *qdb = stmt_db(st, &a), *pdb = db && *db ? db : NULL;
    if (pdb && qdb && strcmp(pdb, qdb)) {
        rc = SILT_FAIL(err, SILT_EINVAL,
                       "provided a database in both the parameters (%s) and query string (%s) "
                       "that do not match, if providing a query that specifies the database, "
                       "you can omit the 'database' parameter from your request",
                       pdb, qdb);
        goto done;
    }
    r.db = qdb ? qdb : pdb;
    query_v1_stmt_begin(&w, 0);
    if (st->kind == IQL_STMT_SHOW_DATABASES || st->kind == IQL_STMT_SHOW_RETENTION_POLICIES) {
        rc = show_dbs_table(&r, st, st->kind == IQL_STMT_SHOW_DATABASES ? NULL : r.db);
    } else if (needs_db(st) && !r.db) {
        rc = SILT_FAIL(err, SILT_EINVAL,
                       "must specify a 'db' parameter, or provide the database in the InfluxQL "
                       "query");
    } else if (needs_db(st) && src->db_exists(src, r.db) != SILT_OK) {
        rc = SILT_FAIL(err, SILT_ENOTFOUND, "database not found: %s", r.db);
    } else {
        rc = run_stmt_one(&r, st, &a);
    }
    if (rc >= 0 && query_v1_table_full(t))
        rc = SILT_FAIL(err, SILT_ELIMIT,
                       "query result exceeds max_result_bytes (%zu bytes); add a LIMIT or a "
                       "narrower WHERE clause",
                       o.max_result_bytes);
    if (rc >= 0) rc = query_v1_table_write(t, fmt, out, o.max_result_bytes, err);
done:
    query_v1_fini(&w);
    query_v1_table_destroy(t);
    arena_fini(&a);
    return rc < 0 ? rc : SILT_OK;
}
