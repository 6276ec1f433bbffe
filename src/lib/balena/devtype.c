/* SPDX-License-Identifier: Apache-2.0 */
/* The device-type table, built in from data/device-types.json (see Makefile.am). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balena-img.h"

extern const char bimg_device_types_json[];     /* generated: device-types-data.c */

static void copy_string(const json_t *obj, const char *key, char *dst, size_t size)
{
        const char *s = json_string_value(json_object_get(obj, key));

        snprintf(dst, size, "%s", s ? s : "");
}

static void fill(const json_t *v, struct bimg_device_type *t)
{
        const json_t *alias;
        size_t i, len = 0;

        memset(t, 0, sizeof(*t));
        copy_string(v, "slug", t->slug, sizeof(t->slug));
        copy_string(v, "name", t->name, sizeof(t->name));
        copy_string(v, "arch", t->arch, sizeof(t->arch));
        copy_string(v, "defaultBoot", t->boot, sizeof(t->boot));
        copy_string(v, "flashProtocol", t->flash_protocol, sizeof(t->flash_protocol));
        copy_string(v, "partitionTable", t->partition_table, sizeof(t->partition_table));
        if (!t->partition_table[0])     /* meta-balena's PARTITION_TABLE_TYPE ?= "msdos" */
                snprintf(t->partition_table, sizeof(t->partition_table), "mbr");
        /* the data's own rule: internal storage means a flasher image, unless the
         * board is flashed with a vendor tool instead */
        t->flasher = json_is_true(json_object_get(v, "internalStorage")) && !t->flash_protocol[0];
        t->private_type = json_is_true(json_object_get(v, "private"));
        json_array_foreach(json_object_get(v, "aliases"), i, alias) {
                const char *a = json_string_value(alias);
                int n;

                if (!a || strcmp(a, t->slug) == 0)      /* some list the slug itself */
                        continue;
                n = snprintf(t->aliases + len, sizeof(t->aliases) - len, "%s%s", len ? " " : "",
                             a);
                if (n < 0 || (size_t)n >= sizeof(t->aliases) - len)
                        break;
                len += (size_t)n;
        }
}

int bimg_device_types(struct bimg_device_type **ret, size_t *ret_n, struct bimg_error *err)
{
        struct bimg_device_type *types;
        json_error_t jerr;
        json_t *root, *list, *v;
        size_t i;

        root = json_loads(bimg_device_types_json, 0, &jerr);
        list = json_object_get(root, "deviceTypes");
        if (!json_is_array(list)) {
                json_decref(root);
                return bimg_fail(err, BIMG_E_FAILURE, "the built-in device-type table is "
                                 "damaged: %s", jerr.text);
        }
        types = calloc(json_array_size(list) + 1, sizeof(*types));
        if (!types) {
                json_decref(root);
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        }
        json_array_foreach(list, i, v)
                fill(v, &types[i]);
        *ret_n = json_array_size(list);
        *ret = types;
        json_decref(root);
        return 0;
}

static bool has_alias(const struct bimg_device_type *t, const char *slug)
{
        size_t len = strlen(slug);

        for (const char *p = t->aliases; (p = strstr(p, slug)); p += len)
                if ((p == t->aliases || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
                        return true;
        return false;
}

/* Levenshtein distance, bounded by the short slugs it compares. */
static size_t distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b), row[65], prev, tmp;

        if (la > 64 || lb > 64)
                return 64;
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                prev = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t best = prev + (a[i - 1] != b[j - 1]);

                        if (row[j] + 1 < best)
                                best = row[j] + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        tmp = row[j];
                        row[j] = best;
                        prev = tmp;
                }
        }
        return row[lb];
}

int bimg_device_type_find(const char *slug, struct bimg_device_type *ret,
                          struct bimg_error *err)
{
        const char *best[3] = { NULL, NULL, NULL };
        size_t best_d[3] = { 99, 99, 99 }, n;
        struct bimg_device_type *types;

        if (bimg_device_types(&types, &n, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                if (strcmp(types[i].slug, slug) == 0 || has_alias(&types[i], slug)) {
                        *ret = types[i];
                        free(types);
                        return 0;
                }
        }
        for (size_t i = 0; i < n; i++) {        /* keep the three closest, in order */
                size_t d = distance(slug, types[i].slug);

                for (size_t k = 0; k < 3; k++) {
                        if (d < best_d[k]) {
                                for (size_t m = 2; m > k; m--) {
                                        best[m] = best[m - 1];
                                        best_d[m] = best_d[m - 1];
                                }
                                best[k] = types[i].slug;
                                best_d[k] = d;
                                break;
                        }
                }
        }
        bimg_fail(err, BIMG_E_INVALID, "unknown device type '%.64s'; the closest known are %s, "
                  "%s, %s (see 'balena-img device-types')", slug, best[0], best[1], best[2]);
        free(types);
        return -1;
}
