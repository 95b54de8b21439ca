/* SPDX-License-Identifier: MIT
 *
 * The Arrow IPC stream format (query_arrow.c) read back by a small FlatBuffers reader written
 * here from the spec: framing (continuation marker, metadata lengths padded to 8, messages at
 * multiples of 8, the end-of-stream marker), the message sequence (schema, record batches of
 * QUERY_ARROW_BATCH_ROWS rows, schema alone for an empty result), field names, types and iox::column::type
 * metadata (bare columns, aliases, GROUP BY keys, computed columns, subqueries), buffer
 * layout (validity bitmaps, bit-packed booleans, string offsets), and SILT_ELIMIT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "query/mem_source.h"
#include "query/query_int.h"

static int setup(void **state) {
    mem_source *ms = malloc(sizeof *ms);
    mem_fixture(ms, 2); /* batches of 2 rows: the writer gathers across rows() calls */
    *state = ms;
    return 0;
}

static int teardown(void **state) {
    mem_source_fini(*state);
    free(*state);
    return 0;
}

/* ------------------------------------------------------------------ a FlatBuffers reader */

typedef struct fbr {
    const uint8_t *p;
    size_t n;
} fbr;

static uint32_t u32_at(fbr b, size_t pos) {
    assert_true(pos + 4 <= b.n);
    return le_get32(b.p + pos);
}

/* Position of field id of the table at tab, or 0 when absent. */
static size_t fb_field(fbr b, size_t tab, int id) {
    int32_t so = (int32_t)u32_at(b, tab);
    size_t vt = (size_t)((int64_t)tab - so);
    assert_true(vt + 4 <= b.n);
    uint16_t vt_len = le_get16(b.p + vt);
    if (4 + 2 * (size_t)id >= vt_len) return 0;
    uint16_t off = le_get16(b.p + vt + 4 + 2 * id);
    return off ? tab + off : 0;
}

static size_t fb_deref(fbr b, size_t pos) {
    return pos + u32_at(b, pos);
}

static int64_t fb_i64(fbr b, size_t tab, int id, int64_t dflt) {
    size_t f = fb_field(b, tab, id);
    assert_true(!f || f % 8 == 0); /* aligned (fb.h invariant 1) */
    return f ? (int64_t)le_get64(b.p + f) : dflt;
}

static int fb_u8(fbr b, size_t tab, int id, int dflt) {
    size_t f = fb_field(b, tab, id);
    return f ? b.p[f] : dflt;
}

static int fb_i16(fbr b, size_t tab, int id, int dflt) {
    size_t f = fb_field(b, tab, id);
    return f ? (int16_t)le_get16(b.p + f) : dflt;
}

static const char *fb_str(fbr b, size_t tab, int id, char *tmp, size_t cap) {
    size_t f = fb_field(b, tab, id);
    if (!f) return NULL;
    size_t s = fb_deref(b, f);
    uint32_t n = u32_at(b, s);
    assert_true(s + 4 + n < b.n && b.p[s + 4 + n] == 0);
    snprintf(tmp, cap, "%.*s", (int)n, (const char *)b.p + s + 4);
    return tmp;
}

/* The vector at field id: its element count, and the position of element 0 in *first. */
static uint32_t fb_vec(fbr b, size_t tab, int id, size_t *first) {
    size_t f = fb_field(b, tab, id);
    if (!f) return 0;
    size_t v = fb_deref(b, f);
    *first = v + 4;
    return u32_at(b, v);
}

/* ------------------------------------------------------------------ the stream */

typedef struct amsg {
    fbr meta;   /* the Message flatbuffer */
    size_t msg; /* its root table */
    int type;   /* header_type */
    size_t hdr; /* header table */
    const uint8_t *body;
    int64_t body_len;
} amsg;

typedef struct astream {
    amsg m[16];
    size_t n;
} astream;

/* Split a stream into messages, checking the framing rules on the way. */
static void parse_stream(const buf *b, size_t from, astream *s) {
    size_t pos = from;
    s->n = 0;
    for (;;) {
        assert_true((pos - from) % 8 == 0);
        assert_true(pos + 8 <= b->len);
        assert_int_equal(le_get32(b->p + pos), 0xFFFFFFFFu);
        uint32_t mlen = le_get32(b->p + pos + 4);
        pos += 8;
        if (mlen == 0) break; /* end of stream */
        assert_int_equal(mlen % 8, 0);
        assert_true(pos + mlen <= b->len && s->n < 16);
        amsg *m = &s->m[s->n++];
        m->meta = (fbr){b->p + pos, mlen};
        m->msg = fb_deref(m->meta, 0);
        assert_int_equal(fb_i16(m->meta, m->msg, 0, 0), 4); /* MetadataVersion V5 */
        m->type = fb_u8(m->meta, m->msg, 1, 0);
        m->hdr = fb_deref(m->meta, fb_field(m->meta, m->msg, 2));
        m->body_len = fb_i64(m->meta, m->msg, 3, 0);
        assert_int_equal(m->body_len % 8, 0);
        pos += mlen;
        m->body = b->p + pos;
        pos += (size_t)m->body_len;
    }
    assert_int_equal(pos, b->len); /* EOS is the end */
}

/* Run sql as arrow, parse the stream into s (the output stays in out). */
static void run(mem_source *ms, const char *sql, buf *out, astream *s) {
    silt_err err = {0};
    buf_reset(out);
    int rc = mem_query(ms, "db", sql, QUERY_FMT_ARROW, 0, out, &err);
    if (rc != SILT_OK) fail_msg("%s: rc %d: %s", sql, rc, err.msg);
    parse_stream(out, 0, s);
    assert_true(s->n >= 1);
    assert_int_equal(s->m[0].type, 1); /* Schema first */
    assert_int_equal(s->m[0].body_len, 0);
}

/* Field k of the schema: name, type tag, iox::column::type (NULL if none). */
typedef struct afield {
    char name[64];
    int type;
    char iox[64];
    bool has_iox;
    size_t tab;
} afield;

static uint32_t schema_fields(const amsg *m, afield *out, size_t cap) {
    size_t first;
    uint32_t n = fb_vec(m->meta, m->hdr, 1, &first);
    assert_true(n <= cap);
    for (uint32_t k = 0; k < n; k++) {
        afield *f = &out[k];
        memset(f, 0, sizeof *f);
        size_t ft = fb_deref(m->meta, first + 4 * k);
        f->tab = ft;
        assert_non_null(fb_str(m->meta, ft, 0, f->name, sizeof f->name));
        assert_int_equal(fb_u8(m->meta, ft, 1, 0), 1); /* nullable */
        f->type = fb_u8(m->meta, ft, 2, 0);
        size_t ch;
        assert_non_null(fb_field(m->meta, ft, 5)); /* children: present, empty */
        assert_int_equal(fb_vec(m->meta, ft, 5, &ch), 0);
        size_t kv0;
        uint32_t nkv = fb_vec(m->meta, ft, 6, &kv0);
        for (uint32_t j = 0; j < nkv; j++) {
            size_t kv = fb_deref(m->meta, kv0 + 4 * j);
            char key[64];
            assert_string_equal(fb_str(m->meta, kv, 0, key, sizeof key), "iox::column::type");
            fb_str(m->meta, kv, 1, f->iox, sizeof f->iox);
            f->has_iox = true;
        }
    }
    return n;
}

/* ------------------------------------------------------------------ tests */

static void test_query_arrow_stream_framing(void **state) {
    buf b = {0};
    astream s;
    run(*state, "SELECT * FROM cpu", &b, &s);
    assert_int_equal(s.n, 2); /* schema, one batch */
    assert_int_equal(s.m[1].type, 3);
    assert_int_equal(fb_i64(s.m[1].meta, s.m[1].hdr, 0, -1), 6); /* length */
    assert_int_equal(b.len % 8, 0);
    assert_memory_equal(b.p + b.len - 8, "\xff\xff\xff\xff\0\0\0\0", 8);
    assert_memory_equal(b.p, "\xff\xff\xff\xff", 4);
    buf_free(&b);
}

static void test_query_arrow_types_and_metadata(void **state) {
    buf b = {0};
    astream s;
    afield f[16];
    run(*state,
        "SELECT host, usage AS u, count, big, msg, ok, time, usage * 2 AS d, lower(host) AS lh "
        "FROM cpu",
        &b, &s);
    assert_int_equal(schema_fields(&s.m[0], f, 16), 9);
    static const struct {
        const char *name;
        int type;
        const char *iox;
    } want[] = {
        {"host", 5, "iox::column_type::tag"},
        {"u", 3, "iox::column_type::field::float"},
        {"count", 2, "iox::column_type::field::integer"},
        {"big", 2, "iox::column_type::field::uinteger"},
        {"msg", 5, "iox::column_type::field::string"},
        {"ok", 6, "iox::column_type::field::boolean"},
        {"time", 10, "iox::column_type::timestamp"},
        {"d", 3, NULL},
        {"lh", 5, NULL},
    };
    for (size_t k = 0; k < 9; k++) {
        assert_string_equal(f[k].name, want[k].name);
        assert_int_equal(f[k].type, want[k].type);
        if (want[k].iox)
            assert_string_equal(f[k].iox, want[k].iox);
        else
            assert_false(f[k].has_iox);
    }
    /* Int(64, signed / unsigned), FloatingPoint(DOUBLE), Timestamp(NANOSECOND, no zone) */
    fbr m = s.m[0].meta;
    size_t ty = fb_deref(m, fb_field(m, f[2].tab, 3));
    assert_int_equal((int32_t)u32_at(m, fb_field(m, ty, 0)), 64);
    assert_int_equal(fb_u8(m, ty, 1, 0), 1);
    ty = fb_deref(m, fb_field(m, f[3].tab, 3));
    assert_int_equal(fb_u8(m, ty, 1, 0), 0);
    ty = fb_deref(m, fb_field(m, f[1].tab, 3));
    assert_int_equal(fb_i16(m, ty, 0, 0), 2);
    ty = fb_deref(m, fb_field(m, f[6].tab, 3));
    assert_int_equal(fb_i16(m, ty, 0, 0), 3);
    assert_int_equal(fb_field(m, ty, 1), 0);

    /* a GROUP BY key passes its column on; aggregates are computed */
    run(*state, "SELECT host, count(*) AS n, max(usage) FROM cpu GROUP BY host", &b, &s);
    assert_int_equal(schema_fields(&s.m[0], f, 16), 3);
    assert_string_equal(f[0].iox, "iox::column_type::tag");
    assert_false(f[1].has_iox);
    assert_false(f[2].has_iox);
    /* through a subquery and a CTE; system tables have none */
    run(*state, "SELECT * FROM (SELECT host, usage * 2 AS d, ok FROM cpu)", &b, &s);
    assert_int_equal(schema_fields(&s.m[0], f, 16), 3);
    assert_string_equal(f[0].iox, "iox::column_type::tag");
    assert_false(f[1].has_iox);
    assert_string_equal(f[2].iox, "iox::column_type::field::boolean");
    run(*state, "WITH c AS (SELECT time, region FROM cpu) SELECT region, time FROM c", &b, &s);
    assert_int_equal(schema_fields(&s.m[0], f, 16), 2);
    assert_string_equal(f[0].iox, "iox::column_type::tag");
    assert_string_equal(f[1].iox, "iox::column_type::timestamp");
    run(*state, "SELECT table_name FROM information_schema.tables", &b, &s);
    assert_int_equal(schema_fields(&s.m[0], f, 16), 1);
    assert_false(f[0].has_iox);
    buf_free(&b);
}

/* Buffer k of a record batch: its bytes and length. */
static const uint8_t *batch_buffer(const amsg *m, size_t k, int64_t *len) {
    size_t first;
    uint32_t n = fb_vec(m->meta, m->hdr, 2, &first);
    assert_true(k < n);
    assert_int_equal(first % 8, 0);
    int64_t off = (int64_t)le_get64(m->meta.p + first + 16 * k);
    *len = (int64_t)le_get64(m->meta.p + first + 16 * k + 8);
    assert_int_equal(off % 8, 0);
    assert_true(off + *len <= m->body_len);
    return m->body + off;
}

static void test_query_arrow_buffers(void **state) {
    buf b = {0};
    astream s;
    /* rows 1..6 by id: ok = t f NULL t f t; msg NULL at 3 and 5; host never NULL */
    run(*state, "SELECT ok, msg, host FROM cpu ORDER BY id", &b, &s);
    const amsg *m = &s.m[1];
    size_t nodes;
    assert_int_equal(fb_vec(m->meta, m->hdr, 1, &nodes), 3);
    assert_int_equal(le_get64(m->meta.p + nodes), 6);      /* ok: length */
    assert_int_equal(le_get64(m->meta.p + nodes + 8), 1);  /* ok: null_count */
    assert_int_equal(le_get64(m->meta.p + nodes + 40), 0); /* host: null_count */
    int64_t len;
    const uint8_t *p = batch_buffer(m, 0, &len); /* ok validity */
    assert_int_equal(len, 1);
    assert_int_equal(p[0], 0x3B); /* 0b111011: row 3 NULL */
    p = batch_buffer(m, 1, &len); /* ok values, bit-packed */
    assert_int_equal(len, 1);
    assert_int_equal(p[0], 0x29); /* 0b101001 */
    p = batch_buffer(m, 2, &len); /* msg validity */
    assert_int_equal(p[0], 0x2B); /* 0b101011 */
    p = batch_buffer(m, 3, &len); /* msg offsets */
    assert_int_equal(len, 7 * 4);
    static const int32_t off[] = {0, 5, 8, 8, 17, 17, 27}; /* hello a,b - quote "x" - multi\nline */
    for (int k = 0; k < 7; k++) assert_int_equal((int32_t)le_get32(p + 4 * k), off[k]);
    const uint8_t *data = batch_buffer(m, 4, &len);
    assert_int_equal(len, 27);
    assert_memory_equal(data, "helloa,bquote \"x\"multi\nline", 27);
    batch_buffer(m, 5, &len); /* host validity: no NULLs, no bitmap */
    assert_int_equal(len, 0);
    buf_free(&b);
}

static void test_query_arrow_empty_result(void **state) {
    buf b = {0};
    astream s;
    afield f[4];
    run(*state, "SELECT host, usage FROM cpu WHERE host = 'nowhere'", &b, &s);
    assert_int_equal(s.n, 1); /* the schema alone, then EOS */
    assert_int_equal(schema_fields(&s.m[0], f, 4), 2);
    buf_free(&b);
}

static void test_query_arrow_batches_of_batch_rows(void **state) {
    (void)state;
    mem_source ms;
    mem_source_init(&ms, 5000);
    mem_table *t = mem_table_add(&ms, "db", "big");
    mem_col(t, "v", QCOL_FIELD, LP_INT);
    mem_col(t, "s", QCOL_FIELD, LP_STRING);
    size_t n = 2 * QUERY_ARROW_BATCH_ROWS + 5;
    for (size_t i = 0; i < n; i++) mem_row(t, (int64_t)i, i % 3 ? "v=1|s=ab" : "v=2");
    buf b = {0};
    astream s;
    run(&ms, "SELECT v, s, time FROM big", &b, &s);
    assert_int_equal(s.n, 4);
    static const int64_t rows[] = {QUERY_ARROW_BATCH_ROWS, QUERY_ARROW_BATCH_ROWS, 5};
    for (size_t k = 0; k < 3; k++) {
        const amsg *m = &s.m[1 + k];
        assert_int_equal(m->type, 3);
        assert_int_equal(fb_i64(m->meta, m->hdr, 0, -1), rows[k]);
        int64_t len;
        const uint8_t *off = batch_buffer(m, 3, &len); /* s offsets */
        assert_int_equal(len, 4 * (rows[k] + 1));
        assert_int_equal(le_get32(off), 0); /* each batch's offsets start at 0 */
    }
    /* the last batch's validity of s: row i has s when i % 3 != 0 */
    int64_t len;
    const uint8_t *v = batch_buffer(&s.m[3], 2, &len);
    unsigned want = 0;
    for (unsigned k = 0; k < 5; k++) want |= ((2 * QUERY_ARROW_BATCH_ROWS + k) % 3 != 0) << k;
    assert_int_equal(v[0], want);
    buf_free(&b);
    mem_source_fini(&ms);
}

/* Batches of long strings are cut once they hold QUERY_ARROW_BATCH_BYTES, far below gRPC's
 * 4 MiB message limit, before QUERY_ARROW_BATCH_ROWS rows. */
static void test_query_arrow_batches_cut_by_bytes(void **state) {
    (void)state;
    mem_source ms;
    mem_source_init(&ms, 1000);
    mem_table *t = mem_table_add(&ms, "db", "wide");
    mem_col(t, "s", QCOL_FIELD, LP_STRING);
    char row[1100] = "s=";
    memset(row + 2, 'x', 1000);
    row[1002] = 0;
    size_t n = 5000;
    for (size_t i = 0; i < n; i++) mem_row(t, (int64_t)i, row);
    buf b = {0};
    astream s;
    run(&ms, "SELECT s FROM wide", &b, &s);
    assert_true(s.n >= 4); /* the schema and at least three batches */
    int64_t total = 0;
    for (size_t k = 1; k < s.n; k++) {
        int64_t rows = fb_i64(s.m[k].meta, s.m[k].hdr, 0, -1);
        assert_true(rows > 0 && rows < QUERY_ARROW_BATCH_ROWS);
        assert_true(s.m[k].body_len < (int64_t)QUERY_ARROW_BATCH_BYTES + 1100 * 2);
        total += rows;
    }
    assert_int_equal(total, (int64_t)n);
    buf_free(&b);
    mem_source_fini(&ms);
}

static void test_query_arrow_limit(void **state) {
    mem_source *ms = *state;
    buf b = {0};
    silt_err err = {0};
    assert_int_equal(mem_query(ms, "db", "SELECT * FROM cpu", QUERY_FMT_ARROW, 0, &b, &err),
                     SILT_OK);
    size_t whole = b.len;
    /* one byte less fails, on the rows or at the end; the whole stream fits exactly */
    buf_reset(&b);
    buf_puts(&b, "keep");
    assert_int_equal(mem_query(ms, "db", "SELECT * FROM cpu", QUERY_FMT_ARROW, whole - 1, &b, &err),
                     SILT_ELIMIT);
    assert_int_equal(b.len, 4); /* no partial result */
    assert_non_null(strstr(err.msg, "max_result_bytes"));
    /* an error after the stream began leaves nothing either (ASan checks the state) */
    assert_int_equal(
        mem_query(ms, "db", "SELECT count / (count - 3) FROM cpu", QUERY_FMT_ARROW, 0, &b, &err),
        SILT_EINVAL);
    assert_int_equal(b.len, 4);
    assert_int_equal(mem_query(ms, "db", "SELECT * FROM cpu", QUERY_FMT_ARROW, 100, &b, &err),
                     SILT_ELIMIT); /* the schema alone is larger */
    assert_int_equal(b.len, 4);
    buf_reset(&b);
    assert_int_equal(mem_query(ms, "db", "SELECT * FROM cpu", QUERY_FMT_ARROW, whole, &b, &err),
                     SILT_OK);
    assert_int_equal(b.len, whole);
    buf_free(&b);
}

static void test_query_arrow_format_name(void **state) {
    (void)state;
    query_format f;
    assert_int_equal(query_format_parse("arrow", &f), SILT_OK);
    assert_int_equal(f, QUERY_FMT_ARROW);
    assert_int_equal(query_format_parse("ARROW", &f), SILT_OK);
    assert_string_equal(query_format_content_type(QUERY_FMT_ARROW),
                        "application/vnd.apache.arrow.stream");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_arrow_stream_framing),
        cmocka_unit_test(test_query_arrow_types_and_metadata),
        cmocka_unit_test(test_query_arrow_buffers),
        cmocka_unit_test(test_query_arrow_empty_result),
        cmocka_unit_test(test_query_arrow_batches_of_batch_rows),
        cmocka_unit_test(test_query_arrow_batches_cut_by_bytes),
        cmocka_unit_test(test_query_arrow_limit),
        cmocka_unit_test(test_query_arrow_format_name),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
