/* SPDX-License-Identifier: MIT
 *
 * The settings table and the code that reads it. Adding a setting means adding one row. */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

static const char *const log_levels[] = {"error", "warn", "info", "debug", "trace", NULL};
static const char *const object_stores[] = {"file", "s3", "memory", NULL};
static const char *const codecs[] = {"zstd", "snappy", "none", NULL};

#define F(field) offsetof(silt_conf, field)
const conf_def conf_table[] = {
    {"http-bind", CONF_STR, "127.0.0.1:8181", 0, 0, "host:port", false, F(http_bind), NULL,
     "Address the HTTP API (HTTP/1.1) and Arrow Flight queries (gRPC, HTTP/2) listen on"},
    {"data-dir", CONF_STR, "./silt-data", 0, 0, "path", false, F(data_dir), NULL,
     "Directory for silt's data (WAL, objects, catalog)"},
    {"wal-dir", CONF_STRLIST, NULL, 0, 0, "path", false, F(wal_dirs), NULL,
     "Write-ahead log directory; give it twice to replicate every write to two WALs before "
     "it is acknowledged (default: <data-dir>/wal)"},
    {"max-http-request-size", CONF_SIZE, "10MiB", 1024, 1ull << 30, "bytes", false,
     F(max_http_request_size), NULL,
     "Largest request body accepted (after gzip decoding); larger requests get 413"},
    {"wal-segment-size", CONF_SIZE, "64MiB", 64 * 1024, 4ull << 30, "bytes", false,
     F(wal_segment_size), NULL, "Start a new WAL segment file once one grows past this size"},
    {"log-level", CONF_ENUM, "info", 0, 0, NULL, false, F(log_level), log_levels,
     "Least severe log level written to stderr"},
    {"max-databases", CONF_UINT, "100", 1, 100000, NULL, false, F(max_databases), NULL,
     "Most databases the server holds"},
    {"max-tables-per-database", CONF_UINT, "2000", 1, 1000000, NULL, false,
     F(max_tables_per_database), NULL, "Most tables in one database"},
    {"max-columns-per-table", CONF_UINT, "500", 1, 100000, NULL, false, F(max_columns_per_table),
     NULL, "Most tag and field columns in one table"},
    {"max-query-result-size", CONF_SIZE, "256MiB", 1024, 64ull << 30, "bytes", false,
     F(max_query_result_size), NULL, "Largest query answer; a larger one is an error"},
    {"query-timeout", CONF_DURATION, "0", 0, 7 * 24 * 3600 * NS_PER_S, "duration", false,
     F(query_timeout_ns), NULL,
     "Longest a query may run (0: no limit, as InfluxDB 1.x's default); a slower one fails "
     "with \"query timeout\" (SQL: 400; InfluxQL: \"query-timeout limit exceeded\")"},
    {"http-max-connections", CONF_UINT, "512", 4, 65536, NULL, false, F(http_max_connections), NULL,
     "Most concurrent HTTP connections"},
    {"node-id", CONF_STR, "silt-node-0", 0, 0, "name", false, F(node_id), NULL,
     "This node's id: the catalog records its persisted WAL sequence under it"},
    {"catalog", CONF_STR, "", 0, 0, "url", false, F(catalog), NULL,
     "Catalog: a postgresql://user:pass@host:port/db URL, or empty for SQLite in "
     "<data-dir>/catalog.sqlite"},
    {"object-store", CONF_ENUM, "file", 0, 0, NULL, false, F(object_store), object_stores,
     "Where Parquet files go: file (<data-dir>/objects), s3, or memory (tests only: lost on exit)"},
    {"bucket", CONF_STR, "", 0, 0, "name", false, F(bucket), NULL, "S3 bucket (--object-store s3)"},
    {"aws-endpoint", CONF_STR, "", 0, 0, "url", false, F(aws_endpoint), NULL,
     "S3 endpoint, e.g. http://127.0.0.1:9000 (default: AWS for the region)"},
    {"aws-default-region", CONF_STR, "us-east-1", 0, 0, "region", false, F(aws_default_region),
     NULL, "S3 region used for request signing"},
    {"aws-access-key-id", CONF_STR, "", 0, 0, "key", false, F(aws_access_key_id), NULL,
     "S3 access key id"},
    {"aws-secret-access-key", CONF_STR, "", 0, 0, "secret", false, F(aws_secret_access_key), NULL,
     "S3 secret access key"},
    {"aws-allow-http", CONF_BOOL, "false", 0, 0, NULL, false, F(aws_allow_http), NULL,
     "Allow an http:// (unencrypted) S3 endpoint"},
    {"aws-virtual-hosted-style", CONF_BOOL, "false", 0, 0, NULL, false, F(aws_virtual_hosted), NULL,
     "Address buckets as bucket.host instead of host/bucket"},
    {"object-cache-size", CONF_SIZE, "1GiB", 0, 1ull << 50, "bytes", false, F(object_cache_size),
     NULL, "Bound of the local cache of remote Parquet files in <data-dir>/cache (0: no cache)"},
    {"query-scan-threads", CONF_UINT, "0", 0, 2, NULL, false, F(query_scan_threads), NULL,
     "Threads decoding one file scan: 1, or 2 (the next rows are decoded while the query "
     "works on the current ones); 0: 2 on a machine with two CPUs or more"},
    {"file-cache-size", CONF_SIZE, "256MiB", 0, 1ull << 44, "bytes", false, F(file_cache_size),
     NULL, "Bound of the in-memory cache of checked Parquet files that queries read (0: none)"},
    {"buffer-persist-size", CONF_SIZE, "512MiB", 1ull << 20, 1ull << 40, "bytes", false,
     F(buffer_persist_size), NULL,
     "Persist the in-memory buffer to Parquet once it holds this much"},
    {"buffer-persist-age", CONF_DURATION, "10m", NS_PER_S, 7 * 24 * 3600 * NS_PER_S, "duration",
     false, F(buffer_persist_age_ns), NULL, "Persist the buffer once its oldest write is this old"},
    {"buffer-max-size", CONF_SIZE, "2GiB", 4ull << 20, 1ull << 42, "bytes", false,
     F(buffer_max_size), NULL,
     "High-water mark: above it writes get 503 with Retry-After until persisting catches up"},
    {"persist-on-shutdown", CONF_BOOL, "true", 0, 0, NULL, false, F(persist_on_shutdown), NULL,
     "On SIGTERM/SIGINT persist the whole buffer and empty the WAL before exiting"},
    {"gc-grace-period", CONF_DURATION, "100d", 0, 100ull * 365 * 86400 * NS_PER_S, "duration",
     false, F(gc_grace_period_ns), NULL,
     "Files of dropped databases and tables (and replaced files) stay in the object store this "
     "long before the collector removes them; queries stop seeing them at once"},
    {"parquet-compression", CONF_ENUM, "zstd", 0, 0, NULL, false, F(parquet_compression), codecs,
     "Compression of Parquet pages"},
    {"parquet-zstd-level", CONF_UINT, "3", 1, 19, NULL, false, F(parquet_zstd_level), NULL,
     "zstd level of Parquet pages"},
    {"parquet-row-group-rows", CONF_UINT, "1048576", 1024, 1ull << 30, "rows", false,
     F(parquet_row_group_rows), NULL, "Rows per Parquet row group"},
    {"parquet-page-size", CONF_SIZE, "1MiB", 4096, 1ull << 30, "bytes", false, F(parquet_page_size),
     NULL, "Target uncompressed size of a Parquet data page"},
    {"parquet-page-rows", CONF_UINT, "16384", 0, 1ull << 30, "rows", false, F(parquet_page_rows),
     NULL,
     "Most rows in one Parquet data page (0: no limit); small pages let queries skip by the "
     "page index"},
    {"parquet-tail-rows", CONF_UINT, "512", 0, 1ull << 20, "rows", false, F(parquet_tail_rows),
     NULL,
     "The newest rows of each series (of at least twice as many rows) get Parquet pages of their "
     "own, so last-point and recent-window queries decode only them (0: off)"},
};
#undef F
const size_t conf_table_len = sizeof conf_table / sizeof conf_table[0];

int conf_parse_size(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*s)) return SILT_EINVAL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) return SILT_EINVAL;
    uint64_t mul = 1;
    if (*end) {
        char u = (char)toupper((unsigned char)*end);
        if (u == 'K')
            mul = 1ull << 10;
        else if (u == 'M')
            mul = 1ull << 20;
        else if (u == 'G')
            mul = 1ull << 30;
        else if (u == 'T')
            mul = 1ull << 40;
        else if (u == 'B' && end[1] == 0)
            mul = 1;
        else
            return SILT_EINVAL;
        const char *rest = end + 1;
        if (u != 'B' && *rest) {
            if (!strcmp(rest, "B") || !strcmp(rest, "b") || !strcmp(rest, "iB") ||
                !strcmp(rest, "ib"))
                ;
            else
                return SILT_EINVAL;
        }
    }
    if (mul > 1 && v > UINT64_MAX / mul) return SILT_EINVAL;
    *out = v * mul;
    return SILT_OK;
}

int conf_parse_duration(const char *s, uint64_t *out_ns) {
    uint64_t total = 0;
    const char *p = s;
    if (!*p) return SILT_EINVAL;
    while (*p) {
        if (!isdigit((unsigned char)*p)) return SILT_EINVAL;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno) return SILT_EINVAL;
        uint64_t mul;
        if (!strncmp(end, "ns", 2))
            mul = 1, end += 2;
        else if (!strncmp(end, "us", 2))
            mul = 1000, end += 2;
        else if (!strncmp(end, "ms", 2))
            mul = 1000000, end += 2;
        else if (*end == 's')
            mul = NS_PER_S, end++;
        else if (*end == 'm')
            mul = 60 * NS_PER_S, end++;
        else if (*end == 'h')
            mul = 3600 * NS_PER_S, end++;
        else if (*end == 'd')
            mul = 86400 * NS_PER_S, end++;
        else if (!*end && p == s)
            mul = NS_PER_S; /* a bare number: seconds */
        else
            return SILT_EINVAL;
        if (v > UINT64_MAX / mul || total > UINT64_MAX - v * mul) return SILT_EINVAL;
        total += v * mul;
        p = end;
    }
    *out_ns = total;
    return SILT_OK;
}

static void *field(silt_conf *c, const conf_def *d) {
    return (char *)c + d->offset;
}

/* Set one setting from text. `append` for repeated list flags. */
static int conf_set(silt_conf *c, const conf_def *d, const char *val, bool append,
                    const char *source, silt_err *err) {
    void *f = field(c, d);
    switch (d->type) {
        case CONF_STR: {
            char **p = f;
            free(*p);
            *p = xstrdup(val);
            return SILT_OK;
        }
        case CONF_STRLIST: {
            if (!append) {
                for (size_t i = 0; i < c->n_wal_dirs; i++) free(c->wal_dirs[i]);
                c->n_wal_dirs = 0;
            }
            /* comma-separated in environment variables */
            const char *p = val;
            while (*p) {
                const char *e = append ? p + strlen(p) : strchr(p, ',');
                if (!e) e = p + strlen(p);
                if (e > p) {
                    if (c->n_wal_dirs >= CONF_MAX_WAL_DIRS)
                        return SILT_FAIL(err, SILT_EINVAL, "%s: --%s given more than %d times",
                                         source, d->name, CONF_MAX_WAL_DIRS);
                    c->wal_dirs[c->n_wal_dirs++] = xstrndup(p, (size_t)(e - p));
                }
                p = *e ? e + 1 : e;
            }
            return SILT_OK;
        }
        case CONF_BOOL: {
            str_view v = sv_from(val);
            bool b;
            if (sv_ieq_cstr(v, "true") || sv_ieq_cstr(v, "1") || sv_ieq_cstr(v, "yes") ||
                sv_ieq_cstr(v, "on"))
                b = true;
            else if (sv_ieq_cstr(v, "false") || sv_ieq_cstr(v, "0") || sv_ieq_cstr(v, "no") ||
                     sv_ieq_cstr(v, "off"))
                b = false;
            else
                return SILT_FAIL(err, SILT_EINVAL, "%s: --%s: '%s' is not true or false", source,
                                 d->name, val);
            *(bool *)f = b;
            return SILT_OK;
        }
        case CONF_UINT:
        case CONF_SIZE:
        case CONF_DURATION: {
            uint64_t v;
            char *end;
            if (d->type == CONF_DURATION) {
                if (conf_parse_duration(val, &v))
                    return SILT_FAIL(err, SILT_EINVAL,
                                     "%s: --%s: '%s' is not a duration (e.g. "
                                     "10m, 1h30m, 45s)",
                                     source, d->name, val);
            } else if (d->type == CONF_SIZE) {
                if (conf_parse_size(val, &v))
                    return SILT_FAIL(err, SILT_EINVAL, "%s: --%s: '%s' is not a size (e.g. 10MiB)",
                                     source, d->name, val);
            } else {
                errno = 0;
                v = strtoull(val, &end, 10);
                if (errno || !isdigit((unsigned char)*val) || *end)
                    return SILT_FAIL(err, SILT_EINVAL, "%s: --%s: '%s' is not a whole number",
                                     source, d->name, val);
            }
            if (v < d->min || v > d->max)
                return SILT_FAIL(err, SILT_EINVAL, "%s: --%s: %s is outside [%llu, %llu]", source,
                                 d->name, val, (unsigned long long)d->min,
                                 (unsigned long long)d->max);
            *(uint64_t *)f = v;
            return SILT_OK;
        }
        case CONF_ENUM: {
            for (const char *const *e = d->enum_vals; *e; e++)
                if (sv_ieq_cstr(sv_from(val), *e)) {
                    char **p = f;
                    free(*p);
                    *p = xstrdup(*e);
                    return SILT_OK;
                }
            return SILT_FAIL(err, SILT_EINVAL, "%s: --%s: '%s' is not one of the allowed values",
                             source, d->name, val);
        }
    }
    return SILT_EINVAL;
}

int conf_init(silt_conf *c, silt_err *err) {
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < conf_table_len; i++) {
        const conf_def *d = &conf_table[i];
        if (d->dflt) {
            int rc = conf_set(c, d, d->dflt, false, "default", err);
            if (rc) return rc;
        }
    }
    for (size_t i = 0; i < conf_table_len; i++) {
        const conf_def *d = &conf_table[i];
        char env[128] = "SILT_";
        size_t k = 5;
        for (const char *p = d->name; *p && k < sizeof env - 1; p++)
            env[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
        env[k] = 0;
        const char *v = getenv(env);
        if (v && *v) {
            int rc = conf_set(c, d, v, false, env, err);
            if (rc) return rc;
        }
    }
    return SILT_OK;
}

int conf_parse_args(silt_conf *c, int argc, char **argv, int *i, bool *help, silt_err *err) {
    bool list_seen[sizeof conf_table / sizeof conf_table[0]] = {false};
    while (*i < argc) {
        const char *a = argv[*i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            *help = true;
            (*i)++;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) break;
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const conf_def *d = NULL;
        size_t di = 0;
        for (; di < conf_table_len; di++)
            if (strlen(conf_table[di].name) == nlen && !strncmp(conf_table[di].name, name, nlen)) {
                d = &conf_table[di];
                break;
            }
        if (!d) return SILT_FAIL(err, SILT_EINVAL, "unknown option '%s' (see --help)", a);
        const char *val;
        if (eq) {
            val = eq + 1;
            (*i)++;
        } else if (d->type == CONF_BOOL) {
            /* a boolean flag may stand alone (--aws-allow-http) or take true/false */
            const char *nx = *i + 1 < argc ? argv[*i + 1] : NULL;
            bool takes =
                nx && (sv_ieq_cstr(sv_from(nx), "true") || sv_ieq_cstr(sv_from(nx), "false") ||
                       !strcmp(nx, "1") || !strcmp(nx, "0") || sv_ieq_cstr(sv_from(nx), "yes") ||
                       sv_ieq_cstr(sv_from(nx), "no") || sv_ieq_cstr(sv_from(nx), "on") ||
                       sv_ieq_cstr(sv_from(nx), "off"));
            val = takes ? nx : "true";
            *i += takes ? 2 : 1;
        } else {
            if (*i + 1 >= argc) return SILT_FAIL(err, SILT_EINVAL, "option '%s' needs a value", a);
            val = argv[*i + 1];
            *i += 2;
        }
        if (d->type == CONF_STRLIST && !list_seen[di]) {
            /* the first occurrence on the command line replaces the environment's list */
            for (size_t k = 0; k < c->n_wal_dirs; k++) free(c->wal_dirs[k]);
            c->n_wal_dirs = 0;
        }
        list_seen[di] = true;
        int rc = conf_set(c, d, val, true, "command line", err);
        if (rc) return rc;
    }
    return SILT_OK;
}

void conf_finish(silt_conf *c) {
    if (c->n_wal_dirs == 0) {
        size_t n = strlen(c->data_dir) + 8;
        c->wal_dirs[0] = xmalloc(n);
        snprintf(c->wal_dirs[0], n, "%s/wal", c->data_dir);
        c->n_wal_dirs = 1;
    }
}

void conf_fini(silt_conf *c) {
    for (size_t i = 0; i < conf_table_len; i++) {
        const conf_def *d = &conf_table[i];
        if (d->type == CONF_STR || d->type == CONF_ENUM) free(*(char **)field(c, d));
    }
    for (size_t i = 0; i < c->n_wal_dirs; i++) free(c->wal_dirs[i]);
    memset(c, 0, sizeof *c);
}

static void env_name(const conf_def *d, char *out, size_t n) {
    size_t k = (size_t)snprintf(out, n, "SILT_");
    for (const char *p = d->name; *p && k < n - 1; p++)
        out[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    out[k] = 0;
}

void conf_print_help(FILE *f) {
    fprintf(f, "Options (each also settable as an environment variable):\n");
    for (size_t i = 0; i < conf_table_len; i++) {
        const conf_def *d = &conf_table[i];
        char env[128], left[96];
        env_name(d, env, sizeof env);
        snprintf(left, sizeof left, "--%s %s", d->name,
                 d->type == CONF_ENUM   ? "VALUE"
                 : d->type == CONF_BOOL ? "[true|false]"
                 : d->unit              ? d->unit
                                        : "N");
        fprintf(f, "  %-36s %s\n", left, d->help);
        fprintf(f, "  %-36s [env %s", "", env);
        if (d->dflt) fprintf(f, ", default %s", d->dflt);
        if (d->type == CONF_ENUM) {
            fprintf(f, ", one of");
            for (const char *const *e = d->enum_vals; *e; e++) fprintf(f, " %s", *e);
        }
        fprintf(f, "]\n");
    }
}

void conf_print_markdown(FILE *f) {
    fprintf(f, "# silt configuration\n\n"
               "Generated by `silt config-doc` from the settings table (`src/conf/conf_table.c`).\n"
               "Every setting is a flag of `silt serve` and an environment variable; a flag wins "
               "over the environment, which wins over the default. Sizes accept K, M, G "
               "suffixes (1024-based, `KiB`/`KB`/`K` alike).\n\n"
               "| flag | environment | default | range | restart | description |\n"
               "|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < conf_table_len; i++) {
        const conf_def *d = &conf_table[i];
        char env[128], range[96] = "";
        env_name(d, env, sizeof env);
        if (d->type == CONF_UINT || d->type == CONF_SIZE)
            snprintf(range, sizeof range, "%llu – %llu%s%s", (unsigned long long)d->min,
                     (unsigned long long)d->max, d->unit ? " " : "", d->unit ? d->unit : "");
        if (d->type == CONF_ENUM) {
            size_t k = 0;
            for (const char *const *e = d->enum_vals; *e; e++)
                k += (size_t)snprintf(range + k, sizeof range - k, "%s%s", k ? ", " : "", *e);
        }
        fprintf(f, "| `--%s` | `%s` | %s | %s | %s | %s |\n", d->name, env,
                d->dflt ? d->dflt : "see description", range, d->live ? "no" : "yes", d->help);
    }
}
