/* SPDX-License-Identifier: MIT
 *
 * catalog backend: PostgreSQL (--catalog postgresql://user:pass@host:port/db), for several
 * silt processes sharing one catalog. libpq, one connection per catalog handle.
 *
 * Values only ever travel as parameters of prepared statements (PQprepare once per
 * connection, then PQexecPrepared); the only SQL text executed without PQprepare is
 * transaction control (BEGIN/COMMIT/ROLLBACK) and the DDL of migrations, neither of which
 * holds a value. Statement names are "silt_<NAME>" from the statement table.
 *
 * Isolation: write transactions run at SERIALIZABLE, so concurrent transactions behave as if
 * run one at a time or one of them fails with SQLSTATE 40001 (serialization failure);
 * lock-order cycles fail with 40P01 (deadlock). Both, and 23505 (a unique violation from a
 * concurrent insert, resolved by re-reading), return CAT__RETRY: catalog__run rolls back,
 * backs off and runs the whole transaction again. A broken connection (no result, class 08,
 * 57P01-57P03, or PQstatus not OK) returns CAT__RECONNECT: catalog__run resets the
 * connection (PQreset), the prepared statements are prepared again on first use, and the
 * transaction is retried; the number of attempts is bounded. The migration transaction runs
 * at READ COMMITTED under pg_advisory_xact_lock (see catalog_migrate.c). Reads are single
 * autocommit statements (one snapshot each).
 */
#include "catalog_int.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>

#define PG_INT8OID 20
#define PG_TEXTOID 25

typedef struct pg_be {
    PGconn *conn;
    bool prepared[CAT_STMT_COUNT]; /* on this connection (cleared by a reconnect) */
    char *sql[CAT_STMT_COUNT];     /* statement text with $n placeholders */
} pg_be;

static pg_be *be_of(catalog *c) {
    return c->be;
}

static void pg_notice(void *arg, const char *msg) {
    (void)arg;
    log_debug("catalog", "postgresql notice: %s", msg);
}

/* Copy msg without its trailing newlines into out. */
static void trim_copy(char *out, size_t cap, const char *msg) {
    snprintf(out, cap, "%s", msg ? msg : "");
    size_t n = strlen(out);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' ')) out[--n] = 0;
}

static bool state_is(const char *state, const char *want) {
    return state && strcmp(state, want) == 0;
}

/* Classify a failure (res may be NULL). The message names the statement and carries the
 * server's message and SQLSTATE. */
static int pg_fail(catalog *c, PGresult *res, const char *what, silt_err *err) {
    PGconn *conn = be_of(c)->conn;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *raw = res ? PQresultErrorMessage(res) : NULL;
    if (!raw || !*raw) raw = PQerrorMessage(conn);
    char msg[400];
    trim_copy(msg, sizeof msg, raw);
    if (!*msg && res) snprintf(msg, sizeof msg, "%s", PQresStatus(PQresultStatus(res)));
    const char *st = state ? state : "none";

    bool broken = PQstatus(conn) != CONNECTION_OK || !res ||
                  (state && strncmp(state, "08", 2) == 0) || state_is(state, "57P01") ||
                  state_is(state, "57P02") || state_is(state, "57P03");
    if (broken) {
        SILT_FAIL(err, SILT_EIO, "postgresql %s: connection lost: %s (SQLSTATE %s)", what, msg, st);
        return CAT__RECONNECT;
    }
    if (state_is(state, "40001") || state_is(state, "40P01") || state_is(state, "55P03")) {
        SILT_FAIL(err, SILT_EIO, "postgresql %s: %s (SQLSTATE %s)", what, msg, st);
        return CAT__RETRY;
    }
    if (state_is(state, "23505")) { /* invariant (2): re-run, re-read */
        SILT_FAIL(err, SILT_EEXIST, "postgresql %s: %s (SQLSTATE %s)", what, msg, st);
        return CAT__RETRY;
    }
    int code = SILT_EIO;
    if (state_is(state, "23503"))
        code = SILT_ENOTFOUND;
    else if (state && (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0))
        code = SILT_EINVAL;
    else if (state_is(state, "53100"))
        code = SILT_ENOSPC;
    else if (state_is(state, "53200"))
        code = SILT_ENOMEM;
    else if (state_is(state, "XX001") || state_is(state, "XX002"))
        code = SILT_ECORRUPT;
    return SILT_FAIL(err, code, "postgresql %s: %s (SQLSTATE %s)", what, msg, st);
}

/* Run SQL text without values; expects a command or tuples result. */
static int pg_simple(catalog *c, const char *sql, const char *what, silt_err *err) {
    PGresult *res = PQexec(be_of(c)->conn, sql);
    ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? SILT_OK : pg_fail(c, res, what, err);
    PQclear(res);
    return rc;
}

static int pg_begin(catalog *c, cat_txmode mode, silt_err *err) {
    if (mode == CAT_TX_MIGRATE)
        return pg_simple(c, "BEGIN ISOLATION LEVEL READ COMMITTED", "BEGIN", err);
    return pg_simple(c, "BEGIN ISOLATION LEVEL SERIALIZABLE", "BEGIN", err);
}

static int pg_commit(catalog *c, silt_err *err) {
    PGresult *res = PQexec(be_of(c)->conn, "COMMIT");
    int rc;
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = pg_fail(c, res, "COMMIT", err);
    } else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        /* an aborted transaction "commits" as ROLLBACK */
        rc = SILT_FAIL(err, SILT_EIO, "postgresql COMMIT: the transaction was rolled back (%s)",
                       PQcmdStatus(res));
    } else {
        rc = SILT_OK;
    }
    PQclear(res);
    return rc;
}

static void pg_rollback(catalog *c) {
    PGconn *conn = be_of(c)->conn;
    if (PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) == PQTRANS_IDLE) return;
    PGresult *res = PQexec(conn, "ROLLBACK");
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
        log_debug("catalog", "postgresql ROLLBACK: %s", PQerrorMessage(conn));
    PQclear(res);
}

/* "... = ? AND ..." -> "... = $1 AND ...", outside quotes. */
static char *number_placeholders(const char *sql) {
    buf b = {0};
    int n = 0;
    char quote = 0;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote) quote = 0;
            buf_putc(&b, *p);
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
            buf_putc(&b, *p);
        } else if (*p == '?') {
            buf_printf(&b, "$%d", ++n);
        } else {
            buf_putc(&b, *p);
        }
    }
    return buf_cstr(&b);
}

static int pg_prepare(catalog *c, cat_stmt id, silt_err *err) {
    pg_be *be = be_of(c);
    if (be->prepared[id]) return SILT_OK;
    const cat_stmt_def *d = &catalog__stmts[id];
    if (!be->sql[id]) be->sql[id] = number_placeholders(d->pg_sql ? d->pg_sql : d->sql);
    int np = (int)strlen(d->params);
    Oid types[CAT_MAX_PARAMS];
    for (int i = 0; i < np; i++) types[i] = d->params[i] == 'i' ? PG_INT8OID : PG_TEXTOID;
    char name[64];
    snprintf(name, sizeof name, "silt_%s", d->name);
    PGresult *res = PQprepare(be->conn, name, be->sql[id], np, types);
    int rc =
        res && PQresultStatus(res) == PGRES_COMMAND_OK ? SILT_OK : pg_fail(c, res, d->name, err);
    PQclear(res);
    be->prepared[id] = rc == SILT_OK;
    return rc;
}

static bool parse_i64(const char *s, int64_t *v) {
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || end == s || *end) return false;
    *v = x;
    return true;
}

static int pg_exec(catalog *c, cat_stmt id, const cat_val *params, cat_row_fn fn, void *arg,
                   int64_t *changes, silt_err *err) {
    pg_be *be = be_of(c);
    const cat_stmt_def *d = &catalog__stmts[id];
    int rc = pg_prepare(c, id, err);
    if (rc) return rc;
    int np = (int)strlen(d->params), nr = (int)strlen(d->results);
    const char *vals[CAT_MAX_PARAMS];
    char ibuf[CAT_MAX_PARAMS][24];
    for (int i = 0; i < np; i++) {
        const cat_val *v = &params[i];
        if (v->t == CAT_NULL) {
            vals[i] = NULL;
        } else if (d->params[i] == 'i') {
            snprintf(ibuf[i], sizeof ibuf[i], "%lld", (long long)v->i);
            vals[i] = ibuf[i];
        } else {
            vals[i] = v->s;
        }
    }
    char name[64];
    snprintf(name, sizeof name, "silt_%s", d->name);
    PGresult *res = PQexecPrepared(be->conn, name, np, vals, NULL, NULL, 0);
    ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
        rc = pg_fail(c, res, d->name, err);
        goto done;
    }
    if (fn && s == PGRES_TUPLES_OK) {
        int nt = PQntuples(res);
        if (nt > 0 && PQnfields(res) < nr) {
            rc = SILT_FAIL(err, SILT_ECORRUPT, "postgresql %s: %d result columns, expected %d",
                           d->name, PQnfields(res), nr);
            goto done;
        }
        for (int r = 0; r < nt; r++) {
            cat_val cols[CAT_MAX_COLS];
            for (int i = 0; i < nr; i++) {
                if (PQgetisnull(res, r, i)) {
                    cols[i] = CAT_NUL;
                } else if (d->results[i] == 'i') {
                    int64_t x;
                    if (!parse_i64(PQgetvalue(res, r, i), &x)) {
                        rc = SILT_FAIL(err, SILT_ECORRUPT,
                                       "postgresql %s: column %d is not an integer: '%s'", d->name,
                                       i, PQgetvalue(res, r, i));
                        goto done;
                    }
                    cols[i] = CAT_I(x);
                } else {
                    cols[i] = CAT_S(PQgetvalue(res, r, i));
                }
            }
            rc = fn(arg, cols, nr, err);
            if (rc) goto done;
        }
    }
    if (changes) {
        int64_t x = 0;
        const char *t = PQcmdTuples(res);
        *changes = t && *t && parse_i64(t, &x) ? x : 0;
    }
    rc = SILT_OK;
done:
    PQclear(res);
    return rc;
}

static int pg_script(catalog *c, const char *sql, silt_err *err) {
    return pg_simple(c, sql, "script", err);
}

static int pg_query_i64(catalog *c, const char *sql, int64_t *v, bool *found, silt_err *err) {
    PGresult *res = PQexec(be_of(c)->conn, sql);
    int rc = SILT_OK;
    *found = false;
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = pg_fail(c, res, "query", err);
    } else if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0)) {
        if (parse_i64(PQgetvalue(res, 0, 0), v))
            *found = true;
        else
            rc = SILT_FAIL(err, SILT_EINVAL, "postgresql query: not an integer");
    }
    PQclear(res);
    return rc;
}

static int pg_reconnect(catalog *c, silt_err *err) {
    pg_be *be = be_of(c);
    memset(be->prepared, 0, sizeof be->prepared); /* prepared statements died with the session */
    PQreset(be->conn);
    if (PQstatus(be->conn) != CONNECTION_OK) {
        char msg[400];
        trim_copy(msg, sizeof msg, PQerrorMessage(be->conn));
        return SILT_FAIL(err, SILT_EIO, "postgresql: reconnect to %s:%s/%s failed: %s",
                         PQhost(be->conn), PQport(be->conn), PQdb(be->conn), msg);
    }
    log_info("catalog", "postgresql: reconnected to %s:%s/%s", PQhost(be->conn), PQport(be->conn),
             PQdb(be->conn));
    return SILT_OK;
}

static void pg_close(catalog *c) {
    pg_be *be = be_of(c);
    if (!be) return;
    if (be->conn) PQfinish(be->conn);
    for (int i = 0; i < CAT_STMT_COUNT; i++) free(be->sql[i]);
    free(be);
    c->be = NULL;
}

static const cat_ops pg_ops = {
    .name = "postgresql",
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .exec = pg_exec,
    .script = pg_script,
    .query_i64 = pg_query_i64,
    .reconnect = pg_reconnect,
    .close = pg_close,
};

int catalog__pg_open(catalog *c, const char *url, silt_err *err) {
    pg_be *be = xcalloc(1, sizeof *be);
    c->be = be;
    c->ops = &pg_ops;
    /* defaults first: settings in the URL override them (expand_dbname) */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {"10", "silt", url, NULL};
    be->conn = PQconnectdbParams(keys, vals, 1);
    if (!be->conn) return SILT_FAIL(err, SILT_ENOMEM, "postgresql: cannot allocate a connection");
    if (PQstatus(be->conn) != CONNECTION_OK) {
        char msg[400];
        trim_copy(msg, sizeof msg, PQerrorMessage(be->conn));
        /* never the URL: it may hold a password */
        return SILT_FAIL(err, SILT_EIO, "postgresql: cannot connect to %s:%s/%s: %s",
                         PQhost(be->conn) ? PQhost(be->conn) : "?",
                         PQport(be->conn) ? PQport(be->conn) : "?",
                         PQdb(be->conn) ? PQdb(be->conn) : "?", msg);
    }
    PQsetNoticeProcessor(be->conn, pg_notice, NULL);
    if (PQserverVersion(be->conn) < 100000)
        return SILT_FAIL(err, SILT_EUNSUPPORTED,
                         "postgresql: server version %d is too old (10 or later is needed)",
                         PQserverVersion(be->conn));
    return SILT_OK;
}
