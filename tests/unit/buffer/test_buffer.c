/* SPDX-License-Identifier: MIT
 *
 * buffer tests: applying payloads, last-write-wins merge field by field, out-of-order times,
 * day partitions and time pruning, NULLs for missing tags/fields, scans across row blocks,
 * and the query_source schema view. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "buffer/buffer.h"
#include "support/support.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct fixture {
    uint64_t seq;
    schema *s;
    buffer *b;
    query_source src;
} fixture;

static int setup(void **state) {
    fixture *f = xcalloc(1, sizeof *f);
    schema_limits lim = {0};
    f->s = schema_create(&lim);
    f->b = buffer_create(f->s);
    buffer_source(f->b, &f->src);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    buffer_destroy(f->b);
    schema_destroy(f->s);
    free(f);
    return 0;
}

static void write_lp(fixture *f, const char *lp) {
    ingest_batch ib;
    support_ingest(f->s, "db", lp, &ib);
    assert_int_equal(ib.n_rejects, 0);
    silt_err err = {0};
    if (buffer_apply(f->b, ++f->seq, ib.payload.p, ib.payload.len, &err))
        fail_msg("apply: %s", err.msg);
    ingest_batch_fini(&ib);
}

typedef struct dump {
    buf out;
    const query_table *t;
    const size_t *idx;
    size_t n_cols;
    size_t rows, batches;
} dump;

static int dump_batch(void *arg, const query_batch *qb) {
    dump *d = arg;
    d->batches++;
    for (size_t r = 0; r < qb->n_rows; r++) {
        d->rows++;
        for (size_t c = 0; c < d->n_cols; c++) {
            const query_column *col = &d->t->cols[d->idx[c]];
            const query_vec *v = &qb->cols[c];
            buf_puts(&d->out, c ? " " : "");
            if (v->valid && !v->valid[r]) {
                buf_puts(&d->out, "-");
                continue;
            }
            if (col->kind == QCOL_TIME)
                buf_printf(&d->out, "%lld", (long long)v->i64[r]);
            else if (col->kind == QCOL_TAG || col->type == LP_STRING)
                buf_append(&d->out, v->str[r].p, v->str[r].n);
            else if (col->type == LP_FLOAT)
                buf_put_double(&d->out, v->f64[r]);
            else if (col->type == LP_INT)
                buf_printf(&d->out, "%lld", (long long)v->i64[r]);
            else if (col->type == LP_UINT)
                buf_printf(&d->out, "%llu", (unsigned long long)v->u64[r]);
            else
                buf_puts(&d->out, v->b[r] ? "t" : "f");
        }
        buf_putc(&d->out, '\n');
    }
    return QUERY_SCAN_CONTINUE;
}

/* Scan every column of table t (sorted by name) in [t_min, t_max]; returns the text. */
static char *scan_all(fixture *f, const char *table, int64_t t_min, int64_t t_max, size_t *rows) {
    query_table qt;
    silt_err err = {0};
    assert_int_equal(f->src.table_schema(&f->src, "db", table, &qt, &err), SILT_OK);
    size_t *idx = xcalloc(qt.n_cols, sizeof *idx);
    for (size_t i = 0; i < qt.n_cols; i++) idx[i] = i;
    dump d = {.t = &qt, .idx = idx, .n_cols = qt.n_cols};
    buf_puts(&d.out, "");
    for (size_t i = 0; i < qt.n_cols; i++)
        buf_printf(&d.out, "%s%s", i ? " " : "", qt.cols[i].name);
    buf_putc(&d.out, '\n');
    query_scan_req req = {.db = "db",
                          .table = table,
                          .schema = &qt,
                          .col_idx = idx,
                          .n_cols = qt.n_cols,
                          .t_min = t_min,
                          .t_max = t_max};
    assert_int_equal(f->src.scan(&f->src, &req, dump_batch, &d, &err), SILT_OK);
    if (rows) *rows = d.rows;
    f->src.table_release(&f->src, &qt);
    free(idx);
    return buf_cstr(&d.out);
}

static void test_buffer_apply_and_scan_all_types(void **state) {
    fixture *f = *state;
    write_lp(f, "m,host=a s=\"x\",i=-1i,u=2u,b=true,x=1.5 100\nm,host=b x=2.5 200\n");
    char *t = scan_all(f, "m", INT64_MIN, INT64_MAX, NULL);
    assert_string_equal(t, "b host i s time u x\n"
                           "t a -1 x 100 2 1.5\n"
                           "- b - - 200 - 2.5\n");
    free(t);
}

static void test_buffer_last_write_wins_field_by_field(void **state) {
    fixture *f = *state;
    write_lp(f, "m,host=a x=1,y=10 100\n");
    write_lp(f, "m,host=a x=2 100\n");       /* same series and time: x replaced, y kept */
    write_lp(f, "m,host=a y=30,z=5i 100\n"); /* y replaced, z added */
    write_lp(f, "m,host=b x=9 100\n");       /* another series: a new row */
    size_t rows;
    char *t = scan_all(f, "m", INT64_MIN, INT64_MAX, &rows);
    assert_int_equal(rows, 2);
    assert_string_equal(t, "host time x y z\n"
                           "a 100 2 30 5\n"
                           "b 100 9 - -\n");
    free(t);
    buffer_stats bs;
    buffer_get_stats(f->b, &bs);
    assert_int_equal(bs.rows, 2);
    assert_int_equal(bs.merged_rows, 2);
}

static void test_buffer_merge_within_one_request_keeps_later_line(void **state) {
    fixture *f = *state;
    write_lp(f, "m,host=a x=1 100\nm,host=a x=2 100\n");
    char *t = scan_all(f, "m", INT64_MIN, INT64_MAX, NULL);
    assert_string_equal(t, "host time x\na 100 2\n");
    free(t);
}

static void test_buffer_out_of_order_times_merge(void **state) {
    fixture *f = *state;
    write_lp(f, "m x=1 300\nm x=2 100\nm x=3 200\nm x=4 100\nm x=5 300\nm x=6 50\n");
    size_t rows;
    char *t = scan_all(f, "m", INT64_MIN, INT64_MAX, &rows);
    assert_int_equal(rows, 4); /* times 300, 100, 200, 50 */
    assert_string_equal(t, "time x\n300 5\n100 4\n200 3\n50 6\n");
    free(t);
}

static void test_buffer_day_partitions_and_time_pruning(void **state) {
    fixture *f = *state;
    const int64_t day = NS_PER_DAY;
    char lp[512];
    snprintf(lp, sizeof lp, "m x=1 %lld\nm x=2 %lld\nm x=3 %lld\nm x=4 -5\n", (long long)(day + 1),
             (long long)(3 * day + 1), (long long)(day + 2));
    write_lp(f, lp);
    buffer_stats bs;
    buffer_get_stats(f->b, &bs);
    assert_int_equal(bs.chunks, 3); /* days -1, 1 and 3 */
    size_t rows;
    char *t = scan_all(f, "m", day, 2 * day - 1, &rows);
    assert_int_equal(rows, 2); /* only day 1's chunk is read */
    free(t);
    t = scan_all(f, "m", INT64_MIN, INT64_MAX, &rows);
    assert_int_equal(rows, 4);
    /* chunks come in day order */
    char expect[256];
    snprintf(expect, sizeof expect, "time x\n-5 4\n%lld 1\n%lld 3\n%lld 2\n", (long long)(day + 1),
             (long long)(day + 2), (long long)(3 * day + 1));
    assert_string_equal(t, expect);
    free(t);
}

static void test_buffer_columns_added_later_are_null_before(void **state) {
    fixture *f = *state;
    write_lp(f, "m,a=1 x=1 1\n");
    write_lp(f, "m,a=1,b=2 x=2,y=3 2\n");
    char *t = scan_all(f, "m", INT64_MIN, INT64_MAX, NULL);
    assert_string_equal(t, "a b time x y\n1 - 1 1 -\n1 2 2 2 3\n");
    free(t);
}

static void test_buffer_scan_across_blocks(void **state) {
    fixture *f = *state;
    buf lp = {0};
    for (int i = 0; i < 20000; i++) buf_printf(&lp, "m,h=h%d v=%di %d\n", i % 7, i, 1000 + i);
    write_lp(f, buf_cstr(&lp));
    buf_free(&lp);
    size_t rows;
    char *t = scan_all(f, "m", INT64_MIN, INT64_MAX, &rows);
    assert_int_equal(rows, 20000);
    /* every row intact and in arrival order */
    char *p = strchr(t, '\n') + 1;
    for (int i = 0; i < 20000; i++) {
        char line[64];
        int n = snprintf(line, sizeof line, "h%d %d %d\n", i % 7, 1000 + i, i);
        assert_memory_equal(p, line, (size_t)n);
        p += n;
    }
    free(t);
}

static void test_buffer_source_schema_and_errors(void **state) {
    fixture *f = *state;
    write_lp(f, "zeta,b=1 y=1i 1\nalpha x=1 1\n");
    char **names;
    size_t n;
    silt_err err = {0};
    assert_int_equal(f->src.list_tables(&f->src, "db", &names, &n, &err), SILT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "alpha");
    assert_string_equal(names[1], "zeta");
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    query_table qt;
    assert_int_equal(f->src.table_schema(&f->src, "db", "zeta", &qt, &err), SILT_OK);
    assert_int_equal(qt.n_cols, 3);
    assert_string_equal(qt.cols[0].name, "b");
    assert_int_equal(qt.cols[0].kind, QCOL_TAG);
    assert_string_equal(qt.cols[1].name, "time");
    assert_int_equal(qt.cols[1].kind, QCOL_TIME);
    assert_string_equal(qt.cols[2].name, "y");
    assert_int_equal(qt.cols[2].type, LP_INT);
    f->src.table_release(&f->src, &qt);
    assert_int_equal(f->src.table_schema(&f->src, "db", "nope", &qt, &err), SILT_ENOTFOUND);
    assert_int_equal(f->src.table_schema(&f->src, "nodb", "zeta", &qt, &err), SILT_ENOTFOUND);
    assert_int_equal(f->src.db_exists(&f->src, "db"), SILT_OK);
    assert_int_equal(f->src.db_exists(&f->src, "nodb"), SILT_ENOTFOUND);
}

static void test_buffer_rejects_corrupt_payload(void **state) {
    fixture *f = *state;
    uint8_t junk[] = {1, 2, 'd', 'b', 5};
    silt_err err = {0};
    assert_int_equal(buffer_apply(f->b, 1, junk, sizeof junk, &err), SILT_ECORRUPT);
}

static void test_buffer_freeze_keeps_rows_queryable_and_merges_across_generations(void **state) {
    fixture *f = *state;
    write_lp(f, "m,host=a x=1,y=10 100\nm,host=b x=5 100\n");
    buffer_gen *g = buffer_freeze(f->b);
    assert_non_null(g);
    assert_null(buffer_freeze(f->b)); /* the new active generation is empty */
    buffer_gen_info gi;
    buffer_gen_get_info(g, &gi);
    assert_int_equal(gi.min_seq, 1);
    assert_int_equal(gi.max_seq, 1);
    assert_int_equal(gi.rows, 2);
    /* a later write to the same series and time, in the new generation: x wins, y stays */
    write_lp(f, "m,host=a x=2 100\nm,host=c x=7 200\n");
    size_t rows;
    char *t = scan_all(f, "m", INT64_MIN, INT64_MAX, &rows);
    assert_int_equal(rows, 3);
    /* the overlapping generations are merged; output order within a merge group is the
     * order of first appearance */
    assert_non_null(strstr(t, "a 100 2 10\n"));
    assert_non_null(strstr(t, "b 100 5 -\n"));
    assert_non_null(strstr(t, "c 200 7 -\n"));
    free(t);
    buffer_stats bs;
    buffer_get_stats(f->b, &bs);
    assert_int_equal(bs.frozen_gens, 1);
    /* once dropped (persisted), the frozen rows are gone from the buffer */
    buffer_drop_frozen(f->b, g);
    buffer_gen_unref(g);
    t = scan_all(f, "m", INT64_MIN, INT64_MAX, &rows);
    assert_int_equal(rows, 2);
    free(t);
}

typedef struct exported {
    buf out;
    size_t batches;
} exported;

static int on_export(void *arg, const query_vec *v, size_t n) {
    exported *e = arg;
    e->batches++;
    for (size_t r = 0; r < n; r++) {
        /* columns: host (tag), x (float), time */
        if (v[0].valid && !v[0].valid[r])
            buf_puts(&e->out, "-");
        else
            buf_append(&e->out, v[0].str[r].p, v[0].str[r].n);
        buf_putc(&e->out, ' ');
        if (v[1].valid && !v[1].valid[r])
            buf_puts(&e->out, "-");
        else
            buf_put_double(&e->out, v[1].f64[r]);
        buf_printf(&e->out, " %lld\n", (long long)v[2].i64[r]);
    }
    return 0;
}

static void test_buffer_export_sorts_by_tags_then_time(void **state) {
    fixture *f = *state;
    write_lp(f, "m,host=b x=1 30\nm,host=a x=2 20\nm,host=b x=3 10\nm x=4 15\nm,host=a x=5 5\n"
                "m,host=a x=6 20\n");
    buffer_gen *g = buffer_freeze(f->b);
    buffer_chunk_desc *cd;
    size_t n;
    assert_int_equal(buffer_gen_chunks(g, &cd, &n), SILT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(cd[0].rows, 5);
    assert_true(cd[0].min_time == 5 && cd[0].max_time == 30);
    schema_rdlock(f->s);
    schema_table *t = schema_table_find(schema_db_find(f->s, "db", 2), "m", 1);
    uint32_t host = schema_col_find(t, "host", 4)->id, x = schema_col_find(t, "x", 1)->id;
    schema_unlock(f->s);
    buffer_export_col cols[3] = {{host, true, 0}, {x, false, LP_FLOAT}, {UINT32_MAX, false, 0}};
    exported e = {0};
    assert_int_equal(
        buffer_gen_export(g, cd[0].table_id, cd[0].day, &host, 1, cols, 3, 2, on_export, &e, NULL),
        SILT_OK);
    /* a series without the tag first, then a, then b; each by time; batches of 2 */
    assert_string_equal(buf_cstr(&e.out), "- 4 15\na 5 5\na 6 20\nb 3 10\nb 1 30\n");
    assert_int_equal(e.batches, 3);
    buf_free(&e.out);
    free(cd);
    buffer_drop_frozen(f->b, g);
    buffer_gen_unref(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_buffer_apply_and_scan_all_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_last_write_wins_field_by_field, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_buffer_merge_within_one_request_keeps_later_line,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_out_of_order_times_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_day_partitions_and_time_pruning, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_buffer_columns_added_later_are_null_before, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_buffer_scan_across_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_source_schema_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_rejects_corrupt_payload, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_buffer_freeze_keeps_rows_queryable_and_merges_across_generations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_export_sorts_by_tags_then_time, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
