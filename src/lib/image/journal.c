/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Crash-safe in-place changes: a rollback journal beside the image.
 *
 * A commit first writes the original bytes of every range it is about to
 * change to IMAGE.balena-img-journal and syncs it, then marks the journal
 * armed and syncs again; only then does it write the new bytes into the image,
 * sync the image and remove the journal. The journal's file is made, and its
 * name synced, by journal_prepare() as soon as a change is known to come,
 * while the tools that make the change run. Killed at any instant, it leaves
 * either no journal (the image is as before, or as after) or an armed one,
 * which the next open of the image rolls back before anything reads it. An
 * unarmed journal means the image was never touched; it is just removed.
 *
 * The journal is written in host byte order: it never leaves the machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/file.h"
#include "base/path.h"
#include "image/image.h"

#define JOURNAL_SUFFIX ".balena-img-journal"
#define JOURNAL_MAGIC "BALENA-IMG-JRNL1"        /* 16 bytes, no NUL */

struct journal_header {
        char magic[16];
        uint64_t armed;         /* 0 while being written, 1 once complete and synced */
        uint64_t image_size;    /* the image it belongs to: size, device, inode */
        uint64_t image_dev;
        uint64_t image_ino;
        uint64_t n_extents;
        uint64_t data_bytes;    /* sum of the extents' lengths */
};

struct journal_extent {         /* followed by len original bytes */
        uint64_t offset;
        uint64_t len;
};

#define ARMED_AT offsetof(struct journal_header, armed)
#define STEP_CHUNK (64u * 1024)

/*
 * Test hooks, so a test can stop a commit at every step (the crash test):
 * BALENA_IMG_TEST_CRASH_STEP=N kills the process with SIGKILL at its Nth step;
 * BALENA_IMG_TEST_STEP_DELAY_MS=M sleeps M ms at each step, so kills timed from
 * outside land inside the commit too.
 */
static void step(void)
{
        static long crash_at = -1, delay_ms = -1, count;
        const char *s;

        if (crash_at < 0) {
                s = getenv("BALENA_IMG_TEST_CRASH_STEP");
                crash_at = s ? strtol(s, NULL, 10) : 0;
                s = getenv("BALENA_IMG_TEST_STEP_DELAY_MS");
                delay_ms = s ? strtol(s, NULL, 10) : 0;
        }
        if (delay_ms > 0)
                nanosleep(&(struct timespec){ delay_ms / 1000, (delay_ms % 1000) * 1000000 },
                          NULL);
        if (crash_at > 0 && ++count == crash_at)
                raise(SIGKILL);
}

int journal_path(const char *image_path, char **ret, struct bimg_error *err)
{
        char real[PATH_MAX];

        /* beside the file, not a symlink to it; a path that does not resolve
         * fails to open later, with the better message */
        if (asprintf(ret, "%s" JOURNAL_SUFFIX, realpath(image_path, real) ? real
                                                                          : image_path) < 0)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        return 0;
}

/* Sync the folder holding path, so a name made or removed there lasts. */
static int sync_parent(const char *path)
{
        char dir[PATH_MAX];
        int fd, r;

        path_host_dir(path, dir, sizeof(dir));
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = fsync(fd) < 0 ? -errno : 0;
        close(fd);
        return r;
}

static int read_header(int fd, struct journal_header *h, uint64_t *ret_file_size)
{
        struct stat st;
        int r;

        if (fstat(fd, &st) < 0)
                return -errno;
        *ret_file_size = (uint64_t)st.st_size;
        if ((uint64_t)st.st_size < sizeof(*h))
                return -EBADMSG;
        r = file_pread_all(fd, h, sizeof(*h), 0);
        if (r < 0)
                return r;
        return memcmp(h->magic, JOURNAL_MAGIC, sizeof(h->magic)) == 0 ? 0 : -EBADMSG;
}

int journal_pending(const char *journal, const char *name, struct bimg_error *err)
{
        struct journal_header h;
        uint64_t file_size;
        int fd, r;

        fd = open(journal, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT)
                return 0;
        if (fd < 0)
                return bimg_fail_errno(err, BIMG_E_IO, errno, "'%s' has an unfinished change, "
                                       "but its journal '%s' cannot be read", name, journal);
        r = read_header(fd, &h, &file_size);
        close(fd);
        if (r == 0 && h.armed)
                return 1;
        if (r < 0 && r != -EBADMSG)
                return bimg_fail_errno(err, BIMG_E_IO, -r, "cannot read the journal '%s' of "
                                       "'%s'", journal, name);
        /* never armed (or cut off before its header was whole): the image was not
         * touched, and the journal is of no use (if it cannot go, the next writer
         * says so) */
        unlink(journal);
        return 0;
}

/* Check the whole journal before the first byte goes back. */
static int check_journal(int jfd, int image_fd, const char *journal, const char *name,
                         struct journal_header *h, struct bimg_error *err)
{
        uint64_t file_size, pos, data = 0;
        struct stat st;
        int r = read_header(jfd, h, &file_size);

        if (r < 0 || fstat(image_fd, &st) < 0)
                return bimg_fail_errno(err, BIMG_E_IO, r < 0 ? -r : errno, "cannot read the "
                                       "journal '%s' of '%s'", journal, name);
        if (h->image_size != (uint64_t)st.st_size || h->image_dev != (uint64_t)st.st_dev ||
            h->image_ino != (uint64_t)st.st_ino)
                return bimg_fail(err, BIMG_E_INVALID, "the journal '%s' belongs to another "
                                 "file than '%s' (an unfinished change to a file that was then "
                                 "replaced?); remove the journal if '%s' is what you want",
                                 journal, name, name);
        pos = sizeof(*h);
        for (uint64_t i = 0; i < h->n_extents; i++) {
                struct journal_extent e;

                if (pos + sizeof(e) > file_size ||
                    file_pread_all(jfd, &e, sizeof(e), pos) < 0 ||
                    e.offset > h->image_size || e.len > h->image_size - e.offset ||
                    e.len > file_size - pos - sizeof(e))
                        return bimg_fail(err, BIMG_E_INVALID, "the journal '%s' of '%s' is "
                                         "damaged; nothing was rolled back", journal, name);
                pos += sizeof(e) + e.len;
                data += e.len;
        }
        if (pos != file_size || data != h->data_bytes)
                return bimg_fail(err, BIMG_E_INVALID, "the journal '%s' of '%s' is damaged; "
                                 "nothing was rolled back", journal, name);
        return 0;
}

/* Put every journalled range back into the image and sync it. */
static int restore_extents(int jfd, int image_fd, const struct journal_header *h)
{
        uint64_t pos = sizeof(*h);

        for (uint64_t i = 0; i < h->n_extents; i++) {
                struct journal_extent e;
                int r = file_pread_all(jfd, &e, sizeof(e), pos);

                pos += sizeof(e);
                for (uint64_t done = 0; r == 0 && done < e.len; done += STEP_CHUNK) {
                        uint64_t n = e.len - done < STEP_CHUNK ? e.len - done : STEP_CHUNK;

                        r = file_copy(jfd, pos + done, image_fd, e.offset + done, n);
                        step();
                }
                if (r < 0)
                        return r;
                pos += e.len;
        }
        return fsync(image_fd) < 0 ? -errno : 0;
}

int journal_roll_back(const char *journal, int image_fd, const char *name,
                      struct bimg_error *err)
{
        struct journal_header h;
        int jfd, r;

        jfd = open(journal, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (jfd < 0 && errno == ENOENT)
                return 0;               /* someone else rolled it back meanwhile */
        if (jfd < 0)
                return bimg_fail_errno(err, BIMG_E_IO, errno, "cannot read the journal '%s' "
                                       "of '%s'", journal, name);
        if (check_journal(jfd, image_fd, journal, name, &h, err) < 0) {
                close(jfd);
                return -1;
        }
        r = h.armed ? restore_extents(jfd, image_fd, &h) : 0;
        close(jfd);
        if (r < 0)
                return bimg_fail_errno(err, BIMG_E_IO, -r, "cannot undo the unfinished change "
                                       "to '%s' from its journal '%s'", name, journal);
        step();
        if (unlink(journal) < 0 && errno != ENOENT)
                return bimg_fail_errno(err, BIMG_E_IO, errno, "'%s' was restored, but its "
                                       "journal '%s' cannot be removed", name, journal);
        step();
        sync_parent(journal);
        return 0;
}

/* Write the journal: header, then each range's original bytes; synced, then armed. */
static int write_journal(int jfd, const struct bimg_image *img, const struct image_patch *p,
                         size_t n)
{
        struct journal_header h = { .n_extents = n };
        uint64_t pos = sizeof(h);
        struct stat st;
        int r;

        if (fstat(img->fd, &st) < 0)
                return -errno;
        memcpy(h.magic, JOURNAL_MAGIC, sizeof(h.magic));
        h.image_size = (uint64_t)st.st_size;
        h.image_dev = (uint64_t)st.st_dev;
        h.image_ino = (uint64_t)st.st_ino;
        for (size_t i = 0; i < n; i++)
                h.data_bytes += p[i].len;
        r = file_pwrite_all(jfd, &h, sizeof(h), 0);
        for (size_t i = 0; r == 0 && i < n; i++) {
                struct journal_extent e = { p[i].offset, p[i].len };

                r = file_pwrite_all(jfd, &e, sizeof(e), pos);
                pos += sizeof(e);
                for (uint64_t done = 0; r == 0 && done < e.len; done += STEP_CHUNK) {
                        uint64_t len = e.len - done < STEP_CHUNK ? e.len - done : STEP_CHUNK;

                        r = file_copy(img->fd, e.offset + done, jfd, pos + done, len);
                        step();
                }
                pos += e.len;
        }
        if (r == 0 && fsync(jfd) < 0)
                r = -errno;
        step();
        h.armed = 1;
        if (r == 0)
                r = file_pwrite_all(jfd, &h.armed, sizeof(h.armed), ARMED_AT);
        if (r == 0 && fdatasync(jfd) < 0)      /* the size is synced already */
                r = -errno;
        return r;
}

/* The new bytes into the image; blocks for holes are reserved first, so a full
 * disk shows before the journal is armed rather than halfway through. */
static int reserve(const struct bimg_image *img, const struct image_patch *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (fallocate(img->fd, FALLOC_FL_KEEP_SIZE, (off_t)p[i].offset,
                              (off_t)p[i].len) < 0 && errno != EOPNOTSUPP && errno != ENOSYS)
                        return -errno;
        return 0;
}

static int write_patches(const struct bimg_image *img, const struct image_patch *p, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                for (uint64_t done = 0; done < p[i].len; done += STEP_CHUNK) {
                        uint64_t len = p[i].len - done < STEP_CHUNK ? p[i].len - done
                                                                   : STEP_CHUNK;
                        int r = file_copy(p[i].src_fd, p[i].src_offset + done, img->fd,
                                          p[i].offset + done, len);

                        step();
                        if (r < 0)
                                return r;
                }
        }
        /* the image's size stays: only its data, and the blocks reserve() gave
         * it, need to reach the disk */
        return fdatasync(img->fd) < 0 ? -errno : 0;
}

static int create_journal(const struct bimg_image *img)
{
        return open(img->journal, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
}

void journal_prepare(struct bimg_image *img)
{
        if (img->journal_fd >= 0)
                return;
        img->journal_fd = create_journal(img);
        if (img->journal_fd >= 0 && sync_parent(img->journal) < 0)
                journal_drop(img);      /* journal_commit() tries again, and says why */
        step();                         /* a kill here leaves an empty, unarmed journal */
}

void journal_drop(struct bimg_image *img)
{
        if (img->journal_fd < 0)
                return;
        unlink(img->journal);
        close(img->journal_fd);
        img->journal_fd = -1;
}

int journal_commit(struct bimg_image *img, const struct image_patch *p, size_t n,
                   struct bimg_error *err)
{
        bool named = img->journal_fd >= 0;      /* made and synced by journal_prepare() */
        int jfd, r;

        if (n == 0) {
                journal_drop(img);
                return 0;
        }
        r = reserve(img, p, n);
        if (r < 0) {
                journal_drop(img);
                return bimg_fail_errno(err, BIMG_E_IO, -r, "cannot write '%s'", img->path);
        }
        jfd = named ? img->journal_fd : create_journal(img);
        img->journal_fd = -1;           /* this commit owns it from here */
        if (jfd < 0)
                return bimg_fail_errno(err, BIMG_E_IO, errno, "cannot create the journal '%s' "
                                       "beside '%s' (its folder must be writable to change it "
                                       "in place; or give -o OUT)", img->journal, img->path);
        step();
        r = write_journal(jfd, img, p, n);
        if (r == 0 && !named)
                r = sync_parent(img->journal);
        if (r < 0) {                    /* not armed, or not surely: the image is untouched */
                close(jfd);
                unlink(img->journal);
                return bimg_fail_errno(err, BIMG_E_IO, -r, "cannot write the journal '%s' of "
                                       "'%s'", img->journal, img->path);
        }
        step();
        r = write_patches(img, p, n);
        if (r < 0) {
                struct bimg_error undo = { 0 };
                int e = -r;

                close(jfd);
                if (journal_roll_back(img->journal, img->fd, img->path, &undo) < 0)
                        return bimg_fail_errno(err, BIMG_E_IO, e, "cannot write '%s' (it is "
                                               "restored from its journal on the next open)",
                                               img->path);
                return bimg_fail_errno(err, BIMG_E_IO, e, "cannot write '%s' (it was restored "
                                       "as it was)", img->path);
        }
        step();
        if (unlink(img->journal) < 0) {
                int e = errno;
                uint64_t spent = 0;     /* disarmed, so no later open undoes the change */

                file_pwrite_all(jfd, &spent, sizeof(spent), ARMED_AT);
                fsync(jfd);
                close(jfd);
                return bimg_fail_errno(err, BIMG_E_IO, e, "'%s' was changed, but its spent "
                                       "journal '%s' cannot be removed", img->path,
                                       img->journal);
        }
        close(jfd);
        step();
        sync_parent(img->journal);
        return 0;
}
