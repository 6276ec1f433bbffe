/* SPDX-License-Identifier: Apache-2.0 */
/* What every command shares: usage errors, help, opening IMAGE:PART/PATH. */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>
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

int cli_take_image(const char *cmd, int argc, char **argv, int *i, int after,
                   const char **ret_image, struct bimg_error *err)
{
        const char *env = getenv("BALENA_IMG");

        if (argc - *i > after) {
                *ret_image = argv[(*i)++];
                return 0;
        }
        if (env && *env) {
                *ret_image = env;
                return 0;
        }
        return cli_usage_error(cmd, err, "no IMAGE given (name it, or set BALENA_IMG)");
}

int cli_open_image(const char *path, bool writable, struct bimg_image **ret_img,
                   struct bimg_error *err)
{
        if (bimg_image_open(path, writable ? BIMG_OPEN_WRITE : BIMG_OPEN_READ, ret_img, err) < 0)
                return -1;
        bimg_image_set_warn(*ret_img, cli_warn, NULL);
        return 0;
}

int cli_begin_change(const char *path, const char *output, struct bimg_image **ret_img,
                     struct bimg_output **ret_out, struct bimg_error *err)
{
        const char *temp;

        *ret_out = NULL;
        if (!output)
                return cli_open_image(path, true, ret_img, err);
        if (bimg_output_begin(path, output, ret_out, &temp, err) < 0)
                return -1;
        if (bimg_image_open_as(temp, output, BIMG_OPEN_WRITE | BIMG_OPEN_PRIVATE, ret_img,
                               err) < 0) {
                bimg_output_abort(*ret_out);
                *ret_out = NULL;
                return -1;
        }
        bimg_image_set_warn(*ret_img, cli_warn, NULL);
        return 0;
}

int cli_end_change(struct bimg_image *img, struct bimg_output *out, int status,
                   const char *bmap_of, struct bimg_error *err)
{
        char *bmap = NULL;

        bimg_image_close(img);          /* drops the lock before the rename */
        /* the map describes the raw image, also when OUT is compressed */
        if (status == 0 && bmap_of) {
                if (asprintf(&bmap, "%s.bmap", bmap_of) < 0) {
                        bmap = NULL;
                        status = bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                } else {
                        status = bimg_write_bmap(out ? bimg_output_raw_path(out) : bmap_of,
                                                 bmap, err);
                }
        }
        if (out && status != 0)
                bimg_output_abort(out);
        else if (out)
                status = bimg_output_finish(out, err);
        if (status != 0 && bmap)
                unlink(bmap);   /* no map of an output that is not there */
        free(bmap);
        return status;
}

void cli_print_change(enum bimg_change_kind kind, const struct bimg_part *part, const char *path,
                      uint64_t size, void *data)
{
        static const char *const words[] = {
                [BIMG_CHANGE_ADD] = "added", [BIMG_CHANGE_REPLACE] = "replaced",
                [BIMG_CHANGE_UNCHANGED] = "unchanged", [BIMG_CHANGE_MKDIR] = "created",
                [BIMG_CHANGE_REMOVE] = "removed",
        };
        static const char *const would[] = {
                [BIMG_CHANGE_ADD] = "would add", [BIMG_CHANGE_REPLACE] = "would replace",
                [BIMG_CHANGE_UNCHANGED] = "unchanged", [BIMG_CHANGE_MKDIR] = "would create",
                [BIMG_CHANGE_REMOVE] = "would remove",
        };
        const struct cli_changes *out = data;
        const char *label = part->label[0] ? part->label : part->name;
        char where[120];

        if (label[0])
                snprintf(where, sizeof(where), "%s", label);
        else
                snprintf(where, sizeof(where), "%u", part->number);
        fprintf(out->out, "%-13s %s:%s", (out->dry_run ? would : words)[kind], where, path);
        if (kind == BIMG_CHANGE_ADD || kind == BIMG_CHANGE_REPLACE)
                fprintf(out->out, " (%llu bytes)", (unsigned long long)size);
        fprintf(out->out, "\n");
}

int cli_open_target(const char *arg, bool writable, const char *output, bool bmap,
                    struct cli_target *ret, struct bimg_error *err)
{
        struct bimg_pathspec *spec = calloc(1, sizeof(*spec));
        const char *env = getenv("BALENA_IMG");
        struct cli_target t = { 0 };
        char *joined = NULL;
        int r;

        if (!spec)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        /* ":boot/config.json" names a path in $BALENA_IMG */
        if (arg[0] == ':' && env && *env) {
                joined = malloc(strlen(env) + strlen(arg) + 1);
                if (!joined) {
                        free(spec);
                        return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                }
                sprintf(joined, "%s%s", env, arg);
                arg = joined;
        }
        r = path_parse_spec(arg, spec, err);
        if (r == 0)
                bimg_fail(err, BIMG_E_USAGE, "'%s' is not IMAGE:PART/PATH (PART is a number, "
                          "a label, or boot, rootA, rootB, state, data)", arg);
        if (r <= 0)
                goto fail;
        if ((writable ? cli_begin_change(spec->image, output, &t.img, &t.out, err)
                      : cli_open_image(spec->image, false, &t.img, err)) < 0)
                goto fail;
        if (writable && bimg_image_check_editable(t.img, err) < 0)
                goto fail;
        if (bimg_image_find_part(t.img, spec->part, &t.part, err) < 0 ||
            bimg_image_fs(t.img, t.part, &t.fs, err) < 0)
                goto fail;
        snprintf(t.path, sizeof(t.path), "%s", spec->path);
        if (bmap && !(t.bmap_of = strdup(output ? output : spec->image))) {
                bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                goto fail;
        }
        free(spec);
        free(joined);
        *ret = t;
        return 0;
fail:
        free(spec);
        free(joined);
        cli_end_change(t.img, t.out, -1, NULL, err);
        return -1;
}

int cli_close_target(struct cli_target *t, int status, struct bimg_error *err)
{
        status = cli_end_change(t->img, t->out, status, t->bmap_of, err);
        free(t->bmap_of);
        t->img = NULL;
        t->out = NULL;
        t->bmap_of = NULL;
        return status;
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
