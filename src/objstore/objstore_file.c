/* SPDX-License-Identifier: MIT
 *
 * The file backend (the default): one regular file per object, at <root>/<key>, in a
 * directory tree that mirrors the key's segments.
 *
 * Put, in numbered steps (README invariants 2-5):
 *   1. make the key's directory chain: mkdir each missing component and fsync its parent, once
 *      per directory per process (the set `known` remembers which are already durable);
 *   2. write the bytes to a temp file ".<pid>-<seq>.tmp~" in the same directory (O_EXCL);
 *      '~' is not a key character, so a temp name can never be a key and list skips it;
 *   3. fdatasync the temp file;
 *   4. link(2) it to the final name: atomic, and EEXIST if the key exists, so two writers
 *      race safely and an object is never replaced;
 *   5. unlink the temp name, fsync the directory: the object is durable, put returns.
 * Any failure removes the temp file; a failure after step 4 also removes the final name, so
 * an error means "no object" (except if that unlink fails too, which is logged).
 * Temp files left by a crash are removed when the store is opened.
 *
 * Delete unlinks, fsyncs the directory, then removes directories left empty, all under
 * dir_mu; a put that loses such a directory under it (ENOENT) remakes it and retries.
 *
 * File writes and syncs go through a vfs (vfs_posix by default), so tests inject ENOSPC, EIO
 * and failed syncs with vfs_fault; link, mkdir, rmdir, stat and readdir are direct calls.
 * Thread-safe: no state but the directory set (protected by dir_mu) and an atomic counter. */
#include "objstore_int.h"

#include "../util/hmap.h"
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

#define FILE_PUT_TRIES 8

typedef struct file_store {
    objstore base;
    vfs *v;     /* not owned */
    char *root; /* no trailing '/' */
    size_t root_len;
    _Atomic uint64_t tmp_seq;
    pthread_mutex_t dir_mu;
    hmap known;  /* protected by dir_mu: relative dir path -> 1 durable, 0 removed since */
    arena names; /* protected by dir_mu: key bytes of `known` */
} file_store;

static bool is_temp_name(const char *name) {
    size_t n = strlen(name);
    return n > 5 && name[0] == '.' && memcmp(name + n - 5, ".tmp~", 5) == 0;
}

/* root + "/" + rel (rel may be "") into out (PATH_MAX). SILT_EINVAL if too long. */
static int join(const file_store *fs, const char *rel, size_t rel_len, char *out, silt_err *err) {
    if (fs->root_len + 1 + rel_len + 1 > PATH_MAX)
        return SILT_FAIL(err, SILT_EINVAL, "objstore file: path %s/%.*s too long", fs->root,
                         (int)rel_len, rel);
    memcpy(out, fs->root, fs->root_len);
    size_t n = fs->root_len;
    if (rel_len) {
        out[n++] = '/';
        memcpy(out + n, rel, rel_len);
        n += rel_len;
    }
    out[n] = 0;
    return SILT_OK;
}

/* Length of the directory part of key ("" = root): up to the last '/'. */
static size_t dir_len(const char *key) {
    const char *slash = strrchr(key, '/');
    return slash ? (size_t)(slash - key) : 0;
}

static bool known_get(file_store *fs, const char *rel, size_t n) {
    uint64_t v = 0;
    return hmap_get(&fs->known, rel, n, hmap_hash(rel, n), &v) && v;
}

static void known_set(file_store *fs, const char *rel, size_t n, bool durable) {
    uint64_t h = hmap_hash(rel, n), v;
    if (hmap_get(&fs->known, rel, n, h, &v)) {
        hmap_put(&fs->known, rel, n, h, durable); /* keeps the stored key pointer */
        return;
    }
    if (!durable) return;
    char *copy = arena_strndup(&fs->names, rel, n);
    hmap_put(&fs->known, copy, n, h, 1);
}

/* Step 1: make directory rel (relative to root, length n) and every missing parent, each
 * parent directory fsynced after, so that the chain is durable before the first put into it
 * returns (invariant 3). Holds dir_mu (directory syncs only; gets never take it). */
static int ensure_dir(file_store *fs, const char *rel, size_t n, silt_err *err) {
    if (n == 0) return SILT_OK;
    int rc = SILT_OK;
    char path[PATH_MAX];
    pthread_mutex_lock(&fs->dir_mu);
    if (known_get(fs, rel, n)) goto fail;
    for (size_t i = 1; i <= n; i++) {
        if (i < n && rel[i] != '/') continue;
        if (known_get(fs, rel, i)) continue;
        if ((rc = join(fs, rel, i, path, err))) goto fail;
        if (mkdir(path, 0755) < 0) {
            int e = errno;
            struct stat st;
            if (e == ENOTDIR || (e == EEXIST && (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)))) {
                rc = SILT_FAIL(err, SILT_EINVAL,
                               "objstore file: %s is an object, so no key can continue it", path);
                goto fail;
            }
            if (e != EEXIST) {
                rc = silt_err_sys(err, e, "objstore file: mkdir %s", path);
                goto fail;
            }
        }
        /* made by us, by another thread or by an earlier process: fsync the parent anyway,
         * since nothing says that entry is durable yet */
        char parent[PATH_MAX];
        size_t pl = i;
        while (pl > 0 && rel[pl - 1] != '/') pl--;
        if ((rc = join(fs, rel, pl ? pl - 1 : 0, parent, err))) goto fail;
        if ((rc = fs->v->sync_dir(fs->v, parent, err))) goto fail;
        known_set(fs, rel, i, true);
    }
fail:
    pthread_mutex_unlock(&fs->dir_mu);
    return rc;
}

static void forget_dir(file_store *fs, const char *rel, size_t n) {
    pthread_mutex_lock(&fs->dir_mu);
    for (size_t i = 1; i <= n; i++)
        if (i == n || rel[i] == '/') known_set(fs, rel, i, false);
    pthread_mutex_unlock(&fs->dir_mu);
}

static int file_put(objstore *s, const char *key, const uint8_t *data, size_t len, silt_err *err) {
    file_store *fs = (file_store *)s;
    int rc = objstore__check_key(key, "put", err);
    if (rc) return rc;
    char path[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX + 64];
    size_t dl = dir_len(key);
    if ((rc = join(fs, key, strlen(key), path, err))) return rc;
    if ((rc = join(fs, key, dl, dir, err))) return rc;
    for (int attempt = 0;; attempt++) {
        vfs_file *f = NULL;
        bool tmp_made = false, linked = false;
        if ((rc = ensure_dir(fs, key, dl, err))) return rc;
        snprintf(tmp, sizeof tmp, "%s/.%ld-%llu.tmp~", dir, (long)getpid(),
                 (unsigned long long)atomic_fetch_add(&fs->tmp_seq, 1));
        /* step 2 */
        rc = fs->v->open(fs->v, tmp, VFS_RDWR | VFS_CREATE | VFS_EXCL, &f, err);
        if (rc == SILT_ENOTFOUND && attempt < FILE_PUT_TRIES) { /* dir removed by a delete */
            forget_dir(fs, key, dl);
            continue;
        }
        if (rc) goto fail;
        tmp_made = true;
        if (len && (rc = fs->v->pwrite(f, data, len, 0, err))) goto fail;
        /* step 3 */
        if ((rc = fs->v->sync(f, err))) goto fail;
        fs->v->close(f);
        f = NULL;
        /* step 4: put-if-absent without a race (invariant 2) */
        if (link(tmp, path) < 0) {
            int e = errno;
            struct stat st;
            if (e == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                rc = SILT_FAIL(err, SILT_EINVAL,
                               "objstore file put %s: the key is a directory of other keys", key);
            else if (e == EEXIST)
                rc = SILT_FAIL(err, SILT_EEXIST, "objstore file put %s: already exists", key);
            else if (e == ENOENT && attempt < FILE_PUT_TRIES) {
                fs->v->unlink(fs->v, tmp, NULL);
                forget_dir(fs, key, dl);
                continue;
            } else
                rc = silt_err_sys(err, e, "objstore file put: link %s to %s", tmp, path);
            goto fail;
        }
        linked = true;
        /* step 5 */
        if ((rc = fs->v->unlink(fs->v, tmp, err))) goto fail;
        tmp_made = false;
        if ((rc = fs->v->sync_dir(fs->v, dir, err))) goto fail;
        return SILT_OK;
    fail:
        if (f) fs->v->close(f);
        if (tmp_made) fs->v->unlink(fs->v, tmp, NULL);
        if (linked && unlink(path) < 0)
            log_error("objstore",
                      "put %s failed after link and the object could not be "
                      "removed (%s): it may hold the data",
                      path, strerror(errno));
        return rc;
    }
}

/* stat the object file: SILT_ENOTFOUND if missing or not a regular file. */
static int stat_obj(const char *path, const char *key, const char *op, struct stat *st,
                    silt_err *err) {
    if (stat(path, st) < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return SILT_FAIL(err, SILT_ENOTFOUND, "objstore file %s %s: not found", op, key);
        return silt_err_sys(err, errno, "objstore file %s: stat %s", op, path);
    }
    if (!S_ISREG(st->st_mode))
        return SILT_FAIL(err, SILT_ENOTFOUND, "objstore file %s %s: not found", op, key);
    return SILT_OK;
}

static int file_get(objstore *s, const char *key, uint64_t off, uint64_t len, buf *out,
                    silt_err *err) {
    file_store *fs = (file_store *)s;
    int rc = objstore__check_key(key, "get", err);
    if (rc) return rc;
    char path[PATH_MAX];
    if ((rc = join(fs, key, strlen(key), path, err))) return rc;
    struct stat st;
    if ((rc = stat_obj(path, key, "get", &st, err))) return rc;
    vfs_file *f;
    rc = fs->v->open(fs->v, path, VFS_RDONLY, &f, err);
    if (rc == SILT_ENOTFOUND)
        return SILT_FAIL(err, SILT_ENOTFOUND, "objstore file get %s: not found", key);
    if (rc) return rc;
    uint64_t size;
    if ((rc = fs->v->size(f, &size, err))) goto fail;
    uint64_t n = objstore__clip(size, off, len);
    if (n > SIZE_MAX / 2) {
        rc = SILT_FAIL(err, SILT_ETOOBIG, "objstore file get %s: %llu bytes", key,
                       (unsigned long long)n);
        goto fail;
    }
    if (n) {
        buf_reserve(out, (size_t)n);
        size_t got = 0;
        if ((rc = fs->v->pread(f, out->p + out->len, (size_t)n, off, &got, err))) goto fail;
        if (got != n) {
            rc = SILT_FAIL(err, SILT_EIO, "objstore file get %s: short read (%zu of %llu bytes)",
                           key, got, (unsigned long long)n);
            goto fail;
        }
        out->len += (size_t)n;
    }
fail:
    fs->v->close(f);
    return rc;
}

static int file_head(objstore *s, const char *key, objstore_meta *out, silt_err *err) {
    file_store *fs = (file_store *)s;
    int rc = objstore__check_key(key, "head", err);
    if (rc) return rc;
    char path[PATH_MAX];
    if ((rc = join(fs, key, strlen(key), path, err))) return rc;
    struct stat st;
    if ((rc = stat_obj(path, key, "head", &st, err))) return rc;
    out->size = (uint64_t)st.st_size;
    out->mtime_ns = (int64_t)st.st_mtim.tv_sec * NS_PER_S + st.st_mtim.tv_nsec;
    return SILT_OK;
}

/* ------------------------------------------------------------------ list */

typedef struct dir_ent {
    char *name;
    size_t len;
    bool is_dir;
} dir_ent;

/* Character i of an entry's key segment: a directory ends with an implicit '/'. -1 past
 * the end. */
static int ent_char(const dir_ent *e, size_t i) {
    if (i < e->len) return (unsigned char)e->name[i];
    if (i == e->len && e->is_dir) return '/';
    return -1;
}

/* Order entries as their keys sort: a directory compares as "name/" (invariant 6), so
 * "a.x" (0x2e) comes before the keys under "a/" (0x2f) and "a0" after them. */
static int cmp_ent(const void *pa, const void *pb) {
    const dir_ent *a = pa, *b = pb;
    for (size_t i = 0;; i++) {
        int x = ent_char(a, i), y = ent_char(b, i);
        if (x != y) return x < y ? -1 : 1;
        if (x < 0) return 0;
    }
}

typedef struct list_ctx {
    file_store *fs;
    const char *prefix;
    size_t prefix_len;
    const char *start_after; /* NULL: none */
    size_t want;             /* max + 1: one more than the page, to know if there is a next */
    objstore_page *page;
    size_t cap;
} list_ctx;

/* Walk directory `rel` (key prefix of its entries, "" or ending in '/') in key order.
 * Returns SILT_OK, or 1 when the page is full, or an error. */
static int walk(list_ctx *c, buf *rel, silt_err *err) {
    char path[PATH_MAX];
    int rc = join(c->fs, (const char *)rel->p, rel->len ? rel->len - 1 : 0, path, err);
    if (rc) return rc;
    DIR *d = opendir(path);
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR) return SILT_OK;
        return silt_err_sys(err, errno, "objstore file list: opendir %s", path);
    }
    dir_ent *ents = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno) rc = silt_err_sys(err, errno, "objstore file list: readdir %s", path);
            break;
        }
        size_t nl = strlen(e->d_name);
        if (!objstore__segment_valid(e->d_name, nl)) continue; /* temp files, ".", ".." */
        bool is_dir;
        if (e->d_type == DT_DIR)
            is_dir = true;
        else if (e->d_type == DT_REG)
            is_dir = false;
        else if (e->d_type == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
            if (S_ISDIR(st.st_mode))
                is_dir = true;
            else if (S_ISREG(st.st_mode))
                is_dir = false;
            else
                continue;
        } else
            continue; /* symlinks and the like are never objects */
        XGROW(ents, cap, n + 1);
        ents[n].name = xstrndup(e->d_name, nl);
        ents[n].len = nl;
        ents[n].is_dir = is_dir;
        n++;
    }
    if (n) qsort(ents, n, sizeof *ents, cmp_ent);
    size_t base = rel->len;
    for (size_t i = 0; i < n && rc == SILT_OK; i++) {
        rel->len = base;
        buf_puts(rel, ents[i].name);
        if (ents[i].is_dir) buf_putc(rel, '/');
        size_t kl = rel->len;
        const char *k = buf_cstr(rel);
        size_t m = kl < c->prefix_len ? kl : c->prefix_len;
        if (memcmp(k, c->prefix, m) != 0) continue; /* not on the prefix's path */
        if (ents[i].is_dir) {
            /* every key below k is > start_after unless start_after begins with something
             * greater than k: skip the whole subtree then */
            if (c->start_after && strncmp(c->start_after, k, kl) > 0) continue;
            rc = walk(c, rel, err);
        } else {
            if (kl < c->prefix_len) continue;
            if (c->start_after && strcmp(k, c->start_after) <= 0) continue;
            struct stat st;
            if (fstatat(dirfd(d), ents[i].name, &st, 0) < 0) {
                if (errno == ENOENT) continue; /* deleted meanwhile */
                rc = silt_err_sys(err, errno, "objstore file list: stat %s/%s", path, ents[i].name);
                break;
            }
            objstore__page_push(c->page, &c->cap, k, kl, (uint64_t)st.st_size);
            if (c->page->n == c->want) rc = 1;
        }
    }
    rel->len = base;
    for (size_t i = 0; i < n; i++) free(ents[i].name);
    free(ents);
    closedir(d);
    return rc;
}

static int file_list(objstore *s, const char *prefix, const char *start_after, size_t max,
                     objstore_page *out, silt_err *err) {
    file_store *fs = (file_store *)s;
    memset(out, 0, sizeof *out);
    int rc = objstore__check_list_args(prefix, start_after, err);
    if (rc) return rc;
    if (!prefix) prefix = "";
    if (max == 0) max = OBJSTORE_PAGE_DEFAULT;
    list_ctx c = {fs, prefix, strlen(prefix), start_after, max + 1, out, 0};
    if (max == SIZE_MAX) c.want = SIZE_MAX;
    /* start at the deepest directory the prefix names; if that part is not a valid key
     * ("/a", "a//b", "a/./b"), no key can start with the prefix */
    buf rel = {0};
    size_t dl = 0;
    const char *slash = strrchr(prefix, '/');
    if (slash) {
        dl = (size_t)(slash - prefix) + 1;
        for (size_t i = 0, st = 0; i < dl; i++)
            if (prefix[i] == '/') {
                if (!objstore__segment_valid(prefix + st, i - st)) return SILT_OK;
                st = i + 1;
            }
    }
    buf_append(&rel, prefix, dl);
    rc = walk(&c, &rel, err);
    buf_free(&rel);
    if (rc < 0) {
        objstore_page_free(out);
        return rc;
    }
    if (out->n > max) { /* the extra entry only says there is a next page */
        out->n--;
        free(out->entries[out->n].key);
        out->next = xstrdup(out->entries[out->n - 1].key);
    }
    return SILT_OK;
}

/* ------------------------------------------------------------------ delete */

static int file_del(objstore *s, const char *key, silt_err *err) {
    file_store *fs = (file_store *)s;
    int rc = objstore__check_key(key, "del", err);
    if (rc) return rc;
    char path[PATH_MAX], dir[PATH_MAX];
    size_t dl = dir_len(key);
    if ((rc = join(fs, key, strlen(key), path, err))) return rc;
    if ((rc = join(fs, key, dl, dir, err))) return rc;
    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) return SILT_OK; /* nothing to delete */
    /* under dir_mu, so that no other delete removes the directory between our unlink and our
     * directory fsync, and no put sees a directory about to go (invariant 5) */
    pthread_mutex_lock(&fs->dir_mu);
    rc = fs->v->unlink(fs->v, path, err);
    if (rc == SILT_ENOTFOUND) { /* a concurrent delete won */
        rc = SILT_OK;
        goto done;
    }
    if (rc || (rc = fs->v->sync_dir(fs->v, dir, err))) goto done;
    /* remove directories left empty, deepest first */
    for (size_t n = dl; n > 0;) {
        char p[PATH_MAX];
        if (join(fs, key, n, p, NULL) || rmdir(p) < 0) break;
        known_set(fs, key, n, false);
        while (n > 0 && key[n - 1] != '/') n--;
        if (n) n--;
    }
done:
    pthread_mutex_unlock(&fs->dir_mu);
    return rc;
}

static void file_destroy(objstore *s) {
    file_store *fs = (file_store *)s;
    hmap_free(&fs->known);
    arena_fini(&fs->names);
    pthread_mutex_destroy(&fs->dir_mu);
    free(fs->root);
    free(fs);
}

static const objstore_vt file_vt = {
    .put = file_put,
    .get = file_get,
    .head = file_head,
    .list = file_list,
    .del = file_del,
    .destroy = file_destroy,
};

/* Remove temp files a crash left behind, anywhere under dir (invariant 4). */
static void sweep_temps(vfs *v, const char *dir, unsigned *removed, int depth) {
    if (depth > 64) return;
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[PATH_MAX];
        if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= sizeof p) continue;
        struct stat st;
        if (lstat(p, &st) < 0) continue;
        if (S_ISDIR(st.st_mode))
            sweep_temps(v, p, removed, depth + 1);
        else if (S_ISREG(st.st_mode) && is_temp_name(e->d_name) && v->unlink(v, p, NULL) == 0)
            (*removed)++;
    }
    closedir(d);
}

int objstore_file_open_vfs(struct vfs *v, const char *root, objstore **out, silt_err *err) {
    *out = NULL;
    if (!root || !*root) return SILT_FAIL(err, SILT_EINVAL, "objstore file: empty root");
    size_t rl = strlen(root);
    while (rl > 1 && root[rl - 1] == '/') rl--;
    if (rl + 2 + OBJSTORE_KEY_MAX > PATH_MAX)
        return SILT_FAIL(err, SILT_EINVAL, "objstore file: root %s too long", root);
    char *r = xstrndup(root, rl);
    int rc = v->mkdirs(v, r, err);
    if (rc) {
        free(r);
        return rc;
    }
    struct stat st;
    if (stat(r, &st) < 0 || !S_ISDIR(st.st_mode)) {
        rc = SILT_FAIL(err, SILT_EINVAL, "objstore file: root %s is not a directory", r);
        free(r);
        return rc;
    }
    /* the root's own entry: fsync its parent once */
    char parent[PATH_MAX];
    const char *slash = strrchr(r, '/');
    if (slash && slash != r)
        snprintf(parent, sizeof parent, "%.*s", (int)(slash - r), r);
    else
        snprintf(parent, sizeof parent, "%s", slash ? "/" : ".");
    if ((rc = v->sync_dir(v, parent, err))) {
        free(r);
        return rc;
    }
    unsigned removed = 0;
    sweep_temps(v, r, &removed, 0);
    if (removed)
        log_info("objstore", "file store %s: removed %u temp files of unfinished puts", r, removed);
    file_store *fs = xcalloc(1, sizeof *fs);
    fs->base.vt = &file_vt;
    fs->base.kind = "file";
    fs->v = v;
    fs->root = r;
    fs->root_len = rl;
    pthread_mutex_init(&fs->dir_mu, NULL);
    arena_init(&fs->names, 4096);
    *out = &fs->base;
    return SILT_OK;
}

int objstore_file_open(const char *root, objstore **out, silt_err *err) {
    return objstore_file_open_vfs(vfs_posix(), root, out, err);
}
