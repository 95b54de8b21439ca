/* SPDX-License-Identifier: MIT
 *
 * Thrift compact protocol (apache/thrift doc/specs/thrift-compact-protocol.md) for the
 * Parquet metadata structures, written from the specification:
 *
 *   field header   short form  ddddtttt (d = id delta 1..15, t = type), else 0000tttt + zigzag
 *                  varint i16 id; stop field 0x00
 *   bool field     the type nibble is the value (1 true, 2 false); no payload
 *   i8             one byte; i16/i32/i64 zigzag ULEB128; double 8 bytes LE
 *   binary         ULEB128 length + bytes
 *   list/set       sssstttt (size 0..14) or 1111tttt + ULEB128 size; elements back to back;
 *                  bool elements one byte (1 true; 0 or 2 false)
 *   map            ULEB128 size, then kkkkvvvv if size > 0
 *
 * Decoder invariants (the reader's first line of defence):
 *   (1) every read is checked against the end of the input; a short input is an error;
 *   (2) nesting (struct, list, map) is bounded by PQ_TC_MAX_DEPTH;
 *   (3) a list or map declares no more elements than bytes left (each element takes >= 1
 *       byte, except bool-free empty structs which take exactly 1), so allocations are bounded
 *       by the input size;
 *   (4) varints longer than 10 bytes or values that do not fit their declared width are errors;
 *   (5) a known field with an unexpected wire type is an error (the file is not what the
 *       schema says); unknown fields are skipped.
 */
#include "pq_int.h"

#include <stdio.h>

/* ------------------------------------------------------------------ names */

const char *pq__type_name(int t) {
    static const char *n[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                              "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return t >= 0 && t < 8 ? n[t] : "?";
}

const char *pq__encoding_name(int e) {
    static const char *n[] = {"PLAIN",
                              "GROUP_VAR_INT",
                              "PLAIN_DICTIONARY",
                              "RLE",
                              "BIT_PACKED",
                              "DELTA_BINARY_PACKED",
                              "DELTA_LENGTH_BYTE_ARRAY",
                              "DELTA_BYTE_ARRAY",
                              "RLE_DICTIONARY",
                              "BYTE_STREAM_SPLIT",
                              "ALP"};
    return e >= 0 && e < 11 ? n[e] : "?";
}

const char *pq__codec_name(int c) {
    static const char *n[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                              "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
    return c >= 0 && c < 8 ? n[c] : "?";
}

const char *pq__page_type_name(int t) {
    static const char *n[] = {"DATA_PAGE", "INDEX_PAGE", "DICTIONARY_PAGE", "DATA_PAGE_V2"};
    return t >= 0 && t < 4 ? n[t] : "?";
}

const char *pq__converted_name(int c) {
    static const char *n[] = {"UTF8",
                              "MAP",
                              "MAP_KEY_VALUE",
                              "LIST",
                              "ENUM",
                              "DECIMAL",
                              "DATE",
                              "TIME_MILLIS",
                              "TIME_MICROS",
                              "TIMESTAMP_MILLIS",
                              "TIMESTAMP_MICROS",
                              "UINT_8",
                              "UINT_16",
                              "UINT_32",
                              "UINT_64",
                              "INT_8",
                              "INT_16",
                              "INT_32",
                              "INT_64",
                              "JSON",
                              "BSON",
                              "INTERVAL"};
    return c >= 0 && c < 22 ? n[c] : "?";
}

/* ------------------------------------------------------------------ encoder */

void tcw_init(tc_writer *w, buf *b) {
    w->b = b;
    w->depth = 0;
    w->last[0] = 0;
}

void tcw_begin(tc_writer *w) {
    w->depth++;
    if (w->depth >= PQ_TC_MAX_DEPTH) silt_panic("thrift writer nesting too deep");
    w->last[w->depth] = 0;
}

void tcw_end(tc_writer *w) {
    buf_putc(w->b, 0);
    if (w->depth <= 0) silt_panic("thrift writer: unbalanced struct end");
    w->depth--;
}

void tcw_field(tc_writer *w, int id, int type) {
    int16_t last = w->last[w->depth];
    int delta = id - last;
    if (delta > 0 && delta <= 15) {
        buf_putc(w->b, (char)((delta << 4) | type));
    } else {
        buf_putc(w->b, (char)type);
        buf_put_varint(w->b, zigzag_enc(id));
    }
    w->last[w->depth] = (int16_t)id;
}

void tcw_struct(tc_writer *w, int id) {
    tcw_field(w, id, TC_STRUCT);
    tcw_begin(w);
}

void tcw_i8(tc_writer *w, int id, int8_t v) {
    tcw_field(w, id, TC_I8);
    buf_putc(w->b, (char)v);
}

void tcw_i16(tc_writer *w, int id, int16_t v) {
    tcw_field(w, id, TC_I16);
    buf_put_varint(w->b, zigzag_enc(v));
}

void tcw_i32(tc_writer *w, int id, int32_t v) {
    tcw_field(w, id, TC_I32);
    buf_put_varint(w->b, zigzag_enc(v));
}

void tcw_i64(tc_writer *w, int id, int64_t v) {
    tcw_field(w, id, TC_I64);
    buf_put_varint(w->b, zigzag_enc(v));
}

void tcw_bool(tc_writer *w, int id, bool v) {
    tcw_field(w, id, v ? TC_TRUE : TC_FALSE);
}

void tcw_bin(tc_writer *w, int id, const void *p, size_t n) {
    tcw_field(w, id, TC_BINARY);
    buf_put_varint(w->b, n);
    buf_append(w->b, p, n);
}

void tcw_list_header(tc_writer *w, int elem_type, size_t n) {
    if (n < 15) {
        buf_putc(w->b, (char)((n << 4) | (size_t)elem_type));
    } else {
        buf_putc(w->b, (char)(0xf0 | elem_type));
        buf_put_varint(w->b, n);
    }
}

void tcw_list(tc_writer *w, int id, int elem_type, size_t n) {
    tcw_field(w, id, TC_LIST);
    tcw_list_header(w, elem_type, n);
}

void tcw_elem_i32(tc_writer *w, int32_t v) {
    buf_put_varint(w->b, zigzag_enc(v));
}
void tcw_elem_i64(tc_writer *w, int64_t v) {
    buf_put_varint(w->b, zigzag_enc(v));
}

void tcw_elem_bin(tc_writer *w, const void *p, size_t n) {
    buf_put_varint(w->b, n);
    buf_append(w->b, p, n);
}

/* As the Java and C++ Thrift libraries write them: 1 true, 2 false (readers that follow the
 * compact spec text test == 1). */
void tcw_elem_bool(tc_writer *w, bool v) {
    buf_putc(w->b, v ? 1 : 2);
}

/* ------------------------------------------------------------------ decoder */

void tcr_init(tc_reader *r, const uint8_t *p, size_t n) {
    r->p = r->start = p;
    r->end = p + n;
    r->depth = 0;
    r->bad = NULL;
}

void tcr_fail(tc_reader *r, const char *why) {
    if (!r->bad) r->bad = why;
    r->p = r->end;
}

static uint64_t tcr_varint(tc_reader *r) {
    if (r->bad) return 0;
    uint64_t v;
    size_t k = varint_get(r->p, (size_t)(r->end - r->p), &v);
    if (!k) {
        tcr_fail(r, "truncated or overlong varint");
        return 0;
    }
    r->p += k;
    return v;
}

static uint8_t tcr_byte(tc_reader *r) {
    if (r->bad) return 0;
    if (r->p >= r->end) {
        tcr_fail(r, "unexpected end of data");
        return 0;
    }
    return *r->p++;
}

bool tcr_enter(tc_reader *r) {
    if (r->bad) return false;
    if (++r->depth > PQ_TC_MAX_DEPTH) {
        tcr_fail(r, "nesting too deep");
        return false;
    }
    return true;
}

void tcr_leave(tc_reader *r) {
    if (r->depth > 0) r->depth--;
}

bool tcr_field(tc_reader *r, int16_t *last, int *type, int *id) {
    uint8_t h = tcr_byte(r);
    if (r->bad || h == 0) return false;
    int t = h & 0x0f, d = h >> 4;
    int fid;
    if (d) {
        fid = *last + d;
    } else {
        int64_t z = zigzag_dec(tcr_varint(r));
        if (z < INT16_MIN || z > INT16_MAX) {
            tcr_fail(r, "field id out of range");
            return false;
        }
        fid = (int)z;
    }
    if (t == TC_STOP || t > TC_UUID) {
        tcr_fail(r, "bad field type");
        return false;
    }
    if (fid > INT16_MAX) {
        tcr_fail(r, "field id out of range");
        return false;
    }
    *last = (int16_t)fid;
    *type = t;
    *id = fid;
    return !r->bad;
}

static int64_t tcr_int_value(tc_reader *r, int type) {
    switch (type) {
        case TC_I8:
            return (int8_t)tcr_byte(r);
        case TC_I16: {
            int64_t v = zigzag_dec(tcr_varint(r));
            if (v < INT16_MIN || v > INT16_MAX) tcr_fail(r, "i16 out of range");
            return v;
        }
        case TC_I32: {
            int64_t v = zigzag_dec(tcr_varint(r));
            if (v < INT32_MIN || v > INT32_MAX) tcr_fail(r, "i32 out of range");
            return v;
        }
        case TC_I64:
            return zigzag_dec(tcr_varint(r));
        default:
            tcr_fail(r, "field has an unexpected type");
            return 0;
    }
}

int32_t tcr_i32(tc_reader *r, int type) {
    if (type == TC_I64) {
        tcr_fail(r, "i64 where i32 expected");
        return 0;
    }
    int64_t v = tcr_int_value(r, type);
    return r->bad ? 0 : (int32_t)v;
}

int64_t tcr_i64(tc_reader *r, int type) {
    int64_t v = tcr_int_value(r, type);
    return r->bad ? 0 : v;
}

bool tcr_bool(tc_reader *r, int type) {
    if (type == TC_TRUE) return true;
    if (type == TC_FALSE) return false;
    tcr_fail(r, "field has an unexpected type (bool expected)");
    return false;
}

static str_view tcr_bin_body(tc_reader *r) {
    uint64_t n = tcr_varint(r);
    if (r->bad) return (str_view){"", 0};
    if (n > (uint64_t)(r->end - r->p)) {
        tcr_fail(r, "binary longer than the data");
        return (str_view){"", 0};
    }
    str_view v = {(const char *)r->p, (size_t)n};
    r->p += n;
    return v;
}

str_view tcr_bin(tc_reader *r, int type) {
    if (type != TC_BINARY) {
        tcr_fail(r, "field has an unexpected type (binary expected)");
        return (str_view){"", 0};
    }
    return tcr_bin_body(r);
}

static size_t tcr_list_body(tc_reader *r, int *elem_type) {
    uint8_t h = tcr_byte(r);
    if (r->bad) return 0;
    uint64_t n = h >> 4;
    if (n == 15) n = tcr_varint(r);
    *elem_type = h & 0x0f;
    if (r->bad) return 0;
    if (*elem_type == TC_STOP || *elem_type > TC_UUID) {
        tcr_fail(r, "bad list element type");
        return 0;
    }
    /* invariant (3): every element takes at least one byte */
    if (n > (uint64_t)(r->end - r->p)) {
        tcr_fail(r, "list longer than the data");
        return 0;
    }
    return (size_t)n;
}

size_t tcr_list(tc_reader *r, int type, int *elem_type) {
    if (type != TC_LIST && type != TC_SET) {
        tcr_fail(r, "field has an unexpected type (list expected)");
        return 0;
    }
    return tcr_list_body(r, elem_type);
}

int32_t tcr_elem_i32(tc_reader *r, int elem_type) {
    return tcr_i32(r, elem_type);
}
int64_t tcr_elem_i64(tc_reader *r, int elem_type) {
    return tcr_i64(r, elem_type);
}
str_view tcr_elem_bin(tc_reader *r, int elem_type) {
    return tcr_bin(r, elem_type);
}

bool tcr_elem_bool(tc_reader *r, int elem_type) {
    if (elem_type != TC_TRUE && elem_type != TC_FALSE) {
        tcr_fail(r, "list element has an unexpected type (bool expected)");
        return false;
    }
    return tcr_byte(r) == 1;
}

void tcr_skip(tc_reader *r, int type) {
    if (r->bad) return;
    switch (type) {
        case TC_TRUE:
        case TC_FALSE:
            return;
        case TC_I8:
            tcr_byte(r);
            return;
        case TC_I16:
        case TC_I32:
        case TC_I64:
            tcr_varint(r);
            return;
        case TC_DOUBLE:
            if (r->end - r->p < 8)
                tcr_fail(r, "unexpected end of data");
            else
                r->p += 8;
            return;
        case TC_UUID:
            if (r->end - r->p < 16)
                tcr_fail(r, "unexpected end of data");
            else
                r->p += 16;
            return;
        case TC_BINARY:
            tcr_bin_body(r);
            return;
        case TC_LIST:
        case TC_SET: {
            int et;
            size_t n = tcr_list_body(r, &et);
            if (!tcr_enter(r)) return;
            for (size_t i = 0; i < n && !r->bad; i++) {
                if (et == TC_TRUE || et == TC_FALSE)
                    tcr_byte(r);
                else
                    tcr_skip(r, et);
            }
            tcr_leave(r);
            return;
        }
        case TC_MAP: {
            uint64_t n = tcr_varint(r);
            if (r->bad || n == 0) return;
            uint8_t kv = tcr_byte(r);
            int kt = kv >> 4, vt = kv & 0x0f;
            if (n > (uint64_t)(r->end - r->p)) {
                tcr_fail(r, "map longer than the data");
                return;
            }
            if (!tcr_enter(r)) return;
            for (uint64_t i = 0; i < n && !r->bad; i++) {
                if (kt == TC_TRUE || kt == TC_FALSE)
                    tcr_byte(r);
                else
                    tcr_skip(r, kt);
                if (vt == TC_TRUE || vt == TC_FALSE)
                    tcr_byte(r);
                else
                    tcr_skip(r, vt);
            }
            tcr_leave(r);
            return;
        }
        case TC_STRUCT: {
            if (!tcr_enter(r)) return;
            int16_t last = 0;
            int t, id;
            while (tcr_field(r, &last, &t, &id)) tcr_skip(r, t);
            tcr_leave(r);
            return;
        }
        default:
            tcr_fail(r, "unknown type");
            return;
    }
}

/* ------------------------------------------------------------------ struct parsers */

/* Require a struct-typed field and enter it. */
static bool enter_struct(tc_reader *r, int type) {
    if (type != TC_STRUCT) {
        tcr_fail(r, "field has an unexpected type (struct expected)");
        return false;
    }
    return tcr_enter(r);
}

static void parse_stats(tc_reader *r, int type, pq_stats_raw *s) {
    memset(s, 0, sizeof *s);
    if (!enter_struct(r, type)) return;
    s->present = true;
    int16_t last = 0;
    int t, id;
    while (tcr_field(r, &last, &t, &id)) {
        switch (id) {
            case 1:
                s->max = tcr_bin(r, t), s->has_max = true;
                break;
            case 2:
                s->min = tcr_bin(r, t), s->has_min = true;
                break;
            case 3:
                s->null_count = tcr_i64(r, t), s->has_null_count = true;
                break;
            case 4:
                s->distinct_count = tcr_i64(r, t), s->has_distinct_count = true;
                break;
            case 5:
                s->max_value = tcr_bin(r, t), s->has_max_value = true;
                break;
            case 6:
                s->min_value = tcr_bin(r, t), s->has_min_value = true;
                break;
            case 7:
                s->max_exact = tcr_bool(r, t), s->has_max_exact = true;
                break;
            case 8:
                s->min_exact = tcr_bool(r, t), s->has_min_exact = true;
                break;
            case 9:
                s->nan_count = tcr_i64(r, t), s->has_nan_count = true;
                break;
            default:
                tcr_skip(r, t);
        }
    }
    tcr_leave(r);
}

static int parse_time_unit(tc_reader *r, int type) {
    int unit = PQ_UNIT_NONE;
    if (!enter_struct(r, type)) return unit;
    int16_t last = 0;
    int t, id;
    while (tcr_field(r, &last, &t, &id)) {
        if (id >= 1 && id <= 3 && t == TC_STRUCT) unit = id; /* MILLIS, MICROS, NANOS */
        tcr_skip(r, t);
    }
    tcr_leave(r);
    return unit;
}

static void parse_logical(tc_reader *r, int type, pq_logical *lg) {
    memset(lg, 0, sizeof *lg);
    if (!enter_struct(r, type)) return;
    int16_t last = 0;
    int t, id;
    while (tcr_field(r, &last, &t, &id)) {
        if (t != TC_STRUCT) {
            tcr_skip(r, t);
            continue;
        }
        lg->kind = id;
        if (id == PQL_TIMESTAMP || id == PQL_TIME || id == PQL_INTEGER || id == PQL_DECIMAL) {
            if (!tcr_enter(r)) break;
            int16_t l2 = 0;
            int t2, id2;
            while (tcr_field(r, &l2, &t2, &id2)) {
                if (id == PQL_INTEGER && id2 == 1)
                    lg->bit_width = (int)tcr_i32(r, t2);
                else if (id == PQL_INTEGER && id2 == 2)
                    lg->is_signed = tcr_bool(r, t2);
                else if (id == PQL_DECIMAL && id2 == 1)
                    lg->scale = tcr_i32(r, t2);
                else if (id == PQL_DECIMAL && id2 == 2)
                    lg->precision = tcr_i32(r, t2);
                else if (id2 == 1 && id != PQL_INTEGER && id != PQL_DECIMAL)
                    lg->utc = tcr_bool(r, t2);
                else if (id2 == 2 && id != PQL_INTEGER && id != PQL_DECIMAL)
                    lg->unit = parse_time_unit(r, t2);
                else
                    tcr_skip(r, t2);
            }
            tcr_leave(r);
        } else {
            tcr_skip(r, t);
        }
    }
    tcr_leave(r);
}

static void parse_schema_el(tc_reader *r, int type, pq_schema_el *e) {
    memset(e, 0, sizeof *e);
    e->type = e->repetition = e->converted = -1;
    e->num_children = -1;
    e->name = (str_view){"", 0};
    if (!enter_struct(r, type)) return;
    bool has_name = false;
    int16_t last = 0;
    int t, id;
    while (tcr_field(r, &last, &t, &id)) {
        switch (id) {
            case 1:
                e->type = tcr_i32(r, t);
                break;
            case 2:
                e->type_length = tcr_i32(r, t);
                break;
            case 3:
                e->repetition = tcr_i32(r, t);
                break;
            case 4:
                e->name = tcr_bin(r, t), has_name = true;
                break;
            case 5:
                e->num_children = tcr_i32(r, t);
                break;
            case 6:
                e->converted = tcr_i32(r, t);
                break;
            case 7:
                e->scale = tcr_i32(r, t);
                break;
            case 8:
                e->precision = tcr_i32(r, t);
                break;
            case 9:
                e->field_id = tcr_i32(r, t);
                break;
            case 10:
                parse_logical(r, t, &e->logical);
                break;
            default:
                tcr_skip(r, t);
        }
    }
    if (!has_name) tcr_fail(r, "SchemaElement without a name");
    if (e->type < -1 || e->type > PQT_FIXED_LEN_BYTE_ARRAY) tcr_fail(r, "bad physical type");
    tcr_leave(r);
}

static void parse_enc_stats(tc_reader *r, int type, pq_page_enc_stat *s) {
    memset(s, 0, sizeof *s);
    if (!enter_struct(r, type)) return;
    int16_t last = 0;
    int t, id;
    while (tcr_field(r, &last, &t, &id)) {
        switch (id) {
            case 1:
                s->page_type = tcr_i32(r, t);
                break;
            case 2:
                s->encoding = tcr_i32(r, t);
                break;
            case 3:
                s->count = tcr_i32(r, t);
                break;
            default:
                tcr_skip(r, t);
        }
    }
    tcr_leave(r);
}

static void parse_col_meta(tc_reader *r, int type, arena *a, pq_chunk_meta *m) {
    if (!enter_struct(r, type)) return;
    m->has_meta = true;
    unsigned seen = 0;
    int16_t last = 0;
    int t, id, et;
    while (tcr_field(r, &last, &t, &id)) {
        if (id >= 1 && id <= 9) seen |= 1u << id;
        switch (id) {
            case 1:
                m->type = tcr_i32(r, t);
                break;
            case 2: {
                size_t n = tcr_list(r, t, &et);
                m->encodings = arena_alloc(a, (n ? n : 1) * sizeof *m->encodings);
                m->n_encodings = n;
                for (size_t i = 0; i < n && !r->bad; i++) m->encodings[i] = tcr_elem_i32(r, et);
                break;
            }
            case 3: {
                size_t n = tcr_list(r, t, &et);
                m->path = arena_alloc(a, (n ? n : 1) * sizeof *m->path);
                m->n_path = n;
                for (size_t i = 0; i < n && !r->bad; i++) m->path[i] = tcr_elem_bin(r, et);
                break;
            }
            case 4:
                m->codec = tcr_i32(r, t);
                break;
            case 5:
                m->num_values = tcr_i64(r, t);
                break;
            case 6:
                m->total_uncompressed = tcr_i64(r, t);
                break;
            case 7:
                m->total_compressed = tcr_i64(r, t);
                break;
            case 9:
                m->data_page_offset = tcr_i64(r, t);
                break;
            case 10:
                m->index_page_offset = tcr_i64(r, t);
                m->has_index_offset = true;
                break;
            case 11:
                m->dict_page_offset = tcr_i64(r, t);
                m->has_dict_offset = true;
                break;
            case 12:
                parse_stats(r, t, &m->stats);
                break;
            case 13: {
                size_t n = tcr_list(r, t, &et);
                m->enc_stats = arena_alloc(a, (n ? n : 1) * sizeof *m->enc_stats);
                m->n_enc_stats = n;
                m->has_enc_stats = true;
                for (size_t i = 0; i < n && !r->bad; i++) parse_enc_stats(r, et, &m->enc_stats[i]);
                break;
            }
            default:
                tcr_skip(r, t);
        }
    }
    /* required: type, encodings, path_in_schema, codec, num_values, sizes, data_page_offset */
    unsigned need = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) |
                    (1u << 7) | (1u << 9);
    if ((seen & need) != need) tcr_fail(r, "ColumnMetaData misses a required field");
    tcr_leave(r);
}

static void parse_chunk(tc_reader *r, int type, arena *a, pq_chunk_meta *c) {
    memset(c, 0, sizeof *c);
    if (!enter_struct(r, type)) return;
    int16_t last = 0;
    int t, id;
    while (tcr_field(r, &last, &t, &id)) {
        switch (id) {
            case 1:
                tcr_bin(r, t);
                c->has_file_path = true;
                break;
            case 3:
                parse_col_meta(r, t, a, c);
                break;
            case 4:
                c->offset_index_offset = tcr_i64(r, t);
                c->has_offset_index = true;
                break;
            case 5:
                c->offset_index_length = tcr_i32(r, t);
                break;
            case 6:
                c->column_index_offset = tcr_i64(r, t);
                c->has_column_index = true;
                break;
            case 7:
                c->column_index_length = tcr_i32(r, t);
                break;
            case 8:
            case 9:
                c->encrypted = true;
                tcr_skip(r, t);
                break;
            default:
                tcr_skip(r, t);
        }
    }
    tcr_leave(r);
}

static void parse_row_group(tc_reader *r, int type, arena *a, pq_rg_meta *g) {
    memset(g, 0, sizeof *g);
    g->ordinal = -1;
    if (!enter_struct(r, type)) return;
    bool has_cols = false, has_rows = false;
    int16_t last = 0;
    int t, id, et;
    while (tcr_field(r, &last, &t, &id)) {
        switch (id) {
            case 1: {
                size_t n = tcr_list(r, t, &et);
                g->cols = arena_alloc(a, (n ? n : 1) * sizeof *g->cols);
                g->n_cols = n;
                for (size_t i = 0; i < n && !r->bad; i++) parse_chunk(r, et, a, &g->cols[i]);
                has_cols = true;
                break;
            }
            case 2:
                g->total_byte_size = tcr_i64(r, t);
                break;
            case 3:
                g->num_rows = tcr_i64(r, t);
                has_rows = true;
                break;
            case 5:
                g->file_offset = tcr_i64(r, t);
                g->has_file_offset = true;
                break;
            case 6:
                g->total_compressed_size = tcr_i64(r, t);
                g->has_total_compressed = true;
                break;
            case 7:
                g->ordinal = (int)tcr_i32(r, t);
                break;
            default:
                tcr_skip(r, t);
        }
    }
    if (!has_cols || !has_rows) tcr_fail(r, "RowGroup misses columns or num_rows");
    tcr_leave(r);
}

static void parse_kv(tc_reader *r, int type, pq_kv_raw *kv) {
    memset(kv, 0, sizeof *kv);
    kv->key = kv->value = (str_view){"", 0};
    if (!enter_struct(r, type)) return;
    int16_t last = 0;
    int t, id;
    while (tcr_field(r, &last, &t, &id)) {
        if (id == 1)
            kv->key = tcr_bin(r, t);
        else if (id == 2)
            kv->value = tcr_bin(r, t), kv->has_value = true;
        else
            tcr_skip(r, t);
    }
    tcr_leave(r);
}

static int parse_col_order(tc_reader *r, int type) {
    int kind = 0;
    if (!enter_struct(r, type)) return 0;
    int16_t last = 0;
    int t, id;
    while (tcr_field(r, &last, &t, &id)) {
        if (t == TC_STRUCT) kind = id;
        tcr_skip(r, t);
    }
    tcr_leave(r);
    return kind;
}

static int corrupt(silt_err *err, const char *what, const tc_reader *r) {
    return SILT_FAIL(err, SILT_ECORRUPT, "parquet: bad %s at byte %zu of %zu: %s", what,
                     (size_t)(r->p - r->start), (size_t)(r->end - r->start), r->bad ? r->bad : "?");
}

int pq__parse_file_meta(const uint8_t *p, size_t n, arena *a, pq_file_meta *fm, silt_err *err) {
    tc_reader r;
    tcr_init(&r, p, n);
    memset(fm, 0, sizeof *fm);
    bool has_schema = false, has_rows = false, has_rgs = false, has_version = false;
    if (tcr_enter(&r)) {
        int16_t last = 0;
        int t, id, et;
        while (tcr_field(&r, &last, &t, &id)) {
            switch (id) {
                case 1:
                    fm->version = tcr_i32(&r, t);
                    has_version = true;
                    break;
                case 2: {
                    size_t k = tcr_list(&r, t, &et);
                    fm->schema = arena_alloc(a, (k ? k : 1) * sizeof *fm->schema);
                    fm->n_schema = k;
                    for (size_t i = 0; i < k && !r.bad; i++)
                        parse_schema_el(&r, et, &fm->schema[i]);
                    has_schema = true;
                    break;
                }
                case 3:
                    fm->num_rows = tcr_i64(&r, t);
                    has_rows = true;
                    break;
                case 4: {
                    size_t k = tcr_list(&r, t, &et);
                    fm->rgs = arena_alloc(a, (k ? k : 1) * sizeof *fm->rgs);
                    fm->n_rgs = k;
                    for (size_t i = 0; i < k && !r.bad; i++)
                        parse_row_group(&r, et, a, &fm->rgs[i]);
                    has_rgs = true;
                    break;
                }
                case 5: {
                    size_t k = tcr_list(&r, t, &et);
                    fm->kv = arena_alloc(a, (k ? k : 1) * sizeof *fm->kv);
                    fm->n_kv = k;
                    for (size_t i = 0; i < k && !r.bad; i++) parse_kv(&r, et, &fm->kv[i]);
                    break;
                }
                case 6:
                    fm->created_by = tcr_bin(&r, t);
                    fm->has_created_by = true;
                    break;
                case 7: {
                    size_t k = tcr_list(&r, t, &et);
                    fm->col_orders = arena_alloc(a, (k ? k : 1) * sizeof *fm->col_orders);
                    fm->n_col_orders = k;
                    fm->has_col_orders = true;
                    for (size_t i = 0; i < k && !r.bad; i++)
                        fm->col_orders[i] = parse_col_order(&r, et);
                    break;
                }
                case 8:
                case 9:
                    fm->encrypted = true;
                    tcr_skip(&r, t);
                    break;
                default:
                    tcr_skip(&r, t);
            }
        }
        tcr_leave(&r);
    }
    if (!r.bad && !(has_schema && has_rows && has_rgs && has_version))
        tcr_fail(&r, "FileMetaData misses version, schema, num_rows or row_groups");
    if (r.bad) return corrupt(err, "FileMetaData", &r);
    return SILT_OK;
}

int pq__parse_page_header(const uint8_t *p, size_t n, pq_page_header *h, size_t *hdr_len,
                          silt_err *err) {
    tc_reader r;
    tcr_init(&r, p, n);
    memset(h, 0, sizeof *h);
    h->type = -1;
    h->is_compressed = true;
    unsigned seen = 0;
    if (tcr_enter(&r)) {
        int16_t last = 0;
        int t, id;
        while (tcr_field(&r, &last, &t, &id)) {
            switch (id) {
                case 1:
                    h->type = tcr_i32(&r, t);
                    seen |= 1;
                    break;
                case 2:
                    h->uncompressed_size = tcr_i32(&r, t);
                    seen |= 2;
                    break;
                case 3:
                    h->compressed_size = tcr_i32(&r, t);
                    seen |= 4;
                    break;
                case 4:
                    h->crc = (uint32_t)tcr_i32(&r, t);
                    h->has_crc = true;
                    break;
                case 5: {
                    if (!enter_struct(&r, t)) break;
                    h->has_data = true;
                    unsigned s2 = 0;
                    int16_t l2 = 0;
                    int t2, id2;
                    while (tcr_field(&r, &l2, &t2, &id2)) {
                        switch (id2) {
                            case 1:
                                h->num_values = tcr_i32(&r, t2), s2 |= 1;
                                break;
                            case 2:
                                h->encoding = tcr_i32(&r, t2), s2 |= 2;
                                break;
                            case 3:
                                h->def_encoding = tcr_i32(&r, t2), s2 |= 4;
                                break;
                            case 4:
                                h->rep_encoding = tcr_i32(&r, t2), s2 |= 8;
                                break;
                            case 5:
                                parse_stats(&r, t2, &h->stats);
                                break;
                            default:
                                tcr_skip(&r, t2);
                        }
                    }
                    if (s2 != 15) tcr_fail(&r, "DataPageHeader misses a required field");
                    tcr_leave(&r);
                    break;
                }
                case 7: {
                    if (!enter_struct(&r, t)) break;
                    h->has_dict = true;
                    unsigned s2 = 0;
                    int16_t l2 = 0;
                    int t2, id2;
                    while (tcr_field(&r, &l2, &t2, &id2)) {
                        switch (id2) {
                            case 1:
                                h->dict_num_values = tcr_i32(&r, t2), s2 |= 1;
                                break;
                            case 2:
                                h->dict_encoding = tcr_i32(&r, t2), s2 |= 2;
                                break;
                            case 3:
                                h->dict_sorted = tcr_bool(&r, t2);
                                break;
                            default:
                                tcr_skip(&r, t2);
                        }
                    }
                    if (s2 != 3) tcr_fail(&r, "DictionaryPageHeader misses a required field");
                    tcr_leave(&r);
                    break;
                }
                case 8: {
                    if (!enter_struct(&r, t)) break;
                    h->has_data_v2 = true;
                    unsigned s2 = 0;
                    int16_t l2 = 0;
                    int t2, id2;
                    while (tcr_field(&r, &l2, &t2, &id2)) {
                        switch (id2) {
                            case 1:
                                h->num_values = tcr_i32(&r, t2), s2 |= 1;
                                break;
                            case 2:
                                h->num_nulls = tcr_i32(&r, t2), s2 |= 2;
                                break;
                            case 3:
                                h->num_rows = tcr_i32(&r, t2), s2 |= 4;
                                break;
                            case 4:
                                h->encoding = tcr_i32(&r, t2), s2 |= 8;
                                break;
                            case 5:
                                h->def_len = tcr_i32(&r, t2), s2 |= 16;
                                break;
                            case 6:
                                h->rep_len = tcr_i32(&r, t2), s2 |= 32;
                                break;
                            case 7:
                                h->is_compressed = tcr_bool(&r, t2);
                                break;
                            case 8:
                                parse_stats(&r, t2, &h->stats);
                                break;
                            default:
                                tcr_skip(&r, t2);
                        }
                    }
                    if (s2 != 63) tcr_fail(&r, "DataPageHeaderV2 misses a required field");
                    tcr_leave(&r);
                    break;
                }
                default:
                    tcr_skip(&r, t);
            }
        }
        tcr_leave(&r);
    }
    if (!r.bad && seen != 7) tcr_fail(&r, "PageHeader misses type or sizes");
    if (!r.bad && (h->compressed_size < 0 || h->uncompressed_size < 0))
        tcr_fail(&r, "negative page size");
    if (r.bad) return corrupt(err, "PageHeader", &r);
    *hdr_len = (size_t)(r.p - p);
    return SILT_OK;
}

int pq__parse_column_index(const uint8_t *p, size_t n, arena *a, pq_column_index *ci,
                           silt_err *err) {
    tc_reader r;
    tcr_init(&r, p, n);
    memset(ci, 0, sizeof *ci);
    unsigned seen = 0;
    if (tcr_enter(&r)) {
        int16_t last = 0;
        int t, id, et;
        while (tcr_field(&r, &last, &t, &id)) {
            switch (id) {
                case 1: {
                    size_t k = tcr_list(&r, t, &et);
                    ci->null_pages = arena_alloc(a, k ? k : 1);
                    ci->n_pages = k;
                    for (size_t i = 0; i < k && !r.bad; i++)
                        ci->null_pages[i] = tcr_elem_bool(&r, et);
                    seen |= 1;
                    break;
                }
                case 2:
                case 3: {
                    size_t k = tcr_list(&r, t, &et);
                    str_view *v = arena_alloc(a, (k ? k : 1) * sizeof *v);
                    for (size_t i = 0; i < k && !r.bad; i++) v[i] = tcr_elem_bin(&r, et);
                    if (id == 2)
                        ci->min_values = v, ci->n_min = k, seen |= 2;
                    else
                        ci->max_values = v, ci->n_max = k, seen |= 4;
                    break;
                }
                case 4:
                    ci->boundary_order = tcr_i32(&r, t);
                    seen |= 8;
                    break;
                case 5: {
                    size_t k = tcr_list(&r, t, &et);
                    ci->null_counts = arena_alloc(a, (k ? k : 1) * sizeof *ci->null_counts);
                    ci->n_null_counts = k;
                    ci->has_null_counts = true;
                    for (size_t i = 0; i < k && !r.bad; i++)
                        ci->null_counts[i] = tcr_elem_i64(&r, et);
                    break;
                }
                default:
                    tcr_skip(&r, t);
            }
        }
        tcr_leave(&r);
    }
    if (!r.bad && seen != 15) tcr_fail(&r, "ColumnIndex misses a required field");
    if (!r.bad && (ci->n_min != ci->n_pages || ci->n_max != ci->n_pages ||
                   (ci->has_null_counts && ci->n_null_counts != ci->n_pages)))
        tcr_fail(&r, "ColumnIndex lists differ in length");
    if (r.bad) return corrupt(err, "ColumnIndex", &r);
    return SILT_OK;
}

int pq__parse_offset_index(const uint8_t *p, size_t n, arena *a, pq_offset_index *oi,
                           silt_err *err) {
    tc_reader r;
    tcr_init(&r, p, n);
    memset(oi, 0, sizeof *oi);
    bool has_locs = false;
    if (tcr_enter(&r)) {
        int16_t last = 0;
        int t, id, et;
        while (tcr_field(&r, &last, &t, &id)) {
            if (id != 1) {
                tcr_skip(&r, t);
                continue;
            }
            size_t k = tcr_list(&r, t, &et);
            oi->locs = arena_alloc(a, (k ? k : 1) * sizeof *oi->locs);
            oi->n_locs = k;
            has_locs = true;
            for (size_t i = 0; i < k && !r.bad; i++) {
                pq_page_location *L = &oi->locs[i];
                memset(L, 0, sizeof *L);
                if (!enter_struct(&r, et)) break;
                unsigned s2 = 0;
                int16_t l2 = 0;
                int t2, id2;
                while (tcr_field(&r, &l2, &t2, &id2)) {
                    switch (id2) {
                        case 1:
                            L->offset = tcr_i64(&r, t2), s2 |= 1;
                            break;
                        case 2:
                            L->compressed_page_size = tcr_i32(&r, t2), s2 |= 2;
                            break;
                        case 3:
                            L->first_row_index = tcr_i64(&r, t2), s2 |= 4;
                            break;
                        default:
                            tcr_skip(&r, t2);
                    }
                }
                if (s2 != 7) tcr_fail(&r, "PageLocation misses a required field");
                tcr_leave(&r);
            }
        }
        tcr_leave(&r);
    }
    if (!r.bad && !has_locs) tcr_fail(&r, "OffsetIndex without page_locations");
    if (r.bad) return corrupt(err, "OffsetIndex", &r);
    return SILT_OK;
}

/* ------------------------------------------------------------------ struct writers */

/* Statistics, fields in id order: 1 max, 2 min (deprecated, signed-order types only), 3
 * null_count, 5 max_value, 6 min_value, 7 is_max_value_exact, 8 is_min_value_exact,
 * 9 nan_count. */
void pq__write_stats(tc_writer *w, int field_id, const pq_stats_out *s) {
    tcw_struct(w, field_id);
    if (s->has_min_max && s->legacy) {
        tcw_bin(w, 1, s->max, s->max_len);
        tcw_bin(w, 2, s->min, s->min_len);
    }
    tcw_i64(w, 3, s->null_count);
    if (s->has_min_max) {
        tcw_bin(w, 5, s->max, s->max_len);
        tcw_bin(w, 6, s->min, s->min_len);
        tcw_bool(w, 7, s->max_exact);
        tcw_bool(w, 8, s->min_exact);
    }
    if (s->has_nan_count) tcw_i64(w, 9, s->nan_count);
    tcw_end(w);
}
