/* SPDX-License-Identifier: MIT
 *
 * Small libcurl helpers shared by `silt write` and `silt query`. */
#ifndef SILT_CLI_HTTP_H
#define SILT_CLI_HTTP_H

#include "../util/util.h"

/* POST (body != NULL) or GET url; the answer's body goes to *resp. Returns the HTTP status,
 * or -1 with a message in err_msg when the request could not be made. */
long cli_http(const char *url, const char *content_type, const void *body, size_t body_len,
              buf *resp, char *err_msg, size_t err_len);
/* Percent-encode s into b (RFC 3986 unreserved characters kept). */
void cli_urlencode(buf *b, const char *s);

#endif
