/* SPDX-License-Identifier: MIT
 *
 * server: the HTTP API on libmicrohttpd (one thread per connection, so a request may block
 * on the WAL's group commit without holding up others).
 *   POST /api/v3/write_lp  POST /api/v2/write  POST /write          line protocol writes
 *   GET|POST /api/v3/query_sql                                      SQL queries
 *   GET|POST /query                                                 InfluxQL (v1)
 *   POST|GET|DELETE /api/v3/configure/database                      create, list, drop
 *   DELETE /api/v3/configure/table                                  drop a table
 *     (and InfluxQL CREATE/DROP DATABASE, DROP MEASUREMENT: server_admin.c)
 *   GET|HEAD /ping  GET /health  GET /metrics                       operations
 * and, on the same port, HTTP/2 (h2c) gRPC: Arrow Flight DoGet, how InfluxDB 3's client
 * libraries query (server_flight.c; server_listen.c tells the two protocols apart).
 * Only this module maps silt error codes to HTTP statuses (server_status_for()).
 */
#ifndef SILT_SERVER_H
#define SILT_SERVER_H

#include "../buffer/buffer.h"
#include "../conf/conf.h"
#include "../jobs/jobs.h"
#include "../schema/schema.h"
#include "../store/store.h"
#include "../wal/wal.h"

#define SILT_VERSION "0.1.0"
/* What /ping and every response announce in X-Influxdb-Version: the InfluxDB API generation
 * silt speaks, with silt's own version as build metadata. */
#define SILT_INFLUX_VERSION "3.0.0-silt." SILT_VERSION

typedef struct server_deps {
    const silt_conf *conf;
    schema *schema;
    buffer *buffer;
    wal *wal;
    store *store; /* NULL: queries read the buffer only (tests) */
    jobs *jobs;   /* NULL: nothing to wake when the buffer is full */
} server_deps;

typedef struct server server;

/* Bind and start serving. Borrows deps until server_stop(). Returns SILT_OK, SILT_EINVAL (bad
 * --http-bind) or SILT_EIO (cannot listen). */
int server_start(const server_deps *deps, server **out, silt_err *err);
/* The bound port (useful with port 0). */
unsigned server_port(const server *s);
/* Graceful shutdown, step 1: new writes are answered 503; waits until writes in flight are
 * answered. Queries keep working. */
void server_drain_writes(server *s);
/* Step 2: close the listener and every connection, free the server. */
void server_stop(server *s);

int server_status_for(int silt_code);

#endif
