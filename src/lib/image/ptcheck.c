/* SPDX-License-Identifier: Apache-2.0 */
/* Partition table sanity for verify: bounds, overlaps, the extended container. */
#include <errno.h>
#include <inttypes.h>
#include <libfdisk.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/ptcheck.h"

#define MAX_PARTS 256

struct span {
        unsigned number;
        uint64_t start, end;    /* sectors, [start, end) */
        bool container, logical;
};

struct ask_data {
        ptcheck_fn fn;
        void *data;
};

static int ask_cb(struct fdisk_context *cxt, struct fdisk_ask *ask, void *data)
{
        struct ask_data *a = data;
        int type = fdisk_ask_get_type(ask);

        if (type == FDISK_ASKTYPE_WARN || type == FDISK_ASKTYPE_WARNX) {
                const char *msg = fdisk_ask_print_get_mesg(ask);

                if (msg)
                        a->fn(false, 0, msg, a->data);
                return 0;
        }
        if (type == FDISK_ASKTYPE_INFO)
                return 0;
        return -EINVAL;         /* never answer questions: we only read */
}

static double mib(uint64_t sectors, uint64_t ss)
{
        return (double)(sectors * ss) / (1024.0 * 1024.0);
}

static void report(ptcheck_fn fn, void *data, unsigned part, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void report(ptcheck_fn fn, void *data, unsigned part, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        fn(true, part, msg, data);
}

static void check_overlaps(const struct span *s, size_t n, uint64_t ss, ptcheck_fn fn, void *data)
{
        for (size_t i = 0; i < n; i++) {
                for (size_t j = i + 1; j < n; j++) {
                        uint64_t from = s[i].start > s[j].start ? s[i].start : s[j].start;
                        uint64_t to = s[i].end < s[j].end ? s[i].end : s[j].end;

                        /* the extended partition holds its logical ones by design */
                        if ((s[i].container && s[j].logical) || (s[j].container && s[i].logical))
                                continue;
                        if (from < to)
                                report(fn, data, s[j].number, "partitions %u and %u overlap by "
                                       "%" PRIu64 " sectors (%.1f MiB from %.1f MiB on)",
                                       s[i].number, s[j].number, to - from, mib(to - from, ss),
                                       mib(from, ss));
                }
        }
}

int ptcheck_run(int fd, const char *name, uint64_t size, ptcheck_fn fn, void *data,
                struct bimg_error *err)
{
        struct ask_data a = { .fn = fn, .data = data };
        struct fdisk_context *cxt = NULL;
        struct fdisk_table *tb = NULL;
        struct span *s = NULL, *ext = NULL;
        char devname[64];
        uint64_t ss, first, last, image_sectors;
        bool is_gpt;
        size_t n = 0;
        int r, ret = -1;

        cxt = fdisk_new_context();
        s = calloc(MAX_PARTS, sizeof(*s));
        if (!cxt || !s) {
                bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                goto out;
        }
        fdisk_set_ask(cxt, ask_cb, &a);
        snprintf(devname, sizeof(devname), "/proc/self/fd/%d", fd);
        r = fdisk_assign_device(cxt, devname, /* readonly= */ 1);
        if (r == 0 && !fdisk_has_label(cxt))
                r = -ENOMSG;
        if (r == 0)
                r = fdisk_get_partitions(cxt, &tb);
        if (r < 0) {
                bimg_fail(err, BIMG_E_NOT_FOUND, "cannot read the partition table of '%s': %s",
                          name, r == -ENOMSG ? "there is none" : strerror(-r));
                goto out;
        }
        is_gpt = fdisk_is_label(cxt, GPT);
        ss = fdisk_get_sector_size(cxt);
        first = fdisk_get_first_lba(cxt);
        last = fdisk_get_last_lba(cxt);
        image_sectors = size / ss;
        for (size_t i = 0; i < fdisk_table_get_nents(tb) && n < MAX_PARTS; i++) {
                struct fdisk_partition *pa = fdisk_table_get_partition(tb, i);

                if (!pa || !fdisk_partition_is_used(pa) || !fdisk_partition_has_start(pa) ||
                    !fdisk_partition_has_size(pa) || !fdisk_partition_has_partno(pa))
                        continue;
                s[n] = (struct span){
                        .number = (unsigned)fdisk_partition_get_partno(pa) + 1,
                        .start = fdisk_partition_get_start(pa),
                        .container = fdisk_partition_is_container(pa) == 1,
                };
                s[n].end = s[n].start + fdisk_partition_get_size(pa);
                s[n].logical = !is_gpt && s[n].number > 4;
                if (s[n].container && !ext)
                        ext = &s[n];
                n++;
        }
        for (size_t i = 0; i < n; i++) {
                const struct span *p = &s[i];

                if (p->end > image_sectors)
                        report(fn, data, p->number, "partition %u ends at %.1f MiB, beyond the "
                               "end of the image (%.1f MiB): the image is truncated or the "
                               "table is wrong", p->number, mib(p->end, ss),
                               (double)size / (1024.0 * 1024.0));
                if (p->start == 0)
                        report(fn, data, p->number, "partition %u starts at sector 0, over the "
                               "partition table itself", p->number);
                else if (is_gpt && (p->start < first || p->end - 1 > last))
                        report(fn, data, p->number, "partition %u (sectors %" PRIu64 "-%" PRIu64
                               ") lies outside the GPT's usable sectors %" PRIu64 "-%" PRIu64,
                               p->number, p->start, p->end - 1, first, last);
                if (p->logical && ext && (p->start <= ext->start || p->end > ext->end))
                        report(fn, data, p->number, "logical partition %u lies outside the "
                               "extended partition %u", p->number, ext->number);
        }
        check_overlaps(s, n, ss, fn, data);
        ret = (int)n;
out:
        free(s);
        fdisk_unref_table(tb);
        fdisk_unref_context(cxt);
        return ret;
}
