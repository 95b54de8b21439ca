/* SPDX-License-Identifier: MIT
 *
 * The catalog suite, written once and run against both backends: every test in TESTS[] runs
 * in the group "catalog/sqlite" (a fresh file in a temp dir) and again in
 * "catalog/postgresql" (a fresh PostgreSQL schema on $PG_URL, selected through
 * options=-csearch_path in the URL). Without PG_URL the PostgreSQL group FAILS:
 * run it as `bash mk/with-servers.sh make VARIANT=asan test-unit M=catalog`.
 *
 * Results are checked through the catalog and, independently, through a raw connection
 * (sqlite3 / libpq) of the test's own. The concurrency tests run workers in threads (one
 * catalog handle each) and in fork()ed processes; workers never call cmocka (not
 * thread-safe, and a child must not unwind into the parent's runner): they return what they
 * saw and the parent checks it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "catalog/catalog.h"
#include "catalog/catalog_int.h"
#include "lp/lp.h"

#include <errno.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------ fixture */

typedef enum be_kind { BE_SQLITE = 0, BE_PG = 1 } be_kind;

static be_kind be_sqlite = BE_SQLITE, be_pg = BE_PG;

typedef struct fx {
    be_kind be;
    char dir[256];     /* sqlite: temp dir */
    char path[300];    /* sqlite: catalog file */
    char schema[64];   /* pg: schema of this test */
    char target[2048]; /* what catalog_open gets */
    catalog *c;        /* opened with node id "node-test" */
} fx;

static int test_counter;

static void quiet(void *arg, const char *msg) {
    (void)arg, (void)msg;
}

/* A connection of the test's own, notices silenced. */
static PGconn *pg_connect(const char *conninfo) {
    PGconn *conn = PQconnectdb(conninfo);
    PQsetNoticeProcessor(conn, quiet, NULL);
    return conn;
}

static void pg_admin(const char *sql) {
    const char *url = getenv("PG_URL");
    PGconn *conn = pg_connect(url);
    if (PQstatus(conn) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn));
        PQfinish(conn);
        fail_msg("cannot connect to PG_URL: %s", msg);
    }
    PGresult *res = PQexec(conn, sql);
    ExecStatusType s = PQresultStatus(res);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(res));
        PQclear(res);
        PQfinish(conn);
        fail_msg("%s: %s", sql, msg);
    }
    PQclear(res);
    PQfinish(conn);
}

/* Drop and create this test's schema (PostgreSQL) / remove the catalog files (SQLite). */
static void fx_fresh(fx *f) {
    if (f->be == BE_PG) {
        char sql[256];
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", f->schema,
                 f->schema);
        pg_admin(sql);
    } else {
        const char *sfx[] = {"", "-wal", "-shm", "-journal"};
        for (size_t i = 0; i < 4; i++) {
            char p[400];
            snprintf(p, sizeof p, "%s%s", f->path, sfx[i]);
            unlink(p);
        }
    }
}

static catalog *fx_open_node(fx *f, const char *node) {
    catalog *c = NULL;
    silt_err err = {0};
    catalog_opts o = {node};
    int rc = catalog_open(f->target, &o, &c, &err);
    if (rc)
        fail_msg("catalog_open(%s): %s (%d)", f->be == BE_PG ? "postgresql" : "sqlite", err.msg,
                 rc);
    return c;
}

static int fx_setup(void **state) {
    be_kind be = *(be_kind *)*state;
    const char *url = getenv("PG_URL");
    if (be == BE_PG && (!url || !*url))
        fail_msg("PG_URL is not set: the PostgreSQL half of the catalog suite needs a server. "
                 "Run: bash mk/with-servers.sh make VARIANT=asan test-unit M=catalog");
    fx *f = xcalloc(1, sizeof *f);
    f->be = be;
    *state = f;
    if (be == BE_PG) {
        snprintf(f->schema, sizeof f->schema, "silt_test_%d_%d", (int)getpid(), ++test_counter);
        /* the schema selects this test's catalog; application_name lets a test drop exactly
         * this test's catalog connections */
        snprintf(f->target, sizeof f->target, "%s%coptions=-csearch_path%%3D%s&application_name=%s",
                 url, strchr(url, '?') ? '&' : '?', f->schema, f->schema);
    } else {
        snprintf(f->dir, sizeof f->dir, "/tmp/silt-catalog-test-XXXXXX");
        if (!mkdtemp(f->dir)) fail_msg("mkdtemp: %s", strerror(errno));
        snprintf(f->path, sizeof f->path, "%s/catalog.sqlite", f->dir);
        snprintf(f->target, sizeof f->target, "%s", f->path);
    }
    fx_fresh(f);
    f->c = fx_open_node(f, "node-test");
    return 0;
}

static int fx_teardown(void **state) {
    fx *f = *state;
    if (!f) return 0;
    catalog_close(f->c);
    if (f->be == BE_PG) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", f->schema);
        if (getenv("PG_URL")) pg_admin(sql);
    } else if (f->dir[0]) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        if (system(cmd) != 0) fprintf(stderr, "rm -rf %s failed\n", f->dir);
    }
    free(f);
    return 0;
}

/* ------------------------------------------------------------------ raw access */

/* One integer from SQL run on a connection of the test's own (not the catalog's). */
static int64_t raw_i64(fx *f, const char *sql) {
    int64_t v = -1;
    if (f->be == BE_PG) {
        PGconn *conn = pg_connect(f->target);
        assert_int_equal(PQstatus(conn), CONNECTION_OK);
        PGresult *res = PQexec(conn, sql);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            fail_msg("raw %s: %s", sql, PQresultErrorMessage(res));
        if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
            v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        PQfinish(conn);
    } else {
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
            fail_msg("raw %s: %s", sql, sqlite3_errmsg(db));
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    return v;
}

static void raw_exec(fx *f, const char *sql) {
    if (f->be == BE_PG) {
        PGconn *conn = pg_connect(f->target);
        assert_int_equal(PQstatus(conn), CONNECTION_OK);
        PGresult *res = PQexec(conn, sql);
        ExecStatusType s = PQresultStatus(res);
        if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
            fail_msg("raw %s: %s", sql, PQresultErrorMessage(res));
        PQclear(res);
        PQfinish(conn);
    } else {
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        char *msg = NULL;
        if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) fail_msg("raw %s: %s", sql, msg);
        sqlite3_close(db);
    }
}

/* ------------------------------------------------------------------ helpers */

#define CHECK_OK(call)                                                                             \
    do {                                                                                           \
        silt_err e_ = {0};                                                                         \
        int rc_ = (call);                                                                          \
        if (rc_ != SILT_OK) fail_msg("%s: %s (rc %d)", #call, e_.msg, rc_);                        \
    } while (0)

static int64_t ensure_db(catalog *c, const char *name) {
    int64_t id = 0;
    silt_err err = {0};
    int rc = catalog_ensure_db(c, name, &id, &err);
    if (rc) fail_msg("catalog_ensure_db(%s): %s", name, err.msg);
    assert_true(id > 0);
    return id;
}

static int64_t ensure_table(catalog *c, int64_t db, const char *name) {
    int64_t id = 0;
    silt_err err = {0};
    int rc = catalog_ensure_table(c, db, name, &id, &err);
    if (rc) fail_msg("catalog_ensure_table(%s): %s", name, err.msg);
    assert_true(id > 0);
    return id;
}

static void mk_file(catalog_file *f, int64_t table_id, const char *key, int64_t t_min,
                    int64_t t_max) {
    memset(f, 0, sizeof *f);
    f->table_id = table_id;
    f->day = time_day(t_min);
    snprintf(f->object_key, sizeof f->object_key, "%s", key);
    f->min_time = t_min;
    f->max_time = t_max;
    f->row_count = 10 + (uint64_t)strlen(key);
    f->size_bytes = 1000 + (uint64_t)strlen(key);
    snprintf(f->checksum, sizeof f->checksum, "xxh3:%016llx",
             (unsigned long long)hash64(key, strlen(key)));
    f->compaction_level = 0;
}

static int commit_files(catalog *c, catalog_file *files, size_t n, const char *node, uint64_t seq,
                        silt_err *err) {
    catalog_commit cm = {.files = files, .n_files = n, .node_id = node, .persisted_seq = seq};
    return catalog_commit_persist(c, &cm, err);
}

static uint64_t watermark(catalog *c, const char *node) {
    uint64_t seq = 99999999;
    silt_err err = {0};
    int rc = catalog_get_watermark(c, node, &seq, &err);
    if (rc) fail_msg("catalog_get_watermark: %s", err.msg);
    return seq;
}

/* Keys of the files listed for [t_min, t_max] joined by ',' (in the order listed). */
static void list_keys(catalog *c, int64_t table_id, int64_t t_min, int64_t t_max, char *out,
                      size_t cap) {
    catalog_file *v = NULL;
    size_t n = 0;
    silt_err err = {0};
    int rc = catalog_list_files(c, table_id, t_min, t_max, &v, &n, &err);
    if (rc) fail_msg("catalog_list_files: %s", err.msg);
    out[0] = 0;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0) assert_true(v[i - 1].id < v[i].id); /* id order */
        assert_int_equal(v[i].to_delete_at, 0);
        off += (size_t)snprintf(out + off, cap - off, "%s%s", i ? "," : "", v[i].object_key);
        assert_true(off < cap);
    }
    free(v);
}

static void all_files(catalog *c, catalog_file **v, size_t *n) {
    silt_err err = {0};
    int rc = catalog_list_all_files(c, v, n, &err);
    if (rc) fail_msg("catalog_list_all_files: %s", err.msg);
}

static const catalog_file *find_key(const catalog_file *v, size_t n, const char *key) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].object_key, key) == 0) return &v[i];
    return NULL;
}

/* ------------------------------------------------------------------ open, migrations */

static void test_catalog_migrate_fresh_and_reopen(void **state) {
    fx *f = *state;
    int v = -1;
    CHECK_OK(catalog_schema_version(f->c, &v, &e_));
    assert_int_equal(v, CATALOG_SCHEMA_VERSION);
    assert_int_equal(catalog__known_version(catalog_backend(f->c)), CATALOG_SCHEMA_VERSION);
    assert_string_equal(catalog_backend(f->c), f->be == BE_PG ? "postgresql" : "sqlite");
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM schema_migrations"), CATALOG_SCHEMA_VERSION);
    int64_t applied_at = raw_i64(f, "SELECT applied_at FROM schema_migrations WHERE version = 1");
    assert_true(applied_at > 0);
    /* every table of the schema is there and empty */
    const char *tables[] = {"nodes",      "databases",     "tables",        "columns",
                            "partitions", "parquet_files", "wal_watermarks"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[i]);
        assert_int_equal(raw_i64(f, sql), strcmp(tables[i], "nodes") == 0 ? 1 : 0);
    }
    if (f->be == BE_SQLITE) {
        assert_int_equal(raw_i64(f, "SELECT count(*) FROM pragma_journal_mode WHERE "
                                    "journal_mode = 'wal'"),
                         1);
    }
    int64_t db = ensure_db(f->c, "keep");

    /* a second handle while the first is open, then a reopen: nothing applied twice */
    catalog *c2 = fx_open_node(f, "node-test");
    catalog_close(c2);
    catalog_close(f->c);
    f->c = fx_open_node(f, NULL);
    CHECK_OK(catalog_schema_version(f->c, &v, &e_));
    assert_int_equal(v, CATALOG_SCHEMA_VERSION);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM schema_migrations"), CATALOG_SCHEMA_VERSION);
    assert_int_equal(raw_i64(f, "SELECT applied_at FROM schema_migrations WHERE version = 1"),
                     applied_at);
    assert_int_equal(ensure_db(f->c, "keep"), db);
}

static void test_catalog_newer_version_refused(void **state) {
    fx *f = *state;
    ensure_db(f->c, "before");
    CHECK_OK(catalog__exec_script(f->c,
                                  "INSERT INTO schema_migrations(version, name, "
                                  "applied_at) VALUES (999, 'from the future', 0)",
                                  &e_));
    catalog_close(f->c);
    f->c = NULL;
    catalog *c = (catalog *)0x1;
    silt_err err = {0};
    catalog_opts o = {"node-x"};
    int rc = catalog_open(f->target, &o, &c, &err);
    assert_int_equal(rc, SILT_ECORRUPT);
    assert_null(c);
    assert_non_null(strstr(err.msg, "999"));
    assert_non_null(strstr(err.msg, "newer"));
    /* refused without touching anything: node-x was not registered */
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM nodes WHERE node_id = 'node-x'"), 0);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM schema_migrations"),
                     CATALOG_SCHEMA_VERSION + 1);
    /* back to a known version: opens again, data intact */
    raw_exec(f, "DELETE FROM schema_migrations WHERE version = 999");
    f->c = fx_open_node(f, "node-x");
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM databases WHERE name = 'before'"), 1);
}

static void test_catalog_open_errors(void **state) {
    fx *f = *state;
    catalog *c = NULL;
    silt_err err = {0};
    assert_int_equal(catalog_open("", NULL, &c, &err), SILT_EINVAL);
    catalog_opts bad_node = {""};
    assert_int_equal(catalog_open(f->target, &bad_node, &c, &err), SILT_EINVAL);
    assert_null(c);
    if (f->be == BE_SQLITE) {
        char p[400];
        snprintf(p, sizeof p, "%s/garbage.sqlite", f->dir);
        FILE *fp = fopen(p, "w");
        assert_non_null(fp);
        for (int i = 0; i < 4096; i++) fputc("not a database "[i % 15], fp);
        fclose(fp);
        assert_int_equal(catalog_open(p, NULL, &c, &err), SILT_ECORRUPT);
        assert_non_null(strstr(err.msg, p));
        snprintf(p, sizeof p, "%s/no/such/dir/catalog.sqlite", f->dir);
        assert_int_equal(catalog_open(p, NULL, &c, &err), SILT_EIO);
        assert_non_null(strstr(err.msg, "no/such/dir"));
    } else {
        /* nothing listens on port 1; the password must not appear in the message */
        int rc = catalog_open("postgresql://silt:sekrit-pw@127.0.0.1:1/silt", NULL, &c, &err);
        assert_int_equal(rc, SILT_EIO);
        assert_null(strstr(err.msg, "sekrit-pw"));
        assert_non_null(strstr(err.msg, "127.0.0.1"));
    }
    assert_null(c);
}

/* A failing statement's message names the statement and carries the database's message. */
static void test_catalog_error_names_statement(void **state) {
    fx *f = *state;
    raw_exec(f, "DROP TABLE parquet_files");
    catalog_file *v = NULL;
    size_t n = 0;
    silt_err err = {0};
    int rc = catalog_list_files(f->c, 1, 0, 10, &v, &n, &err);
    assert_int_equal(rc, SILT_EIO);
    assert_non_null(strstr(err.msg, "catalog_list_files"));
    assert_non_null(strstr(err.msg, "FILES_LIST"));
    assert_non_null(strstr(err.msg, "parquet_files")); /* the database's own words */
    assert_null(v);
}

/* ------------------------------------------------------------------ databases, tables */

static void test_catalog_ensure_idempotent_and_unique(void **state) {
    fx *f = *state;
    int64_t db1 = ensure_db(f->c, "db1");
    assert_int_equal(ensure_db(f->c, "db1"), db1);
    int64_t db2 = ensure_db(f->c, "db2");
    assert_true(db2 != db1);
    catalog *c2 = fx_open_node(f, "node-2");
    assert_int_equal(ensure_db(c2, "db1"), db1);

    int64_t cpu1 = ensure_table(f->c, db1, "cpu");
    assert_int_equal(ensure_table(f->c, db1, "cpu"), cpu1);
    assert_int_equal(ensure_table(c2, db1, "cpu"), cpu1);
    int64_t cpu2 = ensure_table(c2, db2, "cpu");
    int64_t mem1 = ensure_table(f->c, db1, "mem");
    int64_t uni = ensure_table(f->c, db1, "temp\xc3\xa9rature w/ space,comma");
    assert_true(cpu2 != cpu1 && mem1 != cpu1 && mem1 != cpu2 && uni != mem1);
    assert_int_equal(ensure_table(c2, db1, "temp\xc3\xa9rature w/ space,comma"), uni);
    catalog_close(c2);

    assert_int_equal(raw_i64(f, "SELECT count(*) FROM databases"), 2);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM tables"), 4);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM tables WHERE name = 'cpu'"), 2);

    int64_t id = 0;
    silt_err err = {0};
    assert_int_equal(catalog_ensure_db(f->c, "", &id, &err), SILT_EINVAL);
    assert_int_equal(catalog_ensure_db(f->c, "bad name!", &id, &err), SILT_EINVAL);
    assert_int_equal(catalog_ensure_db(f->c, NULL, &id, &err), SILT_EINVAL);
    assert_int_equal(catalog_ensure_table(f->c, db1, "", &id, &err), SILT_EINVAL);
    assert_int_equal(catalog_ensure_table(f->c, db1, "\xff\xfe", &id, &err), SILT_EINVAL);
    assert_int_equal(catalog_ensure_table(f->c, 0, "x", &id, &err), SILT_EINVAL);
    assert_int_equal(catalog_ensure_table(f->c, 987654, "x", &id, &err), SILT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "987654"));
    assert_int_equal(id, 0);

    /* a deleted database takes no new tables; a deleted name is free for a new object */
    raw_exec(f, "UPDATE databases SET deleted_at = 5 WHERE name = 'db2'");
    assert_int_equal(catalog_ensure_table(f->c, db2, "cpu", &id, &err), SILT_ENOTFOUND);
    assert_int_equal(catalog_ensure_table(f->c, db2, "new", &id, &err), SILT_ENOTFOUND);
    assert_int_equal(id, 0);
    int64_t db2b = ensure_db(f->c, "db2");
    assert_true(db2b > db2);
    raw_exec(f, "UPDATE tables SET deleted_at = 5 WHERE name = 'mem'");
    int64_t mem1b = ensure_table(f->c, db1, "mem");
    assert_true(mem1b > uni);
    assert_int_equal(ensure_table(f->c, db1, "mem"), mem1b);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM tables"), 5);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM databases WHERE name = 'db2'"), 2);
}

/* ------------------------------------------------------------------ delete */

typedef struct schema_seen schema_seen;
struct schema_seen {
    char lines[64][160];
    int n;
    int stop_after; /* return an error after this many calls (0: never) */
};

static int collect_schema(void *arg, int64_t db_id, const char *db, int64_t table_id,
                          const char *table, const catalog_column *col) {
    schema_seen *s = arg;
    (void)db_id;
    if (s->n >= 64) return SILT_ETOOBIG;
    snprintf(s->lines[s->n++], 160, "%s/%s/%s/%d/%d", db, table ? table : "-",
             col ? col->name : "-", col ? col->kind : 0, col ? col->type : 0);
    if (!table) assert_int_equal(table_id, 0);
    if (s->stop_after && s->n == s->stop_after) return SILT_EBUSY;
    return SILT_OK;
}

static int64_t file_mark(fx *f, int64_t file_id) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COALESCE(to_delete_at, 0) FROM parquet_files WHERE id = %lld",
             (long long)file_id);
    return raw_i64(f, sql);
}

static void test_catalog_delete_table_marks_and_frees_name(void **state) {
    fx *f = *state;
    int64_t db = ensure_db(f->c, "db");
    int64_t cpu = ensure_table(f->c, db, "cpu");
    int64_t mem = ensure_table(f->c, db, "mem");
    catalog_file fs[3];
    mk_file(&fs[0], cpu, "c1", 10, 20);
    mk_file(&fs[1], cpu, "c2", 30, 40);
    mk_file(&fs[2], mem, "m1", 10, 20);
    CHECK_OK(commit_files(f->c, fs, 3, "n1", 1, &e_));
    int64_t T = 1000000;
    CHECK_OK(catalog_mark_files(f->c, &fs[1].id, 1, T, &e_)); /* compacted away earlier */

    int64_t G = 2000000;
    size_t n_marked = 99;
    CHECK_OK(catalog_delete_table(f->c, cpu, G, &n_marked, &e_));
    assert_int_equal(n_marked, 1);
    /* the live file is marked at G, the one marked earlier keeps its mark, mem is untouched */
    assert_int_equal(file_mark(f, fs[0].id), G);
    assert_int_equal(file_mark(f, fs[1].id), T);
    assert_int_equal(file_mark(f, fs[2].id), 0);
    char keys[128];
    list_keys(f->c, cpu, 0, 100, keys, sizeof keys);
    assert_string_equal(keys, "");
    list_keys(f->c, mem, 0, 100, keys, sizeof keys);
    assert_string_equal(keys, "m1");
    assert_true(raw_i64(f, "SELECT COALESCE(MAX(deleted_at), 0) FROM tables WHERE name = 'cpu'") >
                0);
    /* rows stay until collected: the files are in the catalog, only marked */
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM parquet_files"), 3);

    /* idempotent: nothing changes, nothing more is marked */
    CHECK_OK(catalog_delete_table(f->c, cpu, G + 5, &n_marked, &e_));
    assert_int_equal(n_marked, 0);
    assert_int_equal(file_mark(f, fs[0].id), G);

    /* a persist into the deleted table is refused; the name makes a fresh, empty table */
    catalog_file late;
    mk_file(&late, cpu, "late", 50, 60);
    silt_err err = {0};
    assert_int_equal(commit_files(f->c, &late, 1, "n1", 2, &err), SILT_ENOTFOUND);
    int64_t cpu2 = ensure_table(f->c, db, "cpu");
    assert_true(cpu2 > mem);
    list_keys(f->c, cpu2, 0, 100, keys, sizeof keys);
    assert_string_equal(keys, "");
    mk_file(&late, cpu2, "late", 50, 60);
    CHECK_OK(commit_files(f->c, &late, 1, "n1", 2, &e_));
    list_keys(f->c, cpu2, 0, 100, keys, sizeof keys);
    assert_string_equal(keys, "late");
    /* the schema holds the new table only */
    schema_seen s = {0};
    CHECK_OK(catalog_load_schema(f->c, collect_schema, &s, &e_));
    int n_cpu = 0;
    for (int i = 0; i < s.n; i++) n_cpu += strncmp(s.lines[i], "db/cpu/", 7) == 0;
    assert_true(n_cpu >= 1);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM tables WHERE name = 'cpu' AND "
                                "deleted_at IS NULL"),
                     1);

    /* deleting it again leaves two deleted tables of one name */
    CHECK_OK(catalog_delete_table(f->c, cpu2, G, NULL, &e_));
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM tables WHERE name = 'cpu' AND "
                                "deleted_at IS NOT NULL"),
                     2);

    assert_int_equal(catalog_delete_table(f->c, 987654, G, NULL, &err), SILT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "987654"));
    assert_int_equal(catalog_delete_table(f->c, mem, 0, NULL, &err), SILT_EINVAL);
    assert_int_equal(catalog_delete_table(f->c, 0, G, NULL, &err), SILT_EINVAL);
    assert_int_equal(file_mark(f, fs[2].id), 0);
}

static void test_catalog_delete_db_marks_everything(void **state) {
    fx *f = *state;
    int64_t db = ensure_db(f->c, "db");
    int64_t other = ensure_db(f->c, "other");
    int64_t cpu = ensure_table(f->c, db, "cpu");
    int64_t mem = ensure_table(f->c, db, "mem");
    int64_t ocpu = ensure_table(f->c, other, "cpu");
    catalog_file fs[3];
    mk_file(&fs[0], cpu, "c1", 10, 20);
    mk_file(&fs[1], mem, "m1", 10, 20);
    mk_file(&fs[2], ocpu, "o1", 10, 20);
    CHECK_OK(commit_files(f->c, fs, 3, "n1", 1, &e_));

    int64_t G = 3000000;
    size_t n_marked = 0;
    CHECK_OK(catalog_delete_db(f->c, db, G, &n_marked, &e_));
    assert_int_equal(n_marked, 2);
    assert_int_equal(file_mark(f, fs[0].id), G);
    assert_int_equal(file_mark(f, fs[1].id), G);
    assert_int_equal(file_mark(f, fs[2].id), 0);
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM tables WHERE db_id = %lld AND deleted_at IS "
             "NOT NULL",
             (long long)db);
    assert_int_equal(raw_i64(f, sql), 2);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM databases WHERE name = 'db' AND deleted_at "
                                "IS NOT NULL"),
                     1);
    /* the old id takes no new table; the name makes a fresh, empty database */
    int64_t id = 0;
    silt_err err = {0};
    assert_int_equal(catalog_ensure_table(f->c, db, "cpu", &id, &err), SILT_ENOTFOUND);
    int64_t db2 = ensure_db(f->c, "db");
    assert_true(db2 > other);
    int64_t cpu2 = ensure_table(f->c, db2, "cpu");
    assert_true(cpu2 != cpu);
    schema_seen s = {0};
    CHECK_OK(catalog_load_schema(f->c, collect_schema, &s, &e_));
    const char *want[] = {"other/cpu/-/0/0", "db/cpu/-/0/0"};
    assert_int_equal(s.n, 2);
    for (int i = 0; i < s.n; i++) assert_string_equal(s.lines[i], want[i]);

    CHECK_OK(catalog_delete_db(f->c, db, G + 1, &n_marked, &e_)); /* idempotent */
    assert_int_equal(n_marked, 0);
    assert_int_equal(file_mark(f, fs[0].id), G);
    assert_int_equal(catalog_delete_db(f->c, 987654, G, NULL, &err), SILT_ENOTFOUND);
}

/* A catalog written by a silt that knew only version 1 (names of deleted objects stay
 * taken) is migrated on open: rows and ids intact, ids never reused, foreign keys on. */
static void test_catalog_migrate_v1_to_v2(void **state) {
    fx *f = *state;
    /* a fresh v1 catalog, in this test's own place */
    catalog_close(f->c);
    f->c = NULL;
    fx_fresh(f);
    catalog__test_migrate_limit = 1;
    f->c = fx_open_node(f, "node-test");
    catalog__test_migrate_limit = 0;
    int v = 0;
    CHECK_OK(catalog_schema_version(f->c, &v, &e_));
    assert_int_equal(v, 1);
    int64_t db = ensure_db(f->c, "db");
    int64_t cpu = ensure_table(f->c, db, "cpu");
    int64_t last = ensure_db(f->c, "last");
    catalog_file fl;
    mk_file(&fl, cpu, "c1", 10, 20);
    CHECK_OK(commit_files(f->c, &fl, 1, "n1", 1, &e_));
    raw_exec(f, "UPDATE tables SET deleted_at = 7 WHERE id = (SELECT max(id) FROM tables)");
    catalog_close(f->c);

    f->c = fx_open_node(f, "node-test");
    CHECK_OK(catalog_schema_version(f->c, &v, &e_));
    assert_int_equal(v, CATALOG_SCHEMA_VERSION);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM databases"), 2);
    assert_int_equal(raw_i64(f, "SELECT deleted_at FROM tables WHERE name = 'cpu'"), 7);
    char keys[64];
    list_keys(f->c, cpu, 0, 100, keys, sizeof keys);
    assert_string_equal(keys, "c1");
    assert_int_equal(ensure_db(f->c, "db"), db);
    /* new ids continue after the old ones; the deleted name is free */
    int64_t cpu2 = ensure_table(f->c, db, "cpu");
    assert_true(cpu2 > cpu);
    assert_true(ensure_db(f->c, "new") > last);
    /* foreign keys are enforced again after the rebuild */
    silt_err err = {0};
    assert_int_not_equal(catalog__exec_script(f->c,
                                              "INSERT INTO tables(db_id, name, created_at) "
                                              "VALUES (987654, 'orphan', 1)",
                                              &err),
                         SILT_OK);
    /* unique among live rows: a second live 'cpu' in db is refused by the database */
    assert_int_not_equal(catalog__exec_script(f->c,
                                              "INSERT INTO tables(db_id, name, created_at) "
                                              "SELECT db_id, name, 1 FROM tables WHERE name = "
                                              "'cpu' AND deleted_at IS NULL",
                                              &err),
                         SILT_OK);
}

/* ------------------------------------------------------------------ commit, list */

static void test_catalog_commit_and_list_by_time(void **state) {
    fx *f = *state;
    int64_t db = ensure_db(f->c, "db");
    int64_t t1 = ensure_table(f->c, db, "t1"), t2 = ensure_table(f->c, db, "t2");
    catalog_file fs[4];
    mk_file(&fs[0], t1, "a", 100, 200);
    mk_file(&fs[1], t1, "b", 200, 300);
    mk_file(&fs[2], t1, "c", 400, 500);
    mk_file(&fs[3], t2, "d", 100, 500);
    fs[2].compaction_level = 2;
    fs[2].created_at = 777;
    catalog_column cols[] = {{"time", 3, 0}, {"host", 1, 0}, {"usage", 2, LP_FLOAT}};
    int64_t col_t[] = {t1, t1, t1};
    catalog_commit cm = {.files = fs,
                         .n_files = 4,
                         .cols = cols,
                         .col_table_ids = col_t,
                         .n_cols = 3,
                         .node_id = "n1",
                         .persisted_seq = 42};
    int64_t before = time_now_ns();
    CHECK_OK(catalog_commit_persist(f->c, &cm, &e_));
    for (int i = 0; i < 4; i++) {
        assert_true(fs[i].id > 0);
        if (i) assert_true(fs[i].id > fs[i - 1].id);
    }
    assert_true(fs[0].created_at >= before);
    assert_int_equal(fs[2].created_at, 777);
    assert_int_equal(watermark(f->c, "n1"), 42);

    char keys[256];
    list_keys(f->c, t1, 0, 99, keys, sizeof keys);
    assert_string_equal(keys, "");
    list_keys(f->c, t1, 0, 100, keys, sizeof keys); /* boundaries are inclusive */
    assert_string_equal(keys, "a");
    list_keys(f->c, t1, 200, 200, keys, sizeof keys);
    assert_string_equal(keys, "a,b");
    list_keys(f->c, t1, 300, 399, keys, sizeof keys);
    assert_string_equal(keys, "b");
    list_keys(f->c, t1, 301, 399, keys, sizeof keys);
    assert_string_equal(keys, "");
    list_keys(f->c, t1, 500, 600, keys, sizeof keys);
    assert_string_equal(keys, "c");
    list_keys(f->c, t1, 501, 600, keys, sizeof keys);
    assert_string_equal(keys, "");
    list_keys(f->c, t1, INT64_MIN, INT64_MAX, keys, sizeof keys);
    assert_string_equal(keys, "a,b,c");
    list_keys(f->c, t1, 250, 150, keys, sizeof keys); /* empty range */
    assert_string_equal(keys, "");
    list_keys(f->c, t2, 450, 460, keys, sizeof keys);
    assert_string_equal(keys, "d");
    list_keys(f->c, 987654, INT64_MIN, INT64_MAX, keys, sizeof keys);
    assert_string_equal(keys, "");

    /* every field round-trips */
    catalog_file *v = NULL;
    size_t n = 0;
    CHECK_OK(catalog_list_files(f->c, t1, 400, 400, &v, &n, &e_));
    assert_int_equal(n, 1);
    assert_int_equal(v[0].id, fs[2].id);
    assert_int_equal(v[0].table_id, t1);
    assert_int_equal(v[0].day, 0);
    assert_int_equal(v[0].min_time, 400);
    assert_int_equal(v[0].max_time, 500);
    assert_int_equal(v[0].row_count, fs[2].row_count);
    assert_int_equal(v[0].size_bytes, fs[2].size_bytes);
    assert_string_equal(v[0].checksum, fs[2].checksum);
    assert_int_equal(v[0].compaction_level, 2);
    assert_int_equal(v[0].created_at, 777);
    assert_int_equal(v[0].to_delete_at, 0);
    free(v);

    /* other days, before 1970 too: one partition per (table, day) */
    catalog_file g[3];
    mk_file(&g[0], t1, "e", NS_PER_DAY + 5, NS_PER_DAY + 9);
    mk_file(&g[1], t1, "f", NS_PER_DAY + 7, 2 * NS_PER_DAY - 1);
    mk_file(&g[2], t1, "g", -NS_PER_DAY, -1);
    CHECK_OK(commit_files(f->c, g, 3, "n1", 43, &e_));
    assert_int_equal(g[2].day, -1);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM partitions"), 4);
    list_keys(f->c, t1, -5, 100, keys, sizeof keys);
    assert_string_equal(keys, "a,g");
    list_keys(f->c, t1, NS_PER_DAY + 8, NS_PER_DAY + 8, keys, sizeof keys);
    assert_string_equal(keys, "e,f");
    assert_int_equal(raw_i64(f,
                             "SELECT count(*) FROM parquet_files p JOIN partitions q ON "
                             "q.id = p.partition_id WHERE q.day = 1 AND q.table_id = p.table_id"),
                     2);

    /* the same file again (a retried commit): no new row, the same id */
    catalog_file again = fs[1];
    again.id = 0;
    again.created_at = 0;
    CHECK_OK(commit_files(f->c, &again, 1, "n1", 44, &e_));
    assert_int_equal(again.id, fs[1].id);
    assert_int_equal(again.created_at, fs[1].created_at);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM parquet_files"), 7);

    /* the same key for another file: EEXIST and nothing of that commit */
    catalog_file clash[2];
    mk_file(&clash[0], t1, "new-one", 10, 20);
    mk_file(&clash[1], t1, "b", 200, 300);
    clash[1].row_count++;
    silt_err err = {0};
    assert_int_equal(commit_files(f->c, clash, 2, "n1", 99, &err), SILT_EEXIST);
    assert_non_null(strstr(err.msg, "object key b is already recorded"));
    assert_int_equal(clash[0].id, 0);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM parquet_files"), 7);
    assert_int_equal(watermark(f->c, "n1"), 44);

    /* invalid files: nothing committed */
    catalog_file bad;
    mk_file(&bad, t1, "span", NS_PER_DAY - 1, NS_PER_DAY); /* crosses midnight */
    assert_int_equal(commit_files(f->c, &bad, 1, "n1", 100, &err), SILT_EINVAL);
    mk_file(&bad, t1, "rev", 50, 40);
    assert_int_equal(commit_files(f->c, &bad, 1, "n1", 100, &err), SILT_EINVAL);
    mk_file(&bad, t1, "", 1, 2);
    assert_int_equal(commit_files(f->c, &bad, 1, "n1", 100, &err), SILT_EINVAL);
    mk_file(&bad, 987654, "orphan", 1, 2);
    assert_int_equal(commit_files(f->c, &bad, 1, "n1", 100, &err), SILT_ENOTFOUND);
    catalog_file dup[2];
    mk_file(&dup[0], t1, "twice", 1, 2);
    mk_file(&dup[1], t1, "twice", 1, 2);
    assert_int_equal(commit_files(f->c, dup, 2, "n1", 100, &err), SILT_EINVAL);
    catalog_commit huge = {.node_id = "n1", .persisted_seq = (uint64_t)INT64_MAX + 1};
    assert_int_equal(catalog_commit_persist(f->c, &huge, &err), SILT_EINVAL);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM parquet_files"), 7);
    assert_int_equal(watermark(f->c, "n1"), 44);
}

static void test_catalog_column_conflict_commits_nothing(void **state) {
    fx *f = *state;
    int64_t db = ensure_db(f->c, "db");
    int64_t t = ensure_table(f->c, db, "cpu");
    catalog_file f1;
    mk_file(&f1, t, "f1", 10, 20);
    catalog_column c1[] = {{"host", 1, 0}, {"usage", 2, LP_FLOAT}};
    int64_t ct[] = {t, t, t, t};
    catalog_commit cm1 = {.files = &f1,
                          .n_files = 1,
                          .cols = c1,
                          .col_table_ids = ct,
                          .n_cols = 2,
                          .node_id = "n1",
                          .persisted_seq = 10};
    CHECK_OK(catalog_commit_persist(f->c, &cm1, &e_));

    /* a new column, a conflicting one, a file in a new partition, a higher watermark */
    catalog_file f2;
    mk_file(&f2, t, "f2", 5 * NS_PER_DAY, 5 * NS_PER_DAY + 1);
    catalog_column c2[] = {{"extra", 2, LP_INT}, {"usage", 2, LP_INT}};
    catalog_commit cm2 = {.files = &f2,
                          .n_files = 1,
                          .cols = c2,
                          .col_table_ids = ct,
                          .n_cols = 2,
                          .node_id = "n1",
                          .persisted_seq = 20};
    silt_err err = {0};
    assert_int_equal(catalog_commit_persist(f->c, &cm2, &err), SILT_ESCHEMA);
    assert_non_null(strstr(err.msg, "usage"));
    assert_non_null(strstr(err.msg, "float"));
    assert_int_equal(f2.id, 0);

    /* nothing of it persisted */
    catalog_file *v = NULL;
    size_t n = 0;
    all_files(f->c, &v, &n);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].object_key, "f1");
    free(v);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM partitions"), 1);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM columns"), 2);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM columns WHERE name = 'extra'"), 0);
    assert_int_equal(watermark(f->c, "n1"), 10);

    /* a tag where a field is, a field where a tag is; a conflict inside one commit */
    catalog_column c3[] = {{"usage", 1, 0}};
    catalog_commit cm3 = {.cols = c3, .col_table_ids = ct, .n_cols = 1};
    assert_int_equal(catalog_commit_persist(f->c, &cm3, &err), SILT_ESCHEMA);
    assert_non_null(strstr(err.msg, "is a field, not a tag"));
    catalog_column c4[] = {{"host", 2, LP_STRING}};
    cm3.cols = c4;
    assert_int_equal(catalog_commit_persist(f->c, &cm3, &err), SILT_ESCHEMA);
    catalog_column c5[] = {{"fresh", 2, LP_BOOL}, {"fresh", 2, LP_UINT}};
    cm3.cols = c5;
    cm3.n_cols = 2;
    assert_int_equal(catalog_commit_persist(f->c, &cm3, &err), SILT_ESCHEMA);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM columns WHERE name = 'fresh'"), 0);

    /* invalid columns are refused before the transaction */
    catalog_column bad[][1] = {
        {{"k", 4, 0}}, {{"k", 2, 0}}, {{"k", 2, 6}}, {{"k", 1, LP_INT}}, {{"", 1, 0}}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        catalog_commit cb = {.cols = bad[i], .col_table_ids = ct, .n_cols = 1};
        assert_int_equal(catalog_commit_persist(f->c, &cb, &err), SILT_EINVAL);
    }
    /* the same columns again are fine (and add nothing) */
    catalog_commit cm4 = {.cols = c1, .col_table_ids = ct, .n_cols = 2};
    CHECK_OK(catalog_commit_persist(f->c, &cm4, &e_));
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM columns"), 2);
}

static void test_catalog_watermark_only_rises(void **state) {
    fx *f = *state;
    assert_int_equal(watermark(f->c, "nX"), 0); /* never persisted */
    silt_err err = {0};
    CHECK_OK(commit_files(f->c, NULL, 0, "nX", 100, &e_));
    assert_int_equal(watermark(f->c, "nX"), 100);
    CHECK_OK(commit_files(f->c, NULL, 0, "nX", 50, &e_));
    assert_int_equal(watermark(f->c, "nX"), 100);
    CHECK_OK(commit_files(f->c, NULL, 0, "nX", 0, &e_));
    assert_int_equal(watermark(f->c, "nX"), 100);
    CHECK_OK(commit_files(f->c, NULL, 0, "nX", 150, &e_));
    assert_int_equal(watermark(f->c, "nX"), 150);
    CHECK_OK(commit_files(f->c, NULL, 0, "nX", (uint64_t)INT64_MAX, &e_));
    assert_int_equal(watermark(f->c, "nX"), INT64_MAX);

    /* no node in the commit: the catalog's own (opened with "node-test") */
    CHECK_OK(commit_files(f->c, NULL, 0, NULL, 7, &e_));
    assert_int_equal(watermark(f->c, "node-test"), 7);
    catalog *c2 = fx_open_node(f, NULL);
    assert_int_equal(watermark(c2, "node-test"), 7);
    CHECK_OK(commit_files(c2, NULL, 0, "node-test", 3, &e_));
    assert_int_equal(watermark(f->c, "node-test"), 7);
    assert_int_equal(commit_files(c2, NULL, 0, NULL, 3, &err), SILT_EINVAL); /* no node */
    catalog_close(c2);

    assert_int_equal(raw_i64(f, "SELECT count(*) FROM wal_watermarks"), 2);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM nodes"), 2);
    assert_true(raw_i64(f, "SELECT last_seen_at FROM nodes WHERE node_id = 'nX'") > 0);
    uint64_t seq = 0;
    assert_int_equal(catalog_get_watermark(f->c, NULL, &seq, &err), SILT_EINVAL);
    assert_int_equal(catalog_get_watermark(f->c, "", &seq, &err), SILT_EINVAL);
}

static void test_catalog_mark_files_hides_them(void **state) {
    fx *f = *state;
    int64_t db = ensure_db(f->c, "db");
    int64_t t = ensure_table(f->c, db, "cpu");
    catalog_file fs[3];
    mk_file(&fs[0], t, "m1", 10, 20);
    mk_file(&fs[1], t, "m2", 15, 25);
    mk_file(&fs[2], t, "m3", 20, 30);
    CHECK_OK(commit_files(f->c, fs, 3, "n1", 1, &e_));
    char keys[128];
    int64_t T = 1000000;
    CHECK_OK(catalog_mark_files(f->c, &fs[1].id, 1, T, &e_));
    list_keys(f->c, t, 0, 100, keys, sizeof keys);
    assert_string_equal(keys, "m1,m3");
    list_keys(f->c, t, 21, 25, keys, sizeof keys);
    assert_string_equal(keys, "m3");

    /* marking again keeps the first mark */
    CHECK_OK(catalog_mark_files(f->c, &fs[1].id, 1, T + 100, &e_));
    catalog_file *v = NULL;
    size_t n = 0;
    all_files(f->c, &v, &n);
    assert_int_equal(n, 3);
    assert_int_equal(find_key(v, n, "m2")->to_delete_at, T);
    assert_int_equal(find_key(v, n, "m1")->to_delete_at, 0);
    free(v);

    /* an unknown id: nothing marked */
    silt_err err = {0};
    int64_t ids[] = {fs[0].id, 987654};
    assert_int_equal(catalog_mark_files(f->c, ids, 2, T, &err), SILT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "987654"));
    list_keys(f->c, t, 0, 100, keys, sizeof keys);
    assert_string_equal(keys, "m1,m3");
    assert_int_equal(catalog_mark_files(f->c, ids, 1, 0, &err), SILT_EINVAL);
    int64_t zero = 0;
    assert_int_equal(catalog_mark_files(f->c, &zero, 1, T, &err), SILT_EINVAL);
    CHECK_OK(catalog_mark_files(f->c, NULL, 0, T, &e_));

    /* compaction: a new file replaces two in one commit */
    catalog_file merged;
    mk_file(&merged, t, "m13", 10, 30);
    merged.compaction_level = 1;
    int64_t old[] = {fs[0].id, fs[2].id};
    catalog_commit cm = {
        .files = &merged, .n_files = 1, .mark_file_ids = old, .n_mark_files = 2, .mark_at = T + 5};
    CHECK_OK(catalog_commit_persist(f->c, &cm, &e_));
    list_keys(f->c, t, 0, 100, keys, sizeof keys);
    assert_string_equal(keys, "m13");
    /* ... and with an unknown old file, nothing */
    catalog_file m4;
    mk_file(&m4, t, "m4", 10, 30);
    int64_t gone[] = {merged.id, 987654};
    catalog_commit cm2 = {
        .files = &m4, .n_files = 1, .mark_file_ids = gone, .n_mark_files = 2, .mark_at = T + 6};
    assert_int_equal(catalog_commit_persist(f->c, &cm2, &err), SILT_ENOTFOUND);
    list_keys(f->c, t, 0, 100, keys, sizeof keys);
    assert_string_equal(keys, "m13");
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM parquet_files"), 4);
}

static void test_catalog_load_schema_in_id_order(void **state) {
    fx *f = *state;
    int64_t b = ensure_db(f->c, "b");
    int64_t a = ensure_db(f->c, "a");
    ensure_db(f->c, "c");
    int64_t z = ensure_table(f->c, b, "z");
    int64_t y = ensure_table(f->c, b, "y");
    ensure_table(f->c, b, "empty");
    int64_t at = ensure_table(f->c, a, "t");
    int64_t gone = ensure_table(f->c, a, "gone");
    /* columns in creation order, not name order */
    catalog_column cols[] = {{"time", 3, 0},         {"zone", 1, 0},      {"host", 1, 0},
                             {"usage", 2, LP_FLOAT}, {"v", 2, LP_STRING}, {"w", 2, LP_BOOL},
                             {"u", 2, LP_UINT},      {"x", 2, LP_INT}};
    int64_t ct[] = {z, z, z, z, at, y, y, gone};
    catalog_commit cm = {.cols = cols, .col_table_ids = ct, .n_cols = 8};
    CHECK_OK(catalog_commit_persist(f->c, &cm, &e_));
    raw_exec(f, "UPDATE tables SET deleted_at = 1 WHERE name = 'gone'");
    int64_t d = ensure_db(f->c, "dropped");
    ensure_table(f->c, d, "x");
    raw_exec(f, "UPDATE databases SET deleted_at = 1 WHERE name = 'dropped'");

    schema_seen s = {0};
    CHECK_OK(catalog_load_schema(f->c, collect_schema, &s, &e_));
    const char *want[] = {"b/z/time/3/0",  "b/z/zone/1/0", "b/z/host/1/0",
                          "b/z/usage/2/1", "b/y/w/2/5",    "b/y/u/2/3",
                          "b/empty/-/0/0", "a/t/v/2/4",    "c/-/-/0/0"};
    assert_int_equal(s.n, (int)(sizeof want / sizeof *want));
    for (int i = 0; i < s.n; i++) assert_string_equal(s.lines[i], want[i]);

    /* the callback's error stops the walk and is returned */
    schema_seen s2 = {.stop_after = 2};
    silt_err err = {0};
    assert_int_equal(catalog_load_schema(f->c, collect_schema, &s2, &err), SILT_EBUSY);
    assert_int_equal(s2.n, 2);
}

static void test_catalog_list_all_files(void **state) {
    fx *f = *state;
    catalog_file *v = (catalog_file *)0x1;
    size_t n = 99;
    all_files(f->c, &v, &n);
    assert_int_equal(n, 0);
    free(v);
    int64_t db = ensure_db(f->c, "db");
    int64_t t1 = ensure_table(f->c, db, "t1"), t2 = ensure_table(f->c, db, "t2");
    catalog_file fs[5];
    mk_file(&fs[0], t2, "x/2", 1, 2);
    mk_file(&fs[1], t1, "x/1", 3, 4);
    mk_file(&fs[2], t1, "x/3", NS_PER_DAY * 3, NS_PER_DAY * 3 + 1);
    CHECK_OK(commit_files(f->c, fs, 3, "n", 1, &e_));
    mk_file(&fs[3], t2, "x/0", 5, 6);
    mk_file(&fs[4], t1, "x/4", 7, 8);
    CHECK_OK(commit_files(f->c, fs + 3, 2, "n", 2, &e_));
    CHECK_OK(catalog_mark_files(f->c, &fs[1].id, 1, 1234, &e_));
    all_files(f->c, &v, &n);
    assert_int_equal(n, 5);
    const char *order[] = {"x/2", "x/1", "x/3", "x/0", "x/4"};
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(v[i].object_key, order[i]);
        assert_int_equal(v[i].id, fs[i].id);
        assert_int_equal(v[i].table_id, fs[i].table_id);
        assert_int_equal(v[i].day, fs[i].day);
        assert_int_equal(v[i].to_delete_at, i == 1 ? 1234 : 0);
    }
    free(v);
}

/* ------------------------------------------------------------------ isolation */

typedef struct iso_hook {
    fx *f;
    catalog *other;
    int64_t table_id;
    int calls;
    int other_rc;
    bool saw_uncommitted;
    char msg[600];
} iso_hook;

static int find_col(void *arg, int64_t db_id, const char *db, int64_t table_id, const char *table,
                    const catalog_column *col) {
    (void)db_id, (void)db, (void)table_id, (void)table;
    if (col && strcmp(col->name, "newcol") == 0) *(bool *)arg = true;
    return SILT_OK;
}

/* Runs inside A's commit transaction, after its columns: B must not see them, and (with
 * PostgreSQL) B commits a conflicting watermark update that A must then survive. */
static void iso_hook_fn(void *arg, const char *point) {
    iso_hook *h = arg;
    h->calls++;
    if (strcmp(point, "commit_persist.after_columns") != 0) return;
    silt_err err = {0};
    bool seen = false;
    h->other_rc = catalog_load_schema(h->other, find_col, &seen, &err);
    h->saw_uncommitted = seen;
    if (h->other_rc == SILT_OK && h->f->be == BE_PG) {
        catalog_file fb;
        mk_file(&fb, h->table_id, "from-b", 1, 2);
        catalog_commit cm = {.files = &fb, .n_files = 1, .node_id = "iso", .persisted_seq = 50};
        h->other_rc = catalog_commit_persist(h->other, &cm, &err);
    }
    snprintf(h->msg, sizeof h->msg, "%s", err.msg);
}

static void test_catalog_isolation_mid_transaction(void **state) {
    fx *f = *state;
    int64_t db = ensure_db(f->c, "db");
    int64_t t = ensure_table(f->c, db, "cpu");
    catalog_file f0;
    mk_file(&f0, t, "f0", 1, 2);
    CHECK_OK(commit_files(f->c, &f0, 1, "iso", 5, &e_));

    iso_hook h = {.f = f, .other = fx_open_node(f, "node-b"), .table_id = t};
    f->c->test_hook = iso_hook_fn;
    f->c->test_hook_arg = &h;
    cat_stats before = catalog__stats(f->c);
    catalog_file fa;
    mk_file(&fa, t, "from-a", 1, 2);
    catalog_column col = {"newcol", 2, LP_FLOAT};
    catalog_commit cm = {.files = &fa,
                         .n_files = 1,
                         .cols = &col,
                         .col_table_ids = &t,
                         .n_cols = 1,
                         .node_id = "iso",
                         .persisted_seq = 20};
    CHECK_OK(catalog_commit_persist(f->c, &cm, &e_));
    f->c->test_hook = NULL;
    cat_stats after = catalog__stats(f->c);

    assert_int_equal(h.calls, 1); /* first attempt only */
    if (h.other_rc) fail_msg("the other handle failed: %s", h.msg);
    assert_false(h.saw_uncommitted); /* no dirty read */
    bool seen = false;
    CHECK_OK(catalog_load_schema(h.other, find_col, &seen, &e_));
    assert_true(seen);
    catalog_file *v = NULL;
    size_t n = 0;
    all_files(h.other, &v, &n);
    assert_non_null(find_key(v, n, "from-a"));
    if (f->be == BE_PG) {
        /* B updated the watermark row after A's snapshot: A hit a serialization failure,
         * was retried, and the watermark is the max of both */
        assert_int_equal(n, 3);
        assert_non_null(find_key(v, n, "from-b"));
        assert_true(after.n_retries > before.n_retries);
        assert_int_equal(watermark(f->c, "iso"), 50);
    } else {
        assert_int_equal(n, 2);
        assert_int_equal(after.n_retries, before.n_retries);
        assert_int_equal(watermark(f->c, "iso"), 20);
    }
    free(v);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM columns WHERE name = 'newcol'"), 1);
    catalog_close(h.other);
}

/* ------------------------------------------------------------------ concurrency */

#define HAMMER_ITERS  25
#define HAMMER_TABLES 4

typedef struct hammer_rec {
    int rc;
    bool contested;
    uint64_t seq;
    int64_t db, t_shared, t_other;
    int other;
    int64_t id_a, id_b;
    char key_a[64], key_b[64];
} hammer_rec;

typedef struct hammer_out {
    int worker;
    int failed; /* 0 or 1; msg says why */
    char msg[600];
    hammer_rec recs[HAMMER_ITERS];
    cat_stats stats;
} hammer_out;

typedef struct hammer_arg {
    const char *target;
    int worker;
    hammer_out *out;
} hammer_arg;

static uint64_t hammer_seq(int w, int i) {
    return (uint64_t)(((uint64_t)i * 7919u + (uint64_t)w * 104729u) % 100003u) + 1;
}

/* One worker: its own handle; ensure the same names as everybody, commit its own files
 * with shared and contested columns under one shared node's watermark. No cmocka here. */
static void hammer_work(hammer_arg *a) {
    hammer_out *o = a->out;
    int w = a->worker;
    memset(o, 0, sizeof *o);
    o->worker = w;
    silt_err err = {0};
    catalog *c = NULL;
    char node[32];
    snprintf(node, sizeof node, "hammer-%d", w);
    catalog_opts opts = {node};
    if (catalog_open(a->target, &opts, &c, &err)) {
        o->failed = 1;
        snprintf(o->msg, sizeof o->msg, "worker %d: open: %s", w, err.msg);
        return;
    }
    for (int i = 0; i < HAMMER_ITERS && !o->failed; i++) {
        hammer_rec *r = &o->recs[i];
        char name[32];
        int rc = catalog_ensure_db(c, "shared", &r->db, &err);
        if (!rc) {
            snprintf(name, sizeof name, "other%d", i % 3);
            int64_t dummy;
            rc = catalog_ensure_db(c, name, &dummy, &err);
        }
        if (!rc) rc = catalog_ensure_table(c, r->db, "t_shared", &r->t_shared, &err);
        r->other = (i + w) % HAMMER_TABLES;
        snprintf(name, sizeof name, "t%d", r->other);
        if (!rc) rc = catalog_ensure_table(c, r->db, name, &r->t_other, &err);
        if (rc) {
            o->failed = 1;
            snprintf(o->msg, sizeof o->msg, "worker %d iter %d: ensure: %s", w, i, err.msg);
            break;
        }
        catalog_file fs[2];
        snprintf(r->key_a, sizeof r->key_a, "w%d/i%d/a", w, i);
        snprintf(r->key_b, sizeof r->key_b, "w%d/i%d/b", w, i);
        int64_t day = i % 3;
        mk_file(&fs[0], r->t_shared, r->key_a, day * NS_PER_DAY + i, day * NS_PER_DAY + i + 10);
        mk_file(&fs[1], r->t_other, r->key_b, day * NS_PER_DAY, day * NS_PER_DAY + 5);
        char own[32], ofield[32];
        snprintf(own, sizeof own, "w%d_val", w);
        snprintf(ofield, sizeof ofield, "t%d_f", r->other);
        r->contested = i % 5 == 2;
        catalog_column cols[] = {{"host", 1, 0},
                                 {"usage", 2, LP_FLOAT},
                                 {own, 2, LP_INT},
                                 {ofield, 2, LP_FLOAT},
                                 {"contested", 2, w % 2 ? LP_INT : LP_FLOAT}};
        int64_t ct[] = {r->t_shared, r->t_shared, r->t_shared, r->t_other, r->t_shared};
        r->seq = hammer_seq(w, i);
        catalog_commit cm = {.files = fs,
                             .n_files = 2,
                             .cols = cols,
                             .col_table_ids = ct,
                             .n_cols = r->contested ? 5 : 4,
                             .node_id = "shared-node",
                             .persisted_seq = r->seq};
        r->rc = catalog_commit_persist(c, &cm, &err);
        r->id_a = fs[0].id;
        r->id_b = fs[1].id;
        if (r->rc != SILT_OK && !(r->rc == SILT_ESCHEMA && r->contested)) {
            o->failed = 1;
            snprintf(o->msg, sizeof o->msg, "worker %d iter %d: commit: %s (%d)", w, i, err.msg,
                     r->rc);
        }
    }
    o->stats = catalog__stats(c);
    catalog_close(c);
}

static void *hammer_thread(void *arg) {
    hammer_work(arg);
    return NULL;
}

/* Run n_threads workers in threads and n_procs in fork()ed children at once, then check:
 * the same ids everywhere, no duplicate rows, every commit entirely there or not at all,
 * no lost files, the watermark the max of the committed sequence numbers. */
static void hammer(fx *f, int n_threads, int n_procs) {
    int n = n_threads + n_procs;
    hammer_out *outs = xcalloc((size_t)n, sizeof *outs);
    hammer_arg *args = xcalloc((size_t)n, sizeof *args);
    pid_t *pids = xcalloc((size_t)n, sizeof *pids);
    char(*files)[400] = xcalloc((size_t)n, sizeof *files);
    /* no catalog handle may cross fork(): close ours, reopen after */
    catalog_close(f->c);
    f->c = NULL;
    for (int w = 0; w < n; w++) args[w] = (hammer_arg){f->target, w, &outs[w]};
    for (int w = n_threads; w < n; w++) {
        snprintf(files[w], sizeof files[w], "/tmp/silt-catalog-hammer-%d-%d", (int)getpid(), w);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            hammer_work(&args[w]);
            FILE *fp = fopen(files[w], "wb");
            int ok = fp && fwrite(&outs[w], sizeof outs[w], 1, fp) == 1;
            if (fp && fclose(fp) != 0) ok = 0;
            _exit(ok ? 0 : 3);
        }
        pids[w] = pid;
    }
    pthread_t *th = xcalloc((size_t)n, sizeof *th);
    for (int w = 0; w < n_threads; w++)
        assert_int_equal(pthread_create(&th[w], NULL, hammer_thread, &args[w]), 0);
    for (int w = 0; w < n_threads; w++) pthread_join(th[w], NULL);
    for (int w = n_threads; w < n; w++) {
        int status = 0;
        assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("hammer child %d: status 0x%x", w, status);
        FILE *fp = fopen(files[w], "rb");
        assert_non_null(fp);
        assert_int_equal(fread(&outs[w], sizeof outs[w], 1, fp), 1);
        fclose(fp);
        unlink(files[w]);
    }
    f->c = fx_open_node(f, "node-test");

    uint64_t retries = 0;
    for (int w = 0; w < n; w++) {
        if (outs[w].failed) fail_msg("%s", outs[w].msg);
        retries += outs[w].stats.n_retries;
    }
    print_message("  %s: %d workers x %d commits, %llu retried transactions\n",
                  f->be == BE_PG ? "postgresql" : "sqlite", n, HAMMER_ITERS,
                  (unsigned long long)retries);

    /* the same ids everywhere */
    int64_t db = outs[0].recs[0].db, ts = outs[0].recs[0].t_shared;
    int64_t tother[HAMMER_TABLES] = {0};
    for (int w = 0; w < n; w++)
        for (int i = 0; i < HAMMER_ITERS; i++) {
            hammer_rec *r = &outs[w].recs[i];
            assert_int_equal(r->db, db);
            assert_int_equal(r->t_shared, ts);
            if (!tother[r->other]) tother[r->other] = r->t_other;
            assert_int_equal(r->t_other, tother[r->other]);
        }
    /* no duplicate rows */
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM databases"), 4);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM tables"), 1 + HAMMER_TABLES);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM columns WHERE name = 'contested'"), 1);
    int64_t contested_type = raw_i64(f, "SELECT type FROM columns WHERE name = 'contested'");

    /* every commit entirely there or not at all; nothing else there */
    catalog_file *v = NULL;
    size_t nv = 0;
    all_files(f->c, &v, &nv);
    size_t committed = 0;
    uint64_t max_seq = 0;
    bool used_part[HAMMER_TABLES + 1][3] = {{false}};
    for (int w = 0; w < n; w++)
        for (int i = 0; i < HAMMER_ITERS; i++) {
            hammer_rec *r = &outs[w].recs[i];
            const catalog_file *a = find_key(v, nv, r->key_a), *b = find_key(v, nv, r->key_b);
            if (r->rc == SILT_OK) {
                if (!a || !b) fail_msg("commit %s lost a file", r->key_a);
                assert_int_equal(a->id, r->id_a);
                assert_int_equal(b->id, r->id_b);
                committed += 2;
                if (r->seq > max_seq) max_seq = r->seq;
                used_part[0][i % 3] = true;
                used_part[1 + r->other][i % 3] = true;
                if (r->contested) /* it won or agreed with the winner */
                    assert_int_equal(contested_type, w % 2 ? LP_INT : LP_FLOAT);
            } else {
                assert_int_equal(r->rc, SILT_ESCHEMA);
                if (a || b) fail_msg("failed commit %s left a file", r->key_a);
                assert_int_not_equal(contested_type, w % 2 ? LP_INT : LP_FLOAT);
            }
        }
    assert_int_equal(nv, committed);
    for (size_t i = 1; i < nv; i++) assert_true(v[i - 1].id < v[i].id);
    free(v);
    int64_t parts = 0;
    for (int t = 0; t <= HAMMER_TABLES; t++)
        for (int d = 0; d < 3; d++) parts += used_part[t][d];
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM partitions"), parts);
    assert_int_equal(watermark(f->c, "shared-node"), max_seq);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM nodes"), 2 + n);
    free(outs);
    free(args);
    free(pids);
    free(files);
    free(th);
}

static void test_catalog_concurrent_handles(void **state) {
    hammer(*state, 3, 0);
}

static void test_catalog_concurrent_processes(void **state) {
    hammer(*state, 1, 2);
}

/* Several processes open a fresh catalog at the same moment: migrations run exactly once. */
static void test_catalog_concurrent_open_migrates_once(void **state) {
    fx *f = *state;
    catalog_close(f->c);
    f->c = NULL;
    fx_fresh(f);
    enum { N = 4 };
    pid_t pids[N];
    fflush(NULL);
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            catalog *c = NULL;
            silt_err err = {0};
            char node[16];
            snprintf(node, sizeof node, "p%d", i);
            catalog_opts o = {node};
            int rc = catalog_open(f->target, &o, &c, &err);
            int64_t id = 0;
            if (rc == SILT_OK) rc = catalog_ensure_db(c, "race", &id, &err);
            if (rc) fprintf(stderr, "child %d: %s\n", i, err.msg);
            _exit(rc ? 1 : 0);
        }
    }
    for (int i = 0; i < N; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("child %d failed (status 0x%x)", i, status);
    }
    f->c = fx_open_node(f, "node-test");
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM schema_migrations"), CATALOG_SCHEMA_VERSION);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM databases"), 1);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM nodes"), N + 1);
}

/* ------------------------------------------------------------------ PostgreSQL only */

/* The server drops the connection (pg_terminate_backend): the next calls reconnect, prepare
 * their statements again and succeed. */
static void test_catalog_pg_reconnects(void **state) {
    fx *f = *state;
    int64_t db = ensure_db(f->c, "db");
    int64_t t = ensure_table(f->c, db, "cpu");
    cat_stats before = catalog__stats(f->c);
    char kill_sql[256];
    snprintf(kill_sql, sizeof kill_sql,
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
             "application_name = '%s' AND pid <> pg_backend_pid()",
             f->schema);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(raw_i64(f, kill_sql), 1); /* exactly the catalog's connection */
        if (round == 0) {
            assert_int_equal(ensure_db(f->c, "db"), db); /* a read */
        } else {
            catalog_file fl;
            mk_file(&fl, t, "after-reconnect", 1, 2);
            CHECK_OK(commit_files(f->c, &fl, 1, "n", 9, &e_)); /* a write transaction */
        }
    }
    cat_stats after = catalog__stats(f->c);
    assert_int_equal(after.n_reconnects - before.n_reconnects, 2);
    assert_int_equal(watermark(f->c, "n"), 9);
    assert_int_equal(raw_i64(f, "SELECT count(*) FROM parquet_files"), 1);

    /* out of attempts: EIO naming the call and the cause; the next call recovers */
    f->c->max_attempts = 1;
    assert_int_equal(raw_i64(f, kill_sql), 1);
    uint64_t seq = 0;
    silt_err err = {0};
    assert_int_equal(catalog_get_watermark(f->c, "n", &seq, &err), SILT_EIO);
    assert_non_null(strstr(err.msg, "catalog_get_watermark: gave up after 1 attempts"));
    assert_non_null(strstr(err.msg, "WM_GET"));
    f->c->max_attempts = 40;
    assert_int_equal(watermark(f->c, "n"), 9);
}

/* ------------------------------------------------------------------ the table */

typedef struct test_def {
    const char *name;
    CMUnitTestFunction fn;
} test_def;

#define T(fn)                                                                                      \
    { #fn, fn }
static const test_def TESTS[] = {
    T(test_catalog_migrate_fresh_and_reopen),
    T(test_catalog_newer_version_refused),
    T(test_catalog_open_errors),
    T(test_catalog_error_names_statement),
    T(test_catalog_ensure_idempotent_and_unique),
    T(test_catalog_commit_and_list_by_time),
    T(test_catalog_column_conflict_commits_nothing),
    T(test_catalog_watermark_only_rises),
    T(test_catalog_mark_files_hides_them),
    T(test_catalog_load_schema_in_id_order),
    T(test_catalog_delete_table_marks_and_frees_name),
    T(test_catalog_delete_db_marks_everything),
    T(test_catalog_migrate_v1_to_v2),
    T(test_catalog_list_all_files),
    T(test_catalog_isolation_mid_transaction),
    T(test_catalog_concurrent_handles),
    T(test_catalog_concurrent_processes),
    T(test_catalog_concurrent_open_migrates_once),
};
static const test_def PG_ONLY[] = {
    T(test_catalog_pg_reconnects),
};
#undef T

#define N_TESTS   (sizeof TESTS / sizeof TESTS[0])
#define N_PG_ONLY (sizeof PG_ONLY / sizeof PG_ONLY[0])

static int run_group(const char *group, be_kind *be, bool pg) {
    static char names[N_TESTS + N_PG_ONLY][128];
    struct CMUnitTest tests[N_TESTS + N_PG_ONLY];
    size_t n = 0;
    for (size_t i = 0; i < N_TESTS + (pg ? N_PG_ONLY : 0); i++) {
        const test_def *d = i < N_TESTS ? &TESTS[i] : &PG_ONLY[i - N_TESTS];
        snprintf(names[n], sizeof names[n], "%s/%s", pg ? "postgresql" : "sqlite", d->name);
        tests[n] = (struct CMUnitTest){names[n], d->fn, fx_setup, fx_teardown, be};
        n++;
    }
    return _cmocka_run_group_tests(group, tests, n, NULL, NULL);
}

int main(void) {
    log_set_level(LOG_WARN);
    int failed = run_group("catalog/sqlite", &be_sqlite, false);
    failed += run_group("catalog/postgresql", &be_pg, true);
    return failed ? 1 : 0;
}
