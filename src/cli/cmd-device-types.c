/* SPDX-License-Identifier: Apache-2.0 */
/* balena-img device-types [--json]: the built-in table of balena device types. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"

static json_t *type_json(const struct bimg_device_type *t)
{
        json_t *aliases = json_array();

        for (const char *p = t->aliases; *p;) {
                size_t n = strcspn(p, " ");

                json_array_append_new(aliases, json_stringn(p, n));
                p += n + (p[n] == ' ');
        }
        return json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:s, s:b, s:o}", "slug", t->slug,
                         "name", t->name, "arch", t->arch, "default_boot", t->boot,
                         "flasher", t->flasher, "flash_protocol",
                         out_str_or_null(t->flash_protocol), "partition_table",
                         t->partition_table, "private", t->private_type, "aliases", aliases);
}

int cmd_device_types(int argc, char **argv, struct bimg_error *err)
{
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                CLI_COMMON_OPTIONS,
        };
        struct bimg_device_type *types;
        bool json = false;
        size_t n;
        int opt, r = 0;

        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(opt, err))
                        continue;
                if (opt == 'j') {
                        json = true;
                        continue;
                }
                if (opt != CLI_OPT_HELP)
                        return cli_bad_option("device-types", opt, argv, err);
                cli_print_help("device-types");
                return 0;
        }
        if (optind != argc)
                return cli_usage_error("device-types", err, "takes no operands");
        if (bimg_device_types(&types, &n, err) < 0)
                return -1;
        if (json) {
                json_t *arr = json_array();

                for (size_t i = 0; i < n; i++)
                        json_array_append_new(arr, type_json(&types[i]));
                r = out_print_json(arr, err);
        } else {
                printf("%-32s %-9s %-9s %-8s %-5s %s\n", "SLUG", "ARCH", "BOOT", "IMAGE", "TABLE",
                       "NAME");
                for (size_t i = 0; i < n; i++)
                        printf("%-32s %-9s %-9s %-8s %-5s %s%s\n", types[i].slug, types[i].arch,
                               types[i].boot,
                               types[i].flasher ? "flasher" : types[i].flash_protocol[0]
                                                                      ? "vendor" : "plain",
                               types[i].partition_table, types[i].name,
                               types[i].private_type ? " (private)" : "");
        }
        free(types);
        return r;
}
