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

void buf_put_double(buf *b, double v) {
    char tmp[40];
    int n = 0;
    if (v == 0) {
        n = snprintf(tmp, sizeof tmp, signbit(v) ? "-0" : "0");
    } else if (fabs(v) < 1e15 && v == (double)(int64_t)v) { /* range first: no UB cast */
        n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
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
