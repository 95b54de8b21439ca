/* SPDX-License-Identifier: MIT
 *
 * The InfluxQL parser: recursive descent from the tokens of influxql_lex.c to the AST of
 * influxql.h (grammar there). It checks syntax, and the few rules InfluxDB 1.x enforces
 * while parsing (a time dimension takes durations, fill() takes one keyword or number,
 * ORDER BY only sorts by time, replication is at least 1); what names mean is the planner's.
 *
 * Errors: the first one ends the parse with SILT_EPARSE. The message is InfluxDB's
 *   "found X, expected Y at line L, char C"
 * where X is the offending token (a keyword in upper case, a name or string as its text,
 * EOF at the end), or "<reason> at line L, char C" for errors that are not about one token.
 * Invariant (1) of influxql.h: parse_* functions that recurse go through enter()/leave(),
 * and every node's height is checked when it is made (set_height).
 */
#include "influxql.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct iql_parser {
    iql_lexer lx;
    iql_tok cur;
    arena *a;
    const char *src;
    int depth;
    int rc; /* SILT_OK until the first error */
    silt_err *err;
} iql_parser;

static void advance(iql_parser *p) {
    if (p->cur.type == IQL_TK_EOF || p->cur.type == IQL_TK_ERROR) return; /* sticky */
    influxql__lex_next(&p->lx, &p->cur);
}

/* ------------------------------------------------------------------ errors */

/* What a token is called in "found X": keywords in upper case, names and strings as their
 * text, EOF; at most 64 bytes (cut at a character boundary, "..." appended) with control
 * characters shown as '?'. */
static void tok_found(const iql_parser *p, const iql_tok *t, char *out, size_t cap) {
    const char *s;
    size_t n;
    switch (t->type) {
        case IQL_TK_EOF:
            s = "EOF", n = 3;
            break;
        case IQL_TK_KEYWORD:
            s = influxql__kw_name(t->kw), n = strlen(s);
            break;
        case IQL_TK_IDENT:
        case IQL_TK_QIDENT:
        case IQL_TK_STRING:
        case IQL_TK_ILLEGAL:
            s = t->text.p, n = t->text.n;
            break;
        default:
            s = p->src + t->pos, n = t->len;
            break;
    }
    size_t max = cap - 4;
    bool cut = false;
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
        cut = true;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (cut) memcpy(out + n, "...", 3), n += 3;
    out[n] = 0;
}

/* "<msg> at line L, char C" at byte offset pos. Only the first error is kept. Returns NULL
 * so callers can `return fail_at(...)`. */
static __attribute__((noinline, format(printf, 3, 4))) void *fail_at(iql_parser *p, uint32_t pos,
                                                                     const char *fmt, ...) {
    if (p->rc != SILT_OK) return NULL;
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    uint32_t line, col;
    text_line_col(p->src, pos, &line, &col);
    p->rc = SILT_FAIL(p->err, SILT_EPARSE, "%s at line %u, char %u", msg, line, col);
    return NULL;
}

/* "found <t>, expected <what> at line L, char C"; a lexical error token reports itself. */
static __attribute__((noinline)) void *fail(iql_parser *p, const iql_tok *t, const char *what) {
    if (t->type == IQL_TK_ERROR) return fail_at(p, t->pos, "%s", t->text.p);
    char found[72];
    tok_found(p, t, found, sizeof found);
    return fail_at(p, t->pos, "found %s, expected %s", found, what);
}

static bool enter(iql_parser *p) {
    if (++p->depth <= IQL_MAX_DEPTH) return true;
    fail_at(p, p->cur.pos, "expression nested too deeply (more than %d levels)", IQL_MAX_DEPTH);
    return false;
}

static void leave(iql_parser *p) {
    p->depth--;
}

/* ------------------------------------------------------------------ token helpers */

static bool is_kw(const iql_tok *t, iql_kw kw) {
    return t->type == IQL_TK_KEYWORD && t->kw == kw;
}

static bool is_ident(const iql_tok *t) {
    return t->type == IQL_TK_IDENT || t->type == IQL_TK_QIDENT;
}

/* An unquoted identifier spelled `word` in any case (fill, tz, time: not keywords). */
static bool is_word(const iql_tok *t, const char *word) {
    return t->type == IQL_TK_IDENT && sv_ieq_cstr(t->text, word);
}

static bool accept(iql_parser *p, iql_tok_type type) {
    if (p->cur.type != type) return false;
    advance(p);
    return true;
}

static bool accept_kw(iql_parser *p, iql_kw kw) {
    if (!is_kw(&p->cur, kw)) return false;
    advance(p);
    return true;
}

static bool expect(iql_parser *p, iql_tok_type type, const char *what) {
    if (accept(p, type)) return true;
    fail(p, &p->cur, what);
    return false;
}

static bool expect_kw(iql_parser *p, iql_kw kw) {
    if (accept_kw(p, kw)) return true;
    fail(p, &p->cur, influxql__kw_name(kw));
    return false;
}

static bool parse_ident(iql_parser *p, str_view *out) {
    if (!is_ident(&p->cur)) {
        fail(p, &p->cur, "identifier");
        return false;
    }
    *out = p->cur.text;
    advance(p);
    return true;
}

/* A non-negative integer that fits int64 (LIMIT, OFFSET, REPLICATION). */
static bool parse_int(iql_parser *p, int64_t *out) {
    const iql_tok *t = &p->cur;
    if (t->type != IQL_TK_INTEGER) {
        fail(p, t, "integer");
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < t->text.n; i++) {
        unsigned d = (unsigned)(t->text.p[i] - '0');
        if (v > ((uint64_t)INT64_MAX - d) / 10) {
            fail_at(p, t->pos, "unable to parse integer");
            return false;
        }
        v = v * 10 + d;
    }
    *out = (int64_t)v;
    advance(p);
    return true;
}

/* Duration text ("10m", "1h30m", "5µs") to nanoseconds: InfluxDB's rules. Returns 0, -1 for
 * an invalid duration, -2 when the value does not fit int64 nanoseconds. */
static int duration_value(const char *s, size_t n, int64_t *out) {
    int64_t total = 0;
    size_t i = 0;
    if (n == 0) return -1;
    while (i < n) {
        size_t start = i;
        int64_t v = 0;
        bool big = false;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v))
                big = true;
        }
        if (i >= n || i == start || big) return -1;
        int64_t unit;
        unsigned char c = (unsigned char)s[i];
        if (c == 'n' && i + 1 < n && s[i + 1] == 's') {
            unit = 1, i += 2;
        } else if (c == 'u') {
            unit = NS_PER_US, i += 1;
        } else if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xB5) {
            unit = NS_PER_US, i += 2;
        } else if (c == 'm' && i + 1 < n && s[i + 1] == 's') {
            unit = NS_PER_MS, i += 2;
        } else if (c == 'm') {
            unit = 60 * NS_PER_S, i += 1;
        } else if (c == 's') {
            unit = NS_PER_S, i += 1;
        } else if (c == 'h') {
            unit = 3600 * NS_PER_S, i += 1;
        } else if (c == 'd') {
            unit = NS_PER_DAY, i += 1;
        } else if (c == 'w') {
            unit = 7 * NS_PER_DAY, i += 1;
        } else {
            return -1;
        }
        if (__builtin_mul_overflow(v, unit, &v) || __builtin_add_overflow(total, v, &total))
            return -2;
    }
    *out = total;
    return 0;
}

static bool parse_duration_tok(iql_parser *p, const iql_tok *t, int64_t *out) {
    int r = duration_value(t->text.p, t->text.n, out);
    if (r == -1) {
        fail_at(p, t->pos, "invalid duration");
        return false;
    }
    if (r == -2) {
        fail_at(p, t->pos, "overflowed duration %.*s: choose a smaller duration or INF",
                (int)(t->text.n > 64 ? 64 : t->text.n), t->text.p);
        return false;
    }
    return true;
}

/* DURATION <duration> | INF (0) in CREATE DATABASE ... WITH. */
static bool parse_duration_opt(iql_parser *p, int64_t *out) {
    if (accept_kw(p, IQL_KW_INF)) {
        *out = 0;
        return true;
    }
    if (p->cur.type != IQL_TK_DURATION) {
        fail(p, &p->cur, "duration");
        return false;
    }
    if (!parse_duration_tok(p, &p->cur, out)) return false;
    advance(p);
    return true;
}

/* ------------------------------------------------------------------ expressions */

static iql_expr *new_expr(iql_parser *p, iql_expr_kind kind, uint32_t pos) {
    iql_expr *e = arena_alloc(p->a, sizeof *e);
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->pos = pos;
    e->height = 1;
    return e;
}

/* Invariant (1): a node is one level higher than its highest child. */
static bool set_height(iql_parser *p, iql_expr *e, unsigned child_height) {
    if (child_height + 1 > IQL_MAX_DEPTH) {
        fail_at(p, e->pos, "expression nested too deeply (more than %d levels)", IQL_MAX_DEPTH);
        return false;
    }
    if (child_height + 1 > e->height) e->height = (uint16_t)(child_height + 1);
    return true;
}

/* A growable array of pointers in the arena. */
typedef struct ptr_list {
    void **v;
    size_t n, cap;
} ptr_list;

static void list_push(iql_parser *p, ptr_list *l, void *e) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        void **v = arena_alloc(p->a, cap * sizeof *v);
        if (l->n) memcpy(v, l->v, l->n * sizeof *v);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = e;
}

static iql_expr *parse_expr(iql_parser *p);
static iql_expr *parse_expr_re(iql_parser *p);
static iql_expr *parse_binary(iql_parser *p, int min_prec, bool regex_ok);

static iql_expr *parse_regex(iql_parser *p) {
    if (p->cur.type != IQL_TK_DIV) return fail(p, &p->cur, "regex");
    influxql__lex_regex(&p->lx, p->cur.pos, &p->cur);
    if (p->cur.type != IQL_TK_REGEX) return fail(p, &p->cur, "regex");
    iql_expr *e = new_expr(p, IQL_X_REGEX, p->cur.pos);
    e->u.s = p->cur.text;
    advance(p);
    return e;
}

static iql_expr *parse_call(iql_parser *p, str_view name, uint32_t pos) {
    iql_expr *e = new_expr(p, IQL_X_CALL, pos);
    char *lower = arena_strndup(p->a, name.p, name.n);
    for (size_t i = 0; i < name.n; i++)
        if (lower[i] >= 'A' && lower[i] <= 'Z') lower[i] = (char)(lower[i] + 32);
    e->u.call.name = (str_view){lower, name.n};
    advance(p); /* '(' */
    if (!enter(p)) return NULL;
    ptr_list args = {0};
    if (p->cur.type != IQL_TK_RPAREN) {
        for (;;) {
            iql_expr *a = parse_binary(p, 1, true);
            if (!a) return NULL;
            if (!set_height(p, e, a->height)) return NULL;
            list_push(p, &args, a);
            if (!accept(p, IQL_TK_COMMA)) break;
        }
    }
    leave(p);
    if (!expect(p, IQL_TK_RPAREN, args.n ? ", or )" : ")")) return NULL;
    e->u.call.args = (iql_expr **)args.v;
    e->u.call.n_args = args.n;
    return e;
}

static bool parse_cast(iql_parser *p, bool wildcard, iql_vtype *out) {
    const iql_tok *t = &p->cur;
    if (is_kw(t, IQL_KW_FIELD) || is_kw(t, IQL_KW_TAG)) {
        *out = t->kw == IQL_KW_FIELD ? IQL_T_FIELD : IQL_T_TAG;
        advance(p);
        return true;
    }
    if (!wildcard && t->type == IQL_TK_IDENT) {
        static const struct {
            const char *name;
            iql_vtype type;
        } types[] = {{"float", IQL_T_FLOAT},
                     {"integer", IQL_T_INTEGER},
                     {"unsigned", IQL_T_UNSIGNED},
                     {"string", IQL_T_STRING},
                     {"boolean", IQL_T_BOOLEAN}};
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
            if (sv_ieq_cstr(t->text, types[i].name)) {
                *out = types[i].type;
                advance(p);
                return true;
            }
        }
    }
    fail(p, t, wildcard ? "field, tag" : "float, integer, unsigned, string, boolean, field, tag");
    return false;
}

static iql_expr *parse_varref(iql_parser *p) {
    iql_expr *e = new_expr(p, IQL_X_VARREF, p->cur.pos);
    str_view name = p->cur.text;
    advance(p);
    if (p->cur.type == IQL_TK_DOT) {
        /* a.b.c: one name with the segments joined by '.' */
        buf b = {0};
        buf_append(&b, name.p, name.n);
        while (accept(p, IQL_TK_DOT)) {
            if (!is_ident(&p->cur)) {
                buf_free(&b);
                return fail(p, &p->cur, "identifier");
            }
            buf_putc(&b, '.');
            buf_append(&b, p->cur.text.p, p->cur.text.n);
            advance(p);
        }
        name = (str_view){arena_strndup(p->a, (const char *)b.p, b.len), b.len};
        buf_free(&b);
    }
    e->u.ref.name = name;
    if (accept(p, IQL_TK_DOUBLECOLON) && !parse_cast(p, false, &e->u.ref.type)) return NULL;
    return e;
}

static iql_expr *parse_integer(iql_parser *p) {
    const iql_tok *t = &p->cur;
    uint64_t v = 0;
    for (size_t i = 0; i < t->text.n; i++) {
        unsigned d = (unsigned)(t->text.p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return fail_at(p, t->pos, "unable to parse integer");
        v = v * 10 + d;
    }
    iql_expr *e;
    if (v <= INT64_MAX) {
        e = new_expr(p, IQL_X_INTEGER, t->pos);
        e->u.i = (int64_t)v;
    } else {
        e = new_expr(p, IQL_X_UNSIGNED, t->pos);
        e->u.u = v;
    }
    advance(p);
    return e;
}

/* Unary minus of a literal folds into it; of anything else it is an IQL_X_NEG node. */
static iql_expr *negate(iql_parser *p, iql_expr *e, uint32_t pos) {
    switch (e->kind) {
        case IQL_X_INTEGER:
            if (e->u.i == INT64_MIN) {
                e->kind = IQL_X_UNSIGNED;
                e->u.u = (uint64_t)1 << 63;
            } else {
                e->u.i = -e->u.i;
            }
            e->pos = pos;
            return e;
        case IQL_X_UNSIGNED:
            if (e->u.u > (uint64_t)1 << 63) return fail_at(p, pos, "constant overflows int64");
            e->kind = IQL_X_INTEGER;
            e->u.i = e->u.u == (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)e->u.u;
            e->pos = pos;
            return e;
        case IQL_X_NUMBER:
            e->u.f = -e->u.f;
            e->pos = pos;
            return e;
        case IQL_X_DURATION:
            if (e->u.i == INT64_MIN) return fail_at(p, pos, "constant overflows int64");
            e->u.i = -e->u.i;
            e->pos = pos;
            return e;
        default:
            break;
    }
    iql_expr *n = new_expr(p, IQL_X_NEG, pos);
    n->u.arg = e;
    if (!set_height(p, n, e->height)) return NULL;
    return n;
}

static iql_expr *parse_unary(iql_parser *p, bool regex_ok) {
    iql_tok *t = &p->cur;
    uint32_t pos = t->pos;
    iql_expr *e;
    switch (t->type) {
        case IQL_TK_SUB:
        case IQL_TK_ADD: {
            bool neg = t->type == IQL_TK_SUB;
            advance(p);
            if (!enter(p)) return NULL;
            e = parse_unary(p, false);
            leave(p);
            if (!e || !neg) return e;
            return negate(p, e, pos);
        }
        case IQL_TK_LPAREN:
            advance(p);
            if (!enter(p)) return NULL;
            e = parse_binary(p, 1, false);
            leave(p);
            if (!e) return NULL;
            if (!expect(p, IQL_TK_RPAREN, ")")) return NULL;
            return e;
        case IQL_TK_IDENT:
        case IQL_TK_QIDENT: {
            iql_lexer saved = p->lx; /* a call when '(' follows the name */
            iql_tok next;
            influxql__lex_next(&saved, &next);
            if (next.type == IQL_TK_LPAREN) {
                str_view name = t->text;
                advance(p);
                return parse_call(p, name, pos);
            }
            return parse_varref(p);
        }
        case IQL_TK_KEYWORD:
            if (t->kw == IQL_KW_TRUE || t->kw == IQL_KW_FALSE) {
                e = new_expr(p, IQL_X_BOOLEAN, pos);
                e->u.b = t->kw == IQL_KW_TRUE;
                advance(p);
                return e;
            }
            if (t->kw == IQL_KW_DISTINCT) {
                advance(p);
                if (p->cur.type == IQL_TK_LPAREN) return parse_call(p, SV("distinct"), pos);
                if (!is_ident(&p->cur)) return fail(p, &p->cur, "(, identifier");
                e = new_expr(p, IQL_X_DISTINCT, pos);
                e->u.s = p->cur.text;
                advance(p);
                return e;
            }
            break;
        case IQL_TK_STRING:
            e = new_expr(p, IQL_X_STRING, pos);
            e->u.s = t->text;
            advance(p);
            return e;
        case IQL_TK_INTEGER:
            return parse_integer(p);
        case IQL_TK_NUMBER: {
            double d = strtod(t->text.p, NULL); /* NUL-terminated by the lexer; "C" locale */
            if (!isfinite(d)) return fail_at(p, pos, "unable to parse number");
            e = new_expr(p, IQL_X_NUMBER, pos);
            e->u.f = d;
            advance(p);
            return e;
        }
        case IQL_TK_DURATION:
            e = new_expr(p, IQL_X_DURATION, pos);
            if (!parse_duration_tok(p, t, &e->u.i)) return NULL;
            advance(p);
            return e;
        case IQL_TK_PARAM:
            e = new_expr(p, IQL_X_PARAM, pos);
            e->u.s = t->text;
            advance(p);
            return e;
        case IQL_TK_MUL:
            e = new_expr(p, IQL_X_WILDCARD, pos);
            advance(p);
            if (accept(p, IQL_TK_DOUBLECOLON) && !parse_cast(p, true, &e->u.wildcard)) return NULL;
            return e;
        case IQL_TK_DIV:
            if (regex_ok) return parse_regex(p);
            break;
        default:
            break;
    }
    return fail(p, t, "identifier, string, number, bool");
}

static bool tok_binop(const iql_tok *t, iql_op *op) {
    static const struct {
        iql_tok_type tok;
        iql_op op;
    } ops[] = {
        {IQL_TK_ADD, IQL_OP_ADD},         {IQL_TK_SUB, IQL_OP_SUB},
        {IQL_TK_MUL, IQL_OP_MUL},         {IQL_TK_DIV, IQL_OP_DIV},
        {IQL_TK_MOD, IQL_OP_MOD},         {IQL_TK_BITAND, IQL_OP_BITAND},
        {IQL_TK_BITOR, IQL_OP_BITOR},     {IQL_TK_BITXOR, IQL_OP_BITXOR},
        {IQL_TK_EQ, IQL_OP_EQ},           {IQL_TK_NEQ, IQL_OP_NEQ},
        {IQL_TK_LT, IQL_OP_LT},           {IQL_TK_LTE, IQL_OP_LTE},
        {IQL_TK_GT, IQL_OP_GT},           {IQL_TK_GTE, IQL_OP_GTE},
        {IQL_TK_EQREGEX, IQL_OP_EQREGEX}, {IQL_TK_NEQREGEX, IQL_OP_NEQREGEX},
    };
    if (t->type == IQL_TK_KEYWORD && (t->kw == IQL_KW_AND || t->kw == IQL_KW_OR)) {
        *op = t->kw == IQL_KW_AND ? IQL_OP_AND : IQL_OP_OR;
        return true;
    }
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (ops[i].tok == t->type) {
            *op = ops[i].op;
            return true;
        }
    }
    return false;
}

/* Append e to the n-ary node l (kind AND or OR), splicing e's terms when it is one too. */
static bool nary_add(iql_parser *p, iql_expr *l, iql_expr *e) {
    ptr_list lst = {(void **)l->u.list.args, l->u.list.n, l->u.list.cap};
    if (e->kind == l->kind) {
        for (size_t i = 0; i < e->u.list.n; i++) list_push(p, &lst, e->u.list.args[i]);
    } else {
        list_push(p, &lst, e);
    }
    l->u.list.args = (iql_expr **)lst.v;
    l->u.list.n = lst.n;
    l->u.list.cap = lst.cap;
    return set_height(p, l, e->kind == l->kind ? (unsigned)e->height - 1 : e->height);
}

static iql_expr *make_binary(iql_parser *p, iql_op op, iql_expr *l, iql_expr *r) {
    if (op == IQL_OP_AND || op == IQL_OP_OR) {
        iql_expr_kind kind = op == IQL_OP_AND ? IQL_X_AND : IQL_X_OR;
        iql_expr *n = l;
        if (l->kind != kind) {
            n = new_expr(p, kind, l->pos);
            if (!nary_add(p, n, l)) return NULL;
        }
        return nary_add(p, n, r) ? n : NULL;
    }
    iql_expr *e = new_expr(p, IQL_X_BINARY, l->pos);
    e->u.bin.op = op;
    e->u.bin.l = l;
    e->u.bin.r = r;
    if (!set_height(p, e, l->height > r->height ? l->height : r->height)) return NULL;
    return e;
}

/* Precedence climbing over the operators that follow the operand l; every operator is
 * left-associative. */
static iql_expr *binary_rest(iql_parser *p, iql_expr *l, int min_prec) {
    while (l) {
        iql_op op;
        if (!tok_binop(&p->cur, &op)) break;
        int prec = influxql_op_prec(op);
        if (prec < min_prec) break;
        advance(p);
        iql_expr *r;
        if (op == IQL_OP_EQREGEX || op == IQL_OP_NEQREGEX) /* the right side is a regex */
            r = binary_rest(p, parse_regex(p), prec + 1);
        else
            r = parse_binary(p, prec + 1, false);
        if (!r) return NULL;
        l = make_binary(p, op, l, r);
    }
    return l;
}

/* An operand and the operators that bind at least as tightly as min_prec. regex_ok lets the
 * leftmost operand be a /regex/ (a field, a call argument or a dimension). */
static iql_expr *parse_binary(iql_parser *p, int min_prec, bool regex_ok) {
    return binary_rest(p, parse_unary(p, regex_ok), min_prec);
}

static iql_expr *parse_expr(iql_parser *p) {
    if (!enter(p)) return NULL;
    iql_expr *e = parse_binary(p, 1, false);
    leave(p);
    return e;
}

static iql_expr *parse_expr_re(iql_parser *p) {
    if (!enter(p)) return NULL;
    iql_expr *e = parse_binary(p, 1, true);
    leave(p);
    return e;
}

/* ------------------------------------------------------------------ sources */

static iql_select *parse_select(iql_parser *p);

/* [db '.'] [rp] '.' name | [prefix] /regex/ | '(' SELECT ... ')' (when subquery_ok). */
static bool parse_source(iql_parser *p, bool subquery_ok, iql_source *s) {
    memset(s, 0, sizeof *s);
    s->pos = p->cur.pos;
    if (subquery_ok && p->cur.type == IQL_TK_LPAREN) {
        advance(p);
        if (!enter(p)) return false;
        if (!is_kw(&p->cur, IQL_KW_SELECT)) {
            fail(p, &p->cur, "SELECT");
            return false;
        }
        s->kind = IQL_SRC_SUBQUERY;
        s->sub = parse_select(p);
        leave(p);
        return s->sub && expect(p, IQL_TK_RPAREN, ")");
    }
    str_view seg[3];
    int n = 0;
    s->kind = IQL_SRC_MEASUREMENT;
    for (;;) {
        if (n == 3) {
            fail_at(p, s->pos, "too many segments in measurement name");
            return false;
        }
        if (p->cur.type == IQL_TK_DIV) {
            iql_expr *re = parse_regex(p);
            if (!re) return false;
            seg[n++] = re->u.s;
            s->kind = IQL_SRC_REGEX;
            break;
        }
        if (is_ident(&p->cur)) {
            seg[n++] = p->cur.text;
            advance(p);
        } else if (n > 0 && p->cur.type == IQL_TK_DOT) {
            seg[n++] = (str_view){"", 0}; /* db..name: the default retention policy */
        } else {
            fail(p, &p->cur, "identifier");
            return false;
        }
        if (!accept(p, IQL_TK_DOT)) break;
    }
    s->name = seg[n - 1];
    if (n >= 2) s->rp = seg[n - 2];
    if (n == 3) s->db = seg[0];
    return true;
}

static bool parse_sources(iql_parser *p, bool subquery_ok, iql_source **out, size_t *n_out) {
    iql_source *v = NULL;
    size_t n = 0, cap = 0;
    do {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 2;
            iql_source *nv = arena_alloc(p->a, ncap * sizeof *nv);
            if (n) memcpy(nv, v, n * sizeof *nv);
            v = nv;
            cap = ncap;
        }
        if (!parse_source(p, subquery_ok, &v[n])) return false;
        n++;
    } while (accept(p, IQL_TK_COMMA));
    *out = v;
    *n_out = n;
    return true;
}

/* ------------------------------------------------------------------ SELECT */

static bool parse_dim(iql_parser *p, iql_select *s, iql_dim *d) {
    memset(d, 0, sizeof *d);
    d->pos = p->cur.pos;
    iql_expr *e = parse_expr_re(p);
    if (!e) return false;
    switch (e->kind) {
        case IQL_X_REGEX:
            d->kind = IQL_DIM_REGEX;
            d->name = e->u.s;
            return true;
        case IQL_X_WILDCARD:
            if (e->u.wildcard != IQL_T_NONE) break;
            d->kind = IQL_DIM_WILDCARD;
            return true;
        case IQL_X_VARREF:
            if (e->u.ref.type != IQL_T_NONE && e->u.ref.type != IQL_T_TAG) break;
            d->kind = IQL_DIM_TAG;
            d->name = e->u.ref.name;
            return true;
        case IQL_X_CALL:
            if (!sv_eq_cstr(e->u.call.name, "time")) break;
            if (s->group_time) {
                fail_at(p, d->pos, "multiple time dimensions");
                return false;
            }
            if (e->u.call.n_args < 1 || e->u.call.n_args > 2) {
                fail_at(p, d->pos, "time dimension expected 1 or 2 arguments");
                return false;
            }
            if (e->u.call.args[0]->kind != IQL_X_DURATION) {
                fail_at(p, e->u.call.args[0]->pos, "time dimension must have duration argument");
                return false;
            }
            d->kind = IQL_DIM_TIME;
            d->interval_ns = e->u.call.args[0]->u.i;
            if (d->interval_ns <= 0) {
                fail_at(p, e->u.call.args[0]->pos, "time dimension must have positive duration");
                return false;
            }
            if (e->u.call.n_args == 2) {
                if (e->u.call.args[1]->kind != IQL_X_DURATION) {
                    fail_at(p, e->u.call.args[1]->pos, "time dimension offset must be duration");
                    return false;
                }
                d->offset_ns = e->u.call.args[1]->u.i;
                d->has_offset = true;
            }
            return true;
        default:
            break;
    }
    fail_at(p, d->pos, "only time and tag dimensions allowed");
    return false;
}

static bool parse_fill(iql_parser *p, iql_select *s) {
    uint32_t pos = p->cur.pos;
    iql_expr *e = parse_expr(p);
    if (!e) return false;
    if (e->kind != IQL_X_CALL) {
        fail_at(p, pos, "fill must be a function call");
        return false;
    }
    if (e->u.call.n_args != 1) {
        fail_at(p, pos, "fill requires an argument, e.g.: 0, null, none, previous, linear");
        return false;
    }
    iql_expr *a = e->u.call.args[0];
    if (a->kind == IQL_X_VARREF && a->u.ref.type == IQL_T_NONE) {
        static const struct {
            const char *name;
            iql_fill fill;
        } opts[] = {{"null", IQL_FILL_NULL},
                    {"none", IQL_FILL_NONE},
                    {"previous", IQL_FILL_PREVIOUS},
                    {"linear", IQL_FILL_LINEAR}};
        for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
            if (sv_eq_cstr(a->u.ref.name, opts[i].name)) {
                s->fill = opts[i].fill;
                return true;
            }
        }
    } else if (a->kind == IQL_X_INTEGER || a->kind == IQL_X_NUMBER) {
        s->fill = IQL_FILL_NUMBER;
        s->fill_value = a;
        return true;
    }
    fail_at(p, a->pos, "expected number argument in fill()");
    return false;
}

static bool parse_order(iql_parser *p, iql_select *s) {
    if (!expect_kw(p, IQL_KW_BY)) return false;
    if (is_ident(&p->cur)) {
        if (!sv_ieq_cstr(p->cur.text, "time")) {
            fail_at(p, p->cur.pos, "only ORDER BY time supported at this time");
            return false;
        }
        advance(p);
        s->order = IQL_ORDER_ASC;
        if (accept_kw(p, IQL_KW_DESC))
            s->order = IQL_ORDER_DESC;
        else
            accept_kw(p, IQL_KW_ASC);
    } else if (accept_kw(p, IQL_KW_ASC)) {
        s->order = IQL_ORDER_ASC;
    } else if (accept_kw(p, IQL_KW_DESC)) {
        s->order = IQL_ORDER_DESC;
    } else {
        fail(p, &p->cur, "identifier, ASC, DESC");
        return false;
    }
    if (p->cur.type == IQL_TK_COMMA) {
        fail_at(p, p->cur.pos, "only ORDER BY time supported at this time");
        return false;
    }
    return true;
}

static iql_select *parse_select(iql_parser *p) {
    iql_select *s = arena_alloc(p->a, sizeof *s);
    memset(s, 0, sizeof *s);
    s->pos = p->cur.pos;
    advance(p); /* SELECT */

    size_t cap = 0;
    do {
        if (s->n_fields == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            iql_field *v = arena_alloc(p->a, ncap * sizeof *v);
            if (s->n_fields) memcpy(v, s->fields, s->n_fields * sizeof *v);
            s->fields = v;
            cap = ncap;
        }
        iql_field *f = &s->fields[s->n_fields];
        memset(f, 0, sizeof *f);
        f->expr = parse_expr_re(p);
        if (!f->expr) return NULL;
        if (accept_kw(p, IQL_KW_AS) && !parse_ident(p, &f->alias)) return NULL;
        s->n_fields++;
    } while (accept(p, IQL_TK_COMMA));

    if (is_kw(&p->cur, IQL_KW_INTO)) return fail_at(p, p->cur.pos, "SELECT INTO is not supported");
    if (!expect_kw(p, IQL_KW_FROM)) return NULL;
    if (!parse_sources(p, true, &s->sources, &s->n_sources)) return NULL;
    if (accept_kw(p, IQL_KW_WHERE) && !(s->where = parse_expr(p))) return NULL;
    if (accept_kw(p, IQL_KW_GROUP)) {
        if (!expect_kw(p, IQL_KW_BY)) return NULL;
        size_t dcap = 0;
        do {
            if (s->n_dims == dcap) {
                size_t ncap = dcap ? dcap * 2 : 4;
                iql_dim *v = arena_alloc(p->a, ncap * sizeof *v);
                if (s->n_dims) memcpy(v, s->dims, s->n_dims * sizeof *v);
                s->dims = v;
                dcap = ncap;
                /* group_time points into the array: re-aim it after the move */
                for (size_t i = 0; i < s->n_dims; i++)
                    if (v[i].kind == IQL_DIM_TIME) s->group_time = &v[i];
            }
            if (!parse_dim(p, s, &s->dims[s->n_dims])) return NULL;
            if (s->dims[s->n_dims].kind == IQL_DIM_TIME) s->group_time = &s->dims[s->n_dims];
            s->n_dims++;
        } while (accept(p, IQL_TK_COMMA));
    }
    if (is_word(&p->cur, "fill") && !parse_fill(p, s)) return NULL;
    if (accept_kw(p, IQL_KW_ORDER) && !parse_order(p, s)) return NULL;
    if (accept_kw(p, IQL_KW_LIMIT) && !parse_int(p, &s->limit)) return NULL;
    if (accept_kw(p, IQL_KW_OFFSET) && !parse_int(p, &s->offset)) return NULL;
    if (accept_kw(p, IQL_KW_SLIMIT) && !parse_int(p, &s->slimit)) return NULL;
    if (accept_kw(p, IQL_KW_SOFFSET) && !parse_int(p, &s->soffset)) return NULL;
    if (is_word(&p->cur, "tz")) {
        advance(p);
        if (!expect(p, IQL_TK_LPAREN, "(")) return NULL;
        if (p->cur.type != IQL_TK_STRING) return fail(p, &p->cur, "string");
        s->tz = p->cur.text;
        advance(p);
        if (!expect(p, IQL_TK_RPAREN, ")")) return NULL;
    }
    return s;
}

/* ------------------------------------------------------------------ SHOW, CREATE, DROP, DELETE */

static bool parse_on(iql_parser *p, iql_show *sh) {
    return !accept_kw(p, IQL_KW_ON) || parse_ident(p, &sh->db);
}

static bool parse_from(iql_parser *p, iql_show *sh) {
    return !accept_kw(p, IQL_KW_FROM) || parse_sources(p, false, &sh->sources, &sh->n_sources);
}

static bool parse_where(iql_parser *p, iql_show *sh) {
    return !accept_kw(p, IQL_KW_WHERE) || (sh->where = parse_expr(p)) != NULL;
}

static bool parse_limits(iql_parser *p, iql_show *sh) {
    if (accept_kw(p, IQL_KW_LIMIT) && !parse_int(p, &sh->limit)) return false;
    if (accept_kw(p, IQL_KW_OFFSET) && !parse_int(p, &sh->offset)) return false;
    return true;
}

static bool parse_with_key(iql_parser *p, iql_show *sh) {
    if (!expect_kw(p, IQL_KW_WITH) || !expect_kw(p, IQL_KW_KEY)) return false;
    iql_tok_type t = p->cur.type;
    if (t == IQL_TK_EQ || t == IQL_TK_NEQ) {
        sh->key_op = t == IQL_TK_EQ ? IQL_KEY_EQ : IQL_KEY_NEQ;
        advance(p);
        sh->keys = arena_alloc(p->a, sizeof *sh->keys);
        sh->n_keys = 1;
        return parse_ident(p, &sh->keys[0]);
    }
    if (t == IQL_TK_EQREGEX || t == IQL_TK_NEQREGEX) {
        sh->key_op = t == IQL_TK_EQREGEX ? IQL_KEY_EQREGEX : IQL_KEY_NEQREGEX;
        advance(p);
        iql_expr *re = parse_regex(p);
        if (!re) return false;
        sh->key_regex = re->u.s;
        return true;
    }
    if (accept_kw(p, IQL_KW_IN)) {
        sh->key_op = IQL_KEY_IN;
        if (!expect(p, IQL_TK_LPAREN, "(")) return false;
        size_t cap = 0;
        do {
            if (sh->n_keys == cap) {
                size_t ncap = cap ? cap * 2 : 4;
                str_view *v = arena_alloc(p->a, ncap * sizeof *v);
                if (sh->n_keys) memcpy(v, sh->keys, sh->n_keys * sizeof *v);
                sh->keys = v;
                cap = ncap;
            }
            if (!parse_ident(p, &sh->keys[sh->n_keys])) return false;
            sh->n_keys++;
        } while (accept(p, IQL_TK_COMMA));
        return expect(p, IQL_TK_RPAREN, ")");
    }
    fail(p, &p->cur, "=, !=, =~, !~, IN");
    return false;
}

static bool parse_show(iql_parser *p, iql_stmt *st) {
    advance(p); /* SHOW */
    iql_show *sh = &st->u.show;
    const iql_tok *t = &p->cur;
    if (accept_kw(p, IQL_KW_DATABASES)) {
        st->kind = IQL_STMT_SHOW_DATABASES;
        return true;
    }
    if (accept_kw(p, IQL_KW_MEASUREMENTS)) {
        st->kind = IQL_STMT_SHOW_MEASUREMENTS;
        if (!parse_on(p, sh)) return false;
        if (accept_kw(p, IQL_KW_WITH)) {
            if (!expect_kw(p, IQL_KW_MEASUREMENT)) return false;
            iql_source *src = arena_alloc(p->a, sizeof *src);
            if (accept(p, IQL_TK_EQ)) {
                if (!parse_source(p, false, src)) return false;
            } else if (accept(p, IQL_TK_EQREGEX)) {
                memset(src, 0, sizeof *src);
                src->pos = p->cur.pos;
                iql_expr *re = parse_regex(p);
                if (!re) return false;
                src->kind = IQL_SRC_REGEX;
                src->name = re->u.s;
            } else {
                fail(p, &p->cur, "=, =~");
                return false;
            }
            sh->with_measurement = src;
        }
        return parse_where(p, sh) && parse_limits(p, sh);
    }
    if (accept_kw(p, IQL_KW_TAG)) {
        if (accept_kw(p, IQL_KW_KEYS)) {
            st->kind = IQL_STMT_SHOW_TAG_KEYS;
            return parse_on(p, sh) && parse_from(p, sh) && parse_where(p, sh) &&
                   parse_limits(p, sh);
        }
        if (accept_kw(p, IQL_KW_VALUES)) {
            st->kind = IQL_STMT_SHOW_TAG_VALUES;
            return parse_on(p, sh) && parse_from(p, sh) && parse_with_key(p, sh) &&
                   parse_where(p, sh) && parse_limits(p, sh);
        }
        fail(p, &p->cur, "KEYS, VALUES");
        return false;
    }
    if (accept_kw(p, IQL_KW_FIELD)) {
        if (!expect_kw(p, IQL_KW_KEYS)) return false;
        st->kind = IQL_STMT_SHOW_FIELD_KEYS;
        return parse_on(p, sh) && parse_from(p, sh) && parse_limits(p, sh);
    }
    if (accept_kw(p, IQL_KW_SERIES)) {
        st->kind = IQL_STMT_SHOW_SERIES;
        return parse_on(p, sh) && parse_from(p, sh) && parse_where(p, sh) && parse_limits(p, sh);
    }
    if (accept_kw(p, IQL_KW_RETENTION)) {
        if (!expect_kw(p, IQL_KW_POLICIES)) return false;
        st->kind = IQL_STMT_SHOW_RETENTION_POLICIES;
        return parse_on(p, sh);
    }
    fail(p, t, "DATABASES, FIELD, MEASUREMENTS, RETENTION, SERIES, TAG");
    return false;
}

static bool parse_create(iql_parser *p, iql_stmt *st) {
    advance(p); /* CREATE */
    if (!expect_kw(p, IQL_KW_DATABASE)) return false;
    st->kind = IQL_STMT_CREATE_DATABASE;
    iql_create_db *c = &st->u.create_db;
    if (!parse_ident(p, &c->name)) return false;
    if (!accept_kw(p, IQL_KW_WITH)) return true;
    c->with = true;
    if (accept_kw(p, IQL_KW_DURATION)) {
        c->has_duration = true;
        if (!parse_duration_opt(p, &c->duration_ns)) return false;
    }
    if (is_kw(&p->cur, IQL_KW_REPLICATION)) {
        uint32_t pos = p->cur.pos;
        advance(p);
        c->has_replication = true;
        if (!parse_int(p, &c->replication)) return false;
        if (c->replication < 1 || c->replication > INT32_MAX) {
            fail_at(p, pos, "invalid value %lld: must be 1 <= n <= %d", (long long)c->replication,
                    INT32_MAX);
            return false;
        }
    }
    if (accept_kw(p, IQL_KW_SHARD)) {
        if (!expect_kw(p, IQL_KW_DURATION)) return false;
        c->has_shard_duration = true;
        if (!parse_duration_opt(p, &c->shard_duration_ns)) return false;
    }
    if (accept_kw(p, IQL_KW_NAME)) {
        c->has_rp_name = true;
        if (!parse_ident(p, &c->rp_name)) return false;
    }
    if (!c->has_duration && !c->has_replication && !c->has_shard_duration && !c->has_rp_name) {
        fail(p, &p->cur, "DURATION, REPLICATION, SHARD, NAME");
        return false;
    }
    return true;
}

/* [FROM sources] [WHERE expr], at least one (DROP SERIES, DELETE). */
static bool parse_from_where(iql_parser *p, iql_show *sh) {
    if (!is_kw(&p->cur, IQL_KW_FROM) && !is_kw(&p->cur, IQL_KW_WHERE)) {
        fail(p, &p->cur, "FROM, WHERE");
        return false;
    }
    return parse_from(p, sh) && parse_where(p, sh);
}

static bool parse_drop(iql_parser *p, iql_stmt *st) {
    advance(p); /* DROP */
    if (accept_kw(p, IQL_KW_DATABASE)) {
        st->kind = IQL_STMT_DROP_DATABASE;
        return parse_ident(p, &st->u.name);
    }
    if (accept_kw(p, IQL_KW_MEASUREMENT)) {
        st->kind = IQL_STMT_DROP_MEASUREMENT;
        return parse_ident(p, &st->u.name);
    }
    if (accept_kw(p, IQL_KW_SERIES)) {
        st->kind = IQL_STMT_DROP_SERIES;
        return parse_from_where(p, &st->u.show);
    }
    fail(p, &p->cur, "DATABASE, MEASUREMENT, SERIES");
    return false;
}

static iql_stmt *parse_statement(iql_parser *p) {
    iql_stmt *st = arena_alloc(p->a, sizeof *st);
    memset(st, 0, sizeof *st);
    st->pos = p->cur.pos;
    bool ok = false;
    const iql_tok *t = &p->cur;
    if (t->type == IQL_TK_KEYWORD) {
        switch (t->kw) {
            case IQL_KW_SELECT:
                st->kind = IQL_STMT_SELECT;
                ok = (st->u.select = parse_select(p)) != NULL;
                break;
            case IQL_KW_EXPLAIN:
                advance(p);
                st->kind = IQL_STMT_EXPLAIN;
                st->u.explain.analyze = accept_kw(p, IQL_KW_ANALYZE);
                if (!is_kw(&p->cur, IQL_KW_SELECT)) {
                    fail(p, &p->cur, "SELECT");
                    break;
                }
                ok = (st->u.explain.select = parse_select(p)) != NULL;
                break;
            case IQL_KW_SHOW:
                ok = parse_show(p, st);
                break;
            case IQL_KW_CREATE:
                ok = parse_create(p, st);
                break;
            case IQL_KW_DROP:
                ok = parse_drop(p, st);
                break;
            case IQL_KW_DELETE:
                advance(p);
                st->kind = IQL_STMT_DELETE;
                ok = parse_from_where(p, &st->u.show);
                break;
            default:
                break;
        }
        if (ok || p->rc != SILT_OK) return ok ? st : NULL;
    }
    return fail(p, t, "SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN");
}

/* ------------------------------------------------------------------ entry points */

int influxql_parse(const char *q, size_t n, arena *a, iql_query *out, silt_err *err) {
    memset(out, 0, sizeof *out);
    if (n > IQL_MAX_QUERY_BYTES)
        return SILT_FAIL(err, SILT_ELIMIT, "query is %zu bytes; the limit is %d bytes", n,
                         IQL_MAX_QUERY_BYTES);
    if (n == 0) return SILT_OK; /* q may be NULL */
    iql_parser p = {.a = a, .src = q, .rc = SILT_OK, .err = err};
    size_t bad;
    const char *nul = memchr(q, 0, n);
    if (nul) return fail_at(&p, (uint32_t)(nul - q), "invalid NUL byte"), p.rc;
    if (!utf8_valid((const uint8_t *)q, n, &bad))
        return fail_at(&p, (uint32_t)bad, "invalid UTF-8"), p.rc;
    influxql__lex_init(&p.lx, q, n, a);
    influxql__lex_next(&p.lx, &p.cur);

    ptr_list stmts = {0};
    bool semi = true;
    for (;;) {
        if (p.cur.type == IQL_TK_EOF) break;
        if (accept(&p, IQL_TK_SEMI)) {
            semi = true;
            continue;
        }
        if (!semi) {
            fail(&p, &p.cur, ";");
            break;
        }
        iql_stmt *st = parse_statement(&p);
        if (!st) break;
        list_push(&p, &stmts, st);
        semi = false;
    }
    if (p.rc != SILT_OK) return p.rc;
    out->stmts = (iql_stmt **)stmts.v;
    out->n_stmts = stmts.n;
    return SILT_OK;
}

int influxql_time_literal(str_view s, int64_t *t_ns) {
    return time_parse_rfc3339(s.p, s.n, t_ns);
}
