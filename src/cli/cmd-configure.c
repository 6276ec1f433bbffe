/* SPDX-License-Identifier: Apache-2.0 */
/* balena-img configure [IMAGE] [OPTIONS]: every boot-partition setting in one run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_SETTING = 256, OPT_DRY_RUN, OPT_BMAP, OPT_OUTPUT = 'o' };

static const struct option options[] = {
        { "config", required_argument, NULL, OPT_SETTING },
        { "replace-config", no_argument, NULL, OPT_SETTING },
        { "set", required_argument, NULL, OPT_SETTING },
        { "unset", required_argument, NULL, OPT_SETTING },
        { "hostname", required_argument, NULL, OPT_SETTING },
        { "ssh-key", required_argument, NULL, OPT_SETTING },
        { "udev-rule", required_argument, NULL, OPT_SETTING },
        { "dev", no_argument, NULL, OPT_SETTING },
        { "no-dev", no_argument, NULL, OPT_SETTING },
        { "persistent-logging", no_argument, NULL, OPT_SETTING },
        { "no-persistent-logging", no_argument, NULL, OPT_SETTING },
        { "country", required_argument, NULL, OPT_SETTING },
        { "ntp-servers", required_argument, NULL, OPT_SETTING },
        { "dns-servers", required_argument, NULL, OPT_SETTING },
        { "root-ca", required_argument, NULL, OPT_SETTING },
        { "random-mac-scan", no_argument, NULL, OPT_SETTING },
        { "no-random-mac-scan", no_argument, NULL, OPT_SETTING },
        { "connectivity-uri", required_argument, NULL, OPT_SETTING },
        { "connectivity-interval", required_argument, NULL, OPT_SETTING },
        { "connectivity-response", required_argument, NULL, OPT_SETTING },
        { "device-type", required_argument, NULL, OPT_SETTING },
        { "splash", required_argument, NULL, OPT_SETTING },
        { "wifi-ssid", required_argument, NULL, OPT_SETTING },
        { "wifi-key", required_argument, NULL, OPT_SETTING },
        { "wifi-hidden", no_argument, NULL, OPT_SETTING },
        { "static-ip", required_argument, NULL, OPT_SETTING },
        { "gateway", required_argument, NULL, OPT_SETTING },
        { "dns", required_argument, NULL, OPT_SETTING },
        { "apn", required_argument, NULL, OPT_SETTING },
        { "apn-user", required_argument, NULL, OPT_SETTING },
        { "apn-password", required_argument, NULL, OPT_SETTING },
        { "system-connection", required_argument, NULL, OPT_SETTING },
        { "proxy", required_argument, NULL, OPT_SETTING },
        { "no-proxy", required_argument, NULL, OPT_SETTING },
        { "dry-run", no_argument, NULL, OPT_DRY_RUN },
        { "output", required_argument, NULL, OPT_OUTPUT },
        { "bmap", no_argument, NULL, OPT_BMAP },
        CLI_COMMON_OPTIONS,
};

/* Every option but the last few (and --help) is a setting, named as in the
 * library's option table. */
static int parse(int argc, char **argv, struct bimg_configure_opts *o, bool *dry_run,
                 const char **output, bool *bmap, struct bimg_error *err)
{
        int opt, index, settings = 0;

        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":o:h", options, &index)) != -1) {
                if (cli_common_option(opt, err))
                        continue;
                switch (opt) {
                case OPT_DRY_RUN: *dry_run = true; break;
                case OPT_OUTPUT: *output = optarg; break;
                case OPT_BMAP: *bmap = true; break;
                case CLI_OPT_HELP:
                        cli_print_help("configure");
                        return 1;
                case OPT_SETTING:
                        settings++;
                        if (bimg_configure_opts_set(o, options[index].name, optarg, err) < 0)
                                return -1;
                        break;
                default:
                        return cli_bad_option("configure", opt, argv, err);
                }
        }
        if (settings == 0)
                return cli_usage_error("configure", err, "no settings given");
        if (o->replace_config && !o->config_file)
                return cli_usage_error("configure", err, "--replace-config needs --config FILE");
        return 0;
}

/* Print what changed, or would: the diff of config.json first on a dry run. */
static int run(const char *image, const char *output, bool bmap,
               const struct bimg_configure_opts *o, bool dry_run, struct bimg_error *err)
{
        struct cli_changes changes = { .dry_run = dry_run, .out = stdout };
        struct bimg_output *out = NULL;
        struct bimg_image *img;
        char *diff = NULL, *list = NULL;
        size_t list_len = 0;
        int r;

        /* a dry run reads the image only; its change list follows the diff */
        if (dry_run && !(changes.out = open_memstream(&list, &list_len)))
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        r = dry_run ? cli_open_image(image, false, &img, err)
                    : cli_begin_change(image, output, &img, &out, err);
        if (r == 0) {
                r = bimg_configure(img, o, dry_run, cli_print_change, &changes,
                                   dry_run ? &diff : NULL, err);
                r = cli_end_change(img, out, r,
                                   bmap && !dry_run ? (output ? output : image) : NULL, err);
        }
        if (dry_run) {
                fclose(changes.out);
                if (r == 0)
                        printf("%s%s", diff ? diff : "", list ? list : "");
        }
        free(diff);
        free(list);
        return r;
}

int cmd_configure(int argc, char **argv, struct bimg_error *err)
{
        struct bimg_configure_opts o;
        const char *image, *output = NULL;
        bool dry_run = false, bmap = false;
        int r, i;

        bimg_configure_opts_init(&o);
        r = parse(argc, argv, &o, &dry_run, &output, &bmap, err);
        if (r != 0) {
                bimg_configure_opts_release(&o);
                return r > 0 ? 0 : -1;
        }
        i = optind;
        r = cli_take_image("configure", argc, argv, &i, 0, &image, err);
        if (r == 0 && i != argc)
                r = cli_usage_error("configure", err, "unexpected '%s'", argv[i]);
        if (r == 0)
                r = run(image, output, bmap, &o, dry_run, err);
        bimg_configure_opts_release(&o);
        return r;
}
