/* SPDX-License-Identifier: MIT */
#include "cli.h"

#include <stdio.h>

int cli_main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "silt: not built yet\n");
    return 1;
}
