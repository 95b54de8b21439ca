/* SPDX-License-Identifier: MIT
 *
 * The vectorized expression evaluator: a bound expression (qbx, query_int.h) is evaluated a
 * batch at a time. Every node produces one column vector (typed values plus validity) for
 * the selected rows of the batch, computed from its children's vectors by one tight loop
 * chosen once per node and batch by the result type (switch outside the loop, never inside).
 * Nothing is allocated per row: result arrays come from the per-batch arena, strings made by
 * functions too. The tree is walked once per batch, not once per row.
 *
 * Semantics (SQL / DataFusion): NULL in, NULL out for arithmetic, comparisons and functions
 * (except coalesce, concat and IS NULL); AND / OR / NOT use three-valued logic; integer
 * + - * / % fail on overflow and on division by zero (SILT_EINVAL with the position), floats
 * follow IEEE 754; CASE evaluates each THEN / ELSE only on the rows that reach it, so a
 * division guarded by CASE never fails on the rows it excludes.
 */
#include "query_int.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define VALID(v, i) (!(v)->valid || (v)->valid[i])

static __attribute__((noinline, format(printf, 3, 4))) int eval_fail(qeval *ev, uint32_t pos,
                                                                     const char *fmt, ...) {
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    uint32_t line = 1, col = 1;
    if (ev->sql) text_line_col(ev->sql, pos, &line, &col);
    return SILT_FAIL(ev->err, SILT_EINVAL, "%s at line %u, column %u", msg, line, col);
}

/* A fresh result vector of type t for n_rows rows: data and a valid array. */
static void vec_alloc(qeval *ev, qtype t, size_t n_rows, query_vec *out, void **data,
                      uint8_t **valid) {
    size_t n = n_rows ? n_rows : 1;
    void *d = arena_alloc(ev->a, n * query__value_size(t));
    uint8_t *v = arena_alloc(ev->a, n);
    memset(out, 0, sizeof *out);
    switch (t) {
        case QT_BOOL:
            out->b = d;
            break;
        case QT_UINT:
            out->u64 = d;
            break;
        case QT_FLOAT:
            out->f64 = d;
            break;
        case QT_STRING:
            out->str = d;
            break;
        default:
            out->i64 = d;
            break;
    }
    out->valid = v;
    *data = d;
    *valid = v;
}

static const void *vec_ptr(const query_vec *v, qtype t) {
    switch (t) {
        case QT_BOOL:
            return v->b;
        case QT_UINT:
            return v->u64;
        case QT_FLOAT:
            return v->f64;
        case QT_STRING:
            return v->str;
        case QT_NULL:
            return NULL;
        default:
            return v->i64;
    }
}

/* ------------------------------------------------------------------ casts */

static int cast_to_string(qeval *ev, const qbx *e, qtype from, const query_vec *x,
                          const uint32_t *sel, size_t n, str_view *o) {
    (void)e;
    buf tmp = {0};
    for (size_t k = 0; k < n; k++) {
        uint32_t i = sel[k];
        if (!VALID(x, i)) continue;
        buf_reset(&tmp);
        switch (from) {
            case QT_BOOL:
                buf_puts(&tmp, x->b[i] ? "true" : "false");
                break;
            case QT_INT:
            case QT_INTERVAL:
                buf_put_i64(&tmp, x->i64[i]);
                break;
            case QT_UINT:
                buf_put_u64(&tmp, x->u64[i]);
                break;
            case QT_FLOAT:
                if (isnan(x->f64[i]))
                    buf_puts(&tmp, "NaN");
                else if (isinf(x->f64[i]))
                    buf_puts(&tmp, x->f64[i] > 0 ? "inf" : "-inf");
                else
                    buf_put_double(&tmp, x->f64[i]);
                break;
            case QT_TIME: {
                char t[48];
                buf_append(&tmp, t, time_format_rfc3339(t, x->i64[i], false));
                break;
            }
            default:
                break;
        }
        o[i] = (str_view){arena_strndup(ev->a, (const char *)tmp.p, tmp.len), tmp.len};
    }
    buf_free(&tmp);
    return SILT_OK;
}

static bool parse_i64(str_view s, int64_t *out) {
    char tmp[32];
    while (s.n && (*s.p == ' ')) s.p++, s.n--;
    while (s.n && s.p[s.n - 1] == ' ') s.n--;
    if (s.n == 0 || s.n >= sizeof tmp) return false;
    memcpy(tmp, s.p, s.n);
    tmp[s.n] = 0;
    char *end;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

static bool parse_f64(str_view s, double *out) {
    char tmp[64];
    while (s.n && (*s.p == ' ')) s.p++, s.n--;
    while (s.n && s.p[s.n - 1] == ' ') s.n--;
    if (s.n == 0 || s.n >= sizeof tmp) return false;
    memcpy(tmp, s.p, s.n);
    tmp[s.n] = 0;
    char *end;
    double v = strtod(tmp, &end);
    if (*end) return false;
    *out = v;
    return true;
}

static int eval_cast(qeval *ev, const qbx *e, const query_vec *x, qtype from, const uint32_t *sel,
                     size_t n, size_t n_rows, query_vec *out) {
    qtype to = e->type;
    void *d;
    uint8_t *ov;
    vec_alloc(ev, to, n_rows, out, &d, &ov);
    for (size_t k = 0; k < n; k++) ov[sel[k]] = VALID(x, sel[k]);
    if (from == QT_NULL) {
        for (size_t k = 0; k < n; k++) ov[sel[k]] = 0;
        return SILT_OK;
    }
    if (to == QT_STRING) return cast_to_string(ev, e, from, x, sel, n, d);
    for (size_t k = 0; k < n; k++) {
        uint32_t i = sel[k];
        if (!ov[i]) continue;
        switch (to) {
            case QT_FLOAT: {
                double *o = d;
                if (from == QT_INT || from == QT_TIME)
                    o[i] = (double)x->i64[i];
                else if (from == QT_UINT)
                    o[i] = (double)x->u64[i];
                else if (from == QT_BOOL)
                    o[i] = x->b[i] ? 1 : 0;
                else if (from == QT_STRING) {
                    if (!parse_f64(x->str[i], &o[i]))
                        return eval_fail(ev, e->pos, "cannot cast string '%.*s' to double",
                                         (int)(x->str[i].n > 60 ? 60 : x->str[i].n), x->str[i].p);
                } else
                    o[i] = x->f64[i];
                break;
            }
            case QT_INT:
            case QT_TIME: {
                int64_t *o = d;
                if (from == QT_INT || from == QT_TIME || from == QT_INTERVAL) {
                    o[i] = x->i64[i];
                } else if (from == QT_UINT) {
                    if (x->u64[i] > INT64_MAX)
                        return eval_fail(ev, e->pos, "integer overflow in cast to %s",
                                         query__type_name(to));
                    o[i] = (int64_t)x->u64[i];
                } else if (from == QT_FLOAT) {
                    double f = x->f64[i];
                    if (!(f >= -0x1p63 && f < 0x1p63))
                        return eval_fail(ev, e->pos, "cannot cast %g to %s", f,
                                         query__type_name(to));
                    o[i] = (int64_t)f;
                } else if (from == QT_BOOL) {
                    o[i] = x->b[i] != 0;
                } else if (from == QT_STRING) {
                    bool ok = to == QT_TIME
                                  ? time_parse_rfc3339(x->str[i].p, x->str[i].n, &o[i]) == SILT_OK
                                  : parse_i64(x->str[i], &o[i]);
                    if (!ok)
                        return eval_fail(ev, e->pos, "cannot cast string '%.*s' to %s",
                                         (int)(x->str[i].n > 60 ? 60 : x->str[i].n), x->str[i].p,
                                         query__type_name(to));
                }
                break;
            }
            case QT_UINT: {
                uint64_t *o = d;
                if (from == QT_UINT) {
                    o[i] = x->u64[i];
                } else if (from == QT_INT || from == QT_TIME) {
                    if (x->i64[i] < 0)
                        return eval_fail(ev, e->pos, "integer overflow in cast to unsigned");
                    o[i] = (uint64_t)x->i64[i];
                } else if (from == QT_FLOAT) {
                    double f = x->f64[i];
                    if (!(f > -1 && f < 0x1p64))
                        return eval_fail(ev, e->pos, "cannot cast %g to unsigned", f);
                    o[i] = (uint64_t)f;
                } else if (from == QT_BOOL) {
                    o[i] = x->b[i] != 0;
                } else {
                    int64_t v;
                    if (!parse_i64(x->str[i], &v) || v < 0)
                        return eval_fail(ev, e->pos, "cannot cast string '%.*s' to unsigned",
                                         (int)(x->str[i].n > 60 ? 60 : x->str[i].n), x->str[i].p);
                    o[i] = (uint64_t)v;
                }
                break;
            }
            case QT_BOOL: {
                uint8_t *o = d;
                if (from == QT_BOOL)
                    o[i] = x->b[i];
                else if (from == QT_INT)
                    o[i] = x->i64[i] != 0;
                else if (from == QT_UINT)
                    o[i] = x->u64[i] != 0;
                else if (from == QT_FLOAT)
                    o[i] = x->f64[i] != 0;
                else if (from == QT_STRING) {
                    str_view s = x->str[i];
                    if (sv_ieq_cstr(s, "true") || sv_ieq_cstr(s, "t") || sv_eq_cstr(s, "1"))
                        o[i] = 1;
                    else if (sv_ieq_cstr(s, "false") || sv_ieq_cstr(s, "f") || sv_eq_cstr(s, "0"))
                        o[i] = 0;
                    else
                        return eval_fail(ev, e->pos, "cannot cast string '%.*s' to boolean",
                                         (int)(s.n > 60 ? 60 : s.n), s.p);
                }
                break;
            }
            default:
                return eval_fail(ev, e->pos, "unsupported cast");
        }
    }
    return SILT_OK;
}

/* ------------------------------------------------------------------ arithmetic */

static int overflow(qeval *ev, const qbx *e) {
    return eval_fail(ev, e->pos, "integer overflow");
}

static int div_zero(qeval *ev, const qbx *e) {
    return eval_fail(ev, e->pos, "division by zero");
}

/* Both operands of one type t (invariant 5). Time +- interval and time - time are int64. */
static int eval_arith(qeval *ev, const qbx *e, const query_vec *a, const query_vec *b, qtype t,
                      const uint32_t *sel, size_t n, size_t n_rows, query_vec *out) {
    void *d;
    uint8_t *ov;
    vec_alloc(ev, e->type, n_rows, out, &d, &ov);
    qop op = (qop)e->op;
    for (size_t k = 0; k < n; k++) ov[sel[k]] = VALID(a, sel[k]) && VALID(b, sel[k]);
    if (op == QOP_CONCAT) {
        str_view *o = d;
        for (size_t k = 0; k < n; k++) {
            uint32_t i = sel[k];
            if (!ov[i]) continue;
            str_view x = a->str[i], y = b->str[i];
            char *s = arena_alloc(ev->a, x.n + y.n + 1);
            if (x.n) memcpy(s, x.p, x.n);
            if (y.n) memcpy(s + x.n, y.p, y.n);
            o[i] = (str_view){s, x.n + y.n};
        }
        return SILT_OK;
    }
    switch (t) {
        case QT_FLOAT: {
            const double *x = a->f64, *y = b->f64;
            double *o = d;
#define FLOOP(EXPR)                                                                                \
    for (size_t k = 0; k < n; k++) {                                                               \
        uint32_t i = sel[k];                                                                       \
        o[i] = EXPR;                                                                               \
    }
            switch (op) {
                case QOP_ADD:
                    FLOOP(x[i] + y[i]);
                    break;
                case QOP_SUB:
                    FLOOP(x[i] - y[i]);
                    break;
                case QOP_MUL:
                    FLOOP(x[i] * y[i]);
                    break;
                case QOP_DIV:
                    FLOOP(x[i] / y[i]);
                    break;
                default:
                    FLOOP(fmod(x[i], y[i]));
                    break;
            }
#undef FLOOP
            return SILT_OK;
        }
        case QT_INT:
        case QT_TIME:
        case QT_INTERVAL: {
            const int64_t *x = a->i64, *y = b->i64;
            int64_t *o = d;
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                if (!ov[i]) {
                    o[i] = 0;
                    continue;
                }
                bool ovf = false;
                switch (op) {
                    case QOP_ADD:
                        ovf = __builtin_add_overflow(x[i], y[i], &o[i]);
                        break;
                    case QOP_SUB:
                        ovf = __builtin_sub_overflow(x[i], y[i], &o[i]);
                        break;
                    case QOP_MUL:
                        ovf = __builtin_mul_overflow(x[i], y[i], &o[i]);
                        break;
                    case QOP_DIV:
                        if (y[i] == 0) return div_zero(ev, e);
                        if (x[i] == INT64_MIN && y[i] == -1) return overflow(ev, e);
                        o[i] = x[i] / y[i];
                        break;
                    default:
                        if (y[i] == 0) return div_zero(ev, e);
                        o[i] = y[i] == -1 ? 0 : x[i] % y[i];
                        break;
                }
                if (ovf) return overflow(ev, e);
            }
            return SILT_OK;
        }
        case QT_UINT: {
            const uint64_t *x = a->u64, *y = b->u64;
            uint64_t *o = d;
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                if (!ov[i]) {
                    o[i] = 0;
                    continue;
                }
                bool ovf = false;
                switch (op) {
                    case QOP_ADD:
                        ovf = __builtin_add_overflow(x[i], y[i], &o[i]);
                        break;
                    case QOP_SUB:
                        ovf = __builtin_sub_overflow(x[i], y[i], &o[i]);
                        break;
                    case QOP_MUL:
                        ovf = __builtin_mul_overflow(x[i], y[i], &o[i]);
                        break;
                    case QOP_DIV:
                        if (y[i] == 0) return div_zero(ev, e);
                        o[i] = x[i] / y[i];
                        break;
                    default:
                        if (y[i] == 0) return div_zero(ev, e);
                        o[i] = x[i] % y[i];
                        break;
                }
                if (ovf) return overflow(ev, e);
            }
            return SILT_OK;
        }
        default:
            return eval_fail(ev, e->pos, "unsupported arithmetic");
    }
}

/* ------------------------------------------------------------------ comparisons */

#define CMP_LOOP(C3)                                                                               \
    for (size_t k = 0; k < n; k++) {                                                               \
        uint32_t i = sel[k];                                                                       \
        if (!ov[i]) continue;                                                                      \
        o[i] = query__op_holds(op, (C3));                                                          \
    }

static void eval_cmp_rows(qop op, const query_vec *a, const query_vec *b, qtype t,
                          const uint32_t *sel, size_t n, uint8_t *o, const uint8_t *ov) {
    switch (t) {
        case QT_FLOAT: {
            const double *x = a->f64, *y = b->f64;
            switch (op) { /* IEEE: NaN compares unequal to everything */
                case QOP_EQ:
                    for (size_t k = 0; k < n; k++) o[sel[k]] = x[sel[k]] == y[sel[k]];
                    break;
                case QOP_NE:
                    for (size_t k = 0; k < n; k++) o[sel[k]] = x[sel[k]] != y[sel[k]];
                    break;
                case QOP_LT:
                    for (size_t k = 0; k < n; k++) o[sel[k]] = x[sel[k]] < y[sel[k]];
                    break;
                case QOP_LE:
                    for (size_t k = 0; k < n; k++) o[sel[k]] = x[sel[k]] <= y[sel[k]];
                    break;
                case QOP_GT:
                    for (size_t k = 0; k < n; k++) o[sel[k]] = x[sel[k]] > y[sel[k]];
                    break;
                default:
                    for (size_t k = 0; k < n; k++) o[sel[k]] = x[sel[k]] >= y[sel[k]];
                    break;
            }
            break;
        }
        case QT_INT:
        case QT_TIME:
        case QT_INTERVAL: {
            const int64_t *x = a->i64, *y = b->i64;
            switch (op) {
                case QOP_EQ:
                    for (size_t k = 0; k < n; k++) o[sel[k]] = x[sel[k]] == y[sel[k]];
                    break;
                case QOP_NE:
                    for (size_t k = 0; k < n; k++) o[sel[k]] = x[sel[k]] != y[sel[k]];
                    break;
                case QOP_LT:
                    for (size_t k = 0; k < n; k++) o[sel[k]] = x[sel[k]] < y[sel[k]];
                    break;
                case QOP_LE:
                    for (size_t k = 0; k < n; k++) o[sel[k]] = x[sel[k]] <= y[sel[k]];
                    break;
                case QOP_GT:
                    for (size_t k = 0; k < n; k++) o[sel[k]] = x[sel[k]] > y[sel[k]];
                    break;
                default:
                    for (size_t k = 0; k < n; k++) o[sel[k]] = x[sel[k]] >= y[sel[k]];
                    break;
            }
            break;
        }
        case QT_UINT: {
            const uint64_t *x = a->u64, *y = b->u64;
            CMP_LOOP(x[i] < y[i] ? -1 : x[i] > y[i]);
            break;
        }
        case QT_BOOL: {
            const uint8_t *x = a->b, *y = b->b;
            CMP_LOOP((int)(x[i] != 0) - (int)(y[i] != 0));
            break;
        }
        case QT_STRING: {
            const str_view *x = a->str, *y = b->str;
            CMP_LOOP(sv_cmp(x[i], y[i]));
            break;
        }
        default:
            break;
    }
}

/* ------------------------------------------------------------------ LIKE */

static inline unsigned char fold(unsigned char c, bool ci) {
    return ci && c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* SQL LIKE: % any run, _ one character (UTF-8 aware), backslash escapes. Greedy matching with
 * one backtrack point (the last %), linear in practice. */
static bool like_match(str_view s, str_view p, bool ci) {
    size_t si = 0, pi = 0, star_p = SIZE_MAX, star_s = 0;
    while (si < s.n) {
        if (pi < p.n && p.p[pi] == '%') {
            star_p = ++pi;
            star_s = si;
            continue;
        }
        if (pi < p.n && p.p[pi] == '_') {
            pi++;
            si++;
            while (si < s.n && ((unsigned char)s.p[si] & 0xC0) == 0x80) si++;
            continue;
        }
        if (pi < p.n) {
            size_t q = pi;
            if (p.p[q] == '\\' && q + 1 < p.n) q++;
            if (fold((unsigned char)p.p[q], ci) == fold((unsigned char)s.p[si], ci)) {
                pi = q + 1;
                si++;
                continue;
            }
        }
        if (star_p == SIZE_MAX) return false;
        pi = star_p;
        si = ++star_s;
        while (si < s.n && ((unsigned char)s.p[si] & 0xC0) == 0x80) si = ++star_s;
    }
    while (pi < p.n && p.p[pi] == '%') pi++;
    return pi == p.n;
}

/* ------------------------------------------------------------------ functions */

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

static int64_t trunc_time(int64_t t, int64_t unit) {
    if (unit > 0) {
        if (unit == 7 * NS_PER_DAY) { /* ISO weeks start on Monday; 1970-01-01 was a Thursday */
            int64_t off = 3 * NS_PER_DAY;
            return floor_div(t + off, unit) * unit - off;
        }
        return floor_div(t, unit) * unit;
    }
    int64_t day = floor_div(t, NS_PER_DAY);
    int y, m, d;
    time_civil(day, &y, &m, &d);
    return time_days_from_civil(y, unit == -2 ? 1 : m, 1) * NS_PER_DAY;
}

static size_t utf8_len(str_view s) {
    size_t n = 0;
    for (size_t i = 0; i < s.n; i++) n += ((unsigned char)s.p[i] & 0xC0) != 0x80;
    return n;
}

/* Byte offset of character c (0-based) of s, or s.n. */
static size_t utf8_off(str_view s, int64_t c) {
    size_t i = 0;
    while (i < s.n && c > 0) {
        i++;
        while (i < s.n && ((unsigned char)s.p[i] & 0xC0) == 0x80) i++;
        c--;
    }
    return i;
}

static int eval(qeval *ev, const qbx *e, const query_batch *b, const uint32_t *sel, size_t n,
                query_vec *out);

static int eval_func(qeval *ev, const qbx *e, const query_batch *b, const uint32_t *sel, size_t n,
                     query_vec *out) {
    size_t nr = b->n_rows;
    query_vec av[3];
    query_vec *args = av;
    if (e->n_args > 3) args = arena_alloc(ev->a, e->n_args * sizeof *args);
    for (size_t j = 0; j < e->n_args; j++) {
        int rc = eval(ev, e->args[j], b, sel, n, &args[j]);
        if (rc < 0) return rc;
    }
    void *d;
    uint8_t *ov;
    vec_alloc(ev, e->type, nr, out, &d, &ov);
    const query_vec *x = &args[0];
    qtype xt = e->n_args ? e->args[0]->type : QT_NULL;
    /* default validity: all arguments valid */
    for (size_t k = 0; k < n; k++) {
        uint32_t i = sel[k];
        bool v = true;
        for (size_t j = 0; j < e->n_args; j++) v = v && VALID(&args[j], i);
        ov[i] = v;
    }
    switch ((qfn)e->op) {
        case QF_ABS:
            if (xt == QT_FLOAT) {
                double *o = d;
                for (size_t k = 0; k < n; k++) o[sel[k]] = fabs(x->f64[sel[k]]);
            } else if (xt == QT_UINT) {
                uint64_t *o = d;
                for (size_t k = 0; k < n; k++) o[sel[k]] = x->u64[sel[k]];
            } else {
                int64_t *o = d;
                for (size_t k = 0; k < n; k++) {
                    uint32_t i = sel[k];
                    if (!ov[i]) continue;
                    if (x->i64[i] == INT64_MIN) return overflow(ev, e);
                    o[i] = x->i64[i] < 0 ? -x->i64[i] : x->i64[i];
                }
            }
            return SILT_OK;
        case QF_ROUND:
        case QF_FLOOR:
        case QF_CEIL:
        case QF_SQRT:
        case QF_LN:
        case QF_LOG10:
        case QF_POWER: {
            double *o = d;
            const double *v = x->f64;
            qfn f = (qfn)e->op;
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                double r;
                switch (f) {
                    case QF_ROUND:
                        if (e->n_args == 2) {
                            int64_t dg = args[1].i64[i];
                            double m = pow(10.0, (double)(dg < -30 ? -30 : dg > 30 ? 30 : dg));
                            r = round(v[i] * m) / m;
                        } else {
                            r = round(v[i]);
                        }
                        break;
                    case QF_FLOOR:
                        r = floor(v[i]);
                        break;
                    case QF_CEIL:
                        r = ceil(v[i]);
                        break;
                    case QF_SQRT:
                        r = sqrt(v[i]);
                        break;
                    case QF_LN:
                        r = log(v[i]);
                        break;
                    case QF_LOG10:
                        r = log10(v[i]);
                        break;
                    default:
                        r = pow(v[i], args[1].f64[i]);
                        break;
                }
                o[i] = r;
            }
            return SILT_OK;
        }
        case QF_COALESCE: {
            size_t es = query__value_size(e->type);
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                ov[i] = 0;
                for (size_t j = 0; j < e->n_args; j++) {
                    if (!VALID(&args[j], i)) continue;
                    memcpy((char *)d + i * es, (const char *)vec_ptr(&args[j], e->type) + i * es,
                           es);
                    ov[i] = 1;
                    break;
                }
            }
            return SILT_OK;
        }
        case QF_NULLIF: {
            size_t es = query__value_size(e->type);
            uint8_t *eq = arena_alloc(ev->a, nr ? nr : 1);
            for (size_t k = 0; k < n; k++) eq[sel[k]] = 0;
            uint8_t *both = arena_alloc(ev->a, nr ? nr : 1);
            for (size_t k = 0; k < n; k++)
                both[sel[k]] = VALID(&args[0], sel[k]) && VALID(&args[1], sel[k]);
            eval_cmp_rows(QOP_EQ, &args[0], &args[1], xt, sel, n, eq, both);
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                ov[i] = VALID(x, i) && !(both[i] && eq[i]);
                if (ov[i]) memcpy((char *)d + i * es, (const char *)vec_ptr(x, xt) + i * es, es);
            }
            return SILT_OK;
        }
        case QF_LOWER:
        case QF_UPPER: {
            str_view *o = d;
            bool up = e->op == QF_UPPER;
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                if (!ov[i]) continue;
                str_view s = x->str[i];
                char *t = arena_alloc(ev->a, s.n + 1);
                for (size_t j = 0; j < s.n; j++) {
                    char c = s.p[j];
                    if (up && c >= 'a' && c <= 'z') c = (char)(c - 32);
                    if (!up && c >= 'A' && c <= 'Z') c = (char)(c + 32);
                    t[j] = c;
                }
                o[i] = (str_view){t, s.n};
            }
            return SILT_OK;
        }
        case QF_LENGTH: {
            int64_t *o = d;
            for (size_t k = 0; k < n; k++)
                if (ov[sel[k]]) o[sel[k]] = (int64_t)utf8_len(x->str[sel[k]]);
            return SILT_OK;
        }
        case QF_CONCAT: { /* NULL arguments are skipped (PostgreSQL, DataFusion) */
            str_view *o = d;
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                size_t len = 0;
                for (size_t j = 0; j < e->n_args; j++)
                    if (VALID(&args[j], i)) len += args[j].str[i].n;
                char *t = arena_alloc(ev->a, len + 1);
                size_t w = 0;
                for (size_t j = 0; j < e->n_args; j++) {
                    if (!VALID(&args[j], i) || !args[j].str[i].n) continue;
                    memcpy(t + w, args[j].str[i].p, args[j].str[i].n);
                    w += args[j].str[i].n;
                }
                o[i] = (str_view){t, w};
                ov[i] = 1;
            }
            return SILT_OK;
        }
        case QF_SUBSTR: {
            str_view *o = d;
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                if (!ov[i]) continue;
                str_view s = x->str[i];
                int64_t start = args[1].i64[i]; /* 1-based, may be < 1 */
                int64_t end = INT64_MAX;        /* exclusive, 1-based */
                if (e->n_args == 3) {
                    int64_t len = args[2].i64[i];
                    if (len < 0) return eval_fail(ev, e->pos, "negative substring length");
                    if (__builtin_add_overflow(start, len, &end)) end = INT64_MAX;
                }
                if (start < 1) start = 1;
                if (end <= start) {
                    o[i] = (str_view){"", 0};
                    continue;
                }
                size_t from = utf8_off(s, start - 1);
                size_t to = end == INT64_MAX ? s.n : utf8_off(s, end - 1);
                if (to < from) to = from;
                o[i] = (str_view){s.p + from, to - from};
            }
            return SILT_OK;
        }
        case QF_DATE_TRUNC: {
            int64_t *o = d;
            const query_vec *t = &args[1];
            for (size_t k = 0; k < n; k++)
                if (ov[sel[k]]) o[sel[k]] = trunc_time(t->i64[sel[k]], e->c.v.i);
            return SILT_OK;
        }
        case QF_DATE_BIN: {
            int64_t *o = d;
            const query_vec *st = &args[0], *t = &args[1], *org = &args[2];
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                if (!ov[i]) continue;
                int64_t stride = st->i64[i];
                if (stride <= 0) return eval_fail(ev, e->pos, "date_bin stride must be positive");
                int64_t diff;
                if (__builtin_sub_overflow(t->i64[i], org->i64[i], &diff)) return overflow(ev, e);
                int64_t r = floor_div(diff, stride) * stride;
                if (__builtin_add_overflow(r, org->i64[i], &o[i])) return overflow(ev, e);
            }
            return SILT_OK;
        }
    }
    return eval_fail(ev, e->pos, "unsupported function");
}

/* ------------------------------------------------------------------ the walk */

/* Copy rows sel[0..n) of src into dst (same type t), validity included. */
static void copy_rows(query_vec *dst, uint8_t *dvalid, const query_vec *src, qtype t,
                      const uint32_t *sel, size_t n) {
    size_t es = query__value_size(t);
    char *d = (char *)vec_ptr(dst, t);
    const char *s = vec_ptr(src, t);
    for (size_t k = 0; k < n; k++) {
        uint32_t i = sel[k];
        dvalid[i] = s && VALID(src, i);
        if (dvalid[i]) memcpy(d + (size_t)i * es, s + (size_t)i * es, es);
    }
}

static int eval_case(qeval *ev, const qbx *e, const query_batch *b, const uint32_t *sel, size_t n,
                     query_vec *out) {
    size_t nr = b->n_rows;
    void *d;
    uint8_t *ov;
    vec_alloc(ev, e->type, nr, out, &d, &ov);
    for (size_t k = 0; k < n; k++) ov[sel[k]] = 0;
    uint32_t *rem = arena_alloc(ev->a, (n ? n : 1) * sizeof *rem);
    uint32_t *hit = arena_alloc(ev->a, (n ? n : 1) * sizeof *hit);
    memcpy(rem, sel, n * sizeof *rem);
    size_t n_rem = n;
    size_t n_when = (e->n_args - (e->has_else ? 1 : 0)) / 2;
    for (size_t w = 0; w < n_when && n_rem; w++) {
        size_t n_hit;
        int rc = query__expr_filter(ev, e->args[2 * w], b, rem, n_rem, hit, &n_hit);
        if (rc < 0) return rc;
        if (!n_hit) continue;
        query_vec v;
        rc = eval(ev, e->args[2 * w + 1], b, hit, n_hit, &v);
        if (rc < 0) return rc;
        copy_rows(out, ov, &v, e->type, hit, n_hit);
        /* remove the hits from rem (both ascending) */
        size_t h = 0, wr = 0;
        for (size_t k = 0; k < n_rem; k++) {
            while (h < n_hit && hit[h] < rem[k]) h++;
            if (h < n_hit && hit[h] == rem[k]) continue;
            rem[wr++] = rem[k];
        }
        n_rem = wr;
    }
    if (e->has_else && n_rem) {
        query_vec v;
        int rc = eval(ev, e->args[e->n_args - 1], b, rem, n_rem, &v);
        if (rc < 0) return rc;
        copy_rows(out, ov, &v, e->type, rem, n_rem);
    }
    return SILT_OK;
}

static int eval(qeval *ev, const qbx *e, const query_batch *b, const uint32_t *sel, size_t n,
                query_vec *out) {
    size_t nr = b->n_rows;
    void *d;
    uint8_t *ov;
    switch (e->kind) {
        case QB_COL: {
            const query_vec *v = &b->cols[e->col];
            if (vec_ptr(v, e->type)) {
                *out = *v;
                return SILT_OK;
            }
            vec_alloc(ev, e->type, nr, out, &d, &ov); /* no values: all NULL */
            memset(ov, 0, nr ? nr : 1);
            return SILT_OK;
        }
        case QB_CONST: {
            vec_alloc(ev, e->type, nr, out, &d, &ov);
            bool valid = e->c.type != QT_NULL;
            for (size_t k = 0; k < n; k++) ov[sel[k]] = valid;
            if (!valid) return SILT_OK;
            switch (e->type) {
                case QT_BOOL:
                    for (size_t k = 0; k < n; k++) ((uint8_t *)d)[sel[k]] = e->c.v.b;
                    break;
                case QT_UINT:
                    for (size_t k = 0; k < n; k++) ((uint64_t *)d)[sel[k]] = e->c.v.u;
                    break;
                case QT_FLOAT:
                    for (size_t k = 0; k < n; k++) ((double *)d)[sel[k]] = e->c.v.f;
                    break;
                case QT_STRING:
                    for (size_t k = 0; k < n; k++) ((str_view *)d)[sel[k]] = e->c.v.s;
                    break;
                default:
                    for (size_t k = 0; k < n; k++) ((int64_t *)d)[sel[k]] = e->c.v.i;
                    break;
            }
            return SILT_OK;
        }
        case QB_CAST: {
            query_vec x;
            int rc = eval(ev, e->args[0], b, sel, n, &x);
            if (rc < 0) return rc;
            return eval_cast(ev, e, &x, e->args[0]->type, sel, n, nr, out);
        }
        case QB_NEG: {
            query_vec x;
            int rc = eval(ev, e->args[0], b, sel, n, &x);
            if (rc < 0) return rc;
            vec_alloc(ev, e->type, nr, out, &d, &ov);
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                ov[i] = VALID(&x, i);
                if (!ov[i]) continue;
                if (e->type == QT_FLOAT) {
                    ((double *)d)[i] = -x.f64[i];
                } else {
                    if (x.i64[i] == INT64_MIN) return overflow(ev, e);
                    ((int64_t *)d)[i] = -x.i64[i];
                }
            }
            return SILT_OK;
        }
        case QB_ARITH: {
            query_vec x, y;
            int rc = eval(ev, e->args[0], b, sel, n, &x);
            if (rc == SILT_OK) rc = eval(ev, e->args[1], b, sel, n, &y);
            if (rc < 0) return rc;
            return eval_arith(ev, e, &x, &y, e->args[0]->type, sel, n, nr, out);
        }
        case QB_CMP: {
            query_vec x, y;
            int rc = eval(ev, e->args[0], b, sel, n, &x);
            if (rc == SILT_OK) rc = eval(ev, e->args[1], b, sel, n, &y);
            if (rc < 0) return rc;
            vec_alloc(ev, QT_BOOL, nr, out, &d, &ov);
            for (size_t k = 0; k < n; k++) ov[sel[k]] = VALID(&x, sel[k]) && VALID(&y, sel[k]);
            qtype lt = e->args[0]->type, rt = e->args[1]->type;
            if (lt != rt) { /* int vs uint, the one mixed pair: exact, no conversion */
                qop op = (qop)e->op;
                uint8_t *o = d;
                const query_vec *iv = lt == QT_INT ? &x : &y, *uv = lt == QT_INT ? &y : &x;
                int sign = lt == QT_INT ? 1 : -1;
                CMP_LOOP(sign * (iv->i64[i] < 0 ? -1
                                 : (uint64_t)iv->i64[i] < uv->u64[i]
                                     ? -1
                                     : (uint64_t)iv->i64[i] > uv->u64[i]));
                return SILT_OK;
            }
            eval_cmp_rows((qop)e->op, &x, &y, lt, sel, n, d, ov);
            return SILT_OK;
        }
        case QB_AND:
        case QB_OR: {
            /* three-valued: AND is FALSE if any is FALSE, else NULL if any is NULL */
            bool is_and = e->kind == QB_AND;
            vec_alloc(ev, QT_BOOL, nr, out, &d, &ov);
            uint8_t *o = d;
            for (size_t k = 0; k < n; k++) o[sel[k]] = is_and, ov[sel[k]] = 1;
            uint8_t *decided = arena_alloc(ev->a, nr ? nr : 1);
            for (size_t k = 0; k < n; k++) decided[sel[k]] = 0;
            for (size_t j = 0; j < e->n_args; j++) {
                query_vec x;
                int rc = eval(ev, e->args[j], b, sel, n, &x);
                if (rc < 0) return rc;
                for (size_t k = 0; k < n; k++) {
                    uint32_t i = sel[k];
                    if (decided[i]) continue;
                    if (!VALID(&x, i)) {
                        ov[i] = 0;
                    } else if ((x.b[i] != 0) != is_and) {
                        decided[i] = 1;
                        ov[i] = 1;
                        o[i] = !is_and;
                    }
                }
            }
            return SILT_OK;
        }
        case QB_NOT: {
            query_vec x;
            int rc = eval(ev, e->args[0], b, sel, n, &x);
            if (rc < 0) return rc;
            vec_alloc(ev, QT_BOOL, nr, out, &d, &ov);
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                ov[i] = VALID(&x, i);
                ((uint8_t *)d)[i] = ov[i] && !x.b[i];
            }
            return SILT_OK;
        }
        case QB_IS_NULL: {
            query_vec x;
            int rc = eval(ev, e->args[0], b, sel, n, &x);
            if (rc < 0) return rc;
            vec_alloc(ev, QT_BOOL, nr, out, &d, &ov);
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                ov[i] = 1;
                ((uint8_t *)d)[i] = (uint8_t)(!VALID(&x, i) != e->negated);
            }
            return SILT_OK;
        }
        case QB_IN: {
            query_vec x;
            int rc = eval(ev, e->args[0], b, sel, n, &x);
            if (rc < 0) return rc;
            vec_alloc(ev, QT_BOOL, nr, out, &d, &ov);
            uint8_t *o = d;
            uint8_t *eq = arena_alloc(ev->a, nr ? nr : 1);
            uint8_t *both = arena_alloc(ev->a, nr ? nr : 1);
            for (size_t k = 0; k < n; k++) o[sel[k]] = 0, ov[sel[k]] = VALID(&x, sel[k]);
            for (size_t j = 1; j < e->n_args; j++) {
                query_vec y;
                rc = eval(ev, e->args[j], b, sel, n, &y);
                if (rc < 0) return rc;
                for (size_t k = 0; k < n; k++) {
                    uint32_t i = sel[k];
                    both[i] = VALID(&x, i) && VALID(&y, i);
                    eq[i] = 0;
                }
                eval_cmp_rows(QOP_EQ, &x, &y, e->args[0]->type, sel, n, eq, both);
                for (size_t k = 0; k < n; k++) {
                    uint32_t i = sel[k];
                    if (both[i] && eq[i]) o[i] = 1;
                    if (!VALID(&y, i)) ov[i] = 0; /* x IN (.., NULL): NULL unless found */
                }
            }
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                if (o[i]) ov[i] = VALID(&x, i);
                if (e->negated) o[i] = !o[i];
            }
            return SILT_OK;
        }
        case QB_LIKE: {
            query_vec x, p;
            int rc = eval(ev, e->args[0], b, sel, n, &x);
            if (rc == SILT_OK) rc = eval(ev, e->args[1], b, sel, n, &p);
            if (rc < 0) return rc;
            vec_alloc(ev, QT_BOOL, nr, out, &d, &ov);
            bool ci = e->op == QLIKE_ILIKE;
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                ov[i] = VALID(&x, i) && VALID(&p, i);
                ((uint8_t *)d)[i] = ov[i] && (like_match(x.str[i], p.str[i], ci) != e->negated);
            }
            return SILT_OK;
        }
        case QB_REGEX: {
            query_vec x;
            int rc = eval(ev, e->args[0], b, sel, n, &x);
            if (rc < 0) return rc;
            vec_alloc(ev, QT_BOOL, nr, out, &d, &ov);
            /* regexec needs a NUL-terminated string: one scratch copy per batch, reused */
            size_t max = 0;
            for (size_t k = 0; k < n; k++)
                if (VALID(&x, sel[k]) && x.str[sel[k]].n > max) max = x.str[sel[k]].n;
            char *tmp = arena_alloc(ev->a, max + 1);
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                ov[i] = VALID(&x, i);
                if (!ov[i]) continue;
                if (x.str[i].n) memcpy(tmp, x.str[i].p, x.str[i].n);
                tmp[x.str[i].n] = 0;
                bool hit = regexec(e->re, tmp, 0, NULL, 0) == 0;
                ((uint8_t *)d)[i] = hit != e->negated;
            }
            return SILT_OK;
        }
        case QB_CASE:
            return eval_case(ev, e, b, sel, n, out);
        case QB_FUNC:
            return eval_func(ev, e, b, sel, n, out);
    }
    return eval_fail(ev, e->pos, "unsupported expression");
}

int query__expr_eval(qeval *ev, const qbx *e, const query_batch *b, const uint32_t *sel, size_t n,
                     query_vec *out) {
    return eval(ev, e, b, sel, n, out);
}

int query__expr_filter(qeval *ev, const qbx *e, const query_batch *b, const uint32_t *in,
                       size_t n_in, uint32_t *out, size_t *n_out) {
    *n_out = 0;
    if (n_in == 0) return SILT_OK;
    query_vec v;
    int rc = eval(ev, e, b, in, n_in, &v);
    if (rc < 0) return rc;
    size_t m = 0;
    for (size_t k = 0; k < n_in; k++) { /* in may be out: m <= k */
        uint32_t i = in[k];
        out[m] = i;
        m += (size_t)(VALID(&v, i) && v.b[i]);
    }
    *n_out = m;
    return SILT_OK;
}

void query__expr_free(qbx *e) {
    if (e && e->kind == QB_REGEX && e->re) {
        regfree(e->re);
        free(e->re);
        e->re = NULL;
    }
}
