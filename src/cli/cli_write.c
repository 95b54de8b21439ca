/* SPDX-License-Identifier: MIT
 *
 * `silt write`: stream line protocol from a file or stdin to /api/v3/write_lp in batches of
 * whole lines (so each request stays under the server's size limit), report rejected lines
 * with their line numbers in the input, and draw a progress bar on a terminal for files. */
#include "cli.h"

#include "cli_http.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct wopts {
    const char *db, *file, *precision, *host;
    bool no_sync, no_partial;
    size_t batch_bytes;
} wopts;

static void progress(uint64_t done, uint64_t total, int64_t t0) {
    double secs = (double)(time_mono_ns() - t0) / 1e9;
    double pct = total ? 100.0 * (double)done / (double)total : 100.0;
    int width = 30, fill = (int)(pct / 100.0 * width);
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
    bar[width] = 0;
    fprintf(stderr, "\r[%s] %5.1f%% %8.1f / %.1f MB  %6.1f MB/s", bar, pct, (double)done / 1e6,
            (double)total / 1e6, secs > 0 ? (double)done / 1e6 / secs : 0.0);
    fflush(stderr);
}

/* Print the rejected lines of a 400 answer, shifting line numbers by line_base. */
static size_t print_rejects(const buf *resp, uint64_t line_base) {
    json_error_t je;
    json_t *root = json_loadb((const char *)resp->p, resp->len, 0, &je);
    size_t n = 0;
    json_t *data = root ? json_object_get(root, "data") : NULL;
    if (json_is_array(data)) {
        size_t i;
        json_t *e;
        json_array_foreach(data, i, e) {
            json_int_t ln = json_integer_value(json_object_get(e, "line_number"));
            json_int_t col = json_integer_value(json_object_get(e, "column"));
            const char *msg = json_string_value(json_object_get(e, "error_message"));
            fprintf(stderr, "line %llu, column %lld: %s\n",
                    (unsigned long long)(line_base + (uint64_t)ln), (long long)col,
                    msg ? msg : "rejected");
            n++;
        }
    } else {
        const char *msg = root ? json_string_value(json_object_get(root, "error")) : NULL;
        fprintf(stderr, "error: %.*s\n", msg ? (int)strlen(msg) : (int)resp->len,
                msg ? msg : (const char *)resp->p);
        n = 1;
    }
    json_decref(root);
    return n;
}

int cli_write(int argc, char **argv) {
    wopts o = {.host = getenv("SILT_HOST"), .batch_bytes = 4u << 20};
    if (!o.host) o.host = "http://127.0.0.1:8181";
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--db") && next) o.db = argv[++i];
        else if (!strcmp(a, "--file") && next) o.file = argv[++i];
        else if (!strcmp(a, "--precision") && next) o.precision = argv[++i];
        else if (!strcmp(a, "--host") && next) o.host = argv[++i];
        else if (!strcmp(a, "--no-sync")) o.no_sync = true;
        else if (!strcmp(a, "--no-partial")) o.no_partial = true;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("Usage: silt write --db NAME [--file F] [--precision auto|ns|us|ms|s] "
                   "[--host URL] [--no-sync] [--no-partial]\n"
                   "Writes line protocol from F (or stdin) to the server at --host (default "
                   "$SILT_HOST or http://127.0.0.1:8181).\n");
            return 0;
        } else {
            fprintf(stderr, "silt write: unknown or incomplete option '%s'\n", a);
            return 2;
        }
    }
    if (!o.db) {
        fprintf(stderr, "silt write: --db is required\n");
        return 2;
    }
    int fd = 0;
    uint64_t total = 0;
    if (o.file) {
        fd = open(o.file, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "silt write: %s: %s\n", o.file, strerror(errno));
            return 1;
        }
        struct stat st;
        if (fstat(fd, &st) == 0) total = (uint64_t)st.st_size;
    }
    bool show = o.file && isatty(2);
    buf url = {0};
    buf_printf(&url, "%s/api/v3/write_lp?db=", o.host);
    cli_urlencode(&url, o.db);
    if (o.precision) {
        buf_puts(&url, "&precision=");
        cli_urlencode(&url, o.precision);
    }
    if (o.no_sync) buf_puts(&url, "&no_sync=true");
    if (o.no_partial) buf_puts(&url, "&accept_partial=false");
    buf_cstr(&url);

    buf in = {0}, resp = {0};
    uint64_t sent = 0, lines_base = 0, rejected = 0;
    int64_t t0 = time_mono_ns();
    bool eof = false;
    int rc = 0;
    while (!eof || in.len) {
        /* fill up to batch_bytes */
        while (!eof && in.len < o.batch_bytes) {
            buf_reserve(&in, o.batch_bytes);
            ssize_t r = read(fd, in.p + in.len, in.cap - in.len);
            if (r < 0) {
                if (errno == EINTR) continue;
                fprintf(stderr, "silt write: read: %s\n", strerror(errno));
                rc = 1;
                goto done;
            }
            if (r == 0) eof = true;
            in.len += (size_t)r;
        }
        /* send whole lines */
        size_t cut = in.len;
        if (!eof) {
            while (cut > 0 && in.p[cut - 1] != '\n') cut--;
            if (cut == 0) { /* one line longer than a batch: read more */
                o.batch_bytes *= 2;
                continue;
            }
        }
        if (cut == 0) break;
        buf_reset(&resp);
        char err[256];
        long status = cli_http((const char *)url.p, "text/plain; charset=utf-8", in.p, cut, &resp,
                               err, sizeof err);
        if (status < 0) {
            fprintf(stderr, "%ssilt write: %s\n", show ? "\n" : "", err);
            rc = 1;
            goto done;
        }
        if (status == 400) {
            if (show) fputc('\n', stderr);
            rejected += print_rejects(&resp, lines_base);
        } else if (status < 200 || status > 299) {
            fprintf(stderr, "%ssilt write: HTTP %ld: %.*s\n", show ? "\n" : "", status,
                    (int)resp.len, (const char *)resp.p);
            rc = 1;
            goto done;
        }
        for (size_t i = 0; i < cut; i++) lines_base += in.p[i] == '\n';
        sent += cut;
        memmove(in.p, in.p + cut, in.len - cut);
        in.len -= cut;
        if (show) progress(sent, total, t0);
    }
    if (show) fputc('\n', stderr);
    {
        double secs = (double)(time_mono_ns() - t0) / 1e9;
        fprintf(stderr, "wrote %.1f MB of line protocol in %.2f s%s", (double)sent / 1e6, secs,
                rejected ? "" : "\n");
        if (rejected) fprintf(stderr, "; %llu line(s) rejected\n", (unsigned long long)rejected);
    }
    if (rejected) rc = 1;
done:
    if (fd > 0) close(fd);
    buf_free(&in);
    buf_free(&resp);
    buf_free(&url);
    return rc;
}
