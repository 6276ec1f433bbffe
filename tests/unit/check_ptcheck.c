/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ptcheck_run: partition tables written here byte by byte (sfdisk and libfdisk
 * refuse to write the broken ones), MBR and GPT with both headers and zlib's
 * crc32, then checked. A good table gives no finding at all; each broken one
 * gives a failure that names the partition.
 */
#include <check.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "image/ptcheck.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SECTORS 16384                   /* an 8 MiB image */
#define SS 512

struct range {
        uint64_t first, last;           /* sectors, inclusive (GPT style) */
};

struct findings {
        int fails, warns;
        unsigned fail_part[8];
        char text[2048];
};

static void put32(unsigned char *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                p[i] = (unsigned char)(v >> (8 * i));
}

static void note(bool fail, unsigned part, const char *message, void *data)
{
        struct findings *f = data;
        size_t len = strlen(f->text);

        if (fail && f->fails < 8)
                f->fail_part[f->fails] = part;
        if (fail)
                f->fails++;
        else
                f->warns++;
        snprintf(f->text + len, sizeof(f->text) - len, "%s%s", len ? " | " : "", message);
}

static unsigned char *blank_image(void)
{
        unsigned char *img = calloc(SECTORS, SS);

        ck_assert_ptr_nonnull(img);
        return img;
}

static void mbr_entry(unsigned char *img, int slot, uint8_t type, uint32_t start, uint32_t size)
{
        unsigned char *e = img + 446 + 16 * slot;

        e[4] = type;
        put32(e + 8, start);
        put32(e + 12, size);
        img[510] = 0x55;
        img[511] = 0xaa;
}

/* A GPT with both headers and entry arrays; the last usable sector is SECTORS-34. */
static void gpt(unsigned char *img, const struct range *parts, size_t n)
{
        static const unsigned char linux_fs[16] = {     /* 0FC63DAF-8483-4772-8E79-3D69D8477DE4 */
                0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
                0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4,
        };
        unsigned char entries[128 * 128] = { 0 };
        uint64_t backup = SECTORS - 1, backup_entries = SECTORS - 33;

        mbr_entry(img, 0, 0xee, 1, SECTORS - 1);
        for (size_t i = 0; i < n; i++) {
                unsigned char *e = entries + 128 * i;

                memcpy(e, linux_fs, 16);
                memset(e + 16, (int)(0x11 * (i + 1)), 16);     /* unique GUID */
                put64(e + 32, parts[i].first);
                put64(e + 40, parts[i].last);
                e[56] = 'p';                                    /* name "p" in UTF-16LE */
        }
        for (int copy = 0; copy < 2; copy++) {
                uint64_t self = copy ? backup : 1, other = copy ? 1 : backup;
                uint64_t table = copy ? backup_entries : 2;
                unsigned char *h = img + self * SS;

                memcpy(img + table * SS, entries, sizeof(entries));
                memcpy(h, "EFI PART", 8);
                put32(h + 8, 0x00010000);
                put32(h + 12, 92);
                put64(h + 24, self);
                put64(h + 32, other);
                put64(h + 40, 34);
                put64(h + 48, SECTORS - 34);
                memset(h + 56, 0x5e, 16);                       /* disk GUID */
                put64(h + 72, table);
                put32(h + 80, 128);
                put32(h + 84, 128);
                put32(h + 88, (uint32_t)crc32(0, entries, sizeof(entries)));
                put32(h + 16, 0);
                put32(h + 16, (uint32_t)crc32(0, h, 92));
        }
}

/* Write img to a temporary file, check it, return what ptcheck_run returned. */
static int run(const unsigned char *img, struct findings *f, struct bimg_error *err)
{
        char path[] = "/tmp/check_ptcheck.XXXXXX";
        int fd = mkstemp(path), n;

        ck_assert_int_ge(fd, 0);
        unlink(path);
        ck_assert_int_eq(write(fd, img, (size_t)SECTORS * SS), (ssize_t)SECTORS * SS);
        memset(f, 0, sizeof(*f));
        n = ptcheck_run(fd, "test.img", (uint64_t)SECTORS * SS, note, f, err);
        close(fd);
        return n;
}

START_TEST(test_gpt_good)
{
        static const struct range parts[] = { { 2048, 4095 }, { 4096, SECTORS - 34 } };
        struct bimg_error err = { 0 };
        struct findings f;
        unsigned char *img = blank_image();

        gpt(img, parts, ARRAY_SIZE(parts));
        ck_assert_int_eq(run(img, &f, &err), 2);
        ck_assert_msg(f.fails == 0 && f.warns == 0, "findings on a good GPT: %s", f.text);
        free(img);
}
END_TEST

static const struct {
        const char *what;
        struct range parts[2];
        unsigned part;                  /* the partition named */
        const char *words;
} bad_gpt[] = {
        { "overlap", { { 2048, 5000 }, { 4096, 8191 } }, 2, "partitions 1 and 2 overlap by 905" },
        { "past the last usable sector", { { 2048, 4095 }, { 4096, SECTORS - 20 } }, 2,
          "outside the GPT's usable sectors" },
        { "over the primary entries", { { 10, 4095 }, { 4096, 8191 } }, 1,
          "outside the GPT's usable sectors" },
        { "past the image", { { 2048, 4095 }, { 4096, SECTORS + 4096 } }, 2,
          "beyond the end of the image" },
};

START_TEST(test_gpt_bad)
{
        struct bimg_error err = { 0 };
        struct findings f;
        unsigned char *img = blank_image();

        gpt(img, bad_gpt[_i].parts, 2);
        ck_assert_int_eq(run(img, &f, &err), 2);
        ck_assert_msg(f.fails >= 1, "%s: no failure (%s)", bad_gpt[_i].what, f.text);
        ck_assert_msg(strstr(f.text, bad_gpt[_i].words), "%s: '%s' not in: %s", bad_gpt[_i].what,
                      bad_gpt[_i].words, f.text);
        ck_assert_uint_eq(f.fail_part[0], bad_gpt[_i].part);
        free(img);
}
END_TEST

START_TEST(test_mbr_good)
{
        struct bimg_error err = { 0 };
        struct findings f;
        unsigned char *img = blank_image();

        mbr_entry(img, 0, 0x0e, 2048, 4096);
        mbr_entry(img, 1, 0x83, 6144, SECTORS - 6144);
        ck_assert_int_eq(run(img, &f, &err), 2);
        ck_assert_msg(f.fails == 0 && f.warns == 0, "findings on a good MBR: %s", f.text);
        free(img);
}
END_TEST

START_TEST(test_mbr_overlap_and_past_end)
{
        struct bimg_error err = { 0 };
        struct findings f;
        unsigned char *img = blank_image();

        mbr_entry(img, 0, 0x0e, 2048, 4096);
        mbr_entry(img, 1, 0x83, 4096, SECTORS);         /* into 1, and past the end */
        ck_assert_int_eq(run(img, &f, &err), 2);
        ck_assert_int_eq(f.fails, 2);
        ck_assert_msg(strstr(f.text, "beyond the end of the image"), "%s", f.text);
        ck_assert_msg(strstr(f.text, "partitions 1 and 2 overlap by 2048 sectors"), "%s", f.text);
        free(img);
}
END_TEST

START_TEST(test_no_table)
{
        struct bimg_error err = { 0 };
        struct findings f;
        unsigned char *img = blank_image();

        ck_assert_int_eq(run(img, &f, &err), -1);
        ck_assert_int_eq(err.status, BIMG_E_NOT_FOUND);
        ck_assert_msg(strstr(err.message, "test.img"), "%s", err.message);
        free(img);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("ptcheck");
        TCase *tc = tcase_create("ptcheck");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, test_gpt_good);
        tcase_add_loop_test(tc, test_gpt_bad, 0, ARRAY_SIZE(bad_gpt));
        tcase_add_test(tc, test_mbr_good);
        tcase_add_test(tc, test_mbr_overlap_and_past_end);
        tcase_add_test(tc, test_no_table);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
