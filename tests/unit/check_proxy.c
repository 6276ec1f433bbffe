/* SPDX-License-Identifier: Apache-2.0 */
/* net/proxy.c: system-proxy/no_proxy and system-proxy/redsocks.conf checks. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- no_proxy ----------------------------------------------------------- */

static const char *const good_no_proxy[] = {
        "",
        "10.0.0.1\n",
        "10.0.0.0/8\n192.168.1.0/24\n203.0.113.7\n",
        "203.0.113.0/24",                       /* the script also reads a last line without \n */
        "0.0.0.0/0\n",
        "198.51.100.0/255.255.255.0\n",         /* iptables takes a dotted netmask too */
        "registry.example.com\n",
        "localhost\nproxy-1.corp.example\n",
};

START_TEST(test_no_proxy_ok)
{
        struct bimg_error err = { 0 };
        const char *text = good_no_proxy[_i];

        ck_assert_msg(net_check_no_proxy(text, strlen(text), "no_proxy", &err) == 0,
                      "'%s': %s", text, err.message);
        ck_assert_int_eq(err.status, BIMG_OK);
}
END_TEST

static const struct {
        const char *text;
        const char *want;       /* substring of the message */
} bad_no_proxy[] = {
        { "\n", "line 1 is empty" },
        { "10.0.0.1\n\n", "line 2 is empty" },
        { "10.0.0.1\n\n10.0.0.2\n", "line 2 is empty" },
        { "10.0.0.1\r\n", "line 1 ends with CR" },
        { "10.0.0.1\n10.0.0.2\r\n", "line 2 ends with CR" },
        { "# hosts that skip the proxy\n10.0.0.1\n", "line 1 is a comment" },
        { " 10.0.0.1\n", "leading or trailing spaces" },
        { "10.0.0.1 \n", "leading or trailing spaces" },
        { "10.0.0.1\t\n", "leading or trailing spaces" },
        { "10.0.0.1 10.0.0.2\n", "one address per line" },
        { "10.0.0.1,10.0.0.2\n", "not an IPv4 address" },
        { "fd00::/8\n", "IPv6" },
        { "::1\n", "IPv6" },
        { "10.0.0.0/33\n", "prefix length" },
        { "10.0.0.0/\n", "prefix length" },
        { "10.0.0.0/08\n", "prefix length" },
        { "10.0.0.0/x\n", "prefix length" },
        { "10.0.0/8\n", "'10.0.0' is not an IPv4 address before '/'" },
        { "10.0.0.256\n", "'10.0.0.256' is not a valid IPv4 address" },
        { "10.1\n", "not a valid IPv4 address" },
        { ".example.com\n", "domain pattern" },
        { "*.example.com\n", "domain pattern" },
        { "exa_mple.com\n", "not an IPv4 address, CIDR range or host name" },
        { "-bad.example\n", "not an IPv4 address, CIDR range or host name" },
        { "a..b\n", "not an IPv4 address, CIDR range or host name" },
        { "10.0.0.1\n10.0.0.2\nhttp://proxy\n", "line 3" },
};

START_TEST(test_no_proxy_rejects)
{
        struct bimg_error err = { 0 };
        const char *text = bad_no_proxy[_i].text;

        ck_assert_int_eq(net_check_no_proxy(text, strlen(text), "boot:/system-proxy/no_proxy",
                                            &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        ck_assert_msg(strncmp(err.message, "boot:/system-proxy/no_proxy: ", 29) == 0,
                      "no origin: %s", err.message);
        ck_assert_msg(strstr(err.message, bad_no_proxy[_i].want), "want '%s' in: %s",
                      bad_no_proxy[_i].want, err.message);
        ck_assert_msg(!strchr(err.message, '\n') && !strchr(err.message, '\r'),
                      "not one line: %s", err.message);
}
END_TEST

START_TEST(test_no_proxy_limits)
{
        static const char nul[] = "10.0.0.1\n\0\n";
        struct bimg_error err = { 0 };
        size_t big = 1024 * 1024 + 1;
        char *text = malloc(big);
        char line[300];

        ck_assert_int_eq(net_check_no_proxy(nul, sizeof(nul) - 1, NULL, &err), -1);
        ck_assert_msg(strstr(err.message, "no_proxy: contains a NUL byte"), "%s", err.message);

        ck_assert_ptr_nonnull(text);
        memset(text, 'a', big);
        memset(&err, 0, sizeof(err));
        ck_assert_int_eq(net_check_no_proxy(text, big, "np", &err), -1);
        ck_assert_msg(strstr(err.message, "1 MiB"), "%s", err.message);
        free(text);

        /* a 254-byte name is one byte past what DNS allows */
        memset(line, 'a', 254);
        for (size_t i = 50; i < 254; i += 50)
                line[i] = '.';
        line[254] = '\0';
        memset(&err, 0, sizeof(err));
        ck_assert_int_eq(net_check_no_proxy(line, 254, "np", &err), -1);
        line[253] = '\0';
        memset(&err, 0, sizeof(err));
        ck_assert_msg(net_check_no_proxy(line, 253, "np", &err) == 0, "%s", err.message);
}
END_TEST

/* ---- redsocks.conf ------------------------------------------------------ */

/* meta-balena's redsocks.conf.ignore with the placeholder filled in */
static const char sample[] =
        "base {\n"
        "  log_debug = off;\n"
        "  log_info = on;\n"
        "  log = stderr;\n"
        "  daemon = off;\n"
        "  redirector = iptables;\n"
        "}\n"
        "\n"
        "redsocks {\n"
        "  type = socks5;\n"
        "  ip = 192.168.1.100;\n"
        "  port = 8123;\n"
        "  local_ip = 127.0.0.1;\n"
        "  local_port = 12345;\n"
        "}\n";

static const char *const good_redsocks[] = {
        sample,
        "// proxy for the lab\n"
        "base { redirector = iptables; } /* one line is fine */\n"
        "redsocks {\n"
        "  /* the corporate proxy,\n"
        "     reached by name */\n"
        "  type = http-connect;\n"
        "  ip = proxy.corp.example;   // resolved when redsocks starts\n"
        "  port = 3128;\n"
        "  login = \"svc user\";\n"
        "  password = \"p\\\"w\\\\d\";\n"
        "  disclose_src = X-Forwarded-For;\n"
        "  on_proxy_fail = forward_http_err;\n"
        "}\n",
        "base {\r\n redirector = iptables;\r\n}\r\n"          /* redsocks skips CR as space */
        "redsocks {\r\n type = socks4; ip = 10.0.0.1; port = 1080;\r\n}\r\n",
        "base { redirector = generic; max_accept_backoff = 1000; }\n"
        "redsocks { type = http-relay; ip = 10.0.0.1; port = 65535; }\n"
        "redsocks { type = socks5; ip = 10.0.0.2; port = 1; splice = no; }\n"
        "dnsu2t { local_ip = 127.0.0.1; local_port = 5313; remote_ip = 8.8.8.8; }\n"
        "redudp { local_ip = 127.0.0.1; local_port = 10053; ip = 10.0.0.1; port = 1080; }\n",
        "base { redirector = iptables; }\nredsocks { type = socks5; ip = 10.0.0.1; "
        "port = 8123// a comment right after a number\n; }\n",
};

START_TEST(test_redsocks_ok)
{
        struct bimg_error err = { 0 };
        const char *text = good_redsocks[_i];

        ck_assert_msg(net_check_redsocks(text, strlen(text), "redsocks.conf", &err) == 0,
                      "%s\n--- %s", text, err.message);
        ck_assert_int_eq(err.status, BIMG_OK);
}
END_TEST

#define BASE "base { redirector = iptables; }\n"
#define RS(body) "redsocks {" body "}\n"

static const struct {
        const char *text;
        const char *want;
} bad_redsocks[] = {
        /* the shipped sample, used as is */
        { "base {\n redirector = iptables;\n}\nredsocks {\n type = socks5;\n ip = <SERVER_IP>;\n"
          " port = 8123;\n}\n", "line 6: unexpected character '<' (replace the <PLACEHOLDER>" },
        { RS(" type = socks5; ip = 10.0.0.1; port = 1080; "), "no 'base' section" },
        { BASE, "no 'redsocks' section" },
        { "", "no 'base' section" },
        { BASE "redsocks {\n type = socks5; ip = 10.0.0.1; port = 1080;\n",
          "section 'redsocks' opened at line 2 is never closed" },
        { BASE RS(" type = socks5; ip = 10.0.0.1; port = 1080; ") "}\n",
          "line 3: '}' without an open section" },
        { BASE "redsocks { base { } }\n", "line 2: expected '=' after 'base'" },
        { BASE "redsocks { type = socks5; ip = 10.0.0.1; port = 1080; \nfoo { } }\n",
          "line 3: expected '=' after 'foo'" },
        { BASE "redsocks {\n type = socks5; ip = 10.0.0.1; port = 1080;\n {\n}\n",
          "line 4: a section inside a section" },
        { BASE RS(" type = socks6; ip = 10.0.0.1; port = 1080; "),
          "redsocks.type is 'socks6'; expected socks4, socks5, http-connect or http-relay" },
        { BASE RS(" ip = 10.0.0.1; port = 1080; "), "has no type" },
        { BASE RS(" type = socks5; port = 1080; "), "has no ip" },
        { BASE RS(" type = socks5; ip = 10.0.0.1; "), "has no port" },
        { BASE RS(" type = socks5; ip = 10.0.0.1; port = 0; "), "redsocks.port is '0'" },
        { BASE RS(" type = socks5; ip = 10.0.0.1; port = 65536; "), "redsocks.port is '65536'" },
        { BASE RS(" type = socks5; ip = 10.0.0.1; port = 08080; "), "redsocks.port is '08080'" },
        { BASE RS(" type = socks5; ip = 10.0.0.1; port = proxy; "), "redsocks.port is 'proxy'" },
        { BASE RS(" type = socks5; ip = 10.0.0.300; port = 1080; "),
          "redsocks.ip is '10.0.0.300'" },
        { BASE "redsocks {\n type = socks5\n ip = 10.0.0.1; port = 1080; }\n",
          "line 3: expected ';' after the value of 'type'" },
        { BASE RS(" type socks5; ip = 10.0.0.1; port = 1080; "), "expected '=' after 'type'" },
        { BASE RS(" type = ; ip = 10.0.0.1; port = 1080; "), "'type' has no value" },
        { BASE RS(" ; type = socks5; ip = 10.0.0.1; port = 1080; "), "';' without a key" },
        { BASE RS(" = socks5; "), "'=' without a key" },
        { BASE RS(" type = socks5; ip = 10.0.0.1; port = 1080; prot = 1080; "),
          "unknown key 'prot' in section 'redsocks'" },
        { BASE RS(" type = socks5; ip = 10.0.0.1; port = 1080; disclose_src = X-Forwarded-For; "),
          "only type http-connect supports disclose_src" },
        { BASE RS(" type = http-connect; ip = 10.0.0.1; port = 1; disclose_src = maybe; "),
          "redsocks.disclose_src is 'maybe'" },
        { "base { }\n" RS(" type = socks5; ip = 10.0.0.1; port = 1080; "),
          "section 'base' at line 1 has no redirector" },
        { "base { redirector = pf; }\n", "base.redirector is 'pf'" },
        { "base { redirector = iptables; log_debug = maybe; }\n", "base.log_debug is 'maybe'" },
        { "base { redirector = iptables; max_accept_backoff = 0; }\n",
          "max_accept_backoff must be positive" },
        { BASE BASE, "line 2: a second 'base' section" },
        { BASE "proxy { type = socks5; }\n", "line 2: unknown section 'proxy'" },
        { BASE "# the proxy\n", "line 2: unexpected character '#' (comments are // or /* */)" },
        { BASE "/* open\n comment\n", "line 2: comment '/*' is never closed" },
        { BASE "redsocks { login = \"never closed; }\n", "quoted string is never closed" },
        { BASE "redsocks { login = \"a\\qb\"; }\n", "unknown escape" },
        { BASE "redsocks { ip = 10.0.0.0/x; }\n", "unexpected '/' after a number" },
        { BASE "{ }\n", "line 2: '{' without a section name" },
        { BASE "ip = 10.0.0.1;\n", "line 2: expected '{' after 'ip'" },
        { BASE "redsocks\n", "'redsocks' at the end has no '{ ... }'" },
        { BASE RS(" type = socks5; ip = 10.0.0.1; port = 1080; ") "; \n",
          "assignment outside any section" },
        /* redsocks reads line by line and never sees a last line without '\n' */
        { BASE "redsocks { type = socks5; ip = 10.0.0.1; port = 1080;\n}",
          "line 3: the last line has no newline" },
        { BASE "redsocks { type = socks5; ip = 10.0.0.1; port = 1080; }",
          "line 2: the last line has no newline" },
        { BASE "redsocks { type = socks5; ip = 10.0.0.1; port = 1080; } \xc3\xa9\n",
          "unexpected byte 0xc3" },
};

START_TEST(test_redsocks_rejects)
{
        struct bimg_error err = { 0 };
        const char *text = bad_redsocks[_i].text;

        ck_assert_int_eq(net_check_redsocks(text, strlen(text), "redsocks.conf", &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        ck_assert_msg(strncmp(err.message, "redsocks.conf: ", 15) == 0, "no origin: %s",
                      err.message);
        ck_assert_msg(strstr(err.message, bad_redsocks[_i].want), "want '%s' in: %s",
                      bad_redsocks[_i].want, err.message);
        ck_assert_msg(!strchr(err.message, '\n'), "not one line: %s", err.message);
}
END_TEST

START_TEST(test_redsocks_limits)
{
        static const char nul[] = "base { redirector = iptables; }\0\n";
        struct bimg_error err = { 0 };
        size_t big = 1024 * 1024 + 1;
        char *text = malloc(big);

        ck_assert_int_eq(net_check_redsocks(nul, sizeof(nul) - 1, NULL, &err), -1);
        ck_assert_msg(strstr(err.message, "redsocks.conf: contains a NUL byte"), "%s",
                      err.message);
        ck_assert_ptr_nonnull(text);
        memset(text, ' ', big);
        memset(&err, 0, sizeof(err));
        ck_assert_int_eq(net_check_redsocks(text, big, "rs", &err), -1);
        ck_assert_msg(strstr(err.message, "1 MiB"), "%s", err.message);
        free(text);

        /* the first failure wins */
        memset(&err, 0, sizeof(err));
        bimg_fail(&err, BIMG_E_IO, "earlier");
        ck_assert_int_eq(net_check_redsocks("", 0, "x", &err), -1);
        ck_assert_int_eq(net_check_no_proxy("\n", 1, "x", &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_IO);
        ck_assert_str_eq(err.message, "earlier");
}
END_TEST

static Suite *proxy_suite(void)
{
        Suite *s = suite_create("proxy");
        TCase *tc = tcase_create("proxy");

        tcase_add_loop_test(tc, test_no_proxy_ok, 0, ARRAY_SIZE(good_no_proxy));
        tcase_add_loop_test(tc, test_no_proxy_rejects, 0, ARRAY_SIZE(bad_no_proxy));
        tcase_add_test(tc, test_no_proxy_limits);
        tcase_add_loop_test(tc, test_redsocks_ok, 0, ARRAY_SIZE(good_redsocks));
        tcase_add_loop_test(tc, test_redsocks_rejects, 0, ARRAY_SIZE(bad_redsocks));
        tcase_add_test(tc, test_redsocks_limits);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(proxy_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
