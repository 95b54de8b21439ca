/* SPDX-License-Identifier: MIT
 *
 * WAL replay and replica repair (README invariants 6 and 7). Runs once, in wal_open(),
 * before the writer thread starts, so it owns every segment file. */
#include "wal_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct seg_entry {
    uint64_t id;
    bool present[WAL_MAX_DIRS];
} seg_entry;

static int cmp_seg(const void *a, const void *b) {
    uint64_t x = ((const seg_entry *)a)->id, y = ((const seg_entry *)b)->id;
    return x < y ? -1 : x > y;
}

/* Gather the union of segment names over all directories; remove stale temp files. */
static int list_segments(wal *w, seg_entry **out, size_t *n_out, silt_err *err) {
    seg_entry *segs = NULL;
    size_t n = 0, cap = 0;
    for (size_t d = 0; d < w->n_dirs; d++) {
        char **names;
        size_t nn;
        int rc = w->v->list(w->v, w->dirs[d], &names, &nn, err);
        if (rc) {
            free(segs);
            return rc;
        }
        for (size_t i = 0; i < nn; i++) {
            uint64_t fs;
            size_t len = strlen(names[i]);
            if (len > 8 && strcmp(names[i] + len - 8, ".wal.tmp") == 0) {
                char path[4096];
                wal__path(w, d, names[i], path, sizeof path);
                log_info("wal", "removing unfinished repair file %s", path);
                w->v->unlink(w->v, path, NULL);
                continue;
            }
            if (!wal__parse_segment_name(names[i], &fs)) continue;
            size_t k = 0;
            while (k < n && segs[k].id != fs) k++;
            if (k == n) {
                XGROW(segs, cap, n + 1);
                memset(&segs[n], 0, sizeof segs[n]);
                segs[n++].id = fs;
            }
            segs[k].present[d] = true;
        }
        vfs_names_free(names, nn);
    }
    if (n) qsort(segs, n, sizeof *segs, cmp_seg);
    *out = segs;
    *n_out = n;
    return SILT_OK;
}

/* Make the copy of segment `name` in directory d equal to the merged bytes m[0, ml). */
static int repair_copy(wal *w, size_t d, const char *name, const buf *copy, bool present,
                       const uint8_t *m, size_t ml, silt_err *err) {
    char path[4096], tmp[4200];
    wal__path(w, d, name, path, sizeof path);
    vfs_file *f = NULL;
    int rc;
    if (present && copy->len >= ml && memcmp(copy->p, m, ml) == 0) {
        /* a longer copy whose prefix is right: cut the invalid tail */
        if ((rc = w->v->open(w->v, path, VFS_RDWR, &f, err))) return rc;
        rc = w->v->truncate(f, ml, err);
        if (!rc) rc = w->v->sync(f, err);
        w->v->close(f);
        return rc;
    }
    /* rewrite from the merged copy: temp, sync, rename, sync dir (STYLE durability rule) */
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    w->v->unlink(w->v, tmp, NULL);
    if ((rc = w->v->open(w->v, tmp, VFS_RDWR | VFS_CREATE | VFS_EXCL, &f, err))) return rc;
    rc = w->v->pwrite(f, m, ml, 0, err);
    if (!rc) rc = w->v->sync(f, err);
    w->v->close(f);
    if (!rc) rc = w->v->rename(w->v, tmp, path, err);
    if (!rc) rc = w->v->sync_dir(w->v, w->dirs[d], err);
    return rc;
}

int wal__replay(wal *w, wal_replay_stats *st, silt_err *err) {
    seg_entry *segs;
    size_t n_segs;
    int rc = list_segments(w, &segs, &n_segs, err);
    if (rc) return rc;
    buf copies[WAL_MAX_DIRS] = {{0}};
    buf merged = {0};
    uint64_t last_seq = 0;
    bool any = false;
    char name[32], path[4096], why[WAL_MAX_DIRS][160];

    for (size_t s = 0; s < n_segs; s++) {
        wal_segment_name(segs[s].id, name);
        if (segs[s].id >= w->next_seg_id) w->next_seg_id = segs[s].id + 1;
        uint64_t first_seq = 0;
        bool hdr_ok[WAL_MAX_DIRS] = {false};
        size_t n_hdr_ok = 0;
        const char *hdr_why = "missing";
        for (size_t d = 0; d < w->n_dirs; d++) {
            buf_reset(&copies[d]);
            if (!segs[s].present[d]) continue;
            wal__path(w, d, name, path, sizeof path);
            if ((rc = vfs_read_all(w->v, path, (size_t)1 << 40, &copies[d], err))) goto fail;
            uint64_t id = 0, fs = 0;
            const char *hw = wal__header_check(copies[d].p, copies[d].len, &id, &fs);
            if (!hw && id != segs[s].id) hw = "header segment id does not match the file name";
            if (!hw && n_hdr_ok && fs != first_seq) hw = "header differs from the other copy";
            if (!hw) first_seq = fs;
            if (hw) {
                log_warn("wal", "%s: %s", path, hw);
                hdr_why = hw;
            } else {
                hdr_ok[d] = true;
                n_hdr_ok++;
            }
        }
        if (n_hdr_ok == 0) {
            /* invariant (4): no acknowledged record can be in a segment whose header was not
             * durable, so the file is an interrupted creation: remove every copy */
            for (size_t d = 0; d < w->n_dirs; d++) {
                if (!segs[s].present[d]) continue;
                wal__path(w, d, name, path, sizeof path);
                log_warn("wal", "%s: removing segment without a valid header (%s)", path,
                         hdr_why);
                if ((rc = w->v->unlink(w->v, path, err))) goto fail;
                if ((rc = w->v->sync_dir(w->v, w->dirs[d], err))) goto fail;
            }
            continue;
        }

        /* invariant (7): merge copies record by record. While every record comes from the
         * first good copy, the merged segment is that copy's prefix [0, off) and is not
         * materialised (the common case: one directory, or replicas that agree). */
        buf_reset(&merged);
        size_t first = 0;
        while (!hdr_ok[first]) first++;
        bool materialised = false;
        size_t off = WAL_HEADER_BYTES;
        uint64_t min_seq = first_seq, n_recs = 0, seq = 0;
        for (;;) {
            size_t src = SIZE_MAX, rec_bytes = 0;
            bool bad[WAL_MAX_DIRS] = {false};
            for (size_t d = 0; d < w->n_dirs; d++) {
                if (!hdr_ok[d]) continue;
                size_t avail = copies[d].len > off ? copies[d].len - off : 0;
                if (avail == 0) {
                    snprintf(why[d], sizeof why[d], "end of file");
                    bad[d] = true;
                    continue;
                }
                size_t rb;
                uint64_t rs = 0;
                const char *r = wal__record_check(copies[d].p + off, avail, min_seq, &rb, &rs,
                                                  why[d], sizeof why[d]);
                if (!r && n_recs == 0 && rs != first_seq) {
                    snprintf(why[d], sizeof why[d], "first record has sequence %" PRIu64
                             ", the header says %" PRIu64, rs, first_seq);
                    r = why[d];
                }
                if (r) {
                    if (r != why[d]) snprintf(why[d], sizeof why[d], "%s", r);
                    bad[d] = true;
                } else if (src == SIZE_MAX) {
                    src = d;
                    rec_bytes = rb;
                    seq = rs;
                }
            }
            if (src == SIZE_MAX) {
                /* invariant (6): the end of this segment; say why if bytes remain */
                for (size_t d = 0; d < w->n_dirs; d++) {
                    if (!hdr_ok[d] || copies[d].len <= off) continue;
                    wal__path(w, d, name, path, sizeof path);
                    log_warn("wal", "%s: invalid record at offset %zu: %s; truncating the "
                             "segment there (%zu bytes dropped)", path, off, why[d],
                             copies[d].len - off);
                    if (st) st->truncated_segments++;
                }
                break;
            }
            for (size_t d = 0; d < w->n_dirs; d++) {
                if (!bad[d] || !hdr_ok[d]) continue;
                wal__path(w, d, name, path, sizeof path);
                log_warn("wal", "%s: record seq %" PRIu64 " at offset %zu is damaged or missing "
                         "(%s); using the copy in %s", path, seq, off, why[d], w->dirs[src]);
            }
            const uint8_t *rec = copies[src].p + off;
            if (src != first && !materialised) {
                buf_append(&merged, copies[first].p, off);
                materialised = true;
            }
            if (materialised) buf_append(&merged, rec, rec_bytes);
            if (seq <= w->persisted_seq) {
                /* persisted to Parquet already (the catalog's watermark): not applied */
                if (st) st->skipped_persisted++;
                if (seq > last_seq) last_seq = seq;
                any = true;
            } else if (any && seq <= last_seq) {
                /* a record rewritten after a failed sync (invariant 5) also in an earlier
                 * segment: replayed once */
                log_info("wal", "segment %s: record seq %" PRIu64 " was replayed already", name,
                         seq);
            } else {
                int ar = w->apply(w->apply_arg, seq, rec + WAL_FRAME_BYTES,
                                  rec_bytes - WAL_FRAME_BYTES);
                if (ar) log_error("wal", "segment %s: record seq %" PRIu64 " could not be applied: "
                                  "%s", name, seq, silt_strerror(ar));
                last_seq = seq;
                any = true;
            }
            n_recs++;
            if (st) {
                st->records++;
                st->bytes += rec_bytes;
            }
            off += rec_bytes;
            min_seq = seq + 1;
        }

        const uint8_t *mp = materialised ? merged.p : copies[first].p;
        size_t ml = off;
        /* invariant (7): bring every copy to the merged content */
        for (size_t d = 0; d < w->n_dirs; d++) {
            bool same = hdr_ok[d] && copies[d].len == ml &&
                        (d == first && !materialised ? true : memcmp(copies[d].p, mp, ml) == 0);
            if (same) continue;
            wal__path(w, d, name, path, sizeof path);
            if (!segs[s].present[d]) log_warn("wal", "%s: missing; restoring it from %s", path,
                                              w->dirs[first]);
            else if (copies[d].len != ml || !hdr_ok[d])
                log_info("wal", "%s: repairing to %zu bytes", path, ml);
            if ((rc = repair_copy(w, d, name, &copies[d], segs[s].present[d] && hdr_ok[d], mp,
                                  ml, err)))
                goto fail;
            if (st && (w->n_dirs > 1)) st->repaired_copies++;
        }
        if (n_recs && seq <= w->persisted_seq) {
            /* everything in it is persisted: sequence point 7 */
            if ((rc = wal__segment_remove(w, segs[s].id, err))) goto fail;
            if (st) st->removed_segments++;
            log_info("wal", "segment %s removed: all its records are persisted", name);
            continue;
        }
        if (n_recs) wal__note_closed(w, segs[s].id, seq);
        if (n_recs == 0) {
            /* a segment with no record: nothing to keep (its name would block a new one) */
            for (size_t d = 0; d < w->n_dirs; d++) {
                wal__path(w, d, name, path, sizeof path);
                if ((rc = w->v->unlink(w->v, path, err))) goto fail;
                if ((rc = w->v->sync_dir(w->v, w->dirs[d], err))) goto fail;
            }
            continue;
        }
        if (st) st->segments++;
    }
    if (st) st->last_seq = last_seq;
    w->next_seq = any ? last_seq + 1 : 1;
    rc = SILT_OK;
fail:
    for (size_t d = 0; d < WAL_MAX_DIRS; d++) buf_free(&copies[d]);
    buf_free(&merged);
    free(segs);
    return rc;
}
