/* SPDX-License-Identifier: Apache-2.0 */
/* One small interface over the filesystems of an image; fat.c and ext4.c fill it. */
#ifndef BIMG_FS_H
#define BIMG_FS_H

#include "balena-img.h"
#include "base/range.h"

struct bimg_fs_ops;

/* What a leave_out returns is cut inwards to whole blocks of this size: whole
 * blocks of a staged copy, whatever filesystem holds it. */
#define FS_LEAVE_OUT_ALIGN (64u * 1024)

/* One file to write: host_path (absolute) becomes path. */
struct fs_put {
        const char *host_path;
        const char *path;
};

/* Fields shared by every backend; a backend keeps its own state in ->priv. */
struct bimg_fs {
        const struct bimg_fs_ops *ops;
        int image_fd;           /* the image's locked fd (borrowed) */
        uint64_t offset;        /* partition start in bytes */
        uint64_t size;          /* partition size in bytes */
        bool writable;
        char label[80];         /* for messages: "partition 1 'resin-boot'" */
        char what[120];         /* same, preformatted by fs.c */
        void *priv;
};

/* Every call: 0 on success, -1 with *err filled. Paths reaching the backend are
 * already checked by fs.c: absolute, no "..", no empty components, no "//". */
struct bimg_fs_ops {
        const char *name;       /* "vfat", "ext4" */
        int (*open)(struct bimg_fs *fs, struct bimg_error *err);
        void (*close)(struct bimg_fs *fs);
        int (*list)(struct bimg_fs *fs, const char *dir, bimg_dirent_fn fn, void *data,
                    struct bimg_error *err);
        int (*stat)(struct bimg_fs *fs, const char *path, struct bimg_stat *ret_st,
                    struct bimg_error *err);
        int (*read_to_fd)(struct bimg_fs *fs, const char *path, int fd, struct bimg_error *err);
        int (*write_from_file)(struct bimg_fs *fs, const char *host_path, const char *path,
                               struct bimg_error *err);
        int (*mkdir)(struct bimg_fs *fs, const char *path, struct bimg_error *err);
        int (*remove)(struct bimg_fs *fs, const char *path, bool recursive,
                      struct bimg_error *err);
        int (*free_space)(struct bimg_fs *fs, uint64_t *ret_bytes, struct bimg_error *err);
        /* optional: names this filesystem cannot hold */
        int (*check_path)(struct bimg_fs *fs, const char *path, struct bimg_error *err);
        /* optional: copy, just opened on a staged copy of orig's bytes, takes over
         * what orig has cached (orig keeps nothing) */
        void (*take_cache)(struct bimg_fs *copy, struct bimg_fs *orig);
        /* optional: write_from_file for each, in order, at once */
        int (*write_files)(struct bimg_fs *fs, const struct fs_put *puts, size_t n,
                           struct bimg_error *err);
        /* optional: a quicker whole read of a small file, tried first; 1 done
         * (*ret_data NUL-terminated), 0 not done (nothing reported): the stat and
         * read_to_fd way then runs, and says what is wrong */
        int (*read_small)(struct bimg_fs *fs, const char *path, size_t max_size,
                          char **ret_data, size_t *ret_size);
        /* optional: read these files now, at once, for the reads that follow */
        void (*prefetch)(struct bimg_fs *fs, const char *const *paths, size_t n);
        /* optional: into *ret (empty), the bytes (from the partition's start)
         * that only files the changes at paths leave alone use: a staged copy
         * for those changes need not hold them. Nothing when unsure. */
        void (*leave_out)(struct bimg_fs *fs, const char *const *paths, size_t n,
                          struct range_set *ret);
        /* optional: a leave_out is coming; start what it needs, in the background */
        void (*expect_change)(struct bimg_fs *fs);
};

/* fs.c: a filesystem over a staged copy of part's bytes (fd, from offset 0, as
 * they are in img now), writable; it starts with what img's open filesystem of
 * part had cached. fs_close() closes it (ext4 writes are flushed by then). */
int fs_open_copy(int fd, struct bimg_image *img, const struct bimg_part *part,
                 struct bimg_fs **ret_fs, struct bimg_error *err);
void fs_close(struct bimg_fs *fs);
/* bimg_fs_write_from_file for each of puts, in order; one tool run where the
 * backend can (FAT). On failure any of them may have been written. */
int fs_write_files(struct bimg_fs *fs, const struct fs_put *puts, size_t n,
                   struct bimg_error *err);
/* A staged change of fs is coming (a hint: nothing when the backend has no use
 * for it). */
void fs_expect_change(struct bimg_fs *fs);
/* What a staged copy for changes at paths may leave out (the leave_out op;
 * nothing where the backend has none). */
void fs_leave_out(struct bimg_fs *fs, const char *const *paths, size_t n,
                  struct range_set *ret);
/* Close part's open filesystem, if any: the next use reads the image afresh. */
void fs_forget(struct bimg_image *img, const struct bimg_part *part);

extern const struct bimg_fs_ops fat_ops;        /* fat.c: mtools through base/spawn.c */
extern const struct bimg_fs_ops ext4_ops;       /* ext4.c: libext2fs */

#endif
