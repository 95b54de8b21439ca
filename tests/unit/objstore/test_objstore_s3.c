/* SPDX-License-Identifier: MIT
 *
 * S3 backend tests. Two kinds:
 *   - against the real server of mk/with-servers.sh (Ceph RGW; S3_* environment variables;
 *     a test FAILS when they are missing): a wrong secret is one 403 and SILT_EIO, multipart
 *     above the threshold and abort on failure, the connection pool bound, option checks;
 *   - against a scripted fake HTTP server in this process, for what a healthy server will not
 *     do on demand: 5xx and 429 retried with backoff, a hang cut by the time limit, 403
 *     QuotaExceeded and 507 as SILT_ENOSPC, a put retried after an ambiguous failure, a Range
 *     the server ignores, and the exact requests silt sends (signed payload hash, canonical
 *     query, If-None-Match, Content-Length: 0). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "objstore/objstore.h"
#include "objstore/objstore_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------------ real server */

static char run_prefix[64];

static void s3_env(objstore_s3_opts *o) {
    const char *ep = getenv("S3_ENDPOINT"), *ak = getenv("S3_ACCESS_KEY_ID"),
               *sk = getenv("S3_SECRET_ACCESS_KEY"), *bucket = getenv("S3_BUCKET");
    if (!ep || !ak || !sk || !bucket)
        fail_msg("this test needs a real S3 server: S3_ENDPOINT, S3_ACCESS_KEY_ID, "
                 "S3_SECRET_ACCESS_KEY and S3_BUCKET are not all set; run it through "
                 "`bash mk/with-servers.sh make test-unit M=objstore`");
    *o = (objstore_s3_opts){.endpoint = ep,
                            .bucket = bucket,
                            .region = getenv("S3_REGION"),
                            .access_key_id = ak,
                            .secret_access_key = sk,
                            .allow_http = true,
                            .max_retries = 3,
                            .timeout_ms = 20000};
    if (!run_prefix[0])
        snprintf(run_prefix, sizeof run_prefix, "s3test-%lld-%ld",
                 (long long)(time_now_ns() / 1000), (long)getpid());
}

static objstore *open_ok(const objstore_s3_opts *o) {
    objstore *s = NULL;
    silt_err e = {0};
    if (objstore_s3_open(o, &s, &e)) fail_msg("s3 open: %s", e.msg);
    return s;
}

static void test_objstore_s3_wrong_secret_is_eio_without_retries(void **state) {
    (void)state;
    objstore_s3_opts o;
    s3_env(&o);
    o.secret_access_key = "not-the-secret-0000000000000000000000000";
    o.max_retries = 5;
    objstore *s = open_ok(&o);
    char k[256];
    snprintf(k, sizeof k, "%s/wrong-secret", run_prefix);
    silt_err e = {0};
    int64_t t0 = time_mono_ns();
    assert_int_equal(objstore_put(s, k, (const uint8_t *)"x", 1, &e), SILT_EIO);
    assert_non_null(strstr(e.msg, "403"));
    assert_non_null(strstr(e.msg, "SignatureDoesNotMatch"));
    assert_int_equal(objstore__s3_attempts(s), 1); /* no retry storm */
    buf b = {0};
    assert_int_equal(objstore_get(s, k, 0, UINT64_MAX, &b, &e), SILT_EIO); /* not ENOTFOUND */
    objstore_meta m;
    assert_int_equal(objstore_head(s, k, &m, &e), SILT_EIO);
    objstore_page pg;
    assert_int_equal(objstore_list(s, run_prefix, NULL, 0, &pg, &e), SILT_EIO);
    assert_int_equal(objstore_del(s, k, &e), SILT_EIO);
    assert_int_equal(objstore__s3_attempts(s), 5);
    assert_true(time_mono_ns() - t0 < 5 * NS_PER_S);
    objstore_destroy(s);
}

static unsigned closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd); /* nobody listens there now: connection refused */
    return ntohs(a.sin_port);
}

static void test_objstore_s3_unreachable_endpoint_retries_then_eio(void **state) {
    (void)state;
    char ep[64];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%u", closed_port());
    objstore_s3_opts o = {.endpoint = ep,
                          .bucket = "b",
                          .access_key_id = "a",
                          .secret_access_key = "s",
                          .allow_http = true,
                          .max_retries = 3,
                          .timeout_ms = 1000};
    objstore *s = open_ok(&o);
    silt_err e = {0};
    buf b = {0};
    int64_t t0 = time_mono_ns();
    assert_int_equal(objstore_get(s, "some/key", 0, UINT64_MAX, &b, &e), SILT_EIO);
    int64_t took = time_mono_ns() - t0;
    assert_int_equal(objstore__s3_attempts(s), 4);
    assert_non_null(strstr(e.msg, "giving up after 4 attempts"));
    /* three sleeps bounded by 100 + 200 + 400 ms */
    assert_true(took < 3 * NS_PER_S);
    /* a put too: nothing was sent, so nothing is ambiguous */
    assert_int_equal(objstore_put(s, "some/key", (const uint8_t *)"x", 1, &e), SILT_EIO);
    assert_int_equal(objstore__s3_attempts(s), 8);
    objstore_destroy(s);
}

static void test_objstore_s3_open_validates_options(void **state) {
    (void)state;
    objstore *s = NULL;
    silt_err e = {0};
    objstore_s3_opts ok = {.endpoint = "https://s3.example.com:9000",
                           .bucket = "bkt",
                           .access_key_id = "a",
                           .secret_access_key = "s"};
    assert_int_equal(objstore_s3_open(&ok, &s, &e), SILT_OK);
    assert_string_equal(s->kind, "s3");
    objstore_destroy(s);
    /* http:// only with allow_http (--aws-allow-http) */
    objstore_s3_opts o = ok;
    o.endpoint = "http://127.0.0.1:9000";
    assert_int_equal(objstore_s3_open(&o, &s, &e), SILT_EINVAL);
    assert_non_null(strstr(e.msg, "allow_http"));
    assert_null(s);
    o.allow_http = true;
    assert_int_equal(objstore_s3_open(&o, &s, &e), SILT_OK);
    objstore_destroy(s);
    /* the default endpoint is AWS for the region, https */
    o = ok;
    o.endpoint = NULL;
    o.region = "eu-west-3";
    assert_int_equal(objstore_s3_open(&o, &s, &e), SILT_OK);
    objstore_destroy(s);
    const char *bad_eps[] = {"ftp://x",        "http://",         "http://u:p@host", "http://h:0",
                             "http://h:99999", "https://h/p?q=1", "h:9000",          "https://h#f"};
    for (size_t i = 0; i < sizeof bad_eps / sizeof bad_eps[0]; i++) {
        o = ok;
        o.allow_http = true;
        o.endpoint = bad_eps[i];
        if (objstore_s3_open(&o, &s, &e) != SILT_EINVAL) fail_msg("accepted %s", bad_eps[i]);
    }
    o = ok;
    o.bucket = NULL;
    assert_int_equal(objstore_s3_open(&o, &s, &e), SILT_EINVAL);
    o.bucket = "has space";
    assert_int_equal(objstore_s3_open(&o, &s, &e), SILT_EINVAL);
    o.bucket = "Upper_Case";
    assert_int_equal(objstore_s3_open(&o, &s, &e), SILT_OK); /* path style: fine */
    objstore_destroy(s);
    o.virtual_hosted = true; /* a host name label: not fine */
    assert_int_equal(objstore_s3_open(&o, &s, &e), SILT_EINVAL);
    o = ok;
    o.region = "us-east-1:evil";
    assert_int_equal(objstore_s3_open(&o, &s, &e), SILT_EINVAL);
    o = ok;
    o.secret_access_key = "";
    assert_int_equal(objstore_s3_open(&o, &s, &e), SILT_EINVAL);
    o = ok;
    o.access_key_id = "a:b";
    assert_int_equal(objstore_s3_open(&o, &s, &e), SILT_EINVAL);
}

static void fill(uint8_t *p, size_t n, uint8_t seed) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(seed + i * 131 + (i >> 9));
}

static void test_objstore_s3_multipart_above_threshold(void **state) {
    (void)state;
    objstore_s3_opts o;
    s3_env(&o);
    o.multipart_threshold = 6u << 20;
    o.part_bytes = 1u << 20; /* raised to S3's 5 MiB minimum */
    objstore *s = open_ok(&o);
    char k[256];
    silt_err e = {0};
    /* at the threshold: one PUT */
    size_t n1 = 6u << 20;
    uint8_t *d = xmalloc(12u << 20);
    fill(d, 12u << 20, 3);
    snprintf(k, sizeof k, "%s/mp/at-threshold", run_prefix);
    uint64_t a0 = objstore__s3_attempts(s);
    if (objstore_put(s, k, d, n1, &e)) fail_msg("put: %s", e.msg);
    assert_int_equal(objstore__s3_attempts(s) - a0, 1);
    assert_int_equal(objstore_del(s, k, NULL), SILT_OK);
    /* above: HEAD, create, 3 parts (5 + 5 + 2 MiB), HEAD, complete, HEAD */
    snprintf(k, sizeof k, "%s/mp/above", run_prefix);
    a0 = objstore__s3_attempts(s);
    if (objstore_put(s, k, d, 12u << 20, &e)) fail_msg("put: %s", e.msg);
    assert_int_equal(objstore__s3_attempts(s) - a0, 8);
    buf b = {0};
    assert_int_equal(objstore_get(s, k, 0, UINT64_MAX, &b, NULL), SILT_OK);
    assert_int_equal(b.len, 12u << 20);
    assert_memory_equal(b.p, d, b.len);
    buf_free(&b);
    /* a second multipart put of the key: SILT_EEXIST after one HEAD, nothing uploaded */
    a0 = objstore__s3_attempts(s);
    assert_int_equal(objstore_put(s, k, d, 12u << 20, &e), SILT_EEXIST);
    assert_int_equal(objstore__s3_attempts(s) - a0, 1);
    assert_int_equal(objstore_del(s, k, NULL), SILT_OK);
    /* a failed part aborts the upload: nothing stored, no upload left behind */
    snprintf(k, sizeof k, "%s/mp/aborted", run_prefix);
    objstore__s3_fail_part(s, 2);
    assert_int_equal(objstore_put(s, k, d, 12u << 20, &e), SILT_EIO);
    objstore__s3_fail_part(s, 0);
    objstore_meta m;
    assert_int_equal(objstore_head(s, k, &m, NULL), SILT_ENOTFOUND);
    size_t uploads = 99;
    if (objstore__s3_count_uploads(s, k, &uploads, &e)) fail_msg("uploads: %s", e.msg);
    assert_int_equal(uploads, 0);
    free(d);
    objstore_destroy(s);
}

typedef struct pool_arg {
    objstore *s;
    const char *key;
    int errors;
    unsigned max_handles;
} pool_arg;

static void *pool_worker(void *p) {
    pool_arg *a = p;
    for (int i = 0; i < 10; i++) {
        buf b = {0};
        if (objstore_get(a->s, a->key, 0, UINT64_MAX, &b, NULL) || b.len != 100000) a->errors++;
        unsigned h = objstore__s3_handles(a->s);
        if (h > a->max_handles) a->max_handles = h;
        buf_free(&b);
    }
    return NULL;
}

static void test_objstore_s3_pool_is_bounded(void **state) {
    (void)state;
    objstore_s3_opts o;
    s3_env(&o);
    o.max_connections = 2;
    objstore *s = open_ok(&o);
    char k[256];
    snprintf(k, sizeof k, "%s/pool/obj", run_prefix);
    uint8_t *d = xmalloc(100000);
    fill(d, 100000, 9);
    silt_err e = {0};
    if (objstore_put(s, k, d, 100000, &e)) fail_msg("put: %s", e.msg);
    pthread_t th[6];
    pool_arg a[6];
    for (int i = 0; i < 6; i++) {
        a[i] = (pool_arg){s, k, 0, 0};
        pthread_create(&th[i], NULL, pool_worker, &a[i]);
    }
    for (int i = 0; i < 6; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(a[i].errors, 0);
        assert_true(a[i].max_handles <= 2);
    }
    assert_true(objstore__s3_handles(s) <= 2);
    assert_int_equal(objstore_del(s, k, NULL), SILT_OK);
    free(d);
    objstore_destroy(s);
}

static void test_objstore_s3_real_range_and_list_details(void **state) {
    (void)state;
    objstore_s3_opts o;
    s3_env(&o);
    objstore *s = open_ok(&o);
    char k[256];
    snprintf(k, sizeof k, "%s/detail/A-Z_a.z-0.9", run_prefix);
    silt_err e = {0};
    if (objstore_put(s, k, (const uint8_t *)"0123456789", 10, &e)) fail_msg("put: %s", e.msg);
    buf b = {0};
    assert_int_equal(objstore_get(s, k, 8, 100, &b, NULL), SILT_OK); /* 206, clipped */
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.p, "89", 2);
    buf_reset(&b);
    assert_int_equal(objstore_get(s, k, 10, 5, &b, NULL), SILT_OK); /* 416: empty */
    assert_int_equal(b.len, 0);
    buf_free(&b);
    objstore_meta m = {0};
    assert_int_equal(objstore_head(s, k, &m, NULL), SILT_OK);
    assert_true(m.mtime_ns > 0);
    assert_int_equal(objstore_del(s, k, NULL), SILT_OK);
    assert_int_equal(objstore_del(s, k, NULL), SILT_OK); /* 404 (or 204) is fine */
    objstore_destroy(s);
}

/* ------------------------------------------------------------------ fake server */

typedef struct fake_resp {
    int status;
    const char *body;
    bool hang; /* accept the request, never answer */
} fake_resp;

#define FAKE_MAX_REQ 64

typedef struct fake {
    int lfd;
    unsigned port;
    pthread_t th;
    const fake_resp *script;
    size_t n_script;
    atomic_bool stop;
    pthread_mutex_t mu;
    size_t n_req;            /* protected by mu */
    char *req[FAKE_MAX_REQ]; /* request head + body (first 4 KiB), protected by mu */
} fake;

static void write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

/* Serve one request on fd: read head and body, answer from the script. */
static void fake_serve(fake *f, int fd) {
    char head[16384];
    size_t n = 0;
    char *end = NULL;
    while (!end && n < sizeof head - 1) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) {
            if (atomic_load(&f->stop)) return;
            continue;
        }
        ssize_t r = recv(fd, head + n, sizeof head - 1 - n, 0);
        if (r <= 0) return;
        n += (size_t)r;
        head[n] = 0;
        end = strstr(head, "\r\n\r\n");
    }
    if (!end) return;
    size_t hl = (size_t)(end - head) + 4, cl = 0;
    const char *c = strcasestr(head, "\r\ncontent-length:");
    if (c && c < end) cl = strtoul(c + 17, NULL, 10);
    if (strcasestr(head, "\r\nexpect: 100-continue"))
        write_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    size_t have = n - hl;
    while (have < cl) { /* drain the body */
        char tmp[65536];
        ssize_t r = recv(fd, tmp, sizeof tmp, 0);
        if (r <= 0) return;
        if (hl + have < sizeof head - 1) {
            size_t take =
                (size_t)r < sizeof head - 1 - hl - have ? (size_t)r : sizeof head - 1 - hl - have;
            memcpy(head + hl + have, tmp, take);
            n = hl + have + take;
            head[n] = 0;
        }
        have += (size_t)r;
    }
    pthread_mutex_lock(&f->mu);
    size_t i = f->n_req;
    if (f->n_req < FAKE_MAX_REQ) f->req[f->n_req++] = xstrndup(head, n);
    pthread_mutex_unlock(&f->mu);
    const fake_resp *fr = &f->script[i < f->n_script ? i : f->n_script - 1];
    if (fr->hang) {
        while (!atomic_load(&f->stop)) {
            struct pollfd p = {fd, POLLIN, 0};
            if (poll(&p, 1, 50) > 0) {
                char t[256];
                if (recv(fd, t, sizeof t, 0) <= 0) return; /* the client gave up */
            }
        }
        return;
    }
    const char *body = fr->body ? fr->body : "";
    char out[8192];
    int on = snprintf(out, sizeof out,
                      "HTTP/1.1 %d Scripted\r\nContent-Length: %zu\r\nConnection: close\r\n"
                      "ETag: \"etag-%zu\"\r\nLast-Modified: Wed, 25 Nov 2026 17:55:01 GMT\r\n\r\n",
                      fr->status, strlen(body), i);
    write_all(fd, out, (size_t)on);
    if (strncmp(head, "HEAD ", 5) != 0) write_all(fd, body, strlen(body));
}

static void *fake_main(void *arg) {
    fake *f = arg;
    while (!atomic_load(&f->stop)) {
        struct pollfd p = {f->lfd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0) continue;
        fake_serve(f, fd);
        close(fd);
    }
    return NULL;
}

static void fake_start(fake *f, const fake_resp *script, size_t n) {
    memset(f, 0, sizeof *f);
    f->script = script;
    f->n_script = n;
    pthread_mutex_init(&f->mu, NULL);
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f->lfd, 16), 0);
    socklen_t l = sizeof a;
    getsockname(f->lfd, (struct sockaddr *)&a, &l);
    f->port = ntohs(a.sin_port);
    pthread_create(&f->th, NULL, fake_main, f);
}

static void fake_stop(fake *f) {
    atomic_store(&f->stop, true);
    pthread_join(f->th, NULL);
    close(f->lfd);
    for (size_t i = 0; i < f->n_req; i++) free(f->req[i]);
    pthread_mutex_destroy(&f->mu);
}

static objstore *fake_store(fake *f, unsigned retries, unsigned timeout_ms) {
    char ep[64];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%u", f->port);
    objstore_s3_opts o = {.endpoint = ep,
                          .bucket = "bkt",
                          .access_key_id = "AK",
                          .secret_access_key = "SK",
                          .allow_http = true,
                          .max_retries = retries,
                          .timeout_ms = timeout_ms};
    return open_ok(&o);
}

static const char *req_line(fake *f, size_t i) {
    assert_true(i < f->n_req);
    return f->req[i];
}

static void test_objstore_s3_5xx_and_429_are_retried(void **state) {
    (void)state;
    fake_resp script[] = {{503, "<Error><Code>SlowDown</Code></Error>", false},
                          {500, "", false},
                          {429, "", false},
                          {200, "payload", false}};
    fake f;
    fake_start(&f, script, 4);
    objstore *s = fake_store(&f, 5, 5000);
    buf b = {0};
    silt_err e = {0};
    if (objstore_get(s, "a/b", 0, UINT64_MAX, &b, &e)) fail_msg("get: %s", e.msg);
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.p, "payload", 7); /* no bytes of the failed answers */
    assert_int_equal(objstore__s3_attempts(s), 4);
    assert_int_equal(f.n_req, 4);
    assert_int_equal(strncmp(req_line(&f, 0), "GET /bkt/a/b HTTP/1.1\r\n", 23), 0);
    buf_free(&b);
    objstore_destroy(s);
    fake_stop(&f);
}

static void test_objstore_s3_retries_are_bounded(void **state) {
    (void)state;
    fake_resp script[] = {{503,
                           "<Error><Code>ServiceUnavailable</Code><Message>busy</Message>"
                           "</Error>",
                           false}};
    fake f;
    fake_start(&f, script, 1);
    objstore *s = fake_store(&f, 2, 5000);
    silt_err e = {0};
    objstore_meta m;
    assert_int_equal(objstore_head(s, "k", &m, &e), SILT_EIO);
    assert_int_equal(objstore__s3_attempts(s), 3);
    assert_non_null(strstr(e.msg, "giving up after 3 attempts"));
    buf b = {0};
    assert_int_equal(objstore_get(s, "k", 0, UINT64_MAX, &b, &e), SILT_EIO);
    assert_non_null(strstr(e.msg, "ServiceUnavailable"));
    assert_int_equal(b.len, 0);
    objstore_destroy(s);
    fake_stop(&f);
    /* backoff bounds: 100, 200, 400 ... ms, capped at 5 s */
    assert_int_equal(objstore__s3_backoff_bound_ms(1), 100);
    assert_int_equal(objstore__s3_backoff_bound_ms(2), 200);
    assert_int_equal(objstore__s3_backoff_bound_ms(6), 3200);
    assert_int_equal(objstore__s3_backoff_bound_ms(7), 5000);
    assert_int_equal(objstore__s3_backoff_bound_ms(100), 5000);
}

static void test_objstore_s3_4xx_is_final(void **state) {
    (void)state;
    fake_resp script[] = {
        {403, "<Error><Code>AccessDenied</Code><Message>no &amp; never</Message></Error>", false},
        {400, "<Error><Code>InvalidArgument</Code></Error>", false},
        {404, "<Error><Code>NoSuchBucket</Code></Error>", false},
        {404, "<Error><Code>NoSuchKey</Code></Error>", false},
    };
    fake f;
    fake_start(&f, script, 4);
    objstore *s = fake_store(&f, 5, 5000);
    silt_err e = {0};
    buf b = {0};
    assert_int_equal(objstore_get(s, "k", 0, UINT64_MAX, &b, &e), SILT_EIO);
    assert_non_null(strstr(e.msg, "HTTP 403 AccessDenied: no & never"));
    assert_int_equal(objstore_get(s, "k", 0, UINT64_MAX, &b, &e), SILT_EIO);
    assert_int_equal(objstore_get(s, "k", 0, UINT64_MAX, &b, &e), SILT_EIO); /* no bucket */
    assert_non_null(strstr(e.msg, "NoSuchBucket"));
    assert_int_equal(objstore_get(s, "k", 0, UINT64_MAX, &b, &e), SILT_ENOTFOUND);
    assert_int_equal(objstore__s3_attempts(s), 4);
    objstore_destroy(s);
    fake_stop(&f);
}

static void test_objstore_s3_quota_is_enospc(void **state) {
    (void)state;
    fake_resp script[] = {
        {403, "<?xml version=\"1.0\"?><Error><Code>QuotaExceeded</Code></Error>", false},
        {507, "", false},
    };
    fake f;
    fake_start(&f, script, 2);
    objstore *s = fake_store(&f, 5, 5000);
    silt_err e = {0};
    assert_int_equal(objstore_put(s, "k", (const uint8_t *)"x", 1, &e), SILT_ENOSPC);
    assert_non_null(strstr(e.msg, "QuotaExceeded"));
    assert_int_equal(objstore_put(s, "k", (const uint8_t *)"x", 1, &e), SILT_ENOSPC);
    assert_int_equal(objstore__s3_attempts(s), 2);
    objstore_destroy(s);
    fake_stop(&f);
}

static void test_objstore_s3_hang_is_cut_by_timeout(void **state) {
    (void)state;
    fake_resp script[] = {{0, NULL, true}};
    fake f;
    fake_start(&f, script, 1);
    objstore *s = fake_store(&f, 1, 300);
    silt_err e = {0};
    objstore_meta m;
    int64_t t0 = time_mono_ns();
    assert_int_equal(objstore_head(s, "k", &m, &e), SILT_EIO);
    int64_t took = time_mono_ns() - t0;
    assert_int_equal(objstore__s3_attempts(s), 2);
    assert_non_null(strstr(e.msg, "giving up after 2 attempts"));
    assert_true(took >= 500 * NS_PER_MS); /* two attempts of 300 ms */
    assert_true(took < 3000 * NS_PER_MS); /* and one short backoff */
    objstore_destroy(s);
    fake_stop(&f);
}

static void test_objstore_s3_put_after_ambiguous_failure(void **state) {
    (void)state;
    /* the first PUT "fails" with 500 (maybe stored), the retry sees 412: silt reads the object
     * back; the same bytes mean the put succeeded */
    fake_resp same[] = {{500, "", false}, {412, "", false}, {200, "mine", false}};
    fake f;
    fake_start(&f, same, 3);
    objstore *s = fake_store(&f, 3, 5000);
    silt_err e = {0};
    if (objstore_put(s, "k", (const uint8_t *)"mine", 4, &e)) fail_msg("put: %s", e.msg);
    assert_int_equal(f.n_req, 3);
    assert_int_equal(strncmp(req_line(&f, 2), "GET /bkt/k ", 11), 0);
    objstore_destroy(s);
    fake_stop(&f);
    /* other bytes: it was someone else's object */
    fake_resp other[] = {{500, "", false}, {412, "", false}, {200, "theirs", false}};
    fake_start(&f, other, 3);
    s = fake_store(&f, 3, 5000);
    assert_int_equal(objstore_put(s, "k", (const uint8_t *)"mine", 4, &e), SILT_EEXIST);
    objstore_destroy(s);
    fake_stop(&f);
    /* a plain 412 (no earlier attempt) is SILT_EEXIST without reading anything */
    fake_resp plain[] = {{412, "", false}};
    fake_start(&f, plain, 1);
    s = fake_store(&f, 3, 5000);
    assert_int_equal(objstore_put(s, "k", (const uint8_t *)"mine", 4, &e), SILT_EEXIST);
    assert_int_equal(f.n_req, 1);
    objstore_destroy(s);
    fake_stop(&f);
}

static void test_objstore_s3_requests_on_the_wire(void **state) {
    (void)state;
    const char *list1 =
        "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/"
        "2006-03-01/\"><Name>bkt</Name><IsTruncated>true</IsTruncated>"
        "<Contents><Key>p/a</Key><Size>1</Size></Contents>"
        "<Contents><Key>p/b&amp;bad</Key><Size>2</Size></Contents>"
        "<NextContinuationToken>tok/+=</NextContinuationToken></ListBucketResult>";
    const char *list2 = "<ListBucketResult><IsTruncated>false</IsTruncated>"
                        "<Contents><Key>p/c</Key><Size>3</Size></Contents></ListBucketResult>";
    fake_resp script[] = {{200, "", false},    {200, "", false},    {200, "whole-object", false},
                          {200, list1, false}, {200, list2, false}, {204, "", false}};
    fake f;
    fake_start(&f, script, 6);
    objstore *s = fake_store(&f, 0, 5000);
    silt_err e = {0};
    /* 0: a put, with the body's SHA-256 and If-None-Match */
    if (objstore_put(s, "d/k.parquet", (const uint8_t *)"hello", 5, &e)) fail_msg("%s", e.msg);
    const char *r0 = req_line(&f, 0);
    assert_int_equal(strncmp(r0, "PUT /bkt/d/k.parquet HTTP/1.1\r\n", 31), 0);
    assert_non_null(strcasestr(r0,
                               "x-amz-content-sha256: "
                               "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
    assert_non_null(strcasestr(r0, "If-None-Match: *"));
    assert_non_null(strcasestr(r0, "Authorization: AWS4-HMAC-SHA256 Credential=AK/"));
    assert_non_null(strstr(r0, "\r\n\r\nhello"));
    /* 1: an empty put sends Content-Length: 0 and the empty-body hash */
    if (objstore_put(s, "d/empty", NULL, 0, &e)) fail_msg("%s", e.msg);
    const char *r1 = req_line(&f, 1);
    assert_non_null(strcasestr(r1, "Content-Length: 0\r\n"));
    assert_non_null(
        strcasestr(r1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    /* 2: the server ignores Range and sends everything: silt cuts the part out */
    buf b = {0};
    assert_int_equal(objstore_get(s, "d/k", 6, 3, &b, &e), SILT_OK);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.p, "obj", 3);
    assert_non_null(strcasestr(req_line(&f, 2), "Range: bytes=6-8\r\n"));
    buf_free(&b);
    /* 3, 4: list with a canonical query, a continuation token, decoded keys; the key that
     * is not a silt key ("p/b&bad") is skipped */
    objstore_page pg;
    if (objstore_list(s, "p/", "p/0", 5, &pg, &e)) fail_msg("%s", e.msg);
    assert_int_equal(strncmp(req_line(&f, 3),
                             "GET /bkt?list-type=2&max-keys=5&prefix=p%2F&start-after=p%2F0 ", 62),
                     0);
    assert_int_equal(
        strncmp(req_line(&f, 4),
                "GET /bkt?continuation-token=tok%2F%2B%3D&list-type=2&max-keys=4&prefix=p%2F ", 76),
        0);
    assert_int_equal(pg.n, 2);
    assert_string_equal(pg.entries[0].key, "p/a");
    assert_string_equal(pg.entries[1].key, "p/c");
    assert_int_equal(pg.entries[1].size, 3);
    assert_null(pg.next);
    objstore_page_free(&pg);
    /* 5: delete */
    assert_int_equal(objstore_del(s, "d/k", &e), SILT_OK);
    assert_int_equal(strncmp(req_line(&f, 5), "DELETE /bkt/d/k HTTP/1.1\r\n", 26), 0);
    objstore_destroy(s);
    fake_stop(&f);
}

static void test_objstore_s3_virtual_hosted_request(void **state) {
    (void)state;
    /* virtual-hosted style: the bucket goes into the Host header, the path is the key. The
     * fake server listens on 127.0.0.1; curl resolves bkt.localhost there (RFC 6761). */
    fake_resp script[] = {{200, "vh", false}};
    fake f;
    fake_start(&f, script, 1);
    char ep[64];
    snprintf(ep, sizeof ep, "http://localhost:%u", f.port);
    objstore_s3_opts o = {.endpoint = ep,
                          .bucket = "bkt",
                          .access_key_id = "AK",
                          .secret_access_key = "SK",
                          .allow_http = true,
                          .virtual_hosted = true,
                          .max_retries = 1,
                          .timeout_ms = 5000};
    objstore *s = open_ok(&o);
    buf b = {0};
    silt_err e = {0};
    int rc = objstore_get(s, "x/y", 0, UINT64_MAX, &b, &e);
    if (rc) fail_msg("virtual-hosted get: %s", e.msg);
    assert_int_equal(strncmp(req_line(&f, 0), "GET /x/y HTTP/1.1\r\n", 19), 0);
    char host[64];
    snprintf(host, sizeof host, "Host: bkt.localhost:%u\r\n", f.port);
    assert_non_null(strcasestr(req_line(&f, 0), host));
    buf_free(&b);
    objstore_destroy(s);
    fake_stop(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objstore_s3_wrong_secret_is_eio_without_retries),
        cmocka_unit_test(test_objstore_s3_unreachable_endpoint_retries_then_eio),
        cmocka_unit_test(test_objstore_s3_open_validates_options),
        cmocka_unit_test(test_objstore_s3_multipart_above_threshold),
        cmocka_unit_test(test_objstore_s3_pool_is_bounded),
        cmocka_unit_test(test_objstore_s3_real_range_and_list_details),
        cmocka_unit_test(test_objstore_s3_5xx_and_429_are_retried),
        cmocka_unit_test(test_objstore_s3_retries_are_bounded),
        cmocka_unit_test(test_objstore_s3_4xx_is_final),
        cmocka_unit_test(test_objstore_s3_quota_is_enospc),
        cmocka_unit_test(test_objstore_s3_hang_is_cut_by_timeout),
        cmocka_unit_test(test_objstore_s3_put_after_ambiguous_failure),
        cmocka_unit_test(test_objstore_s3_requests_on_the_wire),
        cmocka_unit_test(test_objstore_s3_virtual_hosted_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
