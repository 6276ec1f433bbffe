/* SPDX-License-Identifier: Apache-2.0 */
/*
 * balena-img batch: one output image per device of a manifest. Everything is
 * checked before the first output is written (a dry run of each device's
 * configure against its base image); then workers make the outputs, each
 * through the same -o path as `configure -o`, so a failed or interrupted
 * device leaves nothing under its final name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "base/path.h"
#include "base/workers.h"
#include "config/batchfile.h"
#include "config/crypto.h"

/* Fields of a device entry that are not configure options. */
static const char *const batch_fields[] = { "device_type", "uuid", NULL };

struct base {
        char *path;                     /* resolved */
        char *unpacked;                 /* a compressed base, unpacked once for the run */
        struct bimg_image *img;         /* open read-only while validating */
};

struct device {
        struct bimg_batch_device pub;
        const struct batch_entry *entry;
        size_t base;                    /* index into images */
        char *output, *bmap, *uuid;
        char *uuid_set;                 /* "uuid=..." */
};

struct bimg_batch {
        struct bimg_batch_opts opts;
        struct batch_manifest *m;
        struct base *bases;
        struct device *devices;         /* all of the manifest */
        size_t *selected;               /* this shard's, as indices into devices */
        size_t n_selected;
};

/* The strings one device's options borrow, freed after its run. */
struct arena {
        char **strings;
        size_t n;
};

static const char *arena_add(struct arena *a, char *s)
{
        char **p = s ? realloc(a->strings, (a->n + 1) * sizeof(*p)) : NULL;

        if (!p) {
                free(s);
                return NULL;
        }
        a->strings = p;
        a->strings[a->n++] = s;
        return s;
}

static void arena_free(struct arena *a)
{
        for (size_t i = 0; i < a->n; i++)
                free(a->strings[i]);
        free(a->strings);
}

static bool is_batch_field(const char *name)
{
        for (size_t i = 0; batch_fields[i]; i++)
                if (strcmp(batch_fields[i], name) == 0)
                        return true;
        return false;
}

/* Names must be configure options (device-type comes from device_type). */
static int check_names(const struct batch_entry *e, struct bimg_error *err)
{
        for (size_t i = 0; i < e->n; i++) {
                const char *name = e->settings[i].name;

                if (is_batch_field(name))
                        continue;
                if (strcmp(name, "device-type") == 0)
                        return bimg_fail(err, BIMG_E_INVALID, "%s: give the device type as "
                                         "\"device_type\"", e->origin);
                if (!bimg_configure_option_known(name, NULL))
                        return bimg_fail(err, BIMG_E_INVALID, "%s: unknown setting '%s' (use "
                                         "configure's option names without '--', or "
                                         "\"config\" for config.json keys)", e->origin, name);
        }
        return 0;
}

/* A host file named in the manifest is relative to the manifest's folder. */
static const char *resolve(struct bimg_batch *b, struct arena *a, const char *name,
                           const char *value, struct bimg_error *err)
{
        const char *eq = strcmp(name, "udev-rule") == 0 ? strchr(value, '=') : NULL;
        const char *file = eq ? eq + 1 : value;
        char path[4096], *joined = NULL;
        bool is_file = false;

        bimg_configure_option_known(name, &is_file);
        if (!is_file)
                return value;
        if (path_host_resolve(b->m->dir, file, path, sizeof(path), err) < 0)
                return NULL;
        if (asprintf(&joined, "%.*s%s", eq ? (int)(eq + 1 - value) : 0, value, path) < 0)
                joined = NULL;
        if (!arena_add(a, joined)) {
                bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                return NULL;
        }
        return joined;
}

static int apply_entry(struct bimg_batch *b, struct arena *a, const struct batch_entry *e,
                       struct bimg_configure_opts *o, struct bimg_error *err)
{
        for (size_t i = 0; i < e->n; i++) {
                const struct batch_setting *s = &e->settings[i];
                const char *value;

                if (is_batch_field(s->name))
                        continue;
                value = resolve(b, a, s->name, s->value, err);
                if (!value || bimg_configure_opts_set(o, s->name, value, err) < 0) {
                        bimg_error_prefix(err, "%s", e->origin);
                        return -1;
                }
        }
        return 0;
}

/* The device's configure options: shared settings, then its own on top. */
static int device_opts(struct bimg_batch *b, const struct device *d, struct arena *a,
                       struct bimg_configure_opts *o, struct bimg_error *err)
{
        bimg_configure_opts_init(o);
        if (apply_entry(b, a, &b->m->shared, o, err) < 0 ||
            apply_entry(b, a, d->entry, o, err) < 0)
                return -1;
        o->device_type = d->pub.device_type;
        if (d->uuid_set && bimg_configure_opts_set(o, "set", d->uuid_set, err) < 0)
                return -1;
        return 0;
}

/* ---- loading: device types, uuids, output names --------------------------- */

static const char *setting(const struct bimg_batch *b, const struct device *d, const char *name)
{
        const char *v = batch_entry_get(d->entry, name);

        return v ? v : batch_entry_get(&b->m->shared, name);
}

static int pick_base(struct bimg_batch *b, struct device *d, struct bimg_error *err)
{
        const char *type = setting(b, d, "device_type");

        if (!type && b->m->n_images == 1)
                type = b->m->images[0].device_type;
        if (!type)
                return bimg_fail(err, BIMG_E_INVALID, "%s: no \"device_type\" (the manifest "
                                 "has images for several types)", d->entry->origin);
        for (size_t i = 0; i < b->m->n_images; i++) {
                if (strcmp(b->m->images[i].device_type, type) == 0) {
                        d->base = i;
                        d->pub.device_type = b->m->images[i].device_type;
                        return 0;
                }
        }
        return bimg_fail(err, BIMG_E_INVALID, "%s: no base image for device type '%s' in "
                         "\"images\"", d->entry->origin, type);
}

static int pick_uuid(struct bimg_batch *b, struct device *d, struct bimg_error *err)
{
        const char *given = setting(b, d, "uuid");
        unsigned char bytes[16];

        if (!given)
                return 0;
        if (strcmp(given, "generate") != 0) {
                d->uuid = strdup(given);
        } else {
                if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
                        return bimg_fail_errno(err, BIMG_E_FAILURE, errno,
                                               "cannot generate a uuid");
                d->uuid = malloc(33);
                for (size_t i = 0; d->uuid && i < sizeof(bytes); i++)
                        snprintf(d->uuid + 2 * i, 3, "%02x", bytes[i]);
                d->pub.uuid_generated = true;
        }
        if (!d->uuid || asprintf(&d->uuid_set, "uuid=%s", d->uuid) < 0) {
                d->uuid_set = NULL;
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        }
        d->pub.uuid = d->uuid;
        return 0;
}

/* A field's value in a file name: present, and not a path of its own. */
static int field_value(struct bimg_batch *b, struct device *d, const char *field, char *out,
                       size_t size, struct bimg_error *err)
{
        const char *v = NULL;

        if (strcmp(field, "index") == 0) {
                snprintf(out, size, "%zu", d->pub.index);
                return 0;
        }
        if (strcmp(field, "device_type") == 0)
                v = d->pub.device_type;
        else if (strcmp(field, "uuid") == 0)
                v = d->uuid;
        else if (strcmp(field, "hostname") == 0)
                v = setting(b, d, "hostname");
        else
                return bimg_fail(err, BIMG_E_INVALID, "%s: \"output\": unknown field {%s} "
                                 "(known: {device_type}, {hostname}, {uuid}, {index})",
                                 b->m->path, field);
        if (!v || !v[0])
                return bimg_fail(err, BIMG_E_INVALID, "%s: no %s for the output name %s",
                                 d->entry->origin, field, b->m->output);
        if (strchr(v, '/') || strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
                return bimg_fail(err, BIMG_E_INVALID, "%s: %s '%s' cannot be part of a file "
                                 "name", d->entry->origin, field, v);
        snprintf(out, size, "%s", v);
        return 0;
}

static int name_output(struct bimg_batch *b, struct device *d, struct bimg_error *err)
{
        const char *p = b->m->output;
        char name[4096] = "", path[4096], field[64], value[256];
        size_t len = 0;

        /* outputs are new files under the manifest's folder: a manifest from
         * elsewhere cannot write over /etc or ../the-base.img (field values hold
         * no '/', see field_value) */
        if (p[0] == '/' || path_has_dotdot(p))
                return bimg_fail(err, BIMG_E_INVALID, "%s: \"output\" '%s' %s; outputs are "
                                 "written under the manifest's folder (put the manifest where "
                                 "they should go)", b->m->path, p,
                                 p[0] == '/' ? "is an absolute path" : "contains '..'");

        while (*p) {
                const char *close = *p == '{' ? strchr(p, '}') : NULL;

                if (*p == '{' && (!close || (size_t)(close - p - 1) >= sizeof(field)))
                        return bimg_fail(err, BIMG_E_INVALID, "%s: \"output\": '{' without "
                                         "its '}'", b->m->path);
                if (close) {
                        snprintf(field, sizeof(field), "%.*s", (int)(close - p - 1), p + 1);
                        if (field_value(b, d, field, value, sizeof(value), err) < 0)
                                return -1;
                        p = close + 1;
                } else {
                        snprintf(value, sizeof(value), "%c", *p++);
                }
                len += (size_t)snprintf(name + len, sizeof(name) - len, "%s", value);
                if (len >= sizeof(name))
                        return bimg_fail(err, BIMG_E_INVALID, "%s: output name too long",
                                         d->entry->origin);
        }
        if (path_host_resolve(b->m->dir, name, path, sizeof(path), err) < 0 ||
            !(d->output = strdup(path)) ||
            (b->m->bmap && asprintf(&d->bmap, "%s.bmap", path) < 0))
                return err->status ? -1 : bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        d->pub.output = d->output;
        d->pub.bmap = d->bmap;
        return 0;
}

/* True when path names the same file as st (a hard or symbolic link included). */
static bool same_file(const char *path, const struct stat *st)
{
        struct stat o;

        return stat(path, &o) == 0 && o.st_dev == st->st_dev && o.st_ino == st->st_ino;
}

/* No output (nor its bmap) may be a base image or the manifest: the first
 * device's output would replace what later devices are made from. */
static int check_outputs_are_new(const struct bimg_batch *b, struct bimg_error *err)
{
        for (size_t k = 0; k <= b->m->n_images; k++) {
                const char *input = k < b->m->n_images ? b->bases[k].path : b->m->path;
                struct stat st;

                if (stat(input, &st) < 0)
                        continue;       /* a missing base is reported where it is opened */
                for (size_t i = 0; i < b->m->n_devices; i++) {
                        const struct device *d = &b->devices[i];
                        const char *hit = same_file(d->output, &st) ? d->output
                                          : d->bmap && same_file(d->bmap, &st) ? d->bmap
                                                                               : NULL;

                        if (hit)
                                return bimg_fail(err, BIMG_E_INVALID, "%s: the output '%s' "
                                                 "is %s '%s'; outputs must be new files",
                                                 d->entry->origin, hit,
                                                 k < b->m->n_images ? "the base image"
                                                                    : "the manifest",
                                                 input);
                }
        }
        return 0;
}

static int check_unique_outputs(const struct bimg_batch *b, struct bimg_error *err)
{
        for (size_t i = 0; i < b->m->n_devices; i++)
                for (size_t j = 0; j < i; j++)
                        if (strcmp(b->devices[i].output, b->devices[j].output) == 0)
                                return bimg_fail(err, BIMG_E_INVALID, "%s and %s would both "
                                                 "write '%s'; put {hostname}, {uuid} or "
                                                 "{index} in \"output\"",
                                                 b->devices[j].entry->origin,
                                                 b->devices[i].entry->origin,
                                                 b->devices[i].output);
        return 0;
}

static int select_shard(struct bimg_batch *b, struct bimg_error *err)
{
        unsigned count = b->opts.shard_count, index = b->opts.shard_index;

        if (count && (index < 1 || index > count))
                return bimg_fail(err, BIMG_E_USAGE, "shard %u/%u: I must be 1..N", index, count);
        b->selected = calloc(b->m->n_devices, sizeof(*b->selected));
        if (!b->selected)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        /* round robin, so every shard gets a share of every device type */
        for (size_t i = 0; i < b->m->n_devices; i++)
                if (!count || i % count == index - 1)
                        b->selected[b->n_selected++] = i;
        return 0;
}

static int load_devices(struct bimg_batch *b, struct bimg_error *err)
{
        b->devices = calloc(b->m->n_devices, sizeof(*b->devices));
        b->bases = calloc(b->m->n_images, sizeof(*b->bases));
        if (!b->devices || !b->bases)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        for (size_t i = 0; i < b->m->n_images; i++) {
                char path[4096];

                if (path_host_resolve(b->m->dir, b->m->images[i].path, path, sizeof(path),
                                      err) < 0)
                        return -1;
                if (!(b->bases[i].path = strdup(path)))
                        return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        }
        if (check_names(&b->m->shared, err) < 0)
                return -1;
        for (size_t i = 0; i < b->m->n_devices; i++) {
                struct device *d = &b->devices[i];

                d->entry = &b->m->devices[i];
                d->pub.index = i + 1;
                d->pub.origin = d->entry->origin;
                d->pub.hostname = setting(b, d, "hostname");
                if (check_names(d->entry, err) < 0 || pick_base(b, d, err) < 0 ||
                    pick_uuid(b, d, err) < 0 || name_output(b, d, err) < 0)
                        return -1;
        }
        if (check_outputs_are_new(b, err) < 0)
                return -1;
        return check_unique_outputs(b, err);
}

int bimg_batch_load(const char *manifest, const struct bimg_batch_opts *opts,
                    struct bimg_batch **ret, struct bimg_error *err)
{
        struct bimg_batch *b = calloc(1, sizeof(*b));

        if (!b)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        b->opts = *opts;
        if (batchfile_load(manifest, &b->m, err) < 0 || load_devices(b, err) < 0 ||
            select_shard(b, err) < 0) {
                bimg_batch_free(b);
                return -1;
        }
        *ret = b;
        return 0;
}

void bimg_batch_free(struct bimg_batch *b)
{
        if (!b)
                return;
        for (size_t i = 0; b->bases && i < b->m->n_images; i++) {
                bimg_image_close(b->bases[i].img);
                if (b->bases[i].unpacked)
                        unlink(b->bases[i].unpacked);
                free(b->bases[i].unpacked);
                free(b->bases[i].path);
        }
        for (size_t i = 0; b->devices && i < b->m->n_devices; i++) {
                free(b->devices[i].output);
                free(b->devices[i].bmap);
                free(b->devices[i].uuid);
                free(b->devices[i].uuid_set);
        }
        free(b->bases);
        free(b->devices);
        free(b->selected);
        batchfile_free(b->m);
        free(b);
}

size_t bimg_batch_count(const struct bimg_batch *b)
{
        return b->n_selected;
}

const struct bimg_batch_device *bimg_batch_device(const struct bimg_batch *b, size_t i)
{
        return &b->devices[b->selected[i]].pub;
}

const char *bimg_batch_manifest_path(const struct bimg_batch *b)
{
        return b->m->path;
}

/* ---- validating: a dry run of every device -------------------------------- */

static int validate_device(struct bimg_batch *b, struct device *d, struct bimg_error *err)
{
        struct bimg_configure_opts o;
        struct arena a = { 0 };
        int r = device_opts(b, d, &a, &o, err);

        if (r == 0) {
                r = bimg_configure(b->bases[d->base].img, &o, true, NULL, NULL, NULL, err);
                if (r < 0)
                        bimg_error_prefix(err, "%s", d->entry->origin);
        }
        bimg_configure_opts_release(&o);
        arena_free(&a);
        return r;
}

int bimg_batch_validate(struct bimg_batch *b, bimg_warn_fn warn, void *data,
                        struct bimg_error *err)
{
        for (size_t i = 0; i < b->m->n_images; i++) {
                struct base *base = &b->bases[i];

                if (!base->img) {
                        if (bimg_image_open(base->path, BIMG_OPEN_READ, &base->img, err) < 0) {
                                bimg_error_prefix(err, "%s: images.%s", b->m->path,
                                                  b->m->images[i].device_type);
                                return -1;
                        }
                        bimg_image_set_warn(base->img, warn, data);
                }
        }
        for (size_t i = 0; i < b->m->n_devices; i++) {
                struct device *d = &b->devices[i];

                if (validate_device(b, d, &d->pub.error) == 0)
                        continue;
                if (!b->opts.keep_going) {
                        *err = d->pub.error;
                        return -1;
                }
                d->pub.state = BIMG_BATCH_FAILED;
        }
        return 0;
}

/* ---- running ---------------------------------------------------------------- */

struct record {
        struct bimg_error error;
        char sha256[65];
        uint64_t size, disk_bytes;
};

static int make_parents(const char *path, struct bimg_error *err)
{
        char dir[4096];

        path_host_dir(path, dir, sizeof(dir));
        for (char *p = dir + 1; ; p++) {
                bool end = *p == '\0';

                if (*p != '/' && !end)
                        continue;
                *p = '\0';
                if (mkdir(dir, 0777) < 0 && errno != EEXIST)
                        return bimg_fail_errno(err, BIMG_E_IO, errno, "cannot create '%s'", dir);
                if (end)
                        return 0;
                *p = '/';
        }
}

/* Holes are hashed as the zeros they read as, without reading them. */
static int hash_range(int fd, uint64_t from, uint64_t to, bool hole, struct crypto_sha256 *h,
                      const char *path, struct bimg_error *err)
{
        static char buf[1 << 20];
        static const char zeros[1 << 20];

        while (from < to) {
                size_t want = to - from < sizeof(buf) ? (size_t)(to - from) : sizeof(buf);
                ssize_t n = hole ? (ssize_t)want : pread(fd, buf, want, (off_t)from);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return bimg_fail_errno(err, BIMG_E_IO, n < 0 ? errno : EIO,
                                               "cannot read '%s'", path);
                if (crypto_sha256_update(h, hole ? zeros : buf, (size_t)n, err) < 0)
                        return -1;
                from += (uint64_t)n;
        }
        return 0;
}

struct file_hash {
        int fd;
        struct crypto_sha256 *h;
        uint64_t hashed;        /* bytes hashed so far */
        const char *path;
        struct bimg_error *err;
};

/* The hole before a data range, then the range. */
static int hash_data_range(uint64_t start, uint64_t end, void *data)
{
        struct file_hash *fh = data;

        if (hash_range(fh->fd, fh->hashed, start, true, fh->h, fh->path, fh->err) < 0 ||
            hash_range(fh->fd, start, end, false, fh->h, fh->path, fh->err) < 0)
                return -1;
        fh->hashed = end;
        return 0;
}

static int file_sha256(const char *path, char hex[65], struct bimg_error *err)
{
        struct file_hash fh = { .fd = open(path, O_RDONLY | O_CLOEXEC), .path = path,
                                .err = err };
        struct stat st;
        int r = -1;

        if (fh.fd < 0 || fstat(fh.fd, &st) < 0) {
                bimg_fail_errno(err, BIMG_E_IO, errno, "cannot read '%s'", path);
                goto out;
        }
        if (crypto_sha256_begin(&fh.h, err) < 0)
                goto out;
        r = file_data_ranges(fh.fd, (uint64_t)st.st_size, hash_data_range, &fh);
        if (r == 0)     /* the hole after the last range */
                r = hash_range(fh.fd, fh.hashed, (uint64_t)st.st_size, true, fh.h, path, err);
        if (r < -1)
                bimg_fail_errno(err, BIMG_E_IO, -r, "cannot read '%s'", path);
        if (r == 0)
                r = crypto_sha256_hex(fh.h, hex, err);
out:
        crypto_sha256_free(fh.h);
        if (fh.fd >= 0)
                close(fh.fd);
        return r < 0 ? -1 : 0;
}

/* A compressed base would be unpacked again for every device: unpack it once,
 * beside the first output made from it, and copy that (removed by free). */
static int unpack_base(struct bimg_batch *b, size_t base, const struct device *first,
                       struct bimg_error *err)
{
        struct bimg_output *out = NULL;
        struct base *bs = &b->bases[base];
        const char *temp;
        char *raw = NULL;

        if (!bimg_file_is_compressed(bs->path))
                return 0;
        if (asprintf(&raw, "%s.balena-img-base.img", first->output) < 0)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        if (make_parents(raw, err) < 0 ||
            bimg_output_begin(bs->path, raw, &out, &temp, err) < 0 ||
            bimg_output_finish(out, err) < 0) {
                free(raw);
                return -1;
        }
        bs->unpacked = raw;
        return 0;
}

static const char *base_path(const struct bimg_batch *b, size_t base)
{
        return b->bases[base].unpacked ? b->bases[base].unpacked : b->bases[base].path;
}

/* Copy the base, configure the copy, map it, then give it its name. */
static int make_output(struct bimg_batch *b, const struct device *d,
                       const struct bimg_configure_opts *o, struct record *rec,
                       struct bimg_error *err)
{
        struct bimg_output *out = NULL;
        struct bimg_image *img = NULL;
        const char *temp;
        struct stat st;

        if (make_parents(d->output, err) < 0 ||
            bimg_output_begin(base_path(b, d->base), d->output, &out, &temp, err) < 0)
                return -1;
        if (bimg_image_open_as(temp, d->output, BIMG_OPEN_WRITE | BIMG_OPEN_PRIVATE, &img,
                               err) < 0 ||
            bimg_configure(img, o, false, NULL, NULL, NULL, err) < 0) {
                bimg_image_close(img);
                bimg_output_abort(out);
                return -1;
        }
        bimg_image_close(img);
        if (d->bmap && bimg_write_bmap(temp, d->bmap, err) < 0) {
                bimg_output_abort(out);
                return -1;
        }
        if (bimg_output_finish(out, err) < 0) {
                if (d->bmap)
                        unlink(d->bmap);
                return -1;
        }
        if (b->opts.checksum && file_sha256(d->output, rec->sha256, err) < 0)
                return -1;
        if (stat(d->output, &st) < 0)
                return bimg_fail_errno(err, BIMG_E_IO, errno, "cannot read '%s'", d->output);
        rec->size = (uint64_t)st.st_size;
        rec->disk_bytes = (uint64_t)st.st_blocks * 512;
        return 0;
}

static void run_task(size_t i, void *record, void *data)
{
        struct bimg_batch *b = data;
        const struct device *d = &b->devices[b->selected[i]];
        struct record *rec = record;
        struct bimg_configure_opts o;
        struct arena a = { 0 };

        if (device_opts(b, d, &a, &o, &rec->error) == 0 &&
            make_output(b, d, &o, rec, &rec->error) < 0)
                bimg_error_prefix(&rec->error, "%s", d->entry->origin);
        bimg_configure_opts_release(&o);
        arena_free(&a);
}

struct run_state {
        struct bimg_batch *b;
        bimg_batch_progress_fn fn;
        void *data;
        size_t done;
        size_t *todo;           /* selected devices still to make, as positions in selected */
};

static bool task_done(size_t i, const void *record, void *data)
{
        struct run_state *rs = data;
        struct device *d = &rs->b->devices[rs->b->selected[rs->todo[i]]];
        const struct record *rec = record;

        if (!rec) {
                bimg_fail(&d->pub.error, BIMG_E_FAILURE, "%s: the worker making '%s' died",
                          d->entry->origin, d->output);
        } else if (rec->error.status != BIMG_OK) {
                d->pub.error = rec->error;
        } else {
                memcpy(d->pub.sha256, rec->sha256, sizeof(d->pub.sha256));
                d->pub.size = rec->size;
                d->pub.disk_bytes = rec->disk_bytes;
        }
        d->pub.state = d->pub.error.status == BIMG_OK ? BIMG_BATCH_OK : BIMG_BATCH_FAILED;
        rs->done++;
        if (rs->fn)
                rs->fn(&d->pub, rs->done, rs->b->n_selected, rs->data);
        return d->pub.state == BIMG_BATCH_OK || rs->b->opts.keep_going;
}

/* In the worker: task i is the i-th device still to make. */
static void run_todo(size_t i, void *record, void *data)
{
        const struct run_state *rs = data;

        run_task(rs->todo[i], record, rs->b);
}

int bimg_batch_run(struct bimg_batch *b, bimg_batch_progress_fn fn, void *data,
                   struct bimg_error *err)
{
        struct run_state rs = { .b = b, .fn = fn, .data = data };
        size_t n = 0;
        int r;

        rs.todo = calloc(b->n_selected + 1, sizeof(*rs.todo));
        if (!rs.todo)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        for (size_t i = 0; i < b->n_selected; i++) {
                const struct device *d = &b->devices[b->selected[i]];

                if (d->pub.state == BIMG_BATCH_FAILED)  /* invalid, with --keep-going */
                        rs.done++;
                else
                        rs.todo[n++] = i;
        }
        /* the base images are reopened by each output; close them before forking */
        for (size_t i = 0; i < b->m->n_images; i++) {
                bimg_image_close(b->bases[i].img);
                b->bases[i].img = NULL;
        }
        for (size_t i = 0; i < b->m->n_images; i++) {
                for (size_t k = 0; k < n; k++) {
                        const struct device *d = &b->devices[b->selected[rs.todo[k]]];

                        if (d->base != i)
                                continue;
                        if (!b->bases[i].unpacked && unpack_base(b, i, d, err) < 0) {
                                free(rs.todo);
                                return -1;
                        }
                        break;
                }
        }
        if (n > 0 && b->opts.checksum) {
                /* load libcrypto once here, not once per worker */
                struct crypto_sha256 *h = NULL;

                if (crypto_sha256_begin(&h, err) < 0) {
                        free(rs.todo);
                        return -1;
                }
                crypto_sha256_free(h);
        }
        r = workers_run(b->opts.jobs, n, sizeof(struct record), run_todo, task_done, &rs, err);
        free(rs.todo);
        if (r < 0)
                return -1;
        for (size_t i = 0; i < b->n_selected; i++) {
                const struct device *d = &b->devices[b->selected[i]];

                if (d->pub.state == BIMG_BATCH_FAILED) {
                        *err = d->pub.error;
                        return -1;
                }
        }
        return 0;
}
