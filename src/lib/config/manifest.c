/* SPDX-License-Identifier: Apache-2.0 */
/* device-type.json, the board manifest on the boot partition (spec §2.2). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"

static void copy_string(const json_t *obj, const char *key, char *dst, size_t size)
{
        const char *s = json_string_value(json_object_get(obj, key));

        if (s)
                snprintf(dst, size, "%s", s);
}

int manifest_parse(const char *text, size_t len, struct bimg_manifest *ret_m,
                   struct bimg_error *err)
{
        struct bimg_manifest m = { 0 };
        json_error_t jerr;
        json_t *root;

        root = json_loadb(text, len, 0, &jerr);
        if (!root)
                return bimg_fail(err, BIMG_E_INVALID, "device-type.json:%d:%d: %s", jerr.line,
                                 jerr.column, jerr.text);
        if (!json_is_object(root)) {
                json_decref(root);
                return bimg_fail(err, BIMG_E_INVALID, "device-type.json is not a JSON object");
        }
        copy_string(root, "slug", m.slug, sizeof(m.slug));
        copy_string(root, "name", m.name, sizeof(m.name));
        copy_string(root, "arch", m.arch, sizeof(m.arch));
        copy_string(json_object_get(root, "yocto"), "machine", m.machine, sizeof(m.machine));
        json_decref(root);
        *ret_m = m;
        return 0;
}
