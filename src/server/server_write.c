/* SPDX-License-Identifier: MIT
 *
 * The three write endpoints. One request = one WAL record (README sequence points 1-6 in
 * src/wal/README.md): parse and validate (ingest), wal_write (durable in every WAL directory
 * and applied to the buffer), then answer. Answers follow each API's conventions:
 *   /api/v3/write_lp  InfluxDB 3: 204, or 400 {"error": ..., "data": [{"error_message",
 *                     "line_number", "original_line", "column"}]} listing every rejected line
 *   /api/v2/write     InfluxDB 2: 204, or 400 {"code": "invalid", "message": ...}
 *   /write            InfluxDB 1: 204, or 400 {"error": "partial write: ... dropped=N"}
 * Valid lines of a request with rejected lines are written (partial write) unless
 * accept_partial=false (v3). */
#include "server_int.h"

#include "../ingest/ingest.h"

#include <stdio.h>

typedef enum api { API_V1, API_V2, API_V3 } api;

static enum MHD_Result fail(server *s, struct MHD_Connection *c, api a, unsigned status,
                            const char *msg) {
    if (a != API_V2) return server_respond_error(s, c, status, msg);
    buf b = {0};
    const char *code = status == 413 ? "request too large"
                       : status == 404 ? "not found"
                       : status == 503 ? "unavailable"
                       : status >= 500 ? "internal error"
                                        : "invalid";
    buf_printf(&b, "{\"code\":\"%s\",\"message\":\"", code);
    buf_json_escape(&b, msg, strlen(msg));
    buf_puts(&b, "\"}");
    return server_respond(s, c, status, "application/json", &b);
}

/* "line 3 column 7: reason" for v1/v2 messages, at most 10, then a count. */
static void summarize(buf *m, const ingest_batch *ib) {
    size_t shown = ib->n_rejects < 10 ? ib->n_rejects : 10;
    for (size_t i = 0; i < shown; i++) {
        const ingest_reject *r = &ib->rejects[i];
        buf_printf(m, "%sline %u column %u: %s", i ? "; " : "", r->line_no, r->column, r->reason);
    }
    if (ib->n_rejects > shown) buf_printf(m, "; and %zu more", ib->n_rejects - shown);
}

static enum MHD_Result answer_rejects(server *s, struct MHD_Connection *c, api a,
                                      const ingest_batch *ib, bool written) {
    buf b = {0};
    if (a == API_V3) {
        buf_printf(&b, "{\"error\":\"%s\",\"data\":[",
                   written ? "partial write of line protocol occurred"
                           : "parsing failed for write_lp endpoint");
        for (size_t i = 0; i < ib->n_rejects; i++) {
            const ingest_reject *r = &ib->rejects[i];
            buf_puts(&b, i ? ",{\"error_message\":\"" : "{\"error_message\":\"");
            buf_json_escape(&b, r->reason, strlen(r->reason));
            buf_printf(&b, "\",\"line_number\":%u,\"column\":%u,\"original_line\":\"", r->line_no,
                       r->column);
            /* cap very long lines in the answer; the line number locates them */
            size_t n = r->raw.n > 1024 ? 1024 : r->raw.n;
            while (n < r->raw.n && n > 0 && ((unsigned char)r->raw.p[n] & 0xc0) == 0x80) n--;
            buf_json_escape(&b, r->raw.p, n);
            buf_puts(&b, "\"}");
        }
        buf_puts(&b, "]}");
        return server_respond(s, c, 400, "application/json", &b);
    }
    buf m = {0};
    if (a == API_V2) {
        buf_printf(&m, "%s: ", written ? "partial write has occurred, errors encountered on line(s)"
                                       : "failed to parse line protocol, errors encountered on line(s)");
        summarize(&m, ib);
        buf_printf(&b, "{\"code\":\"invalid\",\"message\":\"");
    } else {
        buf_puts(&m, "partial write: ");
        summarize(&m, ib);
        buf_printf(&m, " dropped=%zu", ib->n_rejects);
        buf_puts(&b, "{\"error\":\"");
    }
    buf_json_escape(&b, (const char *)m.p, m.len);
    buf_puts(&b, "\"}");
    buf_free(&m);
    return server_respond(s, c, 400, "application/json", &b);
}

enum MHD_Result server_handle_write(server *s, struct MHD_Connection *c, req *r) {
    api a = r->rt == ROUTE_WRITE_V3 ? API_V3 : r->rt == ROUTE_WRITE_V2 ? API_V2 : API_V1;
    s->n_writes++;
    const char *db = NULL;
    size_t db_len = 0;
    if (a == API_V2) {
        db = server_arg(c, "bucket");
        if (!db || !*db) return fail(s, c, a, 400, "missing required parameter 'bucket'");
        const char *slash = strchr(db, '/'); /* "db/rp" bucket names map to database db */
        db_len = slash ? (size_t)(slash - db) : strlen(db);
    } else {
        db = server_arg(c, "db");
        if (!db || !*db) return fail(s, c, a, 400, "missing required parameter 'db'");
        db_len = strlen(db);
    }
    lp_precision prec;
    if (lp_precision_parse(server_arg(c, "precision"), a == API_V3 ? LP_PREC_AUTO : LP_PREC_NS,
                           &prec)) {
        char msg[160];
        snprintf(msg, sizeof msg, "invalid precision '%.32s': use %s", server_arg(c, "precision"),
                 a == API_V1 ? "n, u, ms, s, m or h" : a == API_V2 ? "ns, us, ms or s"
                                                                   : "auto, ns, us, ms or s");
        return fail(s, c, a, 400, msg);
    }
    int partial = a == API_V3 ? server_arg_bool(c, "accept_partial", true) : 1;
    int no_sync = a == API_V3 ? server_arg_bool(c, "no_sync", false) : 0;
    if (partial < 0) return fail(s, c, a, 400, "accept_partial must be true or false");
    if (no_sync < 0) return fail(s, c, a, 400, "no_sync must be true or false");

    /* high-water mark: memory stays bounded while persisting catches up */
    if (buffer_bytes(s->d.buffer) > s->d.conf->buffer_max_size) {
        jobs_wake(s->d.jobs);
        return fail(s, c, a, 503, "the in-memory buffer is full while it is being persisted; "
                                  "retry shortly");
    }
    size_t bad;
    if (!utf8_valid(r->body.p, r->body.len, &bad)) {
        size_t line = 1;
        for (size_t i = 0; i < bad; i++) line += r->body.p[i] == '\n';
        char msg[160];
        snprintf(msg, sizeof msg, "request body is not valid UTF-8 (byte %zu, line %zu)", bad + 1,
                 line);
        return fail(s, c, a, 400, msg);
    }

    ingest_batch ib;
    ingest_batch_init(&ib);
    ingest_opts io = {db, db_len, prec, r->recv_ns, partial != 0};
    silt_err err = {0};
    enum MHD_Result res;
    /* shared from validation to acknowledgement: a drop (server_admin.c) waits for this write
     * to be applied, and this write cannot validate against a table being dropped */
    pthread_rwlock_rdlock(&s->write_gate);
    int rc = ingest_build(s->d.schema, &io, (const char *)r->body.p, r->body.len, &ib, &err);
    if (rc) {
        res = fail(s, c, a, 400, err.msg);
        goto out;
    }
    s->n_write_rejected += ib.n_rejects;
    bool written = false;
    if (ib.payload.len) {
        rc = wal_write(s->d.wal, ib.payload.p, ib.payload.len, ib.payload_crc,
                       no_sync ? WAL_NO_SYNC : 0, NULL, &err);
        if (rc) {
            log_warn("http", "write to database '%.*s' failed: %s", (int)db_len, db, err.msg);
            res = fail(s, c, a, (unsigned)server_status_for(rc),
                       rc == SILT_ENOSPC ? "no space left on the WAL device; nothing was written"
                       : rc == SILT_ESHUTDOWN ? "the server is shutting down; nothing was written"
                                              : "the write could not be made durable; nothing "
                                                "was written, retry");
            goto out;
        }
        written = true;
        s->n_write_lines += ib.n_lines_ok;
    }
    if (ib.n_rejects) res = answer_rejects(s, c, a, &ib, written);
    else res = server_respond(s, c, 204, NULL, NULL);
out:
    pthread_rwlock_unlock(&s->write_gate);
    ingest_batch_fini(&ib);
    return res;
}
