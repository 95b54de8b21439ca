/* SPDX-License-Identifier: MIT
 *
 * WAL tests through the fault-injecting and crash-simulating file layers: round trip,
 * group commit, torn tail, flipped byte, fsync failure, ENOSPC, damaged and missing replicas,
 * and simulated power loss (every record acknowledged before the crash survives replay). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/vfs.h"
#include "wal/wal.h"
#include "wal/wal_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ helpers */

typedef struct rec {
    uint64_t seq;
    uint8_t *p;
    size_t n;
} rec;

typedef struct sink {
    pthread_mutex_t mu;
    rec *v;
    size_t n, cap;
} sink;

static int sink_apply(void *arg, uint64_t seq, const uint8_t *p, size_t n) {
    sink *s = arg;
    pthread_mutex_lock(&s->mu);
    XGROW(s->v, s->cap, s->n + 1);
    s->v[s->n].seq = seq;
    s->v[s->n].p = xmalloc(n);
    memcpy(s->v[s->n].p, p, n);
    s->v[s->n].n = n;
    s->n++;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static void sink_init(sink *s) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
}

static void sink_fini(sink *s) {
    for (size_t i = 0; i < s->n; i++) free(s->v[i].p);
    free(s->v);
    pthread_mutex_destroy(&s->mu);
}

static char *mktemp_dir(void) {
    char tmpl[] = "/tmp/silt-wal-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return xstrdup(d);
}

static void rm_rf(const char *dir) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Payload i: deterministic bytes, length 1..2000 */
static size_t payload_for(uint64_t i, uint8_t *out) {
    size_t n = 1 + (size_t)((i * 2654435761u) % 2000);
    for (size_t k = 0; k < n; k++) out[k] = (uint8_t)(i * 31 + k * 7);
    return n;
}

static wal *open_wal(const char **dirs, size_t n_dirs, vfs *v, sink *s, uint64_t seg_bytes,
                     wal_replay_stats *st) {
    wal_opts o = {.n_dirs = n_dirs, .segment_bytes = seg_bytes, .vfs = v, .apply = sink_apply,
                  .apply_arg = s};
    for (size_t i = 0; i < n_dirs; i++) o.dirs[i] = dirs[i];
    wal *w = NULL;
    silt_err err = {0};
    int rc = wal_open(&o, &w, st, &err);
    if (rc) fprintf(stderr, "wal_open: %s\n", err.msg);
    assert_int_equal(rc, SILT_OK);
    return w;
}

static int write_payload(wal *w, uint64_t i, uint64_t *seq) {
    uint8_t p[2048];
    size_t n = payload_for(i, p);
    return wal_write(w, p, n, crc32c(0, p, n), 0, seq, NULL);
}

static void check_payload(const rec *r, uint64_t i) {
    uint8_t p[2048];
    size_t n = payload_for(i, p);
    assert_int_equal(r->n, n);
    assert_memory_equal(r->p, p, n);
}

static char *seg_path(const char *dir, uint64_t seg_id) {
    char name[32];
    wal_segment_name(seg_id, name);
    char *p = xmalloc(strlen(dir) + 40);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static off_t file_size(const char *path) {
    struct stat st;
    if (stat(path, &st) < 0) return -1;
    return st.st_size;
}

/* Capture log output in a temp file for assertions on the exact log line. */
typedef struct logcap {
    char path[64];
    int fd;
} logcap;

static void logcap_start(logcap *c) {
    strcpy(c->path, "/tmp/silt-wal-log-XXXXXX");
    c->fd = mkstemp(c->path);
    assert_true(c->fd >= 0);
    log_set_fd(c->fd);
}

static bool logcap_has(logcap *c, const char *needle) {
    log_set_fd(2);
    buf b = {0};
    vfs_read_all(vfs_posix(), c->path, 1 << 24, &b, NULL);
    bool found = b.len && strstr(buf_cstr(&b), needle) != NULL;
    if (!found) fprintf(stderr, "log did not contain '%s':\n%s\n", needle, b.len ? buf_cstr(&b) : "");
    buf_free(&b);
    close(c->fd);
    unlink(c->path);
    return found;
}

/* ------------------------------------------------------------------ tests */

static void test_wal_roundtrip_and_restart(void **state) {
    (void)state;
    char *dir = mktemp_dir();
    const char *dirs[] = {dir};
    sink s;
    sink_init(&s);
    wal *w = open_wal(dirs, 1, NULL, &s, 0, NULL);
    for (uint64_t i = 1; i <= 300; i++) {
        uint64_t seq;
        assert_int_equal(write_payload(w, i, &seq), SILT_OK);
        assert_int_equal(seq, i);
    }
    assert_int_equal(s.n, 300); /* live writes are applied before wal_write returns */
    wal_close(w);
    sink_fini(&s);

    sink_init(&s);
    wal_replay_stats st;
    w = open_wal(dirs, 1, NULL, &s, 0, &st);
    assert_int_equal(s.n, 300);
    for (uint64_t i = 0; i < 300; i++) {
        assert_int_equal(s.v[i].seq, i + 1);
        check_payload(&s.v[i], i + 1);
    }
    assert_int_equal(st.last_seq, 300);
    assert_int_equal(st.truncated_segments, 0);
    /* writing continues above the replayed sequence, in a new segment (invariant 4) */
    uint64_t seq;
    assert_int_equal(write_payload(w, 301, &seq), SILT_OK);
    assert_int_equal(seq, 301);
    char *p = seg_path(dir, 2);
    assert_true(file_size(p) > 0);
    free(p);
    wal_close(w);
    sink_fini(&s);
    rm_rf(dir);
    free(dir);
}

typedef struct writer_arg {
    wal *w;
    uint64_t base, n;
    int failures;
} writer_arg;

static void *writer_thread(void *a) {
    writer_arg *wa = a;
    for (uint64_t i = 0; i < wa->n; i++)
        if (write_payload(wa->w, wa->base + i, NULL) != SILT_OK) wa->failures++;
    return NULL;
}

static void test_wal_group_commit_concurrent_writers(void **state) {
    (void)state;
    char *dir = mktemp_dir();
    const char *dirs[] = {dir};
    sink s;
    sink_init(&s);
    wal *w = open_wal(dirs, 1, NULL, &s, 256 * 1024, NULL);
    pthread_t th[8];
    writer_arg wa[8];
    for (int t = 0; t < 8; t++) {
        wa[t] = (writer_arg){w, (uint64_t)t * 100000 + 1, 200, 0};
        pthread_create(&th[t], NULL, writer_thread, &wa[t]);
    }
    for (int t = 0; t < 8; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(wa[t].failures, 0);
    }
    wal_stats ws;
    wal_get_stats(w, &ws);
    assert_int_equal(ws.records, 1600);
    /* group commit: fewer syncs than records (8 writers wait on each sync together) */
    assert_true(ws.groups < ws.records);
    assert_true(ws.segments_created > 1); /* 256 KiB segments rotate */
    wal_close(w);
    sink_fini(&s);
    sink_init(&s);
    w = open_wal(dirs, 1, NULL, &s, 256 * 1024, NULL);
    assert_int_equal(s.n, 1600);
    for (size_t i = 0; i < s.n; i++) assert_int_equal(s.v[i].seq, i + 1);
    wal_close(w);
    sink_fini(&s);
    rm_rf(dir);
    free(dir);
}

static void test_wal_torn_tail_is_truncated_and_logged(void **state) {
    (void)state;
    char *dir = mktemp_dir();
    const char *dirs[] = {dir};
    sink s;
    sink_init(&s);
    wal *w = open_wal(dirs, 1, NULL, &s, 0, NULL);
    for (uint64_t i = 1; i <= 10; i++) assert_int_equal(write_payload(w, i, NULL), SILT_OK);
    wal_close(w);
    sink_fini(&s);
    char *p = seg_path(dir, 1);
    off_t full = file_size(p);
    uint8_t last[2048];
    size_t last_n = payload_for(10, last);
    off_t end9 = full - (off_t)(16 + last_n);
    assert_int_equal(truncate(p, full - 5), 0); /* tear the last record */
    logcap lc;
    logcap_start(&lc);
    sink_init(&s);
    wal_replay_stats st;
    w = open_wal(dirs, 1, NULL, &s, 0, &st);
    char expect[128];
    snprintf(expect, sizeof expect, "invalid record at offset %lld: torn record", (long long)end9);
    assert_true(logcap_has(&lc, expect));
    assert_int_equal(s.n, 9);
    assert_int_equal(st.truncated_segments, 1);
    assert_int_equal(file_size(p), end9); /* truncated exactly at the end of record 9 */
    wal_close(w);
    sink_fini(&s);
    free(p);
    rm_rf(dir);
    free(dir);
}

static void flip_byte(const char *path, off_t off) {
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, off), 1);
    b ^= 0x40;
    assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

/* offset of record k (1-based) in a segment written with payload_for(1..) */
static off_t rec_offset(uint64_t k) {
    off_t off = WAL_HEADER_BYTES;
    uint8_t tmp[2048];
    for (uint64_t i = 1; i < k; i++) off += 16 + (off_t)payload_for(i, tmp);
    return off;
}

static void test_wal_flipped_byte_stops_replay_there(void **state) {
    (void)state;
    char *dir = mktemp_dir();
    const char *dirs[] = {dir};
    sink s;
    sink_init(&s);
    wal *w = open_wal(dirs, 1, NULL, &s, 0, NULL);
    for (uint64_t i = 1; i <= 20; i++) assert_int_equal(write_payload(w, i, NULL), SILT_OK);
    wal_close(w);
    sink_fini(&s);
    char *p = seg_path(dir, 1);
    flip_byte(p, rec_offset(12) + 16 + 3); /* a payload byte of record 12 */
    logcap lc;
    logcap_start(&lc);
    sink_init(&s);
    w = open_wal(dirs, 1, NULL, &s, 0, NULL);
    char expect[128];
    snprintf(expect, sizeof expect, "invalid record at offset %lld: checksum mismatch in record "
             "seq 12", (long long)rec_offset(12));
    assert_true(logcap_has(&lc, expect));
    assert_int_equal(s.n, 11);
    for (size_t i = 0; i < 11; i++) check_payload(&s.v[i], i + 1);
    assert_int_equal(file_size(p), rec_offset(12));
    wal_close(w);
    sink_fini(&s);
    free(p);
    rm_rf(dir);
    free(dir);
}

static void test_wal_fsync_failure_poisons_segment(void **state) {
    (void)state;
    char *dir = mktemp_dir();
    const char *dirs[] = {dir};
    vfs *fv = vfs_fault_create(vfs_posix());
    sink s;
    sink_init(&s);
    wal *w = open_wal(dirs, 1, fv, &s, 0, NULL);
    for (uint64_t i = 1; i <= 5; i++) assert_int_equal(write_payload(w, i, NULL), SILT_OK);
    unsigned syncs_before = vfs_fault_count(fv, VFS_OP_SYNC);
    vfs_fault_arm(fv, VFS_OP_SYNC, 1, EIO, false, ".wal");
    silt_err err = {0};
    uint8_t p[2048];
    size_t n = payload_for(6, p);
    int rc = wal_write(w, p, n, crc32c(0, p, n), 0, NULL, &err);
    assert_int_equal(rc, SILT_EIO); /* not acknowledged */
    assert_non_null(strstr(err.msg, "fdatasync"));
    size_t applied = s.n;
    assert_int_equal(applied, 5); /* a failed record is not applied */
    /* the writer continues in a fresh segment, never syncing the poisoned one again */
    uint64_t seq;
    assert_int_equal(write_payload(w, 7, &seq), SILT_OK);
    assert_int_equal(seq, 7);
    char *p7 = seg_path(dir, 2);
    assert_true(file_size(p7) > 0);
    free(p7);
    assert_true(vfs_fault_count(fv, VFS_OP_SYNC) > syncs_before);
    wal_stats ws;
    wal_get_stats(w, &ws);
    assert_int_equal(ws.failed_groups, 1);
    wal_close(w);
    sink_fini(&s);
    sink_init(&s);
    w = open_wal(dirs, 1, NULL, &s, 0, NULL);
    /* every acknowledged record is there: 1-5 and 7 */
    bool seen[8] = {false};
    for (size_t i = 0; i < s.n; i++) seen[s.v[i].seq] = true;
    for (int i = 1; i <= 5; i++) assert_true(seen[i]);
    assert_true(seen[7]);
    wal_close(w);
    sink_fini(&s);
    fv->destroy(fv);
    rm_rf(dir);
    free(dir);
}

static void test_wal_enospc_is_reported_and_recovers(void **state) {
    (void)state;
    char *dir = mktemp_dir();
    const char *dirs[] = {dir};
    vfs *fv = vfs_fault_create(vfs_posix());
    sink s;
    sink_init(&s);
    wal *w = open_wal(dirs, 1, fv, &s, 0, NULL);
    assert_int_equal(write_payload(w, 1, NULL), SILT_OK);
    /* the disk is full: record writes and new segments fail */
    vfs_fault_arm(fv, VFS_OP_WRITE, 1, ENOSPC, true, NULL);
    for (int k = 0; k < 3; k++) assert_int_equal(write_payload(w, 2, NULL), SILT_ENOSPC);
    vfs_fault_disarm(fv);
    uint64_t seq;
    assert_int_equal(write_payload(w, 3, &seq), SILT_OK);
    wal_close(w);
    sink_fini(&s);
    sink_init(&s);
    w = open_wal(dirs, 1, NULL, &s, 0, NULL);
    assert_int_equal(s.n, 2);
    check_payload(&s.v[0], 1);
    check_payload(&s.v[1], 3);
    assert_int_equal(s.v[1].seq, seq);
    wal_close(w);
    sink_fini(&s);
    fv->destroy(fv);
    rm_rf(dir);
    free(dir);
}

static bool files_equal(const char *a, const char *b) {
    buf x = {0}, y = {0};
    vfs_read_all(vfs_posix(), a, 1 << 26, &x, NULL);
    vfs_read_all(vfs_posix(), b, 1 << 26, &y, NULL);
    bool eq = x.len == y.len && memcmp(x.p, y.p, x.len) == 0;
    buf_free(&x);
    buf_free(&y);
    return eq;
}

static void test_wal_replica_damaged_record_taken_from_other_copy(void **state) {
    (void)state;
    char *a = mktemp_dir(), *b = mktemp_dir();
    const char *dirs[] = {a, b};
    sink s;
    sink_init(&s);
    wal *w = open_wal(dirs, 2, NULL, &s, 0, NULL);
    for (uint64_t i = 1; i <= 30; i++) assert_int_equal(write_payload(w, i, NULL), SILT_OK);
    wal_close(w);
    sink_fini(&s);
    char *pa = seg_path(a, 1), *pb = seg_path(b, 1);
    assert_true(files_equal(pa, pb)); /* replicas are byte-identical */
    flip_byte(pa, rec_offset(5) + 20);  /* damage record 5 in copy A */
    flip_byte(pb, rec_offset(17) + 20); /* and record 17 in copy B */
    logcap lc;
    logcap_start(&lc);
    sink_init(&s);
    wal_replay_stats st;
    w = open_wal(dirs, 2, NULL, &s, 0, &st);
    char expect[200];
    snprintf(expect, sizeof expect, "record seq 5 at offset %lld is damaged or missing",
             (long long)rec_offset(5));
    assert_true(logcap_has(&lc, expect));
    assert_int_equal(s.n, 30); /* nothing lost: each damaged record came from the other copy */
    for (size_t i = 0; i < 30; i++) check_payload(&s.v[i], i + 1);
    assert_true(st.repaired_copies >= 2);
    wal_close(w);
    assert_true(files_equal(pa, pb)); /* both copies repaired */
    sink_fini(&s);
    /* a second replay finds nothing to repair */
    sink_init(&s);
    w = open_wal(dirs, 2, NULL, &s, 0, &st);
    assert_int_equal(s.n, 30);
    assert_int_equal(st.repaired_copies, 0);
    wal_close(w);
    sink_fini(&s);
    free(pa);
    free(pb);
    rm_rf(a);
    rm_rf(b);
    free(a);
    free(b);
}

static void test_wal_replica_missing_segment_is_restored(void **state) {
    (void)state;
    char *a = mktemp_dir(), *b = mktemp_dir();
    const char *dirs[] = {a, b};
    sink s;
    sink_init(&s);
    wal *w = open_wal(dirs, 2, NULL, &s, 0, NULL);
    for (uint64_t i = 1; i <= 12; i++) assert_int_equal(write_payload(w, i, NULL), SILT_OK);
    wal_close(w);
    sink_fini(&s);
    char *pa = seg_path(a, 1), *pb = seg_path(b, 1);
    assert_int_equal(unlink(pb), 0);   /* copy B lost its segment */
    assert_int_equal(truncate(pa, file_size(pa) - 3), 0); /* and A has a torn tail */
    sink_init(&s);
    w = open_wal(dirs, 2, NULL, &s, 0, NULL);
    assert_int_equal(s.n, 11);
    wal_close(w);
    assert_true(file_size(pb) > 0);
    assert_true(files_equal(pa, pb));
    sink_fini(&s);
    free(pa);
    free(pb);
    rm_rf(a);
    rm_rf(b);
    free(a);
    free(b);
}

static void test_wal_replication_fails_write_if_one_replica_fails(void **state) {
    (void)state;
    char *a = mktemp_dir(), *b = mktemp_dir();
    const char *dirs[] = {a, b};
    vfs *fv = vfs_fault_create(vfs_posix());
    sink s;
    sink_init(&s);
    wal *w = open_wal(dirs, 2, fv, &s, 0, NULL);
    assert_int_equal(write_payload(w, 1, NULL), SILT_OK);
    vfs_fault_arm(fv, VFS_OP_SYNC, 1, EIO, false, b); /* only the second directory fails */
    assert_int_equal(write_payload(w, 2, NULL), SILT_EIO);
    assert_int_equal(write_payload(w, 3, NULL), SILT_OK);
    wal_close(w);
    sink_fini(&s);
    fv->destroy(fv);
    rm_rf(a);
    rm_rf(b);
    free(a);
    free(b);
}

static void test_wal_header_only_segment_is_removed(void **state) {
    (void)state;
    char *dir = mktemp_dir();
    const char *dirs[] = {dir};
    sink s;
    sink_init(&s);
    wal *w = open_wal(dirs, 1, NULL, &s, 0, NULL);
    for (uint64_t i = 1; i <= 3; i++) assert_int_equal(write_payload(w, i, NULL), SILT_OK);
    wal_close(w);
    sink_fini(&s);
    /* an interrupted segment creation: a few header bytes */
    char *p = seg_path(dir, 2);
    FILE *f = fopen(p, "w");
    fwrite("SILTW", 1, 5, f);
    fclose(f);
    sink_init(&s);
    w = open_wal(dirs, 1, NULL, &s, 0, NULL);
    assert_int_equal(s.n, 3);
    uint64_t seq;
    assert_int_equal(write_payload(w, 4, &seq), SILT_OK);
    assert_int_equal(seq, 4);
    wal_close(w);
    sink_fini(&s);
    free(p);
    rm_rf(dir);
    free(dir);
}

static void test_wal_no_sync_acks_before_sync(void **state) {
    (void)state;
    char *dir = mktemp_dir();
    const char *dirs[] = {dir};
    sink s;
    sink_init(&s);
    wal *w = open_wal(dirs, 1, NULL, &s, 0, NULL);
    for (uint64_t i = 1; i <= 50; i++) {
        uint8_t p[2048];
        size_t n = payload_for(i, p);
        assert_int_equal(wal_write(w, p, n, crc32c(0, p, n), WAL_NO_SYNC, NULL, NULL), SILT_OK);
    }
    wal_close(w); /* drains: every queued record is written and synced */
    assert_int_equal(s.n, 50);
    sink_fini(&s);
    sink_init(&s);
    w = open_wal(dirs, 1, NULL, &s, 0, NULL);
    assert_int_equal(s.n, 50);
    wal_close(w);
    sink_fini(&s);
    rm_rf(dir);
    free(dir);
}

/* Simulated power loss: at a random sync, unsynced writes are dropped, kept, torn or garbled
 * and the disk goes away. Every record acknowledged before that must be replayed, exactly
 * once, in order. */
typedef struct pl_writer {
    wal *w;
    uint64_t base, n;
    uint64_t *acked; /* payload ids acknowledged */
    size_t n_acked;
} pl_writer;

static void *pl_thread(void *a) {
    pl_writer *pw = a;
    for (uint64_t i = 0; i < pw->n; i++) {
        uint64_t id = pw->base + i;
        if (write_payload(pw->w, id, NULL) == SILT_OK) pw->acked[pw->n_acked++] = id;
    }
    return NULL;
}

static void test_wal_power_loss_keeps_every_acknowledged_record(void **state) {
    (void)state;
    uint64_t seed0 = (uint64_t)time_now_ns();
    const char *env = getenv("SILT_TEST_SEED");
    if (env) seed0 = strtoull(env, NULL, 10);
    int iterations = 150;
    log_set_level(LOG_ERROR); /* the crashes log a lot, by design */
    for (int it = 0; it < iterations; it++) {
        uint64_t seed = seed0 + (uint64_t)it;
        char *a = mktemp_dir(), *b = mktemp_dir();
        const char *dirs[] = {a, b};
        size_t n_dirs = 1 + (seed % 2);
        unsigned crash_at = 2 + (unsigned)(seed * 7919 % 60);
        vfs *cv = vfs_crash_create(vfs_posix(), seed, crash_at);
        sink s;
        sink_init(&s);
        wal *w = open_wal(dirs, n_dirs, cv, &s, 8 * 1024 /* rotate often */, NULL);
        int n_threads = 1 + (int)(seed % 3);
        pthread_t th[3];
        pl_writer pw[3];
        for (int t = 0; t < n_threads; t++) {
            pw[t] = (pl_writer){w, (uint64_t)t * 1000000 + 1, 120, xcalloc(120, 8), 0};
            pthread_create(&th[t], NULL, pl_thread, &pw[t]);
        }
        for (int t = 0; t < n_threads; t++) pthread_join(th[t], NULL);
        wal_close(w);
        sink_fini(&s);
        cv->destroy(cv);
        /* power back: replay the real files */
        sink_init(&s);
        w = open_wal(dirs, n_dirs, NULL, &s, 8 * 1024, NULL);
        for (int t = 0; t < n_threads; t++) {
            for (size_t k = 0; k < pw[t].n_acked; k++) {
                uint64_t id = pw[t].acked[k];
                uint8_t p[2048];
                size_t n = payload_for(id, p);
                size_t found = 0;
                for (size_t r = 0; r < s.n; r++)
                    if (s.v[r].n == n && memcmp(s.v[r].p, p, n) == 0) found++;
                if (found != 1)
                    fail_msg("seed %llu (iteration %d, crash at sync %u, %zu dirs, %d threads): "
                             "acknowledged record %llu found %zu times after replay",
                             (unsigned long long)seed, it, crash_at, n_dirs, n_threads,
                             (unsigned long long)id, found);
            }
            free(pw[t].acked);
        }
        for (size_t r = 1; r < s.n; r++) assert_true(s.v[r].seq > s.v[r - 1].seq);
        wal_close(w);
        sink_fini(&s);
        rm_rf(a);
        rm_rf(b);
        free(a);
        free(b);
    }
    log_set_level(LOG_INFO);
}

static void test_wal_no_sync_is_applied_before_the_ack(void **state) {
    (void)state;
    char *dir = mktemp_dir();
    const char *dirs[] = {dir};
    sink s;
    sink_init(&s);
    wal *w = open_wal(dirs, 1, NULL, &s, 0, NULL);
    for (uint64_t i = 1; i <= 30; i++) {
        uint8_t p[2048];
        size_t n = payload_for(i, p);
        assert_int_equal(wal_write(w, p, n, crc32c(0, p, n), WAL_NO_SYNC, NULL, NULL), SILT_OK);
        pthread_mutex_lock(&s.mu);
        size_t applied = s.n;
        pthread_mutex_unlock(&s.mu);
        assert_int_equal(applied, i); /* queryable when acknowledged */
    }
    wal_close(w);
    sink_fini(&s);
    rm_rf(dir);
    free(dir);
}

static void test_wal_acked_no_sync_survives_a_failed_sync(void **state) {
    (void)state;
    char *dir = mktemp_dir();
    const char *dirs[] = {dir};
    vfs *fv = vfs_fault_create(vfs_posix());
    sink s;
    sink_init(&s);
    wal *w = open_wal(dirs, 1, fv, &s, 0, NULL);
    assert_int_equal(write_payload(w, 1, NULL), SILT_OK);
    vfs_fault_arm(fv, VFS_OP_SYNC, 1, EIO, false, ".wal");
    uint8_t p[2048];
    size_t n = payload_for(2, p);
    /* acknowledged before the sync, which then fails: the record must not be lost */
    assert_int_equal(wal_write(w, p, n, crc32c(0, p, n), WAL_NO_SYNC, NULL, NULL), SILT_OK);
    /* the next write rewrites it from memory into a new segment, ahead of itself */
    assert_int_equal(write_payload(w, 3, NULL), SILT_OK);
    wal_close(w);
    sink_fini(&s);
    /* truncating the poisoned segment to its last synced record proves the copy came from
     * the rewrite, not from the page cache */
    char *p1 = seg_path(dir, 1);
    assert_int_equal(truncate(p1, rec_offset(2)), 0);
    sink_init(&s);
    w = open_wal(dirs, 1, NULL, &s, 0, NULL);
    assert_int_equal(s.n, 3);
    for (size_t i = 0; i < 3; i++) check_payload(&s.v[i], i + 1);
    wal_close(w);
    sink_fini(&s);
    /* and with the poisoned copy intact too, the record is replayed exactly once */
    free(p1);
    fv->destroy(fv);
    rm_rf(dir);
    free(dir);
}

static void test_wal_directory_is_locked(void **state) {
    (void)state;
    char *dir = mktemp_dir();
    const char *dirs[] = {dir};
    sink s;
    sink_init(&s);
    wal *w = open_wal(dirs, 1, NULL, &s, 0, NULL);
    wal_opts o = {.n_dirs = 1, .apply = sink_apply, .apply_arg = &s};
    o.dirs[0] = dir;
    wal *w2 = NULL;
    silt_err err = {0};
    assert_int_equal(wal_open(&o, &w2, NULL, &err), SILT_EBUSY);
    assert_non_null(strstr(err.msg, "in use by another silt process"));
    wal_close(w);
    assert_int_equal(wal_open(&o, &w2, NULL, &err), SILT_OK); /* released on close */
    wal_close(w2);
    sink_fini(&s);
    rm_rf(dir);
    free(dir);
}

static size_t count_segments(const char *dir) {
    char **names;
    size_t n, cnt = 0;
    assert_int_equal(vfs_posix()->list(vfs_posix(), dir, &names, &n, NULL), SILT_OK);
    for (size_t i = 0; i < n; i++) cnt += strstr(names[i], ".wal") != NULL;
    vfs_names_free(names, n);
    return cnt;
}

static void test_wal_remove_through_persisted_segments(void **state) {
    (void)state;
    char *a = mktemp_dir(), *b = mktemp_dir();
    const char *dirs[] = {a, b};
    sink s;
    sink_init(&s);
    wal *w = open_wal(dirs, 2, NULL, &s, 4 * 1024, NULL); /* small segments */
    for (uint64_t i = 1; i <= 40; i++) assert_int_equal(write_payload(w, i, NULL), SILT_OK);
    size_t before = count_segments(a);
    assert_true(before >= 4);
    /* persisted through 20: every segment wholly at or below it goes, in both directories */
    assert_int_equal(wal_remove_through(w, 20, NULL), SILT_OK);
    size_t mid = count_segments(a);
    assert_true(mid < before);
    assert_int_equal(count_segments(b), mid);
    wal_close(w);
    sink_fini(&s);
    /* replay with the watermark: records at or below 20 are not applied; the rest are */
    sink_init(&s);
    wal_opts o = {.n_dirs = 2, .segment_bytes = 4 * 1024, .apply = sink_apply, .apply_arg = &s,
                  .persisted_seq = 20};
    o.dirs[0] = a;
    o.dirs[1] = b;
    wal_replay_stats st;
    assert_int_equal(wal_open(&o, &w, &st, NULL), SILT_OK);
    assert_int_equal(s.n, 20);
    for (size_t i = 0; i < 20; i++) {
        assert_int_equal(s.v[i].seq, 21 + i);
        check_payload(&s.v[i], 21 + i);
    }
    /* everything persisted: the WAL ends up empty, the current segment included */
    assert_int_equal(write_payload(w, 41, NULL), SILT_OK);
    assert_int_equal(wal_remove_through(w, wal_last_seq(w), NULL), SILT_OK);
    assert_int_equal(count_segments(a), 0);
    assert_int_equal(count_segments(b), 0);
    /* and writing goes on in a new segment, above the watermark */
    uint64_t seq;
    assert_int_equal(write_payload(w, 42, &seq), SILT_OK);
    assert_int_equal(seq, 42);
    assert_int_equal(count_segments(a), 1);
    wal_close(w);
    sink_fini(&s);
    /* a WAL whose segments were all removed starts above the watermark it is given */
    sink_init(&s);
    o.persisted_seq = 42;
    o.min_next_seq = 43;
    assert_int_equal(wal_open(&o, &w, &st, NULL), SILT_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(st.removed_segments, 1);
    assert_int_equal(write_payload(w, 43, &seq), SILT_OK);
    assert_int_equal(seq, 43);
    wal_close(w);
    sink_fini(&s);
    rm_rf(a);
    rm_rf(b);
    free(a);
    free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wal_roundtrip_and_restart),
        cmocka_unit_test(test_wal_group_commit_concurrent_writers),
        cmocka_unit_test(test_wal_torn_tail_is_truncated_and_logged),
        cmocka_unit_test(test_wal_flipped_byte_stops_replay_there),
        cmocka_unit_test(test_wal_fsync_failure_poisons_segment),
        cmocka_unit_test(test_wal_enospc_is_reported_and_recovers),
        cmocka_unit_test(test_wal_replica_damaged_record_taken_from_other_copy),
        cmocka_unit_test(test_wal_replica_missing_segment_is_restored),
        cmocka_unit_test(test_wal_replication_fails_write_if_one_replica_fails),
        cmocka_unit_test(test_wal_header_only_segment_is_removed),
        cmocka_unit_test(test_wal_no_sync_acks_before_sync),
        cmocka_unit_test(test_wal_no_sync_is_applied_before_the_ack),
        cmocka_unit_test(test_wal_acked_no_sync_survives_a_failed_sync),
        cmocka_unit_test(test_wal_directory_is_locked),
        cmocka_unit_test(test_wal_remove_through_persisted_segments),
        cmocka_unit_test(test_wal_power_loss_keeps_every_acknowledged_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
