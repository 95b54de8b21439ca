/* SPDX-License-Identifier: MIT
 *
 * libFuzzer target: arbitrary bytes as an InfluxQL query through influxql_parse(). Besides
 * the sanitizers (and the nesting bound: no input may overflow the stack) it checks the
 * contract: a failure is SILT_EPARSE with a non-empty UTF-8 message ending in "at line L,
 * char C" and no statements; a success prints canonical text that parses again and prints
 * exactly the same (parse -> print -> parse is a fixed point). Any mismatch aborts. */
#include "query/influxql.h"

#include <stdio.h>
#include <stdlib.h>

static void check(bool ok, const char *what, const uint8_t *data, size_t size, const buf *b) {
    if (ok) return;
    fprintf(stderr, "influxql_fuzz: %s\nquery:   %.*s\n", what, (int)size, (const char *)data);
    if (b) fprintf(stderr, "printed: %.*s\n", (int)b->len, (const char *)b->p);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    arena a;
    arena_init(&a, 0);
    iql_query q;
    silt_err err = {0};
    int rc = influxql_parse((const char *)data, size, &a, &q, &err);
    if (rc != SILT_OK) {
        check(rc == SILT_EPARSE || (rc == SILT_ELIMIT && size > IQL_MAX_QUERY_BYTES),
              "unexpected error code", data, size, NULL);
        check(q.n_stmts == 0 && q.stmts == NULL, "statements left after an error", data, size,
              NULL);
        size_t n = strnlen(err.msg, sizeof err.msg);
        check(n > 0 && n < sizeof err.msg, "empty or unterminated message", data, size, NULL);
        check(utf8_valid((const uint8_t *)err.msg, n, NULL), "message is not UTF-8", data, size,
              NULL);
        check(rc != SILT_EPARSE || strstr(err.msg, " at line ") != NULL,
              "message without a position", data, size, NULL);
        arena_fini(&a);
        return 0;
    }
    buf once = {0};
    influxql_print_query(&q, &once);
    check(utf8_valid(once.p, once.len, NULL), "printed text is not UTF-8", data, size, &once);
    if (once.len <= IQL_MAX_QUERY_BYTES) {
        arena a2;
        arena_init(&a2, 0);
        iql_query q2;
        silt_err err2 = {0};
        rc = influxql_parse((const char *)once.p, once.len, &a2, &q2, &err2);
        if (rc != SILT_OK) {
            fprintf(stderr, "re-parse: %s\n", err2.msg);
            check(false, "printed text does not parse", data, size, &once);
        }
        check(q2.n_stmts == q.n_stmts, "statement count changed", data, size, &once);
        buf twice = {0};
        influxql_print_query(&q2, &twice);
        if (twice.len != once.len || (once.len && memcmp(once.p, twice.p, once.len) != 0)) {
            fprintf(stderr, "twice:   %.*s\n", (int)twice.len, (const char *)twice.p);
            check(false, "printed text is not a fixed point", data, size, &once);
        }
        buf_free(&twice);
        arena_fini(&a2);
    }
    buf_free(&once);
    arena_fini(&a);
    return 0;
}
