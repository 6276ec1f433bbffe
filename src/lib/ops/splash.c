/* SPDX-License-Identifier: Apache-2.0 */
/* The splash logo: PNG only, named by the OS version, never at the cost of updates. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/file.h"
#include "fs/fs.h"
#include "ops/headroom.h"
#include "ops/ops.h"
#include "ops/png.h"
#include "ops/splash.h"

#define PNG_MAX (16 * 1024 * 1024)

/* HUP copies the new boot files over the old ones and needs one more copy of the
 * largest file plus a margin (spec 2.3): keep that much free after the change. */
static int check_headroom(struct bimg_fs *fs, const char *target, uint64_t new_size,
                          struct bimg_error *err)
{
        struct bimg_stat st;
        struct bimg_error probe = { 0 };
        uint64_t free_now, old = 0, free_after, need, largest;
        char largest_path[512];

        if (bimg_fs_free_space(fs, &free_now, err) < 0 ||
            headroom_largest(fs, target, &largest, largest_path, sizeof(largest_path), err) < 0)
                return -1;
        if (bimg_fs_stat(fs, target, &st, &probe) == 0)
                old = headroom_on_disk(st.size);
        if (new_size > largest)
                largest = new_size;
        free_after = free_now + old >= headroom_on_disk(new_size)
                             ? free_now + old - headroom_on_disk(new_size) : 0;
        need = headroom_on_disk(largest) + HEADROOM_MARGIN;
        if (free_after >= need)
                return 0;
        return bimg_fail(err, BIMG_E_INVALID, "splash: %s would keep %.1f MiB free, but OS "
                         "updates need %.1f MiB there (one more copy of the largest file plus "
                         "512 KiB); %.1f MiB missing: use a smaller PNG", fs->what,
                         free_after / 1048576.0, need / 1048576.0,
                         (need - free_after) / 1048576.0);
}

struct splash_files {
        bool balena, resin, dir;
};

static int note_splash(const char *name, const struct bimg_stat *st, void *data)
{
        struct splash_files *f = data;

        if (strcasecmp(name, "balena-logo.png") == 0)
                f->balena = !st->is_dir;
        else if (strcasecmp(name, "resin-logo.png") == 0)
                f->resin = !st->is_dir;
        return 0;
}

/* balena-logo.png from v2.53.0 on, resin-logo.png before (spec 5); with no version
 * known, the name already there. */
static const char *splash_name(struct bimg_fs *fs, const struct bimg_info *info,
                               struct splash_files *f)
{
        struct bimg_error probe = { 0 };
        struct bimg_stat st;
        struct bimg_version v, cut;

        f->dir = bimg_fs_stat(fs, "/splash", &st, &probe) == 0 && st.is_dir;
        if (f->dir)
                bimg_fs_list(fs, "/splash", note_splash, f, &probe);
        if (info->os_version[0] && bimg_version_parse(info->os_version, &v, &probe) == 0 &&
            bimg_version_parse("2.53.0", &cut, &probe) == 0)
                return bimg_version_compare(&v, &cut) < 0 ? "/splash/resin-logo.png"
                                                          : "/splash/balena-logo.png";
        return f->resin && !f->balena ? "/splash/resin-logo.png" : "/splash/balena-logo.png";
}

int splash_stage(struct bimg_image *img, struct bimg_txn *txn, const struct bimg_part *boot,
                 const struct bimg_info *info, const char *png_file, struct bimg_error *err)
{
        struct splash_files f = { 0 };
        struct png_facts facts;
        struct bimg_fs *fs;
        const char *target;
        char *data;
        size_t len;
        int r;

        if (bimg_image_fs(img, boot, &fs, err) < 0 ||
            file_read_path(png_file, PNG_MAX, &data, &len, err) < 0)
                return -1;
        r = png_check(data, len, png_file, &facts, err);
        target = splash_name(fs, info, &f);
        if (r == 0)
                r = check_headroom(fs, target, len, err);
        if (r == 0 && !f.dir)
                r = bimg_txn_mkdir(txn, boot, "/splash", err);
        if (r == 0)
                r = bimg_txn_put(txn, boot, target, data, len, err);
        free(data);
        return r;
}

int bimg_set_splash(struct bimg_image *img, const char *png_file, bool dry_run,
                    bimg_change_fn fn, void *data, struct bimg_error *err)
{
        struct bimg_configure_opts opts;

        png_preload();
        bimg_configure_opts_init(&opts);
        opts.splash_file = png_file;
        return bimg_configure(img, &opts, dry_run, fn, data, NULL, err);
}

int bimg_get_splash(struct bimg_image *img, const char *out_file, struct bimg_error *err)
{
        struct bimg_info *info = malloc(sizeof(*info));
        struct splash_files f = { 0 };
        struct bimg_fs *fs;
        const char *name;
        char *png = NULL;
        size_t len;
        FILE *out;
        int r = -1;

        if (!info)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        if (inspect_for_change(img, info, err) < 0 ||
            bimg_image_fs(img, info->boot, &fs, err) < 0)
                goto out;
        name = splash_name(fs, info, &f);
        if (!f.balena && !f.resin) {
                bimg_fail(err, BIMG_E_NOT_FOUND, "'%s' has no splash logo in /splash",
                          bimg_image_path(img));
                goto out;
        }
        if (!(strstr(name, "balena") ? f.balena : f.resin))    /* the other name is there */
                name = f.balena ? "/splash/balena-logo.png" : "/splash/resin-logo.png";
        if (bimg_fs_read_alloc(fs, name, PNG_MAX, &png, &len, err) < 0)
                goto out;
        out = fopen(out_file, "wbe");
        if (!out) {
                bimg_fail_errno(err, BIMG_E_IO, errno, "cannot write '%s'", out_file);
                goto out;
        }
        r = fwrite(png, 1, len, out) == len ? 0 : -1;
        if (fclose(out) != 0 || r < 0) {
                r = bimg_fail_errno(err, BIMG_E_IO, errno, "cannot write '%s'", out_file);
                unlink(out_file);
        }
out:
        free(png);
        free(info);
        return r;
}
