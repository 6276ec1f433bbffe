/* SPDX-License-Identifier: Apache-2.0 */
/* udev_check_name/check_rules/split_arg: os.udevRules names and rule text. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/udev.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define NAME_64 "1234567890123456789012345678901234567890123456789012345678901234"

/* ---- names --------------------------------------------------------------------- */

static const char *const good_names[] = {
        "64", "99-foo", "my_rule", "A-z_0", NAME_64, "README",
        "66-resin-update-state", "65-resin-update-state-custom",
        "65-RESIN-UPDATE-STATE",        /* another file on a case-sensitive filesystem */
        "50-udev", "touchscreen2", "tpm", "01-md-raid",
};

START_TEST(test_good_names)
{
        struct bimg_error err = { 0 };

        ck_assert_msg(udev_check_name(good_names[_i], &err) == 0, "'%s': %s", good_names[_i],
                      err.message);
}
END_TEST

static const struct {
        const char *name;
        const char *message;
} bad_names[] = {
        { "", "udev rule name is empty" },
        { NAME_64 "5", "udev rule name '12345678901234567890123456789012...' is longer than "
          "64 characters" },
        { "99-foo.rules", "udev rule name '99-foo.rules' must not end in '.rules' (the OS "
          "adds it)" },
        { "a b", "udev rule name 'a b' may only hold letters, digits, '-' and '_'" },
        { "a/b", "may only hold letters" },
        { "a.b", "may only hold letters" },
        { "..", "may only hold letters" },
        { "$(reboot)", "may only hold letters" },
        { "a\"b", "may only hold letters" },
        { "caf\xc3\xa9", "may only hold letters" },
        { ".rules", "may only hold letters" },
        /* balenaOS's own rules, from both ends and the middle of the table */
        { "65-resin-update-state", "udev rule name '65-resin-update-state' is taken by one of "
          "balenaOS's own rules, which it would replace; choose another name" },
        { "60-resin-update-state", "is taken by one of balenaOS's own rules" },
        { "00-teensy", "is taken" },
        { "49-teensy", "is taken" },
        { "10-zram", "is taken" },
        { "11-dm", "is taken" },
        { "79-wlan-power", "is taken" },
        { "99-misc", "is taken" },
        { "10-local-bt-hci-up", "is taken" },
        { "77-mm-huawei-configuration", "is taken" },
        { "77-mm-u-blox-modeswitch", "is taken" },
        { "touchscreen", "is taken" },
        { "tpm-udev", "is taken" },
        { "50-udev-default", "is taken" },
        { "60-persistent-storage", "is taken" },
        { "80-net-setup-link", "is taken" },
        { "99-systemd", "is taken" },
        { "85-nm-unmanaged", "is taken" },
        { "80-mm-candidate", "is taken" },
        { "40-usb_modeswitch", "is taken" },
        { "63-md-raid-arrays", "is taken" },
        { "95-dm-notify", "is taken" },
};

START_TEST(test_bad_names)
{
        struct bimg_error err = { 0 };

        ck_assert_int_eq(udev_check_name(bad_names[_i].name, &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        ck_assert_msg(strstr(err.message, bad_names[_i].message), "'%s': got '%s'",
                      bad_names[_i].name, err.message);
}
END_TEST

/* ---- rule text ----------------------------------------------------------------- */

static const char *const good_rules[] = {
        "ACTION==\"add\", SUBSYSTEM==\"usb\", ATTRS{idVendor}==\"1234\", MODE=\"0666\"",
        "ACTION==\"add\", SUBSYSTEM==\"usb\", ATTRS{idVendor}==\"1234\", MODE=\"0666\"\n",
        "# a comment\n\n   \n"
        "KERNEL==\"sd*\", ENV{ID_FS_TYPE}!=\"\", SYMLINK+=\"disk/%k\"\n"
        "  # indented comment\n",
        "ACTION==\"add\", \\\n    SUBSYSTEM==\"net\", \\\n\tNAME=\"lan0\"\n",
        "ACTION==\"add\", \\\n# udevd skips a comment inside a continued rule\n"
        "SUBSYSTEM==\"net\", NAME=\"lan0\"\n",
        "SUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"?*\", "
        "ATTR{address}==\"aa:bb:cc:dd:ee:ff\", NAME=\"eth9\"\n",
        "SUBSYSTEM!=\"block\", GOTO=\"my_end\"\n"
        "KERNEL==\"sd*\", TAG+=\"systemd\"\n"
        "LABEL=\"my_end\"\n",
        "IMPORT{program}=\"/bin/foo $kernel\", RUN+=\"/bin/sh -c 'echo x > /dev/null'\"",
        "RUN{builtin}+=\"kmod load x\", RUN{program}=\"/bin/true\", OPTIONS+=\"last_rule\"",
        "TEST{0644}==\"/dev/x\", PROGRAM==\"/bin/x\", RESULT==\"y\", OWNER=\"root\", "
        "GROUP=\"dialout\"",
        "SECLABEL{selinux}=\"x\", SYSCTL{net.ipv4.ip_forward}=\"1\", CONST{arch}==\"x86-64\"",
        "WAIT_FOR=\"x\", FOO_BAR==\"y\", X{y}+=\"z\"",          /* unknown keys pass */
        "TAGS==\"x\", KERNELS==\"1-1\", SUBSYSTEMS==\"usb\", DRIVER==\"x\", "
        "DEVPATH==\"/devices/*\"",
        "NAME==\"eth0\", NAME=\"lan0\", ENV{X}:=\"y\", ENV{Y}-=\"z\", ATTR{x}=\"\", TAG-=\"a\"",
        "KERNEL==\"a\",NAME=\"b\"",                               /* no blanks needed */
        "KERNEL == \"a\" ,\tNAME = \"b\"",                        /* blanks allowed */
        "KERNEL==\"sd[a-z]\\d\", ENV{X}=\"caf\xc3\xa9 \xe2\x9c\x93\"",  /* '\' and UTF-8 */
        "GOTO=\"a\"\nGOTO=\"a\"\nLABEL=\"a\"\nGOTO=\"b\"\nLABEL=\"b\"\nLABEL=\"unused\"",
        "KERNEL==\"a\" \\\n\n",                    /* an empty line ends the rule */
};

START_TEST(test_good_rules)
{
        struct bimg_error err = { 0 };

        ck_assert_msg(udev_check_rules(good_rules[_i], strlen(good_rules[_i]), "r", &err) == 0,
                      "case %d: %s", _i, err.message);
}
END_TEST

static const struct {
        const char *text;
        size_t len;             /* 0: strlen */
        const char *message;    /* the whole message starts with this */
} bad_rules[] = {
        { "", 0, "r: no rule (only blank lines and comments)" },
        { "# only a comment\n\n  \t\n", 0, "r: no rule" },
        { "KERNEL==\"a\"\0", sizeof("KERNEL==\"a\""), "r:1: NUL byte; rules are text" },
        { "KERNEL==\"a\"\r\nNAME=\"b\"\r\n", 0, "r:1: carriage return (CRLF line ends)" },
        { "KERNEL==\"a\"\nNAME=\"b\x1b\"", 0, "r:2: control character 0x1b" },
        { "KERNEL==\"a\"\x7f", 0, "r:1: control character 0x7f" },
        { "\n\nKERNEL==\"caf\xe9\"", 0, "r:3: invalid UTF-8" },
        { "ACTION=\"add\"", 0, "r:1: ACTION can only be compared; use == or != (not =)" },
        { "KERNEL+=\"sd*\"", 0, "r:1: KERNEL can only be compared; use == or != (not +=)" },
        { "ATTRS{x}=\"y\"", 0, "r:1: ATTRS can only be compared" },
        { "RUN==\"/bin/x\"", 0, "r:1: RUN can only be assigned; use = or += (not ==)" },
        { "MODE!=\"0600\"", 0, "r:1: MODE can only be assigned" },
        { "GOTO+=\"x\"\nLABEL=\"x\"", 0, "r:1: GOTO takes = (not +=)" },
        { "LABEL==\"x\"", 0, "r:1: LABEL takes = (not ==)" },
        { "ATTR==\"x\"", 0, "r:1: ATTR needs a name in braces, as in ATTR{name}" },
        { "ENV=\"x\"", 0, "r:1: ENV needs a name in braces" },
        { "IMPORT=\"x\"", 0, "r:1: IMPORT needs a name in braces" },
        { "KERNEL{x}==\"a\"", 0, "r:1: KERNEL takes no {...}" },
        { "action==\"add\"", 0, "r:1: udev keys are upper case ('action==\"add\"')" },
        { "Kernel==\"a\"", 0, "r:1: 'Kernel==\"a\"' is not a udev key (keys are [A-Z_]+)" },
        { "KERNEL9==\"a\"", 0, "r:1: 'KERNEL9==\"a\"' is not a udev key" },
        { "1 2", 0, "r:1: expected a KEY, found '1'" },
        { "KERNEL==\"sda\" NAME=\"x\"", 0, "r:1: expected ',' after KERNEL==\"sda\", found "
          "'N'" },
        { "KERNEL==\"sda\",", 0, "r:1: the rule ends with ','; remove it" },
        { "KERNEL==\"sda\", ", 0, "r:1: the rule ends with ','" },
        { "KERNEL==\"sda\",, NAME=\"x\"", 0, "r:1: a ',' with no KEY==\"value\" before it" },
        { ", KERNEL==\"a\"", 0, "r:1: a ',' with no KEY==\"value\" before it" },
        { "KERNEL==sda", 0, "r:1: the value of KERNEL must be in double quotes" },
        { "KERNEL=='sda'", 0, "r:1: the value of KERNEL must be in double quotes" },
        { "KERNEL==\"sda", 0, "r:1: the value of KERNEL has no closing '\"'" },
        { "KERNEL==\"sda\nNAME=\"x\"", 0, "r:1: the value of KERNEL has no closing" },
        { "KERNEL=~\"sda\"", 0, "r:1: after KERNEL expected one of == != = += -= :=, found "
          "'=~'" },
        { "KERNEL!~\"sda\"", 0, "r:1: after KERNEL expected one of == != = += -= :=, found "
          "'!'" },
        { "KERNEL=>\"sda\"", 0, "r:1: after KERNEL expected one of" },
        { "KERNEL", 0, "r:1: after KERNEL expected one of == != = += -= :=, found the end of "
          "the rule" },
        { "KERNEL==e\"sda\"", 0, "r:1: KERNEL: write the value as \"...\" (older balenaOS "
          "releases have a udev without e\"...\" strings)" },
        { "ENV{X}=\"a\\\"b\"", 0, "r:1: \\\" in the value of ENV: the udev of older "
          "balenaOS releases ends the value there" },
        { "ATTR{}=\"x\"", 0, "r:1: ATTR{} is empty" },
        { "ATTR{x=\"y\"", 0, "r:1: ATTR{ is not closed by '}'" },
        { "ATTR{a b}=\"y\"", 0, "r:1: ATTR{ is not closed by '}'" },
        { "KERNEL==\"a\" \\ \nNAME=\"b\"", 0, "r:1: a '\\' continues a rule only as the last "
          "character of a line" },
        { "KERNEL==\"a\", \\", 0, "r:1: the last line ends with '\\' but no line follows" },
        { "# c\nKERNEL==\"a\"\n\nKERNEL==\"b\", \\\n  NAME=\"c\" \\\n  x", 0,
          "r:4: expected ',' after NAME=\"c\", found 'x'" },     /* the rule's first line */
        { "SUBSYSTEM!=\"block\", GOTO=\"my_end\"\nKERNEL==\"sd*\", TAG+=\"systemd\"\n", 0,
          "r:1: GOTO=\"my_end\" has no LABEL=\"my_end\" after it" },
        { "LABEL=\"x\"\nGOTO=\"x\"\n", 0, "r:2: GOTO=\"x\" has no LABEL=\"x\" after it" },
        { "GOTO=\"x\", LABEL=\"x\"", 0, "r:1: GOTO=\"x\" has no LABEL" },
        { "GOTO=\"a\"\nGOTO=\"b\"\nLABEL=\"a\"", 0, "r:2: GOTO=\"b\" has no LABEL" },
};

START_TEST(test_bad_rules)
{
        struct bimg_error err = { 0 };
        size_t len = bad_rules[_i].len ? bad_rules[_i].len : strlen(bad_rules[_i].text);

        ck_assert_int_eq(udev_check_rules(bad_rules[_i].text, len, "r", &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        ck_assert_msg(strstr(err.message, bad_rules[_i].message) == err.message,
                      "case %d: want '%s', got '%s'", _i, bad_rules[_i].message, err.message);
}
END_TEST

START_TEST(test_rule_limits)
{
        struct bimg_error err = { 0 };
        size_t big = 1024 * 1024 + 1;
        char *text = malloc(big + 1);

        ck_assert_ptr_nonnull(text);
        /* a rule of exactly 16383 bytes passes; one more byte and udevd would skip it */
        memcpy(text, "ENV{X}=\"", 8);
        memset(text + 8, 'a', 16383 - 9);
        memcpy(text + 16383 - 1, "\"", 2);
        ck_assert_uint_eq(strlen(text), 16383);
        ck_assert_msg(udev_check_rules(text, strlen(text), "r", &err) == 0, "%s", err.message);
        memcpy(text + 16383 - 1, "a\"", 3);
        ck_assert_int_eq(udev_check_rules(text, strlen(text), "r", &err), -1);
        ck_assert_str_eq(err.message, "r:1: the rule is longer than 16383 bytes; udev would "
                         "skip it");

        /* the limit holds for the joined rule too */
        err = (struct bimg_error){ 0 };
        memcpy(text + 8000, "\\\n", 2);
        ck_assert_int_eq(udev_check_rules(text, strlen(text), "r", &err), 0);
        memcpy(text + 16384, ", \\\n\tNAME=\"a\"", sizeof(", \\\n\tNAME=\"a\""));
        ck_assert_int_eq(udev_check_rules(text, strlen(text), "r", &err), -1);
        ck_assert_str_eq(err.message, "r:1: the rule is longer than 16383 bytes; udev would "
                         "skip it");

        err = (struct bimg_error){ 0 };
        memset(text, '#', big);
        text[big] = '\0';
        ck_assert_int_eq(udev_check_rules(text, big, NULL, &err), -1);
        ck_assert_str_eq(err.message, "udev rules: 1048577 bytes is too large for udev rules "
                         "(at most 1048576)");
        free(text);
}
END_TEST

START_TEST(test_first_error_wins)
{
        struct bimg_error err = { .status = BIMG_E_IO, .message = "earlier failure" };

        ck_assert_int_eq(udev_check_rules("x", 1, "r", &err), -1);
        ck_assert_int_eq(udev_check_name("", &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_IO);
        ck_assert_str_eq(err.message, "earlier failure");
}
END_TEST

/* ---- --udev-rule arguments --------------------------------------------------- */

static const struct {
        const char *arg;
        const char *name;
        size_t file_offset;     /* ret_file == arg + file_offset */
} good_args[] = {
        { "99-foo=/tmp/x.rules", "99-foo", 7 },
        { "/etc/rules/99-foo.rules", "99-foo", 0 },
        { "99-foo.rules", "99-foo", 0 },
        { "dir/99-foo", "99-foo", 0 },
        { "/tmp/a=b/99-x.rules", "99-x", 0 },   /* '/' before '=': a path */
        { "x=a=b", "x", 2 },
        { "x=65-resin-update-state.rules", "x", 2 },    /* only NAME is checked */
        { NAME_64 "=f", NAME_64, 65 },
        { "/x/" NAME_64 ".rules", NAME_64, 0 },
};

START_TEST(test_split_arg)
{
        struct bimg_error err = { 0 };
        const char *file = NULL;
        char name[65];

        memset(name, 'z', sizeof(name));
        ck_assert_msg(udev_split_arg(good_args[_i].arg, name, sizeof(name), &file, &err) == 0,
                      "'%s': %s", good_args[_i].arg, err.message);
        ck_assert_str_eq(name, good_args[_i].name);
        ck_assert_ptr_eq(file, good_args[_i].arg + good_args[_i].file_offset);
}
END_TEST

static const struct {
        const char *arg;
        const char *message;
} bad_args[] = {
        { "99-foo=", "'99-foo=': no file after '='; write NAME=FILE" },
        { "/tmp/", "'/tmp/' is not a rules file (give FILE or NAME=FILE)" },
        { "", "'' is not a rules file" },
        { "foo.txt", "cannot take a udev rule name from 'foo.txt'; name the file NAME.rules" },
        { "/x/.rules", "cannot take a udev rule name from '/x/.rules'" },
        { "=x", "udev rule name is empty" },
        { "./a=b.rules", "cannot take a udev rule name from './a=b.rules'" },  /* a path */
        { "65-resin-update-state=/x", "udev rule name '65-resin-update-state' is taken" },
        { "/x/65-resin-update-state.rules", "udev rule name '65-resin-update-state' is taken" },
        { "touchscreen", "udev rule name 'touchscreen' is taken" },
        { NAME_64 "5=f", "udev rule name in '" NAME_64 "5=f' is longer than 64 characters" },
        { "/x/" NAME_64 "5.rules", "udev rule name in '/x/" NAME_64 "5.rules' is longer" },
};

START_TEST(test_split_arg_rejects)
{
        struct bimg_error err = { 0 };
        const char *file = "untouched";
        char name[65] = "untouched";

        ck_assert_int_eq(udev_split_arg(bad_args[_i].arg, name, sizeof(name), &file, &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        ck_assert_msg(strstr(err.message, bad_args[_i].message) == err.message,
                      "want '%s', got '%s'", bad_args[_i].message, err.message);
        ck_assert_str_eq(name, "untouched");
        ck_assert_str_eq(file, "untouched");
}
END_TEST

START_TEST(test_split_arg_small_buffer)
{
        struct bimg_error err = { 0 };
        const char *file = NULL;
        char name[6];

        ck_assert_int_eq(udev_split_arg("99-foo=x", name, sizeof(name), &file, &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_FAILURE);
        ck_assert_ptr_null(file);
        err = (struct bimg_error){ 0 };
        ck_assert_int_eq(udev_split_arg("99-fo=x", name, sizeof(name), &file, &err), 0);
        ck_assert_str_eq(name, "99-fo");
}
END_TEST

static Suite *udev_suite(void)
{
        Suite *s = suite_create("udev");
        TCase *tc = tcase_create("udev");

        tcase_add_loop_test(tc, test_good_names, 0, ARRAY_SIZE(good_names));
        tcase_add_loop_test(tc, test_bad_names, 0, ARRAY_SIZE(bad_names));
        tcase_add_loop_test(tc, test_good_rules, 0, ARRAY_SIZE(good_rules));
        tcase_add_loop_test(tc, test_bad_rules, 0, ARRAY_SIZE(bad_rules));
        tcase_add_test(tc, test_rule_limits);
        tcase_add_test(tc, test_first_error_wins);
        tcase_add_loop_test(tc, test_split_arg, 0, ARRAY_SIZE(good_args));
        tcase_add_loop_test(tc, test_split_arg_rejects, 0, ARRAY_SIZE(bad_args));
        tcase_add_test(tc, test_split_arg_small_buffer);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(udev_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
