/* SPDX-License-Identifier: MIT
 *
 * Output formats, as InfluxDB 3's /api/v3/query_sql writes them (arrow-json / arrow-csv):
 *   json   [{"col":v,...},...]   one object per row, keys in column order, NULLs omitted;
 *                                an empty result is []
 *   jsonl  {"col":v,...}\n       one object per line; an empty result is an empty body
 *   csv    header\nrow\n...      RFC 4180 quoting, \n line ends, NULL = empty field; an empty
 *                                result is the header line alone
 *   pretty +-----+-----+         arrow's pretty printer (comfy-table, as `influxdb3 query`
 *          | a   | b   |         prints it): every cell left-aligned and padded with one
 *          +-----+-----+         space to its column's width (in characters), a border
 *          | 1   | x   |         line above and below the header and below the last row;
 *          +-----+-----+         NULL is an empty cell, a cell with line breaks spans lines;
 *                                an empty result is the header between its borders; no
 *                                line break after the last border (InfluxDB 3 sends none).
 *                                The table is built when the result ends (widths need every
 *                                row)
 *   parquet                      a Parquet file written by src/parquet/ (zstd): one optional
 *                                column per result column (string, double, int64, uint64,
 *                                boolean, timestamp(ns)); an empty result is a file with the
 *                                schema and no rows
 *   arrow                        an Arrow IPC stream (a silt extension; InfluxDB 3 sends
 *                                Arrow over Flight only): a Schema message, RecordBatch
 *                                messages of 8,192 rows (or 2 MiB), the end-of-stream marker; types
 *                                and iox::column::type field metadata as InfluxDB 3's
 *                                Flight answers carry them (query_arrow.c); an empty result
 *                                is the schema alone
 * Values: timestamps as RFC 3339 without the trailing Z ("2016-01-01T00:00:00", fraction
 * trimmed to 0/3/6/9 digits), floats as the shortest round-trip decimal (NaN and infinities,
 * which line protocol cannot write, become null in JSON and NaN/inf/-inf in CSV), integers
 * exactly, booleans true/false, strings JSON-escaped or CSV-quoted.
 * max_result_bytes is checked after the header and after every row, so the output never
 * grows more than one row past the limit before the query fails with SILT_ELIMIT.
 */
#include "query_int.h"

#include "../parquet/parquet.h"

#include <math.h>
#include <stdlib.h>

int query_format_parse(const char *s, query_format *out) {
    if (!s || !*s || sv_ieq_cstr(sv_from(s), "json")) {
        *out = QUERY_FMT_JSON;
    } else if (sv_ieq_cstr(sv_from(s), "jsonl")) {
        *out = QUERY_FMT_JSONL;
    } else if (sv_ieq_cstr(sv_from(s), "csv")) {
        *out = QUERY_FMT_CSV;
    } else if (sv_ieq_cstr(sv_from(s), "pretty")) {
        *out = QUERY_FMT_PRETTY;
    } else if (sv_ieq_cstr(sv_from(s), "parquet")) {
        *out = QUERY_FMT_PARQUET;
    } else if (sv_ieq_cstr(sv_from(s), "arrow")) {
        *out = QUERY_FMT_ARROW;
    } else {
        return SILT_EINVAL;
    }
    return SILT_OK;
}

const char *query_format_content_type(query_format f) {
    switch (f) {
        case QUERY_FMT_JSON:
            return "application/json";
        case QUERY_FMT_JSONL:
            return "application/jsonl";
        case QUERY_FMT_CSV:
            return "text/csv";
        case QUERY_FMT_PRETTY:
            return "text/plain; charset=utf-8";
        case QUERY_FMT_PARQUET:
            return "application/vnd.apache.parquet";
        case QUERY_FMT_ARROW:
            return "application/vnd.apache.arrow.stream";
    }
    return "application/octet-stream";
}

void query__fmt_init(qfmt *f, query_format fmt, buf *out, size_t max_bytes, const qout_col *cols,
                     size_t n_cols, arena *a) {
    memset(f, 0, sizeof *f);
    f->fmt = fmt;
    f->out = out;
    f->start = out ? out->len : 0;
    f->max_bytes = max_bytes;
    f->cols = cols;
    f->n_cols = n_cols;
    f->a = a;
    if (fmt != QUERY_FMT_JSON && fmt != QUERY_FMT_JSONL) return;
    /* "name": for each column, escaped once */
    f->json_keys = arena_alloc(a, (n_cols ? n_cols : 1) * sizeof *f->json_keys);
    buf tmp = {0};
    for (size_t c = 0; c < n_cols; c++) {
        buf_reset(&tmp);
        buf_putc(&tmp, '"');
        buf_json_escape(&tmp, cols[c].name, strlen(cols[c].name));
        buf_append(&tmp, "\":", 2);
        f->json_keys[c] = (str_view){arena_strndup(a, (const char *)tmp.p, tmp.len), tmp.len};
    }
    buf_free(&tmp);
}

static int check_size(qfmt *f, silt_err *err) {
    if (f->max_bytes && f->out && f->out->len - f->start > f->max_bytes)
        return SILT_FAIL(err, SILT_ELIMIT,
                         "query result exceeds max_result_bytes (%zu bytes); add a LIMIT or a "
                         "narrower WHERE clause",
                         f->max_bytes);
    return SILT_OK;
}

static int pretty_begin(qfmt *f);
static int parquet_begin(qfmt *f, silt_err *err);
static int pretty_rows(qfmt *f, const query_vec *const *vecs, const uint32_t *sel, size_t n,
                       silt_err *err);
static int parquet_rows(qfmt *f, const query_vec *const *vecs, const uint32_t *sel, size_t n,
                        silt_err *err);
static int pretty_end(qfmt *f, silt_err *err);
static int parquet_end(qfmt *f, silt_err *err);

int query__fmt_begin(qfmt *f, silt_err *err) {
    buf *b = f->out;
    if (f->sink) return SILT_OK;
    switch (f->fmt) {
        case QUERY_FMT_PRETTY:
            return pretty_begin(f);
        case QUERY_FMT_PARQUET:
            return parquet_begin(f, err);
        case QUERY_FMT_ARROW:
            return query__arrow_begin(f, err);
        case QUERY_FMT_JSON:
            buf_putc(b, '[');
            break;
        case QUERY_FMT_JSONL:
            break;
        case QUERY_FMT_CSV:
            for (size_t c = 0; c < f->n_cols; c++) {
                if (c) buf_putc(b, ',');
                buf_csv_field(b, f->cols[c].name, strlen(f->cols[c].name));
            }
            buf_putc(b, '\n');
            break;
    }
    return check_size(f, err);
}

int query__fmt_end(qfmt *f, silt_err *err) {
    if (f->sink) return SILT_OK;
    if (f->fmt == QUERY_FMT_PRETTY) return pretty_end(f, err);
    if (f->fmt == QUERY_FMT_PARQUET) return parquet_end(f, err);
    if (f->fmt == QUERY_FMT_ARROW) return query__arrow_end(f, err);
    if (f->fmt == QUERY_FMT_JSON) buf_putc(f->out, ']');
    return check_size(f, err);
}

/* The value of row i, for JSON (json true) or CSV. */
static void put_value(buf *b, const query_vec *v, qtype t, uint32_t i, bool json) {
    switch (t) {
        case QT_BOOL:
            buf_puts(b, v->b[i] ? "true" : "false");
            break;
        case QT_INT:
            buf_put_i64(b, v->i64[i]);
            break;
        case QT_UINT:
            buf_put_u64(b, v->u64[i]);
            break;
        case QT_FLOAT: {
            double d = v->f64[i];
            if (isfinite(d))
                buf_put_double(b, d);
            else if (json)
                buf_puts(b, "null");
            else
                buf_puts(b, isnan(d) ? "NaN" : d > 0 ? "inf" : "-inf");
            break;
        }
        case QT_TIME: {
            char tmp[48];
            size_t n = time_format_rfc3339(tmp, v->i64[i], false);
            if (json) buf_putc(b, '"');
            buf_append(b, tmp, n);
            if (json) buf_putc(b, '"');
            break;
        }
        case QT_STRING: {
            str_view s = v->str[i];
            if (json) {
                buf_putc(b, '"');
                buf_json_escape(b, s.p, s.n);
                buf_putc(b, '"');
            } else {
                buf_csv_field(b, s.p, s.n);
            }
            break;
        }
        default:
            break;
    }
}

int query__fmt_rows(qfmt *f, const query_vec *const *vecs, const uint32_t *sel, size_t n,
                    silt_err *err) {
    if (f->sink) {
        int rc = f->sink(f->sink_arg, vecs, sel, n, err);
        if (rc < 0) return rc;
        f->n_rows += n;
        return SILT_OK;
    }
    if (f->fmt == QUERY_FMT_PRETTY) return pretty_rows(f, vecs, sel, n, err);
    if (f->fmt == QUERY_FMT_PARQUET) return parquet_rows(f, vecs, sel, n, err);
    if (f->fmt == QUERY_FMT_ARROW) return query__arrow_rows(f, vecs, sel, n, err);
    buf *b = f->out;
    for (size_t k = 0; k < n; k++) {
        uint32_t i = sel[k];
        if (f->fmt == QUERY_FMT_CSV) {
            for (size_t c = 0; c < f->n_cols; c++) {
                if (c) buf_putc(b, ',');
                qtype t = f->cols[c].type;
                if (query__present(vecs[c], t, i)) put_value(b, vecs[c], t, i, false);
            }
            buf_putc(b, '\n');
        } else {
            if (f->fmt == QUERY_FMT_JSON && f->n_rows) buf_putc(b, ',');
            buf_putc(b, '{');
            bool first = true;
            for (size_t c = 0; c < f->n_cols; c++) {
                qtype t = f->cols[c].type;
                if (!query__present(vecs[c], t, i)) continue; /* NULLs are left out (arrow-json) */
                if (!first) buf_putc(b, ',');
                first = false;
                buf_append(b, f->json_keys[c].p, f->json_keys[c].n);
                if (f->cols[c].json) /* a JSON object already (selector structs) */
                    buf_append(b, vecs[c]->str[i].p, vecs[c]->str[i].n);
                else
                    put_value(b, vecs[c], t, i, true);
            }
            buf_putc(b, '}');
            if (f->fmt == QUERY_FMT_JSONL) buf_putc(b, '\n');
        }
        f->n_rows++;
        int rc = check_size(f, err);
        if (rc < 0) return rc;
    }
    return SILT_OK;
}

/* ------------------------------------------------------------------ pretty */

typedef struct pretty {
    buf cells;   /* the text of every cell, header first, then row by row */
    size_t *off; /* cell k is cells[off[k], off[k + 1]) */
    size_t n_cells, cap;
} pretty;

static void pretty_cell_end(pretty *p) {
    if (p->n_cells + 2 > p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->off = xrealloc(p->off, p->cap * sizeof *p->off);
    }
    p->off[++p->n_cells] = p->cells.len;
}

static int pretty_begin(qfmt *f) {
    pretty *p = xcalloc(1, sizeof *p);
    f->state = p;
    p->cap = 64;
    p->off = xmalloc(p->cap * sizeof *p->off);
    p->off[0] = 0;
    for (size_t c = 0; c < f->n_cols; c++) {
        buf_puts(&p->cells, f->cols[c].name);
        pretty_cell_end(p);
    }
    return SILT_OK;
}

static int pretty_rows(qfmt *f, const query_vec *const *vecs, const uint32_t *sel, size_t n,
                       silt_err *err) {
    pretty *p = f->state;
    for (size_t k = 0; k < n; k++) {
        uint32_t i = sel[k];
        for (size_t c = 0; c < f->n_cols; c++) {
            qtype t = f->cols[c].type;
            if (query__present(vecs[c], t, i)) {
                if (t == QT_STRING) /* as it is: no quoting, JSON structs included */
                    buf_append(&p->cells, vecs[c]->str[i].p, vecs[c]->str[i].n);
                else
                    put_value(&p->cells, vecs[c], t, i, false);
            }
            pretty_cell_end(p);
        }
        f->n_rows++;
        /* the table is at least as large as its cells: fail early, before building it */
        if (f->max_bytes && p->cells.len > f->max_bytes)
            return SILT_FAIL(err, SILT_ELIMIT,
                             "query result exceeds max_result_bytes (%zu bytes); add a LIMIT or "
                             "a narrower WHERE clause",
                             f->max_bytes);
    }
    return SILT_OK;
}

/* Width of s in characters (UTF-8 code points), line by line: the widest line, and the
 * number of lines. */
static void text_extent(const char *s, size_t n, size_t *width, size_t *lines) {
    size_t w = 0, cur = 0;
    *lines = 1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            if (cur > w) w = cur;
            cur = 0;
            (*lines)++;
        } else if (((unsigned char)s[i] & 0xC0) != 0x80) {
            cur++;
        }
    }
    *width = cur > w ? cur : w;
}

static void pretty_border(buf *b, const size_t *w, size_t n_cols) {
    buf_putc(b, '+');
    for (size_t c = 0; c < n_cols; c++) {
        for (size_t k = 0; k < w[c] + 2; k++) buf_putc(b, '-');
        buf_putc(b, '+');
    }
    buf_putc(b, '\n');
}

/* One table row: cells [first, first + n_cols), each possibly several lines. */
static void pretty_row(buf *b, const pretty *p, size_t first, const size_t *w, size_t n_cols) {
    size_t lines = 1;
    for (size_t c = 0; c < n_cols; c++) {
        size_t cw, cl;
        text_extent((const char *)p->cells.p + p->off[first + c],
                    p->off[first + c + 1] - p->off[first + c], &cw, &cl);
        if (cl > lines) lines = cl;
    }
    for (size_t line = 0; line < lines; line++) {
        buf_putc(b, '|');
        for (size_t c = 0; c < n_cols; c++) {
            const char *s = (const char *)p->cells.p + p->off[first + c];
            const char *end = (const char *)p->cells.p + p->off[first + c + 1];
            for (size_t skip = line; skip > 0 && s < end; skip--) { /* to this line */
                const char *nl = memchr(s, '\n', (size_t)(end - s));
                s = nl ? nl + 1 : end;
            }
            const char *nl = s < end ? memchr(s, '\n', (size_t)(end - s)) : NULL;
            size_t len = s < end ? (size_t)((nl ? nl : end) - s) : 0;
            size_t cw, cl;
            text_extent(s, len, &cw, &cl);
            buf_putc(b, ' ');
            buf_append(b, s, len);
            for (size_t k = cw; k < w[c] + 1; k++) buf_putc(b, ' ');
            buf_putc(b, '|');
        }
        buf_putc(b, '\n');
    }
}

static int pretty_end(qfmt *f, silt_err *err) {
    pretty *p = f->state;
    size_t nc = f->n_cols;
    size_t *w = xcalloc(nc ? nc : 1, sizeof *w);
    for (size_t k = 0; k < p->n_cells && nc; k++) {
        size_t cw, cl;
        text_extent((const char *)p->cells.p + p->off[k], p->off[k + 1] - p->off[k], &cw, &cl);
        if (cw > w[k % nc]) w[k % nc] = cw;
    }
    buf *b = f->out;
    pretty_border(b, w, nc);
    if (nc) pretty_row(b, p, 0, w, nc);
    pretty_border(b, w, nc);
    for (size_t first = nc; nc && first < p->n_cells; first += nc) pretty_row(b, p, first, w, nc);
    pretty_border(b, w, nc); /* an empty result: the header between its borders */
    b->len--;                /* no line break after the last border, as InfluxDB 3 answers */
    free(w);
    query__fmt_fini(f);
    return check_size(f, err);
}

/* ------------------------------------------------------------------ parquet */

typedef struct pqout {
    pq_writer *w;
    uint64_t fed_bytes; /* value bytes handed to the writer: a bound on what it holds */
    pq_vec *vecs;       /* gather buffers, one per column, cap rows each */
    size_t cap;
} pqout;

static int pq_type_for(qtype t, pq_type *out) {
    switch (t) {
        case QT_BOOL:
            *out = PQ_BOOL;
            return SILT_OK;
        case QT_INT:
            *out = PQ_INT64;
            return SILT_OK;
        case QT_UINT:
            *out = PQ_UINT64;
            return SILT_OK;
        case QT_FLOAT:
            *out = PQ_DOUBLE;
            return SILT_OK;
        case QT_TIME:
            *out = PQ_TIMESTAMP_NS;
            return SILT_OK;
        case QT_STRING:
            *out = PQ_STRING;
            return SILT_OK;
        default:
            return SILT_EINVAL;
    }
}

static int parquet_begin(qfmt *f, silt_err *err) {
    pqout *o = xcalloc(1, sizeof *o);
    f->state = o;
    pq_column_def *defs = xcalloc(f->n_cols ? f->n_cols : 1, sizeof *defs);
    for (size_t c = 0; c < f->n_cols; c++) {
        defs[c] = (pq_column_def){.name = f->cols[c].name, .optional = true};
        if (pq_type_for(f->cols[c].type, &defs[c].type) < 0) {
            free(defs);
            return SILT_FAIL(err, SILT_EINVAL, "column '%.200s' cannot be written as Parquet",
                             f->cols[c].name);
        }
    }
    int rc = pq_writer_open(defs, f->n_cols, NULL, &o->w, err);
    free(defs);
    return rc;
}

static void pq_grow(pqout *o, size_t n_cols, size_t n) {
    if (n <= o->cap) return;
    for (size_t c = 0; c < n_cols && o->vecs; c++) {
        free((void *)o->vecs[c].i64);
        free((void *)o->vecs[c].str);
        free((void *)o->vecs[c].valid);
    }
    free(o->vecs);
    o->cap = n;
    o->vecs = xcalloc(n_cols ? n_cols : 1, sizeof *o->vecs);
    for (size_t c = 0; c < n_cols; c++) {
        /* one 8-byte array serves every fixed-width type; bools use its bytes */
        o->vecs[c].i64 = xmalloc(n * sizeof(int64_t));
        o->vecs[c].str = xmalloc(n * sizeof(str_view));
        o->vecs[c].valid = xmalloc(n);
    }
}

static int parquet_rows(qfmt *f, const query_vec *const *vecs, const uint32_t *sel, size_t n,
                        silt_err *err) {
    pqout *o = f->state;
    if (n == 0) return SILT_OK;
    pq_grow(o, f->n_cols, n);
    pq_vec *pv = xcalloc(f->n_cols ? f->n_cols : 1, sizeof *pv);
    for (size_t c = 0; c < f->n_cols; c++) {
        qtype t = f->cols[c].type;
        int64_t *i64 = (int64_t *)o->vecs[c].i64;
        str_view *str = (str_view *)o->vecs[c].str;
        uint8_t *valid = (uint8_t *)o->vecs[c].valid;
        bool any_null = false;
        for (size_t k = 0; k < n; k++) {
            uint32_t i = sel[k];
            bool ok = query__present(vecs[c], t, i);
            valid[k] = ok;
            any_null |= !ok;
            switch (t) {
                case QT_BOOL:
                    ((uint8_t *)i64)[k] = ok ? vecs[c]->b[i] : 0;
                    o->fed_bytes += 1;
                    break;
                case QT_INT:
                case QT_TIME:
                    i64[k] = ok ? vecs[c]->i64[i] : 0;
                    o->fed_bytes += 8;
                    break;
                case QT_UINT:
                    ((uint64_t *)i64)[k] = ok ? vecs[c]->u64[i] : 0;
                    o->fed_bytes += 8;
                    break;
                case QT_FLOAT:
                    ((double *)i64)[k] = ok ? vecs[c]->f64[i] : 0;
                    o->fed_bytes += 8;
                    break;
                default: /* QT_STRING */
                    str[k] = ok ? vecs[c]->str[i] : (str_view){"", 0};
                    o->fed_bytes += str[k].n + 4;
                    break;
            }
        }
        pv[c].valid = any_null ? valid : NULL;
        switch (t) {
            case QT_BOOL:
                pv[c].b = (const uint8_t *)i64;
                break;
            case QT_UINT:
                pv[c].u64 = (const uint64_t *)i64;
                break;
            case QT_FLOAT:
                pv[c].f64 = (const double *)i64;
                break;
            case QT_STRING:
                pv[c].str = str;
                break;
            default:
                pv[c].i64 = i64;
                break;
        }
    }
    int rc = pq_writer_write(o->w, pv, n, err);
    free(pv);
    if (rc < 0) return rc;
    f->n_rows += n;
    if (f->max_bytes && o->fed_bytes > f->max_bytes)
        return SILT_FAIL(err, SILT_ELIMIT,
                         "query result exceeds max_result_bytes (%zu bytes); add a LIMIT or a "
                         "narrower WHERE clause",
                         f->max_bytes);
    return SILT_OK;
}

static int parquet_end(qfmt *f, silt_err *err) {
    pqout *o = f->state;
    pq_writer *w = o->w;
    o->w = NULL; /* finish frees it, also on error */
    int rc = pq_writer_finish(w, f->out, err);
    query__fmt_fini(f);
    if (rc < 0) return rc;
    return check_size(f, err);
}

void query__fmt_fini(qfmt *f) {
    if (!f->state) return;
    if (f->fmt == QUERY_FMT_ARROW) {
        query__arrow_fini(f);
        return;
    }
    if (f->fmt == QUERY_FMT_PRETTY) {
        pretty *p = f->state;
        buf_free(&p->cells);
        free(p->off);
        free(p);
    } else if (f->fmt == QUERY_FMT_PARQUET) {
        pqout *o = f->state;
        if (o->w) pq_writer_abort(o->w);
        for (size_t c = 0; c < f->n_cols && o->vecs; c++) {
            free((void *)o->vecs[c].i64);
            free((void *)o->vecs[c].str);
            free((void *)o->vecs[c].valid);
        }
        free(o->vecs);
        free(o);
    }
    f->state = NULL;
}
