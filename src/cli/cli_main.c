/* SPDX-License-Identifier: MIT
 *
 * Command dispatch and top-level help. */
#include "cli.h"

#include "../conf/conf.h"
#include "../server/server.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "silt %s - a durable time-series database\n\n"
            "Usage:\n"
            "  silt serve [options]                          run the server (--help for options)\n"
            "  silt write --db NAME [--file F] [--precision P] [--host URL] [--no-sync]\n"
            "                                                write line protocol (stdin if no --file)\n"
            "  silt query --db NAME [--format json|jsonl|csv|pretty|parquet|arrow] [--output FILE]\n"
            "             [--host URL] \"SQL\"                 run a SQL query and print the answer\n"
            "  silt verify [options]                         check every Parquet file of the catalog\n"
            "                                                against the object store, list orphans\n"
            "  silt inspect FILE.parquet                     describe a Parquet file\n"
            "  silt config-doc                               print the settings as Markdown\n"
            "  silt version                                  print the version\n",
            SILT_VERSION);
}

int cli_main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "serve")) return cli_serve(argc - 2, argv + 2);
    if (!strcmp(cmd, "write")) return cli_write(argc - 2, argv + 2);
    if (!strcmp(cmd, "query")) return cli_query(argc - 2, argv + 2);
    if (!strcmp(cmd, "verify")) return cli_verify(argc - 2, argv + 2);
    if (!strcmp(cmd, "inspect")) return cli_inspect(argc - 2, argv + 2);
    if (!strcmp(cmd, "config-doc")) {
        conf_print_markdown(stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("silt %s\n", SILT_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "silt: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
