/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the operations. */
#ifndef BIMG_OPS_H
#define BIMG_OPS_H

#include <stddef.h>

#include "balena-img.h"

/* A unified diff (3 lines of context) from a to b, "" when they are equal.
 * *ret is yours to free(). Texts over 2000 lines are shown as one hunk. */
int diff_unified(const char *name, const char *a, size_t alen, const char *b, size_t blen,
                 char **ret, struct bimg_error *err);

/* bimg_inspect without what only `info` shows (storage driver, build time, the
 * root partition's os-release when the boot partition has one): what configure
 * and splash need, without opening the root filesystem. */
int inspect_for_change(struct bimg_image *img, struct bimg_info *ret_info,
                       struct bimg_error *err);

#endif
