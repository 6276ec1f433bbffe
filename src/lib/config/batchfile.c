/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The batch manifest:
 *   { "images":   { "DEVICE-TYPE": "base.img", ... },
 *     "output":   "out/{device_type}-{hostname}.img.zst",
 *     "bmap":     false,
 *     "settings": { "OPTION": VALUE, ..., "config": { "KEY": VALUE } },
 *     "devices":  [ { "device_type": ..., "hostname": ..., "uuid": ..., OPTION: VALUE } ]
 *                 or "devices.csv" }
 * OPTION is a configure option without its dashes; VALUE a string, true/false
 * or a number, or an array of them for a repeatable option. A CSV table names
 * the fields in its first row; "config.KEY" columns set config.json keys and a
 * repeated column is a repeated option.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/path.h"
#include "config/batchfile.h"
#include "config/csv.h"

#define MANIFEST_MAX (16u << 20)

static int add_setting(struct batch_entry *e, const char *name, const char *value,
                       struct bimg_error *err)
{
        struct batch_setting *s = realloc(e->settings, (e->n + 1) * sizeof(*s));

        if (!s)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        e->settings = s;
        s[e->n].name = strdup(name);
        s[e->n].value = strdup(value);
        if (!s[e->n].name || !s[e->n].value) {
                free(s[e->n].name);
                free(s[e->n].value);
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        }
        e->n++;
        return 0;
}

/* A scalar as the text an option takes; NULL for anything else. */
static char *scalar_text(const json_t *v)
{
        if (json_is_string(v))
                return strdup(json_string_value(v));
        if (json_is_boolean(v))
                return strdup(json_is_true(v) ? "true" : "false");
        if (json_is_number(v))
                return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        return NULL;
}

/* "config": { KEY: VALUE }: each becomes --set KEY=VALUE, a string as it is,
 * anything else as compact JSON (the schema types it either way). */
static int add_config(struct batch_entry *e, const json_t *obj, struct bimg_error *err)
{
        const char *key;
        json_t *v;

        if (!json_is_object(obj))
                return bimg_fail(err, BIMG_E_INVALID, "%s: \"config\" must be an object of "
                                 "config.json keys", e->origin);
        json_object_foreach((json_t *)obj, key, v) {
                char *text = json_is_string(v) ? strdup(json_string_value(v))
                                               : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                char *set = NULL;
                int r;

                if (!text || asprintf(&set, "%s=%s", key, text) < 0) {
                        free(text);
                        return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                }
                r = add_setting(e, "set", set, err);
                free(set);
                free(text);
                if (r < 0)
                        return -1;
        }
        return 0;
}

static int add_value(struct batch_entry *e, const char *name, const json_t *v,
                     struct bimg_error *err)
{
        char *text = scalar_text(v);
        int r;

        if (!text)
                return bimg_fail(err, BIMG_E_INVALID, "%s: \"%s\" must be a string, true/false, "
                                 "a number or a list of them", e->origin, name);
        r = add_setting(e, name, text, err);
        free(text);
        return r;
}

static int read_entry(const json_t *obj, struct batch_entry *e, struct bimg_error *err)
{
        const char *name;
        json_t *v;
        size_t i;

        if (!json_is_object(obj))
                return bimg_fail(err, BIMG_E_INVALID, "%s: expected an object of settings",
                                 e->origin);
        json_object_foreach((json_t *)obj, name, v) {
                json_t *item;

                if (strcmp(name, "config") == 0) {
                        if (add_config(e, v, err) < 0)
                                return -1;
                        continue;
                }
                if (json_is_null(v))
                        continue;
                if (!json_is_array(v)) {
                        if (add_value(e, name, v, err) < 0)
                                return -1;
                        continue;
                }
                json_array_foreach(v, i, item)
                        if (add_value(e, name, item, err) < 0)
                                return -1;
        }
        return 0;
}

static struct batch_entry *new_device(struct batch_manifest *m, struct bimg_error *err)
{
        struct batch_entry *d = realloc(m->devices, (m->n_devices + 1) * sizeof(*d));

        if (!d) {
                bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                return NULL;
        }
        m->devices = d;
        d = &m->devices[m->n_devices++];
        memset(d, 0, sizeof(*d));
        return d;
}

struct csv_state {
        struct batch_manifest *m;
        const char *origin;
        char **header;
        size_t n_header;
};

static int csv_row(char **cells, size_t n, unsigned line, void *data, struct bimg_error *err)
{
        struct csv_state *st = data;
        struct batch_entry *d;

        if (!st->header) {      /* the first row names the columns */
                st->header = calloc(n, sizeof(char *));
                if (!st->header)
                        return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                for (size_t i = 0; i < n; i++) {
                        if (!cells[i][0])
                                return bimg_fail(err, BIMG_E_INVALID, "%s:%u: column %zu has "
                                                 "no name", st->origin, line, i + 1);
                        if (!(st->header[i] = strdup(cells[i])))
                                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                        st->n_header++;
                }
                return 0;
        }
        if (n != st->n_header)
                return bimg_fail(err, BIMG_E_INVALID, "%s:%u: %zu cells, but the first row "
                                 "names %zu columns", st->origin, line, n, st->n_header);
        if (!(d = new_device(st->m, err)))
                return -1;
        snprintf(d->origin, sizeof(d->origin), "%s:%u", st->origin, line);
        for (size_t i = 0; i < n; i++) {
                char *set = NULL;
                int r;

                if (!cells[i][0])       /* an empty cell: not given */
                        continue;
                if (strncmp(st->header[i], "config.", 7) != 0) {
                        if (add_setting(d, st->header[i], cells[i], err) < 0)
                                return -1;
                        continue;
                }
                if (asprintf(&set, "%s=%s", st->header[i] + 7, cells[i]) < 0)
                        return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                r = add_setting(d, "set", set, err);
                free(set);
                if (r < 0)
                        return -1;
        }
        return 0;
}

static int read_csv(struct batch_manifest *m, const char *name, struct bimg_error *err)
{
        struct csv_state st = { .m = m, .origin = name };
        char path[4096], *text = NULL;
        size_t len;
        int r;

        if (path_host_resolve(m->dir, name, path, sizeof(path), err) < 0)
                return -1;
        if (file_read_path(path, MANIFEST_MAX, &text, &len, err) < 0) {
                bimg_error_prefix(err, "%s: devices", m->path);
                return -1;
        }
        r = csv_parse(text, len, name, csv_row, &st, err);
        if (r == 0 && !st.header)
                r = bimg_fail(err, BIMG_E_INVALID, "%s is empty; its first row names the "
                              "columns (device_type,hostname,...)", name);
        for (size_t i = 0; i < st.n_header; i++)
                free(st.header[i]);
        free(st.header);
        free(text);
        return r;
}

static int read_devices(struct batch_manifest *m, const json_t *v, struct bimg_error *err)
{
        const json_t *item;
        size_t i;

        if (json_is_string(v))
                return read_csv(m, json_string_value(v), err);
        if (!json_is_array(v))
                return bimg_fail(err, BIMG_E_INVALID, "%s: \"devices\" must be a list of "
                                 "objects or the name of a CSV file", m->path);
        json_array_foreach(v, i, item) {
                struct batch_entry *d = new_device(m, err);

                if (!d)
                        return -1;
                snprintf(d->origin, sizeof(d->origin), "%s: devices[%zu]", m->path, i);
                if (read_entry(item, d, err) < 0)
                        return -1;
        }
        return 0;
}

static int read_images(struct batch_manifest *m, const json_t *v, struct bimg_error *err)
{
        const char *type;
        json_t *path;

        if (!json_is_object(v) || json_object_size(v) == 0)
                return bimg_fail(err, BIMG_E_INVALID, "%s: \"images\" must map each device "
                                 "type to its base image, {\"raspberrypi4-64\": \"rpi4.img\"}",
                                 m->path);
        m->images = calloc(json_object_size(v), sizeof(*m->images));
        if (!m->images)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        json_object_foreach((json_t *)v, type, path) {
                struct batch_image *im = &m->images[m->n_images];

                if (!json_is_string(path))
                        return bimg_fail(err, BIMG_E_INVALID, "%s: images.%s must be a file name",
                                         m->path, type);
                im->device_type = strdup(type);
                im->path = strdup(json_string_value(path));
                m->n_images++;
                if (!im->device_type || !im->path)
                        return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        }
        return 0;
}

static int read_manifest(struct batch_manifest *m, const json_t *root, struct bimg_error *err)
{
        static const char *const known[] = { "images", "output", "bmap", "settings",
                                             "devices", NULL };
        const json_t *output = json_object_get(root, "output");
        const json_t *settings = json_object_get(root, "settings");
        const char *key;
        json_t *v;

        json_object_foreach((json_t *)root, key, v) {
                size_t i = 0;

                while (known[i] && strcmp(known[i], key) != 0)
                        i++;
                if (!known[i])
                        return bimg_fail(err, BIMG_E_INVALID, "%s: unknown field \"%s\" (known: "
                                         "images, output, bmap, settings, devices)", m->path,
                                         key);
        }
        if (read_images(m, json_object_get(root, "images"), err) < 0)
                return -1;
        if (!json_is_string(output) || !json_string_value(output)[0])
                return bimg_fail(err, BIMG_E_INVALID, "%s: \"output\" must name the output "
                                 "images, e.g. \"out/{device_type}-{hostname}.img\"", m->path);
        if (!(m->output = strdup(json_string_value(output))))
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        v = json_object_get(root, "bmap");
        if (v && !json_is_boolean(v))
                return bimg_fail(err, BIMG_E_INVALID, "%s: \"bmap\" must be true or false",
                                 m->path);
        m->bmap = json_is_true(v);
        snprintf(m->shared.origin, sizeof(m->shared.origin), "%s: settings", m->path);
        if (settings && read_entry(settings, &m->shared, err) < 0)
                return -1;
        if (!json_object_get(root, "devices"))
                return bimg_fail(err, BIMG_E_INVALID, "%s: no \"devices\"", m->path);
        return read_devices(m, json_object_get(root, "devices"), err);
}

int batchfile_load(const char *path, struct batch_manifest **ret, struct bimg_error *err)
{
        struct batch_manifest *m = calloc(1, sizeof(*m));
        char dir[4096], *text = NULL;
        json_error_t jerr;
        json_t *root = NULL;
        size_t len;
        int r = -1;

        if (!m)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        path_host_dir(path, dir, sizeof(dir));
        m->path = strdup(path);
        m->dir = strdup(dir);
        if (!m->path || !m->dir) {
                bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                goto out;
        }
        if (file_read_path(path, MANIFEST_MAX, &text, &len, err) < 0)
                goto out;
        root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root) {
                bimg_fail(err, BIMG_E_INVALID, "%s:%d:%d: %s", path, jerr.line, jerr.column,
                          jerr.text);
                goto out;
        }
        if (!json_is_object(root)) {
                bimg_fail(err, BIMG_E_INVALID, "%s is not a JSON object", path);
                goto out;
        }
        r = read_manifest(m, root, err);
        if (r == 0 && m->n_devices == 0)
                r = bimg_fail(err, BIMG_E_INVALID, "%s lists no devices", path);
out:
        json_decref(root);
        free(text);
        if (r < 0) {
                batchfile_free(m);
                return -1;
        }
        *ret = m;
        return 0;
}

static void free_entry(struct batch_entry *e)
{
        for (size_t i = 0; i < e->n; i++) {
                free(e->settings[i].name);
                free(e->settings[i].value);
        }
        free(e->settings);
}

void batchfile_free(struct batch_manifest *m)
{
        if (!m)
                return;
        for (size_t i = 0; i < m->n_images; i++) {
                free(m->images[i].device_type);
                free(m->images[i].path);
        }
        free(m->images);
        free_entry(&m->shared);
        for (size_t i = 0; i < m->n_devices; i++)
                free_entry(&m->devices[i]);
        free(m->devices);
        free(m->path);
        free(m->dir);
        free(m->output);
        free(m);
}

const char *batch_entry_get(const struct batch_entry *e, const char *name)
{
        for (size_t i = e->n; i-- > 0;)
                if (strcmp(e->settings[i].name, name) == 0)
                        return e->settings[i].value;
        return NULL;
}
