/* SPDX-License-Identifier: MIT
 *
 * The SQL parser: recursive descent from tokens to the AST of query_int.h. It checks syntax
 * only; names, types and meaning are the planner's (query_plan.c).
 *
 * Grammar of this version (keywords case-insensitive; [] optional, {} repeated):
 *   statement   = (query | show) [';'] EOF
 *   show        = SHOW TABLES | SHOW COLUMNS (FROM | IN) name
 *   query       = [WITH name AS '(' query ')' {',' name AS '(' query ')'}]
 *                 arm {UNION ALL arm} [ORDER BY okey {',' okey}] [LIMIT int] [OFFSET int]
 *   arm         = select | '(' query ')'
 *   select      = SELECT [DISTINCT] item {',' item} FROM from [WHERE expr]
 *                 [GROUP BY expr {',' expr}] [HAVING expr]
 *   from        = (name | '(' query ')') [[AS] name]
 *   okey        = expr [ASC|DESC] [NULLS (FIRST|LAST)]
 *   item        = '*' | expr [AS name]
 *   expr        = and {OR and}                      -> one n-ary QX_OR
 *   and         = not {AND not}                     -> one n-ary QX_AND
 *   not         = NOT not | cmp
 *   cmp         = sum [cmpop sum | IS [NOT] NULL | [NOT] IN '(' expr {',' expr} ')'
 *                 | [NOT] BETWEEN sum AND sum | [NOT] (LIKE | ILIKE) sum
 *                 | ('~' | '~*' | '!~' | '!~*') sum]   (comparisons do not chain)
 *   sum         = add {'||' add}
 *   add         = term {('+' | '-') term}
 *   term        = unary {('*' | '/' | '%') unary}
 *   unary       = ('-' | '+') unary | primary {'::' type}
 *   primary     = number | 'string' | TRUE | FALSE | NULL | INTERVAL 'string'
 *               | TIMESTAMP 'string' | CAST '(' expr AS type ')' | case
 *               | name '(' ['*' | [DISTINCT] expr {',' expr} [ORDER BY expr [ASC|DESC]]] ')'
 *               | name ['.' name] | '(' expr ')'
 *   case        = CASE [expr] WHEN expr THEN expr {WHEN expr THEN expr} [ELSE expr] END
 *   type        = bigint | int | integer | double [precision] | float | varchar | text
 *               | string | boolean | bool | timestamp | ...
 *   name        = identifier (not a reserved keyword) | "quoted identifier"
 *
 * Errors: the first error ends the parse with SILT_EPARSE and
 *   "syntax error at line L, column C: expected X, found Y"
 * where L and C are 1-based (C counts characters) and Y is the offending token as written,
 * or "end of input". Invariant (1) of query_int.h: nesting (parentheses, NOT, unary signs,
 * function arguments, chained + and -, and queries inside queries) is limited to
 * QUERY_MAX_DEPTH levels.
 */
#include "query_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct sql_parser {
    sql_lexer lx;
    sql_tok cur, next; /* the current token and one more of lookahead */
    arena *a;
    const char *src;
    size_t n;
    int depth;
    const char *follow; /* what may come after the last complete clause, for messages
                         * (NULL: nothing but the end or a ')') */
    char fbuf[160];     /* follow_or's message */
    int rc;             /* SILT_OK until the first error */
    silt_err *err;
    const query_param *params; /* values of $name placeholders */
    size_t n_params;
} sql_parser;

static void advance(sql_parser *p) {
    p->cur = p->next;
    if (p->cur.type == TK_EOF || p->cur.type == TK_ERROR) {
        p->next = p->cur; /* sticky: nothing follows an error or the end */
        return;
    }
    query__lex_next(&p->lx, &p->next);
}

/* A printable excerpt of the raw token for messages: at most 40 bytes, cut at a character
 * boundary, control characters replaced by '?'. The statement is valid UTF-8 (checked before
 * parsing), so the excerpt is too. */
static void tok_excerpt(const sql_parser *p, const sql_tok *t, char *out, size_t cap) {
    size_t n = t->len, max = cap - 4;
    bool cut = false;
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)p->src[t->pos + n] & 0xC0) == 0x80) n--;
        cut = true;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p->src[t->pos + i];
        out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (cut) memcpy(out + n, "...", 3), n += 3;
    out[n] = 0;
}

/* Record a syntax error at token t: "expected <what>, found <t>". Returns NULL so callers can
 * `return fail(...)`. Only the first error is kept. */
static __attribute__((noinline)) void *fail(sql_parser *p, const sql_tok *t, const char *what) {
    if (p->rc != SILT_OK) return NULL;
    uint32_t line, col;
    text_line_col(p->src, t->pos, &line, &col);
    if (t->type == TK_ERROR) {
        p->rc = SILT_FAIL(p->err, SILT_EPARSE, "syntax error at line %u, column %u: %.*s", line,
                          col, (int)t->text.n, t->text.p);
        return NULL;
    }
    char found[64];
    if (t->type == TK_EOF) {
        snprintf(found, sizeof found, "end of input");
    } else {
        char ex[48];
        tok_excerpt(p, t, ex, sizeof ex);
        snprintf(found, sizeof found, "%s'%s'", t->type == TK_STRING ? "string " : "", ex);
    }
    p->rc =
        SILT_FAIL(p->err, SILT_EPARSE, "syntax error at line %u, column %u: expected %s, found %s",
                  line, col, what, found);
    return NULL;
}

/* A syntax error with a free-form message at token t. */
static __attribute__((noinline)) void *fail_msg(sql_parser *p, const sql_tok *t, const char *msg) {
    if (p->rc != SILT_OK) return NULL;
    uint32_t line, col;
    text_line_col(p->src, t->pos, &line, &col);
    p->rc =
        SILT_FAIL(p->err, SILT_EPARSE, "syntax error at line %u, column %u: %s", line, col, msg);
    return NULL;
}

static bool is_kw(const sql_tok *t, sql_kw kw) {
    return t->type == TK_IDENT && t->kw == kw;
}

static bool accept_kw(sql_parser *p, sql_kw kw) {
    if (!is_kw(&p->cur, kw)) return false;
    advance(p);
    return true;
}

static bool accept(sql_parser *p, sql_tok_type type) {
    if (p->cur.type != type) return false;
    advance(p);
    return true;
}

static bool expect_kw(sql_parser *p, sql_kw kw) {
    if (accept_kw(p, kw)) return true;
    fail(p, &p->cur, query__kw_name(kw));
    return false;
}

/* A name token: a quoted identifier, or an unquoted one that is not a reserved keyword. */
static bool is_name(const sql_tok *t) {
    return t->type == TK_QIDENT ||
           (t->type == TK_IDENT && (t->kw == KW_NONE || t->kw > KW_RESERVED_END));
}

static const char *expect_name(sql_parser *p, const char *what) {
    if (!is_name(&p->cur)) return fail(p, &p->cur, what);
    const char *s = p->cur.text.p;
    advance(p);
    return s;
}

static qexpr *new_expr(sql_parser *p, qexpr_kind kind, uint32_t pos) {
    qexpr *e = arena_alloc(p->a, sizeof *e);
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->pos = pos;
    return e;
}

static __attribute__((noinline)) void too_deep(sql_parser *p) {
    char m[80];
    snprintf(m, sizeof m, "expression nested too deeply (more than %d levels)", QUERY_MAX_DEPTH);
    fail_msg(p, &p->cur, m);
}

static bool enter(sql_parser *p) {
    if (++p->depth <= QUERY_MAX_DEPTH) return true;
    too_deep(p);
    return false;
}

/* A growable array of expression pointers, in the arena. */
typedef struct expr_list {
    qexpr **v;
    size_t n, cap;
} expr_list;

static void list_push(sql_parser *p, expr_list *l, qexpr *e) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        qexpr **v = arena_alloc(p->a, cap * sizeof *v);
        if (l->n) memcpy(v, l->v, l->n * sizeof *v);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = e;
}

static qexpr *parse_expr(sql_parser *p);

static qexpr *parse_number(sql_parser *p) {
    const sql_tok *t = &p->cur;
    qexpr *e = new_expr(p, QX_LITERAL, t->pos);
    if (t->type == TK_INT) {
        uint64_t v = 0;
        bool overflow = false;
        for (size_t i = 0; i < t->text.n; i++) {
            unsigned d = (unsigned)(t->text.p[i] - '0');
            if (v > (UINT64_MAX - d) / 10) {
                overflow = true;
                break;
            }
            v = v * 10 + d;
        }
        if (!overflow) {
            if (v <= INT64_MAX) {
                e->u.lit.type = QT_INT;
                e->u.lit.v.i = (int64_t)v;
            } else {
                e->u.lit.type = QT_UINT;
                e->u.lit.v.u = v;
            }
            advance(p);
            return e;
        }
        /* beyond uint64: a float, as DataFusion does */
    }
    errno = 0;
    double d = strtod(t->text.p, NULL); /* NUL-terminated by the lexer; "C" numeric locale */
    if (isinf(d)) return fail_msg(p, t, "number out of range");
    e->u.lit.type = QT_FLOAT;
    e->u.lit.v.f = d;
    advance(p);
    return e;
}

/* name '(' [DISTINCT] ['*' | expr {',' expr}] [ORDER BY expr [ASC|DESC]] ')' */
static qexpr *parse_func(sql_parser *p, const char *name, uint32_t pos) {
    qexpr *e = new_expr(p, QX_FUNC, pos);
    e->u.func.name = name;
    advance(p); /* '(' */
    expr_list args = {0};
    bool star = p->cur.type == TK_STAR;
    if (star) {
        list_push(p, &args, new_expr(p, QX_STAR, p->cur.pos));
        advance(p);
    } else if (p->cur.type != TK_RPAREN) {
        e->u.func.distinct = accept_kw(p, KW_DISTINCT);
        for (;;) {
            qexpr *a = parse_expr(p);
            if (!a) return NULL;
            list_push(p, &args, a);
            if (!accept(p, TK_COMMA)) break;
        }
        if (accept_kw(p, KW_ORDER)) {
            if (!expect_kw(p, KW_BY)) return NULL;
            e->u.func.order = parse_expr(p);
            if (!e->u.func.order) return NULL;
            if (accept_kw(p, KW_DESC))
                e->u.func.order_desc = true;
            else
                accept_kw(p, KW_ASC);
        }
    }
    if (!accept(p, TK_RPAREN)) return fail(p, &p->cur, args.n && !star ? "',' or ')'" : "')'");
    e->u.func.args = args.v;
    e->u.func.n = args.n;
    return e;
}

/* A type name of CAST and '::': bigint, double [precision], varchar, boolean, timestamp... */
static bool parse_type(sql_parser *p, qtype *out) {
    static const struct {
        const char *name;
        qtype t;
    } types[] = {
        {"bigint", QT_INT},
        {"int", QT_INT},
        {"integer", QT_INT},
        {"int8", QT_INT},
        {"int64", QT_INT},
        {"smallint", QT_INT},
        {"bigint_unsigned", QT_UINT},
        {"ubigint", QT_UINT},
        {"uint64", QT_UINT},
        {"double", QT_FLOAT},
        {"float", QT_FLOAT},
        {"float8", QT_FLOAT},
        {"float64", QT_FLOAT},
        {"real", QT_FLOAT},
        {"numeric", QT_FLOAT},
        {"decimal", QT_FLOAT},
        {"varchar", QT_STRING},
        {"text", QT_STRING},
        {"string", QT_STRING},
        {"char", QT_STRING},
        {"utf8", QT_STRING},
        {"boolean", QT_BOOL},
        {"bool", QT_BOOL},
        {"timestamp", QT_TIME},
    };
    const sql_tok *t = &p->cur;
    if (t->type == TK_IDENT) {
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
            if (strcmp(t->text.p, types[i].name) != 0) continue;
            *out = types[i].t;
            bool dbl = strcmp(t->text.p, "double") == 0;
            advance(p);
            if (dbl && p->cur.type == TK_IDENT && strcmp(p->cur.text.p, "precision") == 0)
                advance(p);
            return true;
        }
    }
    fail(p, t, "a type name (bigint, double, varchar, boolean or timestamp)");
    return false;
}

static qexpr *new_cast(sql_parser *p, qexpr *arg, qtype to, uint32_t pos) {
    qexpr *e = new_expr(p, QX_CAST, pos);
    e->u.cast.arg = arg;
    e->u.cast.to = to;
    return e;
}

/* CASE [operand] WHEN expr THEN expr {WHEN expr THEN expr} [ELSE expr] END */
static qexpr *parse_case(sql_parser *p) {
    qexpr *e = new_expr(p, QX_CASE, p->cur.pos);
    advance(p); /* CASE */
    if (!is_kw(&p->cur, KW_WHEN)) {
        e->u.cs.operand = parse_expr(p);
        if (!e->u.cs.operand) return NULL;
    }
    expr_list w = {0}, t = {0};
    if (!is_kw(&p->cur, KW_WHEN)) return fail(p, &p->cur, "WHEN");
    while (accept_kw(p, KW_WHEN)) {
        qexpr *c = parse_expr(p);
        if (!c) return NULL;
        if (!expect_kw(p, KW_THEN)) return NULL;
        qexpr *v = parse_expr(p);
        if (!v) return NULL;
        list_push(p, &w, c);
        list_push(p, &t, v);
    }
    if (accept_kw(p, KW_ELSE)) {
        e->u.cs.els = parse_expr(p);
        if (!e->u.cs.els) return NULL;
    }
    if (!accept_kw(p, KW_END)) return fail(p, &p->cur, "WHEN, ELSE or END");
    e->u.cs.whens = w.v;
    e->u.cs.thens = t.v;
    e->u.cs.n = w.n;
    return e;
}

static qexpr *parse_primary(sql_parser *p) {
    sql_tok *t = &p->cur;
    uint32_t pos = t->pos;
    switch (t->type) {
        case TK_INT:
        case TK_FLOAT:
            return parse_number(p);
        case TK_STRING: {
            qexpr *e = new_expr(p, QX_LITERAL, pos);
            e->u.lit.type = QT_STRING;
            e->u.lit.v.s = t->text;
            advance(p);
            return e;
        }
        case TK_PARAM: { /* the value, as a literal: never parsed as query text */
            const query_param *pv = NULL;
            for (size_t i = 0; i < p->n_params && !pv; i++)
                if (sv_eq_cstr(t->text, p->params[i].name)) pv = &p->params[i];
            if (!pv) {
                uint32_t line, col;
                text_line_col(p->src, pos, &line, &col);
                if (p->rc == SILT_OK)
                    p->rc = SILT_FAIL(p->err, SILT_EPARSE,
                                      "no value for parameter $%.*s at line %u, column %u",
                                      (int)t->text.n, t->text.p, line, col);
                return NULL;
            }
            qexpr *e = new_expr(p, QX_LITERAL, pos);
            e->u.lit = query__param_value(pv);
            advance(p);
            return e;
        }
        case TK_LPAREN: {
            advance(p);
            qexpr *e = parse_expr(p);
            if (!e) return NULL;
            if (!accept(p, TK_RPAREN)) return fail(p, &p->cur, "')'");
            return e;
        }
        case TK_IDENT:
            if (t->kw == KW_CASE) {
                if (!enter(p)) return NULL;
                qexpr *e = parse_case(p);
                p->depth--;
                return e;
            }
            if (t->kw == KW_CAST && p->next.type == TK_LPAREN) {
                advance(p);
                advance(p);
                qexpr *arg = parse_expr(p);
                if (!arg) return NULL;
                if (!expect_kw(p, KW_AS)) return NULL;
                qtype to;
                if (!parse_type(p, &to)) return NULL;
                if (!accept(p, TK_RPAREN)) return fail(p, &p->cur, "')'");
                return new_cast(p, arg, to, pos);
            }
            if (t->kw == KW_TRUE || t->kw == KW_FALSE || t->kw == KW_NULL) {
                qexpr *e = new_expr(p, QX_LITERAL, pos);
                e->u.lit.type = t->kw == KW_NULL ? QT_NULL : QT_BOOL;
                e->u.lit.v.b = t->kw == KW_TRUE;
                advance(p);
                return e;
            }
            if ((t->kw == KW_INTERVAL || t->kw == KW_TIMESTAMP) && p->next.type == TK_STRING) {
                /* typed literals; the planner checks the text */
                sql_kw kw = t->kw;
                advance(p);
                qexpr *e = new_expr(p, QX_FUNC, pos);
                e->u.func.name = kw == KW_INTERVAL ? "interval" : "timestamp";
                qexpr *arg = new_expr(p, QX_LITERAL, p->cur.pos);
                arg->u.lit.type = QT_STRING;
                arg->u.lit.v.s = p->cur.text;
                qexpr **args = arena_alloc(p->a, sizeof *args);
                args[0] = arg;
                e->u.func.args = args;
                e->u.func.n = 1;
                advance(p);
                return e;
            }
            /* fall through */
        case TK_QIDENT: {
            if (!is_name(t)) break;
            bool quoted = t->type == TK_QIDENT;
            const char *name = t->text.p;
            advance(p);
            if (!quoted && p->cur.type == TK_LPAREN) return parse_func(p, name, pos);
            qexpr *e = new_expr(p, QX_COLUMN, pos);
            if (p->cur.type == TK_DOT) { /* qualified: table.column or alias.column */
                advance(p);
                e->u.col.qual = name;
                name = expect_name(p, "a column name");
                if (!name) return NULL;
            }
            e->u.col.name = name;
            return e;
        }
        default:
            break;
    }
    return fail(p, t, "an expression");
}

static qexpr *parse_unary(sql_parser *p) {
    if (p->cur.type == TK_MINUS || p->cur.type == TK_PLUS) {
        bool neg = p->cur.type == TK_MINUS;
        uint32_t pos = p->cur.pos;
        advance(p);
        if (!enter(p)) return NULL;
        qexpr *arg = parse_unary(p);
        p->depth--;
        if (!arg || !neg) return arg;
        qexpr *e = new_expr(p, QX_NEG, pos);
        e->u.un.arg = arg;
        return e;
    }
    qexpr *e = parse_primary(p);
    while (e && p->cur.type == TK_DCOLON) { /* x::type binds tighter than any operator */
        advance(p);
        qtype to;
        if (!parse_type(p, &to)) return NULL;
        e = new_cast(p, e, to, e->pos);
    }
    return e;
}

/* A left-leaning chain of binary operators of one precedence level. */
static qexpr *parse_binary_chain(sql_parser *p, qexpr *(*operand)(sql_parser *),
                                 bool (*op_of)(sql_tok_type, qop *)) {
    qexpr *l = operand(p);
    int saved = p->depth;
    qop op;
    while (l && op_of(p->cur.type, &op)) {
        advance(p);
        if (!enter(p)) return NULL; /* each link deepens the left-leaning tree */
        qexpr *r = operand(p);
        if (!r) return NULL;
        qexpr *e = new_expr(p, QX_ARITH, l->pos);
        e->u.bin.op = op;
        e->u.bin.l = l;
        e->u.bin.r = r;
        l = e;
    }
    p->depth = saved;
    return l;
}

static bool mul_op(sql_tok_type t, qop *op) {
    if (t == TK_STAR) return *op = QOP_MUL, true;
    if (t == TK_SLASH) return *op = QOP_DIV, true;
    if (t == TK_PERCENT) return *op = QOP_MOD, true;
    return false;
}

static bool add_op(sql_tok_type t, qop *op) {
    if (t == TK_PLUS) return *op = QOP_ADD, true;
    if (t == TK_MINUS) return *op = QOP_SUB, true;
    return false;
}

static bool concat_op(sql_tok_type t, qop *op) {
    if (t == TK_CONCAT) return *op = QOP_CONCAT, true;
    return false;
}

static qexpr *parse_term(sql_parser *p) {
    return parse_binary_chain(p, parse_unary, mul_op);
}

static qexpr *parse_add(sql_parser *p) {
    return parse_binary_chain(p, parse_term, add_op);
}

static qexpr *parse_sum(sql_parser *p) {
    return parse_binary_chain(p, parse_add, concat_op);
}

static bool cmp_op(sql_tok_type t, qop *op) {
    switch (t) {
        case TK_EQ:
            *op = QOP_EQ;
            return true;
        case TK_NE:
            *op = QOP_NE;
            return true;
        case TK_LT:
            *op = QOP_LT;
            return true;
        case TK_LE:
            *op = QOP_LE;
            return true;
        case TK_GT:
            *op = QOP_GT;
            return true;
        case TK_GE:
            *op = QOP_GE;
            return true;
        default:
            return false;
    }
}

static qexpr *parse_cmp(sql_parser *p) {
    qexpr *l = parse_sum(p);
    if (!l) return NULL;
    qop op;
    if (cmp_op(p->cur.type, &op)) {
        advance(p);
        qexpr *r = parse_sum(p);
        if (!r) return NULL;
        qexpr *e = new_expr(p, QX_CMP, l->pos);
        e->u.bin.op = op;
        e->u.bin.l = l;
        e->u.bin.r = r;
        return e;
    }
    bool negated = false;
    if (is_kw(&p->cur, KW_NOT) && (is_kw(&p->next, KW_IN) || is_kw(&p->next, KW_BETWEEN) ||
                                   is_kw(&p->next, KW_LIKE) || is_kw(&p->next, KW_ILIKE))) {
        negated = true;
        advance(p);
    }
    if (accept_kw(p, KW_IN)) {
        if (!accept(p, TK_LPAREN)) return fail(p, &p->cur, "'('");
        expr_list lst = {0};
        list_push(p, &lst, l);
        for (;;) {
            qexpr *v = parse_expr(p);
            if (!v) return NULL;
            list_push(p, &lst, v);
            if (!accept(p, TK_COMMA)) break;
        }
        if (!accept(p, TK_RPAREN)) return fail(p, &p->cur, "',' or ')'");
        qexpr *e = new_expr(p, QX_IN, l->pos);
        e->u.list.args = lst.v;
        e->u.list.n = lst.n;
        e->u.list.negated = negated;
        return e;
    }
    if (accept_kw(p, KW_BETWEEN)) {
        qexpr *lo = parse_sum(p);
        if (!lo) return NULL;
        if (!expect_kw(p, KW_AND)) return NULL;
        qexpr *hi = parse_sum(p);
        if (!hi) return NULL;
        qexpr **v = arena_alloc(p->a, 3 * sizeof *v);
        v[0] = l, v[1] = lo, v[2] = hi;
        qexpr *e = new_expr(p, QX_BETWEEN, l->pos);
        e->u.list.args = v;
        e->u.list.n = 3;
        e->u.list.negated = negated;
        return e;
    }
    qlike_kind lk = QLIKE_LIKE;
    bool is_like = true;
    if (is_kw(&p->cur, KW_LIKE))
        lk = QLIKE_LIKE;
    else if (is_kw(&p->cur, KW_ILIKE))
        lk = QLIKE_ILIKE;
    else if (p->cur.type == TK_RE || p->cur.type == TK_NRE)
        lk = QLIKE_RE;
    else if (p->cur.type == TK_RE_I || p->cur.type == TK_NRE_I)
        lk = QLIKE_RE_I;
    else
        is_like = false;
    if (is_like) {
        if (p->cur.type == TK_NRE || p->cur.type == TK_NRE_I) negated = true;
        advance(p);
        qexpr *r = parse_sum(p);
        if (!r) return NULL;
        qexpr **v = arena_alloc(p->a, 2 * sizeof *v);
        v[0] = l, v[1] = r;
        qexpr *e = new_expr(p, QX_LIKE, l->pos);
        e->u.list.args = v;
        e->u.list.n = 2;
        e->u.list.negated = negated;
        e->u.list.like = lk;
        return e;
    }
    if (negated) return fail(p, &p->cur, "IN, BETWEEN, LIKE or ILIKE");
    if (is_kw(&p->cur, KW_IS)) {
        advance(p);
        negated = accept_kw(p, KW_NOT);
        if (!accept_kw(p, KW_NULL)) return fail(p, &p->cur, negated ? "NULL" : "NOT or NULL");
        qexpr *e = new_expr(p, QX_IS_NULL, l->pos);
        e->u.un.arg = l;
        e->u.un.negated = negated;
        return e;
    }
    return l;
}

static qexpr *parse_not(sql_parser *p) {
    if (is_kw(&p->cur, KW_NOT)) {
        uint32_t pos = p->cur.pos;
        advance(p);
        if (!enter(p)) return NULL;
        qexpr *arg = parse_not(p);
        p->depth--;
        if (!arg) return NULL;
        qexpr *e = new_expr(p, QX_NOT, pos);
        e->u.un.arg = arg;
        return e;
    }
    return parse_cmp(p);
}

/* An n-ary AND or OR (invariant 1: chains never make deep trees). */
static qexpr *parse_chain(sql_parser *p, sql_kw kw) {
    qexpr *first = kw == KW_OR ? parse_chain(p, KW_AND) : parse_not(p);
    if (!first || !is_kw(&p->cur, kw)) return first;
    expr_list l = {0};
    list_push(p, &l, first);
    while (accept_kw(p, kw)) {
        qexpr *e = kw == KW_OR ? parse_chain(p, KW_AND) : parse_not(p);
        if (!e) return NULL;
        list_push(p, &l, e);
    }
    qexpr *e = new_expr(p, kw == KW_OR ? QX_OR : QX_AND, first->pos);
    e->u.list.args = l.v;
    e->u.list.n = l.n;
    return e;
}

static qexpr *parse_expr(sql_parser *p) {
    if (!enter(p)) return NULL;
    qexpr *e = parse_chain(p, KW_OR);
    p->depth--;
    return e;
}

/* LIMIT / OFFSET argument: a non-negative integer that fits int64. */
static bool parse_count(sql_parser *p, int64_t *out) {
    const sql_tok *t = &p->cur;
    if (t->type != TK_INT) {
        fail(p, t, "a non-negative integer");
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < t->text.n; i++) {
        unsigned d = (unsigned)(t->text.p[i] - '0');
        if (v > ((uint64_t)INT64_MAX - d) / 10) {
            fail_msg(p, t, "integer out of range (the maximum is 9223372036854775807)");
            return false;
        }
        v = v * 10 + d;
    }
    *out = (int64_t)v;
    advance(p);
    return true;
}

/* table | schema.table | catalog.schema.table (information_schema.tables,
 * system.parquet_files, iox.cpu, public.iox.cpu). */
static bool parse_table_name(sql_parser *p, qstmt *st, const char *what) {
    st->table_pos = p->cur.pos;
    st->table = expect_name(p, what);
    if (!st->table) return false;
    for (int parts = 1; parts < 3 && p->cur.type == TK_DOT; parts++) {
        advance(p);
        st->catalog = st->schema;
        st->schema = st->table;
        st->table = expect_name(p, "a table name after '.'");
        if (!st->table) return false;
    }
    return true;
}

static qstmt *new_stmt(sql_parser *p, qstmt_kind kind) {
    qstmt *st = arena_alloc(p->a, sizeof *st);
    memset(st, 0, sizeof *st);
    st->kind = kind;
    st->limit = -1;
    return st;
}

/* The message for "expected <what may follow> or <end>": end is "end of input" at the top
 * level and "')'" inside parentheses. */
static const char *follow_or(sql_parser *p, const char *end) {
    if (!p->follow) return end;
    snprintf(p->fbuf, sizeof p->fbuf, "%s or %s", p->follow, end);
    return p->fbuf;
}

static qstmt *parse_query(sql_parser *p);

/* '(' query ')' with the '(' current. */
static qstmt *parse_paren_query(sql_parser *p) {
    advance(p); /* '(' */
    if (!enter(p)) return NULL;
    qstmt *q = parse_query(p);
    p->depth--;
    if (!q) return NULL;
    if (!accept(p, TK_RPAREN)) return fail(p, &p->cur, follow_or(p, "')'"));
    p->follow = NULL;
    return q;
}

/* SELECT [DISTINCT] items FROM from [WHERE] [GROUP BY] [HAVING], without the ORDER BY, LIMIT
 * and OFFSET that belong to the whole query (parse_tail). */
static qstmt *parse_select_core(sql_parser *p) {
    qstmt *st = new_stmt(p, QS_SELECT);
    advance(p); /* SELECT */
    st->distinct = accept_kw(p, KW_DISTINCT);
    size_t cap = 0;
    for (;;) {
        if (st->n_items == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            qselect_item *v = arena_alloc(p->a, ncap * sizeof *v);
            if (st->n_items) memcpy(v, st->items, st->n_items * sizeof *v);
            st->items = v;
            cap = ncap;
        }
        qselect_item *it = &st->items[st->n_items];
        it->alias = NULL;
        if (p->cur.type == TK_STAR) {
            it->expr = new_expr(p, QX_STAR, p->cur.pos);
            advance(p);
        } else {
            if (p->cur.type == TK_EOF || is_kw(&p->cur, KW_FROM))
                return fail(p, &p->cur, "a column name, an expression or '*'");
            it->expr = parse_expr(p);
            if (!it->expr) return NULL;
            if (accept_kw(p, KW_AS)) {
                it->alias = expect_name(p, "an alias name");
                if (!it->alias) return NULL;
            }
        }
        st->n_items++;
        if (!accept(p, TK_COMMA)) break;
    }
    if (!expect_kw(p, KW_FROM)) return NULL;
    st->table_pos = p->cur.pos;
    if (p->cur.type == TK_LPAREN) { /* FROM (query) [AS] alias */
        if (!is_kw(&p->next, KW_SELECT) && !is_kw(&p->next, KW_WITH) && p->next.type != TK_LPAREN) {
            advance(p);
            return fail(p, &p->cur, "SELECT or WITH");
        }
        st->from_sub = parse_paren_query(p);
        if (!st->from_sub) return NULL;
    } else {
        if (!parse_table_name(p, st, "a table name or '('")) return NULL;
    }
    if (accept_kw(p, KW_AS)) {
        st->alias = expect_name(p, "an alias name");
        if (!st->alias) return NULL;
    } else if (is_name(&p->cur)) {
        st->alias = p->cur.text.p;
        advance(p);
    }
    p->follow = "WHERE, GROUP BY, HAVING, UNION ALL, ORDER BY, LIMIT, OFFSET";
    if (accept_kw(p, KW_WHERE)) {
        st->where = parse_expr(p);
        if (!st->where) return NULL;
        p->follow = "GROUP BY, HAVING, UNION ALL, ORDER BY, LIMIT, OFFSET";
    }
    if (accept_kw(p, KW_GROUP)) {
        if (!expect_kw(p, KW_BY)) return NULL;
        expr_list g = {0};
        for (;;) {
            qexpr *e = parse_expr(p);
            if (!e) return NULL;
            list_push(p, &g, e);
            if (!accept(p, TK_COMMA)) break;
        }
        st->group = g.v;
        st->n_group = g.n;
        p->follow = "HAVING, UNION ALL, ORDER BY, LIMIT, OFFSET";
    }
    if (accept_kw(p, KW_HAVING)) {
        st->having = parse_expr(p);
        if (!st->having) return NULL;
        p->follow = "UNION ALL, ORDER BY, LIMIT, OFFSET";
    }
    return st;
}

/* [ORDER BY okey {',' okey}] [LIMIT int] [OFFSET int] of a query (a SELECT or a UNION ALL). */
static qstmt *parse_tail(sql_parser *p, qstmt *st) {
    if (accept_kw(p, KW_ORDER)) {
        if (!expect_kw(p, KW_BY)) return NULL;
        size_t ocap = 0;
        for (;;) {
            if (st->n_order == ocap) {
                size_t ncap = ocap ? ocap * 2 : 2;
                qorder_item *v = arena_alloc(p->a, ncap * sizeof *v);
                if (st->n_order) memcpy(v, st->order, st->n_order * sizeof *v);
                st->order = v;
                ocap = ncap;
            }
            qorder_item *o = &st->order[st->n_order];
            o->expr = parse_expr(p);
            if (!o->expr) return NULL;
            o->desc = false;
            o->nulls = QNULLS_DEFAULT;
            if (accept_kw(p, KW_DESC))
                o->desc = true;
            else
                accept_kw(p, KW_ASC);
            if (accept_kw(p, KW_NULLS)) {
                if (accept_kw(p, KW_FIRST))
                    o->nulls = QNULLS_FIRST;
                else if (accept_kw(p, KW_LAST))
                    o->nulls = QNULLS_LAST;
                else
                    return fail(p, &p->cur, "FIRST or LAST");
            }
            st->n_order++;
            if (!accept(p, TK_COMMA)) break;
        }
        p->follow = "LIMIT, OFFSET";
    }
    if (accept_kw(p, KW_LIMIT)) {
        if (!parse_count(p, &st->limit)) return NULL;
        p->follow = "OFFSET";
    }
    if (accept_kw(p, KW_OFFSET)) {
        if (!parse_count(p, &st->offset)) return NULL;
        p->follow = NULL;
    }
    return st;
}

/* query = [WITH name AS '(' query ')' {',' ...}] arm {UNION ALL arm} tail
 * arm   = select_core | '(' query ')'
 * A lone SELECT arm takes the tail itself; anything else becomes a QS_UNION node (a lone
 * parenthesised arm with a tail is a one-arm union). Each parenthesised level counts toward
 * QUERY_MAX_DEPTH like an expression's parentheses. */
static qstmt *parse_query(sql_parser *p) {
    qcte *ctes = NULL;
    size_t n_ctes = 0, cap = 0;
    if (accept_kw(p, KW_WITH)) {
        for (;;) {
            sql_tok name_tok = p->cur;
            const char *name = expect_name(p, "a name for the WITH query");
            if (!name) return NULL;
            for (size_t i = 0; i < n_ctes; i++)
                if (strcmp(ctes[i].name, name) == 0)
                    return fail_msg(p, &name_tok, "WITH query name specified more than once");
            if (!expect_kw(p, KW_AS)) return NULL;
            if (p->cur.type != TK_LPAREN) return fail(p, &p->cur, "'('");
            qstmt *q = parse_paren_query(p);
            if (!q) return NULL;
            if (n_ctes == cap) {
                size_t ncap = cap ? cap * 2 : 4;
                qcte *v = arena_alloc(p->a, ncap * sizeof *v);
                if (n_ctes) memcpy(v, ctes, n_ctes * sizeof *v);
                ctes = v;
                cap = ncap;
            }
            ctes[n_ctes++] = (qcte){.name = name, .pos = name_tok.pos, .query = q};
            if (!accept(p, TK_COMMA)) break;
        }
    }
    qstmt **arms = NULL;
    size_t n_arms = 0, acap = 0;
    bool paren = false;
    for (;;) {
        qstmt *arm;
        if (is_kw(&p->cur, KW_SELECT)) {
            arm = parse_select_core(p);
        } else if (p->cur.type == TK_LPAREN) {
            arm = parse_paren_query(p);
            paren = true;
            p->follow = "UNION ALL, ORDER BY, LIMIT, OFFSET";
        } else {
            return fail(p, &p->cur, n_arms || n_ctes ? "SELECT or '('" : "SELECT, WITH or '('");
        }
        if (!arm) return NULL;
        if (n_arms == acap) {
            size_t ncap = acap ? acap * 2 : 2;
            qstmt **v = arena_alloc(p->a, ncap * sizeof *v);
            if (n_arms) memcpy(v, arms, n_arms * sizeof *v);
            arms = v;
            acap = ncap;
        }
        arms[n_arms++] = arm;
        if (!accept_kw(p, KW_UNION)) break;
        if (!accept_kw(p, KW_ALL))
            return fail(p, &p->cur, "ALL (UNION without ALL is not supported)");
    }
    bool tail = is_kw(&p->cur, KW_ORDER) || is_kw(&p->cur, KW_LIMIT) || is_kw(&p->cur, KW_OFFSET);
    qstmt *st;
    if (n_arms == 1 && (!paren || (!tail && !n_ctes))) {
        st = arms[0];
    } else {
        st = new_stmt(p, QS_UNION);
        st->arms = arms;
        st->n_arms = n_arms;
        st->table_pos = arms[0]->table_pos;
    }
    if (!parse_tail(p, st)) return NULL;
    if (n_ctes) {
        if (st->n_ctes) { /* WITH a AS (...) (WITH b AS (...) SELECT ...): nest */
            qstmt *u = new_stmt(p, QS_UNION);
            u->arms = arena_alloc(p->a, sizeof *u->arms);
            u->arms[0] = st;
            u->n_arms = 1;
            st = u;
        }
        st->ctes = ctes;
        st->n_ctes = n_ctes;
    }
    return st;
}

static qstmt *parse_show(sql_parser *p, qstmt *st) {
    advance(p); /* SHOW */
    if (accept_kw(p, KW_TABLES)) {
        st->kind = QS_SHOW_TABLES;
        return st;
    }
    if (accept_kw(p, KW_COLUMNS)) {
        st->kind = QS_SHOW_COLUMNS;
        if (!accept_kw(p, KW_FROM) && !accept_kw(p, KW_IN)) return fail(p, &p->cur, "FROM");
        return parse_table_name(p, st, "a table name") ? st : NULL;
    }
    return fail(p, &p->cur, "TABLES or COLUMNS");
}

qval query__param_value(const query_param *p) {
    qval v = {.type = QT_NULL};
    switch (p->type) {
        case QPARAM_NULL:
            break;
        case QPARAM_BOOL:
            v.type = QT_BOOL;
            v.v.b = p->b;
            break;
        case QPARAM_INT:
            v.type = QT_INT;
            v.v.i = p->i;
            break;
        case QPARAM_FLOAT:
            v.type = QT_FLOAT;
            v.v.f = p->f;
            break;
        case QPARAM_STRING:
            v.type = QT_STRING;
            v.v.s = sv_from(p->s);
            break;
    }
    return v;
}

int query__parse(const char *sql, size_t n, arena *a, qstmt **out, silt_err *err) {
    return query__parse_params(sql, n, a, NULL, 0, out, err);
}

int query__parse_params(const char *sql, size_t n, arena *a, const query_param *params,
                        size_t n_params, qstmt **out, silt_err *err) {
    *out = NULL;
    if (n > QUERY_MAX_SQL_BYTES)
        return SILT_FAIL(err, SILT_ELIMIT, "query is %zu bytes; the limit is %d bytes", n,
                         QUERY_MAX_SQL_BYTES);
    size_t bad;
    if (!utf8_valid((const uint8_t *)sql, n, &bad)) {
        uint32_t line, col;
        text_line_col(sql, bad, &line, &col);
        return SILT_FAIL(err, SILT_EPARSE,
                         "syntax error at line %u, column %u: the query is not valid UTF-8", line,
                         col);
    }
    sql_parser p = {.a = a,
                    .src = sql,
                    .n = n,
                    .follow = NULL,
                    .rc = SILT_OK,
                    .err = err,
                    .params = params,
                    .n_params = n_params};
    query__lex_init(&p.lx, sql, n, a);
    query__lex_next(&p.lx, &p.next);
    advance(&p);

    qstmt *r;
    if (is_kw(&p.cur, KW_SELECT) || is_kw(&p.cur, KW_WITH) || p.cur.type == TK_LPAREN) {
        r = parse_query(&p);
    } else if (is_kw(&p.cur, KW_SHOW)) {
        r = parse_show(&p, new_stmt(&p, 0));
    } else {
        r = fail(&p, &p.cur, "SELECT, WITH or SHOW");
    }
    if (r) {
        const char *end = follow_or(&p, "end of input");
        if (accept(&p, TK_SEMI)) end = "end of input (one statement per query)";
        if (p.cur.type != TK_EOF) r = fail(&p, &p.cur, end);
    }
    qstmt *st = r;
    if (!r) {
        assert(p.rc != SILT_OK);
        return p.rc;
    }
    *out = st;
    return SILT_OK;
}
