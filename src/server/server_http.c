/* SPDX-License-Identifier: MIT
 *
 * HTTP plumbing on libmicrohttpd: daemon start/stop, routing, body collection with the size
 * limit (413 before reading when Content-Length says so), gzip bodies, the status table, and
 * the operational endpoints (/ping, /health, /metrics). */
#include "server_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

int server_status_for(int code) {
    switch (code) {
        case SILT_OK:
            return 200;
        case SILT_EINVAL:
        case SILT_EPARSE:
        case SILT_ESCHEMA:
            return 400;
        case SILT_ENOTFOUND:
            return 404;
        case SILT_ETOOBIG:
        case SILT_ELIMIT:
            return 413;
        case SILT_ENOSPC:
            return 507;
        case SILT_ESHUTDOWN:
        case SILT_EBUSY:
            return 503;
        case SILT_ETIMEDOUT:
            return 504;
        case SILT_EUNSUPPORTED:
            return 501;
        default:
            return 500;
    }
}

static void add_common_headers(struct MHD_Response *resp, const char *content_type) {
    if (content_type) MHD_add_response_header(resp, "Content-Type", content_type);
    MHD_add_response_header(resp, "X-Influxdb-Version", SILT_INFLUX_VERSION);
    MHD_add_response_header(resp, "X-Influxdb-Build", "silt");
}

enum MHD_Result server_respond(server *s, struct MHD_Connection *c, unsigned status,
                               const char *content_type, buf *body) {
    struct MHD_Response *resp;
    if (body && body->len) {
        resp = MHD_create_response_from_buffer_with_free_callback(body->len, body->p, free);
        body->p = NULL;
        body->len = body->cap = 0;
    } else {
        if (body) buf_free(body);
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!resp) return MHD_NO;
    add_common_headers(resp, body ? content_type : NULL);
    if (status == 503) MHD_add_response_header(resp, "Retry-After", "1");
    if (status >= 500)
        s->n_errors_5xx++;
    else if (status >= 400)
        s->n_errors_4xx++;
    enum MHD_Result r = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return r;
}

enum MHD_Result server_respond_error(server *s, struct MHD_Connection *c, unsigned status,
                                     const char *msg) {
    buf b = {0};
    buf_puts(&b, "{\"error\":\"");
    buf_json_escape(&b, msg, strlen(msg));
    buf_puts(&b, "\"}");
    return server_respond(s, c, status, "application/json", &b);
}

int server_parse_params(const char *text, json_t *obj, json_t **keep, query_param **out, size_t *n,
                        char *msg, size_t msg_cap) {
    *out = NULL;
    *n = 0;
    *keep = NULL;
    json_t *root = obj;
    if (!root && text && *text) {
        json_error_t je;
        root = json_loads(text, 0, &je);
        if (!root) {
            snprintf(msg, msg_cap, "params is not JSON: %s", je.text);
            return -1;
        }
    } else if (root) {
        json_incref(root);
    }
    if (!root) return 0;
    *keep = root;
    if (!json_is_object(root)) {
        snprintf(msg, msg_cap, "params must be a JSON object of name: value");
        return -1;
    }
    query_param *v = xcalloc(json_object_size(root) + 1, sizeof *v);
    const char *key;
    json_t *val;
    size_t k = 0;
    json_object_foreach(root, key, val) {
        query_param *q = &v[k++];
        q->name = key;
        switch (json_typeof(val)) {
            case JSON_NULL:
                q->type = QPARAM_NULL;
                break;
            case JSON_TRUE:
            case JSON_FALSE:
                q->type = QPARAM_BOOL;
                q->b = json_is_true(val);
                break;
            case JSON_INTEGER:
                q->type = QPARAM_INT;
                q->i = (int64_t)json_integer_value(val);
                break;
            case JSON_REAL:
                q->type = QPARAM_FLOAT;
                q->f = json_real_value(val);
                break;
            case JSON_STRING:
                q->type = QPARAM_STRING;
                q->s = json_string_value(val);
                break;
            default:
                snprintf(msg, msg_cap,
                         "parameter $%.100s: a value must be null, a boolean, a number or a string",
                         key);
                free(v);
                return -1;
        }
    }
    *out = v;
    *n = k;
    return 0;
}

const char *server_arg(struct MHD_Connection *c, const char *name) {
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

int server_arg_bool(struct MHD_Connection *c, const char *name, bool dflt) {
    const char *v = server_arg(c, name);
    if (!v || !*v) return dflt;
    str_view s = sv_from(v);
    if (sv_ieq_cstr(s, "true") || sv_ieq_cstr(s, "1") || sv_ieq_cstr(s, "yes")) return 1;
    if (sv_ieq_cstr(s, "false") || sv_ieq_cstr(s, "0") || sv_ieq_cstr(s, "no")) return 0;
    return -1;
}

void server_qwatch_init(server_qwatch *w, server *s, struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    w->s = s;
    w->fd = ci ? ci->connect_fd : -1;
    w->start_ns = time_mono_ns();
    w->client_gone = false;
}

int server_query_interrupt(void *arg, silt_err *err) {
    server_qwatch *w = arg;
    if (w->fd < 0) return SILT_OK;
    /* POLLRDHUP: the client shut its side (closed the socket, or the process died);
     * POLLHUP / POLLERR: reset. Readable data alone (a pipelined request) is not a hang-up. */
    struct pollfd p = {.fd = w->fd, .events = POLLRDHUP};
    if (poll(&p, 1, 0) <= 0) return SILT_OK;
    if (!(p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))) return SILT_OK;
    w->client_gone = true;
    return SILT_FAIL(err, SILT_EIO, "query cancelled: the client closed the connection");
}

int64_t server_query_deadline(const server_qwatch *w) {
    uint64_t t = w->s->d.conf->query_timeout_ns;
    return t ? w->start_ns + (int64_t)t : 0;
}

void server_query_stopped(server_qwatch *w, int rc, const char *lang, const char *q) {
    double secs = (double)(time_mono_ns() - w->start_ns) / 1e9;
    size_t n = strlen(q);
    if (w->client_gone) {
        w->s->n_query_cancels++;
        log_info("query",
                 "%s query cancelled after %.3f s: the client closed the connection: "
                 "%.*s%s",
                 lang, secs, (int)(n > 200 ? 200 : n), q, n > 200 ? "..." : "");
    } else if (rc == SILT_ETIMEDOUT) {
        w->s->n_query_timeouts++;
        log_warn("query", "%s query stopped by --query-timeout after %.3f s: %.*s%s", lang, secs,
                 (int)(n > 200 ? 200 : n), q, n > 200 ? "..." : "");
    }
}

static route route_for(const char *url) {
    if (!strcmp(url, "/ping")) return ROUTE_PING;
    if (!strcmp(url, "/health")) return ROUTE_HEALTH;
    if (!strcmp(url, "/metrics")) return ROUTE_METRICS;
    if (!strcmp(url, "/api/v3/write_lp")) return ROUTE_WRITE_V3;
    if (!strcmp(url, "/api/v2/write")) return ROUTE_WRITE_V2;
    if (!strcmp(url, "/write")) return ROUTE_WRITE_V1;
    if (!strcmp(url, "/api/v3/query_sql")) return ROUTE_QUERY_SQL;
    if (!strcmp(url, "/api/v3/query_influxql")) return ROUTE_QUERY_INFLUXQL;
    if (!strcmp(url, "/query")) return ROUTE_QUERY_V1;
    if (!strcmp(url, "/api/v3/configure/database")) return ROUTE_CONFIGURE_DB;
    if (!strcmp(url, "/api/v3/configure/table")) return ROUTE_CONFIGURE_TABLE;
    return ROUTE_NONE;
}

static enum MHD_Result handle_ping(server *s, struct MHD_Connection *c) {
    return server_respond(s, c, 204, NULL, NULL);
}

static enum MHD_Result handle_health(server *s, struct MHD_Connection *c) {
    buf b = {0};
    buf_printf(&b,
               "{\"name\":\"silt\",\"message\":\"%s\",\"status\":\"%s\",\"checks\":[],"
               "\"version\":\"%s\",\"commit\":\"\"}",
               s->draining ? "shutting down" : "ready for queries and writes",
               s->draining ? "fail" : "pass", SILT_VERSION);
    return server_respond(s, c, s->draining ? 503 : 200, "application/json", &b);
}

static enum MHD_Result handle_metrics(server *s, struct MHD_Connection *c) {
    wal_stats ws;
    buffer_stats bs;
    wal_get_stats(s->d.wal, &ws);
    buffer_get_stats(s->d.buffer, &bs);
    buf b = {0};
#define M(name, type, help, val)                                                                   \
    buf_printf(&b, "# HELP " name " " help "\n# TYPE " name " " type "\n" name " %llu\n",          \
               (unsigned long long)(val))
    M("silt_http_requests_total", "counter", "HTTP requests received.", s->n_requests);
    M("silt_http_responses_4xx_total", "counter", "HTTP answers with a 4xx status.",
      s->n_errors_4xx);
    M("silt_http_responses_5xx_total", "counter", "HTTP answers with a 5xx status.",
      s->n_errors_5xx);
    M("silt_write_requests_total", "counter", "Write requests handled.", s->n_writes);
    M("silt_write_lines_total", "counter", "Line protocol lines accepted.", s->n_write_lines);
    M("silt_write_lines_rejected_total", "counter", "Line protocol lines rejected.",
      s->n_write_rejected);
    M("silt_query_requests_total", "counter", "Queries run.", s->n_queries);
    M("silt_query_timeouts_total", "counter", "Queries stopped by --query-timeout.",
      s->n_query_timeouts);
    M("silt_query_cancelled_total", "counter", "Queries stopped because the client disconnected.",
      s->n_query_cancels);
    M("silt_flight_calls_total", "counter", "gRPC calls received (Arrow Flight, HTTP/2).",
      s->n_flight_calls);
    M("silt_wal_groups_total", "counter", "WAL group commits.", ws.groups);
    M("silt_wal_records_total", "counter", "WAL records written.", ws.records);
    M("silt_wal_bytes_total", "counter", "WAL bytes written.", ws.bytes);
    M("silt_wal_syncs_total", "counter", "WAL fdatasync calls.", ws.syncs);
    M("silt_wal_sync_seconds_total_ns", "counter", "Time spent in WAL syncs (ns).",
      ws.sync_ns_total);
    M("silt_wal_failed_groups_total", "counter", "WAL groups that failed (not acknowledged).",
      ws.failed_groups);
    M("silt_wal_segments_created_total", "counter", "WAL segments created.", ws.segments_created);
    M("silt_buffer_rows", "gauge", "Rows held in the in-memory buffer.", bs.rows);
    M("silt_buffer_merged_rows_total", "counter", "Writes merged into an existing row.",
      bs.merged_rows);
    M("silt_buffer_bytes", "gauge", "Approximate bytes held by the buffer.", bs.bytes);
    M("silt_buffer_series", "gauge", "Series in the buffer.", bs.series);
    M("silt_buffer_frozen_generations", "gauge", "Buffer generations waiting to be persisted.",
      bs.frozen_gens);
    if (s->d.jobs) {
        jobs_stats js;
        jobs_get_stats(s->d.jobs, &js);
        M("silt_persist_total", "counter", "Persists of buffer generations.", js.persists);
        M("silt_persist_failures_total", "counter", "Persist attempts that failed.",
          js.persist_failures);
        M("silt_persist_rows_total", "counter", "Rows persisted to Parquet.", js.persisted_rows);
        M("silt_persist_files_total", "counter", "Parquet files written.", js.persisted_files);
        M("silt_persist_bytes_total", "counter", "Parquet bytes written.", js.persisted_bytes);
        M("silt_persist_busy_seconds_total_ns", "counter", "Time the persister was busy (ns).",
          js.busy_ns);
    }
    if (s->d.store) {
        store_stats ss;
        store_get_stats(s->d.store, &ss);
        M("silt_query_files_scanned_total", "counter", "Parquet files opened by queries.",
          ss.files_scanned);
        M("silt_query_pages_decoded_total", "counter",
          "Parquet data pages decoded by queries (pages pruned by statistics are not).",
          ss.pages_decoded);
        M("silt_query_parallel_scans_total", "counter",
          "Parquet file scans aggregated on two threads (partial aggregation).", ss.split_scans);
    }
#undef M
    return server_respond(s, c, 200, "text/plain; version=0.0.4", &b);
}

/* Inflate a gzip body in place, bounded by max bytes. 0 ok, SILT_ETOOBIG, SILT_EPARSE. */
static int gunzip(buf *body, size_t max, char *why, size_t why_len) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK) {
        snprintf(why, why_len, "cannot initialise gzip decoding");
        return SILT_EIO;
    }
    buf out = {0};
    z.next_in = body->p;
    z.avail_in = (uInt)body->len;
    int rc = SILT_OK, zr;
    do {
        buf_reserve(&out, out.len < 65536 ? 65536 : out.len);
        z.next_out = out.p + out.len;
        z.avail_out = (uInt)(out.cap - out.len);
        zr = inflate(&z, Z_NO_FLUSH);
        out.len = out.cap - z.avail_out;
        if (out.len > max) {
            rc = SILT_ETOOBIG;
            snprintf(why, why_len, "request body is larger than %zu bytes after gzip decoding",
                     max);
            break;
        }
        if (zr == Z_STREAM_END && z.avail_in > 0) {
            /* concatenated gzip members (RFC 1952 allows it) */
            if (inflateReset(&z) != Z_OK)
                zr = Z_DATA_ERROR;
            else
                zr = Z_OK;
        }
        if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
            rc = SILT_EPARSE;
            snprintf(why, why_len, "invalid gzip body: %s", z.msg ? z.msg : "corrupt stream");
            break;
        }
        if (zr == Z_BUF_ERROR && z.avail_in == 0) {
            rc = SILT_EPARSE;
            snprintf(why, why_len, "invalid gzip body: truncated stream");
            break;
        }
    } while (zr != Z_STREAM_END);
    inflateEnd(&z);
    if (rc) {
        buf_free(&out);
        return rc;
    }
    buf_free(body);
    *body = out;
    return SILT_OK;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls) {
    (void)version;
    server *s = cls;
    req *r = *con_cls;
    size_t max = s->d.conf->max_http_request_size;
    if (!r) {
        /* first call: headers only */
        s->n_requests++;
        r = xcalloc(1, sizeof *r);
        r->recv_ns = time_now_ns();
        r->rt = route_for(url);
        *con_cls = r;
        bool is_post = !strcmp(method, "POST");
        bool is_get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
        switch (r->rt) {
            case ROUTE_NONE:
                return server_respond_error(s, c, 404, "not found");
            case ROUTE_PING:
            case ROUTE_HEALTH:
            case ROUTE_METRICS:
                if (!is_get) return server_respond_error(s, c, 405, "method not allowed");
                break;
            case ROUTE_WRITE_V1:
            case ROUTE_WRITE_V2:
            case ROUTE_WRITE_V3:
                if (!is_post) return server_respond_error(s, c, 405, "method not allowed");
                if (s->draining)
                    return server_respond_error(s, c, 503, "the server is shutting down");
                r->is_write = true;
                s->writes_in_flight++;
                break;
            case ROUTE_QUERY_SQL:
            case ROUTE_QUERY_INFLUXQL:
            case ROUTE_QUERY_V1:
                if (!is_post && !is_get)
                    return server_respond_error(s, c, 405, "method not allowed");
                break;
            case ROUTE_CONFIGURE_DB:
            case ROUTE_CONFIGURE_TABLE:
                if (!is_post && !is_get && strcmp(method, "DELETE") != 0)
                    return server_respond_error(s, c, 405, "method not allowed");
                break;
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > max) {
            char msg[128];
            snprintf(msg, sizeof msg, "request body is larger than the limit of %zu bytes", max);
            return server_respond_error(s, c, 413, msg);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!r->too_large) {
            if (r->body.len + *upload_size > max) {
                r->too_large = true;
                buf_free(&r->body);
            } else {
                buf_append(&r->body, upload_data, *upload_size);
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    /* the whole request has arrived */
    if (r->too_large) {
        char msg[128];
        snprintf(msg, sizeof msg, "request body is larger than the limit of %zu bytes", max);
        return server_respond_error(s, c, 413, msg);
    }
    const char *ce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
    if (ce && *ce && strcasecmp(ce, "identity") != 0) {
        if (strcasecmp(ce, "gzip") != 0) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "unsupported Content-Encoding '%.64s' (gzip and identity are supported)", ce);
            return server_respond_error(s, c, 415, msg);
        }
        char why[200];
        int rc = gunzip(&r->body, max, why, sizeof why);
        if (rc) return server_respond_error(s, c, server_status_for(rc), why);
    }
    switch (r->rt) {
        case ROUTE_PING:
            return handle_ping(s, c);
        case ROUTE_HEALTH:
            return handle_health(s, c);
        case ROUTE_METRICS:
            return handle_metrics(s, c);
        case ROUTE_WRITE_V1:
        case ROUTE_WRITE_V2:
        case ROUTE_WRITE_V3:
            return server_handle_write(s, c, r);
        case ROUTE_QUERY_SQL:
        case ROUTE_QUERY_INFLUXQL:
            return server_handle_query(s, c, r, method);
        case ROUTE_QUERY_V1:
            return server_handle_query_v1(s, c, r, method);
        case ROUTE_CONFIGURE_DB:
        case ROUTE_CONFIGURE_TABLE:
            return server_handle_configure(s, c, r, method);
        case ROUTE_NONE:
            break;
    }
    return server_respond_error(s, c, 404, "not found");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)c;
    (void)toe;
    server *s = cls;
    req *r = *con_cls;
    if (!r) return;
    if (r->is_write) s->writes_in_flight--;
    buf_free(&r->body);
    free(r);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = 0;
    log_debug("http", "%s", msg);
}

static int parse_bind(const char *bind, struct sockaddr_storage *ss, socklen_t *len,
                      silt_err *err) {
    const char *colon = strrchr(bind, ':');
    if (!colon) return SILT_FAIL(err, SILT_EINVAL, "--http-bind '%s': expected host:port", bind);
    char host[256];
    size_t hl = (size_t)(colon - bind);
    if (hl >= sizeof host) return SILT_FAIL(err, SILT_EINVAL, "--http-bind: host too long");
    memcpy(host, bind, hl);
    host[hl] = 0;
    char *h = host;
    if (h[0] == '[' && hl > 1 && h[hl - 1] == ']') {
        h[hl - 1] = 0;
        h++;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int g = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &res);
    if (g) return SILT_FAIL(err, SILT_EINVAL, "--http-bind '%s': %s", bind, gai_strerror(g));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return SILT_OK;
}

int server_start(const server_deps *deps, server **out, silt_err *err) {
    server *s = xcalloc(1, sizeof *s);
    s->d = *deps;
    if (deps->store)
        store_source(deps->store, &s->src);
    else
        buffer_source(deps->buffer, &s->src);
    server__admin_init(s);
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    int rc = parse_bind(deps->conf->http_bind, &ss, &sl, err);
    if (rc) {
        server__admin_fini(s);
        free(s);
        return rc;
    }
    s->listen_fd = s->wake_pipe[0] = s->wake_pipe[1] = -1;
    server__flight_init(s);
    rc = server__listen_open(s, &ss, sl, err);
    if (rc) {
        server__admin_fini(s);
        free(s);
        return rc;
    }
    /* no listening socket of its own: server_listen.c accepts and hands HTTP/1.1 over */
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET;
    if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    s->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)deps->conf->http_max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_END);
    if (!s->mhd) rc = SILT_FAIL(err, SILT_EIO, "cannot start the HTTP server");
    if (!rc) rc = server__listen_start(s, err);
    if (rc) {
        if (s->mhd) MHD_stop_daemon(s->mhd);
        server__listen_stop(s);
        server__admin_fini(s);
        free(s);
        return rc;
    }
    *out = s;
    return SILT_OK;
}

unsigned server_port(const server *s) {
    return s->port;
}

void server_drain_writes(server *s) {
    s->draining = true;
    /* a client that stalls mid-body must not hold shutdown forever: its write was never
     * acknowledged, so after 30 s it is cut off by server_stop() */
    int64_t deadline = time_mono_ns() + 30 * NS_PER_S;
    while (s->writes_in_flight > 0 && time_mono_ns() < deadline) usleep(2000);
    if (s->writes_in_flight > 0)
        log_warn("http",
                 "%d write(s) still receiving their body after 30 s; closing them "
                 "unacknowledged",
                 (int)s->writes_in_flight);
}

void server_stop(server *s) {
    if (!s) return;
    server__listen_stop(s); /* no new connections */
    server__flight_stop(s);
    MHD_stop_daemon(s->mhd);
    server__admin_fini(s);
    free(s);
}
