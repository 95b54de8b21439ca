/* SPDX-License-Identifier: MIT
 *
 * Object keys: the one validity rule every backend applies before touching storage, the list
 * argument checks, and page helpers. A key is 1..1024 bytes of '/'-separated segments, each
 * 1..255 bytes of [A-Za-z0-9._-] and neither "." nor ".." (README invariant 1): no empty
 * segment, no leading or trailing '/'. The rule keeps keys safe as relative file paths, as
 * URL paths without escaping surprises, and as S3 keys. */
#include "objstore_int.h"

#include <stdlib.h>

bool objstore__segment_valid(const char *s, size_t n) {
    if (n == 0 || n > OBJSTORE_SEGMENT_MAX) return false;
    if (s[0] == '.' && (n == 1 || (n == 2 && s[1] == '.'))) return false;
    for (size_t i = 0; i < n; i++)
        if (!objstore__key_char(s[i])) return false;
    return true;
}

bool objstore_key_valid(const char *key) {
    if (!key) return false;
    size_t n = strnlen(key, OBJSTORE_KEY_MAX + 1);
    if (n == 0 || n > OBJSTORE_KEY_MAX) return false;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || key[i] == '/') {
            if (!objstore__segment_valid(key + start, i - start)) return false;
            start = i + 1;
        }
    }
    return true;
}

bool objstore__prefix_valid(const char *p) {
    if (!p) return true;
    size_t n = strnlen(p, OBJSTORE_KEY_MAX + 1);
    if (n > OBJSTORE_KEY_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!objstore__key_char(p[i]) && p[i] != '/') return false;
    return true;
}

/* Print at most 80 bytes of a possibly hostile key, non-printables as '?'. */
static void key_for_msg(const char *key, char out[84]) {
    size_t i = 0;
    if (!key) {
        memcpy(out, "(null)", 7);
        return;
    }
    for (; key[i] && i < 80; i++) out[i] = (key[i] >= 0x20 && key[i] < 0x7f) ? key[i] : '?';
    if (key[i]) out[i++] = '.', out[i++] = '.', out[i++] = '.';
    out[i] = 0;
}

int objstore__check_key(const char *key, const char *op, silt_err *err) {
    if (objstore_key_valid(key)) return SILT_OK;
    char shown[84];
    key_for_msg(key, shown);
    return SILT_FAIL(err, SILT_EINVAL,
                     "objstore %s: invalid key \"%s\" (want '/'-separated segments of "
                     "[A-Za-z0-9._-], at most %d bytes)",
                     op, shown, OBJSTORE_KEY_MAX);
}

int objstore__check_list_args(const char *prefix, const char *start_after, silt_err *err) {
    char shown[84];
    if (!objstore__prefix_valid(prefix)) {
        key_for_msg(prefix, shown);
        return SILT_FAIL(err, SILT_EINVAL, "objstore list: invalid prefix \"%s\"", shown);
    }
    if (!objstore__prefix_valid(start_after)) {
        key_for_msg(start_after, shown);
        return SILT_FAIL(err, SILT_EINVAL, "objstore list: invalid start_after \"%s\"", shown);
    }
    return SILT_OK;
}

void objstore__page_push(objstore_page *p, size_t *cap, const char *key, size_t key_len,
                         uint64_t size) {
    XGROW(p->entries, *cap, p->n + 1);
    p->entries[p->n].key = xstrndup(key, key_len);
    p->entries[p->n].size = size;
    p->n++;
}

void objstore_page_free(objstore_page *p) {
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) free(p->entries[i].key);
    free(p->entries);
    free(p->next);
    memset(p, 0, sizeof *p);
}
