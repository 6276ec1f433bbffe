/* SPDX-License-Identifier: Apache-2.0 */
/* The image handle, shared by the layers of the library (opaque to callers). */
#ifndef BIMG_IMAGE_H
#define BIMG_IMAGE_H

#include "balena-img.h"

struct bimg_image {
        char *path;
        int fd;                 /* O_CLOEXEC, flock'ed for the handle's lifetime */
        bool writable;
        uint64_t size;
        char table_type[8];     /* "dos", "gpt" */
        char disk_id[48];
        struct bimg_part *parts;
        size_t n_parts;
        bool roles_assigned;    /* balena/roles.c assigns part->role on first use */
        /* Filesystems opened so far, one slot per partition; fs/fs.c owns them and
         * sets the hook that frees them, so the image layer never calls upward. */
        struct bimg_fs **fs_slots;
        void (*fs_slots_free)(struct bimg_image *img);
        bimg_warn_fn warn;
        void *warn_data;
};

/* ptable.c: read the partition table with libfdisk into img->parts. */
int ptable_read(struct bimg_image *img, struct bimg_error *err);

/* probe.c: fill fskind/fstype/label/uuid of every partition with libblkid. */
int probe_parts(struct bimg_image *img, struct bimg_error *err);

/* sniff.c: if head (the first bytes of a file) is a known non-image format,
 * the format's name and what to do instead; NULL otherwise. */
const char *sniff_format(const unsigned char *head, size_t len, const char **ret_hint);

/* compress.c: output compression by the name's ending (libarchive, on demand). */
enum bimg_compression {
        BIMG_COMPRESS_NONE, BIMG_COMPRESS_GZIP, BIMG_COMPRESS_XZ, BIMG_COMPRESS_ZSTD,
        BIMG_COMPRESS_ZIP,
};
enum bimg_compression compress_kind(const char *name);
/* Compress the raw image into out_path; final_name names it in messages and
 * gives a zip member its name. */
int compress_image(const char *raw, const char *out_path, const char *final_name,
                   enum bimg_compression kind, struct bimg_error *err);

/* Unpack the compressed image read from in (gzip, xz or zstd stream, or a zip's
 * .img member) into out_fd, sparse; path names it in messages. */
int uncompress_image(int in, const char *path, int out_fd, struct bimg_error *err);

/* sniff.c: true when the file behind fd starts like a compressed image. */
bool sniff_compressed(int fd);

/* Pass a warning to the caller's callback, if any. */
void image_warn(const struct bimg_image *img, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#endif
