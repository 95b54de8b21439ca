/* SPDX-License-Identifier: MIT
 *
 * server tests, in process: a real server on an ephemeral port over a WAL on the
 * fault-injecting vfs, driven with libcurl. They prove the failure answers: a failed fsync is
 * a 500 (and the rows are not queryable), a full disk a 507 (no crash, writes resume when
 * space returns), shutdown a 503; and the status table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/server.h"
#include "util/vfs.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct fx {
    char dir[64];
    silt_conf conf;
    schema *s;
    buffer *b;
    wal *w;
    vfs *fv;
    server *srv;
    char base[64];
} fx;

static int apply(void *arg, uint64_t seq, const uint8_t *p, size_t n) {
    return buffer_apply(arg, seq, p, n, NULL);
}

static int setup(void **state) {
    fx *f = xcalloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/silt-srv-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(conf_init(&f->conf, NULL), SILT_OK);
    free(f->conf.http_bind);
    f->conf.http_bind = xstrdup("127.0.0.1:0");
    free(f->conf.data_dir);
    f->conf.data_dir = xstrdup(f->dir);
    f->conf.max_http_request_size = 64 * 1024;
    conf_finish(&f->conf);
    schema_limits lim = {0};
    f->s = schema_create(&lim);
    f->b = buffer_create(f->s);
    f->fv = vfs_fault_create(vfs_posix());
    wal_opts wo = {.n_dirs = 1, .vfs = f->fv, .apply = apply, .apply_arg = f->b};
    wo.dirs[0] = f->conf.wal_dirs[0];
    assert_int_equal(wal_open(&wo, &f->w, NULL, NULL), SILT_OK);
    server_deps d = {.conf = &f->conf, .schema = f->s, .buffer = f->b, .wal = f->w};
    silt_err err = {0};
    assert_int_equal(server_start(&d, &f->srv, &err), SILT_OK);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u", server_port(f->srv));
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx *f = *state;
    server_stop(f->srv);
    wal_close(f->w);
    buffer_destroy(f->b);
    schema_destroy(f->s);
    f->fv->destroy(f->fv);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    conf_fini(&f->conf);
    free(f);
    return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg) {
    buf_append(arg, p, size * n);
    return size * n;
}

/* POST (body) or GET; returns the status, body in *out. */
static long http(fx *f, const char *path, const char *body, size_t body_len, buf *out,
                 const char *header) {
    CURL *c = curl_easy_init();
    char url[512];
    snprintf(url, sizeof url, "%s%s", f->base, path);
    struct curl_slist *h = header ? curl_slist_append(NULL, header) : NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (h) curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long st = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    buf_cstr(out);
    return st;
}

static long write_lp(fx *f, const char *lp, buf *out) {
    return http(f, "/api/v3/write_lp?db=d", lp, strlen(lp), out, NULL);
}

static char *count_rows(fx *f) {
    buf out = {0};
    assert_int_equal(http(f, "/api/v3/query_sql?db=d&q=SELECT%20count(*)%20FROM%20m&format=csv",
                          NULL, 0, &out, NULL), 200);
    return (char *)out.p;
}

static void test_server_fsync_failure_is_500_and_not_visible(void **state) {
    fx *f = *state;
    buf out = {0};
    assert_int_equal(write_lp(f, "m v=1 1\n", &out), 204);
    vfs_fault_arm(f->fv, VFS_OP_SYNC, 1, EIO, false, ".wal");
    buf_reset(&out);
    assert_int_equal(write_lp(f, "m v=2 2\n", &out), 500);
    assert_non_null(strstr((char *)out.p, "could not be made durable"));
    char *c = count_rows(f);
    assert_string_equal(c, "count(*)\n1\n"); /* the failed write was not applied */
    free(c);
    buf_reset(&out);
    assert_int_equal(write_lp(f, "m v=3 3\n", &out), 204); /* a fresh segment */
    c = count_rows(f);
    assert_string_equal(c, "count(*)\n2\n");
    free(c);
    buf_free(&out);
}

static void test_server_enospc_is_507_and_recovers(void **state) {
    fx *f = *state;
    buf out = {0};
    vfs_fault_arm(f->fv, VFS_OP_WRITE, 1, ENOSPC, true, NULL);
    for (int i = 0; i < 3; i++) {
        buf_reset(&out);
        assert_int_equal(write_lp(f, "m v=1 1\n", &out), 507);
        assert_non_null(strstr((char *)out.p, "no space"));
    }
    vfs_fault_disarm(f->fv);
    buf_reset(&out);
    assert_int_equal(write_lp(f, "m v=1 1\n", &out), 204);
    char *c = count_rows(f);
    assert_string_equal(c, "count(*)\n1\n");
    free(c);
    buf_free(&out);
}

static void test_server_limits_and_encodings(void **state) {
    fx *f = *state;
    buf out = {0};
    char *big = xmalloc(70000);
    memset(big, 'a', 70000);
    assert_int_equal(http(f, "/write?db=d", big, 70000, &out, NULL), 413);
    free(big);
    buf_reset(&out);
    assert_int_equal(http(f, "/write?db=d", "m v=1 1", 7, &out, "Content-Encoding: gzip"), 400);
    assert_non_null(strstr((char *)out.p, "gzip"));
    buf_reset(&out);
    assert_int_equal(http(f, "/write?db=d", "m v=1 1", 7, &out, "Content-Encoding: br"), 415);
    buf_reset(&out);
    assert_int_equal(http(f, "/write?db=d", "m,t=\xff v=1 1", 11, &out, NULL), 400);
    assert_non_null(strstr((char *)out.p, "UTF-8"));
    buf_reset(&out);
    assert_int_equal(http(f, "/write", "m v=1 1", 7, &out, NULL), 400);
    buf_reset(&out);
    assert_int_equal(http(f, "/nope", NULL, 0, &out, NULL), 404);
    buf_reset(&out);
    assert_int_equal(http(f, "/api/v3/query_sql?db=nodb&q=SHOW%20TABLES", NULL, 0, &out, NULL), 404);
    buf_free(&out);
}

static void test_server_drain_refuses_new_writes(void **state) {
    fx *f = *state;
    buf out = {0};
    assert_int_equal(write_lp(f, "m v=1 1\n", &out), 204);
    server_drain_writes(f->srv);
    buf_reset(&out);
    assert_int_equal(write_lp(f, "m v=2 2\n", &out), 503);
    buf_reset(&out);
    assert_int_equal(http(f, "/health", NULL, 0, &out, NULL), 503);
    char *c = count_rows(f); /* queries still work */
    assert_string_equal(c, "count(*)\n1\n");
    free(c);
    buf_free(&out);
}

static void test_server_status_table(void **state) {
    (void)state;
    assert_int_equal(server_status_for(SILT_OK), 200);
    assert_int_equal(server_status_for(SILT_EPARSE), 400);
    assert_int_equal(server_status_for(SILT_ENOTFOUND), 404);
    assert_int_equal(server_status_for(SILT_ETOOBIG), 413);
    assert_int_equal(server_status_for(SILT_ENOSPC), 507);
    assert_int_equal(server_status_for(SILT_ESHUTDOWN), 503);
    assert_int_equal(server_status_for(SILT_EIO), 500);
    assert_int_equal(server_status_for(SILT_EPOISONED), 500);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_server_fsync_failure_is_500_and_not_visible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_enospc_is_507_and_recovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_limits_and_encodings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_drain_refuses_new_writes, setup, teardown),
        cmocka_unit_test(test_server_status_table),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
