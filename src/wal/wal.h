/* SPDX-License-Identifier: MIT
 *
 * wal: segment files of framed, checksummed records in one or more directories, one writer
 * thread with group commit, replay with repair of damaged replicas. The format and its
 * numbered invariants are in src/wal/README.md and wal_segment.c.
 */
#ifndef SILT_WAL_H
#define SILT_WAL_H

#include "../util/util.h"
#include "../util/vfs.h"

#define WAL_MAX_DIRS 4
#define WAL_RECORD_MAX (256u << 20)

typedef struct wal wal;

/* Called for every record, in sequence order: during replay (from wal_open's thread) and for
 * live writes (from the writer thread, after the record is durable, before it is
 * acknowledged). `payload` is valid only during the call. A non-zero return is logged; the
 * record stays in the log. */
typedef int (*wal_apply_fn)(void *arg, uint64_t seq, const uint8_t *payload, size_t len);

typedef struct wal_opts {
    const char *dirs[WAL_MAX_DIRS]; /* 1..WAL_MAX_DIRS directories, created if missing */
    size_t n_dirs;
    uint64_t segment_bytes; /* start a new segment once one is larger than this */
    vfs *vfs;               /* NULL = vfs_posix() */
    wal_apply_fn apply;
    void *apply_arg;
    uint64_t min_next_seq; /* the first new record gets at least this sequence number */
    /* Records up to this sequence number are persisted elsewhere (the catalog's watermark):
     * replay does not apply them, and segments holding only such records are removed. */
    uint64_t persisted_seq;
} wal_opts;

typedef struct wal_replay_stats {
    uint64_t segments, records, bytes, last_seq;
    uint64_t skipped_persisted;  /* records not applied: at or below persisted_seq */
    uint64_t removed_segments;   /* segments removed because everything in them is persisted */
    uint64_t truncated_segments; /* segments cut at an invalid record */
    uint64_t repaired_copies;    /* replica files rewritten or truncated from another copy */
    int64_t elapsed_ns;
} wal_replay_stats;

/* Open the WAL: create missing directories, replay every segment through opts->apply
 * (repairing replicas, truncating invalid tails; see README invariants 6 and 7), then start
 * the writer thread on a fresh segment. `stats` may be NULL. Returns SILT_OK or an error
 * (an unreadable directory, a failed repair write, ...). */
int wal_open(const wal_opts *opts, wal **out, wal_replay_stats *stats, silt_err *err);

/* Stop accepting writes, finish those queued, stop the writer thread, close the segments.
 * Safe with NULL. */
void wal_close(wal *w);

enum { WAL_NO_SYNC = 1 };

/* Append one record and wait: by default until it is durable in every directory and applied
 * (README sequence points 2-6); with WAL_NO_SYNC only until it is written to the OS in every
 * directory. `payload_crc` is crc32c(0, payload, len). Borrows payload until return. Any
 * thread. Returns SILT_OK (*seq set), SILT_EIO (write or sync failed: not acknowledged),
 * SILT_ENOSPC, SILT_ETOOBIG, or SILT_ESHUTDOWN. */
int wal_write(wal *w, const uint8_t *payload, size_t len, uint32_t payload_crc, int flags,
              uint64_t *seq, silt_err *err);

/* Remove every segment whose records all have seq <= persisted_seq (they are persisted,
 * README sequence point 7), closing the current segment first if it is among them. Runs on
 * the writer thread between groups; waits for it. Returns SILT_OK or the first unlink/sync
 * error (the remaining segments are kept, and removed by a later call or on restart). */
int wal_remove_through(wal *w, uint64_t persisted_seq, silt_err *err);
/* Sequence number of the last record appended (0 if none). */
uint64_t wal_last_seq(wal *w);
/* Number of segment files (per directory). */
size_t wal_segment_count(wal *w);

typedef struct wal_stats {
    uint64_t groups, records, bytes, syncs, failed_groups, segments_created;
    uint64_t next_seq;
    int64_t sync_ns_total;
} wal_stats;

void wal_get_stats(wal *w, wal_stats *out);

/* Segment file name for a first sequence number: 20 digits + ".wal" (25 bytes + NUL). */
void wal_segment_name(uint64_t first_seq, char out[32]);

#endif
