/* SPDX-License-Identifier: MIT
 *
 * wal internals, shared by wal_segment.c (format), wal_replay.c and wal_append.c. */
#ifndef SILT_WAL_INT_H
#define SILT_WAL_INT_H

#include "wal.h"

#define WAL_MAGIC "SILTWAL1"
#define WAL_VERSION 1
#define WAL_HEADER_BYTES 40
#define WAL_FRAME_BYTES 16
#define WAL_GROUP_MAX_BYTES (64u << 20) /* a group stops growing past this */

enum { WAL_REQ_QUEUED = 0, WAL_REQ_WRITTEN, WAL_REQ_DONE };

/* One wal_write() call waiting for its record. Lives on the caller's stack, except for
 * no_sync requests (see `owned`). */
typedef struct wal_req {
    const uint8_t *payload;
    size_t len;
    uint32_t payload_crc;
    int flags;
    uint64_t seq;         /* set under mu when queued */
    int state;            /* protected by mu */
    int rc;               /* protected by mu; valid once state == WAL_REQ_DONE */
    char msg[256];        /* failure detail, protected by mu */
    struct wal_req *next; /* queue link (or carry link), protected by mu / writer only */
    bool owned;           /* heap-allocated no_sync request holding its payload copy */
    int refs;             /* owned only: caller + writer; protected by mu */
    bool applied;         /* writer only: already applied to the buffer */
} wal_req;

struct wal {
    char *dirs[WAL_MAX_DIRS];
    size_t n_dirs;
    uint64_t segment_bytes;
    vfs *v;
    wal_apply_fn apply;
    void *apply_arg;

    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* writer waits for work */
    pthread_cond_t done_cv; /* request threads wait for their record */
    wal_req *head, *tail;   /* protected by mu */
    size_t queued_bytes;    /* protected by mu */
    uint64_t next_seq;      /* protected by mu */
    bool stopping;          /* protected by mu */
    wal_stats stats;        /* protected by mu */

    /* segment removal requested by wal_remove_through, handled by the writer thread */
    bool rm_pending;       /* protected by mu */
    uint64_t rm_seq;       /* protected by mu */
    int rm_rc;             /* protected by mu */
    char rm_msg[256];      /* protected by mu */
    pthread_cond_t rm_cv;

    /* closed segments: id and last record seq (writer thread only after wal_open) */
    struct wal_seg_info {
        uint64_t id, last_seq;
    } *closed;
    size_t n_closed, cap_closed;
    uint64_t seg_last_seq; /* last seq written to the current segment; writer only */
    uint64_t persisted_seq;

    pthread_t writer;
    bool writer_started;
    int lock_fd[WAL_MAX_DIRS]; /* flock on <dir>/LOCK: one process per WAL directory */
    /* writer thread only: */
    vfs_file *seg[WAL_MAX_DIRS];
    bool have_seg;
    uint64_t seg_id, seg_off;
    uint64_t next_seg_id;
    /* acknowledged no_sync records whose sync failed: rewritten at the start of the next
     * segment (invariant 5), in sequence order */
    wal_req *carry, *carry_tail;
    buf group;
};

/* wal_segment.c */
void wal__header_encode(uint8_t out[WAL_HEADER_BYTES], uint64_t seg_id, uint64_t first_seq,
                        int64_t created_ns);
/* Returns NULL if valid (and sets *seg_id, *first_seq), else the reason. */
const char *wal__header_check(const uint8_t *p, size_t n, uint64_t *seg_id, uint64_t *first_seq);
void wal__frame_encode(uint8_t out[WAL_FRAME_BYTES], uint32_t len, uint32_t payload_crc,
                       uint64_t seq);
/* Check the record at p (avail bytes left in the file) against invariant (1): its seq must be
 * at least min_seq. Returns NULL and sets *rec_bytes (frame + payload) and *seq if valid,
 * else the reason (a static string or one formatted into why_buf). */
const char *wal__record_check(const uint8_t *p, size_t avail, uint64_t min_seq,
                              size_t *rec_bytes, uint64_t *seq, char *why_buf, size_t why_len);
bool wal__parse_segment_name(const char *name, uint64_t *seg_id);
void wal__path(const wal *w, size_t dir, const char *name, char *out, size_t out_len);
/* Create segment w->next_seg_id, whose first record will be first_seq, in every directory
 * (invariant 4); on success w->seg[] are open and w->seg_off is the header size. */
int wal__segment_create(wal *w, uint64_t first_seq, silt_err *err);
void wal__segment_close(wal *w);

/* wal_replay.c */
int wal__replay(wal *w, wal_replay_stats *st, silt_err *err);
/* Unlink segment id in every directory and fsync the directories. */
int wal__segment_remove(wal *w, uint64_t id, silt_err *err);
/* Remember a closed segment (for wal_remove_through). */
void wal__note_closed(wal *w, uint64_t id, uint64_t last_seq);

#endif
