/* SPDX-License-Identifier: Apache-2.0 */
/* base/path.c: normal form of in-image paths, IMAGE:PART/PATH specs, path pieces. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/path.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
        const char *in, *want;
} normal[] = {
        { "/a//b/", "/a/b" },
        { "", "/" },
        { "/", "/" },
        { "//", "/" },
        { ".", "/" },
        { "/.", "/" },
        { "./", "/" },
        { "a/b", "/a/b" },
        { "a", "/a" },
        { "./a/./b/.", "/a/b" },
        { "/a/b/c", "/a/b/c" },
        { "///a///b///", "/a/b" },
        { "/boot/config.json", "/boot/config.json" },
        { "/system-connections/", "/system-connections" },
        { "/a/.hidden", "/a/.hidden" },         /* only "." itself is dropped */
        { "/a/...", "/a/..." },                 /* and only ".." itself is refused */
        { "/a/..b", "/a/..b" },
        { "/a/b..", "/a/b.." },
        { "/a b/c", "/a b/c" },
};

START_TEST(test_normalize)
{
        struct bimg_error err = { 0 };
        char out[256];

        ck_assert_msg(path_normalize(normal[_i].in, out, sizeof(out), &err) == 0, "'%s': %s",
                      normal[_i].in, err.message);
        ck_assert_int_eq(err.status, BIMG_OK);
        ck_assert_str_eq(out, normal[_i].want);
}
END_TEST

static const char *const dotdot[] = {
        "..", "/..", "../x", "/a/../b", "a/..", "/a/b/..", "/a/b/../", "./..", "//..//",
};

START_TEST(test_normalize_refuses_dotdot)
{
        struct bimg_error err = { 0 };
        char out[256];

        ck_assert_msg(path_has_dotdot(dotdot[_i]), "'%s' has no '..'?", dotdot[_i]);
        ck_assert_msg(path_normalize(dotdot[_i], out, sizeof(out), &err) == -1, "'%s' accepted",
                      dotdot[_i]);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        ck_assert_msg(strstr(err.message, dotdot[_i]) && strstr(err.message, "'..'"),
                      "message: %s", err.message);
}
END_TEST

static const char *const no_dotdot[] = {
        "", "/", ".", "/a/...", "/a/..b", "/a/b..", "/...", "a.b/c", "/a/./b",
};

START_TEST(test_has_dotdot_false)
{
        ck_assert_msg(!path_has_dotdot(no_dotdot[_i]), "'%s' has '..'?", no_dotdot[_i]);
}
END_TEST

/* The output buffer bounds the result: room for the path and its NUL is enough. */
static const struct {
        const char *in;
        size_t size;
        int ret;
} sized[] = {
        { "/abc", 5, 0 },
        { "abc", 5, 0 },
        { "/abc", 4, -1 },
        { "/a/b", 5, 0 },
        { "/a/b", 4, -1 },
        { "", 2, 0 },
        { "", 1, -1 },
        { "/a", 1, -1 },
};

START_TEST(test_normalize_size)
{
        struct bimg_error err = { 0 };
        char out[16];

        memset(out, 'x', sizeof(out));
        ck_assert_int_eq(path_normalize(sized[_i].in, out, sized[_i].size, &err), sized[_i].ret);
        if (sized[_i].ret < 0) {
                ck_assert_int_eq(err.status, BIMG_E_INVALID);
                ck_assert_msg(strstr(err.message, "too long"), "message: %s", err.message);
        }
        for (size_t i = sized[_i].size; i < sizeof(out); i++)
                ck_assert_msg(out[i] == 'x', "wrote byte %zu of a %zu-byte buffer", i,
                              sized[_i].size);
}
END_TEST

static const struct {
        const char *arg;
        const char *image, *part, *path;
} specs[] = {
        { "img.img:boot/config.json", "img.img", "boot", "/config.json" },
        { "img:2", "img", "2", "/" },
        { "img:2/", "img", "2", "/" },
        { "a:b.img:boot/x", "a:b.img", "boot", "/x" },  /* ':' inside the image name */
        { "/abs/path.img:resin-boot/", "/abs/path.img", "resin-boot", "/" },
        { "/abs/path.img:resin-boot//a/./b/", "/abs/path.img", "resin-boot", "/a/b" },
        { "x.img:flash-rootA/etc/os-release", "x.img", "flash-rootA", "/etc/os-release" },
        { "x.img:resin_data/", "x.img", "resin_data", "/" },
        { "./rel.img:1/a", "./rel.img", "1", "/a" },
        { "a:b:c", "a:b", "c", "/" },
};

START_TEST(test_parse_spec)
{
        struct bimg_error err = { 0 };
        struct bimg_pathspec spec;

        ck_assert_msg(path_parse_spec(specs[_i].arg, &spec, &err) == 1, "'%s': %s",
                      specs[_i].arg, err.message);
        ck_assert_str_eq(spec.image, specs[_i].image);
        ck_assert_str_eq(spec.part, specs[_i].part);
        ck_assert_str_eq(spec.path, specs[_i].path);
}
END_TEST

static const char *const host_paths[] = {
        "host.img", "/tmp/config.json", "dir/file.txt", "", "a:b.img", "x:.hidden/y",
        "weird:/path",
};

START_TEST(test_parse_spec_host_path)
{
        struct bimg_error err = { 0 };
        struct bimg_pathspec spec;

        ck_assert_msg(path_parse_spec(host_paths[_i], &spec, &err) == 0, "'%s' is not a host path",
                      host_paths[_i]);
        ck_assert_int_eq(err.status, BIMG_OK);
}
END_TEST

static const struct {
        const char *arg;
        enum bimg_status status;
        const char *message;
} bad_specs[] = {
        { ":boot/x", BIMG_E_USAGE, "no image" },
        { ":2", BIMG_E_USAGE, "no image" },
        { "img:boot/../x", BIMG_E_INVALID, "'..'" },
        { "img:boot/..", BIMG_E_INVALID, "'..'" },
};

START_TEST(test_parse_spec_rejects)
{
        struct bimg_error err = { 0 };
        struct bimg_pathspec spec;

        ck_assert_msg(path_parse_spec(bad_specs[_i].arg, &spec, &err) == -1, "'%s' accepted",
                      bad_specs[_i].arg);
        ck_assert_int_eq(err.status, bad_specs[_i].status);
        ck_assert_msg(strstr(err.message, bad_specs[_i].message), "message: %s", err.message);
}
END_TEST

/* Names longer than the pathspec fields are refused, not cut. */
START_TEST(test_parse_spec_too_long)
{
        struct bimg_error err = { 0 };
        struct bimg_pathspec *spec = malloc(sizeof(*spec));
        size_t n = sizeof(spec->image) + 16;
        char *arg = malloc(n + 16);

        ck_assert_ptr_nonnull(spec);
        ck_assert_ptr_nonnull(arg);
        memset(arg, 'i', sizeof(spec->image));  /* image name of exactly 4096 chars */
        strcpy(arg + sizeof(spec->image), ":boot/x");
        ck_assert_int_eq(path_parse_spec(arg, spec, &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_USAGE);     /* the message quotes all of arg */

        memset(&err, 0, sizeof(err));
        memcpy(arg, "i.img:", 6);
        memset(arg + 6, 'p', sizeof(spec->part));       /* partition name of exactly 80 chars */
        arg[6 + sizeof(spec->part)] = '\0';
        ck_assert_int_eq(path_parse_spec(arg, spec, &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_USAGE);
        ck_assert_msg(strstr(err.message, "too long"), "message: %s", err.message);

        memset(&err, 0, sizeof(err));
        arg[6 + sizeof(spec->part) - 1] = '\0'; /* 79 chars fit */
        ck_assert_int_eq(path_parse_spec(arg, spec, &err), 1);
        ck_assert_uint_eq(strlen(spec->part), sizeof(spec->part) - 1);
        free(arg);
        free(spec);
}
END_TEST

static const struct {
        const char *path, *base, *parent;
} pieces[] = {
        { "/a/b", "b", "/a" },
        { "/a", "a", "/" },
        { "/a/b/c.txt", "c.txt", "/a/b" },
        { "/", "", "/" },
        { "name", "name", "/" },
        { "dir/name", "name", "dir" },
        { "/system-connections/resin-wifi", "resin-wifi", "/system-connections" },
        { "/.hidden", ".hidden", "/" },
};

START_TEST(test_basename_parent)
{
        const char *path = pieces[_i].path;
        const char *base = path_basename(path);
        char parent[64];

        ck_assert_str_eq(base, pieces[_i].base);
        ck_assert_msg(base >= path && base <= path + strlen(path), "not borrowed from path");
        path_parent(path, parent, sizeof(parent));
        ck_assert_str_eq(parent, pieces[_i].parent);
}
END_TEST

START_TEST(test_parent_small_buffer)
{
        char parent[4];

        memset(parent, 'x', sizeof(parent));
        path_parent("/abcdef/g", parent, sizeof(parent));       /* cut, still terminated */
        ck_assert_str_eq(parent, "/ab");
}
END_TEST

static const struct {
        const char *dir, *name, *want;
} joins[] = {
        { "/", "x", "/x" },
        { "/a", "b", "/a/b" },
        { "/a/", "b", "/a/b" },
        { "/a/b", "c.json", "/a/b/c.json" },
        { "", "b", "/b" },
        { "/system-connections", "resin-wifi", "/system-connections/resin-wifi" },
};

START_TEST(test_join)
{
        struct bimg_error err = { 0 };
        char out[64];

        ck_assert_int_eq(path_join(joins[_i].dir, joins[_i].name, out, sizeof(out), &err), 0);
        ck_assert_str_eq(out, joins[_i].want);
}
END_TEST

START_TEST(test_join_too_long)
{
        struct bimg_error err = { 0 };
        char out[7];

        ck_assert_int_eq(path_join("/ab", "cd", out, sizeof(out), &err), 0);   /* 6 + NUL */
        ck_assert_str_eq(out, "/ab/cd");
        ck_assert_int_eq(path_join("/ab", "cde", out, sizeof(out), &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        ck_assert_msg(strstr(err.message, "too long"), "message: %s", err.message);
}
END_TEST

static Suite *path_suite(void)
{
        Suite *s = suite_create("path");
        TCase *tc = tcase_create("path");

        tcase_add_loop_test(tc, test_normalize, 0, ARRAY_SIZE(normal));
        tcase_add_loop_test(tc, test_normalize_refuses_dotdot, 0, ARRAY_SIZE(dotdot));
        tcase_add_loop_test(tc, test_has_dotdot_false, 0, ARRAY_SIZE(no_dotdot));
        tcase_add_loop_test(tc, test_normalize_size, 0, ARRAY_SIZE(sized));
        tcase_add_loop_test(tc, test_parse_spec, 0, ARRAY_SIZE(specs));
        tcase_add_loop_test(tc, test_parse_spec_host_path, 0, ARRAY_SIZE(host_paths));
        tcase_add_loop_test(tc, test_parse_spec_rejects, 0, ARRAY_SIZE(bad_specs));
        tcase_add_test(tc, test_parse_spec_too_long);
        tcase_add_loop_test(tc, test_basename_parent, 0, ARRAY_SIZE(pieces));
        tcase_add_test(tc, test_parent_small_buffer);
        tcase_add_loop_test(tc, test_join, 0, ARRAY_SIZE(joins));
        tcase_add_test(tc, test_join_too_long);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(path_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
