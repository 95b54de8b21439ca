/* SPDX-License-Identifier: MIT
 *
 * Error codes, the silt_err detail record, and silt_panic. */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

const char *silt_strerror(int code) {
    switch (code) {
        case SILT_OK: return "ok";
#define SILT__ERR_STR(name, val, msg)                                                           \
    case SILT_##name: return msg;
            SILT_ERRNO_MAP(SILT__ERR_STR)
#undef SILT__ERR_STR
    }
    return "unknown error";
}

static void err_vset(silt_err *err, int code, int sys_errno, const char *file, int line,
                     const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
static void err_vset(silt_err *err, int code, int sys_errno, const char *file, int line,
                     const char *fmt, va_list ap) {
    err->code = code;
    err->sys_errno = sys_errno;
    err->file = file;
    err->line = line;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

int silt_err_set(silt_err *err, int code, const char *file, int line, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err_vset(err, code, 0, file, line, fmt, ap);
        va_end(ap);
    }
    return code;
}

int silt_code_from_errno(int e) {
    switch (e) {
        case ENOSPC:
        case EDQUOT: return SILT_ENOSPC;
        case ENOMEM: return SILT_ENOMEM;
        case ENOENT: return SILT_ENOTFOUND;
        case EEXIST: return SILT_EEXIST;
        case EINVAL: return SILT_EINVAL;
        default: return SILT_EIO;
    }
}

int silt_err_sys_at(silt_err *err, int sys_errno, const char *file, int line, const char *fmt,
                    ...) {
    int code = silt_code_from_errno(sys_errno);
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err_vset(err, code, sys_errno, file, line, fmt, ap);
        va_end(ap);
        size_t n = strlen(err->msg);
        if (n < sizeof err->msg)
            snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(sys_errno));
    }
    return code;
}

_Noreturn void silt_panic_at(const char *file, int line, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "silt: PANIC at %s:%d: %s\n", file, line, msg);
    abort();
}
