/* SPDX-License-Identifier: MIT
 *
 * `silt serve`: open the data directory, replay the WAL into the buffer, serve HTTP, and on
 * SIGTERM/SIGINT shut down gracefully: refuse new writes (503), answer those in flight,
 * stop the WAL writer, close the listener, exit 0. */
#include "cli.h"

#include "../buffer/buffer.h"
#include "../conf/conf.h"
#include "../schema/schema.h"
#include "../server/server.h"
#include "../wal/wal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

static int apply_record(void *arg, uint64_t seq, const uint8_t *payload, size_t len) {
    silt_err err = {0};
    int rc = buffer_apply(arg, payload, len, &err);
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
            return SILT_FAIL(err, SILT_EBUSY, "data directory %s is in use by another silt "
                             "process", dir);
        return silt_err_sys(err, e, "lock %s", path);
    }
    return SILT_OK; /* fd intentionally kept open */
}

int cli_serve(int argc, char **argv) {
    silt_conf conf;
    silt_err err = {0};
    bool help = false;
    int i = 0, rc;
    if ((rc = conf_init(&conf, &err)) || (rc = conf_parse_args(&conf, argc, argv, &i, &help, &err))) {
        fprintf(stderr, "silt serve: %s\n", err.msg);
        conf_fini(&conf);
        return 2;
    }
    if (help) {
        printf("Usage: silt serve [options]\n\nRuns the silt server: HTTP API, write-ahead log, "
               "in-memory buffer.\n\n");
        conf_print_help(stdout);
        conf_fini(&conf);
        return 0;
    }
    if (i < argc) {
        fprintf(stderr, "silt serve: unexpected argument '%s'\n", argv[i]);
        conf_fini(&conf);
        return 2;
    }
    conf_finish(&conf);
    log_level lvl;
    log_level_parse(conf.log_level, &lvl);
    log_set_level(lvl);

    /* signals are taken by sigwait() in this thread; every thread started below inherits
     * the blocked mask */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    schema *sch = NULL;
    buffer *mem = NULL;
    wal *w = NULL;
    server *srv = NULL;
    int exit_code = 1;
    vfs *v = vfs_posix();
    if ((rc = v->mkdirs(v, conf.data_dir, &err)) || (rc = lock_data_dir(conf.data_dir, &err))) {
        log_error("serve", "%s", err.msg);
        goto out;
    }
    schema_limits lim = {(uint32_t)conf.max_databases, (uint32_t)conf.max_tables_per_database,
                         (uint32_t)conf.max_columns_per_table};
    sch = schema_create(&lim);
    mem = buffer_create(sch);
    wal_opts wo = {.n_dirs = conf.n_wal_dirs, .segment_bytes = conf.wal_segment_size,
                   .apply = apply_record, .apply_arg = mem};
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
        log_info("serve", "WAL replay: %" PRIu64 " records (%.1f MB) from %" PRIu64
                 " segments in %.3f s (%.0f MB/s, %.0f rows/s); %" PRIu64 " rows in memory, "
                 "%" PRIu64 " segment(s) truncated, %" PRIu64 " replica(s) repaired",
                 rs.records, (double)rs.bytes / 1e6, rs.segments, secs,
                 secs > 0 ? (double)rs.bytes / 1e6 / secs : 0.0,
                 secs > 0 ? (double)bs.rows / secs : 0.0, bs.rows, rs.truncated_segments,
                 rs.repaired_copies);
    }
    server_deps deps = {&conf, sch, mem, w};
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
        log_info("serve", "silt %s listening on %s (port %u); data %s; WAL in %s", SILT_VERSION,
                 conf.http_bind, server_port(srv), conf.data_dir, dirs);
    }
    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("serve", "received %s: shutting down (new writes get 503)",
             sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server_drain_writes(srv);
    {
        buffer_stats bs;
        buffer_get_stats(mem, &bs);
        log_info("serve", "writes drained; %" PRIu64 " rows in memory are durable in the WAL "
                 "and will be replayed on the next start", bs.rows);
    }
    exit_code = 0;
out:
    server_stop(srv); /* joins every connection thread: no request uses the WAL after this */
    wal_close(w);     /* stops the writer after the queue is empty */
    buffer_destroy(mem);
    schema_destroy(sch);
    conf_fini(&conf);
    if (exit_code == 0) log_info("serve", "stopped");
    return exit_code;
}
