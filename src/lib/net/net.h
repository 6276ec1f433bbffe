/* SPDX-License-Identifier: Apache-2.0 */
/* NetworkManager profiles (keyfiles, through libnm loaded on first use) and the
 * redsocks proxy files of the boot partition (spec 4.1, 4.2). */
#ifndef BIMG_NET_H
#define BIMG_NET_H

#include <stdbool.h>
#include <stddef.h>

#include "balena-img.h"

enum net_kind { NET_WIFI, NET_ETHERNET, NET_CELLULAR };

struct net_request {
        enum net_kind kind;
        const char *id;         /* connection.id and the file name in system-connections/ */
        /* Wi-Fi */
        const char *ssid;
        const char *psk;        /* NULL: open network; else 8-63 chars or 64 hex */
        bool hidden;
        /* any kind: NULL means DHCP / automatic */
        const char *address;    /* "192.168.1.10/24" or "fd00::10/64" */
        const char *gateway;
        const char *dns;        /* "1.1.1.1,8.8.8.8" (commas or spaces) */
        /* cellular (gsm) */
        const char *apn;
        const char *user;
        const char *password;
};

/* Start loading libnm in the background (base/dl.c): a profile will be built
 * or checked. */
void net_preload(void);

/* Build a keyfile with libnm: nm_connection_normalize, verify, verify_secrets,
 * nm_keyfile_write. The same request always gives the same bytes (the UUID is
 * derived from the id), so configuring twice changes nothing. *ret_text is
 * yours to free(). Bad values fail with BIMG_E_INVALID naming the option. */
int net_build_profile(const struct net_request *req, char **ret_text, size_t *ret_len,
                      struct bimg_error *err);

/* Check a user's keyfile: parsed with nm_keyfile_read, then verified; the
 * error names origin and the setting/property at fault. */
int net_check_profile(const char *text, size_t len, const char *origin, struct bimg_error *err);

/* File names NetworkManager would silently ignore (leading '.', trailing '~',
 * .pem, .der, a 6-character alphanumeric extension like ".ignore") or that could
 * leave the folder ('/', "..", empty) are refused with the reason. */
int net_check_profile_name(const char *name, struct bimg_error *err);

/* system-proxy/redsocks.conf: braces balanced, a "base" and a "redsocks"
 * section, "type" one of socks4/socks5/http-connect/http-relay, ip and port set. */
int net_check_redsocks(const char *text, size_t len, const char *origin, struct bimg_error *err);

/* system-proxy/no_proxy: one IPv4 address or CIDR (or host name) per line, no
 * blank lines, comments or CRLF (each line becomes an iptables -d argument). */
int net_check_no_proxy(const char *text, size_t len, const char *origin, struct bimg_error *err);

#endif
