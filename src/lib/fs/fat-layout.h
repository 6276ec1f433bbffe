/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BIMG_FAT_LAYOUT_H
#define BIMG_FAT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "base/range.h"

/* The bytes (from the partition's start, in 64 KiB blocks) that only the
 * leave_out files use, of the FAT partition at drive ("/dev/fd/3@@OFFSET",
 * image_fd as fd 3): every name "::/path"; a cluster that one of others (what
 * the change reads or writes) claims too, in a damaged FAT, is never left out. Runs minfo and mshowfat, at once. -1 when anything is amiss:
 * then leave nothing out. */
int fat_layout_leave_out(int image_fd, const char *drive, uint64_t part_size,
                         const char *const *leave_out, size_t n_leave_out,
                         const char *const *others, size_t n_others, struct range_set *ret);

#endif
