/* SPDX-License-Identifier: MIT
 *
 * UTF-8 validation (RFC 3629): rejects overlong forms, surrogates and code points above
 * U+10FFFF. ASCII runs are skipped eight bytes at a time. */
#include "util.h"

bool utf8_valid(const uint8_t *p, size_t n, size_t *bad_off) {
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; min = 0x80; }
        else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; min = 0x800; }
        else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; min = 0x10000; }
        else goto bad;
        if (i + len > n) goto bad;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80) goto bad;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) goto bad;
        i += len;
    }
    return true;
bad:
    if (bad_off) *bad_off = i;
    return false;
}

void text_line_col(const char *src, size_t pos, uint32_t *line, uint32_t *col) {
    uint32_t l = 1, c = 1;
    for (size_t i = 0; i < pos; i++) {
        unsigned char ch = (unsigned char)src[i];
        if (ch == '\n') {
            l++;
            c = 1;
        } else if ((ch & 0xC0) != 0x80) {
            c++; /* characters, not UTF-8 continuation bytes */
        }
    }
    *line = l;
    *col = c;
}

size_t text_skip_space(const char *s, size_t n, size_t pos, size_t *comment_start) {
    for (;;) {
        while (pos < n && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r' ||
                           s[pos] == '\f' || s[pos] == '\v'))
            pos++;
        if (pos + 1 < n && s[pos] == '-' && s[pos + 1] == '-') {
            while (pos < n && s[pos] != '\n') pos++;
            continue;
        }
        if (pos + 1 < n && s[pos] == '/' && s[pos + 1] == '*') {
            size_t start = pos;
            for (pos += 2;; pos++) {
                if (pos + 1 >= n) {
                    *comment_start = start;
                    return SIZE_MAX;
                }
                if (s[pos] == '*' && s[pos + 1] == '/') break;
            }
            pos += 2;
            continue;
        }
        return pos;
    }
}
