/* SPDX-License-Identifier: MIT
 *
 * lp_bench: line protocol parser throughput on one thread.
 *
 *   lp_bench FILE [--repeat N] [--precision P]
 *
 * Reads FILE into memory, parses it N times (default 5) with LP_PREC_NS (or P), touches
 * every value (floats and integers are summed, string and tag lengths counted, so nothing
 * is optimised away) and prints the median MB/s, lines/s and ns/line of wall time, and the
 * median MB/s of this thread's CPU time (steadier on a busy machine). The last line is
 * machine-readable:
 *   RESULT {"mb_per_s":..,"lines_per_s":..,"ns_per_line":..,"cpu_mb_per_s":..,"bad_lines":..}
 * MB is 10^6 bytes of input.
 */
#include "lp/lp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct run_stats {
    uint64_t lines, bad;
    double fsum;
    uint64_t touch;
} run_stats;

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static double median_s(int64_t *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    if (n % 2) return (double)v[n / 2] / 1e9;
    return ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2e9;
}

static void parse_once(const char *data, size_t n, lp_precision prec, run_stats *st) {
    lp_parser ps;
    lp_line line;
    lp_error err;
    lp_parser_init(&ps, data, n, prec, 0);
    int rc;
    while ((rc = lp_next(&ps, &line, &err)) != LP_END) {
        if (rc == LP_BAD) {
            if (st->bad < 3)
                fprintf(stderr, "bad line %u col %u: %s\n", err.line_no, err.column, err.reason);
            st->bad++;
            continue;
        }
        st->lines++;
        st->touch += line.measurement.n + (uint64_t)line.time_ns;
        for (uint32_t i = 0; i < line.n_tags; i++) st->touch += line.tags[i].val.n;
        for (uint32_t i = 0; i < line.n_fields; i++) {
            const lp_field *f = &line.fields[i];
            switch (f->type) {
                case LP_FLOAT:
                    st->fsum += f->v.f;
                    break;
                case LP_INT:
                    st->touch += (uint64_t)f->v.i;
                    break;
                case LP_UINT:
                    st->touch += f->v.u;
                    break;
                case LP_BOOL:
                    st->touch += f->v.b;
                    break;
                case LP_STRING:
                    st->touch += f->str.n;
                    break;
            }
        }
    }
    lp_parser_fini(&ps);
}

int main(int argc, char **argv) {
    const char *path = NULL;
    int repeat = 5;
    lp_precision prec = LP_PREC_NS;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            repeat = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--precision") == 0 && i + 1 < argc) {
            if (lp_precision_parse(argv[++i], LP_PREC_NS, &prec) != SILT_OK) {
                fprintf(stderr, "lp_bench: bad precision %s\n", argv[i]);
                return 2;
            }
        } else if (!path && argv[i][0] != '-') {
            path = argv[i];
        } else {
            fprintf(stderr, "usage: lp_bench FILE [--repeat N] [--precision P]\n");
            return 2;
        }
    }
    if (!path || repeat < 1) {
        fprintf(stderr, "usage: lp_bench FILE [--repeat N] [--precision P]\n");
        return 2;
    }
    int fd = open(path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        fprintf(stderr, "lp_bench: %s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t n = (size_t)sb.st_size;
    char *data = xmalloc(n ? n : 1);
    for (size_t off = 0; off < n;) {
        ssize_t r = read(fd, data + off, n - off);
        if (r <= 0) {
            fprintf(stderr, "lp_bench: read %s: %s\n", path, r ? strerror(errno) : "short read");
            return 1;
        }
        off += (size_t)r;
    }
    close(fd);

    int64_t *ns = xcalloc((size_t)repeat, sizeof *ns);
    int64_t *cpu = xcalloc((size_t)repeat, sizeof *cpu);
    run_stats st = {0};
    for (int r = 0; r < repeat; r++) {
        run_stats one = {0};
        int64_t t0 = time_mono_ns(), c0 = thread_cpu_ns();
        parse_once(data, n, prec, &one);
        ns[r] = time_mono_ns() - t0;
        cpu[r] = thread_cpu_ns() - c0;
        st = one;
        printf("run %d: %.1f MB/s (%.3f s wall, %.3f s cpu)\n", r + 1,
               (double)n / 1e6 / ((double)ns[r] / 1e9), (double)ns[r] / 1e9, (double)cpu[r] / 1e9);
    }
    double med_s = median_s(ns, repeat), cpu_s = median_s(cpu, repeat);
    double mbs = (double)n / 1e6 / med_s, cpu_mbs = (double)n / 1e6 / cpu_s;
    double lps = (double)(st.lines + st.bad) / med_s;
    double nspl = med_s * 1e9 / (double)(st.lines + st.bad ? st.lines + st.bad : 1);
    printf("file %s: %zu bytes, %llu lines (%llu bad), checksum %.6g/%llu\n", path, n,
           (unsigned long long)(st.lines + st.bad), (unsigned long long)st.bad, st.fsum,
           (unsigned long long)st.touch);
    printf("median of %d: %.1f MB/s, %.0f lines/s, %.1f ns/line (wall); %.1f MB/s (thread cpu)\n",
           repeat, mbs, lps, nspl, cpu_mbs);
    printf("RESULT {\"mb_per_s\":%.1f,\"lines_per_s\":%.0f,\"ns_per_line\":%.1f,"
           "\"cpu_mb_per_s\":%.1f,\"bad_lines\":%llu}\n",
           mbs, lps, nspl, cpu_mbs, (unsigned long long)st.bad);
    free(cpu);
    free(ns);
    free(data);
    return 0;
}
