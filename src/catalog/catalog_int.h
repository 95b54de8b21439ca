/* SPDX-License-Identifier: MIT
 *
 * catalog internals, shared by catalog.c (the shared logic: validation, transactions and
 * their retry loop, every query the catalog runs), catalog_migrate.c (versioned schema
 * migrations) and the two backends, catalog_sqlite.c and catalog_pg.c.
 *
 * A backend is a small driver: begin / commit / rollback a transaction, execute one of the
 * statements of the table below with typed parameters and hand each result row to a
 * callback, run a DDL script (no values), reconnect. All SQL that carries values is in the
 * statement table and is prepared once per connection; values are always bound, never
 * formatted into SQL. Statements are written with `?` placeholders; the PostgreSQL backend
 * numbers them ($1, $2, ...) when it prepares them. See README.md for the schema and the
 * invariants cited here by number.
 */
#ifndef SILT_CATALOG_INT_H
#define SILT_CATALOG_INT_H

#include "catalog.h"

#include <pthread.h>

/* ------------------------------------------------------------------ values */

typedef enum cat_vtype { CAT_NULL = 0, CAT_INT, CAT_TEXT } cat_vtype;

/* A bound parameter or a result column. Text is borrowed: a parameter for the call, a
 * result column until the row callback returns. */
typedef struct cat_val {
    cat_vtype t;
    int64_t i;
    const char *s;
} cat_val;

#define CAT_I(v) ((cat_val){CAT_INT, (int64_t)(v), NULL})
#define CAT_S(v) ((cat_val){CAT_TEXT, 0, (v)})
#define CAT_NUL  ((cat_val){CAT_NULL, 0, NULL})

#define CAT_MAX_PARAMS 16
#define CAT_MAX_COLS   16

/* Row callback: cols[0..n_cols) typed as the statement's result signature says (CAT_NULL for
 * SQL NULL). Returns SILT_OK to continue or an error code to stop (the statement's result). */
typedef int (*cat_row_fn)(void *arg, const cat_val *cols, int n_cols, silt_err *err);

/* ------------------------------------------------------------------ statements */

/* Every statement with values the catalog runs: X(id, params, results, sql, pg_sql).
 * `params` / `results` are signatures, one letter per value: 'i' int64, 's' text.
 * `sql` is for both backends; `pg_sql`, when not NULL, replaces it for PostgreSQL (and a
 * NULL `sql` makes the statement PostgreSQL-only). Names appear in error messages. */
#define CAT_FILE_COLS                                                                              \
    "f.id, f.table_id, p.day, f.object_key, f.min_time, f.max_time, f.row_count, "                 \
    "f.size_bytes, f.checksum, f.compaction_level, f.created_at, f.to_delete_at "                  \
    "FROM parquet_files f JOIN partitions p ON p.id = f.partition_id "
#define CAT_FILE_SIG "iiisiiiisiii"

#define CAT_STMTS(X)                                                                               \
    X(VERSION_GET, "", "i", "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", NULL)       \
    X(MIGRATION_INSERT, "isi", "",                                                                 \
      "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)", NULL)           \
    X(MIGRATE_LOCK, "i", "", NULL, "SELECT pg_advisory_xact_lock(?)")                              \
    X(DB_GET, "s", "ii",                                                                           \
      "SELECT id, deleted_at FROM databases WHERE name = ? AND deleted_at IS NULL", NULL)          \
    X(DB_BY_ID, "i", "i", "SELECT deleted_at FROM databases WHERE id = ?", NULL)                   \
    X(DB_INSERT, "si", "i",                                                                        \
      "INSERT INTO databases(name, created_at) VALUES (?, ?) "                                     \
      "ON CONFLICT (name) WHERE deleted_at IS NULL DO NOTHING RETURNING id",                       \
      NULL)                                                                                        \
    X(TABLE_GET, "is", "ii",                                                                       \
      "SELECT id, deleted_at FROM tables WHERE db_id = ? AND name = ? AND deleted_at IS NULL",     \
      NULL)                                                                                        \
    X(TABLE_BY_ID, "i", "i", "SELECT deleted_at FROM tables WHERE id = ?", NULL)                   \
    X(TABLE_INSERT, "isi", "i",                                                                    \
      "INSERT INTO tables(db_id, name, created_at) VALUES (?, ?, ?) "                              \
      "ON CONFLICT (db_id, name) WHERE deleted_at IS NULL DO NOTHING RETURNING id",                \
      NULL)                                                                                        \
    X(COL_GET, "is", "ii", "SELECT kind, type FROM columns WHERE table_id = ? AND name = ?", NULL) \
    X(COL_INSERT, "isiii", "",                                                                     \
      "INSERT INTO columns(table_id, name, kind, type, created_at) VALUES (?, ?, ?, ?, ?) "        \
      "ON CONFLICT (table_id, name) DO NOTHING",                                                   \
      NULL)                                                                                        \
    X(PART_GET, "ii", "i", "SELECT id FROM partitions WHERE table_id = ? AND day = ?", NULL)       \
    X(PART_INSERT, "iii", "i",                                                                     \
      "INSERT INTO partitions(table_id, day, created_at) VALUES (?, ?, ?) "                        \
      "ON CONFLICT (table_id, day) DO NOTHING RETURNING id",                                       \
      NULL)                                                                                        \
    X(FILE_INSERT, "iisiiiisiii", "i",                                                             \
      "INSERT INTO parquet_files(partition_id, table_id, object_key, min_time, max_time, "         \
      "row_count, size_bytes, checksum, compaction_level, created_at, to_delete_at) "              \
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (object_key) DO NOTHING "              \
      "RETURNING id",                                                                              \
      NULL)                                                                                        \
    X(FILE_BY_KEY, "s", CAT_FILE_SIG, "SELECT " CAT_FILE_COLS "WHERE f.object_key = ?", NULL)      \
    X(FILE_EXISTS, "i", "i", "SELECT id FROM parquet_files WHERE id = ?", NULL)                    \
    X(FILE_MARK, "ii", "",                                                                         \
      "UPDATE parquet_files SET to_delete_at = ? "                                                 \
      "WHERE id = ? AND (to_delete_at IS NULL OR to_delete_at = 0)",                               \
      NULL)                                                                                        \
    X(FILES_LIST, "iii", CAT_FILE_SIG,                                                             \
      "SELECT " CAT_FILE_COLS "WHERE f.table_id = ? AND f.min_time <= ? AND f.max_time >= ? "      \
      "AND (f.to_delete_at IS NULL OR f.to_delete_at = 0) ORDER BY f.id",                          \
      NULL)                                                                                        \
    X(FILES_ALL, "", CAT_FILE_SIG, "SELECT " CAT_FILE_COLS "ORDER BY f.id", NULL)                  \
    X(NODE_UPSERT, "sii", "",                                                                      \
      "INSERT INTO nodes(node_id, created_at, last_seen_at) VALUES (?, ?, ?) "                     \
      "ON CONFLICT (node_id) DO UPDATE SET last_seen_at = CASE "                                   \
      "WHEN excluded.last_seen_at > nodes.last_seen_at THEN excluded.last_seen_at "                \
      "ELSE nodes.last_seen_at END",                                                               \
      NULL)                                                                                        \
    X(WM_UPSERT, "sii", "",                                                                        \
      "INSERT INTO wal_watermarks(node_id, persisted_seq, updated_at) VALUES (?, ?, ?) "           \
      "ON CONFLICT (node_id) DO UPDATE SET persisted_seq = CASE "                                  \
      "WHEN excluded.persisted_seq > wal_watermarks.persisted_seq "                                \
      "THEN excluded.persisted_seq ELSE wal_watermarks.persisted_seq END, "                        \
      "updated_at = excluded.updated_at",                                                          \
      NULL)                                                                                        \
    X(DB_DELETE, "ii", "",                                                                         \
      "UPDATE databases SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", NULL)             \
    X(DB_TABLES_DELETE, "ii", "",                                                                  \
      "UPDATE tables SET deleted_at = ? WHERE db_id = ? AND deleted_at IS NULL", NULL)             \
    X(DB_FILES_MARK, "ii", "",                                                                     \
      "UPDATE parquet_files SET to_delete_at = ? WHERE table_id IN "                               \
      "(SELECT id FROM tables WHERE db_id = ?) AND (to_delete_at IS NULL OR to_delete_at = 0)",    \
      NULL)                                                                                        \
    X(TABLE_DELETE, "ii", "",                                                                      \
      "UPDATE tables SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", NULL)                \
    X(TABLE_FILES_MARK, "ii", "",                                                                  \
      "UPDATE parquet_files SET to_delete_at = ? WHERE table_id = ? "                              \
      "AND (to_delete_at IS NULL OR to_delete_at = 0)",                                            \
      NULL)                                                                                        \
    X(WM_GET, "s", "i", "SELECT persisted_seq FROM wal_watermarks WHERE node_id = ?", NULL)        \
    X(SCHEMA_LOAD, "", "isisisii",                                                                 \
      "SELECT d.id, d.name, t.id, t.name, c.id, c.name, c.kind, c.type FROM databases d "          \
      "LEFT JOIN tables t ON t.db_id = d.id AND t.deleted_at IS NULL "                             \
      "LEFT JOIN columns c ON c.table_id = t.id "                                                  \
      "WHERE d.deleted_at IS NULL ORDER BY d.id, t.id, c.id",                                      \
      NULL)

typedef enum cat_stmt {
#define CAT__STMT_ENUM(id, p, r, sql, pg) CAT_STMT_##id,
    CAT_STMTS(CAT__STMT_ENUM)
#undef CAT__STMT_ENUM
        CAT_STMT_COUNT
} cat_stmt;

typedef struct cat_stmt_def {
    const char *name;   /* "DB_GET": for error messages and PostgreSQL statement names */
    const char *params; /* signature */
    const char *results;
    const char *sql;    /* NULL: PostgreSQL only */
    const char *pg_sql; /* NULL: same as sql */
} cat_stmt_def;

extern const cat_stmt_def catalog__stmts[CAT_STMT_COUNT];

/* ------------------------------------------------------------------ backends */

typedef enum cat_txmode {
    CAT_TX_NONE = 0, /* autocommit: one statement, its own consistent snapshot */
    CAT_TX_WRITE,    /* SQLite BEGIN IMMEDIATE; PostgreSQL SERIALIZABLE */
    CAT_TX_MIGRATE,  /* SQLite BEGIN IMMEDIATE; PostgreSQL READ COMMITTED + advisory lock
                      * (each statement must see what a migrator before us committed) */
} cat_txmode;

/* Internal result codes, never returned by the public functions: the transaction failed in
 * a way that is retried (serialization failure, deadlock, busy database, unique violation
 * from a concurrent insert) / the connection broke (reconnect, then retry). */
enum { CAT__RETRY = 1, CAT__RECONNECT = 2 };

typedef struct cat_ops {
    const char *name; /* "sqlite" or "postgresql" */
    int (*begin)(catalog *c, cat_txmode mode, silt_err *err);
    int (*commit)(catalog *c, silt_err *err);
    void (*rollback)(catalog *c); /* best effort; after any failure inside a transaction */
    /* Run statement `id` with params (as many as its signature says). Each result row goes
     * to fn (may be NULL). *changes (may be NULL) gets the rows inserted/updated. */
    int (*exec)(catalog *c, cat_stmt id, const cat_val *params, cat_row_fn fn, void *arg,
                int64_t *changes, silt_err *err);
    /* Run SQL text without values (DDL of migrations, tests). Statements separated by ';'. */
    int (*script)(catalog *c, const char *sql, silt_err *err);
    /* Run one statement without values; *v gets the first column of the first row as an
     * integer and *found says whether there was a row. */
    int (*query_i64)(catalog *c, const char *sql, int64_t *v, bool *found, silt_err *err);
    int (*reconnect)(catalog *c, silt_err *err);
    void (*close)(catalog *c);
} cat_ops;

typedef struct cat_stats {
    uint64_t n_txns;       /* transactions (or autocommit reads) started */
    uint64_t n_retries;    /* attempts retried after CAT__RETRY */
    uint64_t n_reconnects; /* reconnections after CAT__RECONNECT */
} cat_stats;

struct catalog {
    const cat_ops *ops;
    void *be;           /* backend state; protected by mu */
    char *node_id;      /* opts->node_id, or NULL; immutable after open */
    pthread_mutex_t mu; /* serialises every call on the one connection */
    cat_stats stats;    /* protected by mu */
    uint64_t rng;       /* backoff jitter; protected by mu */
    int max_attempts;   /* retry bound per call (tests lower it) */
    /* Tests only: called inside catalog_commit_persist's transaction, after the columns and
     * before the files, on the first attempt only; with mu held. */
    void (*test_hook)(void *arg, const char *point);
    void *test_hook_arg;
};

/* Open the backend connection into c (c->ops, c->be). */
int catalog__sqlite_open(catalog *c, const char *path, silt_err *err);
int catalog__pg_open(catalog *c, const char *url, silt_err *err);

/* catalog_migrate.c: bring the schema to CATALOG_SCHEMA_VERSION in one transaction (mode
 * CAT_TX_MIGRATE, inside catalog__run's retry loop). SILT_ECORRUPT when the catalog's version
 * is higher than this silt knows. */
#define CATALOG_SCHEMA_VERSION 2
int catalog__migrate(catalog *c, silt_err *err);
/* Tests only: when > 0, catalog__migrate stops after this version (to build an old catalog
 * and test the migrations after it). Not thread-safe; 0 in production. */
extern int catalog__test_migrate_limit;
/* Highest version in the migration lists of the backend named `backend`. */
int catalog__known_version(const char *backend);

/* A transaction body. Must be idempotent: on CAT__RETRY / CAT__RECONNECT it is run again
 * from the start in a new transaction, possibly after an earlier attempt did commit
 * (a connection lost during COMMIT) — invariant (6). */
typedef int (*cat_body_fn)(catalog *c, void *arg, silt_err *err);

/* Run body in a transaction of `mode` with the retry loop (bounded attempts, exponential
 * backoff with jitter). Takes mu unless `locked`. `op` names the call in messages. */
int catalog__run(catalog *c, cat_txmode mode, const char *op, cat_body_fn body, void *arg,
                 bool locked, silt_err *err);

/* Shorthand for c->ops->exec. */
static inline int cat__exec(catalog *c, cat_stmt id, const cat_val *params, cat_row_fn fn,
                            void *arg, int64_t *changes, silt_err *err) {
    return c->ops->exec(c, id, params, fn, arg, changes, err);
}

/* Tests and tools: run SQL text without values in its own transaction / read one integer
 * (the first column of the first row; *v untouched when there is no row). Take mu. */
int catalog__exec_script(catalog *c, const char *sql, silt_err *err);
int catalog__query_i64(catalog *c, const char *sql, int64_t *v, silt_err *err);

/* Prefix err->msg with a formatted string and ": " (truncating the end). err may be NULL. */
void catalog__err_prefix(silt_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Copy of the counters (takes mu). */
cat_stats catalog__stats(catalog *c);

#endif
