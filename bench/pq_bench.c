/* SPDX-License-Identifier: MIT
 *
 * pq_bench FILE.lp [--levels 1,3,...] [--codec zstd|snappy|none] [--v2] [--page-bytes N]
 *                  [--page-rows N] [--row-group-rows N] [--out OUT.parquet] [--reps N]
 *                  [--series] [--tail-rows N]
 *
 * Parquet writer/reader throughput and size on a line-protocol file (the TSBS cpu-only day:
 * 864,000 rows, 10 tags, 10 float fields, 8,640,000 field values). The file is parsed into
 * columns (the data set is regular: one measurement, the same tag and field keys on every
 * line), rows are sorted by the tags in column order then time (as the persister does), and
 * one Parquet file is written per ZSTD level with default options otherwise. Reported:
 * write time, rows/s, MB/s of output, file size, bytes per field value (file size / number of
 * field values) and per column, then read time decoding every column of every row group, and
 * a bit-exact comparison of what was read with what was written.
 */
#include "parquet/parquet.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_COLS 64

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *m) {
    fprintf(stderr, "pq_bench: %s\n", m);
    exit(1);
}

typedef struct data {
    size_t n, cap;
    size_t n_tags, n_fields;
    str_view tag_keys[MAX_COLS], field_keys[MAX_COLS];
    str_view *tags[MAX_COLS];
    double *fields[MAX_COLS];
    int64_t *time;
} data;

/* Split "k=v" at '='. */
static void kv_split(const char *p, const char *e, str_view *k, str_view *v) {
    const char *eq = memchr(p, '=', (size_t)(e - p));
    if (!eq) die("malformed key=value");
    *k = (str_view){p, (size_t)(eq - p)};
    *v = (str_view){eq + 1, (size_t)(e - eq - 1)};
}

static void parse(const char *p, size_t len, data *d) {
    const char *end = p + len;
    bool first = true;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        if (nl == p) {
            p++;
            continue;
        }
        const char *sp1 = memchr(p, ' ', (size_t)(nl - p));
        if (!sp1) die("no space");
        const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(nl - sp1 - 1));
        if (!sp2) die("no timestamp");
        if (d->n == d->cap) {
            d->cap = d->cap ? d->cap * 2 : 1 << 16;
            for (size_t i = 0; i < MAX_COLS; i++) {
                if (first || i < d->n_tags)
                    d->tags[i] = realloc(d->tags[i], d->cap * sizeof(str_view));
                if (first || i < d->n_fields) d->fields[i] = realloc(d->fields[i], d->cap * 8);
            }
            d->time = realloc(d->time, d->cap * 8);
        }
        /* tags: measurement,k=v,k=v */
        const char *q = memchr(p, ',', (size_t)(sp1 - p));
        size_t t = 0;
        while (q && q < sp1) {
            const char *c = memchr(q + 1, ',', (size_t)(sp1 - q - 1));
            const char *e = c ? c : sp1;
            str_view k, v;
            kv_split(q + 1, e, &k, &v);
            if (first)
                d->tag_keys[d->n_tags++] = k;
            else if (t >= d->n_tags || !sv_eq(k, d->tag_keys[t]))
                die("irregular tags");
            d->tags[t++][d->n] = v;
            q = c;
        }
        if (t != d->n_tags) die("irregular tag count");
        /* fields */
        const char *f = sp1 + 1;
        size_t fi = 0;
        while (f < sp2) {
            const char *c = memchr(f, ',', (size_t)(sp2 - f));
            const char *e = c ? c : sp2;
            str_view k, v;
            kv_split(f, e, &k, &v);
            if (first)
                d->field_keys[d->n_fields++] = k;
            else if (fi >= d->n_fields || !sv_eq(k, d->field_keys[fi]))
                die("irregular fields");
            d->fields[fi++][d->n] = strtod(v.p, NULL);
            f = e + 1;
        }
        if (fi != d->n_fields) die("irregular field count");
        d->time[d->n] = strtoll(sp2 + 1, NULL, 10);
        d->n++;
        first = false;
        p = nl + 1;
    }
}

static const data *g_d;

static int series_cmp(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    for (size_t t = 0; t < g_d->n_tags; t++) {
        int c = sv_cmp(g_d->tags[t][x], g_d->tags[t][y]);
        if (c) return c;
    }
    return 0;
}

/* Point every value of a tag column at one shared copy of its text. */
static void intern_column(str_view *v, size_t n) {
    size_t cap = 1024, used = 0;
    str_view *tab = calloc(cap, sizeof *tab);
    for (size_t i = 0; i < n; i++) {
        if (used * 2 >= cap) {
            size_t nc = cap * 2;
            str_view *nt = calloc(nc, sizeof *nt);
            for (size_t k = 0; k < cap; k++) {
                if (!tab[k].p) continue;
                size_t j = hash64(tab[k].p, tab[k].n) & (nc - 1);
                while (nt[j].p) j = (j + 1) & (nc - 1);
                nt[j] = tab[k];
            }
            free(tab);
            tab = nt, cap = nc;
        }
        size_t j = hash64(v[i].p, v[i].n) & (cap - 1);
        for (;;) {
            if (!tab[j].p) {
                tab[j] = (str_view){strndup(v[i].p, v[i].n), v[i].n};
                used++;
                break;
            }
            if (sv_eq(tab[j], v[i])) break;
            j = (j + 1) & (cap - 1);
        }
        v[i] = tab[j];
    }
    free(tab);
}

typedef struct sort_key {
    uint32_t rank, idx;
    int64_t time;
} sort_key;

static int key_cmp(const void *a, const void *b) {
    const sort_key *x = a, *y = b;
    if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
    return x->time < y->time ? -1 : x->time > y->time;
}

/* Sort by tags in column order then time: number the distinct tag sets (hashing each row's
 * tag text), rank them by their tags, then sort rows by (rank, time). */
static uint32_t *sort_rows(const data *d) {
    g_d = d;
    size_t n = d->n, cap = 1024, n_series = 0;
    uint64_t *hs = calloc(cap, sizeof *hs);
    uint32_t *hv = calloc(cap, sizeof *hv);
    uint32_t *rep = malloc(n * sizeof *rep); /* representative row of each series */
    uint32_t *sid = malloc(n * sizeof *sid);
    for (size_t i = 0; i < n; i++) {
        uint64_t h = 0x9e3779b97f4a7c15ULL;
        for (size_t t = 0; t < d->n_tags; t++) h = hash64_seed(d->tags[t][i].p, d->tags[t][i].n, h);
        h |= 1;
        if (n_series * 2 >= cap) { /* grow and rehash */
            size_t nc = cap * 2;
            uint64_t *nh = calloc(nc, sizeof *nh);
            uint32_t *nv = calloc(nc, sizeof *nv);
            for (size_t k = 0; k < cap; k++) {
                if (!hs[k]) continue;
                size_t j = hs[k] & (nc - 1);
                while (nh[j]) j = (j + 1) & (nc - 1);
                nh[j] = hs[k], nv[j] = hv[k];
            }
            free(hs), free(hv);
            hs = nh, hv = nv, cap = nc;
        }
        size_t j = h & (cap - 1);
        for (;;) {
            if (!hs[j]) {
                hs[j] = h;
                hv[j] = (uint32_t)n_series;
                rep[n_series++] = (uint32_t)i;
                break;
            }
            uint32_t r = rep[hv[j]];
            if (hs[j] == h && series_cmp(&r, &(uint32_t){(uint32_t)i}) == 0) break;
            j = (j + 1) & (cap - 1);
        }
        sid[i] = hv[j];
    }
    uint32_t *by_tags = malloc(n_series * sizeof *by_tags);
    memcpy(by_tags, rep, n_series * sizeof *by_tags);
    qsort(by_tags, n_series, sizeof *by_tags, series_cmp);
    uint32_t *rank_of_row_rep = calloc(n, sizeof *rank_of_row_rep);
    for (size_t k = 0; k < n_series; k++) rank_of_row_rep[by_tags[k]] = (uint32_t)k;
    sort_key *keys = malloc(n * sizeof *keys);
    for (size_t i = 0; i < n; i++)
        keys[i] = (sort_key){rank_of_row_rep[rep[sid[i]]], (uint32_t)i, d->time[i]};
    qsort(keys, n, sizeof *keys, key_cmp);
    uint32_t *order = malloc(n * sizeof *order);
    for (size_t i = 0; i < n; i++) order[i] = keys[i].idx;
    free(hs), free(hv), free(rep), free(sid), free(by_tags), free(rank_of_row_rep), free(keys);
    return order;
}

int main(int argc, char **argv) {
    const char *path = NULL, *outp = NULL;
    char levels_s[256] = "3";
    pq_writer_opts o;
    pq_writer_opts_init(&o);
    int reps = 1;
    bool series = false; /* series-aligned pages, as the persister writes them */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--levels") && v)
            snprintf(levels_s, sizeof levels_s, "%s", v), i++;
        else if (!strcmp(a, "--codec") && v) {
            o.codec = !strcmp(v, "snappy") ? PQ_SNAPPY
                      : !strcmp(v, "none") ? PQ_UNCOMPRESSED
                                           : PQ_ZSTD;
            i++;
        } else if (!strcmp(a, "--v2"))
            o.data_page_v2 = true;
        else if (!strcmp(a, "--page-bytes") && v)
            o.page_bytes = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--page-rows") && v)
            o.page_rows = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--series"))
            series = true;
        else if (!strcmp(a, "--tail-rows") && v)
            o.tail_rows = strtoull(v, NULL, 10), series = true, i++;
        else if (!strcmp(a, "--row-group-rows") && v)
            o.row_group_rows = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--out") && v)
            outp = v, i++;
        else if (!strcmp(a, "--reps") && v)
            reps = atoi(v), i++;
        else if (a[0] != '-' && !path)
            path = a;
        else
            die("usage: pq_bench FILE.lp [--levels 1,3] [--codec zstd|snappy|none] [--v2] "
                "[--page-bytes N] [--page-rows N] [--row-group-rows N] [--out F] [--reps N] "
                "[--series] [--tail-rows N]");
    }
    if (!path) path = "/tmp/silt-bench/data/cpu_h100_1d_s123_t1451606400.lp";
    int fd = open(path, O_RDONLY);
    if (fd < 0) die("cannot open input");
    struct stat st;
    fstat(fd, &st);
    const char *lp = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (lp == MAP_FAILED) die("mmap");
    data d;
    memset(&d, 0, sizeof d);
    double t0 = now_s();
    parse(lp, (size_t)st.st_size, &d);
    double t1 = now_s();
    /* tags as silt's buffer holds them: one copy of each distinct value per column */
    for (size_t t = 0; t < d.n_tags; t++) intern_column(d.tags[t], d.n);
    uint32_t *order = sort_rows(&d);
    double t2 = now_s();
    size_t n = d.n, nt = d.n_tags, nf = d.n_fields, nc = nt + 1 + nf;
    if (series) o.series_cols = nt;
    uint64_t n_values = (uint64_t)n * nf;
    printf(
        "input %s: %zu rows, %zu tags, %zu fields, %llu field values; parse %.2f s, sort %.2f s\n",
        path, n, nt, nf, (unsigned long long)n_values, t1 - t0, t2 - t1);

    /* columns in sorted order: tags (dictionary), time, fields */
    pq_column_def defs[MAX_COLS * 2 + 1];
    pq_vec vecs[MAX_COLS * 2 + 1];
    memset(vecs, 0, sizeof vecs);
    char *names[MAX_COLS * 2 + 1];
    for (size_t t = 0; t < nt; t++) {
        names[t] = strndup(d.tag_keys[t].p, d.tag_keys[t].n);
        defs[t] = (pq_column_def){names[t], PQ_STRING, true, true};
        str_view *s = malloc(n * sizeof *s);
        for (size_t i = 0; i < n; i++) s[i] = d.tags[t][order[i]];
        vecs[t].str = s;
    }
    defs[nt] = (pq_column_def){"time", PQ_TIMESTAMP_NS, false, false};
    int64_t *tm = malloc(n * 8);
    for (size_t i = 0; i < n; i++) tm[i] = d.time[order[i]];
    vecs[nt].i64 = tm;
    names[nt] = NULL;
    for (size_t f = 0; f < nf; f++) {
        names[nt + 1 + f] = strndup(d.field_keys[f].p, d.field_keys[f].n);
        defs[nt + 1 + f] = (pq_column_def){names[nt + 1 + f], PQ_DOUBLE, true, false};
        double *x = malloc(n * 8);
        for (size_t i = 0; i < n; i++) x[i] = d.fields[f][order[i]];
        vecs[nt + 1 + f].f64 = x;
    }

    char *lv = levels_s;
    for (;;) {
        int level = atoi(lv);
        o.zstd_level = level;
        buf out = {0};
        silt_err err = {0};
        double best_w = 1e9, best_buf = 0;
        for (int rep = 0; rep < reps; rep++) {
            buf_free(&out);
            double w0 = now_s();
            pq_writer *w;
            if (pq_writer_open(defs, nc, &o, &w, &err) || pq_writer_write(w, vecs, n, &err)) {
                fprintf(stderr, "write failed: %s\n", err.msg);
                return 1;
            }
            double wm = now_s();
            if (pq_writer_finish(w, &out, &err)) {
                fprintf(stderr, "finish failed: %s\n", err.msg);
                return 1;
            }
            double w1 = now_s();
            if (w1 - w0 < best_w) best_w = w1 - w0, best_buf = wm - w0;
        }
        printf("\nwrite (codec %s, zstd level %d, page %zu bytes, %s pages): %.3f s, %.0f rows/s, "
               "%.1f MB/s of output, %.1f M field values/s\n",
               o.codec == PQ_ZSTD     ? "zstd"
               : o.codec == PQ_SNAPPY ? "snappy"
                                      : "none",
               level, o.page_bytes, o.data_page_v2 ? "v2" : "v1", best_w, (double)n / best_w,
               (double)out.len / best_w / 1e6, (double)n_values / best_w / 1e6);
        printf("  (of which pq_writer_write %.3f s: copying and interning; the rest encoding, "
               "compression, footer)\n",
               best_buf);
        printf("file: %zu bytes = %.4f bytes per field value (%llu values)\n", out.len,
               (double)out.len / (double)n_values, (unsigned long long)n_values);
        if (outp) {
            FILE *fp = fopen(outp, "wb");
            if (!fp || fwrite(out.p, 1, out.len, fp) != out.len || fclose(fp)) die("write out");
            printf("written to %s\n", outp);
        }

        /* read every column of every row group */
        double best_r = 1e9;
        bool exact = true;
        for (int rep = 0; rep < reps; rep++) {
            double r0 = now_s();
            pq_reader *r;
            if (pq_reader_open(out.p, out.len, &r, &err)) {
                fprintf(stderr, "open failed: %s\n", err.msg);
                return 1;
            }
            pq_colbuf cb;
            pq_colbuf_init(&cb);
            uint64_t base = 0;
            for (size_t g = 0; g < pq_reader_num_row_groups(r); g++) {
                uint64_t rows = pq_reader_row_group_rows(r, g);
                for (size_t c = 0; c < nc; c++) {
                    if (pq_read_column(r, g, c, 0, rows, &cb, &err)) {
                        fprintf(stderr, "read failed: %s\n", err.msg);
                        return 1;
                    }
                    if (rep == 0) {
                        for (uint64_t k = 0; k < rows && exact; k++) {
                            uint64_t row = base + k;
                            if (c < nt)
                                exact = sv_eq(cb.str[k], vecs[c].str[row]);
                            else if (c == nt)
                                exact = cb.i64[k] == tm[row];
                            else
                                exact = memcmp(&cb.f64[k], &vecs[c].f64[row], 8) == 0;
                        }
                    }
                }
                base += rows;
            }
            pq_colbuf_fini(&cb);
            pq_reader_close(r);
            double r1 = now_s();
            if (r1 - r0 < best_r) best_r = r1 - r0;
        }
        printf(
            "read (decode all %zu columns): %.3f s, %.0f rows/s, %.1f MB/s of file, %.1f M field "
            "values/s; values %s\n",
            nc, best_r, (double)n / best_r, (double)out.len / best_r / 1e6,
            (double)n_values / best_r / 1e6, exact ? "bit-identical" : "DIFFER");
        if (level == atoi(levels_s)) {
            buf desc = {0};
            if (pq_describe(out.p, out.len, &desc, &err) == SILT_OK) {
                fwrite(desc.p, 1, desc.len, stdout);
            }
            buf_free(&desc);
        }
        buf_free(&out);
        if (!exact) return 1;
        char *comma = strchr(lv, ',');
        if (!comma) break;
        lv = comma + 1;
    }
    return 0;
}
