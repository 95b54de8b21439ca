/* SPDX-License-Identifier: MIT
 *
 * query_sql(): parse, check the database, plan, execute and format one statement. Owns the
 * query arena and the FROM table's schema for the duration of the call; no state outlives
 * it (invariant 4 of query_int.h: callable from any number of threads at once).
 */
#include "query_int.h"

int query_sql(const query_source *src, const char *db, const char *sql, size_t sql_len,
              query_format fmt, const query_opts *opts, buf *out, silt_err *err) {
    size_t start = out->len;
    if (!src || !db || (!sql && sql_len))
        return SILT_FAIL(err, SILT_EINVAL, "query_sql: missing source, database or query");
    if (fmt != QUERY_FMT_JSON && fmt != QUERY_FMT_JSONL && fmt != QUERY_FMT_CSV &&
        fmt != QUERY_FMT_PRETTY && fmt != QUERY_FMT_PARQUET && fmt != QUERY_FMT_ARROW)
        return SILT_FAIL(err, SILT_EINVAL, "unknown output format %d", (int)fmt);
    if (sql_len > QUERY_MAX_SQL_BYTES)
        return SILT_FAIL(err, SILT_ELIMIT, "query is %zu bytes; the limit is %d bytes", sql_len,
                         QUERY_MAX_SQL_BYTES);

    qctx q = {.src = src, .db = db, .sql = sql ? sql : "", .sql_len = sql_len, .err = err};
    q.now_ns = opts && opts->now_ns ? opts->now_ns : time_now_ns();
    q.max_memory_bytes =
        opts && opts->max_memory_bytes ? opts->max_memory_bytes : QUERY_DEFAULT_MEMORY_BYTES;
    if (opts) {
        q.deadline_ns = opts->deadline_ns;
        q.interrupt = opts->interrupt;
        q.interrupt_arg = opts->interrupt_arg;
    }
    arena_init(&q.arena, 16 * 1024);

    qstmt *st;
    int rc = query__parse_params(q.sql, sql_len, &q.arena, opts ? opts->params : NULL,
                                 opts ? opts->n_params : 0, &st, err);
    if (rc < 0) goto fail;
    if (src->db_exists(src, db) != SILT_OK) {
        rc = SILT_FAIL(err, SILT_ENOTFOUND, "database '%.*s' not found",
                       (int)(strlen(db) > 200 ? 200 : strlen(db)), db);
        goto fail;
    }
    rc = query__run(&q, st, fmt, out, opts ? opts->max_result_bytes : 0);
    if (rc < 0) goto fail;
    rc = SILT_OK;
    goto done;
fail:
    out->len = start; /* no partial result */
done:
    for (size_t i = 0; i < q.n_to_free; i++) query__expr_free(q.to_free[i]);
    if (q.have_tbl) src->table_release(src, &q.tbl);
    arena_fini(&q.arena);
    return rc;
}
