/* SPDX-License-Identifier: MIT
 *
 * The planner: binds a parsed statement to a table's schema and builds the logical plan
 *   Scan -> [Filter] -> Project | Aggregate -> [Sort] -> [Limit]      (SELECT)
 *   Values -> ...                                                     (SHOW)
 * as a chain of qplan nodes (the root is the last operator). Binding does:
 *   - name resolution: unquoted names were folded to lower case by the lexer; a name must
 *     match a column exactly (PostgreSQL / DataFusion rules);
 *   - constant folding: literals, unary minus, + and - over constants, now(), INTERVAL '...',
 *     TIMESTAMP '...';
 *   - type checking of comparisons, and the choice of an exact comparison kernel for each
 *     (column type, constant type) pair (see bind_leaf);
 *   - NOT push-down (invariant 2 of query_int.h) and simplification of constant branches;
 *   - extraction of the time range the predicate allows, for the scan request.
 * Sort sits above Project but keys on a scan column (time), which need not be projected: the
 * executor keeps the key beside the projected values, as DataFusion keeps hidden sort
 * columns.
 */
#include "query_int.h"

#include <math.h>
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
        case QX_CMP:
        case QX_AND:
        case QX_OR:
        case QX_NOT:
        case QX_IS_NULL:
            return bfail(b, SILT_EINVAL,
                         "a condition cannot be used as a value here (comparing conditions is "
                         "not supported yet)");
    }
    return bfail(b, SILT_EINVAL, "unsupported expression");
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

/* A VALUES node of string columns, filled row by row with values_set. */
static qplan *values_new(qctx *q, const char *const *names, size_t n_cols, size_t n_rows) {
    qplan *p = new_plan(q, QPL_VALUES, NULL);
    p->n_cols = n_cols;
    p->cols = arena_alloc(&q->arena, n_cols * sizeof *p->cols);
    p->u.values.vecs = arena_alloc(&q->arena, n_cols * sizeof *p->u.values.vecs);
    p->u.values.n_rows = n_rows;
    for (size_t c = 0; c < n_cols; c++) {
        p->cols[c] = (qout_col){.name = names[c], .type = QT_STRING};
        memset(&p->u.values.vecs[c], 0, sizeof p->u.values.vecs[c]);
        p->u.values.vecs[c].str = arena_alloc(&q->arena, (n_rows ? n_rows : 1) * sizeof(str_view));
    }
    return p;
}

static void values_set(qplan *p, size_t col, size_t row, const char *s) {
    ((str_view *)p->u.values.vecs[col].str)[row] = sv_from(s);
}

static int plan_show_tables(qctx *q, qplan **out) {
    char **names = NULL;
    size_t n = 0;
    silt_err serr = {0};
    int rc = q->src->list_tables(q->src, q->db, &names, &n, &serr);
    if (rc < 0) {
        if (q->err) *q->err = serr;
        return rc;
    }
    static const char *const cols[] = {"table_catalog", "table_schema", "table_name", "table_type"};
    qplan *p = values_new(q, cols, 4, n);
    for (size_t i = 0; i < n; i++) {
        values_set(p, 0, i, "public");
        values_set(p, 1, i, "iox");
        values_set(p, 2, i, arena_strndup(&q->arena, names[i], strlen(names[i])));
        values_set(p, 3, i, "BASE TABLE");
        free(names[i]);
    }
    free(names);
    *out = p;
    return SILT_OK;
}

/* Arrow type names as InfluxDB 3 shows them in information_schema. */
static const char *arrow_type_name(const query_column *c) {
    if (c->kind == QCOL_TAG) return "Dictionary(Int32, Utf8)";
    if (c->kind == QCOL_TIME) return "Timestamp(Nanosecond, None)";
    switch (c->type) {
        case LP_FLOAT:
            return "Float64";
        case LP_INT:
            return "Int64";
        case LP_UINT:
            return "UInt64";
        case LP_STRING:
            return "Utf8";
        case LP_BOOL:
            return "Boolean";
    }
    return "Null";
}

static int plan_show_columns(qctx *q, const qstmt *st, qplan **out) {
    int rc = load_table(q, st->table);
    if (rc < 0) return rc;
    static const char *const cols[] = {"table_catalog", "table_schema", "table_name",
                                       "column_name",   "data_type",    "is_nullable"};
    size_t n = q->tbl.n_cols;
    qplan *p = values_new(q, cols, 6, n);
    for (size_t i = 0; i < n; i++) {
        const query_column *c = &q->tbl.cols[i];
        values_set(p, 0, i, "public");
        values_set(p, 1, i, "iox");
        values_set(p, 2, i, st->table);
        values_set(p, 3, i, c->name);
        values_set(p, 4, i, arrow_type_name(c));
        values_set(p, 5, i, c->kind == QCOL_TIME ? "NO" : "YES");
    }
    *out = p;
    return SILT_OK;
}

/* Output column list under construction. */
typedef struct outs {
    qout_col *v;
    qagg *aggs;
    size_t n, cap;
} outs;

static void outs_push(qctx *q, outs *o, qout_col c, qagg a) {
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 8;
        qout_col *v = arena_alloc(&q->arena, cap * sizeof *v);
        qagg *g = arena_alloc(&q->arena, cap * sizeof *g);
        if (o->n) {
            memcpy(v, o->v, o->n * sizeof *v);
            memcpy(g, o->aggs, o->n * sizeof *g);
        }
        o->v = v;
        o->aggs = g;
        o->cap = cap;
    }
    o->v[o->n] = c;
    o->aggs[o->n] = a;
    o->n++;
}

static int bind_select_list(binder *b, const qstmt *st, outs *o, bool *is_agg) {
    qctx *q = b->q;
    bool any_agg = false, any_plain = false;
    for (size_t i = 0; i < st->n_items; i++) {
        const qselect_item *it = &st->items[i];
        const qexpr *e = it->expr;
        if (e->kind == QX_STAR) {
            any_plain = true;
            for (size_t c = 0; c < b->tbl->n_cols; c++) {
                const query_column *col = &b->tbl->cols[c];
                outs_push(q, o,
                          (qout_col){.name = col->name,
                                     .type = query__col_type(col),
                                     .src = scan_pos(b, c)},
                          (qagg){0});
            }
        } else if (e->kind == QX_COLUMN) {
            any_plain = true;
            size_t c = 0;
            int rc = resolve_col(b, e->u.col.name, &c);
            if (rc < 0) return rc;
            const query_column *col = &b->tbl->cols[c];
            outs_push(q, o,
                      (qout_col){.name = it->alias ? it->alias : col->name,
                                 .type = query__col_type(col),
                                 .src = scan_pos(b, c)},
                      (qagg){0});
        } else if (e->kind == QX_FUNC && strcmp(e->u.func.name, "count") == 0) {
            any_agg = true;
            if (e->u.func.n != 1)
                return bfail(b, SILT_EINVAL,
                             "count() takes one argument: count(*) or count(column)");
            const qexpr *a = e->u.func.args[0];
            qagg g = {.kind = QAGG_COUNT_STAR};
            const char *name = "count(*)";
            if (a->kind == QX_COLUMN) {
                size_t c = 0;
                int rc = resolve_col(b, a->u.col.name, &c);
                if (rc < 0) return rc;
                g.kind = QAGG_COUNT_COL;
                g.col = scan_pos(b, c);
                /* DataFusion names it count(table.column) */
                size_t n = strlen(b->table) + strlen(b->tbl->cols[c].name) + 9;
                char *s = arena_alloc(&q->arena, n);
                snprintf(s, n, "count(%s.%s)", b->table, b->tbl->cols[c].name);
                name = s;
            } else if (a->kind != QX_STAR) {
                return bfail(b, SILT_EINVAL, "count() takes * or a column name");
            }
            outs_push(q, o, (qout_col){.name = it->alias ? it->alias : name, .type = QT_INT}, g);
        } else if (e->kind == QX_FUNC) {
            qval v;
            int rc = fold_func(b, e, &v); /* reports unknown functions */
            if (rc < 0) return rc;
            return bfail(b, SILT_EINVAL, "function '%.*s' is not supported in the select list yet",
                         PNAME(e->u.func.name));
        } else {
            return bfail(b, SILT_EINVAL,
                         "only columns, * and count() are supported in the select list");
        }
    }
    if (any_agg && any_plain)
        return bfail(b, SILT_EINVAL,
                     "cannot mix count() with plain columns without GROUP BY (GROUP BY is not "
                     "supported yet)");
    /* output names must be unique (DataFusion: "projections require unique expression names") */
    for (size_t i = 0; i < o->n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->v[i].name, o->v[j].name) == 0)
                return bfail(b, SILT_EINVAL,
                             "duplicate output column name '%.*s'; use AS to rename one",
                             PNAME(o->v[i].name));
    *is_agg = any_agg;
    return SILT_OK;
}

/* ORDER BY: this version sorts by the time column only (or an alias of it). */
static int bind_order(binder *b, const qstmt *st, const outs *o, bool is_agg, uint32_t *key,
                      bool *desc) {
    if (is_agg) return bfail(b, SILT_EINVAL, "ORDER BY is not supported with count()");
    if (st->n_order > 1)
        return bfail(b, SILT_EINVAL, "ORDER BY supports one key (time) in this version");
    const qexpr *e = st->order[0].expr;
    *desc = st->order[0].desc;
    if (e->kind != QX_COLUMN)
        return bfail(b, SILT_EINVAL, "ORDER BY supports only the time column in this version");
    const char *name = e->u.col.name;
    /* an output alias wins over a table column of the same name, as in PostgreSQL */
    for (size_t i = 0; i < o->n; i++) {
        if (strcmp(o->v[i].name, name) != 0) continue;
        if (o->v[i].type != QT_TIME)
            return bfail(b, SILT_EINVAL,
                         "ORDER BY supports only the time column in this version, not '%.*s'",
                         PNAME(name));
        *key = o->v[i].src;
        return SILT_OK;
    }
    size_t c = 0;
    int rc = resolve_col(b, name, &c);
    if (rc < 0) return rc;
    if (b->tbl->cols[c].kind != QCOL_TIME)
        return bfail(b, SILT_EINVAL,
                     "ORDER BY supports only the time column in this version, not '%.*s'",
                     PNAME(name));
    *key = scan_pos(b, c);
    return SILT_OK;
}

static int plan_select(qctx *q, const qstmt *st, qplan **out) {
    int rc = load_table(q, st->table);
    if (rc < 0) return rc;
    binder b;
    binder_init(&b, q, &q->tbl, st->table);

    outs o = {0};
    bool is_agg = false;
    rc = bind_select_list(&b, st, &o, &is_agg);
    if (rc < 0) return rc;

    qpred *pred = NULL;
    if (st->where) {
        rc = bind_pred(&b, st->where, false, &pred);
        if (rc < 0) return rc;
    }
    uint32_t sort_key = 0;
    bool desc = false;
    if (st->n_order) {
        rc = bind_order(&b, st, &o, is_agg, &sort_key, &desc);
        if (rc < 0) return rc;
    }
    /* something to scan even for count(*): the time column carries the row count */
    ssize_t tcol = find_col(&b, "time");
    if (tcol >= 0 && q->tbl.cols[tcol].kind != QCOL_TIME) tcol = -1;
    if (b.n_scan == 0 && q->tbl.n_cols > 0) scan_pos(&b, tcol >= 0 ? (size_t)tcol : 0);

    qplan *scan = new_plan(q, QPL_SCAN, NULL);
    scan->u.scan.table = st->table;
    scan->u.scan.tbl = &q->tbl;
    scan->u.scan.col_idx = b.scan;
    scan->u.scan.n_cols = b.n_scan;
    scan->u.scan.t_min = INT64_MIN;
    scan->u.scan.t_max = INT64_MAX;
    qplan *top = scan;
    if (pred) {
        int64_t tpos = tcol >= 0 && b.pos_of[tcol] >= 0 ? b.pos_of[tcol] : -1;
        pred_range(pred, tpos, &scan->u.scan.t_min, &scan->u.scan.t_max);
        if (pred->kind != QP_ALL) {
            top = new_plan(q, QPL_FILTER, top);
            top->u.filter.pred = pred;
        }
    }
    if (is_agg) {
        top = new_plan(q, QPL_AGGREGATE, top);
        top->u.agg.aggs = o.aggs;
    } else {
        top = new_plan(q, QPL_PROJECT, top);
    }
    top->cols = o.v;
    top->n_cols = o.n;
    if (st->n_order) {
        qplan *s = new_plan(q, QPL_SORT, top);
        s->cols = top->cols;
        s->n_cols = top->n_cols;
        s->u.sort.key = sort_key;
        s->u.sort.desc = desc;
        top = s;
    }
    if (st->limit >= 0 || st->offset > 0) {
        qplan *l = new_plan(q, QPL_LIMIT, top);
        l->cols = top->cols;
        l->n_cols = top->n_cols;
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
    }
    return SILT_FAIL(q->err, SILT_EINVAL, "unsupported statement");
}

/* ------------------------------------------------------------------ explain */

static const qplan *find_scan(const qplan *p) {
    while (p && p->kind != QPL_SCAN) p = p->input;
    return p;
}

static const char *scan_col_name(const qplan *scan, uint32_t pos) {
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
                explain_pred(p->u.filter.pred, scan, b);
                break;
            case QPL_PROJECT:
                buf_puts(b, "Projection: ");
                explain_cols(p, b);
                break;
            case QPL_AGGREGATE:
                buf_puts(b, "Aggregate: ");
                explain_cols(p, b);
                break;
            case QPL_SORT:
                buf_printf(b, "Sort: %s %s", scan_col_name(scan, p->u.sort.key),
                           p->u.sort.desc ? "DESC" : "ASC");
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
