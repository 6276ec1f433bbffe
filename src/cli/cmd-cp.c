/* SPDX-License-Identifier: Apache-2.0 */
/* balena-img cp [-r] SOURCE DEST: host to image, or image to host. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/path.h"
#include "cli.h"

/* ---- into the image: staged in one transaction ------------------------- */

struct copy_in {
        struct bimg_txn *txn;
        const struct bimg_part *part;
};

static int stage_in(struct copy_in *c, const char *host, const char *dest, bool recursive,
                    struct bimg_error *err);

static int stage_in_dir(struct copy_in *c, const char *host, const char *dest,
                        struct bimg_error *err)
{
        struct dirent *de;
        DIR *d;
        int ret;

        if (bimg_txn_mkdir(c->txn, c->part, dest, err) < 0)
                return -1;
        d = opendir(host);
        if (!d)
                return bimg_fail_errno(err, BIMG_E_NOT_FOUND, errno, "cannot read '%s'", host);
        ret = 0;
        while (ret == 0 && (de = readdir(d))) {
                char hchild[PATH_MAX], ichild[PATH_MAX];

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (path_join(host, de->d_name, hchild, sizeof(hchild), err) < 0 ||
                    path_join(dest, de->d_name, ichild, sizeof(ichild), err) < 0)
                        ret = -1;
                else
                        ret = stage_in(c, hchild, ichild, true, err);
        }
        closedir(d);
        return ret;
}

static int stage_in(struct copy_in *c, const char *host, const char *dest, bool recursive,
                    struct bimg_error *err)
{
        struct stat st;

        if (stat(host, &st) < 0)
                return bimg_fail_errno(err, BIMG_E_NOT_FOUND, errno, "cannot copy '%s'", host);
        if (S_ISDIR(st.st_mode)) {
                if (!recursive)
                        return bimg_fail(err, BIMG_E_USAGE, "'%s' is a folder; use -r to copy "
                                         "it with everything in it", host);
                return stage_in_dir(c, host, dest, err);
        }
        if (!S_ISREG(st.st_mode))
                return bimg_fail(err, BIMG_E_INVALID, "'%s' is not a regular file or folder",
                                 host);
        return bimg_txn_put_file(c->txn, c->part, dest, host, err);
}

/* Every host file is found and read before the image changes. */
static int copy_in(struct cli_target *t, const char *host, const char *dest, bool recursive,
                   struct bimg_error *err)
{
        struct copy_in c = { .part = t->part };
        char parent[PATH_MAX];
        struct bimg_stat st;
        int r;

        /* like cp(1), the destination's folder must exist: -r creates only what it copies */
        path_parent(dest, parent, sizeof(parent));
        if (bimg_fs_stat(t->fs, parent, &st, err) < 0)
                return -1;
        if (!st.is_dir)
                return bimg_fail(err, BIMG_E_INVALID, "'%s' is not a folder", parent);
        if (bimg_txn_begin(t->img, &c.txn, err) < 0)
                return -1;
        r = stage_in(&c, host, dest, recursive, err);
        if (r == 0)
                r = bimg_txn_commit(c.txn, NULL, NULL, err);
        bimg_txn_free(c.txn);
        return r;
}

/* DEST names the target, or an existing folder to copy into. */
static int resolve_dest_in(struct bimg_fs *fs, const char *host, const char *dest,
                           char *out, size_t size, struct bimg_error *err)
{
        struct bimg_stat st;
        char host_copy[PATH_MAX];
        const char *name;
        int r;

        snprintf(host_copy, sizeof(host_copy), "%s", host);
        while (strlen(host_copy) > 1 && host_copy[strlen(host_copy) - 1] == '/')
                host_copy[strlen(host_copy) - 1] = '\0';
        name = path_basename(host_copy);
        r = bimg_fs_lookup(fs, dest, &st, err);
        if (r < 0)
                return -1;
        if (r == 1 && st.is_dir)
                return path_join(dest, name, out, size, err);
        snprintf(out, size, "%s", dest);
        return 0;
}

/* ---- out of the image -------------------------------------------------- */

static int copy_out(struct bimg_fs *fs, const char *src, const char *host, bool recursive,
                    struct bimg_error *err);

/* Write to a temporary name beside host, then rename: no half-written host file. */
static int copy_out_file(struct bimg_fs *fs, const char *src, const char *host,
                         struct bimg_error *err)
{
        char tmp[PATH_MAX];
        int fd, r;

        if (snprintf(tmp, sizeof(tmp), "%s.bimg-XXXXXX", host) >= (int)sizeof(tmp))
                return bimg_fail(err, BIMG_E_INVALID, "host path '%s' is too long", host);
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return bimg_fail_errno(err, BIMG_E_IO, errno, "cannot create '%s'", host);
        r = bimg_fs_read_to_fd(fs, src, fd, err);
        if (r == 0 && fchmod(fd, 0644) < 0)
                r = bimg_fail_errno(err, BIMG_E_IO, errno, "cannot write '%s'", host);
        if (close(fd) < 0 && r == 0)
                r = bimg_fail_errno(err, BIMG_E_IO, errno, "cannot write '%s'", host);
        if (r == 0 && rename(tmp, host) < 0)
                r = bimg_fail_errno(err, BIMG_E_IO, errno, "cannot write '%s'", host);
        if (r < 0)
                unlink(tmp);
        return r;
}

struct walk_out {
        struct bimg_fs *fs;
        const char *src, *host;
        struct bimg_error *err;
        int ret;
};

static int copy_out_entry(const char *name, const struct bimg_stat *st, void *data)
{
        struct walk_out *w = data;
        char ichild[PATH_MAX], hchild[PATH_MAX];

        if (st->is_symlink) {   /* never recreate image links on the host */
                fprintf(stderr, PROGRAM ": warning: skipping symbolic link '%s/%s'\n",
                        strcmp(w->src, "/") ? w->src : "", name);
                return 0;
        }
        if (path_join(w->src, name, ichild, sizeof(ichild), w->err) < 0 ||
            path_join(w->host, name, hchild, sizeof(hchild), w->err) < 0 ||
            copy_out(w->fs, ichild, hchild, true, w->err) < 0) {
                w->ret = -1;
                return 1;
        }
        return 0;
}

static int copy_out(struct bimg_fs *fs, const char *src, const char *host, bool recursive,
                    struct bimg_error *err)
{
        struct walk_out w = { fs, src, host, err, 0 };
        struct bimg_stat st;

        if (bimg_fs_stat(fs, src, &st, err) < 0)
                return -1;
        if (!st.is_dir)
                return copy_out_file(fs, src, host, err);
        if (!recursive)
                return bimg_fail(err, BIMG_E_USAGE, "'%s' is a folder; use -r to copy it with "
                                 "everything in it", src);
        if (mkdir(host, 0755) < 0 && errno != EEXIST)
                return bimg_fail_errno(err, BIMG_E_IO, errno, "cannot create folder '%s'", host);
        if (bimg_fs_list(fs, src, copy_out_entry, &w, err) < 0)
                return -1;
        return w.ret;
}

static int resolve_dest_out(const char *src, const char *host, char *out, size_t size,
                            struct bimg_error *err)
{
        struct stat st;

        if (stat(host, &st) == 0 && S_ISDIR(st.st_mode))
                return path_join(host, strcmp(src, "/") ? path_basename(src) : "root", out,
                                 size, err);
        snprintf(out, size, "%s", host);
        return 0;
}

/* ---- the command ------------------------------------------------------- */

static int is_spec(const char *arg)
{
        struct bimg_pathspec *spec = malloc(sizeof(*spec));
        struct bimg_error ignored = { 0 };
        int r;

        if (!spec)
                return -1;
        r = path_parse_spec(arg, spec, &ignored);
        free(spec);
        return r != 0;          /* an invalid spec is still meant as one */
}

int cmd_cp(int argc, char **argv, struct bimg_error *err)
{
        static const struct option options[] = {
                { "recursive", no_argument, NULL, 'r' },
                { "output", required_argument, NULL, 'o' },
                { "bmap", no_argument, NULL, 'b' },
                CLI_COMMON_OPTIONS,
        };
        struct cli_target t;
        char dest[PATH_MAX];
        const char *output = NULL;
        bool bmap = false;
        bool recursive = false, in;
        const char *src, *dst;
        int opt, ret = -1;

        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":rRo:h", options, NULL)) != -1) {
                if (cli_common_option(opt, err))
                        continue;
                switch (opt) {
                case 'r':
                case 'R':
                        recursive = true;
                        break;
                case 'o':
                        output = optarg;
                        break;
                case 'b':
                        bmap = true;
                        break;
                case CLI_OPT_HELP:
                        cli_print_help("cp");
                        return 0;
                default:
                        return cli_bad_option("cp", opt, argv, err);
                }
        }
        if (argc - optind != 2)
                return cli_usage_error("cp", err, "expected SOURCE and DEST");
        src = argv[optind];
        dst = argv[optind + 1];
        if (is_spec(src) == is_spec(dst))
                return cli_usage_error("cp", err, "exactly one of SOURCE and DEST must be "
                                       "IMAGE:PART/PATH (copy through a host file to go from one "
                                       "image to another)");
        in = is_spec(dst);
        if ((output || bmap) && !in)
                return cli_usage_error("cp", err, "-o and --bmap go with a copy into an "
                                       "image");
        if (cli_open_target(in ? dst : src, in, output, bmap, &t, err) < 0)
                return -1;
        if (in) {
                if (resolve_dest_in(t.fs, src, t.path, dest, sizeof(dest), err) == 0)
                        ret = copy_in(&t, src, dest, recursive, err);
        } else {
                if (resolve_dest_out(t.path, dst, dest, sizeof(dest), err) == 0)
                        ret = copy_out(t.fs, t.path, dest, recursive, err);
        }
        return cli_close_target(&t, ret, err);
}
