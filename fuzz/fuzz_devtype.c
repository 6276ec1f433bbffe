/* SPDX-License-Identifier: Apache-2.0 */
/* device-type.json of a boot partition (manifest_parse) on arbitrary bytes,
 * and the slug found looked up in the built-in device-type table. */
#include "config/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct bimg_error err = { 0 };
        struct bimg_manifest m;
        struct bimg_device_type dt;
        int r;

        r = manifest_parse((const char *)data, size, &m, &err);
        fuzz_check_error(r, &err);
        if (r < 0)
                return 0;
        if (!memchr(m.slug, 0, sizeof(m.slug)) || !memchr(m.name, 0, sizeof(m.name)) ||
            !memchr(m.arch, 0, sizeof(m.arch)) || !memchr(m.machine, 0, sizeof(m.machine)))
                abort();
        memset(&err, 0, sizeof(err));
        fuzz_check_error(bimg_device_type_find(m.slug, &dt, &err), &err);
        return 0;
}
