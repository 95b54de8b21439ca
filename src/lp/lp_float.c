/* SPDX-License-Identifier: MIT
 *
 * lp_float: decimal text to IEEE-754 binary64, correctly rounded (round-half-even), for the
 * float field values of line protocol and lp_parse_double().
 *
 * Method, fastest first:
 *   1. Clinger: w <= 2^53 and |q| <= 22: one exact double multiply or divide.
 *   2. Eisel-Lemire: multiply the normalised w by a 128-bit truncation of 5^q and read the
 *      significand from the top 64 bits of the 192-bit product (details at el_bits()).
 *      With more than 19 significant digits the result is taken when w and w+1 give the
 *      same double.
 *   3. Otherwise (the approximation cannot decide, or the two candidates differ): glibc
 *      strtod, which is exact, on a rebuilt "DIGITSeEXP" string (no '.', so the locale's
 *      decimal point cannot matter).
 *
 * The power-of-five table is computed at first use with a small big-integer routine (under
 * pthread_once) instead of being pasted in: entry q holds T = floor(5^q * 2^(127 - e)) with
 * e = floor(log2(5^q)), so 2^127 <= T < 2^128, for -342 <= q <= 308. Beyond that range the
 * value is zero (q < -342: below half the smallest subnormal even for w = 2^64-1) or
 * infinite (q > 308: at least 1e309).
 *
 * Invariants used by the proof sketch at el_bits():
 *   (1) T <= 5^q * 2^(127-e) < T + 1 (truncation for both signs of q); T is exact for
 *       0 <= q <= 55 and its low 64 bits are zero for 0 <= q <= 27.
 *   (2) A decimal w * 10^q (w < 2^64) can be exactly halfway between two doubles only for
 *       -4 <= q <= 23 (more 5-factors leave more than 54 significant bits, or none to cancel).
 */
#include "lp_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef unsigned __int128 u128;

#define P5_MIN    (-342)
#define P5_MAX    308
#define EXP_BIAS  1023
#define MANT_MASK ((1ULL << 52) - 1)
#define INF_BITS  0x7FF0000000000000ULL

typedef struct p5 {
    uint64_t hi, lo; /* T = hi * 2^64 + lo */
    int32_t e;       /* floor(log2(5^q)) */
} p5;

static p5 p5_tab[P5_MAX - P5_MIN + 1];
static pthread_once_t p5_once = PTHREAD_ONCE_INIT;

/* ------------------------------------------------------------------ table construction */

/* Fixed-size unsigned big integers, little-endian 32-bit limbs: 5^342 has 795 bits and the
 * largest intermediate, 2^(127 + 795) / 2, fits well inside 32 limbs. */
#define BIG_LIMBS 32
typedef struct big {
    uint32_t d[BIG_LIMBS];
} big;

static void big_set_pow2(big *b, int k) {
    memset(b, 0, sizeof *b);
    b->d[k / 32] = 1u << (k % 32);
}

static void big_mul_small(big *b, uint32_t m) {
    uint64_t carry = 0;
    for (int i = 0; i < BIG_LIMBS; i++) {
        uint64_t t = (uint64_t)b->d[i] * m + carry;
        b->d[i] = (uint32_t)t;
        carry = t >> 32;
    }
    if (carry) silt_panic("lp_float: big integer overflow");
}

static int big_bitlen(const big *b) {
    for (int i = BIG_LIMBS - 1; i >= 0; i--)
        if (b->d[i]) return i * 32 + 32 - __builtin_clz(b->d[i]);
    return 0;
}

static int big_bit(const big *b, int pos) {
    if (pos < 0 || pos >= BIG_LIMBS * 32) return 0;
    return (int)((b->d[pos / 32] >> (pos % 32)) & 1);
}

/* Bits [pos, pos+64) of b as a 64-bit number; bits below zero read as zero. */
static uint64_t big_bits64(const big *b, int pos) {
    uint64_t v = 0;
    for (int i = 63; i >= 0; i--) v = (v << 1) | (uint64_t)big_bit(b, pos + i);
    return v;
}

/* The helpers below work on the low n limbs only (the rest are zero). */
static int big_cmp(const big *a, const big *b, int n) {
    for (int i = n - 1; i >= 0; i--)
        if (a->d[i] != b->d[i]) return a->d[i] < b->d[i] ? -1 : 1;
    return 0;
}

static void big_sub(big *a, const big *b, int n) { /* a -= b, requires a >= b */
    int64_t borrow = 0;
    for (int i = 0; i < n; i++) {
        int64_t t = (int64_t)a->d[i] - b->d[i] - borrow;
        borrow = t < 0;
        a->d[i] = (uint32_t)(t + (borrow << 32));
    }
}

static void big_shl1(big *a, int n) {
    uint32_t carry = 0;
    for (int i = 0; i < n; i++) {
        uint32_t next = a->d[i] >> 31;
        a->d[i] = (a->d[i] << 1) | carry;
        carry = next;
    }
    if (carry) silt_panic("lp_float: big integer overflow");
}

static void p5_build(void) {
    big pw; /* 5^n */
    /* q >= 0: the top 128 bits of 5^q (shifted left when 5^q is shorter). */
    big_set_pow2(&pw, 0);
    for (int q = 0; q <= P5_MAX; q++) {
        int b = big_bitlen(&pw);
        p5 *t = &p5_tab[q - P5_MIN];
        t->hi = big_bits64(&pw, b - 64);
        t->lo = big_bits64(&pw, b - 128);
        t->e = b - 1;
        big_mul_small(&pw, 5);
    }
    /* q < 0: floor(2^(127 + b) / 5^n) with b = bitlen(5^n), by restoring binary division. It
     * lies in [2^127, 2^128) because 2^(b-1) < 5^n < 2^b; floor(log2(5^-n)) = -b. */
    big_set_pow2(&pw, 0);
    for (int n = 1; n <= -P5_MIN; n++) {
        big_mul_small(&pw, 5);
        int b = big_bitlen(&pw);
        int nl = b / 32 + 2; /* limbs in use: r < 2 * 5^n < 2^(b+1) */
        big r;
        big_set_pow2(&r, b);
        uint64_t hi = 0, lo = 0;
        for (int i = 0; i < 128; i++) {
            hi = (hi << 1) | (lo >> 63);
            lo <<= 1;
            if (big_cmp(&r, &pw, nl) >= 0) {
                big_sub(&r, &pw, nl);
                lo |= 1;
            }
            big_shl1(&r, nl);
        }
        p5 *t = &p5_tab[-n - P5_MIN];
        t->hi = hi;
        t->lo = lo;
        t->e = -b;
    }
}

void lp__float_init(void) {
    pthread_once(&p5_once, p5_build);
}

/* ------------------------------------------------------------------ Eisel-Lemire */

/* Binary64 bits (sign clear) of w * 10^q for w != 0 and P5_MIN <= q <= P5_MAX; INF_BITS when
 * it rounds to infinity. Returns false when the truncated product cannot decide.
 *
 * Let W = w << lz (top bit set) and R = W * 5^q * 2^(127-e), the exact scaled product. By
 * invariant (1) the computed P = W * T satisfies P <= R < P + W, so the top 64 bits H of P
 * equal those of R unless the low 128 bits of P are within W of a carry. The result needs
 * only H's top 54 bits (53-bit significand + a rounding bit); a carry changes them only if
 * the bits of H below them are all ones, so the second multiplication (by T's low half)
 * and the final "cannot decide" case arise only then. With H's top bit at 62 + U (U = 0
 * or 1), value = m * 2^(E - 53) where m = H >> (9 + U) and E = 63 + U - lz + e + q.
 * Exact halfway cases (invariant 2) are recognised only when the product is exact
 * (T's low half zero, so q in [0, 27]); for q in [-4, -1] a true halfway point makes P fall
 * just below it with all-ones low bits, which lands in "cannot decide" and the fallback. */
static bool el_bits(uint64_t w, int64_t q, uint64_t *out) {
    const p5 *t = &p5_tab[q - P5_MIN];
    int lz = __builtin_clzll(w);
    w <<= lz;
    u128 pr = (u128)w * t->hi;
    uint64_t hi = (uint64_t)(pr >> 64), lo = (uint64_t)pr;
    if (t->lo != 0 && (hi & 0x1FF) == 0x1FF && lo + w < lo) {
        u128 pr2 = (u128)w * t->lo;
        uint64_t hi2 = (uint64_t)(pr2 >> 64), lo2 = (uint64_t)pr2;
        uint64_t s = lo + hi2;
        hi += s < lo;
        lo = s;
        bool t_exact = q >= 0 && q <= 55;
        if (!t_exact && (hi & 0x1FF) == 0x1FF && lo == UINT64_MAX && lo2 + w < lo2) return false;
    }
    int upper = (int)(hi >> 63);
    int sh = 9 + upper;
    uint64_t m = hi >> sh; /* 54 bits */
    int64_t pe = 63 + upper - lz + t->e + q + EXP_BIAS;
    /* Exactly halfway with an even lower neighbour: drop the rounding bit (ties to even). */
    if (t->lo == 0 && lo == 0 && (hi & ((1ULL << sh) - 1)) == 0 && (m & 3) == 1) m &= ~1ULL;
    if (pe <= 0) {
        /* Subnormal (or zero): shift to the fixed exponent 2^-1074 keeping one rounding bit.
         * No tie is possible this small (invariant 2), so half-up is round-to-nearest. A
         * result of exactly 2^52 is the smallest normal and encodes as such. */
        int64_t s2 = 1 - pe;
        if (s2 >= 64) {
            *out = 0;
            return true;
        }
        m >>= s2;
        *out = (m + (m & 1)) >> 1;
        return true;
    }
    m = (m + (m & 1)) >> 1;
    if (m >> 53) { /* rounding carried into a new bit */
        m >>= 1;
        pe++;
    }
    if (pe >= 0x7FF) {
        *out = INF_BITS;
        return true;
    }
    *out = ((uint64_t)pe << 52) | (m & MANT_MASK);
    return true;
}

/* ------------------------------------------------------------------ slow paths */

void lp__dec_long(lp__dec *d) {
    uint64_t w = 0;
    int kept = 0;
    int64_t dropped = 0;
    bool trunc = false;
    for (const char *p = d->digits; p < d->mant_end; p++) {
        if (*p == '.') continue;
        int c = *p - '0';
        if (kept == 0 && c == 0) continue; /* leading zero */
        if (kept < 19) {
            w = w * 10 + (uint64_t)c;
            kept++;
        } else {
            dropped++;
            trunc |= c != 0;
        }
    }
    d->w = w;
    d->q = d->exp10 - (int64_t)d->n_frac + dropped;
    d->trunc = trunc;
}

/* glibc strtod is correctly rounded. Rebuild the number as "DIGITSeEXP": keep at most
 * KEEP significant digits and replace a non-zero remainder by a final '1'; the value stays
 * strictly between the same two neighbouring decimal cut-offs, and no halfway point
 * between doubles (at most 767 significant digits) can lie in that gap. */
#define KEEP 780
static bool dec_strtod(const lp__dec *d, double *out) {
    char s[KEEP + 40];
    size_t n = 0;
    int64_t nsig = 0; /* significant digits seen */
    bool rest_nonzero = false;
    if (d->neg) s[n++] = '-';
    for (const char *p = d->digits; p < d->mant_end; p++) {
        if (*p == '.') continue;
        if (nsig == 0 && *p == '0') continue;
        if (nsig < KEEP)
            s[n++] = *p;
        else
            rest_nonzero |= *p != '0';
        nsig++;
    }
    if (nsig == 0) {
        *out = d->neg ? -0.0 : 0.0;
        return true;
    }
    /* value = DIGITS(all nsig) * 10^(exp10 - n_frac) */
    int64_t e = d->exp10 - (int64_t)d->n_frac;
    if (nsig > KEEP) {
        e += nsig - KEEP;
        if (rest_nonzero) {
            s[n++] = '1';
            e--;
        }
    }
    if (e + (nsig < KEEP ? nsig : KEEP) > 400) return false; /* >= 1e400 */
    if (e < -100000) e = -100000;                            /* 0 either way */
    n += (size_t)snprintf(s + n, sizeof s - n, "e%lld", (long long)e);
    double v = strtod(s, NULL);
    if (isinf(v)) return false;
    *out = v;
    return true;
}

/* ------------------------------------------------------------------ conversion */

bool lp__dec_to_double(const lp__dec *d, double *out) {
    static const double pow10d[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    uint64_t bits;
    uint64_t w = d->w;
    int64_t q = d->q;
    if (w == 0) {
        bits = 0;
    } else if (q > P5_MAX) {
        return false;
    } else if (q < P5_MIN) {
        bits = 0;
    } else if (!d->trunc) {
        if (w <= (1ULL << 53) && q >= -22 && q <= 22) {
            double v = (double)w;
            v = q < 0 ? v / pow10d[-q] : v * pow10d[q];
            *out = d->neg ? -v : v;
            return true;
        }
        if (!el_bits(w, q, &bits)) return dec_strtod(d, out);
    } else {
        uint64_t b2;
        if (!el_bits(w, q, &bits) || !el_bits(w + 1, q, &b2) || bits != b2)
            return dec_strtod(d, out);
    }
    if (bits == INF_BITS) return false;
    bits |= (uint64_t)d->neg << 63;
    memcpy(out, &bits, sizeof *out);
    return true;
}

bool lp_parse_double(const char *p, size_t n, double *out) {
    lp__float_init();
    if (p == NULL || n == 0) return false;
    lp__dec d;
    int err;
    const char *end = p + n;
    const char *stop = lp__dec_scan(p, end, &d, &err);
    if (err != LP__DEC_OK || stop != end) return false;
    return lp__dec_to_double(&d, out);
}
