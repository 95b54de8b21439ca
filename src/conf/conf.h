/* SPDX-License-Identifier: MIT
 *
 * conf: the one settings table (Redis static_configs, PostgreSQL guc_parameters). Each row
 * names a setting, its type, default, bounds, unit, whether it can change live, the field
 * it sets and a line of help. The same table parses command-line flags (--name VALUE or
 * --name=VALUE), SILT_* environment variables (SILT_HTTP_BIND for --http-bind), prints
 * `silt serve --help` and writes docs/config.md. Precedence: default < environment < flag.
 */
#ifndef SILT_CONF_H
#define SILT_CONF_H

#include "../util/util.h"

#include <stdio.h>

#define CONF_MAX_WAL_DIRS 4

typedef struct silt_conf {
    char *http_bind;
    char *data_dir;
    char *wal_dirs[CONF_MAX_WAL_DIRS];
    size_t n_wal_dirs;
    uint64_t max_http_request_size;
    uint64_t wal_segment_size;
    char *log_level;
    uint64_t max_databases;
    uint64_t max_tables_per_database;
    uint64_t max_columns_per_table;
    uint64_t max_query_result_size;
    uint64_t query_timeout_ns; /* 0: none */
    uint64_t http_max_connections;
    /* persistence */
    char *node_id;
    char *catalog;         /* PostgreSQL URL, or empty: <data-dir>/catalog.sqlite */
    char *object_store;    /* file | s3 | memory */
    char *bucket;
    char *aws_endpoint;
    char *aws_default_region;
    char *aws_access_key_id;
    char *aws_secret_access_key;
    bool aws_allow_http;
    bool aws_virtual_hosted;
    uint64_t object_cache_size;
    uint64_t file_cache_size;
    uint64_t query_scan_threads;
    uint64_t buffer_persist_size;
    uint64_t buffer_persist_age_ns;
    uint64_t buffer_max_size;
    bool persist_on_shutdown;
    uint64_t gc_grace_period_ns; /* dropped data's files are kept this long */
    char *parquet_compression; /* zstd | snappy | none */
    uint64_t parquet_row_group_rows;
    uint64_t parquet_page_size;
    uint64_t parquet_page_rows;
    uint64_t parquet_tail_rows;
    uint64_t parquet_zstd_level;
} silt_conf;

typedef enum conf_type {
    CONF_STR,
    CONF_STRLIST, /* repeatable flag; env var comma-separated */
    CONF_UINT,
    CONF_SIZE, /* bytes; accepts suffixes K, KB, KiB, M, MB, MiB, G, GB, GiB (all 1024-based) */
    CONF_ENUM,
    CONF_BOOL,     /* true/false, 1/0, yes/no, on/off */
    CONF_DURATION, /* nanoseconds; accepts ns, us, ms, s, m, h, d suffixes (10m, 1h30m) */
} conf_type;

typedef struct conf_def {
    const char *name; /* flag name without "--" */
    conf_type type;
    const char *dflt; /* as text; NULL = no default (see help) */
    uint64_t min, max;
    const char *unit;
    bool live; /* false = needs a restart (every setting today) */
    size_t offset;
    const char *const *enum_vals; /* CONF_ENUM: NULL-terminated */
    const char *help;
} conf_def;

extern const conf_def conf_table[];
extern const size_t conf_table_len;

/* Fill c with the defaults, then apply SILT_* environment variables. */
int conf_init(silt_conf *c, silt_err *err);
/* Parse flags argv[*i...] until a non-flag; unknown flags are an error. On return *i indexes
 * the first argument not consumed. "--help"/"-h" sets *help. */
int conf_parse_args(silt_conf *c, int argc, char **argv, int *i, bool *help, silt_err *err);
/* Derived values once all sources are applied: wal dirs default to <data-dir>/wal. */
void conf_finish(silt_conf *c);
void conf_fini(silt_conf *c);

int conf_parse_size(const char *s, uint64_t *out);
int conf_parse_duration(const char *s, uint64_t *out_ns);
void conf_print_help(FILE *f);
void conf_print_markdown(FILE *f);

#endif
