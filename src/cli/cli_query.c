/* SPDX-License-Identifier: MIT
 *
 * `silt query`: run one SQL statement through /api/v3/query_sql, or with --language influxql
 * one InfluxQL statement through /api/v3/query_influxql (as `influxdb3 query --language`
 * chooses), and print the answer. */
#include "cli.h"

#include "cli_http.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

int cli_query(int argc, char **argv) {
    const char *db = NULL, *fmt = "json", *host = getenv("SILT_HOST"), *sql = NULL, *output = NULL,
               *lang = "sql";
    if (!host) host = "http://127.0.0.1:8181";
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--db") && next) db = argv[++i];
        else if (!strcmp(a, "--format") && next) fmt = argv[++i];
        else if (!strcmp(a, "--host") && next) host = argv[++i];
        else if ((!strcmp(a, "--language") || !strcmp(a, "-l")) && next)
            lang = argv[++i];
        else if ((!strcmp(a, "--output") || !strcmp(a, "-o")) && next) output = argv[++i];
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("Usage: silt query --db NAME [--format json|jsonl|csv|pretty|parquet|arrow]\n"
                   "                  [--language sql|influxql] [--output FILE] [--host URL]\n"
                   "                  \"QUERY\"\n"
                   "The answer goes to stdout, or to FILE with --output; parquet and arrow (an\n"
                   "Arrow IPC stream, a silt extension), binary formats, need --output unless\n"
                   "stdout is redirected. --language influxql runs one InfluxQL statement\n"
                   "(/api/v3/query_influxql); --db may then be left out when the statement\n"
                   "names its database.\n");
            return 0;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "silt query: unknown or incomplete option '%s'\n", a);
            return 2;
        } else if (!sql) sql = a;
        else {
            fprintf(stderr, "silt query: give the SQL as one argument (quote it)\n");
            return 2;
        }
    }
    bool iql = !strcasecmp(lang, "influxql");
    if (!iql && strcasecmp(lang, "sql")) {
        fprintf(stderr, "silt query: --language must be sql or influxql\n");
        return 2;
    }
    if ((!db && !iql) || !sql) {
        fprintf(stderr, "silt query: --db and a %s statement are required\n",
                iql ? "InfluxQL" : "SQL");
        return 2;
    }
    bool binary = !strcasecmp(fmt, "parquet") || !strcasecmp(fmt, "arrow");
    if (binary && !output && isatty(STDOUT_FILENO)) {
        fprintf(stderr,
                "silt query: --format %s writes a binary file: give --output FILE "
                "or redirect stdout\n",
                fmt);
        return 2;
    }
    json_t *req = json_pack("{s:s, s:s}", "q", sql, "format", fmt);
    if (db) json_object_set_new(req, "db", json_string(db));
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    buf url = {0}, resp = {0};
    buf_printf(&url, "%s/api/v3/%s", host, iql ? "query_influxql" : "query_sql");
    char err[256];
    long status = cli_http(buf_cstr(&url), "application/json", body, strlen(body), &resp, err,
                           sizeof err);
    free(body);
    int rc = 0;
    if (status < 0) {
        fprintf(stderr, "silt query: %s\n", err);
        rc = 1;
    } else if (status != 200) {
        json_error_t je;
        json_t *root = json_loadb((const char *)resp.p, resp.len, 0, &je);
        const char *msg = root ? json_string_value(json_object_get(root, "error")) : NULL;
        fprintf(stderr, "silt query: HTTP %ld: %s\n", status, msg ? msg : buf_cstr(&resp));
        json_decref(root);
        rc = 1;
    } else if (output) {
        FILE *fp = fopen(output, "wb");
        bool ok = fp && fwrite(resp.p, 1, resp.len, fp) == resp.len;
        int saved = errno;
        if (fp && fclose(fp) != 0 && ok) ok = false, saved = errno;
        if (!ok) {
            fprintf(stderr, "silt query: writing %s: %s\n", output, strerror(saved));
            rc = 1;
        }
    } else {
        fwrite(resp.p, 1, resp.len, stdout);
        if (!binary && resp.len && resp.p[resp.len - 1] != '\n') putchar('\n');
    }
    buf_free(&url);
    buf_free(&resp);
    return rc;
}
