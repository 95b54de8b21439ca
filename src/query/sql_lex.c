/* SPDX-License-Identifier: MIT
 *
 * The SQL lexer: turns the statement text into tokens on demand (the parser holds two
 * tokens of lookahead, so a 1 MiB statement never becomes a 1 MiB token array).
 *
 * Lexical rules (PostgreSQL / DataFusion):
 *   - whitespace: space, tab, CR, LF, FF, VT; comments "-- ... end of line" and
 *     "/" "* ... *" "/" (not nested);
 *   - unquoted identifiers: [A-Za-z_ or any byte >= 0x80] then also digits and '$'; folded to
 *     lower case (ASCII only); keywords are recognised case-insensitively;
 *   - "quoted identifiers": any bytes but NUL, "" is a quote, case kept, must not be empty;
 *   - 'string literals': any bytes but NUL, '' is a quote;
 *   - numbers: digits [. digits] [e [+-] digits], or . digits [exponent]; a sign is a separate
 *     token (the parser folds -literal);
 *   - operators and punctuation: , . ( ) ; * + - / % = != <> < <= > >= :: || ~ ~* !~ !~*;
 *   - bound parameters: '$' then an identifier (InfluxDB 3's parameterized queries).
 * A NUL byte anywhere is an error (names are handed to the source as C strings).
 */
#include "query_int.h"

#include <stdio.h>

static const struct {
    const char *name;
    sql_kw kw;
} keywords[] = {
    {"all", KW_ALL},
    {"and", KW_AND},
    {"as", KW_AS},
    {"asc", KW_ASC},
    {"between", KW_BETWEEN},
    {"by", KW_BY},
    {"case", KW_CASE},
    {"cast", KW_CAST},
    {"columns", KW_COLUMNS},
    {"desc", KW_DESC},
    {"distinct", KW_DISTINCT},
    {"else", KW_ELSE},
    {"end", KW_END},
    {"false", KW_FALSE},
    {"first", KW_FIRST},
    {"from", KW_FROM},
    {"group", KW_GROUP},
    {"having", KW_HAVING},
    {"ilike", KW_ILIKE},
    {"in", KW_IN},
    {"interval", KW_INTERVAL},
    {"is", KW_IS},
    {"last", KW_LAST},
    {"like", KW_LIKE},
    {"limit", KW_LIMIT},
    {"not", KW_NOT},
    {"null", KW_NULL},
    {"nulls", KW_NULLS},
    {"offset", KW_OFFSET},
    {"or", KW_OR},
    {"order", KW_ORDER},
    {"select", KW_SELECT},
    {"show", KW_SHOW},
    {"tables", KW_TABLES},
    {"then", KW_THEN},
    {"timestamp", KW_TIMESTAMP},
    {"true", KW_TRUE},
    {"union", KW_UNION},
    {"when", KW_WHEN},
    {"where", KW_WHERE},
    {"with", KW_WITH},
};

const char *query__kw_name(sql_kw kw) {
    switch (kw) {
        case KW_AND:
            return "AND";
        case KW_AS:
            return "AS";
        case KW_ASC:
            return "ASC";
        case KW_BY:
            return "BY";
        case KW_DESC:
            return "DESC";
        case KW_FALSE:
            return "FALSE";
        case KW_FROM:
            return "FROM";
        case KW_IS:
            return "IS";
        case KW_LIMIT:
            return "LIMIT";
        case KW_NOT:
            return "NOT";
        case KW_NULL:
            return "NULL";
        case KW_OFFSET:
            return "OFFSET";
        case KW_OR:
            return "OR";
        case KW_ORDER:
            return "ORDER";
        case KW_SELECT:
            return "SELECT";
        case KW_SHOW:
            return "SHOW";
        case KW_TRUE:
            return "TRUE";
        case KW_WHERE:
            return "WHERE";
        case KW_COLUMNS:
            return "COLUMNS";
        case KW_IN:
            return "IN";
        case KW_INTERVAL:
            return "INTERVAL";
        case KW_TABLES:
            return "TABLES";
        case KW_TIMESTAMP:
            return "TIMESTAMP";
        case KW_BETWEEN:
            return "BETWEEN";
        case KW_CASE:
            return "CASE";
        case KW_CAST:
            return "CAST";
        case KW_DISTINCT:
            return "DISTINCT";
        case KW_ELSE:
            return "ELSE";
        case KW_END:
            return "END";
        case KW_GROUP:
            return "GROUP";
        case KW_HAVING:
            return "HAVING";
        case KW_ILIKE:
            return "ILIKE";
        case KW_LIKE:
            return "LIKE";
        case KW_THEN:
            return "THEN";
        case KW_WHEN:
            return "WHEN";
        case KW_FIRST:
            return "FIRST";
        case KW_LAST:
            return "LAST";
        case KW_NULLS:
            return "NULLS";
        case KW_ALL:
            return "ALL";
        case KW_UNION:
            return "UNION";
        case KW_WITH:
            return "WITH";
        case KW_NONE:
        case KW_RESERVED_END:
            break;
    }
    return "?";
}

void query__lex_init(sql_lexer *lx, const char *src, size_t n, arena *a) {
    assert(n <= QUERY_MAX_SQL_BYTES);
    lx->src = src;
    lx->n = (uint32_t)n;
    lx->pos = 0;
    lx->a = a;
}

static bool is_ident_start(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool is_ident_char(unsigned char c) {
    return is_ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static bool is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}

static void tok_error(sql_lexer *lx, sql_tok *t, uint32_t pos, const char *msg) {
    t->type = TK_ERROR;
    t->kw = KW_NONE;
    t->pos = pos;
    t->len = lx->pos > pos ? lx->pos - pos : 0;
    t->text = sv_from(msg);
}

/* Skip whitespace and comments. Returns false (and fills t) on an unterminated comment. */
static bool skip_space(sql_lexer *lx, sql_tok *t) {
    size_t start;
    size_t pos = text_skip_space(lx->src, lx->n, lx->pos, &start);
    if (pos == SIZE_MAX) {
        lx->pos = lx->n;
        tok_error(lx, t, (uint32_t)start, "unterminated /* comment");
        return false;
    }
    lx->pos = (uint32_t)pos;
    return true;
}

/* A quoted string or identifier starting at lx->pos (the opening quote q). The doubled quote
 * is an escaped quote. Copies into the arena only when there is something to unescape. */
static void lex_quoted(sql_lexer *lx, sql_tok *t, char q) {
    const char *s = lx->src;
    uint32_t start = lx->pos++;
    uint32_t body = lx->pos;
    size_t n_esc = 0;
    for (;;) {
        if (lx->pos >= lx->n) {
            tok_error(lx, t, start,
                      q == '\'' ? "unterminated string literal" : "unterminated quoted identifier");
            return;
        }
        char c = s[lx->pos];
        if (c == 0) {
            tok_error(lx, t, lx->pos, "unexpected NUL byte");
            return;
        }
        if (c == q) {
            if (lx->pos + 1 < lx->n && s[lx->pos + 1] == q) {
                n_esc++;
                lx->pos += 2;
                continue;
            }
            break;
        }
        lx->pos++;
    }
    uint32_t end = lx->pos++; /* the closing quote */
    size_t n = end - body;
    char *text = arena_alloc(lx->a, n - n_esc + 1);
    size_t k = 0;
    for (size_t i = body; i < end; i++) {
        text[k++] = s[i];
        if (s[i] == q) i++; /* skip the second quote of a pair */
    }
    text[k] = 0;
    t->type = q == '\'' ? TK_STRING : TK_QIDENT;
    t->pos = start;
    t->len = lx->pos - start;
    t->text = (str_view){text, k};
    if (q == '"' && k == 0) tok_error(lx, t, start, "zero-length quoted identifier");
}

static void lex_number(sql_lexer *lx, sql_tok *t) {
    const char *s = lx->src;
    uint32_t start = lx->pos;
    bool is_float = false;
    while (lx->pos < lx->n && is_digit((unsigned char)s[lx->pos])) lx->pos++;
    if (lx->pos < lx->n && s[lx->pos] == '.') {
        is_float = true;
        lx->pos++;
        while (lx->pos < lx->n && is_digit((unsigned char)s[lx->pos])) lx->pos++;
    }
    if (lx->pos < lx->n && (s[lx->pos] == 'e' || s[lx->pos] == 'E')) {
        uint32_t e = lx->pos + 1;
        if (e < lx->n && (s[e] == '+' || s[e] == '-')) e++;
        if (e < lx->n && is_digit((unsigned char)s[e])) {
            is_float = true;
            lx->pos = e;
            while (lx->pos < lx->n && is_digit((unsigned char)s[lx->pos])) lx->pos++;
        } else {
            lx->pos = e;
            tok_error(lx, t, start, "invalid number: exponent without digits");
            return;
        }
    }
    if (lx->pos < lx->n && is_ident_start((unsigned char)s[lx->pos])) {
        while (lx->pos < lx->n && is_ident_char((unsigned char)s[lx->pos])) lx->pos++;
        tok_error(lx, t, start, "invalid number: letters after the digits");
        return;
    }
    t->type = is_float ? TK_FLOAT : TK_INT;
    t->pos = start;
    t->len = lx->pos - start;
    t->text = (str_view){arena_strndup(lx->a, s + start, t->len), t->len};
}

static void lex_ident(sql_lexer *lx, sql_tok *t) {
    const char *s = lx->src;
    uint32_t start = lx->pos;
    while (lx->pos < lx->n && is_ident_char((unsigned char)s[lx->pos])) lx->pos++;
    uint32_t n = lx->pos - start;
    char *text = arena_alloc(lx->a, (size_t)n + 1);
    for (uint32_t i = 0; i < n; i++) {
        char c = s[start + i];
        text[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    text[n] = 0;
    t->type = TK_IDENT;
    t->pos = start;
    t->len = n;
    t->text = (str_view){text, n};
    t->kw = KW_NONE;
    if (n <= 9) {
        for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
            if (strcmp(text, keywords[i].name) == 0) {
                t->kw = keywords[i].kw;
                break;
            }
        }
    }
}

void query__lex_next(sql_lexer *lx, sql_tok *t) {
    memset(t, 0, sizeof *t);
    if (!skip_space(lx, t)) return;
    const char *s = lx->src;
    t->pos = lx->pos;
    if (lx->pos >= lx->n) {
        t->type = TK_EOF;
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
    if (is_ident_start(c)) {
        lex_ident(lx, t);
        return;
    }
    if (c == '$' && is_ident_start(c1)) { /* a bound parameter (InfluxDB 3's params) */
        uint32_t start = ++lx->pos;
        while (lx->pos < lx->n && is_ident_char((unsigned char)s[lx->pos]) && s[lx->pos] != '$')
            lx->pos++;
        t->type = TK_PARAM;
        t->len = lx->pos - t->pos;
        t->text = (str_view){s + start, lx->pos - start};
        return;
    }
    sql_tok_type type;
    uint32_t len = 1;
    switch (c) {
        case ',':
            type = TK_COMMA;
            break;
        case '.':
            type = TK_DOT;
            break;
        case '(':
            type = TK_LPAREN;
            break;
        case ')':
            type = TK_RPAREN;
            break;
        case ';':
            type = TK_SEMI;
            break;
        case '*':
            type = TK_STAR;
            break;
        case '+':
            type = TK_PLUS;
            break;
        case '-':
            type = TK_MINUS;
            break;
        case '/':
            type = TK_SLASH;
            break;
        case '%':
            type = TK_PERCENT;
            break;
        case '=':
            type = TK_EQ;
            break;
        case '!':
            if (c1 == '~') {
                bool ci = lx->pos + 2 < lx->n && s[lx->pos + 2] == '*';
                type = ci ? TK_NRE_I : TK_NRE;
                len = ci ? 3 : 2;
                break;
            }
            if (c1 != '=') goto bad;
            type = TK_NE;
            len = 2;
            break;
        case '~':
            type = c1 == '*' ? TK_RE_I : TK_RE;
            len = c1 == '*' ? 2 : 1;
            break;
        case ':':
            if (c1 != ':') goto bad;
            type = TK_DCOLON;
            len = 2;
            break;
        case '|':
            if (c1 != '|') goto bad;
            type = TK_CONCAT;
            len = 2;
            break;
        case '<':
            type = TK_LT;
            if (c1 == '=')
                type = TK_LE, len = 2;
            else if (c1 == '>')
                type = TK_NE, len = 2;
            break;
        case '>':
            type = TK_GT;
            if (c1 == '=') type = TK_GE, len = 2;
            break;
        default:
            goto bad;
    }
    t->type = type;
    t->len = len;
    t->text = (str_view){s + lx->pos, len};
    lx->pos += len;
    return;
bad:;
    uint32_t at = lx->pos;
    lx->pos++;
    if (c == 0) {
        tok_error(lx, t, at, "unexpected NUL byte");
    } else if (c < 0x20 || c == 0x7f) {
        char *m = arena_alloc(lx->a, 48);
        snprintf(m, 48, "unexpected character 0x%02x", c);
        tok_error(lx, t, at, m);
    } else {
        char *m = arena_alloc(lx->a, 48);
        snprintf(m, 48, "unexpected character '%c'", c);
        tok_error(lx, t, at, m);
    }
}
