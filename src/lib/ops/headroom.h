/* SPDX-License-Identifier: Apache-2.0 */
/* Room on the boot partition for OS updates (spec 2.3), shared by splash and verify. */
#ifndef BIMG_HEADROOM_H
#define BIMG_HEADROOM_H

#include "balena-img.h"

/* HUP copies the new boot files over the old ones: it needs one more copy of
 * the largest file free, and refuses to go below 512 KiB while copying. */
#define HEADROOM_MARGIN (512 * 1024)

/* size rounded up to whole 4 KiB clusters: what a file takes on FAT */
uint64_t headroom_on_disk(uint64_t size);

/* The largest file of fs (folders 8 deep), leaving out skip (a file about to be
 * replaced; NULL: none): its size and path ("" and 0 for an empty partition). */
int headroom_largest(struct bimg_fs *fs, const char *skip, uint64_t *ret_size, char *ret_path,
                     size_t path_size, struct bimg_error *err);

#endif
