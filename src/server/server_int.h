/* SPDX-License-Identifier: MIT
 *
 * server internals: the per-request context and helpers shared by the route files. */
#ifndef SILT_SERVER_INT_H
#define SILT_SERVER_INT_H

#include "server.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdatomic.h>

typedef enum route {
    ROUTE_NONE = 0,
    ROUTE_PING,
    ROUTE_HEALTH,
    ROUTE_METRICS,
    ROUTE_WRITE_V3,
    ROUTE_WRITE_V2,
    ROUTE_WRITE_V1,
    ROUTE_QUERY_SQL,
    ROUTE_QUERY_INFLUXQL, /* served by server_handle_query too */
    ROUTE_QUERY_V1,
    ROUTE_CONFIGURE_DB,
    ROUTE_CONFIGURE_TABLE,
} route;

struct server {
    server_deps d;
    struct MHD_Daemon *mhd;
    unsigned port;
    /* server_listen.c: silt accepts on the port itself and hands each connection to
     * libmicrohttpd (HTTP/1.1) or to a Flight thread (HTTP/2: gRPC) */
    int listen_fd;
    int wake_pipe[2];
    pthread_t accept_thread;
    /* server_flight.c: the Flight connections' sockets, shut down by server_stop */
    pthread_mutex_t flight_mu;
    pthread_cond_t flight_cv;
    int *flight_fds;
    size_t n_flight, cap_flight;
    bool flight_stopping;
    query_source src;
    _Atomic bool draining;
    _Atomic int writes_in_flight;
    /* Held shared by a write from validation to acknowledgement, exclusively by a create or
     * drop of a database or table (server_admin.c). */
    pthread_rwlock_t write_gate;
    /* counters for /metrics */
    _Atomic uint64_t n_requests, n_writes, n_write_lines, n_write_rejected, n_queries,
        n_errors_5xx, n_errors_4xx;
    _Atomic uint64_t n_query_timeouts, n_query_cancels; /* --query-timeout; client gone */
    _Atomic uint64_t n_flight_calls; /* gRPC calls received (Arrow Flight) */
};

typedef struct req {
    route rt;
    bool is_write;     /* counted in writes_in_flight */
    bool too_large;    /* body exceeded the limit: drained, answered 413 */
    int64_t recv_ns;   /* server time at receipt (default timestamps) */
    buf body;
} req;

/* Queue a response owning `body` (its memory is taken, b is reset). */
enum MHD_Result server_respond(server *s, struct MHD_Connection *c, unsigned status,
                               const char *content_type, buf *body);
/* Queue {"error": msg} (v3 shape) with status. */
enum MHD_Result server_respond_error(server *s, struct MHD_Connection *c, unsigned status,
                                     const char *msg);
const char *server_arg(struct MHD_Connection *c, const char *name);

/* InfluxDB's `params` of a parameterized query: a JSON object (or its text) of name -> null,
 * boolean, integer, number or string. On success *out (malloc'd; strings point into the JSON
 * kept in *keep: json_decref it after the query) holds n values; NULL text: none. On error
 * returns -1 with a message in msg. */
int server_parse_params(const char *text, json_t *obj, json_t **keep, query_param **out, size_t *n,
                        char *msg, size_t msg_cap);
/* Parse a boolean query parameter: true/false/1/0/yes/no; absent -> dflt. -1 if invalid. */
int server_arg_bool(struct MHD_Connection *c, const char *name, bool dflt);

/* Watching a query's connection while the query runs (thread per connection: the query runs
 * on the connection's thread, so nothing else reads the socket meanwhile). The executor calls
 * server_query_interrupt (query_opts.interrupt) between batches; it polls the socket without
 * waiting and, once the client has closed or reset it, stops the query with SILT_EIO. */
typedef struct server_qwatch {
    server *s;
    int fd;           /* -1: unknown, never interrupts */
    int64_t start_ns; /* time_mono_ns() when the query began */
    bool client_gone; /* set when the interrupt fired */
} server_qwatch;

void server_qwatch_init(server_qwatch *w, server *s, struct MHD_Connection *c);
int server_query_interrupt(void *arg, silt_err *err);
/* The query deadline for --query-timeout (0: none), from w->start_ns. */
int64_t server_query_deadline(const server_qwatch *w);
/* After a query failed with rc: count and log a timeout or a cancellation. `lang` is "SQL"
 * or "InfluxQL", q the query text (logged truncated). */
void server_query_stopped(server_qwatch *w, int rc, const char *lang, const char *q);

/* server_listen.c */
int server__listen_open(server *s, const struct sockaddr_storage *ss, socklen_t sl,
                        silt_err *err);
int server__listen_start(server *s, silt_err *err);
void server__listen_stop(server *s);
/* server_flight.c: serve Arrow Flight (gRPC over h2c) on fd, a connected blocking socket
 * whose first bytes are the HTTP/2 preface, on a thread of its own. Takes the socket. */
void server__flight_init(server *s);
void server__flight_spawn(server *s, int fd);
/* Shut every Flight connection down and wait for their threads. */
void server__flight_stop(server *s);
/* A DoGet request body (one gRPC message: a Ticket holding InfluxDB 3's JSON ticket), read.
 * Returns 0, or a gRPC status code with a message in msg; free t either way. */
typedef struct flight_ticket {
    json_t *root, *params_keep;
    const char *db; /* NULL when absent (InfluxQL may name it in the statement) */
    const char *q;
    bool iql; /* query_type influxql */
    query_param *params;
    size_t n_params;
} flight_ticket;
int server__flight_ticket(const uint8_t *body, size_t n, flight_ticket *t, char *msg,
                          size_t cap);
void server__flight_ticket_free(flight_ticket *t);

enum MHD_Result server_handle_write(server *s, struct MHD_Connection *c, req *r);
enum MHD_Result server_handle_query(server *s, struct MHD_Connection *c, req *r,
                                    const char *method);
/* server_admin.c: the write gate and the query_source's create/drop hooks; the configure
 * API. */
void server__admin_init(server *s);
void server__admin_fini(server *s);
enum MHD_Result server_handle_configure(server *s, struct MHD_Connection *c, req *r,
                                        const char *method);
enum MHD_Result server_handle_query_v1(server *s, struct MHD_Connection *c, req *r,
                                       const char *method);

#endif
