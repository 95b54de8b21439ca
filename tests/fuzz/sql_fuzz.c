/* SPDX-License-Identifier: MIT
 *
 * libFuzzer target: arbitrary bytes as one SQL statement through query_sql() against the
 * small in-memory source of the query unit tests (tables cpu and mem, every column type,
 * NULLs, 2-row batches; the system tables, with two files), once per output format and
 * once more with a small max_result_bytes. Besides the sanitizers it checks the contract: a
 * failure returns one of the documented codes with a non-empty UTF-8 message and leaves *out
 * untouched; a success appends well-formed framing and valid UTF-8 (parquet: a file that
 * silt's reader opens). */
#include "parquet/parquet.h"
#include "../unit/query/mem_source.h"

#include <stdio.h>
#include <stdlib.h>

static void check(bool ok, const char *what, const uint8_t *data, size_t size) {
    if (ok) return;
    fprintf(stderr, "sql_fuzz: %s\nquery: %.*s\n", what, (int)size, (const char *)data);
    abort();
}

static void run(mem_source *ms, const uint8_t *data, size_t size, query_format fmt, size_t max) {
    buf out = {0};
    buf_puts(&out, "pre");
    silt_err err = {0};
    /* 8 MiB: a short statement can ask for many rows (date_bin_gapfill with a tiny stride,
     * UNION ALL of a CTE with itself, repeated); the limit, not the input, bounds them, and a
     * small one keeps each run fast and exercises SILT_ELIMIT */
    query_opts opts = {.max_result_bytes = max, .now_ns = T2016, .max_memory_bytes = 8 << 20};
    int rc = query_sql(&ms->src, "db", (const char *)data, size, fmt, &opts, &out, &err);
    if (rc != SILT_OK) {
        check(rc == SILT_EPARSE || rc == SILT_EINVAL || rc == SILT_ENOTFOUND || rc == SILT_ELIMIT,
              "unexpected error code", data, size);
        check(out.len == 3 && memcmp(out.p, "pre", 3) == 0, "partial result left in out", data,
              size);
        size_t n = strnlen(err.msg, sizeof err.msg);
        check(n > 0 && n < sizeof err.msg, "empty or unterminated message", data, size);
        check(utf8_valid((const uint8_t *)err.msg, n, NULL), "message is not UTF-8", data, size);
    } else {
        const uint8_t *p = out.p + 3;
        size_t n = out.len - 3;
        if (fmt != QUERY_FMT_PARQUET)
            check(utf8_valid(p, n, NULL), "result is not UTF-8", data, size);
        check(max == 0 || n <= max, "result larger than max_result_bytes", data, size);
        if (fmt == QUERY_FMT_PARQUET) {
            check(n >= 12 && memcmp(p, "PAR1", 4) == 0 && memcmp(p + n - 4, "PAR1", 4) == 0,
                  "bad Parquet framing", data, size);
            pq_reader *r = NULL;
            silt_err perr = {0};
            check(pq_reader_open(p, n, &r, &perr) == SILT_OK, "result Parquet does not open", data,
                  size);
            pq_reader_close(r);
        } else if (fmt == QUERY_FMT_PRETTY)
            check(n >= 4 && p[0] == '+' && p[n - 1] == '+', "bad pretty framing", data, size);
        else if (fmt == QUERY_FMT_JSON)
            check(n >= 2 && p[0] == '[' && p[n - 1] == ']', "bad JSON framing", data, size);
        else
            check(n == 0 || p[n - 1] == '\n', "line not terminated", data, size);
    }
    buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static mem_source ms;
    static bool ready;
    if (!ready) {
        mem_fixture(&ms, 2);
        mem_file_add(&ms, "db", "cpu", "dbs/1/2/2016-01-01/a.parquet", 900, 6, 1000000000, T2016,
                     T2016, 0);
        mem_file_add(&ms, "db", "mem", "dbs/1/3/1970-01-01/b.parquet", 300, 1, 5, 5, 7, 9);
        ready = true;
    }
    run(&ms, data, size, QUERY_FMT_JSON, 0);
    run(&ms, data, size, QUERY_FMT_JSONL, 0);
    run(&ms, data, size, QUERY_FMT_CSV, 0);
    run(&ms, data, size, QUERY_FMT_PRETTY, 0);
    run(&ms, data, size, QUERY_FMT_PARQUET, 0);
    run(&ms, data, size, QUERY_FMT_JSON, 150);
    return 0;
}
