/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compressed output images, written with libarchive, which is loaded with
 * dlopen on first use (style guide 2.8): .img.gz, .img.xz and .img.zst are one
 * compressed stream of the raw image, .zip an archive with one member NAME.img.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dl.h"
#include "base/file.h"
#include "base/path.h"
#include "base/progress.h"
#include "image/image.h"

static typeof(archive_write_new) *sym_archive_write_new;
static typeof(archive_write_free) *sym_archive_write_free;
static typeof(archive_write_add_filter_gzip) *sym_archive_write_add_filter_gzip;
static typeof(archive_write_add_filter_xz) *sym_archive_write_add_filter_xz;
static typeof(archive_write_add_filter_zstd) *sym_archive_write_add_filter_zstd;
static typeof(archive_write_set_format_raw) *sym_archive_write_set_format_raw;
static typeof(archive_write_set_format_zip) *sym_archive_write_set_format_zip;
static typeof(archive_write_set_filter_option) *sym_archive_write_set_filter_option;
static typeof(archive_write_open_filename) *sym_archive_write_open_filename;
static typeof(archive_write_header) *sym_archive_write_header;
static typeof(archive_write_data) *sym_archive_write_data;
static typeof(archive_write_close) *sym_archive_write_close;
static typeof(archive_error_string) *sym_archive_error_string;
static typeof(archive_entry_new) *sym_archive_entry_new;
static typeof(archive_entry_free) *sym_archive_entry_free;
static typeof(archive_entry_set_pathname) *sym_archive_entry_set_pathname;
static typeof(archive_entry_set_size) *sym_archive_entry_set_size;
static typeof(archive_entry_set_filetype) *sym_archive_entry_set_filetype;
static typeof(archive_entry_set_perm) *sym_archive_entry_set_perm;
static typeof(archive_read_new) *sym_archive_read_new;
static typeof(archive_read_free) *sym_archive_read_free;
static typeof(archive_read_support_filter_all) *sym_archive_read_support_filter_all;
static typeof(archive_read_support_format_raw) *sym_archive_read_support_format_raw;
static typeof(archive_read_support_format_zip) *sym_archive_read_support_format_zip;
static typeof(archive_read_open_fd) *sym_archive_read_open_fd;
static typeof(archive_read_next_header) *sym_archive_read_next_header;
static typeof(archive_read_data) *sym_archive_read_data;
static typeof(archive_entry_pathname) *sym_archive_entry_pathname;
static typeof(archive_format) *sym_archive_format;

static const struct dl_sym archive_syms[] = {
        DL_SYM(archive_write_new),
        DL_SYM(archive_write_free),
        DL_SYM(archive_write_add_filter_gzip),
        DL_SYM(archive_write_add_filter_xz),
        DL_SYM(archive_write_add_filter_zstd),
        DL_SYM(archive_write_set_format_raw),
        DL_SYM(archive_write_set_format_zip),
        DL_SYM(archive_write_set_filter_option),
        DL_SYM(archive_write_open_filename),
        DL_SYM(archive_write_header),
        DL_SYM(archive_write_data),
        DL_SYM(archive_write_close),
        DL_SYM(archive_error_string),
        DL_SYM(archive_entry_new),
        DL_SYM(archive_entry_free),
        DL_SYM(archive_entry_set_pathname),
        DL_SYM(archive_entry_set_size),
        DL_SYM(archive_entry_set_filetype),
        DL_SYM(archive_entry_set_perm),
        DL_SYM(archive_read_new),
        DL_SYM(archive_read_free),
        DL_SYM(archive_read_support_filter_all),
        DL_SYM(archive_read_support_format_raw),
        DL_SYM(archive_read_support_format_zip),
        DL_SYM(archive_read_open_fd),
        DL_SYM(archive_read_next_header),
        DL_SYM(archive_read_data),
        DL_SYM(archive_entry_pathname),
        DL_SYM(archive_format),
};

static struct dl_lib libarchive = {
        .soname = "libarchive.so.13",
        .package = "libarchive13",
        .purpose = "compressed images",
        .syms = archive_syms,
        .n_syms = sizeof(archive_syms) / sizeof(archive_syms[0]),
};

static int load(struct bimg_error *err);

static bool ends_with(const char *s, const char *end)
{
        size_t ls = strlen(s), le = strlen(end);

        return ls > le && strcmp(s + ls - le, end) == 0;
}

enum bimg_compression compress_kind(const char *name)
{
        if (ends_with(name, ".gz"))
                return BIMG_COMPRESS_GZIP;
        if (ends_with(name, ".xz"))
                return BIMG_COMPRESS_XZ;
        if (ends_with(name, ".zst"))
                return BIMG_COMPRESS_ZSTD;
        if (ends_with(name, ".zip"))
                return BIMG_COMPRESS_ZIP;
        return BIMG_COMPRESS_NONE;
}

/* The member of a zip: the output's name without .zip, ending in .img. */
static void member_name(const char *out, char *ret, size_t size)
{
        const char *base = path_basename(out);
        size_t len = strlen(base) - strlen(".zip");

        snprintf(ret, size, "%.*s%s", (int)len, base,
                 len > 4 && strncmp(base + len - 4, ".img", 4) == 0 ? "" : ".img");
}

/* xz and zstd compress on every core (libarchive's "threads" option; 0 would
 * mean the same to zstd but one thread to xz). */
static int use_all_cores(struct archive *a, const char *filter)
{
        char threads[24];
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        snprintf(threads, sizeof(threads), "%ld", n > 0 ? n : 1);
        /* an older libarchive without the option still compresses, on one core */
        return sym_archive_write_set_filter_option(a, filter, "threads", threads) ==
                               ARCHIVE_FATAL ? -1 : 0;
}

static int set_up(struct archive *a, enum bimg_compression kind)
{
        switch (kind) {
        case BIMG_COMPRESS_GZIP:
                return sym_archive_write_add_filter_gzip(a) == ARCHIVE_OK &&
                       sym_archive_write_set_format_raw(a) == ARCHIVE_OK ? 0 : -1;
        case BIMG_COMPRESS_XZ:
                return sym_archive_write_add_filter_xz(a) == ARCHIVE_OK &&
                       use_all_cores(a, "xz") == 0 &&
                       sym_archive_write_set_format_raw(a) == ARCHIVE_OK ? 0 : -1;
        case BIMG_COMPRESS_ZSTD:
                return sym_archive_write_add_filter_zstd(a) == ARCHIVE_OK &&
                       use_all_cores(a, "zstd") == 0 &&
                       sym_archive_write_set_format_raw(a) == ARCHIVE_OK ? 0 : -1;
        case BIMG_COMPRESS_ZIP:
                return sym_archive_write_set_format_zip(a) == ARCHIVE_OK ? 0 : -1;
        case BIMG_COMPRESS_NONE:
        default:
                return -1;
        }
}

int compress_image(const char *raw, const char *out_path, const char *final_name,
                   enum bimg_compression kind, struct bimg_error *err)
{
        struct archive_entry *entry = NULL;
        struct archive *a = NULL;
        char member[256], *buf = NULL;
        struct stat st;
        uint64_t done = 0;
        int fd, ret = -1;

        if (load(err) < 0)
                return -1;
        fd = open(raw, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
                if (fd >= 0)
                        close(fd);
                return bimg_fail_errno(err, BIMG_E_IO, errno, "cannot read '%s'", raw);
        }
        buf = malloc(1 << 20);
        a = sym_archive_write_new();
        entry = sym_archive_entry_new();
        if (!buf || !a || !entry) {
                bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                goto out;
        }
        member_name(final_name, member, sizeof(member));
        sym_archive_entry_set_pathname(entry, member);
        sym_archive_entry_set_size(entry, st.st_size);
        sym_archive_entry_set_filetype(entry, AE_IFREG);
        sym_archive_entry_set_perm(entry, 0644);
        if (set_up(a, kind) < 0 || sym_archive_write_open_filename(a, out_path) != ARCHIVE_OK ||
            sym_archive_write_header(a, entry) != ARCHIVE_OK)
                goto archive_error;
        for (;;) {
                ssize_t n = read(fd, buf, 1 << 20);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        bimg_fail_errno(err, BIMG_E_IO, errno, "cannot read '%s'", raw);
                        goto out;
                }
                if (n == 0)
                        break;
                if (sym_archive_write_data(a, buf, (size_t)n) != n)
                        goto archive_error;
                done += (uint64_t)n;
                progress_report("compressing", done, (uint64_t)st.st_size);
        }
        progress_report("compressing", (uint64_t)st.st_size, (uint64_t)st.st_size);
        if (sym_archive_write_close(a) != ARCHIVE_OK)
                goto archive_error;
        ret = 0;
        goto out;
archive_error:
        bimg_fail(err, BIMG_E_IO, "cannot write '%s': %s", final_name,
                  sym_archive_error_string(a) ? sym_archive_error_string(a) : "libarchive failed");
out:
        if (entry)
                sym_archive_entry_free(entry);
        if (a)
                sym_archive_write_free(a);
        free(buf);
        close(fd);
        return ret;
}

static int load(struct bimg_error *err)
{
        return dl_load(&libarchive, err);
}

int uncompress_image(int in, const char *path, int out_fd, struct bimg_error *err)
{
        struct archive_entry *entry;
        struct archive *a = NULL;
        char *buf = NULL;
        uint64_t pos = 0, packed;
        struct stat st;
        off_t off;
        bool found = false;
        int ret = -1, r;

        if (load(err) < 0)
                return -1;
        if (fstat(in, &st) < 0 || lseek(in, 0, SEEK_SET) < 0)
                return bimg_fail_errno(err, BIMG_E_IO, errno, "cannot read '%s'", path);
        packed = (uint64_t)st.st_size;
        buf = malloc(1 << 20);
        a = sym_archive_read_new();
        if (!buf || !a) {
                bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                goto out;
        }
        sym_archive_read_support_filter_all(a);
        sym_archive_read_support_format_zip(a);
        sym_archive_read_support_format_raw(a);
        if (sym_archive_read_open_fd(a, in, 1 << 20) != ARCHIVE_OK)
                goto archive_error;
        /* a compressed stream is the image itself (its "name" is whatever the gzip
         * header says); a zip holds it as its first member ending in .img */
        while (sym_archive_read_next_header(a, &entry) == ARCHIVE_OK) {
                const char *name = sym_archive_entry_pathname(entry);

                if ((sym_archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_RAW &&
                    !(name && ends_with(name, ".img")))
                        continue;
                found = true;
                break;
        }
        if (!found) {
                bimg_fail(err, BIMG_E_NOT_FOUND, "'%s' holds no .img to open", path);
                goto out;
        }
        for (;;) {
                la_ssize_t n = sym_archive_read_data(a, buf, 1 << 20);

                if (n < 0)
                        goto archive_error;
                if (n == 0)
                        break;
                r = file_pwrite_sparse(out_fd, buf, (size_t)n, pos);
                if (r < 0) {
                        bimg_fail_errno(err, BIMG_E_IO, -r, "cannot unpack '%s'", path);
                        goto out;
                }
                pos += (uint64_t)n;
                /* libarchive reads the fd in order: its offset is how far it got */
                off = lseek(in, 0, SEEK_CUR);
                if (off > 0 && (uint64_t)off < packed)
                        progress_report("unpacking", (uint64_t)off, packed);
        }
        progress_report("unpacking", packed, packed);
        if (ftruncate(out_fd, (off_t)pos) < 0) {
                bimg_fail_errno(err, BIMG_E_IO, errno, "cannot unpack '%s'", path);
                goto out;
        }
        ret = 0;
        goto out;
archive_error:
        bimg_fail(err, BIMG_E_NOT_FOUND, "cannot unpack '%s': %s", path,
                  sym_archive_error_string(a) ? sym_archive_error_string(a) : "libarchive failed");
out:
        if (a)
                sym_archive_read_free(a);
        free(buf);
        return ret;
}
