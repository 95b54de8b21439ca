/* SPDX-License-Identifier: MIT
 *
 * catalog migrations: the versioned schema of the catalog, one list per backend.
 *
 * Rules (README.md, "Migrations"):
 *   - A migration is (version, name, DDL text). Versions are 1, 2, 3 ... with no gaps; the
 *     SQLite and PostgreSQL lists hold the same versions with the same meaning.
 *   - A released migration is never edited: a change is a new migration at the end of BOTH
 *     lists, and CATALOG_SCHEMA_VERSION (catalog_int.h) follows.
 *   - DDL only (no values; data changes are SQL over existing rows), and transactional in
 *     both backends (no CREATE INDEX CONCURRENTLY, no VACUUM).
 *
 * On open, one transaction: (PostgreSQL: take pg_advisory_xact_lock(CAT_MIGRATE_LOCK_KEY)
 * so that two processes never migrate at once; the transaction is READ COMMITTED so that
 * after the wait it sees what the other process committed), create schema_migrations if
 * missing, read the highest applied version, refuse a catalog newer than this silt
 * (SILT_ECORRUPT, nothing changed), apply every missing migration in order and record each
 * in schema_migrations. SQLite gets the same exclusion from BEGIN IMMEDIATE.
 */
#include "catalog_int.h"

#include <stdio.h>

/* "silt" "catm": the advisory lock key, one per PostgreSQL database */
#define CAT_MIGRATE_LOCK_KEY 0x73696c74636174LL

typedef struct cat_migration {
    int version;
    const char *name;
    const char *sql;
} cat_migration;

/* ------------------------------------------------------------------ SQLite */

static const char sqlite_bootstrap[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                       " version INTEGER PRIMARY KEY,"
                                       " name TEXT NOT NULL,"
                                       " applied_at INTEGER NOT NULL) STRICT";

/* ids: INTEGER PRIMARY KEY AUTOINCREMENT, 64-bit and never reused (invariant 9) */
static const char sqlite_v1[] =
    "CREATE TABLE nodes ("
    " node_id TEXT PRIMARY KEY NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " last_seen_at INTEGER NOT NULL) STRICT;"
    "CREATE TABLE databases ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL UNIQUE,"
    " retention_ns INTEGER CHECK (retention_ns IS NULL OR retention_ns > 0),"
    " created_at INTEGER NOT NULL,"
    " deleted_at INTEGER) STRICT;"
    "CREATE TABLE tables ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " db_id INTEGER NOT NULL REFERENCES databases(id),"
    " name TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " deleted_at INTEGER,"
    " UNIQUE (db_id, name)) STRICT;"
    "CREATE TABLE columns ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " table_id INTEGER NOT NULL REFERENCES tables(id),"
    " name TEXT NOT NULL,"
    " kind INTEGER NOT NULL CHECK (kind IN (1, 2, 3)),"
    " type INTEGER NOT NULL CHECK (type BETWEEN 0 AND 5),"
    " created_at INTEGER NOT NULL,"
    " UNIQUE (table_id, name)) STRICT;"
    "CREATE TABLE partitions ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " table_id INTEGER NOT NULL REFERENCES tables(id),"
    " day INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " UNIQUE (table_id, day),"
    " UNIQUE (id, table_id)) STRICT;"
    "CREATE TABLE parquet_files ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " partition_id INTEGER NOT NULL,"
    " table_id INTEGER NOT NULL REFERENCES tables(id),"
    " object_key TEXT NOT NULL UNIQUE,"
    " min_time INTEGER NOT NULL,"
    " max_time INTEGER NOT NULL,"
    " row_count INTEGER NOT NULL CHECK (row_count >= 0),"
    " size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),"
    " checksum TEXT NOT NULL,"
    " compaction_level INTEGER NOT NULL CHECK (compaction_level >= 0),"
    " created_at INTEGER NOT NULL,"
    " to_delete_at INTEGER,"
    " CHECK (min_time <= max_time),"
    " FOREIGN KEY (partition_id, table_id) REFERENCES partitions(id, table_id)) STRICT;"
    "CREATE INDEX parquet_files_table_min_time ON parquet_files(table_id, min_time);"
    "CREATE INDEX parquet_files_table_max_time ON parquet_files(table_id, max_time);"
    "CREATE INDEX parquet_files_partition ON parquet_files(partition_id, table_id);"
    "CREATE INDEX parquet_files_to_delete_at ON parquet_files(to_delete_at)"
    " WHERE to_delete_at IS NOT NULL;"
    "CREATE TABLE wal_watermarks ("
    " node_id TEXT PRIMARY KEY NOT NULL REFERENCES nodes(node_id),"
    " persisted_seq INTEGER NOT NULL CHECK (persisted_seq >= 0),"
    " updated_at INTEGER NOT NULL) STRICT;";

/* v2: a deleted database or table frees its name, so writing to a dropped name creates a
 * fresh object with a new id (InfluxDB's DROP then write). Names are unique among live rows
 * only: a partial unique index. SQLite cannot drop a table constraint, so databases and
 * tables are rebuilt (its "12-step" ALTER procedure; catalog__migrate turns foreign_keys off
 * around the transaction and checks them before commit). The AUTOINCREMENT counters are
 * carried over, so no id is ever reused (invariant 9). */
static const char sqlite_v2[] =
    "CREATE TABLE databases_v2 ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL,"
    " retention_ns INTEGER CHECK (retention_ns IS NULL OR retention_ns > 0),"
    " created_at INTEGER NOT NULL,"
    " deleted_at INTEGER) STRICT;"
    "INSERT INTO databases_v2(id, name, retention_ns, created_at, deleted_at)"
    " SELECT id, name, retention_ns, created_at, deleted_at FROM databases;"
    "UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'databases')"
    " WHERE name = 'databases_v2' AND EXISTS"
    " (SELECT 1 FROM sqlite_sequence WHERE name = 'databases');"
    "DROP TABLE databases;"
    "ALTER TABLE databases_v2 RENAME TO databases;"
    "CREATE UNIQUE INDEX databases_live_name ON databases(name) WHERE deleted_at IS NULL;"
    "CREATE TABLE tables_v2 ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " db_id INTEGER NOT NULL REFERENCES databases(id),"
    " name TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " deleted_at INTEGER) STRICT;"
    "INSERT INTO tables_v2(id, db_id, name, created_at, deleted_at)"
    " SELECT id, db_id, name, created_at, deleted_at FROM tables;"
    "UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'tables')"
    " WHERE name = 'tables_v2' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'tables');"
    "DROP TABLE tables;"
    "ALTER TABLE tables_v2 RENAME TO tables;"
    "CREATE UNIQUE INDEX tables_live_name ON tables(db_id, name) WHERE deleted_at IS NULL;"
    "CREATE INDEX tables_db ON tables(db_id);";

static const cat_migration sqlite_migrations[] = {
    {1, "initial schema", sqlite_v1},
    {2, "names unique among live rows", sqlite_v2},
};

/* ------------------------------------------------------------------ PostgreSQL */

static const char pg_bootstrap[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                   " version INTEGER PRIMARY KEY,"
                                   " name TEXT NOT NULL,"
                                   " applied_at BIGINT NOT NULL)";

/* ids: identity columns, 64-bit and never reused (invariant 9); BY DEFAULT so that a restore
 * can insert rows with their ids */
#define PG_ID "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
static const char pg_v1[] =
    "CREATE TABLE nodes ("
    " node_id TEXT PRIMARY KEY,"
    " created_at BIGINT NOT NULL,"
    " last_seen_at BIGINT NOT NULL);"
    "CREATE TABLE databases (" PG_ID " name TEXT NOT NULL UNIQUE,"
    " retention_ns BIGINT CHECK (retention_ns IS NULL OR retention_ns > 0),"
    " created_at BIGINT NOT NULL,"
    " deleted_at BIGINT);"
    "CREATE TABLE tables (" PG_ID " db_id BIGINT NOT NULL REFERENCES databases(id),"
    " name TEXT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " deleted_at BIGINT,"
    " UNIQUE (db_id, name));"
    "CREATE TABLE columns (" PG_ID " table_id BIGINT NOT NULL REFERENCES tables(id),"
    " name TEXT NOT NULL,"
    " kind INTEGER NOT NULL CHECK (kind IN (1, 2, 3)),"
    " type INTEGER NOT NULL CHECK (type BETWEEN 0 AND 5),"
    " created_at BIGINT NOT NULL,"
    " UNIQUE (table_id, name));"
    "CREATE TABLE partitions (" PG_ID " table_id BIGINT NOT NULL REFERENCES tables(id),"
    " day BIGINT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " UNIQUE (table_id, day),"
    " UNIQUE (id, table_id));"
    "CREATE TABLE parquet_files (" PG_ID " partition_id BIGINT NOT NULL,"
    " table_id BIGINT NOT NULL REFERENCES tables(id),"
    " object_key TEXT NOT NULL UNIQUE,"
    " min_time BIGINT NOT NULL,"
    " max_time BIGINT NOT NULL,"
    " row_count BIGINT NOT NULL CHECK (row_count >= 0),"
    " size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0),"
    " checksum TEXT NOT NULL,"
    " compaction_level INTEGER NOT NULL CHECK (compaction_level >= 0),"
    " created_at BIGINT NOT NULL,"
    " to_delete_at BIGINT,"
    " CHECK (min_time <= max_time),"
    " FOREIGN KEY (partition_id, table_id) REFERENCES partitions(id, table_id));"
    "CREATE INDEX parquet_files_table_min_time ON parquet_files(table_id, min_time);"
    "CREATE INDEX parquet_files_table_max_time ON parquet_files(table_id, max_time);"
    "CREATE INDEX parquet_files_partition ON parquet_files(partition_id, table_id);"
    "CREATE INDEX parquet_files_to_delete_at ON parquet_files(to_delete_at)"
    " WHERE to_delete_at IS NOT NULL;"
    "CREATE TABLE wal_watermarks ("
    " node_id TEXT PRIMARY KEY REFERENCES nodes(node_id),"
    " persisted_seq BIGINT NOT NULL CHECK (persisted_seq >= 0),"
    " updated_at BIGINT NOT NULL);";
#undef PG_ID

/* v2: as sqlite_v2 — names unique among live rows only (the v1 constraints have
 * PostgreSQL's default names) */
static const char pg_v2[] =
    "ALTER TABLE databases DROP CONSTRAINT databases_name_key;"
    "CREATE UNIQUE INDEX databases_live_name ON databases(name) WHERE deleted_at IS NULL;"
    "ALTER TABLE tables DROP CONSTRAINT tables_db_id_name_key;"
    "CREATE UNIQUE INDEX tables_live_name ON tables(db_id, name) WHERE deleted_at IS NULL;"
    "CREATE INDEX tables_db ON tables(db_id);";

static const cat_migration pg_migrations[] = {
    {1, "initial schema", pg_v1},
    {2, "names unique among live rows", pg_v2},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
_Static_assert(N_OF(sqlite_migrations) == N_OF(pg_migrations),
               "both backends must have the same migrations");
_Static_assert(N_OF(pg_migrations) == CATALOG_SCHEMA_VERSION,
               "CATALOG_SCHEMA_VERSION must be the last migration");

/* ------------------------------------------------------------------ applying */

int catalog__test_migrate_limit;

static bool is_pg(const catalog *c) {
    return strcmp(c->ops->name, "postgresql") == 0;
}

int catalog__known_version(const char *backend) {
    const cat_migration *m = strcmp(backend, "postgresql") == 0 ? pg_migrations : sqlite_migrations;
    return m[N_OF(pg_migrations) - 1].version;
}

static int row_version(void *arg, const cat_val *v, int n, silt_err *err) {
    (void)n, (void)err;
    *(int64_t *)arg = v[0].i;
    return SILT_OK;
}

static int migrate_body(catalog *c, void *arg, silt_err *err) {
    int *applied = arg;
    bool pg = is_pg(c);
    const cat_migration *list = pg ? pg_migrations : sqlite_migrations;
    size_t n = pg ? N_OF(pg_migrations) : N_OF(sqlite_migrations);
    int rc;
    *applied = 0;
    if (pg) {
        cat_val k[] = {CAT_I(CAT_MIGRATE_LOCK_KEY)};
        if ((rc = cat__exec(c, CAT_STMT_MIGRATE_LOCK, k, NULL, NULL, NULL, err))) return rc;
    }
    if ((rc = c->ops->script(c, pg ? pg_bootstrap : sqlite_bootstrap, err))) return rc;
    int64_t have = 0;
    if ((rc = cat__exec(c, CAT_STMT_VERSION_GET, NULL, row_version, &have, NULL, err))) return rc;
    int known = list[n - 1].version;
    /* invariant (10): never touch a catalog written by a newer silt */
    if (have > known)
        return SILT_FAIL(err, SILT_ECORRUPT,
                         "catalog schema version %lld is newer than this silt knows (%d): a "
                         "newer silt wrote it; run that version (or restore an older backup)",
                         (long long)have, known);
    for (size_t i = 0; i < n; i++) {
        const cat_migration *m = &list[i];
        assert(m->version == (int)i + 1);
        if (m->version <= have) continue;
        if (catalog__test_migrate_limit > 0 && m->version > catalog__test_migrate_limit) break;
        if ((rc = c->ops->script(c, m->sql, err))) {
            if (rc < 0) catalog__err_prefix(err, "migration %d (%s)", m->version, m->name);
            return rc;
        }
        cat_val p[] = {CAT_I(m->version), CAT_S(m->name), CAT_I(time_now_ns())};
        if ((rc = cat__exec(c, CAT_STMT_MIGRATION_INSERT, p, NULL, NULL, NULL, err))) return rc;
        (*applied)++;
    }
    if (!pg && *applied) {
        /* foreign keys were not enforced while the migrations ran (catalog__migrate) */
        int64_t bad = 0;
        bool found = false;
        if ((rc = c->ops->query_i64(c, "PRAGMA foreign_key_check", &bad, &found, err))) return rc;
        if (found)
            return SILT_FAIL(err, SILT_ECORRUPT,
                             "catalog migration left a row whose foreign key points nowhere");
    }
    return SILT_OK;
}

/* SQLite rebuilds tables that others reference (sqlite_v2): foreign key enforcement is off
 * for the migration's transaction (the pragma is a no-op inside one), and
 * PRAGMA foreign_key_check proves the rebuilt schema consistent before commit. */
static int sqlite_fk(catalog *c, bool on, silt_err *err) {
    int rc = c->ops->script(c, on ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF", err);
    if (rc) return rc;
    int64_t v = -1;
    bool found = false;
    if ((rc = c->ops->query_i64(c, "PRAGMA foreign_keys", &v, &found, err))) return rc;
    if (!found || v != (on ? 1 : 0))
        return SILT_FAIL(err, SILT_EIO, "sqlite: PRAGMA foreign_keys=%s did not take effect",
                         on ? "ON" : "OFF");
    return SILT_OK;
}

int catalog__migrate(catalog *c, silt_err *err) {
    int applied = 0;
    bool pg = is_pg(c);
    int rc = pg ? SILT_OK : sqlite_fk(c, false, err);
    if (rc == SILT_OK)
        rc = catalog__run(c, CAT_TX_MIGRATE, "catalog migrate", migrate_body, &applied, false, err);
    if (!pg) {
        silt_err ferr = {0};
        int frc = sqlite_fk(c, true, &ferr);
        if (rc == SILT_OK && frc) {
            if (err) *err = ferr;
            rc = frc;
        }
    }
    if (rc == SILT_OK && applied > 0)
        log_info("catalog", "%s catalog: applied %d migration(s), schema version %d", c->ops->name,
                 applied, CATALOG_SCHEMA_VERSION);
    return rc;
}
