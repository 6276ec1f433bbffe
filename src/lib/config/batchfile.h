/* SPDX-License-Identifier: Apache-2.0 */
/* A batch manifest (JSON, with the device table inline or in a CSV file), read
 * into plain strings: what the settings mean is the batch operation's business. */
#ifndef BIMG_BATCHFILE_H
#define BIMG_BATCHFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "balena-img.h"

/* One use of a setting: "ssh-key" "keys/a.pub", "set" "ntpServers=..." ("config"
 * objects become sets), "dev" "false". A repeated name is a repeated option. */
struct batch_setting {
        char *name;
        char *value;
};

struct batch_entry {
        char origin[128];       /* "batch.json: devices[3]" or "devices.csv:4", for messages */
        struct batch_setting *settings;
        size_t n;
};

struct batch_image {
        char *device_type;
        char *path;             /* as written: relative to the manifest's folder */
};

struct batch_manifest {
        char *path;
        char *dir;              /* the manifest's folder */
        char *output;           /* the output name pattern */
        bool bmap;
        struct batch_image *images;
        size_t n_images;
        struct batch_entry shared;      /* "settings" */
        struct batch_entry *devices;
        size_t n_devices;
};

/* Read and check the shape of a manifest; *ret is yours (batchfile_free). */
int batchfile_load(const char *path, struct batch_manifest **ret, struct bimg_error *err);
void batchfile_free(struct batch_manifest *m);

/* The last value given for name in e, or NULL. */
const char *batch_entry_get(const struct batch_entry *e, const char *name);

#endif
