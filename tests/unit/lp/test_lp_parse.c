/* SPDX-License-Identifier: MIT
 *
 * Line protocol parser tests. Most behaviour is covered by tables: each row is an input, a
 * precision and the expected results, one per returned line, separated by '\n':
 *   good line:  "<line_no>: <measurement> [<tag>=<value> ...] {<field>=<T><value> ...}[ @<ns>]"
 *               with names unescaped, T = F float, I integer, U unsigned, S "string", B bool,
 *               and no "@" when the line had no timestamp (then time_ns must equal NOW).
 *   bad line:   "!<line_no>:<column>:<substring of the reason>"
 * The remaining tests cover what tables cannot: limits, allocation behaviour, zero-copy
 * tokens, unescaping, precision names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "lp/lp.h"

#define NOW 1700000000000000000LL

typedef struct lpcase {
    const char *in;
    lp_precision prec;
    const char *want;
} lpcase;

#define NS LP_PREC_NS

/* ------------------------------------------------------------------ helpers */

static void put_tok(buf *b, lp_tok t, bool is_string) {
    char *tmp = xmalloc(t.n + 1);
    size_t n = lp_unescape(t, is_string, tmp);
    buf_append(b, tmp, n);
    free(tmp);
}

static void dump_line(buf *b, const lp_line *l) {
    buf_printf(b, "%u: ", l->line_no);
    put_tok(b, l->measurement, false);
    buf_puts(b, " [");
    for (uint32_t i = 0; i < l->n_tags; i++) {
        if (i) buf_putc(b, ' ');
        put_tok(b, l->tags[i].key, false);
        buf_putc(b, '=');
        put_tok(b, l->tags[i].val, false);
    }
    buf_puts(b, "] {");
    for (uint32_t i = 0; i < l->n_fields; i++) {
        const lp_field *f = &l->fields[i];
        if (i) buf_putc(b, ' ');
        put_tok(b, f->key, false);
        buf_putc(b, '=');
        switch (f->type) {
            case LP_FLOAT:
                buf_putc(b, 'F');
                buf_put_double(b, f->v.f);
                break;
            case LP_INT:
                buf_putc(b, 'I');
                buf_put_i64(b, f->v.i);
                break;
            case LP_UINT:
                buf_putc(b, 'U');
                buf_put_u64(b, f->v.u);
                break;
            case LP_BOOL:
                buf_puts(b, f->v.b ? "Btrue" : "Bfalse");
                break;
            case LP_STRING:
                buf_puts(b, "S\"");
                put_tok(b, f->str, true);
                buf_putc(b, '"');
                break;
            default:
                buf_puts(b, "?type");
                break;
        }
    }
    buf_putc(b, '}');
    if (l->has_time)
        buf_printf(b, " @%lld", (long long)l->time_ns);
    else if (l->time_ns != NOW)
        buf_printf(b, " @NOT-NOW(%lld)", (long long)l->time_ns);
}

/* Check one returned item against one expected item; returns 0 when it matches. */
static int check_item(const char *in, int rc, const lp_line *l, const lp_error *e, const char *want,
                      size_t want_n) {
    buf got = {0};
    int bad = 1;
    if (want_n > 0 && want[0] == '!') {
        unsigned wl = 0, wc = 0;
        int off = 0;
        if (sscanf(want, "!%u:%u:%n", &wl, &wc, &off) != 2 || off == 0) {
            print_error("test bug: bad expectation \"%.*s\"\n", (int)want_n, want);
            return 1;
        }
        char sub[256];
        snprintf(sub, sizeof sub, "%.*s", (int)(want_n - (size_t)off), want + off);
        if (rc == LP_BAD && e->line_no == wl && e->column == wc && strstr(e->reason, sub) &&
            e->column >= 1 && e->column <= e->raw.n + 1)
            bad = 0;
        if (rc == LP_BAD) buf_printf(&got, "!%u:%u: %s", e->line_no, e->column, e->reason);
    } else if (rc == LP_LINE) {
        dump_line(&got, l);
        bad = !(got.len == want_n && memcmp(got.p, want, want_n) == 0);
    }
    if (rc == LP_LINE && got.len == 0) dump_line(&got, l);
    if (bad)
        print_error("input  \"%s\"\n  want %.*s\n  got  %s\n", in, (int)want_n, want,
                    rc == LP_END ? "(end)" : buf_cstr(&got));
    buf_free(&got);
    return bad;
}

/* Run one row; n is the input length (inputs with NUL bytes cannot use strlen). */
static int run_case(const lpcase *c, size_t n) {
    lp_parser ps;
    lp_line l;
    lp_error e;
    lp_parser_init(&ps, c->in, n, c->prec, NOW);
    const char *w = c->want;
    int fails = 0;
    uint32_t last_line = 0;
    for (;;) {
        memset(&l, 0xA5, sizeof l);
        memset(&e, 0xA5, sizeof e);
        int rc = lp_next(&ps, &l, &e);
        if (rc == LP_END) {
            if (*w) {
                print_error("input  \"%s\"\n  want %s\n  got  (end)\n", c->in, w);
                fails++;
            }
            break;
        }
        uint32_t ln = rc == LP_LINE ? l.line_no : e.line_no;
        if (ln <= last_line) {
            print_error("input \"%s\": line numbers not increasing (%u after %u)\n", c->in, ln,
                        last_line);
            fails++;
        }
        last_line = ln;
        if (!*w) {
            buf got = {0};
            if (rc == LP_LINE)
                dump_line(&got, &l);
            else
                buf_printf(&got, "!%u:%u: %s", e.line_no, e.column, e.reason);
            print_error("input  \"%s\"\n  want (end)\n  got  %s\n", c->in, buf_cstr(&got));
            buf_free(&got);
            fails++;
            break;
        }
        const char *nl = strchr(w, '\n');
        size_t wn = nl ? (size_t)(nl - w) : strlen(w);
        fails += check_item(c->in, rc, &l, &e, w, wn);
        w += wn + (nl != NULL);
    }
    lp_parser_fini(&ps);
    return fails;
}

static void run_table(const lpcase *t, size_t n) {
    int fails = 0;
    for (size_t i = 0; i < n; i++) fails += run_case(&t[i], strlen(t[i].in));
    if (fails) fail_msg("%d of %zu cases failed", fails, n);
}
#define RUN_TABLE(t) run_table((t), sizeof(t) / sizeof((t)[0]))

/* ------------------------------------------------------------------ tables */

static void test_lp_valid_line_structure(void **state) {
    (void)state;
    static const lpcase t[] = {
        {"m f=1", NS, "1: m [] {f=F1}"},
        {"m,t=a f=1 123", NS, "1: m [t=a] {f=F1} @123"},
        {"cpu,host=a,region=b usage=0.5,idle=99.5 1000", NS,
         "1: cpu [host=a region=b] {usage=F0.5 idle=F99.5} @1000"},
        {"m f=1,g=2,h=3", NS, "1: m [] {f=F1 g=F2 h=F3}"},
        {"m,a=1,b=2,c=3 f=1", NS, "1: m [a=1 b=2 c=3] {f=F1}"},
        {"m  f=1", NS, "1: m [] {f=F1}"},
        {"m,t=a   f=1    123", NS, "1: m [t=a] {f=F1} @123"},
        {"   m f=1", NS, "1: m [] {f=F1}"},
        {"\t \tm f=1 5", NS, "1: m [] {f=F1} @5"},
        {"m f=1 123   ", NS, "1: m [] {f=F1} @123"},
        {"m f=1 123\t", NS, "1: m [] {f=F1} @123"},
        {"m f=1   ", NS, "1: m [] {f=F1}"},
        {"m f=\"x\" \t ", NS, "1: m [] {f=S\"x\"}"},
        {"m f=1\n", NS, "1: m [] {f=F1}"},
        {"m f=1\r\n", NS, "1: m [] {f=F1}"},
        {"m f=1 123\r\n", NS, "1: m [] {f=F1} @123"},
        {"m f=1 123\r", NS, "1: m [] {f=F1} @123"},
        {"m f=1 -123", NS, "1: m [] {f=F1} @-123"},
        {"m f=1 0", NS, "1: m [] {f=F1} @0"},
        {"m f=1 -0", NS, "1: m [] {f=F1} @0"},
        {"m f=1 00000000000000000000000000123", NS, "1: m [] {f=F1} @123"},
        {"m f=1 1556813561098000000", NS, "1: m [] {f=F1} @1556813561098000000"},
        {"cpu,hostname=host_0,region=us-east-1,datacenter=us-east-1c,rack=67,os=Ubuntu16.04LTS,"
         "arch=x64,team=SF,service=14,service_version=1,service_environment=staging "
         "usage_user=43.540319807574456,usage_system=65.22154341585569,usage_idle=76."
         "56291906068421,"
         "usage_nice=3.782633169793981 1451606400000000000",
         NS,
         "1: cpu [hostname=host_0 region=us-east-1 datacenter=us-east-1c rack=67 os=Ubuntu16.04LTS "
         "arch=x64 team=SF service=14 service_version=1 service_environment=staging] "
         "{usage_user=F43.540319807574456 usage_system=F65.22154341585569 "
         "usage_idle=F76.56291906068421 usage_nice=F3.782633169793981} @1451606400000000000"},
        {"myTable,tag1=value1,tag2=value2 fieldKey=\"fieldValue\" 1556813561098000000", NS,
         "1: myTable [tag1=value1 tag2=value2] {fieldKey=S\"fieldValue\"} @1556813561098000000"},
        {"myTable,tagKey=\xf0\x9f\x8d\xad fieldKey=\"Launch \xf0\x9f\x9a\x80\" 1556813561098000000",
         NS,
         "1: myTable [tagKey=\xf0\x9f\x8d\xad] {fieldKey=S\"Launch \xf0\x9f\x9a\x80\"} "
         "@1556813561098000000"},
        {"\xe6\xb8\xa9\xe5\xba\xa6,\xe5\x9c\xb0=\xe5\x8c\x97 \xe5\x80\xbc=1", NS,
         "1: \xe6\xb8\xa9\xe5\xba\xa6 [\xe5\x9c\xb0=\xe5\x8c\x97] {\xe5\x80\xbc=F1}"},
        {"m,t=a=b f=1", NS, "1: m [t=a=b] {f=F1}"},
        {"m,t==b f=1", NS, "1: m [t==b] {f=F1}"},
        {"m\tx f=1", NS, "1: m\tx [] {f=F1}"},
        {"m,t=a\tb f=1", NS, "1: m [t=a\tb] {f=F1}"},
        {"\"m\",'t'=\"v\" \"f\"=1", NS, "1: \"m\" ['t'=\"v\"] {\"f\"=F1}"},
        {"m=x f=1", NS, "1: m=x [] {f=F1}"},
        {"m#x,t=#a f#=1", NS, "1: m#x [t=#a] {f#=F1}"},
        {"m Time=1,TIME=2,times=3", NS, "1: m [] {Time=F1 TIME=F2 times=F3}"},
        {"m,Time=a,timestamp=b f=1", NS, "1: m [Time=a timestamp=b] {f=F1}"},
        {"time f=1", NS, "1: time [] {f=F1}"},
        {"m,b=1,a=2 z=1,y=2", NS, "1: m [b=1 a=2] {z=F1 y=F2}"},
        {"m,t=a f=1,t2=2", NS, "1: m [t=a] {f=F1 t2=F2}"},
        {"m,a=x,A=y f=1", NS, "1: m [a=x A=y] {f=F1}"},
        {"m a=1,A=2", NS, "1: m [] {a=F1 A=F2}"},
        {"m,t=a m=1", NS, "1: m [t=a] {m=F1}"},
        {"a,b=c d=\"e f,g=h\" 1", NS, "1: a [b=c] {d=S\"e f,g=h\"} @1"},
        {"_m,_t=_v _f=1", NS, "1: _m [_t=_v] {_f=F1}"},
        {"m f=1 9223372036854775806", NS, "1: m [] {f=F1} @9223372036854775806"},
        {"m f=1 -9223372036854775806", NS, "1: m [] {f=F1} @-9223372036854775806"},
    };
    RUN_TABLE(t);
}

static void test_lp_field_value_types(void **state) {
    (void)state;
    static const lpcase t[] = {
        /* floats */
        {"m f=1", NS, "1: m [] {f=F1}"},
        {"m f=-1", NS, "1: m [] {f=F-1}"},
        {"m f=1.5", NS, "1: m [] {f=F1.5}"},
        {"m f=-1.5e-3", NS, "1: m [] {f=F-0.0015}"},
        {"m f=1e5", NS, "1: m [] {f=F100000}"},
        {"m f=1E5", NS, "1: m [] {f=F100000}"},
        {"m f=1e+5", NS, "1: m [] {f=F100000}"},
        {"m f=25e-1", NS, "1: m [] {f=F2.5}"},
        {"m f=1.0", NS, "1: m [] {f=F1}"},
        {"m f=-1.234456e+78", NS, "1: m [] {f=F-1.234456e+78}"},
        {"m f=0.1", NS, "1: m [] {f=F0.1}"},
        {"m f=007", NS, "1: m [] {f=F7}"},
        {"m f=-0", NS, "1: m [] {f=F-0}"},
        {"m f=0.0", NS, "1: m [] {f=F0}"},
        {"m f=1e300", NS, "1: m [] {f=F1e+300}"},
        {"m f=1e-400", NS, "1: m [] {f=F0}"},
        {"m f=1.7976931348623157e308", NS, "1: m [] {f=F1.7976931348623157e+308}"},
        {"m f=4.9406564584124654e-324", NS, "1: m [] {f=F4.94065645841247e-324}"},
        {"m f=9007199254740993", NS, "1: m [] {f=F9007199254740992}"},
        {"m f=123456789012345678901234567890", NS, "1: m [] {f=F1.2345678901234568e+29}"},
        {"m f=0.000000000000000000000000000001", NS, "1: m [] {f=F1e-30}"},
        /* integers */
        {"m f=1i", NS, "1: m [] {f=I1}"},
        {"m f=-1i", NS, "1: m [] {f=I-1}"},
        {"m f=0i", NS, "1: m [] {f=I0}"},
        {"m f=-0i", NS, "1: m [] {f=I0}"},
        {"m f=007i", NS, "1: m [] {f=I7}"},
        {"m f=12485903i", NS, "1: m [] {f=I12485903}"},
        {"m f=9223372036854775807i", NS, "1: m [] {f=I9223372036854775807}"},
        {"m f=-9223372036854775808i", NS, "1: m [] {f=I-9223372036854775808}"},
        {"m f=00000000000000000000000001i", NS, "1: m [] {f=I1}"},
        {"m f=-00000000000000000009223372036854775808i", NS, "1: m [] {f=I-9223372036854775808}"},
        /* unsigned */
        {"m f=1u", NS, "1: m [] {f=U1}"},
        {"m f=0u", NS, "1: m [] {f=U0}"},
        {"m f=12485903u", NS, "1: m [] {f=U12485903}"},
        {"m f=18446744073709551615u", NS, "1: m [] {f=U18446744073709551615}"},
        {"m f=9223372036854775808u", NS, "1: m [] {f=U9223372036854775808}"},
        {"m f=000000000000018446744073709551615u", NS, "1: m [] {f=U18446744073709551615}"},
        /* strings */
        {"m f=\"abc\"", NS, "1: m [] {f=S\"abc\"}"},
        {"m f=\"\"", NS, "1: m [] {f=S\"\"}"},
        {"m f=\"a b,c=d\"", NS, "1: m [] {f=S\"a b,c=d\"}"},
        {"m f=\"say \\\"hi\\\"\"", NS, "1: m [] {f=S\"say \"hi\"\"}"},
        {"m f=\"back\\\\slash\"", NS, "1: m [] {f=S\"back\\slash\"}"},
        {"m f=\"keep\\n\"", NS, "1: m [] {f=S\"keep\\n\"}"},
        {"m f=\"\\\\\"", NS, "1: m [] {f=S\"\\\"}"},
        {"m f=\"\\\\\\\"\"", NS, "1: m [] {f=S\"\\\"\"}"},
        {"m f=\"\\\"\\\"\"", NS, "1: m [] {f=S\"\"\"\"}"},
        {"m f=\"trailing\\\\\"", NS, "1: m [] {f=S\"trailing\\\"}"},
        {"m f=\"#x\"", NS, "1: m [] {f=S\"#x\"}"},
        {"m f=\"h\xc3\xa9llo\"", NS, "1: m [] {f=S\"h\xc3\xa9llo\"}"},
        {"m f=\"a\\,b\\=c\\ d\"", NS, "1: m [] {f=S\"a\\,b\\=c\\ d\"}"},
        {"m f=\"  \"", NS, "1: m [] {f=S\"  \"}"},
        {"m f=\"x\",g=\"y\" 7", NS, "1: m [] {f=S\"x\" g=S\"y\"} @7"},
        {"m f=\"tab\there\"", NS, "1: m [] {f=S\"tab\there\"}"},
        /* booleans */
        {"m f=t", NS, "1: m [] {f=Btrue}"},
        {"m f=T", NS, "1: m [] {f=Btrue}"},
        {"m f=true", NS, "1: m [] {f=Btrue}"},
        {"m f=True", NS, "1: m [] {f=Btrue}"},
        {"m f=TRUE", NS, "1: m [] {f=Btrue}"},
        {"m f=f", NS, "1: m [] {f=Bfalse}"},
        {"m f=F", NS, "1: m [] {f=Bfalse}"},
        {"m f=false", NS, "1: m [] {f=Bfalse}"},
        {"m f=False", NS, "1: m [] {f=Bfalse}"},
        {"m f=FALSE", NS, "1: m [] {f=Bfalse}"},
        {"m f=t,g=f 1", NS, "1: m [] {f=Btrue g=Bfalse} @1"},
        /* mixed */
        {"m a=1,b=2i,c=3u,d=\"x\",e=t 9", NS, "1: m [] {a=F1 b=I2 c=U3 d=S\"x\" e=Btrue} @9"},
    };
    RUN_TABLE(t);
}

static void test_lp_escapes_and_backslashes(void **state) {
    (void)state;
    static const lpcase t[] = {
        {"my\\ Table f=1", NS, "1: my Table [] {f=F1}"},
        {"m\\,x f=1", NS, "1: m,x [] {f=F1}"},
        {"m\\=x f=1", NS, "1: m\\=x [] {f=F1}"},
        {"m\\\\x f=1", NS, "1: m\\x [] {f=F1}"},
        {"m\\x f=1", NS, "1: m\\x [] {f=F1}"},
        {"m\\\\\\,x f=1", NS, "1: m\\,x [] {f=F1}"},
        {"\\#m f=1", NS, "1: \\#m [] {f=F1}"},
        {"\\ m f=1", NS, "1:  m [] {f=F1}"},
        {"m\\  f=1", NS, "1: m  [] {f=F1}"},
        {"m,t\\ k=v\\ w f=1", NS, "1: m [t k=v w] {f=F1}"},
        {"m,t\\,k=v\\,w f=1", NS, "1: m [t,k=v,w] {f=F1}"},
        {"m,t\\=k=v\\=w f=1", NS, "1: m [t=k=v=w] {f=F1}"},
        {"m,t=a\\\\ f=1", NS, "1: m [t=a\\] {f=F1}"},
        {"m,t=a\\b f=1", NS, "1: m [t=a\\b] {f=F1}"},
        {"m,t=a\\\\b f=1", NS, "1: m [t=a\\b] {f=F1}"},
        {"m,t=a\\\\\\b f=1", NS, "1: m [t=a\\\\b] {f=F1}"},
        {"m,t=a\\\\\\\\b f=1", NS, "1: m [t=a\\\\b] {f=F1}"},
        {"m,t=a\\\\\\\\\\b f=1", NS, "1: m [t=a\\\\\\b] {f=F1}"},
        {"m,t=a\\\\\\\\\\\\b f=1", NS, "1: m [t=a\\\\\\b] {f=F1}"},
        {"m,t=\\ f=1", NS, "!1:10:missing fields"},
        {"m f\\ x=1", NS, "1: m [] {f x=F1}"},
        {"m f\\,x=1", NS, "1: m [] {f,x=F1}"},
        {"m f\\=x=1", NS, "1: m [] {f=x=F1}"},
        {"m f\\\\=1", NS, "1: m [] {f\\=F1}"},
        {"m f\\x=1", NS, "1: m [] {f\\x=F1}"},
        {"m,k\\ 1=v\\,1,k\\=2=v\\=2 f\\ 1=1,f\\,2=\"s\\\"x\"", NS,
         "1: m [k 1=v,1 k=2=v=2] {f 1=F1 f,2=S\"s\"x\"}"},
        {"m\\ 1\\,2,t=v f=1 1", NS, "1: m 1,2 [t=v] {f=F1} @1"},
        {"m f=\"a\\b\"", NS, "1: m [] {f=S\"a\\b\"}"},
        {"m f=\"a\\\\b\"", NS, "1: m [] {f=S\"a\\b\"}"},
        {"m f=\"a\\\\\\b\"", NS, "1: m [] {f=S\"a\\\\b\"}"},
        {"m f=\"a\\\\\\\\b\"", NS, "1: m [] {f=S\"a\\\\b\"}"},
        {"m,t=\\\"q\\\" f=1", NS, "1: m [t=\\\"q\\\"] {f=F1}"},
        {"m,t=x\\ f=1", NS, "!1:11:missing fields"},
    };
    RUN_TABLE(t);
}

static void test_lp_comments_blank_lines_and_crlf(void **state) {
    (void)state;
    static const lpcase t[] = {
        {"# comment\nm f=1", NS, "2: m [] {f=F1}"},
        {"  # indented comment\nm f=1", NS, "2: m [] {f=F1}"},
        {"\t#tab comment\r\nm f=1", NS, "2: m [] {f=F1}"},
        {"\n\n\nm f=1", NS, "4: m [] {f=F1}"},
        {"m f=1\n\nm f=2\n", NS, "1: m [] {f=F1}\n3: m [] {f=F2}"},
        {"m f=1\r\n\r\nm f=2\r\n", NS, "1: m [] {f=F1}\n3: m [] {f=F2}"},
        {"#m f=1", NS, ""},
        {"", NS, ""},
        {"\n", NS, ""},
        {"\r\n", NS, ""},
        {"   \t  \n\n  ", NS, ""},
        {"# a\n# b\n# c\n", NS, ""},
        {"m f=1\n#c\r\n  \nm f=2", NS, "1: m [] {f=F1}\n4: m [] {f=F2}"},
        {"m f=1 # not a comment", NS, "!1:7:invalid timestamp"},
        {"m f=1 1#", NS, "!1:8:invalid timestamp"},
        {"m f=1\rm f=2", NS, "!1:6:unexpected byte 0x0d"},
        {"m f=1 5\r\r\n", NS, "!1:8:invalid timestamp"},
        {"m,t=a\r f=1", NS, "1: m [t=a\r] {f=F1}"},
        {"m f=1\n\n\n\n\n\n\n\n\nm f=2", NS, "1: m [] {f=F1}\n10: m [] {f=F2}"},
        {"\xef\xbb\xbfm f=1", NS, "1: \xef\xbb\xbfm [] {f=F1}"},
    };
    RUN_TABLE(t);
}

static void test_lp_multi_line_inputs(void **state) {
    (void)state;
    static const lpcase t[] = {
        {"m f=1\nbad\nm f=2", NS, "1: m [] {f=F1}\n!2:4:missing fields\n3: m [] {f=F2}"},
        {"m f=1\n\n# c\nm,t= f=1\nm f=3", NS,
         "1: m [] {f=F1}\n!4:5:empty tag value\n5: m [] {f=F3}"},
        {"a f=1 1\r\nb g=2i 2\r\n\r\n#x\r\nc h=\"3\" 3\r\n", NS,
         "1: a [] {f=F1} @1\n2: b [] {g=I2} @2\n5: c [] {h=S\"3\"} @3"},
        {"bad1\nbad2 x\nbad3 f=\n", NS,
         "!1:5:missing fields\n!2:7:missing '=' after field key \"x\"\n!3:8:missing value"},
        {"m f=\"a\nb\"", NS, "!1:5:unterminated string\n!2:3:missing fields"},
        {"m f=\"a\ncpu v=1 1\"\nm g=2", NS,
         "!1:5:unterminated string\n!2:10:invalid timestamp\n3: m [] {g=F2}"},
        {"m f=1 1\nm f=2 2\nm f=3 3", NS,
         "1: m [] {f=F1} @1\n2: m [] {f=F2} @2\n3: m [] {f=F3} @3"},
        {"m,t=a f=1\nm,t=a,u=b,v=c f=1,g=2\nm f=1", NS,
         "1: m [t=a] {f=F1}\n2: m [t=a u=b v=c] {f=F1 g=F2}\n3: m [] {f=F1}"},
        {"m,t=a,t=b f=1\nm,t=a f=1", NS, "!1:7:duplicate tag key\n2: m [t=a] {f=F1}"},
        {"m f=1 1\n  \t\nm f=x\n\tm f=2 2", NS,
         "1: m [] {f=F1} @1\n!3:5:invalid field value\n4: m [] {f=F2} @2"},
        {"m f=1\n\n\n", NS, "1: m [] {f=F1}"},
        {"\n\nm\n\nm f=1", NS, "!3:2:missing fields\n5: m [] {f=F1}"},
    };
    RUN_TABLE(t);
}

static void test_lp_precision_units(void **state) {
    (void)state;
    static const lpcase t[] = {
        {"m f=1 1", LP_PREC_NS, "1: m [] {f=F1} @1"},
        {"m f=1 1", LP_PREC_US, "1: m [] {f=F1} @1000"},
        {"m f=1 1", LP_PREC_MS, "1: m [] {f=F1} @1000000"},
        {"m f=1 1", LP_PREC_S, "1: m [] {f=F1} @1000000000"},
        {"m f=1 1", LP_PREC_M, "1: m [] {f=F1} @60000000000"},
        {"m f=1 1", LP_PREC_H, "1: m [] {f=F1} @3600000000000"},
        {"m f=1 -1", LP_PREC_S, "1: m [] {f=F1} @-1000000000"},
        {"m f=1 -2", LP_PREC_H, "1: m [] {f=F1} @-7200000000000"},
        {"m f=1", LP_PREC_S, "1: m [] {f=F1}"},
        {"m f=1", LP_PREC_AUTO, "1: m [] {f=F1}"},
        {"m f=1 1451606400", LP_PREC_AUTO, "1: m [] {f=F1} @1451606400000000000"},
        {"m f=1 1451606400000", LP_PREC_AUTO, "1: m [] {f=F1} @1451606400000000000"},
        {"m f=1 1451606400000000", LP_PREC_AUTO, "1: m [] {f=F1} @1451606400000000000"},
        {"m f=1 1451606400000000000", LP_PREC_AUTO, "1: m [] {f=F1} @1451606400000000000"},
        {"m f=1 0", LP_PREC_AUTO, "1: m [] {f=F1} @0"},
        {"m f=1 1", LP_PREC_AUTO, "1: m [] {f=F1} @1000000000"},
        {"m f=1 4999999999", LP_PREC_AUTO, "1: m [] {f=F1} @4999999999000000000"},
        {"m f=1 5000000000", LP_PREC_AUTO, "1: m [] {f=F1} @5000000000000000"},
        {"m f=1 4999999999999", LP_PREC_AUTO, "1: m [] {f=F1} @4999999999999000000"},
        {"m f=1 5000000000000", LP_PREC_AUTO, "1: m [] {f=F1} @5000000000000000"},
        {"m f=1 4999999999999999", LP_PREC_AUTO, "1: m [] {f=F1} @4999999999999999000"},
        {"m f=1 5000000000000000", LP_PREC_AUTO, "1: m [] {f=F1} @5000000000000000"},
        {"m f=1 -1451606400", LP_PREC_AUTO, "1: m [] {f=F1} @-1451606400000000000"},
        {"m f=1 -4999999999", LP_PREC_AUTO, "1: m [] {f=F1} @-4999999999000000000"},
        {"m f=1 -5000000000", LP_PREC_AUTO, "1: m [] {f=F1} @-5000000000000000"},
        {"m f=1 9223372036854775806", LP_PREC_AUTO, "1: m [] {f=F1} @9223372036854775806"},
        {"m f=1 9223372036", LP_PREC_S, "1: m [] {f=F1} @9223372036000000000"},
        {"m f=1 9223372037", LP_PREC_S, "!1:7:timestamp out of range"},
        {"m f=1 -9223372036", LP_PREC_S, "1: m [] {f=F1} @-9223372036000000000"},
        {"m f=1 -9223372037", LP_PREC_S, "!1:7:timestamp out of range"},
        {"m f=1 9223372036854", LP_PREC_MS, "1: m [] {f=F1} @9223372036854000000"},
        {"m f=1 9223372036855", LP_PREC_MS, "!1:7:timestamp out of range"},
        {"m f=1 9223372036854775", LP_PREC_US, "1: m [] {f=F1} @9223372036854775000"},
        {"m f=1 9223372036854776", LP_PREC_US, "!1:7:timestamp out of range"},
        {"m f=1 153722867", LP_PREC_M, "1: m [] {f=F1} @9223372020000000000"},
        {"m f=1 153722868", LP_PREC_M, "!1:7:timestamp out of range"},
        {"m f=1 2562047", LP_PREC_H, "1: m [] {f=F1} @9223369200000000000"},
        {"m f=1 2562048", LP_PREC_H, "!1:7:timestamp out of range"},
        {"m f=1 -2562048", LP_PREC_H, "!1:7:timestamp out of range"},
        {"m f=1 9223372036854775807", NS, "!1:7:timestamp out of range"},
        {"m f=1 -9223372036854775807", NS, "!1:7:timestamp out of range"},
        {"m f=1 -9223372036854775808", NS, "!1:7:timestamp out of range"},
        {"m f=1 9223372036854775808", NS, "!1:7:timestamp out of range"},
        {"m f=1 -9223372036854775809", NS, "!1:7:timestamp out of range"},
        {"m f=1 99999999999999999999", NS, "!1:7:timestamp out of range"},
        {"m f=1 999999999999999999999999999999", LP_PREC_AUTO, "!1:7:timestamp out of range"},
        {"m f=1 9223372036854775807", LP_PREC_AUTO, "!1:7:timestamp out of range"},
    };
    RUN_TABLE(t);
}

static void test_lp_rejects_bad_lines(void **state) {
    (void)state;
    static const lpcase t[] = {
        /* structure */
        {"m", NS, "!1:2:missing fields"},
        {"m ", NS, "!1:2:missing fields"},
        {"m,t=a", NS, "!1:6:missing fields"},
        {"m,t=a ", NS, "!1:6:missing fields"},
        {",t=a f=1", NS, "!1:1:missing measurement"},
        {" ,t=a f=1", NS, "!1:2:missing measurement"},
        {"m, f=1", NS, "!1:3:expected a tag key after ','"},
        {"m,", NS, "!1:3:expected a tag key after ','"},
        {"m,=a f=1", NS, "!1:3:empty tag key"},
        {"m,t f=1", NS, "!1:4:missing tag value: expected '=' after tag key \"t\""},
        {"m,t,u=1 f=1", NS, "!1:4:missing tag value"},
        {"m,t", NS, "!1:4:missing tag value"},
        {"m,t= f=1", NS, "!1:5:empty tag value for tag key \"t\""},
        {"m,t=,u=b f=1", NS, "!1:5:empty tag value"},
        {"m,t=", NS, "!1:5:empty tag value"},
        {"m,t=a, f=1", NS, "!1:7:expected a tag key"},
        {"m,t=a,,u=b f=1", NS, "!1:7:expected a tag key"},
        {"m\\,,t=a f=1", NS, "1: m, [t=a] {f=F1}"},
        /* field keys and values */
        {"m =1", NS, "!1:3:empty field key"},
        {"m f", NS, "!1:4:missing '=' after field key \"f\""},
        {"m f 1", NS, "!1:4:missing '=' after field key"},
        {"m f,g=1", NS, "!1:4:missing '=' after field key \"f\""},
        {"m f=", NS,
         "!1:5:missing value for field \"f\": expected a number, a quoted string or a boolean"},
        {"m f= 1", NS, "!1:5:missing value for field \"f\""},
        {"m f=,g=1", NS, "!1:5:missing value"},
        {"m f=1,", NS, "!1:7:expected a field key"},
        {"m f=1,,g=2", NS, "!1:7:expected a field key"},
        {"m f=1, g=2", NS, "!1:7:expected a field key"},
        {"m ,f=1", NS, "!1:3:expected a field key"},
        {"m f=abc", NS,
         "!1:5:invalid field value for \"f\": expected a number, a quoted string or a boolean"},
        {"m usage=x", NS,
         "!1:9:invalid field value for \"usage\": expected a number, a quoted string or a boolean"},
        {"m f=NaN", NS, "!1:5:NaN and infinity are not supported"},
        {"m f=nan", NS, "!1:5:NaN and infinity"},
        {"m f=-Inf", NS, "!1:5:NaN and infinity"},
        {"m f=inf", NS, "!1:5:NaN and infinity"},
        {"m f=Infinity", NS, "!1:5:NaN and infinity"},
        {"m f=-nan", NS, "!1:5:NaN and infinity"},
        {"m f=.5", NS, "!1:5:a float needs a digit before '.'"},
        {"m f=+1", NS, "!1:5:a leading '+' is not allowed"},
        {"m f='x'", NS, "!1:5:strings take double quotes"},
        {"m f=1.", NS, "!1:7:expected a digit after '.'"},
        {"m f=1.e5", NS, "!1:7:expected a digit after '.'"},
        {"m f=1. 5", NS, "!1:7:expected a digit after '.'"},
        {"m f=1e", NS, "!1:7:expected a digit in the exponent"},
        {"m f=1e+", NS, "!1:8:expected a digit in the exponent"},
        {"m f=1e-x", NS, "!1:8:expected a digit in the exponent"},
        {"m f=-", NS, "!1:6:expected a digit after '-'"},
        {"m f=--1", NS, "!1:6:expected a digit after '-'"},
        {"m f=-.5", NS, "!1:6:expected a digit after '-'"},
        {"m f=1.5.5", NS, "!1:8:unexpected '.'"},
        {"m f=12a", NS, "!1:7:unexpected 'a'"},
        {"m f=1x,g=2", NS, "!1:6:unexpected 'x'"},
        {"m f=1e5e5", NS, "!1:8:unexpected 'e'"},
        {"m f=1_000", NS, "!1:6:unexpected '_'"},
        {"m f=0x10", NS, "!1:6:unexpected 'x'"},
        {"m f=1e400", NS, "!1:5:float value for field \"f\" is out of range"},
        {"m f=-1e400", NS, "!1:5:out of range"},
        {"m f=1.8e308", NS, "!1:5:out of range"},
        {"m f=1.5i", NS, "!1:5:invalid integer value for field \"f\": it cannot have a fraction"},
        {"m f=1e3i", NS, "!1:5:invalid integer value"},
        {"m f=9223372036854775808i", NS, "!1:5:integer value for field \"f\" is out of range"},
        {"m f=-9223372036854775809i", NS, "!1:5:out of range"},
        {"m f=99999999999999999999i", NS, "!1:5:out of range"},
        {"m f=18446744073709551616u", NS, "!1:5:unsigned value for field \"f\" is out of range"},
        {"m f=99999999999999999999999u", NS, "!1:5:unsigned value for field \"f\" is out of range"},
        {"m f=-1u", NS, "!1:5:invalid unsigned value for field \"f\": it cannot be negative"},
        {"m f=-0u", NS, "!1:5:cannot be negative"},
        {"m f=1.5u", NS, "!1:5:invalid unsigned value"},
        {"m f=1ii", NS, "!1:7:unexpected 'i'"},
        {"m f=1i2", NS, "!1:7:unexpected '2'"},
        {"m f=1I", NS, "!1:6:unexpected 'I'"},
        {"m f=1U", NS, "!1:6:unexpected 'U'"},
        {"m f=tru", NS, "!1:5:invalid boolean value for field \"f\""},
        {"m f=truee", NS, "!1:5:invalid boolean"},
        {"m f=tRUE", NS, "!1:5:invalid boolean"},
        {"m f=fals", NS, "!1:5:invalid boolean"},
        {"m f=T1", NS, "!1:5:invalid boolean"},
        {"m f=yes", NS, "!1:5:invalid field value"},
        {"m f=\"true\"x", NS, "!1:11:unexpected 'x' after the value of field \"f\""},
        {"m f=\"abc", NS, "!1:5:unterminated string value for field \"f\""},
        {"m f=\"abc\\\"", NS, "!1:5:unterminated string"},
        {"m f=\"abc\"x", NS, "!1:10:unexpected 'x' after the value"},
        {"m f=\"abc\"\"def\"", NS, "!1:10:unexpected '\"' after the value"},
        {"m f=\"", NS, "!1:5:unterminated string"},
        {"m f=\"a\",g=\"b", NS, "!1:11:unterminated string value for field \"g\""},
        /* timestamps */
        {"m f=1 abc", NS, "!1:7:invalid timestamp \"abc\": expected an integer"},
        {"m f=1 1.5", NS, "!1:8:invalid timestamp \"1.5\""},
        {"m f=1 +1", NS, "!1:7:invalid timestamp"},
        {"m f=1 -", NS, "!1:8:invalid timestamp"},
        {"m f=1 --1", NS, "!1:8:invalid timestamp"},
        {"m f=1 1 2", NS, "!1:9:unexpected text after the timestamp: \"2\""},
        {"m f=1 1  x y", NS, "!1:10:unexpected text after the timestamp: \"x y\""},
        {"m f=1 123abc", NS, "!1:10:invalid timestamp \"123abc\""},
        {"m f=1 1e9", NS, "!1:8:invalid timestamp"},
        {"m f=1 0x10", NS, "!1:8:invalid timestamp"},
        {"m f=1\t123", NS, "!1:6:unexpected a tab"},
        {"m\tf=1", NS, "!1:6:missing fields"},
        /* key rules */
        {"m,t=a,t=b f=1", NS, "!1:7:duplicate tag key \"t\""},
        {"m,a=1,b=2,a=3 f=1", NS, "!1:11:duplicate tag key \"a\""},
        {"m,t=a f=1,f=2", NS, "!1:11:duplicate field key \"f\""},
        {"m f=1,g=2,f=3", NS, "!1:11:duplicate field key \"f\""},
        {"m f=1,f=1i", NS, "!1:7:duplicate field key"},
        {"m,t=a t=1", NS, "!1:7:field key \"t\" is already used as a tag key"},
        {"m,a=1,t=a x=1,t=\"s\"", NS, "!1:15:already used as a tag key"},
        {"m,time=a f=1", NS, "!1:3:tag key \"time\" is not allowed"},
        {"m time=1", NS, "!1:3:field key \"time\" is not allowed"},
        {"m f=1,time=2i 5", NS, "!1:7:field key \"time\" is not allowed"},
        {"m,t\\ =a,t\\ =b f=1", NS, "!1:9:duplicate tag key \"t\\ \""},
        {"m,t\\\\x=a,t\\x=b f=1", NS, "!1:10:duplicate tag key"},
        {"m,a\\,b=1,a\\,b=2 f=1", NS, "!1:10:duplicate tag key"},
        {"m f\\=x=1,f\\=x=2", NS, "!1:10:duplicate field key"},
        {"m,f\\ x=a f\\ x=1", NS, "!1:10:already used as a tag key"},
    };
    RUN_TABLE(t);
}

/* NUL bytes: the length of each input comes from its literal. */
static void test_lp_rejects_nul_bytes_in_names(void **state) {
    (void)state;
#define NUL_ROW(s, w)                                                                              \
    { {(s), NS, (w)}, sizeof(s) - 1 }
    static const struct {
        lpcase c;
        size_t n;
    } t[] = {
        NUL_ROW("m\0 f=1", "!1:2:NUL byte not allowed in the measurement"),
        NUL_ROW("\0m f=1", "!1:1:NUL byte not allowed in the measurement"),
        NUL_ROW("m,t=a\0 f=1", "!1:6:NUL byte not allowed in a tag value"),
        NUL_ROW("m,t\0=a f=1", "!1:4:NUL byte not allowed in a tag key"),
        NUL_ROW("m,\0t=a f=1", "!1:3:NUL byte not allowed in a tag key"),
        NUL_ROW("m,t=\0 f=1", "!1:5:NUL byte not allowed in a tag value"),
        NUL_ROW("m f\0=1", "!1:4:NUL byte not allowed in a field key"),
        NUL_ROW("m \0f=1", "!1:3:NUL byte not allowed in a field key"),
        NUL_ROW("m f=1\0", "!1:6:unexpected a NUL byte"),
    };
#undef NUL_ROW
    int fails = 0;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) fails += run_case(&t[i].c, t[i].n);
    if (fails) fail_msg("%d cases failed", fails);
}

/* ------------------------------------------------------------------ non-table tests */

static void test_lp_string_value_may_hold_nul(void **state) {
    (void)state;
    static const char in[] = "m f=\"a\0b\"";
    lp_parser ps;
    lp_line l;
    lp_error e;
    lp_parser_init(&ps, in, sizeof in - 1, NS, NOW);
    assert_int_equal(lp_next(&ps, &l, &e), LP_LINE);
    assert_int_equal(l.fields[0].type, LP_STRING);
    assert_int_equal(l.fields[0].str.n, 3);
    assert_memory_equal(l.fields[0].str.p, "a\0b", 3);
    assert_int_equal(lp_next(&ps, &l, &e), LP_END);
    lp_parser_fini(&ps);
}

static void test_lp_tokens_are_zero_copy_views(void **state) {
    (void)state;
    static const char in[] =
        "  cpu\\ x,host=a\\,b,r=us f=1,s=\"q\\\"x\",n=2 7\r\nm,t=v g=\"plain\"\n";
    lp_parser ps;
    lp_line l;
    lp_error e;
    lp_parser_init(&ps, in, sizeof in - 1, NS, NOW);
    assert_int_equal(lp_next(&ps, &l, &e), LP_LINE);
    const char *lo = in, *hi = in + sizeof in - 1;
    assert_ptr_equal(l.raw.p, in);
    assert_int_equal(l.raw.n, strlen("  cpu\\ x,host=a\\,b,r=us f=1,s=\"q\\\"x\",n=2 7"));
    assert_ptr_equal(l.measurement.p, in + 2);
    assert_int_equal(l.measurement.n, 6);
    assert_int_equal(l.measurement.esc, LP_ESC_MEASUREMENT);
    assert_int_equal(l.n_tags, 2);
    assert_int_equal(l.tags[0].key.esc, LP_ESC_NONE);
    assert_int_equal(l.tags[0].val.esc, LP_ESC_NAME);
    assert_true(l.tags[0].val.p > lo && l.tags[0].val.p + l.tags[0].val.n < hi);
    assert_memory_equal(l.tags[0].val.p, "a\\,b", 4);
    assert_int_equal(l.tags[1].val.esc, LP_ESC_NONE);
    assert_memory_equal(l.tags[1].val.p, "us", 2);
    assert_int_equal(l.n_fields, 3);
    assert_int_equal(l.fields[1].str.esc, LP_ESC_STRING);
    assert_memory_equal(l.fields[1].str.p, "q\\\"x", 4);
    assert_int_equal(l.fields[0].key.esc, LP_ESC_NONE);
    assert_true(l.has_time);
    assert_int_equal(l.time_ns, 7);

    assert_int_equal(lp_next(&ps, &l, &e), LP_LINE);
    assert_int_equal(l.line_no, 2);
    assert_int_equal(l.fields[0].str.esc, LP_ESC_NONE);
    assert_int_equal(l.fields[0].str.n, 5);
    assert_memory_equal(l.fields[0].str.p, "plain", 5);
    assert_false(l.has_time);
    assert_int_equal(l.time_ns, NOW);
    assert_int_equal(lp_next(&ps, &l, &e), LP_END);
    assert_int_equal(lp_next(&ps, &l, &e), LP_END); /* stays at the end */
    lp_parser_fini(&ps);
}

static void test_lp_error_reports_raw_line_and_column(void **state) {
    (void)state;
    static const char in[] = "ok f=1\r\n  \tm,t=a f=tops 1\r\nok g=2";
    lp_parser ps;
    lp_line l;
    lp_error e;
    lp_parser_init(&ps, in, sizeof in - 1, NS, NOW);
    assert_int_equal(lp_next(&ps, &l, &e), LP_LINE);
    assert_int_equal(lp_next(&ps, &l, &e), LP_BAD);
    assert_int_equal(e.line_no, 2);
    assert_int_equal(e.raw.n, strlen("  \tm,t=a f=tops 1"));
    assert_memory_equal(e.raw.p, "  \tm,t=a f=tops 1", e.raw.n);
    assert_int_equal(e.column, 12); /* the 't' of "tops": offset counts the leading blanks */
    assert_non_null(strstr(e.reason, "invalid boolean value for field \"f\""));
    assert_int_equal(lp_next(&ps, &l, &e), LP_LINE);
    assert_int_equal(l.line_no, 3);
    assert_int_equal(lp_next(&ps, &l, &e), LP_END);
    lp_parser_fini(&ps);
}

static void test_lp_reason_names_are_sanitised(void **state) {
    (void)state;
    /* a key with control bytes and invalid UTF-8 is shown with '?' and cut when long */
    static const char in[] =
        "m k\x01\xff\xc3\xa9yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy=x";
    lp_parser ps;
    lp_line l;
    lp_error e;
    lp_parser_init(&ps, in, sizeof in - 1, NS, NOW);
    assert_int_equal(lp_next(&ps, &l, &e), LP_BAD);
    assert_non_null(strstr(e.reason, "\"k??\xc3\xa9yyy"));
    assert_non_null(strstr(e.reason, "...\""));
    assert_true(utf8_valid((const uint8_t *)e.reason, strlen(e.reason), NULL));
    lp_parser_fini(&ps);
}

/* Arrays grow only for a line with more tags/fields than any before (no per-line malloc). */
static void test_lp_arrays_grow_only_for_bigger_lines(void **state) {
    (void)state;
    buf in = {0};
    buf_puts(&in, "m,a=1,b=2,c=3 f=1,g=2\n");
    for (int i = 0; i < 1000; i++) buf_puts(&in, "m,a=1 f=1\nm,a=1,b=2,c=3 f=1,g=2\n");
    buf_puts(&in, "m,a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,j=10 "
                  "x1=1,x2=2,x3=3,x4=4,x5=5,x6=6,x7=7,x8=8,x9=9\n");
    lp_parser ps;
    lp_line l;
    lp_error e;
    lp_parser_init(&ps, (const char *)in.p, in.len, NS, NOW);
    assert_int_equal(lp_next(&ps, &l, &e), LP_LINE);
    const lp_tag *tags = ps.tags;
    const lp_field *fields = ps.fields;
    uint32_t tcap = ps.tags_cap, fcap = ps.fields_cap;
    for (int i = 0; i < 2000; i++) {
        assert_int_equal(lp_next(&ps, &l, &e), LP_LINE);
        assert_ptr_equal(ps.tags, tags);
        assert_ptr_equal(ps.fields, fields);
        assert_int_equal(ps.tags_cap, tcap);
        assert_int_equal(ps.fields_cap, fcap);
    }
    assert_int_equal(lp_next(&ps, &l, &e), LP_LINE);
    assert_int_equal(l.n_tags, 10);
    assert_int_equal(l.n_fields, 9);
    assert_true(ps.tags_cap >= 10 && ps.tags_cap > tcap);
    assert_true(ps.fields_cap >= 9);
    assert_int_equal(lp_next(&ps, &l, &e), LP_END);
    lp_parser_fini(&ps);
    buf_free(&in);
}

static int parse_one(const char *in, size_t n, lp_line *l, lp_error *e, lp_parser *ps) {
    lp_parser_init(ps, in, n, NS, NOW);
    return lp_next(ps, l, e);
}

static void test_lp_tag_and_field_count_limits(void **state) {
    (void)state;
    for (int extra = 0; extra <= 1; extra++) {
        buf in = {0};
        buf_puts(&in, "m");
        for (int i = 0; i < LP_MAX_TAGS + extra; i++) buf_printf(&in, ",t%d=v", i);
        buf_puts(&in, " f=1");
        lp_parser ps;
        lp_line l;
        lp_error e;
        int rc = parse_one((const char *)in.p, in.len, &l, &e, &ps);
        if (!extra) {
            assert_int_equal(rc, LP_LINE);
            assert_int_equal(l.n_tags, LP_MAX_TAGS);
        } else {
            assert_int_equal(rc, LP_BAD);
            assert_non_null(strstr(e.reason, "too many tags"));
        }
        lp_parser_fini(&ps);
        buf_free(&in);
    }
    for (int extra = 0; extra <= 1; extra++) {
        buf in = {0};
        buf_puts(&in, "m ");
        for (int i = 0; i < LP_MAX_FIELDS + extra; i++)
            buf_printf(&in, "%sf%d=%di", i ? "," : "", i, i);
        lp_parser ps;
        lp_line l;
        lp_error e;
        int rc = parse_one((const char *)in.p, in.len, &l, &e, &ps);
        if (!extra) {
            assert_int_equal(rc, LP_LINE);
            assert_int_equal(l.n_fields, LP_MAX_FIELDS);
            assert_int_equal(l.fields[LP_MAX_FIELDS - 1].v.i, LP_MAX_FIELDS - 1);
        } else {
            assert_int_equal(rc, LP_BAD);
            assert_non_null(strstr(e.reason, "too many fields"));
        }
        lp_parser_fini(&ps);
        buf_free(&in);
    }
}

/* Many keys take the hash-table path of the duplicate check; a late duplicate is found. */
static void test_lp_duplicate_check_with_many_keys(void **state) {
    (void)state;
    buf in = {0};
    buf_puts(&in, "m");
    for (int i = 0; i < 500; i++) buf_printf(&in, ",tag_key_%d=v", i);
    buf_puts(&in, " ");
    for (int i = 0; i < 3000; i++) buf_printf(&in, "%sfield_%d=1", i ? "," : "", i);
    size_t ok_len = in.len;
    buf_puts(&in, ",field_1234=2");
    lp_parser ps;
    lp_line l;
    lp_error e;
    assert_int_equal(parse_one((const char *)in.p, ok_len, &l, &e, &ps), LP_LINE);
    assert_int_equal(l.n_fields, 3000);
    lp_parser_fini(&ps);
    assert_int_equal(parse_one((const char *)in.p, in.len, &l, &e, &ps), LP_BAD);
    assert_int_equal(e.column, ok_len + 2);
    assert_non_null(strstr(e.reason, "duplicate field key \"field_1234\""));
    lp_parser_fini(&ps);
    buf_puts(&in, ",tag_key_499=1");
    buf_free(&in);
}

static void test_lp_name_and_string_length_limits(void **state) {
    (void)state;
    lp_parser ps;
    lp_line l;
    lp_error e;
    size_t big = LP_MAX_NAME_BYTES;
    char *in = xmalloc(LP_MAX_STRING_BYTES + 64);
    /* measurement of exactly the limit, then one more byte */
    memset(in, 'm', big);
    memcpy(in + big, " f=1", 4);
    assert_int_equal(parse_one(in, big + 4, &l, &e, &ps), LP_LINE);
    assert_int_equal(l.measurement.n, big);
    lp_parser_fini(&ps);
    memset(in, 'm', big + 1);
    memcpy(in + big + 1, " f=1", 4);
    assert_int_equal(parse_one(in, big + 5, &l, &e, &ps), LP_BAD);
    assert_non_null(strstr(e.reason, "measurement is longer than 65535 bytes"));
    lp_parser_fini(&ps);
    /* raw length over the limit but unescaped within it: accepted */
    memset(in, 'm', big - 1);
    memcpy(in + big - 1, "\\, f=1", 6);
    assert_int_equal(parse_one(in, big + 5, &l, &e, &ps), LP_LINE);
    lp_parser_fini(&ps);
    /* tag value and field key over the limit */
    memcpy(in, "m,t=", 4);
    memset(in + 4, 'v', big + 1);
    memcpy(in + 4 + big + 1, " f=1", 4);
    assert_int_equal(parse_one(in, big + 9, &l, &e, &ps), LP_BAD);
    assert_non_null(strstr(e.reason, "tag value is longer than"));
    lp_parser_fini(&ps);
    memcpy(in, "m ", 2);
    memset(in + 2, 'k', big + 1);
    memcpy(in + 2 + big + 1, "=1", 2);
    assert_int_equal(parse_one(in, big + 5, &l, &e, &ps), LP_BAD);
    assert_non_null(strstr(e.reason, "field key is longer than"));
    lp_parser_fini(&ps);
    /* string value: 1 MiB accepted, one more byte rejected */
    memcpy(in, "m f=\"", 5);
    memset(in + 5, 's', LP_MAX_STRING_BYTES);
    in[5 + LP_MAX_STRING_BYTES] = '"';
    assert_int_equal(parse_one(in, LP_MAX_STRING_BYTES + 6, &l, &e, &ps), LP_LINE);
    assert_int_equal(l.fields[0].str.n, LP_MAX_STRING_BYTES);
    lp_parser_fini(&ps);
    memset(in + 5, 's', LP_MAX_STRING_BYTES + 1);
    in[6 + LP_MAX_STRING_BYTES] = '"';
    assert_int_equal(parse_one(in, LP_MAX_STRING_BYTES + 7, &l, &e, &ps), LP_BAD);
    assert_non_null(strstr(e.reason, "is longer than 1048576 bytes"));
    lp_parser_fini(&ps);
    free(in);
}

static void test_lp_unescape_rules(void **state) {
    (void)state;
    char out[64];
    struct {
        const char *raw;
        uint8_t esc;
        bool is_string;
        const char *want;
    } t[] = {
        {"a\\ b\\,c\\=d\\\\e\\xf", LP_ESC_NAME, false, "a b,c=d\\e\\xf"},
        {"a\\ b\\,c\\=d\\\\e\\xf", LP_ESC_MEASUREMENT, false, "a b,c\\=d\\e\\xf"},
        {"q\\\"x\\\\y\\n\\,", LP_ESC_STRING, true, "q\"x\\y\\n\\,"},
        {"trail\\", LP_ESC_NAME, false, "trail\\"},
        {"a\\ b", LP_ESC_NONE, false, "a\\ b"},
        {"", LP_ESC_NAME, false, ""},
        {"\\\\\\", LP_ESC_NAME, false, "\\\\"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        lp_tok tok = {t[i].raw, (uint32_t)strlen(t[i].raw), t[i].esc};
        size_t n = lp_unescape(tok, t[i].is_string, out);
        out[n] = '\0';
        if (strcmp(out, t[i].want) != 0)
            fail_msg("unescape \"%s\": got \"%s\", want \"%s\"", t[i].raw, out, t[i].want);
    }
}

static void test_lp_precision_names(void **state) {
    (void)state;
    struct {
        const char *s;
        lp_precision want;
    } ok[] = {
        {"ns", LP_PREC_NS},
        {"n", LP_PREC_NS},
        {"nanosecond", LP_PREC_NS},
        {"us", LP_PREC_US},
        {"u", LP_PREC_US},
        {"\xc2\xb5", LP_PREC_US},
        {"microsecond", LP_PREC_US},
        {"ms", LP_PREC_MS},
        {"millisecond", LP_PREC_MS},
        {"s", LP_PREC_S},
        {"second", LP_PREC_S},
        {"m", LP_PREC_M},
        {"h", LP_PREC_H},
        {"auto", LP_PREC_AUTO},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        lp_precision p = LP_PREC_H;
        if (ok[i].want == LP_PREC_H) p = LP_PREC_NS;
        assert_int_equal(lp_precision_parse(ok[i].s, LP_PREC_NS, &p), SILT_OK);
        if (p != ok[i].want) fail_msg("precision \"%s\": got %d", ok[i].s, (int)p);
    }
    static const char *const bad[] = {"S", "NS", "sec", "seconds", "minute", "min",        "hour",
                                      "x", " s", "s ",  "ms2",     "Auto",   "nanoseconds"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lp_precision p = LP_PREC_H;
        assert_int_equal(lp_precision_parse(bad[i], LP_PREC_NS, &p), SILT_EINVAL);
        assert_int_equal(p, LP_PREC_H); /* untouched */
    }
    lp_precision p = LP_PREC_NS;
    assert_int_equal(lp_precision_parse(NULL, LP_PREC_AUTO, &p), SILT_OK);
    assert_int_equal(p, LP_PREC_AUTO);
    p = LP_PREC_NS;
    assert_int_equal(lp_precision_parse("", LP_PREC_MS, &p), SILT_OK);
    assert_int_equal(p, LP_PREC_MS);
}

static void test_lp_type_names(void **state) {
    (void)state;
    assert_string_equal(lp_type_name(LP_FLOAT), "float");
    assert_string_equal(lp_type_name(LP_INT), "integer");
    assert_string_equal(lp_type_name(LP_UINT), "unsigned");
    assert_string_equal(lp_type_name(LP_STRING), "string");
    assert_string_equal(lp_type_name(LP_BOOL), "boolean");
    assert_string_equal(lp_type_name((lp_type)99), "unknown");
    assert_int_equal(LP_FLOAT, 1); /* stored in the WAL: values must not move */
    assert_int_equal(LP_BOOL, 5);
}

static void test_lp_empty_and_null_input(void **state) {
    (void)state;
    lp_parser ps;
    lp_line l;
    lp_error e;
    lp_parser_init(&ps, NULL, 0, NS, NOW);
    assert_int_equal(lp_next(&ps, &l, &e), LP_END);
    lp_parser_fini(&ps);
    lp_parser_init(&ps, "", 0, NS, NOW);
    assert_int_equal(lp_next(&ps, &l, &e), LP_END);
    lp_parser_fini(&ps);
    /* input not NUL-terminated: the parser stops at n */
    lp_parser_init(&ps, "m f=1 12345", 9, NS, NOW);
    assert_int_equal(lp_next(&ps, &l, &e), LP_LINE);
    assert_int_equal(l.time_ns, 123);
    assert_int_equal(lp_next(&ps, &l, &e), LP_END);
    lp_parser_fini(&ps);
}

/* The parser keeps going after every bad line, and counts lines right across thousands. */
static void test_lp_continues_after_bad_lines(void **state) {
    (void)state;
    buf in = {0};
    for (int i = 0; i < 3000; i++) {
        switch (i % 5) {
            case 0:
                buf_printf(&in, "m,i=%d f=%d %d\n", i, i, i);
                break;
            case 1:
                buf_puts(&in, "broken line here\n");
                break;
            case 2:
                buf_puts(&in, "# comment\n");
                break;
            case 3:
                buf_puts(&in, "\r\n");
                break;
            case 4:
                buf_printf(&in, "m f=\"unterminated %d\n", i);
                break;
        }
    }
    lp_parser ps;
    lp_line l;
    lp_error e;
    lp_parser_init(&ps, (const char *)in.p, in.len, NS, NOW);
    int good = 0, badn = 0, rc;
    while ((rc = lp_next(&ps, &l, &e)) != LP_END) {
        if (rc == LP_LINE) {
            assert_int_equal(l.line_no, (uint32_t)(good * 5 + 1));
            assert_int_equal(l.time_ns, good * 5);
            assert_true(l.fields[0].v.f == good * 5);
            good++;
        } else {
            assert_true(e.line_no % 5 == 2 || e.line_no % 5 == 0);
            badn++;
        }
    }
    assert_int_equal(good, 600);
    assert_int_equal(badn, 1200);
    assert_int_equal(ps.line_no, 3000);
    lp_parser_fini(&ps);
    buf_free(&in);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lp_valid_line_structure),
        cmocka_unit_test(test_lp_field_value_types),
        cmocka_unit_test(test_lp_escapes_and_backslashes),
        cmocka_unit_test(test_lp_comments_blank_lines_and_crlf),
        cmocka_unit_test(test_lp_multi_line_inputs),
        cmocka_unit_test(test_lp_precision_units),
        cmocka_unit_test(test_lp_rejects_bad_lines),
        cmocka_unit_test(test_lp_rejects_nul_bytes_in_names),
        cmocka_unit_test(test_lp_string_value_may_hold_nul),
        cmocka_unit_test(test_lp_tokens_are_zero_copy_views),
        cmocka_unit_test(test_lp_error_reports_raw_line_and_column),
        cmocka_unit_test(test_lp_reason_names_are_sanitised),
        cmocka_unit_test(test_lp_arrays_grow_only_for_bigger_lines),
        cmocka_unit_test(test_lp_tag_and_field_count_limits),
        cmocka_unit_test(test_lp_duplicate_check_with_many_keys),
        cmocka_unit_test(test_lp_name_and_string_length_limits),
        cmocka_unit_test(test_lp_unescape_rules),
        cmocka_unit_test(test_lp_precision_names),
        cmocka_unit_test(test_lp_type_names),
        cmocka_unit_test(test_lp_empty_and_null_input),
        cmocka_unit_test(test_lp_continues_after_bad_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
