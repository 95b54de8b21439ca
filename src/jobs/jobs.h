/* SPDX-License-Identifier: MIT
 *
 * jobs: background work. Today the persister: one thread that freezes the buffer's active
 * generation when it holds --buffer-persist-size bytes or its oldest write is
 * --buffer-persist-age old, and persists frozen generations oldest first (store_persist),
 * retrying with backoff when the object store or catalog fails (the data stays in the buffer
 * and the WAL meanwhile; above --buffer-max-size writes get 503). Later: compactor,
 * retention, garbage collector, catalog backups.
 */
#ifndef SILT_JOBS_H
#define SILT_JOBS_H

#include "../store/store.h"

typedef struct jobs jobs;

typedef struct jobs_opts {
    store *store;
    buffer *buffer;
    wal *wal;
    uint64_t persist_bytes;
    uint64_t persist_age_ns;
} jobs_opts;

int jobs_start(const jobs_opts *o, jobs **out, silt_err *err);
/* Persist now, whatever the thresholds (the buffer is above its high-water mark), unless a
 * failure backoff is running. Any thread. */
void jobs_wake(jobs *j);
/* Stop the thread; a persist in progress finishes first. Safe with NULL. */
void jobs_stop(jobs *j);

typedef struct jobs_stats {
    uint64_t persists, persist_failures, persisted_rows, persisted_files, persisted_bytes;
    int64_t busy_ns;
    bool failing; /* the last attempt failed */
} jobs_stats;
void jobs_get_stats(jobs *j, jobs_stats *out);

/* Persist everything: freeze the active generation, persist every frozen one oldest first,
 * then commit `watermark` (at least the last persisted sequence) and remove the WAL segments
 * at or below it. For shutdown: with writes drained, watermark = wal_last_seq() leaves the
 * WAL empty. Returns the first error (what was not persisted stays in the WAL). */
int jobs_persist_all(store *st, buffer *b, wal *w, uint64_t watermark, persist_stats *total,
                     silt_err *err);

#endif
