/* SPDX-License-Identifier: Apache-2.0 */
/* bimg_osrelease_parse/get/free: os-release(5) quoting, comments, line ends, limits. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balena-img.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Parse exactly len bytes from a heap copy with no NUL after them, so an
 * over-read shows up under valgrind or ASan. */
static struct bimg_osrelease *parse_exact(const char *text, size_t len, struct bimg_error *err)
{
        struct bimg_osrelease *osr = NULL;
        char *copy = malloc(len ? len : 1);

        ck_assert_ptr_nonnull(copy);
        memcpy(copy, text, len);
        if (bimg_osrelease_parse(copy, len, &osr, err) < 0)
                osr = NULL;
        free(copy);     /* the parsed values must not point into the text */
        return osr;
}

static const struct {
        const char *text;
        const char *key;
        const char *want;       /* NULL: the key must be missing */
} values[] = {
        /* quoting styles */
        { "ID=balena-os\n", "ID", "balena-os" },
        { "ID=\"balena-os\"\n", "ID", "balena-os" },
        { "ID='balena-os'\n", "ID", "balena-os" },
        { "NAME=\"Resin OS\"\n", "NAME", "Resin OS" },
        { "NAME='Resin OS'\n", "NAME", "Resin OS" },
        { "X=\"\"\n", "X", "" },
        { "X=''\n", "X", "" },
        { "X=\n", "X", "" },
        { "X=a b\n", "X", "a b" },              /* lenient, like systemd and Python */
        /* escapes inside double quotes */
        { "X=\"say \\\"hi\\\"\"\n", "X", "say \"hi\"" },
        { "X=\"back\\\\slash\"\n", "X", "back\\slash" },
        { "X=\"\\$HOME\"\n", "X", "$HOME" },
        { "X=\"\\`cmd\\`\"\n", "X", "`cmd`" },
        { "X=\"a\\nb\"\n", "X", "a\\nb" },      /* other backslashes stay, as in sh */
        { "X=\"end\\\\\"\n", "X", "end\\" },
        { "X=\"a'b\"\n", "X", "a'b" },
        /* single quotes: no escapes at all */
        { "X='a\\\"b'\n", "X", "a\\\"b" },
        { "X='a\\\\b'\n", "X", "a\\\\b" },
        { "X='a\"b'\n", "X", "a\"b" },
        /* unquoted: backslash escapes the next character */
        { "X=a\\ b\n", "X", "a b" },
        { "X=a\\\\b\n", "X", "a\\b" },
        { "X=2.44.0+rev1\n", "X", "2.44.0+rev1" },
        /* comments */
        { "# ID=\"x\"\n", "ID", NULL },
        { "   # ID=\"x\"\n", "ID", NULL },
        { "#ID=x\nID=y\n", "ID", "y" },
        { "X=value # comment\n", "X", "value" },
        { "X=val#ue\n", "X", "val#ue" },
        { "X=#v\n", "X", "#v" },
        { "X=a\\ #b\n", "X", "a #b" },          /* an escaped blank starts no comment */
        { "X=\"v\" # comment\n", "X", "v" },
        { "X=\"v # not a comment\"\n", "X", "v # not a comment" },
        /* whitespace and line ends */
        { "  X=\"v\"  \n", "X", "v" },
        { "\tX=v\t\n", "X", "v" },
        { "X = \"v\"\n", "X", "v" },            /* tolerated, as systemd does */
        { "X=\"a\"\r\nY=\"b\"\r\n", "X", "a" },
        { "X=\"a\"\r\nY=\"b\"\r\n", "Y", "b" },
        { "X=a\r\nY=b\r\n", "X", "a" },
        { "X=a\r\nY=b", "Y", "b" },             /* no final line end */
        { "\n\n\nX=v\n\n", "X", "v" },
        { "X=\"  padded  \"\n", "X", "  padded  " },
        /* later keys override earlier ones */
        { "X=1\nX=2\n", "X", "2" },
        { "X=\"1\"\nY=y\nX='3'\n", "X", "3" },
        { "X=1\nX=\"unterminated\n", "X", "1" },        /* a skipped line overrides nothing */
        /* keys */
        { "_X1=v\n", "_X1", "v" },
        { "id=\"x\"\n", "ID", NULL },           /* case-sensitive */
        { "1X=v\n", "1X", NULL },
        { "X-Y=v\n", "X-Y", NULL },
        { "X-Y=v\n", "X", NULL },
        { "export X=v\n", "X", NULL },
        { "=v\n", "", NULL },
        { "X\n", "X", NULL },
        { "ID=\"a\"\n", "IDX", NULL },
        { "IDX=\"a\"\n", "ID", NULL },
        { "ID=\"a\"\n", "", NULL },
        /* lines that do not parse are skipped, the rest still count */
        { "X=\"unterminated\nY=ok\n", "X", NULL },
        { "X=\"unterminated\nY=ok\n", "Y", "ok" },
        { "X=\"a\nb\"\nZ=z\n", "X", NULL },     /* no multi-line values */
        { "X=\"a\nb\"\nZ=z\n", "Z", "z" },
        { "X=\"v\"junk\n", "X", NULL },
        { "X=\"v\"#c\n", "X", NULL },
        { "X='it''s'\n", "X", NULL },
        { "garbage line\nX=v\n", "X", "v" },
        /* text */
        { "PRETTY_NAME=\"balenaOS – ü\"\n", "PRETTY_NAME", "balenaOS – ü" },
        { "X=\"tab\there\"\n", "X", "tab\there" },
        { "", "ID", NULL },
};

START_TEST(test_values)
{
        struct bimg_error err = { 0 };
        struct bimg_osrelease *osr = parse_exact(values[_i].text, strlen(values[_i].text), &err);
        const char *got;

        ck_assert_msg(osr != NULL, "parse failed: %s", err.message);
        ck_assert_int_eq(err.status, BIMG_OK);
        got = bimg_osrelease_get(osr, values[_i].key);
        if (values[_i].want)
                ck_assert_msg(got && strcmp(got, values[_i].want) == 0,
                              "%s: got '%s', want '%s'", values[_i].key, got ? got : "(null)",
                              values[_i].want);
        else
                ck_assert_msg(got == NULL, "%s: got '%s', want none", values[_i].key, got);
        bimg_osrelease_free(osr);
}
END_TEST

/* Boot-partition and rootfs copies as balenaOS writes them (balenaos-spec.md §6.2). */
static const char balena_2_44[] =
        "ID=\"balena-os\"\n"
        "NAME=\"balenaOS\"\n"
        "VERSION=\"2.44.0+rev1\"\n"
        "VERSION_ID=\"2.44.0+rev1\"\n"
        "PRETTY_NAME=\"balenaOS 2.44.0+rev1\"\n"
        "MACHINE=\"genericx86-64\"\n"
        "VARIANT=\"Development\"\n"
        "VARIANT_ID=\"dev\"\n"
        "META_BALENA_VERSION=\"2.44.0\"\n"
        "RESIN_BOARD_REV=\"a1b2c3d\"\n"
        "META_RESIN_REV=\"e4f5a6b\"\n"
        "SLUG=\"intel-nuc\"\n";

static const char balena_8_0[] =
        "ID=\"balena-os\"\n"
        "NAME=\"balenaOS\"\n"
        "VERSION=\"8.0.2\"\n"
        "VERSION_ID=\"8.0.2\"\n"
        "PRETTY_NAME=\"balenaOS 8.0.2\"\n"
        "DISTRO_CODENAME=\"kirkstone\"\n"
        "MACHINE=\"raspberrypi4-64\"\n"
        "META_BALENA_VERSION=\"8.0.2\"\n";

static const char resin_2_12[] =             /* before the rename, with CRLF for good measure */
        "ID=\"resin-os\"\r\n"
        "NAME=\"Resin OS\"\r\n"
        "VERSION=\"2.12.7+rev1\"\r\n"
        "VERSION_ID=\"2.12.7\"\r\n"
        "PRETTY_NAME=\"Resin OS 2.12.7+rev1\"\r\n"
        "MACHINE=\"raspberrypi3\"\r\n"
        "VARIANT=\"Production\"\r\n"
        "VARIANT_ID=\"prod\"\r\n";

static const struct {
        const char *text;
        const char *key;
        const char *want;
} real[] = {
        { balena_2_44, "ID", "balena-os" },
        { balena_2_44, "NAME", "balenaOS" },
        { balena_2_44, "VERSION", "2.44.0+rev1" },
        { balena_2_44, "VERSION_ID", "2.44.0+rev1" },
        { balena_2_44, "PRETTY_NAME", "balenaOS 2.44.0+rev1" },
        { balena_2_44, "MACHINE", "genericx86-64" },
        { balena_2_44, "VARIANT", "Development" },
        { balena_2_44, "VARIANT_ID", "dev" },
        { balena_2_44, "META_BALENA_VERSION", "2.44.0" },
        { balena_2_44, "RESIN_BOARD_REV", "a1b2c3d" },
        { balena_2_44, "META_RESIN_REV", "e4f5a6b" },
        { balena_2_44, "SLUG", "intel-nuc" },
        { balena_2_44, "BALENA_BOARD_REV", NULL },
        { balena_8_0, "VERSION", "8.0.2" },
        { balena_8_0, "DISTRO_CODENAME", "kirkstone" },
        { balena_8_0, "MACHINE", "raspberrypi4-64" },
        { balena_8_0, "VARIANT", NULL },        /* removed in v2.85.0 */
        { balena_8_0, "SLUG", NULL },           /* boot copy has no SLUG */
        { resin_2_12, "ID", "resin-os" },
        { resin_2_12, "NAME", "Resin OS" },
        { resin_2_12, "VERSION", "2.12.7+rev1" },
        { resin_2_12, "VERSION_ID", "2.12.7" },
        { resin_2_12, "VARIANT", "Production" },
        { resin_2_12, "VARIANT_ID", "prod" },
};

START_TEST(test_real_files)
{
        struct bimg_error err = { 0 };
        struct bimg_osrelease *osr = parse_exact(real[_i].text, strlen(real[_i].text), &err);
        const char *got;

        ck_assert_msg(osr != NULL, "parse failed: %s", err.message);
        got = bimg_osrelease_get(osr, real[_i].key);
        if (real[_i].want)
                ck_assert_msg(got && strcmp(got, real[_i].want) == 0, "%s: got '%s', want '%s'",
                              real[_i].key, got ? got : "(null)", real[_i].want);
        else
                ck_assert_msg(got == NULL, "%s: got '%s', want none", real[_i].key, got);
        bimg_osrelease_free(osr);
}
END_TEST

/* len, not a NUL, ends the text: a value cut by len is cut there. */
START_TEST(test_len_bounds_text)
{
        static const char text[] = "ID=\"balena-os\"\nVERSION=2.44.0+rev1\nNAME=x";
        struct bimg_error err = { 0 };
        struct bimg_osrelease *osr;
        size_t cut = strlen("ID=\"balena-os\"\nVERSION=2.44");

        osr = parse_exact(text, cut, &err);
        ck_assert_ptr_nonnull(osr);
        ck_assert_str_eq(bimg_osrelease_get(osr, "ID"), "balena-os");
        ck_assert_str_eq(bimg_osrelease_get(osr, "VERSION"), "2.44");
        ck_assert_ptr_null(bimg_osrelease_get(osr, "NAME"));
        bimg_osrelease_free(osr);

        osr = parse_exact(text, strlen("ID=\"balena"), &err);   /* cut inside the quotes */
        ck_assert_ptr_nonnull(osr);
        ck_assert_ptr_null(bimg_osrelease_get(osr, "ID"));
        bimg_osrelease_free(osr);
}
END_TEST

START_TEST(test_empty_and_null)
{
        struct bimg_error err = { 0 };
        struct bimg_osrelease *osr = NULL;

        ck_assert_int_eq(bimg_osrelease_parse(NULL, 0, &osr, &err), 0);
        ck_assert_ptr_nonnull(osr);
        ck_assert_ptr_null(bimg_osrelease_get(osr, "ID"));
        ck_assert_ptr_null(bimg_osrelease_get(osr, NULL));
        bimg_osrelease_free(osr);
        ck_assert_ptr_null(bimg_osrelease_get(NULL, "ID"));
        bimg_osrelease_free(NULL);              /* NULL-safe */
}
END_TEST

/* Many keys, so the table has to grow; each keeps its own value. */
START_TEST(test_many_keys)
{
        struct bimg_error err = { 0 };
        struct bimg_osrelease *osr;
        char text[8192], key[16], want[16];
        size_t n = 0;

        for (int i = 0; i < 200; i++)
                n += (size_t)snprintf(text + n, sizeof(text) - n, "K%d=\"v%d\"\n", i, i);
        n += (size_t)snprintf(text + n, sizeof(text) - n, "K7=\"last\"\n");
        osr = parse_exact(text, n, &err);
        ck_assert_msg(osr != NULL, "parse failed: %s", err.message);
        for (int i = 0; i < 200; i++) {
                snprintf(key, sizeof(key), "K%d", i);
                snprintf(want, sizeof(want), i == 7 ? "last" : "v%d", i);
                ck_assert_str_eq(bimg_osrelease_get(osr, key), want);
        }
        bimg_osrelease_free(osr);
}
END_TEST

static const struct {
        const char *text;
        size_t len;
        const char *message;    /* substring of the error */
} rejected[] = {
        { "ID=a\0VERSION=b\n", 15, "NUL byte at offset 4" },
        { "\0", 1, "NUL byte at offset 0" },
        { "ID=\"balena-os\"\n\0", 16, "NUL byte" },
        { "\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f", 12, "not a text file" },
        { "ID=x\n\x1b\x1b\x1b\x1b", 9, "not a text file" },
        { "\xff\xfe\xfd\xfc\xfb\xfa\x80\x81\x82\x83", 10, "non-UTF-8" },
        { "\x7f\x7f\x7f\x7fX=v\n", 8, "not a text file" },
};

START_TEST(test_rejects)
{
        struct bimg_error err = { 0 };
        struct bimg_osrelease *osr = (struct bimg_osrelease *)&err;     /* must stay as is */

        ck_assert_int_eq(bimg_osrelease_parse(rejected[_i].text, rejected[_i].len, &osr, &err),
                         -1);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        ck_assert_msg(strstr(err.message, rejected[_i].message), "message: %s", err.message);
        ck_assert_msg(strncmp(err.message, "os-release", 10) == 0, "message: %s", err.message);
        ck_assert_ptr_eq(osr, (struct bimg_osrelease *)&err);
}
END_TEST

/* A few odd bytes (Latin-1, a stray escape) do not make a file binary. */
START_TEST(test_mostly_printable_accepted)
{
        static const char text[] = "NAME=\"caf\xe9 OS\"\nPRETTY_NAME=\"\x1b[1mbold\"\nID=x\n";
        struct bimg_error err = { 0 };
        struct bimg_osrelease *osr = parse_exact(text, strlen(text), &err);

        ck_assert_msg(osr != NULL, "parse failed: %s", err.message);
        ck_assert_str_eq(bimg_osrelease_get(osr, "NAME"), "caf\xe9 OS");
        ck_assert_str_eq(bimg_osrelease_get(osr, "ID"), "x");
        bimg_osrelease_free(osr);
}
END_TEST

/* 64 KiB is the limit: exactly that parses, one byte more is refused. */
START_TEST(test_size_limit)
{
        size_t max = 64 * 1024;
        char *text = malloc(max + 1);
        struct bimg_error err = { 0 };
        struct bimg_osrelease *osr = NULL;

        ck_assert_ptr_nonnull(text);
        memset(text, '#', max + 1);
        memcpy(text, "ID=big\n", 7);
        text[max - 1] = '\n';
        ck_assert_int_eq(bimg_osrelease_parse(text, max, &osr, &err), 0);
        ck_assert_str_eq(bimg_osrelease_get(osr, "ID"), "big");
        bimg_osrelease_free(osr);
        osr = NULL;

        text[max] = '\n';
        ck_assert_int_eq(bimg_osrelease_parse(text, max + 1, &osr, &err), -1);
        ck_assert_ptr_null(osr);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        ck_assert_msg(strstr(err.message, "65537 bytes") && strstr(err.message, "64 KiB"),
                      "message: %s", err.message);
        free(text);
}
END_TEST

static Suite *osrelease_suite(void)
{
        Suite *s = suite_create("osrelease");
        TCase *tc = tcase_create("osrelease");

        tcase_add_loop_test(tc, test_values, 0, ARRAY_SIZE(values));
        tcase_add_loop_test(tc, test_real_files, 0, ARRAY_SIZE(real));
        tcase_add_test(tc, test_len_bounds_text);
        tcase_add_test(tc, test_empty_and_null);
        tcase_add_test(tc, test_many_keys);
        tcase_add_loop_test(tc, test_rejects, 0, ARRAY_SIZE(rejected));
        tcase_add_test(tc, test_mostly_printable_accepted);
        tcase_add_test(tc, test_size_limit);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(osrelease_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
