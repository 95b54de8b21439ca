/* SPDX-License-Identifier: MIT
 *
 * File backend specifics, through the fault-injecting vfs: the on-disk layout, the put steps
 * (temp file, fdatasync, link, unlink, directory fsync) and what is left after a failure at
 * each of them (nothing: no object, no temp file), directory creation and its fsyncs, temp
 * files swept on open, foreign files ignored, empty directories removed on delete, puts and
 * deletes racing in one directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "objstore/objstore.h"
#include "objstore/objstore_int.h"
#include "util/vfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct fx {
    char dir[128];
    char root[160];
    vfs *fv; /* fault vfs over posix */
    objstore *s;
} fx;

static int setup(void **state) {
    fx *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/silt-objfile-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->root, sizeof f->root, "%s/objects", f->dir);
    f->fv = vfs_fault_create(vfs_posix());
    silt_err e = {0};
    if (objstore_file_open_vfs(f->fv, f->root, &f->s, &e)) {
        print_error("open: %s\n", e.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx *f = *state;
    objstore_destroy(f->s);
    f->fv->destroy(f->fv);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

/* Count regular files under dir whose name contains `needle` (NULL: all). */
static int count_files(const char *dir, const char *needle) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) < 0) continue;
        if (S_ISDIR(st.st_mode))
            n += count_files(p, needle);
        else if (!needle || strstr(e->d_name, needle))
            n++;
    }
    closedir(d);
    return n;
}

static bool exists(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0;
}

static void test_objstore_file_layout_and_no_temp_left(void **state) {
    fx *f = *state;
    assert_string_equal(f->s->kind, "file");
    silt_err e = {0};
    assert_int_equal(
        objstore_put(f->s, "dbs/1/2/2024-01-01/9.parquet", (const uint8_t *)"PAR1", 4, &e),
        SILT_OK);
    char p[512];
    snprintf(p, sizeof p, "%s/dbs/1/2/2024-01-01/9.parquet", f->root);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 4);
    assert_int_equal(st.st_nlink, 1); /* the temp name is gone */
    assert_int_equal(count_files(f->root, NULL), 1);
    assert_int_equal(count_files(f->root, "~"), 0);
    /* one data sync per put */
    assert_int_equal(vfs_fault_count(f->fv, VFS_OP_SYNC), 1);
}

static void test_objstore_file_directories_are_fsynced(void **state) {
    fx *f = *state;
    unsigned d0 = vfs_fault_count(f->fv, VFS_OP_SYNC_DIR);
    assert_int_equal(objstore_put(f->s, "x/y/z/o1", (const uint8_t *)"1", 1, NULL), SILT_OK);
    /* root after mkdir x, x after mkdir y, y after mkdir z, then z after the link */
    assert_int_equal(vfs_fault_count(f->fv, VFS_OP_SYNC_DIR) - d0, 4);
    assert_int_equal(objstore_put(f->s, "x/y/z/o2", (const uint8_t *)"2", 1, NULL), SILT_OK);
    assert_int_equal(vfs_fault_count(f->fv, VFS_OP_SYNC_DIR) - d0, 5); /* the chain is known */
    assert_int_equal(objstore_put(f->s, "x/y/w/o3", (const uint8_t *)"3", 1, NULL), SILT_OK);
    assert_int_equal(vfs_fault_count(f->fv, VFS_OP_SYNC_DIR) - d0, 7); /* y, then w */
    /* a delete fsyncs the directory it removed the name from */
    assert_int_equal(objstore_del(f->s, "x/y/z/o1", NULL), SILT_OK);
    assert_int_equal(vfs_fault_count(f->fv, VFS_OP_SYNC_DIR) - d0, 8);
}

/* After a failed put: no object, no temp file, and the store still works. */
static void expect_clean_failure(fx *f, const char *key, int want_rc) {
    silt_err e = {0};
    int rc = objstore_put(f->s, key, (const uint8_t *)"payload", 7, &e);
    if (rc != want_rc)
        fail_msg("put %s: %s, want %s (%s)", key, silt_strerror(rc), silt_strerror(want_rc), e.msg);
    assert_int_equal(e.code, want_rc);
    vfs_fault_disarm(f->fv);
    objstore_meta m;
    assert_int_equal(objstore_head(f->s, key, &m, NULL), SILT_ENOTFOUND);
    assert_int_equal(count_files(f->root, "~"), 0);
    char p[512];
    snprintf(p, sizeof p, "%s/%s", f->root, key);
    assert_false(exists(p));
    assert_int_equal(objstore_put(f->s, key, (const uint8_t *)"payload", 7, &e), SILT_OK);
    buf b = {0};
    assert_int_equal(objstore_get(f->s, key, 0, UINT64_MAX, &b, NULL), SILT_OK);
    assert_int_equal(b.len, 7);
    buf_free(&b);
}

static void test_objstore_file_enospc_leaves_nothing(void **state) {
    fx *f = *state;
    /* the write of the temp file fails half way, as on a full disk */
    vfs_fault_arm(f->fv, VFS_OP_WRITE, 1, ENOSPC, false, ".tmp~");
    expect_clean_failure(f, "full/obj", SILT_ENOSPC);
}

static void test_objstore_file_fsync_failure_leaves_nothing(void **state) {
    fx *f = *state;
    vfs_fault_arm(f->fv, VFS_OP_SYNC, 1, EIO, false, NULL);
    expect_clean_failure(f, "nosync/obj", SILT_EIO);
}

static void test_objstore_file_dir_fsync_failure_leaves_nothing(void **state) {
    fx *f = *state;
    /* the directory exists already: the one directory sync is step 5, after the link */
    assert_int_equal(objstore_put(f->s, "d/first", (const uint8_t *)"1", 1, NULL), SILT_OK);
    vfs_fault_arm(f->fv, VFS_OP_SYNC_DIR, 1, EIO, false, NULL);
    expect_clean_failure(f, "d/second", SILT_EIO);
    /* and while making a new directory chain */
    vfs_fault_arm(f->fv, VFS_OP_SYNC_DIR, 2, EIO, false, NULL);
    expect_clean_failure(f, "n1/n2/obj", SILT_EIO);
}

static void test_objstore_file_unwritable_directory(void **state) {
    fx *f = *state;
    /* what a read-only directory does to the temp file's open (EACCES; the tests run as
     * root, which no mode bit stops, so the error is injected) */
    vfs_fault_arm(f->fv, VFS_OP_OPEN, 1, EACCES, false, ".tmp~");
    expect_clean_failure(f, "ro/obj", SILT_EIO);
    vfs_fault_arm(f->fv, VFS_OP_OPEN, 1, EROFS, true, NULL);
    silt_err e = {0};
    assert_int_equal(objstore_put(f->s, "ro/obj2", (const uint8_t *)"x", 1, &e), SILT_EIO);
    assert_non_null(strstr(e.msg, "file system"));
    vfs_fault_disarm(f->fv);
    assert_int_equal(count_files(f->root, "~"), 0);
}

static void test_objstore_file_reads_fail_cleanly(void **state) {
    fx *f = *state;
    assert_int_equal(objstore_put(f->s, "r/obj", (const uint8_t *)"abc", 3, NULL), SILT_OK);
    vfs_fault_arm(f->fv, VFS_OP_READ, 1, EIO, false, NULL);
    buf b = {0};
    buf_puts(&b, "pre");
    assert_int_equal(objstore_get(f->s, "r/obj", 0, UINT64_MAX, &b, NULL), SILT_EIO);
    assert_int_equal(b.len, 3); /* out unchanged */
    assert_int_equal(objstore_get(f->s, "r/obj", 0, UINT64_MAX, &b, NULL), SILT_OK);
    assert_int_equal(b.len, 6);
    buf_free(&b);
}

static void test_objstore_file_temp_files_swept_on_open(void **state) {
    fx *f = *state;
    assert_int_equal(objstore_put(f->s, "t/a/obj", (const uint8_t *)"1", 1, NULL), SILT_OK);
    char p[512];
    snprintf(p, sizeof p, "%s/t/a/.999-7.tmp~", f->root); /* a crash left it */
    int fd = open(p, O_CREAT | O_WRONLY, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "partial", 7), 7);
    close(fd);
    objstore_page pg;
    assert_int_equal(objstore_list(f->s, "t/", NULL, 0, &pg, NULL), SILT_OK);
    assert_int_equal(pg.n, 1); /* never listed */
    objstore_page_free(&pg);
    objstore_destroy(f->s);
    assert_int_equal(objstore_file_open_vfs(f->fv, f->root, &f->s, NULL), SILT_OK);
    assert_false(exists(p));
    buf b = {0};
    assert_int_equal(objstore_get(f->s, "t/a/obj", 0, UINT64_MAX, &b, NULL), SILT_OK);
    assert_int_equal(b.len, 1);
    buf_free(&b);
}

static void test_objstore_file_foreign_files_ignored(void **state) {
    fx *f = *state;
    assert_int_equal(objstore_put(f->s, "g/ok", (const uint8_t *)"1", 1, NULL), SILT_OK);
    char p[512], q[512];
    snprintf(p, sizeof p, "%s/g/bad name", f->root);
    int fd = open(p, O_CREAT | O_WRONLY, 0644);
    assert_true(fd >= 0);
    close(fd);
    snprintf(p, sizeof p, "%s/g/link", f->root);
    snprintf(q, sizeof q, "%s/g/ok", f->root);
    assert_int_equal(symlink(q, p), 0);
    objstore_page pg;
    assert_int_equal(objstore_list(f->s, "g/", NULL, 0, &pg, NULL), SILT_OK);
    assert_int_equal(pg.n, 1);
    assert_string_equal(pg.entries[0].key, "g/ok");
    objstore_page_free(&pg);
}

static void test_objstore_file_key_below_object_is_einval(void **state) {
    fx *f = *state;
    silt_err e = {0};
    assert_int_equal(objstore_put(f->s, "k/a", (const uint8_t *)"1", 1, NULL), SILT_OK);
    assert_int_equal(objstore_put(f->s, "k/a/b", (const uint8_t *)"2", 1, &e), SILT_EINVAL);
    assert_int_equal(objstore_put(f->s, "k/c/d", (const uint8_t *)"3", 1, NULL), SILT_OK);
    assert_int_equal(objstore_put(f->s, "k/c", (const uint8_t *)"4", 1, &e), SILT_EINVAL);
    assert_int_equal(objstore_del(f->s, "k/c", NULL), SILT_OK); /* a directory: nothing */
    assert_int_equal(count_files(f->root, "~"), 0);
}

static void test_objstore_file_delete_removes_empty_dirs(void **state) {
    fx *f = *state;
    assert_int_equal(objstore_put(f->s, "p/q/r/o", (const uint8_t *)"1", 1, NULL), SILT_OK);
    assert_int_equal(objstore_put(f->s, "p/keep", (const uint8_t *)"1", 1, NULL), SILT_OK);
    assert_int_equal(objstore_del(f->s, "p/q/r/o", NULL), SILT_OK);
    char p[512];
    snprintf(p, sizeof p, "%s/p/q", f->root);
    assert_false(exists(p));
    snprintf(p, sizeof p, "%s/p", f->root);
    assert_true(exists(p)); /* not empty */
    assert_true(exists(f->root));
    /* the directory chain is made again (and fsynced again) */
    unsigned d0 = vfs_fault_count(f->fv, VFS_OP_SYNC_DIR);
    assert_int_equal(objstore_put(f->s, "p/q/r/o", (const uint8_t *)"2", 1, NULL), SILT_OK);
    assert_int_equal(vfs_fault_count(f->fv, VFS_OP_SYNC_DIR) - d0, 3);
}

typedef struct churn {
    objstore *s;
    int id;
    int errors;
} churn;

static void *churn_main(void *arg) {
    churn *c = arg;
    for (int i = 0; i < 200; i++) {
        char k[64];
        snprintf(k, sizeof k, "churn/day/t%d-%d", c->id, i);
        silt_err e = {0};
        if (objstore_put(c->s, k, (const uint8_t *)k, strlen(k), &e) != SILT_OK) {
            fprintf(stderr, "put %s: %s\n", k, e.msg);
            c->errors++;
        }
        if (objstore_del(c->s, k, &e) != SILT_OK) {
            fprintf(stderr, "del %s: %s\n", k, e.msg);
            c->errors++;
        }
    }
    char k[64];
    snprintf(k, sizeof k, "churn/day/final-%d", c->id);
    if (objstore_put(c->s, k, (const uint8_t *)k, strlen(k), NULL) != SILT_OK) c->errors++;
    return NULL;
}

static void test_objstore_file_put_and_delete_race_in_one_dir(void **state) {
    fx *f = *state;
    /* deletes remove the directory whenever it empties; puts must remake it and retry */
    churn c[6];
    pthread_t th[6];
    for (int i = 0; i < 6; i++) {
        c[i] = (churn){f->s, i, 0};
        pthread_create(&th[i], NULL, churn_main, &c[i]);
    }
    for (int i = 0; i < 6; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 6; i++) assert_int_equal(c[i].errors, 0);
    objstore_page pg;
    assert_int_equal(objstore_list(f->s, "churn/", NULL, 0, &pg, NULL), SILT_OK);
    assert_int_equal(pg.n, 6);
    objstore_page_free(&pg);
    assert_int_equal(count_files(f->root, "~"), 0);
}

static void test_objstore_file_persists_across_reopen(void **state) {
    fx *f = *state;
    assert_int_equal(objstore_put(f->s, "keep/obj", (const uint8_t *)"durable", 7, NULL), SILT_OK);
    objstore_destroy(f->s);
    assert_int_equal(objstore_file_open(f->root, &f->s, NULL), SILT_OK);
    buf b = {0};
    assert_int_equal(objstore_get(f->s, "keep/obj", 0, UINT64_MAX, &b, NULL), SILT_OK);
    assert_int_equal(b.len, 7);
    assert_int_equal(objstore_put(f->s, "keep/obj", (const uint8_t *)"other", 5, NULL),
                     SILT_EEXIST);
    buf_free(&b);
    /* a root that is a file is refused */
    char p[512];
    snprintf(p, sizeof p, "%s/keep/obj", f->root);
    objstore *s2 = NULL;
    assert_int_not_equal(objstore_file_open(p, &s2, NULL), SILT_OK);
    assert_null(s2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_objstore_file_layout_and_no_temp_left, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_objstore_file_directories_are_fsynced, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_objstore_file_enospc_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_objstore_file_fsync_failure_leaves_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_objstore_file_dir_fsync_failure_leaves_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_objstore_file_unwritable_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_objstore_file_reads_fail_cleanly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_objstore_file_temp_files_swept_on_open, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_objstore_file_foreign_files_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_objstore_file_key_below_object_is_einval, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_objstore_file_delete_removes_empty_dirs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_objstore_file_put_and_delete_race_in_one_dir, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_objstore_file_persists_across_reopen, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
