/* SPDX-License-Identifier: MIT
 *
 * GET|POST /query: InfluxQL with InfluxDB 1.x's parameters and answers, for the influx 1.x CLI,
 * Grafana's InfluxDB data source and the v1 client libraries. Parameters come from the query
 * string and, for POST, from an application/x-www-form-urlencoded body (a body parameter wins,
 * as in InfluxDB): q, db, epoch (ns, u, ms, s, m, h), chunked, chunk_size; rp, u, p and pretty
 * are accepted and ignored. Answers 200 with {"results":[...]} (a failing statement is an
 * error object inside it), 400 {"error":"error parsing query: ..."} for a query that does not
 * parse, 400 for a missing q or a bad epoch, 413 for a result above --max-query-result-size.
 * A statement running past --query-timeout is {"statement_id":N,"error":"query-timeout limit
 * exceeded"} (200, as InfluxDB 1.x answers; later statements are not run); a query whose
 * client disconnects is stopped and the connection closed.
 */
#include "server_int.h"

#include "../query/query_v1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(int ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* The decoded value of `name` in an x-www-form-urlencoded body, or NULL. Allocated from a. */
static const char *form_value(const buf *body, const char *name, arena *a) {
    const char *p = (const char *)body->p, *end = p + body->len;
    size_t nl = strlen(name);
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        if (!amp) amp = end;
        const char *eq = memchr(p, '=', (size_t)(amp - p));
        if (eq && (size_t)(eq - p) == nl && !memcmp(p, name, nl)) {
            const char *v = eq + 1;
            char *out = arena_alloc(a, (size_t)(amp - v) + 1), *o = out;
            for (const char *x = v; x < amp; x++) {
                if (*x == '+') *o++ = ' ';
                else if (*x == '%' && amp - x >= 3 && hexval(x[1]) >= 0 && hexval(x[2]) >= 0) {
                    *o++ = (char)(hexval(x[1]) * 16 + hexval(x[2]));
                    x += 2;
                } else *o++ = *x;
            }
            *o = 0;
            return out;
        }
        p = amp + 1;
    }
    return NULL;
}

enum MHD_Result server_handle_query_v1(server *s, struct MHD_Connection *c, req *r,
                                       const char *method) {
    s->n_queries++;
    arena a;
    arena_init(&a, 4096);
    const char *q = server_arg(c, "q"), *db = server_arg(c, "db"), *ep = server_arg(c, "epoch"),
               *ch = server_arg(c, "chunked"), *cs = server_arg(c, "chunk_size"),
               *pt = server_arg(c, "params");
    if (!strcmp(method, "POST") && r->body.len) {
        const char *v;
        if ((v = form_value(&r->body, "q", &a))) q = v;
        if ((v = form_value(&r->body, "db", &a))) db = v;
        if ((v = form_value(&r->body, "epoch", &a))) ep = v;
        if ((v = form_value(&r->body, "chunked", &a))) ch = v;
        if ((v = form_value(&r->body, "chunk_size", &a))) cs = v;
        if ((v = form_value(&r->body, "params", &a))) pt = v;
    }
    json_t *params_keep = NULL;
    query_param *params = NULL;
    size_t n_params = 0;
    buf out = {0};
    enum MHD_Result res;
    query_influxql_opts o = {.max_result_bytes = s->d.conf->max_query_result_size,
                             .now_ns = r->recv_ns};
    if (!q || !*q) {
        query_v1_error_body(&out, "missing required parameter \"q\"");
        res = server_respond(s, c, 400, "application/json", &out);
        goto done;
    }
    char pmsg[200];
    if (server_parse_params(pt, NULL, &params_keep, &params, &n_params, pmsg, sizeof pmsg) < 0) {
        query_v1_error_body(&out, pmsg);
        res = server_respond(s, c, 400, "application/json", &out);
        goto done;
    }
    o.params = params;
    o.n_params = n_params;
    if (query_v1_epoch_parse(ep, &o.epoch)) {
        query_v1_error_body(&out, "invalid epoch: use ns, u, ms, s, m or h");
        res = server_respond(s, c, 400, "application/json", &out);
        goto done;
    }
    o.chunked = ch && (!strcmp(ch, "true") || !strcmp(ch, "1"));
    if (cs) o.chunk_size = (size_t)strtoull(cs, NULL, 10);
    silt_err err = {0};
    server_qwatch w;
    server_qwatch_init(&w, s, c);
    o.deadline_ns = server_query_deadline(&w);
    o.interrupt = server_query_interrupt;
    o.interrupt_arg = &w;
    int rc = query_influxql_v1(&s->src, db, q, strlen(q), &o, &out, &err);
    if (!rc && err.code == SILT_ETIMEDOUT)
        server_query_stopped(&w, SILT_ETIMEDOUT, "InfluxQL", q); /* a statement timed out */
    if (rc) {
        buf_free(&out);
        server_query_stopped(&w, rc, "InfluxQL", q);
        if (w.client_gone) {
            res = MHD_NO; /* nobody to answer: close the connection */
            goto done;
        }
        char msg[sizeof err.msg + 64];
        if (rc == SILT_EPARSE)
            snprintf(msg, sizeof msg, "error parsing query: %s", err.msg);
        else
            snprintf(msg, sizeof msg, "%s", err.msg[0] ? err.msg : silt_strerror(rc));
        query_v1_error_body(&out, msg);
        res = server_respond(s, c, rc == SILT_EPARSE ? 400 : (unsigned)server_status_for(rc),
                             "application/json", &out);
        goto done;
    }
    res = server_respond(s, c, 200, "application/json", &out);
done:
    free(params);
    json_decref(params_keep);
    arena_fini(&a);
    return res;
}
