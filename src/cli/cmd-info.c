/* SPDX-License-Identifier: Apache-2.0 */
/* balena-img info IMAGE [--json] */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "output.h"

#define INFO_SCHEMA_VERSION 1   /* bump when a field changes meaning or disappears */

/* Partition starts are MiB-aligned on balenaOS images: show them exactly. */
static void format_start(uint64_t offset, char *out, size_t size)
{
        if (offset % (1024 * 1024) == 0)
                snprintf(out, size, "%" PRIu64 " MiB", offset / (1024 * 1024));
        else
                snprintf(out, size, "%" PRIu64 " KiB", offset / 1024);
}

static void print_partitions(struct bimg_image *img)
{
        printf("\nPartitions (%s table):\n", bimg_image_table_type(img));
        printf("  %-3s %-10s %-10s %-16s %-7s %-14s %-6s %s\n", "#", "START", "SIZE", "TYPE",
               "FS", "LABEL", "ROLE", strcmp(bimg_image_table_type(img), "gpt") == 0 ? "GPT NAME"
                                                                                    : "FLAGS");
        for (size_t i = 0; i < bimg_image_part_count(img); i++) {
                const struct bimg_part *p = bimg_image_part(img, i);
                const char *role = bimg_role_name(p->role);
                char start[24], size[24], type[20];

                format_start(p->offset, start, sizeof(start));
                cli_format_size(p->size, size, sizeof(size));
                /* MBR type bytes are short; GPT type GUIDs are shown by name */
                snprintf(type, sizeof(type), "%.16s",
                         strncmp(p->type, "0x", 2) == 0 || !p->type_name[0] ? p->type
                                                                             : p->type_name);
                printf("  %-3u %-10s %-10s %-16s %-7s %-14s %-6s %s%s%s\n", p->number, start,
                       size, type, p->container ? "(ext)" : p->fstype[0] ? p->fstype : "-",
                       p->label[0] ? p->label : "-", role[0] ? role : "-", p->name,
                       p->name[0] && p->bootable ? " " : "", p->bootable ? "(bootable)" : "");
        }
}

static void print_timestamp(const char *ts)
{
        /* Yocto's /etc/timestamp is YYYYMMDDhhmmss */
        if (strlen(ts) == 14 && strspn(ts, "0123456789") == 14)
                printf("%.4s-%.2s-%.2s %.2s:%.2s:%.2s UTC\n", ts, ts + 4, ts + 6, ts + 8, ts + 10,
                       ts + 12);
        else
                printf("%s\n", ts);
}

static void print_text(struct bimg_image *img, const struct bimg_info *in)
{
        char size[24], free_space[24];
        const char *boot_label = in->boot->label[0] ? in->boot->label : in->boot->name;

        cli_format_size(bimg_image_size(img), size, sizeof(size));
        printf("Image:            %s (%s)\n", bimg_image_path(img), size);
        printf("Device type:      %s", in->device_type[0] ? in->device_type : "unknown");
        if (in->device_type_name[0])
                printf(" (%s%s%s)", in->device_type_name, in->arch[0] ? ", " : "", in->arch);
        printf("\nOS version:       %s", in->os_version[0] ? in->os_version : "unknown");
        if (in->meta_balena_version[0])
                printf(" (meta-balena %s)", in->meta_balena_version);
        if (in->os_version_source[0])
                printf(" from %s", in->os_version_source);
        printf("\n");
        if (in->board_rev[0])
                printf("Board revision:   %s\n", in->board_rev);
        if (in->yocto_codename[0] || in->machine[0])
                printf("Yocto:            %s%s%s%s\n", in->yocto_codename,
                       in->yocto_codename[0] && in->machine[0] ? ", " : "",
                       in->machine[0] ? "machine " : "", in->machine);
        if (in->build_timestamp[0]) {
                printf("Built:            ");
                print_timestamp(in->build_timestamp);
        }
        printf("Flasher:          %s\n", in->is_flasher ? "yes (configure flash-boot only)" : "no");
        printf("Signed:           %s\n", in->is_signed ? "yes" : "no");
        printf("Development mode: %s (%s)\n", in->development_mode ? "yes" : "no",
               in->development_mode_source);
        if (in->storage_driver[0])
                printf("Hostapp storage:  %s\n", in->storage_driver);
        printf("Active root:      %s (%s)\n", in->active_root, in->active_root_source);
        if (in->has_boot_free) {
                cli_format_size(in->boot_free, free_space, sizeof(free_space));
                printf("Boot free space:  %s on partition %u '%s'\n", free_space,
                       in->boot->number, boot_label);
        }
        print_partitions(img);
        printf("\nconfig.json: ");
        if (!in->has_config) {
                printf("none\n");
                return;
        }
        if (!in->config_valid) {
                printf("INVALID: %s\n", in->config_error);
                return;
        }
        printf("%zu key%s\n", in->n_config_keys, in->n_config_keys == 1 ? "" : "s");
        for (size_t i = 0; i < in->n_config_keys; i++)
                printf("  %-40s %s\n", in->config_keys[i].key, in->config_keys[i].summary);
}

static json_t *partition_json(const struct bimg_part *p)
{
        return json_pack("{s:i, s:I, s:I, s:o, s:o, s:o, s:b, s:b, s:b, s:o, s:o, s:o, s:o, s:o}",
                         "number", (int)p->number, "start", (json_int_t)p->offset,
                         "size", (json_int_t)p->size, "type", out_str(p->type),
                         "type_name", out_str_or_null(p->type_name),
                         "name", out_str_or_null(p->name), "bootable", p->bootable,
                         "logical", p->logical, "extended", p->container,
                         "filesystem", out_str_or_null(p->fstype),
                         "filesystem_version", out_str_or_null(p->fsversion),
                         "label", out_str_or_null(p->label), "uuid", out_str_or_null(p->uuid),
                         "role", out_str_or_null(bimg_role_name(p->role)));
}

static json_t *config_json(const struct bimg_info *in)
{
        json_t *keys = json_array();

        for (size_t i = 0; i < in->n_config_keys; i++)
                json_array_append_new(keys, json_pack("{s:o, s:o, s:b}",
                                                      "key", out_str(in->config_keys[i].key),
                                                      "summary",
                                                      out_str(in->config_keys[i].summary),
                                                      "secret", in->config_keys[i].secret));
        return json_pack("{s:b, s:b, s:o, s:o}", "present", in->has_config,
                         "valid", in->config_valid, "error", out_str_or_null(in->config_error),
                         "keys", keys);
}

static int print_json(struct bimg_image *img, const struct bimg_info *in, struct bimg_error *err)
{
        json_t *parts = json_array(), *root;

        for (size_t i = 0; i < bimg_image_part_count(img); i++)
                json_array_append_new(parts, partition_json(bimg_image_part(img, i)));
        root = json_pack(
                "{s:i, s:{s:o, s:I, s:s, s:o}, s:o, s:i,"
                " s:{s:o, s:o, s:o},"
                " s:{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o},"
                " s:b, s:b, s:b, s:s, s:o, s:s, s:o, s:o}",
                "schema_version", INFO_SCHEMA_VERSION,
                "image", "path", out_str(bimg_image_path(img)),
                "size", (json_int_t)bimg_image_size(img),
                "partition_table", bimg_image_table_type(img),
                "disk_id", out_str_or_null(bimg_image_disk_id(img)),
                "partitions", parts, "boot_partition", (int)in->boot->number,
                "device_type", "slug", out_str_or_null(in->device_type),
                "name", out_str_or_null(in->device_type_name), "arch", out_str_or_null(in->arch),
                "os", "version", out_str_or_null(in->os_version),
                "version_source", out_str_or_null(in->os_version_source),
                "meta_balena_version", out_str_or_null(in->meta_balena_version),
                "board_revision", out_str_or_null(in->board_rev),
                "yocto_codename", out_str_or_null(in->yocto_codename),
                "machine", out_str_or_null(in->machine),
                "variant", out_str_or_null(in->variant),
                "build_timestamp", out_str_or_null(in->build_timestamp),
                "storage_driver", out_str_or_null(in->storage_driver),
                "flasher", in->is_flasher, "signed", in->is_signed,
                "development_mode", in->development_mode,
                "development_mode_source", in->development_mode_source,
                "active_root", out_str(in->active_root),
                "active_root_source", in->active_root_source,
                "boot_free_bytes",
                in->has_boot_free ? json_integer((json_int_t)in->boot_free) : json_null(),
                "config", config_json(in));
        return out_print_json(root, err);
}

int cmd_info(int argc, char **argv, struct bimg_error *err)
{
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                CLI_COMMON_OPTIONS,
        };
        struct bimg_image *img = NULL;
        struct bimg_info info;
        const char *image;
        bool json = false;
        int opt, i, ret = -1;

        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (cli_common_option(opt, err))
                        continue;
                switch (opt) {
                case 'j':
                        json = true;
                        break;
                case CLI_OPT_HELP:
                        cli_print_help("info");
                        return 0;
                default:
                        return cli_bad_option("info", opt, argv, err);
                }
        }
        i = optind;
        if (cli_take_image("info", argc, argv, &i, 0, &image, err) < 0)
                return -1;
        if (i != argc)
                return cli_usage_error("info", err, "expected one IMAGE");
        if (cli_open_image(image, false, &img, err) < 0)
                return -1;
        if (bimg_inspect(img, &info, err) == 0) {
                if (json)
                        ret = print_json(img, &info, err);
                else {
                        print_text(img, &info);
                        ret = 0;
                }
        }
        bimg_image_close(img);
        return ret;
}
