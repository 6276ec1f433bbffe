/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"

int file_read_fd(int fd, size_t max, const char *name, char **ret, size_t *ret_len,
                 struct bimg_error *err)
{
        struct stat st;
        size_t len = 0, size;
        char *buf;

        if (fstat(fd, &st) < 0)
                return bimg_fail_errno(err, BIMG_E_IO, errno, "cannot read '%s'", name);
        if ((uint64_t)st.st_size > max) {
                char have[32], limit[32];

                file_size_text((uint64_t)st.st_size, have, sizeof(have));
                file_size_text(max, limit, sizeof(limit));
                return bimg_fail(err, BIMG_E_INVALID, "'%s' is %s; the limit is %s", name, have,
                                 limit);
        }
        size = (size_t)st.st_size;
        buf = malloc(size + 1);
        if (!buf)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        while (len < size) {
                ssize_t n = pread(fd, buf + len, size - len, (off_t)len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {   /* 0: it shrank while being read */
                        free(buf);
                        return bimg_fail_errno(err, BIMG_E_IO, n < 0 ? errno : EIO,
                                               "cannot read '%s'", name);
                }
                len += (size_t)n;
        }
        buf[len] = '\0';
        *ret = buf;
        *ret_len = len;
        return 0;
}

int file_read_path(const char *path, size_t max, char **ret, size_t *ret_len,
                   struct bimg_error *err)
{
        struct stat st;
        int fd, r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return bimg_fail_errno(err, errno == ENOENT ? BIMG_E_NOT_FOUND : BIMG_E_IO, errno,
                                       "cannot read '%s'", path);
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return bimg_fail(err, BIMG_E_INVALID, "'%s' is not a regular file", path);
        }
        r = file_read_fd(fd, max, path, ret, ret_len, err);
        close(fd);
        return r;
}

void file_size_text(uint64_t bytes, char *buf, size_t size)
{
        if (bytes < 10 * 1024)
                snprintf(buf, size, "%llu bytes", (unsigned long long)bytes);
        else if (bytes < 1024 * 1024)
                snprintf(buf, size, "%.1f KiB", (double)bytes / 1024);
        else
                snprintf(buf, size, "%.1f MiB", (double)bytes / (1024 * 1024));
}

/* TMPDIR when the user set it to an absolute path, else NULL */
static const char *user_tmp_dir(void)
{
        const char *tmp = getenv("TMPDIR");

        return tmp && tmp[0] == '/' ? tmp : NULL;
}

const char *file_tmp_dir(void)
{
        const char *tmp = user_tmp_dir();

        return tmp ? tmp : "/tmp";
}

/* Memory-backed when the user did not choose: files that live a few
 * milliseconds cost journal work on an on-disk filesystem for nothing (1.6 ms
 * of an 18 ms configure on ext4). */
const char *file_scratch_dir(void)
{
        const char *tmp = user_tmp_dir();

        if (tmp)
                return tmp;
        return access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
}

int file_nameless(const char *dir)
{
        return open(dir ? dir : file_tmp_dir(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

int file_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int file_data_ranges_in(int fd, uint64_t from, uint64_t to, file_range_fn fn, void *data)
{
        uint64_t pos = from;

        while (pos < to) {
                off_t start = lseek(fd, (off_t)pos, SEEK_DATA), end;
                int r;

                if (start < 0)
                        return errno == ENXIO ? 0 : -errno;     /* ENXIO: only a hole is left */
                if ((uint64_t)start >= to)
                        return 0;
                end = lseek(fd, start, SEEK_HOLE);
                if (end < 0)
                        return -errno;
                if ((uint64_t)end > to)
                        end = (off_t)to;
                r = fn((uint64_t)start, (uint64_t)end, data);
                if (r != 0)
                        return r;
                pos = (uint64_t)end;
        }
        return 0;
}

int file_data_ranges(int fd, uint64_t size, file_range_fn fn, void *data)
{
        return file_data_ranges_in(fd, 0, size, fn, data);
}

/* pread or pwrite until len bytes went through (buf is only read when writing) */
static int transfer(int fd, char *buf, size_t len, uint64_t offset, bool writing)
{
        while (len > 0) {
                ssize_t n = writing ? pwrite(fd, buf, len, (off_t)offset)
                                    : pread(fd, buf, len, (off_t)offset);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                buf += n;
                len -= (size_t)n;
                offset += (uint64_t)n;
        }
        return 0;
}

int file_pread_all(int fd, void *buf, size_t len, uint64_t offset)
{
        return transfer(fd, buf, len, offset, false);
}

int file_pwrite_all(int fd, const void *buf, size_t len, uint64_t offset)
{
        return transfer(fd, (char *)buf, len, offset, true);
}

#define ZERO_BLOCK 4096u        /* what a filesystem can leave a hole */

static bool all_zero(const char *p, size_t len)
{
        return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

int file_pwrite_sparse(int fd, const void *buf, size_t len, uint64_t offset)
{
        const char *p = buf;
        size_t from = 0, b = 0;         /* from: where the run of data began */
        int r = 0;

        while (r == 0 && b < len) {
                size_t n = len - b < ZERO_BLOCK ? len - b : ZERO_BLOCK;

                if (all_zero(p + b, n)) {
                        if (from < b)
                                r = file_pwrite_all(fd, p + from, b - from, offset + from);
                        from = b + n;
                }
                b += n;
        }
        if (r == 0 && from < len)
                r = file_pwrite_all(fd, p + from, len - from, offset + from);
        return r;
}

/* Plain pread/pwrite, where copy_file_range is not offered (another
 * filesystem: EXDEV on this kernel). */
static int copy_by_hand(int in, uint64_t in_off, int out, uint64_t out_off, uint64_t len)
{
        size_t size = 1u << 20;
        char *buf = malloc(size);       /* not static: batch copies in several threads */
        int r = buf ? 0 : -ENOMEM;

        while (r == 0 && len > 0) {
                size_t n = len < size ? (size_t)len : size;

                r = file_pread_all(in, buf, n, in_off);
                if (r == 0)
                        r = file_pwrite_all(out, buf, n, out_off);
                in_off += n;
                out_off += n;
                len -= n;
        }
        free(buf);
        return r;
}

int file_copy(int in, uint64_t in_off, int out, uint64_t out_off, uint64_t len)
{
        off_t from = (off_t)in_off, to = (off_t)out_off;

        while (len > 0) {
                ssize_t n = copy_file_range(in, &from, out, &to, len > (1u << 30) ? 1u << 30
                                                                                  : len, 0);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP ||
                              errno == ENOSYS))
                        return copy_by_hand(in, (uint64_t)from, out, (uint64_t)to, len);
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                len -= (uint64_t)n;
        }
        return 0;
}
