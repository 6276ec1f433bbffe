/* SPDX-License-Identifier: Apache-2.0 */
/* balena-img splash [IMAGE] LOGO.png | splash [IMAGE] --extract OUT.png */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

int cmd_splash(int argc, char **argv, struct bimg_error *err)
{
        static const struct option options[] = {
                { "extract", required_argument, NULL, 'x' },
                { "dry-run", no_argument, NULL, 'n' },
                { "output", required_argument, NULL, 'o' },
                { "bmap", no_argument, NULL, 'b' },
                CLI_COMMON_OPTIONS,
        };
        struct cli_changes changes = { .out = stdout };
        const char *image, *extract = NULL, *output = NULL;
        struct bimg_output *out = NULL;
        bool bmap = false;
        struct bimg_image *img;
        int opt, i, r;

        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":o:h", options, NULL)) != -1) {
                if (cli_common_option(opt, err))
                        continue;
                switch (opt) {
                case 'x':
                        extract = optarg;
                        break;
                case 'n':
                        changes.dry_run = true;
                        break;
                case 'o':
                        output = optarg;
                        break;
                case 'b':
                        bmap = true;
                        break;
                case CLI_OPT_HELP:
                        cli_print_help("splash");
                        return 0;
                default:
                        return cli_bad_option("splash", opt, argv, err);
                }
        }
        i = optind;
        if (cli_take_image("splash", argc, argv, &i, extract ? 0 : 1, &image, err) < 0)
                return -1;
        if (argc - i != (extract ? 0 : 1))
                return cli_usage_error("splash", err, extract ? "--extract takes no LOGO.png"
                                                              : "expected one LOGO.png");
        if ((output || bmap) && (extract || changes.dry_run))
                return cli_usage_error("splash", err, "-o and --bmap go with a change, not "
                                       "with --extract or --dry-run");
        if (extract || changes.dry_run) {
                if (cli_open_image(image, false, &img, err) < 0)
                        return -1;
        } else if (cli_begin_change(image, output, &img, &out, err) < 0) {
                return -1;
        }
        r = extract ? bimg_get_splash(img, extract, err)
                    : bimg_set_splash(img, argv[i], changes.dry_run, cli_print_change, &changes,
                                      err);
        return cli_end_change(img, out, r, bmap ? (output ? output : image) : NULL, err);
}
