/* SPDX-License-Identifier: MIT
 *
 * Encodings and the Thrift compact protocol, below the file level: the examples of the specs
 * (Encodings.md bit packing and DELTA_BINARY_PACKED, thrift-compact-protocol.md varints and
 * field headers), round trips over random data and widths, and the decoders' bounds on
 * truncated, oversized and malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parquet/pq_int.h"
#include "parquet/pq_test_util.h"

/* ------------------------------------------------------------------ bit packing, RLE */

static void test_pq_encode_bitpack_spec_example(void **state) {
    (void)state;
    /* Encodings.md: 0..7 with bit width 3 -> 10001000 11000110 11111010 */
    uint64_t v[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    uint8_t out[3];
    pq__bitpack(out, v, 8, 3);
    assert_int_equal(out[0], 0x88);
    assert_int_equal(out[1], 0xc6);
    assert_int_equal(out[2], 0xfa);
    uint64_t back[8];
    pq__bitunpack(out, 3, back, 8, 3, 0);
    assert_memory_equal(back, v, sizeof v);
    pq__bitunpack(out, 3, back, 3, 3, 5); /* from the middle */
    assert_true(back[0] == 5 && back[1] == 6 && back[2] == 7);
}

static void test_pq_encode_bitpack_all_widths(void **state) {
    (void)state;
    uint64_t v[64], back[64];
    uint8_t buf8[64 * 8];
    for (int w = 0; w <= 64; w++) {
        uint64_t mask = w == 64 ? ~0ULL : ((1ULL << w) - 1);
        for (int i = 0; i < 64; i++) v[i] = pqt_rand() & mask;
        v[3] = mask; /* all ones */
        pq__bitpack(buf8, v, 64, w);
        pq__bitunpack(buf8, (size_t)(64 * w / 8), back, 64, w, 0);
        assert_memory_equal(back, v, sizeof v);
    }
}

static void rle_roundtrip(const uint32_t *v, size_t n, int width) {
    buf b = {0};
    pq__rle_encode_u32(&b, v, n, width);
    pq_rle_dec d;
    pq__rle_init(&d, b.p, b.len, width);
    uint32_t *back = malloc((n + 1) * sizeof *back);
    assert_true(pq__rle_get_u32(&d, back, n));
    assert_memory_equal(back, v, n * sizeof *v);
    /* skip + count ones, then the rest */
    if (n > 2) {
        pq__rle_init(&d, b.p, b.len, width);
        uint64_t ones = 0, want = 0;
        for (size_t i = 0; i < n / 2; i++) want += v[i] != 0;
        assert_true(pq__rle_skip(&d, n / 2, &ones));
        assert_int_equal(ones, want);
        assert_true(pq__rle_get_u32(&d, back, n - n / 2));
        assert_memory_equal(back, v + n / 2, (n - n / 2) * sizeof *v);
    }
    /* asking for more than was encoded fails, it does not read past the end */
    pq__rle_init(&d, b.p, b.len, width);
    assert_true(pq__rle_skip(&d, n, NULL));
    uint32_t extra[16];
    if (n % 8 == 0) assert_false(pq__rle_get_u32(&d, extra, 16));
    free(back);
    buf_free(&b);
}

static void test_pq_encode_rle_roundtrip(void **state) {
    (void)state;
    size_t sizes[] = {0, 1, 7, 8, 9, 15, 16, 17, 100, 1000, 4099};
    uint32_t *v = malloc(5000 * sizeof *v);
    for (int w = 0; w <= 32; w++) {
        uint32_t mask = w == 32 ? ~0u : ((1u << w) - 1);
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            size_t n = sizes[si];
            /* runs of random lengths mixed with noise */
            for (size_t i = 0; i < n;) {
                size_t run = 1 + pqt_rand() % (pqt_rand() % 2 ? 40 : 3);
                uint32_t x = (uint32_t)pqt_rand() & mask;
                for (size_t k = 0; k < run && i < n; k++, i++) v[i] = x;
            }
            rle_roundtrip(v, n, w);
        }
    }
    free(v);
}

static void test_pq_encode_rle_levels_compact(void **state) {
    (void)state;
    /* 1M definition levels, all 1: a handful of bytes */
    size_t n = 1000000;
    uint8_t *lv = malloc(n);
    memset(lv, 1, n);
    buf b = {0};
    pq__rle_encode_u8(&b, lv, n, 1);
    assert_true(b.len <= 8);
    pq_rle_dec d;
    pq__rle_init(&d, b.p, b.len, 1);
    uint64_t ones;
    assert_true(pq__rle_skip(&d, n, &ones));
    assert_int_equal(ones, n);
    /* alternating: bit packed, 1 bit per value */
    for (size_t i = 0; i < n; i++) lv[i] = i & 1;
    buf_reset(&b);
    pq__rle_encode_u8(&b, lv, n, 1);
    assert_true(b.len <= n / 8 + 16);
    uint8_t *back = malloc(n);
    pq__rle_init(&d, b.p, b.len, 1);
    assert_true(pq__rle_get_u8(&d, back, n));
    assert_memory_equal(back, lv, n);
    free(back);
    free(lv);
    buf_free(&b);
}

static void test_pq_encode_rle_rejects_bad_runs(void **state) {
    (void)state;
    pq_rle_dec d;
    uint32_t out[64];
    /* RLE run whose value does not fit the width */
    uint8_t a[] = {0x08, 0x05}; /* 4 x 5 at width 2 */
    pq__rle_init(&d, a, sizeof a, 2);
    assert_false(pq__rle_get_u32(&d, out, 4));
    /* run value truncated */
    uint8_t b[] = {0x08};
    pq__rle_init(&d, b, sizeof b, 8);
    assert_false(pq__rle_get_u32(&d, out, 1));
    /* bit-packed run claiming 2^40 groups in 3 bytes: only what is present is readable */
    uint8_t c[] = {0x81, 0x80, 0x80, 0x80, 0x80, 0x20, 0xff, 0xff, 0xff};
    pq__rle_init(&d, c, sizeof c, 8);
    assert_true(pq__rle_get_u32(&d, out, 3));
    assert_false(pq__rle_get_u32(&d, out, 1));
    /* overlong varint header */
    uint8_t e[12];
    memset(e, 0xff, sizeof e);
    pq__rle_init(&d, e, sizeof e, 1);
    assert_false(pq__rle_get_u32(&d, out, 1));
    /* a huge RLE run is skipped in O(1) */
    uint8_t f[] = {0xfe, 0xff, 0xff, 0xff, 0x0f, 0x01}; /* 2^31-1 ones */
    pq__rle_init(&d, f, sizeof f, 1);
    uint64_t ones;
    assert_true(pq__rle_skip(&d, 2000000000, &ones));
    assert_int_equal(ones, 2000000000);
}

/* ------------------------------------------------------------------ DELTA_BINARY_PACKED */

static void delta_roundtrip(const int64_t *v, size_t n) {
    buf b = {0};
    pq__delta_encode(&b, v, n);
    pq_delta_dec d;
    assert_true(pq__delta_init(&d, b.p, b.len, 64));
    assert_int_equal(d.total, n);
    uint64_t *back = malloc((n + 1) * 8);
    assert_true(pq__delta_get(&d, back, n));
    assert_memory_equal(back, v, n * 8);
    const uint8_t *end;
    assert_true(pq__delta_finish(&d, &end));
    assert_ptr_equal(end, b.p + b.len); /* the decoder finds the exact end */
    if (n > 10) {
        assert_true(pq__delta_init(&d, b.p, b.len, 64));
        assert_true(pq__delta_skip(&d, n / 3));
        assert_true(pq__delta_get(&d, back, n - n / 3));
        assert_memory_equal(back, v + n / 3, (n - n / 3) * 8);
        assert_false(pq__delta_get(&d, back, 1)); /* past the total */
    }
    free(back);
    buf_free(&b);
}

static void test_pq_encode_delta_spec_example(void **state) {
    (void)state;
    /* Encodings.md example 1 (with the smallest legal block, 128): 1, 2, 3, 4, 5 is a header
     * and one block of min delta 1 with zero-width miniblocks */
    int64_t v[5] = {1, 2, 3, 4, 5};
    buf b = {0};
    pq__delta_encode(&b, v, 5);
    uint8_t want[] = {0x80, 0x01, 0x04, 0x05, 0x02, /* block: */ 0x02, 0, 0, 0, 0};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.p, want, sizeof want);
    buf_free(&b);
    delta_roundtrip(v, 5);
}

static void test_pq_encode_delta_roundtrip_extremes(void **state) {
    (void)state;
    size_t sizes[] = {0, 1, 2, 31, 32, 33, 127, 128, 129, 130, 257, 1000, 4097};
    int64_t *v = malloc(5000 * 8);
    for (int kind = 0; kind < 6; kind++)
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            size_t n = sizes[si];
            for (size_t i = 0; i < n; i++) switch (kind) {
                    case 0:
                        v[i] = 1451606400000000000LL + (int64_t)i * 10000000000LL;
                        break;
                    case 1:
                        v[i] = (int64_t)pqt_rand();
                        break; /* full 64-bit range */
                    case 2:
                        v[i] = i % 2 ? INT64_MAX : INT64_MIN;
                        break;
                    case 3:
                        v[i] = (int64_t)(pqt_rand() % 100) - 50;
                        break;
                    case 4:
                        v[i] = 42;
                        break;
                    default:
                        v[i] = (int64_t)(UINT64_MAX - i);
                        break;
                }
            delta_roundtrip(v, n);
        }
    free(v);
}

static void test_pq_encode_delta_rejects_bad_headers(void **state) {
    (void)state;
    pq_delta_dec d;
    uint8_t bad_block[] = {0x40, 0x04, 0x02, 0x00};       /* block size 64 */
    uint8_t zero_mini[] = {0x80, 0x01, 0x00, 0x02, 0x00}; /* 0 miniblocks */
    uint8_t odd_mini[] = {0x80, 0x01, 0x03, 0x02, 0x00};  /* 128 / 3 */
    uint8_t truncated[] = {0x80, 0x01, 0x04};
    assert_false(pq__delta_init(&d, bad_block, sizeof bad_block, 64));
    assert_false(pq__delta_init(&d, zero_mini, sizeof zero_mini, 64));
    assert_false(pq__delta_init(&d, odd_mini, sizeof odd_mini, 64));
    assert_false(pq__delta_init(&d, truncated, sizeof truncated, 64));
    /* width 65 in a miniblock */
    uint8_t wide[] = {0x80, 0x01, 0x04, 0x02, 0x00, 0x02, 65, 0, 0, 0};
    assert_true(pq__delta_init(&d, wide, sizeof wide, 64));
    uint64_t out[2];
    assert_false(pq__delta_get(&d, out, 2));
    /* INT32 data may not use more than 32 bits */
    uint8_t w33[] = {0x80, 0x01, 0x04, 0x02, 0x00, 0x02, 33, 0, 0, 0};
    assert_true(pq__delta_init(&d, w33, sizeof w33, 32));
    assert_false(pq__delta_get(&d, out, 2));
    /* miniblock data missing */
    uint8_t short_data[] = {0x80, 0x01, 0x04, 0x03, 0x00, 0x02, 8, 0, 0, 0, 1};
    assert_true(pq__delta_init(&d, short_data, sizeof short_data, 64));
    assert_false(pq__delta_get(&d, out, 2));
}

/* ------------------------------------------------------------------ BYTE_STREAM_SPLIT */

static void test_pq_encode_byte_stream_split(void **state) {
    (void)state;
    /* Encodings.md example: three floats AA BB CC DD / 00 11 22 33 / A3 B4 C5 D6 */
    uint8_t in[12] = {0xAA, 0xBB, 0xCC, 0xDD, 0x00, 0x11, 0x22, 0x33, 0xA3, 0xB4, 0xC5, 0xD6};
    uint8_t want[12] = {0xAA, 0x00, 0xA3, 0xBB, 0x11, 0xB4, 0xCC, 0x22, 0xC5, 0xDD, 0x33, 0xD6};
    uint8_t out[12], back[12];
    pq__bss_encode(out, in, 3, 4);
    assert_memory_equal(out, want, 12);
    pq__bss_decode(back, out, 3, 4, 0, 3);
    assert_memory_equal(back, in, 12);
    double d[100], e[100];
    uint8_t s[800];
    for (int i = 0; i < 100; i++) d[i] = (double)pqt_rand() / 7.0;
    pq__bss_encode(s, (const uint8_t *)d, 100, 8);
    pq__bss_decode((uint8_t *)e, s, 100, 8, 37, 20);
    assert_memory_equal(e, d + 37, 20 * 8);
}

/* ------------------------------------------------------------------ Thrift compact protocol */

static void test_pq_thrift_roundtrip_all_types(void **state) {
    (void)state;
    buf b = {0};
    tc_writer w;
    tcw_init(&w, &b);
    tcw_begin(&w);
    tcw_i32(&w, 1, -123456);
    tcw_i64(&w, 2, INT64_MIN);
    tcw_bool(&w, 3, true);
    tcw_bool(&w, 4, false);
    tcw_bin(&w, 20, "hello", 5); /* delta > 15: long form */
    tcw_i8(&w, 7, -5);           /* negative delta: long form */
    tcw_i16(&w, 8, -300);
    tcw_list(&w, 9, TC_I64, 20); /* size >= 15: long list header */
    for (int i = 0; i < 20; i++) tcw_elem_i64(&w, (int64_t)i * -1000000007);
    tcw_list(&w, 10, TC_TRUE, 3);
    tcw_elem_bool(&w, true);
    tcw_elem_bool(&w, false);
    tcw_elem_bool(&w, true);
    tcw_struct(&w, 11);
    tcw_i32(&w, 1, INT32_MAX);
    tcw_end(&w);
    tcw_end(&w);

    tc_reader r;
    tcr_init(&r, b.p, b.len);
    assert_true(tcr_enter(&r));
    int16_t last = 0;
    int t, id, et, seen = 0;
    while (tcr_field(&r, &last, &t, &id)) {
        seen++;
        switch (id) {
            case 1:
                assert_int_equal(tcr_i32(&r, t), -123456);
                break;
            case 2:
                assert_true(tcr_i64(&r, t) == INT64_MIN);
                break;
            case 3:
                assert_true(tcr_bool(&r, t));
                break;
            case 4:
                assert_false(tcr_bool(&r, t));
                break;
            case 20:
                assert_true(sv_eq_cstr(tcr_bin(&r, t), "hello"));
                break;
            case 7:
                assert_int_equal(tcr_i32(&r, t), -5);
                break;
            case 8:
                assert_int_equal(tcr_i32(&r, t), -300);
                break;
            case 9: {
                size_t n = tcr_list(&r, t, &et);
                assert_int_equal(n, 20);
                for (int i = 0; i < 20; i++)
                    assert_true(tcr_elem_i64(&r, et) == (int64_t)i * -1000000007);
                break;
            }
            case 10: {
                size_t n = tcr_list(&r, t, &et);
                assert_int_equal(n, 3);
                assert_true(tcr_elem_bool(&r, et));
                assert_false(tcr_elem_bool(&r, et));
                assert_true(tcr_elem_bool(&r, et));
                break;
            }
            default:
                tcr_skip(&r, t); /* 11: skipped as an unknown struct */
        }
    }
    assert_null(r.bad);
    assert_int_equal(seen, 10);
    assert_ptr_equal(r.p, b.p + b.len);
    buf_free(&b);
}

static void test_pq_thrift_spec_encodings(void **state) {
    (void)state;
    /* thrift-compact-protocol.md: 50399 -> DF 89 03 (as a var int) */
    buf b = {0};
    buf_put_varint(&b, 50399);
    uint8_t want[] = {0xdf, 0x89, 0x03};
    assert_memory_equal(b.p, want, 3);
    /* short field header: delta 1, type i32, zigzag(-1) = 1 */
    buf_reset(&b);
    tc_writer w;
    tcw_init(&w, &b);
    tcw_begin(&w);
    tcw_i32(&w, 1, -1);
    tcw_end(&w);
    uint8_t want2[] = {0x15, 0x01, 0x00};
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.p, want2, 3);
    buf_free(&b);
}

static void test_pq_thrift_decoder_is_bounded(void **state) {
    (void)state;
    tc_reader r;
    /* 1000 nested structs: depth limit, no stack overflow */
    uint8_t deep[2000];
    for (int i = 0; i < 1000; i++) deep[i] = 0x1c; /* field 1, struct */
    memset(deep + 1000, 0, 1000);
    tcr_init(&r, deep, sizeof deep);
    tcr_skip(&r, TC_STRUCT);
    assert_non_null(r.bad);
    /* a list claiming more elements than bytes */
    uint8_t lst[] = {0xf5, 0xff, 0xff, 0xff, 0xff, 0x07, 1, 2};
    int et;
    tcr_init(&r, lst, sizeof lst);
    assert_int_equal(tcr_list(&r, TC_LIST, &et), 0);
    assert_non_null(r.bad);
    /* binary longer than the input */
    uint8_t bin[] = {0x10, 'a', 'b'};
    tcr_init(&r, bin, sizeof bin);
    str_view s = tcr_bin(&r, TC_BINARY);
    assert_int_equal(s.n, 0);
    assert_non_null(r.bad);
    /* i32 out of range, overlong varint */
    uint8_t big[] = {0xfe, 0xff, 0xff, 0xff, 0x7f};
    tcr_init(&r, big, sizeof big);
    tcr_i32(&r, TC_I32);
    assert_non_null(r.bad);
    uint8_t overlong[11];
    memset(overlong, 0x80, sizeof overlong);
    tcr_init(&r, overlong, sizeof overlong);
    tcr_i64(&r, TC_I64);
    assert_non_null(r.bad);
    /* a known field with the wrong type is an error */
    uint8_t wrong[] = {0x18, 0x01, 'x', 0x00}; /* field 1 as binary */
    tcr_init(&r, wrong, sizeof wrong);
    assert_true(tcr_enter(&r));
    int16_t last = 0;
    int t, id;
    assert_true(tcr_field(&r, &last, &t, &id));
    tcr_i32(&r, t);
    assert_non_null(r.bad);
    /* every truncation of a valid FileMetaData fails cleanly */
    pq_column_def cols[] = {{"a", PQ_STRING, true, true}, {"b", PQ_DOUBLE, false, false}};
    str_view sv[2] = {SV("x"), SV("y")};
    double dv[2] = {1, 2};
    pq_vec v[2] = {{.str = sv}, {.f64 = dv}};
    pq_writer *pw;
    silt_err err;
    buf file = {0};
    assert_int_equal(pq_writer_open(cols, 2, NULL, &pw, &err), SILT_OK);
    assert_int_equal(pq_writer_write(pw, v, 2, &err), SILT_OK);
    assert_int_equal(pq_writer_finish(pw, &file, &err), SILT_OK);
    uint32_t flen = le_get32(file.p + file.len - 8);
    const uint8_t *fm = file.p + file.len - 8 - flen;
    arena a;
    arena_init(&a, 4096);
    pq_file_meta meta;
    assert_int_equal(pq__parse_file_meta(fm, flen, &a, &meta, &err), SILT_OK);
    assert_int_equal(meta.n_schema, 3);
    for (uint32_t k = 0; k < flen; k++) {
        assert_int_equal(pq__parse_file_meta(fm, k, &a, &meta, &err), SILT_ECORRUPT);
        arena_reset(&a);
    }
    arena_fini(&a);
    buf_free(&file);
}

static void test_pq_thrift_skips_unknown_fields_of_every_type(void **state) {
    (void)state;
    buf b = {0};
    tc_writer w;
    tcw_init(&w, &b);
    tcw_begin(&w);
    tcw_i32(&w, 1, 7);
    tcw_field(&w, 50, TC_DOUBLE);
    buf_append(&b, "\0\0\0\0\0\0\xf0\x3f", 8);
    tcw_field(&w, 51, TC_UUID);
    buf_append(&b, "0123456789abcdef", 16);
    tcw_field(&w, 52, TC_MAP);
    buf_put_varint(&b, 2);
    buf_putc(&b, (char)((TC_BINARY << 4) | TC_I32));
    tcw_elem_bin(&w, "k", 1);
    tcw_elem_i32(&w, 5);
    tcw_elem_bin(&w, "l", 1);
    tcw_elem_i32(&w, 6);
    tcw_field(&w, 53, TC_SET);
    tcw_list_header(&w, TC_BINARY, 1);
    tcw_elem_bin(&w, "s", 1);
    tcw_i32(&w, 54, 9);
    tcw_end(&w);
    tc_reader r;
    tcr_init(&r, b.p, b.len);
    assert_true(tcr_enter(&r));
    int16_t last = 0;
    int t, id;
    int32_t got1 = 0, got54 = 0;
    while (tcr_field(&r, &last, &t, &id)) {
        if (id == 1)
            got1 = tcr_i32(&r, t);
        else if (id == 54)
            got54 = tcr_i32(&r, t);
        else
            tcr_skip(&r, t);
    }
    assert_null(r.bad);
    assert_int_equal(got1, 7);
    assert_int_equal(got54, 9);
    buf_free(&b);
}

/* ------------------------------------------------------------------ decoders on noise */

static void test_pq_encode_decoders_survive_random_input(void **state) {
    (void)state;
    uint8_t in[256];
    uint64_t out64[512];
    uint32_t out32[512];
    for (int it = 0; it < 20000; it++) {
        size_t n = pqt_rand() % sizeof in;
        for (size_t i = 0; i < n; i++) in[i] = (uint8_t)pqt_rand();
        if (it % 3 == 0 && n > 4) in[0] = 0x80, in[1] = 0x01, in[2] = (uint8_t)(1 + pqt_rand() % 8);
        pq_rle_dec d;
        pq__rle_init(&d, in, n, (int)(pqt_rand() % 33));
        (void)pq__rle_get_u32(&d, out32, pqt_rand() % 512);
        pq__rle_init(&d, in, n, (int)(pqt_rand() % 9));
        (void)pq__rle_skip(&d, pqt_rand() % 100000, NULL);
        pq_delta_dec dd;
        if (pq__delta_init(&dd, in, n, it % 2 ? 32 : 64)) {
            size_t k = pqt_rand() % 512;
            if (k > dd.total) k = (size_t)dd.total;
            (void)pq__delta_get(&dd, out64, k);
            const uint8_t *end;
            if (pq__delta_finish(&dd, &end)) assert_true(end >= in && end <= in + n);
        }
        pq_page_header h;
        size_t hl;
        if (pq__parse_page_header(in, n, &h, &hl, NULL) == SILT_OK) assert_true(hl <= n);
        arena a;
        arena_init(&a, 4096);
        pq_file_meta fm;
        (void)pq__parse_file_meta(in, n, &a, &fm, NULL);
        pq_column_index ci;
        (void)pq__parse_column_index(in, n, &a, &ci, NULL);
        pq_offset_index oi;
        (void)pq__parse_offset_index(in, n, &a, &oi, NULL);
        arena_fini(&a);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pq_encode_bitpack_spec_example),
        cmocka_unit_test(test_pq_encode_bitpack_all_widths),
        cmocka_unit_test(test_pq_encode_rle_roundtrip),
        cmocka_unit_test(test_pq_encode_rle_levels_compact),
        cmocka_unit_test(test_pq_encode_rle_rejects_bad_runs),
        cmocka_unit_test(test_pq_encode_delta_spec_example),
        cmocka_unit_test(test_pq_encode_delta_roundtrip_extremes),
        cmocka_unit_test(test_pq_encode_delta_rejects_bad_headers),
        cmocka_unit_test(test_pq_encode_byte_stream_split),
        cmocka_unit_test(test_pq_thrift_roundtrip_all_types),
        cmocka_unit_test(test_pq_thrift_spec_encodings),
        cmocka_unit_test(test_pq_thrift_decoder_is_bounded),
        cmocka_unit_test(test_pq_thrift_skips_unknown_fields_of_every_type),
        cmocka_unit_test(test_pq_encode_decoders_survive_random_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
