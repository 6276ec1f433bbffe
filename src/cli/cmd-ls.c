/* SPDX-License-Identifier: Apache-2.0 */
/* balena-img ls [-l] [--json] IMAGE:PART[/PATH] */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/path.h"
#include "cli.h"
#include "output.h"

struct entry {
        char *name;
        struct bimg_stat st;
};

struct listing {
        struct entry *entries;
        size_t n;
        bool failed;
};

static int collect(const char *name, const struct bimg_stat *st, void *data)
{
        struct listing *l = data;
        struct entry *grown = realloc(l->entries, (l->n + 1) * sizeof(*grown));

        if (grown)
                l->entries = grown;
        if (!grown || !(grown[l->n].name = strdup(name))) {
                l->failed = true;
                return 1;
        }
        grown[l->n++].st = *st;
        return 0;
}

static int by_name(const void *a, const void *b)
{
        return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static char type_char(const struct bimg_stat *st)
{
        return st->is_symlink ? 'l' : st->is_dir ? 'd' : '-';
}

static void print_long(const struct entry *e)
{
        static const char rwx[] = "rwxrwxrwx";
        char mode[11], when[32];
        time_t t = (time_t)e->st.mtime;
        struct tm tm;

        mode[0] = type_char(&e->st);
        for (int i = 0; i < 9; i++)
                mode[i + 1] = (e->st.mode & (0400u >> i)) ? rwx[i] : '-';
        mode[10] = '\0';
        if (!gmtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm))
                snprintf(when, sizeof(when), "-");
        printf("%s %12" PRIu64 " %s %s%s\n", mode, e->st.size, when, e->name,
               e->st.is_dir ? "/" : "");
}

static json_t *entry_json(const struct entry *e)
{
        const char *type = e->st.is_symlink ? "symlink" : e->st.is_dir ? "directory" : "file";

        return json_pack("{s:o, s:s, s:I, s:I, s:i}", "name", out_str(e->name), "type", type,
                         "size", (json_int_t)e->st.size, "mtime", (json_int_t)e->st.mtime,
                         "mode", (int)(e->st.mode & 07777));
}

static int print_listing(struct listing *l, bool longfmt, bool json, struct bimg_error *err)
{
        json_t *arr;

        if (l->n)                       /* an empty folder has no array at all */
                qsort(l->entries, l->n, sizeof(*l->entries), by_name);
        if (!json) {
                for (size_t i = 0; i < l->n; i++) {
                        if (longfmt)
                                print_long(&l->entries[i]);
                        else
                                printf("%s%s\n", l->entries[i].name,
                                       l->entries[i].st.is_dir ? "/" : "");
                }
                return 0;
        }
        arr = json_array();
        for (size_t i = 0; i < l->n; i++)
                json_array_append_new(arr, entry_json(&l->entries[i]));
        return out_print_json(arr, err);
}

int cmd_ls(int argc, char **argv, struct bimg_error *err)
{
        static const struct option options[] = {
                { "long", no_argument, NULL, 'l' },
                { "json", no_argument, NULL, 'j' },
                CLI_COMMON_OPTIONS,
        };
        struct listing l = { 0 };
        struct cli_target t;
        struct bimg_stat st;
        bool longfmt = false, json = false;
        int opt, ret = -1;

        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":lh", options, NULL)) != -1) {
                if (cli_common_option(opt, err))
                        continue;
                switch (opt) {
                case 'l':
                        longfmt = true;
                        break;
                case 'j':
                        json = true;
                        break;
                case CLI_OPT_HELP:
                        cli_print_help("ls");
                        return 0;
                default:
                        return cli_bad_option("ls", opt, argv, err);
                }
        }
        if (argc - optind != 1)
                return cli_usage_error("ls", err, "expected one IMAGE:PART[/PATH]");
        if (cli_open_target(argv[optind], false, NULL, false, &t, err) < 0)
                return -1;
        if (bimg_fs_stat(t.fs, t.path, &st, err) < 0)
                goto out;
        if (st.is_dir || st.is_symlink) {
                struct bimg_error probe = { 0 };

                /* a link to a folder lists the folder; any other link lists itself */
                if (bimg_fs_list(t.fs, t.path, collect, &l, &probe) < 0) {
                        if (!st.is_symlink) {
                                bimg_fail(err, probe.status, "%s", probe.message);
                                goto out;
                        }
                        collect(path_basename(t.path), &st, &l);
                }
        } else {
                collect(path_basename(t.path), &st, &l);
        }
        if (l.failed) {
                bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                goto out;
        }
        ret = print_listing(&l, longfmt, json, err);
out:
        for (size_t i = 0; i < l.n; i++)
                free(l.entries[i].name);
        free(l.entries);
        return cli_close_target(&t, ret, err);
}
