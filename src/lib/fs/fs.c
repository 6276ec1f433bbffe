/* SPDX-License-Identifier: Apache-2.0 */
/* The filesystem interface: picks a backend per partition, checks paths once. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "base/path.h"
#include "fs/fs.h"
#include "image/image.h"

static void describe(const struct bimg_part *part, char *out, size_t size)
{
        const char *label = part->label[0] ? part->label : part->name;

        if (label[0])
                snprintf(out, size, "partition %u '%s'", part->number, label);
        else
                snprintf(out, size, "partition %u", part->number);
}

static int unsupported(const struct bimg_part *part, struct bimg_error *err)
{
        char what[120];

        describe(part, what, sizeof(what));
        if (part->container)
                return bimg_fail(err, BIMG_E_UNSUPPORTED, "%s is the extended partition that "
                                 "holds the logical ones; it has no filesystem", what);
        switch (part->fskind) {
        case BIMG_FS_LUKS:
                return bimg_fail(err, BIMG_E_UNSUPPORTED, "%s is LUKS-encrypted (an installed "
                                 "secure-boot disk?); encrypted partitions cannot be read "
                                 "offline", what);
        case BIMG_FS_NONE:
                return bimg_fail(err, BIMG_E_UNSUPPORTED, "%s holds no recognisable filesystem "
                                 "(empty, or damaged)", what);
        default:
                return bimg_fail(err, BIMG_E_UNSUPPORTED, "%s holds a '%s' filesystem; only "
                                 "vfat and ext2/3/4 are supported", what, part->fstype);
        }
}

/* part's filesystem, found in fd at offset (the image, or a staged copy at 0) */
static int fs_open(int fd, uint64_t offset, const struct bimg_part *part, bool writable,
                   struct bimg_fs **ret_fs, struct bimg_error *err)
{
        const struct bimg_fs_ops *ops;
        struct bimg_fs *fs;

        if (part->container)
                ops = NULL;
        else if (part->fskind == BIMG_FS_VFAT)
                ops = &fat_ops;
        else if (part->fskind == BIMG_FS_EXT)
                ops = &ext4_ops;
        else
                ops = NULL;
        if (!ops)
                return unsupported(part, err);
        fs = calloc(1, sizeof(*fs));
        if (!fs)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        *fs = (struct bimg_fs){
                .ops = ops,
                .image_fd = fd,
                .offset = offset,
                .size = part->size,
                .writable = writable,
        };
        snprintf(fs->label, sizeof(fs->label), "%s", part->label);
        describe(part, fs->what, sizeof(fs->what));
        if (ops->open(fs, err) < 0) {
                free(fs);
                return -1;
        }
        *ret_fs = fs;
        return 0;
}

void fs_close(struct bimg_fs *fs)
{
        if (!fs)
                return;
        fs->ops->close(fs);
        free(fs);
}

static void free_slots(struct bimg_image *img)
{
        for (size_t i = 0; i < img->n_parts; i++)
                fs_close(img->fs_slots[i]);
        free(img->fs_slots);
        img->fs_slots = NULL;
}

int bimg_image_fs(struct bimg_image *img, const struct bimg_part *part,
                  struct bimg_fs **ret_fs, struct bimg_error *err)
{
        size_t i = (size_t)(part - img->parts);

        if (part < img->parts || i >= img->n_parts)
                return bimg_fail(err, BIMG_E_FAILURE, "partition does not belong to '%s'",
                                 img->path);
        if (!img->fs_slots) {
                img->fs_slots = calloc(img->n_parts, sizeof(*img->fs_slots));
                if (!img->fs_slots)
                        return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                img->fs_slots_free = free_slots;
        }
        if (!img->fs_slots[i] &&
            fs_open(img->fd, part->offset, part, img->writable, &img->fs_slots[i], err) < 0)
                return -1;
        *ret_fs = img->fs_slots[i];
        return 0;
}

int fs_open_copy(int fd, struct bimg_image *img, const struct bimg_part *part,
                 struct bimg_fs **ret_fs, struct bimg_error *err)
{
        size_t i = (size_t)(part - img->parts);
        struct bimg_fs *orig = img->fs_slots && i < img->n_parts ? img->fs_slots[i] : NULL;

        if (fs_open(fd, 0, part, true, ret_fs, err) < 0)
                return -1;
        /* the same bytes: what the plan looked up need not be looked up again */
        if (orig && orig->ops == (*ret_fs)->ops && orig->ops->take_cache)
                orig->ops->take_cache(*ret_fs, orig);
        return 0;
}

void fs_forget(struct bimg_image *img, const struct bimg_part *part)
{
        size_t i = (size_t)(part - img->parts);

        if (img->fs_slots && i < img->n_parts) {
                fs_close(img->fs_slots[i]);
                img->fs_slots[i] = NULL;
        }
}

const char *bimg_fs_type(const struct bimg_fs *fs)
{
        return fs->ops->name;
}

/* Every public call checks the path the same way before a backend sees it. */
#define NORMALIZE(fs, path, norm, err)                                                  \
        char norm[PATH_MAX];                                                            \
        if (path_normalize(path, norm, sizeof(norm), err) < 0) {                        \
                bimg_error_prefix(err, "%s", (fs)->what);                               \
                return -1;                                                              \
        }

static int need_writable(struct bimg_fs *fs, struct bimg_error *err)
{
        if (!fs->writable)
                return bimg_fail(err, BIMG_E_FAILURE, "%s was opened read-only", fs->what);
        return 0;
}

int bimg_fs_list(struct bimg_fs *fs, const char *dir, bimg_dirent_fn fn, void *data,
                 struct bimg_error *err)
{
        NORMALIZE(fs, dir, norm, err);
        return fs->ops->list(fs, norm, fn, data, err);
}

int bimg_fs_stat(struct bimg_fs *fs, const char *path, struct bimg_stat *ret_st,
                 struct bimg_error *err)
{
        NORMALIZE(fs, path, norm, err);
        return fs->ops->stat(fs, norm, ret_st, err);
}

int bimg_fs_lookup(struct bimg_fs *fs, const char *path, struct bimg_stat *ret_st,
                   struct bimg_error *err)
{
        struct bimg_error probe = { 0 };

        if (bimg_fs_stat(fs, path, ret_st, &probe) == 0)
                return 1;
        if (probe.status == BIMG_E_NOT_FOUND)
                return 0;
        return bimg_fail(err, probe.status, "%s", probe.message);
}

int bimg_fs_read_to_fd(struct bimg_fs *fs, const char *path, int fd, struct bimg_error *err)
{
        NORMALIZE(fs, path, norm, err);
        return fs->ops->read_to_fd(fs, norm, fd, err);
}

int bimg_fs_read_alloc(struct bimg_fs *fs, const char *path, size_t max_size,
                       char **ret_data, size_t *ret_size, struct bimg_error *err)
{
        struct bimg_stat st;
        int memfd, r;

        NORMALIZE(fs, path, norm, err);
        if (fs->ops->read_small && fs->ops->read_small(fs, norm, max_size, ret_data, ret_size))
                return 0;
        /* refuse oversized files before reading them (the stat is cached on FAT) */
        if (fs->ops->stat(fs, norm, &st, err) < 0)
                return -1;
        if (!st.is_symlink && st.size > max_size) {
                char is[32], limit[32];

                file_size_text(st.size, is, sizeof(is));
                file_size_text(max_size, limit, sizeof(limit));
                return bimg_fail(err, BIMG_E_INVALID, "%s: '%s' is %s; the limit is %s",
                                 fs->what, norm, is, limit);
        }
        memfd = memfd_create("bimg-read", MFD_CLOEXEC);
        if (memfd < 0)
                return bimg_fail_errno(err, BIMG_E_FAILURE, errno, "cannot read '%s'", norm);
        r = fs->ops->read_to_fd(fs, norm, memfd, err);
        if (r == 0 && file_read_fd(memfd, max_size, norm, ret_data, ret_size, err) < 0) {
                bimg_error_prefix(err, "%s", fs->what);
                r = -1;
        }
        close(memfd);
        return r;
}

int bimg_fs_write_from_file(struct bimg_fs *fs, const char *host_path, const char *path,
                            struct bimg_error *err)
{
        NORMALIZE(fs, path, norm, err);
        if (need_writable(fs, err) < 0)
                return -1;
        if (host_path[0] != '/')        /* mcopy would read a bare "-" as stdin */
                return bimg_fail(err, BIMG_E_FAILURE, "host path '%s' is not absolute",
                                 host_path);
        return fs->ops->write_from_file(fs, host_path, norm, err);
}

void fs_expect_change(struct bimg_fs *fs)
{
        if (fs->ops->expect_change)
                fs->ops->expect_change(fs);
}

void fs_leave_out(struct bimg_fs *fs, const char *const *paths, size_t n,
                  struct range_set *ret)
{
        *ret = (struct range_set){ 0 };
        if (fs->ops->leave_out)
                fs->ops->leave_out(fs, paths, n, ret);
}

int fs_write_files(struct bimg_fs *fs, const struct fs_put *puts, size_t n,
                   struct bimg_error *err)
{
        struct fs_put *norm;
        char (*paths)[PATH_MAX];
        int r = 0;

        if (!fs->ops->write_files || n < 2) {
                for (size_t i = 0; i < n && r == 0; i++)
                        r = bimg_fs_write_from_file(fs, puts[i].host_path, puts[i].path, err);
                return r;
        }
        if (need_writable(fs, err) < 0)
                return -1;
        norm = calloc(n, sizeof(*norm));
        paths = calloc(n, sizeof(*paths));
        if (!norm || !paths)
                r = bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        for (size_t i = 0; i < n && r == 0; i++) {
                if (path_normalize(puts[i].path, paths[i], sizeof(paths[i]), err) < 0) {
                        bimg_error_prefix(err, "%s", fs->what);
                        r = -1;
                } else if (puts[i].host_path[0] != '/') {
                        r = bimg_fail(err, BIMG_E_FAILURE, "host path '%s' is not absolute",
                                      puts[i].host_path);
                }
                norm[i] = (struct fs_put){ puts[i].host_path, paths[i] };
        }
        if (r == 0)
                r = fs->ops->write_files(fs, norm, n, err);
        free(norm);
        free(paths);
        return r;
}

int bimg_fs_mkdir(struct bimg_fs *fs, const char *path, struct bimg_error *err)
{
        NORMALIZE(fs, path, norm, err);
        if (need_writable(fs, err) < 0)
                return -1;
        return fs->ops->mkdir(fs, norm, err);
}

int bimg_fs_remove(struct bimg_fs *fs, const char *path, bool recursive,
                   struct bimg_error *err)
{
        NORMALIZE(fs, path, norm, err);
        if (need_writable(fs, err) < 0)
                return -1;
        return fs->ops->remove(fs, norm, recursive, err);
}

int bimg_fs_check_path(struct bimg_fs *fs, const char *path, struct bimg_error *err)
{
        NORMALIZE(fs, path, norm, err);
        return fs->ops->check_path ? fs->ops->check_path(fs, norm, err) : 0;
}

void bimg_fs_prefetch(struct bimg_fs *fs, const char *const *paths, size_t n)
{
        char norm[16][PATH_MAX];
        const char *ok[16];
        size_t k = 0;

        for (size_t i = 0; i < n && k < 16; i++) {
                struct bimg_error ignored = { 0 };

                if (path_normalize(paths[i], norm[k], sizeof(norm[k]), &ignored) == 0) {
                        ok[k] = norm[k];
                        k++;
                }
        }
        if (fs->ops->prefetch && k > 0)
                fs->ops->prefetch(fs, ok, k);
}

int bimg_fs_free_space(struct bimg_fs *fs, uint64_t *ret_bytes, struct bimg_error *err)
{
        return fs->ops->free_space(fs, ret_bytes, err);
}
