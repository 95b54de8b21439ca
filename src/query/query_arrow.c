/* SPDX-License-Identifier: MIT
 *
 * QUERY_FMT_ARROW: results as an Arrow IPC stream (Arrow columnar format, "IPC Streaming
 * Format"), the bytes an Arrow Flight endpoint splits into FlightData messages and that
 * apache-arrow's RecordBatchReader reads. A silt extension: InfluxDB 3 answers query_sql only
 * in JSON, JSONL, CSV, pretty and Parquet, and speaks Arrow over Flight.
 *
 * Stream: a sequence of encapsulated messages, then the end-of-stream marker.
 *   message   u32 0xFFFFFFFF (continuation), i32 metadata length M (little-endian),
 *             M bytes: a FlatBuffers `Message` (src/util/fb.h) and zero padding,
 *             then the body: bodyLength bytes, each buffer zero-padded to 8 bytes
 *   EOS       u32 0xFFFFFFFF, u32 0
 * Messages: one Schema, then one RecordBatch per QUERY_ARROW_BATCH_ROWS (8,192) rows, or
 * fewer when their values reach QUERY_ARROW_BATCH_BYTES (2 MiB; the last may be shorter; an
 * empty result has none), each with version V5 and no compression.
 * Schema: little-endian; one nullable field per output column, named after it, no children:
 *   QT_FLOAT  FloatingPoint(DOUBLE)        buffers: validity, values (8 bytes each)
 *   QT_INT    Int(64, signed)              validity, values
 *   QT_UINT   Int(64, unsigned)            validity, values
 *   QT_BOOL   Bool                         validity, values (one bit per row, LSB first)
 *   QT_STRING Utf8                         validity, offsets (i32, n + 1), bytes
 *   QT_TIME   Timestamp(NANOSECOND)        validity, values (no time zone, as InfluxDB 3)
 * (selector structs, qout_col.json, are Utf8 JSON text). A column that passes on a stored
 * column (qout_col.src_kind) carries the field metadata InfluxDB 3 sets,
 * iox::column::type = iox::column_type::tag | timestamp | field::float | integer |
 * uinteger | string | boolean.
 * Invariants:
 *   (1) Every message starts at a multiple of 8 bytes from the start of the stream: the
 *       8-byte prefix, M a multiple of 8 and a body of 8-byte-padded buffers keep it so.
 *       Buffer offsets in a RecordBatch are relative to its body's start.
 *   (2) A validity buffer is empty (length 0) when the batch has no NULL in that column,
 *       which the format allows; otherwise bit i is row i, 1 = not NULL. Values of NULL
 *       rows are zero (empty strings).
 *   (3) String offsets are int32: a batch is cut before its string bytes in one column
 *       would pass INT32_MAX; a single longer value fails the query (SILT_ELIMIT).
 *   (4) Output plus the bytes gathered for the pending batch never exceed max_result_bytes
 *       by more than one row: the check runs after every row, as the text formats do.
 */
#include "query_int.h"

#include "../util/fb.h"

#include <stdlib.h>

/* Message.fbs / Schema.fbs: union tags and enum values used here */
enum {
    ARROW_V5 = 4,         /* MetadataVersion */
    ARROW_HDR_SCHEMA = 1, /* MessageHeader */
    ARROW_HDR_RECORDBATCH = 3,
    ARROW_TYPE_INT = 2, /* Type */
    ARROW_TYPE_FLOAT = 3,
    ARROW_TYPE_UTF8 = 5,
    ARROW_TYPE_BOOL = 6,
    ARROW_TYPE_TIMESTAMP = 10,
    ARROW_PRECISION_DOUBLE = 2,
    ARROW_UNIT_NANOSECOND = 3,
};

/* One column of the batch being gathered. */
typedef struct acol {
    buf valid;   /* bitmap: bit k = row k is not NULL */
    buf data;    /* 8 bytes per row; bool: a bitmap; string: the bytes */
    buf offsets; /* strings: int32, n_rows + 1 */
    int64_t n_null;
} acol;

typedef struct arrowout {
    fb_builder fb;
    acol *cols;
    size_t n_rows;       /* in the pending batch */
    uint64_t held_bytes; /* gathered for the pending batch (invariant 4) */
    bool any_string;
} arrowout;

static int too_large(qfmt *f, silt_err *err) {
    return SILT_FAIL(err, SILT_ELIMIT,
                     "query result exceeds max_result_bytes (%zu bytes); add a LIMIT or a "
                     "narrower WHERE clause",
                     f->max_bytes);
}

static bool over_limit(const qfmt *f, const arrowout *o) {
    return f->max_bytes && (f->out->len - f->start) + o->held_bytes > f->max_bytes;
}

/* ------------------------------------------------------------------ messages */

/* Append the encapsulated message whose metadata fb holds (finished with root msg), then
 * nothing: the caller appends the body. */
static void put_message(buf *out, fb_builder *fb, fb_ref msg) {
    size_t n;
    const uint8_t *p = fb_finish(fb, msg, &n);
    size_t m = (n + 7) & ~(size_t)7;
    uint8_t pre[8];
    le_put32(pre, 0xFFFFFFFFu);
    le_put32(pre + 4, (uint32_t)m);
    buf_append(out, pre, 8);
    buf_append(out, p, n);
    static const uint8_t zeros[8];
    buf_append(out, zeros, m - n);
}

static fb_ref message_table(fb_builder *fb, uint8_t hdr_type, fb_ref hdr, int64_t body_len) {
    fb_table_start(fb);
    fb_add_i64(fb, 3, body_len); /* bodyLength */
    fb_add_ref(fb, 2, hdr);      /* header */
    fb_add_i16(fb, 0, ARROW_V5); /* version */
    fb_add_u8(fb, 1, hdr_type);  /* header_type */
    return fb_table_end(fb);
}

static const char *iox_column_type(const qout_col *c) {
    switch (c->src_kind) {
        case QCOL_TAG:
            return c->type == QT_STRING ? "iox::column_type::tag" : NULL;
        case QCOL_TIME:
            return c->type == QT_TIME ? "iox::column_type::timestamp" : NULL;
        case QCOL_FIELD:
            switch (c->type) {
                case QT_FLOAT:
                    return "iox::column_type::field::float";
                case QT_INT:
                    return "iox::column_type::field::integer";
                case QT_UINT:
                    return "iox::column_type::field::uinteger";
                case QT_STRING:
                    return c->json ? NULL : "iox::column_type::field::string";
                case QT_BOOL:
                    return "iox::column_type::field::boolean";
                default:
                    return NULL;
            }
        default:
            return NULL;
    }
}

/* The Type table of column type t and its union tag. */
static fb_ref type_table(fb_builder *fb, qtype t, uint8_t *tag) {
    fb_table_start(fb);
    switch (t) {
        case QT_FLOAT:
            *tag = ARROW_TYPE_FLOAT;
            fb_add_i16(fb, 0, ARROW_PRECISION_DOUBLE); /* precision */
            break;
        case QT_INT:
        case QT_UINT:
            *tag = ARROW_TYPE_INT;
            fb_add_i32(fb, 0, 64);                 /* bitWidth */
            fb_add_u8(fb, 1, t == QT_INT ? 1 : 0); /* is_signed */
            break;
        case QT_BOOL:
            *tag = ARROW_TYPE_BOOL;
            break;
        case QT_TIME:
            *tag = ARROW_TYPE_TIMESTAMP;
            fb_add_i16(fb, 0, ARROW_UNIT_NANOSECOND); /* unit; no timezone */
            break;
        default: /* QT_STRING */
            *tag = ARROW_TYPE_UTF8;
            break;
    }
    return fb_table_end(fb);
}

static void put_schema(qfmt *f, arrowout *o) {
    fb_builder *fb = &o->fb;
    fb_reset(fb);
    fb_ref *fields = xmalloc((f->n_cols ? f->n_cols : 1) * sizeof *fields);
    for (size_t c = 0; c < f->n_cols; c++) {
        const qout_col *col = &f->cols[c];
        fb_ref name = fb_string(fb, col->name, strlen(col->name));
        uint8_t tag;
        fb_ref type = type_table(fb, col->type, &tag);
        fb_ref children = fb_vec_refs(fb, NULL, 0); /* readers want the vector, even empty */
        fb_ref md = 0;
        const char *ict = iox_column_type(col);
        if (ict) {
            static const char key[] = "iox::column::type";
            fb_ref k = fb_string(fb, key, sizeof key - 1);
            fb_ref v = fb_string(fb, ict, strlen(ict));
            fb_table_start(fb); /* KeyValue */
            fb_add_ref(fb, 0, k);
            fb_add_ref(fb, 1, v);
            fb_ref kv = fb_table_end(fb);
            md = fb_vec_refs(fb, &kv, 1);
        }
        fb_table_start(fb); /* Field */
        fb_add_ref(fb, 0, name);
        fb_add_ref(fb, 3, type);
        fb_add_ref(fb, 5, children);
        if (md) fb_add_ref(fb, 6, md); /* custom_metadata */
        fb_add_u8(fb, 1, 1);           /* nullable */
        fb_add_u8(fb, 2, tag);         /* type_type */
        fields[c] = fb_table_end(fb);
    }
    fb_ref vec = fb_vec_refs(fb, fields, f->n_cols);
    free(fields);
    fb_table_start(fb); /* Schema */
    fb_add_ref(fb, 1, vec);
    fb_add_i16(fb, 0, 0); /* endianness: Little */
    fb_ref schema = fb_table_end(fb);
    put_message(f->out, fb, message_table(fb, ARROW_HDR_SCHEMA, schema, 0));
}

static size_t pad8(size_t n) {
    return (n + 7) & ~(size_t)7;
}

/* The pending rows as one RecordBatch message; the gather buffers are then reset. */
static void put_batch(qfmt *f, arrowout *o) {
    size_t n = o->n_rows, nc = f->n_cols;
    size_t bm = (n + 7) / 8;
    /* buffers: per column validity, then values (strings: offsets, bytes) */
    size_t n_bufs = 0;
    for (size_t c = 0; c < nc; c++) n_bufs += f->cols[c].type == QT_STRING ? 3 : 2;
    uint8_t *nodes = xmalloc((nc ? nc : 1) * 16);
    uint8_t *bufs = xmalloc((n_bufs ? n_bufs : 1) * 16);
    const void **src = xmalloc((n_bufs ? n_bufs : 1) * sizeof *src);
    size_t *len = xmalloc((n_bufs ? n_bufs : 1) * sizeof *len);
    size_t nb = 0, off = 0;
    for (size_t c = 0; c < nc; c++) {
        acol *ac = &o->cols[c];
        le_put64(nodes + 16 * c, (uint64_t)n);
        le_put64(nodes + 16 * c + 8, (uint64_t)ac->n_null);
        src[nb] = ac->valid.p;
        len[nb++] = ac->n_null ? bm : 0; /* invariant (2) */
        if (f->cols[c].type == QT_STRING) {
            src[nb] = ac->offsets.p;
            len[nb++] = ac->offsets.len;
        }
        src[nb] = ac->data.p;
        len[nb++] = f->cols[c].type == QT_BOOL ? bm : ac->data.len;
    }
    for (size_t k = 0; k < nb; k++) {
        le_put64(bufs + 16 * k, (uint64_t)off);
        le_put64(bufs + 16 * k + 8, (uint64_t)len[k]);
        off += pad8(len[k]);
    }
    fb_builder *fb = &o->fb;
    fb_reset(fb);
    fb_ref vn = fb_vec_structs(fb, nodes, nc, 16, 8);
    fb_ref vb = fb_vec_structs(fb, bufs, nb, 16, 8);
    fb_table_start(fb);            /* RecordBatch */
    fb_add_i64(fb, 0, (int64_t)n); /* length */
    fb_add_ref(fb, 1, vn);         /* nodes */
    fb_add_ref(fb, 2, vb);         /* buffers */
    fb_ref rb = fb_table_end(fb);
    buf *out = f->out;
    put_message(out, fb, message_table(fb, ARROW_HDR_RECORDBATCH, rb, (int64_t)off));
    buf_reserve(out, off);
    for (size_t k = 0; k < nb; k++) {
        if (len[k]) memcpy(out->p + out->len, src[k], len[k]);
        memset(out->p + out->len + len[k], 0, pad8(len[k]) - len[k]);
        out->len += pad8(len[k]);
    }
    free(nodes);
    free(bufs);
    free(src);
    free(len);
    for (size_t c = 0; c < nc; c++) {
        acol *ac = &o->cols[c];
        buf_reset(&ac->valid);
        buf_reset(&ac->data);
        buf_reset(&ac->offsets);
        ac->n_null = 0;
        if (f->cols[c].type == QT_STRING) buf_append(&ac->offsets, "\0\0\0\0", 4);
    }
    o->n_rows = 0;
    o->held_bytes = 0;
}

/* ------------------------------------------------------------------ the qfmt hooks */

int query__arrow_begin(qfmt *f, silt_err *err) {
    arrowout *o = xcalloc(1, sizeof *o);
    f->state = o;
    fb_init(&o->fb);
    o->cols = xcalloc(f->n_cols ? f->n_cols : 1, sizeof *o->cols);
    for (size_t c = 0; c < f->n_cols; c++) {
        switch (f->cols[c].type) {
            case QT_FLOAT:
            case QT_INT:
            case QT_UINT:
            case QT_BOOL:
            case QT_TIME:
                break;
            case QT_STRING:
                o->any_string = true;
                buf_append(&o->cols[c].offsets, "\0\0\0\0", 4);
                break;
            default:
                return SILT_FAIL(err, SILT_EINVAL, "column '%.200s' cannot be written as Arrow",
                                 f->cols[c].name);
        }
    }
    put_schema(f, o);
    return over_limit(f, o) ? too_large(f, err) : SILT_OK;
}

/* Set bit k of bitmap bm (a new byte every 8 bits). */
static inline void bit_push(buf *bm, size_t k, bool on) {
    if ((k & 7) == 0) buf_putc(bm, 0);
    if (on) bm->p[k >> 3] |= (uint8_t)(1u << (k & 7));
}

static inline void put8(buf *b, uint64_t v) {
    buf_reserve(b, 8);
    le_put64(b->p + b->len, v);
    b->len += 8;
}

/* Make room for row i in the pending batch: cut the batch first if a string column would
 * pass INT32_MAX bytes (invariant 3). */
static int fit_strings(qfmt *f, arrowout *o, const query_vec *const *vecs, uint32_t i,
                       silt_err *err) {
    for (int pass = 0; pass < 2; pass++) {
        bool fits = true;
        for (size_t c = 0; c < f->n_cols && fits; c++) {
            if (f->cols[c].type != QT_STRING || !query__present(vecs[c], QT_STRING, i)) continue;
            fits = (uint64_t)o->cols[c].data.len + vecs[c]->str[i].n <= INT32_MAX;
        }
        if (fits) return SILT_OK;
        if (pass == 0 && o->n_rows) {
            put_batch(f, o);
            if (over_limit(f, o)) return too_large(f, err);
        }
    }
    return SILT_FAIL(err, SILT_ELIMIT,
                     "a string value of more than %d bytes cannot be written "
                     "as Arrow",
                     INT32_MAX);
}

int query__arrow_rows(qfmt *f, const query_vec *const *vecs, const uint32_t *sel, size_t n,
                      silt_err *err) {
    arrowout *o = f->state;
    for (size_t r = 0; r < n; r++) {
        uint32_t i = sel[r];
        if (o->any_string) {
            int rc = fit_strings(f, o, vecs, i, err);
            if (rc < 0) return rc;
        }
        size_t k = o->n_rows;
        for (size_t c = 0; c < f->n_cols; c++) {
            acol *ac = &o->cols[c];
            const query_vec *v = vecs[c];
            qtype t = f->cols[c].type;
            bool ok = query__present(v, t, i);
            bit_push(&ac->valid, k, ok);
            ac->n_null += !ok;
            switch (t) {
                case QT_BOOL:
                    bit_push(&ac->data, k, ok && v->b[i]);
                    o->held_bytes += 1;
                    break;
                case QT_INT:
                case QT_TIME:
                    put8(&ac->data, ok ? (uint64_t)v->i64[i] : 0);
                    o->held_bytes += 8;
                    break;
                case QT_UINT:
                    put8(&ac->data, ok ? v->u64[i] : 0);
                    o->held_bytes += 8;
                    break;
                case QT_FLOAT: {
                    uint64_t bits = 0;
                    if (ok) memcpy(&bits, &v->f64[i], 8);
                    put8(&ac->data, bits);
                    o->held_bytes += 8;
                    break;
                }
                default: { /* QT_STRING */
                    str_view s = ok ? v->str[i] : (str_view){"", 0};
                    if (s.n) buf_append(&ac->data, s.p, s.n);
                    uint8_t tmp[4];
                    le_put32(tmp, (uint32_t)ac->data.len);
                    buf_append(&ac->offsets, tmp, 4);
                    o->held_bytes += s.n + 4;
                    break;
                }
            }
        }
        o->n_rows++;
        f->n_rows++;
        if (o->n_rows == QUERY_ARROW_BATCH_ROWS || o->held_bytes >= QUERY_ARROW_BATCH_BYTES)
            put_batch(f, o);
        if (over_limit(f, o)) return too_large(f, err); /* invariant (4) */
    }
    return SILT_OK;
}

int query__arrow_end(qfmt *f, silt_err *err) {
    arrowout *o = f->state;
    if (o->n_rows) put_batch(f, o);
    uint8_t eos[8];
    le_put32(eos, 0xFFFFFFFFu);
    le_put32(eos + 4, 0);
    buf_append(f->out, eos, 8);
    query__arrow_fini(f);
    if (f->max_bytes && f->out->len - f->start > f->max_bytes) return too_large(f, err);
    return SILT_OK;
}

void query__arrow_fini(qfmt *f) {
    arrowout *o = f->state;
    if (!o) return;
    for (size_t c = 0; c < f->n_cols; c++) {
        buf_free(&o->cols[c].valid);
        buf_free(&o->cols[c].data);
        buf_free(&o->cols[c].offsets);
    }
    free(o->cols);
    fb_fini(&o->fb);
    free(o);
    f->state = NULL;
}
