/* SPDX-License-Identifier: MIT
 *
 * The fault-injecting vfs (SQLite do_faultsim_test): passes every call to an inner vfs, and
 * fails the N-th call of one operation with a chosen errno, once or persistently. A write
 * failing with ENOSPC first writes a prefix of its bytes, as a full disk does. */
#include "vfs.h"

#include <errno.h>
#include <stdlib.h>

typedef struct fault_vfs {
    vfs base;
    vfs *inner;
    pthread_mutex_t mu;
    unsigned count[VFS_OP__COUNT];  /* protected by mu */
    bool armed;                     /* protected by mu */
    vfs_op op;
    unsigned fire_at; /* value of count[op] (matching calls) at which to fail */
    unsigned seen;    /* matching calls since arming */
    int e;
    bool persistent;
    char *path_sub;
} fault_vfs;

typedef struct fault_file {
    vfs_file base;
    vfs_file *inner;
} fault_file;

/* Count the call; return the errno to fail it with, or 0. */
static int fault_check(fault_vfs *v, vfs_op op, const char *path) {
    int e = 0;
    pthread_mutex_lock(&v->mu);
    v->count[op]++;
    if (v->armed && v->op == op && (!v->path_sub || (path && strstr(path, v->path_sub)))) {
        v->seen++;
        if (v->seen == v->fire_at || (v->persistent && v->seen > v->fire_at)) e = v->e;
    }
    pthread_mutex_unlock(&v->mu);
    return e;
}

static int f_open(vfs *vv, const char *path, int flags, vfs_file **out, silt_err *err) {
    fault_vfs *v = (fault_vfs *)vv;
    int e = fault_check(v, VFS_OP_OPEN, path);
    if (e) return silt_err_sys(err, e, "open %s (injected)", path);
    vfs_file *in;
    int rc = v->inner->open(v->inner, path, flags, &in, err);
    if (rc) return rc;
    fault_file *f = xcalloc(1, sizeof *f);
    f->base.owner = vv;
    f->base.path = xstrdup(path);
    f->inner = in;
    *out = &f->base;
    return SILT_OK;
}

static void f_close(vfs_file *vf) {
    fault_file *f = (fault_file *)vf;
    f->inner->owner->close(f->inner);
    free(f->base.path);
    free(f);
}

static int f_pwrite(vfs_file *vf, const void *p, size_t n, uint64_t off, silt_err *err) {
    fault_file *f = (fault_file *)vf;
    fault_vfs *v = (fault_vfs *)vf->owner;
    int e = fault_check(v, VFS_OP_WRITE, vf->path);
    if (e) {
        if (e == ENOSPC && n > 1) f->inner->owner->pwrite(f->inner, p, n / 2, off, NULL);
        return silt_err_sys(err, e, "write %s (injected)", vf->path);
    }
    return f->inner->owner->pwrite(f->inner, p, n, off, err);
}

static int f_pread(vfs_file *vf, void *p, size_t n, uint64_t off, size_t *got, silt_err *err) {
    fault_file *f = (fault_file *)vf;
    int e = fault_check((fault_vfs *)vf->owner, VFS_OP_READ, vf->path);
    if (e) return silt_err_sys(err, e, "read %s (injected)", vf->path);
    return f->inner->owner->pread(f->inner, p, n, off, got, err);
}

static int f_sync(vfs_file *vf, silt_err *err) {
    fault_file *f = (fault_file *)vf;
    int e = fault_check((fault_vfs *)vf->owner, VFS_OP_SYNC, vf->path);
    if (e) return silt_err_sys(err, e, "fdatasync %s (injected)", vf->path);
    return f->inner->owner->sync(f->inner, err);
}

static int f_truncate(vfs_file *vf, uint64_t size, silt_err *err) {
    fault_file *f = (fault_file *)vf;
    int e = fault_check((fault_vfs *)vf->owner, VFS_OP_TRUNCATE, vf->path);
    if (e) return silt_err_sys(err, e, "truncate %s (injected)", vf->path);
    return f->inner->owner->truncate(f->inner, size, err);
}

static int f_size(vfs_file *vf, uint64_t *size, silt_err *err) {
    fault_file *f = (fault_file *)vf;
    return f->inner->owner->size(f->inner, size, err);
}

static int f_sync_dir(vfs *vv, const char *dir, silt_err *err) {
    fault_vfs *v = (fault_vfs *)vv;
    int e = fault_check(v, VFS_OP_SYNC_DIR, dir);
    if (e) return silt_err_sys(err, e, "fsync directory %s (injected)", dir);
    return v->inner->sync_dir(v->inner, dir, err);
}

static int f_unlink(vfs *vv, const char *path, silt_err *err) {
    fault_vfs *v = (fault_vfs *)vv;
    int e = fault_check(v, VFS_OP_UNLINK, path);
    if (e) return silt_err_sys(err, e, "unlink %s (injected)", path);
    return v->inner->unlink(v->inner, path, err);
}

static int f_rename(vfs *vv, const char *from, const char *to, silt_err *err) {
    fault_vfs *v = (fault_vfs *)vv;
    int e = fault_check(v, VFS_OP_RENAME, to);
    if (e) return silt_err_sys(err, e, "rename %s (injected)", from);
    return v->inner->rename(v->inner, from, to, err);
}

static int f_mkdirs(vfs *vv, const char *dir, silt_err *err) {
    fault_vfs *v = (fault_vfs *)vv;
    return v->inner->mkdirs(v->inner, dir, err);
}

static int f_list(vfs *vv, const char *dir, char ***names, size_t *n, silt_err *err) {
    fault_vfs *v = (fault_vfs *)vv;
    return v->inner->list(v->inner, dir, names, n, err);
}

static void f_destroy(vfs *vv) {
    fault_vfs *v = (fault_vfs *)vv;
    pthread_mutex_destroy(&v->mu);
    free(v->path_sub);
    free(v);
}

vfs *vfs_fault_create(vfs *inner) {
    fault_vfs *v = xcalloc(1, sizeof *v);
    v->base = (vfs){f_open,  f_close,   f_pwrite, f_pread,  f_sync,  f_truncate, f_size,
                    f_sync_dir, f_unlink, f_rename, f_mkdirs, f_list, f_destroy};
    v->inner = inner;
    pthread_mutex_init(&v->mu, NULL);
    return &v->base;
}

void vfs_fault_arm(vfs *vv, vfs_op op, unsigned nth, int e, bool persistent, const char *path_sub) {
    fault_vfs *v = (fault_vfs *)vv;
    pthread_mutex_lock(&v->mu);
    v->armed = true;
    v->op = op;
    v->fire_at = nth ? nth : 1;
    v->seen = 0;
    v->e = e;
    v->persistent = persistent;
    free(v->path_sub);
    v->path_sub = path_sub ? xstrdup(path_sub) : NULL;
    pthread_mutex_unlock(&v->mu);
}

void vfs_fault_disarm(vfs *vv) {
    fault_vfs *v = (fault_vfs *)vv;
    pthread_mutex_lock(&v->mu);
    v->armed = false;
    pthread_mutex_unlock(&v->mu);
}

unsigned vfs_fault_count(vfs *vv, vfs_op op) {
    fault_vfs *v = (fault_vfs *)vv;
    pthread_mutex_lock(&v->mu);
    unsigned c = v->count[op];
    pthread_mutex_unlock(&v->mu);
    return c;
}
