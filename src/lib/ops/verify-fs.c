/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every filesystem of an image through its own checker, read-only: e2fsck -fn
 * reads the image itself (libext2fs's "?offset=" io option on /dev/fd/3),
 * fsck.fat -n gets a sparse nameless copy of the partition (image/stage.c),
 * since it has no offset option. Neither is ever given the image writable.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/spawn.h"
#include "image/image.h"
#include "ops/verify.h"

/* The checker saw the partition as /dev/fd/3[?offset=N]: call it what it is. */
static void name_partition(char *buf, size_t size)
{
        char out[512];
        const char *s = buf, *p;
        size_t o = 0;

        while ((p = strstr(s, "/dev/fd/3")) && o < sizeof(out)) {
                const char *end = p + 9;

                if (*end == '?')        /* "?offset=N" */
                        end += strcspn(end, " :;,");
                o += (size_t)snprintf(out + o, sizeof(out) - o, "%.*sthe partition",
                                      (int)(p - s), s);
                s = end;
        }
        if (o < sizeof(out))
                snprintf(out + o, sizeof(out) - o, "%s", s);
        out[size < sizeof(out) ? size - 1 : sizeof(out) - 1] = '\0';
        memcpy(buf, out, strlen(out) + 1);
}

/* The problems a checker printed, on one line: its version banner, pass headers
 * and summary left out. */
static void problems(const char *out, const char *errtext, char *buf, size_t size)
{
        size_t len = 0;
        int lines = 0;

        buf[0] = '\0';
        for (const char *line = out; line && *line && lines < 4;) {
                const char *nl = strchr(line, '\n');
                size_t n = nl ? (size_t)(nl - line) : strlen(line);

                if (n > 0 && strncmp(line, "Pass ", 5) != 0 && strncmp(line, "e2fsck ", 7) != 0 &&
                    strncmp(line, "fsck.fat ", 9) != 0 && !memmem(line, n, " files, ", 8) &&
                    !memmem(line, n, " files (", 8) && len + 3 < size) {
                        len += (size_t)snprintf(buf + len, size - len, "%s%.*s",
                                                len ? "; " : "", (int)n, line);
                        lines++;
                }
                line = nl ? nl + 1 : NULL;
        }
        if (len >= size)
                len = size - 1;
        /* stderr starts with the same banner: "e2fsck 1.47.0 (5-Feb-2023) ..." */
        if ((strncmp(errtext, "e2fsck ", 7) == 0 || strncmp(errtext, "fsck.fat ", 9) == 0) &&
            strstr(errtext, ") "))
                errtext = strstr(errtext, ") ") + 2;
        if (errtext[0] && len + 3 < size)
                snprintf(buf + len, size - len, "%s%s", len ? "; " : "", errtext);
        for (char *p = buf; *p; p++)
                if (*p == '\t' || *p == '\r')
                        *p = ' ';
        name_partition(buf, size);
}

static int run_checker(const char *const argv[], int fd, const char *tool,
                       struct bimg_verify_report *rep, const char *subject, const char *kind,
                       struct bimg_error *err)
{
        struct bimg_run_result res = { 0 };
        char msg[400], *out = NULL;
        size_t len;

        if (bimg_run_capture(argv, fd, &out, &len, &res, err) < 0)
                return -1;
        problems(out, res.stderr_text, msg, sizeof(msg));
        free(out);
        /* e2fsck -n: 4 means errors left uncorrected, 8 it could not check at all;
         * fsck.fat -n: 1 errors found, 2 usage or not a FAT */
        if (res.exit_status == 0)
                verify_add(rep, "filesystem", subject, BIMG_CHECK_OK, "%s: clean (%s)", kind,
                           tool);
        else
                verify_add(rep, "filesystem", subject, BIMG_CHECK_FAIL, "%s: %s exit %d: %s",
                           kind, tool, res.exit_status, msg[0] ? msg : "errors found");
        return 0;
}

static uint32_t le32_at(const unsigned char *b, size_t off)
{
        return (uint32_t)b[off] | (uint32_t)b[off + 1] << 8 | (uint32_t)b[off + 2] << 16 |
               (uint32_t)b[off + 3] << 24;
}

/* The size the ext superblock claims (0 if unreadable). e2fsck reads the image
 * from an offset and cannot know where the partition ends, so a filesystem
 * larger than its partition (spilling into the next) is caught here. */
static uint64_t ext_claimed_size(int fd, uint64_t offset)
{
        unsigned char sb[1024];
        uint64_t blocks;
        uint32_t log;

        if (pread(fd, sb, sizeof(sb), (off_t)(offset + 1024)) != (ssize_t)sizeof(sb) ||
            sb[0x38] != 0x53 || sb[0x39] != 0xef)
                return 0;
        blocks = le32_at(sb, 0x04);
        if (le32_at(sb, 0x60) & 0x80)   /* INCOMPAT_64BIT: the high half counts too */
                blocks |= (uint64_t)le32_at(sb, 0x150) << 32;
        log = le32_at(sb, 0x18);
        return log <= 6 ? blocks << (10 + log) : 0;
}

static int check_ext(struct bimg_image *img, const struct bimg_part *p,
                     struct bimg_verify_report *rep, const char *subject, struct bimg_error *err)
{
        uint64_t claimed = ext_claimed_size(img->fd, p->offset);
        char dev[64];
        const char *argv[] = { E2FSCK_PATH, "-fn", dev, NULL };

        if (claimed > p->size) {
                verify_add(rep, "filesystem", subject, BIMG_CHECK_FAIL, "%s: the filesystem is "
                           "%.1f MiB but the partition only %.1f MiB: its end lies in whatever "
                           "follows", p->fstype[0] ? p->fstype : "ext", claimed / 1048576.0,
                           p->size / 1048576.0);
                return 0;
        }

        /* the locked image as fd 3: a '?' in the image's own name cannot confuse it */
        snprintf(dev, sizeof(dev), "/dev/fd/3?offset=%" PRIu64, p->offset);
        return run_checker(argv, img->fd, "e2fsck -fn", rep, subject,
                           p->fstype[0] ? p->fstype : "ext", err);
}

static int check_fat(struct bimg_image *img, const struct bimg_part *p,
                     struct bimg_verify_report *rep, const char *subject, struct bimg_error *err)
{
        const char *argv[] = { FSCK_FAT_PATH, "-n", "/dev/fd/3", NULL };
        int fd, r;

        if (stage_copy(img, p, NULL, &fd, err) < 0)   /* a nameless sparse copy */
                return -1;
        r = run_checker(argv, fd, "fsck.fat -n", rep, subject,
                        p->fsversion[0] ? p->fsversion : "vfat", err);
        close(fd);      /* the copy goes with it */
        return r;
}

static bool fat_typed(const struct bimg_part *p)
{
        return strstr(p->type_name, "FAT") || strstr(p->type_name, "EFI");
}

int verify_filesystems(struct bimg_image *img, struct bimg_verify_report *rep,
                       struct bimg_error *err)
{
        for (size_t i = 0; i < img->n_parts; i++) {
                const struct bimg_part *p = &img->parts[i];
                char subject[160];
                int r = 0;

                if (p->container)
                        continue;
                verify_part_subject(p, subject, sizeof(subject));
                switch (p->fskind) {
                case BIMG_FS_VFAT:
                        r = check_fat(img, p, rep, subject, err);
                        break;
                case BIMG_FS_EXT:
                        r = check_ext(img, p, rep, subject, err);
                        break;
                case BIMG_FS_LUKS:
                        verify_add(rep, "filesystem", subject, BIMG_CHECK_SKIPPED,
                                   "LUKS-encrypted: cannot be checked offline");
                        break;
                case BIMG_FS_OTHER:
                        verify_add(rep, "filesystem", subject, BIMG_CHECK_SKIPPED,
                                   "%s: not a filesystem balenaOS uses; not checked", p->fstype);
                        break;
                case BIMG_FS_NONE:
                default:
                        /* a FAT-typed partition with nothing recognisable: let
                         * fsck.fat say what is wrong with it */
                        if (fat_typed(p))
                                r = check_fat(img, p, rep, subject, err);
                        else
                                verify_add(rep, "filesystem", subject, BIMG_CHECK_SKIPPED,
                                           "no filesystem (a raw or empty partition)");
                        break;
                }
                if (r < 0)
                        return -1;
        }
        return 0;
}
