/* SPDX-License-Identifier: MIT
 *
 * cli internals shared by the command files. */
#ifndef SILT_CLI_INT_H
#define SILT_CLI_INT_H

#include "../catalog/catalog.h"
#include "../conf/conf.h"
#include "../objstore/objstore.h"
#include "../parquet/parquet.h"
#include "cli.h"

int cli_open_catalog(const silt_conf *c, catalog **out, silt_err *err);
int cli_open_objects(const silt_conf *c, objstore **out, silt_err *err);
pq_writer_opts cli_parquet_opts(const silt_conf *c);
/* conf_init + conf_parse_args + conf_finish for a subcommand; prints errors and help.
 * Returns -1 to go on, else the exit code. */
int cli_conf(const char *cmd, const char *usage, int argc, char **argv, silt_conf *c);

#endif
