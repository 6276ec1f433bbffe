/* SPDX-License-Identifier: Apache-2.0 */
/* What each partition holds, probed with libblkid: filesystem type, label, UUID. */
#include <blkid.h>
#include <stdio.h>
#include <string.h>

#include "image/image.h"

static void copy_value(blkid_probe pr, const char *name, char *dst, size_t size)
{
        const char *data = NULL;

        if (blkid_probe_lookup_value(pr, name, &data, NULL) == 0 && data)
                snprintf(dst, size, "%s", data);
}

static enum bimg_fskind kind_of(const char *type)
{
        if (!type[0])
                return BIMG_FS_NONE;
        if (strcmp(type, "vfat") == 0)
                return BIMG_FS_VFAT;
        if (strcmp(type, "ext4") == 0 || strcmp(type, "ext3") == 0 || strcmp(type, "ext2") == 0)
                return BIMG_FS_EXT;
        if (strcmp(type, "crypto_LUKS") == 0)
                return BIMG_FS_LUKS;
        return BIMG_FS_OTHER;
}

/* What a balenaOS partition holds. Probing for these alone reads a small part of
 * what all of blkid's probers read (its ZFS prober alone reads 4 x 256 KiB of
 * every partition), which made it half of `info`'s own time. */
static const char *const balena_types[] = { "vfat", "ext4", "ext3", "ext2", "crypto_LUKS",
                                            NULL };

/* 0 found, 1 nothing, -2 ambiguous (blkid_do_safeprobe), on one partition; only
 * a partition holding none of balena_types is probed again by every prober, so
 * a message can name what it holds. */
static int probe_one(blkid_probe pr, const struct bimg_image *img, const struct bimg_part *p)
{
        int r = -1;

        for (int pass = 0; pass < 2 && (r == -1 || r == 1); pass++) {
                blkid_reset_probe(pr);
                if (pass == 0)
                        blkid_probe_filter_superblocks_type(pr, BLKID_FLTR_ONLYIN,
                                                            (char **)balena_types);
                else
                        blkid_probe_reset_superblocks_filter(pr);
                if (blkid_probe_set_device(pr, img->fd, (blkid_loff_t)p->offset,
                                           (blkid_loff_t)p->size) != 0)
                        return -3;
                r = blkid_do_safeprobe(pr);
        }
        return r;
}

int probe_parts(struct bimg_image *img, struct bimg_error *err)
{
        blkid_probe pr = blkid_new_probe();

        if (!pr)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL |
                                          BLKID_SUBLKS_UUID | BLKID_SUBLKS_VERSION);
        blkid_probe_enable_partitions(pr, 0);
        for (size_t i = 0; i < img->n_parts; i++) {
                struct bimg_part *p = &img->parts[i];
                int r;

                if (p->container)
                        continue;
                r = probe_one(pr, img, p);
                if (r == -3) {
                        blkid_free_probe(pr);
                        return bimg_fail(err, BIMG_E_IO, "cannot probe partition %u of '%s'",
                                         p->number, img->path);
                }
                if (r == -2) {
                        snprintf(p->fstype, sizeof(p->fstype), "ambiguous");
                        p->fskind = BIMG_FS_OTHER;
                        continue;
                }
                if (r != 0)
                        continue;
                copy_value(pr, "TYPE", p->fstype, sizeof(p->fstype));
                copy_value(pr, "LABEL", p->label, sizeof(p->label));
                copy_value(pr, "UUID", p->uuid, sizeof(p->uuid));
                copy_value(pr, "VERSION", p->fsversion, sizeof(p->fsversion));
                p->fskind = kind_of(p->fstype);
        }
        blkid_free_probe(pr);
        return 0;
}
