/* SPDX-License-Identifier: Apache-2.0 */
/* What every command shares: usage errors, help, opening IMAGE:PART/PATH. */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "base/path.h"
#include "cli.h"

int cli_usage_error(const char *cmd, struct bimg_error *err, const char *fmt, ...)
{
        char msg[400];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return bimg_fail(err, BIMG_E_USAGE, "%s: %s; try '" PROGRAM " %s --help'", cmd, msg,
                         cmd);
}

int cli_bad_option(const char *cmd, int opt, char **argv, struct bimg_error *err)
{
        if (opt == ':')
                return cli_usage_error(cmd, err, "option '%s' needs a value", argv[optind - 1]);
        return cli_usage_error(cmd, err, "unknown option '%s'", argv[optind - 1]);
}

void cli_print_help(const char *cmd)
{
        for (const struct command *c = commands; c->name; c++) {
                if (strcmp(c->name, cmd) != 0)
                        continue;
                printf("Usage: " PROGRAM " %s\n\n%s.\n", c->synopsis, c->summary);
                if (c->help[0])
                        printf("\n%s", c->help);
                return;
        }
}

int cli_open_target(const char *arg, bool writable, struct cli_target *ret,
                    struct bimg_error *err)
{
        struct bimg_pathspec *spec = calloc(1, sizeof(*spec));
        struct cli_target t = { 0 };
        int r;

        if (!spec)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        r = path_parse_spec(arg, spec, err);
        if (r == 0)
                bimg_fail(err, BIMG_E_USAGE, "'%s' is not IMAGE:PART/PATH (PART is a number, "
                          "a label, or boot, rootA, rootB, state, data)", arg);
        if (r <= 0)
                goto fail;
        if (bimg_image_open(spec->image, writable ? BIMG_OPEN_WRITE : BIMG_OPEN_READ, &t.img,
                            err) < 0)
                goto fail;
        bimg_image_set_warn(t.img, cli_warn, NULL);
        if (writable && bimg_image_check_editable(t.img, err) < 0)
                goto fail;
        if (bimg_image_find_part(t.img, spec->part, &t.part, err) < 0 ||
            bimg_image_fs(t.img, t.part, &t.fs, err) < 0)
                goto fail;
        snprintf(t.path, sizeof(t.path), "%s", spec->path);
        free(spec);
        *ret = t;
        return 0;
fail:
        free(spec);
        bimg_image_close(t.img);
        return -1;
}

void cli_close_target(struct cli_target *t)
{
        bimg_image_close(t->img);
        t->img = NULL;
}

void cli_warn(const char *message, void *data)
{
        (void)data;
        fprintf(stderr, PROGRAM ": warning: %s\n", message);
}

void cli_format_size(uint64_t bytes, char *out, size_t size)
{
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        double v = (double)bytes;
        size_t u = 0;

        while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
                v /= 1024.0;
                u++;
        }
        if (u == 0)
                snprintf(out, size, "%" PRIu64 " B", bytes);
        else
                snprintf(out, size, "%.1f %s", v, units[u]);
}
