/* SPDX-License-Identifier: MIT
 *
 * cli: the silt command line — `serve`, `write`, `query`, `version`, `config-doc`. */
#ifndef SILT_CLI_H
#define SILT_CLI_H

int cli_main(int argc, char **argv);

#endif
