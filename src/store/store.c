/* SPDX-License-Identifier: MIT
 *
 * store: the merged view of files and buffer for queries, persisting of frozen buffer
 * generations, verification. See store.h for the persist sequence and its crash safety. */
#include "store.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

#define FILE_BATCH_ROWS 4096

struct store {
    schema *s;
    buffer *b;
    bool own_buffer;
    catalog *cat;
    objstore *obj;
    char *node_id;
    pq_writer_opts pq;
    query_source buf_src;       /* the buffer's source: schema functions are delegated to it */
    pthread_mutex_t persist_mu; /* one persist at a time */
    /* checked file bytes reused by scans (see "the file cache" below) */
    pthread_mutex_t fc_mu;
    struct fentry *fc_head;
    uint64_t fc_bytes, fc_max, fc_tick;
    uint64_t n_files_scanned, n_pages_decoded, n_split_scans; /* atomics */
    unsigned scan_threads;
};

static int scan_cpus(void) {
    static int n;
    int v = __atomic_load_n(&n, __ATOMIC_RELAXED);
    if (!v) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        v = c > 0 ? (int)c : 1;
        __atomic_store_n(&n, v, __ATOMIC_RELAXED);
    }
    return v;
}

int store_open(const store_opts *o, store **out, silt_err *err) {
    (void)err;
    store *st = xcalloc(1, sizeof *st);
    st->s = o->schema;
    st->b = o->buffer;
    if (!st->b) {
        st->b = buffer_create(o->schema);
        st->own_buffer = true;
    }
    st->cat = o->catalog;
    st->obj = o->objects;
    st->node_id = xstrdup(o->node_id ? o->node_id : "silt-node-0");
    st->pq = o->parquet;
    buffer_source(st->b, &st->buf_src);
    pthread_mutex_init(&st->persist_mu, NULL);
    pthread_mutex_init(&st->fc_mu, NULL);
    st->fc_max = o->file_cache_bytes;
    st->scan_threads = o->scan_threads ? o->scan_threads : (scan_cpus() >= 2 ? 2 : 1);
    *out = st;
    return SILT_OK;
}

/* ------------------------------------------------------------------ the file cache
 *
 * Scans read whole objects and check them against the catalog (size, XXH3 of the whole
 * object) before decoding. Files are immutable, so a copy that passed the check stays a
 * correct copy: it is kept in memory, bounded by fc_max bytes, least recently used evicted
 * first, and the next scan of the file skips the fetch and the check. An entry in use by a
 * scan (refs > 0) is never freed under it: an evicted one is unlinked and freed by its last
 * user. A file that is damaged in the store after it was cached is still answered from the
 * checked copy (correct rows); `silt verify` reads the store itself. */
typedef struct fentry {
    struct fentry *next;
    char key[256];
    buf data;
    int refs; /* scans using it: never evicted while > 0 */
    uint64_t last_use;
} fentry;

static void fc_evict_to(store *st, uint64_t max) {
    while (st->fc_bytes > max) {
        fentry **victim = NULL;
        for (fentry **pp = &st->fc_head; *pp; pp = &(*pp)->next)
            if ((*pp)->refs == 0 && (!victim || (*pp)->last_use < (*victim)->last_use)) victim = pp;
        if (!victim) return; /* everything is in use */
        fentry *e = *victim;
        *victim = e->next;
        st->fc_bytes -= e->data.len;
        buf_free(&e->data);
        free(e);
    }
}

static void fc_clear(store *st) {
    fentry *e = st->fc_head;
    while (e) {
        fentry *n = e->next;
        buf_free(&e->data);
        free(e);
        e = n;
    }
    st->fc_head = NULL;
    st->fc_bytes = 0;
}

void store_close(store *st) {
    if (!st) return;
    if (st->own_buffer) buffer_destroy(st->b);
    free(st->node_id);
    pthread_mutex_destroy(&st->persist_mu);
    fc_clear(st);
    pthread_mutex_destroy(&st->fc_mu);
    free(st);
}

/* ------------------------------------------------------------------ schema from the catalog */

typedef struct load_ctx {
    schema *s;
    int rc;
    silt_err *err;
} load_ctx;

static int load_one(void *arg, int64_t db_id, const char *db, int64_t table_id, const char *table,
                    const catalog_column *col) {
    load_ctx *lc = arg;
    schema_db *sd;
    schema_table *stb;
    schema_col *sc;
    int rc = schema_db_create(lc->s, db, strlen(db), &sd, lc->err);
    if (rc) return lc->rc = rc;
    sd->catalog_id = db_id;
    if (!table) return SILT_OK;
    if ((rc = schema_table_create(lc->s, sd, table, strlen(table), &stb, lc->err)))
        return lc->rc = rc;
    stb->catalog_id = table_id;
    if (!col || col->kind == 3) return SILT_OK; /* time is implicit */
    if ((rc = schema_col_create(lc->s, stb, col->name, strlen(col->name), (schema_kind)col->kind,
                                (lp_type)col->type, &sc, lc->err)))
        return lc->rc = rc;
    return SILT_OK;
}

int store_load_schema(catalog *c, schema *s, silt_err *err) {
    load_ctx lc = {s, SILT_OK, err};
    schema_wrlock(s);
    int rc = catalog_load_schema(c, load_one, &lc, err);
    schema_unlock(s);
    return rc ? rc : lc.rc;
}

/* ------------------------------------------------------------------ keys, checksums, ids */

void store_object_key(char out[256], int64_t db_id, int64_t table_id, int64_t day,
                      const char *file_id) {
    int y, m, d;
    time_civil(day, &y, &m, &d);
    snprintf(out, 256, "dbs/%" PRId64 "/%" PRId64 "/%04d-%02d-%02d/%s.parquet", db_id, table_id, y,
             m, d, file_id);
}

void store_checksum(const uint8_t *data, size_t len, char out[72]) {
    snprintf(out, 72, "xxh3:%016" PRIx64, hash64(data, len));
}

/* A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits; sorts by creation. */
static void file_id(char out[40]) {
    uint8_t u[16];
    if (getrandom(u, sizeof u, 0) != (ssize_t)sizeof u) {
        uint64_t a = hash64_seed(&u, sizeof u, (uint64_t)time_mono_ns()), b2 = hash64(&a, 8);
        memcpy(u, &a, 8);
        memcpy(u + 8, &b2, 8);
    }
    uint64_t ms = (uint64_t)(time_now_ns() / NS_PER_MS);
    for (int i = 0; i < 6; i++) u[i] = (uint8_t)(ms >> (40 - 8 * i));
    u[6] = (uint8_t)(0x70 | (u[6] & 0x0f));
    u[8] = (uint8_t)(0x80 | (u[8] & 0x3f));
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
        *p++ = hex[u[i] >> 4];
        *p++ = hex[u[i] & 15];
    }
    *p = 0;
}

/* ------------------------------------------------------------------ reading files */

typedef struct file_part {
    store *st;
    catalog_file f;
} file_part;

static pq_type pq_type_of(const query_column *c) {
    if (c->kind == QCOL_TAG) return PQ_STRING;
    if (c->kind == QCOL_TIME) return PQ_TIMESTAMP_NS;
    switch (c->type) {
        case LP_FLOAT:
            return PQ_DOUBLE;
        case LP_INT:
            return PQ_INT64;
        case LP_UINT:
            return PQ_UINT64;
        case LP_BOOL:
            return PQ_BOOL;
        default:
            return PQ_STRING;
    }
}

/* Fetch a file's object and check it against the catalog row (size, checksum). A cached
 * copy that fails the check is dropped and fetched again once from the store itself. */
static int fetch_file_once(store *st, const catalog_file *f, buf *data, silt_err *err) {
    int rc = objstore_get(st->obj, f->object_key, 0, UINT64_MAX, data, err);
    if (rc == SILT_ENOTFOUND)
        return SILT_FAIL(err, SILT_EIO, "file %s is in the catalog but not in the object store",
                         f->object_key);
    if (rc) return rc;
    if (data->len != f->size_bytes)
        return SILT_FAIL(err, SILT_ECORRUPT, "file %s: %zu bytes, the catalog says %" PRIu64,
                         f->object_key, data->len, f->size_bytes);
    char sum[72];
    store_checksum(data->p, data->len, sum);
    if (strcmp(sum, f->checksum) != 0)
        return SILT_FAIL(err, SILT_ECORRUPT, "file %s: checksum %s, the catalog says %s",
                         f->object_key, sum, f->checksum);
    return SILT_OK;
}

static int fetch_file(store *st, const catalog_file *f, buf *data, silt_err *err) {
    int rc = fetch_file_once(st, f, data, err);
    if (rc == SILT_ECORRUPT && !strcmp(st->obj->kind, "cache")) {
        log_warn("store", "%s; dropping the cached copy and reading the store",
                 err ? err->msg : "");
        objstore_cache_evict(st->obj, f->object_key);
        buf_reset(data);
        rc = fetch_file_once(st, f, data, err);
    }
    return rc;
}

typedef struct row_range {
    uint64_t lo, hi;
} row_range;

/* Row ranges of row group rg whose time pages overlap [t_min, t_max] (page index), or the
 * whole group when the file has no page index. */
static size_t time_ranges(pq_reader *r, size_t rg, int tcol, int64_t t_min, int64_t t_max,
                          row_range **out) {
    uint64_t rows = pq_reader_row_group_rows(r, rg);
    const pq_page_info *pages;
    size_t np;
    row_range *v = NULL;
    size_t n = 0, cap = 0;
    if (tcol < 0 || !pq_reader_pages(r, rg, (size_t)tcol, &pages, &np)) {
        XGROW(v, cap, 1);
        v[n++] = (row_range){0, rows};
    } else {
        for (size_t i = 0; i < np; i++) {
            const pq_stat *s = &pages[i].stat;
            if (s->has_min_max && (s->max.i64 < t_min || s->min.i64 > t_max)) continue;
            uint64_t lo = pages[i].first_row, hi = lo + pages[i].n_rows;
            if (n && v[n - 1].hi == lo)
                v[n - 1].hi = hi;
            else {
                XGROW(v, cap, n + 1);
                v[n++] = (row_range){lo, hi};
            }
        }
    }
    *out = v;
    return n;
}

/* Ranges closer than this many rows are read as one: re-decoding the page they share would
 * cost more than filtering the rows between them (the executor drops those). */
#define RANGE_GAP_ROWS 2048

static void range_add(row_range **v, size_t *n, size_t *cap, uint64_t lo, uint64_t hi) {
    if (lo >= hi) return;
    if (*n && (*v)[*n - 1].hi + RANGE_GAP_ROWS >= lo) {
        if (hi > (*v)[*n - 1].hi) (*v)[*n - 1].hi = hi;
        return;
    }
    XGROW(*v, *cap, *n + 1);
    (*v)[(*n)++] = (row_range){lo, hi};
}

/* Narrow *v (ascending, disjoint) to the rows of row group rg that filter f can want:
 * first by the tag column's page statistics (filters with an IN list), then by the values
 * themselves, decoded once per range and matched once per dictionary entry. */
static int tag_prune(pq_reader *r, size_t rg, const query_table *t, const query_tag_filter *f,
                     row_range **v, size_t *n, pq_colbuf *cb, silt_err *err) {
    int pc = pq_reader_find_column(r, t->cols[f->col].name);
    if (pc < 0 || pq_reader_column(r, (size_t)pc)->type != PQ_STRING) {
        if (!f->match(f->arg, NULL)) *n = 0; /* every row's tag is NULL */
        return SILT_OK;
    }
    row_range *out = NULL;
    size_t n_out = 0, cap = 0;
    const pq_page_info *pages;
    size_t np;
    if (f->in && pq_reader_pages(r, rg, (size_t)pc, &pages, &np)) {
        size_t k = 0; /* both lists are in row order */
        for (size_t i = 0; i < np; i++) {
            const pq_stat *st = &pages[i].stat;
            if (st->has_min_max) {
                bool hit = false;
                for (size_t j = 0; j < f->n_in && !hit; j++)
                    hit = sv_cmp(f->in[j], st->min_str) >= 0 && sv_cmp(f->in[j], st->max_str) <= 0;
                if (!hit) continue;
            }
            uint64_t lo = pages[i].first_row, hi = lo + pages[i].n_rows;
            while (k < *n && (*v)[k].hi <= lo) k++;
            for (size_t j = k; j < *n && (*v)[j].lo < hi; j++) {
                uint64_t a = (*v)[j].lo > lo ? (*v)[j].lo : lo,
                         b = (*v)[j].hi < hi ? (*v)[j].hi : hi;
                if (a < b) {
                    XGROW(out, cap, n_out + 1);
                    out[n_out++] = (row_range){a, b};
                }
            }
        }
        free(*v);
        *v = out;
        *n = n_out;
        out = NULL;
        n_out = cap = 0;
    }
    int8_t *memo = NULL; /* per dictionary entry: -1 unknown, 0 no, 1 yes */
    size_t memo_n = 0;
    int null_ok = -1;
    for (size_t i = 0; i < *n; i++) {
        uint64_t lo = (*v)[i].lo, hi = (*v)[i].hi;
        int rc = pq_read_column(r, rg, (size_t)pc, lo, hi, cb, err);
        if (rc) {
            free(out);
            free(memo);
            return rc;
        }
        if (cb->dict && cb->n_dict > memo_n) {
            memo = xrealloc(memo, cb->n_dict);
            memset(memo + memo_n, -1, cb->n_dict - memo_n);
            memo_n = cb->n_dict;
        }
        uint64_t run = 0;
        bool in_run = false;
        str_view prev = {NULL, 0};
        bool prev_ok = false, have_prev = false;
        for (size_t k = 0; k < cb->n; k++) {
            bool ok;
            if (cb->valid && !cb->valid[k]) {
                if (null_ok < 0) null_ok = f->match(f->arg, NULL);
                ok = null_ok;
            } else if (cb->dict) {
                uint32_t d = cb->dict_idx[k];
                if (memo[d] < 0) memo[d] = f->match(f->arg, &cb->dict[d]);
                ok = memo[d];
            } else { /* PLAIN strings: rows are sorted by tags, so compare with the last */
                str_view x = cb->str[k];
                if (!have_prev || !sv_eq(prev, x)) {
                    prev = x;
                    prev_ok = f->match(f->arg, &prev);
                    have_prev = true;
                }
                ok = prev_ok;
            }
            if (ok && !in_run)
                run = lo + k, in_run = true;
            else if (!ok && in_run) {
                range_add(&out, &n_out, &cap, run, lo + k);
                in_run = false;
            }
        }
        if (in_run) range_add(&out, &n_out, &cap, run, hi);
    }
    free(memo);
    free(*v);
    *v = out;
    *n = n_out;
    return SILT_OK;
}

/* ------------------------------------------------------------------ per-series top-k */

/* A run of rows of one row group inside one page of every column topk_prune looks at. */
typedef struct tk_seg {
    uint64_t lo, hi;
    const pq_stat *key[8]; /* the page statistics of each key column (min == max: the key) */
    int64_t tmin, tmax;
    bool known;   /* one key value throughout, time bounds known, inside the ranges */
    bool certain; /* and every row is in [t_min, t_max] and passes the filter */
    bool drop;
} tk_seg;


static int tk_key_cmp(const tk_seg *a, const tk_seg *b, size_t nk) {
    for (size_t i = 0; i < nk; i++) {
        int c = sv_cmp(a->key[i]->min_str, b->key[i]->min_str);
        if (c) return c;
    }
    return 0;
}

/* The page of (pages, np) holding row `row`, searching on from *at (rows ascend). */
static const pq_page_info *tk_page(const pq_page_info *pages, size_t np, size_t *at, uint64_t row) {
    while (*at < np && pages[*at].first_row + pages[*at].n_rows <= row) (*at)++;
    return *at < np && pages[*at].first_row <= row ? &pages[*at] : NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* query_scan_req.topk: leave out of *v the rows of row group rg that cannot be among the
 * first k rows (by time, newest first when desc) of their series. The page index says, for
 * a run of rows, which series it holds (a key column page whose min equals its max, without
 * NULLs), its time bounds, and whether some column of any_of has no NULL in it (every row
 * then passes the filter). Per series, once runs that certainly pass hold k rows at or after
 * (desc) time c, a run whose newest row is older than c holds none of the first k. The
 * persister writes series-aligned pages with the newest rows of each series in a page of
 * their own (pq_writer_opts.tail_rows), so a last-point query decodes only those. */
static void topk_prune(pq_reader *r, size_t rg, int tcol, const int *pcol,
                       const query_scan_req *req, row_range **v, size_t *n) {
    const query_topk_hint *h = req->topk;
    size_t nk = h->n_keys;
    if (!*n || nk == 0 || nk > 8 || tcol < 0) return;
    size_t nc = nk + 1 + h->n_any_of;
    const pq_page_info **pages = xcalloc(nc, sizeof *pages);
    size_t *np = xcalloc(nc, sizeof *np), *at = xcalloc(nc, sizeof *at);
    uint64_t *bnd = NULL;
    size_t n_bnd = 0, cap_bnd = 0;
    tk_seg *segs = NULL;
    size_t n_segs = 0;
    uint32_t *order = NULL;
    row_range *out = NULL;
    for (size_t c = 0; c < nc; c++) {
        int pc = c < nk ? pcol[h->keys[c]] : c == nk ? tcol : pcol[h->any_of[c - nk - 1]];
        if (pc < 0 || !pq_reader_pages(r, rg, (size_t)pc, &pages[c], &np[c])) {
            if (c <= nk) goto done; /* no key or time statistics: nothing to prove */
            np[c] = 0;              /* an any_of column that cannot vouch for its rows */
            continue;
        }
        for (size_t i = 0; i < np[c]; i++) {
            XGROW(bnd, cap_bnd, n_bnd + 1);
            bnd[n_bnd++] = pages[c][i].first_row;
        }
    }
    uint64_t rows = pq_reader_row_group_rows(r, rg);
    XGROW(bnd, cap_bnd, n_bnd + 1);
    bnd[n_bnd++] = rows;
    qsort(bnd, n_bnd, sizeof *bnd, cmp_u64);
    segs = xcalloc(n_bnd, sizeof *segs);
    size_t ri = 0;
    for (size_t b = 0; b + 1 < n_bnd; b++) {
        uint64_t lo = bnd[b], hi = bnd[b + 1];
        if (lo == hi) continue;
        tk_seg *sg = &segs[n_segs++];
        sg->lo = lo;
        sg->hi = hi;
        while (ri < *n && (*v)[ri].hi <= lo) ri++;
        bool inside = ri < *n && (*v)[ri].lo <= lo && hi <= (*v)[ri].hi;
        bool known = inside;
        for (size_t c = 0; c < nk && known; c++) {
            const pq_page_info *pg = tk_page(pages[c], np[c], &at[c], lo);
            known = pg && pg->first_row + pg->n_rows >= hi && pg->stat.has_min_max &&
                    pg->stat.has_null_count && pg->stat.null_count == 0 &&
                    sv_eq(pg->stat.min_str, pg->stat.max_str);
            if (known) sg->key[c] = &pg->stat;
        }
        const pq_page_info *tp = known ? tk_page(pages[nk], np[nk], &at[nk], lo) : NULL;
        if (!tp || tp->first_row + tp->n_rows < hi || !tp->stat.has_min_max) continue;
        sg->known = true;
        sg->tmin = tp->stat.min.i64;
        sg->tmax = tp->stat.max.i64;
        bool passes = h->n_any_of == 0;
        for (size_t c = nk + 1; c < nc && !passes; c++) {
            const pq_page_info *pg = tk_page(pages[c], np[c], &at[c], lo);
            passes = pg && pg->first_row + pg->n_rows >= hi && pg->stat.has_null_count &&
                     pg->stat.null_count == 0;
        }
        sg->certain = passes && sg->tmin >= req->t_min && sg->tmax <= req->t_max;
    }
    /* per series (segments sorted by key, then by time toward the wanted end) */
    order = xmalloc((n_segs ? n_segs : 1) * sizeof *order);
    size_t n_known = 0;
    for (size_t i = 0; i < n_segs; i++)
        if (segs[i].known) order[n_known++] = (uint32_t)i;
    for (size_t i = 1; i < n_known; i++) { /* insertion sort: few segments, mostly in order */
        uint32_t x = order[i];
        size_t j = i;
        for (; j > 0; j--) {
            const tk_seg *a = &segs[order[j - 1]], *b = &segs[x];
            int c = tk_key_cmp(a, b, nk);
            if (!c) c = h->desc ? (a->tmin < b->tmin) - (a->tmin > b->tmin)
                                : (a->tmax > b->tmax) - (a->tmax < b->tmax);
            if (c <= 0) break;
            order[j] = order[j - 1];
        }
        order[j] = x;
    }
    bool any_drop = false;
    for (size_t g = 0; g < n_known;) {
        size_t e = g + 1;
        while (e < n_known && !tk_key_cmp(&segs[order[g]], &segs[order[e]], nk)) e++;
        uint64_t have = 0;
        bool cut = false;
        int64_t cutoff = 0;
        for (size_t i = g; i < e && !cut; i++) {
            const tk_seg *sg = &segs[order[i]];
            if (!sg->certain) continue;
            have += sg->hi - sg->lo;
            if (have >= h->k) cut = true, cutoff = h->desc ? sg->tmin : sg->tmax;
        }
        for (size_t i = g; i < e && cut; i++) {
            tk_seg *sg = &segs[order[i]];
            sg->drop = h->desc ? sg->tmax < cutoff : sg->tmin > cutoff;
            any_drop |= sg->drop;
        }
        g = e;
    }
    if (!any_drop) goto done;
    /* *v minus the dropped segments */
    size_t n_out = 0, cap_out = 0, si = 0;
    for (size_t i = 0; i < *n; i++) {
        uint64_t lo = (*v)[i].lo, hi = (*v)[i].hi;
        while (lo < hi) {
            while (si < n_segs && segs[si].hi <= lo) si++;
            uint64_t end = hi;
            bool keep = true;
            if (si < n_segs && segs[si].lo <= lo) {
                keep = !segs[si].drop;
                if (segs[si].hi < end) end = segs[si].hi;
            } else if (si < n_segs && segs[si].lo < end) {
                end = segs[si].lo;
            }
            if (keep) {
                if (n_out && out[n_out - 1].hi == lo)
                    out[n_out - 1].hi = end;
                else {
                    XGROW(out, cap_out, n_out + 1);
                    out[n_out++] = (row_range){lo, end};
                }
            }
            lo = end;
        }
    }
    free(*v);
    *v = out;
    *n = n_out;
    out = NULL;
done:
    free(out);
    free(order);
    free(segs);
    free(bnd);
    free(at);
    free(np);
    free(pages);
}

/* Rows decoded per column and read: bounded so the decoded vectors stay small and are
 * reused from read to read (a whole row group at once would touch fresh memory for every
 * value, and page faults cost more than the decoding). A multiple of the page row limit,
 * so reads split at page boundaries. */
#define READ_ROWS 65536

/* Cut ranges longer than READ_ROWS at multiples of READ_ROWS. */
static size_t split_ranges(row_range **v, size_t n) {
    size_t extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += (size_t)(((*v)[i].hi - 1) / READ_ROWS - (*v)[i].lo / READ_ROWS);
    if (!extra) return n;
    row_range *out = xmalloc((n + extra) * sizeof *out);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (uint64_t lo = (*v)[i].lo; lo < (*v)[i].hi;) {
            uint64_t hi = (lo / READ_ROWS + 1) * READ_ROWS;
            if (hi > (*v)[i].hi) hi = (*v)[i].hi;
            out[k++] = (row_range){lo, hi};
            lo = hi;
        }
    free(*v);
    *v = out;
    return k;
}

/* The checked bytes of file f into *p, *len: from the cache (*e set: release it with
 * fc_release after the scan), or fetched and checked -- then cached if the cache is on and
 * the file fits, else left in *own for the caller to free. */
static int fc_acquire(store *st, const catalog_file *f, fentry **e, buf *own, const uint8_t **p,
                      size_t *len, silt_err *err) {
    *e = NULL;
    if (st->fc_max) {
        pthread_mutex_lock(&st->fc_mu);
        for (fentry *x = st->fc_head; x; x = x->next)
            if (!strcmp(x->key, f->object_key)) {
                x->refs++;
                x->last_use = ++st->fc_tick;
                *e = x;
                break;
            }
        pthread_mutex_unlock(&st->fc_mu);
        if (*e) {
            *p = (*e)->data.p;
            *len = (*e)->data.len;
            return SILT_OK;
        }
    }
    int rc = fetch_file(st, f, own, err);
    if (rc) return rc;
    *p = own->p;
    *len = own->len;
    if (!st->fc_max || own->len > st->fc_max) return SILT_OK;
    pthread_mutex_lock(&st->fc_mu);
    fentry *x = st->fc_head;
    while (x && strcmp(x->key, f->object_key)) x = x->next;
    if (!x) { /* (another scan may have cached it meanwhile: then ours stays private) */
        x = xcalloc(1, sizeof *x);
        snprintf(x->key, sizeof x->key, "%s", f->object_key);
        x->data = *own;
        *own = (buf){0};
        x->next = st->fc_head;
        st->fc_head = x;
        st->fc_bytes += x->data.len;
        x->refs = 1;
        x->last_use = ++st->fc_tick;
        fc_evict_to(st, st->fc_max);
        *e = x;
        *p = x->data.p;
        *len = x->data.len;
    }
    pthread_mutex_unlock(&st->fc_mu);
    return SILT_OK;
}

static void fc_release(store *st, fentry *e) {
    if (!e) return;
    pthread_mutex_lock(&st->fc_mu);
    e->refs--;
    fc_evict_to(st, st->fc_max);
    pthread_mutex_unlock(&st->fc_mu);
}

/* One read of a file scan: rows [lo, hi) of row group rg, every requested column. */
typedef struct scan_task {
    size_t rg;
    uint64_t lo, hi;
} scan_task;

/* The decoded columns of one task. claim = task << 24 | next column to decode: the two
 * threads take columns with a compare-and-swap that also checks the task, so a thread that
 * arrives late never takes a column of the slot's next task for the old one. */
typedef struct scan_slot {
    uint64_t claim; /* atomic */
    size_t done;    /* columns decoded, under scan_par.mu */
    int rc;
    silt_err err;
    pq_colbuf *cb; /* n_cols */
} scan_slot;

/* A file scan on two threads: while the query thread runs the pipeline over task k, a
 * worker decodes task k + 1 (each thread with its own reader, so no reader state is shared);
 * the query thread then helps with whatever columns of k + 1 are still undecoded. */
typedef struct scan_par {
    pq_reader *rd[2];
    const int *pcol;
    size_t n_cols;
    const bool *no_decode; /* [rg * n_cols + i] */
    const scan_task *tasks;
    size_t n_tasks;
    scan_slot slot[2];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
} scan_par;

#define SCAN_MAX_COLS (1u << 24)

static void slot_work(scan_par *sp, scan_slot *s, size_t k, int who) {
    const scan_task *tk = &sp->tasks[k];
    for (;;) {
        uint64_t w = __atomic_load_n(&s->claim, __ATOMIC_ACQUIRE);
        size_t i = (size_t)(w & (SCAN_MAX_COLS - 1));
        if ((w >> 24) != k || i >= sp->n_cols) return;
        if (!__atomic_compare_exchange_n(&s->claim, &w, w + 1, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue;
        int rc = SILT_OK;
        silt_err e = {0};
        if (sp->pcol[i] >= 0 && !sp->no_decode[tk->rg * sp->n_cols + i])
            rc = pq_read_column(sp->rd[who], tk->rg, (size_t)sp->pcol[i], tk->lo, tk->hi, &s->cb[i],
                                &e);
        pthread_mutex_lock(&sp->mu);
        if (rc && !s->rc) {
            s->rc = rc;
            s->err = e;
        }
        if (++s->done == sp->n_cols) pthread_cond_broadcast(&sp->cv);
        pthread_mutex_unlock(&sp->mu);
    }
}

static void slot_prepare(scan_par *sp, scan_slot *s, size_t k) {
    pthread_mutex_lock(&sp->mu);
    s->done = 0;
    s->rc = SILT_OK;
    __atomic_store_n(&s->claim, (uint64_t)k << 24, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&sp->cv);
    pthread_mutex_unlock(&sp->mu);
}

static void *scan_worker(void *arg) {
    scan_par *sp = arg;
    for (size_t k = 0; k < sp->n_tasks; k++) {
        scan_slot *s = &sp->slot[k % 2];
        pthread_mutex_lock(&sp->mu);
        while (!sp->stop && (__atomic_load_n(&s->claim, __ATOMIC_ACQUIRE) >> 24) != k)
            pthread_cond_wait(&sp->cv, &sp->mu);
        bool stop = sp->stop;
        pthread_mutex_unlock(&sp->mu);
        if (stop) break;
        slot_work(sp, s, k, 1);
    }
    return NULL;
}

/* Hand the decoded columns cb of task tk to fn in batches of FILE_BATCH_ROWS rows. */
static int deliver(const scan_task *tk, const int *pcol, const bool *nd, size_t n_cols,
                   pq_colbuf *cb, query_vec *vecs, uint8_t *nulls, query_batch_fn fn, void *arg,
                   bool *stop) {
    int rc = SILT_OK;
    uint64_t nrows = tk->hi - tk->lo;
    for (uint64_t off = 0; off < nrows && !rc && !*stop; off += FILE_BATCH_ROWS) {
        size_t nb = nrows - off < FILE_BATCH_ROWS ? (size_t)(nrows - off) : FILE_BATCH_ROWS;
        for (size_t i = 0; i < n_cols; i++) {
            query_vec *v = &vecs[i];
            memset(v, 0, sizeof *v);
            if (pcol[i] < 0 || nd[i]) {
                /* the file predates the column: NULL; or only its (absent) NULLs matter: any
                 * values (these arrays will do) */
                static const int64_t zeros[FILE_BATCH_ROWS];
                static const str_view empty[FILE_BATCH_ROWS];
                v->valid = nd[i] ? NULL : nulls;
                v->i64 = zeros;
                v->u64 = (const uint64_t *)zeros;
                v->f64 = (const double *)(const void *)zeros;
                v->b = (const uint8_t *)zeros;
                v->str = empty;
                continue;
            }
            pq_colbuf *c = &cb[i];
            v->valid = c->valid ? c->valid + off : NULL;
            if (c->i64) v->i64 = c->i64 + off;
            if (c->u64) v->u64 = c->u64 + off;
            if (c->f64) v->f64 = c->f64 + off;
            if (c->b) v->b = c->b + off;
            if (c->str) v->str = c->str + off;
        }
        query_batch qb = {nb, vecs};
        int fr = fn(arg, &qb);
        if (fr == QUERY_SCAN_STOP)
            *stop = true;
        else if (fr < 0)
            rc = fr;
    }
    return rc;
}

/* Partial aggregation on two threads (query_scan_req.lane2): each thread decodes whole tasks
 * with its own reader and hands them to its own consumer; the query thread takes the first
 * tasks, holding about half the rows, the worker the rest. */
typedef struct split_lane {
    pq_reader *rd;
    const int *pcol;
    const bool *no_decode;
    const scan_task *tasks;
    size_t from, to, n_cols;
    query_batch_fn fn;
    void *arg;
    int *abort; /* atomic: set by a lane that failed */
    int rc;
    silt_err err;
} split_lane;

static void *split_run(void *arg) {
    split_lane *l = arg;
    pq_colbuf *cb = xcalloc(l->n_cols ? l->n_cols : 1, sizeof *cb);
    for (size_t i = 0; i < l->n_cols; i++) pq_colbuf_init(&cb[i]);
    query_vec *vecs = xcalloc(l->n_cols ? l->n_cols : 1, sizeof *vecs);
    uint8_t *nulls = xcalloc(FILE_BATCH_ROWS, 1);
    bool stop = false;
    for (size_t k = l->from; k < l->to && !l->rc && !stop; k++) {
        if (__atomic_load_n(l->abort, __ATOMIC_ACQUIRE)) break;
        const scan_task *tk = &l->tasks[k];
        const bool *nd = l->no_decode + tk->rg * l->n_cols;
        for (size_t i = 0; i < l->n_cols && !l->rc; i++)
            if (l->pcol[i] >= 0 && !nd[i])
                l->rc = pq_read_column(l->rd, tk->rg, (size_t)l->pcol[i], tk->lo, tk->hi, &cb[i],
                                       &l->err);
        if (!l->rc)
            l->rc = deliver(tk, l->pcol, nd, l->n_cols, cb, vecs, nulls, l->fn, l->arg, &stop);
    }
    if (l->rc) __atomic_store_n(l->abort, 1, __ATOMIC_RELEASE);
    for (size_t i = 0; i < l->n_cols; i++) pq_colbuf_fini(&cb[i]);
    free(cb);
    free(vecs);
    free(nulls);
    return NULL;
}

static int split_scan(pq_reader *r0, pq_reader *r1, const int *pcol, const bool *no_decode,
                      const scan_task *tasks, size_t n_tasks, size_t n_cols, query_batch_fn fn,
                      void *arg, const query_scan_req *req, silt_err *err) {
    uint64_t total = 0, half = 0;
    for (size_t k = 0; k < n_tasks; k++) total += tasks[k].hi - tasks[k].lo;
    size_t mid = 0; /* lane 0: tasks [0, mid), about half the rows, at least one each */
    while (mid + 1 < n_tasks) {
        uint64_t len = tasks[mid].hi - tasks[mid].lo;
        if (half + len / 2 >= total / 2) break;
        half += len;
        mid++;
    }
    if (mid == 0) mid = 1;
    int abort = 0;
    split_lane l0 = {r0, pcol, no_decode, tasks, 0, mid, n_cols, fn, arg, &abort, 0, {0}};
    split_lane l1 = {r1, pcol, no_decode, tasks, mid, n_tasks, n_cols, req->lane2, req->lane2_arg,
                     &abort, 0, {0}};
    if (req->lane2_start) req->lane2_start(req->lane2_arg);
    pthread_t th;
    bool threaded = pthread_create(&th, NULL, split_run, &l1) == 0;
    split_run(&l0);
    if (threaded)
        pthread_join(th, NULL);
    else
        split_run(&l1);
    const split_lane *bad = l0.rc < 0 ? &l0 : l1.rc < 0 ? &l1 : NULL;
    if (bad && err) *err = bad->err;
    return bad ? bad->rc : SILT_OK;
}

static int file_part_scan(query_part *p, const query_table *t, const query_scan_req *req,
                          query_batch_fn fn, void *arg, silt_err *err) {
    const size_t *col_idx = req->col_idx;
    size_t n_cols = req->n_cols;
    int64_t t_min = req->t_min, t_max = req->t_max;
    file_part *fp = p->ctx;
    store *st = fp->st;
    buf data = {0};
    scan_par sp = {.n_cols = n_cols};
    pq_reader *r = NULL;
    fentry *ce = NULL;
    const uint8_t *bytes;
    size_t n_bytes;
    int rc = fc_acquire(st, &fp->f, &ce, &data, &bytes, &n_bytes, err);
    if (rc) goto out;
    if ((rc = pq_reader_open(bytes, n_bytes, &r, err))) goto out;
    pq_reader_trust_checksums(r); /* fetch_file checked the catalog's XXH3 of the whole file */
    if (n_cols >= SCAN_MAX_COLS) {
        rc = SILT_FAIL(err, SILT_ELIMIT, "scan of %zu columns", n_cols);
        goto out;
    }
    int tcol = pq_reader_find_column(r, "time");
    size_t n_rg = pq_reader_num_row_groups(r);
    int *pcol = xmalloc((n_cols ? n_cols : 1) * sizeof *pcol);
    bool *no_decode = xcalloc((n_rg ? n_rg : 1) * (n_cols ? n_cols : 1), sizeof *no_decode);
    for (size_t i = 0; i < n_cols; i++) {
        const query_column *qc = &t->cols[col_idx[i]];
        pcol[i] = pq_reader_find_column(r, qc->name);
        if (pcol[i] >= 0 && pq_reader_column(r, (size_t)pcol[i])->type != pq_type_of(qc)) {
            log_warn("store",
                     "file %s: column '%s' has another type than the table's; read as "
                     "NULL",
                     fp->f.object_key, qc->name);
            pcol[i] = -1;
        }
    }

    /* what to read: row groups and pages pruned by time, then by the tag filters */
    scan_task *tasks = NULL;
    size_t n_tasks = 0, cap_tasks = 0;
    pq_colbuf tagbuf;
    pq_colbuf_init(&tagbuf);
    for (size_t rg = 0; rg < n_rg && !rc; rg++) {
        pq_stat ts;
        if (tcol >= 0 && pq_reader_chunk_stats(r, rg, (size_t)tcol, &ts) == SILT_OK &&
            ts.has_min_max && (ts.max.i64 < t_min || ts.min.i64 > t_max))
            continue; /* row-group pruning */
        row_range *ranges;
        size_t n_ranges = time_ranges(r, rg, tcol, t_min, t_max, &ranges);
        for (size_t k = 0; k < req->n_filters && n_ranges && !rc; k++)
            rc = tag_prune(r, rg, t, &req->filters[k], &ranges, &n_ranges, &tagbuf, err);
        if (req->topk && !req->n_filters) topk_prune(r, rg, tcol, pcol, req, &ranges, &n_ranges);
        n_ranges = split_ranges(&ranges, n_ranges);
        for (size_t ri = 0; ri < n_ranges; ri++) {
            XGROW(tasks, cap_tasks, n_tasks + 1);
            tasks[n_tasks++] = (scan_task){rg, ranges[ri].lo, ranges[ri].hi};
        }
        free(ranges);
        /* count-only columns without NULLs in this row group: their statistics say every row
         * has a value, so nothing is decoded */
        for (size_t i = 0; i < n_cols; i++) {
            pq_stat cs;
            no_decode[rg * n_cols + i] =
                req->count_only && req->count_only[i] && pcol[i] >= 0 &&
                pq_reader_chunk_stats(r, rg, (size_t)pcol[i], &cs) == SILT_OK &&
                cs.has_null_count && cs.null_count == 0;
        }
    }
    pq_colbuf_fini(&tagbuf);

    if (!rc && req->lane2 && n_tasks >= 2 && st->scan_threads >= 2 &&
        pq_reader_open(bytes, n_bytes, &sp.rd[1], NULL) == SILT_OK) {
        pq_reader_trust_checksums(sp.rd[1]);
        __atomic_add_fetch(&st->n_split_scans, 1, __ATOMIC_RELAXED);
        rc = split_scan(r, sp.rd[1], pcol, no_decode, tasks, n_tasks, n_cols, fn, arg, req, err);
        free(tasks);
        free(pcol);
        free(no_decode);
        goto out;
    }
    /* decode and deliver, the next task decoded on a second thread meanwhile */
    sp.rd[0] = r;
    sp.pcol = pcol;
    sp.no_decode = no_decode;
    sp.tasks = tasks;
    sp.n_tasks = n_tasks;
    pthread_mutex_init(&sp.mu, NULL);
    pthread_cond_init(&sp.cv, NULL);
    for (int k = 0; k < 2; k++) {
        sp.slot[k].cb = xcalloc(n_cols ? n_cols : 1, sizeof *sp.slot[k].cb);
        for (size_t i = 0; i < n_cols; i++) pq_colbuf_init(&sp.slot[k].cb[i]);
        sp.slot[k].claim = UINT64_MAX; /* no task */
    }
    pthread_t worker;
    bool have_worker = false;
    if (!rc && n_tasks >= 2 && n_cols >= 2 && st->scan_threads >= 2 &&
        pq_reader_open(bytes, n_bytes, &sp.rd[1], NULL) == SILT_OK) {
        pq_reader_trust_checksums(sp.rd[1]);
        have_worker = true;
    }
    if (!rc && n_tasks) slot_prepare(&sp, &sp.slot[0], 0);
    if (!rc && n_tasks > 1) slot_prepare(&sp, &sp.slot[1], 1);
    if (have_worker && pthread_create(&worker, NULL, scan_worker, &sp) != 0) have_worker = false;
    query_vec *vecs = xcalloc(n_cols ? n_cols : 1, sizeof *vecs);
    uint8_t *nulls = xcalloc(FILE_BATCH_ROWS, 1);
    bool stop = false;
    for (size_t k = 0; k < n_tasks && !rc && !stop; k++) {
        scan_slot *s = &sp.slot[k % 2];
        slot_work(&sp, s, k, 0);
        pthread_mutex_lock(&sp.mu);
        while (s->done < n_cols) pthread_cond_wait(&sp.cv, &sp.mu);
        pthread_mutex_unlock(&sp.mu);
        if (s->rc) {
            rc = s->rc;
            if (err) *err = s->err;
            break;
        }
        rc = deliver(&tasks[k], pcol, no_decode + tasks[k].rg * n_cols, n_cols, s->cb, vecs, nulls,
                     fn, arg, &stop);
        if (!rc && !stop && k + 2 < n_tasks) slot_prepare(&sp, s, k + 2);
    }
    pthread_mutex_lock(&sp.mu);
    sp.stop = true;
    pthread_cond_broadcast(&sp.cv);
    pthread_mutex_unlock(&sp.mu);
    if (have_worker) pthread_join(worker, NULL);
    pthread_mutex_destroy(&sp.mu);
    pthread_cond_destroy(&sp.cv);
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < n_cols; i++) pq_colbuf_fini(&sp.slot[k].cb[i]);
        free(sp.slot[k].cb);
    }
    free(tasks);
    free(vecs);
    free(pcol);
    free(nulls);
    free(no_decode);
out:
    for (int k = 0; k < 2; k++) {
        pq_reader *x = k ? sp.rd[1] : r;
        if (!x) continue;
        if (!k) __atomic_add_fetch(&st->n_files_scanned, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&st->n_pages_decoded, pq_reader_pages_decoded(x), __ATOMIC_RELAXED);
    }
    pq_reader_close(sp.rd[1]);
    pq_reader_close(r);
    fc_release(st, ce);
    buf_free(&data);
    return rc;
}

static void file_part_release(query_part *p) {
    free(p->ctx);
}

void store_get_stats(store *st, store_stats *out) {
    out->files_scanned = __atomic_load_n(&st->n_files_scanned, __ATOMIC_RELAXED);
    out->pages_decoded = __atomic_load_n(&st->n_pages_decoded, __ATOMIC_RELAXED);
    out->split_scans = __atomic_load_n(&st->n_split_scans, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ the query source */

static int st_db_exists(const query_source *qs, const char *db) {
    store *st = qs->ctx;
    return st->buf_src.db_exists(&st->buf_src, db);
}

static int st_list_tables(const query_source *qs, const char *db, char ***names, size_t *n,
                          silt_err *err) {
    store *st = qs->ctx;
    return st->buf_src.list_tables(&st->buf_src, db, names, n, err);
}

static int st_table_schema(const query_source *qs, const char *db, const char *table,
                           query_table *out, silt_err *err) {
    store *st = qs->ctx;
    return st->buf_src.table_schema(&st->buf_src, db, table, out, err);
}

static void st_table_release(const query_source *qs, query_table *t) {
    store *st = qs->ctx;
    st->buf_src.table_release(&st->buf_src, t);
}

static int st_scan(const query_source *qs, const query_scan_req *req, query_batch_fn fn, void *arg,
                   silt_err *err) {
    store *st = qs->ctx;
    if (!req->schema) return SILT_FAIL(err, SILT_EINVAL, "scan without a table schema");
    uint32_t tid = buffer_query_table_id(req->schema);
    /* buffer generations first, then the catalog: a generation dropped in between has its
     * files committed before, so nothing is missed (at worst both are seen, and merged) */
    query_part *bparts = NULL;
    size_t nb = 0, capb = 0;
    buffer_table_parts(st->b, tid, &bparts, &nb, &capb);
    schema_rdlock(st->s);
    schema_table *stb = schema_table_by_id(st->s, tid);
    int64_t cat_id = stb ? stb->catalog_id : 0;
    schema_unlock(st->s);
    catalog_file *files = NULL;
    size_t nf = 0;
    int rc = SILT_OK;
    if (cat_id && st->cat)
        rc = catalog_list_files(st->cat, cat_id, req->t_min, req->t_max, &files, &nf, err);
    query_part *parts = xcalloc(nf + nb + 1, sizeof *parts);
    size_t n = 0;
    for (size_t i = 0; !rc && i < nf; i++) {
        file_part *fp = xmalloc(sizeof *fp);
        fp->st = st;
        fp->f = files[i];
        parts[n++] = (query_part){files[i].min_time, files[i].max_time, files[i].row_count, fp,
                                  file_part_scan,    file_part_release};
    }
    for (size_t i = 0; i < nb; i++) parts[n++] = bparts[i];
    if (!rc) rc = query_merge_scan(parts, n, req->schema, req, fn, arg, err);
    for (size_t i = 0; i < n; i++)
        if (parts[i].release) parts[i].release(&parts[i]);
    free(parts);
    free(bparts);
    free(files);
    return rc;
}

static int st_list_dbs(const query_source *qs, char ***names, size_t *n, silt_err *err) {
    store *st = qs->ctx;
    return st->buf_src.list_dbs(&st->buf_src, names, n, err);
}

/* ------------------------------------------------------------------ system.parquet_files */

typedef struct tbl_id {
    int64_t catalog_id;
    char *name;
} tbl_id;

static int cmp_tbl_id(const void *a, const void *b) {
    int64_t x = ((const tbl_id *)a)->catalog_id, y = ((const tbl_id *)b)->catalog_id;
    return x < y ? -1 : x > y;
}

static int cmp_file_info(const void *a, const void *b) {
    const query_file_info *x = a, *y = b;
    int c = strcmp(x->table, y->table);
    if (c) return c;
    if (x->created_at != y->created_at) return x->created_at < y->created_at ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* The catalog's file rows of db's tables (every row: the catalog keeps a file's row until
 * it is collected, marked ones included). Tables the catalog does not know yet (never
 * persisted) have no files. */
static int st_list_files(const query_source *qs, const char *db, query_file_info **out, size_t *n,
                         silt_err *err) {
    store *st = qs->ctx;
    *out = NULL;
    *n = 0;
    tbl_id *ids = NULL;
    size_t n_ids = 0;
    schema_rdlock(st->s);
    schema_db *d = schema_db_find(st->s, db, strlen(db));
    if (d) {
        ids = xcalloc(d->n_tables + 1, sizeof *ids);
        for (uint32_t i = 0; i < d->n_tables; i++) {
            if (d->tables[i]->dropped) continue; /* its files are the catalog's, marked */
            int64_t cid = atomic_load(&d->tables[i]->catalog_id);
            if (cid) ids[n_ids++] = (tbl_id){cid, xstrdup(d->tables[i]->name)};
        }
    }
    schema_unlock(st->s);
    if (!d) return SILT_FAIL(err, SILT_ENOTFOUND, "database '%s' not found", db);
    catalog_file *files = NULL;
    size_t nf = 0;
    int rc = SILT_OK;
    if (n_ids && st->cat) rc = catalog_list_all_files(st->cat, &files, &nf, err);
    if (rc == SILT_OK && nf) {
        qsort(ids, n_ids, sizeof *ids, cmp_tbl_id);
        query_file_info *v = xcalloc(nf, sizeof *v);
        size_t k = 0;
        for (size_t i = 0; i < nf; i++) {
            tbl_id key = {files[i].table_id, NULL};
            tbl_id *t = bsearch(&key, ids, n_ids, sizeof *ids, cmp_tbl_id);
            if (!t) continue; /* another database's file */
            v[k++] = (query_file_info){.table = xstrdup(t->name),
                                       .path = xstrdup(files[i].object_key),
                                       .size_bytes = files[i].size_bytes,
                                       .row_count = files[i].row_count,
                                       .min_time = files[i].min_time,
                                       .max_time = files[i].max_time,
                                       .created_at = files[i].created_at,
                                       .to_delete_at = files[i].to_delete_at};
        }
        qsort(v, k, sizeof *v, cmp_file_info);
        *out = v;
        *n = k;
    }
    free(files);
    for (size_t i = 0; i < n_ids; i++) free(ids[i].name);
    free(ids);
    return rc;
}

void store_source(store *st, query_source *out) {
    *out = (query_source){st, st_db_exists, st_list_tables, st_table_schema, st_table_release,
                          st_scan, st_list_dbs, st_list_files,
                          /* create/drop need the write gate and the WAL: the server adds
                           * them (server_admin.c) */
                          NULL, NULL, NULL, NULL};
}

/* ------------------------------------------------------------------ persisting */

typedef struct table_cols {
    buffer_export_col *ex;
    pq_column_def *defs;
    uint32_t *sort_tags;
    size_t n, n_tags;
    catalog_column *ccols;
    char **names; /* owned copies */
} table_cols;

static void table_cols_fini(table_cols *tc) {
    for (size_t i = 0; i < tc->n; i++) free(tc->names[i]);
    free(tc->names);
    free(tc->ex);
    free(tc->defs);
    free(tc->sort_tags);
    free(tc->ccols);
    memset(tc, 0, sizeof *tc);
}

static int cmp_col_name(const void *a, const void *b) {
    const schema_col *x = *(schema_col *const *)a, *y = *(schema_col *const *)b;
    return strcmp(x->name, y->name);
}

/* The file layout of a table: tags sorted by name (the sort key), fields sorted by name,
 * then time. Caller holds the schema read lock. */
static void table_layout(const schema_table *t, table_cols *tc) {
    size_t n = t->n_cols;
    schema_col **cols = xmalloc((n ? n : 1) * sizeof *cols);
    memcpy(cols, t->cols, n * sizeof *cols);
    qsort(cols, n, sizeof *cols, cmp_col_name);
    tc->ex = xcalloc(n + 1, sizeof *tc->ex);
    tc->defs = xcalloc(n + 1, sizeof *tc->defs);
    tc->sort_tags = xcalloc(n + 1, sizeof *tc->sort_tags);
    tc->ccols = xcalloc(n + 1, sizeof *tc->ccols);
    tc->names = xcalloc(n + 1, sizeof *tc->names);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            const schema_col *c = cols[i];
            bool tag = c->kind == SCHEMA_TAG;
            if (tag != (pass == 0)) continue;
            size_t k = tc->n++;
            tc->names[k] = xstrdup(c->name);
            tc->ex[k] = (buffer_export_col){c->id, tag, (lp_type)c->type};
            query_column qc = {c->name, tag ? QCOL_TAG : QCOL_FIELD, (lp_type)c->type};
            tc->defs[k] = (pq_column_def){tc->names[k], pq_type_of(&qc), true, tag};
            tc->ccols[k] =
                (catalog_column){tc->names[k], c->kind, c->kind == SCHEMA_FIELD ? c->type : 0};
            if (tag) tc->sort_tags[tc->n_tags++] = c->id;
        }
    }
    size_t k = tc->n++;
    tc->names[k] = xstrdup("time");
    tc->ex[k] = (buffer_export_col){UINT32_MAX, false, 0};
    tc->defs[k] = (pq_column_def){tc->names[k], PQ_TIMESTAMP_NS, false, false};
    tc->ccols[k] = (catalog_column){tc->names[k], 3, 0};
    free(cols);
}

static const char *type_word(const pq_column_def *d, const buffer_export_col *e) {
    if (e->col_id == UINT32_MAX) return "timestamp_ns";
    if (e->is_tag) return "tag";
    (void)d;
    return lp_type_name(e->type);
}

typedef struct write_ctx {
    pq_writer *w;
    size_t n_cols;
    pq_vec *pv;
    silt_err *err;
} write_ctx;

static int write_batch(void *arg, const query_vec *vecs, size_t n) {
    write_ctx *wc = arg;
    for (size_t i = 0; i < wc->n_cols; i++)
        wc->pv[i] =
            (pq_vec){vecs[i].i64, vecs[i].u64, vecs[i].f64, vecs[i].b, vecs[i].str, vecs[i].valid};
    return pq_writer_write(wc->w, wc->pv, n, wc->err);
}

/* Put with a few retries: the object store backends retry transient errors themselves;
 * this covers a store that comes back after a short outage. */
static int put_object(store *st, const char *key, const buf *data, silt_err *err) {
    int rc = SILT_EIO;
    for (int attempt = 0; attempt < 3; attempt++) {
        rc = objstore_put(st->obj, key, data->p, data->len, err);
        if (rc == SILT_OK || rc == SILT_EEXIST || rc == SILT_EINVAL) break;
        log_warn("store", "put %s failed (%s), attempt %d of 3", key, err ? err->msg : "",
                 attempt + 1);
    }
    return rc;
}

static int ensure_ids(store *st, uint32_t table_id, int64_t *db_cat, int64_t *tbl_cat,
                      char **db_name, char **tbl_name, silt_err *err) {
    schema_rdlock(st->s);
    schema_table *t = schema_table_by_id(st->s, table_id);
    if (!t) {
        schema_unlock(st->s);
        return SILT_FAIL(err, SILT_ENOTFOUND, "table %u is not in the schema", table_id);
    }
    schema_db *d = t->db;
    *db_cat = d->catalog_id;
    *tbl_cat = t->catalog_id;
    *db_name = xstrdup(d->name);
    *tbl_name = xstrdup(t->name);
    schema_unlock(st->s);
    int rc;
    if (!*db_cat) {
        if ((rc = catalog_ensure_db(st->cat, *db_name, db_cat, err))) return rc;
        d->catalog_id = *db_cat;
    }
    if (!*tbl_cat) {
        if ((rc = catalog_ensure_table(st->cat, *db_cat, *tbl_name, tbl_cat, err))) return rc;
        t->catalog_id = *tbl_cat;
    }
    return SILT_OK;
}

static char *schema_json(const char *db, const char *table, const table_cols *tc,
                         const buffer_gen_info *gi) {
    json_t *root = json_object(), *cols = json_array(), *sk = json_array();
    json_object_set_new(root, "format", json_integer(1));
    json_object_set_new(root, "database", json_string(db));
    json_object_set_new(root, "table", json_string(table));
    for (size_t i = 0; i < tc->n; i++) {
        json_t *c = json_object();
        json_object_set_new(c, "name", json_string(tc->names[i]));
        json_object_set_new(c, "kind",
                            json_string(tc->ex[i].col_id == UINT32_MAX ? "time"
                                        : tc->ex[i].is_tag             ? "tag"
                                                                       : "field"));
        json_object_set_new(c, "type", json_string(type_word(&tc->defs[i], &tc->ex[i])));
        json_array_append_new(cols, c);
        if (tc->ex[i].is_tag || tc->ex[i].col_id == UINT32_MAX)
            json_array_append_new(sk, json_string(tc->names[i]));
    }
    json_object_set_new(root, "columns", cols);
    json_object_set_new(root, "sort_key", sk);
    json_object_set_new(root, "min_seq", json_integer((json_int_t)gi->min_seq));
    json_object_set_new(root, "max_seq", json_integer((json_int_t)gi->max_seq));
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    return s;
}

int store_persist(store *st, buffer_gen *g, uint64_t persisted_seq, wal *w, persist_stats *stats,
                  silt_err *err) {
    pthread_mutex_lock(&st->persist_mu);
    if (st->b && !buffer_gen_is_frozen(st->b, g)) {
        /* another persister (a DROP persisting everything, or the persister thread) did it
         * while we waited for persist_mu: nothing to do, and nothing must be written twice */
        pthread_mutex_unlock(&st->persist_mu);
        if (stats) *stats = (persist_stats){0};
        return SILT_OK;
    }
    int64_t t0 = time_mono_ns();
    buffer_gen_info gi;
    buffer_gen_get_info(g, &gi);
    if (persisted_seq < gi.max_seq) persisted_seq = gi.max_seq;
    buffer_chunk_desc *chunks = NULL;
    size_t n_chunks = 0;
    catalog_file *files = NULL;
    size_t n_files = 0;
    catalog_column *ccols = NULL;
    int64_t *ccol_tables = NULL;
    char **owned = NULL;
    size_t n_ccols = 0, cap_ccols = 0, n_owned = 0, cap_owned = 0;
    uint64_t rows = 0, bytes = 0;
    int rc = buffer_gen_chunks(g, &chunks, &n_chunks);
    if (!rc && n_chunks) files = xcalloc(n_chunks, sizeof *files);
    for (size_t ci = 0; ci < n_chunks && !rc; ci++) {
        buffer_chunk_desc *cd = &chunks[ci];
        int64_t db_cat, tbl_cat;
        char *db_name = NULL, *tbl_name = NULL;
        if ((rc = ensure_ids(st, cd->table_id, &db_cat, &tbl_cat, &db_name, &tbl_name, err))) {
            free(db_name);
            free(tbl_name);
            break;
        }
        table_cols tc = {0};
        schema_rdlock(st->s);
        table_layout(schema_table_by_id(st->s, cd->table_id), &tc);
        schema_unlock(st->s);
        char *sj = schema_json(db_name, tbl_name, &tc, &gi);
        pq_kv kv[1] = {{"silt.schema", sj}};
        pq_writer_opts po = st->pq;
        po.kv = kv;
        po.n_kv = 1;
        po.series_cols = tc.n_tags; /* the sort key's tags: pages aligned to series */
        pq_writer *pw = NULL;
        buf data = {0};
        pq_vec *pv = xcalloc(tc.n, sizeof *pv);
        write_ctx wc = {NULL, tc.n, pv, err};
        rc = pq_writer_open(tc.defs, tc.n, &po, &pw, err);
        if (!rc) {
            wc.w = pw;
            rc = buffer_gen_export(g, cd->table_id, cd->day, tc.sort_tags, tc.n_tags, tc.ex, tc.n,
                                   65536, write_batch, &wc, err);
            if (rc)
                pq_writer_abort(pw);
            else
                rc = pq_writer_finish(pw, &data, err);
        }
        free(pv);
        free(sj);
        if (!rc) {
            char fid[40];
            file_id(fid);
            catalog_file *f = &files[n_files];
            memset(f, 0, sizeof *f);
            f->table_id = tbl_cat;
            f->day = cd->day;
            store_object_key(f->object_key, db_cat, tbl_cat, cd->day, fid);
            f->min_time = cd->min_time;
            f->max_time = cd->max_time;
            f->row_count = cd->rows;
            f->size_bytes = data.len;
            store_checksum(data.p, data.len, f->checksum);
            rc = put_object(st, f->object_key, &data, err);
            if (!rc && (rc = INJECT("persist.after_put")))
                SILT_FAIL(err, rc, "injected failure after put");
            if (!rc) {
                n_files++;
                rows += cd->rows;
                bytes += data.len;
                log_debug("store", "put %s: %" PRIu64 " rows, %zu bytes", f->object_key, cd->rows,
                          data.len);
            }
        }
        buf_free(&data);
        /* the table's columns go into the same catalog transaction */
        for (size_t i = 0; !rc && i < tc.n; i++) {
            XGROW(ccols, cap_ccols, n_ccols + 1);
            ccol_tables = xrealloc(ccol_tables, cap_ccols * sizeof *ccol_tables);
            XGROW(owned, cap_owned, n_owned + 1);
            owned[n_owned] = xstrdup(tc.ccols[i].name);
            ccols[n_ccols] = tc.ccols[i];
            ccols[n_ccols].name = owned[n_owned++];
            ccol_tables[n_ccols++] = tbl_cat;
        }
        table_cols_fini(&tc);
        free(db_name);
        free(tbl_name);
    }
    if (!rc) {
        catalog_commit cm = {.files = files,
                             .n_files = n_files,
                             .col_table_ids = ccol_tables,
                             .cols = ccols,
                             .n_cols = n_ccols,
                             .node_id = st->node_id,
                             .persisted_seq = persisted_seq};
        rc = catalog_commit_persist(st->cat, &cm, err);
        if (!rc && (rc = INJECT("persist.after_commit")))
            SILT_FAIL(err, rc, "injected failure after the catalog commit");
        if (rc == SILT_OK || rc == SILT_EIO) {
            /* after the commit the files are the data: stop serving the generation */
        }
    }
    bool committed = rc == SILT_OK;
    if (committed) {
        buffer_drop_frozen(st->b, g);
        if (w) {
            silt_err werr = {0};
            int wr = wal_remove_through(w, persisted_seq, &werr);
            if (wr)
                log_warn("store",
                         "persisted through seq %" PRIu64 ", but removing WAL "
                         "segments failed: %s (retried at the next persist or restart)",
                         persisted_seq, werr.msg);
        }
    }
    int64_t elapsed = time_mono_ns() - t0;
    if (committed) {
        log_info("store",
                 "persisted %zu file(s), %" PRIu64 " rows, %.1f MB in %.3f s "
                 "(%.0f rows/s); WAL persisted through seq %" PRIu64,
                 n_files, rows, (double)bytes / 1e6, (double)elapsed / 1e9,
                 elapsed ? (double)rows / ((double)elapsed / 1e9) : 0.0, persisted_seq);
        if (stats) *stats = (persist_stats){n_files, rows, bytes, elapsed, persisted_seq};
    }
    for (size_t i = 0; i < n_owned; i++) free(owned[i]);
    free(owned);
    free(ccols);
    free(ccol_tables);
    free(files);
    free(chunks);
    pthread_mutex_unlock(&st->persist_mu);
    return rc;
}

int store_commit_watermark(store *st, uint64_t persisted_seq, silt_err *err) {
    catalog_commit cm = {.node_id = st->node_id, .persisted_seq = persisted_seq};
    return catalog_commit_persist(st->cat, &cm, err);
}

/* ------------------------------------------------------------------ create, drop */

int store_create_db(store *st, const char *db, bool *created, silt_err *err) {
    schema_db *d = NULL;
    schema_wrlock(st->s);
    bool existed = schema_db_find(st->s, db, strlen(db)) != NULL;
    int rc = schema_db_create(st->s, db, strlen(db), &d, err);
    schema_unlock(st->s);
    if (rc) return rc;
    if (created) *created = !existed;
    if (atomic_load(&d->catalog_id)) return SILT_OK;
    /* durable now, not at the first persist: the catalog is what a restart loads */
    int64_t id = 0;
    rc = st->cat ? catalog_ensure_db(st->cat, db, &id, err) : SILT_OK;
    if (rc) {
        if (!existed) {
            schema_wrlock(st->s);
            schema_db_drop(st->s, d);
            schema_unlock(st->s);
        }
        return rc;
    }
    atomic_store(&d->catalog_id, id);
    return SILT_OK;
}

/* Drop db (table NULL) or one of its tables: catalog marks first, then the schema, so a
 * failure leaves everything as it was. */
static int drop_obj(store *st, const char *db, const char *table, int64_t grace_ns, size_t *n_files,
                    silt_err *err) {
    schema_rdlock(st->s);
    schema_db *d = schema_db_find(st->s, db, strlen(db));
    schema_table *t = d && table ? schema_table_find(d, table, strlen(table)) : NULL;
    int64_t cid =
        d ? atomic_load(table ? (t ? &t->catalog_id : &d->catalog_id) : &d->catalog_id) : 0;
    schema_unlock(st->s);
    if (!d) return SILT_FAIL(err, SILT_ENOTFOUND, "database not found: %s", db);
    if (table && !t) return SILT_FAIL(err, SILT_ENOTFOUND, "measurement not found");
    size_t marked = 0;
    int rc = SILT_OK;
    int64_t at = time_now_ns() + grace_ns;
    if (!st->cat) {
        rc = SILT_OK;
    } else if (table && cid) {
        rc = catalog_delete_table(st->cat, cid, at, &marked, err);
    } else if (!table) {
        /* the database may be unknown to the catalog (never persisted), yet hold tables
         * that are: those only exist under a known database, so cid covers them */
        if (cid) rc = catalog_delete_db(st->cat, cid, at, &marked, err);
    }
    if (rc) return rc;
    schema_wrlock(st->s);
    if (table)
        schema_table_drop(st->s, t);
    else
        schema_db_drop(st->s, d);
    schema_unlock(st->s);
    if (n_files) *n_files = marked;
    log_info("store", "dropped %s '%s%s%s': %zu file(s) marked for deletion in %.0f days",
             table ? "table" : "database", db, table ? "." : "", table ? table : "", marked,
             (double)grace_ns / (86400.0 * NS_PER_S));
    return SILT_OK;
}

int store_drop_table(store *st, const char *db, const char *table, int64_t grace_ns,
                     size_t *n_files, silt_err *err) {
    return drop_obj(st, db, table, grace_ns, n_files, err);
}

int store_drop_db(store *st, const char *db, int64_t grace_ns, size_t *n_files, silt_err *err) {
    return drop_obj(st, db, NULL, grace_ns, n_files, err);
}

/* ------------------------------------------------------------------ verification */

static int cmp_key(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int store_verify(catalog *c, objstore *o, buf *out, store_verify_report *rep, silt_err *err) {
    memset(rep, 0, sizeof *rep);
    catalog_file *files = NULL;
    size_t nf = 0;
    int rc = catalog_list_all_files(c, &files, &nf, err);
    if (rc) return rc;
    char **known = xcalloc(nf + 1, sizeof *known);
    char *after = NULL;
    buf data = {0};
    for (size_t i = 0; i < nf; i++) {
        catalog_file *f = &files[i];
        known[i] = f->object_key;
        rep->files++;
        buf_reset(&data);
        silt_err e = {0};
        int gr = objstore_get(o, f->object_key, 0, UINT64_MAX, &data, &e);
        const char *state = f->to_delete_at ? " (marked for deletion)" : "";
        if (gr == SILT_ENOTFOUND) {
            rep->missing++;
            buf_printf(out, "missing: %s%s\n", f->object_key, state);
            continue;
        }
        if (gr) {
            rc = SILT_FAIL(err, gr, "reading %s: %s", f->object_key, e.msg);
            goto done;
        }
        if (data.len != f->size_bytes) {
            rep->size_mismatch++;
            buf_printf(out, "size mismatch: %s: %zu bytes, catalog says %" PRIu64 "%s\n",
                       f->object_key, data.len, f->size_bytes, state);
            continue;
        }
        char sum[72];
        store_checksum(data.p, data.len, sum);
        if (strcmp(sum, f->checksum) != 0) {
            rep->checksum_mismatch++;
            buf_printf(out, "checksum mismatch: %s: %s, catalog says %s%s\n", f->object_key, sum,
                       f->checksum, state);
            continue;
        }
        rep->ok++;
    }
    qsort(known, nf, sizeof *known, cmp_key);
    for (;;) {
        objstore_page pg = {0};
        if ((rc = objstore_list(o, "dbs/", after, 1000, &pg, err))) goto done;
        for (size_t i = 0; i < pg.n; i++) {
            const char *k = pg.entries[i].key;
            if (!bsearch(&k, known, nf, sizeof *known, cmp_key)) {
                rep->orphans++;
                buf_printf(out, "orphan: %s (%" PRIu64 " bytes; not in the catalog)\n", k,
                           pg.entries[i].size);
            }
        }
        free(after);
        after = pg.next ? xstrdup(pg.next) : NULL;
        objstore_page_free(&pg);
        if (!after) break;
    }
done:
    free(after);
    buf_free(&data);
    free(known);
    free(files);
    return rc;
}
