/* SPDX-License-Identifier: MIT
 *
 * parquet: silt's own Apache Parquet writer and reader, written to the specification
 * (https://parquet.apache.org/docs/file-format/, parquet.thrift) — Debian has no C library
 * for it. Files are built in memory (a persisted chunk is a few MB to a few hundred MB) and
 * read from memory (a whole object, or an mmap of a cached copy).
 *
 * What the writer produces (see DESIGN.md "Parquet files"):
 *   - Thrift compact protocol FileMetaData, PageHeaders, ColumnIndex and OffsetIndex
 *   - data page v1 (default) or v2; dictionary pages
 *   - encodings: PLAIN; RLE/bit-packed hybrid (definition levels, booleans, dictionary
 *     indices = RLE_DICTIONARY); DELTA_BINARY_PACKED (time and integers); BYTE_STREAM_SPLIT
 *     (doubles, where it pays); dictionary for tag columns and for strings where it pays
 *   - codecs ZSTD (default) and SNAPPY, or UNCOMPRESSED
 *   - optional columns with definition levels (max level 1), required time
 *   - column-chunk and page statistics (min, max, null count), page CRC32 (zlib polynomial,
 *     as the spec requires), a page index (ColumnIndex + OffsetIndex) per column chunk
 *   - key/value metadata (silt writes its schema there)
 * The reader reads all of that, plus what DuckDB and arrow-rs write for the same types (PLAIN
 * dictionary pages, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, GZIP/LZ4_RAW if present, data
 * page v2 with uncompressed levels, ...) and rejects what it cannot read with SILT_EUNSUPPORTED.
 * It validates every offset, length and count against the buffer and verifies page CRCs when
 * present: a corrupt file is an error (SILT_ECORRUPT), never a crash.
 */
#ifndef SILT_PARQUET_H
#define SILT_PARQUET_H

#include "../util/util.h"

/* The logical column types silt uses. */
typedef enum pq_type {
    PQ_STRING = 1,       /* BYTE_ARRAY, logical STRING (UTF-8) */
    PQ_DOUBLE = 2,       /* DOUBLE */
    PQ_INT64 = 3,        /* INT64 */
    PQ_UINT64 = 4,       /* INT64 with logical INTEGER(64, unsigned) */
    PQ_BOOL = 5,         /* BOOLEAN */
    PQ_TIMESTAMP_NS = 6, /* INT64, logical TIMESTAMP(NANOS, isAdjustedToUTC=false) */
} pq_type;

typedef enum pq_codec { PQ_UNCOMPRESSED = 0, PQ_SNAPPY = 1, PQ_ZSTD = 6 } pq_codec;

typedef struct pq_column_def {
    const char *name;
    pq_type type;
    bool optional;   /* nullable: written with definition levels */
    bool dictionary; /* dictionary-encode (tags); strings may also choose it when it pays */
} pq_column_def;

typedef struct pq_kv {
    const char *key, *value;
} pq_kv;

typedef struct pq_writer_opts {
    pq_codec codec;        /* default PQ_ZSTD */
    int zstd_level;        /* default 3 */
    size_t row_group_rows; /* rows per row group; default 1,048,576 */
    size_t page_bytes;     /* target uncompressed page size; default 1 MiB */
    size_t page_rows;      /* at most this many rows per data page; default 16,384 (0: no
                            * limit). Small pages let readers skip by the page index; when
                            * every column's pages are cut by rows, they align across
                            * columns. */
    /* Series-aligned pages. The first series_cols columns identify a series (the leading
     * columns of the sort key): a page ends where the series changes once it holds at least
     * PQ_SERIES_PAGE_MIN_ROWS rows (page_rows / 4 + 1 if less), so that pages of a long series hold that series alone
     * and their statistics say so; and the last tail_rows rows of every series of at least
     * 2 * tail_rows rows are a page of their own, so that the newest points of each series
     * (last-point and recent-window queries) are read without decoding the rest. Both
     * apply to every column alike, so pages stay aligned across columns. Default 0: off. */
    size_t series_cols;
    size_t tail_rows;
    bool data_page_v2; /* default false: v1 pages */
    const pq_kv *kv;       /* key/value metadata, copied */
    size_t n_kv;
    const char *created_by; /* default "silt version X (build ...)" */
    size_t dict_bytes;      /* PLAIN size limit of a dictionary page; default 1 MiB */
} pq_writer_opts;

#define PQ_SERIES_PAGE_MIN_ROWS 1024

/* Fill *o with the defaults above (zstd level 3, ZSTD, ...). A zeroed pq_writer_opts means
 * the same except for `codec`, whose zero value is PQ_UNCOMPRESSED, and `page_rows`, whose
 * zero value is no row limit; opts == NULL in
 * pq_writer_open means all defaults. */
void pq_writer_opts_init(pq_writer_opts *o);

/* One column of a batch of rows to write: n values. valid[i] == 0 is NULL (valid == NULL:
 * none; only for optional columns). By type: PQ_STRING -> str; PQ_DOUBLE -> f64;
 * PQ_INT64, PQ_TIMESTAMP_NS -> i64; PQ_UINT64 -> u64; PQ_BOOL -> b (0/1). */
typedef struct pq_vec {
    const int64_t *i64;
    const uint64_t *u64;
    const double *f64;
    const uint8_t *b;
    const str_view *str;
    const uint8_t *valid;
} pq_vec;

typedef struct pq_writer pq_writer;

/* Start a file of the given columns. Copies defs and opts. */
int pq_writer_open(const pq_column_def *cols, size_t n_cols, const pq_writer_opts *opts,
                   pq_writer **out, silt_err *err);
/* Append n rows, one pq_vec per column in definition order. Data is copied/encoded; the
 * caller's arrays may be reused after the call. Row groups are cut at row_group_rows. */
int pq_writer_write(pq_writer *w, const pq_vec *cols, size_t n, silt_err *err);
/* Finish the file: the bytes are appended to *out. The writer is freed (also on error). */
int pq_writer_finish(pq_writer *w, buf *out, silt_err *err);
void pq_writer_abort(pq_writer *w);

/* ------------------------------------------------------------------ reading */

typedef struct pq_reader pq_reader;

/* Typed statistics value. has == false when the file carries no statistic. */
typedef struct pq_stat {
    bool has_min_max;
    union {
        int64_t i64;
        uint64_t u64;
        double f64;
        bool b;
    } min, max;
    str_view min_str, max_str; /* PQ_STRING; views into the reader's buffer */
    bool has_null_count;
    uint64_t null_count;
} pq_stat;

typedef struct pq_column_info {
    const char *name; /* owned by the reader */
    pq_type type;     /* mapped from physical + logical type; 0 if silt has no mapping */
    bool optional;
    int physical_type; /* parquet Type enum value */
} pq_column_info;

/* Open a file held in memory (borrowed until pq_reader_close). Parses and validates the
 * footer and schema. Errors: SILT_ECORRUPT, SILT_EUNSUPPORTED (nested schemas, encryption,
 * ...). */
int pq_reader_open(const uint8_t *data, size_t len, pq_reader **out, silt_err *err);
void pq_reader_close(pq_reader *r);

/* The caller has checked the whole file against a checksum it trusts (silt's catalog keeps
 * one per file): page CRCs need not be checked again. */
void pq_reader_trust_checksums(pq_reader *r);

uint64_t pq_reader_num_rows(const pq_reader *r);
size_t pq_reader_num_columns(const pq_reader *r);
const pq_column_info *pq_reader_column(const pq_reader *r, size_t col);
/* Index of a column by name, or -1. */
int pq_reader_find_column(const pq_reader *r, const char *name);
size_t pq_reader_num_row_groups(const pq_reader *r);
uint64_t pq_reader_row_group_rows(const pq_reader *r, size_t rg);
/* Column-chunk statistics of row group rg. */
int pq_reader_chunk_stats(const pq_reader *r, size_t rg, size_t col, pq_stat *out);
/* Value of a key/value metadata entry (view into the reader), or {NULL, 0}. */
str_view pq_reader_kv(const pq_reader *r, const char *key);
const char *pq_reader_created_by(const pq_reader *r);

/* Page-level statistics of a column chunk, from its ColumnIndex/OffsetIndex (false when the
 * file has no page index for it). Array owned by the reader. */
typedef struct pq_page_info {
    uint64_t first_row; /* within the row group */
    uint64_t n_rows;
    pq_stat stat;
} pq_page_info;
bool pq_reader_pages(pq_reader *r, size_t rg, size_t col, const pq_page_info **pages,
                     size_t *n_pages);

/* Decoded values of rows [row_lo, row_hi) of one column chunk. Pages outside the range are
 * skipped (with the offset index) rather than decoded. Arrays are owned by the colbuf and
 * valid until pq_colbuf_fini or the next read into it. Which array is set depends on the
 * type, as in pq_vec. For a chunk whose pages are all dictionary-encoded, dict/dict_idx are
 * set too (dict_idx[i] indexes dict; undefined for NULL rows), so tag predicates can be
 * evaluated once per dictionary entry. */
typedef struct pq_colbuf {
    size_t n;
    int64_t *i64;
    uint64_t *u64;
    double *f64;
    uint8_t *b;
    str_view *str;
    uint8_t *valid; /* NULL when the column has no NULL in the range */
    const str_view *dict;
    size_t n_dict;
    uint32_t *dict_idx;
    void *priv; /* reader-owned scratch */
} pq_colbuf;

void pq_colbuf_init(pq_colbuf *cb);
void pq_colbuf_fini(pq_colbuf *cb);
int pq_read_column(pq_reader *r, size_t rg, size_t col, uint64_t row_lo, uint64_t row_hi,
                   pq_colbuf *out, silt_err *err);
/* Data pages whose values pq_read_column has decoded since pq_reader_open (a page skipped
 * with the offset index or by its header's row count is not counted). For tests and
 * metrics. */
uint64_t pq_reader_pages_decoded(const pq_reader *r);

/* A human description of the file (schema, row groups, column chunks with encodings,
 * codecs, sizes and statistics, key/value metadata), as `silt inspect` prints it. */
int pq_describe(const uint8_t *data, size_t len, buf *out, silt_err *err);

#endif
