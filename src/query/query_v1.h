/* SPDX-License-Identifier: MIT
 *
 * query_v1: results in InfluxDB 1.x JSON, the body of `GET|POST /query` that the influx 1.x
 * CLI, Grafana's InfluxDB data source and the v1 client libraries read:
 *
 *   {"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"a"},
 *     "columns":["time","max"],"values":[["2016-01-01T00:00:00Z",1.5],...]}]},
 *    {"statement_id":1,"error":"measurement not found"}]}
 *
 * A statement without rows is {"statement_id":N}; "tags" appears only when the statement
 * groups by tags. Times are RFC 3339 with 'Z' and the fraction trimmed of trailing zeros
 * (Go's RFC3339Nano, as InfluxDB prints them), or integers in the unit of `epoch=`
 * (ns, u/µ, ms, s, m, h: truncated toward zero, as InfluxDB divides). Floats that are not
 * finite print as null. With `chunked=true` every chunk is a complete JSON object on its own
 * line: a series is cut into chunks of at most chunk_size rows, each but the last of a series
 * marked "partial":true, and every statement's last object closes it.
 *
 * Use: query_v1_begin, then per statement either query_v1_stmt_error or stmt_begin /
 * (series_begin / row... / series_end)... / stmt_end, then query_v1_end. The writer never
 * fails; the caller bounds the size (out->len) between rows.
 */
#ifndef SILT_QUERY_V1_H
#define SILT_QUERY_V1_H

#include "query.h"

typedef enum v1_epoch {
    V1_EPOCH_RFC3339 = 0,
    V1_EPOCH_NS,
    V1_EPOCH_US,
    V1_EPOCH_MS,
    V1_EPOCH_S,
    V1_EPOCH_M,
    V1_EPOCH_H,
} v1_epoch;

/* "" or NULL (RFC 3339), "ns" / "n", "u" / "µ" / "us", "ms", "s", "m", "h". SILT_EINVAL
 * otherwise. */
int query_v1_epoch_parse(const char *s, v1_epoch *out);

/* The value types of a v1 column (tags are strings). */
typedef enum v1_type {
    V1_NULL = 0, /* a column that is NULL in every row (no array) */
    V1_BOOL,
    V1_INT,
    V1_UINT,
    V1_FLOAT,
    V1_STRING,
    V1_TIME, /* int64 ns, printed per epoch */
} v1_type;

typedef struct v1_table v1_table;

typedef struct v1_writer {
    buf *out;
    v1_table *table; /* table mode (query_v1_init_table): series go to it, out is unused */
    v1_epoch epoch;
    bool chunked;
    size_t chunk_rows; /* chunked: rows per chunk (InfluxDB's default 10000) */
    /* state */
    bool any_stmt;    /* a statement was written into the current results array */
    bool stmt_series; /* the current statement has written a series */
    int stmt_id;
    size_t stmt_mark; /* out->len and any_stmt when the statement began (stmt_abort) */
    bool stmt_any;
    size_t series_rows; /* rows in the current chunk of the current series */
    /* the current series' head, to repeat it in every chunk */
    buf head; /* {"name":...,"tags":{...},"columns":[...],"values":[ */
    buf pend; /* chunked: the chunk held back (head and rows so far) */
    bool pend_open;
} v1_writer;

void query_v1_init(v1_writer *w, buf *out, v1_epoch epoch, bool chunked, size_t chunk_rows);
/* Table mode: the same calls collect the series into t (see below) instead of writing JSON;
 * statements are marked and aborted as in JSON, query_v1_stmt_error is a no-op. */
void query_v1_init_table(v1_writer *w, v1_table *t);
void query_v1_fini(v1_writer *w);

void query_v1_begin(v1_writer *w);
void query_v1_end(v1_writer *w);

/* A statement that failed: {"statement_id":id,"error":msg}. */
void query_v1_stmt_error(v1_writer *w, int id, const char *msg);

void query_v1_stmt_begin(v1_writer *w, int id);
void query_v1_stmt_end(v1_writer *w);
/* Drop what the statement begun last has written (chunked: what is still held back; chunks
 * already written stay), so that an error object can take its place. */
void query_v1_stmt_abort(v1_writer *w);

/* A series: name (name.p NULL: no "name" key), n_tags tag pairs (tag_keys NULL: no "tags"
 * key), the column names. */
void query_v1_series_begin(v1_writer *w, str_view name, const str_view *tag_keys,
                           const str_view *tag_values, size_t n_tags, const str_view *cols,
                           size_t n_cols);
/* After query_v1_series_begin: the qout_col.src_kind of each of the series' n columns (what
 * a table-mode answer's Arrow fields name in iox::column::type); other modes ignore it. A
 * series without this call has computed columns only. */
void query_v1_series_src_kinds(v1_writer *w, const uint8_t *kinds, size_t n);
/* Row i of the column vectors vecs[0..n) typed types[0..n). */
void query_v1_row(v1_writer *w, const query_vec *const *vecs, const v1_type *types, size_t n,
                  uint32_t i);
void query_v1_series_end(v1_writer *w);

/* ------------------------------------------------------------------ InfluxQL */

typedef struct query_influxql_opts {
    v1_epoch epoch;
    bool chunked;
    size_t chunk_size;       /* rows per chunk (0: 10000) */
    int64_t now_ns;          /* now() (0: the clock) */
    size_t max_memory_bytes; /* per statement (0: the engine's default) */
    size_t max_result_bytes; /* 0: no limit */
    /* As query_opts: a deadline for the whole request (a statement running past it fails
     * with "query-timeout limit exceeded", InfluxDB 1.x's error, and the statements after
     * it are not run) and a callback that stops it (the request then fails with its code). */
    int64_t deadline_ns;
    int (*interrupt)(void *arg, silt_err *err);
    void *interrupt_arg;
    const query_param *params; /* $name placeholders (InfluxDB 3's and 1.x's params) */
    size_t n_params;
} query_influxql_opts;

/* Run an InfluxQL query (one or more statements) against db (which may be NULL or "" when
 * every statement names its database or needs none) and append the InfluxDB 1.x JSON body
 * to out. Returns SILT_OK -- a statement that fails is an error object in the body, as
 * InfluxDB answers it --, SILT_EPARSE (err: "found X, expected Y at line L, char C"; the
 * HTTP layer answers 400 {"error":"error parsing query: ..."}), SILT_ELIMIT, or the code
 * with which opts->interrupt stopped it. When a statement timed out the answer is SILT_OK and
 * err->code is SILT_ETIMEDOUT. */
int query_influxql_v1(const query_source *src, const char *db, const char *q, size_t n,
                      const query_influxql_opts *opts, buf *out, silt_err *err);

/* ------------------------------------------------------------------ InfluxDB 3's table shape */

/* v1_table: InfluxQL results as InfluxDB 3's /api/v3/query_influxql returns them, one table
 * of every series of the statement, one after the other:
 *   iox::measurement | <first column of each series (time)> | <GROUP BY tags, sorted> | <the
 *   other columns, in the order they first appear>
 * Columns are the union over the series; a series lacking one is NULL there. A series without
 * a name (SHOW SERIES, and the SHOW DATABASES / RETENTION POLICIES tables the caller builds)
 * has a NULL measurement, and the iox::measurement column is left out when no series has a
 * name. A tag that is also a column of the series (SELECT host ... GROUP BY host) is that
 * column; an empty tag value (the series lacks the tag) is NULL. A column's type is that of
 * its values: one of time, bool, integer, unsigned, float when they agree, float when they
 * mix integer, unsigned and float, string otherwise (values written as text); a column that
 * is NULL throughout is a string column.
 * The table is collected in memory, since the header needs every series' columns: the values
 * it holds are bounded by max_bytes (0: no bound; counted as the Parquet writer counts them,
 * 8 bytes a number, a string's length); past it, rows are dropped and query_v1_table_full()
 * turns true, so the caller fails the query (SILT_ELIMIT) instead of growing further. */
v1_table *query_v1_table_create(size_t max_bytes);
void query_v1_table_destroy(v1_table *t);
bool query_v1_table_full(const v1_table *t);
/* Write the table as fmt (query_format.c, the writer of /api/v3/query_sql), failing with
 * SILT_ELIMIT past max_result_bytes (0: no limit). A table without any series has no columns:
 * json [], jsonl and csv an empty body, pretty "++\n++" (arrow's empty table), parquet an
 * empty body (as InfluxDB 3 answers a result without record batches), arrow a stream whose
 * schema has no fields. */
int query_v1_table_write(v1_table *t, query_format fmt, buf *out, size_t max_result_bytes,
                         silt_err *err);
/* For query_v1.c: what the writer's calls become in table mode. */
void query__v1t_series_src_kinds(v1_table *t, const uint8_t *kinds, size_t n);
void query__v1t_series(v1_table *t, str_view name, const str_view *tag_keys,
                       const str_view *tag_values, size_t n_tags, const str_view *cols,
                       size_t n_cols);
void query__v1t_row(v1_table *t, const query_vec *const *vecs, const v1_type *types, size_t n,
                    uint32_t i);
size_t query__v1t_mark(const v1_table *t);
void query__v1t_truncate(v1_table *t, size_t mark);

/* Run one InfluxQL statement against db (which may be NULL or "" when the statement names its
 * database or needs none) and append its result in InfluxDB 3's table shape (see v1_table)
 * formatted as fmt to out. opts as for query_influxql_v1 (epoch and chunking do not apply).
 * Returns SILT_OK; SILT_EPARSE (err as query_influxql_v1's); SILT_EINVAL for more than one
 * statement (InfluxDB 3 answers only one), a ?db= that differs from the database named in the
 * query, a missing database, or a statement that fails; SILT_ENOTFOUND for a database that
 * does not exist; SILT_ETIMEDOUT, SILT_ELIMIT, or the code with which opts->interrupt stopped
 * it. On error out holds no partial result. */
int query_influxql_table(const query_source *src, const char *db, const char *q, size_t n,
                         query_format fmt, const query_influxql_opts *opts, buf *out,
                         silt_err *err);

/* A whole-request error, the body of a 400/500 answer: {"error":"msg"}. */
void query_v1_error_body(buf *out, const char *msg);

/* A time as InfluxDB prints it (Go's RFC3339Nano: "2016-01-01T00:00:00.5Z"). Returns the
 * length written into out (at least 40 bytes). */
size_t query_v1_format_time(char *out, int64_t t_ns);

#endif
