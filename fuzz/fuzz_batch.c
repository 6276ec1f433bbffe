/* SPDX-License-Identifier: Apache-2.0 */
/* A batch manifest read by bimg_batch_load. The input up to the first NUL is
 * batch.json; what follows is devices.csv beside it (for "devices": "devices.csv").
 * The files live in a private temporary folder, removed at exit. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "fuzz.h"

static char dir[64];
static char manifest[96], csv[96];

static void cleanup(void)
{
        unlink(manifest);
        unlink(csv);
        rmdir(dir);
}

static int put(const char *path, const uint8_t *data, size_t size)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ssize_t n = 0;

        if (fd < 0)
                return -1;
        for (size_t done = 0; done < size; done += (size_t)n) {
                n = write(fd, data + done, size - done);
                if (n <= 0)
                        break;
        }
        close(fd);
        return n < 0 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct bimg_batch_opts opts = { 0 };
        struct bimg_error err = { 0 };
        struct bimg_batch *b = NULL;
        const uint8_t *nul;
        size_t json_len;
        int r;

        if (!dir[0]) {
                snprintf(dir, sizeof(dir), "%s", "/tmp/bimg-fuzz-batch.XXXXXX");
                if (!mkdtemp(dir))
                        abort();
                snprintf(manifest, sizeof(manifest), "%s/batch.json", dir);
                snprintf(csv, sizeof(csv), "%s/devices.csv", dir);
                atexit(cleanup);
        }
        nul = memchr(data, 0, size);
        json_len = nul ? (size_t)(nul - data) : size;
        unlink(csv);
        if (put(manifest, data, json_len) < 0 ||
            (nul && put(csv, nul + 1, size - json_len - 1) < 0))
                abort();
        r = bimg_batch_load(manifest, &opts, &b, &err);
        fuzz_check_error(r, &err);
        if (r == 0) {
                for (size_t i = 0; i < bimg_batch_count(b); i++) {
                        const struct bimg_batch_device *d = bimg_batch_device(b, i);

                        if (!d || !d->device_type || !d->output)
                                abort();
                }
                bimg_batch_free(b);
        }
        return 0;
}
