/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Staging an in-place change: the tools change a private copy of a partition,
 * never the image; the ranges where the copy then differs are what the
 * journalled commit (journal.c) writes back.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "base/path.h"
#include "image/image.h"

/* Under malloc's mmap threshold (128 KiB): two 1 MiB buffers were fresh
 * mappings, each page faulted in and zeroed to compare a few hundred KiB of
 * FAT metadata (0.5 ms of a 15 ms configure; 0.16 ms with these). */
#define DIFF_CHUNK (64u * 1024)
#define DIFF_BLOCK 4096u        /* what a filesystem writes at once, at most one sector less */

/* A nameless file in the image's folder (same filesystem: copies can be
 * clones), else in TMPDIR; it goes away with its last fd, whatever happens. */
static int nameless_file(const char *beside, struct bimg_error *err)
{
        char dir[PATH_MAX];
        int fd;

        path_host_dir(beside, dir, sizeof(dir));
        fd = file_nameless(dir);
        if (fd < 0)
                fd = file_nameless(NULL);
        if (fd < 0)
                return bimg_fail_errno(err, BIMG_E_IO, errno, "cannot create a private copy "
                                       "of a partition beside '%s'", beside);
        return fd;
}

struct stage_copy {
        int in, out;
        uint64_t offset;        /* the partition's start in the image */
        const struct range_set *leave_out;
        size_t next;            /* the first of leave_out that may still matter */
};

/* Copy the image's data in [start, end) but what leave_out covers; the calls
 * come in order, so leave_out is walked once. */
static int copy_data(uint64_t start, uint64_t end, void *data)
{
        struct stage_copy *c = data;
        const struct range_set *skip = c->leave_out;
        uint64_t at = start - c->offset, to = end - c->offset;
        int r = 0;

        while (skip && c->next < skip->n && skip->r[c->next].end <= at)
                c->next++;
        for (size_t i = c->next; r == 0 && skip && i < skip->n && skip->r[i].start < to; i++) {
                if (skip->r[i].start > at)
                        r = file_copy(c->in, c->offset + at, c->out, at, skip->r[i].start - at);
                if (skip->r[i].end > at)
                        at = skip->r[i].end;
        }
        if (r == 0 && at < to)
                r = file_copy(c->in, c->offset + at, c->out, at, to - at);
        return r;
}

int stage_copy(const struct bimg_image *img, const struct bimg_part *part,
               const struct range_set *leave_out, int *ret_fd, struct bimg_error *err)
{
        struct file_clone_range clone;
        struct stage_copy c;
        int fd = nameless_file(img->journal, err), r;

        if (fd < 0)
                return -1;
        c = (struct stage_copy){ img->fd, fd, part->offset, leave_out, 0 };
        clone = (struct file_clone_range){ .src_fd = img->fd, .src_offset = part->offset,
                                           .src_length = part->size };
        r = ftruncate(fd, (off_t)part->size) < 0 ? -errno : 0;
        if (r == 0 && ioctl(fd, FICLONERANGE, &clone) < 0)
                r = file_data_ranges_in(img->fd, part->offset, part->offset + part->size,
                                        copy_data, &c);
        if (r < 0) {
                close(fd);
                return bimg_fail_errno(err, BIMG_E_IO, -r, "cannot copy partition %u of '%s'",
                                       part->number, img->path);
        }
        *ret_fd = fd;
        return 0;
}

struct diff {
        const struct bimg_image *img;
        const struct bimg_part *part;
        int fd;
        char *mine, *theirs;
        struct image_patch **patches;
        size_t *n;
};

static int add_patch(struct diff *d, uint64_t at, uint64_t len)
{
        struct image_patch *last = *d->n ? &(*d->patches)[*d->n - 1] : NULL, *grown;
        uint64_t offset = d->part->offset + at;

        if (last && last->src_fd == d->fd && last->offset + last->len == offset) {
                last->len += len;
                return 0;
        }
        grown = realloc(*d->patches, (*d->n + 1) * sizeof(*grown));
        if (!grown)
                return -ENOMEM;
        grown[*d->n] = (struct image_patch){ offset, len, d->fd, at };
        *d->patches = grown;
        ++*d->n;
        return 0;
}

static int diff_range(uint64_t start, uint64_t end, void *data)
{
        struct diff *d = data;

        for (uint64_t pos = start; pos < end; pos += DIFF_CHUNK) {
                size_t n = end - pos < DIFF_CHUNK ? (size_t)(end - pos) : DIFF_CHUNK;
                int r = file_pread_all(d->fd, d->mine, n, pos);

                if (r == 0)
                        r = file_pread_all(d->img->fd, d->theirs, n, d->part->offset + pos);
                for (size_t b = 0; r == 0 && b < n; b += DIFF_BLOCK) {
                        size_t len = n - b < DIFF_BLOCK ? n - b : DIFF_BLOCK;

                        if (memcmp(d->mine + b, d->theirs + b, len) != 0)
                                r = add_patch(d, pos + b, len);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int stage_diff(const struct bimg_image *img, const struct bimg_part *part, int fd,
               struct image_patch **patches, size_t *n, struct bimg_error *err)
{
        struct diff d = { img, part, fd, malloc(DIFF_CHUNK), malloc(DIFF_CHUNK), patches, n };
        struct stat st;
        int r;

        if (fstat(fd, &st) < 0)
                r = -errno;
        else if ((uint64_t)st.st_size > part->size)
                r = -EFBIG;     /* the tool wrote past the partition's end */
        else if (!d.mine || !d.theirs)
                r = -ENOMEM;
        else    /* the copy has data wherever the image had: only its data can differ */
                r = file_data_ranges_in(fd, 0, part->size, diff_range, &d);
        free(d.mine);
        free(d.theirs);
        if (r == -EFBIG)
                return bimg_fail(err, BIMG_E_INVALID, "the change would write past the end of "
                                 "partition %u of '%s'; nothing was written", part->number,
                                 img->path);
        if (r < 0)
                return bimg_fail_errno(err, BIMG_E_IO, -r, "cannot stage the change to '%s'",
                                       img->path);
        return 0;
}
