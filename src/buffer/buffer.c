/* SPDX-License-Identifier: MIT
 *
 * buffer: columnar chunks per table and UTC day, last-write-wins merge on arrival, and the
 * query_source that scans them. See buffer.h.
 *
 * Layout of one table (btable):
 *   tag slots     each tag column gets a slot; a series stores one dictionary code per slot
 *                 (0 = the series has no value for that tag)
 *   dicts[slot]   tag value <-> code; values live in an arena and never move
 *   series[]      id -> codes; series_map: canonical tag set bytes -> id
 *   chunks[]      sorted by day; each holds rows in blocks of BLOCK_ROWS: time[], series[],
 *                 and per field column (indexed by schema column id) a value array and a
 *                 validity byte array
 *   chunk->sr[]   per series, its row indexes sorted by time: the merge index (a write whose
 *                 time is above the series' last time appends without a search)
 * A generation (bgen) holds one such table set; the buffer holds the active generation and
 * the frozen ones, oldest first.
 * Locks, in order: buffer.apply_mu (held for a whole record by buffer_apply, and by
 * buffer_freeze, so a freeze never splits a record) > buffer.mu (the active pointer and the
 * frozen list) > bgen.mu (a generation's tables array) > btable.lock (rwlock: everything in a
 * table). The applier holds the write lock of one table while applying a record's rows for
 * it; scans hold the read lock only while copying one batch.
 */
#include "buffer.h"

#include "../ingest/ingest.h"
#include "../util/hmap.h"

#include <stdatomic.h>
#include <stdlib.h>

#define SCAN_BATCH_ROWS 4096

typedef struct bdict {
    hmap map;       /* value -> code */
    str_view *vals; /* vals[code - 1] */
    uint32_t n;
    size_t cap;
    arena mem;
} bdict;

typedef struct bseries {
    uint32_t n_slots;
    uint32_t *codes;
} bseries;

typedef struct bcol {
    uint8_t type;   /* lp_type; 0 = no array (a tag, or no value in this block yet) */
    uint8_t *vals;  /* elem_size(type) bytes per row, BLOCK_ROWS rows */
    uint8_t *valid; /* 1 byte per row, BLOCK_ROWS rows */
} bcol;

/* Rows live in fixed-size blocks: appending never moves data (no realloc copies), and a scan
 * batch never spans two blocks. */
#define BLOCK_ROWS 8192
typedef struct bblock {
    int64_t time[BLOCK_ROWS];
    uint32_t series[BLOCK_ROWS];
    bcol *cols; /* by schema column id */
    size_t n_cols;
} bblock;

typedef struct bsrows {
    uint32_t *rows; /* row indexes, sorted by time */
    uint32_t n, cap;
    int64_t last_t;
} bsrows;

typedef struct bchunk {
    int64_t day;
    uint32_t n_rows;
    bblock **blocks;
    size_t n_blocks, cap_blocks;
    bsrows *sr; /* by series id */
    size_t n_sr;
    arena strs; /* string field values */
    uint64_t str_bytes;
} bchunk;

typedef struct btable {
    pthread_rwlock_t lock;
    uint32_t *slot_of_col; /* schema col id -> slot + 1 (0: not a tag) */
    size_t n_slot_of_col;
    uint32_t n_slots;
    bdict *dicts; /* by slot */
    size_t cap_dicts;
    bseries *series;
    uint32_t n_series;
    size_t cap_series;
    hmap series_map;
    arena keys; /* series_map keys and series codes */
    bchunk **chunks; /* sorted by day */
    uint32_t n_chunks;
    size_t cap_chunks;
    uint32_t last_chunk;
    int64_t min_time, max_time; /* of its rows; min > max while empty */
    uint64_t n_rows;
} btable;

struct buffer_gen {
    _Atomic int refs;
    buffer *owner;
    pthread_mutex_t mu;
    btable **tables; /* by schema table id; protected by mu (the array, not the tables) */
    size_t cap_tables;
    uint64_t min_seq, max_seq; /* written by the applier; read once frozen or under apply_mu */
    _Atomic int64_t first_write_ns;
    _Atomic uint64_t rows, bytes, chunks, series;
};

struct buffer {
    schema *s;
    pthread_mutex_t apply_mu;
    pthread_mutex_t mu;
    buffer_gen *active;  /* protected by mu (and apply_mu for replacing it) */
    buffer_gen **frozen; /* oldest first; protected by mu */
    size_t n_frozen, cap_frozen;
    _Atomic uint64_t merged, skipped;

    /* applier state (one thread at a time, under apply_mu) */
    buffer_gen *gen;      /* the generation being applied to */
    btable *cur;          /* write-locked table of the record being applied, or NULL */
    uint32_t *col_ids;    /* record col ref -> schema col id (UINT32_MAX: skipped) */
    uint8_t *col_types;
    size_t cap_cols;
    uint32_t *sids; /* record series ref -> series id */
    size_t cap_sids;
    buf key;
};

static size_t elem_size(uint8_t type) {
    switch (type) {
        case LP_BOOL: return 1;
        case LP_STRING: return sizeof(str_view);
        default: return 8;
    }
}

static buffer_gen *gen_new(buffer *b) {
    buffer_gen *g = xcalloc(1, sizeof *g);
    g->refs = 1;
    g->owner = b;
    pthread_mutex_init(&g->mu, NULL);
    return g;
}

buffer *buffer_create(schema *s) {
    buffer *b = xcalloc(1, sizeof *b);
    b->s = s;
    pthread_mutex_init(&b->mu, NULL);
    pthread_mutex_init(&b->apply_mu, NULL);
    b->active = gen_new(b);
    return b;
}

static void chunk_free(bchunk *c) {
    for (size_t b = 0; b < c->n_blocks; b++) {
        bblock *bl = c->blocks[b];
        for (size_t i = 0; i < bl->n_cols; i++) {
            free(bl->cols[i].vals);
            free(bl->cols[i].valid);
        }
        free(bl->cols);
        free(bl);
    }
    free(c->blocks);
    for (size_t i = 0; i < c->n_sr; i++) free(c->sr[i].rows);
    free(c->sr);
    arena_fini(&c->strs);
    free(c);
}

static void gen_free(buffer_gen *g) {
    for (size_t t = 0; t < g->cap_tables; t++) {
        btable *bt = g->tables[t];
        if (!bt) continue;
        for (uint32_t i = 0; i < bt->n_chunks; i++) chunk_free(bt->chunks[i]);
        free(bt->chunks);
        for (uint32_t i = 0; i < bt->n_slots; i++) {
            hmap_free(&bt->dicts[i].map);
            free(bt->dicts[i].vals);
            arena_fini(&bt->dicts[i].mem);
        }
        free(bt->dicts);
        free(bt->series);
        hmap_free(&bt->series_map);
        arena_fini(&bt->keys);
        free(bt->slot_of_col);
        pthread_rwlock_destroy(&bt->lock);
        free(bt);
    }
    free(g->tables);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

void buffer_gen_unref(buffer_gen *g) {
    if (g && atomic_fetch_sub(&g->refs, 1) == 1) gen_free(g);
}

void buffer_destroy(buffer *b) {
    if (!b) return;
    buffer_gen_unref(b->active);
    for (size_t i = 0; i < b->n_frozen; i++) buffer_gen_unref(b->frozen[i]);
    free(b->frozen);
    free(b->col_ids);
    free(b->col_types);
    free(b->sids);
    buf_free(&b->key);
    pthread_mutex_destroy(&b->mu);
    pthread_mutex_destroy(&b->apply_mu);
    free(b);
}

static btable *table_get(buffer_gen *g, uint32_t id, bool create) {
    pthread_mutex_lock(&g->mu);
    btable *t = id < g->cap_tables ? g->tables[id] : NULL;
    if (!t && create) {
        if (id >= g->cap_tables) {
            size_t nc = g->cap_tables ? g->cap_tables : 16;
            while (nc <= id) nc *= 2;
            g->tables = xrealloc(g->tables, nc * sizeof *g->tables);
            memset(g->tables + g->cap_tables, 0, (nc - g->cap_tables) * sizeof *g->tables);
            g->cap_tables = nc;
        }
        t = xcalloc(1, sizeof *t);
        pthread_rwlockattr_t a;
        pthread_rwlockattr_init(&a);
        pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        pthread_rwlock_init(&t->lock, &a);
        pthread_rwlockattr_destroy(&a);
        arena_init(&t->keys, 16 * 1024);
        t->min_time = INT64_MAX;
        t->max_time = INT64_MIN;
        g->tables[id] = t;
    }
    pthread_mutex_unlock(&g->mu);
    return t;
}

buffer_gen *buffer_freeze(buffer *b) {
    pthread_mutex_lock(&b->apply_mu); /* never split a record */
    pthread_mutex_lock(&b->mu);
    buffer_gen *g = b->active;
    if (!g->rows) {
        pthread_mutex_unlock(&b->mu);
        pthread_mutex_unlock(&b->apply_mu);
        return NULL;
    }
    XGROW(b->frozen, b->cap_frozen, b->n_frozen + 1);
    b->frozen[b->n_frozen++] = g; /* the buffer's reference moves to the frozen list */
    b->active = gen_new(b);
    atomic_fetch_add(&g->refs, 1); /* the caller's */
    pthread_mutex_unlock(&b->mu);
    pthread_mutex_unlock(&b->apply_mu);
    return g;
}

buffer_gen *buffer_oldest_frozen(buffer *b) {
    pthread_mutex_lock(&b->mu);
    buffer_gen *g = b->n_frozen ? b->frozen[0] : NULL;
    if (g) atomic_fetch_add(&g->refs, 1);
    pthread_mutex_unlock(&b->mu);
    return g;
}

bool buffer_gen_is_frozen(buffer *b, const buffer_gen *g) {
    pthread_mutex_lock(&b->mu);
    bool found = false;
    for (size_t i = 0; i < b->n_frozen && !found; i++) found = b->frozen[i] == g;
    pthread_mutex_unlock(&b->mu);
    return found;
}

void buffer_drop_frozen(buffer *b, buffer_gen *g) {
    pthread_mutex_lock(&b->mu);
    size_t i = 0;
    while (i < b->n_frozen && b->frozen[i] != g) i++;
    bool found = i < b->n_frozen;
    if (found) {
        memmove(b->frozen + i, b->frozen + i + 1, (b->n_frozen - i - 1) * sizeof *b->frozen);
        b->n_frozen--;
    }
    pthread_mutex_unlock(&b->mu);
    if (found) buffer_gen_unref(g);
}

void buffer_gen_get_info(buffer_gen *g, buffer_gen_info *out) {
    out->min_seq = g->min_seq;
    out->max_seq = g->max_seq;
    out->rows = g->rows;
    out->bytes = g->bytes;
    out->first_write_ns = g->first_write_ns;
}

void buffer_active_info(buffer *b, buffer_gen_info *out) {
    pthread_mutex_lock(&b->apply_mu); /* consistent seqs */
    pthread_mutex_lock(&b->mu);
    buffer_gen_get_info(b->active, out);
    pthread_mutex_unlock(&b->mu);
    pthread_mutex_unlock(&b->apply_mu);
}

/* ------------------------------------------------------------------ applying */

static void release_cur(buffer *b) {
    if (b->cur) pthread_rwlock_unlock(&b->cur->lock);
    b->cur = NULL;
}

static int sink_table(void *arg, str_view db, str_view tname, const ingest_col *cols,
                      uint32_t n_cols) {
    buffer *b = arg;
    release_cur(b);
    schema *s = b->s;
    silt_err err = {0};
    schema_wrlock(s); /* the applier creates what replay finds missing */
    schema_db *sdb;
    schema_table *st;
    int rc = schema_db_create(s, db.p, db.n, &sdb, &err);
    if (!rc) rc = schema_table_create(s, sdb, tname.p, tname.n, &st, &err);
    if (rc) {
        schema_unlock(s);
        log_error("buffer", "cannot apply rows of %.*s.%.*s: %s", (int)db.n, db.p, (int)tname.n,
                  tname.p, err.msg);
        return SILT_ESCHEMA;
    }
    if (n_cols > b->cap_cols) {
        b->cap_cols = n_cols;
        b->col_ids = xrealloc(b->col_ids, n_cols * sizeof *b->col_ids);
        b->col_types = xrealloc(b->col_types, n_cols);
    }
    for (uint32_t i = 0; i < n_cols; i++) {
        schema_col *sc;
        rc = schema_col_create(s, st, cols[i].name.p, cols[i].name.n, (schema_kind)cols[i].kind,
                               (lp_type)cols[i].type, &sc, &err);
        if (rc) {
            log_warn("buffer", "skipping column: %s", err.msg);
            b->col_ids[i] = UINT32_MAX;
            continue;
        }
        b->col_ids[i] = sc->id;
        b->col_types[i] = cols[i].type;
    }
    uint32_t n_table_cols = st->n_cols;
    uint32_t table_id = st->id;
    /* tag slots for new tag columns: decided while the schema is locked */
    btable *t = table_get(b->gen, table_id, true);
    pthread_rwlock_wrlock(&t->lock);
    b->cur = t;
    if (t->n_slot_of_col < n_table_cols) {
        t->slot_of_col = xrealloc(t->slot_of_col, n_table_cols * sizeof *t->slot_of_col);
        memset(t->slot_of_col + t->n_slot_of_col, 0,
               (n_table_cols - t->n_slot_of_col) * sizeof *t->slot_of_col);
        t->n_slot_of_col = n_table_cols;
    }
    for (uint32_t i = 0; i < n_cols; i++) {
        uint32_t id = b->col_ids[i];
        if (id == UINT32_MAX || cols[i].kind != SCHEMA_TAG || t->slot_of_col[id]) continue;
        XGROW(t->dicts, t->cap_dicts, t->n_slots + 1);
        memset(&t->dicts[t->n_slots], 0, sizeof t->dicts[t->n_slots]);
        arena_init(&t->dicts[t->n_slots].mem, 16 * 1024);
        t->slot_of_col[id] = ++t->n_slots;
    }
    schema_unlock(s);
    return SILT_OK;
}

static uint32_t dict_code(bdict *d, str_view v) {
    uint64_t h = hmap_hash(v.p, v.n), code;
    if (hmap_get(&d->map, v.p, v.n, h, &code)) return (uint32_t)code;
    char *copy = arena_strndup(&d->mem, v.p, v.n);
    XGROW(d->vals, d->cap, d->n + 1);
    d->vals[d->n++] = (str_view){copy, v.n};
    hmap_put(&d->map, copy, v.n, h, d->n);
    return d->n;
}

typedef struct tagpair {
    uint32_t col;
    str_view val;
} tagpair;

static int sink_series(void *arg, uint32_t ref, const uint32_t *tag_refs, const str_view *vals,
                       uint32_t n_tags) {
    buffer *b = arg;
    btable *t = b->cur;
    if (!t) return SILT_ESCHEMA;
    /* canonical key: (col id, value) sorted by col id; insertion sort (tag sets are small) */
    tagpair tp[64], *pairs = n_tags <= 64 ? tp : xmalloc(n_tags * sizeof *pairs);
    uint32_t np = 0;
    for (uint32_t i = 0; i < n_tags; i++) {
        uint32_t id = b->col_ids[tag_refs[i]];
        if (id == UINT32_MAX) continue;
        uint32_t k = np++;
        while (k > 0 && pairs[k - 1].col > id) {
            pairs[k] = pairs[k - 1];
            k--;
        }
        pairs[k] = (tagpair){id, vals[i]};
    }
    buf_reset(&b->key);
    buf_reserve(&b->key, 16); /* never NULL, even for a series without tags */
    for (uint32_t i = 0; i < np; i++) {
        buf_put_varint(&b->key, pairs[i].col);
        buf_put_varint(&b->key, pairs[i].val.n);
        buf_append(&b->key, pairs[i].val.p, pairs[i].val.n);
    }
    uint64_t h = hmap_hash(b->key.p, b->key.len), sid;
    if (!hmap_get(&t->series_map, b->key.p, b->key.len, h, &sid)) {
        XGROW(t->series, t->cap_series, t->n_series + 1);
        bseries *se = &t->series[t->n_series];
        se->n_slots = t->n_slots;
        se->codes = arena_alloc(&t->keys, (t->n_slots ? t->n_slots : 1) * sizeof(uint32_t));
        memset(se->codes, 0, t->n_slots * sizeof(uint32_t));
        for (uint32_t i = 0; i < np; i++) {
            uint32_t slot = t->slot_of_col[pairs[i].col] - 1;
            se->codes[slot] = dict_code(&t->dicts[slot], pairs[i].val);
        }
        char *key = arena_alloc(&t->keys, b->key.len ? b->key.len : 1);
        memcpy(key, b->key.p, b->key.len);
        sid = t->n_series++;
        hmap_put(&t->series_map, key, b->key.len, h, sid);
        b->gen->series++;
    }
    if (pairs != tp) free(pairs);
    XGROW(b->sids, b->cap_sids, (size_t)ref + 1);
    b->sids[ref] = (uint32_t)sid;
    return SILT_OK;
}

static bchunk *chunk_for(buffer *b, btable *t, int64_t day) {
    if (t->n_chunks && t->chunks[t->last_chunk]->day == day) return t->chunks[t->last_chunk];
    uint32_t lo = 0, hi = t->n_chunks;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (t->chunks[mid]->day < day) lo = mid + 1;
        else hi = mid;
    }
    if (lo < t->n_chunks && t->chunks[lo]->day == day) {
        t->last_chunk = lo;
        return t->chunks[lo];
    }
    bchunk *c = xcalloc(1, sizeof *c);
    c->day = day;
    arena_init(&c->strs, 64 * 1024);
    XGROW(t->chunks, t->cap_chunks, t->n_chunks + 1);
    memmove(t->chunks + lo + 1, t->chunks + lo, (t->n_chunks - lo) * sizeof *t->chunks);
    t->chunks[lo] = c;
    t->n_chunks++;
    t->last_chunk = lo;
    b->gen->chunks++;
    return c;
}

static inline int64_t row_time(const bchunk *c, uint32_t r) {
    return c->blocks[r / BLOCK_ROWS]->time[r % BLOCK_ROWS];
}

static bcol *col_get(buffer_gen *g, bblock *bl, size_t id, uint8_t type) {
    if (id >= bl->n_cols) {
        bl->cols = xrealloc(bl->cols, (id + 1) * sizeof *bl->cols);
        memset(bl->cols + bl->n_cols, 0, (id + 1 - bl->n_cols) * sizeof *bl->cols);
        bl->n_cols = id + 1;
    }
    bcol *col = &bl->cols[id];
    if (!col->type) {
        col->type = type;
        col->vals = xmalloc((size_t)BLOCK_ROWS * elem_size(type));
        col->valid = xcalloc(BLOCK_ROWS, 1); /* rows before the column's first value: NULL */
        g->bytes += (uint64_t)BLOCK_ROWS * (elem_size(type) + 1);
    }
    return col;
}

static uint32_t chunk_append(buffer *b, bchunk *c, int64_t time, uint32_t sid) {
    uint32_t r = c->n_rows;
    size_t bi = r / BLOCK_ROWS, k = r % BLOCK_ROWS;
    if (bi == c->n_blocks) {
        XGROW(c->blocks, c->cap_blocks, c->n_blocks + 1);
        bblock *bl = xmalloc(sizeof *bl);
        bl->cols = NULL;
        bl->n_cols = 0;
        c->blocks[c->n_blocks++] = bl;
        b->gen->bytes += sizeof *bl;
    }
    bblock *bl = c->blocks[bi];
    bl->time[k] = time;
    bl->series[k] = sid;
    for (size_t i = 0; i < bl->n_cols; i++)
        if (bl->cols[i].type) bl->cols[i].valid[k] = 0;
    c->n_rows++;
    b->gen->rows++;
    return r;
}

static int sink_row(void *arg, uint32_t sref, int64_t time, const uint32_t *refs,
                    const ingest_value *vals, uint32_t nf) {
    buffer *b = arg;
    btable *t = b->cur;
    if (!t) return SILT_ESCHEMA;
    uint32_t sid = b->sids[sref];
    bchunk *c = chunk_for(b, t, time_day(time));
    if (time < t->min_time) t->min_time = time;
    if (time > t->max_time) t->max_time = time;
    if (sid >= c->n_sr) {
        size_t nn = c->n_sr ? c->n_sr : 16;
        while (nn <= sid) nn *= 2;
        c->sr = xrealloc(c->sr, nn * sizeof *c->sr);
        memset(c->sr + c->n_sr, 0, (nn - c->n_sr) * sizeof *c->sr);
        c->n_sr = nn;
    }
    bsrows *s = &c->sr[sid];
    uint32_t row;
    size_t pos = s->n;
    bool found = false;
    if (s->n && time <= s->last_t) {
        /* out of order or a duplicate: find the time among this series' rows */
        size_t lo = 0, hi = s->n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (row_time(c, s->rows[mid]) < time) lo = mid + 1;
            else hi = mid;
        }
        pos = lo;
        found = lo < s->n && row_time(c, s->rows[lo]) == time;
    }
    if (found) {
        row = s->rows[pos];
        b->merged++;
    } else {
        row = chunk_append(b, c, time, sid);
        t->n_rows++;
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 64;
            s->rows = xrealloc(s->rows, s->cap * sizeof *s->rows);
        }
        memmove(s->rows + pos + 1, s->rows + pos, (s->n - pos) * sizeof *s->rows);
        s->rows[pos] = row;
        s->n++;
        if (pos == s->n - 1) s->last_t = time;
    }
    for (uint32_t i = 0; i < nf; i++) {
        uint32_t id = b->col_ids[refs[i]];
        if (id == UINT32_MAX) {
            b->skipped++;
            continue;
        }
        uint8_t type = b->col_types[refs[i]];
        bblock *bl = c->blocks[row / BLOCK_ROWS];
        size_t k = row % BLOCK_ROWS;
        bcol *col = id < bl->n_cols && bl->cols[id].type ? &bl->cols[id] : col_get(b->gen, bl, id, type);
        switch (type) {
            case LP_FLOAT: memcpy(col->vals + k * 8, &vals[i].v.f, 8); break;
            case LP_INT:
            case LP_UINT: memcpy(col->vals + k * 8, &vals[i].v.u, 8); break;
            case LP_BOOL: col->vals[k] = vals[i].v.b; break;
            case LP_STRING: {
                str_view sv = {arena_strndup(&c->strs, vals[i].s.p, vals[i].s.n), vals[i].s.n};
                memcpy(col->vals + k * sizeof sv, &sv, sizeof sv);
                c->str_bytes += vals[i].s.n + 1;
                b->gen->bytes += vals[i].s.n + 1;
                break;
            }
        }
        col->valid[k] = 1;
    }
    return SILT_OK;
}

int buffer_apply(buffer *b, uint64_t seq, const uint8_t *payload, size_t len, silt_err *err) {
    static const ingest_sink sink = {sink_table, sink_series, sink_row};
    pthread_mutex_lock(&b->apply_mu);
    pthread_mutex_lock(&b->mu);
    buffer_gen *g = b->gen = b->active;
    pthread_mutex_unlock(&b->mu);
    int rc = ingest_decode(payload, len, &sink, b, err);
    release_cur(b);
    if (!g->min_seq || seq < g->min_seq) g->min_seq = seq;
    if (seq > g->max_seq) g->max_seq = seq;
    if (!g->first_write_ns) g->first_write_ns = time_now_ns();
    b->gen = NULL;
    pthread_mutex_unlock(&b->apply_mu);
    if (rc && rc != SILT_ECORRUPT) rc = SILT_FAIL(err, rc, "applying a write: %s", silt_strerror(rc));
    return rc;
}

/* ------------------------------------------------------------------ query source */

typedef struct scan_col {
    int what; /* 0 time, 1 tag, 2 field */
    uint32_t col_id;
    lp_type type;
} scan_col;

typedef struct table_info {
    uint32_t table_id;
    scan_col *map; /* per query column */
    char **names;
} table_info;

static int src_db_exists(const query_source *qs, const char *db) {
    buffer *b = qs->ctx;
    schema_rdlock(b->s);
    schema_db *d = schema_db_find(b->s, db, strlen(db));
    schema_unlock(b->s);
    return d ? SILT_OK : SILT_ENOTFOUND;
}

static int src_list_tables(const query_source *qs, const char *db, char ***names, size_t *n,
                           silt_err *err) {
    buffer *b = qs->ctx;
    int rc = schema_list_tables(b->s, db, names, n);
    if (rc == SILT_ENOTFOUND) return SILT_FAIL(err, rc, "database '%s' not found", db);
    return rc;
}

typedef struct colsort {
    const char *name;
    scan_col sc;
    query_col_kind kind;
} colsort;

static int cmp_colsort(const void *a, const void *b) {
    return strcmp(((const colsort *)a)->name, ((const colsort *)b)->name);
}

static int src_table_schema(const query_source *qs, const char *db, const char *table,
                            query_table *out, silt_err *err) {
    buffer *b = qs->ctx;
    schema_rdlock(b->s);
    schema_db *d = schema_db_find(b->s, db, strlen(db));
    if (!d) {
        schema_unlock(b->s);
        return SILT_FAIL(err, SILT_ENOTFOUND, "database '%s' not found", db);
    }
    schema_table *st = schema_table_find(d, table, strlen(table));
    if (!st) {
        schema_unlock(b->s);
        return SILT_FAIL(err, SILT_ENOTFOUND, "table '%s' not found", table);
    }
    size_t n = st->n_cols + 1;
    colsort *cs = xcalloc(n, sizeof *cs);
    for (uint32_t i = 0; i < st->n_cols; i++) {
        schema_col *c = st->cols[i];
        cs[i].name = c->name; /* schema columns are never freed */
        cs[i].kind = c->kind == SCHEMA_TAG ? QCOL_TAG : QCOL_FIELD;
        cs[i].sc = (scan_col){c->kind == SCHEMA_TAG ? 1 : 2, c->id, (lp_type)c->type};
    }
    cs[n - 1].name = "time";
    cs[n - 1].kind = QCOL_TIME;
    cs[n - 1].sc = (scan_col){0, 0, 0};
    uint32_t tid = st->id;
    schema_unlock(b->s);
    qsort(cs, n, sizeof *cs, cmp_colsort);
    table_info *ti = xcalloc(1, sizeof *ti);
    ti->table_id = tid;
    ti->map = xcalloc(n, sizeof *ti->map);
    out->cols = xcalloc(n, sizeof *out->cols);
    out->n_cols = n;
    for (size_t i = 0; i < n; i++) {
        out->cols[i] = (query_column){cs[i].name, cs[i].kind, cs[i].sc.type};
        ti->map[i] = cs[i].sc;
    }
    out->owner_data = ti;
    free(cs);
    return SILT_OK;
}

static void src_table_release(const query_source *qs, query_table *t) {
    (void)qs;
    table_info *ti = t->owner_data;
    if (ti) {
        free(ti->map);
        free(ti);
    }
    free(t->cols);
    memset(t, 0, sizeof *t);
}

typedef struct scan_buf {
    int64_t *i64;
    uint8_t *bytes; /* f64/u64/bool storage */
    str_view *str;
    uint8_t *valid;
} scan_buf;

/* A query_part over one generation's rows of one table. */
typedef struct gen_part {
    buffer_gen *g;
    uint32_t table_id;
} gen_part;

static int gen_part_scan(query_part *p, const query_table *qt, const query_scan_req *req,
                         query_batch_fn fn, void *arg, silt_err *err) {
    gen_part *gp = p->ctx;
    const table_info *ti = qt->owner_data;
    if (!ti) return SILT_FAIL(err, SILT_EINVAL, "scan without a table schema");
    btable *t = table_get(gp->g, gp->table_id, false);
    if (!t) return SILT_OK;
    size_t nc = req->n_cols;
    scan_buf *sb = xcalloc(nc ? nc : 1, sizeof *sb);
    query_vec *vecs = xcalloc(nc ? nc : 1, sizeof *vecs);
    for (size_t i = 0; i < nc; i++) {
        const scan_col *sc = &ti->map[req->col_idx[i]];
        if (sc->what == 0) sb[i].i64 = xmalloc(SCAN_BATCH_ROWS * 8);
        else if (sc->what == 1) {
            sb[i].str = xmalloc(SCAN_BATCH_ROWS * sizeof(str_view));
            sb[i].valid = xmalloc(SCAN_BATCH_ROWS);
        } else {
            sb[i].bytes = xmalloc(SCAN_BATCH_ROWS * elem_size(sc->type));
            sb[i].valid = xmalloc(SCAN_BATCH_ROWS);
        }
    }
    int rc = SILT_OK;
    int64_t day_lo = time_day(req->t_min), day_hi = time_day(req->t_max);
    for (int64_t next_day = day_lo;;) {
        /* chunks are only ever added while the buffer lives, possibly before the one we are
         * on: find the next chunk by day, not by index */
        pthread_rwlock_rdlock(&t->lock);
        uint32_t lo = 0, hi = t->n_chunks;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (t->chunks[mid]->day < next_day) lo = mid + 1;
            else hi = mid;
        }
        bchunk *c = lo < t->n_chunks ? t->chunks[lo] : NULL;
        pthread_rwlock_unlock(&t->lock);
        if (!c || c->day > day_hi) break;
        next_day = c->day + 1;
        for (uint32_t start = 0;;) {
            pthread_rwlock_rdlock(&t->lock);
            uint32_t n = c->n_rows > start ? c->n_rows - start : 0;
            if (n > SCAN_BATCH_ROWS) n = SCAN_BATCH_ROWS;
            const bblock *bl = n ? c->blocks[start / BLOCK_ROWS] : NULL;
            uint32_t k0 = start % BLOCK_ROWS;
            if (n > BLOCK_ROWS - k0) n = BLOCK_ROWS - k0;
            for (size_t i = 0; i < nc && n; i++) {
                const scan_col *sc = &ti->map[req->col_idx[i]];
                query_vec *v = &vecs[i];
                memset(v, 0, sizeof *v);
                if (sc->what == 0) {
                    memcpy(sb[i].i64, bl->time + k0, n * 8);
                    v->i64 = sb[i].i64;
                } else if (sc->what == 1) {
                    uint32_t slot1 = sc->col_id < t->n_slot_of_col ? t->slot_of_col[sc->col_id] : 0;
                    for (uint32_t r = 0; r < n; r++) {
                        const bseries *se = &t->series[bl->series[k0 + r]];
                        uint32_t code = slot1 && slot1 - 1 < se->n_slots ? se->codes[slot1 - 1] : 0;
                        sb[i].valid[r] = code != 0;
                        sb[i].str[r] = code ? t->dicts[slot1 - 1].vals[code - 1] : (str_view){"", 0};
                    }
                    v->str = sb[i].str;
                    v->valid = sb[i].valid;
                } else {
                    size_t es = elem_size(sc->type);
                    const bcol *col = sc->col_id < bl->n_cols ? &bl->cols[sc->col_id] : NULL;
                    if (col && col->type == sc->type) {
                        memcpy(sb[i].bytes, col->vals + (size_t)k0 * es, n * es);
                        memcpy(sb[i].valid, col->valid + k0, n);
                    } else {
                        memset(sb[i].bytes, 0, n * es);
                        memset(sb[i].valid, 0, n);
                    }
                    v->valid = sb[i].valid;
                    switch (sc->type) {
                        case LP_FLOAT: v->f64 = (const double *)(void *)sb[i].bytes; break;
                        case LP_INT: v->i64 = (const int64_t *)(void *)sb[i].bytes; break;
                        case LP_UINT: v->u64 = (const uint64_t *)(void *)sb[i].bytes; break;
                        case LP_BOOL: v->b = sb[i].bytes; break;
                        case LP_STRING: v->str = (const str_view *)(void *)sb[i].bytes; break;
                    }
                }
            }
            pthread_rwlock_unlock(&t->lock);
            if (!n) break;
            query_batch qb = {n, vecs};
            int r = fn(arg, &qb);
            if (r == QUERY_SCAN_STOP) goto done;
            if (r < 0) {
                rc = r;
                goto done;
            }
            start += n;
        }
    }
done:
    for (size_t i = 0; i < nc; i++) {
        free(sb[i].i64);
        free(sb[i].bytes);
        free(sb[i].str);
        free(sb[i].valid);
    }
    free(sb);
    free(vecs);
    return rc;
}

static void gen_part_release(query_part *p) {
    gen_part *gp = p->ctx;
    buffer_gen_unref(gp->g);
    free(gp);
}

static void add_part(buffer_gen *g, uint32_t table_id, query_part **parts, size_t *n,
                     size_t *cap) {
    btable *t = table_get(g, table_id, false);
    if (!t) return;
    pthread_rwlock_rdlock(&t->lock);
    uint64_t rows = t->n_rows;
    int64_t lo = t->min_time, hi = t->max_time;
    pthread_rwlock_unlock(&t->lock);
    if (!rows) return;
    gen_part *gp = xmalloc(sizeof *gp);
    gp->g = g;
    gp->table_id = table_id;
    atomic_fetch_add(&g->refs, 1);
    XGROW(*parts, *cap, *n + 1);
    (*parts)[(*n)++] = (query_part){lo, hi, rows, gp, gen_part_scan, gen_part_release};
}

void buffer_table_parts(buffer *b, uint32_t table_id, query_part **parts, size_t *n,
                        size_t *cap) {
    pthread_mutex_lock(&b->mu);
    for (size_t i = 0; i < b->n_frozen; i++) add_part(b->frozen[i], table_id, parts, n, cap);
    add_part(b->active, table_id, parts, n, cap);
    pthread_mutex_unlock(&b->mu);
}

uint32_t buffer_query_table_id(const query_table *t) {
    const table_info *ti = t->owner_data;
    return ti ? ti->table_id : UINT32_MAX;
}

static int src_scan(const query_source *qs, const query_scan_req *req, query_batch_fn fn,
                    void *arg, silt_err *err) {
    buffer *b = qs->ctx;
    if (!req->schema || !req->schema->owner_data)
        return SILT_FAIL(err, SILT_EINVAL, "scan without a table schema");
    query_part *parts = NULL;
    size_t n = 0, cap = 0;
    buffer_table_parts(b, buffer_query_table_id(req->schema), &parts, &n, &cap);
    int rc = query_merge_scan(parts, n, req->schema, req, fn, arg, err);
    for (size_t i = 0; i < n; i++)
        if (parts[i].release) parts[i].release(&parts[i]);
    free(parts);
    return rc;
}

static int src_list_dbs(const query_source *qs, char ***names, size_t *n, silt_err *err) {
    (void)err;
    buffer *b = qs->ctx;
    return schema_list_dbs(b->s, names, n);
}

void buffer_source(buffer *b, query_source *out) {
    *out = (query_source){.ctx = b,
                          .db_exists = src_db_exists,
                          .list_tables = src_list_tables,
                          .table_schema = src_table_schema,
                          .table_release = src_table_release,
                          .scan = src_scan,
                          .list_dbs = src_list_dbs};
}

static void gen_stats(buffer_gen *g, buffer_stats *out) {
    out->rows += g->rows;
    out->bytes += g->bytes;
    out->chunks += g->chunks;
    out->series += g->series;
}

void buffer_get_stats(buffer *b, buffer_stats *out) {
    memset(out, 0, sizeof *out);
    out->merged_rows = b->merged;
    out->skipped_values = b->skipped;
    pthread_mutex_lock(&b->mu);
    gen_stats(b->active, out);
    for (size_t i = 0; i < b->n_frozen; i++) gen_stats(b->frozen[i], out);
    out->frozen_gens = b->n_frozen;
    pthread_mutex_unlock(&b->mu);
}

uint64_t buffer_bytes(buffer *b) {
    pthread_mutex_lock(&b->mu);
    uint64_t bytes = b->active->bytes;
    for (size_t i = 0; i < b->n_frozen; i++) bytes += b->frozen[i]->bytes;
    pthread_mutex_unlock(&b->mu);
    return bytes;
}

/* ------------------------------------------------------------------ export for persisting */

int buffer_gen_chunks(buffer_gen *g, buffer_chunk_desc **out, size_t *n) {
    buffer_chunk_desc *v = NULL;
    size_t cnt = 0, cap = 0;
    pthread_mutex_lock(&g->mu);
    size_t n_tables = g->cap_tables;
    pthread_mutex_unlock(&g->mu);
    for (size_t id = 0; id < n_tables; id++) {
        btable *t = table_get(g, (uint32_t)id, false);
        if (!t) continue;
        pthread_rwlock_rdlock(&t->lock);
        for (uint32_t i = 0; i < t->n_chunks; i++) {
            bchunk *c = t->chunks[i];
            if (!c->n_rows) continue;
            int64_t lo = INT64_MAX, hi = INT64_MIN;
            for (uint32_t r = 0; r < c->n_rows; r++) {
                int64_t tm = row_time(c, r);
                if (tm < lo) lo = tm;
                if (tm > hi) hi = tm;
            }
            XGROW(v, cap, cnt + 1);
            v[cnt++] = (buffer_chunk_desc){(uint32_t)id, c->day, c->n_rows, lo, hi};
        }
        pthread_rwlock_unlock(&t->lock);
    }
    *out = v;
    *n = cnt;
    return SILT_OK;
}

typedef struct sort_ctx {
    const btable *t;
    const uint32_t *slots; /* slot + 1 per sort tag (0: the table has no such tag) */
    size_t n;
} sort_ctx;

static _Thread_local const sort_ctx *tl_sort;

static int cmp_series(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    const sort_ctx *sc = tl_sort;
    const bseries *sx = &sc->t->series[x], *sy = &sc->t->series[y];
    for (size_t i = 0; i < sc->n; i++) {
        uint32_t slot1 = sc->slots[i];
        if (!slot1) continue;
        uint32_t cx = slot1 - 1 < sx->n_slots ? sx->codes[slot1 - 1] : 0;
        uint32_t cy = slot1 - 1 < sy->n_slots ? sy->codes[slot1 - 1] : 0;
        if (cx == cy) continue;
        if (!cx) return -1; /* no value sorts first */
        if (!cy) return 1;
        str_view vx = sc->t->dicts[slot1 - 1].vals[cx - 1], vy = sc->t->dicts[slot1 - 1].vals[cy - 1];
        size_t m = vx.n < vy.n ? vx.n : vy.n;
        int c = m ? memcmp(vx.p, vy.p, m) : 0;
        if (c) return c;
        if (vx.n != vy.n) return vx.n < vy.n ? -1 : 1;
    }
    return x < y ? -1 : x > y;
}

typedef struct export_mem {
    uint8_t *vals;
    str_view *str;
    uint8_t *valid;
} export_mem;

/* Hand the first n rows gathered in cm to the batch callback. */
static int export_flush(const buffer_export_col *cols, size_t n_cols, const export_mem *cm,
                        query_vec *vecs, size_t n,
                        int (*batch)(void *arg, const query_vec *vecs, size_t n), void *arg) {
    for (size_t i = 0; i < n_cols; i++) {
        query_vec *v = &vecs[i];
        memset(v, 0, sizeof *v);
        v->valid = cm[i].valid;
        if (cols[i].col_id == UINT32_MAX) v->i64 = (const int64_t *)(void *)cm[i].vals;
        else if (cols[i].is_tag) v->str = cm[i].str;
        else switch (cols[i].type) {
            case LP_FLOAT: v->f64 = (const double *)(void *)cm[i].vals; break;
            case LP_INT: v->i64 = (const int64_t *)(void *)cm[i].vals; break;
            case LP_UINT: v->u64 = (const uint64_t *)(void *)cm[i].vals; break;
            case LP_BOOL: v->b = cm[i].vals; break;
            case LP_STRING: v->str = (const str_view *)(void *)cm[i].vals; break;
        }
    }
    return batch(arg, vecs, n);
}

int buffer_gen_export(buffer_gen *g, uint32_t table_id, int64_t day, const uint32_t *sort_tags,
                      size_t n_sort_tags, const buffer_export_col *cols, size_t n_cols,
                      size_t batch_rows, int (*batch)(void *arg, const query_vec *vecs, size_t n),
                      void *arg, silt_err *err) {
    btable *t = table_get(g, table_id, false);
    if (!t) return SILT_FAIL(err, SILT_ENOTFOUND, "no rows of table %u in this generation", table_id);
    /* a frozen generation is immutable: the read lock is only for form */
    pthread_rwlock_rdlock(&t->lock);
    bchunk *c = NULL;
    for (uint32_t i = 0; i < t->n_chunks; i++)
        if (t->chunks[i]->day == day) c = t->chunks[i];
    if (!c) {
        pthread_rwlock_unlock(&t->lock);
        return SILT_FAIL(err, SILT_ENOTFOUND, "no chunk for day %lld", (long long)day);
    }
    /* series order: by the sort tags' values; rows of a series are already in time order
     * in the merge index (chunk->sr), so no row sort is needed */
    uint32_t *slots = xcalloc(n_sort_tags ? n_sort_tags : 1, sizeof *slots);
    for (size_t i = 0; i < n_sort_tags; i++)
        slots[i] = sort_tags[i] < t->n_slot_of_col ? t->slot_of_col[sort_tags[i]] : 0;
    uint32_t *order = xmalloc((c->n_sr ? c->n_sr : 1) * sizeof *order);
    size_t n_series = 0;
    for (size_t sid = 0; sid < c->n_sr; sid++)
        if (c->sr[sid].n) order[n_series++] = (uint32_t)sid;
    sort_ctx sc = {t, slots, n_sort_tags};
    tl_sort = &sc;
    qsort(order, n_series, sizeof *order, cmp_series);
    tl_sort = NULL;

    if (!batch_rows) batch_rows = 65536;
    query_vec *vecs = xcalloc(n_cols ? n_cols : 1, sizeof *vecs);
    export_mem *cm = xcalloc(n_cols ? n_cols : 1, sizeof *cm);
    for (size_t i = 0; i < n_cols; i++) {
        if (cols[i].col_id == UINT32_MAX) cm[i].vals = xmalloc(batch_rows * 8);
        else if (cols[i].is_tag) cm[i].str = xmalloc(batch_rows * sizeof(str_view));
        else cm[i].vals = xmalloc(batch_rows * elem_size(cols[i].type));
        if (cols[i].col_id != UINT32_MAX) cm[i].valid = xmalloc(batch_rows);
    }
    /* gather a batch of row references, then fill it column by column (tight loops; rows of
     * a series are consecutive, so tag values are looked up once per run) */
    uint32_t *rrow = xmalloc(batch_rows * sizeof *rrow);
    int rc = SILT_OK;
    size_t fill = 0, si = 0, k = 0;
    while (!rc && si < n_series) {
        fill = 0;
        while (fill < batch_rows && si < n_series) {
            const bsrows *sr = &c->sr[order[si]];
            size_t take = sr->n - k < batch_rows - fill ? sr->n - k : batch_rows - fill;
            memcpy(rrow + fill, sr->rows + k, take * sizeof *rrow);
            fill += take;
            k += take;
            if (k == sr->n) {
                si++;
                k = 0;
            }
        }
        for (size_t i = 0; i < n_cols; i++) {
            const buffer_export_col *ec = &cols[i];
            if (ec->col_id == UINT32_MAX) {
                int64_t *dst = (int64_t *)(void *)cm[i].vals;
                for (size_t r = 0; r < fill; r++)
                    dst[r] = c->blocks[rrow[r] / BLOCK_ROWS]->time[rrow[r] % BLOCK_ROWS];
            } else if (ec->is_tag) {
                uint32_t slot1 = ec->col_id < t->n_slot_of_col ? t->slot_of_col[ec->col_id] : 0;
                uint32_t last_sid = UINT32_MAX;
                str_view sv = {"", 0};
                uint8_t ok = 0;
                for (size_t r = 0; r < fill; r++) {
                    uint32_t sid = c->blocks[rrow[r] / BLOCK_ROWS]->series[rrow[r] % BLOCK_ROWS];
                    if (sid != last_sid) {
                        const bseries *se = &t->series[sid];
                        uint32_t code = slot1 && slot1 - 1 < se->n_slots ? se->codes[slot1 - 1] : 0;
                        ok = code != 0;
                        sv = code ? t->dicts[slot1 - 1].vals[code - 1] : (str_view){"", 0};
                        last_sid = sid;
                    }
                    cm[i].str[r] = sv;
                    cm[i].valid[r] = ok;
                }
            } else {
                size_t es = elem_size(ec->type);
                for (size_t r = 0; r < fill; r++) {
                    const bblock *bl = c->blocks[rrow[r] / BLOCK_ROWS];
                    size_t kb = rrow[r] % BLOCK_ROWS;
                    const bcol *col = ec->col_id < bl->n_cols ? &bl->cols[ec->col_id] : NULL;
                    bool ok = col && col->type == ec->type && col->valid[kb];
                    if (es == 8) {
                        uint64_t v = 0;
                        if (ok) memcpy(&v, col->vals + kb * 8, 8);
                        memcpy(cm[i].vals + r * 8, &v, 8);
                    } else if (ok) {
                        memcpy(cm[i].vals + r * es, col->vals + kb * es, es);
                    } else {
                        memset(cm[i].vals + r * es, 0, es);
                    }
                    cm[i].valid[r] = ok;
                }
            }
        }
        rc = export_flush(cols, n_cols, cm, vecs, fill, batch, arg);
        fill = 0;
    }
    free(rrow);
    pthread_rwlock_unlock(&t->lock);
    for (size_t i = 0; i < n_cols; i++) {
        free(cm[i].vals);
        free(cm[i].str);
        free(cm[i].valid);
    }
    free(cm);
    free(vecs);
    free(order);
    free(slots);
    return rc;
}
