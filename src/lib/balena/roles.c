/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which partition plays which balenaOS role, by filesystem label or GPT name,
 * never by number (spec §1.5, §1.6): resin-*, balena-* and flash-* forms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "image/image.h"

static const char *const role_names[BIMG_ROLE_COUNT] = {
        [BIMG_ROLE_BOOT] = "boot",   [BIMG_ROLE_ROOTA] = "rootA", [BIMG_ROLE_ROOTB] = "rootB",
        [BIMG_ROLE_STATE] = "state", [BIMG_ROLE_DATA] = "data",
};

const char *bimg_role_name(enum bimg_role role)
{
        return role > BIMG_ROLE_NONE && role < BIMG_ROLE_COUNT ? role_names[role] : "";
}

/* "resin-rootA", "balena-rootA", "flash-rootA" -> rootA; FAT labels may be upper case. */
static enum bimg_role role_of_label(const char *label)
{
        static const char *const prefixes[] = { "resin-", "balena-", "flash-" };

        for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
                size_t n = strlen(prefixes[i]);

                if (strncasecmp(label, prefixes[i], n) != 0)
                        continue;
                for (int r = BIMG_ROLE_BOOT; r < BIMG_ROLE_COUNT; r++)
                        if (strcasecmp(label + n, role_names[r]) == 0)
                                return (enum bimg_role)r;
        }
        return BIMG_ROLE_NONE;
}

static bool has_device_type_json(struct bimg_image *img, const struct bimg_part *part)
{
        struct bimg_error ignored = { 0 };
        struct bimg_stat st;
        struct bimg_fs *fs;

        return bimg_image_fs(img, part, &fs, &ignored) == 0 &&
               bimg_fs_stat(fs, "/device-type.json", &st, &ignored) == 0 && !st.is_dir;
}

static void assign_roles(struct bimg_image *img)
{
        bool taken[BIMG_ROLE_COUNT] = { false };

        img->roles_assigned = true;
        /* the filesystem label first, then the GPT name: flashers before v2.107.25 have
         * GPT names resin-* but labels flash-*, and both mean the same role */
        for (size_t i = 0; i < img->n_parts; i++) {
                struct bimg_part *p = &img->parts[i];
                enum bimg_role r = role_of_label(p->label);

                if (r == BIMG_ROLE_NONE)
                        r = role_of_label(p->name);
                if (r != BIMG_ROLE_NONE && !taken[r]) {
                        p->role = r;
                        taken[r] = true;
                }
        }
        if (taken[BIMG_ROLE_BOOT])
                return;
        /* balena's own fallback: the first FAT partition holding /device-type.json */
        for (size_t i = 0; i < img->n_parts; i++) {
                struct bimg_part *p = &img->parts[i];

                if (p->role == BIMG_ROLE_NONE && p->fskind == BIMG_FS_VFAT &&
                    has_device_type_json(img, p)) {
                        p->role = BIMG_ROLE_BOOT;
                        return;
                }
        }
}

const struct bimg_part *bimg_image_role(struct bimg_image *img, enum bimg_role role)
{
        if (!img->roles_assigned)
                assign_roles(img);
        for (size_t i = 0; i < img->n_parts; i++)
                if (img->parts[i].role == role && role != BIMG_ROLE_NONE)
                        return &img->parts[i];
        return NULL;
}

/* Why a role has no partition, in words a user can act on. */
static int missing_role(struct bimg_image *img, enum bimg_role role, struct bimg_error *err)
{
        const char *name = bimg_role_name(role);

        if (role != BIMG_ROLE_BOOT)
                return bimg_fail(err, BIMG_E_NOT_FOUND, "'%s' has no %s partition (none is "
                                 "labelled resin-%s, balena-%s or flash-%s)", img->path, name,
                                 name, name, name);
        /* a FAT-typed partition with nothing blkid recognises is a damaged boot partition */
        for (size_t i = 0; i < img->n_parts; i++) {
                const struct bimg_part *p = &img->parts[i];

                if (p->fskind == BIMG_FS_NONE && !p->container &&
                    (strstr(p->type_name, "FAT") || strstr(p->type_name, "EFI")))
                        return bimg_fail(err, BIMG_E_UNSUPPORTED, "'%s': partition %u (%s) "
                                         "should hold the FAT boot filesystem but nothing "
                                         "recognisable is there; the image is damaged",
                                         img->path, p->number, p->type_name);
        }
        return bimg_fail(err, BIMG_E_NOT_FOUND, "'%s' is not a balenaOS image: no partition is "
                         "labelled resin-boot, flash-boot or balena-boot, and no FAT partition "
                         "holds /device-type.json", img->path);
}

int bimg_image_require_role(struct bimg_image *img, enum bimg_role role,
                            const struct bimg_part **ret_part, struct bimg_error *err)
{
        const struct bimg_part *p = bimg_image_role(img, role);

        if (!p)
                return missing_role(img, role, err);
        *ret_part = p;
        return 0;
}

int bimg_image_check_editable(struct bimg_image *img, struct bimg_error *err)
{
        if (!img->roles_assigned)
                assign_roles(img);
        for (size_t i = 0; i < img->n_parts; i++) {
                const struct bimg_part *p = &img->parts[i];

                if (p->role != BIMG_ROLE_NONE && p->fskind == BIMG_FS_LUKS)
                        return bimg_fail(err, BIMG_E_UNSUPPORTED, "'%s' is an installed "
                                         "secure-boot disk (partition %u '%s' is LUKS-encrypted); "
                                         "it cannot be changed offline", img->path, p->number,
                                         p->label[0] ? p->label : p->name);
        }
        return 0;
}

static bool is_number(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

static void list_parts(const struct bimg_image *img, char *out, size_t size)
{
        size_t len = 0;

        out[0] = '\0';
        for (size_t i = 0; i < img->n_parts && len < size; i++) {
                const struct bimg_part *p = &img->parts[i];
                const char *label = p->label[0] ? p->label : p->name;
                int n;

                if (p->container)
                        continue;
                n = snprintf(out + len, size - len, "%s%u%s%s", len ? ", " : "", p->number,
                             label[0] ? " " : "", label);
                if (n < 0)
                        break;
                len += (size_t)n;
        }
}

int bimg_image_find_part(struct bimg_image *img, const char *spec,
                         const struct bimg_part **ret_part, struct bimg_error *err)
{
        char known[256];

        if (!img->roles_assigned)
                assign_roles(img);
        for (int r = BIMG_ROLE_BOOT; r < BIMG_ROLE_COUNT; r++)
                if (strcasecmp(spec, role_names[r]) == 0)
                        return bimg_image_require_role(img, (enum bimg_role)r, ret_part, err);
        for (size_t i = 0; i < img->n_parts; i++) {
                const struct bimg_part *p = &img->parts[i];

                if (is_number(spec) ? p->number == strtoul(spec, NULL, 10)
                                    : strcmp(spec, p->label) == 0 || strcmp(spec, p->name) == 0) {
                        *ret_part = p;
                        return 0;
                }
        }
        list_parts(img, known, sizeof(known));
        return bimg_fail(err, BIMG_E_NOT_FOUND, "'%s' has no partition '%s' (it has: %s)",
                         img->path, spec, known);
}
