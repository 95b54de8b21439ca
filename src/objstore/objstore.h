/* SPDX-License-Identifier: MIT
 *
 * objstore: one interface to object storage, where Parquet files live. Objects are written
 * once and never overwritten (put-if-absent); they are read whole or by byte range, listed by
 * prefix (paged), and deleted only by the garbage collector after the grace period.
 *
 * Backends:
 *   file    (default) a directory tree, root <data-dir>/objects. A put writes a temp file,
 *           fsyncs it, links it into place only if absent (link(2), atomic) and fsyncs the
 *           directory; it never replaces an existing object.
 *   s3      any S3-compatible store over libcurl with AWS Signature V4 (CURLOPT_AWS_SIGV4):
 *           path-style (default) or virtual-host style URLs, put-if-absent with
 *           If-None-Match: *, multipart upload above a threshold, ranged GET, ListObjectsV2
 *           paging, retries with exponential backoff and jitter on 5xx, 429 and timeouts, a
 *           bounded pool of connections.
 *   memory  in process, for unit tests; it takes a failure schedule.
 * A cache decorator keeps local copies of remote objects under <data-dir>/cache, bounded in
 * size (objects are immutable, so a cached copy never goes stale).
 *
 * Keys are '/'-separated relative paths of [A-Za-z0-9._-] segments (silt builds them from
 * ids: dbs/<db-id>/<table-id>/<YYYY-MM-DD>/<file-id>.parquet); anything else is SILT_EINVAL.
 * Every call is thread-safe. Errors: SILT_ENOTFOUND, SILT_EEXIST (put of an existing key),
 * SILT_EIO (after retries), SILT_ENOSPC / SILT_ELIMIT (store full / quota), SILT_EINVAL.
 */
#ifndef SILT_OBJSTORE_H
#define SILT_OBJSTORE_H

#include "../util/util.h"

typedef struct objstore objstore;

typedef struct objstore_meta {
    uint64_t size;
    int64_t mtime_ns; /* last modified, 0 if unknown */
} objstore_meta;

typedef struct objstore_entry {
    char *key; /* malloc'd */
    uint64_t size;
} objstore_entry;

typedef struct objstore_page {
    objstore_entry *entries; /* sorted by key */
    size_t n;
    char *next; /* continuation: pass as start_after of the next call; NULL at the end */
} objstore_page;

void objstore_page_free(objstore_page *p);

typedef struct objstore_vt {
    /* Store [data, data+len) at key unless the key exists (then SILT_EEXIST, nothing
     * changed). Durable on return. */
    int (*put)(objstore *s, const char *key, const uint8_t *data, size_t len, silt_err *err);
    /* Bytes [off, off+len) of the object (len UINT64_MAX: to the end) appended to *out. A
     * range past the end is clipped; SILT_ENOTFOUND if the key does not exist. */
    int (*get)(objstore *s, const char *key, uint64_t off, uint64_t len, buf *out, silt_err *err);
    int (*head)(objstore *s, const char *key, objstore_meta *out, silt_err *err);
    /* Keys starting with prefix, after start_after (NULL: from the start), at most max
     * entries (0: the backend's page size, 1000). */
    int (*list)(objstore *s, const char *prefix, const char *start_after, size_t max,
                objstore_page *out, silt_err *err);
    /* Remove key; SILT_OK also if it did not exist. */
    int (*del)(objstore *s, const char *key, silt_err *err);
    void (*destroy)(objstore *s);
} objstore_vt;

struct objstore {
    const objstore_vt *vt;
    const char *kind; /* "file", "s3", "memory", "cache" */
};

static inline int objstore_put(objstore *s, const char *key, const uint8_t *data, size_t len,
                               silt_err *err) {
    return s->vt->put(s, key, data, len, err);
}
static inline int objstore_get(objstore *s, const char *key, uint64_t off, uint64_t len, buf *out,
                               silt_err *err) {
    return s->vt->get(s, key, off, len, out, err);
}
static inline int objstore_head(objstore *s, const char *key, objstore_meta *out, silt_err *err) {
    return s->vt->head(s, key, out, err);
}
static inline int objstore_list(objstore *s, const char *prefix, const char *start_after,
                                size_t max, objstore_page *out, silt_err *err) {
    return s->vt->list(s, prefix, start_after, max, out, err);
}
static inline int objstore_del(objstore *s, const char *key, silt_err *err) {
    return s->vt->del(s, key, err);
}
static inline void objstore_destroy(objstore *s) {
    if (s) s->vt->destroy(s);
}

/* Checks a key against the rule above. */
bool objstore_key_valid(const char *key);

/* ------------------------------------------------------------------ backends */

int objstore_file_open(const char *root, objstore **out, silt_err *err);
/* The same over a given vfs (not owned; it must outlive the store): file writes, syncs and
 * unlinks go through it, so tests can inject ENOSPC, EIO and failed fsyncs (vfs_fault). */
struct vfs;
int objstore_file_open_vfs(struct vfs *v, const char *root, objstore **out, silt_err *err);

typedef struct objstore_s3_opts {
    /* e.g. http://127.0.0.1:20480; NULL or "" = https://s3.<region>.amazonaws.com */
    const char *endpoint;
    const char *bucket;
    const char *region; /* default us-east-1 */
    const char *access_key_id, *secret_access_key;
    bool allow_http;     /* refuse http:// endpoints unless set (InfluxDB 3's --aws-allow-http) */
    bool virtual_hosted; /* bucket.endpoint-host URLs instead of endpoint/bucket */
    /* numbers: 0 = the default */
    unsigned max_connections;     /* pool bound; default 16 */
    unsigned max_retries;         /* default 5 */
    unsigned timeout_ms;          /* per request; default 30000 */
    uint64_t multipart_threshold; /* default 16 MiB */
    uint64_t part_bytes;          /* default 8 MiB; at least 5 MiB (S3's minimum part) */
} objstore_s3_opts;

int objstore_s3_open(const objstore_s3_opts *o, objstore **out, silt_err *err);

objstore *objstore_mem_create(void);
typedef enum objstore_op {
    OBJ_OP_PUT = 0,
    OBJ_OP_GET,
    OBJ_OP_HEAD,
    OBJ_OP_LIST,
    OBJ_OP_DEL,
    OBJ_OP__COUNT
} objstore_op;
/* Fail the nth (1-based, from now) call of op with code (SILT_EIO, SILT_ENOSPC, ...), once
 * or from then on. A failed call changes nothing. nth 0 (or code SILT_OK) disarms op. */
void objstore_mem_fail(objstore *s, objstore_op op, unsigned nth, int code, bool persistent);

/* A cache in front of `inner` (owned): whole-object gets are served from files under dir,
 * filled on a miss, evicted least-recently-used above max_bytes. Ranged gets are served from
 * a cached copy when there is one and otherwise go to inner without filling; puts, heads,
 * lists and deletes go to inner (a delete also drops the cached copy). On failure inner is
 * not taken: the caller still owns it. See README.md invariants 18-22. */
int objstore_cache_open(objstore *inner, const char *dir, uint64_t max_bytes, objstore **out,
                        silt_err *err);

typedef struct objstore_cache_stats {
    uint64_t hits, misses, bytes, evictions;
} objstore_cache_stats;
void objstore_cache_get_stats(objstore *cache, objstore_cache_stats *out);
/* Drop the local copy of key, if any (inner is untouched): for a caller whose checksum check
 * failed on a cached copy, before it gets the object again. */
void objstore_cache_evict(objstore *cache, const char *key);

#endif
