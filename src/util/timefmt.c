/* SPDX-License-Identifier: MIT
 *
 * Time: clocks, UTC civil-date arithmetic (proleptic Gregorian, days since 1970-01-01, after
 * H. Hinnant's public-domain algorithms), RFC 3339 formatting and parsing with nanoseconds. */
#include "util.h"

#include <time.h>

int64_t time_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

int64_t time_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

int64_t time_days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void time_civil(int64_t z, int *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t dd = doy - (153 * mp + 2) / 5 + 1;
    int64_t mm = mp + (mp < 10 ? 3 : -9);
    *y = (int)(yy + (mm <= 2));
    *m = (int)mm;
    *d = (int)dd;
}

static char *put2(char *p, int v) {
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

size_t time_format_rfc3339(char *out, int64_t t_ns, bool z) {
    int64_t day = time_day(t_ns);
    int64_t rem = t_ns % NS_PER_DAY; /* 0 .. NS_PER_DAY-1, without overflow at INT64_MIN */
    if (rem < 0) rem += NS_PER_DAY;
    int y, m, d;
    time_civil(day, &y, &m, &d);
    int64_t secs = rem / NS_PER_S;
    int64_t frac = rem % NS_PER_S;
    char *p = out;
    if (y < 0 || y > 9999) {
        /* outside RFC 3339's range: signed, at least 4 digits (ISO 8601 expanded) */
        char tmp[16];
        int n = 0;
        int64_t ay = y < 0 ? -(int64_t)y : y;
        do { tmp[n++] = (char)('0' + ay % 10); ay /= 10; } while (ay);
        while (n < 4) tmp[n++] = '0';
        *p++ = y < 0 ? '-' : '+';
        while (n) *p++ = tmp[--n];
    } else {
        p = put2(p, y / 100);
        p = put2(p, y % 100);
    }
    *p++ = '-';
    p = put2(p, m);
    *p++ = '-';
    p = put2(p, d);
    *p++ = 'T';
    p = put2(p, (int)(secs / 3600));
    *p++ = ':';
    p = put2(p, (int)(secs / 60 % 60));
    *p++ = ':';
    p = put2(p, (int)(secs % 60));
    if (frac) {
        int digits = 9;
        int64_t f = frac;
        while (digits > 3 && f % 1000 == 0) {
            f /= 1000;
            digits -= 3;
        }
        *p++ = '.';
        for (int i = digits - 1; i >= 0; i--) {
            p[i] = (char)('0' + f % 10);
            f /= 10;
        }
        p += digits;
    }
    if (z) *p++ = 'Z';
    return (size_t)(p - out);
}

static int digits(const char *s, size_t n, size_t *i, int count, int *out) {
    int v = 0;
    for (int k = 0; k < count; k++) {
        if (*i >= n || s[*i] < '0' || s[*i] > '9') return -1;
        v = v * 10 + (s[(*i)++] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m) {
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dm[m - 1];
}

int time_parse_rfc3339(const char *s, size_t n, int64_t *t_ns) {
    size_t i = 0;
    int y, mo, d, hh = 0, mm = 0, ss = 0;
    int64_t frac = 0;
    if (digits(s, n, &i, 4, &y) || i >= n || s[i++] != '-' || digits(s, n, &i, 2, &mo) ||
        i >= n || s[i++] != '-' || digits(s, n, &i, 2, &d))
        return SILT_EPARSE;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return SILT_EPARSE;
    int64_t off_s = 0;
    if (i < n) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return SILT_EPARSE;
        i++;
        if (digits(s, n, &i, 2, &hh) || i >= n || s[i++] != ':' || digits(s, n, &i, 2, &mm))
            return SILT_EPARSE;
        if (i < n && s[i] == ':') {
            i++;
            if (digits(s, n, &i, 2, &ss)) return SILT_EPARSE;
        }
        if (hh > 23 || mm > 59 || ss > 60) return SILT_EPARSE;
        if (i < n && s[i] == '.') {
            i++;
            int nd = 0;
            while (i < n && s[i] >= '0' && s[i] <= '9') {
                if (nd < 9) frac = frac * 10 + (s[i] - '0');
                nd++;
                i++;
            }
            if (nd == 0) return SILT_EPARSE;
            for (int k = nd; k < 9; k++) frac *= 10;
        }
        if (i < n) {
            if (s[i] == 'Z' || s[i] == 'z') {
                i++;
            } else if (s[i] == '+' || s[i] == '-') {
                int sign = s[i++] == '-' ? -1 : 1, oh, om = 0;
                if (digits(s, n, &i, 2, &oh)) return SILT_EPARSE;
                if (i < n && s[i] == ':') i++;
                if (i < n && digits(s, n, &i, 2, &om)) return SILT_EPARSE;
                if (oh > 23 || om > 59) return SILT_EPARSE;
                off_s = sign * (oh * 3600 + om * 60);
            } else {
                return SILT_EPARSE;
            }
        }
        if (i != n) return SILT_EPARSE;
    }
    int64_t days = time_days_from_civil(y, mo, d);
    int64_t secs = days * 86400 + hh * 3600 + mm * 60 + ss - off_s;
    /* int64 ns covers 1677-09-21 .. 2262-04-11 */
    if (secs > INT64_MAX / NS_PER_S - 1 || secs < INT64_MIN / NS_PER_S + 1) return SILT_EPARSE;
    *t_ns = secs * NS_PER_S + frac;
    return SILT_OK;
}
