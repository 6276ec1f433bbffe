/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ops/headroom.h"

#define CLUSTER (4 * 1024)              /* file sizes are rounded to this on FAT */

uint64_t headroom_on_disk(uint64_t size)
{
        return (size + CLUSTER - 1) / CLUSTER * CLUSTER;
}

struct largest {
        struct bimg_fs *fs;
        const char *skip;
        uint64_t size;
        int depth;
        char dir[512];
        char path[512];         /* of the largest file */
};

static int note_size(const char *name, const struct bimg_stat *st, void *data)
{
        struct largest *l = data;
        char path[600];

        snprintf(path, sizeof(path), "%.300s/%.280s", strcmp(l->dir, "/") ? l->dir : "", name);
        if (st->is_dir && l->depth < 8) {
                struct largest sub = *l;
                struct bimg_error ignored = { 0 };

                sub.depth++;
                snprintf(sub.dir, sizeof(sub.dir), "%.500s", path);
                if (bimg_fs_list(l->fs, path, note_size, &sub, &ignored) == 0 &&
                    sub.size > l->size) {
                        l->size = sub.size;
                        memcpy(l->path, sub.path, sizeof(l->path));
                }
        } else if (!st->is_dir && (!l->skip || strcasecmp(path, l->skip) != 0) &&
                   st->size > l->size) {
                l->size = st->size;
                snprintf(l->path, sizeof(l->path), "%.500s", path);
        }
        return 0;
}

int headroom_largest(struct bimg_fs *fs, const char *skip, uint64_t *ret_size, char *ret_path,
                     size_t path_size, struct bimg_error *err)
{
        struct largest l = { .fs = fs, .skip = skip, .dir = "/" };

        if (bimg_fs_list(fs, "/", note_size, &l, err) < 0)
                return -1;
        *ret_size = l.size;
        snprintf(ret_path, path_size, "%s", l.path);
        return 0;
}
