/* SPDX-License-Identifier: Apache-2.0 */
/*
 * configure's options by name: the one table both `configure --NAME VALUE` and a
 * batch manifest's "NAME": VALUE go through, so the two can never disagree.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "balena-img.h"
#include "config/crypto.h"
#include "net/net.h"
#include "ops/png.h"

enum kind {
        STRING,         /* const char * */
        LIST,           /* struct bimg_str_list, one item per use */
        TRI,            /* int: BIMG_TRI_KEEP, 0 or 1; NAME sets 1, no-NAME sets 0 */
        FLAG,           /* bool */
};

struct option_info {
        const char *name;
        enum kind kind;
        size_t offset;
        bool is_file;   /* a host path (after "NAME=" for udev-rule) */
};

#define S(n, f, file) { n, STRING, offsetof(struct bimg_configure_opts, f), file }
#define L(n, f, file) { n, LIST, offsetof(struct bimg_configure_opts, f), file }
#define T(n, f) { n, TRI, offsetof(struct bimg_configure_opts, f), false }
#define F(n, f) { n, FLAG, offsetof(struct bimg_configure_opts, f), false }

static const struct option_info table[] = {
        S("config", config_file, true),
        F("replace-config", replace_config),
        L("set", sets, false),
        L("unset", unsets, false),
        S("hostname", hostname, false),
        L("ssh-key", ssh_key_files, true),
        L("udev-rule", udev_rules, true),
        T("dev", development_mode),
        T("persistent-logging", persistent_logging),
        T("random-mac-scan", random_mac_scan),
        S("country", country, false),
        S("ntp-servers", ntp_servers, false),
        S("dns-servers", dns_servers, false),
        S("root-ca", root_ca_file, true),
        S("connectivity-uri", connectivity_uri, false),
        S("connectivity-interval", connectivity_interval, false),
        S("connectivity-response", connectivity_response, false),
        S("device-type", device_type, false),
        S("splash", splash_file, true),
        S("wifi-ssid", wifi_ssid, false),
        S("wifi-key", wifi_key, false),
        F("wifi-hidden", wifi_hidden),
        S("static-ip", static_ip, false),
        S("gateway", gateway, false),
        S("dns", dns, false),
        S("apn", apn, false),
        S("apn-user", apn_user, false),
        S("apn-password", apn_password, false),
        L("system-connection", system_connections, true),
        S("proxy", proxy_file, true),
        S("no-proxy", no_proxy_file, true),
        { NULL, STRING, 0, false },
};

/* "no-dev" finds "dev", negated. */
static const struct option_info *find(const char *name, bool *ret_negated)
{
        bool negated = strncmp(name, "no-", 3) == 0;

        for (const struct option_info *o = table; o->name; o++) {
                if (strcmp(o->name, name) == 0) {
                        *ret_negated = false;
                        return o;
                }
                if (negated && o->kind == TRI && strcmp(o->name, name + 3) == 0) {
                        *ret_negated = true;
                        return o;
                }
        }
        return NULL;
}

static int parse_bool(const char *name, const char *value, bool *ret, struct bimg_error *err)
{
        static const char *const yes[] = { "true", "yes", "1", "on" };
        static const char *const no[] = { "false", "no", "0", "off" };

        if (!value) {
                *ret = true;
                return 0;
        }
        for (size_t i = 0; i < 4; i++) {
                if (strcasecmp(value, yes[i]) == 0 || strcasecmp(value, no[i]) == 0) {
                        *ret = strcasecmp(value, yes[i]) == 0;
                        return 0;
                }
        }
        return bimg_fail(err, BIMG_E_INVALID, "option '%s': '%.60s' is not true or false",
                         name, value);
}

static int append(struct bimg_str_list *list, const char *value, struct bimg_error *err)
{
        const char **items = realloc((void *)list->items, (list->n + 1) * sizeof(*items));

        if (!items)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        items[list->n++] = value;
        list->items = items;
        return 0;
}

bool bimg_configure_option_known(const char *name, bool *ret_is_file)
{
        bool negated;
        const struct option_info *o = find(name, &negated);

        if (o && ret_is_file)
                *ret_is_file = o->is_file;
        return o != NULL;
}

/* The heavy library an option will need starts loading now, in the background,
 * while the image is opened and read (base/dl.c). */
static void preload_for(const char *name)
{
        static const char *const nm[] = { "wifi-ssid", "static-ip", "apn", "system-connection" };
        static const char *const crypto[] = { "ssh-key", "root-ca" };

        if (strcmp(name, "splash") == 0)
                png_preload();
        for (size_t i = 0; i < sizeof(nm) / sizeof(nm[0]); i++)
                if (strcmp(name, nm[i]) == 0)
                        net_preload();
        for (size_t i = 0; i < sizeof(crypto) / sizeof(crypto[0]); i++)
                if (strcmp(name, crypto[i]) == 0)
                        crypto_preload();
}

int bimg_configure_opts_set(struct bimg_configure_opts *opts, const char *name,
                            const char *value, struct bimg_error *err)
{
        bool negated, on;
        const struct option_info *o = find(name, &negated);
        char *field = (char *)opts + (o ? o->offset : 0);

        if (!o)
                return bimg_fail(err, BIMG_E_USAGE, "unknown configure option '%s'", name);
        preload_for(o->name);
        switch (o->kind) {
        case STRING:
        case LIST:
                if (!value)
                        return bimg_fail(err, BIMG_E_USAGE, "option '%s' needs a value", name);
                if (o->kind == LIST)
                        return append((struct bimg_str_list *)field, value, err);
                *(const char **)field = value;
                return 0;
        case TRI:
                if (parse_bool(name, value, &on, err) < 0)
                        return -1;
                *(int *)field = on != negated;
                return 0;
        case FLAG:
                if (parse_bool(name, value, &on, err) < 0)
                        return -1;
                *(bool *)field = on;
                return 0;
        }
        return 0;
}

void bimg_configure_opts_release(struct bimg_configure_opts *opts)
{
        for (const struct option_info *o = table; o->name; o++) {
                if (o->kind != LIST)
                        continue;
                struct bimg_str_list *list = (struct bimg_str_list *)((char *)opts + o->offset);

                free((void *)list->items);
                *list = (struct bimg_str_list){ NULL, 0 };
        }
}
