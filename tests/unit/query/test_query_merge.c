/* SPDX-License-Identifier: MIT
 *
 * query_merge_scan tests: parts that overlap no other pass through untouched; overlapping
 * parts merge rows of one series and time, the newest part's non-NULL fields winning field
 * by field; a series is all tag columns; time pruning; QUERY_SCAN_STOP ends everything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "query/query.h"

#include <stdio.h>
#include <stdlib.h>

/* Table: host (tag), dc (tag), time, v (float). A fake part holds rows as text-free arrays. */
static query_column cols[] = {{"dc", QCOL_TAG, 0},
                              {"host", QCOL_TAG, 0},
                              {"time", QCOL_TIME, 0},
                              {"v", QCOL_FIELD, LP_FLOAT}};
static const query_table table = {cols, 4, NULL};

typedef struct row {
    const char *dc, *host; /* NULL = no value */
    int64_t time;
    bool has_v;
    double v;
} row;

typedef struct fake {
    const row *rows;
    size_t n;
    int scans;
} fake;

static int fake_scan(query_part *p, const query_table *t, const query_scan_req *req,
                     query_batch_fn fn, void *arg, silt_err *err) {
    (void)t;
    (void)err;
    const size_t *idx = req->col_idx, n_cols = req->n_cols;
    int64_t t_min = req->t_min, t_max = req->t_max;
    fake *f = p->ctx;
    f->scans++;
    /* one row per batch: exercises batch boundaries too */
    for (size_t r = 0; r < f->n; r++) {
        const row *x = &f->rows[r];
        if (x->time < t_min || x->time > t_max) continue;
        str_view s[4];
        uint8_t valid[4][1];
        query_vec v[4];
        memset(v, 0, sizeof v);
        for (size_t c = 0; c < n_cols; c++) {
            switch (idx[c]) {
                case 0:
                case 1: {
                    const char *val = idx[c] == 0 ? x->dc : x->host;
                    s[c] = val ? sv_from(val) : (str_view){"", 0};
                    valid[c][0] = val != NULL;
                    v[c].str = &s[c];
                    v[c].valid = valid[c];
                    break;
                }
                case 2:
                    v[c].i64 = &x->time;
                    break;
                case 3:
                    valid[c][0] = x->has_v;
                    v[c].f64 = &x->v;
                    v[c].valid = valid[c];
                    break;
            }
        }
        query_batch b = {1, v};
        int rc = fn(arg, &b);
        if (rc) return rc == QUERY_SCAN_STOP ? SILT_OK : rc;
    }
    return SILT_OK;
}

static query_part part(fake *f, int64_t lo, int64_t hi) {
    return (query_part){lo, hi, f->n, f, fake_scan, NULL};
}

typedef struct out {
    buf text;
    size_t rows;
    size_t stop_after;
} out;

static int collect(void *arg, const query_batch *b) {
    out *o = arg;
    for (size_t r = 0; r < b->n_rows; r++) {
        /* request columns: host, time, v */
        const query_vec *h = &b->cols[0], *tm = &b->cols[1], *v = &b->cols[2];
        if (h->valid && !h->valid[r])
            buf_puts(&o->text, "-");
        else
            buf_append(&o->text, h->str[r].p, h->str[r].n);
        buf_printf(&o->text, " %lld ", (long long)tm->i64[r]);
        if (v->valid && !v->valid[r])
            buf_puts(&o->text, "-");
        else
            buf_put_double(&o->text, v->f64[r]);
        buf_putc(&o->text, '\n');
        if (++o->rows == o->stop_after) return QUERY_SCAN_STOP;
    }
    return QUERY_SCAN_CONTINUE;
}

static char *run(query_part *parts, size_t n, int64_t lo, int64_t hi, size_t stop_after) {
    size_t idx[3] = {1, 2, 3};
    query_scan_req req = {.db = "db",
                          .table = "t",
                          .schema = &table,
                          .col_idx = idx,
                          .n_cols = 3,
                          .t_min = lo,
                          .t_max = hi};
    out o = {.stop_after = stop_after};
    buf_puts(&o.text, "");
    assert_int_equal(query_merge_scan(parts, n, &table, &req, collect, &o, NULL), SILT_OK);
    return buf_cstr(&o.text);
}

static void test_query_merge_disjoint_parts_pass_through(void **state) {
    (void)state;
    row a[] = {{"x", "h1", 10, true, 1}, {"x", "h1", 20, true, 2}};
    row b[] = {{"x", "h1", 30, true, 3}};
    fake fa = {a, 2, 0}, fb = {b, 1, 0};
    query_part p[] = {part(&fb, 30, 30), part(&fa, 10, 20)};
    char *t = run(p, 2, INT64_MIN, INT64_MAX, 0);
    /* ordered by the parts' start times */
    assert_string_equal(t, "h1 10 1\nh1 20 2\nh1 30 3\n");
    free(t);
}

static void test_query_merge_overlapping_parts_last_write_wins_field_by_field(void **state) {
    (void)state;
    /* oldest: a file; newer: a buffer generation */
    row old[] = {{"x", "h1", 10, true, 1}, {"x", "h1", 20, true, 2}, {"y", "h1", 20, true, 9}};
    row new[] = {{"x", "h1", 20, true, 20}, {"x", "h1", 10, false, 0}, {"x", "h2", 15, true, 5}};
    fake fo = {old, 3, 0}, fn = {new, 3, 0};
    query_part p[] = {part(&fo, 10, 20), part(&fn, 10, 20)};
    char *t = run(p, 2, INT64_MIN, INT64_MAX, 0);
    /* h1@10: the newer row has no v, so the older value stays; h1@20 in dc x: newer wins;
     * h1@20 in dc y is another series (dc is part of the key, though not selected) */
    assert_string_equal(t, "h1 10 1\nh1 20 20\nh1 20 9\nh2 15 5\n");
    free(t);
}

static void test_query_merge_prunes_by_time_and_stops(void **state) {
    (void)state;
    row a[] = {{"x", "h1", 10, true, 1}};
    row b[] = {{"x", "h1", 100, true, 2}, {"x", "h1", 200, true, 3}};
    row c[] = {{"x", "h1", 300, true, 4}};
    fake fa = {a, 1, 0}, fb = {b, 2, 0}, fc = {c, 1, 0};
    query_part p[] = {part(&fa, 10, 10), part(&fb, 100, 200), part(&fc, 300, 300)};
    char *t = run(p, 3, 50, 250, 0);
    assert_string_equal(t, "h1 100 2\nh1 200 3\n");
    assert_int_equal(fa.scans, 0); /* pruned by its time range: never scanned */
    assert_int_equal(fc.scans, 0);
    free(t);
    t = run(p, 3, INT64_MIN, INT64_MAX, 2);
    assert_string_equal(t, "h1 10 1\nh1 100 2\n");
    assert_int_equal(fc.scans, 0); /* the stop ended the whole scan */
    free(t);
}

static void test_query_merge_no_parts(void **state) {
    (void)state;
    char *t = run(NULL, 0, INT64_MIN, INT64_MAX, 0);
    assert_string_equal(t, "");
    free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_merge_disjoint_parts_pass_through),
        cmocka_unit_test(test_query_merge_overlapping_parts_last_write_wins_field_by_field),
        cmocka_unit_test(test_query_merge_prunes_by_time_and_stops),
        cmocka_unit_test(test_query_merge_no_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
