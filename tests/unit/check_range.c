/* SPDX-License-Identifier: Apache-2.0 */
/*
 * base/range.c: normalize, add_set, total, subtract and shrink_to checked against a plain
 * bitmap of a small span, over many random sets (a fixed seed: the same sets on
 * every run), plus the edges by hand.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/range.h"

#define SPAN 512

static void mark(bool *bits, const struct range_set *s)
{
        memset(bits, 0, SPAN * sizeof(*bits));
        for (size_t i = 0; i < s->n; i++)
                for (uint64_t b = s->r[i].start; b < s->r[i].end; b++)
                        bits[b] = true;
}

/* sorted, disjoint, not touching, none empty */
static void ck_normal(const struct range_set *s)
{
        for (size_t i = 0; i < s->n; i++) {
                ck_assert_uint_lt(s->r[i].start, s->r[i].end);
                if (i > 0)
                        ck_assert_uint_lt(s->r[i - 1].end, s->r[i].start);
        }
}

static void random_set(struct range_set *s, unsigned *seed)
{
        int n = rand_r(seed) % 8;

        for (int i = 0; i < n; i++) {
                uint64_t a = (uint64_t)(rand_r(seed) % SPAN), len = (uint64_t)(rand_r(seed) % 64);

                ck_assert_int_eq(range_add(s, a, a + len > SPAN ? SPAN : a + len), 0);
        }
}

START_TEST(test_against_bitmap)
{
        unsigned seed = 1234u + (unsigned)_i;
        struct range_set a = { 0 }, b = { 0 };
        bool want[SPAN], in_b[SPAN], got[SPAN];

        struct range_set u = { 0 };
        uint64_t count = 0;

        random_set(&a, &seed);
        random_set(&b, &seed);
        mark(want, &a);
        range_normalize(&a);
        ck_normal(&a);
        mark(got, &a);
        ck_assert_mem_eq(got, want, sizeof(got));
        range_normalize(&b);
        mark(in_b, &b);
        /* the union, and how many bytes it holds */
        ck_assert_int_eq(range_add_set(&u, &a), 0);
        ck_assert_int_eq(range_add_set(&u, &b), 0);
        range_normalize(&u);
        ck_normal(&u);
        mark(got, &u);
        for (int i = 0; i < SPAN; i++) {
                ck_assert_int_eq(got[i], want[i] || in_b[i]);
                count += got[i];
        }
        ck_assert_uint_eq(range_total(&u), count);
        range_free(&u);
        for (int i = 0; i < SPAN; i++)
                want[i] = want[i] && !in_b[i];
        ck_assert_int_eq(range_subtract(&a, &b), 0);
        ck_normal(&a);
        mark(got, &a);
        ck_assert_mem_eq(got, want, sizeof(got));
        range_shrink_to(&a, 16);
        for (size_t i = 0; i < a.n; i++) {
                ck_assert_uint_eq(a.r[i].start % 16, 0);
                ck_assert_uint_eq(a.r[i].end % 16, 0);
        }
        mark(got, &a);
        for (int blk = 0; blk < SPAN; blk += 16) {       /* a whole block of want: kept */
                bool whole = true;

                for (int i = blk; i < blk + 16; i++)
                        whole = whole && want[i];
                for (int i = blk; i < blk + 16; i++)
                        ck_assert_int_eq(got[i], whole);
        }
        range_free(&a);
        range_free(&b);
}
END_TEST

START_TEST(test_edges)
{
        struct range_set s = { 0 }, minus = { 0 };

        ck_assert_int_eq(range_add(&s, 5, 5), 0);       /* empty: nothing */
        ck_assert_uint_eq(s.n, 0);
        range_normalize(&s);
        ck_assert_int_eq(range_subtract(&s, &minus), 0);
        ck_assert_uint_eq(s.n, 0);
        ck_assert_int_eq(range_add(&s, 10, 20), 0);
        ck_assert_int_eq(range_add(&s, 20, 30), 0);     /* touching: merged */
        range_normalize(&s);
        ck_assert_uint_eq(s.n, 1);
        ck_assert_uint_eq(s.r[0].start, 10);
        ck_assert_uint_eq(s.r[0].end, 30);
        ck_assert_int_eq(range_add(&minus, 0, 100), 0); /* everything gone */
        ck_assert_int_eq(range_subtract(&s, &minus), 0);
        ck_assert_uint_eq(s.n, 0);
        range_free(&minus);
        ck_assert_int_eq(range_add(&s, 4096, 70000), 0);
        range_shrink_to(&s, 65536);                     /* no whole block inside */
        ck_assert_uint_eq(s.n, 0);
        range_free(&s);
}
END_TEST

static Suite *range_suite(void)
{
        Suite *s = suite_create("range");
        TCase *tc = tcase_create("range");

        tcase_add_loop_test(tc, test_against_bitmap, 0, 500);
        tcase_add_test(tc, test_edges);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(range_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
