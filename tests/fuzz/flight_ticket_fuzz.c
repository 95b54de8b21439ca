/* SPDX-License-Identifier: MIT
 *
 * libFuzzer target for the request of an Arrow Flight DoGet (server_flight.c): arbitrary
 * bytes as the gRPC request body — the message frame, the protobuf Ticket and InfluxDB 3's
 * JSON ticket inside it (database, sql_query, query_type, params). Checks the contract: 0
 * with a query text and, for SQL, a database; or a known gRPC status code with a non-empty
 * message; the parsed ticket is freed either way (the sanitizers catch leaks and overreads).
 */
#include "server/server_int.h"

#include <stdio.h>
#include <stdlib.h>

static void check(bool ok, const char *what) {
    if (ok) return;
    fprintf(stderr, "flight_ticket_fuzz: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    flight_ticket t;
    char msg[300];
    msg[0] = 0;
    int code = server__flight_ticket(data, size, &t, msg, sizeof msg);
    if (code == 0) {
        check(t.q && *t.q, "accepted without a query");
        check(t.iql || (t.db && *t.db), "accepted a SQL ticket without a database");
        for (size_t i = 0; i < t.n_params; i++) check(t.params[i].name != NULL, "unnamed param");
    } else {
        check(code == 3 || code == 12, "unexpected status code");
        check(msg[0] != 0 && strnlen(msg, sizeof msg) < sizeof msg, "no message");
    }
    server__flight_ticket_free(&t);
    /* the same bytes as the Ticket itself, framed: the JSON parser gets the input */
    if (size < (1u << 20)) {
        uint8_t *b = malloc(size + 16);
        size_t n = 0, len = size + 2 + (size >= 128) + (size >= 16384) + (size >= 2097152);
        b[n++] = 0;
        b[n++] = (uint8_t)(len >> 24);
        b[n++] = (uint8_t)(len >> 16);
        b[n++] = (uint8_t)(len >> 8);
        b[n++] = (uint8_t)len;
        b[n++] = 0x0a;
        for (size_t v = size;; v >>= 7) {
            b[n++] = (uint8_t)(v >= 0x80 ? (v & 0x7f) | 0x80 : v);
            if (v < 0x80) break;
        }
        memcpy(b + n, data, size);
        n += size;
        code = server__flight_ticket(b, n, &t, msg, sizeof msg);
        check(code == 0 || code == 3, "a framed ticket: unexpected status code");
        server__flight_ticket_free(&t);
        free(b);
    }
    return 0;
}
