/* SPDX-License-Identifier: MIT
 *
 * Parquet reader over a file held in memory: footer and schema at open, column chunks decoded
 * on demand for a row range, page index (ColumnIndex + OffsetIndex) loaded lazily per chunk.
 *
 * Validation invariants (a corrupt file is SILT_ECORRUPT, never a crash):
 *   (1) open: both magics, footer length within the file, FileMetaData decoded with the
 *       bounded Thrift decoder, a flat schema (root + leaves; groups and repeated fields are
 *       SILT_EUNSUPPORTED), every row group has one chunk per leaf, each chunk's type matches
 *       its leaf, num_values == row group rows, the chunk's bytes [start, start + total
 *       compressed size) lie inside [4, footer start), row counts add up;
 *   (2) pages: every header decoded within the chunk, its data within the chunk, row counts
 *       summed against the row group; a dictionary page only first; the OffsetIndex (when
 *       present) is checked for increasing rows and offsets inside the chunk, and each page
 *       reached through it must match its entry (size, rows);
 *   (3) page CRC verified when present, before decompression; the decompressed size must be
 *       exactly the header's uncompressed size, which is bounded by PQ_MAX_PAGE_BYTES;
 *   (4) decoders read only inside the page's buffer and produce exactly the values asked for:
 *       dictionary indices are checked against the dictionary size, levels against the max
 *       definition level, DELTA/RLE runs against the bytes present;
 *   (5) output arrays are sized by the caller's row range (<= PQ_MAX_READ_ROWS), never by a
 *       count read from the file; strings built by DELTA_BYTE_ARRAY are bounded by
 *       PQ_MAX_MATERIALIZE.
 * Anything valid but not implemented (INT96, BROTLI, LZO, nested schemas, encryption, an
 * encoding not listed in parquet.h) is SILT_EUNSUPPORTED, naming what it was.
 *
 * A reader is not thread-safe: pq_read_column and pq_reader_pages fill lazy caches. Use one
 * reader per thread (they may share the same bytes).
 */
#include "pq_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ------------------------------------------------------------------ open */

static int map_leaf(pq_leaf *lf, const pq_schema_el *e) {
    const pq_logical *lg = &e->logical;
    lf->phys = e->type;
    lf->type_length = e->type_length;
    lf->conv = PQV_NONE;
    lf->mul = 1;
    pq_type t = 0;
    switch (e->type) {
        case PQT_BOOLEAN:
            t = PQ_BOOL;
            break;
        case PQT_DOUBLE:
            t = PQ_DOUBLE;
            break;
        case PQT_FLOAT:
            t = PQ_DOUBLE;
            lf->conv = PQV_FLOAT_TO_DOUBLE;
            break;
        case PQT_INT64: {
            int unit = 0;
            if (lg->kind == PQL_TIMESTAMP)
                unit = lg->unit;
            else if (lg->kind == PQL_NONE && e->converted == PQCT_TIMESTAMP_MILLIS)
                unit = PQ_UNIT_MILLIS;
            else if (lg->kind == PQL_NONE && e->converted == PQCT_TIMESTAMP_MICROS)
                unit = PQ_UNIT_MICROS;
            if (unit) {
                t = PQ_TIMESTAMP_NS;
                lf->mul = unit == PQ_UNIT_MILLIS ? 1000000 : unit == PQ_UNIT_MICROS ? 1000 : 1;
                if (lf->mul != 1) lf->conv = PQV_MUL;
                if (lg->kind == PQL_TIMESTAMP && !lg->unit) t = 0;
            } else if ((lg->kind == PQL_INTEGER && !lg->is_signed) ||
                       (lg->kind == PQL_NONE && e->converted == PQCT_UINT_64)) {
                t = PQ_UINT64;
                lf->unsigned_order = true;
            } else if (lg->kind == PQL_INTEGER ||
                       (lg->kind == PQL_NONE &&
                        (e->converted == -1 || e->converted == PQCT_INT_64))) {
                t = PQ_INT64;
            }
            break;
        }
        case PQT_INT32: {
            lf->conv = PQV_I32_TO_I64;
            bool uns = (lg->kind == PQL_INTEGER && !lg->is_signed) ||
                       (lg->kind == PQL_NONE && e->converted >= PQCT_UINT_8 &&
                        e->converted <= PQCT_UINT_32);
            bool sig =
                (lg->kind == PQL_INTEGER && lg->is_signed) ||
                (lg->kind == PQL_NONE && (e->converted == -1 || (e->converted >= PQCT_INT_8 &&
                                                                 e->converted <= PQCT_INT_32)));
            if (uns) {
                t = PQ_UINT64;
                lf->conv = PQV_U32_TO_U64;
                lf->unsigned_order = true;
            } else if (sig) {
                t = PQ_INT64;
            }
            break;
        }
        case PQT_BYTE_ARRAY:
            if (lg->kind == PQL_STRING || lg->kind == PQL_ENUM || lg->kind == PQL_JSON ||
                (lg->kind == PQL_NONE && (e->converted == PQCT_UTF8 || e->converted == PQCT_ENUM ||
                                          e->converted == PQCT_JSON)))
                t = PQ_STRING;
            break;
        default:
            break;
    }
    lf->info.type = t;
    lf->info.physical_type = e->type;
    return SILT_OK;
}

void pq_reader_close(pq_reader *r) {
    if (!r) return;
    arena_fini(&r->a);
    free(r->leaves);
    free(r->idx);
    pq__codec_destroy(r->codec);
    free(r);
}

int pq_reader_open(const uint8_t *data, size_t len, pq_reader **out, silt_err *err) {
    *out = NULL;
    if (len < 12)
        return SILT_FAIL(err, SILT_ECORRUPT, "parquet: file of %zu bytes is too short", len);
    if (memcmp(data, PQ_MAGIC, 4) != 0)
        return SILT_FAIL(err, SILT_ECORRUPT, "parquet: leading magic is not PAR1");
    if (memcmp(data + len - 4, "PARE", 4) == 0)
        return SILT_FAIL(err, SILT_EUNSUPPORTED, "parquet: encrypted footer (PARE)");
    if (memcmp(data + len - 4, PQ_MAGIC, 4) != 0)
        return SILT_FAIL(err, SILT_ECORRUPT, "parquet: trailing magic is not PAR1");
    uint32_t flen = le_get32(data + len - 8);
    if ((uint64_t)flen > len - 12)
        return SILT_FAIL(err, SILT_ECORRUPT, "parquet: footer length %u exceeds the file (%zu)",
                         flen, len);
    pq_reader *r = xcalloc(1, sizeof *r);
    static uint64_t next_id;
    r->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
    r->data = data;
    r->len = len;
    r->footer_start = len - 8 - flen;
    arena_init(&r->a, 64 * 1024);
    r->codec = pq__codec_create();
    int rc = pq__parse_file_meta(data + r->footer_start, flen, &r->a, &r->fm, err);
    if (rc) goto fail;
    pq_file_meta *fm = &r->fm;
    if (fm->encrypted) {
        rc = SILT_FAIL(err, SILT_EUNSUPPORTED, "parquet: encrypted file");
        goto fail;
    }
    /* invariant (1): flat schema */
    if (fm->n_schema < 1) {
        rc = SILT_FAIL(err, SILT_ECORRUPT, "parquet: empty schema");
        goto fail;
    }
    size_t n_leaves = fm->n_schema - 1;
    if (fm->schema[0].num_children < 0 || (size_t)fm->schema[0].num_children != n_leaves) {
        for (size_t i = 1; i < fm->n_schema; i++)
            if (fm->schema[i].num_children > 0) {
                rc = SILT_FAIL(err, SILT_EUNSUPPORTED, "parquet: nested schema (group %.*s)",
                               (int)fm->schema[i].name.n, fm->schema[i].name.p);
                goto fail;
            }
        rc = SILT_FAIL(err, SILT_ECORRUPT, "parquet: root has %d children, schema has %zu leaves",
                       fm->schema[0].num_children, n_leaves);
        goto fail;
    }
    r->n_leaves = n_leaves;
    r->leaves = xcalloc(n_leaves ? n_leaves : 1, sizeof *r->leaves);
    if (fm->has_col_orders && fm->n_col_orders != n_leaves) {
        rc = SILT_FAIL(err, SILT_ECORRUPT, "parquet: column_orders has %zu entries for %zu leaves",
                       fm->n_col_orders, n_leaves);
        goto fail;
    }
    for (size_t i = 0; i < n_leaves; i++) {
        const pq_schema_el *e = &fm->schema[i + 1];
        pq_leaf *lf = &r->leaves[i];
        int nl = (int)(e->name.n > 200 ? 200 : e->name.n);
        if (e->num_children > 0 || e->type < 0) {
            rc = SILT_FAIL(err, SILT_EUNSUPPORTED, "parquet: nested schema (group %.*s)", nl,
                           e->name.p);
            goto fail;
        }
        if (e->repetition == PQR_REPEATED) {
            rc = SILT_FAIL(err, SILT_EUNSUPPORTED, "parquet: repeated column %.*s", nl, e->name.p);
            goto fail;
        }
        if (e->repetition != PQR_REQUIRED && e->repetition != PQR_OPTIONAL) {
            rc = SILT_FAIL(err, SILT_ECORRUPT, "parquet: column %.*s: bad repetition %d", nl,
                           e->name.p, e->repetition);
            goto fail;
        }
        if (e->type == PQT_FIXED_LEN_BYTE_ARRAY && e->type_length <= 0) {
            rc = SILT_FAIL(err, SILT_ECORRUPT,
                           "parquet: column %.*s: FIXED_LEN_BYTE_ARRAY of length %d", nl, e->name.p,
                           e->type_length);
            goto fail;
        }
        lf->el = e;
        lf->info.name = arena_strndup(&r->a, e->name.p, e->name.n);
        lf->info.optional = e->repetition == PQR_OPTIONAL;
        lf->max_def = lf->info.optional ? 1 : 0;
        lf->col_order = fm->has_col_orders ? fm->col_orders[i] : 0;
        map_leaf(lf, e);
    }
    uint64_t sum = 0;
    for (size_t g = 0; g < fm->n_rgs; g++) {
        pq_rg_meta *rg = &fm->rgs[g];
        if (rg->num_rows < 0) {
            rc = SILT_FAIL(err, SILT_ECORRUPT, "parquet: row group %zu: negative row count", g);
            goto fail;
        }
        if (rg->n_cols != n_leaves) {
            rc = SILT_FAIL(err, SILT_ECORRUPT,
                           "parquet: row group %zu has %zu column chunks, schema %zu", g,
                           rg->n_cols, n_leaves);
            goto fail;
        }
        if ((uint64_t)rg->num_rows > UINT64_MAX / 2 - sum) {
            rc = SILT_FAIL(err, SILT_ECORRUPT, "parquet: row counts overflow");
            goto fail;
        }
        sum += (uint64_t)rg->num_rows;
        for (size_t c = 0; c < n_leaves; c++) {
            pq_chunk_meta *m = &rg->cols[c];
            const char *cn = r->leaves[c].info.name;
            if (m->has_file_path) {
                rc =
                    SILT_FAIL(err, SILT_EUNSUPPORTED,
                              "parquet: column %s, row group %zu: data in an external file", cn, g);
                goto fail;
            }
            if (m->encrypted) {
                rc = SILT_FAIL(err, SILT_EUNSUPPORTED, "parquet: column %s: encrypted column", cn);
                goto fail;
            }
            if (!m->has_meta) {
                rc = SILT_FAIL(err, SILT_ECORRUPT,
                               "parquet: column %s, row group %zu: ColumnChunk without meta_data",
                               cn, g);
                goto fail;
            }
            if (m->type != r->leaves[c].phys) {
                rc = SILT_FAIL(err, SILT_ECORRUPT,
                               "parquet: column %s, row group %zu: chunk type %s, schema type %s",
                               cn, g, pq__type_name(m->type), pq__type_name(r->leaves[c].phys));
                goto fail;
            }
            if (m->num_values != rg->num_rows) {
                rc = SILT_FAIL(err, SILT_ECORRUPT,
                               "parquet: column %s, row group %zu: %lld values, %lld rows", cn, g,
                               (long long)m->num_values, (long long)rg->num_rows);
                goto fail;
            }
            int64_t start = m->data_page_offset;
            if (m->has_dict_offset && m->dict_page_offset > 0 && m->dict_page_offset < start)
                start = m->dict_page_offset;
            bool ok = start >= 4 && m->total_compressed >= 0 &&
                      (uint64_t)start <= r->footer_start &&
                      (uint64_t)m->total_compressed <= r->footer_start - (uint64_t)start;
            if (ok && m->total_compressed > 0)
                ok =
                    (uint64_t)m->data_page_offset < (uint64_t)start + (uint64_t)m->total_compressed;
            if (!ok) {
                rc = SILT_FAIL(err, SILT_ECORRUPT,
                               "parquet: column %s, row group %zu: chunk bytes [%lld, +%lld) "
                               "outside the data area [4, %zu)",
                               cn, g, (long long)start, (long long)m->total_compressed,
                               r->footer_start);
                goto fail;
            }
            m->start = (uint64_t)start;
            m->end = (uint64_t)start + (uint64_t)m->total_compressed;
        }
    }
    if (fm->num_rows < 0 || (uint64_t)fm->num_rows != sum) {
        rc = SILT_FAIL(err, SILT_ECORRUPT, "parquet: file has %lld rows, row groups hold %llu",
                       (long long)fm->num_rows, (unsigned long long)sum);
        goto fail;
    }
    size_t n_idx = fm->n_rgs * n_leaves;
    r->idx = xcalloc(n_idx ? n_idx : 1, sizeof *r->idx);
    if (fm->has_created_by)
        r->created_by = arena_strndup(&r->a, fm->created_by.p, fm->created_by.n);
    *out = r;
    return SILT_OK;
fail:
    pq_reader_close(r);
    return rc;
}

uint64_t pq_reader_num_rows(const pq_reader *r) {
    return (uint64_t)r->fm.num_rows;
}
size_t pq_reader_num_columns(const pq_reader *r) {
    return r->n_leaves;
}
size_t pq_reader_num_row_groups(const pq_reader *r) {
    return r->fm.n_rgs;
}
uint64_t pq_reader_pages_decoded(const pq_reader *r) {
    return r->pages_decoded;
}

const pq_column_info *pq_reader_column(const pq_reader *r, size_t col) {
    return col < r->n_leaves ? &r->leaves[col].info : NULL;
}

int pq_reader_find_column(const pq_reader *r, const char *name) {
    for (size_t i = 0; i < r->n_leaves; i++)
        if (strcmp(r->leaves[i].info.name, name) == 0) return (int)i;
    return -1;
}

uint64_t pq_reader_row_group_rows(const pq_reader *r, size_t rg) {
    return rg < r->fm.n_rgs ? (uint64_t)r->fm.rgs[rg].num_rows : 0;
}

str_view pq_reader_kv(const pq_reader *r, const char *key) {
    size_t kn = strlen(key);
    for (size_t i = 0; i < r->fm.n_kv; i++) {
        const pq_kv_raw *kv = &r->fm.kv[i];
        if (kv->key.n == kn && memcmp(kv->key.p, key, kn) == 0)
            return kv->has_value ? kv->value : (str_view){"", 0};
    }
    return (str_view){NULL, 0};
}

const char *pq_reader_created_by(const pq_reader *r) {
    return r->created_by;
}

/* ------------------------------------------------------------------ statistics */

static bool get_fixed(str_view b, size_t n, uint8_t *out) {
    if (b.n != n) return false;
    memcpy(out, b.p, n);
    return true;
}

/* Decode one bound; false when it is malformed or not usable. */
static bool bound_value(const pq_leaf *lf, str_view b, bool is_max, pq_stat *s) {
    uint8_t v[8];
    switch (lf->phys) {
        case PQT_BOOLEAN:
            if (!get_fixed(b, 1, v)) return false;
            if (is_max)
                s->max.b = v[0] != 0;
            else
                s->min.b = v[0] != 0;
            return true;
        case PQT_INT32:
        case PQT_INT64: {
            int64_t x;
            if (lf->phys == PQT_INT32) {
                if (!get_fixed(b, 4, v)) return false;
                uint32_t u = le_get32(v);
                x = lf->unsigned_order ? (int64_t)(uint64_t)u : (int64_t)(int32_t)u;
            } else {
                if (!get_fixed(b, 8, v)) return false;
                x = (int64_t)le_get64(v);
            }
            if (lf->conv == PQV_MUL && __builtin_mul_overflow(x, lf->mul, &x)) return false;
            if (is_max)
                s->max.i64 = x;
            else
                s->min.i64 = x;
            return true;
        }
        case PQT_FLOAT:
        case PQT_DOUBLE: {
            double d;
            if (lf->phys == PQT_FLOAT) {
                if (!get_fixed(b, 4, v)) return false;
                float f;
                uint32_t u = le_get32(v);
                memcpy(&f, &u, 4);
                d = f;
            } else {
                if (!get_fixed(b, 8, v)) return false;
                uint64_t u = le_get64(v);
                memcpy(&d, &u, 8);
            }
            if (isnan(d)) return false;
            /* parquet.thrift: a +0 min may hide -0 values, a -0 max may hide +0 */
            if (d == 0) d = is_max ? 0.0 : -0.0;
            if (is_max)
                s->max.f64 = d;
            else
                s->min.f64 = d;
            return true;
        }
        case PQT_BYTE_ARRAY:
        case PQT_FIXED_LEN_BYTE_ARRAY:
            if (is_max)
                s->max_str = b;
            else
                s->min_str = b;
            return true;
        default:
            return false;
    }
}

void pq__stat_from_bounds(const pq_leaf *lf, str_view mn, str_view mx, pq_stat *out) {
    out->has_min_max = false;
    if (!lf->info.type) return;
    pq_stat s = *out;
    if (!bound_value(lf, mn, false, &s) || !bound_value(lf, mx, true, &s)) return;
    s.has_min_max = true;
    *out = s;
}

/* May the bounds of this leaf be trusted? min_value/max_value need a column order silt
 * knows; the deprecated min/max only for types whose order is the signed one. */
static bool order_known(const pq_leaf *lf) {
    if (lf->col_order == 1) return true;
    return lf->col_order == 2 && (lf->phys == PQT_FLOAT || lf->phys == PQT_DOUBLE);
}

static bool legacy_ok(const pq_leaf *lf) {
    switch (lf->phys) {
        case PQT_BOOLEAN:
        case PQT_FLOAT:
        case PQT_DOUBLE:
            return true;
        case PQT_INT32:
        case PQT_INT64:
            return !lf->unsigned_order;
        default:
            return false;
    }
}

void pq__stat_from_raw(const pq_leaf *lf, const pq_stats_raw *s, pq_stat *out) {
    memset(out, 0, sizeof *out);
    if (!s->present) return;
    if (s->has_null_count && s->null_count >= 0) {
        out->has_null_count = true;
        out->null_count = (uint64_t)s->null_count;
    }
    if (order_known(lf) && s->has_min_value && s->has_max_value)
        pq__stat_from_bounds(lf, s->min_value, s->max_value, out);
    else if (legacy_ok(lf) && s->has_min && s->has_max)
        pq__stat_from_bounds(lf, s->min, s->max, out);
}

int pq_reader_chunk_stats(const pq_reader *r, size_t rg, size_t col, pq_stat *out) {
    memset(out, 0, sizeof *out);
    if (rg >= r->fm.n_rgs || col >= r->n_leaves) return SILT_EINVAL;
    pq__stat_from_raw(&r->leaves[col], &r->fm.rgs[rg].cols[col].stats, out);
    return SILT_OK;
}

/* ------------------------------------------------------------------ page index */

/* Load and validate the page index of one chunk (invariant (2)). */
static int load_index(pq_reader *r, size_t rg, size_t col, silt_err *err) {
    pq_chunk_index *ix = &r->idx[rg * r->n_leaves + col];
    const pq_chunk_meta *m = &r->fm.rgs[rg].cols[col];
    const pq_leaf *lf = &r->leaves[col];
    if (ix->state == 3)
        return SILT_FAIL(err, SILT_ECORRUPT,
                         "parquet: column %s, row group %zu: invalid page index "
                         "(ColumnIndex/OffsetIndex)",
                         lf->info.name, rg);
    if (ix->state) return SILT_OK;
    uint64_t rows = (uint64_t)r->fm.rgs[rg].num_rows;
    if (!m->has_offset_index) {
        ix->state = 2;
        return SILT_OK;
    }
    int rc = SILT_OK;
    ix->state = 3;
    if (m->offset_index_offset < 4 || m->offset_index_length <= 0 ||
        (uint64_t)m->offset_index_offset > r->footer_start ||
        (uint64_t)m->offset_index_length > r->footer_start - (uint64_t)m->offset_index_offset)
        return SILT_FAIL(err, SILT_ECORRUPT,
                         "parquet: column %s, row group %zu: OffsetIndex outside the file",
                         lf->info.name, rg);
    rc = pq__parse_offset_index(r->data + m->offset_index_offset, (size_t)m->offset_index_length,
                                &r->a, &ix->oi, err);
    if (rc) return rc;
    const pq_offset_index *oi = &ix->oi;
    if (oi->n_locs == 0 && rows > 0)
        return SILT_FAIL(err, SILT_ECORRUPT, "parquet: column %s, row group %zu: empty OffsetIndex",
                         lf->info.name, rg);
    for (size_t i = 0; i < oi->n_locs; i++) {
        const pq_page_location *L = &oi->locs[i];
        bool ok = L->offset >= 0 && (uint64_t)L->offset >= m->start &&
                  L->compressed_page_size > 0 && (uint64_t)L->offset < m->end &&
                  (uint64_t)L->compressed_page_size <= m->end - (uint64_t)L->offset &&
                  L->first_row_index >= 0 && (uint64_t)L->first_row_index < rows;
        if (ok && i == 0) ok = L->first_row_index == 0;
        if (ok && i > 0) {
            const pq_page_location *P = &oi->locs[i - 1];
            ok = L->first_row_index > P->first_row_index &&
                 L->offset >= P->offset + P->compressed_page_size;
        }
        if (!ok)
            return SILT_FAIL(err, SILT_ECORRUPT,
                             "parquet: column %s, row group %zu: OffsetIndex entry %zu is invalid",
                             lf->info.name, rg, i);
    }
    pq_column_index ci;
    bool has_ci = false;
    if (m->has_column_index) {
        if (m->column_index_offset < 4 || m->column_index_length <= 0 ||
            (uint64_t)m->column_index_offset > r->footer_start ||
            (uint64_t)m->column_index_length > r->footer_start - (uint64_t)m->column_index_offset)
            return SILT_FAIL(err, SILT_ECORRUPT,
                             "parquet: column %s, row group %zu: ColumnIndex outside the file",
                             lf->info.name, rg);
        rc = pq__parse_column_index(r->data + m->column_index_offset,
                                    (size_t)m->column_index_length, &r->a, &ci, err);
        if (rc) return rc;
        if (ci.n_pages != oi->n_locs)
            return SILT_FAIL(err, SILT_ECORRUPT,
                             "parquet: column %s, row group %zu: ColumnIndex has %zu pages, "
                             "OffsetIndex %zu",
                             lf->info.name, rg, ci.n_pages, oi->n_locs);
        has_ci = true;
    }
    ix->n_pages = oi->n_locs;
    ix->pages = arena_alloc(&r->a, (oi->n_locs ? oi->n_locs : 1) * sizeof *ix->pages);
    for (size_t i = 0; i < oi->n_locs; i++) {
        pq_page_info *p = &ix->pages[i];
        memset(p, 0, sizeof *p);
        p->first_row = (uint64_t)oi->locs[i].first_row_index;
        uint64_t next = i + 1 < oi->n_locs ? (uint64_t)oi->locs[i + 1].first_row_index : rows;
        p->n_rows = next - p->first_row;
        if (has_ci) {
            if (!ci.null_pages[i] && order_known(lf))
                pq__stat_from_bounds(lf, ci.min_values[i], ci.max_values[i], &p->stat);
            if (ci.has_null_counts && ci.null_counts[i] >= 0) {
                p->stat.has_null_count = true;
                p->stat.null_count = (uint64_t)ci.null_counts[i];
            }
        }
    }
    ix->state = 1;
    return SILT_OK;
}

bool pq_reader_pages(pq_reader *r, size_t rg, size_t col, const pq_page_info **pages,
                     size_t *n_pages) {
    *pages = NULL;
    *n_pages = 0;
    if (rg >= r->fm.n_rgs || col >= r->n_leaves) return false;
    if (load_index(r, rg, col, NULL) != SILT_OK) return false;
    const pq_chunk_index *ix = &r->idx[rg * r->n_leaves + col];
    if (ix->state != 1) return false;
    *pages = ix->pages;
    *n_pages = ix->n_pages;
    return true;
}

/* ------------------------------------------------------------------ column buffers */

typedef struct cb_priv {
    uint64_t *a8;
    size_t cap8;
    uint8_t *b;
    size_t cap_b;
    str_view *str;
    size_t cap_str;
    uint8_t *valid;
    size_t cap_valid;
    uint32_t *idx;
    size_t cap_idx;
    uint8_t *tmp;
    size_t cap_tmp;
    uint8_t *page;
    size_t cap_page;
    uint8_t **bufs; /* decompressed pages that string views point into */
    size_t n_bufs, cap_bufs;
    str_view *dstr; /* dictionary: strings */
    size_t cap_dstr;
    uint8_t *dfix; /* dictionary: fixed-width physical values */
    size_t cap_dfix;
    size_t n_dict;
    /* The dictionary stays decoded from read to read of the same chunk (a scan reads a chunk
     * in many ranges): its decompressed page and which chunk it is (reader id, offset). */
    uint8_t *dict_buf;
    uint64_t dict_reader;
    uint64_t dict_start;
    uint8_t *prev; /* DELTA_BYTE_ARRAY: previous value */
    size_t cap_prev;
    arena mat;
    size_t mat_bytes;
} cb_priv;

void pq_colbuf_init(pq_colbuf *cb) {
    memset(cb, 0, sizeof *cb);
}

static void priv_reset(cb_priv *pv) {
    for (size_t i = 0; i < pv->n_bufs; i++) free(pv->bufs[i]);
    pv->n_bufs = 0; /* the dictionary (n_dict, dict_buf) is kept: see load_dict */
    arena_reset(&pv->mat);
    pv->mat_bytes = 0;
}

void pq_colbuf_fini(pq_colbuf *cb) {
    cb_priv *pv = cb->priv;
    if (pv) {
        priv_reset(pv);
        free(pv->a8);
        free(pv->b);
        free(pv->str);
        free(pv->valid);
        free(pv->idx);
        free(pv->tmp);
        free(pv->page);
        free(pv->bufs);
        free(pv->dstr);
        free(pv->dfix);
        free(pv->dict_buf);
        free(pv->prev);
        arena_fini(&pv->mat);
        free(pv);
    }
    memset(cb, 0, sizeof *cb);
}

/* Grow *p to hold n bytes (contents not kept). */
static void *grow(void *p, size_t *cap, size_t n) {
    if (n <= *cap && p) return p;
    free(p);
    size_t c = n < 64 ? 64 : n;
    *cap = c;
    return xmalloc(c);
}

/* ------------------------------------------------------------------ decoding a chunk */

typedef struct rd_ctx {
    pq_reader *r;
    const pq_leaf *lf;
    const pq_chunk_meta *cm;
    size_t rg, col;
    uint64_t lo, hi; /* requested rows of the row group */
    cb_priv *pv;
    silt_err *err;
    size_t page_no;  /* ordinal of the data page being decoded (for messages) */
    uint64_t offset; /* file offset of its header */
    bool dict_loaded;
    bool all_dict; /* every page that contributed rows was dictionary-encoded */
    bool any_null;
    size_t esz; /* physical value width for fixed-width types (BOOLEAN: 1 in memory) */
} rd_ctx;

#define PFAIL(c, code, fmt, ...)                                                                   \
    SILT_FAIL((c)->err, (code), "parquet: column %s, row group %zu, page %zu (offset %llu): " fmt, \
              (c)->lf->info.name, (c)->rg, (c)->page_no, (unsigned long long)(c)->offset,          \
              ##__VA_ARGS__)

static size_t phys_width(int phys, int32_t type_length) {
    switch (phys) {
        case PQT_BOOLEAN:
            return 1;
        case PQT_INT32:
        case PQT_FLOAT:
            return 4;
        case PQT_INT64:
        case PQT_DOUBLE:
            return 8;
        case PQT_FIXED_LEN_BYTE_ARRAY:
            return (size_t)type_length;
        default:
            return 0;
    }
}

static bool is_bytes(const pq_leaf *lf) {
    return lf->phys == PQT_BYTE_ARRAY || lf->phys == PQT_FIXED_LEN_BYTE_ARRAY;
}

/* Decompress a page region into memory that lives as long as needed: string columns keep
 * their pages (values point into them), other columns reuse one scratch buffer. */
static int page_bytes(rd_ctx *c, const uint8_t *src, size_t n, size_t want, bool compressed,
                      const uint8_t **out) {
    int codec = compressed ? c->cm->codec : PQC_UNCOMPRESSED;
    if (codec == PQC_UNCOMPRESSED) {
        if (n != want)
            return PFAIL(c, SILT_ECORRUPT, "uncompressed page has %zu bytes, header says %zu", n,
                         want);
        *out = src; /* in place: the file bytes outlive the colbuf's use of them */
        return SILT_OK;
    }
    if (want > PQ_MAX_PAGE_BYTES)
        return PFAIL(c, SILT_ELIMIT, "page of %zu bytes exceeds the %u byte limit", want,
                     (unsigned)PQ_MAX_PAGE_BYTES);
    uint8_t *dst;
    if (is_bytes(c->lf)) {
        dst = xmalloc(want ? want : 1);
        XGROW(c->pv->bufs, c->pv->cap_bufs, c->pv->n_bufs + 1);
        c->pv->bufs[c->pv->n_bufs++] = dst;
    } else {
        c->pv->page = grow(c->pv->page, &c->pv->cap_page, want);
        dst = c->pv->page;
    }
    char what[300];
    snprintf(what, sizeof what, "column %s, row group %zu, page %zu", c->lf->info.name, c->rg,
             c->page_no);
    int rc = pq__decompress(c->r->codec, codec, src, n, dst, want, what, c->err);
    if (rc) return rc;
    *out = dst;
    return SILT_OK;
}

void pq_reader_trust_checksums(pq_reader *r) {
    r->skip_page_crc = true;
}

static int check_crc(rd_ctx *c, const pq_page_header *h, const uint8_t *data) {
    if (!h->has_crc || c->r->skip_page_crc) return SILT_OK;
    uint32_t got = pq__crc32(data, (size_t)h->compressed_size);
#ifdef SILT_FUZZING
    /* fuzz builds: mutated pages must reach the decoders rather than stop at the CRC */
    (void)got;
    (void)c;
#else
    if (got != h->crc)
        return PFAIL(c, SILT_ECORRUPT, "page CRC mismatch (header %08x, data %08x)", h->crc, got);
#endif
    return SILT_OK;
}

/* STRING values must be UTF-8 (the query layer relies on it). */
static int check_utf8(rd_ctx *c, const str_view *s, uint64_t n) {
    if (c->lf->info.type != PQ_STRING) return SILT_OK;
    for (uint64_t i = 0; i < n; i++) {
        if (i > 0 && s[i].p == s[i - 1].p && s[i].n == s[i - 1].n) continue;
        if (!utf8_valid((const uint8_t *)s[i].p, s[i].n, NULL))
            return PFAIL(c, SILT_ECORRUPT, "invalid UTF-8 in a STRING value");
    }
    return SILT_OK;
}

/* Decode the dictionary page at the start of the chunk. */
static int load_dict(rd_ctx *c) {
    if (c->dict_loaded) return SILT_OK;
    if (c->pv->dict_reader == c->r->id && c->pv->dict_start == c->cm->start) {
        c->dict_loaded = true; /* decoded by an earlier read of this chunk */
        return SILT_OK;
    }
    c->pv->dict_reader = 0;
    c->pv->n_dict = 0;
    const uint8_t *base = c->r->data;
    uint64_t off = c->cm->start;
    size_t saved_no = c->page_no;
    uint64_t saved_off = c->offset;
    c->offset = off;
    pq_page_header h;
    size_t hl;
    int rc = pq__parse_page_header(base + off, (size_t)(c->cm->end - off), &h, &hl, c->err);
    if (rc) return rc;
    if (h.type != PQP_DICTIONARY_PAGE || !h.has_dict)
        return PFAIL(c, SILT_ECORRUPT,
                     "dictionary-encoded page, but the chunk has no dictionary page");
    if ((uint64_t)h.compressed_size > c->cm->end - off - hl)
        return PFAIL(c, SILT_ECORRUPT, "dictionary page runs past the chunk");
    const uint8_t *data = base + off + hl;
    if (h.dict_encoding != PQE_PLAIN && h.dict_encoding != PQE_PLAIN_DICTIONARY)
        return PFAIL(c, SILT_EUNSUPPORTED, "dictionary page encoding %s",
                     pq__encoding_name(h.dict_encoding));
    if (h.dict_num_values < 0) return PFAIL(c, SILT_ECORRUPT, "negative dictionary size");
    rc = check_crc(c, &h, data);
    if (rc) return rc;
    /* the dictionary gets its own buffer: the data page being decoded may sit in the scratch
     * page buffer */
    const uint8_t *p = data;
    size_t want = (size_t)h.uncompressed_size;
    if (c->cm->codec != PQC_UNCOMPRESSED) {
        if (want > PQ_MAX_PAGE_BYTES)
            return PFAIL(c, SILT_ELIMIT, "dictionary page of %zu bytes exceeds the limit", want);
        free(c->pv->dict_buf);
        uint8_t *dst = c->pv->dict_buf = xmalloc(want ? want : 1);
        char what[300];
        snprintf(what, sizeof what, "column %s, row group %zu, dictionary page", c->lf->info.name,
                 c->rg);
        rc = pq__decompress(c->r->codec, c->cm->codec, data, (size_t)h.compressed_size, dst, want,
                            what, c->err);
        if (rc) return rc;
        p = dst;
    } else if ((size_t)h.compressed_size != want) {
        return PFAIL(c, SILT_ECORRUPT, "uncompressed dictionary page sizes differ");
    }
    size_t n = (size_t)h.uncompressed_size, k = (size_t)h.dict_num_values;
    cb_priv *pv = c->pv;
    const pq_leaf *lf = c->lf;
    if (lf->phys == PQT_BYTE_ARRAY) {
        if (k > n / 4)
            return PFAIL(c, SILT_ECORRUPT, "dictionary of %zu entries in %zu bytes", k, n);
        pv->dstr = grow(pv->dstr, &pv->cap_dstr, k * sizeof *pv->dstr);
        size_t q = 0;
        for (size_t i = 0; i < k; i++) {
            if (n - q < 4) return PFAIL(c, SILT_ECORRUPT, "dictionary entry %zu truncated", i);
            uint32_t len = le_get32(p + q);
            q += 4;
            if (len > n - q) return PFAIL(c, SILT_ECORRUPT, "dictionary entry %zu truncated", i);
            pv->dstr[i] = (str_view){(const char *)p + q, len};
            q += len;
        }
        rc = check_utf8(c, pv->dstr, k);
        if (rc) return rc;
    } else if (lf->phys == PQT_FIXED_LEN_BYTE_ARRAY) {
        size_t w = (size_t)lf->type_length;
        if (k > n / w)
            return PFAIL(c, SILT_ECORRUPT, "dictionary of %zu entries in %zu bytes", k, n);
        pv->dstr = grow(pv->dstr, &pv->cap_dstr, k * sizeof *pv->dstr);
        for (size_t i = 0; i < k; i++) pv->dstr[i] = (str_view){(const char *)p + i * w, w};
    } else if (lf->phys == PQT_BOOLEAN) {
        if (k > n * 8)
            return PFAIL(c, SILT_ECORRUPT, "dictionary of %zu entries in %zu bytes", k, n);
        pv->dfix = grow(pv->dfix, &pv->cap_dfix, k);
        for (size_t i = 0; i < k; i++) pv->dfix[i] = (p[i / 8] >> (i % 8)) & 1;
    } else {
        size_t w = c->esz;
        if (k > n / w)
            return PFAIL(c, SILT_ECORRUPT, "dictionary of %zu entries in %zu bytes", k, n);
        pv->dfix = grow(pv->dfix, &pv->cap_dfix, k * w);
        if (k) memcpy(pv->dfix, p, k * w);
    }
    pv->n_dict = k;
    pv->dict_reader = c->r->id;
    pv->dict_start = c->cm->start;
    c->dict_loaded = true;
    c->page_no = saved_no;
    c->offset = saved_off;
    return SILT_OK;
}

/* Dense destination of `take` physical values at output row `oo`. */
static uint8_t *dense_dst(rd_ctx *c, uint64_t oo, uint64_t take) {
    cb_priv *pv = c->pv;
    switch (c->lf->phys) {
        case PQT_BOOLEAN:
            return pv->b + oo;
        case PQT_INT64:
        case PQT_DOUBLE:
            return (uint8_t *)(pv->a8 + oo);
        default:
            pv->tmp = grow(pv->tmp, &pv->cap_tmp, (size_t)take * 4 + 8);
            return pv->tmp;
    }
}

/* Convert dense physical values (INT32/FLOAT in tmp) into the 8-byte output and apply
 * timestamp scaling. */
static void dense_finish(rd_ctx *c, uint64_t oo, uint64_t take) {
    const pq_leaf *lf = c->lf;
    uint64_t *o = c->pv->a8 + oo;
    if (lf->phys == PQT_INT32) {
        const uint8_t *t = c->pv->tmp;
        for (uint64_t i = 0; i < take; i++) {
            uint32_t u = le_get32(t + i * 4);
            o[i] = lf->conv == PQV_U32_TO_U64 ? (uint64_t)u : (uint64_t)(int64_t)(int32_t)u;
        }
    } else if (lf->phys == PQT_FLOAT) {
        const uint8_t *t = c->pv->tmp;
        for (uint64_t i = 0; i < take; i++) {
            uint32_t u = le_get32(t + i * 4);
            float f;
            memcpy(&f, &u, 4);
            double d = f;
            memcpy(&o[i], &d, 8);
        }
    }
    if (lf->conv == PQV_MUL)
        for (uint64_t i = 0; i < take; i++) o[i] *= (uint64_t)lf->mul; /* wraps, never traps */
}

static bool add_mat(rd_ctx *c, size_t n) {
    c->pv->mat_bytes += n;
    return c->pv->mat_bytes <= PQ_MAX_MATERIALIZE;
}

/* DELTA_LENGTH_BYTE_ARRAY (also the suffixes of DELTA_BYTE_ARRAY): lengths then bytes. */
typedef struct dlba {
    pq_delta_dec len;
    const uint8_t *data, *end;
    uint64_t buf[256];
    size_t n_buf, pos;
} dlba;

static bool dlba_init(dlba *d, const uint8_t *p, size_t n, const uint8_t **after_lengths) {
    pq_delta_dec probe;
    if (!pq__delta_init(&probe, p, n, 32)) return false;
    const uint8_t *e;
    if (!pq__delta_finish(&probe, &e)) return false;
    if (!pq__delta_init(&d->len, p, n, 32)) return false;
    d->data = e;
    d->end = p + n;
    d->n_buf = d->pos = 0;
    if (after_lengths) *after_lengths = e;
    return true;
}

static bool dlba_next(dlba *d, str_view *out) {
    if (d->pos == d->n_buf) {
        size_t k = d->len.left < 256 ? (size_t)d->len.left : 256;
        if (k == 0 || !pq__delta_get(&d->len, d->buf, k)) return false;
        d->n_buf = k;
        d->pos = 0;
    }
    int32_t l = (int32_t)(uint32_t)d->buf[d->pos++];
    if (l < 0 || (size_t)l > (size_t)(d->end - d->data)) return false;
    *out = (str_view){(const char *)d->data, (size_t)l};
    d->data += l;
    return true;
}

static int decode_bytes_delta(rd_ctx *c, int enc, const uint8_t *v, size_t n, uint64_t skip,
                              uint64_t take, str_view *dst) {
    if (enc == PQE_DELTA_LENGTH_BYTE_ARRAY) {
        dlba d;
        if (!dlba_init(&d, v, n, NULL) || d.len.total < skip + take)
            return PFAIL(c, SILT_ECORRUPT, "bad DELTA_LENGTH_BYTE_ARRAY header");
        str_view s;
        for (uint64_t i = 0; i < skip; i++)
            if (!dlba_next(&d, &s))
                return PFAIL(c, SILT_ECORRUPT, "DELTA_LENGTH_BYTE_ARRAY data truncated");
        for (uint64_t i = 0; i < take; i++)
            if (!dlba_next(&d, &dst[i]))
                return PFAIL(c, SILT_ECORRUPT, "DELTA_LENGTH_BYTE_ARRAY data truncated");
        return SILT_OK;
    }
    /* DELTA_BYTE_ARRAY: prefix lengths, then the suffixes as DELTA_LENGTH_BYTE_ARRAY */
    pq_delta_dec pre, probe;
    const uint8_t *sfx;
    if (!pq__delta_init(&probe, v, n, 32) || !pq__delta_finish(&probe, &sfx) ||
        !pq__delta_init(&pre, v, n, 32))
        return PFAIL(c, SILT_ECORRUPT, "bad DELTA_BYTE_ARRAY prefix lengths");
    dlba d;
    if (!dlba_init(&d, sfx, (size_t)(v + n - sfx), NULL) || pre.total < skip + take ||
        d.len.total < skip + take)
        return PFAIL(c, SILT_ECORRUPT, "bad DELTA_BYTE_ARRAY suffixes");
    cb_priv *pv = c->pv;
    size_t prev_len = 0;
    uint64_t pbuf[256];
    size_t pn = 0, pp = 0;
    for (uint64_t i = 0; i < skip + take; i++) {
        if (pp == pn) {
            size_t k = pre.left < 256 ? (size_t)pre.left : 256;
            if (!pq__delta_get(&pre, pbuf, k))
                return PFAIL(c, SILT_ECORRUPT, "DELTA_BYTE_ARRAY truncated");
            pn = k;
            pp = 0;
        }
        int32_t pl = (int32_t)(uint32_t)pbuf[pp++];
        str_view s;
        if (pl < 0 || (size_t)pl > prev_len || !dlba_next(&d, &s))
            return PFAIL(c, SILT_ECORRUPT, "bad DELTA_BYTE_ARRAY value %llu",
                         (unsigned long long)i);
        size_t len = (size_t)pl + s.n;
        if (len > PQ_MAX_MATERIALIZE)
            return PFAIL(c, SILT_ELIMIT, "DELTA_BYTE_ARRAY value of %zu bytes", len);
        if (len > pv->cap_prev) {
            size_t cap = pv->cap_prev ? pv->cap_prev : 64;
            while (cap < len) cap *= 2;
            pv->prev = xrealloc(pv->prev, cap);
            pv->cap_prev = cap;
        }
        if (s.n) memcpy(pv->prev + pl, s.p, s.n);
        prev_len = len;
        if (i >= skip) {
            if (!add_mat(c, len))
                return PFAIL(c, SILT_ELIMIT, "DELTA_BYTE_ARRAY values exceed %u bytes",
                             (unsigned)PQ_MAX_MATERIALIZE);
            char *m = arena_alloc(&pv->mat, len ? len : 1);
            if (len) memcpy(m, pv->prev, len);
            dst[i - skip] = (str_view){m, len};
        }
    }
    return SILT_OK;
}

/* Decode `take` non-null values after skipping `skip`, densely at output row oo. */
static int decode_values(rd_ctx *c, int enc, const uint8_t *v, size_t n, uint64_t skip,
                         uint64_t take, uint64_t oo) {
    const pq_leaf *lf = c->lf;
    cb_priv *pv = c->pv;
    int phys = lf->phys;
    size_t esz = c->esz;
    bool dict = enc == PQE_RLE_DICTIONARY || enc == PQE_PLAIN_DICTIONARY;
    if (!dict) c->all_dict = false;
    if (skip + take == 0) return SILT_OK;
    switch (enc) {
        case PQE_PLAIN:
            if (phys == PQT_BYTE_ARRAY) {
                size_t q = 0;
                str_view *dst = pv->str + oo;
                for (uint64_t i = 0; i < skip + take; i++) {
                    if (n - q < 4)
                        return PFAIL(c, SILT_ECORRUPT, "PLAIN value %llu truncated",
                                     (unsigned long long)i);
                    uint32_t len = le_get32(v + q);
                    q += 4;
                    if (len > n - q)
                        return PFAIL(c, SILT_ECORRUPT, "PLAIN value %llu truncated",
                                     (unsigned long long)i);
                    if (i >= skip) dst[i - skip] = (str_view){(const char *)v + q, len};
                    q += len;
                }
                return check_utf8(c, dst, take);
            }
            if (phys == PQT_FIXED_LEN_BYTE_ARRAY) {
                if ((skip + take) > n / esz)
                    return PFAIL(c, SILT_ECORRUPT, "PLAIN values truncated");
                str_view *dst = pv->str + oo;
                for (uint64_t i = 0; i < take; i++)
                    dst[i] = (str_view){(const char *)v + (skip + i) * esz, esz};
                return SILT_OK;
            }
            if (phys == PQT_BOOLEAN) {
                if (skip + take > (uint64_t)n * 8)
                    return PFAIL(c, SILT_ECORRUPT, "PLAIN booleans truncated");
                uint8_t *dst = pv->b + oo;
                for (uint64_t i = 0; i < take; i++) {
                    uint64_t bit = skip + i;
                    dst[i] = (v[bit / 8] >> (bit % 8)) & 1;
                }
                return SILT_OK;
            }
            if (skip + take > n / esz) return PFAIL(c, SILT_ECORRUPT, "PLAIN values truncated");
            memcpy(dense_dst(c, oo, take), v + skip * esz, (size_t)take * esz);
            dense_finish(c, oo, take);
            return SILT_OK;
        case PQE_RLE_DICTIONARY:
        case PQE_PLAIN_DICTIONARY: {
            int rc = load_dict(c);
            if (rc) return rc;
            if (n < 1) return PFAIL(c, SILT_ECORRUPT, "dictionary indices missing");
            int width = v[0];
            if (width > 32) return PFAIL(c, SILT_ECORRUPT, "dictionary index width %d", width);
            pq_rle_dec d;
            pq__rle_init(&d, v + 1, n - 1, width);
            uint32_t *ix = pv->idx + oo;
            if (!pq__rle_skip(&d, skip, NULL) || !pq__rle_get_u32(&d, ix, (size_t)take))
                return PFAIL(c, SILT_ECORRUPT, "dictionary indices truncated");
            size_t nd = pv->n_dict;
            for (uint64_t i = 0; i < take; i++)
                if (ix[i] >= nd)
                    return PFAIL(c, SILT_ECORRUPT, "dictionary index %u out of %zu entries", ix[i],
                                 nd);
            if (is_bytes(lf)) {
                str_view *dst = pv->str + oo;
                for (uint64_t i = 0; i < take; i++) dst[i] = pv->dstr[ix[i]];
            } else if (phys == PQT_BOOLEAN) {
                uint8_t *dst = pv->b + oo;
                for (uint64_t i = 0; i < take; i++) dst[i] = pv->dfix[ix[i]];
            } else {
                uint8_t *dst = dense_dst(c, oo, take);
                if (esz == 8) {
                    uint64_t *d8 = (uint64_t *)(void *)dst;
                    const uint64_t *s8 = (const uint64_t *)(const void *)pv->dfix;
                    for (uint64_t i = 0; i < take; i++) d8[i] = s8[ix[i]];
                } else {
                    for (uint64_t i = 0; i < take; i++)
                        memcpy(dst + i * esz, pv->dfix + (size_t)ix[i] * esz, esz);
                }
                dense_finish(c, oo, take);
            }
            return SILT_OK;
        }
        case PQE_RLE: {
            if (phys != PQT_BOOLEAN)
                return PFAIL(c, SILT_EUNSUPPORTED, "RLE encoding for %s values",
                             pq__type_name(phys));
            if (n < 4) return PFAIL(c, SILT_ECORRUPT, "RLE booleans truncated");
            uint32_t len = le_get32(v);
            if (len > n - 4) return PFAIL(c, SILT_ECORRUPT, "RLE booleans truncated");
            pq_rle_dec d;
            pq__rle_init(&d, v + 4, len, 1);
            if (!pq__rle_skip(&d, skip, NULL) || !pq__rle_get_u8(&d, pv->b + oo, (size_t)take))
                return PFAIL(c, SILT_ECORRUPT, "RLE booleans truncated");
            return SILT_OK;
        }
        case PQE_DELTA_BINARY_PACKED: {
            if (phys != PQT_INT32 && phys != PQT_INT64)
                return PFAIL(c, SILT_EUNSUPPORTED, "DELTA_BINARY_PACKED for %s values",
                             pq__type_name(phys));
            pq_delta_dec d;
            if (!pq__delta_init(&d, v, n, phys == PQT_INT32 ? 32 : 64) || d.total < skip + take)
                return PFAIL(c, SILT_ECORRUPT, "bad DELTA_BINARY_PACKED header");
            uint64_t *o = pv->a8 + oo;
            if (!pq__delta_skip(&d, skip) || !pq__delta_get(&d, o, (size_t)take))
                return PFAIL(c, SILT_ECORRUPT, "DELTA_BINARY_PACKED data truncated");
            if (phys == PQT_INT32)
                for (uint64_t i = 0; i < take; i++)
                    o[i] = lf->conv == PQV_U32_TO_U64 ? (uint64_t)(uint32_t)o[i]
                                                      : (uint64_t)(int64_t)(int32_t)(uint32_t)o[i];
            if (lf->conv == PQV_MUL)
                for (uint64_t i = 0; i < take; i++) o[i] *= (uint64_t)lf->mul;
            return SILT_OK;
        }
        case PQE_BYTE_STREAM_SPLIT: {
            if (phys != PQT_INT32 && phys != PQT_INT64 && phys != PQT_FLOAT && phys != PQT_DOUBLE)
                return PFAIL(c, SILT_EUNSUPPORTED, "BYTE_STREAM_SPLIT for %s values",
                             pq__type_name(phys));
            if (n % esz) return PFAIL(c, SILT_ECORRUPT, "BYTE_STREAM_SPLIT data of %zu bytes", n);
            size_t streams = n / esz;
            if (skip + take > streams)
                return PFAIL(c, SILT_ECORRUPT, "BYTE_STREAM_SPLIT data truncated");
            pq__bss_decode(dense_dst(c, oo, take), v, streams, esz, (size_t)skip, (size_t)take);
            dense_finish(c, oo, take);
            return SILT_OK;
        }
        case PQE_DELTA_LENGTH_BYTE_ARRAY:
        case PQE_DELTA_BYTE_ARRAY:
            if (phys != PQT_BYTE_ARRAY)
                return PFAIL(c, SILT_EUNSUPPORTED, "%s for %s values", pq__encoding_name(enc),
                             pq__type_name(phys));
            {
                int rc = decode_bytes_delta(c, enc, v, n, skip, take, pv->str + oo);
                return rc ? rc : check_utf8(c, pv->str + oo, take);
            }
        default:
            return PFAIL(c, SILT_EUNSUPPORTED, "encoding %s (%d)", pq__encoding_name(enc), enc);
    }
}

/* Move `nn` dense values at the start of rows [oo, oo+take) to their rows (valid[] says which
 * are present); NULL rows get zero / empty values. */
static void scatter(rd_ctx *c, uint64_t oo, uint64_t take, uint64_t nn) {
    cb_priv *pv = c->pv;
    const uint8_t *valid = pv->valid + oo;
    const pq_leaf *lf = c->lf;
    uint64_t j = nn;
    if (is_bytes(lf)) {
        str_view *s = pv->str + oo;
        uint32_t *ix = pv->idx + oo;
        for (uint64_t i = take; i-- > 0;) {
            if (valid[i]) {
                j--;
                s[i] = s[j];
                ix[i] = ix[j];
            } else {
                s[i] = (str_view){"", 0};
                ix[i] = 0;
            }
        }
    } else if (lf->phys == PQT_BOOLEAN) {
        uint8_t *b = pv->b + oo;
        for (uint64_t i = take; i-- > 0;) b[i] = valid[i] ? b[--j] : 0;
    } else {
        uint64_t *a = pv->a8 + oo;
        for (uint64_t i = take; i-- > 0;) a[i] = valid[i] ? a[--j] : 0;
    }
}

typedef struct page_ref {
    pq_page_header h;
    uint64_t offset; /* header */
    size_t hdr_len;
    uint64_t first_row, rows;
} page_ref;

/* Decode the rows of one data page that fall in [lo, hi). */
static int decode_page(rd_ctx *c, const page_ref *pg) {
    uint64_t a = pg->first_row > c->lo ? pg->first_row : c->lo;
    uint64_t b = pg->first_row + pg->rows < c->hi ? pg->first_row + pg->rows : c->hi;
    if (a >= b) return SILT_OK;
    uint64_t skip = a - pg->first_row, take = b - a, oo = a - c->lo;
    const pq_page_header *h = &pg->h;
    const pq_leaf *lf = c->lf;
    const uint8_t *data = c->r->data + pg->offset + pg->hdr_len;
    int rc = check_crc(c, h, data); /* invariant (3) */
    if (rc) return rc;
    c->r->pages_decoded++;
    const uint8_t *lv = NULL, *vals;
    size_t lv_len = 0, vals_len;
    bool lv_bitpacked = false;
    if (h->type == PQP_DATA_PAGE) {
        const uint8_t *p;
        size_t n = (size_t)h->uncompressed_size;
        rc = page_bytes(c, data, (size_t)h->compressed_size, n, true, &p);
        if (rc) return rc;
        vals = p;
        vals_len = n;
        if (lf->max_def > 0) {
            if (h->def_encoding == PQE_RLE) {
                if (n < 4) return PFAIL(c, SILT_ECORRUPT, "definition levels truncated");
                uint32_t l = le_get32(p);
                if (l > n - 4) return PFAIL(c, SILT_ECORRUPT, "definition levels truncated");
                lv = p + 4;
                lv_len = l;
                vals = p + 4 + l;
                vals_len = n - 4 - l;
            } else if (h->def_encoding == PQE_BIT_PACKED) {
                size_t l = (size_t)(((uint64_t)h->num_values + 7) / 8);
                if (l > n) return PFAIL(c, SILT_ECORRUPT, "definition levels truncated");
                lv = p;
                lv_len = l;
                lv_bitpacked = true;
                vals = p + l;
                vals_len = n - l;
            } else {
                return PFAIL(c, SILT_EUNSUPPORTED, "definition level encoding %s",
                             pq__encoding_name(h->def_encoding));
            }
        }
    } else {
        if (h->def_len < 0 || h->rep_len != 0 || h->def_len > h->compressed_size ||
            h->def_len > h->uncompressed_size)
            return PFAIL(c, SILT_ECORRUPT, "bad level lengths (%d, %d)", h->def_len, h->rep_len);
        if (lf->max_def == 0 && h->def_len != 0)
            return PFAIL(c, SILT_ECORRUPT, "definition levels in a required column");
        if (h->num_nulls < 0 || h->num_nulls > h->num_values || (lf->max_def == 0 && h->num_nulls))
            return PFAIL(c, SILT_ECORRUPT, "bad null count %d", h->num_nulls);
        lv = data;
        lv_len = (size_t)h->def_len;
        size_t cn = (size_t)(h->compressed_size - h->def_len);
        size_t un = (size_t)(h->uncompressed_size - h->def_len);
        rc = page_bytes(c, data + lv_len, cn, un, h->is_compressed, &vals);
        if (rc) return rc;
        vals_len = un;
    }
    uint64_t nn_skip = skip, nn_take = take;
    if (lf->max_def > 0) {
        uint8_t *valid = c->pv->valid + oo;
        if (lv_bitpacked) {
            if (skip + take > (uint64_t)lv_len * 8)
                return PFAIL(c, SILT_ECORRUPT, "definition levels truncated");
            nn_skip = 0;
            for (uint64_t i = 0; i < skip; i++) nn_skip += (lv[i / 8] >> (7 - i % 8)) & 1;
            for (uint64_t i = 0; i < take; i++) {
                uint64_t bit = skip + i;
                valid[i] = (lv[bit / 8] >> (7 - bit % 8)) & 1;
            }
        } else {
            pq_rle_dec d;
            pq__rle_init(&d, lv, lv_len, 1);
            if (!pq__rle_skip(&d, skip, &nn_skip) || !pq__rle_get_u8(&d, valid, (size_t)take))
                return PFAIL(c, SILT_ECORRUPT, "definition levels truncated or invalid");
        }
        nn_take = 0;
        for (uint64_t i = 0; i < take; i++) nn_take += valid[i];
    }
    rc = decode_values(c, h->encoding, vals, vals_len, nn_skip, nn_take, oo);
    if (rc) return rc;
    if (nn_take < take) {
        c->any_null = true;
        scatter(c, oo, take, nn_take);
    }
    return SILT_OK;
}

/* Parse and check the header of a page at `off` inside the chunk. */
static int read_header(rd_ctx *c, uint64_t off, page_ref *pg) {
    c->offset = off;
    if (off >= c->cm->end) return PFAIL(c, SILT_ECORRUPT, "page header outside the chunk");
    int rc = pq__parse_page_header(c->r->data + off, (size_t)(c->cm->end - off), &pg->h,
                                   &pg->hdr_len, c->err);
    if (rc) {
        /* name the chunk and page as well */
        if (c->err) {
            char tmp[sizeof c->err->msg];
            snprintf(tmp, sizeof tmp, "%s", c->err->msg);
            PFAIL(c, rc, "%s", tmp);
        }
        return rc;
    }
    if ((uint64_t)pg->h.compressed_size > c->cm->end - off - pg->hdr_len)
        return PFAIL(c, SILT_ECORRUPT, "page of %d bytes runs past the chunk end",
                     pg->h.compressed_size);
    pg->offset = off;
    const pq_page_header *h = &pg->h;
    if (h->type == PQP_DATA_PAGE) {
        if (!h->has_data || h->num_values < 0)
            return PFAIL(c, SILT_ECORRUPT, "DATA_PAGE without a valid DataPageHeader");
        pg->rows = (uint64_t)h->num_values;
    } else if (h->type == PQP_DATA_PAGE_V2) {
        if (!h->has_data_v2 || h->num_rows < 0 || h->num_values != h->num_rows)
            return PFAIL(c, SILT_ECORRUPT, "DATA_PAGE_V2 with bad counts");
        pg->rows = (uint64_t)h->num_rows;
    } else if (h->type == PQP_DICTIONARY_PAGE || h->type == PQP_INDEX_PAGE) {
        pg->rows = 0;
    } else {
        return PFAIL(c, SILT_ECORRUPT, "unknown page type %d", h->type);
    }
    return SILT_OK;
}

int pq_read_column(pq_reader *r, size_t rg, size_t col, uint64_t row_lo, uint64_t row_hi,
                   pq_colbuf *out, silt_err *err) {
    if (rg >= r->fm.n_rgs || col >= r->n_leaves)
        return SILT_FAIL(err, SILT_EINVAL, "parquet: no column %zu in row group %zu", col, rg);
    uint64_t rows = (uint64_t)r->fm.rgs[rg].num_rows;
    if (row_lo > row_hi || row_hi > rows)
        return SILT_FAIL(err, SILT_EINVAL, "parquet: rows [%llu, %llu) outside [0, %llu)",
                         (unsigned long long)row_lo, (unsigned long long)row_hi,
                         (unsigned long long)rows);
    uint64_t n = row_hi - row_lo;
    const pq_leaf *lf = &r->leaves[col];
    if (n > PQ_MAX_READ_ROWS)
        return SILT_FAIL(err, SILT_ELIMIT, "parquet: column %s: %llu rows in one read",
                         lf->info.name, (unsigned long long)n);
    if (lf->phys == PQT_INT96)
        return SILT_FAIL(err, SILT_EUNSUPPORTED, "parquet: column %s: INT96 values", lf->info.name);
    const pq_chunk_meta *cm = &r->fm.rgs[rg].cols[col];
    if (!pq__codec_supported(cm->codec))
        return SILT_FAIL(err, SILT_EUNSUPPORTED, "parquet: column %s, row group %zu: codec %s (%d)",
                         lf->info.name, rg, pq__codec_name(cm->codec), cm->codec);

    /* output buffers, invariant (5) */
    cb_priv *pv = out->priv;
    if (!pv) {
        pv = xcalloc(1, sizeof *pv);
        arena_init(&pv->mat, 64 * 1024);
    } else {
        priv_reset(pv);
    }
    memset(out, 0, sizeof *out);
    out->priv = pv;
    size_t nn = (size_t)n;
    pv->idx = grow(pv->idx, &pv->cap_idx, nn * sizeof *pv->idx); /* dictionary indices */
    if (is_bytes(lf)) {
        pv->str = grow(pv->str, &pv->cap_str, nn * sizeof *pv->str);
    } else if (lf->phys == PQT_BOOLEAN) {
        pv->b = grow(pv->b, &pv->cap_b, nn);
    } else {
        pv->a8 = grow(pv->a8, &pv->cap8, nn * 8);
    }
    if (lf->max_def) pv->valid = grow(pv->valid, &pv->cap_valid, nn);

    rd_ctx c = {.r = r,
                .lf = lf,
                .cm = cm,
                .rg = rg,
                .col = col,
                .lo = row_lo,
                .hi = row_hi,
                .pv = pv,
                .err = err,
                .all_dict = true,
                .esz = phys_width(lf->phys, lf->type_length)};
    int rc = load_index(r, rg, col, err);
    if (rc) return rc;
    const pq_chunk_index *ix = &r->idx[rg * r->n_leaves + col];
    if (n > 0 && ix->state == 1) {
        /* jump to the pages that hold the rows, with the OffsetIndex */
        const pq_offset_index *oi = &ix->oi;
        size_t p = 0, lo_p = 0, hi_p = oi->n_locs;
        while (lo_p < hi_p) { /* last page with first_row <= row_lo */
            size_t mid = lo_p + (hi_p - lo_p) / 2;
            if ((uint64_t)oi->locs[mid].first_row_index <= row_lo)
                lo_p = mid + 1;
            else
                hi_p = mid;
        }
        p = lo_p ? lo_p - 1 : 0;
        for (; p < oi->n_locs && ix->pages[p].first_row < row_hi; p++) {
            const pq_page_location *L = &oi->locs[p];
            page_ref pg;
            c.page_no = p;
            rc = read_header(&c, (uint64_t)L->offset, &pg);
            if (rc) return rc;
            if (pg.h.type != PQP_DATA_PAGE && pg.h.type != PQP_DATA_PAGE_V2)
                return PFAIL(&c, SILT_ECORRUPT, "OffsetIndex points at a %s",
                             pq__page_type_name(pg.h.type));
            if (pg.hdr_len + (uint64_t)pg.h.compressed_size != (uint64_t)L->compressed_page_size ||
                pg.rows != ix->pages[p].n_rows)
                return PFAIL(&c, SILT_ECORRUPT, "page does not match its OffsetIndex entry");
            pg.first_row = ix->pages[p].first_row;
            rc = decode_page(&c, &pg);
            if (rc) return rc;
        }
    } else if (n > 0) {
        /* walk the page headers from the start of the chunk */
        uint64_t off = cm->start, row = 0;
        size_t data_pages = 0;
        bool complete = true;
        while (off < cm->end) {
            page_ref pg;
            c.page_no = data_pages;
            rc = read_header(&c, off, &pg);
            if (rc) return rc;
            if (pg.h.type == PQP_DICTIONARY_PAGE && (off != cm->start || data_pages))
                return PFAIL(&c, SILT_ECORRUPT, "dictionary page is not the first page");
            if (pg.h.type == PQP_DATA_PAGE || pg.h.type == PQP_DATA_PAGE_V2) {
                if (pg.rows > rows - row)
                    return PFAIL(&c, SILT_ECORRUPT,
                                 "pages hold more than the %llu rows of the row group",
                                 (unsigned long long)rows);
                pg.first_row = row;
                rc = decode_page(&c, &pg);
                if (rc) return rc;
                row += pg.rows;
                data_pages++;
            }
            off += pg.hdr_len + (uint64_t)pg.h.compressed_size;
            if (row >= row_hi) {
                complete = false;
                break;
            }
        }
        if (complete && row != rows) {
            c.page_no = data_pages;
            return PFAIL(&c, SILT_ECORRUPT, "pages hold %llu rows, row group has %llu",
                         (unsigned long long)row, (unsigned long long)rows);
        }
        if (row < row_hi)
            return PFAIL(&c, SILT_ECORRUPT, "pages end at row %llu", (unsigned long long)row);
    }
    out->n = nn;
    if (is_bytes(lf)) {
        out->str = pv->str;
        if (c.all_dict && c.dict_loaded && n > 0) {
            out->dict = pv->dstr;
            out->n_dict = pv->n_dict;
            out->dict_idx = pv->idx;
        }
    } else if (lf->phys == PQT_BOOLEAN) {
        out->b = pv->b;
    } else if (lf->info.type == PQ_UINT64) {
        out->u64 = pv->a8;
    } else if (lf->phys == PQT_FLOAT || lf->phys == PQT_DOUBLE) {
        out->f64 = (double *)(void *)pv->a8;
    } else {
        out->i64 = (int64_t *)(void *)pv->a8;
    }
    out->valid = c.any_null ? pv->valid : NULL;
    return SILT_OK;
}
