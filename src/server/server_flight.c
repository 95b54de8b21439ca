/* SPDX-License-Identifier: MIT
 *
 * Arrow Flight queries: gRPC over HTTP/2 cleartext (h2c, prior knowledge) on the HTTP port,
 * as InfluxDB 3 serves them and its client libraries send them (the JavaScript, Python, Go
 * ... clients of InfluxDB 3 query only this way). HTTP/2 framing is libnghttp2's; gRPC and
 * Flight on top of it are small enough to write here:
 *
 *   POST /arrow.flight.protocol.FlightService/DoGet   content-type: application/grpc
 *     request: one gRPC message (flag byte 0, 4-byte big-endian length, protobuf) holding a
 *       Ticket {bytes ticket = 1}; the ticket is InfluxDB 3's JSON
 *       {"database": "db", "sql_query": "...", "query_type": "sql" | "influxql",
 *        "params": {"name": value, ...}}
 *     response: headers (:status 200, content-type application/grpc), then one gRPC message
 *       per Arrow IPC message of the result, each a FlightData {bytes data_header = 2;
 *       bytes data_body = 1000}: the Schema first, then the RecordBatches (query_format
 *       QUERY_FMT_ARROW: src/query/query_arrow.c), then trailers grpc-status: 0.
 *     errors: a trailers-only response, grpc-status and grpc-message (percent-encoded):
 *       INVALID_ARGUMENT (3) for a query that does not parse or plan or a bad ticket,
 *       NOT_FOUND (5) for a database that does not exist, RESOURCE_EXHAUSTED (8) for a result
 *       over --max-query-result-size or a query over its memory limit, DEADLINE_EXCEEDED (4)
 *       for --query-timeout or the call's grpc-timeout, CANCELLED (1) when the client went
 *       away, UNAVAILABLE (14) while shutting down, INTERNAL (13) otherwise.
 *   every other Flight method (Handshake, GetFlightInfo, DoPut, ...): UNIMPLEMENTED (12).
 *   a request that is not gRPC: HTTP 415.
 *
 * One thread per connection reads frames, and runs each call whose request has ended, in
 * turn, on that thread; the result is built in memory (bounded by --max-query-result-size)
 * and streamed out under HTTP/2 flow control. No authentication, as on the HTTP API. */
#include "server_int.h"

#include "../query/query_v1.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define FLIGHT_SERVICE  "/arrow.flight.protocol.FlightService/"
#define MAX_REQUEST     (16u << 20) /* a ticket holds one query text */
#define IDLE_TIMEOUT_MS (300 * 1000)

enum grpc_code {
    GRPC_OK = 0,
    GRPC_CANCELLED = 1,
    GRPC_INVALID_ARGUMENT = 3,
    GRPC_DEADLINE_EXCEEDED = 4,
    GRPC_NOT_FOUND = 5,
    GRPC_RESOURCE_EXHAUSTED = 8,
    GRPC_UNIMPLEMENTED = 12,
    GRPC_INTERNAL = 13,
    GRPC_UNAVAILABLE = 14,
};

typedef struct fstream {
    int32_t id;
    char path[160];
    bool grpc;          /* content-type application/grpc[+proto] */
    int64_t timeout_ns; /* grpc-timeout, 0: none */
    buf req;            /* the request body */
    bool too_big;       /* the body passed MAX_REQUEST: answered once it ends */
    buf resp;           /* gRPC messages to send */
    size_t sent;        /* bytes of resp handed to nghttp2 */
    struct fstream *next_ready;
} fstream;

typedef struct fconn {
    server *s;
    int fd;
    nghttp2_session *h2;
    fstream *ready, **ready_tail; /* calls whose request ended, in arrival order */
} fconn;

/* ------------------------------------------------------------------ small encoders */

static void put_varint(buf *b, uint64_t v) {
    uint8_t tmp[10];
    buf_append(b, tmp, varint_put(tmp, v));
}

static void put_be32(buf *b, uint32_t v) {
    char c[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};
    buf_append(b, c, 4);
}

/* The bodyLength of an Arrow IPC Message flatbuffer (field 3 of the root table), or -1 if
 * the buffer is not a well-formed Message. */
static int64_t message_body_length(const uint8_t *m, size_t n) {
    if (n < 8) return -1;
    uint32_t root = le_get32(m);
    if (root > n - 4) return -1;
    int32_t vt_rel = (int32_t)le_get32(m + root);
    int64_t vt = (int64_t)root - vt_rel;
    if (vt < 0 || (uint64_t)vt + 4 > n) return -1;
    uint16_t vt_size = le_get16(m + vt);
    if (vt_size < 4 || (uint64_t)vt + vt_size > n) return -1;
    if (vt_size < 4 + 2 * 4) return 0; /* field 3 absent: no body */
    uint16_t off = le_get16(m + vt + 10);
    if (!off) return 0;
    if ((uint64_t)root + off + 8 > n) return -1;
    uint64_t v = le_get64(m + root + off);
    return v > INT64_MAX ? -1 : (int64_t)v;
}

/* An Arrow IPC stream (continuation markers, lengths, metadata, bodies, EOS) -> one gRPC
 * message per IPC message, each a FlightData{data_header = 2, data_body = 1000}. */
static int ipc_to_flight(const buf *ipc, buf *out, silt_err *err) {
    const uint8_t *p = ipc->p;
    size_t n = ipc->len, off = 0;
    buf msg = {0};
    while (off + 8 <= n) {
        uint32_t len = le_get32(p + off);
        size_t hdr = 4;
        if (len == 0xFFFFFFFFu) {
            len = le_get32(p + off + 4);
            hdr = 8;
        }
        if (len == 0) break; /* end of stream */
        if (len > n - off - hdr) break;
        const uint8_t *meta = p + off + hdr;
        int64_t body = message_body_length(meta, len);
        if (body < 0 || (uint64_t)body > n - off - hdr - len) {
            buf_free(&msg);
            return SILT_FAIL(err, SILT_EIO, "internal error: a malformed Arrow IPC message");
        }
        buf_reset(&msg);
        buf_putc(&msg, 0x12); /* field 2, length-delimited */
        put_varint(&msg, len);
        buf_append(&msg, meta, len);
        if (body) {
            put_varint(&msg, (1000u << 3) | 2);
            put_varint(&msg, (uint64_t)body);
            buf_append(&msg, meta + len, (size_t)body);
        }
        buf_putc(out, 0); /* not compressed */
        put_be32(out, (uint32_t)msg.len);
        buf_append(out, msg.p, msg.len);
        off += hdr + len + (size_t)body;
    }
    buf_free(&msg);
    return SILT_OK;
}

/* ------------------------------------------------------------------ responses */

static ssize_t read_resp(nghttp2_session *h2, int32_t id, uint8_t *dst, size_t cap, uint32_t *flags,
                         nghttp2_data_source *src, void *user) {
    (void)h2;
    (void)user;
    fstream *st = src->ptr;
    size_t n = st->resp.len - st->sent;
    if (n > cap) n = cap;
    memcpy(dst, st->resp.p + st->sent, n);
    st->sent += n;
    if (st->sent == st->resp.len) {
        *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
        static const nghttp2_nv ok[] = {
            {(uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1, NGHTTP2_NV_FLAG_NONE}};
        nghttp2_submit_trailer(h2, id, ok, 1);
    }
    return (ssize_t)n;
}

#define NV(n, v)                                                                                   \
    { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE }

/* A trailers-only answer: the call failed with code and msg. */
static void respond_status(fconn *fc, fstream *st, int code, const char *msg) {
    char num[12];
    snprintf(num, sizeof num, "%d", code);
    buf enc = {0};
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        if (*p >= 0x20 && *p < 0x7f && *p != '%') {
            buf_putc(&enc, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            buf_append(&enc, e, 3);
        }
    }
    buf_putc(&enc, 0);
    nghttp2_nv nv[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                       NV("grpc-status", num), NV("grpc-message", (const char *)enc.p)};
    nghttp2_submit_response(fc->h2, st->id, nv, code ? 4 : 3, NULL);
    buf_free(&enc);
}

static int grpc_code_for(int rc) {
    switch (rc) {
        case SILT_EINVAL:
        case SILT_EPARSE:
        case SILT_ESCHEMA:
            return GRPC_INVALID_ARGUMENT;
        case SILT_ENOTFOUND:
            return GRPC_NOT_FOUND;
        case SILT_ELIMIT:
        case SILT_ETOOBIG:
            return GRPC_RESOURCE_EXHAUSTED;
        case SILT_ETIMEDOUT:
            return GRPC_DEADLINE_EXCEEDED;
        case SILT_EUNSUPPORTED:
            return GRPC_UNIMPLEMENTED;
        case SILT_ESHUTDOWN:
        case SILT_EBUSY:
            return GRPC_UNAVAILABLE;
        default:
            return GRPC_INTERNAL;
    }
}

/* ------------------------------------------------------------------ DoGet */

/* The Ticket's bytes (field 1) in a protobuf message; false if malformed. */
static bool ticket_bytes(const uint8_t *p, size_t n, const uint8_t **out, size_t *out_n) {
    size_t off = 0;
    *out = NULL;
    *out_n = 0;
    while (off < n) {
        uint64_t key, v;
        size_t k = varint_get(p + off, n - off, &key);
        if (!k) return false;
        off += k;
        switch (key & 7) {
            case 0: /* varint */
                k = varint_get(p + off, n - off, &v);
                if (!k) return false;
                off += k;
                break;
            case 1: /* 64-bit */
            case 5: /* 32-bit */
                k = (key & 7) == 1 ? 8 : 4;
                if (n - off < k) return false;
                off += k;
                break;
            case 2: /* length-delimited */
                k = varint_get(p + off, n - off, &v);
                if (!k || v > n - off - k) return false;
                off += k;
                if (key >> 3 == 1) {
                    *out = p + off;
                    *out_n = (size_t)v;
                }
                off += (size_t)v;
                break;
            default:
                return false;
        }
    }
    return true;
}

int server__flight_ticket(const uint8_t *body, size_t n, flight_ticket *t, char *msg, size_t cap) {
    memset(t, 0, sizeof *t);
    if (n >= 5 && body[0] != 0) {
        snprintf(msg, cap, "compressed requests are not supported");
        return GRPC_UNIMPLEMENTED;
    }
    uint32_t mlen = n < 5 ? 0
                          : (uint32_t)body[1] << 24 | (uint32_t)body[2] << 16 |
                                (uint32_t)body[3] << 8 | body[4];
    const uint8_t *tk;
    size_t tk_n;
    if (n < 5 || mlen != n - 5 || !ticket_bytes(body + 5, mlen, &tk, &tk_n) || !tk) {
        snprintf(msg, cap, "DoGet expects one Ticket message");
        return GRPC_INVALID_ARGUMENT;
    }
    json_error_t je;
    t->root = json_loadb((const char *)tk, tk_n, 0, &je);
    if (!t->root || !json_is_object(t->root)) {
        snprintf(msg, cap, "the ticket is not InfluxDB's JSON ticket: %s",
                 t->root ? "not an object" : je.text);
        return GRPC_INVALID_ARGUMENT;
    }
    t->db = json_string_value(json_object_get(t->root, "database"));
    t->q = json_string_value(json_object_get(t->root, "sql_query"));
    const char *qt = json_string_value(json_object_get(t->root, "query_type"));
    json_t *params_obj = json_object_get(t->root, "params");
    if (json_is_null(params_obj)) params_obj = NULL;
    t->iql = qt && sv_ieq_cstr(sv_from(qt), "influxql");
    if (t->db && !*t->db) t->db = NULL;
    if (qt && !t->iql && !sv_ieq_cstr(sv_from(qt), "sql")) {
        snprintf(msg, cap, "query_type '%.40s': use sql or influxql", qt);
        return GRPC_INVALID_ARGUMENT;
    }
    if (!t->q || !*t->q || (!t->db && !t->iql)) {
        snprintf(msg, cap, "%s",
                 !t->q || !*t->q ? "the ticket has no sql_query" : "the ticket has no database");
        return GRPC_INVALID_ARGUMENT;
    }
    if (server_parse_params(NULL, params_obj, &t->params_keep, &t->params, &t->n_params, msg, cap) <
        0)
        return GRPC_INVALID_ARGUMENT;
    return GRPC_OK;
}

void server__flight_ticket_free(flight_ticket *t) {
    free(t->params);
    json_decref(t->params_keep);
    json_decref(t->root);
    memset(t, 0, sizeof *t);
}

static void do_get(fconn *fc, fstream *st) {
    server *s = fc->s;
    char msg[sizeof((silt_err){0}).msg + 64];
    flight_ticket t;
    buf ipc = {0};
    int code = server__flight_ticket(st->req.p, st->req.len, &t, msg, sizeof msg);
    if (code) {
        respond_status(fc, st, code, msg);
        goto done;
    }
    const char *db = t.db, *q = t.q;
    bool iql = t.iql;
    if (!iql && s->src.db_exists(&s->src, db) != SILT_OK) {
        snprintf(msg, sizeof msg, "database not found: %.100s", db);
        respond_status(fc, st, GRPC_NOT_FOUND, msg);
        goto done;
    }
    s->n_queries++;
    server_qwatch w = {.s = s, .fd = fc->fd, .start_ns = time_mono_ns()};
    int64_t deadline = server_query_deadline(&w);
    if (st->timeout_ns && (!deadline || w.start_ns + st->timeout_ns < deadline))
        deadline = w.start_ns + st->timeout_ns;
    silt_err err = {0};
    int rc;
    if (iql) {
        query_influxql_opts io = {.max_result_bytes = s->d.conf->max_query_result_size,
                                  .now_ns = time_now_ns(),
                                  .deadline_ns = deadline,
                                  .interrupt = server_query_interrupt,
                                  .interrupt_arg = &w,
                                  .params = t.params,
                                  .n_params = t.n_params};
        rc = query_influxql_table(&s->src, db, q, strlen(q), QUERY_FMT_ARROW, &io, &ipc, &err);
    } else {
        query_opts qo = {.max_result_bytes = s->d.conf->max_query_result_size,
                         .now_ns = time_now_ns(),
                         .deadline_ns = deadline,
                         .interrupt = server_query_interrupt,
                         .interrupt_arg = &w,
                         .params = t.params,
                         .n_params = t.n_params};
        rc = query_sql(&s->src, db, q, strlen(q), QUERY_FMT_ARROW, &qo, &ipc, &err);
    }
    if (!rc) rc = ipc_to_flight(&ipc, &st->resp, &err);
    if (rc) {
        server_query_stopped(&w, rc, iql ? "InfluxQL" : "SQL", q);
        /* as on the HTTP API: a SQL table that does not exist is the query's fault */
        code = w.client_gone                  ? GRPC_CANCELLED
               : rc == SILT_ENOTFOUND && !iql ? GRPC_INVALID_ARGUMENT
                                              : grpc_code_for(rc);
        snprintf(msg, sizeof msg, "%s%s",
                 iql && rc == SILT_EPARSE ? "error in InfluxQL statement: " : "",
                 err.msg[0] ? err.msg : silt_strerror(rc));
        if (rc == SILT_ETIMEDOUT)
            snprintf(msg, sizeof msg, "query timeout: the query ran longer than %s",
                     st->timeout_ns && deadline == w.start_ns + st->timeout_ns
                         ? "the call's deadline"
                         : "--query-timeout");
        respond_status(fc, st, code, msg);
        goto done;
    }
    nghttp2_nv nv[] = {NV(":status", "200"), NV("content-type", "application/grpc")};
    nghttp2_data_provider dp = {.source.ptr = st, .read_callback = read_resp};
    nghttp2_submit_response(fc->h2, st->id, nv, 2, &dp);
done:
    buf_free(&ipc);
    server__flight_ticket_free(&t);
}

static void run_call(fconn *fc, fstream *st) {
    fc->s->n_flight_calls++;
    if (!st->grpc) {
        nghttp2_nv nv[] = {NV(":status", "415")};
        nghttp2_submit_response(fc->h2, st->id, nv, 1, NULL);
        return;
    }
    if (st->too_big) {
        respond_status(fc, st, GRPC_RESOURCE_EXHAUSTED, "the request is larger than 16 MiB");
        return;
    }
    if (fc->s->flight_stopping) {
        respond_status(fc, st, GRPC_UNAVAILABLE, "the server is shutting down");
        return;
    }
    if (!strcmp(st->path, FLIGHT_SERVICE "DoGet")) {
        do_get(fc, st);
        return;
    }
    char msg[240];
    snprintf(msg, sizeof msg, "%.160s is not implemented: silt serves Arrow Flight's DoGet",
             st->path);
    respond_status(fc, st, GRPC_UNIMPLEMENTED, msg);
}

/* ------------------------------------------------------------------ nghttp2 callbacks */

static bool send_all(int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Everything nghttp2 has to send, gathered into few large send()s (frame by frame, a small
 * answer's headers, data and trailers would be three segments, and Nagle's algorithm against
 * the client's delayed ACK would hold the last one back ~40 ms). */
static bool flush(fconn *fc, buf *out) {
    for (;;) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(fc->h2, &data);
        if (n < 0) return false;
        if (n > 0) buf_append(out, data, (size_t)n);
        if (out->len && (n == 0 || out->len >= (256u << 10))) {
            if (!send_all(fc->fd, out->p, out->len)) return false;
            buf_reset(out);
        }
        if (n == 0) return true;
    }
}

static int on_begin_headers(nghttp2_session *h2, const nghttp2_frame *f, void *user) {
    (void)user;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    fstream *st = xcalloc(1, sizeof *st);
    st->id = f->hd.stream_id;
    nghttp2_session_set_stream_user_data(h2, st->id, st);
    return 0;
}

/* grpc-timeout: up to 8 digits and a unit (H M S m u n) */
static int64_t parse_grpc_timeout(const uint8_t *v, size_t n) {
    if (n < 2 || n > 9) return 0;
    int64_t x = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (v[i] < '0' || v[i] > '9') return 0;
        x = x * 10 + (v[i] - '0');
    }
    switch (v[n - 1]) {
        case 'H':
            return x * 3600 * NS_PER_S;
        case 'M':
            return x * 60 * NS_PER_S;
        case 'S':
            return x * NS_PER_S;
        case 'm':
            return x * 1000000;
        case 'u':
            return x * 1000;
        case 'n':
            return x;
        default:
            return 0;
    }
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *f, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl, uint8_t flags, void *user) {
    (void)flags;
    (void)user;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    fstream *st = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
    if (!st) return 0;
    str_view k = {(const char *)name, nl};
    if (sv_eq_cstr(k, ":path")) {
        size_t m = vl < sizeof st->path - 1 ? vl : sizeof st->path - 1;
        memcpy(st->path, value, m);
        st->path[m] = 0;
    } else if (sv_eq_cstr(k, "content-type")) {
        st->grpc = vl >= 16 && !memcmp(value, "application/grpc", 16) &&
                   (vl == 16 || value[16] == '+' || value[16] == ';');
    } else if (sv_eq_cstr(k, "grpc-timeout")) {
        st->timeout_ns = parse_grpc_timeout(value, vl);
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *h2, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *user) {
    (void)flags;
    (void)user;
    fstream *st = nghttp2_session_get_stream_user_data(h2, id);
    if (!st) return 0;
    if (st->req.len + len > MAX_REQUEST)
        st->too_big = true;
    else
        buf_append(&st->req, data, len);
    return 0;
}

static int on_frame_recv(nghttp2_session *h2, const nghttp2_frame *f, void *user) {
    fconn *fc = user;
    if ((f->hd.type != NGHTTP2_DATA && f->hd.type != NGHTTP2_HEADERS) ||
        !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    fstream *st = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
    if (!st || st->next_ready || fc->ready_tail == &st->next_ready) return 0;
    *fc->ready_tail = st;
    fc->ready_tail = &st->next_ready;
    return 0;
}

static int on_stream_close(nghttp2_session *h2, int32_t id, uint32_t code, void *user) {
    (void)code;
    fconn *fc = user;
    fstream *st = nghttp2_session_get_stream_user_data(h2, id);
    if (!st) return 0;
    /* a reset call still waiting to run: take it off the queue */
    for (fstream **pp = &fc->ready; *pp; pp = &(*pp)->next_ready) {
        if (*pp != st) continue;
        *pp = st->next_ready;
        if (fc->ready_tail == &st->next_ready) fc->ready_tail = pp;
        break;
    }
    nghttp2_session_set_stream_user_data(h2, id, NULL);
    buf_free(&st->req);
    buf_free(&st->resp);
    free(st);
    return 0;
}

/* ------------------------------------------------------------------ the connection */

static void serve(server *s, int fd) {
    fconn fc = {.s = s, .fd = fd};
    fc.ready_tail = &fc.ready;
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb)) return;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    int rc = nghttp2_session_server_new(&fc.h2, cb, &fc);
    nghttp2_session_callbacks_del(cb);
    if (rc) return;
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
                                   {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1u << 20}};
    nghttp2_submit_settings(fc.h2, NGHTTP2_FLAG_NONE, iv, 2);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    uint8_t in[16384];
    buf out = {0};
    for (;;) {
        while (fc.ready) {
            fstream *st = fc.ready;
            fc.ready = st->next_ready;
            if (!fc.ready) fc.ready_tail = &fc.ready;
            st->next_ready = NULL;
            run_call(&fc, st);
        }
        if (!flush(&fc, &out)) break;
        if (!nghttp2_session_want_read(fc.h2) && !nghttp2_session_want_write(fc.h2)) break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, IDLE_TIMEOUT_MS);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break; /* idle for 5 minutes, as an HTTP/1.1 connection may be */
        ssize_t n = recv(fd, in, sizeof in, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (nghttp2_session_mem_recv(fc.h2, in, (size_t)n) < 0) break;
    }
    buf_free(&out);
    nghttp2_session_del(fc.h2); /* closes the streams left: on_stream_close frees them */
}

typedef struct flight_arg {
    server *s;
    int fd;
} flight_arg;

static void *flight_main(void *arg) {
    flight_arg a = *(flight_arg *)arg;
    free(arg);
    serve(a.s, a.fd);
    pthread_mutex_lock(&a.s->flight_mu);
    for (size_t i = 0; i < a.s->n_flight; i++) {
        if (a.s->flight_fds[i] != a.fd) continue;
        a.s->flight_fds[i] = a.s->flight_fds[--a.s->n_flight];
        break;
    }
    close(a.fd);
    pthread_cond_broadcast(&a.s->flight_cv);
    pthread_mutex_unlock(&a.s->flight_mu);
    return NULL;
}

void server__flight_init(server *s) {
    pthread_mutex_init(&s->flight_mu, NULL);
    pthread_cond_init(&s->flight_cv, NULL);
}

void server__flight_spawn(server *s, int fd) {
    pthread_mutex_lock(&s->flight_mu);
    if (s->flight_stopping || s->n_flight >= (size_t)s->d.conf->http_max_connections) {
        pthread_mutex_unlock(&s->flight_mu);
        log_warn("http", "a Flight connection refused: %s",
                 s->flight_stopping ? "shutting down" : "--http-max-connections reached");
        close(fd);
        return;
    }
    if (s->n_flight == s->cap_flight) {
        s->cap_flight = s->cap_flight ? 2 * s->cap_flight : 16;
        s->flight_fds = xrealloc(s->flight_fds, s->cap_flight * sizeof *s->flight_fds);
    }
    s->flight_fds[s->n_flight++] = fd;
    pthread_mutex_unlock(&s->flight_mu);
    flight_arg *a = xmalloc(sizeof *a);
    *a = (flight_arg){s, fd};
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int rc = pthread_create(&t, &at, flight_main, a);
    pthread_attr_destroy(&at);
    if (rc) {
        free(a);
        log_warn("http", "cannot start a Flight connection's thread: %s", strerror(rc));
        pthread_mutex_lock(&s->flight_mu);
        for (size_t i = 0; i < s->n_flight; i++)
            if (s->flight_fds[i] == fd) s->flight_fds[i] = s->flight_fds[--s->n_flight];
        close(fd);
        pthread_mutex_unlock(&s->flight_mu);
    }
}

void server__flight_stop(server *s) {
    pthread_mutex_lock(&s->flight_mu);
    s->flight_stopping = true;
    for (size_t i = 0; i < s->n_flight; i++) shutdown(s->flight_fds[i], SHUT_RDWR);
    while (s->n_flight) pthread_cond_wait(&s->flight_cv, &s->flight_mu);
    pthread_mutex_unlock(&s->flight_mu);
    free(s->flight_fds);
    s->flight_fds = NULL;
    pthread_mutex_destroy(&s->flight_mu);
    pthread_cond_destroy(&s->flight_cv);
}
