/* SPDX-License-Identifier: Apache-2.0 */
/* The image handle, shared by the layers of the library (opaque to callers). */
#ifndef BIMG_IMAGE_H
#define BIMG_IMAGE_H

#include "balena-img.h"
#include "base/range.h"

struct bimg_image {
        char *path;
        int fd;                 /* O_CLOEXEC, flock'ed for the handle's lifetime */
        bool writable;
        bool private_copy;      /* BIMG_OPEN_PRIVATE: changes go straight in, unjournalled */
        char *journal;          /* IMAGE.balena-img-journal, beside the real file */
        int journal_fd;         /* made by journal_prepare(), not yet used; else -1 */
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

/* journal.c: crash-safe in-place changes (see there). A patch is len new bytes,
 * read from src_fd at src_offset, for the image at offset. */
struct image_patch {
        uint64_t offset;
        uint64_t len;
        int src_fd;
        uint64_t src_offset;
};
/* IMAGE.balena-img-journal beside the file image_path resolves to. */
int journal_path(const char *image_path, char **ret, struct bimg_error *err);
/* 1 when an armed journal (an interrupted commit) is there, 0 when none is left
 * (an unarmed one is removed: the image was not touched), -1 on error. */
int journal_pending(const char *journal, const char *name, struct bimg_error *err);
/* Undo the interrupted commit: the journal's bytes back into image_fd (writable,
 * exclusively locked), then the journal removed. name is for messages. */
int journal_roll_back(const char *journal, int image_fd, const char *name,
                      struct bimg_error *err);
/* Write the patches into the image, all or none, whatever interrupts it. */
int journal_commit(struct bimg_image *img, const struct image_patch *patches, size_t n,
                   struct bimg_error *err);
/* A commit is coming: its journal is made now, empty (so never armed: a left
 * one is removed by the next open), and its name synced, while the caller
 * waits for its tools; journal_commit() then only fills it. Best effort.
 * journal_drop() removes one that no commit used (bimg_image_close() too). */
void journal_prepare(struct bimg_image *img);
void journal_drop(struct bimg_image *img);

/* stage.c: an in-place change is made on a private copy of each partition it
 * touches (a nameless sparse file, gone with its fd), then diffed against the
 * image. The copy has holes at leave_out (NULL: none; from the partition's
 * start, normalized), bytes the change will not read nor write: the diff reads
 * only what the copy holds, so they are never compared. verify checks FAT
 * copies too. */
int stage_copy(const struct bimg_image *img, const struct bimg_part *part,
               const struct range_set *leave_out, int *ret_fd, struct bimg_error *err);
/* Append to *patches (n of them) the ranges where the copy fd differs. */
int stage_diff(const struct bimg_image *img, const struct bimg_part *part, int fd,
               struct image_patch **patches, size_t *n, struct bimg_error *err);

/* Pass a warning to the caller's callback, if any. */
void image_warn(const struct bimg_image *img, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#endif
