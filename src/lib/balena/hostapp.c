/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Since v2.5.0 a root partition is a container store, not a root filesystem:
 * the OS files sit in one image layer, balena/overlay2/<id>/diff (or
 * balena/aufs/diff/<id>, or docker/... on v2.5-v2.8). Find that layer.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "balena/balena.h"

struct layer_search {
        struct bimg_fs *fs;
        bool diff;              /* overlay2 keeps a layer's files in <id>/diff */
        const char *base;
        char found[512];
};

static int try_layer(const char *name, const struct bimg_stat *st, void *data)
{
        struct layer_search *s = data;
        struct bimg_error ignored = { 0 };
        struct bimg_stat osr;
        char path[600];

        if (!st->is_dir)
                return 0;
        snprintf(s->found, sizeof(s->found), "%s/%s%s", s->base, name, s->diff ? "/diff" : "");
        snprintf(path, sizeof(path), "%s/etc/os-release", s->found);
        if (bimg_fs_stat(s->fs, path, &osr, &ignored) == 0 && !osr.is_dir)
                return 1;       /* stop: the OS layer ("<id>-init" layers have no os-release) */
        s->found[0] = '\0';
        return 0;
}

int hostapp_find_root(struct bimg_fs *fs, struct hostapp_root *ret, struct bimg_error *err)
{
        static const struct {
                const char *base;
                bool diff;
                const char *driver;
        } stores[] = {
                { "/balena/overlay2", true, "overlay2" },
                { "/balena/aufs/diff", false, "aufs" },
                { "/docker/overlay2", true, "overlay2" },
                { "/docker/aufs/diff", false, "aufs" },
        };
        struct bimg_error probe = { 0 };
        struct bimg_stat st;

        if (bimg_fs_stat(fs, "/etc/os-release", &st, &probe) == 0 && !st.is_dir) {
                *ret = (struct hostapp_root){ 0 };      /* a plain root filesystem */
                return 1;
        }
        for (size_t i = 0; i < sizeof(stores) / sizeof(stores[0]); i++) {
                struct layer_search s = { .fs = fs, .diff = stores[i].diff,
                                          .base = stores[i].base };

                probe = (struct bimg_error){ 0 };
                if (bimg_fs_list(fs, stores[i].base, try_layer, &s, &probe) < 0) {
                        if (probe.status == BIMG_E_NOT_FOUND || probe.status == BIMG_E_INVALID)
                                continue;
                        return bimg_fail(err, probe.status, "%s", probe.message);
                }
                if (s.found[0]) {
                        snprintf(ret->dir, sizeof(ret->dir), "%s", s.found);
                        snprintf(ret->driver, sizeof(ret->driver), "%s", stores[i].driver);
                        return 1;
                }
        }
        return 0;
}
