/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The config.json schema: each key balenaOS (or its supervisor) reads, the JSON
 * type it must have and the format its consumer expects. The OS turns keys into
 * shell variables with one jq call; a scalar key holding an object or array
 * makes that call fail and takes most services down (spec 3.1), so types are
 * checked strictly.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/crypto.h"
#include "config/schema.h"
#include "config/sshkey.h"
#include "config/udev.h"

/* ISO 3166-1 alpha-2 codes, taken from tzdata's iso3166.tab (249 codes). */
static const char countries[] =
        "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBS"
        "BTBVBWBYBZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEE"
        "EGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHM"
        "HNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLC"
        "LILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNA"
        "NCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURW"
        "SASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTO"
        "TRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

static int invalid(struct bimg_error *err, const char *key, const char *why)
{
        return bimg_fail(err, BIMG_E_INVALID, "'%s' %s", key, why);
}

int schema_check_hostname(const char *s, const char *key, struct bimg_error *err)
{
        size_t len = strlen(s);

        /* one RFC 1123 label: the OS writes it to /etc/hostname and advertises
         * <hostname>.local, and `hostname` itself fails past 64 characters */
        if (len == 0 || len > 63)
                return invalid(err, key, "must be 1 to 63 characters (an RFC 1123 host name)");
        if (s[0] == '-' || s[len - 1] == '-')
                return invalid(err, key, "must not start or end with '-'");
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char)*p) && *p != '-')
                        return bimg_fail(err, BIMG_E_INVALID, "'%s' value '%.63s' "
                                         "may hold only letters, digits and '-'", key, s);
        return 0;
}

int schema_check_country(const char *s, const char *key, struct bimg_error *err)
{
        if (strlen(s) == 2 && isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]))
                for (const char *c = countries; *c; c += 2)
                        if (c[0] == s[0] && c[1] == s[1])
                                return 0;
        return bimg_fail(err, BIMG_E_INVALID, "'%s' value '%.16s' is not an ISO "
                         "3166 alpha-2 country code (such as GB, US, DE)", key, s);
}

static bool is_ip(const char *s)
{
        unsigned char buf[16];

        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool is_host_name(const char *s)
{
        size_t len = strlen(s), label = 0;

        if (len == 0 || len > 253)
                return false;
        for (const char *p = s; *p; p++) {
                if (*p == '.') {
                        if (label == 0 || p[-1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!isalnum((unsigned char)*p) && (*p != '-' || label == 0))
                        return false;
                if (++label > 63)
                        return false;
        }
        return label > 0 && s[len - 1] != '-';
}

/* "a b c": one or more host names or addresses, separated by single spaces. */
static int check_host_list(const char *s, const char *key, bool ip_only, struct bimg_error *err)
{
        char item[256];

        if (!*s)
                return invalid(err, key, "is empty; give space-separated servers");
        for (const char *p = s; *p;) {
                size_t n = strcspn(p, " ");

                if (n == 0 || n >= sizeof(item))
                        return invalid(err, key, "must be servers separated by single spaces");
                memcpy(item, p, n);
                item[n] = '\0';
                if (!is_ip(item) && (ip_only || !is_host_name(item)))
                        return bimg_fail(err, BIMG_E_INVALID, "'%s': '%s' is not "
                                         "%s", key, item, ip_only ? "an IP address"
                                                                  : "a host name or IP address");
                p += n;
                if (*p == ' ' && !*++p)
                        return invalid(err, key, "must not end with a space");
        }
        return 0;
}

static int check_ntp(const json_t *v, const char *key, struct bimg_error *err)
{
        return check_host_list(json_string_value(v), key, false, err);
}

static int check_dns(const json_t *v, const char *key, struct bimg_error *err)
{
        const char *s = json_string_value(v);

        if (strcmp(s, "null") == 0)     /* the OS's word for "add no server" */
                return 0;
        if (!*s)
                return invalid(err, key, "is empty: use \"null\" for no extra DNS server "
                               "(an empty string is read differently by different OS versions)");
        return check_host_list(s, key, false, err);
}

static int check_hostname_value(const json_t *v, const char *key, struct bimg_error *err)
{
        return schema_check_hostname(json_string_value(v), key, err);
}

static int check_country_value(const json_t *v, const char *key, struct bimg_error *err)
{
        return schema_check_country(json_string_value(v), key, err);
}

/* http(s)://host[:port][/path]: os-config strips the scheme and panics otherwise,
 * and the OS appends paths such as /connectivity-check. */
static int check_url_text(const char *s, const char *key, struct bimg_error *err)
{
        const char *host;
        size_t n;

        if (strncmp(s, "https://", 8) == 0)
                host = s + 8;
        else if (strncmp(s, "http://", 7) == 0)
                host = s + 7;
        else
                return bimg_fail(err, BIMG_E_INVALID, "'%s' value '%.80s' must be "
                                 "a URL starting with https:// or http://", key, s);
        n = strcspn(host, ":/");
        if (n == 0)
                return invalid(err, key, "has no host name");
        for (const char *p = s; *p; p++)
                if (isspace((unsigned char)*p) || (unsigned char)*p < 0x20)
                        return invalid(err, key, "must not contain spaces or control characters");
        if (s[strlen(s) - 1] == '/')
                return invalid(err, key, "must not end with '/' (the OS appends its own paths)");
        return 0;
}

static int check_url(const json_t *v, const char *key, struct bimg_error *err)
{
        return check_url_text(json_string_value(v), key, err);
}

static int check_connectivity_uri(const json_t *v, const char *key, struct bimg_error *err)
{
        const char *s = json_string_value(v);

        return strcmp(s, "null") == 0 ? 0 : check_url_text(s, key, err);
}

static int check_uuid(const json_t *v, const char *key, struct bimg_error *err)
{
        const char *s = json_string_value(v);
        size_t len = strlen(s);

        if (len < 32 || len > 62 || strspn(s, "0123456789abcdef") != len)
                return invalid(err, key, "must be 32 to 62 lowercase hex digits (the OS makes "
                               "32 with 'openssl rand -hex 16')");
        return 0;
}

static int check_token(const json_t *v, const char *key, struct bimg_error *err)
{
        const char *s = json_string_value(v);

        if (!*s)
                return invalid(err, key, "must not be empty");
        for (const char *p = s; *p; p++)
                if (isspace((unsigned char)*p) || (unsigned char)*p < 0x20)
                        return invalid(err, key, "must not contain spaces or control characters");
        return 0;
}

static int check_slug(const json_t *v, const char *key, struct bimg_error *err)
{
        const char *s = json_string_value(v);

        if (!*s || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(s))
                return invalid(err, key, "must be a device-type slug such as raspberrypi4-64");
        return 0;
}

static int check_positive(const json_t *v, const char *key, struct bimg_error *err)
{
        json_int_t n = json_is_integer(v) ? json_integer_value(v)
                                          : strtoll(json_string_value(v), NULL, 10);

        if (n <= 0)
                return invalid(err, key, "must be a positive number");
        return 0;
}

static int check_port(const json_t *v, const char *key, struct bimg_error *err)
{
        json_int_t n = json_integer_value(v);

        if (n < 1 || n > 65535)
                return invalid(err, key, "must be a port number from 1 to 65535");
        return 0;
}

static int check_interval(const json_t *v, const char *key, struct bimg_error *err)
{
        const char *s = json_string_value(v);

        if (json_is_integer(v))                 /* the OS reads a number as well */
                return json_integer_value(v) >= 0 ? 0 : invalid(err, key, "must not be negative");
        if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
                return invalid(err, key, "must be a whole number of seconds as a string, "
                               "such as \"3600\" (\"0\" turns checks off)");
        return 0;
}

static int check_root_ca(const json_t *v, const char *key, struct bimg_error *err)
{
        const char *s = json_string_value(v);
        unsigned char *pem = NULL;
        size_t len, count, n = 0;
        char *flat;
        int r;

        /* the OS decodes with base64 -d, which skips line breaks: a wrapped value works */
        flat = malloc(strlen(s) + 1);
        if (!flat)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        for (const char *p = s; *p; p++)
                if (*p != '\n' && *p != '\r')
                        flat[n++] = *p;
        flat[n] = '\0';
        r = crypto_base64_decode(flat, n, &pem, &len, err);
        free(flat);
        if (r < 0) {
                bimg_error_prefix(err, "'%s' must be the base64 of a PEM "
                                  "certificate", key);
                return -1;
        }
        r = crypto_check_certificates((const char *)pem, len, &count, err);
        free(pem);
        if (r < 0)
                bimg_error_prefix(err, "'%s'", key);
        return r;
}

static int check_ssh_keys(const json_t *v, const char *key, struct bimg_error *err)
{
        size_t i;
        json_t *k;

        json_array_foreach(v, i, k) {
                char origin[64], *line;

                snprintf(origin, sizeof(origin), "'%s[%zu]'", key, i);
                if (!json_is_string(k) || strlen(json_string_value(k)) != json_string_length(k))
                        return bimg_fail(err, BIMG_E_INVALID, "%s must be a string (one public "
                                         "key)", origin);
                if (sshkey_check_line(json_string_value(k), origin, &line, err) < 0)
                        return -1;
                free(line);
        }
        return 0;
}

static int check_udev_rules(const json_t *v, const char *key, struct bimg_error *err)
{
        const char *name;
        json_t *rule;

        json_object_foreach((json_t *)v, name, rule) {
                char origin[128];

                snprintf(origin, sizeof(origin), "'%s.%.64s'", key, name);
                if (udev_check_name(name, err) < 0) {
                        bimg_error_prefix(err, "'%s'", key);
                        return -1;
                }
                if (!json_is_string(rule))
                        return bimg_fail(err, BIMG_E_INVALID, "%s must be a string (the rule "
                                         "text)", origin);
                if (udev_check_rules(json_string_value(rule), json_string_length(rule), origin,
                                     err) < 0)
                        return -1;
        }
        return 0;
}

static int check_strings_object(const json_t *v, const char *key, struct bimg_error *err)
{
        const char *name;
        json_t *item;

        json_object_foreach((json_t *)v, name, item)
                if (!json_is_string(item))
                        return bimg_fail(err, BIMG_E_INVALID, "'%s.%.64s' must be "
                                         "a string", key, name);
        return 0;
}

static int check_fan(const json_t *v, const char *key, struct bimg_error *err)
{
        const char *s = json_string_value(v);

        return strcmp(s, "quiet") == 0 || strcmp(s, "cool") == 0
                       ? 0 : invalid(err, key, "must be \"quiet\" or \"cool\"");
}

static int check_power(const json_t *v, const char *key, struct bimg_error *err)
{
        const char *s = json_string_value(v);

        return strcmp(s, "low") == 0 || strcmp(s, "mid") == 0 || strcmp(s, "high") == 0
                       ? 0 : invalid(err, key, "must be \"low\", \"mid\" or \"high\"");
}

static int check_target_devices(const json_t *v, const char *key, struct bimg_error *err)
{
        const char *s = json_string_value(v);

        if (!*s || strchr(s, '/') || strstr(s, ".."))
                return invalid(err, key, "must be kernel device names relative to /dev, "
                               "separated by spaces, such as \"nvme0n1 sda\"");
        return 0;
}

static const struct schema_key keys[] = {
        /* read by meta-balena (spec 3.2) */
        { "hostname", SCHEMA_STRING, 0, check_hostname_value, NULL },
        { "persistentLogging", SCHEMA_BOOL, 0, NULL, NULL },
        { "country", SCHEMA_STRING, 0, check_country_value, NULL },
        { "ntpServers", SCHEMA_STRING, 0, check_ntp, NULL },
        { "dnsServers", SCHEMA_STRING, 0, check_dns, NULL },
        { "balenaRootCA", SCHEMA_STRING, 0, check_root_ca, NULL },
        { "developmentMode", SCHEMA_BOOL, 0, NULL, NULL },
        { "apiEndpoint", SCHEMA_STRING, 0, check_url, NULL },
        { "applicationId", SCHEMA_INT_TOLERANT, 0, check_positive, NULL },
        { "deviceType", SCHEMA_STRING, 0, check_slug, NULL },
        { "uuid", SCHEMA_STRING, 0, check_uuid, NULL },
        { "apiKey", SCHEMA_STRING, SCHEMA_SECRET, check_token, NULL },
        { "deviceApiKey", SCHEMA_STRING, SCHEMA_SECRET, check_token, NULL },
        { "deviceApiKeys", SCHEMA_OBJECT, SCHEMA_SECRET, check_strings_object, NULL },
        { "deviceId", SCHEMA_INT_TOLERANT, 0, check_positive, NULL },
        { "registered_at", SCHEMA_INT_TOLERANT, 0, NULL, NULL },
        { "listenPort", SCHEMA_INT, 0, check_port, NULL },
        { "deltaEndpoint", SCHEMA_STRING, 0, check_url, NULL },
        { "mixpanelToken", SCHEMA_STRING, SCHEMA_SECRET, NULL, NULL },
        { "debug", SCHEMA_SCALAR, 0, NULL, NULL },
        { "os", SCHEMA_OBJECT, 0, NULL, NULL },
        { "os.sshKeys", SCHEMA_ARRAY, 0, check_ssh_keys, NULL },
        { "os.udevRules", SCHEMA_OBJECT, 0, check_udev_rules, NULL },
        { "os.network", SCHEMA_OBJECT, 0, NULL, NULL },
        { "os.network.wifi", SCHEMA_OBJECT, 0, NULL, NULL },
        { "os.network.wifi.randomMacAddressScan", SCHEMA_BOOL, 0, NULL, NULL },
        { "os.network.connectivity", SCHEMA_OBJECT, 0, NULL, NULL },
        { "os.network.connectivity.uri", SCHEMA_STRING, 0, check_connectivity_uri, NULL },
        { "os.network.connectivity.interval", SCHEMA_STRING_TOLERANT, 0, check_interval, NULL },
        { "os.network.connectivity.response", SCHEMA_STRING, 0, NULL, NULL },
        { "os.fan", SCHEMA_OBJECT, 0, NULL, NULL },
        { "os.fan.profile", SCHEMA_STRING, 0, check_fan, NULL },
        { "os.power", SCHEMA_OBJECT, 0, NULL, NULL },
        { "os.power.mode", SCHEMA_STRING, 0, check_power, NULL },
        { "os.kernel", SCHEMA_OBJECT, 0, NULL, NULL },
        { "os.kernel.extraFirmwareVol", SCHEMA_STRING, 0, check_token, NULL },
        { "installer", SCHEMA_OBJECT, SCHEMA_FLASHER, NULL, NULL },
        { "installer.secureboot", SCHEMA_BOOL, SCHEMA_FLASHER, NULL, NULL },
        { "installer.migrate", SCHEMA_OBJECT, SCHEMA_FLASHER, NULL, NULL },
        { "installer.migrate.force", SCHEMA_BOOL, SCHEMA_FLASHER, NULL, NULL },
        { "installer.target_devices", SCHEMA_STRING, SCHEMA_FLASHER, check_target_devices, NULL },
        { "installer.whitelist_pcr2", SCHEMA_BOOL, SCHEMA_FLASHER, NULL, NULL },
        /* read by the supervisor and written by balena's cloud tools (spec 3.5) */
        { "appUpdatePollInterval", SCHEMA_INT_TOLERANT, 0, check_positive, NULL },
        { "apiTimeout", SCHEMA_INT_TOLERANT, 0, check_positive, NULL },
        { "statePatchInterval", SCHEMA_INT_TOLERANT, 0, check_positive, NULL },
        { "bootstrapRetryDelay", SCHEMA_INT_TOLERANT, 0, check_positive, NULL },
        { "initialDeviceName", SCHEMA_STRING, 0, NULL, NULL },
        { "vpnEndpoint", SCHEMA_SCALAR, 0, NULL, NULL },
        { "vpnPort", SCHEMA_SCALAR, 0, NULL, NULL },
        { "registryEndpoint", SCHEMA_SCALAR, 0, NULL, NULL },
        { "pubnubSubscribeKey", SCHEMA_SCALAR, 0, NULL, NULL },
        { "pubnubPublishKey", SCHEMA_SCALAR, 0, NULL, NULL },
        { "userId", SCHEMA_SCALAR, 0, NULL, NULL },
        /* no longer read by balenaOS 2.x and later */
        { "wifiSsid", SCHEMA_SCALAR, SCHEMA_IGNORED, NULL,
          "Wi-Fi needs a NetworkManager profile: use --wifi-ssid and --wifi-key" },
        { "wifiKey", SCHEMA_SCALAR, SCHEMA_IGNORED | SCHEMA_SECRET, NULL,
          "Wi-Fi needs a NetworkManager profile: use --wifi-ssid and --wifi-key" },
        { "files", SCHEMA_OBJECT, SCHEMA_IGNORED, NULL,
          "balenaOS 1.x network files; use NetworkManager profiles" },
        { "hostappExtensions", SCHEMA_SCALAR, SCHEMA_IGNORED, NULL,
          "hostapp extensions are no longer read since balenaOS 7.7.0" },
};

const struct schema_key *schema_find(const char *dotted)
{
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                if (strcmp(keys[i].key, dotted) == 0)
                        return &keys[i];
        return NULL;
}

static const char *type_word(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "an object";
        case JSON_ARRAY:
                return "an array";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
        case JSON_REAL:
                return "a number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "a boolean";
        default:
                return "null";
        }
}

static bool digits_only(const char *s)
{
        return *s && strspn(s, "0123456789") == strlen(s);
}

static int check_type(const struct schema_key *k, const json_t *v, struct bimg_error *err)
{
        static const char *const wanted[] = {
                [SCHEMA_STRING] = "a string", [SCHEMA_BOOL] = "true or false",
                [SCHEMA_INT] = "a whole number", [SCHEMA_INT_TOLERANT] = "a whole number",
                [SCHEMA_SCALAR] = "a string, number or boolean", [SCHEMA_OBJECT] = "an object",
                [SCHEMA_STRING_TOLERANT] = "a string",
                [SCHEMA_ARRAY] = "an array",
        };
        bool ok;

        switch (k->type) {
        case SCHEMA_STRING:
                /* a NUL inside would cut the value short for every shell consumer */
                ok = json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
                break;
        case SCHEMA_BOOL:
                ok = json_is_boolean(v);
                break;
        case SCHEMA_INT:
                ok = json_is_integer(v);
                break;
        case SCHEMA_INT_TOLERANT:
                ok = json_is_integer(v) || (json_is_string(v) && digits_only(json_string_value(v)));
                break;
        case SCHEMA_SCALAR:
                ok = json_is_string(v) || json_is_number(v) || json_is_boolean(v);
                break;
        case SCHEMA_STRING_TOLERANT:
                ok = json_is_string(v) || json_is_integer(v);
                break;
        case SCHEMA_OBJECT:
                ok = json_is_object(v);
                break;
        case SCHEMA_ARRAY:
        default:
                ok = json_is_array(v);
                break;
        }
        if (ok)
                return 0;
        return bimg_fail(err, BIMG_E_INVALID, "'%s' must be %s, not %s%s", k->key,
                         wanted[k->type], type_word(v),
                         k->type != SCHEMA_OBJECT && k->type != SCHEMA_ARRAY &&
                                         (json_is_object(v) || json_is_array(v))
                                 ? " (balena-config-vars cannot read it, and most services "
                                   "would fail)"
                                 : "");
}

const json_t *schema_lookup(const json_t *root, const char *dotted)
{
        char part[128];

        while (root && *dotted) {
                const char *dot = strchr(dotted, '.');
                size_t n = dot ? (size_t)(dot - dotted) : strlen(dotted);

                if (n >= sizeof(part) || !json_is_object(root))
                        return NULL;
                memcpy(part, dotted, n);
                part[n] = '\0';
                root = json_object_get(root, part);
                dotted += n + (dot ? 1 : 0);
        }
        return root;
}

int schema_validate(const json_t *root, const char *origin, bool is_flasher, bimg_warn_fn warn,
                    void *warn_data, struct bimg_error *err)
{
        bool warned_installer = false;

        if (!json_is_object(root))
                return bimg_fail(err, BIMG_E_INVALID, "%s must be a JSON object", origin);
        /* parents come before children in the table, so a non-object "os" is
         * reported as such before any "os.*" lookup */
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                const struct schema_key *k = &keys[i];
                const json_t *v = schema_lookup(root, k->key);
                char msg[256];

                if (!v || json_is_null(v))
                        continue;
                if (check_type(k, v, err) < 0 || (k->check && k->check(v, k->key, err) < 0)) {
                        bimg_error_prefix(err, "%s", origin);
                        return -1;
                }
                if (!warn)
                        continue;
                if ((k->flags & SCHEMA_FLASHER) && !is_flasher && !warned_installer) {
                        snprintf(msg, sizeof(msg), "%s: 'installer' keys only matter on flasher "
                                 "images and are ignored here", origin);
                        warn(msg, warn_data);
                        warned_installer = true;
                }
                if (k->flags & SCHEMA_IGNORED) {
                        snprintf(msg, sizeof(msg), "%s: '%s' is not read by balenaOS 2.x and "
                                 "later; %s", origin, k->key, k->note);
                        warn(msg, warn_data);
                }
        }
        return 0;
}

int schema_value_from_text(const char *dotted, const char *text, json_t **ret,
                           struct bimg_error *err)
{
        const struct schema_key *k = schema_find(dotted);
        json_error_t jerr;
        json_t *v;

        if (k && (k->type == SCHEMA_STRING || k->type == SCHEMA_STRING_TOLERANT) &&
            text[0] != '"') {
                v = json_string(text);          /* hostname=1234 is the string "1234" */
                if (!v)
                        return bimg_fail(err, BIMG_E_INVALID, "value for '%s' is not valid "
                                         "UTF-8", dotted);
                *ret = v;
                return 0;
        }
        v = json_loads(text, JSON_DECODE_ANY, &jerr);
        if (!v && k && k->type != SCHEMA_SCALAR && k->type != SCHEMA_INT_TOLERANT)
                return bimg_fail(err, BIMG_E_INVALID, "value for '%s' must be JSON (%s): %s",
                                 dotted, k->type == SCHEMA_BOOL ? "true or false" : "a literal",
                                 jerr.text);
        if (!v)
                v = json_string(text);          /* an unknown key: the text as a string */
        if (!v)
                return bimg_fail(err, BIMG_E_INVALID, "value for '%s' is not valid UTF-8",
                                 dotted);
        *ret = v;
        return 0;
}
