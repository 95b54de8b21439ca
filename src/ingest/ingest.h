/* SPDX-License-Identifier: MIT
 *
 * ingest: turns a line-protocol request body into one WAL record payload (an "ingest
 * batch"), validating every line against the schema; and decodes such payloads for the
 * buffer (live writes and WAL replay use the same decoder).
 *
 * Validation per line: the parser's checks (lp.h), then the schema's: a field whose type
 * differs from the column's type, a key that is a tag in the table but a field in the line
 * (or the reverse), and table/column limits reject the line. Rejected lines are data: they
 * are returned with line number, column and reason; the other lines are kept (partial
 * write) unless accept_partial is false.
 *
 * Payload format, version 1 (integers little-endian; varint = unsigned LEB128):
 *   u8 version=1 | varint db_len | db | varint n_tables | table*
 *   table  = varint name_len | name | varint n_cols | col* | varint n_series | series* |
 *            varint n_rows | varint rows_len | row*            (rows_len = bytes of row*)
 *   col    = u8 kind (1 tag, 2 field) | u8 type (lp_type; 0 for tags) | varint len | name
 *   series = varint n_tags | (varint col_ref | varint len | value)*   (unescaped values)
 *   row    = varint series_ref | u64 time_ns | varint n_fields | (varint col_ref | value)*
 *   value  = float: 8 bytes IEEE 754 | int, uint: 8 bytes | bool: 1 byte | string: varint
 *            len | bytes
 * col_ref indexes the table's col list; series_ref its series list. Names are unescaped.
 */
#ifndef SILT_INGEST_H
#define SILT_INGEST_H

#include "../lp/lp.h"
#include "../schema/schema.h"
#include "../util/util.h"

#define INGEST_PAYLOAD_VERSION 1

typedef struct ingest_reject {
    uint32_t line_no;
    uint32_t column;
    str_view raw;   /* view into the request body */
    char *reason;   /* owned by the batch's arena */
} ingest_reject;

typedef struct ingest_opts {
    const char *db;
    size_t db_len;
    lp_precision precision;
    int64_t now_ns;      /* time for lines without a timestamp */
    bool accept_partial; /* false: any rejected line means nothing is written */
} ingest_opts;

typedef struct ingest_batch {
    const char *db; /* the request's database (borrowed from ingest_opts) */
    size_t db_len;
    buf payload;          /* WAL record payload; len 0 when nothing is to be written */
    uint32_t payload_crc; /* crc32c(0, payload) */
    size_t n_lines_ok, n_rows, n_values;
    ingest_reject *rejects;
    size_t n_rejects, cap_rejects;
    arena mem;
} ingest_batch;

void ingest_batch_init(ingest_batch *b);
void ingest_batch_fini(ingest_batch *b);

/* Parse and validate body for database o->db, filling b. Borrows body until
 * ingest_batch_fini(b) (rejects point into it). When something is to be written, creates the
 * database and the new tables and columns in the schema (they are also named in the
 * payload, so replay recreates them). Returns SILT_OK
 * — also when lines were rejected (see b->n_rejects) — or SILT_EINVAL for an invalid database
 * name, SILT_ELIMIT when the database limit is reached, SILT_EBUSY when concurrent schema
 * changes kept invalidating it. The schema is changed only when something is written: a
 * rejected line or request creates no database, table or column. Any thread. */
int ingest_build(schema *s, const ingest_opts *o, const char *body, size_t n, ingest_batch *b,
                 silt_err *err);

/* ------------------------------------------------------------------ decoding */

typedef struct ingest_col {
    str_view name;
    uint8_t kind; /* schema_kind */
    uint8_t type; /* lp_type, fields only */
} ingest_col;

typedef struct ingest_value {
    union {
        double f;
        int64_t i;
        uint64_t u;
        bool b;
    } v;
    str_view s;
} ingest_value;

/* Callbacks of ingest_decode, called in payload order. A non-zero return stops decoding and
 * is returned. All views point into the payload. */
typedef struct ingest_sink {
    int (*table)(void *arg, str_view db, str_view table, const ingest_col *cols, uint32_t n_cols);
    int (*series)(void *arg, uint32_t ref, const uint32_t *tag_col_refs, const str_view *values,
                  uint32_t n_tags);
    /* fields: n_fields (col_ref, value) pairs */
    int (*row)(void *arg, uint32_t series_ref, int64_t time_ns, const uint32_t *col_refs,
               const ingest_value *values, uint32_t n_fields);
} ingest_sink;

/* Decode a payload. Every length and reference is checked: SILT_ECORRUPT on any
 * inconsistency (never a crash). */
int ingest_decode(const uint8_t *p, size_t n, const ingest_sink *sink, void *arg, silt_err *err);

#endif
