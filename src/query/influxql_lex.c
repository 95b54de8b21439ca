/* SPDX-License-Identifier: MIT
 *
 * The InfluxQL lexer: turns the query text into tokens on demand. Rules (InfluxDB 1.x):
 *   - whitespace: space, tab, CR, LF, FF, VT; comments "-- ... end of line" and
 *     "/" "* ... *" "/" (not nested);
 *   - unquoted identifiers [A-Za-z_][A-Za-z0-9_]*; those spelling a keyword (any case) are
 *     keywords, including AND, OR, TRUE, FALSE;
 *   - "quoted identifiers" and 'strings': any characters but a raw newline, with the escapes
 *     \n \\ \" \' (anything else after a backslash is a "bad escape");
 *   - numbers: digits (an integer), digits '.' digits or '.' digits (a number); no exponent;
 *   - durations: digits followed by a letter or 'µ', then any letters, 'µ' and digits
 *     ("10m", "1h30m"; the parser validates the units);
 *   - bound parameters: '$' followed by an identifier or a quoted identifier;
 *   - regexes /.../ with \/ for a slash (other backslash pairs are kept as written), scanned
 *     only when the parser asks for one (a '/' is otherwise the division operator);
 *   - operators and punctuation: + - * / % & | ^ = != <> < <= > >= =~ !~ , ; ( ) . ::
 * NUL bytes are rejected by the parser before lexing; the text is valid UTF-8.
 */
#include "influxql.h"

#include <stdio.h>

static const char *const kw_names[] = {"",
#define IQL__KW_NAME(k) #k,
                                       IQL_KEYWORDS(IQL__KW_NAME)
#undef IQL__KW_NAME
};

const char *influxql__kw_name(iql_kw kw) {
    if ((size_t)kw >= sizeof kw_names / sizeof kw_names[0]) return "?";
    return kw_names[kw];
}

iql_kw influxql__kw_lookup(const char *s, size_t n) {
    if (n < 2 || n > 13) return IQL_KW_NONE;
    char up[16];
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        up[i] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
    }
    up[n] = 0;
    /* binary search: the X-macro list is in ASCII order */
    size_t lo = 1, hi = sizeof kw_names / sizeof kw_names[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(up, kw_names[mid]);
        if (c == 0) return (iql_kw)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return IQL_KW_NONE;
}

void influxql__lex_init(iql_lexer *lx, const char *src, size_t n, arena *a) {
    assert(n <= IQL_MAX_QUERY_BYTES);
    lx->src = src;
    lx->n = (uint32_t)n;
    lx->pos = 0;
    lx->a = a;
}

static bool is_letter(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}

static void tok_error(iql_tok *t, uint32_t pos, const char *msg) {
    t->type = IQL_TK_ERROR;
    t->kw = IQL_KW_NONE;
    t->pos = pos;
    t->len = 0;
    t->text = sv_from(msg);
}

/* Skip whitespace and comments. Returns false (and fills t) on an unterminated comment. */
static bool skip_space(iql_lexer *lx, iql_tok *t) {
    size_t start;
    size_t pos = text_skip_space(lx->src, lx->n, lx->pos, &start);
    if (pos == SIZE_MAX) {
        lx->pos = lx->n;
        tok_error(t, (uint32_t)start, "unterminated comment");
        return false;
    }
    lx->pos = (uint32_t)pos;
    return true;
}

/* A 'string' or "identifier" starting at lx->pos (the opening quote q), with the escapes
 * \n \\ \" \'. A raw newline or the end of input before the closing quote is an error.
 * Two passes: find the end and check the escapes, then copy exactly what is needed. */
static void lex_quoted(iql_lexer *lx, iql_tok *t, char q) {
    const char *s = lx->src;
    uint32_t start = lx->pos;
    uint32_t i = start + 1;
    for (;;) {
        if (i >= lx->n || s[i] == '\n') {
            tok_error(t, start, q == '\'' ? "unterminated string" : "unterminated identifier");
            lx->pos = i;
            return;
        }
        if (s[i] == q) break;
        if (s[i] == '\\') {
            char e = i + 1 < lx->n ? s[i + 1] : 0;
            if (e != 'n' && e != '\\' && e != '"' && e != '\'') {
                tok_error(t, i, "bad escape");
                lx->pos = i + 1;
                return;
            }
            i += 2;
            continue;
        }
        i++;
    }
    char *text = arena_alloc(lx->a, (size_t)(i - start));
    size_t k = 0;
    for (uint32_t j = start + 1; j < i; j++) {
        if (s[j] == '\\') {
            j++;
            text[k++] = s[j] == 'n' ? '\n' : s[j];
        } else {
            text[k++] = s[j];
        }
    }
    text[k] = 0;
    lx->pos = i + 1;
    t->type = q == '\'' ? IQL_TK_STRING : IQL_TK_QIDENT;
    t->pos = start;
    t->len = lx->pos - start;
    t->text = (str_view){text, k};
}

static bool is_micro(const char *s, uint32_t i, uint32_t n) {
    return i + 1 < n && (unsigned char)s[i] == 0xC2 && (unsigned char)s[i + 1] == 0xB5;
}

static void lex_number(iql_lexer *lx, iql_tok *t) {
    const char *s = lx->src;
    uint32_t start = lx->pos;
    iql_tok_type type = IQL_TK_INTEGER;
    while (lx->pos < lx->n && is_digit((unsigned char)s[lx->pos])) lx->pos++;
    if (lx->pos + 1 < lx->n && s[lx->pos] == '.' && is_digit((unsigned char)s[lx->pos + 1])) {
        type = IQL_TK_NUMBER;
        lx->pos++;
        while (lx->pos < lx->n && is_digit((unsigned char)s[lx->pos])) lx->pos++;
    } else if (lx->pos < lx->n &&
               (is_letter((unsigned char)s[lx->pos]) || is_micro(s, lx->pos, lx->n))) {
        type = IQL_TK_DURATION;
        for (;;) {
            if (lx->pos < lx->n &&
                (is_letter((unsigned char)s[lx->pos]) || is_digit((unsigned char)s[lx->pos])))
                lx->pos++;
            else if (is_micro(s, lx->pos, lx->n))
                lx->pos += 2;
            else
                break;
        }
    }
    t->type = type;
    t->pos = start;
    t->len = lx->pos - start;
    t->text = (str_view){arena_strndup(lx->a, s + start, t->len), t->len};
}

static void lex_ident(iql_lexer *lx, iql_tok *t) {
    const char *s = lx->src;
    uint32_t start = lx->pos;
    while (lx->pos < lx->n &&
           (is_letter((unsigned char)s[lx->pos]) || is_digit((unsigned char)s[lx->pos])))
        lx->pos++;
    uint32_t n = lx->pos - start;
    t->pos = start;
    t->len = n;
    t->text = (str_view){arena_strndup(lx->a, s + start, n), n};
    t->kw = influxql__kw_lookup(s + start, n);
    t->type = t->kw != IQL_KW_NONE ? IQL_TK_KEYWORD : IQL_TK_IDENT;
}

void influxql__lex_regex(iql_lexer *lx, uint32_t at, iql_tok *t) {
    const char *s = lx->src;
    memset(t, 0, sizeof *t);
    assert(at < lx->n && s[at] == '/');
    uint32_t i = at + 1;
    for (;;) {
        if (i >= lx->n) {
            tok_error(t, at, "unterminated regex");
            lx->pos = i;
            return;
        }
        if (s[i] == '/') break;
        i += (s[i] == '\\' && i + 1 < lx->n) ? 2 : 1;
    }
    char *text = arena_alloc(lx->a, (size_t)(i - at));
    size_t k = 0;
    for (uint32_t j = at + 1; j < i; j++) {
        if (s[j] == '\\' && j + 1 < i) {
            if (s[j + 1] != '/') text[k++] = '\\';
            text[k++] = s[++j];
        } else {
            text[k++] = s[j];
        }
    }
    text[k] = 0;
    lx->pos = i + 1;
    t->type = IQL_TK_REGEX;
    t->pos = at;
    t->len = lx->pos - at;
    t->text = (str_view){text, k};
}

void influxql__lex_next(iql_lexer *lx, iql_tok *t) {
    memset(t, 0, sizeof *t);
    if (!skip_space(lx, t)) return;
    const char *s = lx->src;
    t->pos = lx->pos;
    if (lx->pos >= lx->n) {
        t->type = IQL_TK_EOF;
        t->text = SV("EOF");
        return;
    }
    unsigned char c = (unsigned char)s[lx->pos];
    unsigned char c1 = lx->pos + 1 < lx->n ? (unsigned char)s[lx->pos + 1] : 0;
    if (c == '\'' || c == '"') {
        lex_quoted(lx, t, (char)c);
        return;
    }
    if (is_digit(c) || (c == '.' && is_digit(c1))) {
        lex_number(lx, t);
        return;
    }
    if (is_letter(c)) {
        lex_ident(lx, t);
        return;
    }
    if (c == '$') {
        uint32_t start = lx->pos;
        lx->pos++;
        if (c1 == '"') {
            lex_quoted(lx, t, '"');
            if (t->type == IQL_TK_ERROR) return;
        } else if (is_letter(c1)) {
            lex_ident(lx, t);
        } else {
            t->type = IQL_TK_ILLEGAL;
            t->len = 1;
            t->text = SV("$");
            return;
        }
        t->type = IQL_TK_PARAM;
        t->kw = IQL_KW_NONE;
        t->pos = start;
        t->len = lx->pos - start;
        return;
    }
    iql_tok_type type;
    uint32_t len = 1;
    switch (c) {
        case ',':
            type = IQL_TK_COMMA;
            break;
        case ';':
            type = IQL_TK_SEMI;
            break;
        case '(':
            type = IQL_TK_LPAREN;
            break;
        case ')':
            type = IQL_TK_RPAREN;
            break;
        case '.':
            type = IQL_TK_DOT;
            break;
        case ':':
            if (c1 != ':') goto illegal;
            type = IQL_TK_DOUBLECOLON;
            len = 2;
            break;
        case '+':
            type = IQL_TK_ADD;
            break;
        case '-':
            type = IQL_TK_SUB;
            break;
        case '*':
            type = IQL_TK_MUL;
            break;
        case '/':
            type = IQL_TK_DIV;
            break;
        case '%':
            type = IQL_TK_MOD;
            break;
        case '&':
            type = IQL_TK_BITAND;
            break;
        case '|':
            type = IQL_TK_BITOR;
            break;
        case '^':
            type = IQL_TK_BITXOR;
            break;
        case '=':
            type = IQL_TK_EQ;
            if (c1 == '~') type = IQL_TK_EQREGEX, len = 2;
            break;
        case '!':
            if (c1 == '=')
                type = IQL_TK_NEQ, len = 2;
            else if (c1 == '~')
                type = IQL_TK_NEQREGEX, len = 2;
            else
                goto illegal;
            break;
        case '<':
            type = IQL_TK_LT;
            if (c1 == '=')
                type = IQL_TK_LTE, len = 2;
            else if (c1 == '>')
                type = IQL_TK_NEQ, len = 2;
            break;
        case '>':
            type = IQL_TK_GT;
            if (c1 == '=') type = IQL_TK_GTE, len = 2;
            break;
        default:
            goto illegal;
    }
    t->type = type;
    t->len = len;
    t->text = (str_view){s + lx->pos, len};
    lx->pos += len;
    return;
illegal:;
    /* one whole UTF-8 character (the text is valid UTF-8) */
    uint32_t n = 1;
    if (c >= 0xF0)
        n = 4;
    else if (c >= 0xE0)
        n = 3;
    else if (c >= 0xC0)
        n = 2;
    if (lx->pos + n > lx->n) n = lx->n - lx->pos;
    t->type = IQL_TK_ILLEGAL;
    t->len = n;
    t->text = (str_view){arena_strndup(lx->a, s + lx->pos, n), n};
    lx->pos += n;
}
