/* SPDX-License-Identifier: MIT
 *
 * objstore internals shared by the backends and exposed to the unit tests: key and prefix
 * checks, page building, S3 URL and canonical-query builders, SHA-256, the small XML reader
 * for S3 responses, and test hooks. Nothing outside src/objstore/ and tests/unit/objstore/
 * includes this file. See README.md in this folder for the numbered invariants.
 */
#ifndef SILT_OBJSTORE_INT_H
#define SILT_OBJSTORE_INT_H

#include "objstore.h"

/* Longest key (S3's limit) and longest key segment (NAME_MAX of the file backend). */
#define OBJSTORE_KEY_MAX     1024
#define OBJSTORE_SEGMENT_MAX 255
/* Default and upper bound of a list page. */
#define OBJSTORE_PAGE_DEFAULT 1000

/* ------------------------------------------------------------------ keys (objstore_key.c) */

/* True if c may appear in a key segment: [A-Za-z0-9._-]. */
static inline bool objstore__key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}
/* True if [s, s+n) is one valid key segment: 1..255 key chars, not "." or "..". */
bool objstore__segment_valid(const char *s, size_t n);
/* A list prefix or start_after: NULL or "" or up to OBJSTORE_KEY_MAX key chars and '/'. */
bool objstore__prefix_valid(const char *p);
/* Validate key for an operation: SILT_OK or SILT_EINVAL with the key in the message. */
int objstore__check_key(const char *key, const char *op, silt_err *err);
/* Validate list arguments (prefix, start_after): SILT_OK or SILT_EINVAL. */
int objstore__check_list_args(const char *prefix, const char *start_after, silt_err *err);

/* Append one entry (the key is copied) to a page under construction. *cap is its capacity. */
void objstore__page_push(objstore_page *p, size_t *cap, const char *key, size_t key_len,
                         uint64_t size);

/* Clip a [off, off+len) request against an object of `size` bytes: *n is the byte count to
 * return (0 when off >= size). */
static inline uint64_t objstore__clip(uint64_t size, uint64_t off, uint64_t len) {
    if (off >= size) return 0;
    uint64_t avail = size - off;
    return len < avail ? len : avail;
}

/* ------------------------------------------------------------------ URI encoding
 * (objstore_sigv4.c) */

/* AWS URI encoding: unreserved characters (A-Za-z0-9-_.~) as they are, every other byte as
 * %XX with upper-case hex; '/' kept when keep_slash (object key paths). */
void objstore__uri_encode(buf *b, const char *s, size_t n, bool keep_slash);

typedef struct objstore__qparam {
    const char *name;
    const char *value; /* NULL or "": "name=" */
} objstore__qparam;

/* The canonical query string of SigV4 (and the one silt puts on the wire, since curl 7.88
 * signs the URL's query as it is): parameters sorted by encoded name, then by encoded value,
 * names and values URI-encoded, "name=value" joined with '&'. Appends to out (no '?'). */
void objstore__canonical_query(buf *out, const objstore__qparam *params, size_t n);

/* A parsed endpoint: scheme "http" or "https", host (with [..] for IPv6 literals), optional
 * port (0 = none) and base path (without trailing '/', "" for none). */
typedef struct objstore__endpoint {
    char scheme[8];
    char host[256];
    unsigned port;
    char path[256];
} objstore__endpoint;

/* Parse "http[s]://host[:port][/path]". SILT_EINVAL on anything else (user info, query,
 * fragment, empty host, bad port). */
int objstore__endpoint_parse(const char *url, objstore__endpoint *out, silt_err *err);

/* The request URL of key (NULL: the bucket itself) with an already canonical query (NULL or
 * "": none). Path style: scheme://host[:port]/base/bucket/key; virtual-hosted:
 * scheme://bucket.host[:port]/base/key. Each path segment URI-encoded. Appends to out. */
void objstore__s3_url(buf *out, const objstore__endpoint *ep, const char *bucket,
                      bool virtual_hosted, const char *key, const char *query);

/* True if name is a bucket name silt accepts: path style 1..255 of [A-Za-z0-9._-];
 * virtual-hosted style a DNS-compatible name, 3..63 of [a-z0-9.-], starting and ending with a
 * letter or digit. */
bool objstore__bucket_valid(const char *name, bool virtual_hosted);

/* ------------------------------------------------------------------ SHA-256 (objstore_sigv4.c) */

typedef struct objstore__sha256 {
    uint32_t h[8];
    uint64_t n_bytes;
    uint8_t block[64];
    size_t block_len;
} objstore__sha256;

void objstore__sha256_init(objstore__sha256 *c);
void objstore__sha256_update(objstore__sha256 *c, const void *p, size_t n);
void objstore__sha256_final(objstore__sha256 *c, uint8_t out[32]);
/* One-shot hex digest (64 lowercase hex digits + NUL). */
void objstore__sha256_hex(const void *p, size_t n, char out[65]);

/* ------------------------------------------------------------------ XML (objstore_sigv4.c) */

/* A pull reader over the few S3 response documents silt reads. It understands start, end
 * and empty-element tags (attributes skipped), text, the XML declaration, processing
 * instructions, comments and CDATA; DOCTYPE is refused. Element names keep their prefix. */
typedef enum objstore__xml_kind {
    XML_END_DOC = 0,
    XML_START,
    XML_END,
    XML_TEXT
} objstore__xml_kind;

#define XML_MAX_DEPTH 32

typedef struct objstore__xml {
    const char *p, *end;
    int depth;
    bool root_done;
    bool pending_end; /* an empty-element tag: report its END next */
    str_view pending_name;
    str_view open[XML_MAX_DEPTH]; /* names of the open elements, to match end tags */
} objstore__xml;

typedef struct objstore__xml_tok {
    objstore__xml_kind kind;
    str_view name; /* START and END */
    str_view text; /* TEXT: raw, entities not decoded; CDATA: verbatim */
    bool cdata;
} objstore__xml_tok;

void objstore__xml_init(objstore__xml *x, const void *p, size_t n);
/* Next token into *t. SILT_OK (XML_END_DOC at the end) or SILT_EPARSE on malformed input. */
int objstore__xml_next(objstore__xml *x, objstore__xml_tok *t);
/* Decode the five predefined entities and &#N; / &#xH; (to UTF-8) of raw text, appending
 * to out. SILT_EPARSE on an unknown or malformed entity or a code point that is not a
 * valid XML character. */
int objstore__xml_decode(buf *out, str_view raw);

/* The parts of a ListObjectsV2 answer silt uses. Keys are decoded, malloc'd. */
typedef struct objstore__s3_list {
    objstore_entry *entries;
    size_t n, cap;
    bool truncated;
    char *next_token; /* NextContinuationToken, malloc'd, NULL if absent */
} objstore__s3_list;

int objstore__s3_parse_list(const void *p, size_t n, objstore__s3_list *out, silt_err *err);
void objstore__s3_list_free(objstore__s3_list *l);
/* The text of the first element named `name` anywhere in the document, decoded, appended to
 * out. SILT_ENOTFOUND if there is none, SILT_EPARSE if the document is malformed. Used for
 * <Code>, <Message> (errors) and <UploadId>. */
int objstore__xml_find(const void *p, size_t n, const char *name, buf *out);

/* ------------------------------------------------------------------ test hooks */

/* s3: HTTP attempts (requests sent or tried, retries included) since open. */
uint64_t objstore__s3_attempts(objstore *s);
/* s3: make the upload of part number `part` (1-based; 0: none) of every later multipart
 * upload fail with SILT_EIO before it is sent, to test that the upload is aborted. */
void objstore__s3_fail_part(objstore *s, unsigned part);
/* s3: CURL handles created (idle or in use); never above max_connections. */
unsigned objstore__s3_handles(objstore *s);
/* s3: how many multipart uploads under prefix are in progress (ListMultipartUploads). */
int objstore__s3_count_uploads(objstore *s, const char *prefix, size_t *n, silt_err *err);
/* s3: the retry delay bound before attempt `attempt` (1-based retry number), in ms:
 * min(cap, base * 2^(attempt-1)); the actual sleep is uniform in [0, bound] (full jitter). */
uint64_t objstore__s3_backoff_bound_ms(unsigned attempt);

#endif
