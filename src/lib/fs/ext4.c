/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ext2/3/4 through libext2fs; the only file that sees ext2_filsys.
 *
 * Paths are resolved with libext2fs' own namei, rooted at the partition's root
 * inode, so a symlink (absolute or relative) can never lead to the host. Every
 * mutating call ends with ext2fs_flush(), so the image on disk is consistent
 * (e2fsck -fn clean) between calls, failed calls included. Writes that could run
 * out of blocks halfway are refused before they start.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* every call goes through the table below: no inline copies that name libext2fs */
#define NO_INLINE_FUNCS
#include <et/com_err.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include "balena-img.h"
#include "base/dl.h"
#include "base/file.h"
#include "base/path.h"
#include "base/spawn.h"
#include "fs/fs.h"

/* libext2fs (and libcom_err's error_message) is loaded on first use, not
 * linked (style guide 2.8): it cost every run 0.2 to 0.4 ms at start, and only
 * commands that open an ext4 partition need it. */
static typeof(error_message) *sym_error_message;
static typeof(ext2fs_block_iterate3) *sym_ext2fs_block_iterate3;
static typeof(ext2fs_blocks_count) *sym_ext2fs_blocks_count;
static typeof(ext2fs_close_free) *sym_ext2fs_close_free;
static typeof(ext2fs_dir_iterate2) *sym_ext2fs_dir_iterate2;
static typeof(ext2fs_dirent_name_len) *sym_ext2fs_dirent_name_len;
static typeof(ext2fs_expand_dir) *sym_ext2fs_expand_dir;
static typeof(ext2fs_extent_free) *sym_ext2fs_extent_free;
static typeof(ext2fs_extent_open2) *sym_ext2fs_extent_open2;
static typeof(ext2fs_file_close) *sym_ext2fs_file_close;
static typeof(ext2fs_file_open) *sym_ext2fs_file_open;
static typeof(ext2fs_file_open2) *sym_ext2fs_file_open2;
static typeof(ext2fs_file_read) *sym_ext2fs_file_read;
static typeof(ext2fs_file_write) *sym_ext2fs_file_write;
static typeof(ext2fs_find_first_set_block_bitmap2) *sym_ext2fs_find_first_set_block_bitmap2;
static typeof(ext2fs_find_first_zero_block_bitmap2) *sym_ext2fs_find_first_zero_block_bitmap2;
static typeof(ext2fs_flush) *sym_ext2fs_flush;
static typeof(ext2fs_free_blocks_count) *sym_ext2fs_free_blocks_count;
static typeof(ext2fs_free_ext_attr) *sym_ext2fs_free_ext_attr;
static typeof(ext2fs_get_stat_i_blocks) *sym_ext2fs_get_stat_i_blocks;
static typeof(ext2fs_inode_alloc_stats2) *sym_ext2fs_inode_alloc_stats2;
static typeof(ext2fs_inode_has_valid_blocks2) *sym_ext2fs_inode_has_valid_blocks2;
static typeof(ext2fs_inode_size_set) *sym_ext2fs_inode_size_set;
static typeof(ext2fs_link) *sym_ext2fs_link;
static typeof(ext2fs_lookup) *sym_ext2fs_lookup;
static typeof(ext2fs_mkdir) *sym_ext2fs_mkdir;
static typeof(ext2fs_namei) *sym_ext2fs_namei;
static typeof(ext2fs_namei_follow) *sym_ext2fs_namei_follow;
static typeof(ext2fs_new_inode) *sym_ext2fs_new_inode;
static typeof(ext2fs_open2) *sym_ext2fs_open2;
static typeof(ext2fs_punch) *sym_ext2fs_punch;
static typeof(ext2fs_read_bitmaps) *sym_ext2fs_read_bitmaps;
static typeof(ext2fs_read_block_bitmap) *sym_ext2fs_read_block_bitmap;
static typeof(ext2fs_read_inode) *sym_ext2fs_read_inode;
static typeof(ext2fs_read_inode_full) *sym_ext2fs_read_inode_full;
static typeof(ext2fs_unlink) *sym_ext2fs_unlink;
static typeof(ext2fs_write_inode_full) *sym_ext2fs_write_inode_full;
static typeof(ext2fs_write_new_inode) *sym_ext2fs_write_new_inode;
static typeof(initialize_ext2_error_table) *sym_initialize_ext2_error_table;
static typeof(unix_io_manager) *sym_unix_io_manager;

static const struct dl_sym ext2fs_syms[] = {
        DL_SYM(error_message),
        DL_SYM(ext2fs_block_iterate3),
        DL_SYM(ext2fs_blocks_count),
        DL_SYM(ext2fs_close_free),
        DL_SYM(ext2fs_dir_iterate2),
        DL_SYM(ext2fs_dirent_name_len),
        DL_SYM(ext2fs_expand_dir),
        DL_SYM(ext2fs_extent_free),
        DL_SYM(ext2fs_extent_open2),
        DL_SYM(ext2fs_file_close),
        DL_SYM(ext2fs_file_open),
        DL_SYM(ext2fs_file_open2),
        DL_SYM(ext2fs_file_read),
        DL_SYM(ext2fs_file_write),
        DL_SYM(ext2fs_find_first_set_block_bitmap2),
        DL_SYM(ext2fs_find_first_zero_block_bitmap2),
        DL_SYM(ext2fs_flush),
        DL_SYM(ext2fs_free_blocks_count),
        DL_SYM(ext2fs_free_ext_attr),
        DL_SYM(ext2fs_get_stat_i_blocks),
        DL_SYM(ext2fs_inode_alloc_stats2),
        DL_SYM(ext2fs_inode_has_valid_blocks2),
        DL_SYM(ext2fs_inode_size_set),
        DL_SYM(ext2fs_link),
        DL_SYM(ext2fs_lookup),
        DL_SYM(ext2fs_mkdir),
        DL_SYM(ext2fs_namei),
        DL_SYM(ext2fs_namei_follow),
        DL_SYM(ext2fs_new_inode),
        DL_SYM(ext2fs_open2),
        DL_SYM(ext2fs_punch),
        DL_SYM(ext2fs_read_bitmaps),
        DL_SYM(ext2fs_read_block_bitmap),
        DL_SYM(ext2fs_read_inode),
        DL_SYM(ext2fs_read_inode_full),
        DL_SYM(ext2fs_unlink),
        DL_SYM(ext2fs_write_inode_full),
        DL_SYM(ext2fs_write_new_inode),
        DL_SYM(initialize_ext2_error_table),
        DL_SYM(unix_io_manager),
};

static struct dl_lib libext2fs = {
        .soname = "libext2fs.so.2",
        .package = "libext2fs2",
        .purpose = "ext4 partitions",
        .syms = ext2fs_syms,
        .n_syms = sizeof(ext2fs_syms) / sizeof(ext2fs_syms[0]),
};

#define COPY_CHUNK (256u * 1024u)
#define MAX_DEPTH 4096          /* directory levels a recursive remove descends */

/* Which timestamps stamp() sets; ctime is always set. */
enum {
        T_ATIME = 1 << 0,
        T_MTIME = 1 << 1,
        T_CRTIME = 1 << 2,
};

/* True if the large-inode field lies inside this inode's extra space. */
#define HAS_FIELD(e2, inode, field)                                                     \
        (EXT2_INODE_SIZE((e2)->super) > EXT2_GOOD_OLD_INODE_SIZE &&                     \
         EXT2_GOOD_OLD_INODE_SIZE + (size_t)(inode)->i_extra_isize >=                   \
                 offsetof(struct ext2_inode_large, field) + sizeof((inode)->field))

/* What fs->priv holds. */
struct ext4 {
        ext2_filsys e2;
        bool rw;                /* e2 is open for writing (on the first write) */
        char no_write[256];     /* why writes are refused; "" when they are not */
};

static ext2_filsys fs_e2(const struct bimg_fs *fs)
{
        return ((const struct ext4 *)fs->priv)->e2;
}

/* libext2fs passes host errno values through unchanged; its own codes are large. */
static bool is_errno(errcode_t e)
{
        return e > 0 && e < 4096;
}

static int fail_e2(const struct bimg_fs *fs, struct bimg_error *err, errcode_t e,
                   const char *verb, const char *path)
{
        return bimg_fail(err, BIMG_E_IO, "%s: cannot %s '%s': %s", fs->what, verb, path,
                         sym_error_message(e));
}

/* A failed path lookup: says which of the usual reasons it was. */
static int fail_lookup(const struct bimg_fs *fs, struct bimg_error *err, errcode_t e,
                       const char *path)
{
        switch (e) {
        case EXT2_ET_FILE_NOT_FOUND:
                return bimg_fail(err, BIMG_E_NOT_FOUND, "%s: '%s' does not exist", fs->what,
                                 path);
        case EXT2_ET_NO_DIRECTORY:
                return bimg_fail(err, BIMG_E_INVALID,
                                 "%s: cannot resolve '%s': a component of the path is not a "
                                 "directory", fs->what, path);
        case EXT2_ET_SYMLINK_LOOP:
                return bimg_fail(err, BIMG_E_INVALID,
                                 "%s: cannot resolve '%s': too many levels of symbolic links",
                                 fs->what, path);
        default:
                return fail_e2(fs, err, e, "look up", path);
        }
}

static int64_t now(ext2_filsys e2)
{
        /* fs->now comes from E2FSPROGS_FAKE_TIME, which makes test images reproducible */
        return e2->now ? (int64_t)e2->now : (int64_t)time(NULL);
}

/* Seconds from a 32-bit field plus, on large inodes, its two epoch bits. */
static int64_t decode_time(uint32_t base, uint32_t extra, bool has_extra)
{
        int64_t t = (int32_t)base;

        if (has_extra)
                t += (int64_t)(extra & EXT4_EPOCH_MASK) << 32;
        return t;
}

static void stamp(ext2_filsys e2, struct ext2_inode_large *inode, unsigned what)
{
        int64_t t = now(e2);
        uint32_t lo = (uint32_t)t;
        uint32_t epoch = (uint32_t)(((t - (int32_t)lo) >> 32) & EXT4_EPOCH_MASK);

        inode->i_ctime = lo;
        if (HAS_FIELD(e2, inode, i_ctime_extra))
                inode->i_ctime_extra = epoch;
        if (what & T_MTIME) {
                inode->i_mtime = lo;
                if (HAS_FIELD(e2, inode, i_mtime_extra))
                        inode->i_mtime_extra = epoch;
        }
        if (what & T_ATIME) {
                inode->i_atime = lo;
                if (HAS_FIELD(e2, inode, i_atime_extra))
                        inode->i_atime_extra = epoch;
        }
        if ((what & T_CRTIME) && HAS_FIELD(e2, inode, i_crtime_extra)) {
                inode->i_crtime = lo;
                inode->i_crtime_extra = epoch;
        }
}

static errcode_t read_inode(ext2_filsys e2, ext2_ino_t ino, struct ext2_inode_large *inode)
{
        /* zeroed first: on 128-byte inodes the large part stays 0 (i_extra_isize too) */
        memset(inode, 0, sizeof(*inode));
        return sym_ext2fs_read_inode_full(e2, ino, (struct ext2_inode *)inode, sizeof(*inode));
}

static errcode_t write_inode(ext2_filsys e2, ext2_ino_t ino, struct ext2_inode_large *inode)
{
        return sym_ext2fs_write_inode_full(e2, ino, (struct ext2_inode *)inode, sizeof(*inode));
}

static void fill_stat(ext2_filsys e2, const struct ext2_inode_large *inode,
                      struct bimg_stat *st)
{
        uint32_t type;

        switch (inode->i_mode & LINUX_S_IFMT) {
        case LINUX_S_IFDIR:
                type = S_IFDIR;
                break;
        case LINUX_S_IFLNK:
                type = S_IFLNK;
                break;
        case LINUX_S_IFCHR:
                type = S_IFCHR;
                break;
        case LINUX_S_IFBLK:
                type = S_IFBLK;
                break;
        case LINUX_S_IFIFO:
                type = S_IFIFO;
                break;
        case LINUX_S_IFSOCK:
                type = S_IFSOCK;
                break;
        default:
                type = S_IFREG;
                break;
        }
        memset(st, 0, sizeof(*st));
        st->is_dir = LINUX_S_ISDIR(inode->i_mode);
        st->is_symlink = LINUX_S_ISLNK(inode->i_mode);
        st->size = EXT2_I_SIZE(inode);
        st->mtime = decode_time(inode->i_mtime, inode->i_mtime_extra,
                                HAS_FIELD(e2, inode, i_mtime_extra));
        st->mode = type | (inode->i_mode & 07777);
}

/* Path to inode. Intermediate symlinks are always followed; the last one only if follow. */
static int resolve(const struct bimg_fs *fs, const char *path, bool follow,
                   ext2_ino_t *ret_ino, struct bimg_error *err)
{
        ext2_filsys e2 = fs_e2(fs);
        ext2_ino_t ino;
        errcode_t e;

        if (follow)
                e = sym_ext2fs_namei_follow(e2, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino);
        else
                e = sym_ext2fs_namei(e2, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino);
        if (e == EXT2_ET_FILE_NOT_FOUND && follow &&
            sym_ext2fs_namei(e2, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino) == 0)
                return bimg_fail(err, BIMG_E_NOT_FOUND,
                                 "%s: '%s' is a symbolic link whose target does not exist",
                                 fs->what, path);
        if (e)
                return fail_lookup(fs, err, e, path);
        *ret_ino = ino;
        return 0;
}

static int load_inode(const struct bimg_fs *fs, ext2_ino_t ino, const char *path,
                      struct ext2_inode_large *ret_inode, struct bimg_error *err)
{
        errcode_t e = read_inode(fs_e2(fs), ino, ret_inode);

        if (e)
                return fail_e2(fs, err, e, "read the inode of", path);
        return 0;
}

static int open_e2(const struct bimg_fs *fs, bool rw, ext2_filsys *ret_e2,
                   struct bimg_error *err);
static bool must_not_write(const struct bimg_fs *fs, ext2_filsys e2, char *why, size_t size);

/* Reading never opens the filesystem for writing (that costs its bitmaps and an
 * fsync of the image at close); the first write reopens it so, or says why not. */
static int check_writable(struct bimg_fs *fs, struct bimg_error *err)
{
        struct ext4 *priv = fs->priv;
        ext2_filsys rw = NULL;

        if (!fs->writable)
                return bimg_fail(err, BIMG_E_FAILURE, "%s was opened read-only", fs->what);
        if (!priv->rw && !priv->no_write[0]) {
                if (open_e2(fs, true, &rw, err) < 0)
                        return -1;
                if (must_not_write(fs, rw, priv->no_write, sizeof(priv->no_write))) {
                        sym_ext2fs_close_free(&rw); /* nothing was changed, nothing is written */
                } else {
                        sym_ext2fs_close_free(&priv->e2);
                        priv->e2 = rw;
                        priv->rw = true;
                }
        }
        if (priv->no_write[0])
                return bimg_fail(err, BIMG_E_UNSUPPORTED, "%s: %s", fs->what, priv->no_write);
        return 0;
}

/* The directory that will hold path's last component, and that component. Path is not
 * "/". The parent itself may be reached through symlinks. */
static int resolve_parent(const struct bimg_fs *fs, const char *path, ext2_ino_t *ret_dir,
                          const char **ret_name, struct bimg_error *err)
{
        struct ext2_inode_large inode;
        char parent[PATH_MAX];
        const char *name = path_basename(path);
        ext2_ino_t dir;

        if (strlen(name) > EXT2_NAME_LEN)
                return bimg_fail(err, BIMG_E_INVALID, "%s: name '%s' is longer than %d bytes",
                                 fs->what, name, EXT2_NAME_LEN);
        path_parent(path, parent, sizeof(parent));
        if (resolve(fs, parent, true, &dir, err) < 0 ||
            load_inode(fs, dir, parent, &inode, err) < 0)
                return -1;
        if (!LINUX_S_ISDIR(inode.i_mode))
                return bimg_fail(err, BIMG_E_INVALID, "%s: '%s' is not a directory", fs->what,
                                 parent);
        if (inode.i_flags & EXT4_ENCRYPT_FL)
                return bimg_fail(err, BIMG_E_UNSUPPORTED,
                                 "%s: '%s' is an encrypted directory; it cannot be changed "
                                 "offline", fs->what, parent);
        *ret_dir = dir;
        *ret_name = name;
        return 0;
}

/* Look a name up in one directory without following it: 0 found, 1 absent, -1 error. */
static int lookup(const struct bimg_fs *fs, ext2_ino_t dir, const char *name, const char *path,
                  ext2_ino_t *ret_ino, struct bimg_error *err)
{
        errcode_t e = sym_ext2fs_lookup(fs_e2(fs), dir, name, (int)strlen(name), NULL, ret_ino);

        if (e == EXT2_ET_FILE_NOT_FOUND)
                return 1;
        if (e)
                return fail_e2(fs, err, e, "look up", path);
        return 0;
}

static int flush(const struct bimg_fs *fs, struct bimg_error *err)
{
        ext2_filsys e2 = fs_e2(fs);
        errcode_t e;

        /* ext2fs_flush rewrites the superblock (write time, counters) even when nothing
         * changed: a refused change must leave the partition byte-identical */
        if (e2->flags & (EXT2_FLAG_DIRTY | EXT2_FLAG_IB_DIRTY | EXT2_FLAG_BB_DIRTY))
                e = sym_ext2fs_flush(e2);
        else
                e = io_channel_flush(e2->io);  /* blocks written through the cache */

        if (e)
                return bimg_fail(err, BIMG_E_IO, "%s: cannot write the filesystem metadata: %s",
                                 fs->what, sym_error_message(e));
        return 0;
}

/* Add a directory entry, growing a linear directory by a block when it is full. An
 * htree directory grows inside ext2fs_link(); appending a block the index does not
 * reference would make e2fsck complain, so it is not done here. */
static errcode_t add_link(ext2_filsys e2, ext2_ino_t dir, const char *name, ext2_ino_t ino,
                          int file_type)
{
        struct ext2_inode inode;
        errcode_t e = sym_ext2fs_link(e2, dir, name, ino, file_type);

        if (e != EXT2_ET_DIR_NO_SPACE)
                return e;
        e = sym_ext2fs_read_inode(e2, dir, &inode);
        if (e)
                return e;
        if (inode.i_flags & EXT2_INDEX_FL)
                return EXT2_ET_DIR_NO_SPACE;
        e = sym_ext2fs_expand_dir(e2, dir);
        if (e)
                return e;
        return sym_ext2fs_link(e2, dir, name, ino, file_type);
}

/* A directory gained or lost an entry: new times, and link_delta on its link count
 * (a count of 1 means "many" under dir_nlink and is left alone). */
static errcode_t touch_dir(ext2_filsys e2, ext2_ino_t dir, int link_delta)
{
        struct ext2_inode_large inode;
        errcode_t e = read_inode(e2, dir, &inode);

        if (e)
                return e;
        if (link_delta < 0 && inode.i_links_count > 1)
                inode.i_links_count--;
        stamp(e2, &inode, T_MTIME);
        return write_inode(e2, dir, &inode);
}

/* Free an inode nobody links to any more: its xattr block, its blocks, its bitmap bit. */
static errcode_t release_inode(ext2_filsys e2, ext2_ino_t ino, struct ext2_inode_large *inode)
{
        errcode_t e;

        inode->i_links_count = 0;
        inode->i_dtime = (uint32_t)now(e2);
        stamp(e2, inode, 0);
        e = sym_ext2fs_free_ext_attr(e2, ino, inode);
        if (e)
                return e;
        if (sym_ext2fs_inode_has_valid_blocks2(e2, (struct ext2_inode *)inode)) {
                e = sym_ext2fs_punch(e2, ino, (struct ext2_inode *)inode, NULL, 0, ~0ULL);
                if (e)
                        return e;
        }
        e = write_inode(e2, ino, inode);
        if (e)
                return e;
        sym_ext2fs_inode_alloc_stats2(e2, ino, -1, LINUX_S_ISDIR(inode->i_mode));
        return 0;
}


static ssize_t read_some(int fd, char *buf, size_t len)
{
        ssize_t n;

        do
                n = read(fd, buf, len);
        while (n < 0 && errno == EINTR);
        return n;
}

/* ---- open / close ------------------------------------------------------- */

static int open_e2(const struct bimg_fs *fs, bool rw, ext2_filsys *ret_e2,
                   struct bimg_error *err)
{
        char name[64], opts[64];
        ext2_filsys e2 = NULL;
        int64_t epoch;
        errcode_t e;

        /* libext2fs opens the image again by name; the fd's file is the one we locked */
        snprintf(name, sizeof(name), "/proc/self/fd/%d", fs->image_fd);
        snprintf(opts, sizeof(opts), "offset=%" PRIu64, fs->offset);
        e = sym_ext2fs_open2(name, opts, EXT2_FLAG_64BITS | (rw ? EXT2_FLAG_RW : 0), 0, 0,
                             *sym_unix_io_manager, &e2);
        if (e)
                return bimg_fail(err, is_errno(e) ? BIMG_E_IO : BIMG_E_UNSUPPORTED,
                                 "%s: no usable ext2/3/4 filesystem: %s", fs->what,
                                 sym_error_message(e));
        /* dated like mtools' writes: the same change gives the same bytes */
        if (!e2->now && spawn_fixed_time(&epoch))
                e2->now = (time_t)epoch;
        *ret_e2 = e2;
        return 0;
}

/* Fill why (and return true) if this filesystem must not be written. */
static bool must_not_write(const struct bimg_fs *fs, ext2_filsys e2, char *why, size_t size)
{
        uint64_t fs_bytes = sym_ext2fs_blocks_count(e2->super) * (uint64_t)e2->blocksize;
        errcode_t e;

        /* libext2fs does not replay a journal; writing past one would lose data */
        if (ext2fs_has_feature_journal_needs_recovery(e2->super))
                snprintf(why, size, "the journal needs recovery (the filesystem was not "
                         "cleanly unmounted); run e2fsck on the partition before writing to it");
        else if (e2->super->s_state & EXT2_ERROR_FS)
                snprintf(why, size, "the filesystem has errors recorded; run e2fsck on the "
                         "partition before writing to it");
        /* blocks past the partition's end belong to the next partition */
        else if (fs->size > 0 && fs_bytes > fs->size)
                snprintf(why, size, "the filesystem (%" PRIu64 " bytes) is larger than its "
                         "partition (%" PRIu64 " bytes); it cannot be written", fs_bytes,
                         fs->size);
        else if ((e = sym_ext2fs_read_bitmaps(e2)) != 0)
                snprintf(why, size, "cannot read the allocation bitmaps: %s", sym_error_message(e));
        else
                return false;
        return true;
}

/* Opened read-only, whether or not the image is writable: check_writable() reopens
 * it for the first write. */
static int ext4_open(struct bimg_fs *fs, struct bimg_error *err)
{
        struct ext4 *priv;

        if (dl_load(&libext2fs, err) < 0)
                return -1;
        priv = calloc(1, sizeof(*priv));
        if (!priv)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        /* without it error_message() says "Unknown code ext2 19"; adding the table
         * again is a no-op */
        sym_initialize_ext2_error_table();
        if (open_e2(fs, false, &priv->e2, err) < 0) {
                free(priv);
                return -1;
        }
        fs->priv = priv;
        return 0;
}

static void ext4_close(struct bimg_fs *fs)
{
        struct ext4 *priv;

        if (!fs || !fs->priv)
                return;
        priv = fs->priv;
        /* every write already flushed; an error here has nothing left to report to */
        sym_ext2fs_close_free(&priv->e2);
        free(priv);
        fs->priv = NULL;
}

/* ---- reading ------------------------------------------------------------ */

struct list_ctx {
        const struct bimg_fs *fs;
        const char *dir;
        bimg_dirent_fn fn;
        void *data;
        struct bimg_error *err;
        bool failed;
};

static int list_entry(ext2_ino_t dir, int entry, struct ext2_dir_entry *dirent, int offset,
                      int blocksize, char *buf, void *priv)
{
        struct list_ctx *ctx = priv;
        struct ext2_inode_large inode;
        char name[EXT2_NAME_LEN + 1];
        struct bimg_stat st;
        int len = sym_ext2fs_dirent_name_len(dirent);
        errcode_t e;

        (void)dir;
        (void)offset;
        (void)blocksize;
        (void)buf;
        if (entry == DIRENT_DOT_FILE || entry == DIRENT_DOT_DOT_FILE)
                return 0;
        memcpy(name, dirent->name, (size_t)len);
        name[len] = '\0';
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return 0;
        /* only a damaged (or crafted) directory holds these; joined to a host
         * folder by cp -r, such a name would lead out of it */
        if (len == 0 || memchr(dirent->name, '/', (size_t)len) ||
            memchr(dirent->name, '\0', (size_t)len)) {
                bimg_fail(ctx->err, BIMG_E_UNSUPPORTED, "%s: '%s' holds an entry named "
                          "'%.*s', which is not a file name; the filesystem is damaged",
                          ctx->fs->what, ctx->dir, len, dirent->name);
                ctx->failed = true;
                return DIRENT_ABORT;
        }
        e = read_inode(fs_e2(ctx->fs), dirent->inode, &inode);
        if (e) {
                bimg_fail(ctx->err, BIMG_E_IO, "%s: cannot read the inode of '%s' in '%s': %s",
                          ctx->fs->what, name, ctx->dir, sym_error_message(e));
                ctx->failed = true;
                return DIRENT_ABORT;
        }
        fill_stat(fs_e2(ctx->fs), &inode, &st);
        if (ctx->fn(name, &st, ctx->data) != 0)
                return DIRENT_ABORT;
        return 0;
}

/* fn must not change the filesystem while the directory is being read. */
static int ext4_list(struct bimg_fs *fs, const char *dir, bimg_dirent_fn fn, void *data,
                     struct bimg_error *err)
{
        struct list_ctx ctx = { .fs = fs, .dir = dir, .fn = fn, .data = data, .err = err };
        struct ext2_inode_large inode;
        ext2_ino_t ino;
        errcode_t e;

        if (resolve(fs, dir, true, &ino, err) < 0 || load_inode(fs, ino, dir, &inode, err) < 0)
                return -1;
        if (!LINUX_S_ISDIR(inode.i_mode))
                return bimg_fail(err, BIMG_E_INVALID, "%s: '%s' is not a directory", fs->what,
                                 dir);
        e = sym_ext2fs_dir_iterate2(fs_e2(fs), ino, 0, NULL, list_entry, &ctx);
        if (ctx.failed)
                return -1;
        if (e)
                return fail_e2(fs, err, e, "read the directory", dir);
        return 0;
}

static int ext4_stat(struct bimg_fs *fs, const char *path, struct bimg_stat *ret_st,
                     struct bimg_error *err)
{
        struct ext2_inode_large inode;
        ext2_ino_t ino;

        if (resolve(fs, path, false, &ino, err) < 0 || load_inode(fs, ino, path, &inode, err) < 0)
                return -1;
        fill_stat(fs_e2(fs), &inode, ret_st);
        return 0;
}

static int ext4_read_to_fd(struct bimg_fs *fs, const char *path, int fd, struct bimg_error *err)
{
        struct ext2_inode_large inode;
        ext2_file_t file = NULL;
        char *buf = NULL;
        unsigned int got;
        ext2_ino_t ino;
        uint64_t left;
        errcode_t e;
        int ret = -1, r;

        if (resolve(fs, path, true, &ino, err) < 0 || load_inode(fs, ino, path, &inode, err) < 0)
                return -1;
        if (LINUX_S_ISDIR(inode.i_mode))
                return bimg_fail(err, BIMG_E_INVALID, "%s: '%s' is a directory", fs->what,
                                 path);
        if (!LINUX_S_ISREG(inode.i_mode))
                return bimg_fail(err, BIMG_E_INVALID, "%s: '%s' is not a regular file",
                                 fs->what, path);
        buf = malloc(COPY_CHUNK);
        if (!buf)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        e = sym_ext2fs_file_open2(fs_e2(fs), ino, (struct ext2_inode *)&inode, 0, &file);
        if (e) {
                fail_e2(fs, err, e, "open", path);
                goto out;
        }
        for (left = EXT2_I_SIZE(&inode); left > 0; left -= got) {
                got = 0;
                e = sym_ext2fs_file_read(file, buf, COPY_CHUNK, &got);
                if (e) {
                        fail_e2(fs, err, e, "read", path);
                        goto out;
                }
                if (got == 0)
                        break;
                /* libext2fs 1.47.0 reads inline data up to its capacity, not to the file
                 * size (fixed upstream in 10d77615) */
                if (got > left)
                        got = (unsigned int)left;
                r = file_write_all(fd, buf, got);
                if (r < 0) {
                        bimg_fail_errno(err, BIMG_E_IO, -r, "%s: cannot copy '%s' out",
                                        fs->what, path);
                        goto out;
                }
        }
        ret = 0;
out:
        if (file)
                sym_ext2fs_file_close(file);
        free(buf);
        return ret;
}

/* ---- writing ------------------------------------------------------------ */

/* Blocks a file of this size may take in the worst case: its data, plus the mapping
 * blocks needed if every data block ends up in an extent of its own (fragmented free
 * space), or the indirect blocks of a block-mapped file. */
static uint64_t blocks_needed(ext2_filsys e2, uint64_t bytes)
{
        uint64_t data = (bytes + e2->blocksize - 1) / e2->blocksize;
        uint64_t meta = 0, n = data;

        if (ext2fs_has_feature_extents(e2->super)) {
                uint64_t per_block = (e2->blocksize - sizeof(struct ext3_extent_header)) /
                                     sizeof(struct ext3_extent);

                while (n > 4) {         /* the inode itself holds 4 entries */
                        n = (n + per_block - 1) / per_block;
                        meta += n;
                }
        } else {
                uint64_t per_block = e2->blocksize / sizeof(uint32_t);

                /* over-counts a little past the double-indirect range, which is fine */
                if (n > EXT2_NDIR_BLOCKS)
                        meta += 1 + 1 + (n - EXT2_NDIR_BLOCKS) / per_block +
                                (n - EXT2_NDIR_BLOCKS) / (per_block * per_block);
        }
        return data + meta;
}

/* Copy host_fd into the (empty) inode ino. */
static int copy_in(const struct bimg_fs *fs, ext2_ino_t ino, int host_fd, const char *host_path,
                   const char *path, struct bimg_error *err)
{
        ext2_file_t file = NULL;
        char *buf = malloc(COPY_CHUNK);
        errcode_t e;
        int ret = -1;

        if (!buf)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        e = sym_ext2fs_file_open(fs_e2(fs), ino, EXT2_FILE_WRITE, &file);
        if (e) {
                fail_e2(fs, err, e, "open", path);
                goto out;
        }
        for (;;) {
                ssize_t n = read_some(host_fd, buf, COPY_CHUNK);
                size_t done = 0;

                if (n < 0) {
                        bimg_fail_errno(err, BIMG_E_IO, errno, "cannot read '%s'", host_path);
                        goto out;
                }
                if (n == 0)
                        break;
                /* checked per chunk too, for inputs of unknown size; the slack covers
                 * the extent tree growing a level */
                if (blocks_needed(fs_e2(fs), (uint64_t)n) + 4 >
                    sym_ext2fs_free_blocks_count(fs_e2(fs)->super)) {
                        bimg_fail(err, BIMG_E_IO, "%s: not enough space for '%s'", fs->what,
                                  path);
                        goto out;
                }
                while (done < (size_t)n) {
                        unsigned int wrote = 0;

                        e = sym_ext2fs_file_write(file, buf + done,
                                                  (unsigned int)((size_t)n - done), &wrote);
                        if (e) {
                                fail_e2(fs, err, e, "write", path);
                                goto out;
                        }
                        if (wrote == 0) {
                                fail_e2(fs, err, EXT2_ET_SHORT_WRITE, "write", path);
                                goto out;
                        }
                        done += wrote;
                }
        }
        ret = 0;
out:
        if (file) {
                e = sym_ext2fs_file_close(file);    /* writes the last block and the inode */
                if (e && ret == 0)
                        ret = fail_e2(fs, err, e, "write", path);
        }
        free(buf);
        return ret;
}

/* Refuse up front what cannot fit: a write that runs out of blocks halfway can leave an
 * extent tree libext2fs cannot take apart again, and a replaced file would be left cut
 * short. owned_blocks are freed before the write; new_entry reserves room for the
 * directory to grow. */
static int check_space(const struct bimg_fs *fs, uint64_t bytes, uint64_t owned_blocks,
                       bool new_entry, const char *path, struct bimg_error *err)
{
        ext2_filsys e2 = fs_e2(fs);
        uint64_t need = blocks_needed(e2, bytes) + (new_entry ? 2 : 0);
        uint64_t avail = sym_ext2fs_free_blocks_count(e2->super) + owned_blocks;

        if (need > avail)
                return bimg_fail(err, BIMG_E_IO,
                                 "%s: not enough space for '%s' (%" PRIu64 " bytes needed, %"
                                 PRIu64 " available)", fs->what, path,
                                 need * e2->blocksize, avail * e2->blocksize);
        return 0;
}

/* Empty an existing regular file in place (inode number, owner, mode, xattrs and hard
 * links stay, as with cp onto an existing file), then fill it. */
static int replace_file(const struct bimg_fs *fs, ext2_ino_t ino, int host_fd,
                        const char *host_path, const char *path, struct bimg_error *err)
{
        ext2_filsys e2 = fs_e2(fs);
        struct ext2_inode_large inode;
        ext2_extent_handle_t handle;
        errcode_t e;

        if (load_inode(fs, ino, path, &inode, err) < 0)
                return -1;
        e = sym_ext2fs_punch(e2, ino, (struct ext2_inode *)&inode, NULL, 0, ~0ULL);
        /* punching inline data also drops its xattr, so reload rather than write back a
         * stale copy */
        if (!e)
                e = read_inode(e2, ino, &inode);
        if (!e && (inode.i_flags & EXT4_INLINE_DATA_FL)) {
                /* libext2fs 1.47.0 overruns a buffer when a write grows inline data (fixed
                 * upstream in bc599a8b), so the file becomes an ordinary one */
                inode.i_flags &= ~EXT4_INLINE_DATA_FL;
                memset(inode.i_block, 0, sizeof(inode.i_block));
                if (ext2fs_has_feature_extents(e2->super)) {
                        e = sym_ext2fs_extent_open2(e2, ino, (struct ext2_inode *)&inode, &handle);
                        if (!e)
                                sym_ext2fs_extent_free(handle);
                }
        }
        if (!e)
                e = sym_ext2fs_inode_size_set(e2, (struct ext2_inode *)&inode, 0);
        if (!e) {
                stamp(e2, &inode, T_MTIME);
                e = write_inode(e2, ino, &inode);
        }
        if (e)
                return fail_e2(fs, err, e, "truncate", path);
        return copy_in(fs, ino, host_fd, host_path, path, err);
}

static int create_file(const struct bimg_fs *fs, ext2_ino_t dir, const char *name, int host_fd,
                       const char *host_path, const char *path, struct bimg_error *err)
{
        ext2_filsys e2 = fs_e2(fs);
        struct ext2_inode_large inode;
        bool allocated = false;
        ext2_ino_t ino;
        errcode_t e;

        e = sym_ext2fs_new_inode(e2, dir, LINUX_S_IFREG | 0644, NULL, &ino);
        if (e)
                return fail_e2(fs, err, e, "create", path);
        memset(&inode, 0, sizeof(inode));
        inode.i_mode = LINUX_S_IFREG | 0644;
        inode.i_links_count = 1;
        stamp(e2, &inode, T_ATIME | T_MTIME);
        if (ext2fs_has_feature_extents(e2->super)) {
                ext2_extent_handle_t handle;

                /* on a zeroed i_block this writes an empty extent header and sets the flag */
                e = sym_ext2fs_extent_open2(e2, ino, (struct ext2_inode *)&inode, &handle);
                if (e)
                        goto fail;
                sym_ext2fs_extent_free(handle);
        }
        e = sym_ext2fs_write_new_inode(e2, ino, (struct ext2_inode *)&inode);
        if (e)
                goto fail;
        sym_ext2fs_inode_alloc_stats2(e2, ino, +1, 0);
        allocated = true;
        /* write_new_inode fills in the large-inode part; now give it full timestamps */
        e = read_inode(e2, ino, &inode);
        if (e)
                goto fail;
        stamp(e2, &inode, T_ATIME | T_MTIME | T_CRTIME);
        e = write_inode(e2, ino, &inode);
        if (e)
                goto fail;
        if (copy_in(fs, ino, host_fd, host_path, path, err) < 0)
                goto undo;
        /* linked last, so a failure above leaves no entry pointing at a half file */
        e = add_link(e2, dir, name, ino, EXT2_FT_REG_FILE);
        if (!e)
                e = touch_dir(e2, dir, 0);
        if (e)
                goto fail;
        return 0;
fail:
        fail_e2(fs, err, e, "create", path);
undo:
        if (allocated && read_inode(e2, ino, &inode) == 0)
                release_inode(e2, ino, &inode);
        return -1;
}

static int ext4_write_from_file(struct bimg_fs *fs, const char *host_path, const char *path,
                                struct bimg_error *err)
{
        struct ext2_inode_large inode;
        const char *name;
        ext2_ino_t dir, ino;
        struct stat hst;
        uint64_t owned;
        int host_fd = -1, ret = -1, r;

        if (check_writable(fs, err) < 0)
                return -1;
        if (strcmp(path, "/") == 0)
                return bimg_fail(err, BIMG_E_INVALID, "%s: '/' is a directory", fs->what);
        host_fd = open(host_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (host_fd < 0)
                return bimg_fail_errno(err, errno == ENOENT ? BIMG_E_NOT_FOUND : BIMG_E_IO,
                                       errno, "cannot open '%s'", host_path);
        if (fstat(host_fd, &hst) < 0) {
                bimg_fail_errno(err, BIMG_E_IO, errno, "cannot read '%s'", host_path);
                goto out;
        }
        if (S_ISDIR(hst.st_mode)) {
                bimg_fail(err, BIMG_E_INVALID, "'%s' is a directory", host_path);
                goto out;
        }
        if (resolve_parent(fs, path, &dir, &name, err) < 0)
                goto out;
        r = lookup(fs, dir, name, path, &ino, err);
        if (r < 0)
                goto out;
        if (r == 0) {
                if (load_inode(fs, ino, path, &inode, err) < 0)
                        goto out;
                if (LINUX_S_ISDIR(inode.i_mode)) {
                        bimg_fail(err, BIMG_E_INVALID, "%s: '%s' is a directory", fs->what,
                                  path);
                        goto out;
                }
                if (LINUX_S_ISLNK(inode.i_mode)) {
                        bimg_fail(err, BIMG_E_INVALID,
                                  "%s: '%s' is a symbolic link; remove it first or write to "
                                  "its target", fs->what, path);
                        goto out;
                }
                if (!LINUX_S_ISREG(inode.i_mode)) {
                        bimg_fail(err, BIMG_E_INVALID, "%s: '%s' is not a regular file",
                                  fs->what, path);
                        goto out;
                }
                owned = sym_ext2fs_get_stat_i_blocks(fs_e2(fs), (struct ext2_inode *)&inode) * 512 /
                        fs_e2(fs)->blocksize;
                if (S_ISREG(hst.st_mode) &&
                    check_space(fs, (uint64_t)hst.st_size, owned, false, path, err) < 0)
                        goto out;
                r = replace_file(fs, ino, host_fd, host_path, path, err);
        } else {
                if (S_ISREG(hst.st_mode) && check_space(fs, (uint64_t)hst.st_size, 0, true,
                                                        path, err) < 0)
                        goto out;
                r = create_file(fs, dir, name, host_fd, host_path, path, err);
        }
        /* flushed on failure too: what was undone in memory must reach the disk */
        if (flush(fs, err) < 0 || r < 0)
                goto out;
        ret = 0;
out:
        if (host_fd >= 0)
                close(host_fd);
        return ret;
}

static int ext4_mkdir(struct bimg_fs *fs, const char *path, struct bimg_error *err)
{
        ext2_filsys e2;
        struct ext2_inode_large new_inode;
        struct ext2_inode inode;
        const char *name;
        ext2_ino_t dir, ino;
        errcode_t e;
        int r;

        if (check_writable(fs, err) < 0)
                return -1;
        e2 = fs_e2(fs);         /* reopened for writing by check_writable() */
        if (strcmp(path, "/") == 0)
                return bimg_fail(err, BIMG_E_INVALID, "%s: '/' already exists", fs->what);
        if (resolve_parent(fs, path, &dir, &name, err) < 0)
                return -1;
        r = lookup(fs, dir, name, path, &ino, err);
        if (r < 0)
                return -1;
        if (r == 0)
                return bimg_fail(err, BIMG_E_INVALID, "%s: '%s' already exists", fs->what, path);
        /* ext2fs_mkdir() undoes its allocations when the parent is full */
        e = sym_ext2fs_mkdir(e2, dir, 0, name);
        if (e == EXT2_ET_DIR_NO_SPACE) {
                e = sym_ext2fs_read_inode(e2, dir, &inode);
                if (!e)
                        e = (inode.i_flags & EXT2_INDEX_FL) ? EXT2_ET_DIR_NO_SPACE
                                                            : sym_ext2fs_expand_dir(e2, dir);
                if (!e)
                        e = sym_ext2fs_mkdir(e2, dir, 0, name);
        }
        /* ext2fs_mkdir() stores 32-bit times without the epoch bits */
        if (!e)
                e = sym_ext2fs_lookup(e2, dir, name, (int)strlen(name), NULL, &ino);
        if (!e)
                e = read_inode(e2, ino, &new_inode);
        if (!e) {
                stamp(e2, &new_inode, T_ATIME | T_MTIME | T_CRTIME);
                e = write_inode(e2, ino, &new_inode);
        }
        if (!e)
                e = touch_dir(e2, dir, 0);
        r = e ? fail_e2(fs, err, e, "create the directory", path) : 0;
        if (flush(fs, err) < 0)
                return -1;
        return r;
}

struct child {
        ext2_ino_t ino;
        char *name;
};

struct children {
        struct child *v;
        size_t n, cap;
        bool oom;
        bool damaged;           /* an entry that is not a file name: see bad */
        char bad[EXT2_NAME_LEN + 1];
};

static int collect_child(ext2_ino_t dir, int entry, struct ext2_dir_entry *dirent, int offset,
                         int blocksize, char *buf, void *priv)
{
        struct children *c = priv;
        int len = sym_ext2fs_dirent_name_len(dirent);
        char *name;

        (void)dir;
        (void)offset;
        (void)blocksize;
        (void)buf;
        if (entry == DIRENT_DOT_FILE || entry == DIRENT_DOT_DOT_FILE)
                return 0;
        /* a second "." or "..", or a name with '/' or NUL: a damaged directory, which
         * is not changed (its entries cannot all be named, so not all removed) */
        if ((len == 1 && dirent->name[0] == '.') ||
            (len == 2 && dirent->name[0] == '.' && dirent->name[1] == '.') || len == 0 ||
            memchr(dirent->name, '/', (size_t)len) || memchr(dirent->name, '\0', (size_t)len)) {
                memcpy(c->bad, dirent->name, (size_t)len);
                c->bad[len] = '\0';
                c->damaged = true;
                return DIRENT_ABORT;
        }
        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 16;
                struct child *v = realloc(c->v, cap * sizeof(*v));

                if (!v)
                        goto oom;
                c->v = v;
                c->cap = cap;
        }
        name = strndup(dirent->name, (size_t)len);
        if (!name)
                goto oom;
        c->v[c->n++] = (struct child){ .ino = dirent->inode, .name = name };
        return 0;
oom:
        c->oom = true;
        return DIRENT_ABORT;
}

static void children_free(struct children *c)
{
        for (size_t i = 0; i < c->n; i++)
                free(c->v[i].name);
        free(c->v);
}

/* Unlink name (inode ino) from dir and free what nobody else links to; a directory's
 * contents go first, depth first, when recursive. */
static int remove_entry(const struct bimg_fs *fs, ext2_ino_t dir, const char *name,
                        ext2_ino_t ino, const char *path, bool recursive, unsigned depth,
                        struct bimg_error *err)
{
        ext2_filsys e2 = fs_e2(fs);
        struct ext2_inode_large inode;
        bool is_dir;
        errcode_t e;

        if (load_inode(fs, ino, path, &inode, err) < 0)
                return -1;
        is_dir = LINUX_S_ISDIR(inode.i_mode);
        if (is_dir) {
                struct children c = { 0 };
                int r = 0;

                e = sym_ext2fs_dir_iterate2(e2, ino, 0, NULL, collect_child, &c);
                if (c.oom)
                        r = bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                else if (c.damaged)
                        r = bimg_fail(err, BIMG_E_UNSUPPORTED, "%s: '%s' holds an entry named "
                                      "'%s', which is not a file name; the filesystem is "
                                      "damaged", fs->what, path, c.bad);
                else if (e)
                        r = fail_e2(fs, err, e, "read the directory", path);
                else if (c.n > 0 && !recursive)
                        r = bimg_fail(err, BIMG_E_INVALID,
                                      "%s: directory '%s' is not empty; remove it recursively",
                                      fs->what, path);
                else if (c.n > 0 && depth >= MAX_DEPTH)
                        /* also what a directory loop in a damaged filesystem looks like */
                        r = bimg_fail(err, BIMG_E_UNSUPPORTED,
                                      "%s: '%s' is nested more than %d directories deep",
                                      fs->what, path, MAX_DEPTH);
                for (size_t i = 0; r == 0 && i < c.n; i++) {
                        size_t len = strlen(path) + strlen(c.v[i].name) + 2;
                        char *sub = malloc(len);

                        if (!sub) {
                                r = bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                                break;
                        }
                        snprintf(sub, len, "%s/%s", path, c.v[i].name);
                        r = remove_entry(fs, ino, c.v[i].name, c.v[i].ino, sub, true,
                                         depth + 1, err);
                        free(sub);
                }
                children_free(&c);
                if (r < 0)
                        return -1;
                /* the children may have changed it (link count, times) */
                if (load_inode(fs, ino, path, &inode, err) < 0)
                        return -1;
        }
        e = sym_ext2fs_unlink(e2, dir, name, ino, 0);
        if (e)
                return fail_e2(fs, err, e, "remove", path);
        if (is_dir || inode.i_links_count <= 1) {
                e = release_inode(e2, ino, &inode);
        } else {
                inode.i_links_count--;
                stamp(e2, &inode, 0);
                e = write_inode(e2, ino, &inode);
        }
        /* a subdirectory's ".." was one of the parent's links */
        if (!e)
                e = touch_dir(e2, dir, is_dir ? -1 : 0);
        if (e)
                return fail_e2(fs, err, e, "remove", path);
        return 0;
}

static int ext4_remove(struct bimg_fs *fs, const char *path, bool recursive,
                       struct bimg_error *err)
{
        const char *name;
        ext2_ino_t dir, ino;
        int r;

        if (check_writable(fs, err) < 0)
                return -1;
        if (strcmp(path, "/") == 0)
                return bimg_fail(err, BIMG_E_INVALID, "%s: cannot remove '/'", fs->what);
        if (resolve_parent(fs, path, &dir, &name, err) < 0)
                return -1;
        r = lookup(fs, dir, name, path, &ino, err);
        if (r < 0)
                return -1;
        if (r > 0)
                return bimg_fail(err, BIMG_E_NOT_FOUND, "%s: '%s' does not exist", fs->what,
                                 path);
        r = remove_entry(fs, dir, name, ino, path, recursive, 0, err);
        /* flushed on failure too: a recursive removal may have done part of its work */
        if (flush(fs, err) < 0)
                return -1;
        return r;
}

static int ext4_free_space(struct bimg_fs *fs, uint64_t *ret_bytes, struct bimg_error *err)
{
        ext2_filsys e2 = fs_e2(fs);

        (void)err;
        *ret_bytes = sym_ext2fs_free_blocks_count(e2->super) * (uint64_t)e2->blocksize;
        return 0;
}

struct block_ranges {
        struct range_set *set;
        uint64_t block_size;
};

static int note_block(ext2_filsys e2, blk64_t *blocknr, e2_blkcnt_t blockcnt, blk64_t ref_blk,
                      int ref_offset, void *data)
{
        struct block_ranges *b = data;

        (void)e2;
        (void)blockcnt;
        (void)ref_blk;
        (void)ref_offset;
        return range_add(b->set, *blocknr * b->block_size, (*blocknr + 1) * b->block_size) < 0
                       ? BLOCK_ABORT
                       : 0;
}

/* The free blocks: a change never reads one (libext2fs zeroes or fills a block
 * it allocates before it is used), so its staged copy need not hold them; nor
 * the journal's, which libext2fs never reads or writes (it refuses to write
 * where the journal needs recovery). An image whose free space is stored as
 * data (not sparse: what unzip makes) would otherwise have all of it copied and
 * compared. Nothing when the bitmap cannot be read. */
static void ext4_leave_out(struct bimg_fs *fs, const char *const *paths, size_t n,
                           struct range_set *ret)
{
        ext2_filsys e2 = fs_e2(fs);
        blk64_t end = sym_ext2fs_blocks_count(e2->super), at = e2->super->s_first_data_block;
        uint64_t bs = e2->blocksize;
        struct block_ranges journal = { ret, bs };

        (void)paths;    /* a change's own blocks are in use, or freed by it first */
        (void)n;
        if (!e2->block_map && sym_ext2fs_read_block_bitmap(e2) != 0)
                return;
        if (ext2fs_has_feature_journal(e2->super) && e2->super->s_journal_inum &&
            sym_ext2fs_block_iterate3(e2, e2->super->s_journal_inum,
                                      BLOCK_FLAG_READ_ONLY | BLOCK_FLAG_DATA_ONLY, NULL,
                                      note_block, &journal) != 0) {
                range_free(ret);
                return;
        }
        while (at < end) {
                blk64_t first_free, next_used;

                if (sym_ext2fs_find_first_zero_block_bitmap2(e2->block_map, at, end - 1,
                                                             &first_free) != 0)
                        break;
                if (sym_ext2fs_find_first_set_block_bitmap2(e2->block_map, first_free, end - 1,
                                                            &next_used) != 0)
                        next_used = end;
                if (range_add(ret, first_free * bs, next_used * bs) < 0) {
                        range_free(ret);        /* less left out, never more */
                        return;
                }
                at = next_used;
        }
        range_normalize(ret);
        range_shrink_to(ret, FS_LEAVE_OUT_ALIGN);
}

const struct bimg_fs_ops ext4_ops = {
        .name = "ext4",
        .open = ext4_open,
        .close = ext4_close,
        .list = ext4_list,
        .stat = ext4_stat,
        .read_to_fd = ext4_read_to_fd,
        .write_from_file = ext4_write_from_file,
        .mkdir = ext4_mkdir,
        .remove = ext4_remove,
        .free_space = ext4_free_space,
        .leave_out = ext4_leave_out,
};
