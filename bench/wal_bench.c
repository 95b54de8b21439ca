/* SPDX-License-Identifier: MIT
 *
 * wal_bench: WAL replay speed. Encodes a line-protocol file into ingest batches of 5,000
 * lines (as the HTTP write path does), writes them durably to a WAL in a temporary
 * directory, then times wal_open()'s replay into a fresh buffer, --repeat times.
 * Prints the median replay rate in MB/s of WAL and rows/s, and the encode rate, with a
 * machine-readable RESULT line last.
 *
 * usage: wal_bench FILE [--repeat N] [--lines-per-batch N] [--dir TMPDIR]
 */
#include "buffer/buffer.h"
#include "ingest/ingest.h"
#include "schema/schema.h"
#include "wal/wal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int apply(void *arg, uint64_t seq, const uint8_t *p, size_t n) {
    return buffer_apply(arg, seq, p, n, NULL);
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: wal_bench FILE [--repeat N] [--lines-per-batch N] [--dir D]\n");
        return 2;
    }
    int repeat = 3;
    size_t per_batch = 5000;
    const char *base = "/tmp";
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--repeat")) repeat = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--lines-per-batch")) per_batch = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--dir")) base = argv[i + 1];
    }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    struct stat st;
    fstat(fd, &st);
    const char *data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (data == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/silt-wal-bench-XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    log_set_level(LOG_WARN);

    /* 1. encode and write */
    schema_limits lim = {0};
    schema *s = schema_create(&lim);
    buffer *b = buffer_create(s);
    wal_opts wo = {.n_dirs = 1, .apply = apply, .apply_arg = b};
    wo.dirs[0] = dir;
    wal *w;
    silt_err err = {0};
    if (wal_open(&wo, &w, NULL, &err)) {
        fprintf(stderr, "wal_open: %s\n", err.msg);
        return 1;
    }
    size_t off = 0, total = (size_t)st.st_size, n_batches = 0;
    uint64_t rows = 0, wal_bytes = 0;
    int64_t enc_ns = 0, t_all = time_mono_ns();
    while (off < total) {
        size_t end = off, lines = 0;
        while (end < total && lines < per_batch) {
            const char *nl = memchr(data + end, '\n', total - end);
            end = nl ? (size_t)(nl - data) + 1 : total;
            lines++;
        }
        ingest_batch ib;
        ingest_batch_init(&ib);
        ingest_opts io = {"bench", 5, LP_PREC_NS, time_now_ns(), true};
        int64_t t0 = time_mono_ns();
        ingest_build(s, &io, data + off, end - off, &ib, &err);
        enc_ns += time_mono_ns() - t0;
        if (ib.payload.len) {
            if (wal_write(w, ib.payload.p, ib.payload.len, ib.payload_crc, 0, NULL, &err)) {
                fprintf(stderr, "wal_write: %s\n", err.msg);
                return 1;
            }
            wal_bytes += ib.payload.len + 16;
        }
        rows += ib.n_rows;
        ingest_batch_fini(&ib);
        off = end;
        n_batches++;
    }
    double write_s = (double)(time_mono_ns() - t_all) / 1e9;
    wal_close(w);
    buffer_destroy(b);
    schema_destroy(s);
    printf("encoded %zu batches, %llu rows: %.1f MB of line protocol -> %.1f MB of WAL "
           "(%.2f bytes/row); encode %.0f MB/s of line protocol per core; written durably in "
           "%.2f s\n",
           n_batches, (unsigned long long)rows, (double)total / 1e6, (double)wal_bytes / 1e6,
           (double)wal_bytes / (double)rows, (double)total / 1e6 / ((double)enc_ns / 1e9), write_s);

    /* 2. replay */
    double *mbs = calloc((size_t)repeat, sizeof *mbs), *rps = calloc((size_t)repeat, sizeof *rps);
    for (int r = 0; r < repeat; r++) {
        s = schema_create(&lim);
        b = buffer_create(s);
        wo.apply_arg = b;
        wal_replay_stats rs;
        if (wal_open(&wo, &w, &rs, &err)) {
            fprintf(stderr, "wal_open: %s\n", err.msg);
            return 1;
        }
        double secs = (double)rs.elapsed_ns / 1e9;
        buffer_stats bs;
        buffer_get_stats(b, &bs);
        mbs[r] = (double)rs.bytes / 1e6 / secs;
        rps[r] = (double)bs.rows / secs;
        printf("replay %d: %llu records, %.1f MB, %llu rows in %.3f s: %.0f MB/s, %.0f rows/s\n",
               r + 1, (unsigned long long)rs.records, (double)rs.bytes / 1e6,
               (unsigned long long)bs.rows, secs, mbs[r], rps[r]);
        wal_close(w);
        buffer_destroy(b);
        schema_destroy(s);
    }
    qsort(mbs, (size_t)repeat, sizeof *mbs, cmp_d);
    qsort(rps, (size_t)repeat, sizeof *rps, cmp_d);
    printf("median replay: %.0f MB/s of WAL, %.0f rows/s (%.0f MB/s of equivalent line "
           "protocol)\n", mbs[repeat / 2], rps[repeat / 2],
           rps[repeat / 2] * ((double)total / (double)rows) / 1e6);
    printf("RESULT {\"replay_mb_per_s\":%.1f,\"replay_rows_per_s\":%.0f,\"wal_bytes_per_row\":%.2f,"
           "\"encode_lp_mb_per_s\":%.1f}\n", mbs[repeat / 2], rps[repeat / 2],
           (double)wal_bytes / (double)rows, (double)total / 1e6 / ((double)enc_ns / 1e9));
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) return 1;
    free(mbs);
    free(rps);
    return 0;
}
