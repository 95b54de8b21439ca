/* SPDX-License-Identifier: MIT
 *
 * InfluxDB 1.x JSON results (see query_v1.h). Not chunked, everything goes straight into the
 * output. Chunked, one chunk object is held back in w->head / w->pend until the writer knows
 * whether more of its series or statement follows (the "partial" flags), then emitted as a
 * line of its own.
 */
#include "query_v1.h"

#include <math.h>
#include <string.h>

int query_v1_epoch_parse(const char *s, v1_epoch *out) {
    static const struct {
        const char *name;
        v1_epoch e;
    } names[] = {{"", V1_EPOCH_RFC3339}, {"ns", V1_EPOCH_NS}, {"n", V1_EPOCH_NS},
                 {"u", V1_EPOCH_US},     {"us", V1_EPOCH_US}, {"\xc2\xb5", V1_EPOCH_US},
                 {"ms", V1_EPOCH_MS},    {"s", V1_EPOCH_S},   {"m", V1_EPOCH_M},
                 {"h", V1_EPOCH_H}};
    if (!s) s = "";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s, names[i].name)) {
            *out = names[i].e;
            return SILT_OK;
        }
    return SILT_EINVAL;
}

size_t query_v1_format_time(char *out, int64_t t_ns) {
    size_t n = time_format_rfc3339(out, t_ns, false); /* "...:SS[.fff[fff[fff]]]" */
    /* Go's RFC3339Nano trims every trailing zero of the fraction (and the dot with them) */
    char *dot = memchr(out, '.', n);
    if (dot) {
        while (n > (size_t)(dot - out) + 1 && out[n - 1] == '0') n--;
        if (out[n - 1] == '.') n--;
    }
    out[n++] = 'Z';
    out[n] = 0;
    return n;
}

static const int64_t epoch_div[] = {
    [V1_EPOCH_RFC3339] = 1,
    [V1_EPOCH_NS] = 1,
    [V1_EPOCH_US] = 1000,
    [V1_EPOCH_MS] = 1000000,
    [V1_EPOCH_S] = 1000000000,
    [V1_EPOCH_M] = INT64_C(60000000000),
    [V1_EPOCH_H] = INT64_C(3600000000000),
};

void query_v1_init(v1_writer *w, buf *out, v1_epoch epoch, bool chunked, size_t chunk_rows) {
    *w = (v1_writer){.out = out,
                     .epoch = epoch,
                     .chunked = chunked,
                     .chunk_rows = chunk_rows ? chunk_rows : 10000};
}

void query_v1_init_table(v1_writer *w, v1_table *t) {
    *w = (v1_writer){.table = t};
}

void query_v1_fini(v1_writer *w) {
    buf_free(&w->head);
    buf_free(&w->pend);
}

static void put_json_str(buf *b, str_view s) {
    buf_putc(b, '"');
    buf_json_escape(b, s.p, s.n);
    buf_putc(b, '"');
}

void query_v1_error_body(buf *out, const char *msg) {
    buf_puts(out, "{\"error\":");
    put_json_str(out, (str_view){msg, strlen(msg)});
    buf_puts(out, "}\n");
}

void query_v1_begin(v1_writer *w) {
    w->any_stmt = false;
    if (w->table) return;
    if (!w->chunked) buf_puts(w->out, "{\"results\":[");
}

void query_v1_end(v1_writer *w) {
    if (!w->chunked && !w->table) buf_puts(w->out, "]}\n");
}

/* Non-chunked: the separator before a statement object. */
static void stmt_open(v1_writer *w, int id) {
    if (w->any_stmt) buf_putc(w->out, ',');
    w->any_stmt = true;
    buf_printf(w->out, "{\"statement_id\":%d", id);
}

void query_v1_stmt_error(v1_writer *w, int id, const char *msg) {
    if (w->table) return; /* the caller fails the request instead */
    if (w->chunked)
        buf_printf(w->out, "{\"results\":[{\"statement_id\":%d,\"error\":", id);
    else {
        stmt_open(w, id);
        buf_puts(w->out, ",\"error\":");
    }
    put_json_str(w->out, (str_view){msg, strlen(msg)});
    buf_puts(w->out, w->chunked ? "}]}\n" : "}");
}

void query_v1_stmt_begin(v1_writer *w, int id) {
    w->stmt_mark = w->table ? query__v1t_mark(w->table) : w->out->len;
    w->stmt_any = w->any_stmt;
    w->stmt_series = false;
    w->stmt_id = id;
    w->pend_open = false;
    if (!w->chunked && !w->table) stmt_open(w, id);
}

/* Chunked: emit the held-back chunk. series_more: its series goes on in a later chunk;
 * stmt_more: its statement does. */
static void flush_pending(v1_writer *w, bool series_more, bool stmt_more) {
    if (!w->pend_open) return;
    buf *o = w->out;
    buf_printf(o, "{\"results\":[{\"statement_id\":%d,\"series\":[", w->stmt_id);
    buf_append(o, w->pend.p, w->pend.len);
    buf_puts(o, "]");
    if (series_more) buf_puts(o, ",\"partial\":true");
    buf_puts(o, "}]");
    if (stmt_more) buf_puts(o, ",\"partial\":true");
    buf_puts(o, "}]}\n");
    w->pend_open = false;
    buf_reset(&w->pend);
}

void query_v1_stmt_end(v1_writer *w) {
    if (w->table) return;
    if (w->chunked) {
        if (w->pend_open)
            flush_pending(w, false, false);
        else if (!w->stmt_series)
            buf_printf(w->out, "{\"results\":[{\"statement_id\":%d}]}\n", w->stmt_id);
    } else {
        if (w->stmt_series) buf_putc(w->out, ']');
        buf_putc(w->out, '}');
    }
}

void query_v1_stmt_abort(v1_writer *w) {
    if (w->table) query__v1t_truncate(w->table, w->stmt_mark);
    if (!w->chunked && !w->table) {
        w->out->len = w->stmt_mark;
        w->any_stmt = w->stmt_any;
    }
    w->pend_open = false;
    buf_reset(&w->pend);
    w->stmt_series = false;
}

/* The series object up to and including `"values":[`. */
static void series_head(buf *b, str_view name, const str_view *tag_keys, const str_view *tag_values,
                        size_t n_tags, const str_view *cols, size_t n_cols) {
    buf_putc(b, '{');
    if (name.p) { /* SHOW SERIES and SHOW RETENTION POLICIES series have no name */
        buf_puts(b, "\"name\":");
        put_json_str(b, name);
        buf_putc(b, ',');
    }
    if (tag_keys) {
        buf_puts(b, "\"tags\":{");
        for (size_t i = 0; i < n_tags; i++) {
            if (i) buf_putc(b, ',');
            put_json_str(b, tag_keys[i]);
            buf_putc(b, ':');
            put_json_str(b, tag_values[i]);
        }
        buf_puts(b, "},");
    }
    buf_puts(b, "\"columns\":[");
    for (size_t i = 0; i < n_cols; i++) {
        if (i) buf_putc(b, ',');
        put_json_str(b, cols[i]);
    }
    buf_puts(b, "],\"values\":[");
}

void query_v1_series_src_kinds(v1_writer *w, const uint8_t *kinds, size_t n) {
    if (w->table) query__v1t_series_src_kinds(w->table, kinds, n);
}

void query_v1_series_begin(v1_writer *w, str_view name, const str_view *tag_keys,
                           const str_view *tag_values, size_t n_tags, const str_view *cols,
                           size_t n_cols) {
    w->series_rows = 0;
    if (w->table) {
        query__v1t_series(w->table, name, tag_keys, tag_values, n_tags, cols, n_cols);
    } else if (w->chunked) {
        flush_pending(w, false, true); /* the previous series is complete; more follows */
        buf_reset(&w->head);
        series_head(&w->head, name, tag_keys, tag_values, n_tags, cols, n_cols);
        /* the rows of this series start in a chunk of their own (opened by the first row) */
    } else {
        if (w->stmt_series)
            buf_putc(w->out, ',');
        else
            buf_puts(w->out, ",\"series\":["); /* the first series opens the array */
        series_head(w->out, name, tag_keys, tag_values, n_tags, cols, n_cols);
    }
    w->stmt_series = true;
}

static void put_value(v1_writer *w, buf *b, const query_vec *v, v1_type t, uint32_t i) {
    if (t == V1_NULL || (v->valid && !v->valid[i])) {
        buf_puts(b, "null");
        return;
    }
    switch (t) {
        case V1_BOOL:
            buf_puts(b, v->b && v->b[i] ? "true" : v->b ? "false" : "null");
            break;
        case V1_INT:
            if (v->i64)
                buf_put_i64(b, v->i64[i]);
            else
                buf_puts(b, "null");
            break;
        case V1_UINT:
            if (v->u64)
                buf_put_u64(b, v->u64[i]);
            else
                buf_puts(b, "null");
            break;
        case V1_FLOAT:
            if (v->f64 && isfinite(v->f64[i]))
                buf_put_double(b, v->f64[i]);
            else
                buf_puts(b, "null");
            break;
        case V1_STRING:
            if (v->str)
                put_json_str(b, v->str[i]);
            else
                buf_puts(b, "null");
            break;
        case V1_TIME: {
            if (!v->i64) {
                buf_puts(b, "null");
                break;
            }
            int64_t t_ns = v->i64[i];
            if (w->epoch == V1_EPOCH_RFC3339) {
                char tmp[64];
                size_t n = query_v1_format_time(tmp, t_ns);
                buf_putc(b, '"');
                buf_append(b, tmp, n);
                buf_putc(b, '"');
            } else {
                buf_put_i64(b, t_ns / epoch_div[w->epoch]);
            }
            break;
        }
        default:
            buf_puts(b, "null");
    }
}

void query_v1_row(v1_writer *w, const query_vec *const *vecs, const v1_type *types, size_t n,
                  uint32_t i) {
    if (w->table) {
        query__v1t_row(w->table, vecs, types, n, i);
        return;
    }
    buf *b = w->out;
    if (w->chunked) {
        if (w->pend_open && w->series_rows >= w->chunk_rows) {
            flush_pending(w, true, true); /* a full chunk: its series goes on */
            w->series_rows = 0;
        }
        if (!w->pend_open) {
            buf_reset(&w->pend);
            buf_append(&w->pend, w->head.p, w->head.len);
            w->pend_open = true;
        }
        b = &w->pend;
    }
    if (w->series_rows) buf_putc(b, ',');
    buf_putc(b, '[');
    for (size_t c = 0; c < n; c++) {
        if (c) buf_putc(b, ',');
        put_value(w, b, vecs[c], types[c], i);
    }
    buf_putc(b, ']');
    w->series_rows++;
}

void query_v1_series_end(v1_writer *w) {
    /* chunked: the last chunk stays held back; whether its statement goes on is known at
     * the next series or at the statement's end */
    if (!w->chunked && !w->table) buf_puts(w->out, "]}");
}
