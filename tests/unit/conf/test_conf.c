/* SPDX-License-Identifier: MIT
 *
 * conf tests: sizes, defaults, SILT_* environment variables, flags and their precedence,
 * bounds, unknown flags, the generated help and Markdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conf/conf.h"

#include <stdio.h>
#include <stdlib.h>

static void test_conf_size_parsing(void **state) {
    (void)state;
    uint64_t v;
    assert_int_equal(conf_parse_size("10MiB", &v), SILT_OK);
    assert_true(v == 10u << 20);
    assert_int_equal(conf_parse_size("64k", &v), SILT_OK);
    assert_true(v == 64u << 10);
    assert_int_equal(conf_parse_size("1G", &v), SILT_OK);
    assert_true(v == 1u << 30);
    assert_int_equal(conf_parse_size("123", &v), SILT_OK);
    assert_true(v == 123);
    assert_int_equal(conf_parse_size("12X", &v), SILT_EINVAL);
    assert_int_equal(conf_parse_size("-1", &v), SILT_EINVAL);
    assert_int_equal(conf_parse_size("", &v), SILT_EINVAL);
}

static void test_conf_flags_env_and_defaults(void **state) {
    (void)state;
    setenv("SILT_HTTP_BIND", "127.0.0.1:9999", 1);
    setenv("SILT_WAL_DIR", "/a,/b", 1);
    silt_conf c;
    silt_err err = {0};
    assert_int_equal(conf_init(&c, &err), SILT_OK);
    assert_string_equal(c.http_bind, "127.0.0.1:9999");
    assert_int_equal(c.n_wal_dirs, 2);
    assert_true(c.max_http_request_size == 10u << 20);
    char *argv[] = {"--data-dir", "/tmp/x", "--wal-dir=/w1", "--wal-dir", "/w2",
                    "--max-http-request-size", "1MiB", "rest"};
    int i = 0;
    bool help = false;
    assert_int_equal(conf_parse_args(&c, 8, argv, &i, &help, &err), SILT_OK);
    assert_int_equal(i, 7);
    assert_string_equal(c.data_dir, "/tmp/x");
    assert_int_equal(c.n_wal_dirs, 2); /* the flags replaced the environment's list */
    assert_string_equal(c.wal_dirs[0], "/w1");
    assert_string_equal(c.wal_dirs[1], "/w2");
    assert_true(c.max_http_request_size == 1u << 20);
    char *bad[] = {"--max-http-request-size", "1"};
    i = 0;
    assert_int_equal(conf_parse_args(&c, 2, bad, &i, &help, &err), SILT_EINVAL);
    assert_non_null(strstr(err.msg, "outside"));
    char *unk[] = {"--nope", "1"};
    i = 0;
    assert_int_equal(conf_parse_args(&c, 2, unk, &i, &help, &err), SILT_EINVAL);
    conf_fini(&c);
    unsetenv("SILT_HTTP_BIND");
    unsetenv("SILT_WAL_DIR");
    assert_int_equal(conf_init(&c, &err), SILT_OK);
    conf_finish(&c);
    assert_string_equal(c.wal_dirs[0], "./silt-data/wal");
    conf_fini(&c);
}

static void test_conf_help_and_doc_list_every_setting(void **state) {
    (void)state;
    char *h = NULL, *m = NULL;
    size_t hn = 0, mn = 0;
    FILE *f = open_memstream(&h, &hn);
    conf_print_help(f);
    fclose(f);
    f = open_memstream(&m, &mn);
    conf_print_markdown(f);
    fclose(f);
    for (size_t i = 0; i < conf_table_len; i++) {
        char flag[96];
        snprintf(flag, sizeof flag, "--%s", conf_table[i].name);
        assert_non_null(strstr(h, flag));
        assert_non_null(strstr(m, flag));
    }
    assert_non_null(strstr(h, "SILT_MAX_HTTP_REQUEST_SIZE"));
    assert_non_null(strstr(m, "`SILT_WAL_DIR`"));
    free(h);
    free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf_size_parsing),
        cmocka_unit_test(test_conf_flags_env_and_defaults),
        cmocka_unit_test(test_conf_help_and_doc_list_every_setting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
