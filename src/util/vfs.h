/* SPDX-License-Identifier: MIT
 *
 * vfs: all durable file I/O goes through this table of function pointers (SQLite
 * sqlite3_io_methods, Redis rio) so tests can wrap it:
 *   vfs_posix()          the real thing: open/pwrite/fdatasync/rename on the local file system
 *   vfs_fault_create()   wraps another vfs and fails the N-th call of an operation with an
 *                        errno of the test's choice (EIO, ENOSPC), once or from then on
 *   vfs_crash_create()   wraps another vfs and simulates power loss: writes are held in memory
 *                        until the file is synced; at the N-th sync (the crash) every write not
 *                        yet synced is applied, dropped or garbled at random, files created
 *                        since their directory was last synced may vanish, and every later call
 *                        fails with EIO (the machine is gone)
 * Every function returns SILT_OK or a negative SILT_E* code with detail in *err.
 */
#ifndef SILT_VFS_H
#define SILT_VFS_H

#include "util.h"

typedef struct vfs vfs;
typedef struct vfs_file vfs_file;

enum {
    VFS_RDONLY = 0,
    VFS_RDWR = 1 << 0,
    VFS_CREATE = 1 << 1, /* create if missing */
    VFS_EXCL = 1 << 2,   /* with VFS_CREATE: fail with SILT_EEXIST if it exists */
};

/* A file handle. Implementations embed this as their first member. */
struct vfs_file {
    vfs *owner;
    char *path;
};

struct vfs {
    int (*open)(vfs *v, const char *path, int flags, vfs_file **out, silt_err *err);
    void (*close)(vfs_file *f);
    /* Write all n bytes at off (short writes are retried inside). */
    int (*pwrite)(vfs_file *f, const void *p, size_t n, uint64_t off, silt_err *err);
    /* Read up to n bytes at off; *got is the count (0 at end of file). */
    int (*pread)(vfs_file *f, void *p, size_t n, uint64_t off, size_t *got, silt_err *err);
    /* fdatasync: the file's data (and size) are durable on return. */
    int (*sync)(vfs_file *f, silt_err *err);
    int (*truncate)(vfs_file *f, uint64_t size, silt_err *err);
    int (*size)(vfs_file *f, uint64_t *size, silt_err *err);
    /* fsync a directory, making creations, renames and unlinks inside it durable. */
    int (*sync_dir)(vfs *v, const char *dir, silt_err *err);
    int (*unlink)(vfs *v, const char *path, silt_err *err);
    int (*rename)(vfs *v, const char *from, const char *to, silt_err *err);
    /* mkdir -p. */
    int (*mkdirs)(vfs *v, const char *dir, silt_err *err);
    /* Names (not paths) of the regular files in dir, sorted; *names is malloc'd, each name
     * too: free with vfs_names_free. */
    int (*list)(vfs *v, const char *dir, char ***names, size_t *n, silt_err *err);
    void (*destroy)(vfs *v); /* NULL for the static posix vfs */
};

vfs *vfs_posix(void);
void vfs_names_free(char **names, size_t n);

/* Convenience: read a whole file (bounded by max_bytes, else SILT_ETOOBIG). */
int vfs_read_all(vfs *v, const char *path, size_t max_bytes, buf *out, silt_err *err);

/* ------------------------------------------------------------------ fault injection */

typedef enum vfs_op {
    VFS_OP_OPEN = 0,
    VFS_OP_WRITE,
    VFS_OP_READ,
    VFS_OP_SYNC,
    VFS_OP_TRUNCATE,
    VFS_OP_SYNC_DIR,
    VFS_OP_RENAME,
    VFS_OP_UNLINK,
    VFS_OP__COUNT
} vfs_op;

/* A fault vfs over `inner` (not owned). No faults until vfs_fault_arm(). */
vfs *vfs_fault_create(vfs *inner);
/* Fail the nth (1-based, counted from now) call of op whose path contains `path_sub` (NULL =
 * any path) with errno `e`. persistent: every later call of op fails too. A write that fails
 * with ENOSPC first writes a prefix of its bytes (as a full disk does). */
void vfs_fault_arm(vfs *v, vfs_op op, unsigned nth, int e, bool persistent, const char *path_sub);
void vfs_fault_disarm(vfs *v);
unsigned vfs_fault_count(vfs *v, vfs_op op); /* calls of op seen so far */

/* ------------------------------------------------------------------ crash simulation */

/* A crash vfs over `inner` (not owned), seeded PRNG. The crash happens at the crash_at-th
 * sync (file or directory; 1-based): that sync does not complete. Before it, the vfs behaves
 * like a file system with a volatile cache: reads see all writes, syncs make them durable. */
vfs *vfs_crash_create(vfs *inner, uint64_t seed, unsigned crash_at);
bool vfs_crash_happened(vfs *v);
unsigned vfs_crash_syncs(vfs *v); /* syncs completed so far */

#endif
