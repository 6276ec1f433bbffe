/* SPDX-License-Identifier: Apache-2.0 */
/* The partition table, read with libfdisk: MBR with its logical chain, or GPT. */
#include <errno.h>
#include <inttypes.h>
#include <libfdisk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

/* libfdisk reports warnings (a corrupt backup GPT, say) through this callback. */
static int ask_cb(struct fdisk_context *cxt, struct fdisk_ask *ask, void *data)
{
        const struct bimg_image *img = data;
        int type = fdisk_ask_get_type(ask);

        if (type == FDISK_ASKTYPE_WARN || type == FDISK_ASKTYPE_WARNX ||
            type == FDISK_ASKTYPE_INFO) {
                const char *msg = fdisk_ask_print_get_mesg(ask);

                if (msg && type != FDISK_ASKTYPE_INFO)
                        image_warn(img, "partition table: %s", msg);
                return 0;
        }
        return -EINVAL;         /* never answer questions: we only read */
}

static void fill_type(struct fdisk_partition *pa, bool is_gpt, struct bimg_part *p)
{
        struct fdisk_parttype *t = fdisk_partition_get_type(pa);       /* borrowed */
        const char *name;

        if (!t)
                return;
        if (is_gpt) {
                const char *guid = fdisk_parttype_get_string(t);

                snprintf(p->type, sizeof(p->type), "%s", guid ? guid : "");
        } else {
                snprintf(p->type, sizeof(p->type), "0x%02x", fdisk_parttype_get_code(t));
        }
        name = fdisk_parttype_get_name(t);
        snprintf(p->type_name, sizeof(p->type_name), "%s", name ? name : "");
}

static int fill_part(struct fdisk_context *cxt, struct fdisk_partition *pa, bool is_gpt,
                     struct bimg_part *p)
{
        uint64_t ss = fdisk_get_sector_size(cxt);
        const char *name;

        if (!fdisk_partition_has_start(pa) || !fdisk_partition_has_size(pa) ||
            !fdisk_partition_has_partno(pa))
                return -1;
        memset(p, 0, sizeof(*p));
        p->number = (unsigned)fdisk_partition_get_partno(pa) + 1;    /* 0-based in libfdisk */
        p->offset = (uint64_t)fdisk_partition_get_start(pa) * ss;
        p->size = (uint64_t)fdisk_partition_get_size(pa) * ss;
        p->bootable = fdisk_partition_is_bootable(pa) == 1;
        p->container = fdisk_partition_is_container(pa) == 1;
        p->logical = !is_gpt && p->number > 4;
        name = fdisk_partition_get_name(pa);
        if (name)
                snprintf(p->name, sizeof(p->name), "%s", name);
        fill_type(pa, is_gpt, p);
        return 0;
}

int ptable_read(struct bimg_image *img, struct bimg_error *err)
{
        struct fdisk_context *cxt = NULL;
        struct fdisk_table *tb = NULL;
        struct fdisk_label *lb;
        char devname[64], *id = NULL;
        bool is_gpt;
        size_t n = 0, count;
        int r, ret = -1;

        cxt = fdisk_new_context();
        if (!cxt)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        fdisk_set_ask(cxt, ask_cb, img);
        /* the locked fd, reopened by path: libfdisk reads exactly the file we hold */
        snprintf(devname, sizeof(devname), "/proc/self/fd/%d", img->fd);
        /* list-only: we never write a table, so libfdisk need not probe the whole
         * device for filesystem signatures a new table would collide with */
        fdisk_enable_listonly(cxt, 1);
        r = fdisk_assign_device(cxt, devname, /* readonly= */ 1);
        if (r == 0 && !fdisk_has_label(cxt))
                r = -ENOMSG;                            /* readable, but no MBR or GPT */
        if (r == 0)
                r = fdisk_get_partitions(cxt, &tb);     /* allocates tb because it is NULL */
        if (r < 0) {
                if (r == -ENOMSG)
                        bimg_fail(err, BIMG_E_NOT_FOUND, "'%s' has no partition table (MBR or "
                                  "GPT); pass a whole-disk balenaOS image", img->path);
                else
                        bimg_fail(err, BIMG_E_NOT_FOUND, "cannot read the partition table of "
                                  "'%s': %s", img->path, strerror(-r));
                goto out;
        }
        lb = fdisk_get_label(cxt, NULL);
        is_gpt = fdisk_is_label(cxt, GPT);
        snprintf(img->table_type, sizeof(img->table_type), "%s", fdisk_label_get_name(lb));
        if (fdisk_get_disklabel_id(cxt, &id) == 0 && id)
                snprintf(img->disk_id, sizeof(img->disk_id), "%s", id);
        count = fdisk_table_get_nents(tb);
        img->parts = calloc(count ? count : 1, sizeof(*img->parts));
        if (!img->parts) {
                bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                goto out;
        }
        for (size_t i = 0; i < count; i++) {
                struct fdisk_partition *pa = fdisk_table_get_partition(tb, i);  /* borrowed */

                if (pa && fdisk_partition_is_used(pa) && fill_part(cxt, pa, is_gpt,
                                                                   &img->parts[n]) == 0)
                        n++;
        }
        img->n_parts = n;
        ret = 0;
out:
        free(id);
        fdisk_unref_table(tb);                          /* both accept NULL */
        fdisk_unref_context(cxt);
        return ret;
}
