/* SPDX-License-Identifier: Apache-2.0 */
/* balena-img mkdir [-p] IMAGE:PART/PATH */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/path.h"
#include "cli.h"

/* Without -p, mkdir(1)'s rules: the folder must be new and its parent must exist. */
static int check_plain_mkdir(struct cli_target *t, struct bimg_error *err)
{
        char parent[4096];
        struct bimg_stat st;
        int r = strcmp(t->path, "/") == 0 ? 1 : bimg_fs_lookup(t->fs, t->path, &st, err);

        if (r < 0)
                return -1;
        if (r == 1)
                return bimg_fail(err, BIMG_E_INVALID, "'%s' already exists", t->path);
        path_parent(t->path, parent, sizeof(parent));
        if (bimg_fs_stat(t->fs, parent, &st, err) < 0)
                return -1;
        if (!st.is_dir)
                return bimg_fail(err, BIMG_E_INVALID, "'%s' is not a folder", parent);
        return 0;
}

int cmd_mkdir(int argc, char **argv, struct bimg_error *err)
{
        static const struct option options[] = {
                { "parents", no_argument, NULL, 'p' },
                { "output", required_argument, NULL, 'o' },
                { "bmap", no_argument, NULL, 'b' },
                CLI_COMMON_OPTIONS,
        };
        struct bimg_txn *txn = NULL;
        struct cli_target t;
        const char *output = NULL;
        bool bmap = false;
        bool parents = false;
        int opt, ret;

        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":po:h", options, NULL)) != -1) {
                if (cli_common_option(opt, err))
                        continue;
                switch (opt) {
                case 'p':
                        parents = true;
                        break;
                case 'o':
                        output = optarg;
                        break;
                case 'b':
                        bmap = true;
                        break;
                case CLI_OPT_HELP:
                        cli_print_help("mkdir");
                        return 0;
                default:
                        return cli_bad_option("mkdir", opt, argv, err);
                }
        }
        if (argc - optind != 1)
                return cli_usage_error("mkdir", err, "expected one IMAGE:PART/PATH");
        if (cli_open_target(argv[optind], true, output, bmap, &t, err) < 0)
                return -1;
        ret = parents ? 0 : check_plain_mkdir(&t, err);
        if (ret == 0)
                ret = bimg_txn_begin(t.img, &txn, err);
        if (ret == 0 && (ret = bimg_txn_mkdir(txn, t.part, t.path, err)) == 0)
                ret = bimg_txn_commit(txn, NULL, NULL, err);
        bimg_txn_free(txn);
        return cli_close_target(&t, ret, err);
}
