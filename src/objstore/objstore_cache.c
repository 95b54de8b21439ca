/* SPDX-License-Identifier: MIT
 *
 * The cache decorator: local copies of remote objects under <dir>/<key>, bounded by total
 * size with least-recently-used eviction. Objects are immutable, so a copy never goes stale;
 * what can go wrong is a copy that is incomplete (a crash during a fill) or damaged, and an
 * object deleted from the inner store while a copy stays. The rules are README invariants
 * 18-22, in short:
 *   18. a fill writes a temp file ".<pid>-<seq>.tmp~" next to the final name and renames it
 *       into place; temp files are removed on open; the cache never fsyncs;
 *   19. the index is rebuilt from the directory on open; copies found there are checked
 *       against the inner object's size (HEAD) at their first hit;
 *   20. whole-object gets fill on a miss; ranged gets use a verified copy or go to inner;
 *       put, head, list go to inner; del goes to inner and drops the copy;
 *   21. least recently used copies go above max_bytes; an object larger than that is not kept;
 *   22. mu protects the index and counters; no file I/O or inner call under it.
 */
#include "objstore_int.h"

#include "../util/vfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct centry {
    char *key;
    uint64_t size;
    int64_t atime_ns; /* for the order rebuilt on open only */
    bool verified;
    struct centry *prev, *next; /* LRU list, head = most recently used */
    struct centry *hnext;       /* hash chain */
} centry;

typedef struct cache_store {
    objstore base;
    objstore *inner; /* owned */
    vfs *v;
    char *dir;
    uint64_t max_bytes;
    _Atomic uint64_t tmp_seq;
    pthread_mutex_t mu;
    centry **buckets;        /* protected by mu */
    size_t n_buckets, n;     /* protected by mu */
    centry *head, *tail;     /* protected by mu */
    objstore_cache_stats st; /* protected by mu */
} cache_store;

/* ------------------------------------------------------------------ index (needs mu) */

static size_t bucket_of(const cache_store *c, const char *key) {
    return (size_t)(hash64(key, strlen(key)) & (c->n_buckets - 1));
}

static centry *idx_find(cache_store *c, const char *key) {
    for (centry *e = c->buckets[bucket_of(c, key)]; e; e = e->hnext)
        if (!strcmp(e->key, key)) return e;
    return NULL;
}

static void lru_unlink(cache_store *c, centry *e) {
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_front(cache_store *c, centry *e) {
    e->prev = NULL;
    e->next = c->head;
    if (c->head) c->head->prev = e;
    c->head = e;
    if (!c->tail) c->tail = e;
}

static void idx_grow(cache_store *c) {
    size_t nb = c->n_buckets * 2;
    centry **b = xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < c->n_buckets; i++)
        for (centry *e = c->buckets[i], *nx; e; e = nx) {
            nx = e->hnext;
            size_t k = (size_t)(hash64(e->key, strlen(e->key)) & (nb - 1));
            e->hnext = b[k];
            b[k] = e;
        }
    free(c->buckets);
    c->buckets = b;
    c->n_buckets = nb;
}

/* Insert (or refresh) key at the LRU head. */
static void idx_put(cache_store *c, const char *key, uint64_t size, bool verified) {
    centry *e = idx_find(c, key);
    if (e) {
        c->st.bytes -= e->size;
        lru_unlink(c, e);
    } else {
        if (c->n + 1 > c->n_buckets) idx_grow(c);
        e = xcalloc(1, sizeof *e);
        e->key = xstrdup(key);
        size_t b = bucket_of(c, key);
        e->hnext = c->buckets[b];
        c->buckets[b] = e;
        c->n++;
    }
    e->size = size;
    e->verified = verified;
    c->st.bytes += size;
    lru_front(c, e);
}

/* Take e out of the index; the caller frees it (after unlinking the file, outside mu). */
static void idx_remove(cache_store *c, centry *e) {
    centry **pp = &c->buckets[bucket_of(c, e->key)];
    while (*pp != e) pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(c, e);
    c->st.bytes -= e->size;
    c->n--;
}

/* Pop least recently used entries until the total fits max_bytes; returns them as a list
 * (through next) for the caller to unlink outside mu. */
static centry *idx_evict(cache_store *c) {
    centry *victims = NULL;
    while (c->st.bytes > c->max_bytes && c->tail) {
        centry *e = c->tail;
        idx_remove(c, e);
        c->st.evictions++;
        e->next = victims;
        victims = e;
    }
    return victims;
}

/* ------------------------------------------------------------------ files */

static int path_of(const cache_store *c, const char *key, char *out, silt_err *err) {
    if ((size_t)snprintf(out, PATH_MAX, "%s/%s", c->dir, key) >= PATH_MAX)
        return SILT_FAIL(err, SILT_EINVAL, "objstore cache: path for %s too long", key);
    return SILT_OK;
}

static void unlink_victims(cache_store *c, centry *v) {
    while (v) {
        centry *nx = v->next;
        char p[PATH_MAX];
        if (path_of(c, v->key, p, NULL) == SILT_OK && unlink(p) < 0 && errno != ENOENT)
            log_warn("objstore", "cache: unlink %s: %s", p, strerror(errno));
        free(v->key);
        free(v);
        v = nx;
    }
}

static void drop(cache_store *c, const char *key) {
    pthread_mutex_lock(&c->mu);
    centry *e = idx_find(c, key);
    if (e) idx_remove(c, e);
    pthread_mutex_unlock(&c->mu);
    if (e) {
        e->next = NULL;
        unlink_victims(c, e);
    }
}

/* Read [off, off+len) of the cached copy into out. SILT_ENOTFOUND if the file is gone or
 * does not have `size` bytes (the caller then treats it as a miss). */
static int read_copy(cache_store *c, const char *key, uint64_t size, uint64_t off, uint64_t len,
                     buf *out, silt_err *err) {
    char p[PATH_MAX];
    int rc = path_of(c, key, p, err);
    if (rc) return rc;
    vfs_file *f;
    if ((rc = c->v->open(c->v, p, VFS_RDONLY, &f, err))) return rc;
    uint64_t fsize;
    if ((rc = c->v->size(f, &fsize, err))) goto fail;
    if (fsize != size) {
        rc = SILT_ENOTFOUND;
        goto fail;
    }
    uint64_t n = objstore__clip(size, off, len);
    if (n) {
        buf_reserve(out, (size_t)n);
        size_t got = 0;
        if ((rc = c->v->pread(f, out->p + out->len, (size_t)n, off, &got, err))) goto fail;
        if (got != n) {
            rc = SILT_ENOTFOUND;
            goto fail;
        }
        out->len += (size_t)n;
    }
fail:
    c->v->close(f);
    return rc;
}

/* Invariant 18: write data to a temp file beside the final name, rename it into place. */
static int write_copy(cache_store *c, const char *key, const uint8_t *data, size_t len,
                      silt_err *err) {
    char p[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX + 64];
    int rc = path_of(c, key, p, err);
    if (rc) return rc;
    const char *slash = strrchr(p, '/');
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - p), p);
    if ((rc = c->v->mkdirs(c->v, dir, err))) return rc;
    snprintf(tmp, sizeof tmp, "%s/.%ld-%llu.tmp~", dir, (long)getpid(),
             (unsigned long long)atomic_fetch_add(&c->tmp_seq, 1));
    vfs_file *f;
    if ((rc = c->v->open(c->v, tmp, VFS_RDWR | VFS_CREATE | VFS_EXCL, &f, err))) return rc;
    rc = len ? c->v->pwrite(f, data, len, 0, err) : SILT_OK;
    c->v->close(f);
    if (!rc) rc = c->v->rename(c->v, tmp, p, err);
    if (rc) c->v->unlink(c->v, tmp, NULL);
    return rc;
}

/* ------------------------------------------------------------------ operations */

static int cache_get(objstore *s, const char *key, uint64_t off, uint64_t len, buf *out,
                     silt_err *err) {
    cache_store *c = (cache_store *)s;
    int rc = objstore__check_key(key, "get", err);
    if (rc) return rc;
    bool whole = off == 0 && len == UINT64_MAX;
    uint64_t size = 0;
    bool cached = false, verified = false;
    pthread_mutex_lock(&c->mu);
    centry *e = idx_find(c, key);
    if (e) {
        cached = true;
        verified = e->verified;
        size = e->size;
        lru_unlink(c, e);
        lru_front(c, e);
    }
    pthread_mutex_unlock(&c->mu);

    if (cached && !verified) { /* invariant 19 */
        objstore_meta m;
        rc = objstore_head(c->inner, key, &m, err);
        if (rc == SILT_ENOTFOUND) {
            drop(c, key);
            return rc;
        }
        if (rc) return rc;
        if (m.size != size) {
            log_warn("objstore", "cache: copy of %s has %llu bytes, the object %llu: dropped", key,
                     (unsigned long long)size, (unsigned long long)m.size);
            drop(c, key);
            cached = false;
        } else {
            pthread_mutex_lock(&c->mu);
            if ((e = idx_find(c, key)) && e->size == size) e->verified = true;
            pthread_mutex_unlock(&c->mu);
        }
    }
    if (cached) {
        size_t start = out->len;
        silt_err e2 = {0};
        rc = read_copy(c, key, size, off, len, out, &e2);
        if (rc == SILT_OK) {
            pthread_mutex_lock(&c->mu);
            c->st.hits++;
            pthread_mutex_unlock(&c->mu);
            return SILT_OK;
        }
        out->len = start;
        if (rc != SILT_ENOTFOUND) {
            if (err) *err = e2;
            return rc;
        }
        drop(c, key); /* vanished or cut short: a miss */
    }

    size_t start = out->len;
    if ((rc = objstore_get(c->inner, key, off, len, out, err))) return rc;
    pthread_mutex_lock(&c->mu);
    c->st.misses++;
    pthread_mutex_unlock(&c->mu);
    if (!whole) return SILT_OK; /* invariant 20: ranged gets do not fill */
    size_t n = out->len - start;
    if (n > c->max_bytes) return SILT_OK; /* invariant 21 */
    silt_err e3 = {0};
    if (write_copy(c, key, out->p + start, n, &e3)) {
        log_warn("objstore", "cache: cannot keep a copy of %s: %s", key, e3.msg);
        return SILT_OK;
    }
    pthread_mutex_lock(&c->mu);
    idx_put(c, key, n, true);
    centry *victims = idx_evict(c);
    pthread_mutex_unlock(&c->mu);
    unlink_victims(c, victims);
    return SILT_OK;
}

static int cache_put(objstore *s, const char *key, const uint8_t *data, size_t len, silt_err *err) {
    return objstore_put(((cache_store *)s)->inner, key, data, len, err);
}

static int cache_head(objstore *s, const char *key, objstore_meta *out, silt_err *err) {
    return objstore_head(((cache_store *)s)->inner, key, out, err);
}

static int cache_list(objstore *s, const char *prefix, const char *start_after, size_t max,
                      objstore_page *out, silt_err *err) {
    return objstore_list(((cache_store *)s)->inner, prefix, start_after, max, out, err);
}

static int cache_del(objstore *s, const char *key, silt_err *err) {
    cache_store *c = (cache_store *)s;
    int rc = objstore_del(c->inner, key, err);
    if (rc) return rc;
    drop(c, key);
    return SILT_OK;
}

static void cache_destroy(objstore *s) {
    cache_store *c = (cache_store *)s;
    objstore_destroy(c->inner);
    for (centry *e = c->head, *nx; e; e = nx) {
        nx = e->next;
        free(e->key);
        free(e);
    }
    free(c->buckets);
    free(c->dir);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static const objstore_vt cache_vt = {
    .put = cache_put,
    .get = cache_get,
    .head = cache_head,
    .list = cache_list,
    .del = cache_del,
    .destroy = cache_destroy,
};

void objstore_cache_get_stats(objstore *s, objstore_cache_stats *out) {
    cache_store *c = (cache_store *)s;
    assert(s->vt == &cache_vt);
    pthread_mutex_lock(&c->mu);
    *out = c->st;
    pthread_mutex_unlock(&c->mu);
}

void objstore_cache_evict(objstore *s, const char *key) {
    assert(s->vt == &cache_vt);
    if (objstore_key_valid(key)) drop((cache_store *)s, key);
}

/* ------------------------------------------------------------------ open */

typedef struct scan_ent {
    char *key;
    uint64_t size;
    int64_t atime_ns;
} scan_ent;

typedef struct scan {
    scan_ent *v;
    size_t n, cap;
    unsigned temps;
} scan;

/* Walk dir (rel: key prefix so far), removing temp files, collecting valid copies. */
static void scan_dir(cache_store *c, buf *rel, scan *sc, int depth) {
    char p[PATH_MAX];
    if (depth > 64) return;
    if ((size_t)snprintf(p, sizeof p, "%s%s%.*s", c->dir, rel->len ? "/" : "",
                         (int)(rel->len ? rel->len - 1 : 0),
                         rel->p ? (char *)rel->p : "") >= sizeof p)
        return;
    DIR *d = opendir(p);
    if (!d) return;
    size_t base = rel->len;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *name = de->d_name;
        if (!strcmp(name, ".") || !strcmp(name, "..")) continue;
        struct stat st;
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
        size_t nl = strlen(name);
        if (S_ISREG(st.st_mode) && nl > 5 && name[0] == '.' && !strcmp(name + nl - 5, ".tmp~")) {
            if (unlinkat(dirfd(d), name, 0) == 0) sc->temps++;
            continue;
        }
        if (!objstore__segment_valid(name, nl)) continue;
        rel->len = base;
        buf_append(rel, name, nl);
        if (S_ISDIR(st.st_mode)) {
            buf_putc(rel, '/');
            scan_dir(c, rel, sc, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            XGROW(sc->v, sc->cap, sc->n + 1);
            int64_t at = (int64_t)st.st_atim.tv_sec * NS_PER_S + st.st_atim.tv_nsec;
            int64_t mt = (int64_t)st.st_mtim.tv_sec * NS_PER_S + st.st_mtim.tv_nsec;
            sc->v[sc->n].key = xstrndup((const char *)rel->p, rel->len);
            sc->v[sc->n].size = (uint64_t)st.st_size;
            sc->v[sc->n].atime_ns = at > mt ? at : mt;
            sc->n++;
        }
    }
    rel->len = base;
    closedir(d);
}

static int cmp_atime(const void *pa, const void *pb) {
    const scan_ent *a = pa, *b = pb;
    if (a->atime_ns != b->atime_ns) return a->atime_ns < b->atime_ns ? -1 : 1;
    return strcmp(a->key, b->key);
}

int objstore_cache_open(objstore *inner, const char *dir, uint64_t max_bytes, objstore **out,
                        silt_err *err) {
    *out = NULL;
    if (!inner || !dir || !*dir)
        return SILT_FAIL(err, SILT_EINVAL, "objstore cache: bad arguments");
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') dl--;
    if (dl + 2 + OBJSTORE_KEY_MAX > PATH_MAX)
        return SILT_FAIL(err, SILT_EINVAL, "objstore cache: directory %s too long", dir);
    vfs *v = vfs_posix();
    char *d = xstrndup(dir, dl);
    int rc = v->mkdirs(v, d, err);
    if (rc) {
        free(d);
        return rc;
    }
    cache_store *c = xcalloc(1, sizeof *c);
    c->base.vt = &cache_vt;
    c->base.kind = "cache";
    c->inner = inner;
    c->v = v;
    c->dir = d;
    c->max_bytes = max_bytes;
    c->n_buckets = 64;
    c->buckets = xcalloc(c->n_buckets, sizeof *c->buckets);
    pthread_mutex_init(&c->mu, NULL);
    /* invariant 19: rebuild the index, oldest first so the newest ends at the head */
    scan sc = {0};
    buf rel = {0};
    scan_dir(c, &rel, &sc, 0);
    buf_free(&rel);
    if (sc.n) qsort(sc.v, sc.n, sizeof *sc.v, cmp_atime);
    for (size_t i = 0; i < sc.n; i++) {
        idx_put(c, sc.v[i].key, sc.v[i].size, false);
        free(sc.v[i].key);
    }
    free(sc.v);
    centry *victims = idx_evict(c);
    c->st.evictions = 0; /* trimming to a smaller bound on open is not an eviction of use */
    unlink_victims(c, victims);
    if (sc.temps) log_info("objstore", "cache %s: removed %u temp files", d, sc.temps);
    *out = &c->base;
    return SILT_OK;
}
