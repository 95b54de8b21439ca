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

/* Encoding is two-phased so that a rejected line or request leaves no trace in the schema:
 *  1. every line is validated against the schema (read only) and against what earlier lines
 *     of this request introduced; an accepted line's new tables and columns are recorded in
 *     the request only;
 *  2. if anything is to be written, the new database, tables and columns are created in the
 *     schema under one write lock. If a concurrent request created one of them with another
 *     kind or type in between, the whole request is encoded again (its lines now see the
 *     conflict and are rejected with a reason). */

typedef struct enc_col {
    uint8_t kind, type;
    bool is_new; /* not in the schema when validated: created at commit */
    str_view name;
} enc_col;

typedef struct enc_table {
    schema_table *st;      /* NULL: the table does not exist yet */
    uint32_t schema_cols;  /* columns st had when first seen (limit accounting) */
    str_view name;         /* unescaped */
    buf cols;              /* encoded col entries */
    uint32_t n_cols, n_new_cols;
    enc_col *colv;
    size_t cap_colv;
    hmap col_map;          /* unescaped name -> ref */
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

/* A column a line needs that is not yet in this request's payload. */
typedef struct col_add {
    str_view name;
    uint8_t kind, type;
    bool is_new;
    const char *pos; /* the key in the line, for the error column */
} col_add;

#define REF_ADD 0x80000000u /* a line ref naming adds[ref & ~REF_ADD] */

typedef struct enc {
    schema *s;
    schema_limits lim;
    schema_db *db; /* NULL: the database does not exist yet */
    ingest_batch *b;
    enc_table *tables;
    size_t n_tables, cap_tables, n_new_tables;
    size_t last_table;      /* cache: index of the previous line's table */
    lp_tok last_meas;       /* its raw measurement token */
    bool have_last;
    uint32_t *refs;         /* scratch: col refs of the current line's fields */
    uint32_t *tag_refs;     /* scratch: col refs of the current line's tags */
    size_t cap_refs, cap_tag_refs;
    col_add *adds;          /* scratch: columns the current line adds */
    size_t n_adds, cap_adds;
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

static void reject(ingest_batch *b, uint32_t line_no, str_view raw, uint32_t column,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void reject(ingest_batch *b, uint32_t line_no, str_view raw, uint32_t column,
                   const char *fmt, ...) {
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

/* Unescaped view of a token: the token itself, or a copy in the batch arena. Both outlive
 * the maps that key on them (the body is borrowed until ingest_batch_fini). */
static str_view tok_name(enc *e, lp_tok t) {
    if (!t.esc) return (str_view){t.p, t.n};
    char *p = arena_alloc(&e->b->mem, t.n + 1);
    size_t n = lp_unescape(t, false, p);
    return (str_view){p, n};
}

static uint32_t col_of(const lp_line *ln, const char *p) {
    return (uint32_t)(p - ln->raw.p) + 1;
}

/* The table of this line, found in the request or the schema, or started as a new one.
 * NULL (and the line rejected) when a new table would pass the database's table limit. */
static enc_table *line_table(enc *e, const lp_line *ln) {
    lp_tok m = ln->measurement;
    if (e->have_last && e->last_meas.n == m.n && memcmp(e->last_meas.p, m.p, m.n) == 0)
        return &e->tables[e->last_table];
    str_view name = tok_name(e, m);
    size_t i;
    for (i = 0; i < e->n_tables; i++)
        if (sv_eq(e->tables[i].name, name)) break;
    if (i == e->n_tables) {
        schema_table *st = NULL;
        uint32_t have_tables = 0, st_cols = 0;
        if (e->db) {
            schema_rdlock(e->s);
            st = schema_table_find(e->db, name.p, name.n);
            have_tables = e->db->n_tables;
            st_cols = st ? st->n_cols : 0;
            schema_unlock(e->s);
        }
        if (!st && have_tables + e->n_new_tables >= e->lim.max_tables_per_db) {
            reject(e->b, ln->line_no, ln->raw, 1,
                   "cannot create table '%.*s': database '%.*s' has reached its limit of %u "
                   "tables", (int)name.n, name.p, (int)e->b->db_len, e->b->db,
                   e->lim.max_tables_per_db);
            return NULL;
        }
        XGROW(e->tables, e->cap_tables, e->n_tables + 1);
        enc_table *t = &e->tables[e->n_tables++];
        memset(t, 0, sizeof *t);
        t->st = st;
        t->schema_cols = st_cols;
        t->name = (str_view){arena_strndup(&e->b->mem, name.p, name.n), name.n};
        if (!st) e->n_new_tables++;
    }
    e->last_table = i;
    e->last_meas = m;
    e->have_last = true;
    return &e->tables[i];
}

static const char *kind_word(uint8_t k) { return k == SCHEMA_TAG ? "tag" : "field"; }

static bool conflict(const char *cname, size_t cn, uint8_t have_kind, uint8_t have_type,
                     uint8_t kind, uint8_t type, const enc_table *t, char *why, size_t why_len) {
    if (have_kind != kind) {
        snprintf(why, why_len, "'%.*s' is a %s of table '%.*s', it cannot be a %s", (int)cn,
                 cname, kind_word(have_kind), (int)t->name.n, t->name.p, kind_word(kind));
        return true;
    }
    if (kind == SCHEMA_FIELD && have_type != type) {
        snprintf(why, why_len, "field '%.*s' of table '%.*s' has type %s; this line gives it a "
                 "value of type %s", (int)cn, cname, (int)t->name.n, t->name.p,
                 lp_type_name((lp_type)have_type), lp_type_name((lp_type)type));
        return true;
    }
    return false;
}

/* Phase 1 for one key: its ref in the payload, or a new entry in e->adds (ref | REF_ADD).
 * False (with the reason) on a kind or type conflict. Changes nothing shared. */
static bool lookup_col(enc *e, enc_table *t, lp_tok key, uint8_t kind, uint8_t type,
                       uint32_t *ref, char *why, size_t why_len) {
    str_view name = tok_name(e, key);
    uint64_t v;
    if (hmap_get(&t->col_map, name.p, name.n, hmap_hash(name.p, name.n), &v)) {
        const enc_col *c = &t->colv[v];
        if (conflict(name.p, name.n, c->kind, c->type, kind, type, t, why, why_len)) return false;
        *ref = (uint32_t)v;
        return true;
    }
    bool is_new = true;
    if (t->st) {
        schema_rdlock(e->s);
        schema_col *sc = schema_col_find(t->st, name.p, name.n);
        uint8_t sk = sc ? sc->kind : 0, stype = sc ? sc->type : 0;
        schema_unlock(e->s);
        if (sc && conflict(name.p, name.n, sk, stype, kind, type, t, why, why_len)) return false;
        is_new = !sc;
    }
    XGROW(e->adds, e->cap_adds, e->n_adds + 1);
    e->adds[e->n_adds] = (col_add){name, kind, kind == SCHEMA_FIELD ? type : 0, is_new, key.p};
    *ref = REF_ADD | (uint32_t)e->n_adds++;
    return true;
}

/* Add the line's new columns to the payload; returns the ref of the first (REF_ADD | i
 * becomes first + i). */
static uint32_t commit_adds(enc_table *t, const col_add *adds, size_t n_adds) {
    uint32_t first = t->n_cols;
    for (size_t i = 0; i < n_adds; i++) {
        const col_add *a = &adds[i];
        XGROW(t->colv, t->cap_colv, t->n_cols + 1);
        t->colv[t->n_cols] = (enc_col){a->kind, a->type, a->is_new, a->name};
        uint8_t kt[2] = {a->kind, a->type};
        buf_append(&t->cols, kt, 2);
        buf_put_varint(&t->cols, a->name.n);
        buf_append(&t->cols, a->name.p, a->name.n);
        hmap_put(&t->col_map, a->name.p, a->name.n, hmap_hash(a->name.p, a->name.n), t->n_cols);
        t->n_cols++;
        t->n_new_cols += a->is_new;
    }
    return first;
}

static void resolve_refs(uint32_t *refs, size_t n, uint32_t first) {
    for (size_t i = 0; i < n; i++)
        if (refs[i] & REF_ADD) refs[i] = first + (refs[i] & ~REF_ADD);
}

static bool encode_line(enc *e, const lp_line *ln) {
    char why[600];
    enc_table *t = line_table(e, ln);
    if (!t) return false;
    e->n_adds = 0;

    /* series: keyed by the raw tag-set bytes, as written */
    str_view tagset = {"", 0};
    if (ln->n_tags) {
        const lp_tag *last = &ln->tags[ln->n_tags - 1];
        tagset.p = ln->tags[0].key.p;
        tagset.n = (size_t)(last->val.p + last->val.n - tagset.p);
    }
    uint64_t sh = hmap_hash(tagset.p, tagset.n), sref = 0;
    bool new_series = !hmap_get(&t->series_map, tagset.p, tagset.n, sh, &sref);
    if (new_series) {
        XGROW(e->tag_refs, e->cap_tag_refs, ln->n_tags ? ln->n_tags : 1);
        for (uint32_t i = 0; i < ln->n_tags; i++) {
            if (!lookup_col(e, t, ln->tags[i].key, SCHEMA_TAG, 0, &e->tag_refs[i], why,
                            sizeof why)) {
                reject(e->b, ln->line_no, ln->raw, col_of(ln, ln->tags[i].key.p), "%s", why);
                return false;
            }
        }
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
    bool new_shape = !refs;
    if (new_shape) {
        XGROW(e->refs, e->cap_refs, nf);
        for (uint32_t i = 0; i < nf; i++) {
            if (!lookup_col(e, t, ln->fields[i].key, SCHEMA_FIELD, (uint8_t)ln->fields[i].type,
                            &e->refs[i], why, sizeof why)) {
                reject(e->b, ln->line_no, ln->raw, col_of(ln, ln->fields[i].key.p), "%s", why);
                return false;
            }
        }
    }
    /* the column limit counts columns that exist, or that this request creates; the error
     * points at the first key past the limit */
    uint32_t have = t->schema_cols + t->n_new_cols;
    for (size_t i = 0; i < e->n_adds; i++) {
        if (!e->adds[i].is_new) continue;
        if (++have > e->lim.max_columns_per_table) {
            reject(e->b, ln->line_no, ln->raw, col_of(ln, e->adds[i].pos),
                   "cannot add column '%.*s' to table '%.*s': it has reached its limit of %u "
                   "columns", (int)e->adds[i].name.n, e->adds[i].name.p, (int)t->name.n,
                   t->name.p, e->lim.max_columns_per_table);
            return false;
        }
    }

    /* the line is accepted: from here on nothing fails */
    if (e->n_adds) {
        uint32_t first = commit_adds(t, e->adds, e->n_adds);
        if (new_series) resolve_refs(e->tag_refs, ln->n_tags, first);
        if (new_shape) resolve_refs(e->refs, nf, first);
    }
    if (new_series) {
        buf_put_varint(&t->series, ln->n_tags);
        for (uint32_t i = 0; i < ln->n_tags; i++) {
            str_view v = tok_name(e, ln->tags[i].val);
            buf_put_varint(&t->series, e->tag_refs[i]);
            buf_put_varint(&t->series, v.n);
            buf_append(&t->series, v.p, v.n);
        }
        sref = t->n_series++;
        hmap_put(&t->series_map, tagset.p, tagset.n, sh, sref);
    }
    if (new_shape) {
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

static void enc_free(enc *e) {
    for (size_t i = 0; i < e->n_tables; i++) {
        enc_table *t = &e->tables[i];
        buf_free(&t->cols);
        buf_free(&t->series);
        buf_free(&t->rows);
        free(t->colv);
        hmap_free(&t->col_map);
        hmap_free(&t->series_map);
        free(t->shape_keys);
        free(t->shape_refs);
    }
    free(e->tables);
    free(e->refs);
    free(e->tag_refs);
    free(e->adds);
    free(e->scratch);
}

/* Phase 2: create the request's new database, tables and columns. Returns SILT_OK,
 * SILT_EBUSY when a concurrent request created one of them differently (encode again), or
 * SILT_ELIMIT (database limit). */
static int commit_schema(enc *e, const ingest_opts *o, silt_err *err) {
    int rc = SILT_OK;
    silt_err cerr = {0};
    schema_wrlock(e->s);
    schema_db *db;
    if ((rc = schema_db_create(e->s, o->db, o->db_len, &db, err))) goto out;
    for (size_t i = 0; i < e->n_tables && !rc; i++) {
        enc_table *t = &e->tables[i];
        if (!t->n_rows) continue;
        schema_table *st;
        if (schema_table_create(e->s, db, t->name.p, t->name.n, &st, &cerr)) {
            rc = SILT_EBUSY;
            break;
        }
        for (uint32_t c = 0; c < t->n_cols; c++) {
            schema_col *sc;
            if (schema_col_create(e->s, st, t->colv[c].name.p, t->colv[c].name.n,
                                  (schema_kind)t->colv[c].kind, (lp_type)t->colv[c].type, &sc,
                                  &cerr)) {
                rc = SILT_EBUSY;
                break;
            }
        }
    }
out:
    schema_unlock(e->s);
    return rc;
}

static void batch_reset(ingest_batch *b) {
    buf_reset(&b->payload);
    b->payload_crc = 0;
    b->n_lines_ok = b->n_rows = b->n_values = 0;
    b->n_rejects = 0;
    arena_reset(&b->mem);
}

int ingest_build(schema *s, const ingest_opts *o, const char *body, size_t n, ingest_batch *b,
                 silt_err *err) {
    int rc = schema_db_name_check(o->db, o->db_len, err);
    if (rc) return rc;
    b->db = o->db;
    b->db_len = o->db_len;
    for (int attempt = 0;; attempt++) {
        enc e = {.s = s, .b = b, .lim = schema_get_limits(s)};
        schema_rdlock(s);
        e.db = schema_db_find(s, o->db, o->db_len);
        schema_unlock(s);
        lp_parser ps;
        lp_parser_init(&ps, body, n, o->precision, o->now_ns);
        lp_line ln;
        lp_error le;
        for (;;) {
            int r = lp_next(&ps, &ln, &le);
            if (r == LP_END) break;
            if (r == LP_BAD) {
                reject(b, le.line_no, le.raw, le.column, "%s", le.reason);
                continue;
            }
            if (encode_line(&e, &ln)) b->n_lines_ok++;
        }
        lp_parser_fini(&ps);

        bool write = b->n_lines_ok && (o->accept_partial || b->n_rejects == 0);
        if (write && (rc = commit_schema(&e, o, err))) {
            enc_free(&e);
            if (rc == SILT_EBUSY && attempt < 16) {
                batch_reset(b); /* a concurrent request won a race for a column: again */
                continue;
            }
            if (rc == SILT_EBUSY)
                rc = SILT_FAIL(err, SILT_EBUSY, "schema changed concurrently too often; retry");
            return rc;
        }
        buf_reset(&b->payload);
        if (write) {
            buf *p = &b->payload;
            size_t total = 16 + o->db_len;
            for (size_t i = 0; i < e.n_tables; i++)
                total += 48 + e.tables[i].name.n + e.tables[i].cols.len +
                         e.tables[i].series.len + e.tables[i].rows.len;
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
        enc_free(&e);
        return SILT_OK;
    }
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

/* Per-call scratch of the decoder: refs, tag values and field values of one series or row. */
typedef struct dec_scratch {
    uint32_t *refs;
    str_view *vals;
    ingest_value *fv;
    size_t cap;
} dec_scratch;

static void grow_scratch(dec_scratch *sc, size_t need) {
    if (need <= sc->cap && sc->refs) return;
    sc->cap = need > 16 ? need : 16;
    sc->refs = xrealloc(sc->refs, sc->cap * sizeof *sc->refs);
    sc->vals = xrealloc(sc->vals, sc->cap * sizeof *sc->vals);
    sc->fv = xrealloc(sc->fv, sc->cap * sizeof *sc->fv);
}

int ingest_decode(const uint8_t *p, size_t n, const ingest_sink *sink, void *arg, silt_err *err) {
    rd r = {p, p + n};
    const char *why = NULL;
    int rc = SILT_OK;
    ingest_col *cols = NULL;
    dec_scratch sc = {0};
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
            grow_scratch(&sc, nt);
            for (uint32_t k = 0; k < nt; k++) {
                if (!rd_u32(&r, &sc.refs[k], n_cols ? n_cols - 1 : 0) || !n_cols ||
                    cols[sc.refs[k]].kind != SCHEMA_TAG)
                    CORRUPT("tag column reference");
                if (!rd_str(&r, &sc.vals[k])) CORRUPT("tag value");
            }
            if (sink->series && (rc = sink->series(arg, si, sc.refs, sc.vals, nt))) goto out;
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
            grow_scratch(&sc, nf);
            for (uint32_t k = 0; k < nf; k++) {
                str_view vb;
                if (!rd_u32(&rr, &sc.refs[k], n_cols ? n_cols - 1 : 0) || !n_cols ||
                    cols[sc.refs[k]].kind != SCHEMA_FIELD)
                    CORRUPT("field column reference");
                switch (cols[sc.refs[k]].type) {
                    case LP_FLOAT:
                        if (!rd_bytes(&rr, 8, &vb)) CORRUPT("float value");
                        {
                            uint64_t bits = le_get64((const uint8_t *)vb.p);
                            memcpy(&sc.fv[k].v.f, &bits, 8);
                        }
                        break;
                    case LP_INT:
                    case LP_UINT:
                        if (!rd_bytes(&rr, 8, &vb)) CORRUPT("integer value");
                        sc.fv[k].v.u = le_get64((const uint8_t *)vb.p);
                        break;
                    case LP_BOOL:
                        if (!rd_bytes(&rr, 1, &vb) || (uint8_t)vb.p[0] > 1) CORRUPT("boolean value");
                        sc.fv[k].v.b = vb.p[0] != 0;
                        break;
                    case LP_STRING:
                        if (!rd_str(&rr, &sc.fv[k].s)) CORRUPT("string value");
                        break;
                }
            }
            if (sink->row && (rc = sink->row(arg, sref, t, sc.refs, sc.fv, nf))) goto out;
        }
        if (rr.p != rows_end) CORRUPT("rows length does not match the rows");
        r.p = rows_end;
    }
    if (r.p != r.end) CORRUPT("trailing bytes");
out:
    free(cols);
    free(sc.refs);
    free(sc.vals);
    free(sc.fv);
    return rc;
corrupt:
    rc = SILT_FAIL(err, SILT_ECORRUPT, "ingest payload: bad %s at byte %zu", why,
                   (size_t)(r.p - p));
    goto out;
}
