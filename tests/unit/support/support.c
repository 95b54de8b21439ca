/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "support/support.h"

void support_ingest(schema *s, const char *db, const char *lp, ingest_batch *b) {
    ingest_batch_init(b);
    ingest_opts o = {db, strlen(db), LP_PREC_NS, 1000, true};
    silt_err err = {0};
    int rc = ingest_build(s, &o, lp, strlen(lp), b, &err);
    if (rc) fail_msg("ingest_build: %s", err.msg);
}
