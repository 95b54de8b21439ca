/* SPDX-License-Identifier: MIT
 *
 * Page codecs (parquet-format Compression.md). Writing: UNCOMPRESSED, SNAPPY (raw snappy
 * block), ZSTD (one zstd frame). Reading: those, plus GZIP (zlib inflate, gzip or zlib
 * header), LZ4_RAW (an LZ4 block, decoded here) and the deprecated LZ4 (Hadoop framing, or a
 * raw block as some writers produced). BROTLI and LZO are SILT_EUNSUPPORTED.
 *
 * Invariant: a decompressor writes at most `want` bytes into dst and succeeds only if it
 * produced exactly `want` bytes (the page header's uncompressed size).
 */
#include "pq_int.h"

#include <snappy-c.h>
#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>

struct pq_codec_ctx {
    ZSTD_CCtx *zc;
    ZSTD_DCtx *zd;
};

pq_codec_ctx *pq__codec_create(void) {
    return xcalloc(1, sizeof(pq_codec_ctx));
}

void pq__codec_destroy(pq_codec_ctx *c) {
    if (!c) return;
    ZSTD_freeCCtx(c->zc);
    ZSTD_freeDCtx(c->zd);
    free(c);
}

uint32_t pq__crc32(const uint8_t *p, size_t n) {
    uLong c = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)c;
}

bool pq__codec_supported(int codec) {
    switch (codec) {
        case PQC_UNCOMPRESSED:
        case PQC_SNAPPY:
        case PQC_GZIP:
        case PQC_ZSTD:
        case PQC_LZ4:
        case PQC_LZ4_RAW:
            return true;
        default:
            return false;
    }
}

int pq__compress(pq_codec_ctx *c, int codec, int level, const uint8_t *src, size_t n, buf *out,
                 silt_err *err) {
    switch (codec) {
        case PQC_UNCOMPRESSED:
            buf_append(out, src, n);
            return SILT_OK;
        case PQC_ZSTD: {
            if (!c->zc) c->zc = ZSTD_createCCtx();
            if (!c->zc) return SILT_FAIL(err, SILT_ENOMEM, "parquet: ZSTD_createCCtx failed");
            size_t bound = ZSTD_compressBound(n);
            buf_reserve(out, bound);
            size_t k = ZSTD_compressCCtx(c->zc, out->p + out->len, bound, src, n, level);
            if (ZSTD_isError(k))
                return SILT_FAIL(err, SILT_EIO, "parquet: zstd compression failed: %s",
                                 ZSTD_getErrorName(k));
            out->len += k;
            return SILT_OK;
        }
        case PQC_SNAPPY: {
            size_t bound = snappy_max_compressed_length(n);
            buf_reserve(out, bound);
            size_t k = bound;
            if (snappy_compress((const char *)src, n, (char *)out->p + out->len, &k) != SNAPPY_OK)
                return SILT_FAIL(err, SILT_EIO, "parquet: snappy compression failed");
            out->len += k;
            return SILT_OK;
        }
        default:
            return SILT_FAIL(err, SILT_EUNSUPPORTED, "parquet: cannot write codec %s",
                             pq__codec_name(codec));
    }
}

/* LZ4 block format: sequences of token, literal length extension, literals, 2-byte offset,
 * match length extension. Returns the bytes produced, or (size_t)-1 when malformed. */
static size_t lz4_block_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap) {
    const uint8_t *ip = src, *iend = src + n;
    size_t op = 0;
    while (ip < iend) {
        unsigned token = *ip++;
        size_t lit = token >> 4;
        if (lit == 15) {
            for (;;) {
                if (ip >= iend) return (size_t)-1;
                unsigned b = *ip++;
                lit += b;
                if (lit > cap) return (size_t)-1;
                if (b != 255) break;
            }
        }
        if (lit > (size_t)(iend - ip) || lit > cap - op) return (size_t)-1;
        memcpy(dst + op, ip, lit);
        ip += lit;
        op += lit;
        if (ip == iend) break; /* last sequence: literals only */
        if (iend - ip < 2) return (size_t)-1;
        size_t off = (size_t)ip[0] | ((size_t)ip[1] << 8);
        ip += 2;
        if (off == 0 || off > op) return (size_t)-1;
        size_t ml = token & 15;
        if (ml == 15) {
            for (;;) {
                if (ip >= iend) return (size_t)-1;
                unsigned b = *ip++;
                ml += b;
                if (ml > cap) return (size_t)-1;
                if (b != 255) break;
            }
        }
        ml += 4;
        if (ml > cap - op) return (size_t)-1;
        const uint8_t *m = dst + op - off;
        for (size_t i = 0; i < ml; i++) dst[op + i] = m[i];
        op += ml;
    }
    return op;
}

/* Hadoop LZ4 framing: blocks of [u32 BE uncompressed][u32 BE compressed][lz4 block]. */
static bool lz4_hadoop_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t want) {
    size_t op = 0;
    while (n > 0) {
        if (n < 8) return false;
        uint32_t ul =
            ((uint32_t)src[0] << 24) | ((uint32_t)src[1] << 16) | ((uint32_t)src[2] << 8) | src[3];
        uint32_t cl =
            ((uint32_t)src[4] << 24) | ((uint32_t)src[5] << 16) | ((uint32_t)src[6] << 8) | src[7];
        src += 8;
        n -= 8;
        if (cl > n || ul > want - op) return false;
        size_t k = lz4_block_decode(src, cl, dst + op, ul);
        if (k != ul) return false;
        op += k;
        src += cl;
        n -= cl;
    }
    return op == want;
}

int pq__decompress(pq_codec_ctx *c, int codec, const uint8_t *src, size_t n, uint8_t *dst,
                   size_t want, const char *what, silt_err *err) {
    switch (codec) {
        case PQC_UNCOMPRESSED:
            if (n != want)
                return SILT_FAIL(err, SILT_ECORRUPT,
                                 "parquet: %s: uncompressed page has %zu bytes, header says %zu",
                                 what, n, want);
            memcpy(dst, src, n);
            return SILT_OK;
        case PQC_ZSTD: {
            if (want == 0 && n == 0) return SILT_OK;
            if (!c->zd) c->zd = ZSTD_createDCtx();
            if (!c->zd) return SILT_FAIL(err, SILT_ENOMEM, "parquet: ZSTD_createDCtx failed");
            size_t k = ZSTD_decompressDCtx(c->zd, dst, want, src, n);
            if (ZSTD_isError(k))
                return SILT_FAIL(err, SILT_ECORRUPT, "parquet: %s: zstd: %s", what,
                                 ZSTD_getErrorName(k));
            if (k != want)
                return SILT_FAIL(err, SILT_ECORRUPT,
                                 "parquet: %s: zstd produced %zu bytes, header says %zu", what, k,
                                 want);
            return SILT_OK;
        }
        case PQC_SNAPPY: {
            if (want == 0 && n == 0) return SILT_OK;
            size_t ul;
            if (snappy_uncompressed_length((const char *)src, n, &ul) != SNAPPY_OK || ul != want)
                return SILT_FAIL(err, SILT_ECORRUPT,
                                 "parquet: %s: snappy length does not match the header (%zu)", what,
                                 want);
            size_t k = want;
            if (snappy_uncompress((const char *)src, n, (char *)dst, &k) != SNAPPY_OK || k != want)
                return SILT_FAIL(err, SILT_ECORRUPT, "parquet: %s: snappy data is corrupt", what);
            return SILT_OK;
        }
        case PQC_GZIP: {
            if (want == 0 && n == 0) return SILT_OK;
            z_stream zs;
            memset(&zs, 0, sizeof zs);
            if (inflateInit2(&zs, 15 + 32) != Z_OK)
                return SILT_FAIL(err, SILT_ENOMEM, "parquet: inflateInit2 failed");
            size_t in_done = 0, out_done = 0;
            int zr = Z_OK;
            while (zr == Z_OK) {
                uInt ic = (uInt)((n - in_done) > (1u << 30) ? (1u << 30) : (n - in_done));
                uInt oc = (uInt)((want - out_done) > (1u << 30) ? (1u << 30) : (want - out_done));
                zs.next_in = (Bytef *)(uintptr_t)(src + in_done);
                zs.avail_in = ic;
                zs.next_out = dst + out_done;
                zs.avail_out = oc;
                zr = inflate(&zs, Z_NO_FLUSH);
                in_done += ic - zs.avail_in;
                out_done += oc - zs.avail_out;
                if (zr == Z_OK && zs.avail_in == ic && zs.avail_out == oc) zr = Z_BUF_ERROR;
            }
            inflateEnd(&zs);
            if (zr != Z_STREAM_END || out_done != want)
                return SILT_FAIL(err, SILT_ECORRUPT, "parquet: %s: gzip data is corrupt", what);
            return SILT_OK;
        }
        case PQC_LZ4_RAW: {
            if (want == 0 && n == 0) return SILT_OK;
            size_t k = lz4_block_decode(src, n, dst, want);
            if (k != want)
                return SILT_FAIL(err, SILT_ECORRUPT, "parquet: %s: lz4 data is corrupt", what);
            return SILT_OK;
        }
        case PQC_LZ4: {
            if (want == 0 && n == 0) return SILT_OK;
            if (lz4_hadoop_decode(src, n, dst, want)) return SILT_OK;
            if (lz4_block_decode(src, n, dst, want) == want) return SILT_OK;
            return SILT_FAIL(err, SILT_ECORRUPT, "parquet: %s: lz4 data is corrupt", what);
        }
        default:
            return SILT_FAIL(err, SILT_EUNSUPPORTED, "parquet: %s: codec %s (%d) is not supported",
                             what, pq__codec_name(codec), codec);
    }
}
