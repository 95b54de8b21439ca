/* SPDX-License-Identifier: MIT
 *
 * The memory backend's failure schedule: the n-th call (counted from arming) of one
 * operation fails with the chosen code, once or from then on; a failed call changes nothing;
 * nth 0 disarms; operations are scheduled independently. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "objstore/objstore.h"

static void test_objstore_mem_fail_once(void **state) {
    (void)state;
    objstore *s = objstore_mem_create();
    assert_string_equal(s->kind, "memory");
    /* calls before arming do not count */
    assert_int_equal(objstore_put(s, "a", (const uint8_t *)"1", 1, NULL), SILT_OK);
    objstore_mem_fail(s, OBJ_OP_PUT, 2, SILT_EIO, false);
    assert_int_equal(objstore_put(s, "b", (const uint8_t *)"2", 1, NULL), SILT_OK);
    silt_err e = {0};
    assert_int_equal(objstore_put(s, "c", (const uint8_t *)"3", 1, &e), SILT_EIO);
    assert_int_equal(e.code, SILT_EIO);
    assert_non_null(strstr(e.msg, "injected"));
    objstore_meta m;
    assert_int_equal(objstore_head(s, "c", &m, NULL), SILT_ENOTFOUND); /* nothing changed */
    assert_int_equal(objstore_put(s, "c", (const uint8_t *)"3", 1, NULL), SILT_OK); /* once */
    assert_int_equal(objstore_put(s, "d", (const uint8_t *)"4", 1, NULL), SILT_OK);
    objstore_destroy(s);
}

static void test_objstore_mem_fail_persistent_and_disarm(void **state) {
    (void)state;
    objstore *s = objstore_mem_create();
    assert_int_equal(objstore_put(s, "k", (const uint8_t *)"data", 4, NULL), SILT_OK);
    objstore_mem_fail(s, OBJ_OP_GET, 1, SILT_ENOSPC, true);
    buf b = {0};
    for (int i = 0; i < 5; i++)
        assert_int_equal(objstore_get(s, "k", 0, UINT64_MAX, &b, NULL), SILT_ENOSPC);
    assert_int_equal(b.len, 0);
    objstore_mem_fail(s, OBJ_OP_GET, 0, SILT_ENOSPC, true); /* nth 0: disarmed */
    assert_int_equal(objstore_get(s, "k", 0, UINT64_MAX, &b, NULL), SILT_OK);
    assert_int_equal(b.len, 4);
    /* persistent from the 3rd call on */
    objstore_mem_fail(s, OBJ_OP_HEAD, 3, SILT_ELIMIT, true);
    objstore_meta m;
    assert_int_equal(objstore_head(s, "k", &m, NULL), SILT_OK);
    assert_int_equal(objstore_head(s, "k", &m, NULL), SILT_OK);
    assert_int_equal(objstore_head(s, "k", &m, NULL), SILT_ELIMIT);
    assert_int_equal(objstore_head(s, "k", &m, NULL), SILT_ELIMIT);
    buf_free(&b);
    objstore_destroy(s);
}

static void test_objstore_mem_ops_scheduled_independently(void **state) {
    (void)state;
    objstore *s = objstore_mem_create();
    assert_int_equal(objstore_put(s, "x/1", (const uint8_t *)"1", 1, NULL), SILT_OK);
    objstore_mem_fail(s, OBJ_OP_DEL, 1, SILT_EIO, false);
    objstore_mem_fail(s, OBJ_OP_LIST, 1, SILT_EIO, false);
    objstore_page pg;
    assert_int_equal(objstore_list(s, "x/", NULL, 0, &pg, NULL), SILT_EIO);
    assert_int_equal(pg.n, 0);
    assert_null(pg.entries);
    assert_int_equal(objstore_del(s, "x/1", NULL), SILT_EIO);
    objstore_meta m;
    assert_int_equal(objstore_head(s, "x/1", &m, NULL), SILT_OK); /* the failed delete kept it */
    assert_int_equal(objstore_list(s, "x/", NULL, 0, &pg, NULL), SILT_OK);
    assert_int_equal(pg.n, 1);
    objstore_page_free(&pg);
    assert_int_equal(objstore_del(s, "x/1", NULL), SILT_OK);
    assert_int_equal(objstore_head(s, "x/1", &m, NULL), SILT_ENOTFOUND);
    /* invalid keys are refused before the schedule counts them */
    objstore_mem_fail(s, OBJ_OP_PUT, 1, SILT_EIO, false);
    assert_int_equal(objstore_put(s, "bad key", (const uint8_t *)"1", 1, NULL), SILT_EINVAL);
    assert_int_equal(objstore_put(s, "good", (const uint8_t *)"1", 1, NULL), SILT_EIO);
    objstore_destroy(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objstore_mem_fail_once),
        cmocka_unit_test(test_objstore_mem_fail_persistent_and_disarm),
        cmocka_unit_test(test_objstore_mem_ops_scheduled_independently),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
