/* SPDX-License-Identifier: Apache-2.0 */
/* The partition table checked on its own terms (balena-img verify). */
#ifndef BIMG_PTCHECK_H
#define BIMG_PTCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "balena-img.h"

/* One finding: fail (the table is wrong) or a warning; part is the partition
 * it is about (0: the table itself). */
typedef void (*ptcheck_fn)(bool fail, unsigned part, const char *message, void *data);

/* Read the table of the file behind fd (size bytes; name for messages) with
 * libfdisk, read-only, and report every partition that lies outside the
 * image or the table's usable area, overlaps another or the table, or (MBR)
 * a logical partition outside its extended one; libfdisk's own warnings (a
 * damaged backup GPT) come as warnings. Returns the number of partitions, or
 * -1 when there is no readable table at all. */
int ptcheck_run(int fd, const char *name, uint64_t size, ptcheck_fn fn, void *data,
                struct bimg_error *err);

#endif
