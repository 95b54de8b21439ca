/* SPDX-License-Identifier: MIT
 *
 * The cache decorator: hits and misses (and that a hit never touches the inner store), fill
 * files under the cache directory, LRU eviction by total size, objects too big to keep, the
 * index rebuilt on open, temp files dropped on open, copies whose size disagrees with the
 * inner HEAD not trusted, deletes and explicit evictions drop copies, a failed inner get
 * caches nothing, and many threads under eviction pressure get the right bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "objstore/objstore.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct fx {
    char dir[128];
    char root[160];
    char cdir[160];
} fx;

static int setup(void **state) {
    fx *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/silt-objcache-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->root, sizeof f->root, "%s/objects", f->dir);
    snprintf(f->cdir, sizeof f->cdir, "%s/cache", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx *f = *state;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

static objstore *open_cache(fx *f, uint64_t max_bytes) {
    objstore *inner, *c;
    silt_err e = {0};
    if (objstore_file_open(f->root, &inner, &e)) fail_msg("file: %s", e.msg);
    if (objstore_cache_open(inner, f->cdir, max_bytes, &c, &e)) fail_msg("cache: %s", e.msg);
    assert_string_equal(c->kind, "cache");
    return c;
}

static void put_n(objstore *s, const char *key, size_t n, uint8_t v) {
    uint8_t *d = xmalloc(n ? n : 1);
    memset(d, v, n);
    silt_err e = {0};
    if (objstore_put(s, key, d, n, &e)) fail_msg("put %s: %s", key, e.msg);
    free(d);
}

static void get_expect(objstore *s, const char *key, size_t n, uint8_t v) {
    buf b = {0};
    silt_err e = {0};
    if (objstore_get(s, key, 0, UINT64_MAX, &b, &e)) fail_msg("get %s: %s", key, e.msg);
    assert_int_equal(b.len, n);
    for (size_t i = 0; i < n; i++)
        if (b.p[i] != v) fail_msg("get %s: byte %zu is %u, want %u", key, i, b.p[i], v);
    buf_free(&b);
}

static bool cached_file(fx *f, const char *key, off_t *size) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", f->cdir, key);
    struct stat st;
    if (stat(p, &st) < 0) return false;
    if (size) *size = st.st_size;
    return true;
}

static objstore_cache_stats stats(objstore *c) {
    objstore_cache_stats st;
    objstore_cache_get_stats(c, &st);
    return st;
}

static void test_objstore_cache_hit_and_miss(void **state) {
    fx *f = *state;
    objstore *c = open_cache(f, 1 << 20);
    put_n(c, "a/b/obj", 1000, 'a');
    assert_false(cached_file(f, "a/b/obj", NULL)); /* puts do not fill */
    get_expect(c, "a/b/obj", 1000, 'a');
    objstore_cache_stats st = stats(c);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.hits, 0);
    assert_int_equal(st.bytes, 1000);
    off_t sz = 0;
    assert_true(cached_file(f, "a/b/obj", &sz));
    assert_int_equal(sz, 1000);
    get_expect(c, "a/b/obj", 1000, 'a');
    assert_int_equal(stats(c).hits, 1);
    /* a ranged get of a cached object is served from the copy */
    buf b = {0};
    assert_int_equal(objstore_get(c, "a/b/obj", 990, 100, &b, NULL), SILT_OK);
    assert_int_equal(b.len, 10);
    assert_int_equal(stats(c).hits, 2);
    /* a ranged get of an uncached object goes to inner and fills nothing */
    put_n(c, "a/other", 500, 'o');
    buf_reset(&b);
    assert_int_equal(objstore_get(c, "a/other", 10, 20, &b, NULL), SILT_OK);
    assert_int_equal(b.len, 20);
    assert_false(cached_file(f, "a/other", NULL));
    st = stats(c);
    assert_int_equal(st.misses, 2);
    assert_int_equal(st.bytes, 1000);
    /* a missing key is a miss that fills nothing */
    assert_int_equal(objstore_get(c, "a/none", 0, UINT64_MAX, &b, NULL), SILT_ENOTFOUND);
    assert_false(cached_file(f, "a/none", NULL));
    buf_free(&b);
    objstore_destroy(c);
}

static void test_objstore_cache_hit_never_touches_inner(void **state) {
    fx *f = *state;
    (void)f;
    objstore *mem = objstore_mem_create(), *c;
    char cdir[200];
    snprintf(cdir, sizeof cdir, "%s/memcache", f->dir);
    assert_int_equal(objstore_cache_open(mem, cdir, 1 << 20, &c, NULL), SILT_OK);
    put_n(c, "k", 300, 'k');
    get_expect(c, "k", 300, 'k');
    objstore_mem_fail(mem, OBJ_OP_GET, 1, SILT_EIO, true);
    objstore_mem_fail(mem, OBJ_OP_HEAD, 1, SILT_EIO, true);
    get_expect(c, "k", 300, 'k'); /* served by the copy */
    assert_int_equal(stats(c).hits, 1);
    /* a failed inner get on a miss: the error, and nothing cached */
    put_n(c, "m", 10, 'm');
    buf b = {0};
    assert_int_equal(objstore_get(c, "m", 0, UINT64_MAX, &b, NULL), SILT_EIO);
    assert_int_equal(b.len, 0);
    char p[300];
    snprintf(p, sizeof p, "%s/m", cdir);
    assert_int_not_equal(access(p, F_OK), 0);
    buf_free(&b);
    objstore_destroy(c); /* destroys mem too */
}

static void test_objstore_cache_lru_eviction(void **state) {
    fx *f = *state;
    objstore *c = open_cache(f, 3000);
    put_n(c, "e/a", 1000, 'a');
    put_n(c, "e/b", 1000, 'b');
    put_n(c, "e/c", 1000, 'c');
    put_n(c, "e/d", 1000, 'd');
    get_expect(c, "e/a", 1000, 'a');
    get_expect(c, "e/b", 1000, 'b');
    get_expect(c, "e/c", 1000, 'c');
    assert_int_equal(stats(c).bytes, 3000);
    get_expect(c, "e/a", 1000, 'a'); /* a is now the most recent, b the least */
    get_expect(c, "e/d", 1000, 'd'); /* over the bound: b goes */
    objstore_cache_stats st = stats(c);
    assert_int_equal(st.evictions, 1);
    assert_int_equal(st.bytes, 3000);
    assert_false(cached_file(f, "e/b", NULL));
    assert_true(cached_file(f, "e/a", NULL));
    assert_true(cached_file(f, "e/c", NULL));
    assert_true(cached_file(f, "e/d", NULL));
    get_expect(c, "e/b", 1000, 'b'); /* a miss again; c (least recent) goes */
    assert_false(cached_file(f, "e/c", NULL));
    assert_int_equal(stats(c).evictions, 2);
    /* bigger than the whole cache: served, not kept, nothing evicted */
    put_n(c, "e/huge", 5000, 'h');
    get_expect(c, "e/huge", 5000, 'h');
    assert_false(cached_file(f, "e/huge", NULL));
    st = stats(c);
    assert_int_equal(st.evictions, 2);
    assert_int_equal(st.bytes, 3000);
    objstore_destroy(c);
}

static void test_objstore_cache_index_rebuilt_on_open(void **state) {
    fx *f = *state;
    objstore *c = open_cache(f, 1 << 20);
    put_n(c, "r/x", 100, 'x');
    put_n(c, "r/y", 200, 'y');
    get_expect(c, "r/x", 100, 'x');
    get_expect(c, "r/y", 200, 'y');
    objstore_destroy(c);
    /* a crash left a temp file */
    char p[512];
    snprintf(p, sizeof p, "%s/r/.77-1.tmp~", f->cdir);
    int fd = open(p, O_CREAT | O_WRONLY, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "junk", 4), 4);
    close(fd);
    c = open_cache(f, 1 << 20);
    assert_int_not_equal(access(p, F_OK), 0);
    objstore_cache_stats st = stats(c);
    assert_int_equal(st.bytes, 300);
    assert_int_equal(st.hits + st.misses, 0);
    get_expect(c, "r/x", 100, 'x');
    get_expect(c, "r/y", 200, 'y');
    st = stats(c);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.misses, 0);
    objstore_destroy(c);
    /* reopened with a smaller bound: trimmed to fit */
    c = open_cache(f, 250);
    assert_true(stats(c).bytes <= 250);
    objstore_destroy(c);
}

static void test_objstore_cache_wrong_size_copy_not_trusted(void **state) {
    fx *f = *state;
    objstore *c = open_cache(f, 1 << 20);
    put_n(c, "w/obj", 1000, 'w');
    put_n(c, "w/gone", 10, 'g');
    get_expect(c, "w/obj", 1000, 'w');
    get_expect(c, "w/gone", 10, 'g');
    objstore_destroy(c);
    /* a power failure cut the copy short */
    char p[512];
    snprintf(p, sizeof p, "%s/w/obj", f->cdir);
    assert_int_equal(truncate(p, 600), 0);
    /* and the object behind the other copy was deleted meanwhile */
    objstore *inner;
    assert_int_equal(objstore_file_open(f->root, &inner, NULL), SILT_OK);
    assert_int_equal(objstore_del(inner, "w/gone", NULL), SILT_OK);
    objstore_destroy(inner);

    c = open_cache(f, 1 << 20);
    get_expect(c, "w/obj", 1000, 'w'); /* HEAD says 1000: refetched */
    objstore_cache_stats st = stats(c);
    assert_int_equal(st.hits, 0);
    assert_int_equal(st.misses, 1);
    off_t sz = 0;
    assert_true(cached_file(f, "w/obj", &sz));
    assert_int_equal(sz, 1000);
    get_expect(c, "w/obj", 1000, 'w'); /* now a verified hit */
    assert_int_equal(stats(c).hits, 1);
    buf b = {0};
    assert_int_equal(objstore_get(c, "w/gone", 0, UINT64_MAX, &b, NULL), SILT_ENOTFOUND);
    assert_false(cached_file(f, "w/gone", NULL));
    buf_free(&b);
    objstore_destroy(c);
}

static void test_objstore_cache_delete_and_evict_drop_copies(void **state) {
    fx *f = *state;
    objstore *c = open_cache(f, 1 << 20);
    put_n(c, "d/obj", 100, 'd');
    put_n(c, "d/obj2", 100, 'e');
    get_expect(c, "d/obj", 100, 'd');
    get_expect(c, "d/obj2", 100, 'e');
    assert_int_equal(objstore_del(c, "d/obj", NULL), SILT_OK);
    assert_false(cached_file(f, "d/obj", NULL));
    buf b = {0};
    assert_int_equal(objstore_get(c, "d/obj", 0, UINT64_MAX, &b, NULL), SILT_ENOTFOUND);
    objstore_cache_evict(c, "d/obj2"); /* the caller's checksum failed */
    assert_false(cached_file(f, "d/obj2", NULL));
    assert_int_equal(stats(c).bytes, 0);
    get_expect(c, "d/obj2", 100, 'e'); /* fetched again */
    assert_true(cached_file(f, "d/obj2", NULL));
    /* a copy removed behind the cache's back is a miss, not an error */
    char p[512];
    snprintf(p, sizeof p, "%s/d/obj2", f->cdir);
    assert_int_equal(unlink(p), 0);
    get_expect(c, "d/obj2", 100, 'e');
    buf_free(&b);
    objstore_destroy(c);
}

typedef struct worker {
    objstore *c;
    int id;
    int errors;
} worker;

static void *cache_worker(void *arg) {
    worker *w = arg;
    for (int i = 0; i < 200; i++) {
        int k = (i * 7 + w->id * 3) % 20;
        char key[32];
        snprintf(key, sizeof key, "cc/k%02d", k);
        buf b = {0};
        bool ranged = i % 5 == 0;
        if (objstore_get(w->c, key, ranged ? 10 : 0, ranged ? 50 : UINT64_MAX, &b, NULL)) {
            w->errors++;
        } else {
            size_t want = ranged ? 50 : 1000 + (size_t)k * 10;
            if (b.len != want) w->errors++;
            for (size_t j = 0; j < b.len; j++)
                if (b.p[j] != 'A' + k) {
                    w->errors++;
                    break;
                }
        }
        buf_free(&b);
    }
    return NULL;
}

static void test_objstore_cache_concurrent_under_eviction(void **state) {
    fx *f = *state;
    objstore *c = open_cache(f, 5000); /* holds about 4 of the 20 objects */
    for (int k = 0; k < 20; k++) {
        char key[32];
        snprintf(key, sizeof key, "cc/k%02d", k);
        put_n(c, key, 1000 + (size_t)k * 10, (uint8_t)('A' + k));
    }
    worker w[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (worker){c, i, 0};
        pthread_create(&th[i], NULL, cache_worker, &w[i]);
    }
    for (int i = 0; i < 8; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 8; i++) assert_int_equal(w[i].errors, 0);
    objstore_cache_stats st = stats(c);
    assert_true(st.bytes <= 5000);
    assert_true(st.evictions > 0);
    assert_int_equal(st.hits + st.misses, 8 * 200);
    objstore_destroy(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_objstore_cache_hit_and_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_objstore_cache_hit_never_touches_inner, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_objstore_cache_lru_eviction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_objstore_cache_index_rebuilt_on_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_objstore_cache_wrong_size_copy_not_trusted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_objstore_cache_delete_and_evict_drop_copies, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_objstore_cache_concurrent_under_eviction, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
