/* SPDX-License-Identifier: MIT
 *
 * The pure helpers of the S3 backend, tested directly: SHA-256 against the FIPS 180-4 /
 * NIST vectors, AWS URI encoding and canonical query strings, endpoint parsing, path-style
 * and virtual-hosted URLs, bucket names, the XML reader (entities, CDATA, malformed input)
 * and the ListObjectsV2 / error / UploadId extractors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "objstore/objstore_int.h"

#include <stdio.h>
#include <stdlib.h>

static void check_sha(const void *p, size_t n, const char *want) {
    char hex[65];
    objstore__sha256_hex(p, n, hex);
    assert_string_equal(hex, want);
}

static void test_objstore_sha256_vectors(void **state) {
    (void)state;
    check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_sha(m448, strlen(m448),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 =
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklm"
        "nopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    check_sha(m896, strlen(m896),
              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    check_sha("hello", 5, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    /* one million 'a' */
    size_t n = 1000000;
    char *a = xmalloc(n);
    memset(a, 'a', n);
    check_sha(a, n, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* fed in odd pieces across block boundaries: same digest */
    objstore__sha256 c;
    uint8_t d1[32], d2[32];
    objstore__sha256_init(&c);
    size_t off = 0, step = 1;
    while (off < n) {
        size_t k = step < n - off ? step : n - off;
        objstore__sha256_update(&c, a + off, k);
        off += k;
        step = step * 7 % 193 + 1;
    }
    objstore__sha256_final(&c, d1);
    objstore__sha256_init(&c);
    objstore__sha256_update(&c, a, n);
    objstore__sha256_final(&c, d2);
    assert_memory_equal(d1, d2, 32);
    /* lengths around the padding boundary (55, 56, 63, 64, 65 bytes) differ from each other */
    char prev[65] = "";
    for (size_t len = 54; len <= 66; len++) {
        char hex[65];
        objstore__sha256_hex(a, len, hex);
        assert_string_not_equal(hex, prev);
        memcpy(prev, hex, 65);
    }
    check_sha(a, 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    check_sha(a, 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    check_sha(a, 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
    free(a);
}

static void test_objstore_uri_encode(void **state) {
    (void)state;
    buf b = {0};
    objstore__uri_encode(&b, "AZaz09-_.~", 10, false);
    assert_string_equal(buf_cstr(&b), "AZaz09-_.~");
    buf_reset(&b);
    objstore__uri_encode(&b, "a b/c+d=e&f%\xc3\xa4*", 15, false);
    assert_string_equal(buf_cstr(&b), "a%20b%2Fc%2Bd%3De%26f%25%C3%A4%2A");
    buf_reset(&b);
    objstore__uri_encode(&b, "dbs/1/2/x y", 11, true);
    assert_string_equal(buf_cstr(&b), "dbs/1/2/x%20y");
    buf_free(&b);
}

static void test_objstore_canonical_query(void **state) {
    (void)state;
    buf b = {0};
    objstore__qparam p1[] = {{"uploads", ""}};
    objstore__canonical_query(&b, p1, 1);
    assert_string_equal(buf_cstr(&b), "uploads="); /* not a bare "uploads" */
    buf_reset(&b);
    objstore__qparam p2[] = {{"start-after", "a/b c"},
                             {"prefix", "dbs/1/"},
                             {"max-keys", "3"},
                             {"list-type", "2"},
                             {"continuation-token", "1/+x=="}};
    objstore__canonical_query(&b, p2, 5);
    assert_string_equal(buf_cstr(&b), "continuation-token=1%2F%2Bx%3D%3D&list-type=2&max-keys=3&"
                                      "prefix=dbs%2F1%2F&start-after=a%2Fb%20c");
    buf_reset(&b);
    objstore__qparam p3[] = {{"uploadId", "2~abc"}, {"partNumber", "10"}};
    objstore__canonical_query(&b, p3, 2);
    assert_string_equal(buf_cstr(&b), "partNumber=10&uploadId=2~abc");
    buf_reset(&b);
    /* sorted by encoded name (byte order: upper case before lower case), then value */
    objstore__qparam p4[] = {{"b", "2"}, {"B", "1"}, {"a", NULL}, {"b", "1"}};
    objstore__canonical_query(&b, p4, 4);
    assert_string_equal(buf_cstr(&b), "B=1&a=&b=1&b=2");
    buf_reset(&b);
    objstore__canonical_query(&b, NULL, 0);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_objstore_endpoint_parse(void **state) {
    (void)state;
    objstore__endpoint ep;
    assert_int_equal(objstore__endpoint_parse("http://127.0.0.1:20480", &ep, NULL), SILT_OK);
    assert_string_equal(ep.scheme, "http");
    assert_string_equal(ep.host, "127.0.0.1");
    assert_int_equal(ep.port, 20480);
    assert_string_equal(ep.path, "");
    assert_int_equal(objstore__endpoint_parse("HTTPS://s3.eu-west-3.amazonaws.com/", &ep, NULL),
                     SILT_OK);
    assert_string_equal(ep.scheme, "https");
    assert_int_equal(ep.port, 0);
    assert_string_equal(ep.path, "");
    assert_int_equal(objstore__endpoint_parse("https://[::1]:9000/base/s3//", &ep, NULL), SILT_OK);
    assert_string_equal(ep.host, "[::1]");
    assert_int_equal(ep.port, 9000);
    assert_string_equal(ep.path, "/base/s3");
    const char *bad[] = {
        NULL,           "",           "127.0.0.1:9000", "ftp://h",     "http://",    "http://:80",
        "http://u@h",   "http://h:",  "http://h:65536", "http://h:0",  "http://h?x", "http://h/p?x",
        "http://h/p#f", "http://h h", "http://[zz]:1",  "http://h/a b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        silt_err e = {0};
        if (objstore__endpoint_parse(bad[i], &ep, &e) != SILT_EINVAL)
            fail_msg("accepted endpoint #%zu %s", i, bad[i] ? bad[i] : "(null)");
        assert_int_equal(e.code, SILT_EINVAL);
    }
}

static void url(const char *endpoint, const char *bucket, bool vh, const char *key,
                const char *query, const char *want) {
    objstore__endpoint ep;
    assert_int_equal(objstore__endpoint_parse(endpoint, &ep, NULL), SILT_OK);
    buf b = {0};
    objstore__s3_url(&b, &ep, bucket, vh, key, query);
    assert_string_equal(buf_cstr(&b), want);
    buf_free(&b);
}

static void test_objstore_s3_url_builders(void **state) {
    (void)state;
    /* path style */
    url("http://127.0.0.1:20480", "silt-test", false, "dbs/1/2/2024-01-01/7.parquet", NULL,
        "http://127.0.0.1:20480/silt-test/dbs/1/2/2024-01-01/7.parquet");
    url("http://127.0.0.1:20480", "silt-test", false, NULL, "list-type=2&prefix=a%2F",
        "http://127.0.0.1:20480/silt-test?list-type=2&prefix=a%2F");
    url("https://minio.local/s3/", "b", false, "k",
        "uploads=", "https://minio.local/s3/b/k?uploads=");
    /* virtual-hosted style */
    url("https://s3.eu-west-3.amazonaws.com", "my-bucket", true, "dbs/1/x.parquet", NULL,
        "https://my-bucket.s3.eu-west-3.amazonaws.com/dbs/1/x.parquet");
    url("https://s3.eu-west-3.amazonaws.com", "my-bucket", true, NULL, "list-type=2",
        "https://my-bucket.s3.eu-west-3.amazonaws.com/?list-type=2");
    url("http://s3.local:9000/base", "b.c-d", true, "k", "partNumber=1&uploadId=x",
        "http://b.c-d.s3.local:9000/base/k?partNumber=1&uploadId=x");
    /* keys and buckets are percent-encoded segment by segment (keys never need it: their
     * characters are all unreserved) */
    url("http://h", "Bucket_1", false, "a.b/c-d/e_f", "", "http://h/Bucket_1/a.b/c-d/e_f");
}

static void test_objstore_bucket_names(void **state) {
    (void)state;
    assert_true(objstore__bucket_valid("silt-test", false));
    assert_true(objstore__bucket_valid("silt-test", true));
    assert_true(objstore__bucket_valid("Legacy_Bucket", false));
    assert_false(objstore__bucket_valid("Legacy_Bucket", true));
    assert_true(objstore__bucket_valid("a.b.c", true));
    assert_false(objstore__bucket_valid("a..b", true));
    assert_false(objstore__bucket_valid("-ab", true));
    assert_false(objstore__bucket_valid("ab-", true));
    assert_false(objstore__bucket_valid("ab", true));
    assert_false(objstore__bucket_valid("", false));
    assert_false(objstore__bucket_valid(NULL, false));
    assert_false(objstore__bucket_valid("a/b", false));
    assert_false(objstore__bucket_valid("..", false));
    char longb[70];
    memset(longb, 'a', 64);
    longb[64] = 0;
    assert_false(objstore__bucket_valid(longb, true));
    assert_true(objstore__bucket_valid(longb, false));
}

static void test_objstore_xml_reader(void **state) {
    (void)state;
    const char *doc =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->"
        "<a x=\"1>2\" y='q'><b>t&lt;1&#x41;&#66;</b><e/><c><![CDATA[<raw&>]]></c></a>\n";
    objstore__xml x;
    objstore__xml_tok t;
    objstore__xml_init(&x, doc, strlen(doc));
    const char *want[] = {
        "S:a", "S:b", "T:t&lt;1&#x41;&#66;", "E:b", "S:e", "E:e", "S:c", "C:<raw&>", "E:c", "E:a"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(objstore__xml_next(&x, &t), SILT_OK);
        char got[64];
        if (t.kind == XML_TEXT)
            snprintf(got, sizeof got, "%c:%.*s", t.cdata ? 'C' : 'T', (int)t.text.n, t.text.p);
        else
            snprintf(got, sizeof got, "%c:%.*s", t.kind == XML_START ? 'S' : 'E', (int)t.name.n,
                     t.name.p);
        assert_string_equal(got, want[i]);
    }
    assert_int_equal(objstore__xml_next(&x, &t), SILT_OK);
    assert_int_equal(t.kind, XML_END_DOC);

    buf b = {0};
    assert_int_equal(objstore__xml_decode(&b, SV("a&amp;b&quot;&apos;&gt;&#233;&#x1F600;")),
                     SILT_OK);
    assert_string_equal(buf_cstr(&b), "a&b\"'>\xc3\xa9\xf0\x9f\x98\x80");
    const char *bad_ent[] = {"&",    "&amp",     "&bogus;",    "&#;",    "&#x;",
                             "&#0;", "&#xD800;", "&#x110000;", "&#12a;", "&#99999999999;"};
    for (size_t i = 0; i < sizeof bad_ent / sizeof bad_ent[0]; i++) {
        buf_reset(&b);
        if (objstore__xml_decode(&b, sv_from(bad_ent[i])) != SILT_EPARSE)
            fail_msg("decoded bad entity %s", bad_ent[i]);
    }
    buf_free(&b);

    const char *bad_docs[] = {"",
                              "<a>",
                              "<a></b>",
                              "<a><b></a></b>",
                              "</a>",
                              "text<a/>",
                              "<a/><b/>",
                              "<!DOCTYPE a><a/>",
                              "<a x='1></a>",
                              "<a><!-- x </a>",
                              "<1a/>",
                              "<a><![CDATA[x</a>",
                              "<a/ >",
                              "<a b=\"<\"/>"};
    for (size_t i = 0; i < sizeof bad_docs / sizeof bad_docs[0]; i++) {
        objstore__xml_init(&x, bad_docs[i], strlen(bad_docs[i]));
        int rc;
        int guard = 0;
        do {
            rc = objstore__xml_next(&x, &t);
        } while (rc == SILT_OK && t.kind != XML_END_DOC && ++guard < 100);
        if (rc != SILT_EPARSE) fail_msg("accepted bad document #%zu: %s", i, bad_docs[i]);
    }
    /* deep nesting is refused, not a stack overflow */
    buf deep = {0};
    for (int i = 0; i < 100; i++) buf_puts(&deep, "<a>");
    objstore__xml_init(&x, deep.p, deep.len);
    int rc, guard = 0;
    do {
        rc = objstore__xml_next(&x, &t);
    } while (rc == SILT_OK && t.kind != XML_END_DOC && ++guard < 1000);
    assert_int_equal(rc, SILT_EPARSE);
    buf_free(&deep);
}

static void test_objstore_s3_parse_list(void **state) {
    (void)state;
    const char *doc =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult "
        "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>silt-test</Name>"
        "<Prefix>t/</Prefix><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"
        "<Contents><Key>t/a b&amp;c</Key><LastModified>2026-11-25T17:55:01.329Z</LastModified>"
        "<ETag>&quot;5d41&quot;</ETag><Size>5</Size><StorageClass>STANDARD</StorageClass>"
        "</Contents><Contents><Size>18446744073709551615</Size><Key>t/&#x41;</Key></Contents>"
        "<KeyCount>2</KeyCount><NextContinuationToken>1~x/y&amp;</NextContinuationToken>"
        "</ListBucketResult>";
    objstore__s3_list l;
    assert_int_equal(objstore__s3_parse_list(doc, strlen(doc), &l, NULL), SILT_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.entries[0].key, "t/a b&c");
    assert_int_equal(l.entries[0].size, 5);
    assert_string_equal(l.entries[1].key, "t/A");
    assert_true(l.entries[1].size == UINT64_MAX);
    assert_true(l.truncated);
    assert_string_equal(l.next_token, "1~x/y&");
    objstore__s3_list_free(&l);

    const char *empty = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
    assert_int_equal(objstore__s3_parse_list(empty, strlen(empty), &l, NULL), SILT_OK);
    assert_int_equal(l.n, 0);
    assert_false(l.truncated);
    assert_null(l.next_token);
    objstore__s3_list_free(&l);

    const char *bad[] = {
        "<Error><Code>AccessDenied</Code></Error>",
        "<ListBucketResult><Contents><Key>a</Key></Contents></ListBucketResult>",   /* no Size */
        "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>", /* no Key */
        "<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents></ListBucketResult>",
        ("<ListBucketResult><Contents><Key>a</Key><Size>18446744073709551616</Size></Contents>"
         "</ListBucketResult>"),
        "<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a&zz;</Key><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Size>1</Size></Contents>",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        silt_err e = {0};
        if (objstore__s3_parse_list(bad[i], strlen(bad[i]), &l, &e) != SILT_EPARSE)
            fail_msg("accepted bad list #%zu", i);
        assert_int_equal(l.n, 0);
        assert_null(l.entries);
    }
}

static void test_objstore_xml_find(void **state) {
    (void)state;
    const char *err = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>QuotaExceeded</Code>"
                      "<Message>over &lt;quota&gt;</Message><BucketName>b</BucketName></Error>";
    buf b = {0};
    assert_int_equal(objstore__xml_find(err, strlen(err), "Code", &b), SILT_OK);
    assert_string_equal(buf_cstr(&b), "QuotaExceeded");
    buf_reset(&b);
    assert_int_equal(objstore__xml_find(err, strlen(err), "Message", &b), SILT_OK);
    assert_string_equal(buf_cstr(&b), "over <quota>");
    buf_reset(&b);
    assert_int_equal(objstore__xml_find(err, strlen(err), "UploadId", &b), SILT_ENOTFOUND);
    const char *init = "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                       "<UploadId>2~bts1XH9Ep_s0CxH</UploadId></InitiateMultipartUploadResult>";
    assert_int_equal(objstore__xml_find(init, strlen(init), "UploadId", &b), SILT_OK);
    assert_string_equal(buf_cstr(&b), "2~bts1XH9Ep_s0CxH");
    buf_reset(&b);
    assert_int_equal(objstore__xml_find("<a><Code>x", 10, "Code", &b), SILT_EPARSE);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objstore_sha256_vectors),
        cmocka_unit_test(test_objstore_uri_encode),
        cmocka_unit_test(test_objstore_canonical_query),
        cmocka_unit_test(test_objstore_endpoint_parse),
        cmocka_unit_test(test_objstore_s3_url_builders),
        cmocka_unit_test(test_objstore_bucket_names),
        cmocka_unit_test(test_objstore_xml_reader),
        cmocka_unit_test(test_objstore_s3_parse_list),
        cmocka_unit_test(test_objstore_xml_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
