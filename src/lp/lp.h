/* SPDX-License-Identifier: MIT
 *
 * lp: the InfluxDB line protocol parser. Zero-copy: tokens point into the caller's input;
 * the parser allocates only when a line has more tags, fields or escaped key bytes than any
 * line before it.
 * A malformed line is returned as data (line number, column, reason), never as a failure of
 * the whole input, so callers can keep the valid lines of a request (partial writes).
 *
 * Grammar (https://docs.influxdata.com/influxdb3/core/reference/line-protocol/):
 *   line        = measurement *("," tag_key "=" tag_value) 1*" " field *("," field)
 *                 [1*" " timestamp] *(" " | TAB)
 *   field       = field_key "=" value
 *   value       = float | integer "i" | unsigned "u" | '"' string '"' | boolean
 *   float       = ["-"] 1*DIGIT ["." 1*DIGIT] [("e" | "E") ["+" | "-"] 1*DIGIT]
 *   integer     = ["-"] 1*DIGIT          unsigned = 1*DIGIT          timestamp = ["-"] 1*DIGIT
 *   boolean     = t | T | true | True | TRUE | f | F | false | False | FALSE
 * Escapes: measurement: "\," "\ " ; tag keys, tag values, field keys: "\," "\=" "\ " ;
 * string field values: '\"'. In every element "\\" is one backslash (InfluxDB's "escaping
 * backslashes" rule); a backslash before any other character is literal.
 * Lines end with LF or CRLF; blank lines and lines whose first non-blank character is '#'
 * are skipped (they still count in line numbers). Leading and trailing spaces/tabs are
 * ignored. lp_parse.c's file comment lists every deliberate choice where InfluxDB versions
 * differ or are silent (float spellings, duplicates, NUL bytes, string newlines, ...).
 */
#ifndef SILT_LP_H
#define SILT_LP_H

#include "../util/util.h"

/* Field value types. The numeric values are stable: they are stored in the WAL and, later,
 * in the catalog. */
typedef enum lp_type {
    LP_FLOAT = 1,
    LP_INT = 2,
    LP_UINT = 3,
    LP_STRING = 4,
    LP_BOOL = 5,
} lp_type;

const char *lp_type_name(lp_type t); /* "float", "integer", "unsigned", "string", "boolean" */

/* Timestamp precision of the request. LP_PREC_AUTO guesses per timestamp by magnitude, as
 * InfluxDB 3 does: |t| < 5e9 -> seconds, < 5e12 -> ms, < 5e15 -> us, else ns. */
typedef enum lp_precision {
    LP_PREC_NS = 0,
    LP_PREC_US,
    LP_PREC_MS,
    LP_PREC_S,
    LP_PREC_M, /* minutes (v1 "m") */
    LP_PREC_H, /* hours (v1 "h") */
    LP_PREC_AUTO,
} lp_precision;

/* Parse a precision parameter. Accepts ns, us, ms, s (v2/v3), the v1 spellings n, u, µ, m
 * (minutes), h (hours), the v3 spellings nanosecond, microsecond, millisecond, second, and
 * auto. Case-sensitive, as InfluxDB is. Empty/NULL gives `dflt`. Returns SILT_OK or
 * SILT_EINVAL (then *out is unchanged). */
int lp_precision_parse(const char *s, lp_precision dflt, lp_precision *out);

/* A token: a view into the input. `esc` is non-zero when the token contains backslash escapes
 * that lp_unescape() must remove; otherwise [p, p+n) is the value itself. Its value names
 * the escape set (LP_ESC_*), because a measurement does not treat "\=" as an escape. */
enum { LP_ESC_NONE = 0, LP_ESC_NAME = 1, LP_ESC_MEASUREMENT = 2, LP_ESC_STRING = 3 };

typedef struct lp_tok {
    const char *p;
    uint32_t n;
    uint8_t esc;
} lp_tok;

typedef struct lp_tag {
    lp_tok key, val;
} lp_tag;

typedef struct lp_field {
    lp_tok key;
    lp_type type;
    union {
        double f;
        int64_t i;
        uint64_t u;
        bool b;
    } v;
    lp_tok str; /* LP_STRING: the characters between the quotes (esc: has \" or \\) */
} lp_field;

typedef struct lp_line {
    uint32_t line_no; /* 1-based */
    str_view raw;     /* the whole line, without its LF / CRLF */
    lp_tok measurement;
    lp_tag *tags; /* owned by the parser; valid until the next lp_next() */
    uint32_t n_tags;
    lp_field *fields; /* owned by the parser; valid until the next lp_next() */
    uint32_t n_fields;
    int64_t time_ns; /* resolved: precision applied, or the parser's now_ns if absent */
    bool has_time;   /* the line carried a timestamp */
} lp_line;

typedef struct lp_error {
    uint32_t line_no; /* 1-based */
    uint32_t column;  /* 1-based byte offset in the line where parsing failed */
    str_view raw;     /* the whole offending line (view into the input) */
    char reason[200]; /* for a person: "invalid field value: expected ..." */
} lp_error;

struct lp__key; /* lp_parse.c: scratch of the duplicate-key check */

/* One parser per input; single-threaded (any thread, one at a time). */
typedef struct lp_parser {
    const char *p, *end; /* remaining input */
    uint32_t line_no;
    lp_precision precision;
    int64_t now_ns;
    lp_tag *tags;
    uint32_t tags_cap;
    lp_field *fields;
    uint32_t fields_cap;
    /* private scratch of the duplicate-key check, grown like tags/fields */
    struct lp__key *keys;
    uint32_t keys_cap;
    uint16_t *slots;
    uint32_t slots_cap;
    char *kbuf;
    size_t kbuf_cap;
} lp_parser;

/* Limits (a line breaking one is rejected with a reason, not truncated). */
#define LP_MAX_TAGS         1024
#define LP_MAX_FIELDS       4096
#define LP_MAX_NAME_BYTES   65535      /* measurement, tag key/value, field key (unescaped) */
#define LP_MAX_STRING_BYTES (1u << 20) /* string field value, unescaped (InfluxDB 3: 1 MB) */
/* Valid resolved timestamps (InfluxDB reserves the two lowest and the highest int64). */
#define LP_TIME_MIN_NS (INT64_MIN + 2)
#define LP_TIME_MAX_NS (INT64_MAX - 1)

/* Start parsing [data, data+n). `now_ns` is the time given to lines without a timestamp.
 * The parser borrows `data` until lp_parser_fini(). */
void lp_parser_init(lp_parser *ps, const char *data, size_t n, lp_precision precision,
                    int64_t now_ns);
void lp_parser_fini(lp_parser *ps);

enum { LP_END = 0, LP_LINE = 1, LP_BAD = 2 };

/* Parse the next non-blank, non-comment line. Returns LP_LINE (and fills *line), LP_BAD (and
 * fills *err; the parser has moved past the bad line), or LP_END. Never fails otherwise.
 * Checks done here: syntax and escapes, at least one field, value syntax and int64/uint64
 * range, floats within +-DBL_MAX, timestamp syntax and range (also after applying the
 * precision), duplicate tag keys, duplicate field keys, a key named "time" (rejected as tag
 * or field key), empty measurement / keys / tag values, a key used both as tag and as field,
 * NUL bytes in names, and the limits above. Not checked: UTF-8 validity. */
int lp_next(lp_parser *ps, lp_line *line, lp_error *err);

/* Write the unescaped form of tok into out (capacity >= tok.n); returns its length. For
 * tag keys/values and field keys the escapes are "\," "\=" "\ " "\\"; for a measurement
 * (tok.esc == LP_ESC_MEASUREMENT) "\," "\ " "\\"; for string values (is_string) '\"' and
 * '\\'. A backslash before any other character stays. Any thread. */
size_t lp_unescape(lp_tok tok, bool is_string, char *out);

/* Exact decimal-to-double conversion of [p, p+n) (the float grammar of line protocol:
 * optional '-', digits, optional '.' and digits, optional exponent; "+1", ".5", "1.",
 * "NaN" and "Inf" are NOT accepted, as InfluxDB 3 rejects them). Returns false if the text
 * is not a valid float or is out of range (rounds to infinity); values below the smallest
 * subnormal round to (signed) zero as IEEE-754 says. Correctly rounded, round-half-even
 * (Eisel-Lemire with an exact strtod fallback). Any thread. */
bool lp_parse_double(const char *p, size_t n, double *out);

#endif
