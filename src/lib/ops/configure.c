/* SPDX-License-Identifier: Apache-2.0 */
/*
 * configure: every setting balenaOS reads from its boot partition, validated
 * and staged in one transaction. Nothing is written until every input (files,
 * keys, profiles, PNG) has been read and checked and the new config.json has
 * passed the schema as a whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "base/path.h"
#include "config/config.h"
#include "config/crypto.h"
#include "config/sshkey.h"
#include "config/udev.h"
#include "image/image.h"
#include "net/net.h"
#include "ops/ops.h"
#include "ops/splash.h"

#define INPUT_MAX (1024 * 1024)         /* keys, rules, profiles, proxy files */

void bimg_configure_opts_init(struct bimg_configure_opts *opts)
{
        *opts = (struct bimg_configure_opts){
                .development_mode = BIMG_TRI_KEEP,
                .persistent_logging = BIMG_TRI_KEEP,
                .random_mac_scan = BIMG_TRI_KEEP,
        };
}

/* Everything a configure run works on. */
struct job {
        struct bimg_image *img;
        const struct bimg_part *boot;
        struct bimg_fs *fs;
        bool is_flasher;
        struct bimg_txn *txn;
        char *old_text;         /* config.json as found, NULL if none */
        size_t old_len;
        struct bimg_config *cfg;
};

static bool edits_config(const struct bimg_configure_opts *o)
{
        return o->config_file || o->sets.n || o->unsets.n || o->hostname ||
               o->ssh_key_files.n || o->udev_rules.n ||
               o->development_mode != BIMG_TRI_KEEP || o->persistent_logging != BIMG_TRI_KEEP ||
               o->random_mac_scan != BIMG_TRI_KEEP || o->country || o->ntp_servers ||
               o->dns_servers || o->root_ca_file || o->connectivity_uri ||
               o->connectivity_interval || o->connectivity_response;
}

static int load_current(struct job *j, bool replacing, struct bimg_error *err)
{
        struct bimg_error probe = { 0 };

        if (bimg_fs_read_alloc(j->fs, "/config.json", CONFIG_JSON_MAX, &j->old_text,
                               &j->old_len, &probe) < 0) {
                if (probe.status == BIMG_E_INVALID && replacing)      /* too large */
                        return config_new(&j->cfg, err);
                if (probe.status == BIMG_E_INVALID)
                        return bimg_fail(err, probe.status, "%s; replace it with --config FILE "
                                         "--replace-config", probe.message);
                if (probe.status != BIMG_E_NOT_FOUND)
                        return bimg_fail(err, probe.status, "%s", probe.message);
                return config_new(&j->cfg, err);
        }
        if (config_parse(j->old_text, j->old_len, "config.json", &j->cfg, err) == 0)
                return 0;
        if (!replacing) {
                bimg_error_prefix(err, "the image's config.json is broken (replace it with "
                                  "--config FILE --replace-config)");
                return -1;
        }
        *err = (struct bimg_error){ 0 };        /* it is about to be replaced anyway */
        return config_new(&j->cfg, err);
}

static int apply_config_file(struct job *j, const struct bimg_configure_opts *o,
                             struct bimg_error *err)
{
        struct bimg_config *file_cfg = NULL;
        char *text;
        size_t len;
        int r;

        if (file_read_path(o->config_file, CONFIG_JSON_MAX, &text, &len, err) < 0)
                return -1;
        r = config_parse(text, len, o->config_file, &file_cfg, err);
        free(text);
        if (r < 0)
                return -1;
        if (o->replace_config) {
                config_free(j->cfg);
                j->cfg = file_cfg;
                return 0;
        }
        r = config_merge(j->cfg, file_cfg, err);
        config_free(file_cfg);
        return r;
}

static int apply_sets(struct job *j, const struct bimg_configure_opts *o, struct bimg_error *err)
{
        for (size_t i = 0; i < o->sets.n; i++) {
                const char *arg = o->sets.items[i], *eq = strchr(arg, '=');
                char key[256];

                if (!eq || eq == arg)
                        return bimg_fail(err, BIMG_E_USAGE, "--set '%.80s': expected KEY=VALUE",
                                         arg);
                if ((size_t)(eq - arg) >= sizeof(key))
                        return bimg_fail(err, BIMG_E_INVALID, "--set '%.40s...': the key is "
                                         "longer than %zu characters", arg, sizeof(key) - 1);
                snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
                if (config_set_text(j->cfg, key, eq + 1, err) < 0)
                        return -1;
        }
        for (size_t i = 0; i < o->unsets.n; i++)
                if (config_unset(j->cfg, o->unsets.items[i], err) < 0)
                        return -1;
        return 0;
}

static int apply_ssh_keys(struct job *j, const struct bimg_configure_opts *o,
                          struct bimg_error *err)
{
        for (size_t i = 0; i < o->ssh_key_files.n; i++) {
                const char *file = o->ssh_key_files.items[i];
                char *text, **keys;
                size_t len, n;
                int r;

                if (file_read_path(file, INPUT_MAX, &text, &len, err) < 0)
                        return -1;
                r = sshkey_parse_file(text, len, file, &keys, &n, err);
                free(text);
                if (r < 0)
                        return -1;
                r = config_add_ssh_keys(j->cfg, keys, n, err);
                sshkey_free_list(keys, n);
                if (r < 0)
                        return -1;
        }
        return 0;
}

static int apply_udev_rules(struct job *j, const struct bimg_configure_opts *o,
                            struct bimg_error *err)
{
        for (size_t i = 0; i < o->udev_rules.n; i++) {
                const char *file;
                char name[80], *text;
                size_t len;
                int r;

                if (udev_split_arg(o->udev_rules.items[i], name, sizeof(name), &file, err) < 0 ||
                    udev_check_name(name, err) < 0 ||
                    file_read_path(file, INPUT_MAX, &text, &len, err) < 0)
                        return -1;
                r = udev_check_rules(text, len, file, err);
                /* the OS writes the rule with echo, which adds the final newline */
                while (r == 0 && len > 0 && text[len - 1] == '\n')
                        text[--len] = '\0';
                if (r == 0)
                        r = config_set_udev_rule(j->cfg, name, text, err);
                free(text);
                if (r < 0)
                        return -1;
        }
        return 0;
}

static int apply_root_ca(struct job *j, const char *file, struct bimg_error *err)
{
        char *pem, *b64;
        size_t len, count;
        int r;

        if (file_read_path(file, INPUT_MAX, &pem, &len, err) < 0)
                return -1;
        r = crypto_check_certificates(pem, len, &count, err);
        if (r < 0)
                bimg_error_prefix(err, "'%s'", file);
        if (r == 0)
                r = crypto_base64_encode(pem, len, &b64, err);
        free(pem);
        if (r < 0)
                return -1;
        r = config_set_string(j->cfg, "balenaRootCA", b64, err);
        free(b64);
        return r;
}

static int set_tri(struct job *j, const char *key, int value, struct bimg_error *err)
{
        return value == BIMG_TRI_KEEP ? 0 : config_set_bool(j->cfg, key, value != 0, err);
}

static int set_str(struct job *j, const char *key, const char *value, struct bimg_error *err)
{
        return value ? config_set_string(j->cfg, key, value, err) : 0;
}

static int build_config(struct job *j, const struct bimg_configure_opts *o, struct bimg_error *err)
{
        if ((o->config_file && apply_config_file(j, o, err) < 0) || apply_sets(j, o, err) < 0 ||
            set_str(j, "hostname", o->hostname, err) < 0 || apply_ssh_keys(j, o, err) < 0 ||
            apply_udev_rules(j, o, err) < 0 ||
            set_tri(j, "developmentMode", o->development_mode, err) < 0 ||
            set_tri(j, "persistentLogging", o->persistent_logging, err) < 0 ||
            set_tri(j, "os.network.wifi.randomMacAddressScan", o->random_mac_scan, err) < 0 ||
            set_str(j, "country", o->country, err) < 0 ||
            set_str(j, "ntpServers", o->ntp_servers, err) < 0 ||
            set_str(j, "dnsServers", o->dns_servers, err) < 0 ||
            (o->root_ca_file && apply_root_ca(j, o->root_ca_file, err) < 0) ||
            set_str(j, "os.network.connectivity.uri", o->connectivity_uri, err) < 0 ||
            set_str(j, "os.network.connectivity.interval", o->connectivity_interval, err) < 0 ||
            set_str(j, "os.network.connectivity.response", o->connectivity_response, err) < 0)
                return -1;
        return config_validate(j->cfg, "config.json", j->is_flasher, j->img->warn,
                               j->img->warn_data, err);
}

static int stage_profile(struct job *j, const char *name, const char *text, size_t len,
                         struct bimg_error *err)
{
        char path[300];

        snprintf(path, sizeof(path), "/system-connections/%s", name);
        return bimg_txn_mkdir(j->txn, j->boot, "/system-connections", err) < 0 ? -1
               : bimg_txn_put(j->txn, j->boot, path, text, len, err);
}

static int build_profile(struct job *j, const struct net_request *req, struct bimg_error *err)
{
        char *text;
        size_t len;
        int r;

        if (net_build_profile(req, &text, &len, err) < 0)
                return -1;
        r = stage_profile(j, req->id, text, len, err);
        free(text);
        return r;
}

/* Wi-Fi (resin-wifi, the name balena's own tools use), Ethernet with static
 * addresses, cellular: generated with libnm. */
static int stage_network(struct job *j, const struct bimg_configure_opts *o,
                         struct bimg_error *err)
{
        struct net_request req = { .address = o->static_ip, .gateway = o->gateway,
                                   .dns = o->dns };

        if (!o->wifi_ssid && (o->wifi_key || o->wifi_hidden))
                return bimg_fail(err, BIMG_E_USAGE, "--wifi-key and --wifi-hidden need "
                                 "--wifi-ssid");
        if (!o->static_ip && (o->gateway || o->dns) && !o->wifi_ssid)
                return bimg_fail(err, BIMG_E_USAGE, "--gateway and --dns need --static-ip");
        if (!o->apn && (o->apn_user || o->apn_password))
                return bimg_fail(err, BIMG_E_USAGE, "--apn-user and --apn-password need --apn");
        if (o->wifi_ssid) {
                req.kind = NET_WIFI;
                req.id = "resin-wifi";
                req.ssid = o->wifi_ssid;
                req.psk = o->wifi_key;
                req.hidden = o->wifi_hidden;
                if (build_profile(j, &req, err) < 0)
                        return -1;
        } else if (o->static_ip) {
                req.kind = NET_ETHERNET;
                req.id = "balena-ethernet";
                if (build_profile(j, &req, err) < 0)
                        return -1;
        }
        if (o->apn) {
                req = (struct net_request){ .kind = NET_CELLULAR, .id = "balena-cellular",
                                            .apn = o->apn, .user = o->apn_user,
                                            .password = o->apn_password };
                if (build_profile(j, &req, err) < 0)
                        return -1;
        }
        return 0;
}

static int stage_system_connections(struct job *j, const struct bimg_configure_opts *o,
                                    struct bimg_error *err)
{
        for (size_t i = 0; i < o->system_connections.n; i++) {
                const char *file = o->system_connections.items[i];
                const char *name = path_basename(file);
                char *text;
                size_t len;
                int r;

                if (net_check_profile_name(name, err) < 0) {
                        bimg_error_prefix(err, "'%s'", file);
                        return -1;
                }
                if (file_read_path(file, INPUT_MAX, &text, &len, err) < 0)
                        return -1;
                r = net_check_profile(text, len, file, err);
                if (r == 0)
                        r = stage_profile(j, name, text, len, err);
                free(text);
                if (r < 0)
                        return -1;
        }
        return 0;
}

static int stage_proxy_file(struct job *j, const char *file, const char *name,
                            int (*check)(const char *, size_t, const char *, struct bimg_error *),
                            struct bimg_error *err)
{
        char path[64], *text;
        size_t len;
        int r;

        if (file_read_path(file, INPUT_MAX, &text, &len, err) < 0)
                return -1;
        r = check(text, len, file, err);
        snprintf(path, sizeof(path), "/system-proxy/%s", name);
        if (r == 0)
                r = bimg_txn_mkdir(j->txn, j->boot, "/system-proxy", err);
        if (r == 0)
                r = bimg_txn_put(j->txn, j->boot, path, text, len, err);
        free(text);
        return r;
}

/* --device-type: a known slug or alias (else the closest known ones are named),
 * and the image must be of that type. */
static int check_device_type(struct job *j, const struct bimg_info *info, const char *want,
                             struct bimg_error *err)
{
        struct bimg_device_type wanted, found;

        if (bimg_device_type_find(want, &wanted, err) < 0)
                return -1;
        if (!info->device_type[0])
                return bimg_fail(err, BIMG_E_INVALID, "'%s' has no readable device-type.json, "
                                 "so it cannot be checked to be %s", j->img->path, want);
        /* the image may name an older alias of the same type */
        if (strcmp(info->device_type, wanted.slug) == 0 ||
            (bimg_device_type_find(info->device_type, &found, &(struct bimg_error){ 0 }) == 0 &&
             strcmp(found.slug, wanted.slug) == 0))
                return 0;
        return bimg_fail(err, BIMG_E_INVALID, "'%s' is a %s image (%s), not %s (%s)",
                         j->img->path, info->device_type, info->device_type_name, wanted.slug,
                         wanted.name);
}

static int stage_config(struct job *j, bool dry_run, char **ret_diff, struct bimg_error *err)
{
        char *text;
        size_t len;
        int r;

        if (config_dump(j->cfg, &text, &len, err) < 0)
                return -1;
        r = bimg_txn_put(j->txn, j->boot, "/config.json", text, len, err);
        if (r == 0 && dry_run && ret_diff)
                r = diff_unified("config.json", j->old_text ? j->old_text : "", j->old_len,
                                 text, len, ret_diff, err);
        free(text);
        return r;
}

int bimg_configure(struct bimg_image *img, const struct bimg_configure_opts *o, bool dry_run,
                   bimg_change_fn fn, void *data, char **ret_diff, struct bimg_error *err)
{
        struct job j = { .img = img };
        struct bimg_info *info = NULL;
        int ret = -1;

        if (ret_diff)
                *ret_diff = NULL;
        if (bimg_image_require_role(img, BIMG_ROLE_BOOT, &j.boot, err) < 0 ||
            bimg_image_fs(img, j.boot, &j.fs, err) < 0 || bimg_txn_begin(img, &j.txn, err) < 0)
                goto out;
        if (!dry_run)           /* before the boot files are read: beside that */
                bimg_txn_expect(j.txn, j.boot);
        info = malloc(sizeof(*info));
        if (!info || inspect_for_change(img, info, err) < 0) {
                if (!info)
                        bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                goto out;
        }
        j.is_flasher = info->is_flasher;
        if (o->device_type && check_device_type(&j, info, o->device_type, err) < 0)
                goto out;
        if (edits_config(o)) {
                if (load_current(&j, o->config_file && o->replace_config, err) < 0 ||
                    build_config(&j, o, err) < 0 ||
                    stage_config(&j, dry_run, ret_diff, err) < 0)
                        goto out;
        }
        if (stage_network(&j, o, err) < 0 || stage_system_connections(&j, o, err) < 0 ||
            (o->proxy_file &&
             stage_proxy_file(&j, o->proxy_file, "redsocks.conf", net_check_redsocks, err) < 0) ||
            (o->no_proxy_file &&
             stage_proxy_file(&j, o->no_proxy_file, "no_proxy", net_check_no_proxy, err) < 0) ||
            (o->splash_file && splash_stage(img, j.txn, j.boot, info, o->splash_file, err) < 0))
                goto out;
        ret = dry_run ? bimg_txn_plan(j.txn, fn, data, err) : bimg_txn_commit(j.txn, fn, data, err);
out:
        if (ret < 0 && ret_diff) {
                free(*ret_diff);
                *ret_diff = NULL;
        }
        free(info);
        config_free(j.cfg);
        free(j.old_text);
        bimg_txn_free(j.txn);
        return ret;
}
