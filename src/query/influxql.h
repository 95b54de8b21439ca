/* SPDX-License-Identifier: MIT
 *
 * influxql: the InfluxQL front end of query/ (InfluxDB 1.x dialect): text -> tokens ->
 * statements (AST), and the canonical printer back to text. It checks syntax only; what
 * names mean, types and evaluation are the planner's. Private to src/query/ and its tests.
 * Types and enums use the short prefix `iql_` / `IQL_`; functions are `influxql_*`, and the
 * helpers shared between the three .c files `influxql__*`.
 *
 *   influxql_lex.c    bytes -> tokens, on demand (the parser holds one token and peeks)
 *   influxql_parse.c  tokens -> iql_stmt trees, recursive descent
 *   influxql_print.c  iql_stmt -> canonical InfluxQL text (parse(print(s)) prints as s)
 *
 * Grammar (keywords case-insensitive, identifiers case-sensitive; [] optional, {} repeated):
 *   query        = [stmt] {';' [stmt]}                     (empty statements are skipped)
 *   stmt         = select | EXPLAIN [ANALYZE] select | show | create_db | drop | delete
 *   select       = SELECT field {',' field} FROM source {',' source} [WHERE expr]
 *                  [GROUP BY dim {',' dim}] [fill '(' (null|none|previous|linear|number) ')']
 *                  [ORDER BY (time [ASC|DESC] | ASC | DESC)] [LIMIT int] [OFFSET int]
 *                  [SLIMIT int] [SOFFSET int] [tz '(' string ')']
 *   field        = expr [AS ident]         (a regex /re/ may stand for a field or an argument)
 *   source       = [ident '.'] [ident] '.' ident | ident | [prefix] /re/ | '(' select ')'
 *   dim          = time '(' duration [',' duration] ')' | ident | '*' | /re/
 *   show         = SHOW DATABASES
 *                | SHOW MEASUREMENTS [ON ident] [WITH MEASUREMENT ('=' source | '=~' /re/)]
 *                  [WHERE expr] [LIMIT int] [OFFSET int]
 *                | SHOW TAG KEYS [ON ident] [FROM sources] [WHERE expr] [LIMIT] [OFFSET]
 *                | SHOW TAG VALUES [ON ident] [FROM sources] WITH KEY ('=' ident | '!=' ident
 *                  | '=~' /re/ | '!~' /re/ | IN '(' ident {',' ident} ')') [WHERE] [LIMIT] [OFFSET]
 *                | SHOW FIELD KEYS [ON ident] [FROM sources] [LIMIT] [OFFSET]
 *                | SHOW SERIES [ON ident] [FROM sources] [WHERE expr] [LIMIT] [OFFSET]
 *                | SHOW RETENTION POLICIES [ON ident]
 *   create_db    = CREATE DATABASE ident [WITH [DURATION (duration|INF)] [REPLICATION int]
 *                  [SHARD DURATION (duration|INF)] [NAME ident]]
 *   drop         = DROP DATABASE ident | DROP MEASUREMENT ident
 *                | DROP SERIES [FROM sources] [WHERE expr]             (at least one of the two)
 *   delete       = DELETE [FROM sources] [WHERE expr]                  (at least one of the two)
 *   expr         = binary expressions, lowest to highest precedence: OR; AND; = != <> < <= > >=
 *                  =~ !~ (the right side of =~ and !~ starts with a /regex/); + - | ^;
 *                  * / % &. All left-associative. Unary - and + bind tighter; a minus
 *                  before a number or duration literal is folded into it.
 *   primary      = ident ['::' type] | ident '(' [args] ')' | DISTINCT ident | string | int
 *                | number | duration | true | false | $param | '*' ['::' (field|tag)]
 *                | '(' expr ')'
 * Lexical rules are in influxql_lex.c. Numbers have no exponent; durations take the units
 * ns u µ ms s m h d w, also combined (1h30m); ident '(' is a call (space allowed before '(').
 *
 * Not covered (InfluxDB 1.8 has them): SELECT ... INTO (rejected: "SELECT INTO is not
 * supported"), retention policy, continuous query, user, grant, subscription, shard and
 * KILL statements, SHOW ... CARDINALITY, ORDER BY / SLIMIT / SOFFSET on SHOW statements,
 * time(interval, now()) offsets. Regexes are not compiled, tz() names not resolved and
 * $params not substituted here: that is the planner's job.
 *
 * Errors read as InfluxDB 1.x words them: "found X, expected Y at line L, char C" (L and C
 * 1-based, C counting characters), or "<message> at line L, char C". The HTTP layer prefixes
 * "error parsing query: ".
 *
 * Invariants:
 *   (1) Every expression tree is at most IQL_MAX_DEPTH levels high (iql_expr.height), and
 *       parentheses, unary signs, calls and subqueries nest at most IQL_MAX_DEPTH deep, so
 *       every recursive walk over an AST is bounded. AND and OR chains are n-ary nodes, so a
 *       long list of conditions is wide, not deep.
 *   (2) All AST memory (nodes, unescaped names and literals, all NUL-terminated) comes from
 *       the caller's arena; nothing points into the query text.
 *   (3) No global mutable state: parse and print may run on many threads at once. The
 *       deepest query the bound admits needs about 96 KiB of stack (release build): call
 *       them on threads with at least 256 KiB.
 */
#ifndef SILT_INFLUXQL_H
#define SILT_INFLUXQL_H

#include "../util/util.h"

#define IQL_MAX_QUERY_BYTES (1024 * 1024) /* longer queries are rejected (SILT_ELIMIT) */
#define IQL_MAX_DEPTH       256           /* invariant (1) */

/* ------------------------------------------------------------------ tokens */

/* Keywords (InfluxDB 1.8): reserved everywhere an identifier may stand, unless quoted. */
/* clang-format off */
#define IQL_KEYWORDS(X)                                                                        \
    X(ALL) X(ALTER) X(ANALYZE) X(AND) X(ANY) X(AS) X(ASC) X(BEGIN) X(BY) X(CARDINALITY)        \
    X(CONTINUOUS) X(CREATE) X(DATABASE) X(DATABASES) X(DEFAULT) X(DELETE) X(DESC)              \
    X(DESTINATIONS) X(DIAGNOSTICS) X(DISTINCT) X(DROP) X(DURATION) X(END) X(EVERY) X(EXACT)    \
    X(EXPLAIN) X(FALSE) X(FIELD) X(FOR) X(FROM) X(GRANT) X(GRANTS) X(GROUP) X(GROUPS) X(IN)    \
    X(INF) X(INSERT) X(INTO) X(KEY) X(KEYS) X(KILL) X(LIMIT) X(MEASUREMENT) X(MEASUREMENTS)    \
    X(NAME) X(OFFSET) X(ON) X(OR) X(ORDER) X(PASSWORD) X(POLICIES) X(POLICY) X(PRIVILEGES)     \
    X(QUERIES) X(QUERY) X(READ) X(REPLICATION) X(RESAMPLE) X(RETENTION) X(REVOKE) X(SELECT)    \
    X(SERIES) X(SET) X(SHARD) X(SHARDS) X(SHOW) X(SLIMIT) X(SOFFSET) X(STATS) X(SUBSCRIPTION)  \
    X(SUBSCRIPTIONS) X(TAG) X(TO) X(TRUE) X(USER) X(USERS) X(VALUES) X(WHERE) X(WITH) X(WRITE)
/* clang-format on */

typedef enum iql_kw {
    IQL_KW_NONE = 0,
#define IQL__KW_ENUM(k) IQL_KW_##k,
    IQL_KEYWORDS(IQL__KW_ENUM)
#undef IQL__KW_ENUM
} iql_kw;

typedef enum iql_tok_type {
    IQL_TK_EOF = 0,
    IQL_TK_ERROR,    /* lexical error: text is the message, pos where it is */
    IQL_TK_ILLEGAL,  /* a character that starts no token: text is that character */
    IQL_TK_IDENT,    /* unquoted identifier that is not a keyword; text as written */
    IQL_TK_QIDENT,   /* "quoted identifier"; text unescaped */
    IQL_TK_KEYWORD,  /* kw says which; text as written */
    IQL_TK_STRING,   /* 'string'; text unescaped */
    IQL_TK_INTEGER,  /* digits */
    IQL_TK_NUMBER,   /* digits '.' digits, or '.' digits */
    IQL_TK_DURATION, /* digits then unit letters (and more digits): checked by the parser */
    IQL_TK_REGEX,    /* /re/, only from influxql__lex_regex; text unescaped (\/ -> /) */
    IQL_TK_PARAM,    /* $name or $"name"; text is the name */
    IQL_TK_COMMA,
    IQL_TK_SEMI,
    IQL_TK_LPAREN,
    IQL_TK_RPAREN,
    IQL_TK_DOT,
    IQL_TK_DOUBLECOLON,
    IQL_TK_ADD,
    IQL_TK_SUB,
    IQL_TK_MUL,
    IQL_TK_DIV,
    IQL_TK_MOD,
    IQL_TK_BITAND,
    IQL_TK_BITOR,
    IQL_TK_BITXOR,
    IQL_TK_EQ,
    IQL_TK_NEQ, /* != or <> */
    IQL_TK_LT,
    IQL_TK_LTE,
    IQL_TK_GT,
    IQL_TK_GTE,
    IQL_TK_EQREGEX,
    IQL_TK_NEQREGEX,
} iql_tok_type;

typedef struct iql_tok {
    iql_tok_type type;
    iql_kw kw;         /* IQL_TK_KEYWORD only */
    uint32_t pos, len; /* the raw token: byte offset and length in the query */
    str_view text;     /* see iql_tok_type; NUL-terminated */
} iql_tok;

typedef struct iql_lexer {
    const char *src;
    uint32_t n, pos;
    arena *a; /* unescaped texts and messages */
} iql_lexer;

/* The query must be at most IQL_MAX_QUERY_BYTES and valid UTF-8 (the parser checks both). */
void influxql__lex_init(iql_lexer *lx, const char *src, size_t n, arena *a);
/* Scan the next token; never fails (errors are IQL_TK_ERROR / IQL_TK_ILLEGAL tokens). A '/'
 * is IQL_TK_DIV: where the grammar allows a regex, the parser rescans it with lex_regex. */
void influxql__lex_next(iql_lexer *lx, iql_tok *t);
/* Rescan from byte `at` (a '/') as a regex literal into *t; lx->pos moves past it. */
void influxql__lex_regex(iql_lexer *lx, uint32_t at, iql_tok *t);
/* Upper-case name of a keyword ("SELECT"). */
const char *influxql__kw_name(iql_kw kw);
/* The keyword spelled by s[0..n) in any case, or IQL_KW_NONE. */
iql_kw influxql__kw_lookup(const char *s, size_t n);

/* ------------------------------------------------------------------ expressions */

typedef enum iql_expr_kind {
    IQL_X_VARREF,   /* u.ref: a field or tag name, optionally cast (name::type) */
    IQL_X_INTEGER,  /* u.i */
    IQL_X_UNSIGNED, /* u.u: an integer literal above INT64_MAX */
    IQL_X_NUMBER,   /* u.f */
    IQL_X_STRING,   /* u.s (also time literals such as '2016-01-01T00:00:00Z') */
    IQL_X_BOOLEAN,  /* u.b */
    IQL_X_DURATION, /* u.i nanoseconds (may be negative after unary minus) */
    IQL_X_REGEX,    /* u.s: the pattern, unescaped (\/ became /); not compiled here */
    IQL_X_PARAM,    /* u.s: bound parameter name ($name); resolved later */
    IQL_X_WILDCARD, /* u.wildcard: *, *::field or *::tag */
    IQL_X_DISTINCT, /* u.s: DISTINCT name (the keyword form, as in count(DISTINCT host)) */
    IQL_X_CALL,     /* u.call: name(args); name lower-cased */
    IQL_X_BINARY,   /* u.bin: arithmetic, bitwise, comparison and regex match */
    IQL_X_AND,      /* u.list: n-ary, n >= 2, invariant (1) */
    IQL_X_OR,       /* u.list */
    IQL_X_NEG,      /* u.arg: unary minus of a non-literal */
} iql_expr_kind;

typedef enum iql_op {
    IQL_OP_ADD = 0,
    IQL_OP_SUB,
    IQL_OP_MUL,
    IQL_OP_DIV,
    IQL_OP_MOD,
    IQL_OP_BITAND,
    IQL_OP_BITOR,
    IQL_OP_BITXOR,
    IQL_OP_EQ,
    IQL_OP_NEQ,
    IQL_OP_LT,
    IQL_OP_LTE,
    IQL_OP_GT,
    IQL_OP_GTE,
    IQL_OP_EQREGEX,
    IQL_OP_NEQREGEX,
    IQL_OP_AND, /* precedence only: AND and OR are n-ary nodes */
    IQL_OP_OR,
} iql_op;

/* Cast of a variable reference (name::type) or wildcard (*::field). */
typedef enum iql_vtype {
    IQL_T_NONE = 0,
    IQL_T_FLOAT,
    IQL_T_INTEGER,
    IQL_T_UNSIGNED,
    IQL_T_STRING,
    IQL_T_BOOLEAN,
    IQL_T_FIELD,
    IQL_T_TAG,
} iql_vtype;

typedef struct iql_expr iql_expr;
struct iql_expr {
    iql_expr_kind kind;
    uint32_t pos;    /* byte offset of the expression's first token */
    uint16_t height; /* 1 for leaves; invariant (1) */
    union {
        struct {
            str_view name; /* segments a.b joined with '.' */
            iql_vtype type;
        } ref;
        int64_t i;
        uint64_t u;
        double f;
        bool b;
        str_view s;
        iql_vtype wildcard;
        struct {
            str_view name;
            iql_expr **args;
            size_t n_args;
        } call;
        struct {
            iql_op op;
            iql_expr *l, *r;
        } bin;
        struct {
            iql_expr **args;
            size_t n;
            size_t cap; /* the parser's: allocated length of args */
        } list;
        iql_expr *arg;
    } u;
};

/* Precedence of a binary operator: OR 1, AND 2, comparisons 3, + - | ^ 4, * / % & 5. */
int influxql_op_prec(iql_op op);
const char *influxql_op_str(iql_op op);      /* "+", "=~", "AND", ... */
const char *influxql_vtype_str(iql_vtype t); /* "float", "tag", ...; "" for NONE */

/* ------------------------------------------------------------------ statements */

typedef struct iql_select iql_select;

typedef enum iql_source_kind {
    IQL_SRC_MEASUREMENT, /* [db.[rp].]name */
    IQL_SRC_REGEX,       /* [db.[rp].]/re/ */
    IQL_SRC_SUBQUERY,    /* (SELECT ...) */
} iql_source_kind;

typedef struct iql_source {
    iql_source_kind kind;
    uint32_t pos;
    str_view db, rp; /* n == 0: not given */
    str_view name;   /* measurement name, or the regex pattern */
    iql_select *sub; /* IQL_SRC_SUBQUERY */
} iql_source;

typedef struct iql_field {
    iql_expr *expr;
    str_view alias; /* n == 0 and p == NULL: no alias */
} iql_field;

typedef enum iql_dim_kind {
    IQL_DIM_TIME,     /* time(interval_ns[, offset_ns]) */
    IQL_DIM_TAG,      /* name */
    IQL_DIM_WILDCARD, /* * */
    IQL_DIM_REGEX,    /* name is the pattern */
} iql_dim_kind;

typedef struct iql_dim {
    iql_dim_kind kind;
    uint32_t pos;
    str_view name;
    int64_t interval_ns; /* > 0 */
    int64_t offset_ns;   /* as written, may be negative or beyond the interval */
    bool has_offset;
} iql_dim;

typedef enum iql_fill {
    IQL_FILL_NULL = 0, /* the default */
    IQL_FILL_NONE,
    IQL_FILL_PREVIOUS,
    IQL_FILL_LINEAR,
    IQL_FILL_NUMBER, /* fill_value */
} iql_fill;

typedef enum iql_order {
    IQL_ORDER_DEFAULT = 0, /* not given: ascending time */
    IQL_ORDER_ASC,
    IQL_ORDER_DESC,
} iql_order;

struct iql_select {
    uint32_t pos;
    iql_field *fields;
    size_t n_fields;
    iql_source *sources;
    size_t n_sources;
    iql_expr *where; /* NULL: none */
    iql_dim *dims;   /* in the order written */
    size_t n_dims;
    const iql_dim *group_time; /* the IQL_DIM_TIME entry of dims, or NULL */
    iql_fill fill;
    iql_expr *fill_value; /* IQL_FILL_NUMBER: an IQL_X_INTEGER or IQL_X_NUMBER literal */
    iql_order order;
    int64_t limit, offset, slimit, soffset; /* 0: not given (LIMIT 0 means no limit) */
    str_view tz;                            /* n == 0 and p == NULL: no tz() */
};

typedef enum iql_stmt_kind {
    IQL_STMT_SELECT,
    IQL_STMT_EXPLAIN, /* u.explain */
    IQL_STMT_SHOW_DATABASES,
    IQL_STMT_SHOW_MEASUREMENTS,       /* u.show */
    IQL_STMT_SHOW_TAG_KEYS,           /* u.show */
    IQL_STMT_SHOW_TAG_VALUES,         /* u.show */
    IQL_STMT_SHOW_FIELD_KEYS,         /* u.show */
    IQL_STMT_SHOW_SERIES,             /* u.show */
    IQL_STMT_SHOW_RETENTION_POLICIES, /* u.show (db only) */
    IQL_STMT_CREATE_DATABASE,         /* u.create_db */
    IQL_STMT_DROP_DATABASE,           /* u.name */
    IQL_STMT_DROP_MEASUREMENT,        /* u.name */
    IQL_STMT_DROP_SERIES,             /* u.show (sources, where) */
    IQL_STMT_DELETE,                  /* u.show (sources, where) */
} iql_stmt_kind;

/* SHOW ... WITH KEY operator of SHOW TAG VALUES. */
typedef enum iql_key_op {
    IQL_KEY_EQ,       /* = keys[0] */
    IQL_KEY_NEQ,      /* != keys[0] */
    IQL_KEY_EQREGEX,  /* =~ /key_regex/ */
    IQL_KEY_NEQREGEX, /* !~ /key_regex/ */
    IQL_KEY_IN,       /* IN (keys...) */
} iql_key_op;

/* The listing statements (SHOW ..., DROP SERIES, DELETE): what each kind uses is in the
 * grammar above; unused members are zero. */
typedef struct iql_show {
    str_view db; /* ON db; n == 0: the query's default database */
    iql_source *sources;
    size_t n_sources;
    iql_expr *where;
    int64_t limit, offset;              /* 0: not given */
    const iql_source *with_measurement; /* SHOW MEASUREMENTS WITH MEASUREMENT; NULL: none */
    iql_key_op key_op;                  /* SHOW TAG VALUES */
    str_view *keys;
    size_t n_keys;
    str_view key_regex;
} iql_show;

typedef struct iql_create_db {
    str_view name;
    bool with;         /* a WITH clause was given (create the retention policy) */
    bool has_duration; /* duration_ns 0 means INF */
    int64_t duration_ns;
    bool has_replication;
    int64_t replication; /* >= 1 */
    bool has_shard_duration;
    int64_t shard_duration_ns; /* 0 means INF (the server's default) */
    bool has_rp_name;
    str_view rp_name;
} iql_create_db;

typedef struct iql_stmt {
    iql_stmt_kind kind;
    uint32_t pos; /* byte offset of the first token */
    union {
        iql_select *select;
        struct {
            iql_select *select;
            bool analyze;
        } explain;
        iql_show show;
        iql_create_db create_db;
        str_view name; /* DROP DATABASE / DROP MEASUREMENT */
    } u;
} iql_stmt;

typedef struct iql_query {
    iql_stmt **stmts;
    size_t n_stmts;
} iql_query;

/* ------------------------------------------------------------------ parsing and printing */

/* Parse the n bytes of q (not NUL-terminated) into statements allocated from `a` (the caller
 * owns the arena; invariant 2). Returns SILT_OK with *out filled (possibly no statements for
 * an empty query), SILT_EPARSE with err->msg "found X, expected Y at line L, char C" (or
 * "<reason> at line L, char C"), or SILT_ELIMIT when n > IQL_MAX_QUERY_BYTES. On error *out
 * is empty. Any thread. */
int influxql_parse(const char *q, size_t n, arena *a, iql_query *out, silt_err *err);

/* Append the canonical text of a statement / expression / query (statements joined by
 * "; ") to *b: keywords upper case, function names lower case, identifiers quoted only
 * when they must be, durations in their largest exact unit (InfluxDB's FormatDuration),
 * parentheses only where precedence needs them. */
void influxql_print(const iql_stmt *st, buf *b);
void influxql_print_expr(const iql_expr *e, buf *b);
void influxql_print_query(const iql_query *q, buf *b);
/* An identifier, quoted and escaped only if it is not a plain unquoted identifier. */
void influxql_print_ident(buf *b, str_view name);
/* A duration: "0s", "90m", "1500ms", "-5m", ... */
void influxql_print_duration(buf *b, int64_t ns);

/* A time string literal ('2016-01-01T00:00:00Z', '2016-01-01 00:00:00.5', '2016-01-01') as
 * nanoseconds since the epoch, UTC. Returns SILT_OK or SILT_EPARSE. */
int influxql_time_literal(str_view s, int64_t *t_ns);

/* ------------------------------------------------------------------ tz() (influxql_tz.c) */

typedef struct iql_tz_rule_date {
    char kind;    /* 'M' (Mm.w.d), 'J' (Jn: 1..365, no Feb 29) or 'n' (n: 0..365) */
    int m, w, d;  /* M: month 1..12, week 1..5 (5: the last), weekday 0..6 (0: Sunday) */
    int32_t time; /* seconds after local midnight (may be negative or past 24h) */
} iql_tz_rule_date;

/* A POSIX TZ rule, the TZif footer: offsets in seconds east of UTC. */
typedef struct iql_tz_rule {
    int32_t std_off, dst_off;
    bool has_dst;
    iql_tz_rule_date start, end; /* DST starts (local standard time), ends (local DST) */
} iql_tz_rule;

/* A time zone: immutable once loaded, so any number of threads may read it. */
typedef struct iql_tz {
    bool utc;
    int64_t *trans; /* n transition times, seconds since the epoch, ascending */
    int32_t *offs;  /* the UTC offset (seconds east) from trans[i] on */
    size_t n;
    int32_t off0; /* before trans[0] */
    bool has_rule;
    iql_tz_rule rule; /* after trans[n - 1] (or always, when n == 0) */
} iql_tz;

/* Load zone `name` ("Europe/Paris", "UTC") from $ZONEINFO or /usr/share/zoneinfo into *z
 * (memory from a). A name that is not a plain relative path or no valid TZif file: SILT_EINVAL
 * "unable to find time zone <name>" (InfluxDB 1.x's words). Thread-safe: no TZ, no tzset. */
int influxql_tz_load(const char *name, arena *a, iql_tz *z, silt_err *err);
/* Parse TZif bytes (versions 1 to 4); SILT_EPARSE if malformed. */
int influxql_tz_parse(const uint8_t *p, size_t n, arena *a, iql_tz *z);
/* The UTC offset in seconds east at t_s (seconds since the epoch). */
int32_t influxql_tz_offset(const iql_tz *z, int64_t t_s);
/* The first offset change strictly after t_s (INT64_MAX: none). */
int64_t influxql_tz_next(const iql_tz *z, int64_t t_s);
/* The start of the GROUP BY time(interval, offset) bucket holding t_ns in zone z, as
 * InfluxDB 1.x computes it (day buckets start at local midnight, also on DST days). */
int64_t influxql_tz_bucket(const iql_tz *z, int64_t t_ns, int64_t interval, int64_t offset);
/* The bucket after the one starting at `bucket`. */
int64_t influxql_tz_bucket_next(const iql_tz *z, int64_t bucket, int64_t interval, int64_t offset);
/* t_ns as RFC 3339 in zone z, as Go prints it: "2016-01-01T00:00:00+01:00" ('Z' at offset
 * 0). out: at least 48 bytes. Returns the length. */
size_t influxql_tz_format(const iql_tz *z, int64_t t_ns, char *out);

#endif
