/* SPDX-License-Identifier: MIT
 *
 * parquet internals shared by pq_thrift.c (Thrift compact protocol and the metadata structs),
 * pq_encode.c (value and level encodings), pq_compress.c (codecs), pq_writer.c, pq_reader.c
 * and pq_describe.c. Nothing here is visible outside src/parquet/.
 *
 * File layout written and read (Apache Parquet, parquet.thrift):
 *
 *   "PAR1"
 *   row group 0: column chunk 0: [dictionary page] data page ... ; column chunk 1 ...
 *   row group 1 ...
 *   ColumnIndex of every chunk (row group major), then OffsetIndex of every chunk
 *   FileMetaData (Thrift compact)
 *   u32 LE length of FileMetaData
 *   "PAR1"
 *
 * A page is a Thrift PageHeader followed by compressed_page_size bytes. PageHeader.crc is the
 * zlib CRC-32 of exactly those bytes (as written, after compression).
 */
#ifndef SILT_PQ_INT_H
#define SILT_PQ_INT_H

#include "parquet.h"

/* ------------------------------------------------------------------ parquet.thrift enums */

enum { /* Type */
       PQT_BOOLEAN = 0,
       PQT_INT32 = 1,
       PQT_INT64 = 2,
       PQT_INT96 = 3,
       PQT_FLOAT = 4,
       PQT_DOUBLE = 5,
       PQT_BYTE_ARRAY = 6,
       PQT_FIXED_LEN_BYTE_ARRAY = 7
};

enum { /* ConvertedType (only those silt looks at) */
       PQCT_UTF8 = 0,
       PQCT_ENUM = 4,
       PQCT_DECIMAL = 5,
       PQCT_DATE = 6,
       PQCT_TIME_MILLIS = 7,
       PQCT_TIME_MICROS = 8,
       PQCT_TIMESTAMP_MILLIS = 9,
       PQCT_TIMESTAMP_MICROS = 10,
       PQCT_UINT_8 = 11,
       PQCT_UINT_16 = 12,
       PQCT_UINT_32 = 13,
       PQCT_UINT_64 = 14,
       PQCT_INT_8 = 15,
       PQCT_INT_16 = 16,
       PQCT_INT_32 = 17,
       PQCT_INT_64 = 18,
       PQCT_JSON = 19,
       PQCT_BSON = 20,
       PQCT_INTERVAL = 21
};

enum { /* FieldRepetitionType */
       PQR_REQUIRED = 0,
       PQR_OPTIONAL = 1,
       PQR_REPEATED = 2
};

enum { /* Encoding */
       PQE_PLAIN = 0,
       PQE_PLAIN_DICTIONARY = 2,
       PQE_RLE = 3,
       PQE_BIT_PACKED = 4,
       PQE_DELTA_BINARY_PACKED = 5,
       PQE_DELTA_LENGTH_BYTE_ARRAY = 6,
       PQE_DELTA_BYTE_ARRAY = 7,
       PQE_RLE_DICTIONARY = 8,
       PQE_BYTE_STREAM_SPLIT = 9
};

enum { /* CompressionCodec */
       PQC_UNCOMPRESSED = 0,
       PQC_SNAPPY = 1,
       PQC_GZIP = 2,
       PQC_LZO = 3,
       PQC_BROTLI = 4,
       PQC_LZ4 = 5,
       PQC_ZSTD = 6,
       PQC_LZ4_RAW = 7
};

enum { /* PageType */
       PQP_DATA_PAGE = 0,
       PQP_INDEX_PAGE = 1,
       PQP_DICTIONARY_PAGE = 2,
       PQP_DATA_PAGE_V2 = 3
};

enum { /* BoundaryOrder */
       PQB_UNORDERED = 0,
       PQB_ASCENDING = 1,
       PQB_DESCENDING = 2
};

/* LogicalType union member ids (field ids of the union) */
enum {
    PQL_NONE = 0,
    PQL_STRING = 1,
    PQL_MAP = 2,
    PQL_LIST = 3,
    PQL_ENUM = 4,
    PQL_DECIMAL = 5,
    PQL_DATE = 6,
    PQL_TIME = 7,
    PQL_TIMESTAMP = 8,
    PQL_INTEGER = 10,
    PQL_UNKNOWN = 11,
    PQL_JSON = 12,
    PQL_BSON = 13,
    PQL_UUID = 14,
    PQL_FLOAT16 = 15
};

enum { PQ_UNIT_NONE = 0, PQ_UNIT_MILLIS = 1, PQ_UNIT_MICROS = 2, PQ_UNIT_NANOS = 3 };

const char *pq__type_name(int t);
const char *pq__encoding_name(int e);
const char *pq__codec_name(int c);
const char *pq__page_type_name(int t);
const char *pq__converted_name(int c);

/* ------------------------------------------------------------------ limits */

#define PQ_MAGIC        "PAR1"
#define PQ_TC_MAX_DEPTH 24 /* Thrift struct/list nesting accepted by the decoder */
#ifdef SILT_FUZZING
#define PQ_MAX_PAGE_BYTES  (64u << 20) /* uncompressed page size accepted by the reader */
#define PQ_MAX_MATERIALIZE (64u << 20)
#else
#define PQ_MAX_PAGE_BYTES  (1u << 30)
#define PQ_MAX_MATERIALIZE (1u << 30) /* bytes of DELTA_BYTE_ARRAY strings built per read */
#endif
#define PQ_MAX_READ_ROWS    ((uint64_t)1 << 31) /* rows one pq_read_column call may return */
#define PQ_DICT_MAX_BYTES   (1u << 20)          /* writer: PLAIN size of a dictionary page */
#define PQ_STAT_MAX_BYTES   64                  /* writer: longer string min/max are truncated */
#define PQ_DELTA_BLOCK      128                 /* writer: DELTA_BINARY_PACKED block size */
#define PQ_DELTA_MINIBLOCKS 4

/* ------------------------------------------------------------------ Thrift compact protocol */

enum { /* compact field / element types */
       TC_STOP = 0,
       TC_TRUE = 1,
       TC_FALSE = 2,
       TC_I8 = 3,
       TC_I16 = 4,
       TC_I32 = 5,
       TC_I64 = 6,
       TC_DOUBLE = 7,
       TC_BINARY = 8,
       TC_LIST = 9,
       TC_SET = 10,
       TC_MAP = 11,
       TC_STRUCT = 12,
       TC_UUID = 13
};

/* Encoder: appends to a buf. Field ids are delta-coded against the enclosing struct's last id,
 * kept on a small stack. */
typedef struct tc_writer {
    buf *b;
    int depth;
    int16_t last[PQ_TC_MAX_DEPTH];
} tc_writer;

void tcw_init(tc_writer *w, buf *b);
void tcw_begin(tc_writer *w); /* start a struct body (top level or list element) */
void tcw_end(tc_writer *w);   /* stop field; leave the struct */
void tcw_field(tc_writer *w, int id, int type);
void tcw_struct(tc_writer *w, int id); /* struct-typed field: header, then tcw_begin */
void tcw_i8(tc_writer *w, int id, int8_t v);
void tcw_i16(tc_writer *w, int id, int16_t v);
void tcw_i32(tc_writer *w, int id, int32_t v);
void tcw_i64(tc_writer *w, int id, int64_t v);
void tcw_bool(tc_writer *w, int id, bool v);
void tcw_bin(tc_writer *w, int id, const void *p, size_t n);
void tcw_list(tc_writer *w, int id, int elem_type, size_t n);
void tcw_list_header(tc_writer *w, int elem_type, size_t n);
void tcw_elem_i32(tc_writer *w, int32_t v);
void tcw_elem_i64(tc_writer *w, int64_t v);
void tcw_elem_bin(tc_writer *w, const void *p, size_t n);
void tcw_elem_bool(tc_writer *w, bool v);

/* Decoder over [p, end). Errors are sticky: after the first one every read returns 0 and
 * `bad` says why, so parsers are straight-line code checked once at the end. */
typedef struct tc_reader {
    const uint8_t *p, *end, *start;
    int depth;
    const char *bad; /* NULL while the input is well-formed */
} tc_reader;

void tcr_init(tc_reader *r, const uint8_t *p, size_t n);
void tcr_fail(tc_reader *r, const char *why);
/* Enter / leave a struct body (depth-bounded). */
bool tcr_enter(tc_reader *r);
void tcr_leave(tc_reader *r);
/* Next field of the current struct: false at the stop field or on error. *last tracks the
 * previous field id for the delta encoding. */
bool tcr_field(tc_reader *r, int16_t *last, int *type, int *id);
int32_t tcr_i32(tc_reader *r, int type);
int64_t tcr_i64(tc_reader *r, int type);
bool tcr_bool(tc_reader *r, int type);
str_view tcr_bin(tc_reader *r, int type);
/* List header of a list-typed field; returns the element count (bounded by the bytes left)
 * and the element type. */
size_t tcr_list(tc_reader *r, int type, int *elem_type);
int32_t tcr_elem_i32(tc_reader *r, int elem_type);
int64_t tcr_elem_i64(tc_reader *r, int elem_type);
str_view tcr_elem_bin(tc_reader *r, int elem_type);
bool tcr_elem_bool(tc_reader *r, int elem_type);
void tcr_skip(tc_reader *r, int type);

/* ------------------------------------------------------------------ metadata structs */

typedef struct pq_stats_raw {
    bool present;
    bool has_min, has_max, has_min_value, has_max_value, has_null_count, has_nan_count;
    bool has_distinct_count, has_min_exact, has_max_exact, min_exact, max_exact;
    str_view min, max, min_value, max_value; /* views into the parsed bytes */
    int64_t null_count, nan_count, distinct_count;
} pq_stats_raw;

typedef struct pq_logical {
    int kind;      /* PQL_* (0: none) */
    bool utc;      /* TIMESTAMP / TIME */
    int unit;      /* PQ_UNIT_* */
    int bit_width; /* INTEGER */
    bool is_signed;
    int32_t scale, precision; /* DECIMAL */
} pq_logical;

typedef struct pq_schema_el {
    str_view name;
    int type; /* PQT_* or -1 */
    int32_t type_length;
    int repetition;       /* PQR_* or -1 */
    int32_t num_children; /* -1 when absent */
    int converted;        /* PQCT_* or -1 */
    int32_t scale, precision, field_id;
    pq_logical logical;
} pq_schema_el;

typedef struct pq_page_enc_stat {
    int page_type, encoding;
    int32_t count;
} pq_page_enc_stat;

typedef struct pq_chunk_meta {
    bool has_meta, has_file_path, encrypted;
    int type, codec;
    int *encodings;
    size_t n_encodings;
    str_view *path;
    size_t n_path;
    int64_t num_values, total_uncompressed, total_compressed;
    int64_t data_page_offset, dict_page_offset, index_page_offset;
    bool has_dict_offset, has_index_offset;
    pq_stats_raw stats;
    pq_page_enc_stat *enc_stats;
    size_t n_enc_stats;
    bool has_enc_stats;
    int64_t offset_index_offset, column_index_offset;
    int32_t offset_index_length, column_index_length;
    bool has_offset_index, has_column_index;
    /* derived by the reader: validated byte range of the chunk's pages */
    uint64_t start, end;
} pq_chunk_meta;

typedef struct pq_rg_meta {
    pq_chunk_meta *cols;
    size_t n_cols;
    int64_t num_rows, total_byte_size, total_compressed_size, file_offset;
    bool has_total_compressed, has_file_offset;
    int ordinal;
} pq_rg_meta;

typedef struct pq_kv_raw {
    str_view key, value;
    bool has_value;
} pq_kv_raw;

typedef struct pq_file_meta {
    int32_t version;
    pq_schema_el *schema;
    size_t n_schema;
    int64_t num_rows;
    pq_rg_meta *rgs;
    size_t n_rgs;
    pq_kv_raw *kv;
    size_t n_kv;
    str_view created_by;
    bool has_created_by;
    int *
        col_orders; /* per leaf: ColumnOrder union member id (1 TYPE_ORDER, 2 IEEE754), 0 unknown */
    size_t n_col_orders;
    bool has_col_orders;
    bool encrypted; /* encryption_algorithm or footer_signing_key_metadata present */
} pq_file_meta;

typedef struct pq_page_header {
    int type;
    int32_t uncompressed_size, compressed_size;
    bool has_crc;
    uint32_t crc;
    /* DATA_PAGE / DATA_PAGE_V2 */
    bool has_data, has_data_v2, has_dict;
    int32_t num_values, num_nulls, num_rows;
    int encoding, def_encoding, rep_encoding;
    int32_t def_len, rep_len;
    bool is_compressed;
    pq_stats_raw stats;
    /* DICTIONARY_PAGE */
    int32_t dict_num_values;
    int dict_encoding;
    bool dict_sorted;
} pq_page_header;

typedef struct pq_column_index {
    bool *null_pages;
    str_view *min_values, *max_values;
    size_t n_pages, n_min, n_max;
    int boundary_order;
    int64_t *null_counts;
    size_t n_null_counts;
    bool has_null_counts;
} pq_column_index;

typedef struct pq_page_location {
    int64_t offset;
    int32_t compressed_page_size;
    int64_t first_row_index;
} pq_page_location;

typedef struct pq_offset_index {
    pq_page_location *locs;
    size_t n_locs;
} pq_offset_index;

/* Parsers. Lists and views live in `a` or point into the input bytes. Return SILT_OK or
 * SILT_ECORRUPT with `what` naming the structure. */
int pq__parse_file_meta(const uint8_t *p, size_t n, arena *a, pq_file_meta *fm, silt_err *err);
int pq__parse_page_header(const uint8_t *p, size_t n, pq_page_header *h, size_t *hdr_len,
                          silt_err *err);
int pq__parse_column_index(const uint8_t *p, size_t n, arena *a, pq_column_index *ci,
                           silt_err *err);
int pq__parse_offset_index(const uint8_t *p, size_t n, arena *a, pq_offset_index *oi,
                           silt_err *err);

/* Writers of the structures the writer emits (see pq_writer.c for the field choices). */
typedef struct pq_stats_out {
    bool has_min_max;
    const void *min, *max; /* PLAIN bytes (strings without length prefix) */
    size_t min_len, max_len;
    bool min_exact, max_exact;
    bool legacy; /* also write the deprecated min/max (signed order types) */
    int64_t null_count;
    bool has_nan_count;
    int64_t nan_count;
} pq_stats_out;
void pq__write_stats(tc_writer *w, int field_id, const pq_stats_out *s);

/* ------------------------------------------------------------------ encodings (pq_encode.c) */

/* Number of bits needed for v (0 for 0). */
static inline int pq__bit_width64(uint64_t v) {
    return v ? 64 - __builtin_clzll(v) : 0;
}

/* RLE / bit-packed hybrid, without the 4-byte length prefix. */
void pq__rle_encode_u32(buf *out, const uint32_t *v, size_t n, int width);
void pq__rle_encode_u8(buf *out, const uint8_t *v, size_t n, int width);

typedef struct pq_rle_dec {
    const uint8_t *p, *end;
    int width;
    uint32_t rle_left; /* values left in the current RLE run */
    uint32_t rle_val;
    uint64_t bp_left;  /* values left in the current bit-packed run */
    const uint8_t *bp; /* bit-packed run data */
    uint64_t bp_pos;   /* value index within the bit-packed run */
} pq_rle_dec;

void pq__rle_init(pq_rle_dec *d, const uint8_t *p, size_t n, int width);
/* Decode exactly n values; returns false if the data ends early or is malformed. */
bool pq__rle_get_u32(pq_rle_dec *d, uint32_t *out, size_t n);
bool pq__rle_get_u8(pq_rle_dec *d, uint8_t *out, size_t n); /* width <= 8 */
/* Skip n values; *ones (if non-NULL) gets the number of non-zero values skipped. */
bool pq__rle_skip(pq_rle_dec *d, uint64_t n, uint64_t *ones);

/* DELTA_BINARY_PACKED */
void pq__delta_encode(buf *out, const int64_t *v, size_t n);

typedef struct pq_delta_dec {
    const uint8_t *p, *end;
    uint64_t block_size, n_mini, mini_size, total, left; /* left: values not yet returned */
    uint64_t last;                                       /* last value (wrapping arithmetic) */
    bool first_pending;                                  /* header value not yet returned */
    /* current block */
    uint64_t min_delta;
    const uint8_t *widths;
    uint64_t mb_index; /* current miniblock in block */
    uint64_t mb_pos;   /* value index within current miniblock */
    const uint8_t *mb_data;
    int mb_width;
    uint64_t block_left; /* values left in the current block */
    int max_width;       /* 32 for INT32, 64 for INT64 */
} pq_delta_dec;

/* Parse the header. Returns false when malformed. */
bool pq__delta_init(pq_delta_dec *d, const uint8_t *p, size_t n, int max_width);
/* Next n values (as uint64 bit patterns, sign-extended for INT32 by the caller). */
bool pq__delta_get(pq_delta_dec *d, uint64_t *out, size_t n);
bool pq__delta_skip(pq_delta_dec *d, uint64_t n);
/* Consume every remaining value; *end_out gets the first byte after the encoded data. */
bool pq__delta_finish(pq_delta_dec *d, const uint8_t **end_out);

/* bit packing helpers */
void pq__bitpack(uint8_t *out, const uint64_t *v, size_t n, int width); /* n % 8 == 0 */
/* Unpack n values starting at value index `first`; the caller guarantees that
 * (first + n) * width bits lie within in_len bytes. */
void pq__bitunpack(const uint8_t *in, size_t in_len, uint64_t *v, size_t n, int width,
                   uint64_t first);

/* BYTE_STREAM_SPLIT of k-byte values */
void pq__bss_encode(uint8_t *out, const uint8_t *in, size_t n, size_t k);
void pq__bss_decode(uint8_t *out, const uint8_t *in, size_t n_streams_len, size_t k, size_t first,
                    size_t count);

/* ------------------------------------------------------------------ codecs (pq_compress.c) */

typedef struct pq_codec_ctx pq_codec_ctx;
pq_codec_ctx *pq__codec_create(void);
void pq__codec_destroy(pq_codec_ctx *c);
/* Compress src into out (appended). level applies to ZSTD. */
int pq__compress(pq_codec_ctx *c, int codec, int level, const uint8_t *src, size_t n, buf *out,
                 silt_err *err);
/* Decompress exactly `want` bytes into dst. SILT_ECORRUPT on any mismatch, SILT_EUNSUPPORTED
 * for codecs silt cannot read. `what` names the page for messages. */
int pq__decompress(pq_codec_ctx *c, int codec, const uint8_t *src, size_t n, uint8_t *dst,
                   size_t want, const char *what, silt_err *err);
bool pq__codec_supported(int codec);

/* zlib CRC-32 (the page CRC) */
uint32_t pq__crc32(const uint8_t *p, size_t n);

/* ------------------------------------------------------------------ reader internals */

/* How a leaf's physical values map to silt values. */
typedef enum pq_conv {
    PQV_NONE = 0, /* physical type read as is */
    PQV_I32_TO_I64,
    PQV_U32_TO_U64,
    PQV_FLOAT_TO_DOUBLE,
    PQV_MUL, /* INT64/INT32 timestamp scaled to ns by `mul` */
} pq_conv;

typedef struct pq_leaf {
    pq_column_info info;
    const pq_schema_el *el;
    int phys;
    int32_t type_length;
    int max_def;
    pq_conv conv;
    int64_t mul;
    bool unsigned_order; /* statistics compared as unsigned (UINT_*, INTEGER unsigned) */
    int col_order;       /* 1 TYPE_ORDER, 2 IEEE754, 0 none */
} pq_leaf;

typedef struct pq_chunk_index {
    int state; /* 0 not loaded, 1 loaded, 2 absent */
    pq_offset_index oi;
    pq_page_info *pages;
    size_t n_pages;
} pq_chunk_index;

struct pq_reader {
    const uint8_t *data;
    size_t len;
    size_t footer_start; /* first byte of FileMetaData */
    arena a;
    pq_file_meta fm;
    pq_leaf *leaves;
    size_t n_leaves;
    pq_chunk_index *idx; /* n_rgs * n_leaves, lazily filled */
    pq_codec_ctx *codec;
    uint64_t pages_decoded; /* data pages whose values were decoded */
    bool skip_page_crc;     /* pq_reader_trust_checksums */
    const char *created_by; /* NUL-terminated copy, or NULL */
    uint64_t id;            /* unique per process: keys the colbufs' dictionary cache */
};

/* Typed statistics from raw bytes, per the leaf's type and column order. */
void pq__stat_from_raw(const pq_leaf *lf, const pq_stats_raw *s, pq_stat *out);
void pq__stat_from_bounds(const pq_leaf *lf, str_view mn, str_view mx, pq_stat *out);

#endif
