/* SPDX-License-Identifier: MIT
 *
 * The crash-simulating vfs (SQLite test6.c / crashsql). It models a disk with a volatile
 * write cache:
 *   - pwrite() data is held in memory, per file, in write order; reads see it.
 *   - sync(file) makes that file's held writes durable (written to the inner vfs).
 *   - a file created since its directory was last synced exists only in the cache.
 *   - sync_dir(dir) makes creations inside dir durable.
 *   - rename, unlink and truncate go to the inner vfs at once (a simplification: silt only
 *     renames after syncing the source and syncs the directory right after).
 * At the crash_at-th sync (file or directory) the machine "loses power" instead of syncing:
 * every held write of every file is, at random, applied whole, dropped, torn (a prefix
 * applied) or garbled (applied with random bytes changed); each file still in the cache only
 * is deleted or kept at random; then every later call fails with EIO. The PRNG is seeded by
 * the caller, so a failing seed reproduces. */
#include "vfs.h"

#include <errno.h>
#include <stdlib.h>

typedef struct held_write {
    uint64_t off;
    size_t n;
    uint8_t *data;
} held_write;

typedef struct crash_node {
    char *path;
    held_write *w; /* held writes, in order */
    size_t n_w, cap_w;
    bool volatile_create; /* created, directory not yet synced */
} crash_node;

typedef struct crash_vfs {
    vfs base;
    vfs *inner;
    pthread_mutex_t mu;
    crash_node **nodes; /* protected by mu */
    size_t n_nodes, cap_nodes;
    uint64_t rng;
    unsigned crash_at, syncs;
    bool crashed;
} crash_vfs;

typedef struct crash_file {
    vfs_file base;
    vfs_file *inner;
    crash_node *node;
} crash_file;

static uint64_t rnd(crash_vfs *v) {
    /* splitmix64 */
    uint64_t z = (v->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static crash_node *node_get(crash_vfs *v, const char *path) {
    for (size_t i = 0; i < v->n_nodes; i++)
        if (strcmp(v->nodes[i]->path, path) == 0) return v->nodes[i];
    crash_node *n = xcalloc(1, sizeof *n);
    n->path = xstrdup(path);
    XGROW(v->nodes, v->cap_nodes, v->n_nodes + 1);
    v->nodes[v->n_nodes++] = n;
    return n;
}

static void node_clear(crash_node *n) {
    for (size_t i = 0; i < n->n_w; i++) free(n->w[i].data);
    n->n_w = 0;
}

static int dead(silt_err *err, const char *what) {
    return silt_err_sys(err, EIO, "%s (simulated power loss)", what);
}

/* Write the held writes of n to the inner vfs; mode 0 = all whole (a sync), 1 = crash. */
static void node_flush(crash_vfs *v, crash_node *n, vfs_file *inner, int mode) {
    for (size_t i = 0; i < n->n_w; i++) {
        held_write *w = &n->w[i];
        size_t len = w->n;
        if (mode == 1) {
            unsigned fate = (unsigned)(rnd(v) % 4);
            if (fate == 1) continue;                 /* dropped */
            if (fate == 2) len = (size_t)(rnd(v) % (w->n + 1)); /* torn */
            if (fate == 3 && len)                    /* garbled */
                for (int k = 0, nk = 1 + (int)(rnd(v) % 4); k < nk; k++)
                    w->data[rnd(v) % len] ^= (uint8_t)(1 + rnd(v) % 255);
        }
        if (len) inner->owner->pwrite(inner, w->data, len, w->off, NULL);
    }
    node_clear(n);
}

static void crash_now(crash_vfs *v) {
    v->crashed = true;
    for (size_t i = 0; i < v->n_nodes; i++) {
        crash_node *n = v->nodes[i];
        vfs_file *in = NULL;
        if (n->volatile_create && rnd(v) % 2) {
            node_clear(n);
            v->inner->unlink(v->inner, n->path, NULL);
            continue;
        }
        if (n->n_w && v->inner->open(v->inner, n->path, VFS_RDWR, &in, NULL) == SILT_OK) {
            node_flush(v, n, in, 1);
            in->owner->close(in);
        }
        node_clear(n);
    }
}

/* Count a sync; true if this one is the crash. Caller holds mu. */
static bool sync_is_crash(crash_vfs *v) {
    if (v->crashed) return true;
    v->syncs++;
    if (v->crash_at && v->syncs >= v->crash_at) {
        v->syncs--; /* it did not complete */
        crash_now(v);
        return true;
    }
    return false;
}

static int c_open(vfs *vv, const char *path, int flags, vfs_file **out, silt_err *err) {
    crash_vfs *v = (crash_vfs *)vv;
    pthread_mutex_lock(&v->mu);
    int rc;
    if (v->crashed) {
        rc = dead(err, "open");
        goto done;
    }
    vfs_file *in;
    bool created = false;
    rc = v->inner->open(v->inner, path, flags & ~(VFS_CREATE | VFS_EXCL), &in, NULL);
    if (rc == SILT_ENOTFOUND && (flags & VFS_CREATE)) {
        rc = v->inner->open(v->inner, path, flags, &in, err);
        created = rc == SILT_OK;
    } else if (rc == SILT_OK && (flags & VFS_EXCL)) {
        in->owner->close(in);
        rc = SILT_FAIL(err, SILT_EEXIST, "open %s: exists", path);
    } else if (rc) {
        rc = v->inner->open(v->inner, path, flags, &in, err); /* for the error detail */
    }
    if (rc) goto done;
    crash_file *f = xcalloc(1, sizeof *f);
    f->base.owner = vv;
    f->base.path = xstrdup(path);
    f->inner = in;
    f->node = node_get(v, path);
    if (created) f->node->volatile_create = true;
    *out = &f->base;
done:
    pthread_mutex_unlock(&v->mu);
    return rc;
}

static void c_close(vfs_file *vf) {
    crash_file *f = (crash_file *)vf;
    f->inner->owner->close(f->inner);
    free(f->base.path);
    free(f);
}

static int c_pwrite(vfs_file *vf, const void *p, size_t n, uint64_t off, silt_err *err) {
    crash_file *f = (crash_file *)vf;
    crash_vfs *v = (crash_vfs *)vf->owner;
    pthread_mutex_lock(&v->mu);
    int rc = SILT_OK;
    if (v->crashed) {
        rc = dead(err, "write");
    } else {
        crash_node *nd = f->node;
        XGROW(nd->w, nd->cap_w, nd->n_w + 1);
        held_write *w = &nd->w[nd->n_w++];
        w->off = off;
        w->n = n;
        w->data = xmalloc(n);
        memcpy(w->data, p, n);
    }
    pthread_mutex_unlock(&v->mu);
    return rc;
}

static int c_size_locked(crash_file *f, uint64_t *size, silt_err *err) {
    int rc = f->inner->owner->size(f->inner, size, err);
    if (rc) return rc;
    for (size_t i = 0; i < f->node->n_w; i++) {
        uint64_t end = f->node->w[i].off + f->node->w[i].n;
        if (end > *size) *size = end;
    }
    return SILT_OK;
}

static int c_pread(vfs_file *vf, void *p, size_t n, uint64_t off, size_t *got, silt_err *err) {
    crash_file *f = (crash_file *)vf;
    crash_vfs *v = (crash_vfs *)vf->owner;
    pthread_mutex_lock(&v->mu);
    int rc;
    if (v->crashed) {
        rc = dead(err, "read");
        goto done;
    }
    uint64_t size;
    if ((rc = c_size_locked(f, &size, err))) goto done;
    size_t want = off >= size ? 0 : (size_t)(size - off < n ? size - off : n);
    memset(p, 0, want);
    size_t g;
    if ((rc = f->inner->owner->pread(f->inner, p, want, off, &g, err))) goto done;
    for (size_t i = 0; i < f->node->n_w; i++) { /* overlay held writes, in order */
        held_write *w = &f->node->w[i];
        uint64_t s = w->off > off ? w->off : off;
        uint64_t e = w->off + w->n < off + want ? w->off + w->n : off + want;
        if (s < e) memcpy((uint8_t *)p + (s - off), w->data + (s - w->off), (size_t)(e - s));
    }
    *got = want;
done:
    pthread_mutex_unlock(&v->mu);
    return rc;
}

static int c_sync(vfs_file *vf, silt_err *err) {
    crash_file *f = (crash_file *)vf;
    crash_vfs *v = (crash_vfs *)vf->owner;
    pthread_mutex_lock(&v->mu);
    int rc = SILT_OK;
    if (sync_is_crash(v)) rc = dead(err, "fdatasync");
    else node_flush(v, f->node, f->inner, 0);
    pthread_mutex_unlock(&v->mu);
    return rc;
}

static int c_truncate(vfs_file *vf, uint64_t size, silt_err *err) {
    crash_file *f = (crash_file *)vf;
    crash_vfs *v = (crash_vfs *)vf->owner;
    pthread_mutex_lock(&v->mu);
    int rc;
    if (v->crashed) {
        rc = dead(err, "truncate");
    } else {
        node_flush(v, f->node, f->inner, 0); /* order: earlier writes, then the truncate */
        rc = f->inner->owner->truncate(f->inner, size, err);
    }
    pthread_mutex_unlock(&v->mu);
    return rc;
}

static int c_size(vfs_file *vf, uint64_t *size, silt_err *err) {
    crash_file *f = (crash_file *)vf;
    crash_vfs *v = (crash_vfs *)vf->owner;
    pthread_mutex_lock(&v->mu);
    int rc = v->crashed ? dead(err, "stat") : c_size_locked(f, size, err);
    pthread_mutex_unlock(&v->mu);
    return rc;
}

static int c_sync_dir(vfs *vv, const char *dir, silt_err *err) {
    crash_vfs *v = (crash_vfs *)vv;
    pthread_mutex_lock(&v->mu);
    int rc = SILT_OK;
    if (sync_is_crash(v)) {
        rc = dead(err, "fsync directory");
    } else {
        size_t dl = strlen(dir);
        for (size_t i = 0; i < v->n_nodes; i++) {
            crash_node *n = v->nodes[i];
            if (strncmp(n->path, dir, dl) == 0 && n->path[dl] == '/' && !strchr(n->path + dl + 1, '/'))
                n->volatile_create = false;
        }
    }
    pthread_mutex_unlock(&v->mu);
    return rc;
}

static int c_unlink(vfs *vv, const char *path, silt_err *err) {
    crash_vfs *v = (crash_vfs *)vv;
    pthread_mutex_lock(&v->mu);
    int rc;
    if (v->crashed) {
        rc = dead(err, "unlink");
    } else {
        crash_node *n = node_get(v, path);
        node_clear(n);
        n->volatile_create = false;
        rc = v->inner->unlink(v->inner, path, err);
    }
    pthread_mutex_unlock(&v->mu);
    return rc;
}

static int c_rename(vfs *vv, const char *from, const char *to, silt_err *err) {
    crash_vfs *v = (crash_vfs *)vv;
    pthread_mutex_lock(&v->mu);
    int rc;
    if (v->crashed) {
        rc = dead(err, "rename");
    } else {
        crash_node *a = node_get(v, from), *b = node_get(v, to);
        node_clear(b);
        /* the renamed file keeps its held writes */
        held_write *w = b->w;
        size_t cap = b->cap_w;
        b->w = a->w; b->n_w = a->n_w; b->cap_w = a->cap_w;
        a->w = w; a->n_w = 0; a->cap_w = cap;
        b->volatile_create = a->volatile_create;
        a->volatile_create = false;
        rc = v->inner->rename(v->inner, from, to, err);
    }
    pthread_mutex_unlock(&v->mu);
    return rc;
}

static int c_mkdirs(vfs *vv, const char *dir, silt_err *err) {
    crash_vfs *v = (crash_vfs *)vv;
    if (v->crashed) return dead(err, "mkdir");
    return v->inner->mkdirs(v->inner, dir, err);
}

static int c_list(vfs *vv, const char *dir, char ***names, size_t *n, silt_err *err) {
    crash_vfs *v = (crash_vfs *)vv;
    if (v->crashed) return dead(err, "list");
    return v->inner->list(v->inner, dir, names, n, err);
}

static void c_destroy(vfs *vv) {
    crash_vfs *v = (crash_vfs *)vv;
    for (size_t i = 0; i < v->n_nodes; i++) {
        node_clear(v->nodes[i]);
        free(v->nodes[i]->w);
        free(v->nodes[i]->path);
        free(v->nodes[i]);
    }
    free(v->nodes);
    pthread_mutex_destroy(&v->mu);
    free(v);
}

vfs *vfs_crash_create(vfs *inner, uint64_t seed, unsigned crash_at) {
    crash_vfs *v = xcalloc(1, sizeof *v);
    v->base = (vfs){c_open,     c_close,  c_pwrite, c_pread,  c_sync,  c_truncate, c_size,
                    c_sync_dir, c_unlink, c_rename, c_mkdirs, c_list, c_destroy};
    v->inner = inner;
    v->rng = seed;
    v->crash_at = crash_at;
    pthread_mutex_init(&v->mu, NULL);
    return &v->base;
}

bool vfs_crash_happened(vfs *vv) {
    crash_vfs *v = (crash_vfs *)vv;
    pthread_mutex_lock(&v->mu);
    bool c = v->crashed;
    pthread_mutex_unlock(&v->mu);
    return c;
}

unsigned vfs_crash_syncs(vfs *vv) {
    crash_vfs *v = (crash_vfs *)vv;
    pthread_mutex_lock(&v->mu);
    unsigned s = v->syncs;
    pthread_mutex_unlock(&v->mu);
    return s;
}
