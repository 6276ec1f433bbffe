/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify --deep: every filesystem mounted read-only by a real Linux kernel, in
 * the libguestfs appliance, and its top folder listed. libguestfs is optional:
 * loaded with dlopen on use, never linked; the few calls are declared here
 * with the prototypes of guestfs.h (libguestfs 1.40 and later).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/dl.h"
#include "image/image.h"
#include "ops/verify.h"

typedef struct guestfs_h guestfs_h;
typedef void (*guestfs_error_handler_cb)(guestfs_h *g, void *opaque, const char *msg);

/* The leading fields of guestfs.h's struct; the library reads only those
 * whose bit is set. The padding covers the fields that follow. */
struct add_drive_opts {
        uint64_t bitmask;
        int readonly;           /* bit 0 */
        const char *format;     /* bit 1 */
        void *rest[16];
};
#define ADD_DRIVE_READONLY (UINT64_C(1) << 0)
#define ADD_DRIVE_FORMAT (UINT64_C(1) << 1)

#define CREATE_NO_ENVIRONMENT (1u << 0)

static guestfs_h *(*sym_guestfs_create_flags)(unsigned flags, ...);
static int (*sym_guestfs_parse_environment)(guestfs_h *g);
static void (*sym_guestfs_close)(guestfs_h *g);
static void (*sym_guestfs_set_error_handler)(guestfs_h *g, guestfs_error_handler_cb cb,
                                             void *opaque);
static const char *(*sym_guestfs_last_error)(guestfs_h *g);
static int (*sym_guestfs_set_backend)(guestfs_h *g, const char *backend);
static int (*sym_guestfs_set_backend_settings)(guestfs_h *g, char *const *settings);
static int (*sym_guestfs_add_drive_opts_argv)(guestfs_h *g, const char *filename,
                                              const struct add_drive_opts *optargs);
static int (*sym_guestfs_launch)(guestfs_h *g);
static int (*sym_guestfs_shutdown)(guestfs_h *g);
static char **(*sym_guestfs_list_devices)(guestfs_h *g);
static int (*sym_guestfs_mount_ro)(guestfs_h *g, const char *mountable, const char *mountpoint);
static char **(*sym_guestfs_ls)(guestfs_h *g, const char *directory);
static int (*sym_guestfs_umount_all)(guestfs_h *g);

static const struct dl_sym guestfs_syms[] = {
        DL_SYM(guestfs_create_flags), DL_SYM(guestfs_parse_environment), DL_SYM(guestfs_close), DL_SYM(guestfs_set_error_handler),
        DL_SYM(guestfs_last_error), DL_SYM(guestfs_set_backend),
        DL_SYM(guestfs_set_backend_settings), DL_SYM(guestfs_add_drive_opts_argv),
        DL_SYM(guestfs_launch), DL_SYM(guestfs_shutdown), DL_SYM(guestfs_list_devices),
        DL_SYM(guestfs_mount_ro), DL_SYM(guestfs_ls), DL_SYM(guestfs_umount_all),
};

static struct dl_lib libguestfs = {
        .soname = "libguestfs.so.0",
        .package = "libguestfs0 linux-image-amd64",
        .purpose = "verify --deep (a real kernel mounting each filesystem)",
        .syms = guestfs_syms,
        .n_syms = sizeof(guestfs_syms) / sizeof(guestfs_syms[0]),
};

/* Errors are read with guestfs_last_error; the library must not print them. */
static void quiet(guestfs_h *g, void *opaque, const char *msg)
{
}

static void free_strings(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

static const char *last_error(guestfs_h *g)
{
        const char *e = sym_guestfs_last_error(g);

        return e && *e ? e : "unknown error";
}

/* Mount one partition read-only, list its top folder, unmount. */
static void mount_and_list(guestfs_h *g, const char *disk, const struct bimg_part *p,
                           struct bimg_verify_report *rep)
{
        char dev[96], subject[160], names[256];
        size_t n = 0, len = 0;
        char **entries;

        verify_part_subject(p, subject, sizeof(subject));
        snprintf(dev, sizeof(dev), "%s%u", disk, p->number);
        if (sym_guestfs_mount_ro(g, dev, "/") < 0) {
                verify_add(rep, "deep", subject, BIMG_CHECK_FAIL, "the kernel cannot mount "
                           "it read-only: %s", last_error(g));
                return;
        }
        entries = sym_guestfs_ls(g, "/");
        if (!entries) {
                verify_add(rep, "deep", subject, BIMG_CHECK_FAIL, "mounted, but its top folder "
                           "cannot be listed: %s", last_error(g));
        } else {
                names[0] = '\0';
                for (n = 0; entries[n]; n++)
                        if (n < 8 && len + strlen(entries[n]) + 3 < sizeof(names))
                                len += (size_t)snprintf(names + len, sizeof(names) - len,
                                                        "%s%s", n ? " " : "", entries[n]);
                verify_add(rep, "deep", subject, BIMG_CHECK_OK, "mounted read-only by the "
                           "kernel; %zu %s at the top%s%s%s", n, n == 1 ? "entry" : "entries",
                           n ? ": " : "", names, n > 8 ? " ..." : "");
        }
        free_strings(entries);
        sym_guestfs_umount_all(g);
}

static void skip_deep(struct bimg_verify_report *rep, const char *why, const char *detail)
{
        rep->deep_skipped = true;
        verify_add(rep, "deep", "libguestfs", BIMG_CHECK_SKIPPED, "%s%s%s", why,
                   detail[0] ? ": " : "", detail);
}

int verify_deep(struct bimg_image *img, struct bimg_verify_report *rep, struct bimg_error *err)
{
        static char *const tcg[] = { "force_tcg", NULL };
        struct add_drive_opts opts = {
                .bitmask = ADD_DRIVE_READONLY | ADD_DRIVE_FORMAT,
                .readonly = 1,
                .format = "raw",        /* never probed: the image is what we say it is */
        };
        struct bimg_error e = { 0 };
        char path[64], **devices = NULL;
        guestfs_h *g;

        if (dl_load(&libguestfs, &e) < 0) {
                skip_deep(rep, e.message, "");
                return 0;
        }
        /* the environment is read only once errors are ours to report, not printed */
        g = sym_guestfs_create_flags(CREATE_NO_ENVIRONMENT);
        if (!g) {
                skip_deep(rep, "libguestfs cannot create a handle", "");
                return 0;
        }
        sym_guestfs_set_error_handler(g, quiet, NULL);
        if (sym_guestfs_parse_environment(g) < 0) {
                skip_deep(rep, "the LIBGUESTFS_* environment is not usable", last_error(g));
                goto out;
        }
        /* KVM is not always usable (nested, or a /dev/kvm that hangs): QEMU's own
         * emulation unless the user chose otherwise */
        if (!getenv("LIBGUESTFS_BACKEND"))
                sym_guestfs_set_backend(g, "direct");
        if (!getenv("LIBGUESTFS_BACKEND_SETTINGS"))
                sym_guestfs_set_backend_settings(g, tcg);
        /* the locked file itself, by a name QEMU (another process) can open */
        snprintf(path, sizeof(path), "/proc/%ld/fd/%d", (long)getpid(), img->fd);
        if (sym_guestfs_add_drive_opts_argv(g, path, &opts) < 0) {
                skip_deep(rep, "libguestfs cannot add the image", last_error(g));
                goto out;
        }
        if (sym_guestfs_launch(g) < 0) {
                skip_deep(rep, "the libguestfs appliance did not start (libguestfs-test-tool "
                          "shows why)", last_error(g));
                goto out;
        }
        devices = sym_guestfs_list_devices(g);
        if (!devices || !devices[0]) {
                skip_deep(rep, "the libguestfs appliance sees no disk", last_error(g));
                goto out;
        }
        for (size_t i = 0; i < img->n_parts; i++) {
                const struct bimg_part *p = &img->parts[i];

                /* LUKS and raw partitions: the filesystem check already said why not */
                if (p->container || (p->fskind != BIMG_FS_VFAT && p->fskind != BIMG_FS_EXT))
                        continue;
                mount_and_list(g, devices[0], p, rep);
        }
        sym_guestfs_shutdown(g);
out:
        free_strings(devices);
        sym_guestfs_close(g);
        return 0;
}
