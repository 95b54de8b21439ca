/* SPDX-License-Identifier: MIT
 *
 * Output formats, as InfluxDB 3's /api/v3/query_sql writes them (arrow-json / arrow-csv):
 *   json   [{"col":v,...},...]   one object per row, keys in column order, NULLs omitted;
 *                                an empty result is []
 *   jsonl  {"col":v,...}\n       one object per line; an empty result is an empty body
 *   csv    header\nrow\n...      RFC 4180 quoting, \n line ends, NULL = empty field; an empty
 *                                result is the header line alone
 * Values: timestamps as RFC 3339 without the trailing Z ("2016-01-01T00:00:00", fraction
 * trimmed to 0/3/6/9 digits), floats as the shortest round-trip decimal (NaN and infinities,
 * which line protocol cannot write, become null in JSON and NaN/inf/-inf in CSV), integers
 * exactly, booleans true/false, strings JSON-escaped or CSV-quoted.
 * max_result_bytes is checked after the header and after every row, so the output never
 * grows more than one row past the limit before the query fails with SILT_ELIMIT.
 */
#include "query_int.h"

#include <math.h>

int query_format_parse(const char *s, query_format *out) {
    if (!s || !*s || sv_ieq_cstr(sv_from(s), "json")) {
        *out = QUERY_FMT_JSON;
    } else if (sv_ieq_cstr(sv_from(s), "jsonl")) {
        *out = QUERY_FMT_JSONL;
    } else if (sv_ieq_cstr(sv_from(s), "csv")) {
        *out = QUERY_FMT_CSV;
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
    if (fmt == QUERY_FMT_CSV) return;
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

int query__fmt_begin(qfmt *f, silt_err *err) {
    buf *b = f->out;
    if (f->sink) return SILT_OK;
    switch (f->fmt) {
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
    if (f->fmt == QUERY_FMT_JSON) buf_putc(f->out, ']');
    return check_size(f, err);
}

/* Is row i of v (a column of type t) non-NULL? */
static inline bool present(const query_vec *v, qtype t, uint32_t i) {
    if (v->valid && !v->valid[i]) return false;
    switch (t) {
        case QT_BOOL:
            return v->b != NULL;
        case QT_INT:
        case QT_TIME:
            return v->i64 != NULL;
        case QT_UINT:
            return v->u64 != NULL;
        case QT_FLOAT:
            return v->f64 != NULL;
        case QT_STRING:
            return v->str != NULL;
        default:
            return false;
    }
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
    buf *b = f->out;
    for (size_t k = 0; k < n; k++) {
        uint32_t i = sel[k];
        if (f->fmt == QUERY_FMT_CSV) {
            for (size_t c = 0; c < f->n_cols; c++) {
                if (c) buf_putc(b, ',');
                qtype t = f->cols[c].type;
                if (present(vecs[c], t, i)) put_value(b, vecs[c], t, i, false);
            }
            buf_putc(b, '\n');
        } else {
            if (f->fmt == QUERY_FMT_JSON && f->n_rows) buf_putc(b, ',');
            buf_putc(b, '{');
            bool first = true;
            for (size_t c = 0; c < f->n_cols; c++) {
                qtype t = f->cols[c].type;
                if (!present(vecs[c], t, i)) continue; /* NULLs are left out (arrow-json) */
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
