/* SPDX-License-Identifier: MIT
 *
 * Growable byte buffers, string views, varints, and the text encoders the output formats
 * share (JSON string escaping, CSV fields, shortest round-trip doubles). */
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

bool sv_ieq_cstr(str_view a, const char *s) {
    size_t n = strlen(s);
    if (a.n != n) return false;
    for (size_t i = 0; i < n; i++) {
        char x = a.p[i], y = s[i];
        if (x >= 'A' && x <= 'Z') x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z') y = (char)(y + 32);
        if (x != y) return false;
    }
    return true;
}

void buf_reserve(buf *b, size_t extra) {
    if (b->cap - b->len >= extra) return;
    size_t c = b->cap ? b->cap : 256;
    while (c - b->len < extra) c *= 2;
    b->p = xrealloc(b->p, c);
    b->cap = c;
}

void buf_append(buf *b, const void *p, size_t n) {
    if (!n) return;
    buf_reserve(b, n);
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void buf_putc(buf *b, char c) {
    buf_reserve(b, 1);
    b->p[b->len++] = (uint8_t)c;
}

void buf_puts(buf *b, const char *s) { buf_append(b, s, strlen(s)); }

void buf_printf(buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        buf_reserve(b, (size_t)n + 1);
        vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void buf_free(buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

char *buf_cstr(buf *b) {
    buf_reserve(b, 1);
    b->p[b->len] = 0;
    return (char *)b->p;
}

void buf_json_escape(buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    buf_reserve(b, n + 2);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        buf_append(b, s + start, i - start);
        start = i + 1;
        switch (c) {
            case '"': buf_append(b, "\\\"", 2); break;
            case '\\': buf_append(b, "\\\\", 2); break;
            case '\n': buf_append(b, "\\n", 2); break;
            case '\r': buf_append(b, "\\r", 2); break;
            case '\t': buf_append(b, "\\t", 2); break;
            case '\b': buf_append(b, "\\b", 2); break;
            case '\f': buf_append(b, "\\f", 2); break;
            default: {
                char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                buf_append(b, u, 6);
            }
        }
    }
    buf_append(b, s + start, n - start);
}

void buf_csv_field(buf *b, const char *s, size_t n) {
    bool quote = false;
    for (size_t i = 0; i < n && !quote; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r') quote = true;
    if (!quote) {
        buf_append(b, s, n);
        return;
    }
    buf_putc(b, '"');
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') {
            buf_append(b, s + start, i + 1 - start);
            buf_putc(b, '"');
            start = i + 1;
        }
    }
    buf_append(b, s + start, n - start);
    buf_putc(b, '"');
}

/* The shortest decimal that reads back as v (1e-3 <= v < 2^53, v not a power of two), by exact integer arithmetic: Ryu's digit-removal loop (Adams, PLDI 2018) run on
 * the interval of reals that round to v, scaled by 10^k and computed exactly in 128 bits
 * instead of from Ryu's tables, which the range limit makes unnecessary. Writes the digits
 * (no trailing zeros) to out and returns their count; *exp10 is the power of ten of the last
 * digit. 0 when v is outside the range (the caller falls back to printf). */
static int shortest_digits(double v, char out[24], int *exp10) {
    uint64_t bits;
    memcpy(&bits, &v, 8);
    uint64_t frac = bits & ((1ull << 52) - 1);
    int bexp = (int)((bits >> 52) & 0x7ff);
    if (bexp == 0 || bexp == 0x7ff || frac == 0) return 0; /* subnormal, inf/nan, 2^n */
    int e2 = bexp - 1075; /* v = m2 * 2^e2 */
    uint64_t m2 = frac | (1ull << 52);
    if (e2 >= 0 || v < 1e-3) return 0;
    int d = (int)floor(log10(v));
    int k = 18 - d; /* v * 10^k >= 10^17 even when log10 rounded up to a power of ten */
    if (k < 0 || k > 21) return 0;
    unsigned __int128 p10 = 1;
    for (int i = 0; i < k; i++) p10 *= 10;
    /* the interval (mm, mp) around mv, all times 2^(e2-2) (the halfway points to the
     * neighbours); mp < 2^55 and 10^21 < 2^70, so the products fit in 128 bits */
    uint64_t mv = 4 * m2, mp = 4 * m2 + 2, mm = 4 * m2 - 2;
    int s = 2 - e2;
    unsigned __int128 V = mv * p10, H = mp * p10, L = mm * p10;
    unsigned __int128 mask = ((unsigned __int128)1 << s) - 1;
    /* the scaled values are below 10^19 < 2^64 (v * 10^k < 10^19): the loop runs on 64-bit
     * integers, whose divisions by 10 the compiler makes multiplications (128-bit ones
     * are library calls) */
    if ((H >> s) >> 64) return 0;
    uint64_t vr = (uint64_t)(V >> s), vp = (uint64_t)(H >> s), vm = (uint64_t)(L >> s);
    bool accept = (m2 & 1) == 0; /* the halfway points read as the even neighbour */
    if (!accept && (H & mask) == 0) vp--;
    /* Ryu's loop: vr, vp, vm are the floors of the scaled values; at least one digit goes
     * (the interval is wider than 10 units: v * 10^k >= 10^17 and its width is more than
     * v * 10^k / 2^53), so the digits below vr only decide ties through vr_tz */
    int removed = 0, last = 0;
    bool vr_tz = (V & mask) == 0, vm_tz = accept && (L & mask) == 0;
    /* first while a shorter number still lies inside, then (the lower bound itself being
     * acceptable and ending in zeros) while vm keeps ending in 0 */
    for (int phase = 0; phase < 2; phase++) {
        while (phase == 0 ? vp / 10 > vm / 10 : vm_tz && vm > 0 && vm % 10 == 0) {
            if (phase == 0) vm_tz &= vm % 10 == 0;
            vr_tz &= last == 0;
            last = (int)(vr % 10);
            vr /= 10;
            vp /= 10;
            vm /= 10;
            removed++;
        }
    }
    if (vr_tz && last == 5 && vr % 2 == 0) last = 4; /* exactly half: to even */
    uint64_t o = vr + ((vr == vm && (!accept || !vm_tz)) || last >= 5);
    char tmp[48];
    int n = 0;
    while (o > 0) {
        tmp[n++] = (char)('0' + (int)(o % 10));
        o /= 10;
    }
    int e = removed - k;
    int z = 0;
    while (z < n - 1 && tmp[z] == '0') z++, e++; /* trailing zeros */
    if (n - z > 17) return 0;
    for (int i = 0; i < n - z; i++) out[i] = tmp[n - 1 - i];
    *exp10 = e;
    return n - z;
}

/* As printf("%.*g", prec, v) prints digits[0..n) * 10^exp10 (n <= prec, no trailing zeros). */
static int format_g(char *tmp, bool neg, const char *dg, int n, int exp10, int prec) {
    int x = exp10 + n - 1; /* the exponent of the first digit */
    int k = 0;
    if (neg) tmp[k++] = '-';
    if (x < -4 || x >= prec) {
        tmp[k++] = dg[0];
        if (n > 1) {
            tmp[k++] = '.';
            for (int i = 1; i < n; i++) tmp[k++] = dg[i];
        }
        k += snprintf(tmp + k, 8, "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
    } else if (x < 0) {
        tmp[k++] = '0';
        tmp[k++] = '.';
        for (int i = 0; i < -x - 1; i++) tmp[k++] = '0';
        for (int i = 0; i < n; i++) tmp[k++] = dg[i];
    } else {
        for (int i = 0; i <= x; i++) tmp[k++] = i < n ? dg[i] : '0';
        if (n > x + 1) {
            tmp[k++] = '.';
            for (int i = x + 1; i < n; i++) tmp[k++] = dg[i];
        }
    }
    return k;
}

void buf_put_double(buf *b, double v) {
    char tmp[40];
    int n = 0;
    char dg[24];
    int e10, nd;
    if (v == 0) {
        n = snprintf(tmp, sizeof tmp, signbit(v) ? "-0" : "0");
    } else if (fabs(v) < 1e15 && v == (double)(int64_t)v) { /* range first: no UB cast */
        n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    } else if (isfinite(v) && (nd = shortest_digits(fabs(v), dg, &e10)) > 0) {
        /* what the loop below prints, without printf's and strtod's multi-precision work */
        n = format_g(tmp, v < 0, dg, nd, e10, nd > 15 ? nd : 15);
    } else {
        for (int prec = 15; prec <= 17; prec++) {
            n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
            if (prec == 17 || strtod(tmp, NULL) == v) break;
        }
    }
    buf_append(b, tmp, (size_t)n);
}

void buf_put_i64(buf *b, int64_t v) {
    char tmp[24];
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int i = 24;
    do { tmp[--i] = (char)('0' + u % 10); u /= 10; } while (u);
    if (v < 0) tmp[--i] = '-';
    buf_append(b, tmp + i, (size_t)(24 - i));
}

void buf_put_u64(buf *b, uint64_t u) {
    char tmp[24];
    int i = 24;
    do { tmp[--i] = (char)('0' + u % 10); u /= 10; } while (u);
    buf_append(b, tmp + i, (size_t)(24 - i));
}

size_t varint_put(uint8_t *p, uint64_t v) {
    size_t i = 0;
    while (v >= 0x80) {
        p[i++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[i++] = (uint8_t)v;
    return i;
}

size_t varint_get(const uint8_t *p, size_t n, uint64_t *v) {
    uint64_t r = 0;
    for (size_t i = 0; i < n && i < 10; i++) {
        uint64_t byte = p[i];
        if (i == 9 && byte > 1) return 0; /* overflow */
        r |= (byte & 0x7f) << (7 * i);
        if (!(byte & 0x80)) {
            *v = r;
            return i + 1;
        }
    }
    return 0;
}

void buf_put_varint(buf *b, uint64_t v) {
    buf_reserve(b, 10);
    b->len += varint_put(b->p + b->len, v);
}
