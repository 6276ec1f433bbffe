/* SPDX-License-Identifier: Apache-2.0 */
/* balena-img verify: the report being built, and one file per concern. */
#ifndef BIMG_VERIFY_H
#define BIMG_VERIFY_H

#include "balena-img.h"

/* Add a check; false only when out of memory (the report then stays short). */
bool verify_add(struct bimg_verify_report *rep, const char *name, const char *subject,
                enum bimg_check_status status, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

/* "partition 2 'resin-rootA'" */
void verify_part_subject(const struct bimg_part *p, char *buf, size_t size);

/* verify-fs.c: fsck.fat -n / e2fsck -fn on every partition, read-only. */
int verify_filesystems(struct bimg_image *img, struct bimg_verify_report *rep,
                       struct bimg_error *err);

/* verify-boot.c: config.json, headroom, network profiles and splash of the boot
 * partition. */
int verify_boot(struct bimg_image *img, struct bimg_verify_report *rep, struct bimg_error *err);

/* verify-deep.c: every filesystem mounted read-only by libguestfs in a real kernel. */
int verify_deep(struct bimg_image *img, struct bimg_verify_report *rep, struct bimg_error *err);

#endif
