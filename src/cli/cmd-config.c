/* SPDX-License-Identifier: Apache-2.0 */
/* balena-img config show|get|set|unset|validate: single keys of config.json. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define LOOSE_MAX (4 * 1024 * 1024)

/* With BALENA_IMG set, "config get KEY" names no image: an operand that is an
 * existing file is the image, anything else a key. */
static int image_then_rest(const char *sub, int argc, char **argv, int *i, int min_rest,
                           const char **ret_image, struct bimg_error *err)
{
        struct stat st;
        const char *env = getenv("BALENA_IMG");
        int after = min_rest;

        if (env && *env && *i < argc && stat(argv[*i], &st) != 0)
                after = argc - *i;      /* every operand is a key: the image is $BALENA_IMG */
        return cli_take_image(sub, argc, argv, i, after, ret_image, err);
}

static int show(const char *image, struct bimg_error *err)
{
        struct bimg_image *img;
        char *text;
        size_t len;
        int r;

        if (cli_open_image(image, false, &img, err) < 0)
                return -1;
        r = bimg_config_read(img, &text, &len, err);
        if (r == 0) {
                fwrite(text, 1, len, stdout);
                free(text);
        }
        bimg_image_close(img);
        return r;
}

static int get(const char *image, const char *key, struct bimg_error *err)
{
        struct bimg_image *img;
        char *text;
        int r;

        if (cli_open_image(image, false, &img, err) < 0)
                return -1;
        r = bimg_config_get(img, key, &text, err);
        if (r == 0) {
                puts(text);
                free(text);
        }
        bimg_image_close(img);
        return r;
}

static int edit(const char *image, const char *output, bool bmap, char **items, size_t n,
                bool set, struct bimg_error *err)
{
        struct cli_changes changes = { .out = stdout };
        struct bimg_configure_opts o;
        struct bimg_output *out;
        struct bimg_image *img;
        int r;

        bimg_configure_opts_init(&o);
        if (set)
                o.sets = (struct bimg_str_list){ (const char *const *)items, n };
        else
                o.unsets = (struct bimg_str_list){ (const char *const *)items, n };
        if (cli_begin_change(image, output, &img, &out, err) < 0)
                return -1;
        r = bimg_configure(img, &o, false, cli_print_change, &changes, NULL, err);
        return cli_end_change(img, out, r, bmap ? (output ? output : image) : NULL, err);
}

static bool looks_like_json_file(const char *path)
{
        size_t len = strlen(path);
        char c = 0;
        FILE *f;

        if (len > 5 && strcmp(path + len - 5, ".json") == 0)
                return true;
        f = fopen(path, "re");
        if (!f)
                return false;
        while (fread(&c, 1, 1, f) == 1 && (c == ' ' || c == '\t' || c == '\n' || c == '\r'))
                ;
        fclose(f);
        return c == '{';
}

static int validate(const char *target, struct bimg_error *err)
{
        struct bimg_image *img;
        struct bimg_info info;
        char *text;
        size_t len;
        bool flasher = false;
        int r;
        FILE *f;

        if (looks_like_json_file(target)) {     /* a loose config.json */
                f = fopen(target, "re");
                text = malloc(LOOSE_MAX + 1);
                if (!f || !text) {
                        free(text);
                        if (f)
                                fclose(f);
                        return bimg_fail_errno(err, BIMG_E_NOT_FOUND, errno, "cannot read '%s'",
                                               target);
                }
                len = fread(text, 1, LOOSE_MAX + 1, f);
                fclose(f);
                r = len > LOOSE_MAX ? bimg_fail(err, BIMG_E_INVALID, "'%s' is larger than "
                                                "4 MiB", target)
                                    : bimg_config_check_text(text, len, target, true, cli_warn,
                                                             NULL, err);
                free(text);
        } else {
                if (cli_open_image(target, false, &img, err) < 0)
                        return -1;
                r = bimg_inspect(img, &info, err);
                if (r == 0) {
                        flasher = info.is_flasher;
                        r = bimg_config_read(img, &text, &len, err);
                }
                if (r == 0) {
                        r = bimg_config_check_text(text, len, "config.json", flasher, cli_warn,
                                                   NULL, err);
                        free(text);
                }
                bimg_image_close(img);
        }
        if (r == 0)
                printf("%s: config.json is valid\n", target);
        return r;
}

int cmd_config(int argc, char **argv, struct bimg_error *err)
{
        static const struct option options[] = {
                { "output", required_argument, NULL, 'o' },
                { "bmap", no_argument, NULL, 'b' },
                CLI_COMMON_OPTIONS,
        };
        const char *sub, *image, *output = NULL;
        bool bmap = false;
        int opt, i;

        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":o:h", options, NULL)) != -1) {
                if (cli_common_option(opt, err))
                        continue;
                if (opt == 'o' || opt == 'b') {
                        output = opt == 'o' ? optarg : output;
                        bmap = bmap || opt == 'b';
                        continue;
                }
                if (opt != CLI_OPT_HELP)
                        return cli_bad_option("config", opt, argv, err);
                cli_print_help("config");
                return 0;
        }
        if (optind >= argc)
                return cli_usage_error("config", err, "expected show, get, set, unset or "
                                       "validate");
        sub = argv[optind];
        i = optind + 1;
        if ((output || bmap) && strcmp(sub, "set") != 0 && strcmp(sub, "unset") != 0)
                return cli_usage_error("config", err, "-o and --bmap go with set and unset "
                                       "only");
        if (strcmp(sub, "show") == 0) {
                if (cli_take_image("config", argc, argv, &i, 0, &image, err) < 0)
                        return -1;
                return i == argc ? show(image, err)
                                 : cli_usage_error("config", err, "show takes only IMAGE");
        }
        if (strcmp(sub, "get") == 0) {
                if (image_then_rest("config", argc, argv, &i, 1, &image, err) < 0)
                        return -1;
                return argc - i == 1 ? get(image, argv[i], err)
                                     : cli_usage_error("config", err, "get takes one KEY");
        }
        if (strcmp(sub, "set") == 0 || strcmp(sub, "unset") == 0) {
                if (image_then_rest("config", argc, argv, &i, 1, &image, err) < 0)
                        return -1;
                if (i >= argc)
                        return cli_usage_error("config", err, "%s needs at least one %s", sub,
                                               sub[0] == 's' ? "KEY=VALUE" : "KEY");
                return edit(image, output, bmap, argv + i, (size_t)(argc - i), sub[0] == 's',
                            err);
        }
        if (strcmp(sub, "validate") == 0) {
                if (cli_take_image("config", argc, argv, &i, 0, &image, err) < 0)
                        return -1;
                return i == argc ? validate(image, err)
                                 : cli_usage_error("config", err, "validate takes one IMAGE or "
                                                   "FILE.json");
        }
        return cli_usage_error("config", err, "unknown subcommand '%s'", sub);
}
