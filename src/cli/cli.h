/* SPDX-License-Identifier: MIT
 *
 * cli: the silt command line.
 *   silt serve [options]        run the server (see `silt serve --help`)
 *   silt write --db NAME ...    write line protocol from a file or stdin over HTTP
 *   silt query --db NAME "SQL"  run a SQL query over HTTP and print the answer
 *   silt verify [options]       check the catalog's files against the object store
 *   silt inspect FILE.parquet   describe a Parquet file
 *   silt config-doc             print docs/config.md from the settings table
 *   silt version
 */
#ifndef SILT_CLI_H
#define SILT_CLI_H

int cli_main(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_write(int argc, char **argv);
int cli_query(int argc, char **argv);
int cli_verify(int argc, char **argv);
int cli_inspect(int argc, char **argv);

#endif
