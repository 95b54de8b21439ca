/* SPDX-License-Identifier: MIT
 *
 * catalog: the relational index of everything persisted — databases, tables, typed columns,
 * partitions (table, UTC day), the Parquet files in object storage, and per node the WAL
 * sequence number up to which its writes are persisted. One interface, two backends:
 *   SQLite      (default) <data-dir>/catalog.sqlite, WAL journal mode, synchronous=FULL
 *   PostgreSQL  --catalog postgresql://user:pass@host:port/db (libpq, prepared statements
 *               only), for several silt processes sharing one catalog
 * Versioned schema migrations are applied on open (table schema_migrations).
 *
 * Every mutating call is one transaction. With PostgreSQL, transactions run at SERIALIZABLE
 * isolation and are retried on serialization failures and deadlocks (SQLSTATE 40001,
 * 40P01); unique constraints (live database name; live table name per database; column name per
 * table; partition per table and day; object key) keep two processes from creating duplicates.
 *
 * Thread-safe: calls are serialised on one connection per catalog handle.
 * Errors: SILT_ENOTFOUND, SILT_ESCHEMA (a column exists with another kind or type),
 * SILT_EIO (the database failed after retries), SILT_EINVAL, SILT_ECORRUPT (an unknown
 * schema version: a newer silt wrote this catalog; or a file that is not a database),
 * SILT_EEXIST (an object key already recorded for another file), SILT_ENOSPC. Messages
 * name the call, the statement and the database's own message. See README.md.
 */
#ifndef SILT_CATALOG_H
#define SILT_CATALOG_H

#include "../util/util.h"

typedef struct catalog catalog;

typedef struct catalog_opts {
    const char *node_id; /* this process's node id (--node-id), recorded in nodes */
} catalog_opts;

/* `target`: a PostgreSQL URL (postgresql:// or postgres://) or a SQLite file path. */
int catalog_open(const char *target, const catalog_opts *opts, catalog **out, silt_err *err);
void catalog_close(catalog *c);
const char *catalog_backend(const catalog *c); /* "sqlite" or "postgresql" */
int catalog_schema_version(catalog *c, int *version, silt_err *err);

/* ------------------------------------------------------------------ schema */

/* Ids of a live database / table of that name, created if missing (idempotent; safe across
 * processes). Database names follow schema_db_name_check(); table names are 1..4096 bytes
 * of UTF-8. A deleted database or table frees its name: ensure then creates a new object
 * with a new id (the deleted one keeps its id and rows until collected). A table of a
 * deleted or unknown database id is SILT_ENOTFOUND. */
int catalog_ensure_db(catalog *c, const char *name, int64_t *db_id, silt_err *err);
int catalog_ensure_table(catalog *c, int64_t db_id, const char *name, int64_t *table_id,
                         silt_err *err);

/* Delete a table, or a database with all its tables, as catalog marks, in ONE transaction:
 * deleted_at = now on the table (the database and its live tables), and every live file of
 * them marked for deletion at files_delete_at (> 0; queries stop seeing them at once, the
 * collector removes them after that time). A deleted object drops out of
 * catalog_load_schema and frees its name for ensure. Idempotent: deleting a deleted object
 * is SILT_OK and changes nothing (a file keeps its first mark). *n_marked (may be NULL)
 * gets the number of files this call marked. An unknown id is SILT_ENOTFOUND. */
int catalog_delete_table(catalog *c, int64_t table_id, int64_t files_delete_at, size_t *n_marked,
                         silt_err *err);
int catalog_delete_db(catalog *c, int64_t db_id, int64_t files_delete_at, size_t *n_marked,
                      silt_err *err);

typedef struct catalog_column {
    const char *name;
    int kind; /* 1 tag, 2 field, 3 time (schema_kind values) */
    int type; /* lp_type for fields, 0 otherwise */
} catalog_column;

/* Everything in the catalog's schema (databases, tables and columns not deleted), for
 * rebuilding the in-memory schema on start. Called once per column, ordered by database,
 * table and column id; databases and tables without columns are reported with col NULL
 * (a database without tables: table_id 0, table NULL). The rows are read in one statement
 * (one snapshot) and delivered after the catalog's lock is released, so fn may call the
 * catalog. A non-zero return from fn stops the walk and is returned. */
typedef int (*catalog_schema_fn)(void *arg, int64_t db_id, const char *db, int64_t table_id,
                                 const char *table, const catalog_column *col);
int catalog_load_schema(catalog *c, catalog_schema_fn fn, void *arg, silt_err *err);

/* ------------------------------------------------------------------ files */

typedef struct catalog_file {
    int64_t id;         /* set by the catalog */
    int64_t table_id;
    int64_t day;        /* partition: UTC day number (days since 1970-01-01) */
    char object_key[256];
    int64_t min_time, max_time; /* ns, inclusive */
    uint64_t row_count, size_bytes;
    char checksum[72];  /* "xxh3:<16 hex digits>" of the whole object */
    int compaction_level;
    int64_t created_at;   /* ns; set by the catalog when 0 */
    int64_t to_delete_at; /* ns; 0 = live. A file marked for deletion is invisible to queries. */
} catalog_file;

/* One persist step, in ONE transaction: the columns of the files' tables (added if missing;
 * SILT_ESCHEMA and nothing committed if one exists with another kind/type), the partitions,
 * the file rows (ids written back into files[i].id), and the node's persisted WAL sequence
 * (raised to persisted_seq, never lowered). */
typedef struct catalog_commit {
    catalog_file *files;
    size_t n_files;
    const int64_t *col_table_ids; /* per column below: its table */
    const catalog_column *cols;
    size_t n_cols;
    const char *node_id;    /* NULL: the catalog's opts.node_id; both NULL: no watermark */
    uint64_t persisted_seq; /* <= INT64_MAX; must be 0 without a node id */
    /* Files this commit replaces (compaction): marked for deletion at mark_at (> 0) in the
     * same transaction, so the old and new files are never both or neither visible. A file
     * already marked keeps its first mark; an unknown id is SILT_ENOTFOUND, nothing
     * committed. Optional (n_mark_files 0). */
    const int64_t *mark_file_ids;
    size_t n_mark_files;
    int64_t mark_at;
} catalog_commit;

/* Each file must lie inside its partition day (time_day(min_time) == time_day(max_time) ==
 * day), else SILT_EINVAL. A file whose object key is already recorded with the same content
 * (table, day, times, counts, checksum, level) is not added again: its existing id is
 * returned, so a retried commit is harmless; under another content it is SILT_EEXIST.
 * An unknown or deleted table id is SILT_ENOTFOUND. On failure nothing is committed and
 * files[i].id is untouched; on success files[i].created_at holds the stored value. */
int catalog_commit_persist(catalog *c, catalog_commit *cm, silt_err *err);

/* Live files of a table overlapping [t_min, t_max], in creation order (id). *out is
 * malloc'd. */
int catalog_list_files(catalog *c, int64_t table_id, int64_t t_min, int64_t t_max,
                       catalog_file **out, size_t *n, silt_err *err);
/* Every file row, live or marked, in id order (for `silt verify`). */
int catalog_list_all_files(catalog *c, catalog_file **out, size_t *n, silt_err *err);
/* Mark files for deletion at to_delete_at (> 0; queries stop seeing them at once), in one
 * transaction. A file already marked keeps its first mark; an unknown id is
 * SILT_ENOTFOUND and nothing is marked. */
int catalog_mark_files(catalog *c, const int64_t *ids, size_t n, int64_t to_delete_at,
                       silt_err *err);

/* The node's persisted WAL sequence (0 if it never persisted). */
int catalog_get_watermark(catalog *c, const char *node_id, uint64_t *seq, silt_err *err);

#endif
