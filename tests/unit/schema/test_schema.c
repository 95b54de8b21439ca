/* SPDX-License-Identifier: MIT
 *
 * schema tests: name rules, limits, kind and type conflicts, stable ids, sorted listings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "schema/schema.h"

#include <stdlib.h>

static void test_schema_db_name_rules(void **state) {
    (void)state;
    const char *ok[] = {"db", "my_db", "a-b", "0db", "X"};
    const char *bad[] = {"", "_db", "-db", "a b", "a/b", "é", "a.b"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        assert_int_equal(schema_db_name_check(ok[i], strlen(ok[i]), NULL), SILT_OK);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(schema_db_name_check(bad[i], strlen(bad[i]), NULL), SILT_EINVAL);
    char long_name[66];
    memset(long_name, 'a', 65);
    long_name[65] = 0;
    assert_int_equal(schema_db_name_check(long_name, 64, NULL), SILT_OK);
    assert_int_equal(schema_db_name_check(long_name, 65, NULL), SILT_EINVAL);
}

static void test_schema_limits(void **state) {
    (void)state;
    schema_limits lim = {2, 2, 2};
    schema *s = schema_create(&lim);
    schema_db *a, *b, *c;
    silt_err err = {0};
    assert_int_equal(schema_db_create(s, "a", 1, &a, &err), SILT_OK);
    assert_int_equal(schema_db_create(s, "b", 1, &b, &err), SILT_OK);
    assert_int_equal(schema_db_create(s, "a", 1, &c, &err), SILT_OK); /* existing: no limit */
    assert_ptr_equal(a, c);
    assert_int_equal(schema_db_create(s, "c", 1, &c, &err), SILT_ELIMIT);
    schema_table *t1, *t2, *t3;
    assert_int_equal(schema_table_create(s, a, "t1", 2, &t1, &err), SILT_OK);
    assert_int_equal(schema_table_create(s, a, "t2", 2, &t2, &err), SILT_OK);
    assert_int_equal(schema_table_create(s, a, "t3", 2, &t3, &err), SILT_ELIMIT);
    assert_int_equal(schema_table_create(s, b, "t3", 2, &t3, &err), SILT_OK); /* per database */
    assert_int_equal(t1->id, 0);
    assert_int_equal(t3->id, 2); /* table ids are global */
    schema_col *c1, *c2, *c3;
    assert_int_equal(schema_col_create(s, t1, "x", 1, SCHEMA_FIELD, LP_FLOAT, &c1, &err), SILT_OK);
    assert_int_equal(schema_col_create(s, t1, "y", 1, SCHEMA_TAG, 0, &c2, &err), SILT_OK);
    assert_int_equal(schema_col_create(s, t1, "z", 1, SCHEMA_TAG, 0, &c3, &err), SILT_ELIMIT);
    assert_non_null(strstr(err.msg, "limit of 2 columns"));
    schema_destroy(s);
}

static void test_schema_column_kind_and_type_are_fixed(void **state) {
    (void)state;
    schema_limits lim = {0};
    schema *s = schema_create(&lim);
    schema_db *d;
    schema_table *t;
    schema_col *c, *c2;
    silt_err err = {0};
    schema_db_create(s, "d", 1, &d, &err);
    schema_table_create(s, d, "t", 1, &t, &err);
    assert_int_equal(schema_col_create(s, t, "f", 1, SCHEMA_FIELD, LP_INT, &c, &err), SILT_OK);
    assert_int_equal(schema_col_create(s, t, "f", 1, SCHEMA_FIELD, LP_INT, &c2, &err), SILT_OK);
    assert_ptr_equal(c, c2);
    assert_int_equal(schema_col_create(s, t, "f", 1, SCHEMA_FIELD, LP_FLOAT, &c2, &err),
                     SILT_ESCHEMA);
    assert_non_null(strstr(err.msg, "has type integer, not float"));
    assert_int_equal(schema_col_create(s, t, "f", 1, SCHEMA_TAG, 0, &c2, &err), SILT_ESCHEMA);
    assert_non_null(strstr(err.msg, "is a field, not a tag"));
    assert_ptr_equal(schema_col_find(t, "f", 1), c);
    assert_null(schema_col_find(t, "g", 1));
    schema_destroy(s);
}

static void test_schema_listings_are_sorted(void **state) {
    (void)state;
    schema_limits lim = {0};
    schema *s = schema_create(&lim);
    const char *dbs[] = {"zz", "aa", "mm"};
    schema_db *d = NULL;
    for (int i = 0; i < 3; i++) schema_db_create(s, dbs[i], 2, &d, NULL);
    schema_table *t;
    schema_table_create(s, d, "b", 1, &t, NULL);
    schema_table_create(s, d, "a", 1, &t, NULL);
    char **names;
    size_t n;
    assert_int_equal(schema_list_dbs(s, &names, &n), SILT_OK);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "aa");
    assert_string_equal(names[2], "zz");
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    assert_int_equal(schema_list_tables(s, "mm", &names, &n), SILT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "a");
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    assert_int_equal(schema_list_tables(s, "nope", &names, &n), SILT_ENOTFOUND);
    schema_destroy(s);
}

/* A dropped table / database is neither found nor listed, frees its name (a new object with
 * a new id, without the old columns) and its slot in the limits; the old object stays valid. */
static void test_schema_drop_frees_the_name(void **state) {
    (void)state;
    schema_limits lim = {.max_dbs = 2, .max_tables_per_db = 2};
    schema *s = schema_create(&lim);
    schema_db *d, *d2;
    schema_table *cpu, *mem, *cpu2;
    schema_col *c;
    silt_err err = {0};
    schema_wrlock(s);
    assert_int_equal(schema_db_create(s, "db", 2, &d, &err), SILT_OK);
    assert_int_equal(schema_table_create(s, d, "cpu", 3, &cpu, &err), SILT_OK);
    assert_int_equal(schema_table_create(s, d, "mem", 3, &mem, &err), SILT_OK);
    assert_int_equal(schema_col_create(s, cpu, "v", 1, SCHEMA_FIELD, LP_FLOAT, &c, &err), SILT_OK);
    schema_table_drop(s, cpu);
    assert_null(schema_table_find(d, "cpu", 3));
    assert_ptr_equal(schema_table_find(d, "mem", 3), mem);
    assert_ptr_equal(schema_table_by_id(s, cpu->id), cpu); /* still valid, by id */
    /* the limit counts live tables: a new cpu fits, with a new id and no columns; its field
     * may take another type */
    assert_int_equal(schema_table_create(s, d, "cpu", 3, &cpu2, &err), SILT_OK);
    assert_true(cpu2 != cpu && cpu2->id != cpu->id);
    assert_int_equal(cpu2->n_cols, 0);
    assert_int_equal(schema_col_create(s, cpu2, "v", 1, SCHEMA_FIELD, LP_STRING, &c, &err),
                     SILT_OK);
    assert_ptr_equal(schema_table_find(d, "cpu", 3), cpu2);
    schema_table *t3;
    assert_int_equal(schema_table_create(s, d, "x", 1, &t3, &err), SILT_ELIMIT);
    schema_unlock(s);
    char **names;
    size_t n;
    assert_int_equal(schema_list_tables(s, "db", &names, &n), SILT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "cpu");
    assert_string_equal(names[1], "mem");
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);

    schema_wrlock(s);
    schema_db_drop(s, d);
    assert_null(schema_db_find(s, "db", 2));
    assert_true(cpu2->dropped && mem->dropped);
    assert_int_equal(schema_db_create(s, "db", 2, &d2, &err), SILT_OK);
    assert_true(d2 != d);
    assert_null(schema_table_find(d2, "mem", 3));
    assert_int_equal(schema_db_create(s, "other", 5, &d, &err), SILT_OK);
    schema_unlock(s);
    assert_int_equal(schema_list_dbs(s, &names, &n), SILT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "db");
    assert_string_equal(names[1], "other");
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    schema_destroy(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_db_name_rules),
        cmocka_unit_test(test_schema_limits),
        cmocka_unit_test(test_schema_column_kind_and_type_are_fixed),
        cmocka_unit_test(test_schema_listings_are_sorted),
        cmocka_unit_test(test_schema_drop_frees_the_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
