/* SPDX-License-Identifier: Apache-2.0 */
/* bimg_version_parse/compare/cmp: grammar and balenaOS ordering (not semver). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balena-img.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
        const char *older, *newer;
} ordered[] = {
        { "2.9.0", "2.10.0" },                  /* numeric, not lexical */
        { "2.44.0", "2.100.0" },
        { "2.44.9", "2.44.10" },
        { "9.99.99", "10.0.0" },
        { "2.44.0", "2.44.0+rev1" },            /* board revisions come later */
        { "2.44.0+rev1", "2.44.0+rev2" },
        { "2.44.0+rev2", "2.44.0+rev10" },
        { "2.44.0+rev0", "2.44.0+rev1" },
        { "2.44.0+rev99", "2.44.1" },           /* the next release beats any revision */
        { "2.44.0_rev1", "2.44.0+rev2" },       /* Docker-tag form mixes with '+' */
        { "2.44.0-beta1", "2.44.0" },           /* pre-release before the release */
        { "2.44.0-beta1+rev5", "2.44.0" },
        { "2.44.0-beta9", "2.44.0+rev1" },
        { "2.44.0-beta2", "2.44.0-beta10" },    /* label numbers by value */
        { "2.44.0-beta1", "2.44.0-beta2" },
        { "2.44.0-beta", "2.44.0-beta1" },
        { "2.44.0-beta10", "2.44.0-rc1" },      /* different words: strcmp */
        { "2.44.0-b2", "2.44.0-beta1" },        /* words first, then numbers */
        { "2.44.0-beta.2", "2.44.0-beta.10" },
        { "2.44.0-beta01", "2.44.0-beta1" },    /* same value: strcmp keeps it total */
        { "2.44.0-beta0", "2.44.0-beta0+rev2" },
        { "2.44.0-beta0+rev1", "2.44.0-beta0+rev2" },
        { "2.44.0-beta0+rev2", "2.44.0-beta1" },
        { "2.43.99", "2.44.0-beta0" },
        { "2.0.0", "2019.10.0" },               /* calendar ESR: plain numbers */
        { "2019.10.0", "2019.10.1" },
        { "2019.4.0", "2019.10.0" },
        { "v2.44.0", "2.44.1" },
        { "2.44.0.prod", "2.44.0+rev1.dev" },
        { "", "0.0.0" },                        /* unparsable sorts before any valid */
        { "garbage", "0.0.0" },
        { "2.44", "1.0.0" },
        { "2.44.0+rev", "2.44.0" },
        { "abc", "abd" },                       /* two unparsable: strcmp */
        { "2.44", "2.5" },
};

START_TEST(test_cmp_orders_pairs)
{
        const char *a = ordered[_i].older, *b = ordered[_i].newer;

        ck_assert_msg(bimg_version_cmp(a, b) < 0, "expected %s < %s", a, b);
        ck_assert_msg(bimg_version_cmp(b, a) > 0, "expected %s > %s", b, a);
}
END_TEST

static const struct {
        const char *a, *b;
} equal[] = {
        { "2.44.0", "2.44.0" },
        { "2.44.0", "v2.44.0" },
        { "2.44.0", "V2.44.0" },
        { "2.44.0+rev1", "2.44.0_rev1" },       /* '_' is '+' in Docker tags */
        { "2.44.0", "2.44.0+rev0" },            /* absent revision is 0 */
        { "2.44.0+rev1", "2.44.0+rev1.dev" },   /* the variant is ignored */
        { "2.44.0.dev", "2.44.0.prod" },
        { "2.44.0+dev", "2.44.0" },
        { "2.44.0-beta1.dev", "2.44.0-beta1.prod" },
        { "2.044.0", "2.44.0" },                /* decimal, leading zeros allowed */
        { "2.44.0-beta0+rev2", "2.44.0-beta0_rev2" },
        { "2.44", "2.44" },                     /* unparsable but identical */
};

START_TEST(test_cmp_equal)
{
        const char *a = equal[_i].a, *b = equal[_i].b;

        ck_assert_msg(bimg_version_cmp(a, b) == 0, "expected %s == %s", a, b);
        ck_assert_msg(bimg_version_cmp(b, a) == 0, "expected %s == %s", b, a);
}
END_TEST

static const struct {
        const char *text;
        unsigned long major, minor, patch;
        const char *pre;                        /* NULL: no pre-release */
        unsigned long rev;
        const char *variant;
} parsed[] = {
        { "2.44.0", 2, 44, 0, NULL, 0, "" },
        { "v2.44.0", 2, 44, 0, NULL, 0, "" },
        { "2.44.0+rev1", 2, 44, 0, NULL, 1, "" },
        { "2.44.0_rev12", 2, 44, 0, NULL, 12, "" },
        { "2.44.0+rev0", 2, 44, 0, NULL, 0, "" },
        { "6.1.25", 6, 1, 25, NULL, 0, "" },
        { "8.0.2", 8, 0, 2, NULL, 0, "" },
        { "2.0.0-beta1", 2, 0, 0, "beta1", 0, "" },
        { "2.0.0-beta0+rev2", 2, 0, 0, "beta0", 2, "" },
        { "2.0.0-beta.13", 2, 0, 0, "beta.13", 0, "" },
        { "2.0.0-beta.13.dev", 2, 0, 0, "beta.13", 0, "dev" },
        { "2.0.0-beta1.devel", 2, 0, 0, "beta1.devel", 0, "" },
        { "2.0.0-beta1.dev.1", 2, 0, 0, "beta1.dev.1", 0, "" },
        { "2.0.0-dev", 2, 0, 0, "dev", 0, "" },
        { "2.29.2+rev1.prod", 2, 29, 2, NULL, 1, "prod" },
        { "2.48.0+rev3.dev", 2, 48, 0, NULL, 3, "dev" },
        { "2.44.0.dev", 2, 44, 0, NULL, 0, "dev" },
        { "2.44.0+prod", 2, 44, 0, NULL, 0, "prod" },
        { "2.44.0+rev1+dev", 2, 44, 0, NULL, 1, "dev" },
        { "2019.10.0", 2019, 10, 0, NULL, 0, "" },
        { "0.0.0", 0, 0, 0, NULL, 0, "" },
        { "4294967295.0.0", 4294967295UL, 0, 0, NULL, 0, "" },
        { "1.2.3-abcdefghijklmnopqrstuvwxyz01234", 1, 2, 3, "abcdefghijklmnopqrstuvwxyz01234", 0,
          "" },                                 /* 31 characters: the longest label */
};

START_TEST(test_parse_fields)
{
        struct bimg_error err = { 0 };
        struct bimg_version v;

        memset(&v, 0xa5, sizeof(v));
        ck_assert_msg(bimg_version_parse(parsed[_i].text, &v, &err) == 0, "'%s': %s",
                      parsed[_i].text, err.message);
        ck_assert_int_eq(err.status, BIMG_OK);
        ck_assert_uint_eq(v.major, parsed[_i].major);
        ck_assert_uint_eq(v.minor, parsed[_i].minor);
        ck_assert_uint_eq(v.patch, parsed[_i].patch);
        ck_assert_int_eq(v.has_pre, parsed[_i].pre != NULL);
        ck_assert_str_eq(v.pre, parsed[_i].pre ? parsed[_i].pre : "");
        ck_assert_uint_eq(v.rev, parsed[_i].rev);
        ck_assert_str_eq(v.variant, parsed[_i].variant);
}
END_TEST

static const char *const invalid[] = {
        "",
        "v",
        "2",
        "2.44",
        "2.44.",
        "2.x.1",
        "x.44.0",
        "2.44.x",
        "2.44.0+rev",
        "2.44.0+revX",
        "2.44.0_rev",
        "2.44.0+rev-1",
        "2.44.0+REV1",
        "2.44.0+build5",
        "99999999999999999999.0.0",             /* overflows unsigned long */
        "2.99999999999999999999.0",
        "2.44.99999999999999999999",
        "2.44.0+rev99999999999999999999",
        "2.44.0 ",                              /* trailing garbage */
        " 2.44.0",                              /* leading garbage */
        "2.44.0\n",
        "2.44.0x",
        "2.44.0.1",
        "2.44.0+rev1x",
        "2.44.0+rev1.devel",
        "2.44.0.Dev",
        "2.44.0_dev",
        "2.44.0-",                              /* empty label */
        "2.44.0-.dev",
        "2.44.0-beta..1",
        "2.44.0-beta.",
        "2.44.0-beta_1",
        "2.44.0-beta1.dev+rev1",                /* variant before revision */
        "2.44.0-abcdefghijklmnopqrstuvwxyz012345",      /* 32-character label */
        "+2.44.0",
        "-2.44.0",
        "vv2.44.0",
        "2.-44.0",
        "2.+44.0",
        "balenaOS 2.44.0",
        "2..0",
        "2.44.0+rev1+rev2",
};

START_TEST(test_parse_rejects)
{
        struct bimg_error err = { 0 };
        struct bimg_version v, before;
        char want[256];

        memset(&v, 0x5a, sizeof(v));
        memcpy(&before, &v, sizeof(v));
        ck_assert_msg(bimg_version_parse(invalid[_i], &v, &err) == -1, "'%s' was accepted",
                      invalid[_i]);
        ck_assert_int_eq(err.status, BIMG_E_INVALID);
        snprintf(want, sizeof(want), "'%s' is not a balenaOS version", invalid[_i]);
        for (char *p = want; *p; p++)   /* the message is one line */
                if (*p == '\n')
                        *p = ' ';
        ck_assert_msg(strncmp(err.message, want, strlen(want)) == 0, "message: %s", err.message);
        ck_assert_msg(strstr(err.message, "(expected X.Y.Z[-beta][+revN])"), "message: %s",
                      err.message);
        ck_assert_msg(memcmp(&v, &before, sizeof(v)) == 0, "ret_v written on failure");
}
END_TEST

START_TEST(test_parse_null_err)
{
        struct bimg_version v;

        ck_assert_int_eq(bimg_version_parse("2.x.1", &v, NULL), -1);
        ck_assert_int_eq(bimg_version_parse(NULL, &v, NULL), -1);
        ck_assert_int_eq(bimg_version_parse("2.44.0", &v, NULL), 0);
        ck_assert_int_eq(bimg_version_cmp(NULL, "1.0.0"), -1);
        ck_assert_int_eq(bimg_version_cmp(NULL, NULL), 0);
}
END_TEST

START_TEST(test_first_error_wins)
{
        struct bimg_error err = { 0 };
        struct bimg_version v;

        bimg_fail(&err, BIMG_E_IO, "earlier failure");
        ck_assert_int_eq(bimg_version_parse("nope", &v, &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_IO);
        ck_assert_str_eq(err.message, "earlier failure");
}
END_TEST

/* Sorting needs a total order: check antisymmetry and transitivity on a mix that
 * includes labels which a plain strcmp of whole labels would cycle on. */
static const char *const mix[] = {
        "2.44.0-x9", "2.44.0-x10", "2.44.0-x1a", "2.44.0-beta", "2.44.0-beta1",
        "2.44.0-beta01", "2.44.0-rc1", "2.44.0", "2.44.0+rev1", "2.44.0-beta1+rev3",
        "bogus", "2.9.0", "2019.10.0", "",
};

START_TEST(test_cmp_total_order)
{
        size_t n = ARRAY_SIZE(mix);

        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) {
                        int ij = bimg_version_cmp(mix[i], mix[j]);
                        int ji = bimg_version_cmp(mix[j], mix[i]);

                        ck_assert_msg((ij > 0) == (ji < 0) && (ij == 0) == (ji == 0),
                                      "'%s' vs '%s' not antisymmetric", mix[i], mix[j]);
                        for (size_t k = 0; k < n; k++)
                                if (ij < 0 && bimg_version_cmp(mix[j], mix[k]) < 0)
                                        ck_assert_msg(bimg_version_cmp(mix[i], mix[k]) < 0,
                                                      "'%s' < '%s' < '%s' not transitive",
                                                      mix[i], mix[j], mix[k]);
                }
}
END_TEST

static Suite *version_suite(void)
{
        Suite *s = suite_create("version");
        TCase *tc = tcase_create("version");

        tcase_add_loop_test(tc, test_cmp_orders_pairs, 0, ARRAY_SIZE(ordered));
        tcase_add_loop_test(tc, test_cmp_equal, 0, ARRAY_SIZE(equal));
        tcase_add_loop_test(tc, test_parse_fields, 0, ARRAY_SIZE(parsed));
        tcase_add_loop_test(tc, test_parse_rejects, 0, ARRAY_SIZE(invalid));
        tcase_add_test(tc, test_parse_null_err);
        tcase_add_test(tc, test_first_error_wins);
        tcase_add_test(tc, test_cmp_total_order);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(version_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
