/* SPDX-License-Identifier: MIT
 *
 * Fuzz target: the Parquet reader. The input is a whole file. The harness opens it, describes
 * it, asks for every chunk's statistics and page index, reads every column of every row group
 * fully (row groups of up to 1M rows) and over ranges chosen from the input bytes, and checks
 * that a range read returns exactly the same cells as the same rows of the full read (the
 * OffsetIndex path and the header-walking path must agree). Errors are fine; crashes, sanitizer
 * reports, leaks and disagreements are findings. Seeds: files written by silt (all types, v1/v2,
 * codecs) and by DuckDB and arrow-rs (tests/fuzz/corpus/pq_reader). */
#include "parquet/parquet.h"

#include <stdio.h>
#include <stdlib.h>

#define FULL_MAX_ROWS (1u << 20)

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static bool cell_eq(const pq_column_info *ci, const pq_colbuf *a, size_t i, const pq_colbuf *b,
                    size_t j) {
    bool na = a->valid && !a->valid[i], nb = b->valid && !b->valid[j];
    if (na || nb) return na == nb;
    if (a->str) return sv_eq(a->str[i], b->str[j]);
    if (a->b) return a->b[i] == b->b[j];
    if (a->u64) return a->u64[i] == b->u64[j];
    if (a->f64) return memcmp(&a->f64[i], &b->f64[j], 8) == 0;
    if (a->i64) return a->i64[i] == b->i64[j];
    (void)ci;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* the reader borrows the bytes: give it an exact-size copy so ASan sees any overread */
    uint8_t *p = malloc(size ? size : 1);
    if (!p) return 0;
    if (size) memcpy(p, data, size);
    buf d = {0};
    (void)pq_describe(p, size, &d, NULL);
    buf_free(&d);
    pq_reader *r;
    if (pq_reader_open(p, size, &r, NULL) != SILT_OK) {
        free(p);
        return 0;
    }
    (void)pq_reader_created_by(r);
    (void)pq_reader_kv(r, "ARROW:schema");
    uint64_t seed = mix(size ^ (size ? data[size / 2] : 0));
    pq_colbuf full, part;
    pq_colbuf_init(&full);
    pq_colbuf_init(&part);
    for (size_t g = 0; g < pq_reader_num_row_groups(r); g++) {
        uint64_t rows = pq_reader_row_group_rows(r, g);
        for (size_t c = 0; c < pq_reader_num_columns(r); c++) {
            const pq_column_info *ci = pq_reader_column(r, c);
            pq_stat st;
            (void)pq_reader_chunk_stats(r, g, c, &st);
            const pq_page_info *pages;
            size_t np;
            if (pq_reader_pages(r, g, c, &pages, &np))
                for (size_t i = 0; i < np; i++) (void)pages[i].stat.has_min_max;
            bool have_full = false;
            if (rows <= FULL_MAX_ROWS)
                have_full = pq_read_column(r, g, c, 0, rows, &full, NULL) == SILT_OK;
            for (int k = 0; k < 3 && rows > 0; k++) {
                seed = mix(seed + g * 131 + c * 7 + (uint64_t)k);
                uint64_t a = seed % rows;
                uint64_t span = (mix(seed) % 4096) + 1;
                uint64_t b = a + span > rows ? rows : a + span;
                if (pq_read_column(r, g, c, a, b, &part, NULL) != SILT_OK) continue;
                if (part.n != b - a) abort();
                if (!have_full) continue;
                for (uint64_t i = 0; i < b - a; i++)
                    if (!cell_eq(ci, &full, (size_t)(a + i), &part, (size_t)i)) {
                        fprintf(stderr, "range read differs: rg %zu col %zu row %llu\n", g, c,
                                (unsigned long long)(a + i));
                        abort();
                    }
                if (part.dict)
                    for (uint64_t i = 0; i < b - a; i++)
                        if ((!part.valid || part.valid[i]) && part.dict_idx[i] >= part.n_dict)
                            abort();
            }
        }
    }
    pq_colbuf_fini(&full);
    pq_colbuf_fini(&part);
    pq_reader_close(r);
    free(p);
    return 0;
}
