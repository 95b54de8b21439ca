/* SPDX-License-Identifier: MIT
 *
 * lp internals shared by lp_parse.c and lp_float.c: the decimal scanner that reads numeric
 * field values straight out of the input (one pass, no copy), and the decimal to binary64
 * conversion behind lp_parse_double(). The scanner is inline because it runs once per
 * numeric field value, the hottest path of the parser.
 *
 * Number text (line protocol, InfluxDB 3):  ["-"] 1*DIGIT ["." 1*DIGIT] [("e"|"E") ["+"|"-"]
 * 1*DIGIT]
 *
 * Invariants:
 *   (1) The scanner never reads at or past `end`; 8-byte loads happen only when 8 bytes
 *       remain before `end`.
 *   (2) When the mantissa has at most 19 digits, w is exact and value = w * 10^q.
 *   (3) Otherwise w holds the first 19 significant digits, q is scaled accordingly and
 *       `trunc` says whether a non-zero digit was dropped (value in [w, w+1) * 10^q).
 */
#ifndef SILT_LP_INT_H
#define SILT_LP_INT_H

#include "lp.h"

/* The explicit exponent saturates here; far beyond any exponent that matters, and far
 * beyond any digit count a request can hold, so q stays exact for every real input. */
#define LP__EXP_SAT 1000000000000000LL

typedef struct lp__dec {
    uint64_t w;           /* significant digits (see invariants 2 and 3) */
    int64_t q;            /* decimal exponent */
    const char *digits;   /* first mantissa digit (after any '-') */
    const char *mant_end; /* end of the mantissa (digits and '.'), start of any exponent */
    int64_t exp10;        /* the explicit exponent, 0 if none */
    size_t n_int, n_frac; /* digits before / after the '.' */
    bool neg;             /* leading '-' */
    bool plain;           /* digits only: no '.' and no exponent (integer syntax) */
    bool trunc;           /* more than 19 significant digits and a non-zero one was dropped */
} lp__dec;

enum {
    LP__DEC_OK = 0,
    LP__DEC_NO_DIGIT,      /* no digit where the number starts (or after '-') */
    LP__DEC_NO_FRAC_DIGIT, /* '.' not followed by a digit */
    LP__DEC_NO_EXP_DIGIT,  /* 'e' not followed by a digit */
};

/* Build the power-of-five table (pthread_once); lp_parser_init and lp_parse_double call it. */
void lp__float_init(void);
/* Recompute w, q, trunc for a mantissa of more than 19 digits (invariant 3). */
void lp__dec_long(lp__dec *d);
/* Convert a scanned decimal to the nearest double (round-half-even). Returns false when
 * the magnitude rounds to infinity. Requires lp__float_init(). */
bool lp__dec_to_double(const lp__dec *d, double *out);

/* ------------------------------------------------------------------ SWAR digit helpers */

#define LP__ONES8 0x0101010101010101ULL

/* x holds 8 digit values (0..9), the first (most significant) in the low byte: return the
 * 8-digit number. Three multiply-add steps combine pairs, then quads, then the halves. */
static inline uint64_t lp__swar_value8(uint64_t x) {
    x = (x * 10 + (x >> 8)) & 0x00FF00FF00FF00FFULL;
    x = (x * 100 + (x >> 16)) & 0x0000FFFF0000FFFFULL;
    x = (x * 10000 + (x >> 32)) & 0xFFFFFFFFULL;
    return x;
}

/* x = 8 input bytes XOR '0' in every byte: how many leading bytes are digits (0..8). A byte
 * is a digit iff its value is below 10; adding 0x76 sets bit 7 of every byte >= 10, and
 * or-ing x itself catches bytes >= 0x80 (whose carry can only disturb later bytes). */
static inline unsigned lp__lead_digits8(uint64_t x) {
    uint64_t nd = ((x + 0x76 * LP__ONES8) | x) & (0x80 * LP__ONES8);
    return nd ? (unsigned)__builtin_ctzll(nd) >> 3 : 8;
}

static inline bool lp__is_digit(char c) {
    return (unsigned)((unsigned char)c - '0') < 10u;
}

/* Accumulate the digits starting at p into *acc (wrapping if there are more than 19; the
 * caller counts them). Returns the first non-digit position (or end). Invariant (1). */
static inline const char *lp__scan_digits(const char *p, const char *end, uint64_t *acc) {
    static const uint64_t pow10[8] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
    uint64_t w = *acc;
    while (end - p >= 8) {
        uint64_t c;
        memcpy(&c, p, 8);
        c ^= 0x30 * LP__ONES8;
        unsigned k = lp__lead_digits8(c);
        if (k == 8) {
            w = w * 100000000u + lp__swar_value8(c);
            p += 8;
            continue;
        }
        if (k) {
            w = w * pow10[k] + lp__swar_value8(c << (64 - 8 * k));
            p += k;
        }
        *acc = w;
        return p;
    }
    while (p < end && lp__is_digit(*p)) {
        w = w * 10 + (uint64_t)(*p - '0');
        p++;
    }
    *acc = w;
    return p;
}

/* Scan a number at s (never reading at or past end). Returns the position after the
 * number; *err gets LP__DEC_* and, on error, the return value is where it failed. */
static inline const char *lp__dec_scan(const char *s, const char *end, lp__dec *d, int *err) {
    const char *p = s;
    d->neg = false;
    if (p < end && *p == '-') {
        d->neg = true;
        p++;
    }
    d->digits = p;
    uint64_t w = 0;
    p = lp__scan_digits(p, end, &w);
    size_t n_int = (size_t)(p - d->digits), n_frac = 0;
    bool plain = true;
    if (n_int == 0) {
        *err = LP__DEC_NO_DIGIT;
        return p;
    }
    if (p < end && *p == '.') {
        const char *f = ++p;
        p = lp__scan_digits(p, end, &w);
        n_frac = (size_t)(p - f);
        plain = false;
        if (n_frac == 0) {
            *err = LP__DEC_NO_FRAC_DIGIT;
            return p;
        }
    }
    d->mant_end = p;
    int64_t e = 0;
    if (p < end && (*p | 0x20) == 'e') {
        bool eneg = false;
        p++;
        if (p < end && (*p == '-' || *p == '+')) {
            eneg = *p == '-';
            p++;
        }
        const char *es = p;
        while (p < end && lp__is_digit(*p)) {
            if (e < LP__EXP_SAT) e = e * 10 + (*p - '0');
            p++;
        }
        if (p == es) {
            *err = LP__DEC_NO_EXP_DIGIT;
            return p;
        }
        if (eneg) e = -e;
        plain = false;
    }
    d->exp10 = e;
    d->n_int = n_int;
    d->n_frac = n_frac;
    d->plain = plain;
    if (n_int + n_frac <= 19) { /* invariant (2) */
        d->w = w;
        d->q = e - (int64_t)n_frac;
        d->trunc = false;
    } else {
        lp__dec_long(d);
    }
    *err = LP__DEC_OK;
    return p;
}

#endif
