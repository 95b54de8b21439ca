/* SPDX-License-Identifier: MIT
 *
 * buffer: the in-memory, queryable store of everything written since the last persist.
 * Columnar chunks per table and UTC day: dictionary-encoded tags (per series), typed field
 * arrays with validity, int64 nanosecond time. A series is (table, tag set). Two points of one
 * series and time merge on arrival: each field takes the value of the later write (last write
 * wins, field by field), so a chunk never holds two rows of one series and time.
 *
 * Generations. Writes go to the active generation. buffer_freeze() turns it into a frozen,
 * immutable generation (to be persisted) and starts a new active one; a frozen generation is
 * dropped once its Parquet files are committed to the catalog. Generations are
 * reference-counted: a query that listed one keeps it alive until it is done.
 *
 * Writes arrive only as WAL payloads (buffer_apply), from the WAL writer thread in sequence
 * order or from replay, so the buffer after a restart equals the buffer before it. A freeze
 * never splits a record: it waits for the record being applied.
 * Queries read through query_parts (one per generation holding the table); a scan copies
 * each batch of rows under the table's read lock and releases it before handing the batch on.
 */
#ifndef SILT_BUFFER_H
#define SILT_BUFFER_H

#include "../query/query.h"
#include "../schema/schema.h"
#include "../util/util.h"

typedef struct buffer buffer;
typedef struct buffer_gen buffer_gen;

buffer *buffer_create(schema *s);
void buffer_destroy(buffer *b);

/* Apply one WAL record payload (an ingest batch) of sequence number seq to the active
 * generation. Creates missing databases, tables and columns in the schema. A value whose
 * type conflicts with the schema (impossible for payloads silt wrote, but replay trusts
 * nothing) is skipped and counted. Returns SILT_OK or SILT_ECORRUPT for an undecodable
 * payload (nothing of it is applied past the error). One thread at a time (the WAL writer,
 * or replay). */
int buffer_apply(buffer *b, uint64_t seq, const uint8_t *payload, size_t len, silt_err *err);

/* Freeze the active generation (if it holds anything) and start a new one. Returns a new
 * reference to the frozen generation (release with buffer_gen_unref), or NULL if the active
 * generation was empty. The frozen generation stays queryable until buffer_drop_frozen(). */
buffer_gen *buffer_freeze(buffer *b);
/* The oldest frozen generation (a new reference), or NULL. */
buffer_gen *buffer_oldest_frozen(buffer *b);
/* Stop serving g to queries (its data is in the catalog now) and drop the buffer's
 * reference. */
void buffer_drop_frozen(buffer *b, buffer_gen *g);
void buffer_gen_unref(buffer_gen *g);
/* Is g still a frozen generation of b (not yet dropped)? Two persisters that took the same
 * generation use it to persist it once. */
bool buffer_gen_is_frozen(buffer *b, const buffer_gen *g);

typedef struct buffer_gen_info {
    uint64_t min_seq, max_seq; /* sequence numbers of the records applied to it */
    uint64_t rows, bytes;
    int64_t first_write_ns; /* wall clock of its first write; 0 if empty */
} buffer_gen_info;
void buffer_gen_get_info(buffer_gen *g, buffer_gen_info *out);
/* Info of the active generation. */
void buffer_active_info(buffer *b, buffer_gen_info *out);

/* ------------------------------------------------------------------ reading */

/* Parts of table `table_id` (schema table id) in every generation that holds rows of it,
 * oldest first (frozen generations, then the active one), appended to *parts (grown with
 * XGROW; *cap is its capacity). Each part holds a generation reference, dropped by its
 * release callback. */
void buffer_table_parts(buffer *b, uint32_t table_id, query_part **parts, size_t *n,
                        size_t *cap);

/* A query_source over the buffer alone (all generations, merged with query_merge_scan). Its
 * db_exists, list_tables, table_schema and table_release describe the schema, and serve any
 * source built on the same schema. */
void buffer_source(buffer *b, query_source *out);
/* The schema table id of a query_table produced by buffer_source's table_schema. */
uint32_t buffer_query_table_id(const query_table *t);

/* Export one table-day chunk of a frozen generation for persisting: rows sorted by the tag
 * columns (sort_tags, in that order; a series without a tag sorts first) and then time.
 * Calls begin once, then batch for runs of up to `batch_rows` rows, with one query_vec per
 * column of `cols` (time, tags, fields as in query_vec). */
typedef struct buffer_export_col {
    uint32_t col_id; /* schema column id; UINT32_MAX: time */
    bool is_tag;
    lp_type type;
} buffer_export_col;

typedef struct buffer_chunk_desc {
    uint32_t table_id;
    int64_t day;
    uint64_t rows;
    int64_t min_time, max_time;
} buffer_chunk_desc;

/* The chunks of a frozen generation (malloc'd array). */
int buffer_gen_chunks(buffer_gen *g, buffer_chunk_desc **out, size_t *n);
int buffer_gen_export(buffer_gen *g, uint32_t table_id, int64_t day,
                      const uint32_t *sort_tags, size_t n_sort_tags,
                      const buffer_export_col *cols, size_t n_cols, size_t batch_rows,
                      int (*batch)(void *arg, const query_vec *vecs, size_t n), void *arg,
                      silt_err *err);

/* ------------------------------------------------------------------ stats */

typedef struct buffer_stats {
    uint64_t rows;          /* rows held, all generations (after merging duplicates) */
    uint64_t merged_rows;   /* writes merged into an existing row (same series and time) */
    uint64_t bytes;         /* approximate memory held, all generations */
    uint64_t chunks, series, skipped_values;
    uint64_t frozen_gens;
} buffer_stats;

void buffer_get_stats(buffer *b, buffer_stats *out);
/* Approximate bytes held by all generations (cheap; for the high-water mark). */
uint64_t buffer_bytes(buffer *b);

#endif
