/* SPDX-License-Identifier: MIT
 *
 * Creating and dropping databases and tables: InfluxQL's CREATE DATABASE, DROP DATABASE and
 * DROP MEASUREMENT (through query_source.create_db / drop_db / drop_table) and InfluxDB 3's
 * configure API:
 *   POST   /api/v3/configure/database   {"db": "name"}   200; 409 if it exists
 *   GET    /api/v3/configure/database?format=json       200 [{"iox::database": "name"}, ...]
 *   DELETE /api/v3/configure/database?db=name            200; 404 if absent
 *   DELETE /api/v3/configure/table?db=name&table=name    200; 404 if absent
 *
 * A drop is a catalog mark, durable against WAL replay (store_drop_table in store.h):
 *   1. take the write gate exclusively: writes in flight finish, new ones wait (they hold
 *      it shared from validation to acknowledgement, so every WAL record up to
 *      wal_last_seq() is applied to the buffer);
 *   2. persist the whole buffer and commit wal_last_seq() as the watermark
 *      (jobs_persist_all): no record of the dropped object is left above the watermark, so
 *      replay after any crash from here on never brings it back;
 *   3. one catalog transaction marks the object deleted and its files for deletion at now +
 *      --gc-grace-period; then it leaves the schema;
 *   4. release the gate: new writes to that name create a fresh object.
 * A crash between 2 and 3 (injection point drop.before_mark) leaves the object intact (the
 * client saw no success). Writes wait
 * for the persist in step 2: a drop costs a persist of everything in memory.
 */
#include "server_int.h"

#include <jansson.h>
#include <stdio.h>

static bool db_known(server *s, const char *db, const char *table) {
    schema_rdlock(s->d.schema);
    schema_db *d = schema_db_find(s->d.schema, db, strlen(db));
    bool found = d && (!table || schema_table_find(d, table, strlen(table)));
    schema_unlock(s->d.schema);
    return found;
}

static int need_store(server *s, const char *what, silt_err *err) {
    if (s->d.store) return SILT_OK;
    return SILT_FAIL(err, SILT_EUNSUPPORTED, "%s needs persistent storage (a buffer-only server)",
                     what);
}

static int ddl_create_db(void *admin, const char *db, bool *created, silt_err *err) {
    server *s = admin;
    int rc = need_store(s, "CREATE DATABASE", err);
    if (rc) return rc;
    /* serialised with drops: a drop of the same name must not interleave */
    pthread_rwlock_wrlock(&s->write_gate);
    rc = store_create_db(s->d.store, db, created, err);
    pthread_rwlock_unlock(&s->write_gate);
    if (rc == SILT_OK && (!created || *created)) log_info("http", "created database '%s'", db);
    return rc;
}

/* Steps 1-4 above. table NULL: the database. */
static int ddl_drop(server *s, const char *db, const char *table, silt_err *err) {
    int rc = need_store(s, table ? "DROP MEASUREMENT" : "DROP DATABASE", err);
    if (rc) return rc;
    pthread_rwlock_wrlock(&s->write_gate);
    if (!db_known(s, db, table)) {
        rc = table && db_known(s, db, NULL)
                 ? SILT_FAIL(err, SILT_ENOTFOUND, "measurement not found")
                 : SILT_FAIL(err, SILT_ENOTFOUND, "database not found: %s", db);
        goto out;
    }
    rc = jobs_persist_all(s->d.store, s->d.buffer, s->d.wal, wal_last_seq(s->d.wal), NULL, err);
    if (rc) goto out; /* nothing dropped; what was not persisted stays in the buffer and WAL */
    if ((rc = INJECT("drop.before_mark"))) {
        SILT_FAIL(err, rc, "injected failure before the catalog marks");
        goto out;
    }
    int64_t grace = (int64_t)s->d.conf->gc_grace_period_ns;
    rc = table ? store_drop_table(s->d.store, db, table, grace, NULL, err)
               : store_drop_db(s->d.store, db, grace, NULL, err);
out:
    pthread_rwlock_unlock(&s->write_gate);
    return rc;
}

static int ddl_drop_db(void *admin, const char *db, silt_err *err) {
    return ddl_drop(admin, db, NULL, err);
}

static int ddl_drop_table(void *admin, const char *db, const char *table, silt_err *err) {
    return ddl_drop(admin, db, table, err);
}

void server__admin_init(server *s) {
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    /* a drop must not starve behind a steady stream of writes */
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->write_gate, &a);
    pthread_rwlockattr_destroy(&a);
    s->src.admin = s;
    s->src.create_db = ddl_create_db;
    s->src.drop_db = ddl_drop_db;
    s->src.drop_table = ddl_drop_table;
}

void server__admin_fini(server *s) {
    pthread_rwlock_destroy(&s->write_gate);
}

/* ------------------------------------------------------------------ the configure API */

static enum MHD_Result answer_err(server *s, struct MHD_Connection *c, int rc,
                                  const silt_err *err) {
    return server_respond_error(s, c, (unsigned)server_status_for(rc), err->msg);
}

static enum MHD_Result create_db(server *s, struct MHD_Connection *c, req *r) {
    json_error_t je;
    json_t *root = json_loadb((const char *)r->body.p, r->body.len, 0, &je);
    const char *db = root ? json_string_value(json_object_get(root, "db")) : NULL;
    enum MHD_Result res;
    if (!root || !json_is_object(root)) {
        char msg[256];
        snprintf(msg, sizeof msg, "the body must be a JSON object {\"db\": \"name\"}: %s",
                 root ? "not an object" : je.text);
        res = server_respond_error(s, c, 400, msg);
        goto out;
    }
    if (!db || !*db) {
        res = server_respond_error(s, c, 400, "missing required field 'db' (a string)");
        goto out;
    }
    json_t *rp = json_object_get(root, "retention_period");
    if (rp && !json_is_null(rp)) {
        res = server_respond_error(s, c, 400,
                                   "retention periods are not supported yet: create the database "
                                   "without retention_period (data is kept until dropped)");
        goto out;
    }
    silt_err err = {0};
    bool created = false;
    int rc = s->src.create_db(s->src.admin, db, &created, &err);
    if (rc)
        res = answer_err(s, c, rc, &err);
    else if (!created)
        res = server_respond_error(s, c, 409, "attempted to create a resource that already exists");
    else
        res = server_respond(s, c, 200, NULL, NULL);
out:
    json_decref(root);
    return res;
}

static enum MHD_Result list_dbs(server *s, struct MHD_Connection *c) {
    const char *f = server_arg(c, "format");
    if (f && *f && strcmp(f, "json") != 0)
        return server_respond_error(s, c, 400, "format must be json");
    char **names = NULL;
    size_t n = 0;
    schema_list_dbs(s->d.schema, &names, &n);
    buf b = {0};
    buf_putc(&b, '[');
    for (size_t i = 0; i < n; i++) {
        buf_puts(&b, i ? ",{\"iox::database\":\"" : "{\"iox::database\":\"");
        buf_json_escape(&b, names[i], strlen(names[i]));
        buf_puts(&b, "\"}");
        free(names[i]);
    }
    buf_putc(&b, ']');
    free(names);
    return server_respond(s, c, 200, "application/json", &b);
}

enum MHD_Result server_handle_configure(server *s, struct MHD_Connection *c, req *r,
                                        const char *method) {
    bool is_db = r->rt == ROUTE_CONFIGURE_DB;
    if (is_db && !strcmp(method, "POST")) return create_db(s, c, r);
    if (is_db && !strcmp(method, "GET")) return list_dbs(s, c);
    if (strcmp(method, "DELETE") != 0) return server_respond_error(s, c, 405, "method not allowed");
    const char *db = server_arg(c, "db");
    const char *table = is_db ? NULL : server_arg(c, "table");
    if (!db || !*db) return server_respond_error(s, c, 400, "missing required parameter 'db'");
    if (!is_db && (!table || !*table))
        return server_respond_error(s, c, 400, "missing required parameter 'table'");
    if (server_arg(c, "hard_delete_at"))
        return server_respond_error(s, c, 400,
                                    "hard_delete_at is not supported: files are removed after "
                                    "--gc-grace-period");
    silt_err err = {0};
    int rc = is_db ? s->src.drop_db(s->src.admin, db, &err)
                   : s->src.drop_table(s->src.admin, db, table, &err);
    if (rc == SILT_ENOTFOUND)
        return server_respond_error(
            s, c, 404, is_db || !db_known(s, db, NULL) ? "database not found" : "table not found");
    if (rc) return answer_err(s, c, rc, &err);
    return server_respond(s, c, 200, NULL, NULL);
}
