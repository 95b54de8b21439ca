/* SPDX-License-Identifier: MIT
 *
 * Hash aggregation (GROUP BY, aggregates, DISTINCT).
 *
 * Groups live in an open-addressing table (linear probing, power-of-two size, at most half
 * full) of uint32 group ids; the group keys themselves are stored column-wise, one array per
 * key column indexed by group id (string keys copied into the aggregation's arena), beside
 * each group's 64-bit hash (XXH3 of the key values, combined column by column). A batch is
 * added in two passes: first the group id of every selected row is found (hashes computed a
 * key column at a time, then one probe per row), then each aggregate is updated column-wise
 * by one loop specialised by (aggregate, input type) over (row, group id) pairs. Aggregate
 * states are arrays indexed by group id, grown together with the key arrays. Key equality
 * is SQL grouping: NULLs form one group; floats compare by value with -0 == 0 and all NaNs
 * equal. Groups keep their first-appearance order (group ids are handed out in order).
 *
 * NULL inputs are skipped by every aggregate but count(*); first_value / last_value keep
 * the value at the extreme order key even when it is NULL (DataFusion's RESPECT NULLS);
 * selectors skip NULLs and NaNs (InfluxDB). sum() of integers fails on overflow.
 *
 * Holistic aggregates (median, approx_percentile_cont, count(DISTINCT x)) append (group,
 * value) pairs to one array per aggregate and sort it once when the result is emitted:
 * no per-group allocation. count(DISTINCT) of strings counts distinct XXH3 hashes of the
 * bytes (a collision, about 2^-64 per pair, would undercount by one).
 *
 * Memory: every array, the table, the pair lists and the string bytes are counted; the
 * growth of an array or the table is refused (SILT_ELIMIT) when it would cross
 * max_memory_bytes, and the total is checked again after each batch.
 */
#include "query_int.h"

#include <math.h>
#include <stdlib.h>

typedef struct gpair {
    uint32_t g;
    uint64_t v; /* double bits (median, percentile) or a value key (count distinct) */
} gpair;

typedef struct aggcol {
    const qagg *def;
    qtype in; /* argument type (QT_NULL for count(*)) */
    int64_t *cnt;
    void *val;       /* sum / min / max / first / last value: element size of its type */
    uint8_t *has;    /* val holds a value (min / max / first / last / sum) */
    uint8_t *vnul;   /* first / last: the chosen value is NULL */
    double *f1, *f2; /* avg: sum; stddev / var: mean, m2 */
    int64_t *okey;   /* first / last: order key of the chosen row */
    gpair *pairs;
    size_t n_pairs, cap_pairs;
    bool sorted;
} aggcol;

struct qhagg {
    const qplan *plan;
    size_t n_keys, n_aggs;
    qtype *ktype;
    void **kdata;
    uint8_t **kvalid;
    uint64_t *ghash;
    size_t n_groups, cap;
    uint32_t *slots; /* gid + 1; 0 = empty */
    size_t n_slots;
    aggcol *aggs;
    arena strings;
    size_t string_bytes;
    size_t per_group_bytes;
    size_t max_mem;
    size_t query_max_mem; /* the query's bound, for the message (max_mem: this table's share) */
    uint32_t *gids; /* per batch */
    uint64_t *hashes;
    uint8_t *same;  /* per batch row: same keys as the previous row */
    uint32_t *lead; /* positions of the rows that start a run of equal keys */
    uint32_t *lsel; /* their row indices */
    size_t cap_batch;
    size_t zero_gids; /* without keys: gids[0..zero_gids) are 0 */
};

static size_t tsize(qtype t) {
    return t == QT_BOOL ? 1 : t == QT_STRING ? sizeof(str_view) : 8;
}

static bool is_selector(qagg_kind k) {
    return k == QAGG_SEL_FIRST || k == QAGG_SEL_LAST || k == QAGG_SEL_MIN || k == QAGG_SEL_MAX;
}

static bool needs_val(qagg_kind k) {
    return k == QAGG_SUM || k == QAGG_MIN || k == QAGG_MAX || k == QAGG_FIRST || k == QAGG_LAST ||
           is_selector(k);
}

static bool needs_cnt(qagg_kind k) {
    return k == QAGG_COUNT_STAR || k == QAGG_COUNT || k == QAGG_AVG || k == QAGG_STDDEV_SAMP ||
           k == QAGG_STDDEV_POP || k == QAGG_VAR_SAMP || k == QAGG_VAR_POP;
}

static bool needs_f(qagg_kind k) {
    return k == QAGG_AVG || k == QAGG_STDDEV_SAMP || k == QAGG_STDDEV_POP || k == QAGG_VAR_SAMP ||
           k == QAGG_VAR_POP;
}

static size_t mem_used(const qhagg *h) {
    size_t m = h->cap * h->per_group_bytes + h->n_slots * sizeof(uint32_t) + h->string_bytes;
    for (size_t a = 0; a < h->n_aggs; a++) m += h->aggs[a].cap_pairs * sizeof(gpair);
    return m;
}

static int mem_fail(const qhagg *h, silt_err *err) {
    return SILT_FAIL(err, SILT_ELIMIT, "query exceeds the memory limit of %zu bytes",
                     h->query_max_mem);
}

#define GROW_ARR(p, es, oldc, newc)                                                                \
    do {                                                                                           \
        if (p) {                                                                                   \
            p = xrealloc(p, (newc) * (es));                                                        \
            memset((char *)(p) + (oldc) * (es), 0, ((newc) - (oldc)) * (es));                      \
        }                                                                                          \
    } while (0)

static void grow_groups(qhagg *h, size_t ncap) {
    size_t oc = h->cap;
    for (size_t k = 0; k < h->n_keys; k++) {
        GROW_ARR(h->kdata[k], tsize(h->ktype[k]), oc, ncap);
        GROW_ARR(h->kvalid[k], 1, oc, ncap);
    }
    GROW_ARR(h->ghash, sizeof(uint64_t), oc, ncap);
    for (size_t a = 0; a < h->n_aggs; a++) {
        aggcol *c = &h->aggs[a];
        GROW_ARR(c->cnt, sizeof(int64_t), oc, ncap);
        GROW_ARR(c->val, tsize(c->def->kind == QAGG_SUM ? c->def->type : c->in), oc, ncap);
        GROW_ARR(c->has, 1, oc, ncap);
        GROW_ARR(c->vnul, 1, oc, ncap);
        GROW_ARR(c->f1, sizeof(double), oc, ncap);
        GROW_ARR(c->f2, sizeof(double), oc, ncap);
        GROW_ARR(c->okey, sizeof(int64_t), oc, ncap);
    }
    h->cap = ncap;
}

qhagg *query__hagg_create(const qplan *p, size_t max_memory_bytes) {
    qhagg *h = xcalloc(1, sizeof *h);
    h->plan = p;
    h->max_mem = max_memory_bytes ? max_memory_bytes : QUERY_DEFAULT_MEMORY_BYTES;
    h->query_max_mem = h->max_mem;
    h->n_keys = p->u.agg.n_keys;
    h->n_aggs = p->u.agg.n_aggs;
    size_t nk = h->n_keys ? h->n_keys : 1, na = h->n_aggs ? h->n_aggs : 1;
    h->ktype = xcalloc(nk, sizeof *h->ktype);
    h->kdata = xcalloc(nk, sizeof *h->kdata);
    h->kvalid = xcalloc(nk, sizeof *h->kvalid);
    h->aggs = xcalloc(na, sizeof *h->aggs);
    size_t pg = sizeof(uint64_t);
    /* arrays start as 1-element allocations so GROW_ARR knows which to grow */
    for (size_t k = 0; k < h->n_keys; k++) {
        h->ktype[k] = p->u.agg.keys[k]->type;
        h->kdata[k] = xcalloc(1, tsize(h->ktype[k]));
        h->kvalid[k] = xcalloc(1, 1);
        pg += tsize(h->ktype[k]) + 1;
    }
    h->ghash = xcalloc(1, sizeof(uint64_t));
    for (size_t a = 0; a < h->n_aggs; a++) {
        aggcol *c = &h->aggs[a];
        c->def = &p->u.agg.aggs[a];
        c->in = c->def->arg ? c->def->arg->type : QT_NULL;
        qagg_kind k = c->def->kind;
        if (needs_cnt(k)) c->cnt = xcalloc(1, 8), pg += 8;
        if (needs_val(k)) {
            size_t es = tsize(k == QAGG_SUM ? c->def->type : c->in);
            c->val = xcalloc(1, es);
            c->has = xcalloc(1, 1);
            pg += es + 1;
        }
        if (k == QAGG_FIRST || k == QAGG_LAST || is_selector(k)) {
            c->vnul = xcalloc(1, 1);
            c->okey = xcalloc(1, 8);
            pg += 9;
        }
        if (needs_f(k)) c->f1 = xcalloc(1, 8), c->f2 = xcalloc(1, 8), pg += 16;
    }
    h->per_group_bytes = pg;
    h->cap = 1;
    arena_init(&h->strings, 64 * 1024);
    if (h->n_keys == 0) h->n_groups = 1; /* one group, always present */
    return h;
}

void query__hagg_destroy(qhagg *h) {
    if (!h) return;
    for (size_t k = 0; k < h->n_keys; k++) {
        free(h->kdata[k]);
        free(h->kvalid[k]);
    }
    for (size_t a = 0; a < h->n_aggs; a++) {
        aggcol *c = &h->aggs[a];
        free(c->cnt);
        free(c->val);
        free(c->has);
        free(c->vnul);
        free(c->f1);
        free(c->f2);
        free(c->okey);
        free(c->pairs);
    }
    free(h->ktype);
    free(h->kdata);
    free(h->kvalid);
    free(h->aggs);
    free(h->ghash);
    free(h->slots);
    free(h->gids);
    free(h->hashes);
    free(h->same);
    free(h->lead);
    free(h->lsel);
    arena_fini(&h->strings);
    free(h);
}

size_t query__hagg_groups(const qhagg *h) {
    return h->n_groups;
}

/* ------------------------------------------------------------------ hashing */

static inline uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

static inline uint64_t f64_key(double d) {
    if (d == 0) d = 0; /* -0 == 0 */
    if (d != d) return 0x7ff8000000000000ull;
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

/* The 8 value bytes of row i of an int64-like vector (int, uint, time) as uint64. */
static inline uint64_t bits64(const query_vec *v, qtype t, uint32_t i) {
    return t == QT_UINT ? v->u64[i] : (uint64_t)v->i64[i];
}

/* Hash column-wise: hs[k] combines key column c's value of row sel[k]. */
static void hash_column(const query_vec *v, qtype t, const uint32_t *sel, size_t n, uint64_t *hs) {
    const uint8_t *valid = v->valid;
    switch (t) {
        case QT_STRING:
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                uint64_t x = (valid && !valid[i])
                                 ? 0x5bd1e995u
                                 : hash64(v->str[i].n ? v->str[i].p : "", v->str[i].n);
                hs[k] = mix(hs[k], x);
            }
            break;
        case QT_FLOAT:
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                uint64_t x = (valid && !valid[i]) ? 0x5bd1e995u : f64_key(v->f64[i]);
                hs[k] = mix(hs[k], x);
            }
            break;
        case QT_BOOL:
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                hs[k] = mix(hs[k], (valid && !valid[i]) ? 0x5bd1e995u : 2u + (v->b[i] != 0));
            }
            break;
        case QT_UINT:
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                hs[k] = mix(hs[k], (valid && !valid[i]) ? 0x5bd1e995u : v->u64[i]);
            }
            break;
        default: /* int, time: the 8 bytes */
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                uint64_t x = (valid && !valid[i]) ? 0x5bd1e995u : (uint64_t)v->i64[i];
                hs[k] = mix(hs[k], x);
            }
            break;
    }
}

static inline bool key_eq(const qhagg *h, size_t g, const query_vec *keys, uint32_t i) {
    for (size_t c = 0; c < h->n_keys; c++) {
        const query_vec *v = &keys[c];
        bool vv = !v->valid || v->valid[i];
        bool gv = h->kvalid[c][g] != 0;
        if (vv != gv) return false;
        if (!vv) continue;
        switch (h->ktype[c]) {
            case QT_STRING: {
                const str_view *s = &((const str_view *)h->kdata[c])[g];
                if (s->n != v->str[i].n || (s->n && memcmp(s->p, v->str[i].p, s->n) != 0))
                    return false;
                break;
            }
            case QT_FLOAT:
                if (f64_key(((const double *)h->kdata[c])[g]) != f64_key(v->f64[i])) return false;
                break;
            case QT_BOOL:
                if ((((const uint8_t *)h->kdata[c])[g] != 0) != (v->b[i] != 0)) return false;
                break;
            default:
                if (((const uint64_t *)h->kdata[c])[g] != bits64(v, h->ktype[c], i)) return false;
                break;
        }
    }
    return true;
}

static void rehash(qhagg *h, size_t n_slots) {
    free(h->slots);
    h->slots = xcalloc(n_slots, sizeof *h->slots);
    h->n_slots = n_slots;
    size_t mask = n_slots - 1;
    for (size_t g = 0; g < h->n_groups; g++) {
        size_t p = h->ghash[g] & mask;
        while (h->slots[p]) p = (p + 1) & mask;
        h->slots[p] = (uint32_t)g + 1;
    }
}

/* A new group for row i of the key vectors. */
static int new_group(qhagg *h, const query_vec *keys, uint32_t i, uint64_t hv, silt_err *err) {
    if (h->n_groups >= UINT32_MAX - 1) return mem_fail(h, err);
    if (h->n_groups == h->cap) {
        size_t ncap = h->cap * 2;
        size_t extra = (ncap - h->cap) * h->per_group_bytes;
        if (mem_used(h) + extra > h->max_mem) return mem_fail(h, err);
        grow_groups(h, ncap);
    }
    size_t g = h->n_groups++;
    h->ghash[g] = hv;
    for (size_t c = 0; c < h->n_keys; c++) {
        const query_vec *v = &keys[c];
        bool ok = !v->valid || v->valid[i];
        h->kvalid[c][g] = ok;
        if (!ok) continue;
        switch (h->ktype[c]) {
            case QT_STRING: {
                str_view s = v->str[i];
                str_view *d = &((str_view *)h->kdata[c])[g];
                d->p = s.n ? arena_strndup(&h->strings, s.p, s.n) : "";
                d->n = s.n;
                h->string_bytes += s.n + 1;
                break;
            }
            case QT_BOOL:
                ((uint8_t *)h->kdata[c])[g] = v->b[i] != 0;
                break;
            case QT_FLOAT:
                ((double *)h->kdata[c])[g] = v->f64[i];
                break;
            default:
                ((uint64_t *)h->kdata[c])[g] = bits64(v, h->ktype[c], i);
                break;
        }
    }
    return SILT_OK;
}

/* same[k] &= row sel[k] has the value of row sel[k - 1] in key column v (k >= 1). String
 * views of one dictionary entry share their pointer, so most comparisons stop there. */
static void same_as_prev(const query_vec *v, qtype t, const uint32_t *sel, size_t n,
                         uint8_t *same) {
    for (size_t k = 1; k < n; k++)
        if (same[k]) same[k] = query__rows_same(v, t, sel[k], sel[k - 1]);
}

static int find_groups(qhagg *h, const query_vec *keys, const uint32_t *sel, size_t n,
                       silt_err *err) {
    /* rows arrive in runs of one group (files are sorted by series, then time): a row whose
     * keys equal the previous row's takes its group without hashing or probing */
    uint8_t *same = h->same;
    same[0] = 0;
    memset(same + 1, 1, n - 1);
    for (size_t c = 0; c < h->n_keys; c++) same_as_prev(&keys[c], h->ktype[c], sel, n, same);
    uint32_t *lead = h->lead; /* positions k of the rows that start a run */
    size_t n_lead = 0;
    for (size_t k = 0; k < n; k++)
        if (!same[k]) lead[n_lead++] = (uint32_t)k;
    uint32_t *lsel = h->lsel;
    for (size_t k = 0; k < n_lead; k++) lsel[k] = sel[lead[k]];
    uint64_t *hs = h->hashes;
    for (size_t k = 0; k < n_lead; k++) hs[k] = 0x8445d61a4e774912ull;
    for (size_t c = 0; c < h->n_keys; c++) hash_column(&keys[c], h->ktype[c], lsel, n_lead, hs);
    /* mix() carries low bits only upward, and slots are picked by the low bits: fold the high
     * bits down (time buckets are multiples of 2^11 ns and more, and would all share their
     * low bits: one long probe chain) */
    for (size_t k = 0; k < n_lead; k++) {
        uint64_t x = hs[k];
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53ull;
        hs[k] = x ^ (x >> 29);
    }
    for (size_t l = 0; l < n_lead; l++) {
        size_t k = lead[l];
        if (h->n_groups * 2 >= h->n_slots) {
            size_t ns = h->n_slots ? h->n_slots * 2 : 1024;
            if (mem_used(h) + ns * sizeof(uint32_t) > h->max_mem) return mem_fail(h, err);
            rehash(h, ns);
        }
        uint64_t hv = hs[l];
        uint32_t i = sel[k];
        size_t mask = h->n_slots - 1, p = hv & mask;
        for (;;) {
            uint32_t s = h->slots[p];
            if (!s) {
                int rc = new_group(h, keys, i, hv, err);
                if (rc < 0) return rc;
                h->slots[p] = (uint32_t)h->n_groups;
                h->gids[k] = (uint32_t)h->n_groups - 1;
                break;
            }
            if (h->ghash[s - 1] == hv && key_eq(h, s - 1, keys, i)) {
                h->gids[k] = s - 1;
                break;
            }
            p = (p + 1) & mask;
        }
    }
    for (size_t k = 1; k < n; k++)
        if (same[k]) h->gids[k] = h->gids[k - 1];
    return SILT_OK;
}

/* ------------------------------------------------------------------ updates */

static int push_pair(qhagg *h, aggcol *c, uint32_t g, uint64_t v, silt_err *err) {
    if (c->n_pairs == c->cap_pairs) {
        size_t nc = c->cap_pairs ? c->cap_pairs * 2 : 1024;
        if (mem_used(h) + (nc - c->cap_pairs) * sizeof(gpair) > h->max_mem) return mem_fail(h, err);
        c->pairs = xrealloc(c->pairs, nc * sizeof *c->pairs);
        c->cap_pairs = nc;
    }
    c->pairs[c->n_pairs++] = (gpair){g, v};
    return SILT_OK;
}

static inline double as_f64(const query_vec *v, qtype t, uint32_t i) {
    switch (t) {
        case QT_FLOAT:
            return v->f64[i];
        case QT_UINT:
            return (double)v->u64[i];
        case QT_BOOL:
            return v->b[i] ? 1 : 0;
        default:
            return (double)v->i64[i];
    }
}

static void keep_string(qhagg *h, str_view *dst, str_view s) {
    dst->p = s.n ? arena_strndup(&h->strings, s.p, s.n) : "";
    dst->n = s.n;
    h->string_bytes += s.n + 1;
}

/* Rows arrive in runs of one group (sorted files): sum a run in a register, adding in the
 * same order as row by row (identical rounding), and store once per run. */
#define EACH_RUN_SUM(acc_arr, cnt_arr, x_expr)                                                     \
    for (size_t k = 0; k < n;) {                                                                   \
        uint32_t g = gids[k];                                                                      \
        double acc = (acc_arr)[g];                                                                 \
        int64_t cnt = 0;                                                                           \
        size_t e = k;                                                                              \
        for (; e < n && gids[e] == g; e++) {                                                       \
            uint32_t i = sel[e];                                                                   \
            if (valid && !valid[i]) continue;                                                      \
            acc += (x_expr);                                                                       \
            cnt++;                                                                                 \
        }                                                                                          \
        (acc_arr)[g] = acc;                                                                        \
        cnt_arr;                                                                                   \
        k = e;                                                                                     \
    }

#define EACH_VALID(...)                                                                            \
    for (size_t k = 0; k < n; k++) {                                                               \
        uint32_t i = sel[k];                                                                       \
        if (valid && !valid[i]) continue;                                                          \
        uint32_t g = gids[k];                                                                      \
        __VA_ARGS__;                                                                               \
    }

static int update_minmax(qhagg *h, aggcol *c, const query_vec *v, const uint32_t *sel,
                         const uint32_t *gids, size_t n) {
    const uint8_t *valid = v->valid;
    bool is_min = c->def->kind == QAGG_MIN;
    uint8_t *has = c->has;
    switch (c->in) {
        case QT_FLOAT: {
            double *s = c->val;
            const double *x = v->f64;
            if (is_min)
                EACH_VALID(if (!has[g] || x[i] < s[g]) s[g] = x[i], has[g] = 1)
            else
                EACH_VALID(if (!has[g] || x[i] > s[g]) s[g] = x[i], has[g] = 1)
            break;
        }
        case QT_UINT: {
            uint64_t *s = c->val;
            const uint64_t *x = v->u64;
            if (is_min)
                EACH_VALID(if (!has[g] || x[i] < s[g]) s[g] = x[i], has[g] = 1)
            else
                EACH_VALID(if (!has[g] || x[i] > s[g]) s[g] = x[i], has[g] = 1)
            break;
        }
        case QT_BOOL: {
            uint8_t *s = c->val;
            const uint8_t *x = v->b;
            if (is_min)
                EACH_VALID(if (!has[g] || (x[i] != 0) < s[g]) s[g] = x[i] != 0, has[g] = 1)
            else
                EACH_VALID(if (!has[g] || (x[i] != 0) > s[g]) s[g] = x[i] != 0, has[g] = 1)
            break;
        }
        case QT_STRING: {
            str_view *s = c->val;
            const str_view *x = v->str;
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                if (valid && !valid[i]) continue;
                uint32_t g = gids[k];
                int cmp = 0;
                if (has[g]) {
                    size_t m = s[g].n < x[i].n ? s[g].n : x[i].n;
                    cmp = m ? memcmp(x[i].p, s[g].p, m) : 0;
                    if (!cmp) cmp = x[i].n < s[g].n ? -1 : x[i].n > s[g].n;
                }
                if (!has[g] || (is_min ? cmp < 0 : cmp > 0)) {
                    keep_string(h, &s[g], x[i]);
                    has[g] = 1;
                }
            }
            break;
        }
        default: {
            int64_t *s = c->val;
            const int64_t *x = v->i64;
            if (is_min)
                EACH_VALID(if (!has[g] || x[i] < s[g]) s[g] = x[i], has[g] = 1)
            else
                EACH_VALID(if (!has[g] || x[i] > s[g]) s[g] = x[i], has[g] = 1)
            break;
        }
    }
    return SILT_OK;
}

static int update_firstlast(qhagg *h, aggcol *c, const query_vec *v, const query_vec *ok,
                            const uint32_t *sel, const uint32_t *gids, size_t n) {
    bool last = c->def->kind == QAGG_LAST;
    size_t es = tsize(c->in);
    const char *src = c->in == QT_BOOL     ? (const char *)v->b
                      : c->in == QT_STRING ? (const char *)v->str
                      : c->in == QT_UINT   ? (const char *)v->u64
                      : c->in == QT_FLOAT  ? (const char *)v->f64
                                           : (const char *)v->i64;
    for (size_t k = 0; k < n; k++) {
        uint32_t i = sel[k];
        if (ok->valid && !ok->valid[i]) continue; /* no order key: not a candidate */
        uint32_t g = gids[k];
        int64_t t = ok->i64[i];
        if (c->has[g] && (last ? t < c->okey[g] : t >= c->okey[g])) continue;
        c->has[g] = 1;
        c->okey[g] = t;
        bool vv = src && (!v->valid || v->valid[i]);
        c->vnul[g] = !vv;
        if (!vv) continue;
        if (c->in == QT_STRING)
            keep_string(h, &((str_view *)c->val)[g], v->str[i]);
        else
            memcpy((char *)c->val + (size_t)g * es, src + (size_t)i * es, es);
    }
    return SILT_OK;
}

/* Three-way comparison of row i of v with the kept value of group g (same type). */
static int cmp_kept(const aggcol *c, const query_vec *v, uint32_t i, uint32_t g) {
    switch (c->in) {
        case QT_FLOAT: {
            double a = v->f64[i], b = ((const double *)c->val)[g];
            return a < b ? -1 : a > b;
        }
        case QT_UINT: {
            uint64_t a = v->u64[i], b = ((const uint64_t *)c->val)[g];
            return a < b ? -1 : a > b;
        }
        case QT_BOOL:
            return (int)(v->b[i] != 0) - (int)((const uint8_t *)c->val)[g];
        case QT_STRING: {
            return sv_cmp(v->str[i], ((const str_view *)c->val)[g]);
        }
        default: {
            int64_t a = v->i64[i], b = ((const int64_t *)c->val)[g];
            return a < b ? -1 : a > b;
        }
    }
}

/* selector_*: NULL values and NaNs are not candidates (InfluxDB selectors skip them). */
static int update_selector(qhagg *h, aggcol *c, const query_vec *v, const query_vec *tv,
                           const uint32_t *sel, const uint32_t *gids, size_t n) {
    qagg_kind kind = c->def->kind;
    size_t es = tsize(c->in);
    const char *src = c->in == QT_BOOL     ? (const char *)v->b
                      : c->in == QT_STRING ? (const char *)v->str
                      : c->in == QT_UINT   ? (const char *)v->u64
                      : c->in == QT_FLOAT  ? (const char *)v->f64
                                           : (const char *)v->i64;
    if (!src || !tv->i64) return SILT_OK;
    for (size_t k = 0; k < n; k++) {
        uint32_t i = sel[k];
        if ((v->valid && !v->valid[i]) || (tv->valid && !tv->valid[i])) continue;
        if (c->in == QT_FLOAT && v->f64[i] != v->f64[i]) continue;
        uint32_t g = gids[k];
        int64_t t = tv->i64[i];
        bool take = !c->has[g];
        if (!take) {
            switch (kind) {
                case QAGG_SEL_FIRST:
                    take = t < c->okey[g];
                    break;
                case QAGG_SEL_LAST:
                    take = t > c->okey[g];
                    break;
                default: {
                    int r = cmp_kept(c, v, i, g);
                    take = (kind == QAGG_SEL_MIN ? r < 0 : r > 0) || (r == 0 && t < c->okey[g]);
                    break;
                }
            }
        }
        if (!take) continue;
        c->has[g] = 1;
        c->okey[g] = t;
        if (c->in == QT_STRING)
            keep_string(h, &((str_view *)c->val)[g], v->str[i]);
        else
            memcpy((char *)c->val + (size_t)g * es, src + (size_t)i * es, es);
    }
    return SILT_OK;
}

static int update(qhagg *h, aggcol *c, const query_vec *v, const query_vec *ok, const uint32_t *sel,
                  size_t n, silt_err *err) {
    const uint32_t *gids = h->gids;
    const uint8_t *valid = v ? v->valid : NULL;
    switch (c->def->kind) {
        case QAGG_COUNT_STAR:
        case QAGG_COUNT:
            if (h->n_keys == 0) { /* one group: count the batch at once */
                int64_t cnt = (int64_t)n;
                if (valid && c->def->kind == QAGG_COUNT)
                    for (size_t k = 0; k < n; k++) cnt -= !valid[sel[k]];
                c->cnt[0] += cnt;
            } else if (valid && c->def->kind == QAGG_COUNT) {
                EACH_VALID(c->cnt[g]++);
            } else {
                for (size_t k = 0; k < n; k++) c->cnt[gids[k]]++;
            }
            return SILT_OK;
        case QAGG_SUM:
            if (c->def->type == QT_FLOAT) {
                double *s = c->val;
                if (c->in == QT_FLOAT)
                    EACH_RUN_SUM(s, if (cnt) c->has[g] = 1, v->f64[i])
                else
                    EACH_VALID(s[g] += as_f64(v, c->in, i); c->has[g] = 1)
            } else if (c->def->type == QT_UINT) {
                uint64_t *s = c->val;
                for (size_t k = 0; k < n; k++) {
                    uint32_t i = sel[k];
                    if (valid && !valid[i]) continue;
                    uint32_t g = gids[k];
                    if (__builtin_add_overflow(s[g], v->u64[i], &s[g]))
                        return SILT_FAIL(err, SILT_EINVAL, "integer overflow in sum()");
                    c->has[g] = 1;
                }
            } else {
                int64_t *s = c->val;
                for (size_t k = 0; k < n; k++) {
                    uint32_t i = sel[k];
                    if (valid && !valid[i]) continue;
                    uint32_t g = gids[k];
                    if (__builtin_add_overflow(s[g], v->i64[i], &s[g]))
                        return SILT_FAIL(err, SILT_EINVAL, "integer overflow in sum()");
                    c->has[g] = 1;
                }
            }
            return SILT_OK;
        case QAGG_AVG:
            if (c->in == QT_FLOAT)
                EACH_RUN_SUM(c->f1, c->cnt[g] += cnt, v->f64[i])
            else
                EACH_VALID(c->f1[g] += as_f64(v, c->in, i); c->cnt[g]++)
            return SILT_OK;
        case QAGG_STDDEV_SAMP:
        case QAGG_STDDEV_POP:
        case QAGG_VAR_SAMP:
        case QAGG_VAR_POP:
            EACH_VALID(double x = as_f64(v, c->in, i); int64_t m = ++c->cnt[g];
                       double d = x - c->f1[g]; c->f1[g] += d / (double)m;
                       c->f2[g] += d * (x - c->f1[g]))
            return SILT_OK;
        case QAGG_MIN:
        case QAGG_MAX:
            return update_minmax(h, c, v, sel, gids, n);
        case QAGG_FIRST:
        case QAGG_LAST:
            return update_firstlast(h, c, v, ok, sel, gids, n);
        case QAGG_SEL_FIRST:
        case QAGG_SEL_LAST:
        case QAGG_SEL_MIN:
        case QAGG_SEL_MAX:
            return update_selector(h, c, v, ok, sel, gids, n);
        case QAGG_MEDIAN:
        case QAGG_PERCENTILE:
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                if (valid && !valid[i]) continue;
                double x = as_f64(v, c->in, i);
                if (x != x) continue; /* NaN has no rank */
                uint64_t u;
                memcpy(&u, &x, 8);
                int rc = push_pair(h, c, gids[k], u, err);
                if (rc < 0) return rc;
            }
            return SILT_OK;
        case QAGG_COUNT_DISTINCT:
            for (size_t k = 0; k < n; k++) {
                uint32_t i = sel[k];
                if (valid && !valid[i]) continue;
                uint64_t key;
                switch (c->in) {
                    case QT_STRING:
                        key = hash64(v->str[i].n ? v->str[i].p : "", v->str[i].n);
                        break;
                    case QT_FLOAT:
                        key = f64_key(v->f64[i]);
                        break;
                    case QT_BOOL:
                        key = v->b[i] != 0;
                        break;
                    default:
                        key = bits64(v, c->in, i);
                        break;
                }
                int rc = push_pair(h, c, gids[k], key, err);
                if (rc < 0) return rc;
            }
            return SILT_OK;
    }
    return SILT_OK;
}

/* The per-batch arrays hold n rows. */
static void batch_cap(qhagg *h, size_t n) {
    if (n <= h->cap_batch) return;
    h->gids = xrealloc(h->gids, n * sizeof *h->gids);
    h->hashes = xrealloc(h->hashes, n * sizeof *h->hashes);
    h->same = xrealloc(h->same, n);
    h->lead = xrealloc(h->lead, n * sizeof *h->lead);
    h->lsel = xrealloc(h->lsel, n * sizeof *h->lsel);
    h->cap_batch = n;
}

int query__hagg_add(qhagg *h, const query_vec *keys, const query_vec *args, const query_vec *okeys,
                    size_t n_rows, const uint32_t *sel, size_t n, silt_err *err) {
    (void)n_rows;
    if (n == 0) return SILT_OK;
    batch_cap(h, n);
    if (h->n_keys == 0) { /* one group: gids stay 0 once written */
        if (n > h->zero_gids) {
            memset(h->gids + h->zero_gids, 0, (n - h->zero_gids) * sizeof *h->gids);
            h->zero_gids = n;
        }
    } else {
        int rc = find_groups(h, keys, sel, n, err);
        if (rc < 0) return rc;
    }
    for (size_t a = 0; a < h->n_aggs; a++) {
        aggcol *c = &h->aggs[a];
        int rc = update(h, c, c->def->arg ? &args[a] : NULL, okeys ? &okeys[a] : NULL, sel, n, err);
        if (rc < 0) return rc;
    }
    if (mem_used(h) > h->max_mem) return mem_fail(h, err);
    return SILT_OK;
}

/* ------------------------------------------------------------------ merging */

/* Kept value g of c against kept value h of d (same aggregate, same type). */
static int cmp_vals(const aggcol *c, size_t g, const aggcol *d, size_t h) {
    switch (c->in) {
        case QT_FLOAT: {
            double a = ((const double *)c->val)[g], b = ((const double *)d->val)[h];
            return a < b ? -1 : a > b;
        }
        case QT_UINT: {
            uint64_t a = ((const uint64_t *)c->val)[g], b = ((const uint64_t *)d->val)[h];
            return a < b ? -1 : a > b;
        }
        case QT_BOOL:
            return (int)((const uint8_t *)c->val)[g] - (int)((const uint8_t *)d->val)[h];
        case QT_STRING:
            return sv_cmp(((const str_view *)c->val)[g], ((const str_view *)d->val)[h]);
        default: {
            int64_t a = ((const int64_t *)c->val)[g], b = ((const int64_t *)d->val)[h];
            return a < b ? -1 : a > b;
        }
    }
}

/* Copy kept value g of from's column f into group d of into's column c. */
static void copy_val(qhagg *into, aggcol *c, size_t d, const aggcol *f, size_t g) {
    size_t es = tsize(c->def->kind == QAGG_SUM ? c->def->type : c->in);
    if (c->in == QT_STRING && c->def->kind != QAGG_SUM)
        keep_string(into, &((str_view *)c->val)[d], ((const str_view *)f->val)[g]);
    else
        memcpy((char *)c->val + d * es, (const char *)f->val + g * es, es);
}

/* Combine group g of from's column f into group d of into's column c; from saw the later
 * rows, so ties go as they would row by row. */
static int merge_col(qhagg *into, aggcol *c, size_t d, const aggcol *f, size_t g, silt_err *err) {
    switch (c->def->kind) {
        case QAGG_COUNT_STAR:
        case QAGG_COUNT:
            c->cnt[d] += f->cnt[g];
            return SILT_OK;
        case QAGG_SUM:
            if (!f->has[g]) return SILT_OK;
            if (!c->has[d]) {
                copy_val(into, c, d, f, g);
            } else if (c->def->type == QT_FLOAT) {
                ((double *)c->val)[d] += ((const double *)f->val)[g];
            } else if (c->def->type == QT_UINT) {
                uint64_t *x = &((uint64_t *)c->val)[d];
                if (__builtin_add_overflow(*x, ((const uint64_t *)f->val)[g], x))
                    return SILT_FAIL(err, SILT_EINVAL, "integer overflow in sum()");
            } else {
                int64_t *x = &((int64_t *)c->val)[d];
                if (__builtin_add_overflow(*x, ((const int64_t *)f->val)[g], x))
                    return SILT_FAIL(err, SILT_EINVAL, "integer overflow in sum()");
            }
            c->has[d] = 1;
            return SILT_OK;
        case QAGG_AVG:
            c->f1[d] += f->f1[g];
            c->cnt[d] += f->cnt[g];
            return SILT_OK;
        case QAGG_STDDEV_SAMP:
        case QAGG_STDDEV_POP:
        case QAGG_VAR_SAMP:
        case QAGG_VAR_POP: { /* Chan et al.: means and sums of squared deviations combine */
            int64_t na = c->cnt[d], nb = f->cnt[g];
            if (!nb) return SILT_OK;
            if (!na) {
                c->cnt[d] = nb, c->f1[d] = f->f1[g], c->f2[d] = f->f2[g];
                return SILT_OK;
            }
            double n = (double)(na + nb), delta = f->f1[g] - c->f1[d];
            c->f1[d] += delta * (double)nb / n;
            c->f2[d] += f->f2[g] + delta * delta * (double)na * (double)nb / n;
            c->cnt[d] = na + nb;
            return SILT_OK;
        }
        case QAGG_MIN:
        case QAGG_MAX: {
            if (!f->has[g]) return SILT_OK;
            int r = c->has[d] ? cmp_vals(f, g, c, d) : 0;
            if (!c->has[d] || (c->def->kind == QAGG_MIN ? r < 0 : r > 0)) copy_val(into, c, d, f, g);
            c->has[d] = 1;
            return SILT_OK;
        }
        case QAGG_FIRST:
        case QAGG_LAST: {
            if (!f->has[g]) return SILT_OK;
            bool take = !c->has[d] || (c->def->kind == QAGG_LAST ? f->okey[g] >= c->okey[d]
                                                                 : f->okey[g] < c->okey[d]);
            if (!take) return SILT_OK;
            c->has[d] = 1;
            c->okey[d] = f->okey[g];
            c->vnul[d] = f->vnul[g];
            if (!f->vnul[g]) copy_val(into, c, d, f, g);
            return SILT_OK;
        }
        case QAGG_SEL_FIRST:
        case QAGG_SEL_LAST:
        case QAGG_SEL_MIN:
        case QAGG_SEL_MAX: {
            if (!f->has[g]) return SILT_OK;
            bool take = !c->has[d];
            if (!take) {
                int64_t t = f->okey[g];
                if (c->def->kind == QAGG_SEL_FIRST)
                    take = t < c->okey[d];
                else if (c->def->kind == QAGG_SEL_LAST)
                    take = t > c->okey[d];
                else {
                    int r = cmp_vals(f, g, c, d);
                    take = (c->def->kind == QAGG_SEL_MIN ? r < 0 : r > 0) ||
                           (r == 0 && t < c->okey[d]);
                }
            }
            if (!take) return SILT_OK;
            c->has[d] = 1;
            c->okey[d] = f->okey[g];
            copy_val(into, c, d, f, g);
            return SILT_OK;
        }
        case QAGG_COUNT_DISTINCT:
        case QAGG_MEDIAN:
        case QAGG_PERCENTILE:
            return SILT_OK; /* pairs: merge_pairs */
    }
    return SILT_OK;
}

void query__hagg_set_max_memory(qhagg *h, size_t bytes) {
    h->max_mem = bytes ? bytes : QUERY_DEFAULT_MEMORY_BYTES;
}

int query__hagg_merge(qhagg *into, qhagg *from, silt_err *err) {
    size_t ng = from->n_groups;
    if (!ng) return SILT_OK;
    uint32_t *map = xmalloc(ng * sizeof *map); /* from's group -> into's */
    int rc = SILT_OK;
    if (into->n_keys == 0) {
        map[0] = 0;
    } else {
        size_t nk = into->n_keys;
        query_vec *keys = xcalloc(nk, sizeof *keys);
        for (size_t k = 0; k < nk; k++) {
            keys[k].valid = from->kvalid[k];
            switch (from->ktype[k]) {
                case QT_STRING:
                    keys[k].str = from->kdata[k];
                    break;
                case QT_BOOL:
                    keys[k].b = from->kdata[k];
                    break;
                case QT_FLOAT:
                    keys[k].f64 = from->kdata[k];
                    break;
                case QT_UINT:
                    keys[k].u64 = from->kdata[k];
                    break;
                default:
                    keys[k].i64 = from->kdata[k];
            }
        }
        enum { CHUNK = 4096 };
        uint32_t *sel = xmalloc(CHUNK * sizeof *sel);
        for (size_t from_g = 0; from_g < ng && rc == SILT_OK; from_g += CHUNK) {
            size_t n = ng - from_g < CHUNK ? ng - from_g : CHUNK;
            for (size_t k = 0; k < n; k++) sel[k] = (uint32_t)(from_g + k);
            batch_cap(into, n);
            rc = find_groups(into, keys, sel, n, err);
            if (rc == SILT_OK) memcpy(map + from_g, into->gids, n * sizeof *map);
        }
        free(sel);
        free(keys);
    }
    for (size_t a = 0; a < into->n_aggs && rc == SILT_OK; a++) {
        aggcol *c = &into->aggs[a];
        const aggcol *f = &from->aggs[a];
        for (size_t g = 0; g < ng && rc == SILT_OK; g++) rc = merge_col(into, c, map[g], f, g, err);
        for (size_t i = 0; i < f->n_pairs && rc == SILT_OK; i++)
            rc = push_pair(into, c, map[f->pairs[i].g], f->pairs[i].v, err);
        c->sorted = false;
    }
    if (rc == SILT_OK && mem_used(into) > into->max_mem) rc = mem_fail(into, err);
    free(map);
    return rc;
}

/* ------------------------------------------------------------------ results */

static int pair_cmp_f64(const void *a, const void *b) {
    const gpair *x = a, *y = b;
    if (x->g != y->g) return x->g < y->g ? -1 : 1;
    double p, q;
    memcpy(&p, &x->v, 8);
    memcpy(&q, &y->v, 8);
    return p < q ? -1 : p > q;
}

static int pair_cmp_u64(const void *a, const void *b) {
    const gpair *x = a, *y = b;
    if (x->g != y->g) return x->g < y->g ? -1 : 1;
    return x->v < y->v ? -1 : x->v > y->v;
}

/* Sort the pairs by (group, value) once; returns the index of the first pair of group from. */
static size_t pairs_start(aggcol *c, size_t from) {
    if (!c->sorted && c->n_pairs) {
        qsort(c->pairs, c->n_pairs, sizeof *c->pairs,
              c->def->kind == QAGG_COUNT_DISTINCT ? pair_cmp_u64 : pair_cmp_f64);
        c->sorted = true;
    }
    size_t lo = 0, hi = c->n_pairs; /* first pair with g >= from */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->pairs[mid].g < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static double pair_f(const gpair *p) {
    double d;
    memcpy(&d, &p->v, 8);
    return d;
}

/* {"value":v,"time":"..."} per group, as InfluxDB 3 prints its selector structs. */
static void emit_selectors(const aggcol *c, size_t from, size_t n, str_view *d, uint8_t *valid,
                           arena *a) {
    buf tmp = {0};
    for (size_t r = 0; r < n; r++) {
        size_t g = from + r;
        valid[r] = c->has[g];
        if (!valid[r]) continue;
        buf_reset(&tmp);
        buf_puts(&tmp, "{\"value\":");
        switch (c->in) {
            case QT_FLOAT: {
                double x = ((const double *)c->val)[g];
                if (isfinite(x))
                    buf_put_double(&tmp, x);
                else
                    buf_puts(&tmp, "null");
                break;
            }
            case QT_UINT:
                buf_put_u64(&tmp, ((const uint64_t *)c->val)[g]);
                break;
            case QT_BOOL:
                buf_puts(&tmp, ((const uint8_t *)c->val)[g] ? "true" : "false");
                break;
            case QT_STRING: {
                str_view s = ((const str_view *)c->val)[g];
                buf_putc(&tmp, '"');
                buf_json_escape(&tmp, s.p, s.n);
                buf_putc(&tmp, '"');
                break;
            }
            case QT_TIME: {
                char t[48];
                buf_putc(&tmp, '"');
                buf_append(&tmp, t, time_format_rfc3339(t, ((const int64_t *)c->val)[g], false));
                buf_putc(&tmp, '"');
                break;
            }
            default:
                buf_put_i64(&tmp, ((const int64_t *)c->val)[g]);
                break;
        }
        char t[48];
        buf_puts(&tmp, ",\"time\":\"");
        buf_append(&tmp, t, time_format_rfc3339(t, c->okey[g], false));
        buf_puts(&tmp, "\"}");
        d[r] = (str_view){arena_strndup(a, (const char *)tmp.p, tmp.len), tmp.len};
    }
    buf_free(&tmp);
}

int query__hagg_emit(qhagg *h, size_t from, size_t n, query_vec *cols, arena *a, silt_err *err) {
    (void)err;
    size_t nn = n ? n : 1;
    for (size_t c = 0; c < h->n_keys; c++) {
        query_vec *v = &cols[c];
        memset(v, 0, sizeof *v);
        size_t es = tsize(h->ktype[c]);
        const void *base = (const char *)h->kdata[c] + from * es;
        switch (h->ktype[c]) {
            case QT_BOOL:
                v->b = base;
                break;
            case QT_UINT:
                v->u64 = base;
                break;
            case QT_FLOAT:
                v->f64 = base;
                break;
            case QT_STRING:
                v->str = base;
                break;
            default:
                v->i64 = base;
                break;
        }
        v->valid = h->kvalid[c] + from;
    }
    for (size_t ai = 0; ai < h->n_aggs; ai++) {
        aggcol *c = &h->aggs[ai];
        query_vec *v = &cols[h->n_keys + ai];
        memset(v, 0, sizeof *v);
        uint8_t *valid = arena_alloc(a, nn);
        v->valid = valid;
        qtype t = c->def->type;
        size_t es = tsize(t);
        void *d = arena_alloc(a, nn * es);
        switch (t) {
            case QT_BOOL:
                v->b = d;
                break;
            case QT_UINT:
                v->u64 = d;
                break;
            case QT_FLOAT:
                v->f64 = d;
                break;
            case QT_STRING:
                v->str = d;
                break;
            default:
                v->i64 = d;
                break;
        }
        switch (c->def->kind) {
            case QAGG_COUNT_STAR:
            case QAGG_COUNT:
                for (size_t r = 0; r < n; r++) ((int64_t *)d)[r] = c->cnt[from + r], valid[r] = 1;
                break;
            case QAGG_AVG:
                for (size_t r = 0; r < n; r++) {
                    int64_t m = c->cnt[from + r];
                    valid[r] = m > 0;
                    ((double *)d)[r] = m ? c->f1[from + r] / (double)m : 0;
                }
                break;
            case QAGG_STDDEV_SAMP:
            case QAGG_STDDEV_POP:
            case QAGG_VAR_SAMP:
            case QAGG_VAR_POP: {
                bool samp = c->def->kind == QAGG_STDDEV_SAMP || c->def->kind == QAGG_VAR_SAMP;
                bool sq = c->def->kind == QAGG_STDDEV_SAMP || c->def->kind == QAGG_STDDEV_POP;
                for (size_t r = 0; r < n; r++) {
                    int64_t m = c->cnt[from + r];
                    int64_t div = samp ? m - 1 : m;
                    valid[r] = div > 0;
                    double var = div > 0 ? c->f2[from + r] / (double)div : 0;
                    ((double *)d)[r] = sq ? sqrt(var) : var;
                }
                break;
            }
            case QAGG_SUM:
            case QAGG_MIN:
            case QAGG_MAX:
                for (size_t r = 0; r < n; r++) valid[r] = c->has[from + r];
                memcpy(d, (const char *)c->val + from * es, n * es);
                break;
            case QAGG_FIRST:
            case QAGG_LAST:
                for (size_t r = 0; r < n; r++) valid[r] = c->has[from + r] && !c->vnul[from + r];
                memcpy(d, (const char *)c->val + from * es, n * es);
                break;
            case QAGG_SEL_FIRST:
            case QAGG_SEL_LAST:
            case QAGG_SEL_MIN:
            case QAGG_SEL_MAX:
                emit_selectors(c, from, n, d, valid, a);
                break;
            case QAGG_MEDIAN:
            case QAGG_PERCENTILE: {
                double p = c->def->kind == QAGG_MEDIAN ? 0.5 : c->def->param;
                size_t j = pairs_start(c, from);
                for (size_t r = 0; r < n; r++) {
                    size_t g = from + r, s = j;
                    while (j < c->n_pairs && c->pairs[j].g == g) j++;
                    size_t cnt = j - s;
                    valid[r] = cnt > 0;
                    if (!cnt) continue;
                    double rank = p * (double)(cnt - 1);
                    size_t lo = (size_t)floor(rank), hi = (size_t)ceil(rank);
                    double x = pair_f(&c->pairs[s + lo]), y = pair_f(&c->pairs[s + hi]);
                    ((double *)d)[r] = x + (y - x) * (rank - (double)lo);
                }
                break;
            }
            case QAGG_COUNT_DISTINCT: {
                size_t j = pairs_start(c, from);
                for (size_t r = 0; r < n; r++) {
                    size_t g = from + r;
                    int64_t cnt = 0;
                    bool first = true;
                    uint64_t prev = 0;
                    for (; j < c->n_pairs && c->pairs[j].g == g; j++) {
                        if (first || c->pairs[j].v != prev) cnt++;
                        prev = c->pairs[j].v;
                        first = false;
                    }
                    ((int64_t *)d)[r] = cnt;
                    valid[r] = 1;
                }
                break;
            }
        }
    }
    return SILT_OK;
}
