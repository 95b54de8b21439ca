/* SPDX-License-Identifier: MIT
 *
 * schema: the in-memory registry of databases, tables and columns. See schema.h. */
#include "schema.h"

#include <stdlib.h>

struct schema {
    pthread_rwlock_t lock;
    schema_limits lim;
    schema_db **dbs; /* protected by lock; dropped ones included */
    uint32_t n_dbs;
    uint32_t n_live_dbs; /* not dropped: what the database limit counts */
    size_t cap_dbs;
    hmap by_name;
    schema_table **tables; /* all tables by id; protected by lock */
    uint32_t n_tables;
    size_t cap_tables;
};

schema *schema_create(const schema_limits *lim) {
    schema *s = xcalloc(1, sizeof *s);
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->lock, &a);
    pthread_rwlockattr_destroy(&a);
    s->lim = *lim;
    if (!s->lim.max_dbs) s->lim.max_dbs = 100;
    if (!s->lim.max_tables_per_db) s->lim.max_tables_per_db = 2000;
    if (!s->lim.max_columns_per_table) s->lim.max_columns_per_table = 500;
    return s;
}

void schema_destroy(schema *s) {
    if (!s) return;
    for (uint32_t t = 0; t < s->n_tables; t++) {
        schema_table *tb = s->tables[t];
        for (uint32_t c = 0; c < tb->n_cols; c++) {
            free(tb->cols[c]->name);
            free(tb->cols[c]);
        }
        free(tb->cols);
        hmap_free(&tb->by_name);
        free(tb->name);
        free(tb);
    }
    for (uint32_t d = 0; d < s->n_dbs; d++) {
        free(s->dbs[d]->tables);
        hmap_free(&s->dbs[d]->by_name);
        free(s->dbs[d]->name);
        free(s->dbs[d]);
    }
    free(s->tables);
    free(s->dbs);
    hmap_free(&s->by_name);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

schema_limits schema_get_limits(const schema *s) { return s->lim; }

void schema_rdlock(schema *s) { pthread_rwlock_rdlock(&s->lock); }
void schema_wrlock(schema *s) { pthread_rwlock_wrlock(&s->lock); }
void schema_unlock(schema *s) { pthread_rwlock_unlock(&s->lock); }

schema_db *schema_db_find(schema *s, const char *name, size_t n) {
    uint64_t v;
    if (!hmap_get(&s->by_name, name, n, hmap_hash(name, n), &v)) return NULL;
    return s->dbs[v]->dropped ? NULL : s->dbs[v];
}

schema_table *schema_table_find(schema_db *db, const char *name, size_t n) {
    uint64_t v;
    if (!hmap_get(&db->by_name, name, n, hmap_hash(name, n), &v)) return NULL;
    return db->tables[v]->dropped ? NULL : db->tables[v];
}

schema_col *schema_col_find(const schema_table *t, const char *name, size_t n) {
    uint64_t v;
    return hmap_get(&t->by_name, name, n, hmap_hash(name, n), &v) ? t->cols[v] : NULL;
}

schema_table *schema_table_by_id(schema *s, uint32_t id) {
    return id < s->n_tables ? s->tables[id] : NULL;
}

uint32_t schema_n_tables_total(schema *s) { return s->n_tables; }

int schema_db_name_check(const char *name, size_t n, silt_err *err) {
    if (n == 0) return SILT_FAIL(err, SILT_EINVAL, "database name is empty");
    if (n > 64) return SILT_FAIL(err, SILT_EINVAL, "database name is longer than 64 bytes");
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (i == 0 && !alnum)
            return SILT_FAIL(err, SILT_EINVAL,
                             "invalid database name '%.*s': must start with a letter or digit",
                             (int)n, name);
        if (!alnum && c != '_' && c != '-')
            return SILT_FAIL(err, SILT_EINVAL,
                             "invalid database name '%.*s': only letters, digits, '_' and '-' "
                             "are allowed", (int)n, name);
    }
    return SILT_OK;
}

int schema_db_create(schema *s, const char *name, size_t n, schema_db **out, silt_err *err) {
    schema_db *db = schema_db_find(s, name, n);
    if (db) {
        *out = db;
        return SILT_OK;
    }
    int rc = schema_db_name_check(name, n, err);
    if (rc) return rc;
    if (s->n_live_dbs >= s->lim.max_dbs)
        return SILT_FAIL(err, SILT_ELIMIT, "cannot create database '%.*s': the limit of %u "
                         "databases is reached", (int)n, name, s->lim.max_dbs);
    db = xcalloc(1, sizeof *db);
    db->id = s->n_dbs;
    db->name = xstrndup(name, n);
    db->name_len = (uint32_t)n;
    XGROW(s->dbs, s->cap_dbs, s->n_dbs + 1);
    s->dbs[s->n_dbs++] = db;
    s->n_live_dbs++;
    /* replaces the entry of a dropped database of that name, if any */
    hmap_put(&s->by_name, db->name, n, hmap_hash(name, n), db->id);
    *out = db;
    return SILT_OK;
}

int schema_table_create(schema *s, schema_db *db, const char *name, size_t n, schema_table **out,
                        silt_err *err) {
    schema_table *t = schema_table_find(db, name, n);
    if (t) {
        *out = t;
        return SILT_OK;
    }
    if (n == 0) return SILT_FAIL(err, SILT_EINVAL, "table name is empty");
    if (db->n_live_tables >= s->lim.max_tables_per_db)
        return SILT_FAIL(err, SILT_ELIMIT, "cannot create table '%.*s': database '%s' has "
                         "reached its limit of %u tables", (int)n, name, db->name,
                         s->lim.max_tables_per_db);
    t = xcalloc(1, sizeof *t);
    t->id = s->n_tables;
    t->name = xstrndup(name, n);
    t->name_len = (uint32_t)n;
    t->db = db;
    XGROW(s->tables, s->cap_tables, s->n_tables + 1);
    s->tables[s->n_tables++] = t;
    XGROW(db->tables, db->cap_tables, db->n_tables + 1);
    hmap_put(&db->by_name, t->name, n, hmap_hash(name, n), db->n_tables);
    db->tables[db->n_tables++] = t;
    db->n_live_tables++;
    *out = t;
    return SILT_OK;
}

static const char *kind_name(uint8_t k) { return k == SCHEMA_TAG ? "tag" : "field"; }

int schema_col_create(schema *s, schema_table *t, const char *name, size_t n, schema_kind kind,
                      lp_type type, schema_col **out, silt_err *err) {
    schema_col *c = schema_col_find(t, name, n);
    if (c) {
        if (c->kind != kind)
            return SILT_FAIL(err, SILT_ESCHEMA, "column '%.*s' of table '%s' is a %s, not a %s",
                             (int)n, name, t->name, kind_name(c->kind), kind_name(kind));
        if (kind == SCHEMA_FIELD && c->type != type)
            return SILT_FAIL(err, SILT_ESCHEMA,
                             "field '%.*s' of table '%s' has type %s, not %s", (int)n, name,
                             t->name, lp_type_name((lp_type)c->type), lp_type_name(type));
        *out = c;
        return SILT_OK;
    }
    if (n == 0) return SILT_FAIL(err, SILT_EINVAL, "column name is empty");
    if (t->n_cols >= s->lim.max_columns_per_table)
        return SILT_FAIL(err, SILT_ELIMIT, "cannot add column '%.*s': table '%s' has reached its "
                         "limit of %u columns", (int)n, name, t->name,
                         s->lim.max_columns_per_table);
    c = xcalloc(1, sizeof *c);
    c->name = xstrndup(name, n);
    c->name_len = (uint32_t)n;
    c->kind = (uint8_t)kind;
    c->type = kind == SCHEMA_FIELD ? (uint8_t)type : 0;
    c->id = t->n_cols;
    XGROW(t->cols, t->cap_cols, t->n_cols + 1);
    t->cols[t->n_cols++] = c;
    hmap_put(&t->by_name, c->name, n, hmap_hash(name, n), c->id);
    *out = c;
    return SILT_OK;
}

void schema_table_drop(schema *s, schema_table *t) {
    (void)s;
    if (t->dropped) return;
    t->dropped = true;
    t->db->n_live_tables--;
}

void schema_db_drop(schema *s, schema_db *db) {
    if (db->dropped) return;
    for (uint32_t i = 0; i < db->n_tables; i++) schema_table_drop(s, db->tables[i]);
    db->dropped = true;
    s->n_live_dbs--;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int schema_list_dbs(schema *s, char ***names, size_t *n) {
    schema_rdlock(s);
    char **arr = xcalloc(s->n_dbs + 1, sizeof *arr);
    size_t k = 0;
    for (uint32_t i = 0; i < s->n_dbs; i++)
        if (!s->dbs[i]->dropped) arr[k++] = xstrdup(s->dbs[i]->name);
    *n = k;
    schema_unlock(s);
    qsort(arr, *n, sizeof *arr, cmp_str);
    *names = arr;
    return SILT_OK;
}

int schema_list_tables(schema *s, const char *db, char ***names, size_t *n) {
    schema_rdlock(s);
    schema_db *d = schema_db_find(s, db, strlen(db));
    if (!d) {
        schema_unlock(s);
        return SILT_ENOTFOUND;
    }
    char **arr = xcalloc(d->n_tables + 1, sizeof *arr);
    size_t k = 0;
    for (uint32_t i = 0; i < d->n_tables; i++)
        if (!d->tables[i]->dropped) arr[k++] = xstrdup(d->tables[i]->name);
    *n = k;
    schema_unlock(s);
    qsort(arr, *n, sizeof *arr, cmp_str);
    *names = arr;
    return SILT_OK;
}
