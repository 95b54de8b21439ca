/* SPDX-License-Identifier: MIT
 *
 * The planner: binds a parsed statement to a table's schema and builds the logical plan
 *   Scan -> [Filter] -> [Aggregate -> [Filter]] -> [Project] -> [Distinct] -> [Sort]
 *        -> [Limit]                                                    (SELECT)
 *   Values                                                             (SHOW)
 * as a chain of qplan nodes (the root is the last operator). Binding does:
 *   - name resolution: unquoted names were folded to lower case by the lexer; a name must
 *     match a column exactly (PostgreSQL / DataFusion rules);
 *   - for the fast WHERE path (column op constant, AND / OR / NOT of those): constant
 *     folding, type checking, the choice of an exact comparison kernel for each (column
 *     type, constant type) pair (see bind_leaf), NOT push-down (invariant 2 of query_int.h),
 *     simplification of constant branches and extraction of the time range for the scan;
 *   - for every other expression: binding into typed qbx trees with explicit casts
 *     (invariant 5), constant folding by evaluating constant nodes once, aggregate calls
 *     collected into the Aggregate node (identical calls share one), group keys matched
 *     structurally in the expressions above the aggregate;
 *   - ORDER BY keys that are not output columns become hidden columns of the projection
 *     (as DataFusion keeps hidden sort columns); above an aggregate the projection is left
 *     out when it would only rename the aggregate's columns.
 */
#include "query_int.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* ------------------------------------------------------------------ names and types */

const char *query__type_name(qtype t) {
    switch (t) {
        case QT_NULL:
            return "null";
        case QT_BOOL:
            return "boolean";
        case QT_INT:
            return "integer";
        case QT_UINT:
            return "unsigned";
        case QT_FLOAT:
            return "float";
        case QT_STRING:
            return "string";
        case QT_TIME:
            return "timestamp";
        case QT_INTERVAL:
            return "interval";
    }
    return "?";
}

qtype query__col_type(const query_column *c) {
    if (c->kind == QCOL_TIME) return QT_TIME;
    if (c->kind == QCOL_TAG) return QT_STRING;
    switch (c->type) {
        case LP_FLOAT:
            return QT_FLOAT;
        case LP_INT:
            return QT_INT;
        case LP_UINT:
            return QT_UINT;
        case LP_STRING:
            return QT_STRING;
        case LP_BOOL:
            return QT_BOOL;
    }
    return QT_NULL; /* unknown field type: unusable */
}

static const char *col_type_desc(const query_column *c) {
    return c->kind == QCOL_TAG ? "tag" : query__type_name(query__col_type(c));
}

const char *query__op_name(qop op) {
    static const char *const names[] = {"=", "<>", "<", "<=", ">", ">=", "+", "-"};
    return (unsigned)op < sizeof names / sizeof names[0] ? names[op] : "?";
}

static qop op_negate(qop op) {
    switch (op) {
        case QOP_EQ:
            return QOP_NE;
        case QOP_NE:
            return QOP_EQ;
        case QOP_LT:
            return QOP_GE;
        case QOP_LE:
            return QOP_GT;
        case QOP_GT:
            return QOP_LE;
        case QOP_GE:
            return QOP_LT;
        default:
            return op;
    }
}

/* a op b  ==  b flip(op) a */
static qop op_flip(qop op) {
    switch (op) {
        case QOP_LT:
            return QOP_GT;
        case QOP_LE:
            return QOP_GE;
        case QOP_GT:
            return QOP_LT;
        case QOP_GE:
            return QOP_LE;
        default:
            return op;
    }
}

int query__num_cmp(const qval *a, const qval *b) {
    if (a->type == QT_FLOAT && b->type == QT_FLOAT) {
        double x = a->v.f, y = b->v.f;
        if (x != x || y != y) return 2;
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a->type == QT_FLOAT)
        return b->type == QT_INT ? query__cmp_f64_i64(a->v.f, b->v.i)
                                 : query__cmp_f64_u64(a->v.f, b->v.u);
    if (b->type == QT_FLOAT) {
        int c = query__num_cmp(b, a);
        return c == 2 ? 2 : -c;
    }
    if (a->type == QT_INT && b->type == QT_INT)
        return a->v.i < b->v.i ? -1 : a->v.i > b->v.i ? 1 : 0;
    if (a->type == QT_UINT && b->type == QT_UINT)
        return a->v.u < b->v.u ? -1 : a->v.u > b->v.u ? 1 : 0;
    if (a->type == QT_INT) { /* vs uint */
        if (a->v.i < 0) return -1;
        uint64_t x = (uint64_t)a->v.i;
        return x < b->v.u ? -1 : x > b->v.u ? 1 : 0;
    }
    int c = query__num_cmp(b, a); /* uint vs int */
    return -c;
}

static bool is_num(qtype t) {
    return t == QT_INT || t == QT_UINT || t == QT_FLOAT;
}

/* Length of a name or literal to print in a message: at most 100 bytes, cut at a character
 * boundary. */
static int plen(const char *s, size_t n) {
    if (n <= 100) return (int)n;
    n = 100;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    return (int)n;
}
#define PNAME(s) plen((s), strlen(s)), (s)

/* A constant as it is written in a message: "string 'abc'", "integer 5", ... */
static void val_desc(const qval *v, char *out, size_t cap) {
    switch (v->type) {
        case QT_NULL:
            snprintf(out, cap, "NULL");
            break;
        case QT_BOOL:
            snprintf(out, cap, "boolean %s", v->v.b ? "true" : "false");
            break;
        case QT_INT:
            snprintf(out, cap, "integer %lld", (long long)v->v.i);
            break;
        case QT_UINT:
            snprintf(out, cap, "integer %llu", (unsigned long long)v->v.u);
            break;
        case QT_FLOAT:
            snprintf(out, cap, "float %.17g", v->v.f);
            break;
        case QT_STRING:
            snprintf(out, cap, "string '%.*s'", plen(v->v.s.p, v->v.s.n), v->v.s.p);
            break;
        case QT_TIME: {
            char t[48];
            t[time_format_rfc3339(t, v->v.i, true)] = 0;
            snprintf(out, cap, "timestamp '%s'", t);
            break;
        }
        case QT_INTERVAL:
            snprintf(out, cap, "interval of %lld ns", (long long)v->v.i);
            break;
    }
}

/* ------------------------------------------------------------------ binder */

typedef struct binder {
    qctx *q;
    const query_table *tbl;
    const char *table;
    uint32_t *by_name; /* column indices sorted by name, for lookups */
    int32_t *pos_of;   /* table column -> scan position, or -1 */
    size_t *scan;      /* scan position -> table column */
    size_t n_scan;
    uint8_t *src_kind; /* table column -> qout_col.src_kind of a bare reference to it */
} binder;

static int bfail(binder *b, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static __attribute__((noinline)) int bfail(binder *b, int code, const char *fmt, ...) {
    silt_err *err = b->q->err;
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        char msg[sizeof err->msg];
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        silt_err_set(err, code, __FILE__, __LINE__, "%s", msg);
    }
    return code;
}

static int by_name_cmp_r(const void *a, const void *b, void *arg) {
    const query_table *t = arg;
    return strcmp(t->cols[*(const uint32_t *)a].name, t->cols[*(const uint32_t *)b].name);
}

static void binder_init(binder *b, qctx *q, const query_table *tbl, const char *table) {
    b->q = q;
    b->tbl = tbl;
    b->table = table;
    size_t n = tbl->n_cols;
    b->by_name = arena_alloc(&q->arena, (n ? n : 1) * sizeof *b->by_name);
    b->pos_of = arena_alloc(&q->arena, (n ? n : 1) * sizeof *b->pos_of);
    b->scan = arena_alloc(&q->arena, (n ? n : 1) * sizeof *b->scan);
    b->src_kind = arena_alloc(&q->arena, (n ? n : 1) * sizeof *b->src_kind);
    b->n_scan = 0;
    for (size_t i = 0; i < n; i++) {
        b->by_name[i] = (uint32_t)i;
        b->pos_of[i] = -1;
    }
    qsort_r(b->by_name, n, sizeof *b->by_name, by_name_cmp_r, (void *)tbl);
}

/* The table column called name, or -1. */
static ssize_t find_col(const binder *b, const char *name) {
    size_t lo = 0, hi = b->tbl->n_cols;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(b->tbl->cols[b->by_name[mid]].name, name);
        if (c == 0) return (ssize_t)b->by_name[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int resolve_col(binder *b, const char *name, size_t *out) {
    ssize_t i = find_col(b, name);
    if (i < 0)
        return bfail(b, SILT_EINVAL, "column '%.*s' not found in table '%.*s'", PNAME(name),
                     PNAME(b->table));
    *out = (size_t)i;
    return SILT_OK;
}

/* The scan position of table column ci, adding it to the scan request if needed. */
static uint32_t scan_pos(binder *b, size_t ci) {
    if (b->pos_of[ci] < 0) {
        b->pos_of[ci] = (int32_t)b->n_scan;
        b->scan[b->n_scan++] = ci;
    }
    return (uint32_t)b->pos_of[ci];
}

/* ------------------------------------------------------------------ constant folding */

/* "30 minutes", "1 day 2 hours", "1h30m", "-5 s" -> nanoseconds. Months and years have no
 * fixed length and are rejected. */
static int parse_interval(binder *b, str_view s, int64_t *out) {
    static const struct {
        const char *name;
        int64_t ns;
    } units[] = {
        {"nanosecond", 1},
        {"nanoseconds", 1},
        {"ns", 1},
        {"nsec", 1},
        {"microsecond", NS_PER_US},
        {"microseconds", NS_PER_US},
        {"us", NS_PER_US},
        {"usec", NS_PER_US},
        {"millisecond", NS_PER_MS},
        {"milliseconds", NS_PER_MS},
        {"ms", NS_PER_MS},
        {"msec", NS_PER_MS},
        {"second", NS_PER_S},
        {"seconds", NS_PER_S},
        {"s", NS_PER_S},
        {"sec", NS_PER_S},
        {"secs", NS_PER_S},
        {"minute", 60 * NS_PER_S},
        {"minutes", 60 * NS_PER_S},
        {"m", 60 * NS_PER_S},
        {"min", 60 * NS_PER_S},
        {"mins", 60 * NS_PER_S},
        {"hour", 3600 * NS_PER_S},
        {"hours", 3600 * NS_PER_S},
        {"h", 3600 * NS_PER_S},
        {"hr", 3600 * NS_PER_S},
        {"hrs", 3600 * NS_PER_S},
        {"day", NS_PER_DAY},
        {"days", NS_PER_DAY},
        {"d", NS_PER_DAY},
        {"week", 7 * NS_PER_DAY},
        {"weeks", 7 * NS_PER_DAY},
        {"w", 7 * NS_PER_DAY},
    };
    const char *p = s.p, *end = s.p + s.n;
    int64_t total = 0;
    int n_parts = 0;
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) p++;
        if (p == end) break;
        bool neg = false;
        if (*p == '-' || *p == '+') neg = *p++ == '-';
        if (p == end || *p < '0' || *p > '9') goto bad;
        int64_t v = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (v > (INT64_MAX - (*p - '0')) / 10) goto range;
            v = v * 10 + (*p++ - '0');
        }
        while (p < end && *p == ' ') p++;
        const char *u = p;
        while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) p++;
        str_view unit = {u, (size_t)(p - u)};
        int64_t mult = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (sv_ieq_cstr(unit, units[i].name)) mult = units[i].ns;
        if (!mult) {
            if (sv_ieq_cstr(unit, "month") || sv_ieq_cstr(unit, "months") ||
                sv_ieq_cstr(unit, "mon") || sv_ieq_cstr(unit, "mons") ||
                sv_ieq_cstr(unit, "year") || sv_ieq_cstr(unit, "years") || sv_ieq_cstr(unit, "y"))
                return bfail(b, SILT_EINVAL,
                             "interval '%.*s': months and years are not supported (they have "
                             "no fixed length)",
                             plen(s.p, s.n), s.p);
            goto bad;
        }
        int64_t part;
        if (__builtin_mul_overflow(v, mult, &part)) goto range;
        if (neg) part = -part;
        if (__builtin_add_overflow(total, part, &total)) goto range;
        n_parts++;
    }
    if (n_parts == 0) goto bad;
    *out = total;
    return SILT_OK;
bad:
    return bfail(b, SILT_EINVAL,
                 "invalid interval '%.*s': expected a number and a unit such as '1 hour' or "
                 "'30 minutes'",
                 plen(s.p, s.n), s.p);
range:
    return bfail(b, SILT_EINVAL, "interval '%.*s' is out of range", plen(s.p, s.n), s.p);
}

static int fold_const(binder *b, const qexpr *e, qval *out);

/* Integer + / - in 128 bits, then back to int64 or uint64. */
static int fold_int_arith(binder *b, qop op, const qval *l, const qval *r, qval *out) {
    __int128 x = l->type == QT_INT ? (__int128)l->v.i : (__int128)l->v.u;
    __int128 y = r->type == QT_INT ? (__int128)r->v.i : (__int128)r->v.u;
    __int128 z = op == QOP_ADD ? x + y : x - y;
    if (z >= INT64_MIN && z <= INT64_MAX) {
        out->type = QT_INT;
        out->v.i = (int64_t)z;
    } else if (z > 0 && z <= (__int128)UINT64_MAX) {
        out->type = QT_UINT;
        out->v.u = (uint64_t)z;
    } else {
        return bfail(b, SILT_EINVAL, "integer overflow in constant expression");
    }
    return SILT_OK;
}

static double num_as_double(const qval *v) {
    return v->type == QT_FLOAT ? v->v.f : v->type == QT_INT ? (double)v->v.i : (double)v->v.u;
}

static int fold_arith(binder *b, const qexpr *e, qval *out) {
    qval l, r;
    int rc = fold_const(b, e->u.bin.l, &l);
    if (rc == 0) goto column;
    if (rc < 0) return rc;
    rc = fold_const(b, e->u.bin.r, &r);
    if (rc == 0) goto column;
    if (rc < 0) return rc;
    qop op = e->u.bin.op;
    if (l.type == QT_NULL || r.type == QT_NULL) {
        out->type = QT_NULL;
        return 1;
    }
    if (is_num(l.type) && is_num(r.type)) {
        if (l.type == QT_FLOAT || r.type == QT_FLOAT) {
            double x = num_as_double(&l), y = num_as_double(&r);
            out->type = QT_FLOAT;
            out->v.f = op == QOP_ADD ? x + y : x - y;
            return 1;
        }
        rc = fold_int_arith(b, op, &l, &r, out);
        return rc < 0 ? rc : 1;
    }
    bool lt = l.type == QT_TIME, rt = r.type == QT_TIME;
    bool li = l.type == QT_INTERVAL, ri = r.type == QT_INTERVAL;
    if ((lt && ri) || (li && rt && op == QOP_ADD) || (li && ri) || (lt && rt && op == QOP_SUB)) {
        int64_t z;
        bool ovf = op == QOP_ADD ? __builtin_add_overflow(l.v.i, r.v.i, &z)
                                 : __builtin_sub_overflow(l.v.i, r.v.i, &z);
        if (ovf) return bfail(b, SILT_EINVAL, "timestamp out of range in constant expression");
        out->type = (lt && rt) ? QT_INTERVAL : (lt || rt) ? QT_TIME : QT_INTERVAL;
        out->v.i = z;
        return 1;
    }
    return bfail(b, SILT_EINVAL, "operator '%s' is not defined for %s and %s", query__op_name(op),
                 query__type_name(l.type), query__type_name(r.type));
column:
    return bfail(b, SILT_EINVAL, "arithmetic on columns is not supported yet");
}

static int fold_neg(binder *b, const qexpr *e, qval *out) {
    qval v;
    int rc = fold_const(b, e->u.un.arg, &v);
    if (rc == 0) return bfail(b, SILT_EINVAL, "arithmetic on columns is not supported yet");
    if (rc < 0) return rc;
    switch (v.type) {
        case QT_NULL:
            break;
        case QT_INT:
            if (v.v.i == INT64_MIN) {
                v.type = QT_UINT;
                v.v.u = (uint64_t)1 << 63;
            } else {
                v.v.i = -v.v.i;
            }
            break;
        case QT_UINT:
            if (v.v.u <= (uint64_t)1 << 63) {
                v.type = QT_INT;
                v.v.i = (int64_t)(0 - v.v.u); /* two's complement: exact down to INT64_MIN */
            } else {
                v.type = QT_FLOAT;
                v.v.f = -(double)v.v.u;
            }
            break;
        case QT_FLOAT:
            v.v.f = -v.v.f;
            break;
        case QT_INTERVAL:
            if (v.v.i == INT64_MIN) return bfail(b, SILT_EINVAL, "interval out of range");
            v.v.i = -v.v.i;
            break;
        default:
            return bfail(b, SILT_EINVAL, "cannot negate a %s", query__type_name(v.type));
    }
    *out = v;
    return 1;
}

static int fold_func(binder *b, const qexpr *e, qval *out) {
    const char *name = e->u.func.name;
    size_t n = e->u.func.n;
    if (strcmp(name, "now") == 0) {
        if (n != 0) return bfail(b, SILT_EINVAL, "now() takes no arguments");
        out->type = QT_TIME;
        out->v.i = b->q->now_ns;
        return 1;
    }
    bool is_iv = strcmp(name, "interval") == 0, is_ts = strcmp(name, "timestamp") == 0;
    if (is_iv || is_ts) {
        const qexpr *a = n == 1 ? e->u.func.args[0] : NULL;
        if (!a || a->kind != QX_LITERAL || a->u.lit.type != QT_STRING)
            return bfail(b, SILT_EINVAL, "%s needs one string literal",
                         is_iv ? "INTERVAL" : "TIMESTAMP");
        str_view s = a->u.lit.v.s;
        if (is_iv) {
            out->type = QT_INTERVAL;
            int rc = parse_interval(b, s, &out->v.i);
            return rc < 0 ? rc : 1;
        }
        out->type = QT_TIME;
        if (time_parse_rfc3339(s.p, s.n, &out->v.i) != SILT_OK)
            return bfail(b, SILT_EINVAL, "invalid timestamp '%.*s': expected RFC 3339",
                         plen(s.p, s.n), s.p);
        return 1;
    }
    if (strcmp(name, "count") == 0)
        return bfail(b, SILT_EINVAL, "aggregate function count() is not allowed here");
    return bfail(b, SILT_EINVAL, "unknown function '%.*s'", PNAME(name));
}

/* Fold e to a constant. Returns 1 (constant in *out), 0 (e is a bare column reference) or
 * a negative error code (err filled). */
static int fold_const(binder *b, const qexpr *e, qval *out) {
    switch (e->kind) {
        case QX_COLUMN:
            return 0;
        case QX_LITERAL:
            *out = e->u.lit;
            return 1;
        case QX_NEG:
            return fold_neg(b, e, out);
        case QX_ARITH:
            return fold_arith(b, e, out);
        case QX_FUNC:
            return fold_func(b, e, out);
        case QX_STAR:
            return bfail(b, SILT_EINVAL, "'*' is not allowed here");
        default: /* only the fast predicate path folds, and it sees nothing else */
            return bfail(b, SILT_EINVAL, "a constant expression is expected here");
    }
}

/* ------------------------------------------------------------------ predicates */

static qpred *new_pred(binder *b, qpred_kind kind) {
    qpred *p = arena_alloc(&b->q->arena, sizeof *p);
    memset(p, 0, sizeof *p);
    p->kind = kind;
    return p;
}

/* The result of "col op v" when every non-NULL value of col compares as `side` (-1: all
 * less than v, 1: all greater): TRUE where col is not NULL, or never. */
static qpred *pred_side(binder *b, uint32_t pos, qop op, int side) {
    if (!query__op_holds(op, side)) return new_pred(b, QP_NONE);
    qpred *p = new_pred(b, QP_NOT_NULL);
    p->col = pos;
    return p;
}

static qpred *pred_cmp(binder *b, uint32_t pos, qop op, qkernel k) {
    qpred *p = new_pred(b, QP_CMP);
    p->col = pos;
    p->op = op;
    p->kernel = k;
    return p;
}

/* int64 column vs double c, exactly: rewritten to an int64 comparison (x integral, so
 * x < c <=> x < ceil(c), x <= c <=> x <= floor(c), ...) or a constant. */
static qpred *int_vs_float(binder *b, uint32_t pos, qop op, double c) {
    if (c != c) return op == QOP_NE ? pred_side(b, pos, op, -1) : new_pred(b, QP_NONE);
    if (c >= 0x1p63) return pred_side(b, pos, op, -1);
    if (c < -0x1p63) return pred_side(b, pos, op, 1);
    double fl = floor(c), ce = ceil(c); /* both within int64: doubles >= 2^52 are integers */
    bool integral = fl == c;
    int64_t k;
    switch (op) {
        case QOP_EQ:
        case QOP_NE:
            if (!integral) return pred_side(b, pos, op, -1); /* never equal */
            k = (int64_t)c;
            break;
        case QOP_LT:
        case QOP_GE:
            k = (int64_t)ce;
            break;
        default:
            k = (int64_t)fl;
            break; /* LE, GT */
    }
    qpred *p = pred_cmp(b, pos, op, QK_I64);
    p->c.i = k;
    return p;
}

static qpred *uint_vs_float(binder *b, uint32_t pos, qop op, double c) {
    if (c != c) return op == QOP_NE ? pred_side(b, pos, op, -1) : new_pred(b, QP_NONE);
    if (c < 0) return pred_side(b, pos, op, 1);
    if (c >= 0x1p64) return pred_side(b, pos, op, -1);
    double fl = floor(c), ce = ceil(c);
    bool integral = fl == c;
    uint64_t k;
    switch (op) {
        case QOP_EQ:
        case QOP_NE:
            if (!integral) return pred_side(b, pos, op, -1);
            k = (uint64_t)c;
            break;
        case QOP_LT:
        case QOP_GE:
            k = (uint64_t)ce;
            break;
        default:
            k = (uint64_t)fl;
            break;
    }
    qpred *p = pred_cmp(b, pos, op, QK_U64);
    p->c.u = k;
    return p;
}

static __attribute__((noinline)) int type_mismatch(binder *b, const query_column *col, qop op,
                                                   const qval *v) {
    char vd[160];
    val_desc(v, vd, sizeof vd);
    (void)op;
    return bfail(b, SILT_EINVAL, "cannot compare column '%.*s' (%s) with %s", PNAME(col->name),
                 col_type_desc(col), vd);
}

/* col op v, with col a table column: choose the exact kernel for the pair of types. */
static int bind_leaf(binder *b, size_t ci, qop op, qval v, qpred **out) {
    const query_column *col = &b->tbl->cols[ci];
    qtype t = query__col_type(col);
    if (v.type == QT_NULL) { /* unknown for every row: nothing to read */
        *out = new_pred(b, QP_NONE);
        return SILT_OK;
    }
    uint32_t pos = scan_pos(b, ci);
    qpred *p = NULL;
    switch (t) {
        case QT_TIME:
            if (v.type == QT_STRING) {
                qval tv = {.type = QT_TIME};
                if (time_parse_rfc3339(v.v.s.p, v.v.s.n, &tv.v.i) != SILT_OK)
                    return bfail(b, SILT_EINVAL,
                                 "invalid timestamp '%.*s' compared with column '%.*s': expected "
                                 "an RFC 3339 date-time such as '2024-01-01T00:00:00Z'",
                                 plen(v.v.s.p, v.v.s.n), v.v.s.p, PNAME(col->name));
                v = tv;
            }
            if (v.type == QT_TIME || v.type == QT_INT) {
                p = pred_cmp(b, pos, op, QK_I64);
                p->c.i = v.v.i;
            } else if (v.type == QT_UINT) {
                p = pred_side(b, pos, op, -1); /* beyond int64: after every time */
            }
            break;
        case QT_INT:
            if (v.type == QT_INT) {
                p = pred_cmp(b, pos, op, QK_I64);
                p->c.i = v.v.i;
            } else if (v.type == QT_UINT) {
                p = pred_side(b, pos, op, -1);
            } else if (v.type == QT_FLOAT) {
                p = int_vs_float(b, pos, op, v.v.f);
            }
            break;
        case QT_UINT:
            if (v.type == QT_INT && v.v.i < 0) {
                p = pred_side(b, pos, op, 1);
            } else if (v.type == QT_INT || v.type == QT_UINT) {
                p = pred_cmp(b, pos, op, QK_U64);
                p->c.u = v.type == QT_INT ? (uint64_t)v.v.i : v.v.u;
            } else if (v.type == QT_FLOAT) {
                p = uint_vs_float(b, pos, op, v.v.f);
            }
            break;
        case QT_FLOAT:
            if (v.type == QT_FLOAT) {
                p = pred_cmp(b, pos, op, QK_F64);
                p->c.f = v.v.f;
            } else if (v.type == QT_INT) {
                double d = (double)v.v.i;
                bool exact = d < 0x1p63 && (int64_t)d == v.v.i;
                p = pred_cmp(b, pos, op, exact ? QK_F64 : QK_F64_I64);
                if (exact)
                    p->c.f = d;
                else
                    p->c.i = v.v.i;
            } else if (v.type == QT_UINT) {
                double d = (double)v.v.u;
                bool exact = d < 0x1p64 && (uint64_t)d == v.v.u;
                p = pred_cmp(b, pos, op, exact ? QK_F64 : QK_F64_U64);
                if (exact)
                    p->c.f = d;
                else
                    p->c.u = v.v.u;
            }
            break;
        case QT_STRING:
            if (v.type == QT_STRING) {
                p = pred_cmp(b, pos, op, QK_STR);
                p->c.s = v.v.s;
            }
            break;
        case QT_BOOL:
            if (v.type == QT_BOOL) {
                p = pred_cmp(b, pos, op, QK_BOOL);
                p->c.i = v.v.b;
            }
            break;
        default:
            return bfail(b, SILT_EINVAL, "column '%.*s' has an unsupported type", PNAME(col->name));
    }
    if (!p) return type_mismatch(b, col, op, &v);
    *out = p;
    return SILT_OK;
}

static __attribute__((noinline)) int cannot_compare(binder *b, const qval *l, const qval *r) {
    char ld[160], rd[160];
    val_desc(l, ld, sizeof ld);
    val_desc(r, rd, sizeof rd);
    return bfail(b, SILT_EINVAL, "cannot compare %s with %s", ld, rd);
}

/* Compare two constants: 1 (TRUE), 0 (FALSE), -1 (unknown), or an error (< -1 is never
 * returned: errors come back through *rc). */
static int const_cmp(binder *b, qval l, qop op, qval r, int *rc) {
    *rc = SILT_OK;
    if (l.type == QT_NULL || r.type == QT_NULL) return -1;
    if (l.type == QT_TIME && r.type == QT_STRING) {
        qval t = r;
        if (time_parse_rfc3339(r.v.s.p, r.v.s.n, &t.v.i) != SILT_OK) goto mismatch;
        t.type = QT_TIME;
        r = t;
    }
    if (r.type == QT_TIME && l.type == QT_STRING) return const_cmp(b, r, op_flip(op), l, rc);
    int c;
    if (is_num(l.type) && is_num(r.type)) {
        c = query__num_cmp(&l, &r);
    } else if (l.type == r.type && (l.type == QT_TIME || l.type == QT_INTERVAL)) {
        c = l.v.i < r.v.i ? -1 : l.v.i > r.v.i;
    } else if ((l.type == QT_TIME && r.type == QT_INT) || (l.type == QT_INT && r.type == QT_TIME)) {
        c = l.v.i < r.v.i ? -1 : l.v.i > r.v.i;
    } else if (l.type == QT_STRING && r.type == QT_STRING) {
        size_t n = l.v.s.n < r.v.s.n ? l.v.s.n : r.v.s.n;
        c = n ? memcmp(l.v.s.p, r.v.s.p, n) : 0;
        if (c == 0) c = l.v.s.n < r.v.s.n ? -1 : l.v.s.n > r.v.s.n;
        c = c < 0 ? -1 : c > 0;
    } else if (l.type == QT_BOOL && r.type == QT_BOOL) {
        c = (int)l.v.b - (int)r.v.b;
    } else {
        goto mismatch;
    }
    return query__op_holds(op, c) ? 1 : 0;
mismatch:
    *rc = cannot_compare(b, &l, &r);
    return 0;
}

/* Kept out of line so the recursive binders carry no message buffers on the stack. */
static __attribute__((noinline)) int not_boolean(binder *b, const qval *v) {
    char vd[160];
    val_desc(v, vd, sizeof vd);
    return bfail(b, SILT_EINVAL, "a condition must be boolean, not %s", vd);
}

static qpred *pred_tri(binder *b, int tri) {
    return new_pred(b, tri == 1 ? QP_ALL : QP_NONE);
}

static int bind_pred(binder *b, const qexpr *e, bool neg, qpred **out);

static int bind_cmp(binder *b, const qexpr *e, bool neg, qpred **out) {
    qop op = neg ? op_negate(e->u.bin.op) : e->u.bin.op;
    const qexpr *l = e->u.bin.l, *r = e->u.bin.r;
    qval lv, rv;
    int lc = fold_const(b, l, &lv);
    if (lc < 0) return lc;
    int rc = fold_const(b, r, &rv);
    if (rc < 0) return rc;
    if (lc && rc) {
        int err;
        int tri = const_cmp(b, lv, op, rv, &err);
        if (err) return err;
        *out = pred_tri(b, tri);
        return SILT_OK;
    }
    if (!lc && !rc)
        return bfail(b, SILT_EINVAL,
                     "comparing two columns ('%.*s' and '%.*s') is not supported yet",
                     PNAME(l->u.col.name), PNAME(r->u.col.name));
    if (lc) { /* constant on the left: v op col == col flip(op) v */
        const qexpr *t = l;
        l = r;
        r = t;
        rv = lv;
        op = op_flip(op);
    }
    size_t ci = 0;
    int res = resolve_col(b, l->u.col.name, &ci);
    if (res < 0) return res;
    return bind_leaf(b, ci, op, rv, out);
}

static int bind_bool_list(binder *b, const qexpr *e, bool neg, qpred **out) {
    /* De Morgan under negation: NOT (a AND b) == NOT a OR NOT b, exact in 3-valued logic */
    bool is_and = (e->kind == QX_AND) != neg;
    qpred *p = new_pred(b, is_and ? QP_AND : QP_OR);
    size_t cap = e->u.list.n;
    p->kids = arena_alloc(&b->q->arena, cap * sizeof *p->kids);
    for (size_t i = 0; i < e->u.list.n; i++) {
        qpred *k;
        int rc = bind_pred(b, e->u.list.args[i], neg, &k);
        if (rc < 0) return rc;
        /* simplify: TRUE in AND / FALSE in OR drop out; FALSE in AND / TRUE in OR decide */
        if (k->kind == (is_and ? QP_ALL : QP_NONE)) continue;
        if (k->kind == (is_and ? QP_NONE : QP_ALL)) {
            /* keep binding the rest: every name and type must still be checked */
            for (size_t j = i + 1; j < e->u.list.n; j++) {
                rc = bind_pred(b, e->u.list.args[j], neg, &k);
                if (rc < 0) return rc;
            }
            *out = new_pred(b, is_and ? QP_NONE : QP_ALL);
            return SILT_OK;
        }
        if (k->kind == p->kind) { /* flatten (AND (AND a b) c) */
            size_t need = p->n_kids + k->n_kids + (e->u.list.n - i);
            if (need > cap) {
                qpred **v = arena_alloc(&b->q->arena, need * sizeof *v);
                memcpy(v, p->kids, p->n_kids * sizeof *v);
                p->kids = v;
                cap = need;
            }
            memcpy(p->kids + p->n_kids, k->kids, k->n_kids * sizeof *k->kids);
            p->n_kids += k->n_kids;
            continue;
        }
        if (p->n_kids == cap) {
            qpred **v = arena_alloc(&b->q->arena, (cap * 2 + 1) * sizeof *v);
            memcpy(v, p->kids, p->n_kids * sizeof *v);
            p->kids = v;
            cap = cap * 2 + 1;
        }
        p->kids[p->n_kids++] = k;
    }
    if (p->n_kids == 0)
        *out = new_pred(b, is_and ? QP_ALL : QP_NONE);
    else if (p->n_kids == 1)
        *out = p->kids[0];
    else
        *out = p;
    return SILT_OK;
}

/* Bind a condition. neg: bind NOT e instead (invariant 2: NOT is pushed to the leaves). */
static int bind_pred(binder *b, const qexpr *e, bool neg, qpred **out) {
    switch (e->kind) {
        case QX_AND:
        case QX_OR:
            return bind_bool_list(b, e, neg, out);
        case QX_NOT:
            return bind_pred(b, e->u.un.arg, !neg, out);
        case QX_CMP:
            return bind_cmp(b, e, neg, out);
        case QX_IS_NULL: {
            bool want_null = e->u.un.negated == neg; /* IS NULL, or NOT (IS NOT NULL) */
            qval v;
            int rc = fold_const(b, e->u.un.arg, &v);
            if (rc < 0) return rc;
            if (rc == 1) {
                *out = pred_tri(b, (v.type == QT_NULL) == want_null ? 1 : 0);
                return SILT_OK;
            }
            size_t ci = 0;
            rc = resolve_col(b, e->u.un.arg->u.col.name, &ci);
            if (rc < 0) return rc;
            qpred *p = new_pred(b, want_null ? QP_IS_NULL : QP_NOT_NULL);
            p->col = scan_pos(b, ci);
            *out = p;
            return SILT_OK;
        }
        case QX_COLUMN: { /* a boolean column as a condition: col = true */
            size_t ci = 0;
            int rc = resolve_col(b, e->u.col.name, &ci);
            if (rc < 0) return rc;
            const query_column *col = &b->tbl->cols[ci];
            if (query__col_type(col) != QT_BOOL)
                return bfail(b, SILT_EINVAL, "a condition must be boolean; column '%.*s' is %s",
                             PNAME(col->name), col_type_desc(col));
            qval t = {.type = QT_BOOL, .v.b = true};
            return bind_leaf(b, ci, neg ? QOP_NE : QOP_EQ, t, out);
        }
        default: {
            qval v;
            int rc = fold_const(b, e, &v);
            if (rc < 0) return rc;
            if (v.type == QT_NULL) {
                *out = new_pred(b, QP_NONE);
                return SILT_OK;
            }
            if (v.type != QT_BOOL) return not_boolean(b, &v);
            *out = pred_tri(b, v.v.b != neg ? 1 : 0);
            return SILT_OK;
        }
    }
}

/* The time range [lo, hi] outside which p is FALSE (lo > hi: empty). */
static void pred_range(const qpred *p, int64_t tpos, int64_t *lo, int64_t *hi) {
    *lo = INT64_MIN;
    *hi = INT64_MAX;
    switch (p->kind) {
        case QP_NONE:
            *lo = INT64_MAX;
            *hi = INT64_MIN;
            return;
        case QP_IS_NULL:
            if ((int64_t)p->col == tpos) *lo = INT64_MAX, *hi = INT64_MIN; /* time is never NULL */
            return;
        case QP_CMP:
            if ((int64_t)p->col != tpos || p->kernel != QK_I64) return;
            switch (p->op) {
                case QOP_EQ:
                    *lo = *hi = p->c.i;
                    break;
                case QOP_LT:
                    if (p->c.i == INT64_MIN)
                        *lo = INT64_MAX, *hi = INT64_MIN;
                    else
                        *hi = p->c.i - 1;
                    break;
                case QOP_LE:
                    *hi = p->c.i;
                    break;
                case QOP_GT:
                    if (p->c.i == INT64_MAX)
                        *lo = INT64_MAX, *hi = INT64_MIN;
                    else
                        *lo = p->c.i + 1;
                    break;
                case QOP_GE:
                    *lo = p->c.i;
                    break;
                default:
                    break;
            }
            return;
        case QP_AND:
            for (size_t i = 0; i < p->n_kids; i++) {
                int64_t l, h;
                pred_range(p->kids[i], tpos, &l, &h);
                if (l > *lo) *lo = l;
                if (h < *hi) *hi = h;
            }
            return;
        case QP_OR: {
            int64_t ulo = INT64_MAX, uhi = INT64_MIN; /* hull of the non-empty ranges */
            for (size_t i = 0; i < p->n_kids; i++) {
                int64_t l, h;
                pred_range(p->kids[i], tpos, &l, &h);
                if (l > h) continue;
                if (l < ulo) ulo = l;
                if (h > uhi) uhi = h;
            }
            *lo = ulo;
            *hi = uhi;
            return;
        }
        case QP_ALL:
        case QP_NOT_NULL:
            return;
    }
}

/* ------------------------------------------------------------------ plans */

static qplan *new_plan(qctx *q, qplan_kind kind, qplan *input) {
    qplan *p = arena_alloc(&q->arena, sizeof *p);
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->input = input;
    return p;
}

static int table_not_found(qctx *q, const char *table) {
    return SILT_FAIL(q->err, SILT_ENOTFOUND, "table '%.*s' not found", PNAME(table));
}

static int load_table(qctx *q, const char *table) {
    silt_err serr = {0};
    int rc = q->src->table_schema(q->src, q->db, table, &q->tbl, &serr);
    if (rc == SILT_ENOTFOUND) return table_not_found(q, table);
    if (rc < 0) {
        if (q->err) *q->err = serr;
        return rc;
    }
    q->have_tbl = true;
    return SILT_OK;
}

/* A Values leaf over the columns pick[0..n) of a system table (all of them: pick NULL). */
static qplan *values_of(qctx *q, const qsys_table *t, const size_t *pick, size_t n) {
    qplan *p = new_plan(q, QPL_VALUES, NULL);
    p->n_cols = n;
    p->cols = arena_alloc(&q->arena, (n ? n : 1) * sizeof *p->cols);
    p->u.values.vecs = arena_alloc(&q->arena, (n ? n : 1) * sizeof *p->u.values.vecs);
    p->u.values.n_rows = t->n_rows;
    for (size_t i = 0; i < n; i++) {
        size_t c = pick ? pick[i] : i;
        p->cols[i] =
            (qout_col){.name = t->tbl.cols[c].name, .type = query__col_type(&t->tbl.cols[c])};
        p->u.values.vecs[i] = t->vecs[c];
    }
    return p;
}

/* The one catalog is 'public': public.iox.cpu is cpu, other.iox.cpu does not exist. */
static int check_catalog(qctx *q, const qstmt *st) {
    if (!st->catalog || strcmp(st->catalog, "public") == 0) return SILT_OK;
    return SILT_FAIL(q->err, SILT_ENOTFOUND, "table '%.*s.%.*s.%.*s' not found", PNAME(st->catalog),
                     PNAME(st->schema), PNAME(st->table));
}

/* SHOW TABLES: information_schema.tables (DataFusion's rewrite). */
static int plan_show_tables(qctx *q, qplan **out) {
    qsys_table t;
    int rc = query__system_table(q, "information_schema", "tables", &t);
    if (rc < 0) return rc;
    *out = values_of(q, &t, NULL, t.tbl.n_cols);
    return SILT_OK;
}

/* SHOW COLUMNS FROM t: table_catalog, table_schema, table_name, column_name, data_type,
 * is_nullable of information_schema.columns for t (DataFusion's rewrite). */
static int plan_show_columns(qctx *q, const qstmt *st, qplan **out) {
    qsys_table t;
    int rc = check_catalog(q, st);
    if (rc == SILT_OK) rc = query__system_columns_of(q, st->schema, st->table, &t);
    if (rc < 0) return rc;
    static const char *const want[] = {"table_catalog", "table_schema", "table_name",
                                       "column_name",   "data_type",    "is_nullable"};
    size_t pick[6] = {0};
    for (size_t i = 0; i < 6; i++)
        for (size_t c = 0; c < t.tbl.n_cols; c++)
            if (strcmp(t.tbl.cols[c].name, want[i]) == 0) pick[i] = c;
    *out = values_of(q, &t, pick, 6);
    return SILT_OK;
}

/* ------------------------------------------------------------------ general expressions
 *
 * Binding of general expressions (select list, GROUP BY, HAVING, ORDER BY, and WHERE
 * conjuncts the fast predicate path cannot take) into qbx trees for query_expr.c.
 *
 * Output names follow DataFusion where it is practical: a bare column keeps its name;
 * inside an expression columns are qualified (cpu.usage); literals print as typed values
 * (Int64(1), Float64(1.5), Utf8("a"), Boolean(true)); operators as "l op r"; functions and
 * aggregates as name(args) with "," between arguments (count(*), max(cpu.usage),
 * round(avg(cpu.usage),Int64(2))). Interval and timestamp literals are not printed in
 * DataFusion's IntervalMonthDayNano(...) form but as the normalised text INTERVAL '1 hour'
 * and TIMESTAMP '...', so date_bin(INTERVAL '1 hour', time) is displayed as
 * "date_bin(INTERVAL '1 hour',cpu.time)".
 */

static __attribute__((noinline, format(printf, 3, 4))) int bfail_at(binder *b, uint32_t pos,
                                                                    const char *fmt, ...) {
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    uint32_t line, col;
    text_line_col(b->q->sql, pos, &line, &col);
    return bfail(b, SILT_EINVAL, "%s at line %u, column %u", msg, line, col);
}

static bool is_agg_name(const char *n) {
    static const char *const names[] = {
        "count",         "sum",          "avg",
        "mean",          "min",          "max",
        "stddev",        "stddev_samp",  "stddev_pop",
        "var",           "var_samp",     "var_pop",
        "variance",      "median",       "approx_percentile_cont",
        "first_value",   "last_value",   "selector_first",
        "selector_last", "selector_min", "selector_max",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(n, names[i]) == 0) return true;
    return false;
}

/* Does e contain an aggregate call? */
static bool has_agg(const qexpr *e) {
    if (!e) return false;
    switch (e->kind) {
        case QX_FUNC:
            if (is_agg_name(e->u.func.name)) return true;
            for (size_t i = 0; i < e->u.func.n; i++)
                if (has_agg(e->u.func.args[i])) return true;
            return false;
        case QX_CMP:
        case QX_ARITH:
            return has_agg(e->u.bin.l) || has_agg(e->u.bin.r);
        case QX_NEG:
        case QX_NOT:
        case QX_IS_NULL:
            return has_agg(e->u.un.arg);
        case QX_AND:
        case QX_OR:
        case QX_IN:
        case QX_BETWEEN:
        case QX_LIKE:
            for (size_t i = 0; i < e->u.list.n; i++)
                if (has_agg(e->u.list.args[i])) return true;
            return false;
        case QX_CASE:
            if (has_agg(e->u.cs.operand) || has_agg(e->u.cs.els)) return true;
            for (size_t i = 0; i < e->u.cs.n; i++)
                if (has_agg(e->u.cs.whens[i]) || has_agg(e->u.cs.thens[i])) return true;
            return false;
        case QX_CAST:
            return has_agg(e->u.cast.arg);
        default:
            return false;
    }
}

static bool qval_equal(const qval *a, const qval *b) {
    if (a->type != b->type) return false;
    switch (a->type) {
        case QT_NULL:
            return true;
        case QT_BOOL:
            return a->v.b == b->v.b;
        case QT_UINT:
            return a->v.u == b->v.u;
        case QT_FLOAT:
            return memcmp(&a->v.f, &b->v.f, 8) == 0;
        case QT_STRING:
            return sv_eq(a->v.s, b->v.s);
        default:
            return a->v.i == b->v.i;
    }
}

/* Structural equality of two ASTs (positions ignored). */
static bool ast_equal(const qexpr *a, const qexpr *b) {
    if (!a || !b) return a == b;
    if (a->kind != b->kind) return false;
    switch (a->kind) {
        case QX_COLUMN:
            return strcmp(a->u.col.name, b->u.col.name) == 0;
        case QX_LITERAL:
            return qval_equal(&a->u.lit, &b->u.lit);
        case QX_STAR:
            return true;
        case QX_CMP:
        case QX_ARITH:
            return a->u.bin.op == b->u.bin.op && ast_equal(a->u.bin.l, b->u.bin.l) &&
                   ast_equal(a->u.bin.r, b->u.bin.r);
        case QX_NEG:
        case QX_NOT:
        case QX_IS_NULL:
            return a->u.un.negated == b->u.un.negated && ast_equal(a->u.un.arg, b->u.un.arg);
        case QX_AND:
        case QX_OR:
        case QX_IN:
        case QX_BETWEEN:
        case QX_LIKE:
            if (a->u.list.n != b->u.list.n || a->u.list.negated != b->u.list.negated ||
                a->u.list.like != b->u.list.like)
                return false;
            for (size_t i = 0; i < a->u.list.n; i++)
                if (!ast_equal(a->u.list.args[i], b->u.list.args[i])) return false;
            return true;
        case QX_FUNC:
            if (strcmp(a->u.func.name, b->u.func.name) != 0 || a->u.func.n != b->u.func.n ||
                a->u.func.distinct != b->u.func.distinct ||
                a->u.func.order_desc != b->u.func.order_desc ||
                !ast_equal(a->u.func.order, b->u.func.order))
                return false;
            for (size_t i = 0; i < a->u.func.n; i++)
                if (!ast_equal(a->u.func.args[i], b->u.func.args[i])) return false;
            return true;
        case QX_CASE:
            if (a->u.cs.n != b->u.cs.n || !ast_equal(a->u.cs.operand, b->u.cs.operand) ||
                !ast_equal(a->u.cs.els, b->u.cs.els))
                return false;
            for (size_t i = 0; i < a->u.cs.n; i++)
                if (!ast_equal(a->u.cs.whens[i], b->u.cs.whens[i]) ||
                    !ast_equal(a->u.cs.thens[i], b->u.cs.thens[i]))
                    return false;
            return true;
        case QX_CAST:
            return a->u.cast.to == b->u.cast.to && ast_equal(a->u.cast.arg, b->u.cast.arg);
    }
    return false;
}

/* For query_sub.c (date_bin_gapfill rewrites the select list before planning). */
bool query__ast_equal(const qexpr *a, const qexpr *b) {
    return ast_equal(a, b);
}

bool query__has_agg(const qexpr *e) {
    return has_agg(e);
}

static const char *arrow_name(qtype t) {
    switch (t) {
        case QT_BOOL:
            return "Boolean";
        case QT_INT:
            return "Int64";
        case QT_UINT:
            return "UInt64";
        case QT_FLOAT:
            return "Float64";
        case QT_STRING:
            return "Utf8";
        case QT_TIME:
            return "Timestamp(Nanosecond, None)";
        default:
            return "Null";
    }
}

static const char *op_text(qop op) {
    static const char *const t[] = {"=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "||"};
    return (unsigned)op < sizeof t / sizeof t[0] ? t[op] : "?";
}

/* The display name of e (see the comment above). top: a bare column is not qualified. */
static void expr_name(const binder *b, const qexpr *e, bool top, buf *o) {
    switch (e->kind) {
        case QX_COLUMN:
            if (!top) buf_printf(o, "%s.", b->table);
            buf_puts(o, e->u.col.name);
            return;
        case QX_STAR:
            buf_putc(o, '*');
            return;
        case QX_LITERAL: {
            const qval *v = &e->u.lit;
            switch (v->type) {
                case QT_NULL:
                    buf_puts(o, "NULL");
                    break;
                case QT_BOOL:
                    buf_printf(o, "Boolean(%s)", v->v.b ? "true" : "false");
                    break;
                case QT_INT:
                    buf_printf(o, "Int64(%lld)", (long long)v->v.i);
                    break;
                case QT_UINT:
                    buf_printf(o, "UInt64(%llu)", (unsigned long long)v->v.u);
                    break;
                case QT_FLOAT:
                    buf_puts(o, "Float64(");
                    buf_put_double(o, v->v.f);
                    buf_putc(o, ')');
                    break;
                case QT_STRING:
                    buf_puts(o, "Utf8(\"");
                    buf_append(o, v->v.s.p, v->v.s.n);
                    buf_puts(o, "\")");
                    break;
                default:
                    buf_puts(o, "?");
                    break;
            }
            return;
        }
        case QX_CMP:
        case QX_ARITH:
            expr_name(b, e->u.bin.l, false, o);
            buf_printf(o, " %s ", op_text(e->u.bin.op));
            expr_name(b, e->u.bin.r, false, o);
            return;
        case QX_NEG:
            buf_puts(o, "(- ");
            expr_name(b, e->u.un.arg, false, o);
            buf_putc(o, ')');
            return;
        case QX_NOT:
            buf_puts(o, "NOT ");
            expr_name(b, e->u.un.arg, false, o);
            return;
        case QX_IS_NULL:
            expr_name(b, e->u.un.arg, false, o);
            buf_puts(o, e->u.un.negated ? " IS NOT NULL" : " IS NULL");
            return;
        case QX_AND:
        case QX_OR:
            for (size_t i = 0; i < e->u.list.n; i++) {
                if (i) buf_puts(o, e->kind == QX_AND ? " AND " : " OR ");
                expr_name(b, e->u.list.args[i], false, o);
            }
            return;
        case QX_IN:
            expr_name(b, e->u.list.args[0], false, o);
            buf_puts(o, e->u.list.negated ? " NOT IN ([" : " IN ([");
            for (size_t i = 1; i < e->u.list.n; i++) {
                if (i > 1) buf_puts(o, ", ");
                expr_name(b, e->u.list.args[i], false, o);
            }
            buf_puts(o, "])");
            return;
        case QX_BETWEEN:
            expr_name(b, e->u.list.args[0], false, o);
            buf_puts(o, e->u.list.negated ? " NOT BETWEEN " : " BETWEEN ");
            expr_name(b, e->u.list.args[1], false, o);
            buf_puts(o, " AND ");
            expr_name(b, e->u.list.args[2], false, o);
            return;
        case QX_LIKE: {
            static const char *const ops[] = {"LIKE", "ILIKE", "~", "~*"};
            expr_name(b, e->u.list.args[0], false, o);
            bool re = e->u.list.like >= QLIKE_RE;
            if (e->u.list.negated)
                buf_puts(o, re ? " !" : " NOT ");
            else
                buf_putc(o, ' ');
            buf_printf(o, "%s ", ops[e->u.list.like]);
            expr_name(b, e->u.list.args[1], false, o);
            return;
        }
        case QX_CASE:
            buf_puts(o, "CASE ");
            if (e->u.cs.operand) {
                expr_name(b, e->u.cs.operand, false, o);
                buf_putc(o, ' ');
            }
            for (size_t i = 0; i < e->u.cs.n; i++) {
                buf_puts(o, "WHEN ");
                expr_name(b, e->u.cs.whens[i], false, o);
                buf_puts(o, " THEN ");
                expr_name(b, e->u.cs.thens[i], false, o);
                buf_putc(o, ' ');
            }
            if (e->u.cs.els) {
                buf_puts(o, "ELSE ");
                expr_name(b, e->u.cs.els, false, o);
                buf_putc(o, ' ');
            }
            buf_puts(o, "END");
            return;
        case QX_CAST:
            buf_puts(o, "CAST(");
            expr_name(b, e->u.cast.arg, false, o);
            buf_printf(o, " AS %s)", arrow_name(e->u.cast.to));
            return;
        case QX_FUNC: {
            const char *n = e->u.func.name;
            if ((strcmp(n, "interval") == 0 || strcmp(n, "timestamp") == 0) && e->u.func.n == 1 &&
                e->u.func.args[0]->kind == QX_LITERAL) {
                str_view s = e->u.func.args[0]->u.lit.v.s;
                buf_printf(o, "%s '%.*s'", n[0] == 'i' ? "INTERVAL" : "TIMESTAMP", (int)s.n, s.p);
                return;
            }
            buf_printf(o, "%s(", n);
            if (e->u.func.distinct) buf_puts(o, "DISTINCT ");
            for (size_t i = 0; i < e->u.func.n; i++) {
                if (i) buf_putc(o, ',');
                expr_name(b, e->u.func.args[i], false, o);
            }
            buf_putc(o, ')');
            if (e->u.func.order) {
                buf_puts(o, " ORDER BY [");
                expr_name(b, e->u.func.order, false, o);
                buf_puts(o, e->u.func.order_desc ? " DESC NULLS FIRST]" : " ASC NULLS LAST]");
            }
            return;
        }
    }
}

static const char *expr_name_str(binder *b, const qexpr *e, bool top) {
    buf o = {0};
    expr_name(b, e, top, &o);
    const char *s = arena_strndup(&b->q->arena, o.p ? (const char *)o.p : "", o.len);
    buf_free(&o);
    return s;
}

/* Aggregation context of the expressions being bound above an aggregate. */
typedef struct aggctx {
    const qexpr **keys; /* GROUP BY expressions (ASTs) */
    qbx **key_bx;       /* bound (over the scan) */
    size_t n_keys;
    const qexpr **agg_ast; /* registered aggregate calls */
    qagg *aggs;
    size_t n_aggs, cap_aggs;
} aggctx;

static qbx *new_bx(binder *b, qbx_kind kind, qtype t, uint32_t pos) {
    qbx *x = arena_alloc(&b->q->arena, sizeof *x);
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->type = t;
    x->pos = pos;
    return x;
}

static qbx **bx_args(binder *b, size_t n) {
    return arena_alloc(&b->q->arena, (n ? n : 1) * sizeof(qbx *));
}

/* Fold a node whose arguments are all constants into a constant. */
static int fold_bx(binder *b, qbx **px) {
    qbx *x = *px;
    if (x->kind == QB_COL || x->kind == QB_CONST) return SILT_OK;
    for (size_t i = 0; i < x->n_args; i++)
        if (x->args[i]->kind != QB_CONST) return SILT_OK;
    qeval ev = {.a = &b->q->arena, .sql = b->q->sql, .err = b->q->err};
    query_batch one = {.n_rows = 1, .cols = NULL};
    uint32_t sel0 = 0;
    query_vec v;
    int rc = query__expr_eval(&ev, x, &one, &sel0, 1, &v);
    if (rc < 0) return rc;
    qbx *c = new_bx(b, QB_CONST, x->type, x->pos);
    c->c.type = x->type;
    if (v.valid && !v.valid[0]) {
        c->c.type = QT_NULL;
    } else {
        switch (x->type) {
            case QT_BOOL:
                c->c.v.b = v.b[0] != 0;
                break;
            case QT_UINT:
                c->c.v.u = v.u64[0];
                break;
            case QT_FLOAT:
                c->c.v.f = v.f64[0];
                break;
            case QT_STRING:
                c->c.v.s = v.str[0];
                break;
            default:
                c->c.v.i = v.i64[0];
                break;
        }
    }
    *px = c;
    return SILT_OK;
}

static bool is_numt(qtype t) {
    return t == QT_INT || t == QT_UINT || t == QT_FLOAT;
}

/* x converted to type t (a QB_CAST, folded when x is constant). */
static int coerce(binder *b, qbx **px, qtype t) {
    qbx *x = *px;
    if (x->type == t) return SILT_OK;
    if (x->kind == QB_CONST && x->c.type == QT_NULL) {
        qbx *c = new_bx(b, QB_CONST, t, x->pos);
        c->c.type = QT_NULL;
        *px = c;
        return SILT_OK;
    }
    if (x->kind == QB_CONST && x->type == QT_STRING && t == QT_TIME) {
        int64_t v;
        if (time_parse_rfc3339(x->c.v.s.p, x->c.v.s.n, &v) != SILT_OK)
            return bfail_at(b, x->pos,
                            "invalid timestamp '%.*s': expected an RFC 3339 date-time such as "
                            "'2024-01-01T00:00:00Z'",
                            plen(x->c.v.s.p, x->c.v.s.n), x->c.v.s.p);
        qbx *c = new_bx(b, QB_CONST, QT_TIME, x->pos);
        c->c.type = QT_TIME;
        c->c.v.i = v;
        *px = c;
        return SILT_OK;
    }
    if ((x->type == QT_INTERVAL) != (t == QT_INTERVAL) && !(t == QT_STRING) &&
        !(x->type == QT_INTERVAL && t == QT_INT))
        return bfail_at(b, x->pos, "cannot convert %s to %s", query__type_name(x->type),
                        query__type_name(t));
    qbx *c = new_bx(b, QB_CAST, t, x->pos);
    c->args = bx_args(b, 1);
    c->args[0] = x;
    c->n_args = 1;
    *px = c;
    return fold_bx(b, px);
}

/* The common type of two operands for comparison / CASE / coalesce, or QT_NULL if none. */
static qtype common_type(qtype a, qtype b) {
    if (a == b) return a;
    if (a == QT_NULL) return b;
    if (b == QT_NULL) return a;
    if (is_numt(a) && is_numt(b)) {
        if (a == QT_FLOAT || b == QT_FLOAT) return QT_FLOAT;
        return QT_FLOAT; /* int vs uint in IN, CASE, coalesce: as double */
    }
    if ((a == QT_TIME && (b == QT_STRING || b == QT_INT)) ||
        (b == QT_TIME && (a == QT_STRING || a == QT_INT)))
        return QT_TIME;
    return QT_NULL;
}

static int bind_x(binder *b, const qexpr *e, aggctx *ac, bool in_agg, qbx **out);

static int bind_bool(binder *b, const qexpr *e, aggctx *ac, bool in_agg, qbx **out) {
    int rc = bind_x(b, e, ac, in_agg, out);
    if (rc < 0) return rc;
    if ((*out)->type == QT_NULL) return coerce(b, out, QT_BOOL);
    if ((*out)->type != QT_BOOL)
        return bfail_at(b, e->pos, "a condition must be boolean, not %s",
                        query__type_name((*out)->type));
    return SILT_OK;
}

static int bind_cmp_x(binder *b, qop op, qbx *l, qbx *r, uint32_t pos, qbx **out) {
    if ((l->type == QT_INT && r->type == QT_UINT) || (l->type == QT_UINT && r->type == QT_INT)) {
        /* the one pair compared without a cast (an exact mixed kernel) */
        qbx *x = new_bx(b, QB_CMP, QT_BOOL, pos);
        x->op = op;
        x->args = bx_args(b, 2);
        x->args[0] = l;
        x->args[1] = r;
        x->n_args = 2;
        *out = x;
        return fold_bx(b, out);
    }
    qtype t = common_type(l->type, r->type);
    if (t == QT_NULL && l->type != QT_NULL)
        return bfail_at(b, pos, "cannot compare %s with %s", query__type_name(l->type),
                        query__type_name(r->type));
    if (t == QT_NULL) t = QT_BOOL;
    int rc = coerce(b, &l, t);
    if (rc == SILT_OK) rc = coerce(b, &r, t);
    if (rc < 0) return rc;
    qbx *x = new_bx(b, QB_CMP, QT_BOOL, pos);
    x->op = op;
    x->args = bx_args(b, 2);
    x->args[0] = l;
    x->args[1] = r;
    x->n_args = 2;
    *out = x;
    return fold_bx(b, out);
}

static int bind_arith_x(binder *b, qop op, qbx *l, qbx *r, uint32_t pos, qbx **out) {
    qtype lt = l->type, rt = r->type, kt, res;
    if (op == QOP_CONCAT) {
        kt = res = QT_STRING;
    } else if (lt == QT_NULL && rt == QT_NULL) {
        kt = res = QT_INT;
    } else if (is_numt(lt == QT_NULL ? rt : lt) && is_numt(rt == QT_NULL ? lt : rt)) {
        qtype a = lt == QT_NULL ? rt : lt, c = rt == QT_NULL ? lt : rt;
        kt = (a == QT_FLOAT || c == QT_FLOAT) ? QT_FLOAT : (a == c) ? a : QT_INT;
        /* unsigned with a non-negative integer constant stays unsigned (big + 1) */
        if (kt == QT_INT && a != c &&
            ((lt == QT_UINT && r->kind == QB_CONST && r->c.type == QT_INT && r->c.v.i >= 0) ||
             (rt == QT_UINT && l->kind == QB_CONST && l->c.type == QT_INT && l->c.v.i >= 0)))
            kt = QT_UINT;
        res = kt;
    } else if ((op == QOP_ADD || op == QOP_SUB) && lt == QT_TIME &&
               (rt == QT_INTERVAL || rt == QT_NULL)) {
        kt = QT_INT, res = QT_TIME;
    } else if (op == QOP_ADD && lt == QT_INTERVAL && rt == QT_TIME) {
        qbx *t = l;
        l = r, r = t;
        kt = QT_INT, res = QT_TIME;
    } else if (op == QOP_SUB && lt == QT_TIME && rt == QT_TIME) {
        kt = QT_INT, res = QT_INTERVAL;
    } else if ((op == QOP_ADD || op == QOP_SUB) && lt == QT_INTERVAL && rt == QT_INTERVAL) {
        kt = QT_INT, res = QT_INTERVAL;
    } else {
        return bfail_at(b, pos, "operator '%s' is not defined for %s and %s", op_text(op),
                        query__type_name(lt), query__type_name(rt));
    }
    if (kt == QT_INT && (l->type == QT_TIME || l->type == QT_INTERVAL)) {
        /* int64 kernels: time and interval are int64 already; only retype NULLs */
        if (r->type == QT_NULL) {
            int rc = coerce(b, &r, QT_INTERVAL);
            if (rc < 0) return rc;
        }
    } else {
        int rc = coerce(b, &l, kt);
        if (rc == SILT_OK) rc = coerce(b, &r, kt);
        if (rc < 0) return rc;
    }
    qbx *x = new_bx(b, QB_ARITH, res, pos);
    x->op = op;
    x->args = bx_args(b, 2);
    x->args[0] = l;
    x->args[1] = r;
    x->n_args = 2;
    *out = x;
    return fold_bx(b, out);
}

static int time_col(binder *b, uint32_t pos, qbx **out) {
    ssize_t tc = find_col(b, "time");
    if (tc < 0 || b->tbl->cols[tc].kind != QCOL_TIME)
        return bfail_at(b, pos, "table '%.*s' has no time column", PNAME(b->table));
    qbx *x = new_bx(b, QB_COL, QT_TIME, pos);
    x->col = scan_pos(b, (size_t)tc);
    *out = x;
    return SILT_OK;
}

/* Register the aggregate call e (arguments bound over the scan) and return its output
 * column. Identical calls share one aggregate. */
static int bind_agg_call(binder *b, const qexpr *e, aggctx *ac, qbx **out) {
    const char *n = e->u.func.name;
    if (!ac)
        return bfail(b, SILT_EINVAL, "aggregate function %.*s() is not allowed here", PNAME(n));
    for (size_t i = 0; i < ac->n_aggs; i++) {
        if (!ast_equal(ac->agg_ast[i], e)) continue;
        qbx *x = new_bx(b, QB_COL, ac->aggs[i].type, e->pos);
        x->col = (uint32_t)(ac->n_keys + i);
        *out = x;
        return SILT_OK;
    }
    qagg g = {0};
    size_t na = e->u.func.n;
    qbx *arg = NULL;
    bool star = na == 1 && e->u.func.args[0]->kind == QX_STAR;
    if (strcmp(n, "count") == 0) {
        if (na != 1)
            return bfail(b, SILT_EINVAL, "count() takes one argument: count(*) or count(column)");
        g.kind = star ? QAGG_COUNT_STAR : e->u.func.distinct ? QAGG_COUNT_DISTINCT : QAGG_COUNT;
        g.type = QT_INT;
    } else {
        if (star) return bfail_at(b, e->pos, "%.*s(*) is not supported", PNAME(n));
        bool pct = strcmp(n, "approx_percentile_cont") == 0;
        bool selector = strncmp(n, "selector_", 9) == 0;
        if (na != (pct || selector ? 2u : 1u))
            return bfail_at(b, e->pos, "%.*s() takes %s", PNAME(n),
                            pct        ? "two arguments (value, percentile)"
                            : selector ? "two arguments (value, time)"
                                       : "one argument");
        if (e->u.func.distinct) return bfail_at(b, e->pos, "DISTINCT is supported only in count()");
    }
    if (!star) {
        int rc = bind_x(b, e->u.func.args[0], NULL, true, &arg);
        if (rc < 0) return rc;
        if (arg->type == QT_NULL) {
            rc = coerce(b, &arg, QT_INT);
            if (rc < 0) return rc;
        }
    }
    qtype at = arg ? arg->type : QT_NULL;
    bool numeric = is_numt(at) || at == QT_BOOL;
    if (strcmp(n, "sum") == 0) {
        g.kind = QAGG_SUM;
        if (!is_numt(at)) goto need_num;
        g.type = at;
    } else if (strcmp(n, "avg") == 0 || strcmp(n, "mean") == 0) {
        g.kind = QAGG_AVG;
        g.type = QT_FLOAT;
        if (!is_numt(at)) goto need_num;
    } else if (strcmp(n, "min") == 0 || strcmp(n, "max") == 0) {
        g.kind = n[1] == 'i' ? QAGG_MIN : QAGG_MAX;
        g.type = at;
        if (at == QT_INTERVAL) goto need_num;
    } else if (strcmp(n, "stddev") == 0 || strcmp(n, "stddev_samp") == 0) {
        g.kind = QAGG_STDDEV_SAMP;
    } else if (strcmp(n, "stddev_pop") == 0) {
        g.kind = QAGG_STDDEV_POP;
    } else if (strcmp(n, "var") == 0 || strcmp(n, "var_samp") == 0 || strcmp(n, "variance") == 0) {
        g.kind = QAGG_VAR_SAMP;
    } else if (strcmp(n, "var_pop") == 0) {
        g.kind = QAGG_VAR_POP;
    } else if (strcmp(n, "median") == 0) {
        g.kind = QAGG_MEDIAN;
    } else if (strcmp(n, "approx_percentile_cont") == 0) {
        g.kind = QAGG_PERCENTILE;
        qval pv;
        int rc = fold_const(b, e->u.func.args[1], &pv);
        if (rc < 0) return rc;
        if (rc == 0 || !is_num(pv.type))
            return bfail_at(b, e->u.func.args[1]->pos,
                            "the percentile of approx_percentile_cont() must be a constant number");
        g.param = num_as_double(&pv);
        if (!(g.param >= 0 && g.param <= 1))
            return bfail_at(b, e->u.func.args[1]->pos, "the percentile must be between 0 and 1");
    } else if (strncmp(n, "selector_", 9) == 0) {
        const char *w = n + 9;
        g.kind = strcmp(w, "first") == 0  ? QAGG_SEL_FIRST
                 : strcmp(w, "last") == 0 ? QAGG_SEL_LAST
                 : strcmp(w, "min") == 0  ? QAGG_SEL_MIN
                                          : QAGG_SEL_MAX;
        g.type = QT_STRING; /* a JSON object, see qout_col.json */
        if (at == QT_INTERVAL || at == QT_NULL) goto need_num;
        if ((g.kind == QAGG_SEL_MIN || g.kind == QAGG_SEL_MAX) && at == QT_BOOL) goto need_num;
        int rc = bind_x(b, e->u.func.args[1], NULL, true, &g.key);
        if (rc < 0) return rc;
        if (g.key->type != QT_TIME)
            return bfail_at(b, e->u.func.args[1]->pos,
                            "the second argument of %.*s() must be the time column", PNAME(n));
    } else if (strcmp(n, "first_value") == 0 || strcmp(n, "last_value") == 0) {
        bool last = n[0] == 'l';
        if (e->u.func.order_desc) last = !last;
        g.kind = last ? QAGG_LAST : QAGG_FIRST;
        g.type = at;
        int rc;
        if (e->u.func.order)
            rc = bind_x(b, e->u.func.order, NULL, true, &g.key);
        else
            rc = time_col(b, e->pos, &g.key);
        if (rc < 0) return rc;
        if (g.key->type != QT_TIME && g.key->type != QT_INT)
            return bfail_at(b, e->pos, "%.*s() orders by a timestamp or an integer", PNAME(n));
    }
    if (g.kind == QAGG_STDDEV_SAMP || g.kind == QAGG_STDDEV_POP || g.kind == QAGG_VAR_SAMP ||
        g.kind == QAGG_VAR_POP || g.kind == QAGG_MEDIAN || g.kind == QAGG_PERCENTILE) {
        g.type = QT_FLOAT;
        if (!numeric) goto need_num;
    }
    g.arg = arg;
    if (ac->n_aggs == ac->cap_aggs) {
        size_t cap = ac->cap_aggs ? ac->cap_aggs * 2 : 8;
        qagg *v = arena_alloc(&b->q->arena, cap * sizeof *v);
        const qexpr **a = arena_alloc(&b->q->arena, cap * sizeof *a);
        if (ac->n_aggs) {
            memcpy(v, ac->aggs, ac->n_aggs * sizeof *v);
            memcpy(a, ac->agg_ast, ac->n_aggs * sizeof *a);
        }
        ac->aggs = v;
        ac->agg_ast = a;
        ac->cap_aggs = cap;
    }
    ac->aggs[ac->n_aggs] = g;
    ac->agg_ast[ac->n_aggs] = e;
    qbx *x = new_bx(b, QB_COL, g.type, e->pos);
    x->col = (uint32_t)(ac->n_keys + ac->n_aggs);
    ac->n_aggs++;
    *out = x;
    return SILT_OK;
need_num:
    return bfail_at(b, e->pos, "%.*s() needs a numeric argument, not %s", PNAME(n),
                    query__type_name(at));
}

typedef struct fn_def {
    const char *name;
    qfn fn;
    uint8_t min, max; /* argument counts; max 255: any */
} fn_def;

static const fn_def scalar_fns[] = {
    {"abs", QF_ABS, 1, 1},
    {"round", QF_ROUND, 1, 2},
    {"floor", QF_FLOOR, 1, 1},
    {"ceil", QF_CEIL, 1, 1},
    {"ceiling", QF_CEIL, 1, 1},
    {"sqrt", QF_SQRT, 1, 1},
    {"ln", QF_LN, 1, 1},
    {"log10", QF_LOG10, 1, 1},
    {"log", QF_LOG10, 1, 1},
    {"power", QF_POWER, 2, 2},
    {"pow", QF_POWER, 2, 2},
    {"coalesce", QF_COALESCE, 1, 255},
    {"nullif", QF_NULLIF, 2, 2},
    {"lower", QF_LOWER, 1, 1},
    {"upper", QF_UPPER, 1, 1},
    {"length", QF_LENGTH, 1, 1},
    {"char_length", QF_LENGTH, 1, 1},
    {"character_length", QF_LENGTH, 1, 1},
    {"concat", QF_CONCAT, 1, 255},
    {"substr", QF_SUBSTR, 2, 3},
    {"substring", QF_SUBSTR, 2, 3},
    {"date_trunc", QF_DATE_TRUNC, 2, 2},
    {"date_bin", QF_DATE_BIN, 2, 3},
};

static int bind_func_x(binder *b, const qexpr *e, aggctx *ac, bool in_agg, qbx **out) {
    const char *n = e->u.func.name;
    if (strcmp(n, "now") == 0 || strcmp(n, "interval") == 0 || strcmp(n, "timestamp") == 0) {
        qval v;
        int rc = fold_func(b, e, &v);
        if (rc < 0) return rc;
        qbx *x = new_bx(b, QB_CONST, v.type, e->pos);
        x->c = v;
        *out = x;
        return SILT_OK;
    }
    const fn_def *fd = NULL;
    for (size_t i = 0; i < sizeof scalar_fns / sizeof scalar_fns[0]; i++)
        if (strcmp(scalar_fns[i].name, n) == 0) fd = &scalar_fns[i];
    if (!fd) return bfail_at(b, e->pos, "unknown function '%.*s'", PNAME(n));
    size_t na = e->u.func.n;
    if (na < fd->min || na > fd->max) {
        if (fd->min == fd->max)
            return bfail_at(b, e->pos, "%s() takes %u argument%s", n, fd->min,
                            fd->min == 1 ? "" : "s");
        return bfail_at(b, e->pos, "%s() takes %u to %u arguments", n, fd->min, fd->max);
    }
    if (e->u.func.distinct || e->u.func.order)
        return bfail_at(b, e->pos, "%s() is not an aggregate function", n);
    size_t nargs = fd->fn == QF_DATE_BIN ? 3 : na;
    qbx **args = bx_args(b, nargs);
    for (size_t i = 0; i < na; i++) {
        if (e->u.func.args[i]->kind == QX_STAR)
            return bfail_at(b, e->u.func.args[i]->pos, "'*' is not allowed here");
        int rc = bind_x(b, e->u.func.args[i], ac, in_agg, &args[i]);
        if (rc < 0) return rc;
    }
    qbx *x = new_bx(b, QB_FUNC, QT_NULL, e->pos);
    x->op = fd->fn;
    x->args = args;
    x->n_args = nargs;
    int rc = SILT_OK;
    qtype t0 = args[0]->type;
    switch (fd->fn) {
        case QF_ABS:
            if (t0 == QT_NULL) rc = coerce(b, &args[0], QT_INT), t0 = QT_INT;
            if (!is_numt(t0)) goto bad_arg;
            x->type = t0;
            break;
        case QF_ROUND:
        case QF_FLOOR:
        case QF_CEIL:
        case QF_SQRT:
        case QF_LN:
        case QF_LOG10:
        case QF_POWER:
            if (!is_numt(t0) && t0 != QT_NULL) goto bad_arg;
            rc = coerce(b, &args[0], QT_FLOAT);
            if (rc == SILT_OK && na == 2) {
                if (!is_numt(args[1]->type) && args[1]->type != QT_NULL) goto bad_arg;
                rc = coerce(b, &args[1], fd->fn == QF_ROUND ? QT_INT : QT_FLOAT);
            }
            x->type = QT_FLOAT;
            break;
        case QF_COALESCE:
        case QF_NULLIF: {
            qtype t = QT_NULL;
            for (size_t i = 0; i < na; i++) {
                qtype c = common_type(t, args[i]->type);
                if (c == QT_NULL && t != QT_NULL)
                    return bfail_at(b, e->u.func.args[i]->pos,
                                    "%s() arguments must have one type, not %s and %s", n,
                                    query__type_name(t), query__type_name(args[i]->type));
                t = c;
            }
            if (t == QT_NULL) t = QT_INT;
            for (size_t i = 0; i < na && rc == SILT_OK; i++) rc = coerce(b, &args[i], t);
            x->type = t;
            break;
        }
        case QF_LOWER:
        case QF_UPPER:
        case QF_LENGTH:
            if (t0 != QT_STRING && t0 != QT_NULL) goto bad_arg;
            rc = coerce(b, &args[0], QT_STRING);
            x->type = fd->fn == QF_LENGTH ? QT_INT : QT_STRING;
            break;
        case QF_CONCAT:
            for (size_t i = 0; i < na && rc == SILT_OK; i++) {
                if (args[i]->type == QT_INTERVAL) goto bad_arg;
                rc = coerce(b, &args[i], QT_STRING);
            }
            x->type = QT_STRING;
            break;
        case QF_SUBSTR:
            if (t0 != QT_STRING && t0 != QT_NULL) goto bad_arg;
            rc = coerce(b, &args[0], QT_STRING);
            for (size_t i = 1; i < na && rc == SILT_OK; i++) {
                if (args[i]->type != QT_INT && args[i]->type != QT_UINT && args[i]->type != QT_NULL)
                    return bfail_at(b, e->u.func.args[i]->pos,
                                    "substr() positions and lengths must be integers");
                rc = coerce(b, &args[i], QT_INT);
            }
            x->type = QT_STRING;
            break;
        case QF_DATE_TRUNC: {
            if (args[0]->kind != QB_CONST || args[0]->type != QT_STRING)
                return bfail_at(b, e->pos, "date_trunc() needs a constant unit such as 'hour'");
            static const struct {
                const char *u;
                int64_t ns;
            } units[] = {{"microsecond", NS_PER_US},
                         {"millisecond", NS_PER_MS},
                         {"second", NS_PER_S},
                         {"minute", 60 * NS_PER_S},
                         {"hour", 3600 * NS_PER_S},
                         {"day", NS_PER_DAY},
                         {"week", 7 * NS_PER_DAY},
                         {"month", -1},
                         {"year", -2}};
            x->c.v.i = 0;
            for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
                if (sv_ieq_cstr(args[0]->c.v.s, units[i].u)) x->c.v.i = units[i].ns;
            if (!x->c.v.i)
                return bfail_at(b, e->u.func.args[0]->pos,
                                "unsupported date_trunc unit '%.*s' (second, minute, hour, day, "
                                "week, month or year)",
                                plen(args[0]->c.v.s.p, args[0]->c.v.s.n), args[0]->c.v.s.p);
            if (args[1]->type != QT_TIME && args[1]->type != QT_NULL)
                rc = coerce(b, &args[1], QT_TIME);
            if (rc == SILT_OK && args[1]->type == QT_NULL) rc = coerce(b, &args[1], QT_TIME);
            x->type = QT_TIME;
            break;
        }
        case QF_DATE_BIN:
            if (t0 != QT_INTERVAL)
                return bfail_at(b, e->u.func.args[0]->pos,
                                "date_bin() needs an interval as its first argument, such as "
                                "INTERVAL '1 hour'");
            if (args[0]->kind == QB_CONST && args[0]->c.v.i <= 0)
                return bfail_at(b, e->u.func.args[0]->pos, "date_bin stride must be positive");
            rc = coerce(b, &args[1], QT_TIME);
            if (rc == SILT_OK) {
                if (na == 3) {
                    rc = coerce(b, &args[2], QT_TIME);
                } else {
                    args[2] = new_bx(b, QB_CONST, QT_TIME, e->pos);
                    args[2]->c.type = QT_TIME;
                    args[2]->c.v.i = 0; /* 1970-01-01T00:00:00Z */
                }
            }
            x->type = QT_TIME;
            break;
    }
    if (rc < 0) return rc;
    *out = x;
    return fold_bx(b, out);
bad_arg:
    return bfail_at(b, e->pos, "%s() does not accept %s", n, query__type_name(t0));
}

static int compile_regex(binder *b, qbx *x, const qbx *pat, bool ci, uint32_t pos) {
    if (pat->kind != QB_CONST || pat->type != QT_STRING)
        return bfail_at(b, pos,
                        "the pattern of a regular expression match must be a constant "
                        "string");
    regex_t *re = xmalloc(sizeof *re);
    char *p = arena_strndup(&b->q->arena, pat->c.v.s.p, pat->c.v.s.n);
    int rc = regcomp(re, p, REG_EXTENDED | REG_NOSUB | (ci ? REG_ICASE : 0));
    if (rc != 0) {
        char m[128];
        regerror(rc, re, m, sizeof m);
        free(re);
        return bfail_at(b, pat->pos, "invalid regular expression '%.*s': %s",
                        plen(pat->c.v.s.p, pat->c.v.s.n), pat->c.v.s.p, m);
    }
    x->re = re;
    qctx *q = b->q;
    if (q->n_to_free == q->cap_to_free) {
        size_t cap = q->cap_to_free ? q->cap_to_free * 2 : 4;
        qbx **v = arena_alloc(&q->arena, cap * sizeof *v);
        if (q->n_to_free) memcpy(v, q->to_free, q->n_to_free * sizeof *v);
        q->to_free = v;
        q->cap_to_free = cap;
    }
    q->to_free[q->n_to_free++] = x;
    return SILT_OK;
}

/* Bind e. ac != NULL: e is evaluated above an aggregate (group keys and aggregate calls are
 * columns of its output; other columns are errors). in_agg: e is an aggregate's argument. */
static int bind_x(binder *b, const qexpr *e, aggctx *ac, bool in_agg, qbx **out) {
    if (ac) {
        for (size_t i = 0; i < ac->n_keys; i++) {
            if (!ast_equal(ac->keys[i], e)) continue;
            qbx *x = new_bx(b, QB_COL, ac->key_bx[i]->type, e->pos);
            x->col = (uint32_t)i;
            *out = x;
            return SILT_OK;
        }
    }
    int rc;
    switch (e->kind) {
        case QX_COLUMN: {
            size_t ci = 0;
            rc = resolve_col(b, e->u.col.name, &ci);
            if (rc < 0) return rc;
            if (ac)
                return bfail_at(b, e->pos,
                                "column '%.*s' must appear in the GROUP BY clause or be used in "
                                "an aggregate function",
                                PNAME(e->u.col.name));
            qbx *x = new_bx(b, QB_COL, query__col_type(&b->tbl->cols[ci]), e->pos);
            x->col = scan_pos(b, ci);
            *out = x;
            return SILT_OK;
        }
        case QX_LITERAL: {
            qbx *x = new_bx(b, QB_CONST, e->u.lit.type, e->pos);
            x->c = e->u.lit;
            *out = x;
            return SILT_OK;
        }
        case QX_STAR:
            return bfail_at(b, e->pos, "'*' is not allowed here");
        case QX_NEG: {
            qbx *a;
            rc = bind_x(b, e->u.un.arg, ac, in_agg, &a);
            if (rc < 0) return rc;
            if (a->type == QT_NULL) rc = coerce(b, &a, QT_INT);
            if (rc < 0) return rc;
            if (a->type == QT_UINT) {
                rc = coerce(b, &a, QT_INT);
                if (rc < 0) return rc;
            }
            if (a->type != QT_INT && a->type != QT_FLOAT && a->type != QT_INTERVAL)
                return bfail_at(b, e->pos, "cannot negate a %s", query__type_name(a->type));
            qbx *x = new_bx(b, QB_NEG, a->type, e->pos);
            x->args = bx_args(b, 1);
            x->args[0] = a;
            x->n_args = 1;
            *out = x;
            return fold_bx(b, out);
        }
        case QX_ARITH:
        case QX_CMP: {
            qbx *l, *r;
            rc = bind_x(b, e->u.bin.l, ac, in_agg, &l);
            if (rc == SILT_OK) rc = bind_x(b, e->u.bin.r, ac, in_agg, &r);
            if (rc < 0) return rc;
            if (e->kind == QX_CMP) return bind_cmp_x(b, e->u.bin.op, l, r, e->pos, out);
            return bind_arith_x(b, e->u.bin.op, l, r, e->pos, out);
        }
        case QX_AND:
        case QX_OR: {
            qbx *x = new_bx(b, e->kind == QX_AND ? QB_AND : QB_OR, QT_BOOL, e->pos);
            x->args = bx_args(b, e->u.list.n);
            x->n_args = e->u.list.n;
            for (size_t i = 0; i < e->u.list.n; i++) {
                rc = bind_bool(b, e->u.list.args[i], ac, in_agg, &x->args[i]);
                if (rc < 0) return rc;
            }
            *out = x;
            return fold_bx(b, out);
        }
        case QX_NOT:
        case QX_IS_NULL: {
            qbx *a;
            rc = e->kind == QX_NOT ? bind_bool(b, e->u.un.arg, ac, in_agg, &a)
                                   : bind_x(b, e->u.un.arg, ac, in_agg, &a);
            if (rc < 0) return rc;
            qbx *x = new_bx(b, e->kind == QX_NOT ? QB_NOT : QB_IS_NULL, QT_BOOL, e->pos);
            x->negated = e->u.un.negated;
            x->args = bx_args(b, 1);
            x->args[0] = a;
            x->n_args = 1;
            *out = x;
            return fold_bx(b, out);
        }
        case QX_IN: {
            size_t n = e->u.list.n;
            qbx **args = bx_args(b, n);
            qtype t = QT_NULL;
            for (size_t i = 0; i < n; i++) {
                rc = bind_x(b, e->u.list.args[i], ac, in_agg, &args[i]);
                if (rc < 0) return rc;
                qtype c = common_type(t, args[i]->type);
                if (c == QT_NULL && t != QT_NULL)
                    return bfail_at(b, e->u.list.args[i]->pos, "cannot compare %s with %s",
                                    query__type_name(t), query__type_name(args[i]->type));
                t = c;
            }
            if (t == QT_NULL) t = QT_BOOL;
            for (size_t i = 0; i < n; i++) {
                rc = coerce(b, &args[i], t);
                if (rc < 0) return rc;
            }
            qbx *x = new_bx(b, QB_IN, QT_BOOL, e->pos);
            x->args = args;
            x->n_args = n;
            x->negated = e->u.list.negated;
            *out = x;
            return fold_bx(b, out);
        }
        case QX_BETWEEN: { /* x BETWEEN lo AND hi == x >= lo AND x <= hi */
            qbx *v, *lo, *hi, *c1, *c2;
            rc = bind_x(b, e->u.list.args[0], ac, in_agg, &v);
            if (rc == SILT_OK) rc = bind_x(b, e->u.list.args[1], ac, in_agg, &lo);
            if (rc == SILT_OK) rc = bind_x(b, e->u.list.args[2], ac, in_agg, &hi);
            if (rc == SILT_OK) rc = bind_cmp_x(b, QOP_GE, v, lo, e->pos, &c1);
            if (rc == SILT_OK) rc = bind_cmp_x(b, QOP_LE, v, hi, e->pos, &c2);
            if (rc < 0) return rc;
            qbx *x = new_bx(b, QB_AND, QT_BOOL, e->pos);
            x->args = bx_args(b, 2);
            x->args[0] = c1;
            x->args[1] = c2;
            x->n_args = 2;
            rc = fold_bx(b, &x);
            if (rc < 0) return rc;
            if (e->u.list.negated) {
                qbx *nx = new_bx(b, QB_NOT, QT_BOOL, e->pos);
                nx->args = bx_args(b, 1);
                nx->args[0] = x;
                nx->n_args = 1;
                x = nx;
                rc = fold_bx(b, &x);
                if (rc < 0) return rc;
            }
            *out = x;
            return SILT_OK;
        }
        case QX_LIKE: {
            qbx *v, *p;
            rc = bind_x(b, e->u.list.args[0], ac, in_agg, &v);
            if (rc == SILT_OK) rc = bind_x(b, e->u.list.args[1], ac, in_agg, &p);
            if (rc < 0) return rc;
            if ((v->type != QT_STRING && v->type != QT_NULL) ||
                (p->type != QT_STRING && p->type != QT_NULL))
                return bfail_at(b, e->pos, "pattern matching needs strings, not %s and %s",
                                query__type_name(v->type), query__type_name(p->type));
            rc = coerce(b, &v, QT_STRING);
            if (rc == SILT_OK) rc = coerce(b, &p, QT_STRING);
            if (rc < 0) return rc;
            bool re = e->u.list.like >= QLIKE_RE;
            if (re && p->kind == QB_CONST && p->c.type == QT_NULL) {
                qbx *x = new_bx(b, QB_CONST, QT_BOOL, e->pos);
                x->c.type = QT_NULL;
                *out = x;
                return SILT_OK;
            }
            qbx *x = new_bx(b, re ? QB_REGEX : QB_LIKE, QT_BOOL, e->pos);
            x->op = e->u.list.like;
            x->negated = e->u.list.negated;
            x->args = bx_args(b, 2);
            x->args[0] = v;
            x->args[1] = p;
            x->n_args = re ? 1 : 2;
            if (re) {
                rc = compile_regex(b, x, p, e->u.list.like == QLIKE_RE_I, e->pos);
                if (rc < 0) return rc;
            }
            *out = x;
            return fold_bx(b, out);
        }
        case QX_CASE: {
            size_t nw = e->u.cs.n;
            bool has_else = e->u.cs.els != NULL;
            qbx **args = bx_args(b, 2 * nw + 1);
            qbx *operand = NULL;
            if (e->u.cs.operand) {
                rc = bind_x(b, e->u.cs.operand, ac, in_agg, &operand);
                if (rc < 0) return rc;
            }
            qtype t = QT_NULL;
            for (size_t i = 0; i < nw; i++) {
                if (operand) {
                    qbx *w;
                    rc = bind_x(b, e->u.cs.whens[i], ac, in_agg, &w);
                    if (rc == SILT_OK)
                        rc = bind_cmp_x(b, QOP_EQ, operand, w, e->u.cs.whens[i]->pos, &args[2 * i]);
                } else {
                    rc = bind_bool(b, e->u.cs.whens[i], ac, in_agg, &args[2 * i]);
                }
                if (rc == SILT_OK) rc = bind_x(b, e->u.cs.thens[i], ac, in_agg, &args[2 * i + 1]);
                if (rc < 0) return rc;
                qtype c = common_type(t, args[2 * i + 1]->type);
                if (c == QT_NULL && t != QT_NULL)
                    return bfail_at(b, e->u.cs.thens[i]->pos,
                                    "CASE results must have one type, not %s and %s",
                                    query__type_name(t), query__type_name(args[2 * i + 1]->type));
                t = c;
            }
            if (has_else) {
                rc = bind_x(b, e->u.cs.els, ac, in_agg, &args[2 * nw]);
                if (rc < 0) return rc;
                qtype c = common_type(t, args[2 * nw]->type);
                if (c == QT_NULL && t != QT_NULL)
                    return bfail_at(b, e->u.cs.els->pos,
                                    "CASE results must have one type, not %s and %s",
                                    query__type_name(t), query__type_name(args[2 * nw]->type));
                t = c;
            }
            if (t == QT_NULL) t = QT_INT;
            for (size_t i = 0; i < nw; i++) {
                rc = coerce(b, &args[2 * i + 1], t);
                if (rc < 0) return rc;
            }
            if (has_else) {
                rc = coerce(b, &args[2 * nw], t);
                if (rc < 0) return rc;
            }
            qbx *x = new_bx(b, QB_CASE, t, e->pos);
            x->args = args;
            x->n_args = 2 * nw + (has_else ? 1 : 0);
            x->has_else = has_else;
            *out = x;
            return fold_bx(b, out);
        }
        case QX_CAST: {
            qbx *a;
            rc = bind_x(b, e->u.cast.arg, ac, in_agg, &a);
            if (rc < 0) return rc;
            if (a->type == QT_INTERVAL && e->u.cast.to != QT_INT && e->u.cast.to != QT_STRING)
                return bfail_at(b, e->pos, "cannot cast interval to %s",
                                query__type_name(e->u.cast.to));
            if (a->type == QT_STRING && a->kind == QB_CONST && e->u.cast.to == QT_TIME) {
                *out = a;
                return coerce(b, out, QT_TIME);
            }
            qbx *x = new_bx(b, QB_CAST, e->u.cast.to, e->pos);
            x->args = bx_args(b, 1);
            x->args[0] = a;
            x->n_args = 1;
            *out = x;
            return fold_bx(b, out);
        }
        case QX_FUNC:
            if (is_agg_name(e->u.func.name)) {
                if (in_agg) return bfail_at(b, e->pos, "aggregate function calls cannot be nested");
                return bind_agg_call(b, e, ac, out);
            }
            return bind_func_x(b, e, ac, in_agg, out);
    }
    return bfail_at(b, e->pos, "unsupported expression");
}

/* ------------------------------------------------------------------ SELECT */

/* Can the fast predicate path (qpred: column op constant) bind e? */
static bool const_ish(const qexpr *e) {
    switch (e->kind) {
        case QX_LITERAL:
            return true;
        case QX_NEG:
            return const_ish(e->u.un.arg);
        case QX_ARITH:
            return (e->u.bin.op == QOP_ADD || e->u.bin.op == QOP_SUB) && const_ish(e->u.bin.l) &&
                   const_ish(e->u.bin.r);
        case QX_FUNC:
            return strcmp(e->u.func.name, "now") == 0 || strcmp(e->u.func.name, "interval") == 0 ||
                   strcmp(e->u.func.name, "timestamp") == 0;
        default:
            return false;
    }
}

static bool simple_pred(const qexpr *e) {
    switch (e->kind) {
        case QX_AND:
        case QX_OR:
            for (size_t i = 0; i < e->u.list.n; i++)
                if (!simple_pred(e->u.list.args[i])) return false;
            return true;
        case QX_NOT:
            return simple_pred(e->u.un.arg);
        case QX_CMP: {
            const qexpr *l = e->u.bin.l, *r = e->u.bin.r;
            return (l->kind == QX_COLUMN && const_ish(r)) ||
                   (r->kind == QX_COLUMN && const_ish(l)) || (const_ish(l) && const_ish(r));
        }
        case QX_IS_NULL:
            return e->u.un.arg->kind == QX_COLUMN || const_ish(e->u.un.arg);
        case QX_COLUMN:
        case QX_LITERAL:
            return true;
        default:
            return false;
    }
}

static qexpr *new_ast(binder *b, qexpr_kind kind, uint32_t pos) {
    qexpr *e = arena_alloc(&b->q->arena, sizeof *e);
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->pos = pos;
    return e;
}

static qexpr *ast_cmp(binder *b, qop op, qexpr *l, qexpr *r, uint32_t pos) {
    qexpr *c = new_ast(b, QX_CMP, pos);
    c->u.bin.op = op;
    c->u.bin.l = l;
    c->u.bin.r = r;
    return c;
}

/* Rewrite "column [NOT] IN (constants)" and "column [NOT] BETWEEN constant AND constant"
 * into OR / AND of comparisons, so the fast predicate path takes them (and a time BETWEEN
 * prunes the scan). Exact in three-valued logic: x IN (a, b) == x = a OR x = b, and
 * x BETWEEN a AND b == x >= a AND x <= b, NULLs included. */
static qexpr *desugar(binder *b, qexpr *e) {
    switch (e->kind) {
        case QX_AND:
        case QX_OR: {
            qexpr *c = new_ast(b, e->kind, e->pos);
            c->u.list.n = e->u.list.n;
            c->u.list.args = arena_alloc(&b->q->arena, e->u.list.n * sizeof(qexpr *));
            for (size_t i = 0; i < e->u.list.n; i++)
                c->u.list.args[i] = desugar(b, e->u.list.args[i]);
            return c;
        }
        case QX_NOT: {
            qexpr *c = new_ast(b, QX_NOT, e->pos);
            c->u.un.arg = desugar(b, e->u.un.arg);
            return c;
        }
        case QX_IN:
        case QX_BETWEEN: {
            qexpr *x = e->u.list.args[0];
            if (x->kind != QX_COLUMN) return e;
            for (size_t i = 1; i < e->u.list.n; i++)
                if (!const_ish(e->u.list.args[i])) return e;
            qexpr *r;
            if (e->kind == QX_IN) {
                r = new_ast(b, QX_OR, e->pos);
                r->u.list.n = e->u.list.n - 1;
                r->u.list.args = arena_alloc(&b->q->arena, r->u.list.n * sizeof(qexpr *));
                for (size_t i = 1; i < e->u.list.n; i++)
                    r->u.list.args[i - 1] = ast_cmp(b, QOP_EQ, x, e->u.list.args[i], e->pos);
            } else {
                r = new_ast(b, QX_AND, e->pos);
                r->u.list.n = 2;
                r->u.list.args = arena_alloc(&b->q->arena, 2 * sizeof(qexpr *));
                r->u.list.args[0] = ast_cmp(b, QOP_GE, x, e->u.list.args[1], e->pos);
                r->u.list.args[1] = ast_cmp(b, QOP_LE, x, e->u.list.args[2], e->pos);
            }
            if (!e->u.list.negated) return r;
            qexpr *n = new_ast(b, QX_NOT, e->pos);
            n->u.un.arg = r;
            return n;
        }
        default:
            return e;
    }
}

/* A growable array of plan output columns. */
typedef struct outs {
    qout_col *v;
    const qexpr **ast; /* the expression of each column (NULL for '*' expansions) */
    size_t n, cap;
} outs;

static void outs_push(qctx *q, outs *o, qout_col c, const qexpr *ast) {
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 8;
        qout_col *v = arena_alloc(&q->arena, cap * sizeof *v);
        const qexpr **a = arena_alloc(&q->arena, cap * sizeof *a);
        if (o->n) {
            memcpy(v, o->v, o->n * sizeof *v);
            memcpy(a, o->ast, o->n * sizeof *a);
        }
        o->v = v;
        o->ast = a;
        o->cap = cap;
    }
    o->v[o->n] = c;
    o->ast[o->n] = ast;
    o->n++;
}

/* qout_col.src_kind of a select item bound to x: that of the table column x passes on
 * unchanged (over the scan, or as a GROUP BY key of the aggregate ac), else 0. */
static uint8_t bx_src_kind(const binder *b, const qbx *x, const aggctx *ac) {
    if (x->kind != QB_COL) return 0;
    if (ac) {
        if (x->col >= ac->n_keys) return 0; /* an aggregate's result */
        x = ac->key_bx[x->col];
        if (x->kind != QB_COL) return 0;
    }
    return x->col < b->n_scan ? b->src_kind[b->scan[x->col]] : 0;
}

static int bind_select_items(binder *b, const qstmt *st, aggctx *ac, outs *o) {
    qctx *q = b->q;
    for (size_t i = 0; i < st->n_items; i++) {
        const qselect_item *it = &st->items[i];
        const qexpr *e = it->expr;
        if (e->kind == QX_STAR) {
            if (ac)
                return bfail_at(b, e->pos,
                                "SELECT * cannot be used with GROUP BY or aggregates; name the "
                                "columns");
            for (size_t c = 0; c < b->tbl->n_cols; c++) {
                const query_column *col = &b->tbl->cols[c];
                qbx *x = new_bx(b, QB_COL, query__col_type(col), e->pos);
                x->col = scan_pos(b, c);
                outs_push(
                    q, o,
                    (qout_col){
                        .name = col->name, .type = x->type, .expr = x, .src_kind = b->src_kind[c]},
                    NULL);
            }
            continue;
        }
        qbx *x;
        int rc = bind_x(b, e, ac, false, &x);
        if (rc < 0) return rc;
        if (x->type == QT_INTERVAL)
            return bfail_at(b, e->pos, "an interval cannot be a result column");
        if (x->type == QT_NULL) {
            rc = coerce(b, &x, QT_INT);
            if (rc < 0) return rc;
        }
        const char *name = it->alias ? it->alias : expr_name_str(b, e, true);
        bool json = ac && x->kind == QB_COL && x->col >= ac->n_keys &&
                    ac->aggs[x->col - ac->n_keys].kind >= QAGG_SEL_FIRST;
        outs_push(q, o,
                  (qout_col){.name = name,
                             .type = x->type,
                             .expr = x,
                             .json = json,
                             .src_kind = bx_src_kind(b, x, ac)},
                  e);
    }
    /* output names must be unique (DataFusion: "projections require unique expression names") */
    for (size_t i = 0; i < o->n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->v[i].name, o->v[j].name) == 0)
                return bfail(b, SILT_EINVAL,
                             "duplicate output column name '%.*s'; use AS to rename one",
                             PNAME(o->v[i].name));
    return SILT_OK;
}

/* WHERE: the conjuncts the fast path can take become one qpred (exact kernels, time-range
 * extraction); the rest are general boolean expressions evaluated after it. */
static int bind_where(binder *b, const qexpr *w, qpred **pred, qbx ***exprs, size_t *n_exprs,
                      const char ***names) {
    *pred = NULL;
    *exprs = NULL;
    *n_exprs = 0;
    w = desugar(b, (qexpr *)w);
    if (simple_pred(w)) return bind_pred(b, w, false, pred);
    size_t n = w->kind == QX_AND ? w->u.list.n : 1;
    const qexpr *const *parts = w->kind == QX_AND ? (const qexpr *const *)w->u.list.args : &w;
    qexpr **simple = arena_alloc(&b->q->arena, n * sizeof *simple);
    size_t ns = 0;
    *exprs = arena_alloc(&b->q->arena, n * sizeof **exprs);
    *names = arena_alloc(&b->q->arena, n * sizeof **names);
    for (size_t i = 0; i < n; i++) {
        if (simple_pred(parts[i])) {
            simple[ns++] = (qexpr *)parts[i];
            continue;
        }
        qbx *x;
        int rc = bind_bool(b, parts[i], NULL, false, &x);
        if (rc < 0) return rc;
        if (x->kind == QB_CONST) {
            if (x->c.type != QT_NULL && x->c.v.b) continue; /* TRUE: drop */
        }
        (*names)[*n_exprs] = expr_name_str(b, parts[i], false);
        (*exprs)[(*n_exprs)++] = x;
    }
    if (ns) {
        qexpr and = {.kind = QX_AND, .pos = w->pos};
        and.u.list.args = simple;
        and.u.list.n = ns;
        int rc = bind_pred(b, ns == 1 ? simple[0] : &and, false, pred);
        if (rc < 0) return rc;
    }
    return SILT_OK;
}

static qplan *plan_on(qctx *q, qplan_kind kind, qplan *input, const qplan *cols_of) {
    qplan *p = new_plan(q, kind, input);
    if (cols_of) {
        p->cols = cols_of->cols;
        p->n_cols = cols_of->n_cols;
        p->n_hidden = cols_of->n_hidden;
    }
    return p;
}

/* ORDER BY key -> a column of the projection (visible or hidden). */
static int bind_order_key(binder *b, const qstmt *st, const qorder_item *oi, aggctx *ac, outs *o,
                          size_t n_visible, bool distinct, uint32_t *col) {
    const qexpr *e = oi->expr;
    if (e->kind == QX_LITERAL && e->u.lit.type == QT_INT) { /* ordinal */
        if (e->u.lit.v.i < 1 || (uint64_t)e->u.lit.v.i > n_visible)
            return bfail_at(b, e->pos, "ORDER BY position %lld is not in the select list",
                            (long long)e->u.lit.v.i);
        *col = (uint32_t)(e->u.lit.v.i - 1);
        return SILT_OK;
    }
    if (e->kind == QX_COLUMN) { /* an output name (alias) wins, as in PostgreSQL */
        for (size_t i = 0; i < n_visible; i++) {
            if (strcmp(o->v[i].name, e->u.col.name) != 0) continue;
            *col = (uint32_t)i;
            return SILT_OK;
        }
    }
    for (size_t i = 0; i < n_visible; i++) {
        if (o->ast[i] && ast_equal(o->ast[i], e)) {
            *col = (uint32_t)i;
            return SILT_OK;
        }
    }
    if (distinct)
        return bfail_at(b, e->pos,
                        "for SELECT DISTINCT, ORDER BY expressions must appear in the select "
                        "list");
    (void)st;
    qbx *x;
    int rc = bind_x(b, e, ac, false, &x);
    if (rc < 0) return rc;
    if (x->type == QT_INTERVAL || x->type == QT_NULL) {
        rc = coerce(b, &x, QT_INT);
        if (rc < 0) return rc;
    }
    *col = (uint32_t)o->n;
    outs_push(b->q, o, (qout_col){.name = expr_name_str(b, e, true), .type = x->type, .expr = x},
              e);
    return SILT_OK;
}

static void mark_bx(const qbx *x, bool *used) {
    if (!x) return;
    if (x->kind == QB_COL) used[x->col] = true;
    for (size_t i = 0; i < x->n_args; i++) mark_bx(x->args[i], used);
}

static void mark_pred(const qpred *p, bool *used) {
    if (!p) return;
    if (p->kind == QP_CMP || p->kind == QP_IS_NULL || p->kind == QP_NOT_NULL) used[p->col] = true;
    for (size_t i = 0; i < p->n_kids; i++) mark_pred(p->kids[i], used);
}

/* Scan positions whose values nothing reads: an aggregate over the scan (and its filter)
 * that uses them only as count(x) arguments, or not at all (the column scanned to count
 * rows for count(*)). NULL when there is none. */
static bool *count_only_cols(qctx *q, const qplan *scan, const qplan *below, const qplan *ag) {
    size_t n = scan->u.scan.n_cols;
    if (!n) return NULL;
    bool *used = arena_alloc(&q->arena, n * sizeof *used);
    memset(used, 0, n * sizeof *used);
    if (below != scan) { /* the WHERE filter */
        if (below->kind != QPL_FILTER || below->input != scan) return NULL;
        mark_pred(below->u.filter.pred, used);
        for (size_t i = 0; i < below->u.filter.n_exprs; i++)
            mark_bx(below->u.filter.exprs[i], used);
    }
    for (size_t i = 0; i < ag->u.agg.n_keys; i++) mark_bx(ag->u.agg.keys[i], used);
    for (size_t i = 0; i < ag->u.agg.n_aggs; i++) {
        const qagg *a = &ag->u.agg.aggs[i];
        if (!(a->kind == QAGG_COUNT && a->arg && a->arg->kind == QB_COL)) mark_bx(a->arg, used);
        mark_bx(a->key, used);
    }
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        used[i] = !used[i]; /* now: count only */
        any |= used[i];
    }
    return any ? used : NULL;
}

/* A comparison of time with a constant: pred_range folds it exactly into [t_min, t_max]. */
static bool time_bound(const qpred *c, int64_t tpos) {
    return c->kind == QP_CMP && (int64_t)c->col == tpos && c->kernel == QK_I64 &&
           (c->op == QOP_EQ || c->op == QOP_LT || c->op == QOP_LE || c->op == QOP_GT ||
            c->op == QOP_GE);
}

/* The conjuncts of *pred: its kids if it is an AND, else *pred itself (none if NULL). */
static size_t conjuncts(const qpred *const *pred, const qpred *const **out) {
    *out = pred;
    if (!*pred) return 0;
    if ((*pred)->kind != QP_AND) return 1;
    *out = (const qpred *const *)(*pred)->kids;
    return (*pred)->n_kids;
}

/* The scan column of sort key k when the sort's input is a projection of the scan whose
 * column there is a bare scan column; -1 otherwise. */
static int64_t key_scan_pos(const outs *o, const qsort_key *k) {
    const qbx *e = k->col < o->n ? o->v[k->col].expr : NULL;
    return e && e->kind == QB_COL ? (int64_t)e->col : -1;
}

/* InfluxQL's per-series LIMIT over raw rows (qstmt's partition hint) lets the scan skip rows
 * that cannot be among the first part_limit of their series (query_scan_req.topk), when the
 * partition keys are tag columns followed by time, and the filter holds nothing but a time
 * range (exactly [t_min, t_max]) and "one of these columns is not NULL". NULL otherwise. */
static const query_topk_hint *topk_hint(qctx *q, const qstmt *st, const qplan *scan,
                                        const qpred *pred, const outs *o, const qsort_key *keys,
                                        int64_t tpos) {
    size_t np = st->n_part_keys;
    if (!np || np >= st->n_order || st->part_limit <= 0 || tpos < 0) return NULL;
    size_t *kp = arena_alloc(&q->arena, np * sizeof *kp);
    for (size_t i = 0; i < np; i++) {
        int64_t pos = key_scan_pos(o, &keys[i]);
        if (pos < 0 || scan->u.scan.tbl->cols[scan->u.scan.col_idx[pos]].kind != QCOL_TAG)
            return NULL;
        kp[i] = (size_t)pos;
    }
    if (key_scan_pos(o, &keys[np]) != tpos) return NULL;
    const qpred *const *conj;
    size_t n_conj = conjuncts(&pred, &conj);
    size_t *any = NULL, n_any = 0;
    for (size_t i = 0; i < n_conj; i++) {
        const qpred *c = conj[i];
        if (time_bound(c, tpos)) continue; /* in [t_min, t_max] */
        if (any) return NULL;
        const qpred *const *leaves = &c;
        size_t nl = 1;
        if (c->kind == QP_OR) {
            leaves = (const qpred *const *)c->kids;
            nl = c->n_kids;
        }
        any = arena_alloc(&q->arena, (nl ? nl : 1) * sizeof *any);
        for (size_t j = 0; j < nl; j++) {
            if (leaves[j]->kind != QP_NOT_NULL) return NULL;
            any[n_any++] = leaves[j]->col;
        }
    }
    query_topk_hint *h = arena_alloc(&q->arena, sizeof *h);
    *h = (query_topk_hint){kp, np, (uint64_t)st->part_limit, keys[np].desc, any, n_any};
    return h;
}

/* Only time-range conjuncts in pred (exactly [t_min, t_max] of the scan)? */
static bool only_time_range(const qpred *pred, int64_t tpos) {
    const qpred *const *conj;
    size_t n = conjuncts(&pred, &conj);
    for (size_t i = 0; i < n; i++)
        if (!time_bound(conj[i], tpos)) return false;
    return true;
}

/* The last (first) row of each group is all an aggregate needs when it groups by tag columns
 * and computes only last_value(x ORDER BY time) (which keeps a NULL of the last row) and
 * max(time), or first_value and min(time): the scan may skip rows older (newer) than another row of
 * the same series (query_scan_req.topk with k = 1). Rows that tie on time are never skipped.
 * NULL when the aggregate is anything else. */
static const query_topk_hint *agg_topk_hint(qctx *q, const qplan *scan, const qplan *ag,
                                            const qpred *pred, size_t n_wexprs, int64_t tpos) {
    if (tpos < 0 || n_wexprs || !ag->u.agg.n_keys || !ag->u.agg.n_aggs ||
        !only_time_range(pred, tpos))
        return NULL;
    size_t nk = ag->u.agg.n_keys;
    size_t *kp = arena_alloc(&q->arena, nk * sizeof *kp);
    for (size_t i = 0; i < nk; i++) {
        const qbx *k = ag->u.agg.keys[i];
        if (k->kind != QB_COL || scan->u.scan.tbl->cols[scan->u.scan.col_idx[k->col]].kind !=
                                     QCOL_TAG)
            return NULL;
        kp[i] = k->col;
    }
    int dir = 0; /* 1 newest, -1 oldest */
    for (size_t i = 0; i < ag->u.agg.n_aggs; i++) {
        const qagg *a = &ag->u.agg.aggs[i];
        int d;
        bool on_time = a->key && a->key->kind == QB_COL && (int64_t)a->key->col == tpos;
        bool arg_time = a->arg && a->arg->kind == QB_COL && (int64_t)a->arg->col == tpos;
        if (a->kind == QAGG_LAST && on_time)
            d = 1;
        else if (a->kind == QAGG_FIRST && on_time)
            d = -1;
        else if (a->kind == QAGG_MAX && arg_time)
            d = 1;
        else if (a->kind == QAGG_MIN && arg_time)
            d = -1;
        else
            return NULL;
        if (dir && d != dir) return NULL;
        dir = d;
    }
    query_topk_hint *h = arena_alloc(&q->arena, sizeof *h);
    *h = (query_topk_hint){kp, nk, 1, dir > 0, NULL, 0};
    return h;
}

static int plan_select(qctx *q, const qstmt *st, qplan **out) {
    /* FROM table | iox.table (a scan) or a system table (a Values leaf; q->tbl describes it
     * but is not the source's, so have_tbl stays false) */
    qsys_table sys = {0};
    bool is_sys = st->schema && strcmp(st->schema, "iox") != 0;
    int rc = check_catalog(q, st);
    if (rc < 0) return rc;
    rc = is_sys ? query__system_table(q, st->schema, st->table, &sys) : load_table(q, st->table);
    if (rc < 0) return rc;
    if (is_sys) q->tbl = sys.tbl;
    /* the table as written qualifies output names and messages: sum(system.parquet_files.x) */
    const char *tname = st->table;
    if (st->schema) {
        buf qn = {0};
        buf_printf(&qn, "%s%s%s.%s", st->catalog ? st->catalog : "", st->catalog ? "." : "",
                   st->schema, st->table);
        tname = arena_strndup(&q->arena, (const char *)qn.p, qn.len);
        buf_free(&qn);
    }
    binder b;
    binder_init(&b, q, &q->tbl, st->alias ? st->alias : tname);
    /* what a bare column reference passes on: the stored column's kind; nothing for system
     * tables; a materialized subquery's own record of its columns (query_sub.c) */
    const uint8_t *mat_kinds = is_sys ? NULL : query__mat_src_kinds(q, &q->tbl);
    for (size_t i = 0; i < q->tbl.n_cols; i++)
        b.src_kind[i] = is_sys ? 0 : mat_kinds ? mat_kinds[i] : (uint8_t)q->tbl.cols[i].kind;

    bool is_agg = st->n_group > 0 || st->having != NULL;
    for (size_t i = 0; i < st->n_items && !is_agg; i++) is_agg = has_agg(st->items[i].expr);
    for (size_t i = 0; i < st->n_order && !is_agg; i++) is_agg = has_agg(st->order[i].expr);

    aggctx ac = {0};
    if (is_agg && st->n_group) { /* GROUP BY: expressions, ordinals or select aliases */
        ac.keys = arena_alloc(&q->arena, st->n_group * sizeof *ac.keys);
        ac.key_bx = arena_alloc(&q->arena, st->n_group * sizeof *ac.key_bx);
        for (size_t i = 0; i < st->n_group; i++) {
            const qexpr *g = st->group[i];
            if (g->kind == QX_LITERAL && g->u.lit.type == QT_INT) {
                if (g->u.lit.v.i < 1 || (uint64_t)g->u.lit.v.i > st->n_items ||
                    st->items[g->u.lit.v.i - 1].expr->kind == QX_STAR)
                    return bfail_at(&b, g->pos, "GROUP BY position %lld is not in the select list",
                                    (long long)g->u.lit.v.i);
                g = st->items[g->u.lit.v.i - 1].expr;
            } else if (g->kind == QX_COLUMN && find_col(&b, g->u.col.name) < 0) {
                for (size_t j = 0; j < st->n_items; j++) {
                    if (st->items[j].alias && strcmp(st->items[j].alias, g->u.col.name) == 0) {
                        g = st->items[j].expr;
                        break;
                    }
                }
            }
            if (has_agg(g))
                return bfail_at(&b, g->pos, "aggregate functions are not allowed in GROUP BY");
            rc = bind_x(&b, g, NULL, false, &ac.key_bx[i]);
            if (rc < 0) return rc;
            if (ac.key_bx[i]->type == QT_NULL || ac.key_bx[i]->type == QT_INTERVAL) {
                rc = coerce(&b, &ac.key_bx[i], QT_INT);
                if (rc < 0) return rc;
            }
            ac.keys[i] = g;
            ac.n_keys = i + 1;
        }
    }

    outs o = {0};
    rc = bind_select_items(&b, st, is_agg ? &ac : NULL, &o);
    if (rc < 0) return rc;
    size_t n_visible = o.n;

    qpred *pred = NULL;
    qbx **wexprs = NULL;
    size_t n_wexprs = 0;
    const char **wnames = NULL;
    if (st->where) {
        rc = bind_where(&b, st->where, &pred, &wexprs, &n_wexprs, &wnames);
        if (rc < 0) return rc;
    }
    qbx *having = NULL;
    if (st->having) {
        rc = bind_bool(&b, st->having, &ac, false, &having);
        if (rc < 0) return rc;
    }
    qsort_key *keys = NULL;
    if (st->n_order) {
        keys = arena_alloc(&q->arena, st->n_order * sizeof *keys);
        for (size_t i = 0; i < st->n_order; i++) {
            const qorder_item *oi = &st->order[i];
            rc = bind_order_key(&b, st, oi, is_agg ? &ac : NULL, &o, n_visible, st->distinct,
                                &keys[i].col);
            if (rc < 0) return rc;
            keys[i].desc = oi->desc;
            keys[i].nulls_first =
                oi->nulls == QNULLS_DEFAULT ? oi->desc : oi->nulls == QNULLS_FIRST;
        }
    }

    /* something to scan even for count(*): the time column carries the row count */
    ssize_t tcol = find_col(&b, "time");
    if (tcol >= 0 && q->tbl.cols[tcol].kind != QCOL_TIME) tcol = -1;
    if (b.n_scan == 0 && q->tbl.n_cols > 0) scan_pos(&b, tcol >= 0 ? (size_t)tcol : 0);

    qplan *scan;
    if (is_sys) {
        scan = values_of(q, &sys, b.scan, b.n_scan);
    } else {
        scan = new_plan(q, QPL_SCAN, NULL);
        scan->u.scan.table = st->table;
        scan->u.scan.tbl = &q->tbl;
        scan->u.scan.col_idx = b.scan;
        scan->u.scan.n_cols = b.n_scan;
        scan->u.scan.t_min = INT64_MIN;
        scan->u.scan.t_max = INT64_MAX;
    }
    qplan *top = scan;
    if (pred && !is_sys) {
        int64_t tpos = tcol >= 0 && b.pos_of[tcol] >= 0 ? b.pos_of[tcol] : -1;
        pred_range(pred, tpos, &scan->u.scan.t_min, &scan->u.scan.t_max);
        if (pred->kind == QP_ALL) pred = NULL;
        scan->u.scan.prune = pred;
    }
    if (pred || n_wexprs) {
        top = new_plan(q, QPL_FILTER, top);
        top->u.filter.pred = pred;
        top->u.filter.exprs = wexprs;
        top->u.filter.n_exprs = n_wexprs;
        top->u.filter.names = wnames;
    }
    if (is_agg) {
        qplan *ag = new_plan(q, QPL_AGGREGATE, top);
        ag->u.agg.keys = ac.key_bx;
        ag->u.agg.n_keys = ac.n_keys;
        ag->u.agg.aggs = ac.aggs;
        ag->u.agg.n_aggs = ac.n_aggs;
        ag->n_cols = ac.n_keys + ac.n_aggs;
        ag->cols = arena_alloc(&q->arena, (ag->n_cols ? ag->n_cols : 1) * sizeof *ag->cols);
        for (size_t i = 0; i < ac.n_keys; i++)
            ag->cols[i] = (qout_col){.name = expr_name_str(&b, ac.keys[i], true),
                                     .type = ac.key_bx[i]->type,
                                     .src_kind = bx_src_kind(&b, ac.key_bx[i], NULL)};
        for (size_t i = 0; i < ac.n_aggs; i++)
            ag->cols[ac.n_keys + i] = (qout_col){.name = expr_name_str(&b, ac.agg_ast[i], true),
                                                 .type = ac.aggs[i].type,
                                                 .json = ac.aggs[i].kind >= QAGG_SEL_FIRST};
        top = ag;
        scan->u.scan.count_only = count_only_cols(q, scan, top->input, ag);
        if (!is_sys) {
            int64_t tpos = tcol >= 0 && b.pos_of[tcol] >= 0 ? b.pos_of[tcol] : -1;
            scan->u.scan.topk = agg_topk_hint(q, scan, ag, pred, n_wexprs, tpos);
        }
        if (having) {
            top = plan_on(q, QPL_FILTER, top, top);
            top->u.filter.exprs = arena_alloc(&q->arena, sizeof(qbx *));
            top->u.filter.exprs[0] = having;
            top->u.filter.n_exprs = 1;
            top->u.filter.names = arena_alloc(&q->arena, sizeof(char *));
            top->u.filter.names[0] = expr_name_str(&b, st->having, false);
        }
    }
    /* the projection; above an aggregate it is left out when it would only rename columns */
    qplan *pr = new_plan(q, QPL_PROJECT, top);
    pr->cols = o.v;
    pr->n_cols = n_visible;
    pr->n_hidden = o.n - n_visible;
    if (is_agg && o.n == n_visible && o.n == top->n_cols) {
        bool ident = true;
        for (size_t i = 0; i < o.n && ident; i++)
            ident = o.v[i].expr->kind == QB_COL && o.v[i].expr->col == i;
        if (ident) {
            qout_col *cols = arena_alloc(&q->arena, o.n * sizeof *cols);
            for (size_t i = 0; i < o.n; i++)
                cols[i] = (qout_col){.name = o.v[i].name,
                                     .type = top->cols[i].type,
                                     .json = top->cols[i].json,
                                     .src_kind = o.v[i].src_kind};
            top->cols = cols; /* rename in place: Aggregate (or HAVING's filter) is the output */
            if (top->kind == QPL_FILTER) top->input->cols = cols;
            pr = NULL;
        }
    }
    if (pr) top = pr;
    if (st->distinct) {
        qplan *d = plan_on(q, QPL_DISTINCT, top, top);
        d->n_hidden = 0;
        d->u.agg.n_keys = top->n_cols;
        d->u.agg.keys = arena_alloc(&q->arena, (top->n_cols ? top->n_cols : 1) * sizeof(qbx *));
        for (size_t i = 0; i < top->n_cols; i++) {
            qbx *x = new_bx(&b, QB_COL, top->cols[i].type, 0);
            x->col = (uint32_t)i;
            d->u.agg.keys[i] = x;
        }
        top = d;
    }
    if (st->n_order) {
        qplan *s = plan_on(q, QPL_SORT, top, top);
        s->u.sort.keys = keys;
        s->u.sort.n_keys = st->n_order;
        if (st->n_part_keys && st->n_part_keys < st->n_order && st->part_limit > 0) {
            s->u.sort.n_part_keys = st->n_part_keys;
            s->u.sort.part_limit = st->part_limit;
            if (!is_agg && !st->distinct && !is_sys && !n_wexprs && pr && s->input == pr && (pr->input == scan || pr->input->input == scan)) {
                int64_t tpos = tcol >= 0 && b.pos_of[tcol] >= 0 ? b.pos_of[tcol] : -1;
                scan->u.scan.topk = topk_hint(q, st, scan, pred, &o, keys, tpos);
            }
        }
        top = s;
    }
    if (st->limit >= 0 || st->offset > 0) {
        qplan *l = plan_on(q, QPL_LIMIT, top, top);
        l->u.limit.limit = st->limit;
        l->u.limit.offset = st->offset;
        top = l;
    }
    *out = top;
    return SILT_OK;
}

int query__plan(qctx *q, const qstmt *st, qplan **out) {
    *out = NULL;
    switch (st->kind) {
        case QS_SELECT:
            return plan_select(q, st, out);
        case QS_SHOW_TABLES:
            return plan_show_tables(q, out);
        case QS_SHOW_COLUMNS:
            return plan_show_columns(q, st, out);
        case QS_UNION: /* query__run materializes the arms first */
            break;
    }
    return SILT_FAIL(q->err, SILT_EINVAL, "unsupported statement");
}

/* ------------------------------------------------------------------ explain */

static const qplan *find_scan(const qplan *p) {
    while (p && p->kind != QPL_SCAN && p->kind != QPL_VALUES) p = p->input;
    return p;
}

static const char *scan_col_name(const qplan *scan, uint32_t pos) {
    if (scan && scan->kind == QPL_VALUES) return pos < scan->n_cols ? scan->cols[pos].name : "?";
    if (!scan || pos >= scan->u.scan.n_cols) return "?";
    return scan->u.scan.tbl->cols[scan->u.scan.col_idx[pos]].name;
}

static void explain_pred(const qpred *p, const qplan *scan, buf *b) {
    switch (p->kind) {
        case QP_ALL:
            buf_puts(b, "true");
            return;
        case QP_NONE:
            buf_puts(b, "false");
            return;
        case QP_NOT_NULL:
            buf_printf(b, "%s IS NOT NULL", scan_col_name(scan, p->col));
            return;
        case QP_IS_NULL:
            buf_printf(b, "%s IS NULL", scan_col_name(scan, p->col));
            return;
        case QP_CMP:
            buf_printf(b, "%s %s ", scan_col_name(scan, p->col), query__op_name(p->op));
            switch (p->kernel) {
                case QK_I64:
                case QK_F64_I64:
                    buf_put_i64(b, p->c.i);
                    break;
                case QK_U64:
                case QK_F64_U64:
                    buf_put_u64(b, p->c.u);
                    break;
                case QK_F64:
                    buf_put_double(b, p->c.f);
                    break;
                case QK_BOOL:
                    buf_puts(b, p->c.i ? "true" : "false");
                    break;
                case QK_STR:
                    buf_putc(b, '\'');
                    buf_append(b, p->c.s.p, p->c.s.n);
                    buf_putc(b, '\'');
                    break;
            }
            return;
        case QP_AND:
        case QP_OR:
            buf_putc(b, '(');
            for (size_t i = 0; i < p->n_kids; i++) {
                if (i) buf_puts(b, p->kind == QP_AND ? " AND " : " OR ");
                explain_pred(p->kids[i], scan, b);
            }
            buf_putc(b, ')');
            return;
    }
}

static void explain_cols(const qplan *p, buf *b) {
    for (size_t i = 0; i < p->n_cols; i++) buf_printf(b, "%s%s", i ? ", " : "", p->cols[i].name);
}

void query__plan_explain(const qplan *p, buf *b) {
    const qplan *scan = find_scan(p);
    for (int depth = 0; p; p = p->input, depth++) {
        for (int i = 0; i < depth; i++) buf_puts(b, "  ");
        switch (p->kind) {
            case QPL_SCAN:
                buf_printf(b, "Scan: %s [", p->u.scan.table);
                for (size_t i = 0; i < p->u.scan.n_cols; i++)
                    buf_printf(b, "%s%s", i ? ", " : "", scan_col_name(p, (uint32_t)i));
                buf_puts(b, "]");
                if (p->u.scan.t_min != INT64_MIN || p->u.scan.t_max != INT64_MAX)
                    buf_printf(b, " time=[%lld, %lld]", (long long)p->u.scan.t_min,
                               (long long)p->u.scan.t_max);
                break;
            case QPL_FILTER:
                buf_puts(b, "Filter: ");
                if (p->u.filter.pred) explain_pred(p->u.filter.pred, scan, b);
                for (size_t i = 0; i < p->u.filter.n_exprs; i++)
                    buf_printf(b, "%s%s", i || p->u.filter.pred ? " AND " : "",
                               p->u.filter.names ? p->u.filter.names[i] : "?");
                break;
            case QPL_PROJECT:
                buf_puts(b, "Projection: ");
                explain_cols(p, b);
                break;
            case QPL_AGGREGATE:
                buf_puts(b, "Aggregate: ");
                explain_cols(p, b);
                if (p->u.agg.n_keys) {
                    buf_puts(b, " group by [");
                    for (size_t i = 0; i < p->u.agg.n_keys; i++)
                        buf_printf(b, "%s%s", i ? ", " : "", p->cols[i].name);
                    buf_putc(b, ']');
                }
                break;
            case QPL_SORT:
                buf_puts(b, "Sort: ");
                for (size_t i = 0; i < p->u.sort.n_keys; i++) {
                    const qsort_key *k = &p->u.sort.keys[i];
                    buf_printf(b, "%s%s %s", i ? ", " : "", p->cols[k->col].name,
                               k->desc ? "DESC" : "ASC");
                    if (k->nulls_first != k->desc)
                        buf_puts(b, k->nulls_first ? " NULLS FIRST" : " NULLS LAST");
                }
                break;
            case QPL_DISTINCT:
                buf_puts(b, "Distinct: ");
                explain_cols(p, b);
                break;
            case QPL_LIMIT:
                buf_printf(b, "Limit: %lld offset %lld", (long long)p->u.limit.limit,
                           (long long)p->u.limit.offset);
                break;
            case QPL_VALUES:
                buf_printf(b, "Values: %zu rows: ", p->u.values.n_rows);
                explain_cols(p, b);
                break;
        }
        buf_putc(b, '\n');
    }
}
