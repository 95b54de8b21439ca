/* SPDX-License-Identifier: MIT
 *
 * The S3 backend: any S3-compatible store over libcurl, requests signed by curl
 * (CURLOPT_AWS_SIGV4 "aws:amz:<region>:s3"). What curl 7.88 leaves to the client, silt does
 * itself (README invariants 10-12): every request carries x-amz-content-sha256 (the body's
 * SHA-256); query strings are put on the wire in canonical form; key segments are
 * percent-encoded; an empty PUT sends Content-Length: 0.
 *
 * Requests (README "S3 requests"):
 *   put     PUT /key with If-None-Match: *          200 ok, 412 -> SILT_EEXIST
 *           above multipart_threshold: HEAD (exists -> SILT_EEXIST), POST ?uploads=,
 *           PUT ?partNumber=N&uploadId=U per part, POST ?uploadId=U with the part list and
 *           If-None-Match: *, HEAD to confirm the size; any failure aborts the upload
 *           (DELETE ?uploadId=U)
 *   get     GET /key, with Range: bytes=a-b for a part     200/206, 416 -> empty, 404
 *   head    HEAD /key                                      200, 404
 *   list    GET /?list-type=2&max-keys=&prefix=&start-after=|continuation-token=
 *   del     DELETE /key                                    204/200/404 all ok
 *
 * Retries (invariant 13): an attempt that ends in a connection error, a timeout, HTTP 5xx
 * (but 501, 505, 507), 429, 409 ConditionalRequestConflict or 400 RequestTimeout is retried,
 * at most max_retries times, after a sleep drawn uniformly from [0, min(5 s, 100 ms * 2^k)]
 * (exponential backoff, full jitter). Any other answer is final: a 403 is SILT_EIO with the
 * server's code and message at once; 403 QuotaExceeded and 507 are SILT_ENOSPC. A put whose
 * earlier attempt may have landed (it timed out or got a 5xx) and that then sees 412 reads
 * the object back: the same bytes mean success (invariant 14).
 *
 * Connections (invariant 16): a pool of at most max_connections CURL easy handles, shared by
 * all threads (mutex + condition variable); a handle is reset, not closed, between requests,
 * so it keeps its connection alive. A thread waits for a free handle, never for I/O of
 * another thread while holding mu.
 * Time limits per attempt (invariant 17): connect within timeout_ms; abort when no byte moves for
 * timeout_ms; a request with a known size must finish within timeout_ms + 1 ms per KiB. */
#include "objstore_int.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#define S3_MIN_PART        (5ull << 20)
#define S3_MAX_PART        (5ull << 30)
#define S3_MAX_PARTS       10000
#define S3_DOC_MAX         (16u << 20) /* bound of an XML answer or error body we keep */
#define S3_BACKOFF_BASE_MS 100
#define S3_BACKOFF_CAP_MS  5000

typedef struct s3_store {
    objstore base;
    objstore__endpoint ep;
    char *bucket, *sigv4, *access_key, *secret_key;
    bool virtual_hosted;
    unsigned max_conns, max_retries, timeout_ms;
    uint64_t mp_threshold, part_bytes;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    CURL **idle;     /* protected by mu: handles ready for use */
    size_t n_idle;   /* protected by mu */
    unsigned n_open; /* protected by mu: handles created (idle or in use) */
    _Atomic uint64_t attempts;
    _Atomic uint64_t rng;
    _Atomic unsigned fail_part; /* test hook: fail this part number of multipart uploads */
} s3_store;

/* ------------------------------------------------------------------ curl global init */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;
static void curl_init_once(void) {
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ------------------------------------------------------------------ handle pool */

static CURL *pool_get(s3_store *s) {
    CURL *h = NULL;
    pthread_mutex_lock(&s->mu);
    while (s->n_idle == 0 && s->n_open >= s->max_conns) pthread_cond_wait(&s->cv, &s->mu);
    if (s->n_idle)
        h = s->idle[--s->n_idle];
    else
        s->n_open++;
    pthread_mutex_unlock(&s->mu);
    if (!h && !(h = curl_easy_init())) {
        pthread_mutex_lock(&s->mu);
        s->n_open--;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
    return h;
}

static void pool_put(s3_store *s, CURL *h) {
    curl_easy_reset(h); /* keeps the live connection, DNS and TLS session caches */
    pthread_mutex_lock(&s->mu);
    assert(s->n_idle < s->max_conns);
    s->idle[s->n_idle++] = h;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------ one request */

typedef struct s3_req {
    const char *method; /* GET PUT HEAD DELETE POST */
    const char *op;     /* for messages: put, get, ... */
    const char *key;    /* NULL: the bucket */
    const char *query;  /* canonical query, NULL for none */
    const uint8_t *body;
    size_t body_len;
    const char *content_type;
    const char *range; /* Range header value, NULL for none */
    bool if_none_match;
    buf *sink;             /* 2xx bodies are appended here; NULL: into resp->body */
    uint64_t expect_bytes; /* size of the answer when known (time limit) */
} s3_req;

typedef struct s3_resp {
    long status;
    buf body; /* non-2xx bodies and, without a sink, 2xx bodies; at most S3_DOC_MAX */
    char etag[160];
    bool has_length, has_range;
    uint64_t length, range_first;
    int64_t mtime_ns;
    unsigned attempts;
    bool ambiguous; /* an earlier attempt may have been carried out by the server */
    char code[64], msg[256];
} s3_resp;

typedef struct xfer {
    s3_resp *resp;
    buf *sink;
    const uint8_t *up;
    size_t up_len, up_off;
    bool overflow;
} xfer;

static void resp_fini(s3_resp *r) {
    buf_free(&r->body);
}

static bool hdr_is(const char *line, size_t n, const char *name, const char **val, size_t *vn) {
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':') return false;
    const char *v = line + k + 1, *e = line + n;
    while (v < e && (*v == ' ' || *v == '\t')) v++;
    while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t')) e--;
    *val = v;
    *vn = (size_t)(e - v);
    return true;
}

static bool dec_u64(const char *p, size_t n, uint64_t *out) {
    if (n == 0 || n > 20) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
        uint64_t d = (uint64_t)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static size_t header_cb(char *line, size_t size, size_t nitems, void *ud) {
    xfer *x = ud;
    s3_resp *r = x->resp;
    size_t n = size * nitems;
    const char *v;
    size_t vn;
    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) { /* a new response (after 100 Continue) */
        const char *sp = memchr(line, ' ', n);
        r->status = 0;
        r->has_length = r->has_range = false;
        r->etag[0] = 0;
        if (sp && (size_t)(line + n - sp) > 4) {
            uint64_t st;
            if (dec_u64(sp + 1, 3, &st)) r->status = (long)st;
        }
    } else if (hdr_is(line, n, "content-length", &v, &vn)) {
        r->has_length = dec_u64(v, vn, &r->length);
    } else if (hdr_is(line, n, "etag", &v, &vn)) {
        if (vn < sizeof r->etag) {
            memcpy(r->etag, v, vn);
            r->etag[vn] = 0;
        }
    } else if (hdr_is(line, n, "content-range", &v, &vn)) {
        /* bytes first-last/total */
        if (vn > 6 && !strncasecmp(v, "bytes ", 6)) {
            const char *d = memchr(v, '-', vn);
            if (d) r->has_range = dec_u64(v + 6, (size_t)(d - v - 6), &r->range_first);
        }
    }
    return n;
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ud) {
    xfer *x = ud;
    size_t n = size * nmemb;
    s3_resp *r = x->resp;
    if (r->status >= 200 && r->status < 300 && x->sink) {
        if (x->sink->cap - x->sink->len < n && r->has_length && r->length < SIZE_MAX / 2)
            buf_reserve(x->sink, (size_t)r->length > n ? (size_t)r->length : n);
        buf_append(x->sink, p, n);
        return n;
    }
    if (r->body.len + n > S3_DOC_MAX) {
        x->overflow = true;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    buf_append(&r->body, p, n);
    return n;
}

static size_t read_cb(char *p, size_t size, size_t nitems, void *ud) {
    xfer *x = ud;
    size_t n = size * nitems, left = x->up_len - x->up_off;
    if (n > left) n = left;
    if (n) memcpy(p, x->up + x->up_off, n);
    x->up_off += n;
    return n;
}

static int seek_cb(void *ud, curl_off_t off, int origin) {
    xfer *x = ud;
    if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->up_len) return CURL_SEEKFUNC_FAIL;
    x->up_off = (size_t)off;
    return CURL_SEEKFUNC_OK;
}

static bool curl_retryable(CURLcode c) {
    switch (c) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_WEIRD_SERVER_REPLY:
            return true;
        default:
            return false;
    }
}

/* True if the server may have carried out an attempt that failed this way. */
static bool curl_ambiguous(CURLcode c) {
    return c != CURLE_COULDNT_RESOLVE_HOST && c != CURLE_COULDNT_CONNECT &&
           c != CURLE_SSL_CONNECT_ERROR;
}

static bool status_retryable(const s3_resp *r) {
    long st = r->status;
    if (st == 429) return true;
    if (st >= 500) return st != 501 && st != 505 && st != 507;
    if (st == 409 && !strcmp(r->code, "ConditionalRequestConflict")) return true;
    if (st == 400 && !strcmp(r->code, "RequestTimeout")) return true;
    return false;
}

uint64_t objstore__s3_backoff_bound_ms(unsigned attempt) {
    if (attempt == 0) return 0;
    if (attempt > 16) return S3_BACKOFF_CAP_MS;
    uint64_t b = (uint64_t)S3_BACKOFF_BASE_MS << (attempt - 1);
    return b < S3_BACKOFF_CAP_MS ? b : S3_BACKOFF_CAP_MS;
}

static uint64_t rand64(s3_store *s) {
    uint64_t z = atomic_fetch_add(&s->rng, 0x9e3779b97f4a7c15ull) + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void sleep_ms(uint64_t ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {}
}

/* Pull <Code> and <Message> out of an error document, if there is one. */
static void parse_error_doc(s3_resp *r) {
    r->code[0] = r->msg[0] = 0;
    if (!r->body.len) return;
    buf t = {0};
    if (objstore__xml_find(r->body.p, r->body.len, "Code", &t) == SILT_OK)
        snprintf(r->code, sizeof r->code, "%.*s", (int)t.len, t.p ? (const char *)t.p : "");
    buf_reset(&t);
    if (objstore__xml_find(r->body.p, r->body.len, "Message", &t) == SILT_OK)
        snprintf(r->msg, sizeof r->msg, "%.*s", (int)t.len, t.p ? (const char *)t.p : "");
    buf_free(&t);
}

/* Append a header line; out of memory aborts, as xmalloc does. Never add an empty-valued
 * header ("Expect:"): curl 7.88 signs it without sending it (invariant 10). */
static void hdr_add(struct curl_slist **l, const char *h) {
    struct curl_slist *n = curl_slist_append(*l, h);
    if (!n) silt_panic("curl_slist_append: out of memory");
    *l = n;
}

/* Send one request, retrying as invariant 13 says. SILT_OK when an answer is final (any
 * status: the caller maps it), SILT_EIO when retries ran out or the request could not be
 * sent. resp is the caller's (zeroed; free with resp_fini). */
static int s3_do(s3_store *s, const s3_req *rq, s3_resp *resp, silt_err *err) {
    buf url = {0};
    objstore__s3_url(&url, &s->ep, s->bucket, s->virtual_hosted, rq->key, rq->query);
    char sha[65], hbuf[128];
    objstore__sha256_hex(rq->body ? rq->body : (const uint8_t *)"", rq->body_len, sha);
    struct curl_slist *hdrs = NULL;
    snprintf(hbuf, sizeof hbuf, "x-amz-content-sha256: %s", sha); /* invariant 10 */
    hdr_add(&hdrs, hbuf);
    if (rq->range) {
        snprintf(hbuf, sizeof hbuf, "Range: %s", rq->range);
        hdr_add(&hdrs, hbuf);
    }
    if (rq->if_none_match) hdr_add(&hdrs, "If-None-Match: *");
    if (rq->content_type) {
        snprintf(hbuf, sizeof hbuf, "Content-Type: %s", rq->content_type);
        hdr_add(&hdrs, hbuf);
    }
    size_t sink_start = rq->sink ? rq->sink->len : 0;
    uint64_t known = rq->body_len + rq->expect_bytes;
    long limit_ms = known || !rq->sink ? (long)(s->timeout_ms + (known >> 10)) : 0;
    char errbuf[CURL_ERROR_SIZE];
    char last[400] = "";
    int rc = SILT_OK;
    const char *what = rq->key ? rq->key : s->bucket;
    for (unsigned attempt = 0;; attempt++) {
        resp->status = 0;
        resp->has_length = resp->has_range = false;
        resp->etag[0] = resp->code[0] = resp->msg[0] = 0;
        resp->mtime_ns = 0;
        buf_reset(&resp->body);
        if (rq->sink) rq->sink->len = sink_start;
        resp->attempts = attempt + 1;
        CURL *h = pool_get(s);
        if (!h) {
            rc = SILT_FAIL(err, SILT_EIO, "s3 %s %s: curl_easy_init failed", rq->op, what);
            break;
        }
        xfer x = {resp, rq->sink, rq->body, rq->body_len, 0, false};
        errbuf[0] = 0;
        curl_easy_setopt(h, CURLOPT_URL, (char *)buf_cstr(&url));
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
        curl_easy_setopt(h, CURLOPT_USERNAME, s->access_key);
        curl_easy_setopt(h, CURLOPT_PASSWORD, s->secret_key);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)s->timeout_ms);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                         (long)(s->timeout_ms >= 2000 ? s->timeout_ms / 1000 : 1));
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, limit_ms);
        curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
        if (!strcmp(rq->method, "HEAD")) {
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (!strcmp(rq->method, "PUT")) {
            /* invariant 10: an empty body still sends Content-Length: 0 */
            curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
            curl_easy_setopt(h, CURLOPT_READDATA, &x);
            curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_cb);
            curl_easy_setopt(h, CURLOPT_SEEKDATA, &x);
            curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->body_len);
        } else if (!strcmp(rq->method, "POST")) {
            curl_easy_setopt(h, CURLOPT_POST, 1L);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? (const char *)rq->body : "");
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
        } else if (!strcmp(rq->method, "DELETE")) {
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
        }
        atomic_fetch_add(&s->attempts, 1);
        CURLcode cc = curl_easy_perform(h);
        if (cc == CURLE_OK) {
            curl_off_t ft = -1;
            if (curl_easy_getinfo(h, CURLINFO_FILETIME_T, &ft) == CURLE_OK && ft > 0)
                resp->mtime_ns = (int64_t)ft * NS_PER_S;
        }
        pool_put(s, h);
        if (cc == CURLE_OK) {
            if (resp->status >= 300) parse_error_doc(resp);
            if (!status_retryable(resp)) break; /* a final answer */
            snprintf(last, sizeof last, "HTTP %ld %s %s", resp->status, resp->code, resp->msg);
            if (resp->status >= 500) resp->ambiguous = true;
        } else {
            if (x.overflow) {
                rc = SILT_FAIL(err, SILT_EIO, "s3 %s %s: answer larger than %u bytes", rq->op, what,
                               S3_DOC_MAX);
                break;
            }
            snprintf(last, sizeof last, "%s (%s)", curl_easy_strerror(cc), errbuf);
            if (!curl_retryable(cc)) {
                rc = SILT_FAIL(err, SILT_EIO, "s3 %s %s: %s", rq->op, what, last);
                break;
            }
            if (curl_ambiguous(cc)) resp->ambiguous = true;
        }
        if (attempt >= s->max_retries) {
            rc = SILT_FAIL(err, SILT_EIO, "s3 %s %s: giving up after %u attempts: %s", rq->op, what,
                           attempt + 1, last);
            break;
        }
        uint64_t bound = objstore__s3_backoff_bound_ms(attempt + 1);
        uint64_t ms = bound ? rand64(s) % (bound + 1) : 0;
        log_debug("objstore", "s3 %s %s: attempt %u failed (%s), retrying in %llu ms", rq->op, what,
                  attempt + 1, last, (unsigned long long)ms);
        sleep_ms(ms);
    }
    if (rc && rq->sink) rq->sink->len = sink_start;
    curl_slist_free_all(hdrs);
    buf_free(&url);
    return rc;
}

/* Map a final non-success answer to an error (invariant 13). */
static int s3_fail(const s3_resp *r, const char *op, const char *key, silt_err *err) {
    int code = SILT_EIO;
    if (!strcmp(r->code, "QuotaExceeded") || r->status == 507 ||
        !strcmp(r->code, "InsufficientStorage"))
        code = SILT_ENOSPC;
    else if (!strcmp(r->code, "EntityTooLarge"))
        code = SILT_ETOOBIG;
    return SILT_FAIL(err, code, "s3 %s %s: HTTP %ld%s%s%s%s", op, key ? key : "", r->status,
                     r->code[0] ? " " : "", r->code, r->msg[0] ? ": " : "", r->msg);
}

/* ------------------------------------------------------------------ operations */

static int s3_head(objstore *st, const char *key, objstore_meta *out, silt_err *err) {
    s3_store *s = (s3_store *)st;
    int rc = objstore__check_key(key, "head", err);
    if (rc) return rc;
    s3_resp r = {0};
    s3_req rq = {.method = "HEAD", .op = "head", .key = key};
    if ((rc = s3_do(s, &rq, &r, err))) goto fail;
    if (r.status == 200) {
        if (!r.has_length) {
            rc = SILT_FAIL(err, SILT_EIO, "s3 head %s: no Content-Length in the answer", key);
            goto fail;
        }
        out->size = r.length;
        out->mtime_ns = r.mtime_ns;
    } else if (r.status == 404) {
        rc = SILT_FAIL(err, SILT_ENOTFOUND, "s3 head %s: not found", key);
    } else {
        rc = s3_fail(&r, "head", key, err);
    }
fail:
    resp_fini(&r);
    return rc;
}

static int s3_get(objstore *st, const char *key, uint64_t off, uint64_t len, buf *out,
                  silt_err *err) {
    s3_store *s = (s3_store *)st;
    int rc = objstore__check_key(key, "get", err);
    if (rc) return rc;
    if (len == 0) { /* nothing to read, but the key must exist */
        objstore_meta m;
        return s3_head(st, key, &m, err);
    }
    char range[64];
    bool ranged = !(off == 0 && len == UINT64_MAX);
    uint64_t want = 0;
    if (ranged) {
        if (len > UINT64_MAX - off) {
            snprintf(range, sizeof range, "bytes=%llu-", (unsigned long long)off);
        } else {
            want = len;
            snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)off,
                     (unsigned long long)(off + len - 1));
        }
    }
    size_t start = out->len;
    s3_resp r = {0};
    s3_req rq = {.method = "GET",
                 .op = "get",
                 .key = key,
                 .range = ranged ? range : NULL,
                 .sink = out,
                 .expect_bytes = want};
    if ((rc = s3_do(s, &rq, &r, err))) goto fail;
    switch (r.status) {
        case 200:
            if (ranged) { /* the server ignored Range: cut the part out of the whole */
                size_t got = out->len - start;
                uint64_t n = objstore__clip(got, off, len);
                if (n) memmove(out->p + start, out->p + start + off, (size_t)n);
                out->len = start + (size_t)n;
            }
            break;
        case 206:
            if (!r.has_range || r.range_first != off || (want && out->len - start > want)) {
                out->len = start;
                rc = SILT_FAIL(err, SILT_EIO, "s3 get %s: answer does not match range %s", key,
                               range);
            }
            break;
        case 416:
            break; /* the range starts at or past the end: nothing, clipped */
        case 404:
            if (!strcmp(r.code, "NoSuchBucket"))
                rc = s3_fail(&r, "get", key, err);
            else
                rc = SILT_FAIL(err, SILT_ENOTFOUND, "s3 get %s: not found", key);
            break;
        default:
            rc = s3_fail(&r, "get", key, err);
    }
fail:
    if (rc) out->len = start;
    resp_fini(&r);
    return rc;
}

/* After a 412 that followed an attempt the server may have carried out: is the stored
 * object exactly data? (invariant 14) */
static int s3_same(s3_store *s, const char *key, const uint8_t *data, size_t len, bool *same,
                   silt_err *err) {
    buf b = {0};
    int rc = s3_get(&s->base, key, 0, UINT64_MAX, &b, err);
    *same = rc == SILT_OK && b.len == len && (len == 0 || memcmp(b.p, data, len) == 0);
    buf_free(&b);
    return rc == SILT_ENOTFOUND ? SILT_OK : rc;
}

static void abort_upload(s3_store *s, const char *key, const char *query_upload) {
    s3_resp r = {0};
    s3_req rq = {
        .method = "DELETE", .op = "abort multipart upload", .key = key, .query = query_upload};
    silt_err e = {0};
    int rc = s3_do(s, &rq, &r, &e);
    if (rc || (r.status != 204 && r.status != 200 && r.status != 404))
        log_warn("objstore",
                 "s3 abort multipart upload of %s failed (%s HTTP %ld %s): parts may "
                 "stay until the bucket's lifecycle rule removes them",
                 key, rc ? e.msg : "", r.status, r.code);
    resp_fini(&r);
}

/* Multipart upload (invariants 14a, 15). */
static int s3_put_multipart(s3_store *s, const char *key, const uint8_t *data, size_t len,
                            silt_err *err) {
    uint64_t part = s->part_bytes;
    if ((len + part - 1) / part > S3_MAX_PARTS) part = (len + S3_MAX_PARTS - 1) / S3_MAX_PARTS;
    if (part > S3_MAX_PART)
        return SILT_FAIL(err, SILT_ETOOBIG, "s3 put %s: %zu bytes is too large", key, len);
    size_t n_parts = (size_t)((len + part - 1) / part);
    /* early check; the conditional complete below is the real one where supported */
    objstore_meta m;
    int rc = s3_head(&s->base, key, &m, err);
    if (rc == SILT_OK) return SILT_FAIL(err, SILT_EEXIST, "s3 put %s: already exists", key);
    if (rc != SILT_ENOTFOUND) return rc;

    s3_resp r = {0};
    buf q = {0}, doc = {0}, upload_id = {0}, qu = {0};
    char **etags = xcalloc(n_parts, sizeof *etags);
    bool started = false;
    objstore__qparam p1[] = {{"uploads", ""}};
    objstore__canonical_query(&q, p1, 1);
    s3_req create = {.method = "POST",
                     .op = "create multipart upload",
                     .key = key,
                     .query = buf_cstr(&q),
                     .content_type = "application/octet-stream"};
    if ((rc = s3_do(s, &create, &r, err))) goto fail;
    if (r.status != 200) {
        rc = s3_fail(&r, "create multipart upload", key, err);
        goto fail;
    }
    if (objstore__xml_find(r.body.p, r.body.len, "UploadId", &upload_id) != SILT_OK ||
        upload_id.len == 0) {
        rc = SILT_FAIL(err, SILT_EIO, "s3 put %s: no UploadId in the answer", key);
        goto fail;
    }
    started = true;
    objstore__qparam pu[] = {{"uploadId", buf_cstr(&upload_id)}};
    objstore__canonical_query(&qu, pu, 1);
    for (size_t i = 0; i < n_parts; i++) {
        char num[24];
        snprintf(num, sizeof num, "%zu", i + 1);
        objstore__qparam pp[] = {{"partNumber", num}, {"uploadId", buf_cstr(&upload_id)}};
        buf_reset(&q);
        objstore__canonical_query(&q, pp, 2);
        size_t off = (size_t)(i * part), n = (size_t)(len - off < part ? len - off : part);
        resp_fini(&r);
        memset(&r, 0, sizeof r);
        if (atomic_load(&s->fail_part) == i + 1) {
            rc = SILT_FAIL(err, SILT_EIO, "s3 put %s: part %zu failed (injected)", key, i + 1);
            goto fail;
        }
        s3_req up = {.method = "PUT",
                     .op = "upload part",
                     .key = key,
                     .query = buf_cstr(&q),
                     .body = data + off,
                     .body_len = n};
        if ((rc = s3_do(s, &up, &r, err))) goto fail;
        if (r.status != 200) {
            rc = s3_fail(&r, "upload part", key, err);
            goto fail;
        }
        if (!r.etag[0]) {
            rc = SILT_FAIL(err, SILT_EIO, "s3 put %s: part %zu answer has no ETag", key, i + 1);
            goto fail;
        }
        etags[i] = xstrdup(r.etag);
    }
    buf_puts(&doc, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for (size_t i = 0; i < n_parts; i++) {
        buf_printf(&doc, "<Part><PartNumber>%zu</PartNumber><ETag>", i + 1);
        for (const char *c = etags[i]; *c; c++) { /* XML-escape the ETag text */
            if (*c == '&')
                buf_puts(&doc, "&amp;");
            else if (*c == '<')
                buf_puts(&doc, "&lt;");
            else
                buf_putc(&doc, *c);
        }
        buf_puts(&doc, "</ETag></Part>");
    }
    buf_puts(&doc, "</CompleteMultipartUpload>");
    /* invariant 14a: servers that ignore If-None-Match on the complete (Ceph 16) would let it
     * replace an object written meanwhile: look once more, just before */
    if ((rc = s3_head(&s->base, key, &m, err)) == SILT_OK) {
        rc = SILT_FAIL(err, SILT_EEXIST, "s3 put %s: already exists", key);
        goto fail;
    }
    if (rc != SILT_ENOTFOUND) goto fail;
    resp_fini(&r);
    memset(&r, 0, sizeof r);
    s3_req done = {.method = "POST",
                   .op = "complete multipart upload",
                   .key = key,
                   .query = buf_cstr(&qu),
                   .body = doc.p,
                   .body_len = doc.len,
                   .content_type = "application/xml",
                   .if_none_match = true};
    if ((rc = s3_do(s, &done, &r, err))) goto fail;
    if (r.status == 200 && r.body.len) { /* S3 may answer 200 with an error document */
        objstore__xml x;
        objstore__xml_tok t;
        objstore__xml_init(&x, r.body.p, r.body.len);
        bool is_err = objstore__xml_next(&x, &t) == SILT_OK && t.kind == XML_START &&
                      sv_eq_cstr(t.name, "Error");
        if (is_err) {
            parse_error_doc(&r);
            r.status = 500;
        }
    }
    if (r.status == 412) {
        rc = SILT_FAIL(err, SILT_EEXIST, "s3 put %s: already exists", key);
        goto fail;
    }
    if (r.status == 404 && !strcmp(r.code, "NoSuchUpload") && r.ambiguous) {
        /* an earlier attempt of the complete may have worked (invariant 14) */
        bool same = false;
        if ((rc = s3_same(s, key, data, len, &same, err))) goto fail;
        if (same) {
            started = false;
            goto fail; /* rc == SILT_OK */
        }
        rc = SILT_FAIL(err, SILT_EIO, "s3 put %s: upload vanished (NoSuchUpload)", key);
        goto fail;
    }
    if (r.status != 200) {
        rc = s3_fail(&r, "complete multipart upload", key, err);
        goto fail;
    }
    started = false; /* completed: nothing to abort */
    /* the ETag of the answer is empty on Ceph 16: confirm the object with HEAD */
    if ((rc = s3_head(&s->base, key, &m, err))) goto fail;
    if (m.size != len)
        rc = SILT_FAIL(err, SILT_EIO, "s3 put %s: stored object has %llu bytes, sent %zu", key,
                       (unsigned long long)m.size, len);
fail:
    if (started) abort_upload(s, key, buf_cstr(&qu));
    for (size_t i = 0; i < n_parts; i++) free(etags[i]);
    free(etags);
    resp_fini(&r);
    buf_free(&q);
    buf_free(&qu);
    buf_free(&doc);
    buf_free(&upload_id);
    return rc;
}

static int s3_put(objstore *st, const char *key, const uint8_t *data, size_t len, silt_err *err) {
    s3_store *s = (s3_store *)st;
    int rc = objstore__check_key(key, "put", err);
    if (rc) return rc;
    if (len > s->mp_threshold) return s3_put_multipart(s, key, data, len, err);
    s3_resp r = {0};
    s3_req rq = {.method = "PUT",
                 .op = "put",
                 .key = key,
                 .body = data,
                 .body_len = len,
                 .content_type = "application/octet-stream",
                 .if_none_match = true};
    if ((rc = s3_do(s, &rq, &r, err))) goto fail;
    if (r.status == 200) goto fail; /* rc == SILT_OK */
    if (r.status == 412) {
        bool same = false;
        if (r.ambiguous && (rc = s3_same(s, key, data, len, &same, err))) goto fail;
        if (!same) rc = SILT_FAIL(err, SILT_EEXIST, "s3 put %s: already exists", key);
        goto fail;
    }
    rc = s3_fail(&r, "put", key, err);
fail:
    resp_fini(&r);
    return rc;
}

static int s3_list(objstore *st, const char *prefix, const char *start_after, size_t max,
                   objstore_page *out, silt_err *err) {
    s3_store *s = (s3_store *)st;
    memset(out, 0, sizeof *out);
    int rc = objstore__check_list_args(prefix, start_after, err);
    if (rc) return rc;
    if (max == 0) max = OBJSTORE_PAGE_DEFAULT;
    size_t cap = 0;
    char *token = NULL, *after = NULL, *last_raw = NULL;
    buf q = {0};
    for (;;) {
        size_t want = max - out->n < OBJSTORE_PAGE_DEFAULT ? max - out->n : OBJSTORE_PAGE_DEFAULT;
        char mk[24];
        snprintf(mk, sizeof mk, "%zu", want);
        objstore__qparam params[5];
        size_t np = 0;
        params[np++] = (objstore__qparam){"list-type", "2"};
        params[np++] = (objstore__qparam){"max-keys", mk};
        if (prefix && *prefix) params[np++] = (objstore__qparam){"prefix", prefix};
        if (token)
            params[np++] = (objstore__qparam){"continuation-token", token};
        else if (start_after && *start_after)
            params[np++] = (objstore__qparam){"start-after", start_after};
        buf_reset(&q);
        objstore__canonical_query(&q, params, np);
        s3_resp r = {0};
        s3_req rq = {.method = "GET", .op = "list", .key = NULL, .query = buf_cstr(&q)};
        rc = s3_do(s, &rq, &r, err);
        if (!rc && r.status != 200) rc = s3_fail(&r, "list", prefix, err);
        objstore__s3_list l = {0};
        if (!rc) rc = objstore__s3_parse_list(r.body.p, r.body.len, &l, err);
        resp_fini(&r);
        if (rc) break;
        bool full = false;
        for (size_t i = 0; i < l.n; i++) {
            if (!objstore_key_valid(l.entries[i].key)) {
                log_debug("objstore", "s3 list: skipping key that is not a silt key");
                continue;
            }
            if (full) { /* a valid key follows the page: there is a next page */
                out->next = xstrdup(out->entries[out->n - 1].key);
                break;
            }
            objstore__page_push(out, &cap, l.entries[i].key, strlen(l.entries[i].key),
                                l.entries[i].size);
            full = out->n == max;
        }
        bool more = l.truncated;
        free(last_raw);
        last_raw = l.n ? xstrdup(l.entries[l.n - 1].key) : NULL;
        free(token);
        token = l.next_token;
        l.next_token = NULL;
        objstore__s3_list_free(&l);
        if (out->next || !more) break;
        if (full) {
            out->next = xstrdup(out->entries[out->n - 1].key);
            break;
        }
        if (!token) { /* truncated without a token: go on after the last key seen */
            if (!last_raw) {
                rc = SILT_FAIL(err, SILT_EIO, "s3 list %s: truncated empty answer",
                               prefix ? prefix : "");
                break;
            }
            free(after);
            after = last_raw;
            last_raw = NULL;
            start_after = after;
        }
    }
    free(after);
    free(last_raw);
    free(token);
    buf_free(&q);
    if (rc) objstore_page_free(out);
    return rc;
}

static int s3_del(objstore *st, const char *key, silt_err *err) {
    s3_store *s = (s3_store *)st;
    int rc = objstore__check_key(key, "del", err);
    if (rc) return rc;
    s3_resp r = {0};
    s3_req rq = {.method = "DELETE", .op = "del", .key = key};
    if ((rc = s3_do(s, &rq, &r, err))) goto fail;
    if (r.status != 204 && r.status != 200 && r.status != 404) rc = s3_fail(&r, "del", key, err);
fail:
    resp_fini(&r);
    return rc;
}

static void s3_destroy(objstore *st) {
    s3_store *s = (s3_store *)st;
    pthread_mutex_lock(&s->mu);
    assert(s->n_idle == s->n_open); /* no request in flight */
    for (size_t i = 0; i < s->n_idle; i++) curl_easy_cleanup(s->idle[i]);
    pthread_mutex_unlock(&s->mu);
    free(s->idle);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->bucket);
    free(s->sigv4);
    free(s->access_key);
    if (s->secret_key) memset(s->secret_key, 0, strlen(s->secret_key));
    free(s->secret_key);
    free(s);
}

static const objstore_vt s3_vt = {
    .put = s3_put,
    .get = s3_get,
    .head = s3_head,
    .list = s3_list,
    .del = s3_del,
    .destroy = s3_destroy,
};

uint64_t objstore__s3_attempts(objstore *st) {
    assert(st->vt == &s3_vt);
    return atomic_load(&((s3_store *)st)->attempts);
}

void objstore__s3_fail_part(objstore *st, unsigned part) {
    assert(st->vt == &s3_vt);
    atomic_store(&((s3_store *)st)->fail_part, part);
}

unsigned objstore__s3_handles(objstore *st) {
    s3_store *s = (s3_store *)st;
    assert(st->vt == &s3_vt);
    pthread_mutex_lock(&s->mu);
    unsigned n = s->n_open;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int objstore__s3_count_uploads(objstore *st, const char *prefix, size_t *n, silt_err *err) {
    s3_store *s = (s3_store *)st;
    assert(st->vt == &s3_vt);
    *n = 0;
    buf q = {0};
    objstore__qparam params[] = {{"uploads", ""}, {"prefix", prefix}};
    objstore__canonical_query(&q, params, 2);
    s3_resp r = {0};
    s3_req rq = {.method = "GET", .op = "list multipart uploads", .query = buf_cstr(&q)};
    int rc = s3_do(s, &rq, &r, err);
    if (!rc && r.status != 200) rc = s3_fail(&r, "list multipart uploads", prefix, err);
    if (!rc) {
        objstore__xml x;
        objstore__xml_tok t;
        objstore__xml_init(&x, r.body.p, r.body.len);
        while ((rc = objstore__xml_next(&x, &t)) == SILT_OK && t.kind != XML_END_DOC)
            if (t.kind == XML_START && x.depth == 2 && sv_eq_cstr(t.name, "Upload")) (*n)++;
        if (rc) rc = SILT_FAIL(err, SILT_EPARSE, "s3 list multipart uploads: bad XML");
    }
    resp_fini(&r);
    buf_free(&q);
    return rc;
}

static bool region_valid(const char *r) {
    size_t n = strlen(r);
    if (n == 0 || n > 64) return false;
    for (size_t i = 0; i < n; i++)
        if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= '0' && r[i] <= '9') || r[i] == '-'))
            return false;
    return true;
}

int objstore_s3_open(const objstore_s3_opts *o, objstore **out, silt_err *err) {
    *out = NULL;
    const char *region = o->region && *o->region ? o->region : "us-east-1";
    if (!region_valid(region))
        return SILT_FAIL(err, SILT_EINVAL, "s3: invalid region \"%s\"", region);
    if (!objstore__bucket_valid(o->bucket, o->virtual_hosted))
        return SILT_FAIL(err, SILT_EINVAL, "s3: invalid bucket name \"%s\"%s",
                         o->bucket ? o->bucket : "",
                         o->virtual_hosted ? " for virtual-hosted style (want a DNS name)" : "");
    if (!o->access_key_id || !*o->access_key_id || !o->secret_access_key || !*o->secret_access_key)
        return SILT_FAIL(err, SILT_EINVAL, "s3: access key id and secret access key are required");
    if (strchr(o->access_key_id, ':'))
        return SILT_FAIL(err, SILT_EINVAL, "s3: access key id must not contain ':'");
    objstore__endpoint ep;
    char deflt[128];
    const char *endpoint = o->endpoint && *o->endpoint ? o->endpoint : NULL;
    if (!endpoint) {
        snprintf(deflt, sizeof deflt, "https://s3.%s.amazonaws.com", region);
        endpoint = deflt;
    }
    int rc = objstore__endpoint_parse(endpoint, &ep, err);
    if (rc) return rc;
    if (!strcmp(ep.scheme, "http") && !o->allow_http)
        return SILT_FAIL(err, SILT_EINVAL,
                         "s3 endpoint %s is http://: refused unless allow_http "
                         "(--aws-allow-http) is set",
                         endpoint);
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return SILT_FAIL(err, SILT_EIO, "s3: curl_global_init failed: %s",
                         curl_easy_strerror(curl_init_rc));
    s3_store *s = xcalloc(1, sizeof *s);
    s->base.vt = &s3_vt;
    s->base.kind = "s3";
    s->ep = ep;
    s->bucket = xstrdup(o->bucket);
    size_t sl = strlen(region) + 16;
    s->sigv4 = xmalloc(sl);
    snprintf(s->sigv4, sl, "aws:amz:%s:s3", region);
    s->access_key = xstrdup(o->access_key_id);
    s->secret_key = xstrdup(o->secret_access_key);
    s->virtual_hosted = o->virtual_hosted;
    s->max_conns = o->max_connections ? o->max_connections : 16;
    s->max_retries = o->max_retries ? o->max_retries : 5;
    s->timeout_ms = o->timeout_ms ? o->timeout_ms : 30000;
    s->mp_threshold = o->multipart_threshold ? o->multipart_threshold : 16ull << 20;
    s->part_bytes = o->part_bytes ? o->part_bytes : 8ull << 20;
    if (s->part_bytes < S3_MIN_PART) s->part_bytes = S3_MIN_PART; /* S3's minimum part */
    if (s->part_bytes > S3_MAX_PART) s->part_bytes = S3_MAX_PART;
    s->idle = xcalloc(s->max_conns, sizeof *s->idle);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    atomic_init(&s->attempts, 0);
    atomic_init(&s->rng, (uint64_t)time_now_ns() ^ (uint64_t)(uintptr_t)s);
    *out = &s->base;
    return SILT_OK;
}
