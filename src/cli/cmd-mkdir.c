/* SPDX-License-Identifier: Apache-2.0 */
/* balena-img mkdir [-p] IMAGE:PART/PATH */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Create every missing folder along path, like mkdir -p. */
static int mkdir_parents(struct bimg_fs *fs, const char *path, struct bimg_error *err)
{
        char partial[4096];
        struct bimg_stat st;

        for (const char *p = path + 1;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                snprintf(partial, sizeof(partial), "%.*s", (int)(p - path), path);
                struct bimg_error probe = { 0 };

                if (bimg_fs_stat(fs, partial, &st, &probe) == 0) {
                        if (!st.is_dir)
                                return bimg_fail(err, BIMG_E_INVALID, "'%s' exists and is not "
                                                 "a folder", partial);
                } else if (probe.status != BIMG_E_NOT_FOUND) {
                        return bimg_fail(err, probe.status, "%s", probe.message);
                } else if (bimg_fs_mkdir(fs, partial, err) < 0) {
                        return -1;
                }
                if (*p == '\0')
                        return 0;
        }
}

int cmd_mkdir(int argc, char **argv, struct bimg_error *err)
{
        static const struct option options[] = {
                { "parents", no_argument, NULL, 'p' },
                CLI_COMMON_OPTIONS,
        };
        struct cli_target t;
        bool parents = false;
        int opt, ret;

        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":ph", options, NULL)) != -1) {
                switch (opt) {
                case 'p':
                        parents = true;
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
        if (cli_open_target(argv[optind], true, &t, err) < 0)
                return -1;
        if (strcmp(t.path, "/") == 0)
                ret = parents ? 0 : bimg_fail(err, BIMG_E_INVALID, "'/' already exists");
        else
                ret = parents ? mkdir_parents(t.fs, t.path, err) : bimg_fs_mkdir(t.fs, t.path, err);
        cli_close_target(&t);
        return ret;
}
