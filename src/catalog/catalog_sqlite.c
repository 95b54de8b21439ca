/* SPDX-License-Identifier: MIT
 *
 * catalog backend: SQLite (the default, <data-dir>/catalog.sqlite).
 *
 * One connection per catalog handle, opened with PRAGMA journal_mode=WAL (readers never block
 * the writer nor each other), synchronous=FULL (a commit is on stable storage when COMMIT
 * returns: the WAL is fsynced at every commit), foreign_keys=ON and a busy timeout. Write
 * transactions start with BEGIN IMMEDIATE, which takes the database's single write lock at
 * once, so two handles or two processes never both read then write: there are no
 * serialization failures, only waits (the busy timeout), and a wait that times out
 * (SQLITE_BUSY) is retried by catalog__run with backoff. Reads are single autocommit
 * statements, each on one consistent snapshot.
 *
 * Statements are prepared once per connection (SQLITE_PREPARE_PERSISTENT) and cached in
 * be->stmts, indexed by cat_stmt. The first commit on a file this handle created fsyncs the
 * parent directory, so the file's directory entry is as durable as its content.
 */
#include "catalog_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define SQLITE_BUSY_TIMEOUT_MS 5000

typedef struct sqlite_be {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *stmts[CAT_STMT_COUNT]; /* prepared on first use */
    bool created;                        /* this handle created the file */
    bool dir_synced;
} sqlite_be;

static sqlite_be *be_of(catalog *c) {
    return c->be;
}

/* Map a failed SQLite call to a result: CAT__RETRY for a busy or locked database (after the
 * busy timeout), else a silt code. The message names the statement and carries SQLite's. */
static int sqlite_fail(catalog *c, int src, const char *what, silt_err *err) {
    sqlite3 *db = be_of(c)->db;
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(src);
    int code;
    switch (src & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            SILT_FAIL(err, SILT_EIO, "sqlite %s: %s (code %d)", what, msg, src);
            return CAT__RETRY;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            code = SILT_ECORRUPT;
            break;
        case SQLITE_FULL:
            code = SILT_ENOSPC;
            break;
        case SQLITE_NOMEM:
            code = SILT_ENOMEM;
            break;
        case SQLITE_CONSTRAINT:
            code = src == SQLITE_CONSTRAINT_FOREIGNKEY ? SILT_ENOTFOUND
                   : src == SQLITE_CONSTRAINT_UNIQUE || src == SQLITE_CONSTRAINT_PRIMARYKEY
                       ? SILT_EEXIST
                       : SILT_EINVAL;
            break;
        case SQLITE_MISMATCH:
        case SQLITE_RANGE:
        case SQLITE_TOOBIG:
            code = SILT_EINVAL;
            break;
        default:
            code = SILT_EIO;
    }
    return SILT_FAIL(err, code, "sqlite %s: %s (code %d)", what, msg, src);
}

static int sqlite_simple(catalog *c, const char *sql, silt_err *err) {
    int rc = sqlite3_exec(be_of(c)->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? SILT_OK : sqlite_fail(c, rc, sql, err);
}

static int sqlite_begin(catalog *c, cat_txmode mode, silt_err *err) {
    (void)mode; /* WRITE and MIGRATE alike: take the write lock now */
    return sqlite_simple(c, "BEGIN IMMEDIATE", err);
}

static int fsync_parent_dir(const char *path, silt_err *err) {
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (!slash) {
        free(dir);
        dir = xstrdup(".");
    } else if (slash == dir) {
        slash[1] = 0;
    } else {
        *slash = 0;
    }
    int rc = SILT_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) rc = silt_err_sys(err, errno, "sqlite: fsync directory %s", dir);
    if (fd >= 0) close(fd);
    free(dir);
    return rc;
}

static int sqlite_commit(catalog *c, silt_err *err) {
    sqlite_be *be = be_of(c);
    int rc = sqlite_simple(c, "COMMIT", err);
    if (rc == SILT_OK && be->created && !be->dir_synced) {
        rc = fsync_parent_dir(be->path, err);
        be->dir_synced = rc == SILT_OK;
    }
    return rc;
}

static void sqlite_rollback(catalog *c) {
    sqlite_be *be = be_of(c);
    if (sqlite3_get_autocommit(be->db)) return; /* SQLite already rolled back */
    int rc = sqlite3_exec(be->db, "ROLLBACK", NULL, NULL, NULL);
    if (rc != SQLITE_OK) log_warn("catalog", "sqlite ROLLBACK: %s", sqlite3_errmsg(be->db));
}

static int sqlite_prepare(catalog *c, cat_stmt id, sqlite3_stmt **out, silt_err *err) {
    sqlite_be *be = be_of(c);
    if (be->stmts[id]) {
        *out = be->stmts[id];
        return SILT_OK;
    }
    const cat_stmt_def *d = &catalog__stmts[id];
    if (!d->sql) return SILT_FAIL(err, SILT_EINVAL, "sqlite %s: not a SQLite statement", d->name);
    int rc =
        sqlite3_prepare_v3(be->db, d->sql, -1, SQLITE_PREPARE_PERSISTENT, &be->stmts[id], NULL);
    if (rc != SQLITE_OK) return sqlite_fail(c, rc, d->name, err);
    *out = be->stmts[id];
    return SILT_OK;
}

static int sqlite_exec(catalog *c, cat_stmt id, const cat_val *params, cat_row_fn fn, void *arg,
                       int64_t *changes, silt_err *err) {
    sqlite_be *be = be_of(c);
    const cat_stmt_def *d = &catalog__stmts[id];
    sqlite3_stmt *st = NULL;
    int rc = sqlite_prepare(c, id, &st, err);
    if (rc) return rc;
    int np = (int)strlen(d->params), nr = (int)strlen(d->results);
    assert(np == sqlite3_bind_parameter_count(st));
    for (int i = 0; i < np && rc == SQLITE_OK; i++) {
        const cat_val *v = &params[i];
        if (v->t == CAT_NULL)
            rc = sqlite3_bind_null(st, i + 1);
        else if (d->params[i] == 'i')
            rc = sqlite3_bind_int64(st, i + 1, v->i);
        else
            rc = sqlite3_bind_text(st, i + 1, v->s, -1, SQLITE_STATIC);
    }
    if (rc != SQLITE_OK) {
        rc = sqlite_fail(c, rc, d->name, err);
        goto done;
    }
    for (;;) {
        int s = sqlite3_step(st);
        if (s == SQLITE_DONE) break;
        if (s != SQLITE_ROW) {
            rc = sqlite_fail(c, s, d->name, err);
            goto done;
        }
        if (!fn) continue;
        cat_val cols[CAT_MAX_COLS];
        int n = sqlite3_column_count(st);
        if (n < nr) {
            rc = SILT_FAIL(err, SILT_ECORRUPT, "sqlite %s: %d result columns, expected %d", d->name,
                           n, nr);
            goto done;
        }
        for (int i = 0; i < nr; i++) {
            if (sqlite3_column_type(st, i) == SQLITE_NULL)
                cols[i] = CAT_NUL;
            else if (d->results[i] == 'i')
                cols[i] = CAT_I(sqlite3_column_int64(st, i));
            else
                cols[i] = CAT_S((const char *)sqlite3_column_text(st, i));
        }
        rc = fn(arg, cols, nr, err);
        if (rc) goto done;
    }
    if (changes) *changes = sqlite3_changes64(be->db);
    rc = SILT_OK;
done:
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static int sqlite_script(catalog *c, const char *sql, silt_err *err) {
    char *msg = NULL;
    int rc = sqlite3_exec(be_of(c)->db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK) return SILT_OK;
    sqlite3_free(msg);
    return sqlite_fail(c, rc, "script", err);
}

static int sqlite_query_i64(catalog *c, const char *sql, int64_t *v, bool *found, silt_err *err) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(be_of(c)->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return sqlite_fail(c, rc, "query", err);
    *found = false;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *found = true;
        *v = sqlite3_column_int64(st, 0);
        rc = SILT_OK;
    } else if (s == SQLITE_DONE) {
        rc = SILT_OK;
    } else {
        rc = sqlite_fail(c, s, "query", err);
    }
    sqlite3_finalize(st);
    return rc;
}

static int sqlite_reconnect(catalog *c, silt_err *err) {
    (void)c, (void)err; /* a local file: nothing to reconnect */
    return SILT_OK;
}

static void sqlite_close(catalog *c) {
    sqlite_be *be = be_of(c);
    if (!be) return;
    for (int i = 0; i < CAT_STMT_COUNT; i++) sqlite3_finalize(be->stmts[i]);
    if (be->db && sqlite3_close(be->db) != SQLITE_OK)
        log_warn("catalog", "sqlite close %s: %s", be->path, sqlite3_errmsg(be->db));
    free(be->path);
    free(be);
    c->be = NULL;
}

static const cat_ops sqlite_ops = {
    .name = "sqlite",
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .exec = sqlite_exec,
    .script = sqlite_script,
    .query_i64 = sqlite_query_i64,
    .reconnect = sqlite_reconnect,
    .close = sqlite_close,
};

/* Run a PRAGMA and check the value it reports (NULL: do not check). */
static int sqlite_pragma(catalog *c, const char *sql, const char *want, silt_err *err) {
    sqlite3_stmt *st = NULL;
    sqlite3 *db = be_of(c)->db;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return sqlite_fail(c, rc, sql, err);
    int s = sqlite3_step(st);
    if (s != SQLITE_ROW && s != SQLITE_DONE) {
        rc = sqlite_fail(c, s, sql, err);
    } else if (want) {
        const char *got = s == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
        rc = got && strcasecmp(got, want) == 0
                 ? SILT_OK
                 : SILT_FAIL(err, SILT_EUNSUPPORTED, "sqlite %s: got '%s', need '%s'", sql,
                             got ? got : "(nothing)", want);
    } else {
        rc = SILT_OK;
    }
    sqlite3_finalize(st);
    return rc > 0 ? SILT_EIO : rc; /* busy after the timeout: not retried while opening */
}

int catalog__sqlite_open(catalog *c, const char *path, silt_err *err) {
    sqlite_be *be = xcalloc(1, sizeof *be);
    be->path = xstrdup(path);
    c->be = be;
    c->ops = &sqlite_ops;
    struct stat sb;
    be->created = stat(path, &sb) != 0 && errno == ENOENT;

    int rc = sqlite3_open_v2(
        path, &be->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = SILT_FAIL(err, rc == SQLITE_NOMEM ? SILT_ENOMEM : SILT_EIO,
                       "sqlite: cannot open %s: %s", path,
                       be->db ? sqlite3_errmsg(be->db) : sqlite3_errstr(rc));
        return rc;
    }
    sqlite3_extended_result_codes(be->db, 1);
    sqlite3_busy_timeout(be->db, SQLITE_BUSY_TIMEOUT_MS);
    /* journal_mode=WAL touches the file: a file that is not a database fails here */
    if ((rc = sqlite_pragma(c, "PRAGMA journal_mode=WAL", "wal", err))) goto fail;
    if ((rc = sqlite_pragma(c, "PRAGMA synchronous=FULL", NULL, err))) goto fail;
    if ((rc = sqlite_pragma(c, "PRAGMA synchronous", "2", err))) goto fail;
    if ((rc = sqlite_pragma(c, "PRAGMA foreign_keys=ON", NULL, err))) goto fail;
    if ((rc = sqlite_pragma(c, "PRAGMA foreign_keys", "1", err))) goto fail;
    return SILT_OK;
fail:
    catalog__err_prefix(err, "sqlite: cannot open %s", path);
    return rc;
}
