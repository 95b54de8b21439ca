/* SPDX-License-Identifier: MIT
 *
 * Opening the catalog and the object store from the settings, shared by `silt serve` and
 * `silt verify`. */
#include "cli_int.h"

#include <stdio.h>
#include <stdlib.h>

int cli_open_catalog(const silt_conf *c, catalog **out, silt_err *err) {
    char path[4096];
    const char *target = c->catalog;
    if (!target || !*target) {
        snprintf(path, sizeof path, "%s/catalog.sqlite", c->data_dir);
        target = path;
    }
    catalog_opts co = {.node_id = c->node_id};
    return catalog_open(target, &co, out, err);
}

int cli_open_objects(const silt_conf *c, objstore **out, silt_err *err) {
    char path[4096];
    if (!strcmp(c->object_store, "memory")) {
        *out = objstore_mem_create();
        return SILT_OK;
    }
    if (!strcmp(c->object_store, "file")) {
        snprintf(path, sizeof path, "%s/objects", c->data_dir);
        return objstore_file_open(path, out, err);
    }
    if (!*c->bucket)
        return SILT_FAIL(err, SILT_EINVAL, "--object-store s3 needs --bucket");
    objstore_s3_opts so = {
        .endpoint = *c->aws_endpoint ? c->aws_endpoint : NULL,
        .bucket = c->bucket,
        .region = c->aws_default_region,
        .access_key_id = c->aws_access_key_id,
        .secret_access_key = c->aws_secret_access_key,
        .allow_http = c->aws_allow_http,
        .virtual_hosted = c->aws_virtual_hosted,
    };
    objstore *s3;
    int rc = objstore_s3_open(&so, &s3, err);
    if (rc) return rc;
    if (!c->object_cache_size) {
        *out = s3;
        return SILT_OK;
    }
    snprintf(path, sizeof path, "%s/cache", c->data_dir);
    if ((rc = objstore_cache_open(s3, path, c->object_cache_size, out, err))) objstore_destroy(s3);
    return rc;
}

pq_writer_opts cli_parquet_opts(const silt_conf *c) {
    pq_writer_opts po = {0};
    po.codec = !strcmp(c->parquet_compression, "snappy") ? PQ_SNAPPY
               : !strcmp(c->parquet_compression, "none") ? PQ_UNCOMPRESSED
                                                         : PQ_ZSTD;
    po.zstd_level = (int)c->parquet_zstd_level;
    po.row_group_rows = c->parquet_row_group_rows;
    po.page_bytes = c->parquet_page_size;
    po.page_rows = c->parquet_page_rows;
    po.tail_rows = c->parquet_tail_rows;
    return po;
}
