/* SPDX-License-Identifier: MIT
 *
 * ingest tests: line protocol -> payload -> decoded rows, and the schema rules that reject
 * lines (type conflicts, tag/field conflicts, limits, accept_partial=false). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ingest/ingest.h"
#include "support/support.h"

#include <stdio.h>
#include <stdlib.h>

/* A sink that prints the decoded payload as text, one line per event. */
typedef struct rec_sink {
    buf out;
    ingest_col cols[64];
    uint32_t n_cols;
} rec_sink;

static int on_table(void *arg, str_view db, str_view t, const ingest_col *cols, uint32_t n) {
    rec_sink *r = arg;
    buf_printf(&r->out, "table %.*s.%.*s:", (int)db.n, db.p, (int)t.n, t.p);
    for (uint32_t i = 0; i < n; i++) {
        buf_printf(&r->out, " %.*s/%s", (int)cols[i].name.n, cols[i].name.p,
                   cols[i].kind == SCHEMA_TAG ? "tag" : lp_type_name((lp_type)cols[i].type));
        r->cols[i] = cols[i];
    }
    r->n_cols = n;
    buf_putc(&r->out, '\n');
    return 0;
}

static int on_series(void *arg, uint32_t ref, const uint32_t *refs, const str_view *v, uint32_t n) {
    rec_sink *r = arg;
    buf_printf(&r->out, "series %u:", ref);
    for (uint32_t i = 0; i < n; i++)
        buf_printf(&r->out, " %.*s=%.*s", (int)r->cols[refs[i]].name.n, r->cols[refs[i]].name.p,
                   (int)v[i].n, v[i].p);
    buf_putc(&r->out, '\n');
    return 0;
}

static int on_row(void *arg, uint32_t sref, int64_t t, const uint32_t *refs, const ingest_value *v,
                  uint32_t n) {
    rec_sink *r = arg;
    buf_printf(&r->out, "row s%u t=%lld:", sref, (long long)t);
    for (uint32_t i = 0; i < n; i++) {
        const ingest_col *c = &r->cols[refs[i]];
        buf_printf(&r->out, " %.*s=", (int)c->name.n, c->name.p);
        switch (c->type) {
            case LP_FLOAT: buf_put_double(&r->out, v[i].v.f); break;
            case LP_INT: buf_printf(&r->out, "%lldi", (long long)v[i].v.i); break;
            case LP_UINT: buf_printf(&r->out, "%lluu", (unsigned long long)v[i].v.u); break;
            case LP_BOOL: buf_puts(&r->out, v[i].v.b ? "true" : "false"); break;
            case LP_STRING: buf_printf(&r->out, "\"%.*s\"", (int)v[i].s.n, v[i].s.p); break;
        }
    }
    buf_putc(&r->out, '\n');
    return 0;
}

static const ingest_sink rec = {on_table, on_series, on_row};

static char *decode_text(const ingest_batch *b) {
    rec_sink r = {0};
    silt_err err = {0};
    int rc = ingest_decode(b->payload.p, b->payload.len, &rec, &r, &err);
    if (rc) fail_msg("decode: %s", err.msg);
    return buf_cstr(&r.out);
}

static schema *new_schema(void) {
    schema_limits lim = {0};
    return schema_create(&lim);
}

static void test_ingest_roundtrip_all_types_and_tables(void **state) {
    (void)state;
    schema *s = new_schema();
    ingest_batch b;
    support_ingest(s, "db",
                   "cpu,host=a,dc=x\\ y usage=1.5,n=-3i,u=7u,ok=true,msg=\"he said \\\"hi\\\"\" 10\n"
                   "mem,host=a free=2i 20\n"
                   "cpu,host=b usage=2.5 30\n"
                   "cpu,dc=x\\ y,host=a usage=3.5 40\n",
                   &b);
    assert_int_equal(b.n_rejects, 0);
    assert_int_equal(b.n_lines_ok, 4);
    assert_int_equal(b.n_rows, 4);
    assert_int_equal(b.n_values, 8);
    assert_true(b.payload_crc == crc32c(0, b.payload.p, b.payload.len));
    char *txt = decode_text(&b);
    assert_string_equal(txt,
        "table db.cpu: host/tag dc/tag usage/float n/integer u/unsigned ok/boolean msg/string\n"
        "series 0: host=a dc=x y\n"
        "series 1: host=b\n"
        "series 2: dc=x y host=a\n"
        "row s0 t=10: usage=1.5 n=-3i u=7u ok=true msg=\"he said \"hi\"\"\n"
        "row s1 t=30: usage=2.5\n"
        "row s2 t=40: usage=3.5\n"
        "table db.mem: host/tag free/integer\n"
        "series 0: host=a\n"
        "row s0 t=20: free=2i\n");
    free(txt);
    ingest_batch_fini(&b);
    schema_destroy(s);
}

static void test_ingest_type_conflict_rejects_the_line(void **state) {
    (void)state;
    schema *s = new_schema();
    ingest_batch b;
    support_ingest(s, "db", "m v=1.5 1\nm v=2i 2\nm v=3.5 3\n", &b);
    assert_int_equal(b.n_lines_ok, 2);
    assert_int_equal(b.n_rejects, 1);
    assert_int_equal(b.rejects[0].line_no, 2);
    assert_int_equal(b.rejects[0].column, 3);
    assert_non_null(strstr(b.rejects[0].reason, "has type float"));
    assert_non_null(strstr(b.rejects[0].reason, "integer"));
    assert_true(sv_eq(b.rejects[0].raw, SV("m v=2i 2")));
    ingest_batch_fini(&b);
    /* the type is fixed across requests too */
    support_ingest(s, "db", "m v=\"text\" 4\n", &b);
    assert_int_equal(b.n_rejects, 1);
    assert_int_equal(b.payload.len, 0);
    assert_non_null(strstr(b.rejects[0].reason, "string"));
    ingest_batch_fini(&b);
    schema_destroy(s);
}

static void test_ingest_tag_and_field_with_one_name_conflict(void **state) {
    (void)state;
    schema *s = new_schema();
    ingest_batch b;
    support_ingest(s, "db", "m,k=a v=1 1\nm v=1,k=2 2\n", &b);
    assert_int_equal(b.n_lines_ok, 1);
    assert_int_equal(b.n_rejects, 1);
    assert_int_equal(b.rejects[0].line_no, 2);
    assert_non_null(strstr(b.rejects[0].reason, "is a tag"));
    ingest_batch_fini(&b);
    support_ingest(s, "db", "m,v=x k2=1 3\n", &b); /* v is a field */
    assert_int_equal(b.n_rejects, 1);
    assert_non_null(strstr(b.rejects[0].reason, "is a field"));
    ingest_batch_fini(&b);
    schema_destroy(s);
}

static void test_ingest_accept_partial_false_writes_nothing(void **state) {
    (void)state;
    schema *s = new_schema();
    ingest_batch b;
    ingest_batch_init(&b);
    const char *lp = "m v=1 1\nbad\nm v=2 2\n";
    ingest_opts o = {"db", 2, LP_PREC_NS, 0, false};
    assert_int_equal(ingest_build(s, &o, lp, strlen(lp), &b, NULL), SILT_OK);
    assert_int_equal(b.payload.len, 0);
    assert_int_equal(b.n_lines_ok, 0);
    assert_int_equal(b.n_rejects, 1);
    assert_int_equal(b.rejects[0].line_no, 2);
    ingest_batch_fini(&b);
    schema_destroy(s);
}

static void test_ingest_invalid_database_name(void **state) {
    (void)state;
    schema *s = new_schema();
    ingest_batch b;
    ingest_batch_init(&b);
    ingest_opts o = {"bad name!", 9, LP_PREC_NS, 0, true};
    silt_err err = {0};
    assert_int_equal(ingest_build(s, &o, "m v=1", 5, &b, &err), SILT_EINVAL);
    assert_non_null(strstr(err.msg, "database name"));
    ingest_batch_fini(&b);
    schema_destroy(s);
}

static void test_ingest_column_limit_rejects_line(void **state) {
    (void)state;
    schema_limits lim = {10, 10, 3};
    schema *s = schema_create(&lim);
    ingest_batch b;
    support_ingest(s, "db", "m,t=1 a=1,b=2 1\nm,t=1 c=3 2\nm,t=1 a=4 3\n", &b);
    assert_int_equal(b.n_lines_ok, 2);
    assert_int_equal(b.n_rejects, 1);
    assert_int_equal(b.rejects[0].line_no, 2);
    assert_non_null(strstr(b.rejects[0].reason, "limit of 3 columns"));
    ingest_batch_fini(&b);
    schema_destroy(s);
}

static void test_ingest_time_defaults_to_receipt(void **state) {
    (void)state;
    schema *s = new_schema();
    ingest_batch b;
    support_ingest(s, "db", "m v=1\n", &b); /* support: now = 1000 */
    char *txt = decode_text(&b);
    assert_non_null(strstr(txt, "row s0 t=1000:"));
    free(txt);
    ingest_batch_fini(&b);
    schema_destroy(s);
}

static void test_ingest_decode_never_trusts_bytes(void **state) {
    (void)state;
    schema *s = new_schema();
    ingest_batch b;
    support_ingest(s, "db", "cpu,host=a usage=1.5,n=3i,ok=t,msg=\"x\" 10\ncpu,host=b u=1u 20\n", &b);
    rec_sink r = {0};
    silt_err err = {0};
    /* every truncation is rejected as corrupt, never a crash or a read past the end */
    for (size_t n = 0; n < b.payload.len; n++) {
        uint8_t *copy = xmalloc(n ? n : 1);
        memcpy(copy, b.payload.p, n);
        buf_reset(&r.out);
        assert_int_equal(ingest_decode(copy, n, &rec, &r, &err), SILT_ECORRUPT);
        free(copy);
    }
    /* every single-byte change either decodes or is rejected */
    for (size_t i = 0; i < b.payload.len; i++) {
        uint8_t *copy = xmalloc(b.payload.len);
        memcpy(copy, b.payload.p, b.payload.len);
        copy[i] ^= 0xff;
        buf_reset(&r.out);
        int rc = ingest_decode(copy, b.payload.len, &rec, &r, &err);
        assert_true(rc == SILT_OK || rc == SILT_ECORRUPT);
        free(copy);
    }
    buf_free(&r.out);
    ingest_batch_fini(&b);
    schema_destroy(s);
}

static void test_ingest_rejected_lines_leave_no_schema_trace(void **state) {
    (void)state;
    schema *s = new_schema();
    ingest_batch b;
    /* a line rejected for its type adds none of its other new columns */
    support_ingest(s, "db", "tc f=1.5 1\n", &b);
    ingest_batch_fini(&b);
    support_ingest(s, "db", "tc,newtag=a f=1i,g=2 2\n", &b);
    assert_int_equal(b.n_rejects, 1);
    ingest_batch_fini(&b);
    schema_rdlock(s);
    schema_table *t = schema_table_find(schema_db_find(s, "db", 2), "tc", 2);
    assert_non_null(t);
    assert_int_equal(t->n_cols, 1);
    assert_null(schema_col_find(t, "newtag", 6));
    assert_null(schema_col_find(t, "g", 1));
    schema_unlock(s);
    /* a request rejected as a whole creates no table or column */
    ingest_opts o = {"db", 2, LP_PREC_NS, 0, false};
    ingest_batch_init(&b);
    const char *lp = "ghost f=1i 1\nbroken\n";
    assert_int_equal(ingest_build(s, &o, lp, strlen(lp), &b, NULL), SILT_OK);
    assert_int_equal(b.payload.len, 0);
    ingest_batch_fini(&b);
    schema_rdlock(s);
    assert_null(schema_table_find(schema_db_find(s, "db", 2), "ghost", 5));
    schema_unlock(s);
    support_ingest(s, "db", "ghost f=1.5 2\n", &b); /* so the float write is accepted */
    assert_int_equal(b.n_rejects, 0);
    ingest_batch_fini(&b);
    /* a request that writes nothing creates no database */
    support_ingest(s, "nothing", "", &b);
    ingest_batch_fini(&b);
    support_ingest(s, "nothing", "bad line\n", &b);
    assert_int_equal(b.n_rejects, 1);
    ingest_batch_fini(&b);
    schema_rdlock(s);
    assert_null(schema_db_find(s, "nothing", 7));
    schema_unlock(s);
    schema_destroy(s);
}

static void test_ingest_limits_count_columns_of_this_request(void **state) {
    (void)state;
    schema_limits lim = {10, 2, 3};
    schema *s = schema_create(&lim);
    ingest_batch b;
    /* two new tables fit, the third does not; columns: 3 per table across lines */
    support_ingest(s, "db", "a x=1 1\nb y=1 1\nc z=1 1\na,t=1 x=2,w=3 2\na,t=1 v=1 3\n", &b);
    assert_int_equal(b.n_lines_ok, 3);
    assert_int_equal(b.n_rejects, 2);
    assert_int_equal(b.rejects[0].line_no, 3);
    assert_non_null(strstr(b.rejects[0].reason, "limit of 2 tables"));
    assert_int_equal(b.rejects[1].line_no, 5);
    assert_non_null(strstr(b.rejects[1].reason, "limit of 3 columns"));
    ingest_batch_fini(&b);
    schema_destroy(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest_roundtrip_all_types_and_tables),
        cmocka_unit_test(test_ingest_type_conflict_rejects_the_line),
        cmocka_unit_test(test_ingest_tag_and_field_with_one_name_conflict),
        cmocka_unit_test(test_ingest_accept_partial_false_writes_nothing),
        cmocka_unit_test(test_ingest_invalid_database_name),
        cmocka_unit_test(test_ingest_column_limit_rejects_line),
        cmocka_unit_test(test_ingest_time_defaults_to_receipt),
        cmocka_unit_test(test_ingest_decode_never_trusts_bytes),
        cmocka_unit_test(test_ingest_rejected_lines_leave_no_schema_trace),
        cmocka_unit_test(test_ingest_limits_count_columns_of_this_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
