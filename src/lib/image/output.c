/* SPDX-License-Identifier: Apache-2.0 */
/*
 * -o OUT: a command changes a copy of the image, never the input. The copy is
 * made beside OUT under a temporary name, sparse (only the data ranges are
 * copied, without their blocks of zeros when the input is stored dense, or the
 * whole file is cloned where the filesystem can), changed, then
 * synced and renamed into place: an interrupted run leaves no half-written OUT.
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
#include "base/progress.h"
#include "image/image.h"

struct bimg_output {
        char *final;            /* OUT */
        char *temp;             /* OUT.balena-img-XXXXXX, beside it: the raw image */
        enum bimg_compression kind;     /* by OUT's ending */
};

struct sparse_copy {
        int in, out;
        uint64_t size;
        char *buf;              /* dense inputs: a piece read back to find zeros */
};

#define PIECE (1u << 20)

/* [start, end) read back piece by piece, every 4 KiB block of zeros left a hole:
 * an input stored dense (as unzip leaves it) still gives a sparse OUT. */
static int copy_skipping_zeros(const struct sparse_copy *c, uint64_t start, uint64_t end)
{
        for (uint64_t pos = start; pos < end;) {
                size_t n = end - pos < PIECE ? (size_t)(end - pos) : PIECE;
                int r = file_pread_all(c->in, c->buf, n, pos);

                if (r == 0)
                        r = file_pwrite_sparse(c->out, c->buf, n, pos);
                if (r < 0)
                        return r;
                pos += n;
        }
        return 0;
}

static int copy_data_range(uint64_t start, uint64_t end, void *data)
{
        const struct sparse_copy *c = data;
        int r = c->buf ? copy_skipping_zeros(c, start, end)
                       : file_copy(c->in, start, c->out, start, end - start);

        if (r == 0)
                progress_report("copying", end, c->size);
        return r;
}

/* Holes stay holes: only the data ranges SEEK_DATA finds are copied, and on an
 * input mostly stored as data, its blocks of zeros are left out too. */
static int copy_sparse(int in, int out, uint64_t size)
{
        struct sparse_copy c = { in, out, size, NULL };
        struct stat st;
        int r;

        if (ioctl(out, FICLONE, in) == 0)       /* a whole-file clone, where offered */
                return 0;
        if (fstat(in, &st) == 0 && (uint64_t)st.st_blocks * 512 > size / 2 &&
            !(c.buf = malloc(PIECE)))
                return -ENOMEM;
        r = file_data_ranges(in, size, copy_data_range, &c);
        if (r == 0)
                progress_report("copying", size, size);
        free(c.buf);
        return r;
}

int bimg_output_begin(const char *input, const char *output, struct bimg_output **ret_out,
                      const char **ret_temp, struct bimg_error *err)
{
        struct bimg_output *o = NULL;
        struct stat in_st, out_st;
        int in = -1, out = -1, r;

        in = open(input, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (in < 0)
                return bimg_fail_errno(err, errno == ENOENT ? BIMG_E_NOT_FOUND : BIMG_E_IO,
                                       errno, "cannot open '%s'", input);
        if (fstat(in, &in_st) < 0 || !S_ISREG(in_st.st_mode)) {
                close(in);
                return bimg_fail(err, BIMG_E_NOT_FOUND, "'%s' is not a disk image file", input);
        }
        if (stat(output, &out_st) == 0 && out_st.st_dev == in_st.st_dev &&
            out_st.st_ino == in_st.st_ino) {
                close(in);
                return bimg_fail(err, BIMG_E_USAGE, "-o '%s' is the input image itself; "
                                 "leave -o out to change it in place", output);
        }
        o = calloc(1, sizeof(*o));
        if (o)
                o->kind = compress_kind(output);
        if (!o || !(o->final = strdup(output)) ||
            asprintf(&o->temp, "%s.balena-img-XXXXXX", output) < 0) {
                if (o)
                        o->temp = NULL;
                bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                goto fail;
        }
        out = mkostemp(o->temp, O_CLOEXEC);
        if (out < 0) {
                bimg_fail_errno(err, errno == ENOENT ? BIMG_E_NOT_FOUND : BIMG_E_IO, errno,
                                "cannot create '%s'", output);
                free(o->temp);
                o->temp = NULL;
                goto fail;
        }
        if (sniff_compressed(in)) {     /* a compressed input is unpacked into OUT's copy */
                if (uncompress_image(in, input, out, err) < 0)
                        goto fail;
                r = 0;
        } else {
                r = ftruncate(out, in_st.st_size) < 0 ? -errno
                                                      : copy_sparse(in, out,
                                                                    (uint64_t)in_st.st_size);
        }
        if (r == 0 && fchmod(out, in_st.st_mode & 0666) < 0)
                r = -errno;
        if (r < 0) {
                bimg_fail_errno(err, BIMG_E_IO, -r, "cannot write '%s'", output);
                goto fail;
        }
        close(in);
        close(out);
        *ret_out = o;
        *ret_temp = o->temp;
        return 0;
fail:
        if (out >= 0)
                close(out);
        close(in);
        bimg_output_abort(o);
        return -1;
}

const char *bimg_output_raw_path(const struct bimg_output *o)
{
        return o->temp;
}

/* fsync path, then give it its final name. */
static int sync_rename(const char *path, const char *final, struct bimg_error *err)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

        /* the data reaches the disk before the name does */
        if (fd < 0 || fsync(fd) < 0)
                r = bimg_fail_errno(err, BIMG_E_IO, errno, "cannot write '%s'", final);
        if (fd >= 0)
                close(fd);
        if (r == 0 && rename(path, final) < 0)
                r = bimg_fail_errno(err, BIMG_E_IO, errno, "cannot write '%s'", final);
        return r;
}

/* A compressed OUT is written under a second temporary name, then renamed. */
static int finish_compressed(struct bimg_output *o, struct bimg_error *err)
{
        char *packed = NULL;
        struct stat st;
        int fd, r;

        if (asprintf(&packed, "%s.balena-img-XXXXXX", o->final) < 0)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        fd = mkostemp(packed, O_CLOEXEC);
        if (fd < 0) {
                free(packed);
                return bimg_fail_errno(err, BIMG_E_IO, errno, "cannot create '%s'", o->final);
        }
        /* the packed file gets the raw copy's mode (the input's), not mkostemp's 0600 */
        if (stat(o->temp, &st) == 0)
                fchmod(fd, st.st_mode & 0666);
        close(fd);
        r = compress_image(o->temp, packed, o->final, o->kind, err);
        if (r == 0)
                r = sync_rename(packed, o->final, err);
        if (r < 0)
                unlink(packed);
        free(packed);
        if (r == 0)
                unlink(o->temp);
        return r;
}

int bimg_output_finish(struct bimg_output *o, struct bimg_error *err)
{
        int r = o->kind == BIMG_COMPRESS_NONE ? sync_rename(o->temp, o->final, err)
                                              : finish_compressed(o, err);

        if (r < 0) {
                bimg_output_abort(o);
                return -1;
        }
        free(o->temp);
        free(o->final);
        free(o);
        return 0;
}

void bimg_output_abort(struct bimg_output *o)
{
        if (!o)
                return;
        if (o->temp)
                unlink(o->temp);
        free(o->temp);
        free(o->final);
        free(o);
}
