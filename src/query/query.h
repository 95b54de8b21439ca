/* SPDX-License-Identifier: MIT
 *
 * query: SQL over silt's tables. The engine sees storage only through `query_source`, a table
 * of functions that lists tables, describes their columns and scans them in columnar batches.
 * Today the in-memory buffer is the one source; persisted Parquet files (a later step) become
 * a second source merged behind the same interface, so the front end, plan and executor are
 * extended, not replaced.
 *
 * The SQL subset of this version (InfluxDB 3 dialect, PostgreSQL-like):
 *   [WITH name AS (query) [, name AS (query)]...]
 *   SELECT [DISTINCT] * | expr [AS alias], ... FROM table | (query) [[AS] alias] [WHERE cond]
 *          [GROUP BY expr | ordinal | alias, ...] [HAVING cond]
 *   [UNION ALL SELECT ... | (query)]...
 *          [ORDER BY expr | ordinal | alias [ASC|DESC] [NULLS FIRST|LAST], ...]
 *          [LIMIT n] [OFFSET n]
 *   SHOW TABLES
 *   SHOW COLUMNS FROM [[catalog.]schema.]table
 * A table is silt's (optionally as iox.table or public.iox.table) or a system table:
 * information_schema.tables, information_schema.columns, system.parquet_files (see
 * query_system.c); SHOW TABLES and SHOW COLUMNS answer from information_schema as DataFusion
 * does. Results are written as json, jsonl, csv, pretty (arrow's ASCII table), parquet
 * (silt's writer) or arrow (an Arrow IPC stream); see query_format.c.
 * Expressions: columns, literals ('strings', integers, floats, true/false, NULL,
 * TIMESTAMP '...', INTERVAL '...', now(); RFC 3339 strings compared with time), + - * / %
 * (integer overflow and division by zero are errors), ||, comparisons, AND / OR / NOT
 * (three-valued), IN (...), BETWEEN, LIKE / ILIKE, ~ ~* !~ !~* (POSIX extended regular
 * expressions), IS [NOT] NULL, CASE, CAST(x AS type) and x::type, time +- interval; scalar
 * functions abs round floor ceil sqrt ln log10 power coalesce nullif lower upper length
 * concat substr date_trunc date_bin; date_bin_gapfill(interval, time[, origin]) as a GROUP BY
 * key with locf(agg) / interpolate(agg) in the select list (InfluxDB 3's gap filling, which
 * needs WHERE time bounds); aggregates count(*), count([DISTINCT] x), sum, avg/mean,
 * min, max, stddev/stddev_samp, stddev_pop, var/var_samp, var_pop, median,
 * approx_percentile_cont(x, p) (exact: linear interpolation between the closest ranks),
 * first_value / last_value(x [ORDER BY key]) (default key: time), and InfluxDB 3's
 * selector_first / selector_last / selector_min / selector_max(x, time), whose struct results
 * are written as JSON objects {"value":..,"time":".."}. Columns may be qualified (alias.col).
 * Subqueries, CTEs and UNION ALL arms are run first and materialized in memory (query_sub.c).
 * Not yet: UNION without ALL, joins, subqueries in expressions, window functions. The stages
 * are described in query_int.h.
 * A running query can be stopped: query_opts.deadline_ns (SILT_ETIMEDOUT "query timeout") and
 * query_opts.interrupt (e.g. the client disconnected) are checked between batches.
 * query_sql() uses no global state; the deepest statement it accepts needs about 128 KiB of
 * stack (release build), so call it on threads with at least 512 KiB.
 */
#ifndef SILT_QUERY_H
#define SILT_QUERY_H

#include "../lp/lp.h"
#include "../util/util.h"

/* ------------------------------------------------------------------ storage interface */

typedef enum query_col_kind {
    QCOL_TAG = 1,   /* string, dictionary-encoded in storage */
    QCOL_FIELD = 2, /* lp_type gives the type */
    QCOL_TIME = 3,  /* int64 nanoseconds since the epoch, UTC */
} query_col_kind;

typedef struct query_column {
    const char *name; /* owned by the source; valid for the query's lifetime */
    query_col_kind kind;
    lp_type type; /* fields only; tags are strings, time is int64 ns */
} query_column;

/* A table's columns. The source fills it; query_table_fini() frees what it allocated. */
typedef struct query_table {
    query_column *cols;
    size_t n_cols;
    void *owner_data; /* the source's; freed by the source's table_release */
} query_table;

/* One column of a batch: n values of one type. valid[i] == 0 means NULL (valid == NULL: no
 * NULLs). Which array is set depends on the column:
 *   time, LP_INT                 -> i64
 *   LP_UINT                      -> u64
 *   LP_FLOAT                     -> f64
 *   LP_BOOL                      -> b (0 or 1)
 *   tags, LP_STRING              -> str (views valid until the callback returns) */
typedef struct query_vec {
    const int64_t *i64;
    const uint64_t *u64;
    const double *f64;
    const uint8_t *b;
    const str_view *str;
    const uint8_t *valid;
} query_vec;

typedef struct query_batch {
    size_t n_rows;
    const query_vec *cols; /* one per requested column, in request order */
} query_batch;

/* A condition on one tag column that a scan may use to skip data: rows whose value v of the
 * tag (NULL when the row has no such tag) gives match(arg, v) == false are not wanted. The
 * executor evaluates the full predicate anyway, so a source may deliver such rows; it only
 * saves work (a Parquet file is pruned by page statistics and its dictionary, so a query for
 * one host decodes that host's pages alone). When `in` is set, match(v) is exactly
 * "v is not NULL and equals one of in[0..n_in)", so min/max statistics can prune too. match
 * is called on the scanning thread, a few times per file (once per dictionary entry). */
typedef struct query_tag_filter {
    size_t col; /* index into the table's columns (a QCOL_TAG) */
    bool (*match)(const void *arg, const str_view *v);
    const void *arg;
    const str_view *in;
    size_t n_in;
} query_tag_filter;

/* Batch callback: return QUERY_SCAN_CONTINUE, QUERY_SCAN_STOP (end the scan early, not an
 * error), or a negative SILT_E* code to abort the scan with that error. */
typedef int (*query_batch_fn)(void *arg, const query_batch *batch);

/* What to scan: columns by index into the table's query_table.cols, and a time range and tag
 * filters the source may use to skip data (rows outside [t_min, t_max] or not matching the
 * filters may still be delivered; the executor filters them). */
typedef struct query_scan_req {
    const char *db;
    const char *table;
    const query_table *schema; /* as returned by table_schema for this query: col_idx
                                * indexes schema->cols */
    const size_t *col_idx;
    size_t n_cols;
    int64_t t_min, t_max; /* inclusive */
    const query_tag_filter *filters;
    size_t n_filters;
    /* Per requested column (NULL: none): true when only its NULLs matter (the argument of
     * count(x), or a column scanned to count rows). A source may then deliver any values with
     * the right validity; a Parquet file answers such a column from its statistics when the
     * chunk has no NULLs, without decoding it. */
    const bool *count_only;
    /* Per-series top-k (InfluxQL's GROUP BY <tags> ORDER BY time [DESC] LIMIT k), or NULL:
     * only the k newest (desc) or oldest rows of each distinct value of the tag columns at
     * scan positions topk->keys are wanted, and a row in [t_min, t_max] passes the query's
     * filter when any column at positions topk->any_of is not NULL (always, if there are
     * none). A source may leave out rows it can prove are not among those k, and must
     * deliver every row that may be. */
    const struct query_topk_hint *topk;
    /* A second consumer of batches, or NULL: a source may deliver part of the rows to lane2
     * (with lane2_arg) on another thread, concurrently with fn. The caller combines the two
     * lanes' results, so only order-insensitive consumers (partial aggregation) set it; a
     * lane2 error ends the scan with that error. */
    query_batch_fn lane2;
    void *lane2_arg;
    void (*lane2_start)(void *lane2_arg); /* called before the first batch to lane2, on the
                                           * calling thread while no lane is running */
} query_scan_req;

typedef struct query_topk_hint {
    const size_t *keys; /* scan positions of tag columns */
    size_t n_keys;
    uint64_t k;
    bool desc;
    const size_t *any_of; /* scan positions */
    size_t n_any_of;
} query_topk_hint;

enum { QUERY_SCAN_CONTINUE = 0, QUERY_SCAN_STOP = 1 };


/* One row of system.parquet_files. */
typedef struct query_file_info {
    char *table; /* malloc'd */
    char *path;  /* the object key, malloc'd */
    uint64_t size_bytes, row_count;
    int64_t min_time, max_time; /* ns, inclusive */
    int64_t created_at;         /* ns */
    int64_t to_delete_at;       /* ns; 0: live (not marked for deletion) */
} query_file_info;

/* Free what a list_files callback returned (the strings and the array). */
void query_files_free(query_file_info *f, size_t n);

typedef struct query_source query_source;
struct query_source {
    void *ctx;
    /* SILT_OK if the database exists, SILT_ENOTFOUND if not. */
    int (*db_exists)(const query_source *s, const char *db);
    /* Table names of db, sorted, into *names (malloc'd array of malloc'd strings; the caller
     * frees both). */
    int (*list_tables)(const query_source *s, const char *db, char ***names, size_t *n,
                       silt_err *err);
    /* Describe a table. SILT_ENOTFOUND if db or table does not exist. Columns are sorted by
     * name (as InfluxDB 3 presents them). Release with table_release. */
    int (*table_schema)(const query_source *s, const char *db, const char *table, query_table *out,
                        silt_err *err);
    void (*table_release)(const query_source *s, query_table *t);
    /* Scan: calls fn for each batch (at most a few thousand rows each). Rows of one series and
     * time appear once (the source has already merged duplicates, last write wins). Any
     * thread; the source may hold a read lock for the duration of the scan, so fn must not
     * call back into the source. Returns SILT_OK, or fn's / the source's error. */
    int (*scan)(const query_source *s, const query_scan_req *req, query_batch_fn fn, void *arg,
                silt_err *err);
    /* Database names, sorted, into *names (as list_tables). May be NULL (InfluxQL's SHOW
     * DATABASES then fails). */
    int (*list_dbs)(const query_source *s, char ***names, size_t *n, silt_err *err);
    /* The database's Parquet files that the catalog still lists (live, or marked for deletion
     * but not yet collected), for system.parquet_files: *out is a malloc'd array, ordered by
     * table name, then creation; free it with query_files_free. May be NULL (the table is
     * then empty). Any thread; SILT_ENOTFOUND if db does not exist. */
    int (*list_files)(const query_source *s, const char *db, query_file_info **out, size_t *n,
                      silt_err *err);
    /* Schema changes for InfluxQL's CREATE DATABASE, DROP DATABASE and DROP MEASUREMENT, with
     * `admin` as their context; NULL: the statement is refused. create_db sets *created
     * (false: it existed). drop_db / drop_table: SILT_ENOTFOUND when absent. */
    void *admin;
    int (*create_db)(void *admin, const char *db, bool *created, silt_err *err);
    int (*drop_db)(void *admin, const char *db, silt_err *err);
    int (*drop_table)(void *admin, const char *db, const char *table, silt_err *err);
};

/* ------------------------------------------------------------------ table parts */

/* A table's rows live in several parts: Parquet files (oldest first, in creation order),
 * frozen buffer generations waiting to be persisted, and the active buffer generation. A part
 * scans its own rows, each series and time at most once. Across parts, two rows of one series
 * and time merge: every field takes the value of the newest part that has it (last write
 * wins, field by field). query_merge_scan() does that merge, so sources only list parts. */
typedef struct query_part query_part;
struct query_part {
    int64_t min_time, max_time; /* of the part's rows (inclusive) */
    uint64_t n_rows;            /* estimate, for planning */
    void *ctx;
    /* Scan the part's rows in [req->t_min, req->t_max] (and matching req's tag filters, which
     * it may use to skip data) for the table's columns req->col_idx (indexes into t->cols,
     * matched by name: a column the part lacks arrives as all NULL). req->db, table and
     * schema are not used. Same batch rules as query_source.scan. */
    int (*scan)(query_part *p, const query_table *t, const query_scan_req *req, query_batch_fn fn,
                void *arg, silt_err *err);
    void (*release)(query_part *p); /* may be NULL */
};

/* Scan parts[0..n) (oldest first) as one table: parts whose time ranges overlap no other are
 * streamed as they are; overlapping parts are merged (last write wins, field by field; a
 * series is identified by all of t's tag columns). Batches carry the columns of req. */
int query_merge_scan(query_part *parts, size_t n, const query_table *t, const query_scan_req *req,
                     query_batch_fn fn, void *arg, silt_err *err);

/* ------------------------------------------------------------------ running queries */

typedef enum query_format {
    QUERY_FMT_JSON = 0, /* [{"col":v,...},...] as InfluxDB 3 returns it */
    QUERY_FMT_JSONL,    /* one JSON object per line */
    QUERY_FMT_CSV,      /* header line, then rows (RFC 4180) */
    QUERY_FMT_PRETTY,   /* the ASCII table of arrow's pretty printer (+---+ borders) */
    QUERY_FMT_PARQUET,  /* a Parquet file (silt's writer), one row group per 1 Mi rows */
    QUERY_FMT_ARROW,    /* an Arrow IPC stream (silt extension): schema, record batches of
                         * 64 Ki rows, end-of-stream marker (query_arrow.c) */
} query_format;

/* "json", "jsonl", "csv", "pretty", "parquet", "arrow" (case-insensitive); NULL or "" gives
 * JSON.
 * SILT_EINVAL otherwise. */
int query_format_parse(const char *s, query_format *out);
const char *query_format_content_type(query_format f);

/* A bound parameter of a parameterized query (InfluxDB 3's `params`): `$name` in the query
 * text stands for this value, as a literal (never as query text). */
typedef enum query_param_type {
    QPARAM_NULL,
    QPARAM_BOOL,
    QPARAM_INT,
    QPARAM_FLOAT,
    QPARAM_STRING,
} query_param_type;

typedef struct query_param {
    const char *name; /* without the '$' */
    query_param_type type;
    bool b;
    int64_t i;
    double f;
    const char *s;
} query_param;

typedef struct query_opts {
    size_t max_result_bytes; /* output larger than this fails with SILT_ELIMIT (0 = no limit) */
    int64_t now_ns;          /* the value of now() for this query */
    size_t max_memory_bytes; /* GROUP BY / DISTINCT / ORDER BY state larger than this fails
                              * with SILT_ELIMIT (0 = 1 GiB) */
    /* Stopping a running query. The executor looks at both between batches (every scan batch
     * and every batch a blocking stage emits), so a query stops within one batch of work:
     * deadline_ns: a time_mono_ns() value after which the query fails with SILT_ETIMEDOUT
     *   "query timeout ..." (0 = no deadline);
     * interrupt: if set, called at most every QUERY_INTERRUPT_POLL_NS (and at the first
     *   batch); a negative return (err set) stops the query with that code, e.g. when the
     *   client that asked has disconnected. Runs on the query's thread. */
    int64_t deadline_ns;
    int (*interrupt)(void *arg, silt_err *err);
    void *interrupt_arg;
    const query_param *params; /* $name placeholders (a placeholder without one: 400) */
    size_t n_params;
} query_opts;

#define QUERY_INTERRUPT_POLL_NS (10 * 1000 * 1000) /* 10 ms */

/* Parse and run one SQL statement against db, appending the formatted result to *out.
 * Returns SILT_OK; SILT_EPARSE (bad SQL: err->msg names the 1-based position and what was
 * expected), SILT_ENOTFOUND (database or table does not exist), SILT_EINVAL (a query that
 * parses but cannot be run, such as comparing a float column with a string), SILT_ELIMIT,
 * or a storage error from the source. On error *out holds no partial result. */
int query_sql(const query_source *src, const char *db, const char *sql, size_t sql_len,
              query_format fmt, const query_opts *opts, buf *out, silt_err *err);

#endif
