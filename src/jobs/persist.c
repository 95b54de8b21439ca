/* SPDX-License-Identifier: MIT
 *
 * The persister thread and the persist-everything step of a graceful shutdown. */
#include "jobs.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>

struct jobs {
    jobs_opts o;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, woken;  /* protected by mu */
    bool forced;       /* protected by mu: jobs_wake asked for a persist now */
    jobs_stats stats;  /* protected by mu */
};

static bool due(jobs *j) {
    buffer_gen_info gi;
    buffer_active_info(j->o.buffer, &gi);
    if (!gi.rows) return false;
    if (gi.bytes >= j->o.persist_bytes) return true;
    return gi.first_write_ns && time_now_ns() - gi.first_write_ns >= (int64_t)j->o.persist_age_ns;
}

/* Persist the frozen generations, oldest first, each with its own watermark (its max seq:
 * a later generation's records are not persisted yet). Returns the first error. */
static int persist_frozen(store *st, buffer *b, wal *w, persist_stats *total, silt_err *err) {
    buffer_gen *g;
    while ((g = buffer_oldest_frozen(b))) {
        persist_stats ps = {0};
        int rc = store_persist(st, g, 0, w, &ps, err);
        buffer_gen_unref(g);
        if (rc) return rc;
        if (total) {
            total->files += ps.files;
            total->rows += ps.rows;
            total->bytes += ps.bytes;
            total->elapsed_ns += ps.elapsed_ns;
            total->persisted_seq = ps.persisted_seq;
        }
    }
    return SILT_OK;
}

static void *persister_main(void *arg) {
    jobs *j = arg;
    int64_t backoff_ns = 0, retry_at = 0;
    pthread_mutex_lock(&j->mu);
    while (!j->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 500 * 1000 * 1000;
        if (ts.tv_nsec >= NS_PER_S) {
            ts.tv_sec++;
            ts.tv_nsec -= NS_PER_S;
        }
        if (!j->woken) pthread_cond_timedwait(&j->cv, &j->mu, &ts);
        j->woken = false;
        bool forced = j->forced;
        j->forced = false;
        if (j->stop) break;
        pthread_mutex_unlock(&j->mu);
        int64_t now = time_mono_ns();
        if (now >= retry_at) {
            if (forced || due(j)) {
                buffer_gen *g = buffer_freeze(j->o.buffer);
                if (g) buffer_gen_unref(g);
            }
            persist_stats ps = {0};
            silt_err err = {0};
            int64_t t0 = time_mono_ns();
            int rc = persist_frozen(j->o.store, j->o.buffer, j->o.wal, &ps, &err);
            int64_t busy = time_mono_ns() - t0;
            pthread_mutex_lock(&j->mu);
            j->stats.busy_ns += busy;
            if (ps.files || ps.rows) {
                j->stats.persists++;
                j->stats.persisted_rows += ps.rows;
                j->stats.persisted_files += ps.files;
                j->stats.persisted_bytes += ps.bytes;
            }
            j->stats.failing = rc != SILT_OK;
            if (rc) j->stats.persist_failures++;
            pthread_mutex_unlock(&j->mu);
            if (rc) {
                backoff_ns = backoff_ns ? backoff_ns * 2 : NS_PER_S;
                if (backoff_ns > 30 * NS_PER_S) backoff_ns = 30 * NS_PER_S;
                retry_at = time_mono_ns() + backoff_ns;
                log_error("persist", "persisting the buffer failed: %s; retrying in %.0f s (the "
                          "data stays in memory and in the WAL)", err.msg, (double)backoff_ns / 1e9);
            } else {
                backoff_ns = 0;
            }
        }
        pthread_mutex_lock(&j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

int jobs_start(const jobs_opts *o, jobs **out, silt_err *err) {
    jobs *j = xcalloc(1, sizeof *j);
    j->o = *o;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    if (pthread_create(&j->thread, NULL, persister_main, j) != 0) {
        pthread_mutex_destroy(&j->mu);
        pthread_cond_destroy(&j->cv);
        free(j);
        return SILT_FAIL(err, SILT_ENOMEM, "cannot start the persister thread");
    }
    *out = j;
    return SILT_OK;
}

void jobs_wake(jobs *j) {
    if (!j) return;
    pthread_mutex_lock(&j->mu);
    j->woken = true;
    j->forced = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

void jobs_stop(jobs *j) {
    if (!j) return;
    pthread_mutex_lock(&j->mu);
    j->stop = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    pthread_join(j->thread, NULL);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
}

void jobs_get_stats(jobs *j, jobs_stats *out) {
    pthread_mutex_lock(&j->mu);
    *out = j->stats;
    pthread_mutex_unlock(&j->mu);
}

int jobs_persist_all(store *st, buffer *b, wal *w, uint64_t watermark, persist_stats *total,
                     silt_err *err) {
    persist_stats local = {0};
    if (!total) total = &local;
    buffer_gen *g = buffer_freeze(b);
    if (g) buffer_gen_unref(g);
    int rc = persist_frozen(st, b, w, total, err);
    if (rc) return rc;
    if (total->persisted_seq >= watermark) return SILT_OK;
    /* everything in memory is persisted, yet the WAL may hold records above it that are not
     * data (failed writes): commit the watermark so the WAL can go */
    if ((rc = store_commit_watermark(st, watermark, err))) return rc;
    total->persisted_seq = watermark;
    return w ? wal_remove_through(w, watermark, err) : SILT_OK;
}
