/* SPDX-License-Identifier: MIT
 *
 * libFuzzer target for the line protocol parser. Parses the input with every precision and
 * checks, for every returned line or error:
 *   - line numbers strictly increase; raw lines lie inside the input and hold no LF;
 *   - error columns are within 1..len(raw)+1 and the reason is a non-empty C string;
 *   - every token lies inside its raw line, unescapes into at most its own length, and no
 *     name (measurement, tag key/value, field key) is empty once unescaped;
 *   - no two keys of a line are equal once unescaped, and none is "time";
 *   - float, integer and unsigned values equal what strtod/strtoll/strtoull make of the
 *     value text (bit-exact for floats); floats are finite;
 *   - the time is now_ns when absent, else inside the valid range.
 * Small inputs are also fed to lp_parse_double and compared with strtod.
 */
#include "lp/lp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define NOW_NS 1234567890123456789LL

static void check(bool ok, const char *what, uint32_t line_no) {
    if (!ok) {
        fprintf(stderr, "lp_fuzz: invariant failed on line %u: %s\n", line_no, what);
        abort();
    }
}

static bool inside(const char *p, size_t n, const char *lo, const char *hi) {
    return p >= lo && p <= hi && n <= (size_t)(hi - p);
}

/* Unescape tok into out (capacity tok.n + 1) and check its size; returns the length. */
static size_t unesc(lp_tok tok, bool is_string, char *out, const lp_line *l) {
    check(inside(tok.p, tok.n, l->raw.p, l->raw.p + l->raw.n), "token outside its line",
          l->line_no);
    size_t n = lp_unescape(tok, is_string, out);
    check(n <= tok.n, "unescaped longer than raw", l->line_no);
    check(tok.esc || n == tok.n, "unescaped differs without esc", l->line_no);
    return n;
}

/* The value text of a numeric field: from after "key=" while it looks like a number. */
static size_t number_text(const lp_field *f, const lp_line *l, char *out, size_t cap) {
    const char *p = f->key.p + f->key.n + 1, *end = l->raw.p + l->raw.n;
    size_t n = 0;
    while (p + n < end && n + 1 < cap && strchr("0123456789.eE+-", p[n]) && p[n] != '\0') {
        out[n] = p[n];
        n++;
    }
    out[n] = '\0';
    return n;
}

static void check_numbers(const lp_field *f, const lp_line *l) {
    char t[96];
    size_t n = number_text(f, l, t, sizeof t);
    if (n == 0 || n + 1 >= sizeof t) return; /* too long to check here */
    char *e;
    errno = 0;
    if (f->type == LP_FLOAT) {
        double w = strtod(t, &e);
        check(*e == '\0', "float text not fully parsed by strtod", l->line_no);
        check(isfinite(f->v.f), "float not finite", l->line_no);
        check(memcmp(&w, &f->v.f, sizeof w) == 0, "float differs from strtod", l->line_no);
    } else if (f->type == LP_INT) {
        long long w = strtoll(t, &e, 10);
        check(errno == 0 && *e == '\0' && w == f->v.i, "integer differs from strtoll", l->line_no);
    } else if (f->type == LP_UINT) {
        unsigned long long w = strtoull(t, &e, 10);
        check(errno == 0 && *e == '\0' && w == f->v.u, "unsigned differs from strtoull",
              l->line_no);
    }
}

static void check_line(const lp_line *l, const char *in, size_t size, char *buf1, char *buf2) {
    const uint32_t ln = l->line_no;
    check(inside(l->raw.p, l->raw.n, in, in + size), "raw outside input", ln);
    check(memchr(l->raw.p, '\n', l->raw.n) == NULL, "LF inside raw", ln);
    check(l->n_fields >= 1 && l->n_fields <= LP_MAX_FIELDS, "field count", ln);
    check(l->n_tags <= LP_MAX_TAGS, "tag count", ln);
    check(unesc(l->measurement, false, buf1, l) > 0, "empty measurement", ln);
    if (l->has_time)
        check(l->time_ns >= LP_TIME_MIN_NS && l->time_ns <= LP_TIME_MAX_NS, "time range", ln);
    else
        check(l->time_ns == NOW_NS, "missing time is not now", ln);
    uint32_t nk = l->n_tags + l->n_fields;
    for (uint32_t i = 0; i < nk; i++) {
        lp_tok k = i < l->n_tags ? l->tags[i].key : l->fields[i - l->n_tags].key;
        size_t kn = unesc(k, false, buf1, l);
        check(kn > 0, "empty key", ln);
        check(!(kn == 4 && memcmp(buf1, "time", 4) == 0), "key named time", ln);
        if (nk <= 64) {
            for (uint32_t j = 0; j < i; j++) {
                lp_tok o = j < l->n_tags ? l->tags[j].key : l->fields[j - l->n_tags].key;
                size_t on = unesc(o, false, buf2, l);
                check(!(on == kn && memcmp(buf1, buf2, kn) == 0), "duplicate key accepted", ln);
            }
        }
    }
    for (uint32_t i = 0; i < l->n_tags; i++)
        check(unesc(l->tags[i].val, false, buf1, l) > 0, "empty tag value", ln);
    for (uint32_t i = 0; i < l->n_fields; i++) {
        const lp_field *f = &l->fields[i];
        check(f->type >= LP_FLOAT && f->type <= LP_BOOL, "field type", ln);
        if (f->type == LP_STRING) {
            unesc(f->str, true, buf1, l);
            check(memchr(f->str.p, '\n', f->str.n) == NULL, "LF in string", ln);
        } else {
            check_numbers(f, l);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *in = (const char *)data;
    char *buf1 = xmalloc(size + 1), *buf2 = xmalloc(size + 1);
    for (int prec = LP_PREC_NS; prec <= LP_PREC_AUTO; prec++) {
        lp_parser ps;
        lp_line l;
        lp_error e;
        lp_parser_init(&ps, in, size, (lp_precision)prec, NOW_NS);
        uint32_t last = 0;
        int rc;
        while ((rc = lp_next(&ps, &l, &e)) != LP_END) {
            if (rc == LP_LINE) {
                check(l.line_no > last, "line numbers not increasing", l.line_no);
                last = l.line_no;
                check_line(&l, in, size, buf1, buf2);
            } else {
                check(rc == LP_BAD, "unknown return code", last);
                check(e.line_no > last, "line numbers not increasing", e.line_no);
                last = e.line_no;
                check(inside(e.raw.p, e.raw.n, in, in + size), "error raw outside input",
                      e.line_no);
                check(memchr(e.raw.p, '\n', e.raw.n) == NULL, "LF inside error raw", e.line_no);
                check(e.column >= 1 && e.column <= e.raw.n + 1, "column outside the line",
                      e.line_no);
                check(memchr(e.reason, '\0', sizeof e.reason) != NULL, "reason not terminated",
                      e.line_no);
                check(e.reason[0] != '\0', "empty reason", e.line_no);
            }
        }
        check(lp_next(&ps, &l, &e) == LP_END, "not at end after LP_END", last);
        check(ps.line_no >= last, "line count", last);
        lp_parser_fini(&ps);
    }
    if (size > 0 && size <= 64) {
        double v;
        if (lp_parse_double(in, size, &v)) {
            memcpy(buf1, in, size);
            buf1[size] = '\0';
            char *end;
            double w = strtod(buf1, &end);
            check(end == buf1 + size, "lp_parse_double accepted what strtod stops in", 0);
            check(isfinite(w) && memcmp(&v, &w, sizeof v) == 0,
                  "lp_parse_double differs from strtod", 0);
        }
    }
    free(buf1);
    free(buf2);
    return 0;
}
