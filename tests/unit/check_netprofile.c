/* SPDX-License-Identifier: Apache-2.0 */
/* net/profile.c: keyfiles built and checked through libnm (dlopen), profile names. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_LINES 12

static const char hex64[] = "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef";

/* Does [group] hold exactly this line? line "" asks only whether the group exists. */
static bool group_has(const char *text, const char *group, const char *line)
{
        char head[64];
        const char *p;
        size_t n = strlen(line);

        snprintf(head, sizeof(head), "[%s]\n", group);
        p = strstr(text, head);
        if (p && p != text && p[-1] != '\n')
                return false;
        if (!p)
                return false;
        if (!*line)
                return true;
        for (p += strlen(head); *p && *p != '['; p = strchr(p, '\n') + 1) {
                if (strncmp(p, line, n) == 0 && p[n] == '\n')
                        return true;
                if (!strchr(p, '\n'))
                        break;
        }
        return false;
}

/* "group|line" */
static bool has_entry(const char *text, const char *entry)
{
        char group[64];
        const char *bar = strchr(entry, '|');

        ck_assert_msg(bar && (size_t)(bar - entry) < sizeof(group), "bad entry %s", entry);
        memcpy(group, entry, (size_t)(bar - entry));
        group[bar - entry] = '\0';
        return group_has(text, group, bar + 1);
}

static const struct {
        struct net_request req;
        const char *want[MAX_LINES];    /* "group|line" that must be there */
        const char *never[MAX_LINES];   /* ... and must not */
} built[] = {
        {       /* what `balena os configure` writes, through libnm */
                { .kind = NET_WIFI, .id = "resin-wifi", .ssid = "My_Wifi_Ssid",
                  .psk = "super_secret_wifi_password" },
                { "connection|id=resin-wifi", "connection|type=wifi",
                  "connection|uuid=3f8d93f6-d8dd-5147-9ca8-c71d04e112b8",
                  "wifi|ssid=My_Wifi_Ssid", "wifi|mode=infrastructure",
                  "wifi-security|key-mgmt=wpa-psk", "wifi-security|psk=super_secret_wifi_password",
                  "ipv4|method=auto", "ipv6|method=auto", "ipv6|addr-gen-mode=stable-privacy" },
                { "wifi|hidden=true", "ipv4|method=manual", "connection|autoconnect=false" },
        },
        {       /* open network: no security setting at all (key-mgmt=none would mean WEP) */
                { .kind = NET_WIFI, .id = "cafe", .ssid = "Cafe Guest" },
                { "connection|id=cafe", "wifi|ssid=Cafe Guest", "ipv4|method=auto" },
                { "wifi-security|", "wifi|hidden=true" },
        },
        {
                { .kind = NET_WIFI, .id = "hidden-net", .ssid = "stealth", .psk = "12345678",
                  .hidden = true },
                { "wifi|hidden=true", "wifi|ssid=stealth", "wifi-security|psk=12345678" },
                { "wifi|hidden=false" },
        },
        {       /* the raw 256-bit key instead of a passphrase */
                { .kind = NET_WIFI, .id = "raw-key", .ssid = "lab", .psk = hex64 },
                { "wifi-security|psk=0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789"
                  "abcdef", "wifi-security|key-mgmt=wpa-psk" },
                { NULL },
        },
        {       /* a 32-byte SSID is the longest allowed */
                { .kind = NET_WIFI, .id = "long", .ssid = "abcdefghijklmnopqrstuvwxyz012345" },
                { "wifi|ssid=abcdefghijklmnopqrstuvwxyz012345" },
                { NULL },
        },
        {
                { .kind = NET_ETHERNET, .id = "wired-static", .address = "192.168.1.10/24",
                  .gateway = "192.168.1.1", .dns = "1.1.1.1,8.8.8.8" },
                { "connection|type=ethernet", "ethernet|", "ipv4|method=manual",
                  "ipv4|address1=192.168.1.10/24,192.168.1.1", "ipv4|dns=1.1.1.1;8.8.8.8;",
                  "ipv6|method=auto" },
                { "wifi|", "wifi-security|", "ipv6|method=manual" },
        },
        {
                { .kind = NET_ETHERNET, .id = "wired-v6", .address = "fd00::10/64",
                  .gateway = "fd00::1", .dns = "fd00::53 2606:4700:4700::1111" },
                { "ipv6|method=manual", "ipv6|address1=fd00::10/64,fd00::1",
                  "ipv6|dns=fd00::53;2606:4700:4700::1111;", "ipv4|method=auto" },
                { "ipv4|method=manual" },
        },
        {       /* DNS servers of both families go to their own setting */
                { .kind = NET_ETHERNET, .id = "wired-dhcp-dns", .dns = "9.9.9.9, fd00::53" },
                { "ipv4|method=auto", "ipv4|dns=9.9.9.9;", "ipv6|dns=fd00::53;" },
                { "ipv4|method=manual" },
        },
        {
                { .kind = NET_CELLULAR, .id = "cellular", .apn = "internet.example",
                  .user = "web", .password = "web-secret" },
                { "connection|type=gsm", "gsm|apn=internet.example", "gsm|username=web",
                  "gsm|password=web-secret" },
                { "wifi|" },
        },
        {
                { .kind = NET_CELLULAR, .id = "cellular-plain", .apn = "iot.1nce.net" },
                { "connection|type=gsm", "gsm|apn=iot.1nce.net" },
                { "gsm|username=web", "gsm|password=web-secret" },
        },
};

START_TEST(test_build)
{
        const struct net_request *req = &built[_i].req;
        struct bimg_error err = { 0 };
        char *text = NULL, *again = NULL;
        size_t len = 0, len2 = 0;

        ck_assert_msg(net_build_profile(req, &text, &len, &err) == 0, "%s: %s", req->id,
                      err.message);
        ck_assert_int_eq(err.status, BIMG_OK);
        ck_assert_ptr_nonnull(text);
        ck_assert_uint_eq(len, strlen(text));
        ck_assert_msg(strncmp(text, "[connection]\n", 13) == 0, "%s starts:\n%s", req->id, text);
        for (size_t i = 0; i < MAX_LINES && built[_i].want[i]; i++)
                ck_assert_msg(has_entry(text, built[_i].want[i]), "%s: no '%s' in\n%s", req->id,
                              built[_i].want[i], text);
        for (size_t i = 0; i < MAX_LINES && built[_i].never[i]; i++)
                ck_assert_msg(!has_entry(text, built[_i].never[i]), "%s: unexpected '%s' in\n%s",
                              req->id, built[_i].never[i], text);

        /* the same request gives the same bytes: configuring twice changes nothing */
        ck_assert_int_eq(net_build_profile(req, &again, &len2, &err), 0);
        ck_assert_uint_eq(len2, len);
        ck_assert_msg(memcmp(text, again, len) == 0, "%s: second build differs", req->id);

        /* what we write passes our own check of user files */
        ck_assert_msg(net_check_profile(text, len, req->id, &err) == 0, "%s: %s", req->id,
                      err.message);
        free(text);
        free(again);
}
END_TEST

/* The UUID depends on the id alone: uuid5(uuid5(NAMESPACE_DNS, "balena-img"), id). */
START_TEST(test_uuid_per_id)
{
        struct net_request a = { .kind = NET_WIFI, .id = "x", .ssid = "one" };
        struct net_request b = { .kind = NET_WIFI, .id = "y", .ssid = "one" };
        struct net_request c = { .kind = NET_ETHERNET, .id = "x" };
        struct bimg_error err = { 0 };
        char *ta, *tb, *tc;

        ck_assert_int_eq(net_build_profile(&a, &ta, NULL, &err), 0);
        ck_assert_int_eq(net_build_profile(&b, &tb, NULL, &err), 0);
        ck_assert_int_eq(net_build_profile(&c, &tc, NULL, &err), 0);
        /* python3: uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_DNS, "balena-img"), "x") */
        ck_assert_msg(group_has(ta, "connection", "uuid=9e034b49-f390-5d60-bfd2-ed97d56d45d5"),
                      "%s", ta);
        ck_assert_msg(!group_has(tb, "connection", "uuid=9e034b49-f390-5d60-bfd2-ed97d56d45d5"),
                      "%s", tb);
        ck_assert_msg(group_has(tc, "connection", "uuid=9e034b49-f390-5d60-bfd2-ed97d56d45d5"),
                      "%s", tc);
        free(ta);
        free(tb);
        free(tc);
}
END_TEST

static const struct {
        struct net_request req;
        const char *option;             /* the message names it */
} bad_requests[] = {
        { { .kind = NET_WIFI, .id = "w", .ssid = "s", .psk = "1234567" }, "--wifi-key" },
        { { .kind = NET_WIFI, .id = "w", .ssid = "s",
            .psk = "ghijklmnopqrstuvwxyzghijklmnopqrstuvwxyzghijklmnopqrstuvwxyzghij" },
          "--wifi-key" },                               /* 64 characters, not hex */
        { { .kind = NET_WIFI, .id = "w", .ssid = "s",
            .psk = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde" "fg" },
          "--wifi-key" },                               /* 65 characters */
        { { .kind = NET_WIFI, .id = "w", .ssid = "s", .psk = "caf\xc3\xa9-passphrase" },
          "--wifi-key" },                               /* not ASCII */
        { { .kind = NET_WIFI, .id = "w", .ssid = "s", .psk = "" }, "--wifi-key" },
        { { .kind = NET_WIFI, .id = "w", .ssid = "abcdefghijklmnopqrstuvwxyz0123456" },
          "--wifi-ssid" },                              /* 33 bytes */
        { { .kind = NET_WIFI, .id = "w", .ssid = "" }, "--wifi-ssid" },
        { { .kind = NET_WIFI, .id = "w" }, "--wifi-ssid" },
        { { .kind = NET_ETHERNET, .id = "e", .address = "10.0.0.1/33" }, "--static-ip" },
        { { .kind = NET_ETHERNET, .id = "e", .address = "10.0.0.1/0" }, "--static-ip" },
        { { .kind = NET_ETHERNET, .id = "e", .address = "10.0.0.1" }, "--static-ip" },
        { { .kind = NET_ETHERNET, .id = "e", .address = "10.0.0.256/24" }, "--static-ip" },
        { { .kind = NET_ETHERNET, .id = "e", .address = "10.0.0.1/24x" }, "--static-ip" },
        { { .kind = NET_ETHERNET, .id = "e", .address = "fd00::1/129" }, "--static-ip" },
        { { .kind = NET_ETHERNET, .id = "e", .address = "10.0.0.1/24", .gateway = "fd00::1" },
          "--gateway" },                                /* v4 address, v6 gateway */
        { { .kind = NET_ETHERNET, .id = "e", .address = "fd00::2/64", .gateway = "10.0.0.1" },
          "--gateway" },
        { { .kind = NET_ETHERNET, .id = "e", .gateway = "10.0.0.1" }, "--gateway" },
        { { .kind = NET_ETHERNET, .id = "e", .address = "10.0.0.2/24", .gateway = "router" },
          "--gateway" },
        { { .kind = NET_ETHERNET, .id = "e", .dns = "1.1.1.1,one.one" }, "--dns" },
        { { .kind = NET_ETHERNET, .id = "e", .dns = " , " }, "--dns" },
        { { .kind = NET_CELLULAR, .id = "c", .apn = "" }, "--apn" },
        { { .kind = NET_CELLULAR, .id = "c" }, "--apn" },
        { { .kind = NET_CELLULAR, .id = "c", .apn = "my apn" }, "--apn" },
        { { .kind = NET_CELLULAR, .id = "c", .apn = "internet", .user = "" }, "--apn-user" },
        { { .kind = NET_CELLULAR, .id = "c", .apn = "internet", .password = "a\nb" },
          "--apn-password" },
        { { .kind = NET_ETHERNET, .id = "e", .apn = "internet" }, "--apn" },
        { { .kind = NET_ETHERNET, .id = "e", .psk = "12345678" }, "--wifi-key" },
        { { .kind = NET_CELLULAR, .id = "c", .apn = "internet", .ssid = "s" }, "--wifi-ssid" },
        { { .kind = NET_WIFI, .id = "wifi.config", .ssid = "s" }, "profile name" },
        { { .kind = NET_WIFI, .id = "", .ssid = "s" }, "profile name" },
};

START_TEST(test_build_rejects)
{
        const struct net_request *req = &bad_requests[_i].req;
        struct bimg_error err = { 0 };
        char *text = (char *)"untouched";
        size_t len = 12345;

        ck_assert_int_eq(net_build_profile(req, &text, &len, &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        ck_assert_msg(strncmp(err.message, bad_requests[_i].option,
                              strlen(bad_requests[_i].option)) == 0,
                      "message does not start with %s: %s", bad_requests[_i].option,
                      err.message);
        ck_assert_msg(!strchr(err.message, '\n'), "not one line: %s", err.message);
        if (req->psk && strlen(req->psk) > 3)   /* secrets never appear in messages */
                ck_assert_msg(!strstr(err.message, req->psk), "PSK leaked: %s", err.message);
        ck_assert_str_eq(text, "untouched");
        ck_assert_uint_eq(len, 12345);
}
END_TEST

/* balena's own template (meta-balena balena-sample.ignore, also shipped as resin-sample) */
static const char resin_sample[] =
        "[connection]\nid=resin-sample\ntype=wifi\n\n"
        "[wifi]\nhidden=true\nmode=infrastructure\nssid=My_Wifi_Ssid\n\n"
        "[wifi-security]\nauth-alg=open\nkey-mgmt=wpa-psk\npsk=super_secret_wifi_password\n\n"
        "[ipv4]\nmethod=auto\n\n[ipv6]\naddr-gen-mode=stable-privacy\nmethod=auto\n";

static const char *const good_files[] = {
        resin_sample,
        "[connection]\nid=office\ntype=ethernet\ninterface-name=eth0\n\n[ethernet]\n\n"
        "[ipv4]\nmethod=manual\naddress1=10.0.0.5/24,10.0.0.1\nroute1=10.8.0.0/16,10.0.0.2\n"
        "route1_options=mtu=1400\ndns=10.0.0.53;\ndns-search=corp.example;\n\n"
        "[ipv6]\nmethod=ignore\n",
        "[connection]\nid=lte\ntype=gsm\nautoconnect=true\n\n[gsm]\napn=internet\n"
        "# a comment is fine\nusername=user\npassword=pass\n",
        "[connection]\nid=guest\nuuid=0b6b1b3a-6a8f-4f55-9e27-2a8a0d1f8c11\ntype=wifi\n"
        "[wifi]\nssid=Guest\n",
};

START_TEST(test_check_good)
{
        struct bimg_error err = { 0 };

        ck_assert_msg(net_check_profile(good_files[_i], strlen(good_files[_i]), "good", &err) == 0,
                      "%s", err.message);
        ck_assert_int_eq(err.status, BIMG_OK);
}
END_TEST

static const struct {
        const char *text;
        const char *want;       /* substring of the message after "user-file: " */
} bad_files[] = {
        { "[connection]\nid=x\n\n[wifi]\nssid=abc\n", "connection.type: missing" },
        { "[connection]\ntype=wifi\n\n[wifi]\nssid=abc\n", "connection.id: missing" },
        { "[connection]\nid=x\ntype=wifi\n[wifi]\nssid=abc\ncolour=blue\n",
          "wifi.colour: unknown property" },
        { "[connection]\nid=x\ntype=wifi\n[wifi]\nssid=abc\n[wifi-security]\n"
          "key-mgmt=wpa-psk\npks=12345678\n", "wifi-security.pks: unknown property" },
        { "[connection]\nid=x\ntype=ethernet\n[ipv4]\nmethod=auto\nadress1=10.0.0.1/24\n",
          "ipv4.adress1: unknown property" },
        { "[connection]\nid=x\ntype=wifi\n[wifi]\nssid=abc\n[wifi-security]\n"
          "key-mgmt=wpa-foo\npsk=12345678\n", "802-11-wireless-security.key-mgmt" },
        { "[connection]\nid=x\ntype=wifi\n[wifi]\nssid=abc\n[wifi-security]\n"
          "key-mgmt=wpa-psk\npsk=1234567\n", "802-11-wireless-security.psk" },
        { "[connection]\nid=x\ntype=wifi\n[wifi]\nssid=abc\n[wifi-security]\nkey-mgmt=wpa-psk\n",
          "802-11-wireless-security.psk: missing" },
        { "[connection]\nid=x\ntype=wifi\n[wifi]\nssid=abc\nhidden=maybe\n", "wifi.hidden" },
        { "[connection]\nid=x\ntype=wifi\n[wifi]\nssid=abc\n[vlan-ish]\nid=3\n", "vlan-ish" },
        { "[connection]\nid=x\ntype=ethernet\n[ipv4]\nmethod=manual\naddress1=10.0.0.1/33\n",
          "ipv4.address1: invalid number '33' (NetworkManager would ignore it)" },
        { "[connection]\nid=x\ntype=ethernet\n[ipv4]\nmethod=manual\n", "ipv4.addresses" },
        { "[connection]\nid=x\ntype=bogus\n", "connection.type" },
        { "[connection]\nid=x\ntype=wifi\nuuid=nope\n[wifi]\nssid=abc\n", "connection.uuid" },
        { "[connection]\nid=x\ntype=gsm\n[gsm]\napn=bad apn\n", "gsm.apn" },
        { "ssid=abc\npsk=12345678\n", "not a NetworkManager keyfile" },
        { "this is not an ini file at all\n", "not a NetworkManager keyfile" },
        { "{\"network\": \"wifi\"}\n", "not a NetworkManager keyfile" },
        { "", "no [connection] group" },
        { "# only a comment\n", "no [connection] group" },
};

START_TEST(test_check_bad)
{
        struct bimg_error err = { 0 };

        ck_assert_int_eq(net_check_profile(bad_files[_i].text, strlen(bad_files[_i].text),
                                           "user-file", &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        ck_assert_msg(strncmp(err.message, "user-file: ", 11) == 0, "no origin: %s",
                      err.message);
        ck_assert_msg(strstr(err.message, bad_files[_i].want), "want '%s' in: %s",
                      bad_files[_i].want, err.message);
        ck_assert_msg(!strchr(err.message, '\n'), "not one line: %s", err.message);
        ck_assert_msg(err.message[strlen(err.message) - 1] != '.', "final period: %s",
                      err.message);
}
END_TEST

START_TEST(test_check_limits)
{
        static const char with_nul[] = "[connection]\nid=x\0\ntype=wifi\n";
        struct bimg_error err = { 0 };
        size_t big = 1024 * 1024 + 1;
        char *text = malloc(big);

        ck_assert_ptr_nonnull(text);
        memset(text, '#', big);
        ck_assert_int_eq(net_check_profile(text, big, "big", &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        ck_assert_msg(strstr(err.message, "1 MiB"), "%s", err.message);
        free(text);

        memset(&err, 0, sizeof(err));
        ck_assert_int_eq(net_check_profile(with_nul, sizeof(with_nul) - 1, "nul", &err), -1);
        ck_assert_msg(strstr(err.message, "NUL"), "%s", err.message);

        /* the first failure wins */
        memset(&err, 0, sizeof(err));
        bimg_fail(&err, BIMG_E_IO, "earlier");
        ck_assert_int_eq(net_check_profile("", 0, "x", &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_IO);
        ck_assert_str_eq(err.message, "earlier");
}
END_TEST

static const char *const good_names[] = {
        "resin-wifi", "my-wifi.nmconnection", "resin-sample", "office wifi", "wifi.conf",
        "wifi.config7", "a.b.c", "caf\xc3\xa9", "x.pem2", "backup~old", "eth0-static",
};

START_TEST(test_name_ok)
{
        struct bimg_error err = { 0 };

        ck_assert_msg(net_check_profile_name(good_names[_i], &err) == 0, "'%s': %s",
                      good_names[_i], err.message);
        ck_assert_int_eq(err.status, BIMG_OK);
}
END_TEST

static const struct {
        const char *name, *reason;
} bad_names[] = {
        { "wifi.config", "temporary file" },    /* 6 letters/digits: mkstemp's pattern */
        { "resin-sample.ignore", "temporary file" },
        { "wifi.abc123", "temporary file" },
        { ".hidden", "hidden file" },
        { ".pem", "hidden file" },
        { "backup~", "backup file" },
        { "a.pem", "certificate" },
        { "A.PEM", "certificate" },
        { "client.der", "certificate" },
        { "../x", "'/'" },
        { "x/y", "'/'" },
        { "..", "'/'" },
        { ".", "'/'" },
        { "", "empty" },
        { "a:b", "FAT" },
        { "wifi?", "FAT" },
        { "trailing.", "FAT" },
        { "tab\there", "control" },
        { "bad\xff", "UTF-8" },
};

START_TEST(test_name_rejects)
{
        struct bimg_error err = { 0 };

        ck_assert_int_eq(net_check_profile_name(bad_names[_i].name, &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        ck_assert_msg(strstr(err.message, bad_names[_i].reason), "'%s': want '%s' in: %s",
                      bad_names[_i].name, bad_names[_i].reason, err.message);
}
END_TEST

START_TEST(test_name_limits)
{
        struct bimg_error err = { 0 };
        char name[300];

        ck_assert_int_eq(net_check_profile_name(NULL, &err), -1);
        memset(name, 'a', 255);
        name[255] = '\0';
        memset(&err, 0, sizeof(err));
        ck_assert_msg(net_check_profile_name(name, &err) == 0, "%s", err.message);
        name[255] = 'a';
        name[256] = '\0';
        ck_assert_int_eq(net_check_profile_name(name, &err), -1);
        ck_assert_msg(strstr(err.message, "256 bytes"), "%s", err.message);
}
END_TEST

static Suite *netprofile_suite(void)
{
        Suite *s = suite_create("netprofile");
        TCase *tc = tcase_create("netprofile");

        tcase_set_timeout(tc, 30);      /* the first dlopen of libnm */
        tcase_add_loop_test(tc, test_build, 0, ARRAY_SIZE(built));
        tcase_add_test(tc, test_uuid_per_id);
        tcase_add_loop_test(tc, test_build_rejects, 0, ARRAY_SIZE(bad_requests));
        tcase_add_loop_test(tc, test_check_good, 0, ARRAY_SIZE(good_files));
        tcase_add_loop_test(tc, test_check_bad, 0, ARRAY_SIZE(bad_files));
        tcase_add_test(tc, test_check_limits);
        tcase_add_loop_test(tc, test_name_ok, 0, ARRAY_SIZE(good_names));
        tcase_add_loop_test(tc, test_name_rejects, 0, ARRAY_SIZE(bad_names));
        tcase_add_test(tc, test_name_limits);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(netprofile_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
