/* SPDX-License-Identifier: MIT
 *
 * The memory backend: objects in a sorted array behind one mutex, for unit tests of the
 * modules above (persist, compaction, GC, query). It honours the same contract as the durable
 * backends (put-if-absent, clipped ranges, sorted paged lists) and takes a failure schedule:
 * objstore_mem_fail() makes the n-th call of an operation fail with a chosen code, once or
 * from then on, before the operation has any effect (README invariant 9). */
#include "objstore_int.h"

#include <stdlib.h>

typedef struct mem_obj {
    char *key;
    uint8_t *data;
    size_t len;
    int64_t mtime_ns;
} mem_obj;

typedef struct mem_fault {
    bool armed;
    bool persistent;
    unsigned fire_at; /* 1-based call number, counted from arming */
    unsigned seen;
    int code;
} mem_fault;

typedef struct mem_store {
    objstore base;
    pthread_mutex_t mu;
    mem_obj *objs;                   /* protected by mu; sorted by key (strcmp) */
    size_t n, cap;                   /* protected by mu */
    mem_fault faults[OBJ_OP__COUNT]; /* protected by mu */
} mem_store;

static const char *op_names[OBJ_OP__COUNT] = {"put", "get", "head", "list", "del"};

/* Index of the first object whose key is >= key (strcmp order). Needs mu. */
static size_t lower_bound(const mem_store *m, const char *key) {
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(m->objs[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Count the call of op and return the injected code, or SILT_OK. Needs mu. */
static int fault_check(mem_store *m, objstore_op op, const char *key, silt_err *err) {
    mem_fault *f = &m->faults[op];
    if (!f->armed) return SILT_OK;
    f->seen++;
    if (f->seen == f->fire_at || (f->persistent && f->seen > f->fire_at))
        return SILT_FAIL(err, f->code, "objstore memory %s %s: injected failure (%s)", op_names[op],
                         key ? key : "", silt_strerror(f->code));
    return SILT_OK;
}

static int mem_put(objstore *s, const char *key, const uint8_t *data, size_t len, silt_err *err) {
    mem_store *m = (mem_store *)s;
    int rc = objstore__check_key(key, "put", err);
    if (rc) return rc;
    /* copy outside the lock: a large put must not stall readers */
    uint8_t *copy = xmalloc(len ? len : 1);
    if (len) memcpy(copy, data, len);
    pthread_mutex_lock(&m->mu);
    if ((rc = fault_check(m, OBJ_OP_PUT, key, err))) goto fail;
    size_t i = lower_bound(m, key);
    if (i < m->n && strcmp(m->objs[i].key, key) == 0) {
        rc = SILT_FAIL(err, SILT_EEXIST, "objstore memory put %s: already exists", key);
        goto fail;
    }
    XGROW(m->objs, m->cap, m->n + 1);
    memmove(&m->objs[i + 1], &m->objs[i], (m->n - i) * sizeof *m->objs);
    m->objs[i] = (mem_obj){xstrdup(key), copy, len, time_now_ns()};
    m->n++;
    copy = NULL;
fail:
    pthread_mutex_unlock(&m->mu);
    free(copy);
    return rc;
}

static int mem_get(objstore *s, const char *key, uint64_t off, uint64_t len, buf *out,
                   silt_err *err) {
    mem_store *m = (mem_store *)s;
    int rc = objstore__check_key(key, "get", err);
    if (rc) return rc;
    pthread_mutex_lock(&m->mu);
    if ((rc = fault_check(m, OBJ_OP_GET, key, err))) goto fail;
    size_t i = lower_bound(m, key);
    if (i == m->n || strcmp(m->objs[i].key, key) != 0) {
        rc = SILT_FAIL(err, SILT_ENOTFOUND, "objstore memory get %s: not found", key);
        goto fail;
    }
    uint64_t n = objstore__clip(m->objs[i].len, off, len);
    if (n) buf_append(out, m->objs[i].data + off, (size_t)n);
fail:
    pthread_mutex_unlock(&m->mu);
    return rc;
}

static int mem_head(objstore *s, const char *key, objstore_meta *out, silt_err *err) {
    mem_store *m = (mem_store *)s;
    int rc = objstore__check_key(key, "head", err);
    if (rc) return rc;
    pthread_mutex_lock(&m->mu);
    if ((rc = fault_check(m, OBJ_OP_HEAD, key, err))) goto fail;
    size_t i = lower_bound(m, key);
    if (i == m->n || strcmp(m->objs[i].key, key) != 0) {
        rc = SILT_FAIL(err, SILT_ENOTFOUND, "objstore memory head %s: not found", key);
        goto fail;
    }
    out->size = m->objs[i].len;
    out->mtime_ns = m->objs[i].mtime_ns;
fail:
    pthread_mutex_unlock(&m->mu);
    return rc;
}

static int mem_list(objstore *s, const char *prefix, const char *start_after, size_t max,
                    objstore_page *out, silt_err *err) {
    mem_store *m = (mem_store *)s;
    memset(out, 0, sizeof *out);
    int rc = objstore__check_list_args(prefix, start_after, err);
    if (rc) return rc;
    if (!prefix) prefix = "";
    if (max == 0) max = OBJSTORE_PAGE_DEFAULT;
    size_t plen = strlen(prefix), cap = 0;
    pthread_mutex_lock(&m->mu);
    if ((rc = fault_check(m, OBJ_OP_LIST, prefix, err))) goto fail;
    size_t i = lower_bound(m, prefix);
    if (start_after && strcmp(start_after, prefix) >= 0) {
        i = lower_bound(m, start_after);
        if (i < m->n && strcmp(m->objs[i].key, start_after) == 0) i++;
    }
    for (; i < m->n && strncmp(m->objs[i].key, prefix, plen) == 0; i++) {
        if (out->n == max) {
            out->next = xstrdup(out->entries[out->n - 1].key);
            break;
        }
        objstore__page_push(out, &cap, m->objs[i].key, strlen(m->objs[i].key), m->objs[i].len);
    }
fail:
    pthread_mutex_unlock(&m->mu);
    if (rc) objstore_page_free(out);
    return rc;
}

static int mem_del(objstore *s, const char *key, silt_err *err) {
    mem_store *m = (mem_store *)s;
    int rc = objstore__check_key(key, "del", err);
    if (rc) return rc;
    mem_obj gone = {0};
    pthread_mutex_lock(&m->mu);
    if ((rc = fault_check(m, OBJ_OP_DEL, key, err))) goto fail;
    size_t i = lower_bound(m, key);
    if (i < m->n && strcmp(m->objs[i].key, key) == 0) {
        gone = m->objs[i];
        memmove(&m->objs[i], &m->objs[i + 1], (m->n - i - 1) * sizeof *m->objs);
        m->n--;
    }
fail:
    pthread_mutex_unlock(&m->mu);
    free(gone.key);
    free(gone.data);
    return rc;
}

static void mem_destroy(objstore *s) {
    mem_store *m = (mem_store *)s;
    for (size_t i = 0; i < m->n; i++) {
        free(m->objs[i].key);
        free(m->objs[i].data);
    }
    free(m->objs);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static const objstore_vt mem_vt = {
    .put = mem_put,
    .get = mem_get,
    .head = mem_head,
    .list = mem_list,
    .del = mem_del,
    .destroy = mem_destroy,
};

objstore *objstore_mem_create(void) {
    mem_store *m = xcalloc(1, sizeof *m);
    m->base.vt = &mem_vt;
    m->base.kind = "memory";
    pthread_mutex_init(&m->mu, NULL);
    return &m->base;
}

void objstore_mem_fail(objstore *s, objstore_op op, unsigned nth, int code, bool persistent) {
    mem_store *m = (mem_store *)s;
    assert(s->vt == &mem_vt);
    assert((unsigned)op < OBJ_OP__COUNT);
    pthread_mutex_lock(&m->mu);
    m->faults[op] = (mem_fault){.armed = nth > 0 && code != SILT_OK,
                                .persistent = persistent,
                                .fire_at = nth,
                                .seen = 0,
                                .code = code};
    pthread_mutex_unlock(&m->mu);
}
