/* SPDX-License-Identifier: MIT
 *
 * tz('Zone/Name') of InfluxQL: UTC offsets from the system time zone database (TZif files
 * under /usr/share/zoneinfo, RFC 8536), read and interpreted here without the C library's
 * TZ machinery (localtime_r and setenv("TZ") share process state: a query must not change
 * it, and two queries in different zones may run at once). A loaded zone is immutable.
 *
 * The file's transition table answers for times it covers; after its last transition the
 * footer's POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3") does, as it does for "slim" files
 * that stop early. Before the first transition the first local time type applies.
 *
 * Buckets follow InfluxDB 1.x's IteratorOptions.Window: with u = t - offset and z the zone's
 * offset at u, the bucket starts at u - ((u + z) mod interval); if the zone's offset at that
 * start differs from z by less than the interval, the start moves by the difference (so a day
 * bucket starts at local midnight on the days clocks change), then the offset is added back.
 */
#include "influxql.h"
#include "query_v1.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p) {
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ------------------------------------------------------------------ POSIX TZ rules */

/* [+-]hh[:mm[:ss]] as seconds; *ok false on a malformed number. */
static const char *posix_hms(const char *s, int32_t *out, bool *ok) {
    int sign = 1;
    if (*s == '+' || *s == '-') sign = *s++ == '-' ? -1 : 1;
    if (*s < '0' || *s > '9') {
        *ok = false;
        return s;
    }
    int32_t v[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) {
        int n = 0;
        while (*s >= '0' && *s <= '9' && n < 3) v[k] = v[k] * 10 + (*s++ - '0'), n++;
        if (k < 2 && *s == ':' && s[1] >= '0' && s[1] <= '9')
            s++;
        else
            break;
    }
    *out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
    return s;
}

static const char *posix_name(const char *s, bool *ok) {
    if (*s == '<') {
        while (*s && *s != '>') s++;
        if (*s != '>') *ok = false;
        return *s ? s + 1 : s;
    }
    const char *b = s;
    while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) s++;
    if (s - b < 3) *ok = false;
    return s;
}

static const char *posix_date(const char *s, iql_tz_rule_date *d, bool *ok) {
    d->time = 7200;
    if (*s == 'M') {
        int v[3] = {0, 0, 0};
        s++;
        for (int k = 0; k < 3; k++) {
            if (*s < '0' || *s > '9') {
                *ok = false;
                return s;
            }
            while (*s >= '0' && *s <= '9') v[k] = v[k] * 10 + (*s++ - '0');
            if (k < 2) {
                if (*s != '.') {
                    *ok = false;
                    return s;
                }
                s++;
            }
        }
        if (v[0] < 1 || v[0] > 12 || v[1] < 1 || v[1] > 5 || v[2] > 6) *ok = false;
        d->kind = 'M';
        d->m = v[0];
        d->w = v[1];
        d->d = v[2];
    } else {
        d->kind = 'n';
        if (*s == 'J') {
            d->kind = 'J';
            s++;
        }
        int v = 0;
        if (*s < '0' || *s > '9') *ok = false;
        while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
        if (v > 365) *ok = false;
        d->d = v;
    }
    if (*s == '/') s = posix_hms(s + 1, &d->time, ok);
    return s;
}

/* Parse a POSIX TZ string (the TZif footer). Returns false if it is not understood. */
static bool posix_parse(const char *s, iql_tz_rule *r) {
    bool ok = true;
    memset(r, 0, sizeof *r);
    s = posix_name(s, &ok);
    int32_t off;
    s = posix_hms(s, &off, &ok);
    if (!ok) return false;
    r->std_off = -off;
    if (!*s) return true; /* no daylight saving time */
    s = posix_name(s, &ok);
    r->dst_off = r->std_off + 3600;
    if (*s && *s != ',') {
        s = posix_hms(s, &off, &ok);
        r->dst_off = -off;
    }
    if (!ok || *s != ',') return false; /* a DST name without rules: not supported */
    s = posix_date(s + 1, &r->start, &ok);
    if (!ok || *s != ',') return false;
    s = posix_date(s + 1, &r->end, &ok);
    if (!ok || *s) return false;
    r->has_dst = true;
    return true;
}

static bool leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The day (since the epoch) a rule date falls on in year y. */
static int64_t rule_day(const iql_tz_rule_date *d, int y) {
    int64_t jan1 = time_days_from_civil(y, 1, 1);
    if (d->kind == 'J') /* 1..365, February 29 never counted */
        return jan1 + d->d - 1 + (leap(y) && d->d >= 60 ? 1 : 0);
    if (d->kind == 'n') return jan1 + d->d; /* 0..365 */
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t first = time_days_from_civil(y, d->m, 1);
    int wd = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
    int day = 1 + (d->d - wd + 7) % 7 + (d->w - 1) * 7;
    int len = mdays[d->m - 1] + (d->m == 2 && leap(y) ? 1 : 0);
    while (day > len) day -= 7;
    return first + day - 1;
}

/* The two transitions of year y (seconds, UTC): DST starts at *on, ends at *off. */
static void rule_transitions(const iql_tz_rule *r, int y, int64_t *on, int64_t *off) {
    *on = rule_day(&r->start, y) * 86400 + r->start.time - r->std_off;
    *off = rule_day(&r->end, y) * 86400 + r->end.time - r->dst_off;
}

static int year_of(int64_t t_s) {
    int64_t day = t_s / 86400 - (t_s % 86400 < 0 ? 1 : 0);
    int y, m, d;
    time_civil(day, &y, &m, &d);
    return y;
}

static int32_t rule_offset(const iql_tz_rule *r, int64_t t_s) {
    if (!r->has_dst) return r->std_off;
    int64_t on, off;
    rule_transitions(r, year_of(t_s + r->std_off), &on, &off);
    bool dst = on < off ? (t_s >= on && t_s < off) : !(t_s >= off && t_s < on);
    return dst ? r->dst_off : r->std_off;
}

/* The first rule transition strictly after t_s. */
static int64_t rule_next(const iql_tz_rule *r, int64_t t_s) {
    if (!r->has_dst) return INT64_MAX;
    int y = year_of(t_s);
    int64_t best = INT64_MAX;
    for (int k = y - 1; k <= y + 1; k++) {
        int64_t on, off;
        rule_transitions(r, k, &on, &off);
        if (on > t_s && on < best) best = on;
        if (off > t_s && off < best) best = off;
    }
    return best;
}

/* ------------------------------------------------------------------ TZif */

int influxql_tz_parse(const uint8_t *p, size_t n, arena *a, iql_tz *z) {
    memset(z, 0, sizeof *z);
    if (n < 44 || memcmp(p, "TZif", 4)) return SILT_EPARSE;
    int version = p[4] ? p[4] - '0' : 1;
    const uint8_t *h = p;
    size_t tsz = 4;
    for (int pass = 0; pass < 2; pass++) {
        if ((size_t)(h - p) + 44 > n || memcmp(h, "TZif", 4)) return SILT_EPARSE;
        uint32_t isutcnt = be32(h + 20), isstdcnt = be32(h + 24), leapcnt = be32(h + 28),
                 timecnt = be32(h + 32), typecnt = be32(h + 36), charcnt = be32(h + 40);
        if (timecnt > 100000 || typecnt > 256 || leapcnt > 100000 || charcnt > 100000)
            return SILT_EPARSE;
        bool data_pass = !(pass == 0 && version >= 2);
        if (data_pass && typecnt == 0) return SILT_EPARSE;
        size_t body = timecnt * tsz + timecnt + typecnt * 6 + charcnt + leapcnt * (tsz + 4) +
                      isstdcnt + isutcnt;
        const uint8_t *d = h + 44;
        if ((size_t)(d - p) + body > n) return SILT_EPARSE;
        if (!data_pass) { /* skip the 32-bit block: the 64-bit one follows */
            h = d + body;
            tsz = 8;
            continue;
        }
        const uint8_t *idx = d + timecnt * tsz, *types = idx + timecnt;
        z->n = timecnt;
        z->trans = arena_alloc(a, (timecnt + 1) * sizeof *z->trans);
        z->offs = arena_alloc(a, (timecnt + 1) * sizeof *z->offs);
        for (uint32_t i = 0; i < timecnt; i++) {
            z->trans[i] = tsz == 8 ? be64(d + i * 8) : (int32_t)be32(d + i * 4);
            if (idx[i] >= typecnt) return SILT_EPARSE;
            z->offs[i] = (int32_t)be32(types + idx[i] * 6);
        }
        z->off0 = (int32_t)be32(types); /* local time type 0: before the first transition */
        const uint8_t *end = d + body;
        z->has_rule = false;
        if (version >= 2 && (size_t)(end - p) < n && *end == '\n') {
            const uint8_t *nl = memchr(end + 1, '\n', n - (size_t)(end + 1 - p));
            if (nl && nl > end + 1 && nl - end - 1 < 128) {
                char tzs[128];
                memcpy(tzs, end + 1, (size_t)(nl - end - 1));
                tzs[nl - end - 1] = 0;
                z->has_rule = posix_parse(tzs, &z->rule);
            }
        }
        return SILT_OK;
    }
    return SILT_EPARSE;
}

int influxql_tz_load(const char *name, arena *a, iql_tz *z, silt_err *err) {
    size_t len = strlen(name);
    bool bad = len == 0 || len > 200 || name[0] == '/' || strstr(name, "..") != NULL;
    for (size_t i = 0; i < len && !bad; i++)
        bad = !((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= 'a' && name[i] <= 'z') ||
                (name[i] >= '0' && name[i] <= '9') || strchr("/_+-", name[i]));
    if (!bad && !strcmp(name, "UTC")) { /* Go's LoadLocation("UTC") needs no file */
        memset(z, 0, sizeof *z);
        z->utc = true;
        return SILT_OK;
    }
    int rc = SILT_ENOTFOUND;
    if (!bad) {
        const char *dirs[] = {getenv("ZONEINFO"), "/usr/share/zoneinfo"};
        for (size_t k = 0; k < 2 && rc != SILT_OK; k++) {
            if (!dirs[k] || !*dirs[k]) continue;
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dirs[k], name);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            struct stat st;
            if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
                st.st_size < (1 << 20)) {
                uint8_t *data = arena_alloc(a, (size_t)st.st_size);
                ssize_t got = read(fd, data, (size_t)st.st_size);
                if (got == st.st_size && influxql_tz_parse(data, (size_t)got, a, z) == SILT_OK)
                    rc = SILT_OK;
            }
            close(fd);
        }
    }
    if (rc != SILT_OK) /* InfluxDB 1.x's words */
        return SILT_FAIL(err, SILT_EINVAL, "unable to find time zone %s", name);
    return SILT_OK;
}

int32_t influxql_tz_offset(const iql_tz *z, int64_t t_s) {
    if (z->utc) return 0;
    if (z->n == 0 || t_s < z->trans[0]) {
        if (z->n == 0 && z->has_rule) return rule_offset(&z->rule, t_s);
        return z->off0;
    }
    if (t_s >= z->trans[z->n - 1] && z->has_rule) return rule_offset(&z->rule, t_s);
    size_t lo = 0, hi = z->n; /* the last transition <= t_s */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->trans[mid] <= t_s)
            lo = mid;
        else
            hi = mid;
    }
    return z->offs[lo];
}

int64_t influxql_tz_next(const iql_tz *z, int64_t t_s) {
    if (z->utc) return INT64_MAX;
    if (z->n && t_s < z->trans[z->n - 1]) {
        size_t lo = 0, hi = z->n - 1; /* the first transition > t_s */
        if (z->trans[0] > t_s) return z->trans[0];
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (z->trans[mid] > t_s)
                hi = mid;
            else
                lo = mid;
        }
        return z->trans[hi];
    }
    return z->has_rule ? rule_next(&z->rule, t_s) : INT64_MAX;
}

static int64_t off_ns(const iql_tz *z, int64_t t_ns) {
    int64_t s = t_ns / NS_PER_S - (t_ns % NS_PER_S < 0 ? 1 : 0);
    return (int64_t)influxql_tz_offset(z, s) * NS_PER_S;
}

int64_t influxql_tz_bucket(const iql_tz *z, int64_t t_ns, int64_t interval, int64_t offset) {
    int64_t u = t_ns - offset;
    int64_t zone = off_ns(z, u);
    int64_t dt = (int64_t)(((__int128)u + zone) % interval);
    if (dt < 0) dt += interval;
    int64_t start = u - dt;
    int64_t o = zone - off_ns(z, start);
    if (o != 0 && (o < 0 ? -o : o) < interval) start += o;
    return start + offset;
}

int64_t influxql_tz_bucket_next(const iql_tz *z, int64_t bucket, int64_t interval, int64_t offset) {
    /* the bucket of a time just past this one's nominal end: local midnight of the next day
     * whether the day had 23, 24 or 25 hours */
    int64_t probe = bucket + interval;
    int64_t b = influxql_tz_bucket(z, probe, interval, offset);
    if (b <= bucket) b = influxql_tz_bucket(z, probe + interval / 2, interval, offset);
    return b > bucket ? b : bucket + interval;
}

size_t influxql_tz_format(const iql_tz *z, int64_t t_ns, char *out) {
    int64_t off = off_ns(z, t_ns);
    size_t n = query_v1_format_time(out, t_ns + off) - 1; /* without its 'Z' */
    if (off == 0) {
        out[n++] = 'Z';
    } else {
        int64_t m = (off < 0 ? -off : off) / (60 * NS_PER_S);
        n += (size_t)sprintf(out + n, "%c%02d:%02d", off < 0 ? '-' : '+', (int)(m / 60),
                             (int)(m % 60));
    }
    out[n] = 0;
    return n;
}
