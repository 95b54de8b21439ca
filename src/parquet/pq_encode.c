/* SPDX-License-Identifier: MIT
 *
 * Parquet value and level encodings (parquet-format Encodings.md), written from the spec:
 *
 *   bit packing      values packed LSB first, each value's bits in LSB-to-MSB order
 *   RLE hybrid       run*: varint(count << 1) + value in ceil(width/8) bytes LE  (RLE run)
 *                          varint(groups << 1 | 1) + groups*width bytes  (8*groups packed values)
 *   DELTA_BINARY_PACKED  header varint(block size), varint(miniblocks per block),
 *                    varint(total count), zigzag varint(first value); then blocks:
 *                    zigzag varint(min delta), one width byte per miniblock, the miniblocks
 *                    (deltas - min delta, bit packed; the last used miniblock padded to full
 *                    size; unused ones of the last block absent)
 *   BYTE_STREAM_SPLIT  byte j of value i at offset j*N + i
 *
 * Decoder invariants:
 *   (1) no read outside [p, end); a run or block that runs past the end is an error;
 *   (2) the work done is bounded by the input bytes plus the values asked for: RLE runs and
 *       zero-width miniblocks are skipped in O(1);
 *   (3) all delta arithmetic is in uint64 and wraps, as the spec requires.
 * PLAIN, dictionary indices and the byte-array encodings are assembled from these in
 * pq_reader.c and pq_writer.c.
 */
#include "pq_int.h"

/* ------------------------------------------------------------------ bit packing */

void pq__bitpack(uint8_t *out, const uint64_t *v, size_t n, int width) {
    if (width == 0) return;
    uint64_t acc = 0;
    int nbits = 0;
    size_t o = 0;
    uint64_t mask = width == 64 ? ~(uint64_t)0 : (((uint64_t)1 << width) - 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t x = v[i] & mask;
        int w = width;
        while (w > 0) {
            int take = 64 - nbits < w ? 64 - nbits : w;
            uint64_t part = take == 64 ? x : (x & (((uint64_t)1 << take) - 1));
            acc |= part << nbits;
            nbits += take;
            x = take == 64 ? 0 : x >> take;
            w -= take;
            if (nbits == 64) {
                le_put64(out + o, acc);
                o += 8;
                acc = 0;
                nbits = 0;
            }
        }
    }
    while (nbits > 0) {
        out[o++] = (uint8_t)acc;
        acc >>= 8;
        nbits -= 8;
    }
}

static inline uint64_t load_bits(const uint8_t *in, size_t in_len, uint64_t bit, int width) {
    size_t b = (size_t)(bit >> 3);
    int s = (int)(bit & 7);
    uint8_t tmp[16] = {0};
    size_t avail = in_len - b;
    memcpy(tmp, in + b, avail < 9 ? avail : 9);
    uint64_t lo = le_get64(tmp);
    uint64_t v = lo >> s;
    if (s + width > 64) v |= (uint64_t)tmp[8] << (64 - s);
    return width == 64 ? v : (v & (((uint64_t)1 << width) - 1));
}

void pq__bitunpack(const uint8_t *in, size_t in_len, uint64_t *v, size_t n, int width,
                   uint64_t first) {
    if (width == 0) {
        memset(v, 0, n * sizeof *v);
        return;
    }
    uint64_t bit = first * (uint64_t)width;
    size_t i = 0;
    /* fast path while 9 bytes can be read directly */
    if (width <= 56) {
        uint64_t mask = ((uint64_t)1 << width) - 1;
        for (; i < n && (bit >> 3) + 8 <= in_len; i++, bit += (uint64_t)width) {
            uint64_t w;
            memcpy(&w, in + (bit >> 3), 8);
            v[i] = (w >> (bit & 7)) & mask;
        }
    }
    for (; i < n; i++, bit += (uint64_t)width) v[i] = load_bits(in, in_len, bit, width);
}

/* ------------------------------------------------------------------ RLE / bit-packed hybrid */

static void rle_put_run(buf *out, uint64_t value, uint64_t count, int width) {
    int vbytes = (width + 7) / 8;
    while (count > 0) {
        uint64_t k = count > ((uint64_t)1 << 30) ? ((uint64_t)1 << 30) : count;
        buf_put_varint(out, k << 1);
        uint8_t tmp[8];
        le_put64(tmp, value);
        buf_append(out, tmp, (size_t)vbytes);
        count -= k;
    }
}

/* Bit-pack v[0..n) (n padded with zeros to a multiple of 8) as one run. */
#define RLE_BP_CHUNK 512
#define RLE_ENCODE_BODY(T)                                                                         \
    size_t i = 0, ps = 0; /* pending bit-packed values: [ps, i) */                                 \
    uint64_t tmp[RLE_BP_CHUNK];                                                                    \
    while (i < n) {                                                                                \
        size_t r = 1;                                                                              \
        while (i + r < n && v[i + r] == v[i]) r++;                                                 \
        if (r >= 8) {                                                                              \
            size_t pend = i - ps;                                                                  \
            if (pend % 8) {                                                                        \
                size_t k = 8 - pend % 8;                                                           \
                i += k;                                                                            \
                r -= k;                                                                            \
            }                                                                                      \
            if (r >= 8) {                                                                          \
                flush_bp_##T(out, v + ps, i - ps, width, tmp);                                     \
                rle_put_run(out, v[i], r, width);                                                  \
                i += r;                                                                            \
                ps = i;                                                                            \
            } else {                                                                               \
                i += r;                                                                            \
            }                                                                                      \
        } else {                                                                                   \
            i += r;                                                                                \
        }                                                                                          \
    }                                                                                              \
    flush_bp_##T(out, v + ps, i - ps, width, tmp);

#define RLE_FLUSH_FN(T)                                                                            \
    static void flush_bp_##T(buf *out, const T *v, size_t n, int width, uint64_t *tmp) {           \
        if (n == 0) return;                                                                        \
        size_t groups = (n + 7) / 8;                                                               \
        buf_put_varint(out, ((uint64_t)groups << 1) | 1);                                          \
        size_t done = 0;                                                                           \
        while (done < groups * 8) {                                                                \
            size_t k = groups * 8 - done < RLE_BP_CHUNK ? groups * 8 - done : RLE_BP_CHUNK;        \
            for (size_t j = 0; j < k; j++) tmp[j] = done + j < n ? v[done + j] : 0;                \
            size_t bytes = k * (size_t)width / 8;                                                  \
            buf_reserve(out, bytes + 8);                                                           \
            pq__bitpack(out->p + out->len, tmp, k, width);                                         \
            out->len += bytes;                                                                     \
            done += k;                                                                             \
        }                                                                                          \
    }

RLE_FLUSH_FN(uint32_t)
RLE_FLUSH_FN(uint8_t)

void pq__rle_encode_u32(buf *out, const uint32_t *v, size_t n, int width) {
    RLE_ENCODE_BODY(uint32_t)
}

void pq__rle_encode_u8(buf *out, const uint8_t *v, size_t n, int width) {
    RLE_ENCODE_BODY(uint8_t)
}

void pq__rle_init(pq_rle_dec *d, const uint8_t *p, size_t n, int width) {
    memset(d, 0, sizeof *d);
    d->p = p;
    d->end = p + n;
    d->width = width;
}

/* Read the next run header. */
static bool rle_next(pq_rle_dec *d) {
    for (;;) {
        if (d->p >= d->end) return false;
        uint64_t h;
        size_t k = varint_get(d->p, (size_t)(d->end - d->p), &h);
        if (!k) return false;
        d->p += k;
        if (h & 1) {
            uint64_t groups = h >> 1;
            if (groups == 0) continue;
            if (groups > ((uint64_t)1 << 40)) return false;
            uint64_t count = groups * 8;
            size_t left = (size_t)(d->end - d->p);
            uint64_t bytes = groups * (uint64_t)d->width;
            if (bytes > left) {
                /* a final run may be cut short: keep the whole values that are present */
                count = d->width ? (uint64_t)left * 8 / (uint64_t)d->width : count;
                bytes = left;
                if (count == 0) return false;
            }
            d->bp = d->p;
            d->bp_left = count;
            d->bp_pos = 0;
            d->p += bytes;
            return true;
        }
        uint64_t count = h >> 1;
        int vbytes = (d->width + 7) / 8;
        if ((size_t)(d->end - d->p) < (size_t)vbytes) return false;
        uint64_t val = 0;
        for (int i = 0; i < vbytes; i++) val |= (uint64_t)d->p[i] << (8 * i);
        d->p += vbytes;
        if (d->width < 32 && (val >> d->width)) return false;
        if (val > UINT32_MAX) return false;
        if (count == 0) continue;
        if (count > UINT32_MAX) count = UINT32_MAX; /* spec: runs < 2^31 */
        d->rle_left = (uint32_t)count;
        d->rle_val = (uint32_t)val;
        return true;
    }
}

bool pq__rle_get_u32(pq_rle_dec *d, uint32_t *out, size_t n) {
    uint64_t tmp[256];
    while (n > 0) {
        if (d->rle_left) {
            size_t k = n < d->rle_left ? n : d->rle_left;
            uint32_t val = d->rle_val;
            for (size_t i = 0; i < k; i++) out[i] = val;
            out += k;
            n -= k;
            d->rle_left -= (uint32_t)k;
        } else if (d->bp_left) {
            size_t k = n < d->bp_left ? n : (size_t)d->bp_left;
            if (k > 256) k = 256;
            size_t bytes = (size_t)(d->p - d->bp);
            pq__bitunpack(d->bp, bytes, tmp, k, d->width, d->bp_pos);
            for (size_t i = 0; i < k; i++) out[i] = (uint32_t)tmp[i];
            out += k;
            n -= k;
            d->bp_left -= k;
            d->bp_pos += k;
        } else if (!rle_next(d)) {
            return false;
        }
    }
    return true;
}

bool pq__rle_get_u8(pq_rle_dec *d, uint8_t *out, size_t n) {
    uint64_t tmp[256];
    while (n > 0) {
        if (d->rle_left) {
            size_t k = n < d->rle_left ? n : d->rle_left;
            if (d->rle_val > 255) return false;
            memset(out, (int)d->rle_val, k);
            out += k;
            n -= k;
            d->rle_left -= (uint32_t)k;
        } else if (d->bp_left) {
            size_t k = n < d->bp_left ? n : (size_t)d->bp_left;
            if (k > 256) k = 256;
            size_t bytes = (size_t)(d->p - d->bp);
            pq__bitunpack(d->bp, bytes, tmp, k, d->width, d->bp_pos);
            for (size_t i = 0; i < k; i++) out[i] = (uint8_t)tmp[i];
            out += k;
            n -= k;
            d->bp_left -= k;
            d->bp_pos += k;
        } else if (!rle_next(d)) {
            return false;
        }
    }
    return true;
}

bool pq__rle_skip(pq_rle_dec *d, uint64_t n, uint64_t *ones) {
    uint64_t tmp[256];
    uint64_t cnt = 0;
    while (n > 0) {
        if (d->rle_left) {
            uint64_t k = n < d->rle_left ? n : d->rle_left;
            if (d->rle_val) cnt += k;
            n -= k;
            d->rle_left -= (uint32_t)k;
        } else if (d->bp_left) {
            uint64_t k = n < d->bp_left ? n : d->bp_left;
            if (ones) {
                uint64_t done = 0;
                size_t bytes = (size_t)(d->p - d->bp);
                while (done < k) {
                    size_t c = k - done > 256 ? 256 : (size_t)(k - done);
                    pq__bitunpack(d->bp, bytes, tmp, c, d->width, d->bp_pos + done);
                    for (size_t i = 0; i < c; i++) cnt += tmp[i] != 0;
                    done += c;
                }
            }
            n -= k;
            d->bp_left -= k;
            d->bp_pos += k;
        } else if (!rle_next(d)) {
            return false;
        }
    }
    if (ones) *ones = cnt;
    return true;
}

/* ------------------------------------------------------------------ DELTA_BINARY_PACKED */

void pq__delta_encode(buf *out, const int64_t *v, size_t n) {
    const size_t bs = PQ_DELTA_BLOCK, nm = PQ_DELTA_MINIBLOCKS, ms = bs / nm;
    buf_put_varint(out, bs);
    buf_put_varint(out, nm);
    buf_put_varint(out, n);
    buf_put_varint(out, zigzag_enc(n ? v[0] : 0));
    uint64_t d[PQ_DELTA_BLOCK];
    for (size_t i = 1; i < n; i += bs) {
        size_t k = n - i < bs ? n - i : bs;
        int64_t mn = INT64_MAX;
        for (size_t j = 0; j < k; j++) {
            int64_t dj = (int64_t)((uint64_t)v[i + j] - (uint64_t)v[i + j - 1]);
            d[j] = (uint64_t)dj;
            if (dj < mn) mn = dj;
        }
        buf_put_varint(out, zigzag_enc(mn));
        uint8_t widths[PQ_DELTA_MINIBLOCKS] = {0};
        size_t used = (k + ms - 1) / ms;
        for (size_t m = 0; m < used; m++) {
            uint64_t mx = 0;
            for (size_t j = m * ms; j < (m + 1) * ms && j < k; j++) {
                d[j] -= (uint64_t)mn;
                if (d[j] > mx) mx = d[j];
            }
            widths[m] = (uint8_t)pq__bit_width64(mx);
        }
        for (size_t j = k; j < used * ms; j++) d[j] = 0; /* padding */
        buf_append(out, widths, nm);
        for (size_t m = 0; m < used; m++) {
            size_t bytes = ms * widths[m] / 8;
            buf_reserve(out, bytes + 8);
            pq__bitpack(out->p + out->len, d + m * ms, ms, widths[m]);
            out->len += bytes;
        }
    }
}

static bool get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    size_t k = varint_get(*p, (size_t)(end - *p), v);
    if (!k) return false;
    *p += k;
    return true;
}

bool pq__delta_init(pq_delta_dec *d, const uint8_t *p, size_t n, int max_width) {
    memset(d, 0, sizeof *d);
    d->p = p;
    d->end = p + n;
    d->max_width = max_width;
    uint64_t first;
    if (!get_varint(&d->p, d->end, &d->block_size) || !get_varint(&d->p, d->end, &d->n_mini) ||
        !get_varint(&d->p, d->end, &d->total) || !get_varint(&d->p, d->end, &first))
        return false;
    if (d->block_size == 0 || d->block_size % 128 || d->block_size > ((uint64_t)1 << 20))
        return false;
    if (d->n_mini == 0 || d->n_mini > 256 || d->block_size % d->n_mini) return false;
    d->mini_size = d->block_size / d->n_mini;
    if (d->mini_size % 8) return false;
    if (d->total > ((uint64_t)1 << 40)) return false;
    d->last = (uint64_t)zigzag_dec(first);
    d->left = d->total;
    d->first_pending = d->total > 0;
    return true;
}

/* Start the next miniblock (reading a block header first when needed). */
static bool delta_next_mini(pq_delta_dec *d) {
    if (d->block_left == 0) {
        uint64_t z;
        if (!get_varint(&d->p, d->end, &z)) return false;
        d->min_delta = (uint64_t)zigzag_dec(z);
        if ((uint64_t)(d->end - d->p) < d->n_mini) return false;
        d->widths = d->p;
        d->p += d->n_mini;
        d->mb_index = 0;
        d->block_left = d->left < d->block_size ? d->left : d->block_size;
    } else {
        d->mb_index++;
        if (d->mb_index >= d->n_mini) return false;
    }
    int w = d->widths[d->mb_index];
    if (w > d->max_width) return false;
    uint64_t bytes = d->mini_size * (uint64_t)w / 8;
    if (bytes > (uint64_t)(d->end - d->p)) return false;
    d->mb_width = w;
    d->mb_data = d->p;
    d->mb_pos = 0;
    d->p += bytes;
    return true;
}

/* Values still available in the current miniblock. */
static inline uint64_t delta_mb_avail(const pq_delta_dec *d) {
    if (!d->widths || d->block_left == 0) return 0;
    uint64_t a = d->mini_size - d->mb_pos;
    return a < d->block_left ? a : d->block_left;
}

static bool delta_run(pq_delta_dec *d, uint64_t *out, uint64_t n) {
    uint64_t tmp[256];
    if (n > d->left) return false;
    if (n && d->first_pending) {
        if (out) *out++ = d->last;
        d->first_pending = false;
        d->left--;
        n--;
    }
    while (n > 0) {
        uint64_t avail = delta_mb_avail(d);
        if (avail == 0) {
            if (!delta_next_mini(d)) return false;
            continue;
        }
        uint64_t k = n < avail ? n : avail;
        if (d->mb_width == 0) {
            if (out) {
                for (uint64_t i = 0; i < k; i++) {
                    d->last += d->min_delta;
                    out[i] = d->last;
                }
                out += k;
            } else {
                d->last += d->min_delta * k;
            }
        } else {
            uint64_t done = 0;
            size_t bytes = (size_t)(d->mini_size * (uint64_t)d->mb_width / 8);
            while (done < k) {
                size_t c = k - done > 256 ? 256 : (size_t)(k - done);
                pq__bitunpack(d->mb_data, bytes, tmp, c, d->mb_width, d->mb_pos + done);
                for (size_t i = 0; i < c; i++) {
                    d->last += d->min_delta + tmp[i];
                    if (out) *out++ = d->last;
                }
                done += c;
            }
        }
        d->mb_pos += k;
        d->block_left -= k;
        d->left -= k;
        n -= k;
    }
    return true;
}

bool pq__delta_get(pq_delta_dec *d, uint64_t *out, size_t n) {
    return delta_run(d, out, n);
}
bool pq__delta_skip(pq_delta_dec *d, uint64_t n) {
    return delta_run(d, NULL, n);
}

bool pq__delta_finish(pq_delta_dec *d, const uint8_t **end_out) {
    if (!delta_run(d, NULL, d->left)) return false;
    *end_out = d->p;
    return true;
}

/* ------------------------------------------------------------------ BYTE_STREAM_SPLIT */

void pq__bss_encode(uint8_t *out, const uint8_t *in, size_t n, size_t k) {
    if (k == 8) {
        uint8_t *s[8];
        for (size_t j = 0; j < 8; j++) s[j] = out + j * n;
        for (size_t i = 0; i < n; i++) {
            const uint8_t *v = in + i * 8;
            s[0][i] = v[0], s[1][i] = v[1], s[2][i] = v[2], s[3][i] = v[3];
            s[4][i] = v[4], s[5][i] = v[5], s[6][i] = v[6], s[7][i] = v[7];
        }
        return;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++) out[j * n + i] = in[i * k + j];
}

void pq__bss_decode(uint8_t *out, const uint8_t *in, size_t n, size_t k, size_t first,
                    size_t count) {
    if (k == 8) {
        const uint8_t *s[8];
        for (size_t j = 0; j < 8; j++) s[j] = in + j * n + first;
        for (size_t i = 0; i < count; i++) {
            uint8_t *v = out + i * 8;
            v[0] = s[0][i], v[1] = s[1][i], v[2] = s[2][i], v[3] = s[3][i];
            v[4] = s[4][i], v[5] = s[5][i], v[6] = s[6][i], v[7] = s[7][i];
        }
        return;
    }
    for (size_t i = 0; i < count; i++)
        for (size_t j = 0; j < k; j++) out[i * k + j] = in[j * n + first + i];
}
