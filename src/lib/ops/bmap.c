/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A block map (bmaptool's format 2.0) of a sparse image: the 4 KiB blocks that
 * hold data, in ranges, each with its SHA-256, so `bmaptool copy` writes only
 * those and checks them. The file's own checksum is taken with its value
 * written as zeros, as bmaptool verifies it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "config/crypto.h"

#define BLOCK 4096
#define CHUNK (1024 * 1024)

struct range {
        uint64_t first, last;   /* block numbers, inclusive */
};

struct range_list {
        struct range *r;
        size_t n, cap;
};

/* One data range as blocks, merged into the last one when they touch. */
static int add_blocks(uint64_t start, uint64_t end, void *data)
{
        struct range_list *l = data;
        uint64_t first = start / BLOCK, last = (end - 1) / BLOCK;

        if (l->n > 0 && first <= l->r[l->n - 1].last + 1) {
                if (last > l->r[l->n - 1].last)
                        l->r[l->n - 1].last = last;
                return 0;
        }
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 64;
                struct range *grown = realloc(l->r, cap * sizeof(*grown));

                if (!grown)
                        return -ENOMEM;
                l->r = grown;
                l->cap = cap;
        }
        l->r[l->n++] = (struct range){ first, last };
        return 0;
}

/* The data ranges of fd as block ranges, neighbours merged. */
static int mapped_ranges(int fd, uint64_t size, struct range **ret, size_t *ret_n,
                         struct bimg_error *err)
{
        struct range_list l = { 0 };
        int r = file_data_ranges(fd, size, add_blocks, &l);

        if (r < 0) {
                free(l.r);
                return r == -ENOMEM ? bimg_fail(err, BIMG_E_FAILURE, "out of memory")
                                    : bimg_fail_errno(err, BIMG_E_IO, -r, "cannot map the image");
        }
        *ret = l.r;
        *ret_n = l.n;
        return 0;
}

static int range_sha256(int fd, uint64_t size, const struct range *r, struct crypto_sha256 *h,
                        char *buf, char hex[65], struct bimg_error *err)
{
        uint64_t pos = r->first * BLOCK, end = (r->last + 1) * BLOCK;

        if (end > size)         /* the last block of an image may be partial */
                end = size;
        while (pos < end) {
                size_t want = end - pos > CHUNK ? CHUNK : (size_t)(end - pos);
                ssize_t got = pread(fd, buf, want, (off_t)pos);

                if (got < 0 && errno == EINTR)
                        continue;
                if (got <= 0)
                        return bimg_fail_errno(err, BIMG_E_IO, got < 0 ? errno : EIO,
                                               "cannot read the image for its block map");
                if (crypto_sha256_update(h, buf, (size_t)got, err) < 0)
                        return -1;
                pos += (uint64_t)got;
        }
        return crypto_sha256_hex(h, hex, err);
}

/* The XML, with "0" * 64 where the file's checksum goes. */
static int build_xml(int fd, uint64_t size, const struct range *r, size_t n,
                     struct crypto_sha256 *h, char **ret, size_t *ret_len, struct bimg_error *err)
{
        uint64_t blocks = (size + BLOCK - 1) / BLOCK, mapped = 0;
        char *buf = malloc(CHUNK), hex[65];
        size_t len = 0;
        char *text = NULL;
        FILE *f;
        int ret_code = 0;

        for (size_t i = 0; i < n; i++)
                mapped += r[i].last - r[i].first + 1;
        f = open_memstream(&text, &len);
        if (!buf || !f) {
                free(buf);
                if (f)
                        fclose(f);
                free(text);
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        }
        fprintf(f, "<?xml version=\"1.0\" ?>\n"
                   "<!-- written by balena-img: the blocks of the image that hold data -->\n"
                   "<bmap version=\"2.0\">\n"
                   "    <ImageSize> %llu </ImageSize>\n"
                   "    <BlockSize> %d </BlockSize>\n"
                   "    <BlocksCount> %llu </BlocksCount>\n"
                   "    <MappedBlocksCount> %llu </MappedBlocksCount>\n"
                   "    <ChecksumType> sha256 </ChecksumType>\n"
                   "    <BmapFileChecksum> %064d </BmapFileChecksum>\n"
                   "    <BlockMap>\n",
                (unsigned long long)size, BLOCK, (unsigned long long)blocks,
                (unsigned long long)mapped, 0);
        for (size_t i = 0; i < n && ret_code == 0; i++) {
                ret_code = range_sha256(fd, size, &r[i], h, buf, hex, err);
                if (ret_code < 0)
                        break;
                if (r[i].first == r[i].last)
                        fprintf(f, "        <Range chksum=\"%s\"> %llu </Range>\n", hex,
                                (unsigned long long)r[i].first);
                else
                        fprintf(f, "        <Range chksum=\"%s\"> %llu-%llu </Range>\n", hex,
                                (unsigned long long)r[i].first, (unsigned long long)r[i].last);
        }
        fprintf(f, "    </BlockMap>\n</bmap>\n");
        free(buf);
        if (fclose(f) != 0 && ret_code == 0)
                ret_code = bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        if (ret_code < 0) {
                free(text);
                return -1;
        }
        *ret = text;
        *ret_len = len;
        return 0;
}

static int write_file(const char *path, const char *text, size_t len, struct bimg_error *err)
{
        char *temp = NULL;
        size_t done = 0;
        int fd;

        if (asprintf(&temp, "%s.balena-img-XXXXXX", path) < 0)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        fd = mkostemp(temp, O_CLOEXEC);
        if (fd < 0) {
                free(temp);
                return bimg_fail_errno(err, errno == ENOENT ? BIMG_E_NOT_FOUND : BIMG_E_IO,
                                       errno, "cannot write '%s'", path);
        }
        while (done < len) {
                ssize_t n = write(fd, text + done, len - done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                done += (size_t)n;
        }
        if (done != len || fchmod(fd, 0644) < 0 || fsync(fd) < 0 || close(fd) < 0 ||
            rename(temp, path) < 0) {
                int e = errno;

                unlink(temp);
                free(temp);
                return bimg_fail_errno(err, BIMG_E_IO, e ? e : EIO, "cannot write '%s'", path);
        }
        free(temp);
        return 0;
}

int bimg_write_bmap(const char *image, const char *bmap_path, struct bimg_error *err)
{
        struct crypto_sha256 *h = NULL;
        struct range *ranges = NULL;
        char *text = NULL, *slot, hex[65];
        size_t n = 0, len = 0;
        struct stat st;
        int fd, r = -1;

        fd = open(image, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return bimg_fail_errno(err, BIMG_E_IO, errno, "cannot read '%s'", image);
        if (fstat(fd, &st) < 0) {
                bimg_fail_errno(err, BIMG_E_IO, errno, "cannot read '%s'", image);
                goto out;
        }
        if (crypto_sha256_begin(&h, err) < 0 ||
            mapped_ranges(fd, (uint64_t)st.st_size, &ranges, &n, err) < 0 ||
            build_xml(fd, (uint64_t)st.st_size, ranges, n, h, &text, &len, err) < 0)
                goto out;
        /* the file's checksum is over the text with zeros in its own place */
        slot = strstr(text, "<BmapFileChecksum> ") + strlen("<BmapFileChecksum> ");
        if (crypto_sha256_update(h, text, len, err) < 0 || crypto_sha256_hex(h, hex, err) < 0)
                goto out;
        memcpy(slot, hex, 64);
        r = write_file(bmap_path, text, len, err);
out:
        crypto_sha256_free(h);
        free(ranges);
        free(text);
        close(fd);
        return r;
}
