/* SPDX-License-Identifier: MIT
 *
 * WAL on-disk format: segment header, record framing, validation, segment creation.
 *
 *   file     <segment id, 20 digits>.wal
 *   segment  = header record*
 *   header   (40 bytes)  magic "SILTWAL1" | u32 version=1 | u64 segment id | u64 first_seq |
 *                        i64 created_ns | u32 crc32c(bytes 0..35)
 *   record   (16+len)    u32 len | u32 crc | u64 seq | payload[len]
 *                        crc = crc32c over payload, then len (4 bytes), then seq (8 bytes)
 *
 * Invariants (numbered as in src/wal/README.md, cited by number in the code):
 *  (1) a record is valid iff header and payload lie inside the file, 0 < len <=
 *      WAL_RECORD_MAX, the crc matches and seq > the previous record's (the first: seq ==
 *      first_seq);
 *  (2) sequence numbers increase strictly and are never reused;
 *  (3) acknowledged only after fdatasync succeeded in every directory;
 *  (4) a new segment is created O_EXCL, header fdatasync'ed, directory fsync'ed before any
 *      record is written to it;
 *  (5) a failed write or sync poisons the segment;
 *  (6) replay stops at the first invalid record of a segment, truncates, logs, continues;
 *  (7) replicas are merged record by record and repaired;
 *  (8) records reach the buffer in sequence order, after durability, before the ack.
 */
#include "wal_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

void wal_segment_name(uint64_t seg_id, char out[32]) {
    snprintf(out, 32, "%020" PRIu64 ".wal", seg_id);
}

bool wal__parse_segment_name(const char *name, uint64_t *seg_id) {
    if (strlen(name) != 24 || strcmp(name + 20, ".wal") != 0) return false;
    uint64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9') return false;
        uint64_t d = (uint64_t)(name[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *seg_id = v;
    return true;
}

void wal__path(const wal *w, size_t dir, const char *name, char *out, size_t out_len) {
    snprintf(out, out_len, "%s/%s", w->dirs[dir], name);
}

void wal__header_encode(uint8_t out[WAL_HEADER_BYTES], uint64_t seg_id, uint64_t first_seq,
                        int64_t created_ns) {
    memcpy(out, WAL_MAGIC, 8);
    le_put32(out + 8, WAL_VERSION);
    le_put64(out + 12, seg_id);
    le_put64(out + 20, first_seq);
    le_put64(out + 28, (uint64_t)created_ns);
    le_put32(out + 36, crc32c(0, out, 36));
}

const char *wal__header_check(const uint8_t *p, size_t n, uint64_t *seg_id, uint64_t *first_seq) {
    if (n < WAL_HEADER_BYTES) return "segment header is incomplete";
    if (memcmp(p, WAL_MAGIC, 8) != 0) return "bad magic (not a silt WAL segment)";
    if (le_get32(p + 36) != crc32c(0, p, 36)) return "segment header checksum mismatch";
    if (le_get32(p + 8) != WAL_VERSION) return "unsupported segment version";
    *seg_id = le_get64(p + 12);
    *first_seq = le_get64(p + 20);
    return NULL;
}

static uint32_t frame_crc(uint32_t payload_crc, uint32_t len, uint64_t seq) {
    uint8_t t[12];
    le_put32(t, len);
    le_put64(t + 4, seq);
    return crc32c(payload_crc, t, 12);
}

void wal__frame_encode(uint8_t out[WAL_FRAME_BYTES], uint32_t len, uint32_t payload_crc,
                       uint64_t seq) {
    le_put32(out, len);
    le_put32(out + 4, frame_crc(payload_crc, len, seq));
    le_put64(out + 8, seq);
}

const char *wal__record_check(const uint8_t *p, size_t avail, uint64_t min_seq,
                              size_t *rec_bytes, uint64_t *seq_out, char *why, size_t why_len) {
    /* invariant (1) */
    if (avail < WAL_FRAME_BYTES) {
        snprintf(why, why_len, "torn record header (%zu of %d bytes)", avail, WAL_FRAME_BYTES);
        return why;
    }
    uint32_t len = le_get32(p);
    uint32_t crc = le_get32(p + 4);
    uint64_t seq = le_get64(p + 8);
    if (len == 0 && crc == 0 && seq == 0) return "zero-filled record header (end of data)";
    if (len == 0 || len > WAL_RECORD_MAX) {
        snprintf(why, why_len, "invalid record length %" PRIu32, len);
        return why;
    }
    if (avail - WAL_FRAME_BYTES < len) {
        snprintf(why, why_len, "torn record (payload of %" PRIu32 " bytes, %zu present)", len,
                 avail - WAL_FRAME_BYTES);
        return why;
    }
    if (frame_crc(crc32c(0, p + WAL_FRAME_BYTES, len), len, seq) != crc) {
        snprintf(why, why_len, "checksum mismatch in record seq %" PRIu64, seq);
        return why;
    }
    if (seq < min_seq) {
        snprintf(why, why_len, "sequence %" PRIu64 " where at least %" PRIu64 " was expected",
                 seq, min_seq);
        return why;
    }
    *rec_bytes = WAL_FRAME_BYTES + (size_t)len;
    *seq_out = seq;
    return NULL;
}

void wal__note_closed(wal *w, uint64_t id, uint64_t last_seq) {
    XGROW(w->closed, w->cap_closed, w->n_closed + 1);
    w->closed[w->n_closed].id = id;
    w->closed[w->n_closed].last_seq = last_seq;
    w->n_closed++;
}

void wal__segment_close(wal *w) {
    bool had = w->have_seg;
    for (size_t d = 0; d < w->n_dirs; d++) {
        if (w->seg[d]) w->v->close(w->seg[d]);
        w->seg[d] = NULL;
    }
    w->have_seg = false;
    if (had) wal__note_closed(w, w->seg_id, w->seg_last_seq);
}

int wal__segment_remove(wal *w, uint64_t id, silt_err *err) {
    char name[32], path[4096];
    wal_segment_name(id, name);
    for (size_t d = 0; d < w->n_dirs; d++) {
        wal__path(w, d, name, path, sizeof path);
        int rc = w->v->unlink(w->v, path, err);
        if (rc && rc != SILT_ENOTFOUND) return rc;
        if ((rc = w->v->sync_dir(w->v, w->dirs[d], err))) return rc;
    }
    return SILT_OK;
}

int wal__segment_create(wal *w, uint64_t first_seq, silt_err *err) {
    /* invariant (4): O_EXCL, header synced, directory synced, before any record */
    char name[32], path[4096];
    uint8_t hdr[WAL_HEADER_BYTES];
    int rc = SILT_OK;
    uint64_t id = w->next_seg_id;
    wal_segment_name(id, name);
    wal__header_encode(hdr, id, first_seq, time_now_ns());
    for (size_t d = 0; d < w->n_dirs; d++) {
        wal__path(w, d, name, path, sizeof path);
        if ((rc = w->v->open(w->v, path, VFS_RDWR | VFS_CREATE | VFS_EXCL, &w->seg[d], err)))
            goto fail;
        if ((rc = w->v->pwrite(w->seg[d], hdr, sizeof hdr, 0, err))) goto fail;
        if ((rc = w->v->sync(w->seg[d], err))) goto fail;
        if ((rc = w->v->sync_dir(w->v, w->dirs[d], err))) goto fail;
    }
    w->have_seg = true;
    w->seg_id = id;
    w->next_seg_id = id + 1;
    w->seg_off = WAL_HEADER_BYTES;
    w->seg_last_seq = 0;
    pthread_mutex_lock(&w->mu);
    w->stats.segments_created++;
    pthread_mutex_unlock(&w->mu);
    log_debug("wal", "new segment %s in %zu director%s", name, w->n_dirs,
              w->n_dirs == 1 ? "y" : "ies");
    return SILT_OK;
fail:
    /* a half-created segment holds no record; remove what we made (best effort). Its id is
     * not reused, whatever state the directory is left in. */
    w->next_seg_id = id + 1;
    for (size_t d = 0; d < w->n_dirs; d++) {
        if (!w->seg[d]) continue;
        w->v->close(w->seg[d]);
        w->seg[d] = NULL;
        wal__path(w, d, name, path, sizeof path);
        w->v->unlink(w->v, path, NULL);
    }
    w->have_seg = false;
    return rc;
}
