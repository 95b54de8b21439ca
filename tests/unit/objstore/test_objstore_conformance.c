/* SPDX-License-Identifier: MIT
 *
 * One conformance suite, run against every backend: file, memory, s3 (a real S3 server:
 * Ceph RGW from mk/with-servers.sh) and the cache over a file store. Each backend is a
 * cmocka group whose setup opens the store; the same tests run in every group. The s3 group
 * FAILS (never skips) when S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_BUCKET are
 * not in the environment. Keys live under a prefix unique to the run, removed at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "objstore/objstore.h"
#include "objstore/objstore_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct fixture {
    objstore *s;
    char run[64];  /* unique key prefix of this run, ends without '/' */
    char tmp[128]; /* temp dir of the local backends, "" for none */
    bool big;      /* is the store s3 (multipart) */
} fixture;

/* ------------------------------------------------------------------ helpers */

static void make_run_prefix(fixture *f, const char *backend) {
    snprintf(f->run, sizeof f->run, "conf-%s-%lld-%ld", backend, (long long)(time_now_ns() / 1000),
             (long)getpid());
}

/* key = <run>/<rest> into a static-per-call buffer the caller owns */
static char *K(const fixture *f, const char *rest, char out[512]) {
    snprintf(out, 512, "%s/%s", f->run, rest);
    return out;
}

static void fill_pattern(uint8_t *p, size_t n, uint64_t seed) {
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
}

static void put_ok(objstore *s, const char *key, const void *data, size_t n) {
    silt_err e = {0};
    int rc = objstore_put(s, key, data, n, &e);
    if (rc) fail_msg("put %s: %s (%s)", key, silt_strerror(rc), e.msg);
}

static void put_str(objstore *s, const char *key, const char *str) {
    put_ok(s, key, str, strlen(str));
}

static void expect_content(objstore *s, const char *key, const void *data, size_t n) {
    buf b = {0};
    silt_err e = {0};
    int rc = objstore_get(s, key, 0, UINT64_MAX, &b, &e);
    if (rc) fail_msg("get %s: %s (%s)", key, silt_strerror(rc), e.msg);
    assert_int_equal(b.len, n);
    if (n) assert_memory_equal(b.p, data, n);
    buf_free(&b);
}

static void clean_prefix(objstore *s, const char *prefix) {
    char *after = NULL;
    for (;;) {
        objstore_page pg;
        silt_err e = {0};
        if (objstore_list(s, prefix, after, 0, &pg, &e)) {
            fprintf(stderr, "cleanup list %s: %s\n", prefix, e.msg);
            break;
        }
        for (size_t i = 0; i < pg.n; i++) objstore_del(s, pg.entries[i].key, NULL);
        free(after);
        after = pg.next ? xstrdup(pg.next) : NULL;
        objstore_page_free(&pg);
        if (!after) break;
    }
    free(after);
}

/* ------------------------------------------------------------------ group setups */

static int setup_tmp(fixture *f, const char *name) {
    snprintf(f->tmp, sizeof f->tmp, "/tmp/silt-objconf-%s-XXXXXX", name);
    if (!mkdtemp(f->tmp)) return -1;
    return 0;
}

static void rm_rf(const char *dir) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
}

static int group_file(void **state) {
    fixture *f = xcalloc(1, sizeof *f);
    make_run_prefix(f, "file");
    if (setup_tmp(f, "file")) return -1;
    char root[256];
    snprintf(root, sizeof root, "%s/objects", f->tmp);
    silt_err e = {0};
    if (objstore_file_open(root, &f->s, &e)) {
        print_error("file open: %s\n", e.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int group_mem(void **state) {
    fixture *f = xcalloc(1, sizeof *f);
    make_run_prefix(f, "mem");
    f->s = objstore_mem_create();
    *state = f;
    return 0;
}

static int group_cache(void **state) {
    fixture *f = xcalloc(1, sizeof *f);
    make_run_prefix(f, "cache");
    if (setup_tmp(f, "cache")) return -1;
    char root[256], cdir[256];
    snprintf(root, sizeof root, "%s/objects", f->tmp);
    snprintf(cdir, sizeof cdir, "%s/cache", f->tmp);
    silt_err e = {0};
    objstore *inner;
    if (objstore_file_open(root, &inner, &e) ||
        objstore_cache_open(inner, cdir, 256u << 20, &f->s, &e)) {
        print_error("cache open: %s\n", e.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int group_s3(void **state) {
    const char *ep = getenv("S3_ENDPOINT"), *ak = getenv("S3_ACCESS_KEY_ID"),
               *sk = getenv("S3_SECRET_ACCESS_KEY"), *bucket = getenv("S3_BUCKET"),
               *region = getenv("S3_REGION");
    if (!ep || !ak || !sk || !bucket) {
        print_error("S3 conformance needs a real S3 server: S3_ENDPOINT, S3_ACCESS_KEY_ID, "
                    "S3_SECRET_ACCESS_KEY and S3_BUCKET are not all set. Run the tests through "
                    "`bash mk/with-servers.sh make test-unit M=objstore`.\n");
        return -1;
    }
    fixture *f = xcalloc(1, sizeof *f);
    make_run_prefix(f, "s3");
    f->big = true;
    objstore_s3_opts o = {.endpoint = ep,
                          .bucket = bucket,
                          .region = region,
                          .access_key_id = ak,
                          .secret_access_key = sk,
                          .allow_http = true,
                          .max_connections = 8,
                          .max_retries = 3,
                          .timeout_ms = 20000,
                          .multipart_threshold = 8u << 20,
                          .part_bytes = 5u << 20};
    silt_err e = {0};
    if (objstore_s3_open(&o, &f->s, &e)) {
        print_error("s3 open: %s\n", e.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int group_teardown(void **state) {
    fixture *f = *state;
    if (!f) return 0;
    clean_prefix(f->s, f->run);
    objstore_page pg;
    if (objstore_list(f->s, f->run, NULL, 0, &pg, NULL) == SILT_OK) {
        if (pg.n) fprintf(stderr, "teardown: %zu keys left under %s\n", pg.n, f->run);
        objstore_page_free(&pg);
    }
    objstore_destroy(f->s);
    if (f->tmp[0]) rm_rf(f->tmp);
    free(f);
    return 0;
}

/* ------------------------------------------------------------------ tests */

static void test_objstore_put_get_head_roundtrip(void **state) {
    fixture *f = *state;
    char k[512];
    const char *data = "hello, objects";
    K(f, "rt/a/b/obj-1.parquet", k);
    put_str(f->s, k, data);
    expect_content(f->s, k, data, strlen(data));
    objstore_meta m = {0};
    assert_int_equal(objstore_head(f->s, k, &m, NULL), SILT_OK);
    assert_int_equal(m.size, strlen(data));
    int64_t now = time_now_ns();
    assert_true(m.mtime_ns > now - 3600 * NS_PER_S && m.mtime_ns < now + 3600 * NS_PER_S);
    /* get appends: earlier content of out stays */
    buf b = {0};
    buf_puts(&b, "XY");
    assert_int_equal(objstore_get(f->s, k, 0, UINT64_MAX, &b, NULL), SILT_OK);
    assert_int_equal(b.len, 2 + strlen(data));
    assert_memory_equal(b.p, "XYhello", 7);
    buf_free(&b);
}

static void test_objstore_put_if_absent(void **state) {
    fixture *f = *state;
    char k[512];
    K(f, "pia/obj", k);
    put_str(f->s, k, "first");
    silt_err e = {0};
    assert_int_equal(objstore_put(f->s, k, (const uint8_t *)"second!", 7, &e), SILT_EEXIST);
    assert_int_equal(e.code, SILT_EEXIST);
    expect_content(f->s, k, "first", 5);
    /* also with an empty body */
    assert_int_equal(objstore_put(f->s, k, NULL, 0, NULL), SILT_EEXIST);
    expect_content(f->s, k, "first", 5);
}

static void test_objstore_missing_keys(void **state) {
    fixture *f = *state;
    char k[512];
    K(f, "missing/none", k);
    buf b = {0};
    buf_puts(&b, "keep");
    silt_err e = {0};
    assert_int_equal(objstore_get(f->s, k, 0, UINT64_MAX, &b, &e), SILT_ENOTFOUND);
    assert_int_equal(b.len, 4); /* out untouched on failure */
    assert_int_equal(objstore_get(f->s, k, 5, 10, &b, NULL), SILT_ENOTFOUND);
    assert_int_equal(objstore_get(f->s, k, 0, 0, &b, NULL), SILT_ENOTFOUND);
    objstore_meta m;
    assert_int_equal(objstore_head(f->s, k, &m, NULL), SILT_ENOTFOUND);
    assert_int_equal(objstore_del(f->s, k, NULL), SILT_OK);
    /* a prefix of existing keys is not itself an object */
    char k2[512], k3[512];
    K(f, "missing/dir/obj", k2);
    put_str(f->s, k2, "x");
    K(f, "missing/dir", k3);
    assert_int_equal(objstore_head(f->s, k3, &m, NULL), SILT_ENOTFOUND);
    assert_int_equal(objstore_get(f->s, k3, 0, UINT64_MAX, &b, NULL), SILT_ENOTFOUND);
    buf_free(&b);
}

static void test_objstore_ranged_gets(void **state) {
    fixture *f = *state;
    char k[512];
    K(f, "range/obj", k);
    uint8_t data[1000];
    fill_pattern(data, sizeof data, 7);
    put_ok(f->s, k, data, sizeof data);
    struct {
        uint64_t off, len;
        size_t want_off, want_n;
    } cases[] = {
        {0, 10, 0, 10},
        {100, 200, 100, 200},
        {990, 10, 990, 10},
        {990, 100, 990, 10},         /* past the end: clipped */
        {500, UINT64_MAX, 500, 500}, /* to the end */
        {999, 1, 999, 1},
        {1000, 5, 0, 0},  /* starts at the end: empty */
        {5000, 10, 0, 0}, /* starts past the end: empty */
        {1000, UINT64_MAX, 0, 0},
        {7, 0, 0, 0}, /* len 0: empty */
        {0, UINT64_MAX, 0, 1000},
        {1, UINT64_MAX - 1, 1, 999},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf b = {0};
        silt_err e = {0};
        int rc = objstore_get(f->s, k, cases[i].off, cases[i].len, &b, &e);
        if (rc) fail_msg("case %zu: %s", i, e.msg);
        if (b.len != cases[i].want_n)
            fail_msg("case %zu (off %llu len %llu): got %zu bytes, want %zu", i,
                     (unsigned long long)cases[i].off, (unsigned long long)cases[i].len, b.len,
                     cases[i].want_n);
        if (b.len) assert_memory_equal(b.p, data + cases[i].want_off, b.len);
        buf_free(&b);
    }
}

static void test_objstore_empty_object(void **state) {
    fixture *f = *state;
    char k[512];
    K(f, "empty/zero", k);
    put_ok(f->s, k, NULL, 0);
    expect_content(f->s, k, NULL, 0);
    objstore_meta m = {.size = 99};
    assert_int_equal(objstore_head(f->s, k, &m, NULL), SILT_OK);
    assert_int_equal(m.size, 0);
    buf b = {0};
    assert_int_equal(objstore_get(f->s, k, 0, 10, &b, NULL), SILT_OK);
    assert_int_equal(objstore_get(f->s, k, 3, UINT64_MAX, &b, NULL), SILT_OK);
    assert_int_equal(b.len, 0);
    buf_free(&b);
    objstore_page pg;
    assert_int_equal(objstore_list(f->s, k, NULL, 0, &pg, NULL), SILT_OK);
    assert_int_equal(pg.n, 1);
    assert_string_equal(pg.entries[0].key, k);
    assert_int_equal(pg.entries[0].size, 0);
    objstore_page_free(&pg);
    assert_int_equal(objstore_del(f->s, k, NULL), SILT_OK);
}

static void test_objstore_large_object(void **state) {
    fixture *f = *state;
    char k[512];
    K(f, "large/forty-mib", k);
    size_t n = (40u << 20) + 12345; /* 9 parts of 5 MiB on s3 (threshold 8 MiB) */
    uint8_t *data = xmalloc(n);
    fill_pattern(data, n, 40);
    put_ok(f->s, k, data, n);
    objstore_meta m;
    assert_int_equal(objstore_head(f->s, k, &m, NULL), SILT_OK);
    assert_int_equal(m.size, n);
    expect_content(f->s, k, data, n);
    /* a range across a part boundary (5 MiB) */
    buf b = {0};
    uint64_t off = (5u << 20) - 100;
    assert_int_equal(objstore_get(f->s, k, off, 300, &b, NULL), SILT_OK);
    assert_int_equal(b.len, 300);
    assert_memory_equal(b.p, data + off, 300);
    buf_reset(&b);
    assert_int_equal(objstore_get(f->s, k, n - 10, 100, &b, NULL), SILT_OK);
    assert_int_equal(b.len, 10);
    assert_memory_equal(b.p, data + n - 10, 10);
    buf_free(&b);
    /* put-if-absent holds for big objects too */
    silt_err e = {0};
    data[0] ^= 1;
    assert_int_equal(objstore_put(f->s, k, data, n, &e), SILT_EEXIST);
    data[0] ^= 1;
    assert_int_equal(objstore_del(f->s, k, NULL), SILT_OK); /* the gateway's quota is small */
    assert_int_equal(objstore_head(f->s, k, &m, NULL), SILT_ENOTFOUND);
    free(data);
}

static void test_objstore_list_paging(void **state) {
    fixture *f = *state;
    char k[512];
    for (int i = 0; i < 10; i++) {
        char rest[64];
        snprintf(rest, sizeof rest, "page/k%02d", i);
        K(f, rest, k);
        uint8_t d[40];
        fill_pattern(d, (size_t)i + 1, (uint64_t)i);
        put_ok(f->s, k, d, (size_t)i + 1);
    }
    char prefix[512];
    K(f, "page/", prefix);
    char *after = NULL;
    size_t pages = 0, total = 0;
    size_t want_sizes[] = {3, 3, 3, 1};
    for (;;) {
        objstore_page pg;
        silt_err e = {0};
        int rc = objstore_list(f->s, prefix, after, 3, &pg, &e);
        if (rc) fail_msg("list: %s", e.msg);
        assert_true(pages < 4);
        assert_int_equal(pg.n, want_sizes[pages]);
        for (size_t i = 0; i < pg.n; i++) {
            char rest[64];
            snprintf(rest, sizeof rest, "page/k%02zu", total + i);
            K(f, rest, k);
            assert_string_equal(pg.entries[i].key, k);
            assert_int_equal(pg.entries[i].size, total + i + 1);
        }
        total += pg.n;
        pages++;
        free(after);
        after = pg.next ? xstrdup(pg.next) : NULL;
        if (pages < 4) {
            assert_non_null(pg.next);
            assert_string_equal(pg.next, pg.entries[pg.n - 1].key);
        }
        objstore_page_free(&pg);
        if (!after) break;
    }
    assert_int_equal(pages, 4);
    assert_int_equal(total, 10);
    /* an exact multiple: 9 keys after k00, pages of 3, the last one says "no more" */
    K(f, "page/k00", k);
    after = xstrdup(k);
    pages = 0;
    for (;;) {
        objstore_page pg;
        assert_int_equal(objstore_list(f->s, prefix, after, 3, &pg, NULL), SILT_OK);
        assert_int_equal(pg.n, 3);
        pages++;
        free(after);
        after = pg.next ? xstrdup(pg.next) : NULL;
        objstore_page_free(&pg);
        if (!after || pages > 3) break;
    }
    free(after);
    assert_true(pages <= 4);
    /* max 0: the default page holds all ten */
    objstore_page pg;
    assert_int_equal(objstore_list(f->s, prefix, NULL, 0, &pg, NULL), SILT_OK);
    assert_int_equal(pg.n, 10);
    assert_null(pg.next);
    objstore_page_free(&pg);
    /* start_after between keys and before the prefix */
    K(f, "page/k04x", k);
    assert_int_equal(objstore_list(f->s, prefix, k, 0, &pg, NULL), SILT_OK);
    assert_int_equal(pg.n, 5);
    assert_true(strstr(pg.entries[0].key, "page/k05") != NULL);
    objstore_page_free(&pg);
    K(f, "pag", k);
    assert_int_equal(objstore_list(f->s, prefix, k, 0, &pg, NULL), SILT_OK);
    assert_int_equal(pg.n, 10);
    objstore_page_free(&pg);
    K(f, "page/k09", k);
    assert_int_equal(objstore_list(f->s, prefix, k, 0, &pg, NULL), SILT_OK);
    assert_int_equal(pg.n, 0);
    assert_null(pg.next);
    objstore_page_free(&pg);
}

static void test_objstore_list_prefixes_and_order(void **state) {
    fixture *f = *state;
    /* '-' 0x2d < '.' 0x2e < '/' 0x2f < '0' 0x30: key order is byte order of the whole key,
     * not a directory walk */
    const char *rests[] = {"pfx/a/1", "pfx/a/2",    "pfx/a-1", "pfx/a.x",
                           "pfx/a0",  "pfx/ab/c/d", "pfx/b",   "pfx/a/sub/deep/e"};
    size_t nr = sizeof rests / sizeof rests[0];
    char k[512];
    for (size_t i = 0; i < nr; i++) put_str(f->s, K(f, rests[i], k), rests[i]);
    char **sorted = xcalloc(nr, sizeof *sorted);
    for (size_t i = 0; i < nr; i++) sorted[i] = xstrdup(rests[i]);
    for (size_t i = 0; i < nr; i++)
        for (size_t j = i + 1; j < nr; j++)
            if (strcmp(sorted[j], sorted[i]) < 0) {
                char *t = sorted[i];
                sorted[i] = sorted[j];
                sorted[j] = t;
            }
    char prefix[512];
    objstore_page pg;
    K(f, "pfx/", prefix);
    assert_int_equal(objstore_list(f->s, prefix, NULL, 0, &pg, NULL), SILT_OK);
    assert_int_equal(pg.n, nr);
    for (size_t i = 0; i < nr; i++) {
        K(f, sorted[i], k);
        assert_string_equal(pg.entries[i].key, k);
        assert_int_equal(pg.entries[i].size, strlen(sorted[i]));
    }
    objstore_page_free(&pg);
    /* paging one by one gives the same order */
    char *after = NULL;
    for (size_t i = 0; i < nr; i++) {
        assert_int_equal(objstore_list(f->s, prefix, after, 1, &pg, NULL), SILT_OK);
        assert_int_equal(pg.n, 1);
        K(f, sorted[i], k);
        assert_string_equal(pg.entries[0].key, k);
        free(after);
        after = pg.next ? xstrdup(pg.next) : NULL;
        objstore_page_free(&pg);
    }
    free(after);
    struct {
        const char *prefix;
        size_t n;
    } cases[] = {{"pfx/a", 7},   {"pfx/a/", 3},    {"pfx/a/s", 1},      {"pfx/ab", 1},
                 {"pfx/zz", 0},  {"pfx/b", 1},     {"pfx/a/1", 1},      {"pfx/a/1/", 0},
                 {"pfx/a.", 1},  {"pfx", 8},       {"pfx/ab/c/d/e", 0}, {"pfx//a", 0},
                 {"pfx/./a", 0}, {"pfx/a/../a", 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        K(f, cases[i].prefix, prefix);
        assert_int_equal(objstore_list(f->s, prefix, NULL, 0, &pg, NULL), SILT_OK);
        if (pg.n != cases[i].n)
            fail_msg("prefix %s: %zu keys, want %zu", cases[i].prefix, pg.n, cases[i].n);
        for (size_t j = 0; j < pg.n; j++)
            assert_int_equal(strncmp(pg.entries[j].key, prefix, strlen(prefix)), 0);
        objstore_page_free(&pg);
    }
    /* a prefix with a leading '/' names no key */
    snprintf(prefix, sizeof prefix, "/%s/pfx/", f->run);
    assert_int_equal(objstore_list(f->s, prefix, NULL, 0, &pg, NULL), SILT_OK);
    assert_int_equal(pg.n, 0);
    objstore_page_free(&pg);
    for (size_t i = 0; i < nr; i++) free(sorted[i]);
    free(sorted);
}

static void test_objstore_delete(void **state) {
    fixture *f = *state;
    char k[512];
    K(f, "del/x/y/obj", k);
    put_str(f->s, k, "one");
    assert_int_equal(objstore_del(f->s, k, NULL), SILT_OK);
    objstore_meta m;
    assert_int_equal(objstore_head(f->s, k, &m, NULL), SILT_ENOTFOUND);
    buf b = {0};
    assert_int_equal(objstore_get(f->s, k, 0, UINT64_MAX, &b, NULL), SILT_ENOTFOUND);
    buf_free(&b);
    char prefix[512];
    objstore_page pg;
    assert_int_equal(objstore_list(f->s, K(f, "del/", prefix), NULL, 0, &pg, NULL), SILT_OK);
    assert_int_equal(pg.n, 0);
    objstore_page_free(&pg);
    assert_int_equal(objstore_del(f->s, k, NULL), SILT_OK); /* twice is fine */
    put_str(f->s, k, "two");                                /* the key is free again */
    expect_content(f->s, k, "two", 3);
}

static void test_objstore_key_validation(void **state) {
    fixture *f = *state;
    char too_long[OBJSTORE_KEY_MAX + 2];
    memset(too_long, 'a', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = 0;
    char long_seg[300];
    memset(long_seg, 'b', sizeof long_seg - 1);
    long_seg[sizeof long_seg - 1] = 0;
    const char *bad[] = {"",       "/abs", "trail/", "a//b",    ".",      "..",     "a/./b",
                         "a/../b", "a b",  "a\\b",   "a?b",     "a%2Fb",  "a#b",    "\xc3\xa4",
                         "a\nb",   "a:b",  "~tmp",   ".x.tmp~", too_long, long_seg, "a+b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        silt_err e = {0};
        buf b = {0};
        objstore_meta m;
        if (objstore_put(f->s, bad[i], (const uint8_t *)"x", 1, &e) != SILT_EINVAL)
            fail_msg("put accepted bad key #%zu \"%s\"", i, bad[i]);
        assert_int_equal(e.code, SILT_EINVAL);
        assert_int_equal(objstore_get(f->s, bad[i], 0, UINT64_MAX, &b, NULL), SILT_EINVAL);
        assert_int_equal(objstore_head(f->s, bad[i], &m, NULL), SILT_EINVAL);
        assert_int_equal(objstore_del(f->s, bad[i], NULL), SILT_EINVAL);
        assert_false(objstore_key_valid(bad[i]));
        buf_free(&b);
    }
    assert_false(objstore_key_valid(NULL));
    const char *good[] = {"a", "A-Z_0.9", "a/b.c", "...", "a/.hidden", "x-/_y/z.parquet"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_true(objstore_key_valid(good[i]));
        char k[512];
        snprintf(k, sizeof k, "%s/valid%zu/%s", f->run, i, good[i]);
        put_str(f->s, k, good[i]);
        expect_content(f->s, k, good[i], strlen(good[i]));
    }
    objstore_page pg;
    assert_int_equal(objstore_list(f->s, "a b", NULL, 0, &pg, NULL), SILT_EINVAL);
    assert_int_equal(objstore_list(f->s, "ok/", "bad after", 0, &pg, NULL), SILT_EINVAL);
    assert_int_equal(objstore_list(f->s, too_long, NULL, 0, &pg, NULL), SILT_EINVAL);
}

/* ------------------------------------------------------------------ concurrency */

#define N_THREADS 8

typedef struct race {
    objstore *s;
    const char *key;
    pthread_barrier_t *bar;
    int id;
    int rc;
    size_t len;
    int mismatches;
} race;

static void *race_put(void *arg) {
    race *r = arg;
    uint8_t data[4096];
    r->len = 1000 + (size_t)r->id * 100; /* each writer's object is different */
    memset(data, 'A' + r->id, r->len);
    pthread_barrier_wait(r->bar);
    r->rc = objstore_put(r->s, r->key, data, r->len, NULL);
    return NULL;
}

static void test_objstore_concurrent_put_same_key(void **state) {
    fixture *f = *state;
    for (int round = 0; round < 3; round++) {
        char k[512], rest[64];
        snprintf(rest, sizeof rest, "race/obj-%d", round);
        K(f, rest, k);
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, N_THREADS);
        race r[N_THREADS];
        pthread_t th[N_THREADS];
        for (int i = 0; i < N_THREADS; i++) {
            r[i] = (race){.s = f->s, .key = k, .bar = &bar, .id = i};
            pthread_create(&th[i], NULL, race_put, &r[i]);
        }
        int winners = 0, winner = -1;
        for (int i = 0; i < N_THREADS; i++) pthread_join(th[i], NULL);
        for (int i = 0; i < N_THREADS; i++) {
            if (r[i].rc == SILT_OK)
                winners++, winner = i;
            else if (r[i].rc != SILT_EEXIST)
                fail_msg("thread %d: %s", i, silt_strerror(r[i].rc));
        }
        pthread_barrier_destroy(&bar);
        assert_int_equal(winners, 1);
        uint8_t want[4096];
        memset(want, 'A' + winner, r[winner].len);
        expect_content(f->s, k, want, r[winner].len);
    }
}

#define N_GET_OBJS 4

typedef struct getter {
    objstore *s;
    char keys[N_GET_OBJS][512];
    uint8_t *data[N_GET_OBJS];
    size_t len[N_GET_OBJS];
    int id;
    int errors;
} getter;

static void *run_gets(void *arg) {
    getter *g = arg;
    for (int i = 0; i < 25; i++) {
        int o = (i + g->id) % N_GET_OBJS;
        buf b = {0};
        uint64_t off = (i % 3 == 0) ? (uint64_t)(i * 37 % 1000) : 0;
        uint64_t len = (i % 3 == 0) ? 777 : UINT64_MAX;
        if (objstore_get(g->s, g->keys[o], off, len, &b, NULL) != SILT_OK) {
            g->errors++;
        } else {
            uint64_t n = objstore__clip(g->len[o], off, len);
            if (b.len != n || (n && memcmp(b.p, g->data[o] + off, (size_t)n))) g->errors++;
        }
        buf_free(&b);
    }
    return NULL;
}

static void test_objstore_concurrent_gets(void **state) {
    fixture *f = *state;
    getter g[N_THREADS];
    getter base = {.s = f->s};
    for (int o = 0; o < N_GET_OBJS; o++) {
        char rest[64];
        snprintf(rest, sizeof rest, "cget/o%d", o);
        K(f, rest, base.keys[o]);
        base.len[o] = 3000 + (size_t)o * 50000;
        base.data[o] = xmalloc(base.len[o]);
        fill_pattern(base.data[o], base.len[o], (uint64_t)o + 100);
        put_ok(f->s, base.keys[o], base.data[o], base.len[o]);
    }
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        g[i] = base;
        g[i].id = i;
        pthread_create(&th[i], NULL, run_gets, &g[i]);
    }
    for (int i = 0; i < N_THREADS; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < N_THREADS; i++) assert_int_equal(g[i].errors, 0);
    for (int o = 0; o < N_GET_OBJS; o++) free(base.data[o]);
}

typedef struct putter {
    objstore *s;
    const char *run;
    int id;
    int errors;
} putter;

static void *run_puts(void *arg) {
    putter *p = arg;
    for (int i = 0; i < 10; i++) {
        char k[512];
        snprintf(k, sizeof k, "%s/cput/t%d/k%02d", p->run, p->id, i);
        if (objstore_put(p->s, k, (const uint8_t *)k, strlen(k), NULL) != SILT_OK) p->errors++;
    }
    return NULL;
}

static void test_objstore_concurrent_puts_distinct_keys(void **state) {
    fixture *f = *state;
    putter p[N_THREADS];
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        p[i] = (putter){f->s, f->run, i, 0};
        pthread_create(&th[i], NULL, run_puts, &p[i]);
    }
    for (int i = 0; i < N_THREADS; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < N_THREADS; i++) assert_int_equal(p[i].errors, 0);
    char prefix[512];
    objstore_page pg;
    assert_int_equal(objstore_list(f->s, K(f, "cput/", prefix), NULL, 0, &pg, NULL), SILT_OK);
    assert_int_equal(pg.n, N_THREADS * 10);
    for (size_t i = 0; i + 1 < pg.n; i++)
        assert_true(strcmp(pg.entries[i].key, pg.entries[i + 1].key) < 0);
    objstore_page_free(&pg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objstore_put_get_head_roundtrip),
        cmocka_unit_test(test_objstore_put_if_absent),
        cmocka_unit_test(test_objstore_missing_keys),
        cmocka_unit_test(test_objstore_ranged_gets),
        cmocka_unit_test(test_objstore_empty_object),
        cmocka_unit_test(test_objstore_large_object),
        cmocka_unit_test(test_objstore_list_paging),
        cmocka_unit_test(test_objstore_list_prefixes_and_order),
        cmocka_unit_test(test_objstore_delete),
        cmocka_unit_test(test_objstore_key_validation),
        cmocka_unit_test(test_objstore_concurrent_put_same_key),
        cmocka_unit_test(test_objstore_concurrent_gets),
        cmocka_unit_test(test_objstore_concurrent_puts_distinct_keys),
    };
    int failed = 0;
    failed += cmocka_run_group_tests_name("objstore conformance: file", tests, group_file,
                                          group_teardown);
    failed += cmocka_run_group_tests_name("objstore conformance: memory", tests, group_mem,
                                          group_teardown);
    failed += cmocka_run_group_tests_name("objstore conformance: cache over file", tests,
                                          group_cache, group_teardown);
    failed +=
        cmocka_run_group_tests_name("objstore conformance: s3", tests, group_s3, group_teardown);
    return failed ? 1 : 0;
}
