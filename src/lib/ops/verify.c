/* SPDX-License-Identifier: Apache-2.0 */
/*
 * balena-img verify: every check of an image, collected in one report. Nothing
 * here writes: the image is opened read-only (a shared lock), the checkers get
 * it read-only or a copy of one partition.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "image/ptcheck.h"
#include "ops/verify.h"

const char *bimg_check_status_name(enum bimg_check_status status)
{
        static const char *const names[] = { "ok", "warn", "fail", "skipped" };

        return (unsigned)status < 4 ? names[status] : "?";
}

bool verify_add(struct bimg_verify_report *rep, const char *name, const char *subject,
                enum bimg_check_status status, const char *fmt, ...)
{
        struct bimg_check *c;
        va_list ap;

        /* capacity: 16, then doubled each time n reaches a power of two */
        if (rep->n_checks == 0 ||
            (rep->n_checks >= 16 && (rep->n_checks & (rep->n_checks - 1)) == 0)) {
                size_t cap = rep->n_checks == 0 ? 16 : rep->n_checks * 2;
                struct bimg_check *grown = realloc(rep->checks, cap * sizeof(*grown));

                if (!grown)
                        return false;
                rep->checks = grown;
        }
        c = &rep->checks[rep->n_checks++];
        memset(c, 0, sizeof(*c));
        snprintf(c->name, sizeof(c->name), "%s", name);
        snprintf(c->subject, sizeof(c->subject), "%s", subject);
        c->status = status;
        va_start(ap, fmt);
        vsnprintf(c->message, sizeof(c->message), fmt, ap);
        va_end(ap);
        rep->counts[status]++;
        return true;
}

void verify_part_subject(const struct bimg_part *p, char *buf, size_t size)
{
        const char *label = p->label[0] ? p->label : p->name;

        if (label[0])
                snprintf(buf, size, "partition %u '%.80s'", p->number, label);
        else
                snprintf(buf, size, "partition %u", p->number);
}

struct pt_state {
        struct bimg_verify_report *rep;
        bool failed;
};

static void note_pt(bool fail, unsigned part, const char *message, void *data)
{
        struct pt_state *st = data;
        char subject[64];

        if (part)
                snprintf(subject, sizeof(subject), "partition %u", part);
        else
                snprintf(subject, sizeof(subject), "partition table");
        st->failed |= fail;
        verify_add(st->rep, "partition-table", subject, fail ? BIMG_CHECK_FAIL : BIMG_CHECK_WARN,
                   "%s", message);
}

/* The table of the file behind fd; adds an ok line when nothing is wrong. */
static int check_table(int fd, const char *name, uint64_t size, const char *type,
                       struct bimg_verify_report *rep, bool *ret_failed, struct bimg_error *err)
{
        struct pt_state st = { .rep = rep };
        size_t before = rep->n_checks;
        int n = ptcheck_run(fd, name, size, note_pt, &st, err);

        if (n < 0)
                return -1;
        if (rep->n_checks == before)
                verify_add(rep, "partition-table", "partition table", BIMG_CHECK_OK,
                           "%s, %d partitions, none overlapping or out of bounds", type, n);
        *ret_failed = st.failed;
        return 0;
}

/* The image did not open: if its table is what is wrong, that is the report. */
static int check_unopenable(const char *path, struct bimg_verify_report *rep,
                            struct bimg_error *open_err)
{
        struct bimg_error ignored = { 0 };
        struct stat stbuf;
        bool failed = false;
        int fd, r;

        if (bimg_file_is_compressed(path))
                return -1;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -1;
        r = fstat(fd, &stbuf) == 0 && S_ISREG(stbuf.st_mode) && stbuf.st_size > 0
                    ? check_table(fd, path, (uint64_t)stbuf.st_size, "table", rep, &failed,
                                  &ignored)
                    : -1;
        close(fd);
        if (r < 0 || !failed)
                return -1;
        verify_add(rep, "image", path, BIMG_CHECK_SKIPPED, "no other check runs on a broken "
                   "partition table (%s)", open_err->message);
        return 0;
}

int bimg_verify(const char *path, const struct bimg_verify_opts *opts,
                struct bimg_verify_report **ret, struct bimg_error *err)
{
        struct bimg_verify_report *rep = calloc(1, sizeof(*rep));
        struct bimg_image *img = NULL;
        bool table_failed = false;
        int ret_code = -1;

        if (!rep)
                return bimg_fail(err, BIMG_E_FAILURE, "out of memory");
        if (bimg_image_open(path, BIMG_OPEN_READ, &img, err) < 0) {
                if (check_unopenable(path, rep, err) < 0)
                        goto out;
                *err = (struct bimg_error){ 0 };
                ret_code = 0;
                goto out;
        }
        if (check_table(img->fd, path, img->size, img->table_type, rep, &table_failed,
                        err) < 0 ||
            verify_filesystems(img, rep, err) < 0 || verify_boot(img, rep, err) < 0)
                goto out;
        if (opts && opts->deep && verify_deep(img, rep, err) < 0)
                goto out;
        ret_code = 0;
out:
        bimg_image_close(img);
        if (ret_code < 0) {
                bimg_verify_report_free(rep);
                return -1;
        }
        *ret = rep;
        return 0;
}

void bimg_verify_report_free(struct bimg_verify_report *report)
{
        if (!report)
                return;
        free(report->checks);
        free(report);
}
