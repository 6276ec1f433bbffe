/* SPDX-License-Identifier: Apache-2.0 */
/* balena-img rm [-r] IMAGE:PART/PATH */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

int cmd_rm(int argc, char **argv, struct bimg_error *err)
{
        static const struct option options[] = {
                { "recursive", no_argument, NULL, 'r' },
                { "output", required_argument, NULL, 'o' },
                { "bmap", no_argument, NULL, 'b' },
                CLI_COMMON_OPTIONS,
        };
        struct bimg_txn *txn = NULL;
        struct cli_target t;
        const char *output = NULL;
        bool bmap = false;
        bool recursive = false;
        int opt, ret;

        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":rRo:h", options, NULL)) != -1) {
                if (cli_common_option(opt, err))
                        continue;
                switch (opt) {
                case 'r':
                case 'R':
                        recursive = true;
                        break;
                case 'o':
                        output = optarg;
                        break;
                case 'b':
                        bmap = true;
                        break;
                case CLI_OPT_HELP:
                        cli_print_help("rm");
                        return 0;
                default:
                        return cli_bad_option("rm", opt, argv, err);
                }
        }
        if (argc - optind != 1)
                return cli_usage_error("rm", err, "expected one IMAGE:PART/PATH");
        if (cli_open_target(argv[optind], true, output, bmap, &t, err) < 0)
                return -1;
        ret = bimg_txn_begin(t.img, &txn, err);
        if (ret == 0 && (ret = bimg_txn_remove(txn, t.part, t.path, recursive, err)) == 0)
                ret = bimg_txn_commit(txn, NULL, NULL, err);
        bimg_txn_free(txn);
        return cli_close_target(&t, ret, err);
}
