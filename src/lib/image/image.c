/* SPDX-License-Identifier: Apache-2.0 */
/* The image file: open, lock, recognise, and the partitions it holds. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/file.h"
#include "image/image.h"

/* How long an open waits for another balena-img's lock (bimg_set_lock_wait). */
static unsigned lock_wait_seconds;

void bimg_set_lock_wait(unsigned seconds)
{
        lock_wait_seconds = seconds;
}

/* flock without blocking, retried every 50 ms until the wait is over: a
 * blocking flock could not be given up on time. errno is EWOULDBLOCK when
 * the lock stayed taken. */
static int take_lock(int fd, bool writable)
{
        struct timespec pause = { 0, 50 * 1000 * 1000 }, start, now;

        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                if (flock(fd, (writable ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
                        return 0;
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return -1;
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (now.tv_sec - start.tv_sec >= (time_t)lock_wait_seconds) {
                        errno = EWOULDBLOCK;
                        return -1;
                }
                nanosleep(&pause, NULL);
        }
}

#define MIB (1024.0 * 1024.0)

void image_warn(const struct bimg_image *img, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        if (!img->warn)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        img->warn(msg, img->warn_data);
}

static ssize_t read_head(int fd, unsigned char *buf, size_t size)
{
        size_t len = 0;

        while (len < size) {
                ssize_t n = pread(fd, buf + len, size - len, (off_t)len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -1;
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        return (ssize_t)len;
}

/* No partition table: say what the file is instead, when we can tell. */
static void explain_not_image(struct bimg_image *img, struct bimg_error *err)
{
        unsigned char head[2048];
        const char *format, *hint;
        ssize_t len = read_head(img->fd, head, sizeof(head));

        if (len <= 0)
                return;
        format = sniff_format(head, (size_t)len, &hint);
        if (!format)
                return;
        *err = (struct bimg_error){ 0 };
        bimg_fail(err, BIMG_E_NOT_FOUND, "'%s' is %s, not a disk image; %s", img->path, format,
                  hint);
}

/* A partition that runs past the end of the file means a cut-off download or copy. */
static int check_truncation(struct bimg_image *img, struct bimg_error *err)
{
        for (size_t i = 0; i < img->n_parts; i++) {
                const struct bimg_part *p = &img->parts[i];
                uint64_t end = p->offset + p->size;

                if (p->container || end <= img->size)
                        continue;
                return bimg_fail(err, BIMG_E_NOT_FOUND,
                                 "'%s' is truncated: partition %u%s%s%s ends at %.1f MiB but "
                                 "the file is only %.1f MiB; download or copy it again",
                                 img->path, p->number, p->name[0] ? " '" : "", p->name,
                                 p->name[0] ? "'" : "", (double)end / MIB,
                                 (double)img->size / MIB);
        }
        return 0;
}

/* A protective MBR (type 0xee) read as the table means libfdisk found no usable GPT
 * header behind it: a cut-off download, or a damaged disk. */
static int check_protective_only(struct bimg_image *img, struct bimg_error *err)
{
        for (size_t i = 0; i < img->n_parts; i++)
                if (strcmp(img->table_type, "dos") == 0 && strcmp(img->parts[i].type, "0xee") == 0)
                        return bimg_fail(err, BIMG_E_NOT_FOUND, "'%s' has the protective MBR of a "
                                         "GPT disk but no readable GPT: the image is truncated "
                                         "or damaged; download or copy it again", img->path);
        return 0;
}

/* A compressed image is read from an unpacked copy: a temporary file, unlinked at
 * once, so it goes away with the handle whatever happens. Changes need -o. */
static int unpack(struct bimg_image *img, struct bimg_error *err)
{
        struct stat st;
        int fd;

        if (img->writable)
                return bimg_fail(err, BIMG_E_USAGE, "'%s' is compressed; give -o OUT.img to "
                                 "write the changed image (the input is never changed)",
                                 img->path);
        fd = file_nameless(NULL);
        if (fd < 0)
                return bimg_fail_errno(err, BIMG_E_IO, errno, "cannot unpack '%s'", img->path);
        if (uncompress_image(img->fd, img->path, fd, err) < 0 || fstat(fd, &st) < 0) {
                if (err->status == BIMG_OK)
                        bimg_fail_errno(err, BIMG_E_IO, errno, "cannot unpack '%s'", img->path);
                close(fd);
                return -1;
        }
        close(img->fd);                 /* the compressed file: read, and unlocked */
        img->fd = fd;
        img->size = (uint64_t)st.st_size;
        return 0;
}

/* The lock, or an error saying who holds it and what to do. */
static int lock_or_explain(int fd, bool writable, const char *name, struct bimg_error *err)
{
        if (take_lock(fd, writable) < 0) {
                int e = errno;

                if (e == EWOULDBLOCK && lock_wait_seconds)
                        return bimg_fail(err, BIMG_E_IO, "'%s' is still in use by another "
                                         "balena-img that is %s it after %u s; wait longer "
                                         "(--wait) or retry when it has finished", name,
                                         writable ? "reading or changing" : "changing",
                                         lock_wait_seconds);
                if (e == EWOULDBLOCK)
                        return bimg_fail(err, BIMG_E_IO, "'%s' is in use by another balena-img "
                                         "that is %s it; retry when it has finished, or give "
                                         "--wait SECONDS", name,
                                         writable ? "reading or changing" : "changing");
                return bimg_fail_errno(err, BIMG_E_IO, e, "cannot lock '%s'", name);
        }
        return 0;
}

/* A reader found an unfinished change: undo it through a writable fd of its own
 * under the exclusive lock, then the reader locks again and looks again. */
static int undo_for_reader(const char *path, const char *journal, const char *name,
                           struct bimg_error *err)
{
        int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY), r;

        if (fd < 0)
                return bimg_fail_errno(err, BIMG_E_IO, errno, "'%s' has an unfinished change "
                                       "(an interrupted balena-img) that must be undone first, "
                                       "but it cannot be written; run balena-img on it as a "
                                       "user who can write it and its folder", name);
        r = lock_or_explain(fd, true, name, err);
        if (r == 0)
                r = journal_roll_back(journal, fd, name, err);
        close(fd);                      /* releases the exclusive lock */
        return r;
}

/* Take the lock; then, before anything reads the image, undo a change a killed
 * balena-img left unfinished. */
static int lock_undone(const char *path, const char *journal, const char *name, int fd,
                       bool writable, struct bimg_error *err)
{
        int r;

        for (;;) {
                r = lock_or_explain(fd, writable, name, err);
                if (r == 0)
                        r = journal_pending(journal, name, err);
                if (r <= 0)
                        break;
                if (writable) {
                        r = journal_roll_back(journal, fd, name, err);
                        break;
                }
                flock(fd, LOCK_UN);
                if (undo_for_reader(path, journal, name, err) < 0) {
                        r = -1;
                        break;
                }
        }
        return r;
}

static int open_locked(const char *path, const char *journal, const char *name,
                       bool writable, int *ret_fd, uint64_t *ret_size, struct bimg_error *err)
{
        struct stat st;
        int fd;

        fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && errno == EISDIR)
                return bimg_fail(err, BIMG_E_NOT_FOUND, "'%s' is a folder, not a disk image file",
                                 name);
        if (fd < 0)
                return bimg_fail_errno(err, errno == ENOENT ? BIMG_E_NOT_FOUND : BIMG_E_IO,
                                       errno, "cannot open '%s'", name);
        if (fstat(fd, &st) < 0) {
                close(fd);
                return bimg_fail_errno(err, BIMG_E_IO, errno, "cannot open '%s'", name);
        }
        if (!S_ISREG(st.st_mode)) {
                close(fd);
                return bimg_fail(err, BIMG_E_NOT_FOUND, "'%s' is %s, not a disk image file",
                                 name, S_ISDIR(st.st_mode) ? "a folder" : "not a regular file");
        }
        if (st.st_size == 0) {
                close(fd);
                return bimg_fail(err, BIMG_E_NOT_FOUND, "'%s' is empty (0 bytes), not a disk "
                                 "image", name);
        }
        if (lock_undone(path, journal, name, fd, writable, err) < 0) {
                close(fd);
                return -1;
        }
        *ret_fd = fd;
        *ret_size = (uint64_t)st.st_size;
        return 0;
}

int bimg_image_open(const char *path, unsigned flags, struct bimg_image **ret_img,
                    struct bimg_error *err)
{
        return bimg_image_open_as(path, path, flags, ret_img, err);
}

int bimg_image_open_as(const char *path, const char *name, unsigned flags,
                       struct bimg_image **ret_img, struct bimg_error *err)
{
        bool writable = flags & BIMG_OPEN_WRITE;
        struct bimg_image *img;
        char *journal = NULL;
        uint64_t size = 0;
        int fd = -1;

        if (journal_path(path, &journal, err) < 0)
                return -1;
        if (open_locked(path, journal, name, writable, &fd, &size, err) < 0) {
                free(journal);
                return -1;
        }
        img = calloc(1, sizeof(*img));
        if (img)
                img->path = strdup(name);
        if (!img || !img->path) {
                free(img);
                free(journal);
                close(fd);
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        }
        img->fd = fd;                                   /* img owns fd and journal from here */
        img->journal = journal;
        img->journal_fd = -1;
        img->writable = writable;
        img->private_copy = writable && (flags & BIMG_OPEN_PRIVATE);
        img->size = size;
        if (sniff_compressed(fd) && unpack(img, err) < 0)
                goto fail;
        if (ptable_read(img, err) < 0) {
                explain_not_image(img, err);
                goto fail;
        }
        if (img->n_parts == 0) {
                bimg_fail(err, BIMG_E_NOT_FOUND, "'%s' has an empty %s partition table; it is "
                          "not a balenaOS image", name, img->table_type);
                goto fail;
        }
        if (check_protective_only(img, err) < 0 || check_truncation(img, err) < 0 ||
            probe_parts(img, err) < 0)
                goto fail;
        *ret_img = img;
        return 0;
fail:
        bimg_image_close(img);
        return -1;
}

void bimg_image_close(struct bimg_image *img)
{
        if (!img)
                return;
        if (img->fs_slots_free)
                img->fs_slots_free(img);
        journal_drop(img);
        if (img->fd >= 0)
                close(img->fd);                         /* releases the flock */
        free(img->parts);
        free(img->path);
        free(img->journal);
        free(img);
}

void bimg_image_set_warn(struct bimg_image *img, bimg_warn_fn fn, void *data)
{
        img->warn = fn;
        img->warn_data = data;
}

const char *bimg_image_path(const struct bimg_image *img)
{
        return img->path;
}

uint64_t bimg_image_size(const struct bimg_image *img)
{
        return img->size;
}

const char *bimg_image_table_type(const struct bimg_image *img)
{
        return img->table_type;
}

const char *bimg_image_disk_id(const struct bimg_image *img)
{
        return img->disk_id;
}

size_t bimg_image_part_count(const struct bimg_image *img)
{
        return img->n_parts;
}

const struct bimg_part *bimg_image_part(const struct bimg_image *img, size_t index)
{
        return index < img->n_parts ? &img->parts[index] : NULL;
}

const char *bimg_fskind_name(enum bimg_fskind kind)
{
        switch (kind) {
        case BIMG_FS_VFAT:
                return "vfat";
        case BIMG_FS_EXT:
                return "ext";
        case BIMG_FS_LUKS:
                return "luks";
        case BIMG_FS_OTHER:
                return "other";
        case BIMG_FS_NONE:
        default:
                return "none";
        }
}
