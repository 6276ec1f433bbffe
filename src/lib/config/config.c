/* SPDX-License-Identifier: Apache-2.0 */
/* The config.json model (read side): parse, summarise, query. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/file.h"
#include "config/config.h"
#include "config/schema.h"
#include "config/sshkey.h"

struct bimg_config {
        json_t *root;
};

/* The first value more than CONFIG_MAX_DEPTH keys or indices below the root: its
 * path (dotted names, [i] for array items) goes to path. Recursion stops one
 * level past the limit, whatever the document's depth. */
static bool too_deep(const json_t *v, int depth, char *path, size_t size)
{
        size_t len = strlen(path);
        const char *name;
        json_t *child;
        size_t i;

        if (depth > CONFIG_MAX_DEPTH)
                return true;
        if (!json_is_object(v) && !json_is_array(v))
                return false;
        if (json_is_object(v)) {
                json_object_foreach((json_t *)v, name, child) {
                        snprintf(path + len, size - len, "%s%.40s", len ? "." : "", name);
                        if (too_deep(child, depth + 1, path, size))
                                return true;
                }
        } else {
                json_array_foreach(v, i, child) {
                        snprintf(path + len, size - len, "[%zu]", i);
                        if (too_deep(child, depth + 1, path, size))
                                return true;
                }
        }
        path[len] = '\0';
        return false;
}

static int check_depth(const json_t *root, const char *origin, struct bimg_error *err)
{
        char path[256] = "";

        if (!too_deep(root, 0, path, sizeof(path)))
                return 0;
        return bimg_fail(err, BIMG_E_INVALID, "%s: '%s' is nested more than %d levels deep; "
                         "balenaOS reads at most 4", origin, path, CONFIG_MAX_DEPTH);
}

int config_parse(const char *text, size_t len, const char *origin, struct bimg_config **ret_cfg,
                 struct bimg_error *err)
{
        struct bimg_config *cfg;
        json_error_t jerr;
        json_t *root;

        root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return bimg_fail(err, BIMG_E_INVALID, "%s:%d:%d: %s", origin, jerr.line,
                                 jerr.column, jerr.text);
        if (!json_is_object(root)) {
                json_decref(root);
                return bimg_fail(err, BIMG_E_INVALID, "%s is not a JSON object; the OS "
                                 "cannot read it", origin);
        }
        if (check_depth(root, origin, err) < 0) {
                json_decref(root);
                return -1;
        }
        cfg = malloc(sizeof(*cfg));
        if (!cfg) {
                json_decref(root);
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        }
        cfg->root = root;
        *ret_cfg = cfg;
        return 0;
}

void config_free(struct bimg_config *cfg)
{
        if (!cfg)
                return;
        json_decref(cfg->root);
        free(cfg);
}

bool config_is_true(const struct bimg_config *cfg, const char *dotted)
{
        const json_t *v = schema_lookup(cfg->root, dotted);

        return json_is_true(v) || (json_is_string(v) && strcmp(json_string_value(v), "true") == 0);
}

/* Keys whose values must never be shown: registration and API credentials. */
static bool is_secret(const char *dotted)
{
        static const char *const words[] = { "apikey", "token", "password", "secret", "psk",
                                             "wifikey" };
        char lower[1024];
        size_t i;

        for (i = 0; dotted[i] && i + 1 < sizeof(lower); i++)
                lower[i] = (char)(dotted[i] >= 'A' && dotted[i] <= 'Z' ? dotted[i] + 32
                                                                        : dotted[i]);
        lower[i] = '\0';
        for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
                if (strstr(lower, words[i]))
                        return true;
        return false;
}

static void summarise_value(const char *dotted, const json_t *v, bool secret, char *out,
                            size_t size)
{
        const char *s;
        size_t len;

        if (secret) {
                len = json_is_string(v) ? strlen(json_string_value(v)) : 0;
                snprintf(out, size, json_is_string(v) ? "(secret, %zu chars)" : "(secret)", len);
                return;
        }
        switch (json_typeof(v)) {
        case JSON_STRING:
                s = json_string_value(v);
                len = strlen(s);
                if (strcmp(dotted, "balenaRootCA") == 0)
                        snprintf(out, size, "(certificate, %zu chars of base64)", len);
                else if (len > 48)
                        snprintf(out, size, "\"%.40s...\" (%zu chars)", s, len);
                else
                        snprintf(out, size, "\"%s\"", s);
                break;
        case JSON_INTEGER:
                snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                break;
        case JSON_REAL:
                snprintf(out, size, "%g", json_real_value(v));
                break;
        case JSON_TRUE:
        case JSON_FALSE:
                snprintf(out, size, "%s", json_is_true(v) ? "true" : "false");
                break;
        case JSON_NULL:
                snprintf(out, size, "null");
                break;
        case JSON_ARRAY:
                len = json_array_size(v);
                snprintf(out, size, "(%zu %s%s)", len,
                         strcmp(dotted, "os.sshKeys") == 0 ? "key" : "item", len == 1 ? "" : "s");
                break;
        case JSON_OBJECT:
                len = json_object_size(v);
                snprintf(out, size, "(%zu %s)", len,
                         strcmp(dotted, "os.udevRules") == 0 ? (len == 1 ? "rule" : "rules")
                                                             : (len == 1 ? "entry" : "entries"));
                break;
        }
}

/* Maps whose member names are data, not settings: summarised as a whole. */
static bool is_map(const char *dotted)
{
        return strcmp(dotted, "os.udevRules") == 0 || strcmp(dotted, "deviceApiKeys") == 0;
}

static void walk(const json_t *obj, const char *prefix, struct bimg_config_key *keys, size_t max,
                 size_t *n)
{
        const char *name;
        json_t *v;

        json_object_foreach((json_t *)obj, name, v) {
                char dotted[1024];
                bool secret;
                int len;

                /* the whole dotted name decides secrecy, not the part that fits the
                 * summary; a name too long to judge is masked */
                len = snprintf(dotted, sizeof(dotted), "%s%s%s", prefix, prefix[0] ? "." : "",
                               name);
                if (len < 0 || (size_t)len >= sizeof(dotted)) {
                        secret = true;
                } else if (json_is_object(v) && json_object_size(v) > 0 && !is_map(dotted)) {
                        walk(v, dotted, keys, max, n);
                        continue;
                } else {
                        secret = is_secret(dotted);
                }
                if (*n >= max)
                        return;
                if (strlen(dotted) < sizeof(keys[*n].key))
                        memcpy(keys[*n].key, dotted, strlen(dotted) + 1);
                else    /* shown shortened, with a mark that it is */
                        snprintf(keys[*n].key, sizeof(keys[*n].key), "%.59s...", dotted);
                summarise_value(dotted, v, secret, keys[*n].summary, sizeof(keys[*n].summary));
                keys[*n].secret = secret;
                (*n)++;
        }
}

size_t config_summary(const struct bimg_config *cfg, struct bimg_config_key *keys, size_t max)
{
        size_t n = 0;

        walk(cfg->root, "", keys, max, &n);
        return n;
}

int config_new(struct bimg_config **ret_cfg, struct bimg_error *err)
{
        struct bimg_config *cfg = malloc(sizeof(*cfg));

        if (!cfg || !(cfg->root = json_object())) {
                free(cfg);
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        }
        *ret_cfg = cfg;
        return 0;
}

int config_dump(const struct bimg_config *cfg, char **ret, size_t *ret_len,
                struct bimg_error *err)
{
        char *text, *out, have[32], limit[32];
        size_t len;

        if (check_depth(cfg->root, "the new config.json", err) < 0)
                return -1;
        text = json_dumps(cfg->root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        len = strlen(text);
        if (len + 1 > CONFIG_JSON_MAX) {        /* what every reader of it allows */
                free(text);
                file_size_text(len + 1, have, sizeof(have));
                file_size_text(CONFIG_JSON_MAX, limit, sizeof(limit));
                return bimg_fail(err, BIMG_E_INVALID, "the new config.json would be %s; the "
                                 "limit is %s", have, limit);
        }
        out = realloc(text, len + 2);
        if (!out) {
                free(text);
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        }
        out[len++] = '\n';
        out[len] = '\0';
        *ret = out;
        *ret_len = len;
        return 0;
}

/* The object that holds the last component of dotted, created on the way when
 * create is set; *ret_name is that last component. */
static int parent_of(json_t *root, const char *dotted, bool create, json_t **ret_parent,
                     char *ret_name, size_t name_size, struct bimg_error *err)
{
        json_t *obj = root;
        const char *p = dotted;

        if (!*dotted || dotted[0] == '.' || dotted[strlen(dotted) - 1] == '.' ||
            strstr(dotted, ".."))
                return bimg_fail(err, BIMG_E_INVALID, "'%s' is not a key (use dotted names "
                                 "such as os.network.wifi.randomMacAddressScan)", dotted);
        for (;;) {
                const char *dot = strchr(p, '.');
                size_t n = dot ? (size_t)(dot - p) : strlen(p);
                json_t *next;

                if (n >= name_size)
                        return bimg_fail(err, BIMG_E_INVALID, "key '%.80s' is too long", dotted);
                memcpy(ret_name, p, n);
                ret_name[n] = '\0';
                if (!dot)
                        break;
                next = json_object_get(obj, ret_name);
                if (!next && create) {
                        next = json_object();
                        if (!next || json_object_set_new(obj, ret_name, next) < 0)
                                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                }
                if (!next) {
                        *ret_parent = NULL;
                        return 0;
                }
                if (!json_is_object(next))
                        return bimg_fail(err, BIMG_E_INVALID, "config.json: '%.*s' is not an "
                                         "object, so '%s' cannot be set in it",
                                         (int)(dot - dotted), dotted, dotted);
                obj = next;
                p = dot + 1;
        }
        *ret_parent = obj;
        return 0;
}

/* Set dotted to value (stolen). */
static int set_value(struct bimg_config *cfg, const char *dotted, json_t *value,
                     struct bimg_error *err)
{
        char name[256];
        json_t *parent;

        if (!value)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        if (parent_of(cfg->root, dotted, true, &parent, name, sizeof(name), err) < 0) {
                json_decref(value);
                return -1;
        }
        if (json_object_set_new(parent, name, value) < 0)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        return 0;
}

int config_set_text(struct bimg_config *cfg, const char *dotted, const char *text,
                    struct bimg_error *err)
{
        json_t *v;

        if (schema_value_from_text(dotted, text, &v, err) < 0)
                return -1;
        return set_value(cfg, dotted, v, err);
}

int config_set_string(struct bimg_config *cfg, const char *dotted, const char *value,
                      struct bimg_error *err)
{
        json_t *v = json_string(value);

        if (!v)
                return bimg_fail(err, BIMG_E_INVALID, "value for '%s' is not valid UTF-8",
                                 dotted);
        return set_value(cfg, dotted, v, err);
}

int config_set_bool(struct bimg_config *cfg, const char *dotted, bool value,
                    struct bimg_error *err)
{
        return set_value(cfg, dotted, json_boolean(value), err);
}

int config_unset(struct bimg_config *cfg, const char *dotted, struct bimg_error *err)
{
        char name[256];
        json_t *parent;

        if (parent_of(cfg->root, dotted, false, &parent, name, sizeof(name), err) < 0)
                return -1;
        if (parent)
                json_object_del(parent, name);
        return 0;
}

int config_merge(struct bimg_config *cfg, const struct bimg_config *other,
                 struct bimg_error *err)
{
        if (json_object_update_recursive(cfg->root, other->root) < 0)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        return 0;
}

int config_add_ssh_keys(struct bimg_config *cfg, char *const *keys, size_t n,
                        struct bimg_error *err)
{
        json_t *arr = (json_t *)schema_lookup(cfg->root, "os.sshKeys");
        struct sshkey_set set;
        size_t i, n_old;
        json_t *k;
        int r = 0;

        if (!arr) {
                if (set_value(cfg, "os.sshKeys", json_array(), err) < 0)
                        return -1;
                arr = (json_t *)schema_lookup(cfg->root, "os.sshKeys");
        }
        if (!json_is_array(arr))
                return bimg_fail(err, BIMG_E_INVALID, "config.json: 'os.sshKeys' must be an "
                                 "array of keys, not %s", json_is_object(arr) ? "an object"
                                                                              : "a single value");
        n_old = json_array_size(arr);
        if (sshkey_set_init(&set, n_old + n) < 0)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        json_array_foreach(arr, i, k)
                if (json_is_string(k))
                        sshkey_set_add(&set, json_string_value(k));
        for (i = 0; i < n && r == 0; i++) {
                if (sshkey_set_add(&set, keys[i]) != 1)
                        continue;                       /* already there */
                if (json_array_size(arr) >= SSHKEY_MAX_KEYS)
                        r = bimg_fail(err, BIMG_E_INVALID, "config.json: 'os.sshKeys' would "
                                      "hold more than %d keys", SSHKEY_MAX_KEYS);
                else if (json_array_append_new(arr, json_string(keys[i])) < 0)
                        r = bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        }
        sshkey_set_free(&set);
        return r;
}

int config_set_udev_rule(struct bimg_config *cfg, const char *name, const char *text,
                         struct bimg_error *err)
{
        json_t *rules = (json_t *)schema_lookup(cfg->root, "os.udevRules");
        json_t *v = json_string(text);

        if (!v)
                return bimg_fail(err, BIMG_E_INVALID, "udev rule '%s' is not valid UTF-8", name);
        if (!rules) {
                if (set_value(cfg, "os.udevRules", json_object(), err) < 0) {
                        json_decref(v);
                        return -1;
                }
                rules = (json_t *)schema_lookup(cfg->root, "os.udevRules");
        }
        if (!json_is_object(rules)) {
                json_decref(v);
                return bimg_fail(err, BIMG_E_INVALID, "config.json: 'os.udevRules' must be an "
                                 "object of rules");
        }
        /* the key is set directly: a rule name may hold '.'-free text only, but it
         * must never be split as a dotted path */
        if (json_object_set_new(rules, name, v) < 0)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        return 0;
}

int config_validate(const struct bimg_config *cfg, const char *origin, bool is_flasher,
                    bimg_warn_fn warn, void *warn_data, struct bimg_error *err)
{
        return schema_validate(cfg->root, origin, is_flasher, warn, warn_data, err);
}

int config_get_text(const struct bimg_config *cfg, const char *dotted, char **ret,
                    struct bimg_error *err)
{
        const json_t *v = schema_lookup(cfg->root, dotted);
        char *text;

        if (!v)
                return bimg_fail(err, BIMG_E_NOT_FOUND, "config.json has no key '%s'", dotted);
        text = json_is_string(v) ? strdup(json_string_value(v))
                                 : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
                                                         JSON_PRESERVE_ORDER);
        if (!text)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        *ret = text;
        return 0;
}

const char *config_get_string(const struct bimg_config *cfg, const char *dotted)
{
        return json_string_value(schema_lookup(cfg->root, dotted));
}
