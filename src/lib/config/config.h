/* SPDX-License-Identifier: Apache-2.0 */
/* config.json and device-type.json: the JSON files of the boot partition. */
#ifndef BIMG_CONFIG_H
#define BIMG_CONFIG_H

#include "balena-img.h"

struct bimg_config;

/* Parse config.json text; it must be a JSON object. origin names the file in
 * messages ("config.json"). */
int config_parse(const char *text, size_t len, const char *origin, struct bimg_config **ret_cfg,
                 struct bimg_error *err);
void config_free(struct bimg_config *cfg);

/* The keys present, nested objects flattened to dotted names, values shortened
 * and secrets (apiKey, deviceApiKey, ...) masked. Returns the number written. */
size_t config_summary(const struct bimg_config *cfg, struct bimg_config_key *keys, size_t max);

/* True when the dotted key holds JSON true or the string "true" (what the OS's
 * `jq -r` comparisons accept). */
bool config_is_true(const struct bimg_config *cfg, const char *dotted);

/* device-type.json: the fields `info` shows. */
struct bimg_manifest {
        char slug[64];
        char name[96];
        char arch[24];
        char machine[48];       /* yocto.machine */
};

int manifest_parse(const char *text, size_t len, struct bimg_manifest *ret_m,
                   struct bimg_error *err);

#endif
