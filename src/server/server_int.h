/* SPDX-License-Identifier: MIT
 *
 * server internals: the per-request context and helpers shared by the route files. */
#ifndef SILT_SERVER_INT_H
#define SILT_SERVER_INT_H

#include "server.h"

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
    ROUTE_QUERY_V1,
} route;

struct server {
    server_deps d;
    struct MHD_Daemon *mhd;
    unsigned port;
    query_source src;
    _Atomic bool draining;
    _Atomic int writes_in_flight;
    /* counters for /metrics */
    _Atomic uint64_t n_requests, n_writes, n_write_lines, n_write_rejected, n_queries,
        n_errors_5xx, n_errors_4xx;
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
/* Parse a boolean query parameter: true/false/1/0/yes/no; absent -> dflt. -1 if invalid. */
int server_arg_bool(struct MHD_Connection *c, const char *name, bool dflt);

enum MHD_Result server_handle_write(server *s, struct MHD_Connection *c, req *r);
enum MHD_Result server_handle_query(server *s, struct MHD_Connection *c, req *r,
                                    const char *method);
enum MHD_Result server_handle_query_v1(server *s, struct MHD_Connection *c, req *r,
                                       const char *method);

#endif
