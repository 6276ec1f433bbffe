/* SPDX-License-Identifier: Apache-2.0 */
/* The boot splash logo (spec 5). */
#ifndef BIMG_SPLASH_H
#define BIMG_SPLASH_H

#include "balena-img.h"

/* Check png_file and stage it as the splash of the boot partition: the file
 * name follows the OS version (resin-logo.png before 2.53.0), splash/ is made
 * if missing, and the partition must keep room for an OS update afterwards. */
int splash_stage(struct bimg_image *img, struct bimg_txn *txn, const struct bimg_part *boot,
                 const struct bimg_info *info, const char *png_file, struct bimg_error *err);

#endif
