/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NetworkManager keyfiles for system-connections/ (spec 4.1), built and checked
 * with libnm itself so that what we write is what NetworkManager reads.
 *
 * libnm costs about 7 ms to load (style guide 2.8), so it is opened with dlopen
 * on first use and never linked: every libnm, GLib and GObject function used
 * here comes through the sym_* table below, declared with the real prototypes
 * from the headers. GLib is reached through the libnm handle, which pulls it in.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <NetworkManager.h>

#include "base/dl.h"
#include "base/utf8.h"
#include "net/net.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_KEYFILE (1024 * 1024)       /* larger is not a profile; refuse before parsing */
#define NM_BASE_DIR "/etc/NetworkManager/system-connections"

static typeof(nm_simple_connection_new) *sym_nm_simple_connection_new;
static typeof(nm_connection_add_setting) *sym_nm_connection_add_setting;
static typeof(nm_connection_normalize) *sym_nm_connection_normalize;
static typeof(nm_connection_verify) *sym_nm_connection_verify;
static typeof(nm_connection_verify_secrets) *sym_nm_connection_verify_secrets;
static typeof(nm_connection_get_setting_by_name) *sym_nm_connection_get_setting_by_name;
static typeof(nm_connection_get_setting_connection) *sym_nm_connection_get_setting_connection;
static typeof(nm_connection_get_setting_wireless_security)
        *sym_nm_connection_get_setting_wireless_security;
static typeof(nm_setting_connection_new) *sym_nm_setting_connection_new;
static typeof(nm_setting_connection_get_id) *sym_nm_setting_connection_get_id;
static typeof(nm_setting_connection_get_uuid) *sym_nm_setting_connection_get_uuid;
static typeof(nm_setting_connection_get_connection_type)
        *sym_nm_setting_connection_get_connection_type;
static typeof(nm_setting_wireless_new) *sym_nm_setting_wireless_new;
static typeof(nm_setting_wireless_security_new) *sym_nm_setting_wireless_security_new;
static typeof(nm_setting_wireless_security_get_key_mgmt)
        *sym_nm_setting_wireless_security_get_key_mgmt;
static typeof(nm_setting_wireless_security_get_psk) *sym_nm_setting_wireless_security_get_psk;
static typeof(nm_setting_wireless_security_get_psk_flags)
        *sym_nm_setting_wireless_security_get_psk_flags;
static typeof(nm_setting_wired_new) *sym_nm_setting_wired_new;
static typeof(nm_setting_gsm_new) *sym_nm_setting_gsm_new;
static typeof(nm_setting_ip4_config_new) *sym_nm_setting_ip4_config_new;
static typeof(nm_setting_ip6_config_new) *sym_nm_setting_ip6_config_new;
static typeof(nm_setting_ip_config_add_address) *sym_nm_setting_ip_config_add_address;
static typeof(nm_setting_ip_config_add_dns) *sym_nm_setting_ip_config_add_dns;
static typeof(nm_ip_address_new) *sym_nm_ip_address_new;
static typeof(nm_ip_address_unref) *sym_nm_ip_address_unref;
static typeof(nm_keyfile_write) *sym_nm_keyfile_write;
static typeof(nm_keyfile_read) *sym_nm_keyfile_read;
static typeof(nm_keyfile_handler_data_get_context) *sym_nm_keyfile_handler_data_get_context;
static typeof(nm_keyfile_handler_data_warn_get) *sym_nm_keyfile_handler_data_warn_get;
static typeof(g_object_set) *sym_g_object_set;
static typeof(g_object_unref) *sym_g_object_unref;
static typeof(g_object_class_find_property) *sym_g_object_class_find_property;
static typeof(g_bytes_new) *sym_g_bytes_new;
static typeof(g_bytes_unref) *sym_g_bytes_unref;
static typeof(g_key_file_new) *sym_g_key_file_new;
static typeof(g_key_file_free) *sym_g_key_file_free;
static typeof(g_key_file_load_from_data) *sym_g_key_file_load_from_data;
static typeof(g_key_file_to_data) *sym_g_key_file_to_data;
static typeof(g_key_file_get_groups) *sym_g_key_file_get_groups;
static typeof(g_key_file_get_keys) *sym_g_key_file_get_keys;
static typeof(g_checksum_new) *sym_g_checksum_new;
static typeof(g_checksum_update) *sym_g_checksum_update;
static typeof(g_checksum_get_digest) *sym_g_checksum_get_digest;
static typeof(g_checksum_free) *sym_g_checksum_free;
static typeof(g_strfreev) *sym_g_strfreev;
static typeof(g_free) *sym_g_free;
static typeof(g_error_free) *sym_g_error_free;

static const struct dl_sym nm_syms[] = {
        DL_SYM(nm_simple_connection_new),
        DL_SYM(nm_connection_add_setting),
        DL_SYM(nm_connection_normalize),
        DL_SYM(nm_connection_verify),
        DL_SYM(nm_connection_verify_secrets),
        DL_SYM(nm_connection_get_setting_by_name),
        DL_SYM(nm_connection_get_setting_connection),
        DL_SYM(nm_connection_get_setting_wireless_security),
        DL_SYM(nm_setting_connection_new),
        DL_SYM(nm_setting_connection_get_id),
        DL_SYM(nm_setting_connection_get_uuid),
        DL_SYM(nm_setting_connection_get_connection_type),
        DL_SYM(nm_setting_wireless_new),
        DL_SYM(nm_setting_wireless_security_new),
        DL_SYM(nm_setting_wireless_security_get_key_mgmt),
        DL_SYM(nm_setting_wireless_security_get_psk),
        DL_SYM(nm_setting_wireless_security_get_psk_flags),
        DL_SYM(nm_setting_wired_new),
        DL_SYM(nm_setting_gsm_new),
        DL_SYM(nm_setting_ip4_config_new),
        DL_SYM(nm_setting_ip6_config_new),
        DL_SYM(nm_setting_ip_config_add_address),
        DL_SYM(nm_setting_ip_config_add_dns),
        DL_SYM(nm_ip_address_new),
        DL_SYM(nm_ip_address_unref),
        DL_SYM(nm_keyfile_write),
        DL_SYM(nm_keyfile_read),
        DL_SYM(nm_keyfile_handler_data_get_context),
        DL_SYM(nm_keyfile_handler_data_warn_get),
        DL_SYM(g_object_set),
        DL_SYM(g_object_unref),
        DL_SYM(g_object_class_find_property),
        DL_SYM(g_bytes_new),
        DL_SYM(g_bytes_unref),
        DL_SYM(g_key_file_new),
        DL_SYM(g_key_file_free),
        DL_SYM(g_key_file_load_from_data),
        DL_SYM(g_key_file_to_data),
        DL_SYM(g_key_file_get_groups),
        DL_SYM(g_key_file_get_keys),
        DL_SYM(g_checksum_new),
        DL_SYM(g_checksum_update),
        DL_SYM(g_checksum_get_digest),
        DL_SYM(g_checksum_free),
        DL_SYM(g_strfreev),
        DL_SYM(g_free),
        DL_SYM(g_error_free),
};

static struct dl_lib libnm = {
        .soname = "libnm.so.0",
        .package = "libnm0",
        .purpose = "NetworkManager profiles",
        .syms = nm_syms,
        .n_syms = ARRAY_SIZE(nm_syms),
        .rank = 1,
};

void net_preload(void)
{
        dl_preload(&libnm);
}

static int load_libnm(struct bimg_error *err)
{
        return dl_load(&libnm, err);
}

/* ---- plain value checks (no libnm needed) ------------------------------- */

static bool has_control(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

/* Text fields (user name, password): valid UTF-8, no control characters. */
static int check_text(const char *option, const char *value, struct bimg_error *err)
{
        if (!*value)
                return bimg_fail(err, BIMG_E_INVALID, "%s: empty value", option);
        if (!utf8_is_valid(value) || has_control(value))
                return bimg_fail(err, BIMG_E_INVALID, "%s: control characters or invalid "
                                 "UTF-8; use printable text", option);
        return 0;
}

static int check_ssid(const char *ssid, struct bimg_error *err)
{
        size_t len = ssid ? strlen(ssid) : 0;

        if (len == 0)
                return bimg_fail(err, BIMG_E_INVALID, "--wifi-ssid: a Wi-Fi profile needs an "
                                 "SSID");
        if (len > 32)
                return bimg_fail(err, BIMG_E_INVALID, "--wifi-ssid: '%s' is %zu bytes long; "
                                 "an SSID has 1 to 32 bytes", ssid, len);
        return 0;
}

/* WPA passphrase: 8-63 printable ASCII characters, or the raw key as 64 hex digits.
 * The value is a secret, so messages give its length, never the text. */
static int check_psk(const char *psk, struct bimg_error *err)
{
        size_t len = strlen(psk);

        if (len == 64) {
                if (strspn(psk, "0123456789abcdefABCDEF") == 64)
                        return 0;
                return bimg_fail(err, BIMG_E_INVALID, "--wifi-key: a 64-character key must be "
                                 "hex digits (0-9, a-f); a passphrase has 8 to 63 characters");
        }
        if (len < 8 || len > 63)
                return bimg_fail(err, BIMG_E_INVALID, "--wifi-key: %zu characters; a WPA "
                                 "passphrase has 8 to 63 printable ASCII characters (or is 64 "
                                 "hex digits)", len);
        for (size_t i = 0; i < len; i++)
                if (psk[i] < 0x20 || psk[i] > 0x7e)
                        return bimg_fail(err, BIMG_E_INVALID, "--wifi-key: character %zu is not "
                                         "printable ASCII; a WPA passphrase uses only ASCII "
                                         "32-126", i + 1);
        return 0;
}

/* "IP", or "IP/PREFIX" when with_prefix. Returns 0, -ENOMSG (no prefix), -ERANGE (bad
 * prefix) or -EINVAL (anything else); *ret is written only on success. */
struct ip_value {
        int family;             /* AF_INET or AF_INET6 */
        char addr[INET6_ADDRSTRLEN];
        unsigned prefix;
};

static int parse_ip(const char *text, bool with_prefix, struct ip_value *ret)
{
        unsigned char buf[sizeof(struct in6_addr)];
        const char *slash = strchr(text, '/');
        size_t len = slash ? (size_t)(slash - text) : strlen(text);
        struct ip_value v = { 0 };

        if (!with_prefix && slash)
                return -EINVAL;
        if (with_prefix && !slash)
                return -ENOMSG;
        if (len == 0 || len >= sizeof(v.addr))
                return -EINVAL;
        memcpy(v.addr, text, len);
        v.addr[len] = '\0';
        if (inet_pton(AF_INET, v.addr, buf) == 1)
                v.family = AF_INET;
        else if (inet_pton(AF_INET6, v.addr, buf) == 1)
                v.family = AF_INET6;
        else
                return -EINVAL;
        if (with_prefix) {
                const char *p = slash + 1;
                unsigned max = v.family == AF_INET ? 32 : 128;

                /* decimal digits only: no sign, no spaces, no leading zeros */
                if (!*p || strspn(p, "0123456789") != strlen(p) || (p[0] == '0') ||
                    strlen(p) > 3)
                        return -ERANGE;
                v.prefix = (unsigned)strtoul(p, NULL, 10);
                if (v.prefix < 1 || v.prefix > max)
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}

/* Validate every value of the request before libnm sees it, naming the option. */
static int check_request(const struct net_request *req, struct ip_value *ret_addr,
                         struct bimg_error *err)
{
        struct ip_value addr = { 0 }, gw;
        int r;

        if (net_check_profile_name(req->id, err) < 0)    /* also: valid UTF-8 */
                return -1;

        switch (req->kind) {
        case NET_WIFI:
                if (check_ssid(req->ssid, err) < 0)
                        return -1;
                if (req->psk && check_psk(req->psk, err) < 0)
                        return -1;
                break;
        case NET_ETHERNET:
        case NET_CELLULAR:
                if (req->ssid || req->psk || req->hidden)
                        return bimg_fail(err, BIMG_E_INVALID, "%s: only for Wi-Fi profiles",
                                         req->ssid ? "--wifi-ssid" :
                                         req->psk ? "--wifi-key" : "--wifi-hidden");
                break;
        default:
                return bimg_fail(err, BIMG_E_FAILURE, "unknown network kind %d", (int)req->kind);
        }

        if (req->kind == NET_CELLULAR) {
                size_t len = req->apn ? strlen(req->apn) : 0;

                if (len == 0)
                        return bimg_fail(err, BIMG_E_INVALID, "--apn: a cellular profile needs "
                                         "the APN of the SIM's operator");
                /* NetworkManager's own rule (nm-setting-gsm.c verify), checked here so the
                 * message names our option */
                if (len > 64)
                        return bimg_fail(err, BIMG_E_INVALID, "--apn: %zu characters; an APN "
                                         "has at most 64", len);
                if (strspn(req->apn, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                           "0123456789._-") != len)
                        return bimg_fail(err, BIMG_E_INVALID, "--apn: '%s' has a character other "
                                         "than letters, digits, '.', '_' and '-'", req->apn);
                if (req->user && check_text("--apn-user", req->user, err) < 0)
                        return -1;
                if (req->password && check_text("--apn-password", req->password, err) < 0)
                        return -1;
        } else if (req->apn || req->user || req->password) {
                return bimg_fail(err, BIMG_E_INVALID, "%s: only for cellular profiles",
                                 req->apn ? "--apn" : req->user ? "--apn-user" : "--apn-password");
        }

        if (req->address) {
                r = parse_ip(req->address, true, &addr);
                if (r == -ENOMSG)
                        return bimg_fail(err, BIMG_E_INVALID, "--static-ip: '%s' has no prefix "
                                         "length; write it as ADDRESS/PREFIX, e.g. "
                                         "192.168.1.10/24", req->address);
                if (r == -ERANGE)
                        return bimg_fail(err, BIMG_E_INVALID, "--static-ip: '%s': the prefix "
                                         "length must be 1 to %u", req->address,
                                         strchr(req->address, ':') ? 128 : 32);
                if (r < 0)
                        return bimg_fail(err, BIMG_E_INVALID, "--static-ip: '%s' is not an IPv4 "
                                         "or IPv6 address with a prefix length", req->address);
        }
        if (req->gateway) {
                if (!req->address)
                        return bimg_fail(err, BIMG_E_INVALID, "--gateway: needs --static-ip "
                                         "(with DHCP the gateway comes from the network)");
                if (parse_ip(req->gateway, false, &gw) < 0)
                        return bimg_fail(err, BIMG_E_INVALID, "--gateway: '%s' is not an IP "
                                         "address", req->gateway);
                if (gw.family != addr.family)
                        return bimg_fail(err, BIMG_E_INVALID, "--gateway: '%s' is %s but "
                                         "--static-ip is %s", req->gateway,
                                         gw.family == AF_INET ? "IPv4" : "IPv6",
                                         addr.family == AF_INET ? "IPv4" : "IPv6");
        }
        if (req->dns) {
                const char *p = req->dns;
                unsigned n = 0;

                for (;;) {
                        struct ip_value d;
                        char one[INET6_ADDRSTRLEN + 8];
                        size_t len;

                        p += strspn(p, ", ");
                        if (!*p)
                                break;
                        len = strcspn(p, ", ");
                        if (len < sizeof(one)) {
                                memcpy(one, p, len);
                                one[len] = '\0';
                        }
                        if (len >= sizeof(one) || parse_ip(one, false, &d) < 0)
                                return bimg_fail(err, BIMG_E_INVALID, "--dns: '%.*s' is not an "
                                                 "IP address", (int)(len > 64 ? 64 : len), p);
                        p += len;
                        n++;
                }
                if (n == 0)
                        return bimg_fail(err, BIMG_E_INVALID, "--dns: no address given; list "
                                         "servers separated by commas");
        }
        *ret_addr = addr;
        return 0;
}

/* ---- deterministic UUID ------------------------------------------------- */

/* Name-based UUID, RFC 4122 version 5 (SHA-1, through GLib's GChecksum), so that
 * the same profile name always gives the same connection.uuid and configuring
 * twice writes identical bytes. The namespace is uuid5(NAMESPACE_DNS, "balena-img"),
 * f53228a7-93ed-5f91-9c51-538a67be9a92; to reproduce a value:
 *   python3 -c 'import uuid; print(uuid.uuid5(uuid.UUID("f53228a7-93ed-5f91-9c51-'
 *              '538a67be9a92"), "resin-wifi"))'
 */
static const unsigned char uuid_namespace[16] = {
        0xf5, 0x32, 0x28, 0xa7, 0x93, 0xed, 0x5f, 0x91,
        0x9c, 0x51, 0x53, 0x8a, 0x67, 0xbe, 0x9a, 0x92,
};

static int profile_uuid(const char *name, char ret[37], struct bimg_error *err)
{
        guint8 digest[20];
        gsize digest_len = sizeof(digest);
        GChecksum *sha1 = sym_g_checksum_new(G_CHECKSUM_SHA1);

        if (!sha1)
                return bimg_fail(err, BIMG_E_FAILURE, "GLib has no SHA-1 checksum");
        sym_g_checksum_update(sha1, uuid_namespace, sizeof(uuid_namespace));
        sym_g_checksum_update(sha1, (const guchar *)name, (gssize)strlen(name));
        sym_g_checksum_get_digest(sha1, digest, &digest_len);
        sym_g_checksum_free(sha1);
        digest[6] = (digest[6] & 0x0f) | 0x50;          /* version 5 */
        digest[8] = (digest[8] & 0x3f) | 0x80;          /* RFC 4122 variant */
        snprintf(ret, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                 "%02x%02x%02x%02x%02x%02x", digest[0], digest[1], digest[2], digest[3],
                 digest[4], digest[5], digest[6], digest[7], digest[8], digest[9], digest[10],
                 digest[11], digest[12], digest[13], digest[14], digest[15]);
        return 0;
}

/* ---- building ----------------------------------------------------------- */

/* Report libnm's or GLib's own words after "where: ", minus the final period some of
 * them carry (our messages have none). */
static int fail_text(struct bimg_error *err, const char *where, const char *text)
{
        size_t len;

        if (!text)
                text = "unknown libnm error";
        len = strlen(text);
        while (len > 0 && text[len - 1] == '.')
                len--;
        return bimg_fail(err, BIMG_E_INVALID, "%s: %.*s", where, (int)len, text);
}

static int fail_gerror(struct bimg_error *err, const char *where, const GError *gerr)
{
        return fail_text(err, where, gerr ? gerr->message : NULL);
}

/* Each server to the setting of its family; libnm drops duplicates. */
static void add_dns(NMSetting *s_ip4, NMSetting *s_ip6, const char *list)
{
        const char *p = list;

        for (;;) {
                char one[INET6_ADDRSTRLEN + 8];
                size_t len;

                p += strspn(p, ", ");
                if (!*p)
                        return;
                len = strcspn(p, ", ");
                memcpy(one, p, len);            /* length checked by check_request */
                one[len] = '\0';
                sym_nm_setting_ip_config_add_dns((NMSettingIPConfig *)(strchr(one, ':') ?
                                                                       s_ip6 : s_ip4), one);
                p += len;
        }
}

static int build_connection(const struct net_request *req, const struct ip_value *addr,
                            NMConnection *conn, struct bimg_error *err)
{
        static const char *const types[] = {
                [NET_WIFI] = NM_SETTING_WIRELESS_SETTING_NAME,
                [NET_ETHERNET] = NM_SETTING_WIRED_SETTING_NAME,
                [NET_CELLULAR] = NM_SETTING_GSM_SETTING_NAME,
        };
        NMSetting *s_ip4, *s_ip6, *s;
        char uuid[37];

        if (profile_uuid(req->id, uuid, err) < 0)
                return -1;
        s = sym_nm_setting_connection_new();
        sym_g_object_set(s, NM_SETTING_CONNECTION_ID, req->id, NM_SETTING_CONNECTION_UUID, uuid,
                         NM_SETTING_CONNECTION_TYPE, types[req->kind],
                         NM_SETTING_CONNECTION_AUTOCONNECT, (gboolean)TRUE, NULL);
        sym_nm_connection_add_setting(conn, s);         /* conn owns every setting added */

        if (req->kind == NET_WIFI) {
                GBytes *ssid = sym_g_bytes_new(req->ssid, strlen(req->ssid));

                s = sym_nm_setting_wireless_new();
                sym_g_object_set(s, NM_SETTING_WIRELESS_SSID, ssid, NM_SETTING_WIRELESS_MODE,
                                 NM_SETTING_WIRELESS_MODE_INFRA, NM_SETTING_WIRELESS_HIDDEN,
                                 (gboolean)req->hidden, NULL);
                sym_g_bytes_unref(ssid);
                sym_nm_connection_add_setting(conn, s);
                /* an open network has no security setting at all: key-mgmt=none means WEP */
                if (req->psk) {
                        s = sym_nm_setting_wireless_security_new();
                        /* auth-alg=open as in balena's resin-sample template */
                        sym_g_object_set(s, NM_SETTING_WIRELESS_SECURITY_KEY_MGMT, "wpa-psk",
                                         NM_SETTING_WIRELESS_SECURITY_AUTH_ALG, "open",
                                         NM_SETTING_WIRELESS_SECURITY_PSK, req->psk,
                                         NM_SETTING_WIRELESS_SECURITY_PSK_FLAGS,
                                         (guint)NM_SETTING_SECRET_FLAG_NONE, NULL);
                        sym_nm_connection_add_setting(conn, s);
                }
        } else if (req->kind == NET_ETHERNET) {
                sym_nm_connection_add_setting(conn, sym_nm_setting_wired_new());
        } else {
                s = sym_nm_setting_gsm_new();
                sym_g_object_set(s, NM_SETTING_GSM_APN, req->apn, NULL);
                if (req->user)
                        sym_g_object_set(s, NM_SETTING_GSM_USERNAME, req->user, NULL);
                if (req->password)
                        sym_g_object_set(s, NM_SETTING_GSM_PASSWORD, req->password,
                                         NM_SETTING_GSM_PASSWORD_FLAGS,
                                         (guint)NM_SETTING_SECRET_FLAG_NONE, NULL);
                sym_nm_connection_add_setting(conn, s);
        }

        s_ip4 = sym_nm_setting_ip4_config_new();
        s_ip6 = sym_nm_setting_ip6_config_new();
        sym_g_object_set(s_ip4, NM_SETTING_IP_CONFIG_METHOD, NM_SETTING_IP4_CONFIG_METHOD_AUTO,
                         NULL);
        /* stable-privacy as in balena's resin-sample template */
        sym_g_object_set(s_ip6, NM_SETTING_IP_CONFIG_METHOD, NM_SETTING_IP6_CONFIG_METHOD_AUTO,
                         NM_SETTING_IP6_CONFIG_ADDR_GEN_MODE,
                         (int)NM_SETTING_IP6_CONFIG_ADDR_GEN_MODE_STABLE_PRIVACY, NULL);
        sym_nm_connection_add_setting(conn, s_ip4);
        sym_nm_connection_add_setting(conn, s_ip6);
        if (req->address) {
                NMSetting *s_ip = addr->family == AF_INET ? s_ip4 : s_ip6;
                GError *gerr = NULL;
                NMIPAddress *ip = sym_nm_ip_address_new(addr->family, addr->addr, addr->prefix,
                                                        &gerr);

                if (!ip) {
                        fail_gerror(err, "--static-ip", gerr);
                        sym_g_error_free(gerr);
                        return -1;
                }
                sym_g_object_set(s_ip, NM_SETTING_IP_CONFIG_METHOD, addr->family == AF_INET ?
                                 NM_SETTING_IP4_CONFIG_METHOD_MANUAL :
                                 NM_SETTING_IP6_CONFIG_METHOD_MANUAL, NULL);
                sym_nm_setting_ip_config_add_address((NMSettingIPConfig *)s_ip, ip);
                sym_nm_ip_address_unref(ip);
                if (req->gateway)
                        sym_g_object_set(s_ip, NM_SETTING_IP_CONFIG_GATEWAY, req->gateway, NULL);
        }
        if (req->dns)
                add_dns(s_ip4, s_ip6, req->dns);
        return 0;
}

int net_build_profile(const struct net_request *req, char **ret_text, size_t *ret_len,
                      struct bimg_error *err)
{
        NMConnection *conn = NULL;
        GKeyFile *kf = NULL;
        GError *gerr = NULL;
        struct ip_value addr;
        gchar *data = NULL;
        gsize len = 0;
        char *text;
        int ret = -1;

        if (!req || !ret_text)
                return bimg_fail(err, BIMG_E_FAILURE, "net_build_profile: no request");
        if (check_request(req, &addr, err) < 0 || load_libnm(err) < 0)
                return -1;

        conn = sym_nm_simple_connection_new();
        if (build_connection(req, &addr, conn, err) < 0)
                goto out;
        if (!sym_nm_connection_normalize(conn, NULL, NULL, &gerr) ||
            !sym_nm_connection_verify(conn, &gerr) ||
            !sym_nm_connection_verify_secrets(conn, &gerr)) {
                fail_gerror(err, req->id, gerr);
                goto out;
        }
        /* no write handler: secrets with flags none stay in the file, which is what a
         * headless device needs (there is no agent to ask) */
        kf = sym_nm_keyfile_write(conn, NM_KEYFILE_HANDLER_FLAGS_NONE, NULL, NULL, &gerr);
        if (!kf) {
                fail_gerror(err, req->id, gerr);
                goto out;
        }
        data = sym_g_key_file_to_data(kf, &len, &gerr);
        if (!data) {
                fail_gerror(err, req->id, gerr);
                goto out;
        }
        text = malloc(len + 1);         /* ours to hand out: free(), not g_free() */
        if (!text) {
                bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                goto out;
        }
        memcpy(text, data, len);
        text[len] = '\0';
        *ret_text = text;
        if (ret_len)
                *ret_len = len;
        ret = 0;
out:
        if (gerr)
                sym_g_error_free(gerr);
        sym_g_free(data);
        if (kf)
                sym_g_key_file_free(kf);
        if (conn)
                sym_g_object_unref(conn);
        return ret;
}

/* ---- checking a user's keyfile ------------------------------------------ */

struct read_state {
        bool failed;
        char message[400];
};

/* nm_keyfile_read() only warns about values it cannot parse and then drops them;
 * NetworkManager would start with the profile silently changed. Refuse instead. */
static gboolean read_handler(GKeyFile *keyfile, NMConnection *connection,
                             NMKeyfileHandlerType type, NMKeyfileHandlerData *data,
                             void *user_data)
{
        struct read_state *st = user_data;
        const char *group = NULL, *key = NULL, *message = NULL;
        NMKeyfileWarnSeverity severity = NM_KEYFILE_WARN_SEVERITY_DEBUG;

        (void)keyfile;
        (void)connection;
        if (type != NM_KEYFILE_HANDLER_TYPE_WARN || st->failed)
                return TRUE;
        sym_nm_keyfile_handler_data_warn_get(data, &message, &severity);
        /* INFO_MISSING_FILE: a certificate path that exists only on the device */
        if (severity < NM_KEYFILE_WARN_SEVERITY_WARN)
                return TRUE;
        sym_nm_keyfile_handler_data_get_context(data, &group, &key, NULL, NULL);
        if (!message)
                message = "invalid value";
        /* "ignoring invalid number '33'": we refuse instead, so say who would ignore it */
        if (strncmp(message, "ignoring ", 9) == 0)
                snprintf(st->message, sizeof(st->message), "%s%s%s: %s (NetworkManager would "
                         "ignore it)", group ? group : "keyfile", key ? "." : "", key ? key : "",
                         message + 9);
        else
                snprintf(st->message, sizeof(st->message), "%s%s%s: %s",
                         group ? group : "keyfile", key ? "." : "", key ? key : "", message);
        st->failed = true;
        return TRUE;
}

/* "base" or "base" followed by a decimal index without leading zeros */
static bool is_indexed_key(const char *key, const char *base)
{
        size_t n = strlen(base);

        if (strncmp(key, base, n) != 0)
                return false;
        key += n;
        return !*key || (*key >= '1' && *key <= '9' && strspn(key, "0123456789") == strlen(key));
}

/* ipv4/ipv6 store one list property under many keys: address1, route2_options, ... */
static bool is_ip_list_key(const char *key)
{
        static const char opt[] = "_options";
        char base[64];
        size_t len = strlen(key);

        if (is_indexed_key(key, "address") || is_indexed_key(key, "addresses") ||
            is_indexed_key(key, "route") || is_indexed_key(key, "routes") ||
            is_indexed_key(key, "routing-rule"))
                return true;
        if (len <= sizeof(opt) - 1 || len - (sizeof(opt) - 1) >= sizeof(base) ||
            strcmp(key + len - (sizeof(opt) - 1), opt) != 0)
                return false;
        memcpy(base, key, len - (sizeof(opt) - 1));
        base[len - (sizeof(opt) - 1)] = '\0';
        return is_indexed_key(base, "route") || is_indexed_key(base, "routes");
}

/* nm_keyfile_read() reads the properties a setting has and never looks at other keys,
 * so a misspelt key ("pks=") vanishes without a word. Compare every key with the
 * setting's GObject properties. Settings whose keys are free-form data (bond options,
 * vpn data, ...) are left alone. */
static int check_keys(GKeyFile *kf, NMConnection *conn, const char *origin,
                      struct bimg_error *err)
{
        static const char *const free_form[] = {
                "bond", "user", "vpn", "vpn-secrets", "ovs-external-ids", "ovs-other-config",
                "sriov", "tc", "ethtool", "nmmeta", "ethernet-s390-options",
        };
        static const struct {
                const char *alias, *name;
        } aliases[] = {                 /* nm-keyfile-utils.c alias_list */
                { "ethernet", NM_SETTING_WIRED_SETTING_NAME },
                { "wifi", NM_SETTING_WIRELESS_SETTING_NAME },
                { "wifi-security", NM_SETTING_WIRELESS_SECURITY_SETTING_NAME },
        };
        gchar **groups = sym_g_key_file_get_groups(kf, NULL);
        int ret = 0;

        for (size_t g = 0; groups && groups[g] && ret == 0; g++) {
                const char *group = groups[g], *name = group;
                NMSetting *setting;
                gchar **keys;
                bool skip = strncmp(group, "wireguard-peer.", 15) == 0;

                for (size_t i = 0; i < ARRAY_SIZE(free_form); i++)
                        skip = skip || strcmp(group, free_form[i]) == 0;
                if (skip)
                        continue;
                for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
                        if (strcmp(group, aliases[i].alias) == 0)
                                name = aliases[i].name;
                setting = sym_nm_connection_get_setting_by_name(conn, name);
                if (!setting)           /* an unknown group: the read handler named it */
                        continue;
                keys = sym_g_key_file_get_keys(kf, group, NULL, NULL);
                for (size_t k = 0; keys && keys[k]; k++) {
                        const char *key = keys[k];
                        bool is_ip = strcmp(name, "ipv4") == 0 || strcmp(name, "ipv6") == 0;

                        /* the reader also takes interface-name from the type's group */
                        if (strcmp(key, "interface-name") == 0 || (is_ip && is_ip_list_key(key)))
                                continue;
                        if (sym_g_object_class_find_property(G_OBJECT_GET_CLASS(setting), key))
                                continue;
                        ret = bimg_fail(err, BIMG_E_INVALID, "%s: %s.%s: unknown property; "
                                        "NetworkManager would ignore it (misspelt?)", origin,
                                        group, key);
                        break;
                }
                sym_g_strfreev(keys);
        }
        sym_g_strfreev(groups);
        return ret;
}

int net_check_profile(const char *text, size_t len, const char *origin, struct bimg_error *err)
{
        struct read_state st = { 0 };
        NMConnection *conn = NULL;
        gchar **groups;
        gsize n_groups = 0;
        NMSettingConnection *s_con;
        NMSettingWirelessSecurity *s_wsec;
        GKeyFile *kf = NULL;
        GError *gerr = NULL;
        const char *id;
        int ret = -1;

        if (!origin)
                origin = "profile";
        if (!text)
                return bimg_fail(err, BIMG_E_FAILURE, "%s: no text", origin);
        if (len > MAX_KEYFILE)
                return bimg_fail(err, BIMG_E_INVALID, "%s: %zu bytes; a NetworkManager profile "
                                 "is at most 1 MiB", origin, len);
        if (memchr(text, '\0', len))
                return bimg_fail(err, BIMG_E_INVALID, "%s: contains a NUL byte; a "
                                 "NetworkManager profile is a text file", origin);
        if (load_libnm(err) < 0)
                return -1;

        kf = sym_g_key_file_new();
        if (!sym_g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, &gerr)) {
                char where[300];

                snprintf(where, sizeof(where), "%s: not a NetworkManager keyfile", origin);
                fail_gerror(err, where, gerr);
                goto out;
        }
        groups = sym_g_key_file_get_groups(kf, &n_groups);
        sym_g_strfreev(groups);
        if (n_groups == 0) {
                bimg_fail(err, BIMG_E_INVALID, "%s: no [connection] group; not a "
                          "NetworkManager profile", origin);
                goto out;
        }
        conn = sym_nm_keyfile_read(kf, NM_BASE_DIR, NM_KEYFILE_HANDLER_FLAGS_NONE, read_handler,
                                   &st, &gerr);
        if (!conn) {
                fail_gerror(err, origin, gerr);
                goto out;
        }
        if (st.failed) {
                fail_text(err, origin, st.message);
                goto out;
        }
        if (check_keys(kf, conn, origin, err) < 0)
                goto out;

        /* NetworkManager itself would fall back to the file name and the connection
         * type it can guess; balena's template and `os configure` always write both,
         * and a profile without them is almost always a mistake. */
        s_con = sym_nm_connection_get_setting_connection(conn);
        id = s_con ? sym_nm_setting_connection_get_id(s_con) : NULL;
        if (!id || !*id) {
                bimg_fail(err, BIMG_E_INVALID, "%s: connection.id: missing; add id=NAME under "
                          "[connection]", origin);
                goto out;
        }
        if (!sym_nm_setting_connection_get_connection_type(s_con)) {
                bimg_fail(err, BIMG_E_INVALID, "%s: connection.type: missing; add type=wifi, "
                          "type=ethernet or type=gsm under [connection]", origin);
                goto out;
        }
        /* NetworkManager derives a missing uuid from the file's path; any valid one
         * will do for verifying */
        if (!sym_nm_setting_connection_get_uuid(s_con)) {
                char uuid[37];

                if (profile_uuid(id, uuid, err) < 0)
                        goto out;
                sym_g_object_set(s_con, NM_SETTING_CONNECTION_UUID, uuid, NULL);
        }
        if (!sym_nm_connection_normalize(conn, NULL, NULL, &gerr) ||
            !sym_nm_connection_verify(conn, &gerr) ||
            !sym_nm_connection_verify_secrets(conn, &gerr)) {
                fail_gerror(err, origin, gerr);
                goto out;
        }
        /* verify_secrets accepts a missing PSK (an agent could supply it), but a device
         * has no agent: with psk-flags=0 the secret must be in the file */
        s_wsec = sym_nm_connection_get_setting_wireless_security(conn);
        if (s_wsec) {
                const char *km = sym_nm_setting_wireless_security_get_key_mgmt(s_wsec);

                if (km && (strcmp(km, "wpa-psk") == 0 || strcmp(km, "sae") == 0) &&
                    !sym_nm_setting_wireless_security_get_psk(s_wsec) &&
                    sym_nm_setting_wireless_security_get_psk_flags(s_wsec) ==
                    NM_SETTING_SECRET_FLAG_NONE) {
                        bimg_fail(err, BIMG_E_INVALID, "%s: %s.%s: missing; key-mgmt=%s needs "
                                  "psk= under [wifi-security]", origin,
                                  NM_SETTING_WIRELESS_SECURITY_SETTING_NAME,
                                  NM_SETTING_WIRELESS_SECURITY_PSK, km);
                        goto out;
                }
        }
        ret = 0;
out:
        if (gerr)
                sym_g_error_free(gerr);
        if (conn)
                sym_g_object_unref(conn);
        if (kf)
                sym_g_key_file_free(kf);
        return ret;
}

/* ---- file names --------------------------------------------------------- */

static bool has_suffix_icase(const char *s, size_t len, const char *suffix)
{
        size_t n = strlen(suffix);

        return len > n && strcasecmp(s + len - n, suffix) == 0;
}

/* Mirrors nm_keyfile_utils_ignore_filename() (libnm-core-impl/nm-keyfile.c) for files
 * under /etc, where no extension is required, plus what the FAT boot partition can hold. */
int net_check_profile_name(const char *name, struct bimg_error *err)
{
        const char *dot;
        size_t len;

        if (!name || !*name)
                return bimg_fail(err, BIMG_E_INVALID, "profile name is empty");
        len = strlen(name);
        if (strchr(name, '/') || strcmp(name, "..") == 0 || strcmp(name, ".") == 0)
                return bimg_fail(err, BIMG_E_INVALID, "profile name '%s' must be a plain file "
                                 "name, without '/' or '..'", name);
        if (len > 255)
                return bimg_fail(err, BIMG_E_INVALID, "profile name is %zu bytes long; a file "
                                 "name has at most 255", len);
        if (!utf8_is_valid(name) || has_control(name))
                return bimg_fail(err, BIMG_E_INVALID, "profile name '%s' has control characters "
                                 "or invalid UTF-8", name);
        if (strpbrk(name, "\\:*?\"<>|"))
                return bimg_fail(err, BIMG_E_INVALID, "profile name '%s' has a character the "
                                 "FAT boot partition cannot store (\\ : * ? \" < > |)", name);
        if (name[0] == '.')
                return bimg_fail(err, BIMG_E_INVALID, "profile name '%s' would be ignored by "
                                 "NetworkManager (hidden file); remove the leading '.'", name);
        if (name[len - 1] == '~')
                return bimg_fail(err, BIMG_E_INVALID, "profile name '%s' would be ignored by "
                                 "NetworkManager (backup file); remove the trailing '~'", name);
        if (name[len - 1] == '.' || name[len - 1] == ' ')
                return bimg_fail(err, BIMG_E_INVALID, "profile name '%s' ends in '%c', which "
                                 "FAT file names drop", name, name[len - 1]);
        if (has_suffix_icase(name, len, ".pem") || has_suffix_icase(name, len, ".der"))
                return bimg_fail(err, BIMG_E_INVALID, "profile name '%s' would be ignored by "
                                 "NetworkManager (certificate file); choose another extension",
                                 name);
        dot = strrchr(name, '.');
        if (dot && strlen(dot + 1) == 6 &&
            strspn(dot + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == 6)
                return bimg_fail(err, BIMG_E_INVALID, "profile name '%s' would be ignored by "
                                 "NetworkManager: a 6-character extension like '%s' marks a "
                                 "temporary file; use no extension or '.nmconnection'", name, dot);
        return 0;
}
