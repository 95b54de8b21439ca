/* SPDX-License-Identifier: MIT
 *
 * The POSIX vfs: the only place where silt's durable files meet the kernel. */
#include "vfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct posix_file {
    vfs_file base;
    int fd;
} posix_file;

static int px_open(vfs *v, const char *path, int flags, vfs_file **out, silt_err *err) {
    int of = O_CLOEXEC | ((flags & VFS_RDWR) ? O_RDWR : O_RDONLY);
    if (flags & VFS_CREATE) of |= O_CREAT;
    if (flags & VFS_EXCL) of |= O_EXCL;
    int fd = open(path, of, 0644);
    if (fd < 0) return silt_err_sys(err, errno, "open %s", path);
    posix_file *f = xcalloc(1, sizeof *f);
    f->base.owner = v;
    f->base.path = xstrdup(path);
    f->fd = fd;
    *out = &f->base;
    return SILT_OK;
}

static void px_close(vfs_file *vf) {
    posix_file *f = (posix_file *)vf;
    close(f->fd);
    free(f->base.path);
    free(f);
}

static int px_pwrite(vfs_file *vf, const void *p, size_t n, uint64_t off, silt_err *err) {
    posix_file *f = (posix_file *)vf;
    const uint8_t *q = p;
    while (n) {
        ssize_t w = pwrite(f->fd, q, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return silt_err_sys(err, errno, "write %s at %llu", vf->path, (unsigned long long)off);
        }
        q += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return SILT_OK;
}

static int px_pread(vfs_file *vf, void *p, size_t n, uint64_t off, size_t *got, silt_err *err) {
    posix_file *f = (posix_file *)vf;
    size_t total = 0;
    while (total < n) {
        ssize_t r = pread(f->fd, (uint8_t *)p + total, n - total, (off_t)(off + total));
        if (r < 0) {
            if (errno == EINTR) continue;
            return silt_err_sys(err, errno, "read %s at %llu", vf->path, (unsigned long long)off);
        }
        if (r == 0) break;
        total += (size_t)r;
    }
    *got = total;
    return SILT_OK;
}

static int px_sync(vfs_file *vf, silt_err *err) {
    posix_file *f = (posix_file *)vf;
    if (fdatasync(f->fd) < 0) return silt_err_sys(err, errno, "fdatasync %s", vf->path);
    return SILT_OK;
}

static int px_truncate(vfs_file *vf, uint64_t size, silt_err *err) {
    posix_file *f = (posix_file *)vf;
    if (ftruncate(f->fd, (off_t)size) < 0)
        return silt_err_sys(err, errno, "truncate %s to %llu", vf->path, (unsigned long long)size);
    return SILT_OK;
}

static int px_size(vfs_file *vf, uint64_t *size, silt_err *err) {
    posix_file *f = (posix_file *)vf;
    struct stat st;
    if (fstat(f->fd, &st) < 0) return silt_err_sys(err, errno, "stat %s", vf->path);
    *size = (uint64_t)st.st_size;
    return SILT_OK;
}

static int px_sync_dir(vfs *v, const char *dir, silt_err *err) {
    (void)v;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return silt_err_sys(err, errno, "open directory %s", dir);
    int rc = SILT_OK;
    if (fsync(fd) < 0) rc = silt_err_sys(err, errno, "fsync directory %s", dir);
    close(fd);
    return rc;
}

static int px_unlink(vfs *v, const char *path, silt_err *err) {
    (void)v;
    if (unlink(path) < 0) return silt_err_sys(err, errno, "unlink %s", path);
    return SILT_OK;
}

static int px_rename(vfs *v, const char *from, const char *to, silt_err *err) {
    (void)v;
    if (rename(from, to) < 0) return silt_err_sys(err, errno, "rename %s to %s", from, to);
    return SILT_OK;
}

static int px_mkdirs(vfs *v, const char *dir, silt_err *err) {
    (void)v;
    char *p = xstrdup(dir);
    int rc = SILT_OK;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0755) < 0 && errno != EEXIST) {
                rc = silt_err_sys(err, errno, "mkdir %s", p);
                break;
            }
            *s = c;
            if (!c) break;
        }
    }
    free(p);
    return rc;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int px_list(vfs *v, const char *dir, char ***names, size_t *n, silt_err *err) {
    (void)v;
    DIR *d = opendir(dir);
    if (!d) return silt_err_sys(err, errno, "opendir %s", dir);
    char **arr = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN) continue;
        if (e->d_name[0] == '.') continue;
        XGROW(arr, cap, cnt + 1);
        arr[cnt++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (cnt) qsort(arr, cnt, sizeof *arr, cmp_names);
    *names = arr;
    *n = cnt;
    return SILT_OK;
}

static vfs posix_vfs = {
    .open = px_open,
    .close = px_close,
    .pwrite = px_pwrite,
    .pread = px_pread,
    .sync = px_sync,
    .truncate = px_truncate,
    .size = px_size,
    .sync_dir = px_sync_dir,
    .unlink = px_unlink,
    .rename = px_rename,
    .mkdirs = px_mkdirs,
    .list = px_list,
    .destroy = NULL,
};

vfs *vfs_posix(void) { return &posix_vfs; }

void vfs_names_free(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

int vfs_read_all(vfs *v, const char *path, size_t max_bytes, buf *out, silt_err *err) {
    vfs_file *f;
    int rc = v->open(v, path, VFS_RDONLY, &f, err);
    if (rc) return rc;
    uint64_t size;
    if ((rc = v->size(f, &size, err))) goto fail;
    if (size > max_bytes) {
        rc = SILT_FAIL(err, SILT_ETOOBIG, "%s: %llu bytes is more than %zu", path,
                       (unsigned long long)size, max_bytes);
        goto fail;
    }
    buf_reserve(out, size ? (size_t)size : 1);
    size_t got;
    if ((rc = v->pread(f, out->p + out->len, (size_t)size, 0, &got, err))) goto fail;
    out->len += got;
fail:
    v->close(f);
    return rc;
}
