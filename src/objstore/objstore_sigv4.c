/* SPDX-License-Identifier: MIT
 *
 * What the S3 backend needs beyond CURLOPT_AWS_SIGV4, kept apart from the network code so
 * the unit tests call it directly:
 *   - AWS URI encoding and the canonical query string. curl 7.88 signs the URL's path and
 *     query exactly as they appear in the URL, so silt puts the canonical form on the wire:
 *     parameters sorted, names and values percent-encoded, "name=" for an empty value
 *     (README invariant 11);
 *   - endpoint parsing and request URLs, path style (default) and virtual-hosted style;
 *   - SHA-256 (FIPS 180-4) for x-amz-content-sha256: OpenSSL is not linked, and a real body
 *     hash lets the server reject a body damaged on the way (invariant 12);
 *   - a small pull reader for the XML documents S3 answers with (ListObjectsV2 results,
 *     errors, CreateMultipartUpload results) and the two extractors built on it.
 * Pure functions, no shared state: thread-safe. */
#include "objstore_int.h"

#include <stdio.h>
#include <stdlib.h>

/* ------------------------------------------------------------------ URI encoding */

static bool unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

void objstore__uri_encode(buf *b, const char *s, size_t n, bool keep_slash) {
    static const char hex[] = "0123456789ABCDEF";
    buf_reserve(b, n * 3);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            b->p[b->len++] = c;
        } else {
            b->p[b->len++] = '%';
            b->p[b->len++] = (uint8_t)hex[c >> 4];
            b->p[b->len++] = (uint8_t)hex[c & 15];
        }
    }
}

typedef struct enc_param {
    char *name, *value;
} enc_param;

static int cmp_param(const void *pa, const void *pb) {
    const enc_param *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    return c ? c : strcmp(a->value, b->value);
}

void objstore__canonical_query(buf *out, const objstore__qparam *params, size_t n) {
    if (!n) return;
    enc_param *e = xcalloc(n, sizeof *e);
    for (size_t i = 0; i < n; i++) {
        buf t = {0};
        objstore__uri_encode(&t, params[i].name, strlen(params[i].name), false);
        e[i].name = xstrndup((const char *)t.p ? (const char *)t.p : "", t.len);
        buf_reset(&t);
        const char *v = params[i].value ? params[i].value : "";
        objstore__uri_encode(&t, v, strlen(v), false);
        e[i].value = xstrndup((const char *)t.p ? (const char *)t.p : "", t.len);
        buf_free(&t);
    }
    qsort(e, n, sizeof *e, cmp_param);
    for (size_t i = 0; i < n; i++) {
        if (i) buf_putc(out, '&');
        buf_puts(out, e[i].name);
        buf_putc(out, '=');
        buf_puts(out, e[i].value);
        free(e[i].name);
        free(e[i].value);
    }
    free(e);
}

/* ------------------------------------------------------------------ endpoints and URLs */

static bool host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

int objstore__endpoint_parse(const char *url, objstore__endpoint *out, silt_err *err) {
    memset(out, 0, sizeof *out);
    if (!url) return SILT_FAIL(err, SILT_EINVAL, "s3 endpoint: missing");
    const char *p;
    if (!strncasecmp(url, "http://", 7)) {
        memcpy(out->scheme, "http", 5);
        p = url + 7;
    } else if (!strncasecmp(url, "https://", 8)) {
        memcpy(out->scheme, "https", 6);
        p = url + 8;
    } else {
        return SILT_FAIL(err, SILT_EINVAL, "s3 endpoint %s: want http://host[:port] or https://...",
                         url);
    }
    const char *host = p, *host_end;
    if (*p == '[') { /* IPv6 literal */
        const char *close = strchr(p, ']');
        if (!close || close == p + 1) goto bad;
        for (const char *q = p + 1; q < close; q++)
            if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') ||
                  (*q >= 'A' && *q <= 'F') || *q == ':' || *q == '.'))
                goto bad;
        host_end = close + 1;
    } else {
        host_end = p;
        while (host_char(*host_end)) host_end++;
        if (host_end == host) goto bad;
    }
    if ((size_t)(host_end - host) >= sizeof out->host) goto bad;
    memcpy(out->host, host, (size_t)(host_end - host));
    p = host_end;
    if (*p == ':') {
        p++;
        unsigned port = 0;
        const char *d = p;
        while (*p >= '0' && *p <= '9' && port <= 65535) port = port * 10 + (unsigned)(*p++ - '0');
        if (p == d || port == 0 || port > 65535) goto bad;
        out->port = port;
    }
    if (*p && *p != '/') goto bad; /* user info, query, fragment, junk */
    size_t pl = strlen(p);
    while (pl && p[pl - 1] == '/') pl--;
    if (pl >= sizeof out->path) goto bad;
    for (size_t i = 0; i < pl; i++)
        if (!unreserved((unsigned char)p[i]) && p[i] != '/') goto bad;
    memcpy(out->path, p, pl);
    return SILT_OK;
bad:
    memset(out, 0, sizeof *out);
    return SILT_FAIL(err, SILT_EINVAL,
                     "s3 endpoint \"%s\" is not a valid http[s]://host[:port] URL", url);
}

bool objstore__bucket_valid(const char *name, bool virtual_hosted) {
    if (!name) return false;
    size_t n = strlen(name);
    if (!virtual_hosted) {
        if (n == 0 || n > 255) return false;
        for (size_t i = 0; i < n; i++)
            if (!objstore__key_char(name[i])) return false;
        return strcmp(name, ".") && strcmp(name, "..");
    }
    if (n < 3 || n > 63) return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && c != '.' && c != '-') return false;
        if ((i == 0 || i == n - 1) && !alnum) return false;
        if (c == '.' && name[i - 1] == '.') return false;
    }
    return true;
}

void objstore__s3_url(buf *out, const objstore__endpoint *ep, const char *bucket,
                      bool virtual_hosted, const char *key, const char *query) {
    buf_puts(out, ep->scheme);
    buf_puts(out, "://");
    if (virtual_hosted) {
        buf_puts(out, bucket);
        buf_putc(out, '.');
    }
    buf_puts(out, ep->host);
    if (ep->port) buf_printf(out, ":%u", ep->port);
    buf_puts(out, ep->path);
    if (!virtual_hosted) {
        buf_putc(out, '/');
        objstore__uri_encode(out, bucket, strlen(bucket), false);
    }
    if (key) {
        buf_putc(out, '/');
        objstore__uri_encode(out, key, strlen(key), true);
    } else if (virtual_hosted) {
        buf_putc(out, '/');
    }
    if (query && *query) {
        buf_putc(out, '?');
        buf_puts(out, query);
    }
}

/* ------------------------------------------------------------------ SHA-256 */

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static inline uint32_t ror32(uint32_t x, unsigned n) {
    return (x >> n) | (x << (32 - n));
}

static void sha256_block(uint32_t h[8], const uint8_t *b) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
               (uint32_t)b[4 * i + 2] << 8 | (uint32_t)b[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t S1 = ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = hh + S1 + ch + K256[i] + w[i];
        uint32_t S0 = ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22);
        uint32_t maj = (a & bb) ^ (a & c) ^ (bb & c);
        uint32_t t2 = S0 + maj;
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = bb;
        bb = a;
        a = t1 + t2;
    }
    h[0] += a, h[1] += bb, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

void objstore__sha256_init(objstore__sha256 *c) {
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, iv, sizeof iv);
    c->n_bytes = 0;
    c->block_len = 0;
}

void objstore__sha256_update(objstore__sha256 *c, const void *p, size_t n) {
    const uint8_t *q = p;
    c->n_bytes += n;
    if (c->block_len) {
        size_t take = 64 - c->block_len < n ? 64 - c->block_len : n;
        memcpy(c->block + c->block_len, q, take);
        c->block_len += take;
        q += take;
        n -= take;
        if (c->block_len < 64) return;
        sha256_block(c->h, c->block);
        c->block_len = 0;
    }
    for (; n >= 64; q += 64, n -= 64) sha256_block(c->h, q);
    if (n) memcpy(c->block, q, n);
    c->block_len = n;
}

void objstore__sha256_final(objstore__sha256 *c, uint8_t out[32]) {
    uint64_t bits = c->n_bytes * 8;
    uint8_t pad[72] = {0x80};
    size_t padn = (c->block_len < 56 ? 56 : 120) - c->block_len;
    for (int i = 0; i < 8; i++) pad[padn + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
    uint64_t keep = c->n_bytes;
    objstore__sha256_update(c, pad, padn + 8);
    c->n_bytes = keep;
    assert(c->block_len == 0);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->h[i];
    }
}

void objstore__sha256_hex(const void *p, size_t n, char out[65]) {
    static const char hex[] = "0123456789abcdef";
    objstore__sha256 c;
    uint8_t d[32];
    objstore__sha256_init(&c);
    objstore__sha256_update(&c, p, n);
    objstore__sha256_final(&c, d);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = 0;
}

/* ------------------------------------------------------------------ XML */

void objstore__xml_init(objstore__xml *x, const void *p, size_t n) {
    memset(x, 0, sizeof *x);
    x->p = p;
    x->end = (const char *)p + n;
}

static bool name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
static bool name_char(char c) {
    return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}
static bool xml_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Find the C string `s` at or after p; NULL if absent. */
static const char *find(const char *p, const char *end, const char *s) {
    size_t n = strlen(s);
    for (; p + n <= end; p++)
        if (memcmp(p, s, n) == 0) return p;
    return NULL;
}

static bool starts(const char *p, const char *end, const char *s) {
    size_t n = strlen(s);
    return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}

int objstore__xml_next(objstore__xml *x, objstore__xml_tok *t) {
    memset(t, 0, sizeof *t);
    if (x->pending_end) {
        x->pending_end = false;
        if (--x->depth == 0) x->root_done = true;
        t->kind = XML_END;
        t->name = x->pending_name;
        return SILT_OK;
    }
    for (;;) {
        const char *p = x->p, *end = x->end;
        if (p >= end) {
            t->kind = XML_END_DOC;
            return x->depth == 0 && x->root_done ? SILT_OK : SILT_EPARSE;
        }
        if (*p != '<') {
            const char *q = memchr(p, '<', (size_t)(end - p));
            if (!q) q = end;
            x->p = q;
            if (x->depth == 0) { /* only white space may stand outside the root */
                for (const char *r = p; r < q; r++)
                    if (!xml_space(*r)) return SILT_EPARSE;
                continue;
            }
            t->kind = XML_TEXT;
            t->text = (str_view){p, (size_t)(q - p)};
            return SILT_OK;
        }
        if (starts(p, end, "<?")) {
            const char *q = find(p + 2, end, "?>");
            if (!q) return SILT_EPARSE;
            x->p = q + 2;
            continue;
        }
        if (starts(p, end, "<!--")) {
            const char *q = find(p + 4, end, "-->");
            if (!q) return SILT_EPARSE;
            x->p = q + 3;
            continue;
        }
        if (starts(p, end, "<![CDATA[")) {
            const char *q = find(p + 9, end, "]]>");
            if (!q || x->depth == 0) return SILT_EPARSE;
            x->p = q + 3;
            t->kind = XML_TEXT;
            t->cdata = true;
            t->text = (str_view){p + 9, (size_t)(q - (p + 9))};
            return SILT_OK;
        }
        if (starts(p, end, "<!")) return SILT_EPARSE; /* DOCTYPE, entities: refused */
        bool closing = starts(p, end, "</");
        const char *n = p + (closing ? 2 : 1);
        if (n >= end || !name_start(*n)) return SILT_EPARSE;
        const char *ne = n;
        while (ne < end && name_char(*ne)) ne++;
        str_view name = {n, (size_t)(ne - n)};
        const char *q = ne;
        bool empty = false;
        if (closing) {
            while (q < end && xml_space(*q)) q++;
            if (q >= end || *q != '>') return SILT_EPARSE;
            if (x->depth == 0 || !sv_eq(x->open[x->depth - 1], name)) return SILT_EPARSE;
            x->p = q + 1;
            if (--x->depth == 0) x->root_done = true;
            t->kind = XML_END;
            t->name = name;
            return SILT_OK;
        }
        /* attributes: skip, honouring quotes */
        if (q < end && !xml_space(*q) && *q != '>' && *q != '/') return SILT_EPARSE;
        while (q < end && *q != '>') {
            if (*q == '"' || *q == '\'') {
                const char *cq = memchr(q + 1, *q, (size_t)(end - q - 1));
                if (!cq || memchr(q + 1, '<', (size_t)(cq - q - 1))) return SILT_EPARSE;
                q = cq + 1;
                continue;
            }
            if (*q == '<') return SILT_EPARSE;
            if (*q == '/') {
                if (q + 1 < end && q[1] == '>') {
                    empty = true;
                    q++;
                    break;
                }
                return SILT_EPARSE;
            }
            q++;
        }
        if (q >= end) return SILT_EPARSE;
        if (x->depth == 0 && x->root_done) return SILT_EPARSE; /* one root element */
        if (x->depth >= XML_MAX_DEPTH) return SILT_EPARSE;
        x->p = q + 1;
        x->open[x->depth++] = name;
        t->kind = XML_START;
        t->name = name;
        if (empty) {
            x->pending_end = true;
            x->pending_name = name;
        }
        return SILT_OK;
    }
}

static void put_utf8(buf *b, uint32_t cp) {
    if (cp < 0x80) {
        buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        buf_putc(b, (char)(0xc0 | (cp >> 6)));
        buf_putc(b, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        buf_putc(b, (char)(0xe0 | (cp >> 12)));
        buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
        buf_putc(b, (char)(0x80 | (cp & 0x3f)));
    } else {
        buf_putc(b, (char)(0xf0 | (cp >> 18)));
        buf_putc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
        buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
        buf_putc(b, (char)(0x80 | (cp & 0x3f)));
    }
}

static bool xml_char_ok(uint32_t c) {
    return c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff) ||
           (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

int objstore__xml_decode(buf *out, str_view raw) {
    const char *p = raw.p, *end = raw.p + raw.n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        if (!amp) {
            buf_append(out, p, (size_t)(end - p));
            break;
        }
        buf_append(out, p, (size_t)(amp - p));
        const char *semi = memchr(amp, ';', (size_t)(end - amp));
        if (!semi || semi - amp > 12) return SILT_EPARSE;
        str_view ent = {amp + 1, (size_t)(semi - amp - 1)};
        if (sv_eq_cstr(ent, "lt"))
            buf_putc(out, '<');
        else if (sv_eq_cstr(ent, "gt"))
            buf_putc(out, '>');
        else if (sv_eq_cstr(ent, "amp"))
            buf_putc(out, '&');
        else if (sv_eq_cstr(ent, "quot"))
            buf_putc(out, '"');
        else if (sv_eq_cstr(ent, "apos"))
            buf_putc(out, '\'');
        else if (ent.n >= 2 && ent.p[0] == '#') {
            uint32_t cp = 0;
            bool hexa = ent.p[1] == 'x';
            size_t i = hexa ? 2 : 1;
            if (i >= ent.n) return SILT_EPARSE;
            for (; i < ent.n; i++) {
                char c = ent.p[i];
                uint32_t d;
                if (c >= '0' && c <= '9')
                    d = (uint32_t)(c - '0');
                else if (hexa && c >= 'a' && c <= 'f')
                    d = (uint32_t)(c - 'a' + 10);
                else if (hexa && c >= 'A' && c <= 'F')
                    d = (uint32_t)(c - 'A' + 10);
                else
                    return SILT_EPARSE;
                cp = cp * (hexa ? 16 : 10) + d;
                if (cp > 0x10ffff) return SILT_EPARSE;
            }
            if (!xml_char_ok(cp)) return SILT_EPARSE;
            put_utf8(out, cp);
        } else {
            return SILT_EPARSE;
        }
        p = semi + 1;
    }
    return SILT_OK;
}

/* Append a text token (decoded unless CDATA) to b. */
static int take_text(buf *b, const objstore__xml_tok *t) {
    if (t->cdata) {
        buf_append(b, t->text.p, t->text.n);
        return SILT_OK;
    }
    return objstore__xml_decode(b, t->text);
}

static bool parse_u64(const uint8_t *p, size_t n, uint64_t *v) {
    /* trim XML white space */
    while (n && xml_space((char)p[0])) p++, n--;
    while (n && xml_space((char)p[n - 1])) n--;
    if (n == 0 || n > 20) return false;
    uint64_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
        uint64_t d = p[i] - '0';
        if (r > (UINT64_MAX - d) / 10) return false;
        r = r * 10 + d;
    }
    *v = r;
    return true;
}

int objstore__s3_parse_list(const void *p, size_t n, objstore__s3_list *out, silt_err *err) {
    memset(out, 0, sizeof *out);
    objstore__xml x;
    objstore__xml_init(&x, p, n);
    str_view path[XML_MAX_DEPTH];
    int depth = 0;
    buf text = {0};
    char *key = NULL;
    uint64_t size = 0;
    bool have_size = false, saw_root = false;
    int rc = SILT_OK;
    for (;;) {
        objstore__xml_tok t;
        if ((rc = objstore__xml_next(&x, &t))) goto bad;
        if (t.kind == XML_END_DOC) break;
        if (t.kind == XML_START) {
            if (depth == 0) {
                if (saw_root || !sv_eq_cstr(t.name, "ListBucketResult")) goto bad;
                saw_root = true;
            }
            if (depth >= XML_MAX_DEPTH) goto bad;
            path[depth++] = t.name;
            buf_reset(&text);
            if (depth == 2 && sv_eq_cstr(t.name, "Contents")) {
                free(key);
                key = NULL;
                have_size = false;
            }
        } else if (t.kind == XML_TEXT) {
            if ((rc = take_text(&text, &t))) goto bad;
        } else { /* XML_END */
            if (depth == 0 || !sv_eq(path[depth - 1], t.name)) goto bad;
            if (depth == 3 && sv_eq_cstr(path[1], "Contents")) {
                if (sv_eq_cstr(t.name, "Key")) {
                    free(key);
                    key = xstrndup(text.p ? (const char *)text.p : "", text.len);
                } else if (sv_eq_cstr(t.name, "Size")) {
                    if (!parse_u64(text.p, text.len, &size)) goto bad;
                    have_size = true;
                }
            } else if (depth == 2 && sv_eq_cstr(t.name, "Contents")) {
                if (!key || !have_size) goto bad;
                XGROW(out->entries, out->cap, out->n + 1);
                out->entries[out->n].key = key;
                out->entries[out->n].size = size;
                out->n++;
                key = NULL;
            } else if (depth == 2 && sv_eq_cstr(t.name, "IsTruncated")) {
                str_view v = {(const char *)text.p, text.len};
                if (sv_eq_cstr(v, "true"))
                    out->truncated = true;
                else if (sv_eq_cstr(v, "false"))
                    out->truncated = false;
                else
                    goto bad;
            } else if (depth == 2 && sv_eq_cstr(t.name, "NextContinuationToken")) {
                free(out->next_token);
                out->next_token = xstrndup(text.p ? (const char *)text.p : "", text.len);
            }
            depth--;
            buf_reset(&text);
        }
    }
    if (!saw_root) goto bad;
    buf_free(&text);
    free(key);
    return SILT_OK;
bad:
    buf_free(&text);
    free(key);
    objstore__s3_list_free(out);
    return SILT_FAIL(err, SILT_EPARSE, "s3 list: malformed ListObjectsV2 answer (%zu bytes)", n);
}

void objstore__s3_list_free(objstore__s3_list *l) {
    for (size_t i = 0; i < l->n; i++) free(l->entries[i].key);
    free(l->entries);
    free(l->next_token);
    memset(l, 0, sizeof *l);
}

int objstore__xml_find(const void *p, size_t n, const char *name, buf *out) {
    objstore__xml x;
    objstore__xml_init(&x, p, n);
    int in = 0; /* depth inside the element found, 0 = not inside */
    size_t start = out->len;
    for (;;) {
        objstore__xml_tok t;
        int rc = objstore__xml_next(&x, &t);
        if (rc) {
            out->len = start;
            return SILT_EPARSE;
        }
        switch (t.kind) {
            case XML_END_DOC:
                return SILT_ENOTFOUND;
            case XML_START:
                if (in)
                    in++;
                else if (sv_eq_cstr(t.name, name))
                    in = 1;
                break;
            case XML_TEXT:
                if (in == 1 && take_text(out, &t)) {
                    out->len = start;
                    return SILT_EPARSE;
                }
                break;
            case XML_END:
                if (in && --in == 0) return SILT_OK;
                break;
        }
    }
}
