/* SPDX-License-Identifier: MIT
 *
 * The reader against damaged and unsupported files: truncation at every offset, a flipped byte
 * anywhere in the page data (caught by the page CRC, also inside compressed data), flips in page
 * headers, page indexes and the footer, a deleted byte, hand-built files with wrong sizes,
 * decompression bombs and absurd counts, and features silt does not read (nested and repeated
 * columns, INT96, BROTLI, unknown encodings, encryption). Never a crash (this binary runs under
 * ASan/UBSan), corrupt data is SILT_ECORRUPT and what is unsupported SILT_EUNSUPPORTED. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parquet/pq_int.h"
#include "parquet/pq_test_util.h"

#include <zstd.h>

/* ------------------------------------------------------------------ helpers */

static void small_table(pqt_table *t) {
    memset(t, 0, sizeof *t);
    t->n = 300;
    size_t host = pqt_add(t, "host", PQ_STRING, true, true);
    size_t tm = pqt_add(t, "time", PQ_TIMESTAMP_NS, false, false);
    size_t f = pqt_add(t, "f", PQ_DOUBLE, true, false);
    size_t iv = pqt_add(t, "i", PQ_INT64, true, false);
    size_t u = pqt_add(t, "u", PQ_UINT64, false, false);
    size_t b = pqt_add(t, "b", PQ_BOOL, true, false);
    size_t s = pqt_add(t, "s", PQ_STRING, true, false);
    pqt_rng = 99;
    for (size_t i = 0; i < t->n; i++) {
        PQT_STR(t, host)[i] = i < 150 ? SV("h1") : SV("h2-ü");
        PQT_I64(t, tm)[i] = 1451606400000000000LL + (int64_t)i * 1000000000;
        PQT_F64(t, f)[i] = pqt_unit() * 100;
        PQT_I64(t, iv)[i] = (int64_t)pqt_rand();
        PQT_U64(t, u)[i] = pqt_rand();
        PQT_B(t, b)[i] = i % 3 == 0;
        PQT_STR(t, s)[i] = pqt_str(t, "v%zu", i * 7919 % 1000);
        for (size_t c = 0; c < t->n_cols; c++)
            if (t->vecs[c].valid && c != host) PQT_VALID(t, c)[i] = i % 13 != 4;
    }
}

typedef enum outcome { OK_SAME, OK_DIFFERENT, FAILED } outcome;

/* Open, describe, read every column of every row group and the page indexes. Errors must be
 * of the kinds the reader promises; returns whether it all worked and matched t. */
static outcome read_all(const uint8_t *p, size_t n, const pqt_table *t, int *first_rc, char *msg,
                        size_t msg_len) {
    silt_err err = {0};
    buf d = {0};
    int rc = pq_describe(p, n, &d, &err);
    buf_free(&d);
    pq_reader *r;
    rc = pq_reader_open(p, n, &r, &err);
    outcome res = OK_SAME;
    if (rc) {
        res = FAILED;
        goto done;
    }
    pq_colbuf cb;
    pq_colbuf_init(&cb);
    uint64_t base = 0;
    for (size_t g = 0; g < pq_reader_num_row_groups(r) && res != FAILED; g++) {
        uint64_t rows = pq_reader_row_group_rows(r, g);
        for (size_t c = 0; c < pq_reader_num_columns(r); c++) {
            const pq_page_info *pg;
            size_t np;
            (void)pq_reader_pages(r, g, c, &pg, &np);
            pq_stat st;
            (void)pq_reader_chunk_stats(r, g, c, &st);
            if (rows > 100000) {
                rc = pq_read_column(r, g, c, 0, 10, &cb, &err);
                if (rc) {
                    res = FAILED;
                    break;
                }
                res = OK_DIFFERENT;
                continue;
            }
            rc = pq_read_column(r, g, c, 0, rows, &cb, &err);
            if (rc) {
                res = FAILED;
                break;
            }
            if (!t || c >= t->n_cols || pq_reader_num_rows(r) != t->n ||
                pq_reader_column(r, c)->type != t->defs[c].type) {
                res = OK_DIFFERENT;
                continue;
            }
            for (uint64_t k = 0; k < rows; k++)
                if (!pqt_cell_eq(t, c, (size_t)(base + k), &cb, (size_t)k)) res = OK_DIFFERENT;
        }
        base += rows;
    }
    pq_colbuf_fini(&cb);
    pq_reader_close(r);
done:
    if (res == FAILED) {
        if (rc != SILT_ECORRUPT && rc != SILT_EUNSUPPORTED && rc != SILT_ELIMIT)
            fail_msg("unexpected error code %d: %s", rc, err.msg);
        if (first_rc) *first_rc = rc;
        if (msg) snprintf(msg, msg_len, "%s", err.msg);
    }
    return res;
}

/* Every page of every chunk: header offset, header length, data length. */
typedef struct page_loc {
    size_t off, hdr, len, rg, col;
} page_loc;

static size_t list_pages(const uint8_t *p, size_t n, page_loc *out, size_t max) {
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(p, n, &r, &err), SILT_OK);
    size_t k = 0;
    for (size_t g = 0; g < r->fm.n_rgs; g++)
        for (size_t c = 0; c < r->n_leaves; c++) {
            const pq_chunk_meta *m = &r->fm.rgs[g].cols[c];
            size_t off = (size_t)m->start;
            while (off < m->end) {
                pq_page_header h;
                size_t hl;
                assert_int_equal(
                    pq__parse_page_header(p + off, (size_t)(m->end - off), &h, &hl, &err), SILT_OK);
                assert_true(k < max);
                out[k++] = (page_loc){off, hl, (size_t)h.compressed_size, g, c};
                off += hl + (size_t)h.compressed_size;
            }
        }
    pq_reader_close(r);
    return k;
}

static size_t index_start(const uint8_t *p, size_t n) {
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(p, n, &r, &err), SILT_OK);
    size_t lo = r->footer_start;
    for (size_t g = 0; g < r->fm.n_rgs; g++)
        for (size_t c = 0; c < r->n_leaves; c++) {
            const pq_chunk_meta *m = &r->fm.rgs[g].cols[c];
            if (m->has_column_index && (size_t)m->column_index_offset < lo)
                lo = (size_t)m->column_index_offset;
            if (m->has_offset_index && (size_t)m->offset_index_offset < lo)
                lo = (size_t)m->offset_index_offset;
        }
    pq_reader_close(r);
    return lo;
}

/* ------------------------------------------------------------------ damaged files */

static void test_pq_corrupt_truncated_at_every_offset(void **state) {
    (void)state;
    pqt_table t;
    small_table(&t);
    buf out = {0};
    pqt_write_table(&t, NULL, 0, &out);
    assert_int_equal(read_all(out.p, out.len, &t, NULL, NULL, 0), OK_SAME);
    for (size_t k = 0; k < out.len; k++) {
        int rc = 0;
        assert_int_equal(read_all(out.p, k, &t, &rc, NULL, 0), FAILED);
        assert_int_equal(rc, SILT_ECORRUPT);
    }
    buf_free(&out);
    pqt_table_free(&t);
}

/* Flip every byte of every page's data: the page CRC catches each one, for compressed (ZSTD,
 * SNAPPY) and uncompressed pages, v1 and v2, and the message names column, row group, page. */
static void crc_catches_every_flip(pq_codec codec, bool v2) {
    pqt_table t;
    small_table(&t);
    pq_writer_opts o;
    pq_writer_opts_init(&o);
    o.codec = codec;
    o.data_page_v2 = v2;
    o.page_bytes = 512;
    buf out = {0};
    pqt_write_table(&t, &o, 0, &out);
    page_loc pages[512];
    size_t np = list_pages(out.p, out.len, pages, 512);
    assert_true(np > t.n_cols);
    size_t flips = 0;
    for (size_t i = 0; i < np; i++) {
        for (size_t k = 0; k < pages[i].len; k++) {
            size_t at = pages[i].off + pages[i].hdr + k;
            out.p[at] ^= (uint8_t)(1u << (k % 8));
            int rc = 0;
            char msg[512];
            outcome res = read_all(out.p, out.len, &t, &rc, msg, sizeof msg);
            out.p[at] ^= (uint8_t)(1u << (k % 8));
            if (res != FAILED) fail_msg("flip at %zu (page %zu) not detected", at, i);
            assert_int_equal(rc, SILT_ECORRUPT);
            if (!strstr(msg, "CRC") || !strstr(msg, t.defs[pages[i].col].name) ||
                !strstr(msg, "row group") || !strstr(msg, "page"))
                fail_msg("flip at %zu: message %s", at, msg);
            flips++;
        }
    }
    assert_true(flips > 1000 || codec == PQ_ZSTD);
    assert_int_equal(read_all(out.p, out.len, &t, NULL, NULL, 0), OK_SAME);
    buf_free(&out);
    pqt_table_free(&t);
}

static void test_pq_corrupt_page_data_flips_caught_by_crc_zstd(void **state) {
    (void)state;
    crc_catches_every_flip(PQ_ZSTD, false);
}

static void test_pq_corrupt_page_data_flips_caught_by_crc_uncompressed(void **state) {
    (void)state;
    crc_catches_every_flip(PQ_UNCOMPRESSED, false);
}

static void test_pq_corrupt_page_data_flips_caught_by_crc_snappy_v2(void **state) {
    (void)state;
    crc_catches_every_flip(PQ_SNAPPY, true);
}

/* Flip every byte of page headers, page indexes and footer, with three patterns. Nothing
 * crashes; errors are ECORRUPT / EUNSUPPORTED / ELIMIT; a flipped page header is either
 * detected or harmless (statistics the reader does not need). */
static void test_pq_corrupt_header_index_footer_flips(void **state) {
    (void)state;
    pqt_table t;
    small_table(&t);
    pq_writer_opts o;
    pq_writer_opts_init(&o);
    o.page_bytes = 1024;
    buf out = {0};
    pqt_write_table(&t, &o, 0, &out);
    page_loc pages[256];
    size_t np = list_pages(out.p, out.len, pages, 256);
    uint8_t pats[] = {0x01, 0x80, 0xff};
    size_t hdr_detected = 0, hdr_harmless = 0, hdr_silent = 0;
    for (size_t i = 0; i < np; i++)
        for (size_t k = 0; k < pages[i].hdr; k++)
            for (size_t q = 0; q < 3; q++) {
                size_t at = pages[i].off + k;
                out.p[at] ^= pats[q];
                outcome res = read_all(out.p, out.len, &t, NULL, NULL, 0);
                out.p[at] ^= pats[q];
                if (res == FAILED)
                    hdr_detected++;
                else if (res == OK_SAME)
                    hdr_harmless++;
                else
                    hdr_silent++;
            }
    print_message("page headers: %zu flips detected, %zu harmless, %zu undetected\n", hdr_detected,
                  hdr_harmless, hdr_silent);
    assert_int_equal(hdr_silent, 0);
    assert_true(hdr_detected > hdr_harmless);
    size_t tail = index_start(out.p, out.len), tail_detected = 0, tail_other = 0;
    for (size_t at = tail; at < out.len; at++)
        for (size_t q = 0; q < 3; q++) {
            out.p[at] ^= pats[q];
            outcome res = read_all(out.p, out.len, &t, NULL, NULL, 0);
            out.p[at] ^= pats[q];
            if (res == FAILED)
                tail_detected++;
            else
                tail_other++;
        }
    print_message("page index + footer: %zu flips detected, %zu read (same data or renamed)\n",
                  tail_detected, tail_other);
    assert_true(tail_detected > 0);
    buf_free(&out);
    pqt_table_free(&t);
}

/* Delete one byte anywhere in the pages: everything after it shifts, some read must fail. */
static void test_pq_corrupt_deleted_byte_in_pages(void **state) {
    (void)state;
    pqt_table t;
    small_table(&t);
    buf out = {0};
    pqt_write_table(&t, NULL, 0, &out);
    size_t end = index_start(out.p, out.len);
    uint8_t *cut = malloc(out.len);
    for (size_t k = 4; k < end; k++) {
        memcpy(cut, out.p, k);
        memcpy(cut + k, out.p + k + 1, out.len - k - 1);
        int rc = 0;
        if (read_all(cut, out.len - 1, &t, &rc, NULL, 0) != FAILED)
            fail_msg("deleting byte %zu was not detected", k);
        assert_int_equal(rc, SILT_ECORRUPT);
    }
    free(cut);
    buf_free(&out);
    pqt_table_free(&t);
}

static void test_pq_corrupt_magic_and_footer_length(void **state) {
    (void)state;
    pqt_table t;
    small_table(&t);
    buf out = {0};
    pqt_write_table(&t, NULL, 0, &out);
    pq_reader *r;
    silt_err err;
    uint8_t *p = out.p;
    size_t n = out.len;
    p[0] = 'X';
    assert_int_equal(pq_reader_open(p, n, &r, &err), SILT_ECORRUPT);
    p[0] = 'P';
    p[n - 1] = '2';
    assert_int_equal(pq_reader_open(p, n, &r, &err), SILT_ECORRUPT);
    memcpy(p + n - 4, "PARE", 4); /* encrypted footer */
    assert_int_equal(pq_reader_open(p, n, &r, &err), SILT_EUNSUPPORTED);
    memcpy(p + n - 4, "PAR1", 4);
    uint32_t flen = le_get32(p + n - 8);
    le_put32(p + n - 8, (uint32_t)n); /* longer than the file */
    assert_int_equal(pq_reader_open(p, n, &r, &err), SILT_ECORRUPT);
    le_put32(p + n - 8, 0);
    assert_int_equal(pq_reader_open(p, n, &r, &err), SILT_ECORRUPT);
    le_put32(p + n - 8, flen - 1);
    assert_int_equal(pq_reader_open(p, n, &r, &err), SILT_ECORRUPT);
    le_put32(p + n - 8, flen);
    assert_int_equal(pq_reader_open(p, n, &r, &err), SILT_OK);
    pq_reader_close(r);
    buf_free(&out);
    pqt_table_free(&t);
}

/* An OffsetIndex whose rows go backwards: ECORRUPT on read, no page index reported. */
static void test_pq_corrupt_offset_index_checked(void **state) {
    (void)state;
    pqt_table t;
    small_table(&t);
    pq_writer_opts o;
    pq_writer_opts_init(&o);
    o.page_bytes = 256;
    buf out = {0};
    pqt_write_table(&t, &o, 0, &out);
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
    const pq_chunk_meta *m = &r->fm.rgs[0].cols[2];
    size_t oi_at = (size_t)m->offset_index_offset, oi_len = (size_t)m->offset_index_length;
    uint64_t start = m->start;
    pq_reader_close(r);
    buf rep = {0};
    tc_writer w;
    tcw_init(&w, &rep);
    tcw_begin(&w);
    tcw_list(&w, 1, TC_STRUCT, 2);
    tcw_begin(&w);
    tcw_i64(&w, 1, (int64_t)start);
    tcw_i32(&w, 2, 10);
    tcw_i64(&w, 3, 100);
    tcw_end(&w);
    tcw_begin(&w);
    tcw_i64(&w, 1, (int64_t)start + 10);
    tcw_i32(&w, 2, 10);
    tcw_i64(&w, 3, 50);
    tcw_end(&w);
    tcw_end(&w);
    assert_true(rep.len <= oi_len);
    memset(out.p + oi_at, 0, oi_len);
    memcpy(out.p + oi_at, rep.p, rep.len);
    assert_int_equal(pq_reader_open(out.p, out.len, &r, &err), SILT_OK);
    const pq_page_info *pg;
    size_t np;
    assert_false(pq_reader_pages(r, 0, 2, &pg, &np));
    pq_colbuf cb;
    pq_colbuf_init(&cb);
    assert_int_equal(pq_read_column(r, 0, 2, 0, 10, &cb, &err), SILT_ECORRUPT);
    assert_non_null(strstr(err.msg, "OffsetIndex"));
    assert_int_equal(pq_read_column(r, 0, 1, 0, 10, &cb, &err), SILT_OK); /* other columns read */
    pq_colbuf_fini(&cb);
    pq_reader_close(r);
    buf_free(&rep);
    buf_free(&out);
    pqt_table_free(&t);
}

/* ------------------------------------------------------------------ hand-built files */

typedef struct hb {
    int phys;        /* default PQT_INT64 */
    int repetition;  /* default PQR_REQUIRED */
    bool nested;     /* leaf inside a group */
    int codec;       /* written in ColumnMetaData; the page is compressed for ZSTD only */
    int encoding;    /* data page encoding */
    int32_t unc_add; /* added to the true uncompressed size in the page header */
    int32_t num_values;
    int64_t rg_rows;
    bool encrypted;
    bool empty_page_claims_rows; /* an RLE_DICTIONARY page without a dictionary */
} hb;

static void hb_build(const hb *o, buf *out) {
    int phys = o->phys ? o->phys : PQT_INT64;
    int64_t rows = o->rg_rows ? o->rg_rows : 4;
    int32_t nv = o->num_values ? o->num_values : 4;
    buf raw = {0}, page = {0};
    size_t w = phys == PQT_INT96 ? 12 : 8;
    for (int i = 0; i < 4; i++) {
        uint8_t v[12] = {0};
        le_put64(v, (uint64_t)(i * 1000 + 7));
        buf_append(&raw, v, w);
    }
    if (o->codec == PQC_ZSTD) {
        buf_reserve(&page, ZSTD_compressBound(raw.len));
        page.len = ZSTD_compress(page.p, page.cap, raw.p, raw.len, 3);
    } else {
        buf_append(&page, raw.p, raw.len);
    }
    buf_append(out, PQ_MAGIC, 4);
    tc_writer t;
    tcw_init(&t, out);
    tcw_begin(&t);
    tcw_i32(&t, 1, PQP_DATA_PAGE);
    tcw_i32(&t, 2, (int32_t)raw.len + o->unc_add);
    tcw_i32(&t, 3, (int32_t)page.len);
    tcw_i32(&t, 4, (int32_t)pq__crc32(page.p, page.len));
    tcw_struct(&t, 5);
    tcw_i32(&t, 1, nv);
    tcw_i32(&t, 2, o->encoding);
    tcw_i32(&t, 3, PQE_RLE);
    tcw_i32(&t, 4, PQE_RLE);
    tcw_end(&t);
    tcw_end(&t);
    size_t hdr_and_page = out->len - 4 + page.len;
    buf_append(out, page.p, page.len);
    size_t footer = out->len;
    tcw_init(&t, out);
    tcw_begin(&t);
    tcw_i32(&t, 1, 1);
    tcw_list(&t, 2, TC_STRUCT, o->nested ? 3 : 2);
    tcw_begin(&t);
    tcw_bin(&t, 4, "schema", 6);
    tcw_i32(&t, 5, 1);
    tcw_end(&t);
    if (o->nested) {
        tcw_begin(&t);
        tcw_i32(&t, 3, PQR_OPTIONAL);
        tcw_bin(&t, 4, "g", 1);
        tcw_i32(&t, 5, 1);
        tcw_end(&t);
    }
    tcw_begin(&t);
    tcw_i32(&t, 1, phys);
    tcw_i32(&t, 3, o->repetition);
    tcw_bin(&t, 4, "v", 1);
    tcw_end(&t);
    tcw_i64(&t, 3, rows);
    tcw_list(&t, 4, TC_STRUCT, 1);
    tcw_begin(&t);
    tcw_list(&t, 1, TC_STRUCT, 1);
    tcw_begin(&t);
    tcw_i64(&t, 2, 0);
    tcw_struct(&t, 3);
    tcw_i32(&t, 1, phys);
    tcw_list(&t, 2, TC_I32, 1);
    tcw_elem_i32(&t, o->encoding);
    tcw_list(&t, 3, TC_BINARY, 1);
    tcw_elem_bin(&t, "v", 1);
    tcw_i32(&t, 4, o->codec);
    tcw_i64(&t, 5, rows);
    tcw_i64(&t, 6, (int64_t)hdr_and_page);
    tcw_i64(&t, 7, (int64_t)hdr_and_page);
    tcw_i64(&t, 9, 4);
    tcw_end(&t);
    tcw_end(&t);
    tcw_i64(&t, 2, (int64_t)hdr_and_page);
    tcw_i64(&t, 3, rows);
    tcw_end(&t);
    if (o->encrypted) {
        tcw_struct(&t, 8);
        tcw_struct(&t, 1);
        tcw_end(&t);
        tcw_end(&t);
    }
    tcw_end(&t);
    uint8_t tail[8];
    le_put32(tail, (uint32_t)(out->len - footer));
    memcpy(tail + 4, PQ_MAGIC, 4);
    buf_append(out, tail, 8);
    buf_free(&raw);
    buf_free(&page);
}

static int hb_read(const hb *o, char *msg, size_t msg_len) {
    buf f = {0};
    hb_build(o, &f);
    int rc = 0;
    outcome res = read_all(f.p, f.len, NULL, &rc, msg, msg_len);
    buf_free(&f);
    return res == FAILED ? rc : SILT_OK;
}

static void test_pq_corrupt_hand_built_baseline_reads(void **state) {
    (void)state;
    hb o = {0};
    assert_int_equal(hb_read(&o, NULL, 0), SILT_OK);
    o.codec = PQC_ZSTD;
    assert_int_equal(hb_read(&o, NULL, 0), SILT_OK);
    buf f = {0};
    hb_build(&o, &f);
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(f.p, f.len, &r, &err), SILT_OK);
    pq_colbuf cb;
    pq_colbuf_init(&cb);
    assert_int_equal(pq_read_column(r, 0, 0, 0, 4, &cb, &err), SILT_OK);
    assert_true(cb.i64[0] == 7 && cb.i64[3] == 3007);
    pq_colbuf_fini(&cb);
    pq_reader_close(r);
    buf_free(&f);
}

static void test_pq_corrupt_hand_built_size_mismatches(void **state) {
    (void)state;
    char msg[512];
    hb o = {.codec = PQC_ZSTD, .unc_add = 8}; /* header says 40 bytes, zstd gives 32 */
    assert_int_equal(hb_read(&o, msg, sizeof msg), SILT_ECORRUPT);
    o.unc_add = -8;
    assert_int_equal(hb_read(&o, msg, sizeof msg), SILT_ECORRUPT);
    o = (hb){.unc_add = 8}; /* uncompressed page: sizes must agree */
    assert_int_equal(hb_read(&o, msg, sizeof msg), SILT_ECORRUPT);
    o = (hb){.num_values = 5}; /* page claims more rows than the row group */
    assert_int_equal(hb_read(&o, msg, sizeof msg), SILT_ECORRUPT);
    o = (hb){.num_values = 3}; /* fewer */
    assert_int_equal(hb_read(&o, msg, sizeof msg), SILT_ECORRUPT);
    o = (hb){.num_values = 4, .rg_rows = 5}; /* not enough values in the data */
    assert_int_equal(hb_read(&o, msg, sizeof msg), SILT_ECORRUPT);
    o = (hb){.encoding = PQE_RLE_DICTIONARY}; /* no dictionary page */
    assert_int_equal(hb_read(&o, msg, sizeof msg), SILT_ECORRUPT);
    assert_non_null(strstr(msg, "dictionary"));
}

static void test_pq_corrupt_bombs_and_absurd_counts_are_bounded(void **state) {
    (void)state;
    char msg[512];
    hb o = {.codec = PQC_ZSTD, .unc_add = INT32_MAX - 64}; /* "2 GiB" page */
    int rc = hb_read(&o, msg, sizeof msg);
    assert_true(rc == SILT_ELIMIT || rc == SILT_ECORRUPT);
    o = (hb){.rg_rows = (int64_t)1 << 40, .num_values = INT32_MAX};
    rc = hb_read(&o, msg, sizeof msg);
    assert_int_equal(rc, SILT_ECORRUPT);
    /* a read of 2^40 rows is refused before anything is allocated */
    buf f = {0};
    hb_build(&o, &f);
    pq_reader *r;
    silt_err err;
    assert_int_equal(pq_reader_open(f.p, f.len, &r, &err), SILT_OK);
    pq_colbuf cb;
    pq_colbuf_init(&cb);
    assert_int_equal(pq_read_column(r, 0, 0, 0, (uint64_t)1 << 40, &cb, &err), SILT_ELIMIT);
    pq_colbuf_fini(&cb);
    pq_reader_close(r);
    buf_free(&f);
}

static void test_pq_corrupt_unsupported_features(void **state) {
    (void)state;
    char msg[512];
    hb o = {.nested = true};
    assert_int_equal(hb_read(&o, msg, sizeof msg), SILT_EUNSUPPORTED);
    assert_non_null(strstr(msg, "nested"));
    o = (hb){.repetition = PQR_REPEATED};
    assert_int_equal(hb_read(&o, msg, sizeof msg), SILT_EUNSUPPORTED);
    assert_non_null(strstr(msg, "repeated"));
    o = (hb){.phys = PQT_INT96};
    assert_int_equal(hb_read(&o, msg, sizeof msg), SILT_EUNSUPPORTED);
    assert_non_null(strstr(msg, "INT96"));
    o = (hb){.codec = PQC_BROTLI};
    assert_int_equal(hb_read(&o, msg, sizeof msg), SILT_EUNSUPPORTED);
    assert_non_null(strstr(msg, "BROTLI"));
    o = (hb){.codec = PQC_LZO};
    assert_int_equal(hb_read(&o, msg, sizeof msg), SILT_EUNSUPPORTED);
    o = (hb){.encoding = 10}; /* ALP */
    assert_int_equal(hb_read(&o, msg, sizeof msg), SILT_EUNSUPPORTED);
    assert_non_null(strstr(msg, "encoding"));
    o = (hb){.encoding = PQE_DELTA_BYTE_ARRAY}; /* not for INT64 */
    assert_int_equal(hb_read(&o, msg, sizeof msg), SILT_EUNSUPPORTED);
    o = (hb){.encrypted = true};
    assert_int_equal(hb_read(&o, msg, sizeof msg), SILT_EUNSUPPORTED);
    assert_non_null(strstr(msg, "encrypted"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pq_corrupt_truncated_at_every_offset),
        cmocka_unit_test(test_pq_corrupt_page_data_flips_caught_by_crc_zstd),
        cmocka_unit_test(test_pq_corrupt_page_data_flips_caught_by_crc_uncompressed),
        cmocka_unit_test(test_pq_corrupt_page_data_flips_caught_by_crc_snappy_v2),
        cmocka_unit_test(test_pq_corrupt_header_index_footer_flips),
        cmocka_unit_test(test_pq_corrupt_deleted_byte_in_pages),
        cmocka_unit_test(test_pq_corrupt_magic_and_footer_length),
        cmocka_unit_test(test_pq_corrupt_offset_index_checked),
        cmocka_unit_test(test_pq_corrupt_hand_built_baseline_reads),
        cmocka_unit_test(test_pq_corrupt_hand_built_size_mismatches),
        cmocka_unit_test(test_pq_corrupt_bombs_and_absurd_counts_are_bounded),
        cmocka_unit_test(test_pq_corrupt_unsupported_features),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
