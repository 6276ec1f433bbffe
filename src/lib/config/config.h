/* SPDX-License-Identifier: Apache-2.0 */
/* config.json and device-type.json: the JSON files of the boot partition. */
#ifndef BIMG_CONFIG_H
#define BIMG_CONFIG_H

#include "balena-img.h"

struct bimg_config;

/* config.json is read whole into memory from the boot partition. balenaOS's own
 * are 1-10 KiB; a thousand SSH keys or a bundle of root CAs stay under 1 MiB. */
#define CONFIG_JSON_MAX (4 * 1024 * 1024)
/* A value more than this many keys or indices below the root is refused
 * (jansson alone allows 2048 levels). balenaOS reads at most 4 levels (os.network.connectivity.uri), and the
 * pretty-printed file grows with the square of the depth (2 spaces per level on
 * every line): 2040 levels of {"a": ...} printed to 8 MiB, a config.json the
 * tool then refused to read back. */
#define CONFIG_MAX_DEPTH 32

/* Parse config.json text; it must be a JSON object, at most CONFIG_JSON_MAX
 * bytes and CONFIG_MAX_DEPTH levels deep. origin names the file in messages
 * ("config.json"). */
int config_parse(const char *text, size_t len, const char *origin, struct bimg_config **ret_cfg,
                 struct bimg_error *err);
void config_free(struct bimg_config *cfg);

/* The keys present, nested objects flattened to dotted names, values shortened
 * and secrets (apiKey, deviceApiKey, ...) masked. Returns the number written. */
size_t config_summary(const struct bimg_config *cfg, struct bimg_config_key *keys, size_t max);

/* True when the dotted key holds JSON true or the string "true" (what the OS's
 * `jq -r` comparisons accept). */
bool config_is_true(const struct bimg_config *cfg, const char *dotted);

/* An empty object, for an image without config.json. */
int config_new(struct bimg_config **ret_cfg, struct bimg_error *err);

/* Pretty-printed as balenaOS tools and people expect it: 2-space indent, keys in
 * their existing order, a trailing newline. *ret is yours to free(). A document
 * that config_parse would refuse (too deep, or printed larger than
 * CONFIG_JSON_MAX) is refused here too (BIMG_E_INVALID), so nothing written can
 * fail to read back. */
int config_dump(const struct bimg_config *cfg, char **ret, size_t *ret_len,
                struct bimg_error *err);

/* KEY=VALUE as typed by the schema (see schema_value_from_text); missing parent
 * objects are created, a parent that is not an object is an error. */
int config_set_text(struct bimg_config *cfg, const char *dotted, const char *text,
                    struct bimg_error *err);
int config_set_string(struct bimg_config *cfg, const char *dotted, const char *value,
                      struct bimg_error *err);
int config_set_bool(struct bimg_config *cfg, const char *dotted, bool value,
                    struct bimg_error *err);
/* Remove a key; removing a missing key is not an error (unset twice = unset once). */
int config_unset(struct bimg_config *cfg, const char *dotted, struct bimg_error *err);

/* Merge other into cfg: objects merge key by key, anything else replaces. */
int config_merge(struct bimg_config *cfg, const struct bimg_config *other,
                 struct bimg_error *err);

/* Append public keys to os.sshKeys, skipping keys already there. */
int config_add_ssh_keys(struct bimg_config *cfg, char *const *keys, size_t n,
                        struct bimg_error *err);
/* Set os.udevRules.NAME to the rule text. */
int config_set_udev_rule(struct bimg_config *cfg, const char *name, const char *text,
                         struct bimg_error *err);

/* The whole document against the schema (see schema_validate). */
int config_validate(const struct bimg_config *cfg, const char *origin, bool is_flasher,
                    bimg_warn_fn warn, void *warn_data, struct bimg_error *err);

/* A value as text: strings as they are, anything else as compact JSON.
 * BIMG_E_NOT_FOUND when the key is missing. *ret is yours to free(). */
int config_get_text(const struct bimg_config *cfg, const char *dotted, char **ret,
                    struct bimg_error *err);

/* The string value of a dotted key, or NULL (borrowed). */
const char *config_get_string(const struct bimg_config *cfg, const char *dotted);

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
