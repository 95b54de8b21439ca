/* SPDX-License-Identifier: MIT
 *
 * lp_parse: the line protocol parser proper (lp_next), precision names, type names and
 * unescaping. One pass over each line: find the LF with memchr, then scan names with
 * 16-byte SSE2 compares (a table-driven byte loop elsewhere and at the buffer's tail),
 * parse numbers in place (lp_int.h), and check keys with a small hash set. Nothing is
 * allocated per line: tags, fields and the key-check scratch grow only when a line needs
 * more than every line before it.
 *
 * Behaviour, where InfluxDB versions differ or are silent (the README should repeat these):
 *   (1) Lines are split at every LF, a CR right before it is dropped (CRLF). Line numbers
 *       count physical lines, blank lines and comments included.
 *   (2) Leading spaces/tabs are skipped; a line whose first non-blank byte is '#' is a
 *       comment (so a measurement cannot start with an unescaped '#'). Trailing spaces/tabs
 *       are ignored, after the timestamp (as InfluxDB 3) and also after the last field when
 *       there is no timestamp (InfluxDB 1/2 accept it; InfluxDB 3 rejects it by accident of
 *       its grammar).
 *   (3) Elements are separated by one or more spaces (InfluxDB 3); a tab is not a separator
 *       and is an ordinary byte inside names.
 *   (4) Floats follow InfluxDB 3: ["-"] digits ["." digits] [e|E [+|-] digits]. So "1.",
 *       ".5", "+1", "1.e5", NaN and Inf are rejected (InfluxDB 1/2 took "1." and ".5").
 *       Values beyond DBL_MAX are rejected; values below the smallest subnormal round to 0.
 *   (5) Integers "-?digits i" within int64, unsigned "digits u" within uint64 ("-0u" too is
 *       rejected: InfluxDB 3 allows no sign on unsigned values).
 *   (6) Escapes follow the documented table (measurement: comma, space; tag keys/values and
 *       field keys: comma, equals sign, space; strings: double quote) plus "\\" -> "\" in
 *       every element (InfluxDB's "escaping backslashes" rule). Other backslashes are
 *       literal. An unescaped '=' inside a tag value is accepted literally (InfluxDB 3 does);
 *       an unescaped ',' or ' ' inside a tag or field key ends the key and is an error
 *       ("missing '='"), as the documentation requires escaping it (InfluxDB 3's parser
 *       folds an unescaped ',' into the key, which hides a forgotten tag value).
 *   (7) A string value cannot span lines: a raw newline inside quotes makes the string
 *       unterminated (InfluxDB documents that values cannot hold newlines); the rest of the
 *       string on the next physical line is parsed, and usually rejected, as its own line.
 *   (8) NUL bytes are rejected in the measurement, tag keys, tag values and field keys
 *       (InfluxDB 3 rejects them in measurements); string values may hold any byte but LF.
 *   (9) Duplicate tag keys, duplicate field keys, and a key used as both tag and field in
 *       one line are rejected. InfluxDB 3 rejects duplicate tag keys; what InfluxDB does with
 *       the other two is unspecified, so silt rejects them rather than drop a value
 *       silently. Keys are compared unescaped. A tag or field key named "time" is rejected
 *       (InfluxDB 3 does).
 *  (10) Timestamps are "-?digits" (no '+', no fraction), scaled by the precision with
 *       overflow detection; the result must lie in [INT64_MIN+2, INT64_MAX-1] (InfluxDB's
 *       documented range). LP_PREC_AUTO picks s/ms/us/ns from |t| (< 5e9, 5e12, 5e15).
 *  (11) Names are not checked for UTF-8 validity or InfluxDB's documented character set
 *       (InfluxDB 3 does not enforce the latter either); that is the caller's choice. A
 *       UTF-8 byte-order mark is not stripped: it becomes part of the first measurement.
 */
#include "lp_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* One key of the line for the duplicate check: its canonical (unescaped) bytes and hash. */
struct lp__key {
    const char *p;
    uint32_t n;
    uint64_t h;
};

/* ------------------------------------------------------------------ small helpers */

const char *lp_type_name(lp_type t) {
    switch (t) {
        case LP_FLOAT:
            return "float";
        case LP_INT:
            return "integer";
        case LP_UINT:
            return "unsigned";
        case LP_STRING:
            return "string";
        case LP_BOOL:
            return "boolean";
    }
    return "unknown";
}

int lp_precision_parse(const char *s, lp_precision dflt, lp_precision *out) {
    static const struct {
        const char *name;
        lp_precision prec;
    } names[] = {
        {"ns", LP_PREC_NS},         {"n", LP_PREC_NS},
        {"nanosecond", LP_PREC_NS}, {"us", LP_PREC_US},
        {"u", LP_PREC_US},          {"\xc2\xb5", LP_PREC_US},
        {"\xc2\xb5s", LP_PREC_US},  {"microsecond", LP_PREC_US},
        {"ms", LP_PREC_MS},         {"millisecond", LP_PREC_MS},
        {"s", LP_PREC_S},           {"second", LP_PREC_S},
        {"m", LP_PREC_M},           {"h", LP_PREC_H},
        {"auto", LP_PREC_AUTO},
    };
    if (s == NULL || *s == '\0') {
        *out = dflt;
        return SILT_OK;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].prec;
            return SILT_OK;
        }
    }
    return SILT_EINVAL;
}

static inline bool esc_char(char c, int kind) {
    switch (kind) {
        case LP_ESC_STRING:
            return c == '"' || c == '\\';
        case LP_ESC_MEASUREMENT:
            return c == ',' || c == ' ' || c == '\\';
        default:
            return c == ',' || c == ' ' || c == '\\' || c == '=';
    }
}

size_t lp_unescape(lp_tok tok, bool is_string, char *out) {
    if (tok.n == 0) return 0;
    if (!tok.esc) {
        memcpy(out, tok.p, tok.n);
        return tok.n;
    }
    int kind = is_string                       ? LP_ESC_STRING
               : tok.esc == LP_ESC_MEASUREMENT ? LP_ESC_MEASUREMENT
                                               : LP_ESC_NAME;
    const char *p = tok.p, *e = tok.p + tok.n;
    char *o = out;
    while (p < e) {
        const char *bs = memchr(p, '\\', (size_t)(e - p));
        if (bs == NULL) {
            memcpy(o, p, (size_t)(e - p));
            o += e - p;
            break;
        }
        memcpy(o, p, (size_t)(bs - p));
        o += bs - p;
        if (bs + 1 < e && esc_char(bs[1], kind)) {
            *o++ = bs[1];
            p = bs + 2;
        } else {
            *o++ = '\\';
            p = bs + 1;
        }
    }
    return (size_t)(o - out);
}

/* Length of [p, p+n) once the escapes of `kind` are removed (limits are on this length). */
static size_t unescaped_len(const char *p, size_t n, int kind) {
    size_t len = 0;
    for (size_t i = 0; i < n; i++, len++)
        if (p[i] == '\\' && i + 1 < n && esc_char(p[i + 1], kind)) i++;
    return len;
}

/* Copy a name into dst for an error message: at most ~40 bytes, control bytes and invalid
 * UTF-8 replaced by '?', "..." when cut. Returns dst. */
static const char *show(char *dst, size_t cap, const char *p, size_t n) {
    size_t o = 0, i = 0;
    while (i < n && o + 8 < cap && o < 40) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x80) {
            dst[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
            i++;
            continue;
        }
        size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (i + len <= n && utf8_valid((const uint8_t *)p + i, len, NULL)) {
            memcpy(dst + o, p + i, len);
            o += len;
            i += len;
        } else {
            dst[o++] = '?';
            i++;
        }
    }
    if (i < n) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
    return dst;
}

/* "'x'", "a tab", "a NUL byte", "byte 0xNN": what was found where something else was
 * expected. */
static const char *show_char(char *dst, size_t cap, const char *p, const char *ce) {
    if (p >= ce) {
        snprintf(dst, cap, "the end of the line");
        return dst;
    }
    unsigned char c = (unsigned char)*p;
    if (c == '\t')
        snprintf(dst, cap, "a tab");
    else if (c == 0)
        snprintf(dst, cap, "a NUL byte");
    else if (c < 0x20 || c >= 0x7f)
        snprintf(dst, cap, "byte 0x%02x", c);
    else
        snprintf(dst, cap, "'%c'", c);
    return dst;
}

/* ------------------------------------------------------------------ scanning */

/* Bytes that stop a name scan: bit 0 for every name, bit 1 only for keys ('='). */
static const uint8_t stop_tab[256] = {[0] = 1, [','] = 1, [' '] = 1, ['\\'] = 1, ['='] = 2};

/* First byte of [p, ce) that is ',', ' ', '\\', NUL, or (with_eq) '='; ce if none. Vector
 * loads may look past ce but never past bend, the end of the whole input. */
static inline const char *find_stop(const char *p, const char *ce, const char *bend, bool with_eq) {
#if defined(__SSE2__)
    const __m128i v_comma = _mm_set1_epi8(','), v_space = _mm_set1_epi8(' ');
    const __m128i v_bs = _mm_set1_epi8('\\'), v_eq = _mm_set1_epi8('=');
    const __m128i v_zero = _mm_setzero_si128();
    while (p < ce && bend - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i m =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, v_comma), _mm_cmpeq_epi8(v, v_space)),
                         _mm_or_si128(_mm_cmpeq_epi8(v, v_bs), _mm_cmpeq_epi8(v, v_zero)));
        if (with_eq) m = _mm_or_si128(m, _mm_cmpeq_epi8(v, v_eq));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits) {
            const char *r = p + __builtin_ctz(bits);
            return r < ce ? r : ce;
        }
        p += 16;
    }
#endif
    const uint8_t mask = with_eq ? 3 : 1;
    for (; p < ce; p++)
        if (stop_tab[(unsigned char)*p] & mask) return p;
    return ce;
}

/* First '"' or '\\' in [p, ce), or ce. */
static inline const char *find_quote(const char *p, const char *ce, const char *bend) {
#if defined(__SSE2__)
    const __m128i v_q = _mm_set1_epi8('"'), v_bs = _mm_set1_epi8('\\');
    while (p < ce && bend - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned bits = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, v_q), _mm_cmpeq_epi8(v, v_bs)));
        if (bits) {
            const char *r = p + __builtin_ctz(bits);
            return r < ce ? r : ce;
        }
        p += 16;
    }
#endif
    for (; p < ce; p++)
        if (*p == '"' || *p == '\\') return p;
    return ce;
}

enum { K_MEAS, K_KEY, K_TAGVAL };

/* Scan a name (measurement, tag key, tag value or field key) from p; returns its end: the
 * first unescaped stop byte (',', ' ', NUL, and '=' for keys) or ce. Sets *esc when the
 * name holds an escape to remove. */
static inline const char *scan_name(const char *p, const char *ce, const char *bend, int kind,
                                    uint8_t *esc) {
    const int ekind = kind == K_MEAS ? LP_ESC_MEASUREMENT : LP_ESC_NAME;
    for (;;) {
        p = find_stop(p, ce, bend, kind == K_KEY);
        if (p == ce || *p != '\\') return p;
        if (p + 1 < ce && esc_char(p[1], ekind)) {
            *esc = (uint8_t)ekind;
            p += 2;
        } else {
            p++; /* literal backslash */
        }
    }
}

static inline uint64_t load8(const char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Exact unsigned value of the digits [p, e); false if it exceeds 64 bits. */
static bool digits_u64(const char *p, const char *e, uint64_t *out) {
    uint64_t v = 0;
    for (; p < e; p++) {
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
            return false;
    }
    *out = v;
    return true;
}

/* Scale t by the precision into nanoseconds; false on overflow or outside the valid range. */
static bool scale_time(int64_t t, lp_precision prec, int64_t *out) {
    int64_t mul;
    switch (prec) {
        case LP_PREC_NS:
            mul = 1;
            break;
        case LP_PREC_US:
            mul = NS_PER_US;
            break;
        case LP_PREC_MS:
            mul = NS_PER_MS;
            break;
        case LP_PREC_S:
            mul = NS_PER_S;
            break;
        case LP_PREC_M:
            mul = 60 * NS_PER_S;
            break;
        case LP_PREC_H:
            mul = 3600 * NS_PER_S;
            break;
        case LP_PREC_AUTO: {
            /* InfluxDB 3's documented guess by magnitude. */
            uint64_t a = t < 0 ? (uint64_t)0 - (uint64_t)t : (uint64_t)t;
            mul = a < 5000000000ULL         ? NS_PER_S
                  : a < 5000000000000ULL    ? NS_PER_MS
                  : a < 5000000000000000ULL ? NS_PER_US
                                            : 1;
            break;
        }
        default:
            return false;
    }
    int64_t v;
    if (__builtin_mul_overflow(t, mul, &v)) return false;
    if (v < LP_TIME_MIN_NS || v > LP_TIME_MAX_NS) return false;
    *out = v;
    return true;
}

/* ------------------------------------------------------------------ errors */

typedef struct linectx {
    const char *ls, *le; /* the raw line, without LF/CRLF */
    uint32_t line_no;
} linectx;

static int bad(lp_error *err, const linectx *lc, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int bad(lp_error *err, const linectx *lc, const char *at, const char *fmt, ...) {
    size_t col = (size_t)(at - lc->ls) + 1;
    err->line_no = lc->line_no;
    err->column = col > UINT32_MAX ? UINT32_MAX : (uint32_t)col;
    err->raw = (str_view){lc->ls, (size_t)(lc->le - lc->ls)};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof err->reason, fmt, ap);
    va_end(ap);
    return LP_BAD;
}

/* ------------------------------------------------------------------ key checks */

static uint64_t key_hash(const char *p, uint32_t n, const char *safe_end) {
    uint64_t a, b = 0;
    if (n >= 8) {
        a = load8(p);
        b = load8(p + n - 8);
    } else if (safe_end - p >= 8) {
        a = load8(p) & ((1ULL << (8 * n)) - 1);
    } else {
        a = 0;
        memcpy(&a, p, n);
    }
    uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ULL) ^ n) * 0xBF58476D1CE4E5B9ULL;
    return h ^ (h >> 29);
}

/* Key i equals key j < i (both indexes over tags then fields). */
static int dup_key(lp_error *err, const linectx *lc, const lp_tok *tok, uint32_t i, uint32_t j,
                   uint32_t nt) {
    char s1[64];
    show(s1, sizeof s1, tok->p, tok->n);
    if (i < nt) return bad(err, lc, tok->p, "duplicate tag key \"%s\"", s1);
    if (j < nt)
        return bad(err, lc, tok->p, "field key \"%s\" is already used as a tag key in this line",
                   s1);
    return bad(err, lc, tok->p, "duplicate field key \"%s\"", s1);
}

/* Reject "time" as a key, duplicate tag keys, duplicate field keys and a key used as both.
 * Keys are compared unescaped (escaped ones are unescaped into ps->kbuf, esc_bytes at most).
 * Reports the second occurrence, in line order. */
static int check_keys(lp_parser *ps, uint32_t nt, uint32_t nf, size_t esc_bytes, const linectx *lc,
                      lp_error *err) {
    uint32_t n = nt + nf;
    if (n > ps->keys_cap) {
        size_t cap = ps->keys_cap;
        XGROW(ps->keys, cap, n);
        ps->keys_cap = (uint32_t)cap;
    }
    unsigned bits = 5;
    while ((1u << bits) < 2 * n) bits++;
    uint32_t size = 1u << bits;
    if (size > ps->slots_cap) {
        size_t cap = ps->slots_cap;
        XGROW(ps->slots, cap, size);
        ps->slots_cap = (uint32_t)cap;
    }
    memset(ps->slots, 0, size * sizeof ps->slots[0]);
    if (esc_bytes + 8 > ps->kbuf_cap) XGROW(ps->kbuf, ps->kbuf_cap, esc_bytes + 8);
    size_t koff = 0;
    for (uint32_t i = 0; i < n; i++) {
        const lp_tok *tok = i < nt ? &ps->tags[i].key : &ps->fields[i - nt].key;
        const char *kp = tok->p, *safe = ps->end;
        uint32_t kn = tok->n;
        if (tok->esc) {
            kp = ps->kbuf + koff;
            kn = (uint32_t)lp_unescape(*tok, false, ps->kbuf + koff);
            koff += kn;
            safe = ps->kbuf + ps->kbuf_cap;
        }
        if (kn == 4 && memcmp(kp, "time", 4) == 0)
            return bad(err, lc, tok->p,
                       "%s key \"time\" is not allowed: time is the timestamp column",
                       i < nt ? "tag" : "field");
        uint64_t h = key_hash(kp, kn, safe);
        uint32_t s = (uint32_t)(h >> (64 - bits));
        while (ps->slots[s]) {
            uint32_t j = ps->slots[s] - 1u;
            const struct lp__key *o = &ps->keys[j];
            if (o->h == h && o->n == kn && memcmp(o->p, kp, kn) == 0)
                return dup_key(err, lc, tok, i, j, nt);
            s = (s + 1) & (size - 1);
        }
        ps->slots[s] = (uint16_t)(i + 1);
        ps->keys[i] = (struct lp__key){kp, kn, h};
    }
    return LP_LINE;
}

/* ------------------------------------------------------------------ the parser */

void lp_parser_init(lp_parser *ps, const char *data, size_t n, lp_precision precision,
                    int64_t now_ns) {
    memset(ps, 0, sizeof *ps);
    if (data == NULL) {
        data = "";
        n = 0;
    }
    ps->p = data;
    ps->end = data + n;
    ps->precision = precision;
    ps->now_ns = now_ns;
    lp__float_init();
}

void lp_parser_fini(lp_parser *ps) {
    free(ps->tags);
    free(ps->fields);
    free(ps->keys);
    free(ps->slots);
    free(ps->kbuf);
    memset(ps, 0, sizeof *ps);
}

/* The current field key, shown in a message (only computed on the error path). */
#define FKEY show(s1, sizeof s1, ks, klen)

/* -mag as int64 for 0 <= mag <= 2^63. */
static inline int64_t neg_i64(uint64_t mag) {
    return mag == 0 ? 0 : -(int64_t)(mag - 1) - 1;
}

static const char *const expect_value = "expected a number, a quoted string or a boolean";

/* Is [p, ce) (after an optional '-') "nan" or "inf"/"infinity", any case? For a clearer
 * message only. */
static bool looks_nan_inf(const char *p, const char *ce) {
    if (p < ce && *p == '-') p++;
    size_t n = 0;
    char w[9];
    while (p + n < ce && n < 8 && p[n] != ',' && p[n] != ' ') {
        w[n] = (char)(p[n] | 0x20);
        n++;
    }
    w[n] = '\0';
    return strcmp(w, "nan") == 0 || strcmp(w, "inf") == 0 || strcmp(w, "infinity") == 0;
}

int lp_next(lp_parser *ps, lp_line *line, lp_error *err) {
    const char *const bend = ps->end;
    const char *p = ps->p;
    linectx lc;
    /* Find the next line that is not blank or a comment (behaviour 1, 2). */
    for (;;) {
        if (p >= bend) {
            ps->p = bend;
            return LP_END;
        }
        ps->line_no++;
        lc.ls = p;
        const char *nl = memchr(p, '\n', (size_t)(bend - p));
        lc.le = nl ? nl : bend;
        ps->p = nl ? nl + 1 : bend;
        if (lc.le > lc.ls && lc.le[-1] == '\r') lc.le--;
        while (p < lc.le && (*p == ' ' || *p == '\t')) p++;
        if (p < lc.le && *p != '#') break;
        p = ps->p;
    }
    lc.line_no = ps->line_no;
    const char *ce = lc.le; /* content end: trailing blanks dropped */
    while (ce > p && (ce[-1] == ' ' || ce[-1] == '\t')) ce--;

    char s1[64], s2[64];
    size_t esc_bytes = 0; /* bytes of escaped keys, for check_keys */
    uint32_t nt = 0, nf = 0;

    /* measurement */
    const char *ms = p;
    uint8_t mesc = 0;
    p = scan_name(p, ce, bend, K_MEAS, &mesc);
    if (p == ms) {
        if (*p == '\0') return bad(err, &lc, p, "NUL byte not allowed in the measurement");
        return bad(err, &lc, p, "missing measurement: a line must start with the measurement name");
    }
    if ((size_t)(p - ms) > LP_MAX_NAME_BYTES &&
        unescaped_len(ms, (size_t)(p - ms), LP_ESC_MEASUREMENT) > LP_MAX_NAME_BYTES)
        return bad(err, &lc, ms, "measurement is longer than %d bytes", LP_MAX_NAME_BYTES);
    line->measurement = (lp_tok){ms, (uint32_t)(p - ms), mesc};

    /* tag set */
    while (p < ce && *p == ',') {
        p++;
        const char *ks = p;
        uint8_t kesc = 0;
        p = scan_name(p, ce, bend, K_KEY, &kesc);
        if (p == ks) {
            if (p < ce && *p == '=') return bad(err, &lc, p, "empty tag key before '='");
            if (p < ce && *p == '\0') return bad(err, &lc, p, "NUL byte not allowed in a tag key");
            return bad(err, &lc, p, "expected a tag key after ',', found %s",
                       show_char(s2, sizeof s2, p, ce));
        }
        if (p == ce || *p != '=') {
            if (p < ce && *p == '\0') return bad(err, &lc, p, "NUL byte not allowed in a tag key");
            return bad(err, &lc, p,
                       "missing tag value: expected '=' after tag key \"%s\", found %s",
                       show(s1, sizeof s1, ks, (size_t)(p - ks)), show_char(s2, sizeof s2, p, ce));
        }
        size_t klen = (size_t)(p - ks);
        if (klen > LP_MAX_NAME_BYTES && unescaped_len(ks, klen, LP_ESC_NAME) > LP_MAX_NAME_BYTES)
            return bad(err, &lc, ks, "tag key is longer than %d bytes", LP_MAX_NAME_BYTES);
        p++;
        const char *vs = p;
        uint8_t vesc = 0;
        p = scan_name(p, ce, bend, K_TAGVAL, &vesc);
        if (p == vs) {
            if (p < ce && *p == '\0')
                return bad(err, &lc, p, "NUL byte not allowed in a tag value");
            return bad(err, &lc, p, "empty tag value for tag key \"%s\": omit the tag instead",
                       show(s1, sizeof s1, ks, klen));
        }
        if (p < ce && *p == '\0') return bad(err, &lc, p, "NUL byte not allowed in a tag value");
        size_t vlen = (size_t)(p - vs);
        if (vlen > LP_MAX_NAME_BYTES && unescaped_len(vs, vlen, LP_ESC_NAME) > LP_MAX_NAME_BYTES)
            return bad(err, &lc, vs, "tag value is longer than %d bytes", LP_MAX_NAME_BYTES);
        if (nt == LP_MAX_TAGS)
            return bad(err, &lc, ks, "too many tags: at most %d per line", LP_MAX_TAGS);
        if (nt == ps->tags_cap) {
            size_t cap = ps->tags_cap;
            XGROW(ps->tags, cap, (size_t)nt + 1);
            ps->tags_cap = (uint32_t)cap;
        }
        lp_tag *tg = &ps->tags[nt++];
        tg->key = (lp_tok){ks, (uint32_t)klen, kesc};
        tg->val = (lp_tok){vs, (uint32_t)vlen, vesc};
        if (kesc) esc_bytes += klen;
    }
    if (p == ce)
        return bad(err, &lc, p,
                   "missing fields: expected a space and at least one field "
                   "(key=value) after the %s",
                   nt ? "tag set" : "measurement");
    if (*p != ' ') /* scan_name stops only at ',', ' ' and NUL here */
        return bad(err, &lc, p, "NUL byte not allowed in the %s", nt ? "tag set" : "measurement");
    while (p < ce && *p == ' ') p++;

    /* field set */
    for (;;) {
        const char *ks = p;
        uint8_t kesc = 0;
        p = scan_name(p, ce, bend, K_KEY, &kesc);
        size_t klen = (size_t)(p - ks);
        if (klen == 0) {
            if (p < ce && *p == '=') return bad(err, &lc, p, "empty field key before '='");
            if (p < ce && *p == '\0')
                return bad(err, &lc, p, "NUL byte not allowed in a field key");
            return bad(err, &lc, p, "expected a field key (key=value), found %s",
                       show_char(s2, sizeof s2, p, ce));
        }
        if (p == ce || *p != '=') {
            if (p < ce && *p == '\0')
                return bad(err, &lc, p, "NUL byte not allowed in a field key");
            return bad(err, &lc, p, "missing '=' after field key \"%s\", found %s", FKEY,
                       show_char(s2, sizeof s2, p, ce));
        }
        if (klen > LP_MAX_NAME_BYTES && unescaped_len(ks, klen, LP_ESC_NAME) > LP_MAX_NAME_BYTES)
            return bad(err, &lc, ks, "field key is longer than %d bytes", LP_MAX_NAME_BYTES);
        p++;
        if (nf == LP_MAX_FIELDS)
            return bad(err, &lc, ks, "too many fields: at most %d per line", LP_MAX_FIELDS);
        if (nf == ps->fields_cap) {
            size_t cap = ps->fields_cap;
            XGROW(ps->fields, cap, (size_t)nf + 1);
            ps->fields_cap = (uint32_t)cap;
        }
        lp_field *f = &ps->fields[nf];
        f->key = (lp_tok){ks, (uint32_t)klen, kesc};
        if (kesc) esc_bytes += klen;
        const char *vs = p;
        if (p == ce || *p == ',' || *p == ' ')
            return bad(err, &lc, p, "missing value for field \"%s\": %s", FKEY, expect_value);
        char c = *p;
        if (c == '"') {
            /* string: up to the first unescaped '"' on this line (behaviour 7) */
            const char *q = p + 1;
            uint8_t sesc = 0;
            for (;;) {
                q = find_quote(q, ce, bend);
                if (q == ce)
                    return bad(err, &lc, p,
                               "unterminated string value for field \"%s\": expected a closing "
                               "'\"' before the end of the line (values cannot contain newlines)",
                               FKEY);
                if (*q == '"') break;
                if (q + 1 < ce && (q[1] == '"' || q[1] == '\\')) {
                    sesc = LP_ESC_STRING;
                    q += 2;
                } else {
                    q++;
                }
            }
            size_t slen = (size_t)(q - (p + 1));
            if (slen > LP_MAX_STRING_BYTES &&
                unescaped_len(p + 1, slen, LP_ESC_STRING) > LP_MAX_STRING_BYTES)
                return bad(err, &lc, p, "string value for field \"%s\" is longer than %u bytes",
                           FKEY, LP_MAX_STRING_BYTES);
            f->type = LP_STRING;
            f->str = (lp_tok){p + 1, (uint32_t)slen, sesc};
            p = q + 1;
        } else if (c == '-' || lp__is_digit(c)) {
            lp__dec d;
            int derr;
            const char *stop = lp__dec_scan(p, bend, &d, &derr);
            if (derr != LP__DEC_OK) {
                if (looks_nan_inf(vs, ce))
                    return bad(err, &lc, vs,
                               "invalid field value for \"%s\": NaN and infinity are "
                               "not supported",
                               FKEY);
                return bad(err, &lc, stop,
                           "invalid number for field \"%s\": expected a digit %s, found %s", FKEY,
                           derr == LP__DEC_NO_DIGIT        ? "after '-'"
                           : derr == LP__DEC_NO_FRAC_DIGIT ? "after '.'"
                                                           : "in the exponent",
                           show_char(s2, sizeof s2, stop, ce));
            }
            p = stop;
            if (p < ce && (*p == 'i' || *p == 'u')) {
                bool is_u = *p == 'u';
                if (!d.plain)
                    return bad(err, &lc, vs,
                               "invalid %s value for field \"%s\": it cannot have a "
                               "fraction or an exponent",
                               is_u ? "unsigned" : "integer", FKEY);
                if (is_u && d.neg)
                    return bad(err, &lc, vs,
                               "invalid unsigned value for field \"%s\": it cannot be "
                               "negative",
                               FKEY);
                uint64_t mag = d.w;
                bool ok = d.n_int <= 19 || digits_u64(d.digits, d.mant_end, &mag);
                if (is_u) {
                    if (!ok)
                        return bad(err, &lc, vs,
                                   "unsigned value for field \"%s\" is out of range: "
                                   "at most 18446744073709551615",
                                   FKEY);
                    f->type = LP_UINT;
                    f->v.u = mag;
                } else {
                    if (!ok || mag > (d.neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
                        return bad(err, &lc, vs,
                                   "integer value for field \"%s\" is out of range: "
                                   "-9223372036854775808 to 9223372036854775807",
                                   FKEY);
                    f->type = LP_INT;
                    f->v.i = d.neg ? neg_i64(mag) : (int64_t)mag;
                }
                p++;
            } else {
                if (p < ce && *p != ',' && *p != ' ')
                    return bad(err, &lc, p,
                               "invalid number for field \"%s\": unexpected %s (a float "
                               "is [-]digits[.digits][e[+-]digits])",
                               FKEY, show_char(s2, sizeof s2, p, ce));
                if (!lp__dec_to_double(&d, &f->v.f))
                    return bad(err, &lc, vs,
                               "float value for field \"%s\" is out of range: "
                               "magnitude above 1.7976931348623157e308",
                               FKEY);
                f->type = LP_FLOAT;
            }
        } else if (c == 't' || c == 'T' || c == 'f' || c == 'F') {
            const char *q = p;
            while (q < ce && *q != ',' && *q != ' ') q++;
            size_t n = (size_t)(q - p);
            bool v = c == 't' || c == 'T', ok = n == 1;
            if (n == 4)
                ok = memcmp(p, "true", 4) == 0 || memcmp(p, "True", 4) == 0 ||
                     memcmp(p, "TRUE", 4) == 0;
            else if (n == 5)
                ok = memcmp(p, "false", 5) == 0 || memcmp(p, "False", 5) == 0 ||
                     memcmp(p, "FALSE", 5) == 0;
            if (!ok)
                return bad(err, &lc, p,
                           "invalid boolean value for field \"%s\": expected t, T, "
                           "true, True, TRUE, f, F, false, False or FALSE",
                           FKEY);
            f->type = LP_BOOL;
            f->v.b = v;
            p = q;
        } else {
            if (looks_nan_inf(p, ce))
                return bad(err, &lc, p,
                           "invalid field value for \"%s\": NaN and infinity are not "
                           "supported",
                           FKEY);
            return bad(err, &lc, p, "invalid field value for \"%s\": %s%s", FKEY, expect_value,
                       c == '.'    ? " (a float needs a digit before '.')"
                       : c == '+'  ? " (a leading '+' is not allowed)"
                       : c == '\'' ? " (strings take double quotes)"
                                   : "");
        }
        nf++;
        if (p == ce) break;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == ' ') break;
        return bad(err, &lc, p,
                   "unexpected %s after the value of field \"%s\": expected ',' or ' '",
                   show_char(s2, sizeof s2, p, ce), FKEY);
    }

    /* timestamp (behaviour 10) */
    bool has_time = false;
    int64_t t_ns = ps->now_ns;
    while (p < ce && *p == ' ') p++;
    if (p < ce) {
        const char *ts = p;
        bool neg = *p == '-';
        const char *td = p + neg;
        uint64_t mag = 0;
        p = lp__scan_digits(td, bend, &mag);
        if (p == td || (p < ce && *p != ' ')) {
            const char *te = ts;
            while (te < ce && *te != ' ') te++;
            return bad(err, &lc, p == td ? td : p,
                       "invalid timestamp \"%s\": expected an integer "
                       "([-]digits) in the request's precision",
                       show(s1, sizeof s1, ts, (size_t)(te - ts)));
        }
        if (p < ce) {
            while (p < ce && *p == ' ') p++;
            return bad(err, &lc, p, "unexpected text after the timestamp: \"%s\"",
                       show(s1, sizeof s1, p, (size_t)(ce - p)));
        }
        bool ok = (size_t)(p - td) <= 19 || digits_u64(td, p, &mag);
        int64_t t = 0;
        if (ok && mag > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX)) ok = false;
        if (ok) t = neg ? neg_i64(mag) : (int64_t)mag;
        if (!ok || !scale_time(t, ps->precision, &t_ns))
            return bad(err, &lc, ts,
                       "timestamp out of range: \"%s\" in this precision is outside "
                       "the nanosecond int64 range (about 1677 to 2262)",
                       show(s1, sizeof s1, ts, (size_t)(p - ts)));
        has_time = true;
    }

    /* key rules (behaviour 9) */
    int rc = check_keys(ps, nt, nf, esc_bytes, &lc, err);
    if (rc != LP_LINE) return rc;

    line->line_no = lc.line_no;
    line->raw = (str_view){lc.ls, (size_t)(lc.le - lc.ls)};
    line->tags = ps->tags;
    line->n_tags = nt;
    line->fields = ps->fields;
    line->n_fields = nf;
    line->time_ns = t_ns;
    line->has_time = has_time;
    return LP_LINE;
}
