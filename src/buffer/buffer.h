/* SPDX-License-Identifier: MIT
 *
 * buffer: the in-memory, queryable store of everything written since the last persist.
 * Columnar chunks per table and UTC day: dictionary-encoded tags (per series), typed field
 * arrays with validity, int64 nanosecond time. A series is (table, tag set). Two points of one
 * series and time merge on arrival: each field takes the value of the later write (last write
 * wins, field by field), so a chunk never holds two rows of one series and time.
 *
 * Writes arrive only as WAL payloads (buffer_apply), from the WAL writer thread in sequence
 * order or from replay, so the buffer after a restart equals the buffer before it.
 * Queries read it through the query_source interface (buffer_source); a scan copies each
 * batch of rows under the table's read lock and releases it before handing the batch on, so
 * queries never hold up writes for more than one batch.
 */
#ifndef SILT_BUFFER_H
#define SILT_BUFFER_H

#include "../query/query.h"
#include "../schema/schema.h"
#include "../util/util.h"

typedef struct buffer buffer;

buffer *buffer_create(schema *s);
void buffer_destroy(buffer *b);

/* Apply one WAL record payload (an ingest batch). Creates missing databases, tables and
 * columns in the schema. A value whose type conflicts with the schema (impossible for
 * payloads silt wrote, but replay trusts nothing) is skipped and counted. Returns SILT_OK or
 * SILT_ECORRUPT for an undecodable payload (nothing of it is applied past the error). Called
 * by one thread at a time (the WAL writer or replay). */
int buffer_apply(buffer *b, const uint8_t *payload, size_t len, silt_err *err);

/* A query_source over this buffer (valid while the buffer lives). */
void buffer_source(buffer *b, query_source *out);

typedef struct buffer_stats {
    uint64_t rows;          /* rows held (after merging duplicates) */
    uint64_t merged_rows;   /* writes merged into an existing row (same series and time) */
    uint64_t bytes;         /* approximate memory held by chunks */
    uint64_t chunks, series, skipped_values;
} buffer_stats;

void buffer_get_stats(buffer *b, buffer_stats *out);

#endif
