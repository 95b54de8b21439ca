/* SPDX-License-Identifier: MIT
 *
 * pq_describe: the human description of a Parquet file that `silt inspect` prints — file
 * summary, schema (physical, logical and converted types, repetition, silt type), row groups
 * (rows, sizes), every column chunk (codec, encodings, sizes, page counts, statistics, page
 * index) and the key/value metadata. Built on the validated reader, so it never trusts an
 * offset the reader has not checked.
 */
#include "pq_int.h"

#include <stdio.h>

static const char *silt_type_name(pq_type t) {
    switch (t) {
        case PQ_STRING:
            return "string";
        case PQ_DOUBLE:
            return "float64";
        case PQ_INT64:
            return "int64";
        case PQ_UINT64:
            return "uint64";
        case PQ_BOOL:
            return "bool";
        case PQ_TIMESTAMP_NS:
            return "time";
    }
    return "-";
}

static void put_text(buf *b, const char *p, size_t n, size_t max) {
    buf_putc(b, '"');
    size_t k = n < max ? n : max;
    for (size_t i = 0; i < k; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '"' || ch == '\\')
            buf_printf(b, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            buf_printf(b, "\\x%02x", ch);
        else
            buf_putc(b, (char)ch);
    }
    buf_putc(b, '"');
    if (n > max) buf_printf(b, "...(%zu bytes)", n);
}

static void put_logical(buf *b, const pq_schema_el *e) {
    const pq_logical *l = &e->logical;
    static const char *units[] = {"?", "MILLIS", "MICROS", "NANOS"};
    switch (l->kind) {
        case PQL_NONE:
            break;
        case PQL_STRING:
            buf_puts(b, " STRING");
            break;
        case PQL_ENUM:
            buf_puts(b, " ENUM");
            break;
        case PQL_JSON:
            buf_puts(b, " JSON");
            break;
        case PQL_BSON:
            buf_puts(b, " BSON");
            break;
        case PQL_UUID:
            buf_puts(b, " UUID");
            break;
        case PQL_DATE:
            buf_puts(b, " DATE");
            break;
        case PQL_FLOAT16:
            buf_puts(b, " FLOAT16");
            break;
        case PQL_UNKNOWN:
            buf_puts(b, " UNKNOWN");
            break;
        case PQL_DECIMAL:
            buf_printf(b, " DECIMAL(%d,%d)", l->precision, l->scale);
            break;
        case PQL_INTEGER:
            buf_printf(b, " INTEGER(%d,%s)", l->bit_width, l->is_signed ? "signed" : "unsigned");
            break;
        case PQL_TIMESTAMP:
        case PQL_TIME:
            buf_printf(b, " %s(%s,utc=%s)", l->kind == PQL_TIME ? "TIME" : "TIMESTAMP",
                       units[l->unit >= 0 && l->unit <= 3 ? l->unit : 0],
                       l->utc ? "true" : "false");
            break;
        default:
            buf_printf(b, " logical#%d", l->kind);
            break;
    }
    if (e->converted >= 0) buf_printf(b, " (converted %s)", pq__converted_name(e->converted));
}

static void put_value(buf *b, const pq_leaf *lf, const pq_stat *s, bool max) {
    switch (lf->info.type) {
        case PQ_STRING: {
            str_view v = max ? s->max_str : s->min_str;
            put_text(b, v.p, v.n, 64);
            return;
        }
        case PQ_DOUBLE:
            buf_printf(b, "%.17g", max ? s->max.f64 : s->min.f64);
            return;
        case PQ_UINT64:
            buf_printf(b, "%llu", (unsigned long long)(max ? s->max.u64 : s->min.u64));
            return;
        case PQ_BOOL:
            buf_puts(b, (max ? s->max.b : s->min.b) ? "true" : "false");
            return;
        case PQ_TIMESTAMP_NS: {
            char t[48];
            int64_t v = max ? s->max.i64 : s->min.i64;
            size_t n = time_format_rfc3339(t, v, true);
            t[n] = 0;
            buf_printf(b, "%s", t);
            return;
        }
        case PQ_INT64:
            buf_printf(b, "%lld", (long long)(max ? s->max.i64 : s->min.i64));
            return;
    }
    buf_puts(b, "?");
}

static void put_stat(buf *b, const pq_leaf *lf, const pq_stat *s) {
    if (s->has_min_max) {
        buf_puts(b, "min ");
        put_value(b, lf, s, false);
        buf_puts(b, ", max ");
        put_value(b, lf, s, true);
    } else {
        buf_puts(b, "no min/max");
    }
    if (s->has_null_count) buf_printf(b, ", nulls %llu", (unsigned long long)s->null_count);
}

/* Count pages by walking headers (without decoding). */
static void count_pages(const pq_reader *r, const pq_chunk_meta *m, size_t *n_data, bool *has_dict,
                        bool *ok) {
    *n_data = 0;
    *has_dict = false;
    *ok = true;
    uint64_t off = m->start;
    while (off < m->end) {
        pq_page_header h;
        size_t hl;
        if (pq__parse_page_header(r->data + off, (size_t)(m->end - off), &h, &hl, NULL) ||
            (uint64_t)h.compressed_size > m->end - off - hl) {
            *ok = false;
            return;
        }
        if (h.type == PQP_DICTIONARY_PAGE)
            *has_dict = true;
        else if (h.type == PQP_DATA_PAGE || h.type == PQP_DATA_PAGE_V2)
            (*n_data)++;
        off += hl + (uint64_t)h.compressed_size;
    }
}

int pq_describe(const uint8_t *data, size_t len, buf *out, silt_err *err) {
    pq_reader *r;
    int rc = pq_reader_open(data, len, &r, err);
    if (rc) return rc;
    const pq_file_meta *fm = &r->fm;
    buf_printf(out, "parquet file: %zu bytes, format version %d, footer %zu bytes\n", len,
               fm->version, len - 8 - r->footer_start);
    buf_puts(out, "created by: ");
    if (fm->has_created_by)
        put_text(out, fm->created_by.p, fm->created_by.n, 200);
    else
        buf_puts(out, "(not set)");
    buf_printf(out, "\nrows: %lld in %zu row group%s\n", (long long)fm->num_rows, fm->n_rgs,
               fm->n_rgs == 1 ? "" : "s");
    buf_printf(out, "schema: %zu column%s\n", r->n_leaves, r->n_leaves == 1 ? "" : "s");
    for (size_t i = 0; i < r->n_leaves; i++) {
        const pq_leaf *lf = &r->leaves[i];
        buf_printf(out, "  %zu ", i);
        put_text(out, lf->info.name, strlen(lf->info.name), 100);
        buf_printf(out, ": %s", pq__type_name(lf->phys));
        if (lf->phys == PQT_FIXED_LEN_BYTE_ARRAY) buf_printf(out, "(%d)", lf->type_length);
        put_logical(out, lf->el);
        buf_printf(out, " %s -> %s%s\n", lf->info.optional ? "OPTIONAL" : "REQUIRED",
                   silt_type_name(lf->info.type),
                   lf->col_order == 1   ? ""
                   : lf->col_order == 2 ? " [IEEE754 order]"
                                        : " [no column order: min_value/max_value ignored]");
    }
    for (size_t g = 0; g < fm->n_rgs; g++) {
        const pq_rg_meta *rg = &fm->rgs[g];
        buf_printf(out, "row group %zu: %lld rows, %lld bytes uncompressed", g,
                   (long long)rg->num_rows, (long long)rg->total_byte_size);
        if (rg->has_total_compressed)
            buf_printf(out, ", %lld compressed", (long long)rg->total_compressed_size);
        buf_putc(out, '\n');
        for (size_t c = 0; c < r->n_leaves; c++) {
            const pq_chunk_meta *m = &rg->cols[c];
            const pq_leaf *lf = &r->leaves[c];
            buf_puts(out, "  ");
            put_text(out, lf->info.name, strlen(lf->info.name), 100);
            buf_printf(out, ": %s, encodings [", pq__codec_name(m->codec));
            for (size_t e = 0; e < m->n_encodings; e++)
                buf_printf(out, "%s%s", e ? "," : "", pq__encoding_name(m->encodings[e]));
            buf_printf(out, "], %lld -> %lld bytes at %llu", (long long)m->total_uncompressed,
                       (long long)m->total_compressed, (unsigned long long)m->start);
            size_t n_data;
            bool has_dict, ok;
            count_pages(r, m, &n_data, &has_dict, &ok);
            if (ok)
                buf_printf(out, ", %zu data page%s%s", n_data, n_data == 1 ? "" : "s",
                           has_dict ? " + dictionary" : "");
            else
                buf_puts(out, ", pages unreadable");
            if (m->total_compressed > 0 && m->num_values > 0)
                buf_printf(out, ", %.3f bytes/value",
                           (double)m->total_compressed / (double)m->num_values);
            buf_puts(out, "\n    stats: ");
            if (m->stats.present) {
                pq_stat s;
                pq__stat_from_raw(lf, &m->stats, &s);
                put_stat(out, lf, &s);
            } else {
                buf_puts(out, "none");
            }
            buf_printf(out, "; page index: %s%s\n", m->has_column_index ? "column+" : "",
                       m->has_offset_index ? "offset" : (m->has_column_index ? "" : "none"));
        }
    }
    if (fm->n_kv) {
        buf_printf(out, "key/value metadata: %zu\n", fm->n_kv);
        for (size_t i = 0; i < fm->n_kv; i++) {
            buf_puts(out, "  ");
            put_text(out, fm->kv[i].key.p, fm->kv[i].key.n, 100);
            buf_puts(out, " = ");
            if (fm->kv[i].has_value)
                put_text(out, fm->kv[i].value.p, fm->kv[i].value.n, 400);
            else
                buf_puts(out, "(no value)");
            buf_putc(out, '\n');
        }
    }
    pq_reader_close(r);
    return SILT_OK;
}
