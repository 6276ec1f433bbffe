/* SPDX-License-Identifier: Apache-2.0 */
/* balena-img cat IMAGE:PART/PATH */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"

int cmd_cat(int argc, char **argv, struct bimg_error *err)
{
        static const struct option options[] = { CLI_COMMON_OPTIONS };
        struct cli_target t;
        int opt, ret;

        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(opt, err))
                        continue;
                if (opt != CLI_OPT_HELP)
                        return cli_bad_option("cat", opt, argv, err);
                cli_print_help("cat");
                return 0;
        }
        if (argc - optind != 1)
                return cli_usage_error("cat", err, "expected one IMAGE:PART/PATH");
        if (cli_open_target(argv[optind], false, NULL, false, &t, err) < 0)
                return -1;
        fflush(stdout);         /* the file goes straight to fd 1 */
        ret = bimg_fs_read_to_fd(t.fs, t.path, STDOUT_FILENO, err);
        return cli_close_target(&t, ret, err);
}
