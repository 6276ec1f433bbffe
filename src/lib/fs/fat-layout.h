/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BIMG_FAT_LAYOUT_H
#define BIMG_FAT_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/range.h"
#include "base/spawn.h"

/* Where the files of the FAT partition at drive ("/dev/fd/3@@OFFSET", image_fd
 * as fd 3) sit, found by minfo and mshowfat, run at once beside other work.
 * fat_layout_start_info() starts minfo, fat_layout_start_show() mshowfat,
 * which is shown show: "::/" and a glob for each level down to depth (a star,
 * then a star in each folder, and so on), or (depth 0) "::/" and each folder
 * as "::/dir/" and a star. Once both have
 * run (fat_layout_wait()), what they printed is kept until
 * fat_layout_cancel(), which also stops them while they run. */
struct fat_layout_tool {
        struct spawn_job job;
        bool running;
        bool done;
        char *out;              /* what it printed, once done; NULL if it failed */
};

struct fat_layout_run {
        struct fat_layout_tool info, show;
        unsigned show_depth;    /* 0: every folder was named */
};

void fat_layout_start_info(int image_fd, const char *drive, struct fat_layout_run *run);
void fat_layout_start_show(int image_fd, const char *drive, const char *const *show,
                           size_t n_show, unsigned depth, struct fat_layout_run *run);
/* Both tools started (running or done) */
bool fat_layout_started(const struct fat_layout_run *run);
/* mshowfat stopped and forgotten: to be started again, shown more */
void fat_layout_drop_show(struct fat_layout_run *run);
void fat_layout_wait(struct fat_layout_run *run);
void fat_layout_cancel(struct fat_layout_run *run);

/* Into *ret (empty), the bytes (from the partition's start, in chain order) of
 * file target ("::/path" as mshowfat shows it, long names) that holds size
 * bytes: the whole clusters it takes, the last one cut at its end. -1 unless
 * the layout shows target with just the clusters size needs. Waits. */
int fat_layout_file(struct fat_layout_run *run, uint64_t part_size, const char *target,
                    uint64_t size, struct range_set *ret);

/* Into *ret, the bytes (in 64 KiB blocks) a staged change may leave out: those
 * of the files names ("::/path", sorted here), and the free clusters when they
 * add up to free_bytes (what mdir counts; UINT64_MAX: unknown). What mshowfat
 * shows of anything not in names, folders included, is never left out, nor is
 * a cluster that one of them claims too (a damaged FAT). -1 when anything is
 * amiss: then leave nothing out. Waits. */
int fat_layout_finish(struct fat_layout_run *run, uint64_t part_size, const char **names,
                      size_t n_names, uint64_t free_bytes, struct range_set *ret);

#endif
