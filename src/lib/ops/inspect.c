/* SPDX-License-Identifier: Apache-2.0 */
/* Everything `balena-img info` reports, gathered read-only in one pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "balena/balena.h"
#include "config/config.h"
#include "image/image.h"
#include "ops/ops.h"

#define SMALL_FILE_MAX (256 * 1024)     /* os-release, manifests, env blocks */

/* What the root folder of the boot partition holds (one listing). */
struct boot_root {
        bool config_json, device_type_json, os_release, flasher_flag, keys_dir, any_sig;
        bool uenv, bootenv, grubenv, efi_dir, grub_dir, image_version_info;
};

static int note_root_entry(const char *name, const struct bimg_stat *st, void *data)
{
        struct boot_root *r = data;
        size_t len = strlen(name);

        if (strcasecmp(name, "config.json") == 0)
                r->config_json = !st->is_dir;
        else if (strcasecmp(name, "device-type.json") == 0)
                r->device_type_json = !st->is_dir;
        else if (strcasecmp(name, "os-release") == 0)
                r->os_release = !st->is_dir;
        else if (strcasecmp(name, "balena-image-flasher") == 0 ||
                 strcasecmp(name, "resin-image-flasher") == 0)
                r->flasher_flag = true;
        else if (strcasecmp(name, "balena-keys") == 0)
                r->keys_dir = st->is_dir;
        else if (strcasecmp(name, "resinOS_uEnv.txt") == 0)
                r->uenv = true;
        else if (strcasecmp(name, "bootenv") == 0)
                r->bootenv = true;
        else if (strcasecmp(name, "grubenv") == 0)
                r->grubenv = true;
        else if (strcasecmp(name, "EFI") == 0)
                r->efi_dir = st->is_dir;
        else if (strcasecmp(name, "grub") == 0)
                r->grub_dir = st->is_dir;
        else if (strcasecmp(name, "image-version-info") == 0)
                r->image_version_info = !st->is_dir;
        if (len > 4 && strcasecmp(name + len - 4, ".sig") == 0)
                r->any_sig = true;
        return 0;
}

static struct bimg_osrelease *read_osrelease(struct bimg_fs *fs, const char *path)
{
        struct bimg_error ignored = { 0 };
        struct bimg_osrelease *osr = NULL;
        char *text;
        size_t len;

        if (bimg_fs_read_alloc(fs, path, SMALL_FILE_MAX, &text, &len, &ignored) < 0)
                return NULL;
        if (bimg_osrelease_parse(text, len, &osr, &ignored) < 0)
                osr = NULL;
        free(text);
        return osr;
}

static void copy_field(const struct bimg_osrelease *osr, const char *key, char *dst, size_t size)
{
        const char *v = osr ? bimg_osrelease_get(osr, key) : NULL;

        if (v && !dst[0])
                snprintf(dst, size, "%s", v);
}

/* Version facts from an os-release; fields already known are kept. */
static void take_osrelease(struct bimg_info *info, const struct bimg_osrelease *osr,
                           const char *source)
{
        const char *variant = bimg_osrelease_get(osr, "VARIANT_ID");

        if (!info->os_version[0] && bimg_osrelease_get(osr, "VERSION"))
                snprintf(info->os_version_source, sizeof(info->os_version_source), "%s", source);
        copy_field(osr, "VERSION", info->os_version, sizeof(info->os_version));
        copy_field(osr, "META_BALENA_VERSION", info->meta_balena_version,
                   sizeof(info->meta_balena_version));
        copy_field(osr, "BALENA_BOARD_REV", info->board_rev, sizeof(info->board_rev));
        copy_field(osr, "RESIN_BOARD_REV", info->board_rev, sizeof(info->board_rev));
        copy_field(osr, "DISTRO_CODENAME", info->yocto_codename, sizeof(info->yocto_codename));
        copy_field(osr, "VERSION_CODENAME", info->yocto_codename, sizeof(info->yocto_codename));
        copy_field(osr, "MACHINE", info->machine, sizeof(info->machine));
        if (!variant)
                variant = bimg_osrelease_get(osr, "VARIANT");
        if (variant && !info->variant[0])       /* only v2.0 - v2.84 images say this */
                snprintf(info->variant, sizeof(info->variant), "%s",
                         strcasecmp(variant, "dev") == 0 || strcasecmp(variant, "development") == 0
                                 ? "development" : "production");
}

static int note_sig(const char *name, const struct bimg_stat *st, void *data)
{
        struct bimg_info *info = data;
        size_t len = strlen(name);

        if (!st->is_dir && len > 4 && strcmp(name + len - 4, ".sig") == 0)
                info->is_signed = true;
        return 0;
}

static void read_timestamp(struct bimg_fs *fs, const char *root_dir, struct bimg_info *info)
{
        struct bimg_error ignored = { 0 };
        char path[600], *text;
        size_t len;

        snprintf(path, sizeof(path), "%s/etc/timestamp", root_dir);
        if (bimg_fs_read_alloc(fs, path, 64, &text, &len, &ignored) < 0)
                return;
        text[strcspn(text, "\r\n")] = '\0';
        snprintf(info->build_timestamp, sizeof(info->build_timestamp), "%s", text);
        free(text);
}

/* Without a readable root (LUKS, say) the boot partition's /image-version-info still
 * names the build: "balena-image-<machine>-YYYYMMDDhhmmss" (spec 6.3). */
static void timestamp_from_version_info(struct bimg_fs *fs, struct bimg_info *info)
{
        struct bimg_error ignored = { 0 };
        char *text;
        size_t len;

        if (bimg_fs_read_alloc(fs, "/image-version-info", SMALL_FILE_MAX, &text, &len,
                               &ignored) < 0)
                return;
        len = strcspn(text, "\r\n");
        if (len > 15 && text[len - 15] == '-' && strspn(text + len - 14, "0123456789") >= 14)
                snprintf(info->build_timestamp, sizeof(info->build_timestamp), "%.14s",
                         text + len - 14);
        free(text);
}

/* The OS root in the active root partition: its os-release (board revision, version on
 * images without a boot copy), its timestamp and the hostapp storage driver. */
static void inspect_root(struct bimg_image *img, struct bimg_info *info)
{
        enum bimg_role role = strcmp(info->active_root, "rootB") == 0 ? BIMG_ROLE_ROOTB
                                                                      : BIMG_ROLE_ROOTA;
        const struct bimg_part *root = bimg_image_role(img, role);
        struct bimg_error ignored = { 0 };
        struct bimg_osrelease *osr;
        struct hostapp_root hr;
        struct bimg_fs *fs;
        char path[600], source[sizeof(info->os_version_source)];

        if (!root || root->fskind != BIMG_FS_EXT || bimg_image_fs(img, root, &fs, &ignored) < 0)
                return;
        if (hostapp_find_root(fs, &hr, &ignored) != 1)
                return;
        snprintf(path, sizeof(path), "%s/etc/os-release", hr.dir);
        snprintf(info->storage_driver, sizeof(info->storage_driver), "%s", hr.driver);
        osr = read_osrelease(fs, path);
        if (osr) {
                snprintf(source, sizeof(source), "%s:%.150s", bimg_role_name(role), path);
                take_osrelease(info, osr, source);
                bimg_osrelease_free(osr);
        }
        /* a signed flasher carries the inner image's signature beside it in /opt */
        if (!hr.dir[0] && bimg_fs_list(fs, "/opt", note_sig, info, &ignored) < 0)
                ignored = (struct bimg_error){ 0 };
        read_timestamp(fs, hr.dir, info);
}

static void read_env_value(struct bimg_fs *fs, const char *path, char *ret, size_t size)
{
        struct bimg_error ignored = { 0 };
        char *text;
        size_t len;

        ret[0] = '\0';
        if (bimg_fs_read_alloc(fs, path, SMALL_FILE_MAX, &text, &len, &ignored) < 0)
                return;
        bootenv_get(text, len, "resin_root_part", ret, size);
        free(text);
}

/* resin_root_part names a partition by number (hex for U-Boot, decimal for GRUB) or,
 * for the balena bootloader, A or B. */
static void set_active_root(struct bimg_image *img, struct bimg_info *info, const char *value,
                            int base, const char *source)
{
        char *end;
        unsigned long n;

        if (!value[0])
                return;
        snprintf(info->active_root_source, sizeof(info->active_root_source), "%s", source);
        if (strcasecmp(value, "A") == 0 || strcasecmp(value, "B") == 0) {
                snprintf(info->active_root, sizeof(info->active_root), "root%c",
                         value[0] == 'a' || value[0] == 'A' ? 'A' : 'B');
                return;
        }
        n = strtoul(value, &end, base);
        for (size_t i = 0; i < img->n_parts && !*end; i++) {
                const struct bimg_part *p = &img->parts[i];

                if (p->number == n && (p->role == BIMG_ROLE_ROOTA || p->role == BIMG_ROLE_ROOTB)) {
                        snprintf(info->active_root, sizeof(info->active_root), "%s",
                                 bimg_role_name(p->role));
                        return;
                }
        }
        snprintf(info->active_root, sizeof(info->active_root), "p%.5s", value);
}

static void inspect_active_root(struct bimg_image *img, struct bimg_fs *fs,
                                const struct boot_root *r, struct bimg_info *info)
{
        static const char *const grub_paths[] = { "/EFI/BOOT/grubenv", "/grub/grubenv" };
        struct bimg_error ignored = { 0 };
        struct bimg_stat st;
        char value[32];

        snprintf(info->active_root, sizeof(info->active_root), "rootA");  /* a fresh image */
        snprintf(info->active_root_source, sizeof(info->active_root_source), "default");
        if (r->uenv) {
                read_env_value(fs, "/resinOS_uEnv.txt", value, sizeof(value));
                set_active_root(img, info, value, 16, "resinOS_uEnv.txt");
        } else if (r->bootenv) {
                read_env_value(fs, "/bootenv", value, sizeof(value));
                set_active_root(img, info, value, 10, "bootenv");
        } else if (r->grubenv) {
                read_env_value(fs, "/grubenv", value, sizeof(value));
                set_active_root(img, info, value, 10, "grubenv");
        } else {
                for (size_t i = 0; i < 2; i++) {
                        if ((i == 0 && !r->efi_dir) || (i == 1 && !r->grub_dir) ||
                            bimg_fs_stat(fs, grub_paths[i], &st, &ignored) < 0)
                                continue;
                        read_env_value(fs, grub_paths[i], value, sizeof(value));
                        set_active_root(img, info, value, 10, "grubenv");
                        break;
                }
        }
}

static void inspect_config(struct bimg_fs *fs, struct bimg_info *info,
                           struct bimg_config **ret_cfg)
{
        struct bimg_error e = { 0 };
        char *text;
        size_t len;

        info->has_config = true;
        if (bimg_fs_read_alloc(fs, "/config.json", CONFIG_JSON_MAX, &text, &len, &e) == 0) {
                if (config_parse(text, len, "config.json", ret_cfg, &e) == 0) {
                        info->config_valid = true;
                        info->n_config_keys = config_summary(*ret_cfg, info->config_keys,
                                                             BIMG_MAX_CONFIG_KEYS);
                }
                free(text);
        }
        if (!info->config_valid)
                snprintf(info->config_error, sizeof(info->config_error), "%.150s", e.message);
}

/* The boot files inspect reads: named before the listing, FAT copies them out
 * while it lists (a missing one costs nothing). */
static const char *const boot_files[] = { "/device-type.json", "/os-release", "/config.json",
                                          "/resinOS_uEnv.txt", "/bootenv", "/grubenv" };

/* Everything, or (for_change) what a change needs: the root partition is read
 * only when the boot partition does not tell the OS version. */
static int inspect(struct bimg_image *img, bool for_change, struct bimg_info *ret_info,
                   struct bimg_error *err)
{
        struct bimg_info *info = calloc(1, sizeof(*info));
        struct bimg_config *cfg = NULL;
        struct bimg_osrelease *osr;
        struct bimg_manifest m;
        struct boot_root r = { 0 };
        struct bimg_fs *fs;
        char *text;
        size_t len;
        int ret = -1;

        if (!info)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        if (bimg_image_require_role(img, BIMG_ROLE_BOOT, &info->boot, err) < 0 ||
            bimg_image_fs(img, info->boot, &fs, err) < 0)
                goto out;
        bimg_fs_prefetch(fs, boot_files, sizeof(boot_files) / sizeof(boot_files[0]));
        if (bimg_fs_list(fs, "/", note_root_entry, &r, err) < 0)
                goto out;
        if (r.device_type_json &&
            bimg_fs_read_alloc(fs, "/device-type.json", SMALL_FILE_MAX, &text, &len, err) == 0) {
                if (manifest_parse(text, len, &m, err) == 0) {
                        snprintf(info->device_type, sizeof(info->device_type), "%s", m.slug);
                        snprintf(info->device_type_name, sizeof(info->device_type_name), "%s",
                                 m.name);
                        snprintf(info->arch, sizeof(info->arch), "%s", m.arch);
                }
                free(text);
        }
        *err = (struct bimg_error){ 0 };        /* a broken manifest leaves the fields empty */
        if (r.os_release && (osr = read_osrelease(fs, "/os-release"))) {
                take_osrelease(info, osr, "boot:/os-release");
                bimg_osrelease_free(osr);
        }
        inspect_active_root(img, fs, &r, info);
        if (!for_change || !info->os_version[0])
                inspect_root(img, info);
        if (!for_change && !info->build_timestamp[0] && r.image_version_info)
                timestamp_from_version_info(fs, info);
        info->is_flasher = r.flasher_flag || strcasecmp(info->boot->label, "flash-boot") == 0;
        info->is_signed = info->is_signed || r.keys_dir || r.any_sig;
        info->has_boot_free = bimg_fs_free_space(fs, &info->boot_free, err) == 0;
        *err = (struct bimg_error){ 0 };
        if (r.config_json)
                inspect_config(fs, info, &cfg);
        if (cfg && config_is_true(cfg, "developmentMode")) {
                info->development_mode = true;
                snprintf(info->development_mode_source, sizeof(info->development_mode_source),
                         "config.json developmentMode");
        } else if (info->variant[0]) {
                info->development_mode = strcmp(info->variant, "development") == 0;
                snprintf(info->development_mode_source, sizeof(info->development_mode_source),
                         "os-release VARIANT");
        } else {
                snprintf(info->development_mode_source, sizeof(info->development_mode_source),
                         "config.json developmentMode");
        }
        *ret_info = *info;
        ret = 0;
out:
        config_free(cfg);
        free(info);
        return ret;
}

int bimg_inspect(struct bimg_image *img, struct bimg_info *ret_info, struct bimg_error *err)
{
        return inspect(img, false, ret_info, err);
}

int inspect_for_change(struct bimg_image *img, struct bimg_info *ret_info,
                       struct bimg_error *err)
{
        return inspect(img, true, ret_info, err);
}
