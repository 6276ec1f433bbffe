/* SPDX-License-Identifier: Apache-2.0 */
/* A disk image of arbitrary bytes: bimg_image_open (sniffing, partition table,
 * blkid probes), then role detection (labels, GPT names, and the FAT fallback
 * that looks for /device-type.json with mtools), the editable check and the
 * partition look-ups the commands make. The bytes are written to a memfd that
 * is opened by its /proc path, as a file name on the command line would be. */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

static int mfd = -1;
static char path[64];

static void warn_check(const char *message, void *data)
{
        (void)data;
        if (!message[0] || strchr(message, '\n'))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const specs[] = { "1", "2", "boot", "rootA", "resin-boot", "0", "99" };
        struct bimg_error err = { 0 };
        struct bimg_image *img = NULL;
        const struct bimg_part *part;
        int r;

        if (mfd < 0) {
                mfd = memfd_create("fuzz-image", MFD_CLOEXEC);
                if (mfd < 0)
                        abort();
                snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
        }
        if (ftruncate(mfd, 0) < 0 || pwrite(mfd, data, size, 0) != (ssize_t)size)
                abort();
        r = bimg_image_open(path, 0, &img, &err);
        fuzz_check_error(r, &err);
        if (r < 0)
                return 0;
        bimg_image_set_warn(img, warn_check, NULL);
        (void)bimg_image_table_type(img);
        (void)bimg_image_disk_id(img);
        for (size_t i = 0; i < bimg_image_part_count(img); i++) {
                part = bimg_image_part(img, i);
                if (!part || part->offset > UINT64_MAX - part->size)
                        abort();
        }
        for (int role = BIMG_ROLE_BOOT; role < BIMG_ROLE_COUNT; role++) {
                memset(&err, 0, sizeof(err));
                r = bimg_image_require_role(img, (enum bimg_role)role, &part, &err);
                fuzz_check_error(r, &err);
                if (r == 0 && (part->role != (enum bimg_role)role ||
                               bimg_image_role(img, (enum bimg_role)role) != part))
                        abort();
        }
        memset(&err, 0, sizeof(err));
        fuzz_check_error(bimg_image_check_editable(img, &err), &err);
        for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
                memset(&err, 0, sizeof(err));
                fuzz_check_error(bimg_image_find_part(img, specs[i], &part, &err), &err);
        }
        bimg_image_close(img);
        return 0;
}
