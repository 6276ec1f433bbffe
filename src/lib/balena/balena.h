/* SPDX-License-Identifier: Apache-2.0 */
/* balenaOS knowledge used by the operations: where things live in an image. */
#ifndef BIMG_BALENA_H
#define BIMG_BALENA_H

#include "balena-img.h"

/* The OS root filesystem inside a root partition (spec §8.3): the hostapp
 * layer that holds etc/os-release, or the partition itself for flashers and
 * images before v2.5.0. */
struct hostapp_root {
        char dir[512];          /* "" for a plain root filesystem, else the layer dir */
        char driver[16];        /* "overlay2", "aufs" or "" */
};

/* Returns 1 when found (*ret filled), 0 when the partition holds no OS root. */
int hostapp_find_root(struct bimg_fs *fs, struct hostapp_root *ret, struct bimg_error *err);

/* The value of resin_root_part in a U-Boot text env (resinOS_uEnv.txt) or a
 * GRUB env block (grubenv, bootenv): "" when absent. */
void bootenv_get(const char *text, size_t len, const char *key, char *ret, size_t size);

#endif
