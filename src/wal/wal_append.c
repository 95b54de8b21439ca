/* SPDX-License-Identifier: MIT
 *
 * The WAL writer: wal_open/wal_close, wal_write() for request threads, and the one writer
 * thread that group-commits (README sequence points 2-6). */
#include "wal_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/file.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>

/* Fail every request in [head, end) that was not acknowledged yet; caller holds mu. */
static void fail_group(wal *w, wal_req *head, wal_req *end, int rc, const char *msg) {
    for (wal_req *r = head; r != end; r = r->next) {
        if (r->state >= WAL_REQ_WRITTEN) continue; /* acknowledged no_sync: carried */
        r->rc = rc;
        snprintf(r->msg, sizeof r->msg, "%.200s", msg);
    }
    w->stats.failed_groups++;
}

/* Mark [head, end) done; drop the writer's reference to no_sync requests, which own their
 * copy of the payload and may outlive their caller. Caller holds mu. */
static void finish_group(wal_req *head, wal_req *end) {
    wal_req *r = head;
    while (r != end) {
        wal_req *next = r->next;
        r->state = WAL_REQ_DONE;
        if (r->owned && --r->refs == 0) free(r);
        r = next;
    }
}

static void apply_req(wal *w, wal_req *r) {
    int ar = w->apply(w->apply_arg, r->seq, r->payload, r->len);
    if (ar) log_error("wal", "record seq %" PRIu64 " is durable but could not be applied: %s",
                      r->seq, silt_strerror(ar));
    r->applied = true;
}

/* Write one group: frame (after any carried records), write to every directory, release
 * the no_sync prefix, sync every directory, apply, acknowledge. */
static void write_group(wal *w, wal_req *head, wal_req *end) {
    silt_err err = {0};
    int rc = SILT_OK;
    wal_req *first = w->carry ? w->carry : head;

    if (!w->have_seg && (rc = wal__segment_create(w, first->seq, &err))) goto failed;

    /* sequence point 3: one buffer, written at the segment's end in each directory. Records
     * carried from a poisoned segment go first, with their own sequence numbers (invariant
     * 5): they are below the group's, so the order stays strictly increasing. */
    buf_reset(&w->group);
    size_t n_recs = 0;
    for (int pass = 0; pass < 2; pass++) {
        wal_req *from = pass == 0 ? w->carry : head, *to = pass == 0 ? NULL : end;
        for (wal_req *r = from; r != to; r = r->next) {
            uint8_t fr[WAL_FRAME_BYTES];
            wal__frame_encode(fr, (uint32_t)r->len, r->payload_crc, r->seq);
            buf_append(&w->group, fr, sizeof fr);
            buf_append(&w->group, r->payload, r->len);
            n_recs++;
        }
    }
    for (size_t d = 0; d < w->n_dirs; d++) {
        if ((rc = INJECT("wal.before_write"))) {
            silt_err_sys(&err, EIO, "injected write failure");
            goto poison;
        }
        if ((rc = w->v->pwrite(w->seg[d], w->group.p, w->group.len, w->seg_off, &err)))
            goto poison;
    }

    /* sequence point 4: no_sync requests are answered here, before the sync, once applied
     * (so an acknowledged write is queryable). Only the leading no_sync records of the group
     * can be: applying a later one before the synced records ahead of it would break
     * invariant (8). The others are answered after the sync like every record. */
    bool released = false;
    for (wal_req *r = head; r != end && (r->flags & WAL_NO_SYNC); r = r->next) {
        apply_req(w, r);
        released = true;
    }
    if (released) {
        pthread_mutex_lock(&w->mu);
        for (wal_req *r = head; r != end && r->applied; r = r->next) r->state = WAL_REQ_WRITTEN;
        pthread_mutex_unlock(&w->mu);
        pthread_cond_broadcast(&w->done_cv);
    }

    /* invariant (3): durable in every directory */
    int64_t t0 = time_mono_ns();
    for (size_t d = 0; d < w->n_dirs; d++) {
        if ((rc = w->v->sync(w->seg[d], &err))) goto poison;
    }
    int64_t sync_ns = time_mono_ns() - t0;
    if ((rc = INJECT("wal.after_sync"))) {
        silt_err_sys(&err, EIO, "injected failure after sync");
        goto poison;
    }
    w->seg_off += w->group.len;
    {
        wal_req *last = NULL;
        for (wal_req *r = head; r != end; r = r->next) last = r;
        for (wal_req *r = w->carry; !last && r; r = r->next) last = r;
        if (last) w->seg_last_seq = last->seq;
    }

    /* sequence point 5 / invariant (8): apply in sequence order, after durability */
    for (wal_req *r = head; r != end; r = r->next)
        if (!r->applied) apply_req(w, r);

    /* sequence point 6 */
    pthread_mutex_lock(&w->mu);
    finish_group(w->carry, NULL); /* carried records are durable again */
    w->carry = w->carry_tail = NULL;
    finish_group(head, end);
    w->stats.groups++;
    w->stats.records += n_recs;
    w->stats.bytes += w->group.len;
    w->stats.syncs += w->n_dirs;
    w->stats.sync_ns_total += sync_ns;
    pthread_mutex_unlock(&w->mu);
    pthread_cond_broadcast(&w->done_cv);

    if (w->seg_off >= w->segment_bytes) wal__segment_close(w); /* next group starts a new one */
    return;

poison:
    /* invariant (5): never write or sync this segment again; the next group gets a new one */
    log_error("wal", "segment %020" PRIu64 ".wal poisoned: %s", w->seg_id, err.msg);
    for (size_t d = 0; d < w->n_dirs; d++) /* best effort: cut what may be half-written */
        if (w->seg[d]) w->v->truncate(w->seg[d], w->seg_off, NULL);
    wal__segment_close(w);
failed:
    if (rc != SILT_ENOSPC) rc = SILT_EIO;
    {
        size_t n_failed = 0, n_carried = 0;
        uint64_t first_failed = 0;
        pthread_mutex_lock(&w->mu);
        fail_group(w, head, end, rc, err.msg);
        /* acknowledged no_sync records must not be lost: carry them (from memory) into the
         * next segment; the rest are failed, not acknowledged */
        wal_req *r = head;
        while (r != end) {
            wal_req *next = r->next;
            if (r->state == WAL_REQ_WRITTEN) {
                r->next = NULL;
                if (w->carry_tail) w->carry_tail->next = r;
                else w->carry = r;
                w->carry_tail = r;
                n_carried++;
            } else {
                if (!n_failed++) first_failed = r->seq;
                r->state = WAL_REQ_DONE;
                if (r->owned && --r->refs == 0) free(r);
            }
            r = next;
        }
        pthread_mutex_unlock(&w->mu);
        pthread_cond_broadcast(&w->done_cv);
        if (n_failed)
            log_error("wal", "%zu record(s) from seq %" PRIu64 " not acknowledged (%s)", n_failed,
                      first_failed, rc == SILT_ENOSPC ? "no space" : "I/O error");
        if (n_carried)
            log_warn("wal", "%zu acknowledged no_sync record(s) kept in memory, to be rewritten "
                     "into the next segment", n_carried);
    }
}

/* Sequence point 7: remove the segments whose records are all persisted. Writer thread,
 * between groups, without mu. */
static int remove_persisted(wal *w, uint64_t seq, silt_err *err) {
    if (w->have_seg && w->seg_last_seq <= seq && !w->carry) wal__segment_close(w);
    size_t keep = 0;
    int rc = SILT_OK;
    for (size_t i = 0; i < w->n_closed; i++) {
        struct wal_seg_info si = w->closed[i];
        if (!rc && si.last_seq <= seq) {
            if (!(rc = INJECT("wal.during_remove")))
                rc = wal__segment_remove(w, si.id, err);
            else
                silt_err_sys(err, EIO, "injected failure removing segments");
            if (!rc) {
                log_debug("wal", "segment %020" PRIu64 ".wal removed: persisted through seq %"
                          PRIu64, si.id, seq);
                continue;
            }
        }
        w->closed[keep++] = si;
    }
    w->n_closed = keep;
    return rc;
}

static void *writer_main(void *arg) {
    wal *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stopping && !w->rm_pending) pthread_cond_wait(&w->work_cv, &w->mu);
        if (w->rm_pending) {
            uint64_t seq = w->rm_seq;
            pthread_mutex_unlock(&w->mu);
            silt_err e = {0};
            int rc = remove_persisted(w, seq, &e);
            pthread_mutex_lock(&w->mu);
            w->rm_rc = rc;
            snprintf(w->rm_msg, sizeof w->rm_msg, "%.200s", e.msg);
            w->rm_pending = false;
            pthread_cond_broadcast(&w->rm_cv);
            continue;
        }
        if (!w->head) break; /* stopping and drained */
        /* group commit: take every queued record (bounded by WAL_GROUP_MAX_BYTES) */
        wal_req *head = w->head, *end = head;
        size_t bytes = 0;
        while (end && (end == head || bytes + end->len <= WAL_GROUP_MAX_BYTES)) {
            bytes += end->len;
            end = end->next;
        }
        w->head = end;
        if (!end) w->tail = NULL;
        w->queued_bytes -= bytes;
        pthread_mutex_unlock(&w->mu);
        write_group(w, head, end);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    if (w->carry) write_group(w, NULL, NULL); /* a last try for carried records */
    wal__segment_close(w);
    return NULL;
}

int wal_write(wal *w, const uint8_t *payload, size_t len, uint32_t payload_crc, int flags,
              uint64_t *seq, silt_err *err) {
    if (len == 0 || len > WAL_RECORD_MAX)
        return SILT_FAIL(err, SILT_ETOOBIG, "WAL record of %zu bytes (limit %u)", len,
                         WAL_RECORD_MAX);
    wal_req local = {0}, *r = &local;
    if (flags & WAL_NO_SYNC) {
        /* released before the writer is done with it: it owns a copy and is refcounted */
        r = xmalloc(sizeof *r + len);
        memset(r, 0, sizeof *r);
        memcpy(r + 1, payload, len);
        payload = (const uint8_t *)(r + 1);
        r->owned = true;
        r->refs = 2;
    }
    r->payload = payload;
    r->len = len;
    r->payload_crc = payload_crc;
    r->flags = flags;
    pthread_mutex_lock(&w->mu);
    if (w->stopping) {
        pthread_mutex_unlock(&w->mu);
        if (r != &local) free(r);
        return SILT_FAIL(err, SILT_ESHUTDOWN, "the write-ahead log is closing");
    }
    r->seq = w->next_seq++; /* sequence point 2; invariant (2) */
    if (w->tail) w->tail->next = r;
    else w->head = r;
    w->tail = r;
    w->queued_bytes += len;
    pthread_cond_signal(&w->work_cv);
    int want = (flags & WAL_NO_SYNC) ? WAL_REQ_WRITTEN : WAL_REQ_DONE;
    while (r->state < want) pthread_cond_wait(&w->done_cv, &w->mu);
    /* a no_sync request released at WRITTEN is answered 204 even if its sync fails later */
    int rc = r->state == WAL_REQ_DONE ? r->rc : SILT_OK;
    uint64_t s = r->seq;
    if (rc) SILT_FAIL(err, rc, "write-ahead log: %s", r->msg);
    if (r->owned && --r->refs == 0) free(r);
    pthread_mutex_unlock(&w->mu);
    if (!rc && seq) *seq = s;
    return rc;
}

int wal_open(const wal_opts *o, wal **out, wal_replay_stats *stats, silt_err *err) {
    if (o->n_dirs < 1 || o->n_dirs > WAL_MAX_DIRS)
        return SILT_FAIL(err, SILT_EINVAL, "need 1 to %d WAL directories, got %zu", WAL_MAX_DIRS,
                         o->n_dirs);
    wal *w = xcalloc(1, sizeof *w);
    w->n_dirs = o->n_dirs;
    for (size_t d = 0; d < o->n_dirs; d++) w->dirs[d] = xstrdup(o->dirs[d]);
    w->segment_bytes = o->segment_bytes ? o->segment_bytes : (64u << 20);
    w->v = o->vfs ? o->vfs : vfs_posix();
    w->apply = o->apply;
    w->apply_arg = o->apply_arg;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work_cv, NULL);
    pthread_cond_init(&w->done_cv, NULL);
    pthread_cond_init(&w->rm_cv, NULL);
    w->next_seg_id = 1;
    w->persisted_seq = o->persisted_seq;
    for (size_t d = 0; d < WAL_MAX_DIRS; d++) w->lock_fd[d] = -1;
    int rc;
    for (size_t d = 0; d < w->n_dirs; d++) {
        for (size_t e = 0; e < d; e++)
            if (strcmp(w->dirs[d], w->dirs[e]) == 0) {
                rc = SILT_FAIL(err, SILT_EINVAL, "WAL directory %s given twice", w->dirs[d]);
                goto fail;
            }
        if ((rc = w->v->mkdirs(w->v, w->dirs[d], err))) goto fail;
        /* one writer per directory: a second process would interleave segments (the lock file
         * is not data; it is taken with plain POSIX calls, outside the vfs) */
        char lp[4200];
        snprintf(lp, sizeof lp, "%s/LOCK", w->dirs[d]);
        w->lock_fd[d] = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (w->lock_fd[d] < 0) {
            rc = silt_err_sys(err, errno, "open %s", lp);
            goto fail;
        }
        if (flock(w->lock_fd[d], LOCK_EX | LOCK_NB) < 0) {
            rc = errno == EWOULDBLOCK
                     ? SILT_FAIL(err, SILT_EBUSY, "WAL directory %s is in use by another silt "
                                 "process", w->dirs[d])
                     : silt_err_sys(err, errno, "lock %s", lp);
            goto fail;
        }
    }
    wal_replay_stats st = {0};
    int64_t t0 = time_mono_ns();
    if ((rc = wal__replay(w, &st, err))) goto fail;
    st.elapsed_ns = time_mono_ns() - t0;
    if (w->next_seq < o->min_next_seq) w->next_seq = o->min_next_seq;
    if (w->next_seq <= o->persisted_seq) w->next_seq = o->persisted_seq + 1; /* invariant (2) */
    if (stats) *stats = st;
    if (pthread_create(&w->writer, NULL, writer_main, w) != 0) {
        rc = SILT_FAIL(err, SILT_ENOMEM, "cannot start the WAL writer thread");
        goto fail;
    }
    w->writer_started = true;
    *out = w;
    return SILT_OK;
fail:
    w->stopping = true;
    wal_close(w);
    return rc;
}

void wal_close(wal *w) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->work_cv);
    pthread_mutex_unlock(&w->mu);
    if (w->writer_started) pthread_join(w->writer, NULL);
    wal__segment_close(w);
    size_t lost = 0;
    while (w->carry) { /* acknowledged no_sync records the disk never took */
        wal_req *n = w->carry->next;
        lost++;
        if (w->carry->owned && --w->carry->refs == 0) free(w->carry);
        w->carry = n;
    }
    if (lost)
        log_error("wal", "closing with %zu acknowledged no_sync record(s) that could not be "
                  "made durable", lost);
    buf_free(&w->group);
    for (size_t d = 0; d < w->n_dirs; d++) {
        free(w->dirs[d]);
        if (w->lock_fd[d] >= 0) close(w->lock_fd[d]); /* releases the flock */
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->work_cv);
    pthread_cond_destroy(&w->done_cv);
    pthread_cond_destroy(&w->rm_cv);
    free(w->closed);
    free(w);
}

int wal_remove_through(wal *w, uint64_t persisted_seq, silt_err *err) {
    pthread_mutex_lock(&w->mu);
    while (w->rm_pending) pthread_cond_wait(&w->rm_cv, &w->mu);
    if (w->stopping) {
        pthread_mutex_unlock(&w->mu);
        return SILT_FAIL(err, SILT_ESHUTDOWN, "the write-ahead log is closing");
    }
    w->rm_pending = true;
    w->rm_seq = persisted_seq;
    pthread_cond_signal(&w->work_cv);
    while (w->rm_pending) pthread_cond_wait(&w->rm_cv, &w->mu);
    int rc = w->rm_rc;
    if (rc) SILT_FAIL(err, rc, "removing persisted WAL segments: %s", w->rm_msg);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

uint64_t wal_last_seq(wal *w) {
    pthread_mutex_lock(&w->mu);
    uint64_t s = w->next_seq ? w->next_seq - 1 : 0;
    pthread_mutex_unlock(&w->mu);
    return s;
}

size_t wal_segment_count(wal *w) {
    char **names;
    size_t n, count = 0;
    if (w->v->list(w->v, w->dirs[0], &names, &n, NULL) != SILT_OK) return 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t id;
        count += wal__parse_segment_name(names[i], &id);
    }
    vfs_names_free(names, n);
    return count;
}

void wal_get_stats(wal *w, wal_stats *out) {
    pthread_mutex_lock(&w->mu);
    *out = w->stats;
    out->next_seq = w->next_seq;
    pthread_mutex_unlock(&w->mu);
}
