/* SPDX-License-Identifier: MIT
 *
 * GET|POST /api/v3/query_sql: parameters db, q, format from the query string (GET) or from a
 * JSON body {"db": ..., "q": ..., "format": ...} (POST, as InfluxDB 3 accepts); format is json
 * (default), jsonl, csv, pretty, parquet or arrow (binary bodies; arrow, an Arrow IPC stream, is
 * a silt extension). Answers 200 with the result, 400
 * for a query that cannot be parsed or planned, 404 for a database that does not exist, 413
 * for a result larger than --max-query-result-size, 400 "query timeout: ..." for a query that
 * runs longer than --query-timeout. A query whose client disconnects is stopped
 * (server_query_interrupt) and answered by closing the connection.
 *
 * GET|POST /api/v3/query_influxql: the same parameters, answers and limits for one InfluxQL
 * statement, whose result comes in InfluxDB 3's table shape (iox::measurement, time, the
 * GROUP BY tags, the selected columns; see v1_table in query_v1.h). As in InfluxDB 3, db may
 * be left out when the statement names its database (FROM db.rp.m, SHOW ... ON db) or needs
 * none (SHOW DATABASES); a statement that does not parse is 400 "error in InfluxQL statement:
 * found X, expected Y at line L, char C"; more than one statement, or a db that differs from
 * the statement's, is 400. */
#include "server_int.h"

#include "../query/query_v1.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

enum MHD_Result server_handle_query(server *s, struct MHD_Connection *c, req *r,
                                    const char *method) {
    s->n_queries++;
    bool iql = r->rt == ROUTE_QUERY_INFLUXQL;
    const char *lang = iql ? "InfluxQL" : "SQL";
    const char *db = server_arg(c, "db"), *q = server_arg(c, "q"), *fmt = server_arg(c, "format");
    const char *params_text = server_arg(c, "params");
    json_t *root = NULL, *params_obj = NULL, *params_keep = NULL;
    query_param *params = NULL;
    size_t n_params = 0;
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
        json_t *pj = json_object_get(root, "params");
        if (json_is_string(pj))
            params_text = json_string_value(pj);
        else if (pj && !json_is_null(pj))
            params_obj = pj;
    }
    query_format f;
    silt_err err = {0};
    buf out = {0};
    if (!iql && (!db || !*db)) {
        res = server_respond_error(s, c, 400, "missing required parameter 'db'");
        goto done;
    }
    if (!q || !*q) {
        res = server_respond_error(s, c, 400, "missing required parameter 'q'");
        goto done;
    }
    char pmsg[200];
    if (server_parse_params(params_text, params_obj, &params_keep, &params, &n_params, pmsg,
                            sizeof pmsg) < 0) {
        res = server_respond_error(s, c, 400, pmsg);
        goto done;
    }
    if (query_format_parse(fmt, &f)) {
        res = server_respond_error(s, c, 400,
                                   "invalid format: use json, jsonl, csv, pretty, parquet or arrow");
        goto done;
    }
    if (!iql && s->src.db_exists(&s->src, db) != SILT_OK) {
        /* InfluxQL: the statement may name its own database (query_influxql_table checks) */
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
                     .interrupt_arg = &w,
                     .params = params,
                     .n_params = n_params};
    int rc;
    if (iql) {
        query_influxql_opts io = {.max_result_bytes = qo.max_result_bytes,
                                  .now_ns = qo.now_ns,
                                  .deadline_ns = qo.deadline_ns,
                                  .interrupt = qo.interrupt,
                                  .interrupt_arg = qo.interrupt_arg,
                                  .params = params,
                                  .n_params = n_params};
        rc = query_influxql_table(&s->src, db, q, strlen(q), f, &io, &out, &err);
    } else {
        rc = query_sql(&s->src, db, q, strlen(q), f, &qo, &out, &err);
    }
    if (rc) {
        buf_free(&out);
        server_query_stopped(&w, rc, lang, q);
        if (w.client_gone) {
            res = MHD_NO; /* nobody to answer: close the connection */
            goto done;
        }
        /* SQL: a table that does not exist is the query's fault; InfluxQL: only a database
         * that does not exist is not found (a measurement that does not exist has no rows) */
        unsigned st = rc == SILT_ENOTFOUND ? (iql ? 404 : 400) : (unsigned)server_status_for(rc);
        char msg[sizeof err.msg + 64];
        snprintf(msg, sizeof msg, "%s%s",
                 iql && rc == SILT_EPARSE ? "error in InfluxQL statement: " : "",
                 err.msg[0] ? err.msg : silt_strerror(rc));
        if (rc == SILT_ETIMEDOUT) {
            /* a client error, as an over-large result is: the query asks for too much */
            st = 400;
            snprintf(msg, sizeof msg,
                     "query timeout: the query ran longer than --query-timeout (%.3f s)",
                     (double)s->d.conf->query_timeout_ns / 1e9);
        }
        res = server_respond_error(s, c, st, msg);
        goto done;
    }
    res = server_respond(s, c, 200, query_format_content_type(f), &out);
done:
    free(params);
    json_decref(params_keep);
    json_decref(root);
    return res;
}
