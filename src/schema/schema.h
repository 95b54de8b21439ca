/* SPDX-License-Identifier: MIT
 *
 * schema: databases, tables (measurements), their columns and types, and name validation.
 * Objects are append-only: once created a database, table or column is never moved or freed
 * before schema_destroy(), so pointers to them stay valid; a column's kind and type never
 * change (a field's type is fixed when first written). A dropped database or table
 * (InfluxQL DROP) stays in memory but is no longer found by name or listed; its name is
 * free, and creating that name again makes a new object with a new id. What may grow — a
 * database's table list, a table's column list — is read and written under the schema lock.
 *
 * Today the schema lives in memory and is rebuilt from the WAL on start (every WAL record
 * names its database, tables and typed columns). The catalog (a later step) persists it.
 *
 * Lock: one rwlock for the whole schema (creation is rare, lookups are per request).
 * Functions marked "rd" need at least the read lock, "wr" the write lock. */
#ifndef SILT_SCHEMA_H
#define SILT_SCHEMA_H

#include "../lp/lp.h"
#include "../util/hmap.h"
#include "../util/util.h"

typedef enum schema_kind {
    SCHEMA_TAG = 1,
    SCHEMA_FIELD = 2,
} schema_kind;

typedef struct schema_col {
    char *name;
    uint32_t name_len;
    uint8_t kind; /* schema_kind */
    uint8_t type; /* lp_type for fields, 0 for tags */
    uint32_t id;  /* dense per table, in order of creation */
} schema_col;

typedef struct schema_db schema_db;

typedef struct schema_table {
    uint32_t id; /* dense over the whole schema */
    _Atomic int64_t catalog_id; /* the catalog's id once it knows the table, else 0 */
    char *name;
    uint32_t name_len;
    schema_db *db;
    bool dropped;      /* protected by the schema lock */
    schema_col **cols; /* by id; protected by the schema lock */
    uint32_t n_cols;
    size_t cap_cols;
    hmap by_name;
} schema_table;

struct schema_db {
    uint32_t id;
    _Atomic int64_t catalog_id; /* the catalog's id once it knows the database, else 0 */
    char *name;
    uint32_t name_len;
    bool dropped;          /* protected by the schema lock */
    schema_table **tables; /* dropped ones included */
    uint32_t n_tables;
    uint32_t n_live_tables; /* not dropped: what the table limit counts */
    size_t cap_tables;
    hmap by_name;
};

typedef struct schema_limits {
    uint32_t max_dbs;
    uint32_t max_tables_per_db;
    uint32_t max_columns_per_table; /* tags + fields, time not counted */
} schema_limits;

typedef struct schema schema;

schema *schema_create(const schema_limits *lim);
void schema_destroy(schema *s);

schema_limits schema_get_limits(const schema *s); /* with defaults filled in */

void schema_rdlock(schema *s);
void schema_wrlock(schema *s);
void schema_unlock(schema *s);

/* rd. NULL if absent or dropped. */
schema_db *schema_db_find(schema *s, const char *name, size_t n);
schema_table *schema_table_find(schema_db *db, const char *name, size_t n);
schema_col *schema_col_find(const schema_table *t, const char *name, size_t n);
schema_table *schema_table_by_id(schema *s, uint32_t id);
uint32_t schema_n_tables_total(schema *s);

/* wr. Create (or return the existing) object. Errors: SILT_EINVAL (invalid name),
 * SILT_ELIMIT (a limit would be exceeded), SILT_ESCHEMA (a column exists with another kind or
 * type; err->msg says which). */
int schema_db_create(schema *s, const char *name, size_t n, schema_db **out, silt_err *err);
int schema_table_create(schema *s, schema_db *db, const char *name, size_t n, schema_table **out,
                        silt_err *err);
int schema_col_create(schema *s, schema_table *t, const char *name, size_t n, schema_kind kind,
                      lp_type type, schema_col **out, silt_err *err);

/* wr. Drop a table / a database and all its tables: no longer found by name nor listed,
 * the name is free for a new object. The objects stay valid (see above). */
void schema_table_drop(schema *s, schema_table *t);
void schema_db_drop(schema *s, schema_db *db);

/* Takes the lock itself. Sorted names of all databases / the tables of one database
 * (malloc'd array of malloc'd strings). SILT_ENOTFOUND if the database does not exist. */
int schema_list_dbs(schema *s, char ***names, size_t *n);
int schema_list_tables(schema *s, const char *db, char ***names, size_t *n);

/* Database names: 1..64 bytes of ASCII letters, digits, '_' and '-', starting with a letter
 * or digit (InfluxDB 3 rules). Returns SILT_OK or SILT_EINVAL with the reason in err. */
int schema_db_name_check(const char *name, size_t n, silt_err *err);

#endif
