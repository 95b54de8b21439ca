/* SPDX-License-Identifier: MIT
 *
 * Fuzz target: WAL replay and the payload decoder behind it. The first input byte picks a
 * mode:
 *   0  the rest is a sequence of (u16 length, payload) chunks that the harness frames as valid
 *      records (correct CRCs and sequence numbers), so the fuzzer explores ingest payload
 *      decoding and buffer_apply through a real replay;
 *   1  the rest is a raw segment file (header and framing as found on disk);
 *   2  like 0, written to two replica directories, then a few bytes of each copy are
 *      overwritten at input-chosen offsets: exercises the record-by-record merge and repair.
 * Invariants checked: wal_open never crashes; replay of the repaired files is stable (a
 * second open replays the same number of records and repairs nothing). */
#include "buffer/buffer.h"
#include "wal/wal.h"
#include "wal/wal_int.h"

#include "util/vfs.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char base[64];

static int apply(void *arg, uint64_t seq, const uint8_t *p, size_t n) {
    return buffer_apply(arg, seq, p, n, NULL);
}

static void write_file(const char *path, const uint8_t *p, size_t n) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) abort();
    if (n && write(fd, p, n) != (ssize_t)n) abort();
    close(fd);
}

static uint64_t replay(const char **dirs, size_t n_dirs, wal_replay_stats *st) {
    schema_limits lim = {0};
    schema *s = schema_create(&lim);
    buffer *b = buffer_create(s);
    wal_opts o = {.n_dirs = n_dirs, .apply = apply, .apply_arg = b};
    for (size_t i = 0; i < n_dirs; i++) o.dirs[i] = dirs[i];
    wal *w = NULL;
    uint64_t recs = UINT64_MAX;
    if (wal_open(&o, &w, st, NULL) == SILT_OK) {
        recs = st->records;
        wal_close(w);
    }
    buffer_destroy(b);
    schema_destroy(s);
    return recs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!base[0]) {
        snprintf(base, sizeof base, "/dev/shm/silt-walfuzz-%d", (int)getpid());
        log_set_level(LOG_ERROR + 0);
        log_set_fd(open("/dev/null", O_WRONLY));
    }
    if (size < 1) return 0;
    char d1[96], d2[96], path[160];
    snprintf(d1, sizeof d1, "%s/a", base);
    snprintf(d2, sizeof d2, "%s/b", base);
    vfs *v = vfs_posix();
    const char *both[2] = {d1, d2};
    for (int k = 0; k < 2; k++) { /* empty both directories */
        char **names;
        size_t nn;
        v->mkdirs(v, both[k], NULL);
        if (v->list(v, both[k], &names, &nn, NULL) == SILT_OK) {
            for (size_t i = 0; i < nn; i++) {
                snprintf(path, sizeof path, "%s/%s", both[k], names[i]);
                unlink(path);
            }
            vfs_names_free(names, nn);
        }
    }
    int mode = data[0] % 3;
    buf seg = {0};
    if (mode == 1) {
        buf_append(&seg, data + 1, size - 1);
    } else {
        uint8_t hdr[WAL_HEADER_BYTES];
        wal__header_encode(hdr, 1, 1, 0);
        buf_append(&seg, hdr, sizeof hdr);
        size_t i = 1;
        uint64_t seq = 1;
        size_t stop = mode == 2 && size > 9 ? size - 8 : size;
        while (i + 2 <= stop) {
            size_t n = (size_t)data[i] | ((size_t)data[i + 1] << 8);
            i += 2;
            if (n > stop - i) n = stop - i;
            if (n == 0) continue;
            uint8_t fr[WAL_FRAME_BYTES];
            wal__frame_encode(fr, (uint32_t)n, crc32c(0, data + i, n), seq++);
            buf_append(&seg, fr, sizeof fr);
            buf_append(&seg, data + i, n);
            i += n;
        }
    }
    snprintf(path, sizeof path, "%s/00000000000000000001.wal", d1);
    write_file(path, seg.p, seg.len);
    const char *dirs[2] = {d1, d2};
    size_t n_dirs = 1;
    if (mode == 2) {
        n_dirs = 2;
        buf other = {0};
        buf_append(&other, seg.p, seg.len);
        if (size > 9 && seg.len) {
            /* damage each copy at offsets chosen by the last 8 input bytes */
            const uint8_t *t = data + size - 8;
            for (int k = 0; k < 2; k++) {
                size_t off1 = ((size_t)t[k * 2] << 8 | t[k * 2 + 1]) % seg.len;
                seg.p[off1] ^= 0x5a;
                size_t off2 = ((size_t)t[4 + k * 2] << 8 | t[5 + k * 2]) % other.len;
                other.p[off2] ^= 0xa5;
            }
        }
        write_file(path, seg.p, seg.len);
        snprintf(path, sizeof path, "%s/00000000000000000001.wal", d2);
        write_file(path, other.p, other.len);
        buf_free(&other);
    }
    buf_free(&seg);
    wal_replay_stats st1 = {0}, st2 = {0};
    uint64_t r1 = replay(dirs, n_dirs, &st1);
    uint64_t r2 = replay(dirs, n_dirs, &st2);
    /* replay repaired and truncated what it had to: a second replay agrees and fixes nothing */
    if (r1 != UINT64_MAX && (r1 != r2 || st2.truncated_segments || st2.repaired_copies)) abort();
    return 0;
}
