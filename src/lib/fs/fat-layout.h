/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BIMG_FAT_LAYOUT_H
#define BIMG_FAT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "base/range.h"

/* The bytes (from the partition's start, in 64 KiB blocks) that only the files
 * names ("::/path", sorted here) use, of the FAT partition at drive
 * ("/dev/fd/3@@OFFSET", image_fd as fd 3). mshowfat is run on show (each
 * folder as "::/dir/" and a star, one look-up for all it holds, and "::/"): what it
 * prints of anything not in names, folders included, is never left out, nor is
 * a cluster that one of them claims too (a damaged FAT). Runs minfo and
 * mshowfat, at once. -1 when anything is amiss: then leave nothing out. */
int fat_layout_leave_out(int image_fd, const char *drive, uint64_t part_size,
                         const char **names, size_t n_names, const char *const *show,
                         size_t n_show, struct range_set *ret);

#endif
