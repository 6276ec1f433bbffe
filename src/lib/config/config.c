/* SPDX-License-Identifier: Apache-2.0 */
/* The config.json model (read side): parse, summarise, query. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"

struct bimg_config {
        json_t *root;
};

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

static const json_t *lookup(const json_t *obj, const char *dotted)
{
        char part[128];

        while (obj && *dotted) {
                const char *dot = strchr(dotted, '.');
                size_t n = dot ? (size_t)(dot - dotted) : strlen(dotted);

                if (n >= sizeof(part) || !json_is_object(obj))
                        return NULL;
                memcpy(part, dotted, n);
                part[n] = '\0';
                obj = json_object_get(obj, part);
                dotted += n + (dot ? 1 : 0);
        }
        return obj;
}

bool config_is_true(const struct bimg_config *cfg, const char *dotted)
{
        const json_t *v = lookup(cfg->root, dotted);

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
                snprintf(out, size, "(%zu %s)", json_array_size(v),
                         strcmp(dotted, "os.sshKeys") == 0 ? "keys" : "items");
                break;
        case JSON_OBJECT:
                snprintf(out, size, "(%zu %s)", json_object_size(v),
                         strcmp(dotted, "os.udevRules") == 0 ? "rules" : "entries");
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
