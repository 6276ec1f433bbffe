/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one write path. Commands stage their changes here; commit checks the
 * whole plan against the image (every target, every parent folder) before the
 * first write, then applies it in order. Files that would not change are not
 * written, so a second identical run leaves the image byte-identical.
 *
 * In place, the plan is applied to private copies of the partitions it
 * touches, and only the bytes that then differ go into the image, through a
 * rollback journal (image/journal.c): killed at any instant, the image is as
 * before or as after. A fresh -o copy (BIMG_OPEN_PRIVATE) is changed directly.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "base/path.h"
#include "fs/fs.h"
#include "image/image.h"

enum op_kind { OP_PUT, OP_MKDIR, OP_REMOVE };

struct op {
        enum op_kind kind;
        const struct bimg_part *part;
        char *path;             /* normalised */
        void *data;             /* OP_PUT from memory */
        size_t len;
        char *host_path;        /* OP_PUT from a host file (absolute) */
        bool recursive;         /* OP_REMOVE */
        enum bimg_change_kind change;   /* decided by the plan */
};

struct bimg_txn {
        struct bimg_image *img;
        struct op *ops;
        size_t n_ops;
        char tmpdir[PATH_MAX - 16];     /* staging files for the tools, made on first use */
};

int bimg_txn_begin(struct bimg_image *img, struct bimg_txn **ret_txn, struct bimg_error *err)
{
        struct bimg_txn *txn;

        if (bimg_image_check_editable(img, err) < 0)
                return -1;
        txn = calloc(1, sizeof(*txn));
        if (!txn)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        txn->img = img;
        *ret_txn = txn;
        return 0;
}

void bimg_txn_free(struct bimg_txn *txn)
{
        if (!txn)
                return;
        for (size_t i = 0; i < txn->n_ops; i++) {
                free(txn->ops[i].path);
                free(txn->ops[i].data);
                free(txn->ops[i].host_path);
        }
        free(txn->ops);
        if (txn->tmpdir[0])
                rmdir(txn->tmpdir);
        free(txn);
}

static bool has_op_on(const struct bimg_txn *txn, const struct bimg_part *part)
{
        for (size_t i = 0; i < txn->n_ops; i++)
                if (txn->ops[i].part == part)
                        return true;
        return false;
}

void bimg_txn_expect(struct bimg_txn *txn, const struct bimg_part *part)
{
        struct bimg_error ignored = { 0 };
        struct bimg_fs *fs;

        /* only a change in place stages copies, and commits through a journal */
        if (!txn->img->writable || txn->img->private_copy)
                return;
        if (bimg_image_fs(txn->img, part, &fs, &ignored) == 0)
                fs_expect_change(fs);
        journal_prepare(txn->img);
}

/* A new op with its path checked for the partition's filesystem. */
static struct op *add_op(struct bimg_txn *txn, enum op_kind kind, const struct bimg_part *part,
                         const char *path, struct bimg_error *err)
{
        char norm[PATH_MAX];
        struct bimg_fs *fs;
        struct op *grown;

        if (path_normalize(path, norm, sizeof(norm), err) < 0 ||
            bimg_image_fs(txn->img, part, &fs, err) < 0 ||
            bimg_fs_check_path(fs, norm, err) < 0)
                return NULL;
        grown = realloc(txn->ops, (txn->n_ops + 1) * sizeof(*grown));
        if (!grown) {
                bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                return NULL;
        }
        txn->ops = grown;
        if (!has_op_on(txn, part))
                bimg_txn_expect(txn, part);
        grown = &txn->ops[txn->n_ops];
        *grown = (struct op){ .kind = kind, .part = part, .path = strdup(norm) };
        if (!grown->path) {
                bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                return NULL;
        }
        txn->n_ops++;
        return grown;
}

int bimg_txn_put(struct bimg_txn *txn, const struct bimg_part *part, const char *path,
                 const void *data, size_t len, struct bimg_error *err)
{
        void *copy = malloc(len ? len : 1);
        struct op *op;

        if (!copy)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        memcpy(copy, data, len);
        op = add_op(txn, OP_PUT, part, path, err);
        if (!op) {
                free(copy);
                return -1;
        }
        op->data = copy;
        op->len = len;
        return 0;
}

int bimg_txn_put_file(struct bimg_txn *txn, const struct bimg_part *part, const char *path,
                      const char *host_path, struct bimg_error *err)
{
        char abs[PATH_MAX];
        struct stat st;
        struct op *op;
        int fd;

        fd = open(host_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return bimg_fail_errno(err, errno == ENOENT ? BIMG_E_NOT_FOUND : BIMG_E_IO, errno,
                                       "cannot read '%s'", host_path);
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return bimg_fail(err, BIMG_E_INVALID, "'%s' is not a regular file", host_path);
        }
        close(fd);
        if (!realpath(host_path, abs))
                return bimg_fail_errno(err, BIMG_E_IO, errno, "cannot read '%s'", host_path);
        op = add_op(txn, OP_PUT, part, path, err);
        if (!op)
                return -1;
        op->host_path = strdup(abs);
        op->len = (size_t)st.st_size;
        if (!op->host_path)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        return 0;
}

int bimg_txn_mkdir(struct bimg_txn *txn, const struct bimg_part *part, const char *path,
                   struct bimg_error *err)
{
        return add_op(txn, OP_MKDIR, part, path, err) ? 0 : -1;
}

int bimg_txn_remove(struct bimg_txn *txn, const struct bimg_part *part, const char *path,
                    bool recursive, struct bimg_error *err)
{
        struct op *op = add_op(txn, OP_REMOVE, part, path, err);

        if (!op)
                return -1;
        op->recursive = recursive;
        return 0;
}

/* ---- planning ----------------------------------------------------------- */

/* Earlier ops of this plan that make path a folder (mkdir of it or below it). */
static bool staged_dir(const struct bimg_txn *txn, size_t before, const struct bimg_part *part,
                       const char *path)
{
        size_t len = strlen(path);

        for (size_t i = 0; i < before; i++) {
                const struct op *op = &txn->ops[i];

                if (op->kind == OP_MKDIR && op->part == part &&
                    strncmp(op->path, path, len) == 0 && (op->path[len] == '/' || !op->path[len]))
                        return true;
        }
        return false;
}

/* An earlier op of this plan that wrote path (so its current content does not count). */
static bool staged_put(const struct bimg_txn *txn, size_t before, const struct op *op)
{
        for (size_t i = 0; i < before; i++)
                if (txn->ops[i].kind == OP_PUT && txn->ops[i].part == op->part &&
                    strcmp(txn->ops[i].path, op->path) == 0)
                        return true;
        return false;
}

static int read_host(const struct op *op, char **ret, struct bimg_error *err)
{
        size_t len;

        if (file_read_path(op->host_path, op->len, ret, &len, err) < 0)
                return -1;
        if (len == op->len)
                return 0;
        free(*ret);
        return bimg_fail(err, BIMG_E_IO, "'%s' changed while it was being copied",
                         op->host_path);
}

/* Does the file at op->path already hold exactly what op would write? */
static int same_content(struct bimg_fs *fs, const struct op *op, bool *ret_same,
                        struct bimg_error *err)
{
        char *current = NULL, *wanted = NULL;
        size_t len;

        if (bimg_fs_read_alloc(fs, op->path, op->len, &current, &len, err) < 0)
                return -1;
        if (op->host_path && read_host(op, &wanted, err) < 0) {
                free(current);
                return -1;
        }
        *ret_same = len == op->len &&
                    memcmp(current, op->host_path ? wanted : op->data, len) == 0;
        free(current);
        free(wanted);
        return 0;
}

static int plan_put(struct bimg_txn *txn, size_t i, struct bimg_fs *fs, struct bimg_error *err)
{
        struct op *op = &txn->ops[i];
        char parent[PATH_MAX];
        struct bimg_stat st;
        bool same = false;
        int r;

        path_parent(op->path, parent, sizeof(parent));
        if (!staged_dir(txn, i, op->part, parent)) {
                r = bimg_fs_lookup(fs, parent, &st, err);
                if (r < 0)
                        return -1;
                if (r == 0 || !st.is_dir)
                        return bimg_fail(err, r == 0 ? BIMG_E_NOT_FOUND : BIMG_E_INVALID,
                                         "%s: folder '%s' does not exist", fs->what, parent);
        }
        r = bimg_fs_lookup(fs, op->path, &st, err);
        if (r < 0)
                return -1;
        if (r == 1 && st.is_dir)
                return bimg_fail(err, BIMG_E_INVALID, "%s: '%s' is a folder", fs->what, op->path);
        if (r == 1 && st.is_symlink)
                return bimg_fail(err, BIMG_E_INVALID, "%s: '%s' is a symbolic link; remove it "
                                 "first", fs->what, op->path);
        if (r == 1 && !staged_put(txn, i, op) && st.size == op->len &&
            same_content(fs, op, &same, err) < 0)
                return -1;
        op->change = r == 0 ? BIMG_CHANGE_ADD : same ? BIMG_CHANGE_UNCHANGED : BIMG_CHANGE_REPLACE;
        return 0;
}

static int count_entry(const char *name, const struct bimg_stat *st, void *data)
{
        (void)name;
        (void)st;
        ++*(size_t *)data;
        return 1;               /* one is enough */
}

/* Whether a folder is empty; false with err set if it cannot be listed. */
static bool is_empty_dir(struct bimg_fs *fs, const char *path, struct bimg_error *err)
{
        size_t n = 0;

        return bimg_fs_list(fs, path, count_entry, &n, err) == 0 && n == 0;
}

/* mkdir -p: each existing component must be a folder; the first missing one
 * (and all below it) will be made. */
static int plan_mkdir(struct bimg_fs *fs, struct op *op, struct bimg_error *err)
{
        char partial[PATH_MAX];
        struct bimg_stat st;

        op->change = BIMG_CHANGE_UNCHANGED;
        for (const char *p = op->path + 1; op->path[1]; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                snprintf(partial, sizeof(partial), "%.*s", (int)(p - op->path), op->path);
                int r = bimg_fs_lookup(fs, partial, &st, err);

                if (r < 0)
                        return -1;
                if (r == 0) {
                        op->change = BIMG_CHANGE_MKDIR;
                        return 0;
                }
                if (!st.is_dir)
                        return bimg_fail(err, BIMG_E_INVALID, "%s: '%s' exists and is not a "
                                         "folder", fs->what, partial);
                if (*p == '\0')
                        break;
        }
        return 0;
}

static int plan_op(struct bimg_txn *txn, size_t i, struct bimg_error *err)
{
        struct op *op = &txn->ops[i];
        struct bimg_stat st;
        struct bimg_fs *fs;
        int r;

        if (bimg_image_fs(txn->img, op->part, &fs, err) < 0)
                return -1;
        switch (op->kind) {
        case OP_PUT:
                return plan_put(txn, i, fs, err);
        case OP_MKDIR:
                return plan_mkdir(fs, op, err);
        case OP_REMOVE:
        default:
                r = bimg_fs_lookup(fs, op->path, &st, err);
                if (r == 0)
                        return bimg_fail(err, BIMG_E_NOT_FOUND, "%s: '%s' does not exist",
                                         fs->what, op->path);
                if (r < 0)
                        return -1;
                if (strcmp(op->path, "/") == 0)
                        return bimg_fail(err, BIMG_E_INVALID, "%s: refusing to remove '/'",
                                         fs->what);
                if (st.is_dir && !op->recursive && !is_empty_dir(fs, op->path, err))
                        return err->status != BIMG_OK ? -1
                               : bimg_fail(err, BIMG_E_INVALID, "%s: folder '%s' is not empty; "
                                           "use -r to remove it with everything in it",
                                           fs->what, op->path);
                op->change = BIMG_CHANGE_REMOVE;
                return 0;
        }
}

static int plan_all(struct bimg_txn *txn, struct bimg_error *err)
{
        for (size_t i = 0; i < txn->n_ops; i++)
                if (plan_op(txn, i, err) < 0)
                        return -1;
        return 0;
}

/* The planned changes, told once the whole plan holds (or, committing, once
 * it is in the image): a failure never leaves lines for changes not made. */
static void report(const struct bimg_txn *txn, bimg_change_fn fn, void *data)
{
        for (size_t i = 0; fn && i < txn->n_ops; i++) {
                const struct op *op = &txn->ops[i];

                /* an existing folder is not news; an unchanged file is */
                if (!(op->kind == OP_MKDIR && op->change == BIMG_CHANGE_UNCHANGED))
                        fn(op->change, op->part, op->path, op->len, data);
        }
}

int bimg_txn_plan(struct bimg_txn *txn, bimg_change_fn fn, void *data, struct bimg_error *err)
{
        if (plan_all(txn, err) < 0)
                return -1;
        report(txn, fn, data);
        return 0;
}

/* ---- applying ----------------------------------------------------------- */

/* Memory contents reach the tools as a file in a private folder. */
static int stage_file(struct bimg_txn *txn, const struct op *op, char *ret_path, size_t size,
                      struct bimg_error *err)
{
        size_t index = (size_t)(op - txn->ops);

        int fd, r;

        if (!txn->tmpdir[0]) {
                snprintf(txn->tmpdir, sizeof(txn->tmpdir), "%s/balena-img-XXXXXX",
                         file_scratch_dir());
                if (!mkdtemp(txn->tmpdir)) {
                        txn->tmpdir[0] = '\0';
                        return bimg_fail_errno(err, BIMG_E_IO, errno, "cannot create a "
                                               "temporary folder in '%s'",
                                               file_scratch_dir());
                }
        }
        snprintf(ret_path, size, "%s/stage-%zu", txn->tmpdir, index);
        fd = open(ret_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return bimg_fail_errno(err, BIMG_E_IO, errno, "cannot write '%s'", ret_path);
        r = file_write_all(fd, op->data, op->len);
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r < 0) {
                unlink(ret_path);
                return bimg_fail_errno(err, BIMG_E_IO, -r, "cannot write '%s'", ret_path);
        }
        return 0;
}

/* mkdir -p inside the image. */
static int make_dirs(struct bimg_fs *fs, const char *path, struct bimg_error *err)
{
        char partial[PATH_MAX];
        struct bimg_stat st;

        for (const char *p = path + 1;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                snprintf(partial, sizeof(partial), "%.*s", (int)(p - path), path);
                int r = bimg_fs_lookup(fs, partial, &st, err);

                if (r < 0 || (r == 0 && bimg_fs_mkdir(fs, partial, err) < 0))
                        return -1;
                if (*p == '\0')
                        return 0;
        }
}

static int apply_op(const struct op *op, struct bimg_fs *fs, struct bimg_error *err)
{
        if (op->kind == OP_MKDIR)
                return strcmp(op->path, "/") == 0 ? 0 : make_dirs(fs, op->path, err);
        return bimg_fs_remove(fs, op->path, op->recursive, err);
}

/* Files written one after the other into one filesystem go in at once (one mcopy
 * on FAT); contents from memory reach the tools as staged files. */
static int apply_puts(struct bimg_txn *txn, const struct op *const *ops, size_t n,
                      struct bimg_fs *fs, struct bimg_error *err)
{
        struct fs_put *puts = calloc(n, sizeof(*puts));
        char (*staged)[PATH_MAX] = calloc(n, sizeof(*staged));
        int r = puts && staged ? 0 : bimg_fail(err, BIMG_E_FAILURE, "out of memory");

        for (size_t i = 0; i < n && r == 0; i++) {
                puts[i] = (struct fs_put){ ops[i]->host_path, ops[i]->path };
                if (!ops[i]->host_path) {
                        r = stage_file(txn, ops[i], staged[i], sizeof(staged[i]), err);
                        puts[i].host_path = staged[i];
                }
        }
        if (r == 0)
                r = fs_write_files(fs, puts, n, err);
        for (size_t i = 0; staged && i < n; i++)
                if (staged[i][0])
                        unlink(staged[i]);
        free(puts);
        free(staged);
        return r;
}

/* The filesystem an op applies to: the image's own, or a staged copy's. */
typedef struct bimg_fs *(*fs_for_fn)(struct bimg_txn *txn, const struct bimg_part *part,
                                     void *data, struct bimg_error *err);

/* Every op that changes something, in order; runs of puts into one partition
 * are applied together. */
static int apply_all(struct bimg_txn *txn, fs_for_fn fs_for, void *data, struct bimg_error *err)
{
        const struct op **run = calloc(txn->n_ops ? txn->n_ops : 1, sizeof(*run));
        int r = run ? 0 : bimg_fail(err, BIMG_E_FAILURE, "out of memory");

        for (size_t i = 0; r == 0 && i < txn->n_ops;) {
                const struct op *op = &txn->ops[i];
                struct bimg_fs *fs;
                size_t n = 0;

                if (op->change == BIMG_CHANGE_UNCHANGED) {
                        i++;
                        continue;
                }
                fs = fs_for(txn, op->part, data, err);
                if (!fs) {
                        r = -1;
                } else if (op->kind != OP_PUT) {
                        r = apply_op(op, fs, err);
                        i++;
                } else {
                        /* ops that change nothing (a folder that exists) do not
                         * break a run */
                        for (; i < txn->n_ops; i++) {
                                const struct op *next = &txn->ops[i];

                                if (next->change == BIMG_CHANGE_UNCHANGED)
                                        continue;
                                if (next->part != op->part || next->kind != OP_PUT)
                                        break;
                                run[n++] = next;
                        }
                        r = apply_puts(txn, run, n, fs, err);
                }
        }
        free(run);
        return r;
}

static struct bimg_fs *image_fs(struct bimg_txn *txn, const struct bimg_part *part, void *data,
                                struct bimg_error *err)
{
        struct bimg_fs *fs;

        (void)data;
        return bimg_image_fs(txn->img, part, &fs, err) < 0 ? NULL : fs;
}

/* A fresh output nobody else has: straight into the image. */
static int apply_directly(struct bimg_txn *txn, struct bimg_error *err)
{
        return apply_all(txn, image_fs, NULL, err);
}

/* One partition the plan changes: its private copy and the filesystem on it. */
struct staged_part {
        const struct bimg_part *part;
        int fd;
        struct bimg_fs *fs;
};

struct staged {
        struct staged_part *parts;
        size_t n;
};

/* What part's private copy may leave out: bytes that only files the plan does
 * not touch use (on a boot partition, the firmware), as its filesystem finds. */
static void leave_out(const struct bimg_txn *txn, const struct bimg_part *part,
                      struct range_set *ret)
{
        const char **paths = calloc(txn->n_ops + 1, sizeof(*paths));
        struct bimg_error ignored = { 0 };
        struct bimg_fs *fs;
        size_t n = 0;

        *ret = (struct range_set){ 0 };
        if (!paths || bimg_image_fs(txn->img, part, &fs, &ignored) < 0) {
                free(paths);
                return;
        }
        for (size_t i = 0; i < txn->n_ops; i++)
                if (txn->ops[i].part == part)
                        paths[n++] = txn->ops[i].path;
        fs_leave_out(fs, paths, n, ret);
        free(paths);
}

/* part's private copy, made on first use */
static struct bimg_fs *staged_fs(struct bimg_txn *txn, const struct bimg_part *part, void *data,
                                 struct bimg_error *err)
{
        struct staged *s = data;
        struct staged_part *sp;
        struct range_set skip;
        int r;

        for (size_t i = 0; i < s->n; i++)
                if (s->parts[i].part == part)
                        return s->parts[i].fs;
        sp = &s->parts[s->n++];
        *sp = (struct staged_part){ part, -1, NULL };
        leave_out(txn, part, &skip);
        r = stage_copy(txn->img, part, &skip, &sp->fd, err);
        range_free(&skip);
        if (r < 0 || fs_open_copy(sp->fd, txn->img, part, &sp->fs, err) < 0)
                return NULL;
        return sp->fs;
}

/* Every change made on the copies, then the differences committed at once. */
static int apply_staged(struct bimg_txn *txn, struct bimg_error *err)
{
        struct staged s = { calloc(txn->img->n_parts, sizeof(*s.parts)), 0 };
        struct image_patch *patches = NULL;
        size_t n_patches = 0;
        int r = s.parts ? apply_all(txn, staged_fs, &s, err)
                        : bimg_fail(err, BIMG_E_FAILURE, "out of memory");

        for (size_t i = 0; i < s.n; i++) {
                fs_close(s.parts[i].fs);        /* flushed: the copy is complete */
                s.parts[i].fs = NULL;
                if (r == 0)
                        r = stage_diff(txn->img, s.parts[i].part, s.parts[i].fd, &patches,
                                       &n_patches, err);
                /* what was read from the image before is stale after the commit */
                fs_forget(txn->img, s.parts[i].part);
        }
        if (r == 0)
                r = journal_commit(txn->img, patches, n_patches, err);
        for (size_t i = 0; i < s.n; i++)
                if (s.parts[i].fd >= 0)
                        close(s.parts[i].fd);
        free(s.parts);
        free(patches);
        return r;
}

int bimg_txn_commit(struct bimg_txn *txn, bimg_change_fn fn, void *data, struct bimg_error *err)
{
        if (!txn->img->writable)
                return bimg_fail(err, BIMG_E_FAILURE, "'%s' was opened read-only",
                                 txn->img->path);
        if (plan_all(txn, err) < 0 ||
            (txn->img->private_copy ? apply_directly(txn, err) : apply_staged(txn, err)) < 0)
                return -1;
        report(txn, fn, data);
        return 0;
}
