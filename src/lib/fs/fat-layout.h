/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BIMG_FAT_LAYOUT_H
#define BIMG_FAT_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/range.h"
#include "base/spawn.h"

/* The bytes (from the partition's start, in 64 KiB blocks) of the FAT partition
 * at drive ("/dev/fd/3@@OFFSET", image_fd as fd 3) that a staged change may
 * leave out, found by minfo and mshowfat, run at once. fat_layout_start_info()
 * starts minfo, fat_layout_start_show() mshowfat, which is shown show (each
 * folder as "::/dir/" and a star, one look-up for all it holds, and "::/").
 * fat_layout_finish() waits for them and leaves in *ret the bytes of the files
 * names ("::/path", sorted here), and the free clusters when they add up to
 * free_bytes (what mdir counts; UINT64_MAX: unknown). What mshowfat prints of
 * anything not in names, folders included, is never left out, nor is a
 * cluster that one of them claims too (a damaged FAT). -1 when anything is
 * amiss: then leave nothing out. A started run must be finished, or dropped
 * with fat_layout_cancel() (which stops the tools). */
struct fat_layout_run {
        struct spawn_job info_job, show_job;
        bool info_started, show_started;
};

void fat_layout_start_info(int image_fd, const char *drive, struct fat_layout_run *run);
void fat_layout_start_show(int image_fd, const char *drive, const char *const *show,
                           size_t n_show, struct fat_layout_run *run);
int fat_layout_finish(struct fat_layout_run *run, uint64_t part_size, const char **names,
                      size_t n_names, uint64_t free_bytes, struct range_set *ret);
void fat_layout_cancel(struct fat_layout_run *run);

#endif
