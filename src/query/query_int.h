/* SPDX-License-Identifier: MIT
 *
 * query internals: the pieces between query_sql() and the storage interface, shared by the
 * files of src/query/ and by the module's unit tests. Nothing outside src/query/ and
 * tests/unit/query/ includes this header.
 *
 * Pipeline of one statement (each stage owns one file):
 *   sql_lex.c      bytes -> tokens (on demand, one token of lookahead plus one more)
 *   sql_parse.c    tokens -> AST (qstmt with qexpr trees), recursive descent
 *   query_plan.c   AST + table schema -> logical plan (qplan chain): name resolution, type
 *                  checking, constant folding, NOT push-down, time-range extraction
 *   query_exec.c   plan -> pipeline over the source's batches: predicates are evaluated a
 *                  column at a time into selection vectors; sort, limit, count
 *   query_format.c result rows -> JSON / JSONL / CSV, enforcing max_result_bytes
 *   query.c        query_sql(): the driver tying the stages together
 *
 * Memory: everything a statement allocates for its AST and plan comes from one query arena
 * (qctx.arena), freed as a unit when query_sql() returns. The executor has a second arena,
 * reset between batches, for selection vectors and other per-batch scratch (PostgreSQL
 * ExprContext style).
 *
 * Invariants:
 *   (1) Expression trees are at most QUERY_MAX_DEPTH levels deep (the parser enforces it, and
 *       AND/OR chains are flattened into n-ary nodes), so every recursive walk is bounded.
 *   (2) A bound predicate (qpred) contains no NOT: negation is pushed to the leaves while
 *       binding, which is exact under SQL three-valued logic (NOT (x < c) == x >= c, both
 *       unknown when x is NULL). A leaf therefore selects exactly the rows where it is TRUE.
 *   (3) Selection vectors hold ascending row indices of the current batch; every operator
 *       preserves that order, so source order is kept without ORDER BY.
 *   (4) No global mutable state: query_sql() may run on many threads at once.
 */
#ifndef SILT_QUERY_INT_H
#define SILT_QUERY_INT_H

#include "query.h"

#define QUERY_MAX_SQL_BYTES (1024 * 1024) /* longer statements are rejected (SILT_ELIMIT) */
#define QUERY_MAX_DEPTH     256           /* expression nesting, invariant (1) */

/* ------------------------------------------------------------------ values and types */

/* Engine value types. Tags and string fields are both QT_STRING; qcol_kind tells them apart
 * where it matters (SHOW COLUMNS). */
typedef enum qtype {
    QT_NULL = 0, /* the type of the NULL literal */
    QT_BOOL,
    QT_INT,      /* int64 */
    QT_UINT,     /* uint64 */
    QT_FLOAT,    /* double */
    QT_STRING,   /* bytes (valid UTF-8 from storage; byte order comparisons) */
    QT_TIME,     /* int64 ns since the epoch, UTC */
    QT_INTERVAL, /* int64 ns; only in constant expressions (now() - INTERVAL '1 hour') */
} qtype;

const char *query__type_name(qtype t);        /* "integer", "timestamp", ... */
qtype query__col_type(const query_column *c); /* storage column -> engine type */

/* A constant. Strings point into the query arena (or the statement text). */
typedef struct qval {
    qtype type;
    union {
        bool b;
        int64_t i; /* QT_INT, QT_TIME, QT_INTERVAL */
        uint64_t u;
        double f;
        str_view s;
    } v;
} qval;

/* Exact three-way comparison of two numeric constants (QT_INT, QT_UINT, QT_FLOAT) by value;
 * no rounding, no overflow. Returns -1, 0, 1, or 2 when unordered (a NaN is involved). */
int query__num_cmp(const qval *a, const qval *b);

/* Exact comparison of a double with an int64 / uint64 (no conversion of the integer to
 * double, which would round above 2^53): -1, 0, 1, or 2 if x is NaN. */
static inline int query__cmp_f64_i64(double x, int64_t c) {
    if (x != x) return 2;
    if (x >= 0x1p63) return 1;
    if (x < -0x1p63) return -1;
    int64_t xi = (int64_t)x; /* truncates toward zero; in range, and exactly a double */
    if (xi != c) return xi < c ? -1 : 1;
    double frac = x - (double)xi; /* exact */
    return frac > 0 ? 1 : frac < 0 ? -1 : 0;
}

static inline int query__cmp_f64_u64(double x, uint64_t c) {
    if (x != x) return 2;
    if (x < 0) return -1;
    if (x >= 0x1p64) return 1;
    uint64_t xu = (uint64_t)x;
    if (xu != c) return xu < c ? -1 : 1;
    return x - (double)xu > 0 ? 1 : 0;
}

/* ------------------------------------------------------------------ lexer */

typedef enum sql_tok_type {
    TK_EOF = 0,
    TK_ERROR,  /* lexical error: text holds the message */
    TK_IDENT,  /* unquoted identifier or keyword; text is folded to lower case */
    TK_QIDENT, /* "quoted identifier"; text is unescaped, case kept */
    TK_STRING, /* 'string literal'; text is unescaped */
    TK_INT,    /* digits only; text is the digits */
    TK_FLOAT,  /* digits with '.' and/or an exponent */
    TK_COMMA,
    TK_DOT,
    TK_LPAREN,
    TK_RPAREN,
    TK_SEMI,
    TK_STAR,
    TK_PLUS,
    TK_MINUS,
    TK_SLASH,
    TK_PERCENT,
    TK_EQ,
    TK_NE, /* != or <> */
    TK_LT,
    TK_LE,
    TK_GT,
    TK_GE,
} sql_tok_type;

/* Keywords. Reserved ones cannot be used as unquoted names; the others are keywords only
 * where the grammar expects them (SHOW TABLES, INTERVAL '...'). */
typedef enum sql_kw {
    KW_NONE = 0,
    /* reserved */
    KW_AND,
    KW_AS,
    KW_ASC,
    KW_BY,
    KW_DESC,
    KW_FALSE,
    KW_FROM,
    KW_IS,
    KW_LIMIT,
    KW_NOT,
    KW_NULL,
    KW_OFFSET,
    KW_OR,
    KW_ORDER,
    KW_SELECT,
    KW_SHOW,
    KW_TRUE,
    KW_WHERE,
    KW_RESERVED_END,
    /* non-reserved */
    KW_COLUMNS,
    KW_IN,
    KW_INTERVAL,
    KW_TABLES,
    KW_TIMESTAMP,
} sql_kw;

typedef struct sql_tok {
    sql_tok_type type;
    sql_kw kw;         /* TK_IDENT only */
    uint32_t pos, len; /* the raw token in the statement: byte offset and length */
    str_view text;     /* see sql_tok_type; NUL-terminated for identifiers and literals */
} sql_tok;

typedef struct sql_lexer {
    const char *src;
    uint32_t n, pos;
    arena *a; /* folded identifiers, unescaped literals, error messages */
} sql_lexer;

void query__lex_init(sql_lexer *lx, const char *src, size_t n, arena *a);
/* Scan the next token. Never fails: a lexical error is a TK_ERROR token whose text is the
 * message and whose pos is where the error is. */
void query__lex_next(sql_lexer *lx, sql_tok *t);
const char *query__kw_name(sql_kw kw); /* upper case, for messages */

/* 1-based line and column (in characters) of byte offset pos of src. */
void query__line_col(const char *src, size_t pos, uint32_t *line, uint32_t *col);

/* ------------------------------------------------------------------ AST */

typedef enum qexpr_kind {
    QX_COLUMN,  /* a column reference */
    QX_LITERAL, /* a constant (v.lit) */
    QX_STAR,    /* '*' in a select list or count(*) */
    QX_CMP,     /* l op r */
    QX_ARITH,   /* l op r with op '+' or '-' (constant folding only in this version) */
    QX_NEG,     /* -arg */
    QX_AND,     /* n-ary, invariant (1) */
    QX_OR,      /* n-ary */
    QX_NOT,     /* NOT arg */
    QX_IS_NULL, /* arg IS [NOT] NULL (negated) */
    QX_FUNC,    /* name(args) */
} qexpr_kind;

typedef enum qop {
    QOP_EQ = 0,
    QOP_NE,
    QOP_LT,
    QOP_LE,
    QOP_GT,
    QOP_GE,
    QOP_ADD,
    QOP_SUB,
} qop;

/* Does a three-way comparison result (-1, 0, 1; 2 = unordered, a NaN) satisfy op? Unordered
 * satisfies only <> (IEEE 754). Shared by the planner's constant folding and the executor's
 * kernels so the two always agree. */
static inline bool query__op_holds(qop op, int c) {
    if (c == 2) return op == QOP_NE;
    switch (op) {
        case QOP_EQ: return c == 0;
        case QOP_NE: return c != 0;
        case QOP_LT: return c < 0;
        case QOP_LE: return c <= 0;
        case QOP_GT: return c > 0;
        case QOP_GE: return c >= 0;
        default: return false;
    }
}

const char *query__op_name(qop op); /* "=", "<>", ... */

typedef struct qexpr qexpr;
struct qexpr {
    qexpr_kind kind;
    uint32_t pos; /* byte offset of the expression's first token, for messages */
    union {
        struct {
            const char *name; /* folded unless quoted */
        } col;
        qval lit;
        struct {
            qop op;
            qexpr *l, *r;
        } bin; /* QX_CMP, QX_ARITH */
        struct {
            qexpr *arg;
            bool negated; /* QX_IS_NULL: IS NOT NULL */
        } un;             /* QX_NEG, QX_NOT, QX_IS_NULL */
        struct {
            qexpr **args;
            size_t n;
        } list; /* QX_AND, QX_OR */
        struct {
            const char *name; /* folded */
            qexpr **args;     /* a QX_STAR argument for count(*) */
            size_t n;
        } func;
    } u;
};

typedef enum qstmt_kind {
    QS_SELECT = 1,
    QS_SHOW_TABLES,
    QS_SHOW_COLUMNS,
} qstmt_kind;

typedef struct qselect_item {
    qexpr *expr;       /* QX_STAR for '*' */
    const char *alias; /* NULL if none */
} qselect_item;

typedef struct qorder_item {
    qexpr *expr;
    bool desc;
} qorder_item;

typedef struct qstmt {
    qstmt_kind kind;
    const char *table; /* SELECT ... FROM table, SHOW COLUMNS FROM table */
    uint32_t table_pos;
    qselect_item *items;
    size_t n_items;
    qexpr *where; /* NULL if none */
    qorder_item *order;
    size_t n_order;
    int64_t limit;  /* -1: none */
    int64_t offset; /* 0: none */
} qstmt;

/* Parse one statement (an optional trailing ';'). On a syntax error returns SILT_EPARSE with
 * "syntax error at line L, column C: expected X, found Y" in err. The AST lives in `a`. */
int query__parse(const char *sql, size_t n, arena *a, qstmt **out, silt_err *err);

/* ------------------------------------------------------------------ logical plan */

/* A bound predicate (invariant 2: no NOT). Leaves read one scanned column by its position in
 * the scan request (`col`). */
typedef enum qpred_kind {
    QP_ALL,      /* TRUE for every row */
    QP_NONE,     /* FALSE or unknown for every row */
    QP_NOT_NULL, /* TRUE where col is not NULL (also "x < c" true for every value) */
    QP_IS_NULL,  /* TRUE where col is NULL */
    QP_CMP,      /* col op constant, specialised by kernel */
    QP_AND,
    QP_OR,
} qpred_kind;

/* Comparison kernels: the column type and the constant's representation, chosen by the
 * planner so that every kernel compares exactly. */
typedef enum qkernel {
    QK_I64,     /* int64 column (or time) vs int64 */
    QK_U64,     /* uint64 column vs uint64 */
    QK_F64,     /* float column vs double */
    QK_F64_I64, /* float column vs an int64 a double cannot hold exactly */
    QK_F64_U64, /* float column vs a uint64 a double cannot hold exactly */
    QK_BOOL,    /* bool column vs 0/1 */
    QK_STR,     /* string/tag column vs bytes */
} qkernel;

typedef struct qpred qpred;
struct qpred {
    qpred_kind kind;
    uint32_t col; /* scan position (leaves) */
    qop op;       /* QP_CMP: QOP_EQ .. QOP_GE */
    qkernel kernel;
    union {
        int64_t i;
        uint64_t u;
        double f;
        str_view s;
    } c;
    qpred **kids; /* QP_AND, QP_OR */
    size_t n_kids;
};

typedef enum qplan_kind {
    QPL_SCAN,
    QPL_FILTER,
    QPL_PROJECT,
    QPL_AGGREGATE,
    QPL_SORT,
    QPL_LIMIT,
    QPL_VALUES, /* a constant table (SHOW statements) */
} qplan_kind;

/* An output column of a plan node. */
typedef struct qout_col {
    const char *name;
    qtype type;
    uint32_t src; /* QPL_PROJECT: scan position it reads */
} qout_col;

typedef enum qagg_kind { QAGG_COUNT_STAR, QAGG_COUNT_COL } qagg_kind;

typedef struct qagg {
    qagg_kind kind;
    uint32_t col; /* QAGG_COUNT_COL: scan position */
} qagg;

typedef struct qplan qplan;
struct qplan {
    qplan_kind kind;
    qplan *input;   /* NULL for QPL_SCAN and QPL_VALUES */
    qout_col *cols; /* output columns (PROJECT, AGGREGATE, VALUES) */
    size_t n_cols;
    union {
        struct {
            const char *table;
            size_t *col_idx; /* into the query_table; the scan request */
            size_t n_cols;
            int64_t t_min, t_max; /* from the predicate; t_min > t_max: nothing to scan */
            const query_table *tbl;
        } scan;
        struct {
            qpred *pred;
        } filter;
        struct {
            qagg *aggs; /* one per output column */
        } agg;
        struct {
            uint32_t key; /* scan position of the time column */
            bool desc;
        } sort;
        struct {
            int64_t limit; /* -1: none */
            int64_t offset;
        } limit;
        struct {
            query_vec *vecs; /* one per output column */
            size_t n_rows;
        } values;
    } u;
};

/* Everything one statement needs while it is planned and run. */
typedef struct qctx {
    const query_source *src;
    const char *db;
    const char *sql; /* for positions in messages */
    size_t sql_len;
    int64_t now_ns;
    arena arena;     /* AST, plan, constants */
    query_table tbl; /* the FROM table's schema, released by query_sql */
    bool have_tbl;
    silt_err *err;
} qctx;

/* Bind the statement to the source and build the plan (root = last operator). Returns
 * SILT_OK, SILT_ENOTFOUND (table), SILT_EINVAL (unknown column, type mismatch, unsupported
 * construct) or a source error. */
int query__plan(qctx *q, const qstmt *st, qplan **out);

/* Append a readable, indented description of the plan (one node per line, root first) to
 * b. For tests and, later, EXPLAIN. */
void query__plan_explain(const qplan *p, buf *b);

/* ------------------------------------------------------------------ formatting */

typedef struct qfmt {
    query_format fmt;
    buf *out;
    size_t start;     /* out->len when the result began */
    size_t max_bytes; /* 0: no limit */
    const qout_col *cols;
    size_t n_cols;
    str_view *json_keys; /* "name": per column, escaped (JSON / JSONL) */
    uint64_t n_rows;
    arena *a;
} qfmt;

void query__fmt_init(qfmt *f, query_format fmt, buf *out, size_t max_bytes, const qout_col *cols,
                     size_t n_cols, arena *a);
/* Header / opening bracket. */
int query__fmt_begin(qfmt *f, silt_err *err);
/* Rows sel[0..n) of the column vectors vecs[0..n_cols) (one per output column). */
int query__fmt_rows(qfmt *f, const query_vec *const *vecs, const uint32_t *sel, size_t n,
                    silt_err *err);
/* Closing bracket. */
int query__fmt_end(qfmt *f, silt_err *err);

/* ------------------------------------------------------------------ execution */

/* Run the plan against q->src and format the result into f (begun and ended here). */
int query__exec(qctx *q, const qplan *root, qfmt *f);

/* Evaluate p over the rows in[0..n_in) of batch b; the TRUE rows go to out (capacity n_in),
 * in ascending order (invariant 3). Returns their number. Scratch comes from `scratch`. */
size_t query__pred_eval(const qpred *p, const query_batch *b, const uint32_t *in, size_t n_in,
                        uint32_t *out, arena *scratch);

#endif
