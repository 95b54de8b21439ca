/* SPDX-License-Identifier: MIT
 *
 * ingest: line protocol -> validated WAL payload, and the payload decoder. Format in
 * ingest.h. The encoder keeps per-request caches so the common case (many lines of one
 * table, few series, the same field keys line after line) touches the schema lock and the
 * hash maps only on the first line of each series and field shape. */
#include "ingest.h"

#include "../util/hmap.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_ENC_TABLES_LINEAR 8

typedef struct enc_col {
    uint8_t kind, type;
} enc_col;

typedef struct enc_table {
    schema_table *st;
    str_view name;  /* unescaped */
    buf cols;       /* encoded col entries */
    uint32_t n_cols;
    enc_col *colv;
    size_t cap_colv;
    hmap col_map;   /* unescaped name -> ref */
    buf series;
    uint32_t n_series;
    hmap series_map; /* raw tag-set bytes (escaped, as in the body) -> ref */
    buf rows;
    uint32_t n_rows;
    /* field shape of the previous accepted line */
    uint32_t shape_n;
    lp_tok *shape_keys;
    uint32_t *shape_refs;
    size_t cap_shape;
} enc_table;

typedef struct enc {
    schema *s;
    schema_db *db;
    ingest_batch *b;
    enc_table *tables;
    size_t n_tables, cap_tables;
    size_t last_table;      /* cache: index of the previous line's table */
    lp_tok last_meas;       /* its raw measurement token */
    bool have_last;
    uint32_t *refs;         /* scratch: col refs of the current line's fields */
    size_t cap_refs;
    char *scratch;          /* scratch for unescaping */
    size_t cap_scratch;
} enc;

void ingest_batch_init(ingest_batch *b) {
    memset(b, 0, sizeof *b);
    arena_init(&b->mem, 16 * 1024);
}

void ingest_batch_fini(ingest_batch *b) {
    buf_free(&b->payload);
    free(b->rejects);
    arena_fini(&b->mem);
    memset(b, 0, sizeof *b);
}

static void reject(ingest_batch *b, const lp_line *ln, uint32_t line_no, str_view raw,
                   uint32_t column, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void reject(ingest_batch *b, const lp_line *ln, uint32_t line_no, str_view raw,
                   uint32_t column, const char *fmt, ...) {
    (void)ln;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    XGROW(b->rejects, b->cap_rejects, b->n_rejects + 1);
    ingest_reject *r = &b->rejects[b->n_rejects++];
    r->line_no = line_no;
    r->column = column;
    r->raw = raw;
    r->reason = arena_strndup(&b->mem, msg, strlen(msg));
}

/* Unescaped view of a token: the token itself, or a copy in the batch arena. */
static str_view tok_name(enc *e, lp_tok t) {
    if (!t.esc) return (str_view){t.p, t.n};
    char *p = arena_alloc(&e->b->mem, t.n + 1);
    size_t n = lp_unescape(t, false, p);
    return (str_view){p, n};
}

static uint32_t col_of(const lp_line *ln, const char *p) {
    return (uint32_t)(p - ln->raw.p) + 1;
}

/* Find or create the table of this line. Returns NULL (and rejects) on a schema error. */
static enc_table *line_table(enc *e, const lp_line *ln) {
    lp_tok m = ln->measurement;
    if (e->have_last && e->last_meas.n == m.n && memcmp(e->last_meas.p, m.p, m.n) == 0)
        return &e->tables[e->last_table];
    str_view name = tok_name(e, m);
    size_t i;
    for (i = 0; i < e->n_tables; i++)
        if (sv_eq(e->tables[i].name, name)) break;
    if (i == e->n_tables) {
        silt_err err = {0};
        schema_rdlock(e->s);
        schema_table *st = schema_table_find(e->db, name.p, name.n);
        schema_unlock(e->s);
        if (!st) {
            schema_wrlock(e->s);
            int rc = schema_table_create(e->s, e->db, name.p, name.n, &st, &err);
            schema_unlock(e->s);
            if (rc) {
                reject(e->b, ln, ln->line_no, ln->raw, 1, "%s", err.msg);
                return NULL;
            }
        }
        XGROW(e->tables, e->cap_tables, e->n_tables + 1);
        enc_table *t = &e->tables[e->n_tables++];
        memset(t, 0, sizeof *t);
        t->st = st;
        t->name = (str_view){arena_strndup(&e->b->mem, name.p, name.n), name.n};
    }
    e->last_table = i;
    e->last_meas = m;
    e->have_last = true;
    return &e->tables[i];
}

static const char *kind_word(uint8_t k) { return k == SCHEMA_TAG ? "tag" : "field"; }

/* Resolve a tag or field key to the table's col ref, adding the column to the payload (and
 * the schema) on first use. On a conflict: false, with the reason in why. */
static bool resolve_col(enc *e, enc_table *t, lp_tok key, uint8_t kind, uint8_t type,
                        uint32_t *ref, char *why, size_t why_len) {
    str_view name = tok_name(e, key);
    uint64_t h = hmap_hash(name.p, name.n), v;
    if (hmap_get(&t->col_map, name.p, name.n, h, &v)) {
        enc_col *c = &t->colv[v];
        if (c->kind != kind) {
            snprintf(why, why_len, "'%.*s' is a %s of table '%.*s', it cannot be a %s",
                     (int)name.n, name.p, kind_word(c->kind), (int)t->name.n, t->name.p,
                     kind_word(kind));
            return false;
        }
        if (kind == SCHEMA_FIELD && c->type != type) {
            snprintf(why, why_len, "field '%.*s' of table '%.*s' has type %s; this line gives "
                     "it a value of type %s", (int)name.n, name.p, (int)t->name.n, t->name.p,
                     lp_type_name((lp_type)c->type), lp_type_name((lp_type)type));
            return false;
        }
        *ref = (uint32_t)v;
        return true;
    }
    silt_err err = {0};
    schema_rdlock(e->s);
    schema_col *sc = schema_col_find(t->st, name.p, name.n);
    schema_unlock(e->s);
    int rc;
    if (sc) {
        if (sc->kind != kind) {
            snprintf(why, why_len, "'%.*s' is a %s of table '%.*s', it cannot be a %s",
                     (int)name.n, name.p, kind_word(sc->kind), (int)t->name.n, t->name.p,
                     kind_word(kind));
            return false;
        }
        if (kind == SCHEMA_FIELD && sc->type != type) {
            snprintf(why, why_len, "field '%.*s' of table '%.*s' has type %s; this line gives "
                     "it a value of type %s", (int)name.n, name.p, (int)t->name.n, t->name.p,
                     lp_type_name((lp_type)sc->type), lp_type_name((lp_type)type));
            return false;
        }
    } else {
        schema_wrlock(e->s);
        rc = schema_col_create(e->s, t->st, name.p, name.n, (schema_kind)kind, (lp_type)type,
                               &sc, &err);
        schema_unlock(e->s);
        if (rc) {
            snprintf(why, why_len, "%s", err.msg);
            return false;
        }
    }
    /* first use in this request: describe the column in the payload */
    XGROW(t->colv, t->cap_colv, t->n_cols + 1);
    t->colv[t->n_cols] = (enc_col){kind, kind == SCHEMA_FIELD ? type : 0};
    uint8_t kt[2] = {kind, kind == SCHEMA_FIELD ? type : 0};
    buf_append(&t->cols, kt, 2);
    buf_put_varint(&t->cols, name.n);
    buf_append(&t->cols, name.p, name.n);
    /* name points into the body or the batch arena: both outlive the map */
    hmap_put(&t->col_map, name.p, name.n, h, t->n_cols);
    *ref = t->n_cols++;
    return true;
}

static bool encode_line(enc *e, const lp_line *ln) {
    char why[600];
    enc_table *t = line_table(e, ln);
    if (!t) return false;

    /* series: keyed by the raw tag-set bytes, as written */
    str_view tagset = {"", 0};
    if (ln->n_tags) {
        const lp_tag *last = &ln->tags[ln->n_tags - 1];
        tagset.p = ln->tags[0].key.p;
        tagset.n = (size_t)(last->val.p + last->val.n - tagset.p);
    }
    uint64_t sh = hmap_hash(tagset.p, tagset.n), sref;
    if (!hmap_get(&t->series_map, tagset.p, tagset.n, sh, &sref)) {
        size_t mark = t->series.len;
        buf_put_varint(&t->series, ln->n_tags);
        for (uint32_t i = 0; i < ln->n_tags; i++) {
            uint32_t ref;
            if (!resolve_col(e, t, ln->tags[i].key, SCHEMA_TAG, 0, &ref, why, sizeof why)) {
                t->series.len = mark;
                reject(e->b, ln, ln->line_no, ln->raw, col_of(ln, ln->tags[i].key.p), "%s", why);
                return false;
            }
            str_view v = tok_name(e, ln->tags[i].val);
            buf_put_varint(&t->series, ref);
            buf_put_varint(&t->series, v.n);
            buf_append(&t->series, v.p, v.n);
        }
        sref = t->n_series++;
        hmap_put(&t->series_map, tagset.p, tagset.n, sh, sref);
    }

    /* fields: reuse the previous line's shape when the keys are the same */
    uint32_t nf = ln->n_fields;
    const uint32_t *refs = NULL;
    if (t->shape_n == nf) {
        uint32_t i = 0;
        for (; i < nf; i++) {
            lp_tok a = t->shape_keys[i], b = ln->fields[i].key;
            if (a.n != b.n || memcmp(a.p, b.p, a.n) != 0) break;
        }
        if (i == nf) {
            refs = t->shape_refs;
            for (i = 0; i < nf; i++) {
                if (t->colv[refs[i]].type != ln->fields[i].type) {
                    refs = NULL; /* a type change: take the slow path for its message */
                    break;
                }
            }
        }
    }
    if (!refs) {
        XGROW(e->refs, e->cap_refs, nf);
        for (uint32_t i = 0; i < nf; i++) {
            if (!resolve_col(e, t, ln->fields[i].key, SCHEMA_FIELD, (uint8_t)ln->fields[i].type,
                             &e->refs[i], why, sizeof why)) {
                reject(e->b, ln, ln->line_no, ln->raw, col_of(ln, ln->fields[i].key.p), "%s",
                       why);
                return false;
            }
        }
        XGROW(t->shape_keys, t->cap_shape, nf);
        t->shape_refs = xrealloc(t->shape_refs, t->cap_shape * sizeof *t->shape_refs);
        for (uint32_t i = 0; i < nf; i++) {
            t->shape_keys[i] = ln->fields[i].key;
            t->shape_refs[i] = e->refs[i];
        }
        t->shape_n = nf;
        refs = t->shape_refs;
    }

    /* the row */
    buf *r = &t->rows;
    buf_reserve(r, 10 + 8 + 10 + (size_t)nf * 18);
    r->len += varint_put(r->p + r->len, sref);
    le_put64(r->p + r->len, (uint64_t)ln->time_ns);
    r->len += 8;
    r->len += varint_put(r->p + r->len, nf);
    for (uint32_t i = 0; i < nf; i++) {
        const lp_field *f = &ln->fields[i];
        r->len += varint_put(r->p + r->len, refs[i]);
        switch (f->type) {
            case LP_FLOAT: {
                uint64_t bits;
                memcpy(&bits, &f->v.f, 8);
                le_put64(r->p + r->len, bits);
                r->len += 8;
                break;
            }
            case LP_INT:
            case LP_UINT:
                le_put64(r->p + r->len, f->type == LP_INT ? (uint64_t)f->v.i : f->v.u);
                r->len += 8;
                break;
            case LP_BOOL: r->p[r->len++] = f->v.b ? 1 : 0; break;
            case LP_STRING: {
                size_t cap = f->str.n;
                if (f->str.esc) {
                    if (e->cap_scratch < cap) {
                        e->scratch = xrealloc(e->scratch, cap);
                        e->cap_scratch = cap;
                    }
                    cap = lp_unescape(f->str, true, e->scratch);
                }
                buf_reserve(r, 10 + cap + (size_t)(nf - i) * 18);
                r->len += varint_put(r->p + r->len, cap);
                memcpy(r->p + r->len, f->str.esc ? e->scratch : f->str.p, cap);
                r->len += cap;
                break;
            }
        }
    }
    t->n_rows++;
    e->b->n_rows++;
    e->b->n_values += nf;
    return true;
}

int ingest_build(schema *s, const ingest_opts *o, const char *body, size_t n, ingest_batch *b,
                 silt_err *err) {
    int rc;
    schema_rdlock(s);
    schema_db *db = schema_db_find(s, o->db, o->db_len);
    schema_unlock(s);
    if (!db) {
        schema_wrlock(s);
        rc = schema_db_create(s, o->db, o->db_len, &db, err);
        schema_unlock(s);
        if (rc) return rc;
    }
    enc e = {.s = s, .db = db, .b = b};
    lp_parser ps;
    lp_parser_init(&ps, body, n, o->precision, o->now_ns);
    lp_line ln;
    lp_error le;
    for (;;) {
        int r = lp_next(&ps, &ln, &le);
        if (r == LP_END) break;
        if (r == LP_BAD) {
            reject(b, NULL, le.line_no, le.raw, le.column, "%s", le.reason);
            continue;
        }
        if (encode_line(&e, &ln)) b->n_lines_ok++;
    }
    lp_parser_fini(&ps);

    buf_reset(&b->payload);
    if (b->n_lines_ok && (o->accept_partial || b->n_rejects == 0)) {
        buf *p = &b->payload;
        size_t total = 16 + o->db_len;
        for (size_t i = 0; i < e.n_tables; i++)
            total += 48 + e.tables[i].name.n + e.tables[i].cols.len + e.tables[i].series.len +
                     e.tables[i].rows.len;
        buf_reserve(p, total);
        buf_putc(p, INGEST_PAYLOAD_VERSION);
        buf_put_varint(p, o->db_len);
        buf_append(p, o->db, o->db_len);
        size_t n_tab = 0;
        for (size_t i = 0; i < e.n_tables; i++) n_tab += e.tables[i].n_rows > 0;
        buf_put_varint(p, n_tab);
        for (size_t i = 0; i < e.n_tables; i++) {
            enc_table *t = &e.tables[i];
            if (!t->n_rows) continue;
            buf_put_varint(p, t->name.n);
            buf_append(p, t->name.p, t->name.n);
            buf_put_varint(p, t->n_cols);
            buf_append(p, t->cols.p, t->cols.len);
            buf_put_varint(p, t->n_series);
            buf_append(p, t->series.p, t->series.len);
            buf_put_varint(p, t->n_rows);
            buf_put_varint(p, t->rows.len);
            buf_append(p, t->rows.p, t->rows.len);
        }
        b->payload_crc = crc32c(0, p->p, p->len);
    } else {
        b->n_rows = b->n_values = 0;
        if (!o->accept_partial) b->n_lines_ok = 0;
    }
    for (size_t i = 0; i < e.n_tables; i++) {
        enc_table *t = &e.tables[i];
        buf_free(&t->cols);
        buf_free(&t->series);
        buf_free(&t->rows);
        free(t->colv);
        hmap_free(&t->col_map);
        hmap_free(&t->series_map);
        free(t->shape_keys);
        free(t->shape_refs);
    }
    free(e.tables);
    free(e.refs);
    free(e.scratch);
    return SILT_OK;
}

/* ------------------------------------------------------------------ decoding */

typedef struct rd {
    const uint8_t *p, *end;
} rd;

static bool rd_varint(rd *r, uint64_t *v) {
    size_t k = varint_get(r->p, (size_t)(r->end - r->p), v);
    if (!k) return false;
    r->p += k;
    return true;
}

static bool rd_u32(rd *r, uint32_t *v, uint64_t max) {
    uint64_t x;
    if (!rd_varint(r, &x) || x > max) return false;
    *v = (uint32_t)x;
    return true;
}

static bool rd_bytes(rd *r, size_t n, str_view *out) {
    if ((size_t)(r->end - r->p) < n) return false;
    out->p = (const char *)r->p;
    out->n = n;
    r->p += n;
    return true;
}

static bool rd_str(rd *r, str_view *out) {
    uint64_t n;
    return rd_varint(r, &n) && n <= (uint64_t)(r->end - r->p) && rd_bytes(r, (size_t)n, out);
}

#define CORRUPT(what) do { why = (what); goto corrupt; } while (0)

int ingest_decode(const uint8_t *p, size_t n, const ingest_sink *sink, void *arg, silt_err *err) {
    rd r = {p, p + n};
    const char *why = NULL;
    int rc = SILT_OK;
    ingest_col *cols = NULL;
    uint32_t *refs = NULL;
    str_view *vals = NULL;
    ingest_value *fv = NULL;
    size_t cap_refs = 0;
    str_view db;
    uint32_t n_tables;
    if (n < 1 || p[0] != INGEST_PAYLOAD_VERSION) CORRUPT("unknown payload version");
    r.p++;
    if (!rd_str(&r, &db)) CORRUPT("database name");
    if (!rd_u32(&r, &n_tables, n)) CORRUPT("table count");
    for (uint32_t ti = 0; ti < n_tables; ti++) {
        str_view tname;
        uint32_t n_cols, n_series, n_rows;
        if (!rd_str(&r, &tname) || tname.n == 0) CORRUPT("table name");
        if (!rd_u32(&r, &n_cols, (uint64_t)(r.end - r.p))) CORRUPT("column count");
        free(cols);
        cols = xcalloc(n_cols ? n_cols : 1, sizeof *cols);
        for (uint32_t c = 0; c < n_cols; c++) {
            str_view kt;
            if (!rd_bytes(&r, 2, &kt)) CORRUPT("column kind");
            cols[c].kind = (uint8_t)kt.p[0];
            cols[c].type = (uint8_t)kt.p[1];
            if (cols[c].kind == SCHEMA_TAG ? cols[c].type != 0
                : cols[c].kind != SCHEMA_FIELD || cols[c].type < LP_FLOAT || cols[c].type > LP_BOOL)
                CORRUPT("column kind or type");
            if (!rd_str(&r, &cols[c].name) || cols[c].name.n == 0) CORRUPT("column name");
        }
        if (sink->table && (rc = sink->table(arg, db, tname, cols, n_cols))) goto out;
        if (!rd_u32(&r, &n_series, (uint64_t)(r.end - r.p))) CORRUPT("series count");
        for (uint32_t si = 0; si < n_series; si++) {
            uint32_t nt;
            if (!rd_u32(&r, &nt, n_cols)) CORRUPT("tag count");
            if (nt > cap_refs || !refs) {
                cap_refs = nt > 16 ? nt : 16;
                refs = xrealloc(refs, cap_refs * sizeof *refs);
                vals = xrealloc(vals, cap_refs * sizeof *vals);
                fv = xrealloc(fv, cap_refs * sizeof *fv);
            }
            for (uint32_t k = 0; k < nt; k++) {
                if (!rd_u32(&r, &refs[k], n_cols ? n_cols - 1 : 0) || !n_cols ||
                    cols[refs[k]].kind != SCHEMA_TAG)
                    CORRUPT("tag column reference");
                if (!rd_str(&r, &vals[k])) CORRUPT("tag value");
            }
            if (sink->series && (rc = sink->series(arg, si, refs, vals, nt))) goto out;
        }
        uint64_t rows_len;
        if (!rd_u32(&r, &n_rows, (uint64_t)(r.end - r.p))) CORRUPT("row count");
        if (!rd_varint(&r, &rows_len) || rows_len > (uint64_t)(r.end - r.p)) CORRUPT("rows length");
        const uint8_t *rows_end = r.p + rows_len;
        rd rr = {r.p, rows_end};
        for (uint32_t ri = 0; ri < n_rows; ri++) {
            uint32_t sref, nf;
            str_view tb;
            if (!rd_u32(&rr, &sref, n_series ? n_series - 1 : 0) || !n_series) CORRUPT("series reference");
            if (!rd_bytes(&rr, 8, &tb)) CORRUPT("row time");
            int64_t t = (int64_t)le_get64((const uint8_t *)tb.p);
            if (!rd_u32(&rr, &nf, n_cols)) CORRUPT("field count");
            if (nf > cap_refs || !refs) {
                cap_refs = nf > 16 ? nf : 16;
                refs = xrealloc(refs, cap_refs * sizeof *refs);
                vals = xrealloc(vals, cap_refs * sizeof *vals);
                fv = xrealloc(fv, cap_refs * sizeof *fv);
            }
            for (uint32_t k = 0; k < nf; k++) {
                str_view vb;
                if (!rd_u32(&rr, &refs[k], n_cols ? n_cols - 1 : 0) || !n_cols ||
                    cols[refs[k]].kind != SCHEMA_FIELD)
                    CORRUPT("field column reference");
                switch (cols[refs[k]].type) {
                    case LP_FLOAT:
                        if (!rd_bytes(&rr, 8, &vb)) CORRUPT("float value");
                        {
                            uint64_t bits = le_get64((const uint8_t *)vb.p);
                            memcpy(&fv[k].v.f, &bits, 8);
                        }
                        break;
                    case LP_INT:
                    case LP_UINT:
                        if (!rd_bytes(&rr, 8, &vb)) CORRUPT("integer value");
                        fv[k].v.u = le_get64((const uint8_t *)vb.p);
                        break;
                    case LP_BOOL:
                        if (!rd_bytes(&rr, 1, &vb) || (uint8_t)vb.p[0] > 1) CORRUPT("boolean value");
                        fv[k].v.b = vb.p[0] != 0;
                        break;
                    case LP_STRING:
                        if (!rd_str(&rr, &fv[k].s)) CORRUPT("string value");
                        break;
                }
            }
            if (sink->row && (rc = sink->row(arg, sref, t, refs, fv, nf))) goto out;
        }
        if (rr.p != rows_end) CORRUPT("rows length does not match the rows");
        r.p = rows_end;
    }
    if (r.p != r.end) CORRUPT("trailing bytes");
out:
    free(cols);
    free(refs);
    free(vals);
    free(fv);
    return rc;
corrupt:
    rc = SILT_FAIL(err, SILT_ECORRUPT, "ingest payload: bad %s at byte %zu", why,
                   (size_t)(r.p - p));
    goto out;
}
