/* SPDX-License-Identifier: MIT
 *
 * Logging: one line per event, "2016-01-01T00:00:00.000Z LEVEL module: message", written with
 * a single write(2) so lines from different threads never interleave. */
#include "util.h"

#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

static _Atomic int cur_level = LOG_INFO;
static _Atomic int cur_fd = 2;

void log_set_level(log_level l) { cur_level = (int)l; }
log_level log_get_level(void) { return (log_level)cur_level; }
void log_set_fd(int fd) { cur_fd = fd; }

int log_level_parse(const char *s, log_level *out) {
    static const char *names[] = {"error", "warn", "info", "debug", "trace"};
    for (int i = 0; i < 5; i++)
        if (sv_ieq_cstr(sv_from(s), names[i])) {
            *out = (log_level)i;
            return SILT_OK;
        }
    return SILT_EINVAL;
}

void log_write(log_level l, const char *module, const char *fmt, ...) {
    static const char *names[] = {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"};
    if ((int)l > cur_level) return;
    char line[2048];
    char ts[48];
    size_t tn = time_format_rfc3339(ts, time_now_ns() / NS_PER_MS * NS_PER_MS, true);
    ts[tn] = 0;
    int n = snprintf(line, sizeof line, "%s %-5s %s: ", ts, names[l], module);
    if (n < 0) return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2) len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t w = write(cur_fd, line, len);
    (void)w;
}
