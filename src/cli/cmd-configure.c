/* SPDX-License-Identifier: Apache-2.0 */
/* balena-img configure [IMAGE] [OPTIONS]: every boot-partition setting in one run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
        OPT_CONFIG = 256, OPT_REPLACE_CONFIG, OPT_SET, OPT_UNSET, OPT_HOSTNAME, OPT_SSH_KEY,
        OPT_UDEV_RULE, OPT_DEV, OPT_NO_DEV, OPT_PLOG, OPT_NO_PLOG, OPT_COUNTRY, OPT_NTP, OPT_DNS_SERVERS,
        OPT_ROOT_CA, OPT_RANDOM_MAC, OPT_NO_RANDOM_MAC, OPT_CONN_URI, OPT_CONN_INTERVAL,
        OPT_CONN_RESPONSE, OPT_DEVICE_TYPE, OPT_SPLASH, OPT_WIFI_SSID, OPT_WIFI_KEY,
        OPT_WIFI_HIDDEN, OPT_STATIC_IP, OPT_GATEWAY, OPT_DNS, OPT_APN, OPT_APN_USER,
        OPT_APN_PASSWORD, OPT_SYSTEM_CONNECTION, OPT_PROXY, OPT_NO_PROXY, OPT_DRY_RUN,
        OPT_BMAP, OPT_OUTPUT = 'o',
};

static const struct option options[] = {
        { "config", required_argument, NULL, OPT_CONFIG },
        { "replace-config", no_argument, NULL, OPT_REPLACE_CONFIG },
        { "set", required_argument, NULL, OPT_SET },
        { "unset", required_argument, NULL, OPT_UNSET },
        { "hostname", required_argument, NULL, OPT_HOSTNAME },
        { "ssh-key", required_argument, NULL, OPT_SSH_KEY },
        { "udev-rule", required_argument, NULL, OPT_UDEV_RULE },
        { "dev", no_argument, NULL, OPT_DEV },
        { "no-dev", no_argument, NULL, OPT_NO_DEV },
        { "persistent-logging", no_argument, NULL, OPT_PLOG },
        { "no-persistent-logging", no_argument, NULL, OPT_NO_PLOG },
        { "country", required_argument, NULL, OPT_COUNTRY },
        { "ntp-servers", required_argument, NULL, OPT_NTP },
        { "dns-servers", required_argument, NULL, OPT_DNS_SERVERS },
        { "root-ca", required_argument, NULL, OPT_ROOT_CA },
        { "random-mac-scan", no_argument, NULL, OPT_RANDOM_MAC },
        { "no-random-mac-scan", no_argument, NULL, OPT_NO_RANDOM_MAC },
        { "connectivity-uri", required_argument, NULL, OPT_CONN_URI },
        { "connectivity-interval", required_argument, NULL, OPT_CONN_INTERVAL },
        { "connectivity-response", required_argument, NULL, OPT_CONN_RESPONSE },
        { "device-type", required_argument, NULL, OPT_DEVICE_TYPE },
        { "splash", required_argument, NULL, OPT_SPLASH },
        { "wifi-ssid", required_argument, NULL, OPT_WIFI_SSID },
        { "wifi-key", required_argument, NULL, OPT_WIFI_KEY },
        { "wifi-hidden", no_argument, NULL, OPT_WIFI_HIDDEN },
        { "static-ip", required_argument, NULL, OPT_STATIC_IP },
        { "gateway", required_argument, NULL, OPT_GATEWAY },
        { "dns", required_argument, NULL, OPT_DNS },
        { "apn", required_argument, NULL, OPT_APN },
        { "apn-user", required_argument, NULL, OPT_APN_USER },
        { "apn-password", required_argument, NULL, OPT_APN_PASSWORD },
        { "system-connection", required_argument, NULL, OPT_SYSTEM_CONNECTION },
        { "proxy", required_argument, NULL, OPT_PROXY },
        { "no-proxy", required_argument, NULL, OPT_NO_PROXY },
        { "dry-run", no_argument, NULL, OPT_DRY_RUN },
        { "output", required_argument, NULL, OPT_OUTPUT },
        { "bmap", no_argument, NULL, OPT_BMAP },
        CLI_COMMON_OPTIONS,
};

/* The repeatable options keep pointers into argv; argc bounds their number. */
struct lists {
        const char **sets, **unsets, **ssh, **udev, **conns;
        size_t n_sets, n_unsets, n_ssh, n_udev, n_conns;
};

static void add(const char **items, size_t *n, const char *value)
{
        items[(*n)++] = value;
}

/* Options that take a value: where each one goes. */
static const char **string_slot(struct bimg_configure_opts *o, int opt)
{
        switch (opt) {
        case OPT_CONFIG: return &o->config_file;
        case OPT_HOSTNAME: return &o->hostname;
        case OPT_COUNTRY: return &o->country;
        case OPT_NTP: return &o->ntp_servers;
        case OPT_DNS_SERVERS: return &o->dns_servers;
        case OPT_ROOT_CA: return &o->root_ca_file;
        case OPT_CONN_URI: return &o->connectivity_uri;
        case OPT_CONN_INTERVAL: return &o->connectivity_interval;
        case OPT_CONN_RESPONSE: return &o->connectivity_response;
        case OPT_DEVICE_TYPE: return &o->device_type;
        case OPT_SPLASH: return &o->splash_file;
        case OPT_WIFI_SSID: return &o->wifi_ssid;
        case OPT_WIFI_KEY: return &o->wifi_key;
        case OPT_STATIC_IP: return &o->static_ip;
        case OPT_GATEWAY: return &o->gateway;
        case OPT_DNS: return &o->dns;
        case OPT_APN: return &o->apn;
        case OPT_APN_USER: return &o->apn_user;
        case OPT_APN_PASSWORD: return &o->apn_password;
        case OPT_PROXY: return &o->proxy_file;
        case OPT_NO_PROXY: return &o->no_proxy_file;
        default: return NULL;
        }
}

static int parse(int argc, char **argv, struct bimg_configure_opts *o, struct lists *l,
                 bool *dry_run, const char **output, bool *bmap, struct bimg_error *err)
{
        const char **slot;
        int opt, settings = 0;

        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":o:h", options, NULL)) != -1) {
                settings += opt >= OPT_CONFIG && opt != OPT_DRY_RUN && opt != OPT_BMAP;
                if ((slot = string_slot(o, opt))) {
                        *slot = optarg;
                        continue;
                }
                switch (opt) {
                case OPT_REPLACE_CONFIG: o->replace_config = true; break;
                case OPT_SET: add(l->sets, &l->n_sets, optarg); break;
                case OPT_UNSET: add(l->unsets, &l->n_unsets, optarg); break;
                case OPT_SSH_KEY: add(l->ssh, &l->n_ssh, optarg); break;
                case OPT_UDEV_RULE: add(l->udev, &l->n_udev, optarg); break;
                case OPT_SYSTEM_CONNECTION: add(l->conns, &l->n_conns, optarg); break;
                case OPT_DEV: o->development_mode = 1; break;
                case OPT_NO_DEV: o->development_mode = 0; break;
                case OPT_PLOG: o->persistent_logging = 1; break;
                case OPT_NO_PLOG: o->persistent_logging = 0; break;
                case OPT_RANDOM_MAC: o->random_mac_scan = 1; break;
                case OPT_NO_RANDOM_MAC: o->random_mac_scan = 0; break;
                case OPT_WIFI_HIDDEN: o->wifi_hidden = true; break;
                case OPT_DRY_RUN: *dry_run = true; break;
                case OPT_OUTPUT: *output = optarg; break;
                case OPT_BMAP: *bmap = true; break;
                case CLI_OPT_HELP:
                        cli_print_help("configure");
                        return 1;
                default:
                        return cli_bad_option("configure", opt, argv, err);
                }
        }
        if (settings == 0)
                return cli_usage_error("configure", err, "no settings given");
        if (o->replace_config && !o->config_file)
                return cli_usage_error("configure", err, "--replace-config needs --config FILE");
        o->sets = (struct bimg_str_list){ l->sets, l->n_sets };
        o->unsets = (struct bimg_str_list){ l->unsets, l->n_unsets };
        o->ssh_key_files = (struct bimg_str_list){ l->ssh, l->n_ssh };
        o->udev_rules = (struct bimg_str_list){ l->udev, l->n_udev };
        o->system_connections = (struct bimg_str_list){ l->conns, l->n_conns };
        return 0;
}

/* Print what changed, or would: the diff of config.json first on a dry run. */
static int run(const char *image, const char *output, bool bmap,
               const struct bimg_configure_opts *o, bool dry_run, struct bimg_error *err)
{
        struct cli_changes changes = { .dry_run = dry_run, .out = stdout };
        struct bimg_output *out = NULL;
        struct bimg_image *img;
        char *diff = NULL, *list = NULL;
        size_t list_len = 0;
        int r;

        /* a dry run reads the image only; its change list follows the diff */
        if (dry_run && !(changes.out = open_memstream(&list, &list_len)))
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        r = dry_run ? cli_open_image(image, false, &img, err)
                    : cli_begin_change(image, output, &img, &out, err);
        if (r == 0) {
                r = bimg_configure(img, o, dry_run, cli_print_change, &changes,
                                   dry_run ? &diff : NULL, err);
                r = cli_end_change(img, out, r,
                                   bmap && !dry_run ? (output ? output : image) : NULL, err);
        }
        if (dry_run) {
                fclose(changes.out);
                if (r == 0)
                        printf("%s%s", diff ? diff : "", list ? list : "");
        }
        free(diff);
        free(list);
        return r;
}

int cmd_configure(int argc, char **argv, struct bimg_error *err)
{
        struct bimg_configure_opts o;
        struct lists l = { 0 };
        const char *image;
        const char *output = NULL;
        bool dry_run = false, bmap = false;
        int r = -1, i;

        bimg_configure_opts_init(&o);
        l.sets = calloc((size_t)argc, sizeof(char *));
        l.unsets = calloc((size_t)argc, sizeof(char *));
        l.ssh = calloc((size_t)argc, sizeof(char *));
        l.udev = calloc((size_t)argc, sizeof(char *));
        l.conns = calloc((size_t)argc, sizeof(char *));
        if (!l.sets || !l.unsets || !l.ssh || !l.udev || !l.conns) {
                bimg_fail(err, BIMG_E_FAILURE, "out of memory");
                goto out;
        }
        r = parse(argc, argv, &o, &l, &dry_run, &output, &bmap, err);
        if (r != 0) {
                r = r > 0 ? 0 : -1;
                goto out;
        }
        i = optind;
        r = cli_take_image("configure", argc, argv, &i, 0, &image, err);
        if (r == 0 && i != argc)
                r = cli_usage_error("configure", err, "unexpected '%s'", argv[i]);
        if (r == 0)
                r = run(image, output, bmap, &o, dry_run, err);
out:
        free(l.sets);
        free(l.unsets);
        free(l.ssh);
        free(l.udev);
        free(l.conns);
        return r;
}
