/* SPDX-License-Identifier: MIT
 *
 * catalog: the interface of catalog.h over either backend. This file owns everything the two
 * backends share: argument validation, the transaction retry loop, the statement table and
 * the logic of every call (which statements run, in which order, inside which transaction).
 * The backends (catalog_sqlite.c, catalog_pg.c) only connect, run statements and report
 * errors; the schema and its migrations are in catalog_migrate.c. Invariants (1)-(8) are
 * listed in README.md and cited here by number.
 */
#include "catalog_int.h"

#include "../lp/lp.h"
#include "../schema/schema.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define CAT_MAX_ATTEMPTS   40
#define CAT_BACKOFF_MIN_US 1000
#define CAT_BACKOFF_MAX_US 200000
#define CAT_NAME_MAX       4096 /* table and column names, bytes */
#define CAT_NODE_ID_MAX    255

const cat_stmt_def catalog__stmts[CAT_STMT_COUNT] = {
#define CAT__STMT_DEF(id, p, r, sql, pg) {#id, p, r, sql, pg},
    CAT_STMTS(CAT__STMT_DEF)
#undef CAT__STMT_DEF
};

/* ------------------------------------------------------------------ transactions */

static uint64_t rng_next(catalog *c) {
    uint64_t x = c->rng; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c->rng = x;
    return x;
}

/* Exponential backoff with jitter: 1 ms, 2 ms, 4 ms ... capped at 200 ms, each times a
 * random factor in [0.5, 1.5). Sleeps with mu held: the connection is busy anyway. */
static void backoff(catalog *c, int attempt) {
    int shift = attempt < 9 ? attempt - 1 : 8;
    int64_t us = (int64_t)CAT_BACKOFF_MIN_US << (shift > 0 ? shift : 0);
    if (us > CAT_BACKOFF_MAX_US) us = CAT_BACKOFF_MAX_US;
    us = us / 2 + (int64_t)(rng_next(c) % (uint64_t)us);
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

int catalog__run(catalog *c, cat_txmode mode, const char *op, cat_body_fn body, void *arg,
                 bool locked, silt_err *err) {
    silt_err last = {0};
    int rc, attempt = 0;
    if (!locked) pthread_mutex_lock(&c->mu);
    for (;;) {
        c->stats.n_txns++;
        memset(&last, 0, sizeof last);
        bool in_tx = false;
        rc = SILT_OK;
        if (mode != CAT_TX_NONE) {
            rc = c->ops->begin(c, mode, &last);
            in_tx = rc == SILT_OK;
        }
        if (rc == SILT_OK) rc = body(c, arg, &last);
        if (rc == SILT_OK && in_tx) {
            rc = c->ops->commit(c, &last);
            if (rc == SILT_OK) in_tx = false;
        }
        if (rc == SILT_OK) break;
        if (in_tx) c->ops->rollback(c);
        if (rc != CAT__RETRY && rc != CAT__RECONNECT) break;
        if (++attempt >= c->max_attempts) {
            /* invariant (7): bounded; the last database error is in the message */
            int code = last.code < 0 ? last.code : SILT_EIO;
            catalog__err_prefix(&last, "gave up after %d attempts", attempt);
            rc = last.code = code;
            break;
        }
        backoff(c, attempt);
        if (rc == CAT__RECONNECT) {
            c->stats.n_reconnects++;
            silt_err rerr = {0};
            if (c->ops->reconnect(c, &rerr) != SILT_OK)
                log_warn("catalog", "%s: reconnect failed: %s", op, rerr.msg);
        } else {
            c->stats.n_retries++;
        }
        log_debug("catalog", "%s: retrying (attempt %d): %s", op, attempt + 1, last.msg);
    }
    if (!locked) pthread_mutex_unlock(&c->mu);
    if (rc != SILT_OK && err) {
        *err = last;
        err->code = rc;
        catalog__err_prefix(err, "%s", op);
    }
    return rc;
}

/* ------------------------------------------------------------------ row helpers */

typedef struct id_row {
    bool found;
    int64_t id;
    bool deleted; /* second column (deleted_at) not NULL, when the statement has one */
} id_row;

static int row_id(void *arg, const cat_val *v, int n, silt_err *err) {
    (void)err;
    id_row *r = arg;
    r->found = true;
    r->id = v[0].i;
    r->deleted = n > 1 && v[1].t != CAT_NULL;
    return SILT_OK;
}

/* deleted_at as the only column */
static int row_deleted(void *arg, const cat_val *v, int n, silt_err *err) {
    (void)n, (void)err;
    id_row *r = arg;
    r->found = true;
    r->deleted = v[0].t != CAT_NULL;
    return SILT_OK;
}

/* ------------------------------------------------------------------ validation */

static int check_name(const char *what, const char *name, silt_err *err) {
    if (!name) return SILT_FAIL(err, SILT_EINVAL, "%s name is NULL", what);
    size_t n = strlen(name);
    if (n == 0) return SILT_FAIL(err, SILT_EINVAL, "%s name is empty", what);
    if (n > CAT_NAME_MAX)
        return SILT_FAIL(err, SILT_EINVAL, "%s name is longer than %d bytes", what, CAT_NAME_MAX);
    size_t bad;
    if (!utf8_valid((const uint8_t *)name, n, &bad))
        return SILT_FAIL(err, SILT_EINVAL, "%s name is not valid UTF-8 (byte %zu)", what, bad);
    return SILT_OK;
}

static int check_node_id(const char *node, silt_err *err) {
    size_t n = strlen(node);
    if (n == 0 || n > CAT_NODE_ID_MAX)
        return SILT_FAIL(err, SILT_EINVAL, "node id must be 1..%d bytes", CAT_NODE_ID_MAX);
    if (!utf8_valid((const uint8_t *)node, n, NULL))
        return SILT_FAIL(err, SILT_EINVAL, "node id is not valid UTF-8");
    return SILT_OK;
}

static const char *kind_name(int kind) {
    switch (kind) {
        case 1:
            return "tag";
        case 2:
            return "field";
        case 3:
            return "time";
    }
    return "?";
}

static int check_column(const catalog_column *col, int64_t table_id, silt_err *err) {
    int rc = check_name("column", col->name, err);
    if (rc) return rc;
    if (table_id <= 0)
        return SILT_FAIL(err, SILT_EINVAL, "column '%s': invalid table id %lld", col->name,
                         (long long)table_id);
    if (col->kind < 1 || col->kind > 3)
        return SILT_FAIL(err, SILT_EINVAL, "column '%s': invalid kind %d", col->name, col->kind);
    if (col->kind == 2 ? (col->type < LP_FLOAT || col->type > LP_BOOL) : col->type != 0)
        return SILT_FAIL(err, SILT_EINVAL, "column '%s': invalid type %d for a %s", col->name,
                         col->type, kind_name(col->kind));
    return SILT_OK;
}

static int check_file(const catalog_file *f, silt_err *err) {
    size_t kn = strnlen(f->object_key, sizeof f->object_key);
    if (kn == 0 || kn == sizeof f->object_key)
        return SILT_FAIL(err, SILT_EINVAL, "file object key is empty or not NUL-terminated");
    const char *k = f->object_key;
    if (f->table_id <= 0)
        return SILT_FAIL(err, SILT_EINVAL, "file %s: invalid table id %lld", k,
                         (long long)f->table_id);
    if (!utf8_valid((const uint8_t *)k, kn, NULL))
        return SILT_FAIL(err, SILT_EINVAL, "file object key is not valid UTF-8");
    size_t cn = strnlen(f->checksum, sizeof f->checksum);
    if (cn == sizeof f->checksum || !utf8_valid((const uint8_t *)f->checksum, cn, NULL))
        return SILT_FAIL(err, SILT_EINVAL, "file %s: checksum not NUL-terminated UTF-8", k);
    if (f->min_time > f->max_time)
        return SILT_FAIL(err, SILT_EINVAL, "file %s: min_time %lld > max_time %lld", k,
                         (long long)f->min_time, (long long)f->max_time);
    /* invariant (4): a file lies inside its partition's UTC day */
    if (time_day(f->min_time) != f->day || time_day(f->max_time) != f->day)
        return SILT_FAIL(err, SILT_EINVAL,
                         "file %s: times [%lld, %lld] are not inside partition day %lld", k,
                         (long long)f->min_time, (long long)f->max_time, (long long)f->day);
    if (f->row_count > INT64_MAX || f->size_bytes > INT64_MAX)
        return SILT_FAIL(err, SILT_EINVAL, "file %s: row count or size out of range", k);
    if (f->compaction_level < 0 || f->created_at < 0 || f->to_delete_at < 0)
        return SILT_FAIL(err, SILT_EINVAL, "file %s: negative level or time", k);
    return SILT_OK;
}

/* ------------------------------------------------------------------ open, close */

static int register_node_body(catalog *c, void *arg, silt_err *err) {
    (void)arg;
    int64_t now = time_now_ns();
    cat_val p[] = {CAT_S(c->node_id), CAT_I(now), CAT_I(now)};
    return cat__exec(c, CAT_STMT_NODE_UPSERT, p, NULL, NULL, NULL, err);
}

static bool is_pg_url(const char *t) {
    return strncmp(t, "postgresql://", 13) == 0 || strncmp(t, "postgres://", 11) == 0;
}

int catalog_open(const char *target, const catalog_opts *opts, catalog **out, silt_err *err) {
    *out = NULL;
    if (!target || !*target)
        return SILT_FAIL(err, SILT_EINVAL,
                         "catalog: no target (a postgresql:// URL or a SQLite file path)");
    const char *node = opts ? opts->node_id : NULL;
    int rc;
    if (node && (rc = check_node_id(node, err))) return rc;

    catalog *c = xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->max_attempts = CAT_MAX_ATTEMPTS;
    c->rng = ((uint64_t)time_mono_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)c) | 1;
    c->node_id = node ? xstrdup(node) : NULL;

    rc =
        is_pg_url(target) ? catalog__pg_open(c, target, err) : catalog__sqlite_open(c, target, err);
    if (rc) goto fail;
    rc = catalog__migrate(c, err);
    if (rc) goto fail;
    if (c->node_id) {
        rc = catalog__run(c, CAT_TX_WRITE, "catalog_open: register node", register_node_body, NULL,
                          false, err);
        if (rc) goto fail;
    }
    *out = c;
    return SILT_OK;
fail:
    catalog_close(c);
    return rc;
}

void catalog_close(catalog *c) {
    if (!c) return;
    if (c->ops) c->ops->close(c);
    pthread_mutex_destroy(&c->mu);
    free(c->node_id);
    free(c);
}

const char *catalog_backend(const catalog *c) {
    return c->ops->name;
}

static int version_body(catalog *c, void *arg, silt_err *err) {
    id_row *r = arg;
    r->found = false;
    return cat__exec(c, CAT_STMT_VERSION_GET, NULL, row_id, r, NULL, err);
}

int catalog_schema_version(catalog *c, int *version, silt_err *err) {
    id_row r = {0};
    int rc = catalog__run(c, CAT_TX_NONE, "catalog_schema_version", version_body, &r, false, err);
    if (rc == SILT_OK) *version = (int)r.id;
    return rc;
}

/* ------------------------------------------------------------------ databases, tables */

typedef struct ensure_arg {
    int64_t parent; /* db id, for tables */
    const char *name;
    id_row r;
} ensure_arg;

static int db_get_body(catalog *c, void *arg, silt_err *err) {
    ensure_arg *a = arg;
    memset(&a->r, 0, sizeof a->r);
    cat_val p[] = {CAT_S(a->name)};
    return cat__exec(c, CAT_STMT_DB_GET, p, row_id, &a->r, NULL, err);
}

/* invariant (2): read, insert if absent (ON CONFLICT DO NOTHING), read again. A concurrent
 * creator makes the insert a no-op (SQLite: it committed before our BEGIN IMMEDIATE) or a
 * serialization failure (PostgreSQL), retried: the re-run finds the row. */
static int db_create_body(catalog *c, void *arg, silt_err *err) {
    ensure_arg *a = arg;
    int rc = db_get_body(c, a, err);
    if (rc || a->r.found) return rc;
    cat_val p[] = {CAT_S(a->name), CAT_I(time_now_ns())};
    rc = cat__exec(c, CAT_STMT_DB_INSERT, p, row_id, &a->r, NULL, err);
    if (rc || a->r.found) return rc;
    rc = db_get_body(c, a, err);
    if (rc == SILT_OK && !a->r.found)
        return SILT_FAIL(err, SILT_EIO, "database '%s' neither inserted nor found", a->name);
    return rc;
}

int catalog_ensure_db(catalog *c, const char *name, int64_t *db_id, silt_err *err) {
    int rc = name ? schema_db_name_check(name, strlen(name), err)
                  : SILT_FAIL(err, SILT_EINVAL, "database name is NULL");
    if (rc) return rc;
    ensure_arg a = {.name = name};
    rc = catalog__run(c, CAT_TX_NONE, "catalog_ensure_db", db_get_body, &a, false, err);
    if (rc == SILT_OK && !a.r.found)
        rc = catalog__run(c, CAT_TX_WRITE, "catalog_ensure_db", db_create_body, &a, false, err);
    if (rc) return rc;
    if (a.r.deleted)
        return SILT_FAIL(err, SILT_ENOTFOUND, "catalog_ensure_db: database '%s' is deleted", name);
    *db_id = a.r.id;
    return SILT_OK;
}

static int db_check(catalog *c, int64_t db_id, silt_err *err) {
    id_row r = {0};
    cat_val p[] = {CAT_I(db_id)};
    int rc = cat__exec(c, CAT_STMT_DB_BY_ID, p, row_deleted, &r, NULL, err);
    if (rc) return rc;
    if (!r.found)
        return SILT_FAIL(err, SILT_ENOTFOUND, "database id %lld does not exist", (long long)db_id);
    if (r.deleted)
        return SILT_FAIL(err, SILT_ENOTFOUND, "database id %lld is deleted", (long long)db_id);
    return SILT_OK;
}

static int table_get_body(catalog *c, void *arg, silt_err *err) {
    ensure_arg *a = arg;
    memset(&a->r, 0, sizeof a->r);
    int rc = db_check(c, a->parent, err);
    if (rc) return rc;
    cat_val p[] = {CAT_I(a->parent), CAT_S(a->name)};
    return cat__exec(c, CAT_STMT_TABLE_GET, p, row_id, &a->r, NULL, err);
}

static int table_create_body(catalog *c, void *arg, silt_err *err) {
    ensure_arg *a = arg;
    int rc = table_get_body(c, a, err);
    if (rc || a->r.found) return rc;
    cat_val p[] = {CAT_I(a->parent), CAT_S(a->name), CAT_I(time_now_ns())};
    rc = cat__exec(c, CAT_STMT_TABLE_INSERT, p, row_id, &a->r, NULL, err);
    if (rc || a->r.found) return rc;
    rc = table_get_body(c, a, err);
    if (rc == SILT_OK && !a->r.found)
        return SILT_FAIL(err, SILT_EIO, "table '%s' neither inserted nor found", a->name);
    return rc;
}

int catalog_ensure_table(catalog *c, int64_t db_id, const char *name, int64_t *table_id,
                         silt_err *err) {
    int rc = check_name("table", name, err);
    if (rc) return rc;
    if (db_id <= 0)
        return SILT_FAIL(err, SILT_EINVAL, "catalog_ensure_table: invalid database id %lld",
                         (long long)db_id);
    ensure_arg a = {.parent = db_id, .name = name};
    rc = catalog__run(c, CAT_TX_NONE, "catalog_ensure_table", table_get_body, &a, false, err);
    if (rc == SILT_OK && !a.r.found)
        rc = catalog__run(c, CAT_TX_WRITE, "catalog_ensure_table", table_create_body, &a, false,
                          err);
    if (rc) return rc;
    if (a.r.deleted)
        return SILT_FAIL(err, SILT_ENOTFOUND, "catalog_ensure_table: table '%s' is deleted", name);
    *table_id = a.r.id;
    return SILT_OK;
}

/* ------------------------------------------------------------------ deleting */

typedef struct delete_arg {
    int64_t id;
    bool is_db;
    int64_t files_at;
    int64_t n_marked; /* files marked by the committed attempt */
} delete_arg;

/* One transaction: the files first, then the tables, then the database, each update
 * restricted to what is still live, so a re-run after a lost COMMIT changes nothing and
 * marks keep their first value (invariants 5 and 6). */
static int delete_body(catalog *c, void *arg, silt_err *err) {
    delete_arg *a = arg;
    a->n_marked = 0;
    id_row r = {0};
    cat_val p[] = {CAT_I(a->id)};
    int rc = cat__exec(c, a->is_db ? CAT_STMT_DB_BY_ID : CAT_STMT_TABLE_BY_ID, p, row_deleted, &r,
                       NULL, err);
    if (rc) return rc;
    if (!r.found)
        return SILT_FAIL(err, SILT_ENOTFOUND, "%s id %lld does not exist",
                         a->is_db ? "database" : "table", (long long)a->id);
    int64_t now = time_now_ns();
    cat_val f[] = {CAT_I(a->files_at), CAT_I(a->id)};
    rc = cat__exec(c, a->is_db ? CAT_STMT_DB_FILES_MARK : CAT_STMT_TABLE_FILES_MARK, f, NULL, NULL,
                   &a->n_marked, err);
    if (rc) return rc;
    cat_val d[] = {CAT_I(now), CAT_I(a->id)};
    if (a->is_db && (rc = cat__exec(c, CAT_STMT_DB_TABLES_DELETE, d, NULL, NULL, NULL, err)))
        return rc;
    return cat__exec(c, a->is_db ? CAT_STMT_DB_DELETE : CAT_STMT_TABLE_DELETE, d, NULL, NULL, NULL,
                     err);
}

static int delete_obj(catalog *c, const char *op, int64_t id, bool is_db, int64_t files_at,
                      size_t *n_marked, silt_err *err) {
    if (id <= 0)
        return SILT_FAIL(err, SILT_EINVAL, "%s: invalid %s id %lld", op,
                         is_db ? "database" : "table", (long long)id);
    if (files_at <= 0)
        return SILT_FAIL(err, SILT_EINVAL, "%s: to_delete_at must be > 0, not %lld", op,
                         (long long)files_at);
    delete_arg a = {.id = id, .is_db = is_db, .files_at = files_at};
    int rc = catalog__run(c, CAT_TX_WRITE, op, delete_body, &a, false, err);
    if (rc == SILT_OK && n_marked) *n_marked = (size_t)a.n_marked;
    return rc;
}

int catalog_delete_table(catalog *c, int64_t table_id, int64_t files_delete_at, size_t *n_marked,
                         silt_err *err) {
    return delete_obj(c, "catalog_delete_table", table_id, false, files_delete_at, n_marked, err);
}

int catalog_delete_db(catalog *c, int64_t db_id, int64_t files_delete_at, size_t *n_marked,
                      silt_err *err) {
    return delete_obj(c, "catalog_delete_db", db_id, true, files_delete_at, n_marked, err);
}

/* ------------------------------------------------------------------ load_schema */

typedef struct schema_row {
    int64_t db_id, table_id;
    char *db, *table, *col;
    int kind, type;
} schema_row;

typedef struct schema_rows {
    schema_row *v;
    size_t n, cap;
} schema_rows;

static void schema_rows_clear(schema_rows *s) {
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].db);
        free(s->v[i].table);
        free(s->v[i].col);
    }
    s->n = 0;
}

static int row_schema(void *arg, const cat_val *v, int n, silt_err *err) {
    (void)n, (void)err;
    schema_rows *s = arg;
    XGROW(s->v, s->cap, s->n + 1);
    schema_row *r = &s->v[s->n++];
    memset(r, 0, sizeof *r);
    r->db_id = v[0].i;
    r->db = xstrdup(v[1].s);
    if (v[2].t != CAT_NULL) {
        r->table_id = v[2].i;
        r->table = xstrdup(v[3].s);
    }
    if (v[4].t != CAT_NULL) {
        r->col = xstrdup(v[5].s);
        r->kind = (int)v[6].i;
        r->type = (int)v[7].i;
    }
    return SILT_OK;
}

static int schema_body(catalog *c, void *arg, silt_err *err) {
    schema_rows_clear(arg); /* a retried read starts over */
    return cat__exec(c, CAT_STMT_SCHEMA_LOAD, NULL, row_schema, arg, NULL, err);
}

int catalog_load_schema(catalog *c, catalog_schema_fn fn, void *arg, silt_err *err) {
    schema_rows s = {0};
    /* one statement: one consistent snapshot; rows are delivered after mu is released, so
     * fn may call back into the catalog */
    int rc = catalog__run(c, CAT_TX_NONE, "catalog_load_schema", schema_body, &s, false, err);
    for (size_t i = 0; rc == SILT_OK && i < s.n; i++) {
        schema_row *r = &s.v[i];
        catalog_column col = {r->col, r->kind, r->type};
        rc = fn(arg, r->db_id, r->db, r->table_id, r->table, r->col ? &col : NULL);
    }
    schema_rows_clear(&s);
    free(s.v);
    return rc;
}

/* ------------------------------------------------------------------ files: reading */

typedef struct file_vec {
    catalog_file *v;
    size_t n, cap;
} file_vec;

static int decode_file(const cat_val *v, catalog_file *f, silt_err *err) {
    memset(f, 0, sizeof *f);
    f->id = v[0].i;
    f->table_id = v[1].i;
    f->day = v[2].i;
    size_t kn = strlen(v[3].s), cn = strlen(v[8].s);
    if (kn >= sizeof f->object_key || cn >= sizeof f->checksum)
        return SILT_FAIL(err, SILT_ECORRUPT, "file id %lld: object key or checksum too long",
                         (long long)f->id);
    memcpy(f->object_key, v[3].s, kn + 1);
    f->min_time = v[4].i;
    f->max_time = v[5].i;
    f->row_count = (uint64_t)v[6].i;
    f->size_bytes = (uint64_t)v[7].i;
    memcpy(f->checksum, v[8].s, cn + 1);
    f->compaction_level = (int)v[9].i;
    f->created_at = v[10].i;
    f->to_delete_at = v[11].t == CAT_NULL ? 0 : v[11].i;
    return SILT_OK;
}

static int row_file(void *arg, const cat_val *v, int n, silt_err *err) {
    (void)n;
    file_vec *fv = arg;
    XGROW(fv->v, fv->cap, fv->n + 1);
    int rc = decode_file(v, &fv->v[fv->n], err);
    if (rc == SILT_OK) fv->n++;
    return rc;
}

typedef struct list_arg {
    file_vec fv;
    int64_t table_id, t_min, t_max;
} list_arg;

static int list_body(catalog *c, void *arg, silt_err *err) {
    list_arg *a = arg;
    a->fv.n = 0; /* a retried read starts over */
    cat_val p[] = {CAT_I(a->table_id), CAT_I(a->t_max), CAT_I(a->t_min)};
    return cat__exec(c, CAT_STMT_FILES_LIST, p, row_file, &a->fv, NULL, err);
}

int catalog_list_files(catalog *c, int64_t table_id, int64_t t_min, int64_t t_max,
                       catalog_file **out, size_t *n, silt_err *err) {
    list_arg a = {.table_id = table_id, .t_min = t_min, .t_max = t_max};
    int rc = catalog__run(c, CAT_TX_NONE, "catalog_list_files", list_body, &a, false, err);
    if (rc) {
        free(a.fv.v);
        return rc;
    }
    *out = a.fv.v;
    *n = a.fv.n;
    return SILT_OK;
}

static int list_all_body(catalog *c, void *arg, silt_err *err) {
    file_vec *fv = arg;
    fv->n = 0;
    return cat__exec(c, CAT_STMT_FILES_ALL, NULL, row_file, fv, NULL, err);
}

int catalog_list_all_files(catalog *c, catalog_file **out, size_t *n, silt_err *err) {
    file_vec fv = {0};
    int rc = catalog__run(c, CAT_TX_NONE, "catalog_list_all_files", list_all_body, &fv, false, err);
    if (rc) {
        free(fv.v);
        return rc;
    }
    *out = fv.v;
    *n = fv.n;
    return SILT_OK;
}

/* ------------------------------------------------------------------ files: marking */

typedef struct mark_arg {
    const int64_t *ids;
    size_t n;
    int64_t at;
} mark_arg;

/* invariant (5): a file already marked keeps its first mark (the grace period counts from
 * the moment it became invisible); a missing id fails the whole transaction. */
static int mark_ids(catalog *c, const int64_t *ids, size_t n, int64_t at, silt_err *err) {
    for (size_t i = 0; i < n; i++) {
        int64_t changes = 0;
        cat_val p[] = {CAT_I(at), CAT_I(ids[i])};
        int rc = cat__exec(c, CAT_STMT_FILE_MARK, p, NULL, NULL, &changes, err);
        if (rc) return rc;
        if (changes > 0) continue;
        id_row r = {0};
        cat_val q[] = {CAT_I(ids[i])};
        rc = cat__exec(c, CAT_STMT_FILE_EXISTS, q, row_id, &r, NULL, err);
        if (rc) return rc;
        if (!r.found)
            return SILT_FAIL(err, SILT_ENOTFOUND, "file id %lld does not exist", (long long)ids[i]);
    }
    return SILT_OK;
}

static int mark_body(catalog *c, void *arg, silt_err *err) {
    mark_arg *a = arg;
    return mark_ids(c, a->ids, a->n, a->at, err);
}

static int check_mark(const int64_t *ids, size_t n, int64_t at, silt_err *err) {
    if (n == 0) return SILT_OK;
    if (!ids) return SILT_FAIL(err, SILT_EINVAL, "file ids are NULL");
    if (at <= 0)
        return SILT_FAIL(err, SILT_EINVAL, "to_delete_at must be > 0 (0 means live), not %lld",
                         (long long)at);
    for (size_t i = 0; i < n; i++)
        if (ids[i] <= 0)
            return SILT_FAIL(err, SILT_EINVAL, "invalid file id %lld", (long long)ids[i]);
    return SILT_OK;
}

int catalog_mark_files(catalog *c, const int64_t *ids, size_t n, int64_t to_delete_at,
                       silt_err *err) {
    int rc = check_mark(ids, n, to_delete_at, err);
    if (rc || n == 0) return rc;
    mark_arg a = {ids, n, to_delete_at};
    return catalog__run(c, CAT_TX_WRITE, "catalog_mark_files", mark_body, &a, false, err);
}

/* ------------------------------------------------------------------ commit_persist */

typedef struct part_ent {
    int64_t table_id, day, id;
} part_ent;

typedef struct commit_arg {
    catalog_commit *cm;
    const char *node_id; /* cm->node_id or the catalog's, or NULL */
    int64_t *tables;     /* distinct table ids, sorted */
    size_t n_tables;
    part_ent *parts; /* distinct (table, day), sorted: invariant (8) */
    size_t n_parts;
    int64_t *ids, *created; /* per file, copied to cm->files on success */
    bool hook_done;
} commit_arg;

typedef struct col_row {
    bool found;
    int kind, type;
} col_row;

static int row_col(void *arg, const cat_val *v, int n, silt_err *err) {
    (void)n, (void)err;
    col_row *r = arg;
    r->found = true;
    r->kind = (int)v[0].i;
    r->type = (int)v[1].i;
    return SILT_OK;
}

static int col_compare(const catalog_column *want, int64_t table_id, const col_row *have,
                       silt_err *err) {
    if (have->kind != want->kind)
        return SILT_FAIL(err, SILT_ESCHEMA, "column '%s' of table id %lld is a %s, not a %s",
                         want->name, (long long)table_id, kind_name(have->kind),
                         kind_name(want->kind));
    if (have->type != want->type)
        return SILT_FAIL(err, SILT_ESCHEMA, "field '%s' of table id %lld has type %s, not %s",
                         want->name, (long long)table_id, lp_type_name((lp_type)have->type),
                         lp_type_name((lp_type)want->type));
    return SILT_OK;
}

static int commit_column(catalog *c, int64_t table_id, const catalog_column *col, int64_t now,
                         silt_err *err) {
    col_row r = {0};
    cat_val k[] = {CAT_I(table_id), CAT_S(col->name)};
    int rc = cat__exec(c, CAT_STMT_COL_GET, k, row_col, &r, NULL, err);
    if (rc) return rc;
    if (r.found) return col_compare(col, table_id, &r, err);
    int64_t changes = 0;
    cat_val p[] = {CAT_I(table_id), CAT_S(col->name), CAT_I(col->kind), CAT_I(col->type),
                   CAT_I(now)};
    rc = cat__exec(c, CAT_STMT_COL_INSERT, p, NULL, NULL, &changes, err);
    if (rc || changes > 0) return rc;
    /* lost a race to a concurrent insert: compare with what it wrote (invariant 2) */
    rc = cat__exec(c, CAT_STMT_COL_GET, k, row_col, &r, NULL, err);
    if (rc) return rc;
    if (!r.found)
        return SILT_FAIL(err, SILT_EIO, "column '%s' neither inserted nor found", col->name);
    return col_compare(col, table_id, &r, err);
}

static int commit_partition(catalog *c, part_ent *pe, int64_t now, silt_err *err) {
    id_row r = {0};
    cat_val k[] = {CAT_I(pe->table_id), CAT_I(pe->day)};
    int rc = cat__exec(c, CAT_STMT_PART_GET, k, row_id, &r, NULL, err);
    if (rc == SILT_OK && !r.found) {
        cat_val p[] = {CAT_I(pe->table_id), CAT_I(pe->day), CAT_I(now)};
        rc = cat__exec(c, CAT_STMT_PART_INSERT, p, row_id, &r, NULL, err);
    }
    if (rc == SILT_OK && !r.found) rc = cat__exec(c, CAT_STMT_PART_GET, k, row_id, &r, NULL, err);
    if (rc == SILT_OK && !r.found)
        rc = SILT_FAIL(err, SILT_EIO,
                       "partition (table %lld, day %lld) neither inserted nor "
                       "found",
                       (long long)pe->table_id, (long long)pe->day);
    pe->id = r.id;
    return rc;
}

static part_ent *part_find(commit_arg *a, int64_t table_id, int64_t day) {
    size_t lo = 0, hi = a->n_parts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        part_ent *p = &a->parts[mid];
        if (p->table_id == table_id && p->day == day) return p;
        if (p->table_id < table_id || (p->table_id == table_id && p->day < day))
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int row_file_one(void *arg, const cat_val *v, int n, silt_err *err) {
    (void)n;
    return decode_file(v, arg, err);
}

/* invariant (6): recording a file whose key is already there with the same content is a
 * no-op that returns the existing id, so a commit retried after an unknown outcome (or a
 * persist job re-run) cannot fail or duplicate; another file under that key is EEXIST. */
static int commit_file(catalog *c, const catalog_file *f, int64_t part_id, int64_t now, int64_t *id,
                       int64_t *created, silt_err *err) {
    int64_t created_at = f->created_at ? f->created_at : now;
    id_row r = {0};
    cat_val p[] = {CAT_I(part_id),
                   CAT_I(f->table_id),
                   CAT_S(f->object_key),
                   CAT_I(f->min_time),
                   CAT_I(f->max_time),
                   CAT_I(f->row_count),
                   CAT_I(f->size_bytes),
                   CAT_S(f->checksum),
                   CAT_I(f->compaction_level),
                   CAT_I(created_at),
                   f->to_delete_at ? CAT_I(f->to_delete_at) : CAT_NUL};
    int rc = cat__exec(c, CAT_STMT_FILE_INSERT, p, row_id, &r, NULL, err);
    if (rc) return rc;
    if (r.found) {
        *id = r.id;
        *created = created_at;
        return SILT_OK;
    }
    catalog_file have = {0};
    cat_val k[] = {CAT_S(f->object_key)};
    rc = cat__exec(c, CAT_STMT_FILE_BY_KEY, k, row_file_one, &have, NULL, err);
    if (rc) return rc;
    if (have.id == 0)
        return SILT_FAIL(err, SILT_EIO, "file %s neither inserted nor found", f->object_key);
    if (have.table_id != f->table_id || have.day != f->day || have.min_time != f->min_time ||
        have.max_time != f->max_time || have.row_count != f->row_count ||
        have.size_bytes != f->size_bytes || strcmp(have.checksum, f->checksum) != 0 ||
        have.compaction_level != f->compaction_level)
        return SILT_FAIL(err, SILT_EEXIST,
                         "object key %s is already recorded for another file (id %lld)",
                         f->object_key, (long long)have.id);
    *id = have.id;
    *created = have.created_at;
    return SILT_OK;
}

static int commit_body(catalog *c, void *arg, silt_err *err) {
    commit_arg *a = arg;
    catalog_commit *cm = a->cm;
    int64_t now = time_now_ns();
    int rc;

    for (size_t i = 0; i < a->n_tables; i++) {
        id_row r = {0};
        cat_val p[] = {CAT_I(a->tables[i])};
        rc = cat__exec(c, CAT_STMT_TABLE_BY_ID, p, row_deleted, &r, NULL, err);
        if (rc) return rc;
        if (!r.found || r.deleted)
            return SILT_FAIL(err, SILT_ENOTFOUND, "table id %lld %s", (long long)a->tables[i],
                             r.found ? "is deleted" : "does not exist");
    }
    /* invariant (1): any failure from here on rolls back the whole commit. Columns go in
     * the caller's order: their ids record the order of creation (schema.h). */
    for (size_t i = 0; i < cm->n_cols; i++) {
        rc = commit_column(c, cm->col_table_ids[i], &cm->cols[i], now, err);
        if (rc) return rc;
    }
    if (c->test_hook && !a->hook_done) {
        a->hook_done = true;
        c->test_hook(c->test_hook_arg, "commit_persist.after_columns");
    }
    for (size_t i = 0; i < a->n_parts; i++) {
        rc = commit_partition(c, &a->parts[i], now, err);
        if (rc) return rc;
    }
    for (size_t i = 0; i < cm->n_files; i++) {
        const catalog_file *f = &cm->files[i];
        part_ent *pe = part_find(a, f->table_id, f->day);
        if (SILT_NEVER(pe == NULL)) return SILT_FAIL(err, SILT_EIO, "partition not resolved");
        rc = commit_file(c, f, pe->id, now, &a->ids[i], &a->created[i], err);
        if (rc) return rc;
    }
    rc = mark_ids(c, cm->mark_file_ids, cm->n_mark_files, cm->mark_at, err);
    if (rc) return rc;
    if (a->node_id) {
        cat_val n[] = {CAT_S(a->node_id), CAT_I(now), CAT_I(now)};
        rc = cat__exec(c, CAT_STMT_NODE_UPSERT, n, NULL, NULL, NULL, err);
        if (rc) return rc;
        /* invariant (3): raised to max(old, new), never lowered */
        cat_val w[] = {CAT_S(a->node_id), CAT_I(cm->persisted_seq), CAT_I(now)};
        rc = cat__exec(c, CAT_STMT_WM_UPSERT, w, NULL, NULL, NULL, err);
        if (rc) return rc;
    }
    if (INJECT("catalog.commit_persist.before_commit"))
        return SILT_FAIL(err, SILT_EIO, "injected failure before commit");
    return SILT_OK;
}

static int cmp_i64(const void *x, const void *y) {
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

static int cmp_part(const void *x, const void *y) {
    const part_ent *a = x, *b = y;
    if (a->table_id != b->table_id) return a->table_id < b->table_id ? -1 : 1;
    return a->day < b->day ? -1 : a->day > b->day;
}

static int cmp_key(const void *x, const void *y) {
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int check_commit(catalog *c, catalog_commit *cm, const char **node, silt_err *err) {
    if (!cm) return SILT_FAIL(err, SILT_EINVAL, "commit is NULL");
    if ((cm->n_files && !cm->files) || (cm->n_cols && (!cm->cols || !cm->col_table_ids)))
        return SILT_FAIL(err, SILT_EINVAL, "files or columns are NULL");
    int rc;
    for (size_t i = 0; i < cm->n_cols; i++)
        if ((rc = check_column(&cm->cols[i], cm->col_table_ids[i], err))) return rc;
    for (size_t i = 0; i < cm->n_files; i++)
        if ((rc = check_file(&cm->files[i], err))) return rc;
    if ((rc = check_mark(cm->mark_file_ids, cm->n_mark_files, cm->mark_at, err))) return rc;
    if (cm->n_files > 1) { /* two files under one key would silently become one */
        const char **keys = xmalloc(cm->n_files * sizeof *keys);
        for (size_t i = 0; i < cm->n_files; i++) keys[i] = cm->files[i].object_key;
        qsort(keys, cm->n_files, sizeof *keys, cmp_key);
        for (size_t i = 1; i < cm->n_files && rc == SILT_OK; i++)
            if (strcmp(keys[i - 1], keys[i]) == 0)
                rc = SILT_FAIL(err, SILT_EINVAL, "object key %s appears twice in one commit",
                               keys[i]);
        free(keys);
        if (rc) return rc;
    }
    *node = cm->node_id ? cm->node_id : c->node_id;
    if (*node && (rc = check_node_id(*node, err))) return rc;
    if (!*node && cm->persisted_seq)
        return SILT_FAIL(err, SILT_EINVAL, "persisted_seq %llu without a node id",
                         (unsigned long long)cm->persisted_seq);
    if (cm->persisted_seq > INT64_MAX)
        return SILT_FAIL(err, SILT_EINVAL, "persisted_seq %llu out of range",
                         (unsigned long long)cm->persisted_seq);
    return SILT_OK;
}

int catalog_commit_persist(catalog *c, catalog_commit *cm, silt_err *err) {
    commit_arg a = {.cm = cm};
    int rc = check_commit(c, cm, &a.node_id, err);
    if (rc) {
        catalog__err_prefix(err, "catalog_commit_persist");
        return rc;
    }
    size_t nf = cm->n_files, nc = cm->n_cols;
    a.tables = xmalloc((nf + nc + 1) * sizeof *a.tables);
    for (size_t i = 0; i < nf; i++) a.tables[a.n_tables++] = cm->files[i].table_id;
    for (size_t i = 0; i < nc; i++) a.tables[a.n_tables++] = cm->col_table_ids[i];
    qsort(a.tables, a.n_tables, sizeof *a.tables, cmp_i64);
    size_t u = 0;
    for (size_t i = 0; i < a.n_tables; i++)
        if (u == 0 || a.tables[u - 1] != a.tables[i]) a.tables[u++] = a.tables[i];
    a.n_tables = u;

    a.parts = xmalloc((nf + 1) * sizeof *a.parts);
    for (size_t i = 0; i < nf; i++)
        a.parts[i] = (part_ent){cm->files[i].table_id, cm->files[i].day, 0};
    qsort(a.parts, nf, sizeof *a.parts, cmp_part);
    u = 0;
    for (size_t i = 0; i < nf; i++)
        if (u == 0 || cmp_part(&a.parts[u - 1], &a.parts[i]) != 0) a.parts[u++] = a.parts[i];
    a.n_parts = u;

    a.ids = xcalloc(nf + 1, sizeof *a.ids);
    a.created = xcalloc(nf + 1, sizeof *a.created);
    rc = catalog__run(c, CAT_TX_WRITE, "catalog_commit_persist", commit_body, &a, false, err);
    if (rc == SILT_OK) {
        for (size_t i = 0; i < nf; i++) {
            cm->files[i].id = a.ids[i];
            cm->files[i].created_at = a.created[i];
        }
    }
    free(a.tables);
    free(a.parts);
    free(a.ids);
    free(a.created);
    return rc;
}

/* ------------------------------------------------------------------ watermark */

typedef struct wm_arg {
    const char *node;
    id_row r;
} wm_arg;

static int wm_body(catalog *c, void *arg, silt_err *err) {
    wm_arg *a = arg;
    memset(&a->r, 0, sizeof a->r);
    cat_val p[] = {CAT_S(a->node)};
    return cat__exec(c, CAT_STMT_WM_GET, p, row_id, &a->r, NULL, err);
}

int catalog_get_watermark(catalog *c, const char *node_id, uint64_t *seq, silt_err *err) {
    int rc = node_id ? check_node_id(node_id, err)
                     : SILT_FAIL(err, SILT_EINVAL, "catalog_get_watermark: node id is NULL");
    if (rc) return rc;
    wm_arg a = {.node = node_id};
    rc = catalog__run(c, CAT_TX_NONE, "catalog_get_watermark", wm_body, &a, false, err);
    if (rc == SILT_OK) *seq = a.r.found ? (uint64_t)a.r.id : 0;
    return rc;
}

/* ------------------------------------------------------------------ internal helpers */

static int script_body(catalog *c, void *arg, silt_err *err) {
    return c->ops->script(c, arg, err);
}

int catalog__exec_script(catalog *c, const char *sql, silt_err *err) {
    return catalog__run(c, CAT_TX_WRITE, "catalog__exec_script", script_body, (void *)sql, false,
                        err);
}

typedef struct qi_arg {
    const char *sql;
    int64_t v;
    bool found;
} qi_arg;

static int qi_body(catalog *c, void *arg, silt_err *err) {
    qi_arg *a = arg;
    return c->ops->query_i64(c, a->sql, &a->v, &a->found, err);
}

int catalog__query_i64(catalog *c, const char *sql, int64_t *v, silt_err *err) {
    qi_arg a = {sql, 0, false};
    int rc = catalog__run(c, CAT_TX_NONE, "catalog__query_i64", qi_body, &a, false, err);
    if (rc == SILT_OK && a.found) *v = a.v;
    return rc;
}

void catalog__err_prefix(silt_err *err, const char *fmt, ...) {
    if (!err) return;
    char pre[256], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    old[sizeof old - 1] = 0;
    size_t cap = sizeof err->msg - 1, off = 0;
    for (const char *parts[] = {pre, ": ", old}, **p = parts; p < parts + 3; p++) {
        size_t n = strlen(*p);
        if (n > cap - off) n = cap - off;
        memcpy(err->msg + off, *p, n);
        off += n;
    }
    err->msg[off] = 0;
}

cat_stats catalog__stats(catalog *c) {
    pthread_mutex_lock(&c->mu);
    cat_stats s = c->stats;
    pthread_mutex_unlock(&c->mu);
    return s;
}
