/* SPDX-License-Identifier: MIT
 *
 * Helpers shared by the unit tests (linked into every unit test binary). */
#ifndef SILT_TEST_SUPPORT_H
#define SILT_TEST_SUPPORT_H

#include "ingest/ingest.h"
#include "schema/schema.h"

/* Encode line protocol for db into b (ingest_batch_init'ed by the helper); ns precision,
 * now = 1000. Fails the test if ingest_build fails. */
void support_ingest(schema *s, const char *db, const char *lp, ingest_batch *b);

#endif
