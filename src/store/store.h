/* SPDX-License-Identifier: MIT
 *
 * store: silt's storage as one view — the in-memory schema, the buffer (its generations),
 * the catalog and the object store. It serves queries a query_source whose scans read a
 * table's Parquet files (listed by the catalog, pruned by time, fetched through the cache,
 * size and checksum verified) and its buffer generations, merged by query_merge_scan; and it
 * persists frozen buffer generations to Parquet (README sequence point 7 of src/wal):
 *   export each table-day chunk sorted by tags then time -> Parquet -> put (never
 *   overwrite) -> ONE catalog transaction with every file row and the new WAL watermark ->
 *   drop the generation from the buffer -> remove WAL segments wholly at or below the
 *   watermark.
 * Crash at any step: before the commit the WAL still holds everything (an object already
 * put is an orphan, reported by `silt verify`); after it, the watermark makes replay skip
 * what the files hold, so nothing is lost or counted twice.
 */
#ifndef SILT_STORE_H
#define SILT_STORE_H

#include "../buffer/buffer.h"
#include "../catalog/catalog.h"
#include "../objstore/objstore.h"
#include "../parquet/parquet.h"
#include "../schema/schema.h"
#include "../wal/wal.h"

typedef struct store store;

typedef struct store_opts {
    schema *schema;
    buffer *buffer; /* may be NULL: a store that only reads files */
    catalog *catalog;
    objstore *objects;
    const char *node_id;
    pq_writer_opts parquet; /* codec, level, row group rows, page size */
    /* bound of the in-memory cache of checked files that scans reuse (0: none) */
    uint64_t file_cache_bytes;
    /* threads that decode one file scan (1: the query's own; 2: one more decodes the next
     * rows meanwhile; 0: 2 when the machine has two CPUs or more) */
    unsigned scan_threads;
} store_opts;

int store_open(const store_opts *o, store **out, silt_err *err);
void store_close(store *st);

/* Load the catalog's databases, tables and columns into the schema (on start, before WAL
 * replay), remembering their catalog ids. */
int store_load_schema(catalog *c, schema *s, silt_err *err);

/* The query_source over files and buffer. */
void store_source(store *st, query_source *out);

/* Counters of the query path, for /metrics and the tests that check pruning. */
typedef struct store_stats {
    uint64_t files_scanned; /* Parquet files a query opened */
    uint64_t pages_decoded; /* data pages whose values were decoded */
    uint64_t split_scans;   /* file scans whose rows two threads aggregated (lane2) */
} store_stats;
void store_get_stats(store *st, store_stats *out);

typedef struct persist_stats {
    uint64_t files, rows, bytes;
    int64_t elapsed_ns;
    uint64_t persisted_seq;
} persist_stats;

/* Persist frozen generation g (see above). persisted_seq is the watermark to commit (at
 * least g's max seq). On success the generation is dropped from the buffer and, when w is
 * not NULL, the WAL segments at or below the watermark are removed. On failure nothing is
 * dropped (the generation stays queryable and in the WAL) and the call can be repeated. */
int store_persist(store *st, buffer_gen *g, uint64_t persisted_seq, wal *w, persist_stats *stats,
                  silt_err *err);

/* Commit only a watermark (no files): when the buffer is empty but the WAL holds records
 * that are not acknowledged data (failed writes), at shutdown. */
int store_commit_watermark(store *st, uint64_t persisted_seq, silt_err *err);

/* ------------------------------------------------------------------ create, drop */

/* Create database db now (InfluxQL CREATE DATABASE, POST /api/v3/configure/database): in the
 * schema and durably in the catalog. Idempotent; *created (may be NULL) says whether it is
 * new. SILT_EINVAL (name), SILT_ELIMIT, or the catalog's error (then nothing is created). */
int store_create_db(store *st, const char *db, bool *created, silt_err *err);

/* Drop a table / a database, as catalog marks (catalog_delete_table / _db): its live files
 * are marked for deletion at now + grace_ns (they stay in the object store until the
 * collector removes them), then it leaves the schema, so queries stop seeing it at once and
 * the name is free for a new, empty object. The caller must first exclude writes and
 * persist the whole buffer (jobs_persist_all): then no buffer row and no WAL record above
 * the watermark belongs to it, and a restart (WAL replay) cannot bring it back.
 * *n_files (may be NULL) gets the number of files marked. SILT_ENOTFOUND ("database not
 * found: x", "measurement not found"), or the catalog's error (nothing dropped). */
int store_drop_table(store *st, const char *db, const char *table, int64_t grace_ns,
                     size_t *n_files, silt_err *err);
int store_drop_db(store *st, const char *db, int64_t grace_ns, size_t *n_files, silt_err *err);

/* ------------------------------------------------------------------ verification */

typedef struct store_verify_report {
    size_t files, ok, missing, size_mismatch, checksum_mismatch, orphans;
} store_verify_report;

/* Check every catalog file against the object store (exists, size, checksum) and list
 * objects under dbs/ that the catalog does not know. Writes one line per finding to out. */
int store_verify(catalog *c, objstore *o, buf *out, store_verify_report *rep, silt_err *err);

/* The object key of a file: dbs/<db-id>/<table-id>/<YYYY-MM-DD>/<file-id>.parquet */
void store_object_key(char out[256], int64_t db_id, int64_t table_id, int64_t day,
                      const char *file_id);
/* "xxh3:<16 hex digits>" of data. */
void store_checksum(const uint8_t *data, size_t len, char out[72]);

#endif
