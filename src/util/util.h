/* SPDX-License-Identifier: MIT
 *
 * util: the small things every module uses — error codes and the silt_err detail record,
 * checked allocation, string views, growable byte buffers, little-endian and varint codecs,
 * CRC32C, hashing (xxhash), time formatting and parsing, logging, and thread-ownership
 * assertions. Nothing here depends on another silt module.
 */
#ifndef SILT_UTIL_H
#define SILT_UTIL_H

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------ errors */

/* One enum of error codes for all of silt (libuv UV_ERRNO_MAP style). Functions that can
 * fail return SILT_OK (0) or one of these negative values. Only server/ maps them to HTTP. */
#define SILT_ERRNO_MAP(X)                                                                      \
    X(EINVAL, -1, "invalid argument")                                                          \
    X(ENOMEM, -2, "out of memory")                                                             \
    X(EIO, -3, "I/O error")                                                                    \
    X(ENOSPC, -4, "no space left on device")                                                   \
    X(ECORRUPT, -5, "corrupt data")                                                            \
    X(EPOISONED, -6, "write-ahead log poisoned by an earlier failed sync")                     \
    X(ENOTFOUND, -7, "not found")                                                              \
    X(EEXIST, -8, "already exists")                                                            \
    X(ETOOBIG, -9, "too large")                                                                \
    X(ESCHEMA, -10, "schema conflict")                                                         \
    X(EPARSE, -11, "parse error")                                                              \
    X(EBUSY, -12, "busy")                                                                      \
    X(ESHUTDOWN, -13, "shutting down")                                                         \
    X(EUNSUPPORTED, -14, "not supported")                                                      \
    X(ELIMIT, -15, "limit exceeded")                                                           \
    X(ETIMEDOUT, -16, "timed out")

enum {
    SILT_OK = 0,
#define SILT__ERR_ENUM(name, val, msg) SILT_##name = (val),
    SILT_ERRNO_MAP(SILT__ERR_ENUM)
#undef SILT__ERR_ENUM
};

/* Caller-owned detail about a failure: the code, the saved errno (0 if none), a message and
 * the source location that raised it. Every function taking `silt_err *err` accepts NULL. */
typedef struct silt_err {
    int code;
    int sys_errno;
    const char *file;
    int line;
    char msg[512];
} silt_err;

const char *silt_strerror(int code);

/* Record code + formatted message + site into err (if non-NULL); returns code. */
int silt_err_set(silt_err *err, int code, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Same, for a failed system call: maps errno (ENOSPC -> SILT_ENOSPC, ENOMEM -> SILT_ENOMEM,
 * anything else -> SILT_EIO), appends strerror(errno) to the message. */
int silt_err_sys_at(silt_err *err, int sys_errno, const char *file, int line, const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));
/* Map an errno value to a silt code, as silt_err_sys does. */
int silt_code_from_errno(int e);

#define SILT_FAIL(err, code, ...) silt_err_set((err), (code), __FILE__, __LINE__, __VA_ARGS__)
#define silt_err_sys(err, e, ...) silt_err_sys_at((err), (e), __FILE__, __LINE__, __VA_ARGS__)

/* "Impossible, but handle it" (SQLite ALWAYS/NEVER): asserts in debug builds, evaluates to
 * the condition in release builds so the caller's recovery path still runs. */
#ifdef NDEBUG
#define SILT_ALWAYS(x) (x)
#define SILT_NEVER(x) (x)
#else
#define SILT_ALWAYS(x) ((x) ? 1 : (assert(0 && #x), 0))
#define SILT_NEVER(x) ((x) ? (assert(!(#x)), 1) : 0)
#endif

/* Corrupted in-memory state only; never for bad input or bad bytes on disk. */
_Noreturn void silt_panic_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define silt_panic(...) silt_panic_at(__FILE__, __LINE__, __VA_ARGS__)

/* ------------------------------------------------------------------ memory */

/* Small internal allocations: abort with file:line on OOM (Redis zmalloc). Client-driven
 * sizes must be bounded by the caller before they get here. */
void *xmalloc_at(size_t n, const char *file, int line);
void *xcalloc_at(size_t n, size_t size, const char *file, int line);
void *xrealloc_at(void *p, size_t n, const char *file, int line);
char *xstrndup_at(const char *s, size_t n, const char *file, int line);
#define xmalloc(n) xmalloc_at((n), __FILE__, __LINE__)
#define xcalloc(n, s) xcalloc_at((n), (s), __FILE__, __LINE__)
#define xrealloc(p, n) xrealloc_at((p), (n), __FILE__, __LINE__)
#define xstrndup(s, n) xstrndup_at((s), (n), __FILE__, __LINE__)
#define xstrdup(s) xstrndup_at((s), strlen(s), __FILE__, __LINE__)

/* Grow *arr (element size `sz`) so that it holds at least `need` elements; *cap is updated.
 * Doubling growth. Aborts on OOM like xrealloc. */
void xgrow_at(void **arr, size_t *cap, size_t need, size_t sz, const char *file, int line);
#define XGROW(arr, cap, need)                                                                  \
    xgrow_at((void **)&(arr), &(cap), (need), sizeof(*(arr)), __FILE__, __LINE__)

/* ------------------------------------------------------------------ arena */

/* A one-way arena: objects are never freed one by one; arena_reset() frees all but the
 * first block for reuse, arena_fini() frees everything (h2o mem pool, PostgreSQL contexts). */
typedef struct arena_block arena_block;
typedef struct arena {
    arena_block *head;
    size_t block_bytes;
} arena;

void arena_init(arena *a, size_t block_bytes);
void *arena_alloc(arena *a, size_t n); /* 16-byte aligned, never NULL */
char *arena_strndup(arena *a, const char *s, size_t n);
void arena_reset(arena *a);
void arena_fini(arena *a);

/* ------------------------------------------------------------------ views and buffers */

typedef struct str_view {
    const char *p;
    size_t n;
} str_view;

#define SV(lit) ((str_view){(lit), sizeof(lit) - 1})
static inline str_view sv_from(const char *s) { return (str_view){s, s ? strlen(s) : 0}; }
/* Equal bytes (an empty view may have p == NULL). */
static inline bool sv_eq(str_view a, str_view b) {
    return a.n == b.n && (!a.n || a.p == b.p || memcmp(a.p, b.p, a.n) == 0);
}
/* Unsigned byte order (Parquet's and PostgreSQL's C collation), exactly -1, 0 or 1. */
static inline int sv_cmp(str_view a, str_view b) {
    size_t n = a.n < b.n ? a.n : b.n;
    int c = n ? memcmp(a.p, b.p, n) : 0;
    if (c) return c < 0 ? -1 : 1;
    return a.n < b.n ? -1 : a.n > b.n;
}
static inline bool sv_eq_cstr(str_view a, const char *s) { return sv_eq(a, sv_from(s)); }
bool sv_ieq_cstr(str_view a, const char *s); /* ASCII case-insensitive */

/* Growable byte buffer. Owns p. Zero-initialised buf is valid and empty. */
typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

void buf_reserve(buf *b, size_t extra); /* ensure cap >= len + extra */
void buf_append(buf *b, const void *p, size_t n);
void buf_putc(buf *b, char c);
void buf_puts(buf *b, const char *s);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(buf *b);
static inline void buf_reset(buf *b) { b->len = 0; }
/* NUL-terminate without counting the NUL in len; returns (char *)p. */
char *buf_cstr(buf *b);

/* JSON string body escaping (no surrounding quotes); valid UTF-8 in, valid JSON out. */
void buf_json_escape(buf *b, const char *s, size_t n);
/* CSV field (RFC 4180: quoted when it holds , " CR or LF). */
void buf_csv_field(buf *b, const char *s, size_t n);
/* Shortest round-trip decimal for a double, as JSON needs (NaN/Inf are the caller's job). */
void buf_put_double(buf *b, double v);
void buf_put_i64(buf *b, int64_t v);
void buf_put_u64(buf *b, uint64_t v);

/* ------------------------------------------------------------------ encoding */

static inline void le_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void le_put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void le_put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t le_get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t le_get32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4); /* x86-64 / aarch64 little-endian; checked in util_init */
    return v;
}
static inline uint64_t le_get64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Unsigned LEB128. put returns bytes written (<= 10). get returns bytes consumed, or 0 when
 * the input ends early or the value overflows 64 bits. */
size_t varint_put(uint8_t *p, uint64_t v);
size_t varint_get(const uint8_t *p, size_t n, uint64_t *v);
void buf_put_varint(buf *b, uint64_t v);
static inline uint64_t zigzag_enc(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t zigzag_dec(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* ------------------------------------------------------------------ checksums, hashes */

/* CRC-32C (Castagnoli), hardware-accelerated where the CPU has SSE4.2. crc is the running
 * value (start with 0). */
uint32_t crc32c(uint32_t crc, const void *p, size_t n);
uint64_t hash64(const void *p, size_t n);            /* XXH3 64-bit */
uint64_t hash64_seed(const void *p, size_t n, uint64_t seed);

/* ------------------------------------------------------------------ time */

#define NS_PER_US 1000LL
#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL
#define NS_PER_DAY (86400LL * NS_PER_S)

int64_t time_now_ns(void);       /* CLOCK_REALTIME */
int64_t time_mono_ns(void);      /* CLOCK_MONOTONIC */
/* Floor division of a nanosecond timestamp into a UTC day number (days since 1970-01-01). */
static inline int64_t time_day(int64_t t_ns) {
    int64_t d = t_ns / NS_PER_DAY;
    return (t_ns % NS_PER_DAY < 0) ? d - 1 : d;
}
/* RFC 3339 with nanoseconds, UTC: "2016-01-01T00:00:00.123456789Z". Trailing zero groups of
 * the fraction are trimmed to 0, 3, 6 or 9 digits as InfluxDB prints them. `z` false omits
 * the Z (InfluxDB 3 JSON style). Writes at most 40 bytes; returns the length. */
size_t time_format_rfc3339(char *out, int64_t t_ns, bool z);
/* Parse RFC 3339 / ISO 8601 date-time ("2016-01-01", "2016-01-01T00:00:00Z",
 * "2016-01-01 00:00:00.5+02:00", ...). Returns SILT_OK or SILT_EPARSE. */
int time_parse_rfc3339(const char *s, size_t n, int64_t *t_ns);
/* Civil date of a day number: y, m (1-12), d (1-31). */
void time_civil(int64_t day, int *y, int *m, int *d);
int64_t time_days_from_civil(int y, int m, int d);

/* ------------------------------------------------------------------ logging */

typedef enum { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE } log_level;

void log_set_level(log_level l);
log_level log_get_level(void);
int log_level_parse(const char *s, log_level *out); /* "error".."trace" */
void log_set_fd(int fd);                          /* default 2 (stderr) */
void log_write(log_level l, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define LOG_ENABLED(l) ((l) <= log_get_level())
#define log_error(mod, ...) log_write(LOG_ERROR, (mod), __VA_ARGS__)
#define log_warn(mod, ...) log_write(LOG_WARN, (mod), __VA_ARGS__)
#define log_info(mod, ...)                                                                     \
    do { if (LOG_ENABLED(LOG_INFO)) log_write(LOG_INFO, (mod), __VA_ARGS__); } while (0)
#define log_debug(mod, ...)                                                                    \
    do { if (LOG_ENABLED(LOG_DEBUG)) log_write(LOG_DEBUG, (mod), __VA_ARGS__); } while (0)

/* ------------------------------------------------------------------ threads */

#include <pthread.h>
/* Thread-affinity assertion (Netdata internal_fatal tid check). */
#define SILT_ASSERT_THREAD(owner) assert(pthread_equal(pthread_self(), (owner)))

/* ------------------------------------------------------------------ UTF-8 */

/* True if [p, p+n) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). On
 * failure *bad_off (if non-NULL) gets the offset of the first bad byte. */
bool utf8_valid(const uint8_t *p, size_t n, size_t *bad_off);
/* 1-based line and column (in characters, not UTF-8 continuation bytes) of byte offset pos
 * of src: for messages that point into a query. */
void text_line_col(const char *src, size_t pos, uint32_t *line, uint32_t *col);
/* The query lexers' whitespace and comments (-- to end of line, C-style block comments):
 * returns the offset of the first byte at or after pos that is neither, or SIZE_MAX for an
 * unterminated block comment, whose start then goes to *comment_start. */
size_t text_skip_space(const char *s, size_t n, size_t pos, size_t *comment_start);

/* ------------------------------------------------------------------ injection points */

/* Named crash/failure points for tests (PostgreSQL injection points). Enabled only when the
 * build defines SILT_INJECTION (debug, asan); in release builds INJECT() compiles to nothing.
 * SILT_INJECT="name:action[,name:action]" where action is abort (SIGKILL self) or error. */
#ifdef SILT_INJECTION
int silt_inject_hit(const char *name); /* returns SILT_EIO for the "error" action, else 0 */
#define INJECT(name) silt_inject_hit(name)
#else
#define INJECT(name) 0
#endif

#endif
