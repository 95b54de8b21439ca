/* SPDX-License-Identifier: MIT
 *
 * GET|POST /api/v3/query_sql: parameters db, q, format from the query string (GET) or from a
 * JSON body {"db": ..., "q": ..., "format": ...} (POST, as InfluxDB 3 accepts); format is json
 * (default), jsonl, csv, pretty or parquet (a binary body). Answers 200 with the result, 400
 * for a query that cannot be parsed or planned, 404 for a database that does not exist, 413
 * for a result larger than --max-query-result-size, 400 "query timeout: ..." for a query that
 * runs longer than --query-timeout. A query whose client disconnects is stopped
 * (server_query_interrupt) and answered by closing the connection. */
#include "server_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

enum MHD_Result server_handle_query(server *s, struct MHD_Connection *c, req *r,
                                    const char *method) {
    s->n_queries++;
    const char *db = server_arg(c, "db"), *q = server_arg(c, "q"), *fmt = server_arg(c, "format");
    json_t *root = NULL;
    enum MHD_Result res;
    if (!strcmp(method, "POST") && r->body.len) {
        json_error_t je;
        root = json_loadb((const char *)r->body.p, r->body.len, 0, &je);
        if (!root || !json_is_object(root)) {
            char msg[300];
            snprintf(msg, sizeof msg, "request body is not a JSON object: %s", root ? "" : je.text);
            json_decref(root);
            return server_respond_error(s, c, 400, msg);
        }
        const char *v;
        if ((v = json_string_value(json_object_get(root, "db")))) db = v;
        if ((v = json_string_value(json_object_get(root, "q")))) q = v;
        if ((v = json_string_value(json_object_get(root, "format")))) fmt = v;
    }
    query_format f;
    silt_err err = {0};
    buf out = {0};
    if (!db || !*db) {
        res = server_respond_error(s, c, 400, "missing required parameter 'db'");
        goto done;
    }
    if (!q || !*q) {
        res = server_respond_error(s, c, 400, "missing required parameter 'q'");
        goto done;
    }
    if (query_format_parse(fmt, &f)) {
        res = server_respond_error(s, c, 400,
                                   "invalid format: use json, jsonl, csv, pretty or parquet");
        goto done;
    }
    if (s->src.db_exists(&s->src, db) != SILT_OK) {
        char msg[200];
        snprintf(msg, sizeof msg, "database not found: %.100s", db);
        res = server_respond_error(s, c, 404, msg);
        goto done;
    }
    server_qwatch w;
    server_qwatch_init(&w, s, c);
    query_opts qo = {.max_result_bytes = s->d.conf->max_query_result_size,
                     .now_ns = r->recv_ns,
                     .deadline_ns = server_query_deadline(&w),
                     .interrupt = server_query_interrupt,
                     .interrupt_arg = &w};
    int rc = query_sql(&s->src, db, q, strlen(q), f, &qo, &out, &err);
    if (rc) {
        buf_free(&out);
        server_query_stopped(&w, rc, "SQL", q);
        if (w.client_gone) {
            res = MHD_NO; /* nobody to answer: close the connection */
            goto done;
        }
        unsigned st = rc == SILT_ENOTFOUND ? 400 : (unsigned)server_status_for(rc);
        if (rc == SILT_ETIMEDOUT) {
            /* a client error, as an over-large result is: the query asks for too much */
            st = 400;
            snprintf(err.msg, sizeof err.msg,
                     "query timeout: the query ran longer than --query-timeout (%.3f s)",
                     (double)s->d.conf->query_timeout_ns / 1e9);
        }
        res = server_respond_error(s, c, st, err.msg[0] ? err.msg : silt_strerror(rc));
        goto done;
    }
    res = server_respond(s, c, 200, query_format_content_type(f), &out);
done:
    json_decref(root);
    return res;
}
