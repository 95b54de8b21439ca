/* SPDX-License-Identifier: MIT
 *
 * query internals: the pieces between query_sql() and the storage interface, shared by the
 * files of src/query/ and by the module's unit tests. Nothing outside src/query/ and
 * tests/unit/query/ includes this header.
 *
 * Pipeline of one statement (each stage owns one file):
 *   sql_lex.c      bytes -> tokens (on demand, one token of lookahead plus one more)
 *   sql_parse.c    tokens -> AST (qstmt with qexpr trees), recursive descent
 *   query_plan.c   AST + table schema -> logical plan (a chain of qplan nodes, each reading
 *                  the batches of its `input`):
 *                    Scan -> [Filter] -> [Aggregate -> [Filter (HAVING)]] -> [Project]
 *                         -> [Distinct] -> [Sort] -> [Limit]           (SELECT)
 *                    Values                                            (SHOW)
 *                  and for a system table the same SELECT chain over a Values leaf
 *                  (query_system.c builds its rows) instead of a Scan.
 *                  Binding resolves names, checks and coerces types, folds constants and
 *                  turns expressions into typed qbx trees. WHERE is split into conjuncts:
 *                  "column op constant" ones become one qpred (exact kernels, NOT pushed
 *                  down, time range extracted into the scan request so files are pruned);
 *                  any other conjunct is a general boolean qbx evaluated after it. GROUP BY
 *                  keys are expressions over the scan (columns, tags, date_bin(...)),
 *                  ordinals and select aliases are resolved to them; select items, HAVING
 *                  and ORDER BY above an aggregate are qbx trees over the aggregate's
 *                  output (keys, then aggregate results). The plan is front-end neutral:
 *                  InfluxQL's GROUP BY time(...) is date_bin over the time column.
 *   query_expr.c   vectorized evaluation of qbx trees: one typed result vector per node and
 *                  batch, selection vectors, no per-row allocation or tree walk
 *   query_agg.c    hash aggregation for Aggregate and Distinct (open addressing, states
 *                  column-wise per group id, bounded by max_memory_bytes)
 *   query_exec.c   plan -> push pipeline of stages over the leaf's batches: filter, project,
 *                  aggregate / distinct and sort (blocking: they emit their result in
 *                  batches of QUERY_BATCH_ROWS when the input ends), limit (stops the scan)
 *   query_format.c result rows -> JSON / JSONL / CSV / pretty / Parquet / Arrow IPC
 *                  (query_arrow.c), enforcing max_result_bytes
 *   query_sub.c    subqueries in FROM, WITH, UNION ALL and date_bin_gapfill: inner queries
 *                  run first and their results are materialized as in-memory tables the outer
 *                  plan scans (gap filling works on such a table between two plans)
 *   query.c        query_sql(): the driver tying the stages together
 *
 * Memory: everything a statement allocates for its AST and plan comes from one query arena
 * (qctx.arena), freed as a unit when query_sql() returns (compiled regexes, which are
 * malloc'd by regcomp, are listed in qctx.to_free and freed there too). The executor has a
 * second arena, reset between batches, for selection vectors, expression result vectors and
 * strings made by functions (PostgreSQL ExprContext style), and a third for the chunks that
 * blocking stages emit. Aggregation and sort state is malloc'd, counted, and bounded by
 * max_memory_bytes (SILT_ELIMIT "query exceeds the memory limit of N bytes").
 *
 * Invariants:
 *   (1) Expression trees are at most QUERY_MAX_DEPTH levels deep (the parser enforces it, and
 *       AND/OR chains are flattened into n-ary nodes), so every recursive walk is bounded.
 *   (2) A bound predicate (qpred) contains no NOT: negation is pushed to the leaves while
 *       binding, which is exact under SQL three-valued logic (NOT (x < c) == x >= c, both
 *       unknown when x is NULL). A leaf therefore selects exactly the rows where it is TRUE.
 *   (3) Selection vectors hold ascending row indices of the current batch; every operator
 *       preserves that order, so source order is kept without ORDER BY. (A sort's output
 *       batch is the sort buffer with the sorted order as its selection: the one place rows
 *       are visited out of index order, by design.)
 *   (4) No global mutable state: query_sql() may run on many threads at once.
 *   (5) Every qbx node has a concrete result type; operands of arithmetic, comparisons, IN,
 *       CASE branches and coalesce have been coerced to one type by explicit QB_CAST nodes
 *       (folded when constant), so an evaluator kernel never converts per row. Time,
 *       interval and integer values share the int64 kernels. The one exception is a
 *       comparison of int64 with uint64, which has its own exact mixed kernel.
 *   (6) A result vector is indexed by row number like the batch it was computed from; only
 *       the selected rows are defined. Vectors computed for a batch live until the batch
 *       arena is reset; whatever outlives a batch (group keys, min/max/first/last strings,
 *       sort rows) is copied into the owning stage's memory.
 *   (7) A query without GROUP BY that has aggregates produces exactly one row, even from
 *       an empty input (counts 0, other aggregates NULL); with GROUP BY, one row per group
 *       seen. Groups are emitted in first-appearance order.
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

const char *query__type_name(qtype t); /* "integer", "timestamp", ... */

/* Bytes of one value of type t in a vector (bool 1, string a str_view, the rest 8). */
static inline size_t query__value_size(qtype t) {
    return t == QT_BOOL ? 1 : t == QT_STRING ? sizeof(str_view) : 8;
}
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

/* A bound parameter's value as a literal (both front ends bind $name with it). */
qval query__param_value(const query_param *p);

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
    TK_DCOLON, /* :: */
    TK_CONCAT, /* || */
    TK_RE,     /* ~ */
    TK_RE_I,   /* ~* */
    TK_NRE,    /* !~ */
    TK_NRE_I,  /* !~* */
    TK_PARAM,  /* $name: a bound parameter; text is the name */
} sql_tok_type;

/* Keywords. Reserved ones cannot be used as unquoted names; the others are keywords only
 * where the grammar expects them (SHOW TABLES, INTERVAL '...'). */
typedef enum sql_kw {
    KW_NONE = 0,
    /* reserved */
    KW_AND,
    KW_AS,
    KW_ASC,
    KW_BETWEEN,
    KW_BY,
    KW_CASE,
    KW_CAST,
    KW_DESC,
    KW_DISTINCT,
    KW_ELSE,
    KW_END,
    KW_FALSE,
    KW_FROM,
    KW_GROUP,
    KW_HAVING,
    KW_ILIKE,
    KW_IS,
    KW_LIKE,
    KW_LIMIT,
    KW_NOT,
    KW_NULL,
    KW_OFFSET,
    KW_OR,
    KW_ORDER,
    KW_SELECT,
    KW_SHOW,
    KW_THEN,
    KW_TRUE,
    KW_WHEN,
    KW_WHERE,
    KW_UNION,
    KW_WITH,
    KW_RESERVED_END,
    /* non-reserved */
    KW_ALL, /* only after UNION: a table may be called "all" (silt accepted it before) */
    KW_COLUMNS,
    KW_FIRST,
    KW_IN,
    KW_INTERVAL,
    KW_LAST,
    KW_NULLS,
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
    QX_IN,      /* args[0] [NOT] IN (args[1..n)) (list; negated) */
    QX_BETWEEN, /* args[0] [NOT] BETWEEN args[1] AND args[2] (list; negated) */
    QX_LIKE,    /* args[0] [NOT] LIKE|ILIKE|~|~* args[1] (list; negated, like) */
    QX_CASE,    /* CASE [operand] WHEN .. THEN .. [ELSE ..] END */
    QX_CAST,    /* CAST(arg AS type), arg::type */
} qexpr_kind;

typedef enum qlike_kind { QLIKE_LIKE = 0, QLIKE_ILIKE, QLIKE_RE, QLIKE_RE_I } qlike_kind;

typedef enum qop {
    QOP_EQ = 0,
    QOP_NE,
    QOP_LT,
    QOP_LE,
    QOP_GT,
    QOP_GE,
    QOP_ADD,
    QOP_SUB,
    QOP_MUL,
    QOP_DIV,
    QOP_MOD,
    QOP_CONCAT, /* || */
} qop;          /* QOP_EQ..QOP_GE: comparisons; the rest arithmetic */

/* Does a three-way comparison result (-1, 0, 1; 2 = unordered, a NaN) satisfy op? Unordered
 * satisfies only <> (IEEE 754). Shared by the planner's constant folding and the executor's
 * kernels so the two always agree. */
static inline bool query__op_holds(qop op, int c) {
    if (c == 2) return op == QOP_NE;
    switch (op) {
        case QOP_EQ:
            return c == 0;
        case QOP_NE:
            return c != 0;
        case QOP_LT:
            return c < 0;
        case QOP_LE:
            return c <= 0;
        case QOP_GT:
            return c > 0;
        case QOP_GE:
            return c >= 0;
        default:
            return false;
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
            const char *qual; /* "qual.name": the table or alias; NULL if unqualified */
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
            bool negated;    /* QX_IN, QX_BETWEEN, QX_LIKE */
            qlike_kind like; /* QX_LIKE */
        } list;              /* QX_AND, QX_OR, QX_IN, QX_BETWEEN, QX_LIKE */
        struct {
            const char *name; /* folded */
            qexpr **args;     /* a QX_STAR argument for count(*) */
            size_t n;
            bool distinct; /* count(DISTINCT x) */
            qexpr *order;  /* first_value(x ORDER BY t [DESC]); NULL if none */
            bool order_desc;
        } func;
        struct {
            qexpr *operand; /* simple CASE x WHEN ...; NULL for searched CASE */
            qexpr **whens, **thens;
            size_t n;
            qexpr *els; /* NULL: ELSE NULL */
        } cs;
        struct {
            qexpr *arg;
            qtype to;
        } cast;
    } u;
};

typedef enum qstmt_kind {
    QS_SELECT = 1,
    QS_SHOW_TABLES,
    QS_SHOW_COLUMNS,
    QS_UNION, /* arm UNION ALL arm ...: arms, then order / limit / offset over the whole */
} qstmt_kind;

typedef struct qselect_item {
    qexpr *expr;       /* QX_STAR for '*' */
    const char *alias; /* NULL if none */
} qselect_item;

typedef enum qnulls { QNULLS_DEFAULT = 0, QNULLS_FIRST, QNULLS_LAST } qnulls;

typedef struct qorder_item {
    qexpr *expr;
    bool desc;
    qnulls nulls;
} qorder_item;

typedef struct qstmt qstmt;

/* WITH name AS (query): a common table expression (non-recursive). */
typedef struct qcte {
    const char *name;
    uint32_t pos;
    qstmt *query;
} qcte;

struct qstmt {
    qstmt_kind kind;
    const char *table;   /* SELECT ... FROM table, SHOW COLUMNS FROM table; NULL when FROM is
                          * a subquery */
    const char *schema;  /* FROM schema.table; NULL: unqualified (silt's tables, schema iox) */
    const char *catalog; /* FROM catalog.schema.table; NULL if not given (only 'public') */
    uint32_t table_pos;
    qstmt *from_sub;   /* SELECT ... FROM (query) [AS alias]; NULL if FROM names a table */
    const char *alias; /* FROM ... [AS] alias; NULL if none */
    qcte *ctes;        /* WITH ...: visible to this statement and everything inside it */
    size_t n_ctes;
    qstmt **arms; /* QS_UNION: the arms (QS_SELECT or QS_UNION), at least two */
    size_t n_arms;
    qselect_item *items;
    size_t n_items;
    bool distinct; /* SELECT DISTINCT */
    qexpr *where;  /* NULL if none */
    qexpr **group; /* GROUP BY expressions (ordinals and aliases resolved by the planner) */
    size_t n_group;
    qexpr *having; /* NULL if none */
    qorder_item *order;
    size_t n_order;
    int64_t limit;  /* -1: none */
    int64_t offset; /* 0: none */
    /* A hint from InfluxQL (per-series LIMIT): only the first part_limit rows, in ORDER BY
     * order, of each distinct value of the first n_part_keys ORDER BY keys are wanted; the
     * sort may drop the others (0: no hint). Not reachable from SQL. */
    size_t n_part_keys;
    int64_t part_limit;
};

/* Parse one statement (an optional trailing ';'). On a syntax error returns SILT_EPARSE with
 * "syntax error at line L, column C: expected X, found Y" in err. The AST lives in `a`. */
int query__parse(const char *sql, size_t n, arena *a, qstmt **out, silt_err *err);
/* The same with values for $name placeholders (one without a value: SILT_EPARSE "no value
 * for parameter $name at line L, column C"). */
int query__parse_params(const char *sql, size_t n, arena *a, const query_param *params,
                        size_t n_params, qstmt **out, silt_err *err);

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

/* A bound expression: typed, names resolved, constants folded (query_plan.c binds, query_expr.c
 * evaluates). QB_COL reads column `col` of the node's input batch: a scan position below an
 * aggregate, an aggregate output column (group key or aggregate result) above it. Operands
 * of arithmetic and comparisons have been coerced to one type by explicit QB_CAST nodes
 * (invariant 5), so every evaluator kernel handles one type. */
typedef enum qbx_kind {
    QB_COL,
    QB_CONST,   /* c; c.type == QT_NULL: a NULL of type `type` */
    QB_CAST,    /* args[0] to `type` */
    QB_NEG,     /* -args[0] */
    QB_ARITH,   /* args[0] op args[1] (QOP_ADD .. QOP_MOD, QOP_CONCAT) */
    QB_CMP,     /* args[0] op args[1] (QOP_EQ .. QOP_GE) */
    QB_AND,     /* n-ary, three-valued */
    QB_OR,      /* n-ary, three-valued */
    QB_NOT,     /* three-valued */
    QB_IS_NULL, /* args[0] IS [NOT] NULL (negated) */
    QB_IN,      /* args[0] [NOT] IN (args[1..n)) */
    QB_LIKE,    /* args[0] [NOT] LIKE args[1]; op: QLIKE_LIKE / QLIKE_ILIKE */
    QB_REGEX,   /* args[0] [NOT] ~ re (compiled at bind time, freed with the query) */
    QB_CASE,    /* args: when0, then0, when1, then1, ..., [else] (has_else) */
    QB_FUNC,    /* scalar function op (qfn) over args */
} qbx_kind;

typedef enum qfn {
    QF_ABS,
    QF_ROUND,
    QF_FLOOR,
    QF_CEIL,
    QF_SQRT,
    QF_LN,
    QF_LOG10,
    QF_POWER,
    QF_COALESCE,
    QF_NULLIF,
    QF_LOWER,
    QF_UPPER,
    QF_LENGTH,
    QF_CONCAT,
    QF_SUBSTR,
    QF_DATE_TRUNC, /* unit in c.v.i: ns of a fixed unit, or -1 month, -2 year */
    QF_DATE_BIN,   /* args: stride (interval), time, origin */
} qfn;

typedef struct qbx qbx;
struct qbx {
    qbx_kind kind;
    qtype type; /* result type */
    uint32_t pos;
    uint32_t col;  /* QB_COL */
    int op;        /* qop, qfn or qlike_kind */
    bool negated;  /* QB_IS_NULL, QB_IN, QB_LIKE, QB_REGEX */
    bool has_else; /* QB_CASE */
    qval c;        /* QB_CONST; QF_DATE_TRUNC unit */
    qbx **args;
    size_t n_args;
    void *re; /* QB_REGEX: regex_t */
};

/* Evaluation context: per-batch scratch and where errors go. */
typedef struct qeval {
    arena *a; /* output vectors and strings; reset by the caller between batches */
    const char *sql;
    silt_err *err;
} qeval;

/* Evaluate e over rows sel[0..n) of b (n >= 1 unless b->n_rows == 0). The result vector is
 * indexed by row number like b's columns (arrays of b->n_rows entries, of which only the
 * selected rows are defined); it always has its data array and a valid array (or valid ==
 * NULL: no NULLs). Memory from ev->a. Returns SILT_OK or SILT_EINVAL for runtime errors
 * (integer overflow, division by zero, invalid cast) naming the position. */
int query__expr_eval(qeval *ev, const qbx *e, const query_batch *b, const uint32_t *sel, size_t n,
                     query_vec *out);

/* Evaluate a boolean expression as a filter: the rows of in[0..n_in) where it is TRUE go to
 * out (ascending, invariant 3; out may be in). Returns SILT_OK and sets *n_out. */
int query__expr_filter(qeval *ev, const qbx *e, const query_batch *b, const uint32_t *in,
                       size_t n_in, uint32_t *out, size_t *n_out);

/* Free what bind-time compilation allocated outside the arena (regexes) for every node of e. */
void query__expr_free(qbx *e);

typedef enum qplan_kind {
    QPL_SCAN,
    QPL_FILTER,
    QPL_PROJECT,
    QPL_AGGREGATE,
    QPL_SORT,
    QPL_LIMIT,
    QPL_VALUES,   /* a constant table (SHOW statements) */
    QPL_DISTINCT, /* distinct rows of the input, in first-appearance order */
} qplan_kind;

/* An output column of a plan node. */
typedef struct qout_col {
    const char *name;
    qtype type;
    qbx *expr;        /* QPL_PROJECT: the value, over the input's columns */
    bool json;        /* QT_STRING holding a JSON object (a selector's struct, as InfluxDB 3
                       * returns it): written as is in JSON output */
    uint8_t src_kind; /* the query_col_kind of the stored table column whose values this
                       * column passes on unchanged (a bare reference, possibly renamed or
                       * a GROUP BY key); 0: computed. Arrow output names it in the field's
                       * iox::column::type metadata, as InfluxDB 3 does */
} qout_col;

typedef enum qagg_kind {
    QAGG_COUNT_STAR,
    QAGG_COUNT,          /* count(x): non-NULL values */
    QAGG_COUNT_DISTINCT, /* count(DISTINCT x) */
    QAGG_SUM,
    QAGG_AVG,
    QAGG_MIN,
    QAGG_MAX,
    QAGG_STDDEV_SAMP,
    QAGG_STDDEV_POP,
    QAGG_VAR_SAMP,
    QAGG_VAR_POP,
    QAGG_MEDIAN,
    QAGG_PERCENTILE, /* approx_percentile_cont(x, p): exact, linear interpolation */
    QAGG_FIRST,      /* first_value(x ORDER BY key): value at the smallest key */
    QAGG_LAST,       /* last_value(x ORDER BY key): value at the largest key */
    QAGG_SEL_FIRST,  /* selector_first(x, time): {"value": x, "time": t} at the smallest t */
    QAGG_SEL_LAST,   /* selector_last(x, time): at the largest t */
    QAGG_SEL_MIN,    /* selector_min(x, time): the smallest x (earliest t among ties) */
    QAGG_SEL_MAX,    /* selector_max(x, time): the largest x (earliest t among ties) */
} qagg_kind;

typedef struct qagg {
    qagg_kind kind;
    qtype type;   /* result type */
    qbx *arg;     /* over the aggregate's input; NULL for count(*) */
    qbx *key;     /* QAGG_FIRST / QAGG_LAST: the ORDER BY expression (int64 or time);
                   * selectors: the time argument */
    double param; /* QAGG_PERCENTILE: p in [0, 1] */
} qagg;

typedef struct qsort_key {
    uint32_t col; /* column of the sort's input */
    bool desc;
    bool nulls_first;
} qsort_key;

typedef struct qplan qplan;
struct qplan {
    qplan_kind kind;
    qplan *input;   /* NULL for QPL_SCAN and QPL_VALUES */
    qout_col *cols; /* output columns */
    size_t n_cols;  /* the visible ones; PROJECT may carry n_hidden more (sort keys) */
    size_t n_hidden;
    union {
        struct {
            const char *table;
            size_t *col_idx; /* into the query_table; the scan request */
            size_t n_cols;
            int64_t t_min, t_max; /* from the predicate; t_min > t_max: nothing to scan */
            const query_table *tbl;
            const qpred *prune; /* the filter's predicate, whose tag conjuncts become the
                                 * scan request's tag filters; NULL if none */
            bool *count_only;   /* per scan position, or NULL: see query_scan_req */
            const query_topk_hint *topk; /* or NULL: see query_scan_req */
        } scan;
        struct {
            qpred *pred; /* fast column-vs-constant part; NULL if none */
            qbx **exprs; /* general boolean conjuncts, evaluated on what pred selected */
            size_t n_exprs;
            const char **names; /* of exprs, for explain */
        } filter;
        struct {
            qbx **keys; /* GROUP BY expressions over the input (output columns 0..n_keys) */
            size_t n_keys;
            qagg *aggs; /* output columns n_keys.. */
            size_t n_aggs;
        } agg;
        struct {
            qsort_key *keys;
            size_t n_keys;
            size_t n_part_keys; /* qstmt's hint: keep part_limit rows per partition */
            int64_t part_limit;
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
    size_t max_memory_bytes; /* aggregation / sort state bound (SILT_ELIMIT above) */
    int64_t deadline_ns;     /* query_opts: 0 none; checked by query__exec per batch */
    int (*interrupt)(void *arg, silt_err *err);
    void *interrupt_arg;
    int64_t next_poll_ns; /* when interrupt is called next (time_mono_ns) */
    arena arena;          /* AST, plan, constants */
    qbx **to_free;        /* nodes holding compiled regexes, freed by query_sql */
    size_t n_to_free, cap_to_free;
    query_table tbl; /* the FROM table's schema, released by query_sql */
    bool have_tbl;
    silt_err *err;
} qctx;

/* ------------------------------------------------------------------ system tables
 *
 * query_system.c: the tables of schemas information_schema (tables, columns) and system
 * (parquet_files), built in full from the source's callbacks when a statement names one.
 * The planner binds them like a stored table and reads them through a Values leaf instead
 * of a scan, so WHERE, GROUP BY, ORDER BY and LIMIT work over them unchanged. */
typedef struct qsys_table {
    query_table tbl; /* columns (static names, arena array) */
    query_vec *vecs; /* one per column, n_rows values each, in the query arena */
    size_t n_rows;
} qsys_table;

/* Build system table schema.table for q->db. SILT_ENOTFOUND (message names the table) for an
 * unknown one, or a source error. */
int query__system_table(qctx *q, const char *schema, const char *table, qsys_table *out);
/* The information_schema.columns rows of one table (SHOW COLUMNS FROM [schema.]table):
 * SILT_ENOTFOUND if it does not exist. */
int query__system_columns_of(qctx *q, const char *schema, const char *table, qsys_table *out);

/* Bind the statement to the source and build the plan (root = last operator). Returns
 * SILT_OK, SILT_ENOTFOUND (table), SILT_EINVAL (unknown column, type mismatch, unsupported
 * construct) or a source error. */
int query__plan(qctx *q, const qstmt *st, qplan **out);

/* Are two expressions the same (names, literals, operators; positions ignored)? Does e
 * contain an aggregate call? The planner's rules, shared with query_sub.c. */
bool query__ast_equal(const qexpr *a, const qexpr *b);
bool query__has_agg(const qexpr *e);

/* Plan and run a parsed statement, formatting its result into out (query_sub.c). A
 * statement with WITH, a FROM subquery or UNION ALL runs its inner queries first and
 * materializes their results (bounded by max_memory_bytes); any other is planned against
 * q->src directly. Returns what query__plan and query__exec return. */
int query__run(qctx *q, const qstmt *st, query_format fmt, buf *out, size_t max_result_bytes);

/* The qout_col.src_kind of each column of t when t is a materialized result in q's scope
 * (a subquery, CTE or UNION ALL: its columns record what the inner query passed on), else
 * NULL: t is the source's, and a column's kind says it (query_sub.c). */
const uint8_t *query__mat_src_kinds(const qctx *q, const query_table *t);

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
    /* Optional: rows go to sink(sink_arg, ...) instead of being formatted (another front end
     * consuming the executor's output, e.g. InfluxQL's series shaping). out may then be
     * NULL; begin and end write nothing and max_bytes is not checked. Set after
     * query__fmt_init. A negative return aborts the query with that code. */
    int (*sink)(void *arg, const query_vec *const *vecs, const uint32_t *sel, size_t n,
                silt_err *err);
    void *sink_arg;
    void *state; /* pretty: the buffered cells; parquet: the writer (query_format.c); arrow:
                  * the batch being gathered (query_arrow.c) */
} qfmt;

/* Is row i of v (a column of type t) non-NULL? */
static inline bool query__present(const query_vec *v, qtype t, uint32_t i) {
    if (v->valid && !v->valid[i]) return false;
    switch (t) {
        case QT_BOOL:
            return v->b != NULL;
        case QT_INT:
        case QT_TIME:
            return v->i64 != NULL;
        case QT_UINT:
            return v->u64 != NULL;
        case QT_FLOAT:
            return v->f64 != NULL;
        case QT_STRING:
            return v->str != NULL;
        default:
            return false;
    }
}

void query__fmt_init(qfmt *f, query_format fmt, buf *out, size_t max_bytes, const qout_col *cols,
                     size_t n_cols, arena *a);
/* Header / opening bracket. */
int query__fmt_begin(qfmt *f, silt_err *err);
/* Rows sel[0..n) of the column vectors vecs[0..n_cols) (one per output column). */
int query__fmt_rows(qfmt *f, const query_vec *const *vecs, const uint32_t *sel, size_t n,
                    silt_err *err);
/* Closing bracket; pretty writes its table, parquet its file and arrow its last batch here. */
int query__fmt_end(qfmt *f, silt_err *err);
/* Free what a result not ended (an error) still holds. Always call it; idempotent. */
void query__fmt_fini(qfmt *f);

/* The Arrow IPC stream writer behind QUERY_FMT_ARROW (query_arrow.c), called by the
 * query__fmt_* functions above with the same contracts; its state is f->state. */
/* A RecordBatch message holds QUERY_ARROW_BATCH_ROWS rows (DataFusion's batch size, as
 * InfluxDB 3 sends them), or fewer once its values pass QUERY_ARROW_BATCH_BYTES: gRPC clients
 * refuse messages over 4 MiB by default, so a Flight answer's batches stay well below. */
#define QUERY_ARROW_BATCH_ROWS 8192
#define QUERY_ARROW_BATCH_BYTES (2u << 20)
int query__arrow_begin(qfmt *f, silt_err *err);
int query__arrow_rows(qfmt *f, const query_vec *const *vecs, const uint32_t *sel, size_t n,
                      silt_err *err);
int query__arrow_end(qfmt *f, silt_err *err);
void query__arrow_fini(qfmt *f);

/* ------------------------------------------------------------------ execution */

#define QUERY_BATCH_ROWS           4096 /* rows per batch emitted by blocking operators */
#define QUERY_DEFAULT_MEMORY_BYTES ((size_t)1 << 30)

/* Hash aggregation (query_agg.c): groups keyed by the values of the key vectors, aggregate
 * states column-wise per aggregate, indexed by group id. One per Aggregate / Distinct stage,
 * owned by the executor thread that runs the query. */
typedef struct qhagg qhagg;
/* For a QPL_AGGREGATE or QPL_DISTINCT node (Distinct: keys only, no aggregates).
 * max_memory_bytes 0: QUERY_DEFAULT_MEMORY_BYTES. Never fails (xmalloc). */
qhagg *query__hagg_create(const qplan *agg, size_t max_memory_bytes);
/* Add rows sel[0..n) whose key vectors are keys[0..n_keys) and aggregate argument vectors
 * args[i] (ignored for count(*)), order / time keys okeys[i] (first_value, last_value and
 * selectors). Returns SILT_OK, SILT_ELIMIT (memory limit; err says so) or SILT_EINVAL
 * (sum() overflow). */
int query__hagg_add(qhagg *h, const query_vec *keys, const query_vec *args, const query_vec *okeys,
                    size_t n_rows, const uint32_t *sel, size_t n, silt_err *err);
/* Number of groups (a query without GROUP BY always has exactly one). */
size_t query__hagg_groups(const qhagg *h);
/* Output columns (keys, then finished aggregates) for groups [from, from + n) as a batch of n
 * rows; vectors from a (valid until it is reset). */
int query__hagg_emit(qhagg *h, size_t from, size_t n, query_vec *cols, arena *a, silt_err *err);
void query__hagg_destroy(qhagg *h);
/* Fold from (the same plan, fed the rows after into's) into into: groups from has that into
 * lacks are added after into's, and every aggregate combines as if into had seen from's rows
 * after its own (float sums and deviations may differ from that in the last bits). from is
 * left as it was. */
int query__hagg_merge(qhagg *into, qhagg *from, silt_err *err);
/* This table's share of the query's memory bound (messages still name the query's). */
void query__hagg_set_max_memory(qhagg *h, size_t bytes);

/* Run the plan against q->src and format the result into f (begun and ended here). Returns
 * SILT_OK, SILT_EINVAL (runtime expression errors), SILT_ELIMIT (result or memory limit),
 * SILT_ENOTFOUND or a storage error from the source. */
int query__exec(qctx *q, const qplan *root, qfmt *f);

/* Evaluate p over the rows in[0..n_in) of batch b; the TRUE rows go to out (capacity n_in),
 * in ascending order (invariant 3). Returns their number. Scratch comes from `scratch`. */
/* Rows i and j of v (type t) hold the same value, or are both NULL (a vector without data is
 * all NULL). Numbers compare by their bits, so this finds runs of one group or partition, not
 * SQL equality (-0.0 and 0.0 differ here; callers that merge such keys do it by hashing). */
static inline bool query__rows_same(const query_vec *v, qtype t, uint32_t i, uint32_t j) {
    const void *d = t == QT_STRING  ? (const void *)v->str
                    : t == QT_BOOL  ? (const void *)v->b
                    : t == QT_UINT  ? (const void *)v->u64
                    : t == QT_FLOAT ? (const void *)v->f64
                                    : (const void *)v->i64;
    bool vi = d && (!v->valid || v->valid[i]), vj = d && (!v->valid || v->valid[j]);
    if (!vi || !vj) return vi == vj;
    switch (t) {
        case QT_STRING:
            return sv_eq(v->str[i], v->str[j]);
        case QT_BOOL:
            return (v->b[i] != 0) == (v->b[j] != 0);
        default: /* 8-byte values */
            return ((const uint64_t *)d)[i] == ((const uint64_t *)d)[j];
    }
}

size_t query__pred_eval(const qpred *p, const query_batch *b, const uint32_t *in, size_t n_in,
                        uint32_t *out, arena *scratch);

#endif
