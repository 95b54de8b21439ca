/* SPDX-License-Identifier: MIT
 *
 * `silt serve`: open the catalog and the object store, load the schema, replay the WAL above
 * the catalog's watermark into the buffer, start the persister and the HTTP server. On
 * SIGTERM/SIGINT shut down gracefully: refuse new writes (503), answer those in flight,
 * persist the whole buffer to Parquet and commit it, leave the WAL empty, exit 0.
 * `silt verify` and `silt inspect` live here too (they open the same storage). */
#include "cli_int.h"

#include "../buffer/buffer.h"
#include "../jobs/jobs.h"
#include "../schema/schema.h"
#include "../server/server.h"
#include "../store/store.h"
#include "../util/vfs.h"
#include "../wal/wal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

static int apply_record(void *arg, uint64_t seq, const uint8_t *payload, size_t len) {
    silt_err err = {0};
    int rc = buffer_apply(arg, seq, payload, len, &err);
    if (rc) log_error("serve", "record %" PRIu64 ": %s", seq, err.msg);
    return rc;
}

/* One server per data directory: an flock on <data-dir>/LOCK, held for the process's life. */
static int lock_data_dir(const char *dir, silt_err *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/LOCK", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return silt_err_sys(err, errno, "open %s", path);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return SILT_FAIL(err, SILT_EBUSY,
                             "data directory %s is in use by another silt "
                             "process",
                             dir);
        return silt_err_sys(err, e, "lock %s", path);
    }
    return SILT_OK; /* fd intentionally kept open */
}

int cli_conf(const char *cmd, const char *usage, int argc, char **argv, silt_conf *c) {
    silt_err err = {0};
    bool help = false;
    int i = 0, rc;
    if ((rc = conf_init(c, &err)) || (rc = conf_parse_args(c, argc, argv, &i, &help, &err))) {
        fprintf(stderr, "silt %s: %s\n", cmd, err.msg);
        return 2;
    }
    if (help) {
        printf("%s\n", usage);
        conf_print_help(stdout);
        return 0;
    }
    if (i < argc) {
        fprintf(stderr, "silt %s: unexpected argument '%s'\n", cmd, argv[i]);
        return 2;
    }
    conf_finish(c);
    log_level lvl;
    log_level_parse(c->log_level, &lvl);
    log_set_level(lvl);
    return -1;
}

int cli_serve(int argc, char **argv) {
    silt_conf conf;
    int code =
        cli_conf("serve",
                 "Usage: silt serve [options]\n\nRuns the silt server: HTTP API, write-ahead "
                 "log, in-memory buffer, persistence to Parquet.\n",
                 argc, argv, &conf);
    if (code >= 0) {
        conf_fini(&conf);
        return code;
    }
    /* signals are taken by sigwait() in this thread; every thread started below inherits
     * the blocked mask */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Queries allocate column vectors of a few MiB per scan and free them at the end. With
     * glibc's defaults those come from fresh mmap()s, so every query pays a page fault per
     * 4 KiB it touches (measured: 40 % of a full-scan query's time on a VM, where faults are
     * dear); served from the heap and kept there, they are reused. The cost is that memory
     * freed after a large query stays mapped (still reused by the next one). */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);

    silt_err err = {0};
    schema *sch = NULL;
    buffer *mem = NULL;
    wal *w = NULL;
    server *srv = NULL;
    catalog *cat = NULL;
    objstore *obj = NULL;
    store *st = NULL;
    jobs *jb = NULL;
    int exit_code = 1, rc;
    vfs *v = vfs_posix();
    if ((rc = v->mkdirs(v, conf.data_dir, &err)) || (rc = lock_data_dir(conf.data_dir, &err))) {
        log_error("serve", "%s", err.msg);
        goto out;
    }
    if ((rc = cli_open_catalog(&conf, &cat, &err))) {
        log_error("serve", "cannot open the catalog: %s", err.msg);
        goto out;
    }
    if ((rc = cli_open_objects(&conf, &obj, &err))) {
        log_error("serve", "cannot open the object store: %s", err.msg);
        goto out;
    }
    schema_limits lim = {(uint32_t)conf.max_databases, (uint32_t)conf.max_tables_per_database,
                         (uint32_t)conf.max_columns_per_table};
    sch = schema_create(&lim);
    uint64_t watermark = 0;
    if ((rc = store_load_schema(cat, sch, &err)) ||
        (rc = catalog_get_watermark(cat, conf.node_id, &watermark, &err))) {
        log_error("serve", "cannot read the catalog: %s", err.msg);
        goto out;
    }
    mem = buffer_create(sch);
    wal_opts wo = {.n_dirs = conf.n_wal_dirs,
                   .segment_bytes = conf.wal_segment_size,
                   .apply = apply_record,
                   .apply_arg = mem,
                   .persisted_seq = watermark,
                   .min_next_seq = watermark + 1};
    for (size_t d = 0; d < conf.n_wal_dirs; d++) wo.dirs[d] = conf.wal_dirs[d];
    wal_replay_stats rs;
    if ((rc = wal_open(&wo, &w, &rs, &err))) {
        log_error("serve", "cannot open the write-ahead log: %s", err.msg);
        goto out;
    }
    {
        buffer_stats bs;
        buffer_get_stats(mem, &bs);
        double secs = (double)rs.elapsed_ns / 1e9;
        log_info("serve",
                 "WAL replay: %" PRIu64 " records (%.1f MB) from %" PRIu64
                 " segments in %.3f s (%.0f MB/s, %.0f rows/s); %" PRIu64 " rows in memory, "
                 "%" PRIu64 " segment(s) truncated, %" PRIu64 " replica(s) repaired; %" PRIu64
                 " record(s) already persisted (catalog watermark %" PRIu64 "), %" PRIu64
                 " segment(s) removed",
                 rs.records, (double)rs.bytes / 1e6, rs.segments, secs,
                 secs > 0 ? (double)rs.bytes / 1e6 / secs : 0.0,
                 secs > 0 ? (double)bs.rows / secs : 0.0, bs.rows, rs.truncated_segments,
                 rs.repaired_copies, rs.skipped_persisted, watermark, rs.removed_segments);
    }
    store_opts so = {.schema = sch,
                     .buffer = mem,
                     .catalog = cat,
                     .objects = obj,
                     .node_id = conf.node_id,
                     .parquet = cli_parquet_opts(&conf),
                     .file_cache_bytes = conf.file_cache_size,
                     .scan_threads = (unsigned)conf.query_scan_threads};
    if ((rc = store_open(&so, &st, &err))) {
        log_error("serve", "%s", err.msg);
        goto out;
    }
    jobs_opts jo = {st, mem, w, conf.buffer_persist_size, conf.buffer_persist_age_ns};
    if ((rc = jobs_start(&jo, &jb, &err))) {
        log_error("serve", "%s", err.msg);
        goto out;
    }
    server_deps deps = {&conf, sch, mem, w, st, jb};
    if ((rc = server_start(&deps, &srv, &err))) {
        log_error("serve", "%s", err.msg);
        goto out;
    }
    {
        char dirs[1024] = "";
        size_t k = 0;
        for (size_t d = 0; d < conf.n_wal_dirs; d++)
            k += (size_t)snprintf(dirs + k, sizeof dirs - k, "%s%s", d ? ", " : "",
                                  conf.wal_dirs[d]);
        log_info("serve",
                 "silt %s listening on %s (port %u); data %s; WAL in %s; catalog %s; "
                 "object store %s; node %s",
                 SILT_VERSION, conf.http_bind, server_port(srv), conf.data_dir, dirs,
                 catalog_backend(cat), obj->kind, conf.node_id);
    }
    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("serve", "received %s: shutting down (new writes get 503)",
             sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server_drain_writes(srv);
    server_stop(srv); /* joins every connection thread: no request uses the WAL after this */
    srv = NULL;
    jobs_stop(jb); /* a persist in progress finishes first */
    jb = NULL;
    exit_code = 0;
    if (conf.persist_on_shutdown) {
        persist_stats ps = {0};
        uint64_t last = wal_last_seq(w);
        if ((rc = jobs_persist_all(st, mem, w, last, &ps, &err))) {
            log_error("serve",
                      "persisting the buffer at shutdown failed: %s; the data is safe in "
                      "the WAL and will be replayed on the next start",
                      err.msg);
            exit_code = 1;
        } else {
            log_info("serve",
                     "shutdown: persisted %" PRIu64 " rows to %" PRIu64 " Parquet "
                     "file(s) (%.1f MB); WAL persisted through seq %" PRIu64 ", %zu segment(s) "
                     "left",
                     ps.rows, ps.files, (double)ps.bytes / 1e6, ps.persisted_seq,
                     wal_segment_count(w));
        }
    } else {
        buffer_stats bs;
        buffer_get_stats(mem, &bs);
        log_info("serve",
                 "%" PRIu64 " rows in memory stay in the WAL (--persist-on-shutdown "
                 "false) and will be replayed on the next start",
                 bs.rows);
    }
out:
    server_stop(srv);
    jobs_stop(jb);
    wal_close(w); /* stops the writer after the queue is empty */
    store_close(st);
    buffer_destroy(mem);
    schema_destroy(sch);
    objstore_destroy(obj);
    catalog_close(cat);
    conf_fini(&conf);
    if (exit_code == 0) log_info("serve", "stopped");
    return exit_code;
}

int cli_verify(int argc, char **argv) {
    silt_conf conf;
    int code =
        cli_conf("verify",
                 "Usage: silt verify [options]\n\nChecks every Parquet file in the catalog "
                 "against the object store (exists, size, checksum) and lists objects the "
                 "catalog does not know (orphans, e.g. from a crash between put and commit). "
                 "Takes the storage options of `silt serve`. Exit 0: all files verified and "
                 "no orphan; 1: findings; 2: could not check.\n",
                 argc, argv, &conf);
    if (code >= 0) {
        conf_fini(&conf);
        return code;
    }
    silt_err err = {0};
    catalog *cat = NULL;
    objstore *obj = NULL;
    int rc = cli_open_catalog(&conf, &cat, &err);
    /* verify checks the store itself, never the local copies in <data-dir>/cache (a file
     * damaged in the bucket after a server cached it must be reported) */
    conf.object_cache_size = 0;
    if (!rc) rc = cli_open_objects(&conf, &obj, &err);
    buf out = {0};
    store_verify_report rep = {0};
    if (!rc) rc = store_verify(cat, obj, &out, &rep, &err);
    if (rc) {
        fprintf(stderr, "silt verify: %s\n", err.msg);
        code = 2;
    } else {
        if (out.len) fwrite(out.p, 1, out.len, stdout);
        printf("%zu file(s) in the catalog: %zu verified, %zu missing, %zu with a wrong size, %zu "
               "with a wrong checksum; %zu orphan object(s)\n",
               rep.files, rep.ok, rep.missing, rep.size_mismatch, rep.checksum_mismatch,
               rep.orphans);
        code = rep.ok == rep.files && !rep.orphans ? 0 : 1;
    }
    buf_free(&out);
    objstore_destroy(obj);
    catalog_close(cat);
    conf_fini(&conf);
    return code;
}

int cli_inspect(int argc, char **argv) {
    if (argc != 1 || argv[0][0] == '-') {
        fprintf(argc == 1 ? stdout : stderr,
                "Usage: silt inspect FILE.parquet\n\nPrints a Parquet file's schema, row groups, "
                "encodings, compression and statistics.\n");
        return argc == 1 ? 0 : 2;
    }
    buf data = {0}, out = {0};
    silt_err err = {0};
    int rc = vfs_read_all(vfs_posix(), argv[0], (size_t)1 << 40, &data, &err);
    if (!rc) rc = pq_describe(data.p, data.len, &out, &err);
    if (rc)
        fprintf(stderr, "silt inspect: %s: %s\n", argv[0], err.msg);
    else
        fwrite(out.p, 1, out.len, stdout);
    buf_free(&data);
    buf_free(&out);
    return rc ? 1 : 0;
}
